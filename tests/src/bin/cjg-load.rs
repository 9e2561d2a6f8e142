//! Load test: N simulated families (the real client library over HTTP, each with its own device
//! key) enrol, pull their dossier, send feedback, a message and the start questionnaire, and pull
//! again, while coaches write entries. Loopback only, bounded in count and time. Prints
//! throughput and p50/p99 per route, then checks that nothing was lost or duplicated.
//!
//! `cargo run --release -p cjg-tests --bin cjg-load -- [CLIENTS] [ENTRIES]` (100 and 20 by
//! default; `LOAD_MAX_SECONDS`, 900 by default, bounds the run; `LOAD_CONCURRENCY` caps how
//! many apps are busy at once, all of them by default: a herd that arrives at the same moment).
//!
//! After the second pull comes a steady phase, the way apps that are open sync: each
//! app syncs once every `LOAD_SYNC_EVERY` seconds (10 by default; the app itself waits 2
//! minutes), at its own moment in that period, for `LOAD_STEADY_SECONDS` (30 by default; 0 skips
//! it), while two coaches write `LOAD_COACH_RATE` entries a second between them (5 by default).
//! A last pull then checks that everything arrived.
//!
//! With `LOAD_PUSH_MESSAGES=n`, every app then keeps its push connection open (`/v1/me/events`)
//! and syncs on each signal, while the coach writes n messages to one family after another (20 a
//! second): each is timed from the coach's POST to the end of that family's sync that brought
//! it. The server's memory and CPU with all connections open and idle (10 s) are printed too.
//!
//! The simulated apps keep their state in memory, not in the encrypted store: the store is
//! measured on its own (`cargo bench -p cjg-store`) and would measure PBKDF2 here, not the server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cjg_client::{Client, ClientError};
use cjg_core::api::{Change, AUDIT_PAGE_MAX};
use cjg_core::feedback::{FeedbackDraft, FeedbackKind};
use cjg_core::message::MessageDraft;
use cjg_core::questionnaire::{Agree, Answer, Answers, ItemKind, QuestionnaireTask, Submission};
use cjg_core::validate::ActivationCode;
use cjg_crypto::DeviceKey;
use cjg_tests::{family_entry, params, server_command, EntryKind, TestServer};
use tokio::sync::Semaphore;
use uuid::Uuid;

/// Latencies (seconds) and errors per route.
#[derive(Default)]
struct Recorder(Mutex<BTreeMap<&'static str, (Vec<f64>, usize)>>);

impl Recorder {
    fn requests(&self) -> usize {
        self.0.lock().unwrap().values().map(|(l, _)| l.len()).sum()
    }

    async fn time<T>(
        &self,
        route: &'static str,
        f: impl std::future::Future<Output = Result<T, ClientError>>,
    ) -> Result<T, ClientError> {
        let t = Instant::now();
        let r = f.await;
        let s = t.elapsed().as_secs_f64();
        let mut m = self.0.lock().unwrap();
        let e = m.entry(route).or_default();
        e.0.push(s);
        if r.is_err() {
            e.1 += 1;
        }
        r
    }
}

struct Sim {
    client: Client,
    key: DeviceKey,
    device_id: Uuid,
    person_id: Uuid,
    cursor: i64,
    audit_size: u32,
    entries: HashSet<Uuid>,
    task: Option<QuestionnaireTask>,
    token: Option<(String, Instant)>,
}

impl Sim {
    /// As the app does: a token is used again until a minute before it expires.
    async fn token(&mut self, rec: &Recorder) -> Result<String, ClientError> {
        if let Some((token, until)) = &self.token {
            if Instant::now() < *until {
                return Ok(token.clone());
            }
        }
        let fresh =
            rec.time("POST /v1/auth/* (token)", self.client.token_until(self.device_id, &self.key)).await?;
        let left = (fresh.expires_at - chrono::Utc::now()).to_std().unwrap_or_default();
        self.token =
            Some((fresh.token.clone(), Instant::now() + left.saturating_sub(Duration::from_secs(60))));
        Ok(fresh.token)
    }

    /// Every page after the cursor, as the app pulls them (the log until it caught up).
    /// `route` names the row the pages are counted in; by default a first pull, which stores
    /// each entry's access for the person (a write), is told apart from a later one.
    async fn pull(&mut self, rec: &Recorder, route: Option<&'static str>) -> Result<usize, ClientError> {
        let token = self.token(rec).await?;
        let mut audit_open = true;
        let route = route.unwrap_or(if self.cursor == 0 {
            "GET /v1/sync (first pull)"
        } else {
            "GET /v1/sync (later pull)"
        });
        let mut from_coach = 0;
        loop {
            let from = audit_open.then_some(self.audit_size);
            let page = rec
                .time(route, self.client.pull_page(&token, self.cursor, from.map(|f| (f, false)), None))
                .await?;
            for item in page.items {
                match item.change {
                    Change::Entry { entry } => {
                        self.entries.insert(entry.id);
                    }
                    Change::EntryDeleted { id, .. } => {
                        self.entries.remove(&id);
                    }
                    Change::Questionnaire { task } => self.task = Some(task),
                    Change::Message { message } if message.from_coach => from_coach += 1,
                    _ => {}
                }
            }
            if let Some(b) = &page.audit {
                self.audit_size = b.checkpoint.checkpoint.size;
                audit_open = b.events.len() >= AUDIT_PAGE_MAX;
            }
            self.cursor = page.next_cursor;
            if !page.has_more {
                return Ok(from_coach);
            }
        }
    }

    /// Feedback (sent twice, as after a lost answer), a message and the start questionnaire.
    async fn push(&mut self, rec: &Recorder) -> Result<(), ClientError> {
        let token = self.token(rec).await?;
        if let Some(entry_id) = self.entries.iter().next().copied() {
            let f = FeedbackDraft {
                id: Uuid::new_v4(),
                entry_id,
                kind: FeedbackKind::Akkoord,
                text: String::new(),
            };
            rec.time("POST /v1/me/feedback", self.client.submit_feedback(&token, &f)).await?;
            rec.time("POST /v1/me/feedback", self.client.submit_feedback(&token, &f)).await?;
        }
        let m =
            MessageDraft { id: Uuid::new_v4(), text: "Kunnen we de afspraak van dinsdag verzetten?".into() };
        rec.time("POST /v1/me/messages", self.client.send_message(&token, &m)).await?;
        if let Some(task) = self.task.clone().filter(|t| t.answers.is_none()) {
            let sub = Submission {
                id: Uuid::new_v4(),
                task_id: task.id,
                version: task.definition.version,
                answers: fill(&task),
            };
            rec.time("POST /v1/me/questionnaires", self.client.submit_questionnaire(&token, &sub)).await?;
        }
        Ok(())
    }
}

/// Answers every question that is always asked, as a hurried parent would.
fn fill(task: &QuestionnaireTask) -> Answers {
    let mut a = Answers::new();
    for item in task.definition.items.iter().filter(|i| i.show_if.is_none()) {
        let answer = match &item.kind {
            ItemKind::Agree => Answer::Agree(Agree::Eens),
            ItemKind::Rating { .. } => Answer::Rating(4),
            ItemKind::Choice { options } => {
                match options.iter().find(|o| o.value == "nee").or(options.first()) {
                    Some(o) => Answer::Choice(o.value.clone()),
                    None => continue,
                }
            }
            ItemKind::Open { .. } if item.required => Answer::Text("Het gaat beter.".into()),
            ItemKind::Open { .. } => continue,
        };
        a.insert(item.key.clone(), answer);
    }
    a
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[derive(Clone, Copy)]
enum Step {
    Pull,
    /// A pull counted in a row of its own.
    PullAs(&'static str),
    Push,
}

/// Runs `step` for every sim, at most `limit` at a time; returns the wall time and how many
/// sims failed.
async fn phase(sims: &mut Vec<Sim>, limit: usize, step: Step, rec: &Arc<Recorder>) -> (f64, usize) {
    let gate = Arc::new(Semaphore::new(limit));
    let t = Instant::now();
    let mut handles = Vec::new();
    for mut sim in sims.drain(..) {
        let permit = gate.clone().acquire_owned().await.unwrap();
        let rec = rec.clone();
        handles.push(tokio::spawn(async move {
            let ok = match step {
                Step::Pull => sim.pull(&rec, None).await.is_ok(),
                Step::PullAs(route) => sim.pull(&rec, Some(route)).await.is_ok(),
                Step::Push => sim.push(&rec).await.is_ok(),
            };
            drop(permit);
            (sim, ok)
        }));
    }
    let failed = gather(sims, handles).await;
    (t.elapsed().as_secs_f64(), failed)
}

/// Every sim syncs once every `every` until `span` has passed, starting at a random moment in
/// the first period (apps are opened at different times, not in step). Returns the wall time,
/// how many sims had a failed sync, and how many syncs ran.
async fn steady(
    sims: &mut Vec<Sim>,
    every: Duration,
    span: Duration,
    route: &'static str,
    rec: &Arc<Recorder>,
) -> (f64, usize, usize) {
    let start = tokio::time::Instant::now();
    let end = start + span;
    let syncs = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for mut sim in sims.drain(..) {
        let (rec, syncs) = (rec.clone(), syncs.clone());
        let offset = Duration::from_millis((Uuid::new_v4().as_u128() % every.as_millis().max(1)) as u64);
        handles.push(tokio::spawn(async move {
            let mut at = start + offset;
            let mut ok = true;
            while at < end {
                tokio::time::sleep_until(at).await;
                ok &= sim.pull(&rec, Some(route)).await.is_ok();
                syncs.fetch_add(1, Ordering::Relaxed);
                // A sync that overran its period is not made up for with a burst.
                at = (at + every).max(tokio::time::Instant::now());
            }
            (sim, ok)
        }));
    }
    let failed = gather(sims, handles).await;
    (start.elapsed().as_secs_f64(), failed, syncs.load(Ordering::Relaxed))
}

/// Resident memory (MB) and CPU time used so far (seconds) of a process, from /proc.
fn usage(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss_kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0);
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces): utime and stime are 14 and 15.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Linux counts CPU time in ticks of 1/100 s (USER_HZ).
    (rss_kb / 1024.0, (ticks(11) + ticks(12)) / 100.0)
}

/// Every sim listens on its push connection and syncs on each signal while the coach writes
/// `messages` messages, one family after another. Returns the wall time, the sims that failed,
/// and the report: push latency and the server's memory and CPU with the connections idle.
async fn listen(
    server: &TestServer,
    sims: &mut Vec<Sim>,
    messages: usize,
    rec: &Arc<Recorder>,
) -> (f64, usize, String) {
    let t = Instant::now();
    let pid = server.pid();
    let (rss_before, _) = usage(pid);
    let sent: Arc<Mutex<BTreeMap<Uuid, Instant>>> = Arc::default();
    let heard: Arc<Mutex<Vec<f64>>> = Arc::default();
    let stop = Arc::new(tokio::sync::Notify::new());
    let connected = Arc::new(AtomicUsize::new(0));
    let people: Vec<Uuid> = sims.iter().map(|s| s.person_id).collect();
    let mut handles = Vec::new();
    let gate = Arc::new(Semaphore::new(64));
    for mut sim in sims.drain(..) {
        let (rec, sent, heard, stop, connected, gate) =
            (rec.clone(), sent.clone(), heard.clone(), stop.clone(), connected.clone(), gate.clone());
        handles.push(tokio::spawn(async move {
            let permit = gate.acquire_owned().await.unwrap();
            let Ok(token) = sim.token(&rec).await else { return (sim, false) };
            let Ok(mut events) = sim.client.events(&token).await else { return (sim, false) };
            if !matches!(events.next().await, Ok(Some(cjg_client::push::Signal::Ready))) {
                return (sim, false);
            }
            drop(permit);
            connected.fetch_add(1, Ordering::Relaxed);
            let mut ok = true;
            loop {
                tokio::select! {
                    () = stop.notified() => break,
                    signal = events.next() => match signal {
                        Ok(Some(cjg_client::push::Signal::Sync)) => {
                            match sim.pull(&rec, Some("GET /v1/sync (on a push signal)")).await {
                                Ok(n) if n > 0 => {
                                    if let Some(at) = sent.lock().unwrap().remove(&sim.person_id) {
                                        heard.lock().unwrap().push(at.elapsed().as_secs_f64());
                                    }
                                }
                                Ok(_) => {}
                                Err(_) => ok = false,
                            }
                        }
                        Ok(Some(cjg_client::push::Signal::Ready)) => {}
                        Ok(None) | Err(_) => { ok = false; break; }
                    },
                }
            }
            (sim, ok)
        }));
    }
    let n = handles.len();
    let deadline = Instant::now() + Duration::from_secs(120);
    while connected.load(Ordering::Relaxed) < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let open = connected.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (rss_open, cpu_0) = usage(pid);
    tokio::time::sleep(Duration::from_secs(10)).await;
    let (_, cpu_1) = usage(pid);
    let idle_cpu = (cpu_1 - cpu_0) / 10.0 * 100.0;

    let coach = server.staff().await.unwrap();
    for i in 0..messages {
        let person = people[i % people.len()];
        sent.lock().unwrap().insert(person, Instant::now());
        let r = coach.send_message(&person.to_string(), "Tot dinsdag, om tien uur.").await;
        assert!(r.is_ok_and(|r| r.status().is_success()), "the coach's message");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while !sent.lock().unwrap().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let missed = sent.lock().unwrap().len();
    stop.notify_waiters();
    let failed = gather(sims, handles).await;
    let mut lat = std::mem::take(&mut *heard.lock().unwrap());
    lat.sort_by(f64::total_cmp);
    let ms = |q: f64| quantile(&lat, q) * 1e3;
    let report = format!(
        "push: {open} of {n} apps listening; server memory {rss_before:.0} MB before, {rss_open:.0} MB with them open ({:.1} MB per 1,000); CPU with them idle {idle_cpu:.1}% of one core\npush latency (coach POST to the app's finished sync), {} of {messages} messages: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; not heard within 30 s: {missed}",
        (rss_open - rss_before) / open.max(1) as f64 * 1000.0,
        lat.len(),
        ms(0.5),
        ms(0.99),
        ms(1.0),
    );
    (t.elapsed().as_secs_f64(), failed, report)
}

/// Puts every sim back when its task ends; returns how many failed.
async fn gather(sims: &mut Vec<Sim>, handles: Vec<tokio::task::JoinHandle<(Sim, bool)>>) -> usize {
    let mut failed = 0;
    for h in handles {
        let (sim, ok) = h.await.unwrap();
        failed += usize::from(!ok);
        sims.push(sim);
    }
    failed
}

fn env_secs(name: &str, default: f64) -> Duration {
    let secs = std::env::var(name).ok().and_then(|v| v.parse::<f64>().ok()).unwrap_or(default);
    Duration::from_secs_f64(secs.clamp(0.0, 3600.0))
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let clients: usize = args.get(1).and_then(|v| v.parse().ok()).unwrap_or(100);
    let entries: usize = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(20);
    let max = Duration::from_secs(
        std::env::var("LOAD_MAX_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(900),
    );
    match tokio::time::timeout(max, run(clients, entries)).await {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(_) => {
            eprintln!("cjg-load: stopped after {} s (LOAD_MAX_SECONDS)", max.as_secs());
            std::process::exit(2);
        }
    }
}

async fn run(clients: usize, entries: usize) -> bool {
    let busy: usize = std::env::var("LOAD_CONCURRENCY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(clients)
        .clamp(1, clients.max(1));
    let tmp = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let status = server_command(tmp.path())
        .unwrap()
        .0
        .args(["seed-load", "--families", &clients.to_string(), "--entries", &entries.to_string()])
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "seeding failed");
    // Every simulated app enrols from 127.0.0.1: lift the per-address limit for this run.
    let server =
        TestServer::start_in(tmp.path(), "127.0.0.1:0", &["--attempts-per-minute", "1000000"]).unwrap();
    let seeding = t.elapsed().as_secs_f64();
    let codes: Vec<String> =
        server.codes.iter().filter(|c| c.name.starts_with("Ouder Last")).map(|c| c.code.clone()).collect();
    assert_eq!(codes.len(), clients, "a code per simulated family");
    let rec = Arc::new(Recorder::default());
    // (phase, wall seconds, failed clients, requests in the phase)
    let mut table: Vec<(&str, f64, usize, usize)> = Vec::new();
    let mut before = 0;
    let mut mark = |rec: &Recorder| {
        let now = rec.requests();
        let n = now - before;
        before = now;
        n
    };

    // Enrol.
    let t = Instant::now();
    let gate = Arc::new(Semaphore::new(64));
    let mut handles = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        let (url, code, rec, gate) = (server.url.clone(), code.clone(), rec.clone(), gate.clone());
        handles.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await.unwrap();
            let client = Client::new(&url).unwrap();
            let key = DeviceKey::generate().unwrap();
            let code = ActivationCode::parse(&code).unwrap();
            let r = rec.time("POST /v1/enrol", client.enrol(&code, &key, &format!("load {i}"))).await.ok()?;
            Some(Sim {
                client,
                key,
                device_id: r.device_id,
                person_id: r.person_id,
                cursor: 0,
                audit_size: 0,
                entries: HashSet::new(),
                task: None,
                token: None,
            })
        }));
    }
    let mut sims = Vec::new();
    for h in handles {
        if let Some(s) = h.await.unwrap() {
            sims.push(s);
        }
    }
    table.push(("enrol", t.elapsed().as_secs_f64(), clients - sims.len(), mark(&rec)));

    // First pull, while two coaches write entries into the families' dossiers.
    let dossiers: Vec<Uuid> = {
        let ids = server
            .db()
            .query_map("SELECT id FROM dossiers WHERE family_name LIKE 'Last %'", params![], |r| {
                r.get::<String>(0)
            })
            .unwrap();
        ids.iter().map(|id| id.parse().unwrap()).collect()
    };
    let every = env_secs("LOAD_SYNC_EVERY", 10.0);
    let span = env_secs("LOAD_STEADY_SECONDS", 30.0);
    let coach_rate = std::env::var("LOAD_COACH_RATE")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(5.0)
        .clamp(0.1, 1000.0);
    let steady_route: &'static str =
        Box::leak(format!("GET /v1/sync (steady, every {:.0} s)", every.as_secs_f64()).into_boxed_str());
    let writing = Coaches::start(&server, &dossiers, &rec, None).await;
    let (secs, failed) = phase(&mut sims, busy, Step::Pull, &rec).await;
    table.push(("first pull (coaches writing)", secs, failed, mark(&rec)));
    let mut written = writing.stop().await;

    // Push, then pull what the coaches wrote.
    let (secs, failed) = phase(&mut sims, busy, Step::Push, &rec).await;
    table.push(("push feedback, message, answers", secs, failed, mark(&rec)));
    let (secs, failed) = phase(&mut sims, busy, Step::Pull, &rec).await;
    table.push(("second pull", secs, failed, mark(&rec)));

    // The steady phase, with the coaches at a working pace; then a last pull to compare.
    let mut steady_syncs = 0;
    if !span.is_zero() && !every.is_zero() {
        let writing = Coaches::start(&server, &dossiers, &rec, Some(coach_rate)).await;
        let (secs, failed, syncs) = steady(&mut sims, every, span, steady_route, &rec).await;
        table.push(("steady syncs (coaches writing)", secs, failed, mark(&rec)));
        steady_syncs = syncs;
        written += writing.stop().await;
        let last = Step::PullAs("GET /v1/sync (last pull)");
        let (secs, failed) = phase(&mut sims, busy, last, &rec).await;
        table.push(("last pull", secs, failed, mark(&rec)));
    }

    let push_messages: usize =
        std::env::var("LOAD_PUSH_MESSAGES").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
    let pushed = if push_messages > 0 {
        let (secs, failed, report) = listen(&server, &mut sims, push_messages, &rec).await;
        table.push(("push: listen, coach writes", secs, failed, mark(&rec)));
        Some(report)
    } else {
        None
    };

    println!(
        "load test: {clients} families of {entries} entries (seeded in {seeding:.1} s), at most {busy} apps busy at once, loopback, {}",
        if cjg_tests::on_postgres() { "PostgreSQL" } else { "SQLite" }
    );
    println!();
    println!("| phase                           | wall time | requests | req/s  | failed clients |");
    println!("|---------------------------------|----------:|---------:|-------:|---------------:|");
    for (name, secs, failed, requests) in &table {
        let rate = *requests as f64 / secs;
        println!("| {name:<31} | {secs:>7.2} s | {requests:>8} | {rate:>6.0} | {failed:>14} |");
    }
    println!();
    println!("| route                                | requests | errors | p50 ms | p99 ms | max ms |");
    println!("|--------------------------------------|---------:|-------:|-------:|-------:|-------:|");
    for (route, (lat, errors)) in rec.0.lock().unwrap().iter_mut() {
        lat.sort_by(f64::total_cmp);
        let ms = |q: f64| quantile(lat, q) * 1e3;
        println!(
            "| {route:<36} | {:>8} | {errors:>6} | {:>6.1} | {:>6.1} | {:>6.1} |",
            lat.len(),
            ms(0.5),
            ms(0.99),
            ms(1.0)
        );
    }

    // Nothing lost, nothing twice.
    let db = server.db();
    let count = |sql: &str| -> i64 { db.query_row(sql, params![], |r| r.get(0)).unwrap() };
    let people: Vec<String> = sims.iter().map(|s| format!("'{}'", s.person_id)).collect();
    let among = people.join(",");
    let feedback = count(&format!("SELECT COUNT(*) FROM feedback WHERE author_person_id IN ({among})"));
    let messages = count(&format!(
        "SELECT COUNT(*) FROM messages WHERE person_id IN ({among}) AND author_staff_id IS NULL"
    ));
    let answered = count(&format!(
        "SELECT COUNT(*) FROM questionnaire_tasks WHERE person_id IN ({among}) AND status = 'submitted'"
    ));
    let mut complete = 0;
    for s in &sims {
        let on_server = count(&format!(
            "SELECT COUNT(*) FROM entries WHERE deleted = 0 AND dossier_id = (SELECT dossier_id FROM people WHERE id = '{}')",
            s.person_id
        ));
        complete += usize::from(on_server == s.entries.len() as i64);
    }
    let n = sims.len() as i64;
    println!();
    println!("coach entries written while the apps pulled: {written}");
    if steady_syncs > 0 {
        let rate = steady_syncs as f64 / span.as_secs_f64();
        println!(
            "steady phase: {steady_syncs} syncs in {:.0} s ({rate:.0} syncs/s offered)",
            span.as_secs_f64()
        );
    }
    if let Some(report) = pushed {
        println!("{report}");
    }
    println!("feedback rows {feedback} (expected {n}: each sent twice, stored once)");
    println!("messages {messages} (expected {n}); start questionnaires answered {answered} (expected {n})");
    println!("apps whose entries equal the server's after the last pull: {complete} of {n}");
    let ok =
        sims.len() == clients && feedback == n && messages == n && answered == n && complete == sims.len();
    println!("{}", if ok { "CHECK: nothing lost, nothing duplicated" } else { "CHECK FAILED" });
    ok
}

/// Two coaches writing entries into the families' dossiers until stopped: one after another as
/// fast as the server takes them, or `rate` entries a second between them.
struct Coaches {
    stop: Arc<AtomicBool>,
    written: Arc<AtomicUsize>,
    writers: Vec<tokio::task::JoinHandle<()>>,
}

impl Coaches {
    async fn start(server: &TestServer, dossiers: &[Uuid], rec: &Arc<Recorder>, rate: Option<f64>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let written = Arc::new(AtomicUsize::new(0));
        let mut writers = Vec::new();
        for w in 0..2 {
            let (stop, written, rec, dossiers) =
                (stop.clone(), written.clone(), rec.clone(), dossiers.to_vec());
            let staff = server.staff().await.unwrap();
            let pause = rate.map(|r| Duration::from_secs_f64(2.0 / r));
            writers.push(tokio::spawn(async move {
                let mut i = w;
                while !stop.load(Ordering::Relaxed) {
                    if let Some(p) = pause {
                        tokio::time::sleep(p).await;
                    }
                    let dossier = dossiers[i % dossiers.len()];
                    let title = format!("Nieuwe afspraak {i}");
                    let body = "We spraken af dat de coach volgende week belt.";
                    let draft = family_entry(EntryKind::Afspraak, &title, body, "2026-11-30");
                    let t = Instant::now();
                    let ok = staff.create_entry(dossier, &draft).await.is_ok();
                    let mut m = rec.0.lock().unwrap();
                    let e = m.entry("POST /v1/staff/dossiers/{id}/entries").or_default();
                    e.0.push(t.elapsed().as_secs_f64());
                    e.1 += usize::from(!ok);
                    written.fetch_add(usize::from(ok), Ordering::Relaxed);
                    i += 2;
                }
            }));
        }
        Self { stop, written, writers }
    }

    async fn stop(self) -> usize {
        self.stop.store(true, Ordering::Relaxed);
        for w in self.writers {
            w.await.unwrap();
        }
        self.written.load(Ordering::Relaxed)
    }
}
