//! The app's sync in a process of its own, for the fault tests to kill (issue 23, part 1).
//!
//! `cjg-fault-app STORE` opens the encrypted store a test enrolled with the test PIN and device
//! secret, prints `unlocked`, then syncs (the outbox first, then every page), printing
//! `page N` after each page it stored and `done` at the end.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let path = std::env::args_os().nth(1).expect("cjg-fault-app STORE");
    let pin = cjg_core::validate::Pin::parse(cjg_tests::PIN).unwrap();
    let secrets =
        cjg_store::PinSecrets::new(cjg_store::PinMode::Keychain, &cjg_tests::DEVICE_SECRET, None).unwrap();
    let mut store =
        cjg_store::LockedStore::open(std::path::Path::new(&path)).unwrap().unlock(&pin, &secrets).unwrap();
    let say = |line: String| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    };
    say("unlocked".into());
    let options = cjg_client::SyncOptions { page_limit: Some(100), ..Default::default() };
    cjg_client::sync(&mut store, &options, |p| say(format!("page {}", p.pages))).await.unwrap();
    say("done".into());
}
