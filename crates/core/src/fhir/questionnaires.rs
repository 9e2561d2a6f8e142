//! The evaluation questionnaires over FHIR: the definitions as `Questionnaire`s (versioned
//! like the catalogue), the three moments as `ActivityDefinition`s an ECD's `Task` points to,
//! and a family member's answers as a `QuestionnaireResponse`.

use serde_json::{json, Value};
use uuid::Uuid;

use super::inbound::{self, ExternalId, Invalid};
use crate::questionnaire::{self, Agree, Answer, Definition, ItemKind, Phase, QuestionnaireTask, TaskStatus};

pub const QUESTIONNAIRE_BASE: &str = "https://mijn-cjg.nl/fhir/Questionnaire";
pub const ACTIVITY_BASE: &str = "https://mijn-cjg.nl/fhir/ActivityDefinition";
/// eens / oneens / niet van toepassing.
pub const AGREE_SYSTEM: &str = "https://mijn-cjg.nl/fhir/CodeSystem/agree";
/// The options of a multiple-choice item (the code is the option's value).
pub const CHOICE_SYSTEM: &str = "https://mijn-cjg.nl/fhir/CodeSystem/choice";
/// Koppeltaal's way for a Task to name the ActivityDefinition it carries out.
pub const INSTANTIATES_EXTENSION: &str = "http://vzvz.nl/fhir/StructureDefinition/instantiates";

/// `start-ouder-1`: one resource per version of a definition.
pub fn questionnaire_id(d: &Definition) -> String {
    format!("{}-{}", d.key, d.version)
}

/// The canonical of a definition's version: `<url>|<version>`.
pub fn questionnaire_canonical(d: &Definition) -> String {
    format!("{QUESTIONNAIRE_BASE}/{}|{}", d.key, d.version)
}

fn agree_code(a: Agree) -> (&'static str, &'static str) {
    match a {
        Agree::Eens => ("eens", "Eens"),
        Agree::Oneens => ("oneens", "Oneens"),
        Agree::Nvt => ("nvt", "Niet van toepassing"),
    }
}

/// An answer as FHIR's `value[x]` (in `answerOption`, `enableWhen` and the response).
fn answer_value(answer: &Answer, prefix: &str) -> (String, Value) {
    match answer {
        Answer::Agree(a) => {
            let (code, display) = agree_code(*a);
            (format!("{prefix}Coding"), json!({"system": AGREE_SYSTEM, "code": code, "display": display}))
        }
        Answer::Rating(n) => (format!("{prefix}Integer"), json!(n)),
        Answer::Choice(c) => (format!("{prefix}Coding"), json!({"system": CHOICE_SYSTEM, "code": c})),
        Answer::Text(t) => (format!("{prefix}String"), json!(t)),
    }
}

/// A definition of the catalogue as a `Questionnaire`; `current` is the version sent now
/// (`active`), an earlier one is `retired` (answers to it still point at it).
pub fn questionnaire(d: &Definition, current: bool) -> Value {
    let items: Vec<Value> = d
        .items
        .iter()
        .map(|item| {
            let mut i = json!({"linkId": item.key, "text": item.text, "required": item.required});
            match &item.kind {
                ItemKind::Agree => {
                    i["type"] = json!("choice");
                    i["answerOption"] = json!([Agree::Eens, Agree::Oneens, Agree::Nvt]
                        .into_iter()
                        .map(|a| json!({"valueCoding": answer_value(&Answer::Agree(a), "").1}))
                        .collect::<Vec<_>>());
                }
                ItemKind::Rating { low, high } => {
                    i["type"] = json!("choice");
                    i["answerOption"] = json!((1..=5).map(|n| json!({"valueInteger": n})).collect::<Vec<_>>());
                    i["text"] = json!(format!("{} (1 = {low}, 5 = {high})", item.text));
                }
                ItemKind::Choice { options } => {
                    i["type"] = json!("choice");
                    i["answerOption"] = json!(options
                        .iter()
                        .map(|o| json!({"valueCoding": {"system": CHOICE_SYSTEM, "code": o.value, "display": o.label}}))
                        .collect::<Vec<_>>());
                }
                ItemKind::Open { max_chars } => {
                    i["type"] = json!("text");
                    i["maxLength"] = json!(max_chars);
                }
            }
            if let Some(show) = &item.show_if {
                let (name, value) = answer_value(&show.equals, "answer");
                let mut when = json!({"question": show.item, "operator": "="});
                when[name] = value;
                i["enableWhen"] = json!([when]);
            }
            i
        })
        .collect();
    json!({
        "resourceType": "Questionnaire",
        "id": questionnaire_id(d),
        "url": format!("{QUESTIONNAIRE_BASE}/{}", d.key),
        "version": d.version.to_string(),
        "name": d.key.replace('-', "_"),
        "title": d.title,
        "status": if current { "active" } else { "retired" },
        "subjectType": ["Patient"],
        "publisher": "Mijn CJG",
        "description": d.intro,
        "item": items,
    })
}

/// Every version of every definition, the current ones `active`.
pub fn all_questionnaires() -> Vec<Value> {
    let catalogue = questionnaire::catalogue();
    catalogue
        .iter()
        .map(|d| {
            let current = questionnaire::current(d.phase, d.audience).version == d.version;
            questionnaire(d, current)
        })
        .collect()
}

/// `vragenlijst-start`: the ActivityDefinition of a moment.
pub fn activity_id(phase: Phase) -> String {
    format!("vragenlijst-{}", phase.as_str())
}

pub fn activity_phase(id: &str) -> Option<Phase> {
    id.strip_prefix("vragenlijst-").and_then(Phase::parse)
}

/// A moment of evaluation as an `ActivityDefinition`: a Task that points to it sends that
/// moment's questionnaire (the parents' or the youth's version, by who owns the Task).
pub fn activity_definition(phase: Phase) -> Value {
    let (title, description) = match phase {
        Phase::Start => ("Vragenlijst bij de start", "De vragenlijst aan het begin van de hulp."),
        Phase::Tussentijds => {
            ("Vragenlijst na drie maanden", "De tussenevaluatie, drie maanden na de start.")
        }
        Phase::Eind => ("Vragenlijst aan het eind", "Evaluatie en terugblik bij het afsluiten van de hulp."),
    };
    let id = activity_id(phase);
    json!({
        "resourceType": "ActivityDefinition",
        "id": id,
        "url": format!("{ACTIVITY_BASE}/{id}"),
        "name": id.replace('-', "_"),
        "title": title,
        "status": "active",
        "publisher": "Mijn CJG",
        "description": description,
        "kind": "Task",
    })
}

pub fn all_activity_definitions() -> Vec<Value> {
    Phase::ALL.into_iter().map(activity_definition).collect()
}

/// Who answers a questionnaire: the young person, or a parent or carer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Patient(Uuid),
    RelatedPerson(Uuid),
}

impl Owner {
    pub fn id(self) -> Uuid {
        match self {
            Self::Patient(id) | Self::RelatedPerson(id) => id,
        }
    }

    pub fn reference(self) -> String {
        match self {
            Self::Patient(id) => format!("Patient/{id}"),
            Self::RelatedPerson(id) => format!("RelatedPerson/{id}"),
        }
    }
}

/// A questionnaire to send, from `Task`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskIn {
    pub identifier: ExternalId,
    /// `for`: the young person whose family it is.
    pub patient: Uuid,
    pub owner: Owner,
    pub phase: Phase,
}

pub fn task(r: &Value) -> Result<TaskIn, Invalid> {
    let err = |s: &str| Invalid(s.to_owned());
    if r["resourceType"].as_str() != Some("Task") {
        return Err(err("resourceType must be Task at this address"));
    }
    let identifier = inbound::first_identifier(r)?;
    if r["intent"].as_str() != Some("order") {
        return Err(err("intent must be order"));
    }
    match r["status"].as_str() {
        Some("requested" | "ready") => {}
        _ => return Err(err("status must be requested or ready: a questionnaire is sent once; withdrawing is done in Mijn CJG")),
    }
    let patient = inbound::patient_reference(r, "for")?;
    let activity = r["extension"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["url"].as_str() == Some(INSTANTIATES_EXTENSION))
        .and_then(|e| e["valueReference"]["reference"].as_str())
        .or_else(|| r["instantiatesCanonical"].as_str())
        .ok_or_else(|| {
            err("the Task must name its ActivityDefinition: extension instantiates (Koppeltaal) with ActivityDefinition/vragenlijst-<start|tussentijds|eind>")
        })?;
    let id = activity.strip_prefix(ACTIVITY_BASE).map(|a| a.trim_start_matches('/')).unwrap_or(activity);
    let id = id.strip_prefix("ActivityDefinition/").unwrap_or(id);
    let phase = activity_phase(id).ok_or_else(|| {
        err("the ActivityDefinition must be one of vragenlijst-start, vragenlijst-tussentijds, vragenlijst-eind (GET /fhir/ActivityDefinition)")
    })?;
    let owner =
        r["owner"]["reference"].as_str().ok_or_else(|| err("owner.reference is missing: who answers"))?;
    let owner = if let Some(id) = owner.strip_prefix("Patient/") {
        Owner::Patient(
            Uuid::parse_str(id)
                .map_err(|_| err("owner must be Patient/<id> or RelatedPerson/<id> of Mijn CJG"))?,
        )
    } else if let Some(id) = owner.strip_prefix("RelatedPerson/") {
        Owner::RelatedPerson(
            Uuid::parse_str(id)
                .map_err(|_| err("owner must be Patient/<id> or RelatedPerson/<id> of Mijn CJG"))?,
        )
    } else {
        return Err(err("owner must be Patient/<id> or RelatedPerson/<id>: a care team or practitioner answers no questionnaire"));
    };
    Ok(TaskIn { identifier, patient, owner, phase })
}

/// A sent questionnaire as a `Task`: `ready` while open, `completed` once answered,
/// `cancelled` when the coach took it back.
pub fn task_resource(
    t: &QuestionnaireTask,
    patient: Uuid,
    owner: Owner,
    external: Option<&ExternalId>,
) -> Value {
    let status = match t.status {
        TaskStatus::Open => "ready",
        TaskStatus::Submitted => "completed",
        TaskStatus::Withdrawn => "cancelled",
    };
    let mut r = json!({
        "resourceType": "Task",
        "id": t.id.to_string(),
        "identifier": super::identifiers(&t.id.to_string(), external),
        "extension": [{"url": INSTANTIATES_EXTENSION, "valueReference": {
            "reference": format!("ActivityDefinition/{}", activity_id(t.definition.phase)), "type": "ActivityDefinition",
        }}],
        "instantiatesCanonical": format!("{ACTIVITY_BASE}/{}", activity_id(t.definition.phase)),
        "status": status,
        "intent": "order",
        "priority": "routine",
        "for": {"reference": format!("Patient/{patient}")},
        "owner": {"reference": owner.reference()},
        "focus": {"reference": format!("Questionnaire/{}", questionnaire_id(&t.definition))},
        "executionPeriod": {"start": t.available_on.to_string(), "end": t.due_on.to_string()},
    });
    if t.status == TaskStatus::Submitted {
        r["output"] = json!([{
            "type": {"text": "antwoorden"},
            "valueReference": {"reference": format!("QuestionnaireResponse/{}", t.id)},
        }]);
    }
    r
}

/// A family member's answers. `subject` is the young person when they answered themselves;
/// a parent's answers are about the help for the family, so they have no Patient subject.
pub fn questionnaire_response(t: &QuestionnaireTask, owner: Owner) -> Option<Value> {
    let answers = t.answers.as_ref()?;
    let items: Vec<Value> = t
        .definition
        .items
        .iter()
        .filter_map(|item| {
            let answer = answers.get(&item.key)?;
            let (name, value) = answer_value(answer, "value");
            let mut a = json!({});
            a[name] = value;
            Some(json!({"linkId": item.key, "text": item.text, "answer": [a]}))
        })
        .collect();
    let mut r = json!({
        "resourceType": "QuestionnaireResponse",
        "id": t.id.to_string(),
        "questionnaire": questionnaire_canonical(&t.definition),
        "basedOn": [{"reference": format!("Task/{}", t.id)}],
        "status": "completed",
        "author": {"reference": owner.reference()},
        "source": {"reference": owner.reference()},
        "item": items,
    });
    if let Some(at) = t.submitted_at {
        r["authored"] = json!(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        // What `_lastUpdated` searches on: answers do not change once given.
        r["meta"] = json!({"lastUpdated": at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)});
    }
    if let Owner::Patient(id) = owner {
        r["subject"] = json!({"reference": format!("Patient/{id}")});
    }
    Some(r)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn every_definition_has_a_questionnaire_and_only_the_newest_is_active() {
        let all = all_questionnaires();
        assert_eq!(all.len(), questionnaire::catalogue().len());
        for phase in Phase::ALL {
            for audience in [questionnaire::Audience::Ouder, questionnaire::Audience::Jongere] {
                let current = questionnaire::current(phase, audience);
                let id = questionnaire_id(&current);
                assert!(all.iter().any(|q| q["id"] == json!(id) && q["status"] == "active"), "{id}");
            }
        }
        assert!(all.iter().all(|q| q["item"].as_array().is_some_and(|i| !i.is_empty())));
    }

    #[test]
    fn a_task_names_its_moment_and_who_answers() {
        let t = json!({
            "resourceType": "Task",
            "identifier": [{"system": "urn:oid:1.2.3", "value": "taak-1"}],
            "extension": [{"url": INSTANTIATES_EXTENSION, "valueReference": {"reference": "ActivityDefinition/vragenlijst-start"}}],
            "status": "ready",
            "intent": "order",
            "for": {"reference": "Patient/6b3a1c1e-5d2f-4f5e-9a51-0c8e3b1d2a10"},
            "owner": {"reference": "RelatedPerson/1f0e8b5a-7c7d-4a43-8f40-9b8d1f2e3c4d"},
        });
        let got = task(&t).unwrap();
        assert_eq!(got.phase, Phase::Start);
        assert!(matches!(got.owner, Owner::RelatedPerson(_)));
        for (element, value) in [
            ("owner", json!({"reference": "CareTeam/x"})),
            ("status", json!("cancelled")),
            (
                "extension",
                json!([{"url": INSTANTIATES_EXTENSION, "valueReference": {"reference": "ActivityDefinition/iets-anders"}}]),
            ),
        ] {
            let mut bad = t.clone();
            bad[element] = value;
            assert!(task(&bad).is_err(), "{element}");
        }
    }
}
