//! Who is calling: device tokens for clients, staff tokens for coaches, the purpose header,
//! password hashing and the rate limiter for guessable endpoints.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use chrono::Duration;
use cjg_core::api::TokenKind;
use cjg_core::audit::Purpose;
use cjg_core::ErrorCode;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use uuid::Uuid;

use crate::db::{self, DeviceSubject, StaffActor};
use crate::error::AppError;
use crate::AppState;

pub const CLIENT_TOKEN_TTL: Duration = Duration::minutes(15);
pub const STAFF_TOKEN_TTL: Duration = Duration::hours(8);
pub const CHALLENGE_TTL: Duration = Duration::minutes(1);
pub const PURPOSE_HEADER: &str = "x-cjg-purpose";

/// 32 random bytes as base64url: bearer tokens and login challenges.
pub fn random_b64() -> Result<String, AppError> {
    let raw: [u8; 32] = cjg_crypto::random_array().map_err(AppError::internal)?;
    Ok(cjg_crypto::b64(&raw))
}

/// A new random bearer token and the hash under which the server keeps it.
pub fn new_token() -> Result<(String, [u8; 32]), AppError> {
    let token = random_b64()?;
    let hash = cjg_crypto::sha256(token.as_bytes());
    Ok((token, hash))
}

pub fn hash_password(password: &str) -> Result<String, AppError> {
    let salt: [u8; 16] = cjg_crypto::random_array().map_err(AppError::internal)?;
    let salt = SaltString::encode_b64(&salt).map_err(AppError::internal)?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(AppError::internal)
}

pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// Per peer address; enrolment and staff login attempts (the guessable secrets) share it.
pub struct Limiter(DefaultKeyedRateLimiter<IpAddr>);

impl Limiter {
    pub fn per_minute(n: u32) -> Self {
        let n = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        Self(RateLimiter::keyed(Quota::per_minute(n)))
    }

    pub fn check(&self, ip: IpAddr) -> Result<(), AppError> {
        self.0.check_key(&ip).map_err(|_| {
            AppError::new(ErrorCode::RateLimited, "too many attempts; wait a minute and try again")
        })
    }
}

pub fn peer_ip(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |ConnectInfo(addr)| addr.ip())
}

/// The caller's address, for rate limiting and the audit log's "from where".
pub struct Peer(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        Ok(Self(peer_ip(parts)))
    }
}

/// The hash of the bearer token, if the request carries one: the server stores only hashes.
pub fn bearer_hash(headers: &axum::http::HeaderMap) -> Option<[u8; 32]> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))?;
    Some(cjg_crypto::sha256(value.trim().as_bytes()))
}

fn bearer(parts: &Parts) -> Result<[u8; 32], AppError> {
    bearer_hash(&parts.headers).ok_or_else(AppError::unauthenticated)
}

/// A client device with a live token.
pub struct ClientAuth(pub DeviceSubject);

impl FromRequestParts<Arc<AppState>> for ClientAuth {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, AppError> {
        let hash = bearer(parts)?;
        let now = state.clock.now();
        // Every sync passes here: look on a reader, and queue for the one writer only when
        // the device's last contact is due to be written (at most once a minute).
        let subject = state
            .db
            .call_read(move |c| {
                let Some(device) = db::devices::token_subject(c, &hash, TokenKind::Device, now)? else {
                    return Ok(None);
                };
                Ok(db::devices::device_subject(c, device, now)?)
            })
            .await?;
        match subject {
            Some((_, true, _)) => Err(AppError::device_revoked()),
            Some((s, false, stale)) => {
                if stale {
                    let device = s.device_id;
                    state.db.call(move |c| Ok(db::devices::touch_device(c, device, now)?)).await?;
                }
                Ok(Self(s))
            }
            None => Err(AppError::unauthenticated()),
        }
    }
}

/// A signed-in staff member.
pub struct StaffAuth(pub StaffActor);

impl FromRequestParts<Arc<AppState>> for StaffAuth {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, AppError> {
        let hash = bearer(parts)?;
        let now = state.clock.now();
        let actor = state
            .db
            .call(move |c| {
                let Some(id) = db::devices::token_subject(c, &hash, TokenKind::Staff, now)? else {
                    return Ok(None);
                };
                Ok(db::staff::staff_by_id(c, id)?)
            })
            .await?;
        actor.map(Self).ok_or_else(AppError::unauthenticated)
    }
}

/// The purpose of a staff access, required by NEN 7513 before any client data is touched.
pub struct PurposeHeader(pub Option<Purpose>);

/// The `X-Cjg-Purpose` header, if sent: a purpose for this one request (scripts and tests). The
/// app states a purpose per dossier instead (`PUT /v1/staff/dossiers/{id}/purpose`).
impl<S: Send + Sync> FromRequestParts<S> for PurposeHeader {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        let Some(value) = parts.headers.get(PURPOSE_HEADER) else { return Ok(Self(None)) };
        value
            .to_str()
            .ok()
            .and_then(|v| Purpose::parse(v.trim()))
            .map(|p| Self(Some(p)))
            .ok_or_else(|| AppError::new(ErrorCode::Validation, "X-Cjg-Purpose is not a known purpose"))
    }
}

/// Refuses staff who do not work on this dossier, with the same answer as a missing one (no IDOR).
pub async fn require_caseload(state: &AppState, staff_id: Uuid, dossier_id: Uuid) -> Result<(), AppError> {
    let ok = state.db.call(move |c| Ok(db::staff::staff_has_dossier(c, staff_id, dossier_id)?)).await?;
    if ok {
        Ok(())
    } else {
        Err(AppError::not_found())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let h = hash_password("correct horse").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn limiter_stops_after_quota() {
        let l = Limiter::per_minute(3);
        let ip = IpAddr::from([127, 0, 0, 1]);
        for _ in 0..3 {
            assert!(l.check(ip).is_ok());
        }
        assert!(l.check(ip).is_err());
        assert!(l.check(IpAddr::from([127, 0, 0, 2])).is_ok());
    }
}
