//! For the people who run the server: metrics for Prometheus.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::AppError;
use crate::AppState;

/// What `--metrics-token` is compared as: a hash, so the comparison takes as long for any guess.
pub fn token_hash(token: &str) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// `GET /metrics` with `Authorization: Bearer <token>`. Without a configured token the route
/// answers like any unknown one; a wrong or missing token gets 401.
pub async fn metrics(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let Some(expected) = state.metrics_token else {
        return AppError::new(cjg_core::ErrorCode::NotFound, "no such route").into_response();
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(token_hash);
    if given != Some(expected) {
        return AppError::new(cjg_core::ErrorCode::Unauthenticated, "the metrics token is missing or wrong")
            .into_response();
    }
    let body = state.metrics.render(state.db.signals.open_connections());
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body)
        .into_response()
}
