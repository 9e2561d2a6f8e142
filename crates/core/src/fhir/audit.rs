//! A line of a family's access log as an `AuditEvent`, with the fields NEN 7513 asks for:
//! who (name and id), in which role, what (action and object), when, why (purpose and note),
//! and through which application.

use super::IDENTIFIER_SYSTEM;
use crate::audit::{AuditAction, AuditEvent};
use crate::staff::StaffRole;
use serde_json::{json, Value};

/// Mijn CJG's own action words (FHIR's C/R/U/D/E cannot say "export" or "share").
pub const ACTION_SYSTEM: &str = "https://mijn-cjg.nl/fhir/CodeSystem/audit-action";
/// The purposes staff state (`hulpverlening`, `overdracht`, …).
pub const PURPOSE_SYSTEM: &str = "https://mijn-cjg.nl/fhir/CodeSystem/purpose";
/// What in the dossier was touched (`entry`, `people`, `audit_log`, …).
pub const OBJECT_SYSTEM: &str = "https://mijn-cjg.nl/fhir/CodeSystem/audit-object";
/// The application an access came through (`staff-api`, `fhir:<client id>`); also names a
/// system account, which is no Practitioner.
pub const APPLICATION_SYSTEM: &str = "https://mijn-cjg.nl/fhir/NamingSystem/application";

fn fhir_action(a: AuditAction) -> &'static str {
    match a {
        AuditAction::Create => "C",
        AuditAction::Read | AuditAction::Export => "R",
        AuditAction::Update => "U",
        AuditAction::Delete => "D",
        AuditAction::Share => "E",
    }
}

/// `subject` is whose log it is: `Patient/<id>` (the young person an ECD asked about: the log
/// is the family's) or, in a parent's own export, `RelatedPerson/<id>`.
pub fn audit_event(e: &AuditEvent, subject: &str) -> Value {
    let who = if e.actor_role == StaffRole::Systeemkoppeling.as_str() {
        json!({"identifier": {"system": APPLICATION_SYSTEM, "value": e.origin}, "display": e.actor_name})
    } else {
        json!({"reference": format!("Practitioner/{}", e.actor_id), "display": e.actor_name})
    };
    let mut purpose = json!({"coding": [{"system": PURPOSE_SYSTEM, "code": e.purpose.as_str()}]});
    if let Some(note) = &e.purpose_note {
        purpose["text"] = json!(note);
    }
    let mut object = json!({
        "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "2", "display": "System Object"},
        "name": e.object_type,
    });
    object["what"] = match e.object_id {
        Some(id) if e.object_type == "entry" => json!({"reference": format!("DocumentReference/{id}")}),
        Some(id) => json!({"identifier": {"system": IDENTIFIER_SYSTEM, "value": format!("urn:uuid:{id}")}}),
        None => {
            json!({"identifier": {"system": IDENTIFIER_SYSTEM, "value": format!("urn:uuid:{}", e.dossier_id)}})
        }
    };
    let mut person = json!({
        "what": {"reference": subject},
        "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "1", "display": "Person"},
    });
    if subject.starts_with("Patient/") {
        person["role"] = json!({"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "1", "display": "Patient"});
    }
    json!({
        "resourceType": "AuditEvent",
        "id": e.id.to_string(),
        "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest", "display": "RESTful Operation"},
        "subtype": [{"system": ACTION_SYSTEM, "code": e.action.as_str()}],
        "action": fhir_action(e.action),
        "recorded": e.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "outcome": "0",
        "purposeOfEvent": [purpose],
        "agent": [{
            "who": who,
            "role": [{"text": e.actor_role}],
            "requestor": true,
        }],
        "source": {
            "site": e.origin,
            "observer": {"identifier": {"system": APPLICATION_SYSTEM, "value": e.origin}, "display": "Mijn CJG"},
            "type": [{"system": "http://terminology.hl7.org/CodeSystem/security-source-type", "code": "4", "display": "Application Server"}],
        },
        "entity": [
            person,
            object,
        ],
    })
}
