//! What the desktop app does, without the window: the Tauri commands are one-line adapters
//! over these methods, so the app's behaviour is tested here without a display.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cjg_core::api::DeviceInfo;
use cjg_core::markdown::{self, Block};
use cjg_core::validate::Pin;
use cjg_core::{Entry, EntryKind, Person};
use cjg_store::{LockedStore, Store};
use serde::Serialize;
use tokio::sync::{Mutex, MutexGuard};
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

/// Why the local data is gone, told once on the welcome screen.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, TS)]
#[serde(rename_all = "snake_case")]
pub enum Notice {
    /// The device was revoked (by the person on another device, or by the coach).
    Revoked,
    /// Five wrong PINs in a row.
    WipedWrongPin,
}

impl Notice {
    fn as_str(self) -> &'static str {
        match self {
            Self::Revoked => "revoked",
            Self::WipedWrongPin => "wiped_wrong_pin",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Self::Revoked, Self::WipedWrongPin].into_iter().find(|n| n.as_str() == s.trim())
    }
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct AppStatus {
    pub phase: Phase,
    /// Pre-filled on the welcome screen (from `CJG_SERVER_URL`), never trusted blindly.
    pub default_server_url: Option<String>,
    pub display_name: Option<String>,
    pub notice: Option<Notice>,
    pub auto_lock_minutes: u32,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct DevicesView {
    pub devices: Vec<DeviceInfo>,
    pub this_device: Uuid,
}

/// Minutes of no use after which the app locks itself, unless configured otherwise.
pub const DEFAULT_AUTO_LOCK_MINUTES: u32 = 5;

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
    pub display_name: String,
    /// The signed-in person as the server describes them (role, consent).
    pub me: Option<Person>,
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
    auto_lock: Duration,
    last_activity: std::sync::Mutex<Instant>,
}

impl AppCore {
    pub fn new(data_dir: PathBuf, default_server_url: Option<String>) -> Self {
        Self {
            data_dir,
            default_server_url,
            store: Mutex::new(None),
            auto_lock: Duration::from_secs(u64::from(DEFAULT_AUTO_LOCK_MINUTES) * 60),
            last_activity: std::sync::Mutex::new(Instant::now()),
        }
    }

    /// Sets the idle time after which the app locks itself (1 to 60 minutes).
    pub fn with_auto_lock(mut self, after: Duration) -> Self {
        self.auto_lock = after.clamp(Duration::from_secs(1), Duration::from_secs(3600));
        self
    }

    /// Records that the person used the app (a key, a click, a command).
    pub fn touch(&self) {
        if let Ok(mut t) = self.last_activity.lock() {
            *t = Instant::now();
        }
    }

    /// Locks when nothing happened for the auto-lock time; true if it locked just now. A hidden
    /// window gets no input, so it locks after the same time.
    pub async fn lock_if_idle(&self, now: Instant) -> bool {
        let idle = self.last_activity.lock().map(|t| now.saturating_duration_since(*t)).unwrap_or_default();
        if idle < self.auto_lock {
            return false;
        }
        let mut guard = self.store.lock().await;
        guard.take().is_some()
    }

    fn notice_path(&self) -> PathBuf {
        self.data_dir.join("wiped.reason")
    }

    fn notice(&self) -> Option<Notice> {
        std::fs::read_to_string(self.notice_path()).ok().as_deref().and_then(Notice::parse)
    }

    /// Wipes the local store and remembers why (the reason holds no personal data).
    fn wipe(&self, guard: &mut MutexGuard<'_, Option<Store>>, why: Notice) -> Result<()> {
        **guard = None;
        cjg_store::wipe(&self.store_path())?;
        std::fs::write(self.notice_path(), why.as_str()).map_err(ClientError::DeviceSecret)?;
        Ok(())
    }

    /// A revoked device wipes itself at the first answer that says so.
    fn on_error(&self, guard: &mut MutexGuard<'_, Option<Store>>, e: ClientError) -> ClientError {
        if matches!(e, ClientError::Api { code: cjg_core::ErrorCode::DeviceRevoked, .. }) {
            return match self.wipe(guard, Notice::Revoked) {
                Ok(()) => ClientError::WipedRevoked,
                Err(wipe_failed) => wipe_failed,
            };
        }
        e
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
        Ok(AppStatus {
            phase,
            default_server_url: self.default_server_url.clone(),
            display_name,
            notice: if phase == Phase::New { self.notice() } else { None },
            auto_lock_minutes: u32::try_from(self.auto_lock.as_secs().div_ceil(60)).unwrap_or(u32::MAX),
        })
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
        let _ = std::fs::remove_file(self.notice_path());
        Ok(())
    }

    pub async fn unlock(&self, pin: &str) -> Result<()> {
        // Any wrong form is simply a wrong PIN to the person typing it.
        // A PIN of the wrong form cannot open the store either, but it is not counted: it is a
        // typing slip, not a guess.
        let pin = Pin::parse(pin)?;
        let mut guard = self.store.lock().await;
        if guard.is_some() {
            return Ok(());
        }
        let secret = self.device_secret()?;
        let path = self.store_path();
        // PBKDF2 with 600,000 iterations: keep it off the async threads.
        let opened = tokio::task::spawn_blocking(move || LockedStore::open(&path)?.unlock(&pin, &secret))
            .await
            .map_err(|e| ClientError::InvalidResponse(e.to_string()))?;
        match opened {
            Ok(store) => {
                *guard = Some(store);
                self.touch();
                Ok(())
            }
            Err(cjg_store::StoreError::WipedAfterWrongPins) => {
                self.wipe(&mut guard, Notice::WipedWrongPin)?;
                Err(ClientError::Store(cjg_store::StoreError::WipedAfterWrongPins))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Changes the PIN: the data key is wrapped anew, no row is re-encrypted.
    pub async fn change_pin(&self, old: &str, new: &str, new_again: &str) -> Result<()> {
        let old = Pin::parse(old).map_err(|_| {
            ClientError::Store(cjg_store::StoreError::WrongPin { attempts_left: cjg_store::MAX_PIN_ATTEMPTS })
        })?;
        let new = Pin::parse(new)?;
        if new_again.as_bytes() != new.as_bytes() {
            return Err(ClientError::PinMismatch);
        }
        let secret = self.device_secret()?;
        let mut guard = self.store.lock().await;
        let mut store = guard.take().ok_or(ClientError::Locked)?;
        // Two PBKDF2 runs: off the async threads, and the store comes back whatever the outcome.
        let (store, result) = tokio::task::spawn_blocking(move || {
            let r = store.change_pin(&old, &new, &secret);
            (store, r)
        })
        .await
        .map_err(|e| ClientError::InvalidResponse(e.to_string()))?;
        *guard = Some(store);
        Ok(result?)
    }

    /// The person's enrolled devices, fresh from the server.
    pub async fn devices(&self) -> Result<DevicesView> {
        let mut guard = self.store.lock().await;
        let session = crate::Session::of(guard.as_ref().ok_or(ClientError::Locked)?)?;
        let result = async {
            let token = session.token().await?;
            Ok(DevicesView { devices: session.client.devices(&token).await?, this_device: session.device_id })
        }
        .await;
        result.map_err(|e| self.on_error(&mut guard, e))
    }

    /// Revokes a device of this person. Revoking this very device wipes it at once.
    pub async fn revoke_device(&self, device_id: Uuid) -> Result<()> {
        let mut guard = self.store.lock().await;
        let session = crate::Session::of(guard.as_ref().ok_or(ClientError::Locked)?)?;
        let result = async {
            let token = session.token().await?;
            session.client.revoke_device(&token, device_id).await?;
            Ok(session.device_id)
        }
        .await;
        match result {
            Ok(this_device) if this_device == device_id => {
                self.wipe(&mut guard, Notice::Revoked)?;
                Ok(())
            }
            Ok(_) => Ok(()),
            Err(e) => Err(self.on_error(&mut guard, e)),
        }
    }

    /// A youth shares their entries with the parents with gezag, or stops; the server decides
    /// whether that is possible.
    pub async fn set_consent(&self, shares_with_parents: bool) -> Result<()> {
        let mut guard = self.store.lock().await;
        let session = crate::Session::of(guard.as_ref().ok_or(ClientError::Locked)?)?;
        let result = async {
            let token = session.token().await?;
            session.client.set_consent(&token, shares_with_parents).await
        }
        .await;
        result.map_err(|e| self.on_error(&mut guard, e))
    }

    pub async fn lock(&self) {
        *self.store.lock().await = None;
    }

    pub async fn sync(&self, progress: impl FnMut(Progress)) -> Result<Progress> {
        let mut guard = self.store.lock().await;
        let store = guard.as_mut().ok_or(ClientError::Locked)?;
        let result = crate::sync(store, &SyncOptions::default(), progress).await;
        result.map_err(|e| self.on_error(&mut guard, e))
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
                visibility: e.visibility,
                title: e.title,
                child_id: e.child_id,
                occurred_on: e.occurred_on,
                author_name: e.author_name,
            })
            .collect();
        let profile = store.profile()?;
        let people = store.people()?;
        let me = people.iter().find(|p| p.id == profile.person_id).cloned();
        Ok(DossierView { display_name: profile.display_name, me, people, entries })
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
        Notice::decl(&cfg),
        AppStatus::decl(&cfg),
        DeviceInfo::decl(&cfg),
        DevicesView::decl(&cfg),
        cjg_core::entry::Visibility::decl(&cfg),
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
        assert_eq!(s.notice, None);
        assert_eq!(s.auto_lock_minutes, DEFAULT_AUTO_LOCK_MINUTES);
    }

    #[tokio::test]
    async fn idle_time_locks_only_after_the_configured_time() {
        let dir = tempfile::tempdir().expect("tmp");
        let app = AppCore::new(dir.path().to_owned(), None).with_auto_lock(Duration::from_secs(120));
        let start = Instant::now();
        app.touch();
        assert!(!app.lock_if_idle(start + Duration::from_secs(60)).await, "not idle long enough");
        // Nothing was unlocked, so there is nothing to lock even after the time.
        assert!(!app.lock_if_idle(start + Duration::from_secs(600)).await);
        assert_eq!(app.status().await.expect("status").auto_lock_minutes, 2);
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
