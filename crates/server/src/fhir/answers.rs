//! What goes out to the ECD besides people: the questionnaire definitions (`Questionnaire`,
//! `ActivityDefinition`: no client data, nothing logged), a family's answers
//! (`QuestionnaireResponse`) and the family's access log (`AuditEvent`). Reading answers or the
//! log is an access to the family's dossier: one line in its access log, in the same
//! transaction, as for a coach.

use std::sync::Arc;

use axum::extract::{Path as UrlPath, Query as UrlQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
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
    client.may_search("Questionnaire")?;
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
    client.may_search("ActivityDefinition")?;
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

/// The search of answers and logs: `patient=Patient/<id>` (or the bare id) for one family,
/// a `since` parameter (`_lastUpdated` or `date`, `gt`/`ge`) for what is new, and a page:
/// `_offset` for lists whose order never changes (the access log), or for the change feeds
/// the `_before` and `_cursor` of a `next` link.
pub(super) struct Search {
    /// `None`: not asked; `Some(None)`: asked with a value that names no one.
    pub(super) patient: Option<Option<Uuid>>,
    pub(super) since: Option<model::Since>,
    pub(super) count: i64,
    pub(super) offset: i64,
    /// A feed's horizon: only what changed up to this moment (the same for every page).
    before: Option<DateTime<Utc>>,
    /// A feed's position: after this (time, id).
    cursor: Option<(DateTime<Utc>, Uuid)>,
}

impl Search {
    /// The address of the next page, the same search from the next offset.
    pub(super) fn next(
        &self,
        base: &str,
        resource: &str,
        since_name: &str,
        since_value: Option<&str>,
    ) -> String {
        let (count, offset) = (self.count.to_string(), (self.offset + self.count).to_string());
        self.link(base, resource, vec![("_count", count), ("_offset", offset)], since_name, since_value)
    }

    fn link<'a>(
        &self,
        base: &str,
        resource: &str,
        mut query: Vec<(&'a str, String)>,
        since_name: &'a str,
        since_value: Option<&str>,
    ) -> String {
        if let Some(Some(p)) = self.patient {
            query.push(("patient", format!("Patient/{p}")));
        }
        if let Some(v) = since_value {
            query.push((since_name, v.to_owned()));
        }
        // Plain pairs of strings always encode.
        format!("{base}/{resource}?{}", serde_urlencoded::to_string(&query).unwrap_or_default())
    }
}

/// A moment as the feeds' links carry it: every digit the store keeps.
fn exact(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

fn invalid_search(why: impl Into<String>) -> FhirError {
    FhirError::new(StatusCode::BAD_REQUEST, IssueType::Invalid, "invalid_search", why)
}

pub(super) fn parse_search(params: &[(String, String)], since_name: &str) -> Result<Search, FhirError> {
    let mut search =
        Search { patient: None, since: None, count: DEFAULT_PAGE, offset: 0, before: None, cursor: None };
    let instant = |v: &str, name: &str| {
        DateTime::parse_from_rfc3339(v)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| invalid_search(format!("{name} is not what a next link carries")))
    };
    let number = |v: &str, name: &str| {
        v.parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| invalid_search(format!("{name} must be a whole number")))
    };
    for (name, value) in params {
        match name.as_str() {
            "patient" | "subject" if search.patient.is_none() => {
                search.patient = Some(Uuid::parse_str(value.strip_prefix("Patient/").unwrap_or(value)).ok());
            }
            n if n == since_name && search.since.is_none() => {
                search.since = Some(
                    model::Since::parse(value).map_err(|e| invalid_search(format!("{since_name}: {e}")))?,
                );
            }
            "_count" => search.count = number(value, "_count")?.clamp(1, MAX_PAGE),
            "_offset" => search.offset = number(value, "_offset")?,
            "_before" => search.before = Some(instant(value, "_before")?),
            "_cursor" => {
                let (at, id) = value
                    .split_once('~')
                    .ok_or_else(|| invalid_search("_cursor is not what a next link carries"))?;
                let id = Uuid::parse_str(id)
                    .map_err(|_| invalid_search("_cursor is not what a next link carries"))?;
                search.cursor = Some((instant(at, "_cursor")?, id));
            }
            "_format" if value == "json" || value == model::MEDIA_TYPE => {}
            other => return Err(unknown_parameter(other)),
        }
    }
    Ok(search)
}

pub(super) fn patient_required(resource: &str, or: &str) -> FhirError {
    FhirError::new(
        StatusCode::BAD_REQUEST,
        IssueType::Invalid,
        "patient_required",
        format!("search {resource} by patient{or}: {resource}?patient=Patient/<id>"),
    )
}

/// Runs `read` on the family of `patient` (one of the client's teams) with one line in its
/// access log; `None` when the patient is not known to this client (nothing logged).
pub(super) async fn in_family<T: Send + 'static>(
    state: &AppState,
    client: &FhirClient,
    origin: std::net::IpAddr,
    patient: Uuid,
    object: (AuditObject, Option<Uuid>),
    read: impl FnOnce(&Tx<'_>, &db::fhir::PatientRow) -> AppResult<T> + Send + 'static,
) -> Result<Option<T>, FhirError> {
    let writer = Writer::new(client, object.0.as_str(), origin, state.clock.now(), None);
    let found = state
        .db
        .call_read(move |c| Ok(db::fhir::patients(c, Some(patient))?))
        .await
        .map_err(|e| FhirError::internal(&e))?;
    let Some(row) = found.into_iter().find(|p| writer.serves(&p.team)) else { return Ok(None) };
    // Ordered by this family only: an ECD reading one family does not hold up the others.
    state
        .db
        .write_in(row.dossier_id, move |tx| {
            // Looked up again in order: a family moved to another team in between is not read.
            let Some(row) =
                db::fhir::patients(tx, Some(patient))?.into_iter().find(|p| writer.serves(&p.team))
            else {
                return Ok(None);
            };
            writer.log(tx, row.dossier_id, AuditAction::Read, object.0, object.1)?;
            read(tx, &row).map(Some)
        })
        .await
        .map_err(|e| FhirError::internal(&e))
}

/// One item of a family feed (answers, feedback): when it last changed, its id (the two are
/// its place in the feed), its family and that family's team, and the resource.
struct FeedItem {
    at: chrono::DateTime<chrono::Utc>,
    id: Uuid,
    dossier: Uuid,
    team: String,
    resource: Value,
}

fn answer_item(
    task: &cjg_core::questionnaire::QuestionnaireTask,
    by_youth: bool,
    dossier: Uuid,
    team: String,
) -> Option<FeedItem> {
    let owner = if by_youth { Owner::Patient(task.person_id) } else { Owner::RelatedPerson(task.person_id) };
    Some(FeedItem {
        at: task.submitted_at?,
        id: task.id,
        dossier,
        team,
        resource: q::questionnaire_response(task, owner)?,
    })
}

fn family_answers(tx: &Tx<'_>, row: &db::fhir::PatientRow) -> AppResult<Vec<FeedItem>> {
    Ok(db::questionnaires::answered_tasks(tx, row.dossier_id)?
        .into_iter()
        .filter_map(|(task, by_youth)| answer_item(&task, by_youth, row.dossier_id, row.team.clone()))
        .collect())
}

fn answers_page(tx: &Tx<'_>, q: &db::fhir::FeedQuery<'_>) -> AppResult<Vec<FeedItem>> {
    Ok(db::questionnaires::answered_page(tx, q)?
        .into_iter()
        .filter_map(|r| answer_item(&r.task, r.by_youth, r.dossier_id, r.team))
        .collect())
}

fn feedback_item(f: &cjg_core::feedback::Feedback, by_youth: bool, team: String) -> FeedItem {
    FeedItem {
        at: model::feedback::last_updated(f),
        id: f.id,
        dossier: f.dossier_id,
        team,
        resource: model::feedback::communication(f, by_youth),
    }
}

fn family_feedback(tx: &Tx<'_>, row: &db::fhir::PatientRow) -> AppResult<Vec<FeedItem>> {
    Ok(db::feedback::dossier_feedback_by(tx, row.dossier_id)?
        .iter()
        .map(|(f, by_youth)| feedback_item(f, *by_youth, row.team.clone()))
        .collect())
}

fn feedback_page(tx: &Tx<'_>, q: &db::fhir::FeedQuery<'_>) -> AppResult<Vec<FeedItem>> {
    Ok(db::feedback::feedback_page(tx, q)?
        .into_iter()
        .map(|(f, by_youth, team)| feedback_item(&f, by_youth, team))
        .collect())
}

/// What a family feed reads: one family's items, or every family's from a moment on.
struct Feed {
    resource: &'static str,
    object: AuditObject,
    one: fn(&Tx<'_>, &db::fhir::PatientRow) -> AppResult<Vec<FeedItem>>,
    all: fn(&Tx<'_>, &db::fhir::FeedQuery<'_>) -> AppResult<Vec<FeedItem>>,
}

/// `GET /fhir/<Type>?patient=…` (one family's items) or `?_lastUpdated=gt…` (what changed
/// since, in every family of the client's teams: the cheap poll), oldest first, in pages.
/// Each family whose items are handed out gets one line in its log.
///
/// A poll reads up to a horizon (now, less the configured `feed_margin_seconds`: a change is in
/// the feed only once no write that could still commit can get an earlier time; a family's
/// write takes its time once its family's writes are in order, and the margin covers the
/// clocks of several instances and the coach's path, which takes its time before) that every
/// page of one
/// search keeps (`_before`), and pages by place (`_cursor`: time and id of the last item), so
/// an item that changes while the ECD pages (feedback answered) leaves its old place without
/// moving the others, and comes again after the horizon. The Bundle's `meta.lastUpdated` is the
/// horizon: after the last page, the ECD polls again with `_lastUpdated=gt<that>`.
async fn family_feed(
    state: &AppState,
    client: &FhirClient,
    origin: std::net::IpAddr,
    params: &[(String, String)],
    feed: Feed,
) -> Result<Response, FhirError> {
    client.may_search(feed.resource)?;
    let search = parse_search(params, "_lastUpdated")?;
    if search.offset != 0 {
        // Refused, not ignored: an offset over a feed whose order changes would skip items.
        return Err(unknown_parameter("_offset"));
    }
    let base = config(state)?.base_url.clone();
    let since_value = params.iter().find(|(n, _)| n == "_lastUpdated").map(|(_, v)| v.clone());
    let now = state.clock.now();
    // A poll of what changed reads behind now by the margin; one family's list as it is now
    // is read in that family's order and needs none.
    let polling = search.since.is_some() || search.patient.is_none();
    let safe = if polling { now - config(state)?.feed_margin } else { now };
    let horizon = search.before.map_or(safe, |b| b.min(safe));
    let (since, cursor, take) = (search.since, search.cursor, search.count.unsigned_abs() as usize + 1);
    let page = move |mut items: Vec<FeedItem>| -> Vec<FeedItem> {
        items.retain(|i| {
            i.at <= horizon
                && match cursor {
                    Some(c) => (i.at, i.id) > c,
                    None => since.is_none_or(|s| s.admits(i.at)),
                }
        });
        items.sort_by_key(|i| (i.at, i.id));
        items.truncate(take);
        items
    };
    let mut found: Vec<FeedItem> = match search.patient {
        Some(None) => Vec::new(),
        Some(Some(patient)) => {
            let one = feed.one;
            in_family(state, client, origin, patient, (feed.object, None), move |tx, row| {
                Ok(page(one(tx, row)?))
            })
            .await?
            .unwrap_or_default()
        }
        None => {
            let since = search.since.ok_or_else(|| patient_required(feed.resource, " or _lastUpdated"))?;
            let writer = Writer::new(client, feed.resource, origin, state.clock.now(), None);
            let (all, object, teams) = (feed.all, feed.object, client.teams.clone());
            // Every family, so ordered over the whole region: no family's write is half-way
            // while the feed is read. The page is cut in the query: a poll reads what it hands out.
            state
                .db
                .write(move |tx| {
                    let query = db::fhir::FeedQuery {
                        since: since.at,
                        inclusive: since.inclusive,
                        cursor,
                        horizon,
                        teams: teams.as_deref(),
                        limit: i64::try_from(take).unwrap_or(i64::MAX),
                    };
                    let items: Vec<FeedItem> =
                        (all)(tx, &query)?.into_iter().filter(|i| writer.serves(&i.team)).collect();
                    let mut items = page(items);
                    let mut logged = std::collections::HashSet::new();
                    for i in items.iter().take(take - 1) {
                        if logged.insert(i.dossier) {
                            writer.log(tx, i.dossier, AuditAction::Read, object, None)?;
                        }
                    }
                    items.truncate(take);
                    Ok(items)
                })
                .await
                .map_err(|e| FhirError::internal(&e))?
        }
    };
    let shown = take - 1;
    let next = (found.len() > shown).then(|| {
        found.truncate(shown);
        let last = found.last().map(|i| format!("{}~{}", exact(i.at), i.id)).unwrap_or_default();
        let query = vec![("_count", shown.to_string()), ("_before", exact(horizon)), ("_cursor", last)];
        search.link(&base, feed.resource, query, "_lastUpdated", since_value.as_deref())
    });
    let resources = found.into_iter().map(|i| i.resource).collect();
    let mut bundle = model::search_page(&base, resources, next.as_deref());
    bundle["meta"] = serde_json::json!({"lastUpdated": exact(horizon)});
    Ok(fhir_json(StatusCode::OK, &bundle))
}

/// `GET /fhir/QuestionnaireResponse?patient=…` or `?_lastUpdated=gt…`: answered questionnaires.
pub async fn search_responses(
    State(state): State<Arc<AppState>>,
    Peer(ip): Peer,
    client: FhirClient,
    UrlQuery(params): UrlQuery<Vec<(String, String)>>,
) -> Result<Response, FhirError> {
    let feed = Feed {
        resource: "QuestionnaireResponse",
        object: AuditObject::Questionnaires,
        one: family_answers,
        all: answers_page,
    };
    family_feed(&state, &client, ip, &params, feed).await
}

/// `GET /fhir/Communication?patient=…` or `?_lastUpdated=gt…`: the family's feedback on entries.
pub async fn search_feedback(
    State(state): State<Arc<AppState>>,
    Peer(ip): Peer,
    client: FhirClient,
    UrlQuery(params): UrlQuery<Vec<(String, String)>>,
) -> Result<Response, FhirError> {
    let feed = Feed {
        resource: "Communication",
        object: AuditObject::Feedback,
        one: family_feedback,
        all: feedback_page,
    };
    family_feed(&state, &client, ip, &params, feed).await
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
            Ok(db::fhir::a_patient_of(c, dossier)?)
        })
        .await
        .map_err(|e| FhirError::internal(&e))?
        .ok_or_else(not_found)?;
    let found =
        in_family(&state, &client, ip, youth, (AuditObject::Questionnaire, Some(id)), move |tx, row| {
            Ok(family_answers(tx, row)?
                .into_iter()
                .map(|i| i.resource)
                .find(|r| r["id"].as_str() == Some(id.to_string().as_str())))
        })
        .await?;
    Ok(fhir_json(StatusCode::OK, &found.flatten().ok_or_else(not_found)?))
}

/// `GET /fhir/AuditEvent?patient=…[&date=gt…][&_count=…][&_offset=…]`: the family's access
/// log in chain order, in pages, from a moment on if asked; reading it is itself a line (and
/// the ECD sees it).
pub async fn search_audit_events(
    State(state): State<Arc<AppState>>,
    Peer(ip): Peer,
    client: FhirClient,
    UrlQuery(params): UrlQuery<Vec<(String, String)>>,
) -> Result<Response, FhirError> {
    client.may_search("AuditEvent")?;
    let search = parse_search(&params, "date")?;
    let base = config(&state)?.base_url.clone();
    let since_value = params.iter().find(|(n, _)| n == "date").map(|(_, v)| v.clone());
    let patient = match search.patient {
        None => return Err(patient_required("AuditEvent", "")),
        Some(None) => return searchset(&state, Vec::new()),
        Some(Some(p)) => p,
    };
    let window = Window { offset: search.offset, limit: search.count + 1 };
    let since = search.since;
    let found = in_family(&state, &client, ip, patient, (AuditObject::AuditLog, None), move |tx, row| {
        let lines = match since {
            Some(s) => db::audit::audit_log_from(tx, row.dossier_id, s.at, s.inclusive, window)?,
            None => db::audit::audit_log_window(tx, row.dossier_id, window)?,
        };
        let subject = format!("Patient/{}", row.id);
        Ok(lines.into_iter().map(|(e, _)| model::audit::audit_event(&e, &subject)).collect::<Vec<_>>())
    })
    .await?;
    let mut events = found.unwrap_or_default();
    let next = (events.len() as i64 > search.count).then(|| {
        events.truncate(search.count.unsigned_abs() as usize);
        search.next(&base, "AuditEvent", "date", since_value.as_deref())
    });
    Ok(fhir_json(StatusCode::OK, &model::search_page(&base, events, next.as_deref())))
}
