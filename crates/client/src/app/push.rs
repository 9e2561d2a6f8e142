//! The open app listens for "sync now" and syncs at once, so a coach's answer shows within a
//! second; the quiet sync every few minutes stays as the fallback.

use std::time::Duration;

use serde::Serialize;
use ts_rs::TS;

use super::AppCore;
use crate::push::{jitter, reconnect_delay};
use crate::{ClientError, Progress, Result, Session};

/// What a sync the server asked for brought that asks something of the person: the desktop
/// shows a notice (without content) for it when the window is not in front.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, TS)]
pub struct News {
    /// Coach messages unread now that were not before.
    pub messages: u32,
    /// Tasks to do now that were not before.
    pub tasks: u32,
}

impl News {
    pub fn any(&self) -> bool {
        self.messages > 0 || self.tasks > 0
    }
}

/// A connection open this long before it ended was a working one.
const STEADY: Duration = Duration::from_secs(30);

impl AppCore {
    /// Keeps the push connection of the open account and syncs on every signal, reporting
    /// each sync to `on_synced`. Returns when the account closes (lock, another account, a
    /// wipe); until then it connects again after every drop, waiting longer (with jitter)
    /// after each failure in a row. On every (re)connection it syncs once, for what changed
    /// while it was not listening. A sync on a signal that fails for a passing reason (the
    /// network, a broken answer) counts as a failure too: the connection is made again after
    /// the wait, and that sync tries once more.
    pub async fn listen(&self, mut on_synced: impl FnMut(Result<News>) + Send) {
        let Ok((session, tokens, mut ended)) = self.open_for_push().await else { return };
        let mut failures = 0u32;
        loop {
            let connected = tokio::select! {
                _ = ended.changed() => return,
                outcome = self.listen_once(&session, &tokens, &mut on_synced) => outcome,
            };
            match connected {
                // Only a connection that stayed up a while proves the way is clear: one cut at
                // once (a proxy, a stopping server) counts as a failure, so nobody reconnects
                // and syncs every second.
                Ok(lasted) if lasted >= STEADY => failures = 0,
                Ok(_) => failures = failures.saturating_add(1),
                Err(ClientError::Locked) => return,
                Err(e) => {
                    tracing::debug!(code = e.code(), "push connection lost");
                    failures = failures.saturating_add(1);
                }
            }
            tokio::select! {
                _ = ended.changed() => return,
                () = tokio::time::sleep(reconnect_delay(failures, jitter())) => {}
            }
        }
    }

    /// One connection, until it ends; how long it was open when it ended normally.
    async fn listen_once(
        &self,
        session: &Session,
        tokens: &crate::TokenCache,
        on_synced: &mut (impl FnMut(Result<News>) + Send),
    ) -> Result<Duration> {
        let (token, _) = tokens.get(session).await?;
        let opened = std::time::Instant::now();
        let mut events = match session.client.events(&token).await {
            Err(e @ ClientError::Api { code: cjg_core::ErrorCode::Unauthenticated, .. }) => {
                tokens.forget();
                return Err(e);
            }
            other => other?,
        };
        // `Ready` and `Sync` both mean: fetch what is new.
        while let Some(_signal) = events.next().await? {
            let synced = self.sync_for_news().await;
            if matches!(synced, Err(ClientError::Locked)) {
                return Err(ClientError::Locked);
            }
            let retry = synced.as_ref().is_err_and(ClientError::is_transient);
            on_synced(synced);
            if retry {
                // The signal said there is news and the sync did not get it. Connecting again
                // after the back-off wait syncs again; waiting for the next signal or the quiet
                // sync could leave the news out for minutes.
                return Err(ClientError::Unreachable("the sync after a signal failed".into()));
            }
        }
        Ok(opened.elapsed())
    }

    /// A quiet sync, and what it brought that asks something of the person.
    pub async fn sync_for_news(&self) -> Result<News> {
        let before = self.waiting().await?;
        let _: Progress = self.sync(|_| {}).await?;
        let after = self.waiting().await?;
        Ok(News { messages: after.0.saturating_sub(before.0), tasks: after.1.saturating_sub(before.1) })
    }

    /// (unread coach messages, tasks to do)
    async fn waiting(&self) -> Result<(u32, u32)> {
        Ok((self.berichten().await?.unread, self.tasks().await?.to_do))
    }

    async fn open_for_push(
        &self,
    ) -> Result<(Session, std::sync::Arc<crate::TokenCache>, tokio::sync::watch::Receiver<()>)> {
        let guard = self.open.lock().await;
        let open = guard.as_ref().ok_or(ClientError::Locked)?;
        let session = Session::of(&open.store)?;
        Ok((session, open.tokens.clone(), open.ended.subscribe()))
    }
}
