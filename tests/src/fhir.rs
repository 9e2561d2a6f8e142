//! An "ECD" as a SMART Backend Services client of the FHIR endpoint: its own key pair
//! (ECDSA P-384, ES384), registered by its public key only; and the independent FHIR check
//! (`tests/fhir/check.py` with the `fhir.resources` package, set up by `scripts/setup`).

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context, Result};
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P384_SHA384_FIXED_SIGNING};
use serde_json::{json, Value};

use crate::oidc::free_port;
use crate::{workspace_root, TestServer};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A machine client with its private key.
pub struct EcdClient {
    pub client_id: String,
    pub kid: String,
    pair: EcdsaKeyPair,
}

impl EcdClient {
    pub fn new(client_id: &str, kid: &str) -> Self {
        let rng = SystemRandom::new();
        let der = EcdsaKeyPair::generate_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, &rng).expect("key");
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, der.as_ref(), &rng).expect("key");
        Self { client_id: client_id.into(), kid: kid.into(), pair }
    }

    /// The public key set the CJG registers for this client.
    pub fn jwks(&self) -> Value {
        let (x, y) = self.pair.public_key().as_ref()[1..].split_at(48);
        json!({"keys": [{"kty": "EC", "crv": "P-384", "x": b64(x), "y": b64(y), "kid": self.kid, "alg": "ES384", "use": "sig"}]})
    }

    /// A JWT with `header` and `claims`, signed with this client's key (ES384).
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
        let sig = self.pair.sign(&SystemRandom::new(), input.as_bytes()).expect("sign");
        format!("{input}.{}", b64(sig.as_ref()))
    }

    /// The claims of a good assertion for `token_url`, made now.
    pub fn claims(&self, token_url: &str) -> Value {
        let now = chrono::Utc::now().timestamp();
        json!({"iss": self.client_id, "sub": self.client_id, "aud": token_url, "exp": now + 240,
            "jti": uuid::Uuid::new_v4().to_string()})
    }

    pub fn header(&self) -> Value {
        json!({"alg": "ES384", "typ": "JWT", "kid": self.kid})
    }

    /// A good assertion for `token_url`.
    pub fn assertion(&self, token_url: &str) -> String {
        self.sign(&self.header(), &self.claims(token_url))
    }
}

/// The token endpoint with an assertion and a scope; the raw answer.
pub async fn request_token(server: &FhirSetup, assertion: &str, scope: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(&server.token_url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", scope),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            ("client_assertion", assertion),
        ])
        .send()
        .await
        .expect("token endpoint")
}

/// A server with a FHIR endpoint and two registered clients: `ecd` (the CJG's own ECD, may
/// read practitioners and patients of every team) and `other` (another organisation's system:
/// patients only, of a team that has none of the demo's families).
pub struct FhirSetup {
    pub server: TestServer,
    pub base: String,
    pub token_url: String,
    pub ecd: EcdClient,
    pub other: EcdClient,
    /// Where the clients' Subscriptions may notify (each client's `notify_urls` entry is
    /// `<notify_url>/<client_id>/`), and what arrived there.
    pub notify_url: String,
    pub notifications: Arc<Mutex<Vec<Notification>>>,
    _dir: tempfile::TempDir,
}

/// A notification the server sent to a Subscription's endpoint.
#[derive(Debug, Clone)]
pub struct Notification {
    pub path: String,
    pub subscription: Option<String>,
    pub body: Vec<u8>,
}

/// A plain HTTP listener on this machine that answers 200 to every POST and keeps what came.
fn notification_listener() -> Result<(String, Arc<Mutex<Vec<Notification>>>)> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}", listener.local_addr()?);
    let seen: Arc<Mutex<Vec<Notification>>> = Arc::default();
    let keep = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = read_notification(stream, &keep);
        }
    });
    Ok((url, seen))
}

fn read_notification(
    mut stream: std::net::TcpStream,
    keep: &Mutex<Vec<Notification>>,
) -> std::io::Result<()> {
    use std::io::{BufRead, BufReader, Read};
    stream.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut first = String::new();
    reader.read_line(&mut first)?;
    let path = first.split_whitespace().nth(1).unwrap_or_default().to_owned();
    let (mut length, mut subscription) = (0usize, None);
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "x-subscription-id" => subscription = Some(value.trim().to_owned()),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length.min(1 << 20)];
    reader.read_exact(&mut body)?;
    keep.lock().expect("notifications").push(Notification { path, subscription, body });
    stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")?;
    Ok(())
}

pub fn start() -> Result<FhirSetup> {
    let dir = tempfile::tempdir()?;
    let port = free_port()?;
    let base = format!("http://127.0.0.1:{port}/fhir");
    let ecd = EcdClient::new("ecd-voorbeeld", "ecd-sleutel-1");
    let other = EcdClient::new("ander-cjg", "ander-sleutel-1");
    let (notify_url, notifications) = notification_listener()?;
    let mut clients = String::new();
    for (client, name, scopes, teams) in [
        (
            &ecd,
            "ECD Voorbeeld (verzonnen)",
            r#"["system/Practitioner.rs", "system/Patient.cruds", "system/RelatedPerson.crus", "system/CareTeam.crus",
                "system/DocumentReference.cruds", "system/Task.cu", "system/Questionnaire.rs", "system/ActivityDefinition.rs",
                "system/QuestionnaireResponse.rs", "system/AuditEvent.rs", "system/Communication.rs",
                "system/Subscription.crds"]"#,
            r#"["*"]"#,
        ),
        (
            &other,
            "Systeem van een ander CJG (verzonnen)",
            r#"["system/Patient.rs", "system/QuestionnaireResponse.rs", "system/AuditEvent.rs", "system/Subscription.c"]"#,
            r#"["Team Elders"]"#,
        ),
    ] {
        let jwks = dir.path().join(format!("{}.jwks.json", client.client_id));
        std::fs::write(&jwks, client.jwks().to_string())?;
        clients.push_str(&format!(
            "\n[[clients]]\nclient_id = \"{}\"\nname = \"{name}\"\njwks_file = \"{}\"\nscopes = {scopes}\n\
             purpose = \"hulpverlening\"\nteams = {teams}\nnotify_urls = [\"{notify_url}/{}/\"]\n",
            client.client_id,
            jwks.display(),
            client.client_id
        ));
    }
    let config = dir.path().join("fhir.toml");
    // A poll reads one second behind now (ten in production), so the tests need not wait long.
    std::fs::write(&config, format!("base_url = \"{base}\"\nfeed_margin_seconds = 1\n{clients}"))?;
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data)?;
    let config = config.to_string_lossy().into_owned();
    // The token endpoint counts against the sign-in attempts per address; the tests try many.
    let server = TestServer::start_in(
        &data,
        &format!("127.0.0.1:{port}"),
        &["--fhir-config", &config, "--attempts-per-minute", "100"],
    )?;
    Ok(FhirSetup {
        server,
        token_url: format!("{base}/auth/token"),
        base,
        ecd,
        other,
        notify_url,
        notifications,
        _dir: dir,
    })
}

impl FhirSetup {
    /// An access token of `client` with `scope`.
    pub async fn token(&self, client: &EcdClient, scope: &str) -> Result<String> {
        let r = request_token(self, &client.assertion(&self.token_url), scope).await;
        let status = r.status();
        let body: Value = r.json().await?;
        if !status.is_success() {
            bail!("token refused: {status} {body}");
        }
        Ok(body["access_token"].as_str().context("access_token")?.to_owned())
    }

    /// `GET <base><path>` with a token; status and body.
    pub async fn get(&self, token: Option<&str>, path: &str) -> (u16, Value) {
        let mut req = reqwest::Client::new().get(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.expect("FHIR request");
        let status = r.status().as_u16();
        let kind =
            r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        assert!(kind.starts_with("application/fhir+json"), "{path}: content type {kind:?}");
        (status, r.json().await.expect("FHIR JSON"))
    }
}

/// What a FHIR write answered: status, body and `Location`.
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub location: Option<String>,
}

impl FhirSetup {
    /// `method <base><path>` with a token and a resource.
    pub async fn send(&self, token: &str, method: reqwest::Method, path: &str, body: &Value) -> Answer {
        self.send_bytes(token, method, path, body.to_string().into_bytes()).await
    }

    pub async fn send_bytes(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Vec<u8>,
    ) -> Answer {
        let r = reqwest::Client::new()
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("content-type", "application/fhir+json")
            .body(body)
            .send()
            .await
            .expect("FHIR request");
        let status = r.status().as_u16();
        let location = r.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let kind =
            r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        assert!(kind.starts_with("application/fhir+json"), "{path}: content type {kind:?}");
        Answer { status, body: r.json().await.expect("FHIR JSON"), location }
    }

    /// `PUT <Type>?identifier=system|value`: create or update by the ECD's identifier.
    pub async fn put(&self, token: &str, resource: &Value) -> Answer {
        let kind = resource["resourceType"].as_str().expect("resourceType");
        let id = &resource["identifier"][0];
        let query =
            format!("{}|{}", id["system"].as_str().expect("system"), id["value"].as_str().expect("value"));
        let path = format!("/{kind}?identifier={}", urlencode(&query));
        self.send(token, reqwest::Method::PUT, &path, resource).await
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Markdown as a FHIR attachment's `data`.
pub fn attachment_data(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// Checks resources with the independent FHIR implementation; panics with its message.
pub fn assert_valid_fhir(resources: &Value) {
    let python = workspace_root().join("target/fhir-venv/bin/python");
    assert!(python.exists(), "{} is missing: run scripts/setup", python.display());
    let mut child = Command::new(python)
        .arg(workspace_root().join("tests/fhir/check.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python");
    child.stdin.take().expect("stdin").write_all(resources.to_string().as_bytes()).expect("write");
    let out = child.wait_with_output().expect("python ran");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && said.trim() == "ok",
        "the FHIR check refused: {said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
