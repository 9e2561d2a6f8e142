//! The first sync of a 5,000-entry dossier over loopback, against the physical limit: sending
//! the same number of bytes over a plain loopback TCP connection in the same run. The real
//! server (release build, temporary SQLite database), the real client library and its
//! encrypted store. Prints a table; never a pass/fail on time.
//!
//! `cargo bench -p cjg-tests --bench initial_sync`   (ENTRIES=n to change 5,000; ROUNDS=n, 3)

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use cjg_tests::{family_entry, median, EntryKind, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const PIN: &str = "902417";
const PARAGRAPH: &str = "We spraken over de ochtenden. Het aankleden duurt lang en er is vaak ruzie \
    over het ontbijt. Moeder probeert rustig te blijven, maar merkt dat zij zelf moe is. We \
    spraken af dat de kinderen de avond ervoor hun kleren klaarleggen. ";

/// Forwards one port to another and counts the bytes that come back: how much a sync moves.
async fn counting_proxy(upstream: String, down: Arc<AtomicU64>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let upstream = upstream.clone();
            let down = down.clone();
            tokio::spawn(async move {
                let Ok(mut server) = TcpStream::connect(&upstream).await else { return };
                if let Ok((_, back)) = tokio::io::copy_bidirectional(&mut client, &mut server).await {
                    down.fetch_add(back, Ordering::Relaxed);
                }
            });
        }
    });
    format!("http://{addr}")
}

/// The limit: `bytes` from one loopback socket to another, in 64 KiB writes.
async fn raw_loopback(bytes: u64) -> f64 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let sender = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.expect("accept");
        let chunk = vec![b'x'; 64 * 1024];
        let mut left = bytes;
        while left > 0 {
            let n = left.min(chunk.len() as u64) as usize;
            s.write_all(&chunk[..n]).await.expect("write");
            left -= n as u64;
        }
    });
    let t = Instant::now();
    let mut r = TcpStream::connect(addr).await.expect("connect");
    let mut buf = vec![0u8; 64 * 1024];
    let mut got = 0u64;
    while got < bytes {
        let n = r.read(&mut buf).await.expect("read");
        assert!(n > 0, "sender stopped early");
        got += n as u64;
    }
    let s = t.elapsed().as_secs_f64();
    sender.await.expect("sender");
    s
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("ENTRIES").ok().and_then(|v| v.parse().ok()).unwrap_or(5_000);
    let rounds: usize = std::env::var("ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(3);
    let server = TestServer::start().expect("server");
    let staff = server.staff().await.expect("staff");
    let dossier = staff.dossier_id(&server.db()).await;
    let t = Instant::now();
    for i in 0..n {
        let title = format!("Gesprek nummer {i} over de ochtenden");
        let draft = family_entry(EntryKind::Gespreksverslag, &title, &PARAGRAPH.repeat(5), "2026-03-01");
        staff.create_entry(dossier, &draft).await.expect("entry");
    }
    let seeding = t.elapsed().as_secs_f64();
    let sanne = cjg_tests::person_id(&server.db(), "Sanne Voorbeeld");
    let upstream = server.url.trim_start_matches("http://").to_owned();

    // One sync through the counting proxy, for the bytes; then timed syncs without it.
    let down = Arc::new(AtomicU64::new(0));
    let proxied = counting_proxy(upstream, down.clone()).await;
    let mut items = 0;
    let mut times = Vec::new();
    for round in 0..=rounds {
        let dir = tempfile::tempdir().expect("tmp");
        let app = cjg_tests::app(dir.path());
        let code = staff.activation_code(&sanne).await.expect("code");
        let url = if round == 0 { proxied.as_str() } else { server.url.as_str() };
        app.enrol(url, &code, PIN, PIN, "").await.expect("enrol");
        let t = Instant::now();
        let progress = app.sync(|_| {}).await.expect("sync");
        if round > 0 {
            times.push(t.elapsed().as_secs_f64());
        }
        items = progress.items;
        assert!(app.dossier().await.expect("dossier").entries.len() >= n, "every entry arrived");
    }
    let sync_s = median(times);
    // Enrolment and the token exchange are small; the sync pages are nearly all of it.
    let bytes = down.load(Ordering::Relaxed);
    let mut raws = Vec::new();
    for _ in 0..5 {
        raws.push(raw_loopback(bytes).await);
    }
    let raw_s = median(raws);

    let mb = bytes as f64 / 1e6;
    println!("initial sync, {n} entries written by a coach (seeded in {seeding:.1} s), {items} items pulled");
    println!("| measure                                   | time       | MB/s    |");
    println!("|-------------------------------------------|-----------:|--------:|");
    println!(
        "| first sync: pull, check, seal, store      | {:>7.1} ms | {:>7.1} |",
        sync_s * 1e3,
        mb / sync_s
    );
    println!(
        "| raw loopback TCP, same {mb:>5.1} MB            | {:>7.1} ms | {:>7.1} |",
        raw_s * 1e3,
        mb / raw_s
    );
    println!();
    println!(
        "ratio sync / raw loopback throughput: {:.3} (target >= 0.30); median of {rounds} syncs, 5 raw runs",
        raw_s / sync_s
    );
}
