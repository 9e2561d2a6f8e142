//! Berichten for staff: each family member's conversation with the coach.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use cjg_core::audit::{AuditAction, AuditObject};
use cjg_core::message::{Message, MessageDraft, StaffMessageDraft};
use uuid::Uuid;

use super::{person_dossier, Created, StaffCall};
use crate::db;
use crate::error::{ApiJson, ApiPath, AppResult};
use crate::AppState;

impl Created for Message {
    fn created_id(&self) -> Uuid {
        self.id
    }
}

/// Every family member's conversation in the dossier, oldest first. Reading is logged, and
/// marks the family's messages as read.
#[utoipa::path(get, path = "/v1/staff/dossiers/{dossier_id}/messages",
    params(("dossier_id" = Uuid, Path), ("X-Cjg-Purpose" = Option<String>, Header)),
    responses((status = 200, body = Vec<Message>), (status = 404, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn list_messages(
    State(state): State<Arc<AppState>>,
    call: StaffCall,
    ApiPath(dossier_id): ApiPath<Uuid>,
) -> AppResult<Json<Vec<Message>>> {
    let list = call
        .write_dossier(&state, dossier_id, AuditAction::Read, (AuditObject::Messages, None), move |tx, cx| {
            Ok(db::messages::read_by_coach(tx, dossier_id, cx.now)?)
        })
        .await?;
    Ok(Json(list))
}

/// A coach writes to one family member; it reaches their app by sync.
#[utoipa::path(post, path = "/v1/staff/people/{person_id}/messages", request_body = StaffMessageDraft,
    params(("person_id" = Uuid, Path), ("X-Cjg-Purpose" = Option<String>, Header)),
    responses((status = 201, body = Message), (status = 400, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn send_message(
    State(state): State<Arc<AppState>>,
    call: StaffCall,
    ApiPath(person_id): ApiPath<Uuid>,
    ApiJson(draft): ApiJson<StaffMessageDraft>,
) -> AppResult<(StatusCode, Json<Message>)> {
    let text = MessageDraft { id: Uuid::nil(), text: draft.text }.validate()?.text;
    let dossier = person_dossier(&state, person_id).await?;
    let message = call
        .create_in_dossier(&state, dossier, AuditObject::Message, move |tx, cx| {
            Ok(db::messages::send_from_coach(tx, dossier, person_id, cx.actor, &text, cx.now)?)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(message)))
}
