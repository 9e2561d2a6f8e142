//! The sync: sends the outbox, then pulls every page after the store's cursor. The store is
//! held only for each read or write ([`StoreAccess`]), never across a network call, so the app
//! opens an entry, locks or shows Inzage at once while a slow sync waits for the server.

use std::future::Future;
use std::time::{Duration, Instant};

use cjg_core::api::SyncPage;
use cjg_core::audit::AuditAlert;
use cjg_crypto::DeviceKey;
use cjg_store::{OutboxItem, Store};
use serde::Serialize;
use uuid::Uuid;

use crate::{Client, ClientError, Result};

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq, ts_rs::TS)]
pub struct Progress {
    pub pages: usize,
    pub items: usize,
    pub done: bool,
}

#[derive(Debug, Clone, Default)]
pub struct SyncOptions {
    /// Items per page to ask for; the server caps it.
    pub page_limit: Option<u32>,
    /// Have the server check the access log against every stored line, not only against the
    /// stored head of the last verified one (an altered old line shows only this way).
    pub full_log_check: bool,
    /// Make the given page (0-based) fail after this many items, inside its transaction.
    #[cfg(feature = "fault-injection")]
    pub fail_in_page: Option<(usize, usize)>,
}

/// Where a sync finds the store. `with` holds it for one closure: a read, or one page written
/// in one transaction. It fails with [`ClientError::Locked`] when the store was locked (or
/// another account opened) in the meantime, so a sync never writes into the wrong store.
pub trait StoreAccess: Sync {
    fn with<T: Send>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T> + Send,
    ) -> impl Future<Output = Result<T>> + Send;
}

/// One store owned by the caller (tests, benchmarks, the CLI-like uses of the library).
impl StoreAccess for tokio::sync::Mutex<&mut Store> {
    async fn with<T: Send>(&self, f: impl FnOnce(&mut Store) -> Result<T> + Send) -> Result<T> {
        f(*self.lock().await)
    }
}

/// What talking to the server needs from the store, read out before any await so the store
/// (not `Sync`) is not held across one.
pub struct Session {
    pub client: Client,
    pub device_id: Uuid,
    device: DeviceKey,
}

impl Session {
    pub fn of(store: &Store) -> Result<Self> {
        let profile = store.profile()?;
        Ok(Self {
            client: Client::new(&profile.server_url)?,
            device_id: profile.device_id,
            device: store.device_key()?,
        })
    }

    /// A fresh token for this device.
    pub async fn token(&self) -> Result<String> {
        self.client.token(self.device_id, &self.device).await
    }
}

/// A device token kept in memory (never on disk) and used again until shortly before it
/// expires: a quiet sync is then one request instead of three, and the server writes nothing
/// for it. The server still checks the token and the device on every request, so a revoked
/// device is refused at once. Shared: a sync and a command that sends at once may both use it.
#[derive(Default)]
pub struct TokenCache(std::sync::Mutex<Option<(String, Instant)>>);

impl TokenCache {
    /// Stop using a token this long before the server's expiry (clocks differ a little).
    const MARGIN: Duration = Duration::from_secs(60);

    /// A token, and whether it is one used before.
    pub(crate) async fn get(&self, session: &Session) -> Result<(String, bool)> {
        if let Some((token, until)) = self.0.lock().ok().and_then(|c| c.clone()) {
            if Instant::now() < until {
                return Ok((token, true));
            }
        }
        let fresh = session.client.token_until(session.device_id, &session.device).await?;
        let left = (fresh.expires_at - chrono::Utc::now()).to_std().unwrap_or_default();
        if let Ok(mut c) = self.0.lock() {
            *c = Some((fresh.token.clone(), Instant::now() + left.saturating_sub(Self::MARGIN)));
        }
        Ok((fresh.token, false))
    }

    pub fn forget(&self) {
        if let Ok(mut c) = self.0.lock() {
            *c = None;
        }
    }
}

/// Pulls every page after the store's cursor. Each page lands in one transaction; the cursor
/// moves only with it. An error stops the sync with everything before it safely stored.
pub async fn sync(
    store: &mut Store,
    options: &SyncOptions,
    progress: impl FnMut(Progress) + Send,
) -> Result<Progress> {
    sync_via(&tokio::sync::Mutex::new(store), options, &TokenCache::default(), progress).await
}

/// `sync` through `access`, with a token from `tokens` when it holds a live one. A kept token
/// the server no longer knows (it restarted on a new database, say) is dropped and the sync
/// runs once more with a fresh one; that is safe because a sync resumes from its cursor and the
/// server knows a resent item by its id.
pub async fn sync_via(
    access: &impl StoreAccess,
    options: &SyncOptions,
    tokens: &TokenCache,
    mut progress: impl FnMut(Progress) + Send,
) -> Result<Progress> {
    let session = access.with(|s| Session::of(s)).await?;
    let (token, reused) = tokens.get(&session).await?;
    let result = sync_once(access, options, &session.client, &token, &mut progress).await;
    match result {
        Err(ClientError::Api { code: cjg_core::ErrorCode::Unauthenticated, .. }) => {
            tokens.forget();
            if !reused {
                return result;
            }
            let (token, _) = tokens.get(&session).await?;
            sync_once(access, options, &session.client, &token, &mut progress).await
        }
        result => result,
    }
}

async fn sync_once(
    access: &impl StoreAccess,
    options: &SyncOptions,
    client: &Client,
    token: &str,
    progress: &mut (impl FnMut(Progress) + Send),
) -> Result<Progress> {
    if access.with(|s| Ok(s.audit_key()?)).await?.is_none() {
        // Enrolled before the access log was chained. The key is pinned at enrolment only:
        // taking the word of whichever server answers now would let it sign any log.
        return Err(ClientError::EnrolAgain);
    }
    flush_outbox(access, client, token).await?;
    let mut p = Progress::default();
    // The log is asked for until this sync has caught up with it, not on every page. A full
    // check is needed once: later pages continue from the head it verified.
    let mut audit_open = true;
    let mut full = options.full_log_check;
    loop {
        let (cursor, audit) = access.with(|s| Ok((s.cursor()?, s.audit_state()?))).await?;
        let ask = audit_open.then_some((audit.size, full));
        let page = client.pull_page(token, cursor, ask, options.page_limit).await?;
        full = false;
        if let Some(batch) = &page.audit {
            audit_open = batch.events.len() >= cjg_core::api::AUDIT_PAGE_MAX;
        }
        let index = p.pages;
        let applied = access
            .with(|s| {
                apply(s, &page, cursor, index, options)?;
                Ok(s.audit_state()?.size)
            })
            .await;
        let audit_size = match applied {
            Ok(size) => size,
            Err(e) => {
                if let (ClientError::Store(cjg_store::StoreError::AuditChain(problem)), Some(batch)) =
                    (&e, &page.audit)
                {
                    report_broken_log(access, client, token, &audit, batch, problem).await;
                }
                return Err(e);
            }
        };
        p.pages += 1;
        p.items += page.items.len();
        // A server that says "more" but moves neither cursor would loop forever.
        let moved = page.next_cursor != cursor || audit_size != audit.size;
        if !page.has_more || !moved {
            p.done = true;
            progress(p);
            return Ok(p);
        }
        progress(p);
    }
}

/// Sends what waits in the outbox, oldest first. An item leaves the outbox only when the server
/// acknowledged it (or when it arrives by sync): a lost answer means a resend, which the server
/// recognises by the item's id. A final refusal (the entry is no longer visible) marks the item;
/// a network error stops here with everything still queued.
pub async fn flush_outbox(access: &impl StoreAccess, client: &Client, token: &str) -> Result<usize> {
    use cjg_core::ErrorCode as E;
    let mut sent = 0;
    for out in access.with(|s| Ok(s.outbox()?)).await? {
        if out.failed.is_some() {
            continue;
        }
        let id = out.item.id();
        let result = match &out.item {
            OutboxItem::Feedback(draft) => client.submit_feedback(token, draft).await.map(|_| ()),
            OutboxItem::Questionnaire(sub) => client.submit_questionnaire(token, sub).await.map(|_| ()),
            OutboxItem::TipRead(id) => client.mark_tip_read(token, *id).await.map(|_| ()),
            OutboxItem::Message(m) => client.send_message(token, m).await.map(|_| ()),
            OutboxItem::MessagesRead(_, ids) => client.messages_read(token, ids).await,
        };
        match result {
            Ok(()) => {
                access.with(|s| Ok(s.outbox_sent(id)?)).await?;
                sent += 1;
            }
            Err(ClientError::Api { code: E::QuestionnaireOutdated, .. }) => {
                if let OutboxItem::Questionnaire(sub) = &out.item {
                    access.with(|s| Ok(s.return_to_draft(sub, chrono::Utc::now())?)).await?;
                }
            }
            // Final refusals: kept and marked, so the person sees what did not arrive and why.
            Err(
                e @ ClientError::Api {
                    code: E::NotFound | E::Conflict | E::Validation | E::AlreadyAnswered,
                    ..
                },
            ) => {
                access.with(|s| Ok(s.outbox_failed(id, e.code())?)).await?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(sent)
}

/// Keeps the verified copy, flags the warning for Inzage and tells the server. A failure to
/// tell is logged: the warning on the device is what matters to the person.
async fn report_broken_log(
    access: &impl StoreAccess,
    client: &Client,
    token: &str,
    verified: &cjg_store::AuditState,
    batch: &cjg_core::audit::AuditBatch,
    problem: &cjg_crypto::chain::ChainError,
) {
    let cp = &batch.checkpoint.checkpoint;
    let warning = cjg_store::AuditWarning {
        at: chrono::Utc::now(),
        problem: problem.problem(),
        verified_size: verified.size,
        received_size: cp.size,
        received_head: cp.head.clone(),
        times: 1,
        dismissed_at: None,
    };
    if let Err(e) = access.with(|s| Ok(s.flag_audit_warning(warning)?)).await {
        tracing::error!(code = e.code(), "could not record the audit warning");
    }
    let alert = AuditAlert {
        verified_size: verified.size,
        verified_head: verified.head.clone(),
        received_size: cp.size,
        received_head: cp.head.clone(),
    };
    if let Err(e) = client.audit_alert(token, &alert).await {
        tracing::warn!(code = e.code(), "could not report the broken audit log");
    }
}

#[cfg(feature = "fault-injection")]
fn apply(store: &mut Store, page: &SyncPage, cursor: i64, index: usize, options: &SyncOptions) -> Result<()> {
    match options.fail_in_page {
        Some((i, after)) if i == index => Ok(store.apply_page_failing_after(page, cursor, after)?),
        _ => Ok(store.apply_page(page, cursor)?),
    }
}

#[cfg(not(feature = "fault-injection"))]
fn apply(
    store: &mut Store,
    page: &SyncPage,
    cursor: i64,
    _index: usize,
    _options: &SyncOptions,
) -> Result<()> {
    Ok(store.apply_page(page, cursor)?)
}
