//! Backups that restore (issue 23, part 4): `cjg-server backup` copies the SQLite database while
//! the server serves and a coach writes; `cjg-server restore` puts it into an empty data
//! directory with its audit signing key; the server started on it serves the same families,
//! every chain verifies, and an enrolled app syncs on as if nothing happened.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Output;

use cjg_core::EntryKind;
use cjg_tests::{family_entry, server_command, TestServer};

fn restore(data_dir: &Path, from: &Path, key: Option<&Path>) -> Output {
    let (mut command, _) = server_command(data_dir).unwrap();
    command.args(["restore", "--from"]).arg(from);
    if let Some(key) = key {
        command.arg("--audit-key").arg(key);
    }
    command.output().unwrap()
}

fn said(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

// Two worker threads: the coach's writes go on while the backup command runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_made_while_serving_restores_and_the_app_syncs_on() {
    if cjg_tests::on_postgres() {
        // PostgreSQL is backed up with its own tools (README, "Backups").
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_in(data.path(), "127.0.0.1:0", &[]).unwrap();
    let (_app_dir, app) = cjg_tests::enrolled_app(&server, "Sanne").await;
    // Noor's app will sync after the backup: it knows more of the log than the backup holds.
    let (_noor_dir, noor) = cjg_tests::enrolled_app(&server, "Noor").await;
    let coach = server.staff().await.unwrap();
    let dossier = coach.dossier_id(&server.db()).await;
    let before = family_entry(
        EntryKind::Gespreksverslag,
        "Voor de back-up",
        "Geschreven voor de back-up.",
        "2026-12-01",
    );
    coach.create_entry(dossier, &before).await.unwrap();
    app.sync(|_| {}).await.unwrap();

    // The backup runs while the coach keeps writing: the server goes on, the copy is whole.
    let kept = tempfile::tempdir().unwrap();
    let file = kept.path().join("cjg-backup.db");
    let written = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (written, stop) = (written.clone(), stop.clone());
        tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) || i < 30 {
                let e = family_entry(
                    EntryKind::Gespreksverslag,
                    &format!("Tijdens {i}"),
                    "Tijdens de back-up.",
                    "2026-12-02",
                );
                coach.create_entry(dossier, &e).await.unwrap();
                i += 1;
                written.store(i, std::sync::atomic::Ordering::SeqCst);
            }
        })
    };
    while written.load(std::sync::atomic::Ordering::SeqCst) < 3 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let at_start = written.load(std::sync::atomic::Ordering::SeqCst);
    let (mut backup, _) = server_command(data.path()).unwrap();
    let target = file.clone();
    let out =
        tokio::task::spawn_blocking(move || backup.args(["backup", "--to"]).arg(&target).output().unwrap())
            .await
            .unwrap();
    let at_end = written.load(std::sync::atomic::Ordering::SeqCst);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(out.status.success(), "{}", said(&out));
    assert!(said(&out).contains("audit-signing.key"), "it says the key is kept apart: {}", said(&out));
    // How many writes fell inside the backup depends on the machine; that they may is the point.
    eprintln!("entries written while the backup ran: {}", at_end - at_start);
    writer.await.unwrap();
    noor.sync(|_| {}).await.unwrap();
    let (mut again, _) = server_command(data.path()).unwrap();
    let out = again.args(["backup", "--to"]).arg(&file).output().unwrap();
    assert!(!out.status.success() && said(&out).contains("already exists"), "{}", said(&out));
    assert!(!kept.path().join("cjg-backup.db.part").exists(), "no half file beside the backup");
    let listen = server.url.trim_start_matches("http://").to_owned();
    server.stop();

    // Without the key there is no restore (a new key would make every app distrust the log);
    // a directory that holds a database is never overwritten.
    let fresh = tempfile::tempdir().unwrap();
    let key = data.path().join("audit-signing.key");
    let out = restore(fresh.path(), &file, None);
    assert!(!out.status.success() && said(&out).contains("--audit-key"), "{}", said(&out));
    assert!(!fresh.path().join("cjg-server.db").exists());
    let out = restore(data.path(), &file, Some(&key));
    assert!(!out.status.success() && said(&out).contains("already exists"), "{}", said(&out));
    let out = restore(fresh.path(), &file, Some(&key));
    assert!(out.status.success(), "{}", said(&out));

    // The restored server, on the address the app knows.
    let server = TestServer::start_in(fresh.path(), &listen, &[]).unwrap();
    let out = server.cli().arg("verify-audit").output().unwrap();
    assert!(out.status.success() && said(&out).contains("all chains intact"), "{}", said(&out));
    let coach = server.staff().await.unwrap();
    let after =
        family_entry(EntryKind::Afspraak, "Na het herstel", "Geschreven na het herstel.", "2026-12-03");
    coach.create_entry(dossier, &after).await.unwrap();
    app.sync(|_| {}).await.unwrap();
    let titles: Vec<String> = app.dossier().await.unwrap().entries.into_iter().map(|e| e.title).collect();
    assert!(titles.iter().any(|t| t == "Voor de back-up"), "{titles:?}");
    assert!(titles.iter().any(|t| t == "Na het herstel"), "a change after the restore arrives: {titles:?}");
    let inzage = app.inzage().await.unwrap();
    assert!(inzage.warning.is_none() && inzage.warnings.is_empty(), "the log the app verified goes on");

    // An app that synced after the backup knew access-log lines the restored server no longer
    // has: it says the log does not add up, and does not take the server's word for it.
    let err = noor.sync(|_| {}).await.expect_err("the log went back in time");
    assert_eq!(err.code(), "audit_log_broken");
    assert!(noor.inzage().await.unwrap().warning.is_some());
}

/// An app that synced after the backup holds a cursor past everything the restored database
/// knows. The restore moves the change counter on, so what is written next still reaches it.
#[tokio::test]
async fn an_app_whose_cursor_is_past_the_backup_still_gets_what_comes_after_the_restore() {
    if cjg_tests::on_postgres() {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_in(data.path(), "127.0.0.1:0", &[]).unwrap();
    let (_app_dir, app) = cjg_tests::enrolled_app(&server, "Sanne").await;
    let dossier = server.staff().await.unwrap().dossier_id(&server.db()).await;
    let kept = tempfile::tempdir().unwrap();
    let file = kept.path().join("cjg-backup.db");
    let out = server.cli().args(["backup", "--to"]).arg(&file).output().unwrap();
    assert!(out.status.success(), "{}", said(&out));
    // Sanne writes to her coach after the backup: her cursor moves past everything the backup
    // holds, with no new line in the access log (her own messages are not a staff look).
    for i in 0..5 {
        app.send_message(&format!("Bericht {i} na de back-up")).await.unwrap();
    }
    app.sync(|_| {}).await.unwrap();
    let listen = server.url.trim_start_matches("http://").to_owned();
    server.stop();

    let fresh = tempfile::tempdir().unwrap();
    let out = restore(fresh.path(), &file, Some(&data.path().join("audit-signing.key")));
    assert!(out.status.success(), "{}", said(&out));
    let server = TestServer::start_in(fresh.path(), &listen, &[]).unwrap();
    let coach = server.staff().await.unwrap();
    let after =
        family_entry(EntryKind::Afspraak, "Na het herstel", "Geschreven na het herstel.", "2026-12-03");
    coach.create_entry(dossier, &after).await.unwrap();
    app.sync(|_| {}).await.unwrap();
    let titles: Vec<String> = app.dossier().await.unwrap().entries.into_iter().map(|e| e.title).collect();
    assert!(titles.iter().any(|t| t == "Na het herstel"), "a change after the restore arrives: {titles:?}");
}
