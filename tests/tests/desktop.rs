//! The real desktop app, driven as a person uses it: tauri-driver + WebKitWebDriver, in a real
//! window (under Xvfb in CI). Enrol with a demo code, choose a PIN, read the dossier; add a
//! second account; restart the app with the server stopped, unlock with the PIN and still read
//! everything.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use cjg_core::questionnaire::{Agree, Answer, TaskStatus};
use cjg_tests::desktop::{
    assert_accessible, axe_catches_a_nameless_button, click_in_view, entry_titles, press, set_display_focus,
    shot, tab_to, type_into, wait_for, wait_for_xpath, wait_text, Driver, Notices, ENTER, SPACE, TAB,
};
use cjg_tests::{family_entry, params, EntryKind, TestServer, PIN};
use fantoccini::{Client, Locator};
use serde_json::json;

const NEW_PIN: &str = "318705";
const NOOR_PIN: &str = "640259";
/// Entries of the demo family a parent may not see (another youth's of 16+, youth-only, work note).
const HIDDEN_FROM_PARENTS: [&str; 4] = [
    "Gesprek met Milan",
    "Afspraak met Milan over zijn stage",
    "Gesprek alleen met Noor",
    "Werkaantekening: overleg voorbereiden",
];

#[tokio::test]
async fn enrol_read_restart_offline_and_unlock() {
    let mut server = TestServer::start().unwrap();
    let staff = server.staff().await.unwrap();
    let expected = staff.entries(staff.dossier_id(&server.db()).await).await.unwrap();
    let mut expected: Vec<String> = expected
        .iter()
        .map(|e| e.title.clone())
        .filter(|t| !HIDDEN_FROM_PARENTS.contains(&t.as_str()))
        .collect();
    expected.sort();
    assert_eq!(expected.len(), 11);
    let data = tempfile::tempdir().unwrap();

    // First start: server address is pre-filled; a wrong code gets a Dutch message.
    let driver = Driver::start(data.path(), &server.url);
    let c = driver.session().await;
    let server_field = wait_for(&c, "#server").await;
    assert_eq!(server_field.prop("value").await.unwrap().as_deref(), Some(server.url.as_str()));
    shot(&c, "01-welkom").await;

    // A coach signs in on the staff side: no dossier without a purpose, and the family's log
    // shows the look with its note.
    wait_for(&c, "#staff-signin").await.click().await.unwrap();
    type_into(&c, "#staff-username", "coach").await;
    type_into(&c, "#staff-password", "fout-wachtwoord").await;
    wait_for(&c, "#staff-login").await.click().await.unwrap();
    let err = wait_for(&c, "#staff-error").await.text().await.unwrap();
    assert!(err.contains("wachtwoord"), "{err}");
    type_into(&c, "#staff-password", &server.coach_password).await;
    wait_for(&c, "#staff-login").await.click().await.unwrap();
    let family = wait_for(&c, "button.caseload-item").await;
    assert_eq!(family.text().await.unwrap(), "Gezin Voorbeeld");
    family.click().await.unwrap();
    wait_for(&c, "#purpose").await.select_by_value("gesprek_voorbereiden").await.unwrap();
    // A name from outside Latin-1, as the issue found it broken in the PDF ("Ay?e Y?lmaz").
    type_into(&c, "#purpose-note", "voor het gesprek van dinsdag met Ayşe Yılmaz").await;
    shot(&c, "13-medewerker-doel").await;
    wait_for(&c, "#open-dossier").await.click().await.unwrap();
    wait_for(&c, "#staff-purpose").await;
    let staff_entries = c.find_all(Locator::Css("#staff-entries li")).await.unwrap();
    assert_eq!(staff_entries.len(), expected.len() + HIDDEN_FROM_PARENTS.len(), "staff see every entry");
    let log = wait_for(&c, "#staff-log li").await.text().await.unwrap();
    assert!(log.contains("voor het gesprek van dinsdag"), "the newest line carries the note: {log}");
    let questionnaires = c.find_all(Locator::Css("#staff-questionnaires li")).await.unwrap();
    assert_eq!(questionnaires.len(), 10, "start and interim questionnaires of the five who are asked");
    shot(&c, "14-medewerker-dossier").await;
    wait_for(&c, "#staff-back").await.click().await.unwrap();
    wait_for(&c, "#staff-logout").await.click().await.unwrap();
    wait_for(&c, "#server").await;
    type_into(&c, "#code", "ABCD-EFGH-JKMN").await;
    wait_for(&c, "#to-pin").await.click().await.unwrap();
    type_into(&c, "#pin", PIN).await;
    type_into(&c, "#pin-again", PIN).await;
    wait_for(&c, "#finish").await.click().await.unwrap();
    let err = wait_for(&c, "#onb-error").await.text().await.unwrap();
    assert!(err.contains("code"), "Dutch message about the code: {err}");
    shot(&c, "02-foute-code").await;

    // A server address without TLS on another machine is refused, with what to do instead.
    type_into(&c, "#server", "http://cjg.voorbeeld.nl").await;
    wait_for(&c, "#to-pin").await.click().await.unwrap();
    wait_text(&c, "#onb-error", "https://").await;
    shot(&c, "02b-onveilig-adres").await;
    type_into(&c, "#server", &server.url).await;

    // The right code, then a PIN twice.
    type_into(&c, "#code", &server.code_for("Sanne")).await;
    wait_for(&c, "#to-pin").await.click().await.unwrap();
    type_into(&c, "#pin", PIN).await;
    type_into(&c, "#pin-again", PIN).await;
    type_into(&c, "#account-label", "Mama").await;
    shot(&c, "03-pincode").await;
    wait_for(&c, "#finish").await.click().await.unwrap();
    let mut titles = entry_titles(&c, 11).await;
    titles.sort();
    assert_eq!(titles, expected, "the app shows exactly what a parent may see");
    let lead = wait_for(&c, "p.lead").await.text().await.unwrap();
    assert_eq!(lead, "Dit schreef uw coach over uw gezin.", "a parent reads \"u\"");
    shot(&c, "04-dossier").await;

    // Filter by kind, then open an entry and go back.
    wait_for(&c, "#filter-kind").await.select_by_value("afspraak").await.unwrap();
    assert_eq!(entry_titles(&c, 3).await.len(), 3);
    wait_for(&c, "#filter-kind").await.select_by_value("").await.unwrap();
    let plan =
        wait_for_xpath(&c, "//button[contains(@class,'entry')][.//span[text()='Ons gezinsplan']]").await;
    plan.click().await.unwrap();
    let heading = wait_for(&c, "#entry-title").await.text().await.unwrap();
    assert_eq!(heading, "Ons gezinsplan");
    let list_items = c.find_all(Locator::Css(".md li")).await.unwrap();
    assert_eq!(list_items.len(), 3, "the markdown list is rendered as a list");
    shot(&c, "05-detail").await;
    // A question about the plan, sent from the entry: through the outbox to the server.
    wait_for(&c, "#feedback-kind-vraag").await.click().await.unwrap();
    type_into(&c, "#feedback-text", "Wie belt de school?").await;
    wait_for(&c, "#send-feedback").await.click().await.unwrap();
    let msg = wait_for(&c, "#feedback-msg").await.text().await.unwrap();
    assert!(msg.contains("Verstuurd"), "{msg}");
    let item = wait_for(&c, "li.feedback-item").await.text().await.unwrap();
    assert!(item.contains("Wie belt de school?") && item.contains("Vraag"), "{item}");
    let stored: i64 =
        server.db().query_row("SELECT COUNT(*) FROM feedback", params![], |r| r.get(0)).unwrap();
    assert_eq!(stored, 1);
    shot(&c, "15-reactie").await;
    wait_for(&c, "#back").await.click().await.unwrap();
    assert_eq!(entry_titles(&c, 11).await.len(), 11);

    // Taken: the coach closes the trajectory. The closing questionnaire appears with a badge and
    // a reminder, is filled in with the server gone, waits read-only, and goes out once the
    // server is back; the coach sees the answers.
    let dossier = staff.dossier_id(&server.db()).await;
    let today = cjg_core::time::dutch_date(chrono::Utc::now());
    let closed = staff
        .set_trajectory(
            dossier,
            json!({"started_on": today - chrono::Duration::days(118), "closed_on": today,
                "municipality": "Demostad", "team": "Team Noord"}),
        )
        .await
        .unwrap();
    assert_eq!(closed.status(), 200);
    wait_for(&c, "#refresh").await.click().await.unwrap();
    // The interim questionnaire (late), the closing one, and the demo's reading tip.
    wait_text(&c, "#taken-badge", "3").await;
    let reminder = wait_for(&c, "#taken-reminder").await.text().await.unwrap();
    assert!(reminder.contains("3 taken"), "{reminder}");
    shot(&c, "16-taken-herinnering").await;
    wait_for(&c, "#nav-taken").await.click().await.unwrap();
    let eind: String = server
        .db()
        .query_row(
            "SELECT t.id FROM questionnaire_tasks t JOIN people p ON p.id = t.person_id
             WHERE p.display_name = 'Sanne Voorbeeld' AND t.phase = 'eind'",
            params![],
            |r| r.get(0),
        )
        .unwrap();
    let task = wait_for(&c, &format!("li[data-task-id='{eind}']")).await.text().await.unwrap();
    assert!(task.contains("Vragenlijst bij het afsluiten") && task.contains("Nieuw"), "{task}");
    let late = wait_for(&c, "li.task.late").await.text().await.unwrap();
    assert!(late.contains("na 3 maanden") && late.contains("nog steeds invullen"), "{late}");
    shot(&c, "17-taken").await;

    let listen = server.url.trim_start_matches("http://").to_owned();
    server.stop();
    wait_for(&c, &format!("li[data-task-id='{eind}'] button.task-go")).await.click().await.unwrap();
    assert_eq!(wait_for(&c, "#q-title").await.text().await.unwrap(), "Vragenlijst bij het afsluiten");
    for id in ["#q-zelf_verder-eens", "#q-eigen_plan-eens", "#q-betrokken-nvt", "#q-cijfer_algemeen-4"] {
        click_in_view(&c, id).await;
    }
    for id in ["#q-cijfer_coach-5", "#q-cijfer_hulp-4"] {
        click_in_view(&c, id).await;
    }
    type_into(&c, "#q-tip-text", "Dank voor de afspraken in de avond.").await;
    wait_for(&c, "#q-send").await.click().await.unwrap();
    let missing = wait_for(&c, "#q-missing").await.text().await.unwrap();
    assert!(missing.contains("werkten goed samen"), "the one question left is named: {missing}");
    shot(&c, "18-vragenlijst-onvolledig").await;
    click_in_view(&c, "#q-samenwerking-eens").await;
    wait_for(&c, "#q-send").await.click().await.unwrap();
    let waiting = wait_for(&c, "#q-waiting").await.text().await.unwrap();
    assert!(waiting.contains("wachten op verbinding"), "{waiting}");
    assert!(c.find(Locator::Css("#q-send")).await.is_err(), "read-only while it waits");
    shot(&c, "19-vragenlijst-wacht").await;

    // The server is back on the same address; the next update sends the answers.
    let again = TestServer::start_in(&server.data_dir, &listen, &[]).unwrap();
    let _first_server = std::mem::replace(&mut server, again);
    wait_for(&c, "#refresh").await.click().await.unwrap();
    wait_text(&c, "#sync-status", "bijgewerkt").await;
    wait_for(&c, "#nav-taken").await.click().await.unwrap();
    wait_for(&c, &format!("li[data-task-id='{eind}'][data-state='submitted']")).await;
    shot(&c, "20-taken-klaar").await;
    // Her own answers side by side: at the start (on paper) and now at the end.
    let table = wait_for(&c, "#my-progress").await;
    let text = table.text().await.unwrap();
    assert!(text.contains("Bij de start") && text.contains("Bij het afsluiten"), "{text}");
    assert!(text.contains("Hoe gaat het nu thuis?") && text.contains("2 van de 5"), "{text}");
    assert!(text.contains("Niet gevraagd"), "{text}");
    c.execute("document.getElementById('my-progress').scrollIntoView()", vec![]).await.unwrap();
    shot(&c, "20b-voortgang").await;
    let seen = staff.questionnaires(dossier).await.unwrap();
    let sanne = seen.iter().find(|q| q.task.id.to_string() == eind).unwrap();
    assert_eq!(sanne.task.status, TaskStatus::Submitted);
    let answers = sanne.task.answers.as_ref().unwrap();
    assert_eq!(answers["samenwerking"], Answer::Agree(Agree::Eens));
    assert_eq!(answers["tip"], Answer::Text("Dank voor de afspraken in de avond.".into()));
    wait_for(&c, "#nav-dossier").await.click().await.unwrap();
    assert_eq!(entry_titles(&c, 11).await.len(), 11);

    // Informatie: a hostile article, approved by an editor who did not write it, renders as
    // text and runs nothing; the coach's tip leads to its article and counts as read.
    let hostile =
        "<script>document.title='gehackt'</script>\n\n<img src=x onerror=\"document.title='gehackt'\">\n\n\
        [Klik hier](javascript:document.title='gehackt') en lees verder.";
    let created: serde_json::Value = staff
        .http
        .post(format!("{}/v1/staff/articles", server.url))
        .bearer_auth(&staff.token)
        .json(&json!({"title": "Veilig lezen", "summary": "Een artikel met vreemde tekens erin.",
            "body": hostile, "topics": ["ouder_zijn"], "age_min": 0, "age_max": 18,
            "source": "Test", "language": "nl"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let editor = server.staff_as("gedrag").await.unwrap();
    let approved = editor
        .http
        .post(format!("{}/v1/staff/articles/{}/approve", server.url, created[0]["id"].as_str().unwrap()))
        .bearer_auth(&editor.token)
        .json(&json!({"revision": 1, "text_hash": created[0]["text_hash"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(approved.status(), 204);
    wait_for(&c, "#refresh").await.click().await.unwrap();
    wait_text(&c, "#sync-status", "bijgewerkt").await;
    wait_for(&c, "#nav-informatie").await.click().await.unwrap();
    let tip = wait_for(&c, "#info-tips li").await.text().await.unwrap();
    assert!(tip.contains("Ruzie met je puber") && tip.contains("gesprek van dinsdag"), "{tip}");
    wait_text(&c, "#info-count", "16 artikelen").await;
    type_into(&c, "#info-search", "RUZIË").await;
    wait_text(&c, "#info-articles li:first-child .title", "Ruzie met je puber").await;
    shot(&c, "21-informatie").await;
    wait_for(&c, "#info-tips li button").await.click().await.unwrap();
    assert_eq!(wait_for(&c, "#article-title").await.text().await.unwrap(), "Ruzie met je puber");
    shot(&c, "22-artikel").await;
    // "Nuttig voor mij": a toggle, and a filter in the list.
    let useful = wait_for(&c, "#article-useful").await;
    assert_eq!(useful.attr("aria-pressed").await.unwrap().as_deref(), Some("false"));
    useful.click().await.unwrap();
    wait_for(&c, "#article-useful[aria-pressed='true']").await;
    wait_for(&c, "#article-back").await.click().await.unwrap();
    wait_for(&c, "#info-useful").await.click().await.unwrap();
    wait_text(&c, "#info-count", "1 artikel").await;
    wait_text(&c, "#info-articles li:first-child .title", "Ruzie met je puber").await;
    wait_for(&c, "#info-useful").await.click().await.unwrap();
    type_into(&c, "#info-search", "veilig lezen").await;
    wait_text(&c, "#info-count", "1 artikel").await;
    wait_for(&c, "button.article-card").await.click().await.unwrap();
    let body = wait_for(&c, ".article-view .md").await.text().await.unwrap();
    assert!(body.contains("<script>") && body.contains("Klik hier"), "shown as text: {body}");
    assert_eq!(
        c.find_all(Locator::Css(".article-view script, .article-view img, .article-view a"))
            .await
            .unwrap()
            .len(),
        0
    );
    let title = c.execute("return document.title", vec![]).await.unwrap();
    assert_ne!(title.as_str(), Some("gehackt"), "nothing in the article ran");
    shot(&c, "23-artikel-veilig").await;
    let tips = staff.tips(dossier).await.unwrap();
    assert!(tips.iter().any(|t| t.tip.read_at.is_some()), "the coach sees the tip was read");
    wait_for(&c, "#nav-dossier").await.click().await.unwrap();
    assert_eq!(entry_titles(&c, 11).await.len(), 11);

    // Berichten: a question to the coach, the coach answers, the answer shows with a badge.
    wait_for(&c, "#nav-berichten").await.click().await.unwrap();
    let hours = wait_for(&c, "#msg-hours").await.text().await.unwrap();
    assert!(hours.contains("112") && hours.contains("Veilig Thuis"), "{hours}");
    wait_for(&c, "#msg-send").await.click().await.unwrap();
    let err = wait_for(&c, "#msg-error").await.text().await.unwrap();
    assert!(err.contains("Schrijf eerst"), "an empty message is not sent: {err}");
    type_into(&c, "#msg-text", "Kan de coach ook op zaterdag bellen?").await;
    wait_for(&c, "#msg-send").await.click().await.unwrap();
    wait_text(&c, "#msg-thread li:last-child", "verstuurd").await;
    // The answer comes by itself: the server tells the open app to sync (no Vernieuwen). The
    // person works in another program meanwhile, so the OS shows a notice that says only that
    // there is news.
    let notices = Notices::start();
    wait_for(&c, "#nav-dossier").await.click().await.unwrap();
    set_display_focus(false);
    let sanne_id = cjg_tests::person_id(&server.db(), "Sanne Voorbeeld");
    let answered = staff.send_message(&sanne_id, "Op zaterdag niet, wel op vrijdagavond.").await.unwrap();
    assert_eq!(answered.status(), 201);
    wait_text(&c, "#msg-badge", "1").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let shown = loop {
        let shown = notices.shown();
        if !shown.is_empty() || Instant::now() > deadline {
            break shown;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(shown, [("Mijn CJG".to_owned(), "Er is iets nieuws in Mijn CJG.".to_owned())]);
    set_display_focus(true);
    // The daemon stays for the rest of the test: without one, a later notice would wait for
    // D-Bus to start a notification service that cannot reach the display.
    wait_text(&c, "#msg-notice", "nieuw bericht van uw coach").await;
    shot(&c, "25-nieuw-bericht").await;
    wait_for(&c, "#msg-notice-go").await.click().await.unwrap();
    wait_text(&c, "#msg-thread li:last-child", "vrijdagavond").await;
    assert!(c.find(Locator::Css("#msg-notice")).await.is_err(), "the notice goes once the message is open");
    // With the thread open, the coach's next answer shows after an update, without leaving it.
    let again = staff.send_message(&sanne_id, "En bel gerust op woensdagochtend.").await.unwrap();
    assert_eq!(again.status(), 201);
    wait_for(&c, "#refresh").await.click().await.unwrap();
    wait_text(&c, "#msg-thread li:last-child", "woensdagochtend").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while c.find(Locator::Css("#msg-badge")).await.is_ok() {
        assert!(Instant::now() < deadline, "the answer counts as read while the thread is open");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    shot(&c, "24-berichten").await;
    wait_for(&c, "#nav-dossier").await.click().await.unwrap();
    assert_eq!(entry_titles(&c, 11).await.len(), 11);

    // Settings: this device is listed; the PIN is changed.
    wait_for(&c, "#settings").await.click().await.unwrap();
    let device = wait_for(&c, "li.device").await.text().await.unwrap();
    assert!(device.contains("Dit apparaat"), "{device}");
    type_into(&c, "#old-pin", PIN).await;
    type_into(&c, "#new-pin", NEW_PIN).await;
    type_into(&c, "#new-pin-again", NEW_PIN).await;
    wait_for(&c, "#change-pin").await.click().await.unwrap();
    let msg = wait_for(&c, "#pin-change-msg").await.text().await.unwrap();
    assert!(msg.contains("gewijzigd"), "{msg}");
    // Sharing how she uses the app is off until she turns it on.
    let share = wait_for(&c, "#share-usage").await;
    assert!(!share.is_selected().await.unwrap(), "off by default");
    click_in_view(&c, "#share-usage").await;
    wait_text(&c, "#share-msg", "U deelt uw gebruik").await;
    shot(&c, "08-instellingen").await;
    // Her own copy of the whole dossier: a PDF to read, and a FHIR Bundle for another app that
    // an independent FHIR implementation reads, with her messages in it.
    let exports = data.path().join("exports");
    wait_for(&c, "#mine-pdf").await.click().await.unwrap();
    let pdf = exported(&exports, "mijn-cjg-dossier-", "pdf").await;
    let text = cjg_tests::pdf_text(&pdf);
    assert!(text.contains("Mijn dossier bij het CJG"), "{text}");
    assert!(text.contains("VERSLAGEN EN AFSPRAKEN") && text.contains("woensdagochtend"), "{text}");
    assert!(text.contains("Ayşe Yılmaz"), "the coach's note, every letter: {text}");
    wait_text(&c, "#mine-msg", "Opgeslagen").await;
    wait_for(&c, "#mine-fhir").await.click().await.unwrap();
    let bundle: serde_json::Value =
        serde_json::from_slice(&exported(&exports, "mijn-cjg-dossier-", "json").await).unwrap();
    cjg_tests::fhir::assert_valid_fhir(&bundle);
    let kinds: Vec<&str> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == "DocumentReference").count(), 11, "{kinds:?}");
    assert!(bundle.to_string().contains("woensdagochtend"), "her messages are in it");
    c.execute("document.getElementById('mine').scrollIntoView()", vec![]).await.unwrap();
    shot(&c, "08b-gegevens-opslaan").await;
    wait_for(&c, "#settings-back").await.click().await.unwrap();
    assert_eq!(entry_titles(&c, 11).await.len(), 11);

    // Inzage: the coach's look at the dossier (made above to know the expected titles) is
    // there, with its purpose; the badge said so before.
    let badge = wait_for(&c, "#nav-inzage .count-badge").await.text().await.unwrap();
    assert!(badge.parse::<u32>().unwrap() >= 1, "a badge for the new look: {badge}");
    wait_for(&c, "#nav-inzage").await.click().await.unwrap();
    wait_for(&c, "li.audit-line").await;
    let mut lines = Vec::new();
    for l in c.find_all(Locator::Css("li.audit-line")).await.unwrap() {
        lines.push(l.text().await.unwrap());
    }
    assert!(
        lines.iter().any(|l| l.contains("veranderde de datums van de hulp")),
        "closing the trajectory is logged: {lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("Fleur Demo") && l.contains("bekeek") && l.contains("Waarom")),
        "{lines:?}"
    );
    // The coach's looks in one go are one line that opens to show each part.
    let cluster = wait_for(&c, "li.audit-cluster").await.text().await.unwrap();
    assert!(cluster.contains("Fleur Demo") && cluster.contains("onderdelen van het dossier"), "{cluster}");
    wait_for(&c, "li.audit-cluster .cluster-toggle").await.click().await.unwrap();
    let parts = c.find_all(Locator::Css("li.audit-cluster .cluster-lines li.audit-detail")).await.unwrap();
    assert!(parts.len() >= 2, "the parts of the visit are listed");
    c.execute("document.querySelector('li.audit-cluster').scrollIntoView()", vec![]).await.unwrap();
    shot(&c, "11b-inzage-bezoek").await;
    wait_for(&c, "#audit-verified").await;
    let fingerprint = wait_for(&c, "#audit-fingerprint").await.text().await.unwrap();
    assert!(fingerprint.contains("regels, code "), "a code to compare with another device: {fingerprint}");
    // The person's own copy, as CSV and as PDF.
    wait_for(&c, "#export-csv").await.click().await.unwrap();
    let csv = String::from_utf8(exported(&exports, "mijn-cjg-inzage-", "csv").await).unwrap();
    assert!(
        csv.contains("Datum en tijd") && csv.contains("Fleur Demo") && csv.contains("Ayşe Yılmaz"),
        "{csv}"
    );
    wait_for(&c, "#export-pdf").await.click().await.unwrap();
    let pdf = exported(&exports, "mijn-cjg-inzage-", "pdf").await;
    let text = cjg_tests::pdf_text(&pdf);
    assert!(text.contains("bekeek alle verslagen") && text.contains("Ayşe Yılmaz"), "{text}");
    wait_for(&c, "#export-msg").await;
    shot(&c, "11-inzage").await;

    // Someone changes a line of the log in the server's database: the next update notices,
    // keeps what was checked and warns.
    let w = server.db();
    w.execute(
        "UPDATE audit_events SET purpose = 'kwaliteit' WHERE event_id = (SELECT v.event_id FROM audit_views v
         JOIN people p ON p.id = v.person_id WHERE p.display_name = 'Sanne Voorbeeld' AND v.position = 1)",
        params![],
    )
    .unwrap();
    wait_for(&c, "#refresh").await.click().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = wait_for(&c, "#sync-status").await.text().await.unwrap();
        if text.contains("inzagelijst") {
            break;
        }
        assert!(Instant::now() < deadline, "no message about the log: {text}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    wait_for(&c, "#nav-dossier").await.click().await.unwrap();
    wait_for(&c, "#nav-inzage").await.click().await.unwrap();
    let warning = wait_for(&c, "#audit-warning").await.text().await.unwrap();
    assert!(warning.contains("klopt niet") && warning.contains("zijn veranderd"), "{warning}");
    shot(&c, "12-inzage-waarschuwing").await;
    // Read and dismissed, the warning stays as history.
    wait_for(&c, "#audit-warning-dismiss").await.click().await.unwrap();
    let history = wait_for(&c, "#audit-warning-history").await.text().await.unwrap();
    assert!(history.contains("Eerdere waarschuwingen") && history.contains("zijn veranderd"), "{history}");
    shot(&c, "12b-inzage-geschiedenis").await;
    wait_for(&c, "#nav-dossier").await.click().await.unwrap();
    assert_eq!(entry_titles(&c, 11).await.len(), 11, "nothing of the dossier is lost");

    // A second account on the same device: Noor (14) adds hers from the lock screen.
    wait_for(&c, "#lock").await.click().await.unwrap();
    wait_for(&c, "#add-account").await.click().await.unwrap();
    type_into(&c, "#code", &server.code_for("Noor")).await;
    wait_for(&c, "#to-pin").await.click().await.unwrap();
    type_into(&c, "#pin", NOOR_PIN).await;
    type_into(&c, "#pin-again", NOOR_PIN).await;
    type_into(&c, "#account-label", "Noor").await;
    wait_for(&c, "#finish").await.click().await.unwrap();
    let noor_titles = entry_titles(&c, 9).await;
    assert_eq!(noor_titles.len(), 9, "Noor sees her own set: {noor_titles:?}");
    assert!(noor_titles.iter().any(|t| t == "Gesprek alleen met Noor"));
    // Noor is 14: the app says "je" to her, where it says "u" to her mother.
    let lead = wait_for(&c, "p.lead").await.text().await.unwrap();
    assert_eq!(lead, "Dit schreef je coach over jou en je gezin.");

    // Where the device secret is: in the keychain (then Noor turns on opening without PIN), or
    // in a file, which the app says is less protected.
    wait_for(&c, "#settings").await.click().await.unwrap();
    let home = wait_for(&c, "#secret-home").await.attr("data-home").await.unwrap().unwrap_or_default();
    let keychain = home == "keychain";
    if keychain {
        wait_for(&c, "#key-unlock").await.click().await.unwrap();
        wait_for(&c, "#key-unlock-msg").await;
    }
    shot(&c, "09-beveiliging").await;
    wait_for(&c, "#lock").await.click().await.unwrap();
    wait_for(&c, "label.account-choice .name").await;
    let labels = c.find_all(Locator::Css("label.account-choice .name")).await.unwrap();
    let mut names = Vec::new();
    for l in labels {
        names.push(l.text().await.unwrap());
    }
    assert_eq!(names, ["Mama", "Noor"], "the lock screen lets each choose their own account");
    // Locked, the app does not know who comes next: "u" again.
    let title = wait_for(&c, "#unlock-title").await.text().await.unwrap();
    assert_eq!(title, "Vul uw pincode in");
    if keychain {
        wait_for(&c, "label.account-choice:nth-of-type(2)").await.click().await.unwrap();
        wait_for(&c, "#unlock-keychain").await.click().await.unwrap();
        assert_eq!(entry_titles(&c, 9).await.len(), 9, "opened from the keychain, no PIN");
        wait_for(&c, "#lock").await.click().await.unwrap();
    }
    shot(&c, "10-accounts").await;
    c.close().await.unwrap();
    drop(driver);

    // Restart with the server gone: unlock with the PIN and read offline.
    server.stop();
    let driver = Driver::start(data.path(), &server.url);
    let c = driver.session().await;
    wait_for(&c, "label.account-choice:nth-of-type(1)").await.click().await.unwrap();
    // Noor's PIN does not open Mama's account.
    type_into(&c, "#unlock-pin", NOOR_PIN).await;
    wait_for(&c, "#unlock").await.click().await.unwrap();
    let err = wait_for(&c, "#unlock-error").await.text().await.unwrap();
    assert!(err.contains("pincode"), "{err}");
    shot(&c, "06-foute-pincode").await;
    type_into(&c, "#unlock-pin", NEW_PIN).await;
    wait_for(&c, "#unlock").await.click().await.unwrap();
    let mut titles = entry_titles(&c, 11).await;
    titles.sort();
    assert_eq!(titles, expected, "offline, from the encrypted store");
    // Vernieuwen with no server: a clear message, and the entries stay.
    wait_for(&c, "#refresh").await.click().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = wait_for(&c, "#sync-status").await.text().await.unwrap();
        if text.contains("verbinding") {
            break;
        }
        assert!(Instant::now() < deadline, "no offline message: {text}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(entry_titles(&c, 11).await.len(), 11);
    shot(&c, "07-offline").await;
    c.close().await.unwrap();
    assert_accessible();
}

/// The bytes of the export named `<prefix>…<ext>` once the app has written it.
async fn exported(exports: &std::path::Path, prefix: &str, ext: &str) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found = std::fs::read_dir(exports).ok().and_then(|d| {
            d.filter_map(Result::ok).map(|e| e.path()).find(|p| {
                p.extension().is_some_and(|x| x == ext)
                    && p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(prefix))
            })
        });
        if let Some(p) = found {
            return std::fs::read(p).unwrap();
        }
        assert!(Instant::now() < deadline, "no {prefix}….{ext} export");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn staff_sign_in(c: &Client, username: &str, password: &str) {
    wait_for(c, "#staff-signin").await.click().await.unwrap();
    type_into(c, "#staff-username", username).await;
    type_into(c, "#staff-password", password).await;
    wait_for(c, "#staff-login").await.click().await.unwrap();
    wait_for(c, "#staff-articles").await;
}

async fn staff_sign_out(c: &Client) {
    wait_for(c, "#staff-logout").await.click().await.unwrap();
    wait_for(c, "#staff-signin").await;
}

/// A new staff account in the real app: the first sign-in sets up the second factor with a QR
/// code (the test plays the authenticator app with the key shown under it), shows the recovery
/// codes once, and every later sign-in asks for a fresh code.
#[tokio::test]
async fn staff_set_up_a_second_factor_and_sign_in_with_a_code() {
    use cjg_core::second_factor::{code_at, secret_from_text};
    let server = TestServer::start().unwrap();
    let setup_code = server.add_staff("jan.test", "een-lang-wachtwoord-2026").unwrap();
    let data = tempfile::tempdir().unwrap();
    let driver = Driver::start(data.path(), &server.url);
    let c = driver.session().await;
    let now = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();

    wait_for(&c, "#staff-signin").await.click().await.unwrap();
    type_into(&c, "#staff-username", "jan.test").await;
    type_into(&c, "#staff-password", "een-lang-wachtwoord-2026").await;
    wait_for(&c, "#staff-login").await.click().await.unwrap();
    // First the administrator's setup code, then the QR code.
    type_into(&c, "#staff-setup-code", "ABCDE-FGHJK").await;
    wait_for(&c, "#staff-login").await.click().await.unwrap();
    let err = wait_for(&c, "#staff-error").await.text().await.unwrap();
    assert!(err.contains("instelcode"), "{err}");
    type_into(&c, "#staff-setup-code", &setup_code).await;
    wait_for(&c, "#staff-login").await.click().await.unwrap();
    wait_for(&c, "#staff-qr svg").await;
    let secret = wait_for(&c, "#staff-secret").await.text().await.unwrap();
    let secret = secret_from_text(&secret).expect("the key under the QR code");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    shot(&c, "30-tweede-factor-instellen").await;
    type_into(&c, "#staff-code", "000000").await;
    let started = now();
    if code_at(&secret, started).as_deref() != Some("000000") {
        wait_for(&c, "#staff-confirm-code").await.click().await.unwrap();
        let err = wait_for(&c, "#staff-error").await.text().await.unwrap();
        assert!(err.contains("code"), "{err}");
    }
    type_into(&c, "#staff-code", &code_at(&secret, started).unwrap()).await;
    wait_for(&c, "#staff-confirm-code").await.click().await.unwrap();
    wait_for(&c, "#staff-recovery-codes li").await;
    let codes = c.find_all(Locator::Css("#staff-recovery-codes li")).await.unwrap();
    assert_eq!(codes.len(), 10);
    shot(&c, "31-herstelcodes").await;
    wait_for(&c, "#staff-recovery-done").await.click().await.unwrap();
    wait_for(&c, "#staff-articles").await;
    staff_sign_out(&c).await;

    // The next sign-in asks for a code, and takes the next one the app shows.
    wait_for(&c, "#staff-signin").await.click().await.unwrap();
    type_into(&c, "#staff-username", "jan.test").await;
    type_into(&c, "#staff-password", "een-lang-wachtwoord-2026").await;
    wait_for(&c, "#staff-login").await.click().await.unwrap();
    wait_for(&c, "#staff-code").await;
    shot(&c, "32-code-vragen").await;
    // A code of a later step than the one used (each counts once), within the allowed drift.
    type_into(&c, "#staff-code", &code_at(&secret, now().max(started + 30)).unwrap()).await;
    wait_for(&c, "#staff-login").await.click().await.unwrap();
    wait_for(&c, "#staff-articles").await;
    c.close().await.unwrap();
    assert_accessible();
}

/// The staff side of Informatie in the real app: a coach writes an article (with a script in
/// it, which the preview shows as text) and may not approve it; the behavioural scientist
/// approves it and withdraws another; the coach sets a tip for the family. A family member's
/// app then gets the tip and the new article, and no longer the withdrawn one.
#[tokio::test]
async fn staff_write_approve_withdraw_and_set_a_tip() {
    let server = TestServer::start().unwrap();
    let data = tempfile::tempdir().unwrap();
    let driver = Driver::start(data.path(), &server.url);
    let c = driver.session().await;
    let title = "Samen eten zonder strijd";
    let by_title =
        |t: &str| format!("//button[contains(@class,'art-item')][.//span[@class='title'][text()='{t}']]");

    // The accessibility check of every screenshot below can fail: it reports a nameless button.
    wait_for(&c, "#staff-signin").await;
    axe_catches_a_nameless_button(&c).await;
    staff_sign_in(&c, "coach", &server.coach_password).await;
    wait_for(&c, "#staff-articles").await.click().await.unwrap();
    wait_for(&c, "#art-new").await.click().await.unwrap();
    wait_for(&c, "#art-save").await.click().await.unwrap();
    let err = wait_for(&c, "#art-error").await.text().await.unwrap();
    assert!(err.contains("Vul titel"), "an empty form is not sent: {err}");
    type_into(&c, "#art-title", title).await;
    type_into(&c, "#art-summary", "Zo wordt het avondeten weer gezellig.").await;
    // Lines as an author pastes them (typing a newline is not the same key in every driver).
    let body = "Eet samen aan tafel, zonder schermen.\n\n<script>document.title='gehackt'</script>\n\n\
        - Een hapje proeven is genoeg\n- Prijs wat goed gaat";
    c.execute(
        "const e = document.querySelector('#art-body'); e.value = arguments[0];
         e.dispatchEvent(new Event('input', { bubbles: true }));",
        vec![json!(body)],
    )
    .await
    .unwrap();
    click_in_view(&c, "#art-topic-eten").await;
    wait_for(&c, "#art-preview").await.click().await.unwrap();
    let preview = wait_for(&c, "#art-preview-box").await.text().await.unwrap();
    assert!(preview.contains("<script>") && preview.contains("Prijs wat goed gaat"), "{preview}");
    assert_eq!(c.find_all(Locator::Css("#art-preview-box li")).await.unwrap().len(), 2);
    assert_eq!(c.find_all(Locator::Css("#art-preview-box script")).await.unwrap().len(), 0);
    shot(&c, "26-artikel-schrijven").await;
    wait_for(&c, "#art-save").await.click().await.unwrap();
    wait_text(&c, "#art-state", "Wacht op goedkeuring").await;
    wait_for(&c, "#art-approve").await.click().await.unwrap();
    let err = wait_for(&c, "#art-error").await.text().await.unwrap();
    assert!(err.contains("gedragswetenschapper"), "a coach does not approve: {err}");
    shot(&c, "27-artikel-wacht").await;
    let article: String = server
        .db()
        .query_row("SELECT article_id FROM article_revisions WHERE title = ?1", [title], |r| r.get(0))
        .unwrap();
    let approved: Option<i64> = server
        .db()
        .query_row("SELECT published_revision FROM articles WHERE id = ?1", [&article], |r| r.get(0))
        .unwrap();
    assert_eq!(approved, None, "not published");
    wait_for(&c, "#art-back").await.click().await.unwrap();
    wait_for(&c, "#art-list-back").await.click().await.unwrap();
    staff_sign_out(&c).await;

    // The behavioural scientist approves it, and withdraws an older article.
    staff_sign_in(&c, "gedrag", &server.coach_password).await;
    wait_for(&c, "#staff-articles").await.click().await.unwrap();
    wait_for(&c, "#art-list").await;
    wait_for_xpath(&c, &by_title(title)).await.click().await.unwrap();
    wait_for(&c, "#art-approve").await.click().await.unwrap();
    wait_text(&c, "#art-state", "Gezinnen lezen dit").await;
    wait_for(&c, "#art-approved").await;
    wait_for(&c, "#art-back").await.click().await.unwrap();
    wait_for(&c, "#art-list").await;
    wait_for_xpath(&c, &by_title("Goed slapen voor je baby")).await.click().await.unwrap();
    wait_for(&c, "#art-withdraw").await.click().await.unwrap();
    wait_for(&c, "#art-withdraw-hint").await;
    wait_for(&c, "#art-withdraw").await.click().await.unwrap();
    wait_text(&c, "#art-state", "Ingetrokken").await;
    shot(&c, "28-artikel-ingetrokken").await;
    // A new text for it waits for approval (which would bring it back); families still see nothing.
    wait_for(&c, "#art-edit").await.click().await.unwrap();
    type_into(&c, "#art-summary", "Een nieuwe tekst over slapen, nog niet goedgekeurd.").await;
    wait_for(&c, "#art-save").await.click().await.unwrap();
    wait_text(&c, "#art-state", "Wacht op goedkeuring").await;
    wait_for(&c, "#art-approve").await;
    wait_for(&c, "#art-back").await.click().await.unwrap();
    wait_for(&c, "#art-list-back").await.click().await.unwrap();
    staff_sign_out(&c).await;

    // The coach sets a tip for Sanne, for now.
    staff_sign_in(&c, "coach", &server.coach_password).await;
    wait_for(&c, "button.caseload-item").await.click().await.unwrap();
    wait_for(&c, "#open-dossier").await.click().await.unwrap();
    wait_for(&c, "#tip-form").await;
    let before = c.find_all(Locator::Css("#staff-tips li")).await.unwrap().len();
    let sanne = cjg_tests::person_id(&server.db(), "Sanne Voorbeeld");
    wait_for(&c, "#tip-send").await.click().await.unwrap();
    let err = wait_for(&c, "#tip-error").await.text().await.unwrap();
    assert!(err.contains("Kies eerst"), "{err}");
    wait_for(&c, "#tip-person").await.select_by_value(&sanne).await.unwrap();
    wait_for(&c, "#tip-article").await.select_by_value(&article).await.unwrap();
    let withdrawn =
        c.find_all(Locator::XPath("//select[@id='tip-article']/option[text()='Goed slapen voor je baby']"));
    assert!(withdrawn.await.unwrap().is_empty(), "a withdrawn article is not offered");
    type_into(&c, "#tip-note", "Lees dit voor ons gesprek over het avondeten.").await;
    wait_for(&c, "#tip-send").await.click().await.unwrap();
    wait_for(&c, "#tip-done").await;
    let tips = c.find_all(Locator::Css("#staff-tips li")).await.unwrap();
    assert_eq!(tips.len(), before + 1);
    let mut texts = Vec::new();
    for t in tips {
        texts.push(t.text().await.unwrap());
    }
    assert!(texts.iter().any(|t| t.contains(title) && t.contains("Nog niet gelezen")), "{texts:?}");
    shot(&c, "29-leestip").await;
    c.close().await.unwrap();
    drop(driver);

    // Sanne's app gets the tip and the new article; the withdrawn one is gone.
    let (_dir, app) = cjg_tests::enrolled_app(&server, "Sanne").await;
    let view = app.informatie("", None, None, false).await.unwrap();
    assert!(view.tips.iter().any(|t| t.article.title == title && t.tip.note.contains("avondeten")));
    let titles: Vec<&str> = view.articles.iter().map(|a| a.title.as_str()).collect();
    assert!(titles.contains(&title) && !titles.contains(&"Goed slapen voor je baby"), "{titles:?}");
    assert_eq!(view.total, 15);
    assert_accessible();
}

/// The usage report in the real app: a coach is told it is not for them; the quality officer
/// sees last month's figures as tables (the grand total first, a team on request, small
/// groups as "minder dan 5"), and saves them as CSV. The server logged each pull.
#[tokio::test]
async fn staff_read_the_usage_report_and_save_it() {
    let server = TestServer::start().unwrap();
    let data = tempfile::tempdir().unwrap();
    let driver = Driver::start(data.path(), &server.url);
    let c = driver.session().await;

    staff_sign_in(&c, "coach", &server.coach_password).await;
    wait_for(&c, "#staff-usage").await.click().await.unwrap();
    let err = wait_for(&c, "#usage-error").await.text().await.unwrap();
    assert!(err.contains("kwaliteitsmedewerkers en managers"), "{err}");
    wait_for(&c, "#usage-back").await.click().await.unwrap();
    staff_sign_out(&c).await;

    staff_sign_in(&c, "kwaliteit", &server.coach_password).await;
    wait_for(&c, "#staff-usage").await.click().await.unwrap();
    wait_for(&c, "#usage-reach").await;
    let in_care =
        wait_for(&c, "#usage-reach tr[data-measure='families_in_care'] td").await.text().await.unwrap();
    assert!(
        in_care.trim().parse::<u32>().is_ok_and(|n| n >= 5),
        "all families in care last month: {in_care}"
    );
    let caption = wait_for(&c, "#usage-reach caption").await.text().await.unwrap();
    assert_eq!(caption, "Bereik");
    // What people share themselves is an estimate, and the page says so.
    let text = wait_for(&c, "#usage-report").await.text().await.unwrap();
    assert!(
        text.contains("Wat mensen zelf delen (geschat)") && text.contains("schatting met een marge"),
        "{text}"
    );
    // The feedback of the demo is small: hidden, in words.
    assert!(text.contains("niet getoond"), "{text}");
    shot(&c, "40-gebruik-van-de-app").await;
    // One team.
    let team = c
        .find(Locator::XPath("//select[@id='usage-group']/option[contains(text(),'Team Noord')]"))
        .await
        .unwrap();
    team.click().await.unwrap();
    wait_for(&c, "#usage-group").await;
    wait_for(&c, "#usage-csv").await.click().await.unwrap();
    wait_for(&c, "#usage-saved").await;
    let exports = data.path().join("exports");
    let csv = String::from_utf8(exported(&exports, "mijn-cjg-gebruik-", "csv").await).unwrap();
    let mut lines = csv.trim_start_matches('\u{feff}').lines();
    assert!(lines.next().unwrap().starts_with("Gemeente;Team;Periode;Gezinnen in zorg;"), "{csv}");
    assert!(csv.contains("Team Noord") && csv.contains("Alle gemeenten"), "{csv}");
    // A quarter too.
    let q = c.find(Locator::XPath("//select[@id='usage-period']/optgroup[2]/option[1]")).await.unwrap();
    q.click().await.unwrap();
    wait_for(&c, "#usage-show").await.click().await.unwrap();
    wait_text(&c, "#usage-reach thead", "kwartaal").await;
    shot(&c, "41-gebruik-kwartaal").await;
    c.close().await.unwrap();
    let pulls: i64 = server
        .db()
        .query_row("SELECT COUNT(*) FROM report_pulls WHERE report = 'usage'", params![], |r| r.get(0))
        .unwrap();
    assert_eq!(pulls, 2, "the month and the quarter; the coach's try was refused before it");
    assert_accessible();
}

/// At phone width (360 px) every screen fits without sideways scrolling, the chosen module stays
/// in view, and axe-core finds nothing. Screenshots end in "-telefoon".
#[tokio::test]
async fn every_screen_fits_a_phone() {
    let server = TestServer::start().unwrap();
    let data = tempfile::tempdir().unwrap();
    let driver = Driver::start(data.path(), &server.url);
    let c = driver.session().await;
    c.set_window_size(360, 780).await.unwrap();
    let fits = |name: String| {
        let c = c.clone();
        async move {
            let ok = c
                .execute("return document.documentElement.scrollWidth <= window.innerWidth;", vec![])
                .await
                .unwrap();
            assert_eq!(ok.as_bool(), Some(true), "{name} is wider than the window");
            shot(&c, &name).await;
        }
    };
    let phone = |name: &str| format!("{name}-telefoon");
    wait_for(&c, "#code").await;
    fits(phone("01-welkom")).await;
    type_into(&c, "#code", &server.code_for("Sanne")).await;
    wait_for(&c, "#to-pin").await.click().await.unwrap();
    type_into(&c, "#pin", PIN).await;
    type_into(&c, "#pin-again", PIN).await;
    fits(phone("03-pincode")).await;
    wait_for(&c, "#finish").await.click().await.unwrap();
    assert_eq!(entry_titles(&c, 11).await.len(), 11);
    // A hundred looks at the dossier arrive by push: the badge keeps to three characters (and
    // still fits a phone), the screen reader hears the real number.
    let coach = server.staff().await.unwrap();
    let dossier = coach.dossier_id(&server.db()).await;
    for _ in 0..100 {
        coach.entries(dossier).await.unwrap();
    }
    wait_text(&c, "#nav-inzage .count-badge", "99+").await;
    let label = wait_for(&c, "#nav-inzage .count-badge").await.attr("aria-label").await.unwrap().unwrap();
    let number: u32 = label.chars().filter(char::is_ascii_digit).collect::<String>().parse().unwrap();
    assert!(number >= 100, "{label}");
    // A long dossier and a long log show a part, and more on request; the button takes the
    // focus to the first new row (a keyboard or screen reader user reads on from there).
    for i in 0..45 {
        let draft = family_entry(EntryKind::Afspraak, &format!("Afspraak {i}"), "Kort.", "2026-01-05");
        coach.create_entry(dossier, &draft).await.unwrap();
    }
    wait_text(&c, "#dossier-title ~ .filters .count", "56 onderdelen").await;
    assert_eq!(entry_titles(&c, 50).await.len(), 50, "the first 50 of 56 in the window");
    wait_text(&c, ".show-more .count", "50 van 56 te zien").await;
    // With the keyboard: the button (focused without scrolling, which would show more by
    // itself) and Enter.
    c.execute("document.querySelector('.show-more button').focus({ preventScroll: true });", vec![])
        .await
        .unwrap();
    press(&c, ENTER).await;
    assert_eq!(entry_titles(&c, 56).await.len(), 56);
    let focused = c.execute(
        "return document.activeElement === document.querySelectorAll('.entries .entry')[50];",
        vec![],
    );
    assert_eq!(focused.await.unwrap().as_bool(), Some(true), "focus on the first new entry");
    // Open it and come back: the list is as long as it was and the focus is on that entry.
    let id = c.execute("return document.activeElement.dataset.entryId;", vec![]).await.unwrap();
    press(&c, ENTER).await;
    wait_for(&c, "#back").await.click().await.unwrap();
    assert_eq!(entry_titles(&c, 56).await.len(), 56, "the list kept its length");
    let back = c.execute("return document.activeElement.dataset.entryId;", vec![]).await.unwrap();
    assert_eq!(back, id, "the focus is back on the entry that was open");
    wait_for(&c, "#nav-inzage").await.click().await.unwrap();
    wait_text(&c, ".show-more .count", "100 van ").await;
    // Lines of one visit show as one row: count the lines the rows stand for.
    const SHOWN: &str =
        "return [...document.querySelectorAll('.audit-line')].reduce((n, e) => n + Number(e.dataset.lines ?? 1), 0);";
    let shown = || async { c.execute(SHOWN, vec![]).await.unwrap().as_u64().unwrap() };
    assert_eq!(shown().await, 100, "the log shows a page of 100 lines");
    // Scrolled to the end of the page: the next lines come by themselves.
    c.execute("document.querySelector('.show-more').scrollIntoView();", vec![]).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while shown().await <= 100 {
        assert!(Instant::now() < deadline, "no more lines after scrolling to the end");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    wait_for(&c, "#nav-dossier").await.click().await.unwrap();
    walk_every_module(&c, &fits, &phone).await;

    // Dark colours (chosen in Instellingen) and text twice as large, on a desktop window:
    // nothing wider than the window, nothing lost, axe's contrast rules on every screen.
    c.set_window_size(1280, 900).await.unwrap();
    wait_for(&c, "#settings").await.click().await.unwrap();
    click_in_view(&c, "#theme input[value='dark']").await;
    let dark = c.execute("return document.documentElement.dataset.theme;", vec![]).await.unwrap();
    assert_eq!(dark.as_str(), Some("dark"));
    c.execute("document.documentElement.style.fontSize = '36px';", vec![]).await.unwrap();
    wait_for(&c, "#nav-dossier").await.click().await.unwrap();
    let large = |name: &str| format!("{name}-donker-200");
    walk_every_module(&c, &fits, &large).await;
    c.close().await.unwrap();
    assert_accessible();
}

/// Dossier, an entry, Taken, Informatie, Berichten, Instellingen, Inzage and a questionnaire:
/// each screen checked by `check` under the name `name` gives it.
async fn walk_every_module<F, Fut>(c: &Client, check: &F, name: &dyn Fn(&str) -> String)
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    wait_for(c, "button.entry").await;
    check(name("04-dossier")).await;
    wait_for(c, "button.entry").await.click().await.unwrap();
    wait_for(c, "#entry-title").await;
    check(name("05-detail")).await;
    wait_for(c, "#back").await.click().await.unwrap();
    for (tab, ready, screen) in [
        ("#nav-taken", "li.task", "17-taken"),
        ("#nav-informatie", "#info-count", "21-informatie"),
        ("#nav-berichten", "#msg-hours", "24-berichten"),
        ("#settings", "li.device", "08-instellingen"),
        ("#nav-inzage", "#audit-verified", "11-inzage"),
    ] {
        wait_for(c, tab).await.click().await.unwrap();
        wait_for(c, ready).await;
        let in_view = c
            .execute(
                "const t = document.querySelector('.tab[aria-current=\"page\"]').getBoundingClientRect();
                 return t.left >= 0 && t.right <= window.innerWidth;",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(in_view.as_bool(), Some(true), "{tab} is scrolled into view");
        check(name(screen)).await;
    }
    wait_for(c, "#nav-taken").await.click().await.unwrap();
    wait_for(c, "li.task button.task-go").await.click().await.unwrap();
    wait_for(c, "#q-title").await;
    check(name("18-vragenlijst")).await;
    wait_for(c, "#nav-dossier").await.click().await.unwrap();
}

/// Everything a family member does, with the keyboard alone: enrol, choose a PIN, read an
/// entry, lock and unlock, answer a questionnaire and write to the coach. Every control is
/// reached with Tab and shows where the focus is.
#[tokio::test]
async fn keyboard_only_enrol_read_answer_and_write() {
    let server = TestServer::start().unwrap();
    let data = tempfile::tempdir().unwrap();
    let driver = Driver::start(data.path(), &server.url);
    let c = driver.session().await;
    c.set_window_size(1280, 900).await.unwrap();

    wait_for(&c, "#code").await;
    tab_to(&c, "#code", 20).await;
    press(&c, &server.code_for("Sanne")).await;
    tab_to(&c, "#to-pin", 10).await;
    press(&c, ENTER).await;
    wait_for(&c, "#pin").await;
    tab_to(&c, "#pin", 20).await;
    press(&c, PIN).await;
    tab_to(&c, "#pin-again", 5).await;
    press(&c, PIN).await;
    tab_to(&c, "#finish", 10).await;
    press(&c, ENTER).await;
    assert_eq!(entry_titles(&c, 11).await.len(), 11);

    // Read an entry and come back.
    tab_to(&c, "button.entry", 40).await;
    press(&c, ENTER).await;
    let title = wait_for(&c, "#entry-title").await.text().await.unwrap();
    assert!(!title.is_empty());
    tab_to(&c, "#back", 40).await;
    press(&c, ENTER).await;
    wait_for(&c, "button.entry").await;

    // Lock, and unlock with the PIN and Enter.
    tab_to(&c, "#lock", 40).await;
    press(&c, ENTER).await;
    wait_for(&c, "#unlock-pin").await;
    tab_to(&c, "#unlock-pin", 20).await;
    press(&c, &format!("{PIN}{ENTER}")).await;
    assert_eq!(entry_titles(&c, 11).await.len(), 11);

    // A questionnaire: Tab through it; Space picks the first choice of each question that has
    // none yet, an open question gets a few words; then Versturen with Enter.
    tab_to(&c, "#nav-taken", 40).await;
    press(&c, ENTER).await;
    tab_to(&c, "li.task button.task-go", 60).await;
    press(&c, ENTER).await;
    wait_for(&c, "#q-title").await;
    let what_has_focus = "const e = document.activeElement;
        if (!e) return 'none';
        if (e.id === 'q-send') return 'send';
        if (e.type === 'radio')
            return document.querySelector(`input[name=\"${e.name}\"]:checked`) ? 'answered' : 'choice';
        if (e.tagName === 'TEXTAREA') return e.value ? 'answered' : 'text';
        return 'other';";
    let mut presses = 0;
    loop {
        let focus = c.execute(what_has_focus, vec![]).await.unwrap();
        match focus.as_str() {
            Some("send") => break,
            Some("choice") => press(&c, SPACE).await,
            Some("text") => press(&c, "Het gaat beter thuis.").await,
            _ => {}
        }
        press(&c, TAB).await;
        presses += 1;
        assert!(presses < 400, "Versturen cannot be reached with Tab");
    }
    tab_to(&c, "#q-send", 1).await;
    press(&c, ENTER).await;
    wait_for(&c, "#q-read-only").await;
    shot(&c, "30-toetsenbord-vragenlijst-verstuurd").await;

    // A message to the coach.
    tab_to(&c, "#nav-berichten", 60).await;
    press(&c, ENTER).await;
    tab_to(&c, "#msg-text", 40).await;
    press(&c, "Kunnen we donderdag bellen?").await;
    tab_to(&c, "#msg-send", 5).await;
    press(&c, ENTER).await;
    wait_text(&c, "#msg-thread", "Kunnen we donderdag bellen?").await;
    shot(&c, "31-toetsenbord-bericht").await;
    let stored: i64 = server
        .db()
        .query_row(
            "SELECT COUNT(*) FROM messages WHERE text = 'Kunnen we donderdag bellen?'",
            params![],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 1, "the coach has it");
    c.close().await.unwrap();
    assert_accessible();
}

/// A coach signs in with the organisation's account: the app opens the provider's page in the
/// browser (here `CJG_BROWSER`, a script that writes down what it was asked to open), never in
/// its own window; the browser signs in on the provider's login page and comes back to the
/// app's loopback address; the app is on the staff side and reads a dossier with a purpose.
/// Signing out opens the provider's sign-out page too.
#[tokio::test]
async fn staff_sign_in_with_the_organisation_account_through_the_browser() {
    use cjg_tests::oidc;
    let setup = oidc::start("").unwrap();
    // The administrator linked the demo coach to her account at the organisation.
    setup.link("coach", "coach").unwrap();
    let data = tempfile::tempdir().unwrap();
    let opened = data.path().join("opened-in-browser");
    let browser = data.path().join("browser");
    std::fs::write(&browser, format!("#!/bin/sh\necho \"$1\" >> '{}'\n", opened.display())).unwrap();
    std::fs::set_permissions(&browser, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let driver =
        Driver::start_with(data.path(), &setup.server.url, &[("CJG_BROWSER", &browser.to_string_lossy())]);
    let c = driver.session().await;
    let pages = || {
        std::fs::read_to_string(&opened).unwrap_or_default().lines().map(str::to_owned).collect::<Vec<_>>()
    };
    let wait_for_page = |n: usize| {
        let deadline = Instant::now() + Duration::from_secs(30);
        async move {
            loop {
                if let Some(p) = pages().get(n - 1) {
                    return p.clone();
                }
                assert!(Instant::now() < deadline, "the app opened no page in the browser");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };

    wait_for(&c, "#staff-signin").await.click().await.unwrap();
    // Started, then stopped: back to the choice, no error, and the app no longer listens.
    wait_for(&c, "#staff-org-login").await.click().await.unwrap();
    wait_text(&c, "#staff-org-waiting", "browser").await;
    let stopped = wait_for_page(1).await;
    wait_for(&c, "#staff-org-cancel").await.click().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !c.find_all(Locator::Css("#staff-org-waiting")).await.unwrap().is_empty() {
        assert!(Instant::now() < deadline, "still waiting for the browser after stopping");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(c.find_all(Locator::Css("#staff-error")).await.unwrap().is_empty(), "stopping is no error");
    let late = oidc::browser_sign_in(&stopped, "coach", "/mijn-cjg/klaar").await.unwrap();
    assert!(reqwest::get(&late).await.is_err(), "a late browser finds nobody listening: {late}");

    wait_for(&c, "#staff-org-login").await.click().await.unwrap();
    wait_text(&c, "#staff-org-waiting", "browser").await;
    shot(&c, "33-medewerker-organisatie-inloggen").await;
    assert!(
        c.find_all(Locator::Css("input[type=password]")).await.unwrap().len() <= 1,
        "no provider form in the app"
    );
    let authorize = wait_for_page(2).await;
    assert!(authorize.starts_with(&setup.provider.issuer), "{authorize}");
    let back = oidc::browser_sign_in(&authorize, "coach", "/mijn-cjg/klaar").await.unwrap();
    assert!(back.starts_with("http://127.0.0.1:") && back.contains("handoff="), "{back}");
    // The browser arrives at the app, which thanks it and goes on.
    let thanks = reqwest::get(&back).await.unwrap().text().await.unwrap();
    assert!(thanks.contains("U bent ingelogd"), "{thanks}");

    let family = wait_for(&c, "button.caseload-item").await;
    assert_eq!(family.text().await.unwrap(), "Gezin Voorbeeld");
    family.click().await.unwrap();
    wait_for(&c, "#purpose").await.select_by_value("gesprek_voorbereiden").await.unwrap();
    wait_for(&c, "#open-dossier").await.click().await.unwrap();
    wait_for(&c, "#staff-purpose").await;
    assert!(!c.find_all(Locator::Css("#staff-entries li")).await.unwrap().is_empty());
    let log = wait_for(&c, "#staff-log li").await.text().await.unwrap();
    assert!(log.contains("Fleur Demo"), "the log keeps the staff member's name: {log}");
    wait_for(&c, "#staff-back").await.click().await.unwrap();
    wait_for(&c, "#staff-logout").await.click().await.unwrap();
    let end = wait_for_page(3).await;
    assert!(end.starts_with(&format!("{}/session/end", setup.provider.issuer)), "{end}");
    assert_accessible();
}
