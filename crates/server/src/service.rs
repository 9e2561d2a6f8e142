//! What the routes, the command line (`report`, `verify-audit`) and the demo seeder share: the
//! steps above storage that are more than one query, so none of them calls another's handler.

use chrono::{DateTime, Duration, Utc};
use cjg_core::indicators::{self, IndicatorReport, Period};
use cjg_core::usage::{self, PeriodCounts, UsagePeriod, UsageReport};
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

/// A report as the API and the command line write it, besides JSON.
pub trait ReportText: serde::Serialize + Send + 'static {
    fn csv(&self) -> String;
    fn html(&self, made_on: chrono::NaiveDate) -> String;
}

impl ReportText for IndicatorReport {
    fn csv(&self) -> String {
        indicators::to_csv(self)
    }
    fn html(&self, made_on: chrono::NaiveDate) -> String {
        indicators::to_html(self, made_on)
    }
}

impl ReportText for UsageReport {
    fn csv(&self) -> String {
        usage::to_csv(self)
    }
    fn html(&self, made_on: chrono::NaiveDate) -> String {
        usage::to_html(self, made_on)
    }
}

/// The usage report of a settled period ([`UsagePeriod::ready_on`]) next to the same period a
/// year earlier, and who pulled it (logged in the same transaction). Each period's counts are
/// stored the first time a report needs them and used as stored ever after: two pulls of a
/// period, a quarter and its months, a period and the next year's comparison are all made from
/// the same numbers, so no change in between can be read off them.
pub fn usage_report(
    tx: &Tx<'_>,
    period: UsagePeriod,
    pull: &db::reports::Pull<'_>,
) -> AppResult<UsageReport> {
    let ready_on = period.ready_on();
    if cjg_core::time::dutch_date(pull.at) < ready_on {
        return Err(AppError::new(
            ErrorCode::Validation,
            format!("this period's figures are final on {ready_on}: a report exists from that day"),
        ));
    }
    db::reports::log_pull(tx, pull)?;
    let mut data = None;
    let mut counts = std::collections::BTreeMap::new();
    for p in usage::periods_needed(period) {
        let key = format!("usage-counts:{}", p.code());
        let stored = match db::reports::frozen::<PeriodCounts>(tx, &key)? {
            Some(c) => c,
            None => {
                if data.is_none() {
                    data = Some((db::usage::families(tx)?, db::usage::activity(tx)?, db::usage::shared(tx)?));
                }
                let (families, activity, shared) =
                    data.as_ref().ok_or_else(|| AppError::internal("no data"))?;
                let c = usage::count(p, families, activity, shared);
                db::reports::freeze(tx, &key, &c, pull.at)?
            }
        };
        counts.insert(p, stored);
    }
    Ok(usage::build(period, &counts, db::usage::counting_since(tx)?))
}

/// Every dossier's audit chain, recomputed and compared with the stored hashes.
pub fn verify_audit(conn: &dyn Query) -> AppResult<Vec<ChainReport>> {
    Ok(db::audit::verify_chains(conn)?)
}
