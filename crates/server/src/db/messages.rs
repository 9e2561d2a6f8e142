//! Berichten: a conversation per family member with the coaches of the dossier.

use super::sql::{self, params, OptionalExt, Query, QueryExt, Tx};
use chrono::{DateTime, Utc};
use cjg_core::message::{Message, MessageDraft};
use uuid::Uuid;

use super::{next_seq, uuid_col, DeviceSubject, StaffActor};
use super::{StoreError, StoreResult};

const COLUMNS: &str =
    "m.id, m.person_id, m.author_staff_id IS NOT NULL, COALESCE(s.display_name, p.display_name),
     m.text, m.created_at, m.read_at, m.version, m.seq";

fn row(r: &sql::Row) -> sql::Result<(Message, i64)> {
    Ok((
        Message {
            id: uuid_col(r.get(0)?)?,
            person_id: uuid_col(r.get(1)?)?,
            from_coach: r.get(2)?,
            author_name: r.get(3)?,
            text: r.get(4)?,
            created_at: r.get(5)?,
            read_at: r.get(6)?,
            version: r.get(7)?,
        },
        r.get(8)?,
    ))
}

const FROM: &str =
    "FROM messages m JOIN people p ON p.id = m.person_id LEFT JOIN staff s ON s.id = m.author_staff_id";

fn message(conn: &dyn Query, id: Uuid) -> sql::Result<Option<Message>> {
    conn.query_row(&format!("SELECT {COLUMNS} {FROM} WHERE m.id = ?1"), [id.to_string()], |r| {
        row(r).map(|x| x.0)
    })
    .optional()
}

/// Stores a family member's message once: the same id and text again is the stored one; the
/// same id with other text is a conflict.
pub fn send_from_family(
    tx: &Tx<'_>,
    who: &DeviceSubject,
    d: &MessageDraft,
    now: DateTime<Utc>,
) -> StoreResult<(Message, bool)> {
    let hash = cjg_crypto::sha256(format!("{}\0{}", who.person_id, d.text).as_bytes());
    let existing: Option<Option<Vec<u8>>> = tx
        .query_row("SELECT payload_hash FROM messages WHERE id = ?1", [d.id.to_string()], |r| r.get(0))
        .optional()?;
    if let Some(stored) = existing {
        if stored.as_deref() == Some(hash.as_slice()) {
            return Ok((message(tx, d.id)?.ok_or(StoreError::NotFound)?, false));
        }
        return Err(StoreError::conflict("this id belongs to another message"));
    }
    let seq = next_seq(tx)?;
    tx.execute(
        "INSERT INTO messages (id, dossier_id, person_id, text, payload_hash, created_at, version, seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7)",
        params![
            d.id.to_string(),
            who.dossier_id.to_string(),
            who.person_id.to_string(),
            d.text,
            hash.as_slice(),
            now,
            seq
        ],
    )?;
    Ok((message(tx, d.id)?.ok_or(StoreError::NotFound)?, true))
}

/// A coach writes to one family member. Two coaches writing at once both land, in order.
pub fn send_from_coach(
    tx: &Tx<'_>,
    dossier_id: Uuid,
    person_id: Uuid,
    actor: &StaffActor,
    text: &str,
    now: DateTime<Utc>,
) -> StoreResult<Message> {
    let id = Uuid::new_v4();
    let seq = next_seq(tx)?;
    tx.execute(
        "INSERT INTO messages (id, dossier_id, person_id, author_staff_id, text, created_at, version, seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7)",
        params![
            id.to_string(),
            dossier_id.to_string(),
            person_id.to_string(),
            actor.id.to_string(),
            text,
            now,
            seq
        ],
    )?;
    message(tx, id)?.ok_or(StoreError::NotFound)
}

pub fn since(conn: &dyn Query, person_id: Uuid, cursor: i64, limit: i64) -> sql::Result<Vec<(Message, i64)>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} {FROM} WHERE m.person_id = ?1 AND m.seq > ?2 ORDER BY m.seq LIMIT ?3"
    ))?;
    let rows = stmt.query_map(params![person_id.to_string(), cursor, limit], row)?;
    rows.collect()
}

/// The dossier's conversations for a coach, oldest first. Reading them marks the family's
/// messages as read (the family sees it).
pub fn read_by_coach(tx: &Tx<'_>, dossier_id: Uuid, now: DateTime<Utc>) -> sql::Result<Vec<Message>> {
    let unread: Vec<String> = {
        let mut stmt = tx.prepare(
            "SELECT id FROM messages WHERE dossier_id = ?1 AND author_staff_id IS NULL AND read_at IS NULL",
        )?;
        let rows = stmt.query_map([dossier_id.to_string()], |r| r.get(0))?;
        rows.collect::<sql::Result<_>>()?
    };
    for id in unread {
        let seq = next_seq(tx)?;
        tx.execute(
            "UPDATE messages SET read_at = ?2, version = version + 1, seq = ?3 WHERE id = ?1",
            params![id, now, seq],
        )?;
    }
    let mut stmt = tx.prepare(&format!("SELECT {COLUMNS} {FROM} WHERE m.dossier_id = ?1 ORDER BY m.seq"))?;
    let rows = stmt.query_map([dossier_id.to_string()], |r| row(r).map(|x| x.0))?;
    rows.collect()
}

/// The family member read these coach messages; ids of other conversations are ignored.
pub fn read_by_family(tx: &Tx<'_>, person_id: Uuid, ids: &[Uuid], now: DateTime<Utc>) -> sql::Result<()> {
    for id in ids {
        let mine: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM messages WHERE id = ?1 AND person_id = ?2
                 AND author_staff_id IS NOT NULL AND read_at IS NULL)",
            params![id.to_string(), person_id.to_string()],
            |r| r.get(0),
        )?;
        if mine {
            let seq = next_seq(tx)?;
            tx.execute(
                "UPDATE messages SET read_at = ?2, version = version + 1, seq = ?3 WHERE id = ?1",
                params![id.to_string(), now, seq],
            )?;
        }
    }
    Ok(())
}
