//! The real app (release build) in a real window under Xvfb, through WebDriver: from launch to
//! the first screen (the PIN screen), and from pressing "Openen" to the dossier on screen. The
//! target is the dossier within 1.5 s of the PIN. Prints a table; never a pass/fail on time.
//!
//! `cargo build --release -p mijn-cjg && DISPLAY=:99 cargo bench -p cjg-tests --bench app_start`
//! (ROUNDS=n, default 5). The launch time includes starting WebKitWebDriver, so it is an upper
//! bound of what a person waits.

use std::time::{Duration, Instant};

use cjg_tests::desktop::{entry_titles, type_into, wait_for, Driver};
use cjg_tests::{median, TestServer};
use fantoccini::Locator;

const PIN: &str = "902417";

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::var("ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(5);
    let server = TestServer::start().expect("server");
    let data = tempfile::tempdir().expect("tmp");

    // Set up once: enrol Sanne with a PIN, the way a person does.
    {
        let driver = Driver::start(data.path(), &server.url);
        let c = driver.session().await;
        type_into(&c, "#code", &server.code_for("Sanne")).await;
        wait_for(&c, "#to-pin").await.click().await.expect("click");
        type_into(&c, "#pin", PIN).await;
        type_into(&c, "#pin-again", PIN).await;
        wait_for(&c, "#finish").await.click().await.expect("click");
        assert_eq!(entry_titles(&c, 11).await.len(), 11);
        c.close().await.expect("close");
    }

    let (mut launch, mut unlock) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let driver = Driver::start(data.path(), &server.url);
        let t = Instant::now();
        let c = driver.session().await;
        wait_for(&c, "#unlock-pin").await;
        launch.push(t.elapsed().as_secs_f64());
        type_into(&c, "#unlock-pin", PIN).await;
        let button = wait_for(&c, "#unlock").await;
        let t = Instant::now();
        button.click().await.expect("click");
        // The dossier is on screen when its entries are in the DOM.
        loop {
            if c.find_all(Locator::Css("button.entry .title")).await.expect("find").len() == 11 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        unlock.push(t.elapsed().as_secs_f64());
        c.close().await.expect("close");
        drop(driver);
    }
    let (launch, unlock) = (median(launch), median(unlock));
    println!("app start, release build, median of {rounds} starts");
    println!("| measure                                      | time     |");
    println!("|----------------------------------------------|---------:|");
    println!("| launch to PIN screen (incl. WebDriver start) | {launch:>6.2} s |");
    println!("| \"Openen\" to the 11 entries on screen         | {unlock:>6.2} s |");
    println!();
    println!(
        "target: dossier on screen < 1.5 s after the PIN: {}",
        if unlock < 1.5 { "met" } else { "NOT met" }
    );
}
