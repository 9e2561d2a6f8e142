//! PIN unlock in each mode, next to the PBKDF2 step alone, measured in one run: the price of
//! the server's help where the device secret is a file (one round trip for the OPRF, one for
//! the token that starts the server's count over) against the offline unlock a keychain allows.
//! The real server and the real app core. Prints a table; never a pass/fail on time.
//!
//! `scripts/with-keyring cargo bench -p cjg-tests --bench unlock`   (ROUNDS=n, default 7;
//! without a D-Bus session the keychain row measures the store alone)

use std::time::Instant;

use cjg_client::app::AppCore;
use cjg_client::secret::Vault;
use cjg_store::{LockedStore, PinMode, PinSecrets, Profile, Store};
use cjg_tests::{median, TestServer, PIN};

fn rounds() -> usize {
    std::env::var("ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(7)
}

fn iterations_of(store: &std::path::Path) -> u32 {
    rusqlite::Connection::open(store)
        .expect("raw")
        .query_row("SELECT CAST(value AS TEXT) FROM meta WHERE key = 'pbkdf2_iterations'", [], |r| {
            r.get::<_, String>(0)
        })
        .expect("iterations")
        .parse()
        .expect("number")
}

/// Each store calibrates its own count when it is made, so each row is set against the
/// PBKDF2 step at that store's count, measured here.
fn pbkdf2_at(iterations: u32) -> f64 {
    let pin = cjg_core::validate::Pin::parse(PIN).expect("pin");
    median(
        (0..rounds())
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(cjg_crypto::Kek::derive(pin.as_bytes(), &[1; 16], iterations, &[7; 32]));
                t.elapsed().as_secs_f64()
            })
            .collect(),
    )
}

fn app_store(dir: &std::path::Path) -> std::path::PathBuf {
    let accounts = dir.join("accounts");
    let account = std::fs::read_dir(&accounts).expect("accounts").flatten().next().expect("one account");
    account.path().join("store.db")
}

async fn app_unlock(app: &AppCore) -> f64 {
    let account = app.status().await.expect("status").account.expect("open account");
    let mut times = Vec::new();
    for _ in 0..rounds() {
        app.lock().await;
        let t = Instant::now();
        app.unlock(account, PIN).await.expect("unlock");
        times.push(t.elapsed().as_secs_f64());
    }
    median(times)
}

#[tokio::main]
async fn main() {
    let server = TestServer::start().expect("server");
    let pin = cjg_core::validate::Pin::parse(PIN).expect("pin");

    // The offline store unlock (keychain mode) and the PBKDF2 step alone, at the store's own
    // calibrated iteration count.
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("store.db");
    let secret = [7u8; 32];
    let secrets = PinSecrets::new(PinMode::Keychain, &secret, None).expect("secrets");
    let profile = Profile {
        server_url: server.url.clone(),
        device_id: uuid::Uuid::new_v4(),
        person_id: uuid::Uuid::new_v4(),
        display_name: "Bench".into(),
    };
    let key = cjg_crypto::DeviceKey::generate().expect("key");
    drop(Store::create(&path, &pin, &secrets, PinMode::Keychain, &profile, &key).expect("store"));
    let iterations = iterations_of(&path);
    let mut store_only = Vec::new();
    for _ in 0..rounds() {
        let t = Instant::now();
        drop(LockedStore::open(&path).expect("open").unlock(&pin, &secrets).expect("unlock"));
        store_only.push(t.elapsed().as_secs_f64());
    }

    // Server-assisted: an app whose secret is a file, the real server over loopback.
    let file_dir = tempfile::tempdir().expect("tmp");
    let file_app = cjg_tests::app(file_dir.path());
    file_app.enrol(&server.url, &server.code_for("Sanne"), PIN, PIN, "").await.expect("enrol");
    let server_mode = (app_unlock(&file_app).await, iterations_of(&app_store(file_dir.path())));

    // Keychain: the app with GNOME Keyring on a private D-Bus session, when there is one.
    let keychain = if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some() {
        let kc_dir = tempfile::tempdir().expect("tmp");
        let app =
            AppCore::new(kc_dir.path().to_owned(), None).with_vault(Vault::new("nl.cjg.mijn.bench", true));
        app.enrol(&server.url, &server.code_for("Karim"), PIN, PIN, "").await.expect("enrol");
        let t = (app_unlock(&app).await, iterations_of(&app_store(kc_dir.path())));
        let id = app.status().await.expect("status").account.expect("account");
        app.forget_account(id).await.expect("forget");
        Some(t)
    } else {
        None
    };

    println!("PIN unlock, median of {} rounds; each row against PBKDF2 at its store's count", rounds());
    println!(
        "| mode                                         | iterations |   time   | PBKDF2 alone | ratio |"
    );
    println!(
        "|----------------------------------------------|-----------:|---------:|-------------:|------:|"
    );
    let row = |name: &str, t: f64, n: u32| {
        let alone = pbkdf2_at(n);
        println!("| {name:<44} | {n:>10} | {t:>6.3} s | {alone:>10.3} s | {:>5.2} |", t / alone);
    };
    row("store unlock (keychain mode, secret in hand)", median(store_only), iterations);
    if let Some((t, n)) = keychain {
        row("app unlock, keychain (GNOME Keyring)", t, n);
    }
    row("app unlock, server-assisted (OPRF + token)", server_mode.0, server_mode.1);
}
