//! Data retention (issue 23, part 6): `cjg-server retention` lists the closed dossiers whose
//! legal term has passed and changes nothing; with `--apply` it removes each whole, writes a
//! retention-log row, and leaves every other dossier, its history and its chain as they were.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cjg_tests::{family_entry, params, EntryKind, TestServer};

fn retention(server: &TestServer, args: &[&str]) -> String {
    let out = server.cli().arg("retention").args(args).env("RUST_LOG", "error").output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "retention {args:?}: {said}{}", String::from_utf8_lossy(&out.stderr));
    said
}

/// Rows that belong to the dossier or its people, per table.
fn traces(server: &TestServer, dossier: &str, people: &[String]) -> Vec<(&'static str, i64)> {
    let db = server.db();
    let by_dossier = [
        "entries",
        "people",
        "audit_events",
        "feedback",
        "feedback_requests",
        "messages",
        "questionnaire_tasks",
        "reading_tips",
        "audit_alerts",
        "purpose_sessions",
        "staff_dossiers",
    ];
    let mut out: Vec<(&'static str, i64)> = by_dossier
        .iter()
        .map(|t| {
            (
                *t,
                db.query_row(
                    &format!("SELECT COUNT(*) FROM {t} WHERE dossier_id = ?1"),
                    [dossier.to_owned()],
                    |r| r.get(0),
                )
                .unwrap(),
            )
        })
        .collect();
    out.push((
        "dossiers",
        db.query_row("SELECT COUNT(*) FROM dossiers WHERE id = ?1", [dossier.to_owned()], |r| r.get(0))
            .unwrap(),
    ));
    for person in people {
        for (t, col) in [
            ("devices", "person_id"),
            ("activation_codes", "person_id"),
            ("audit_views", "person_id"),
            ("entry_access", "person_id"),
            ("consents", "youth_id"),
        ] {
            let n: i64 = db
                .query_row(&format!("SELECT COUNT(*) FROM {t} WHERE {col} = ?1"), [person.clone()], |r| {
                    r.get(0)
                })
                .unwrap();
            out.push((t, n));
        }
    }
    out
}

#[tokio::test]
async fn a_dossier_past_its_term_is_listed_then_removed_whole_and_nothing_else() {
    let server = TestServer::start().unwrap();
    let db = server.db();
    let proef: String =
        db.query_row("SELECT id FROM dossiers WHERE family_name = 'Proef'", params![], |r| r.get(0)).unwrap();
    let voorbeeld: String = db
        .query_row("SELECT id FROM dossiers WHERE family_name = 'Voorbeeld'", params![], |r| r.get(0))
        .unwrap();
    // An entry of Proef with a second version (versions are otherwise never deleted).
    let coach2 = server.staff_as("coach2").await.unwrap();
    let proef_id = uuid::Uuid::parse_str(&proef).unwrap();
    let draft = family_entry(EntryKind::Afspraak, "Oude afspraak", "Kort.", "2005-01-01");
    let entry = coach2.create_entry(proef_id, &draft).await.unwrap();
    let changed = family_entry(EntryKind::Afspraak, "Oude afspraak", "Iets langer.", "2005-01-01");
    assert!(coach2.update_entry(entry.id, entry.version, &changed).await.unwrap().status().is_success());
    let people: Vec<String> =
        db.query_map("SELECT id FROM people WHERE dossier_id = ?1", [proef.clone()], |r| r.get(0)).unwrap();

    // Proef closed 21 years ago: past the 20 years. Voorbeeld closed 19 years ago: not yet.
    let today = cjg_core::time::dutch_date(chrono::Utc::now());
    let years_ago = |n: u32| today.checked_sub_months(chrono::Months::new(n * 12)).unwrap().to_string();
    let proef_closed = years_ago(21);
    db.execute("UPDATE dossiers SET closed_on = ?1 WHERE id = ?2", [proef_closed.clone(), proef.clone()])
        .unwrap();
    db.execute("UPDATE dossiers SET closed_on = ?1 WHERE id = ?2", [years_ago(19), voorbeeld.clone()])
        .unwrap();
    let before = traces(&server, &proef, &people);
    let voorbeeld_before = traces(&server, &voorbeeld, &[]);
    assert!(before.iter().any(|(t, n)| *t == "entries" && *n > 0));

    let listed = retention(&server, &[]);
    assert!(listed.contains(&format!("dossier {proef} closed {proef_closed}")), "{listed}");
    assert!(!listed.contains(&voorbeeld), "{listed}");
    assert!(listed.contains("Nothing was changed"), "{listed}");
    assert_eq!(traces(&server, &proef, &people), before, "a dry run changes nothing");

    // Outside a removal, entry versions stay undeletable, also of a dossier past its term.
    let versions = "SELECT COUNT(*) FROM entry_versions WHERE entry_id IN (SELECT id FROM entries WHERE dossier_id = ?1)";
    assert!(db.query_row(versions, [proef.clone()], |r| r.get::<i64>(0)).unwrap() >= 1);
    let deleted = db.execute(
        "DELETE FROM entry_versions WHERE entry_id IN (SELECT id FROM entries WHERE dossier_id = ?1)",
        [proef.clone()],
    );
    assert!(deleted.is_err(), "entry versions could be deleted outside a removal");

    let applied = retention(&server, &["--apply"]);
    assert!(applied.contains(&format!("removed dossier {proef}")), "{applied}");
    for (table, n) in traces(&server, &proef, &people) {
        assert_eq!(n, 0, "{table} still holds rows of the removed dossier");
    }
    assert_eq!(traces(&server, &voorbeeld, &[]), voorbeeld_before, "another dossier changed");
    let (actor, entries): (String, i64) = db
        .query_row("SELECT actor, entries FROM retention_log WHERE dossier_id = ?1", [proef.clone()], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(actor, "command line");
    assert!(entries > 0);
    let out = server.cli().arg("verify-audit").env("RUST_LOG", "error").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    // Nothing is left to remove, and a longer term lists nothing at all.
    assert!(retention(&server, &[]).starts_with("would remove 0 dossiers"));
    assert!(retention(&server, &["--years", "30"]).starts_with("would remove 0 dossiers"));
}
