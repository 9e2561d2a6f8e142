use super::*;
use chrono::{NaiveDate, TimeZone, Utc};
use cjg_core::api::SyncItem;
use cjg_core::EntryKind;

const SECRET: [u8; SECRET_LEN] = [42; SECRET_LEN];
const SECRET_TEXT: &str = "Moeder vertelt over de zorgen rond het slapen van Noor";

fn secrets() -> PinSecrets {
    PinSecrets::new(PinMode::Keychain, &SECRET, None).expect("secrets")
}

fn pin() -> Pin {
    Pin::parse("902417").expect("valid pin")
}

fn profile() -> Profile {
    Profile {
        server_url: "http://127.0.0.1:1".into(),
        device_id: Uuid::from_u128(5),
        person_id: Uuid::from_u128(6),
        display_name: "Sanne Voorbeeld".into(),
    }
}

fn entry(n: u128, version: i64, body: &str) -> Entry {
    Entry {
        id: Uuid::from_u128(n),
        dossier_id: Uuid::from_u128(100),
        child_id: None,
        kind: EntryKind::Gespreksverslag,
        visibility: cjg_core::entry::Visibility::Family,
        title: format!("Gesprek {n}"),
        body: body.into(),
        author_name: "Coach".into(),
        author_role: "CJG-coach".into(),
        occurred_on: NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
        version,
        updated_at: Utc.timestamp_opt(1_700_000_000, 0).single().expect("time"),
    }
}

fn page(items: Vec<(i64, Change)>) -> SyncPage {
    let next_cursor = items.last().map(|(c, _)| *c).unwrap_or(0);
    SyncPage {
        items: items.into_iter().map(|(cursor, change)| SyncItem { cursor, change }).collect(),
        next_cursor,
        has_more: false,
        audit: None,
    }
}

fn new_store(dir: &tempfile::TempDir) -> Store {
    let key = DeviceKey::generate().expect("rng");
    Store::create(&dir.path().join("store.db"), &pin(), &secrets(), PinMode::Keychain, &profile(), &key)
        .expect("create")
}

#[test]
fn create_unlock_and_read_profile() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = new_store(&dir);
    let device = store.device_key().expect("device key").public_key();
    drop(store);
    let store = LockedStore::open(&dir.path().join("store.db"))
        .expect("open")
        .unlock(&pin(), &secrets())
        .expect("unlock");
    assert_eq!(store.profile().expect("profile"), profile());
    assert_eq!(store.device_key().expect("device key").public_key(), device);
    assert!(!dir.path().join("store.creating").exists());
}

#[test]
fn wrong_pin_or_secret_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    drop(new_store(&dir));
    let path = dir.path().join("store.db");
    let other = Pin::parse("902418").expect("valid");
    assert!(matches!(
        LockedStore::open(&path).expect("open").unlock(&other, &secrets()),
        Err(StoreError::WrongPin { attempts_left: 4 })
    ));
    // Another device secret cannot even read the wrong-PIN count, let alone open the store.
    assert!(matches!(
        LockedStore::open(&path)
            .expect("open")
            .unlock(&pin(), &PinSecrets::new(PinMode::Keychain, &[1; 32], None).expect("secrets")),
        Err(StoreError::Tampered { .. })
    ));
    assert!(matches!(LockedStore::open(&dir.path().join("none.db")), Err(StoreError::NotFound)));
}

#[test]
fn the_right_pin_resets_the_count_and_five_wrong_ones_wipe() {
    let dir = tempfile::tempdir().expect("tmp");
    drop(new_store(&dir));
    let path = dir.path().join("store.db");
    let wrong = Pin::parse("902418").expect("valid");
    let try_pin = |p: &Pin| LockedStore::open(&path).expect("open").unlock(p, &secrets()).map(drop);
    for left in [4, 3] {
        assert!(
            matches!(try_pin(&wrong), Err(StoreError::WrongPin { attempts_left }) if attempts_left == left)
        );
    }
    try_pin(&pin()).expect("right pin");
    assert_eq!(LockedStore::open(&path).expect("open").failed_unlocks(&secrets()).expect("count"), 0);
    for left in [4, 3, 2, 1] {
        assert!(
            matches!(try_pin(&wrong), Err(StoreError::WrongPin { attempts_left }) if attempts_left == left)
        );
    }
    assert!(matches!(try_pin(&wrong), Err(StoreError::WipedAfterWrongPins)));
    let left: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").collect();
    assert!(left.is_empty(), "nothing of the store is left: {left:?}");
    assert!(matches!(LockedStore::open(&path), Err(StoreError::NotFound)));
}

#[test]
fn a_new_pin_opens_the_same_rows_and_the_old_one_no_longer_does() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = new_store(&dir);
    store.apply_page(&page(vec![(3, Change::Entry { entry: entry(1, 1, "een") })]), 0).expect("apply");
    let new = Pin::parse("318705").expect("valid");
    let wrong = Pin::parse("902418").expect("valid");
    assert!(matches!(
        store.change_pin(&wrong, &new, &secrets(), &secrets()),
        Err(StoreError::WrongPin { .. })
    ));
    store.change_pin(&pin(), &new, &secrets(), &secrets()).expect("change");
    drop(store);
    let path = dir.path().join("store.db");
    assert!(LockedStore::open(&path).expect("open").unlock(&pin(), &secrets()).is_err());
    let store = LockedStore::open(&path).expect("open").unlock(&new, &secrets()).expect("new pin");
    assert_eq!(store.entry(Uuid::from_u128(1)).expect("read").expect("row").body, "een");
}

#[test]
fn pages_apply_versions_and_tombstones() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = new_store(&dir);
    store
        .apply_page(
            &page(vec![
                (3, Change::Entry { entry: entry(1, 1, "een") }),
                (4, Change::Entry { entry: entry(2, 1, "twee") }),
            ]),
            0,
        )
        .expect("apply");
    assert_eq!(store.cursor().expect("cursor"), 4);
    store
        .apply_page(
            &page(vec![
                (5, Change::Entry { entry: entry(1, 2, "een, aangepast") }),
                (6, Change::EntryDeleted { id: Uuid::from_u128(2), version: 2 }),
            ]),
            4,
        )
        .expect("apply");
    let all = store.entries().expect("entries");
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].body, "een, aangepast");
    assert_eq!(store.entry(Uuid::from_u128(2)).expect("read"), None);
}

#[test]
fn a_page_for_another_cursor_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = new_store(&dir);
    let p = page(vec![(9, Change::Entry { entry: entry(1, 1, "x") })]);
    assert!(matches!(store.apply_page(&p, 5), Err(StoreError::CursorMismatch)));
    assert!(store.entries().expect("entries").is_empty());
}

#[test]
fn tampered_row_fails_with_a_typed_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = new_store(&dir);
    store.apply_page(&page(vec![(1, Change::Entry { entry: entry(1, 1, SECRET_TEXT) })]), 0).expect("apply");
    drop(store);
    let path = dir.path().join("store.db");
    {
        let conn = Connection::open(&path).expect("raw open");
        let sealed: Vec<u8> = conn.query_row("SELECT sealed FROM entries", [], |r| r.get(0)).expect("row");
        let mut bad = sealed.clone();
        bad[20] ^= 0x01;
        conn.execute("UPDATE entries SET sealed = ?1", [bad]).expect("tamper");
    }
    let store = LockedStore::open(&path).expect("open").unlock(&pin(), &secrets()).expect("unlock");
    assert!(matches!(store.entries(), Err(StoreError::Tampered { table: "entries", .. })));
    assert!(matches!(store.entry(Uuid::from_u128(1)), Err(StoreError::Tampered { .. })));
}

#[test]
fn a_row_moved_to_another_version_fails() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = new_store(&dir);
    store.apply_page(&page(vec![(1, Change::Entry { entry: entry(1, 1, "x") })]), 0).expect("apply");
    store.conn.execute("UPDATE entries SET version = 7", []).expect("rollback attack");
    assert!(matches!(store.entries(), Err(StoreError::Tampered { .. })));
}

#[cfg(feature = "fault-injection")]
#[test]
fn a_failure_inside_a_page_leaves_nothing_behind() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = new_store(&dir);
    let p = page(vec![
        (1, Change::Entry { entry: entry(1, 1, "a") }),
        (2, Change::Entry { entry: entry(2, 1, "b") }),
    ]);
    assert!(matches!(store.apply_page_failing_after(&p, 0, 1), Err(StoreError::Injected)));
    assert_eq!(store.cursor().expect("cursor"), 0);
    assert!(store.entries().expect("entries").is_empty());
}

#[test]
fn no_plaintext_reaches_the_files() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = new_store(&dir);
    store.apply_page(&page(vec![(1, Change::Entry { entry: entry(1, 1, SECRET_TEXT) })]), 0).expect("apply");
    for name in ["store.db", "store.db-wal"] {
        let path = dir.path().join(name);
        if let Ok(bytes) = std::fs::read(&path) {
            for needle in [SECRET_TEXT, "Sanne Voorbeeld", "Gesprek 1"] {
                assert!(!bytes.windows(needle.len()).any(|w| w == needle.as_bytes()), "{needle} in {name}");
            }
        }
    }
}

#[test]
fn an_unlock_key_opens_the_store_beside_the_pin_and_survives_a_pin_change() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("store.db");
    let mut store = new_store(&dir);
    store.apply_page(&page(vec![(3, Change::Entry { entry: entry(1, 1, "een") })]), 0).expect("apply");
    let unlock_key = [7u8; SECRET_LEN];
    assert!(!store.has_unlock_key().expect("meta"));
    store.set_unlock_key(&unlock_key).expect("set");
    store.change_pin(&pin(), &Pin::parse("318705").expect("valid"), &secrets(), &secrets()).expect("change");
    drop(store);

    let wrong = Pin::parse("902418").expect("valid");
    assert!(LockedStore::open(&path).expect("open").unlock(&wrong, &secrets()).is_err());
    let locked = LockedStore::open(&path).expect("open");
    assert!(locked.has_unlock_key().expect("meta"));
    assert!(matches!(
        LockedStore::open(&path).expect("open").unlock_with_key(&[8u8; SECRET_LEN], &secrets()),
        Err(StoreError::NoUnlockKey)
    ));
    let mut store = locked.unlock_with_key(&unlock_key, &secrets()).expect("key opens it");
    assert_eq!(store.entry(Uuid::from_u128(1)).expect("read").expect("row").body, "een");
    store.remove_unlock_key().expect("remove");
    drop(store);
    let locked = LockedStore::open(&path).expect("open");
    assert_eq!(
        locked.failed_unlocks(&secrets()).expect("count"),
        0,
        "the owner's unlock ends the row of wrong PINs"
    );
    assert!(matches!(locked.unlock_with_key(&unlock_key, &secrets()), Err(StoreError::NoUnlockKey)));
}

#[test]
fn the_outbox_keeps_order_and_an_arriving_item_leaves_it() {
    use cjg_core::feedback::{Feedback, FeedbackDraft, FeedbackKind, FeedbackStatus};
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = new_store(&dir);
    let draft = |n: u128| FeedbackDraft {
        id: Uuid::from_u128(n),
        entry_id: Uuid::from_u128(1),
        kind: FeedbackKind::Correctie,
        text: format!("{SECRET_TEXT} {n}"),
    };
    for n in [30, 10, 20] {
        store.enqueue_feedback(&draft(n)).expect("enqueue");
    }
    store.enqueue_feedback(&draft(10)).expect("the same item twice is one item");
    let ids: Vec<u128> = store.outbox().expect("outbox").iter().map(|o| o.item.id().as_u128()).collect();
    assert_eq!(ids, [30, 10, 20]);
    store.outbox_failed(Uuid::from_u128(20), "not_found").expect("mark");
    store.outbox_sent(Uuid::from_u128(30)).expect("sent");
    let confirmed = Feedback {
        id: Uuid::from_u128(10),
        entry_id: Uuid::from_u128(1),
        dossier_id: Uuid::from_u128(100),
        author_id: Uuid::from_u128(6),
        author_name: "Sanne Voorbeeld".into(),
        kind: FeedbackKind::Correctie,
        text: format!("{SECRET_TEXT} 10"),
        created_at: Utc::now(),
        status: FeedbackStatus::Open,
        answer: None,
        answered_by: None,
        answered_at: None,
        version: 1,
    };
    store.apply_page(&page(vec![(4, Change::Feedback { feedback: confirmed.clone() })]), 0).expect("apply");
    let left = store.outbox().expect("outbox");
    assert_eq!(left.len(), 1);
    assert_eq!((left[0].item.id().as_u128(), left[0].failed.as_deref()), (20, Some("not_found")));
    assert_eq!(store.feedback().expect("feedback"), vec![confirmed]);
    drop(store);
    for f in std::fs::read_dir(dir.path()).expect("dir") {
        let bytes = std::fs::read(f.expect("entry").path()).expect("read");
        assert!(!bytes.windows(SECRET_TEXT.len()).any(|w| w == SECRET_TEXT.as_bytes()), "nothing in clear");
    }
}

#[test]
fn a_draft_becomes_the_queued_copy_and_comes_back_when_outdated() {
    use cjg_core::questionnaire::{Answer, Answers, Submission};
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = new_store(&dir);
    let task = Uuid::from_u128(7);
    let mut answers = Answers::new();
    answers.insert("tip".into(), Answer::Text(SECRET_TEXT.into()));
    let draft = Draft { task_id: task, version: 1, answers: answers.clone(), saved_at: Utc::now() };
    store.save_draft(&draft).expect("draft");
    assert_eq!(store.draft(task).expect("read"), Some(draft));

    let sub = Submission { id: Uuid::from_u128(70), task_id: task, version: 1, answers: answers.clone() };
    store.enqueue_submission(&sub).expect("queue");
    assert_eq!(store.draft(task).expect("read"), None, "one copy: the queued one");
    let out = store.outbox().expect("outbox");
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].item, OutboxItem::Questionnaire(sub.clone()));

    // The server has a newer version: the answers become a draft again, nothing lost.
    store.return_to_draft(&sub, Utc::now()).expect("back");
    assert!(store.outbox().expect("outbox").is_empty());
    assert_eq!(store.draft(task).expect("read").map(|d| d.answers), Some(answers));
    drop(store);
    for f in std::fs::read_dir(dir.path()).expect("dir") {
        let bytes = std::fs::read(f.expect("entry").path()).expect("read");
        assert!(!bytes.windows(SECRET_TEXT.len()).any(|w| w == SECRET_TEXT.as_bytes()), "nothing in clear");
    }
}

/// Outbox rows written before questionnaires (a bare feedback draft, version 1) still read.
#[test]
fn an_outbox_row_from_before_questionnaires_still_reads() {
    use cjg_core::feedback::{FeedbackDraft, FeedbackKind};
    let dir = tempfile::tempdir().expect("tmp");
    let store = new_store(&dir);
    let old = FeedbackDraft {
        id: Uuid::from_u128(5),
        entry_id: Uuid::from_u128(1),
        kind: FeedbackKind::Vraag,
        text: "Wanneer komt u?".into(),
    };
    let sealed = seal_json(&store.key, T_OUTBOX, &old.id.to_string(), 1, &old).expect("seal");
    store
        .conn
        .execute(
            "INSERT INTO outbox (id, version, sealed) VALUES (?1, 1, ?2)",
            params![old.id.to_string(), sealed.as_bytes()],
        )
        .expect("insert");
    let out = store.outbox().expect("outbox");
    assert_eq!(out[0].item, OutboxItem::Feedback(old));
}

#[test]
fn the_wrong_pin_count_cannot_be_reset_by_editing_the_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("store.db");
    drop(new_store(&dir));
    let wrong = Pin::parse("902418").expect("valid");
    for _ in 0..3 {
        assert!(LockedStore::open(&path).expect("open").unlock(&wrong, &secrets()).is_err());
    }
    let edit = |sql: &str| Connection::open(&path).expect("raw").execute(sql, []).expect("edit");
    let sealed: Vec<u8> = Connection::open(&path)
        .expect("raw")
        .query_row("SELECT value FROM meta WHERE key = 'failed_unlocks'", [], |r| r.get(0))
        .expect("count");
    for forged in ["0", "0:AAAA"] {
        edit(&format!("UPDATE meta SET value = CAST('{forged}' AS BLOB) WHERE key = 'failed_unlocks'"));
        let e = LockedStore::open(&path).expect("open").unlock(&pin(), &secrets()).map(drop);
        assert!(matches!(e, Err(StoreError::Tampered { .. })), "{forged}: {e:?}");
    }
    edit("DELETE FROM meta WHERE key = 'failed_unlocks'");
    assert!(matches!(
        LockedStore::open(&path).expect("open").unlock(&pin(), &secrets()),
        Err(StoreError::Tampered { .. })
    ));
    // Passing the store off as one of before the seal makes the PIN not open it at all.
    Connection::open(&path)
        .expect("raw")
        .execute("INSERT INTO meta (key, value) VALUES ('failed_unlocks', ?1)", [sealed])
        .expect("restore");
    edit("DELETE FROM meta WHERE key = 'pin_mode'");
    let legacy = PinSecrets::new(PinMode::Legacy, &SECRET, None).expect("secrets");
    assert!(LockedStore::open(&path).expect("open").unlock(&pin(), &legacy).is_err());
}

#[test]
fn a_wrong_old_pin_at_a_pin_change_counts() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("store.db");
    let mut store = new_store(&dir);
    let wrong = Pin::parse("902418").expect("valid");
    let new = Pin::parse("318705").expect("valid");
    for left in [4, 3] {
        let e = store.change_pin(&wrong, &new, &secrets(), &secrets());
        assert!(matches!(e, Err(StoreError::WrongPin { attempts_left }) if attempts_left == left));
    }
    drop(store);
    assert_eq!(LockedStore::open(&path).expect("open").failed_unlocks(&secrets()).expect("count"), 2);
}

#[cfg(unix)]
#[test]
fn the_store_file_is_for_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tmp");
    drop(new_store(&dir));
    let mode = std::fs::metadata(dir.path().join("store.db")).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}
