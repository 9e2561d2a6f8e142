//! The server's storage, one module per feature. Handlers never write SQL: they call the
//! functions of these modules, which are written once against [`sql::Query`] and run on either
//! backend: the embedded SQLite file (one writer connection, as SQLite has one writer, and a
//! few read-only connections beside it) or a pool of PostgreSQL connections.
//!
//! Every write runs in one transaction through [`Db::write`] (ordering the whole region) or
//! [`Db::write_in`] (ordering one dossier); sequence numbers are drawn inside it, so within a
//! family's feed they follow the commits (see [`sql`]).

use std::path::Path;
use std::sync::{Arc, Mutex};

use uuid::Uuid;

use crate::error::{AppError, AppResult};

pub mod articles;
pub mod attempts;
pub mod audit;
pub mod devices;
pub mod entries;
pub mod feedback;
pub mod fhir;
pub mod messages;
mod migrate;
pub use migrate::SQLITE_SCHEMA_VERSION;
pub mod oidc;
pub mod people;
pub mod questionnaires;
pub mod reports;
pub mod retention;
pub mod sql;
pub mod staff;
pub mod sync;
pub mod usage;

use sql::{params, Conn, Query, QueryExt, Tx};

/// The server's storage: the embedded SQLite file (one writer connection, as SQLite has one
/// writer, and a few read-only connections for read transactions, which WAL lets run beside
/// it) or a pool of PostgreSQL connections shared with any other instance on the same database.
#[derive(Clone)]
pub struct Db {
    backend: Backend,
    /// Where committed changes wake open apps (see [`crate::push`]).
    pub signals: Arc<crate::push::Signals>,
    /// For the connection that listens to other instances' changes.
    pg_config: Option<postgres::Config>,
    /// How long each piece of work took, waiting for a connection included (`/metrics`).
    pub db_seconds: prometheus_client::metrics::histogram::Histogram,
}

/// Most open push connections one instance keeps (each costs a few kilobytes).
const MAX_PUSH_CONNECTIONS: usize = 20_000;

thread_local! {
    /// Who the transaction running on this thread wakes once it commits (SQLite; PostgreSQL
    /// queues its `NOTIFY` in the transaction itself).
    static WAKE_AFTER_COMMIT: std::cell::RefCell<Vec<crate::push::Wake>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Marks `wake` to be signalled when the transaction commits; a rollback signals nothing.
pub fn wake(tx: &Tx<'_>, wake: crate::push::Wake) -> sql::Result<()> {
    match tx.dialect() {
        sql::Dialect::Sqlite => {
            WAKE_AFTER_COMMIT.with(|w| w.borrow_mut().push(wake));
            Ok(())
        }
        sql::Dialect::Postgres => {
            // pg_notify returns `void`, which the row reader has no type for: count it instead.
            tx.query_row(
                "SELECT COUNT(*) FROM (SELECT pg_notify('cjg_changes', ?1)) AS sent",
                [wake.payload()],
                |r| r.get::<i64>(0).map(drop),
            )
        }
    }
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

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot open the database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot migrate the database: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("cannot use the database: {0}")]
    Sql(#[from] sql::Error),
    #[error("the database is newer than this program (schema {found}, this program knows up to {known}): update the server first")]
    TooNew { found: i64, known: i64 },
    #[error("the database URL is not a PostgreSQL URL (postgres://user:password@host/name): {0}")]
    Url(postgres::Error),
}

/// What the storage functions refuse or fail with. It names the kind of refusal, not an HTTP
/// status: `crate::error` maps it to the API's error in one place.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// The request breaks a rule of the data (a child that is not in the dossier, a date in
    /// the past, answers that do not fit the questionnaire).
    #[error("{0}")]
    Invalid(String),
    /// The data changed, or already holds what the request would add.
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    AlreadyAnswered(String),
    /// Answers to a version of a questionnaire that no longer takes them.
    #[error("{0}")]
    Outdated(String),
    /// A rule of `cjg_core` refuses who asks (an author approving their own text).
    #[error(transparent)]
    Approval(#[from] cjg_core::staff::ApprovalRefused),
    #[error(transparent)]
    Sql(#[from] sql::Error),
    #[error("{0}")]
    Internal(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid(message.into())
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict(message.into())
    }

    pub fn already_answered(message: impl Into<String>) -> Self {
        Self::AlreadyAnswered(message.into())
    }

    pub fn outdated(message: impl Into<String>) -> Self {
        Self::Outdated(message.into())
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }
}

/// Which rows of an ordered list one answer holds (`LIMIT`/`OFFSET`).
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub offset: i64,
    pub limit: i64,
}

impl Window {
    pub const ALL: Window = Window { offset: 0, limit: i64::MAX };

    /// The rows of `page`, and one more, which tells whether another page follows.
    pub fn peeking(page: cjg_core::api::ListPage) -> Self {
        Window { offset: i64::from(page.offset), limit: i64::from(page.limit()) + 1 }
    }
}

/// Who did something, for the audit log.
#[derive(Debug, Clone)]
pub struct StaffActor {
    pub id: Uuid,
    pub display_name: String,
    pub role: cjg_core::staff::StaffRole,
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
        let conn = migrate::migrate(raw)?;
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
            signals: crate::push::Signals::new(MAX_PUSH_CONNECTIONS),
            pg_config: None,
            db_seconds: crate::metrics::db_histogram(),
        })
    }

    /// Connects to PostgreSQL (`postgres://user:password@host:port/name`) with a pool of
    /// `pool_size` connections, and brings the schema up to date.
    pub fn open_postgres(url: &str, pool_size: u32) -> Result<Self, OpenError> {
        let config: postgres::Config = url.parse().map_err(OpenError::Url)?;
        let pg_config = Some(config.clone());
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
                migrate::migrate_postgres(&mut *p.get().map_err(sql::Error::from)?)?;
                let conn = p.get().map_err(sql::Error::from)?;
                migrate::backfill_audit_views(&mut Conn::Postgres(std::cell::RefCell::new(conn)))?;
            }
            Ok::<_, OpenError>(pool)
        })
        .join()
        .map_err(|_| OpenError::Sql(sql::Error::BadValue(0, "the database thread stopped".into())))??;
        Ok(Self {
            backend: Backend::Postgres(Arc::new(pool)),
            signals: crate::push::Signals::new(MAX_PUSH_CONNECTIONS),
            pg_config,
            db_seconds: crate::metrics::db_histogram(),
        })
    }

    /// On PostgreSQL: listens for the changes every instance commits (`NOTIFY cjg_changes`) and
    /// passes them to this instance's open apps, on a thread of its own until the server stops.
    /// After a lost connection it connects again and wakes everyone once, as signals sent
    /// meanwhile are gone (the apps' cursors decide what they fetch, so waking too many is
    /// only a sync that finds nothing).
    pub fn listen_for_changes(&self) {
        let Some(config) = self.pg_config.clone() else { return };
        let signals = self.signals.clone();
        std::thread::spawn(move || {
            let mut wait = std::time::Duration::from_millis(100);
            let mut first = true;
            while !signals.is_closing() {
                let listened = (|| -> Result<(), String> {
                    use postgres::fallible_iterator::FallibleIterator;
                    let mut client = config.connect(postgres::NoTls).map_err(|e| e.to_string())?;
                    client.batch_execute("LISTEN cjg_changes").map_err(|e| e.to_string())?;
                    if !std::mem::take(&mut first) {
                        signals.wake(crate::push::Wake::Everyone);
                    }
                    wait = std::time::Duration::from_millis(100);
                    let mut quiet_seconds = 0u32;
                    while !signals.is_closing() {
                        // A connection that died without a word only shows when used: ask
                        // something every half minute, so signals do not stop unnoticed.
                        quiet_seconds += 1;
                        if quiet_seconds >= 30 {
                            quiet_seconds = 0;
                            client.simple_query("SELECT 1").map_err(|e| e.to_string())?;
                        }
                        {
                            let mut notifications = client.notifications();
                            let mut waiting = notifications.timeout_iter(std::time::Duration::from_secs(1));
                            while let Some(n) = waiting.next().map_err(|e| e.to_string())? {
                                if let Some(w) = crate::push::Wake::from_payload(n.payload()) {
                                    signals.wake(w);
                                }
                            }
                        }
                        if client.is_closed() {
                            return Err("the connection closed".into());
                        }
                    }
                    Ok(())
                })();
                if let Err(e) = listened {
                    tracing::warn!(error = %e, "listening for changes on PostgreSQL failed; trying again");
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(std::time::Duration::from_secs(10));
                }
            }
        });
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
        let (backend, signals, timing) =
            (self.backend.clone(), self.signals.clone(), self.db_seconds.clone());
        tokio::task::spawn_blocking(move || {
            let started = std::time::Instant::now();
            // In a closure, so work that never got its connection (a pool timeout) is timed too.
            let out = (|| match backend {
                Backend::Sqlite { writer, .. } => {
                    let mut guard =
                        writer.lock().map_err(|_| AppError::internal("database mutex poisoned"))?;
                    WAKE_AFTER_COMMIT.with(|w| w.borrow_mut().clear());
                    let out = f(&mut guard);
                    drop(guard);
                    // `Ok` means the work committed (a closure that rolls back returns its error).
                    let woken = WAKE_AFTER_COMMIT.with(|w| std::mem::take(&mut *w.borrow_mut()));
                    if out.is_ok() {
                        for w in woken {
                            signals.wake(w);
                        }
                    }
                    out
                }
                Backend::Postgres(pool) => {
                    let pool = pool.0.as_ref().ok_or_else(|| AppError::internal("database pool closed"))?;
                    let pooled = pool.get().map_err(AppError::internal)?;
                    f(&mut Conn::Postgres(std::cell::RefCell::new(pooled)))
                }
            })();
            timing.observe(started.elapsed().as_secs_f64());
            out
        })
        .await
        .map_err(AppError::internal)?
    }

    /// Runs `f` in one write transaction: committed when `f` returns `Ok`, rolled back when it
    /// returns an error (nothing half-written stays behind).
    pub async fn write<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Tx<'_>) -> AppResult<T> + Send + 'static,
    {
        self.call(move |c| {
            let tx = c.transaction()?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        })
        .await
    }

    /// Like [`Db::write`], for work on one dossier only: on PostgreSQL it runs beside writes to
    /// other dossiers (a coach's entry, a parent's answer, a sync's access decisions).
    pub async fn write_in<T, F>(&self, dossier: Uuid, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Tx<'_>) -> AppResult<T> + Send + 'static,
    {
        self.call(move |c| {
            let tx = c.transaction_for(sql::Order::Dossier(dossier))?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        })
        .await
    }

    /// Like [`Db::write`], for counters and one-time marks that need no order (see
    /// [`sql::Order::Unordered`]): sign-in attempts, a device's token.
    pub async fn write_unordered<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Tx<'_>) -> AppResult<T> + Send + 'static,
    {
        self.call(move |c| {
            let tx = c.transaction_for(sql::Order::Unordered)?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        })
        .await
    }

    /// Like [`Db::call`], for work that only reads (in a read transaction): on SQLite it runs on
    /// a read-only connection beside the writer.
    pub async fn call_read<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Conn) -> AppResult<T> + Send + 'static,
    {
        let Backend::Sqlite { readers, .. } = &self.backend else { return self.call(f).await };
        let (readers, timing) = (readers.clone(), self.db_seconds.clone());
        tokio::task::spawn_blocking(move || {
            let started = std::time::Instant::now();
            let n = readers.conns.len();
            let start = readers.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            // A free reader if there is one, else wait for the next in turn.
            let mut guard = (0..n)
                .find_map(|i| readers.conns[(start + i) % n].try_lock().ok())
                .map_or_else(|| readers.conns[start % n].lock(), Ok)
                .map_err(|_| AppError::internal("database mutex poisoned"))?;
            let out = f(&mut guard);
            timing.observe(started.elapsed().as_secs_f64());
            out
        })
        .await
        .map_err(AppError::internal)?
    }
}

fn next_seq(tx: &Tx<'_>) -> sql::Result<i64> {
    next_seqs(tx, 1)?.pop().ok_or(sql::Error::NoRows)
}

/// Hands out `n` increasing sequence numbers. On SQLite they are consecutive; on PostgreSQL
/// they come from a sequence that writers to other dossiers draw from at the same time.
fn next_seqs(tx: &Tx<'_>, n: usize) -> sql::Result<Vec<i64>> {
    match tx.access() {
        // `nextval` is a SELECT, which the read guard lets through.
        sql::Access::Read => return Err(sql::Error::NeedsWrite),
        sql::Access::Write(sql::Order::Unordered) => return Err(sql::Error::OutsideOrder),
        sql::Access::Write(_) => {}
    }
    let count = i64::try_from(n).map_err(|_| sql::Error::BadValue(0, format!("{n} sequence numbers")))?;
    match tx.dialect() {
        sql::Dialect::Sqlite => {
            let last: i64 = tx.query_row(
                "UPDATE seq_counter SET value = value + ?1 WHERE id = 1 RETURNING value",
                params![count],
                |r| r.get(0),
            )?;
            Ok((last - count + 1..=last).collect())
        }
        sql::Dialect::Postgres => tx.query_map(
            "SELECT nextval('change_seq') AS seq FROM generate_series(1, ?1) ORDER BY seq",
            params![count],
            |r| r.get(0),
        ),
    }
}

fn uuid_col(s: String) -> sql::Result<Uuid> {
    Uuid::parse_str(&s).map_err(|e| sql::Error::BadValue(0, e.to_string()))
}

pub(crate) fn bad_text(col: usize, what: &'static str) -> sql::Error {
    sql::Error::BadValue(col, what.into())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A transaction ordering one dossier may not touch another's feed or chain, and an
    /// unordered one touches none: both get numbers only where their order holds.
    #[test]
    fn sequence_numbers_only_where_the_order_holds() {
        let mut conn = Conn::Sqlite(rusqlite::Connection::open_in_memory().unwrap());
        conn.execute("CREATE TABLE seq_counter (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)", params![])
            .unwrap();
        conn.execute("INSERT INTO seq_counter (id, value) VALUES (1, 0)", params![]).unwrap();
        let (mine, other) = (Uuid::new_v4(), Uuid::new_v4());

        let tx = conn.transaction_for(sql::Order::Dossier(mine)).unwrap();
        assert_eq!(next_seqs(&tx, 3).unwrap(), vec![1, 2, 3]);
        assert!(tx.check_order(mine).is_ok());
        assert!(matches!(tx.check_order(other), Err(sql::Error::OutsideOrder)));
        tx.commit().unwrap();

        let tx = conn.transaction_for(sql::Order::Unordered).unwrap();
        assert!(matches!(next_seq(&tx), Err(sql::Error::OutsideOrder)));
        assert!(matches!(tx.check_order(mine), Err(sql::Error::OutsideOrder)));
        drop(tx);

        let tx = conn.read_transaction().unwrap();
        assert!(matches!(next_seq(&tx), Err(sql::Error::NeedsWrite)));
        drop(tx);
        let tx = conn.transaction().unwrap();
        assert_eq!(next_seq(&tx).unwrap(), 4);
        assert!(tx.check_order(other).is_ok(), "the region orders every dossier");
    }
}
