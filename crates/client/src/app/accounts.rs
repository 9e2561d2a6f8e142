//! Accounts on this device: enrol, unlock (PIN or keychain), change the PIN, forget.

use cjg_core::validate::Pin;
use cjg_store::{LockedStore, PinMode, PinSecrets, Store};
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
            let (secret, home) = self.device_secret(&account).await?;
            let mode = mode_for(home);
            crate::enrol(server_url, code, &pin, &secret, mode, &account.store_path(), &device_name()).await
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
        if self.open.lock().await.as_ref().is_some_and(|o| o.id == account_id) {
            return Ok(());
        }
        let account = self.accounts.get(account_id).map_err(|_| cjg_store::StoreError::NotFound)?;
        crate::accounts::make_private(&account.dir);
        let (secret, home) = self.device_secret(&account).await?;
        let path = account.store_path();
        let (mode, server) = {
            let path = path.clone();
            blocking(move || {
                let locked = LockedStore::open(&path)?;
                let mode = locked.pin_mode()?;
                let server = if mode == PinMode::Server { Some(locked.pin_server()?) } else { None };
                Ok((mode, server))
            })
            .await?
        };
        // The server's part first, without holding the open account: it is a network call.
        let secrets = match server {
            Some((url, device_id)) => self.try_pin(account_id, &url, device_id, &pin, &secret).await?,
            None => PinSecrets::new(mode, &secret, None)?,
        };
        let mut guard = self.open.lock().await;
        if guard.as_ref().is_some_and(|o| o.id == account_id) {
            return Ok(());
        }
        // PBKDF2 with 600,000 iterations: keep it off the async threads.
        let typed = pin.clone();
        let opened = blocking(move || {
            let locked = LockedStore::open(&path)?;
            let wrong_before = locked.failed_unlocks(&secrets)?;
            Ok((locked.unlock(&typed, &secrets)?, wrong_before))
        })
        .await;
        let wrong_before = match opened {
            Ok((store, wrong_before)) => {
                self.opened(&mut guard, account_id, store)?;
                wrong_before
            }
            Err(ClientError::Store(cjg_store::StoreError::WipedAfterWrongPins)) => {
                *guard = None;
                self.wipe(account_id, Notice::WipedWrongPin)?;
                return Err(ClientError::Store(cjg_store::StoreError::WipedAfterWrongPins));
            }
            Err(e) => return Err(e),
        };
        drop(guard);
        match mode {
            // The server takes off the tries this app made itself: its wrong PINs in a row and
            // the right one. Tries on copies of the folder stay counted.
            PinMode::Server => {
                if let Err(e) = self.report_own_tries(account_id, wrong_before + 1).await {
                    tracing::info!(code = e.code(), "could not report the PIN tries; they stay counted");
                }
            }
            PinMode::Legacy => {
                if let Err(e) = self.upgrade_pin(account_id, &pin, &secret, home).await {
                    tracing::info!(
                        code = e.code(),
                        "the store stays in its old PIN form until the next unlock"
                    );
                }
            }
            PinMode::Keychain => {}
        }
        Ok(())
    }

    /// One counted PIN try at the server. A device the server locked or signed off is wiped
    /// here, and the person is told why.
    async fn try_pin(
        &self,
        account_id: Uuid,
        url: &str,
        device_id: Uuid,
        pin: &Pin,
        secret: &[u8; SECRET_LEN],
    ) -> Result<PinSecrets> {
        match crate::pin::try_pin(url, device_id, pin, secret).await {
            Err(ClientError::DeviceLocked) => {
                self.wipe_account(account_id, Notice::DeviceLocked).await?;
                Err(ClientError::DeviceLocked)
            }
            Err(ClientError::Api { code: cjg_core::ErrorCode::DeviceRevoked, .. }) => {
                self.wipe_account(account_id, Notice::Revoked).await?;
                Err(ClientError::WipedRevoked)
            }
            other => other,
        }
    }

    /// Tells the server which PIN tries were this app's own, with a token into the cache the
    /// next sync uses.
    async fn report_own_tries(&self, account_id: Uuid, own_tries: u32) -> Result<()> {
        let (session, tokens) = {
            let guard = self.open.lock().await;
            let open = guard.as_ref().filter(|o| o.id == account_id).ok_or(ClientError::Locked)?;
            (crate::Session::of(&open.store)?, open.tokens.clone())
        };
        let (token, _) = tokens.get(&session).await?;
        session.client.pin_ok(&token, own_tries).await
    }

    /// Moves a store made before the PIN modes to the one that suits where its device secret
    /// lives: offline with a keychain, with the server's part where the secret is a file.
    async fn upgrade_pin(
        &self,
        id: Uuid,
        pin: &Pin,
        secret: &[u8; SECRET_LEN],
        home: SecretHome,
    ) -> Result<()> {
        let mode = mode_for(home);
        let secrets = match mode {
            PinMode::Server => self.set_up_pin(id, pin, secret).await?,
            other => PinSecrets::new(other, secret, None)?,
        };
        let pin = pin.clone();
        self.store_blocking(id, move |store| Ok(store.set_pin(&pin, &secrets, mode)?)).await
    }

    /// The server's part for `pin` on account `id`, which must still be the open one.
    async fn set_up_pin(&self, id: Uuid, pin: &Pin, secret: &[u8; SECRET_LEN]) -> Result<PinSecrets> {
        let (ran_for, secrets) = self
            .session_call(|session, token| async move {
                crate::pin::set_up(&session.client, &token, pin, secret).await
            })
            .await?;
        if ran_for != id {
            return Err(ClientError::Locked);
        }
        Ok(secrets)
    }

    /// Store work that runs PBKDF2: off the async threads, with the open account taken out of
    /// its slot meanwhile and put back whatever the outcome.
    /// Refused when another account was opened meanwhile.
    async fn store_blocking<T: Send + 'static>(
        &self,
        id: Uuid,
        f: impl FnOnce(&mut Store) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let mut guard = self.open.lock().await;
        if guard.as_ref().is_none_or(|o| o.id != id) {
            return Err(ClientError::Locked);
        }
        let mut open = guard.take().ok_or(ClientError::Locked)?;
        let (open, result) = tokio::task::spawn_blocking(move || {
            let r = f(&mut open.store);
            (open, r)
        })
        .await
        .map_err(|e| ClientError::InvalidResponse(e.to_string()))?;
        *guard = Some(open);
        result
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
        let (secret, _) = self.device_secret(&account).await?;
        let counter = PinSecrets::new(PinMode::Keychain, &secret, None)?;
        let vault = self.vault.clone();
        let path = account.store_path();
        let store = blocking(move || {
            let locked = LockedStore::open(&path)?;
            if !locked.has_unlock_key()? {
                return Err(cjg_store::StoreError::NoUnlockKey.into());
            }
            let key = vault.unlock_key(account_id)?;
            Ok(locked.unlock_with_key(&key, &counter)?)
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

    /// Changes the PIN: the data key is wrapped anew, no row is re-encrypted. A wrong old PIN
    /// counts as a wrong PIN at unlock (on the device, and at the server where it helps).
    pub async fn change_pin(&self, old: &str, new: &str, new_again: &str) -> Result<()> {
        let old = Pin::parse(old).map_err(|_| {
            ClientError::Store(cjg_store::StoreError::WrongPin { attempts_left: cjg_store::MAX_PIN_ATTEMPTS })
        })?;
        let new = Pin::parse(new)?;
        if new_again.as_bytes() != new.as_bytes() {
            return Err(ClientError::PinMismatch);
        }
        let id = self.open.lock().await.as_ref().ok_or(ClientError::Locked)?.id;
        let (secret, _) = self.device_secret(&self.accounts.get(id)?).await?;
        let (mode, profile) = {
            let store = self.store().await?;
            (store.pin_mode()?, store.profile()?)
        };
        let old_secrets = match mode {
            PinMode::Server => {
                self.try_pin(id, &profile.server_url, profile.device_id, &old, &secret).await?
            }
            other => PinSecrets::new(other, &secret, None)?,
        };
        let checked = self.store_blocking(id, move |store| Ok(store.check_pin(&old, &old_secrets)?)).await;
        if let Err(ClientError::Store(cjg_store::StoreError::WipedAfterWrongPins)) = checked {
            self.wipe_account(id, Notice::WipedWrongPin).await?;
        }
        let wrong_before = checked?;
        let new_secrets = match mode {
            PinMode::Server => {
                if let Err(e) = self.report_own_tries(id, wrong_before + 1).await {
                    tracing::info!(code = e.code(), "could not report the PIN tries; they stay counted");
                }
                self.set_up_pin(id, &new, &secret).await?
            }
            other => PinSecrets::new(other, &secret, None)?,
        };
        self.store_blocking(id, move |store| Ok(store.set_pin(&new, &new_secrets, mode)?)).await
    }

    /// The account's device secret. The keychain may talk over D-Bus: off the async threads.
    async fn device_secret(
        &self,
        account: &Account,
    ) -> Result<(zeroize::Zeroizing<[u8; SECRET_LEN]>, SecretHome)> {
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

/// Where the device secret lives decides how the PIN is checked.
fn mode_for(home: SecretHome) -> PinMode {
    match home {
        SecretHome::Keychain => PinMode::Keychain,
        SecretHome::File => PinMode::Server,
    }
}
