//! Being told instead of polling, as Koppeltaal does: a client's `Subscription` (rest-hook,
//! without payload) on `QuestionnaireResponse` or `Communication`. When a family it serves
//! answers a questionnaire or gives feedback, the server POSTs an empty notification to the
//! subscription's endpoint, with only the subscription's id in a header; the client then polls
//! with `_lastUpdated`. No content and no family id ever leave in a notification, and the
//! endpoint must lie under a `notify_urls` entry of the client's configuration: the CJG, not
//! the client, decides where its server calls out to.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cjg_core::fhir::IssueType;
use serde_json::{json, Value};
use uuid::Uuid;

use super::write::Incoming;
use super::{config, fhir_json, searchset, FhirClient, FhirError};
use crate::{db, AppState};

/// What a Subscription may watch: the resources an ECD polls with `_lastUpdated`.
pub const CRITERIA: [&str; 2] = ["QuestionnaireResponse", "Communication"];
/// The header that names the subscription in a notification.
pub const SUBSCRIPTION_HEADER: &str = "X-Subscription-Id";
/// Tries per notification, with 1 s, 2 s between them.
const ATTEMPTS: u32 = 3;

fn unprocessable(why: impl Into<String>) -> FhirError {
    FhirError::new(StatusCode::UNPROCESSABLE_ENTITY, IssueType::Processing, "unprocessable", why)
}

fn resource(s: &db::fhir::Subscription) -> Value {
    json!({
        "resourceType": "Subscription",
        "id": s.id.to_string(),
        "status": "active",
        "reason": "Mijn CJG tells the client that something changed; the client polls with _lastUpdated",
        "criteria": s.criteria,
        "channel": {"type": "rest-hook", "endpoint": s.endpoint},
    })
}

/// What the body asks for: `criteria` (a resource type, `?` and nothing after it allowed),
/// a rest-hook `channel` with an allowed `endpoint`, and no `payload`.
fn read_subscription(body: &Value, client: &super::Client) -> Result<(String, String), FhirError> {
    let invalid =
        |why: &str| FhirError::new(StatusCode::BAD_REQUEST, IssueType::Invalid, "invalid_resource", why);
    if body["resourceType"].as_str() != Some("Subscription") {
        return Err(invalid("resourceType must be Subscription at this address"));
    }
    let criteria = body["criteria"].as_str().unwrap_or_default().trim_end_matches('?');
    if !CRITERIA.contains(&criteria) {
        return Err(invalid(
            "criteria must be QuestionnaireResponse or Communication (no search parameters)",
        ));
    }
    let channel = &body["channel"];
    if channel["type"].as_str() != Some("rest-hook") {
        return Err(invalid("channel.type must be rest-hook"));
    }
    if channel.get("payload").is_some() {
        return Err(invalid("channel.payload must be left out: notifications carry no content"));
    }
    let endpoint = channel["endpoint"].as_str().ok_or_else(|| invalid("channel.endpoint is missing"))?;
    let allowed = (endpoint.len() <= 500).then(|| client.notify_endpoint(endpoint)).flatten();
    let endpoint = allowed.ok_or_else(|| {
        unprocessable(
            "channel.endpoint is not under an address the CJG registered for this client (notify_urls)",
        )
    })?;
    Ok((criteria.to_owned(), endpoint.to_string()))
}

pub async fn create_subscription(
    State(state): State<Arc<AppState>>,
    client: FhirClient,
    mut incoming: Incoming,
) -> Result<Response, FhirError> {
    client.may_create("Subscription")?;
    let config = config(&state)?;
    let registered = config.client(&client.client_id).ok_or_else(|| FhirError::not_found("the client"))?;
    let body = incoming.resource()?;
    let (criteria, endpoint) = read_subscription(&body, registered)?;
    // Told about what it could not read is no use, and would say that something happened.
    client.may_search(&criteria)?;
    let subscription = db::fhir::Subscription {
        id: Uuid::new_v4(),
        client_id: client.client_id.clone(),
        criteria,
        endpoint,
    };
    let now = state.clock.now();
    let stored = subscription.clone();
    state
        .db
        // In order over the region: two creates at once cannot both pass the count.
        .write(move |tx| {
            if db::fhir::subscriptions_of(tx, &stored.client_id)?.len() >= 20 {
                return Ok(false);
            }
            db::fhir::insert_subscription(tx, &stored, now)?;
            Ok(true)
        })
        .await
        .map_err(|e| FhirError::internal(&e))?
        .then_some(())
        .ok_or_else(|| unprocessable("a client keeps at most 20 Subscriptions: delete one first"))?;
    tracing::info!(client = %client.client_id, subscription = %subscription.id, "FHIR subscription made");
    let mut response = fhir_json(StatusCode::CREATED, &resource(&subscription));
    if let Ok(v) = format!("{}/Subscription/{}", config.base_url, subscription.id).parse() {
        response.headers_mut().insert(axum::http::header::LOCATION, v);
    }
    Ok(response)
}

pub async fn search_subscriptions(
    State(state): State<Arc<AppState>>,
    client: FhirClient,
) -> Result<Response, FhirError> {
    client.may_search("Subscription")?;
    let id = client.client_id.clone();
    let found = state
        .db
        .call_read(move |c| Ok(db::fhir::subscriptions_of(c, &id)?))
        .await
        .map_err(|e| FhirError::internal(&e))?;
    searchset(&state, found.iter().map(resource).collect())
}

pub async fn delete_subscription(
    State(state): State<Arc<AppState>>,
    client: FhirClient,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, FhirError> {
    client.may_delete("Subscription")?;
    let Ok(id) = Uuid::parse_str(&id) else { return Err(FhirError::not_found("Subscription")) };
    let owner = client.client_id.clone();
    let gone = state
        .db
        .write_unordered(move |tx| Ok(db::fhir::delete_subscription(tx, &owner, id)?))
        .await
        .map_err(|e| FhirError::internal(&e))?;
    if gone {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(FhirError::not_found("Subscription"))
    }
}

/// Something of `criteria` changed in the family of `dossier` (committed): every client with
/// a Subscription on it that serves the family's team is told, in the background.
pub fn changed(state: &Arc<AppState>, dossier: Uuid, criteria: &'static str) {
    let Some(config) = state.fhir.clone() else { return };
    if config.clients.iter().all(|c| c.notify_urls.is_empty()) {
        return;
    }
    let state = state.clone();
    tokio::spawn(async move {
        let found = state
            .db
            .call_read(move |c| {
                Ok((db::people::dossier_team(c, dossier)?, db::fhir::subscriptions_on(c, criteria)?))
            })
            .await;
        let (team, subscriptions) = match found {
            Ok(f) => f,
            Err(e) => return tracing::error!(code = ?e.code, "could not look up FHIR subscriptions"),
        };
        for s in subscriptions {
            // A client taken out of the configuration, or one whose endpoint the CJG no longer
            // allows, or of another team, is not told.
            let Some(client) = config.client(&s.client_id) else { continue };
            if !client.serves(&team) || client.notify_endpoint(&s.endpoint).is_none() {
                continue;
            }
            // One delivery per subscription at a time: changes that come while it runs are one
            // more notification after it, not one each (a burst of answers is one poll).
            let first = {
                let mut pending = config.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                match pending.get_mut(&s.id) {
                    Some(again) => {
                        *again = true;
                        false
                    }
                    None => {
                        pending.insert(s.id, false);
                        true
                    }
                }
            };
            if first {
                let config = config.clone();
                tokio::spawn(async move {
                    loop {
                        // Told once the change is in what a poll reads.
                        tokio::time::sleep(config.feed_margin.to_std().unwrap_or_default()).await;
                        deliver(&config.http, &s).await;
                        let mut pending =
                            config.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                        match pending.get_mut(&s.id) {
                            Some(again) if *again => *again = false,
                            _ => {
                                pending.remove(&s.id);
                                break;
                            }
                        }
                    }
                });
            }
        }
    });
}

async fn deliver(http: &openidconnect::reqwest::Client, s: &db::fhir::Subscription) {
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_secs(1 << (attempt - 1))).await;
        }
        let sent = http
            .post(&s.endpoint)
            .header(SUBSCRIPTION_HEADER, s.id.to_string())
            .header(axum::http::header::CONTENT_LENGTH, "0")
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => return,
            Ok(r) => {
                tracing::warn!(subscription = %s.id, status = r.status().as_u16(), "a FHIR notification was refused")
            }
            Err(_) => tracing::warn!(subscription = %s.id, "a FHIR notification could not be sent"),
        }
    }
    tracing::error!(subscription = %s.id, client = %s.client_id, "a FHIR notification was given up; the client's poll still finds the change");
}
