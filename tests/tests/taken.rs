//! Taken: feedback on an entry goes through the app's outbox. Nothing is lost offline, nothing
//! is stored twice when an answer is lost, and the coach's answer comes back by sync.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use cjg_core::feedback::{FeedbackKind, FeedbackStatus};
use cjg_tests::{params, TestServer, PIN};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn feedback_rows(server: &TestServer) -> i64 {
    server.db().query_row("SELECT COUNT(*) FROM feedback", params![], |r| r.get(0)).unwrap()
}

/// A loopback proxy in front of the server. While `drop_feedback_answer` is set, the first
/// `POST /v1/me/feedback` reaches the server, but the connection is cut the moment the server's
/// answer comes back: stored on the server, never acknowledged to the app.
async fn proxy(upstream: String, drop_feedback_answer: Arc<AtomicBool>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else { return };
            let upstream = upstream.clone();
            let drop_flag = drop_feedback_answer.clone();
            tokio::spawn(async move {
                let Ok(mut server) = TcpStream::connect(&upstream).await else { return };
                let (mut cbuf, mut sbuf) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
                let mut cutting = false;
                loop {
                    tokio::select! {
                        n = client.read(&mut cbuf) => {
                            let Ok(n) = n else { return };
                            if n == 0 { return }
                            let chunk = &cbuf[..n];
                            if chunk.windows(20).any(|w| w == b"POST /v1/me/feedback")
                                && drop_flag.swap(false, Ordering::SeqCst)
                            {
                                cutting = true;
                            }
                            if server.write_all(chunk).await.is_err() { return }
                        }
                        n = server.read(&mut sbuf) => {
                            let Ok(n) = n else { return };
                            if n == 0 || cutting { return }
                            if client.write_all(&sbuf[..n]).await.is_err() { return }
                        }
                    }
                }
            });
        }
    });
    url
}

#[tokio::test]
async fn a_lost_acknowledgement_never_makes_a_duplicate() {
    let server = TestServer::start().unwrap();
    let cut = Arc::new(AtomicBool::new(false));
    let via = proxy(server.url.trim_start_matches("http://").to_owned(), cut.clone()).await;
    let (_dir, app) = cjg_tests::enrolled_app_via(&server, &via, "Sanne").await;
    let entry = app.dossier().await.unwrap().entries[0].id;

    cut.store(true, Ordering::SeqCst);
    let r = app.send_feedback(entry, FeedbackKind::Correctie, "De datum klopt niet: het was woensdag.").await;
    assert!(!r.unwrap().sent, "no acknowledgement: the item stays in the outbox");
    assert!(!cut.load(Ordering::SeqCst), "the cut happened");
    assert_eq!(feedback_rows(&server), 1, "the server did store it");
    let detail = app.entry(entry).await.unwrap().unwrap();
    assert_eq!((detail.pending.len(), detail.feedback.len()), (1, 0));

    // The retry (the next sync) sends the same id: the server recognises it.
    app.sync(|_| {}).await.unwrap();
    assert_eq!(feedback_rows(&server), 1, "exactly one item on the server");
    let detail = app.entry(entry).await.unwrap().unwrap();
    assert_eq!((detail.pending.len(), detail.feedback.len()), (0, 1));
    assert_eq!(detail.feedback[0].status, FeedbackStatus::Open);

    // The same id with other content is refused, and the original stays.
    let staff = server.staff().await.unwrap();
    let dossier = staff.dossier_id(&server.db()).await;
    let list = staff.feedback(dossier).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].text, "De datum klopt niet: het was woensdag.");
}

#[tokio::test]
async fn feedback_written_offline_is_sent_later_and_the_answer_comes_back() {
    let data = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_in(data.path(), "127.0.0.1:0", &[]).unwrap();
    let listen = server.url.trim_start_matches("http://").to_owned();
    let (_dir, app) = cjg_tests::enrolled_app(&server, "Karim").await;
    let entries = app.dossier().await.unwrap().entries;
    let (first, second) = (entries[0].id, entries[1].id);

    // Bad input is refused before it is queued.
    let e = app.send_feedback(first, FeedbackKind::Vraag, "   ").await.unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    let e = app.send_feedback(first, FeedbackKind::Vraag, &"x".repeat(1_000_000)).await.unwrap_err();
    assert_eq!(e.code(), "invalid_input");

    server.stop();
    let r =
        app.send_feedback(first, FeedbackKind::Correctie, "Mijn naam is verkeerd gespeld.").await.unwrap();
    assert!(!r.sent, "offline: kept");
    let r = app.send_feedback(second, FeedbackKind::Vraag, "Wanneer is het volgende gesprek?").await.unwrap();
    assert!(!r.sent);
    assert!(app.sync(|_| {}).await.is_err(), "still offline");

    server = TestServer::start_in(data.path(), &listen, &[]).unwrap();
    // Meanwhile the coach removed the second entry: that item can never be delivered.
    let staff = server.staff().await.unwrap();
    assert_eq!(staff.delete_entry(second).await.unwrap().status(), 204);
    app.sync(|_| {}).await.unwrap();
    let d = app.entry(first).await.unwrap().unwrap();
    assert_eq!((d.pending.len(), d.feedback.len()), (0, 1), "sent and confirmed");
    assert_eq!(feedback_rows(&server), 1);

    // The coach refuses the correction, with the reason; the app gets it by sync.
    let dossier = staff.dossier_id(&server.db()).await;
    let http = reqwest::Client::new();
    let put = |body: Value| {
        http.put(format!("{}/v1/staff/feedback/{}", server.url, d.feedback[0].id))
            .bearer_auth(&staff.token)
            .header("X-Cjg-Purpose", "verslag_schrijven")
            .json(&body)
            .send()
    };
    assert_eq!(
        put(json!({"status": "refused", "answer": " "})).await.unwrap().status(),
        400,
        "a reason is required"
    );
    let resp = put(json!({"status": "refused", "answer": "In ons systeem staat de naam zo op uw verzoek."}))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let logged: i64 = server
        .db()
        .query_row(
            "SELECT COUNT(*) FROM audit_events WHERE dossier_id = ?1 AND object_type = 'feedback'",
            [dossier.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(logged, 1, "the answer is in the audit log");
    app.sync(|_| {}).await.unwrap();
    let f = &app.entry(first).await.unwrap().unwrap().feedback[0];
    assert_eq!(f.status, FeedbackStatus::Refused);
    assert_eq!(f.answer.as_deref(), Some("In ons systeem staat de naam zo op uw verzoek."));
    assert_eq!(f.answered_by.as_deref(), Some("Fleur Demo"));
}

/// A coach asks a parent to read a report and say whether it is right: a task in the app until
/// the parent reacts on that entry. Asking about an entry the person cannot see is refused.
#[tokio::test]
async fn a_request_to_react_is_a_task_until_the_person_reacts() {
    let server = TestServer::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let app = cjg_tests::app(dir.path());
    app.enrol(&server.url, &server.code_for("Karim"), PIN, PIN, "").await.unwrap();
    let staff = server.staff().await.unwrap();
    let db = server.db();
    let karim = cjg_tests::person_id(&db, "Karim Voorbeeld");
    let entry: String = db
        .query_row("SELECT id FROM entries WHERE title = 'Ons gezinsplan'", params![], |r| r.get(0))
        .unwrap();
    let milans: String = db
        .query_row("SELECT id FROM entries WHERE title = 'Gesprek met Milan'", params![], |r| r.get(0))
        .unwrap();
    let ask = |entry: String, note: &'static str| {
        staff
            .http
            .post(format!("{}/v1/staff/entries/{entry}/feedback-requests", server.url))
            .bearer_auth(&staff.token)
            .header("X-Cjg-Purpose", "hulpverlening")
            .json(&json!({"person_id": karim, "note": note}))
            .send()
    };
    assert_eq!(ask(milans, "Lees dit").await.unwrap().status(), 400, "Milan's entry is not for his father");
    assert_eq!(ask(entry.clone(), " ").await.unwrap().status(), 400, "a note is needed");
    assert_eq!(
        ask(entry.clone(), "Wil je het plan lezen en laten weten of het klopt?").await.unwrap().status(),
        201
    );
    assert_eq!(ask(entry.clone(), "Nog een keer").await.unwrap().status(), 409, "already asked");

    app.sync(|_| {}).await.unwrap();
    let tasks = app.tasks().await.unwrap();
    let request = tasks.items.iter().find(|t| t.kind == cjg_client::app::TaskKind::FeedbackRequest).unwrap();
    assert_eq!(request.title, "Ons gezinsplan");
    assert_eq!(request.note.as_deref(), Some("Wil je het plan lezen en laten weten of het klopt?"));
    assert_eq!(request.requested_by.as_deref(), Some("Fleur Demo"));
    assert_eq!(request.state, cjg_client::app::TaskState::Open);
    let before = tasks.to_do;

    let sent = app.send_feedback(entry.parse().unwrap(), FeedbackKind::Akkoord, "").await.unwrap();
    assert!(sent.sent);
    let tasks = app.tasks().await.unwrap();
    let request = tasks.items.iter().find(|t| t.kind == cjg_client::app::TaskKind::FeedbackRequest).unwrap();
    assert_eq!(request.state, cjg_client::app::TaskState::Submitted, "reacting did what was asked");
    assert_eq!(tasks.to_do, before - 1);
    // Asked again after the reaction: open anew.
    assert_eq!(ask(entry, "Klopt het nieuwe plan ook?").await.unwrap().status(), 201);
    app.sync(|_| {}).await.unwrap();
    let tasks = app.tasks().await.unwrap();
    let request = tasks.items.iter().find(|t| t.kind == cjg_client::app::TaskKind::FeedbackRequest).unwrap();
    assert_eq!(
        (request.state, request.note.as_deref()),
        (cjg_client::app::TaskState::Open, Some("Klopt het nieuwe plan ook?"))
    );
}
