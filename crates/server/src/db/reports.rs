//! Frozen reports and the log of who pulled which report.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::bad_text;
use super::sql::{self, params, OptionalExt, Query, QueryExt};

/// The stored report under `key` (a period code, `usage:` first for the usage report), if
/// it was frozen.
pub fn frozen<T: DeserializeOwned>(conn: &dyn Query, key: &str) -> sql::Result<Option<T>> {
    let text: Option<String> = conn
        .query_row("SELECT report FROM frozen_reports WHERE period = ?1", [key], |r| r.get(0))
        .optional()?;
    text.map(|t| serde_json::from_str(&t).map_err(|_| bad_text(0, "a frozen report that does not parse")))
        .transpose()
}

/// Stores the report of a closed period unless one was stored first (another instance, a
/// moment ago), and returns the one that is stored.
pub fn freeze<T: Serialize + DeserializeOwned>(
    conn: &dyn Query,
    key: &str,
    report: &T,
    now: DateTime<Utc>,
) -> sql::Result<T> {
    let text = serde_json::to_string(report).map_err(|_| bad_text(0, "a report that does not serialise"))?;
    conn.execute(
        "INSERT INTO frozen_reports (period, frozen_at, report) VALUES (?1, ?2, ?3)
         ON CONFLICT (period) DO NOTHING",
        params![key, now, text],
    )?;
    frozen(conn, key)?.ok_or_else(|| bad_text(0, "the frozen report is gone"))
}

/// One pull of a report.
pub struct Pull<'a> {
    pub at: DateTime<Utc>,
    /// `staff:<id>` or `command line`.
    pub actor: &'a str,
    pub role: &'a str,
    pub report: &'a str,
    /// The period's code: `2026-H1`, `2026-Q3`, `2026-11`.
    pub period: String,
    pub format: &'a str,
}

pub fn log_pull(conn: &dyn Query, p: &Pull<'_>) -> sql::Result<()> {
    conn.execute(
        "INSERT INTO report_pulls (at, actor, role, report, period, format) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![p.at, p.actor, p.role, p.report, p.period, p.format],
    )?;
    Ok(())
}
