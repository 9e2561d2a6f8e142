//! cjg-server as a library: tests and the binary both start it through [`serve`].

pub mod auth;
pub mod db;
pub mod demo;
pub mod error;
pub mod routes;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use cjg_core::ErrorCode;
use tokio::net::TcpListener;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::OpenApi;

use crate::error::AppError;

/// Large enough for the longest entry (20,000 characters of UTF-8 in JSON), small enough
/// that nobody can make the server buffer megabytes.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8470";

pub struct AppState {
    pub db: db::Db,
    pub limiter: auth::Limiter,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    /// Enrolment, token and login attempts per peer address per minute.
    pub attempts_per_minute: u32,
}

impl Settings {
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("cjg-server.db")
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Mijn CJG API", description = "Sync, enrolment and staff API of Mijn CJG."),
    paths(
        routes::client::health,
        routes::client::enrol,
        routes::client::challenge,
        routes::client::token,
        routes::client::sync,
        routes::staff::login,
        routes::staff::list_entries,
        routes::staff::create_entry,
        routes::staff::update_entry,
        routes::staff::delete_entry,
        routes::staff::create_activation_code,
    ),
    modifiers(&BearerAuth)
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

async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// Logs method, route pattern, status and time: never the query string, body or headers,
/// which carry cursors, codes and tokens.
async fn log_request(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route =
        req.extensions().get::<MatchedPath>().map_or("(unmatched)".to_owned(), |p| p.as_str().to_owned());
    let res = next.run(req).await;
    tracing::info!(%method, route, status = res.status().as_u16(), ms = started.elapsed().as_millis() as u64, "request");
    res
}

pub fn router(state: Arc<AppState>) -> Router {
    use routes::{client, staff};
    Router::new()
        .route("/v1/health", get(client::health))
        .route("/v1/openapi.json", get(openapi_json))
        .route("/v1/enrol", post(client::enrol))
        .route("/v1/auth/challenge", post(client::challenge))
        .route("/v1/auth/token", post(client::token))
        .route("/v1/sync", get(client::sync))
        .route("/v1/staff/login", post(staff::login))
        .route("/v1/staff/dossiers/{dossier_id}/entries", get(staff::list_entries).post(staff::create_entry))
        .route("/v1/staff/entries/{entry_id}", put(staff::update_entry))
        .route("/v1/staff/entries/{entry_id}", delete(staff::delete_entry))
        .route("/v1/staff/people/{person_id}/activation-codes", post(staff::create_activation_code))
        .fallback(|| async { AppError::new(ErrorCode::NotFound, "no such route") })
        .method_not_allowed_fallback(|| async {
            AppError::new(ErrorCode::BadRequest, "method not allowed on this route")
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create the data directory {0}: {1}")]
    DataDir(PathBuf, std::io::Error),
    #[error(transparent)]
    Db(#[from] db::OpenError),
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

pub fn open_state(settings: &Settings) -> Result<Arc<AppState>, StartError> {
    std::fs::create_dir_all(&settings.data_dir)
        .map_err(|e| StartError::DataDir(settings.data_dir.clone(), e))?;
    let db = db::Db::open(&settings.database_path())?;
    Ok(Arc::new(AppState { db, limiter: auth::Limiter::per_minute(settings.attempts_per_minute) }))
}

/// Serves until `shutdown` resolves, then finishes the requests in flight.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openapi_lists_every_route() {
        let doc = serde_json::to_value(ApiDoc::openapi()).expect("serialises");
        let paths = doc["paths"].as_object().expect("paths");
        for p in ["/v1/health", "/v1/enrol", "/v1/auth/token", "/v1/sync", "/v1/staff/entries/{entry_id}"] {
            assert!(paths.contains_key(p), "{p} missing");
        }
    }
}
