//! What the ECD writes: families (`Patient`, `RelatedPerson`), who works with them
//! (`CareTeam`) and dossier entries (`DocumentReference`).
//!
//! `POST /fhir/<Type>` and the conditional update `PUT /fhir/<Type>?identifier=system|value`
//! do the same: the ECD's identifier says whether the resource is new (201) or known (200), so
//! a resource sent twice is stored once. Each write is one transaction that checks the client's
//! scopes and teams, runs the same checks as the staff API (an entry is a checked draft about a
//! child of its dossier) and writes a line in the family's access log with the client's system
//! account, its purpose and `fhir:<client id>` as the application. A write that changes nothing
//! writes nothing, also no log line.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Query as UrlQuery, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use cjg_core::audit::{AuditAction, AuditObject, Purpose};
use cjg_core::entry::{Entry, EntryDraft, PersonRole};
use cjg_core::fhir::inbound::{self, ExternalId};
use cjg_core::fhir::{self as model, IssueType, Permissions};
use cjg_core::ErrorCode;
use serde_json::Value;
use uuid::Uuid;

use super::{config, fhir_json, FhirClient, FhirError};
use crate::auth::Peer;
use crate::db::people::NewPerson;
use crate::db::sql::Tx;
use crate::db::{self, StaffActor};
use crate::error::{AppError, AppResult};
use crate::AppState;

/// What the handlers share: the request as a resource, its method and query.
pub struct Incoming {
    method: Method,
    /// `PUT <Type>/<id>`: the id of the resource the write must land on.
    path_id: Option<String>,
    params: Vec<(String, String)>,
    body: Body,
}

/// The body as sent: within the limit, or how much too large.
enum Body {
    Read(Bytes),
    TooLarge,
    Broken,
}

/// How far past the limit a body is still read (and dropped) so that the client, still
/// sending, gets its `OperationOutcome` instead of a broken connection.
const DRAIN_BYTES: usize = 16 * 1024 * 1024;

/// Reads the body up to [`crate::MAX_BODY_BYTES`]; past it keeps reading without keeping, up
/// to [`DRAIN_BYTES`].
async fn read_body(body: axum::body::Body) -> Body {
    use futures_util::StreamExt;
    let mut stream = body.into_data_stream();
    let mut kept = Vec::new();
    let mut seen = 0usize;
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else { return Body::Broken };
        seen += chunk.len();
        if seen > DRAIN_BYTES {
            return Body::TooLarge;
        }
        if seen <= crate::MAX_BODY_BYTES {
            kept.extend_from_slice(&chunk);
        }
    }
    if seen > crate::MAX_BODY_BYTES {
        Body::TooLarge
    } else {
        Body::Read(Bytes::from(kept))
    }
}

impl<S: Send + Sync> axum::extract::FromRequest<S> for Incoming {
    type Rejection = FhirError;
    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, FhirError> {
        let method = req.method().clone();
        let (mut parts, body) = req.into_parts();
        let path_id = match axum::extract::RawPathParams::from_request_parts(&mut parts, state).await {
            Ok(p) => p.iter().find(|(k, _)| *k == "id").map(|(_, v)| v.to_owned()),
            Err(_) => None,
        };
        let UrlQuery(params) =
            <UrlQuery<Vec<(String, String)>> as FromRequestParts<S>>::from_request_parts(&mut parts, state)
                .await
                .map_err(|_| invalid_request("the query string cannot be read"))?;
        Ok(Self { method, path_id, params, body: read_body(body).await })
    }
}

fn invalid_request(why: impl Into<String>) -> FhirError {
    FhirError::new(StatusCode::BAD_REQUEST, IssueType::Invalid, "invalid_resource", why)
}

impl Incoming {
    /// The body as JSON, with the conditional update's identifier checked against it.
    pub(super) fn resource(&mut self) -> Result<Value, FhirError> {
        let body = match std::mem::replace(&mut self.body, Body::Broken) {
            Body::Read(b) => b,
            Body::TooLarge => {
                return Err(FhirError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    IssueType::TooCostly,
                    "payload_too_large",
                    format!(
                        "the resource is larger than {} KB; an entry's text holds at most 20,000 characters",
                        crate::MAX_BODY_BYTES / 1024
                    ),
                ))
            }
            Body::Broken => return Err(invalid_request("the body cannot be read")),
        };
        let resource: Value =
            serde_json::from_slice(&body).map_err(|_| invalid_request("the body is not JSON"))?;
        let mut conditional = None;
        for (name, value) in &self.params {
            match name.as_str() {
                "identifier" if self.method == Method::PUT && self.path_id.is_none() && conditional.is_none() => {
                    conditional = Some(
                        ExternalId::parse_token(value).map_err(|e| invalid_request(format!("identifier: {e}")))?,
                    );
                }
                "_format" if value == "json" || value == model::MEDIA_TYPE => {}
                _ => {
                    return Err(invalid_request(
                        "only PUT <Type>?identifier=system|value (a conditional update) and POST <Type> are taken",
                    ))
                }
            }
        }
        if self.method == Method::PUT && self.path_id.is_none() {
            let asked = conditional.ok_or_else(|| {
                invalid_request("PUT needs ?identifier=system|value: the ECD's identifier of the resource")
            })?;
            let first = &resource["identifier"][0];
            if first["system"].as_str() != Some(asked.system.as_str())
                || first["value"].as_str() != Some(asked.value.as_str())
            {
                return Err(invalid_request(
                    "the identifier in the address is not the resource's first identifier",
                ));
            }
        }
        Ok(resource)
    }
}

/// One access's context inside its transaction: who, for whom, and its log line.
pub(super) struct Writer {
    client_id: String,
    actor: StaffActor,
    purpose: Purpose,
    application: String,
    origin: String,
    now: DateTime<Utc>,
    teams: Option<Vec<String>>,
    permissions: Permissions,
    resource_type: &'static str,
    /// `PUT <Type>/<id>`: the write must land on this one, known by the identifier sent.
    expected: Option<Uuid>,
}

/// The answer of a write: created (201) or not, and the resource as now stored.
struct Written {
    created: bool,
    resource: Value,
}

impl Writer {
    pub(super) fn new(
        client: &FhirClient,
        resource_type: &'static str,
        origin: std::net::IpAddr,
        now: DateTime<Utc>,
        expected: Option<Uuid>,
    ) -> Self {
        Self {
            client_id: client.client_id.clone(),
            actor: client.actor.clone(),
            purpose: client.purpose,
            application: format!("fhir:{}", client.client_id),
            origin: origin.to_string(),
            now,
            teams: client.teams.clone(),
            permissions: client.scopes.on(resource_type),
            resource_type,
            expected,
        }
    }

    pub(super) fn log(
        &self,
        tx: &Tx<'_>,
        dossier_id: Uuid,
        action: AuditAction,
        object: AuditObject,
        object_id: Option<Uuid>,
    ) -> AppResult<()> {
        db::audit::append_audit(
            tx,
            &db::audit::AuditRecord {
                dossier_id,
                actor: &self.actor,
                action,
                object_type: object,
                object_id,
                purpose: self.purpose,
                purpose_note: None,
                origin: &self.origin,
                application: &self.application,
                at: self.now,
            },
        )?;
        Ok(())
    }

    pub(super) fn serves(&self, team: &str) -> bool {
        self.teams.as_ref().is_none_or(|t| t.iter().any(|x| x == team))
    }

    /// Creating needs `c`, changing what is there needs `u`, in the token's scopes.
    fn may(&self, creating: bool) -> AppResult<()> {
        let (allowed, letter) =
            if creating { (self.permissions.create, "c") } else { (self.permissions.update, "u") };
        if allowed {
            Ok(())
        } else {
            Err(AppError::new(
                ErrorCode::Forbidden,
                format!(
                    "the token has no scope to {} {}: ask for system/{}.{letter}",
                    if creating { "create" } else { "update" },
                    self.resource_type,
                    self.resource_type
                ),
            ))
        }
    }

    /// Sending a resource again unchanged: either letter will do (a retry of a create).
    fn may_resend(&self) -> AppResult<()> {
        if self.permissions.create || self.permissions.update {
            Ok(())
        } else {
            self.may(false)
        }
    }

    /// Removing (`entered-in-error`) needs `d`.
    fn may_delete(&self) -> AppResult<()> {
        if self.permissions.delete {
            Ok(())
        } else {
            Err(AppError::new(
                ErrorCode::Forbidden,
                format!("the token has no scope to remove {0}: ask for system/{0}.d", self.resource_type),
            ))
        }
    }

    /// A young person of one of the client's teams, named by a reference; any other id
    /// (another CJG's, a parent's, a typo) is "not known here" alike.
    fn patient(&self, tx: &Tx<'_>, id: Uuid) -> AppResult<db::fhir::PatientRow> {
        db::fhir::patients(tx, Some(id))?.into_iter().find(|p| self.serves(&p.team)).ok_or_else(|| {
            AppError::new(
                ErrorCode::Validation,
                format!("Patient/{id} is not known here: send the Patient first and use the id it got"),
            )
        })
    }

    /// The record the client's identifier of its resource stands for; with `PUT <Type>/<id>`
    /// it must be that id (an update by id never creates, and never lands elsewhere).
    fn linked(&self, tx: &Tx<'_>, resource_type: &str, id: &ExternalId) -> AppResult<Option<Uuid>> {
        let found = db::fhir::linked(tx, &self.client_id, resource_type, id)?;
        if resource_type == self.resource_type && self.expected.is_some() && found != self.expected {
            return Err(unprocessable(format!(
                "{resource_type}/<id> is not the resource sent with this identifier: create with POST or PUT {resource_type}?identifier=system|value"
            )));
        }
        Ok(found)
    }

    fn link(&self, tx: &Tx<'_>, resource_type: &str, id: &ExternalId, local: Uuid) -> AppResult<()> {
        Ok(db::fhir::link(tx, &self.client_id, resource_type, id, local)?)
    }
}

fn unprocessable(message: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::Validation, message)
}

/// A refusal of the shared rules, as an `OperationOutcome`.
fn outcome_of(e: AppError) -> FhirError {
    match e.code {
        ErrorCode::Validation => FhirError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            IssueType::Processing,
            "unprocessable",
            e.message,
        ),
        ErrorCode::Forbidden => {
            FhirError::new(StatusCode::FORBIDDEN, IssueType::Forbidden, "forbidden", e.message)
        }
        ErrorCode::NotFound => FhirError::not_found("the resource"),
        ErrorCode::Conflict => {
            FhirError::new(StatusCode::CONFLICT, IssueType::Conflict, "conflict", e.message)
        }
        _ => FhirError::internal(&e),
    }
}

/// Runs one write: the resource read by `parse`, stored by `store` in one transaction.
async fn write<T: Send + 'static>(
    state: &AppState,
    client: &FhirClient,
    origin: std::net::IpAddr,
    resource_type: &'static str,
    mut incoming: Incoming,
    parse: impl FnOnce(&Value, chrono::NaiveDate) -> Result<T, inbound::Invalid>,
    store: impl FnOnce(&Tx<'_>, &Writer, T) -> AppResult<Written> + Send + 'static,
) -> Result<Response, FhirError> {
    let base = config(state)?.base_url.clone();
    let resource = incoming.resource()?;
    let expected = match incoming.path_id.as_deref() {
        None => None,
        Some(id) => {
            if resource.get("id").is_some_and(|body| body.as_str() != Some(id)) {
                return Err(invalid_request("the id in the body is not the id in the address"));
            }
            Some(Uuid::parse_str(id).map_err(|_| FhirError::not_found(resource_type))?)
        }
    };
    let now = state.clock.now();
    let parsed = parse(&resource, cjg_core::time::dutch_date(now))
        .map_err(|e| FhirError::new(StatusCode::BAD_REQUEST, IssueType::Invalid, "invalid_resource", e.0))?;
    let writer = Writer::new(client, resource_type, origin, now, expected);
    // A client that may not write this type at all learns nothing more (not even whether the
    // patient it names is known).
    if !writer.permissions.create && !writer.permissions.update && !writer.permissions.delete {
        return Err(FhirError::new(
            StatusCode::FORBIDDEN,
            IssueType::Forbidden,
            "forbidden",
            format!("the token has no scope to write {resource_type}: ask for system/{resource_type}.cu"),
        ));
    }
    let written = state.db.write(move |tx| store(tx, &writer, parsed)).await.map_err(outcome_of)?;
    let status = if written.created { StatusCode::CREATED } else { StatusCode::OK };
    let mut response = fhir_json(status, &written.resource);
    if written.created {
        let location =
            format!("{base}/{resource_type}/{}", written.resource["id"].as_str().unwrap_or_default());
        if let Ok(v) = HeaderValue::from_str(&location) {
            response.headers_mut().insert(header::LOCATION, v);
        }
    }
    Ok(response)
}

pub async fn patient(
    State(state): State<Arc<AppState>>,
    Peer(ip): Peer,
    client: FhirClient,
    incoming: Incoming,
) -> Result<Response, FhirError> {
    write(&state, &client, ip, "Patient", incoming, inbound::patient, store_patient).await
}

fn store_patient(tx: &Tx<'_>, w: &Writer, p: inbound::PatientIn) -> AppResult<Written> {
    if let Some(team) = &p.team {
        if !w.serves(team) {
            return Err(AppError::new(
                ErrorCode::Forbidden,
                "this client does not serve the team in managingOrganization",
            ));
        }
    }
    let person = NewPerson {
        role: PersonRole::Child,
        display_name: &p.display_name,
        birth_date: p.birth_date,
        has_gezag: false,
    };
    let (id, created) = match w.linked(tx, "Patient", &p.identifier)? {
        Some(id) => {
            let row = w.patient(tx, id)?;
            if let Some(family) = &p.family {
                if w.linked(tx, "family", family)? != Some(row.dossier_id) {
                    return Err(unprocessable(
                        "this young person is in another family than the family extension names: a person does not move between families through FHIR",
                    ));
                }
            }
            let team_changes = p.team.as_deref().is_some_and(|t| t != row.team);
            if team_changes || db::people::differs(tx, id, &person)? {
                w.may(false)?;
            } else {
                w.may_resend()?;
            }
            let mut changed = db::people::update_person(tx, id, &person)?;
            if let Some(team) = p.team.as_deref().filter(|t| *t != row.team) {
                db::people::set_dossier_team(tx, row.dossier_id, team)?;
                changed = true;
            }
            if changed {
                w.log(tx, row.dossier_id, AuditAction::Update, AuditObject::People, Some(id))?;
            }
            (id, false)
        }
        None => {
            w.may(true)?;
            let known = match &p.family {
                Some(family) => w.linked(tx, "family", family)?,
                None => None,
            };
            let dossier = match known {
                Some(dossier) => {
                    let team = db::people::dossier_team(tx, dossier)?;
                    if !w.serves(&team) {
                        return Err(unprocessable(
                            "the family in the family extension is not one of this client's teams",
                        ));
                    }
                    if p.team.as_deref().is_some_and(|t| t != team) {
                        return Err(unprocessable(
                            "managingOrganization names another team than the family's: send the family's team, or move the family with an update of one of its young people",
                        ));
                    }
                    dossier
                }
                None => {
                    let team = match (&p.team, &w.teams) {
                        (Some(t), _) => t.clone(),
                        (None, Some(teams)) if teams.len() == 1 => teams[0].clone(),
                        _ => {
                            return Err(unprocessable(format!(
                                "a new family needs its team: managingOrganization.identifier {}|<team>",
                                inbound::TEAM_SYSTEM
                            )))
                        }
                    };
                    let family_name = p
                        .family_name
                        .as_deref()
                        .ok_or_else(|| unprocessable("a new family needs its name: name[0].family"))?;
                    let dossier = Uuid::new_v4();
                    db::people::insert_dossier(tx, dossier, family_name, false, w.now)?;
                    db::people::set_dossier_team(tx, dossier, &team)?;
                    if let Some(family) = &p.family {
                        w.link(tx, "family", family, dossier)?;
                    }
                    dossier
                }
            };
            let id = db::people::insert_person(tx, dossier, &person)?;
            w.link(tx, "Patient", &p.identifier, id)?;
            w.log(tx, dossier, AuditAction::Create, AuditObject::People, Some(id))?;
            (id, true)
        }
    };
    let resource =
        model::patient(&id.to_string(), &p.display_name, &p.birth_date.to_string(), Some(&p.identifier));
    Ok(Written { created, resource })
}

pub async fn related_person(
    State(state): State<Arc<AppState>>,
    Peer(ip): Peer,
    client: FhirClient,
    incoming: Incoming,
) -> Result<Response, FhirError> {
    write(&state, &client, ip, "RelatedPerson", incoming, inbound::related_person, store_related_person).await
}

fn store_related_person(tx: &Tx<'_>, w: &Writer, r: inbound::RelatedPersonIn) -> AppResult<Written> {
    let patient = w.patient(tx, r.patient)?;
    let person = NewPerson {
        role: r.role,
        display_name: &r.display_name,
        birth_date: r.birth_date,
        has_gezag: r.has_gezag,
    };
    let (id, created) = match w.linked(tx, "RelatedPerson", &r.identifier)? {
        Some(id) => {
            let known = db::people::person(tx, id)?.ok_or_else(AppError::not_found)?;
            if known.dossier_id != patient.dossier_id {
                return Err(unprocessable("this RelatedPerson belongs to another family: it cannot move"));
            }
            if db::people::differs(tx, id, &person)? {
                w.may(false)?;
            } else {
                w.may_resend()?;
            }
            if db::people::update_person(tx, id, &person)? {
                w.log(tx, patient.dossier_id, AuditAction::Update, AuditObject::People, Some(id))?;
            }
            (id, false)
        }
        None => {
            w.may(true)?;
            let id = db::people::insert_person(tx, patient.dossier_id, &person)?;
            w.link(tx, "RelatedPerson", &r.identifier, id)?;
            w.log(tx, patient.dossier_id, AuditAction::Create, AuditObject::People, Some(id))?;
            (id, true)
        }
    };
    let resource = model::related_person(
        &id.to_string(),
        &patient.id.to_string(),
        &r.display_name,
        &r.birth_date.to_string(),
        r.role,
        r.has_gezag,
        Some(&r.identifier),
    );
    Ok(Written { created, resource })
}

pub async fn care_team(
    State(state): State<Arc<AppState>>,
    Peer(ip): Peer,
    client: FhirClient,
    incoming: Incoming,
) -> Result<Response, FhirError> {
    write(&state, &client, ip, "CareTeam", incoming, |r, _| inbound::care_team(r), store_care_team).await
}

/// The care team is the family's: its practitioners become exactly the staff who work on the
/// dossier (the ECD is where the CJG decides who helps a family).
fn store_care_team(tx: &Tx<'_>, w: &Writer, t: inbound::CareTeamIn) -> AppResult<Written> {
    let patient = w.patient(tx, t.patient)?;
    let dossier = patient.dossier_id;
    let created = match w.linked(tx, "CareTeam", &t.identifier)? {
        Some(d) if d != dossier => {
            return Err(unprocessable("this CareTeam serves another family: it cannot move"));
        }
        Some(_) => false,
        None => {
            w.may(true)?;
            if db::fhir::identifier_of(tx, &w.client_id, "CareTeam", dossier)?.is_some() {
                return Err(unprocessable(
                    "this family has a CareTeam already (one per family): update that one",
                ));
            }
            w.link(tx, "CareTeam", &t.identifier, dossier)?;
            true
        }
    };
    let mut staff = if t.active { t.practitioners } else { Vec::new() };
    staff.sort();
    let changes = db::fhir::dossier_staff(tx, dossier)? != staff;
    if created {
        db::fhir::set_dossier_staff(tx, dossier, &staff)?;
        w.log(tx, dossier, AuditAction::Create, AuditObject::CareTeam, None)?;
    } else if changes {
        w.may(false)?;
        db::fhir::set_dossier_staff(tx, dossier, &staff)?;
        w.log(tx, dossier, AuditAction::Update, AuditObject::CareTeam, None)?;
    } else {
        w.may_resend()?;
    }
    let resource =
        model::care_team(&dossier.to_string(), &patient.id.to_string(), &staff, Some(&t.identifier));
    Ok(Written { created, resource })
}

pub async fn document_reference(
    State(state): State<Arc<AppState>>,
    Peer(ip): Peer,
    client: FhirClient,
    incoming: Incoming,
) -> Result<Response, FhirError> {
    write(
        &state,
        &client,
        ip,
        "DocumentReference",
        incoming,
        |r, _| inbound::document_reference(r),
        store_document,
    )
    .await
}

fn same_entry(e: &Entry, d: &EntryDraft, author: &StaffActor) -> bool {
    e.kind == d.kind
        && e.child_id == d.child_id
        && e.visibility == d.visibility()
        && e.title == d.title
        && e.body == d.body
        && e.occurred_on == d.occurred_on
        && e.author_name == author.display_name
}

fn store_document(tx: &Tx<'_>, w: &Writer, d: inbound::DocumentReferenceIn) -> AppResult<Written> {
    let patient = w.patient(tx, d.patient)?;
    let dossier = patient.dossier_id;
    // The coach named as author must work with this family; without one, the client's name.
    // A removal needs no author: the coach may have left the family's care team since.
    let author = match d.author.filter(|_| d.current) {
        None => w.actor.clone(),
        Some(id) => {
            let works_here = db::fhir::dossier_staff(tx, dossier)?.contains(&id);
            db::staff::staff_by_id(tx, id)?.filter(|_| works_here).ok_or_else(|| {
                unprocessable(format!("author Practitioner/{id} is not in this family's CareTeam"))
            })?
        }
    };
    let change = |by| db::entries::Change { by, at: w.now, purpose: w.purpose, reason: None };
    let subject = patient.id.to_string();
    let external = Some(&d.identifier);
    let (entry, created) = match w.linked(tx, "DocumentReference", &d.identifier)? {
        Some(id) => {
            if db::entries::any_entry_dossier(tx, id)? != Some(dossier) {
                return Err(unprocessable("this DocumentReference is about another family: it cannot move"));
            }
            let Some(current) = db::entries::current_entry(tx, id)? else {
                if d.current {
                    return Err(unprocessable(
                        "this entry was removed (entered-in-error); send a new one with a new identifier",
                    ));
                }
                w.may_delete()?;
                return Ok(Written { created: false, resource: removed(id) });
            };
            if !d.current {
                w.may_delete()?;
                // The client removes it; no coach is named for that.
                db::entries::delete_entry(tx, id, &change(&w.actor))?;
                w.log(tx, dossier, AuditAction::Delete, AuditObject::Entry, Some(id))?;
                return Ok(Written { created: false, resource: removed(id) });
            }
            if same_entry(&current, &d.draft, &author) {
                w.may_resend()?;
                (current, false)
            } else {
                w.may(false)?;
                let entry = db::entries::update_entry(tx, id, current.version, &d.draft, &change(&author))?;
                w.log(tx, dossier, AuditAction::Update, AuditObject::Entry, Some(id))?;
                (entry, false)
            }
        }
        None => {
            w.may(true)?;
            if !d.current {
                return Err(unprocessable(
                    "no DocumentReference with this identifier was sent: nothing to remove",
                ));
            }
            let entry = db::entries::create_entry(tx, dossier, &author, &d.draft, w.now)?;
            w.link(tx, "DocumentReference", &d.identifier, entry.id)?;
            w.log(tx, dossier, AuditAction::Create, AuditObject::Entry, Some(entry.id))?;
            (entry, true)
        }
    };
    Ok(Written { created, resource: model::document_reference(&entry, Some(&subject), external) })
}

/// The answer when an entry is gone: what happened, not the text that was there.
fn removed(id: Uuid) -> Value {
    model::operation_outcome_information(&format!(
        "DocumentReference/{id} is removed: the family's apps drop it at their next sync; its text stays in the entry's history"
    ))
}

pub async fn task(
    State(state): State<Arc<AppState>>,
    Peer(ip): Peer,
    client: FhirClient,
    incoming: Incoming,
) -> Result<Response, FhirError> {
    write(&state, &client, ip, "Task", incoming, |r, _| model::questionnaires::task(r), store_task).await
}

/// A Task sends the moment's questionnaire to its owner, as a coach sends one by hand (one
/// per person and moment; the parents' or the youth's version by who the owner is). A Task sent
/// again is the same questionnaire; it cannot change or be withdrawn through FHIR.
fn store_task(tx: &Tx<'_>, w: &Writer, t: model::questionnaires::TaskIn) -> AppResult<Written> {
    use model::questionnaires::Owner;
    let patient = w.patient(tx, t.patient)?;
    let member = db::people::person(tx, t.owner.id())?.filter(|p| {
        p.dossier_id == patient.dossier_id
            && match t.owner {
                Owner::Patient(_) => p.role == PersonRole::Child,
                Owner::RelatedPerson(_) => p.role != PersonRole::Child,
            }
    });
    if member.is_none() {
        return Err(unprocessable(format!("owner {} is not a member of this family", t.owner.reference())));
    }
    let (task, created) = match w.linked(tx, "Task", &t.identifier)? {
        Some(id) => {
            w.may_resend()?;
            let task = db::questionnaires::task(tx, id)?.ok_or_else(AppError::not_found)?;
            if task.person_id != t.owner.id() || task.definition.phase != t.phase {
                return Err(unprocessable(
                    "a sent questionnaire cannot change its owner or moment: send a new Task with a new identifier",
                ));
            }
            // The answer tells whether the person answered: that is a read of their task.
            w.log(tx, patient.dossier_id, AuditAction::Read, AuditObject::Questionnaire, Some(id))?;
            (task, false)
        }
        None => {
            w.may(true)?;
            let send = cjg_core::questionnaire::SendQuestionnaire {
                person_id: t.owner.id(),
                phase: t.phase,
                due_on: None,
            };
            let task = db::questionnaires::send_by_hand(tx, patient.dossier_id, &w.actor, &send, w.now)?;
            w.link(tx, "Task", &t.identifier, task.id)?;
            w.log(tx, patient.dossier_id, AuditAction::Create, AuditObject::Questionnaire, Some(task.id))?;
            (task, true)
        }
    };
    let resource = model::questionnaires::task_resource(&task, patient.id, t.owner, Some(&t.identifier));
    Ok(Written { created, resource })
}
