//! Dossier: the entries, one entry with its feedback, and sending feedback.

use cjg_core::feedback::{Feedback, FeedbackDraft, FeedbackKind};
use cjg_core::markdown::{self, Block};
use cjg_core::{Entry, EntryKind, Person};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;

use super::AppCore;
use crate::{ClientError, Result};

/// An entry as the list shows it: no body, so the list never holds more text than it needs.
#[derive(Debug, Clone, Serialize, TS)]
pub struct EntrySummary {
    pub id: Uuid,
    pub kind: EntryKind,
    pub visibility: cjg_core::entry::Visibility,
    pub title: String,
    pub child_id: Option<Uuid>,
    pub occurred_on: chrono::NaiveDate,
    pub author_name: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct DossierView {
    /// Inzage lines not seen yet: someone looked since the last visit.
    pub unseen_audit: u32,
    pub display_name: String,
    /// The signed-in person as the server describes them (role, consent).
    pub me: Option<Person>,
    pub people: Vec<Person>,
    /// The entries asked for, newest first: the first `limit` of those that match the query.
    pub entries: Vec<EntrySummary>,
    /// How many entries the dossier has on this device.
    pub total: u32,
    /// How many entries match the query (the list is the first part of them).
    pub matching: u32,
    /// The youth said their parents may read along before they were 16, and is 16 now: that
    /// "yes" no longer counts, and the app asks again.
    pub consent_ask_again: bool,
}

/// Which entries the Dossier list shows. A dossier of 20,000 entries is filtered here and only
/// the first part crosses to the window: every entry in the webview took it to a gigabyte.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[serde(default)]
pub struct DossierQuery {
    pub kind: Option<EntryKind>,
    pub about: Option<EntryAbout>,
    /// At most this many entries; none: all.
    pub limit: Option<u32>,
}

/// Whom an entry is about, as the list filters it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum EntryAbout {
    /// The whole family: entries about no one child.
    Family,
    Child(Uuid),
}

impl DossierQuery {
    fn matches(&self, e: &Entry) -> bool {
        self.kind.is_none_or(|k| k == e.kind)
            && self.about.is_none_or(|a| match a {
                EntryAbout::Family => e.child_id.is_none(),
                EntryAbout::Child(c) => e.child_id == Some(c),
            })
    }
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct EntryDetail {
    pub entry: Entry,
    pub blocks: Vec<Block>,
    /// The name of the child the entry is about, if any.
    pub about: Option<String>,
    /// The person's feedback on this entry as the server confirmed it, oldest first.
    pub feedback: Vec<Feedback>,
    /// Feedback still in the outbox.
    pub pending: Vec<PendingFeedback>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct PendingFeedback {
    pub id: Uuid,
    pub kind: FeedbackKind,
    pub text: String,
    /// The code of the server's final refusal, if it refused.
    pub failed: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, TS)]
pub struct FeedbackSent {
    /// False: kept in the outbox, sent at the next contact.
    pub sent: bool,
}

impl AppCore {
    /// Every entry of the dossier.
    pub async fn dossier(&self) -> Result<DossierView> {
        self.dossier_page(&DossierQuery::default()).await
    }

    /// The entries that match `query`, newest first, the first part of them.
    pub async fn dossier_page(&self, query: &DossierQuery) -> Result<DossierView> {
        let guard = self.store().await?;
        let store = &*guard;
        let mut total = 0u32;
        let mut entries = Vec::new();
        store.each_entry(|e| {
            total = total.saturating_add(1);
            if query.matches(&e) {
                entries.push(EntrySummary {
                    id: e.id,
                    kind: e.kind,
                    visibility: e.visibility,
                    title: e.title,
                    child_id: e.child_id,
                    occurred_on: e.occurred_on,
                    author_name: e.author_name,
                });
            }
        })?;
        let matching = u32::try_from(entries.len()).unwrap_or(u32::MAX);
        let by_date = |a: &EntrySummary, b: &EntrySummary| {
            b.occurred_on.cmp(&a.occurred_on).then_with(|| a.title.cmp(&b.title))
        };
        match query.limit.map(|l| l as usize) {
            // Only the first part is sorted: the rest is never shown.
            Some(limit) if limit < entries.len() => {
                if limit > 0 {
                    entries.select_nth_unstable_by(limit - 1, by_date);
                }
                entries.truncate(limit);
            }
            _ => {}
        }
        entries.sort_by(by_date);
        let profile = store.profile()?;
        let people = store.people()?;
        let me = people.iter().find(|p| p.id == profile.person_id).cloned();
        let audit = store.audit_state()?;
        // The app does not know the dossier's regime; Mijn CJG serves jeugdhulp (the Jeugdwet),
        // where the line is 16. The server decides what the parents see either way.
        let consent_ask_again = me.as_ref().is_some_and(|p| {
            p.role == cjg_core::PersonRole::Child
                && cjg_core::policy::consent_to_ask_again(
                    cjg_core::policy::Regime::Jeugdwet,
                    p.birth_date,
                    p.shares_with_parents,
                    p.consent_on,
                    cjg_core::time::dutch_date(chrono::Utc::now()),
                )
        });
        Ok(DossierView {
            unseen_audit: audit.size.saturating_sub(audit.seen),
            display_name: profile.display_name,
            me,
            people,
            entries,
            total,
            matching,
            consent_ask_again,
        })
    }

    pub async fn entry(&self, id: Uuid) -> Result<Option<EntryDetail>> {
        let guard = self.store().await?;
        let store = &*guard;
        let Some(entry) = store.entry(id)? else { return Ok(None) };
        let about = match entry.child_id {
            Some(c) => store.people()?.into_iter().find(|p| p.id == c).map(|p| p.display_name),
            None => None,
        };
        let feedback = store.feedback()?.into_iter().filter(|f| f.entry_id == id).collect();
        let pending = store
            .outbox()?
            .into_iter()
            .filter_map(|o| match o.item {
                cjg_store::OutboxItem::Feedback(d) if d.entry_id == id => {
                    Some(PendingFeedback { id: d.id, kind: d.kind, text: d.text, failed: o.failed })
                }
                _ => None,
            })
            .collect();
        Ok(Some(EntryDetail { blocks: markdown::render(&entry.body), entry, about, feedback, pending }))
    }

    /// Feedback on an entry: into the outbox first (nothing is lost offline), then sent at once
    /// if the server answers. A failure after the item went out (the audit log check, say)
    /// still counts as sent when the outbox is empty of it.
    pub async fn send_feedback(
        &self,
        entry_id: Uuid,
        kind: FeedbackKind,
        text: &str,
    ) -> Result<FeedbackSent> {
        let draft = FeedbackDraft { id: Uuid::new_v4(), entry_id, kind, text: text.to_owned() }.validate()?;
        let mut guard = self.store().await?;
        let store = &mut *guard;
        if store.entry(entry_id)?.is_none() {
            return Err(ClientError::Api { code: cjg_core::ErrorCode::NotFound, status: 404 });
        }
        store.enqueue_feedback(&draft)?;
        drop(guard);
        let sent = self.send_queued(draft.id).await?;
        Ok(FeedbackSent { sent })
    }

    pub async fn discard_feedback(&self, id: Uuid) -> Result<()> {
        let mut guard = self.store().await?;
        let store = &mut *guard;
        Ok(store.outbox_sent(id)?)
    }
}
