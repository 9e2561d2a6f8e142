//! Inzage: the verified access log, and the exports the person asks for (CSV, PDF).

use std::path::PathBuf;

use cjg_core::audit::{AuditAction, AuditProblem, Purpose};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;

use super::AppCore;
use crate::{ClientError, Result};

/// One line of Inzage, with what the app knows about its object.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AuditLine {
    pub position: u32,
    pub at: chrono::DateTime<chrono::Utc>,
    pub actor_name: String,
    pub actor_role: String,
    pub action: AuditAction,
    pub object_type: String,
    /// The entry the line is about, when this person can open it.
    pub entry_id: Option<Uuid>,
    pub entry_title: Option<String>,
    pub purpose: Purpose,
    pub purpose_note: Option<String>,
    /// Not yet seen in Inzage.
    pub new: bool,
}

/// A time the server sent a log that did not extend the one this device verified.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AuditWarningView {
    pub at: chrono::DateTime<chrono::Utc>,
    pub problem: AuditProblem,
    pub verified_size: u32,
    pub received_size: u32,
    /// At how many syncs the same broken log came.
    pub times: u32,
    pub dismissed_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// What the device verified last, short enough to read out and compare with another device
/// or with the coach: the number of lines and the start of the chain's head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct LogFingerprint {
    pub size: u32,
    /// Eight characters of the head in two groups, like `3F9A-1C2E`.
    pub code: String,
}

impl LogFingerprint {
    pub fn of(size: u32, head_hex: &str) -> Self {
        let start: String = head_hex.chars().take(8).collect::<String>().to_uppercase();
        let code = match (start.get(..4), start.get(4..)) {
            (Some(a), Some(b)) => format!("{a}-{b}"),
            _ => start,
        };
        Self { size, code }
    }
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct InzageView {
    /// The lines asked for, newest first: one page of those that match the query.
    pub lines: Vec<AuditLine>,
    /// How many lines the log has.
    pub total: u32,
    /// How many lines match the query (the page is a part of them).
    pub matching: u32,
    /// How many lines the person has not seen in Inzage yet.
    pub new_count: u32,
    /// Every staff member in the log, for the filter.
    pub staff_names: Vec<String>,
    /// The newest warning the person has not dismissed yet.
    pub warning: Option<AuditWarningView>,
    /// Every warning, dismissed or not, newest first.
    pub warnings: Vec<AuditWarningView>,
    pub fingerprint: LogFingerprint,
}

/// Which lines of Inzage to show: a log of 200,000 lines is shown a page at a time, and the
/// filters run here rather than over every line in the window.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[serde(default)]
pub struct InzageQuery {
    pub staff: Option<String>,
    pub action: Option<AuditAction>,
    /// Only lines from this moment on.
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Only lines older than this one (its position): the next page after the last line
    /// shown, which stays right while new lines arrive at the top.
    pub before: Option<u32>,
    /// Lines to skip, newest first.
    pub offset: u32,
    /// At most this many lines; none: all (for an export).
    pub limit: Option<u32>,
}

impl InzageQuery {
    fn matches(&self, e: &cjg_core::audit::AuditEvent) -> bool {
        self.staff.as_ref().is_none_or(|s| *s == e.actor_name)
            && self.action.is_none_or(|a| a == e.action)
            && self.since.is_none_or(|t| e.at >= t)
            && self.before.is_none_or(|p| e.position < p)
    }
}

impl AppCore {
    /// The whole verified access log, newest first, with the titles of entries this person
    /// can open.
    pub async fn inzage(&self) -> Result<InzageView> {
        self.inzage_page(&InzageQuery::default()).await
    }

    /// The lines of the access log that match `query`, newest first, one page of them.
    pub async fn inzage_page(&self, query: &InzageQuery) -> Result<InzageView> {
        let guard = self.store().await?;
        let store = &*guard;
        let state = store.audit_state()?;
        let events = store.audit_events()?;
        let staff_names: Vec<String> = events
            .iter()
            .map(|e| e.actor_name.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .map(str::to_owned)
            .collect();
        let total = u32::try_from(events.len()).unwrap_or(u32::MAX);
        let new_count = u32::try_from(events.iter().filter(|e| e.position > state.seen).count()).unwrap_or(0);
        let matching: Vec<_> = events.into_iter().rev().filter(|e| query.matches(e)).collect();
        let limit = query.limit.map_or(usize::MAX, |l| l as usize);
        let page: Vec<_> = matching.iter().skip(query.offset as usize).take(limit).collect();
        // Titles only for the entries on this page: a big dossier has thousands.
        let mut titles = std::collections::HashMap::new();
        for e in &page {
            if let Some(id) = e.object_id.filter(|_| e.object_type == "entry") {
                if let std::collections::hash_map::Entry::Vacant(slot) = titles.entry(id) {
                    slot.insert(store.entry(id)?.map(|entry| entry.title));
                }
            }
        }
        let lines: Vec<AuditLine> = page
            .into_iter()
            .map(|e| {
                let title = e
                    .object_id
                    .filter(|_| e.object_type == "entry")
                    .and_then(|id| titles.get(&id).cloned().flatten());
                AuditLine {
                    position: e.position,
                    at: e.at,
                    actor_name: e.actor_name.clone(),
                    actor_role: e.actor_role.clone(),
                    action: e.action,
                    object_type: e.object_type.clone(),
                    entry_id: title.as_ref().and(e.object_id),
                    entry_title: title,
                    purpose: e.purpose,
                    purpose_note: e.purpose_note.clone(),
                    new: e.position > state.seen,
                }
            })
            .collect();
        let warnings: Vec<AuditWarningView> = state
            .warnings
            .iter()
            .rev()
            .map(|w| AuditWarningView {
                at: w.at,
                problem: w.problem,
                verified_size: w.verified_size,
                received_size: w.received_size,
                times: w.times,
                dismissed_at: w.dismissed_at,
            })
            .collect();
        let warning = warnings.iter().find(|w| w.dismissed_at.is_none()).cloned();
        let fingerprint = LogFingerprint::of(state.size, &state.head);
        Ok(InzageView {
            lines,
            total,
            matching: u32::try_from(matching.len()).unwrap_or(u32::MAX),
            new_count,
            staff_names,
            warning,
            warnings,
            fingerprint,
        })
    }

    /// The person read the warnings: they move to the history shown under them.
    pub async fn dismiss_audit_warnings(&self) -> Result<()> {
        let mut guard = self.store().await?;
        Ok(guard.dismiss_audit_warnings(chrono::Utc::now())?)
    }

    /// Saves a file the person asked for (their right of access: the Inzage log as CSV, one row per line, the first the headings) in the
    /// export folder, and says where. With [`AppCore::save_pdf`] and
    /// [`AppCore::save_fhir_export`] the only places the app writes readable dossier data, and
    /// only on request.
    pub async fn save_export(&self, file_name: &str, rows: &[Vec<String>]) -> Result<PathBuf> {
        let bytes = crate::export::csv(rows)?;
        let path = self.write_export(file_name, "csv", &bytes).await?;
        self.note_export(file_name).await;
        Ok(path)
    }

    /// An Inzage export counts for the usage report when the person shares it.
    async fn note_export(&self, file_name: &str) {
        if file_name.starts_with("mijn-cjg-inzage-") {
            let _ = self.note_use(cjg_core::usage::UsageQuestion::InzageExport).await;
        }
    }

    /// The same as a PDF, laid out from the already-worded items.
    pub async fn save_pdf(&self, file_name: &str, doc: &crate::export::PdfDoc) -> Result<PathBuf> {
        // Shaping a log of 200,000 lines takes seconds: off the threads that answer the window.
        let doc = doc.clone();
        let bytes = super::blocking(move || crate::export::pdf(&doc)).await?;
        let path = self.write_export(file_name, "pdf", &bytes).await?;
        self.note_export(file_name).await;
        Ok(path)
    }

    pub(super) async fn write_export(&self, file_name: &str, ext: &str, bytes: &[u8]) -> Result<PathBuf> {
        // Only for the open account: a locked app exports nothing.
        drop(self.store().await?);
        self.write_export_file(file_name, ext, bytes)
    }

    /// Writes an export under a name the app makes, in the export folder.
    pub(super) fn write_export_file(&self, file_name: &str, ext: &str, bytes: &[u8]) -> Result<PathBuf> {
        let ok_name = file_name.len() <= 80
            && file_name.starts_with("mijn-cjg-")
            && file_name.strip_suffix(ext).is_some_and(|stem| stem.ends_with('.'))
            && file_name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if !ok_name || bytes.len() > 50 * 1024 * 1024 {
            return Err(ClientError::Validation(cjg_core::validate::ValidationError::Invalid {
                field: "export",
                reason: "not an export the app makes",
            }));
        }
        let dir = self.export_dir.clone().unwrap_or_else(|| self.data_dir.join("exports"));
        std::fs::create_dir_all(&dir).map_err(ClientError::DeviceSecret)?;
        let path = dir.join(file_name);
        // Written next to it and renamed: a crash leaves no half file under the final name.
        let tmp = dir.join(format!(".{file_name}.part"));
        std::fs::write(&tmp, bytes)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(ClientError::DeviceSecret)?;
        Ok(path)
    }

    /// Where exports go (the Downloads folder in the desktop app).
    pub fn with_export_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.export_dir = dir;
        self
    }

    /// The person has seen every line so far.
    pub async fn mark_inzage_seen(&self) -> Result<()> {
        let mut guard = self.store().await?;
        let store = &mut *guard;
        Ok(store.mark_audit_seen()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_is_short_and_readable() {
        let f = LogFingerprint::of(42, "3f9a1c2e0000000000000000000000000000000000000000000000000000abcd");
        assert_eq!(f, LogFingerprint { size: 42, code: "3F9A-1C2E".into() });
    }
}
