//! Taken: questionnaires from the trajectory's dates, drafts sealed on the device, answers sent
//! once through the outbox, bad answers refused with a clear code, and the indicator report
//! over the staff API and the CLI.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use cjg_client::app::TaskState;
use cjg_client::{Session, SyncOptions};
use cjg_core::indicators::Period;
use cjg_core::questionnaire::{Agree, Answer, Answers, Phase, TaskStatus};
use cjg_core::validate::Pin;
use cjg_store::Store;
use cjg_tests::{params, TestServer, PIN};
use serde_json::{json, Value};

const SECRET: [u8; 32] = [9; 32];

fn answers(pairs: &[(&str, Answer)]) -> Answers {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
}

fn full_closing() -> Answers {
    cjg_tests::closing_answers("Fijn dat jullie ook 's avonds konden komen.")
}

fn files_contain(dir: &Path, needle: &str) -> bool {
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if cjg_tests::contains(&std::fs::read(&p).unwrap(), needle) {
                return true;
            }
        }
    }
    false
}

fn task_of(server: &TestServer, person: &str, phase: &str) -> String {
    server
        .db()
        .query_row(
            "SELECT t.id FROM questionnaire_tasks t JOIN people p ON p.id = t.person_id
             WHERE p.display_name = ?1 AND t.phase = ?2",
            [person, phase],
            |r| r.get(0),
        )
        .unwrap_or_else(|e| panic!("no {phase} questionnaire for {person}: {e}"))
}

/// The app's side: the interim questionnaire from the schedule, a sealed draft that survives
/// locking, answers checked before they are queued, read-only once sent.
#[tokio::test]
async fn a_draft_is_sealed_resumed_checked_and_sent_once() {
    let server = TestServer::start().unwrap();
    let (dir, app) = cjg_tests::enrolled_app(&server, "Sanne").await;

    // The demo trajectory started 118 days ago: start (answered on paper) and the interim one,
    // whose two weeks are over; late answers still count.
    let tasks = app.tasks().await.unwrap();
    // Besides them, the demo's reading tip: three tasks, two to do.
    assert_eq!(tasks.items.len(), 3, "{:?}", tasks.items);
    assert_eq!(tasks.to_do, 2);
    let interim = &tasks.items[0];
    assert_eq!((interim.phase, interim.state), (Some(Phase::Tussentijds), TaskState::Open));
    assert!(interim.days_left < 0, "overdue: {}", interim.days_left);
    assert_eq!((tasks.items[2].phase, tasks.items[2].state), (Some(Phase::Start), TaskState::Submitted));
    let id = interim.id;
    let view = app.questionnaire(id).await.unwrap().unwrap();
    assert_eq!(view.task.definition.key, "tussentijds-ouder");
    assert!(!view.read_only && view.answers.is_empty());

    // A rating of 7 and an unknown item are refused, naming the item.
    let e =
        app.save_questionnaire_draft(id, answers(&[("cijfer_coach", Answer::Rating(7))])).await.unwrap_err();
    assert_eq!((e.code(), e.to_ui().message.as_str()), ("answer_invalid", "cijfer_coach"));
    let e =
        app.save_questionnaire_draft(id, answers(&[("bestaat_niet", Answer::Rating(3))])).await.unwrap_err();
    assert_eq!(e.code(), "answer_invalid");

    // Half done, with an open answer behind a skip rule: sealed on disk, there after a lock.
    let secret_words = "Liever elke week een gesprek op vrijdag";
    let half = answers(&[
        ("gaat_beter", Answer::Agree(Agree::Eens)),
        ("verder", Answer::Choice("anders".into())),
        ("verder_anders", Answer::Text(secret_words.into())),
    ]);
    app.save_questionnaire_draft(id, half.clone()).await.unwrap();
    assert_eq!(app.tasks().await.unwrap().items[0].state, TaskState::Draft);
    app.lock().await;
    assert!(!files_contain(dir.path(), secret_words), "a draft is never on disk in the clear");
    let account = app.status().await.unwrap().accounts[0].id;
    app.unlock(account, PIN).await.unwrap();
    assert_eq!(app.questionnaire(id).await.unwrap().unwrap().answers, half, "resumed");

    // Incomplete: the first missing item is named, nothing is queued.
    let e = app.submit_questionnaire(id, half.clone()).await.unwrap_err();
    assert_eq!((e.code(), e.to_ui().message.as_str()), ("answer_missing", "plan_past"));
    let mut full = half.clone();
    full.insert("plan_past".into(), Answer::Agree(Agree::Nvt));
    full.insert("cijfer_coach".into(), Answer::Rating(5));
    assert!(app.submit_questionnaire(id, full.clone()).await.unwrap().sent);

    let view = app.questionnaire(id).await.unwrap().unwrap();
    assert_eq!(view.item.state, TaskState::Submitted);
    assert!(view.read_only);
    assert_eq!(view.answers, full, "the server's copy, as sent");
    assert_eq!(app.tasks().await.unwrap().to_do, 1, "only the reading tip is left");
    let e = app.save_questionnaire_draft(id, half).await.unwrap_err();
    assert_eq!(e.code(), "questionnaire_read_only");
    let e = app.submit_questionnaire(id, full).await.unwrap_err();
    assert_eq!(e.code(), "questionnaire_read_only");
    let stored: (String, String) = server
        .db()
        .query_row("SELECT status, answers FROM questionnaire_tasks WHERE id = ?1", [id.to_string()], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(stored.0, "submitted");
    assert!(stored.1.contains(secret_words));

    // Under Taken, her own answers side by side: the start (on paper) and this one.
    let progress = app.my_progress().await.unwrap();
    let phases: Vec<Phase> = progress.phases.iter().map(|p| p.phase).collect();
    assert_eq!(phases, [Phase::Start, Phase::Tussentijds]);
    let row = |key: &str| progress.rows.iter().find(|r| r.item.key == key).unwrap();
    assert_eq!(row("thuis_nu").answers, [Some(Answer::Rating(2)), None]);
    assert_eq!(row("thuis_nu").item.text, "Hoe gaat het nu thuis?", "her wording, never Noor's");
    assert_eq!(row("cijfer_coach").answers, [None, Some(Answer::Rating(5))]);
    assert_eq!(row("verder_anders").answers[1], Some(Answer::Text(secret_words.into())));

    // The coach sees the answers; reading them is logged.
    let staff = server.staff().await.unwrap();
    let dossier = staff.dossier_id(&server.db()).await;
    let list = staff.questionnaires(dossier).await.unwrap();
    let mine = list.iter().find(|q| q.task.id == id).unwrap();
    assert_eq!(mine.person_name, "Sanne Voorbeeld");
    assert_eq!(mine.task.answers.as_ref().unwrap()["verder_anders"], Answer::Text(secret_words.into()));
    let logged: i64 = server
        .db()
        .query_row("SELECT COUNT(*) FROM audit_events WHERE object_type = 'questionnaires'", params![], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(logged, 1);
}

async fn karim(server: &TestServer, dir: &Path) -> (Store, Session) {
    let pin = Pin::parse(PIN).unwrap();
    let store = cjg_client::enrol(
        &server.url,
        &server.code_for("Karim"),
        &pin,
        &SECRET,
        cjg_store::PinMode::Keychain,
        &dir.join("karim.db"),
        "test",
    )
    .await
    .unwrap();
    let session = Session::of(&store).unwrap();
    (store, session)
}

/// The server's side of bad input: every case answers a stable code and stores nothing twice.
#[tokio::test]
async fn the_server_takes_one_answer_and_refuses_bad_ones() {
    let server = TestServer::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (mut store, session) = karim(&server, dir.path()).await;
    cjg_client::sync(&mut store, &SyncOptions::default(), |_| {}).await.unwrap();
    assert_eq!(store.questionnaires().unwrap().len(), 2, "start and interim reached the device");
    let token = session.token().await.unwrap();
    let http = reqwest::Client::new();
    let post = |body: Value| {
        http.post(format!("{}/v1/me/questionnaires", server.url)).bearer_auth(&token).json(&body).send()
    };
    let code = |v: &Value| v["error"]["code"].as_str().unwrap_or_default().to_owned();

    // The coach sends the closing questionnaire by hand (the family stops early).
    let staff = server.staff().await.unwrap();
    let dossier = staff.dossier_id(&server.db()).await;
    let karim_id = cjg_tests::person_id(&server.db(), "Karim Voorbeeld");
    let send = |person: String| {
        staff
            .http
            .post(format!("{}/v1/staff/dossiers/{dossier}/questionnaires", server.url))
            .bearer_auth(&staff.token)
            .header("X-Cjg-Purpose", "hulpverlening")
            .json(&json!({"person_id": person, "phase": "eind"}))
            .send()
    };
    assert_eq!(send(karim_id.clone()).await.unwrap().status(), 201);
    let again = send(karim_id).await.unwrap();
    assert_eq!(again.status(), 409, "one per person and phase");
    let daan = send(cjg_tests::person_id(&server.db(), "Daan Voorbeeld")).await.unwrap();
    assert_eq!(daan.status(), 400, "a child of 9 gets no questionnaire");
    let eind = task_of(&server, "Karim Voorbeeld", "eind");
    let full = serde_json::to_value(full_closing()).unwrap();
    let body = |id: uuid::Uuid, version: u32, answers: &Value| json!({"id": id, "task_id": eind, "version": version, "answers": answers});

    let mut bad = full.clone();
    bad["cijfer_coach"] = json!({"type": "rating", "value": 7});
    let r = post(body(uuid::Uuid::new_v4(), 1, &bad)).await.unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(code(&v), "validation");
    assert!(v["error"]["message"].as_str().unwrap().contains("cijfer_coach"));
    let mut missing = full.clone();
    missing.as_object_mut().unwrap().remove("zelf_verder");
    assert_eq!(
        code(&post(body(uuid::Uuid::new_v4(), 1, &missing)).await.unwrap().json().await.unwrap()),
        "validation"
    );
    let mut long = full.clone();
    long["tip"] = json!({"type": "text", "value": "x".repeat(200_000)});
    let v: Value = post(body(uuid::Uuid::new_v4(), 1, &long)).await.unwrap().json().await.unwrap();
    assert_eq!(code(&v), "validation");
    // A megabyte is cut off at the body limit: 413, or the connection closed mid-upload.
    long["tip"] = json!({"type": "text", "value": "x".repeat(1_000_000)});
    // Its own client, so the connection the server drops is not reused by the next request.
    let huge = reqwest::Client::new()
        .post(format!("{}/v1/me/questionnaires", server.url))
        .bearer_auth(&token)
        .json(&body(uuid::Uuid::new_v4(), 1, &long))
        .send()
        .await;
    if let Ok(r) = huge {
        assert_eq!(r.status(), 413);
    }
    let r = post(body(uuid::Uuid::new_v4(), 99, &full)).await.unwrap();
    assert_eq!(r.status(), 409);
    assert_eq!(code(&r.json().await.unwrap()), "questionnaire_outdated");
    let sannes = task_of(&server, "Sanne Voorbeeld", "tussentijds");
    let r = post(json!({"id": uuid::Uuid::new_v4(), "task_id": sannes, "version": 1, "answers": full}))
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "another person's questionnaire does not exist for Karim");
    let status: String = server
        .db()
        .query_row("SELECT status FROM questionnaire_tasks WHERE id = ?1", [&eind], |r| r.get(0))
        .unwrap();
    assert_eq!(status, "open", "nothing of the refused answers was stored");

    // Double tap and retry: the same id twice is one answer. Another id (a second device)
    // hears that it was already answered; the first id with other answers is a conflict.
    let first = uuid::Uuid::new_v4();
    assert_eq!(post(body(first, 1, &full)).await.unwrap().status(), 201);
    assert_eq!(post(body(first, 1, &full)).await.unwrap().status(), 200);
    let r = post(body(uuid::Uuid::new_v4(), 1, &full)).await.unwrap();
    assert_eq!((r.status().as_u16(), code(&r.json().await.unwrap())), (409, "already_answered".into()));
    let mut other = full.clone();
    other["cijfer_hulp"] = json!({"type": "rating", "value": 1});
    let r = post(body(first, 1, &other)).await.unwrap();
    assert_eq!((r.status().as_u16(), code(&r.json().await.unwrap())), (409, "conflict".into()));
    let stored: (String, String) = server
        .db()
        .query_row("SELECT submission_id, answers FROM questionnaire_tasks WHERE id = ?1", [&eind], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(stored.0, first.to_string());
    assert!(stored.1.contains("\"cijfer_hulp\":{\"type\":\"rating\",\"value\":4}"), "the first answers stay");
}

/// The closing questionnaire, filled in offline, waits read-only in the outbox, goes out when
/// the server is back, and the coach sees it.
#[tokio::test]
async fn a_closing_questionnaire_filled_in_offline_reaches_the_coach() {
    let data = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_in(data.path(), "127.0.0.1:0", &[]).unwrap();
    let listen = server.url.trim_start_matches("http://").to_owned();
    let staff = server.staff().await.unwrap();
    let dossier = staff.dossier_id(&server.db()).await;
    let today = cjg_core::time::dutch_date(chrono::Utc::now());
    let put = |body: Value| staff.set_trajectory(dossier, body);
    let started = today - chrono::Duration::days(118);
    let r = put(json!({"started_on": started, "closed_on": started - chrono::Duration::days(1),
        "municipality": "Demostad", "team": "Team Noord"}))
    .await
    .unwrap();
    assert_eq!(r.status(), 400, "closing before the start");
    let r = put(json!({"started_on": started, "closed_on": today, "municipality": "Demostad", "team": "  "}))
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "a team is needed for the report");
    let r = put(
        json!({"started_on": started, "closed_on": today, "municipality": "Demostad", "team": "Team Noord"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let list: Vec<Value> = r.json().await.unwrap();
    let closing: Vec<&str> = list
        .iter()
        .filter(|q| q["task"]["definition"]["phase"] == "eind")
        .map(|q| q["person_name"].as_str().unwrap())
        .collect();
    // Parents, the carer, and the youths of 12 and over; not Daan (9).
    assert_eq!(closing.len(), 5, "{closing:?}");
    assert!(!closing.contains(&"Daan Voorbeeld"));

    let (dir, app) = cjg_tests::enrolled_app(&server, "Noor").await;
    let tasks = app.tasks().await.unwrap();
    let eind = tasks.items.iter().find(|t| t.phase == Some(Phase::Eind)).unwrap().clone();
    assert_eq!((eind.state, eind.days_left), (TaskState::Open, 14));
    assert_eq!(app.questionnaire(eind.id).await.unwrap().unwrap().task.definition.key, "eind-jongere");

    server.stop();
    let sent = app.submit_questionnaire(eind.id, full_closing()).await.unwrap();
    assert!(!sent.sent, "offline: kept in the outbox");
    let view = app.questionnaire(eind.id).await.unwrap().unwrap();
    assert_eq!((view.item.state, view.read_only), (TaskState::Sending, true));
    assert_eq!(view.answers, full_closing());
    assert!(app.save_questionnaire_draft(eind.id, Answers::new()).await.is_err(), "read-only while it waits");
    assert!(!files_contain(dir.path(), "'s avonds konden komen"), "the queued answers are sealed");

    server = TestServer::start_in(data.path(), &listen, &[]).unwrap();
    app.sync(|_| {}).await.unwrap();
    let view = app.questionnaire(eind.id).await.unwrap().unwrap();
    assert_eq!(view.item.state, TaskState::Submitted);
    let staff = server.staff().await.unwrap();
    let list = staff.questionnaires(dossier).await.unwrap();
    let noor = list
        .iter()
        .find(|q| q.person_name == "Noor Voorbeeld" && q.task.definition.phase == Phase::Eind)
        .unwrap();
    assert_eq!(noor.task.status, TaskStatus::Submitted);
    assert_eq!(noor.task.answers.as_ref().unwrap()["samenwerking"], Answer::Agree(Agree::Oneens));
    assert_eq!(noor.sent_by, None, "sent by the schedule");
}

/// The report over the staff API equals the CLI's, counts what the database holds, hides small
/// groups, and is only for staff with a reporting role.
#[tokio::test]
async fn the_indicator_report_over_the_api_and_the_cli() {
    let server = TestServer::start().unwrap();
    let today = cjg_core::time::dutch_date(chrono::Utc::now());
    let half = if chrono::Datelike::month(&today) <= 6 { 1 } else { 2 };
    let period = Period::Half { year: chrono::Datelike::year(&today), half };
    let http = reqwest::Client::new();
    let get = |token: String, query: String| {
        http.get(format!("{}/v1/staff/reports/indicators?{query}", server.url)).bearer_auth(token).send()
    };
    let coach = server.staff().await.unwrap();
    let r = get(coach.token.clone(), format!("period={}", period.code())).await.unwrap();
    assert_eq!(r.status(), 403, "coaches do not see other teams' figures");
    let kim = server.staff_as("kwaliteit").await.unwrap();
    for bad in ["period=2026-H3", "period=", "period=2026-H1&format=xlsx", "perio=2026-H1"] {
        let r = get(kim.token.clone(), bad.into()).await.unwrap();
        assert_eq!(r.status(), 400, "{bad}");
    }

    let r = get(kim.token.clone(), format!("period={}", period.code())).await.unwrap();
    assert_eq!(r.status(), 200);
    let report: Value = r.json().await.unwrap();
    let rows = report["rows"].as_array().unwrap();
    let all = rows.last().unwrap();
    assert_eq!(all["municipality"], "");
    let (from, to) = (period.first_day(), period.last_day());
    let count = |sql: &str| -> i64 { server.db().query_row(sql, params![from, to], |r| r.get(0)).unwrap() };
    let sent = count(
        "SELECT COUNT(*) FROM questionnaire_tasks WHERE phase = 'eind' AND available_on BETWEEN ?1 AND ?2",
    );
    let answered = count(
        "SELECT COUNT(*) FROM questionnaire_tasks WHERE phase = 'eind' AND answers IS NOT NULL
         AND available_on BETWEEN ?1 AND ?2",
    );
    assert!(answered >= 5, "the demo archive fills this half year ({answered})");
    assert_eq!(
        (all["current"]["sent"].as_i64(), all["current"]["answered"].as_i64()),
        (Some(sent), Some(answered))
    );
    // A half-year hides its total when exactly one of its quarters hides theirs (the demo's
    // archive is thin per quarter), so the items show only when the total is shown.
    if all["current"]["suppressed"] == false {
        assert_eq!(all["current"]["items"].as_array().unwrap().len(), 4);
    }
    for row in rows {
        for f in [&row["current"], &row["previous"]] {
            let n = f["answered"].as_i64().unwrap();
            if n < 5 {
                assert_eq!(f["suppressed"], true, "{row}");
                assert!(f["items"].as_array().unwrap().is_empty());
            }
            for s in f["items"].as_array().unwrap() {
                let sum: i64 = ["eens", "oneens", "nvt"].iter().map(|k| s[k].as_i64().unwrap()).sum();
                assert_eq!(sum, 100);
            }
        }
    }

    let csv_api = get(kim.token.clone(), format!("period={}&format=csv", period.code())).await.unwrap();
    assert_eq!(csv_api.headers()["content-type"], "text/csv; charset=utf-8");
    let csv_api = csv_api.text().await.unwrap();
    let html = get(kim.token.clone(), format!("period={}&format=html", period.code())).await.unwrap();
    assert!(html.text().await.unwrap().contains("Indicatoren vragenlijst bij het afsluiten"));

    let out = server.cli().args(["report", "--period", &period.code(), "--format", "csv"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), csv_api, "the CLI and the API agree");
    let out = server.cli().args(["report", "--period", "2026-H9"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("2026-H1 or 2026-Q3"));
}

/// The schedule also runs without any sync: a closing date set ahead makes the closing
/// questionnaires on that day, when the server runs its schedule (at start and every hour), so
/// a family without the app still counts as asked in the report.
#[tokio::test]
async fn the_schedule_runs_without_a_sync() {
    let data = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_in(data.path(), "127.0.0.1:0", &[]).unwrap();
    let staff = server.staff().await.unwrap();
    let dossier = staff.dossier_id(&server.db()).await;
    let today = cjg_core::time::dutch_date(chrono::Utc::now());
    let body = json!({"started_on": today - chrono::Duration::days(118),
        "closed_on": today + chrono::Duration::days(10), "municipality": "Demostad", "team": "Team Noord"});
    assert_eq!(staff.set_trajectory(dossier, body).await.unwrap().status(), 200);
    let closing = |server: &TestServer| -> i64 {
        server
            .db()
            .query_row(
                "SELECT COUNT(*) FROM questionnaire_tasks WHERE dossier_id = ?1 AND phase = 'eind'",
                [dossier.to_string()],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!(closing(&server), 0, "not before the closing day");
    server.stop();
    // Eleven days on, nobody syncs: the server's own schedule makes them.
    let server = TestServer::start_in(data.path(), "127.0.0.1:0", &["--clock-offset-days", "11"]).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while closing(&server) < 5 {
        assert!(std::time::Instant::now() < deadline, "the schedule did not run at start");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(closing(&server), 5);
}
