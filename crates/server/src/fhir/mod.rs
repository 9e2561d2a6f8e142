//! The FHIR R4 endpoint for the CJG's own systems (the ECD), under `/fhir` (see `docs/fhir.md`).
//!
//! Machine clients authenticate as SMART Backend Services: a registered client signs a JWT
//! assertion with its own private key (RS384 or ES384; the server holds only its public keys),
//! and trades it at `POST /fhir/auth/token` for an access token of five minutes that carries
//! only the scopes asked for, within the client's own. Every assertion is used once. Errors of
//! the token endpoint are OAuth errors (RFC 6749 5.2), as SMART clients expect; every other
//! error under `/fhir` is an `OperationOutcome`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::{FromRequestParts, Path as UrlPath, Query as UrlQuery, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Form, Json, Router};
use base64::Engine;
use cjg_core::fhir::{self as model, IssueType, Scopes};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::auth::{self, Peer};
use crate::client_assertion::ASSERTION_TYPE;
use crate::{db, AppState};

mod answers;
pub mod notify;
mod read;
mod write;

/// How long an access token lives.
pub const TOKEN_SECONDS: i64 = 300;
/// SMART: an assertion expires at most five minutes after it is made.
const MAX_ASSERTION_SECONDS: i64 = 300;
/// Clock skew allowed between the client and this server.
const ASSERTION_LEEWAY_SECONDS: i64 = 30;

/// The configuration file (`--fhir-config`, TOML).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    /// The public address of the FHIR endpoint, as clients reach it:
    /// `https://mijn-cjg.example.nl/fhir`. Assertions name `<base_url>/auth/token`.
    base_url: String,
    /// How far behind now a poll with `_lastUpdated` reads, and how long a notification waits,
    /// so that nothing committed later can have an earlier time (default 10; 0 to 300).
    #[serde(default = "default_feed_margin")]
    feed_margin_seconds: u32,
    #[serde(default)]
    clients: Vec<ClientFile>,
}

fn default_feed_margin() -> u32 {
    10
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientFile {
    client_id: String,
    /// The application's name, in logs (and in the access log once it reads client data).
    name: String,
    /// The client's public keys (a JSON Web Key Set); the private keys stay with the client.
    jwks_file: PathBuf,
    /// What it may ask for: `system/<ResourceType>.<cruds>`.
    scopes: Vec<String>,
    /// Why it reads client data, for the access log (NEN 7513): one of the purposes staff
    /// state, such as `hulpverlening`.
    purpose: String,
    /// The teams whose dossiers it serves, or `["*"]` for all: another CJG's system on the
    /// same server sees none of this one's families.
    teams: Vec<String>,
    /// Where its Subscriptions may send notifications: an endpoint must start with one of
    /// these (the CJG decides where its server calls out to, not the client).
    #[serde(default)]
    notify_urls: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("{0}: {1}")]
    Parse(PathBuf, String),
    #[error("{0}: {1}")]
    Invalid(PathBuf, String),
}

/// A registered machine client.
pub struct Client {
    pub client_id: String,
    pub name: String,
    keys: JwkSet,
    pub scopes: Scopes,
    pub purpose: cjg_core::audit::Purpose,
    /// `None`: every team.
    pub teams: Option<Vec<String>>,
    pub notify_urls: Vec<url::Url>,
}

impl Client {
    pub fn serves(&self, team: &str) -> bool {
        self.teams.as_ref().is_none_or(|t| t.iter().any(|x| x == team))
    }

    /// The endpoint as it will be called, if it lies under one of the client's `notify_urls`:
    /// the same scheme, host and port, and a path in that folder (after `..` and `%2e` are
    /// resolved, which the parser does); no user, query or fragment.
    pub fn notify_endpoint(&self, endpoint: &str) -> Option<url::Url> {
        let u = url::Url::parse(endpoint).ok()?;
        if !u.username().is_empty() || u.password().is_some() || u.query().is_some() || u.fragment().is_some()
        {
            return None;
        }
        let under = |p: &url::Url| {
            p.scheme() == u.scheme()
                && p.host_str() == u.host_str()
                && p.port_or_known_default() == u.port_or_known_default()
                && u.path().starts_with(p.path())
        };
        self.notify_urls.iter().any(under).then_some(u)
    }
}

/// `https://…`, or `http://` to this machine only.
fn local_or_https(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| secure_or_local(&u))
}

/// `https`, or `http` to this machine only (by its exact name, not a name that starts so).
fn secure_or_local(u: &url::Url) -> bool {
    u.scheme() == "https"
        || (u.scheme() == "http" && matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")))
}

/// A `notify_urls` entry: an address a notification may go under, parsed.
fn notify_prefix(entry: &str) -> Result<url::Url, &'static str> {
    let u = url::Url::parse(entry).map_err(|_| "is not an address")?;
    if !secure_or_local(&u) {
        return Err("must be https:// (http only on this machine)");
    }
    if !u.username().is_empty() || u.password().is_some() || u.query().is_some() || u.fragment().is_some() {
        return Err("must have no user, query or fragment");
    }
    if !u.path().ends_with('/') {
        return Err("must end with / (a folder that the client's addresses lie under)");
    }
    Ok(u)
}

pub struct FhirConfig {
    pub base_url: String,
    pub token_url: String,
    pub clients: Vec<Client>,
    /// How far behind now a poll reads (see `feed_margin_seconds`).
    pub feed_margin: chrono::Duration,
    /// For the notifications of Subscriptions.
    pub http: openidconnect::reqwest::Client,
    /// Subscriptions with a delivery under way, and whether another change came meanwhile.
    pub pending: std::sync::Mutex<std::collections::HashMap<Uuid, bool>>,
}

impl std::fmt::Debug for FhirConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FhirConfig").field("base_url", &self.base_url).finish_non_exhaustive()
    }
}

impl FhirConfig {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read(path.into(), e))?;
        let mut file: ConfigFile =
            toml::from_str(&text).map_err(|e| ConfigError::Parse(path.into(), e.to_string()))?;
        let invalid = |why: String| ConfigError::Invalid(path.into(), why);
        let base = file.base_url.trim_end_matches('/').to_owned();
        if !local_or_https(&base) {
            return Err(invalid("base_url must be https:// (http only on this machine)".into()));
        }
        if file.feed_margin_seconds > 300 {
            return Err(invalid("feed_margin_seconds is at most 300".into()));
        }
        let mut clients = Vec::new();
        for c in std::mem::take(&mut file.clients) {
            let id_ok = !c.client_id.is_empty()
                && c.client_id.len() <= 100
                && c.client_id.bytes().all(|b| b.is_ascii_graphic());
            if !id_ok {
                return Err(invalid(format!(
                    "client_id {:?} is not 1 to 100 printable characters",
                    c.client_id
                )));
            }
            if clients.iter().any(|k: &Client| k.client_id == c.client_id) {
                return Err(invalid(format!("client_id {:?} is there twice", c.client_id)));
            }
            let name = cjg_core::validate::single_line("name", &c.name, 100)
                .map_err(|e| invalid(format!("{}: {e}", c.client_id)))?;
            let keys_text = std::fs::read_to_string(&c.jwks_file)
                .map_err(|e| ConfigError::Read(c.jwks_file.clone(), e))?;
            let keys: JwkSet = serde_json::from_str(&keys_text)
                .map_err(|e| ConfigError::Parse(c.jwks_file.clone(), e.to_string()))?;
            if keys.keys.is_empty() || keys.keys.iter().any(|k| k.common.key_id.is_none()) {
                return Err(invalid(format!("{}: every key needs a kid", c.client_id)));
            }
            let scopes =
                Scopes::parse(&c.scopes.join(" ")).map_err(|e| invalid(format!("{}: {e}", c.client_id)))?;
            let purpose = cjg_core::audit::Purpose::parse(&c.purpose).ok_or_else(|| {
                invalid(format!("{}: purpose {:?} is not a known purpose", c.client_id, c.purpose))
            })?;
            let teams = match c.teams.as_slice() {
                [] => {
                    return Err(invalid(format!("{}: teams is empty; [\"*\"] means every team", c.client_id)))
                }
                [all] if all == "*" => None,
                named => Some(named.to_vec()),
            };
            let notify_urls = c
                .notify_urls
                .iter()
                .map(|entry| {
                    notify_prefix(entry)
                        .map_err(|why| invalid(format!("{}: notify_urls entry {entry:?} {why}", c.client_id)))
                })
                .collect::<Result<Vec<_>, _>>()?;
            clients.push(Client { client_id: c.client_id, name, keys, scopes, purpose, teams, notify_urls });
        }
        let http = openidconnect::reqwest::ClientBuilder::new()
            // A notification goes where the configuration allows, and nowhere a redirect points.
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(5))
            .build()
            .map_err(|e| invalid(format!("cannot make the HTTP client for notifications: {e}")))?;
        Ok(Self {
            token_url: format!("{base}/auth/token"),
            base_url: base,
            clients,
            feed_margin: chrono::Duration::seconds(i64::from(file.feed_margin_seconds)),
            http,
            pending: std::sync::Mutex::default(),
        })
    }

    pub fn client(&self, id: &str) -> Option<&Client> {
        self.clients.iter().find(|c| c.client_id == id)
    }
}

/// An error under `/fhir` as an `OperationOutcome`.
#[derive(Debug)]
pub struct FhirError {
    status: StatusCode,
    issue: IssueType,
    code: &'static str,
    diagnostics: String,
}

impl FhirError {
    fn new(status: StatusCode, issue: IssueType, code: &'static str, diagnostics: impl Into<String>) -> Self {
        Self { status, issue, code, diagnostics: diagnostics.into() }
    }

    fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, IssueType::NotFound, "not_found", format!("{what} is not here"))
    }

    fn internal(e: &crate::error::AppError) -> Self {
        tracing::error!(code = ?e.code, "FHIR request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            IssueType::Exception,
            "server_error",
            "the server could not answer; try again",
        )
    }
}

impl IntoResponse for FhirError {
    fn into_response(self) -> Response {
        let body = model::operation_outcome(self.issue, self.code, &self.diagnostics);
        let mut response = fhir_json(self.status, &body);
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

fn fhir_json(status: StatusCode, body: &Value) -> Response {
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/fhir+json"))], body.to_string())
        .into_response()
}

fn config(state: &AppState) -> Result<Arc<FhirConfig>, FhirError> {
    state.fhir.clone().ok_or_else(|| {
        FhirError::new(
            StatusCode::NOT_FOUND,
            IssueType::NotSupported,
            "fhir_off",
            "this server has no FHIR endpoint configured",
        )
    })
}

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/metadata", get(metadata))
        .route("/auth/token", post(token))
        .route("/Patient", get(search_patients).post(write::patient).put(write::patient))
        .route(
            "/RelatedPerson",
            get(read::search_related_people).post(write::related_person).put(write::related_person),
        )
        .route("/CareTeam", get(read::search_care_teams).post(write::care_team).put(write::care_team))
        .route(
            "/DocumentReference",
            get(read::search_entries).post(write::document_reference).put(write::document_reference),
        )
        .route("/Patient/{id}", get(read_patient).put(write::patient))
        .route("/RelatedPerson/{id}", get(read::read_related_person).put(write::related_person))
        .route("/CareTeam/{id}", get(read::read_care_team).put(write::care_team))
        .route("/DocumentReference/{id}", get(read::read_entry).put(write::document_reference))
        .route("/Task", post(write::task).put(write::task))
        .route("/Task/{id}", put(write::task))
        .route("/Questionnaire", get(answers::search_questionnaires))
        .route("/Questionnaire/{id}", get(answers::read_questionnaire))
        .route("/ActivityDefinition", get(answers::search_activity_definitions))
        .route("/ActivityDefinition/{id}", get(answers::read_activity_definition))
        .route("/QuestionnaireResponse", get(answers::search_responses))
        .route("/QuestionnaireResponse/{id}", get(answers::read_response))
        .route("/AuditEvent", get(answers::search_audit_events))
        .route("/Communication", get(answers::search_feedback))
        .route("/Subscription", get(notify::search_subscriptions).post(notify::create_subscription))
        .route("/Subscription/{id}", axum::routing::delete(notify::delete_subscription))
        .route("/Practitioner", get(search_practitioners))
        .route("/Practitioner/{id}", get(read_practitioner))
        .fallback(|| async {
            FhirError::new(
                StatusCode::NOT_FOUND,
                IssueType::NotSupported,
                "not_supported",
                "no such resource type or interaction here; see /fhir/metadata",
            )
        })
        .method_not_allowed_fallback(|| async {
            FhirError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                IssueType::NotSupported,
                "not_supported",
                "this interaction is not supported; see /fhir/metadata",
            )
        })
}

/// What the endpoint supports, for anyone (no client data).
async fn metadata(State(state): State<Arc<AppState>>) -> Result<Response, FhirError> {
    let config = config(&state)?;
    let date = state.clock.today().to_string();
    let body =
        model::capability_statement(&config.base_url, &config.token_url, env!("CARGO_PKG_VERSION"), &date);
    Ok(fhir_json(StatusCode::OK, &body))
}

#[derive(Debug, Deserialize)]
struct TokenRequest {
    grant_type: Option<String>,
    scope: Option<String>,
    client_assertion_type: Option<String>,
    client_assertion: Option<String>,
}

/// An OAuth error of the token endpoint (RFC 6749 5.2).
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut response =
        (status, Json(json!({"error": error, "error_description": description}))).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The claims of a client assertion that are checked here (the library checks `exp`, `aud`,
/// `iss` and `sub`).
#[derive(Debug, Deserialize)]
struct AssertionClaims {
    exp: i64,
    jti: Option<String>,
}

/// SMART Backend Services: a signed assertion in, a short-lived access token out.
async fn token(
    State(state): State<Arc<AppState>>,
    Peer(ip): Peer,
    form: Result<Form<TokenRequest>, FormRejection>,
) -> Response {
    let Ok(config) = config(&state) else {
        return oauth_error(
            StatusCode::NOT_FOUND,
            "invalid_request",
            "this server has no FHIR endpoint configured",
        );
    };
    if state.limiter.check(ip).is_err() {
        return oauth_error(
            StatusCode::TOO_MANY_REQUESTS,
            "invalid_request",
            "too many requests; wait a minute",
        );
    }
    let Ok(Form(req)) = form else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "send application/x-www-form-urlencoded fields",
        );
    };
    if req.grant_type.as_deref() != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be client_credentials",
        );
    }
    let (Some(ASSERTION_TYPE), Some(assertion)) =
        (req.client_assertion_type.as_deref(), req.client_assertion)
    else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "a client_assertion of type jwt-bearer is needed",
        );
    };
    let now = state.clock.now();
    let client = match check_assertion(&config, &assertion, now.timestamp()) {
        Ok(checked) => checked,
        Err(why) => {
            tracing::warn!(%why, "a FHIR client assertion was refused");
            return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", &why);
        }
    };
    let scopes = match client.client.scopes.grant(req.scope.as_deref().unwrap_or_default()) {
        Ok(s) => s,
        Err(e) => return oauth_error(StatusCode::BAD_REQUEST, "invalid_scope", &e.to_string()),
    };
    let Ok((access_token, token_hash)) = auth::new_token() else {
        return oauth_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "try again");
    };
    let (client_id, jti) = (client.client.client_id.clone(), client.jti);
    let client_name = client.client.name.clone();
    // Kept past the assertion's own expiry plus the clock skew it was allowed, so it cannot
    // be replayed in the skew window after its row would have gone.
    let jti_expires = chrono::DateTime::from_timestamp(client.exp + 2 * ASSERTION_LEEWAY_SECONDS, 0)
        .unwrap_or(now)
        .max(now + chrono::Duration::seconds(2 * ASSERTION_LEEWAY_SECONDS));
    let expires_at = now + chrono::Duration::seconds(TOKEN_SECONDS);
    let scope_text = scopes.to_text();
    let granted = scope_text.clone();
    let issued = state
        .db
        .write_unordered(move |tx| {
            if !db::fhir::use_assertion(tx, &client_id, &jti, jti_expires, now)? {
                return Ok(false);
            }
            if db::fhir::system_account(tx, &client_id, &client_name)?.is_none() {
                tracing::error!(client = %client_id, "a person's account is named fhir:<client id>; the client is refused");
                return Ok(false);
            }
            db::fhir::insert_token(tx, &token_hash, &client_id, &granted, expires_at, now)?;
            Ok(true)
        })
        .await;
    match issued {
        Ok(true) => {
            tracing::info!(client = %client.client.client_id, scope = %scope_text, "FHIR access token issued");
            let mut response = Json(json!({
                "access_token": access_token, "token_type": "bearer", "expires_in": TOKEN_SECONDS, "scope": scope_text,
            }))
            .into_response();
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Ok(false) => {
            tracing::warn!(client = %client.client.client_id, "a FHIR client assertion was refused after its checks");
            oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "this assertion was used before (jti)")
        }
        Err(_) => oauth_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "try again"),
    }
}

struct CheckedAssertion<'a> {
    client: &'a Client,
    jti: String,
    exp: i64,
}

/// The checks of SMART Backend Services on a client assertion: RS384 or ES384 with a key the
/// client registered (by `kid`), `iss` and `sub` the client's id, `aud` this token endpoint,
/// not expired and not valid for more than five minutes, with a `jti`.
fn check_assertion<'a>(
    config: &'a FhirConfig,
    assertion: &str,
    now: i64,
) -> Result<CheckedAssertion<'a>, String> {
    if assertion.len() > 8192 {
        return Err("the assertion is too long".into());
    }
    let header =
        jsonwebtoken::decode_header(assertion).map_err(|_| "the assertion is not a signed JWT".to_owned())?;
    if !matches!(header.alg, Algorithm::RS384 | Algorithm::ES384) {
        return Err(format!("{:?} is not allowed: sign with RS384 or ES384", header.alg));
    }
    let kid = header.kid.ok_or("the assertion's header has no kid")?;
    // The client is named by `iss`, read before the signature is checked only to pick its keys;
    // the check below requires the same value.
    let payload = assertion.split('.').nth(1).unwrap_or_default();
    let unverified: Value = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("the assertion's claims are not JSON")?;
    let iss = unverified["iss"].as_str().ok_or("the assertion has no iss")?;
    let client = config.client(iss).ok_or("unknown client")?;
    let jwk = client.keys.find(&kid).ok_or("the client registered no key with this kid")?;
    let key = DecodingKey::from_jwk(jwk).map_err(|_| "the registered key cannot be used".to_owned())?;
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[config.token_url.as_str()]);
    validation.set_issuer(&[client.client_id.as_str()]);
    validation.sub = Some(client.client_id.clone());
    validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
    validation.leeway = ASSERTION_LEEWAY_SECONDS.unsigned_abs();
    let data = jsonwebtoken::decode::<AssertionClaims>(assertion, &key, &validation)
        .map_err(|e| format!("the assertion did not check out: {e}"))?;
    let claims = data.claims;
    if claims.exp > now + MAX_ASSERTION_SECONDS + ASSERTION_LEEWAY_SECONDS {
        return Err("the assertion is valid for more than five minutes".into());
    }
    let jti =
        claims.jti.filter(|j| !j.is_empty() && j.len() <= 255).ok_or("the assertion has no usable jti")?;
    Ok(CheckedAssertion { client, jti, exp: claims.exp })
}

/// A machine client with a live access token.
pub struct FhirClient {
    pub client_id: String,
    pub scopes: Scopes,
    /// Who it is in the access log: its system account.
    pub actor: db::StaffActor,
    pub purpose: cjg_core::audit::Purpose,
    pub teams: Option<Vec<String>>,
}

impl FromRequestParts<Arc<AppState>> for FhirClient {
    type Rejection = FhirError;
    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, FhirError> {
        let config = config(state)?;
        let unauthenticated = || {
            FhirError::new(
                StatusCode::UNAUTHORIZED,
                IssueType::Login,
                "unauthenticated",
                "a valid access token is needed: POST /fhir/auth/token",
            )
        };
        let hash = auth::bearer_hash(&parts.headers).ok_or_else(unauthenticated)?;
        let now = state.clock.now();
        let found = state
            .db
            .call_read(move |c| Ok(db::fhir::token_client(c, &hash, now)?))
            .await
            .map_err(|e| FhirError::internal(&e))?;
        let (client_id, scopes, account) = found.ok_or_else(unauthenticated)?;
        // A client taken out of the configuration loses its tokens at once.
        let client = config.client(&client_id).ok_or_else(unauthenticated)?;
        let scopes = Scopes::parse(&scopes).map_err(|_| unauthenticated())?;
        let actor = db::StaffActor {
            id: account,
            display_name: client.name.clone(),
            role: cjg_core::staff::StaffRole::Systeemkoppeling,
        };
        Ok(Self { client_id, scopes, actor, purpose: client.purpose, teams: client.teams.clone() })
    }
}

impl FhirClient {
    fn may_read(&self, resource: &str) -> Result<(), FhirError> {
        self.may(resource, self.scopes.on(resource).read, "read", "r")
    }

    fn may_search(&self, resource: &str) -> Result<(), FhirError> {
        self.may(resource, self.scopes.on(resource).search, "search", "s")
    }

    fn may_create(&self, resource: &str) -> Result<(), FhirError> {
        self.may(resource, self.scopes.on(resource).create, "create", "c")
    }

    fn may_delete(&self, resource: &str) -> Result<(), FhirError> {
        self.may(resource, self.scopes.on(resource).delete, "delete", "d")
    }

    fn may(&self, resource: &str, allowed: bool, what: &str, letter: &str) -> Result<(), FhirError> {
        if allowed {
            Ok(())
        } else {
            Err(FhirError::new(
                StatusCode::FORBIDDEN,
                IssueType::Forbidden,
                "forbidden",
                format!("the token has no scope to {what} {resource}: ask for system/{resource}.{letter}"),
            ))
        }
    }
}

async fn read_practitioner(
    State(state): State<Arc<AppState>>,
    client: FhirClient,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, FhirError> {
    client.may_read("Practitioner")?;
    let Ok(id) = Uuid::parse_str(&id) else { return Err(FhirError::not_found("Practitioner")) };
    let found = state
        .db
        .call_read(move |c| Ok(db::fhir::practitioners(c, Some(id))?))
        .await
        .map_err(|e| FhirError::internal(&e))?;
    let (id, name) = found.into_iter().next().ok_or_else(|| FhirError::not_found("Practitioner"))?;
    Ok(fhir_json(StatusCode::OK, &model::practitioner(&id.to_string(), &name, true)))
}

/// What a search asks for by `_id` and `identifier`.
enum IdFilter {
    All,
    One(Uuid),
    /// A value that cannot match any of ours matches nothing (not everything).
    Nothing,
}

/// The `_id` and `identifier` (`urn:ietf:rfc:3986|urn:uuid:…`) parameters. Unknown parameters
/// are refused rather than ignored: a search that silently matched everything would hand an
/// ECD more than it asked for.
fn id_filter(params: &[(String, String)]) -> Result<IdFilter, FhirError> {
    let mut filter = IdFilter::All;
    for (name, value) in params {
        let id = match name.as_str() {
            "_id" => Uuid::parse_str(value).ok(),
            "identifier" => value
                .strip_prefix(&format!("{}|urn:uuid:", model::IDENTIFIER_SYSTEM))
                .or_else(|| value.strip_prefix("urn:uuid:"))
                .and_then(|v| Uuid::parse_str(v).ok()),
            "_format" if value == "json" || value == model::MEDIA_TYPE => continue,
            other => {
                return Err(FhirError::new(
                    StatusCode::BAD_REQUEST,
                    IssueType::NotSupported,
                    "unknown_search_parameter",
                    format!(
                        "search parameter {:?} is not supported here; see /fhir/metadata",
                        other.chars().take(40).collect::<String>()
                    ),
                ))
            }
        };
        filter = match (filter, id) {
            (IdFilter::All, Some(id)) => IdFilter::One(id),
            (IdFilter::One(a), Some(b)) if a == b => IdFilter::One(a),
            _ => IdFilter::Nothing,
        };
    }
    Ok(filter)
}

impl IdFilter {
    /// What to look up: `None` when nothing can match (no lookup, and for patients no line
    /// in any access log), else every row or one.
    fn into_search(self) -> Option<Option<Uuid>> {
        match self {
            Self::Nothing => None,
            Self::All => Some(None),
            Self::One(id) => Some(Some(id)),
        }
    }
}

/// `GET /fhir/Practitioner[?identifier=…][&_id=…]`.
async fn search_practitioners(
    State(state): State<Arc<AppState>>,
    client: FhirClient,
    UrlQuery(params): UrlQuery<Vec<(String, String)>>,
) -> Result<Response, FhirError> {
    client.may_search("Practitioner")?;
    let Some(only) = id_filter(&params)?.into_search() else { return searchset(&state, Vec::new()) };
    let found = state
        .db
        .call_read(move |c| Ok(db::fhir::practitioners(c, only)?))
        .await
        .map_err(|e| FhirError::internal(&e))?;
    searchset(
        &state,
        found.iter().map(|(id, name)| model::practitioner(&id.to_string(), name, true)).collect(),
    )
}

/// The young people the client may see (its teams), read and logged in one transaction: one
/// line in each dossier's access log per person handed out, with the client's system account,
/// its purpose and `fhir:<client id>` as the application (NEN 7513).
async fn patients_logged(
    state: &AppState,
    client: &FhirClient,
    origin: std::net::IpAddr,
    only: Option<Uuid>,
) -> Result<Vec<db::fhir::PatientRow>, FhirError> {
    let writer = write::Writer::new(client, "Patient", origin, state.clock.now(), None);
    let log = move |tx: &db::sql::Tx<'_>, found: &[db::fhir::PatientRow]| -> crate::error::AppResult<()> {
        for p in found {
            let (read, people) = (cjg_core::audit::AuditAction::Read, cjg_core::audit::AuditObject::People);
            writer.log(tx, p.dossier_id, read, people, None)?;
        }
        Ok(())
    };
    let teams = client.teams.clone();
    let serves = move |p: &db::fhir::PatientRow| teams.as_ref().is_none_or(|t| t.contains(&p.team));
    let done = match only {
        // One young person: ordered by their family only, so it holds up no other family.
        Some(id) => {
            let found = state.db.call_read(move |c| Ok(db::fhir::patients(c, Some(id))?)).await;
            let found: Vec<_> =
                found.map_err(|e| FhirError::internal(&e))?.into_iter().filter(&serves).collect();
            let Some(dossier) = found.first().map(|p| p.dossier_id) else { return Ok(Vec::new()) };
            state.db.write_in(dossier, move |tx| log(tx, &found).map(|()| found)).await
        }
        None => {
            state
                .db
                .write(move |tx| {
                    let found: Vec<_> = db::fhir::patients(tx, None)?.into_iter().filter(&serves).collect();
                    log(tx, &found).map(|()| found)
                })
                .await
        }
    };
    done.map_err(|e| FhirError::internal(&e))
}

fn patient_resource(p: &db::fhir::PatientRow) -> Value {
    model::patient(&p.id.to_string(), &p.name, &p.birth_date, None)
}

async fn read_patient(
    State(state): State<Arc<AppState>>,
    Peer(ip): Peer,
    client: FhirClient,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, FhirError> {
    client.may_read("Patient")?;
    let Ok(id) = Uuid::parse_str(&id) else { return Err(FhirError::not_found("Patient")) };
    let found = patients_logged(&state, &client, ip, Some(id)).await?;
    let p = found.first().ok_or_else(|| FhirError::not_found("Patient"))?;
    Ok(fhir_json(StatusCode::OK, &patient_resource(p)))
}

/// `GET /fhir/Patient[?identifier=…][&_id=…]`.
async fn search_patients(
    State(state): State<Arc<AppState>>,
    Peer(ip): Peer,
    client: FhirClient,
    UrlQuery(params): UrlQuery<Vec<(String, String)>>,
) -> Result<Response, FhirError> {
    client.may_search("Patient")?;
    let Some(only) = id_filter(&params)?.into_search() else { return searchset(&state, Vec::new()) };
    let found = patients_logged(&state, &client, ip, only).await?;
    searchset(&state, found.iter().map(patient_resource).collect())
}

/// A `searchset` Bundle of `resources` under this server's FHIR base.
fn searchset(state: &AppState, resources: Vec<Value>) -> Result<Response, FhirError> {
    Ok(fhir_json(StatusCode::OK, &model::search_bundle(&config(state)?.base_url, resources)))
}
