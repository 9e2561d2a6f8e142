//! The encrypted store against the physical limit: reading and decrypting every entry of a
//! 5,000-entry dossier next to the same query on a plain rusqlite table of the same JSON, in the
//! same run; and the PIN unlock, which must stay between 0.2 s and 1 s. Prints a table; never a
//! pass/fail on time.
//!
//! `cargo bench -p cjg-store --bench store` (ENTRIES=n, ROUNDS=n to change 5,000 and 15)

use std::path::Path;
use std::time::Instant;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use cjg_core::api::{Change, SyncItem, SyncPage};
use cjg_core::entry::Visibility;
use cjg_core::validate::Pin;
use cjg_core::{Entry, EntryKind};
use cjg_crypto::DeviceKey;
use cjg_store::{LockedStore, PinMode, PinSecrets, Profile, Store};
use rusqlite::{params, Connection};
use uuid::Uuid;

const SECRET: [u8; 32] = [7; 32];

fn secrets() -> PinSecrets {
    PinSecrets::new(PinMode::Keychain, &SECRET, None).expect("secrets")
}
/// A conversation report of about 1,200 characters: the size of the demo's longer entries.
const PARAGRAPH: &str = "We spraken over de ochtenden. Het aankleden duurt lang en er is vaak ruzie \
    over het ontbijt. Moeder probeert rustig te blijven, maar merkt dat zij zelf moe is. We \
    spraken af dat de kinderen de avond ervoor hun kleren klaarleggen. ";

fn entry(n: u32) -> Entry {
    let kinds = [EntryKind::Gespreksverslag, EntryKind::Afspraak, EntryKind::Plan];
    Entry {
        id: Uuid::from_u128(u128::from(n) + 1),
        dossier_id: Uuid::from_u128(100),
        child_id: None,
        kind: kinds[n as usize % 3],
        visibility: Visibility::Family,
        title: format!("Gesprek nummer {n} over de ochtenden"),
        body: PARAGRAPH.repeat(5),
        author_name: "Fleur Demo".into(),
        author_role: "CJG-coach".into(),
        occurred_on: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default()
            + Duration::days(i64::from(n % 900)),
        version: 1,
        updated_at: Utc.timestamp_opt(1_790_000_000, 0).single().unwrap_or_default(),
    }
}

fn pin() -> Pin {
    Pin::parse("902417").expect("pin")
}

fn new_store(dir: &Path) -> Store {
    let profile = Profile {
        server_url: "http://127.0.0.1:1".into(),
        device_id: Uuid::from_u128(5),
        person_id: Uuid::from_u128(6),
        display_name: "Sanne Voorbeeld".into(),
    };
    let key = DeviceKey::generate().expect("key");
    Store::create(&dir.join("store.db"), &pin(), &secrets(), PinMode::Keychain, &profile, &key)
        .expect("store")
}

fn fill(store: &mut Store, entries: &[Entry]) {
    let mut cursor = 0;
    // Pages of 200, as the server sends them.
    for chunk in entries.chunks(200) {
        let from = cursor;
        let items = chunk
            .iter()
            .map(|e| {
                cursor += 1;
                SyncItem { cursor, change: Change::Entry { entry: e.clone() } }
            })
            .collect();
        let page = SyncPage { items, next_cursor: cursor, has_more: true, audit: None };
        store.apply_page(&page, from).expect("page");
    }
}

/// The same rows as plain JSON in a table with the same pragmas: the limit without crypto.
fn plain(dir: &Path, entries: &[Entry]) -> Connection {
    let mut conn = Connection::open(dir.join("plain.db")).expect("plain");
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
         CREATE TABLE entries (id TEXT PRIMARY KEY, version INTEGER NOT NULL, json BLOB NOT NULL);",
    )
    .expect("schema");
    let tx = conn.transaction().expect("tx");
    for e in entries {
        tx.execute(
            "INSERT INTO entries (id, version, json) VALUES (?1, ?2, ?3)",
            params![e.id.to_string(), e.version, serde_json::to_vec(e).expect("json")],
        )
        .expect("insert");
    }
    tx.commit().expect("commit");
    conn
}

fn plain_read(conn: &Connection) -> Vec<Entry> {
    let mut stmt = conn.prepare_cached("SELECT id, version, json FROM entries").expect("prepare");
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, Vec<u8>>(2)?)))
        .expect("query");
    let mut out: Vec<Entry> =
        rows.map(|r| serde_json::from_slice(&r.expect("row").2).expect("entry")).collect();
    // The store sorts for the list; so does this.
    out.sort_by(|a, b| b.occurred_on.cmp(&a.occurred_on).then_with(|| a.title.cmp(&b.title)));
    out
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let n: u32 = std::env::var("ENTRIES").ok().and_then(|v| v.parse().ok()).unwrap_or(5_000);
    let rounds: usize = std::env::var("ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(15);
    let dir = tempfile::tempdir().expect("tmp");
    let entries: Vec<Entry> = (0..n).map(entry).collect();
    let json_bytes: usize = entries.iter().map(|e| serde_json::to_vec(e).map(|v| v.len()).unwrap_or(0)).sum();

    let mut store = new_store(dir.path());
    let t = Instant::now();
    fill(&mut store, &entries);
    let write_enc = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let conn = plain(dir.path(), &entries);
    let write_plain = t.elapsed().as_secs_f64();

    // Warm both caches once, then alternate so neither profits from the order.
    assert_eq!(store.entries().expect("read").len(), n as usize);
    assert_eq!(plain_read(&conn).len(), n as usize);
    let (mut enc, mut pla) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let t = Instant::now();
        std::hint::black_box(store.entries().expect("read"));
        enc.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        std::hint::black_box(plain_read(&conn));
        pla.push(t.elapsed().as_secs_f64());
    }
    let (enc, pla) = (median(enc), median(pla));
    drop(store);

    let mut unlocks = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let s = LockedStore::open(&dir.path().join("store.db"))
            .expect("open")
            .unlock(&pin(), &secrets())
            .expect("unlock");
        unlocks.push(t.elapsed().as_secs_f64());
        drop(s);
    }
    let unlock = median(unlocks);
    let iterations: String = Connection::open(dir.path().join("store.db"))
        .and_then(|c| {
            c.query_row("SELECT value FROM meta WHERE key = 'pbkdf2_iterations'", [], |r| {
                r.get::<_, Vec<u8>>(0)
            })
        })
        .map(|v| String::from_utf8_lossy(&v).into_owned())
        .unwrap_or_default();

    let mb = json_bytes as f64 / 1e6;
    println!("encrypted store, {n} entries, {mb:.1} MB of JSON, median of {rounds} rounds");
    println!("| measure                               | time       | rows/s    |");
    println!("|---------------------------------------|-----------:|----------:|");
    let row =
        |name: &str, s: f64| println!("| {name:<37} | {:>7.1} ms | {:>9.0} |", s * 1e3, f64::from(n) / s);
    row("read + decrypt all (Store::entries)", enc);
    row("plain rusqlite + JSON, same rows", pla);
    row("write, sealed, pages of 200", write_enc);
    row("write, plain, one transaction", write_plain);
    println!();
    println!("ratio encrypted / plain read: {:.2} (target <= 2.00)", enc / pla);
    println!(
        "PIN unlock (PBKDF2-HMAC-SHA256, {iterations} iterations calibrated at creation, + HKDF): \
         {unlock:.3} s (target 0.2 to 1.0 s)"
    );
}
