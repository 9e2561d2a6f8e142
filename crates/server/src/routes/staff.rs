//! Routes for coaches. Every read or write of client data needs a purpose and appends an
//! audit event in the same transaction as the access itself.

use std::net::IpAddr;
use std::sync::Arc;

use crate::db::sql::{self, Query, Tx};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{Duration, Utc};
use cjg_core::api::{
    ActivationCodeResponse, CaseloadDossier, DeviceInfo, EntryUpdate, StaffLoginRequest, TokenResponse,
};
use cjg_core::article::{ApproveRequest, ArticleDraft, ReadingTip, StaffArticle, StaffTip, TipDraft};
use cjg_core::audit::{AuditAction, AuditEvent, PurposeRequest, PurposeResponse};
use cjg_core::entry::EntryDraft;
use cjg_core::feedback::{Feedback, FeedbackAnswer, FeedbackRequest, FeedbackRequestDraft};
use cjg_core::indicators::{self, IndicatorReport, Period};
use cjg_core::questionnaire::{QuestionnaireTask, SendQuestionnaire, StaffQuestionnaire, TrajectoryUpdate};
use cjg_core::validate::ActivationCode;
use cjg_core::{Entry, ErrorCode, Person};
use uuid::Uuid;

use crate::auth::{self, Peer, PurposeHeader, StaffAuth};
use crate::db::{self, StaffActor};
use crate::error::{ApiJson, ApiPath, AppError, AppResult};
use crate::AppState;

pub const ACTIVATION_CODE_TTL: Duration = Duration::days(7);

#[utoipa::path(post, path = "/v1/staff/login", request_body = StaffLoginRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = cjg_core::ApiError)))]
pub async fn login(
    State(state): State<Arc<AppState>>,
    Peer(ip): Peer,
    ApiJson(req): ApiJson<StaffLoginRequest>,
) -> AppResult<Json<TokenResponse>> {
    state.limiter.check(ip)?;
    let username = req.username.trim().to_owned();
    let found = state.db.call(move |c| Ok(db::staff_by_username(c, &username)?)).await?;
    let password = req.password;
    // Argon2 is deliberately slow and memory-hard: keep it off the async threads.
    let actor = tokio::task::spawn_blocking(move || match found {
        Some((actor, hash)) if auth::verify_password(&password, &hash) => Some(actor),
        _ => None,
    })
    .await
    .map_err(AppError::internal)?
    .ok_or_else(|| AppError::new(ErrorCode::Unauthenticated, "username or password is wrong"))?;
    let (token, hash) = auth::new_token()?;
    let now = state.clock.now();
    let expires_at = state
        .db
        .call(move |c| {
            let tx = c.transaction()?;
            let expires_at = now + auth::STAFF_TOKEN_TTL;
            db::insert_token(&tx, &hash, "staff", actor.id, expires_at, now)?;
            tx.commit()?;
            Ok(expires_at)
        })
        .await?;
    Ok(Json(TokenResponse { token, expires_at }))
}

/// A staff access to one dossier, as it will be written to the audit log.
struct Access {
    actor: StaffActor,
    dossier_id: Uuid,
    action: AuditAction,
    object: (&'static str, Option<Uuid>),
    purpose: PurposeHeader,
    origin: IpAddr,
}

/// What the handler's work gets besides the transaction: who acts, and the server's now.
struct Ctx<'a> {
    actor: &'a StaffActor,
    now: chrono::DateTime<Utc>,
}

/// Runs `f` and appends the audit event in the same transaction, so the access and its log
/// line are committed together or not at all. `f` may name the object it created. This is the
/// one place staff access to client data is logged, and the one place a purpose is required:
/// the `X-Cjg-Purpose` header of this request, or else the purpose the staff member stated for
/// this dossier within the purpose window.
async fn audited<T: Send + 'static>(
    state: &AppState,
    access: Access,
    f: impl FnOnce(&Tx<'_>, Ctx<'_>) -> AppResult<(T, Option<Uuid>)> + Send + 'static,
) -> AppResult<T> {
    let now = state.clock.now();
    state
        .db
        .call(move |c| {
            let tx = c.transaction()?;
            let (purpose, note) = match access.purpose.0 {
                Some(p) => (p, None),
                None => {
                    db::active_purpose(&tx, access.actor.id, access.dossier_id, now)?.ok_or_else(|| {
                        AppError::new(
                            ErrorCode::PurposeRequired,
                            "state why you open this dossier first: PUT /v1/staff/dossiers/{id}/purpose",
                        )
                    })?
                }
            };
            let (out, created) = f(&tx, Ctx { actor: &access.actor, now })?;
            let origin = access.origin.to_string();
            db::append_audit(
                &tx,
                &db::AuditRecord {
                    dossier_id: access.dossier_id,
                    actor: &access.actor,
                    action: access.action,
                    object_type: access.object.0,
                    object_id: access.object.1.or(created),
                    purpose,
                    purpose_note: note.as_deref(),
                    origin: &origin,
                    at: now,
                },
            )?;
            tx.commit()?;
            Ok(out)
        })
        .await
}

/// A logged read of a whole list of one dossier on the caller's caseload: `read` gets the
/// dossier id, and the audit line names `object`.
async fn read_dossier<T: Send + 'static>(
    state: &AppState,
    actor: StaffActor,
    origin: IpAddr,
    purpose: PurposeHeader,
    dossier_id: Uuid,
    object: &'static str,
    read: impl FnOnce(&dyn Query, Uuid) -> sql::Result<T> + Send + 'static,
) -> AppResult<Json<T>> {
    auth::require_caseload(state, actor.id, dossier_id).await?;
    let access =
        Access { actor, dossier_id, action: AuditAction::Read, object: (object, None), purpose, origin };
    let out = audited(state, access, move |tx, _| Ok((read(tx, dossier_id)?, None))).await?;
    Ok(Json(out))
}

/// The staff member's own caseload: which families they may open. Only family names, no
/// dossier content; opening one needs a purpose and is logged.
#[utoipa::path(get, path = "/v1/staff/dossiers",
    responses((status = 200, body = Vec<CaseloadDossier>), (status = 401, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn caseload(
    State(state): State<Arc<AppState>>,
    StaffAuth(actor): StaffAuth,
) -> AppResult<Json<Vec<CaseloadDossier>>> {
    Ok(Json(state.db.call(move |c| Ok(db::caseload(c, actor.id)?)).await?))
}

/// States why the staff member opens this dossier. It holds for the purpose window (30 minutes
/// unless configured); every access in that time is logged with it. The note is shown to the
/// family in Inzage.
#[utoipa::path(put, path = "/v1/staff/dossiers/{dossier_id}/purpose", request_body = PurposeRequest,
    params(("dossier_id" = Uuid, Path)),
    responses((status = 200, body = PurposeResponse), (status = 404, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn declare_purpose(
    State(state): State<Arc<AppState>>,
    StaffAuth(actor): StaffAuth,
    ApiPath(dossier_id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<PurposeRequest>,
) -> AppResult<Json<PurposeResponse>> {
    let note = req.note()?;
    auth::require_caseload(&state, actor.id, dossier_id).await?;
    let now = state.clock.now();
    let expires_at = now + state.purpose_window;
    let purpose = req.purpose;
    state
        .db
        .call(move |c| {
            Ok(db::open_purpose(c, actor.id, dossier_id, purpose, note.as_deref(), now, expires_at)?)
        })
        .await?;
    Ok(Json(PurposeResponse { purpose, expires_at }))
}

/// The family's feedback on the dossier's entries, oldest first.
#[utoipa::path(get, path = "/v1/staff/dossiers/{dossier_id}/feedback",
    params(("dossier_id" = Uuid, Path), ("X-Cjg-Purpose" = Option<String>, Header)),
    responses((status = 200, body = Vec<Feedback>), (status = 404, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn list_feedback(
    State(state): State<Arc<AppState>>,
    StaffAuth(actor): StaffAuth,
    Peer(ip): Peer,
    purpose: PurposeHeader,
    ApiPath(dossier_id): ApiPath<Uuid>,
) -> AppResult<Json<Vec<Feedback>>> {
    read_dossier(&state, actor, ip, purpose, dossier_id, "feedback", db::dossier_feedback).await
}

/// A coach answers feedback or marks it handled; a refused correction carries its reason.
#[utoipa::path(put, path = "/v1/staff/feedback/{feedback_id}", request_body = FeedbackAnswer,
    params(("feedback_id" = Uuid, Path), ("X-Cjg-Purpose" = Option<String>, Header)),
    responses((status = 200, body = Feedback), (status = 404, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn answer_feedback(
    State(state): State<Arc<AppState>>,
    StaffAuth(actor): StaffAuth,
    Peer(ip): Peer,
    purpose: PurposeHeader,
    ApiPath(feedback_id): ApiPath<Uuid>,
    ApiJson(answer): ApiJson<FeedbackAnswer>,
) -> AppResult<Json<Feedback>> {
    let answer = answer.validate()?;
    let dossier_id = state
        .db
        .call(move |c| Ok(db::feedback_dossier(c, feedback_id)?))
        .await?
        .ok_or_else(AppError::not_found)?;
    auth::require_caseload(&state, actor.id, dossier_id).await?;
    let f = audited(
        &state,
        Access {
            actor,
            dossier_id,
            action: AuditAction::Update,
            object: ("feedback", Some(feedback_id)),
            purpose,
            origin: ip,
        },
        move |tx, cx| Ok((db::answer_feedback(tx, feedback_id, cx.actor, &answer, cx.now)?, None)),
    )
    .await?;
    Ok(Json(f))
}

/// The dossier's access log, for staff of its caseload; reading it is itself logged.
#[utoipa::path(get, path = "/v1/staff/dossiers/{dossier_id}/audit",
    params(("dossier_id" = Uuid, Path), ("X-Cjg-Purpose" = Option<String>, Header)),
    responses((status = 200, body = Vec<AuditEvent>), (status = 403, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn audit_log(
    State(state): State<Arc<AppState>>,
    StaffAuth(actor): StaffAuth,
    Peer(ip): Peer,
    purpose: PurposeHeader,
    ApiPath(dossier_id): ApiPath<Uuid>,
) -> AppResult<Json<Vec<AuditEvent>>> {
    read_dossier(&state, actor, ip, purpose, dossier_id, "audit_log", |tx, id| {
        Ok(db::audit_log(tx, id)?.into_iter().map(|(e, _)| e).collect())
    })
    .await
}

#[utoipa::path(get, path = "/v1/staff/dossiers/{dossier_id}/entries",
    params(("dossier_id" = Uuid, Path), ("X-Cjg-Purpose" = Option<String>, Header)),
    responses((status = 200, body = Vec<Entry>), (status = 404, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn list_entries(
    State(state): State<Arc<AppState>>,
    StaffAuth(actor): StaffAuth,
    Peer(ip): Peer,
    purpose: PurposeHeader,
    ApiPath(dossier_id): ApiPath<Uuid>,
) -> AppResult<Json<Vec<Entry>>> {
    read_dossier(&state, actor, ip, purpose, dossier_id, "entries", db::dossier_entries).await
}

#[utoipa::path(post, path = "/v1/staff/dossiers/{dossier_id}/entries", request_body = EntryDraft,
    params(("dossier_id" = Uuid, Path), ("X-Cjg-Purpose" = Option<String>, Header)),
    responses((status = 201, body = Entry), (status = 400, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn create_entry(
    State(state): State<Arc<AppState>>,
    StaffAuth(actor): StaffAuth,
    Peer(ip): Peer,
    purpose: PurposeHeader,
    ApiPath(dossier_id): ApiPath<Uuid>,
    ApiJson(draft): ApiJson<EntryDraft>,
) -> AppResult<(StatusCode, Json<Entry>)> {
    let draft = draft.validate()?;
    auth::require_caseload(&state, actor.id, dossier_id).await?;
    let entry = audited(
        &state,
        Access {
            actor,
            dossier_id,
            action: AuditAction::Create,
            object: ("entry", None),
            purpose,
            origin: ip,
        },
        move |tx, cx| {
            let e = db::create_entry(tx, dossier_id, cx.actor, &draft, cx.now)?;
            let id = e.id;
            Ok((e, Some(id)))
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(entry)))
}

async fn entry_dossier_for(state: &AppState, actor: &StaffActor, entry_id: Uuid) -> AppResult<Uuid> {
    let dossier =
        state.db.call(move |c| Ok(db::entry_dossier(c, entry_id)?)).await?.ok_or_else(AppError::not_found)?;
    auth::require_caseload(state, actor.id, dossier).await?;
    Ok(dossier)
}

#[utoipa::path(put, path = "/v1/staff/entries/{entry_id}", request_body = EntryUpdate,
    params(("entry_id" = Uuid, Path), ("X-Cjg-Purpose" = Option<String>, Header)),
    responses((status = 200, body = Entry), (status = 409, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn update_entry(
    State(state): State<Arc<AppState>>,
    StaffAuth(actor): StaffAuth,
    Peer(ip): Peer,
    purpose: PurposeHeader,
    ApiPath(entry_id): ApiPath<Uuid>,
    ApiJson(update): ApiJson<EntryUpdate>,
) -> AppResult<Json<Entry>> {
    let draft = update.draft.validate()?;
    let dossier = entry_dossier_for(&state, &actor, entry_id).await?;
    let entry = audited(
        &state,
        Access {
            actor,
            dossier_id: dossier,
            action: AuditAction::Update,
            object: ("entry", Some(entry_id)),
            purpose,
            origin: ip,
        },
        move |tx, cx| {
            Ok((db::update_entry(tx, entry_id, update.expected_version, cx.actor, &draft, cx.now)?, None))
        },
    )
    .await?;
    Ok(Json(entry))
}

#[utoipa::path(delete, path = "/v1/staff/entries/{entry_id}",
    params(("entry_id" = Uuid, Path), ("X-Cjg-Purpose" = Option<String>, Header)),
    responses((status = 204), (status = 404, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn delete_entry(
    State(state): State<Arc<AppState>>,
    StaffAuth(actor): StaffAuth,
    Peer(ip): Peer,
    purpose: PurposeHeader,
    ApiPath(entry_id): ApiPath<Uuid>,
) -> AppResult<StatusCode> {
    let dossier = entry_dossier_for(&state, &actor, entry_id).await?;
    audited(
        &state,
        Access {
            actor,
            dossier_id: dossier,
            action: AuditAction::Delete,
            object: ("entry", Some(entry_id)),
            purpose,
            origin: ip,
        },
        move |tx, cx| {
            db::delete_entry(tx, entry_id, cx.now)?;
            Ok(((), None))
        },
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Makes a new activation code and stores only its hash.
/// Refuses people without own access (a child under 12): a code for them would be useless.
pub fn issue_activation_code(
    tx: &Tx<'_>,
    person_id: Uuid,
    created_by: &str,
    now: chrono::DateTime<Utc>,
) -> AppResult<(ActivationCode, chrono::DateTime<Utc>)> {
    if !db::has_own_access(tx, person_id, cjg_core::time::dutch_date(now))? {
        return Err(AppError::new(
            ErrorCode::Validation,
            "this person has no own access to the dossier yet (a child under 12)",
        ));
    }
    let random: [u8; ActivationCode::LEN] = cjg_crypto::random_array().map_err(AppError::internal)?;
    let code = ActivationCode::from_random(&random);
    let expires_at = now + ACTIVATION_CODE_TTL;
    db::insert_activation_code(
        tx,
        &cjg_crypto::sha256(code.canonical().as_bytes()),
        person_id,
        created_by,
        now,
        expires_at,
    )?;
    Ok((code, expires_at))
}

#[utoipa::path(post, path = "/v1/staff/people/{person_id}/activation-codes",
    params(("person_id" = Uuid, Path), ("X-Cjg-Purpose" = Option<String>, Header)),
    responses((status = 201, body = ActivationCodeResponse), (status = 404, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn create_activation_code(
    State(state): State<Arc<AppState>>,
    StaffAuth(actor): StaffAuth,
    Peer(ip): Peer,
    purpose: PurposeHeader,
    ApiPath(person_id): ApiPath<Uuid>,
) -> AppResult<(StatusCode, Json<ActivationCodeResponse>)> {
    let dossier = person_dossier_for(&state, &actor, person_id).await?;
    let (code, expires_at) = audited(
        &state,
        Access {
            actor,
            dossier_id: dossier,
            action: AuditAction::Create,
            object: ("activation_code", Some(person_id)),
            purpose,
            origin: ip,
        },
        move |tx, cx| Ok((issue_activation_code(tx, person_id, &cx.actor.id.to_string(), cx.now)?, None)),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(ActivationCodeResponse { code: code.display(), person_id, expires_at })))
}

async fn person_dossier_for(state: &AppState, actor: &StaffActor, person_id: Uuid) -> AppResult<Uuid> {
    let dossier = state
        .db
        .call(move |c| Ok(db::person_dossier(c, person_id)?))
        .await?
        .ok_or_else(AppError::not_found)?;
    auth::require_caseload(state, actor.id, dossier).await?;
    Ok(dossier)
}

/// A family member's devices, for a coach who helps them with a lost phone.
#[utoipa::path(get, path = "/v1/staff/people/{person_id}/devices",
    params(("person_id" = Uuid, Path), ("X-Cjg-Purpose" = Option<String>, Header)),
    responses((status = 200, body = Vec<DeviceInfo>), (status = 404, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn person_devices(
    State(state): State<Arc<AppState>>,
    StaffAuth(actor): StaffAuth,
    Peer(ip): Peer,
    purpose: PurposeHeader,
    ApiPath(person_id): ApiPath<Uuid>,
) -> AppResult<Json<Vec<DeviceInfo>>> {
    let dossier = person_dossier_for(&state, &actor, person_id).await?;
    let devices = audited(
        &state,
        Access {
            actor,
            dossier_id: dossier,
            action: AuditAction::Read,
            object: ("devices", Some(person_id)),
            purpose,
            origin: ip,
        },
        move |tx, _| Ok((db::person_devices(tx, person_id)?, None)),
    )
    .await?;
    Ok(Json(devices))
}

/// Revokes a family member's device (lost, stolen, shared): its next contact wipes it.
#[utoipa::path(delete, path = "/v1/staff/devices/{device_id}",
    params(("device_id" = Uuid, Path), ("X-Cjg-Purpose" = Option<String>, Header)),
    responses((status = 204), (status = 404, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn revoke_device(
    State(state): State<Arc<AppState>>,
    StaffAuth(actor): StaffAuth,
    Peer(ip): Peer,
    purpose: PurposeHeader,
    ApiPath(device_id): ApiPath<Uuid>,
) -> AppResult<StatusCode> {
    let owner =
        state.db.call(move |c| Ok(db::device_owner(c, device_id)?)).await?.ok_or_else(AppError::not_found)?;
    let dossier = person_dossier_for(&state, &actor, owner).await?;
    audited(
        &state,
        Access {
            actor,
            dossier_id: dossier,
            action: AuditAction::Update,
            object: ("device", Some(device_id)),
            purpose,
            origin: ip,
        },
        move |tx, cx| {
            db::revoke_device(tx, device_id, &format!("staff:{}", cx.actor.id), cx.now)?;
            Ok(((), None))
        },
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The dossier's questionnaires: whose, when due, and the answers once in.
#[utoipa::path(get, path = "/v1/staff/dossiers/{dossier_id}/questionnaires",
    params(("dossier_id" = Uuid, Path), ("X-Cjg-Purpose" = Option<String>, Header)),
    responses((status = 200, body = Vec<StaffQuestionnaire>), (status = 404, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn list_questionnaires(
    State(state): State<Arc<AppState>>,
    StaffAuth(actor): StaffAuth,
    Peer(ip): Peer,
    purpose: PurposeHeader,
    ApiPath(dossier_id): ApiPath<Uuid>,
) -> AppResult<Json<Vec<StaffQuestionnaire>>> {
    read_dossier(&state, actor, ip, purpose, dossier_id, "questionnaires", db::questionnaires::dossier_tasks)
        .await
}

/// A coach sends a questionnaire by hand, outside the schedule.
#[utoipa::path(post, path = "/v1/staff/dossiers/{dossier_id}/questionnaires", request_body = SendQuestionnaire,
    params(("dossier_id" = Uuid, Path), ("X-Cjg-Purpose" = Option<String>, Header)),
    responses((status = 201, body = QuestionnaireTask), (status = 409, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn send_questionnaire(
    State(state): State<Arc<AppState>>,
    StaffAuth(actor): StaffAuth,
    Peer(ip): Peer,
    purpose: PurposeHeader,
    ApiPath(dossier_id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<SendQuestionnaire>,
) -> AppResult<(StatusCode, Json<QuestionnaireTask>)> {
    auth::require_caseload(&state, actor.id, dossier_id).await?;
    let task = audited(
        &state,
        Access {
            actor,
            dossier_id,
            action: AuditAction::Create,
            object: ("questionnaire", None),
            purpose,
            origin: ip,
        },
        move |tx, cx| {
            let t = db::questionnaires::send_by_hand(tx, dossier_id, cx.actor, &req, cx.now)?;
            let id = t.id;
            Ok((t, Some(id)))
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(task)))
}

/// Sets the trajectory's start and closing dates and where it counts in the report; the
/// questionnaires those dates ask for are made at once.
#[utoipa::path(put, path = "/v1/staff/dossiers/{dossier_id}/trajectory", request_body = TrajectoryUpdate,
    params(("dossier_id" = Uuid, Path), ("X-Cjg-Purpose" = Option<String>, Header)),
    responses((status = 200, body = Vec<StaffQuestionnaire>), (status = 400, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn set_trajectory(
    State(state): State<Arc<AppState>>,
    StaffAuth(actor): StaffAuth,
    Peer(ip): Peer,
    purpose: PurposeHeader,
    ApiPath(dossier_id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<TrajectoryUpdate>,
) -> AppResult<Json<Vec<StaffQuestionnaire>>> {
    let req = req.validate()?;
    auth::require_caseload(&state, actor.id, dossier_id).await?;
    let list = audited(
        &state,
        Access {
            actor,
            dossier_id,
            action: AuditAction::Update,
            object: ("trajectory", Some(dossier_id)),
            purpose,
            origin: ip,
        },
        move |tx, cx| {
            db::questionnaires::set_trajectory(tx, dossier_id, &req)?;
            db::questionnaires::refresh_tasks(tx, dossier_id, cx.now)?;
            Ok((db::questionnaires::dossier_tasks(tx, dossier_id)?, None))
        },
    )
    .await?;
    Ok(Json(list))
}

/// Staff roles that may read the indicator report. Coaches cannot: it covers other teams.
pub const REPORT_ROLES: [&str; 3] = ["Kwaliteitsmedewerker", "Manager", "Functioneel beheerder"];

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// `2026-H1` or `2026-Q3`.
    pub period: String,
    /// `json` (default), `csv` or `html`.
    pub format: Option<String>,
}

/// Loads the report for `period` and the same period a year earlier.
pub fn indicator_report(conn: &dyn Query, period: Period) -> AppResult<IndicatorReport> {
    let (from, to) = (period.year_earlier().first_day(), period.last_day());
    let records = db::questionnaires::closing_records(conn, from, to)?;
    Ok(indicators::build(period, &records))
}

/// The indicator report of the performance plan: aggregated, small groups suppressed, so it
/// holds no client data and is not logged per dossier.
#[utoipa::path(get, path = "/v1/staff/reports/indicators", params(ReportQuery),
    responses((status = 200, body = IndicatorReport), (status = 400, body = cjg_core::ApiError),
        (status = 403, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn report(
    State(state): State<Arc<AppState>>,
    StaffAuth(actor): StaffAuth,
    // Taken as a result so a caller without the role hears "forbidden" whatever the query.
    query: Result<crate::error::ApiQuery<ReportQuery>, AppError>,
) -> AppResult<axum::response::Response> {
    use axum::response::IntoResponse;
    if !REPORT_ROLES.contains(&actor.role.as_str()) {
        return Err(AppError::new(ErrorCode::Forbidden, "this report is for quality staff and managers"));
    }
    let crate::error::ApiQuery(q) = query?;
    let period = Period::parse(&q.period).map_err(|e| AppError::new(ErrorCode::Validation, e.to_string()))?;
    let format = q.format.unwrap_or_else(|| "json".into());
    if !["json", "csv", "html"].contains(&format.as_str()) {
        return Err(AppError::new(ErrorCode::Validation, "format is json, csv or html"));
    }
    let today = state.clock.today();
    let report = state.db.call(move |c| indicator_report(c, period)).await?;
    let text =
        |mime: &'static str, body: String| ([(axum::http::header::CONTENT_TYPE, mime)], body).into_response();
    Ok(match format.as_str() {
        "csv" => text("text/csv; charset=utf-8", indicators::to_csv(&report)),
        "html" => text("text/html; charset=utf-8", indicators::to_html(&report, today)),
        _ => Json(report).into_response(),
    })
}

/// Asks a family member to read an entry and react; it shows as a task in their app until they do.
#[utoipa::path(post, path = "/v1/staff/entries/{entry_id}/feedback-requests", request_body = FeedbackRequestDraft,
    params(("entry_id" = Uuid, Path), ("X-Cjg-Purpose" = Option<String>, Header)),
    responses((status = 201, body = FeedbackRequest), (status = 400, body = cjg_core::ApiError),
        (status = 409, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn request_feedback(
    State(state): State<Arc<AppState>>,
    StaffAuth(actor): StaffAuth,
    Peer(ip): Peer,
    purpose: PurposeHeader,
    ApiPath(entry_id): ApiPath<Uuid>,
    ApiJson(draft): ApiJson<FeedbackRequestDraft>,
) -> AppResult<(StatusCode, Json<FeedbackRequest>)> {
    let draft = draft.validate()?;
    let dossier = entry_dossier_for(&state, &actor, entry_id).await?;
    let request = audited(
        &state,
        Access {
            actor,
            dossier_id: dossier,
            action: AuditAction::Create,
            object: ("feedback_request", None),
            purpose,
            origin: ip,
        },
        move |tx, cx| {
            let r = db::request_feedback(tx, entry_id, cx.actor, &draft, cx.now)?;
            let id = r.id;
            Ok((r, Some(id)))
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(request)))
}

// ---- Informatie ---------------------------------------------------------------------------

fn require_editor(actor: &StaffActor) -> AppResult<()> {
    if db::articles::EDITOR_ROLES.contains(&actor.role.as_str()) {
        Ok(())
    } else {
        Err(AppError::new(
            ErrorCode::Forbidden,
            "only an editor (gedragswetenschapper) approves or withdraws",
        ))
    }
}

/// Every article and revision with its status, for authors and editors. Not client data.
#[utoipa::path(get, path = "/v1/staff/articles",
    responses((status = 200, body = Vec<StaffArticle>)), security(("bearer" = [])))]
pub async fn list_articles(
    State(state): State<Arc<AppState>>,
    StaffAuth(_actor): StaffAuth,
) -> AppResult<Json<Vec<StaffArticle>>> {
    Ok(Json(state.db.call(|c| Ok(db::articles::staff_articles(c)?)).await?))
}

/// Any staff member may write a draft; families see nothing of it until an editor approves.
#[utoipa::path(post, path = "/v1/staff/articles", request_body = ArticleDraft,
    responses((status = 201, body = Vec<StaffArticle>), (status = 400, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn create_article(
    State(state): State<Arc<AppState>>,
    StaffAuth(actor): StaffAuth,
    ApiJson(draft): ApiJson<ArticleDraft>,
) -> AppResult<(StatusCode, Json<Vec<StaffArticle>>)> {
    let draft = draft.validate()?;
    let now = state.clock.now();
    let list = state
        .db
        .call(move |c| {
            let tx = c.transaction()?;
            let id = db::articles::create_article(&tx, &actor, &draft, now)?;
            tx.commit()?;
            Ok(db::articles::staff_articles(c)?.into_iter().filter(|a| a.id == id).collect())
        })
        .await?;
    Ok((StatusCode::CREATED, Json(list)))
}

/// A new text for an article: a new draft revision (the published one stays until approved).
#[utoipa::path(put, path = "/v1/staff/articles/{article_id}", request_body = ArticleDraft,
    params(("article_id" = Uuid, Path)),
    responses((status = 200, body = Vec<StaffArticle>), (status = 404, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn revise_article(
    State(state): State<Arc<AppState>>,
    StaffAuth(actor): StaffAuth,
    ApiPath(article_id): ApiPath<Uuid>,
    ApiJson(draft): ApiJson<ArticleDraft>,
) -> AppResult<Json<Vec<StaffArticle>>> {
    let draft = draft.validate()?;
    let now = state.clock.now();
    let list = state
        .db
        .call(move |c| {
            let tx = c.transaction()?;
            db::articles::revise_article(&tx, article_id, &actor, &draft, now)?;
            tx.commit()?;
            Ok(db::articles::staff_articles(c)?.into_iter().filter(|a| a.id == article_id).collect())
        })
        .await?;
    Ok(Json(list))
}

/// An editor approves a revision someone else wrote; it reaches families with the next sync.
#[utoipa::path(post, path = "/v1/staff/articles/{article_id}/approve", request_body = ApproveRequest,
    params(("article_id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = cjg_core::ApiError), (status = 409, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn approve_article(
    State(state): State<Arc<AppState>>,
    StaffAuth(actor): StaffAuth,
    ApiPath(article_id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<ApproveRequest>,
) -> AppResult<StatusCode> {
    require_editor(&actor)?;
    let now = state.clock.now();
    state
        .db
        .call(move |c| {
            let tx = c.transaction()?;
            db::articles::approve(&tx, article_id, req.revision, &actor, now)?;
            tx.commit()?;
            Ok(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Takes an article away from families; tips that point to it no longer show it.
#[utoipa::path(post, path = "/v1/staff/articles/{article_id}/withdraw",
    params(("article_id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = cjg_core::ApiError), (status = 409, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn withdraw_article(
    State(state): State<Arc<AppState>>,
    StaffAuth(actor): StaffAuth,
    ApiPath(article_id): ApiPath<Uuid>,
) -> AppResult<StatusCode> {
    require_editor(&actor)?;
    let now = state.clock.now();
    state
        .db
        .call(move |c| {
            let tx = c.transaction()?;
            db::articles::withdraw(&tx, article_id, &actor, now)?;
            tx.commit()?;
            Ok(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A coach sets a reading tip for a family member: now, or for a later phase.
#[utoipa::path(post, path = "/v1/staff/dossiers/{dossier_id}/tips", request_body = TipDraft,
    params(("dossier_id" = Uuid, Path), ("X-Cjg-Purpose" = Option<String>, Header)),
    responses((status = 201, body = ReadingTip), (status = 400, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn create_tip(
    State(state): State<Arc<AppState>>,
    StaffAuth(actor): StaffAuth,
    Peer(ip): Peer,
    purpose: PurposeHeader,
    ApiPath(dossier_id): ApiPath<Uuid>,
    ApiJson(draft): ApiJson<TipDraft>,
) -> AppResult<(StatusCode, Json<ReadingTip>)> {
    let draft = draft.validate()?;
    auth::require_caseload(&state, actor.id, dossier_id).await?;
    let tip = audited(
        &state,
        Access {
            actor,
            dossier_id,
            action: AuditAction::Create,
            object: ("reading_tip", None),
            purpose,
            origin: ip,
        },
        move |tx, cx| {
            let t = db::articles::create_tip(tx, dossier_id, cx.actor, &draft, cx.now)?;
            let id = t.id;
            Ok((t, Some(id)))
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(tip)))
}

/// The dossier's reading tips: for whom, shown yet, read yet, article still there.
#[utoipa::path(get, path = "/v1/staff/dossiers/{dossier_id}/tips",
    params(("dossier_id" = Uuid, Path), ("X-Cjg-Purpose" = Option<String>, Header)),
    responses((status = 200, body = Vec<StaffTip>), (status = 404, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn list_tips(
    State(state): State<Arc<AppState>>,
    StaffAuth(actor): StaffAuth,
    Peer(ip): Peer,
    purpose: PurposeHeader,
    ApiPath(dossier_id): ApiPath<Uuid>,
) -> AppResult<Json<Vec<StaffTip>>> {
    read_dossier(&state, actor, ip, purpose, dossier_id, "reading_tips", db::articles::dossier_tips).await
}

/// The family members of a dossier: for whom a coach sets a tip or answers a message.
#[utoipa::path(get, path = "/v1/staff/dossiers/{dossier_id}/people",
    params(("dossier_id" = Uuid, Path), ("X-Cjg-Purpose" = Option<String>, Header)),
    responses((status = 200, body = Vec<Person>), (status = 404, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn list_people(
    State(state): State<Arc<AppState>>,
    StaffAuth(actor): StaffAuth,
    Peer(ip): Peer,
    purpose: PurposeHeader,
    ApiPath(dossier_id): ApiPath<Uuid>,
) -> AppResult<Json<Vec<Person>>> {
    read_dossier(&state, actor, ip, purpose, dossier_id, "people", db::dossier_people).await
}

// ---- Berichten ----------------------------------------------------------------------------

/// Every family member's conversation in the dossier, oldest first. Reading is logged, and
/// marks the family's messages as read.
#[utoipa::path(get, path = "/v1/staff/dossiers/{dossier_id}/messages",
    params(("dossier_id" = Uuid, Path), ("X-Cjg-Purpose" = Option<String>, Header)),
    responses((status = 200, body = Vec<cjg_core::message::Message>), (status = 404, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn list_messages(
    State(state): State<Arc<AppState>>,
    StaffAuth(actor): StaffAuth,
    Peer(ip): Peer,
    purpose: PurposeHeader,
    ApiPath(dossier_id): ApiPath<Uuid>,
) -> AppResult<Json<Vec<cjg_core::message::Message>>> {
    auth::require_caseload(&state, actor.id, dossier_id).await?;
    let list = audited(
        &state,
        Access {
            actor,
            dossier_id,
            action: AuditAction::Read,
            object: ("messages", None),
            purpose,
            origin: ip,
        },
        move |tx, cx| Ok((db::messages::read_by_coach(tx, dossier_id, cx.now)?, None)),
    )
    .await?;
    Ok(Json(list))
}

/// A coach writes to one family member; it reaches their app by sync.
#[utoipa::path(post, path = "/v1/staff/people/{person_id}/messages", request_body = cjg_core::message::StaffMessageDraft,
    params(("person_id" = Uuid, Path), ("X-Cjg-Purpose" = Option<String>, Header)),
    responses((status = 201, body = cjg_core::message::Message), (status = 400, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn send_message(
    State(state): State<Arc<AppState>>,
    StaffAuth(actor): StaffAuth,
    Peer(ip): Peer,
    purpose: PurposeHeader,
    ApiPath(person_id): ApiPath<Uuid>,
    ApiJson(draft): ApiJson<cjg_core::message::StaffMessageDraft>,
) -> AppResult<(StatusCode, Json<cjg_core::message::Message>)> {
    let text = cjg_core::message::MessageDraft { id: Uuid::nil(), text: draft.text }.validate()?.text;
    let dossier = person_dossier_for(&state, &actor, person_id).await?;
    let message = audited(
        &state,
        Access {
            actor,
            dossier_id: dossier,
            action: AuditAction::Create,
            object: ("message", None),
            purpose,
            origin: ip,
        },
        move |tx, cx| {
            let m = db::messages::send_from_coach(tx, dossier, person_id, cx.actor, &text, cx.now)?;
            let id = m.id;
            Ok((m, Some(id)))
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(message)))
}
