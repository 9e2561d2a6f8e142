//! The big family (issue 19): a dossier of ENTRIES entries and LOG_LINES access-log lines,
//! seeded with the hidden `cjg-server seed-load`, pulled by the real app core (encrypted store)
//! from the real server (release build, temporary SQLite database). Prints times and ratios
//! measured in one run, next to the small demo family; never a pass or fail on time.
//!
//! `cargo bench -p cjg-tests --bench big_family`   (ENTRIES=n, default 20,000; LOG_LINES=n,
//! default 200,000; ROUNDS=n, default 20)

use std::time::Instant;

use cjg_tests::{median, TestServer, PIN};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

#[tokio::main]
async fn main() {
    let entries = env("ENTRIES", 20_000);
    let log_lines = env("LOG_LINES", 200_000);
    let rounds = env("ROUNDS", 20);
    let server = TestServer::start().expect("server");
    let t = Instant::now();
    let out = server
        .cli()
        .args(["seed-load", "--families", "1"])
        .args(["--entries", &entries.to_string(), "--log-lines", &log_lines.to_string()])
        .output()
        .expect("seed-load");
    assert!(out.status.success(), "seed-load failed: {}", String::from_utf8_lossy(&out.stderr));
    eprintln!("seeded {entries} entries and {log_lines} log lines in {:.1} s", t.elapsed().as_secs_f64());

    let parent: String = server
        .db()
        .query_row("SELECT id FROM people WHERE display_name LIKE 'Ouder Last %'", [] as [&str; 0], |r| {
            r.get(0)
        })
        .expect("the big family's parent");
    let coach = server.staff().await.expect("staff");
    let code = coach.activation_code(&parent).await.expect("code");

    let dir = tempfile::tempdir().expect("tmp");
    let big = cjg_tests::app(dir.path());
    big.enrol(&server.url, &code, PIN, PIN, "").await.expect("enrol");
    let t = Instant::now();
    let mut first_page = None;
    let progress = big
        .sync(|p| {
            first_page.get_or_insert(t.elapsed().as_secs_f64() * 1e3);
            let _ = p;
        })
        .await
        .expect("first sync");
    let first_sync = ms(t);
    let first_page = first_page.unwrap_or(first_sync);
    let shown = big.dossier().await.expect("dossier").entries.len();
    assert!(shown >= entries, "every entry arrived ({shown})");

    let (_small_dir, small) = cjg_tests::enrolled_app(&server, "Eva").await;
    let (mut t_big, mut t_small) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let t = Instant::now();
        big.sync(|_| {}).await.expect("sync");
        t_big.push(ms(t));
        let t = Instant::now();
        small.sync(|_| {}).await.expect("sync");
        t_small.push(ms(t));
    }

    let account = big.status().await.expect("status").account.expect("account");
    let mut unlocks = Vec::new();
    for _ in 0..5 {
        big.lock().await;
        let t = Instant::now();
        big.unlock(account, PIN).await.expect("unlock");
        big.dossier().await.expect("dossier");
        unlocks.push(ms(t));
    }

    let (mut dossier_views, mut inzage_views) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let t = Instant::now();
        big.dossier().await.expect("dossier");
        dossier_views.push(ms(t));
        let t = Instant::now();
        big.inzage().await.expect("inzage");
        inzage_views.push(ms(t));
    }

    let (nb, ns) = (median(t_big), median(t_small));
    println!("## The big family: {entries} entries, {log_lines} access-log lines (SQLite, release)");
    println!();
    println!("| measure                                         | milliseconds |");
    println!("|-------------------------------------------------|-------------:|");
    println!("| first sync, {:>4} pages, first page stored after  | {first_page:>12.1} |", progress.pages);
    println!("| first sync, all pages                           | {first_sync:>12.1} |");
    println!("| sync with nothing new, big family (median)      | {nb:>12.2} |");
    println!("| sync with nothing new, small family (median)    | {ns:>12.2} |");
    println!("| PIN to dossier view in the app core (median)    | {:>12.1} |", median(unlocks));
    println!("| Dossier view in the app core (median)           | {:>12.1} |", median(dossier_views));
    println!("| Inzage view in the app core (median)            | {:>12.1} |", median(inzage_views));
    println!();
    println!("ratio no-change sync big / small: {:.2} (target <= 2)", nb / ns);
}
