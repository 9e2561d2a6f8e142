//! The person's devices and their consent, asked of the server.

use cjg_core::api::DeviceInfo;
use serde::Serialize;
use ts_rs::TS;
use uuid::Uuid;

use super::{AppCore, Notice};
use crate::Result;

#[derive(Debug, Clone, Serialize, TS)]
pub struct DevicesView {
    pub devices: Vec<DeviceInfo>,
    pub this_device: Uuid,
}

impl AppCore {
    /// The person's enrolled devices, fresh from the server.
    pub async fn devices(&self) -> Result<DevicesView> {
        self.with_session(|session, token| async move {
            Ok(DevicesView { devices: session.client.devices(&token).await?, this_device: session.device_id })
        })
        .await
    }

    /// Revokes a device of this person. Revoking this very device wipes it at once.
    pub async fn revoke_device(&self, device_id: Uuid) -> Result<()> {
        let (account, this_device) = self
            .session_call(|session, token| async move {
                session.client.revoke_device(&token, device_id).await?;
                Ok(session.device_id)
            })
            .await?;
        if this_device == device_id {
            self.wipe_account(account, Notice::Revoked).await?;
        }
        Ok(())
    }

    /// A youth shares their entries with the parents with gezag, or stops; the server decides
    /// whether that is possible.
    pub async fn set_consent(&self, shares_with_parents: bool) -> Result<()> {
        self.with_session(|session, token| async move {
            session.client.set_consent(&token, shares_with_parents).await
        })
        .await
    }
}
