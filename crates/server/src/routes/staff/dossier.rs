//! A coach's dossiers: the caseload, the stated purpose, entries, the family members, their
//! activation codes and devices, and the dossier's own access log.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use cjg_core::api::{
    ActivationCodeResponse, CaseloadDossier, DeleteEntryRequest, DeviceInfo, EntryUpdate, ListPage,
};
use cjg_core::audit::{AuditAction, AuditEvent, AuditObject, PurposeRequest, PurposeResponse};
use cjg_core::entry::{self, EntryDraft, EntryVersion};
use cjg_core::{Entry, ErrorCode, Person};
use uuid::Uuid;

use super::{any_entry_dossier, entry_dossier, person_dossier, Created, Ctx, Paged, StaffCall};
use crate::auth::{self, StaffAuth};
use crate::db;
use crate::error::{ApiJson, ApiPath, ApiQuery, AppError, AppResult};
use crate::{service, AppState};

impl Created for Entry {
    fn created_id(&self) -> Uuid {
        self.id
    }
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
    Ok(Json(state.db.call(move |c| Ok(db::staff::caseload(c, actor.id)?)).await?))
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
            Ok(db::audit::open_purpose(c, actor.id, dossier_id, purpose, note.as_deref(), now, expires_at)?)
        })
        .await?;
    Ok(Json(PurposeResponse { purpose, expires_at }))
}

/// The dossier's access log in chain order, in pages, for staff of its caseload; reading it
/// is itself logged.
#[utoipa::path(get, path = "/v1/staff/dossiers/{dossier_id}/audit",
    params(("dossier_id" = Uuid, Path), ("offset" = Option<u32>, Query), ("limit" = Option<u32>, Query),
        ("X-Cjg-Purpose" = Option<String>, Header)),
    responses((status = 200, body = Vec<AuditEvent>,
            headers(("X-Cjg-Next-Offset" = u32, description = "Where the next page starts; absent on the last"))),
        (status = 403, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn audit_log(
    State(state): State<Arc<AppState>>,
    call: StaffCall,
    ApiPath(dossier_id): ApiPath<Uuid>,
    ApiQuery(page): ApiQuery<ListPage>,
) -> AppResult<Paged<AuditEvent>> {
    call.read_dossier_page(&state, dossier_id, AuditObject::AuditLog, page, |c, id, window| {
        Ok(db::audit::audit_log_window(c, id, window)?.into_iter().map(|(e, _)| e).collect())
    })
    .await
}

/// The dossier's entries, newest first, in pages.
#[utoipa::path(get, path = "/v1/staff/dossiers/{dossier_id}/entries",
    params(("dossier_id" = Uuid, Path), ("offset" = Option<u32>, Query), ("limit" = Option<u32>, Query),
        ("X-Cjg-Purpose" = Option<String>, Header)),
    responses((status = 200, body = Vec<Entry>,
            headers(("X-Cjg-Next-Offset" = u32, description = "Where the next page starts; absent on the last"))),
        (status = 404, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn list_entries(
    State(state): State<Arc<AppState>>,
    call: StaffCall,
    ApiPath(dossier_id): ApiPath<Uuid>,
    ApiQuery(page): ApiQuery<ListPage>,
) -> AppResult<Paged<Entry>> {
    call.read_dossier_page(&state, dossier_id, AuditObject::Entries, page, db::entries::dossier_entries).await
}

#[utoipa::path(post, path = "/v1/staff/dossiers/{dossier_id}/entries", request_body = EntryDraft,
    params(("dossier_id" = Uuid, Path), ("X-Cjg-Purpose" = Option<String>, Header)),
    responses((status = 201, body = Entry), (status = 400, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn create_entry(
    State(state): State<Arc<AppState>>,
    call: StaffCall,
    ApiPath(dossier_id): ApiPath<Uuid>,
    ApiJson(draft): ApiJson<EntryDraft>,
) -> AppResult<(StatusCode, Json<Entry>)> {
    let draft = draft.validate()?;
    let entry = call
        .create_in_dossier(&state, dossier_id, AuditObject::Entry, move |tx, cx| {
            Ok(db::entries::create_entry(tx, dossier_id, cx.actor, &draft, cx.now)?)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(entry)))
}

/// One entry, whoever in the family may read it (a logged read of that entry).
#[utoipa::path(get, path = "/v1/staff/entries/{entry_id}",
    params(("entry_id" = Uuid, Path), ("X-Cjg-Purpose" = Option<String>, Header)),
    responses((status = 200, body = Entry), (status = 404, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn read_entry(
    State(state): State<Arc<AppState>>,
    call: StaffCall,
    ApiPath(entry_id): ApiPath<Uuid>,
) -> AppResult<Json<Entry>> {
    let dossier = entry_dossier(&state, entry_id).await?;
    let entry = call
        .write_dossier(
            &state,
            dossier,
            AuditAction::Read,
            (AuditObject::Entry, Some(entry_id)),
            move |tx, _| db::entries::current_entry(tx, entry_id)?.ok_or_else(AppError::not_found),
        )
        .await?;
    Ok(Json(entry))
}

/// Who changes an entry, when, under which purpose and why (the reason given, else the
/// purpose's note): kept with the version the change replaces.
fn change<'a>(cx: &Ctx<'a>, reason: Option<&'a str>) -> db::entries::Change<'a> {
    db::entries::Change { by: cx.actor, at: cx.now, purpose: cx.purpose, reason: reason.or(cx.purpose_note) }
}

/// A change keeps the version it replaces in the entry's history.
#[utoipa::path(put, path = "/v1/staff/entries/{entry_id}", request_body = EntryUpdate,
    params(("entry_id" = Uuid, Path), ("X-Cjg-Purpose" = Option<String>, Header)),
    responses((status = 200, body = Entry), (status = 409, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn update_entry(
    State(state): State<Arc<AppState>>,
    call: StaffCall,
    ApiPath(entry_id): ApiPath<Uuid>,
    ApiJson(update): ApiJson<EntryUpdate>,
) -> AppResult<Json<Entry>> {
    let draft = update.draft.validate()?;
    let reason = entry::change_reason(update.reason.as_deref())?;
    let dossier = entry_dossier(&state, entry_id).await?;
    let entry = call
        .write_dossier(
            &state,
            dossier,
            AuditAction::Update,
            (AuditObject::Entry, Some(entry_id)),
            move |tx, cx| {
                let change = change(&cx, reason.as_deref());
                Ok(db::entries::update_entry(tx, entry_id, update.expected_version, &draft, &change)?)
            },
        )
        .await?;
    Ok(Json(entry))
}

/// The family's devices drop the entry; its last text stays in the entry's history. An
/// optional JSON body gives the reason.
#[utoipa::path(delete, path = "/v1/staff/entries/{entry_id}",
    request_body(content = Option<DeleteEntryRequest>, description = "Optional: why the entry goes"),
    params(("entry_id" = Uuid, Path), ("X-Cjg-Purpose" = Option<String>, Header)),
    responses((status = 204), (status = 404, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn delete_entry(
    State(state): State<Arc<AppState>>,
    call: StaffCall,
    ApiPath(entry_id): ApiPath<Uuid>,
    body: axum::body::Bytes,
) -> AppResult<StatusCode> {
    let req: DeleteEntryRequest = if body.is_empty() {
        DeleteEntryRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|_| AppError::new(ErrorCode::MalformedJson, "the body is not {\"reason\": \"...\"}"))?
    };
    let reason = entry::change_reason(req.reason.as_deref())?;
    let dossier = entry_dossier(&state, entry_id).await?;
    call.write_dossier(
        &state,
        dossier,
        AuditAction::Delete,
        (AuditObject::Entry, Some(entry_id)),
        move |tx, cx| Ok(db::entries::delete_entry(tx, entry_id, &change(&cx, reason.as_deref()))?),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The earlier versions of an entry, newest first, also of a deleted one: what it said, who
/// wrote it, and who changed it, when and why. Reading it is logged as a read of the entry.
#[utoipa::path(get, path = "/v1/staff/entries/{entry_id}/history",
    params(("entry_id" = Uuid, Path), ("X-Cjg-Purpose" = Option<String>, Header)),
    responses((status = 200, body = Vec<EntryVersion>), (status = 404, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn entry_history(
    State(state): State<Arc<AppState>>,
    call: StaffCall,
    ApiPath(entry_id): ApiPath<Uuid>,
) -> AppResult<Json<Vec<EntryVersion>>> {
    let dossier = any_entry_dossier(&state, entry_id).await?;
    let history = call
        .write_dossier(
            &state,
            dossier,
            AuditAction::Read,
            (AuditObject::Entry, Some(entry_id)),
            move |tx, _| Ok(db::entries::entry_history(tx, entry_id)?),
        )
        .await?;
    Ok(Json(history))
}

/// The family members of a dossier: for whom a coach sets a tip or answers a message.
#[utoipa::path(get, path = "/v1/staff/dossiers/{dossier_id}/people",
    params(("dossier_id" = Uuid, Path), ("X-Cjg-Purpose" = Option<String>, Header)),
    responses((status = 200, body = Vec<Person>), (status = 404, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn list_people(
    State(state): State<Arc<AppState>>,
    call: StaffCall,
    ApiPath(dossier_id): ApiPath<Uuid>,
) -> AppResult<Json<Vec<Person>>> {
    call.read_dossier(&state, dossier_id, AuditObject::People, db::people::dossier_people).await
}

#[utoipa::path(post, path = "/v1/staff/people/{person_id}/activation-codes",
    params(("person_id" = Uuid, Path), ("X-Cjg-Purpose" = Option<String>, Header)),
    responses((status = 201, body = ActivationCodeResponse), (status = 404, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn create_activation_code(
    State(state): State<Arc<AppState>>,
    call: StaffCall,
    ApiPath(person_id): ApiPath<Uuid>,
) -> AppResult<(StatusCode, Json<ActivationCodeResponse>)> {
    let dossier = person_dossier(&state, person_id).await?;
    let object = (AuditObject::ActivationCode, Some(person_id));
    let (code, expires_at) = call
        .write_dossier(&state, dossier, AuditAction::Create, object, move |tx, cx| {
            service::issue_activation_code(tx, person_id, &cx.actor.id.to_string(), cx.now)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(ActivationCodeResponse { code: code.display(), person_id, expires_at })))
}

/// A family member's devices, for a coach who helps them with a lost phone.
#[utoipa::path(get, path = "/v1/staff/people/{person_id}/devices",
    params(("person_id" = Uuid, Path), ("X-Cjg-Purpose" = Option<String>, Header)),
    responses((status = 200, body = Vec<DeviceInfo>), (status = 404, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn person_devices(
    State(state): State<Arc<AppState>>,
    call: StaffCall,
    ApiPath(person_id): ApiPath<Uuid>,
) -> AppResult<Json<Vec<DeviceInfo>>> {
    let dossier = person_dossier(&state, person_id).await?;
    let devices = call
        .write_dossier(
            &state,
            dossier,
            AuditAction::Read,
            (AuditObject::Devices, Some(person_id)),
            move |tx, _| Ok(db::devices::person_devices(tx, person_id)?),
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
    call: StaffCall,
    ApiPath(device_id): ApiPath<Uuid>,
) -> AppResult<StatusCode> {
    let owner = state
        .db
        .call(move |c| Ok(db::devices::device_owner(c, device_id)?))
        .await?
        .ok_or_else(AppError::not_found)?;
    let dossier = person_dossier(&state, owner).await?;
    call.write_dossier(
        &state,
        dossier,
        AuditAction::Update,
        (AuditObject::Device, Some(device_id)),
        move |tx, cx| {
            Ok(db::devices::revoke_device(tx, device_id, &format!("staff:{}", cx.actor.id), cx.now)?)
        },
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
