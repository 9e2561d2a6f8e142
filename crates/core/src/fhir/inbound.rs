//! What the ECD sends in: FHIR resources read into Mijn CJG's own drafts, every element that
//! is used checked, every coding from a code system Mijn CJG knows. Elements Mijn CJG does not
//! keep (gender, address, telecom, narrative) are left alone: an ECD sends whole resources.
//! The diagnostics name the element and never repeat its value (it may be a name or a text).

use base64::Engine;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::entry::{EntryDraft, EntryKind, PersonRole, Visibility};
use crate::validate;

/// The family a young person belongs to, as the ECD numbers it: young people with the same
/// family identifier share one dossier.
pub const FAMILY_EXTENSION: &str = "https://mijn-cjg.nl/fhir/StructureDefinition/family";
/// The CJG team that serves a family (`Patient.managingOrganization.identifier`).
pub const TEAM_SYSTEM: &str = "https://mijn-cjg.nl/fhir/NamingSystem/team";
/// The kind of a dossier entry (`DocumentReference.type`).
pub const ENTRY_KIND_SYSTEM: &str = "https://mijn-cjg.nl/fhir/CodeSystem/entry-kind";
/// Who in the family may read an entry (`DocumentReference.securityLabel`).
pub const VISIBILITY_SYSTEM: &str = "https://mijn-cjg.nl/fhir/CodeSystem/visibility";
/// HL7 v3 RoleCode: the family relation of a `RelatedPerson`.
pub const ROLE_CODE_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v3-RoleCode";
/// COD472 (Nictiz "Rolcodelijst"), which Koppeltaal's RelatedPerson uses for the role.
pub const COD472_SYSTEM: &str = "urn:oid:2.16.840.1.113883.2.4.3.11.22.472";
/// COD472 24, "Wettelijke vertegenwoordiger": this person has gezag over the young person.
pub const GEZAG_CODE: &str = "24";

/// Largest attachment taken, before base64 (the entry body's own limit applies after).
pub const MAX_ATTACHMENT_BYTES: usize = 80 * 1024;

/// A resource that cannot be taken, with what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

fn invalid(s: impl Into<String>) -> Invalid {
    Invalid(s.into())
}

/// The ECD's own identifier of a resource: how a resource sent twice is recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalId {
    pub system: String,
    pub value: String,
}

impl ExternalId {
    /// `identifier` as a search parameter: `system|value`.
    pub fn parse_token(token: &str) -> Result<Self, Invalid> {
        let (system, value) =
            token.split_once('|').ok_or_else(|| invalid("identifier must be given as system|value"))?;
        Self::checked(system, value)
    }

    fn checked(system: &str, value: &str) -> Result<Self, Invalid> {
        let system_ok =
            (system.starts_with("urn:") || system.starts_with("http://") || system.starts_with("https://"))
                && system.len() <= 255
                && system.bytes().all(|b| b.is_ascii_graphic());
        if !system_ok {
            return Err(invalid(
                "identifier.system must be an absolute URI (urn:, http:, https:) of at most 255 characters",
            ));
        }
        if system == super::IDENTIFIER_SYSTEM {
            return Err(invalid(
                "identifier.system urn:ietf:rfc:3986 is Mijn CJG's own: send the ECD's identifier",
            ));
        }
        let value_ok = !value.is_empty()
            && value.len() <= 200
            && value.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
        if !value_ok {
            return Err(invalid("identifier.value must be 1 to 200 printable characters"));
        }
        Ok(Self { system: system.to_owned(), value: value.to_owned() })
    }

    fn from_json(v: &Value, at: &str) -> Result<Self, Invalid> {
        let system = v["system"].as_str().ok_or_else(|| invalid(format!("{at}.system is missing")))?;
        let value = v["value"].as_str().ok_or_else(|| invalid(format!("{at}.value is missing")))?;
        Self::checked(system, value).map_err(|e| invalid(format!("{at}: {e}")))
    }
}

fn expect_type(r: &Value, resource_type: &str) -> Result<(), Invalid> {
    match r["resourceType"].as_str() {
        Some(t) if t == resource_type => Ok(()),
        Some(_) => Err(invalid(format!("resourceType must be {resource_type} at this address"))),
        None => Err(invalid("resourceType is missing: the body is not a FHIR resource")),
    }
}

/// The first identifier of the resource: the key it is recognised by when sent again.
pub(super) fn first_identifier(r: &Value) -> Result<ExternalId, Invalid> {
    let first = r["identifier"].as_array().and_then(|a| a.first()).ok_or_else(|| {
        invalid("identifier is missing: send the ECD's identifier so a resource sent twice is stored once")
    })?;
    ExternalId::from_json(first, "identifier[0]")
}

/// The name as one line: `text`, else the given names and the family name.
fn display_name(r: &Value) -> Result<String, Invalid> {
    let name = r["name"].as_array().and_then(|a| a.first()).ok_or_else(|| invalid("name is missing"))?;
    let text = match name["text"].as_str() {
        Some(t) => t.to_owned(),
        None => {
            let mut parts: Vec<&str> =
                name["given"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            parts.extend(name["family"].as_str());
            parts.join(" ")
        }
    };
    validate::single_line("name", &text, 100).map_err(|e| invalid(format!("name[0]: {e}")))
}

fn birth_date(r: &Value, today: NaiveDate) -> Result<NaiveDate, Invalid> {
    let s = r["birthDate"].as_str().ok_or_else(|| invalid("birthDate is missing"))?;
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| invalid("birthDate must be a full date: YYYY-MM-DD"))?;
    let oldest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
    if d > today || d < oldest {
        return Err(invalid("birthDate must lie between 1900 and today"));
    }
    Ok(d)
}

/// `Patient/<id>` of a Mijn CJG patient (the ECD learnt the id when it sent the Patient).
pub(super) fn patient_reference(r: &Value, element: &str) -> Result<Uuid, Invalid> {
    let reference = r[element]["reference"]
        .as_str()
        .ok_or_else(|| invalid(format!("{element}.reference is missing: send Patient/<id>")))?;
    reference.strip_prefix("Patient/").and_then(|id| Uuid::parse_str(id).ok()).ok_or_else(|| {
        invalid(format!("{element}.reference must be Patient/<id> of a Patient sent to Mijn CJG"))
    })
}

/// Every coding of a CodeableConcept, each from a code system in `known`.
fn codings<'a>(concept: &'a Value, at: &str, known: &[&str]) -> Result<Vec<(&'a str, &'a str)>, Invalid> {
    let mut out = Vec::new();
    for coding in concept["coding"].as_array().into_iter().flatten() {
        let system =
            coding["system"].as_str().ok_or_else(|| invalid(format!("{at}: a coding has no system")))?;
        let code = coding["code"].as_str().ok_or_else(|| invalid(format!("{at}: a coding has no code")))?;
        if !known.contains(&system) {
            return Err(invalid(format!(
                "{at}: code system {:?} is not known here; use {}",
                system.chars().take(100).collect::<String>(),
                known.join(" or ")
            )));
        }
        out.push((system, code));
    }
    Ok(out)
}

/// A young person of a family, from `Patient`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientIn {
    pub identifier: ExternalId,
    pub display_name: String,
    /// `name.family`: the family's name when this patient starts a new dossier.
    pub family_name: Option<String>,
    pub birth_date: NaiveDate,
    /// The family identifier (extension); without one a new young person starts a family of
    /// their own (never found again by number: the ECD's patient and family numbers may
    /// share a system).
    pub family: Option<ExternalId>,
    /// The team named in `managingOrganization`, if any.
    pub team: Option<String>,
}

pub fn patient(r: &Value, today: NaiveDate) -> Result<PatientIn, Invalid> {
    expect_type(r, "Patient")?;
    let identifier = first_identifier(r)?;
    let family_name = match r["name"][0]["family"].as_str() {
        Some(f) => Some(validate::single_line("name.family", f, 100).map_err(|e| invalid(e.to_string()))?),
        None => None,
    };
    let family = match r["extension"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["url"].as_str() == Some(FAMILY_EXTENSION))
    {
        Some(e) => Some(ExternalId::from_json(&e["valueIdentifier"], "extension(family).valueIdentifier")?),
        None => None,
    };
    let team = match r.get("managingOrganization") {
        None => None,
        Some(org) => {
            let id = &org["identifier"];
            if id["system"].as_str() != Some(TEAM_SYSTEM) {
                return Err(invalid(format!(
                    "managingOrganization must name the team as identifier {TEAM_SYSTEM}|<team>"
                )));
            }
            let team = id["value"].as_str().unwrap_or_default();
            Some(
                validate::single_line("team", team, 100)
                    .map_err(|e| invalid(format!("managingOrganization: {e}")))?,
            )
        }
    };
    Ok(PatientIn {
        identifier,
        display_name: display_name(r)?,
        family_name,
        birth_date: birth_date(r, today)?,
        family,
        team,
    })
}

/// A parent or carer, from `RelatedPerson`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelatedPersonIn {
    pub identifier: ExternalId,
    pub patient: Uuid,
    pub display_name: String,
    pub birth_date: NaiveDate,
    pub role: PersonRole,
    pub has_gezag: bool,
}

/// v3 RoleCode relations taken, and what each makes the person in Mijn CJG: the legal and
/// birth parents are parents, everyone else who raises the child is a carer.
const RELATIONS: &[(&str, PersonRole)] = &[
    ("PRN", PersonRole::Parent),
    ("MTH", PersonRole::Parent),
    ("FTH", PersonRole::Parent),
    ("NPRN", PersonRole::Parent),
    ("NMTH", PersonRole::Parent),
    ("NFTH", PersonRole::Parent),
    ("ADOPTP", PersonRole::Parent),
    ("ADOPTM", PersonRole::Parent),
    ("ADOPTF", PersonRole::Parent),
    ("STPPRN", PersonRole::Carer),
    ("STPMTH", PersonRole::Carer),
    ("STPFTH", PersonRole::Carer),
    ("FTHFOST", PersonRole::Carer),
    ("MTHFOST", PersonRole::Carer),
    ("PRNFOST", PersonRole::Carer),
    ("GRPRN", PersonRole::Carer),
    ("GRMTH", PersonRole::Carer),
    ("GRFTH", PersonRole::Carer),
    // What Mijn CJG itself gives out for a carer: sent back, it means the same.
    ("FAMMEMB", PersonRole::Carer),
];

pub fn related_person(r: &Value, today: NaiveDate) -> Result<RelatedPersonIn, Invalid> {
    expect_type(r, "RelatedPerson")?;
    let identifier = first_identifier(r)?;
    let patient = patient_reference(r, "patient")?;
    let mut role = None;
    let mut has_gezag = false;
    for (i, concept) in r["relationship"].as_array().into_iter().flatten().enumerate() {
        for (system, code) in
            codings(concept, &format!("relationship[{i}]"), &[ROLE_CODE_SYSTEM, COD472_SYSTEM])?
        {
            if system == COD472_SYSTEM {
                has_gezag |= code == GEZAG_CODE;
                continue;
            }
            let found = RELATIONS.iter().find(|(c, _)| *c == code).map(|(_, r)| *r).ok_or_else(|| {
                invalid(format!(
                    "relationship[{i}]: v3-RoleCode {:?} is not a family relation taken here; use one of {}",
                    code.chars().take(20).collect::<String>(),
                    RELATIONS.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ")
                ))
            })?;
            // A parent named also as a carer (step-parent who adopted, say) is a parent.
            role = Some(match (role, found) {
                (Some(PersonRole::Parent), _) | (_, PersonRole::Parent) => PersonRole::Parent,
                _ => found,
            });
        }
    }
    let role = role.ok_or_else(|| {
        invalid(format!("relationship needs a family relation from {ROLE_CODE_SYSTEM} (MTH, FTH, PRN, …)"))
    })?;
    Ok(RelatedPersonIn {
        identifier,
        patient,
        display_name: display_name(r)?,
        birth_date: birth_date(r, today)?,
        role,
        has_gezag,
    })
}

/// Which staff members serve a family, from `CareTeam`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CareTeamIn {
    pub identifier: ExternalId,
    pub patient: Uuid,
    /// `false` (status other than active): the team no longer serves the family.
    pub active: bool,
    /// The `Practitioner`s among the participants (other members, such as RelatedPersons, do
    /// not give access and are left out).
    pub practitioners: Vec<Uuid>,
}

pub fn care_team(r: &Value) -> Result<CareTeamIn, Invalid> {
    expect_type(r, "CareTeam")?;
    let identifier = first_identifier(r)?;
    let patient = patient_reference(r, "subject")?;
    let active = match r["status"].as_str() {
        Some("active") => true,
        Some("inactive" | "suspended" | "entered-in-error") => false,
        Some("proposed") => false,
        _ => return Err(invalid("status must be proposed, active, suspended, inactive or entered-in-error")),
    };
    let mut practitioners = Vec::new();
    for (i, p) in r["participant"].as_array().into_iter().flatten().enumerate() {
        let Some(reference) = p["member"]["reference"].as_str() else {
            return Err(invalid(format!("participant[{i}].member.reference is missing")));
        };
        if let Some(id) = reference.strip_prefix("Practitioner/") {
            let id = Uuid::parse_str(id).map_err(|_| {
                invalid(format!("participant[{i}].member must be Practitioner/<id> of Mijn CJG"))
            })?;
            if !practitioners.contains(&id) {
                practitioners.push(id);
            }
        }
    }
    if practitioners.len() > 50 {
        return Err(invalid("a care team of more than 50 practitioners is not taken"));
    }
    Ok(CareTeamIn { identifier, patient, active, practitioners })
}

/// A dossier entry, from `DocumentReference`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentReferenceIn {
    pub identifier: ExternalId,
    pub patient: Uuid,
    /// `false` (status entered-in-error): the entry goes.
    pub current: bool,
    /// The coach who wrote it (`author`, a `Practitioner` of Mijn CJG): the family sees their
    /// name. Without one the entry carries the client's own name.
    pub author: Option<Uuid>,
    /// Checked as the staff API checks a draft.
    pub draft: EntryDraft,
}

pub fn document_reference(r: &Value) -> Result<DocumentReferenceIn, Invalid> {
    expect_type(r, "DocumentReference")?;
    let identifier = first_identifier(r)?;
    let patient = patient_reference(r, "subject")?;
    let current = match r["status"].as_str() {
        Some("current") => true,
        Some("entered-in-error") => false,
        Some("superseded") => {
            return Err(invalid("status superseded is not taken: update the DocumentReference itself"))
        }
        _ => return Err(invalid("status must be current or entered-in-error")),
    };
    let kind = match codings(&r["type"], "type", &[ENTRY_KIND_SYSTEM])?.as_slice() {
        [(_, code)] => EntryKind::parse(code)
            .ok_or_else(|| invalid("type: the code must be gespreksverslag, afspraak or plan"))?,
        _ => return Err(invalid(format!("type needs exactly one coding from {ENTRY_KIND_SYSTEM}"))),
    };
    let mut visibility = None;
    for (i, label) in r["securityLabel"].as_array().into_iter().flatten().enumerate() {
        for (_, code) in codings(label, &format!("securityLabel[{i}]"), &[VISIBILITY_SYSTEM])? {
            let v = Visibility::parse(code).ok_or_else(|| {
                invalid(format!("securityLabel[{i}]: the code must be family, child, youth_only, parents_only or staff_only"))
            })?;
            if visibility.replace(v).is_some_and(|old| old != v) {
                return Err(invalid("securityLabel names two visibilities: send one"));
            }
        }
    }
    let visibility = visibility.unwrap_or(Visibility::Child);
    let title =
        r["description"].as_str().ok_or_else(|| invalid("description (the entry's title) is missing"))?;
    // The day it took place: `context.period.start` (what Mijn CJG gives back), else the day of
    // `date`, so a resource read back and sent again keeps its day.
    let occurred_on = match r["context"]["period"]["start"].as_str() {
        Some(start) => NaiveDate::parse_from_str(start, "%Y-%m-%d")
            .or_else(|_| {
                DateTime::parse_from_rfc3339(start).map(|d| crate::time::dutch_date(d.with_timezone(&Utc)))
            })
            .map_err(|_| {
                invalid("context.period.start must be a day YYYY-MM-DD or an instant with a time zone")
            })?,
        None => {
            let date = r["date"].as_str().ok_or_else(|| invalid("date is missing"))?;
            DateTime::parse_from_rfc3339(date)
                .map(|d| crate::time::dutch_date(d.with_timezone(&Utc)))
                .map_err(|_| invalid("date must be an instant with a time zone: 2026-12-07T10:00:00+01:00"))?
        }
    };
    let body = attachment_text(r)?;
    let author = match r["author"].as_array().map(Vec::as_slice) {
        None | Some([]) => None,
        Some([one]) => Some(
            one["reference"]
                .as_str()
                .and_then(|a| a.strip_prefix("Practitioner/"))
                .and_then(|a| Uuid::parse_str(a).ok())
                .ok_or_else(|| invalid("author[0] must be Practitioner/<id> of Mijn CJG"))?,
        ),
        Some(_) => return Err(invalid("author names more than one: send the one coach who wrote it")),
    };
    let draft = EntryDraft {
        kind,
        // The family is the patient's; an entry for the whole family is about no one child.
        child_id: (visibility != Visibility::Family).then_some(patient),
        visibility: Some(visibility),
        title: title.to_owned(),
        body,
        occurred_on,
    }
    .validate()
    .map_err(|e| invalid(format!("the entry: {e}")))?;
    Ok(DocumentReferenceIn { identifier, patient, current, author, draft })
}

/// The one attachment: markdown text, inline and UTF-8.
fn attachment_text(r: &Value) -> Result<String, Invalid> {
    let content = r["content"].as_array().map(Vec::as_slice).unwrap_or_default();
    let [content] = content else { return Err(invalid("content must hold exactly one attachment")) };
    let attachment = &content["attachment"];
    let media = attachment["contentType"].as_str().unwrap_or_default();
    let (media, params) = media.split_once(';').unwrap_or((media, ""));
    let charset_ok = params.trim().is_empty() || params.trim().eq_ignore_ascii_case("charset=utf-8");
    if media.trim() != "text/markdown" || !charset_ok {
        return Err(invalid("content[0].attachment.contentType must be text/markdown (UTF-8)"));
    }
    if attachment.get("url").is_some() {
        return Err(invalid("content[0].attachment.url is not fetched: send the text inline as data"));
    }
    let data = attachment["data"].as_str().ok_or_else(|| invalid("content[0].attachment.data is missing"))?;
    if data.len() > MAX_ATTACHMENT_BYTES.div_ceil(3) * 4 {
        return Err(invalid(format!(
            "content[0].attachment is larger than {} KB: an entry holds at most 20,000 characters",
            MAX_ATTACHMENT_BYTES / 1024
        )));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|_| invalid("content[0].attachment.data is not base64"))?;
    String::from_utf8(bytes).map_err(|_| invalid("content[0].attachment.data is not UTF-8 text"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use serde_json::json;

    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 7).unwrap()
    }

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    fn document() -> Value {
        json!({
            "resourceType": "DocumentReference",
            "identifier": [{"system": "urn:oid:2.16.528.1.9999.1", "value": "verslag-1"}],
            "status": "current",
            "type": {"coding": [{"system": ENTRY_KIND_SYSTEM, "code": "gespreksverslag"}]},
            "subject": {"reference": "Patient/6b3a1c1e-5d2f-4f5e-9a51-0c8e3b1d2a10"},
            "date": "2026-12-07T10:00:00+01:00",
            "description": "Gesprek op school",
            "content": [{"attachment": {"contentType": "text/markdown", "data": b64("We spraken **samen**.")}}],
        })
    }

    #[test]
    fn a_document_reference_becomes_an_entry_draft_about_its_patient() {
        let d = document_reference(&document()).unwrap();
        assert_eq!(d.draft.kind, EntryKind::Gespreksverslag);
        assert_eq!(d.draft.visibility, Some(Visibility::Child));
        assert_eq!(d.draft.child_id, Some(d.patient));
        assert_eq!(d.draft.body, "We spraken **samen**.");
        assert_eq!(d.draft.occurred_on, today());
        let mut family = document();
        family["securityLabel"] = json!([{"coding": [{"system": VISIBILITY_SYSTEM, "code": "family"}]}]);
        let d = document_reference(&family).unwrap();
        assert_eq!((d.draft.visibility, d.draft.child_id), (Some(Visibility::Family), None));
    }

    #[test]
    fn a_document_reference_with_unknown_codes_or_a_large_attachment_is_refused() {
        type Change = Box<dyn Fn(&mut Value)>;
        let cases: Vec<(&str, Change)> = vec![
            ("code system", Box::new(|d| d["type"]["coding"][0]["system"] = json!("http://loinc.org"))),
            (
                "gespreksverslag, afspraak or plan",
                Box::new(|d| d["type"]["coding"][0]["code"] = json!("brief")),
            ),
            (
                "not known here",
                Box::new(|d| d["securityLabel"] = json!([{"coding": [{"system": "http://x", "code": "R"}]}])),
            ),
            (
                "larger than",
                Box::new(|d| d["content"][0]["attachment"]["data"] = json!(b64(&"a".repeat(5 << 20)))),
            ),
            (
                "text/markdown",
                Box::new(|d| d["content"][0]["attachment"]["contentType"] = json!("text/html")),
            ),
            ("Patient/<id>", Box::new(|d| d["subject"]["reference"] = json!("Group/1"))),
            ("identifier is missing", Box::new(|d| d["identifier"] = json!([]))),
            (
                "Mijn CJG's own",
                Box::new(|d| d["identifier"][0]["system"] = json!(super::super::IDENTIFIER_SYSTEM)),
            ),
            ("resourceType must be", Box::new(|d| d["resourceType"] = json!("Patient"))),
            ("body", Box::new(|d| d["content"][0]["attachment"]["data"] = json!(b64(&"a".repeat(20_001))))),
            ("status", Box::new(|d| d["status"] = json!("final"))),
        ];
        for (expected, change) in cases {
            let mut d = document();
            change(&mut d);
            let e = document_reference(&d).unwrap_err();
            assert!(e.0.contains(expected), "{expected}: {e}");
        }
    }

    #[test]
    fn a_related_person_is_a_parent_or_carer_and_gezag_comes_from_cod472() {
        let mut r = json!({
            "resourceType": "RelatedPerson",
            "identifier": [{"system": "urn:oid:2.16.528.1.9999.2", "value": "ouder-1"}],
            "patient": {"reference": "Patient/6b3a1c1e-5d2f-4f5e-9a51-0c8e3b1d2a10"},
            "relationship": [
                {"coding": [{"system": ROLE_CODE_SYSTEM, "code": "MTH"}]},
                {"coding": [{"system": COD472_SYSTEM, "code": "24", "display": "Wettelijke vertegenwoordiger"}]},
            ],
            "name": [{"given": ["Anna"], "family": "Demo"}],
            "birthDate": "1988-03-01",
        });
        let p = related_person(&r, today()).unwrap();
        assert_eq!((p.role, p.has_gezag, p.display_name.as_str()), (PersonRole::Parent, true, "Anna Demo"));
        r["relationship"] = json!([{"coding": [{"system": ROLE_CODE_SYSTEM, "code": "STPFTH"}]}]);
        let p = related_person(&r, today()).unwrap();
        assert_eq!((p.role, p.has_gezag), (PersonRole::Carer, false));
        r["relationship"] = json!([{"coding": [{"system": ROLE_CODE_SYSTEM, "code": "NBOR"}]}]);
        assert!(related_person(&r, today()).unwrap_err().0.contains("not a family relation"));
        r["relationship"] = json!([]);
        assert!(related_person(&r, today()).is_err());
    }

    #[test]
    fn a_patient_names_its_family_and_team_or_is_a_family_of_its_own() {
        let mut p = json!({
            "resourceType": "Patient",
            "identifier": [{"system": "urn:oid:2.16.528.1.9999.3", "value": "kind-1"}],
            "name": [{"family": "Demo", "given": ["Noor"]}],
            "birthDate": "2012-05-04",
        });
        let got = patient(&p, today()).unwrap();
        assert_eq!(got.family, None);
        assert_eq!(
            (got.display_name.as_str(), got.family_name.as_deref(), got.team),
            ("Noor Demo", Some("Demo"), None)
        );
        p["extension"] = json!([{"url": FAMILY_EXTENSION, "valueIdentifier": {"system": "urn:oid:1.2.3", "value": "gezin-7"}}]);
        p["managingOrganization"] = json!({"identifier": {"system": TEAM_SYSTEM, "value": "Team Noord"}});
        let got = patient(&p, today()).unwrap();
        assert_eq!(got.family.unwrap().value, "gezin-7");
        assert_eq!(got.team.as_deref(), Some("Team Noord"));
        p["birthDate"] = json!("2030-01-01");
        assert!(patient(&p, today()).unwrap_err().0.contains("birthDate"));
        p["birthDate"] = json!("2012-05");
        assert!(patient(&p, today()).unwrap_err().0.contains("full date"));
    }

    #[test]
    fn a_care_team_gives_its_practitioners_and_leaves_other_members_out() {
        let t = json!({
            "resourceType": "CareTeam",
            "identifier": [{"system": "http://ecd.example/team", "value": "ct-1"}],
            "status": "active",
            "subject": {"reference": "Patient/6b3a1c1e-5d2f-4f5e-9a51-0c8e3b1d2a10"},
            "participant": [
                {"member": {"reference": "Practitioner/1f0e8b5a-7c7d-4a43-8f40-9b8d1f2e3c4d"}},
                {"member": {"reference": "RelatedPerson/x"}},
            ],
        });
        let got = care_team(&t).unwrap();
        assert!(got.active);
        assert_eq!(got.practitioners.len(), 1);
        let mut bad = t.clone();
        bad["participant"][0]["member"]["reference"] = json!("Practitioner/not-a-uuid");
        assert!(care_team(&bad).is_err());
    }
}
