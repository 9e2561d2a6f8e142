//! Sharing how the app is used (the usage report's part that the server cannot see). Off by
//! default. While on, the parts the person opened this month are kept sealed on the device, and
//! once a month has ended it is sent once as randomized yes/no answers
//! ([`cjg_core::usage::randomize`]): no single report says what the person did.

use chrono::{DateTime, Datelike, Utc};
use cjg_core::usage::{SharingRecord, UsageQuestion, COINS};
use cjg_core::ErrorCode;

use super::AppCore;
use crate::{ClientError, Result};

fn month_of(now: DateTime<Utc>) -> String {
    let d = cjg_core::time::dutch_date(now);
    format!("{}-{:02}", d.year(), d.month())
}

impl AppCore {
    pub async fn usage_sharing(&self) -> Result<bool> {
        Ok(self.store().await?.usage_sharing()?.is_some())
    }

    /// Turning it off forgets what was kept for it; turning it on starts with this month.
    pub async fn set_usage_sharing(&self, on: bool) -> Result<()> {
        let mut store = self.store().await?;
        if on == store.usage_sharing()?.is_some() {
            return Ok(());
        }
        let record = on.then(|| {
            let mut r = SharingRecord::default();
            r.roll(&month_of(Utc::now()));
            r
        });
        Ok(store.set_usage_sharing(record.as_ref())?)
    }

    /// The person opened a part of the app (kept only while sharing is on).
    pub async fn note_use(&self, q: UsageQuestion) -> Result<()> {
        let mut store = self.store().await?;
        if let Some(mut r) = store.usage_sharing()? {
            r.note(&month_of(Utc::now()), q);
            store.set_usage_sharing(Some(&r))?;
        }
        Ok(())
    }

    /// Sends the last ended month if it has not gone yet; runs after each sync with the time
    /// of the device. `true` when a report went out (or the server already had one).
    pub async fn share_usage(&self, now: DateTime<Utc>) -> Result<bool> {
        let share = {
            let mut store = self.store().await?;
            let Some(mut r) = store.usage_sharing()? else { return Ok(false) };
            let before = r.clone();
            r.roll(&month_of(now));
            // Runs after every sync: the sealed record is written only when the month turned.
            if r != before {
                store.set_usage_sharing(Some(&r))?;
            }
            let bytes = cjg_crypto::random_array::<COINS>()?;
            r.report(&bytes.map(|b| b & 1 == 1))
        };
        let Some(share) = share else { return Ok(false) };
        let month = share.month.clone();
        let sent = self
            .with_session(|session, token| async move { session.client.share_usage(&token, &share).await })
            .await;
        match sent {
            Ok(()) => {}
            // Already counted (another device of the person), or too old to count: nothing to keep.
            Err(ClientError::Api { code: ErrorCode::Conflict | ErrorCode::Validation, .. }) => {}
            Err(e) => return Err(e),
        }
        let mut store = self.store().await?;
        if let Some(mut r) = store.usage_sharing()? {
            if r.pending.as_ref().is_some_and(|(m, _)| *m == month) {
                r.pending = None;
                store.set_usage_sharing(Some(&r))?;
            }
        }
        Ok(true)
    }
}
