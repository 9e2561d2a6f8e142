//! Reading back what the ECD keeps in step with: a family's entries (`DocumentReference`), its
//! parents and carers (`RelatedPerson`) and its care team (`CareTeam`), by family
//! (`?patient=`) or by id. Each read is a line in the family's access log, as for a coach.

use std::sync::Arc;

use axum::extract::{Path as UrlPath, Query as UrlQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use cjg_core::audit::AuditObject;
use cjg_core::fhir::{self as model, IssueType};
use cjg_core::PersonRole;
use serde_json::Value;
use uuid::Uuid;

use super::answers::{in_family, parse_search, patient_required};
use super::{config, fhir_json, FhirClient, FhirError};
use crate::auth::Peer;
use crate::db::sql::{Query, Tx};
use crate::db::{self, Window};
use crate::error::AppResult;
use crate::AppState;

/// What one resource type reads of a family.
struct Kind {
    resource: &'static str,
    /// The access-log object of a search and of a read by id.
    objects: (AuditObject, AuditObject),
    /// The family's resources, in a stable order.
    all: fn(&Tx<'_>, &db::fhir::PatientRow, &str) -> AppResult<Vec<Value>>,
    /// The family an id belongs to, if any.
    family_of: fn(&dyn Query, Uuid) -> AppResult<Option<Uuid>>,
}

fn entries(tx: &Tx<'_>, row: &db::fhir::PatientRow, client: &str) -> AppResult<Vec<Value>> {
    let found = db::entries::dossier_entries(tx, row.dossier_id, Window::ALL)?;
    let mut out = Vec::with_capacity(found.len());
    for e in found {
        let external = db::fhir::identifier_of(tx, client, "DocumentReference", e.id)?;
        out.push(model::document_reference(&e, Some(&row.id.to_string()), external.as_ref()));
    }
    Ok(out)
}

fn related_people(tx: &Tx<'_>, row: &db::fhir::PatientRow, client: &str) -> AppResult<Vec<Value>> {
    let mut out = Vec::new();
    for p in
        db::people::dossier_people(tx, row.dossier_id)?.into_iter().filter(|p| p.role != PersonRole::Child)
    {
        let external = db::fhir::identifier_of(tx, client, "RelatedPerson", p.id)?;
        out.push(model::related_person(
            &p.id.to_string(),
            &row.id.to_string(),
            &p.display_name,
            &p.birth_date.to_string(),
            p.role,
            p.has_gezag,
            external.as_ref(),
        ));
    }
    Ok(out)
}

fn care_team(tx: &Tx<'_>, row: &db::fhir::PatientRow, client: &str) -> AppResult<Vec<Value>> {
    let staff = db::fhir::dossier_staff(tx, row.dossier_id)?;
    let external = db::fhir::identifier_of(tx, client, "CareTeam", row.dossier_id)?;
    Ok(vec![model::care_team(&row.dossier_id.to_string(), &row.id.to_string(), &staff, external.as_ref())])
}

fn entry_family(tx: &dyn Query, id: Uuid) -> AppResult<Option<Uuid>> {
    Ok(db::entries::entry_dossier(tx, id)?)
}

fn person_family(tx: &dyn Query, id: Uuid) -> AppResult<Option<Uuid>> {
    Ok(db::people::person(tx, id)?.filter(|p| p.role != PersonRole::Child).map(|p| p.dossier_id))
}

fn team_family(tx: &dyn Query, id: Uuid) -> AppResult<Option<Uuid>> {
    // A care team's id is its family's dossier id.
    Ok(db::fhir::a_patient_of(tx, id)?.map(|_| id))
}

const ENTRIES: Kind = Kind {
    resource: "DocumentReference",
    objects: (AuditObject::Entries, AuditObject::Entry),
    all: entries,
    family_of: entry_family,
};
const RELATED: Kind = Kind {
    resource: "RelatedPerson",
    objects: (AuditObject::People, AuditObject::People),
    all: related_people,
    family_of: person_family,
};
const CARE_TEAM: Kind = Kind {
    resource: "CareTeam",
    objects: (AuditObject::CareTeam, AuditObject::CareTeam),
    all: care_team,
    family_of: team_family,
};

/// `GET /fhir/<Type>?patient=…`: the family's resources of this type, in pages.
async fn search(
    state: &AppState,
    client: &FhirClient,
    origin: std::net::IpAddr,
    params: &[(String, String)],
    kind: Kind,
) -> Result<Response, FhirError> {
    client.may_search(kind.resource)?;
    let search = parse_search(params, "_lastUpdated")?;
    if search.since.is_some() {
        return Err(FhirError::new(
            StatusCode::BAD_REQUEST,
            IssueType::NotSupported,
            "unknown_search_parameter",
            format!("{} is searched by patient only", kind.resource),
        ));
    }
    let base = config(state)?.base_url.clone();
    let patient = match search.patient {
        None => return Err(patient_required(kind.resource, "")),
        Some(None) => return Ok(fhir_json(StatusCode::OK, &model::search_page(&base, Vec::new(), None))),
        Some(Some(p)) => p,
    };
    let (skip, take) = (search.offset.unsigned_abs() as usize, search.count.unsigned_abs() as usize);
    let (all, client_id) = (kind.all, client.client_id.clone());
    let found = in_family(state, client, origin, patient, (kind.objects.0, None), move |tx, row| {
        Ok(all(tx, row, &client_id)?.into_iter().skip(skip).take(take + 1).collect::<Vec<_>>())
    })
    .await?;
    let mut found = found.unwrap_or_default();
    let next = (found.len() > take).then(|| {
        found.truncate(take);
        search.next(&base, kind.resource, "_lastUpdated", None)
    });
    Ok(fhir_json(StatusCode::OK, &model::search_page(&base, found, next.as_deref())))
}

/// `GET /fhir/<Type>/<id>`: one resource, if it is of a family of the client's teams.
async fn read(
    state: &AppState,
    client: &FhirClient,
    origin: std::net::IpAddr,
    id: &str,
    kind: Kind,
) -> Result<Response, FhirError> {
    client.may_read(kind.resource)?;
    let not_found = || FhirError::not_found(kind.resource);
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    let family_of = kind.family_of;
    let patient = state
        .db
        .call_read(move |c| {
            let Some(dossier) = family_of(c, id)? else { return Ok(None) };
            Ok(db::fhir::a_patient_of(c, dossier)?)
        })
        .await
        .map_err(|e| FhirError::internal(&e))?
        .ok_or_else(not_found)?;
    let object_id = (kind.objects.1 == AuditObject::Entry).then_some(id);
    let (all, client_id) = (kind.all, client.client_id.clone());
    let found = in_family(state, client, origin, patient, (kind.objects.1, object_id), move |tx, row| {
        Ok(all(tx, row, &client_id)?.into_iter().find(|r| r["id"].as_str() == Some(id.to_string().as_str())))
    })
    .await?;
    Ok(fhir_json(StatusCode::OK, &found.flatten().ok_or_else(not_found)?))
}

macro_rules! routes {
    ($search:ident, $read:ident, $kind:expr) => {
        pub async fn $search(
            State(state): State<Arc<AppState>>,
            Peer(ip): Peer,
            client: FhirClient,
            UrlQuery(params): UrlQuery<Vec<(String, String)>>,
        ) -> Result<Response, FhirError> {
            search(&state, &client, ip, &params, $kind).await
        }

        pub async fn $read(
            State(state): State<Arc<AppState>>,
            Peer(ip): Peer,
            client: FhirClient,
            UrlPath(id): UrlPath<String>,
        ) -> Result<Response, FhirError> {
            read(&state, &client, ip, &id, $kind).await
        }
    };
}

routes!(search_entries, read_entry, ENTRIES);
routes!(search_related_people, read_related_person, RELATED);
routes!(search_care_teams, read_care_team, CARE_TEAM);
