//! Feedback of the family on entries, and the coach's requests for it.

use chrono::{DateTime, NaiveDate, Utc};
use cjg_core::feedback::{
    Feedback, FeedbackAnswer, FeedbackDraft, FeedbackKind, FeedbackRequest, FeedbackRequestDraft,
    FeedbackStatus,
};
use uuid::Uuid;

use super::{StoreError, StoreResult};

use super::entries::entry_dossier;
use super::people::dossier_people;
use super::sql::{self, params, OptionalExt, Query, QueryExt, Tx};
use super::sync::refresh_access;
use super::{bad_text, next_seq, uuid_col, DeviceSubject, StaffActor};

pub(super) const FEEDBACK_COLUMNS: &str =
    "f.id, f.entry_id, f.dossier_id, f.author_person_id, p.display_name, f.kind, f.text,
     f.created_at, f.status, f.answer, f.answered_by, f.answered_at, f.version, f.seq";

pub(super) fn feedback_row(r: &sql::Row) -> sql::Result<(Feedback, i64)> {
    let kind: String = r.get(5)?;
    let status: String = r.get(8)?;
    Ok((
        Feedback {
            id: uuid_col(r.get(0)?)?,
            entry_id: uuid_col(r.get(1)?)?,
            dossier_id: uuid_col(r.get(2)?)?,
            author_id: uuid_col(r.get(3)?)?,
            author_name: r.get(4)?,
            kind: FeedbackKind::parse(&kind).ok_or_else(|| bad_text(5, "unknown feedback kind"))?,
            text: r.get(6)?,
            created_at: r.get(7)?,
            status: FeedbackStatus::parse(&status).ok_or_else(|| bad_text(8, "unknown feedback status"))?,
            answer: r.get(9)?,
            answered_by: r.get(10)?,
            answered_at: r.get(11)?,
            version: r.get(12)?,
        },
        r.get(13)?,
    ))
}

pub fn feedback(conn: &dyn Query, id: Uuid) -> sql::Result<Option<Feedback>> {
    conn.query_row(
        &format!("SELECT {FEEDBACK_COLUMNS} FROM feedback f JOIN people p ON p.id = f.author_person_id WHERE f.id = ?1"),
        [id.to_string()],
        |r| feedback_row(r).map(|(f, _)| f),
    )
    .optional()
}

/// A dossier's feedback, oldest first, the rows of `window`.
pub fn dossier_feedback(
    conn: &dyn Query,
    dossier_id: Uuid,
    window: super::Window,
) -> sql::Result<Vec<Feedback>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {FEEDBACK_COLUMNS} FROM feedback f JOIN people p ON p.id = f.author_person_id
         WHERE f.dossier_id = ?1 ORDER BY f.created_at, f.id LIMIT ?2 OFFSET ?3"
    ))?;
    let rows = stmt.query_map(params![dossier_id.to_string(), window.limit, window.offset], |r| {
        feedback_row(r).map(|(f, _)| f)
    })?;
    rows.collect()
}

/// A page of the change feed of feedback (sent, or answered by a coach), over every family of
/// some teams, oldest change first, with whether a young person wrote it and the team.
pub fn feedback_page(
    conn: &dyn Query,
    q: &super::fhir::FeedQuery<'_>,
) -> sql::Result<Vec<(Feedback, bool, String)>> {
    let (condition, order, values) = q.filter("COALESCE(f.answered_at, f.created_at)", "f.id", "d.team");
    let mut stmt = conn.prepare(&format!(
        "SELECT {FEEDBACK_COLUMNS}, p.role, d.team FROM feedback f JOIN people p ON p.id = f.author_person_id
         JOIN dossiers d ON d.id = f.dossier_id WHERE {condition} {order}"
    ))?;
    let rows = stmt.query_map(values.as_slice(), |r| {
        let (f, _) = feedback_row(r)?;
        Ok((f, r.get::<String>(14)? == cjg_core::PersonRole::Child.as_str(), r.get(15)?))
    })?;
    rows.collect()
}

/// A dossier's feedback, oldest first, with whether a young person wrote it.
pub fn dossier_feedback_by(conn: &dyn Query, dossier_id: Uuid) -> sql::Result<Vec<(Feedback, bool)>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {FEEDBACK_COLUMNS}, p.role FROM feedback f JOIN people p ON p.id = f.author_person_id
         WHERE f.dossier_id = ?1 ORDER BY COALESCE(f.answered_at, f.created_at), f.id"
    ))?;
    let rows = stmt.query_map([dossier_id.to_string()], |r| {
        let (f, _) = feedback_row(r)?;
        Ok((f, r.get::<String>(14)? == cjg_core::PersonRole::Child.as_str()))
    })?;
    rows.collect()
}

pub fn feedback_dossier(conn: &dyn Query, id: Uuid) -> sql::Result<Option<Uuid>> {
    conn.query_row("SELECT dossier_id FROM feedback WHERE id = ?1", [id.to_string()], |r| uuid_col(r.get(0)?))
        .optional()
}

/// What storing an app's feedback came to.
pub enum FeedbackStored {
    New(Feedback),
    /// The same item again (a retry after a lost answer): the stored one, unchanged.
    Again(Feedback),
    /// The id is taken by a different item.
    Conflict,
    /// The entry does not exist or this person may not (or no longer) see it.
    NotVisible,
}

/// Stores a family member's feedback once. The person must see the entry on `today`.
pub fn submit_feedback(
    tx: &Tx<'_>,
    who: &DeviceSubject,
    draft: &FeedbackDraft,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> sql::Result<FeedbackStored> {
    let payload = cjg_crypto::sha256(
        format!("{}\0{}\0{}\0{}", who.person_id, draft.entry_id, draft.kind.as_str(), draft.text).as_bytes(),
    );
    let existing: Option<Vec<u8>> = tx
        .query_row("SELECT payload_hash FROM feedback WHERE id = ?1", [draft.id.to_string()], |r| r.get(0))
        .optional()?;
    if let Some(hash) = existing {
        if hash == payload {
            return Ok(feedback(tx, draft.id)?.map_or(FeedbackStored::Conflict, FeedbackStored::Again));
        }
        return Ok(FeedbackStored::Conflict);
    }
    refresh_access(tx, who.person_id, who.dossier_id, today, None)?;
    let visible: bool = tx
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM entry_access a JOIN entries e ON e.id = a.entry_id
                 WHERE a.person_id = ?1 AND a.entry_id = ?2 AND a.visible = 1 AND e.deleted = 0 AND e.dossier_id = ?3)",
            params![who.person_id.to_string(), draft.entry_id.to_string(), who.dossier_id.to_string()],
            |r| r.get(0),
        )?;
    if !visible {
        return Ok(FeedbackStored::NotVisible);
    }
    let seq = next_seq(tx)?;
    tx.execute(
        "INSERT INTO feedback (id, entry_id, dossier_id, author_person_id, author_device_id, kind, text, payload_hash,
                               created_at, status, version, seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'open', 1, ?10)",
        params![
            draft.id.to_string(),
            draft.entry_id.to_string(),
            who.dossier_id.to_string(),
            who.person_id.to_string(),
            who.device_id.to_string(),
            draft.kind.as_str(),
            draft.text,
            payload.as_slice(),
            now,
            seq
        ],
    )?;
    // Reacting on the entry is what a request for it asked.
    let done_seq = next_seq(tx)?;
    tx.execute(
        "UPDATE feedback_requests SET done_at = ?3, version = version + 1, seq = ?4
         WHERE entry_id = ?1 AND person_id = ?2 AND done_at IS NULL",
        params![draft.entry_id.to_string(), who.person_id.to_string(), now, done_seq],
    )?;
    Ok(feedback(tx, draft.id)?.map_or(FeedbackStored::Conflict, FeedbackStored::New))
}

pub fn answer_feedback(
    tx: &Tx<'_>,
    id: Uuid,
    actor: &StaffActor,
    answer: &FeedbackAnswer,
    now: DateTime<Utc>,
) -> StoreResult<Feedback> {
    let seq = next_seq(tx)?;
    let answer_text = (!answer.answer.is_empty()).then_some(answer.answer.as_str());
    tx.execute(
        "UPDATE feedback SET status = ?2, answer = ?3, answered_by = ?4, answered_at = ?5, version = version + 1,
             seq = ?6 WHERE id = ?1",
        params![id.to_string(), answer.status.as_str(), answer_text, actor.display_name, now, seq],
    )?;
    feedback(tx, id)?.ok_or(StoreError::NotFound)
}

// ---- feedback requests ----------------------------------------------------------------

const REQUEST_COLUMNS: &str = "r.id, r.entry_id, r.person_id, r.note, r.due_on, s.display_name, r.created_at,
     r.done_at, r.version, r.seq";

fn request_row(r: &sql::Row) -> sql::Result<(FeedbackRequest, i64)> {
    Ok((
        FeedbackRequest {
            id: uuid_col(r.get(0)?)?,
            entry_id: uuid_col(r.get(1)?)?,
            person_id: uuid_col(r.get(2)?)?,
            note: r.get(3)?,
            due_on: r.get(4)?,
            requested_by: r.get(5)?,
            created_at: r.get(6)?,
            done_at: r.get(7)?,
            version: r.get(8)?,
        },
        r.get(9)?,
    ))
}

fn feedback_request(conn: &dyn Query, id: Uuid) -> sql::Result<Option<FeedbackRequest>> {
    conn.query_row(
        &format!(
            "SELECT {REQUEST_COLUMNS} FROM feedback_requests r JOIN staff s ON s.id = r.requested_by WHERE r.id = ?1"
        ),
        [id.to_string()],
        |r| request_row(r).map(|(x, _)| x),
    )
    .optional()
}

/// Asks a family member to react on an entry they can see. Asking again after they reacted
/// opens the request anew; asking twice while it is open is a conflict.
pub fn request_feedback(
    tx: &Tx<'_>,
    entry_id: Uuid,
    actor: &StaffActor,
    draft: &FeedbackRequestDraft,
    now: DateTime<Utc>,
) -> StoreResult<FeedbackRequest> {
    let today = cjg_core::time::dutch_date(now);
    let dossier_id = entry_dossier(tx, entry_id)?.ok_or(StoreError::NotFound)?;
    if !dossier_people(tx, dossier_id)?.iter().any(|p| p.id == draft.person_id) {
        return Err(StoreError::NotFound);
    }
    refresh_access(tx, draft.person_id, dossier_id, today, None)?;
    let visible: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM entry_access WHERE person_id = ?1 AND entry_id = ?2 AND visible = 1)",
        params![draft.person_id.to_string(), entry_id.to_string()],
        |r| r.get(0),
    )?;
    if !visible {
        return Err(StoreError::invalid("this person cannot see this entry"));
    }
    let due_on = match draft.due_on {
        Some(d) if d < today => return Err(StoreError::invalid("due_on lies in the past")),
        Some(d) => d,
        None => today + chrono::Days::new(cjg_core::questionnaire::ANSWER_DAYS),
    };
    let existing: Option<(String, Option<String>)> = tx
        .query_row(
            "SELECT id, done_at FROM feedback_requests WHERE entry_id = ?1 AND person_id = ?2",
            params![entry_id.to_string(), draft.person_id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let seq = next_seq(tx)?;
    let id = match existing {
        Some((_, None)) => {
            return Err(StoreError::conflict("this person was already asked about this entry"))
        }
        Some((id, Some(_))) => {
            tx.execute(
                "UPDATE feedback_requests SET note = ?2, due_on = ?3, requested_by = ?4, created_at = ?5,
                     done_at = NULL, version = version + 1, seq = ?6 WHERE id = ?1",
                params![id, draft.note, due_on, actor.id.to_string(), now, seq],
            )?;
            uuid_col(id)?
        }
        None => {
            let id = Uuid::new_v4();
            tx.execute(
                "INSERT INTO feedback_requests (id, entry_id, dossier_id, person_id, note, due_on, requested_by,
                     created_at, version, seq)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9)",
                params![
                    id.to_string(),
                    entry_id.to_string(),
                    dossier_id.to_string(),
                    draft.person_id.to_string(),
                    draft.note,
                    due_on,
                    actor.id.to_string(),
                    now,
                    seq
                ],
            )?;
            id
        }
    };
    feedback_request(tx, id)?.ok_or(StoreError::NotFound)
}

pub(super) fn requests_since(
    tx: &Tx<'_>,
    person_id: Uuid,
    cursor: i64,
    limit: i64,
) -> sql::Result<Vec<(FeedbackRequest, i64)>> {
    let mut stmt = tx.prepare(&format!(
        "SELECT {REQUEST_COLUMNS} FROM feedback_requests r JOIN staff s ON s.id = r.requested_by
         WHERE r.person_id = ?1 AND r.seq > ?2 ORDER BY r.seq LIMIT ?3"
    ))?;
    let rows = stmt.query_map(params![person_id.to_string(), cursor, limit], request_row)?;
    rows.collect()
}
