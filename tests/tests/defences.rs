//! Server defences for a real deployment (issue 18), each through the real server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cjg_core::entry::EntryKind;
use cjg_tests::{family_entry, params, TestServer};
use serde_json::{json, Value};

async fn code_of(resp: reqwest::Response) -> (u16, String) {
    let status = resp.status().as_u16();
    let v: Value = resp.json().await.unwrap_or_default();
    (status, v["error"]["code"].as_str().unwrap_or_default().to_owned())
}

/// Names, notes and device names cannot carry characters that make them read as something else;
/// long text keeps only ordinary whitespace. Nothing of a refused write is stored.
#[tokio::test]
async fn text_that_could_spoof_is_refused() {
    let server = TestServer::start().unwrap();
    let staff = server.staff().await.unwrap();
    let dossier = staff.dossier_id(&server.db()).await;
    let before = staff.entries(dossier).await.unwrap().len();
    let http = reqwest::Client::new();

    // A device name that would show as "Sanne's laptop" with a right-to-left override inside.
    let resp = http
        .post(format!("{}/v1/enrol", server.url))
        .json(&json!({
            "activation_code": server.code_for("Sanne"),
            "device_public_key": cjg_crypto::b64(&[7u8; 32]),
            "device_name": "Laptop\u{202E}potpaL",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(code_of(resp).await, (400, "validation".into()));

    for (title, body) in [("Verslag\u{200B}", "tekst"), ("Verslag", "als \u{2067}dit\u{2069} waar is")] {
        let draft = family_entry(EntryKind::Gespreksverslag, title, body, "2026-01-05");
        let resp = staff
            .req(reqwest::Method::POST, &format!("/v1/staff/dossiers/{dossier}/entries"))
            .header("X-Cjg-Purpose", "verslag_schrijven")
            .json(&draft)
            .send()
            .await
            .unwrap();
        assert_eq!(code_of(resp).await, (400, "validation".into()), "{title:?} {body:?}");
    }
    assert_eq!(staff.entries(dossier).await.unwrap().len(), before, "nothing of a refused write stays");

    let resp = staff
        .req(reqwest::Method::PUT, &format!("/v1/staff/dossiers/{dossier}/purpose"))
        .json(&json!({"purpose": "overleg", "note": "overleg met \u{202D}school"}))
        .send()
        .await
        .unwrap();
    assert_eq!(code_of(resp).await, (400, "validation".into()));

    let sanne = cjg_tests::person_id(&server.db(), "Sanne Voorbeeld");
    let resp = staff.send_message(&sanne, "Tot \u{FEFF}morgen").await.unwrap();
    assert_eq!(code_of(resp).await, (400, "validation".into()));
    // Windows line ends and a no-break space are fine: they are made ordinary.
    let resp = staff.send_message(&sanne, "Tot morgen,\r\nKarin\u{00A0}(coach)").await.unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    let sent = staff.messages(dossier).await.unwrap();
    assert!(sent.iter().any(|m| m.text == "Tot morgen,\nKarin (coach)"), "stored in ordinary whitespace");
}

/// `--demo` prints activation codes and well-known passwords: on a database that holds a family
/// it did not invent, it refuses to start and hands out nothing.
#[tokio::test]
async fn demo_refuses_a_database_with_real_families() {
    let data = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_in(data.path(), "127.0.0.1:0", &[]).unwrap();
    let db = server.db();
    server.stop();
    db.execute(
        "INSERT INTO dossiers (id, family_name, created_at) VALUES (?1, 'Echt', '2026-11-01T09:00:00Z')",
        params![uuid::Uuid::new_v4().to_string()],
    )
    .unwrap();
    let codes_before: i64 =
        db.query_row("SELECT COUNT(*) FROM activation_codes", params![], |r| r.get(0)).unwrap();
    let refused = TestServer::start_in(data.path(), "127.0.0.1:0", &[]);
    let err = refused.err().expect("the demo must not start").to_string();
    assert!(err.contains("exited"), "{err}");
    let codes_after: i64 =
        db.query_row("SELECT COUNT(*) FROM activation_codes", params![], |r| r.get(0)).unwrap();
    assert_eq!(codes_after, codes_before, "no code was issued");
    // Without --demo the same database serves as usual.
    let mut plain = server.cli();
    let out = plain.arg("verify-audit").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
