//! Limits on what a stranger can try: guesses of staff passwords and activation codes (counted
//! in the database, so every instance shares one count), concurrent password hashing, and how
//! many refused requests are written down.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use cjg_core::ErrorCode;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::auth::{rate_key, Limiter};
use crate::db::attempts::{self, Scope};
use crate::error::{AppError, AppResult};
use crate::AppState;

/// Sign-in attempts one username may have in a window ([`attempts::WINDOW`]; one that succeeds
/// is given back): enough for someone who mistypes, far too few to guess a password. A guesser can lock one name out for a quarter
/// of an hour; the staff member then signs in a little later, and the attempts are on record.
pub const STAFF_FAILURES_PER_USER: i64 = 10;
/// Wrong activation codes from all addresses together in a window. A code has 30^12 values and
/// lives a week, so even a botnet at this rate has no real chance; the limit bounds the work it
/// makes. The price: while it lasts, families trying to enrol are also told to wait a few
/// minutes (their code stays valid).
pub const CODE_FAILURES_TOTAL: i64 = 5_000;
/// How long a sign-in waits for a free hashing slot before it is told to try again.
const HASH_WAIT: StdDuration = StdDuration::from_secs(10);

fn rate_limited() -> AppError {
    AppError::new(ErrorCode::RateLimited, "too many attempts; wait a few minutes and try again")
}

fn subject(domain: &str, value: &str) -> [u8; 32] {
    cjg_crypto::sha256(format!("{domain}\0{value}").as_bytes())
}

fn user_subject(username: &str) -> [u8; 32] {
    subject("staff-user", &username.trim().to_lowercase())
}

fn address_subject(ip: IpAddr) -> [u8; 32] {
    subject("address", &rate_key(ip).to_string())
}

/// The limits on guessing, with the per-address budget of one window.
#[derive(Debug, Clone, Copy)]
pub struct GuessLimits {
    pub failures_per_address: i64,
}

impl GuessLimits {
    pub fn from_attempts_per_minute(n: u32) -> Self {
        // The in-memory gate allows `n` a minute per instance; the shared count allows five
        // minutes' worth per window, whatever the number of instances.
        Self { failures_per_address: i64::from(n.max(1)) * 5 }
    }
}

/// Counts a staff sign-in attempt for this username and address, on every instance together,
/// and refuses it before any password is checked when either is over its limit in this window.
/// Counting first and checking the count it returned means a burst of guesses sent at once
/// meets the same limit as guesses sent one by one.
pub async fn staff_login_attempt(state: &AppState, username: &str, ip: IpAddr) -> AppResult<()> {
    let (user, address, now) = (user_subject(username), address_subject(ip), state.clock.now());
    let limit = state.guess_limits.failures_per_address;
    let over = state
        .db
        .write_unordered(move |tx| {
            let by_user = attempts::add(tx, Scope::StaffUser, &user, now)?;
            let by_address = attempts::add(tx, Scope::StaffAddress, &address, now)?;
            Ok(by_user > STAFF_FAILURES_PER_USER || by_address > limit)
        })
        .await?;
    if over {
        Err(rate_limited())
    } else {
        Ok(())
    }
}

/// A sign-in that succeeded was no guess: it no longer counts against the name or address.
pub async fn staff_login_succeeded(state: &AppState, username: &str, ip: IpAddr) -> AppResult<()> {
    let (user, address, now) = (user_subject(username), address_subject(ip), state.clock.now());
    state
        .db
        .write_unordered(move |tx| {
            attempts::forgive(tx, Scope::StaffUser, &user, now)?;
            attempts::forgive(tx, Scope::StaffAddress, &address, now)?;
            Ok(())
        })
        .await
}

/// Counts an activation-code attempt for this address and in total, and refuses it when either
/// is over its limit in this window (counted first, as for sign-ins).
pub async fn code_attempt(state: &AppState, ip: IpAddr) -> AppResult<()> {
    let (address, now) = (address_subject(ip), state.clock.now());
    let total = subject("all", "");
    let limit = state.guess_limits.failures_per_address;
    let over = state
        .db
        .write_unordered(move |tx| {
            let by_address = attempts::add(tx, Scope::CodeAddress, &address, now)?;
            let all = attempts::add(tx, Scope::CodeTotal, &total, now)?;
            Ok(by_address > limit || all > CODE_FAILURES_TOTAL)
        })
        .await?;
    if over {
        Err(rate_limited())
    } else {
        Ok(())
    }
}

/// A code that enrolled a device was no guess.
pub async fn code_attempt_succeeded(state: &AppState, ip: IpAddr) -> AppResult<()> {
    let (address, now) = (address_subject(ip), state.clock.now());
    let total = subject("all", "");
    state
        .db
        .write_unordered(move |tx| {
            attempts::forgive(tx, Scope::CodeAddress, &address, now)?;
            attempts::forgive(tx, Scope::CodeTotal, &total, now)?;
            Ok(())
        })
        .await
}

/// At most this many password hashes at once, each in working memory kept from the last one:
/// Argon2 takes 19 MiB per hash, so a burst of sign-ins waits for a slot instead of taking the
/// server's memory.
pub struct HashSlots {
    permits: Arc<Semaphore>,
    memory: Arc<Mutex<Vec<Vec<argon2::Block>>>>,
}

/// One hashing slot and its working memory, given back when dropped.
pub struct HashSlot {
    _permit: OwnedSemaphorePermit,
    pub memory: Vec<argon2::Block>,
    pool: Arc<Mutex<Vec<Vec<argon2::Block>>>>,
}

impl Drop for HashSlot {
    fn drop(&mut self) {
        if let Ok(mut pool) = self.pool.lock() {
            pool.push(std::mem::take(&mut self.memory));
        }
    }
}

impl HashSlots {
    pub fn new(n: usize) -> Self {
        Self { permits: Arc::new(Semaphore::new(n.max(1))), memory: Arc::default() }
    }

    /// A slot, or "try again" when none frees up within [`HASH_WAIT`].
    pub async fn acquire(&self) -> AppResult<HashSlot> {
        match tokio::time::timeout(HASH_WAIT, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => {
                let memory = self.memory.lock().ok().and_then(|mut pool| pool.pop()).unwrap_or_default();
                Ok(HashSlot { _permit: permit, memory, pool: self.memory.clone() })
            }
            _ => Err(AppError::new(ErrorCode::RateLimited, "the server is busy; try again in a moment")),
        }
    }
}

/// Decides which refused requests are written down: a budget per address and one in total, so a
/// flood of refusals costs the writer a bounded amount. What is not written is counted and
/// logged once a minute.
pub struct RefusalGate {
    per_address: Limiter,
    total: Limiter,
    dropped: AtomicU64,
}

/// Refusals written per address per minute, and from everyone together.
const REFUSALS_PER_ADDRESS: u32 = 120;
const REFUSALS_TOTAL: u32 = 6_000;

impl Default for RefusalGate {
    fn default() -> Self {
        Self {
            per_address: Limiter::per_minute(REFUSALS_PER_ADDRESS),
            total: Limiter::per_minute(REFUSALS_TOTAL),
            dropped: AtomicU64::new(0),
        }
    }
}

impl RefusalGate {
    pub fn admit(&self, ip: IpAddr) -> bool {
        let ok = self.per_address.take(ip) && self.total.take(IpAddr::from([0u8; 4]));
        if !ok {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        ok
    }

    /// Refusals not written since the last call.
    pub fn take_dropped(&self) -> u64 {
        self.dropped.swap(0, Ordering::Relaxed)
    }

    pub fn forget_idle(&self) {
        self.per_address.forget_idle();
    }
}

/// Deletes guess counts older than a day and refusal counts older than the retention period.
pub async fn forget_old(state: &AppState, now: DateTime<Utc>) -> AppResult<(usize, usize)> {
    let retention = state.denied_retention;
    state
        .db
        .call(move |c| {
            let a = attempts::forget_attempts_before(c, now - chrono::Duration::days(1))?;
            let r = attempts::forget_refusals_before(c, now - retention)?;
            Ok((a, r))
        })
        .await
}
