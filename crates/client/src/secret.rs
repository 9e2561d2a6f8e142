//! Secrets kept apart from the store: the device secret (mixed into the PIN key, so a copied
//! database alone is useless) and the optional unlock key (opens the store without the PIN).
//! The OS keychain holds them where one answers; otherwise the device secret lives in a file
//! with owner-only permissions next to the store, and the app tells the person that this is
//! less protected. The unlock key is only ever kept in a keychain.

use std::io::Write;
use std::path::Path;

use cjg_crypto::SECRET_LEN;
use serde::Serialize;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::{ClientError, Result};

/// Where an account's device secret is kept.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum SecretHome {
    Keychain,
    /// A file next to the store: protected by the file permissions only.
    File,
}

const SECRET_FILE: &str = "device.secret";
/// Marks that the device secret is in the keychain, so a keychain that stops answering is an
/// error and never silently a new secret (which would make the store unreadable).
const KEYCHAIN_MARKER: &str = "device.secret.keychain";

#[derive(Debug, Clone)]
pub struct Vault {
    /// The keychain's service name; tests use their own so they never touch the app's items.
    service: String,
    use_keychain: bool,
}

impl Vault {
    pub const SERVICE: &'static str = "nl.cjg.mijn";

    pub fn new(service: &str, use_keychain: bool) -> Self {
        Self { service: service.to_owned(), use_keychain }
    }

    fn entry(&self, what: &str, account: Uuid) -> Option<keyring::Entry> {
        if !self.use_keychain {
            return None;
        }
        keyring::Entry::new(&self.service, &format!("{what}:{account}")).ok()
    }

    /// The account's device secret, made on first use: in the keychain if it takes and gives it
    /// back, else in a private file.
    pub fn device_secret(
        &self,
        dir: &Path,
        account: Uuid,
    ) -> Result<(Zeroizing<[u8; SECRET_LEN]>, SecretHome)> {
        let file = dir.join(SECRET_FILE);
        if file.exists() {
            return Ok((Zeroizing::new(read_secret_file(&file)?), SecretHome::File));
        }
        if dir.join(KEYCHAIN_MARKER).exists() {
            let entry = self.entry("device-secret", account).ok_or(ClientError::KeychainUnavailable)?;
            let bytes = Zeroizing::new(entry.get_secret().map_err(|_| ClientError::KeychainUnavailable)?);
            let secret: [u8; SECRET_LEN] =
                bytes[..].try_into().map_err(|_| ClientError::KeychainUnavailable)?;
            return Ok((Zeroizing::new(secret), SecretHome::Keychain));
        }
        let secret = Zeroizing::new(cjg_crypto::random_array::<SECRET_LEN>()?);
        if let Some(entry) = self.entry("device-secret", account) {
            let stored = entry.set_secret(&secret[..]).and_then(|()| entry.get_secret()).map(Zeroizing::new);
            if matches!(stored, Ok(ref back) if back[..] == secret[..]) {
                write_private(&dir.join(KEYCHAIN_MARKER), b"").map_err(ClientError::DeviceSecret)?;
                return Ok((secret, SecretHome::Keychain));
            }
            tracing::info!("no usable OS keychain; the device secret goes to a private file");
        }
        write_private(&file, &secret[..]).map_err(ClientError::DeviceSecret)?;
        Ok((secret, SecretHome::File))
    }

    /// Where the account's device secret is, without touching the keychain.
    pub fn home(dir: &Path) -> SecretHome {
        if dir.join(KEYCHAIN_MARKER).exists() {
            SecretHome::Keychain
        } else {
            SecretHome::File
        }
    }

    /// Makes and keeps a fresh unlock key in the keychain.
    pub fn new_unlock_key(&self, account: Uuid) -> Result<[u8; SECRET_LEN]> {
        let entry = self.entry("unlock-key", account).ok_or(ClientError::KeychainUnavailable)?;
        let key: [u8; SECRET_LEN] = cjg_crypto::random_array()?;
        entry.set_secret(&key).map_err(|_| ClientError::KeychainUnavailable)?;
        Ok(key)
    }

    pub fn unlock_key(&self, account: Uuid) -> Result<[u8; SECRET_LEN]> {
        let entry = self.entry("unlock-key", account).ok_or(ClientError::KeychainUnavailable)?;
        let bytes = entry.get_secret().map_err(|_| ClientError::KeychainUnavailable)?;
        bytes.try_into().map_err(|_| ClientError::KeychainUnavailable)
    }

    pub fn forget_unlock_key(&self, account: Uuid) {
        if let Some(e) = self.entry("unlock-key", account) {
            let _ = e.delete_credential();
        }
    }

    /// Removes everything this vault holds for the account (the files go with the account's
    /// folder). A keychain that does not answer keeps an item that opens nothing any more.
    pub fn forget(&self, account: Uuid) {
        self.forget_unlock_key(account);
        if let Some(e) = self.entry("device-secret", account) {
            let _ = e.delete_credential();
        }
    }
}

fn read_secret_file(path: &Path) -> Result<[u8; SECRET_LEN]> {
    let bytes = Zeroizing::new(std::fs::read(path).map_err(ClientError::DeviceSecret)?);
    bytes[..].try_into().map_err(|_| {
        ClientError::DeviceSecret(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "device secret has the wrong length",
        ))
    })
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_keychain_the_secret_is_a_private_file_created_once() {
        let dir = tempfile::tempdir().expect("tmp");
        let vault = Vault::new("nl.cjg.mijn.test", false);
        let account = Uuid::new_v4();
        let (a, home) = vault.device_secret(dir.path(), account).expect("create");
        assert_eq!(home, SecretHome::File);
        let (b, _) = vault.device_secret(dir.path(), account).expect("read");
        assert_eq!(a, b);
        let p = dir.path().join(SECRET_FILE);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert_eq!(vault.unlock_key(account).expect_err("no keychain").code(), "keychain_unavailable");
        std::fs::write(&p, b"short").expect("overwrite");
        assert!(vault.device_secret(dir.path(), account).is_err());
    }

    #[test]
    fn a_secret_said_to_be_in_the_keychain_is_never_silently_replaced() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(dir.path().join(KEYCHAIN_MARKER), b"").expect("marker");
        let vault = Vault::new("nl.cjg.mijn.test", false);
        let e = vault.device_secret(dir.path(), Uuid::new_v4()).expect_err("keychain gone");
        assert_eq!(e.code(), "keychain_unavailable");
        assert!(!dir.path().join(SECRET_FILE).exists(), "no new secret was made");
    }
}
