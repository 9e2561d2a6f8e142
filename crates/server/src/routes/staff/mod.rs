//! Routes for staff, one module per feature. Every read or write of client data goes through
//! [`StaffCall::read_dossier`] or [`StaffCall::write_dossier`]: they check the caseload, require
//! a purpose, and append the audit line in the same transaction as the access itself.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::Json;
use chrono::{DateTime, Utc};
use cjg_core::audit::{AuditAction, AuditObject};
use cjg_core::ErrorCode;
use uuid::Uuid;

use crate::auth::{self, Peer, PurposeHeader, StaffAuth};
use crate::db::sql::{self, Query, Tx};
use crate::db::{self, StaffActor};
use crate::error::{AppError, AppResult};
use crate::AppState;

pub mod berichten;
pub mod dossier;
pub mod informatie;
pub mod login;
pub mod oidc;
pub mod report;
pub mod taken;

/// Who asks, from where, and for what purpose: what every staff route on client data needs
/// for its audit line. Extracted in this order, so a caller without a token hears
/// "unauthenticated" before anything else.
pub struct StaffCall {
    pub actor: StaffActor,
    pub origin: IpAddr,
    pub purpose: PurposeHeader,
}

impl FromRequestParts<Arc<AppState>> for StaffCall {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, AppError> {
        let StaffAuth(actor) = StaffAuth::from_request_parts(parts, state).await?;
        let Peer(origin) = Peer::from_request_parts(parts, state).await?;
        let purpose = PurposeHeader::from_request_parts(parts, state).await?;
        Ok(Self { actor, origin, purpose })
    }
}

/// What a write gets besides the transaction: who acts, and the server's now.
pub struct Ctx<'a> {
    pub actor: &'a StaffActor,
    pub now: DateTime<Utc>,
    /// Why this access happens (the header, or the purpose stated for the dossier) and its note.
    pub purpose: cjg_core::audit::Purpose,
    pub purpose_note: Option<&'a str>,
}

/// One page of a long staff list: the items, and in `X-Cjg-Next-Offset` where the next page
/// starts when there is one. A page holds at most the asked number of items and, after its
/// first item, about as many bytes as a sync page.
pub struct Paged<T> {
    items: Vec<T>,
    next_offset: Option<u32>,
}

impl<T: serde::Serialize> Paged<T> {
    /// `items` were read with [`db::Window::peeking`] for `page`.
    fn of(items: Vec<T>, page: cjg_core::api::ListPage) -> Self {
        let size = |item: &T| serde_json::to_vec(item).map_or(usize::MAX, |v| v.len());
        let (items, more) = cjg_core::api::fit_page(
            items,
            page.limit() as usize,
            cjg_core::api::SYNC_PAGE_TARGET_BYTES,
            size,
        );
        let taken = u32::try_from(items.len()).unwrap_or(u32::MAX);
        Self { next_offset: more.then(|| page.offset.saturating_add(taken)), items }
    }
}

impl<T: serde::Serialize> axum::response::IntoResponse for Paged<T> {
    fn into_response(self) -> axum::response::Response {
        let mut resp = Json(self.items).into_response();
        if let Some(next) = self.next_offset {
            resp.headers_mut().insert(cjg_core::api::NEXT_OFFSET_HEADER, axum::http::HeaderValue::from(next));
        }
        resp
    }
}

/// Something a route creates, whose id the audit line names.
pub trait Created {
    fn created_id(&self) -> Uuid;
}

impl StaffCall {
    /// A logged read of a whole list of one dossier on the caller's caseload: `read` gets the
    /// dossier id, and the audit line names `object`.
    pub async fn read_dossier<T: Send + 'static>(
        self,
        state: &AppState,
        dossier_id: Uuid,
        object: AuditObject,
        read: impl FnOnce(&dyn Query, Uuid) -> sql::Result<T> + Send + 'static,
    ) -> AppResult<Json<T>> {
        let out = self
            .write_dossier(state, dossier_id, AuditAction::Read, (object, None), move |tx, _| {
                Ok(read(tx, dossier_id)?)
            })
            .await?;
        Ok(Json(out))
    }

    /// Like [`StaffCall::read_dossier`] for a long list: one page of it, the rows of `page`
    /// (and one more, to know whether another page follows).
    pub async fn read_dossier_page<T: serde::Serialize + Send + 'static>(
        self,
        state: &AppState,
        dossier_id: Uuid,
        object: AuditObject,
        page: cjg_core::api::ListPage,
        read: impl FnOnce(&dyn Query, Uuid, db::Window) -> sql::Result<Vec<T>> + Send + 'static,
    ) -> AppResult<Paged<T>> {
        let window = db::Window::peeking(page);
        let Json(items) =
            self.read_dossier(state, dossier_id, object, move |c, id| read(c, id, window)).await?;
        Ok(Paged::of(items, page))
    }

    /// A logged access to one dossier on the caller's caseload that may write: `f` runs in one
    /// transaction with the audit line (`action` on `object`), committed together or not at all.
    pub async fn write_dossier<T: Send + 'static>(
        self,
        state: &AppState,
        dossier_id: Uuid,
        action: AuditAction,
        object: (AuditObject, Option<Uuid>),
        f: impl FnOnce(&Tx<'_>, Ctx<'_>) -> AppResult<T> + Send + 'static,
    ) -> AppResult<T> {
        self.audited(state, dossier_id, action, object.0, move |tx, cx| Ok((f(tx, cx)?, object.1))).await
    }

    /// Like [`StaffCall::write_dossier`] for a route that creates `object`: the line names the
    /// new item.
    pub async fn create_in_dossier<T: Created + Send + 'static>(
        self,
        state: &AppState,
        dossier_id: Uuid,
        object: AuditObject,
        f: impl FnOnce(&Tx<'_>, Ctx<'_>) -> AppResult<T> + Send + 'static,
    ) -> AppResult<T> {
        self.audited(state, dossier_id, AuditAction::Create, object, move |tx, cx| {
            let out = f(tx, cx)?;
            let id = out.created_id();
            Ok((out, Some(id)))
        })
        .await
    }

    /// The one place staff access to client data is logged, and the one place a purpose is
    /// required: the `X-Cjg-Purpose` header of this request, or else the purpose the staff
    /// member stated for this dossier within the purpose window.
    async fn audited<T: Send + 'static>(
        self,
        state: &AppState,
        dossier_id: Uuid,
        action: AuditAction,
        object_type: AuditObject,
        f: impl FnOnce(&Tx<'_>, Ctx<'_>) -> AppResult<(T, Option<Uuid>)> + Send + 'static,
    ) -> AppResult<T> {
        auth::require_caseload(state, self.actor.id, dossier_id).await?;
        let task = cjg_core::staff::CaseloadTask::of(action, object_type);
        if !self.actor.role.may_in_caseload(task) {
            return Err(AppError::new(ErrorCode::Forbidden, "your role does not include this in a dossier"));
        }
        let now = state.clock.now();
        let Self { actor, origin, purpose } = self;
        state
            .db
            .write_in(dossier_id, move |tx| {
                let (purpose, note) = match purpose.0 {
                    Some(p) => (p, None),
                    None => db::audit::active_purpose(tx, actor.id, dossier_id, now)?.ok_or_else(|| {
                        AppError::new(
                            ErrorCode::PurposeRequired,
                            "state why you open this dossier first: PUT /v1/staff/dossiers/{id}/purpose",
                        )
                    })?,
                };
                let (out, object_id) =
                    f(tx, Ctx { actor: &actor, now, purpose, purpose_note: note.as_deref() })?;
                let origin = origin.to_string();
                db::audit::append_audit(
                    tx,
                    &db::audit::AuditRecord {
                        dossier_id,
                        actor: &actor,
                        action,
                        object_type,
                        object_id,
                        purpose,
                        purpose_note: note.as_deref(),
                        origin: &origin,
                        application: db::audit::APPLICATION,
                        at: now,
                    },
                )?;
                Ok(out)
            })
            .await
    }
}

/// The dossier `find` names for an id, or 404.
async fn dossier_of(
    state: &AppState,
    id: Uuid,
    find: fn(&dyn Query, Uuid) -> sql::Result<Option<Uuid>>,
) -> AppResult<Uuid> {
    state.db.call(move |c| Ok(find(c, id)?)).await?.ok_or_else(AppError::not_found)
}

/// The dossier of an entry, also when it was deleted.
async fn any_entry_dossier(state: &AppState, entry_id: Uuid) -> AppResult<Uuid> {
    dossier_of(state, entry_id, db::entries::any_entry_dossier).await
}

/// The dossier of an entry that exists and is not deleted.
async fn entry_dossier(state: &AppState, entry_id: Uuid) -> AppResult<Uuid> {
    dossier_of(state, entry_id, db::entries::entry_dossier).await
}

/// The dossier a family member belongs to.
async fn person_dossier(state: &AppState, person_id: Uuid) -> AppResult<Uuid> {
    dossier_of(state, person_id, db::people::person_dossier).await
}
