//! The person's own copy of everything the app holds of their dossier (the right of access
//! and of data portability, AVG art. 15 and 20): to read as a PDF (worded by the UI) and as a
//! FHIR Bundle for another app. Written only on request, into the export folder.

use std::path::PathBuf;

use cjg_core::audit::AuditEvent;
use cjg_core::message::Message;
use cjg_core::questionnaire::{QuestionnaireTask, TaskStatus};
use cjg_core::{Entry, Person};
use serde::Serialize;
use ts_rs::TS;

use super::AppCore;
use crate::{ClientError, Result};

/// Everything of the dossier this person may see, as the app holds it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct MyDataView {
    pub me: Person,
    pub people: Vec<Person>,
    /// Newest first, with their text.
    pub entries: Vec<Entry>,
    /// The person's own answered questionnaires, oldest first.
    pub questionnaires: Vec<QuestionnaireTask>,
    /// The person's conversation with the coach, oldest first.
    pub messages: Vec<Message>,
    /// The access log as this person sees it, oldest first.
    pub audit: Vec<AuditEvent>,
}

impl AppCore {
    pub async fn my_data(&self) -> Result<MyDataView> {
        let guard = self.store().await?;
        let store = &*guard;
        let profile = store.profile()?;
        let people = store.people()?;
        let me =
            people.iter().find(|p| p.id == profile.person_id).cloned().ok_or(ClientError::NoSuchAccount)?;
        let mut entries = store.entries()?;
        entries.sort_by(|a, b| b.occurred_on.cmp(&a.occurred_on).then_with(|| a.title.cmp(&b.title)));
        let mut questionnaires: Vec<QuestionnaireTask> = store
            .questionnaires()?
            .into_iter()
            .filter(|t| t.person_id == me.id && t.status == TaskStatus::Submitted)
            .collect();
        questionnaires.sort_by_key(|t| t.submitted_at);
        let mut messages = store.messages()?;
        messages.sort_by_key(|m| m.created_at);
        let audit = store.audit_events()?;
        Ok(MyDataView { me, people, entries, questionnaires, messages, audit })
    }

    /// The same as a FHIR R4 Bundle (`collection`) in the export folder; answers with its path.
    pub async fn save_fhir_export(&self) -> Result<PathBuf> {
        let data = self.my_data().await?;
        let server = self.store().await?.profile()?.server_url;
        let now = chrono::Utc::now();
        let bundle = cjg_core::fhir::export::family_bundle(
            &format!("{}/fhir", server.trim_end_matches('/')),
            &cjg_core::fhir::export::FamilyData {
                me: &data.me,
                people: &data.people,
                entries: &data.entries,
                questionnaires: &data.questionnaires,
                messages: &data.messages,
                audit: &data.audit,
            },
            &now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        );
        let name = format!("mijn-cjg-dossier-{}.json", cjg_core::time::dutch_date(now));
        // A Value always serialises; the fallback only keeps this free of a panic path.
        let text = serde_json::to_string_pretty(&bundle).unwrap_or_else(|_| bundle.to_string());
        self.write_export(&name, "json", text.as_bytes()).await
    }
}
