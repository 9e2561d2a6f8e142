//! Dossier entries written by staff.

use chrono::{DateTime, Utc};
use cjg_core::audit::Purpose;
use cjg_core::entry::{EntryChange, EntryDraft, EntryVersion, Visibility};
use cjg_core::{Entry, EntryKind, PersonRole};
use uuid::Uuid;

use super::{StoreError, StoreResult};

use super::people::person;
use super::sql::{self, params, OptionalExt, Query, QueryExt, Tx};
use super::{bad_text, next_seq, uuid_col, StaffActor, Window};

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

/// The dossier of an entry, deleted or not (its history outlives it).
pub fn any_entry_dossier(conn: &dyn Query, id: Uuid) -> sql::Result<Option<Uuid>> {
    conn.query_row("SELECT dossier_id FROM entries WHERE id = ?1", [id.to_string()], |r| uuid_col(r.get(0)?))
        .optional()
}

pub fn entry_dossier(conn: &dyn Query, id: Uuid) -> sql::Result<Option<Uuid>> {
    conn.query_row("SELECT dossier_id FROM entries WHERE id = ?1 AND deleted = 0", [id.to_string()], |r| {
        uuid_col(r.get(0)?)
    })
    .optional()
}

/// Who changes or deletes an entry, when, and why: kept with the version the change replaces.
pub struct Change<'a> {
    pub by: &'a StaffActor,
    pub at: DateTime<Utc>,
    pub purpose: Purpose,
    pub reason: Option<&'a str>,
}

/// Keeps the entry as it is now, before `change` replaces it.
fn keep_version(tx: &Tx<'_>, id: Uuid, what: EntryChange, change: &Change<'_>) -> sql::Result<()> {
    tx.execute(
        "INSERT INTO entry_versions (entry_id, version, child_id, kind, visibility, title, body, occurred_on,
                                     written_by, written_at, change, changed_by, changed_at, purpose, reason)
         SELECT id, version, child_id, kind, visibility, title, body, occurred_on,
                author_staff_id, updated_at, ?2, ?3, ?4, ?5, ?6
         FROM entries WHERE id = ?1",
        params![
            id.to_string(),
            what.as_str(),
            change.by.id.to_string(),
            change.at,
            change.purpose.as_str(),
            change.reason
        ],
    )?;
    Ok(())
}

pub fn update_entry(
    tx: &Tx<'_>,
    id: Uuid,
    expected_version: i64,
    draft: &EntryDraft,
    change: &Change<'_>,
) -> StoreResult<Entry> {
    let (author, now) = (change.by, change.at);
    let current = load_entry(tx, id)?.filter(|r| !r.deleted).ok_or(StoreError::NotFound)?;
    if current.entry.version != expected_version {
        return Err(StoreError::conflict(format!(
            "the entry is at version {}; reload it and apply your change again",
            current.entry.version
        )));
    }
    check_child(tx, current.entry.dossier_id, draft.child_id)?;
    keep_version(tx, id, EntryChange::Updated, change)?;
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
/// The earlier text stays in the entry's history.
pub fn delete_entry(tx: &Tx<'_>, id: Uuid, change: &Change<'_>) -> StoreResult<()> {
    if current_entry(tx, id)?.is_none() {
        return Err(StoreError::NotFound);
    }
    keep_version(tx, id, EntryChange::Deleted, change)?;
    let now = change.at;
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

/// A dossier's entries, newest first, the rows of `window`.
pub fn dossier_entries(conn: &dyn Query, dossier_id: Uuid, window: Window) -> sql::Result<Vec<Entry>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {ENTRY_COLUMNS} FROM entries e JOIN staff s ON s.id = e.author_staff_id
         WHERE e.dossier_id = ?1 AND e.deleted = 0 ORDER BY e.occurred_on DESC, e.seq DESC LIMIT ?2 OFFSET ?3"
    ))?;
    let rows = stmt.query_map(params![dossier_id.to_string(), window.limit, window.offset], entry_row)?;
    rows.map(|r| r.map(|r| r.entry)).collect()
}

/// The earlier versions of an entry, newest first.
pub fn entry_history(conn: &dyn Query, id: Uuid) -> sql::Result<Vec<EntryVersion>> {
    let mut stmt = conn.prepare(
        "SELECT v.version, v.kind, v.visibility, v.child_id, v.title, v.body, v.occurred_on,
                w.display_name, w.role, v.written_at, v.change, c.display_name, c.role, v.changed_at,
                v.purpose, v.reason
         FROM entry_versions v
         JOIN staff w ON w.id = v.written_by
         JOIN staff c ON c.id = v.changed_by
         WHERE v.entry_id = ?1 ORDER BY v.version DESC",
    )?;
    let rows = stmt.query_map([id.to_string()], |r| {
        let kind: String = r.get(1)?;
        let visibility: String = r.get(2)?;
        let child: Option<String> = r.get(3)?;
        let change: String = r.get(10)?;
        let purpose: String = r.get(14)?;
        Ok(EntryVersion {
            version: r.get(0)?,
            kind: EntryKind::parse(&kind).ok_or_else(|| bad_text(1, "unknown entry kind"))?,
            visibility: Visibility::parse(&visibility).ok_or_else(|| bad_text(2, "unknown visibility"))?,
            child_id: child.map(uuid_col).transpose()?,
            title: r.get(4)?,
            body: r.get(5)?,
            occurred_on: r.get(6)?,
            written_by: r.get(7)?,
            written_by_role: r.get(8)?,
            written_at: r.get(9)?,
            change: EntryChange::parse(&change).ok_or_else(|| bad_text(10, "unknown change"))?,
            changed_by: r.get(11)?,
            changed_by_role: r.get(12)?,
            changed_at: r.get(13)?,
            purpose: Purpose::parse(&purpose).ok_or_else(|| bad_text(14, "unknown purpose"))?,
            reason: r.get(15)?,
        })
    })?;
    rows.collect()
}
