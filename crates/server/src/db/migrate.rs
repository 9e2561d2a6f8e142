//! The schema: SQLite migrations (rusqlite_migration) and the PostgreSQL scripts.

use chrono::Utc;
use uuid::Uuid;

use super::audit::{audit_row, chain_tail, APPLICATION, AUDIT_COLUMNS};
use super::sql::{self, params, Conn, QueryExt};
use super::uuid_col;
use super::OpenError;
use rusqlite_migration::{Migrations, M};

fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!("../../migrations/20261122_0001_initial.sql")),
        M::up(include_str!("../../migrations/20261122_0002_access_policy.sql")).foreign_key_check(),
        M::up(include_str!("../../migrations/20261122_0003_audit_chain.sql")),
        M::up(include_str!("../../migrations/20261122_0004_feedback.sql")),
        M::up(include_str!("../../migrations/20261123_0005_questionnaires.sql")),
        M::up(include_str!("../../migrations/20261123_0006_articles.sql")),
        M::up(include_str!("../../migrations/20261123_0007_messages.sql")),
        M::up(include_str!("../../migrations/20261202_0008_sync_indexes.sql")),
        M::up(include_str!("../../migrations/20261202_0009_audit_per_person.sql")),
        M::up(include_str!("../../migrations/20261203_0010_pin_keys.sql")),
        M::up(include_str!("../../migrations/20261203_0011_invented_dossiers.sql")),
        M::up(include_str!("../../migrations/20261203_0012_revisions_immutable.sql")),
        M::up(include_str!("../../migrations/20261203_0013_attempts_and_refusals.sql")),
        M::up(include_str!("../../migrations/20261203_0014_staff_token_idle.sql")),
        M::up(include_str!("../../migrations/20261203_0015_consent_date.sql")),
        M::up(include_str!("../../migrations/20261203_0016_report_freeze_and_pulls.sql")),
        M::up(include_str!("../../migrations/20261203_0017_entry_history.sql")),
        M::up(include_str!("../../migrations/20261203_0018_staff_second_factor.sql")),
        M::up(include_str!("../../migrations/20261203_0019_stateless_challenges.sql")),
        M::up(include_str!("../../migrations/20261203_0020_organisation_sign_in.sql")),
        M::up(include_str!("../../migrations/20261207_0021_fhir_clients.sql")),
        M::up(include_str!("../../migrations/20261207_0022_fhir_links.sql")),
        M::up(include_str!("../../migrations/20261207_0023_fhir_subscriptions.sql")),
        M::up(include_str!("../../migrations/20261207_0024_usage_counters.sql")),
        M::up(include_str!("../../migrations/20261207_0025_audit_key_rotations.sql")),
        M::up(include_str!("../../migrations/20261207_0026_retention.sql")),
    ])
}

/// How many SQLite migrations this binary knows (the `user_version` it migrates to).
pub const SQLITE_SCHEMA_VERSION: i64 = 26;

/// Runs the migrations with foreign keys off, as SQLite requires for rebuilding a table that
/// others point at; each migration that rebuilds one checks the keys before it commits.
pub(super) fn migrate(mut raw: rusqlite::Connection) -> Result<Conn, OpenError> {
    let found: i64 = raw.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > SQLITE_SCHEMA_VERSION {
        return Err(OpenError::TooNew { found, known: SQLITE_SCHEMA_VERSION });
    }
    raw.execute_batch("PRAGMA foreign_keys = OFF;")?;
    migrations().to_latest(&mut raw)?;
    let mut conn = Conn::Sqlite(raw);
    backfill_audit_chain(&mut conn)?;
    backfill_audit_views(&mut conn)?;
    Ok(conn)
}

/// Lines logged before the chain existed get their place, id, actor name and hash, in the order
/// they were written. Runs once; afterwards no line lacks a position.
fn backfill_audit_chain(conn: &mut Conn) -> sql::Result<()> {
    let tx = conn.transaction()?;
    let rows: Vec<(i64, String)> = {
        let mut stmt = tx.prepare(
            "SELECT id, dossier_id FROM audit_events WHERE position IS NULL ORDER BY dossier_id, id",
        )?;
        let rows = stmt.query_map(params![], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<sql::Result<_>>()?
    };
    for (rowid, dossier) in rows {
        tx.execute(
            "UPDATE audit_events SET event_id = ?2, application = ?3,
                 actor_name = (SELECT display_name FROM staff WHERE staff.id = audit_events.actor_staff_id),
                 position = 1 + (SELECT COALESCE(MAX(position), 0) FROM audit_events WHERE dossier_id = ?4)
             WHERE id = ?1",
            params![rowid, Uuid::new_v4().to_string(), APPLICATION, dossier],
        )?;
        let (event, _) = tx.query_row(
            &format!("SELECT {AUDIT_COLUMNS} FROM audit_events a WHERE a.id = ?1"),
            [rowid],
            audit_row,
        )?;
        let prev = chain_tail(&tx, uuid_col(dossier)?, event.position)?;
        let hash = cjg_crypto::chain::link(&prev, &event);
        tx.execute(
            "UPDATE audit_events SET hash = ?2 WHERE id = ?1",
            params![rowid, cjg_crypto::chain::hex(&hash)],
        )?;
    }
    tx.commit()
}

/// Lines logged before each person had a log of their own go to the people who could read them
/// on the day of the access (with today's consent, as earlier consents were not kept per day).
/// Runs while no person has a log yet; in one transaction, so it runs whole or again.
pub(super) fn backfill_audit_views(conn: &mut Conn) -> sql::Result<()> {
    let tx = conn.transaction()?;
    let started: i64 = tx.query_row(
        "SELECT COUNT(*) FROM (SELECT 1 FROM audit_views LIMIT 1) AS any_view",
        params![],
        |r| r.get(0),
    )?;
    if started == 0 {
        let dossiers: Vec<String> = {
            let mut stmt = tx.prepare("SELECT DISTINCT dossier_id FROM audit_events ORDER BY dossier_id")?;
            let rows = stmt.query_map(params![], |r| r.get(0))?;
            rows.collect::<sql::Result<_>>()?
        };
        for d in dossiers {
            for (event, _) in super::audit::audit_log(&tx, uuid_col(d)?)? {
                super::audit::distribute(&tx, &event)?;
            }
        }
    }
    tx.commit()
}

/// The PostgreSQL migrations, in order. Each runs once, in a transaction, recorded in
/// `schema_migrations`; a session advisory lock keeps two instances starting at once from
/// running one twice.
const PG_MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/postgres/0001_schema.sql")),
    (2, include_str!("../../migrations/postgres/0002_audit_per_person.sql")),
    (3, include_str!("../../migrations/postgres/0003_pin_keys.sql")),
    (4, include_str!("../../migrations/postgres/0004_invented_dossiers.sql")),
    (5, include_str!("../../migrations/postgres/0005_revisions_immutable.sql")),
    (6, include_str!("../../migrations/postgres/0006_attempts_and_refusals.sql")),
    (7, include_str!("../../migrations/postgres/0007_staff_token_idle.sql")),
    (8, include_str!("../../migrations/postgres/0008_consent_date.sql")),
    (9, include_str!("../../migrations/postgres/0009_report_freeze_and_pulls.sql")),
    (10, include_str!("../../migrations/postgres/0010_entry_history.sql")),
    (11, include_str!("../../migrations/postgres/0011_staff_second_factor.sql")),
    (12, include_str!("../../migrations/postgres/0012_stateless_challenges.sql")),
    (13, include_str!("../../migrations/postgres/0013_change_sequence.sql")),
    (14, include_str!("../../migrations/postgres/0014_organisation_sign_in.sql")),
    (15, include_str!("../../migrations/postgres/0015_fhir_clients.sql")),
    (16, include_str!("../../migrations/postgres/0016_fhir_links.sql")),
    (17, include_str!("../../migrations/postgres/0017_fhir_subscriptions.sql")),
    (18, include_str!("../../migrations/postgres/0018_usage_counters.sql")),
    (19, include_str!("../../migrations/postgres/0019_audit_key_rotations.sql")),
    (20, include_str!("../../migrations/postgres/0020_retention.sql")),
];
const PG_MIGRATION_LOCK: i64 = 0x0063_6a67_5f6d_6967; // "cjg_mig"

pub(super) fn migrate_postgres(conn: &mut sql::PgConn) -> Result<(), OpenError> {
    conn.batch(&format!(
        "SELECT pg_advisory_lock({PG_MIGRATION_LOCK});
         CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL);"
    ))?;
    let result = (|| {
        let newest: Option<i64> = match conn.run("SELECT MAX(version) FROM schema_migrations", &[])?.first() {
            Some(row) => row.get(0)?,
            None => None,
        };
        let known = PG_MIGRATIONS.last().map_or(0, |(v, _)| *v);
        if let Some(found) = newest.filter(|n| *n > known) {
            return Err(OpenError::TooNew { found, known });
        }
        for (version, script) in PG_MIGRATIONS {
            let done =
                conn.run("SELECT 1 FROM schema_migrations WHERE version = ?1", &[sql::Value::Int(*version)])?;
            if done.is_empty() {
                conn.batch(&format!(
                    "BEGIN;\n{script}\nINSERT INTO schema_migrations (version, applied_at) VALUES ({version}, '{}');\nCOMMIT;",
                    Utc::now().format("%F %T%.f%:z")
                ))
                .inspect_err(|_| {
                    let _ = conn.batch("ROLLBACK");
                })?;
            }
        }
        Ok::<_, OpenError>(())
    })();
    conn.batch(&format!("SELECT pg_advisory_unlock({PG_MIGRATION_LOCK})"))?;
    result
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::db::audit::{append_audit, audit_log, verify_chains, AuditRecord, ChainReport};
    use crate::db::StaffActor;
    use cjg_core::audit::{AuditAction, Purpose};
    use rusqlite::Connection;

    #[test]
    fn migrations_are_valid() {
        migrations().validate().unwrap();
    }

    /// A database made by the walking skeleton (schema 1, with rows that point at people)
    /// migrates to the access-policy schema without losing or breaking a row.
    #[test]
    fn schema_1_data_survives_the_people_rebuild() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("PRAGMA foreign_keys = ON;").unwrap();
        Migrations::new(vec![M::up(include_str!("../../migrations/20261122_0001_initial.sql"))])
            .to_latest(&mut conn)
            .unwrap();
        conn.execute_batch(
            "INSERT INTO dossiers VALUES ('d', 'Voorbeeld', '2026-01-01T00:00:00Z');
             INSERT INTO people VALUES ('p', 'd', 'parent', 'Ouder', '1980-01-01', 1, 1);
             INSERT INTO people VALUES ('c', 'd', 'child', 'Kind', '2012-01-01', 1, 2);
             INSERT INTO staff VALUES ('s', 'coach', 'Coach', 'CJG-coach', 'x');
             INSERT INTO entries (id, dossier_id, child_id, kind, title, body, author_staff_id, occurred_on,
                                  version, updated_at, seq)
                 VALUES ('e', 'd', 'c', 'plan', 't', 'b', 's', '2026-01-01', 1, '2026-01-01T00:00:00Z', 3);
             INSERT INTO devices (id, person_id, public_key, name, created_at)
                 VALUES ('dev', 'c', x'00', 'app', '2026-01-01T00:00:00Z');",
        )
        .unwrap();
        let conn = migrate(conn).unwrap();
        conn.execute("PRAGMA foreign_keys = ON", params![]).unwrap();
        let gezag: Vec<(String, bool)> = conn
            .query_map("SELECT id, has_gezag FROM people ORDER BY id", params![], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(gezag, vec![("c".into(), false), ("p".into(), true)]);
        let vis: String = conn.query_row("SELECT visibility FROM entries", params![], |r| r.get(0)).unwrap();
        assert_eq!(vis, "child");
        let fk_problems: i64 =
            conn.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", params![], |r| r.get(0)).unwrap();
        assert_eq!(fk_problems, 0);
        conn.execute(
            "INSERT INTO people (id, dossier_id, role, display_name, birth_date, version, seq)
                      VALUES ('o', 'd', 'carer', 'Oma', '1950-01-01', 1, 4)",
            params![],
        )
        .unwrap();
    }

    /// Lines logged before the chain get their places and hashes; afterwards a changed or
    /// deleted line is found at its place.
    #[test]
    fn old_lines_join_the_chain_and_tampering_is_found() {
        let d = "00000000-0000-0000-0000-0000000000d1";
        let st = "00000000-0000-0000-0000-0000000000a1";
        let mut conn = Connection::open_in_memory().unwrap();
        Migrations::new(vec![M::up(include_str!("../../migrations/20261122_0001_initial.sql"))])
            .to_latest(&mut conn)
            .unwrap();
        conn.execute_batch(&format!(
            "INSERT INTO dossiers VALUES ('{d}', 'Voorbeeld', '2026-01-01T00:00:00Z');
             INSERT INTO staff VALUES ('{st}', 'coach', 'Fleur Demo', 'CJG-coach', 'x');
             INSERT INTO audit_events (dossier_id, actor_staff_id, actor_role, action, object_type, object_id,
                                       purpose, at, origin)
                 VALUES ('{d}', '{st}', 'CJG-coach', 'read', 'entries', NULL, 'hulpverlening',
                         '2026-01-02T10:00:00Z', '127.0.0.1'),
                        ('{d}', '{st}', 'CJG-coach', 'create', 'entry', NULL, 'verslag_schrijven',
                         '2026-01-02T10:05:00Z', '127.0.0.1');"
        ))
        .unwrap();
        let mut conn = migrate(conn).unwrap();
        let dossier_id = Uuid::parse_str(d).unwrap();
        assert_eq!(verify_chains(&conn).unwrap(), vec![ChainReport::Intact { dossier_id, size: 2 }]);
        let (first, _) = &audit_log(&conn, dossier_id).unwrap()[0];
        assert_eq!((first.position, first.actor_name.as_str()), (1, "Fleur Demo"));

        let actor = StaffActor {
            id: Uuid::parse_str(st).unwrap(),
            display_name: "Fleur Demo".into(),
            role: cjg_core::staff::StaffRole::Coach,
        };
        let tx = conn.transaction().unwrap();
        let e = append_audit(
            &tx,
            &AuditRecord {
                dossier_id,
                actor: &actor,
                action: AuditAction::Read,
                object_type: cjg_core::audit::AuditObject::Entry,
                object_id: None,
                purpose: Purpose::Overleg,
                purpose_note: Some("voor het overleg van donderdag"),
                origin: "127.0.0.1",
                application: crate::db::audit::APPLICATION,
                at: Utc::now(),
            },
        )
        .unwrap();
        tx.commit().unwrap();
        assert_eq!(e.position, 3);
        assert_eq!(verify_chains(&conn).unwrap(), vec![ChainReport::Intact { dossier_id, size: 3 }]);

        conn.execute("UPDATE audit_events SET purpose = 'kwaliteit' WHERE position = 2", params![]).unwrap();
        assert_eq!(
            verify_chains(&conn).unwrap(),
            vec![ChainReport::Broken {
                dossier_id,
                position: 2,
                reason: "line changed after it was written"
            }]
        );
        conn.execute("UPDATE audit_events SET purpose = 'verslag_schrijven' WHERE position = 2", params![])
            .unwrap();
        conn.execute("DELETE FROM audit_events WHERE position = 1", params![]).unwrap();
        assert_eq!(
            verify_chains(&conn).unwrap(),
            vec![ChainReport::Broken { dossier_id, position: 1, reason: "line missing or out of order" }]
        );
    }
}
