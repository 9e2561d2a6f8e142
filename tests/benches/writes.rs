//! Coach writes on different dossiers, one server instance against two on the same PostgreSQL
//! database (issue 19: every write used to lock one counter row, so two instances wrote no
//! faster than one). The real servers (release build) and real HTTP; WORKERS coaches' requests
//! at once, each on dossiers of its own, for SECONDS per phase. Prints writes per second and
//! the ratio measured in one run; never a pass or fail on time.
//!
//! `scripts/with-postgres cargo bench -p cjg-tests --bench writes`   (WORKERS=n, default 16;
//! SECONDS=n, default 10). On SQLite (no `with-postgres`) it measures the one instance only.

use std::time::{Duration, Instant};

use cjg_tests::{family_entry, params, EntryKind, TestServer};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Writes entries for `seconds` from `workers` tasks, worker `i` on `dossiers[i]` through
/// `urls[i % urls.len()]`. Returns the writes that got a 201.
async fn phase(urls: &[String], token: &str, dossiers: &[uuid::Uuid], workers: usize, seconds: u64) -> usize {
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for (i, dossier) in dossiers.iter().copied().enumerate().take(workers) {
        let url = urls[i % urls.len()].clone();
        let token = token.to_owned();
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut n = 0;
            while Instant::now() < until {
                let draft =
                    family_entry(EntryKind::Afspraak, &format!("Afspraak {n}"), "Kort.", "2026-01-05");
                let r = http
                    .post(format!("{url}/v1/staff/dossiers/{dossier}/entries"))
                    .bearer_auth(&token)
                    .header("X-Cjg-Purpose", "hulpverlening")
                    .json(&draft)
                    .send()
                    .await
                    .expect("write");
                assert_eq!(r.status().as_u16(), 201, "{}", r.text().await.unwrap_or_default());
                n += 1;
            }
            n
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.expect("worker");
    }
    total
}

#[tokio::main]
async fn main() {
    let workers = env("WORKERS", 16);
    let seconds = env("SECONDS", 10) as u64;
    let a = TestServer::start().expect("server");
    let out = a
        .cli()
        .args(["seed-load", "--families", &workers.to_string(), "--entries", "0"])
        .output()
        .expect("seed-load");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let dossiers: Vec<uuid::Uuid> = a
        .db()
        .query_map(
            "SELECT id FROM dossiers WHERE family_name LIKE 'Last %' ORDER BY family_name",
            params![],
            |r| r.get::<String>(0),
        )
        .expect("dossiers")
        .iter()
        .map(|s| uuid::Uuid::parse_str(s).expect("uuid"))
        .collect();
    let token = a.staff().await.expect("staff").token;
    let one = phase(std::slice::from_ref(&a.url), &token, &dossiers, workers, seconds).await;
    let second =
        a.database.is_some().then(|| TestServer::start_in(&a.data_dir, "127.0.0.1:0", &[]).expect("second"));
    println!("## Coach writes on {workers} dossiers at once, {seconds} s per phase");
    println!();
    println!("| instances | writes | writes per second |");
    println!("|----------:|-------:|------------------:|");
    let rate = |n: usize| n as f64 / seconds as f64;
    println!("| 1         | {one:>6} | {:>17.1} |", rate(one));
    if let Some(b) = second {
        let two = phase(&[a.url.clone(), b.url.clone()], &token, &dossiers, workers, seconds).await;
        println!("| 2         | {two:>6} | {:>17.1} |", rate(two));
        println!();
        println!("ratio two instances / one: {:.2} (target >= 1.6)", rate(two) / rate(one));
    }
}
