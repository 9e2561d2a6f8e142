//! Who may see what, end to end: the real server decides, the real client stores what it got.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use cjg_client::app::{Notice, Phase};
use cjg_client::{Session, SyncOptions};
use cjg_store::Store;
use cjg_tests::{enrolled_store, params, TestServer, PIN};
use serde_json::{json, Value};

async fn synced_titles(store: &mut Store) -> BTreeSet<String> {
    cjg_client::sync(store, &SyncOptions::default(), |_| {}).await.unwrap();
    store.entries().unwrap().into_iter().map(|e| e.title).collect()
}

const FAMILY: [&str; 6] = [
    "Kennismaking met het gezin",
    "Afspraak: tweede gesprek thuis",
    "Ons gezinsplan",
    "Hoe gaat het met het plan?",
    "Tussenevaluatie na drie maanden",
    "Tussenevaluatie",
];
const NOOR: [&str; 2] = ["Gesprek met Noor", "Afspraak over schermtijd"];
const NOOR_ALONE: &str = "Gesprek alleen met Noor";
const DAAN: [&str; 2] = ["Gesprek met Daan", "Daan en voetbal"];
const MILAN: [&str; 2] = ["Gesprek met Milan", "Afspraak met Milan over zijn stage"];
const PARENTS: &str = "Gesprek met Sanne en Karim";
const WORK_NOTE: &str = "Werkaantekening: overleg voorbereiden";

fn set(parts: &[&[&str]]) -> BTreeSet<String> {
    parts.iter().flat_map(|p| p.iter()).map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn each_family_member_gets_exactly_what_the_law_allows() {
    let server = TestServer::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut sanne = enrolled_store(&server, "Sanne", dir.path()).await;
    let mut ineke = enrolled_store(&server, "Ineke", dir.path()).await;
    let mut noor = enrolled_store(&server, "Noor", dir.path()).await;
    let mut milan = enrolled_store(&server, "Milan", dir.path()).await;
    let mut eva = enrolled_store(&server, "Eva", dir.path()).await;

    assert_eq!(synced_titles(&mut sanne).await, set(&[&FAMILY, &NOOR, &DAAN, &[PARENTS]]), "parent, gezag");
    assert_eq!(synced_titles(&mut ineke).await, set(&[&FAMILY]), "other carer: the family entries only");
    assert_eq!(synced_titles(&mut noor).await, set(&[&FAMILY, &NOOR, &[NOOR_ALONE]]), "youth of 14");
    assert_eq!(synced_titles(&mut milan).await, set(&[&FAMILY, &MILAN]), "youth of 17");
    let other_family = synced_titles(&mut eva).await;
    assert_eq!(other_family.len(), 2);
    assert!(other_family.iter().all(|t| !t.contains("Voorbeeld") && !FAMILY.contains(&t.as_str())));
    for store in [&sanne, &ineke, &noor, &milan, &eva] {
        assert!(
            !store.entries().unwrap().iter().any(|e| e.title == WORK_NOTE),
            "work notes stay on the server"
        );
    }
    assert!(eva.people().unwrap().iter().all(|p| !p.display_name.contains("Voorbeeld")));
}

/// The youth turns 16 (the server's clock moves), the parent's next sync removes the youth's
/// entries; the youth consents and they come back; the youth withdraws and they go again.
#[tokio::test]
async fn turning_16_takes_entries_from_the_parents_and_consent_gives_them_back() {
    let data = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_in(data.path(), "127.0.0.1:0", &[]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut sanne = enrolled_store(&server, "Sanne", dir.path()).await;
    let mut noor = enrolled_store(&server, "Noor", dir.path()).await;
    assert!(synced_titles(&mut sanne).await.is_superset(&set(&[&NOOR])));
    let entries_before = sanne.entries().unwrap().len();

    let sixteenth = cjg_tests::days_until_sixteen(&server.db(), "Noor Voorbeeld");
    // The day before: nothing changes yet. On the birthday: the parents lose her entries.
    let listen = server.url.trim_start_matches("http://").to_owned();
    for (days, parents_see_noor) in [(sixteenth - 1, true), (sixteenth, false)] {
        server.stop();
        server =
            TestServer::start_in(data.path(), &listen, &["--clock-offset-days", &days.to_string()]).unwrap();
        let titles = synced_titles(&mut sanne).await;
        assert_eq!(titles.is_superset(&set(&[&NOOR])), parents_see_noor, "offset {days}");
        assert!(titles.is_superset(&set(&[&FAMILY, &DAAN])), "family and Daan's entries stay");
    }
    assert_eq!(sanne.entries().unwrap().len(), entries_before - NOOR.len());
    assert!(synced_titles(&mut noor).await.is_superset(&set(&[&NOOR, &[NOOR_ALONE]])), "Noor keeps hers");

    let session = Session::of(&noor).unwrap();
    let token = session.token().await.unwrap();
    session.client.set_consent(&token, true).await.unwrap();
    let titles = synced_titles(&mut sanne).await;
    assert!(titles.is_superset(&set(&[&NOOR])), "consent brings them back");
    assert!(!titles.contains(NOOR_ALONE), "consent never opens youth-only entries");
    session.client.set_consent(&token, false).await.unwrap();
    assert!(
        synced_titles(&mut sanne).await.is_disjoint(&set(&[&NOOR])),
        "withdrawn consent removes them again"
    );
    let recorded: i64 =
        server.db().query_row("SELECT COUNT(*) FROM consents", params![], |r| r.get(0)).unwrap();
    assert_eq!(recorded, 2, "both the consent and its withdrawal are kept");

    // A parent cannot give consent for a youth.
    let sanne_session = Session::of(&sanne).unwrap();
    let t = sanne_session.token().await.unwrap();
    let e = sanne_session.client.set_consent(&t, true).await.unwrap_err();
    assert_eq!(e.code(), "forbidden");
}

/// A "yes" a youth gave at 14 does not carry past the 16th birthday in silence: from that day
/// the parents read nothing of theirs until the youth says yes again, and the app asks.
#[tokio::test]
async fn a_consent_given_before_16_is_asked_again_at_16() {
    let data = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_in(data.path(), "127.0.0.1:0", &[]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut sanne = enrolled_store(&server, "Sanne", dir.path()).await;
    let noor = enrolled_store(&server, "Noor", dir.path()).await;
    let session = Session::of(&noor).unwrap();
    let token = session.token().await.unwrap();
    session.client.set_consent(&token, true).await.unwrap();
    assert!(synced_titles(&mut sanne).await.is_superset(&set(&[&NOOR])), "under 16 the parents read along");

    let sixteenth = cjg_tests::days_until_sixteen(&server.db(), "Noor Voorbeeld");
    let listen = server.url.trim_start_matches("http://").to_owned();
    server.stop();
    server =
        TestServer::start_in(data.path(), &listen, &[&format!("--clock-offset-days={sixteenth}")]).unwrap();
    assert!(
        synced_titles(&mut sanne).await.is_disjoint(&set(&[&NOOR])),
        "the consent from 14 does not count at 16"
    );
    let token = session.token().await.unwrap();
    session.client.set_consent(&token, true).await.unwrap();
    assert!(synced_titles(&mut sanne).await.is_superset(&set(&[&NOOR])), "a new yes at 16 counts");

    // The app asks: Milan (17) has a yes on record from when he was 15.
    let milan_dir = tempfile::tempdir().unwrap();
    let milan = cjg_tests::app(milan_dir.path());
    milan.enrol(&server.url, &server.code_for("Milan"), PIN, PIN, "").await.unwrap();
    milan.sync(|_| {}).await.unwrap();
    assert!(!milan.dossier().await.unwrap().consent_ask_again);
    let db = server.db();
    let born: String = db
        .query_row("SELECT birth_date FROM people WHERE display_name = 'Milan Voorbeeld'", params![], |r| {
            r.get(0)
        })
        .unwrap();
    let at_15 = chrono::NaiveDate::parse_from_str(&born, "%Y-%m-%d").unwrap() + chrono::Months::new(15 * 12);
    let seq = db.next_seq();
    db.execute(
        "UPDATE people SET shares_with_parents = 1, consent_on = ?1, version = version + 1, seq = ?2
         WHERE display_name = 'Milan Voorbeeld'",
        params![at_15.to_string(), seq],
    )
    .unwrap();
    milan.sync(|_| {}).await.unwrap();
    assert!(milan.dossier().await.unwrap().consent_ask_again, "the app asks Milan again");
    assert!(
        synced_titles(&mut sanne).await.is_disjoint(&set(&[&MILAN])),
        "until then his parents read nothing"
    );
    milan.set_consent(true).await.unwrap();
    milan.sync(|_| {}).await.unwrap();
    assert!(!milan.dossier().await.unwrap().consent_ask_again, "answered");
    assert!(synced_titles(&mut sanne).await.is_superset(&set(&[&MILAN])));
}

/// A device revoked elsewhere wipes itself at its next contact and says why; re-enrolment
/// restores everything by sync.
#[tokio::test]
async fn revoked_devices_wipe_and_re_enrolment_restores() {
    let server = TestServer::start().unwrap();
    let laptop = tempfile::tempdir().unwrap();
    let app = cjg_tests::app(laptop.path());
    app.enrol(&server.url, &server.code_for("Sanne"), PIN, PIN, "Sanne").await.unwrap();
    app.sync(|_| {}).await.unwrap();
    assert_eq!(app.dossier().await.unwrap().entries.len(), 11);

    // Sanne's phone: a second device for the same person, which sees and revokes the laptop.
    let staff = server.staff().await.unwrap();
    let sanne_id = cjg_tests::person_id(&server.db(), "Sanne Voorbeeld");
    let code = staff.activation_code(&sanne_id).await.unwrap();
    let phone_dir = tempfile::tempdir().unwrap();
    let phone = cjg_tests::app(phone_dir.path());
    phone.enrol(&server.url, &code, "318705", "318705", "").await.unwrap();
    let devices = phone.devices().await.unwrap();
    assert_eq!(devices.devices.len(), 2);
    let laptop_id = devices.devices.iter().find(|d| d.id != devices.this_device).unwrap().id;
    phone.revoke_device(laptop_id).await.unwrap();
    let after = phone.devices().await.unwrap();
    assert!(after.devices.iter().find(|d| d.id == laptop_id).unwrap().revoked_at.is_some());

    let e = app.sync(|_| {}).await.unwrap_err();
    assert_eq!(e.code(), "wiped_revoked");
    let status = app.status().await.unwrap();
    assert_eq!((status.phase, status.notice), (Phase::New, Some(Notice::Revoked)));
    assert!(status.accounts.is_empty(), "the account is gone");
    let left = std::fs::read_dir(laptop.path().join("accounts")).unwrap().count();
    assert_eq!(left, 0, "nothing of the local store is left");

    // Staff revoke the phone: same outcome, and the action is in the audit log.
    let resp = staff
        .http
        .delete(format!("{}/v1/staff/devices/{}", server.url, devices.this_device))
        .bearer_auth(&staff.token)
        .header("X-Cjg-Purpose", "verzoek_client")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(phone.devices().await.unwrap_err().code(), "wiped_revoked");
    let logged: i64 = server
        .db()
        .query_row(
            "SELECT COUNT(*) FROM audit_events WHERE object_type = 'device' AND action = 'update'",
            params![],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(logged, 1);

    // A fresh code on the wiped laptop brings everything back.
    let code = staff.activation_code(&sanne_id).await.unwrap();
    app.enrol(&server.url, &code, PIN, PIN, "Sanne").await.unwrap();
    app.sync(|_| {}).await.unwrap();
    assert_eq!(app.dossier().await.unwrap().entries.len(), 11);
    assert_eq!(app.status().await.unwrap().notice, None);
}

#[tokio::test]
async fn five_wrong_pins_wipe_and_a_pin_change_keeps_everything() {
    let server = TestServer::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let app = cjg_tests::app(dir.path());
    app.enrol(&server.url, &server.code_for("Karim"), PIN, PIN, "Karim").await.unwrap();
    app.sync(|_| {}).await.unwrap();
    let karim = app.status().await.unwrap().account.unwrap();

    app.change_pin(PIN, "318705", "318705").await.unwrap();
    app.lock().await;
    assert_eq!(app.unlock(karim, PIN).await.unwrap_err().code(), "wrong_pin", "the old PIN no longer works");
    app.unlock(karim, "318705").await.unwrap();
    assert_eq!(app.dossier().await.unwrap().entries.len(), 11, "every row readable under the new PIN");
    assert_eq!(app.change_pin("111111", "402983", "402983").await.unwrap_err().code(), "wrong_pin");
    assert_eq!(app.change_pin("318705", "402983", "402984").await.unwrap_err().code(), "pin_mismatch");

    app.lock().await;
    // One wrong try was already made above; the right PIN reset the count before that.
    let codes: Vec<&str> = {
        let mut v = Vec::new();
        for _ in 0..5 {
            v.push(app.unlock(karim, "770314").await.unwrap_err().code());
        }
        v
    };
    assert_eq!(codes, ["wrong_pin", "wrong_pin", "wrong_pin", "wrong_pin_last_try", "wiped_wrong_pin"]);
    let status = app.status().await.unwrap();
    assert_eq!((status.phase, status.notice), (Phase::New, Some(Notice::WipedWrongPin)));
    assert!(status.accounts.is_empty());
    assert_eq!(std::fs::read_dir(dir.path().join("accounts")).unwrap().count(), 0);
}

/// For every route of the server (read from its own OpenAPI document, which a unit test holds
/// equal to the router), every caller who is not the owner is refused or gets nothing of the
/// owner's: other families' devices, a youth of the same family, the coach of another
/// caseload, and nobody at all.
#[tokio::test]
async fn every_route_refuses_everyone_but_the_owner() {
    // Many callers from one address: the guessing limit is not what this test is about.
    let server = TestServer::start_with(&["--attempts-per-minute", "1000"]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sanne = enrolled_store(&server, "Sanne", dir.path()).await;
    let sanne_device = sanne.profile().unwrap().device_id;
    let db = server.db();
    let one = |sql: &str| -> String { db.query_row(sql, params![], |r| r.get(0)).unwrap() };
    let dossier = one("SELECT id FROM dossiers WHERE family_name = 'Voorbeeld'");
    let parents_entry = one("SELECT id FROM entries WHERE visibility = 'parents_only'");
    // Sanne's own feedback on that entry, for the routes that address feedback.
    let sanne_feedback = {
        let session = Session::of(&sanne).unwrap();
        let token = session.token().await.unwrap();
        let draft = cjg_core::feedback::FeedbackDraft {
            id: uuid::Uuid::new_v4(),
            entry_id: parents_entry.parse().unwrap(),
            kind: cjg_core::feedback::FeedbackKind::Vraag,
            text: "Wat betekent dit?".into(),
        };
        session.client.submit_feedback(&token, &draft).await.unwrap().id.to_string()
    };
    let work_note = one("SELECT id FROM entries WHERE visibility = 'staff_only'");
    let sanne_id = sanne.profile().unwrap().person_id.to_string();
    let article = one("SELECT id FROM articles LIMIT 1");
    // The demo's reading tip for Sanne: the tip routes must refuse everyone else.
    let sanne_tip = one("SELECT id FROM reading_tips LIMIT 1");
    // A message of Sanne's: a receipt naming it from anyone else must change nothing.
    let sanne_message = {
        let session = Session::of(&sanne).unwrap();
        let token = session.token().await.unwrap();
        let draft =
            cjg_core::message::MessageDraft { id: uuid::Uuid::new_v4(), text: "Vraag van Sanne".into() };
        session.client.send_message(&token, &draft).await.unwrap().id.to_string()
    };
    let sanne_task = db
        .query_row(
            "SELECT id FROM questionnaire_tasks WHERE person_id = ?1 AND phase = 'tussentijds'",
            [&sanne_id],
            |r| r.get::<String>(0),
        )
        .unwrap();

    // Callers, each with what they must never receive.
    let voorbeeld_secrets: Vec<String> = {
        let rows = db
            .query_map("SELECT id, title FROM entries e WHERE e.dossier_id = ?1", [&dossier], |r| {
                Ok((r.get::<String>(0)?, r.get::<String>(1)?))
            })
            .unwrap();
        rows.into_iter()
            .flat_map(|(id, title)| [id, title])
            .chain(["Voorbeeld".to_owned(), sanne_device.to_string(), dossier.clone()])
            .collect()
    };
    let for_noor = vec![
        parents_entry.clone(),
        PARENTS.to_owned(),
        work_note.clone(),
        WORK_NOTE.to_owned(),
        sanne_device.to_string(),
        MILAN[0].to_owned(),
    ];
    let mut callers: Vec<(String, Option<String>, Vec<String>)> = Vec::new();
    for who in ["Eva", "Sem", "Noor"] {
        let store = enrolled_store(&server, who, dir.path()).await;
        let token = Session::of(&store).unwrap().token().await.unwrap();
        let secrets = if who == "Noor" { for_noor.clone() } else { voorbeeld_secrets.clone() };
        callers.push((format!("device of {who}"), Some(token), secrets));
    }
    let coach2 = server.staff_as("coach2").await.unwrap();
    callers.push(("coach of another caseload".into(), Some(coach2.token.clone()), voorbeeld_secrets.clone()));
    callers.push(("nobody".into(), None, voorbeeld_secrets.clone()));

    let http = reqwest::Client::new();
    let doc: Value =
        http.get(format!("{}/v1/openapi.json", server.url)).send().await.unwrap().json().await.unwrap();
    let draft = json!({"kind": "plan", "child_id": null, "title": "Overgenomen", "body": "b", "occurred_on": "2026-01-01"});
    let mut checked = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            let method = method.to_uppercase();
            let blinded_pin = cjg_crypto::b64(&cjg_crypto::pin::BlindedPin::new(b"902417").unwrap().blinded);
            let url_path = path
                .replace("{dossier_id}", &dossier)
                .replace("{entry_id}", &parents_entry)
                .replace("{person_id}", &sanne_id)
                .replace("{device_id}", &sanne_device.to_string())
                .replace("{feedback_id}", &sanne_feedback)
                .replace("{article_id}", &article)
                .replace("{tip_id}", &sanne_tip);
            assert!(!url_path.contains('{'), "{path}: a path parameter this test does not know; add it");
            let body = match (method.as_str(), path.as_str()) {
                ("GET" | "DELETE", _) => None,
                ("POST", "/v1/enrol") => Some(json!({"activation_code": "AAAA-BBBB-CCCC",
                    "device_public_key": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "device_name": "x"})),
                ("POST", "/v1/auth/challenge") => Some(json!({"device_id": sanne_device})),
                ("POST", "/v1/me/pin-ok") => Some(json!({"own_tries": 1})),
                ("POST", "/v1/me/pin-key") => {
                    Some(json!({"blinded": blinded_pin, "pin_token": cjg_crypto::b64(&[0; 32])}))
                }
                // Another token than the one any caller set up: a try on Sanne's device is refused.
                ("POST", "/v1/pin/try") => Some(json!({"device_id": sanne_device, "blinded": blinded_pin,
                    "pin_token": cjg_crypto::b64(&[1; 32])})),
                ("POST", "/v1/auth/token") => {
                    Some(json!({"device_id": sanne_device, "challenge": "x", "signature": "AAAA"}))
                }
                ("POST", "/v1/staff/login") => Some(json!({"username": "coach", "password": "geraden"})),
                ("POST", "/v1/staff/logout") => None,
                ("POST", "/v1/staff/oidc/start") => {
                    Some(json!({"return_to": "http://127.0.0.1:9/klaar", "app_challenge": "A".repeat(43)}))
                }
                ("POST", "/v1/staff/oidc/finish") => {
                    Some(json!({"handoff": "geraden", "app_verifier": "geraden"}))
                }
                // Names of their own: each username has a small guess limit, and the coach signs
                // in again at the end.
                ("POST", "/v1/staff/second-factor/setup") => {
                    Some(json!({"username": "niemand", "password": "geraden", "setup_code": "ABCDE-FGHJK"}))
                }
                ("POST", "/v1/staff/second-factor/confirm") => {
                    Some(json!({"username": "iemand", "password": "geraden", "setup_code": "ABCDE-FGHJK",
                        "code": "123456"}))
                }
                ("POST", "/v1/staff/dossiers/{dossier_id}/entries") => Some(draft.clone()),
                ("PUT", "/v1/staff/entries/{entry_id}") => {
                    Some(json!({"expected_version": 1, "draft": draft}))
                }
                ("PUT", "/v1/me/consent") => Some(json!({"shares_with_parents": true})),
                ("POST", "/v1/me/usage") => {
                    let today = cjg_core::time::dutch_date(chrono::Utc::now());
                    let last = chrono::Datelike::with_day(&today, 1).unwrap().pred_opt().unwrap();
                    Some(json!({"month": last.format("%Y-%m").to_string(), "answers": {"dossier": true,
                        "inzage": false, "taken": false, "informatie": true, "berichten": false,
                        "inzage_export": false}}))
                }
                ("POST", "/v1/me/audit-alerts") => {
                    Some(json!({"verified_size": 1, "verified_head": "0".repeat(64),
                    "received_size": 1, "received_head": "1".repeat(64)}))
                }
                ("PUT", "/v1/staff/dossiers/{dossier_id}/purpose") => Some(json!({"purpose": "overleg"})),
                ("POST", "/v1/me/feedback") => {
                    Some(json!({"id": uuid::Uuid::new_v4(), "entry_id": parents_entry,
                    "kind": "vraag", "text": "Mag ik dit zien?"}))
                }
                ("PUT", "/v1/staff/feedback/{feedback_id}") => {
                    Some(json!({"status": "answered", "answer": "Ja."}))
                }
                ("POST", "/v1/staff/people/{person_id}/activation-codes") => None,
                ("POST", "/v1/me/questionnaires") => Some(json!({"id": uuid::Uuid::new_v4(),
                    "task_id": sanne_task, "version": 1, "answers": {}})),
                ("POST", "/v1/staff/dossiers/{dossier_id}/questionnaires") => {
                    Some(json!({"person_id": sanne_id, "phase": "eind"}))
                }
                ("POST", "/v1/staff/entries/{entry_id}/feedback-requests") => {
                    Some(json!({"person_id": sanne_id, "note": "Klopt dit verslag?"}))
                }
                ("POST", "/v1/staff/dossiers/{dossier_id}/tips") => {
                    Some(json!({"person_id": sanne_id, "article_id": article, "note": "", "show_at": "now"}))
                }
                ("POST", "/v1/staff/articles") | ("PUT", "/v1/staff/articles/{article_id}") => {
                    Some(json!({"title": "T", "summary": "S", "body": "B", "topics": ["eten"],
                        "age_min": 0, "age_max": 4, "source": "x", "language": "nl"}))
                }
                ("POST", "/v1/staff/articles/{article_id}/approve") => {
                    Some(json!({"revision": 1, "text_hash": "0".repeat(64)}))
                }
                ("POST", "/v1/me/messages") => Some(json!({"id": uuid::Uuid::new_v4(), "text": "Hallo"})),
                ("POST", "/v1/me/messages/read") => Some(json!({"message_ids": [sanne_message]})),
                ("POST", "/v1/staff/people/{person_id}/messages") => Some(json!({"text": "Hallo Sanne"})),
                ("POST", "/v1/staff/articles/{article_id}/withdraw" | "/v1/me/tips/{tip_id}/read") => None,
                ("PUT", "/v1/staff/dossiers/{dossier_id}/trajectory") => {
                    Some(json!({"started_on": "2026-01-01",
                    "closed_on": null, "municipality": "Demostad", "team": "Team Noord"}))
                }
                other => panic!("{other:?}: no sample body; add one so the route is checked"),
            };
            // Routes anyone may call, or that only ever act on the caller's own data.
            let may_succeed = matches!(
                (method.as_str(), path.as_str()),
                ("GET", "/v1/health" | "/v1/ready" | "/v1/openapi.json" | "/v1/sync" | "/v1/me/devices" | "/v1/me/events")
                    | ("POST", "/v1/auth/challenge")
                    // Sets up the PIN's server part of the caller's own device.
                    | ("POST", "/v1/me/pin-key" | "/v1/me/pin-ok")
                    | ("PUT", "/v1/me/consent")
                    // A person's own monthly report of what they used, randomized.
                    | ("POST", "/v1/me/usage")
                    | ("POST", "/v1/me/audit-alerts")
                    | ("GET", "/v1/staff/dossiers")
                    // How staff sign in here: the same for everyone.
                    | ("GET", "/v1/staff/sign-in-options")
                    // The information library is for every staff member; it holds no family's data.
                    | ("GET" | "POST", "/v1/staff/articles")
                    | ("PUT", "/v1/staff/articles/{article_id}")
                    // Only ever the caller's own conversation.
                    | ("POST", "/v1/me/messages" | "/v1/me/messages/read")
            );
            for (name, token, secrets) in &callers {
                // Signing out ends the caller's own token and nothing else (defences.rs); here
                // it would only end the other coach's token for the routes after it.
                if path == "/v1/staff/logout" && name.contains("coach") {
                    continue;
                }
                let mut req = http
                    .request(method.parse().unwrap(), format!("{}{url_path}", server.url))
                    .header("X-Cjg-Purpose", "hulpverlening");
                if let Some(t) = token {
                    req = req.bearer_auth(t);
                }
                if let Some(b) = &body {
                    let mut b = b.clone();
                    // Each caller's own new message: one id for all would be a (correct) conflict.
                    if path == "/v1/me/messages" {
                        b["id"] = json!(uuid::Uuid::new_v4());
                    }
                    req = req.json(&b);
                }
                let resp = req.send().await.unwrap();
                let status = resp.status().as_u16();
                // The push connection stays open for minutes: its status is the answer.
                let text = if path == "/v1/me/events" && status == 200 {
                    String::new()
                } else {
                    resp.text().await.unwrap()
                };
                let public = matches!(
                    path.as_str(),
                    "/v1/enrol"
                        | "/v1/auth/token"
                        | "/v1/staff/login"
                        | "/v1/staff/second-factor/setup"
                        | "/v1/staff/second-factor/confirm"
                        | "/v1/staff/oidc/start"
                        | "/v1/staff/oidc/callback"
                        | "/v1/staff/oidc/finish"
                );
                let refused = [401, 403, 404].contains(&status) || (public && (400..500).contains(&status));
                assert!(
                    refused || (may_succeed && status < 300),
                    "{method} {path} as {name}: {status} {text}"
                );
                for s in secrets {
                    assert!(!text.contains(s.as_str()), "{method} {path} as {name} leaked {s:?}");
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 40 * 5, "every route was tried by every caller ({checked})");
    // The others' receipts and messages did not touch Sanne's conversation.
    let read: Option<String> =
        db.query_row("SELECT read_at FROM messages WHERE id = ?1", [&sanne_message], |r| r.get(0)).unwrap();
    assert!(read.is_none());
    let others: i64 = db
        .query_row("SELECT COUNT(*) FROM messages WHERE person_id = ?1", [&sanne_id], |r| r.get(0))
        .unwrap();
    assert_eq!(others, 1, "no one else wrote into Sanne's conversation");

    // Nothing of Sanne's changed: her device works, her entries are all there.
    let mut sanne = sanne;
    assert_eq!(synced_titles(&mut sanne).await.len(), 11);
    let staff = server.staff().await.unwrap();
    assert_eq!(staff.entries(dossier.parse().unwrap()).await.unwrap().len(), 15);
    // The refusals are on record, with who tried.
    let denied: i64 = db
        .query_row(
            "SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) FROM denied_counts WHERE subject_kind = 'staff' AND status = 404",
            params![],
            |r| r.get(0),
        )
        .unwrap();
    assert!(denied >= 6, "the other coach's attempts are recorded ({denied})");
}
