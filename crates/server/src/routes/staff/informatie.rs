//! Informatie for staff: articles (written by anyone, approved by an editor, never by their
//! author) and the reading tips a coach sets for a family member.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use cjg_core::article::{ApproveRequest, ArticleDraft, ReadingTip, StaffArticle, StaffTip, TipDraft};
use cjg_core::audit::AuditObject;
use cjg_core::staff::ApprovalRefused;
use uuid::Uuid;

use super::{Created, StaffCall};
use crate::auth::StaffAuth;
use crate::db::{self, StaffActor};
use crate::error::{ApiJson, ApiPath, AppResult};
use crate::AppState;

impl Created for ReadingTip {
    fn created_id(&self) -> Uuid {
        self.id
    }
}

fn require_editor(actor: &StaffActor) -> AppResult<()> {
    if actor.role.may_edit_articles() {
        Ok(())
    } else {
        Err(ApprovalRefused::NotAnEditor.into())
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
        .write(move |tx| {
            let id = db::articles::create_article(tx, &actor, &draft, now)?;
            Ok(db::articles::staff_articles(tx)?.into_iter().filter(|a| a.id == id).collect())
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
        .write(move |tx| {
            db::articles::revise_article(tx, article_id, &actor, &draft, now)?;
            Ok(db::articles::staff_articles(tx)?.into_iter().filter(|a| a.id == article_id).collect())
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
        .write(move |tx| {
            Ok(db::articles::approve(tx, article_id, req.revision, &req.text_hash, &actor, now)?)
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
    state.db.write(move |tx| Ok(db::articles::withdraw(tx, article_id, &actor, now)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A coach sets a reading tip for a family member: now, or for a later phase.
#[utoipa::path(post, path = "/v1/staff/dossiers/{dossier_id}/tips", request_body = TipDraft,
    params(("dossier_id" = Uuid, Path), ("X-Cjg-Purpose" = Option<String>, Header)),
    responses((status = 201, body = ReadingTip), (status = 400, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn create_tip(
    State(state): State<Arc<AppState>>,
    call: StaffCall,
    ApiPath(dossier_id): ApiPath<Uuid>,
    ApiJson(draft): ApiJson<TipDraft>,
) -> AppResult<(StatusCode, Json<ReadingTip>)> {
    let draft = draft.validate()?;
    let tip = call
        .create_in_dossier(&state, dossier_id, AuditObject::ReadingTip, move |tx, cx| {
            Ok(db::articles::create_tip(tx, dossier_id, cx.actor, &draft, cx.now)?)
        })
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
    call: StaffCall,
    ApiPath(dossier_id): ApiPath<Uuid>,
) -> AppResult<Json<Vec<StaffTip>>> {
    call.read_dossier(&state, dossier_id, AuditObject::ReadingTips, db::articles::dossier_tips).await
}
