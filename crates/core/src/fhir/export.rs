//! A family member's own copy of their dossier as a FHIR Bundle, for another app (the right to
//! data portability, AVG art. 20): the people of the family, the entries they may read, their
//! own answers with the questionnaires they answered, their messages, and the access log they
//! see. Built from what the app holds; pure.

use serde_json::{json, Value};
use uuid::Uuid;

use super::questionnaires::{self as q, Owner};
use crate::audit::AuditEvent;
use crate::entry::{Entry, Person, PersonRole};
use crate::message::Message;
use crate::questionnaire::{QuestionnaireTask, TaskStatus};

/// What the export holds; the app fills it from its encrypted store.
pub struct FamilyData<'a> {
    pub me: &'a Person,
    pub people: &'a [Person],
    pub entries: &'a [Entry],
    pub questionnaires: &'a [QuestionnaireTask],
    pub messages: &'a [Message],
    pub audit: &'a [AuditEvent],
}

/// A person as a `Patient` (a young person) or a `RelatedPerson` of `child`.
fn person_resource(p: &Person, child: Option<Uuid>) -> Option<Value> {
    let birth = p.birth_date.to_string();
    if p.role == PersonRole::Child {
        return Some(super::patient(&p.id.to_string(), &p.display_name, &birth, None));
    }
    let child = child?.to_string();
    Some(super::related_person(&p.id.to_string(), &child, &p.display_name, &birth, p.role, p.has_gezag, None))
}

fn reference(p: &Person) -> String {
    if p.role == PersonRole::Child {
        format!("Patient/{}", p.id)
    } else {
        format!("RelatedPerson/{}", p.id)
    }
}

/// A message as a `Communication`: who wrote it, to whom, when, the text.
fn communication(m: &Message, me: &Person) -> Value {
    let person = json!({"reference": reference(me), "display": me.display_name});
    let coach = json!({"display": m.author_name});
    let (sender, recipient) =
        if m.from_coach { (coach, person) } else { (person, json!({"display": "CJG"})) };
    let mut c = json!({
        "resourceType": "Communication",
        "id": m.id.to_string(),
        "status": "completed",
        "sent": m.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "sender": sender,
        "recipient": [recipient],
        "payload": [{"contentString": m.text}],
    });
    if let Some(read) = m.read_at {
        c["received"] = json!(read.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    }
    c
}

/// The Bundle (`collection`), each resource under `<base>/<Type>/<id>` so references between
/// them resolve; `base` is the FHIR base of the server the app syncs with.
pub fn family_bundle(base: &str, data: &FamilyData<'_>, timestamp: &str) -> Value {
    let child = if data.me.role == PersonRole::Child {
        Some(data.me.id)
    } else {
        data.people.iter().find(|p| p.role == PersonRole::Child).map(|p| p.id)
    };
    let mut resources: Vec<Value> = data.people.iter().filter_map(|p| person_resource(p, child)).collect();
    resources.extend(data.entries.iter().map(|e| super::document_reference(e, None, None)));
    let owner = if data.me.role == PersonRole::Child {
        Owner::Patient(data.me.id)
    } else {
        Owner::RelatedPerson(data.me.id)
    };
    let mut definitions: Vec<&crate::questionnaire::Definition> = Vec::new();
    for t in
        data.questionnaires.iter().filter(|t| t.person_id == data.me.id && t.status == TaskStatus::Submitted)
    {
        if let Some(r) = q::questionnaire_response(t, owner) {
            resources.push(r);
            if !definitions.iter().any(|d| d.key == t.definition.key && d.version == t.definition.version) {
                definitions.push(&t.definition);
            }
        }
    }
    resources.extend(definitions.iter().map(|d| {
        let current = crate::questionnaire::current(d.phase, d.audience).version == d.version;
        q::questionnaire(d, current)
    }));
    resources.extend(data.messages.iter().map(|m| communication(m, data.me)));
    let subject = reference(data.me);
    resources.extend(data.audit.iter().map(|e| super::audit::audit_event(e, &subject)));
    let entries: Vec<Value> =
        resources.into_iter().map(|r| json!({"fullUrl": super::full_url(base, &r), "resource": r})).collect();
    json!({
        "resourceType": "Bundle",
        "id": Uuid::new_v4().to_string(),
        "type": "collection",
        "timestamp": timestamp,
        "entry": entries,
    })
}
