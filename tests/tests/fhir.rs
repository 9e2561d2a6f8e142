//! The FHIR endpoint for the CJG's own systems: SMART Backend Services sign-in of a machine
//! client with its own key, what the endpoint says it supports, and resources that an
//! independent FHIR implementation accepts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cjg_tests::fhir::{self, assert_valid_fhir, request_token, EcdClient};
use serde_json::{json, Value};

async fn oauth_error(r: reqwest::Response) -> (u16, String) {
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    (status, body["error"].as_str().unwrap_or_default().to_owned())
}

fn outcome_code(body: &Value) -> &str {
    assert_eq!(body["resourceType"], "OperationOutcome", "{body}");
    body["issue"][0]["details"]["coding"][0]["code"].as_str().unwrap()
}

#[tokio::test]
async fn an_ecd_signs_in_with_its_key_and_reads_practitioners_that_pass_an_independent_check() {
    let setup = fhir::start().unwrap();

    // What the endpoint supports, for anyone: exactly what is served, and where tokens come from.
    let (status, capability) = setup.get(None, "/metadata").await;
    assert_eq!(status, 200);
    assert_valid_fhir(&capability);
    let token_uri = &capability["rest"][0]["security"]["extension"][0]["extension"][0]["valueUri"];
    assert_eq!(token_uri, &json!(setup.token_url));
    let types: Vec<&str> = capability["rest"][0]["resource"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["Patient", "Practitioner"]);

    let (status, body) = setup.get(None, "/Practitioner").await;
    assert_eq!((status, outcome_code(&body)), (401, "unauthenticated"));
    assert_valid_fhir(&body);

    let r = request_token(&setup, &setup.ecd.assertion(&setup.token_url), "system/Practitioner.rs").await;
    assert_eq!(r.headers()["cache-control"], "no-store");
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["token_type"], "bearer");
    assert_eq!(answer["scope"], "system/Practitioner.rs");
    assert!(answer["expires_in"].as_i64().unwrap() <= 300);
    let token = answer["access_token"].as_str().unwrap();

    let (status, bundle) = setup.get(Some(token), "/Practitioner").await;
    assert_eq!(status, 200, "{bundle}");
    assert_valid_fhir(&bundle);
    assert_eq!(bundle["type"], "searchset");
    let fleur = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .find(|r| r["name"][0]["text"] == "Fleur Demo")
        .expect("the demo coach is a practitioner")
        .clone();
    let id = fleur["id"].as_str().unwrap();
    let (status, one) = setup.get(Some(token), &format!("/Practitioner/{id}")).await;
    assert_eq!(status, 200);
    assert_valid_fhir(&one);
    assert_eq!(one, fleur);
    assert!(one.get("username").is_none() && !one.to_string().contains("\"coach\""), "no username: {one}");

    let (_, found) =
        setup.get(Some(token), &format!("/Practitioner?identifier=urn:ietf:rfc:3986%7Curn:uuid:{id}")).await;
    assert_eq!(found["total"], 1, "{found}");
    let (_, none) = setup.get(Some(token), "/Practitioner?identifier=urn:uuid:niet-een-uuid").await;
    assert_eq!(none["total"], 0, "a value that cannot match matches nothing: {none}");
    assert_valid_fhir(&none);

    let (status, body) = setup.get(Some(token), "/Practitioner?naam=Fleur").await;
    assert_eq!((status, outcome_code(&body)), (400, "unknown_search_parameter"));
    assert_valid_fhir(&body);
    let (status, body) = setup.get(Some(token), &format!("/Practitioner/{}", uuid::Uuid::new_v4())).await;
    assert_eq!((status, outcome_code(&body)), (404, "not_found"));
    let (status, body) = setup.get(Some(token), "/Observation").await;
    assert_eq!((status, outcome_code(&body)), (404, "not_supported"));
}

#[tokio::test]
async fn assertions_that_are_replayed_misaddressed_expired_unsigned_or_wrongly_signed_are_refused() {
    let setup = fhir::start().unwrap();
    let url = &setup.token_url;
    let ecd = &setup.ecd;
    let scope = "system/Practitioner.rs";

    let once = ecd.assertion(url);
    assert_eq!(request_token(&setup, &once, scope).await.status(), 200);
    assert_eq!(
        oauth_error(request_token(&setup, &once, scope).await).await,
        (401, "invalid_client".into()),
        "replay"
    );

    let refused = |claims: Value, why: &'static str| {
        let assertion = ecd.sign(&ecd.header(), &claims);
        let setup = &setup;
        async move {
            let got = oauth_error(request_token(setup, &assertion, scope).await).await;
            assert_eq!(got, (401, "invalid_client".to_owned()), "{why}");
        }
    };
    let with = |change: &dyn Fn(&mut Value)| {
        let mut c = ecd.claims(url);
        change(&mut c);
        c
    };
    let now = chrono::Utc::now().timestamp();
    // Just expired but within the allowed clock skew: taken once, and not again after its
    // own expiry has passed.
    let skewed = ecd.sign(&ecd.header(), &with(&|c| c["exp"] = json!(now - 10)));
    assert_eq!(request_token(&setup, &skewed, scope).await.status(), 200);
    assert_eq!(
        oauth_error(request_token(&setup, &skewed, scope).await).await.0,
        401,
        "replay in the skew window"
    );
    refused(with(&|c| c["aud"] = json!("https://elders.example/token")), "another audience").await;
    refused(with(&|c| c["exp"] = json!(now - 120)), "expired").await;
    refused(with(&|c| c["exp"] = json!(now + 3600)), "valid for an hour").await;
    refused(with(&|c| c["sub"] = json!("iemand-anders")), "sub is not the client").await;
    refused(with(&|c| c["iss"] = json!("onbekend-systeem")), "an unknown client").await;
    refused(
        with(&|c| {
            c.as_object_mut().unwrap().remove("jti");
        }),
        "no jti",
    )
    .await;

    // Unsigned, HS256 with a guessable secret, and signed by another key under this kid.
    let claims = b64json(&ecd.claims(url));
    let unsigned = format!("{}.{claims}.", b64json(&json!({"alg": "none", "typ": "JWT", "kid": ecd.kid})));
    assert_eq!(oauth_error(request_token(&setup, &unsigned, scope).await).await.0, 401);
    let hs = format!("{}.{claims}.AAAA", b64json(&json!({"alg": "HS256", "typ": "JWT", "kid": ecd.kid})));
    assert_eq!(oauth_error(request_token(&setup, &hs, scope).await).await.0, 401);
    let impostor = EcdClient::new(&ecd.client_id, &ecd.kid);
    let forged = impostor.assertion(url);
    assert_eq!(
        oauth_error(request_token(&setup, &forged, scope).await).await,
        (401, "invalid_client".into())
    );

    // Scopes beyond the client's own, and the wrong grant.
    let r = request_token(&setup, &ecd.assertion(url), "system/Practitioner.cruds").await;
    assert_eq!(oauth_error(r).await, (400, "invalid_scope".into()));
    let r = reqwest::Client::new()
        .post(url)
        .form(&[("grant_type", "password"), ("username", "coach")])
        .send()
        .await
        .unwrap();
    assert_eq!(oauth_error(r).await, (400, "unsupported_grant_type".into()));
}

#[tokio::test]
async fn another_organisations_client_gets_only_what_its_scopes_allow() {
    let setup = fhir::start().unwrap();
    let r = request_token(&setup, &setup.other.assertion(&setup.token_url), "system/Practitioner.rs").await;
    assert_eq!(oauth_error(r).await, (400, "invalid_scope".into()));
    let token = setup.token(&setup.other, "system/Patient.rs").await.unwrap();
    let (status, body) = setup.get(Some(&token), "/Practitioner").await;
    assert_eq!((status, outcome_code(&body)), (403, "forbidden"));
    assert_valid_fhir(&body);
    // A token from the other client's assertion is that client's, whatever it claims later.
    let (status, _) = setup.get(Some("verzonnen-token"), "/Practitioner").await;
    assert_eq!(status, 401);
}

/// Reading a young person through FHIR is an access like a coach's: a line in the family's
/// log with the system's name, the role "Systeemkoppeling", the configured purpose and the
/// application; another organisation's system sees none of this CJG's families.
#[tokio::test]
async fn patients_are_read_with_a_line_in_the_access_log_and_only_within_the_clients_teams() {
    let setup = fhir::start().unwrap();
    let db = setup.server.db();
    let lines = || -> i64 {
        db.query_row("SELECT COUNT(*) FROM audit_events", cjg_tests::params![], |r| r.get(0)).unwrap()
    };
    let before = lines();

    let token = setup.token(&setup.ecd, "system/Patient.rs").await.unwrap();
    let (status, bundle) = setup.get(Some(&token), "/Patient").await;
    assert_eq!(status, 200, "{bundle}");
    assert_valid_fhir(&bundle);
    let patients: Vec<&Value> = bundle["entry"].as_array().unwrap().iter().map(|e| &e["resource"]).collect();
    let names: Vec<&str> = patients.iter().map(|p| p["name"][0]["text"].as_str().unwrap()).collect();
    assert!(names.contains(&"Milan Voorbeeld"), "{names:?}");
    assert!(!names.contains(&"Sanne Voorbeeld"), "parents are no patients: {names:?}");
    assert!(patients.iter().all(|p| p["gender"] == "unknown" && p["birthDate"].is_string()));
    assert_eq!(lines() - before, patients.len() as i64, "one line per young person handed out");

    let (actor, role, application, purpose): (String, String, String, String) = db
        .query_row(
            "SELECT actor_name, actor_role, application, purpose FROM audit_events ORDER BY id DESC LIMIT 1",
            cjg_tests::params![],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(
        (actor.as_str(), role.as_str(), application.as_str(), purpose.as_str()),
        ("ECD Voorbeeld (verzonnen)", "Systeemkoppeling", "fhir:ecd-voorbeeld", "hulpverlening")
    );
    // The system account is no practitioner, cannot sign in as staff, and is never linked
    // to a person's account at the organisation.
    let practitioners = setup.token(&setup.ecd, "system/Practitioner.rs").await.unwrap();
    let (_, staff) = setup.get(Some(&practitioners), "/Practitioner").await;
    assert!(!staff.to_string().contains("ECD Voorbeeld"), "{staff}");
    let r = reqwest::Client::new()
        .post(format!("{}/v1/staff/login", setup.server.url))
        .json(&json!({"username": "fhir:ecd-voorbeeld", "password": "!"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let dir = tempfile::tempdir().unwrap();
    let oidc = dir.path().join("oidc.toml");
    std::fs::write(
        &oidc,
        "issuer = \"http://127.0.0.1:9/\"\nclient_id = \"mijn-cjg\"\nredirect_url = \"http://127.0.0.1:9/cb\"\n\
         [[roles]]\ngroup = \"cjg-coaches\"\nrole = \"coach\"\n",
    )
    .unwrap();
    let out = setup
        .server
        .cli()
        .env("CJG_OIDC_CLIENT_SECRET", "alleen-voor-de-test")
        .arg("--oidc-config")
        .arg(&oidc)
        .args(["link-staff", "--username", "fhir:ecd-voorbeeld", "--subject", "iemand"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "a system account was linked to a person");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no staff account"));

    let milan = patients.iter().find(|p| p["name"][0]["text"] == "Milan Voorbeeld").unwrap();
    let id = milan["id"].as_str().unwrap();
    let (status, one) = setup.get(Some(&token), &format!("/Patient/{id}")).await;
    assert_eq!(status, 200);
    assert_valid_fhir(&one);

    // Another organisation's system: none of these families, and nothing logged for it.
    let before = lines();
    let theirs = setup.token(&setup.other, "system/Patient.rs").await.unwrap();
    let (status, bundle) = setup.get(Some(&theirs), "/Patient").await;
    assert_eq!((status, bundle["total"].as_i64()), (200, Some(0)), "{bundle}");
    let (status, body) = setup.get(Some(&theirs), &format!("/Patient/{id}")).await;
    assert_eq!((status, outcome_code(&body)), (404, "not_found"));
    assert_eq!(lines(), before);
}

fn b64json(v: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string().as_bytes())
}
