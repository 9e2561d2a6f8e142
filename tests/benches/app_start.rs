//! The real app (release build) in a real window under Xvfb, through WebDriver: the first sync
//! after enrolling, from launch to the first screen (the PIN screen), from pressing "Openen" to
//! the dossier on screen, and the memory of the app's processes (the app and its WebKit
//! processes) next to a minimal Tauri window of the same Tauri version, with both binaries'
//! sizes. Prints a table; never a pass/fail on time.
//!
//! ```sh
//! cargo build --release -p mijn-cjg -p minimal-window
//! xvfb-run -a cargo bench -p cjg-tests --bench app_start               # the demo family
//! BIG=20000 xvfb-run -a cargo bench -p cjg-tests --bench app_start     # 20,000 entries
//! ```
//! ROUNDS=n (default 5) starts; with BIG=n the family has n entries and LOG_LINES (default
//! 10 × n) access-log lines. The launch time includes starting WebKitWebDriver, so it is an
//! upper bound of what a person waits.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cjg_tests::desktop::{entry_titles, type_into, wait_for, wait_text, Driver};
use cjg_tests::{median, params, TestServer};
use fantoccini::Locator;

const PIN: &str = "902417";

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn release_binary(name: &str) -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| cjg_tests::workspace_root().join("target"));
    let p = target.join("release").join(name);
    assert!(
        p.exists(),
        "build it first: cargo build --release -p mijn-cjg -p minimal-window ({})",
        p.display()
    );
    p
}

/// A field of `/proc/PID/status` as a number of kB (or a plain number, for PPid).
fn status_number(status: &str, name: &str) -> u64 {
    status
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// A process and all its descendants (the app and its WebKit processes), with their status.
fn tree_of(root: u32) -> Vec<(u32, String)> {
    let mut procs: Vec<(u32, u64, String)> = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else { continue };
        procs.push((pid, status_number(&status, "PPid:"), status));
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let parent = u64::from(tree[i]);
        tree.extend(procs.iter().filter(|p| p.1 == parent).map(|p| p.0));
        i += 1;
    }
    procs.into_iter().filter(|p| tree.contains(&p.0)).map(|p| (p.0, p.2)).collect()
}

/// Resident memory of a process and all its descendants, in MB.
fn tree_mb(root: u32) -> f64 {
    tree_of(root).iter().map(|(_, s)| status_number(s, "VmRSS:")).sum::<u64>() as f64 / 1024.0
}

/// Each process of the tree with its resident memory split into anonymous (heaps, the
/// JavaScript engine, the page's layers) and file-backed (libraries, shared with other
/// programs), on stderr: what the totals are made of.
fn print_tree(what: &str, root: u32) {
    for (_, status) in tree_of(root) {
        let name = status.lines().find_map(|l| l.strip_prefix("Name:")).unwrap_or("").trim().to_owned();
        let kb = |field: &str| status_number(&status, field);
        eprintln!(
            "{what}: {name} rss {} kB (anon {} kB, file {} kB)",
            kb("VmRSS:"),
            kb("RssAnon:"),
            kb("RssFile:")
        );
    }
}

/// The running process whose program is `binary`.
fn pid_of(binary: &Path) -> Option<u32> {
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid = e.file_name().to_str()?.parse::<u32>().ok()?;
        (std::fs::read_link(e.path().join("exe")).ok()? == binary).then_some(pid)
    })
}

/// Memory once the processes settled: the largest of three readings a second apart.
async fn settled_mb(root: u32) -> f64 {
    let mut most: f64 = 0.0;
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        most = most.max(tree_mb(root));
    }
    most
}

/// The minimal window's memory once settled.
async fn minimal_window_mb(minimal: &Path, data: &Path) -> f64 {
    let mut window = std::process::Command::new(minimal)
        .env("XDG_DATA_HOME", data.join("minimal"))
        .spawn()
        .expect("minimal window");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mb = settled_mb(window.id()).await;
    print_tree("minimal window", window.id());
    let _ = window.kill();
    let _ = window.wait();
    mb
}

#[tokio::main]
async fn main() {
    let rounds = env("ROUNDS", 5);
    let big = env("BIG", 0);
    let app = release_binary("mijn-cjg");
    let minimal = release_binary("minimal-window");
    let server = TestServer::start().expect("server");
    let data = tempfile::tempdir().expect("tmp");
    let (code, shown) = if big > 0 {
        let lines = env("LOG_LINES", 10 * big);
        let out = server
            .cli()
            .args([
                "seed-load",
                "--families",
                "1",
                "--entries",
                &big.to_string(),
                "--log-lines",
                &lines.to_string(),
            ])
            .output()
            .expect("seed-load");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let parent: String = server
            .db()
            .query_row("SELECT id FROM people WHERE display_name LIKE 'Ouder Last %'", params![], |r| {
                r.get(0)
            })
            .expect("the big family's parent");
        let coach = server.staff().await.expect("staff");
        (coach.activation_code(&parent).await.expect("code"), 50)
    } else {
        (server.code_for("Sanne"), 11)
    };

    // Enrol once with a PIN, the way a person does; the first sync runs after it.
    let (first_sync, synced_mb) = {
        let driver = Driver::start(data.path(), &server.url);
        let c = driver.session().await;
        type_into(&c, "#code", &code).await;
        wait_for(&c, "#to-pin").await.click().await.expect("click");
        type_into(&c, "#pin", PIN).await;
        type_into(&c, "#pin-again", PIN).await;
        let t = Instant::now();
        wait_for(&c, "#finish").await.click().await.expect("click");
        wait_text(&c, "#sync-status", "Alles is bijgewerkt").await;
        let first_sync = t.elapsed().as_secs_f64();
        assert_eq!(entry_titles(&c, shown).await.len(), shown);
        let mb = settled_mb(pid_of(&app).expect("the app runs")).await;
        print_tree("after the first sync", pid_of(&app).expect("the app runs"));
        c.close().await.expect("close");
        (first_sync, mb)
    };

    let (mut launch, mut unlock, mut pin_mb, mut open_mb) = (Vec::new(), Vec::new(), 0.0, 0.0);
    for round in 0..rounds {
        let driver = Driver::start(data.path(), &server.url);
        let t = Instant::now();
        let c = driver.session().await;
        wait_for(&c, "#unlock-pin").await;
        launch.push(t.elapsed().as_secs_f64());
        if round == 0 {
            pin_mb = settled_mb(pid_of(&app).expect("the app runs")).await;
        }
        type_into(&c, "#unlock-pin", PIN).await;
        let button = wait_for(&c, "#unlock").await;
        let t = Instant::now();
        button.click().await.expect("click");
        // The dossier is on screen when its first entries are in the DOM.
        loop {
            if c.find_all(Locator::Css("button.entry .title")).await.expect("find").len() == shown {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        unlock.push(t.elapsed().as_secs_f64());
        if round == 0 {
            open_mb = settled_mb(pid_of(&app).expect("the app runs")).await;
            print_tree("dossier open", pid_of(&app).expect("the app runs"));
        }
        c.close().await.expect("close");
        drop(driver);
    }

    // The minimal window of the same Tauri version, on the same display.
    let minimal_mb = minimal_window_mb(&minimal, data.path()).await;
    let size = |p: &Path| std::fs::metadata(p).expect("binary").len() as f64 / 1e6;
    let (app_size, minimal_size) = (size(&app), size(&minimal));

    let (launch, unlock) = (median(launch), median(unlock));
    let family = if big > 0 { format!("a family of {big} entries") } else { "the demo family".into() };
    println!("## The release app, {family}; median of {rounds} starts");
    println!();
    println!("| measure                                          | value       | minimal window | ratio |");
    println!("|--------------------------------------------------|------------:|---------------:|------:|");
    println!(
        "| first sync after enrolling, in the app           | {first_sync:>9.2} s |                |       |"
    );
    println!(
        "| launch to PIN screen (incl. WebDriver start)     | {launch:>9.2} s |                |       |"
    );
    println!(
        "| \"Openen\" to the dossier on screen                 | {unlock:>9.2} s |                |       |"
    );
    let row = |what: &str, v: f64| {
        println!("| {what:<48} | {v:>8.1} MB | {minimal_mb:>11.1} MB | {:>5.2} |", v / minimal_mb);
    };
    row("memory, PIN screen (app + WebKit processes)", pin_mb);
    row("memory, dossier open", open_mb);
    row("memory, right after the first sync", synced_mb);
    println!(
        "| binary size                                      | {app_size:>8.1} MB | {minimal_size:>11.1} MB | {:>5.2} |",
        app_size / minimal_size
    );
    println!();
    println!("targets: dossier on screen < 1.5 s after the PIN; memory <= 1.2x and binary <= 1.5x the minimal window");
}
