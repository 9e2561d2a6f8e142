//! cjg-server as a library: tests and the binary both start it through [`serve`].

pub mod audit;
pub mod auth;
pub mod backup;
pub mod client_assertion;
pub mod config_file;
pub mod db;
pub mod demo;
pub mod error;
pub mod fhir;
pub mod limits;
pub mod metrics;
pub mod oidc;
pub mod push;
pub mod ready;
pub mod routes;
pub mod service;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{delete, get, post, put, MethodRouter};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use cjg_core::ErrorCode;
use tokio::net::TcpListener;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::OpenApi;

use crate::error::AppError;

/// Large enough for the longest entry (20,000 characters of UTF-8 in JSON), small enough
/// that nobody can make the server buffer megabytes.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8470";
/// PIN tries accepted from one address per minute (see `AppState::pin_limiter`).
const PIN_TRIES_PER_MINUTE: u32 = 120;
/// Login challenges per address per minute: every sync asks one, and many families can share
/// one address (a school, a mobile carrier's NAT), so this only stops a flood.
const CHALLENGES_PER_MINUTE: u32 = 600;
pub const DEFAULT_DENIED_RETENTION_DAYS: u32 = 90;
pub const DEFAULT_STAFF_IDLE_MINUTES: u32 = 30;

pub struct AppState {
    pub db: db::Db,
    pub limiter: auth::Limiter,
    /// PIN tries per address: generous, as the count per device is what stops guessing; this
    /// only keeps one address from flooding the writer.
    pub pin_limiter: auth::Limiter,
    pub challenge_limiter: auth::Limiter,
    /// Shared counts of failed guesses, per window.
    pub guess_limits: limits::GuessLimits,
    pub hash_slots: limits::HashSlots,
    pub refusals: limits::RefusalGate,
    /// How long counts of refused requests are kept.
    pub denied_retention: chrono::Duration,
    pub trusted_proxies: auth::TrustedProxies,
    /// How long a staff token lives without use.
    pub staff_idle: chrono::Duration,
    pub clock: Clock,
    /// Signs audit checkpoints.
    pub audit_key: cjg_crypto::DeviceKey,
    /// How long a stated purpose holds for one dossier.
    pub purpose_window: chrono::Duration,
    /// Binds login challenges to their device and expiry; loaded from the database on first use.
    pub challenge_key: tokio::sync::OnceCell<[u8; 32]>,
    /// How far each person's access ledger is known to be current (`db::sync::refresh_access`).
    pub access_marks: db::sync::AccessMarks,
    /// The organisation's identity provider, when staff sign in there.
    pub oidc: Option<Arc<oidc::Provider>>,
    /// The FHIR endpoint's configuration, when the CJG's own systems connect.
    pub fhir: Option<Arc<fhir::FhirConfig>>,
    pub metrics: metrics::Metrics,
    /// SHA-256 of the token `/metrics` asks for; none: the route is not there.
    pub metrics_token: Option<[u8; 32]>,
}

impl AppState {
    /// Whether staff may sign in with a username and password here.
    pub fn built_in_accounts(&self) -> bool {
        self.oidc.as_ref().is_none_or(|p| p.config.built_in_accounts)
    }
}

/// The server's idea of now. Tests move it (`--clock-offset-days`) to let a youth turn 16
/// without waiting two years; production runs with offset zero.
#[derive(Debug, Clone, Copy, Default)]
pub struct Clock {
    offset: chrono::Duration,
}

impl Clock {
    pub fn offset_days(days: i64) -> Self {
        Self { offset: chrono::Duration::days(days) }
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }

    /// The date the access policy counts ages on.
    pub fn today(&self) -> chrono::NaiveDate {
        cjg_core::time::dutch_date(self.now())
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// Holds the audit signing key, and the SQLite database unless `database_url` is set.
    pub data_dir: PathBuf,
    /// A PostgreSQL URL: the database several server instances share. None: embedded SQLite.
    /// Holds a password, so it is never logged.
    pub database_url: Option<String>,
    /// PostgreSQL connections per server instance.
    pub db_pool: u32,
    /// Enrolment and staff login attempts per client address per minute.
    pub attempts_per_minute: u32,
    /// Reverse proxies whose `X-Forwarded-For` names the client (none: the TCP peer is the client).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Days the counts of refused requests are kept.
    pub denied_retention_days: u32,
    /// Password hashes computed at once (each takes 19 MiB).
    pub hash_concurrency: usize,
    /// Minutes a staff token lives without use.
    pub staff_idle_minutes: u32,
    pub clock: Clock,
    /// Minutes a staff member's stated purpose holds for a dossier.
    pub purpose_minutes: u32,
    /// Staff sign in with the organisation's account (OpenID Connect).
    pub oidc: Option<oidc::OidcConfig>,
    /// The FHIR endpoint for the CJG's own systems, with its registered clients.
    pub fhir: Option<Arc<fhir::FhirConfig>>,
    /// The token a Prometheus scrape sends for `GET /metrics`; none: no metrics route.
    pub metrics_token: Option<String>,
}

pub const DEFAULT_PURPOSE_MINUTES: u32 = 30;

impl Settings {
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join(DATABASE_FILE)
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Mijn CJG API", description = "Sync, enrolment and staff API of Mijn CJG."),
    paths(
        routes::client::health,
        routes::client::ready,
        routes::client::enrol,
        routes::client::pin_key,
        routes::client::pin_try,
        routes::client::pin_ok,
        routes::client::challenge,
        routes::client::token,
        routes::client::sync,
        routes::client::events,
        routes::client::my_devices,
        routes::client::revoke_my_device,
        routes::client::set_consent,
        routes::client::share_usage,
        routes::client::audit_alert,
        routes::client::submit_feedback,
        routes::client::submit_questionnaire,
        routes::staff::login::login,
        routes::staff::login::logout,
        routes::staff::oidc::sign_in_options,
        routes::staff::oidc::start,
        routes::staff::oidc::callback,
        routes::staff::oidc::finish,
        routes::staff::oidc::jwks,
        routes::staff::login::setup_second_factor,
        routes::staff::login::confirm_second_factor,
        routes::staff::dossier::caseload,
        routes::staff::dossier::declare_purpose,
        routes::staff::dossier::audit_log,
        routes::staff::taken::list_feedback,
        routes::staff::taken::answer_feedback,
        routes::staff::dossier::list_entries,
        routes::staff::dossier::create_entry,
        routes::staff::dossier::read_entry,
        routes::staff::dossier::update_entry,
        routes::staff::dossier::delete_entry,
        routes::staff::dossier::entry_history,
        routes::staff::dossier::create_activation_code,
        routes::staff::dossier::person_devices,
        routes::staff::dossier::revoke_device,
        routes::staff::taken::list_questionnaires,
        routes::staff::taken::send_questionnaire,
        routes::staff::taken::set_trajectory,
        routes::staff::report::report,
        routes::staff::report::usage_report,
        routes::staff::taken::request_feedback,
        routes::staff::informatie::list_articles,
        routes::staff::informatie::create_article,
        routes::staff::informatie::revise_article,
        routes::staff::informatie::approve_article,
        routes::staff::informatie::withdraw_article,
        routes::staff::informatie::create_tip,
        routes::staff::informatie::list_tips,
        routes::staff::dossier::list_people,
        routes::client::mark_tip_read,
        routes::client::send_message,
        routes::client::messages_read,
        routes::staff::berichten::list_messages,
        routes::staff::berichten::send_message,
    ),
    modifiers(&BearerAuth, &StandardErrors)
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The error answers every route can give, documented on each operation that can give them
/// (the routes document their own special ones): 400 for a request with parameters or a body
/// the server refuses, 413 for a body too large, 401 and 403 where a token is needed, 404 where
/// the path names something, 500 and 503 (storage or database unavailable) everywhere but the
/// liveness check. A client generated from the document then knows every status it can meet.
struct StandardErrors;

impl utoipa::Modify for StandardErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let error = |description: &str| -> RefOr<utoipa::openapi::Response> {
            let schema: RefOr<utoipa::openapi::schema::Schema> = Ref::from_schema_name("ApiError").into();
            ResponseBuilder::new()
                .description(description)
                .content("application/json", ContentBuilder::new().schema(Some(schema)).build())
                .build()
                .into()
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations =
                [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
            for op in operations.into_iter().flatten() {
                let mut standard = Vec::new();
                let has_input =
                    op.parameters.as_ref().is_some_and(|p| !p.is_empty()) || op.request_body.is_some();
                if has_input {
                    standard.push(("400", "The request does not check out: see `error.code`."));
                }
                if op.request_body.is_some() {
                    standard.push(("413", "The body is too large."));
                }
                if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
                    standard.push(("401", "No valid token."));
                    standard.push(("403", "This token may not do this."));
                }
                if path.contains('{') {
                    standard.push(("404", "What the path names does not exist, or not for this token."));
                }
                if path != "/v1/health" {
                    standard.push(("500", "Something went wrong in the server; nothing was half stored."));
                    standard.push((
                        "503",
                        "The server cannot serve or store this now (`not_ready`, `storage_unavailable`): try again later.",
                    ));
                }
                for (status, description) in standard {
                    op.responses.responses.entry(status.to_owned()).or_insert_with(|| error(description));
                }
                for param in op.parameters.iter_mut().flatten() {
                    unsigned_as_unsigned(param);
                }
            }
        }
    }
}

/// utoipa writes a `u32` parameter as `int32` with minimum 0, which caps it at 2^31 - 1 while
/// the server takes any unsigned 32-bit number: say that instead.
fn unsigned_as_unsigned(param: &mut utoipa::openapi::path::Parameter) {
    use utoipa::openapi::schema::{KnownFormat, Schema, SchemaFormat};
    use utoipa::openapi::RefOr;
    if let Some(RefOr::T(Schema::Object(o))) = &mut param.schema {
        let unsigned = o.format == Some(SchemaFormat::KnownFormat(KnownFormat::Int32))
            && matches!(o.minimum, Some(utoipa::Number::Int(0) | utoipa::Number::UInt(0)));
        if unsigned {
            o.format = None;
            o.maximum = Some(utoipa::Number::UInt(u32::MAX as usize));
        }
    }
}

async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// Answers carry dossier data and tokens: no cache on the way (a proxy, the webview) may keep
/// one or hand it out again for a later request.
async fn no_store(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    res.headers_mut()
        .entry(axum::http::header::CACHE_CONTROL)
        .or_insert(axum::http::HeaderValue::from_static("no-store"));
    res
}

/// Logs method, route pattern, status and time: never the query string, body or headers,
/// which carry cursors, codes and tokens.
async fn log_request(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route =
        req.extensions().get::<MatchedPath>().map_or("(unmatched)".to_owned(), |p| p.as_str().to_owned());
    let res = next.run(req).await;
    let status = res.status().as_u16();
    state.metrics.observe_request(method.as_str(), &route, status);
    tracing::info!(%method, route, status, ms = started.elapsed().as_millis() as u64, "request");
    res
}

/// Decides the client's address once, for every later layer and handler: the TCP peer, or what
/// a trusted proxy says it saw.
async fn client_address(State(state): State<Arc<AppState>>, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
    let ip = state.trusted_proxies.client(peer, req.headers());
    req.extensions_mut().insert(auth::ClientIp(ip));
    next.run(req).await
}

/// Counts every refused request on a real route (401, 403, 404) per minute, route, status and
/// who tried (the token's owner, if any); within a budget per address and in total, so a flood
/// of refusals cannot fill the disk or hold up the writer. A failure to record is logged and
/// does not change the answer.
async fn record_denied(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let Some(route) = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()) else {
        return next.run(req).await;
    };
    let method = req.method().to_string();
    let origin =
        req.extensions().get::<auth::ClientIp>().map_or(std::net::IpAddr::from([0, 0, 0, 0]), |c| c.0);
    let token_hash = auth::bearer_hash(req.headers());
    let res = next.run(req).await;
    let status = res.status().as_u16();
    if matches!(status, 401 | 403 | 404) && state.refusals.admit(origin) {
        let at = state.clock.now();
        let outcome = state
            .db
            .call(move |c| {
                let subject = match token_hash {
                    Some(h) => db::devices::token_owner(c, &h)?,
                    None => None,
                };
                let refusal = db::attempts::Refusal { method: &method, route: &route, status, subject, at };
                db::attempts::record_refusal(c, &refusal)?;
                Ok(())
            })
            .await;
        if let Err(e) = outcome {
            tracing::error!(code = ?e.code, "could not record a refused request");
        }
    }
    res
}

/// (path, methods, handlers)
pub type ApiRoute = (&'static str, &'static [&'static str], MethodRouter<Arc<AppState>>);

/// Every API route with its methods, in one table: the router is built from it, and the tests
/// walk it to prove each route is documented and refuses everyone it should.
pub fn api_routes() -> Vec<ApiRoute> {
    use routes::{client, staff};
    vec![
        ("/v1/health", &["GET"], get(client::health)),
        ("/v1/ready", &["GET"], get(client::ready)),
        ("/v1/openapi.json", &["GET"], get(openapi_json)),
        ("/v1/enrol", &["POST"], post(client::enrol)),
        ("/v1/auth/challenge", &["POST"], post(client::challenge)),
        ("/v1/auth/token", &["POST"], post(client::token)),
        ("/v1/pin/try", &["POST"], post(client::pin_try)),
        ("/v1/me/pin-key", &["POST"], post(client::pin_key)),
        ("/v1/me/pin-ok", &["POST"], post(client::pin_ok)),
        ("/v1/sync", &["GET"], get(client::sync)),
        ("/v1/me/events", &["GET"], get(client::events)),
        ("/v1/me/devices", &["GET"], get(client::my_devices)),
        ("/v1/me/devices/{device_id}", &["DELETE"], delete(client::revoke_my_device)),
        ("/v1/me/consent", &["PUT"], put(client::set_consent)),
        ("/v1/me/usage", &["POST"], post(client::share_usage)),
        ("/v1/me/audit-alerts", &["POST"], post(client::audit_alert)),
        ("/v1/me/feedback", &["POST"], post(client::submit_feedback)),
        ("/v1/me/questionnaires", &["POST"], post(client::submit_questionnaire)),
        ("/v1/staff/login", &["POST"], post(staff::login::login)),
        ("/v1/staff/logout", &["POST"], post(staff::login::logout)),
        ("/v1/staff/sign-in-options", &["GET"], get(staff::oidc::sign_in_options)),
        ("/v1/staff/oidc/start", &["POST"], post(staff::oidc::start)),
        ("/v1/staff/oidc/callback", &["GET"], get(staff::oidc::callback)),
        ("/v1/staff/oidc/finish", &["POST"], post(staff::oidc::finish)),
        ("/v1/staff/oidc/jwks", &["GET"], get(staff::oidc::jwks)),
        ("/v1/staff/second-factor/setup", &["POST"], post(staff::login::setup_second_factor)),
        ("/v1/staff/second-factor/confirm", &["POST"], post(staff::login::confirm_second_factor)),
        ("/v1/staff/dossiers", &["GET"], get(staff::dossier::caseload)),
        ("/v1/staff/dossiers/{dossier_id}/purpose", &["PUT"], put(staff::dossier::declare_purpose)),
        ("/v1/staff/dossiers/{dossier_id}/audit", &["GET"], get(staff::dossier::audit_log)),
        ("/v1/staff/dossiers/{dossier_id}/feedback", &["GET"], get(staff::taken::list_feedback)),
        ("/v1/staff/feedback/{feedback_id}", &["PUT"], put(staff::taken::answer_feedback)),
        (
            "/v1/staff/dossiers/{dossier_id}/entries",
            &["GET", "POST"],
            get(staff::dossier::list_entries).post(staff::dossier::create_entry),
        ),
        (
            "/v1/staff/entries/{entry_id}",
            &["GET", "PUT", "DELETE"],
            get(staff::dossier::read_entry)
                .put(staff::dossier::update_entry)
                .delete(staff::dossier::delete_entry),
        ),
        (
            "/v1/staff/people/{person_id}/activation-codes",
            &["POST"],
            post(staff::dossier::create_activation_code),
        ),
        ("/v1/staff/people/{person_id}/devices", &["GET"], get(staff::dossier::person_devices)),
        ("/v1/staff/devices/{device_id}", &["DELETE"], delete(staff::dossier::revoke_device)),
        (
            "/v1/staff/dossiers/{dossier_id}/questionnaires",
            &["GET", "POST"],
            get(staff::taken::list_questionnaires).post(staff::taken::send_questionnaire),
        ),
        ("/v1/staff/dossiers/{dossier_id}/trajectory", &["PUT"], put(staff::taken::set_trajectory)),
        ("/v1/staff/reports/indicators", &["GET"], get(staff::report::report)),
        ("/v1/staff/reports/usage", &["GET"], get(staff::report::usage_report)),
        ("/v1/staff/entries/{entry_id}/feedback-requests", &["POST"], post(staff::taken::request_feedback)),
        ("/v1/staff/entries/{entry_id}/history", &["GET"], get(staff::dossier::entry_history)),
        (
            "/v1/staff/articles",
            &["GET", "POST"],
            get(staff::informatie::list_articles).post(staff::informatie::create_article),
        ),
        ("/v1/staff/articles/{article_id}", &["PUT"], put(staff::informatie::revise_article)),
        ("/v1/staff/articles/{article_id}/approve", &["POST"], post(staff::informatie::approve_article)),
        ("/v1/staff/articles/{article_id}/withdraw", &["POST"], post(staff::informatie::withdraw_article)),
        (
            "/v1/staff/dossiers/{dossier_id}/tips",
            &["GET", "POST"],
            get(staff::informatie::list_tips).post(staff::informatie::create_tip),
        ),
        ("/v1/staff/dossiers/{dossier_id}/people", &["GET"], get(staff::dossier::list_people)),
        ("/v1/me/tips/{tip_id}/read", &["POST"], post(client::mark_tip_read)),
        ("/v1/me/messages", &["POST"], post(client::send_message)),
        ("/v1/me/messages/read", &["POST"], post(client::messages_read)),
        ("/v1/staff/dossiers/{dossier_id}/messages", &["GET"], get(staff::berichten::list_messages)),
        ("/v1/staff/people/{person_id}/messages", &["POST"], post(staff::berichten::send_message)),
    ]
}

pub fn router(state: Arc<AppState>) -> Router {
    let mut router = Router::new();
    for (path, _, methods) in api_routes() {
        router = router.route(path, methods);
    }
    router
        .route("/metrics", get(routes::operations::metrics))
        .nest("/fhir", fhir::router())
        .fallback(|| async { AppError::new(ErrorCode::NotFound, "no such route") })
        .method_not_allowed_fallback(|| async {
            AppError::new(ErrorCode::MethodNotAllowed, "method not allowed on this route")
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(no_store))
        .layer(middleware::from_fn_with_state(state.clone(), record_denied))
        .layer(middleware::from_fn_with_state(state.clone(), log_request))
        .layer(middleware::from_fn_with_state(state.clone(), client_address))
        .with_state(state)
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create the data directory {0}: {1}")]
    DataDir(PathBuf, std::io::Error),
    #[error(transparent)]
    Db(#[from] db::OpenError),
    #[error(transparent)]
    AuditKey(#[from] audit::KeyError),
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot use the TLS certificate {0} with its key: {1}")]
    Tls(PathBuf, std::io::Error),
    #[error("the identity provider: {0}")]
    Oidc(#[from] oidc::OidcError),
}

/// The SQLite database's file in the data directory.
pub const DATABASE_FILE: &str = "cjg-server.db";

pub fn open_state(settings: &Settings) -> Result<Arc<AppState>, StartError> {
    std::fs::create_dir_all(&settings.data_dir)
        .map_err(|e| StartError::DataDir(settings.data_dir.clone(), e))?;
    let db = match &settings.database_url {
        Some(url) => db::Db::open_postgres(url, settings.db_pool)?,
        None => db::Db::open(&settings.database_path())?,
    };
    let audit_key = audit::load_or_create_key(&settings.data_dir)?;
    Ok(Arc::new(AppState {
        limiter: auth::Limiter::per_minute(settings.attempts_per_minute),
        pin_limiter: auth::Limiter::per_minute(PIN_TRIES_PER_MINUTE),
        challenge_limiter: auth::Limiter::per_minute(CHALLENGES_PER_MINUTE.max(settings.attempts_per_minute)),
        guess_limits: limits::GuessLimits::from_attempts_per_minute(settings.attempts_per_minute),
        hash_slots: limits::HashSlots::new(settings.hash_concurrency),
        refusals: limits::RefusalGate::default(),
        denied_retention: chrono::Duration::days(i64::from(settings.denied_retention_days.max(1))),
        trusted_proxies: auth::TrustedProxies(settings.trusted_proxies.clone()),
        staff_idle: chrono::Duration::minutes(i64::from(settings.staff_idle_minutes.clamp(1, 24 * 60))),
        clock: settings.clock,
        audit_key,
        challenge_key: tokio::sync::OnceCell::new(),
        access_marks: Default::default(),
        purpose_window: chrono::Duration::minutes(i64::from(settings.purpose_minutes.clamp(1, 24 * 60))),
        oidc: settings.oidc.clone().map(oidc::Provider::new).transpose()?.map(Arc::new),
        fhir: settings.fhir.clone(),
        metrics: metrics::Metrics::new(db.db_seconds.clone()),
        metrics_token: settings.metrics_token.as_deref().map(routes::operations::token_hash),
        db,
    }))
}

/// A certificate chain and private key (PEM) for serving HTTPS directly.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Loads the certificate and key; a clear error when they do not fit together or do not parse.
pub async fn load_tls(files: &TlsFiles) -> Result<axum_server::tls_rustls::RustlsConfig, StartError> {
    axum_server::tls_rustls::RustlsConfig::from_pem_file(&files.cert, &files.key)
        .await
        .map_err(|e| StartError::Tls(files.cert.clone(), e))
}

/// Serves until `shutdown` resolves, then finishes the requests in flight. With `tls` the
/// server speaks HTTPS itself (small installs); otherwise plain HTTP, for loopback or behind a
/// TLS-terminating proxy.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    tls: Option<axum_server::tls_rustls::RustlsConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    state.db.listen_for_changes();
    let signals = state.db.signals.clone();
    // Open push connections never end by themselves: a graceful shutdown would wait for them.
    let shutdown = async move {
        shutdown.await;
        signals.close();
    };
    let schedule = tokio::spawn(run_schedule(state.clone()));
    let housekeeping = tokio::spawn(run_housekeeping(state.clone()));
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let served = match tls {
        None => axum::serve(listener, app).with_graceful_shutdown(shutdown).await,
        Some(config) => {
            let handle = axum_server::Handle::new();
            let stopper = handle.clone();
            tokio::spawn(async move {
                shutdown.await;
                stopper.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
            });
            let listener = listener.into_std()?;
            axum_server::from_tcp_rustls(listener, config)?.handle(handle).serve(app).await
        }
    };
    schedule.abort();
    housekeeping.abort();
    served?;
    Ok(())
}

/// How often the questionnaire schedule runs besides each sync: often enough that a questionnaire
/// appears on its day, rarely enough to cost nothing.
const SCHEDULE_EVERY: std::time::Duration = std::time::Duration::from_secs(60 * 60);

/// Makes the questionnaires that trajectories ask for, at start and then every hour.
async fn run_schedule(state: Arc<AppState>) {
    let mut tick = tokio::time::interval(SCHEDULE_EVERY);
    loop {
        tick.tick().await;
        let now = state.clock.now();
        match state.db.call(move |c| Ok(db::questionnaires::refresh_all(c, now)?)).await {
            Ok(n) => tracing::info!(dossiers = n, "questionnaire schedule ran"),
            Err(e) => tracing::error!(code = ?e.code, "questionnaire schedule failed"),
        }
    }
}

/// Every minute: forget rate-limit state that is full again, say how many refusals went
/// unrecorded, and once an hour delete guess counts and refusal counts past their time.
async fn run_housekeeping(state: Arc<AppState>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    let mut minutes = 0u32;
    loop {
        tick.tick().await;
        for l in [&state.limiter, &state.pin_limiter, &state.challenge_limiter] {
            l.forget_idle();
        }
        state.refusals.forget_idle();
        let dropped = state.refusals.take_dropped();
        if dropped > 0 {
            tracing::warn!(dropped, "refused requests over the recording budget were not written down");
        }
        if minutes.is_multiple_of(60) {
            match limits::forget_old(&state, state.clock.now()).await {
                Ok((guesses, refusals)) => tracing::info!(guesses, refusals, "old counts deleted"),
                Err(e) => tracing::error!(code = ?e.code, "could not delete old counts"),
            }
        }
        minutes = minutes.wrapping_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The OpenAPI document and the router's table name the same routes and methods, so a
    /// test that walks the document walks every route the server answers.
    #[test]
    fn openapi_and_router_agree() {
        let doc = serde_json::to_value(ApiDoc::openapi()).expect("serialises");
        let paths = doc["paths"].as_object().expect("paths");
        let mut documented: Vec<(String, String)> = paths
            .iter()
            .flat_map(|(p, ops)| {
                ops.as_object().into_iter().flat_map(|o| o.keys()).map(move |m| (p.clone(), m.to_uppercase()))
            })
            .collect();
        // The document does not describe itself.
        documented.push(("/v1/openapi.json".into(), "GET".into()));
        documented.sort();
        let mut routed: Vec<(String, String)> = api_routes()
            .into_iter()
            .flat_map(|(p, methods, _)| methods.iter().map(move |m| (p.to_owned(), (*m).to_owned())))
            .collect();
        routed.sort();
        assert_eq!(documented, routed);
    }
}
