//! Counts the server keeps about strangers: guesses of secrets (shared by every instance, so a
//! limit is one limit however many instances run) and refused requests per minute.

use chrono::{DateTime, Duration, DurationRound, Utc};
use cjg_core::api::TokenKind;
use uuid::Uuid;

use super::sql::{self, params, Query, QueryExt};

/// The length of one counting window for guesses.
pub const WINDOW: Duration = Duration::minutes(15);

/// What a guess count is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Failed staff sign-ins for one username.
    StaffUser,
    /// Failed staff sign-ins from one address.
    StaffAddress,
    /// Wrong activation codes from one address.
    CodeAddress,
    /// Wrong activation codes from anywhere: what a botnet of many addresses shares.
    CodeTotal,
}

impl Scope {
    fn as_str(self) -> &'static str {
        match self {
            Self::StaffUser => "staff_user",
            Self::StaffAddress => "staff_address",
            Self::CodeAddress => "code_address",
            Self::CodeTotal => "code_total",
        }
    }
}

fn window_start(now: DateTime<Utc>) -> String {
    let start = now.duration_trunc(WINDOW).unwrap_or(now);
    start.format("%Y-%m-%dT%H:%M").to_string()
}

/// Failed attempts about `subject` in the current window.
pub fn count(conn: &dyn Query, scope: Scope, subject: &[u8; 32], now: DateTime<Utc>) -> sql::Result<i64> {
    let n: Option<i64> = conn.query_row(
        "SELECT MAX(count) FROM attempt_counts WHERE scope = ?1 AND subject = ?2 AND window_start = ?3",
        params![scope.as_str(), subject.to_vec(), window_start(now)],
        |r| r.get(0),
    )?;
    Ok(n.unwrap_or(0))
}

/// One more failed attempt about `subject`; returns the count in this window.
pub fn add(conn: &dyn Query, scope: Scope, subject: &[u8; 32], now: DateTime<Utc>) -> sql::Result<i64> {
    conn.query_row(
        "INSERT INTO attempt_counts (scope, subject, window_start, count) VALUES (?1, ?2, ?3, 1)
         ON CONFLICT (scope, subject, window_start) DO UPDATE SET count = attempt_counts.count + 1
         RETURNING count",
        params![scope.as_str(), subject.to_vec(), window_start(now)],
        |r| r.get(0),
    )
}

/// Takes one attempt back (it turned out to be no guess).
pub fn forgive(conn: &dyn Query, scope: Scope, subject: &[u8; 32], now: DateTime<Utc>) -> sql::Result<()> {
    conn.execute(
        "UPDATE attempt_counts SET count = count - 1
         WHERE scope = ?1 AND subject = ?2 AND window_start = ?3 AND count > 0",
        params![scope.as_str(), subject.to_vec(), window_start(now)],
    )?;
    Ok(())
}

/// Forgets windows that ended before `cutoff`.
pub fn forget_attempts_before(conn: &dyn Query, cutoff: DateTime<Utc>) -> sql::Result<usize> {
    conn.execute("DELETE FROM attempt_counts WHERE window_start < ?1", params![window_start(cutoff)])
}

pub struct Refusal<'a> {
    pub method: &'a str,
    pub route: &'a str,
    pub status: u16,
    pub subject: Option<(TokenKind, Uuid)>,
    pub at: DateTime<Utc>,
}

fn minute(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M").to_string()
}

/// Counts one refused request in its minute.
pub fn record_refusal(conn: &dyn Query, d: &Refusal<'_>) -> sql::Result<()> {
    conn.execute(
        "INSERT INTO denied_counts (minute, method, route, status, subject_kind, subject_id, count)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1)
         ON CONFLICT (minute, route, method, status, subject_kind, subject_id)
         DO UPDATE SET count = denied_counts.count + 1",
        params![
            minute(d.at),
            d.method,
            d.route,
            d.status,
            d.subject.map_or("", |s| s.0.as_str()),
            d.subject.map_or_else(String::new, |s| s.1.to_string())
        ],
    )?;
    Ok(())
}

/// Deletes the counts of refusals older than `cutoff` (the retention period).
pub fn forget_refusals_before(conn: &dyn Query, cutoff: DateTime<Utc>) -> sql::Result<usize> {
    conn.execute("DELETE FROM denied_counts WHERE minute < ?1", params![minute(cutoff)])
}
