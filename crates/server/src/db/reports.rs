//! Frozen indicator reports and the log of who pulled which report.

use chrono::{DateTime, Utc};
use cjg_core::indicators::{IndicatorReport, Period};

use super::bad_text;
use super::sql::{self, params, OptionalExt, Query, QueryExt};

/// The stored report of a closed period, if it was frozen.
pub fn frozen(conn: &dyn Query, period: Period) -> sql::Result<Option<IndicatorReport>> {
    let text: Option<String> = conn
        .query_row("SELECT report FROM frozen_reports WHERE period = ?1", [period.code()], |r| r.get(0))
        .optional()?;
    text.map(|t| serde_json::from_str(&t).map_err(|_| bad_text(0, "a frozen report that does not parse")))
        .transpose()
}

/// Stores the report of a closed period unless one was stored first (another instance, a
/// moment ago), and returns the one that is stored.
pub fn freeze(
    conn: &dyn Query,
    period: Period,
    report: &IndicatorReport,
    now: DateTime<Utc>,
) -> sql::Result<IndicatorReport> {
    let text = serde_json::to_string(report).map_err(|_| bad_text(0, "a report that does not serialise"))?;
    conn.execute(
        "INSERT INTO frozen_reports (period, frozen_at, report) VALUES (?1, ?2, ?3)
         ON CONFLICT (period) DO NOTHING",
        params![period.code(), now, text],
    )?;
    frozen(conn, period)?.ok_or_else(|| bad_text(0, "the frozen report is gone"))
}

/// One pull of a report.
pub struct Pull<'a> {
    pub at: DateTime<Utc>,
    /// `staff:<id>` or `command line`.
    pub actor: &'a str,
    pub role: &'a str,
    pub report: &'a str,
    pub period: Period,
    pub format: &'a str,
}

pub fn log_pull(conn: &dyn Query, p: &Pull<'_>) -> sql::Result<()> {
    conn.execute(
        "INSERT INTO report_pulls (at, actor, role, report, period, format) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![p.at, p.actor, p.role, p.report, p.period.code(), p.format],
    )?;
    Ok(())
}
