//! The app's encrypted local store.
//!
//! A [`LockedStore`] is what is on disk: a header in clear (salt, wrapped data key, cursor) and
//! sealed rows. [`LockedStore::unlock`] with the right PIN and device secret gives a [`Store`].
//! Rows go in only as [`Sealed`] values; the ids, kinds, versions and the cursor are all that
//! stay readable. The store knows nothing about HTTP: the sync engine hands it pages.

mod error;
mod schema;

use std::path::{Path, PathBuf};

use cjg_core::api::{Change, SyncPage};
use cjg_core::article::{Article, ReadingTip};
use cjg_core::audit::{AuditBatch, AuditEvent};
use cjg_core::feedback::{Feedback, FeedbackDraft, FeedbackRequest};
use cjg_core::message::{Message, MessageDraft};
use cjg_core::questionnaire::{Answers, QuestionnaireTask, Submission};
use cjg_core::validate::Pin;
use cjg_core::{Entry, Person};
use cjg_crypto::chain;
use cjg_crypto::{DataKey, DeviceKey, Kek, RowAad, Sealed, SALT_LEN, SECRET_LEN, UNLOCK_TARGET};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use uuid::Uuid;

pub use cjg_crypto::pin::{PinMode, PinSecrets};
pub use error::{Result, StoreError};

const T_ENTRIES: &str = "entries";
const T_PEOPLE: &str = "people";
const T_SECRETS: &str = "secrets";
const T_AUDIT: &str = "audit";
const T_FEEDBACK: &str = "feedback";
const T_OUTBOX: &str = "outbox";
const T_QUESTIONNAIRES: &str = "questionnaires";
const T_DRAFTS: &str = "drafts";
const T_REQUESTS: &str = "requests";
const T_ARTICLES: &str = "articles";
const T_TIPS: &str = "tips";
const T_MESSAGES: &str = "messages";

/// Outbox rows of version 1 hold a bare [`FeedbackDraft`] (the format before questionnaires);
/// version 2 rows hold an [`OutboxItem`].
const OUTBOX_TAGGED: i64 = 2;

/// What the app has to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "item", rename_all = "snake_case")]
pub enum OutboxItem {
    Feedback(FeedbackDraft),
    Questionnaire(Submission),
    /// The person opened a reading tip's article (the tip's id; the server's mark is idempotent).
    TipRead(Uuid),
    Message(MessageDraft),
    /// The person saw these coach messages (the receipt's own id first).
    MessagesRead(Uuid, Vec<Uuid>),
}

impl OutboxItem {
    /// The app-made id the server uses as idempotency key.
    pub fn id(&self) -> Uuid {
        match self {
            Self::Feedback(d) => d.id,
            Self::Questionnaire(s) => s.id,
            Self::TipRead(id) => *id,
            Self::Message(m) => m.id,
            Self::MessagesRead(id, _) => *id,
        }
    }
}

/// An item waiting in the outbox, and the code of the server's final refusal if it came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub item: OutboxItem,
    pub failed: Option<String>,
}

/// The person's unfinished answers to one questionnaire, kept sealed until sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub task_id: Uuid,
    /// The questionnaire version the answers were given to.
    pub version: u32,
    pub answers: Answers,
    pub saved_at: chrono::DateTime<chrono::Utc>,
}

/// What this device verified of its person's own access log, kept sealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditState {
    /// Which chain `size` and `head` are about: [`AUDIT_CHAIN_PER_PERSON`] since each person
    /// has a log of their own; a state of the older whole-dossier chain (0) starts over.
    #[serde(default)]
    pub chain: u32,
    /// The dossier the log belongs to, fixed by the first verified checkpoint.
    pub dossier_id: Option<Uuid>,
    pub size: u32,
    /// Chain head after `size` lines, lowercase hex.
    pub head: String,
    /// Lines the person has seen in Inzage (for the "someone new looked" notice).
    pub seen: u32,
    /// Every time the server sent a log that does not extend this one, oldest first. A
    /// warning stays until the person dismisses it (a later honest log does not clear it, so
    /// a rewrite that was undone still shows); dismissed ones stay as history.
    #[serde(default)]
    pub warnings: Vec<AuditWarning>,
    /// The time of the newest checkpoint verified: an older one is an old log played back.
    #[serde(default)]
    pub checkpoint_time: Option<chrono::DateTime<chrono::Utc>>,
}

/// The chain of [`AuditState`]: one per person.
pub const AUDIT_CHAIN_PER_PERSON: u32 = 2;

impl Default for AuditState {
    fn default() -> Self {
        Self {
            chain: AUDIT_CHAIN_PER_PERSON,
            dossier_id: None,
            size: 0,
            head: chain::hex(&chain::GENESIS),
            seen: 0,
            warnings: Vec::new(),
            checkpoint_time: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditWarning {
    /// When the app first found this log.
    pub at: chrono::DateTime<chrono::Utc>,
    pub problem: cjg_core::audit::AuditProblem,
    /// What the app had verified then.
    pub verified_size: u32,
    pub received_size: u32,
    pub received_head: String,
    /// The same broken log again at later syncs is one warning, counted.
    pub times: u32,
    pub dismissed_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Enough history to show what happened, without growing without end.
const AUDIT_WARNINGS_KEPT: usize = 100;

/// Who this device belongs to, kept sealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub server_url: String,
    pub device_id: Uuid,
    pub person_id: Uuid,
    pub display_name: String,
}

/// A store on disk that has not been opened with the PIN yet.
pub struct LockedStore {
    conn: Connection,
    path: PathBuf,
}

/// An unlocked store: holds the data key in memory until dropped.
pub struct Store {
    conn: Connection,
    key: DataKey,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish_non_exhaustive()
    }
}

/// Wrong PINs in a row after which the store wipes itself. The server keeps everything, so a
/// wipe costs a re-enrolment, never data.
pub const MAX_PIN_ATTEMPTS: u32 = 5;

pub fn exists(path: &Path) -> bool {
    path.is_file()
}

/// Removes the store and its SQLite side files. Missing files are fine: wiping is idempotent.
pub fn wipe(path: &Path) -> Result<()> {
    for p in
        [path.to_owned(), side_file(path, "-wal"), side_file(path, "-shm"), path.with_extension("creating")]
    {
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

fn side_file(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

impl LockedStore {
    pub fn open(path: &Path) -> Result<Self> {
        if !exists(path) {
            return Err(StoreError::NotFound);
        }
        let conn = schema::open(path)?;
        Ok(Self { conn, path: path.to_owned() })
    }

    /// How this store's PIN key is formed; readable before the PIN, so the app knows whether
    /// it needs the server. Editing it only makes the store not open.
    pub fn pin_mode(&self) -> Result<PinMode> {
        pin_mode(&self.conn)
    }

    /// Where to ask for the PIN's server part, for a store in [`PinMode::Server`]: the server's
    /// address and this device's id (neither opens anything by itself).
    pub fn pin_server(&self) -> Result<(String, Uuid)> {
        let url = meta_get(&self.conn, "pin_server_url")?.ok_or(StoreError::Corrupt("pin server"))?;
        let device = meta_get(&self.conn, "pin_device_id")?.ok_or(StoreError::Corrupt("pin server"))?;
        let url = String::from_utf8(url).map_err(|_| StoreError::Corrupt("pin server"))?;
        let device = std::str::from_utf8(&device)
            .ok()
            .and_then(|d| d.parse().ok())
            .ok_or(StoreError::Corrupt("pin server"))?;
        Ok((url, device))
    }

    /// Opens the store with the PIN. A wrong PIN is counted on disk, sealed with the device
    /// secret; the fifth in a row wipes the store. The count is reset by the right PIN.
    pub fn unlock(self, pin: &Pin, secrets: &PinSecrets) -> Result<Store> {
        let failed = failed_unlocks(&self.conn, secrets)?;
        match unwrap_data_key(&self.conn, pin, secrets)? {
            Some(key) => {
                put_failed_unlocks(&self.conn, secrets, 0)?;
                Ok(Store { conn: self.conn, key, path: self.path })
            }
            None => {
                let failed = failed + 1;
                if failed >= MAX_PIN_ATTEMPTS {
                    drop(self.conn);
                    wipe(&self.path)?;
                    return Err(StoreError::WipedAfterWrongPins);
                }
                put_failed_unlocks(&self.conn, secrets, failed)?;
                Err(StoreError::WrongPin { attempts_left: MAX_PIN_ATTEMPTS - failed })
            }
        }
    }

    /// Whether this store can be opened with an unlock key from the OS keychain.
    pub fn has_unlock_key(&self) -> Result<bool> {
        Ok(meta_get(&self.conn, "unlock_key_wrapped")?.is_some())
    }

    /// Opens the store with the unlock key from the OS keychain. A wrong key is not counted as a
    /// wrong PIN: nobody typed it, and the PIN stays the way in. `counter` seals the reset.
    pub fn unlock_with_key(self, unlock_key: &[u8; SECRET_LEN], counter: &PinSecrets) -> Result<Store> {
        let wrapped = meta_get(&self.conn, "unlock_key_wrapped")?.ok_or(StoreError::NoUnlockKey)?;
        let key = DataKey::unwrap(&Kek::from_unlock_key(unlock_key), &wrapped)
            .map_err(|_| StoreError::NoUnlockKey)?;
        // The owner got in, so the wrong PINs before were not "in a row" with the next ones.
        put_failed_unlocks(&self.conn, counter, 0)?;
        Ok(Store { conn: self.conn, key, path: self.path })
    }

    /// Wrong PINs in a row so far; an edited count is refused as tampering.
    pub fn failed_unlocks(&self, secrets: &PinSecrets) -> Result<u32> {
        failed_unlocks(&self.conn, secrets)
    }
}

fn pin_mode(conn: &Connection) -> Result<PinMode> {
    match meta_get(conn, "pin_mode")? {
        None => Ok(PinMode::Legacy),
        Some(m) => {
            std::str::from_utf8(&m).ok().and_then(PinMode::parse).ok_or(StoreError::Corrupt("pin mode"))
        }
    }
}

/// The wrong-PIN count. From [`PinMode::Legacy`] on it carries a seal only the device secret
/// can make, so resetting it by editing the file is noticed.
fn failed_unlocks(conn: &Connection, secrets: &PinSecrets) -> Result<u32> {
    let Some(raw) = meta_get(conn, "failed_unlocks")? else {
        return match pin_mode(conn)? {
            PinMode::Legacy => Ok(0),
            _ => Err(counter_tampered()),
        };
    };
    let text = std::str::from_utf8(&raw).map_err(|_| counter_tampered())?;
    match pin_mode(conn)? {
        PinMode::Legacy => {
            Ok(text.parse::<u32>().map_or(MAX_PIN_ATTEMPTS - 1, |n| n.min(MAX_PIN_ATTEMPTS - 1)))
        }
        _ => secrets.open_counter(text).ok_or_else(counter_tampered),
    }
}

fn put_failed_unlocks(conn: &Connection, secrets: &PinSecrets, failed: u32) -> Result<()> {
    match pin_mode(conn)? {
        PinMode::Legacy => meta_put(conn, "failed_unlocks", failed.to_string().as_bytes()),
        _ => meta_put(conn, "failed_unlocks", secrets.seal_counter(failed).as_bytes()),
    }
}

fn counter_tampered() -> StoreError {
    StoreError::Tampered { table: "meta", id: "failed_unlocks".into() }
}

/// The data key if the PIN (with the device's part) opens it, `None` if it does not.
fn unwrap_data_key(conn: &Connection, pin: &Pin, secrets: &PinSecrets) -> Result<Option<DataKey>> {
    let salt = meta_get(conn, "salt")?.ok_or(StoreError::Corrupt("salt"))?;
    let iterations = meta_i64(conn, "pbkdf2_iterations")?.ok_or(StoreError::Corrupt("iterations"))?;
    let iterations = u32::try_from(iterations).map_err(|_| StoreError::Corrupt("iterations"))?;
    let wrapped = meta_get(conn, "wrapped_key")?.ok_or(StoreError::Corrupt("wrapped key"))?;
    let kek = Kek::derive(pin.as_bytes(), &salt, iterations, secrets.kek_secret());
    Ok(DataKey::unwrap(&kek, &wrapped).ok())
}

/// Wraps `key` under a PIN anew (fresh salt, iterations measured now) in `mode`, with the wrong
/// PIN count at zero.
fn put_pin(
    conn: &Connection,
    key: &DataKey,
    pin: &Pin,
    secrets: &PinSecrets,
    mode: PinMode,
    pin_server: Option<(&str, Uuid)>,
) -> Result<()> {
    let salt: [u8; SALT_LEN] = cjg_crypto::random_array()?;
    let iterations = cjg_crypto::calibrated_iterations(UNLOCK_TARGET);
    let kek = Kek::derive(pin.as_bytes(), &salt, iterations, secrets.kek_secret());
    meta_put(conn, "salt", &salt)?;
    meta_put(conn, "pbkdf2_iterations", &i64::from(iterations).to_string().into_bytes())?;
    meta_put(conn, "wrapped_key", &key.wrap(&kek)?)?;
    meta_put(conn, "pin_mode", mode.as_str().as_bytes())?;
    if let Some((url, device)) = pin_server {
        meta_put(conn, "pin_server_url", url.as_bytes())?;
        meta_put(conn, "pin_device_id", device.to_string().as_bytes())?;
    }
    put_failed_unlocks(conn, secrets, 0)
}

impl Store {
    /// Makes a new store for a freshly enrolled device. It is built in a temporary file and
    /// renamed into place only when complete, so a crash leaves either nothing or a whole store.
    pub fn create(
        path: &Path,
        pin: &Pin,
        secrets: &PinSecrets,
        mode: PinMode,
        profile: &Profile,
        device_key: &DeviceKey,
    ) -> Result<Self> {
        if exists(path) {
            return Err(StoreError::AlreadyExists);
        }
        let tmp = path.with_extension("creating");
        let _ = std::fs::remove_file(&tmp);
        let result = Self::build(&tmp, pin, secrets, mode, profile, device_key);
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        std::fs::rename(&tmp, path)?;
        LockedStore::open(path)?.unlock(pin, secrets)
    }

    fn build(
        tmp: &Path,
        pin: &Pin,
        secrets: &PinSecrets,
        mode: PinMode,
        profile: &Profile,
        device_key: &DeviceKey,
    ) -> Result<()> {
        let mut conn = schema::open_for_create(tmp)?;
        let key = DataKey::generate()?;
        let tx = conn.transaction()?;
        let server = (mode == PinMode::Server).then_some((profile.server_url.as_str(), profile.device_id));
        put_pin(&tx, &key, pin, secrets, mode, server)?;
        meta_put(&tx, "cursor", b"0")?;
        put_secret(&tx, &key, "profile", &serde_json::to_vec(profile)?)?;
        put_secret(&tx, &key, "device_key", device_key.pkcs8())?;
        tx.commit()?;
        conn.close().map_err(|(_, e)| StoreError::Sqlite(e))?;
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Re-wraps the data key under a new PIN with a fresh salt. The rows stay as they are:
    /// they are sealed with the data key, which does not change. A wrong old PIN counts like a
    /// wrong PIN at unlock; at the fifth the caller wipes the account.
    pub fn change_pin(
        &mut self,
        old: &Pin,
        new: &Pin,
        old_secrets: &PinSecrets,
        new_secrets: &PinSecrets,
    ) -> Result<()> {
        self.check_pin(old, old_secrets)?;
        self.set_pin(new, new_secrets, self.pin_mode()?)
    }

    /// Whether `pin` is this store's PIN, counted like a try at unlock: a wrong one adds to the
    /// wrong PINs in a row, the right one ends the row. At the fifth wrong one the caller wipes.
    /// Gives the wrong PINs in a row before the right one.
    pub fn check_pin(&mut self, pin: &Pin, secrets: &PinSecrets) -> Result<u32> {
        let failed = failed_unlocks(&self.conn, secrets)?;
        if unwrap_data_key(&self.conn, pin, secrets)?.is_some() {
            put_failed_unlocks(&self.conn, secrets, 0)?;
            return Ok(failed);
        }
        let failed = failed + 1;
        put_failed_unlocks(&self.conn, secrets, failed)?;
        if failed >= MAX_PIN_ATTEMPTS {
            return Err(StoreError::WipedAfterWrongPins);
        }
        Err(StoreError::WrongPin { attempts_left: MAX_PIN_ATTEMPTS - failed })
    }

    pub fn pin_mode(&self) -> Result<PinMode> {
        pin_mode(&self.conn)
    }

    /// Wraps the data key under `pin` in `mode`: after a PIN change, and to move a store of an
    /// older version to the mode that suits where its device secret lives.
    pub fn set_pin(&mut self, pin: &Pin, secrets: &PinSecrets, mode: PinMode) -> Result<()> {
        let profile = self.profile()?;
        let server = (mode == PinMode::Server).then_some((profile.server_url.as_str(), profile.device_id));
        let tx = self.conn.transaction()?;
        put_pin(&tx, &self.key, pin, secrets, mode, server)?;
        tx.commit()?;
        // The old wrapped key must not linger in the WAL: copy it into the file (where
        // secure_delete has overwritten it) and empty the WAL.
        self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Lets the store be opened without the PIN by this unlock key (from the OS keychain).
    /// The PIN keeps working; a PIN change leaves this slot valid, as the data key is the same.
    pub fn set_unlock_key(&mut self, unlock_key: &[u8; SECRET_LEN]) -> Result<()> {
        let wrapped = self.key.wrap(&Kek::from_unlock_key(unlock_key))?;
        meta_put(&self.conn, "unlock_key_wrapped", &wrapped)
    }

    pub fn remove_unlock_key(&mut self) -> Result<()> {
        self.conn.execute("DELETE FROM meta WHERE key = 'unlock_key_wrapped'", [])?;
        Ok(())
    }

    pub fn has_unlock_key(&self) -> Result<bool> {
        Ok(meta_get(&self.conn, "unlock_key_wrapped")?.is_some())
    }

    pub fn cursor(&self) -> Result<i64> {
        Ok(meta_i64(&self.conn, "cursor")?.unwrap_or(0))
    }

    pub fn profile(&self) -> Result<Profile> {
        let bytes = get_secret(&self.conn, &self.key, "profile")?;
        Ok(serde_json::from_slice(&bytes)?)
    }

    pub fn device_key(&self) -> Result<DeviceKey> {
        let bytes = get_secret(&self.conn, &self.key, "device_key")?;
        Ok(DeviceKey::from_pkcs8(&bytes)?)
    }

    /// Applies one sync page in one transaction; the cursor moves only if every item landed.
    pub fn apply_page(&mut self, page: &SyncPage, requested_cursor: i64) -> Result<()> {
        self.apply_page_inner(page, requested_cursor, None)
    }

    /// Like [`Store::apply_page`], but fails after `fail_after` items, inside the transaction.
    #[cfg(feature = "fault-injection")]
    pub fn apply_page_failing_after(
        &mut self,
        page: &SyncPage,
        requested_cursor: i64,
        fail_after: usize,
    ) -> Result<()> {
        self.apply_page_inner(page, requested_cursor, Some(fail_after))
    }

    fn apply_page_inner(
        &mut self,
        page: &SyncPage,
        requested_cursor: i64,
        fail_after: Option<usize>,
    ) -> Result<()> {
        page.check(requested_cursor)?;
        if self.cursor()? != requested_cursor {
            return Err(StoreError::CursorMismatch);
        }
        // The access log first: a batch that does not extend the verified log stops the whole
        // page, before anything of it is written.
        let (audit, next_key) = match &page.audit {
            Some(batch) => {
                let (state, next_key) = self.verify_audit(batch)?;
                (Some(state), next_key)
            }
            None => (None, None),
        };
        let started_over = audit.is_some() && self.audit_state()?.size == 0;
        let tx = self.conn.transaction()?;
        if let (Some(batch), Some(state)) = (&page.audit, &audit) {
            if started_over {
                // Nothing verified yet: any lines kept are of an older chain, not of this one.
                tx.execute("DELETE FROM audit", [])?;
            }
            for e in &batch.events {
                let sealed = seal_json(&self.key, T_AUDIT, &e.position.to_string(), 1, e)?;
                tx.execute(
                    "INSERT INTO audit (id, version, sealed) VALUES (?1, 1, ?2)
                     ON CONFLICT(id) DO UPDATE SET sealed = excluded.sealed",
                    params![e.position.to_string(), sealed.as_bytes()],
                )?;
            }
            Self::put_audit_state(&tx, &self.key, state)?;
            if let Some(key) = &next_key {
                put_secret(&tx, &self.key, "audit_key", key)?;
            }
        }
        for (n, item) in page.items.iter().enumerate() {
            if fail_after == Some(n) {
                return Err(StoreError::Injected);
            }
            match &item.change {
                Change::Entry { entry } => upsert_entry(&tx, &self.key, entry)?,
                Change::EntryDeleted { id, version } => {
                    tx.execute(
                        "DELETE FROM entries WHERE id = ?1 AND version < ?2",
                        params![id.to_string(), version],
                    )?;
                }
                Change::Person { person } => {
                    upsert_sealed(&tx, &self.key, T_PEOPLE, &person.id.to_string(), person.version, person)?
                }
                Change::Feedback { feedback } => {
                    let id = feedback.id.to_string();
                    upsert_sealed(&tx, &self.key, T_FEEDBACK, &id, feedback.version, feedback)?;
                    // The server has it, so the outbox is done with it even if the answer to
                    // the send itself was lost.
                    tx.execute("DELETE FROM outbox WHERE id = ?1", [&id])?;
                }
                Change::FeedbackRequest { request } => {
                    upsert_sealed(
                        &tx,
                        &self.key,
                        T_REQUESTS,
                        &request.id.to_string(),
                        request.version,
                        request,
                    )?;
                }
                Change::Article { article } => {
                    upsert_sealed(
                        &tx,
                        &self.key,
                        T_ARTICLES,
                        &article.id.to_string(),
                        article.version,
                        article,
                    )?;
                }
                Change::ArticleGone { id, version } => {
                    tx.execute(
                        "DELETE FROM articles WHERE id = ?1 AND version < ?2",
                        params![id.to_string(), version],
                    )?;
                }
                Change::Message { message } => {
                    let id = message.id.to_string();
                    upsert_sealed(&tx, &self.key, T_MESSAGES, &id, message.version, message)?;
                    // The server has it: the outbox is done with it, acknowledged or not.
                    tx.execute("DELETE FROM outbox WHERE id = ?1", [&id])?;
                }
                Change::ReadingTip { tip } => {
                    upsert_sealed(&tx, &self.key, T_TIPS, &tip.id.to_string(), tip.version, tip)?;
                }
                Change::Questionnaire { task } => {
                    let id = task.id.to_string();
                    upsert_sealed(&tx, &self.key, T_QUESTIONNAIRES, &id, task.version, task)?;
                    // Answers the server holds make the local draft moot. A queued answer the
                    // server refused stays, marked, so nothing typed is lost unseen.
                    if task.answers.is_some() {
                        tx.execute("DELETE FROM drafts WHERE id = ?1", [&id])?;
                    }
                }
            }
        }
        meta_put(&tx, "cursor", page.next_cursor.to_string().as_bytes())?;
        tx.commit()?;
        Ok(())
    }

    /// The server's checkpoint key, pinned at enrolment.
    pub fn audit_key(&self) -> Result<Option<Vec<u8>>> {
        get_secret_opt(&self.conn, &self.key, "audit_key")
    }

    pub fn pin_audit_key(&mut self, public_key: &[u8]) -> Result<()> {
        put_secret(&self.conn, &self.key, "audit_key", public_key)
    }

    pub fn audit_state(&self) -> Result<AuditState> {
        Ok(match get_secret_opt(&self.conn, &self.key, "audit_state")? {
            Some(bytes) => Some(serde_json::from_slice::<AuditState>(&bytes)?),
            None => None,
        }
        // A copy of the whole dossier's log (before each person had their own) is not
        // continued: the person's own log is fetched from its start and replaces it.
        .filter(|state| state.chain == AUDIT_CHAIN_PER_PERSON)
        .unwrap_or_default())
    }

    fn put_audit_state(conn: &Connection, key: &DataKey, state: &AuditState) -> Result<()> {
        put_secret(conn, key, "audit_state", &serde_json::to_vec(state)?)
    }

    /// Remembers that the server sent a log that does not extend the verified one. Only the
    /// flag is written: the lines that came with it are not.
    pub fn flag_audit_warning(&mut self, warning: AuditWarning) -> Result<()> {
        let mut state = self.audit_state()?;
        match state.warnings.last_mut() {
            Some(last)
                if last.dismissed_at.is_none()
                    && (last.problem, last.received_size, &last.received_head)
                        == (warning.problem, warning.received_size, &warning.received_head) =>
            {
                last.times = last.times.saturating_add(1);
            }
            _ => state.warnings.push(warning),
        }
        let excess = state.warnings.len().saturating_sub(AUDIT_WARNINGS_KEPT);
        state.warnings.drain(..excess);
        Self::put_audit_state(&self.conn, &self.key, &state)
    }

    /// The person read the warnings: they stay as history, no longer as a warning.
    pub fn dismiss_audit_warnings(&mut self, now: chrono::DateTime<chrono::Utc>) -> Result<()> {
        let mut state = self.audit_state()?;
        for w in state.warnings.iter_mut().filter(|w| w.dismissed_at.is_none()) {
            w.dismissed_at = Some(now);
        }
        Self::put_audit_state(&self.conn, &self.key, &state)
    }

    /// The person opened Inzage: every line so far counts as seen.
    pub fn mark_audit_seen(&mut self) -> Result<()> {
        let state = self.audit_state()?;
        Self::put_audit_state(&self.conn, &self.key, &AuditState { seen: state.size, ..state })
    }

    /// Puts an item in the outbox; it is sent at the next contact with the server. The same
    /// id twice is one item.
    pub fn enqueue(&mut self, item: &OutboxItem) -> Result<()> {
        Self::enqueue_in(&self.conn, &self.key, item)
    }

    fn enqueue_in(conn: &Connection, key: &DataKey, item: &OutboxItem) -> Result<()> {
        let id = item.id().to_string();
        let sealed = seal_json(key, T_OUTBOX, &id, OUTBOX_TAGGED, item)?;
        conn.execute(
            "INSERT INTO outbox (id, version, sealed) VALUES (?1, ?2, ?3) ON CONFLICT(id) DO NOTHING",
            params![id, OUTBOX_TAGGED, sealed.as_bytes()],
        )?;
        Ok(())
    }

    pub fn enqueue_feedback(&mut self, draft: &FeedbackDraft) -> Result<()> {
        self.enqueue(&OutboxItem::Feedback(draft.clone()))
    }

    /// Queues the answers and turns the draft into the queued copy in one transaction, so a
    /// crash leaves either the draft or the queued answers, never neither.
    pub fn enqueue_submission(&mut self, submission: &Submission) -> Result<()> {
        let tx = self.conn.transaction()?;
        Self::enqueue_in(&tx, &self.key, &OutboxItem::Questionnaire(submission.clone()))?;
        tx.execute("DELETE FROM drafts WHERE id = ?1", [submission.task_id.to_string()])?;
        tx.commit()?;
        Ok(())
    }

    /// The outbox, oldest first.
    pub fn outbox(&self) -> Result<Vec<Outgoing>> {
        let mut stmt = self.conn.prepare("SELECT id, version, sealed, failed FROM outbox ORDER BY rowid")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, version, sealed, failed) = row?;
            let item = if version == OUTBOX_TAGGED {
                open_row(&self.key, T_OUTBOX, &id, version, sealed)?
            } else {
                OutboxItem::Feedback(open_row(&self.key, T_OUTBOX, &id, version, sealed)?)
            };
            out.push(Outgoing { item, failed });
        }
        Ok(out)
    }

    /// Questionnaires asked of this person, as the server last sent them, oldest first.
    pub fn questionnaires(&self) -> Result<Vec<QuestionnaireTask>> {
        let mut out: Vec<QuestionnaireTask> = self.read_all(T_QUESTIONNAIRES)?;
        out.sort_by_key(|t| (t.available_on, t.id));
        Ok(out)
    }

    /// The approved articles this device has, by title.
    pub fn articles(&self) -> Result<Vec<Article>> {
        let mut out: Vec<Article> = self.read_all(T_ARTICLES)?;
        out.sort_by(|a, b| a.title.cmp(&b.title));
        Ok(out)
    }

    /// This person's conversation with the coach, oldest first.
    pub fn messages(&self) -> Result<Vec<Message>> {
        let mut out: Vec<Message> = self.read_all(T_MESSAGES)?;
        out.sort_by_key(|m| (m.created_at, m.id));
        Ok(out)
    }

    /// The articles this person marked as useful. Kept on this device only, sealed: which
    /// articles a parent found useful says something about the family.
    pub fn useful_articles(&self) -> Result<Vec<Uuid>> {
        Ok(match get_secret_opt(&self.conn, &self.key, "useful_articles")? {
            Some(bytes) => serde_json::from_slice(&bytes)?,
            None => Vec::new(),
        })
    }

    pub fn set_useful(&mut self, article_id: Uuid, useful: bool) -> Result<()> {
        let mut ids = self.useful_articles()?;
        ids.retain(|id| *id != article_id);
        if useful {
            ids.push(article_id);
        }
        put_secret(&self.conn, &self.key, "useful_articles", &serde_json::to_vec(&ids)?)
    }

    /// What this person chose to share of their use of the app (sealed, on this device only);
    /// `None` while sharing is off, which is the default.
    pub fn usage_sharing(&self) -> Result<Option<cjg_core::usage::SharingRecord>> {
        Ok(match get_secret_opt(&self.conn, &self.key, "usage_sharing")? {
            Some(bytes) => serde_json::from_slice(&bytes)?,
            None => None,
        })
    }

    pub fn set_usage_sharing(&mut self, record: Option<&cjg_core::usage::SharingRecord>) -> Result<()> {
        put_secret(&self.conn, &self.key, "usage_sharing", &serde_json::to_vec(&record)?)
    }

    /// The coach's reading tips for this person, newest first.
    pub fn tips(&self) -> Result<Vec<ReadingTip>> {
        let mut out: Vec<ReadingTip> = self.read_all(T_TIPS)?;
        out.sort_by_key(|t| std::cmp::Reverse(t.created_at));
        Ok(out)
    }

    /// The coach's requests to react on an entry, oldest first.
    pub fn feedback_requests(&self) -> Result<Vec<FeedbackRequest>> {
        let mut out: Vec<FeedbackRequest> = self.read_all(T_REQUESTS)?;
        out.sort_by_key(|r| (r.created_at, r.id));
        Ok(out)
    }

    pub fn draft(&self, task_id: Uuid) -> Result<Option<Draft>> {
        let id = task_id.to_string();
        let row = self
            .conn
            .query_row("SELECT version, sealed FROM drafts WHERE id = ?1", [&id], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
            })
            .optional()?;
        row.map(|(version, sealed)| open_row(&self.key, T_DRAFTS, &id, version, sealed)).transpose()
    }

    pub fn drafts(&self) -> Result<Vec<Draft>> {
        self.read_all(T_DRAFTS)
    }

    /// Saves unfinished answers, sealed, over the previous draft of the same questionnaire.
    pub fn save_draft(&mut self, draft: &Draft) -> Result<()> {
        let id = draft.task_id.to_string();
        let sealed = seal_json(&self.key, T_DRAFTS, &id, 1, draft)?;
        self.conn.execute(
            "INSERT INTO drafts (id, version, sealed) VALUES (?1, 1, ?2)
             ON CONFLICT(id) DO UPDATE SET sealed = excluded.sealed",
            params![id, sealed.as_bytes()],
        )?;
        Ok(())
    }

    /// The server will not take these answers for this version of the questionnaire: they go
    /// back to being a draft (one transaction), for the person to check against the new version.
    pub fn return_to_draft(
        &mut self,
        submission: &Submission,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<()> {
        let draft = Draft {
            task_id: submission.task_id,
            version: submission.version,
            answers: submission.answers.clone(),
            saved_at: at,
        };
        let id = draft.task_id.to_string();
        let sealed = seal_json(&self.key, T_DRAFTS, &id, 1, &draft)?;
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO drafts (id, version, sealed) VALUES (?1, 1, ?2)
             ON CONFLICT(id) DO UPDATE SET sealed = excluded.sealed",
            params![id, sealed.as_bytes()],
        )?;
        tx.execute("DELETE FROM outbox WHERE id = ?1", [submission.id.to_string()])?;
        tx.commit()?;
        Ok(())
    }

    /// The server acknowledged the item.
    pub fn outbox_sent(&mut self, id: Uuid) -> Result<()> {
        self.conn.execute("DELETE FROM outbox WHERE id = ?1", [id.to_string()])?;
        Ok(())
    }

    /// The server refused the item for good; it stays, marked, until the person removes it.
    pub fn outbox_failed(&mut self, id: Uuid, code: &str) -> Result<()> {
        self.conn.execute("UPDATE outbox SET failed = ?2 WHERE id = ?1", params![id.to_string(), code])?;
        Ok(())
    }

    /// The person's feedback as the server confirmed it, oldest first.
    pub fn feedback(&self) -> Result<Vec<Feedback>> {
        let mut out: Vec<Feedback> = self.read_all(T_FEEDBACK)?;
        out.sort_by_key(|f| (f.created_at, f.id));
        Ok(out)
    }

    /// The verified access log, oldest line first.
    pub fn audit_events(&self) -> Result<Vec<AuditEvent>> {
        let mut out: Vec<AuditEvent> = self.read_all(T_AUDIT)?;
        out.sort_by_key(|e| e.position);
        Ok(out)
    }

    /// The state after `batch`, if it extends the verified log exactly, and the checkpoint key
    /// to pin from now on when the batch handed the pinned one over to another.
    fn verify_audit(&self, batch: &AuditBatch) -> Result<(AuditState, Option<Vec<u8>>)> {
        let pinned = self.audit_key()?.ok_or(StoreError::NoAuditKey)?;
        let key = chain::follow_rotations(&pinned, &batch.key_rotations);
        let state = self.audit_state()?;
        let known = chain::Verified {
            size: state.size,
            head: chain::unhex(&state.head).ok_or(StoreError::Corrupt("audit head"))?,
        };
        let dossier = state.dossier_id.unwrap_or(batch.checkpoint.checkpoint.dossier_id);
        let expected = chain::Expected {
            dossier_id: dossier,
            person_id: self.profile()?.person_id,
            not_before: state.checkpoint_time,
        };
        let v = chain::verify_extension(known, &expected, batch, &key).map_err(StoreError::AuditChain)?;
        let state = AuditState {
            dossier_id: Some(dossier),
            size: v.size,
            head: chain::hex(&v.head),
            checkpoint_time: Some(batch.checkpoint.checkpoint.time),
            ..state
        };
        Ok((state, (key != pinned).then_some(key)))
    }

    pub fn entries(&self) -> Result<Vec<Entry>> {
        let mut out = Vec::new();
        self.each_entry(|e| out.push(e))?;
        out.sort_by(|a, b| b.occurred_on.cmp(&a.occurred_on).then_with(|| a.title.cmp(&b.title)));
        Ok(out)
    }

    /// Every entry, one at a time and in no order: a list of 20,000 keeps only what it needs
    /// of each instead of every body at once.
    pub fn each_entry(&self, f: impl FnMut(Entry)) -> Result<()> {
        self.read_each(T_ENTRIES, f)
    }

    pub fn entry(&self, id: Uuid) -> Result<Option<Entry>> {
        let row = self
            .conn
            .query_row("SELECT version, sealed FROM entries WHERE id = ?1", [id.to_string()], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
            })
            .optional()?;
        row.map(|(version, sealed)| open_row(&self.key, T_ENTRIES, &id.to_string(), version, sealed))
            .transpose()
    }

    pub fn people(&self) -> Result<Vec<Person>> {
        let mut out: Vec<Person> = self.read_all(T_PEOPLE)?;
        out.sort_by_key(|p| p.birth_date);
        Ok(out)
    }

    fn read_all<T: DeserializeOwned>(&self, table: &'static str) -> Result<Vec<T>> {
        let mut out = Vec::new();
        self.read_each(table, |row| out.push(row))?;
        Ok(out)
    }

    fn read_each<T: DeserializeOwned>(&self, table: &'static str, mut f: impl FnMut(T)) -> Result<()> {
        // `table` is one of our constants, never input.
        let mut stmt = self.conn.prepare(&format!("SELECT id, version, sealed FROM {table}"))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, Vec<u8>>(2)?)))?;
        for row in rows {
            let (id, version, sealed) = row?;
            f(open_row(&self.key, table, &id, version, sealed)?);
        }
        Ok(())
    }
}

fn seal_json<T: Serialize>(key: &DataKey, table: &str, id: &str, version: i64, value: &T) -> Result<Sealed> {
    let plain = serde_json::to_vec(value)?;
    Ok(key.seal(RowAad { table, id, version }, &plain)?)
}

fn open_row<T: DeserializeOwned>(
    key: &DataKey,
    table: &'static str,
    id: &str,
    version: i64,
    sealed: Vec<u8>,
) -> Result<T> {
    let plain = key
        .open(RowAad { table, id, version }, &Sealed::from_stored(sealed))
        .map_err(|_| StoreError::Tampered { table, id: id.to_owned() })?;
    serde_json::from_slice(&plain).map_err(|_| StoreError::Tampered { table, id: id.to_owned() })
}

/// Stores a synced row sealed; an older version never overwrites a newer one, whatever order
/// pages arrive in. `table` is one of our constants, never input.
fn upsert_sealed<T: Serialize>(
    tx: &Transaction<'_>,
    key: &DataKey,
    table: &'static str,
    id: &str,
    version: i64,
    value: &T,
) -> Result<()> {
    let sealed = seal_json(key, table, id, version, value)?;
    tx.execute(
        &format!(
            "INSERT INTO {table} (id, version, sealed) VALUES (?1, ?2, ?3)
             ON CONFLICT(id) DO UPDATE SET version = excluded.version, sealed = excluded.sealed
             WHERE excluded.version >= {table}.version"
        ),
        params![id, version, sealed.as_bytes()],
    )?;
    Ok(())
}

fn upsert_entry(tx: &Transaction<'_>, key: &DataKey, e: &Entry) -> Result<()> {
    let id = e.id.to_string();
    let sealed = seal_json(key, T_ENTRIES, &id, e.version, e)?;
    // An older version never overwrites a newer one, whatever order pages arrive in.
    tx.execute(
        "INSERT INTO entries (id, kind, version, sealed) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, version = excluded.version, sealed = excluded.sealed
         WHERE excluded.version >= entries.version",
        params![id, e.kind.as_str(), e.version, sealed.as_bytes()],
    )?;
    Ok(())
}

fn put_secret(conn: &Connection, key: &DataKey, name: &str, plain: &[u8]) -> Result<()> {
    let sealed = key.seal(RowAad { table: T_SECRETS, id: name, version: 1 }, plain)?;
    conn.execute(
        "INSERT INTO secrets (name, version, sealed) VALUES (?1, 1, ?2)
         ON CONFLICT(name) DO UPDATE SET sealed = excluded.sealed",
        params![name, sealed.as_bytes()],
    )?;
    Ok(())
}

fn get_secret(conn: &Connection, key: &DataKey, name: &str) -> Result<Vec<u8>> {
    get_secret_opt(conn, key, name)?.ok_or(StoreError::Corrupt("secret missing"))
}

fn get_secret_opt(conn: &Connection, key: &DataKey, name: &str) -> Result<Option<Vec<u8>>> {
    let Some((version, sealed)) = conn
        .query_row("SELECT version, sealed FROM secrets WHERE name = ?1", [name], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
        })
        .optional()?
    else {
        return Ok(None);
    };
    key.open(RowAad { table: T_SECRETS, id: name, version }, &Sealed::from_stored(sealed))
        .map(Some)
        .map_err(|_| StoreError::Tampered { table: T_SECRETS, id: name.to_owned() })
}

fn meta_put(conn: &Connection, key: &str, value: &[u8]) -> Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

fn meta_get(conn: &Connection, key: &str) -> Result<Option<Vec<u8>>> {
    Ok(conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
}

fn meta_i64(conn: &Connection, key: &str) -> Result<Option<i64>> {
    meta_get(conn, key)?
        .map(|v| {
            std::str::from_utf8(&v).ok().and_then(|s| s.parse().ok()).ok_or(StoreError::Corrupt("number"))
        })
        .transpose()
}

#[cfg(test)]
mod tests;
