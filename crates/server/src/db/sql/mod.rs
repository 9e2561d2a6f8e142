//! One query interface over the two databases the server runs on: SQLite (embedded, one
//! municipality on a laptop) and PostgreSQL (a region, several server instances).
//!
//! The storage functions in `db` are written once against this interface, so both backends run
//! the same statements and the same rules; where the dialects differ a function asks
//! [`Query::dialect`]. Values travel as a small dynamic [`Value`] with the representation the
//! SQLite store has always used (uuids, dates and times as text, flags as 0/1), so the two
//! schemas hold identical data and text timestamps compare the same way in both.
//!
//! Writers are ordered on both. SQLite has one writer by design. On PostgreSQL a write
//! transaction says what it orders ([`Order`]) and takes advisory locks for it before anything
//! else: the whole region (one at a time, as SQLite), or one dossier (beside writes to other
//! dossiers, while no region-wide write runs). A family's sync feed holds its own dossier's
//! changes and region-wide ones only, so within what one person can see, sequence numbers still
//! follow the commits: the sync cursor skips nothing, audit chains stay gap-free and
//! read-then-insert idempotency checks stay sound across any number of server instances,
//! because the locks live in the database, not in a process. Numbers come from a PostgreSQL
//! sequence, which no transaction holds.
//!
//! Readers are not: a read transaction ([`Conn::read_transaction`]) sees one snapshot (WAL on
//! SQLite, REPEATABLE READ on PostgreSQL) and takes no lock. Because sequence numbers are handed
//! out in commit order (within each family's feed), every snapshot holds a gap-free prefix of it, so a cursor
//! read from it never skips a change. A statement that would write in a read transaction fails
//! with [`Error::NeedsWrite`] before it runs; the caller runs the work again as a writer.

use std::cell::RefCell;

mod pg;
mod sqlite;
mod value;

pub use pg::{pg_placeholders, PgConn, PgManager};
use sqlite::{sqlite_exec, sqlite_run};
pub use value::{FromValue, ToValue, Value};

pub type Result<T> = std::result::Result<T, Error>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("query returned no rows")]
    NoRows,
    /// A unique or primary-key constraint refused the write.
    #[error("unique constraint violated")]
    Unique,
    #[error("column {0}: {1}")]
    BadValue(usize, String),
    #[error("sqlite: {0}")]
    Sqlite(rusqlite::Error),
    #[error("postgres: {0}")]
    Postgres(#[from] postgres::Error),
    #[error("database pool: {0}")]
    Pool(#[from] r2d2::Error),
    /// A statement that writes, in a read transaction: the caller runs it again as a writer.
    #[error("a read transaction tried to write")]
    NeedsWrite,
    /// Work on a dossier in a write transaction that orders another one (a bug, not input).
    #[error("a write outside the dossier its transaction orders")]
    OutsideOrder,
}

impl Error {
    /// The database could not write: its disk is full or refuses writes. Passing, for the
    /// client: the same request later may well go through.
    pub fn is_storage_failure(&self) -> bool {
        match self {
            Error::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => {
                matches!(f.code, rusqlite::ErrorCode::DiskFull | rusqlite::ErrorCode::SystemIoFailure)
            }
            Error::Postgres(e) => e.code().is_some_and(|c| {
                // Class 53 (insufficient resources: disk full, out of memory) and I/O errors.
                c.code().starts_with("53") || *c == postgres::error::SqlState::IO_ERROR
            }),
            _ => false,
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        match e {
            rusqlite::Error::QueryReturnedNoRows => Error::NoRows,
            rusqlite::Error::SqliteFailure(f, _)
                if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
            {
                Error::Unique
            }
            e => Error::Sqlite(e),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// One result row.
#[derive(Debug)]
pub struct Row {
    pub(super) values: Vec<Value>,
}

impl Row {
    pub fn get<T: FromValue>(&self, idx: usize) -> Result<T> {
        let v = self.values.get(idx).ok_or_else(|| Error::BadValue(idx, "no such column".into()))?;
        T::from_value(v).map_err(|e| Error::BadValue(idx, e))
    }
}

/// Builds the parameter list of a statement: `params![a, b]`.
#[macro_export]
macro_rules! params {
    () => { &[] as &[$crate::db::sql::Value] };
    ($($x:expr),+ $(,)?) => {
        &[$($crate::db::sql::ToValue::to_value(&$x)),+] as &[$crate::db::sql::Value]
    };
}
pub use crate::params;

pub trait Params {
    /// Runs `f` on the values: a `params![…]` slice as it is, other forms converted once.
    fn with_values<R>(self, f: impl FnOnce(&[Value]) -> R) -> R;
}
impl Params for &[Value] {
    fn with_values<R>(self, f: impl FnOnce(&[Value]) -> R) -> R {
        f(self)
    }
}
impl<T: ToValue, const N: usize> Params for [T; N] {
    fn with_values<R>(self, f: impl FnOnce(&[Value]) -> R) -> R {
        let values: Vec<Value> = self.iter().map(ToValue::to_value).collect();
        f(&values)
    }
}

/// What every connection and transaction can do. Object safe, so storage functions take
/// `&dyn Query` when they only read.
pub trait Query {
    fn dialect(&self) -> Dialect;
    fn run(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>>;
    fn exec(&self, sql: &str, params: &[Value]) -> Result<usize>;
}

/// The rusqlite-shaped conveniences on top of [`Query`].
pub trait QueryExt: Query {
    fn execute(&self, sql: &str, params: impl Params) -> Result<usize> {
        params.with_values(|p| self.exec(sql, p))
    }

    fn query_row<T>(&self, sql: &str, params: impl Params, f: impl FnOnce(&Row) -> Result<T>) -> Result<T> {
        let rows = params.with_values(|p| self.run(sql, p))?;
        f(rows.first().ok_or(Error::NoRows)?)
    }

    fn query_map<T>(
        &self,
        sql: &str,
        params: impl Params,
        f: impl FnMut(&Row) -> Result<T>,
    ) -> Result<Vec<T>> {
        params.with_values(|p| self.run(sql, p))?.iter().map(f).collect()
    }

    fn prepare(&self, sql: &str) -> Result<Stmt<'_, Self>> {
        Ok(Stmt { q: self, sql: sql.to_owned() })
    }
}

impl<Q: Query + ?Sized> QueryExt for Q {}

/// A statement to run more than once or to iterate; kept for the rusqlite shape of the
/// storage code. Both backends cache the parsed statement per connection anyway.
pub struct Stmt<'a, Q: ?Sized> {
    q: &'a Q,
    sql: String,
}

impl<Q: Query + ?Sized> Stmt<'_, Q> {
    pub fn query_map<T>(
        &mut self,
        params: impl Params,
        f: impl FnMut(&Row) -> Result<T>,
    ) -> Result<std::vec::IntoIter<Result<T>>> {
        let rows = params.with_values(|p| self.q.run(&self.sql, p))?;
        Ok(rows.iter().map(f).collect::<Vec<_>>().into_iter())
    }
}

pub trait OptionalExt<T> {
    /// No row is `None`, not an error.
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExt<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(Error::NoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

// ---- connections and transactions ----------------------------------------------------

// One per request, on the stack of a blocking thread: boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub enum Conn {
    Sqlite(rusqlite::Connection),
    Postgres(RefCell<r2d2::PooledConnection<PgManager>>),
}

impl Conn {
    /// A write transaction that orders the whole region (see the module comment).
    pub fn transaction(&mut self) -> Result<Tx<'_>> {
        self.transaction_for(Order::Region)
    }

    /// A write transaction that orders what `order` says. On PostgreSQL it holds its locks
    /// until it ends.
    pub fn transaction_for(&mut self, order: Order) -> Result<Tx<'_>> {
        match self {
            // IMMEDIATE takes the write lock at the start, waiting (busy_timeout) while another
            // process on the same file writes. A deferred transaction that read first would
            // fail at once with "database is locked" when the other's commit made its snapshot
            // stale; SQLite cannot wait that out.
            Conn::Sqlite(c) => Ok(Tx::Sqlite(
                c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?,
                Access::Write(order),
            )),
            Conn::Postgres(c) => {
                let mut pg = c.borrow_mut();
                pg.batch("BEGIN")?;
                // The region lock first, always: a dossier write holds it shared, so a
                // region-wide write waits for the dossier writes under way and they for it.
                let locked = match order {
                    Order::Region => pg.run(
                        "SELECT COUNT(*) FROM (SELECT pg_advisory_xact_lock(?1, 0)) AS l",
                        &[Value::Int(LOCK_REGION)],
                    ),
                    Order::Unordered => Ok(Vec::new()),
                    Order::Dossier(d) => pg
                        .run(
                            "SELECT COUNT(*) FROM (SELECT pg_advisory_xact_lock_shared(?1, 0)) AS l",
                            &[Value::Int(LOCK_REGION)],
                        )
                        .and_then(|_| {
                            pg.run(
                                "SELECT COUNT(*) FROM (SELECT pg_advisory_xact_lock(?1, ?2)) AS l",
                                &[Value::Int(LOCK_DOSSIER), Value::Int(dossier_lock_key(d))],
                            )
                        }),
                };
                if let Err(e) = locked {
                    let _ = pg.batch("ROLLBACK");
                    return Err(e);
                }
                drop(pg);
                Ok(Tx::Postgres(PgTx { conn: c, open: true }, Access::Write(order)))
            }
        }
    }

    /// A read transaction: one snapshot, no lock, no writes (see the module comment).
    pub fn read_transaction(&mut self) -> Result<Tx<'_>> {
        match self {
            Conn::Sqlite(c) => Ok(Tx::Sqlite(c.transaction()?, Access::Read)),
            Conn::Postgres(c) => {
                c.borrow_mut().batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
                Ok(Tx::Postgres(PgTx { conn: c, open: true }, Access::Read))
            }
        }
    }

    /// One PostgreSQL connection outside the server's pool (tests, tools). Like every use of
    /// the sync client, only on a thread that does not drive async tasks.
    pub fn connect_postgres(url: &str) -> Result<Conn> {
        let config: postgres::Config = url.parse()?;
        let pool = r2d2::Pool::builder().max_size(1).min_idle(Some(0)).build(PgManager::new(config))?;
        Ok(Conn::Postgres(RefCell::new(pool.get()?)))
    }

    /// The raw SQLite connection, for migrations and tests.
    pub fn sqlite(&mut self) -> Option<&mut rusqlite::Connection> {
        match self {
            Conn::Sqlite(c) => Some(c),
            Conn::Postgres(_) => None,
        }
    }
}

impl Query for Conn {
    fn dialect(&self) -> Dialect {
        match self {
            Conn::Sqlite(_) => Dialect::Sqlite,
            Conn::Postgres(_) => Dialect::Postgres,
        }
    }

    fn run(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        match self {
            Conn::Sqlite(c) => sqlite_run(c, sql, params),
            Conn::Postgres(c) => c.borrow_mut().run(sql, params),
        }
    }

    fn exec(&self, sql: &str, params: &[Value]) -> Result<usize> {
        match self {
            Conn::Sqlite(c) => sqlite_exec(c, sql, params),
            Conn::Postgres(c) => c.borrow_mut().exec(sql, params),
        }
    }
}

/// Rolls back when dropped without [`Tx::commit`], on both backends.
pub enum Tx<'a> {
    Sqlite(rusqlite::Transaction<'a>, Access),
    Postgres(PgTx<'a>, Access),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write(Order),
}

/// What a write transaction keeps in commit order (see the module comment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Everything: the safe default, for work that spans dossiers or is region-wide
    /// (articles, jobs, accounts).
    Region,
    /// One dossier's changes: its entries, feedback, messages, questionnaires, access
    /// decisions and its audit chains. Writes to other dossiers run beside it.
    Dossier(uuid::Uuid),
    /// Nothing: counters and one-time marks that are sound by their own statement (an
    /// upsert, an insert that a unique key refuses twice). It takes no sequence number and
    /// no chain position, and runs beside every other write.
    Unordered,
}

/// The classes of the two-key advisory locks (the first key); the one-key space, where the
/// migration lock lives, does not overlap with them.
const LOCK_REGION: i64 = 0x434a_4701;
const LOCK_DOSSIER: i64 = 0x434a_4702;

/// The second key of a dossier's lock: 32 bits of its (random) id. Two dossiers that share
/// a key only wait for each other; nothing goes wrong.
fn dossier_lock_key(dossier: uuid::Uuid) -> i64 {
    let b = dossier.as_bytes();
    i64::from(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Whether a statement only reads: the guard of read transactions. Deliberately simple and
/// strict: anything but a plain SELECT or WITH … SELECT counts as a write.
fn reads_only(sql: &str) -> bool {
    let head = sql.trim_start();
    let word = head.split(|c: char| !c.is_ascii_alphabetic()).next().unwrap_or("");
    let upper = head.to_ascii_uppercase();
    (word.eq_ignore_ascii_case("select") || word.eq_ignore_ascii_case("with"))
        && !["INSERT ", "UPDATE ", "DELETE ", "FOR UPDATE"].iter().any(|w| upper.contains(w))
}

fn guard(access: Access, sql: &str) -> Result<()> {
    if access == Access::Read && !reads_only(sql) {
        return Err(Error::NeedsWrite);
    }
    Ok(())
}

pub struct PgTx<'a> {
    conn: &'a RefCell<r2d2::PooledConnection<PgManager>>,
    open: bool,
}

impl Drop for PgTx<'_> {
    fn drop(&mut self) {
        if self.open {
            if let Ok(mut c) = self.conn.try_borrow_mut() {
                // A connection whose rollback failed is broken; the pool drops it.
                let _ = c.batch("ROLLBACK");
            }
        }
    }
}

impl Tx<'_> {
    pub fn access(&self) -> Access {
        match self {
            Tx::Sqlite(_, access) | Tx::Postgres(_, access) => *access,
        }
    }

    /// Refuses work on `dossier` in a transaction that orders another one only: its sequence
    /// numbers and chain positions would race with that dossier's own writers.
    pub fn check_order(&self, dossier: uuid::Uuid) -> Result<()> {
        match self.access() {
            Access::Write(Order::Dossier(d)) if d != dossier => Err(Error::OutsideOrder),
            Access::Write(Order::Unordered) => Err(Error::OutsideOrder),
            _ => Ok(()),
        }
    }

    pub fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(tx, _) => Ok(tx.commit()?),
            Tx::Postgres(mut tx, _) => {
                tx.open = false;
                tx.conn.borrow_mut().batch("COMMIT")
            }
        }
    }
}

impl Query for Tx<'_> {
    fn dialect(&self) -> Dialect {
        match self {
            Tx::Sqlite(..) => Dialect::Sqlite,
            Tx::Postgres(..) => Dialect::Postgres,
        }
    }

    fn run(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        match self {
            Tx::Sqlite(c, access) => guard(*access, sql).and_then(|()| sqlite_run(c, sql, params)),
            Tx::Postgres(tx, access) => {
                guard(*access, sql).and_then(|()| tx.conn.borrow_mut().run(sql, params))
            }
        }
    }

    fn exec(&self, sql: &str, params: &[Value]) -> Result<usize> {
        match self {
            Tx::Sqlite(c, access) => guard(*access, sql).and_then(|()| sqlite_exec(c, sql, params)),
            Tx::Postgres(tx, access) => {
                guard(*access, sql).and_then(|()| tx.conn.borrow_mut().exec(sql, params))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, TimeZone, Utc};

    #[test]
    fn placeholders_are_numbered_for_postgres_outside_text() {
        assert_eq!(pg_placeholders("a = ?1 AND b = ?12"), "a = $1 AND b = $12");
        assert_eq!(pg_placeholders("a = ? AND b = ?"), "a = $1 AND b = $2");
        assert_eq!(pg_placeholders("a = '?' AND b = ?2"), "a = '?' AND b = $2");
    }

    #[test]
    fn times_read_back_in_every_form_rusqlite_wrote() {
        let t = Utc.with_ymd_and_hms(2026, 12, 2, 9, 30, 0).single().expect("valid");
        assert_eq!(DateTime::<Utc>::from_value(&t.to_value()), Ok(t));
        for s in [
            "2026-12-02 09:30:00+00:00",
            "2026-12-02T09:30:00Z",
            "2026-12-02 09:30:00",
            "2026-12-02T10:30:00+01:00",
        ] {
            assert_eq!(DateTime::<Utc>::from_value(&Value::Text(s.into())), Ok(t), "{s}");
        }
        assert!(DateTime::<Utc>::from_value(&Value::Int(3)).is_err());
    }

    #[test]
    fn read_transactions_refuse_every_write_before_it_runs() {
        for sql in ["SELECT 1", "  select a FROM t", "WITH x AS (SELECT 1) SELECT * FROM x"] {
            assert!(reads_only(sql), "{sql}");
        }
        for sql in [
            "INSERT INTO t VALUES (1)",
            "UPDATE t SET a = 1",
            "DELETE FROM t",
            "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x",
            "SELECT value FROM seq_counter FOR UPDATE",
            "PRAGMA foreign_keys = ON",
            "",
        ] {
            assert!(!reads_only(sql), "{sql}");
        }
        let mut conn = Conn::Sqlite(rusqlite::Connection::open_in_memory().expect("memory"));
        conn.execute("CREATE TABLE t (a INTEGER)", params![]).expect("create");
        let tx = conn.read_transaction().expect("tx");
        assert!(matches!(tx.execute("INSERT INTO t VALUES (1)", params![]), Err(Error::NeedsWrite)));
        assert_eq!(tx.query_row("SELECT COUNT(*) FROM t", params![], |r| r.get::<i64>(0)).expect("read"), 0);
    }

    #[test]
    fn sqlite_transactions_roll_back_unless_committed() {
        let mut conn = Conn::Sqlite(rusqlite::Connection::open_in_memory().expect("memory"));
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)", params![]).expect("create");
        {
            let tx = conn.transaction().expect("tx");
            tx.execute("INSERT INTO t (name) VALUES (?1)", params!["a"]).expect("insert");
        }
        let tx = conn.transaction().expect("tx");
        tx.execute("INSERT INTO t (name) VALUES (?1)", params!["b"]).expect("insert");
        assert!(matches!(tx.execute("INSERT INTO t (name) VALUES (?1)", params!["b"]), Err(Error::Unique)));
        tx.commit().expect("commit");
        let names = conn.query_map("SELECT name FROM t", params![], |r| r.get::<String>(0)).expect("read");
        assert_eq!(names, vec!["b".to_string()]);
    }
}
