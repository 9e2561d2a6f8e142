//! What the desktop app does, without the window: the Tauri commands are one-line adapters
//! over these methods, so the app's behaviour is tested here without a display.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cjg_core::api::DeviceInfo;
use cjg_core::audit::{AuditAction, Purpose};
use cjg_core::feedback::{Feedback, FeedbackDraft, FeedbackKind, FeedbackStatus};
use cjg_core::markdown::{self, Block};
use cjg_core::validate::Pin;
use cjg_core::{Entry, EntryKind, Person};
use cjg_store::{LockedStore, Store};
use serde::Serialize;
use tokio::sync::{Mutex, MutexGuard};
use ts_rs::TS;
use uuid::Uuid;

mod berichten;
mod informatie;
pub use berichten::{BerichtenView, Delivery, MessageSent, MessageView};
mod taken;
pub use informatie::{ArticleSummary, ArticleView, InformatieView, TipView};
pub use taken::{AnswersSent, QuestionnaireView, TaskItem, TaskKind, TaskState, TasksView};

use crate::accounts::{Account, Accounts};
use crate::secret::{SecretHome, Vault};
use crate::{ClientError, Progress, Result, SyncOptions};
use cjg_crypto::SECRET_LEN;

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

/// An account as the lock screen shows it: only what the person chose to show without a PIN.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AccountInfo {
    pub id: Uuid,
    pub label: String,
    pub secret_home: SecretHome,
    /// Can be opened with the unlock key from the OS keychain, without the PIN.
    pub key_unlock: bool,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct DevicesView {
    pub devices: Vec<DeviceInfo>,
    pub this_device: Uuid,
}

/// Minutes of no use after which the app locks itself, unless configured otherwise.
pub const DEFAULT_AUTO_LOCK_MINUTES: u32 = 5;
/// A coach's answer shows within this many minutes while the app is open.
pub const DEFAULT_SYNC_MINUTES: u32 = 2;

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

#[derive(Debug, Clone, Serialize, TS)]
pub struct AuditWarningView {
    pub at: chrono::DateTime<chrono::Utc>,
    pub verified_size: u32,
    pub received_size: u32,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct InzageView {
    /// Newest first.
    pub lines: Vec<AuditLine>,
    pub warning: Option<AuditWarningView>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct DossierView {
    /// Inzage lines not seen yet: someone looked since the last visit.
    pub unseen_audit: u32,
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

/// The one account that is unlocked; the others stay sealed.
struct OpenAccount {
    id: Uuid,
    store: Store,
    /// Goes with the account: locking forgets it.
    tokens: crate::TokenCache,
}

type Guard<'a> = MutexGuard<'a, Option<OpenAccount>>;

fn open_store<'a>(guard: &'a Guard<'_>) -> Result<&'a Store> {
    guard.as_ref().map(|o| &o.store).ok_or(ClientError::Locked)
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
    /// window gets no input, so it locks after the same time.
    pub async fn lock_if_idle(&self, now: Instant) -> bool {
        let idle = self.last_activity.lock().map(|t| now.saturating_duration_since(*t)).unwrap_or_default();
        if idle < self.auto_lock {
            return false;
        }
        let staff = self.staff.lock().await.take().is_some();
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

    fn wipe_open(&self, guard: &mut Guard<'_>, why: Notice) -> Result<()> {
        match guard.take() {
            Some(open) => {
                let id = open.id;
                drop(open);
                self.wipe(id, why)
            }
            None => Ok(()),
        }
    }

    /// A revoked device wipes itself at the first answer that says so.
    fn on_error(&self, guard: &mut Guard<'_>, e: ClientError) -> ClientError {
        if matches!(e, ClientError::Api { code: cjg_core::ErrorCode::DeviceRevoked, .. }) {
            return match self.wipe_open(guard, Notice::Revoked) {
                Ok(()) => ClientError::WipedRevoked,
                Err(wipe_failed) => wipe_failed,
            };
        }
        e
    }

    /// The account's device secret. The keychain may talk over D-Bus: off the async threads.
    async fn device_secret(&self, account: &Account) -> Result<([u8; SECRET_LEN], SecretHome)> {
        let (vault, dir, id) = (self.vault.clone(), account.dir.clone(), account.id);
        blocking(move || vault.device_secret(&dir, id)).await
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    fn account_info(&self, account: &Account, open: Option<&OpenAccount>) -> AccountInfo {
        let key_unlock = match open {
            Some(o) if o.id == account.id => o.store.has_unlock_key().unwrap_or(false),
            _ => LockedStore::open(&account.store_path()).and_then(|l| l.has_unlock_key()).unwrap_or(false),
        };
        AccountInfo {
            id: account.id,
            label: account.label.clone(),
            secret_home: Vault::home(&account.dir),
            key_unlock,
        }
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

    /// Step 1 of enrolment: is the address well-formed and is a Mijn CJG server there?
    pub async fn check_server(&self, server_url: &str) -> Result<()> {
        crate::Client::new(server_url)?.health().await.map(|_| ())
    }

    /// Step 2: PIN twice, then enrol and create a new account's store in one go. `label` is the
    /// name on the lock screen (empty: "Account N"). An open account is locked first.
    pub async fn enrol(
        &self,
        server_url: &str,
        code: &str,
        pin: &str,
        pin_again: &str,
        label: &str,
    ) -> Result<()> {
        let pin = Pin::parse(pin)?;
        if pin_again.as_bytes() != pin.as_bytes() {
            return Err(ClientError::PinMismatch);
        }
        let mut guard = self.open.lock().await;
        *guard = None;
        let account = self.accounts.prepare(label)?;
        let made = async {
            let (secret, _) = self.device_secret(&account).await?;
            crate::enrol(server_url, code, &pin, &secret, &account.store_path(), &device_name()).await
        }
        .await;
        match made {
            Ok(store) => {
                *guard = Some(OpenAccount { id: account.id, store, tokens: Default::default() });
                self.clear_notice();
                Ok(())
            }
            Err(e) => {
                // Nothing half-made stays: no folder, no keychain item.
                self.vault.forget(account.id);
                let _ = self.accounts.remove(account.id);
                Err(e)
            }
        }
    }

    pub async fn unlock(&self, account_id: Uuid, pin: &str) -> Result<()> {
        // A PIN of the wrong form cannot open the store either, but it is not counted: it is a
        // typing slip, not a guess.
        let pin = Pin::parse(pin)?;
        let mut guard = self.open.lock().await;
        if guard.as_ref().is_some_and(|o| o.id == account_id) {
            return Ok(());
        }
        let account = self.accounts.get(account_id).map_err(|_| cjg_store::StoreError::NotFound)?;
        let (secret, _) = self.device_secret(&account).await?;
        let path = account.store_path();
        // PBKDF2 with 600,000 iterations: keep it off the async threads.
        let opened = blocking(move || Ok(LockedStore::open(&path)?.unlock(&pin, &secret)?)).await;
        match opened {
            Ok(store) => self.opened(&mut guard, account_id, store),
            Err(ClientError::Store(cjg_store::StoreError::WipedAfterWrongPins)) => {
                *guard = None;
                self.wipe(account_id, Notice::WipedWrongPin)?;
                Err(ClientError::Store(cjg_store::StoreError::WipedAfterWrongPins))
            }
            Err(e) => Err(e),
        }
    }

    fn opened(&self, guard: &mut Guard<'_>, id: Uuid, store: Store) -> Result<()> {
        **guard = Some(OpenAccount { id, store, tokens: Default::default() });
        self.clear_notice();
        self.touch();
        Ok(())
    }

    /// Opens an account with the unlock key from the OS keychain, if the person turned that on.
    pub async fn unlock_with_keychain(&self, account_id: Uuid) -> Result<()> {
        let mut guard = self.open.lock().await;
        if guard.as_ref().is_some_and(|o| o.id == account_id) {
            return Ok(());
        }
        let account = self.accounts.get(account_id)?;
        let vault = self.vault.clone();
        let path = account.store_path();
        let store = blocking(move || {
            let locked = LockedStore::open(&path)?;
            if !locked.has_unlock_key()? {
                return Err(cjg_store::StoreError::NoUnlockKey.into());
            }
            let key = vault.unlock_key(account_id)?;
            Ok(locked.unlock_with_key(&key)?)
        })
        .await?;
        self.opened(&mut guard, account_id, store)
    }

    /// Turns unlocking without the PIN on or off for the open account. Only with a keychain:
    /// a key in a plain file next to the store would make the PIN pointless.
    pub async fn set_key_unlock(&self, enabled: bool) -> Result<()> {
        let mut guard = self.open.lock().await;
        let open = guard.as_mut().ok_or(ClientError::Locked)?;
        let id = open.id;
        let vault = self.vault.clone();
        if enabled {
            let key = blocking(move || vault.new_unlock_key(id)).await?;
            open.store.set_unlock_key(&key)?;
        } else {
            open.store.remove_unlock_key()?;
            blocking(move || {
                vault.forget_unlock_key(id);
                Ok(())
            })
            .await?;
        }
        Ok(())
    }

    /// Removes an account and its data from this device only (the server keeps the dossier and
    /// the device stays listed until it is signed off elsewhere). Possible while locked: when the
    /// PIN is forgotten or the keychain lost the key, this is the way to start again.
    pub async fn forget_account(&self, account_id: Uuid) -> Result<()> {
        let mut guard = self.open.lock().await;
        if guard.as_ref().is_some_and(|o| o.id == account_id) {
            *guard = None;
        }
        self.accounts.get(account_id)?;
        self.vault.forget(account_id);
        self.accounts.remove(account_id)
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
        let mut guard = self.open.lock().await;
        let id = guard.as_ref().ok_or(ClientError::Locked)?.id;
        let (secret, _) = self.device_secret(&self.accounts.get(id)?).await?;
        let mut open = guard.take().ok_or(ClientError::Locked)?;
        // Two PBKDF2 runs: off the async threads, and the store comes back whatever the outcome.
        let (open, result) = tokio::task::spawn_blocking(move || {
            let r = open.store.change_pin(&old, &new, &secret);
            (open, r)
        })
        .await
        .map_err(|e| ClientError::InvalidResponse(e.to_string()))?;
        *guard = Some(open);
        Ok(result?)
    }

    /// The person's enrolled devices, fresh from the server.
    pub async fn devices(&self) -> Result<DevicesView> {
        let mut guard = self.open.lock().await;
        let session = crate::Session::of(open_store(&guard)?)?;
        let result = async {
            let token = session.token().await?;
            Ok(DevicesView { devices: session.client.devices(&token).await?, this_device: session.device_id })
        }
        .await;
        result.map_err(|e| self.on_error(&mut guard, e))
    }

    /// Revokes a device of this person. Revoking this very device wipes it at once.
    pub async fn revoke_device(&self, device_id: Uuid) -> Result<()> {
        let mut guard = self.open.lock().await;
        let session = crate::Session::of(open_store(&guard)?)?;
        let result = async {
            let token = session.token().await?;
            session.client.revoke_device(&token, device_id).await?;
            Ok(session.device_id)
        }
        .await;
        match result {
            Ok(this_device) if this_device == device_id => {
                self.wipe_open(&mut guard, Notice::Revoked)?;
                Ok(())
            }
            Ok(_) => Ok(()),
            Err(e) => Err(self.on_error(&mut guard, e)),
        }
    }

    /// A youth shares their entries with the parents with gezag, or stops; the server decides
    /// whether that is possible.
    pub async fn set_consent(&self, shares_with_parents: bool) -> Result<()> {
        let mut guard = self.open.lock().await;
        let session = crate::Session::of(open_store(&guard)?)?;
        let result = async {
            let token = session.token().await?;
            session.client.set_consent(&token, shares_with_parents).await
        }
        .await;
        result.map_err(|e| self.on_error(&mut guard, e))
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
        let mut guard = self.open.lock().await;
        let store = &mut guard.as_mut().ok_or(ClientError::Locked)?.store;
        if store.entry(entry_id)?.is_none() {
            return Err(ClientError::Api { code: cjg_core::ErrorCode::NotFound, status: 404 });
        }
        store.enqueue_feedback(&draft)?;
        let sent = self.send_queued(&mut guard, draft.id).await?;
        Ok(FeedbackSent { sent })
    }

    /// Syncs right after something was queued: the sync sends the outbox first and then pulls
    /// the item back as the server stored it. True when the item left the outbox; offline (or
    /// any failure once the item is out) keeps it queued for the next contact, not an error.
    async fn send_queued(&self, guard: &mut Guard<'_>, id: Uuid) -> Result<bool> {
        let open = guard.as_mut().ok_or(ClientError::Locked)?;
        let result =
            crate::sync_with(&mut open.store, &SyncOptions::default(), &mut open.tokens, |_| {}).await;
        let store = &open.store;
        let queued =
            |store: &Store| -> Result<bool> { Ok(store.outbox()?.iter().any(|o| o.item.id() == id)) };
        match result {
            Ok(_) => Ok(!queued(store)?),
            Err(ClientError::Unreachable(_)) => Ok(false),
            Err(e @ ClientError::Api { code: cjg_core::ErrorCode::DeviceRevoked, .. }) => {
                Err(self.on_error(guard, e))
            }
            Err(e) => {
                if queued(store)? {
                    Err(e)
                } else {
                    Ok(true)
                }
            }
        }
    }

    pub async fn discard_feedback(&self, id: Uuid) -> Result<()> {
        let mut guard = self.open.lock().await;
        let store = &mut guard.as_mut().ok_or(ClientError::Locked)?.store;
        Ok(store.outbox_sent(id)?)
    }

    pub async fn lock(&self) {
        *self.open.lock().await = None;
        *self.staff.lock().await = None;
    }

    /// A coach signs in (online only; the token stays in memory).
    pub async fn staff_login(&self, server_url: &str, username: &str, password: &str) -> Result<String> {
        let session = crate::staff::StaffSession::login(server_url, username, password).await?;
        let name = session.username.clone();
        *self.staff.lock().await = Some(session);
        self.touch();
        Ok(name)
    }

    pub async fn staff_logout(&self) {
        *self.staff.lock().await = None;
    }

    /// The signed-in coach's session, or `StaffSignedOut`.
    async fn staff_session(&self) -> Result<tokio::sync::MappedMutexGuard<'_, crate::staff::StaffSession>> {
        tokio::sync::MutexGuard::try_map(self.staff.lock().await, Option::as_mut)
            .map_err(|_| ClientError::StaffSignedOut)
    }

    pub async fn staff_caseload(&self) -> Result<Vec<cjg_core::api::CaseloadDossier>> {
        self.staff_session().await?.caseload().await
    }

    pub async fn staff_send_message(
        &self,
        person_id: Uuid,
        text: &str,
    ) -> Result<cjg_core::message::Message> {
        self.staff_session().await?.send_message(person_id, text).await
    }

    /// Opens a dossier for the stated purpose: the server logs it, the app keeps nothing.
    pub async fn staff_open(
        &self,
        dossier_id: Uuid,
        purpose: Purpose,
        note: &str,
    ) -> Result<crate::staff::StaffDossierView> {
        self.staff_session().await?.open(dossier_id, purpose, note).await
    }

    pub async fn staff_create_tip(
        &self,
        dossier_id: Uuid,
        person_id: Uuid,
        article_id: Uuid,
        note: &str,
        show_at: cjg_core::article::ShowAt,
    ) -> Result<Vec<cjg_core::article::StaffTip>> {
        self.staff_session().await?.create_tip(dossier_id, person_id, article_id, note, show_at).await
    }

    pub async fn staff_articles(&self) -> Result<Vec<cjg_core::article::StaffArticle>> {
        self.staff_session().await?.articles().await
    }

    pub async fn staff_save_article(
        &self,
        id: Option<Uuid>,
        draft: cjg_core::article::ArticleDraft,
    ) -> Result<Vec<cjg_core::article::StaffArticle>> {
        self.staff_session().await?.save_article(id, draft).await
    }

    pub async fn staff_approve_article(
        &self,
        id: Uuid,
        revision: u32,
    ) -> Result<Vec<cjg_core::article::StaffArticle>> {
        self.staff_session().await?.approve_article(id, revision).await
    }

    pub async fn staff_withdraw_article(&self, id: Uuid) -> Result<Vec<cjg_core::article::StaffArticle>> {
        self.staff_session().await?.withdraw_article(id).await
    }

    pub async fn sync(&self, progress: impl FnMut(Progress)) -> Result<Progress> {
        let mut guard = self.open.lock().await;
        let open = guard.as_mut().ok_or(ClientError::Locked)?;
        let result =
            crate::sync_with(&mut open.store, &SyncOptions::default(), &mut open.tokens, progress).await;
        result.map_err(|e| self.on_error(&mut guard, e))
    }

    pub async fn dossier(&self) -> Result<DossierView> {
        let guard = self.open.lock().await;
        let store = open_store(&guard)?;
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
        let audit = store.audit_state()?;
        Ok(DossierView {
            unseen_audit: audit.size.saturating_sub(audit.seen),
            display_name: profile.display_name,
            me,
            people,
            entries,
        })
    }

    /// The verified access log, newest first, with the titles of entries this person can open.
    pub async fn inzage(&self) -> Result<InzageView> {
        let guard = self.open.lock().await;
        let store = open_store(&guard)?;
        let state = store.audit_state()?;
        let titles: std::collections::HashMap<Uuid, String> =
            store.entries()?.into_iter().map(|e| (e.id, e.title)).collect();
        let mut lines: Vec<AuditLine> = store
            .audit_events()?
            .into_iter()
            .map(|e| {
                let title =
                    e.object_id.filter(|_| e.object_type == "entry").and_then(|id| titles.get(&id).cloned());
                AuditLine {
                    position: e.position,
                    at: e.at,
                    actor_name: e.actor_name,
                    actor_role: e.actor_role,
                    action: e.action,
                    object_type: e.object_type,
                    entry_id: title.as_ref().and(e.object_id),
                    entry_title: title,
                    purpose: e.purpose,
                    purpose_note: e.purpose_note,
                    new: e.position > state.seen,
                }
            })
            .collect();
        lines.reverse();
        let warning = state.warning.map(|w| AuditWarningView {
            at: w.at,
            verified_size: state.size,
            received_size: w.received_size,
        });
        Ok(InzageView { lines, warning })
    }

    /// Saves a file the person asked for (their right of access: the Inzage log as CSV) in the
    /// export folder, and says where. With [`AppCore::save_pdf`] the one place the app writes
    /// readable dossier data, and only on request.
    pub async fn save_export(&self, file_name: &str, contents: &str) -> Result<PathBuf> {
        self.write_export(file_name, "csv", contents.as_bytes()).await
    }

    /// The same as a PDF, laid out from the already-worded items.
    pub async fn save_pdf(&self, file_name: &str, doc: &crate::export::PdfDoc) -> Result<PathBuf> {
        let bytes = crate::export::pdf(doc)?;
        self.write_export(file_name, "pdf", &bytes).await
    }

    async fn write_export(&self, file_name: &str, ext: &str, bytes: &[u8]) -> Result<PathBuf> {
        let guard = self.open.lock().await;
        open_store(&guard)?;
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
        let mut guard = self.open.lock().await;
        let store = &mut guard.as_mut().ok_or(ClientError::Locked)?.store;
        Ok(store.mark_audit_seen()?)
    }

    pub async fn entry(&self, id: Uuid) -> Result<Option<EntryDetail>> {
        let guard = self.open.lock().await;
        let store = open_store(&guard)?;
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
}

/// Runs blocking work (PBKDF2, the keychain over D-Bus) off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ClientError::InvalidResponse(e.to_string()))?
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
        SecretHome::decl(&cfg),
        AccountInfo::decl(&cfg),
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
        FeedbackKind::decl(&cfg),
        FeedbackStatus::decl(&cfg),
        Feedback::decl(&cfg),
        PendingFeedback::decl(&cfg),
        FeedbackSent::decl(&cfg),
        EntryDetail::decl(&cfg),
        AuditAction::decl(&cfg),
        Purpose::decl(&cfg),
        AuditLine::decl(&cfg),
        AuditWarningView::decl(&cfg),
        InzageView::decl(&cfg),
        crate::export::PdfItem::decl(&cfg),
        crate::export::PdfDoc::decl(&cfg),
        cjg_core::api::CaseloadDossier::decl(&cfg),
        cjg_core::audit::AuditEvent::decl(&cfg),
        crate::staff::StaffDossierView::decl(&cfg),
        crate::Progress::decl(&cfg),
        crate::UiError::decl(&cfg),
    ];
    use cjg_core::questionnaire as q;
    let taken = [
        q::Phase::decl(&cfg),
        q::Audience::decl(&cfg),
        q::ChoiceOption::decl(&cfg),
        q::ItemKind::decl(&cfg),
        q::Agree::decl(&cfg),
        q::Answer::decl(&cfg),
        q::ShowIf::decl(&cfg),
        q::Item::decl(&cfg),
        q::Definition::decl(&cfg),
        q::TaskStatus::decl(&cfg),
        q::QuestionnaireTask::decl(&cfg),
        q::StaffQuestionnaire::decl(&cfg),
        TaskState::decl(&cfg),
        TaskKind::decl(&cfg),
        TaskItem::decl(&cfg),
        TasksView::decl(&cfg),
        QuestionnaireView::decl(&cfg),
        AnswersSent::decl(&cfg),
        cjg_core::article::Topic::decl(&cfg),
        cjg_core::article::Language::decl(&cfg),
        cjg_core::article::Article::decl(&cfg),
        cjg_core::article::ShowAt::decl(&cfg),
        cjg_core::article::ReadingTip::decl(&cfg),
        cjg_core::article::StaffTip::decl(&cfg),
        cjg_core::article::RevisionStatus::decl(&cfg),
        cjg_core::article::ArticleDraft::decl(&cfg),
        cjg_core::article::StaffArticle::decl(&cfg),
        ArticleSummary::decl(&cfg),
        TipView::decl(&cfg),
        InformatieView::decl(&cfg),
        ArticleView::decl(&cfg),
        Delivery::decl(&cfg),
        cjg_core::message::Message::decl(&cfg),
        MessageView::decl(&cfg),
        BerichtenView::decl(&cfg),
        MessageSent::decl(&cfg),
    ];
    let decls: Vec<String> = decls.into_iter().chain(taken).collect();
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
        drop(Store::create(&dir.path().join("store.db"), &pin, &secret, &profile, &key).expect("old store"));
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
