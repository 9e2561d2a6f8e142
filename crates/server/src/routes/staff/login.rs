//! Staff sign-in with a username and password.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use cjg_core::api::{StaffLoginRequest, TokenResponse};
use cjg_core::ErrorCode;

use crate::auth::{self, Peer};
use crate::error::{ApiJson, AppError, AppResult};
use crate::AppState;
use crate::{db, limits};

#[utoipa::path(post, path = "/v1/staff/login", request_body = StaffLoginRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = cjg_core::ApiError)))]
pub async fn login(
    State(state): State<Arc<AppState>>,
    Peer(ip): Peer,
    ApiJson(req): ApiJson<StaffLoginRequest>,
) -> AppResult<Json<TokenResponse>> {
    state.limiter.check(ip)?;
    limits::staff_login_attempt(&state, &req.username, ip).await?;
    let username = req.username.trim().to_owned();
    let found = state.db.call_read(move |c| Ok(db::staff::staff_by_username(c, &username)?)).await?;
    let password = req.password;
    let mut slot = state.hash_slots.acquire().await?;
    // Argon2 is deliberately slow and memory-hard: keep it off the async threads. An unknown
    // username is checked against a stand-in hash, so it takes as long as a known one and the
    // answer time does not tell which usernames exist.
    let actor = tokio::task::spawn_blocking(move || match found {
        Some((actor, hash)) => auth::verify_password_in(&password, &hash, &mut slot.memory).then_some(actor),
        None => {
            auth::verify_password_in(&password, auth::stand_in_hash(), &mut slot.memory);
            None
        }
    })
    .await
    .map_err(AppError::internal)?;
    let Some(actor) = actor else {
        return Err(AppError::new(ErrorCode::Unauthenticated, "username or password is wrong"));
    };
    limits::staff_login_succeeded(&state, &req.username, ip).await?;
    let (token, hash) = auth::new_token()?;
    let now = state.clock.now();
    let expires_at = now + auth::STAFF_TOKEN_TTL;
    state
        .db
        .write(move |tx| {
            Ok(db::devices::insert_token(
                tx,
                &hash,
                cjg_core::api::TokenKind::Staff,
                actor.id,
                expires_at,
                now,
            )?)
        })
        .await?;
    Ok(Json(TokenResponse { token, expires_at }))
}

/// Ends the caller's staff token on the server at once (the app calls it at sign-out and when
/// it locks).
#[utoipa::path(post, path = "/v1/staff/logout",
    responses((status = 204), (status = 401, body = cjg_core::ApiError)), security(("bearer" = [])))]
pub async fn logout(
    State(state): State<Arc<AppState>>,
    _signed_in: auth::StaffAuth,
    headers: HeaderMap,
) -> AppResult<StatusCode> {
    let hash = auth::bearer_hash(&headers).ok_or_else(AppError::unauthenticated)?;
    state.db.call(move |c| Ok(db::devices::delete_staff_token(c, &hash)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}
