//! A family member's feedback on an entry as a `Communication` about the `DocumentReference`:
//! its kind (agree, add, correct, ask), the text, and the coach's answer as a note.

use serde_json::{json, Value};

use crate::feedback::Feedback;

/// aanvulling / correctie / vraag / akkoord.
pub const FEEDBACK_KIND_SYSTEM: &str = "https://mijn-cjg.nl/fhir/CodeSystem/feedback-kind";
/// Where the CJG stands with it: open, answered, handled, refused.
pub const FEEDBACK_STATUS_EXTENSION: &str = "https://mijn-cjg.nl/fhir/StructureDefinition/feedback-status";

/// When the feedback last changed: the coach's answer, else when it was sent.
pub fn last_updated(f: &Feedback) -> chrono::DateTime<chrono::Utc> {
    f.answered_at.unwrap_or(f.created_at)
}

/// `by_youth`: a young person wrote it (a `Patient`), else a parent or carer.
pub fn communication(f: &Feedback, by_youth: bool) -> Value {
    let sender =
        if by_youth { format!("Patient/{}", f.author_id) } else { format!("RelatedPerson/{}", f.author_id) };
    let mut c = json!({
        "resourceType": "Communication",
        "id": f.id.to_string(),
        // Every digit the store keeps, so `_lastUpdated=gt<this>` is exact.
        "meta": {"lastUpdated": last_updated(f).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)},
        "extension": [{"url": FEEDBACK_STATUS_EXTENSION, "valueCode": f.status.as_str()}],
        "status": "completed",
        "category": [{"coding": [{"system": FEEDBACK_KIND_SYSTEM, "code": f.kind.as_str()}]}],
        "about": [{"reference": format!("DocumentReference/{}", f.entry_id)}],
        "sender": {"reference": sender, "display": f.author_name},
        "recipient": [{"display": "CJG"}],
        "sent": f.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "payload": [{"contentString": f.text}],
    });
    if let (Some(answer), Some(at)) = (&f.answer, f.answered_at) {
        let mut note = json!({"text": answer, "time": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)});
        if let Some(by) = &f.answered_by {
            note["authorString"] = json!(by);
        }
        c["note"] = json!([note]);
    }
    c
}
