//! Berichten: a message written offline waits in the outbox and leaves when the server is back;
//! the coach's answer arrives by sync; read marks travel both ways; each family member's
//! conversation is their own; bad messages are refused and nothing is stored twice.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cjg_client::app::Delivery;
use cjg_tests::{params, TestServer, PIN};
use serde_json::{json, Value};

#[tokio::test]
async fn a_message_written_offline_reaches_the_coach_and_the_answer_comes_back() {
    let data = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_in(data.path(), "127.0.0.1:0", &[]).unwrap();
    let listen = server.url.trim_start_matches("http://").to_owned();
    let (_dir, app) = cjg_tests::enrolled_app(&server, "Sanne").await;

    // Bad input is refused before it is queued.
    assert_eq!(app.send_message("   \n ").await.unwrap_err().code(), "invalid_input");
    assert_eq!(app.send_message(&"x".repeat(100_000)).await.unwrap_err().code(), "invalid_input");

    server.stop();
    let sent = app.send_message("Mag het gesprek van dinsdag een uur later?").await.unwrap();
    assert!(!sent.sent, "offline: kept");
    let v = app.berichten().await.unwrap();
    assert_eq!(v.messages.len(), 1);
    assert_eq!(v.messages[0].delivery, Some(Delivery::Waiting));
    assert!(v.messages[0].created_at.is_none());

    server = TestServer::start_in(data.path(), &listen, &[]).unwrap();
    app.sync(|_| {}).await.unwrap();
    let v = app.berichten().await.unwrap();
    assert_eq!(v.messages.len(), 1, "sent once, and not twice on the device");
    assert_eq!(v.messages[0].delivery, Some(Delivery::Delivered));

    // The coach reads (logged; the family sees "read") and two answers land at once.
    let staff = server.staff().await.unwrap();
    let dossier = staff.dossier_id(&server.db()).await;
    let sanne = cjg_tests::person_id(&server.db(), "Sanne Voorbeeld");
    let list = staff.messages(dossier).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].text, "Mag het gesprek van dinsdag een uur later?");
    let answer = |text: &'static str| staff.send_message(&sanne, text);
    let (a, b) = tokio::join!(answer("Ja, 20.00 uur is goed."), answer("Ik zet het in de agenda."));
    assert_eq!((a.unwrap().status().as_u16(), b.unwrap().status().as_u16()), (201, 201), "both answers land");
    assert_eq!(answer("   ").await.unwrap().status(), 400);
    let logged: i64 = server
        .db()
        .query_row(
            "SELECT COUNT(*) FROM audit_events WHERE object_type IN ('messages', 'message')",
            params![],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(logged, 3, "reading the messages and each answer are in the log");

    app.sync(|_| {}).await.unwrap();
    let v = app.berichten().await.unwrap();
    assert_eq!(v.messages.len(), 3);
    assert_eq!(v.messages[0].delivery, Some(Delivery::Read), "the coach opened it");
    assert_eq!(v.unread, 2);
    assert!(v.messages[1..].iter().all(|m| m.from_coach && m.author_name == "Fleur Demo"));
    app.mark_messages_read().await.unwrap();
    assert_eq!(app.berichten().await.unwrap().unread, 0);
    let read: i64 = server
        .db()
        .query_row(
            "SELECT COUNT(*) FROM messages WHERE author_staff_id IS NOT NULL AND read_at IS NOT NULL",
            params![],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(read, 2, "the coach sees the answers were read");

    // Noor's conversation is her own: nothing of her mother's reaches her.
    let (_noor_dir, noor) = cjg_tests::enrolled_app(&server, "Noor").await;
    assert!(noor.berichten().await.unwrap().messages.is_empty());
}

#[tokio::test]
async fn the_same_message_twice_is_one_and_a_reused_id_is_refused() {
    let server = TestServer::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pin = cjg_core::validate::Pin::parse(PIN).unwrap();
    let store = cjg_client::enrol(
        &server.url,
        &server.code_for("Karim"),
        &pin,
        &[3; 32],
        cjg_store::PinMode::Keychain,
        &dir.path().join("k.db"),
        "t",
    )
    .await
    .unwrap();
    let session = cjg_client::Session::of(&store).unwrap();
    let token = session.token().await.unwrap();
    let http = reqwest::Client::new();
    let post = |body: Value| {
        http.post(format!("{}/v1/me/messages", server.url)).bearer_auth(&token).json(&body).send()
    };
    let id = uuid::Uuid::new_v4();
    assert_eq!(post(json!({"id": id, "text": "Hallo"})).await.unwrap().status(), 201);
    assert_eq!(post(json!({"id": id, "text": "Hallo"})).await.unwrap().status(), 200, "a retry");
    assert_eq!(post(json!({"id": id, "text": "Iets anders"})).await.unwrap().status(), 409);
    assert_eq!(post(json!({"id": uuid::Uuid::new_v4(), "text": "  "})).await.unwrap().status(), 400);
    let n: i64 = server.db().query_row("SELECT COUNT(*) FROM messages", params![], |r| r.get(0)).unwrap();
    assert_eq!(n, 1);
    // A receipt naming someone else's message changes nothing.
    let r = http
        .post(format!("{}/v1/me/messages/read", server.url))
        .bearer_auth(&token)
        .json(&json!({"message_ids": [id, uuid::Uuid::new_v4()]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let read: Option<String> = server
        .db()
        .query_row("SELECT read_at FROM messages WHERE id = ?1", [id.to_string()], |r| r.get(0))
        .unwrap();
    assert!(read.is_none(), "one's own message is read by the coach, not by oneself");
}
