//! Several accounts on one device, and the OS keychain: each account its own store, secret and
//! PIN; what happens to one never touches the other.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cjg_client::app::{Notice, Phase};
use cjg_client::secret::{SecretHome, Vault};
use cjg_tests::{params, TestServer};

const SANNE_PIN: &str = cjg_tests::PIN;
const NOOR_PIN: &str = "318705";

#[tokio::test]
async fn two_accounts_on_one_device_stay_apart() {
    let server = TestServer::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let app = cjg_tests::app(dir.path());

    app.enrol(&server.url, &server.code_for("Sanne"), SANNE_PIN, SANNE_PIN, "Mama").await.unwrap();
    app.sync(|_| {}).await.unwrap();
    let sanne = app.status().await.unwrap().account.unwrap();
    let sanne_titles: Vec<String> =
        app.dossier().await.unwrap().entries.into_iter().map(|e| e.title).collect();
    assert_eq!(sanne_titles.len(), 11);

    // Adding Noor's account locks Sanne's first.
    app.enrol(&server.url, &server.code_for("Noor"), NOOR_PIN, NOOR_PIN, "Noor").await.unwrap();
    app.sync(|_| {}).await.unwrap();
    let status = app.status().await.unwrap();
    let noor = status.account.unwrap();
    assert_ne!(noor, sanne);
    assert_eq!(status.display_name.as_deref(), Some("Noor Voorbeeld"));
    let noor_view = app.dossier().await.unwrap();
    assert_eq!(noor_view.entries.len(), 9);
    assert!(
        noor_view.entries.iter().any(|e| !sanne_titles.contains(&e.title)),
        "Noor's account holds her youth-only entry, which her mother's does not"
    );

    app.lock().await;
    let status = app.status().await.unwrap();
    assert_eq!(status.phase, Phase::Locked);
    let labels: Vec<&str> = status.accounts.iter().map(|a| a.label.as_str()).collect();
    assert_eq!(labels, ["Mama", "Noor"]);
    assert!(status.accounts.iter().all(|a| a.secret_home == SecretHome::File && !a.key_unlock));

    // Separate PINs: Sanne's PIN does not open Noor's store, and counts only against Noor's.
    assert_eq!(app.unlock(noor, SANNE_PIN).await.unwrap_err().code(), "wrong_pin");
    app.unlock(sanne, SANNE_PIN).await.unwrap();
    assert_eq!(app.dossier().await.unwrap().entries.len(), 11);

    // Separate files: a store and a secret per account, nothing readable in either.
    let secrets: Vec<Vec<u8>> = [sanne, noor]
        .iter()
        .map(|id| {
            std::fs::read(dir.path().join("accounts").join(id.to_string()).join("device.secret")).unwrap()
        })
        .collect();
    assert_ne!(secrets[0], secrets[1]);
    app.lock().await;
    for id in [sanne, noor] {
        let store = std::fs::read(dir.path().join("accounts").join(id.to_string()).join("store.db")).unwrap();
        assert!(!cjg_tests::contains(&store, "Voorbeeld"));
    }

    // Five wrong PINs wipe Noor's account only.
    for _ in 0..4 {
        let _ = app.unlock(noor, "770314").await.unwrap_err();
    }
    let status = app.status().await.unwrap();
    assert_eq!((status.phase, status.notice), (Phase::Locked, Some(Notice::WipedWrongPin)));
    assert_eq!(status.accounts.iter().map(|a| a.id).collect::<Vec<_>>(), [sanne]);
    app.unlock(sanne, SANNE_PIN).await.unwrap();
    assert_eq!(app.dossier().await.unwrap().entries.len(), 11, "Sanne's data is untouched");
    assert_eq!(app.status().await.unwrap().notice, None, "told once, then gone");

    // Noor comes back with a new code; then the coach signs off Sanne's device: only Sanne's
    // account is wiped at its next contact.
    let staff = server.staff().await.unwrap();
    let code = staff.activation_code(&cjg_tests::person_id(&server.db(), "Noor Voorbeeld")).await.unwrap();
    app.enrol(&server.url, &code, NOOR_PIN, NOOR_PIN, "Noor").await.unwrap();
    app.sync(|_| {}).await.unwrap();
    let noor = app.status().await.unwrap().account.unwrap();
    let sanne_device: String = server
        .db()
        .query_row(
            "SELECT d.id FROM devices d JOIN people p ON p.id = d.person_id \
             WHERE p.display_name = 'Sanne Voorbeeld'",
            params![],
            |r| r.get(0),
        )
        .unwrap();
    let resp = staff
        .http
        .delete(format!("{}/v1/staff/devices/{sanne_device}", server.url))
        .bearer_auth(&staff.token)
        .header("X-Cjg-Purpose", "verzoek_client")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    // Her PIN is checked with the server's help (no keychain here): the server's answer says
    // the device is signed off, and the account is wiped before it opens.
    assert_eq!(app.unlock(sanne, SANNE_PIN).await.unwrap_err().code(), "wiped_revoked");
    let status = app.status().await.unwrap();
    assert_eq!(status.accounts.iter().map(|a| a.id).collect::<Vec<_>>(), [noor]);
    app.unlock(noor, NOOR_PIN).await.unwrap();
    app.sync(|_| {}).await.unwrap();
    assert_eq!(app.dossier().await.unwrap().entries.len(), 9);

    // Removing an account from the device needs no PIN (a forgotten PIN, a lost keychain key).
    app.lock().await;
    app.forget_account(noor).await.unwrap();
    assert_eq!(app.status().await.unwrap().phase, Phase::New);
    assert_eq!(app.forget_account(noor).await.unwrap_err().code(), "no_such_account");
}

/// Runs against a real Secret Service: `scripts/test` starts GNOME Keyring on a private D-Bus
/// session. Without a session bus (a plain `cargo test`) there is no keychain to test.
#[tokio::test]
async fn the_os_keychain_holds_the_secret_and_can_unlock_without_the_pin() {
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        assert!(std::env::var_os("CI").is_none(), "CI must run this test with a keychain (scripts/test)");
        eprintln!("skipped: no D-Bus session, so no OS keychain; scripts/test provides one");
        return;
    }
    let mut server = TestServer::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::new("nl.cjg.mijn.test", true);
    let app = cjg_client::app::AppCore::new(dir.path().to_owned(), None).with_vault(vault.clone());
    app.enrol(&server.url, &server.code_for("Karim"), SANNE_PIN, SANNE_PIN, "Papa").await.unwrap();
    app.sync(|_| {}).await.unwrap();
    let status = app.status().await.unwrap();
    let karim = status.account.unwrap();
    assert_eq!(status.accounts[0].secret_home, SecretHome::Keychain);
    let account_dir = dir.path().join("accounts").join(karim.to_string());
    assert!(!account_dir.join("device.secret").exists(), "no secret file beside the store");

    app.set_key_unlock(true).await.unwrap();
    app.lock().await;
    assert!(app.status().await.unwrap().accounts[0].key_unlock);
    app.unlock_with_keychain(karim).await.unwrap();
    assert_eq!(app.dossier().await.unwrap().entries.len(), 11);

    app.set_key_unlock(false).await.unwrap();
    app.lock().await;
    assert_eq!(app.unlock_with_keychain(karim).await.unwrap_err().code(), "unlock_key_missing");
    app.unlock(karim, SANNE_PIN).await.unwrap();
    assert_eq!(app.dossier().await.unwrap().entries.len(), 11, "the PIN stays the way in");

    // With the secret in the keychain the PIN needs no server: it opens offline.
    app.lock().await;
    server.stop();
    app.unlock(karim, SANNE_PIN).await.unwrap();
    assert_eq!(app.dossier().await.unwrap().entries.len(), 11, "offline, from the keychain");

    app.forget_account(karim).await.unwrap();
    assert_eq!(vault.unlock_key(karim).unwrap_err().code(), "keychain_unavailable");
}
