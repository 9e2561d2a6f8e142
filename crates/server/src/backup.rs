//! Backups of the embedded SQLite database while the server runs, and restoring one into an
//! empty data directory. PostgreSQL has its own tools (`pg_dump`, README "Backups").

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::audit;

/// How long to wait before trying again when the source is locked for a moment.
const RETRY_AFTER: Duration = Duration::from_millis(10);

/// Added to the change counter when a backup is restored. Apps that synced after the backup
/// was made hold cursors past what the restored database knows; without the jump, the next
/// changes would get numbers those apps believe they already have, and they would never see
/// them.
pub const CURSOR_JUMP_AT_RESTORE: i64 = 1_000_000_000;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("there is no database at {0}")]
    NoDatabase(PathBuf),
    #[error("{0} already exists; a backup or restore never overwrites a file")]
    Exists(PathBuf),
    #[error("{0} is not a sound Mijn CJG database: {1}")]
    NotSound(PathBuf, String),
    #[error("{0} was made by a newer cjg-server (schema {1}, this one knows {2})")]
    TooNew(PathBuf, i64, i64),
    #[error(
        "no audit signing key: give --audit-key FILE (the audit-signing.key kept with the backup) \
         or put it in the data directory. A new key would make every enrolled app distrust the log"
    )]
    KeyMissing,
    #[error(transparent)]
    Key(#[from] audit::KeyError),
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// What a backup or restore wrote, to print and to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub bytes: u64,
    pub schema: i64,
    pub dossiers: i64,
    pub audit_lines: i64,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |e| BackupError::Io(path.to_owned(), e)
}

/// Beside `path`, so the final rename stays on one file system: a crash or a full disk leaves a
/// `.part` file, never a half database under the final name.
fn part_of(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".part");
    path.with_file_name(name)
}

fn refuse_existing(path: &Path) -> Result<(), BackupError> {
    if path.exists() {
        return Err(BackupError::Exists(path.to_owned()));
    }
    Ok(())
}

/// Checks a database file end to end and counts what it holds.
fn check(conn: &Connection, path: &Path) -> Result<Summary, BackupError> {
    let verdict: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if verdict != "ok" {
        return Err(BackupError::NotSound(path.to_owned(), verdict));
    }
    let schema: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let known = crate::db::SQLITE_SCHEMA_VERSION;
    if schema > known {
        return Err(BackupError::TooNew(path.to_owned(), schema, known));
    }
    let count = |table: &str| -> Result<i64, BackupError> {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .map_err(|e| BackupError::NotSound(path.to_owned(), e.to_string()))
    };
    let bytes = std::fs::metadata(path).map_err(io(path))?.len();
    Ok(Summary { bytes, schema, dossiers: count("dossiers")?, audit_lines: count("audit_events")? })
}

/// Copies the live database at `db` into a new file `to` with SQLite's online backup, which
/// gives one consistent moment even while the server writes.
pub fn backup(db: &Path, to: &Path) -> Result<Summary, BackupError> {
    if !db.is_file() {
        return Err(BackupError::NoDatabase(db.to_owned()));
    }
    refuse_existing(to)?;
    let part = part_of(to);
    let _ = std::fs::remove_file(&part);
    let source = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    source.busy_timeout(Duration::from_secs(30))?;
    let copied = (|| {
        let mut target = Connection::open(&part)?;
        {
            // All pages in one step, inside one read transaction: in WAL mode it does not hold
            // up the server's writers. Copying in parts would let a write in between restart the
            // copy from the first page, for ever on a busy region.
            let copy = rusqlite::backup::Backup::new(&source, &mut target)?;
            loop {
                match copy.step(-1)? {
                    rusqlite::backup::StepResult::Done => break,
                    rusqlite::backup::StepResult::More => {}
                    _ => std::thread::sleep(RETRY_AFTER),
                }
            }
        }
        // One file, nothing beside it: a copy to carry away.
        target.pragma_update(None, "journal_mode", "DELETE")?;
        let summary = check(&target, &part)?;
        drop(target);
        std::fs::File::open(&part).and_then(|f| f.sync_all()).map_err(io(&part))?;
        Ok(summary)
    })();
    let summary = kept_or_removed(&part, copied)?;
    give_name(&part, to)?;
    Ok(summary)
}

/// Puts a backup in place as the database of the empty data directory `data_dir`, with the
/// audit signing key the backup belongs to. Refuses a directory that holds a database: a
/// restore never overwrites what a server may still be using.
pub fn restore(from: &Path, data_dir: &Path, key: Option<&Path>) -> Result<Summary, BackupError> {
    let db = data_dir.join(crate::DATABASE_FILE);
    refuse_existing(&db)?;
    // A journal left beside a removed database would be played onto the restored one at start.
    for leftover in ["-wal", "-shm", "-journal"] {
        refuse_existing(&data_dir.join(format!("{}{leftover}", crate::DATABASE_FILE)))?;
    }
    let key_in_dir = data_dir.join(audit::KEY_FILE);
    match key {
        Some(key) if key_in_dir.exists() && std::fs::read(key).ok() != std::fs::read(&key_in_dir).ok() => {
            return Err(BackupError::Exists(key_in_dir));
        }
        Some(key) => audit::read_key(key)?,
        None if key_in_dir.exists() => audit::read_key(&key_in_dir)?,
        None => return Err(BackupError::KeyMissing),
    };
    {
        let backup = Connection::open_with_flags(from, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|_| BackupError::NoDatabase(from.to_owned()))?;
        check(&backup, from)?;
    }
    std::fs::create_dir_all(data_dir).map_err(io(data_dir))?;
    let part = part_of(&db);
    let _ = std::fs::remove_file(&part);
    let restored = (|| {
        std::fs::copy(from, &part).map_err(io(&part))?;
        let conn = Connection::open(&part)?;
        conn.execute("UPDATE seq_counter SET value = value + ?1 WHERE id = 1", [CURSOR_JUMP_AT_RESTORE])?;
        let summary = check(&conn, &part)?;
        drop(conn);
        std::fs::File::open(&part).and_then(|f| f.sync_all()).map_err(io(&part))?;
        Ok(summary)
    })();
    let summary = kept_or_removed(&part, restored)?;
    if let Some(key) = key {
        if !key_in_dir.exists() {
            audit::install_key(key, data_dir).inspect_err(|_| {
                let _ = std::fs::remove_file(&part);
            })?;
        }
    }
    give_name(&part, &db)?;
    Ok(summary)
}

/// A failed copy leaves no `.part` behind, nor a journal of it that SQLite would play back
/// onto the next attempt.
fn kept_or_removed(part: &Path, made: Result<Summary, BackupError>) -> Result<Summary, BackupError> {
    made.inspect_err(|_| {
        let _ = std::fs::remove_file(part);
        for suffix in ["-journal", "-wal", "-shm"] {
            let mut name = part.as_os_str().to_owned();
            name.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(name));
        }
    })
}

/// The finished copy gets its name by a hard link, which (unlike a rename) never replaces a
/// file that appeared meanwhile.
fn give_name(part: &Path, to: &Path) -> Result<(), BackupError> {
    let linked = std::fs::hard_link(part, to).map_err(io(to));
    let _ = std::fs::remove_file(part);
    linked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_file_sits_beside_its_target() {
        assert_eq!(part_of(Path::new("/b/cjg.db")), PathBuf::from("/b/cjg.db.part"));
    }
}
