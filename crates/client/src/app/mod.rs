//! What the desktop app does, without the window: the Tauri commands are one-line adapters
//! over these methods, so the app's behaviour is tested here without a display.

//!
//! One module per feature (accounts, dossier, inzage, devices, taken, informatie, berichten,
//! staff). The open account sits behind one mutex that is held only for store work, never
//! across a network call: a slow sync does not stop the person from opening an entry, reading
//! Inzage or locking the app.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cjg_store::Store;
use serde::Serialize;
use tokio::sync::Mutex;
use ts_rs::TS;
use uuid::Uuid;

mod accounts;
mod berichten;
mod bindings;
mod devices;
mod dossier;
mod informatie;
mod inzage;
mod mine;
mod push;
mod staff;
mod taken;
mod usage;
pub use accounts::AccountInfo;
pub use berichten::{BerichtenView, Delivery, MessageSent, MessageView};
pub use bindings::typescript_bindings;
pub use devices::DevicesView;
pub use dossier::{
    DossierQuery, DossierView, EntryAbout, EntryDetail, EntrySummary, FeedbackSent, PendingFeedback,
};
pub use informatie::{ArticleSummary, ArticleView, InformatieView, TipView};
pub use inzage::{AuditLine, AuditWarningView, InzageQuery, InzageView, LogFingerprint};
pub use mine::MyDataView;
pub use push::News;
pub use taken::{AnswersSent, QuestionnaireView, TaskItem, TaskKind, TaskState, TasksView};

use crate::accounts::Accounts;
use crate::secret::Vault;
use crate::{ClientError, Progress, Result, Session, StoreAccess, SyncOptions, TokenCache};

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
    /// The server locked the device after too many PIN tries (on it or on copies of it).
    DeviceLocked,
}

impl Notice {
    fn as_str(self) -> &'static str {
        match self {
            Self::Revoked => "revoked",
            Self::WipedWrongPin => "wiped_wrong_pin",
            Self::DeviceLocked => "device_locked",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Self::Revoked, Self::WipedWrongPin, Self::DeviceLocked].into_iter().find(|n| n.as_str() == s.trim())
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
    /// While unlocked and in view, the window syncs this often, quietly, so a coach's answer
    /// shows without a tap on Vernieuwen. 0: only when asked.
    pub sync_every_minutes: u32,
    /// The accounts on this device, for the lock screen.
    pub accounts: Vec<AccountInfo>,
    /// The unlocked account, if any.
    pub account: Option<Uuid>,
    /// The coach signed in on the staff side, if any.
    pub staff_user: Option<String>,
}

/// Minutes of no use after which the app locks itself, unless configured otherwise.
pub const DEFAULT_AUTO_LOCK_MINUTES: u32 = 5;
/// A coach's answer shows within this many minutes while the app is open.
pub const DEFAULT_SYNC_MINUTES: u32 = 2;

/// The one account that is unlocked; the others stay sealed.
struct OpenAccount {
    id: Uuid,
    store: Store,
    /// Goes with the account: locking forgets it.
    tokens: Arc<TokenCache>,
    /// When the access log was last checked against every line the server stores (see
    /// [`SyncOptions::full_log_check`]); `None` until the first sync after unlocking.
    log_checked: LogChecked,
    /// Dropped with the account (lock, another account, wipe): its receivers, such as the push
    /// connection, hear that the account closed.
    ended: tokio::sync::watch::Sender<()>,
}

impl OpenAccount {
    fn new(id: Uuid, store: Store) -> Self {
        Self {
            id,
            store,
            tokens: Default::default(),
            log_checked: Default::default(),
            ended: tokio::sync::watch::Sender::new(()),
        }
    }
}

/// How often a sync has the whole access log checked while the app stays unlocked.
const FULL_LOG_CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(60 * 60);

type Guard<'a> = tokio::sync::MutexGuard<'a, Option<OpenAccount>>;
type LogChecked = Arc<std::sync::Mutex<Option<std::time::Instant>>>;

/// The open account's store as a sync sees it: taken for each read or page, and refused once
/// the app was locked or another account opened meanwhile.
struct OpenStore<'a> {
    open: &'a Mutex<Option<OpenAccount>>,
    id: Uuid,
}

impl StoreAccess for OpenStore<'_> {
    async fn with<T: Send>(&self, f: impl FnOnce(&mut Store) -> Result<T> + Send) -> Result<T> {
        match self.open.lock().await.as_mut() {
            Some(o) if o.id == self.id => f(&mut o.store),
            _ => Err(ClientError::Locked),
        }
    }
}

pub struct AppCore {
    data_dir: PathBuf,
    default_server_url: Option<String>,
    accounts: Accounts,
    vault: Vault,
    open: Mutex<Option<OpenAccount>>,
    auto_lock: Duration,
    sync_every_minutes: u32,
    last_activity: std::sync::Mutex<Instant>,
    export_dir: Option<PathBuf>,
    /// A coach signed in on this device: in memory only, gone at lock or exit.
    staff: Mutex<Option<crate::staff::StaffSession>>,
    /// Stops the sign-in at the organisation that waits for the browser, if one does.
    org_sign_in: std::sync::Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
    /// One sync at a time (a quiet sync and a send right after a message, say), so two never
    /// pull the same page. Held across the network, but it keeps only other syncs waiting.
    syncing: Mutex<()>,
}

impl AppCore {
    pub fn new(data_dir: PathBuf, default_server_url: Option<String>) -> Self {
        let accounts = Accounts::new(&data_dir);
        if let Err(e) = accounts.adopt_single_store(&data_dir) {
            tracing::warn!(code = e.code(), "could not move the old store into an account");
        }
        Self {
            data_dir,
            default_server_url,
            accounts,
            vault: Vault::new(Vault::SERVICE, true),
            open: Mutex::new(None),
            auto_lock: Duration::from_secs(u64::from(DEFAULT_AUTO_LOCK_MINUTES) * 60),
            sync_every_minutes: DEFAULT_SYNC_MINUTES,
            last_activity: std::sync::Mutex::new(Instant::now()),
            export_dir: None,
            staff: Mutex::new(None),
            org_sign_in: std::sync::Mutex::new(None),
            syncing: Mutex::new(()),
        }
        .without_unfinished_accounts()
    }

    /// An enrolment cut off half-way leaves a folder without a store: nothing to keep.
    fn without_unfinished_accounts(self) -> Self {
        for id in self.accounts.unfinished() {
            self.vault.forget(id);
            if let Err(e) = self.accounts.remove(id) {
                tracing::warn!(code = e.code(), "could not clean up an unfinished account");
            }
        }
        self
    }

    /// Where secrets go: `Vault::new(service, false)` keeps them in files only (no keychain).
    pub fn with_vault(mut self, vault: Vault) -> Self {
        self.vault = vault;
        self
    }

    /// Sets the idle time after which the app locks itself (1 to 60 minutes).
    pub fn with_auto_lock(mut self, after: Duration) -> Self {
        self.auto_lock = after.clamp(Duration::from_secs(1), Duration::from_secs(3600));
        self
    }

    /// How often the open window syncs by itself, in minutes (at most 60); 0 turns it off.
    pub fn with_sync_every(mut self, minutes: u32) -> Self {
        self.sync_every_minutes = minutes.min(60);
        self
    }

    /// Records that the person used the app (a key, a click, a command).
    pub fn touch(&self) {
        if let Ok(mut t) = self.last_activity.lock() {
            *t = Instant::now();
        }
    }

    /// Locks when nothing happened for the auto-lock time; true if it locked just now. A hidden
    /// window gets no input, so it locks after the same time. A sync under way is activity:
    /// locking in the middle of a long first sync would throw away the page it is fetching and
    /// start it over after the PIN; the lock waits until the sync ends.
    pub async fn lock_if_idle(&self, now: Instant) -> bool {
        let idle = self.last_activity.lock().map(|t| now.saturating_duration_since(*t)).unwrap_or_default();
        if idle < self.auto_lock || self.syncing.try_lock().is_err() {
            return false;
        }
        let session = self.staff.lock().await.take();
        let staff = session.is_some();
        if let Some(session) = session {
            staff::end_on_server(session);
        }
        let mut guard = self.open.lock().await;
        guard.take().is_some() || staff
    }

    fn notice_path(&self) -> PathBuf {
        self.data_dir.join("wiped.reason")
    }

    fn notice(&self) -> Option<Notice> {
        std::fs::read_to_string(self.notice_path()).ok().as_deref().and_then(Notice::parse)
    }

    fn clear_notice(&self) {
        let _ = std::fs::remove_file(self.notice_path());
    }

    /// Wipes one account from this device and remembers why (the reason holds no personal data).
    /// The other accounts are untouched.
    fn wipe(&self, id: Uuid, why: Notice) -> Result<()> {
        self.vault.forget(id);
        self.accounts.remove(id)?;
        std::fs::create_dir_all(&self.data_dir).map_err(ClientError::DeviceSecret)?;
        std::fs::write(self.notice_path(), why.as_str()).map_err(ClientError::DeviceSecret)?;
        Ok(())
    }

    /// Closes account `id` if it is the open one, and wipes it from this device.
    async fn wipe_account(&self, id: Uuid, why: Notice) -> Result<()> {
        let mut guard = self.open.lock().await;
        if guard.as_ref().is_some_and(|o| o.id == id) {
            *guard = None;
        }
        self.wipe(id, why)
    }

    /// A revoked device wipes itself at the first answer that says so.
    async fn on_error(&self, id: Uuid, e: ClientError) -> ClientError {
        if matches!(e, ClientError::Api { code: cjg_core::ErrorCode::DeviceRevoked, .. }) {
            return match self.wipe_account(id, Notice::Revoked).await {
                Ok(()) => ClientError::WipedRevoked,
                Err(wipe_failed) => wipe_failed,
            };
        }
        e
    }

    /// The open account's store, under the lock: for store work only, never held across a
    /// call to the server.
    async fn store(&self) -> Result<tokio::sync::MappedMutexGuard<'_, Store>> {
        tokio::sync::MutexGuard::try_map(self.open.lock().await, |o| o.as_mut().map(|o| &mut o.store))
            .map_err(|_| ClientError::Locked)
    }

    /// A command that asks the server something for the open account: what it needs is read
    /// from the store under the lock, the server is asked without it, and a device the server
    /// says is revoked is wiped.
    async fn with_session<T, F: Future<Output = Result<T>>>(
        &self,
        f: impl FnOnce(Session, String) -> F,
    ) -> Result<T> {
        Ok(self.session_call(f).await?.1)
    }

    /// [`AppCore::with_session`], also naming the account it ran for.
    async fn session_call<T, F: Future<Output = Result<T>>>(
        &self,
        f: impl FnOnce(Session, String) -> F,
    ) -> Result<(Uuid, T)> {
        let (id, session) = {
            let guard = self.open.lock().await;
            let open = guard.as_ref().ok_or(ClientError::Locked)?;
            (open.id, Session::of(&open.store)?)
        };
        let result = async {
            let token = session.token().await?;
            f(session, token).await
        }
        .await;
        match result {
            Ok(v) => Ok((id, v)),
            Err(e) => Err(self.on_error(id, e).await),
        }
    }

    /// The open account's id and token cache, for a sync.
    async fn open_for_sync(&self) -> Result<(Uuid, Arc<TokenCache>, LogChecked)> {
        let guard = self.open.lock().await;
        let open = guard.as_ref().ok_or(ClientError::Locked)?;
        Ok((open.id, open.tokens.clone(), open.log_checked.clone()))
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub async fn status(&self) -> Result<AppStatus> {
        let guard = self.open.lock().await;
        let accounts = self.accounts.list();
        let (phase, display_name) = match &*guard {
            Some(o) => (Phase::Unlocked, Some(o.store.profile()?.display_name)),
            None if !accounts.is_empty() => (Phase::Locked, None),
            None => (Phase::New, None),
        };
        Ok(AppStatus {
            phase,
            default_server_url: self.default_server_url.clone(),
            display_name,
            notice: if phase == Phase::Unlocked { None } else { self.notice() },
            auto_lock_minutes: u32::try_from(self.auto_lock.as_secs().div_ceil(60)).unwrap_or(u32::MAX),
            sync_every_minutes: self.sync_every_minutes,
            accounts: accounts.iter().map(|a| self.account_info(a, guard.as_ref())).collect(),
            account: guard.as_ref().map(|o| o.id),
            staff_user: self.staff.lock().await.as_ref().map(|s| s.username.clone()),
        })
    }

    /// Syncs right after something was queued: the sync sends the outbox first and then pulls
    /// the item back as the server stored it. True when the item left the outbox (whatever
    /// failed after); offline or a passing server failure keeps it queued for the next
    /// contact, not an error.
    async fn send_queued(&self, item: Uuid) -> Result<bool> {
        let result = self.sync(|_| {}).await;
        if let Err(e @ ClientError::WipedRevoked) = result {
            return Err(e);
        }
        let queued = self.store().await?.outbox()?.iter().any(|o| o.item.id() == item);
        match result {
            // It left before the sync failed: what counts is that the server has it.
            _ if !queued => Ok(true),
            // Kept, and sent at the next contact: no connection, or a server that cannot take
            // it now (a full disk, a restart) is not the person's error.
            Err(e) if !e.is_transient() => Err(e),
            _ => Ok(false),
        }
    }

    pub async fn lock(&self) {
        *self.open.lock().await = None;
        if let Some(session) = self.staff.lock().await.take() {
            staff::end_on_server(session);
        }
    }

    /// Sends the outbox and pulls what is new. The store is taken only for each page, so the
    /// app answers other commands meanwhile; a lock during the sync ends it with `locked`.
    /// The access log is checked whole on the first sync after unlocking and hourly after.
    pub async fn sync(&self, progress: impl FnMut(Progress) + Send) -> Result<Progress> {
        self.sync_with(false, progress).await
    }

    /// A sync the person asked for: it also checks the whole access log.
    pub async fn sync_checking_log(&self, progress: impl FnMut(Progress) + Send) -> Result<Progress> {
        self.sync_with(true, progress).await
    }

    async fn sync_with(&self, check_log: bool, progress: impl FnMut(Progress) + Send) -> Result<Progress> {
        let asked = std::time::Instant::now();
        let _one_at_a_time = self.syncing.lock().await;
        let (id, tokens, log_checked) = self.open_for_sync().await?;
        let last = log_checked.lock().ok().and_then(|c| *c);
        let full_log_check = needs_full_log_check(check_log, last, asked, std::time::Instant::now());
        let options = SyncOptions { full_log_check, ..SyncOptions::default() };
        let access = OpenStore { open: &self.open, id };
        match crate::sync_via(&access, &options, &tokens, progress).await {
            Ok(p) => {
                if full_log_check {
                    if let Ok(mut c) = log_checked.lock() {
                        *c = Some(std::time::Instant::now());
                    }
                }
                // A report of how the app was used (if the person shares it) is never worth
                // failing a sync for: it goes at the next one.
                if let Err(e) = self.share_usage(chrono::Utc::now()).await {
                    tracing::debug!(code = e.code(), "usage report not sent");
                }
                Ok(p)
            }
            Err(e) => Err(self.on_error(id, e).await),
        }
    }
}

/// Whether a sync checks the access log against every stored line: on the first sync after
/// unlocking, hourly after, and when the person asked (`check_log`), unless a whole check ended
/// while this sync waited for its turn (the push connection's first sync after unlocking, say):
/// that one answers the ask, and doing it again costs a big family seconds and shows nothing new.
fn needs_full_log_check(
    check_log: bool,
    last: Option<std::time::Instant>,
    asked: std::time::Instant,
    now: std::time::Instant,
) -> bool {
    match last {
        None => true,
        Some(at) => (check_log && at < asked) || now.duration_since(at) >= FULL_LOG_CHECK_EVERY,
    }
}

/// Runs blocking work (PBKDF2, the keychain over D-Bus) off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ClientError::InvalidResponse(e.to_string()))?
}

fn device_name() -> String {
    let os = std::env::consts::OS;
    format!("Mijn CJG ({os})")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::SecretHome;
    use cjg_core::validate::Pin;
    use cjg_crypto::SECRET_LEN;

    fn test_app(dir: &Path) -> AppCore {
        AppCore::new(dir.to_owned(), None).with_vault(Vault::new("nl.cjg.mijn.test", false))
    }

    #[tokio::test]
    async fn a_store_from_before_accounts_becomes_the_first_account() {
        let dir = tempfile::tempdir().expect("tmp");
        let secret = [9u8; SECRET_LEN];
        std::fs::write(dir.path().join("device.secret"), secret).expect("secret");
        let profile = cjg_store::Profile {
            server_url: "http://127.0.0.1:9".into(),
            device_id: Uuid::new_v4(),
            person_id: Uuid::new_v4(),
            display_name: "Sanne Voorbeeld".into(),
        };
        let pin = Pin::parse("902417").expect("pin");
        let key = cjg_crypto::DeviceKey::generate().expect("key");
        let secrets = cjg_store::PinSecrets::new(cjg_store::PinMode::Legacy, &secret, None).expect("secrets");
        let made = Store::create(
            &dir.path().join("store.db"),
            &pin,
            &secrets,
            cjg_store::PinMode::Legacy,
            &profile,
            &key,
        );
        drop(made.expect("old store"));
        // An enrolment that was cut off: a folder without a store.
        let stray = dir.path().join("accounts").join(Uuid::new_v4().to_string());
        std::fs::create_dir_all(&stray).expect("stray");

        let app = test_app(dir.path());
        let s = app.status().await.expect("status");
        assert_eq!(s.phase, Phase::Locked);
        assert_eq!(s.accounts.len(), 1);
        assert_eq!(s.accounts[0].label, "Account 1");
        assert_eq!(s.accounts[0].secret_home, SecretHome::File);
        assert!(!stray.exists(), "the unfinished folder is cleaned up");
        assert!(!dir.path().join("store.db").exists() && !dir.path().join("device.secret").exists());
        app.unlock(s.accounts[0].id, "902417").await.expect("the old PIN opens it");
        let s = app.status().await.expect("status");
        assert_eq!(s.display_name.as_deref(), Some("Sanne Voorbeeld"));
        assert_eq!(s.account, Some(s.accounts[0].id));
        assert_eq!(app.set_key_unlock(true).await.expect_err("no keychain").code(), "keychain_unavailable");
    }

    #[test]
    fn a_whole_log_check_that_ended_while_waiting_answers_the_persons_ask() {
        use std::time::{Duration, Instant};
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        assert!(needs_full_log_check(false, None, at(0), at(0)), "the first sync after unlocking");
        assert!(!needs_full_log_check(false, Some(at(0)), at(10), at(10)), "a quiet sync soon after");
        assert!(needs_full_log_check(false, Some(at(0)), at(3600), at(3600)), "hourly");
        assert!(needs_full_log_check(true, Some(at(5)), at(10), at(10)), "asked after the last check");
        assert!(!needs_full_log_check(true, Some(at(12)), at(10), at(12)), "a check ended while it waited");
    }

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
        let app = AppCore::new(dir.path().to_owned(), Some("http://127.0.0.1:8470".into()))
            .with_vault(Vault::new("nl.cjg.mijn.test", false));
        let s = app.status().await.expect("status");
        assert_eq!(s.phase, Phase::New);
        assert_eq!(app.dossier().await.expect_err("locked").code(), "locked");
        assert_eq!(app.unlock(Uuid::new_v4(), "902417").await.expect_err("no store").code(), "not_enrolled");
        assert!(s.accounts.is_empty());
        assert_eq!(s.notice, None);
        assert_eq!(s.auto_lock_minutes, DEFAULT_AUTO_LOCK_MINUTES);
    }

    #[tokio::test]
    async fn idle_time_locks_only_after_the_configured_time() {
        let dir = tempfile::tempdir().expect("tmp");
        let app = test_app(dir.path()).with_auto_lock(Duration::from_secs(120));
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
        let app = test_app(dir.path());
        let e = app
            .enrol("http://127.0.0.1:9", "ABCD-EFGH-JKMN", "902417", "902418", "")
            .await
            .expect_err("mismatch");
        assert_eq!(e.code(), "pin_mismatch");
        let e = app
            .enrol("http://127.0.0.1:9", "ABCD-EFGH-JKMN", "123456", "123456", "")
            .await
            .expect_err("simple");
        assert_eq!(e.code(), "pin_too_simple");
        let e = app
            .enrol("http://127.0.0.1:9", "ABCD-EFGH-JKMN", "902417", "902417", "")
            .await
            .expect_err("no server");
        assert_eq!(e.code(), "server_unreachable");
        let e = app
            .enrol("http://127.0.0.1:9", "ABCD-EFGH-JKMN", "902417", "902417", "Mama\u{7}")
            .await
            .expect_err("label");
        assert_eq!(e.code(), "account_label_invalid");
        assert_eq!(app.status().await.expect("status").phase, Phase::New, "nothing half-made");
        let left = std::fs::read_dir(dir.path().join("accounts")).map(|d| d.count()).unwrap_or(0);
        assert_eq!(left, 0, "no account folder stays behind");
    }
}
