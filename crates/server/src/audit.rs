//! The server's side of Inzage: the key that signs checkpoints, and the batch of new log lines
//! a device gets with its sync page.

use std::io::Write;
use std::path::Path;

use crate::db::sql::Query;
use chrono::{DateTime, Utc};
use cjg_core::api::AUDIT_PAGE_MAX;
use cjg_core::audit::{AuditBatch, Checkpoint};
use cjg_crypto::chain;
use cjg_crypto::DeviceKey;
use uuid::Uuid;

pub const KEY_FILE: &str = "audit-signing.key";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read or write the audit signing key {0}: {1}")]
    Io(String, std::io::Error),
    #[error("the audit signing key in {0} is damaged")]
    Damaged(String),
}

/// The Ed25519 key that signs checkpoints: made at the first start, kept in the data directory
/// (owner-only). Apps pin its public half at enrolment, so it must not change afterwards.
pub fn load_or_create_key(data_dir: &Path) -> Result<DeviceKey, KeyError> {
    let path = data_dir.join(KEY_FILE);
    let shown = path.display().to_string();
    match std::fs::read(&path) {
        Ok(pkcs8) => DeviceKey::from_pkcs8(&pkcs8).map_err(|_| KeyError::Damaged(shown)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = DeviceKey::generate().map_err(|_| KeyError::Damaged(shown.clone()))?;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut f = match options.open(&path) {
                Ok(f) => f,
                // Another instance sharing this directory made it first: use that one.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let pkcs8 = std::fs::read(&path).map_err(|e| KeyError::Io(shown.clone(), e))?;
                    return DeviceKey::from_pkcs8(&pkcs8).map_err(|_| KeyError::Damaged(shown));
                }
                Err(e) => return Err(KeyError::Io(shown, e)),
            };
            f.write_all(key.pkcs8()).and_then(|()| f.sync_all()).map_err(|e| KeyError::Io(shown, e))?;
            Ok(key)
        }
        Err(e) => Err(KeyError::Io(shown, e)),
    }
}

/// Reads a signing key from a file (a kept copy, for a restore) and checks that it is one.
pub fn read_key(path: &Path) -> Result<DeviceKey, KeyError> {
    let shown = path.display().to_string();
    let pkcs8 = std::fs::read(path).map_err(|e| KeyError::Io(shown.clone(), e))?;
    DeviceKey::from_pkcs8(&pkcs8).map_err(|_| KeyError::Damaged(shown))
}

/// Puts a kept signing key into `data_dir` (owner-only), never over one that is there.
pub fn install_key(from: &Path, data_dir: &Path) -> Result<(), KeyError> {
    read_key(from)?;
    let path = data_dir.join(KEY_FILE);
    let shown = path.display().to_string();
    let pkcs8 = std::fs::read(from).map_err(|e| KeyError::Io(from.display().to_string(), e))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(&path).map_err(|e| KeyError::Io(shown.clone(), e))?;
    f.write_all(&pkcs8).and_then(|()| f.sync_all()).map_err(|e| KeyError::Io(shown, e))
}

/// The next checkpoint key while a rotation runs: beside the current one until the statement
/// that hands over to it is stored, then moved into its place.
pub const NEW_KEY_FILE: &str = "audit-signing.key.new";

/// Makes the next checkpoint key and keeps it in `data_dir` as [`NEW_KEY_FILE`] (owner-only,
/// written whole under a temporary name first: a failed write leaves no half key).
pub fn make_next_key(data_dir: &Path) -> Result<DeviceKey, KeyError> {
    let path = data_dir.join(NEW_KEY_FILE);
    let shown = path.display().to_string();
    let key = DeviceKey::generate().map_err(|_| KeyError::Damaged(shown.clone()))?;
    let part = data_dir.join(format!("{NEW_KEY_FILE}.part"));
    let mut options = std::fs::OpenOptions::new();
    // A `.part` left by an interrupted run is removed first. (Two rotations run at once are
    // kept apart by the database, which stores only one; the server then names the key file
    // that does not match, and will not start on it.)
    let _ = std::fs::remove_file(&part);
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options
        .open(&part)
        .and_then(|mut f| f.write_all(key.pkcs8()).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&part, &path))
        // The new file must be on the disk before the statement naming its key is stored.
        .and_then(|()| std::fs::File::open(data_dir)?.sync_all());
    if let Err(e) = written {
        let _ = std::fs::remove_file(&part);
        return Err(KeyError::Io(shown, e));
    }
    Ok(key)
}

/// Puts [`NEW_KEY_FILE`] in the place of the current key, which is gone afterwards.
pub fn promote_next_key(data_dir: &Path) -> Result<(), KeyError> {
    let to = data_dir.join(KEY_FILE);
    std::fs::rename(data_dir.join(NEW_KEY_FILE), &to)
        .map_err(|e| KeyError::Io(to.display().to_string(), e))?;
    // The rename itself must reach the disk before anyone relies on it.
    if let Ok(dir) = std::fs::File::open(data_dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Whether `key` is the one the last stored rotation handed over to (or no rotation was made).
/// A server on another key would sign checkpoints every app refuses.
pub fn is_current_key(key: &DeviceKey, rotations: &[cjg_core::audit::SignedKeyRotation]) -> bool {
    rotations.last().is_none_or(|r| r.rotation.new_key == cjg_crypto::b64(&key.public_key()))
}

/// How much of the stored log a batch is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogCheck {
    /// The head is recomputed from every stored line up to the last one sent: a line altered,
    /// moved or deleted in the database anywhere gives a head that does not extend what the
    /// device verified, and the device notices. Costs a read of the person's whole log; the app
    /// asks for it on its first sync after unlocking, hourly, and when the person refreshes.
    Full,
    /// The head continues from the hash stored beside the device's last verified line: a sync
    /// reads only the lines it sends. A stored hash rewritten to hide a change still shows (it
    /// no longer matches the device's head); a line altered with its hash left alone shows at
    /// the next full check, and to `verify-audit`.
    FromStoredHead,
}

/// The person's own lines after the `from` the device verified (at most a page), and a
/// checkpoint over their log up to the last line sent; `more` when lines are left after it.
pub fn batch_for(
    conn: &dyn Query,
    key: &DeviceKey,
    dossier_id: Uuid,
    person_id: Uuid,
    from: u32,
    check: LogCheck,
    now: DateTime<Utc>,
) -> crate::error::AppResult<(AuditBatch, bool)> {
    let stored_head = match (check, from) {
        (_, 0) => Some(chain::GENESIS),
        (LogCheck::Full, _) => None,
        (LogCheck::FromStoredHead, _) => {
            crate::db::audit::person_head_at(conn, person_id, from)?.as_deref().and_then(chain::unhex)
        }
    };
    let (head_before, events, size_before, more) = match stored_head {
        Some(head) => {
            let mut lines = crate::db::audit::person_lines(conn, person_id, from, AUDIT_PAGE_MAX + 1)?;
            let more = lines.len() > AUDIT_PAGE_MAX;
            lines.truncate(AUDIT_PAGE_MAX);
            (head, lines, from, more)
        }
        // The full check, and a device ahead of the stored log (lines removed at its end):
        // count and hash what is stored, so the device sees exactly what changed.
        None => {
            let want = usize::try_from(from).unwrap_or(usize::MAX).saturating_add(AUDIT_PAGE_MAX + 1);
            let mut log = crate::db::audit::person_lines(conn, person_id, 0, want)?;
            let start = usize::try_from(from).unwrap_or(usize::MAX).min(log.len());
            let end = (start + AUDIT_PAGE_MAX).min(log.len());
            let more = end < log.len();
            log.truncate(end);
            let events = log.split_off(start);
            let head = log.iter().fold(chain::GENESIS, |h, e| chain::link(&h, e));
            (head, events, u32::try_from(start).unwrap_or(u32::MAX), more)
        }
    };
    let head = events.iter().fold(head_before, |h, e| chain::link(&h, e));
    let sent = u32::try_from(events.len()).unwrap_or(u32::MAX);
    let checkpoint = Checkpoint {
        dossier_id,
        person_id,
        size: size_before.saturating_add(sent),
        head: chain::hex(&head),
        time: now,
    };
    let key_rotations = rotations_to(key, crate::db::audit::key_rotations(conn)?)?;
    Ok((AuditBatch { events, checkpoint: chain::sign_checkpoint(key, checkpoint), key_rotations }, more))
}

/// The rotation statements up to the one that hands over to `key` (an app may have pinned any
/// key before it). An instance whose key a later statement replaced (not restarted after
/// `rotate-audit-key`) must not sign: apps that moved on would refuse its checkpoints and warn
/// the family for nothing. It answers `not_ready`, so the balancer sends the app elsewhere.
fn rotations_to(
    key: &DeviceKey,
    all: Vec<cjg_core::audit::SignedKeyRotation>,
) -> crate::error::AppResult<Vec<cjg_core::audit::SignedKeyRotation>> {
    if is_current_key(key, &all) {
        Ok(all)
    } else {
        Err(stale())
    }
}

fn stale() -> crate::error::AppError {
    crate::error::AppError::new(
        cjg_core::ErrorCode::NotReady,
        "this instance signs with a replaced audit key: restart it",
    )
}
