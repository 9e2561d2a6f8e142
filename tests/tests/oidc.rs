//! Staff sign in with the organisation's own account: a real OpenID Provider on loopback
//! (`scripts/oidc-provider`), the real server, a browser on the provider's login page.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cjg_tests::oidc::{self, app_secret, browser_sign_in};
use cjg_tests::params;
use serde_json::{json, Value};

const RETURN_TO: &str = "http://127.0.0.1:47999/klaar";

/// Starts a sign-in as the app would; the provider's page and the app's secret.
async fn start(http: &reqwest::Client, url: &str) -> (String, String) {
    let (verifier, challenge) = app_secret();
    let r: Value = http
        .post(format!("{url}/v1/staff/oidc/start"))
        .json(&json!({"return_to": RETURN_TO, "app_challenge": challenge}))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    (r["authorize_url"].as_str().unwrap().to_owned(), verifier)
}

fn query_value(url: &str, name: &str) -> Option<String> {
    reqwest::Url::parse(url).unwrap().query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

async fn finish(http: &reqwest::Client, url: &str, handoff: &str, verifier: &str) -> reqwest::Response {
    http.post(format!("{url}/v1/staff/oidc/finish"))
        .json(&json!({"handoff": handoff, "app_verifier": verifier}))
        .send()
        .await
        .unwrap()
}

async fn code_of(resp: reqwest::Response) -> (u16, String) {
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    (status, body["error"]["code"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn a_coach_signs_in_at_the_organisation_reads_a_dossier_and_signs_out_there_too() {
    let setup = oidc::start("").unwrap();
    setup.link("coach", "coach").unwrap();
    let url = &setup.server.url;
    let http = reqwest::Client::new();
    let options: Value =
        http.get(format!("{url}/v1/staff/sign-in-options")).send().await.unwrap().json().await.unwrap();
    assert_eq!(options, json!({"built_in": true, "organisation": true}));

    let (authorize, verifier) = start(&http, url).await;
    assert!(authorize.starts_with(&setup.provider.issuer), "{authorize}");
    assert!(authorize.contains("code_challenge_method=S256"), "PKCE: {authorize}");
    let back = browser_sign_in(&authorize, "coach", RETURN_TO).await.unwrap();
    let handoff = query_value(&back, "handoff").unwrap_or_else(|| panic!("no handoff: {back}"));

    // Someone else with the handoff but not the app's secret gets nothing, and used it up.
    let (someone_elses, _) = app_secret();
    let (status, code) = code_of(finish(&http, url, &handoff, &someone_elses).await).await;
    assert_eq!((status, code.as_str()), (401, "organisation_sign_in_failed"));
    let (status, _) = code_of(finish(&http, url, &handoff, &verifier).await).await;
    assert_eq!(status, 401, "a handoff gets one try");

    // Again, with the right secret.
    let (authorize, verifier) = start(&http, url).await;
    let back = browser_sign_in(&authorize, "coach", RETURN_TO).await.unwrap();
    let handoff = query_value(&back, "handoff").unwrap();
    let resp = finish(&http, url, &handoff, &verifier).await;
    assert_eq!(resp.status(), 200);
    let token: Value = resp.json().await.unwrap();
    let staff = cjg_tests::Staff {
        http: http.clone(),
        url: url.clone(),
        token: token["token"].as_str().unwrap().to_owned(),
    };
    let (status, _) = code_of(finish(&http, url, &handoff, &verifier).await).await;
    assert_eq!(status, 401, "a replayed handoff is refused");

    // The administrator linked the demo coach: her caseload, her name in the log.
    let db = setup.server.db();
    let dossier = staff.dossier_id(&db).await;
    let entries = staff.entries(dossier).await.unwrap();
    assert!(!entries.is_empty());
    let actor: String = db
        .query_row(
            "SELECT actor_name FROM audit_events WHERE dossier_id = ?1 ORDER BY id DESC LIMIT 1",
            params![dossier.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(actor, "Fleur Demo");
    let (method, subject): (String, Option<String>) = db
        .query_row("SELECT method, subject FROM staff_sign_ins ORDER BY id DESC LIMIT 1", params![], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((method.as_str(), subject.as_deref()), ("organisation", Some("coach")));
    // Linked: the built-in password no longer opens the account.
    let r = http
        .post(format!("{url}/v1/staff/login"))
        .json(&json!({"username": "coach", "password": setup.server.coach_password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "the organisation decides now");

    // Sign-out ends the session here and says where the browser ends it at the provider.
    let out: Value =
        staff.req(reqwest::Method::POST, "/v1/staff/logout").send().await.unwrap().json().await.unwrap();
    let end = out["end_session_url"].as_str().unwrap();
    assert!(end.starts_with(&format!("{}/session/end", setup.provider.issuer)), "{end}");
    assert!(end.contains("id_token_hint="), "{end}");
    let r = staff.req(reqwest::Method::GET, "/v1/staff/dossiers").send().await.unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn wrong_state_replayed_answers_and_unknown_groups_are_refused() {
    let setup = oidc::start("").unwrap();
    let url = &setup.server.url;
    let http = reqwest::Client::new();
    let no_redirects =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();

    // A state the server never handed out.
    let r = no_redirects
        .get(format!("{url}/v1/staff/oidc/callback?state=verzonnen&code=abc"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("log opnieuw in"), "a Dutch page that says what to do");

    // The provider's answer, caught before the server sees it: used once it works, twice not.
    let (authorize, _) = start(&http, url).await;
    let callback_prefix = format!("{url}/v1/staff/oidc/callback");
    let answer = browser_sign_in(&authorize, "coach", &callback_prefix).await.unwrap();
    assert!(query_value(&answer, "code").is_some(), "{answer}");
    let first = no_redirects.get(&answer).send().await.unwrap();
    assert_eq!(first.status(), 303);
    let location = first.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(RETURN_TO) && location.contains("handoff="), "{location}");
    let again = no_redirects.get(&answer).send().await.unwrap();
    assert_eq!(again.status(), 400, "a replayed code and state find no sign-in");

    // The right state with a code the provider never issued: the provider refuses it.
    let (authorize, _) = start(&http, url).await;
    let answer = browser_sign_in(&authorize, "coach", &callback_prefix).await.unwrap();
    let state = query_value(&answer, "state").unwrap();
    let forged = format!("{callback_prefix}?state={state}&code=verzonnen-code");
    let r = no_redirects.get(&forged).send().await.unwrap();
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(query_value(&location, "error").as_deref(), Some("organisation_sign_in_failed"), "{location}");

    // Signed in at the organisation, but in no group that gives a role.
    let (authorize, verifier) = start(&http, url).await;
    let back = browser_sign_in(&authorize, "bas.nogroep", RETURN_TO).await.unwrap();
    assert_eq!(query_value(&back, "error").as_deref(), Some("no_staff_role"), "{back}");
    assert!(query_value(&back, "handoff").is_none());
    let _ = verifier;

    // A return address that is not this machine's loopback is refused at the start.
    let (_, challenge) = app_secret();
    let r = http
        .post(format!("{url}/v1/staff/oidc/start"))
        .json(&json!({"return_to": "https://aanvaller.example/vang", "app_challenge": challenge}))
        .send()
        .await
        .unwrap();
    assert_eq!(code_of(r).await, (400, "validation".to_owned()));
}

#[tokio::test]
async fn a_disabled_account_loses_access_at_the_next_check() {
    let setup = oidc::start("recheck_minutes = 1\nbuilt_in_accounts = false").unwrap();
    let url = &setup.server.url;
    let http = reqwest::Client::new();
    let options: Value =
        http.get(format!("{url}/v1/staff/sign-in-options")).send().await.unwrap().json().await.unwrap();
    assert_eq!(options, json!({"built_in": false, "organisation": true}));
    let r = http
        .post(format!("{url}/v1/staff/login"))
        .json(&json!({"username": "kwaliteit", "password": setup.server.coach_password}))
        .send()
        .await
        .unwrap();
    assert_eq!(code_of(r).await, (403, "built_in_accounts_off".to_owned()));

    let (authorize, verifier) = start(&http, url).await;
    let back = browser_sign_in(&authorize, "coach", RETURN_TO).await.unwrap();
    let handoff = query_value(&back, "handoff").unwrap();
    let token: Value = finish(&http, url, &handoff, &verifier).await.json().await.unwrap();
    let staff = cjg_tests::Staff {
        http: http.clone(),
        url: url.clone(),
        token: token["token"].as_str().unwrap().to_owned(),
    };
    let db = setup.server.db();
    let a_while_ago = || {
        let past = chrono::Utc::now() - chrono::Duration::minutes(2);
        db.execute("UPDATE oidc_sessions SET checked_at = ?1", params![past]).unwrap();
    };
    // A check that the provider passes keeps the session.
    a_while_ago();
    let r = staff.req(reqwest::Method::GET, "/v1/staff/dossiers").send().await.unwrap();
    assert_eq!(r.status(), 200, "the provider still knows the session");
    assert_checked_just_now(&db);

    setup.provider.disable("coach").await.unwrap();
    let r = staff.req(reqwest::Method::GET, "/v1/staff/dossiers").send().await.unwrap();
    assert_eq!(r.status(), 200, "within the configured minute the session holds");
    a_while_ago();
    let r = staff.req(reqwest::Method::GET, "/v1/staff/dossiers").send().await.unwrap();
    assert_eq!(code_of(r).await, (401, "staff_session_ended".to_owned()));
    let r = staff.req(reqwest::Method::GET, "/v1/staff/dossiers").send().await.unwrap();
    assert_eq!(code_of(r).await, (401, "staff_session_ended".to_owned()), "and it stays ended");
}

/// Signing out at the organisation (in another application, on the provider's own page) ends
/// the Mijn CJG session at its next check: the provider's refresh token ends with its session.
#[tokio::test]
async fn signing_out_at_the_organisation_ends_access_at_the_next_check() {
    let setup = oidc::start("recheck_minutes = 1").unwrap();
    let url = &setup.server.url;
    let http = reqwest::Client::new();
    let browser = oidc::Browser::new().unwrap();
    let (authorize, verifier) = start(&http, url).await;
    let back = browser.sign_in(&authorize, "gedrag", RETURN_TO).await.unwrap();
    let handoff = query_value(&back, "handoff").unwrap();
    let token: Value = finish(&http, url, &handoff, &verifier).await.json().await.unwrap();
    let staff = cjg_tests::Staff {
        http: http.clone(),
        url: url.clone(),
        token: token["token"].as_str().unwrap().to_owned(),
    };
    let db = setup.server.db();
    let a_while_ago = || {
        let past = chrono::Utc::now() - chrono::Duration::minutes(2);
        db.execute("UPDATE oidc_sessions SET checked_at = ?1", params![past]).unwrap();
    };
    // The role comes from the groups: a behavioural scientist may approve articles.
    let r = staff.req(reqwest::Method::GET, "/v1/staff/articles").send().await.unwrap();
    assert_eq!(r.status(), 200);
    let role: String = db
        .query_row("SELECT role FROM staff WHERE oidc_subject = 'gedrag'", params![], |r| r.get(0))
        .unwrap();
    assert_eq!(role, "Gedragswetenschapper");

    a_while_ago();
    assert_eq!(staff.req(reqwest::Method::GET, "/v1/staff/articles").send().await.unwrap().status(), 200);
    browser.sign_out_at_provider(&setup.provider.issuer).await.unwrap();
    a_while_ago();
    let r = staff.req(reqwest::Method::GET, "/v1/staff/articles").send().await.unwrap();
    assert_eq!(code_of(r).await, (401, "staff_session_ended".to_owned()));
}

async fn signed_in(setup: &oidc::OrganisationSetup, login: &str) -> cjg_tests::Staff {
    let url = &setup.server.url;
    let http = reqwest::Client::new();
    let (authorize, verifier) = start(&http, url).await;
    let back = browser_sign_in(&authorize, login, RETURN_TO).await.unwrap();
    let handoff = query_value(&back, "handoff").unwrap_or_else(|| panic!("no handoff: {back}"));
    let token: Value = finish(&http, url, &handoff, &verifier).await.json().await.unwrap();
    cjg_tests::Staff { http, url: url.clone(), token: token["token"].as_str().unwrap().to_owned() }
}

fn checked_a_while_ago(db: &cjg_tests::TestDb) {
    let past = chrono::Utc::now() - chrono::Duration::minutes(2);
    db.execute("UPDATE oidc_sessions SET checked_at = ?1", params![past]).unwrap();
}

/// The provider answered the last check (not only: the outage grace let the request through).
fn assert_checked_just_now(db: &cjg_tests::TestDb) {
    let last: chrono::DateTime<chrono::Utc> =
        db.query_row("SELECT MAX(checked_at) FROM oidc_sessions", params![], |r| r.get(0)).unwrap();
    assert!(last > chrono::Utc::now() - chrono::Duration::seconds(30), "the check did not pass: {last}");
}

/// Whoever can choose their username at the provider must not get the built-in account of
/// that name, with its caseload: only the administrator links an account.
#[tokio::test]
async fn a_matching_username_at_the_provider_does_not_take_over_a_built_in_account() {
    let setup = oidc::start("").unwrap();
    let staff = signed_in(&setup, "coach").await;
    let caseload: Value = staff.get("/v1/staff/dossiers").await.unwrap();
    assert_eq!(caseload, json!([]), "a new account, without the demo coach's families");
    let db = setup.server.db();
    let (hash, subject): (String, Option<String>) = db
        .query_row("SELECT password_hash, oidc_subject FROM staff WHERE username = 'coach'", params![], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert!(hash != "!" && subject.is_none(), "the built-in coach is untouched");
    setup.server.staff_as("coach").await.expect("the built-in coach still signs in with her password");

    // The administrator links her afterwards: the empty account made at her first sign-in
    // gives the subject up (its sign-ins end), and her next sign-in reaches her caseload.
    setup.link("coach", "coach").unwrap();
    let r = staff.req(reqwest::Method::GET, "/v1/staff/dossiers").send().await.unwrap();
    assert_eq!(r.status(), 401, "the empty account's sign-in ended");
    let staff = signed_in(&setup, "coach").await;
    let caseload: Value = staff.get("/v1/staff/dossiers").await.unwrap();
    assert!(!caseload.as_array().unwrap().is_empty(), "her caseload: {caseload}");

    // The administrator's link is refused where it would be ambiguous or take work away.
    let refused = setup.link("coach2", "coach").unwrap_err();
    assert!(refused.contains("already belongs to another staff account"), "{refused}");
    let refused = setup.link("niemand", "gedrag").unwrap_err();
    assert!(refused.contains("no staff account"), "{refused}");
    setup.link("gedrag", "gedrag").unwrap();
    let refused = setup.link("gedrag", "gedrag-2").unwrap_err();
    assert!(refused.contains("already linked"), "{refused}");
}

/// The organisation changes someone's groups: the role follows at the next check (from the
/// refreshed ID token), and without a group that gives a role the session ends. Signing out
/// still works then, and still says where the provider's session ends.
#[tokio::test]
async fn group_changes_at_the_organisation_follow_at_the_next_check() {
    let setup = oidc::start("recheck_minutes = 1").unwrap();
    let staff = signed_in(&setup, "gedrag").await;
    let db = setup.server.db();
    let role = || -> String {
        db.query_row("SELECT role FROM staff WHERE oidc_subject = 'gedrag'", params![], |r| r.get(0)).unwrap()
    };
    assert_eq!(role(), "Gedragswetenschapper");

    setup.provider.set_groups("gedrag", &["cjg-kwaliteit"]).await.unwrap();
    checked_a_while_ago(&db);
    let r = staff.req(reqwest::Method::GET, "/v1/staff/articles").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(role(), "Kwaliteitsmedewerker");

    setup.provider.set_groups("gedrag", &["cjg-receptie"]).await.unwrap();
    checked_a_while_ago(&db);
    let r = staff.req(reqwest::Method::GET, "/v1/staff/articles").send().await.unwrap();
    assert_eq!(code_of(r).await, (403, "no_staff_role".to_owned()));
    let r = staff.req(reqwest::Method::GET, "/v1/staff/articles").send().await.unwrap();
    assert_eq!(code_of(r).await, (401, "staff_session_ended".to_owned()), "and it stays ended");

    let out = staff.req(reqwest::Method::POST, "/v1/staff/logout").send().await.unwrap();
    assert_eq!(out.status(), 200, "an ended session can still sign out");
    let out: Value = out.json().await.unwrap();
    assert!(out["end_session_url"].as_str().unwrap().starts_with(&setup.provider.issuer), "{out}");
    let again = staff.req(reqwest::Method::POST, "/v1/staff/logout").send().await.unwrap();
    assert_eq!(again.status(), 401, "the token is gone");
}

/// Turning the built-in accounts off ends the password sign-ins already made, not only new ones.
#[tokio::test]
async fn turning_built_in_accounts_off_ends_their_sign_ins_too() {
    let mut setup = oidc::start("").unwrap();
    let coach = setup.server.staff_as("coach").await.unwrap();
    assert_eq!(coach.req(reqwest::Method::GET, "/v1/staff/dossiers").send().await.unwrap().status(), 200);
    setup.restart("built_in_accounts = false").unwrap();
    // A new client: the old one's connection went with the old process.
    let coach = cjg_tests::Staff { http: reqwest::Client::new(), url: setup.server.url.clone(), ..coach };
    let r = coach.req(reqwest::Method::GET, "/v1/staff/dossiers").send().await.unwrap();
    assert_eq!(code_of(r).await, (401, "unauthenticated".to_owned()), "ended at the start");
    // Turned on again, the old sign-in stays ended.
    setup.restart("").unwrap();
    let coach = cjg_tests::Staff { http: reqwest::Client::new(), url: setup.server.url.clone(), ..coach };
    let r = coach.req(reqwest::Method::GET, "/v1/staff/dossiers").send().await.unwrap();
    assert_eq!(r.status(), 401);
}

/// The server proves itself with a signed assertion instead of a shared secret: the provider
/// fetches the server's public key and checks the assertion at every code and refresh.
#[tokio::test]
async fn the_server_can_sign_in_at_the_provider_with_its_own_key_instead_of_a_secret() {
    let setup = oidc::start_with("recheck_minutes = 1", oidc::ClientAuth::PrivateKey).unwrap();
    let url = &setup.server.url;
    let jwks: Value = reqwest::get(format!("{url}/v1/staff/oidc/jwks")).await.unwrap().json().await.unwrap();
    assert_eq!(jwks["keys"][0]["kty"], "EC", "{jwks}");
    assert!(jwks["keys"][0].get("d").is_none(), "only the public key is published");

    let staff = signed_in(&setup, "kwaliteit").await;
    assert_eq!(staff.req(reqwest::Method::GET, "/v1/staff/articles").send().await.unwrap().status(), 200);
    // The session check at the provider signs a new assertion too.
    checked_a_while_ago(&setup.server.db());
    assert_eq!(staff.req(reqwest::Method::GET, "/v1/staff/articles").send().await.unwrap().status(), 200);
    assert_checked_just_now(&setup.server.db());
    setup.provider.disable("kwaliteit").await.unwrap();
    checked_a_while_ago(&setup.server.db());
    let r = staff.req(reqwest::Method::GET, "/v1/staff/articles").send().await.unwrap();
    assert_eq!(code_of(r).await, (401, "staff_session_ended".to_owned()));

    // A server with a client secret publishes no key.
    let secret = oidc::start("").unwrap();
    let r = reqwest::get(format!("{}/v1/staff/oidc/jwks", secret.server.url)).await.unwrap();
    assert_eq!(r.status(), 404);
}
