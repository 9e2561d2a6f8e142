//! Who is calling: device tokens for clients, staff tokens for coaches, the purpose header,
//! password hashing and the rate limiter for guessable endpoints.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use chrono::{DateTime, Duration, Utc};
use cjg_core::api::TokenKind;
use cjg_core::audit::Purpose;
use cjg_core::ErrorCode;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use ipnet::IpNet;
use uuid::Uuid;

use crate::db::{self, DeviceSubject, StaffActor};
use crate::error::AppError;
use crate::AppState;

pub const CLIENT_TOKEN_TTL: Duration = Duration::minutes(15);
/// A staff token's maximum life, however busy; it also ends after `--staff-idle-minutes`
/// without use, and at sign-out.
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

/// The key that binds login challenges, the same on every instance (kept in the database).
pub async fn challenge_key(state: &AppState) -> Result<[u8; 32], AppError> {
    state
        .challenge_key
        .get_or_try_init(|| async {
            let fresh: [u8; 32] = cjg_crypto::random_array().map_err(AppError::internal)?;
            let stored =
                state.db.write(move |tx| Ok(db::devices::server_key(tx, "challenge", &fresh)?)).await?;
            <[u8; 32]>::try_from(stored.as_slice()).map_err(|_| AppError::internal("challenge key size"))
        })
        .await
        .copied()
}

const CHALLENGE_NONCE: usize = 16;

fn challenge_mac_input(device_id: Uuid, nonce: &[u8], expires: i64) -> Vec<u8> {
    let mut input = b"cjg-challenge\0".to_vec();
    input.extend_from_slice(device_id.as_bytes());
    input.extend_from_slice(nonce);
    input.extend_from_slice(&expires.to_be_bytes());
    input
}

/// A login challenge the server does not store: a random nonce and an expiry, bound to one
/// device by a MAC. Handing one out writes nothing, so nobody can crowd out a device's
/// challenge by asking for many; single use is recorded when a device has signed it.
pub fn issue_challenge(
    key: &[u8; 32],
    device_id: Uuid,
    expires_at: DateTime<Utc>,
) -> Result<String, AppError> {
    let nonce: [u8; CHALLENGE_NONCE] = cjg_crypto::random_array().map_err(AppError::internal)?;
    let expires = expires_at.timestamp();
    let mac = cjg_crypto::hmac_sha256(key, &challenge_mac_input(device_id, &nonce, expires));
    let mut raw = nonce.to_vec();
    raw.extend_from_slice(&expires.to_be_bytes());
    raw.extend_from_slice(&mac);
    Ok(cjg_crypto::b64(&raw))
}

/// A challenge this server issued for `device_id` that has not expired: its nonce and expiry.
pub fn open_challenge(
    key: &[u8; 32],
    device_id: Uuid,
    challenge: &str,
    now: DateTime<Utc>,
) -> Option<([u8; CHALLENGE_NONCE], DateTime<Utc>)> {
    let raw = cjg_crypto::unb64(challenge)?;
    if raw.len() != CHALLENGE_NONCE + 8 + 32 {
        return None;
    }
    let (nonce, rest) = raw.split_at(CHALLENGE_NONCE);
    let (expires, mac) = rest.split_at(8);
    let expires = i64::from_be_bytes(expires.try_into().ok()?);
    if !cjg_crypto::hmac_sha256_verify(key, &challenge_mac_input(device_id, nonce, expires), mac) {
        return None;
    }
    let expires_at = DateTime::<Utc>::from_timestamp(expires, 0)?;
    if expires_at <= now {
        return None;
    }
    Some((nonce.try_into().ok()?, expires_at))
}

/// A new one-time code as it is handed over (`XXXXX-XXXXX`): an administrator's setup code for
/// a staff member's second factor, or one of their recovery codes.
pub fn new_one_time_code() -> Result<String, AppError> {
    let random = cjg_crypto::random_array().map_err(AppError::internal)?;
    Ok(cjg_core::second_factor::recovery_code(&random))
}

/// How a setup code is kept: a hash bound to its account (and apart from recovery codes).
/// `code` as shown or typed; dashes and case do not matter.
pub fn setup_code_hash(staff_id: Uuid, code: &str) -> [u8; 32] {
    let normalised = cjg_core::second_factor::parse_setup_code(code).unwrap_or_default();
    cjg_crypto::sha256(format!("setup:{staff_id}:{normalised}").as_bytes())
}

/// How a recovery code is kept: a hash bound to its account. `normalised` as
/// [`cjg_core::second_factor::parse_code`] gives it.
pub fn recovery_code_hash(staff_id: Uuid, normalised: &str) -> [u8; 32] {
    cjg_crypto::sha256(format!("{staff_id}:{normalised}").as_bytes())
}

pub fn hash_password(password: &str) -> Result<String, AppError> {
    let salt: [u8; 16] = cjg_crypto::random_array().map_err(AppError::internal)?;
    let salt = SaltString::encode_b64(&salt).map_err(AppError::internal)?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(AppError::internal)
}

/// A hash of a random password with the same parameters as every stored one: what an unknown
/// username's password is checked against, so that it costs the same time.
pub fn stand_in_hash() -> &'static str {
    static HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let random = cjg_crypto::random_array::<16>().map(|b| cjg_crypto::b64(&b)).unwrap_or_default();
        hash_password(&random).unwrap_or_default()
    });
    &HASH
}

/// Like [`verify_password`], with the hash's working memory (19 MiB) passed in and kept for the
/// next call. The memory allocator keeps what one hash freed, per thread, so hashing on fresh
/// memory made each sign-in grow the server; with a few reused buffers its size is fixed.
pub fn verify_password_in(password: &str, stored: &str, memory: &mut Vec<argon2::Block>) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else { return false };
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else { return false };
    let Ok(params) = argon2::Params::try_from(&hash) else { return false };
    let Ok(algorithm) = argon2::Algorithm::try_from(hash.algorithm) else { return false };
    let version = match hash.version.map(argon2::Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else { return false };
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, argon2::Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    let argon = Argon2::new(algorithm, version, params);
    argon.hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut memory[..blocks]).is_ok()
        // `Output` compares in constant time.
        && argon2::password_hash::Output::new(&out).is_ok_and(|o| o == expected)
}

pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// Addresses one limiter remembers at most: beyond it, forgotten first are the addresses whose
/// budget is full again, and if that is not enough every address shares one budget until some
/// are forgotten. An attacker with that many addresses can slow everyone down for a minute,
/// but never grow the memory.
const LIMITER_MAX_KEYS: usize = 100_000;

/// A budget per client address (IPv6 per /64, the block one household or phone gets), kept in
/// memory by this instance: the cheap first gate in front of everything a stranger can call.
/// Counts that must hold across instances live in the database ([`crate::db::attempts`]).
pub struct Limiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    /// When the full table was last swept (seconds since the limiter was made): a table kept
    /// full on purpose is swept at most once a second, not at every request.
    swept_at: std::sync::atomic::AtomicU64,
    made: std::time::Instant,
}

impl Limiter {
    pub fn per_minute(n: u32) -> Self {
        let n = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        Self {
            limiter: RateLimiter::keyed(Quota::per_minute(n)),
            swept_at: std::sync::atomic::AtomicU64::new(0),
            made: std::time::Instant::now(),
        }
    }

    /// Takes one from the address's budget, or refuses.
    pub fn check(&self, ip: IpAddr) -> Result<(), AppError> {
        if self.take(ip) {
            Ok(())
        } else {
            Err(AppError::new(ErrorCode::RateLimited, "too many attempts; wait a minute and try again"))
        }
    }

    /// Whether the address still had budget (and now has one less).
    pub fn take(&self, ip: IpAddr) -> bool {
        let mut key = rate_key(ip);
        if self.limiter.len() >= LIMITER_MAX_KEYS {
            let now = self.made.elapsed().as_secs() + 1;
            let last = self.swept_at.swap(now, std::sync::atomic::Ordering::Relaxed);
            if last != now {
                self.limiter.retain_recent();
            }
            if self.limiter.len() >= LIMITER_MAX_KEYS {
                key = IpAddr::from([0u8; 16]);
            }
        }
        self.limiter.check_key(&key).is_ok()
    }

    /// Forgets addresses whose budget is full again: run every minute.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    pub fn len(&self) -> usize {
        self.limiter.len()
    }

    pub fn is_empty(&self) -> bool {
        self.limiter.is_empty()
    }
}

/// The part of an address that names one subscriber: an IPv4 address, or an IPv6 /64 (every
/// household or phone gets at least a /64, so limiting single IPv6 addresses limits nothing).
pub fn rate_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut o = v6.octets();
                o[8..].fill(0);
                IpAddr::from(o)
            }
        },
    }
}

/// The proxies in front of the server whose `X-Forwarded-For` is believed. Nobody else's is: a
/// client that sends the header itself only names its own address.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Vec<IpNet>);

impl TrustedProxies {
    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client's address: the TCP peer, unless the peer is a trusted proxy; then the
    /// right-most address in `X-Forwarded-For` that is not itself a trusted proxy (each proxy
    /// appends the address it saw, so everything left of the first untrusted hop is the
    /// client's own claim). An unreadable hop ends the walk at the last address known.
    pub fn client(&self, peer: IpAddr, headers: &axum::http::HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        let mut ip = peer;
        for hop in hops.iter().rev() {
            let Some(hop) = parse_hop(hop) else { return ip };
            ip = hop;
            if !self.trusts(hop) {
                return hop;
            }
        }
        ip
    }
}

/// One `X-Forwarded-For` hop: an address, or an address with a port as some proxies write it
/// (`192.0.2.7:5678`, `[2001:db8::1]:443`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>().ok().or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// The client's address as [`TrustedProxies::client`] decided it, set by a middleware in front of
/// every route.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

pub fn peer_ip(parts: &Parts) -> IpAddr {
    if let Some(ClientIp(ip)) = parts.extensions.get::<ClientIp>() {
        return *ip;
    }
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
                    // Ordered with the person's dossier only: a region-wide lock here would make
                    // every app's first request of a minute wait for every write.
                    let device = s.device_id;
                    state
                        .db
                        .write_in(s.dossier_id, move |tx| Ok(db::devices::touch_device(tx, device, now)?))
                        .await?;
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
        let idle = state.staff_idle;
        let (actor, session) = state
            .db
            .call(move |c| {
                let Some((id, stale)) = db::devices::staff_token_subject(c, &hash, now, idle)? else {
                    return Ok((None, None));
                };
                if stale {
                    db::devices::touch_token(c, &hash, now)?;
                }
                Ok((db::staff::staff_by_id(c, id)?, db::oidc::session_of_token(c, &hash)?))
            })
            .await?;
        let actor = actor.ok_or_else(AppError::unauthenticated)?;
        match session {
            Some(session) => crate::routes::staff::oidc::check_session(state, session).await?,
            // Turning built-in accounts off ends the password sign-ins already made, too.
            None if !state.built_in_accounts() => {
                return Err(AppError::new(
                    ErrorCode::BuiltInAccountsOff,
                    "password sign-in is off on this server; sign in with the organisation's account",
                ))
            }
            None => {}
        }
        Ok(Self(actor))
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
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let h = hash_password("correct horse").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("correct horse", "not a hash"));
        let mut memory = Vec::new();
        assert!(verify_password_in("correct horse", &h, &mut memory));
        assert!(!verify_password_in("wrong horse", &h, &mut memory));
        assert!(!verify_password_in("correct horse", "not a hash", &mut memory));
        assert_eq!(memory.len(), argon2::Params::default().block_count(), "kept for the next call");
    }

    #[test]
    fn a_challenge_holds_for_its_device_and_time_only() {
        let key = [9u8; 32];
        let device = Uuid::new_v4();
        let now = Utc::now();
        let c = issue_challenge(&key, device, now + CHALLENGE_TTL).expect("issued");
        let (_, expires) = open_challenge(&key, device, &c, now).expect("opens");
        assert!(expires > now);
        assert!(open_challenge(&key, Uuid::new_v4(), &c, now).is_none(), "another device");
        assert!(open_challenge(&[8u8; 32], device, &c, now).is_none(), "another key");
        assert!(open_challenge(&key, device, &c, now + Duration::minutes(2)).is_none(), "expired");
        let mut raw = cjg_crypto::unb64(&c).expect("b64");
        raw[20] ^= 1;
        assert!(open_challenge(&key, device, &cjg_crypto::b64(&raw), now).is_none(), "changed expiry");
        assert!(open_challenge(&key, device, "x", now).is_none());
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

    #[test]
    fn ipv6_is_limited_per_64() {
        let l = Limiter::per_minute(2);
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(l.take(a) && l.take(b));
        assert!(!l.take(a), "the same /64 shares one budget");
        assert!(l.take(other));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(rate_key(mapped), IpAddr::from([192, 0, 2, 1]));
    }

    #[test]
    fn limiter_memory_is_bounded() {
        let l = Limiter::per_minute(5);
        for i in 0..(LIMITER_MAX_KEYS as u32 + 5_000) {
            l.take(IpAddr::from(i.to_be_bytes()));
        }
        assert!(l.len() <= LIMITER_MAX_KEYS + 1, "{}", l.len());
    }

    #[test]
    fn only_trusted_proxies_name_the_client() {
        let trusted = TrustedProxies(vec!["10.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()]);
        let mut h = axum::http::HeaderMap::new();
        h.append("x-forwarded-for", "198.51.100.7, 203.0.113.9".parse().unwrap());
        h.append("x-forwarded-for", "10.1.1.1".parse().unwrap());
        let proxy = IpAddr::from([10, 0, 0, 2]);
        // The right-most untrusted hop; the client's own claim (198.51.100.7) is not believed.
        assert_eq!(trusted.client(proxy, &h), IpAddr::from([203, 0, 113, 9]));
        // A stranger's header names nobody.
        let stranger = IpAddr::from([192, 0, 2, 1]);
        assert_eq!(trusted.client(stranger, &h), stranger);
        assert_eq!(TrustedProxies::default().client(proxy, &h), proxy);
        let mut bad = axum::http::HeaderMap::new();
        bad.insert("x-forwarded-for", "203.0.113.9, nonsense".parse().unwrap());
        assert_eq!(trusted.client(proxy, &bad), proxy, "an unreadable hop ends the walk");
        let mut ported = axum::http::HeaderMap::new();
        ported.insert("x-forwarded-for", "[2001:db8::7]:443, 203.0.113.9:5678".parse().unwrap());
        assert_eq!(trusted.client(proxy, &ported), IpAddr::from([203, 0, 113, 9]), "ports are dropped");
    }
}
