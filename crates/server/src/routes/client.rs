//! Routes a family member's device calls: enrolment, tokens, sync.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use cjg_core::api::{
    token_signing_message, ChallengeRequest, ChallengeResponse, ConsentRequest, DeviceInfo, EnrolRequest,
    EnrolResponse, Health, PinEvaluation, PinKeyRequest, PinOkRequest, PinTryRequest, SyncPage, SyncQuery,
    TokenRequest, TokenResponse, PIN_TRIES_MAX, SYNC_PAGE_MAX_ITEMS,
};
use cjg_core::audit::AuditAlert;
use cjg_core::feedback::{Feedback, FeedbackDraft};
use cjg_core::questionnaire::{QuestionnaireTask, Submission};
use cjg_core::validate::{self, ActivationCode};
use cjg_core::{ErrorCode, PersonRole};
use uuid::Uuid;

use crate::auth::{self, ClientAuth, Peer};
use crate::db::{self, CodeCheck};
use crate::error::{ApiJson, ApiPath, ApiQuery, AppError, AppResult};
use crate::{limits, AppState};

#[utoipa::path(get, path = "/v1/health", responses((status = 200, body = Health)))]
pub async fn health(State(state): State<Arc<AppState>>) -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        audit_key: cjg_crypto::b64(&state.audit_key.public_key()),
    })
}

/// Readiness, apart from liveness (`/v1/health`): 200 when the database answers, 503 when it
/// does not, so a load balancer sends no apps to an instance that cannot serve them.
#[utoipa::path(get, path = "/v1/ready",
    responses((status = 200, body = Health), (status = 503, body = cjg_core::ApiError)))]
pub async fn ready(State(state): State<Arc<AppState>>) -> AppResult<Json<Health>> {
    let answer = state.db.call_read(|c| {
        use crate::db::sql::QueryExt;
        let one: i64 = c.query_row("SELECT 1", crate::db::sql::params![], |r| r.get(0))?;
        Ok(one)
    });
    // A database that is slow to answer is not ready either: the balancer asks again soon.
    match tokio::time::timeout(std::time::Duration::from_secs(2), answer).await {
        Ok(Ok(_)) => Ok(health(State(state)).await),
        _ => Err(AppError::new(cjg_core::ErrorCode::NotReady, "the database does not answer")),
    }
}

/// Registers a device with a single-use activation code.
#[utoipa::path(post, path = "/v1/enrol", request_body = EnrolRequest,
    responses((status = 200, body = EnrolResponse), (status = 422, body = cjg_core::ApiError), (status = 429, body = cjg_core::ApiError)))]
pub async fn enrol(
    State(state): State<Arc<AppState>>,
    Peer(ip): Peer,
    ApiJson(req): ApiJson<EnrolRequest>,
) -> AppResult<Json<EnrolResponse>> {
    state.limiter.check(ip)?;
    limits::code_attempt(&state, ip).await?;
    let code = ActivationCode::parse(&req.activation_code)
        .map_err(|_| AppError::new(ErrorCode::ActivationCodeInvalid, "this activation code is not valid"))?;
    let public_key =
        cjg_crypto::unb64(&req.device_public_key).filter(|k| k.len() == 32).ok_or_else(|| {
            AppError::new(ErrorCode::Validation, "device_public_key must be 32 bytes, base64url")
        })?;
    let device_name = validate::single_line("device_name", &req.device_name, 100)?;
    let code_hash = cjg_crypto::sha256(code.canonical().as_bytes());
    let now = state.clock.now();
    let audit_key = cjg_crypto::b64(&state.audit_key.public_key());
    let response = state
        .db
        .write(move |tx| {
            let person_id = match db::devices::consume_activation_code(tx, &code_hash, now)? {
                CodeCheck::Ok(p) => p,
                CodeCheck::Invalid => {
                    return Err(AppError::new(
                        ErrorCode::ActivationCodeInvalid,
                        "this activation code is not valid",
                    ))
                }
                CodeCheck::Expired => {
                    return Err(AppError::new(
                        ErrorCode::ActivationCodeExpired,
                        "this activation code has expired",
                    ))
                }
                CodeCheck::Used => {
                    return Err(AppError::new(
                        ErrorCode::ActivationCodeUsed,
                        "this activation code was already used",
                    ))
                }
            };
            if !db::people::has_own_access(tx, person_id, cjg_core::time::dutch_date(now))? {
                return Err(no_own_access());
            }
            let device_id = db::devices::insert_device(tx, person_id, &public_key, &device_name, now)?;
            let display_name = db::people::person_name(tx, person_id)?;
            Ok(EnrolResponse { device_id, person_id, display_name, audit_key })
        })
        .await?;
    limits::code_attempt_succeeded(&state, ip).await?;
    tracing::info!(device_id = %response.device_id, "device enrolled");
    Ok(Json(response))
}

#[utoipa::path(post, path = "/v1/auth/challenge", request_body = ChallengeRequest,
    responses((status = 200, body = ChallengeResponse), (status = 404, body = cjg_core::ApiError),
        (status = 429, body = cjg_core::ApiError)))]
pub async fn challenge(
    State(state): State<Arc<AppState>>,
    Peer(ip): Peer,
    ApiJson(req): ApiJson<ChallengeRequest>,
) -> AppResult<Json<ChallengeResponse>> {
    state.challenge_limiter.check(ip)?;
    // An unknown or revoked device is answered from a reader: a stranger's made-up device ids
    // never reach the writer.
    let device = req.device_id;
    match state.db.call_read(move |c| Ok(db::devices::device_key(c, device)?)).await? {
        None => return Err(AppError::not_found()),
        Some((_, true)) => return Err(AppError::device_revoked()),
        Some(_) => {}
    }
    let key = auth::challenge_key(&state).await?;
    let challenge = auth::issue_challenge(&key, device, state.clock.now() + auth::CHALLENGE_TTL)?;
    Ok(Json(ChallengeResponse { challenge }))
}

/// Exchanges a signed challenge for a short-lived token. Not behind the guessing limit: nothing
/// here can be guessed (it takes the device's private key), and every sync passes this way.
#[utoipa::path(post, path = "/v1/auth/token", request_body = TokenRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = cjg_core::ApiError)))]
pub async fn token(
    State(state): State<Arc<AppState>>,
    ApiJson(req): ApiJson<TokenRequest>,
) -> AppResult<Json<TokenResponse>> {
    let bad = || AppError::new(ErrorCode::ChallengeInvalid, "the challenge or its signature is not valid");
    let signature = cjg_crypto::unb64(&req.signature).ok_or_else(bad)?;
    let now = state.clock.now();
    let key = auth::challenge_key(&state).await?;
    let (nonce, challenge_expires) =
        auth::open_challenge(&key, req.device_id, &req.challenge, now).ok_or_else(bad)?;
    // The signature is checked on a reader: a stranger's tries never reach the writer.
    let device = req.device_id;
    match state.db.call_read(move |c| Ok(db::devices::device_key(c, device)?)).await? {
        Some((_, true)) => return Err(AppError::device_revoked()),
        Some((pk, false)) => {
            let message = token_signing_message(req.device_id, &req.challenge);
            if !cjg_crypto::verify_ed25519(&pk, &message, &signature) {
                return Err(bad());
            }
        }
        None => return Err(bad()),
    }
    let (token, hash) = auth::new_token()?;
    let expires_at = state
        .db
        .write_unordered(move |tx| {
            // A challenge counts once: a replayed (challenge, signature) pair gets nothing.
            if !db::devices::use_challenge(tx, &nonce, challenge_expires, now)? {
                return Err(bad());
            }
            let expires_at = now + auth::CLIENT_TOKEN_TTL;
            db::devices::insert_token(
                tx,
                &hash,
                cjg_core::api::TokenKind::Device,
                req.device_id,
                expires_at,
                now,
            )?;
            Ok(expires_at)
        })
        .await?;
    Ok(Json(TokenResponse { token, expires_at }))
}

/// Where a device keeps its secret in a file, its PIN is checked with a key kept here (an
/// oblivious PRF): sets that key up for the signed-in device, or evaluates a new PIN after a
/// PIN change. Not a counted try: the device proved itself with its key, so its store is open.
#[utoipa::path(post, path = "/v1/me/pin-key", request_body = PinKeyRequest,
    responses((status = 200, body = PinEvaluation), (status = 400, body = cjg_core::ApiError),
        (status = 401, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn pin_key(
    State(state): State<Arc<AppState>>,
    ClientAuth(who): ClientAuth,
    ApiJson(req): ApiJson<PinKeyRequest>,
) -> AppResult<Json<PinEvaluation>> {
    let blinded = b64_field("blinded", &req.blinded, cjg_crypto::pin::ELEMENT_LEN)?;
    let token_hash = cjg_crypto::sha256(&b64_field("pin_token", &req.pin_token, 32)?);
    let fresh = cjg_crypto::pin::PinKey::generate().map_err(AppError::internal)?;
    let evaluation = state
        .db
        .write(move |tx| {
            db::devices::set_pin_key(tx, who.device_id, &fresh.to_bytes(), &token_hash)?;
            let stored = db::devices::pin_state(tx, who.device_id)?.and_then(|p| p.key);
            pin_evaluate(&stored.ok_or_else(AppError::not_found)?, &blinded)
        })
        .await?;
    Ok(Json(evaluation))
}

/// The app's PIN opened its store: it reports the tries it made itself since its last report,
/// and only those come off the device's count.
#[utoipa::path(post, path = "/v1/me/pin-ok", request_body = PinOkRequest,
    responses((status = 204), (status = 401, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn pin_ok(
    State(state): State<Arc<AppState>>,
    ClientAuth(who): ClientAuth,
    ApiJson(req): ApiJson<PinOkRequest>,
) -> AppResult<StatusCode> {
    let own = req.own_tries.min(PIN_TRIES_MAX + 1);
    state.db.write(move |tx| Ok(db::devices::forgive_own_pin_tries(tx, who.device_id, own)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One PIN try of a locked app whose device secret is a file. The server learns nothing of the
/// PIN and cannot tell a right one from a wrong one; it counts tries, takes off only those the
/// device's own unlocked app reports as its own (`/v1/me/pin-ok`), and past [`PIN_TRIES_MAX`]
/// locks the device for good. The PIN token proves the caller has the folder, so a stranger who knows
/// only a device id cannot lock it.
#[utoipa::path(post, path = "/v1/pin/try", request_body = PinTryRequest,
    responses((status = 200, body = PinEvaluation), (status = 400, body = cjg_core::ApiError),
        (status = 403, body = cjg_core::ApiError), (status = 404, body = cjg_core::ApiError),
        (status = 429, body = cjg_core::ApiError)))]
pub async fn pin_try(
    State(state): State<Arc<AppState>>,
    Peer(ip): Peer,
    ApiJson(req): ApiJson<PinTryRequest>,
) -> AppResult<Json<PinEvaluation>> {
    state.pin_limiter.check(ip)?;
    let blinded = b64_field("blinded", &req.blinded, cjg_crypto::pin::ELEMENT_LEN)?;
    let token_hash = cjg_crypto::sha256(&b64_field("pin_token", &req.pin_token, 32)?);
    let now = state.clock.now();
    let device_id = req.device_id;
    let evaluation = state
        .db
        // Not Db::write: a try past the limit locks the device *and* is refused.
        .call(move |c| {
            let tx = c.transaction()?;
            let pin = db::devices::pin_state(&tx, device_id)?;
            // Hashes are compared, not tokens: a timing difference tells nothing usable.
            let Some(pin) =
                pin.filter(|p| p.token_hash.as_deref() == Some(&token_hash[..]) && p.key.is_some())
            else {
                return Err(AppError::not_found());
            };
            if pin.locked {
                return Err(device_locked());
            }
            if pin.revoked {
                return Err(AppError::device_revoked());
            }
            let tries = db::devices::count_pin_try(&tx, device_id)?;
            if tries > i64::from(PIN_TRIES_MAX) {
                db::devices::lock_for_pin_tries(&tx, device_id, now)?;
                tx.commit()?;
                tracing::warn!(%device_id, "device locked after too many PIN tries");
                return Err(device_locked());
            }
            let evaluation = pin_evaluate(pin.key.as_deref().unwrap_or_default(), &blinded)?;
            tx.commit()?;
            Ok(evaluation)
        })
        .await?;
    Ok(Json(evaluation))
}

fn device_locked() -> AppError {
    AppError::new(ErrorCode::DeviceLocked, "too many PIN tries: this device is locked; enrol it again")
}

fn pin_evaluate(key: &[u8], blinded: &[u8]) -> AppResult<PinEvaluation> {
    let key = cjg_crypto::pin::PinKey::from_bytes(key).map_err(AppError::internal)?;
    let evaluation = key
        .evaluate(blinded)
        .map_err(|_| AppError::new(ErrorCode::Validation, "blinded is not a valid group element"))?;
    Ok(PinEvaluation { evaluation: cjg_crypto::b64(&evaluation) })
}

fn b64_field(field: &str, value: &str, len: usize) -> AppResult<Vec<u8>> {
    cjg_crypto::unb64(value).filter(|v| v.len() == len).ok_or_else(|| {
        AppError::new(ErrorCode::Validation, format!("{field} must be {len} bytes, base64url"))
    })
}

fn no_own_access() -> AppError {
    AppError::new(ErrorCode::Forbidden, "this person has no own access to the dossier (yet)")
}

/// What this person may see after `cursor`, oldest change first. The access policy is applied
/// to every entry on today's date before the page is read.
#[utoipa::path(get, path = "/v1/sync", params(
        ("cursor" = Option<i64>, Query, description = "The previous page's `next_cursor`; absent or 0: from the start. Negative: 400."),
        ("limit" = Option<u32>, Query, description = "Items per page; the server caps it."),
        ("audit_from" = Option<u32>, Query, description = "Access-log lines the device verified; absent: no lines sent."),
        ("audit_full" = Option<bool>, Query, description = "Check the lines sent against the whole stored log.")),
    responses((status = 200, body = SyncPage), (status = 401, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn sync(
    State(state): State<Arc<AppState>>,
    ClientAuth(who): ClientAuth,
    ApiQuery(q): ApiQuery<SyncQuery>,
) -> AppResult<Json<SyncPage>> {
    if q.cursor < 0 {
        return Err(AppError::new(ErrorCode::BadRequest, "cursor must be 0 or more"));
    }
    let limit = q.limit.map_or(SYNC_PAGE_MAX_ITEMS / 2, |l| l as usize).clamp(1, SYNC_PAGE_MAX_ITEMS);
    let today = state.clock.today();
    let now = state.clock.now();
    let check =
        if q.audit_full { crate::audit::LogCheck::Full } else { crate::audit::LogCheck::FromStoredHead };
    let page = move |tx: db::sql::Tx<'_>, keys: &AppState| {
        if !db::people::has_own_access(&tx, who.person_id, today)? {
            return Err(no_own_access());
        }
        db::questionnaires::refresh_tasks(&tx, who.dossier_id, now)?;
        db::articles::refresh_tips(&tx, who.dossier_id, now)?;
        let since = keys.access_marks.get(who.person_id);
        let (mut page, mark) =
            db::sync::sync_page(&tx, who.person_id, who.dossier_id, q.cursor, limit, today, since)?;
        if let Some(from) = q.audit_from {
            let (batch, more) = crate::audit::batch_for(
                &tx,
                &keys.audit_key,
                who.dossier_id,
                who.person_id,
                from,
                check,
                now,
            )?;
            page.audit = Some(batch);
            page.has_more |= more;
        }
        tx.commit()?;
        keys.access_marks.put(who.person_id, mark);
        Ok(page)
    };
    // Most pages change nothing (no birthday, no questionnaire or tip due, no new policy
    // answer): they are read from a snapshot beside the writer. A page that must store a
    // change is made again, from the start, as a writer.
    let (keys, again) = (state.clone(), page);
    let read = state.db.call_read(move |c| page(c.read_transaction()?, &keys)).await;
    let page = match read {
        Err(e) if e.needs_writer => {
            let keys = state.clone();
            let order = db::sql::Order::Dossier(who.dossier_id);
            state.db.call(move |c| again(c.transaction_for(order)?, &keys)).await?
        }
        other => other?,
    };
    state.metrics.sync_pages.inc();
    Ok(Json(page))
}

/// "Sync now", as server-sent events: an open, unlocked app keeps this one connection and
/// syncs when an event named `sync` arrives. The events carry nothing but their own name (an
/// event without data is not delivered, by the SSE spec); what changed is
/// fetched by the normal sync, whose cursor decides, so a signal lost on the way costs only the
/// wait for the next quiet sync. The first event, `ready`, says the app is listening. The
/// stream ends after ten minutes (the app connects again with a fresh token, so a revoked
/// device stops hearing within that time) and when the server stops.
///
/// Server-sent events rather than a WebSocket: the signal goes one way only, SSE is plain
/// HTTP that every proxy and load balancer passes (with its keep-alive comments), and the app
/// needs no second protocol beside the one it syncs with.
#[utoipa::path(get, path = "/v1/me/events",
    responses((status = 200, description = "text/event-stream: `ready`, then `sync` events whose data is their name"),
        (status = 401, body = cjg_core::ApiError), (status = 429, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn events(
    State(state): State<Arc<AppState>>,
    ClientAuth(who): ClientAuth,
) -> AppResult<
    axum::response::sse::Sse<
        impl futures_util::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>,
    >,
> {
    use axum::response::sse::{Event, KeepAlive, Sse};
    let (person, today) = (who.person_id, state.clock.today());
    if !state.db.call_read(move |c| Ok(db::people::has_own_access(c, person, today)?)).await? {
        return Err(no_own_access());
    }
    let subscription = state.db.signals.subscribe(who.person_id).ok_or_else(|| {
        AppError::new(
            ErrorCode::RateLimited,
            "too many open connections, or the server is stopping; try again later",
        )
    })?;
    let until = tokio::time::Instant::now() + crate::push::CONNECTION_LIFETIME;
    let ready = futures_util::stream::once(async { Ok(Event::default().event("ready").data("ready")) });
    let signals = futures_util::stream::unfold(subscription, move |mut s| async move {
        s.next(until).await.then(|| (Ok(Event::default().event("sync").data("sync")), s))
    });
    Ok(Sse::new(futures_util::StreamExt::chain(ready, signals))
        .keep_alive(KeepAlive::new().interval(std::time::Duration::from_secs(25))))
}

/// The devices enrolled for the signed-in person, oldest first.
#[utoipa::path(get, path = "/v1/me/devices",
    responses((status = 200, body = Vec<DeviceInfo>), (status = 401, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn my_devices(
    State(state): State<Arc<AppState>>,
    ClientAuth(who): ClientAuth,
) -> AppResult<Json<Vec<DeviceInfo>>> {
    let devices = state.db.call(move |c| Ok(db::devices::person_devices(c, who.person_id)?)).await?;
    Ok(Json(devices))
}

/// Revokes one of the person's own devices (this one included): its next contact wipes it.
#[utoipa::path(delete, path = "/v1/me/devices/{device_id}", params(("device_id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn revoke_my_device(
    State(state): State<Arc<AppState>>,
    ClientAuth(who): ClientAuth,
    ApiPath(device_id): ApiPath<Uuid>,
) -> AppResult<StatusCode> {
    let now = state.clock.now();
    state
        .db
        .write_in(who.dossier_id, move |tx| {
            // Someone else's device answers exactly like a device that does not exist.
            if db::devices::device_owner(tx, device_id)? != Some(who.person_id) {
                return Err(AppError::not_found());
            }
            db::devices::revoke_device(tx, device_id, &format!("person:{}", who.person_id), now)?;
            Ok(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Stores feedback on an entry from the app's outbox. The app's id is the idempotency key: the
/// same item again answers 200 with what was stored; another item under that id answers 409.
#[utoipa::path(post, path = "/v1/me/feedback", request_body = FeedbackDraft,
    responses((status = 201, body = Feedback), (status = 200, body = Feedback),
        (status = 404, body = cjg_core::ApiError), (status = 409, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn submit_feedback(
    State(state): State<Arc<AppState>>,
    ClientAuth(who): ClientAuth,
    ApiJson(draft): ApiJson<FeedbackDraft>,
) -> AppResult<(StatusCode, Json<Feedback>)> {
    let draft = draft.validate()?;
    let clock = state.clock;
    let stored = state
        .db
        .write_in(who.dossier_id, move |tx| {
            // Taken once the family's writes are in order: the ECD's change feed reads by this
            // time, and a time taken before waiting could lie behind one it already read.
            let (now, today) = (clock.now(), clock.today());
            let stored = db::feedback::submit_feedback(tx, &who, &draft, now, today)?;
            Ok(stored)
        })
        .await?;
    match stored {
        db::feedback::FeedbackStored::New(f) => {
            crate::fhir::notify::changed(&state, f.dossier_id, "Communication");
            Ok((StatusCode::CREATED, Json(f)))
        }
        db::feedback::FeedbackStored::Again(f) => Ok((StatusCode::OK, Json(f))),
        db::feedback::FeedbackStored::Conflict => {
            Err(AppError::new(ErrorCode::Conflict, "this id belongs to other feedback"))
        }
        db::feedback::FeedbackStored::NotVisible => {
            Err(AppError::new(ErrorCode::NotFound, "this entry is not (or no longer) visible to you"))
        }
    }
}

/// The device found a log that does not extend what it verified: recorded for the CJG's
/// security officer, and in the server log.
#[utoipa::path(post, path = "/v1/me/audit-alerts", request_body = AuditAlert,
    responses((status = 204), (status = 401, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn audit_alert(
    State(state): State<Arc<AppState>>,
    ClientAuth(who): ClientAuth,
    ApiJson(alert): ApiJson<AuditAlert>,
) -> AppResult<StatusCode> {
    let hex_ok = |h: &str| cjg_crypto::chain::unhex(h).is_some();
    if !hex_ok(&alert.verified_head) || !hex_ok(&alert.received_head) {
        return Err(AppError::new(ErrorCode::Validation, "heads are 64 lowercase hex characters"));
    }
    let at = state.clock.now();
    tracing::error!(dossier = %who.dossier_id, device = %who.device_id, verified = alert.verified_size,
        received = alert.received_size, "a device reports an audit log that does not extend its verified copy");
    state
        .db
        .call(move |c| {
            Ok(db::audit::record_audit_alert(
                c,
                &db::audit::AlertRecord { subject: &who, alert: &alert, at },
            )?)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An app whose person chose to share how they use it reports one ended month: randomized
/// yes/no answers per part of the app, added to counters per team and thrown away. A month
/// counts once per person (409 `conflict` for a second report), and only in the ten days after it
/// ended (later, its counts are fixed).
#[utoipa::path(post, path = "/v1/me/usage", request_body = cjg_core::usage::UsageShare,
    responses((status = 204), (status = 400, body = cjg_core::ApiError), (status = 401, body = cjg_core::ApiError),
        (status = 409, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn share_usage(
    State(state): State<Arc<AppState>>,
    ClientAuth(who): ClientAuth,
    ApiJson(share): ApiJson<cjg_core::usage::UsageShare>,
) -> AppResult<StatusCode> {
    let bad = || {
        AppError::new(
            ErrorCode::Validation,
            "a report is a month that ended in the last ten days (2026-11), with every question answered",
        )
    };
    let month = share.check().map_err(|_| bad())?;
    // After its settling days a month's counts are fixed: a late report would change them.
    let today = state.clock.today();
    if month.last_day() >= today || today >= month.ready_on() {
        return Err(bad());
    }
    let added = state
        .db
        .write_in(who.dossier_id, move |tx| Ok(db::usage::add_share(tx, who.device_id, &share)?))
        .await?;
    if !added {
        return Err(AppError::new(ErrorCode::Conflict, "this month was already reported"));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// A youth shares their entries with their parents with gezag, or stops sharing them.
#[utoipa::path(put, path = "/v1/me/consent", request_body = ConsentRequest,
    responses((status = 204), (status = 403, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn set_consent(
    State(state): State<Arc<AppState>>,
    ClientAuth(who): ClientAuth,
    ApiJson(req): ApiJson<ConsentRequest>,
) -> AppResult<StatusCode> {
    let now = state.clock.now();
    state
        .db
        .write_in(who.dossier_id, move |tx| {
            let me = db::people::person(tx, who.person_id)?.ok_or_else(AppError::not_found)?;
            if me.role != PersonRole::Child {
                return Err(AppError::new(
                    ErrorCode::Forbidden,
                    "only a youth can give or withdraw this consent",
                ));
            }
            db::people::set_consent(
                tx,
                who.person_id,
                req.shares_with_parents,
                &format!("person:{}", who.person_id),
                now,
            )?;
            Ok(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Stores a person's answers to a questionnaire from the app's outbox. The app's id is the
/// idempotency key: the same answers again answer 200 with what was stored; other answers to
/// a questionnaire already answered get `already_answered`, an older version of the
/// questionnaire `questionnaire_outdated`.
#[utoipa::path(post, path = "/v1/me/questionnaires", request_body = Submission,
    responses((status = 201, body = QuestionnaireTask), (status = 200, body = QuestionnaireTask),
        (status = 400, body = cjg_core::ApiError), (status = 404, body = cjg_core::ApiError),
        (status = 409, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn submit_questionnaire(
    State(state): State<Arc<AppState>>,
    ClientAuth(who): ClientAuth,
    ApiJson(sub): ApiJson<Submission>,
) -> AppResult<(StatusCode, Json<QuestionnaireTask>)> {
    let clock = state.clock;
    let dossier = who.dossier_id;
    let stored = state
        .db
        .write_in(who.dossier_id, move |tx| {
            // Taken in order, as for feedback: the ECD's change feed reads by this time.
            let stored = db::questionnaires::submit(tx, &who, &sub, clock.now())?;
            Ok(stored)
        })
        .await?;
    Ok(match stored {
        db::questionnaires::Submitted::New(t) => {
            crate::fhir::notify::changed(&state, dossier, "QuestionnaireResponse");
            (StatusCode::CREATED, Json(t))
        }
        db::questionnaires::Submitted::Again(t) => (StatusCode::OK, Json(t)),
    })
}

/// The person opened the article of a reading tip; the coach sees that it was read.
#[utoipa::path(post, path = "/v1/me/tips/{tip_id}/read", params(("tip_id" = Uuid, Path)),
    responses((status = 200, body = cjg_core::article::ReadingTip), (status = 404, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn mark_tip_read(
    State(state): State<Arc<AppState>>,
    ClientAuth(who): ClientAuth,
    ApiPath(tip_id): ApiPath<Uuid>,
) -> AppResult<Json<cjg_core::article::ReadingTip>> {
    let now = state.clock.now();
    let tip = state
        .db
        .write_in(who.dossier_id, move |tx| {
            let tip = db::articles::mark_tip_read(tx, who.person_id, tip_id, now)?;
            Ok(tip)
        })
        .await?;
    Ok(Json(tip))
}

/// A family member's message to their coach, from the app's outbox (the app's id is the
/// idempotency key: 201 new, 200 the same message again, 409 another message under that id).
#[utoipa::path(post, path = "/v1/me/messages", request_body = cjg_core::message::MessageDraft,
    responses((status = 201, body = cjg_core::message::Message), (status = 200, body = cjg_core::message::Message),
        (status = 400, body = cjg_core::ApiError), (status = 409, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn send_message(
    State(state): State<Arc<AppState>>,
    ClientAuth(who): ClientAuth,
    ApiJson(draft): ApiJson<cjg_core::message::MessageDraft>,
) -> AppResult<(StatusCode, Json<cjg_core::message::Message>)> {
    let draft = draft.validate()?;
    let now = state.clock.now();
    let (message, new) = state
        .db
        .write_in(who.dossier_id, move |tx| {
            let out = db::messages::send_from_family(tx, &who, &draft, now)?;
            Ok(out)
        })
        .await?;
    Ok((if new { StatusCode::CREATED } else { StatusCode::OK }, Json(message)))
}

/// The family member opened their conversation: the coach sees these messages were read.
#[utoipa::path(post, path = "/v1/me/messages/read", request_body = cjg_core::message::ReadReceipt,
    responses((status = 204), (status = 400, body = cjg_core::ApiError)), security(("bearer" = [])))]
pub async fn messages_read(
    State(state): State<Arc<AppState>>,
    ClientAuth(who): ClientAuth,
    ApiJson(receipt): ApiJson<cjg_core::message::ReadReceipt>,
) -> AppResult<StatusCode> {
    if receipt.message_ids.len() > cjg_core::message::RECEIPT_MAX {
        return Err(AppError::new(ErrorCode::Validation, "at most 500 messages per receipt"));
    }
    let now = state.clock.now();
    state
        .db
        .write_in(who.dossier_id, move |tx| {
            db::messages::read_by_family(tx, who.person_id, &receipt.message_ids, now)?;
            Ok(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
