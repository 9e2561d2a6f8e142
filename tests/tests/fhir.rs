//! The FHIR endpoint for the CJG's own systems: SMART Backend Services sign-in of a machine
//! client with its own key, what the endpoint says it supports, and resources that an
//! independent FHIR implementation accepts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cjg_tests::fhir::{self, assert_valid_fhir, attachment_data, request_token, EcdClient, FhirSetup};
use cjg_tests::{app, params, PIN};
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
    assert_eq!(
        types,
        [
            "Patient",
            "Practitioner",
            "RelatedPerson",
            "CareTeam",
            "DocumentReference",
            "Task",
            "Questionnaire",
            "ActivityDefinition",
            "QuestionnaireResponse",
            "Communication",
            "Subscription",
            "AuditEvent"
        ]
    );

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

const ECD_IDS: &str = "urn:oid:2.16.528.1.9999.42";
const ENTRY_KIND: &str = "https://mijn-cjg.nl/fhir/CodeSystem/entry-kind";
const VISIBILITY: &str = "https://mijn-cjg.nl/fhir/CodeSystem/visibility";
const ROLE_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-RoleCode";
const COD472: &str = "urn:oid:2.16.840.1.113883.2.4.3.11.22.472";
const WRITE_SCOPES: &str =
    "system/Practitioner.rs system/Patient.cruds system/RelatedPerson.cu system/CareTeam.cu system/DocumentReference.cud";

fn ecd_id(value: &str) -> Value {
    json!([{"system": ECD_IDS, "value": value}])
}

/// A youth of 14, of an invented family the ECD numbers `gezin-1`.
fn youth() -> Value {
    let born = chrono::Utc::now().date_naive() - chrono::Months::new(14 * 12 + 2);
    json!({
        "resourceType": "Patient",
        "identifier": ecd_id("kind-1"),
        "extension": [{"url": "https://mijn-cjg.nl/fhir/StructureDefinition/family",
            "valueIdentifier": {"system": ECD_IDS, "value": "gezin-1"}}],
        "managingOrganization": {"identifier": {"system": "https://mijn-cjg.nl/fhir/NamingSystem/team", "value": "Team Noord"}},
        "name": [{"family": "Koppeldemo", "given": ["Sem"]}],
        "gender": "male",
        "birthDate": born.to_string(),
    })
}

fn parent(identifier: &str, given: &str, relation: &str, patient: &str) -> Value {
    json!({
        "resourceType": "RelatedPerson",
        "identifier": ecd_id(identifier),
        "active": true,
        "patient": {"reference": format!("Patient/{patient}")},
        "relationship": [
            {"coding": [{"system": ROLE_CODE, "code": relation}]},
            {"coding": [{"system": COD472, "code": "24", "display": "Wettelijke vertegenwoordiger"}]},
        ],
        "name": [{"family": "Koppeldemo", "given": [given]}],
        "gender": "female",
        "birthDate": "1984-06-15",
    })
}

fn document(identifier: &str, kind: &str, visibility: &str, title: &str, text: &str, patient: &str) -> Value {
    json!({
        "resourceType": "DocumentReference",
        "identifier": ecd_id(identifier),
        "status": "current",
        "type": {"coding": [{"system": ENTRY_KIND, "code": kind}]},
        "securityLabel": [{"coding": [{"system": VISIBILITY, "code": visibility}]}],
        "subject": {"reference": format!("Patient/{patient}")},
        "date": "2026-12-03T10:00:00+01:00",
        "description": title,
        "content": [{"attachment": {"contentType": "text/markdown", "data": attachment_data(text)}}],
    })
}

/// A demo staff member as a Practitioner id.
async fn practitioner(setup: &FhirSetup, token: &str, name: &str) -> String {
    let (_, bundle) = setup.get(Some(token), "/Practitioner").await;
    let found = bundle["entry"].as_array().unwrap().iter().find(|e| e["resource"]["name"][0]["text"] == name);
    found.expect(name)["resource"]["id"].as_str().unwrap().to_owned()
}

/// The demo coach as a Practitioner id.
async fn fleur(setup: &FhirSetup, token: &str) -> String {
    practitioner(setup, token, "Fleur Demo").await
}

/// A family pushed by the ECD: the youth's id, the mother's id and the coach's.
async fn push_family(setup: &FhirSetup, token: &str) -> (String, String, String) {
    let a = setup.put(token, &youth()).await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_valid_fhir(&a.body);
    let sem = a.body["id"].as_str().unwrap().to_owned();
    assert_eq!(a.location.as_deref(), Some(format!("{}/Patient/{sem}", setup.base).as_str()));
    let a = setup.put(token, &parent("ouder-1", "Iris", "MTH", &sem)).await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_valid_fhir(&a.body);
    let iris = a.body["id"].as_str().unwrap().to_owned();
    assert_eq!(setup.put(token, &parent("ouder-2", "Ruben", "FTH", &sem)).await.status, 201);
    let coach = fleur(setup, token).await;
    let team = json!({
        "resourceType": "CareTeam",
        "identifier": ecd_id("zorgteam-1"),
        "status": "active",
        "subject": {"reference": format!("Patient/{sem}")},
        "participant": [{"member": {"reference": format!("Practitioner/{coach}")}}],
    });
    let a = setup.put(token, &team).await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_valid_fhir(&a.body);
    (sem, iris, coach)
}

/// The ECD pushes a family, its care team and three entries; the coach finds the family in
/// her caseload, the mother's app reads what the policy lets her read (never the youth's own
/// entry), the youth's app reads all three, and every write is in the family's access log
/// under the ECD's name. Sent again, nothing is stored twice; changed, the apps follow.
#[tokio::test]
async fn an_ecd_pushes_a_family_and_entries_that_reach_the_apps_under_the_policy() {
    let setup = fhir::start().unwrap();
    let token = setup.token(&setup.ecd, WRITE_SCOPES).await.unwrap();
    let (sem, iris, coach) = push_family(&setup, &token).await;
    let db = setup.server.db();
    let count = |sql: &str| -> i64 { db.query_row(sql, params![], |r| r.get(0)).unwrap() };

    // Sent again: the same resources, nothing new stored.
    let people_before = count("SELECT COUNT(*) FROM people");
    let again = setup.put(&token, &youth()).await;
    assert_eq!((again.status, again.body["id"].as_str()), (200, Some(sem.as_str())));
    assert_eq!(setup.put(&token, &parent("ouder-1", "Iris", "MTH", &sem)).await.body["id"], json!(iris));
    assert_eq!(count("SELECT COUNT(*) FROM people"), people_before);
    assert_eq!(count("SELECT COUNT(*) FROM dossiers WHERE family_name = 'Koppeldemo'"), 1);

    let together = document(
        "verslag-1",
        "gespreksverslag",
        "family",
        "Kennismaking met het gezin",
        "We spraken **samen**.",
        &sem,
    );
    let mut afspraak =
        document("afspraak-1", "afspraak", "child", "Afspraak over school", "Sem gaat elke dag.", &sem);
    afspraak["author"] = json!([{"reference": format!("Practitioner/{coach}")}]);
    let own = document("eigen-1", "plan", "youth_only", "Wat Sem zelf wil", "Alleen voor Sem.", &sem);
    for d in [&together, &afspraak, &own] {
        let a = setup.put(&token, d).await;
        assert_eq!(a.status, 201, "{}", a.body);
        assert_valid_fhir(&a.body);
    }
    let a = setup.put(&token, &together).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["meta"]["versionId"], "1", "the same text sent again is no new version");

    // What the ECD wrote, read back by family and by id, with its own identifiers.
    let reader = setup
        .token(&setup.ecd, "system/DocumentReference.rs system/RelatedPerson.rs system/CareTeam.rs")
        .await
        .unwrap();
    let (status, docs) = setup.get(Some(&reader), &format!("/DocumentReference?patient=Patient/{sem}")).await;
    assert_eq!(status, 200, "{docs}");
    assert_valid_fhir(&docs);
    let docs: Vec<Value> = docs["entry"].as_array().unwrap().iter().map(|e| e["resource"].clone()).collect();
    assert_eq!(docs.len(), 3, "the ECD reads every entry of the family, the youth's own too");
    let first = &docs[0];
    let (status, one) =
        setup.get(Some(&reader), &format!("/DocumentReference/{}", first["id"].as_str().unwrap())).await;
    assert_eq!((status, &one), (200, first));
    assert_eq!(one["identifier"][0]["system"], ECD_IDS, "its own identifier comes back first");
    let (_, parents) = setup.get(Some(&reader), &format!("/RelatedPerson?patient={sem}")).await;
    assert_valid_fhir(&parents);
    assert_eq!(parents["entry"].as_array().unwrap().len(), 2);
    assert!(parents.to_string().contains("Wettelijke vertegenwoordiger"));
    let (status, mother) = setup.get(Some(&reader), &format!("/RelatedPerson/{iris}")).await;
    assert_eq!((status, mother["name"][0]["text"].as_str()), (200, Some("Iris Koppeldemo")));
    let (_, teams) = setup.get(Some(&reader), &format!("/CareTeam?patient={sem}")).await;
    assert_valid_fhir(&teams);
    assert_eq!(
        teams["entry"][0]["resource"]["participant"][0]["member"]["reference"],
        json!(format!("Practitioner/{coach}"))
    );
    let (status, _) = setup.get(Some(&reader), &format!("/RelatedPerson/{sem}")).await;
    assert_eq!(status, 404, "a young person is no RelatedPerson");
    let (status, body) = setup.get(Some(&reader), "/DocumentReference").await;
    assert_eq!((status, outcome_code(&body)), (400, "patient_required"));

    // The coach of the care team has the family in her caseload and issues the codes.
    let staff = setup.server.staff().await.unwrap();
    let caseload: Vec<cjg_core::api::CaseloadDossier> = staff.get("/v1/staff/dossiers").await.unwrap();
    assert!(caseload.iter().any(|d| d.family_name == "Koppeldemo"), "{caseload:?}");
    let code_iris = staff.activation_code(&iris).await.unwrap();
    let code_sem = staff.activation_code(&sem).await.unwrap();

    let d1 = tempfile::tempdir().unwrap();
    let mother_app = app(d1.path());
    mother_app.enrol(&setup.server.url, &code_iris, PIN, PIN, "").await.unwrap();
    mother_app.sync(|_| {}).await.unwrap();
    let view = mother_app.dossier().await.unwrap();
    let titles: Vec<&str> = view.entries.iter().map(|e| e.title.as_str()).collect();
    assert_eq!(titles.len(), 2, "{titles:?}");
    assert!(titles.contains(&"Kennismaking met het gezin") && titles.contains(&"Afspraak over school"));
    let afspraak_entry = view.entries.iter().find(|e| e.title == "Afspraak over school").unwrap();
    assert_eq!(afspraak_entry.author_name, "Fleur Demo", "the coach named as author");
    let together_entry = view.entries.iter().find(|e| e.title == "Kennismaking met het gezin").unwrap();
    assert_eq!(together_entry.author_name, "ECD Voorbeeld (verzonnen)");
    let inzage = mother_app.inzage().await.unwrap();
    let ecd_lines: Vec<_> =
        inzage.lines.iter().filter(|l| l.actor_name == "ECD Voorbeeld (verzonnen)").collect();
    assert!(!ecd_lines.is_empty(), "the ECD's writes are in the family's Inzage");
    assert!(ecd_lines.iter().all(|l| l.actor_role == "Systeemkoppeling"));
    assert!(inzage.lines.iter().all(|l| l.entry_title.as_deref() != Some("Wat Sem zelf wil")));

    // Her question on the agreement reaches the ECD as a Communication about the entry.
    let before = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true).replace('+', "%2B");
    let sent = mother_app
        .send_feedback(
            afspraak_entry.id,
            cjg_core::feedback::FeedbackKind::Vraag,
            "Geldt dit ook in de vakantie?",
        )
        .await
        .unwrap();
    assert!(sent.sent);
    let feedback_token = setup.token(&setup.ecd, "system/Communication.rs").await.unwrap();
    // A poll reads a second behind now (the test server's margin): what came just now is
    // there after it.
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    for path in
        [format!("/Communication?patient=Patient/{sem}"), format!("/Communication?_lastUpdated=gt{before}")]
    {
        let (status, bundle) = setup.get(Some(&feedback_token), &path).await;
        assert_eq!(status, 200, "{path}: {bundle}");
        assert_valid_fhir(&bundle);
        let items = bundle["entry"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{path}: {bundle}");
        let c = &items[0]["resource"];
        assert_eq!(c["about"][0]["reference"], json!(format!("DocumentReference/{}", afspraak_entry.id)));
        assert_eq!(c["sender"]["reference"], json!(format!("RelatedPerson/{iris}")));
        assert_eq!(c["category"][0]["coding"][0]["code"], "vraag");
        assert_eq!(c["payload"][0]["contentString"], "Geldt dit ook in de vakantie?");
    }
    // A second reaction, then the poll page by page: one at a time, the second page found
    // through the first's next link, and the horizon to poll from next time.
    let sent = mother_app
        .send_feedback(together_entry.id, cjg_core::feedback::FeedbackKind::Akkoord, "Klopt.")
        .await
        .unwrap();
    assert!(sent.sent);
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let (_, first) =
        setup.get(Some(&feedback_token), &format!("/Communication?_lastUpdated=gt{before}&_count=1")).await;
    assert_valid_fhir(&first);
    assert_eq!(first["entry"].as_array().unwrap().len(), 1, "{first}");
    let next = first["link"][0]["url"].as_str().expect("a next page").to_owned();
    assert!(next.contains("_cursor=") && next.contains("_before="), "{next}");
    let (status, second) = setup.get(Some(&feedback_token), next.trim_start_matches(&setup.base)).await;
    assert_eq!(status, 200, "{second}");
    let texts: Vec<&str> = [&first, &second]
        .iter()
        .map(|b| b["entry"][0]["resource"]["payload"][0]["contentString"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["Geldt dit ook in de vakantie?", "Klopt."]);
    assert!(second.get("link").is_none(), "the last page: {second}");
    let horizon = second["meta"]["lastUpdated"].as_str().unwrap().replace('+', "%2B");
    let (_, later) =
        setup.get(Some(&feedback_token), &format!("/Communication?_lastUpdated=gt{horizon}")).await;
    assert!(later["entry"].as_array().unwrap().is_empty(), "nothing new after the horizon: {later}");

    let d2 = tempfile::tempdir().unwrap();
    let sem_app = app(d2.path());
    sem_app.enrol(&setup.server.url, &code_sem, PIN, PIN, "").await.unwrap();
    sem_app.sync(|_| {}).await.unwrap();
    assert_eq!(sem_app.dossier().await.unwrap().entries.len(), 3, "the youth reads his own entry too");

    // Changed in the ECD: the apps follow at their next sync; entered-in-error removes it.
    let mut changed = together.clone();
    changed["content"][0]["attachment"]["data"] = json!(attachment_data("We spraken samen, en **opnieuw**."));
    let a = setup.put(&token, &changed).await;
    assert_eq!((a.status, a.body["meta"]["versionId"].as_str()), (200, Some("2")), "{}", a.body);
    let mut gone = afspraak.clone();
    gone["status"] = json!("entered-in-error");
    let a = setup.put(&token, &gone).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_valid_fhir(&a.body);
    mother_app.sync(|_| {}).await.unwrap();
    let view = mother_app.dossier().await.unwrap();
    assert_eq!(view.entries.len(), 1);
    let detail = mother_app.entry(view.entries[0].id).await.unwrap().unwrap();
    assert!(detail.entry.body.contains("opnieuw"), "{}", detail.entry.body);
    let (actions, application): (i64, String) = db
        .query_row(
            "SELECT COUNT(*), MIN(application) FROM audit_events
             WHERE actor_name = 'ECD Voorbeeld (verzonnen)' AND object_type IN ('people', 'care_team', 'entry')
               AND action <> 'read'",
            params![],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    // 3 people, 1 care team, 3 entries, 1 change, 1 removal; the repeats wrote nothing.
    assert_eq!((actions, application.as_str()), (9, "fhir:ecd-voorbeeld"));
    let feedback_reads: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM audit_events WHERE actor_name = 'ECD Voorbeeld (verzonnen)' AND object_type = 'feedback'",
            params![],
            |r| r.get(0),
        )
        .unwrap();
    // By family, by poll, and the two pages; the empty poll handed out nothing and wrote nothing.
    assert_eq!(feedback_reads, 4, "each read of the feedback is a line");
}

/// Bad resources get an OperationOutcome that says what to change, and nothing of them is
/// stored; scopes and teams hold for writes as for reads.
#[tokio::test]
async fn bad_resources_and_clients_without_the_right_get_an_operation_outcome_and_store_nothing() {
    let setup = fhir::start().unwrap();
    let token = setup.token(&setup.ecd, WRITE_SCOPES).await.unwrap();
    let (sem, _, _) = push_family(&setup, &token).await;
    let db = setup.server.db();
    let state = || -> (i64, i64, i64, i64, i64) {
        db.query_row(
            "SELECT (SELECT COUNT(*) FROM entries), (SELECT COUNT(*) FROM people), (SELECT COUNT(*) FROM dossiers),
                    (SELECT COUNT(*) FROM audit_events), (SELECT COUNT(*) FROM staff_dossiers)",
            params![],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap()
    };
    let before = state();
    let good = document("verslag-9", "gespreksverslag", "family", "Verslag", "Tekst.", &sem);
    let refused = |status: u16, code: &'static str, body: Value, why: &'static str| {
        let setup = &setup;
        let token = token.clone();
        async move {
            let a = setup.put(&token, &body).await;
            assert_eq!((a.status, outcome_code(&a.body)), (status, code), "{why}: {}", a.body);
            assert_valid_fhir(&a.body);
            a.body["issue"][0]["diagnostics"].as_str().unwrap().to_owned()
        }
    };
    let with = |change: &dyn Fn(&mut Value)| {
        let mut d = good.clone();
        change(&mut d);
        d
    };
    let said = refused(
        400,
        "invalid_resource",
        with(&|d| d["type"]["coding"][0]["system"] = json!("http://loinc.org")),
        "unknown code system",
    )
    .await;
    assert!(said.contains("not known here"), "{said}");
    refused(
        400,
        "invalid_resource",
        with(&|d| d["securityLabel"][0]["coding"][0]["code"] = json!("geheim")),
        "unknown visibility",
    )
    .await;
    refused(
        400,
        "invalid_resource",
        with(&|d| d["content"][0]["attachment"]["contentType"] = json!("application/pdf")),
        "a PDF",
    )
    .await;
    let said = refused(
        422,
        "unprocessable",
        with(&|d| d["subject"]["reference"] = json!(format!("Patient/{}", uuid::Uuid::new_v4()))),
        "an unknown patient",
    )
    .await;
    assert!(said.contains("not known here"), "{said}");
    refused(
        422,
        "unprocessable",
        with(&|d| d["author"] = json!([{"reference": format!("Practitioner/{}", uuid::Uuid::new_v4())}])),
        "an author outside the care team",
    )
    .await;
    refused(
        400,
        "invalid_resource",
        parent("ouder-3", "Oma", "NBOR", &sem),
        "a neighbour is no family relation",
    )
    .await;
    let mut team = json!({"resourceType": "CareTeam", "identifier": ecd_id("zorgteam-1"), "status": "active",
        "subject": {"reference": format!("Patient/{sem}")},
        "participant": [{"member": {"reference": format!("Practitioner/{}", uuid::Uuid::new_v4())}}]});
    refused(422, "unprocessable", team.clone(), "an unknown practitioner").await;
    let kim = practitioner(&setup, &token, "Kim Demo").await;
    team["participant"] = json!([{"member": {"reference": format!("Practitioner/{kim}")}}]);
    refused(422, "unprocessable", team.clone(), "a quality officer works from the report, not a caseload")
        .await;
    team["identifier"] = ecd_id("zorgteam-2");
    team["participant"] = json!([]);
    refused(422, "unprocessable", team, "a second care team for one family").await;
    let mut moved = youth();
    moved["extension"][0]["valueIdentifier"]["value"] = json!("gezin-elders");
    refused(422, "unprocessable", moved, "a young person does not move to another family").await;
    let mut sibling = youth();
    sibling["identifier"] = ecd_id("kind-4");
    sibling["managingOrganization"]["identifier"]["value"] = json!("Team Zuid");
    refused(422, "unprocessable", sibling, "a sibling with another team than the family's").await;
    let mut lone = youth();
    lone["identifier"] = ecd_id("kind-2");
    lone["extension"][0]["valueIdentifier"]["value"] = json!("gezin-2");
    lone["name"] = json!([{"text": "Zonder Achternaam"}]);
    refused(422, "unprocessable", lone, "a new family without a family name").await;

    // 5 MB: the body limit, before anything is read.
    let mut big = good.clone();
    big["content"][0]["attachment"]["data"] = json!(attachment_data(&"a".repeat(5 << 20)));
    let a = setup.put(&token, &big).await;
    assert_eq!((a.status, outcome_code(&a.body)), (413, "payload_too_large"), "{}", a.body);
    let a =
        setup.send_bytes(&token, reqwest::Method::POST, "/DocumentReference", b"{niet json".to_vec()).await;
    assert_eq!((a.status, outcome_code(&a.body)), (400, "invalid_resource"));
    // The address's identifier must be the resource's; an update by id never creates.
    let a = setup
        .send(&token, reqwest::Method::PUT, "/DocumentReference?identifier=urn:oid:1.2%7Canders", &good)
        .await;
    assert_eq!((a.status, outcome_code(&a.body)), (400, "invalid_resource"));
    let path = format!("/DocumentReference/{}", uuid::Uuid::new_v4());
    let a = setup.send(&token, reqwest::Method::PUT, &path, &good).await;
    assert_eq!((a.status, outcome_code(&a.body)), (422, "unprocessable"), "{}", a.body);
    assert_eq!(state(), before, "nothing of a refused write stays behind");

    // A young person without a family number is a family of their own, even when their own
    // number is the same as another family's (the ECD's numbers may share a system).
    let mut alone = youth();
    alone["identifier"] = ecd_id("gezin-1");
    alone.as_object_mut().unwrap().remove("extension");
    alone["name"] = json!([{"family": "Eigendemo", "given": ["Jip"]}]);
    let a = setup.put(&token, &alone).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let families: i64 = db
        .query_row(
            "SELECT COUNT(DISTINCT dossier_id) FROM people WHERE display_name IN ('Jip Eigendemo', 'Sem Koppeldemo')",
            params![],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(families, 2, "Jip did not land in the Koppeldemo family");

    // Without a write scope, and from another organisation: refused, nothing stored.
    let read_only = setup.token(&setup.ecd, "system/Patient.rs system/DocumentReference.c").await.unwrap();
    let mut other_youth = youth();
    other_youth["identifier"] = ecd_id("kind-3");
    let a = setup.put(&read_only, &other_youth).await;
    assert_eq!((a.status, outcome_code(&a.body)), (403, "forbidden"), "{}", a.body);
    let a = setup.put(&read_only, &document("verslag-1", "plan", "family", "Nieuw", "Tekst.", &sem)).await;
    assert_eq!(a.status, 201, "create is in the scope: {}", a.body);
    let resent =
        setup.put(&read_only, &document("verslag-1", "plan", "family", "Nieuw", "Tekst.", &sem)).await;
    assert_eq!(resent.status, 200, "sending a create again needs no .u: {}", resent.body);
    let mut update = good.clone();
    update["identifier"] = ecd_id("verslag-1");
    let a = setup.put(&read_only, &update).await;
    assert_eq!((a.status, outcome_code(&a.body)), (403, "forbidden"), "an update needs .u: {}", a.body);
    let no_delete = setup.token(&setup.ecd, "system/DocumentReference.cu").await.unwrap();
    let mut removal = document("verslag-1", "plan", "family", "Nieuw", "Tekst.", &sem);
    removal["status"] = json!("entered-in-error");
    let a = setup.put(&no_delete, &removal).await;
    assert_eq!((a.status, outcome_code(&a.body)), (403, "forbidden"), "a removal needs .d: {}", a.body);
    let theirs = setup.token(&setup.other, "system/Patient.rs").await.unwrap();
    let a = setup.put(&theirs, &good).await;
    assert_eq!((a.status, outcome_code(&a.body)), (403, "forbidden"));
    let (status, _) = setup.get(Some(&theirs), &format!("/Patient/{sem}")).await;
    assert_eq!(status, 404, "another organisation does not see the family the ECD pushed");
}

/// Every required item answered the plain way (the first option, a 4, "eens").
fn fill_in(definition: &cjg_core::questionnaire::Definition) -> cjg_core::questionnaire::Answers {
    use cjg_core::questionnaire::{Agree, Answer, ItemKind};
    definition
        .items
        .iter()
        .filter(|i| i.required && i.show_if.is_none())
        .map(|i| {
            let answer = match &i.kind {
                ItemKind::Agree => Answer::Agree(Agree::Eens),
                ItemKind::Rating { .. } => Answer::Rating(4),
                ItemKind::Choice { options } => Answer::Choice(options[0].value.clone()),
                ItemKind::Open { .. } => Answer::Text("Het gaat goed.".into()),
            };
            (i.key.clone(), answer)
        })
        .collect()
}

/// The ECD sends the start questionnaire as a Task; the mother's app gets it and she answers;
/// the ECD reads her answers as a QuestionnaireResponse against the published Questionnaire,
/// and the family's access log as AuditEvents, its own reads among them.
#[tokio::test]
async fn an_ecd_sends_a_questionnaire_and_reads_the_answers_and_the_access_log() {
    let setup = fhir::start().unwrap();
    let scopes = format!(
        "{WRITE_SCOPES} system/Task.cu system/Questionnaire.rs system/ActivityDefinition.rs \
         system/QuestionnaireResponse.rs system/AuditEvent.rs"
    );
    let token = setup.token(&setup.ecd, &scopes).await.unwrap();
    let (sem, iris, _) = push_family(&setup, &token).await;

    let (status, definitions) = setup.get(Some(&token), "/ActivityDefinition").await;
    assert_eq!(status, 200);
    assert_valid_fhir(&definitions);
    assert_eq!(definitions["total"], 3);
    let (status, questionnaires) = setup.get(Some(&token), "/Questionnaire").await;
    assert_eq!(status, 200);
    assert_valid_fhir(&questionnaires);

    let task = json!({
        "resourceType": "Task",
        "identifier": ecd_id("taak-1"),
        "extension": [{"url": "http://vzvz.nl/fhir/StructureDefinition/instantiates",
            "valueReference": {"reference": "ActivityDefinition/vragenlijst-start", "type": "ActivityDefinition"}}],
        "status": "ready",
        "intent": "order",
        "for": {"reference": format!("Patient/{sem}")},
        "owner": {"reference": format!("RelatedPerson/{iris}")},
    });
    let a = setup.put(&token, &task).await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_valid_fhir(&a.body);
    assert_eq!(a.body["status"], "ready");
    let task_id = a.body["id"].as_str().unwrap().to_owned();
    assert_eq!(setup.put(&token, &task).await.status, 200, "sent again: the same task");
    let mut to_the_youth = task.clone();
    to_the_youth["identifier"] = ecd_id("taak-2");
    to_the_youth["owner"] = json!({"reference": "CareTeam/iemand"});
    assert_eq!(setup.put(&token, &to_the_youth).await.status, 400, "a care team answers nothing");

    // Told instead of polling: a Subscription on answers, rest-hook without payload, to an
    // address the CJG registered for this client.
    let subscribe = |endpoint: String| {
        json!({"resourceType": "Subscription", "status": "requested", "reason": "nieuwe antwoorden",
            "criteria": "QuestionnaireResponse", "channel": {"type": "rest-hook", "endpoint": endpoint}})
    };
    let subscriptions =
        setup.token(&setup.ecd, "system/Subscription.crds system/QuestionnaireResponse.rs").await.unwrap();
    let ours = format!("{}/{}/antwoorden", setup.notify_url, setup.ecd.client_id);
    let a =
        setup.send(&subscriptions, reqwest::Method::POST, "/Subscription", &subscribe(ours.clone())).await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_valid_fhir(&a.body);
    let subscription_id = a.body["id"].as_str().unwrap().to_owned();
    let host = setup.notify_url.trim_start_matches("http://");
    for elsewhere in [
        "https://elders.example/melding".to_owned(),
        format!("{}/{}/../{}/x", setup.notify_url, setup.ecd.client_id, setup.other.client_id),
        format!("{}/{}/%2e%2e/{}/x", setup.notify_url, setup.ecd.client_id, setup.other.client_id),
        format!("http://{host}@elders.example/{}/x", setup.ecd.client_id),
        format!("http://iemand@{host}/{}/x", setup.ecd.client_id),
        format!("{}/{}x", setup.notify_url, setup.ecd.client_id),
        format!("{}/{}/x?y=1", setup.notify_url, setup.ecd.client_id),
        format!("http://localhost.elders.example/{}/x", setup.ecd.client_id),
    ] {
        let a = setup
            .send(&subscriptions, reqwest::Method::POST, "/Subscription", &subscribe(elsewhere.clone()))
            .await;
        assert_eq!((a.status, outcome_code(&a.body)), (422, "unprocessable"), "{elsewhere}: {}", a.body);
    }
    let mut with_content = subscribe(ours.clone());
    with_content["channel"]["payload"] = json!("application/fhir+json");
    let a = setup.send(&subscriptions, reqwest::Method::POST, "/Subscription", &with_content).await;
    assert_eq!(
        (a.status, outcome_code(&a.body)),
        (400, "invalid_resource"),
        "notifications carry no content"
    );
    // Another organisation subscribes too, at its own address: it serves none of these families.
    let theirs =
        setup.token(&setup.other, "system/Subscription.c system/QuestionnaireResponse.rs").await.unwrap();
    let their_endpoint = format!("{}/{}/antwoorden", setup.notify_url, setup.other.client_id);
    let a = setup.send(&theirs, reqwest::Method::POST, "/Subscription", &subscribe(their_endpoint)).await;
    assert_eq!(a.status, 201, "{}", a.body);

    let staff = setup.server.staff().await.unwrap();
    let code = staff.activation_code(&iris).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mother = app(dir.path());
    mother.enrol(&setup.server.url, &code, PIN, PIN, "").await.unwrap();
    mother.sync(|_| {}).await.unwrap();
    let tasks = mother.tasks().await.unwrap();
    let item = tasks
        .items
        .iter()
        .find(|t| t.id.to_string() == task_id)
        .expect("the ECD's questionnaire reached the app");
    let view = mother.questionnaire(item.id).await.unwrap().unwrap();
    assert_eq!(view.task.definition.key, "start-ouder");
    let answers = fill_in(&view.task.definition);
    let before = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    assert!(mother.submit_questionnaire(item.id, answers.clone()).await.unwrap().sent);
    let after = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let told = loop {
        let seen = setup.notifications.lock().unwrap().clone();
        if !seen.is_empty() || std::time::Instant::now() > deadline {
            break seen;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    // A moment more for a notification that should not come (to the other organisation).
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let told = if told.is_empty() { told } else { setup.notifications.lock().unwrap().clone() };
    assert_eq!(told.len(), 1, "one notification, to the ECD only: {told:?}");
    assert_eq!(told[0].subscription.as_deref(), Some(subscription_id.as_str()));
    assert_eq!(told[0].path, format!("/{}/antwoorden", setup.ecd.client_id));
    assert!(told[0].body.is_empty(), "no content in a notification");
    let (status, listed) = setup.get(Some(&subscriptions), "/Subscription").await;
    assert_eq!((status, listed["total"].as_i64()), (200, Some(1)), "{listed}");
    let path = format!("/Subscription/{subscription_id}");
    let delete =
        || reqwest::Client::new().delete(format!("{}{path}", setup.base)).bearer_auth(&subscriptions).send();
    assert_eq!(delete().await.unwrap().status(), 204);
    assert_eq!(delete().await.unwrap().status(), 404);

    // The cheap poll: what was answered since, in every family the client serves.
    let since =
        |moment: &str| format!("/QuestionnaireResponse?_lastUpdated=gt{}", moment.replace('+', "%2B"));
    let (status, new) = setup.get(Some(&token), &since(&before)).await;
    assert_eq!(status, 200, "{new}");
    assert_valid_fhir(&new);
    let ids: Vec<&str> =
        new["entry"].as_array().unwrap().iter().map(|e| e["resource"]["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [task_id.as_str()]);
    let (_, none) = setup.get(Some(&token), &since(&after)).await;
    assert!(none["entry"].as_array().unwrap().is_empty(), "{none}");
    let (status, body) = setup.get(Some(&token), "/QuestionnaireResponse?_lastUpdated=lt2026-01-01").await;
    assert_eq!((status, outcome_code(&body)), (400, "invalid_search"));
    let (status, body) = setup.get(Some(&token), "/QuestionnaireResponse").await;
    assert_eq!((status, outcome_code(&body)), (400, "patient_required"));
    let (status, body) =
        setup.get(Some(&token), &format!("/QuestionnaireResponse?patient={sem}&_offset=1")).await;
    assert_eq!(
        (status, outcome_code(&body)),
        (400, "unknown_search_parameter"),
        "a feed pages by its next links"
    );
    // Another organisation's system polls too, and gets none of this CJG's answers or lines.
    let elders =
        setup.token(&setup.other, "system/QuestionnaireResponse.rs system/AuditEvent.rs").await.unwrap();
    let (status, theirs) = setup.get(Some(&elders), &since(&before)).await;
    assert_eq!(status, 200);
    assert!(theirs["entry"].as_array().unwrap().is_empty(), "{theirs}");
    let (_, theirs) = setup.get(Some(&elders), &format!("/AuditEvent?patient={sem}")).await;
    assert!(theirs["entry"].as_array().unwrap().is_empty(), "{theirs}");

    let (status, bundle) =
        setup.get(Some(&token), &format!("/QuestionnaireResponse?patient=Patient/{sem}")).await;
    assert_eq!(status, 200, "{bundle}");
    assert_valid_fhir(&bundle);
    assert_eq!(bundle["entry"].as_array().unwrap().len(), 1, "{bundle}");
    let response = &bundle["entry"][0]["resource"];
    assert_eq!(response["id"], json!(task_id));
    assert_eq!(response["source"]["reference"], json!(format!("RelatedPerson/{iris}")));
    let canonical = response["questionnaire"].as_str().unwrap();
    let (url, version) = canonical.split_once('|').unwrap();
    let published = questionnaires["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .find(|q| q["url"] == json!(url) && q["version"] == json!(version))
        .expect("the answers point at a published Questionnaire version");
    let link_ids: Vec<&str> =
        published["item"].as_array().unwrap().iter().map(|i| i["linkId"].as_str().unwrap()).collect();
    let answered = response["item"].as_array().unwrap();
    assert_eq!(answered.len(), answers.len());
    assert!(answered.iter().all(|i| link_ids.contains(&i["linkId"].as_str().unwrap())));
    let (status, one) = setup.get(Some(&token), &format!("/QuestionnaireResponse/{task_id}")).await;
    assert_eq!((status, &one), (200, response));

    let (status, page) =
        setup.get(Some(&token), &format!("/AuditEvent?patient=Patient/{sem}&_count=3")).await;
    assert_eq!(status, 200, "{page}");
    assert_valid_fhir(&page);
    assert_eq!(page["entry"].as_array().unwrap().len(), 3);
    let next = page["link"][0]["url"].as_str().expect("a next page");
    assert!(next.contains("_offset=3"), "{next}");
    let (_, recent) = setup
        .get(Some(&token), &format!("/AuditEvent?patient={sem}&date=ge{}", before.replace('+', "%2B")))
        .await;
    assert_valid_fhir(&recent);
    let recent: Vec<&Value> = recent["entry"].as_array().unwrap().iter().map(|e| &e["resource"]).collect();
    assert!(!recent.is_empty() && recent.iter().all(|e| e["recorded"].as_str().unwrap() >= before.as_str()));
    let (_, all) = setup.get(Some(&token), &format!("/AuditEvent?patient={sem}&_count=500")).await;
    assert_valid_fhir(&all);
    let events: Vec<&Value> = all["entry"].as_array().unwrap().iter().map(|e| &e["resource"]).collect();
    let ecd = |e: &&&Value| e["agent"][0]["who"]["identifier"]["value"] == "fhir:ecd-voorbeeld";
    // Its own writes and reads (the family, the task, the answers, this log), with the NEN
    // 7513 fields: who, role, what, when, why and the application.
    let own: Vec<&&Value> = events.iter().filter(ecd).collect();
    assert!(own.iter().any(|e| e["action"] == "C" && e["entity"][1]["name"] == "questionnaire"));
    assert!(own.iter().any(|e| e["action"] == "R" && e["entity"][1]["name"] == "questionnaires"));
    assert!(own.iter().any(|e| e["action"] == "R" && e["entity"][1]["name"] == "audit_log"));
    for e in &own {
        assert_eq!(e["agent"][0]["role"][0]["text"], "Systeemkoppeling");
        assert_eq!(e["purposeOfEvent"][0]["coding"][0]["code"], "hulpverlening");
        assert_eq!(e["source"]["site"], "fhir:ecd-voorbeeld");
        assert!(e["recorded"].is_string());
    }
    // The coach's activation code is there too, under her own name and application.
    assert!(events
        .iter()
        .any(|e| e["agent"][0]["who"]["display"] == "Fleur Demo" && e["source"]["site"] == "staff-api"));

    // Answers and logs are read one family at a time.
    let (status, body) = setup.get(Some(&token), "/AuditEvent").await;
    assert_eq!((status, outcome_code(&body)), (400, "patient_required"));
    let theirs = setup.token(&setup.other, "system/Patient.rs").await.unwrap();
    let (status, _) = setup.get(Some(&theirs), &format!("/AuditEvent?patient={sem}")).await;
    assert_eq!(status, 403, "no scope for the log");
}

/// A parent saves her whole dossier as a FHIR Bundle for another app (AVG art. 20): every
/// entry she may read and no other, her messages, her answers with the questionnaires they
/// answer, and the access log she sees; an independent FHIR implementation reads it, and it
/// lands only in the export folder.
#[tokio::test]
async fn a_parent_saves_her_whole_dossier_as_a_fhir_bundle() {
    let server = cjg_tests::TestServer::start().unwrap();
    let (dir, app) = cjg_tests::enrolled_app(&server, "Sanne").await;
    app.send_message("Kunnen we vrijdag bellen?").await.unwrap();
    app.sync(|_| {}).await.unwrap();
    let mine = app.my_data().await.unwrap();
    assert_eq!(mine.me.display_name, "Sanne Voorbeeld");
    let path = app.save_fhir_export().await.unwrap();
    assert!(path.starts_with(dir.path().join("exports")), "{}", path.display());
    assert!(path.file_name().unwrap().to_str().unwrap().starts_with("mijn-cjg-dossier-"));
    let bundle: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_valid_fhir(&bundle);
    assert_eq!(
        (bundle["resourceType"].as_str(), bundle["type"].as_str()),
        (Some("Bundle"), Some("collection"))
    );
    let resources: Vec<&Value> = bundle["entry"].as_array().unwrap().iter().map(|e| &e["resource"]).collect();
    let of = |kind: &str| resources.iter().filter(|r| r["resourceType"] == kind).count();
    let visible = app.dossier().await.unwrap();
    assert_eq!(of("DocumentReference"), visible.entries.len());
    let ids: Vec<String> = visible.entries.iter().map(|e| e.id.to_string()).collect();
    assert!(resources
        .iter()
        .filter(|r| r["resourceType"] == "DocumentReference")
        .all(|r| ids.contains(&r["id"].as_str().unwrap().to_owned())));
    assert_eq!(of("AuditEvent"), app.inzage().await.unwrap().total as usize);
    assert_eq!(of("Communication"), mine.messages.len());
    assert!(of("Communication") >= 1);
    assert_eq!(of("QuestionnaireResponse"), mine.questionnaires.len());
    assert!(of("Questionnaire") >= usize::from(!mine.questionnaires.is_empty()));
    assert_eq!(of("Patient") + of("RelatedPerson"), visible.people.len());
    // Only her own answers: a parent's answers name her as their source.
    assert!(resources
        .iter()
        .filter(|r| r["resourceType"] == "QuestionnaireResponse")
        .all(|r| r["source"]["reference"] == json!(format!("RelatedPerson/{}", mine.me.id))));
}
