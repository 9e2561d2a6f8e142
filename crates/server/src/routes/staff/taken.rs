//! The family's tasks seen from the coach's side: feedback on entries and the requests for it,
//! questionnaires and the trajectory dates that schedule them.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use cjg_core::api::ListPage;
use cjg_core::audit::{AuditAction, AuditObject};
use cjg_core::feedback::{Feedback, FeedbackAnswer, FeedbackRequest, FeedbackRequestDraft};
use cjg_core::questionnaire::{QuestionnaireTask, SendQuestionnaire, StaffQuestionnaire, TrajectoryUpdate};
use uuid::Uuid;

use super::{entry_dossier, Created, Paged, StaffCall};
use crate::db;
use crate::error::{ApiJson, ApiPath, ApiQuery, AppError, AppResult};
use crate::AppState;

impl Created for FeedbackRequest {
    fn created_id(&self) -> Uuid {
        self.id
    }
}

impl Created for QuestionnaireTask {
    fn created_id(&self) -> Uuid {
        self.id
    }
}

/// The family's feedback on the dossier's entries, oldest first, in pages.
#[utoipa::path(get, path = "/v1/staff/dossiers/{dossier_id}/feedback",
    params(("dossier_id" = Uuid, Path), ("offset" = Option<u32>, Query), ("limit" = Option<u32>, Query),
        ("X-Cjg-Purpose" = Option<String>, Header)),
    responses((status = 200, body = Vec<Feedback>,
            headers(("X-Cjg-Next-Offset" = u32, description = "Where the next page starts; absent on the last"))),
        (status = 404, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn list_feedback(
    State(state): State<Arc<AppState>>,
    call: StaffCall,
    ApiPath(dossier_id): ApiPath<Uuid>,
    ApiQuery(page): ApiQuery<ListPage>,
) -> AppResult<Paged<Feedback>> {
    call.read_dossier_page(&state, dossier_id, AuditObject::Feedback, page, db::feedback::dossier_feedback)
        .await
}

/// A coach answers feedback or marks it handled; a refused correction carries its reason.
#[utoipa::path(put, path = "/v1/staff/feedback/{feedback_id}", request_body = FeedbackAnswer,
    params(("feedback_id" = Uuid, Path), ("X-Cjg-Purpose" = Option<String>, Header)),
    responses((status = 200, body = Feedback), (status = 404, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn answer_feedback(
    State(state): State<Arc<AppState>>,
    call: StaffCall,
    ApiPath(feedback_id): ApiPath<Uuid>,
    ApiJson(answer): ApiJson<FeedbackAnswer>,
) -> AppResult<Json<Feedback>> {
    let answer = answer.validate()?;
    let dossier_id = state
        .db
        .call(move |c| Ok(db::feedback::feedback_dossier(c, feedback_id)?))
        .await?
        .ok_or_else(AppError::not_found)?;
    let object = (AuditObject::Feedback, Some(feedback_id));
    let f = call
        .write_dossier(&state, dossier_id, AuditAction::Update, object, move |tx, cx| {
            Ok(db::feedback::answer_feedback(tx, feedback_id, cx.actor, &answer, cx.now)?)
        })
        .await?;
    crate::fhir::notify::changed(&state, dossier_id, "Communication");
    Ok(Json(f))
}

/// Asks a family member to read an entry and react; it shows as a task in their app until they do.
#[utoipa::path(post, path = "/v1/staff/entries/{entry_id}/feedback-requests", request_body = FeedbackRequestDraft,
    params(("entry_id" = Uuid, Path), ("X-Cjg-Purpose" = Option<String>, Header)),
    responses((status = 201, body = FeedbackRequest), (status = 400, body = cjg_core::ApiError),
        (status = 409, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn request_feedback(
    State(state): State<Arc<AppState>>,
    call: StaffCall,
    ApiPath(entry_id): ApiPath<Uuid>,
    ApiJson(draft): ApiJson<FeedbackRequestDraft>,
) -> AppResult<(StatusCode, Json<FeedbackRequest>)> {
    let draft = draft.validate()?;
    let dossier = entry_dossier(&state, entry_id).await?;
    let request = call
        .create_in_dossier(&state, dossier, AuditObject::FeedbackRequest, move |tx, cx| {
            Ok(db::feedback::request_feedback(tx, entry_id, cx.actor, &draft, cx.now)?)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(request)))
}

/// The dossier's questionnaires: whose, when due, and the answers once in.
#[utoipa::path(get, path = "/v1/staff/dossiers/{dossier_id}/questionnaires",
    params(("dossier_id" = Uuid, Path), ("X-Cjg-Purpose" = Option<String>, Header)),
    responses((status = 200, body = Vec<StaffQuestionnaire>), (status = 404, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn list_questionnaires(
    State(state): State<Arc<AppState>>,
    call: StaffCall,
    ApiPath(dossier_id): ApiPath<Uuid>,
) -> AppResult<Json<Vec<StaffQuestionnaire>>> {
    call.read_dossier(&state, dossier_id, AuditObject::Questionnaires, db::questionnaires::dossier_tasks)
        .await
}

/// A coach sends a questionnaire by hand, outside the schedule.
#[utoipa::path(post, path = "/v1/staff/dossiers/{dossier_id}/questionnaires", request_body = SendQuestionnaire,
    params(("dossier_id" = Uuid, Path), ("X-Cjg-Purpose" = Option<String>, Header)),
    responses((status = 201, body = QuestionnaireTask), (status = 409, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn send_questionnaire(
    State(state): State<Arc<AppState>>,
    call: StaffCall,
    ApiPath(dossier_id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<SendQuestionnaire>,
) -> AppResult<(StatusCode, Json<QuestionnaireTask>)> {
    let task = call
        .create_in_dossier(&state, dossier_id, AuditObject::Questionnaire, move |tx, cx| {
            Ok(db::questionnaires::send_by_hand(tx, dossier_id, cx.actor, &req, cx.now)?)
        })
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
    call: StaffCall,
    ApiPath(dossier_id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<TrajectoryUpdate>,
) -> AppResult<Json<Vec<StaffQuestionnaire>>> {
    let req = req.validate()?;
    let object = (AuditObject::Trajectory, Some(dossier_id));
    let list = call
        .write_dossier(&state, dossier_id, AuditAction::Update, object, move |tx, cx| {
            db::questionnaires::set_trajectory(tx, dossier_id, &req)?;
            db::questionnaires::refresh_tasks(tx, dossier_id, cx.now)?;
            Ok(db::questionnaires::dossier_tasks(tx, dossier_id)?)
        })
        .await?;
    Ok(Json(list))
}
