//! API conformance (issue 23, part 3): schemathesis generates requests from the OpenAPI document
//! the server serves and checks every answer: no 5xx, every status code documented, every body
//! matching its schema and content type, and 405 for a method a route does not take. It runs
//! once with a coach's token and once with an enrolled device's, over every route (the other
//! side's routes then answer 401 or 403, which must be documented too). Bounded by examples
//! per route and a fixed seed, so a run repeats; `CJG_CONFORMANCE_EXAMPLES=n` runs longer.
//!
//! Left out: `POST /v1/staff/logout` (it ends the token the rest of the run uses; tested in
//! `accounts.rs`) and `GET /v1/me/events` (an answer that never ends; tested in `push.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;

use cjg_tests::TestServer;

fn schemathesis() -> PathBuf {
    let st = std::env::var_os("CJG_SCHEMATHESIS")
        .map(PathBuf::from)
        .unwrap_or_else(|| cjg_tests::workspace_root().join("target/conformance-venv/bin/st"));
    assert!(st.exists(), "schemathesis is missing at {}: run scripts/setup", st.display());
    st
}

fn run(server: &TestServer, who: &str, token: &str) {
    let examples = std::env::var("CJG_CONFORMANCE_EXAMPLES").unwrap_or_else(|_| "15".into());
    // schemathesis keeps a cache of what it found in its working directory: a temporary one.
    let scratch = tempfile::tempdir().unwrap();
    let out = Command::new(schemathesis())
        .current_dir(scratch.path())
        .arg("run")
        .arg(format!("{}/v1/openapi.json", server.url))
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--checks", "not_a_server_error,status_code_conformance,response_schema_conformance"])
        .args(["--checks", "content_type_conformance,unsupported_method"])
        .args(["--exclude-path", "/v1/staff/logout", "--exclude-path", "/v1/me/events"])
        .args(["--max-examples", &examples, "--seed", "20261207", "--workers", "1"])
        .args(["--request-timeout", "20", "--no-color"])
        .env("SCHEMATHESIS_HOOKS", "")
        .output()
        .expect("run schemathesis");
    let said = String::from_utf8_lossy(&out.stdout);
    let summary: Vec<&str> = said.lines().rev().take(25).collect();
    eprintln!("as {who}:\n{}", summary.into_iter().rev().collect::<Vec<_>>().join("\n"));
    assert!(
        out.status.success(),
        "schemathesis as {who} found problems:\n{said}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn the_api_answers_as_its_document_says_for_staff_and_for_a_device() {
    let st = schemathesis();
    let server = TestServer::start().unwrap();
    let coach = server.staff().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = cjg_tests::enrolled_store(&server, "Sanne", dir.path()).await;
    let device = cjg_client::Session::of(&store).unwrap().token().await.unwrap();
    eprintln!("schemathesis: {}", st.display());
    tokio::task::spawn_blocking(move || {
        run(&server, "coach", &coach.token);
        run(&server, "device", &device);
    })
    .await
    .unwrap();
}
