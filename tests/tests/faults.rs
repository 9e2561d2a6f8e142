//! Fault tests (issue 23, part 1): the real binaries, broken on purpose.
//!
//! The server is killed with SIGKILL at random moments while a coach writes entries and
//! messages and two apps send feedback, messages and questionnaire answers, then started again
//! on the same data. Every write that got a 2xx answer must be there, nothing may be there
//! twice, every audit chain must verify, and the apps' next syncs must end where the server is.
//! The moments come from a seed printed at the start: `CJG_FAULT_SEED=n` repeats a run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cjg_core::feedback::FeedbackKind;
use cjg_core::questionnaire::{Answer, Phase};
use cjg_tests::{family_entry, params, EntryKind, TestServer};
use serde_json::json;

/// A small generator, so a seed repeats a run exactly (no dependency for four numbers).
struct Moments(u64);

impl Moments {
    fn from_env() -> Self {
        let seed = std::env::var("CJG_FAULT_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
        });
        eprintln!("fault moments: CJG_FAULT_SEED={seed}");
        Self(seed | 1)
    }

    /// A number in `low..high` (xorshift64*).
    fn between(&mut self, low: u64, high: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        low + self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % (high - low)
    }
}

/// What a writer knows of each write it tried: answered 2xx, or not known (the answer was lost
/// when the server died: it may or may not have been stored, but never twice).
#[derive(Default)]
struct Ledger {
    acknowledged: Vec<String>,
    unknown: Vec<String>,
}

impl Ledger {
    fn note(ledger: &Mutex<Self>, text: String, acknowledged: bool) {
        let mut l = ledger.lock().unwrap();
        if acknowledged {
            l.acknowledged.push(text);
        } else {
            l.unknown.push(text);
        }
    }
}

/// Closes the family's trajectory today (begun 118 days ago): a closing questionnaire for the
/// parents, the carer and everyone of 12 and over.
async fn close_today(coach: &cjg_tests::Staff, dossier: uuid::Uuid) {
    let today = cjg_core::time::dutch_date(chrono::Utc::now());
    let started = today - chrono::Duration::days(118);
    let trajectory =
        json!({"started_on": started, "closed_on": today, "municipality": "Demostad", "team": "Team Noord"});
    assert_eq!(coach.set_trajectory(dossier, trajectory).await.unwrap().status(), 200);
}

fn counts(server: &TestServer, query: &str, dossier: &str) -> BTreeMap<String, i64> {
    server
        .db()
        .query_map(query, [dossier.to_owned()], |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)?)))
        .unwrap()
        .into_iter()
        .collect()
}

fn check_once(what: &str, stored: &BTreeMap<String, i64>, ledger: &Ledger) {
    for text in &ledger.acknowledged {
        assert_eq!(stored.get(text), Some(&1), "{what} {text:?} was answered 2xx: stored exactly once");
    }
    for text in &ledger.unknown {
        assert!(stored.get(text).is_none_or(|n| *n == 1), "{what} {text:?} stored twice");
    }
    for (text, n) in stored {
        assert_eq!(*n, 1, "{what} {text:?} stored {n} times");
    }
}

const ROUNDS: usize = 4;

// Four worker threads: the coach, two apps and the killer run at the same time.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_server_killed_in_a_burst_of_writes_loses_nothing_it_confirmed_and_doubles_nothing() {
    let mut moments = Moments::from_env();
    let data = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_in(data.path(), "127.0.0.1:0", &[]).unwrap();
    let listen = server.url.trim_start_matches("http://").to_owned();
    let coach = server.staff().await.unwrap();
    let dossier = coach.dossier_id(&server.db()).await;
    // A closing questionnaire for everyone of 12 and over, to answer during the burst.
    close_today(&coach, dossier).await;
    let (_sanne_dir, sanne) = cjg_tests::enrolled_app(&server, "Sanne").await;
    let (_noor_dir, noor) = cjg_tests::enrolled_app(&server, "Noor").await;
    let (sanne, noor) = (Arc::new(sanne), Arc::new(noor));
    let closing =
        noor.tasks().await.unwrap().items.into_iter().find(|t| t.phase == Some(Phase::Eind)).unwrap();
    let about = sanne.dossier().await.unwrap().entries[0].id;
    let sanne_id = cjg_tests::person_id(&server.db(), "Sanne Voorbeeld");

    let entries = Arc::new(Mutex::new(Ledger::default()));
    let coach_messages = Arc::new(Mutex::new(Ledger::default()));
    let feedback = Arc::new(Mutex::new(Ledger::default()));
    let app_messages = Arc::new(Mutex::new(Ledger::default()));
    let mut answered = false;
    for round in 0..ROUNDS {
        let coach = server.staff().await.unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let mut writers = Vec::new();
        {
            let (stop, entries, messages, sanne_id) =
                (stop.clone(), entries.clone(), coach_messages.clone(), sanne_id.clone());
            writers.push(tokio::spawn(async move {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    let title = format!("Stoot {round}-{i}");
                    let draft =
                        family_entry(EntryKind::Afspraak, &title, "Geschreven in een stoot.", "2026-11-30");
                    let done = coach.create_entry(dossier, &draft).await.is_ok();
                    Ledger::note(&entries, title, done);
                    let text = format!("Coachbericht {round}-{i}");
                    let done =
                        coach.send_message(&sanne_id, &text).await.is_ok_and(|r| r.status().is_success());
                    Ledger::note(&messages, text, done);
                    i += 1;
                }
            }));
        }
        {
            let (stop, sanne, feedback, messages) =
                (stop.clone(), sanne.clone(), feedback.clone(), app_messages.clone());
            writers.push(tokio::spawn(async move {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    // Queued first, so Ok means the app holds it until the server has it.
                    let text = format!("Reactie {round}-{i}");
                    let queued = sanne.send_feedback(about, FeedbackKind::Vraag, &text).await.is_ok();
                    Ledger::note(&feedback, text, queued);
                    let text = format!("Ouderbericht {round}-{i}");
                    let queued = sanne.send_message(&text).await.is_ok();
                    Ledger::note(&messages, text, queued);
                    i += 1;
                }
            }));
        }
        if round == 1 {
            // The answers go while the server is about to die.
            let noor = noor.clone();
            writers.push(tokio::spawn(async move {
                noor.submit_questionnaire(
                    closing.id,
                    cjg_tests::closing_answers("Ingevuld terwijl de server viel."),
                )
                .await
                .unwrap();
            }));
            answered = true;
        }
        tokio::time::sleep(Duration::from_millis(moments.between(150, 900))).await;
        server.stop();
        stop.store(true, Ordering::SeqCst);
        for w in writers {
            w.await.unwrap();
        }
        server = TestServer::start_in(data.path(), &listen, &[]).unwrap();
    }
    assert!(answered);

    // The apps' next syncs send what they still hold and end where the server is.
    for app in [&sanne, &noor] {
        app.sync(|_| {}).await.unwrap();
        app.sync(|_| {}).await.unwrap();
        assert!(app.inzage().await.unwrap().warning.is_none(), "the app verifies its chain");
    }
    let d = dossier.to_string();
    let stored_entries = counts(
        &server,
        "SELECT title, COUNT(*) FROM entries WHERE dossier_id = ?1 AND title LIKE 'Stoot %' GROUP BY title",
        &d,
    );
    let stored_feedback = counts(
        &server,
        "SELECT f.text, COUNT(*) FROM feedback f JOIN entries e ON e.id = f.entry_id \
         WHERE e.dossier_id = ?1 GROUP BY f.text",
        &d,
    );
    let stored_messages =
        counts(&server, "SELECT text, COUNT(*) FROM messages WHERE dossier_id = ?1 GROUP BY text", &d);
    let taken = |l: &Mutex<Ledger>| std::mem::take(&mut *l.lock().unwrap());
    let (entries, feedback) = (taken(&entries), taken(&feedback));
    let (coach_messages, app_messages) = (taken(&coach_messages), taken(&app_messages));
    eprintln!(
        "over {ROUNDS} kills: entries {} confirmed / {} unknown, coach messages {} / {}, \
         feedback {} queued / {} unknown, app messages {} / {}",
        entries.acknowledged.len(),
        entries.unknown.len(),
        coach_messages.acknowledged.len(),
        coach_messages.unknown.len(),
        feedback.acknowledged.len(),
        feedback.unknown.len(),
        app_messages.acknowledged.len(),
        app_messages.unknown.len(),
    );
    assert!(entries.acknowledged.len() >= ROUNDS, "the coach wrote in every round");
    check_once("entry", &stored_entries, &entries);
    check_once("feedback", &stored_feedback, &feedback);
    let ours = |prefix: &str| -> BTreeMap<String, i64> {
        stored_messages.iter().filter(|(t, _)| t.starts_with(prefix)).map(|(t, n)| (t.clone(), *n)).collect()
    };
    check_once("coach message", &ours("Coachbericht "), &coach_messages);
    check_once("app message", &ours("Ouderbericht "), &app_messages);
    let status: String = server
        .db()
        .query_row("SELECT status FROM questionnaire_tasks WHERE id = ?1", [closing.id.to_string()], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(status, "submitted", "the answers in the outbox arrived");

    // What the parent's app holds is what the server holds: every entry once, none missing.
    let mut in_app: Vec<String> = sanne
        .dossier()
        .await
        .unwrap()
        .entries
        .into_iter()
        .map(|e| e.title)
        .filter(|t| t.starts_with("Stoot "))
        .collect();
    in_app.sort();
    let on_server: Vec<String> = stored_entries.keys().cloned().collect();
    assert_eq!(in_app, on_server);
    assert!(noor.berichten().await.is_ok());

    let out = server.cli().arg("verify-audit").env("RUST_LOG", "error").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let (lines, last): (i64, i64) = server
        .db()
        .query_row(
            "SELECT COUNT(*), MAX(position) FROM audit_events WHERE dossier_id = ?1",
            params![d],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(lines, last, "no gap in the dossier's chain");
}

/// What the proxy does to one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Pass,
    /// Waits before it forwards the request.
    Delay(u64),
    /// Sends the status, the headers and half the body, then drops the connection.
    CutMidBody,
    /// Sends half the body as if it were all of it (a complete answer of broken JSON).
    Truncate,
    /// Sends the answer it gave to another request on the same route before: an old sync page
    /// for a newer cursor. (The same request answered again is a cache's stale copy, which the
    /// server's `Cache-Control: no-store` rules out.)
    Replay,
}

/// A request (path and query) and the status and body it was answered with.
type Answered = (String, u16, bytes::Bytes);

#[derive(Clone)]
struct Proxy {
    upstream: String,
    http: reqwest::Client,
    /// While on, each answer gets a fault from `schedule`.
    faulty: Arc<AtomicBool>,
    schedule: Arc<Mutex<Moments>>,
    /// The last answer per route and the request it answered, to replay.
    seen: Arc<Mutex<BTreeMap<String, Answered>>>,
    /// Which faults were applied, for the note at the end.
    applied: Arc<Mutex<BTreeMap<&'static str, usize>>>,
    /// This many next sync pages are cut mid-body, whatever the schedule says.
    cut_pages: Arc<std::sync::atomic::AtomicUsize>,
}

impl Proxy {
    /// A proxy in front of `server`, passing everything until told otherwise; its address.
    async fn start(server: &TestServer) -> (String, Self) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let via = format!("http://{}", listener.local_addr().unwrap());
        let proxy = Proxy {
            upstream: server.url.clone(),
            http: reqwest::Client::new(),
            faulty: Arc::default(),
            schedule: Arc::new(Mutex::new(Moments::from_env())),
            seen: Arc::default(),
            applied: Arc::default(),
            cut_pages: Arc::default(),
        };
        let router = axum::Router::new().fallback(proxied).with_state(proxy.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        (via, proxy)
    }

    fn next_fault(&self) -> Fault {
        if !self.faulty.load(Ordering::SeqCst) {
            return Fault::Pass;
        }
        let mut m = self.schedule.lock().unwrap();
        // Most answers pass, so some syncs of several pages end whole.
        match m.between(0, 20) {
            0..=13 => Fault::Pass,
            14 | 15 => Fault::Delay(m.between(50, 1500)),
            16 => Fault::CutMidBody,
            17 => Fault::Truncate,
            _ => Fault::Replay,
        }
    }
}

async fn proxied(
    axum::extract::State(p): axum::extract::State<Proxy>,
    req: axum::extract::Request,
) -> axum::response::Response {
    use axum::body::Body;
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 16 << 20).await.unwrap();
    let cut_page = parts.uri.path() == "/v1/sync"
        && p.cut_pages.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
    let fault = if cut_page { Fault::CutMidBody } else { p.next_fault() };
    let name = match fault {
        Fault::Pass => "pass",
        Fault::Delay(_) => "delay",
        Fault::CutMidBody => "cut mid-body",
        Fault::Truncate => "truncate",
        Fault::Replay => "replay",
    };
    *p.applied.lock().unwrap().entry(name).or_default() += 1;
    if let Fault::Delay(ms) = fault {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let path = parts.uri.path_and_query().map_or("/", |q| q.as_str());
    let mut forward = p.http.request(parts.method.clone(), format!("{}{path}", p.upstream)).body(body);
    for (name, value) in &parts.headers {
        if name == "authorization" || name == "content-type" || name.as_str().starts_with("x-") {
            forward = forward.header(name, value);
        }
    }
    let answer = forward.send().await.unwrap();
    let status = answer.status().as_u16();
    let content_type = answer.headers().get("content-type").cloned();
    if content_type.as_ref().is_some_and(|ct| ct.as_bytes().starts_with(b"text/event-stream")) {
        // The push connection stays open: passed on as it comes.
        return axum::response::Response::builder()
            .status(status)
            .header("content-type", content_type.unwrap())
            .body(Body::from_stream(answer.bytes_stream()))
            .unwrap();
    }
    let no_store = answer.headers().get("cache-control").is_some_and(|v| v == "no-store");
    let bytes = answer.bytes().await.unwrap();
    assert!(no_store || status == 404, "{path} answered {status} without Cache-Control: no-store");
    let route = format!("{} {}", parts.method, parts.uri.path());
    let before = p.seen.lock().unwrap().insert(route, (path.to_owned(), status, bytes.clone()));
    let (status, bytes) = match (fault, before) {
        (Fault::Replay, Some((asked, old_status, old))) if asked != path => (old_status, old),
        _ => (status, bytes),
    };
    let mut out = axum::response::Response::builder().status(status);
    if let Some(ct) = content_type {
        out = out.header("content-type", ct);
    }
    let half = bytes.slice(..bytes.len() / 2);
    match fault {
        Fault::CutMidBody => {
            let chunks: Vec<Result<bytes::Bytes, std::io::Error>> =
                vec![Ok(half), Err(std::io::Error::other("the proxy cut the connection"))];
            out.header("content-length", bytes.len())
                .body(Body::from_stream(futures_util::stream::iter(chunks)))
        }
        Fault::Truncate => out.body(Body::from(half)),
        _ => out.body(Body::from(bytes)),
    }
    .unwrap()
}

/// The app (the client library on its encrypted store) syncs through a proxy that delays,
/// cuts, truncates and replays the server's answers, while a coach writes between its syncs and
/// it sends feedback. Each sync either ends complete (the store holds what the server holds) or
/// fails with a code the person gets a clear message for, its cursor never moved back and
/// nothing in the store that the server does not have; once the proxy behaves, one sync brings
/// everything and every feedback is stored exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_through_a_proxy_that_breaks_answers_ends_whole_or_not_at_all() {
    use cjg_client::{SyncOptions, UiCode};
    let server = TestServer::start().unwrap();
    let (via, proxy) = Proxy::start(&server).await;

    let dir = tempfile::tempdir().unwrap();
    let mut store = cjg_client::enrol(
        &via,
        &server.code_for("Sanne"),
        &cjg_core::validate::Pin::parse(cjg_tests::PIN).unwrap(),
        &[7; 32],
        cjg_store::PinMode::Keychain,
        &dir.path().join("sanne.db"),
        "test",
    )
    .await
    .unwrap();
    // Small pages, so one sync is several requests and a fault can land between two of them.
    let options = SyncOptions { page_limit: Some(3), ..SyncOptions::default() };
    cjg_client::sync(&mut store, &options, |_| {}).await.unwrap();
    let titles = |store: &cjg_store::Store| -> Vec<String> {
        let mut t: Vec<String> = store.entries().unwrap().into_iter().map(|e| e.title).collect();
        t.sort();
        t
    };
    let mut truth = titles(&store);
    let about = store.entries().unwrap()[0].id;
    let coach = server.staff().await.unwrap();
    let dossier = coach.dossier_id(&server.db()).await;

    proxy.faulty.store(true, Ordering::SeqCst);
    let (mut whole, mut failed) = (0, BTreeMap::<&'static str, usize>::new());
    let mut sent = Vec::new();
    for round in 0..12 {
        for i in 0..4 {
            let title = format!("Door de proxy {round}-{i}");
            coach
                .create_entry(dossier, &family_entry(EntryKind::Afspraak, &title, "Kort.", "2026-12-01"))
                .await
                .unwrap();
            truth.push(title);
        }
        truth.sort();
        let draft = cjg_core::feedback::FeedbackDraft {
            id: uuid::Uuid::new_v4(),
            entry_id: about,
            kind: FeedbackKind::Vraag,
            text: format!("Vraag door de proxy {round}"),
        };
        store.enqueue_feedback(&draft).unwrap();
        sent.push(draft.text);

        let (cursor_before, held_before) = (store.cursor().unwrap(), titles(&store));
        match cjg_client::sync(&mut store, &options, |_| {}).await {
            Ok(_) => {
                whole += 1;
                assert_eq!(titles(&store), truth, "a sync that ended well holds everything");
            }
            Err(e) => {
                // What the person reads: no connection, a strange answer, or (a challenge served
                // twice in a row) signing in did not work; each says to try again.
                let code = match e.to_ui().code {
                    UiCode::ServerUnreachable => "server_unreachable",
                    UiCode::ServerInvalidResponse => "server_invalid_response",
                    UiCode::Unauthenticated => "unauthenticated",
                    _ => panic!("a broken answer gave {e:?}, not a network or answer error"),
                };
                *failed.entry(code).or_default() += 1;
                assert!(store.cursor().unwrap() >= cursor_before, "the cursor went back");
                let held = titles(&store);
                assert!(held_before.iter().all(|t| held.contains(t)), "the store lost entries");
                assert!(held.iter().all(|t| truth.contains(t)), "the store holds what the server has not");
                let mut unique = held.clone();
                unique.dedup();
                assert_eq!(unique, held, "an entry twice");
            }
        }
        let audit = store.audit_state().unwrap();
        assert!(audit.warnings.is_empty(), "a broken answer is not a broken access log: {audit:?}");
    }
    proxy.faulty.store(false, Ordering::SeqCst);
    cjg_client::sync(&mut store, &options, |_| {}).await.unwrap();
    assert_eq!(titles(&store), truth);
    assert!(store.outbox().unwrap().is_empty());
    for text in &sent {
        let n: i64 = server
            .db()
            .query_row("SELECT COUNT(*) FROM feedback WHERE text = ?1", [text.clone()], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1, "{text} stored once");
    }
    eprintln!(
        "through the proxy: {whole} syncs whole, failed {failed:?}; faults applied {:?}",
        proxy.applied.lock().unwrap()
    );
    assert!(!failed.is_empty(), "the proxy broke no sync: the test proves nothing");
}

/// An open app hears of a coach's message, and the sync it starts is cut off by the proxy twice.
/// It reports the failure, then tries again by itself after a growing wait (connecting again,
/// which syncs), and the message arrives without a new signal or the quiet sync.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_after_a_signal_that_fails_is_tried_again_after_a_wait() {
    let server = TestServer::start().unwrap();
    let (via, proxy) = Proxy::start(&server).await;
    let (_dir, sanne) = cjg_tests::enrolled_app_via(&server, &via, "Sanne").await;
    let sanne = Arc::new(sanne);
    let (mut heard, _task) = cjg_tests::listening(&sanne);
    let within = Duration::from_secs(10);
    cjg_tests::next_heard(&mut heard, within).await.expect("connected");

    proxy.cut_pages.store(2, Ordering::SeqCst);
    let coach = server.staff().await.unwrap();
    let sanne_id = cjg_tests::person_id(&server.db(), "Sanne Voorbeeld");
    let sent_at = std::time::Instant::now();
    assert_eq!(coach.send_message(&sanne_id, "Komt aan, ook na een storing.").await.unwrap().status(), 201);
    let mut failures = Vec::new();
    let news = loop {
        let report = tokio::time::timeout(within, heard.recv())
            .await
            .expect("the app tried again within 10 s, without a new signal")
            .expect("still listening");
        match report {
            Err(code) => failures.push(code),
            Ok(news) => break news,
        }
    };
    assert_eq!(failures, ["server_unreachable", "server_unreachable"], "each cut sync was reported");
    assert_eq!(news.messages, 1);
    assert_eq!(proxy.cut_pages.load(Ordering::SeqCst), 0);
    eprintln!("the message arrived {:?} after it was sent, past two cut syncs", sent_at.elapsed());
}

/// Runs `cjg-fault-app` on `store` and kills it (SIGKILL) once `kill_when` says so about a line
/// it printed and `then` more milliseconds passed. Whether it finished first.
async fn app_process_killed(store: &std::path::Path, kill_when: impl Fn(&str) -> bool, then: u64) -> bool {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cjg-fault-app"))
        .arg(store)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut finished = false;
    while let Some(line) =
        tokio::time::timeout(Duration::from_secs(120), rx.recv()).await.expect("the app speaks")
    {
        if line == "done" {
            finished = true;
            break;
        }
        if kill_when(&line) {
            tokio::time::sleep(Duration::from_millis(then)).await;
            break;
        }
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(finished || status.code().is_none() || status.success(), "the app failed by itself: {status}");
    finished
}

fn open_store(path: &std::path::Path) -> cjg_store::Store {
    let pin = cjg_core::validate::Pin::parse(cjg_tests::PIN).unwrap();
    let secrets =
        cjg_store::PinSecrets::new(cjg_store::PinMode::Keychain, &cjg_tests::DEVICE_SECRET, None).unwrap();
    cjg_store::LockedStore::open(path)
        .unwrap()
        .unlock(&pin, &secrets)
        .expect("the store opens after the kill")
}

/// The app's process killed (SIGKILL) three times during the first sync of a large family, at
/// random moments after a random page: each time the store opens, holds no entry twice and
/// the next sync resumes; in the end it holds exactly what the server has and its access log
/// verifies. A page half written, with the cursor moved past it, would leave entries out for
/// good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_killed_during_a_large_first_sync_resumes_and_misses_nothing() {
    let mut moments = Moments::from_env();
    let server = TestServer::start().unwrap();
    let out = server
        .cli()
        .args(["seed-load", "--families", "1", "--entries", "1500", "--log-lines", "1500"])
        .output()
        .unwrap();
    assert!(out.status.success(), "seed-load: {}", String::from_utf8_lossy(&out.stderr));
    let parent: String = server
        .db()
        .query_row("SELECT id FROM people WHERE display_name LIKE 'Ouder Last %'", params![], |r| r.get(0))
        .unwrap();
    let coach = server.staff().await.unwrap();
    let code = coach.activation_code(&parent).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("groot.db");
    let pin = cjg_core::validate::Pin::parse(cjg_tests::PIN).unwrap();
    let store = cjg_client::enrol(
        &server.url,
        &code,
        &pin,
        &cjg_tests::DEVICE_SECRET,
        cjg_store::PinMode::Keychain,
        &path,
        "test",
    )
    .await
    .unwrap();
    drop(store);

    let mut held = Vec::new();
    for _ in 0..3 {
        let after_page = moments.between(1, 6);
        let wait = moments.between(0, 120);
        let finished = app_process_killed(&path, |l| l == format!("page {after_page}"), wait).await;
        let store = open_store(&path);
        let ids: Vec<uuid::Uuid> = store.entries().unwrap().into_iter().map(|e| e.id).collect();
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), ids.len(), "an entry twice");
        assert!(ids.len() >= held.last().copied().unwrap_or(0), "entries lost by a kill");
        assert!(store.audit_state().unwrap().warnings.is_empty());
        held.push(ids.len());
        if finished {
            break;
        }
    }
    let mut store = open_store(&path);
    cjg_client::sync(&mut store, &cjg_client::SyncOptions::default(), |_| {}).await.unwrap();
    let dossier: String = server
        .db()
        .query_row("SELECT dossier_id FROM people WHERE id = ?1", params![parent], |r| r.get(0))
        .unwrap();
    let on_server: i64 = server
        .db()
        .query_row(
            "SELECT COUNT(*) FROM entries WHERE dossier_id = ?1 AND deleted = 0",
            params![dossier],
            |r| r.get(0),
        )
        .unwrap();
    eprintln!("entries held after each kill: {held:?}, of {on_server}");
    assert_eq!(store.entries().unwrap().len() as i64, on_server, "every entry, once");
    let audit = store.audit_state().unwrap();
    assert!(audit.warnings.is_empty() && audit.size > 1500, "the whole access log, verified: {}", audit.size);
}

/// The app's process killed while it sends its outbox (180 messages and feedback written
/// while the server was away), three times at random moments: nothing queued is lost, nothing
/// arrives twice, and a questionnaire draft saved before is still there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_killed_while_sending_its_outbox_loses_and_doubles_nothing() {
    let mut moments = Moments::from_env();
    let data = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_in(data.path(), "127.0.0.1:0", &[]).unwrap();
    let listen = server.url.trim_start_matches("http://").to_owned();
    let coach = server.staff().await.unwrap();
    let dossier = coach.dossier_id(&server.db()).await;
    close_today(&coach, dossier).await;
    let dir = tempfile::tempdir().unwrap();
    let mut store = cjg_tests::enrolled_store(&server, "Sanne", dir.path()).await;
    let path = store.path().to_owned();
    cjg_client::sync(&mut store, &cjg_client::SyncOptions::default(), |_| {}).await.unwrap();
    let task = store.questionnaires().unwrap().into_iter().next().expect("a closing questionnaire");
    let draft = cjg_store::Draft {
        task_id: task.id,
        version: task.definition.version,
        answers: [("cijfer_algemeen".to_owned(), Answer::Rating(4))].into_iter().collect(),
        saved_at: chrono::Utc::now(),
    };
    store.save_draft(&draft).unwrap();
    let about = store.entries().unwrap()[0].id;

    server.stop();
    let mut texts = Vec::new();
    for i in 0..150 {
        let text = format!("Offline geschreven bericht {i}");
        let m = cjg_core::message::MessageDraft { id: uuid::Uuid::new_v4(), text: text.clone() };
        store.enqueue(&cjg_store::OutboxItem::Message(m)).unwrap();
        texts.push(("messages", text));
    }
    for i in 0..30 {
        let text = format!("Offline geschreven reactie {i}");
        let f = cjg_core::feedback::FeedbackDraft {
            id: uuid::Uuid::new_v4(),
            entry_id: about,
            kind: FeedbackKind::Aanvulling,
            text: text.clone(),
        };
        store.enqueue_feedback(&f).unwrap();
        texts.push(("feedback", text));
    }
    drop(store);
    server = TestServer::start_in(data.path(), &listen, &[]).unwrap();

    let mut left = Vec::new();
    for round in 0..3 {
        // The first kill soon after the start, so it lands in the middle of the sending.
        let wait = moments.between(0, if round == 0 { 60 } else { 300 });
        app_process_killed(&path, |l| l == "unlocked", wait).await;
        left.push(open_store(&path).outbox().unwrap().len());
    }
    let mut store = open_store(&path);
    cjg_client::sync(&mut store, &cjg_client::SyncOptions::default(), |_| {}).await.unwrap();
    eprintln!("outbox after each kill: {left:?} of 180");
    assert!(store.outbox().unwrap().is_empty());
    for (table, text) in &texts {
        let n: i64 = server
            .db()
            .query_row(&format!("SELECT COUNT(*) FROM {table} WHERE text = ?1"), [text.clone()], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1, "{text} arrived once");
    }
    assert_eq!(store.draft(task.id).unwrap().map(|d| d.answers), Some(draft.answers), "the draft is kept");
}

/// The server's disk fills up while a coach writes (every file it writes is limited in size, see
/// [`TestServer::start_in_with_file_limit`]). The write that does not fit is refused with a
/// clear code and not half stored; reads and the app go on; a message from the app waits in its
/// outbox. Once space returns, writing works again, nothing is corrupt and every chain verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_writes_clearly_and_service_returns_with_the_space() {
    if cjg_tests::on_postgres() {
        // A full disk under PostgreSQL is PostgreSQL's to refuse; the server passes its error on.
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_in(data.path(), "127.0.0.1:0", &[]).unwrap();
    let listen = server.url.trim_start_matches("http://").to_owned();
    let (_dir, sanne) = cjg_tests::enrolled_app(&server, "Sanne").await;
    server.stop();
    let db_path = data.path().join("cjg-server.db");
    rusqlite::Connection::open(&db_path).unwrap().execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
    let size = std::fs::metadata(&db_path).unwrap().len();
    server = TestServer::start_in_with_file_limit(data.path(), &listen, size + 256 * 1024).unwrap();

    let coach = server.staff().await.unwrap();
    let dossier = coach.dossier_id(&server.db()).await;
    let body = "Een lange tekst over de afspraken van deze week. ".repeat(80);
    let mut stored = Vec::new();
    let mut refused = None;
    let started = std::time::Instant::now();
    for i in 0..2000 {
        let title = format!("Voor een volle schijf {i}");
        let draft = family_entry(EntryKind::Gespreksverslag, &title, &body, "2026-12-01");
        let resp = coach
            .req(reqwest::Method::POST, &format!("/v1/staff/dossiers/{dossier}/entries"))
            .json(&draft)
            .send()
            .await
            .unwrap();
        if resp.status().is_success() {
            stored.push(title);
        } else {
            let status = resp.status().as_u16();
            refused = Some((title, status, resp.json::<serde_json::Value>().await.unwrap()));
            break;
        }
    }
    let (refused_title, status, answer) = refused.expect("the disk filled up");
    eprintln!("full after {:?}", started.elapsed());
    eprintln!("{} entries stored, then {status} {answer}", stored.len());
    assert!(!stored.is_empty());
    assert_eq!((status, answer["error"]["code"].as_str()), (503, Some("storage_unavailable")));
    assert!(!answer.to_string().contains("afspraken"), "no dossier text in the error");

    // Small writes until they do not fit either: the disk is full for a message too.
    for i in 0..500 {
        let draft = family_entry(EntryKind::Afspraak, &format!("Klein {i}"), "K.", "2026-12-01");
        let resp = coach
            .req(reqwest::Method::POST, &format!("/v1/staff/dossiers/{dossier}/entries"))
            .json(&draft)
            .send()
            .await
            .unwrap();
        if !resp.status().is_success() {
            assert_eq!(resp.status(), 503);
            break;
        }
        stored.push(format!("Klein {i}"));
    }

    // Still serving what needs no space.
    assert!(reqwest::get(format!("{}/v1/health", server.url)).await.unwrap().status().is_success());
    // A coach may not read without the line in the family's access log that says so: a read is
    // refused with the same code when that line does not fit, and served only with its line.
    let lines = || -> i64 {
        server
            .db()
            .query_row(
                "SELECT COUNT(*) FROM audit_events WHERE dossier_id = ?1",
                [dossier.to_string()],
                |r| r.get(0),
            )
            .unwrap()
    };
    let before = lines();
    let read = coach
        .req(reqwest::Method::GET, &format!("/v1/staff/dossiers/{dossier}/entries"))
        .send()
        .await
        .unwrap();
    match read.status().as_u16() {
        503 => assert_eq!(lines(), before, "no line without the read"),
        200 => assert!(lines() > before, "a read served without its access-log line"),
        other => panic!("a coach's read on a full disk answered {other}"),
    }
    let t = std::time::Instant::now();
    let synced = sanne.sync(|_| {}).await;
    eprintln!("the app's sync while full: {:?} in {:?}", synced.as_ref().map_err(|e| e.code()), t.elapsed());
    assert!(
        synced.as_ref().map_or_else(
            |e| matches!(
                e,
                cjg_client::ClientError::Api { code: cjg_core::ErrorCode::StorageUnavailable, status: 503 }
            ),
            |_| true
        ),
        "the app reads on, or waits: {synced:?}"
    );
    // Kept in the outbox while the server cannot store it (or, should it just fit, stored):
    // either way no error for the person, and it arrives once.
    let sent = sanne.send_message("Geschreven toen de schijf vol was.").await.unwrap();
    eprintln!("the app's message while full: sent = {}", sent.sent);
    let ready = reqwest::get(format!("{}/v1/ready", server.url)).await.unwrap();
    eprintln!("ready while full: {}", ready.status());

    server.lift_file_limit();
    let draft = family_entry(EntryKind::Afspraak, "Na de volle schijf", "Kort.", "2026-12-02");
    coach.create_entry(dossier, &draft).await.expect("writing works again");
    stored.push("Na de volle schijf".into());
    sanne.sync(|_| {}).await.unwrap();
    let waiting = sanne.berichten().await.unwrap().messages.iter().filter(|m| m.created_at.is_none()).count();
    assert_eq!(waiting, 0, "the message left the outbox");
    let n: i64 = server
        .db()
        .query_row(
            "SELECT COUNT(*) FROM messages WHERE text = ?1",
            ["Geschreven toen de schijf vol was."],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 1);
    let in_app: Vec<String> = sanne.dossier().await.unwrap().entries.into_iter().map(|e| e.title).collect();
    for title in &stored {
        assert_eq!(in_app.iter().filter(|t| *t == title).count(), 1, "{title} in the app once");
    }
    assert!(!in_app.contains(&refused_title), "the refused entry is not half stored");
    let check: String = rusqlite::Connection::open(&db_path)
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let out = server.cli().arg("verify-audit").env("RUST_LOG", "error").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}
