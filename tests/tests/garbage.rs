//! A server that answers garbage or far too much: the sync stops with a clear error and the
//! local store keeps what it had.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::routing::{get, post};
use axum::{Json, Router};
use cjg_client::SyncOptions;
use cjg_core::validate::Pin;
use cjg_crypto::DeviceKey;
use cjg_store::{Profile, Store};
use serde_json::json;
use uuid::Uuid;

async fn fake_server(sync_body: &'static str, repeat: usize) -> String {
    let app = Router::new()
        .route("/v1/auth/challenge", post(|| async { Json(json!({"challenge": "abc"})) }))
        .route(
            "/v1/auth/token",
            post(|| async { Json(json!({"token": "t", "expires_at": "2099-01-01T00:00:00Z"})) }),
        )
        .route("/v1/sync", get(move || async move { sync_body.repeat(repeat) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

async fn store_for(url: String, dir: &std::path::Path) -> Store {
    let profile = Profile {
        server_url: url,
        device_id: Uuid::new_v4(),
        person_id: Uuid::new_v4(),
        display_name: "X".into(),
    };
    let mut store = Store::create(
        &dir.join("s.db"),
        &Pin::parse(cjg_tests::PIN).unwrap(),
        &cjg_store::PinSecrets::new(cjg_store::PinMode::Keychain, &[1; 32], None).unwrap(),
        cjg_store::PinMode::Keychain,
        &profile,
        &DeviceKey::generate().unwrap(),
    )
    .unwrap();
    // Enrolment pins the log's key; without one the app would rightly ask to enrol again.
    store.pin_audit_key(&[7; 32]).unwrap();
    store
}

#[tokio::test]
async fn garbage_and_oversized_pages_are_refused() {
    for (body, repeat) in [("<html>oops</html>", 1), ("{\"items\": [", 1), ("x", 9 * 1024 * 1024)] {
        let dir = tempfile::tempdir().unwrap();
        let mut store = store_for(fake_server(body, repeat).await, dir.path()).await;
        let e = cjg_client::sync(&mut store, &SyncOptions::default(), |_| {}).await.unwrap_err();
        assert_eq!(e.code(), "server_invalid_response", "{body}");
        assert_eq!(store.cursor().unwrap(), 0);
    }
}

#[tokio::test]
async fn a_page_whose_cursors_go_backwards_is_refused_whole() {
    let body = r#"{"items":[
        {"cursor":5,"change":{"type":"entry_deleted","id":"00000000-0000-0000-0000-000000000001","version":2}},
        {"cursor":3,"change":{"type":"entry_deleted","id":"00000000-0000-0000-0000-000000000002","version":2}}],
        "next_cursor":5,"has_more":false}"#;
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_for(fake_server(body, 1).await, dir.path()).await;
    let e = cjg_client::sync(&mut store, &SyncOptions::default(), |_| {}).await.unwrap_err();
    assert_eq!(e.code(), "server_invalid_response");
    assert_eq!(store.cursor().unwrap(), 0);
}
