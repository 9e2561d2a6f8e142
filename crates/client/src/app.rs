//! What the desktop app does, without the window: the Tauri commands are one-line adapters
//! over these methods, so the app's behaviour is tested here without a display.

use std::path::{Path, PathBuf};

use cjg_core::markdown::{self, Block};
use cjg_core::validate::Pin;
use cjg_core::{Entry, EntryKind, Person};
use cjg_store::{LockedStore, Store};
use serde::Serialize;
use tokio::sync::Mutex;
use ts_rs::TS;
use uuid::Uuid;

use crate::{ClientError, Progress, Result, SyncOptions};

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, TS)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// No store yet: show the welcome and enrolment screens.
    New,
    /// A store exists: ask for the PIN.
    Locked,
    Unlocked,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct AppStatus {
    pub phase: Phase,
    /// Pre-filled on the welcome screen (from `CJG_SERVER_URL`), never trusted blindly.
    pub default_server_url: Option<String>,
    pub display_name: Option<String>,
}

/// An entry as the list shows it: no body, so the list never holds more text than it needs.
#[derive(Debug, Clone, Serialize, TS)]
pub struct EntrySummary {
    pub id: Uuid,
    pub kind: EntryKind,
    pub title: String,
    pub child_id: Option<Uuid>,
    pub occurred_on: chrono::NaiveDate,
    pub author_name: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct DossierView {
    pub display_name: String,
    pub people: Vec<Person>,
    pub entries: Vec<EntrySummary>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct EntryDetail {
    pub entry: Entry,
    pub blocks: Vec<Block>,
    /// The name of the child the entry is about, if any.
    pub about: Option<String>,
}

pub struct AppCore {
    data_dir: PathBuf,
    default_server_url: Option<String>,
    store: Mutex<Option<Store>>,
}

impl AppCore {
    pub fn new(data_dir: PathBuf, default_server_url: Option<String>) -> Self {
        Self { data_dir, default_server_url, store: Mutex::new(None) }
    }

    fn store_path(&self) -> PathBuf {
        self.data_dir.join("store.db")
    }

    fn device_secret(&self) -> Result<[u8; 32]> {
        std::fs::create_dir_all(&self.data_dir).map_err(ClientError::DeviceSecret)?;
        crate::secret::load_or_create(&self.data_dir.join("device.secret"))
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub async fn status(&self) -> Result<AppStatus> {
        let guard = self.store.lock().await;
        let (phase, display_name) = match &*guard {
            Some(s) => (Phase::Unlocked, Some(s.profile()?.display_name)),
            None if cjg_store::exists(&self.store_path()) => (Phase::Locked, None),
            None => (Phase::New, None),
        };
        Ok(AppStatus { phase, default_server_url: self.default_server_url.clone(), display_name })
    }

    /// Step 1 of enrolment: is the address well-formed and is a Mijn CJG server there?
    pub async fn check_server(&self, server_url: &str) -> Result<()> {
        crate::Client::new(server_url)?.health().await.map(|_| ())
    }

    /// Step 2: PIN twice, then enrol and create the store in one go.
    pub async fn enrol(&self, server_url: &str, code: &str, pin: &str, pin_again: &str) -> Result<()> {
        let pin = Pin::parse(pin)?;
        if pin_again.as_bytes() != pin.as_bytes() {
            return Err(ClientError::PinMismatch);
        }
        let mut guard = self.store.lock().await;
        let secret = self.device_secret()?;
        let store = crate::enrol(server_url, code, &pin, &secret, &self.store_path(), &device_name()).await?;
        *guard = Some(store);
        Ok(())
    }

    pub async fn unlock(&self, pin: &str) -> Result<()> {
        // Any wrong form is simply a wrong PIN to the person typing it.
        let pin = Pin::parse(pin).map_err(|_| ClientError::Store(cjg_store::StoreError::WrongPin))?;
        let mut guard = self.store.lock().await;
        if guard.is_some() {
            return Ok(());
        }
        let secret = self.device_secret()?;
        let path = self.store_path();
        // PBKDF2 with 600,000 iterations: keep it off the async threads.
        let store = tokio::task::spawn_blocking(move || LockedStore::open(&path)?.unlock(&pin, &secret))
            .await
            .map_err(|e| ClientError::InvalidResponse(e.to_string()))??;
        *guard = Some(store);
        Ok(())
    }

    pub async fn lock(&self) {
        *self.store.lock().await = None;
    }

    pub async fn sync(&self, progress: impl FnMut(Progress)) -> Result<Progress> {
        let mut guard = self.store.lock().await;
        let store = guard.as_mut().ok_or(ClientError::Locked)?;
        crate::sync(store, &SyncOptions::default(), progress).await
    }

    pub async fn dossier(&self) -> Result<DossierView> {
        let guard = self.store.lock().await;
        let store = guard.as_ref().ok_or(ClientError::Locked)?;
        let entries = store
            .entries()?
            .into_iter()
            .map(|e| EntrySummary {
                id: e.id,
                kind: e.kind,
                title: e.title,
                child_id: e.child_id,
                occurred_on: e.occurred_on,
                author_name: e.author_name,
            })
            .collect();
        Ok(DossierView { display_name: store.profile()?.display_name, people: store.people()?, entries })
    }

    pub async fn entry(&self, id: Uuid) -> Result<Option<EntryDetail>> {
        let guard = self.store.lock().await;
        let store = guard.as_ref().ok_or(ClientError::Locked)?;
        let Some(entry) = store.entry(id)? else { return Ok(None) };
        let about = match entry.child_id {
            Some(c) => store.people()?.into_iter().find(|p| p.id == c).map(|p| p.display_name),
            None => None,
        };
        Ok(Some(EntryDetail { blocks: markdown::render(&entry.body), entry, about }))
    }
}

fn device_name() -> String {
    let os = std::env::consts::OS;
    format!("Mijn CJG ({os})")
}

/// The TypeScript declarations of every type that crosses the IPC boundary, as the UI
/// imports them from `ui/src/lib/bindings.ts`.
pub fn typescript_bindings() -> String {
    use cjg_core::markdown::Span;
    use cjg_core::PersonRole;
    let cfg = ts_rs::Config::new();
    let decls = [
        Phase::decl(&cfg),
        AppStatus::decl(&cfg),
        EntryKind::decl(&cfg),
        PersonRole::decl(&cfg),
        Person::decl(&cfg),
        Entry::decl(&cfg),
        EntrySummary::decl(&cfg),
        DossierView::decl(&cfg),
        Span::decl(&cfg),
        Block::decl(&cfg),
        EntryDetail::decl(&cfg),
        crate::Progress::decl(&cfg),
        crate::UiError::decl(&cfg),
    ];
    let mut out = String::from(
        "// Generated from the Rust types by `UPDATE_BINDINGS=1 cargo test -p cjg-client`. Do not edit.\n",
    );
    for d in decls {
        out.push_str("\nexport ");
        out.push_str(&d);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails when a Rust type of the IPC boundary changed and the UI's copy did not.
    #[test]
    fn ui_bindings_match_the_rust_types() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/lib/bindings.ts");
        let fresh = typescript_bindings();
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::write(&path, &fresh).expect("write bindings");
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == fresh,
            "ui/src/lib/bindings.ts is stale: run UPDATE_BINDINGS=1 cargo test -p cjg-client"
        );
    }

    #[tokio::test]
    async fn a_new_app_starts_in_the_new_phase_and_refuses_data_calls() {
        let dir = tempfile::tempdir().expect("tmp");
        let app = AppCore::new(dir.path().to_owned(), Some("http://127.0.0.1:8470".into()));
        let s = app.status().await.expect("status");
        assert_eq!(s.phase, Phase::New);
        assert_eq!(app.dossier().await.expect_err("locked").code(), "locked");
        assert_eq!(app.unlock("902417").await.expect_err("no store").code(), "not_enrolled");
    }

    #[tokio::test]
    async fn enrol_checks_the_pins_before_the_server() {
        let dir = tempfile::tempdir().expect("tmp");
        let app = AppCore::new(dir.path().to_owned(), None);
        let e = app
            .enrol("http://127.0.0.1:9", "ABCD-EFGH-JKMN", "902417", "902418")
            .await
            .expect_err("mismatch");
        assert_eq!(e.code(), "pin_mismatch");
        let e =
            app.enrol("http://127.0.0.1:9", "ABCD-EFGH-JKMN", "123456", "123456").await.expect_err("simple");
        assert_eq!(e.code(), "pin_too_simple");
        let e = app
            .enrol("http://127.0.0.1:9", "ABCD-EFGH-JKMN", "902417", "902417")
            .await
            .expect_err("no server");
        assert_eq!(e.code(), "server_unreachable");
        assert_eq!(app.status().await.expect("status").phase, Phase::New, "nothing half-made");
    }
}
