//! Dossier entries written by staff.

use chrono::{DateTime, Utc};
use cjg_core::entry::{EntryDraft, Visibility};
use cjg_core::{Entry, EntryKind, PersonRole};
use uuid::Uuid;

use super::{StoreError, StoreResult};

use super::people::person;
use super::sql::{self, params, OptionalExt, Query, QueryExt, Tx};
use super::{bad_text, next_seq, uuid_col, StaffActor};

pub(super) const ENTRY_COLUMNS: &str =
    "e.id, e.dossier_id, e.child_id, e.kind, e.title, e.body, s.display_name, s.role,
     e.occurred_on, e.version, e.updated_at, e.deleted, e.seq, e.visibility";

pub(super) struct EntryRow {
    pub(super) entry: Entry,
    pub(super) deleted: bool,
}

pub(super) fn entry_row(r: &sql::Row) -> sql::Result<EntryRow> {
    let kind: String = r.get(3)?;
    let visibility: String = r.get(13)?;
    let child: Option<String> = r.get(2)?;
    Ok(EntryRow {
        entry: Entry {
            id: uuid_col(r.get(0)?)?,
            dossier_id: uuid_col(r.get(1)?)?,
            child_id: child.map(uuid_col).transpose()?,
            kind: EntryKind::parse(&kind).ok_or_else(|| bad_text(3, "unknown entry kind"))?,
            visibility: Visibility::parse(&visibility).ok_or_else(|| bad_text(13, "unknown visibility"))?,
            title: r.get(4)?,
            body: r.get(5)?,
            author_name: r.get(6)?,
            author_role: r.get(7)?,
            occurred_on: r.get(8)?,
            version: r.get(9)?,
            updated_at: r.get(10)?,
        },
        deleted: r.get(11)?,
    })
}

fn load_entry(conn: &dyn Query, id: Uuid) -> sql::Result<Option<EntryRow>> {
    conn.query_row(
        &format!(
            "SELECT {ENTRY_COLUMNS} FROM entries e JOIN staff s ON s.id = e.author_staff_id WHERE e.id = ?1"
        ),
        [id.to_string()],
        entry_row,
    )
    .optional()
}

fn check_child(tx: &Tx<'_>, dossier_id: Uuid, child_id: Option<Uuid>) -> StoreResult<()> {
    if let Some(child) = child_id {
        let ok =
            person(tx, child)?.is_some_and(|p| p.dossier_id == dossier_id && p.role == PersonRole::Child);
        if !ok {
            return Err(StoreError::invalid("child_id is not a child in this dossier"));
        }
    }
    Ok(())
}

pub fn create_entry(
    tx: &Tx<'_>,
    dossier_id: Uuid,
    author: &StaffActor,
    draft: &EntryDraft,
    now: DateTime<Utc>,
) -> StoreResult<Entry> {
    check_child(tx, dossier_id, draft.child_id)?;
    let id = Uuid::new_v4();
    let seq = next_seq(tx)?;
    tx.execute(
        "INSERT INTO entries (id, dossier_id, child_id, kind, title, body, author_staff_id, occurred_on, version,
                              updated_at, seq, visibility)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9, ?10, ?11)",
        params![
            id.to_string(),
            dossier_id.to_string(),
            draft.child_id.map(|c| c.to_string()),
            draft.kind.as_str(),
            draft.title,
            draft.body,
            author.id.to_string(),
            draft.occurred_on,
            now,
            seq,
            draft.visibility().as_str()
        ],
    )?;
    load_entry(tx, id)?.map(|r| r.entry).ok_or_else(|| StoreError::internal("entry vanished after insert"))
}

/// The dossier an entry belongs to, if it exists and is not deleted.
/// An entry that was not deleted.
pub fn current_entry(conn: &dyn Query, id: Uuid) -> sql::Result<Option<Entry>> {
    Ok(load_entry(conn, id)?.filter(|r| !r.deleted).map(|r| r.entry))
}

pub fn entry_dossier(conn: &dyn Query, id: Uuid) -> sql::Result<Option<Uuid>> {
    conn.query_row("SELECT dossier_id FROM entries WHERE id = ?1 AND deleted = 0", [id.to_string()], |r| {
        uuid_col(r.get(0)?)
    })
    .optional()
}

pub fn update_entry(
    tx: &Tx<'_>,
    id: Uuid,
    expected_version: i64,
    author: &StaffActor,
    draft: &EntryDraft,
    now: DateTime<Utc>,
) -> StoreResult<Entry> {
    let current = load_entry(tx, id)?.filter(|r| !r.deleted).ok_or(StoreError::NotFound)?;
    if current.entry.version != expected_version {
        return Err(StoreError::conflict(format!(
            "the entry is at version {}; reload it and apply your change again",
            current.entry.version
        )));
    }
    check_child(tx, current.entry.dossier_id, draft.child_id)?;
    let seq = next_seq(tx)?;
    tx.execute(
        "UPDATE entries SET child_id = ?2, kind = ?3, title = ?4, body = ?5, author_staff_id = ?6, occurred_on = ?7,
                version = version + 1, updated_at = ?8, seq = ?9, visibility = ?10
         WHERE id = ?1",
        params![
            id.to_string(),
            draft.child_id.map(|c| c.to_string()),
            draft.kind.as_str(),
            draft.title,
            draft.body,
            author.id.to_string(),
            draft.occurred_on,
            now,
            seq,
            draft.visibility().as_str()
        ],
    )?;
    load_entry(tx, id)?.map(|r| r.entry).ok_or_else(|| StoreError::internal("entry vanished after update"))
}

/// Deletion keeps a tombstone (no text) so every device learns of it through the feed.
pub fn delete_entry(tx: &Tx<'_>, id: Uuid, now: DateTime<Utc>) -> StoreResult<()> {
    let seq = next_seq(tx)?;
    let n = tx.execute(
        "UPDATE entries SET deleted = 1, title = '', body = '', version = version + 1, updated_at = ?2, seq = ?3
         WHERE id = ?1 AND deleted = 0",
        params![id.to_string(), now, seq],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub fn dossier_entries(conn: &dyn Query, dossier_id: Uuid) -> sql::Result<Vec<Entry>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {ENTRY_COLUMNS} FROM entries e JOIN staff s ON s.id = e.author_staff_id
         WHERE e.dossier_id = ?1 AND e.deleted = 0 ORDER BY e.occurred_on DESC, e.seq DESC"
    ))?;
    let rows = stmt.query_map([dossier_id.to_string()], entry_row)?;
    rows.map(|r| r.map(|r| r.entry)).collect()
}
