//! Staff sign-in: a username and password, and for built-in accounts a second factor (a code
//! from an authenticator app, or a recovery code), set up at the first sign-in.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use cjg_core::api::{
    SecondFactorConfirm, SecondFactorConfirmed, SecondFactorSetup, SecondFactorSetupRequest,
    StaffLoginRequest, StaffSignedOut, TokenKind, TokenResponse,
};
use cjg_core::second_factor::{self, OneTimeCode};
use cjg_core::ErrorCode;
use uuid::Uuid;

use crate::auth::{self, Peer};
use crate::db::sql::Tx;
use crate::db::staff::{SecondFactor, StaffLogin};
use crate::error::{ApiJson, AppError, AppResult};
use crate::AppState;
use crate::{db, limits};

/// The username and password, counted against the limits per address and per username before
/// they are checked. An unknown username is checked against a stand-in hash, so it takes as
/// long as a known one and the answer time does not tell which usernames exist.
async fn check_password(
    state: &AppState,
    ip: IpAddr,
    username: &str,
    password: String,
) -> AppResult<StaffLogin> {
    if !state.built_in_accounts() {
        return Err(AppError::new(
            ErrorCode::BuiltInAccountsOff,
            "sign in with the organisation's account: password sign-in is off on this server",
        ));
    }
    state.limiter.check(ip)?;
    limits::staff_login_attempt(state, username, ip).await?;
    let name = username.trim().to_owned();
    let found = state.db.call_read(move |c| Ok(db::staff::staff_by_username(c, &name)?)).await?;
    let mut slot = state.hash_slots.acquire().await?;
    // Argon2 is deliberately slow and memory-hard: keep it off the async threads.
    let account = tokio::task::spawn_blocking(move || match found {
        Some(account) => {
            auth::verify_password_in(&password, &account.password_hash, &mut slot.memory).then_some(account)
        }
        None => {
            auth::verify_password_in(&password, auth::stand_in_hash(), &mut slot.memory);
            None
        }
    })
    .await
    .map_err(AppError::internal)?;
    account.ok_or_else(|| AppError::new(ErrorCode::Unauthenticated, "username or password is wrong"))
}

fn wrong_code() -> AppError {
    AppError::new(ErrorCode::Unauthenticated, "the code is wrong or was used before")
}

/// Whether `typed` is the account's live setup code.
fn setup_code_holds(account: &StaffLogin, typed: &str, now: chrono::DateTime<chrono::Utc>) -> bool {
    let Some((hash, expires_at)) = &account.setup_code else { return false };
    let Some(code) = second_factor::parse_setup_code(typed) else { return false };
    // Hashes are compared, not codes: timing says nothing about the code.
    *expires_at > now && hash.as_slice() == auth::setup_code_hash(account.actor.id, &code)
}

fn wrong_setup_code() -> AppError {
    AppError::new(
        ErrorCode::Unauthenticated,
        "the setup code is wrong or expired; ask an administrator for a new one",
    )
}

fn locked() -> AppError {
    AppError::new(
        ErrorCode::SecondFactorLocked,
        "too many wrong codes in a row; an administrator must reset the second factor",
    )
}

/// A new staff token, written in `tx`, and the sign-in in the staff sign-in log.
fn issue_token(
    tx: &Tx<'_>,
    staff_id: Uuid,
    ip: IpAddr,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<TokenResponse> {
    let (token, hash) = auth::new_token()?;
    let expires_at = now + auth::STAFF_TOKEN_TTL;
    db::devices::insert_token(tx, &hash, TokenKind::Staff, staff_id, expires_at, now)?;
    db::oidc::log_sign_in(tx, staff_id, db::oidc::SignInMethod::Password, None, &ip.to_string(), now)?;
    Ok(TokenResponse { token, expires_at })
}

fn unix_seconds(now: chrono::DateTime<chrono::Utc>) -> u64 {
    u64::try_from(now.timestamp()).unwrap_or(0)
}

/// Signs in. A built-in account with a second factor also sends `one_time_code`; without it
/// the answer is `second_factor_needed`, and an account that has not set one up yet gets
/// `second_factor_setup_needed`. A wrong code counts against the username's limit like a wrong
/// password, so codes cannot be guessed either.
#[utoipa::path(post, path = "/v1/staff/login", request_body = StaffLoginRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = cjg_core::ApiError),
        (status = 429, body = cjg_core::ApiError)))]
pub async fn login(
    State(state): State<Arc<AppState>>,
    Peer(ip): Peer,
    ApiJson(req): ApiJson<StaffLoginRequest>,
) -> AppResult<Json<TokenResponse>> {
    let account = check_password(&state, ip, &req.username, req.password).await?;
    let now = state.clock.now();
    let id = account.actor.id;
    let token = match account.second_factor {
        SecondFactor::Off => state.db.write(move |tx| issue_token(tx, id, ip, now)).await?,
        SecondFactor::NotSetUp { .. } => {
            // The password was right and no code was tried: this attempt was no guess.
            limits::staff_login_succeeded(&state, &req.username, ip).await?;
            return Err(AppError::new(
                ErrorCode::SecondFactorSetupNeeded,
                "set up the second factor first: POST /v1/staff/second-factor/setup",
            ));
        }
        SecondFactor::Ready { secret, last_step } => {
            if account.code_failures >= second_factor::MAX_CODE_FAILURES {
                return Err(locked());
            }
            let Some(code) = req.one_time_code.as_deref() else {
                limits::staff_login_succeeded(&state, &req.username, ip).await?;
                return Err(AppError::new(
                    ErrorCode::SecondFactorNeeded,
                    "send the code from the authenticator app",
                ));
            };
            let code = second_factor::parse_code(code);
            let token = state
                .db
                .write(move |tx| {
                    let accepted = match code {
                        Some(OneTimeCode::App(code)) => {
                            second_factor::accept_code(&secret, &code, unix_seconds(now), last_step)
                                .map(|step| db::staff::use_step(tx, id, step))
                                .transpose()?
                                .unwrap_or(false)
                        }
                        Some(OneTimeCode::Recovery(code)) => {
                            db::staff::use_recovery_code(tx, id, &auth::recovery_code_hash(id, &code), now)?
                        }
                        None => false,
                    };
                    // Committed either way: a wrong code stays counted.
                    if !accepted {
                        let failures = db::staff::code_failed(tx, id)?;
                        return Ok(Err(failures));
                    }
                    db::staff::code_succeeded(tx, id)?;
                    Ok(Ok(issue_token(tx, id, ip, now)?))
                })
                .await?;
            match token {
                Ok(token) => token,
                Err(failures) if failures >= second_factor::MAX_CODE_FAILURES => {
                    tracing::warn!(staff = %id, "second factor closed after too many wrong codes");
                    return Err(locked());
                }
                Err(_) => return Err(wrong_code()),
            }
        }
    };
    limits::staff_login_succeeded(&state, &req.username, ip).await?;
    Ok(Json(token))
}

/// The first step of setting up the second factor: a new secret for the authenticator app
/// (shown as a QR code by the staff app). Needs the password and the one-time setup code an
/// administrator handed out, so a password alone cannot claim an account. Replaces an earlier
/// secret that was never confirmed, never one that is in use.
#[utoipa::path(post, path = "/v1/staff/second-factor/setup", request_body = SecondFactorSetupRequest,
    responses((status = 200, body = SecondFactorSetup), (status = 401, body = cjg_core::ApiError),
        (status = 409, body = cjg_core::ApiError), (status = 429, body = cjg_core::ApiError)))]
pub async fn setup_second_factor(
    State(state): State<Arc<AppState>>,
    Peer(ip): Peer,
    ApiJson(req): ApiJson<SecondFactorSetupRequest>,
) -> AppResult<Json<SecondFactorSetup>> {
    let account = check_password(&state, ip, &req.username, req.password).await?;
    if !matches!(account.second_factor, SecondFactor::NotSetUp { .. }) {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "this account has its second factor set up (or needs none); an administrator can reset it",
        ));
    }
    if !setup_code_holds(&account, &req.setup_code, state.clock.now()) {
        return Err(wrong_setup_code());
    }
    let secret: [u8; second_factor::SECRET_BYTES] = cjg_crypto::random_array().map_err(AppError::internal)?;
    let setup = SecondFactorSetup {
        secret: second_factor::secret_text(&secret).ok_or_else(|| AppError::internal("totp secret"))?,
        otpauth_uri: second_factor::otpauth_uri(&secret, &account.username)
            .ok_or_else(|| AppError::internal("otpauth link"))?,
    };
    let id = account.actor.id;
    let stored = state.db.write(move |tx| Ok(db::staff::set_pending_secret(tx, id, &secret)?)).await?;
    if !stored {
        return Err(AppError::new(ErrorCode::Conflict, "the second factor was set up in the meantime"));
    }
    limits::staff_login_succeeded(&state, &req.username, ip).await?;
    Ok(Json(setup))
}

/// The second step: the first code from the app confirms the secret. The account is signed in
/// and gets its recovery codes, shown this once.
#[utoipa::path(post, path = "/v1/staff/second-factor/confirm", request_body = SecondFactorConfirm,
    responses((status = 200, body = SecondFactorConfirmed), (status = 401, body = cjg_core::ApiError),
        (status = 409, body = cjg_core::ApiError), (status = 429, body = cjg_core::ApiError)))]
pub async fn confirm_second_factor(
    State(state): State<Arc<AppState>>,
    Peer(ip): Peer,
    ApiJson(req): ApiJson<SecondFactorConfirm>,
) -> AppResult<Json<SecondFactorConfirmed>> {
    let account = check_password(&state, ip, &req.username, req.password).await?;
    let now = state.clock.now();
    if !setup_code_holds(&account, &req.setup_code, now) {
        return Err(wrong_setup_code());
    }
    let SecondFactor::NotSetUp { pending: Some(secret) } = account.second_factor else {
        return Err(AppError::new(ErrorCode::Conflict, "there is no second factor waiting to be confirmed"));
    };
    let step = second_factor::parse_code(&req.code)
        .and_then(|c| match c {
            OneTimeCode::App(code) => second_factor::accept_code(&secret, &code, unix_seconds(now), None),
            OneTimeCode::Recovery(_) => None,
        })
        .ok_or_else(wrong_code)?;
    let id = account.actor.id;
    let recovery_codes: Vec<String> =
        (0..second_factor::RECOVERY_CODES).map(|_| auth::new_one_time_code()).collect::<AppResult<_>>()?;
    let hashes: Vec<[u8; 32]> =
        recovery_codes.iter().map(|c| auth::recovery_code_hash(id, &c.replace('-', ""))).collect();
    let token = state
        .db
        .write(move |tx| {
            if !db::staff::confirm_second_factor(tx, id, &secret, step, &hashes, now)? {
                return Err(AppError::new(
                    ErrorCode::Conflict,
                    "the second factor was set up in the meantime",
                ));
            }
            issue_token(tx, id, ip, now)
        })
        .await?;
    limits::staff_login_succeeded(&state, &req.username, ip).await?;
    Ok(Json(SecondFactorConfirmed { token: token.token, expires_at: token.expires_at, recovery_codes }))
}

/// Ends the caller's staff token on the server at once (the app calls it at sign-out and when
/// it locks). A sign-in at the organisation ends with all its tokens, and the answer says where
/// the browser ends the session at the provider too (RP-initiated logout).
#[utoipa::path(post, path = "/v1/staff/logout",
    responses((status = 200, body = StaffSignedOut), (status = 401, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
///
/// Not behind [`auth::StaffAuth`]: a token whose session the organisation ended, that is idle,
/// or whose kind of sign-in was turned off must still be able to sign out (and learn where the
/// provider's session ends).
pub async fn logout(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> AppResult<Json<StaffSignedOut>> {
    let hash = auth::bearer_hash(&headers).ok_or_else(AppError::unauthenticated)?;
    let end_session_url = super::oidc::end_session_of_token(&state, hash).await?;
    let ended = state.db.call(move |c| Ok(db::devices::delete_staff_token(c, &hash)?)).await?;
    if !ended {
        return Err(AppError::unauthenticated());
    }
    Ok(Json(StaffSignedOut { end_session_url }))
}
