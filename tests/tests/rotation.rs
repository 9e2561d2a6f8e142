//! Audit key rotation (issue 23, part 5): `cjg-server rotate-audit-key` replaces the key that
//! signs the access log's checkpoints. The old key signs a statement handing over to the new
//! one; apps follow such statements from the key they pinned at enrolment (also through two
//! rotations they slept through) and accept no other new key: a key swapped in without a
//! statement makes the app refuse the log and warn, as a rewritten log does. A server whose key
//! is not the one the last rotation handed over to does not start.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cjg_tests::{family_entry, params, EntryKind, TestServer};

fn rotate(server: &TestServer) {
    let out = server.cli().arg("rotate-audit-key").env("RUST_LOG", "error").output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "rotate-audit-key: {said}{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.starts_with("ok: "), "{said}");
}

async fn coach_writes(server: &TestServer, title: &str) {
    let coach = server.staff().await.unwrap();
    let dossier = coach.dossier_id(&server.db()).await;
    coach
        .create_entry(dossier, &family_entry(EntryKind::Afspraak, title, "Kort.", "2026-12-07"))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apps_follow_a_rotated_audit_key_and_refuse_one_swapped_without_a_statement() {
    let data = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_in(data.path(), "127.0.0.1:0", &[]).unwrap();
    let listen = server.url.trim_start_matches("http://").to_owned();
    let (_sanne_dir, sanne) = cjg_tests::enrolled_app(&server, "Sanne").await;
    // Noor's app sleeps through both rotations.
    let (_noor_dir, noor) = cjg_tests::enrolled_app(&server, "Noor").await;
    let lines = sanne.inzage().await.unwrap().total;

    server.stop();
    rotate(&server);
    server = TestServer::start_in(data.path(), &listen, &[]).unwrap();
    coach_writes(&server, "Na de eerste nieuwe sleutel").await;
    sanne.sync_checking_log(|_| {}).await.expect("the app follows the statement");
    let inzage = sanne.inzage().await.unwrap();
    assert!(inzage.warning.is_none(), "{:?}", inzage.warning);
    assert!(inzage.total > lines, "lines signed with the new key were verified");

    server.stop();
    rotate(&server);
    server = TestServer::start_in(data.path(), &listen, &[]).unwrap();
    coach_writes(&server, "Na de tweede nieuwe sleutel").await;
    for app in [&sanne, &noor] {
        app.sync_checking_log(|_| {}).await.expect("two statements in a row are followed");
        assert!(app.inzage().await.unwrap().warning.is_none());
    }
    // A family member enrolled now pins the newest key.
    let (_karim_dir, karim) = cjg_tests::enrolled_app(&server, "Karim").await;
    assert!(karim.inzage().await.unwrap().warning.is_none());

    // The apps pinned the newest key: with the statements gone they still verify.
    server.stop();
    server.db().execute("DELETE FROM audit_key_rotations", params![]).unwrap();
    server = TestServer::start_in(data.path(), &listen, &[]).unwrap();
    coach_writes(&server, "Zonder de verklaringen").await;
    for app in [&sanne, &noor] {
        app.sync_checking_log(|_| {}).await.expect("the followed key was kept");
        assert!(app.inzage().await.unwrap().warning.is_none());
    }
    server.stop();
    rotate(&server);
    server = TestServer::start_in(data.path(), &listen, &[]).unwrap();

    // A key put in place without a statement: the server will not start on it.
    server.stop();
    let key_file = data.path().join("audit-signing.key");
    std::fs::write(&key_file, cjg_crypto::DeviceKey::generate().unwrap().pkcs8()).unwrap();
    assert!(TestServer::start_in(data.path(), &listen, &[]).is_err(), "started on a key no rotation names");
    // Someone who can also delete the statements gets it started, but no app takes the key.
    server.db().execute("DELETE FROM audit_key_rotations", params![]).unwrap();
    server = TestServer::start_in(data.path(), &listen, &[]).unwrap();
    coach_writes(&server, "Onder een verwisselde sleutel").await;
    let refused = sanne.sync_checking_log(|_| {}).await.expect_err("a swapped key is refused");
    assert_eq!(refused.code(), "audit_log_broken");
    let warning = sanne.inzage().await.unwrap().warning.expect("the person is warned");
    eprintln!("swapped key: {warning:?}");
}

/// A server still running on the old key after a rotation (not restarted yet) does not sign the
/// access log any more: the app's sync is told to come back later (`not_ready`), and no family is
/// warned of a log that is fine. After the restart the sync goes through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_not_restarted_after_a_rotation_does_not_sign_with_the_old_key() {
    let data = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_in(data.path(), "127.0.0.1:0", &[]).unwrap();
    let listen = server.url.trim_start_matches("http://").to_owned();
    let (_dir, sanne) = cjg_tests::enrolled_app(&server, "Sanne").await;
    rotate(&server);
    coach_writes(&server, "Voor de herstart").await;
    let e = sanne.sync_checking_log(|_| {}).await.expect_err("the old key no longer signs");
    assert!(
        matches!(e, cjg_client::ClientError::Api { code: cjg_core::ErrorCode::NotReady, status: 503 }),
        "{e:?}"
    );
    assert!(sanne.inzage().await.unwrap().warning.is_none(), "no warning for a log that is fine");
    server.stop();
    server = TestServer::start_in(data.path(), &listen, &[]).unwrap();
    sanne.sync_checking_log(|_| {}).await.expect("after the restart");
    assert!(sanne.inzage().await.unwrap().warning.is_none());
    drop(server);
}
