//! Live and large (issue 19), against the real server (release build, temporary SQLite
//! database) and the real client library. Prints ratios measured in one run; never a pass or
//! fail on time.
//!
//! - A sync that finds nothing new, for a family whose dossier has ENTRIES entries and as many
//!   access-log lines, next to the same sync for the small demo family and a bare
//!   `GET /v1/health`.
//! - Push latency: from the coach's POST of a message to the app's finished sync, with the app
//!   listening on its push connection (MESSAGES times).
//!
//! `cargo bench -p cjg-tests --bench live`   (ENTRIES=n, default 5,000; ROUNDS=n, default 50;
//! MESSAGES=n, default 50)

use std::sync::Arc;
use std::time::{Duration, Instant};

use cjg_tests::{family_entry, EntryKind, TestServer};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i.min(v.len() - 1)]
}

async fn timed<F: std::future::Future>(f: F) -> f64 {
    let t = Instant::now();
    f.await;
    t.elapsed().as_secs_f64() * 1e3
}

#[tokio::main]
async fn main() {
    let n = env("ENTRIES", 5_000);
    let rounds = env("ROUNDS", 50);
    let messages = env("MESSAGES", 50);
    let server = TestServer::start().expect("server");
    let coach = server.staff().await.expect("staff");
    let dossier = coach.dossier_id(&server.db()).await;
    let t = Instant::now();
    // Each entry written through the staff API also writes an access-log line for the family.
    for i in 0..n {
        let draft = family_entry(
            EntryKind::Gespreksverslag,
            &format!("Gesprek {i}"),
            "Een kort verslag.",
            "2026-03-01",
        );
        coach.create_entry(dossier, &draft).await.expect("entry");
    }
    eprintln!("seeded {n} entries in {:.1} s", t.elapsed().as_secs_f64());

    let (_big_dir, big) = cjg_tests::enrolled_app(&server, "Sanne").await;
    let (_small_dir, small) = cjg_tests::enrolled_app(&server, "Eva").await;
    let http = reqwest::Client::new();
    let health = format!("{}/v1/health", server.url);
    let (mut t_big, mut t_small, mut t_health) = (Vec::new(), Vec::new(), Vec::new());
    // Interleaved, so a noisy moment of the machine falls on all three alike.
    for _ in 0..rounds {
        t_big.push(timed(async { big.sync(|_| {}).await.expect("sync") }).await);
        t_small.push(timed(async { small.sync(|_| {}).await.expect("sync") }).await);
        t_health.push(timed(async { http.get(&health).send().await.expect("health") }).await);
    }
    let (big_p50, small_p50, health_p50) =
        (percentile(t_big.clone(), 0.5), percentile(t_small.clone(), 0.5), percentile(t_health, 0.5));
    println!("## A sync that finds nothing new ({rounds} rounds, milliseconds, whole client round trip)");
    println!();
    println!("| family                               | p50      | p99      |");
    println!("|--------------------------------------|---------:|---------:|");
    println!("| big: {n:>6} entries and log lines     | {big_p50:>8.2} | {:>8.2} |", percentile(t_big, 0.99));
    println!(
        "| small demo family                    | {small_p50:>8.2} | {:>8.2} |",
        percentile(t_small, 0.99)
    );
    println!("| GET /v1/health                       | {health_p50:>8.2} |          |");
    println!();
    println!(
        "ratio big / small: {:.2} (target <= 2); big / health: {:.1}",
        big_p50 / small_p50,
        big_p50 / health_p50
    );
    println!();

    // Push: the app listens; the coach writes; the time until the app's sync has finished.
    let app = Arc::new(small);
    let (mut heard, _task) = cjg_tests::listening(&app);
    cjg_tests::next_heard(&mut heard, Duration::from_secs(10)).await.expect("connected");
    let eva = cjg_tests::person_id(&server.db(), "Eva Proef");
    let coach2 = server.staff_as("coach2").await.expect("coach2");
    let mut latencies = Vec::new();
    for i in 0..messages {
        let sent = Instant::now();
        let resp = coach2.send_message(&eva, &format!("Bericht {i}")).await.expect("message");
        assert!(resp.status().is_success());
        loop {
            let news = cjg_tests::next_heard(&mut heard, Duration::from_secs(10)).await.expect("a signal");
            if news.messages > 0 {
                break;
            }
        }
        latencies.push(sent.elapsed().as_secs_f64() * 1e3);
        // The app reads the message, so the next one counts as news again.
        app.mark_messages_read().await.expect("read");
    }
    println!("## Push: coach's POST to the app's finished sync ({messages} messages, one listening app)");
    println!();
    println!(
        "p50 {:.1} ms, p99 {:.1} ms (target p99 < 1,000 ms)",
        percentile(latencies.clone(), 0.5),
        percentile(latencies, 0.99)
    );
}
