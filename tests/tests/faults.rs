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
use cjg_core::questionnaire::{Agree, Answer, Answers, Phase};
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

fn closing_answers() -> Answers {
    [
        ("zelf_verder", Answer::Agree(Agree::Eens)),
        ("eigen_plan", Answer::Agree(Agree::Eens)),
        ("betrokken", Answer::Agree(Agree::Nvt)),
        ("samenwerking", Answer::Agree(Agree::Oneens)),
        ("cijfer_algemeen", Answer::Rating(4)),
        ("cijfer_coach", Answer::Rating(5)),
        ("cijfer_hulp", Answer::Rating(4)),
        ("tip", Answer::Text("Ingevuld terwijl de server viel.".into())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
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
    let today = cjg_core::time::dutch_date(chrono::Utc::now());
    let started = today - chrono::Duration::days(118);
    let r = coach
        .set_trajectory(
            dossier,
            json!({"started_on": started, "closed_on": today, "municipality": "Demostad", "team": "Team Noord"}),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
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
                noor.submit_questionnaire(closing.id, closing_answers()).await.unwrap();
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
