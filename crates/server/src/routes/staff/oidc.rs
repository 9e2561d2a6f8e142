//! Staff sign-in with the organisation's own account (see `crate::oidc` for the design).
//!
//! 1. `POST /v1/staff/oidc/start`: the app names its loopback address and a challenge; the
//!    server keeps state, nonce and PKCE verifier and answers the provider's sign-in page.
//! 2. The system browser signs in at the provider, which sends it to
//!    `GET /v1/staff/oidc/callback`: the server trades the code, checks the ID token, maps the
//!    groups to a role and sends the browser on to the app's loopback address with a one-time
//!    handoff.
//! 3. `POST /v1/staff/oidc/finish`: the app trades the handoff and its secret for a staff token.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use cjg_core::api::{
    OrganisationSignInFinish, OrganisationSignInStart, OrganisationSignInUrl, StaffSignInOptions, TokenKind,
    TokenResponse,
};
use cjg_core::ErrorCode;
use serde::Deserialize;

use crate::auth::{self, Peer};
use crate::db;
use crate::db::oidc::{Flow, SignInMethod};
use crate::error::{ApiJson, AppError, AppResult};
use crate::oidc::{OidcError, Provider, FLOW_MINUTES};
use crate::AppState;

/// The handoff waits this long for the app (it is on the same machine as the browser).
const HANDOFF_SECONDS: i64 = 120;

fn provider(state: &AppState) -> AppResult<Arc<Provider>> {
    state.oidc.clone().ok_or_else(|| {
        AppError::new(ErrorCode::NotFound, "this server has no organisation sign-in configured")
    })
}

pub fn oidc_error(e: &OidcError) -> AppError {
    match e {
        OidcError::Unreachable(_) => AppError::new(
            ErrorCode::IdentityProviderUnreachable,
            "the organisation's sign-in service did not answer",
        ),
        OidcError::Refused(_) | OidcError::Invalid(_) => AppError::new(
            ErrorCode::OrganisationSignInFailed,
            "the sign-in at the organisation did not go through; start again",
        ),
    }
}

/// How staff sign in here, for the staff app's sign-in screen.
#[utoipa::path(get, path = "/v1/staff/sign-in-options", responses((status = 200, body = StaffSignInOptions)))]
pub async fn sign_in_options(State(state): State<Arc<AppState>>) -> Json<StaffSignInOptions> {
    Json(StaffSignInOptions { built_in: state.built_in_accounts(), organisation: state.oidc.is_some() })
}

/// Starts a sign-in at the organisation. The answer is the provider's page for the system
/// browser; never an embedded form (the app never sees the password).
#[utoipa::path(post, path = "/v1/staff/oidc/start", request_body = OrganisationSignInStart,
    responses((status = 200, body = OrganisationSignInUrl), (status = 400, body = cjg_core::ApiError),
        (status = 404, body = cjg_core::ApiError), (status = 429, body = cjg_core::ApiError),
        (status = 503, body = cjg_core::ApiError)))]
pub async fn start(
    State(state): State<Arc<AppState>>,
    Peer(ip): Peer,
    ApiJson(req): ApiJson<OrganisationSignInStart>,
) -> AppResult<Json<OrganisationSignInUrl>> {
    let provider = provider(&state)?;
    state.limiter.check(ip)?;
    cjg_core::oidc::check_return_to(&req.return_to)
        .map_err(|e| AppError::new(ErrorCode::Validation, e.to_string()))?;
    if req.app_challenge.len() != 43 || cjg_crypto::unb64(&req.app_challenge).is_none_or(|b| b.len() != 32) {
        return Err(AppError::new(
            ErrorCode::Validation,
            "app_challenge must be base64url SHA-256 (43 characters)",
        ));
    }
    let flow_state = auth::random_b64()?;
    let nonce = auth::random_b64()?;
    let (authorize_url, pkce_verifier) =
        provider.authorize_url(&flow_state, &nonce).await.map_err(|e| oidc_error(&e))?;
    let flow = Flow { nonce, pkce_verifier, app_challenge: req.app_challenge, return_to: req.return_to };
    let now = state.clock.now();
    let expires = now + chrono::Duration::minutes(FLOW_MINUTES);
    state
        .db
        .write_unordered(move |tx| Ok(db::oidc::insert_flow(tx, &flow_state, &flow, expires, now)?))
        .await?;
    Ok(Json(OrganisationSignInUrl { authorize_url }))
}

#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
}

/// The browser comes back from the provider. Any answer goes to the app's loopback address
/// (with a handoff or an error code); an unknown or used state gets a page that says to start
/// again, since there is no app to send it to.
#[utoipa::path(get, path = "/v1/staff/oidc/callback",
    responses((status = 303, description = "on to the app's loopback address"),
        (status = 400, description = "an unknown, used or expired sign-in (HTML)"),
        (status = 404, description = "sign-in at the organisation is not turned on here (HTML)")))]
pub async fn callback(
    State(state): State<Arc<AppState>>,
    Peer(ip): Peer,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let Ok(provider) = provider(&state) else { return page(StatusCode::NOT_FOUND, NO_SIGN_IN) };
    let Some(flow_state) = q.state.filter(|s| s.len() <= 100) else {
        return page(StatusCode::BAD_REQUEST, EXPIRED);
    };
    let now = state.clock.now();
    let taken = state.db.write_unordered(move |tx| Ok(db::oidc::take_flow(tx, &flow_state, now)?)).await;
    let flow = match taken {
        Ok(Some(flow)) => flow,
        Ok(None) => return page(StatusCode::BAD_REQUEST, EXPIRED),
        Err(_) => return page(StatusCode::INTERNAL_SERVER_ERROR, BROKEN),
    };
    let back = |answer: Result<String, ErrorCode>| {
        let query = match answer {
            Ok(handoff) => format!("handoff={handoff}"),
            Err(code) => format!("error={}", code_name(code)),
        };
        redirect(&format!("{}?{query}", flow.return_to))
    };
    let (Some(code), None) = (q.code.filter(|c| !c.is_empty() && c.len() <= 2048), q.error) else {
        return back(Err(ErrorCode::OrganisationSignInFailed));
    };
    match sign_in(&state, &provider, &flow, &code, &ip.to_string()).await {
        Ok(handoff) => back(Ok(handoff)),
        Err(e) => {
            tracing::warn!(code = ?e.code, "organisation sign-in refused");
            back(Err(e.code))
        }
    }
}

/// Trades the code, checks the token and the role, links the staff member, opens a session and
/// leaves a handoff for the app.
async fn sign_in(
    state: &AppState,
    provider: &Provider,
    flow: &Flow,
    code: &str,
    address: &str,
) -> AppResult<String> {
    let signed_in =
        provider.redeem(code, &flow.pkce_verifier, &flow.nonce).await.map_err(|e| oidc_error(&e))?;
    let who = signed_in.identity;
    let Some(role) = crate::oidc::role_for(&provider.config, &who) else {
        tracing::warn!(subject = %who.subject, "signed in at the organisation, but no group gives a role");
        return Err(no_staff_role());
    };
    let issuer = provider.config.issuer.as_str().to_owned();
    let name = who.display_name();
    let (handoff, handoff_hash) = auth::new_token()?;
    let now = state.clock.now();
    let app_challenge = flow.app_challenge.clone();
    let address = address.to_owned();
    state
        .db
        .write_unordered(move |tx| {
            let staff = db::oidc::staff_for_subject(tx, &issuer, &who.subject, who.username.as_deref(), &name, role)?;
            let session =
                db::oidc::insert_session(tx, staff, signed_in.refresh_token.as_deref(), &signed_in.id_token, now)?;
            let expires = now + chrono::Duration::seconds(HANDOFF_SECONDS);
            db::oidc::insert_handoff(tx, &handoff_hash, &app_challenge, session, expires)?;
            db::oidc::log_sign_in(tx, staff, SignInMethod::Organisation, Some(&who.subject), &address, now)?;
            tracing::info!(staff = %staff, subject = %who.subject, role = role.as_str(), "staff signed in at the organisation");
            Ok(())
        })
        .await?;
    Ok(handoff)
}

/// The app trades the handoff and the secret behind its challenge for a staff token.
#[utoipa::path(post, path = "/v1/staff/oidc/finish", request_body = OrganisationSignInFinish,
    responses((status = 200, body = TokenResponse), (status = 401, body = cjg_core::ApiError),
        (status = 404, body = cjg_core::ApiError), (status = 429, body = cjg_core::ApiError)))]
pub async fn finish(
    State(state): State<Arc<AppState>>,
    Peer(ip): Peer,
    ApiJson(req): ApiJson<OrganisationSignInFinish>,
) -> AppResult<Json<TokenResponse>> {
    provider(&state)?;
    state.limiter.check(ip)?;
    // RFC 7636: a verifier is 43 to 128 characters; a handoff is one of our tokens.
    if !(43..=128).contains(&req.app_verifier.len()) || req.handoff.is_empty() || req.handoff.len() > 100 {
        return Err(AppError::new(ErrorCode::Validation, "handoff or app_verifier has the wrong length"));
    }
    let handoff_hash = cjg_crypto::sha256(req.handoff.as_bytes());
    let proof = cjg_crypto::b64(&cjg_crypto::sha256(req.app_verifier.as_bytes()));
    let now = state.clock.now();
    let (token, token_hash) = auth::new_token()?;
    let expires_at = now + auth::STAFF_TOKEN_TTL;
    let issued = state
        .db
        .write_unordered(move |tx| {
            // Taken out whatever the proof: a handoff gets one try.
            let Some((challenge, session)) = db::oidc::take_handoff(tx, &handoff_hash, now)? else {
                return Ok(false);
            };
            if challenge != proof {
                return Ok(false);
            }
            let staff = db::oidc::staff_of_session(tx, session)?;
            db::devices::insert_token(tx, &token_hash, TokenKind::Staff, staff, expires_at, now)?;
            db::oidc::set_token_session(tx, &token_hash, session)?;
            Ok(true)
        })
        .await?;
    if !issued {
        return Err(AppError::new(
            ErrorCode::OrganisationSignInFailed,
            "the handoff is unknown, used, expired, or not this app's; start again",
        ));
    }
    Ok(Json(TokenResponse { token, expires_at }))
}

/// The public key the server signs its client assertions with (`private_key_jwt`), for the
/// provider to fetch or its administrator to register. Public by nature: it proves nothing
/// without the private key.
#[utoipa::path(get, path = "/v1/staff/oidc/jwks",
    responses((status = 200, description = "a JSON Web Key Set", body = Object),
        (status = 404, body = cjg_core::ApiError)))]
pub async fn jwks(State(state): State<Arc<AppState>>) -> AppResult<Json<serde_json::Value>> {
    match &provider(&state)?.config.credential {
        crate::oidc::ClientCredential::PrivateKey(key) => Ok(Json(key.jwks())),
        crate::oidc::ClientCredential::Secret(_) => {
            Err(AppError::new(ErrorCode::NotFound, "this server signs in with a client secret, not a key"))
        }
    }
}

fn code_name(code: ErrorCode) -> String {
    serde_json::to_value(code).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn redirect(to: &str) -> Response {
    match HeaderValue::from_str(to) {
        Ok(location) => (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response(),
        Err(_) => page(StatusCode::INTERNAL_SERVER_ERROR, BROKEN),
    }
}

const EXPIRED: &str =
    "Deze inlogpoging is verlopen of al gebruikt. Ga terug naar Mijn CJG en log opnieuw in.";
const NO_SIGN_IN: &str = "Inloggen met uw organisatie-account staat op deze server niet aan.";
const BROKEN: &str = "Er ging iets mis bij het inloggen. Ga terug naar Mijn CJG en probeer het opnieuw.";

/// A short page for the browser when there is no app to send it to.
fn page(status: StatusCode, text: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"nl\"><meta charset=\"utf-8\"><title>Mijn CJG</title>\
         <main style=\"font-family:sans-serif;max-width:32rem;margin:3rem auto\"><h1>Mijn CJG</h1><p>{text}</p></main></html>"
    );
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

/// Sign-out of a token from the organisation's sign-in: its session ends here (every token of
/// it), and the answer says where the browser ends the session at the provider too.
pub(crate) async fn end_session_of_token(
    state: &AppState,
    token_hash: [u8; 32],
) -> AppResult<Option<String>> {
    let Some(provider) = state.oidc.clone() else { return Ok(None) };
    let now = state.clock.now();
    let session = state
        .db
        .call(move |c| {
            let s = db::oidc::session_of_token(c, &token_hash)?;
            if let Some(s) = &s {
                db::oidc::end_session(c, s.id, now)?;
            }
            Ok(s)
        })
        .await?;
    match session {
        Some(s) => Ok(provider.end_session_url(&s.id_token).await),
        None => Ok(None),
    }
}

fn no_staff_role() -> AppError {
    AppError::new(ErrorCode::NoStaffRole, "none of your groups gives a role in Mijn CJG")
}

fn session_ended() -> AppError {
    AppError::new(ErrorCode::StaffSessionEnded, "your session at the organisation ended; sign in again")
}

/// Every staff request of a sign-in at the organisation: the session must not have ended, and
/// once `recheck` has passed since the last check, the provider is asked again (its refresh
/// token). A disabled account or an ended session at the provider loses access then. When the
/// provider cannot be reached the session holds for up to three times `recheck`, so a short
/// outage does not throw every coach out; after that, requests are refused until it answers.
pub(crate) async fn check_session(state: &Arc<AppState>, session: db::oidc::Session) -> AppResult<()> {
    if session.ended {
        return Err(session_ended());
    }
    // A server whose provider was taken out of the configuration ends its sessions.
    let Some(provider) = state.oidc.clone() else { return Err(session_ended()) };
    let now = state.clock.now();
    let due = now - provider.config.recheck;
    if session.checked_at > due {
        return Ok(());
    }
    // From the claim on, on a task of its own: a request that goes away while the provider
    // answers must not leave a claimed check or a rotated refresh token half-kept.
    let state = Arc::clone(state);
    tokio::spawn(async move { ask_provider(&state, &provider, session, now, due).await })
        .await
        .map_err(AppError::internal)?
}

/// The due check of `session` with the provider (see [`check_session`]).
async fn ask_provider(
    state: &AppState,
    provider: &Provider,
    session: db::oidc::Session,
    now: chrono::DateTime<chrono::Utc>,
    due: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    let id = session.id;
    let claimed = state.db.call(move |c| Ok(db::oidc::claim_check(c, id, due, now)?)).await?;
    if !claimed {
        // Another request (on this or another instance) is asking the provider right now.
        return Ok(());
    }
    let end = |state: &AppState| {
        let db = state.db.clone();
        async move { db.call(move |c| Ok(db::oidc::end_session(c, id, now)?)).await }
    };
    let Some(refresh) = session.refresh_token else {
        // No refresh token: nothing to ask the provider with, so the session lasts one period
        // (a provider that gives one only with `offline_access` needs that option).
        end(state).await?;
        return Err(session_ended());
    };
    match provider.recheck(&refresh).await {
        Ok(answer) => {
            if let Some(who) = answer.identity {
                // The groups may have changed at the organisation since the sign-in.
                if session.subject.as_deref() != Some(who.subject.as_str()) {
                    tracing::warn!(session = %id, "a refreshed ID token names another subject");
                    end(state).await?;
                    return Err(session_ended());
                }
                let Some(role) = crate::oidc::role_for(&provider.config, &who) else {
                    tracing::info!(session = %id, "the organisation took the last group with a role away");
                    end(state).await?;
                    return Err(no_staff_role());
                };
                let (staff, name) = (session.staff_id, who.display_name());
                state.db.call(move |c| Ok(db::oidc::follow_provider(c, staff, &name, role)?)).await?;
            }
            let kept = answer.refresh_token;
            if kept != refresh {
                state.db.call(move |c| Ok(db::oidc::keep_refresh_token(c, id, &kept)?)).await?;
            }
            Ok(())
        }
        Err(OidcError::Unreachable(why)) => {
            tracing::warn!(session = %id, %why, "the identity provider did not answer a session check");
            let last = session.checked_at;
            state.db.call(move |c| Ok(db::oidc::unclaim_check(c, id, last)?)).await?;
            if now - last > provider.config.recheck * 3 {
                return Err(oidc_error(&OidcError::Unreachable(why)));
            }
            Ok(())
        }
        Err(e) => {
            tracing::info!(session = %id, error = %e, "the organisation ended a staff session");
            end(state).await?;
            Err(session_ended())
        }
    }
}
