//! The real server binary, the real client library, a real encrypted store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::Path;

use cjg_client::{ClientError, SyncOptions};
use cjg_core::validate::Pin;
use cjg_store::{LockedStore, Store, StoreError};
use cjg_tests::{
    contains, demo_needles, family_entry, params, Entry, EntryDraft, EntryKind, TestServer, PIN,
};
use serde_json::{json, Value};

const SECRET: [u8; 32] = [9; 32];

/// These stores stand for a device whose secret is in a keychain: the PIN opens them offline.
fn secrets() -> cjg_store::PinSecrets {
    cjg_store::PinSecrets::new(cjg_store::PinMode::Keychain, &SECRET, None).unwrap()
}

fn pin() -> Pin {
    Pin::parse(cjg_tests::PIN).unwrap()
}

async fn enrol(server: &TestServer, who: &str, dir: &Path) -> Store {
    cjg_client::enrol(
        &server.url,
        &server.code_for(who),
        &pin(),
        &SECRET,
        cjg_store::PinMode::Keychain,
        &dir.join("store.db"),
        "testapparaat",
    )
    .await
    .expect("enrol")
}

fn titles(store: &Store) -> BTreeSet<String> {
    store.entries().unwrap().into_iter().map(|e| e.title).collect()
}

fn staff_titles(entries: &[Entry]) -> BTreeSet<String> {
    entries.iter().map(|e| e.title.clone()).collect()
}

#[tokio::test]
async fn enrol_pull_edit_and_delete_arrive() {
    let server = TestServer::start().unwrap();
    assert_eq!(server.codes.len(), 7, "a code for every family member with own access, two families");
    let dir = tempfile::tempdir().unwrap();
    let mut store = enrol(&server, "Sanne", dir.path()).await;
    assert_eq!(store.profile().unwrap().display_name, "Sanne Voorbeeld");

    let mut seen = Vec::new();
    let done =
        cjg_client::sync(&mut store, &SyncOptions { page_limit: Some(4), ..Default::default() }, |p| {
            seen.push(p)
        })
        .await
        .unwrap();
    assert!(done.done && done.pages >= 4, "paged: {done:?}");
    assert_eq!(
        seen.last().unwrap().items,
        35,
        "11 entries a parent may see, 6 people, 2 questionnaires, 15 articles, 1 reading tip"
    );

    let staff = server.staff().await.unwrap();
    let dossier = staff.dossier_id(&server.db()).await;
    let on_server = staff.entries(dossier).await.unwrap();
    assert_eq!(on_server.len(), 15);
    let mut for_parents = staff_titles(&on_server);
    for hidden in [
        "Gesprek met Milan",
        "Afspraak met Milan over zijn stage",
        "Gesprek alleen met Noor",
        "Werkaantekening: overleg voorbereiden",
    ] {
        assert!(for_parents.remove(hidden), "{hidden}");
    }
    assert_eq!(titles(&store), for_parents, "the store holds exactly what a parent may see");
    assert_eq!(store.people().unwrap().len(), 6);

    // A coach edits one entry and deletes another.
    let edited = &on_server[0];
    let mut draft = EntryDraft {
        kind: edited.kind,
        child_id: edited.child_id,
        visibility: None,
        title: "Aangepast verslag".into(),
        body: "Nieuwe tekst na het gesprek.".into(),
        occurred_on: edited.occurred_on,
    };
    let resp = staff.update_entry(edited.id, 1, &draft).await.unwrap();
    assert_eq!(resp.status(), 200);
    // A stale edit is refused and changes nothing.
    draft.title = "Verouderde wijziging".into();
    let stale = staff.update_entry(edited.id, 1, &draft).await.unwrap();
    assert_eq!(stale.status(), 409);
    assert_eq!(stale.json::<Value>().await.unwrap()["error"]["code"], "conflict");
    let gone = &on_server[1];
    assert_eq!(staff.delete_entry(gone.id).await.unwrap().status(), 204);
    let cursor_before = store.cursor().unwrap();
    cjg_client::sync(&mut store, &SyncOptions::default(), |_| {}).await.unwrap();
    assert!(store.cursor().unwrap() > cursor_before);

    let now = titles(&store);
    assert_eq!(now.len(), 10);
    assert!(now.contains("Aangepast verslag"));
    assert!(!now.contains(&edited.title));
    assert!(!now.contains(&gone.title));
    let edited_local = store.entry(edited.id).unwrap().unwrap();
    assert_eq!(edited_local.version, 2);
    assert_eq!(edited_local.body, "Nieuwe tekst na het gesprek.");

    // Every staff read and write left an audit event with its purpose.
    let audit: Vec<(String, String)> = server
        .db()
        .query_map("SELECT action, purpose FROM audit_events ORDER BY id", params![], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    let actions: Vec<&str> = audit.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(actions, ["read", "update", "delete"], "the refused stale edit is not logged as a change");
    assert!(audit.iter().all(|(_, p)| p == "hulpverlening"));

    // A second sync with nothing new changes nothing.
    let again = cjg_client::sync(&mut store, &SyncOptions::default(), |_| {}).await.unwrap();
    assert_eq!(again.items, 0);
}

#[tokio::test]
async fn a_failure_inside_a_page_leaves_no_partial_page_and_no_cursor_move() {
    let server = TestServer::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut store = enrol(&server, "Karim", dir.path()).await;
    let opts = SyncOptions { page_limit: Some(5), fail_in_page: Some((1, 2)), ..SyncOptions::default() };
    let err = cjg_client::sync(&mut store, &opts, |_| {}).await.expect_err("injected");
    assert!(matches!(err, ClientError::Store(StoreError::Injected)), "{err:?}");
    let after_first_page = store.cursor().unwrap();
    let stored = store.entries().unwrap().len() + store.people().unwrap().len();
    assert_eq!(stored, 5, "exactly the first page, none of the second");

    // Closing and reopening (the "killed client") shows the same state; the next sync completes.
    drop(store);
    let mut store =
        LockedStore::open(&dir.path().join("store.db")).unwrap().unlock(&pin(), &secrets()).unwrap();
    assert_eq!(store.cursor().unwrap(), after_first_page);
    cjg_client::sync(&mut store, &SyncOptions { page_limit: Some(5), ..Default::default() }, |_| {})
        .await
        .unwrap();
    assert_eq!(store.entries().unwrap().len(), 11);
}

/// A dossier of 151 entries a parent may see arrives whole over many pages. The first pull
/// stores Sanne's access to each in groups (64, 8 and 1 rows a statement): every decision gets a
/// sequence number of its own, none shared with anything else in the change feed.
#[tokio::test]
async fn a_large_dossier_arrives_whole_and_its_access_decisions_each_get_a_sequence_number() {
    let server = TestServer::start().unwrap();
    let staff = server.staff().await.unwrap();
    let db = server.db();
    let dossier = staff.dossier_id(&db).await;
    for i in 0..140 {
        let title = format!("Afspraak {i:03}");
        let draft = family_entry(
            EntryKind::Afspraak,
            &title,
            "We spraken af dat de coach volgende week belt.",
            "2026-11-30",
        );
        staff.create_entry(dossier, &draft).await.unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let mut store = enrol(&server, "Sanne", dir.path()).await;
    let opts = SyncOptions { page_limit: Some(40), ..Default::default() };
    let done = cjg_client::sync(&mut store, &opts, |_| {}).await.unwrap();
    assert!(done.done && done.pages >= 5, "{done:?}");
    let held = titles(&store);
    assert_eq!(held.len(), 151, "11 entries from before and 140 new ones");
    assert!((0..140).all(|i| held.contains(&format!("Afspraak {i:03}"))));

    let sanne = cjg_tests::person_id(&db, "Sanne Voorbeeld");
    let count = |sql: &str| -> i64 { db.query_row(sql, params![sanne.clone()], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT COUNT(*) FROM entry_access WHERE person_id = ?1 AND visible = 1"), 151);
    assert_eq!(count("SELECT COUNT(DISTINCT seq) FROM entry_access WHERE person_id = ?1"), 151);
    assert_eq!(
        count("SELECT COUNT(*) FROM entry_access a JOIN entries e ON e.seq = a.seq WHERE a.person_id = ?1"),
        0,
        "an access decision shares no sequence number with an entry"
    );
    let top = db.top_seq();
    assert!(count("SELECT MAX(seq) FROM entry_access WHERE person_id = ?1") <= top);

    // Nothing is sent again: a second sync finds nothing new.
    let again = cjg_client::sync(&mut store, &opts, |_| {}).await.unwrap();
    assert_eq!(titles(&store).len(), 151);
    assert!(again.done, "{again:?}");
}

/// The app keeps its token in memory and uses it again: more syncs, no new tokens (a quiet sync
/// is one request, and the server writes nothing for it). A kept token the server no longer
/// knows is replaced without the person noticing; locking forgets it.
#[tokio::test]
async fn the_app_uses_its_token_again_and_replaces_one_the_server_forgot() {
    let server = TestServer::start().unwrap();
    let db = server.db();
    let tokens = move || -> i64 {
        db.query_row("SELECT COUNT(*) FROM tokens WHERE subject_kind = 'device'", params![], |r| r.get(0))
            .unwrap()
    };
    let (_dir, app) = cjg_tests::enrolled_app(&server, "Sanne").await;
    let first = tokens();
    assert!(first >= 1);
    for _ in 0..3 {
        app.sync(|_| {}).await.unwrap();
    }
    assert_eq!(tokens(), first, "no new token while the kept one lives");

    // The server forgets every device token; a coach writes. The next sync gets a new token
    // and brings the entry.
    server.db().execute("DELETE FROM tokens WHERE subject_kind = 'device'", params![]).unwrap();
    let staff = server.staff().await.unwrap();
    let dossier = staff.dossier_id(&server.db()).await;
    let draft =
        family_entry(EntryKind::Afspraak, "Na het vergeten token", "We bellen volgende week.", "2026-11-30");
    staff.create_entry(dossier, &draft).await.unwrap();
    app.sync(|_| {}).await.unwrap();
    assert_eq!(tokens(), 1);
    let titles: Vec<String> = app.dossier().await.unwrap().entries.into_iter().map(|e| e.title).collect();
    assert!(titles.iter().any(|t| t == "Na het vergeten token"), "{titles:?}");

    // Locking forgets the token.
    let sanne = app.status().await.unwrap().account.unwrap();
    app.lock().await;
    app.unlock(sanne, PIN).await.unwrap();
    app.sync(|_| {}).await.unwrap();
    assert_eq!(tokens(), 2, "a new token after unlocking");
}

#[tokio::test]
async fn the_store_files_hold_no_demo_text_in_clear() {
    let server = TestServer::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut store = enrol(&server, "Sanne", dir.path()).await;
    cjg_client::sync(&mut store, &SyncOptions::default(), |_| {}).await.unwrap();
    let staff = server.staff().await.unwrap();
    let entries = staff.entries(staff.dossier_id(&server.db()).await).await.unwrap();
    let needles = demo_needles(&entries);
    assert!(needles.len() > 30, "a meaningful set of needles");

    let mut checked = 0;
    for name in ["store.db", "store.db-wal"] {
        if let Ok(bytes) = std::fs::read(dir.path().join(name)) {
            checked += bytes.len();
            for n in &needles {
                assert!(!contains(&bytes, n), "{n:?} found in clear in {name}");
            }
        }
    }
    assert!(checked > 10_000, "the files were really read ({checked} bytes)");
    // The same needles are found in the server's own (unencrypted) database: the check works.
    if cjg_tests::on_postgres() {
        return;
    }
    let server_bytes = std::fs::read(server.data_dir.join("cjg-server.db")).unwrap_or_default();
    let wal = std::fs::read(server.data_dir.join("cjg-server.db-wal")).unwrap_or_default();
    assert!(contains(&[server_bytes, wal].concat(), &needles[3]));
}

#[tokio::test]
async fn activation_codes_wrong_used_expired_and_malformed() {
    let server = TestServer::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let try_code = |code: String| {
        let url = server.url.clone();
        let path = path.clone();
        async move {
            cjg_client::enrol(&url, &code, &pin(), &SECRET, cjg_store::PinMode::Keychain, &path, "t")
                .await
                .map(|_| ())
                .expect_err("refused")
        }
    };
    assert_eq!(try_code("AAAA-BBBB-CCCC".into()).await.code(), "activation_code_invalid");
    assert_eq!(try_code("hallo".into()).await.code(), "activation_code_format");
    assert!(!path.exists(), "no store is left behind by a refused code");

    let code = server.code_for("Noor");
    drop(enrol(&server, "Noor", dir.path()).await);
    let other = tempfile::tempdir().unwrap();
    let e = cjg_client::enrol(
        &server.url,
        &code,
        &pin(),
        &SECRET,
        cjg_store::PinMode::Keychain,
        &other.path().join("s.db"),
        "t",
    )
    .await
    .map(|_| ())
    .unwrap_err();
    assert_eq!(e.code(), "activation_code_used");

    server
        .db()
        .execute("UPDATE activation_codes SET expires_at = '2020-01-01T00:00:00Z'", params![])
        .unwrap();
    let e = cjg_client::enrol(
        &server.url,
        &server.code_for("Karim"),
        &pin(),
        &SECRET,
        cjg_store::PinMode::Keychain,
        &other.path().join("s.db"),
        "t",
    )
    .await
    .map(|_| ())
    .unwrap_err();
    assert_eq!(e.code(), "activation_code_expired");
    assert!(!other.path().join("s.db").exists());
}

#[tokio::test]
async fn guessing_codes_is_rate_limited() {
    let server = TestServer::start_with(&["--attempts-per-minute", "3"]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut codes = Vec::new();
    for _ in 0..4 {
        let e = cjg_client::enrol(
            &server.url,
            "AAAA-BBBB-CCCC",
            &pin(),
            &SECRET,
            cjg_store::PinMode::Keychain,
            &dir.path().join("s.db"),
            "t",
        )
        .await
        .map(|_| ())
        .unwrap_err();
        codes.push(e.code());
    }
    assert_eq!(
        codes,
        ["activation_code_invalid", "activation_code_invalid", "activation_code_invalid", "rate_limited"]
    );
}

#[tokio::test]
async fn wrong_pin_is_refused_and_loses_nothing() {
    let server = TestServer::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut store = enrol(&server, "Sanne", dir.path()).await;
    cjg_client::sync(&mut store, &SyncOptions::default(), |_| {}).await.unwrap();
    drop(store);
    let path = dir.path().join("store.db");
    let wrong = LockedStore::open(&path).unwrap().unlock(&Pin::parse("902418").unwrap(), &secrets());
    assert!(matches!(wrong, Err(StoreError::WrongPin { attempts_left: 4 })));
    let store = LockedStore::open(&path).unwrap().unlock(&pin(), &secrets()).unwrap();
    assert_eq!(store.entries().unwrap().len(), 11);
}

#[tokio::test]
async fn an_unreachable_server_keeps_local_data() {
    let mut server = TestServer::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut store = enrol(&server, "Sanne", dir.path()).await;
    cjg_client::sync(&mut store, &SyncOptions::default(), |_| {}).await.unwrap();
    let cursor = store.cursor().unwrap();
    server.stop();
    let e = cjg_client::sync(&mut store, &SyncOptions::default(), |_| {}).await.unwrap_err();
    assert_eq!(e.code(), "server_unreachable");
    assert_eq!(store.cursor().unwrap(), cursor);
    assert_eq!(store.entries().unwrap().len(), 11);
}

/// Every JSON route refuses malformed JSON and unknown fields with a 4xx JSON error.
#[tokio::test]
async fn bad_requests_get_json_errors_with_codes() {
    let server = TestServer::start().unwrap();
    let staff = server.staff().await.unwrap();
    let dossier = staff.dossier_id(&server.db()).await;
    let entry = &staff.entries(dossier).await.unwrap()[0];
    let entry_id = entry.id.to_string();
    let person: String =
        server.db().query_row("SELECT id FROM people LIMIT 1", params![], |r| r.get(0)).unwrap();
    let http = reqwest::Client::new();
    let routes = [
        ("POST", "/v1/enrol".to_owned()),
        ("POST", "/v1/auth/challenge".to_owned()),
        ("POST", "/v1/auth/token".to_owned()),
        ("POST", "/v1/staff/login".to_owned()),
        ("POST", format!("/v1/staff/dossiers/{dossier}/entries")),
        ("PUT", format!("/v1/staff/entries/{entry_id}")),
    ];
    for (method, path) in &routes {
        for (body, expected) in
            [("{not json", "malformed_json"), (r#"{"unknown_field": 1}"#, "malformed_json")]
        {
            let resp = http
                .request(method.parse().unwrap(), format!("{}{path}", server.url))
                .bearer_auth(&staff.token)
                .header("X-Cjg-Purpose", "hulpverlening")
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            let v: Value = resp.json().await.unwrap();
            assert!((400..500).contains(&status), "{method} {path}: {status}");
            assert_eq!(v["error"]["code"], expected, "{method} {path} {body}");
        }
    }
    // Oversized body, unknown query field, missing purpose, no token, unknown route.
    let big = "x".repeat(300 * 1024);
    let resp = http
        .post(format!("{}/v1/enrol", server.url))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    assert_eq!(resp.json::<Value>().await.unwrap()["error"]["code"], "payload_too_large");
    let resp = http.get(format!("{}/v1/sync?cursor=0&evil=1", server.url)).send().await.unwrap();
    assert_eq!(resp.status(), 401, "auth first");
    let resp = http
        .get(format!("{}/v1/staff/dossiers/{dossier}/entries", server.url))
        .bearer_auth(&staff.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.json::<Value>().await.unwrap()["error"]["code"],
        "purpose_required",
        "a purpose is required"
    );
    let resp = http
        .post(format!("{}/v1/staff/people/{person}/activation-codes", server.url))
        .bearer_auth("not-a-token")
        .header("X-Cjg-Purpose", "hulpverlening")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let resp = http.get(format!("{}/v1/nothing-here", server.url)).send().await.unwrap();
    assert_eq!(resp.json::<Value>().await.unwrap()["error"]["code"], "not_found");
    // A validation error names the problem and stores nothing.
    let resp = http
        .post(format!("{}/v1/staff/dossiers/{dossier}/entries", server.url))
        .bearer_auth(&staff.token)
        .header("X-Cjg-Purpose", "verslag_schrijven")
        .json(&json!({"kind": "plan", "child_id": null, "title": "   ", "body": "b", "occurred_on": "2026-01-01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.json::<Value>().await.unwrap()["error"]["code"], "validation");
    assert_eq!(staff.entries(dossier).await.unwrap().len(), 15);
}

#[tokio::test]
async fn staff_codes_enrol_and_openapi_is_served() {
    let server = TestServer::start().unwrap();
    let http = reqwest::Client::new();
    let doc: Value =
        http.get(format!("{}/v1/openapi.json", server.url)).send().await.unwrap().json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc["paths"]["/v1/sync"].is_object());
    let health: Value =
        http.get(format!("{}/v1/health", server.url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "ok");

    let staff = server.staff().await.unwrap();
    let person_id = |name: &str| -> String {
        server.db().query_row("SELECT id FROM people WHERE display_name = ?1", [name], |r| r.get(0)).unwrap()
    };
    let new_code = |person: String| {
        http.post(format!("{}/v1/staff/people/{person}/activation-codes", server.url))
            .bearer_auth(&staff.token)
            .header("X-Cjg-Purpose", "hulpverlening")
            .send()
    };
    // A child of 9 has no own access: no code is made for him.
    let refused = new_code(person_id("Daan Voorbeeld")).await.unwrap();
    assert_eq!(refused.status(), 400);
    assert_eq!(refused.json::<Value>().await.unwrap()["error"]["code"], "validation");
    let resp: Value = new_code(person_id("Milan Voorbeeld")).await.unwrap().json().await.unwrap();
    let code = resp["code"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = cjg_client::enrol(
        &server.url,
        code,
        &pin(),
        &SECRET,
        cjg_store::PinMode::Keychain,
        &dir.path().join("s.db"),
        "t",
    )
    .await
    .unwrap();
    assert_eq!(store.profile().unwrap().display_name, "Milan Voorbeeld");
    let hashed: i64 =
        server.db().query_row("SELECT COUNT(*) FROM activation_codes", params![], |r| r.get(0)).unwrap();
    assert_eq!(hashed, 8, "seven demo codes and Milan's new one, each stored as a hash");
}

/// The Dossier list gets the first part of what matches, in the order of the whole list, with
/// the counts to say how much more there is; filters run in the app core.
#[tokio::test]
async fn the_dossier_list_comes_a_part_at_a_time_and_filtered() {
    use cjg_client::app::{DossierQuery, EntryAbout};
    let server = TestServer::start().unwrap();
    let (_dir, app) = cjg_tests::enrolled_app(&server, "Sanne").await;
    app.sync(|_| {}).await.unwrap();
    let all = app.dossier().await.unwrap();
    assert_eq!((all.total, all.matching, all.entries.len()), (11, 11, 11));
    let ids = |v: &cjg_client::app::DossierView| v.entries.iter().map(|e| e.id).collect::<Vec<_>>();

    let first = app.dossier_page(&DossierQuery { limit: Some(4), ..Default::default() }).await.unwrap();
    assert_eq!((first.total, first.matching), (11, 11));
    assert_eq!(ids(&first), ids(&all)[..4], "the newest four, in the list's order");
    let none = app.dossier_page(&DossierQuery { limit: Some(0), ..Default::default() }).await.unwrap();
    assert!(none.entries.is_empty());

    let plans = app
        .dossier_page(&DossierQuery { kind: Some(EntryKind::Plan), limit: Some(50), ..Default::default() })
        .await
        .unwrap();
    let want: Vec<_> = all.entries.iter().filter(|e| e.kind == EntryKind::Plan).map(|e| e.id).collect();
    assert!(!want.is_empty());
    assert_eq!(ids(&plans), want);
    assert_eq!((plans.total, plans.matching as usize), (11, want.len()));

    let family = app
        .dossier_page(&DossierQuery { about: Some(EntryAbout::Family), ..Default::default() })
        .await
        .unwrap();
    assert!(!family.entries.is_empty() && family.entries.iter().all(|e| e.child_id.is_none()));
    let child = all.entries.iter().find_map(|e| e.child_id).expect("an entry about a child");
    let about_child = app
        .dossier_page(&DossierQuery { about: Some(EntryAbout::Child(child)), ..Default::default() })
        .await
        .unwrap();
    assert!(!about_child.entries.is_empty() && about_child.entries.iter().all(|e| e.child_id == Some(child)));
    assert!(family.matching + about_child.matching <= all.total);
}
