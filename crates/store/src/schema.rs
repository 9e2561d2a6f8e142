//! Connection set-up and migrations, in one place.

use std::path::Path;

use rusqlite::Connection;
use rusqlite_migration::{Migrations, M};

use crate::error::{Result, StoreError};

fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!("../migrations/20261122_0001_initial.sql")),
        M::up(include_str!("../migrations/20261122_0002_audit.sql")),
        M::up(include_str!("../migrations/20261122_0003_feedback_outbox.sql")),
        M::up(include_str!("../migrations/20261123_0004_questionnaires.sql")),
        M::up(include_str!("../migrations/20261123_0005_informatie.sql")),
        M::up(include_str!("../migrations/20261123_0006_messages.sql")),
    ])
}

fn pragmas(conn: &Connection) -> Result<()> {
    // secure_delete overwrites freed pages, so even sealed bytes of deleted rows do not linger.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;
         PRAGMA busy_timeout = 5000;",
    )?;
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<()> {
    match migrations().to_latest(conn) {
        Err(rusqlite_migration::Error::MigrationDefinition(
            rusqlite_migration::MigrationDefinitionError::DatabaseTooFarAhead,
        )) => Err(StoreError::NewerSchema),
        other => Ok(other?),
    }
}

pub fn open(path: &Path) -> Result<Connection> {
    let mut conn = Connection::open(path)?;
    pragmas(&conn)?;
    migrate(&mut conn)?;
    Ok(conn)
}

/// A new file in rollback-journal mode, so that closing it leaves one self-contained file
/// that can be renamed into place; [`open`] switches it to WAL afterwards.
pub fn open_for_create(path: &Path) -> Result<Connection> {
    owner_only_file(path)?;
    let mut conn = Connection::open(path)?;
    conn.execute_batch("PRAGMA journal_mode = DELETE; PRAGMA secure_delete = ON;")?;
    migrate(&mut conn)?;
    Ok(conn)
}

/// Creates the file readable by its owner only, before SQLite opens it: its journal and WAL
/// files take the same permissions.
fn owner_only_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        assert!(migrations().validate().is_ok());
    }
}
