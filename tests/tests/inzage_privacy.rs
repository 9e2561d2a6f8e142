//! Inzage under the family policy: each person receives only the access-log lines about what
//! they may see, decided on the day of the access, in a chain of their own that the app
//! verifies. A line about an entry hidden from a parent, or about another member's messages,
//! never reaches that parent: not the line, not its note, not a gap in their numbering.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Utc;
use cjg_client::app::{AppCore, AuditLine};
use cjg_tests::{Staff, TestServer};
use uuid::Uuid;

const NOTE: &str = "overleg over Milan met de gedragswetenschapper";

async fn lines(app: &AppCore) -> Vec<AuditLine> {
    app.sync(|_| {}).await.unwrap();
    let view = app.inzage().await.unwrap();
    assert!(view.warning.is_none(), "the person's own log verifies");
    let mut lines = view.lines;
    lines.sort_by_key(|l| l.position);
    let positions: Vec<u32> = lines.iter().map(|l| l.position).collect();
    assert_eq!(positions, (1..=u32::try_from(lines.len()).unwrap()).collect::<Vec<_>>(), "no gaps");
    lines
}

fn entry_id(server: &TestServer, title: &str) -> Uuid {
    let id: String =
        server.db().query_row("SELECT id FROM entries WHERE title = ?1", [title], |r| r.get(0)).unwrap();
    id.parse().unwrap()
}

/// A read of one entry, under the purpose (and its note) the coach stated for the dossier.
async fn read_entry(staff: &Staff, dossier: Uuid, entry: Uuid, note: &str) {
    let purpose = staff
        .http
        .put(format!("{}/v1/staff/dossiers/{dossier}/purpose", staff.url))
        .bearer_auth(&staff.token)
        .json(&serde_json::json!({"purpose": "overleg", "note": note}))
        .send()
        .await
        .unwrap();
    assert_eq!(purpose.status(), 200);
    let read = staff
        .http
        .get(format!("{}/v1/staff/entries/{entry}", staff.url))
        .bearer_auth(&staff.token)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
}

/// What identifies a line: its place, time, actor and kind of object. Not the link to the
/// entry: the app links a line only to an entry the person can open today.
type LineId = (u32, chrono::DateTime<Utc>, String, String);

fn ids(lines: &[AuditLine]) -> Vec<LineId> {
    lines.iter().map(|l| (l.position, l.at, l.actor_name.clone(), l.object_type.clone())).collect()
}

fn about(lines: &[AuditLine], object_type: &str) -> usize {
    lines.iter().filter(|l| l.object_type == object_type).count()
}

#[tokio::test]
async fn each_person_sees_only_the_log_lines_about_what_they_may_see() {
    let data = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_in(data.path(), "127.0.0.1:0", &[]).unwrap();
    let (_s, sanne) = cjg_tests::enrolled_app(&server, "Sanne").await;
    let (_k, karim) = cjg_tests::enrolled_app(&server, "Karim").await;
    let (_m, milan) = cjg_tests::enrolled_app(&server, "Milan").await;
    let (_n, noor) = cjg_tests::enrolled_app(&server, "Noor").await;
    let before = [lines(&sanne).await, lines(&karim).await, lines(&milan).await, lines(&noor).await];

    // The coach reads Milan's entry (17, no consent: hidden from his parents) and writes to Noor.
    let staff = server.staff().await.unwrap();
    let dossier = staff.dossier_id(&server.db()).await;
    let milan_entry = entry_id(&server, "Gesprek met Milan");
    read_entry(&staff, dossier, milan_entry, NOTE).await;
    let noor_id = cjg_tests::person_id(&server.db(), "Noor Voorbeeld");
    assert_eq!(staff.send_message(&noor_id, "Hoi Noor, hoe ging de toets?").await.unwrap().status(), 201);

    let after = [lines(&sanne).await, lines(&karim).await, lines(&milan).await, lines(&noor).await];
    for (who, (old, new)) in ["Sanne", "Karim"].iter().zip(before.iter().zip(after.iter())) {
        assert_eq!(new.len(), old.len(), "{who}: no new line, so no count to infer anything from");
        assert_eq!(ids(new), ids(old), "{who}: the log stays as it was");
        assert!(
            new.iter().all(|l| !l.purpose_note.as_deref().unwrap_or("").contains("Milan")),
            "{who}: the note about Milan never arrives"
        );
        assert!(new.iter().all(|l| l.object_type != "message"), "{who}: no line about Noor's messages");
    }
    let milan_new = &after[2][before[2].len()..];
    assert_eq!(milan_new.len(), 1, "Milan: the read of his entry");
    assert_eq!(milan_new[0].entry_id, Some(milan_entry));
    assert_eq!(milan_new[0].purpose_note.as_deref(), Some(NOTE));
    let noor_new = &after[3][before[3].len()..];
    assert_eq!(noor_new.len(), 1, "Noor: the coach's message to her, nothing of Milan's");
    assert_eq!(noor_new[0].object_type, "message");
    assert_eq!(about(&after[2], "message"), about(&before[2], "message"), "Milan: nothing of Noor's message");

    // Staff still see the whole log: both lines are in it.
    let whole: Vec<serde_json::Value> =
        staff.get(&format!("/v1/staff/dossiers/{dossier}/audit")).await.unwrap();
    assert!(whole.iter().any(|l| l["object_id"] == milan_entry.to_string() && l["purpose_note"] == NOTE));
    assert!(whole.iter().any(|l| l["object_type"] == "message"));

    // Noor's own entry, read while she is 14: her parents get the line too. After her 16th
    // birthday (the server's clock moves) a new read goes to her alone; the old line stays.
    let noor_entry = entry_id(&server, "Gesprek met Noor");
    read_entry(&staff, dossier, noor_entry, "voorbereiding gesprek").await;
    let at_14 = [lines(&sanne).await, lines(&noor).await];
    // Two new lines for both: the staff read of the whole log (about the dossier as a whole)
    // and the read of Noor's entry, which her parents may read while she is under 16.
    for (who, now, then) in [("Sanne", &at_14[0], &after[0]), ("Noor", &at_14[1], &after[3])] {
        let new: Vec<_> = now[then.len()..].iter().map(|l| (l.object_type.as_str(), l.entry_id)).collect();
        assert_eq!(new, [("audit_log", None), ("entry", Some(noor_entry))], "{who}");
    }

    let days = cjg_tests::days_until_sixteen(&server.db(), "Noor Voorbeeld");
    let listen = server.url.trim_start_matches("http://").to_owned();
    server.stop();
    server = TestServer::start_in(data.path(), &listen, &["--clock-offset-days", &days.to_string()]).unwrap();
    let staff = server.staff().await.unwrap();
    read_entry(&staff, dossier, noor_entry, "voorbereiding gesprek").await;
    let at_16 = [lines(&sanne).await, lines(&noor).await];
    assert_eq!(
        ids(&at_16[0]),
        ids(&at_14[0]),
        "from 16 the parents get no new line about her entry, and keep the old one"
    );
    assert_eq!(at_16[1].len(), at_14[1].len() + 1, "Noor gets it");

    // The server's own check covers every person's chain.
    let check = server.cli().arg("verify-audit").env("RUST_LOG", "error").output().unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
}
