//! "Sync now": an open app keeps one connection to the real server and syncs when told, so a
//! coach's message shows without waiting for the quiet sync. The signal reaches only the
//! people the change is for, and the connection ends when the app locks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use cjg_client::app::News;
use cjg_core::entry::{EntryKind, Visibility};
use cjg_tests::{family_entry, listening as listen, next_heard as next, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coach_message_reaches_an_open_app_at_once_and_only_its_person() {
    let server = TestServer::start().unwrap();
    let coach = server.staff().await.unwrap();
    let dossier = coach.dossier_id(&server.db()).await;
    let (_dir, sanne) = cjg_tests::enrolled_app(&server, "Sanne").await;
    let sanne = Arc::new(sanne);
    let (mut heard, task) = listen(&sanne);
    // Connected: the app syncs once for what it missed while not listening.
    assert_eq!(next(&mut heard, Duration::from_secs(10)).await, Some(News::default()));

    let sanne_id = cjg_tests::person_id(&server.db(), "Sanne Voorbeeld");
    let sent = Instant::now();
    assert!(coach
        .send_message(&sanne_id, "Ik bel u morgen om tien uur.")
        .await
        .unwrap()
        .status()
        .is_success());
    let news = next(&mut heard, Duration::from_secs(10)).await.expect("a signal within seconds");
    eprintln!("from the coach's message to the app's finished sync: {:?}", sent.elapsed());
    assert_eq!(news, News { messages: 1, tasks: 0 });
    let berichten = sanne.berichten().await.unwrap();
    assert!(berichten.messages.iter().any(|m| m.text == "Ik bel u morgen om tien uur."));

    // A work note for staff only: nothing of it may reach the family, not even a signal whose
    // moment would tell that the coach wrote something.
    let mut note =
        family_entry(EntryKind::Gespreksverslag, "Werkaantekening", "Alleen voor het team.", "2026-11-30");
    note.visibility = Some(Visibility::StaffOnly);
    coach.create_entry(dossier, &note).await.unwrap();
    assert_eq!(next(&mut heard, Duration::from_millis(1500)).await, None, "no signal for a hidden entry");

    // A family entry wakes her again.
    let entry =
        family_entry(EntryKind::Afspraak, "Nieuwe afspraak", "We zien elkaar donderdag.", "2026-11-30");
    let created = coach.create_entry(dossier, &entry).await.unwrap();
    assert!(next(&mut heard, Duration::from_secs(10)).await.is_some());
    assert!(sanne.dossier().await.unwrap().entries.iter().any(|e| e.title == "Nieuwe afspraak"));

    // The coach makes it a work note after all. Sanne is not woken (the change is not hers to
    // see), and her next sync takes the entry away: the server looks at the changed entry
    // again, though her ledger was current a moment ago.
    let mut hidden = entry.clone();
    hidden.visibility = Some(Visibility::StaffOnly);
    assert_eq!(coach.update_entry(created.id, created.version, &hidden).await.unwrap().status(), 200);
    assert_eq!(next(&mut heard, Duration::from_millis(1500)).await, None, "no signal for hiding it");
    sanne.sync(|_| {}).await.unwrap();
    assert!(!sanne.dossier().await.unwrap().entries.iter().any(|e| e.title == "Nieuwe afspraak"));

    // Locking ends the connection and the listening.
    sanne.lock().await;
    tokio::time::timeout(Duration::from_secs(5), task).await.expect("listening ends at lock").unwrap();
}

/// A server that goes away and comes back: the app connects again by itself and fetches what
/// it missed meanwhile, as the cursor says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_connects_again_after_the_server_restarts() {
    let data = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_in(data.path(), "127.0.0.1:0", &[]).unwrap();
    let listen_at = server.url.trim_start_matches("http://").to_owned();
    let (_dir, sanne) = cjg_tests::enrolled_app(&server, "Sanne").await;
    let sanne = Arc::new(sanne);
    let (mut heard, _task) = listen(&sanne);
    assert!(next(&mut heard, Duration::from_secs(10)).await.is_some());

    server.stop();
    server = TestServer::start_in(data.path(), &listen_at, &[]).unwrap();
    let coach = server.staff().await.unwrap();
    let sanne_id = cjg_tests::person_id(&server.db(), "Sanne Voorbeeld");
    assert!(coach.send_message(&sanne_id, "Bent u er weer?").await.unwrap().status().is_success());
    // The first retry waits at most a second, then the app syncs on connecting.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let news = next(&mut heard, Duration::from_secs(20)).await.expect("the app came back");
        if news.messages == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "the message never arrived");
    }
}
