//! A copy of the account folder cannot be opened by guessing the PIN. Where the device secret
//! is a file (no keychain, as in these tests), the PIN goes through the server's per-device
//! key: a copy opens only with the server's help, every try is counted there, and ten tries
//! without a token lock the device on all its copies.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use cjg_client::app::AppCore;
use cjg_tests::{params, TestServer, PIN};
use uuid::Uuid;

const WRONG: &str = "902418";

/// One column of Sanne's device row on the server.
fn sanne_device<T: cjg_tests::sql::FromValue + Send + 'static>(server: &TestServer, column: &str) -> T {
    server
        .db()
        .query_row(
            &format!(
                "SELECT d.{column} FROM devices d JOIN people p ON p.id = d.person_id
                 WHERE p.display_name = 'Sanne Voorbeeld'"
            ),
            params![],
            |r| r.get(0),
        )
        .unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The enrolled app's account, locked, and a copy of its whole data folder as a thief has it.
async fn locked_with_copy(app: &AppCore, dir: &Path) -> (Uuid, tempfile::TempDir) {
    let account = app.status().await.unwrap().account.unwrap();
    app.lock().await;
    let copy = tempfile::tempdir().unwrap();
    copy_dir(dir, copy.path());
    (account, copy)
}

#[tokio::test]
async fn a_copied_folder_opens_only_with_the_server_and_its_key_for_this_device() {
    let data = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_in(data.path(), "127.0.0.1:0", &[]).unwrap();
    let (dir, app) = cjg_tests::enrolled_app(&server, "Sanne").await;
    let (_karim_dir, _karim) = cjg_tests::enrolled_app(&server, "Karim").await;
    let status = app.status().await.unwrap();
    assert_eq!(status.accounts[0].secret_home, cjg_client::secret::SecretHome::File);
    let (account, copy) = locked_with_copy(&app, dir.path()).await;

    let thief = cjg_tests::app(copy.path());
    thief.unlock(account, PIN).await.expect("with the server's help the right PIN opens the copy");
    thief.lock().await;

    // No server, no try: nothing to guess against offline.
    let listen = server.url.trim_start_matches("http://").to_owned();
    server.stop();
    assert_eq!(thief.unlock(account, PIN).await.unwrap_err().code(), "pin_needs_server");
    assert_eq!(app.unlock(account, PIN).await.unwrap_err().code(), "pin_needs_server");

    // The server's key for this device is part of the key: with another one the right PIN
    // does not open the store.
    server = TestServer::start_in(data.path(), &listen, &[]).unwrap();
    let sanne = cjg_tests::person_id(&server.db(), "Sanne Voorbeeld");
    let changed = server
        .db()
        .execute(
            "UPDATE devices SET pin_key = (SELECT pin_key FROM devices d JOIN people p ON p.id = d.person_id
                                           WHERE p.display_name = 'Karim Voorbeeld')
             WHERE person_id = ?1",
            params![sanne],
        )
        .unwrap();
    assert_eq!(changed, 1);
    assert_eq!(thief.unlock(account, PIN).await.unwrap_err().code(), "wrong_pin");
}

#[tokio::test]
async fn ten_tries_without_a_token_lock_the_device_on_every_copy() {
    let server = TestServer::start().unwrap();
    let (dir, app) = cjg_tests::enrolled_app(&server, "Sanne").await;
    let (account, first) = locked_with_copy(&app, dir.path()).await;
    let second = tempfile::tempdir().unwrap();
    copy_dir(first.path(), second.path());
    let third = tempfile::tempdir().unwrap();
    copy_dir(first.path(), third.path());

    // Each copy stops short of its own five-try wipe; together they use the server's ten.
    for copy in [&first, &second] {
        let thief = cjg_tests::app(copy.path());
        for _ in 0..4 {
            assert!(thief.unlock(account, WRONG).await.unwrap_err().code().starts_with("wrong_pin"));
        }
    }
    let thief = cjg_tests::app(third.path());
    for _ in 0..2 {
        assert!(thief.unlock(account, WRONG).await.unwrap_err().code().starts_with("wrong_pin"));
    }
    assert_eq!(thief.unlock(account, WRONG).await.unwrap_err().code(), "device_locked");
    let revoked: Option<String> = sanne_device(&server, "pin_locked_at");
    assert!(revoked.is_some(), "the server locked the device");

    // The owner's own device, with the right PIN, is locked too: it wipes and says why.
    assert_eq!(app.unlock(account, PIN).await.unwrap_err().code(), "device_locked");
    let status = app.status().await.unwrap();
    assert!(status.accounts.is_empty(), "the account is gone from the device");
    assert_eq!(status.notice, Some(cjg_client::app::Notice::DeviceLocked));
}

#[tokio::test]
async fn the_apps_own_tries_are_forgiven_a_copys_are_not_and_a_wrong_old_pin_at_a_change_counts() {
    let server = TestServer::start().unwrap();
    let (dir, app) = cjg_tests::enrolled_app(&server, "Sanne").await;
    let account = app.status().await.unwrap().account.unwrap();
    for _ in 0..3 {
        app.lock().await;
        for _ in 0..4 {
            assert!(app.unlock(account, WRONG).await.unwrap_err().code().starts_with("wrong_pin"));
        }
        app.unlock(account, PIN).await.expect("the right PIN, and a token: the count starts over");
    }
    let tries = || -> i64 { sanne_device(&server, "pin_tries") };
    assert_eq!(tries(), 0);

    // Tries made on a copy are not the app's own: the owner's next unlock leaves them counted.
    let (_, copy) = locked_with_copy(&app, dir.path()).await;
    let thief = cjg_tests::app(copy.path());
    for _ in 0..3 {
        assert!(thief.unlock(account, WRONG).await.unwrap_err().code().starts_with("wrong_pin"));
    }
    app.unlock(account, PIN).await.unwrap();
    assert_eq!(tries(), 3, "the copy's three tries stay");

    // Two wrong old PINs at a change and three at the lock screen make five: wiped.
    for _ in 0..2 {
        assert_eq!(app.change_pin(WRONG, "318705", "318705").await.unwrap_err().code(), "wrong_pin");
    }
    app.lock().await;
    for _ in 0..2 {
        assert!(app.unlock(account, WRONG).await.unwrap_err().code().starts_with("wrong_pin"));
    }
    assert_eq!(app.unlock(account, WRONG).await.unwrap_err().code(), "wiped_wrong_pin");
    assert!(!dir.path().join("accounts").join(account.to_string()).exists());
}

#[tokio::test]
async fn a_wrong_pin_count_edited_in_the_file_is_noticed() {
    let server = TestServer::start().unwrap();
    let (dir, app) = cjg_tests::enrolled_app(&server, "Sanne").await;
    let (account, _copy) = locked_with_copy(&app, dir.path()).await;
    assert_eq!(app.unlock(account, WRONG).await.unwrap_err().code(), "wrong_pin");
    let store = dir.path().join("accounts").join(account.to_string()).join("store.db");
    rusqlite::Connection::open(&store)
        .unwrap()
        .execute("UPDATE meta SET value = CAST('0' AS BLOB) WHERE key = 'failed_unlocks'", [])
        .unwrap();
    assert_eq!(app.unlock(account, PIN).await.unwrap_err().code(), "store_tampered");
}

#[cfg(unix)]
#[tokio::test]
async fn the_account_folder_and_its_files_are_for_the_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let server = TestServer::start().unwrap();
    let (dir, app) = cjg_tests::enrolled_app(&server, "Sanne").await;
    let account = app.status().await.unwrap().account.unwrap();
    let folder = dir.path().join("accounts").join(account.to_string());
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&folder), 0o700);
    assert_eq!(mode(&folder.join("store.db")), 0o600);
    assert_eq!(mode(&folder.join("device.secret")), 0o600);
}

/// A store made before the PIN modes (PIN and file secret only, open to offline guessing) is
/// moved to the server-assisted form at its first unlock, while the server answers.
#[tokio::test]
async fn an_older_store_is_moved_to_the_server_check_at_its_first_unlock() {
    let data = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_in(data.path(), "127.0.0.1:0", &[]).unwrap();
    let listen = server.url.trim_start_matches("http://").to_owned();
    let app_dir = tempfile::tempdir().unwrap();
    let secret = [5u8; 32];
    std::fs::write(app_dir.path().join("device.secret"), secret).unwrap();
    let pin = cjg_core::validate::Pin::parse(PIN).unwrap();
    let store = cjg_client::enrol(
        &server.url,
        &server.code_for("Sanne"),
        &pin,
        &secret,
        cjg_store::PinMode::Legacy,
        &app_dir.path().join("store.db"),
        "oud apparaat",
    )
    .await
    .unwrap();
    drop(store);

    let app = cjg_tests::app(app_dir.path());
    let account = app.status().await.unwrap().accounts[0].id;
    app.unlock(account, PIN).await.unwrap();
    app.sync(|_| {}).await.unwrap();
    app.lock().await;
    server.stop();
    assert_eq!(app.unlock(account, PIN).await.unwrap_err().code(), "pin_needs_server", "moved");
    let _server = TestServer::start_in(data.path(), &listen, &[]).unwrap();
    app.unlock(account, PIN).await.unwrap();
    assert_eq!(app.dossier().await.unwrap().entries.len(), 11);
}
