//! The end of a dossier's retention term: which closed dossiers may go, and removing one whole
//! (its people, devices, entries and their versions, feedback, messages, questionnaires, tips
//! and its access log) with a row in `retention_log` that says it went.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::sql::{self, params, Query, QueryExt};
use super::uuid_col;

/// A closed dossier past its term, with what removing it would take away (counts only).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Expired {
    pub dossier_id: Uuid,
    pub closed_on: NaiveDate,
    pub people: i64,
    pub entries: i64,
    pub log_lines: i64,
}

/// Dossiers closed before `closed_before`, oldest first. A dossier without an end date is
/// still running and never listed.
pub fn expired(conn: &dyn Query, closed_before: NaiveDate) -> sql::Result<Vec<Expired>> {
    conn.query_map(
        "SELECT d.id, d.closed_on,
                (SELECT COUNT(*) FROM people p WHERE p.dossier_id = d.id),
                (SELECT COUNT(*) FROM entries e WHERE e.dossier_id = d.id),
                (SELECT COUNT(*) FROM audit_events a WHERE a.dossier_id = d.id)
         FROM dossiers d
         WHERE d.closed_on IS NOT NULL AND d.closed_on < ?1
         ORDER BY d.closed_on, d.id",
        params![closed_before],
        |r| {
            Ok(Expired {
                dossier_id: uuid_col(r.get(0)?)?,
                closed_on: r.get(1)?,
                people: r.get(2)?,
                entries: r.get(3)?,
                log_lines: r.get(4)?,
            })
        },
    )
}

/// Everything that hangs on a dossier, children before parents (PostgreSQL checks foreign keys
/// per statement). `?1` is the dossier's id.
const REMOVE: &[&str] = &[
    // The CJG's own ids for the dossier, its people, its documents and its tasks: first, while
    // the rows they point at are still there to find.
    "DELETE FROM fhir_links WHERE local_id = ?1
        OR local_id IN (SELECT id FROM people WHERE dossier_id = ?1)
        OR local_id IN (SELECT id FROM entries WHERE dossier_id = ?1)
        OR local_id IN (SELECT id FROM questionnaire_tasks WHERE dossier_id = ?1)",
    "DELETE FROM entry_access WHERE entry_id IN (SELECT id FROM entries WHERE dossier_id = ?1)
        OR person_id IN (SELECT id FROM people WHERE dossier_id = ?1)",
    // Allowed by its trigger only because the retention_log row is already written.
    "DELETE FROM entry_versions WHERE entry_id IN (SELECT id FROM entries WHERE dossier_id = ?1)",
    "DELETE FROM feedback_requests WHERE dossier_id = ?1",
    "DELETE FROM feedback WHERE dossier_id = ?1",
    "DELETE FROM reading_tips WHERE dossier_id = ?1",
    "DELETE FROM messages WHERE dossier_id = ?1",
    "DELETE FROM questionnaire_tasks WHERE dossier_id = ?1",
    "DELETE FROM audit_alerts WHERE dossier_id = ?1",
    "DELETE FROM audit_views WHERE person_id IN (SELECT id FROM people WHERE dossier_id = ?1)",
    "DELETE FROM consents WHERE youth_id IN (SELECT id FROM people WHERE dossier_id = ?1)",
    "DELETE FROM activation_codes WHERE person_id IN (SELECT id FROM people WHERE dossier_id = ?1)",
    "DELETE FROM tokens WHERE subject_kind = 'device' AND subject_id IN
        (SELECT d.id FROM devices d JOIN people p ON p.id = d.person_id WHERE p.dossier_id = ?1)",
    "DELETE FROM devices WHERE person_id IN (SELECT id FROM people WHERE dossier_id = ?1)",
    "DELETE FROM purpose_sessions WHERE dossier_id = ?1",
    "DELETE FROM staff_dossiers WHERE dossier_id = ?1",
    "DELETE FROM entries WHERE dossier_id = ?1",
    "DELETE FROM audit_events WHERE dossier_id = ?1",
    "DELETE FROM people WHERE dossier_id = ?1",
    "DELETE FROM dossiers WHERE id = ?1",
];

/// Removes `dossier_id` whole, in the caller's transaction, after writing its `retention_log`
/// row, if it is still closed before `closed_before` (it may have been reopened since it was
/// listed); what went, or `None` when it stays.
pub fn remove(
    conn: &dyn Query,
    dossier_id: Uuid,
    closed_before: NaiveDate,
    actor: &str,
    now: DateTime<Utc>,
) -> sql::Result<Option<Expired>> {
    let Some(dossier) = expired(conn, closed_before)?.into_iter().find(|d| d.dossier_id == dossier_id) else {
        return Ok(None);
    };
    let id = dossier.dossier_id.to_string();
    conn.execute(
        "INSERT INTO retention_log (dossier_id, closed_on, removed_at, actor, people, entries, log_lines)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![id, dossier.closed_on, now, actor, dossier.people, dossier.entries, dossier.log_lines],
    )?;
    for statement in REMOVE {
        conn.execute(statement, params![id])?;
    }
    Ok(Some(dossier))
}
