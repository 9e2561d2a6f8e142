//! SQLite storage of the server. Handlers never write SQL: they call these methods, which is
//! the seam where the PostgreSQL backend will slot in behind a trait.
//!
//! One connection behind a mutex, used from `spawn_blocking`: SQLite has one writer anyway,
//! and it keeps the change-feed counter strictly ordered with the commits.

use std::path::Path;
use std::sync::{Arc, Mutex};

use chrono::SubsecRound;
use chrono::{DateTime, NaiveDate, Utc};
use cjg_core::api::{Change, DeviceInfo, SyncItem, SyncPage};
use cjg_core::audit::{AuditAction, AuditEvent, Purpose};
use cjg_core::entry::{EntryDraft, Visibility};
use cjg_core::feedback::{
    Feedback, FeedbackAnswer, FeedbackDraft, FeedbackKind, FeedbackRequest, FeedbackRequestDraft,
    FeedbackStatus,
};
use cjg_core::policy::{EntryScope, Family, Member, Regime};
use cjg_core::{Entry, EntryKind, ErrorCode, Person, PersonRole};
use cjg_crypto::chain;
use rusqlite_migration::{Migrations, M};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

pub mod articles;
pub mod messages;
pub mod questionnaires;
pub mod sql;

use sql::{params, Conn, OptionalExt, Query, QueryExt, ToValue, Tx};

/// The server's storage: the embedded SQLite file (one writer connection, as SQLite has one
/// writer, and a few read-only connections for read transactions, which WAL lets run beside
/// it) or a pool of PostgreSQL connections shared with any other instance on the same database.
#[derive(Clone)]
pub struct Db {
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Sqlite { writer: Arc<Mutex<Conn>>, readers: Arc<Readers> },
    Postgres(Arc<PgPool>),
}

struct Readers {
    conns: Vec<Mutex<Conn>>,
    next: std::sync::atomic::AtomicUsize,
}

/// Enough readers to keep every core busy with sync pages while the writer writes.
const SQLITE_READERS: usize = 4;

/// rusqlite keeps 16 statements per connection by default; a sync page alone uses about 12.
const STATEMENT_CACHE: usize = 64;

/// The sync PostgreSQL client runs a small runtime of its own and may not be made or closed on
/// a thread that drives async tasks: the pool is built and dropped on a plain thread.
struct PgPool(Option<r2d2::Pool<sql::PgManager>>);

impl Drop for PgPool {
    fn drop(&mut self) {
        if let Some(pool) = self.0.take() {
            let _ = std::thread::spawn(move || drop(pool)).join();
        }
    }
}

fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!("../migrations/20261122_0001_initial.sql")),
        M::up(include_str!("../migrations/20261122_0002_access_policy.sql")).foreign_key_check(),
        M::up(include_str!("../migrations/20261122_0003_audit_chain.sql")),
        M::up(include_str!("../migrations/20261122_0004_feedback.sql")),
        M::up(include_str!("../migrations/20261123_0005_questionnaires.sql")),
        M::up(include_str!("../migrations/20261123_0006_articles.sql")),
        M::up(include_str!("../migrations/20261123_0007_messages.sql")),
        M::up(include_str!("../migrations/20261202_0008_sync_indexes.sql")),
    ])
}

/// Runs the migrations with foreign keys off, as SQLite requires for rebuilding a table that
/// others point at; each migration that rebuilds one checks the keys before it commits.
fn migrate(mut raw: rusqlite::Connection) -> Result<Conn, OpenError> {
    raw.execute_batch("PRAGMA foreign_keys = OFF;")?;
    migrations().to_latest(&mut raw)?;
    let mut conn = Conn::Sqlite(raw);
    backfill_audit_chain(&mut conn)?;
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

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot open the database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot migrate the database: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("cannot use the database: {0}")]
    Sql(#[from] sql::Error),
    #[error("the database URL is not a PostgreSQL URL (postgres://user:password@host/name): {0}")]
    Url(postgres::Error),
}

/// The PostgreSQL migrations, in order. Each runs once, in a transaction, recorded in
/// `schema_migrations`; a session advisory lock keeps two instances starting at once from
/// running one twice.
const PG_MIGRATIONS: &[(i64, &str)] = &[(1, include_str!("../migrations/postgres/0001_schema.sql"))];
const PG_MIGRATION_LOCK: i64 = 0x0063_6a67_5f6d_6967; // "cjg_mig"

fn migrate_postgres(conn: &mut sql::PgConn) -> Result<(), OpenError> {
    conn.batch(&format!(
        "SELECT pg_advisory_lock({PG_MIGRATION_LOCK});
         CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL);"
    ))?;
    let result = (|| {
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

/// Who did something, for the audit log.
#[derive(Debug, Clone)]
pub struct StaffActor {
    pub id: Uuid,
    pub display_name: String,
    pub role: String,
}

#[derive(Debug, Clone)]
pub struct DeviceSubject {
    pub device_id: Uuid,
    pub person_id: Uuid,
    pub dossier_id: Uuid,
}

pub enum CodeCheck {
    Ok(Uuid),
    Invalid,
    Expired,
    Used,
}

impl Db {
    pub fn open(path: &Path) -> Result<Self, OpenError> {
        let raw = rusqlite::Connection::open(path)?;
        raw.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;",
        )?;
        raw.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let conn = migrate(raw)?;
        conn.execute("PRAGMA foreign_keys = ON", params![])?;
        let mut readers = Vec::with_capacity(SQLITE_READERS);
        for _ in 0..SQLITE_READERS {
            let r = rusqlite::Connection::open_with_flags(
                path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            r.execute_batch("PRAGMA busy_timeout = 5000;")?;
            r.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
            readers.push(Mutex::new(Conn::Sqlite(r)));
        }
        Ok(Self {
            backend: Backend::Sqlite {
                writer: Arc::new(Mutex::new(conn)),
                readers: Arc::new(Readers { conns: readers, next: Default::default() }),
            },
        })
    }

    /// Connects to PostgreSQL (`postgres://user:password@host:port/name`) with a pool of
    /// `pool_size` connections, and brings the schema up to date.
    pub fn open_postgres(url: &str, pool_size: u32) -> Result<Self, OpenError> {
        let config: postgres::Config = url.parse().map_err(OpenError::Url)?;
        let pool = std::thread::spawn(move || {
            let pool = PgPool(Some(
                r2d2::Pool::builder()
                    .max_size(pool_size.max(1))
                    .min_idle(Some(1))
                    .connection_timeout(std::time::Duration::from_secs(10))
                    .build(sql::PgManager::new(config))
                    .map_err(sql::Error::from)?,
            ));
            if let Some(p) = &pool.0 {
                migrate_postgres(&mut *p.get().map_err(sql::Error::from)?)?;
            }
            Ok::<_, OpenError>(pool)
        })
        .join()
        .map_err(|_| OpenError::Sql(sql::Error::BadValue(0, "the database thread stopped".into())))??;
        Ok(Self { backend: Backend::Postgres(Arc::new(pool)) })
    }

    pub fn dialect(&self) -> sql::Dialect {
        match self.backend {
            Backend::Sqlite { .. } => sql::Dialect::Sqlite,
            Backend::Postgres(_) => sql::Dialect::Postgres,
        }
    }

    /// Runs `f` on a connection off the async threads.
    pub async fn call<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Conn) -> AppResult<T> + Send + 'static,
    {
        let backend = self.backend.clone();
        tokio::task::spawn_blocking(move || match backend {
            Backend::Sqlite { writer, .. } => {
                let mut guard = writer.lock().map_err(|_| AppError::internal("database mutex poisoned"))?;
                f(&mut guard)
            }
            Backend::Postgres(pool) => {
                let pool = pool.0.as_ref().ok_or_else(|| AppError::internal("database pool closed"))?;
                let pooled = pool.get().map_err(AppError::internal)?;
                f(&mut Conn::Postgres(std::cell::RefCell::new(pooled)))
            }
        })
        .await
        .map_err(AppError::internal)?
    }

    /// Like [`Db::call`], for work that only reads (in a read transaction): on SQLite it runs on
    /// a read-only connection beside the writer.
    pub async fn call_read<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Conn) -> AppResult<T> + Send + 'static,
    {
        let Backend::Sqlite { readers, .. } = &self.backend else { return self.call(f).await };
        let readers = readers.clone();
        tokio::task::spawn_blocking(move || {
            let n = readers.conns.len();
            let start = readers.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            // A free reader if there is one, else wait for the next in turn.
            let mut guard = (0..n)
                .find_map(|i| readers.conns[(start + i) % n].try_lock().ok())
                .map_or_else(|| readers.conns[start % n].lock(), Ok)
                .map_err(|_| AppError::internal("database mutex poisoned"))?;
            f(&mut guard)
        })
        .await
        .map_err(AppError::internal)?
    }
}

fn next_seq(tx: &Tx<'_>) -> sql::Result<i64> {
    next_seqs(tx, 1)
}

/// Hands out `n` consecutive sequence numbers; returns the first.
fn next_seqs(tx: &Tx<'_>, n: usize) -> sql::Result<i64> {
    let n = i64::try_from(n).map_err(|_| sql::Error::BadValue(0, format!("{n} sequence numbers")))?;
    let last: i64 = tx.query_row(
        "UPDATE seq_counter SET value = value + ?1 WHERE id = 1 RETURNING value",
        params![n],
        |r| r.get(0),
    )?;
    Ok(last - n + 1)
}

fn uuid_col(s: String) -> sql::Result<Uuid> {
    Uuid::parse_str(&s).map_err(|e| sql::Error::BadValue(0, e.to_string()))
}

// ---- dossiers and people -------------------------------------------------------------

pub fn insert_dossier(tx: &Tx<'_>, id: Uuid, family_name: &str, now: DateTime<Utc>) -> sql::Result<()> {
    tx.execute(
        "INSERT INTO dossiers (id, family_name, created_at) VALUES (?1, ?2, ?3)",
        params![id.to_string(), family_name, now],
    )?;
    Ok(())
}

pub struct NewPerson<'a> {
    pub role: PersonRole,
    pub display_name: &'a str,
    pub birth_date: NaiveDate,
    pub has_gezag: bool,
}

pub fn insert_person(tx: &Tx<'_>, dossier_id: Uuid, p: &NewPerson<'_>) -> sql::Result<Uuid> {
    let id = Uuid::new_v4();
    let seq = next_seq(tx)?;
    tx.execute(
        "INSERT INTO people (id, dossier_id, role, display_name, birth_date, has_gezag, version, seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7)",
        params![
            id.to_string(),
            dossier_id.to_string(),
            p.role.as_str(),
            p.display_name,
            p.birth_date,
            p.has_gezag,
            seq
        ],
    )?;
    Ok(id)
}

const PERSON_COLUMNS: &str =
    "id, dossier_id, role, display_name, birth_date, has_gezag, shares_with_parents, version, seq";

fn person_row(r: &sql::Row) -> sql::Result<(Person, i64)> {
    let role: String = r.get(2)?;
    Ok((
        Person {
            id: uuid_col(r.get(0)?)?,
            dossier_id: uuid_col(r.get(1)?)?,
            role: PersonRole::parse(&role).ok_or_else(|| bad_text(2, "unknown person role"))?,
            display_name: r.get(3)?,
            birth_date: r.get(4)?,
            has_gezag: r.get(5)?,
            shares_with_parents: r.get(6)?,
            version: r.get(7)?,
        },
        r.get(8)?,
    ))
}

fn bad_text(col: usize, what: &'static str) -> sql::Error {
    sql::Error::BadValue(col, what.into())
}

pub fn person(conn: &dyn Query, id: Uuid) -> sql::Result<Option<Person>> {
    conn.query_row(&format!("SELECT {PERSON_COLUMNS} FROM people WHERE id = ?1"), [id.to_string()], |r| {
        person_row(r).map(|(p, _)| p)
    })
    .optional()
}

pub fn dossier_people(conn: &dyn Query, dossier_id: Uuid) -> sql::Result<Vec<Person>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {PERSON_COLUMNS} FROM people WHERE dossier_id = ?1 ORDER BY birth_date, display_name"
    ))?;
    let rows = stmt.query_map([dossier_id.to_string()], |r| person_row(r).map(|(p, _)| p))?;
    rows.collect()
}

pub fn regime(conn: &dyn Query, dossier_id: Uuid) -> sql::Result<Regime> {
    let r: String =
        conn.query_row("SELECT regime FROM dossiers WHERE id = ?1", [dossier_id.to_string()], |r| r.get(0))?;
    Ok(if r == "wgbo" { Regime::Wgbo } else { Regime::Jeugdwet })
}

/// Whether a person may use the app for their dossier on `today` (a youth from 12, say).
pub fn has_own_access(conn: &dyn Query, person_id: Uuid, today: NaiveDate) -> sql::Result<bool> {
    let Some(p) = person(conn, person_id)? else { return Ok(false) };
    let members: Vec<Member> = dossier_people(conn, p.dossier_id)?.iter().map(member_of).collect();
    let family = Family { members: &members, regime: regime(conn, p.dossier_id)?, today };
    Ok(family.has_own_access(&member_of(&p)))
}

fn member_of(p: &Person) -> Member {
    Member {
        id: p.id,
        role: p.role,
        birth_date: p.birth_date,
        has_gezag: p.has_gezag,
        shares_with_parents: p.shares_with_parents,
    }
}

/// Records a youth's consent (or its withdrawal) and moves it into the feed.
pub fn set_consent(
    tx: &Tx<'_>,
    youth_id: Uuid,
    shares: bool,
    recorded_by: &str,
    now: DateTime<Utc>,
) -> sql::Result<()> {
    let seq = next_seq(tx)?;
    tx.execute(
        "UPDATE people SET shares_with_parents = ?2, version = version + 1, seq = ?3
         WHERE id = ?1 AND shares_with_parents <> ?2",
        params![youth_id.to_string(), shares, seq],
    )?;
    tx.execute(
        "INSERT INTO consents (youth_id, shares, recorded_by, at) VALUES (?1, ?2, ?3, ?4)",
        params![youth_id.to_string(), shares, recorded_by, now],
    )?;
    Ok(())
}

pub fn insert_staff(
    tx: &Tx<'_>,
    username: &str,
    display_name: &str,
    role: &str,
    password_hash: &str,
) -> sql::Result<Uuid> {
    let id = Uuid::new_v4();
    tx.execute(
        "INSERT INTO staff (id, username, display_name, role, password_hash) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id.to_string(), username, display_name, role, password_hash],
    )?;
    Ok(id)
}

pub fn assign_staff(tx: &Tx<'_>, staff_id: Uuid, dossier_id: Uuid) -> sql::Result<()> {
    tx.execute(
        "INSERT INTO staff_dossiers (staff_id, dossier_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        params![staff_id.to_string(), dossier_id.to_string()],
    )?;
    Ok(())
}

/// The dossiers a staff member works on, by family name.
pub fn caseload(conn: &dyn Query, staff_id: Uuid) -> sql::Result<Vec<cjg_core::api::CaseloadDossier>> {
    let mut stmt = conn.prepare(
        "SELECT d.id, d.family_name FROM staff_dossiers sd JOIN dossiers d ON d.id = sd.dossier_id
         WHERE sd.staff_id = ?1 ORDER BY d.family_name, d.id",
    )?;
    let rows = stmt.query_map([staff_id.to_string()], |r| {
        Ok(cjg_core::api::CaseloadDossier { id: uuid_col(r.get(0)?)?, family_name: r.get(1)? })
    })?;
    rows.collect()
}

pub fn dossier_count(conn: &dyn Query) -> sql::Result<i64> {
    conn.query_row("SELECT COUNT(*) FROM dossiers", params![], |r| r.get(0))
}

pub fn person_id_by_name(conn: &dyn Query, dossier_id: Uuid, name: &str) -> sql::Result<Uuid> {
    conn.query_row(
        "SELECT id FROM people WHERE dossier_id = ?1 AND display_name = ?2",
        params![dossier_id.to_string(), name],
        |r| uuid_col(r.get(0)?),
    )
}

/// (person id, role, display name) of every member of a family with a coach, oldest first. The
/// demo archive (closed trajectories, no coach) is left out.
pub fn family_members(conn: &dyn Query) -> sql::Result<Vec<(Uuid, String, String)>> {
    let mut stmt = conn.prepare(
        "SELECT p.id, p.role, p.display_name FROM people p JOIN dossiers d ON d.id = p.dossier_id
         WHERE EXISTS (SELECT 1 FROM staff_dossiers sd WHERE sd.dossier_id = d.id)
         ORDER BY d.created_at, d.family_name, p.birth_date, p.display_name",
    )?;
    let rows = stmt.query_map(params![], |r| Ok((uuid_col(r.get(0)?)?, r.get(1)?, r.get(2)?)))?;
    rows.collect()
}

pub fn person_dossier(conn: &dyn Query, person_id: Uuid) -> sql::Result<Option<Uuid>> {
    conn.query_row("SELECT dossier_id FROM people WHERE id = ?1", [person_id.to_string()], |r| {
        uuid_col(r.get(0)?)
    })
    .optional()
}

// ---- staff ----------------------------------------------------------------------------

pub fn staff_by_username(conn: &dyn Query, username: &str) -> sql::Result<Option<(StaffActor, String)>> {
    conn.query_row(
        "SELECT id, display_name, role, password_hash FROM staff WHERE username = ?1",
        [username],
        |r| {
            Ok((StaffActor { id: uuid_col(r.get(0)?)?, display_name: r.get(1)?, role: r.get(2)? }, r.get(3)?))
        },
    )
    .optional()
}

pub fn staff_by_id(conn: &dyn Query, id: Uuid) -> sql::Result<Option<StaffActor>> {
    conn.query_row("SELECT id, display_name, role FROM staff WHERE id = ?1", [id.to_string()], |r| {
        Ok(StaffActor { id: uuid_col(r.get(0)?)?, display_name: r.get(1)?, role: r.get(2)? })
    })
    .optional()
}

pub fn staff_has_dossier(conn: &dyn Query, staff_id: Uuid, dossier_id: Uuid) -> sql::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM staff_dossiers WHERE staff_id = ?1 AND dossier_id = ?2)",
        params![staff_id.to_string(), dossier_id.to_string()],
        |r| r.get(0),
    )
}

/// One NEN 7513 audit line, as a handler describes the access.
pub struct AuditRecord<'a> {
    pub dossier_id: Uuid,
    pub actor: &'a StaffActor,
    pub action: AuditAction,
    pub object_type: &'a str,
    pub object_id: Option<Uuid>,
    pub purpose: Purpose,
    pub purpose_note: Option<&'a str>,
    /// The peer address: kept on the server, not part of what families see.
    pub origin: &'a str,
    pub at: DateTime<Utc>,
}

/// The application every staff access comes through today.
pub const APPLICATION: &str = "staff-api";

const AUDIT_COLUMNS: &str =
    "a.event_id, a.dossier_id, a.position, a.actor_staff_id, a.actor_name, a.actor_role,
     a.action, a.object_type, a.object_id, a.purpose, a.purpose_note, a.at, a.application, a.hash";

fn bad_value(what: &str) -> sql::Error {
    sql::Error::BadValue(0, format!("unknown {what} in the audit log"))
}

/// A stored line and the hash stored beside it (which [`verify_chains`] checks).
fn audit_row(r: &sql::Row) -> sql::Result<(AuditEvent, Option<String>)> {
    let action: String = r.get(6)?;
    let purpose: String = r.get(9)?;
    let object_id: Option<String> = r.get(8)?;
    Ok((
        AuditEvent {
            id: uuid_col(r.get(0)?)?,
            dossier_id: uuid_col(r.get(1)?)?,
            position: r.get(2)?,
            actor_id: uuid_col(r.get(3)?)?,
            actor_name: r.get(4)?,
            actor_role: r.get(5)?,
            action: AuditAction::parse(&action).ok_or_else(|| bad_value("action"))?,
            object_type: r.get(7)?,
            object_id: object_id.map(uuid_col).transpose()?,
            purpose: Purpose::parse(&purpose).ok_or_else(|| bad_value("purpose"))?,
            purpose_note: r.get(10)?,
            at: r.get(11)?,
            origin: r.get(12)?,
        },
        r.get(13)?,
    ))
}

/// The stored hash of the line before `position` (the genesis for the first line).
fn chain_tail(tx: &Tx<'_>, dossier_id: Uuid, position: u32) -> sql::Result<chain::Hash> {
    let stored: Option<String> = tx
        .query_row(
            "SELECT hash FROM audit_events WHERE dossier_id = ?1 AND position = ?2",
            params![dossier_id.to_string(), position.saturating_sub(1)],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    Ok(stored.as_deref().and_then(chain::unhex).unwrap_or(chain::GENESIS))
}

/// Appends a line to the dossier's chain, in the caller's transaction.
pub fn append_audit(tx: &Tx<'_>, r: &AuditRecord<'_>) -> sql::Result<AuditEvent> {
    let last: u32 = tx.query_row(
        "SELECT COALESCE(MAX(position), 0) FROM audit_events WHERE dossier_id = ?1",
        [r.dossier_id.to_string()],
        |row| row.get(0),
    )?;
    let event = AuditEvent {
        id: Uuid::new_v4(),
        dossier_id: r.dossier_id,
        position: last + 1,
        actor_id: r.actor.id,
        actor_name: r.actor.display_name.clone(),
        actor_role: r.actor.role.clone(),
        action: r.action,
        object_type: r.object_type.to_owned(),
        object_id: r.object_id,
        purpose: r.purpose,
        purpose_note: r.purpose_note.map(str::to_owned),
        // Stores keep microseconds; the chain covers exactly what is stored.
        at: r.at.trunc_subsecs(6),
        origin: APPLICATION.to_owned(),
    };
    let hash = chain::link(&chain_tail(tx, r.dossier_id, event.position)?, &event);
    tx.execute(
        "INSERT INTO audit_events (event_id, dossier_id, position, actor_staff_id, actor_name, actor_role, action,
             object_type, object_id, purpose, purpose_note, at, application, hash, origin)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        params![
            event.id.to_string(),
            event.dossier_id.to_string(),
            event.position,
            event.actor_id.to_string(),
            event.actor_name,
            event.actor_role,
            event.action.as_str(),
            event.object_type,
            event.object_id.map(|u| u.to_string()),
            event.purpose.as_str(),
            event.purpose_note,
            event.at,
            event.origin,
            chain::hex(&hash),
            r.origin
        ],
    )?;
    Ok(event)
}

/// A dossier's log as stored, in chain order, with the stored hashes.
pub fn audit_log(conn: &dyn Query, dossier_id: Uuid) -> sql::Result<Vec<(AuditEvent, Option<String>)>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {AUDIT_COLUMNS} FROM audit_events a WHERE a.dossier_id = ?1 ORDER BY a.position, a.id"
    ))?;
    let rows = stmt.query_map([dossier_id.to_string()], audit_row)?;
    rows.collect()
}

/// (action, object type, purpose) of a dossier's audit events, oldest first. For tests.
pub fn audit_actions(conn: &dyn Query, dossier_id: Uuid) -> sql::Result<Vec<(String, String, String)>> {
    let mut stmt = conn
        .prepare("SELECT action, object_type, purpose FROM audit_events WHERE dossier_id = ?1 ORDER BY id")?;
    let rows = stmt.query_map([dossier_id.to_string()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    rows.collect()
}

/// What a check of one dossier's chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainReport {
    Intact {
        dossier_id: Uuid,
        size: u32,
    },
    /// The first line at which the chain no longer holds, and why.
    Broken {
        dossier_id: Uuid,
        position: u32,
        reason: &'static str,
    },
}

/// Recomputes every dossier's chain from the stored lines and compares it with the stored
/// hashes: a deleted line leaves a gap, an altered one a hash that no longer matches, a moved
/// one both.
pub fn verify_chains(conn: &dyn Query) -> sql::Result<Vec<ChainReport>> {
    let dossiers: Vec<String> = {
        let mut stmt = conn.prepare("SELECT id FROM dossiers ORDER BY family_name, id")?;
        let rows = stmt.query_map(params![], |r| r.get(0))?;
        rows.collect::<sql::Result<_>>()?
    };
    let mut out = Vec::new();
    for d in dossiers {
        let dossier_id = uuid_col(d)?;
        let mut head = chain::GENESIS;
        let mut size = 0u32;
        let mut broken = None;
        for (event, stored) in audit_log(conn, dossier_id)? {
            if event.position != size + 1 {
                broken = Some((size + 1, "line missing or out of order"));
                break;
            }
            head = chain::link(&head, &event);
            size = event.position;
            if stored.as_deref().and_then(chain::unhex) != Some(head) {
                broken = Some((event.position, "line changed after it was written"));
                break;
            }
        }
        out.push(match broken {
            Some((position, reason)) => ChainReport::Broken { dossier_id, position, reason },
            None => ChainReport::Intact { dossier_id, size },
        });
    }
    Ok(out)
}

/// The staff member's purpose for the dossier, if stated and not yet expired.
pub fn active_purpose(
    tx: &Tx<'_>,
    staff_id: Uuid,
    dossier_id: Uuid,
    now: DateTime<Utc>,
) -> sql::Result<Option<(Purpose, Option<String>)>> {
    let row: Option<(String, Option<String>, DateTime<Utc>)> = tx
        .query_row(
            "SELECT purpose, note, expires_at FROM purpose_sessions WHERE staff_id = ?1 AND dossier_id = ?2",
            params![staff_id.to_string(), dossier_id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    Ok(row
        .filter(|(_, _, expires)| *expires > now)
        .and_then(|(p, note, _)| Purpose::parse(&p).map(|p| (p, note))))
}

pub fn open_purpose(
    conn: &dyn Query,
    staff_id: Uuid,
    dossier_id: Uuid,
    purpose: Purpose,
    note: Option<&str>,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> sql::Result<()> {
    conn.execute(
        "INSERT INTO purpose_sessions (staff_id, dossier_id, purpose, note, opened_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (staff_id, dossier_id) DO UPDATE SET purpose = excluded.purpose, note = excluded.note,
             opened_at = excluded.opened_at, expires_at = excluded.expires_at",
        params![staff_id.to_string(), dossier_id.to_string(), purpose.as_str(), note, now, expires_at],
    )?;
    Ok(())
}

pub struct AlertRecord<'a> {
    pub subject: &'a DeviceSubject,
    pub alert: &'a cjg_core::audit::AuditAlert,
    pub at: DateTime<Utc>,
}

pub fn record_audit_alert(conn: &dyn Query, a: &AlertRecord<'_>) -> sql::Result<()> {
    conn.execute(
        "INSERT INTO audit_alerts (dossier_id, person_id, device_id, verified_size, verified_head,
             received_size, received_head, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            a.subject.dossier_id.to_string(),
            a.subject.person_id.to_string(),
            a.subject.device_id.to_string(),
            a.alert.verified_size,
            a.alert.verified_head,
            a.alert.received_size,
            a.alert.received_head,
            a.at
        ],
    )?;
    Ok(())
}

// ---- entries --------------------------------------------------------------------------

const ENTRY_COLUMNS: &str = "e.id, e.dossier_id, e.child_id, e.kind, e.title, e.body, s.display_name, s.role,
     e.occurred_on, e.version, e.updated_at, e.deleted, e.seq, e.visibility";

struct EntryRow {
    entry: Entry,
    deleted: bool,
}

fn entry_row(r: &sql::Row) -> sql::Result<EntryRow> {
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

fn check_child(tx: &Tx<'_>, dossier_id: Uuid, child_id: Option<Uuid>) -> AppResult<()> {
    if let Some(child) = child_id {
        let ok =
            person(tx, child)?.is_some_and(|p| p.dossier_id == dossier_id && p.role == PersonRole::Child);
        if !ok {
            return Err(AppError::new(ErrorCode::Validation, "child_id is not a child in this dossier"));
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
) -> AppResult<Entry> {
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
    load_entry(tx, id)?.map(|r| r.entry).ok_or_else(|| AppError::internal("entry vanished after insert"))
}

/// The dossier an entry belongs to, if it exists and is not deleted.
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
) -> AppResult<Entry> {
    let current = load_entry(tx, id)?.filter(|r| !r.deleted).ok_or_else(AppError::not_found)?;
    if current.entry.version != expected_version {
        return Err(AppError::new(
            ErrorCode::Conflict,
            format!(
                "the entry is at version {}; reload it and apply your change again",
                current.entry.version
            ),
        ));
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
    load_entry(tx, id)?.map(|r| r.entry).ok_or_else(|| AppError::internal("entry vanished after update"))
}

/// Deletion keeps a tombstone (no text) so every device learns of it through the feed.
pub fn delete_entry(tx: &Tx<'_>, id: Uuid, now: DateTime<Utc>) -> AppResult<()> {
    let seq = next_seq(tx)?;
    let n = tx.execute(
        "UPDATE entries SET deleted = 1, title = '', body = '', version = version + 1, updated_at = ?2, seq = ?3
         WHERE id = ?1 AND deleted = 0",
        params![id.to_string(), now, seq],
    )?;
    if n == 0 {
        return Err(AppError::not_found());
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

// ---- feedback -------------------------------------------------------------------------

const FEEDBACK_COLUMNS: &str =
    "f.id, f.entry_id, f.dossier_id, f.author_person_id, p.display_name, f.kind, f.text,
     f.created_at, f.status, f.answer, f.answered_by, f.answered_at, f.version, f.seq";

fn feedback_row(r: &sql::Row) -> sql::Result<(Feedback, i64)> {
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

pub fn dossier_feedback(conn: &dyn Query, dossier_id: Uuid) -> sql::Result<Vec<Feedback>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {FEEDBACK_COLUMNS} FROM feedback f JOIN people p ON p.id = f.author_person_id
         WHERE f.dossier_id = ?1 ORDER BY f.created_at, f.id"
    ))?;
    let rows = stmt.query_map([dossier_id.to_string()], |r| feedback_row(r).map(|(f, _)| f))?;
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
    refresh_access(tx, who.person_id, who.dossier_id, today)?;
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
) -> AppResult<Feedback> {
    let seq = next_seq(tx)?;
    let answer_text = (!answer.answer.is_empty()).then_some(answer.answer.as_str());
    tx.execute(
        "UPDATE feedback SET status = ?2, answer = ?3, answered_by = ?4, answered_at = ?5, version = version + 1,
             seq = ?6 WHERE id = ?1",
        params![id.to_string(), answer.status.as_str(), answer_text, actor.display_name, now, seq],
    )?;
    feedback(tx, id)?.ok_or_else(AppError::not_found)
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
) -> AppResult<FeedbackRequest> {
    let today = cjg_core::time::dutch_date(now);
    let dossier_id = entry_dossier(tx, entry_id)?.ok_or_else(AppError::not_found)?;
    if !dossier_people(tx, dossier_id)?.iter().any(|p| p.id == draft.person_id) {
        return Err(AppError::not_found());
    }
    refresh_access(tx, draft.person_id, dossier_id, today)?;
    let visible: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM entry_access WHERE person_id = ?1 AND entry_id = ?2 AND visible = 1)",
        params![draft.person_id.to_string(), entry_id.to_string()],
        |r| r.get(0),
    )?;
    if !visible {
        return Err(AppError::new(ErrorCode::Validation, "this person cannot see this entry"));
    }
    let due_on = match draft.due_on {
        Some(d) if d < today => return Err(AppError::new(ErrorCode::Validation, "due_on lies in the past")),
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
            return Err(AppError::new(ErrorCode::Conflict, "this person was already asked about this entry"))
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
    feedback_request(tx, id)?.ok_or_else(AppError::not_found)
}

fn requests_since(
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

// ---- sync -----------------------------------------------------------------------------

/// Brings the person's access ledger up to date with the policy on `today`: every entry whose
/// answer changed gets a new seq, so it (or its tombstone) is in the next page. Entries this
/// person never saw and may not see leave no trace in their ledger.
fn refresh_access(tx: &Tx<'_>, person_id: Uuid, dossier_id: Uuid, today: NaiveDate) -> sql::Result<()> {
    let members: Vec<Member> = dossier_people(tx, dossier_id)?.iter().map(member_of).collect();
    let family = Family { members: &members, regime: regime(tx, dossier_id)?, today };
    let mut stmt = tx.prepare(&format!(
        "SELECT e.id, e.child_id, e.visibility, e.deleted, a.visible
         FROM entries e {}
         LEFT JOIN entry_access a ON a.entry_id = e.id AND a.person_id = ?2
         WHERE e.dossier_id = ?1",
        indexed_by(tx, "entries_access_scan")
    ))?;
    let rows = stmt.query_map(params![dossier_id.to_string(), person_id.to_string()], |r| {
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
    store_access(tx, person_id, &changed)
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
    let mut seq = next_seqs(tx, changed.len())?;
    let person = sql::Value::Text(person_id.to_string());
    let mut rest = changed;
    for size in GROUPS {
        let statement = access_insert(size);
        while rest.len() >= size {
            let (group, tail) = rest.split_at(size);
            let mut values = Vec::with_capacity(size * 4);
            for (entry_id, visible) in group {
                values.extend([
                    person.clone(),
                    entry_id.to_string().to_value(),
                    visible.to_value(),
                    seq.to_value(),
                ]);
                seq += 1;
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
/// The policy is applied on `today` before the page is read, in the same transaction.
pub fn sync_page(
    tx: &Tx<'_>,
    person_id: Uuid,
    dossier_id: Uuid,
    cursor: i64,
    limit: usize,
    today: NaiveDate,
) -> sql::Result<SyncPage> {
    refresh_access(tx, person_id, dossier_id, today)?;
    let fetch = i64::try_from(limit + 1).unwrap_or(i64::MAX);
    let mut items: Vec<SyncItem> = Vec::new();
    {
        // A visible entry travels when it or its access changed; a hidden one only as the
        // tombstone of the moment access ended.
        // The page is chosen on small columns first (covering indexes), and only its rows are
        // read whole: sorting every row with its body made each page cost O(dossier bytes).
        let mut stmt = tx.prepare(&format!(
            "WITH page AS MATERIALIZED (
                 SELECT a.entry_id, a.visible,
                        CASE WHEN a.visible = 1 AND k.seq > a.seq THEN k.seq ELSE a.seq END AS item_seq
                 FROM entry_access a
                 JOIN entries k {} ON k.id = a.entry_id
                 WHERE a.person_id = ?1 AND (a.seq > ?2 OR (a.visible = 1 AND k.seq > ?2))
                 ORDER BY item_seq LIMIT ?3)
             SELECT {ENTRY_COLUMNS}, page.visible, page.item_seq
             FROM page
             JOIN entries e ON e.id = page.entry_id
             JOIN staff s ON s.id = e.author_staff_id
             ORDER BY page.item_seq",
            indexed_by(tx, "entries_id_seq")
        ))?;
        let rows = stmt.query_map(params![person_id.to_string(), cursor, fetch], |r| {
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
    let has_more = items.len() > limit;
    items.truncate(limit);
    let next_cursor = items.last().map_or(cursor, |i| i.cursor);
    Ok(SyncPage { items, next_cursor, has_more, audit: None })
}

// ---- enrolment and tokens -------------------------------------------------------------

pub fn insert_activation_code(
    tx: &Tx<'_>,
    code_hash: &[u8; 32],
    person_id: Uuid,
    created_by: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> sql::Result<()> {
    tx.execute(
        "INSERT INTO activation_codes (code_hash, person_id, created_by, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![code_hash.as_slice(), person_id.to_string(), created_by, now, expires_at],
    )?;
    Ok(())
}

/// Checks a code and, if good, marks it used in the same transaction.
pub fn consume_activation_code(
    tx: &Tx<'_>,
    code_hash: &[u8; 32],
    now: DateTime<Utc>,
) -> sql::Result<CodeCheck> {
    let row: Option<(String, DateTime<Utc>, Option<DateTime<Utc>>)> = tx
        .query_row(
            "SELECT person_id, expires_at, used_at FROM activation_codes WHERE code_hash = ?1",
            [code_hash.as_slice()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((person, expires_at, used_at)) = row else { return Ok(CodeCheck::Invalid) };
    if used_at.is_some() {
        return Ok(CodeCheck::Used);
    }
    if expires_at <= now {
        return Ok(CodeCheck::Expired);
    }
    tx.execute(
        "UPDATE activation_codes SET used_at = ?2 WHERE code_hash = ?1",
        params![code_hash.as_slice(), now],
    )?;
    Ok(CodeCheck::Ok(uuid_col(person)?))
}

pub fn insert_device(
    tx: &Tx<'_>,
    person_id: Uuid,
    public_key: &[u8],
    name: &str,
    now: DateTime<Utc>,
) -> sql::Result<Uuid> {
    let id = Uuid::new_v4();
    tx.execute(
        "INSERT INTO devices (id, person_id, public_key, name, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id.to_string(), person_id.to_string(), public_key, name, now],
    )?;
    Ok(id)
}

pub fn person_name(conn: &dyn Query, person_id: Uuid) -> sql::Result<String> {
    conn.query_row("SELECT display_name FROM people WHERE id = ?1", [person_id.to_string()], |r| r.get(0))
}

/// (public key, revoked) of a device.
pub fn device_key(conn: &dyn Query, device_id: Uuid) -> sql::Result<Option<(Vec<u8>, bool)>> {
    conn.query_row(
        "SELECT public_key, revoked_at IS NOT NULL FROM devices WHERE id = ?1",
        [device_id.to_string()],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

pub fn insert_challenge(
    tx: &Tx<'_>,
    challenge: &str,
    device_id: Uuid,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> sql::Result<()> {
    tx.execute("DELETE FROM challenges WHERE expires_at <= ?1", [now])?;
    tx.execute(
        "INSERT INTO challenges (challenge, device_id, expires_at) VALUES (?1, ?2, ?3)",
        params![challenge, device_id.to_string(), expires_at],
    )?;
    Ok(())
}

/// Removes the challenge (single use) and says whether it was valid for this device.
pub fn take_challenge(
    tx: &Tx<'_>,
    challenge: &str,
    device_id: Uuid,
    now: DateTime<Utc>,
) -> sql::Result<bool> {
    let n = tx.execute(
        "DELETE FROM challenges WHERE challenge = ?1 AND device_id = ?2 AND expires_at > ?3",
        params![challenge, device_id.to_string(), now],
    )?;
    Ok(n == 1)
}

pub fn insert_token(
    tx: &Tx<'_>,
    token_hash: &[u8; 32],
    subject_kind: &str,
    subject_id: Uuid,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> sql::Result<()> {
    tx.execute("DELETE FROM tokens WHERE expires_at <= ?1", [now])?;
    tx.execute(
        "INSERT INTO tokens (token_hash, subject_kind, subject_id, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![token_hash.as_slice(), subject_kind, subject_id.to_string(), expires_at],
    )?;
    Ok(())
}

/// The subject of a live token of the given kind.
pub fn token_subject(
    conn: &dyn Query,
    token_hash: &[u8; 32],
    subject_kind: &str,
    now: DateTime<Utc>,
) -> sql::Result<Option<Uuid>> {
    conn.query_row(
        "SELECT subject_id FROM tokens WHERE token_hash = ?1 AND subject_kind = ?2 AND expires_at > ?3",
        params![token_hash.as_slice(), subject_kind, now],
        |r| uuid_col(r.get(0)?),
    )
    .optional()
}

/// The device's person and dossier, whether it is revoked, and whether its last contact is
/// more than a minute old (so `touch_device` has something to write).
pub fn device_subject(
    conn: &dyn Query,
    device_id: Uuid,
    now: DateTime<Utc>,
) -> sql::Result<Option<(DeviceSubject, bool, bool)>> {
    conn.query_row(
        "SELECT d.person_id, p.dossier_id, d.revoked_at IS NOT NULL,
                d.last_seen_at IS NULL OR d.last_seen_at < ?2
         FROM devices d JOIN people p ON p.id = d.person_id
         WHERE d.id = ?1",
        params![device_id.to_string(), now - chrono::Duration::minutes(1)],
        |r| {
            let subject = DeviceSubject {
                device_id,
                person_id: uuid_col(r.get(0)?)?,
                dossier_id: uuid_col(r.get(1)?)?,
            };
            Ok((subject, r.get(2)?, r.get(3)?))
        },
    )
    .optional()
}

/// Marks the device as seen now, at most once a minute: "last seen" is for the person's list of
/// devices, and a write on every request would make every sync a write.
pub fn touch_device(conn: &dyn Query, device_id: Uuid, now: DateTime<Utc>) -> sql::Result<()> {
    conn.execute(
        "UPDATE devices SET last_seen_at = ?2 WHERE id = ?1 AND (last_seen_at IS NULL OR last_seen_at < ?3)",
        params![device_id.to_string(), now, now - chrono::Duration::minutes(1)],
    )?;
    Ok(())
}

pub fn person_devices(conn: &dyn Query, person_id: Uuid) -> sql::Result<Vec<DeviceInfo>> {
    let mut stmt = conn.prepare(
        "SELECT id, name, created_at, last_seen_at, revoked_at FROM devices WHERE person_id = ?1
         ORDER BY created_at",
    )?;
    let rows = stmt.query_map([person_id.to_string()], |r| {
        Ok(DeviceInfo {
            id: uuid_col(r.get(0)?)?,
            name: r.get(1)?,
            created_at: r.get(2)?,
            last_seen_at: r.get(3)?,
            revoked_at: r.get(4)?,
        })
    })?;
    rows.collect()
}

/// The person a device belongs to.
pub fn device_owner(conn: &dyn Query, device_id: Uuid) -> sql::Result<Option<Uuid>> {
    conn.query_row("SELECT person_id FROM devices WHERE id = ?1", [device_id.to_string()], |r| {
        uuid_col(r.get(0)?)
    })
    .optional()
}

/// Revokes a device and ends its tokens at once. Revoking twice is not an error.
pub fn revoke_device(tx: &Tx<'_>, device_id: Uuid, revoked_by: &str, now: DateTime<Utc>) -> sql::Result<()> {
    tx.execute(
        "UPDATE devices SET revoked_at = ?2, revoked_by = ?3 WHERE id = ?1 AND revoked_at IS NULL",
        params![device_id.to_string(), now, revoked_by],
    )?;
    tx.execute(
        "DELETE FROM tokens WHERE subject_kind = 'device' AND subject_id = ?1",
        [device_id.to_string()],
    )?;
    Ok(())
}

pub struct DeniedRequest<'a> {
    pub method: &'a str,
    pub route: &'a str,
    pub status: u16,
    pub subject: Option<(&'static str, Uuid)>,
    pub origin: &'a str,
    pub at: DateTime<Utc>,
}

pub fn record_denied(conn: &dyn Query, d: &DeniedRequest<'_>) -> sql::Result<()> {
    conn.execute(
        "INSERT INTO denied_requests (at, method, route, status, subject_kind, subject_id, origin)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            d.at,
            d.method,
            d.route,
            d.status,
            d.subject.map(|s| s.0),
            d.subject.map(|s| s.1.to_string()),
            d.origin
        ],
    )?;
    Ok(())
}

/// The subject of a token of any kind, live or not: for the log of refused requests.
pub fn token_owner(conn: &dyn Query, token_hash: &[u8; 32]) -> sql::Result<Option<(String, Uuid)>> {
    conn.query_row(
        "SELECT subject_kind, subject_id FROM tokens WHERE token_hash = ?1",
        [token_hash.as_slice()],
        |r| Ok((r.get(0)?, uuid_col(r.get(1)?)?)),
    )
    .optional()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
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
        Migrations::new(vec![M::up(include_str!("../migrations/20261122_0001_initial.sql"))])
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
        Migrations::new(vec![M::up(include_str!("../migrations/20261122_0001_initial.sql"))])
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
            role: "coach".into(),
        };
        let tx = conn.transaction().unwrap();
        let e = append_audit(
            &tx,
            &AuditRecord {
                dossier_id,
                actor: &actor,
                action: AuditAction::Read,
                object_type: "entry",
                object_id: None,
                purpose: Purpose::Overleg,
                purpose_note: Some("voor het overleg van donderdag"),
                origin: "127.0.0.1",
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
