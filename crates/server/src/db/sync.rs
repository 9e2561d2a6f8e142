//! The change feed: access decisions per person and the pages a device pulls.

use chrono::NaiveDate;
use cjg_core::api::{Change, SyncItem, SyncPage, SYNC_PAGE_TARGET_BYTES};
use cjg_core::entry::Visibility;
use cjg_core::policy::{EntryScope, Family, Member};
use uuid::Uuid;

use super::entries::{entry_row, ENTRY_COLUMNS};
use super::feedback::{feedback_row, requests_since, FEEDBACK_COLUMNS};
use super::people::{dossier_people, member_of, person_row, regime, PERSON_COLUMNS};
use super::sql::{self, params, Query, QueryExt, ToValue, Tx};
use super::{articles, messages, questionnaires};
use super::{bad_text, next_seqs, uuid_col};

/// Brings the person's access ledger up to date with the policy on `today`: every entry whose
/// answer changed gets a new seq, so it (or its tombstone) is in the next page. Entries this
/// person never saw and may not see leave no trace in their ledger.
///
/// With the mark of an earlier refresh on the same Dutch date, regime and people (ages and
/// consent change the answers for every entry; an entry changes only its own), only entries
/// changed since are looked at: a sync that finds nothing new reads two index ends instead of
/// the whole dossier. A hidden entry costs the same one-row look as a visible one, and nothing
/// is written for it, so the time of the next sync does not tell that it was written.
pub(super) fn refresh_access(
    tx: &Tx<'_>,
    person_id: Uuid,
    dossier_id: Uuid,
    today: NaiveDate,
    since: Option<AccessMark>,
) -> sql::Result<AccessMark> {
    let mark = AccessMark {
        on: today,
        regime: regime(tx, dossier_id)?,
        people_seq: newest_seq(tx, "people", dossier_id)?,
        entries_seq: newest_seq(tx, "entries", dossier_id)?,
    };
    let from = match since {
        Some(m) if m.on == mark.on && m.regime == mark.regime && m.people_seq == mark.people_seq => {
            if m.entries_seq >= mark.entries_seq {
                return Ok(mark);
            }
            m.entries_seq
        }
        _ => -1,
    };
    let members: Vec<Member> = dossier_people(tx, dossier_id)?.iter().map(member_of).collect();
    let family = Family { members: &members, regime: mark.regime, today };
    let index = if from < 0 { "entries_access_scan" } else { "entries_dossier_seq" };
    let mut stmt = tx.prepare(&format!(
        "SELECT e.id, e.child_id, e.visibility, e.deleted, a.visible
         FROM entries e {}
         LEFT JOIN entry_access a ON a.entry_id = e.id AND a.person_id = ?2
         WHERE e.dossier_id = ?1 AND e.seq > ?3",
        indexed_by(tx, index)
    ))?;
    let rows = stmt.query_map(params![dossier_id.to_string(), person_id.to_string(), from], |r| {
        let child: Option<String> = r.get(1)?;
        let visibility: String = r.get(2)?;
        Ok((
            uuid_col(r.get(0)?)?,
            child.map(uuid_col).transpose()?,
            Visibility::parse(&visibility).ok_or_else(|| bad_text(2, "unknown visibility"))?,
            r.get::<bool>(3)?,
            r.get::<Option<bool>>(4)?,
        ))
    })?;
    let mut changed = Vec::new();
    for row in rows {
        let (entry_id, child_id, visibility, deleted, had) = row?;
        let may = !deleted && family.may_see(person_id, EntryScope { visibility, child_id });
        if may != had.unwrap_or(false) {
            changed.push((entry_id, may));
        }
    }
    drop(stmt);
    store_access(tx, person_id, &changed)?;
    Ok(mark)
}

/// What the policy read of a dossier when it last brought one person's ledger up to date.
/// Kept in the server's memory, never in the database: recording it would turn a sync that
/// reads into one that writes. A restart (a new policy in a new release, say) starts without
/// marks, so every ledger is checked whole once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessMark {
    on: NaiveDate,
    regime: cjg_core::policy::Regime,
    people_seq: i64,
    entries_seq: i64,
}

/// The marks of the people who synced with this instance lately. Bounded: when full it is
/// emptied, and each person's next sync checks their ledger whole again.
#[derive(Default)]
pub struct AccessMarks(std::sync::Mutex<std::collections::HashMap<Uuid, AccessMark>>);

impl AccessMarks {
    const MAX: usize = 200_000;

    pub fn get(&self, person_id: Uuid) -> Option<AccessMark> {
        self.0.lock().ok()?.get(&person_id).copied()
    }

    /// Call only after the transaction that stored the ledger committed.
    pub fn put(&self, person_id: Uuid, mark: AccessMark) {
        if let Ok(mut marks) = self.0.lock() {
            if marks.len() >= Self::MAX {
                marks.clear();
            }
            marks.insert(person_id, mark);
        }
    }
}

/// The newest change to a dossier's rows of `table` (every change takes a new seq): one index
/// end.
fn newest_seq(q: &dyn Query, table: &str, dossier_id: Uuid) -> sql::Result<i64> {
    q.query_row(
        &format!("SELECT COALESCE(MAX(seq), 0) FROM {table} WHERE dossier_id = ?1"),
        [dossier_id.to_string()],
        |r| r.get(0),
    )
}

/// Writes access decisions with one sequence range and few statements: a first pull of a
/// 5,000-entry dossier made 10,000 statements (one counter update and one insert per entry),
/// each a round trip on PostgreSQL. Rows go in groups of fixed sizes, so there are only a few
/// distinct statements to prepare and cache.
fn store_access(tx: &Tx<'_>, person_id: Uuid, changed: &[(Uuid, bool)]) -> sql::Result<()> {
    const GROUPS: [usize; 3] = [64, 8, 1];
    if changed.is_empty() {
        return Ok(());
    }
    let mut seqs = next_seqs(tx, changed.len())?.into_iter();
    let person = sql::Value::Text(person_id.to_string());
    let mut rest = changed;
    for size in GROUPS {
        let statement = access_insert(size);
        while rest.len() >= size {
            let (group, tail) = rest.split_at(size);
            let mut values = Vec::with_capacity(size * 4);
            for ((entry_id, visible), seq) in group.iter().zip(seqs.by_ref()) {
                values.extend([
                    person.clone(),
                    entry_id.to_string().to_value(),
                    visible.to_value(),
                    seq.to_value(),
                ]);
            }
            tx.execute(&statement, values.as_slice())?;
            rest = tail;
        }
    }
    Ok(())
}

fn access_insert(rows: usize) -> String {
    let values: Vec<String> = (0..rows)
        .map(|i| format!("(?{}, ?{}, ?{}, ?{})", 4 * i + 1, 4 * i + 2, 4 * i + 3, 4 * i + 4))
        .collect();
    format!(
        "INSERT INTO entry_access (person_id, entry_id, visible, seq) VALUES {}
         ON CONFLICT (person_id, entry_id) DO UPDATE SET visible = excluded.visible, seq = excluded.seq",
        values.join(", ")
    )
}

/// SQLite's planner picks a worse index for these scans without the hint (BENCHMARKS.md,
/// initial sync); PostgreSQL has no hints and finds the covering index itself.
fn indexed_by(q: &dyn Query, index: &str) -> String {
    match q.dialect() {
        sql::Dialect::Sqlite => format!("INDEXED BY {index}"),
        sql::Dialect::Postgres => String::new(),
    }
}

/// What this person may see that changed after `cursor`, at most `limit` items, in cursor order.
/// The policy is applied on `today` before the page is read, in the same transaction; the mark
/// it returns is for [`AccessMarks`] once the transaction committed.
pub fn sync_page(
    tx: &Tx<'_>,
    person_id: Uuid,
    dossier_id: Uuid,
    cursor: i64,
    limit: usize,
    today: NaiveDate,
    since: Option<AccessMark>,
) -> sql::Result<(SyncPage, AccessMark)> {
    tx.check_order(dossier_id)?;
    let mark = refresh_access(tx, person_id, dossier_id, today, since)?;
    let fetch = i64::try_from(limit + 1).unwrap_or(i64::MAX);
    let mut items: Vec<SyncItem> = Vec::new();
    {
        // A visible entry travels when it or its access changed; a hidden one only as the
        // tombstone of the moment access ended.
        // The page is chosen on small columns first (covering indexes), and only its rows are
        // read whole: sorting every row with its body made each page cost O(dossier bytes).
        // The candidates come from two index ranges (access changed after the cursor; entry
        // changed after the cursor), so a page after the newest change reads no row at all:
        // one condition over both tables made every sync walk the person's whole ledger.
        let mut stmt = tx.prepare(&format!(
            "WITH changed AS (
                 SELECT a.entry_id FROM entry_access a WHERE a.person_id = ?1 AND a.seq > ?2
                 UNION
                 SELECT k.id FROM entries k WHERE k.dossier_id = ?4 AND k.seq > ?2),
             page AS MATERIALIZED (
                 SELECT a.entry_id, a.visible,
                        CASE WHEN a.visible = 1 AND k.seq > a.seq THEN k.seq ELSE a.seq END AS item_seq
                 FROM changed c
                 JOIN entry_access a ON a.person_id = ?1 AND a.entry_id = c.entry_id
                 JOIN entries k {} ON k.id = a.entry_id
                 WHERE a.seq > ?2 OR (a.visible = 1 AND k.seq > ?2)
                 ORDER BY item_seq LIMIT ?3)
             SELECT {ENTRY_COLUMNS}, page.visible, page.item_seq
             FROM page
             JOIN entries e ON e.id = page.entry_id
             JOIN staff s ON s.id = e.author_staff_id
             ORDER BY page.item_seq",
            indexed_by(tx, "entries_id_seq")
        ))?;
        let rows = stmt
            .query_map(params![person_id.to_string(), cursor, fetch, dossier_id.to_string()], |r| {
                Ok((entry_row(r)?, r.get::<bool>(14)?, r.get::<i64>(15)?))
            })?;
        for row in rows {
            let (row, visible, item_seq) = row?;
            let change = if visible && !row.deleted {
                Change::Entry { entry: row.entry }
            } else {
                // Newer than any version the device holds, so the device always drops it.
                Change::EntryDeleted { id: row.entry.id, version: row.entry.version + 1 }
            };
            items.push(SyncItem { cursor: item_seq, change });
        }
    }
    {
        let mut stmt = tx.prepare(&format!(
            "SELECT {PERSON_COLUMNS} FROM people WHERE dossier_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"
        ))?;
        let rows = stmt.query_map(params![dossier_id.to_string(), cursor, fetch], person_row)?;
        for row in rows {
            let (person, seq) = row?;
            items.push(SyncItem { cursor: seq, change: Change::Person { person } });
        }
    }
    {
        // A person's own feedback, with the coach's answer when it comes.
        let mut stmt = tx.prepare(&format!(
            "SELECT {FEEDBACK_COLUMNS} FROM feedback f JOIN people p ON p.id = f.author_person_id
             WHERE f.author_person_id = ?1 AND f.seq > ?2 ORDER BY f.seq LIMIT ?3"
        ))?;
        let rows = stmt.query_map(params![person_id.to_string(), cursor, fetch], feedback_row)?;
        for row in rows {
            let (feedback, seq) = row?;
            items.push(SyncItem { cursor: seq, change: Change::Feedback { feedback } });
        }
    }
    for (change, seq) in articles::articles_since(tx, cursor, fetch)? {
        let change = match change {
            articles::ArticleChange::Published(article) => Change::Article { article },
            articles::ArticleChange::Gone { id, version } => Change::ArticleGone { id, version },
        };
        items.push(SyncItem { cursor: seq, change });
    }
    for (message, seq) in messages::since(tx, person_id, cursor, fetch)? {
        items.push(SyncItem { cursor: seq, change: Change::Message { message } });
    }
    for (tip, seq) in articles::tips_since(tx, person_id, cursor, fetch)? {
        items.push(SyncItem { cursor: seq, change: Change::ReadingTip { tip } });
    }
    for (request, seq) in requests_since(tx, person_id, cursor, fetch)? {
        items.push(SyncItem { cursor: seq, change: Change::FeedbackRequest { request } });
    }
    for (task, seq) in questionnaires::person_tasks_since(tx, person_id, cursor, fetch)? {
        items.push(SyncItem { cursor: seq, change: Change::Questionnaire { task } });
    }
    items.sort_by_key(|i| i.cursor);
    // Each source was read `limit + 1` deep, so what is left after the cut is a real "more".
    let (items, has_more) = cjg_core::api::fit_page(items, limit, SYNC_PAGE_TARGET_BYTES, |i| {
        serde_json::to_vec(i).map_or(usize::MAX, |v| v.len())
    });
    let next_cursor = items.last().map_or(cursor, |i| i.cursor);
    Ok((SyncPage { items, next_cursor, has_more, audit: None }, mark))
}
