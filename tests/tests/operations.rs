//! Running the server (issue 23, part 6, first pieces): readiness apart from liveness, and
//! Prometheus metrics behind a token that count and never name anyone.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use cjg_tests::TestServer;

const TOKEN: &str = "metrics-token-for-the-test-0123";

#[tokio::test]
async fn metrics_need_their_token_count_requests_by_route_and_name_no_one() {
    let server = TestServer::start_with(&["--metrics-token", TOKEN]).unwrap();
    let http = reqwest::Client::new();
    let url = format!("{}/metrics", server.url);
    assert_eq!(http.get(&url).send().await.unwrap().status(), 401);
    assert_eq!(
        http.get(&url).bearer_auth("wrong-token-of-enough-length").send().await.unwrap().status(),
        401
    );

    let (_dir, app) = cjg_tests::enrolled_app(&server, "Sanne").await;
    app.sync(|_| {}).await.unwrap();
    let coach = server.staff().await.unwrap();
    let dossier = coach.dossier_id(&server.db()).await;
    coach.entries(dossier).await.unwrap();
    // An id in an unknown path, and an unknown method: neither becomes a label.
    let probe = format!("{}/v1/staff/entries/{dossier}/nothing", server.url);
    assert_eq!(http.get(&probe).send().await.unwrap().status(), 404);
    let odd = reqwest::Method::from_bytes(b"BREWCOFFEE").unwrap();
    http.request(odd, format!("{}/v1/sync", server.url)).send().await.unwrap();

    let res = http.get(&url).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = res.text().await.unwrap();
    assert!(text.contains(r#"route="/v1/sync",status="200""#), "{text}");
    assert!(text.contains(r#"route="/v1/staff/dossiers/{dossier_id}/entries",status="200""#), "{text}");
    assert!(text.contains(r#"cjg_refused_requests_total{status="401"}"#), "{text}");
    let pages: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("cjg_sync_pages_total "))
        .expect("sync pages")
        .parse()
        .unwrap();
    assert!(pages >= 2.0, "{pages}");
    assert!(text.contains("cjg_db_seconds_count"), "{text}");
    assert!(text.contains("cjg_push_connections 0"), "{text}");
    // Templates only: no dossier, person or device id, no name.
    assert!(!text.contains(&dossier.to_string()) && !text.contains("Sanne"), "{text}");
    assert!(!text.contains("BREWCOFFEE") && text.contains(r#"method="other""#), "{text}");

    let ready = http.get(format!("{}/v1/ready", server.url)).send().await.unwrap();
    assert_eq!(ready.status(), 200);
}

#[tokio::test]
async fn without_a_token_there_is_no_metrics_route_and_a_short_one_is_refused_at_start() {
    let server = TestServer::start().unwrap();
    let res = reqwest::get(format!("{}/metrics", server.url)).await.unwrap();
    assert_eq!(res.status(), 404);
    // A command that ends by itself: were the check missing, the test would not hang.
    let out = server.cli().args(["--metrics-token", "short", "verify-audit"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 16 characters"));
}

/// `CJG_LOG_FORMAT=json`: one JSON object a line on standard error, for a log collector.
#[tokio::test]
async fn logs_come_as_json_lines_on_request() {
    use std::io::BufRead;
    let data = tempfile::tempdir().unwrap();
    let (mut command, _) = cjg_tests::server_command(data.path()).unwrap();
    let mut child = command
        .args(["--listen", "127.0.0.1:0"])
        .env("CJG_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stderr.take().unwrap()).read_line(&mut line).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let event: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
    assert_eq!(event["level"], "INFO", "{line}");
    assert_eq!(event["fields"]["message"], "starting", "{line}");
}

/// The configuration file (`--config`, TOML) sets what flags set; a flag wins over it; a
/// setting it does not know stops the server with the setting's name.
#[tokio::test]
async fn a_configuration_file_sets_what_flags_set_and_a_flag_wins() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("cjg-server.toml");
    std::fs::write(&config, format!("# test\nmetrics_token = \"{TOKEN}\"\nstaff_idle_minutes = 5\n"))
        .unwrap();
    let config = config.to_str().unwrap().to_owned();
    let http = reqwest::Client::new();

    let server = TestServer::start_with(&["--config", &config]).unwrap();
    let res = http.get(format!("{}/metrics", server.url)).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(res.status(), 200, "the file's metrics token holds");
    drop(server);

    let flag_token = "metrics-token-from-the-flag-4567";
    let server = TestServer::start_with(&["--config", &config, "--metrics-token", flag_token]).unwrap();
    let url = format!("{}/metrics", server.url);
    assert_eq!(http.get(&url).bearer_auth(TOKEN).send().await.unwrap().status(), 401);
    assert_eq!(http.get(&url).bearer_auth(flag_token).send().await.unwrap().status(), 200, "the flag wins");

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "lisen = \"0.0.0.0:8470\"\n").unwrap();
    let out = server.cli().arg("--config").arg(&bad).arg("verify-audit").output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains("unknown setting `lisen`") && said.contains("listen"), "{said}");
}
