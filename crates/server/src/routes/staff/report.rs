//! The indicator report of the performance plan and the usage report of the app, for quality
//! staff and managers.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use cjg_core::indicators::{IndicatorReport, Period};
use cjg_core::usage::{UsagePeriod, UsageReport};
use cjg_core::ErrorCode;

use crate::auth::StaffAuth;
use crate::db::sql::Tx;
use crate::db::StaffActor;
use crate::error::{ApiQuery, AppError, AppResult};
use crate::service::ReportText;
use crate::{db, service, AppState};

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// `2026-H1` or `2026-Q3`.
    pub period: String,
    /// `json` (default), `csv` or `html`.
    pub format: Option<String>,
}

/// The indicator report of the performance plan: aggregated, small groups suppressed, so it
/// holds no client data and is not logged per dossier; every pull is logged (who, which
/// period and format).
#[utoipa::path(get, path = "/v1/staff/reports/indicators", params(ReportQuery),
    responses((status = 200, body = IndicatorReport), (status = 400, body = cjg_core::ApiError),
        (status = 403, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn report(
    State(state): State<Arc<AppState>>,
    StaffAuth(actor): StaffAuth,
    // Taken as a result so a caller without the role hears "forbidden" whatever the query.
    query: Result<ApiQuery<ReportQuery>, AppError>,
) -> AppResult<Response> {
    may_read_reports(&actor)?;
    let ApiQuery(q) = query?;
    let period = Period::parse(&q.period).map_err(|e| AppError::new(ErrorCode::Validation, e.to_string()))?;
    serve(&state, &actor, "indicators", period.code(), q.format, move |tx, pull| {
        service::indicator_report(tx, period, pull)
    })
    .await
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UsageQuery {
    /// A month (`2026-11`), quarter (`2026-Q4`) or half year (`2026-H2`) that has ended.
    pub period: String,
    /// `json` (default), `csv` or `html`.
    pub format: Option<String>,
}

/// How the app is used, per municipality and team, from counts only (README, "Usage report"):
/// small groups hidden, every pull logged. A period has a report from the 11th day after it
/// ended; the counts it is made of are stored at the first pull and used as stored after.
#[utoipa::path(get, path = "/v1/staff/reports/usage", params(UsageQuery),
    responses((status = 200, body = UsageReport), (status = 400, body = cjg_core::ApiError),
        (status = 401, body = cjg_core::ApiError), (status = 403, body = cjg_core::ApiError)),
    security(("bearer" = [])))]
pub async fn usage_report(
    State(state): State<Arc<AppState>>,
    StaffAuth(actor): StaffAuth,
    query: Result<ApiQuery<UsageQuery>, AppError>,
) -> AppResult<Response> {
    may_read_reports(&actor)?;
    let ApiQuery(q) = query?;
    let period =
        UsagePeriod::parse(&q.period).map_err(|e| AppError::new(ErrorCode::Validation, e.to_string()))?;
    serve(&state, &actor, "usage", period.code(), q.format, move |tx, pull| {
        service::usage_report(tx, period, pull)
    })
    .await
}

/// Reports cover every team: not for coaches, who see only their caseload.
fn may_read_reports(actor: &StaffActor) -> AppResult<()> {
    if actor.role.may_read_reports() {
        Ok(())
    } else {
        Err(AppError::new(ErrorCode::Forbidden, "this report is for quality staff and managers"))
    }
}

/// What both reports do once the caller may read them: the format checked, one pull logged in
/// the transaction that makes the report, and the report in that format.
async fn serve<R: ReportText>(
    state: &AppState,
    actor: &StaffActor,
    report: &'static str,
    period: String,
    format: Option<String>,
    make: impl FnOnce(&Tx<'_>, &db::reports::Pull<'_>) -> AppResult<R> + Send + 'static,
) -> AppResult<Response> {
    let format = format.unwrap_or_else(|| "json".into());
    if !["json", "csv", "html"].contains(&format.as_str()) {
        return Err(AppError::new(ErrorCode::Validation, "format is json, csv or html"));
    }
    let (today, now) = (state.clock.today(), state.clock.now());
    let (actor_ref, role) = (format!("staff:{}", actor.id), actor.role.as_str());
    let fmt = format.clone();
    let made = state
        .db
        .write(move |tx| {
            let pull = db::reports::Pull { at: now, actor: &actor_ref, role, report, period, format: &fmt };
            make(tx, &pull)
        })
        .await?;
    let text =
        |mime: &'static str, body: String| ([(axum::http::header::CONTENT_TYPE, mime)], body).into_response();
    Ok(match format.as_str() {
        "csv" => text("text/csv; charset=utf-8", made.csv()),
        "html" => text("text/html; charset=utf-8", made.html(today)),
        _ => Json(made).into_response(),
    })
}
