//! What the routes, the command line (`report`, `verify-audit`) and the demo seeder share: the
//! steps above storage that are more than one query, so none of them calls another's handler.

use chrono::{DateTime, Duration, Utc};
use cjg_core::indicators::{self, IndicatorReport, Period};
use cjg_core::validate::ActivationCode;
use cjg_core::ErrorCode;
use uuid::Uuid;

use crate::db::sql::{Query, Tx};
use crate::db::{self, audit::ChainReport};
use crate::error::{AppError, AppResult};

pub const ACTIVATION_CODE_TTL: Duration = Duration::days(7);

/// Makes a new activation code and stores only its hash.
/// Refuses people without own access (a child under 12): a code for them would be useless.
pub fn issue_activation_code(
    tx: &Tx<'_>,
    person_id: Uuid,
    created_by: &str,
    now: DateTime<Utc>,
) -> AppResult<(ActivationCode, DateTime<Utc>)> {
    if !db::people::has_own_access(tx, person_id, cjg_core::time::dutch_date(now))? {
        return Err(AppError::new(
            ErrorCode::Validation,
            "this person has no own access to the dossier yet (a child under 12)",
        ));
    }
    let random: [u8; ActivationCode::LEN] = cjg_crypto::random_array().map_err(AppError::internal)?;
    let code = ActivationCode::from_random(&random);
    let expires_at = now + ACTIVATION_CODE_TTL;
    db::devices::insert_activation_code(
        tx,
        &cjg_crypto::sha256(code.canonical().as_bytes()),
        person_id,
        created_by,
        now,
        expires_at,
    )?;
    Ok((code, expires_at))
}

/// Loads the report for `period` and the same period a year earlier.
pub fn indicator_report(conn: &dyn Query, period: Period) -> AppResult<IndicatorReport> {
    let (from, to) = (period.year_earlier().first_day(), period.last_day());
    let records = db::questionnaires::closing_records(conn, from, to)?;
    Ok(indicators::build(period, &records))
}

/// Every dossier's audit chain, recomputed and compared with the stored hashes.
pub fn verify_audit(conn: &dyn Query) -> AppResult<Vec<ChainReport>> {
    Ok(db::audit::verify_chains(conn)?)
}
