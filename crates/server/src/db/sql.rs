//! One query interface over the two databases the server runs on: SQLite (embedded, one
//! municipality on a laptop) and PostgreSQL (a region, several server instances).
//!
//! The storage functions in `db` are written once against this interface, so both backends run
//! the same statements and the same rules; where the dialects differ a function asks
//! [`Query::dialect`]. Values travel as a small dynamic [`Value`] with the representation the
//! SQLite store has always used (uuids, dates and times as text, flags as 0/1), so the two
//! schemas hold identical data and text timestamps compare the same way in both.
//!
//! Writers are serialised on both: SQLite has one writer by design, and every PostgreSQL write
//! transaction first locks the single change-feed counter row. That keeps the sync cursor in
//! commit order, audit chains gap-free and read-then-insert idempotency checks sound across any
//! number of server instances, because the lock lives in the database, not in a process.
//!
//! Readers are not: a read transaction ([`Conn::read_transaction`]) sees one snapshot (WAL on
//! SQLite, REPEATABLE READ on PostgreSQL) and takes no lock. Because sequence numbers are handed
//! out in commit order, every snapshot holds a gap-free prefix of the change feed, so a cursor
//! read from it never skips a change. A statement that would write in a read transaction fails
//! with [`Error::NeedsWrite`] before it runs; the caller runs the work again as a writer.

use std::cell::RefCell;
use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

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

fn from_pg(e: postgres::Error) -> Error {
    if e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION) {
        Error::Unique
    } else {
        Error::Postgres(e)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A value as it crosses into or out of the database.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

pub trait ToValue {
    fn to_value(&self) -> Value;
}

impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}
impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}
impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_owned())
    }
}
impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}
impl ToValue for [u8] {
    fn to_value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}
impl ToValue for Vec<u8> {
    fn to_value(&self) -> Value {
        Value::Blob(self.clone())
    }
}
impl<const N: usize> ToValue for [u8; N] {
    fn to_value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}
impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}
macro_rules! int_to_value {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value {
                Value::Int(i64::from(*self))
            }
        }
    )*};
}
int_to_value!(i64, i32, u32, u16, u8);
impl ToValue for usize {
    fn to_value(&self) -> Value {
        Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}
impl ToValue for f64 {
    fn to_value(&self) -> Value {
        Value::Real(*self)
    }
}
impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}
/// The text rusqlite has always written, so old and new rows sort and compare alike.
impl ToValue for DateTime<Utc> {
    fn to_value(&self) -> Value {
        Value::Text(self.format("%F %T%.f%:z").to_string())
    }
}
impl ToValue for NaiveDate {
    fn to_value(&self) -> Value {
        Value::Text(self.format("%F").to_string())
    }
}

pub trait FromValue: Sized {
    fn from_value(v: &Value) -> std::result::Result<Self, String>;
}

impl FromValue for Value {
    fn from_value(v: &Value) -> std::result::Result<Self, String> {
        Ok(v.clone())
    }
}
impl FromValue for String {
    fn from_value(v: &Value) -> std::result::Result<Self, String> {
        match v {
            Value::Text(s) => Ok(s.clone()),
            other => Err(format!("expected text, found {}", kind(other))),
        }
    }
}
impl FromValue for Vec<u8> {
    fn from_value(v: &Value) -> std::result::Result<Self, String> {
        match v {
            Value::Blob(b) => Ok(b.clone()),
            Value::Text(s) => Ok(s.clone().into_bytes()),
            other => Err(format!("expected bytes, found {}", kind(other))),
        }
    }
}
impl FromValue for i64 {
    fn from_value(v: &Value) -> std::result::Result<Self, String> {
        match v {
            Value::Int(i) => Ok(*i),
            other => Err(format!("expected an integer, found {}", kind(other))),
        }
    }
}
macro_rules! int_from_value {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(v: &Value) -> std::result::Result<Self, String> {
                let i = i64::from_value(v)?;
                <$t>::try_from(i).map_err(|_| format!("{i} is out of range"))
            }
        }
    )*};
}
int_from_value!(i32, u32, u16, u8, usize);
impl FromValue for bool {
    fn from_value(v: &Value) -> std::result::Result<Self, String> {
        Ok(i64::from_value(v)? != 0)
    }
}
impl FromValue for f64 {
    fn from_value(v: &Value) -> std::result::Result<Self, String> {
        match v {
            Value::Real(f) => Ok(*f),
            #[allow(clippy::cast_precision_loss)]
            Value::Int(i) => Ok(*i as f64),
            other => Err(format!("expected a number, found {}", kind(other))),
        }
    }
}
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> std::result::Result<Self, String> {
        match v {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}
impl FromValue for NaiveDate {
    fn from_value(v: &Value) -> std::result::Result<Self, String> {
        let s = String::from_value(v)?;
        NaiveDate::parse_from_str(&s, "%F").map_err(|e| e.to_string())
    }
}
/// Reads what rusqlite wrote and what it accepted: RFC 3339 with a space or a `T`, with or
/// without an offset.
impl FromValue for DateTime<Utc> {
    fn from_value(v: &Value) -> std::result::Result<Self, String> {
        let s = String::from_value(v)?;
        let t = s.len() >= 11 && s.as_bytes()[10] == b'T';
        let with_zone = if t { "%FT%T%.f%#z" } else { "%F %T%.f%#z" };
        if let Ok(dt) = DateTime::parse_from_str(&s, with_zone) {
            return Ok(dt.with_timezone(&Utc));
        }
        let naive = if t { "%FT%T%.f" } else { "%F %T%.f" };
        NaiveDateTime::parse_from_str(&s, naive)
            .map(|dt| Utc.from_utc_datetime(&dt))
            .map_err(|e| e.to_string())
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Int(_) => "an integer",
        Value::Real(_) => "a real",
        Value::Text(_) => "text",
        Value::Blob(_) => "bytes",
    }
}

/// One result row.
#[derive(Debug)]
pub struct Row {
    values: Vec<Value>,
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

// ---- SQLite ---------------------------------------------------------------------------

/// Lends each value to SQLite as it is: no copy of a text or blob per statement.
impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::ValueRef as V;
        Ok(rusqlite::types::ToSqlOutput::Borrowed(match self {
            Value::Null => V::Null,
            Value::Int(i) => V::Integer(*i),
            Value::Real(f) => V::Real(*f),
            Value::Text(t) => V::Text(t.as_bytes()),
            Value::Blob(b) => V::Blob(b),
        }))
    }
}

fn sqlite_run(conn: &rusqlite::Connection, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let width = stmt.column_count();
    let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let mut values = Vec::with_capacity(width);
        for i in 0..width {
            use rusqlite::types::ValueRef as V;
            values.push(match r.get_ref(i)? {
                V::Null => Value::Null,
                V::Integer(i) => Value::Int(i),
                V::Real(f) => Value::Real(f),
                // The strict check is the fast one; SQLite text that is not UTF-8 (never written
                // by this server) still reads, with replacement characters.
                V::Text(t) => Value::Text(
                    std::str::from_utf8(t)
                        .map_or_else(|_| String::from_utf8_lossy(t).into_owned(), str::to_owned),
                ),
                V::Blob(b) => Value::Blob(b.to_vec()),
            });
        }
        out.push(Row { values });
    }
    Ok(out)
}

fn sqlite_exec(conn: &rusqlite::Connection, sql: &str, params: &[Value]) -> Result<usize> {
    let mut stmt = conn.prepare_cached(sql)?;
    Ok(stmt.execute(rusqlite::params_from_iter(params))?)
}

// ---- PostgreSQL -----------------------------------------------------------------------

/// A pooled PostgreSQL connection with its prepared statements: each distinct statement is
/// parsed once per connection, as rusqlite's statement cache does for SQLite.
pub struct PgConn {
    client: postgres::Client,
    statements: HashMap<String, postgres::Statement>,
}

pub struct PgManager {
    config: postgres::Config,
}

impl PgManager {
    pub fn new(config: postgres::Config) -> Self {
        Self { config }
    }
}

impl r2d2::ManageConnection for PgManager {
    type Connection = PgConn;
    type Error = postgres::Error;

    fn connect(&self) -> std::result::Result<PgConn, postgres::Error> {
        let client = self.config.connect(postgres::NoTls)?;
        Ok(PgConn { client, statements: HashMap::new() })
    }

    fn is_valid(&self, conn: &mut PgConn) -> std::result::Result<(), postgres::Error> {
        conn.client.simple_query("").map(|_| ())
    }

    fn has_broken(&self, conn: &mut PgConn) -> bool {
        conn.client.is_closed()
    }
}

/// `?1` → `$1`, and a bare `?` → the next number, outside string literals.
pub fn pg_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut in_text = false;
    let mut next = 0u32;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_text = !in_text;
                out.push(c);
            }
            '?' if !in_text => {
                out.push('$');
                if chars.peek().is_some_and(char::is_ascii_digit) {
                    while let Some(d) = chars.next_if(char::is_ascii_digit) {
                        out.push(d);
                    }
                } else {
                    next += 1;
                    out.push_str(&next.to_string());
                }
            }
            c => out.push(c),
        }
    }
    out
}

impl PgConn {
    fn statement(&mut self, sql: &str) -> Result<postgres::Statement> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let stmt = self.client.prepare(&pg_placeholders(sql)).map_err(from_pg)?;
        self.statements.insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }

    pub fn run(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        let stmt = self.statement(sql)?;
        let rows = self.client.query(&stmt, &pg_params(params)).map_err(from_pg)?;
        rows.iter().map(pg_row).collect()
    }

    fn exec(&mut self, sql: &str, params: &[Value]) -> Result<usize> {
        let stmt = self.statement(sql)?;
        let n = self.client.execute(&stmt, &pg_params(params)).map_err(from_pg)?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    pub fn batch(&mut self, sql: &str) -> Result<()> {
        self.client.batch_execute(sql).map_err(from_pg)
    }
}

fn pg_params(params: &[Value]) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn postgres::types::ToSql + Sync)).collect()
}

fn pg_row(r: &postgres::Row) -> Result<Row> {
    use postgres::types::Type;
    let mut values = Vec::with_capacity(r.len());
    for (i, col) in r.columns().iter().enumerate() {
        let ty = col.type_();
        let v = if *ty == Type::INT8 {
            r.try_get::<_, Option<i64>>(i).map(|v| v.map_or(Value::Null, Value::Int))
        } else if *ty == Type::INT4 {
            r.try_get::<_, Option<i32>>(i).map(|v| v.map_or(Value::Null, |v| Value::Int(v.into())))
        } else if *ty == Type::INT2 {
            r.try_get::<_, Option<i16>>(i).map(|v| v.map_or(Value::Null, |v| Value::Int(v.into())))
        } else if *ty == Type::BOOL {
            r.try_get::<_, Option<bool>>(i).map(|v| v.map_or(Value::Null, |v| Value::Int(v.into())))
        } else if *ty == Type::FLOAT8 {
            r.try_get::<_, Option<f64>>(i).map(|v| v.map_or(Value::Null, Value::Real))
        } else if *ty == Type::BYTEA {
            r.try_get::<_, Option<Vec<u8>>>(i).map(|v| v.map_or(Value::Null, Value::Blob))
        } else if [Type::TEXT, Type::VARCHAR, Type::BPCHAR, Type::NAME].contains(ty) {
            r.try_get::<_, Option<String>>(i).map(|v| v.map_or(Value::Null, Value::Text))
        } else {
            return Err(Error::BadValue(
                i,
                format!("unsupported PostgreSQL type {ty}: cast it in the query"),
            ));
        };
        values.push(v.map_err(from_pg)?);
    }
    Ok(Row { values })
}

impl postgres::types::ToSql for Value {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use postgres::types::Type;
        match self {
            Value::Null => Ok(postgres::types::IsNull::Yes),
            Value::Int(i) if *ty == Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
            Value::Int(i) if *ty == Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
            Value::Int(i) if *ty == Type::BOOL => (*i != 0).to_sql(ty, out),
            #[allow(clippy::cast_precision_loss)]
            Value::Int(i) if *ty == Type::FLOAT8 => (*i as f64).to_sql(ty, out),
            Value::Int(i) if *ty == Type::TEXT => i.to_string().to_sql(ty, out),
            Value::Int(i) => i.to_sql(ty, out),
            Value::Real(f) => f.to_sql(ty, out),
            Value::Text(s) => s.as_str().to_sql(ty, out),
            Value::Blob(b) => b.as_slice().to_sql(ty, out),
        }
    }

    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

// ---- connections and transactions ----------------------------------------------------

// One per request, on the stack of a blocking thread: boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub enum Conn {
    Sqlite(rusqlite::Connection),
    Postgres(RefCell<r2d2::PooledConnection<PgManager>>),
}

impl Conn {
    /// A write transaction. On PostgreSQL it holds the writer lock until it ends.
    pub fn transaction(&mut self) -> Result<Tx<'_>> {
        match self {
            Conn::Sqlite(c) => Ok(Tx::Sqlite(c.transaction()?, Access::Write)),
            Conn::Postgres(c) => {
                let mut pg = c.borrow_mut();
                pg.batch("BEGIN")?;
                if let Err(e) = pg.run("SELECT value FROM seq_counter WHERE id = 1 FOR UPDATE", &[]) {
                    let _ = pg.batch("ROLLBACK");
                    return Err(e);
                }
                drop(pg);
                Ok(Tx::Postgres(PgTx { conn: c, open: true }, Access::Write))
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
    Write,
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
