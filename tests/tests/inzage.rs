//! Inzage end to end: every staff access leaves exactly one chained line with its purpose; the
//! family's app verifies the chain against signed checkpoints and notices any tampering.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use cjg_tests::{params, EntryKind, TestServer, PIN};
use serde_json::{json, Value};

fn audit_count(server: &TestServer) -> i64 {
    server.db().query_row("SELECT COUNT(*) FROM audit_events", params![], |r| r.get(0)).unwrap()
}

fn last_audit(server: &TestServer) -> (String, String, Option<String>) {
    server
        .db()
        .query_row(
            "SELECT action, object_type, object_id FROM audit_events ORDER BY id DESC LIMIT 1",
            params![],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
}

/// Walks every staff route of the server's own OpenAPI document (which a unit test holds equal
/// to the router) and calls it once, successfully, on the demo dossier: each call leaves
/// exactly one audit line with the right action and object. A new staff route that is not in
/// the table below, or does not log, fails this test.
#[tokio::test]
async fn every_staff_route_logs_exactly_one_line() {
    let server = TestServer::start().unwrap();
    let staff = server.staff().await.unwrap();
    let db = server.db();
    let dossier = staff.dossier_id(&db).await;
    let karim = cjg_tests::person_id(&db, "Karim Voorbeeld");
    let entry = staff
        .create_entry(
            dossier,
            &cjg_tests::family_entry(EntryKind::Gespreksverslag, "Voor de routetest", "Tekst.", "2026-03-01"),
        )
        .await
        .unwrap();
    let entry_id = entry.id.to_string();
    // A device of Karim's, for the device routes.
    let dir = tempfile::tempdir().unwrap();
    let app = cjg_tests::app(dir.path());
    app.enrol(&server.url, &server.code_for("Karim"), PIN, PIN, "").await.unwrap();
    let device: String = db
        .query_row("SELECT id FROM devices WHERE name != 'Demo-telefoon' LIMIT 1", params![], |r| r.get(0))
        .unwrap();
    // Karim's feedback on the new entry, for the feedback routes.
    app.sync(|_| {}).await.unwrap();
    let sent = app
        .send_feedback(entry_id.parse().unwrap(), cjg_core::feedback::FeedbackKind::Akkoord, "")
        .await
        .unwrap();
    assert!(sent.sent);
    let feedback_id: String = db.query_row("SELECT id FROM feedback", params![], |r| r.get(0)).unwrap();
    let article: String = db.query_row("SELECT id FROM articles LIMIT 1", params![], |r| r.get(0)).unwrap();

    // (method, path) → (action, object type, expected object id)
    let expected: BTreeMap<(&str, &str), (&str, &str, Option<String>)> = [
        (("GET", "/v1/staff/dossiers/{dossier_id}/entries"), ("read", "entries", None)),
        (("POST", "/v1/staff/dossiers/{dossier_id}/entries"), ("create", "entry", None)),
        (("GET", "/v1/staff/entries/{entry_id}"), ("read", "entry", Some(entry_id.clone()))),
        (("PUT", "/v1/staff/entries/{entry_id}"), ("update", "entry", Some(entry_id.clone()))),
        (("DELETE", "/v1/staff/entries/{entry_id}"), ("delete", "entry", Some(entry_id.clone()))),
        (("GET", "/v1/staff/entries/{entry_id}/history"), ("read", "entry", Some(entry_id.clone()))),
        (
            ("POST", "/v1/staff/people/{person_id}/activation-codes"),
            ("create", "activation_code", Some(karim.clone())),
        ),
        (("GET", "/v1/staff/people/{person_id}/devices"), ("read", "devices", Some(karim.clone()))),
        (("DELETE", "/v1/staff/devices/{device_id}"), ("update", "device", Some(device.clone()))),
        (("GET", "/v1/staff/dossiers/{dossier_id}/audit"), ("read", "audit_log", None)),
        (("GET", "/v1/staff/dossiers/{dossier_id}/feedback"), ("read", "feedback", None)),
        (("PUT", "/v1/staff/feedback/{feedback_id}"), ("update", "feedback", Some(feedback_id.clone()))),
        (("GET", "/v1/staff/dossiers/{dossier_id}/questionnaires"), ("read", "questionnaires", None)),
        (("POST", "/v1/staff/entries/{entry_id}/feedback-requests"), ("create", "feedback_request", None)),
        (("GET", "/v1/staff/dossiers/{dossier_id}/tips"), ("read", "reading_tips", None)),
        (("GET", "/v1/staff/dossiers/{dossier_id}/people"), ("read", "people", None)),
        (("GET", "/v1/staff/dossiers/{dossier_id}/messages"), ("read", "messages", None)),
        (("POST", "/v1/staff/people/{person_id}/messages"), ("create", "message", None)),
        (("POST", "/v1/staff/dossiers/{dossier_id}/tips"), ("create", "reading_tip", None)),
        (("POST", "/v1/staff/dossiers/{dossier_id}/questionnaires"), ("create", "questionnaire", None)),
        (
            ("PUT", "/v1/staff/dossiers/{dossier_id}/trajectory"),
            ("update", "trajectory", Some(dossier.to_string())),
        ),
    ]
    .into_iter()
    .collect();
    // Routes that open no dossier: signing in, the list of one's own caseload (family names
    // only), stating why one opens a dossier (the accesses that follow carry that purpose), and
    // the indicator and usage reports (counts over many families, small groups hidden; not for
    // coaches).
    let not_data = [
        ("POST", "/v1/staff/login"),
        ("POST", "/v1/staff/logout"),
        ("POST", "/v1/staff/second-factor/setup"),
        ("POST", "/v1/staff/second-factor/confirm"),
        ("GET", "/v1/staff/sign-in-options"),
        ("POST", "/v1/staff/oidc/start"),
        ("GET", "/v1/staff/oidc/callback"),
        ("POST", "/v1/staff/oidc/finish"),
        ("GET", "/v1/staff/oidc/jwks"),
        ("GET", "/v1/staff/dossiers"),
        ("PUT", "/v1/staff/dossiers/{dossier_id}/purpose"),
        ("GET", "/v1/staff/reports/indicators"),
        ("GET", "/v1/staff/reports/usage"),
        // The information library: articles for everyone, no family's data.
        ("GET", "/v1/staff/articles"),
        ("POST", "/v1/staff/articles"),
        ("PUT", "/v1/staff/articles/{article_id}"),
        ("POST", "/v1/staff/articles/{article_id}/approve"),
        ("POST", "/v1/staff/articles/{article_id}/withdraw"),
    ];

    let http = reqwest::Client::new();
    let doc: Value =
        http.get(format!("{}/v1/openapi.json", server.url)).send().await.unwrap().json().await.unwrap();
    let draft = json!({"kind": "afspraak", "child_id": null, "title": "Nieuw", "body": "b", "occurred_on": "2026-03-02"});
    let mut calls: Vec<(String, String)> = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            calls.push((method.to_uppercase(), path.clone()));
        }
    }
    // Deletions last, so every other route still finds the entry and the device.
    calls.sort_by_key(|(m, p)| (m == "DELETE", p.clone()));
    let mut checked = 0;
    for (method, path) in calls.iter().filter(|(_, p)| p.starts_with("/v1/staff/")) {
        if not_data.contains(&(method.as_str(), path.as_str())) {
            continue;
        }
        let (action, object, object_id) = expected
            .get(&(method.as_str(), path.as_str()))
            .unwrap_or_else(|| panic!("{method} {path}: a staff route with no expected audit line; add it"));
        let url = path
            .replace("{dossier_id}", &dossier.to_string())
            .replace("{entry_id}", &entry_id)
            .replace("{person_id}", &karim)
            .replace("{device_id}", &device)
            .replace("{feedback_id}", &feedback_id);
        let body = match (method.as_str(), path.as_str()) {
            ("POST", "/v1/staff/dossiers/{dossier_id}/entries") => Some(draft.clone()),
            ("PUT", "/v1/staff/entries/{entry_id}") => Some(json!({"expected_version": 1, "draft": draft})),
            ("PUT", "/v1/staff/feedback/{feedback_id}") => Some(json!({"status": "handled", "answer": ""})),
            ("POST", "/v1/staff/dossiers/{dossier_id}/questionnaires") => {
                Some(json!({"person_id": karim, "phase": "eind"}))
            }
            ("POST", "/v1/staff/entries/{entry_id}/feedback-requests") => {
                Some(json!({"person_id": karim, "note": "Wil je lezen of het klopt?"}))
            }
            ("POST", "/v1/staff/people/{person_id}/messages") => Some(json!({"text": "Hoe gaat het?"})),
            ("POST", "/v1/staff/dossiers/{dossier_id}/tips") => {
                Some(json!({"person_id": karim, "article_id": article, "note": "", "show_at": "now"}))
            }
            ("PUT", "/v1/staff/dossiers/{dossier_id}/trajectory") => Some(json!({"started_on": "2026-01-05",
                "closed_on": null, "municipality": "Demostad", "team": "Team Noord"})),
            _ => None,
        };
        let before = audit_count(&server);
        let mut req = http
            .request(method.parse().unwrap(), format!("{}{url}", server.url))
            .bearer_auth(&staff.token)
            .header("X-Cjg-Purpose", "hulpverlening");
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        assert!(resp.status().is_success(), "{method} {path}: {}", resp.status());
        assert_eq!(audit_count(&server), before + 1, "{method} {path}: exactly one line");
        let (a, o, id) = last_audit(&server);
        assert_eq!((a.as_str(), o.as_str()), (*action, *object), "{method} {path}");
        if object_id.is_some() {
            assert_eq!(&id, object_id, "{method} {path}: the object is named");
        }
        checked += 1;
    }
    assert_eq!(checked, expected.len(), "every expected route was called");
}

/// Without a stated purpose a dossier stays closed; a purpose holds for its window and its
/// note reaches the family.
#[tokio::test]
async fn a_purpose_is_required_and_holds_for_its_window() {
    let server = TestServer::start_with(&["--purpose-minutes", "45"]).unwrap();
    let staff = server.staff().await.unwrap();
    let dossier = staff.dossier_id(&server.db()).await;
    let http = reqwest::Client::new();
    let entries_url = format!("{}/v1/staff/dossiers/{dossier}/entries", server.url);
    let get = || http.get(&entries_url).bearer_auth(&staff.token).send();

    let resp = get().await.unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(resp.json::<Value>().await.unwrap()["error"]["code"], "purpose_required");
    let before = audit_count(&server);

    let purpose_url = format!("{}/v1/staff/dossiers/{dossier}/purpose", server.url);
    for bad in [
        json!({"purpose": "nieuwsgierig"}),
        json!({"purpose": "overleg", "note": "x".repeat(201)}),
        json!({"purpose": "overleg", "note": "twee\nregels"}),
    ] {
        let resp = http.put(&purpose_url).bearer_auth(&staff.token).json(&bad).send().await.unwrap();
        assert_eq!(resp.status(), 400, "{bad}");
    }
    let resp = http
        .put(&purpose_url)
        .bearer_auth(&staff.token)
        .json(&json!({"purpose": "gesprek_voorbereiden", "note": "om het gesprek van dinsdag voor te bereiden"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let window: Value = resp.json().await.unwrap();
    let expires: chrono::DateTime<chrono::Utc> = window["expires_at"].as_str().unwrap().parse().unwrap();
    let minutes = (expires - chrono::Utc::now()).num_minutes();
    assert!((44..=45).contains(&minutes), "the configured window: {minutes}");

    assert_eq!(get().await.unwrap().status(), 200);
    assert_eq!(get().await.unwrap().status(), 200);
    assert_eq!(audit_count(&server), before + 2, "each read in the window is logged");
    let note: String = server
        .db()
        .query_row("SELECT purpose_note FROM audit_events ORDER BY id DESC LIMIT 1", params![], |r| r.get(0))
        .unwrap();
    assert_eq!(note, "om het gesprek van dinsdag voor te bereiden");

    // The window ends (moved into the past in the database): closed again, and on record.
    let w = server.db();
    w.execute("UPDATE purpose_sessions SET expires_at = '2020-01-01T00:00:00Z'", params![]).unwrap();
    let resp = get().await.unwrap();
    assert_eq!(resp.status(), 403);
    let denied: i64 = server
        .db()
        .query_row(
            "SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) FROM denied_counts WHERE status = 403 AND subject_kind = 'staff'",
            params![],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(denied, 2, "both refused reads are recorded");

    // The family sees the line with its purpose and note, tied to nothing they cannot open.
    let (_dir, app) = cjg_tests::enrolled_app(&server, "Sanne").await;
    let view = app.inzage().await.unwrap();
    assert_eq!(view.lines.len() as i64, audit_count(&server));
    assert!(view.warning.is_none());
    let newest = &view.lines[0];
    assert_eq!(newest.purpose_note.as_deref(), Some("om het gesprek van dinsdag voor te bereiden"));
    assert_eq!(newest.actor_name, "Fleur Demo");
    assert!(view.lines.iter().all(|l| l.new), "nothing seen yet");
    assert_eq!(app.dossier().await.unwrap().unseen_audit as usize, view.lines.len());
    app.mark_inzage_seen().await.unwrap();
    assert_eq!(app.dossier().await.unwrap().unseen_audit, 0);
}

/// A quiet sync reads only the new lines and continues from the hash stored beside the last
/// line the device verified. Someone who rewrites that stored hash (to cover a change to an
/// older line) is noticed by the quiet sync too; the full check finds the changed line.
#[tokio::test]
async fn a_rewritten_stored_head_is_noticed_by_a_quiet_sync() {
    let server = TestServer::start().unwrap();
    let staff = server.staff().await.unwrap();
    let dossier = staff.dossier_id(&server.db()).await;
    let (_dir, app) = cjg_tests::enrolled_app(&server, "Karim").await;
    staff.entries(dossier).await.unwrap();
    app.sync(|_| {}).await.unwrap();
    let verified = app.inzage().await.unwrap().lines.len();
    let karim = cjg_tests::person_id(&server.db(), "Karim Voorbeeld");
    server
        .db()
        .execute(
            "UPDATE audit_views SET hash = ?2 WHERE person_id = ?1
             AND position = (SELECT MAX(position) FROM audit_views WHERE person_id = ?1)",
            [karim.as_str(), &"ab".repeat(32)],
        )
        .unwrap();
    staff.entries(dossier).await.unwrap();
    let e = app.sync(|_| {}).await.unwrap_err();
    assert_eq!(e.code(), "audit_log_broken");
    let view = app.inzage().await.unwrap();
    assert_eq!(view.lines.len(), verified, "the verified copy stays");
    assert!(view.warning.is_some());
}

/// Change, delete or reorder a line in the server's database: the app's next sync refuses the
/// log, keeps its verified copy, shows the warning and tells the server; the admin command
/// finds the break too. Restoring the line makes the log verify again.
#[tokio::test]
async fn tampering_with_the_server_log_is_noticed() {
    let server = TestServer::start().unwrap();
    let staff = server.staff().await.unwrap();
    let dossier = staff.dossier_id(&server.db()).await;
    for _ in 0..3 {
        staff.entries(dossier).await.unwrap();
    }
    let (_dir, app) = cjg_tests::enrolled_app(&server, "Karim").await;
    let mut verified = app.inzage().await.unwrap().lines.len();
    assert!(verified >= 3);
    let entries_before = app.dossier().await.unwrap().entries.len();

    let w = server.db();
    let karim = cjg_tests::person_id(&w, "Karim Voorbeeld");
    let verify = || server.cli().arg("verify-audit").env("RUST_LOG", "error").output().unwrap();
    assert!(verify().status.success());

    // Each tamper works on Karim's own log: a line of it changed in the whole log, two of his
    // lines swapped, one of his lines deleted from the whole log.
    type Tamper<'a> = (&'a str, &'a str, &'a str);
    let tampers: [Tamper; 3] = [
        (
            "altered",
            "UPDATE audit_events SET purpose = 'kwaliteit'
             WHERE event_id = (SELECT event_id FROM audit_views WHERE person_id = ?1 AND position = 2)",
            "UPDATE audit_events SET purpose = 'hulpverlening'
             WHERE event_id = (SELECT event_id FROM audit_views WHERE person_id = ?1 AND position = 2)",
        ),
        (
            "reordered",
            "UPDATE audit_views SET position = CASE position WHEN 1 THEN -2 ELSE -1 END
             WHERE person_id = ?1 AND position IN (1, 2);
             UPDATE audit_views SET position = -position WHERE person_id = ?1 AND position < 0",
            "UPDATE audit_views SET position = CASE position WHEN 1 THEN -2 ELSE -1 END
             WHERE person_id = ?1 AND position IN (1, 2);
             UPDATE audit_views SET position = -position WHERE person_id = ?1 AND position < 0",
        ),
        (
            "deleted",
            "DELETE FROM audit_events
             WHERE event_id = (SELECT event_id FROM audit_views WHERE person_id = ?1 AND position = 1)",
            "",
        ),
    ];
    let mut alerts = 0;
    for (name, tamper, restore) in tampers {
        // The unique (dossier, position) index would refuse a swap done in two steps.
        for statement in tamper.split(';') {
            w.execute(statement, [&karim]).unwrap();
        }
        // A staff access meanwhile: the app also gets a new line with the tampered log. The
        // person refreshes (a quiet sync leaves the check of old lines to the hourly one).
        staff.entries(dossier).await.unwrap();
        let e = app.sync_checking_log(|_| {}).await.unwrap_err();
        assert_eq!(e.code(), "audit_log_broken", "{name}");
        let view = app.inzage().await.unwrap();
        assert_eq!(view.lines.len(), verified, "{name}: the verified copy stays, nothing new is taken in");
        assert!(view.warning.is_some(), "{name}: the warning is shown");
        assert_eq!(app.dossier().await.unwrap().entries.len(), entries_before, "{name}: nothing lost");
        alerts += 1;
        let reported: i64 =
            server.db().query_row("SELECT COUNT(*) FROM audit_alerts", params![], |r| r.get(0)).unwrap();
        assert_eq!(reported, alerts, "{name}: the server was told");
        let out = verify();
        assert_eq!(out.status.code(), Some(1), "{name}: the admin command finds the break");
        assert!(String::from_utf8_lossy(&out.stdout).contains("BROKEN"), "{name}");
        if restore.is_empty() {
            break;
        }
        for statement in restore.split(';') {
            w.execute(statement, [&karim]).unwrap();
        }
        // The honest log is back: the lines added meanwhile verify. The warning stays until
        // Karim dismisses it, so a rewrite that was undone is not forgotten.
        app.sync(|_| {}).await.unwrap_or_else(|e| panic!("{name} restored: {e}"));
        let view = app.inzage().await.unwrap();
        assert!(view.lines.len() > verified, "{name}: restored log verifies");
        let warning = view.warning.expect("the warning stays after an honest sync");
        assert_eq!(warning.problem, cjg_core::audit::AuditProblem::Rewritten, "{name}");
        app.dismiss_audit_warnings().await.unwrap();
        let view = app.inzage().await.unwrap();
        assert!(view.warning.is_none(), "{name}: dismissed");
        assert_eq!(view.warnings.len(), alerts as usize, "{name}: kept as history");
        assert!(view.warnings.iter().all(|w| w.dismissed_at.is_some()));
        verified = view.lines.len();
        assert!(verify().status.success(), "{name}: restored");
    }
}

/// The staff side of the app, over the wire: sign in, caseload, purpose first, then the
/// dossier and its log; another coach's family stays closed.
#[tokio::test]
async fn the_staff_side_of_the_app_opens_only_with_a_purpose() {
    use cjg_core::audit::Purpose;
    let server = TestServer::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let app = cjg_tests::app(dir.path());
    let e = app.staff_login(&server.url, "coach", "geraden", None).await.unwrap_err();
    assert_eq!(e.code(), "unauthenticated");
    assert_eq!(app.staff_caseload().await.unwrap_err().code(), "staff_signed_out");
    app.staff_login(&server.url, "coach", &server.coach_password, None).await.unwrap();
    assert_eq!(app.status().await.unwrap().staff_user.as_deref(), Some("coach"));
    let caseload = app.staff_caseload().await.unwrap();
    assert_eq!(caseload.iter().map(|d| d.family_name.as_str()).collect::<Vec<_>>(), ["Voorbeeld"]);
    let e = app.staff_open(caseload[0].id, Purpose::Overleg, "twee\nregels").await.unwrap_err();
    assert_eq!(e.code(), "invalid_input", "a note of two lines is refused before anything is sent");
    let before = audit_count(&server);
    let view = app
        .staff_open(caseload[0].id, Purpose::Overleg, "overleg met de gedragswetenschapper")
        .await
        .unwrap();
    assert_eq!(view.entries.len(), 15, "staff see every entry, work notes too");
    assert_eq!(
        audit_count(&server),
        before + 6,
        "entries, people, tips, questionnaires, messages and log read, each logged"
    );
    assert_eq!(view.audit.len() as i64, before + 5, "the log as it was before reading it");
    assert_eq!(view.people.len(), 6, "two parents, a carer and three children");
    assert_eq!(view.tips.len(), 1, "the demo's tip for Sanne");
    assert_eq!(view.questionnaires.len(), 10, "start and interim for the five who are asked");
    assert!(view.messages.is_empty());
    // The coach writes to Sanne from the app, within the purpose window.
    let sanne: uuid::Uuid = cjg_tests::person_id(&server.db(), "Sanne Voorbeeld").parse().unwrap();
    assert_eq!(app.staff_send_message(sanne, "  ").await.unwrap_err().code(), "invalid_input");
    let m = app.staff_send_message(sanne, "Tot dinsdag!").await.unwrap();
    assert!(m.from_coach && m.author_name == "Fleur Demo");

    // A reading tip from the app, for later; an article written in the app waits for an editor.
    use cjg_core::article::{ArticleDraft, Language, RevisionStatus, ShowAt, Topic};
    let dossier = caseload[0].id;
    let library = app.staff_articles().await.unwrap();
    let ruzie = library.iter().find(|a| a.draft.title == "Ruzie met je puber").unwrap().id;
    let e = app.staff_create_tip(dossier, sanne, ruzie, "twee\nregels", ShowAt::Now).await.unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    let tips =
        app.staff_create_tip(dossier, sanne, ruzie, "Voor het eindgesprek", ShowAt::Eind).await.unwrap();
    assert_eq!(tips.len(), 2);
    assert!(tips.iter().any(|t| t.tip.note == "Voor het eindgesprek" && !t.shown), "not before closing");
    let draft = ArticleDraft {
        title: "Samen naar de bibliotheek".into(),
        summary: "Lezen begint met kiezen.".into(),
        body: "Laat je kind zelf een boek kiezen.".into(),
        topics: vec![Topic::School],
        age_min: 4,
        age_max: 12,
        source: "CJG Demostad".into(),
        language: Language::Nl,
    };
    let bad = ArticleDraft { topics: vec![], ..draft.clone() };
    assert_eq!(app.staff_save_article(None, bad).await.unwrap_err().code(), "invalid_input");
    let list = app.staff_save_article(None, draft.clone()).await.unwrap();
    assert_eq!(list.len(), library.len() + 1);
    let mine = list.iter().find(|a| a.draft.title == draft.title).unwrap();
    assert_eq!((mine.status, mine.author.as_str()), (RevisionStatus::Draft, "Fleur Demo"));
    assert_eq!(
        app.staff_approve_article(mine.id, 1, mine.text_hash.clone()).await.unwrap_err().code(),
        "forbidden"
    );
    let blocks = cjg_client::staff::preview_markdown("<script>x</script>").unwrap();
    assert_eq!(format!("{blocks:?}").matches("<script>").count(), 1, "shown as text");

    // The other coach's family is not in this caseload, and guessing its id gets nothing.
    let other: String = server
        .db()
        .query_row("SELECT id FROM dossiers WHERE family_name = 'Proef'", params![], |r| r.get(0))
        .unwrap();
    let e = app.staff_open(other.parse().unwrap(), Purpose::Overleg, "").await.unwrap_err();
    assert_eq!(e.code(), "not_found");
    app.lock().await;
    assert_eq!(app.status().await.unwrap().staff_user, None, "locking signs the coach out");
}

/// An old state of the log played back is refused like a broken one: a checkpoint signed at an
/// earlier time than the one the app verified (the server's clock set back a month), and a log
/// cut back to fewer lines than the app verified. The warning says which, and stays.
#[tokio::test]
async fn an_old_checkpoint_played_back_is_refused() {
    use cjg_core::audit::AuditProblem;
    let data = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_in(data.path(), "127.0.0.1:0", &[]).unwrap();
    let staff = server.staff().await.unwrap();
    let dossier = staff.dossier_id(&server.db()).await;
    staff.entries(dossier).await.unwrap();
    let (_dir, app) = cjg_tests::enrolled_app(&server, "Karim").await;
    let verified = app.inzage().await.unwrap().lines.len();
    assert!(verified >= 1);

    let listen = server.url.trim_start_matches("http://").to_owned();
    server.stop();
    server = TestServer::start_in(data.path(), &listen, &["--clock-offset-days=-30"]).unwrap();
    let e = app.sync(|_| {}).await.unwrap_err();
    assert_eq!(e.code(), "audit_log_broken");
    let view = app.inzage().await.unwrap();
    assert_eq!(view.warning.map(|w| w.problem), Some(AuditProblem::Backdated));
    assert_eq!(view.lines.len(), verified, "the verified copy stays");

    // The clock right again, but the newest of Karim's lines cut away.
    server.stop();
    server = TestServer::start_in(data.path(), &listen, &[]).unwrap();
    let karim = cjg_tests::person_id(&server.db(), "Karim Voorbeeld");
    server
        .db()
        .execute(
            "DELETE FROM audit_views WHERE person_id = ?1
             AND position = (SELECT MAX(position) FROM audit_views WHERE person_id = ?1)",
            [&karim],
        )
        .unwrap();
    let e = app.sync(|_| {}).await.unwrap_err();
    assert_eq!(e.code(), "audit_log_broken");
    let view = app.inzage().await.unwrap();
    let problems: Vec<AuditProblem> = view.warnings.iter().map(|w| w.problem).collect();
    assert_eq!(problems, [AuditProblem::Shrunk, AuditProblem::Backdated], "both kept, newest first");
    assert!(view.warning.is_some());
}

/// The key that signs the log is trusted only as the enrolment delivered it. A store that lost
/// it (or predates pinning) does not take the server's word for a new one: the person enrols
/// again, and nothing on the device is lost meanwhile.
#[tokio::test]
async fn a_store_without_a_pinned_key_asks_to_enrol_again() {
    let server = TestServer::start().unwrap();
    let (dir, app) = cjg_tests::enrolled_app(&server, "Sanne").await;
    let entries = app.dossier().await.unwrap().entries.len();
    let store = find(dir.path(), "store.db").expect("the account's store");
    let removed = rusqlite::Connection::open(&store)
        .unwrap()
        .execute("DELETE FROM secrets WHERE name = 'audit_key'", [])
        .unwrap();
    assert_eq!(removed, 1);
    let e = app.sync(|_| {}).await.unwrap_err();
    assert_eq!(e.code(), "enrol_again");
    assert_eq!(app.dossier().await.unwrap().entries.len(), entries, "nothing lost");
}

fn find(dir: &std::path::Path, name: &str) -> Option<std::path::PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.file_name().is_some_and(|n| n == name) {
            return Some(path);
        }
        if path.is_dir() {
            if let Some(found) = find(&path, name) {
                return Some(found);
            }
        }
    }
    None
}

/// A long log is shown a page at a time (issue 19): a page is the matching lines newest first,
/// from the offset; the counts cover every line, and a filter counts only what it lets through.
#[tokio::test]
async fn the_log_is_shown_a_page_at_a_time_with_its_filters() {
    use cjg_client::app::InzageQuery;
    let server = TestServer::start().unwrap();
    let coach = server.staff().await.unwrap();
    let dossier = coach.dossier_id(&server.db()).await;
    for _ in 0..6 {
        coach.entries(dossier).await.unwrap();
    }
    let (_dir, app) = cjg_tests::enrolled_app(&server, "Sanne").await;
    let all = app.inzage().await.unwrap();
    let total = all.lines.len();
    assert!(total >= 6, "{total}");
    assert_eq!((all.total as usize, all.matching as usize), (total, total));
    assert!(all.lines.windows(2).all(|w| w[0].position > w[1].position), "newest first");

    let page =
        app.inzage_page(&InzageQuery { offset: 2, limit: Some(3), ..Default::default() }).await.unwrap();
    let positions = |v: &[cjg_client::app::AuditLine]| v.iter().map(|l| l.position).collect::<Vec<_>>();
    assert_eq!(positions(&page.lines), positions(&all.lines[2..5]));
    assert_eq!((page.total as usize, page.matching as usize), (total, total));
    assert_eq!(page.staff_names, vec!["Fleur Demo".to_owned()]);

    // The next page after a line, also when new lines came in at the top since.
    let after = InzageQuery { before: Some(all.lines[1].position), limit: Some(2), ..Default::default() };
    let page = app.inzage_page(&after).await.unwrap();
    assert_eq!(positions(&page.lines), positions(&all.lines[2..4]));
    assert_eq!(page.matching as usize, total - 2, "matching counts the lines before it");

    let reads = all.lines.iter().filter(|l| l.action == cjg_core::audit::AuditAction::Read).count();
    let only_reads = InzageQuery {
        action: Some(cjg_core::audit::AuditAction::Read),
        limit: Some(2),
        ..Default::default()
    };
    let page = app.inzage_page(&only_reads).await.unwrap();
    assert_eq!((page.matching as usize, page.lines.len()), (reads, 2));
    let nobody = InzageQuery { staff: Some("Niemand".into()), ..Default::default() };
    let page = app.inzage_page(&nobody).await.unwrap();
    assert_eq!((page.matching, page.lines.len(), page.total as usize), (0, 0, total));
    let later =
        InzageQuery { since: Some(chrono::Utc::now() + chrono::Duration::hours(1)), ..Default::default() };
    assert_eq!(app.inzage_page(&later).await.unwrap().matching, 0);
}
