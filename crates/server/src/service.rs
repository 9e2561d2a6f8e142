//! What the routes, the command line (`report`, `verify-audit`) and the demo seeder share: the
//! steps above storage that are more than one query, so none of them calls another's handler.

use chrono::{DateTime, Duration, Utc};
use cjg_core::indicators::{self, IndicatorReport, Period};
use cjg_core::usage::{self, UsagePeriod, UsageReport};
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

/// The report for `period` next to the same period a year earlier, and who pulled it (logged
/// in the same transaction). Once the period has closed ([`Period::freezes_on`]) the first pull
/// stores the report and every later pull gets exactly that. A half-year hides what one of its
/// quarters hides ([`indicators::align_with_quarters`]), against the quarters as they are
/// served (frozen or not), so no two reports of a year can be subtracted to reveal a hidden
/// group.
pub fn indicator_report(
    tx: &Tx<'_>,
    period: Period,
    pull: &db::reports::Pull<'_>,
) -> AppResult<IndicatorReport> {
    db::reports::log_pull(tx, pull)?;
    report_as_served(tx, period, pull.at)
}

fn report_as_served(tx: &Tx<'_>, period: Period, now: DateTime<Utc>) -> AppResult<IndicatorReport> {
    if let Some(frozen) = db::reports::frozen(tx, &period.code())? {
        return Ok(frozen);
    }
    let (from, to) = (period.year_earlier().first_day(), period.last_day());
    let records = db::questionnaires::closing_records(tx, from, to)?;
    let mut report = indicators::build(period, &records);
    if let Some([a, b]) = period.quarters() {
        let (a, b) = (report_as_served(tx, a, now)?, report_as_served(tx, b, now)?);
        indicators::align_with_quarters(&mut report, [&a, &b]);
    }
    if cjg_core::time::dutch_date(now) >= period.freezes_on() {
        return Ok(db::reports::freeze(tx, &period.code(), &report, now)?);
    }
    Ok(report)
}

/// The usage report of an ended period next to the same period a year earlier, and who pulled
/// it (logged in the same transaction). The first pull after the period ended stores it and
/// every later pull gets exactly that: two pulls of one period never differ, so no change in
/// between can be read off them.
pub fn usage_report(
    tx: &Tx<'_>,
    period: UsagePeriod,
    pull: &db::reports::Pull<'_>,
) -> AppResult<UsageReport> {
    if cjg_core::time::dutch_date(pull.at) <= period.last_day() {
        return Err(AppError::new(
            ErrorCode::Validation,
            "this period has not ended yet: a usage report is for a month, quarter or half year that is over",
        ));
    }
    db::reports::log_pull(tx, pull)?;
    let key = format!("usage:{}", period.code());
    if let Some(frozen) = db::reports::frozen(tx, &key)? {
        return Ok(frozen);
    }
    let report = usage::build(
        period,
        &db::usage::families(tx)?,
        &db::usage::activity(tx)?,
        &db::usage::shared(tx)?,
        db::usage::counting_since(tx)?,
    );
    Ok(db::reports::freeze(tx, &key, &report, pull.at)?)
}

/// Every dossier's audit chain, recomputed and compared with the stored hashes.
pub fn verify_audit(conn: &dyn Query) -> AppResult<Vec<ChainReport>> {
    Ok(db::audit::verify_chains(conn)?)
}
