//! The sync engine: enrols a device, gets tokens by proving possession of the device key, and
//! pulls pages into the encrypted store. Used by the desktop app, the tests and the benchmarks.

pub mod accounts;
pub mod app;
mod error;
pub mod export;
mod loopback;
pub mod pin;
pub mod push;
pub mod secret;
pub mod settings;
pub mod staff;
mod sync;

use std::path::Path;
use std::time::Duration;

use cjg_core::api::{
    token_signing_message, ApiError, ChallengeRequest, ChallengeResponse, ConsentRequest, DeviceInfo,
    EnrolRequest, EnrolResponse, Health, PinEvaluation, PinKeyRequest, PinTryRequest, SyncPage, TokenRequest,
    TokenResponse, SYNC_PAGE_MAX_BYTES,
};
use cjg_core::audit::AuditAlert;
use cjg_core::feedback::{Feedback, FeedbackDraft};
use cjg_core::questionnaire::{QuestionnaireTask, Submission};
use cjg_core::validate::{ActivationCode, Pin};
use cjg_crypto::{DeviceKey, SECRET_LEN};
use cjg_store::{PinMode, PinSecrets, Profile, Store};
use reqwest::header::CONTENT_LENGTH;
use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;

pub use error::{ClientError, Result, UiCode, UiError};
pub use sync::{flush_outbox, sync, sync_via, Progress, Session, StoreAccess, SyncOptions, TokenCache};

/// Checks and normalises what a person typed as the server address.
pub fn parse_server_url(input: &str) -> Result<reqwest::Url> {
    let trimmed = input.trim().trim_end_matches('/');
    let url = reqwest::Url::parse(trimmed).map_err(|_| ClientError::InvalidServerUrl)?;
    let ok = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some()
        && url.query().is_none()
        && url.username().is_empty()
        && url.password().is_none();
    if !ok {
        return Err(ClientError::InvalidServerUrl);
    }
    // The dossier and the device's tokens cross this connection: plain HTTP only where it
    // never leaves the machine (development, tests, the demo).
    if url.scheme() == "http" && !is_loopback(&url) {
        return Err(ClientError::InsecureServerUrl);
    }
    Ok(url)
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else { return false };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Certificate authorities trusted besides the built-in ones (an organisation's own, or the
/// tests' own); set once at start from `CJG_CA_FILE`.
static EXTRA_ROOTS: std::sync::OnceLock<Vec<reqwest::Certificate>> = std::sync::OnceLock::new();

/// Trusts the certificate authorities in `pem` (one or more certificates) for every server
/// connection this process makes from now on. Only the first call counts.
pub fn trust_extra_ca(pem: &[u8]) -> Result<()> {
    let certs = reqwest::Certificate::from_pem_bundle(pem)
        .map_err(|e| ClientError::InvalidResponse(format!("not a PEM certificate bundle: {e}")))?;
    if certs.is_empty() {
        return Err(ClientError::InvalidResponse("no certificate in the bundle".into()));
    }
    let _ = EXTRA_ROOTS.set(certs);
    Ok(())
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
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .https_only(!base.starts_with("http://"));
        for root in EXTRA_ROOTS.get().into_iter().flatten() {
            builder = builder.add_root_certificate(root.clone());
        }
        let http = builder.build().map_err(|e| ClientError::Unreachable(e.to_string()))?;
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
        self.send_with_headers(req, max_bytes).await.map(|(_, body)| body)
    }

    /// Every page of a paged staff list: follows `X-Cjg-Next-Offset` until the last page; each
    /// answer at most `max_bytes`.
    async fn send_all_pages<T: DeserializeOwned>(
        &self,
        url: &str,
        token: &str,
        max_bytes: usize,
    ) -> Result<Vec<T>> {
        let mut items = Vec::new();
        let mut offset = 0u32;
        loop {
            let req = self.http.get(url).query(&[("offset", offset)]).bearer_auth(token);
            let (headers, body) = self.send_with_headers(req, max_bytes).await?;
            let page: Vec<T> = serde_json::from_slice(&body)
                .map_err(|e| ClientError::InvalidResponse(format!("undecodable body: {e}")))?;
            items.extend(page);
            let next = headers
                .get(cjg_core::api::NEXT_OFFSET_HEADER)
                .map(|v| v.to_str().ok().and_then(|v| v.parse::<u32>().ok()).filter(|next| *next > offset));
            match next {
                None => return Ok(items),
                Some(Some(next)) => offset = next,
                Some(None) => {
                    return Err(ClientError::InvalidResponse("the next page does not move on".into()))
                }
            }
        }
    }

    async fn send_with_headers(
        &self,
        req: reqwest::RequestBuilder,
        max_bytes: usize,
    ) -> Result<(reqwest::header::HeaderMap, Vec<u8>)> {
        let resp = req.send().await.map_err(|e| ClientError::Unreachable(without_url(e)))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = read_body(resp, max_bytes).await?;
        if !status.is_success() {
            return Err(error_answer(status, &body));
        }
        Ok((headers, body))
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
        match self.token_once(device_id, device).await {
            // A challenge can go stale on the way (a slow network, an answer a proxy served
            // twice): one fresh challenge, rather than a failed sync.
            Err(ClientError::Api { code: cjg_core::ErrorCode::ChallengeInvalid, .. }) => {
                self.token_once(device_id, device).await
            }
            other => other,
        }
    }

    async fn token_once(&self, device_id: Uuid, device: &DeviceKey) -> Result<TokenResponse> {
        let ChallengeResponse { challenge } =
            self.post("/v1/auth/challenge", &ChallengeRequest { device_id }).await?;
        let signature = cjg_crypto::b64(&device.sign(&token_signing_message(device_id, &challenge)));
        self.post("/v1/auth/token", &TokenRequest { device_id, challenge, signature }).await
    }

    /// The server's step of the PIN's OPRF for the signed-in device (set-up, PIN change).
    pub async fn pin_key(&self, token: &str, req: &PinKeyRequest) -> Result<PinEvaluation> {
        let req = self.http.post(format!("{}/v1/me/pin-key", self.base)).bearer_auth(token).json(req);
        self.send(req, SMALL_RESPONSE).await
    }

    /// Tells the server which PIN tries were this app's own, after its PIN opened the store.
    pub async fn pin_ok(&self, token: &str, own_tries: u32) -> Result<()> {
        let body = cjg_core::api::PinOkRequest { own_tries };
        let req = self.http.post(format!("{}/v1/me/pin-ok", self.base)).bearer_auth(token).json(&body);
        self.send_raw(req, SMALL_RESPONSE).await.map(drop)
    }

    /// One counted PIN try of a locked app.
    pub async fn pin_try(&self, req: &PinTryRequest) -> Result<PinEvaluation> {
        self.post("/v1/pin/try", req).await
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

    /// One month's randomized report of what the person used (only when they chose to share).
    pub async fn share_usage(&self, token: &str, share: &cjg_core::usage::UsageShare) -> Result<()> {
        let req = self.http.post(format!("{}/v1/me/usage", self.base)).bearer_auth(token).json(share);
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
        audit: Option<(u32, bool)>,
        limit: Option<u32>,
    ) -> Result<SyncPage> {
        let mut url = format!("{}/v1/sync?cursor={cursor}", self.base);
        if let Some((from, full)) = audit {
            url.push_str(&format!("&audit_from={from}"));
            if full {
                url.push_str("&audit_full=true");
            }
        }
        if let Some(l) = limit {
            url.push_str(&format!("&limit={l}"));
        }
        self.send(self.http.get(url).bearer_auth(token), SYNC_PAGE_MAX_BYTES).await
    }
}

const SMALL_RESPONSE: usize = 64 * 1024;

/// The body of an answer, at most `max_bytes` of it (a larger one is refused, not cut).
async fn read_body(mut resp: reqwest::Response, max_bytes: usize) -> Result<Vec<u8>> {
    if let Some(len) = resp.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
    {
        if len > max_bytes {
            return Err(ClientError::PageTooLarge(max_bytes));
        }
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| ClientError::Unreachable(without_url(e)))? {
        if body.len() + chunk.len() > max_bytes {
            return Err(ClientError::PageTooLarge(max_bytes));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// What an error answer says: its stable code, or that it had none.
fn error_answer(status: reqwest::StatusCode, body: &[u8]) -> ClientError {
    match serde_json::from_slice::<ApiError>(body) {
        Ok(e) => ClientError::Api { code: e.error.code, status: status.as_u16() },
        Err(_) => ClientError::InvalidResponse(format!("HTTP {status} without an error body")),
    }
}

/// reqwest's messages include the URL; keep them short and free of query strings.
fn without_url(e: reqwest::Error) -> String {
    e.without_url().to_string()
}

/// Enrols this device and creates its encrypted store. The store is created only after the
/// server accepted the code, and in a temporary file renamed into place, so a failure at any
/// step leaves no half-made store behind. `mode` follows where the device secret lives: in
/// [`PinMode::Server`] the PIN's server part is set up before the store is made.
pub async fn enrol(
    server_url: &str,
    code: &str,
    pin: &Pin,
    device_secret: &[u8; SECRET_LEN],
    mode: PinMode,
    store_path: &Path,
    device_name: &str,
) -> Result<Store> {
    let code = ActivationCode::parse(code)?;
    let client = Client::new(server_url)?;
    let device = DeviceKey::generate()?;
    let enrolled = client.enrol(&code, &device, device_name).await?;
    let audit_key = audit_key(&enrolled.audit_key)?;
    let secrets = match mode {
        PinMode::Server => {
            let token = client.token(enrolled.device_id, &device).await?;
            pin::set_up(&client, &token, pin, device_secret).await?
        }
        other => PinSecrets::new(other, device_secret, None)?,
    };
    let profile = Profile {
        server_url: client.base_url().to_owned(),
        device_id: enrolled.device_id,
        person_id: enrolled.person_id,
        display_name: enrolled.display_name,
    };
    let mut store = Store::create(store_path, pin, &secrets, mode, &profile, &device)?;
    store.pin_audit_key(&audit_key)?;
    Ok(store)
}

fn audit_key(b64: &str) -> Result<Vec<u8>> {
    cjg_crypto::unb64(b64)
        .filter(|k| k.len() == 32)
        .ok_or_else(|| ClientError::InvalidResponse("the audit key is not 32 bytes of base64url".into()))
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
        for local in ["http://localhost:8470", "http://[::1]:8470", "http://127.8.0.1"] {
            assert!(parse_server_url(local).is_ok(), "{local}");
        }
        for plain in [
            "http://cjg.example",
            "http://192.0.2.7:8470",
            "http://[2001:db8::1]",
            "http://localhost.evil.example",
        ] {
            assert!(matches!(parse_server_url(plain), Err(ClientError::InsecureServerUrl)), "{plain}");
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
