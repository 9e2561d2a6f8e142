//! The SQLite driver of the query interface (rusqlite).

use super::{Result, Row, Value};

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

pub(super) fn sqlite_run(conn: &rusqlite::Connection, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
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

pub(super) fn sqlite_exec(conn: &rusqlite::Connection, sql: &str, params: &[Value]) -> Result<usize> {
    let mut stmt = conn.prepare_cached(sql)?;
    Ok(stmt.execute(rusqlite::params_from_iter(params))?)
}
