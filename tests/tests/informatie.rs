//! Informatie: only approved, not withdrawn articles reach a family; an author never approves
//! their own text; replacements and withdrawals follow by sync; reading tips show at their
//! moment, never for a withdrawn article, and the coach sees when one was read.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cjg_client::app::TaskKind;
use cjg_core::article::RevisionStatus;
use cjg_tests::{Staff, TestServer, PIN};
use serde_json::{json, Value};

fn draft(title: &str, body: &str) -> Value {
    json!({"title": title, "summary": "Een korte samenvatting voor de test.", "body": body,
        "topics": ["ouder_zijn"], "age_min": 0, "age_max": 18, "source": "Test", "language": "nl"})
}

/// The hash of a revision's text as the staff list shows it: what the staff app sends back when
/// the editor approves what they read.
async fn text_hash(staff: &Staff, id: &str, revision: u32) -> Option<String> {
    let list = staff.articles().await.unwrap();
    list.into_iter().find(|a| a.id.to_string() == id && a.revision == revision).map(|a| a.text_hash)
}

async fn post(staff: &Staff, path: &str, body: Value) -> reqwest::Response {
    staff
        .http
        .post(format!("{}{path}", staff.url))
        .bearer_auth(&staff.token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn only_approved_articles_reach_families_and_authors_never_approve_their_own() {
    let server = TestServer::start().unwrap();
    let (_dir, app) = cjg_tests::enrolled_app(&server, "Sanne").await;
    let before = app.informatie("", None, None, false).await.unwrap();
    assert_eq!(before.total, 15, "the demo library, all approved");

    let coach = server.staff().await.unwrap();
    let editor = server.staff_as("gedrag").await.unwrap();
    // Bad drafts are refused.
    assert_eq!(post(&coach, "/v1/staff/articles", draft("", "Tekst")).await.status(), 400);
    let mut no_topics = draft("Titel", "Tekst");
    no_topics["topics"] = json!([]);
    assert_eq!(post(&coach, "/v1/staff/articles", no_topics).await.status(), 400);
    let r =
        post(&coach, "/v1/staff/articles", draft("Voorleesavond thuis", "Speel elke dag even samen.")).await;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    let id = created[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(created[0]["status"], "draft");

    // A draft never reaches the app.
    app.sync(|_| {}).await.unwrap();
    assert_eq!(app.informatie("voorleesavond", None, None, false).await.unwrap().articles.len(), 0);

    // The author may not approve; a coach is no editor; the editor may, for the text they read
    // (named by its hash, as the staff app shows it).
    let approve = |who: &Staff, revision: u32| {
        let path = format!("/v1/staff/articles/{id}/approve");
        let who = Staff { http: who.http.clone(), url: who.url.clone(), token: who.token.clone() };
        let id = id.clone();
        async move {
            let hash = text_hash(&who, &id, revision).await.unwrap_or_default();
            post(&who, &path, json!({"revision": revision, "text_hash": hash})).await
        }
    };
    let own = server.staff_as("gedrag").await.unwrap();
    let r = post(&own, "/v1/staff/articles", draft("Eigen tekst", "Door de redacteur zelf.")).await;
    let own_id = r.json::<Value>().await.unwrap()[0]["id"].as_str().unwrap().to_owned();
    let own_hash = text_hash(&own, &own_id, 1).await.unwrap();
    let r = post(
        &own,
        &format!("/v1/staff/articles/{own_id}/approve"),
        json!({"revision": 1, "text_hash": own_hash}),
    )
    .await;
    assert_eq!(r.status(), 403, "an author cannot approve their own text");
    assert_eq!(approve(&coach, 1).await.status(), 403, "a coach does not approve");
    assert_eq!(approve(&editor, 2).await.status(), 404, "no such revision");
    assert_eq!(approve(&editor, 1).await.status(), 204);
    assert_eq!(approve(&editor, 1).await.status(), 409, "approved once");
    let listed = editor.articles().await.unwrap();
    let rev1 = listed.iter().find(|a| a.id.to_string() == id).unwrap();
    assert_eq!((rev1.status, rev1.approved_by.as_deref()), (RevisionStatus::Published, Some("Lotte Demo")));
    assert!(rev1.approved_at.is_some(), "who and when are recorded");

    app.sync(|_| {}).await.unwrap();
    let found = app.informatie("voorleesavond", None, None, false).await.unwrap().articles;
    assert_eq!(found.len(), 1);

    // A new text waits for approval; the family keeps the approved one meanwhile.
    let path = format!("/v1/staff/articles/{id}");
    let revised = coach
        .http
        .put(format!("{}{path}", coach.url))
        .bearer_auth(&coach.token)
        .json(&draft("Voorleesavond thuis", "Speel elke dag even samen, ook met oudere kinderen."))
        .send()
        .await
        .unwrap();
    assert_eq!(revised.status(), 200);
    app.sync(|_| {}).await.unwrap();
    let view = app.article(found[0].id).await.unwrap().unwrap();
    assert_eq!((view.article.revision, view.article.body.as_str()), (1, "Speel elke dag even samen."));
    assert_eq!(approve(&editor, 2).await.status(), 204);
    app.sync(|_| {}).await.unwrap();
    let view = app.article(found[0].id).await.unwrap().unwrap();
    assert_eq!(view.article.revision, 2, "the replacement arrived");
    assert!(view.article.body.contains("oudere kinderen"));

    // Withdrawn: gone from the device at the next sync; editors only.
    let withdraw = format!("/v1/staff/articles/{id}/withdraw");
    assert_eq!(post(&coach, &withdraw, json!({})).await.status(), 403);
    assert_eq!(post(&editor, &withdraw, json!({})).await.status(), 204);
    assert_eq!(post(&editor, &withdraw, json!({})).await.status(), 409);
    app.sync(|_| {}).await.unwrap();
    assert!(app.article(found[0].id).await.unwrap().is_none());
    assert_eq!(app.informatie("", None, None, false).await.unwrap().total, 15);
}

/// Four eyes hold: an author who changes the text after the editor read it cannot get the new
/// text approved under the old approval. Revisions are never replaced; the approval names the
/// revision and the hash of the text the editor was shown.
#[tokio::test]
async fn an_approval_is_for_exactly_the_text_the_editor_read() {
    let server = TestServer::start().unwrap();
    let coach = server.staff().await.unwrap();
    let editor = server.staff_as("gedrag").await.unwrap();
    let r = post(
        &coach,
        "/v1/staff/articles",
        draft("Avondeten zonder haast", "Eet als het kan samen aan tafel."),
    )
    .await;
    let id = r.json::<Value>().await.unwrap()[0]["id"].as_str().unwrap().to_owned();
    // The editor opens revision 1 and reads it.
    let seen = text_hash(&editor, &id, 1).await.unwrap();
    // Before they press approve, the author puts other text in.
    let swapped = coach
        .http
        .put(format!("{}/v1/staff/articles/{id}", coach.url))
        .bearer_auth(&coach.token)
        .json(&draft(
            "Avondeten zonder haast",
            "Kinderen hoeven nooit te eten wat de pot schaft; geef ze snoep.",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(swapped.status(), 200);
    let listed = editor.articles().await.unwrap();
    let revisions: Vec<u32> = listed.iter().filter(|a| a.id.to_string() == id).map(|a| a.revision).collect();
    assert_eq!(revisions, [1, 2], "the change is a new revision; the one read is still there");
    // Approving revision 2 with the hash of what was read is refused ...
    let path = format!("/v1/staff/articles/{id}/approve");
    let r = post(&editor, &path, json!({"revision": 2, "text_hash": seen})).await;
    assert_eq!(r.status(), 409);
    // ... as is an approval without the hash ...
    assert_eq!(post(&editor, &path, json!({"revision": 1})).await.status(), 400);
    // ... and approving revision 1 publishes exactly what the editor read.
    assert_eq!(post(&editor, &path, json!({"revision": 1, "text_hash": seen})).await.status(), 204);
    let (_dir, app) = cjg_tests::enrolled_app(&server, "Sanne").await;
    let found = app.informatie("avondeten zonder haast", None, None, false).await.unwrap().articles;
    assert_eq!(found.len(), 1);
    let view = app.article(found[0].id).await.unwrap().unwrap();
    assert_eq!(view.article.body, "Eet als het kan samen aan tafel.");
    // The database itself keeps revisions as written.
    let db = server.db();
    let changed = db.execute("UPDATE article_revisions SET body = 'x' WHERE article_id = ?1", [id.as_str()]);
    assert!(changed.is_err(), "a revision's text cannot be changed");
    assert!(db.execute("DELETE FROM article_revisions WHERE article_id = ?1", [id.as_str()]).is_err());
}

#[tokio::test]
async fn reading_tips_show_at_their_moment_and_the_coach_sees_them_read() {
    let server = TestServer::start().unwrap();
    let coach = server.staff().await.unwrap();
    let editor = server.staff_as("gedrag").await.unwrap();
    let db = server.db();
    let dossier = coach.dossier_id(&db).await;
    let karim = cjg_tests::person_id(&db, "Karim Voorbeeld");
    let article = |title: &str| -> String {
        db.query_row("SELECT article_id FROM article_revisions WHERE title = ?1", [title], |r| r.get(0))
            .unwrap()
    };
    let (sleep, screens) =
        (article("Naar bed gaan met een peuter"), article("Schermtijd voor jonge kinderen"));
    let tip = |article: &str, show_at: &str, note: &str| {
        let (article, show_at, note, karim) =
            (article.to_owned(), show_at.to_owned(), note.to_owned(), karim.clone());
        let coach = Staff { http: coach.http.clone(), url: coach.url.clone(), token: coach.token.clone() };
        async move {
            coach
                .http
                .post(format!("{}/v1/staff/dossiers/{dossier}/tips", coach.url))
                .bearer_auth(&coach.token)
                .header("X-Cjg-Purpose", "hulpverlening")
                .json(&json!({"person_id": karim, "article_id": article, "note": note, "show_at": show_at}))
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(tip(&sleep, "now", "Fijn om samen te lezen.").await.status(), 201);
    assert_eq!(tip(&screens, "eind", "Voor later.").await.status(), 201);
    assert_eq!(tip(&uuid::Uuid::new_v4().to_string(), "now", "").await.status(), 400, "no such article");
    assert_eq!(tip(&sleep, "nu meteen", "").await.status(), 400, "unknown moment");
    assert_eq!(tip(&sleep, "now", &"x".repeat(301)).await.status(), 400, "note too long");

    let (_dir, app) = cjg_tests::enrolled_app(&server, "Karim").await;
    let view = app.informatie("", None, None, false).await.unwrap();
    assert_eq!(view.tips.len(), 1, "the closing tip waits for the closing");
    assert_eq!(view.tips[0].tip.note, "Fijn om samen te lezen.");
    let task = app.tasks().await.unwrap().items.into_iter().find(|t| t.kind == TaskKind::ReadingTip).unwrap();
    assert_eq!(task.title, "Naar bed gaan met een peuter");
    assert_eq!(task.state, cjg_client::app::TaskState::Open);

    // Opening the article marks the tip read, on the server too.
    app.article(view.tips[0].article.id).await.unwrap().unwrap();
    let tips = coach.tips(dossier).await.unwrap();
    let read = tips.iter().find(|t| t.tip.article_id.to_string() == sleep).unwrap();
    assert!(read.tip.read_at.is_some(), "the coach sees it was read: {read:?}");
    let later = tips.iter().find(|t| t.tip.article_id.to_string() == screens).unwrap();
    assert!(!later.shown);
    let task = app.tasks().await.unwrap().items.into_iter().find(|t| t.kind == TaskKind::ReadingTip).unwrap();
    assert_eq!(task.state, cjg_client::app::TaskState::Submitted);

    // At closing the second tip shows. A withdrawn article takes its tip off the device, and
    // no new tip can point to it.
    let today = cjg_core::time::dutch_date(chrono::Utc::now());
    let r = coach
        .set_trajectory(
            dossier,
            json!({"started_on": today - chrono::Duration::days(200), "closed_on": today,
                "municipality": "Demostad", "team": "Team Noord"}),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    app.sync(|_| {}).await.unwrap();
    assert_eq!(app.informatie("", None, None, false).await.unwrap().tips.len(), 2);
    let r = post(&editor, &format!("/v1/staff/articles/{screens}/withdraw"), json!({})).await;
    assert_eq!(r.status(), 204);
    app.sync(|_| {}).await.unwrap();
    assert_eq!(app.informatie("", None, None, false).await.unwrap().tips.len(), 1);
    assert_eq!(tip(&screens, "now", "").await.status(), 400, "a tip for a withdrawn article is refused");
}

#[tokio::test]
async fn search_works_offline_without_caring_for_accents_or_case() {
    let data = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_in(data.path(), "127.0.0.1:0", &[]).unwrap();
    let listen = server.url.trim_start_matches("http://").to_owned();
    let (dir, app) = cjg_tests::enrolled_app(&server, "Noor").await;
    server.stop();
    let titles =
        |v: cjg_client::app::InformatieView| v.articles.into_iter().map(|a| a.title).collect::<Vec<_>>();
    let ruzie = titles(app.informatie("ruzie", None, None, false).await.unwrap());
    assert_eq!(ruzie.first().map(String::as_str), Some("Ruzie met je puber"), "a title hit first: {ruzie:?}");
    assert!(ruzie.contains(&"Ruzie tussen broers en zussen".to_owned()));
    assert_eq!(titles(app.informatie("RUZIË", None, None, false).await.unwrap()), ruzie);
    let puber =
        titles(app.informatie("", Some(cjg_core::article::Topic::Puberteit), Some(14), false).await.unwrap());
    assert!(puber.iter().all(|t| t.contains("puber") || t.contains("Telefoon")), "{puber:?}");
    assert!(titles(app.informatie("", None, Some(0), false).await.unwrap())
        .contains(&"Goed slapen voor je baby".to_owned()));
    assert!(!titles(app.informatie("", None, Some(14), false).await.unwrap())
        .contains(&"Goed slapen voor je baby".to_owned()));
    let e = app.informatie(&"x".repeat(201), None, None, false).await.unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    // "Nuttig": marked offline, kept sealed across a lock, shown as a filter, taken back.
    let puber = app.informatie("Ruzie met je puber", None, None, false).await.unwrap().articles[0].clone();
    assert!(!puber.useful);
    app.set_article_useful(puber.id, true).await.unwrap();
    let account = app.status().await.unwrap().account.unwrap();
    app.lock().await;
    assert_eq!(app.set_article_useful(puber.id, false).await.unwrap_err().code(), "locked");
    // Without a keychain the PIN is checked with the server's help: it must be there to unlock.
    let _server = TestServer::start_in(data.path(), &listen, &[]).unwrap();
    app.unlock(account, PIN).await.unwrap();
    let useful = app.informatie("", None, None, true).await.unwrap().articles;
    assert_eq!(useful.iter().map(|a| (a.id, a.useful)).collect::<Vec<_>>(), [(puber.id, true)]);
    assert!(app.article(puber.id).await.unwrap().unwrap().useful);
    app.set_article_useful(puber.id, false).await.unwrap();
    assert!(app.informatie("", None, None, true).await.unwrap().articles.is_empty());
    // Nothing of the library is readable on disk.
    for entry in walk(dir.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(!cjg_tests::contains(&bytes, "Kieskeurig eten"), "{}", entry.display());
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The renderer's output is text; this keeps the UI from ever turning text into markup.
#[test]
fn the_ui_has_no_path_from_text_to_markup() {
    let ui = cjg_tests::workspace_root().join("ui/src");
    let mut files = walk(&ui);
    files.retain(|p| p.extension().is_some_and(|e| e == "svelte" || e == "ts"));
    assert!(files.len() > 10, "found the UI sources");
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for banned in [
            "{@html",
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
            "new Function",
        ] {
            assert!(!text.contains(banned), "{} uses {banned}", f.display());
        }
    }
}
