//! The sync engine: enrols a device, gets tokens by proving possession of the device key, and
//! pulls pages into the encrypted store. Used by the desktop app, the tests and the benchmarks.

pub mod accounts;
pub mod app;
mod error;
pub mod export;
pub mod secret;
pub mod staff;

use std::path::Path;
use std::time::Duration;

use cjg_core::api::{
    token_signing_message, ApiError, ChallengeRequest, ChallengeResponse, ConsentRequest, DeviceInfo,
    EnrolRequest, EnrolResponse, Health, SyncPage, TokenRequest, TokenResponse, SYNC_PAGE_MAX_BYTES,
};
use cjg_core::audit::AuditAlert;
use cjg_core::feedback::{Feedback, FeedbackDraft};
use cjg_core::questionnaire::{QuestionnaireTask, Submission};
use cjg_core::validate::{ActivationCode, Pin};
use cjg_crypto::{DeviceKey, SECRET_LEN};
use cjg_store::{OutboxItem, Profile, Store};
use reqwest::header::CONTENT_LENGTH;
use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;

pub use error::{ClientError, Result, UiError};

/// Checks and normalises what a person typed as the server address.
pub fn parse_server_url(input: &str) -> Result<reqwest::Url> {
    let trimmed = input.trim().trim_end_matches('/');
    let url = reqwest::Url::parse(trimmed).map_err(|_| ClientError::InvalidServerUrl)?;
    let ok = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some()
        && url.query().is_none()
        && url.username().is_empty()
        && url.password().is_none();
    if ok {
        Ok(url)
    } else {
        Err(ClientError::InvalidServerUrl)
    }
}

/// An HTTP client for one server.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    pub fn new(server_url: &str) -> Result<Self> {
        let base = parse_server_url(server_url)?.to_string().trim_end_matches('/').to_owned();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| ClientError::Unreachable(e.to_string()))?;
        Ok(Self { http, base })
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    async fn send<T: DeserializeOwned>(&self, req: reqwest::RequestBuilder, max_bytes: usize) -> Result<T> {
        let body = self.send_raw(req, max_bytes).await?;
        serde_json::from_slice(&body)
            .map_err(|e| ClientError::InvalidResponse(format!("undecodable body: {e}")))
    }

    /// Sends and reads at most `max_bytes` of the answer; an error answer becomes its code.
    async fn send_raw(&self, req: reqwest::RequestBuilder, max_bytes: usize) -> Result<Vec<u8>> {
        let mut resp = req.send().await.map_err(|e| ClientError::Unreachable(without_url(e)))?;
        if let Some(len) =
            resp.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        {
            if len > max_bytes {
                return Err(ClientError::PageTooLarge(max_bytes));
            }
        }
        let status = resp.status();
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| ClientError::Unreachable(without_url(e)))? {
            if body.len() + chunk.len() > max_bytes {
                return Err(ClientError::PageTooLarge(max_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            return match serde_json::from_slice::<ApiError>(&body) {
                Ok(e) => Err(ClientError::Api { code: e.error.code, status: status.as_u16() }),
                Err(_) => Err(ClientError::InvalidResponse(format!("HTTP {status} without an error body"))),
            };
        }
        Ok(body)
    }

    async fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        self.send(self.http.post(format!("{}{path}", self.base)).json(body), SMALL_RESPONSE).await
    }

    pub async fn health(&self) -> Result<Health> {
        self.send(self.http.get(format!("{}/v1/health", self.base)), SMALL_RESPONSE).await
    }

    pub async fn enrol(
        &self,
        code: &ActivationCode,
        device: &DeviceKey,
        device_name: &str,
    ) -> Result<EnrolResponse> {
        let req = EnrolRequest {
            activation_code: code.canonical().to_owned(),
            device_public_key: cjg_crypto::b64(&device.public_key()),
            device_name: device_name.to_owned(),
        };
        self.post("/v1/enrol", &req).await
    }

    /// A short-lived token, got by signing a fresh server challenge with the device key.
    pub async fn token(&self, device_id: Uuid, device: &DeviceKey) -> Result<String> {
        Ok(self.token_until(device_id, device).await?.token)
    }

    /// A token and the moment the server lets it expire.
    pub async fn token_until(&self, device_id: Uuid, device: &DeviceKey) -> Result<TokenResponse> {
        let ChallengeResponse { challenge } =
            self.post("/v1/auth/challenge", &ChallengeRequest { device_id }).await?;
        let signature = cjg_crypto::b64(&device.sign(&token_signing_message(device_id, &challenge)));
        self.post("/v1/auth/token", &TokenRequest { device_id, challenge, signature }).await
    }

    pub async fn devices(&self, token: &str) -> Result<Vec<DeviceInfo>> {
        self.send(self.http.get(format!("{}/v1/me/devices", self.base)).bearer_auth(token), SMALL_RESPONSE)
            .await
    }

    pub async fn revoke_device(&self, token: &str, device_id: Uuid) -> Result<()> {
        let req = self.http.delete(format!("{}/v1/me/devices/{device_id}", self.base)).bearer_auth(token);
        self.send_raw(req, SMALL_RESPONSE).await.map(drop)
    }

    pub async fn set_consent(&self, token: &str, shares_with_parents: bool) -> Result<()> {
        let req = self
            .http
            .put(format!("{}/v1/me/consent", self.base))
            .bearer_auth(token)
            .json(&ConsentRequest { shares_with_parents });
        self.send_raw(req, SMALL_RESPONSE).await.map(drop)
    }

    /// Sends one outbox item; the server answers with what it stored (also for a repeat).
    pub async fn submit_feedback(&self, token: &str, draft: &FeedbackDraft) -> Result<Feedback> {
        let req = self.http.post(format!("{}/v1/me/feedback", self.base)).bearer_auth(token).json(draft);
        self.send(req, SMALL_RESPONSE).await
    }

    pub async fn submit_questionnaire(&self, token: &str, sub: &Submission) -> Result<QuestionnaireTask> {
        let req = self.http.post(format!("{}/v1/me/questionnaires", self.base)).bearer_auth(token).json(sub);
        self.send(req, SMALL_RESPONSE).await
    }

    pub async fn mark_tip_read(&self, token: &str, tip_id: Uuid) -> Result<cjg_core::article::ReadingTip> {
        let req = self.http.post(format!("{}/v1/me/tips/{tip_id}/read", self.base)).bearer_auth(token);
        self.send(req, SMALL_RESPONSE).await
    }

    pub async fn send_message(
        &self,
        token: &str,
        m: &cjg_core::message::MessageDraft,
    ) -> Result<cjg_core::message::Message> {
        let req = self.http.post(format!("{}/v1/me/messages", self.base)).bearer_auth(token).json(m);
        self.send(req, SMALL_RESPONSE).await
    }

    pub async fn messages_read(&self, token: &str, ids: &[Uuid]) -> Result<()> {
        let body = cjg_core::message::ReadReceipt { message_ids: ids.to_vec() };
        let req = self.http.post(format!("{}/v1/me/messages/read", self.base)).bearer_auth(token).json(&body);
        self.send_raw(req, SMALL_RESPONSE).await.map(|_| ())
    }

    /// Tells the server that the log it sent does not extend the verified one.
    pub async fn audit_alert(&self, token: &str, alert: &AuditAlert) -> Result<()> {
        let req = self.http.post(format!("{}/v1/me/audit-alerts", self.base)).bearer_auth(token).json(alert);
        self.send_raw(req, SMALL_RESPONSE).await.map(drop)
    }

    pub async fn pull_page(
        &self,
        token: &str,
        cursor: i64,
        audit_from: Option<u32>,
        limit: Option<u32>,
    ) -> Result<SyncPage> {
        let mut url = format!("{}/v1/sync?cursor={cursor}", self.base);
        if let Some(from) = audit_from {
            url.push_str(&format!("&audit_from={from}"));
        }
        if let Some(l) = limit {
            url.push_str(&format!("&limit={l}"));
        }
        self.send(self.http.get(url).bearer_auth(token), SYNC_PAGE_MAX_BYTES).await
    }
}

const SMALL_RESPONSE: usize = 64 * 1024;

/// reqwest's messages include the URL; keep them short and free of query strings.
fn without_url(e: reqwest::Error) -> String {
    e.without_url().to_string()
}

/// Enrols this device and creates its encrypted store. The store is created only after the
/// server accepted the code, and in a temporary file renamed into place, so a failure at any
/// step leaves no half-made store behind.
pub async fn enrol(
    server_url: &str,
    code: &str,
    pin: &Pin,
    device_secret: &[u8; SECRET_LEN],
    store_path: &Path,
    device_name: &str,
) -> Result<Store> {
    let code = ActivationCode::parse(code)?;
    let client = Client::new(server_url)?;
    let device = DeviceKey::generate()?;
    let enrolled = client.enrol(&code, &device, device_name).await?;
    let audit_key = audit_key(&enrolled.audit_key)?;
    let profile = Profile {
        server_url: client.base_url().to_owned(),
        device_id: enrolled.device_id,
        person_id: enrolled.person_id,
        display_name: enrolled.display_name,
    };
    let mut store = Store::create(store_path, pin, device_secret, &profile, &device)?;
    store.pin_audit_key(&audit_key)?;
    Ok(store)
}

fn audit_key(b64: &str) -> Result<Vec<u8>> {
    cjg_crypto::unb64(b64)
        .filter(|k| k.len() == 32)
        .ok_or_else(|| ClientError::InvalidResponse("the audit key is not 32 bytes of base64url".into()))
}

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
    /// Make the given page (0-based) fail after this many items, inside its transaction.
    #[cfg(feature = "fault-injection")]
    pub fail_in_page: Option<(usize, usize)>,
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
/// device is refused at once.
#[derive(Default)]
pub struct TokenCache(Option<(String, std::time::Instant)>);

impl TokenCache {
    /// Stop using a token this long before the server's expiry (clocks differ a little).
    const MARGIN: Duration = Duration::from_secs(60);

    /// A token, and whether it is one used before.
    async fn get(&mut self, session: &Session) -> Result<(String, bool)> {
        if let Some((token, until)) = &self.0 {
            if std::time::Instant::now() < *until {
                return Ok((token.clone(), true));
            }
        }
        let fresh = session.client.token_until(session.device_id, &session.device).await?;
        let left = (fresh.expires_at - chrono::Utc::now()).to_std().unwrap_or_default();
        self.0 = Some((fresh.token.clone(), std::time::Instant::now() + left.saturating_sub(Self::MARGIN)));
        Ok((fresh.token, false))
    }

    pub fn forget(&mut self) {
        self.0 = None;
    }
}

/// Pulls every page after the store's cursor. Each page lands in one transaction; the cursor
/// moves only with it. An error stops the sync with everything before it safely stored.
pub async fn sync(
    store: &mut Store,
    options: &SyncOptions,
    progress: impl FnMut(Progress),
) -> Result<Progress> {
    sync_with(store, options, &mut TokenCache::default(), progress).await
}

/// `sync`, with a token from `tokens` when it holds a live one. A kept token the server no
/// longer knows (it restarted on a new database, say) is dropped and the sync runs once more
/// with a fresh one; that is safe because a sync resumes from its cursor and the server knows
/// a resent item by its id.
pub async fn sync_with(
    store: &mut Store,
    options: &SyncOptions,
    tokens: &mut TokenCache,
    mut progress: impl FnMut(Progress),
) -> Result<Progress> {
    let session = Session::of(store)?;
    let (token, reused) = tokens.get(&session).await?;
    let result = sync_once(store, options, &session.client, &token, &mut progress).await;
    match result {
        Err(ClientError::Api { code: cjg_core::ErrorCode::Unauthenticated, .. }) => {
            tokens.forget();
            if !reused {
                return result;
            }
            let (token, _) = tokens.get(&session).await?;
            sync_once(store, options, &session.client, &token, &mut progress).await
        }
        result => result,
    }
}

async fn sync_once(
    store: &mut Store,
    options: &SyncOptions,
    client: &Client,
    token: &str,
    progress: &mut impl FnMut(Progress),
) -> Result<Progress> {
    if store.audit_key()?.is_none() {
        // Enrolled before the access log was chained: trust the key of the first contact.
        let key = audit_key(&client.health().await?.audit_key)?;
        store.pin_audit_key(&key)?;
    }
    flush_outbox(store, client, token).await?;
    let mut p = Progress::default();
    // The server rebuilds the whole chain for every audit batch (that is how an altered old line
    // shows), so the log is asked for until this sync has caught up with it, not on every page.
    let mut audit_open = true;
    loop {
        let cursor = store.cursor()?;
        let audit = store.audit_state()?;
        let page =
            client.pull_page(token, cursor, audit_open.then_some(audit.size), options.page_limit).await?;
        if let Some(batch) = &page.audit {
            audit_open = batch.events.len() >= cjg_core::api::AUDIT_PAGE_MAX;
        }
        if let Err(e) = apply(store, &page, cursor, p.pages, options) {
            if let (ClientError::Store(cjg_store::StoreError::AuditChain(_)), Some(batch)) = (&e, &page.audit)
            {
                report_broken_log(store, client, token, &audit, batch).await;
            }
            return Err(e);
        }
        p.pages += 1;
        p.items += page.items.len();
        // A server that says "more" but moves neither cursor would loop forever.
        let moved = page.next_cursor != cursor || store.audit_state()?.size != audit.size;
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
pub async fn flush_outbox(store: &mut Store, client: &Client, token: &str) -> Result<usize> {
    use cjg_core::ErrorCode as E;
    let mut sent = 0;
    for out in store.outbox()? {
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
                store.outbox_sent(id)?;
                sent += 1;
            }
            Err(ClientError::Api { code: E::QuestionnaireOutdated, .. }) => {
                if let OutboxItem::Questionnaire(sub) = &out.item {
                    store.return_to_draft(sub, chrono::Utc::now())?;
                }
            }
            // Final refusals: kept and marked, so the person sees what did not arrive and why.
            Err(
                e @ ClientError::Api {
                    code: E::NotFound | E::Conflict | E::Validation | E::AlreadyAnswered,
                    ..
                },
            ) => {
                store.outbox_failed(id, e.code())?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(sent)
}

/// Keeps the verified copy, flags the warning for Inzage and tells the server. A failure to
/// tell is logged: the warning on the device is what matters to the person.
async fn report_broken_log(
    store: &mut Store,
    client: &Client,
    token: &str,
    verified: &cjg_store::AuditState,
    batch: &cjg_core::audit::AuditBatch,
) {
    let cp = &batch.checkpoint.checkpoint;
    let warning = cjg_store::AuditWarning {
        at: chrono::Utc::now(),
        received_size: cp.size,
        received_head: cp.head.clone(),
    };
    if let Err(e) = store.flag_audit_warning(warning) {
        tracing::error!(error = %e, "could not record the audit warning");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_are_checked() {
        assert!(parse_server_url("http://127.0.0.1:8470").is_ok());
        assert!(parse_server_url(" https://cjg.example/ ").is_ok());
        for bad in ["", "127.0.0.1:8470", "ftp://x", "http://", "http://u:p@host", "javascript:alert(1)"] {
            assert!(parse_server_url(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn an_unreachable_server_is_a_clear_error() {
        // Port 9 (discard) on loopback: nothing listens there in a test environment.
        let c = Client::new("http://127.0.0.1:9").expect("valid url");
        let e = c.health().await.expect_err("no server");
        assert_eq!(e.code(), "server_unreachable");
    }
}
