//! What goes out to the ECD besides people: the questionnaire definitions (`Questionnaire`,
//! `ActivityDefinition`: no client data, nothing logged), a family's answers
//! (`QuestionnaireResponse`) and the family's access log (`AuditEvent`). Reading answers or the
//! log is an access to the family's dossier: one line in its access log, in the same
//! transaction, as for a coach.

use std::sync::Arc;

use axum::extract::{Path as UrlPath, Query as UrlQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use cjg_core::audit::{AuditAction, AuditObject};
use cjg_core::fhir::questionnaires::{self as q, Owner};
use cjg_core::fhir::{self as model, IssueType};
use serde_json::Value;
use uuid::Uuid;

use super::write::Writer;
use super::{config, fhir_json, searchset, FhirClient, FhirError};
use crate::auth::Peer;
use crate::db::sql::Tx;
use crate::db::{self, Window};
use crate::error::AppResult;
use crate::AppState;

/// At most this many AuditEvents in one page (`_count`).
const MAX_PAGE: i64 = 500;
const DEFAULT_PAGE: i64 = 100;

fn unknown_parameter(name: &str) -> FhirError {
    FhirError::new(
        StatusCode::BAD_REQUEST,
        IssueType::NotSupported,
        "unknown_search_parameter",
        format!(
            "search parameter {:?} is not supported here; see /fhir/metadata",
            name.chars().take(40).collect::<String>()
        ),
    )
}

/// The search parameters of a definition list: none but the format.
fn no_parameters(params: &[(String, String)]) -> Result<(), FhirError> {
    match params.iter().find(|(n, v)| !(n == "_format" && (v == "json" || v == model::MEDIA_TYPE))) {
        Some((name, _)) => Err(unknown_parameter(name)),
        None => Ok(()),
    }
}

pub async fn search_questionnaires(
    State(state): State<Arc<AppState>>,
    client: FhirClient,
    UrlQuery(params): UrlQuery<Vec<(String, String)>>,
) -> Result<Response, FhirError> {
    client.may_read("Questionnaire")?;
    no_parameters(&params)?;
    searchset(&state, q::all_questionnaires())
}

pub async fn read_questionnaire(
    client: FhirClient,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, FhirError> {
    client.may_read("Questionnaire")?;
    let found = q::all_questionnaires().into_iter().find(|r| r["id"].as_str() == Some(id.as_str()));
    Ok(fhir_json(StatusCode::OK, &found.ok_or_else(|| FhirError::not_found("Questionnaire"))?))
}

pub async fn search_activity_definitions(
    State(state): State<Arc<AppState>>,
    client: FhirClient,
    UrlQuery(params): UrlQuery<Vec<(String, String)>>,
) -> Result<Response, FhirError> {
    client.may_read("ActivityDefinition")?;
    no_parameters(&params)?;
    searchset(&state, q::all_activity_definitions())
}

pub async fn read_activity_definition(
    client: FhirClient,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, FhirError> {
    client.may_read("ActivityDefinition")?;
    let phase = q::activity_phase(&id).ok_or_else(|| FhirError::not_found("ActivityDefinition"))?;
    Ok(fhir_json(StatusCode::OK, &q::activity_definition(phase)))
}

/// `patient=Patient/<id>` (or the bare id), required: answers and logs are read one family at a
/// time, so an ECD never pulls every family's at once.
struct FamilySearch {
    patient: Option<Uuid>,
    count: i64,
    offset: i64,
}

fn family_search(
    params: &[(String, String)],
    resource: &str,
    paged: bool,
) -> Result<FamilySearch, FhirError> {
    let mut search = FamilySearch { patient: None, count: DEFAULT_PAGE, offset: 0 };
    let mut named = false;
    let number = |v: &str, name: &str| {
        v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            FhirError::new(
                StatusCode::BAD_REQUEST,
                IssueType::Invalid,
                "invalid_search",
                format!("{name} must be a whole number"),
            )
        })
    };
    for (name, value) in params {
        match name.as_str() {
            "patient" | "subject" if !named => {
                named = true;
                search.patient = Uuid::parse_str(value.strip_prefix("Patient/").unwrap_or(value)).ok();
            }
            "_count" if paged => search.count = number(value, "_count")?.clamp(1, MAX_PAGE),
            "_offset" if paged => search.offset = number(value, "_offset")?,
            "_format" if value == "json" || value == model::MEDIA_TYPE => {}
            other => return Err(unknown_parameter(other)),
        }
    }
    if !named {
        return Err(FhirError::new(
            StatusCode::BAD_REQUEST,
            IssueType::Invalid,
            "patient_required",
            format!("search {resource} by patient: {resource}?patient=Patient/<id>"),
        ));
    }
    Ok(search)
}

/// Runs `read` on the family of `patient` (one of the client's teams) with one line in its
/// access log; `None` when the patient is not known to this client (nothing logged).
async fn in_family<T: Send + 'static>(
    state: &AppState,
    client: &FhirClient,
    origin: std::net::IpAddr,
    patient: Uuid,
    object: (AuditObject, Option<Uuid>),
    read: impl FnOnce(&Tx<'_>, &db::fhir::PatientRow) -> AppResult<T> + Send + 'static,
) -> Result<Option<T>, FhirError> {
    let writer = Writer::new(client, object.0.as_str(), origin, state.clock.now(), None);
    state
        .db
        .write(move |tx| {
            let Some(row) =
                db::fhir::patients(tx, Some(patient))?.into_iter().find(|p| writer.serves(&p.team))
            else {
                return Ok(None);
            };
            writer.log(tx, row.dossier_id, AuditAction::Read, object.0, object.1)?;
            Ok(Some(read(tx, &row)?))
        })
        .await
        .map_err(|e| FhirError::internal(&e))
}

fn responses(tx: &Tx<'_>, dossier: Uuid) -> AppResult<Vec<Value>> {
    Ok(db::questionnaires::answered_tasks(tx, dossier)?
        .into_iter()
        .filter_map(|(task, by_youth)| {
            let owner =
                if by_youth { Owner::Patient(task.person_id) } else { Owner::RelatedPerson(task.person_id) };
            q::questionnaire_response(&task, owner)
        })
        .collect())
}

/// `GET /fhir/QuestionnaireResponse?patient=…`: every answered questionnaire of the family.
pub async fn search_responses(
    State(state): State<Arc<AppState>>,
    Peer(ip): Peer,
    client: FhirClient,
    UrlQuery(params): UrlQuery<Vec<(String, String)>>,
) -> Result<Response, FhirError> {
    client.may_read("QuestionnaireResponse")?;
    let search = family_search(&params, "QuestionnaireResponse", false)?;
    let Some(patient) = search.patient else { return searchset(&state, Vec::new()) };
    let found = in_family(&state, &client, ip, patient, (AuditObject::Questionnaires, None), |tx, row| {
        responses(tx, row.dossier_id)
    })
    .await?;
    searchset(&state, found.unwrap_or_default())
}

/// `GET /fhir/QuestionnaireResponse/<id>`: one family member's answers (the id is the Task's).
pub async fn read_response(
    State(state): State<Arc<AppState>>,
    Peer(ip): Peer,
    client: FhirClient,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, FhirError> {
    client.may_read("QuestionnaireResponse")?;
    let not_found = || FhirError::not_found("QuestionnaireResponse");
    let id = Uuid::parse_str(&id).map_err(|_| not_found())?;
    // The family is found through the task; one of its young people stands for it.
    let youth = state
        .db
        .call_read(move |c| {
            let Some(dossier) = db::questionnaires::task_dossier(c, id)? else { return Ok(None) };
            Ok(db::fhir::patients(c, None)?.into_iter().find(|p| p.dossier_id == dossier).map(|p| p.id))
        })
        .await
        .map_err(|e| FhirError::internal(&e))?
        .ok_or_else(not_found)?;
    let found =
        in_family(&state, &client, ip, youth, (AuditObject::Questionnaire, Some(id)), move |tx, row| {
            Ok(responses(tx, row.dossier_id)?
                .into_iter()
                .find(|r| r["id"].as_str() == Some(id.to_string().as_str())))
        })
        .await?;
    Ok(fhir_json(StatusCode::OK, &found.flatten().ok_or_else(not_found)?))
}

/// `GET /fhir/AuditEvent?patient=…[&_count=…][&_offset=…]`: the family's access log in chain
/// order, in pages; reading it is itself a line (and the ECD sees it).
pub async fn search_audit_events(
    State(state): State<Arc<AppState>>,
    Peer(ip): Peer,
    client: FhirClient,
    UrlQuery(params): UrlQuery<Vec<(String, String)>>,
) -> Result<Response, FhirError> {
    client.may_read("AuditEvent")?;
    let search = family_search(&params, "AuditEvent", true)?;
    let base = config(&state)?.base_url.clone();
    let Some(patient) = search.patient else { return searchset(&state, Vec::new()) };
    let window = Window { offset: search.offset, limit: search.count + 1 };
    let found = in_family(&state, &client, ip, patient, (AuditObject::AuditLog, None), move |tx, row| {
        Ok(db::audit::audit_log_window(tx, row.dossier_id, window)?
            .into_iter()
            .map(|(e, _)| model::audit::audit_event(&e, &format!("Patient/{}", row.id)))
            .collect::<Vec<_>>())
    })
    .await?;
    let mut events = found.unwrap_or_default();
    let next = (events.len() as i64 > search.count).then(|| {
        events.truncate(search.count.unsigned_abs() as usize);
        format!(
            "{base}/AuditEvent?patient=Patient/{patient}&_count={}&_offset={}",
            search.count,
            search.offset + search.count
        )
    });
    Ok(fhir_json(StatusCode::OK, &model::search_page(&base, events, next.as_deref())))
}
