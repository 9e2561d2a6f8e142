//! Two server instances on one database, behind a load balancer: what must be unique or
//! ordered is decided by the database, not by a process. The app syncs through the balancer
//! while a coach writes on both instances at once; every entry arrives exactly once. Requests
//! sent to both instances at the same moment (a retry that lands twice) are stored once. The
//! audit chain of the dossier, appended to from both instances, stays whole. On SQLite, two
//! processes on one file wait their turn to write.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use cjg_core::feedback::FeedbackKind;
use cjg_tests::{family_entry, params, EntryKind, TestServer, PIN};

const PER_INSTANCE: usize = 20;

/// The path and the status each instance answered, of one mirrored request.
type Mirrored = (String, [u16; 2]);

#[derive(Clone)]
struct Balancer {
    backends: Arc<[String; 2]>,
    next: Arc<Mutex<usize>>,
    /// While set, every POST goes to both instances at once.
    mirror: Arc<AtomicBool>,
    mirrored: Arc<Mutex<Vec<Mirrored>>>,
    http: reqwest::Client,
}

async fn send(
    b: &Balancer,
    backend: &str,
    parts: &axum::http::request::Parts,
    body: bytes::Bytes,
) -> Response {
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut req = b.http.request(parts.method.clone(), format!("{backend}{path}")).body(body);
    for (name, value) in &parts.headers {
        if name == "authorization" || name == "content-type" || name.as_str().starts_with("x-") {
            req = req.header(name, value);
        }
    }
    let resp = req.send().await.unwrap();
    let mut out = Response::builder().status(resp.status().as_u16());
    if let Some(ct) = resp.headers().get("content-type") {
        out = out.header("content-type", ct);
    }
    out.body(Body::from(resp.bytes().await.unwrap())).unwrap()
}

async fn forward(State(b): State<Balancer>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 16 << 20).await.unwrap();
    if parts.method == axum::http::Method::POST && b.mirror.load(Ordering::SeqCst) {
        let (first, second) = tokio::join!(
            send(&b, &b.backends[0], &parts, body.clone()),
            send(&b, &b.backends[1], &parts, body)
        );
        let statuses = [first.status().as_u16(), second.status().as_u16()];
        b.mirrored.lock().unwrap().push((parts.uri.path().to_owned(), statuses));
        // The app gets the better answer, as it would from whichever instance it reached.
        return if statuses[0] <= statuses[1] { first } else { second };
    }
    let backend = {
        let mut next = b.next.lock().unwrap();
        *next += 1;
        b.backends[*next % 2].clone()
    };
    send(&b, &backend, &parts, body).await
}

async fn balancer(b: Balancer) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(forward).with_state(b);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

fn count(server: &TestServer, query: &str, arg: &str) -> i64 {
    server.db().query_row(query, [arg], |r| r.get(0)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_behind_a_balancer_lose_and_duplicate_nothing() {
    if !cjg_tests::on_postgres() {
        eprintln!("skipped: several instances share a PostgreSQL database (set CJG_TEST_POSTGRES)");
        return;
    }
    let a = TestServer::start().unwrap();
    // The second instance: the same database and the same audit key (the same data directory).
    let b = TestServer::start_in(&a.data_dir, "127.0.0.1:0", &[]).unwrap();
    let lb = Balancer {
        backends: Arc::new([a.url.clone(), b.url.clone()]),
        next: Arc::default(),
        mirror: Arc::default(),
        mirrored: Arc::default(),
        http: reqwest::Client::new(),
    };
    let via = balancer(lb.clone()).await;

    // Enrolment is a code, a challenge and a token: each may land on either instance.
    let dir = tempfile::tempdir().unwrap();
    let app = cjg_tests::app(dir.path());
    app.enrol(&via, &a.code_for("Sanne"), PIN, PIN, "").await.unwrap();
    app.sync(|_| {}).await.unwrap();
    let before = app.dossier().await.unwrap().entries.len();

    // One coach signed in on each instance writes into the same dossier at the same time, while
    // the app keeps syncing through the balancer. A cursor handed out ahead of an earlier commit
    // would skip an entry for good.
    let coaches = [a.staff().await.unwrap(), b.staff().await.unwrap()];
    let dossier = coaches[0].dossier_id(&a.db()).await;
    let done = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for (n, coach) in coaches.into_iter().enumerate() {
        writers.push(tokio::spawn(async move {
            for i in 0..PER_INSTANCE {
                let title = format!("Afspraak {n}-{i}");
                let draft =
                    family_entry(EntryKind::Afspraak, &title, "De coach belt volgende week.", "2026-11-30");
                coach.create_entry(dossier, &draft).await.unwrap();
            }
        }));
    }
    let watcher = {
        let done = done.clone();
        tokio::spawn(async move {
            for w in writers {
                w.await.unwrap();
            }
            done.store(true, Ordering::SeqCst);
        })
    };
    let mut syncs = 0;
    while !done.load(Ordering::SeqCst) {
        app.sync(|_| {}).await.unwrap();
        syncs += 1;
    }
    watcher.await.unwrap();
    app.sync(|_| {}).await.unwrap();
    let titles: Vec<String> = app.dossier().await.unwrap().entries.iter().map(|e| e.title.clone()).collect();
    assert_eq!(titles.len(), before + 2 * PER_INSTANCE, "after {syncs} syncs during the writing");
    for n in 0..2 {
        for i in 0..PER_INSTANCE {
            let t = format!("Afspraak {n}-{i}");
            assert_eq!(titles.iter().filter(|x| **x == t).count(), 1, "{t} exactly once");
        }
    }

    // Now every POST reaches both instances at the same moment.
    lb.mirror.store(true, Ordering::SeqCst);
    let entry = app.dossier().await.unwrap().entries[0].id;
    let sent = app.send_feedback(entry, FeedbackKind::Akkoord, "Dit klopt, dank je wel.").await.unwrap();
    assert!(sent.sent);
    assert!(app.send_message("Kunnen we donderdag bellen?").await.unwrap().sent);
    // A second family member enrols with one code that both instances receive.
    let karim_dir = tempfile::tempdir().unwrap();
    let karim = cjg_tests::app(karim_dir.path());
    karim.enrol(&via, &a.code_for("Karim"), PIN, PIN, "").await.unwrap();
    karim.sync(|_| {}).await.unwrap();
    lb.mirror.store(false, Ordering::SeqCst);

    let mirrored = lb.mirrored.lock().unwrap().clone();
    let statuses = |path: &str| -> Vec<[u16; 2]> {
        mirrored.iter().filter(|(p, _)| p == path).map(|(_, s)| *s).collect()
    };
    for [x, y] in statuses("/v1/me/feedback").into_iter().chain(statuses("/v1/me/messages")) {
        let mut pair = [x, y];
        pair.sort_unstable();
        assert_eq!(pair, [200, 201], "one instance stores it, the other recognises it: {mirrored:?}");
    }
    assert_eq!(statuses("/v1/enrol").len(), 1, "{mirrored:?}");
    let [x, y] = statuses("/v1/enrol")[0];
    assert!(x < 300 || y < 300, "one instance enrols");
    assert!(x >= 400 || y >= 400, "the other refuses the used code: {x} {y}");
    assert_eq!(count(&a, "SELECT COUNT(*) FROM feedback WHERE text = ?1", "Dit klopt, dank je wel."), 1);
    assert_eq!(count(&a, "SELECT COUNT(*) FROM messages WHERE text = ?1", "Kunnen we donderdag bellen?"), 1);
    let karim_id = cjg_tests::person_id(&a.db(), "Karim Voorbeeld");
    assert_eq!(count(&a, "SELECT COUNT(*) FROM devices WHERE person_id = ?1", &karim_id), 1);

    // The chain, appended to from both instances: no gap, no fork, verified by the app and the
    // admin command.
    let (lines, last): (i64, i64) = a
        .db()
        .query_row(
            "SELECT COUNT(*), MAX(position) FROM audit_events WHERE dossier_id = ?1",
            [dossier.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(lines, last);
    assert!(lines >= 2 * PER_INSTANCE as i64);
    assert!(app.inzage().await.unwrap().warning.is_none());
    let out = a.cli().arg("verify-audit").env("RUST_LOG", "error").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let seq_rows: i64 =
        a.db().query_row("SELECT COUNT(*) FROM seq_counter", params![], |r| r.get(0)).unwrap();
    assert_eq!(seq_rows, 1);
}

/// Two processes on one SQLite file (a second instance starting beside a running one, or the
/// admin command beside the server) write at the same moment. A write transaction that read
/// first and then met the other's commit used to fail at once with "database is locked"
/// instead of waiting its turn: here the second instance's demo check at start.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_write_waits_while_another_process_writes_the_sqlite_file() {
    if cjg_tests::on_postgres() {
        return;
    }
    let a = TestServer::start().unwrap();
    let other = rusqlite::Connection::open(a.data_dir.join("cjg-server.db")).unwrap();
    other.execute_batch("BEGIN IMMEDIATE; UPDATE seq_counter SET value = value + 0 WHERE id = 1;").unwrap();
    let data_dir = a.data_dir.clone();
    let second = tokio::task::spawn_blocking(move || TestServer::start_in(&data_dir, "127.0.0.1:0", &[]));
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    other.execute_batch("COMMIT").unwrap();
    let b = second.await.unwrap().expect("the second instance starts once the other process is done");
    let coach = b.staff().await.unwrap();
    let dossier = coach.dossier_id(&b.db()).await;
    let draft = family_entry(EntryKind::Afspraak, "Afspraak", "De coach belt volgende week.", "2026-11-30");
    coach.create_entry(dossier, &draft).await.unwrap();
}

/// An app listening on one instance hears about a message written on another: the signal
/// travels through the database (NOTIFY), not through the process that took the write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_on_one_instance_wakes_an_app_listening_on_another() {
    if !cjg_tests::on_postgres() {
        eprintln!("skipped: several instances share a PostgreSQL database (set CJG_TEST_POSTGRES)");
        return;
    }
    let a = TestServer::start().unwrap();
    let b = TestServer::start_in(&a.data_dir, "127.0.0.1:0", &[]).unwrap();
    let (_dir, sanne) = cjg_tests::enrolled_app(&b, "Sanne").await;
    let sanne = Arc::new(sanne);
    let (mut heard, _task) = cjg_tests::listening(&sanne);
    let within = std::time::Duration::from_secs(10);
    cjg_tests::next_heard(&mut heard, within).await.expect("connected");

    let coach = a.staff().await.unwrap();
    let sanne_id = cjg_tests::person_id(&a.db(), "Sanne Voorbeeld");
    assert_eq!(coach.send_message(&sanne_id, "Via de andere server.").await.unwrap().status(), 201);
    let news = cjg_tests::next_heard(&mut heard, within).await.expect("a signal from the other instance");
    assert_eq!(news.messages, 1);
}

/// On PostgreSQL, a write to one dossier does not wait for a write to another (issue 19: the
/// one counter row every write locked made two instances write no faster than one), and still
/// waits for a write to its own dossier, which orders its feed and its chain. A transaction
/// of the server's own storage code holds dossier Voorbeeld open, as a slow writer would.
/// With the old lock (or `Order::Region` here) the coach of the other family waits too.
#[tokio::test]
async fn a_write_to_one_dossier_does_not_wait_for_another() {
    use cjg_server::db::sql::{Conn, Order};
    use std::time::Duration;
    let server = TestServer::start().unwrap();
    let Some(url) = server.database_url() else { return };
    let fleur = server.staff().await.unwrap();
    let voorbeeld = fleur.dossier_id(&server.db()).await;
    let other = server.staff_as("coach2").await.unwrap();
    let proef: String = server
        .db()
        .query_row("SELECT id FROM dossiers WHERE family_name = 'Proef'", params![], |r| r.get(0))
        .unwrap();
    let proef = uuid::Uuid::parse_str(&proef).unwrap();

    let (held_tx, held) = std::sync::mpsc::channel();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let mut conn = Conn::connect_postgres(&url).unwrap();
        let tx = conn.transaction_for(Order::Dossier(voorbeeld)).unwrap();
        held_tx.send(()).unwrap();
        released.recv().unwrap();
        tx.commit().unwrap();
    });
    held.recv().unwrap();

    let fleur_writes = tokio::spawn(async move {
        let draft = family_entry(EntryKind::Afspraak, "Wacht op de andere schrijver", "Kort.", "2026-01-05");
        fleur.create_entry(voorbeeld, &draft).await.unwrap()
    });
    let draft = family_entry(EntryKind::Afspraak, "Schrijft naast de ander", "Kort.", "2026-01-05");
    let beside = tokio::time::timeout(Duration::from_secs(20), other.create_entry(proef, &draft)).await;
    assert!(beside.is_ok_and(|r| r.is_ok()), "the write to Proef waited for the one to Voorbeeld");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!fleur_writes.is_finished(), "a second write to Voorbeeld did not wait for the first");

    release.send(()).unwrap();
    holder.join().unwrap();
    let entry = tokio::time::timeout(Duration::from_secs(20), fleur_writes).await.unwrap().unwrap();
    assert_eq!(entry.title, "Wacht op de andere schrijver");
    let out = server.cli().arg("verify-audit").env("RUST_LOG", "error").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    // An instance of an older release, still running during an upgrade, counts in the retired
    // row: its writes are refused rather than numbered twice.
    let old = server.db().execute("UPDATE seq_counter SET value = value + 1 WHERE id = 1", params![]);
    assert!(old.is_err(), "the retired counter row still takes numbers");
}
