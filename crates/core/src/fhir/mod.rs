//! HL7 FHIR R4 as Mijn CJG speaks it with the CJG's own systems (the ECD), following
//! Koppeltaal 2.0 where it has a profile (see `docs/fhir.md`). Pure: the resources are built
//! from domain values here; the server only fetches and answers.

pub mod audit;
pub mod export;
pub mod feedback;
pub mod inbound;
pub mod questionnaires;

use serde_json::{json, Value};

use crate::entry::{Entry, PersonRole};

pub const FHIR_VERSION: &str = "4.0.1";
pub const MEDIA_TYPE: &str = "application/fhir+json";
/// Identifiers Mijn CJG gives out: `urn:uuid:` values under this system.
pub const IDENTIFIER_SYSTEM: &str = "urn:ietf:rfc:3986";

/// What a scope lets a client do with one resource type (SMART App Launch 2: `cruds`;
/// version 1's `read` and `write` are taken too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Permissions {
    pub create: bool,
    pub read: bool,
    pub update: bool,
    pub delete: bool,
    pub search: bool,
}

impl Permissions {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "read" => return Some(Self { read: true, search: true, ..Self::default() }),
            "write" => return Some(Self { create: true, update: true, delete: true, ..Self::default() }),
            "*" => return Some(Self { create: true, read: true, update: true, delete: true, search: true }),
            _ => {}
        }
        // SMART 2: the letters in this order, each at most once.
        let mut p = Self::default();
        let mut rest = s;
        for (letter, flag) in [
            ('c', &mut p.create),
            ('r', &mut p.read),
            ('u', &mut p.update),
            ('d', &mut p.delete),
            ('s', &mut p.search),
        ] {
            if let Some(r) = rest.strip_prefix(letter) {
                *flag = true;
                rest = r;
            }
        }
        (rest.is_empty() && !s.is_empty()).then_some(p)
    }

    fn union(self, o: Self) -> Self {
        Self {
            create: self.create || o.create,
            read: self.read || o.read,
            update: self.update || o.update,
            delete: self.delete || o.delete,
            search: self.search || o.search,
        }
    }

    fn within(self, o: Self) -> bool {
        (!self.create || o.create)
            && (!self.read || o.read)
            && (!self.update || o.update)
            && (!self.delete || o.delete)
            && (!self.search || o.search)
    }
}

/// One `system/<Type>.<permissions>` scope of a backend client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// A resource type, or `*`.
    pub resource: String,
    pub permissions: Permissions,
    /// The scope as written, given back in the token answer.
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("scope {0:?} is not system/<ResourceType>.<permissions>")]
    Malformed(String),
    #[error("scope {0:?} is not allowed for this client")]
    NotAllowed(String),
    #[error("no scope asked for")]
    Empty,
}

impl Scope {
    pub fn parse(s: &str) -> Result<Self, ScopeError> {
        let malformed = || ScopeError::Malformed(s.chars().take(100).collect());
        let rest = s.strip_prefix("system/").ok_or_else(malformed)?;
        let (resource, perms) = rest.split_once('.').ok_or_else(malformed)?;
        let valid_type = resource == "*"
            || (resource.len() <= 64
                && resource.starts_with(|c: char| c.is_ascii_uppercase())
                && resource.chars().all(|c| c.is_ascii_alphanumeric()));
        if !valid_type {
            return Err(malformed());
        }
        let permissions = Permissions::parse(perms).ok_or_else(malformed)?;
        Ok(Self { resource: resource.to_owned(), permissions, text: s.to_owned() })
    }
}

/// The scopes a client holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scopes(pub Vec<Scope>);

impl Scopes {
    /// Space-separated scopes, each well-formed.
    pub fn parse(s: &str) -> Result<Self, ScopeError> {
        s.split_ascii_whitespace().map(Scope::parse).collect::<Result<Vec<_>, _>>().map(Self)
    }

    /// What these scopes allow on `resource`.
    pub fn on(&self, resource: &str) -> Permissions {
        self.0
            .iter()
            .filter(|s| s.resource == "*" || s.resource == resource)
            .fold(Permissions::default(), |acc, s| acc.union(s.permissions))
    }

    /// The scopes asked for, each within what the client was given (the token carries only
    /// these).
    pub fn grant(&self, asked: &str) -> Result<Self, ScopeError> {
        let asked = Self::parse(asked)?;
        if asked.0.is_empty() {
            return Err(ScopeError::Empty);
        }
        for scope in &asked.0 {
            let allowed = if scope.resource == "*" {
                self.0.iter().any(|s| s.resource == "*" && scope.permissions.within(s.permissions))
            } else {
                scope.permissions.within(self.on(&scope.resource))
            };
            if !allowed {
                return Err(ScopeError::NotAllowed(scope.text.clone()));
            }
        }
        Ok(asked)
    }

    pub fn to_text(&self) -> String {
        self.0.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join(" ")
    }
}

/// FHIR's issue types (`http://hl7.org/fhir/issue-type`) that Mijn CJG answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueType {
    Invalid,
    Security,
    Login,
    Forbidden,
    NotFound,
    NotSupported,
    Throttled,
    TooCostly,
    Processing,
    Conflict,
    Exception,
}

impl IssueType {
    pub fn code(self) -> &'static str {
        match self {
            Self::Invalid => "invalid",
            Self::Security => "security",
            Self::Login => "login",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not-found",
            Self::NotSupported => "not-supported",
            Self::Throttled => "throttled",
            Self::TooCostly => "too-costly",
            Self::Processing => "processing",
            Self::Conflict => "conflict",
            Self::Exception => "exception",
        }
    }
}

/// An `OperationOutcome` with one error: what went wrong, in words an ECD's developer can act on.
/// `code` is Mijn CJG's stable error code, also in `details` for machines.
pub fn operation_outcome(issue: IssueType, code: &str, diagnostics: &str) -> Value {
    json!({
        "resourceType": "OperationOutcome",
        "issue": [{
            "severity": "error",
            "code": issue.code(),
            "details": {"coding": [{"system": "https://mijn-cjg.nl/fhir/CodeSystem/error", "code": code}]},
            "diagnostics": diagnostics,
        }],
    })
}

/// An `OperationOutcome` that only informs (a write that removed what it named).
pub fn operation_outcome_information(diagnostics: &str) -> Value {
    json!({
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "information", "code": "informational", "diagnostics": diagnostics}],
    })
}

/// The resource types and interactions the server supports, as the CapabilityStatement lists
/// them: nothing is listed that is not served.
pub struct Supported {
    pub resource: &'static str,
    pub interactions: &'static [&'static str],
    pub search_params: &'static [(&'static str, &'static str)],
    /// The Koppeltaal 2.0 profile the resource follows, if any.
    pub profile: Option<&'static str>,
}

/// The change feeds (answers, feedback): by family or since a moment, paged by their `next`
/// links (which carry a place, not an offset).
const FEED_PARAMS: &[(&str, &str)] =
    &[("patient", "reference"), ("_lastUpdated", "date"), ("_count", "number")];

pub const SUPPORTED: &[Supported] = &[
    Supported {
        resource: "Patient",
        interactions: &["read", "search-type", "create", "update"],
        search_params: &[("identifier", "token"), ("_id", "token")],
        // KT2_Patient asks for the name in parts and a gender; Mijn CJG keeps one display name
        // and no gender, so it does not claim the profile (docs/fhir.md).
        profile: None,
    },
    Supported {
        resource: "Practitioner",
        interactions: &["read", "search-type"],
        search_params: &[("identifier", "token"), ("_id", "token")],
        // KT2_Practitioner asks for the name in parts (zib NameInformation); Mijn CJG keeps one
        // display name, so it does not claim the profile (docs/fhir.md).
        profile: None,
    },
    Supported {
        resource: "RelatedPerson",
        interactions: &["read", "search-type", "create", "update"],
        search_params: &[("patient", "reference"), ("_count", "number"), ("_offset", "number")],
        profile: None,
    },
    Supported {
        resource: "CareTeam",
        interactions: &["read", "search-type", "create", "update"],
        search_params: &[("patient", "reference"), ("_count", "number"), ("_offset", "number")],
        profile: None,
    },
    Supported {
        resource: "DocumentReference",
        interactions: &["read", "search-type", "create", "update"],
        search_params: &[("patient", "reference"), ("_count", "number"), ("_offset", "number")],
        profile: None,
    },
    Supported { resource: "Task", interactions: &["create", "update"], search_params: &[], profile: None },
    Supported {
        resource: "Questionnaire",
        interactions: &["read", "search-type"],
        search_params: &[],
        profile: None,
    },
    Supported {
        resource: "ActivityDefinition",
        interactions: &["read", "search-type"],
        search_params: &[],
        profile: None,
    },
    Supported {
        resource: "QuestionnaireResponse",
        interactions: &["read", "search-type"],
        search_params: FEED_PARAMS,
        profile: None,
    },
    Supported {
        resource: "Communication",
        interactions: &["search-type"],
        search_params: FEED_PARAMS,
        profile: None,
    },
    Supported {
        resource: "Subscription",
        interactions: &["create", "search-type", "delete"],
        search_params: &[],
        profile: None,
    },
    Supported {
        resource: "AuditEvent",
        interactions: &["search-type"],
        search_params: &[
            ("patient", "reference"),
            ("date", "date"),
            ("_count", "number"),
            ("_offset", "number"),
        ],
        profile: None,
    },
];

/// `GET /fhir/metadata`. `base` is the server's public FHIR base (`https://…/fhir`),
/// `token_url` its SMART token endpoint.
pub fn capability_statement(base: &str, token_url: &str, software_version: &str, date: &str) -> Value {
    let resources: Vec<Value> = SUPPORTED
        .iter()
        .map(|s| {
            let mut r = json!({
                "type": s.resource,
                "interaction": s.interactions.iter().map(|i| json!({"code": i})).collect::<Vec<_>>(),
                "searchParam": s.search_params.iter().map(|(n, t)| json!({"name": n, "type": t})).collect::<Vec<_>>(),
            });
            if let Some(profile) = s.profile {
                r["supportedProfile"] = json!([profile]);
            }
            if s.interactions.contains(&"update") {
                // PUT <Type>?identifier=system|value creates or updates by the ECD's identifier;
                // PUT <Type>/<id> only updates what is there.
                r["conditionalUpdate"] = json!(true);
                r["updateCreate"] = json!(false);
            }
            r
        })
        .collect();
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date,
        "publisher": "Mijn CJG",
        "kind": "instance",
        "software": {"name": "Mijn CJG", "version": software_version},
        "implementation": {"description": "Mijn CJG: the family app of the Centrum voor Jeugd en Gezin", "url": base},
        "fhirVersion": FHIR_VERSION,
        "format": [MEDIA_TYPE],
        "rest": [{
            "mode": "server",
            "security": {
                "service": [{"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                    "code": "SMART-on-FHIR",
                }]}],
                "description": "SMART Backend Services: a signed JWT client assertion (RS384 or ES384) for a short-lived access token",
                "extension": [{
                    "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                    "extension": [{"url": "token", "valueUri": token_url}],
                }],
            },
            "resource": resources,
        }],
    })
}

/// A staff member of Mijn CJG as a `Practitioner`: an identifier, active, the name families
/// see in Inzage. Only what an ECD needs to match its own staff: no username, no sign-in.
pub fn practitioner(id: &str, display_name: &str, active: bool) -> Value {
    json!({
        "resourceType": "Practitioner",
        "id": id,
        "identifier": [{"system": IDENTIFIER_SYSTEM, "value": format!("urn:uuid:{id}")}],
        "active": active,
        "name": [{"use": "official", "text": display_name}],
    })
}

/// Mijn CJG's own identifier of a resource, and the ECD's when it sent one.
fn identifiers(id: &str, external: Option<&inbound::ExternalId>) -> Value {
    let mut list = vec![json!({"system": IDENTIFIER_SYSTEM, "value": format!("urn:uuid:{id}")})];
    if let Some(e) = external {
        list.insert(0, json!({"system": e.system, "value": e.value}));
    }
    Value::Array(list)
}

/// A young person of a family dossier as a `Patient`: the client of youth care. Mijn CJG keeps
/// no gender, so `gender` is `unknown` (what FHIR says for "not known"), not a guess.
pub fn patient(
    id: &str,
    display_name: &str,
    birth_date: &str,
    external: Option<&inbound::ExternalId>,
) -> Value {
    json!({
        "resourceType": "Patient",
        "id": id,
        "identifier": identifiers(id, external),
        "active": true,
        "name": [{"use": "official", "text": display_name}],
        "gender": "unknown",
        "birthDate": birth_date,
    })
}

/// A parent or carer as a `RelatedPerson` of one young person. Mijn CJG keeps whether the
/// person is a parent or another carer, not which relation exactly: `PRN` (parent) or
/// `FAMMEMB` (family member); gezag is COD472 24 "Wettelijke vertegenwoordiger".
pub fn related_person(
    id: &str,
    patient_id: &str,
    display_name: &str,
    birth_date: &str,
    role: PersonRole,
    has_gezag: bool,
    external: Option<&inbound::ExternalId>,
) -> Value {
    let relation = if role == PersonRole::Parent { "PRN" } else { "FAMMEMB" };
    let mut relationship = vec![json!({"coding": [{"system": inbound::ROLE_CODE_SYSTEM, "code": relation}]})];
    if has_gezag {
        relationship.push(json!({"coding": [{
            "system": inbound::COD472_SYSTEM, "code": inbound::GEZAG_CODE, "display": "Wettelijke vertegenwoordiger",
        }]}));
    }
    json!({
        "resourceType": "RelatedPerson",
        "id": id,
        "identifier": identifiers(id, external),
        "active": true,
        "patient": {"reference": format!("Patient/{patient_id}")},
        "relationship": relationship,
        "name": [{"use": "official", "text": display_name}],
        "gender": "unknown",
        "birthDate": birth_date,
    })
}

/// The staff members who work on a family's dossier as a `CareTeam` about one young person
/// (the id is the dossier's: one team per family).
pub fn care_team(
    dossier_id: &str,
    patient_id: &str,
    practitioners: &[uuid::Uuid],
    external: Option<&inbound::ExternalId>,
) -> Value {
    json!({
        "resourceType": "CareTeam",
        "id": dossier_id,
        "identifier": identifiers(dossier_id, external),
        "status": if practitioners.is_empty() { "inactive" } else { "active" },
        "subject": {"reference": format!("Patient/{patient_id}")},
        "participant": practitioners
            .iter()
            .map(|p| json!({"member": {"reference": format!("Practitioner/{p}")}}))
            .collect::<Vec<_>>(),
    })
}

/// A dossier entry as a `DocumentReference`: its kind, who may read it (security label), its
/// title, its day and its markdown text as an inline attachment.
pub fn document_reference(
    entry: &Entry,
    subject: Option<&str>,
    external: Option<&inbound::ExternalId>,
) -> Value {
    use base64::Engine;
    let id = entry.id.to_string();
    let mut r = json!({
        "resourceType": "DocumentReference",
        "id": id,
        "meta": {"versionId": entry.version.to_string(), "lastUpdated": entry.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)},
        "identifier": identifiers(&id, external),
        "status": "current",
        "type": {"coding": [{"system": inbound::ENTRY_KIND_SYSTEM, "code": entry.kind.as_str()}]},
        "date": entry.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "description": entry.title,
        "securityLabel": [{"coding": [{"system": inbound::VISIBILITY_SYSTEM, "code": entry.visibility.as_str()}]}],
        "content": [{"attachment": {
            "contentType": "text/markdown",
            "language": "nl",
            "data": base64::engine::general_purpose::STANDARD.encode(&entry.body),
            "title": entry.title,
        }}],
        "context": {"period": {"start": entry.occurred_on.to_string()}},
    });
    if let Some(subject) = entry.child_id.map(|c| c.to_string()).as_deref().or(subject) {
        r["subject"] = json!({"reference": format!("Patient/{subject}")});
    }
    r
}

/// A `gt` or `ge` date search value (`_lastUpdated=gt2026-12-07T10:00:00Z`, `date=ge2026-12-07`):
/// the moment after which (or from which, `inclusive`) things count. A day means its start in
/// Dutch time. Only these two prefixes: a change feed asks "what is new since".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Since {
    pub at: chrono::DateTime<chrono::Utc>,
    pub inclusive: bool,
}

impl Since {
    pub fn parse(value: &str) -> Result<Self, String> {
        let (inclusive, rest) = match value.get(..2) {
            Some("gt") => (false, &value[2..]),
            Some("ge") => (true, &value[2..]),
            _ => return Err("use gt or ge with an instant or a day: gt2026-12-07T10:00:00Z".into()),
        };
        let at = if let Ok(t) = chrono::DateTime::parse_from_rfc3339(rest) {
            t.with_timezone(&chrono::Utc)
        } else if let Ok(day) = chrono::NaiveDate::parse_from_str(rest, "%Y-%m-%d") {
            crate::time::start_of_dutch_day(day)
        } else {
            return Err("the date must be an instant with a time zone or a day YYYY-MM-DD".into());
        };
        Ok(Self { at, inclusive })
    }

    pub fn admits(self, t: chrono::DateTime<chrono::Utc>) -> bool {
        if self.inclusive {
            t >= self.at
        } else {
            t > self.at
        }
    }
}

/// A page of a `searchset` Bundle: no total (counting would read the whole log), and the
/// address of the next page when there is one.
pub fn search_page(base: &str, resources: Vec<Value>, next: Option<&str>) -> Value {
    let mut bundle = search_bundle(base, resources);
    if let Some(obj) = bundle.as_object_mut() {
        obj.remove("total");
    }
    if let Some(next) = next {
        bundle["link"] = json!([{"relation": "next", "url": next}]);
    }
    bundle
}

/// Where a resource lives under `base`: `<base>/<Type>/<id>`, a Bundle entry's `fullUrl`.
pub fn full_url(base: &str, resource: &Value) -> String {
    format!(
        "{base}/{}/{}",
        resource["resourceType"].as_str().unwrap_or_default(),
        resource["id"].as_str().unwrap_or_default()
    )
}

/// A `searchset` Bundle of `resources` found under `base`.
pub fn search_bundle(base: &str, resources: Vec<Value>) -> Value {
    let entries: Vec<Value> = resources
        .into_iter()
        .map(|r| json!({"fullUrl": full_url(base, &r), "resource": r, "search": {"mode": "match"}}))
        .collect();
    json!({"resourceType": "Bundle", "type": "searchset", "total": entries.len(), "entry": entries})
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn scopes_in_both_smart_versions() {
        let s = Scope::parse("system/Patient.rs").unwrap();
        assert_eq!(s.permissions, Permissions { read: true, search: true, ..Permissions::default() });
        let s = Scope::parse("system/Patient.read").unwrap();
        assert!(s.permissions.read && s.permissions.search && !s.permissions.create);
        let s = Scope::parse("system/*.cruds").unwrap();
        assert_eq!(s.resource, "*");
        for bad in [
            "patient/Patient.rs",
            "system/Patient",
            "system/Patient.sr",
            "system/Patient.",
            "system/patient.r",
            "system/Pa-tient.r",
            "system/Patient.rr",
        ] {
            assert!(Scope::parse(bad).is_err(), "{bad} was taken");
        }
    }

    #[test]
    fn a_token_gets_only_scopes_within_the_clients_own() {
        let mine = Scopes::parse("system/Patient.rs system/DocumentReference.cu").unwrap();
        assert!(mine.grant("system/Patient.r").is_ok());
        assert!(mine.grant("system/Patient.rs system/DocumentReference.c").is_ok());
        assert_eq!(
            mine.grant("system/Patient.cruds"),
            Err(ScopeError::NotAllowed("system/Patient.cruds".into()))
        );
        assert!(mine.grant("system/*.r").is_err(), "a wildcard asks more than any one type gives");
        assert_eq!(mine.grant(""), Err(ScopeError::Empty));
        let all = Scopes::parse("system/*.rs").unwrap();
        assert!(all.grant("system/Practitioner.rs").is_ok());
        assert!(all.on("AuditEvent").read);
        assert!(!all.on("AuditEvent").create);
    }

    #[test]
    fn since_takes_gt_and_ge_with_an_instant_or_a_day() {
        let s = Since::parse("gt2026-12-07T10:00:00+01:00").unwrap();
        assert!(!s.inclusive && s.at.to_rfc3339() == "2026-12-07T09:00:00+00:00");
        assert!(!s.admits(s.at) && Since { inclusive: true, ..s }.admits(s.at));
        let day = Since::parse("ge2026-12-07").unwrap();
        assert_eq!(day.at.to_rfc3339(), "2026-12-06T23:00:00+00:00", "the start of the Dutch day");
        for bad in ["2026-12-07", "lt2026-12-07", "gt", "gt2026-13-01", "gt10:00", "ĝt2026-12-07"] {
            assert!(Since::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_capability_statement_lists_exactly_what_is_served() {
        let c = capability_statement("https://x/fhir", "https://x/fhir/auth/token", "0.1.0", "2026-12-07");
        assert_eq!(c["fhirVersion"], "4.0.1");
        let types: Vec<&str> = c["rest"][0]["resource"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["type"].as_str().unwrap())
            .collect();
        assert_eq!(types, SUPPORTED.iter().map(|s| s.resource).collect::<Vec<_>>());
    }
}
