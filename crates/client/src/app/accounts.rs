//! Accounts on this device: enrol, unlock (PIN or keychain), change the PIN, forget.

use cjg_core::validate::Pin;
use cjg_store::{LockedStore, Store};
use serde::Serialize;
use ts_rs::TS;
use uuid::Uuid;

use super::{blocking, device_name, AppCore, Guard, Notice, OpenAccount};
use crate::accounts::Account;
use crate::secret::{SecretHome, Vault};
use crate::{ClientError, Result};
use cjg_crypto::SECRET_LEN;

/// An account as the lock screen shows it: only what the person chose to show without a PIN.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AccountInfo {
    pub id: Uuid,
    pub label: String,
    pub secret_home: SecretHome,
    /// Can be opened with the unlock key from the OS keychain, without the PIN.
    pub key_unlock: bool,
}

impl AppCore {
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
                *guard = Some(OpenAccount::new(account.id, store));
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
        **guard = Some(OpenAccount::new(id, store));
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

    /// The account's device secret. The keychain may talk over D-Bus: off the async threads.
    async fn device_secret(&self, account: &Account) -> Result<([u8; SECRET_LEN], SecretHome)> {
        let (vault, dir, id) = (self.vault.clone(), account.dir.clone(), account.id);
        blocking(move || vault.device_secret(&dir, id)).await
    }

    pub(super) fn account_info(&self, account: &Account, open: Option<&OpenAccount>) -> AccountInfo {
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
}
