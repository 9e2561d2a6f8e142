//! Server defences for a real deployment (issue 18), each through the real server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cjg_core::entry::EntryKind;
use cjg_tests::{family_entry, params, TestServer, PIN};
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

async fn login_from(server: &TestServer, forwarded_for: Option<&str>, username: &str, password: &str) -> u16 {
    let mut req = reqwest::Client::new()
        .post(format!("{}/v1/staff/login", server.url))
        .json(&json!({"username": username, "password": password}));
    if let Some(f) = forwarded_for {
        req = req.header("x-forwarded-for", f);
    }
    req.send().await.unwrap().status().as_u16()
}

/// Behind a reverse proxy every family arrives from the proxy's address: the limit must follow
/// the address the proxy names (and only a configured proxy is believed), per IPv6 /64.
#[tokio::test]
async fn limits_follow_the_client_behind_a_trusted_proxy() {
    let server =
        TestServer::start_with(&["--attempts-per-minute", "3", "--trusted-proxy", "127.0.0.1"]).unwrap();
    for _ in 0..3 {
        assert_eq!(login_from(&server, Some("203.0.113.5"), "nobody-a", "x").await, 401);
    }
    assert_eq!(login_from(&server, Some("203.0.113.5"), "nobody-a", "x").await, 429);
    // Another family behind the same proxy is not locked out by the first.
    assert_eq!(login_from(&server, Some("203.0.113.6"), "nobody-b", "x").await, 401);
    // A client's own claim left of the proxy's is not believed.
    assert_eq!(login_from(&server, Some("198.51.100.1, 203.0.113.5"), "nobody-c", "x").await, 429);
    // IPv6: one budget per /64.
    for _ in 0..3 {
        assert_eq!(login_from(&server, Some("2001:db8:1:2::1"), "nobody-d", "x").await, 401);
    }
    assert_eq!(login_from(&server, Some("2001:db8:1:2:abcd::99"), "nobody-d", "x").await, 429);
    assert_eq!(login_from(&server, Some("2001:db8:1:3::1"), "nobody-e", "x").await, 401);

    // Without a configured proxy the header is the client's own words: changing it does not
    // buy more attempts.
    let plain = TestServer::start_with(&["--attempts-per-minute", "3"]).unwrap();
    for i in 0..3 {
        assert_eq!(login_from(&plain, Some(&format!("203.0.113.{i}")), "nobody", "x").await, 401);
    }
    assert_eq!(login_from(&plain, Some("203.0.113.200"), "nobody", "x").await, 429);
}

/// Guessing one staff member's password from many addresses, or on several instances, meets
/// one limit: the count per username is in the shared database.
#[tokio::test]
async fn a_username_has_one_limit_across_addresses_and_instances() {
    let data = tempfile::tempdir().unwrap();
    let args = ["--attempts-per-minute", "1000", "--trusted-proxy", "127.0.0.1"];
    let a = TestServer::start_in(data.path(), "127.0.0.1:0", &args).unwrap();
    let b = TestServer::start_in(data.path(), "127.0.0.1:0", &args).unwrap();
    let password = a.coach_password.clone();
    for i in 0..10 {
        let instance = if i % 2 == 0 { &a } else { &b };
        assert_eq!(login_from(instance, Some(&format!("198.51.100.{i}")), "coach", "geraden").await, 401);
    }
    // The right password is refused too until the window ends: the guesser cannot tell.
    assert_eq!(login_from(&a, Some("198.51.100.77"), "coach", &password).await, 429);
    assert_eq!(
        login_from(&b, Some("198.51.100.78"), "Coach ", &password).await,
        429,
        "one name, however written"
    );
    // Another staff member signs in as usual.
    assert_eq!(login_from(&b, Some("198.51.100.79"), "coach2", &password).await, 200);
}

/// An unknown username costs the same work as a known one: the answer time does not tell
/// which usernames exist.
#[tokio::test]
async fn unknown_usernames_take_as_long_as_known_ones() {
    let server = TestServer::start_with(&["--attempts-per-minute", "1000"]).unwrap();
    let time = |username: &'static str| {
        let server_url = server.url.clone();
        async move {
            let http = reqwest::Client::new();
            let mut samples = Vec::new();
            for _ in 0..7 {
                let started = std::time::Instant::now();
                let resp = http
                    .post(format!("{server_url}/v1/staff/login"))
                    .json(&json!({"username": username, "password": "fout-wachtwoord"}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 401);
                samples.push(started.elapsed().as_secs_f64());
            }
            cjg_tests::median(samples)
        }
    };
    let known = time("kwaliteit").await;
    let unknown = time("bestaat-niet").await;
    // A password hash takes tens of milliseconds; a lookup alone well under one. Without the
    // stand-in hash the unknown name would answer many times faster.
    assert!(unknown > known / 3.0, "known {known:.4}s, unknown {unknown:.4}s");
}

fn peak_memory_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// A burst of sign-ins waits for a hashing slot instead of taking the server's memory (each
/// Argon2 hash takes 19 MiB).
#[tokio::test]
async fn a_burst_of_sign_ins_does_not_take_the_memory() {
    let server =
        TestServer::start_with(&["--attempts-per-minute", "100000", "--hash-concurrency", "2"]).unwrap();
    let before = peak_memory_kib(server.pid());
    let mut burst = Vec::new();
    for i in 0..48 {
        let url = server.url.clone();
        burst.push(tokio::spawn(async move {
            reqwest::Client::new()
                .post(format!("{url}/v1/staff/login"))
                .json(&json!({"username": format!("onbekend-{i}"), "password": "x"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    for b in burst {
        assert_eq!(b.await.unwrap(), 401);
    }
    let grown_mib = (peak_memory_kib(server.pid()) - before) / 1024;
    // Two slots: about 40 MiB of hashing at most; 48 at once would be over 900 MiB.
    assert!(grown_mib < 200, "the peak grew by {grown_mib} MiB");
}

fn refusals(db: &cjg_tests::TestDb, route: &str) -> (i64, i64) {
    db.query_row(
        "SELECT COUNT(*), CAST(COALESCE(SUM(count), 0) AS BIGINT) FROM denied_counts WHERE route = ?1",
        [route],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

/// Refused requests are counted per minute within a budget, not written one row each; strangers'
/// made-up device ids never reach the writer; old counts go after the retention period.
#[tokio::test]
async fn refusals_cannot_fill_the_disk() {
    let data = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_in(data.path(), "127.0.0.1:0", &[]).unwrap();
    let http = reqwest::Client::new();
    for _ in 0..300 {
        let resp =
            http.get(format!("{}/v1/sync?cursor=0", server.url)).bearer_auth("made-up").send().await.unwrap();
        assert_eq!(resp.status(), 401);
    }
    let (rows, counted) = refusals(&server.db(), "/v1/sync");
    assert!(rows <= 2, "one row per minute, not one per request: {rows}");
    assert!((100..=240).contains(&counted), "counted within the budget per address: {counted}");

    for _ in 0..50 {
        let resp = http
            .post(format!("{}/v1/auth/challenge", server.url))
            .json(&json!({"device_id": uuid::Uuid::new_v4()}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 404);
    }
    let written: i64 =
        server.db().query_row("SELECT COUNT(*) FROM used_challenges", params![], |r| r.get(0)).unwrap();
    assert_eq!(written, 0);

    // A stranger who knows a device id and asks for many challenges writes nothing, and the
    // device still signs in.
    let (_dir, app) = cjg_tests::enrolled_app(&server, "Sanne").await;
    let device: String = server
        .db()
        .query_row("SELECT id FROM devices WHERE name != 'Demo-telefoon' LIMIT 1", params![], |r| r.get(0))
        .unwrap();
    let used_before: i64 =
        server.db().query_row("SELECT COUNT(*) FROM used_challenges", params![], |r| r.get(0)).unwrap();
    for _ in 0..50 {
        let resp = http
            .post(format!("{}/v1/auth/challenge", server.url))
            .json(&json!({"device_id": device}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
    let used_after: i64 =
        server.db().query_row("SELECT COUNT(*) FROM used_challenges", params![], |r| r.get(0)).unwrap();
    assert_eq!(used_after, used_before, "asking writes nothing");
    app.sync(|_| {}).await.unwrap();

    // The same with a device whose key this test holds: its challenge, asked before the flood,
    // still signs it in after; the same signed challenge a second time gets nothing.
    let key = cjg_crypto::DeviceKey::generate().unwrap();
    let enrolled: Value = http
        .post(format!("{}/v1/enrol", server.url))
        .json(&json!({"activation_code": server.code_for("Karim"),
            "device_public_key": cjg_crypto::b64(&key.public_key()), "device_name": "Test"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let device = enrolled["device_id"].as_str().unwrap().to_owned();
    let ask = || {
        let http = http.clone();
        let url = format!("{}/v1/auth/challenge", server.url);
        let device = device.clone();
        async move {
            let v: Value = http
                .post(url)
                .json(&json!({"device_id": device}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v["challenge"].as_str().unwrap().to_owned()
        }
    };
    let challenge = ask().await;
    for _ in 0..50 {
        ask().await;
    }
    let device_id: uuid::Uuid = device.parse().unwrap();
    let signature = cjg_crypto::b64(&key.sign(&cjg_core::api::token_signing_message(device_id, &challenge)));
    let sign_in = || {
        http.post(format!("{}/v1/auth/token", server.url))
            .json(&json!({"device_id": device, "challenge": challenge, "signature": signature}))
            .send()
    };
    assert_eq!(sign_in().await.unwrap().status(), 200, "the device's own challenge survived the flood");
    assert_eq!(code_of(sign_in().await.unwrap()).await, (401, "challenge_invalid".into()), "used once");
    // A made-up or altered challenge is refused before any key is looked at.
    let resp = http
        .post(format!("{}/v1/auth/token", server.url))
        .json(&json!({"device_id": device, "challenge": format!("{challenge}A"), "signature": "AAAA"}))
        .send()
        .await
        .unwrap();
    assert_eq!(code_of(resp).await, (401, "challenge_invalid".into()));

    // Counts older than the retention period are deleted (the hourly job also runs at start).
    let db = server.db();
    server.stop();
    db.execute(
        "INSERT INTO denied_counts (minute, method, route, status, subject_kind, subject_id, count)
         VALUES ('2020-01-01T00:00', 'GET', '/v1/sync', 401, '', '', 7)",
        params![],
    )
    .unwrap();
    let server =
        TestServer::start_in(data.path(), "127.0.0.1:0", &["--denied-retention-days", "30"]).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let old: i64 = server
            .db()
            .query_row("SELECT COUNT(*) FROM denied_counts WHERE minute < '2021'", params![], |r| r.get(0))
            .unwrap();
        if old == 0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "old counts were not deleted");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(refusals(&server.db(), "/v1/sync").1 >= 100, "recent counts stay");
}

/// The server speaks HTTPS itself with `--tls-cert` and `--tls-key`; the app connects to it
/// once it trusts the certificate authority, refuses a certificate it does not know, and refuses
/// plain HTTP to anything but its own machine with a code the UI explains in Dutch.
#[tokio::test]
async fn the_app_talks_tls_and_refuses_plain_http_to_other_machines() {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "Mijn CJG test-CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, &ca_key);
    let server_key = rcgen::KeyPair::generate().unwrap();
    let server_params = rcgen::CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let server_cert = server_params.signed_by(&server_key, &issuer).unwrap();
    let files = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = (files.path().join("server.pem"), files.path().join("server.key"));
    std::fs::write(&cert_path, server_cert.pem()).unwrap();
    std::fs::write(&key_path, server_key.serialize_pem()).unwrap();
    let server = TestServer::start_with(&[
        "--tls-cert",
        cert_path.to_str().unwrap(),
        "--tls-key",
        key_path.to_str().unwrap(),
    ])
    .unwrap();
    assert!(server.url.starts_with("https://127.0.0.1:"), "{}", server.url);

    // A certificate from an authority the app does not know is refused, and nothing is kept.
    let first = tempfile::tempdir().unwrap();
    let app = cjg_tests::app(first.path());
    let e = app.enrol(&server.url, &server.code_for("Sanne"), PIN, PIN, "").await.unwrap_err();
    assert_eq!(e.code(), "server_unreachable");

    cjg_client::trust_extra_ca(ca_cert.pem().as_bytes()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let app = cjg_tests::app(dir.path());
    app.enrol(&server.url, &server.code_for("Sanne"), PIN, PIN, "").await.unwrap();
    app.sync(|_| {}).await.unwrap();
    assert!(!app.dossier().await.unwrap().entries.is_empty(), "the dossier came over TLS");

    // The same server as plain http on another machine's address is refused before any
    // connection; only loopback may be plain.
    let other = tempfile::tempdir().unwrap();
    let app = cjg_tests::app(other.path());
    let e = app.enrol("http://192.0.2.7:8470", &server.code_for("Karim"), PIN, PIN, "").await.unwrap_err();
    assert_eq!(e.code(), "insecure_server_url");
    let e = app.enrol("http://cjg.example", &server.code_for("Karim"), PIN, PIN, "").await.unwrap_err();
    assert_eq!(e.code(), "insecure_server_url");
}

/// A staff token ends at sign-out (on the server, not only in the app), when the app locks, and
/// after a while without use.
#[tokio::test]
async fn staff_tokens_end_at_sign_out_lock_and_inactivity() {
    let server = TestServer::start().unwrap();
    let staff = server.staff().await.unwrap();
    let caseload = |token: String| {
        let url = server.url.clone();
        async move {
            reqwest::Client::new()
                .get(format!("{url}/v1/staff/dossiers"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(caseload(staff.token.clone()).await, 200);
    let out = staff.req(reqwest::Method::POST, "/v1/staff/logout").send().await.unwrap();
    assert_eq!(out.status(), 200);
    let out: serde_json::Value = out.json().await.unwrap();
    assert_eq!(
        out["end_session_url"],
        serde_json::Value::Null,
        "a built-in account has no session elsewhere"
    );
    assert_eq!(caseload(staff.token.clone()).await, 401, "the copy of a signed-out token is worthless");

    // Unused for longer than the idle time (30 minutes by default): ended.
    let idle = server.staff().await.unwrap();
    assert_eq!(caseload(idle.token.clone()).await, 200);
    server
        .db()
        .execute(
            "UPDATE tokens SET last_used_at = '2020-01-01T00:00:00Z' WHERE subject_kind = 'staff'",
            params![],
        )
        .unwrap();
    assert_eq!(caseload(idle.token.clone()).await, 401);

    // The app signs the coach in; locking it ends the token on the server.
    let dir = tempfile::tempdir().unwrap();
    let app = cjg_tests::app(dir.path());
    app.staff_login(&server.url, "coach", &server.coach_password, None).await.unwrap();
    assert!(!app.staff_caseload().await.unwrap().is_empty());
    let live = || -> i64 {
        server
            .db()
            .query_row(
                "SELECT COUNT(*) FROM tokens WHERE subject_kind = 'staff' AND last_used_at > '2021'",
                params![],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!(live(), 1, "only the app's token is live");
    app.lock().await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while live() > 0 {
        assert!(std::time::Instant::now() < deadline, "the lock did not end the token on the server");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A dossier of long entries arrives in pages the device accepts: the server fills a page by
/// bytes as well as by items, well under the app's 8 MiB, even when the app asks for the most
/// items a page may hold.
#[tokio::test]
async fn long_entries_come_in_pages_that_fit() {
    let server = TestServer::start().unwrap();
    let staff = server.staff().await.unwrap();
    let dossier = staff.dossier_id(&server.db()).await;
    // 20,000 characters of four bytes each: 80 kB per entry, 16 MB for a page of 200.
    let body = "🙂".repeat(cjg_core::entry::BODY_MAX_CHARS);
    for i in 0..200 {
        let draft =
            family_entry(EntryKind::Gespreksverslag, &format!("Lang verslag {i}"), &body, "2026-02-01");
        staff.create_entry(dossier, &draft).await.unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let mut store = cjg_client::enrol(
        &server.url,
        &server.code_for("Sanne"),
        &cjg_core::validate::Pin::parse(PIN).unwrap(),
        &[7; 32],
        cjg_store::PinMode::Keychain,
        &dir.path().join("s.db"),
        "test",
    )
    .await
    .unwrap();
    let options = cjg_client::SyncOptions { page_limit: Some(200), ..Default::default() };
    let mut pages = 0;
    cjg_client::sync(&mut store, &options, |_| pages += 1).await.unwrap();
    let long = store.entries().unwrap().into_iter().filter(|e| e.title.starts_with("Lang verslag")).count();
    assert_eq!(long, 200, "every long entry arrived");
    assert!(pages > 10, "in many pages of about 1 MiB ({pages} progress reports)");
}

/// Being on a caseload is not enough: the role decides what a staff member may do in it. A
/// behavioural scientist writes entries but deletes none and issues no codes; a quality officer
/// reads nothing of a family.
#[tokio::test]
async fn the_role_decides_what_staff_do_in_a_caseload() {
    let server = TestServer::start().unwrap();
    let db = server.db();
    let coach = server.staff().await.unwrap();
    let dossier = coach.dossier_id(&db).await;
    for username in ["gedrag", "kwaliteit"] {
        db.execute(
            "INSERT INTO staff_dossiers (staff_id, dossier_id) SELECT id, ?2 FROM staff WHERE username = ?1",
            [username, dossier.to_string().as_str()],
        )
        .unwrap();
    }
    let editor = server.staff_as("gedrag").await.unwrap();
    let quality = server.staff_as("kwaliteit").await.unwrap();
    let entries = format!("/v1/staff/dossiers/{dossier}/entries");
    let draft =
        family_entry(EntryKind::Gespreksverslag, "Advies gedragswetenschapper", "Tekst", "2026-02-01");

    let written = editor
        .req_for(reqwest::Method::POST, &entries, "verslag_schrijven")
        .json(&draft)
        .send()
        .await
        .unwrap();
    assert_eq!(written.status(), 201, "a behavioural scientist writes entries");
    let entry: Value = written.json().await.unwrap();
    let resp = editor
        .req(reqwest::Method::DELETE, &format!("/v1/staff/entries/{}", entry["id"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(code_of(resp).await, (403, "forbidden".into()), "but deletes none");
    let sanne = cjg_tests::person_id(&db, "Sanne Voorbeeld");
    let resp = editor
        .req(reqwest::Method::POST, &format!("/v1/staff/people/{sanne}/activation-codes"))
        .send()
        .await
        .unwrap();
    assert_eq!(code_of(resp).await, (403, "forbidden".into()), "and issues no codes");

    let resp = quality.req(reqwest::Method::GET, &entries).send().await.unwrap();
    assert_eq!(code_of(resp).await, (403, "forbidden".into()), "a quality officer reads no family's file");
    // The coach still does all of it.
    assert_eq!(coach.entries(dossier).await.unwrap().len(), 16);
    assert_eq!(
        coach.delete_entry(entry["id"].as_str().unwrap().parse().unwrap()).await.unwrap().status(),
        204
    );
}

/// Reports cannot be subtracted: a half-year hides every group one of its quarters hides; a
/// closed period's report is stored at its first pull and served as stored; every pull is logged.
#[tokio::test]
async fn reports_cannot_be_subtracted_and_every_pull_is_logged() {
    let server = TestServer::start().unwrap();
    let quality = server.staff_as("kwaliteit").await.unwrap();
    let pull = |period: String| {
        let req = quality.req(reqwest::Method::GET, &format!("/v1/staff/reports/indicators?period={period}"));
        async move {
            let resp = req.send().await.unwrap();
            assert_eq!(resp.status(), 200, "{period}");
            resp.json::<Value>().await.unwrap()
        }
    };
    let hidden = |f: &Value| f["suppressed"] == true && f["answered"].as_u64().unwrap_or(0) > 0;
    let key = |r: &Value| (r["municipality"].to_string(), r["team"].to_string());
    let mut pulls = 0;
    for year in [2025, 2026] {
        for half in [1, 2] {
            let h = pull(format!("{year}-H{half}")).await;
            let q: Vec<Value> = futures_pull(&pull, year, half).await;
            pulls += 3;
            for row in h["rows"].as_array().unwrap() {
                for column in ["current", "previous"] {
                    if row[column]["suppressed"] == true {
                        continue;
                    }
                    let in_quarter = |qr: &Value| {
                        qr["rows"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .find(|r| key(r) == key(row))
                            .is_some_and(|r| hidden(&r[column]))
                    };
                    assert_eq!(
                        in_quarter(&q[0]),
                        in_quarter(&q[1]),
                        "{year}-H{half} {column} {:?} shows figures while one quarter hides them",
                        key(row)
                    );
                }
            }
        }
    }
    let db = server.db();
    let logged: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM report_pulls WHERE actor LIKE 'staff:%' AND role = 'Kwaliteitsmedewerker'",
            params![],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(logged, pulls);

    // 2026-H1 closed months ago: its report was frozen at the first pull and is served as stored.
    let stored: String = db
        .query_row("SELECT report FROM frozen_reports WHERE period = '2026-H1'", params![], |r| r.get(0))
        .unwrap();
    let mut marked: Value = serde_json::from_str(&stored).unwrap();
    let last = marked["rows"].as_array().unwrap().len() - 1;
    marked["rows"][last]["current"]["sent"] = json!(4242);
    db.execute("UPDATE frozen_reports SET report = ?1 WHERE period = '2026-H1'", [marked.to_string()])
        .unwrap();
    let again = pull("2026-H1".into()).await;
    assert_eq!(again["rows"][last]["current"]["sent"], 4242, "the stored report, not a new count");
    let open: i64 = db
        .query_row("SELECT COUNT(*) FROM frozen_reports WHERE period = '2026-H2'", params![], |r| r.get(0))
        .unwrap();
    assert_eq!(open, 0, "a period that has not closed is not frozen");
}

async fn futures_pull<F, Fut>(pull: &F, year: i32, half: i32) -> Vec<Value>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Value>,
{
    let mut out = Vec::new();
    for q in [half * 2 - 1, half * 2] {
        out.push(pull(format!("{year}-Q{q}")).await);
    }
    out
}

/// Guesses sent all at once meet the same limit as guesses sent one by one: each attempt is
/// counted before its password is checked.
#[tokio::test]
async fn a_burst_of_guesses_meets_the_same_limit() {
    let server =
        TestServer::start_with(&["--attempts-per-minute", "1000", "--trusted-proxy", "127.0.0.1"]).unwrap();
    let mut burst = Vec::new();
    for i in 0..30 {
        let url = server.url.clone();
        burst.push(tokio::spawn(async move {
            reqwest::Client::new()
                .post(format!("{url}/v1/staff/login"))
                .header("x-forwarded-for", format!("198.51.100.{i}"))
                .json(&json!({"username": "coach", "password": format!("geraden-{i}")}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut checked = 0;
    for b in burst {
        let status = b.await.unwrap();
        assert!(status == 401 || status == 429, "{status}");
        checked += usize::from(status == 401);
    }
    assert!(checked <= 10, "{checked} passwords were checked; the limit is 10");
}

/// Changing or deleting an entry keeps the version it replaces: who wrote it and when, who
/// changed it, when, under which purpose and why. Staff of the caseload read the history (a
/// logged read); nobody can change or remove a kept version, not even with SQL.
#[tokio::test]
async fn an_entry_keeps_its_history() {
    let server = TestServer::start().unwrap();
    let db = server.db();
    let coach = server.staff().await.unwrap();
    let dossier = coach.dossier_id(&db).await;
    let first = family_entry(EntryKind::Afspraak, "Bedtijd", "Om 20:00 naar bed.", "2026-02-01");
    let entry = coach.create_entry(dossier, &first).await.unwrap();
    let path = format!("/v1/staff/entries/{}", entry.id);

    // A reason that could spoof is refused, and nothing changes.
    let second = family_entry(EntryKind::Afspraak, "Bedtijd", "Om 20:30 naar bed.", "2026-02-01");
    let resp = coach
        .req(reqwest::Method::PUT, &path)
        .json(&json!({"expected_version": 1, "draft": second, "reason": "na\u{202E}gesprek"}))
        .send()
        .await
        .unwrap();
    assert_eq!(code_of(resp).await, (400, "validation".into()));
    let resp = coach
        .req_for(reqwest::Method::PUT, &path, "verslag_schrijven")
        .json(&json!({"expected_version": 1, "draft": second, "reason": "Tijd aangepast na het gesprek"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp =
        coach.req(reqwest::Method::DELETE, &path).json(&json!({"reason": "Dubbel ingevoerd"})).send().await;
    assert_eq!(resp.unwrap().status(), 204);

    let history: Vec<Value> = coach.get(&format!("{path}/history")).await.unwrap();
    assert_eq!(history.len(), 2, "{history:?}");
    let (deleted, updated) = (&history[0], &history[1]);
    assert_eq!(
        (deleted["version"].as_i64(), deleted["change"].as_str(), deleted["body"].as_str()),
        (Some(2), Some("deleted"), Some("Om 20:30 naar bed."))
    );
    assert_eq!(deleted["reason"], "Dubbel ingevoerd");
    assert_eq!(deleted["purpose"], "hulpverlening");
    assert_eq!(
        (updated["version"].as_i64(), updated["change"].as_str(), updated["body"].as_str()),
        (Some(1), Some("updated"), Some("Om 20:00 naar bed."))
    );
    assert_eq!(updated["reason"], "Tijd aangepast na het gesprek");
    assert_eq!(updated["purpose"], "verslag_schrijven");
    for v in &history {
        assert_eq!(v["written_by"], "Fleur Demo");
        assert_eq!(v["changed_by"], "Fleur Demo");
        assert!(v["written_at"].is_string() && v["changed_at"].is_string());
    }

    // Another coach's caseload does not hold this family: no history for them.
    let other = server.staff_as("coach2").await.unwrap();
    let resp = other.req(reqwest::Method::GET, &format!("{path}/history")).send().await.unwrap();
    assert!(matches!(resp.status().as_u16(), 403 | 404), "{}", resp.status());

    // The kept versions are fixed in the database itself.
    let id = entry.id.to_string();
    assert!(db
        .execute("UPDATE entry_versions SET body = 'anders' WHERE entry_id = ?1", [id.as_str()])
        .is_err());
    assert!(db.execute("DELETE FROM entry_versions WHERE entry_id = ?1", [id.as_str()]).is_err());
    let kept: i64 = db
        .query_row("SELECT COUNT(*) FROM entry_versions WHERE entry_id = ?1", [id.clone()], |r| r.get(0))
        .unwrap();
    assert_eq!(kept, 2);
}

async fn post_json(server: &TestServer, path: &str, body: Value) -> reqwest::Response {
    reqwest::Client::new().post(format!("{}{path}", server.url)).json(&body).send().await.unwrap()
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// A built-in staff account needs a second factor: set up with a QR code at its first sign-in,
/// then a fresh code from the app at every sign-in (each code once), or a recovery code (each
/// once). An administrator resets a lost one, which also ends the account's tokens. The demo's
/// invented accounts have none.
#[tokio::test]
async fn staff_sign_in_needs_a_second_factor() {
    use cjg_core::second_factor::{code_at, secret_from_text};
    // Many sign-ins from one address in a minute: this test is about the second factor.
    let server = TestServer::start_with(&["--attempts-per-minute", "1000"]).unwrap();
    assert!(server.add_staff("jan.test", "kort").is_none(), "a short password is refused");
    let setup_code = server.add_staff("jan.test", "een-lang-wachtwoord-2026").unwrap();
    let password = "een-lang-wachtwoord-2026";
    let login = |code: Option<String>| {
        post_json(
            &server,
            "/v1/staff/login",
            json!({"username": "jan.test", "password": password, "one_time_code": code}),
        )
    };

    assert_eq!(code_of(login(None).await).await, (401, "second_factor_setup_needed".into()));
    let setup_with = |password: &str, setup_code: &str| {
        post_json(
            &server,
            "/v1/staff/second-factor/setup",
            json!({"username": "jan.test", "password": password, "setup_code": setup_code}),
        )
    };
    let resp = setup_with("geraden-wachtwoord", &setup_code).await;
    assert_eq!(code_of(resp).await, (401, "unauthenticated".into()), "setting up needs the password");
    let resp = setup_with(password, "ABCDE-FGHJK").await;
    assert_eq!(code_of(resp).await, (401, "unauthenticated".into()), "and the administrator's setup code");
    // A setup asked twice: the first secret no longer counts, so a code of it confirms nothing.
    let first: Value = setup_with(password, &setup_code).await.json().await.unwrap();
    let first_secret = secret_from_text(first["secret"].as_str().unwrap()).unwrap();
    let setup: Value = setup_with(password, &setup_code.to_lowercase()).await.json().await.unwrap();
    let uri = setup["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/Mijn%20CJG:jan.test?"), "{uri}");
    let secret = secret_from_text(setup["secret"].as_str().unwrap()).unwrap();
    assert_eq!(
        code_of(login(None).await).await.1,
        "second_factor_setup_needed",
        "not before it is confirmed"
    );

    let confirm = |code: String| {
        post_json(
            &server,
            "/v1/staff/second-factor/confirm",
            json!({"username": "jan.test", "password": password, "setup_code": setup_code, "code": code}),
        )
    };
    let now = unix_now();
    let resp = confirm(code_at(&first_secret, now).unwrap()).await;
    assert_eq!(code_of(resp).await.1, "unauthenticated", "a replaced secret confirms nothing");
    let right = code_at(&secret, now).unwrap();
    let not_right = format!("{:06}", (right.parse::<u32>().unwrap() + 1) % 1_000_000);
    assert_eq!(code_of(confirm(not_right).await).await, (401, "unauthenticated".into()));
    let confirmed: Value = confirm(right.clone()).await.json().await.unwrap();
    let token = confirmed["token"].as_str().unwrap().to_owned();
    let recovery: Vec<String> =
        confirmed["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().into()).collect();
    assert_eq!(recovery.len(), 10);
    let http = reqwest::Client::new();
    let caseload = |token: String| {
        let http = http.clone();
        let url = format!("{}/v1/staff/dossiers", server.url);
        async move { http.get(url).bearer_auth(token).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(caseload(token.clone()).await, 200);

    // Every sign-in needs a code now, and a code counts once.
    assert_eq!(code_of(login(None).await).await, (401, "second_factor_needed".into()));
    assert_eq!(code_of(login(Some(right)).await).await, (401, "unauthenticated".into()), "no replay");
    let next = code_at(&secret, now + 30).unwrap();
    assert_eq!(login(Some(next.clone())).await.status(), 200, "the next code (one step of drift)");
    assert_eq!(code_of(login(Some(next)).await).await.1, "unauthenticated", "not twice");
    let wrong_password = post_json(
        &server,
        "/v1/staff/login",
        json!({"username": "jan.test", "password": "geraden", "one_time_code": code_at(&secret, now + 60)}),
    )
    .await;
    assert_eq!(code_of(wrong_password).await.1, "unauthenticated", "a code does not replace the password");

    // A recovery code works once, typed with or without its dash.
    assert_eq!(login(Some(recovery[0].to_lowercase())).await.status(), 200);
    assert_eq!(code_of(login(Some(recovery[0].replace('-', ""))).await).await.1, "unauthenticated");
    let setup_again = setup_with(password, &setup_code).await;
    assert_eq!(code_of(setup_again).await.0, 409, "a second factor in use is not replaced");

    // The server keeps no recovery code readable.
    let db = server.db();
    let stored: Vec<Vec<u8>> = db
        .query_map(
            "SELECT code_hash FROM staff_recovery_codes r JOIN staff s ON s.id = r.staff_id WHERE s.username = ?1",
            ["jan.test"],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored.len(), 10);
    assert!(stored
        .iter()
        .all(|h| h.len() == 32 && !recovery.iter().any(|c| h.windows(5).any(|w| w == &c.as_bytes()[..5]))));

    // Many wrong codes in a row (over days: each window allows only a few) close the second
    // factor until an administrator resets it; then even the right code is refused.
    db.execute("UPDATE staff SET code_failures = 19 WHERE username = 'jan.test'", params![]).unwrap();
    db.execute("DELETE FROM attempt_counts", params![]).unwrap();
    assert_eq!(code_of(login(Some("000000".into())).await).await, (403, "second_factor_locked".into()));
    let right_now = code_at(&secret, unix_now() + 60).unwrap();
    assert_eq!(code_of(login(Some(right_now)).await).await.1, "second_factor_locked");

    // Lost phone or locked: the administrator resets with a new setup code; the account's
    // tokens end and it sets up again.
    let new_setup_code = server.reset_second_factor("jan.test").unwrap();
    assert_ne!(new_setup_code, setup_code);
    assert_eq!(caseload(token).await, 401);
    assert_eq!(code_of(login(None).await).await.1, "second_factor_setup_needed");
    assert_eq!(code_of(setup_with(password, &setup_code).await).await.0, 401, "the old setup code is gone");
    assert_eq!(setup_with(password, &new_setup_code).await.status(), 200);

    // The demo's accounts sign in without one (they are invented, their password printed).
    assert!(server.staff().await.is_ok());
}

/// Long staff lists come in pages of bounded size: each answer says where the next starts, the
/// pages together hold every item once and in order, and the staff app reads them all.
#[tokio::test]
async fn staff_lists_come_in_pages() {
    let server = TestServer::start().unwrap();
    let coach = server.staff().await.unwrap();
    let dossier = coach.dossier_id(&server.db()).await;
    for i in 0..190 {
        let draft = family_entry(EntryKind::Gespreksverslag, &format!("Verslag {i}"), "Tekst.", "2026-01-05");
        coach.create_entry(dossier, &draft).await.unwrap();
    }
    let whole = 15 + 190;
    let path = format!("/v1/staff/dossiers/{dossier}/entries");

    // The default page is 200 items: a second page follows.
    let first = coach.req(reqwest::Method::GET, &path).send().await.unwrap();
    assert_eq!(first.headers()["x-cjg-next-offset"], "200");
    assert_eq!(first.json::<Vec<Value>>().await.unwrap().len(), 200);

    // Pages of 50, followed to the end: every entry once, in the order of one long list.
    let mut ids = Vec::new();
    let mut offset = 0;
    loop {
        let resp = coach
            .req(reqwest::Method::GET, &format!("{path}?offset={offset}&limit=50"))
            .send()
            .await
            .unwrap();
        let next =
            resp.headers().get("x-cjg-next-offset").map(|v| v.to_str().unwrap().parse::<u32>().unwrap());
        let page: Vec<Value> = resp.json().await.unwrap();
        assert!(page.len() <= 50);
        ids.extend(page.into_iter().map(|e| e["id"].as_str().unwrap().to_owned()));
        match next {
            Some(n) => offset = n,
            None => break,
        }
    }
    assert_eq!(ids.len(), whole);
    let unique: std::collections::BTreeSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), whole, "no entry twice");
    let all: Vec<Value> = coach.get(&format!("{path}?limit=1000")).await.unwrap();
    let in_one: Vec<String> = all.iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids, in_one, "the same order as one page");

    // Limits outside the range are brought inside it; a malformed offset is refused.
    let resp = coach.req(reqwest::Method::GET, &format!("{path}?limit=0")).send().await.unwrap();
    assert_eq!(resp.headers()["x-cjg-next-offset"], "1");
    let resp = coach.req(reqwest::Method::GET, &format!("{path}?offset=-1")).send().await.unwrap();
    assert_eq!(code_of(resp).await.0, 400);

    // The staff app reads every page of the entries and of the access log.
    let dir = tempfile::tempdir().unwrap();
    let app = cjg_tests::app(dir.path());
    app.staff_login(&server.url, "coach", &server.coach_password, None).await.unwrap();
    let view = app.staff_open(dossier, cjg_core::audit::Purpose::Kwaliteit, "").await.unwrap();
    assert_eq!(view.entries.len(), whole);
    let logged: i64 = server
        .db()
        .query_row("SELECT COUNT(*) FROM audit_events WHERE dossier_id = ?1", [dossier.to_string()], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(view.audit.len() > 200, "{}", view.audit.len());
    assert!(view.audit.len() as i64 <= logged);
}
