//! One schema on two backends: the SQLite migrations and the PostgreSQL script must give the
//! same tables, columns (as the code reads them), nullability and indexes, or a statement that
//! works on one fails on the other in production. And a database newer than the binary is
//! refused on both, so an old instance never writes into a schema it does not know.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use cjg_server::db::sql::{Conn, QueryExt};
use cjg_server::db::Db;
use cjg_server::params;

/// table -> column -> (type as the code reads it, not null); and (table, index) -> columns.
#[derive(Debug, PartialEq, Eq)]
struct Schema {
    columns: BTreeMap<String, BTreeMap<String, (&'static str, bool)>>,
    indexes: BTreeMap<(String, String), String>,
}

/// SQLite's declared types and PostgreSQL's types, as the storage code reads them.
fn type_class(declared: &str) -> &'static str {
    match declared.to_ascii_lowercase().as_str() {
        "text" => "text",
        "integer" | "bigint" | "int" => "integer",
        "blob" | "bytea" => "bytes",
        "real" | "double precision" => "real",
        other => panic!("a column type the storage code does not read: {other}"),
    }
}

fn sqlite_schema(path: &std::path::Path) -> Schema {
    let conn = Conn::Sqlite(rusqlite::Connection::open(path).unwrap());
    let tables: Vec<String> = conn
        .query_map(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
            params![],
            |r| r.get(0),
        )
        .unwrap();
    let mut columns = BTreeMap::new();
    let mut indexes = BTreeMap::new();
    for t in tables {
        let cols: Vec<(String, String, bool)> = conn
            .query_map(
                "SELECT name, type, \"notnull\" OR pk > 0 FROM pragma_table_info(?1)",
                params![t.clone()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        columns.insert(
            t.clone(),
            cols.into_iter().map(|(name, ty, not_null)| (name, (type_class(&ty), not_null))).collect(),
        );
        // Only the indexes a migration made; the ones behind PRIMARY KEY and UNIQUE differ in
        // name between the two and are compared through the constraints' columns instead.
        let names: Vec<String> = conn
            .query_map(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT NULL",
                params![t.clone()],
                |r| r.get(0),
            )
            .unwrap();
        for name in names {
            let cols: Vec<String> = conn
                .query_map(
                    "SELECT name FROM pragma_index_info(?1) ORDER BY seqno",
                    params![name.clone()],
                    |r| r.get(0),
                )
                .unwrap();
            indexes.insert((t.clone(), name), cols.join(", "));
        }
    }
    Schema { columns, indexes }
}

fn postgres_schema(url: &str) -> Schema {
    let conn = Conn::connect_postgres(url).unwrap();
    let cols: Vec<(String, String, String, String)> = conn
        .query_map(
            "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text
             FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name <> 'schema_migrations'",
            params![],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    let mut columns: BTreeMap<String, BTreeMap<String, (&'static str, bool)>> = BTreeMap::new();
    for (t, c, ty, nullable) in cols {
        columns.entry(t).or_default().insert(c, (type_class(&ty), nullable == "NO"));
    }
    let defs: Vec<(String, String, String)> = conn
        .query_map(
            "SELECT i.tablename::text, i.indexname::text, i.indexdef
             FROM pg_indexes i
             WHERE i.schemaname = 'public'
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            params![],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let mut indexes = BTreeMap::new();
    for (t, name, def) in defs {
        // "CREATE INDEX name ON public.t USING btree (a, b) [WHERE ...]": the column list.
        let open = def.find('(').unwrap();
        let close = open + def[open..].find(')').unwrap();
        // PostgreSQL quotes the columns named like keywords ("position").
        indexes.insert((t, name), def[open + 1..close].replace('"', ""));
    }
    Schema { columns, indexes }
}

#[test]
fn sqlite_and_postgres_have_the_same_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cjg.db");
    drop(Db::open(&path).unwrap());
    let sqlite = sqlite_schema(&path);
    assert!(sqlite.columns.len() > 10, "the SQLite schema has its tables: {:?}", sqlite.columns.keys());

    let Some(url) = cjg_tests::fresh_postgres_database().unwrap() else {
        eprintln!(
            "no PostgreSQL cluster (CJG_TEST_POSTGRES): compared on the PostgreSQL run of scripts/test"
        );
        return;
    };
    drop(Db::open_postgres(&url, 1).unwrap());
    let postgres = postgres_schema(&url);
    for (table, cols) in &sqlite.columns {
        assert_eq!(
            Some(cols),
            postgres.columns.get(table),
            "columns of {table}: SQLite left, PostgreSQL right"
        );
    }
    assert_eq!(
        sqlite.columns.keys().collect::<Vec<_>>(),
        postgres.columns.keys().collect::<Vec<_>>(),
        "tables"
    );
    assert_eq!(sqlite.indexes, postgres.indexes, "indexes: SQLite left, PostgreSQL right");
}

#[test]
fn a_database_newer_than_the_binary_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cjg.db");
    drop(Db::open(&path).unwrap());
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.pragma_update(None, "user_version", 999).unwrap();
    drop(raw);
    let err = Db::open(&path).err().expect("SQLite: a newer database is refused");
    assert!(err.to_string().contains("newer"), "{err}");

    let Some(url) = cjg_tests::fresh_postgres_database().unwrap() else { return };
    drop(Db::open_postgres(&url, 1).unwrap());
    let conn = Conn::connect_postgres(&url).unwrap();
    conn.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (999, 'later')", params![])
        .unwrap();
    drop(conn);
    let err = Db::open_postgres(&url, 1).err().expect("PostgreSQL: a newer database is refused");
    assert!(err.to_string().contains("newer"), "{err}");
}
