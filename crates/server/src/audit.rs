//! The server's side of Inzage: the key that signs checkpoints, and the batch of new log lines
//! a device gets with its sync page.

use std::io::Write;
use std::path::Path;

use crate::db::sql::{self, Query};
use chrono::{DateTime, Utc};
use cjg_core::api::AUDIT_PAGE_MAX;
use cjg_core::audit::{AuditBatch, AuditEvent, Checkpoint};
use cjg_crypto::chain;
use cjg_crypto::DeviceKey;
use uuid::Uuid;

const KEY_FILE: &str = "audit-signing.key";

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

/// The person's own lines after the `from` the device verified (at most a page), and a
/// checkpoint over their log as it is stored now up to the last line sent. The head is
/// recomputed from the stored lines, never read from the stored hashes: a line altered, moved
/// or deleted in the database gives a head that does not extend what the device verified, and
/// the device notices.
pub fn batch_for(
    conn: &dyn Query,
    key: &DeviceKey,
    dossier_id: Uuid,
    person_id: Uuid,
    from: u32,
    now: DateTime<Utc>,
) -> sql::Result<(AuditBatch, bool)> {
    let log: Vec<AuditEvent> =
        crate::db::audit::person_log(conn, person_id)?.into_iter().map(|(e, _)| e).collect();
    let start = usize::try_from(from).unwrap_or(usize::MAX).min(log.len());
    let end = (start + AUDIT_PAGE_MAX).min(log.len());
    let head = log[..end].iter().fold(chain::GENESIS, |h, e| chain::link(&h, e));
    let checkpoint = Checkpoint {
        dossier_id,
        person_id,
        size: u32::try_from(end).unwrap_or(u32::MAX),
        head: chain::hex(&head),
        time: now,
    };
    let batch =
        AuditBatch { events: log[start..end].to_vec(), checkpoint: chain::sign_checkpoint(key, checkpoint) };
    Ok((batch, end < log.len()))
}
