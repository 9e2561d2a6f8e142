//! Staff sign-in with the organisation's own account: OpenID Connect, authorization code flow
//! with PKCE. The server is the relying party (a confidential client): it keeps the client
//! secret and the provider's refresh token, checks the ID token, and hands the app only a Mijn
//! CJG staff token, which it can end at once. The app opens the provider's page in the system
//! browser and receives a one-time handoff on its own loopback address (RFC 8252).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine;
use cjg_core::oidc::{RoleMap, RoleMapping};
use cjg_core::staff::StaffRole;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreErrorResponseType, CoreIdToken, CoreIdTokenVerifier,
    CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, LogoutRequest, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl,
    ProviderMetadataWithLogout, RedirectUrl, RefreshToken, RequestTokenError, Scope, StandardErrorResponse,
    TokenResponse,
};
use serde::Deserialize;

use crate::client_assertion::{self, AssertionKey};

/// How long the provider's published configuration and keys are used before they are fetched
/// again (a provider rotating its keys is seen within this time).
const METADATA_TTL: Duration = Duration::from_secs(600);
/// After the provider did not answer, requests do not ask it again for this long: a provider
/// that is down is not hammered by every staff request, and none waits for its timeout.
const BACKOFF: Duration = Duration::from_secs(15);
/// How long a started sign-in may take at the provider, and a handoff waits for the app.
pub const FLOW_MINUTES: i64 = 10;

/// The configuration file (`--oidc-config`, TOML).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    issuer: String,
    client_id: String,
    /// A file holding the client secret (not the secret itself: configuration files get copied
    /// into tickets). `CJG_OIDC_CLIENT_SECRET` works too.
    client_secret_file: Option<PathBuf>,
    /// Instead of a secret: the server's private key (PKCS#8 PEM, EC P-256 or RSA) for
    /// `private_key_jwt`; the provider gets the public key from `GET /v1/staff/oidc/jwks`.
    private_key_file: Option<PathBuf>,
    /// This server's callback as registered at the provider:
    /// `https://<server>/v1/staff/oidc/callback`.
    redirect_url: String,
    /// Where the browser lands after signing out at the provider (registered there too).
    post_logout_redirect_url: Option<String>,
    #[serde(default = "default_groups_claim")]
    groups_claim: String,
    /// Minutes between checks of a staff session with the provider (its refresh token): a
    /// disabled account or an ended session loses access within this time.
    #[serde(default = "default_recheck_minutes")]
    recheck_minutes: u32,
    /// Username, password and second factor next to the organisation's sign-in.
    #[serde(default = "default_true")]
    built_in_accounts: bool,
    /// Asks for `offline_access`, for providers that give a refresh token only then (Microsoft
    /// Entra ID). Such a token outlives the provider's session: a sign-out there no longer
    /// ends access here, only a disabled account or revoked tokens do. Off by default.
    #[serde(default)]
    offline_access: bool,
    #[serde(default)]
    roles: Vec<RoleMapping>,
}

fn default_groups_claim() -> String {
    "groups".into()
}
fn default_recheck_minutes() -> u32 {
    5
}
fn default_true() -> bool {
    true
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("{0}: {1}")]
    Parse(PathBuf, String),
    #[error("{0}: {1}")]
    Invalid(PathBuf, &'static str),
    #[error("{0}: {1}")]
    Key(PathBuf, crate::client_assertion::KeyError),
}

/// How the server proves itself at the provider's token endpoint.
#[derive(Clone)]
pub enum ClientCredential {
    Secret(ClientSecret),
    PrivateKey(std::sync::Arc<AssertionKey>),
}

/// The checked configuration of the organisation's identity provider.
#[derive(Clone)]
pub struct OidcConfig {
    pub issuer: IssuerUrl,
    pub client_id: ClientId,
    pub credential: ClientCredential,
    pub redirect_url: RedirectUrl,
    pub post_logout_redirect_url: Option<PostLogoutRedirectUrl>,
    pub groups_claim: String,
    pub recheck: chrono::Duration,
    pub built_in_accounts: bool,
    pub offline_access: bool,
    pub roles: RoleMap,
}

impl std::fmt::Debug for OidcConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcConfig")
            .field("issuer", &self.issuer.as_str())
            .field("client_id", &self.client_id.as_str())
            .finish_non_exhaustive()
    }
}

impl OidcConfig {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read(path.into(), e))?;
        let file: ConfigFile =
            toml::from_str(&text).map_err(|e| ConfigError::Parse(path.into(), e.to_string()))?;
        let invalid = |why| ConfigError::Invalid(path.into(), why);
        let secret = match (&file.client_secret_file, std::env::var("CJG_OIDC_CLIENT_SECRET")) {
            (Some(f), _) => Some(
                std::fs::read_to_string(f).map_err(|e| ConfigError::Read(f.clone(), e))?.trim().to_owned(),
            ),
            (None, Ok(s)) => Some(s.trim().to_owned()),
            (None, Err(_)) => None,
        };
        let credential = match (secret, &file.private_key_file) {
            (Some(_), Some(_)) => return Err(invalid("give a client secret or private_key_file, not both")),
            (Some(s), None) if s.is_empty() => return Err(invalid("the client secret is empty")),
            (Some(s), None) => ClientCredential::Secret(ClientSecret::new(s)),
            (None, Some(key)) => ClientCredential::PrivateKey(std::sync::Arc::new(
                AssertionKey::load(key).map_err(|e| ConfigError::Key(key.clone(), e))?,
            )),
            (None, None) => {
                return Err(invalid(
                    "client_secret_file, CJG_OIDC_CLIENT_SECRET or private_key_file is needed",
                ))
            }
        };
        if file.roles.is_empty() {
            return Err(invalid("[[roles]] maps no group to a role: nobody could sign in"));
        }
        if !(1..=60).contains(&file.recheck_minutes) {
            return Err(invalid("recheck_minutes must be 1 to 60"));
        }
        Ok(Self {
            issuer: IssuerUrl::new(file.issuer).map_err(|_| invalid("issuer is not a URL"))?,
            client_id: ClientId::new(file.client_id),
            credential,
            redirect_url: RedirectUrl::new(file.redirect_url)
                .map_err(|_| invalid("redirect_url is not a URL"))?,
            post_logout_redirect_url: file
                .post_logout_redirect_url
                .map(PostLogoutRedirectUrl::new)
                .transpose()
                .map_err(|_| invalid("post_logout_redirect_url is not a URL"))?,
            groups_claim: file.groups_claim,
            recheck: chrono::Duration::minutes(i64::from(file.recheck_minutes)),
            built_in_accounts: file.built_in_accounts,
            offline_access: file.offline_access,
            roles: RoleMap(file.roles),
        })
    }
}

/// Why a sign-in or a session check at the provider did not go through.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("the identity provider could not be reached: {0}")]
    Unreachable(String),
    /// The provider said no (a refused code, an ended session, a disabled account).
    #[error("the identity provider refused: {0}")]
    Refused(String),
    /// The provider's answer did not check out (signature, issuer, audience, nonce, expiry).
    #[error("the ID token did not check out: {0}")]
    Invalid(String),
}

/// Who signed in, from a checked ID token.
#[derive(Debug, Clone)]
pub struct Identity {
    pub subject: String,
    pub name: Option<String>,
    pub username: Option<String>,
    pub groups: Vec<String>,
}

impl Identity {
    /// The name families see in Inzage: the provider's name, else the username, else the
    /// subject (checked printable ASCII, cut to the length of a name).
    pub fn display_name(&self) -> String {
        self.name
            .clone()
            .or_else(|| self.username.clone())
            .unwrap_or_else(|| self.subject.chars().take(100).collect())
    }
}

/// What the provider gave for a code: who, and what keeps the session checkable.
#[derive(Clone)]
pub struct SignedIn {
    pub identity: Identity,
    pub id_token: String,
    pub refresh_token: Option<String>,
}

/// Tokens stay out of logs.
impl std::fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedIn").field("identity", &self.identity).finish_non_exhaustive()
    }
}

/// The answer to a session check: the refresh token to keep (a provider may rotate it), and
/// who the provider says it is now, when it sent a new ID token.
pub struct Rechecked {
    pub refresh_token: String,
    pub identity: Option<Identity>,
}

#[derive(Default)]
struct Cache {
    metadata: Option<(Instant, ProviderMetadataWithLogout)>,
    /// When the provider last did not answer (see [`BACKOFF`]).
    failed_at: Option<Instant>,
}

/// The provider as the server talks to it.
pub struct Provider {
    pub config: OidcConfig,
    http: openidconnect::reqwest::Client,
    cache: std::sync::Mutex<Cache>,
    /// One fetch of the configuration at a time; the others wait for its result.
    fetching: tokio::sync::Mutex<()>,
}

/// Asymmetric signatures only: never `none`, never HS256 with the client secret, which would
/// let anyone who knows the secret (the provider's administrators, a leaked config) mint tokens.
fn allowed_algs() -> Vec<CoreJwsSigningAlgorithm> {
    use CoreJwsSigningAlgorithm as A;
    vec![
        A::RsaSsaPkcs1V15Sha256,
        A::RsaSsaPkcs1V15Sha384,
        A::RsaSsaPkcs1V15Sha512,
        A::RsaSsaPssSha256,
        A::RsaSsaPssSha384,
        A::RsaSsaPssSha512,
        A::EcdsaP256Sha256,
        A::EcdsaP384Sha384,
        A::EdDsa,
    ]
}

impl Provider {
    pub fn new(config: OidcConfig) -> Result<Self, OidcError> {
        let http = openidconnect::reqwest::ClientBuilder::new()
            // Following redirects would let a provider's answer send the server anywhere (SSRF).
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| OidcError::Unreachable(e.to_string()))?;
        Ok(Self { config, http, cache: std::sync::Mutex::default(), fetching: tokio::sync::Mutex::new(()) })
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        // The cache holds no invariant a panic could break halfway.
        self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Refuses at once while the provider is in [`BACKOFF`] after not answering.
    fn check_backoff(&self) -> Result<(), OidcError> {
        match self.cache().failed_at {
            Some(at) if at.elapsed() < BACKOFF => {
                Err(OidcError::Unreachable("it did not answer a moment ago".into()))
            }
            _ => Ok(()),
        }
    }

    /// The provider did not answer (a network failure, an answer that could not be read):
    /// leave it alone for [`BACKOFF`]. An error answer does not count: anyone can make the
    /// provider answer one (a made-up code at the callback), and one person's refusal must not
    /// hold up everyone's checks.
    fn note_transport<RE: std::error::Error + 'static>(&self, e: TokenError<RE>) -> TokenError<RE> {
        if !matches!(e, RequestTokenError::ServerResponse(_)) {
            self.cache().failed_at = Some(Instant::now());
        }
        e
    }

    /// The provider's configuration and keys, fetched at first use (the server starts while
    /// the provider is down) and again after [`METADATA_TTL`], or sooner with `older_than`
    /// (a key the cached set does not hold). While a new fetch fails, the old copy serves:
    /// a provider's keys outlive a short outage.
    async fn metadata(&self, older_than: Duration) -> Result<ProviderMetadataWithLogout, OidcError> {
        let fresh = |cache: &Cache| {
            cache.metadata.as_ref().filter(|(at, _)| at.elapsed() < older_than).map(|(_, m)| m.clone())
        };
        if let Some(meta) = fresh(&self.cache()) {
            return Ok(meta);
        }
        let _one = self.fetching.lock().await;
        if let Some(meta) = fresh(&self.cache()) {
            return Ok(meta);
        }
        let stale = self.cache().metadata.as_ref().map(|(_, m)| m.clone());
        if let Err(e) = self.check_backoff() {
            return stale.ok_or(e);
        }
        match ProviderMetadataWithLogout::discover_async(self.config.issuer.clone(), &self.http).await {
            Ok(meta) => {
                let mut cache = self.cache();
                cache.metadata = Some((Instant::now(), meta.clone()));
                cache.failed_at = None;
                Ok(meta)
            }
            Err(e) => {
                self.cache().failed_at = Some(Instant::now());
                stale.ok_or_else(|| OidcError::Unreachable(e.to_string()))
            }
        }
    }

    async fn client(
        &self,
    ) -> Result<
        (
            ProviderMetadataWithLogout,
            CoreClient<
                openidconnect::EndpointSet,
                openidconnect::EndpointNotSet,
                openidconnect::EndpointNotSet,
                openidconnect::EndpointNotSet,
                openidconnect::EndpointMaybeSet,
                openidconnect::EndpointMaybeSet,
            >,
        ),
        OidcError,
    > {
        let meta = self.metadata(METADATA_TTL).await?;
        let secret = match &self.config.credential {
            ClientCredential::Secret(s) => Some(s.clone()),
            ClientCredential::PrivateKey(_) => None,
        };
        let client = CoreClient::from_provider_metadata(meta.clone(), self.config.client_id.clone(), secret)
            .set_redirect_uri(self.config.redirect_url.clone());
        Ok((meta, client))
    }

    fn verifier(&self, keys: CoreJsonWebKeySet) -> CoreIdTokenVerifier<'static> {
        id_token_verifier(&self.config.client_id, &self.config.issuer, keys)
    }

    /// The provider's sign-in page for this flow. A new PKCE pair: the verifier is the caller's
    /// to keep (server side) until the code comes back.
    pub async fn authorize_url(&self, state: &str, nonce: &str) -> Result<(String, String), OidcError> {
        let (_, client) = self.client().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let state = state.to_owned();
        let nonce = nonce.to_owned();
        let (url, _, _) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                move || CsrfToken::new(state),
                move || Nonce::new(nonce),
            )
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("groups".into()))
            // No `offline_access` unless configured: a refresh token that outlives the
            // provider's session would keep a signed-out or departed colleague in; without it
            // the refresh ends with the session there.
            .add_scopes(self.config.offline_access.then(|| Scope::new("offline_access".into())))
            .set_pkce_challenge(challenge)
            .url();
        Ok((url.to_string(), verifier.secret().clone()))
    }

    /// Trades the code for tokens at the provider (with the client secret and the PKCE
    /// verifier) and checks the ID token: signature with the provider's keys, issuer, audience,
    /// expiry, nonce.
    pub async fn redeem(&self, code: &str, pkce_verifier: &str, nonce: &str) -> Result<SignedIn, OidcError> {
        let (meta, client) = self.client().await?;
        let assertion = self.assertion(&meta)?;
        let mut request = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| OidcError::Invalid(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()));
        if let Some(assertion) = assertion {
            request = request
                .add_extra_param("client_assertion_type", client_assertion::ASSERTION_TYPE)
                .add_extra_param("client_assertion", assertion);
        }
        let answer =
            request.request_async(&self.http).await.map_err(|e| redeem_error(self.note_transport(e)))?;
        let id_token =
            answer.id_token().ok_or_else(|| OidcError::Invalid("no ID token in the answer".into()))?;
        let nonce = Nonce::new(nonce.to_owned());
        let identity = self.check_with_current_keys(id_token, meta, &nonce).await?;
        Ok(SignedIn {
            identity,
            id_token: id_token.to_string(),
            refresh_token: answer.refresh_token().map(|t| t.secret().clone()),
        })
    }

    /// With `private_key_jwt`: a fresh assertion for the provider's token endpoint.
    fn assertion(&self, meta: &ProviderMetadataWithLogout) -> Result<Option<String>, OidcError> {
        let ClientCredential::PrivateKey(key) = &self.config.credential else { return Ok(None) };
        let audience = meta
            .token_endpoint()
            .ok_or_else(|| OidcError::Unreachable("it names no token endpoint".into()))?;
        let now = chrono::Utc::now().timestamp();
        key.assertion(self.config.client_id.as_str(), audience.as_str(), now)
            .map(Some)
            .map_err(|e| OidcError::Unreachable(e.to_string()))
    }

    /// Checks an ID token with the cached keys, and once more with freshly fetched ones when
    /// that fails: a provider that rotated its keys is followed at once, not after the cache
    /// time. The refetch is rate-limited by the cache (at most once a minute).
    async fn check_with_current_keys(
        &self,
        id_token: &CoreIdToken,
        meta: ProviderMetadataWithLogout,
        nonce: impl openidconnect::NonceVerifier + Clone,
    ) -> Result<Identity, OidcError> {
        let groups = &self.config.groups_claim;
        match check_id_token(id_token, &self.verifier(meta.jwks().clone()), nonce.clone(), groups) {
            Ok(identity) => Ok(identity),
            Err(first) => {
                let again = self.metadata(Duration::from_secs(60)).await?;
                if again.jwks() == meta.jwks() {
                    return Err(first);
                }
                check_id_token(id_token, &self.verifier(again.jwks().clone()), nonce, groups)
            }
        }
    }

    /// Asks the provider whether the session still holds, with its refresh token.
    /// `Err(Refused)` when the provider ended the session or disabled the account;
    /// `Err(Unreachable)` when it did not answer or its answer could not be read (the session
    /// is not ended for that).
    pub async fn recheck(&self, refresh_token: &str) -> Result<Rechecked, OidcError> {
        self.check_backoff()?;
        let (meta, client) = self.client().await?;
        let assertion = self.assertion(&meta)?;
        let refresh = RefreshToken::new(refresh_token.to_owned());
        let mut request =
            client.exchange_refresh_token(&refresh).map_err(|e| OidcError::Invalid(e.to_string()))?;
        if let Some(assertion) = assertion {
            request = request
                .add_extra_param("client_assertion_type", client_assertion::ASSERTION_TYPE)
                .add_extra_param("client_assertion", assertion);
        }
        let answer =
            request.request_async(&self.http).await.map_err(|e| recheck_error(self.note_transport(e)))?;
        // A refreshed ID token has no nonce of this flow (OpenID Connect Core 12.2); its
        // signature, issuer, audience and expiry are checked as at sign-in.
        let any_nonce = |_: Option<&Nonce>| Ok::<(), String>(());
        let identity = match answer.id_token() {
            Some(token) => Some(self.check_with_current_keys(token, meta, any_nonce).await?),
            None => None,
        };
        let refresh_token =
            answer.refresh_token().map_or_else(|| refresh_token.to_owned(), |t| t.secret().clone());
        Ok(Rechecked { refresh_token, identity })
    }

    /// Where the browser ends the session at the provider too, if it says where.
    pub async fn end_session_url(&self, id_token: &str) -> Option<String> {
        let meta = self.metadata(METADATA_TTL).await.ok()?;
        let endpoint = meta.additional_metadata().end_session_endpoint.clone()?;
        let mut request = LogoutRequest::from(endpoint).set_client_id(self.config.client_id.clone());
        if let Ok(token) = id_token.parse::<CoreIdToken>() {
            request = request.set_id_token_hint(&token);
        }
        if let Some(back) = &self.config.post_logout_redirect_url {
            request = request.set_post_logout_redirect_uri(back.clone());
        }
        Some(request.http_get_url().to_string())
    }
}

type TokenError<RE> = RequestTokenError<RE, StandardErrorResponse<CoreErrorResponseType>>;

fn transport_error<RE: std::error::Error + 'static>(e: TokenError<RE>) -> OidcError {
    match e {
        RequestTokenError::ServerResponse(r) => OidcError::Unreachable(r.to_string()),
        RequestTokenError::Request(r) => OidcError::Unreachable(r.to_string()),
        RequestTokenError::Parse(..) => OidcError::Unreachable("its answer could not be read".into()),
        RequestTokenError::Other(why) => OidcError::Unreachable(why),
    }
}

/// At sign-in, any error answer refuses this sign-in (a made-up or used code); only a
/// provider that did not answer is "unreachable".
fn redeem_error<RE: std::error::Error + 'static>(e: TokenError<RE>) -> OidcError {
    match e {
        RequestTokenError::ServerResponse(r) => OidcError::Refused(r.to_string()),
        other => transport_error(other),
    }
}

/// At a session check, the answers that say this person's session is over end it: the grant
/// is gone (an ended session, a disabled account) or the provider wants the person back at its
/// page (a new sign-in, a second factor, consent). Anything else (its own error, a refused
/// client after a configuration change, no answer) is the provider's trouble and must not end
/// every staff session during an outage.
fn recheck_error<RE: std::error::Error + 'static>(e: TokenError<RE>) -> OidcError {
    match e {
        RequestTokenError::ServerResponse(r) => {
            let ends = match r.error() {
                CoreErrorResponseType::InvalidGrant => true,
                CoreErrorResponseType::Extension(code) => {
                    matches!(code.as_str(), "interaction_required" | "login_required" | "consent_required")
                }
                _ => false,
            };
            if ends {
                OidcError::Refused(r.to_string())
            } else {
                OidcError::Unreachable(r.to_string())
            }
        }
        other => transport_error(other),
    }
}

pub fn id_token_verifier(
    client_id: &ClientId,
    issuer: &IssuerUrl,
    keys: CoreJsonWebKeySet,
) -> CoreIdTokenVerifier<'static> {
    CoreIdTokenVerifier::new_public_client(client_id.clone(), issuer.clone(), keys)
        .set_allowed_algs(allowed_algs())
}

/// The checks on an ID token, apart from fetching it: signature, issuer, audience, expiry and
/// nonce by the library; then the groups claim (a list of names, or one name), read from the
/// token whose signature was just checked.
pub fn check_id_token(
    token: &CoreIdToken,
    verifier: &CoreIdTokenVerifier<'_>,
    nonce: impl openidconnect::NonceVerifier,
    groups_claim: &str,
) -> Result<Identity, OidcError> {
    let claims = token.claims(verifier, nonce).map_err(|e| OidcError::Invalid(e.to_string()))?;
    // The subject is stored and compared; at most 255 ASCII characters (OpenID Connect Core 2).
    let subject = claims.subject().as_str();
    if subject.is_empty() || subject.len() > 255 || !subject.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(OidcError::Invalid("the subject is empty, too long or not printable".into()));
    }
    let subject = subject.to_owned();
    // Name and username are only shown; an unusable one is left out, not refused.
    let usable = |s: &str| cjg_core::validate::single_line("name", s, 100).ok();
    let name = claims.name().and_then(|n| n.get(None)).and_then(|n| usable(n.as_str()));
    let username = claims.preferred_username().and_then(|u| usable(u.as_str()));
    let payload = token.to_string();
    let payload = payload.split('.').nth(1).unwrap_or_default();
    let raw: serde_json::Value = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| OidcError::Invalid("the ID token's claims are not JSON".into()))?;
    Ok(Identity { subject, name, username, groups: groups_in(&raw, groups_claim) })
}

/// The groups under `claim`; a dotted name reaches into an object (Keycloak's
/// `realm_access.roles`).
fn groups_in(claims: &serde_json::Value, claim: &str) -> Vec<String> {
    let mut at = claims;
    for part in claim.split('.') {
        match at.get(part) {
            Some(v) => at = v,
            None => return Vec::new(),
        }
    }
    match at {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(items) => {
            items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()
        }
        _ => Vec::new(),
    }
}

/// The Mijn CJG role the groups give, if any.
pub fn role_for(config: &OidcConfig, identity: &Identity) -> Option<StaffRole> {
    config.roles.role_for(&identity.groups)
}

#[cfg(test)]
mod tests {
    //! The ID-token checks with tokens made here: signed with a real key (ECDSA P-256, by
    //! ring), wrongly signed, unsigned, for another audience, expired, with another nonce.
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
    use serde_json::json;

    const ISSUER: &str = "http://127.0.0.1:9/";
    const CLIENT: &str = "mijn-cjg";

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    struct Key {
        pair: EcdsaKeyPair,
        kid: &'static str,
    }

    impl Key {
        fn new(kid: &'static str) -> Self {
            let rng = SystemRandom::new();
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
            Self {
                pair: EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
                    .unwrap(),
                kid,
            }
        }

        fn jwks(&self) -> CoreJsonWebKeySet {
            let point = self.pair.public_key().as_ref();
            let (x, y) = point[1..].split_at(32);
            serde_json::from_value(json!({"keys": [{
                "kty": "EC", "crv": "P-256", "x": b64(x), "y": b64(y), "kid": self.kid, "alg": "ES256", "use": "sig"
            }]}))
            .unwrap()
        }

        fn sign(&self, claims: &serde_json::Value) -> String {
            let header = b64(json!({"alg": "ES256", "typ": "JWT", "kid": self.kid}).to_string().as_bytes());
            let body = b64(claims.to_string().as_bytes());
            let input = format!("{header}.{body}");
            let sig = self.pair.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
            format!("{input}.{}", b64(sig.as_ref()))
        }
    }

    fn claims(change: impl FnOnce(&mut serde_json::Value)) -> serde_json::Value {
        let now = chrono::Utc::now().timestamp();
        let mut c = json!({
            "iss": ISSUER, "sub": "fleur.demo", "aud": CLIENT, "iat": now, "exp": now + 300,
            "nonce": "n-1", "name": "Fleur Demo", "preferred_username": "fleur.demo",
            "groups": ["cjg-coaches", "iedereen"],
        });
        change(&mut c);
        c
    }

    fn check(token: &str, keys: CoreJsonWebKeySet, nonce: &str) -> Result<Identity, OidcError> {
        let token: CoreIdToken =
            token.parse().map_err(|e: serde_json::Error| OidcError::Invalid(e.to_string()))?;
        let verifier =
            id_token_verifier(&ClientId::new(CLIENT.into()), &IssuerUrl::new(ISSUER.into()).unwrap(), keys);
        check_id_token(&token, &verifier, &Nonce::new(nonce.into()), "groups")
    }

    #[test]
    fn a_good_token_gives_the_person_and_their_groups() {
        let key = Key::new("k1");
        let who = check(&key.sign(&claims(|_| {})), key.jwks(), "n-1").unwrap();
        assert_eq!(who.subject, "fleur.demo");
        assert_eq!(who.name.as_deref(), Some("Fleur Demo"));
        assert_eq!(who.username.as_deref(), Some("fleur.demo"));
        assert_eq!(who.groups, ["cjg-coaches", "iedereen"]);
    }

    #[test]
    fn bad_tokens_are_refused() {
        let key = Key::new("k1");
        let other = Key::new("k1");
        let good = claims(|_| {});
        let invalid = |token: &str, keys: CoreJsonWebKeySet, nonce: &str, what: &str| {
            assert!(matches!(check(token, keys, nonce), Err(OidcError::Invalid(_))), "{what} was accepted");
        };
        invalid(&key.sign(&good), key.jwks(), "n-2", "another nonce");
        invalid(&other.sign(&good), key.jwks(), "n-1", "a token signed with another key");
        invalid(
            &key.sign(&claims(|c| c["aud"] = json!("een-andere-app"))),
            key.jwks(),
            "n-1",
            "another audience",
        );
        invalid(
            &key.sign(&claims(|c| c["iss"] = json!("http://127.0.0.1:10/"))),
            key.jwks(),
            "n-1",
            "another issuer",
        );
        let past = chrono::Utc::now().timestamp() - 3600;
        invalid(&key.sign(&claims(|c| c["exp"] = json!(past))), key.jwks(), "n-1", "an expired token");
        // Unsigned: `alg: none` with the claims and no signature.
        let header = b64(json!({"alg": "none", "typ": "JWT"}).to_string().as_bytes());
        let unsigned = format!("{header}.{}.", b64(good.to_string().as_bytes()));
        assert!(check(&unsigned, key.jwks(), "n-1").is_err(), "an unsigned token was accepted");
        // A signature over other claims: one changed byte of the payload.
        let signed = key.sign(&good);
        let mut parts: Vec<String> = signed.split('.').map(str::to_owned).collect();
        parts[1] = b64(claims(|c| c["sub"] = json!("iemand-anders")).to_string().as_bytes());
        invalid(&parts.join("."), key.jwks(), "n-1", "a token whose claims were changed after signing");
    }

    #[test]
    fn groups_come_as_a_list_a_single_name_or_inside_an_object() {
        let v = json!({"groups": ["a", "b", 3], "one": "c", "realm_access": {"roles": ["d"]}});
        assert_eq!(groups_in(&v, "groups"), ["a", "b"]);
        assert_eq!(groups_in(&v, "one"), ["c"]);
        assert_eq!(groups_in(&v, "realm_access.roles"), ["d"]);
        assert!(groups_in(&v, "missing").is_empty());
    }

    /// At a check, only the answers about this person's session end it; the provider's own
    /// errors and unreadable answers are an outage, which must not sign every coach out. At
    /// sign-in, any error answer refuses the sign-in.
    #[test]
    fn only_answers_about_the_person_end_a_session() {
        type E = TokenError<std::io::Error>;
        let answer = |code| E::ServerResponse(StandardErrorResponse::new(code, None, None));
        let ext = |code: &str| answer(CoreErrorResponseType::Extension(code.into()));
        for over in
            [answer(CoreErrorResponseType::InvalidGrant), ext("interaction_required"), ext("login_required")]
        {
            assert!(matches!(recheck_error(over), OidcError::Refused(_)));
        }
        for trouble in [
            answer(CoreErrorResponseType::InvalidClient),
            ext("server_error"),
            ext("temporarily_unavailable"),
            E::Request(std::io::Error::other("connection refused")),
            E::Other("unexpected status 502".into()),
        ] {
            assert!(matches!(recheck_error(trouble), OidcError::Unreachable(_)));
        }
        assert!(matches!(redeem_error(answer(CoreErrorResponseType::InvalidRequest)), OidcError::Refused(_)));
        assert!(matches!(redeem_error(E::Other("502".into())), OidcError::Unreachable(_)));
    }

    #[test]
    fn a_subject_must_be_printable_and_short() {
        let key = Key::new("k-1");
        for bad in [json!(""), json!("met spatie"), json!("x".repeat(256))] {
            let token = key.sign(&claims(|c| c["sub"] = bad.clone()));
            assert!(check(&token, key.jwks(), "n-1").is_err(), "{bad} was accepted");
        }
        let long_name = key.sign(&claims(|c| c["name"] = json!("n".repeat(300))));
        let who = check(&long_name, key.jwks(), "n-1").expect("an unusable name is left out, not refused");
        assert_eq!(who.name, None);
        assert_eq!(who.display_name(), "fleur.demo");
    }
}
