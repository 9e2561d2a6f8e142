//! Several accounts on one device (two parents sharing a tablet, a parent with a child of 12+
//! in care): each in its own folder with its own store, device secret and PIN. The only thing
//! readable without a PIN is the label the person chose for the lock screen.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{ClientError, Result};

const ACCOUNT_FILE: &str = "account.json";
const STORE_FILE: &str = "store.db";
pub const LABEL_MAX: usize = 40;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct AccountFile {
    label: String,
    created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct Account {
    pub id: Uuid,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub dir: PathBuf,
}

impl Account {
    pub fn store_path(&self) -> PathBuf {
        self.dir.join(STORE_FILE)
    }
}

/// The accounts folder of the app's data directory.
#[derive(Debug, Clone)]
pub struct Accounts {
    root: PathBuf,
}

impl Accounts {
    pub fn new(data_dir: &Path) -> Self {
        Self { root: data_dir.join("accounts") }
    }

    /// Every account with a complete store, oldest first.
    pub fn list(&self) -> Vec<Account> {
        let Ok(dirs) = std::fs::read_dir(&self.root) else { return Vec::new() };
        let mut accounts: Vec<Account> = dirs
            .filter_map(|d| d.ok())
            .filter_map(|d| Uuid::parse_str(&d.file_name().to_string_lossy()).ok())
            .filter_map(|id| self.get(id).ok())
            .collect();
        accounts.sort_by_key(|a| (a.created_at, a.id));
        accounts
    }

    pub fn get(&self, id: Uuid) -> Result<Account> {
        let dir = self.root.join(id.to_string());
        let text = std::fs::read_to_string(dir.join(ACCOUNT_FILE)).map_err(|_| ClientError::NoSuchAccount)?;
        let file: AccountFile = serde_json::from_str(&text).map_err(|_| ClientError::NoSuchAccount)?;
        let account = Account { id, label: file.label, created_at: file.created_at, dir };
        if !cjg_store::exists(&account.store_path()) {
            return Err(ClientError::NoSuchAccount);
        }
        Ok(account)
    }

    /// The folder for a new account, before its store exists. `label` is what the person typed;
    /// empty means "Account N".
    pub fn prepare(&self, label: &str) -> Result<Account> {
        let label = if label.trim().is_empty() {
            format!("Account {}", self.list().len() + 1)
        } else {
            cjg_core::validate::single_line("account_label", label, LABEL_MAX)?
        };
        let id = Uuid::new_v4();
        let dir = self.root.join(id.to_string());
        create_private_dir(&dir).map_err(ClientError::DeviceSecret)?;
        let created_at = Utc::now();
        let json = serde_json::to_vec(&AccountFile { label: label.clone(), created_at })
            .map_err(|e| ClientError::InvalidResponse(e.to_string()))?;
        std::fs::write(dir.join(ACCOUNT_FILE), json).map_err(ClientError::DeviceSecret)?;
        Ok(Account { id, label, created_at, dir })
    }

    /// Removes the account's folder: store (with its -wal and -shm), secret file, label.
    pub fn remove(&self, id: Uuid) -> Result<()> {
        let dir = self.root.join(id.to_string());
        cjg_store::wipe(&dir.join(STORE_FILE))?;
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(ClientError::DeviceSecret(e)),
        }
    }

    /// Folders without a complete store: left by an enrolment that failed or was cut off.
    pub fn unfinished(&self) -> Vec<Uuid> {
        let Ok(dirs) = std::fs::read_dir(&self.root) else { return Vec::new() };
        dirs.filter_map(|d| d.ok())
            .filter_map(|d| Uuid::parse_str(&d.file_name().to_string_lossy()).ok())
            .filter(|id| !cjg_store::exists(&self.root.join(id.to_string()).join(STORE_FILE)))
            .collect()
    }

    /// The single store of app versions before accounts (`<data>/store.db`) becomes the first
    /// account, with its device secret.
    pub fn adopt_single_store(&self, data_dir: &Path) -> Result<()> {
        let old_store = data_dir.join(STORE_FILE);
        if !cjg_store::exists(&old_store) {
            return Ok(());
        }
        let account = self.prepare("")?;
        // Copied, not moved, and the database file last: a crash at any point leaves either the
        // old layout whole (the unfinished folder is cleaned up at the next start) or the new one.
        let secret = data_dir.join("device.secret");
        if secret.exists() {
            std::fs::copy(&secret, account.dir.join("device.secret")).map_err(ClientError::DeviceSecret)?;
        }
        for suffix in ["-wal", "-shm", ""] {
            let from = data_dir.join(format!("{STORE_FILE}{suffix}"));
            if from.exists() {
                std::fs::rename(&from, account.dir.join(format!("{STORE_FILE}{suffix}")))
                    .map_err(ClientError::DeviceSecret)?;
            }
        }
        let _ = std::fs::remove_file(secret);
        Ok(())
    }
}

/// The account's folder, for its owner only (0700 on Unix): the store, its secret file and
/// its label are nobody else's business on a shared computer.
fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Folders and stores made before these were created owner-only get the same permissions at
/// their next unlock.
pub fn make_private(dir: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if entry.file_type().is_ok_and(|t| t.is_file()) {
                let _ = std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o600));
            }
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
}
