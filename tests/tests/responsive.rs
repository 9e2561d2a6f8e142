//! A slow sync does not stop the app: behind a proxy that holds every sync page for seconds,
//! opening an entry, reading Inzage and the dossier, and locking all answer at once. A lock in
//! the middle of a sync ends that sync cleanly, and the next one after unlocking completes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cjg_tests::{TestServer, PIN};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How long the proxy holds each sync page while `slow` is set.
const PAGE_DELAY: Duration = Duration::from_secs(4);
/// Far below the page delay: an answer this fast did not wait for the sync.
const AT_ONCE: Duration = Duration::from_millis(500);

/// A loopback proxy that, while `slow` is set, waits [`PAGE_DELAY`] before it passes on a
/// request for a sync page (`GET /v1/sync`).
async fn slow_proxy(upstream: String, slow: Arc<AtomicBool>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else { return };
            let (upstream, slow) = (upstream.clone(), slow.clone());
            tokio::spawn(async move {
                let Ok(mut server) = TcpStream::connect(&upstream).await else { return };
                let (mut cbuf, mut sbuf) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
                loop {
                    tokio::select! {
                        n = client.read(&mut cbuf) => {
                            let Ok(n) = n else { return };
                            if n == 0 { return }
                            if cbuf[..n].starts_with(b"GET /v1/sync") && slow.load(Ordering::SeqCst) {
                                tokio::time::sleep(PAGE_DELAY).await;
                            }
                            if server.write_all(&cbuf[..n]).await.is_err() { return }
                        }
                        n = server.read(&mut sbuf) => {
                            let Ok(n) = n else { return };
                            if n == 0 { return }
                            if client.write_all(&sbuf[..n]).await.is_err() { return }
                        }
                    }
                }
            });
        }
    });
    url
}

/// Runs `f` and says how long it took, failing when it waited for the sync.
async fn at_once<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    let start = Instant::now();
    let out = f.await;
    let took = start.elapsed();
    eprintln!("{what} answered in {took:?} while a sync waited for the server");
    assert!(took < AT_ONCE, "{what} waited {took:?} for the sync");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_answers_while_a_slow_sync_runs() {
    let server = TestServer::start().unwrap();
    let slow = Arc::new(AtomicBool::new(false));
    let via = slow_proxy(server.url.trim_start_matches("http://").to_owned(), slow.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let app = Arc::new(cjg_tests::app(dir.path()));
    app.enrol(&via, &server.code_for("Sanne"), PIN, PIN, "").await.unwrap();
    app.sync(|_| {}).await.unwrap();
    let entry = app.dossier().await.unwrap().entries[0].id;

    slow.store(true, Ordering::SeqCst);
    let syncing = tokio::spawn({
        let app = app.clone();
        async move { app.sync(|_| {}).await }
    });
    // The sync is on its way: past the token, waiting for its first page.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(!syncing.is_finished(), "the proxy holds the page");

    let opened = at_once("opening an entry", app.entry(entry)).await.unwrap();
    assert_eq!(opened.map(|e| e.entry.id), Some(entry));
    at_once("Inzage", app.inzage()).await.unwrap();
    at_once("the dossier", app.dossier()).await.unwrap();
    at_once("the tasks", app.tasks()).await.unwrap();
    at_once("locking", app.lock()).await;

    // The sync's page arrives after the lock: it is not written anywhere, and says why.
    let ended = syncing.await.unwrap();
    assert_eq!(ended.expect_err("locked meanwhile").code(), "locked");

    slow.store(false, Ordering::SeqCst);
    let account = app.status().await.unwrap().accounts[0].id;
    app.unlock(account, PIN).await.unwrap();
    let done = app.sync(|_| {}).await.unwrap();
    assert!(done.done);
    assert_eq!(app.entry(entry).await.unwrap().map(|e| e.entry.id), Some(entry));
}

/// A sync under way is activity: the idle lock waits until it ends, and locks after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_idle_lock_waits_for_a_running_sync() {
    let server = TestServer::start().unwrap();
    let slow = Arc::new(AtomicBool::new(false));
    let via = slow_proxy(server.url.trim_start_matches("http://").to_owned(), slow.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let app = Arc::new(cjg_tests::app(dir.path()).with_auto_lock(Duration::from_secs(60)));
    app.enrol(&via, &server.code_for("Sanne"), PIN, PIN, "").await.unwrap();
    app.sync(|_| {}).await.unwrap();

    slow.store(true, Ordering::SeqCst);
    let syncing = tokio::spawn({
        let app = app.clone();
        async move { app.sync(|_| {}).await }
    });
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(!syncing.is_finished(), "the proxy holds the page");
    let long_after = std::time::Instant::now() + Duration::from_secs(3600);
    assert!(!app.lock_if_idle(long_after).await, "no lock while the sync runs");
    assert!(app.dossier().await.is_ok(), "still open");

    slow.store(false, Ordering::SeqCst);
    syncing.await.unwrap().expect("the sync ends well");
    assert!(app.lock_if_idle(long_after).await, "idle and no sync: locked");
    assert_eq!(app.dossier().await.expect_err("locked").code(), "locked");
}
