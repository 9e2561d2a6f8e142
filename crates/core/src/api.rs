//! Wire types of the HTTP API, shared by server and client so they cannot drift apart.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::entry::{Entry, Person};

/// Stable error codes. Clients branch on these, so a code is never renamed or reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    /// The route exists, but not for this method (the `Allow` header lists the ones it takes).
    MethodNotAllowed,
    MalformedJson,
    PayloadTooLarge,
    Validation,
    Unauthenticated,
    Forbidden,
    NotFound,
    Conflict,
    RateLimited,
    ActivationCodeInvalid,
    ActivationCodeExpired,
    ActivationCodeUsed,
    ChallengeInvalid,
    DeviceRevoked,
    /// A staff member must state why before opening this dossier (purpose window expired or never opened).
    PurposeRequired,
    /// This questionnaire was already answered (on another device, say).
    AlreadyAnswered,
    /// The questionnaire changed since the app got it; the next sync brings the new version.
    QuestionnaireOutdated,
    /// Too many PIN tries on a copy or on the device itself: the device is locked for good;
    /// a new activation code enrols it again.
    DeviceLocked,
    /// The staff account has a second factor: send the code from the app or a recovery code.
    SecondFactorNeeded,
    /// The staff account must set up its second factor before it signs in (first sign-in).
    SecondFactorSetupNeeded,
    /// Too many wrong codes in a row: an administrator must reset the second factor.
    SecondFactorLocked,
    /// The sign-in at the organisation did not go through, or its answer did not check out
    /// (state, nonce, signature, audience, expiry): start again.
    OrganisationSignInFailed,
    /// Signed in at the organisation, but none of the person's groups gives a Mijn CJG role.
    NoStaffRole,
    /// The organisation ended the staff member's session or disabled the account.
    StaffSessionEnded,
    /// Password sign-in is turned off on this server: staff sign in with the organisation.
    BuiltInAccountsOff,
    /// The organisation's sign-in service did not answer.
    IdentityProviderUnreachable,
    /// This server instance cannot serve now (its database does not answer): try another.
    NotReady,
    /// The server cannot store anything now (its disk is full or refuses writes). Nothing of
    /// the request was kept: send it again later. Reading goes on.
    StorageUnavailable,
    Internal,
}

impl ErrorCode {
    pub fn http_status(self) -> u16 {
        match self {
            Self::BadRequest | Self::MalformedJson | Self::Validation => 400,
            Self::Unauthenticated | Self::ChallengeInvalid => 401,
            Self::SecondFactorNeeded | Self::SecondFactorSetupNeeded => 401,
            Self::Forbidden | Self::DeviceRevoked | Self::DeviceLocked | Self::PurposeRequired => 403,
            Self::SecondFactorLocked => 403,
            Self::OrganisationSignInFailed | Self::StaffSessionEnded => 401,
            Self::NoStaffRole | Self::BuiltInAccountsOff => 403,
            Self::IdentityProviderUnreachable | Self::NotReady | Self::StorageUnavailable => 503,
            Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::Conflict | Self::AlreadyAnswered | Self::QuestionnaireOutdated => 409,
            Self::ActivationCodeInvalid | Self::ActivationCodeExpired | Self::ActivationCodeUsed => 422,
            Self::PayloadTooLarge => 413,
            Self::RateLimited => 429,
            Self::Internal => 500,
        }
    }
}

/// The body of every error answer: `{"error": {"code": "...", "message": "..."}}`.
/// `message` is English for developers; the app shows its own Dutch text per code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ApiError {
    pub error: ApiErrorBody,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ApiErrorBody {
    pub code: ErrorCode,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Health {
    pub status: String,
    pub version: String,
    /// The Ed25519 key that signs audit checkpoints, base64url: apps pin it at enrolment.
    pub audit_key: String,
}

/// Enrolment: the app proves it holds a code and registers the public half of its device key.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolRequest {
    pub activation_code: String,
    /// Ed25519 public key, 32 bytes, base64url without padding.
    pub device_public_key: String,
    pub device_name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EnrolResponse {
    pub device_id: Uuid,
    pub person_id: Uuid,
    pub display_name: String,
    /// The key that signs audit checkpoints (base64url); the app pins it.
    pub audit_key: String,
}

/// Sets up the server's part of the PIN for the signed-in device (where its secret is a file),
/// or evaluates a new PIN after a PIN change. Not counted as a try: the device proved itself.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PinKeyRequest {
    /// The PIN blinded by the app (RFC 9497 OPRF, ristretto255-SHA512), base64url.
    pub blinded: String,
    /// Proves later tries come from this device's folder (base64url, 32 bytes); kept hashed.
    pub pin_token: String,
}

/// One PIN try of a locked app: counted, and refused for good after [`PIN_TRIES_MAX`] tries
/// without a token in between.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PinTryRequest {
    pub device_id: Uuid,
    pub pin_token: String,
    pub blinded: String,
}

/// The server's step of the OPRF over the blinded PIN, base64url. Says nothing about whether
/// the PIN is right: only the app can tell, by whether the store opens.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PinEvaluation {
    pub evaluation: String,
}

/// Sent by an app right after its PIN opened the store: the tries it made itself since its
/// last report (its wrong PINs and the right one). The server takes exactly those off its
/// count, so tries made on copies of the folder stay counted until the device is locked.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PinOkRequest {
    pub own_tries: u32,
}

/// PIN tries the server answers for a device beyond the ones its own app reported as its own
/// (see [`PinOkRequest`]): all copies of its folder together, over the device's life.
pub const PIN_TRIES_MAX: u32 = 10;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChallengeRequest {
    pub device_id: Uuid,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChallengeResponse {
    /// 32 random bytes, base64url without padding; valid once, for a minute.
    pub challenge: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    pub device_id: Uuid,
    pub challenge: String,
    /// Ed25519 signature over [`token_signing_message`], base64url without padding.
    pub signature: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// One device enrolled for a person, as the device list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
pub struct DeviceInfo {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A youth records whether the parents with gezag may read their entries.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentRequest {
    pub shares_with_parents: bool,
}

/// What the device signs to get a token. The domain prefix keeps a signature made for this
/// purpose from being valid for any other.
pub fn token_signing_message(device_id: Uuid, challenge: &str) -> Vec<u8> {
    format!("mijn-cjg/token/v1\n{device_id}\n{challenge}").into_bytes()
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffLoginRequest {
    pub username: String,
    pub password: String,
    /// The six digits from the authenticator app, or a recovery code; needed once the account
    /// has a second factor.
    #[serde(default)]
    pub one_time_code: Option<String>,
}

/// How staff sign in on this server: what the staff app offers.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, ts_rs::TS)]
pub struct StaffSignInOptions {
    /// Username, password and second factor (small installs, the demo).
    pub built_in: bool,
    /// The organisation's own account, through its identity provider (OpenID Connect).
    pub organisation: bool,
}

/// The app starts a sign-in at the organisation. It waits on `return_to` (its own loopback
/// address, RFC 8252) for the one-time handoff, and proves with `app_challenge` (base64url
/// SHA-256 of a secret only it holds) that it is the app that started.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationSignInStart {
    pub return_to: String,
    pub app_challenge: String,
}

/// Where the system browser goes: the provider's sign-in page.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrganisationSignInUrl {
    pub authorize_url: String,
}

/// The app trades the handoff it got on its loopback address for a staff token.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationSignInFinish {
    pub handoff: String,
    pub app_verifier: String,
}

/// The answer to signing out: for a sign-in at the organisation, where the browser ends the
/// session there too (RP-initiated logout).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct StaffSignedOut {
    pub end_session_url: Option<String>,
}

/// `POST /v1/staff/second-factor/setup`: the password and the one-time setup code an
/// administrator handed out (`cjg-server add-staff` or `reset-second-factor`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecondFactorSetupRequest {
    pub username: String,
    pub password: String,
    pub setup_code: String,
}

/// The answer to a setup request: a new secret for the authenticator app. It counts only after
/// a code from the app confirms it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SecondFactorSetup {
    /// The secret in base32 groups, for typing it in by hand.
    pub secret: String,
    /// The `otpauth://` link the QR code holds.
    pub otpauth_uri: String,
}

/// `POST /v1/staff/second-factor/confirm`: the first code from the app; the account signs in.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecondFactorConfirm {
    pub username: String,
    pub password: String,
    pub setup_code: String,
    pub code: String,
}

/// The staff token and the recovery codes, shown once and stored by the server only as hashes.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SecondFactorConfirmed {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub recovery_codes: Vec<String>,
}

/// A dossier of the staff member's caseload, as the list to choose from shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
pub struct CaseloadDossier {
    pub id: Uuid,
    pub family_name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ActivationCodeResponse {
    pub code: String,
    pub person_id: Uuid,
    pub expires_at: DateTime<Utc>,
}

/// One change in the pull feed. `cursor` grows strictly along a page and across pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncItem {
    pub cursor: i64,
    pub change: Change,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Change {
    Entry {
        entry: Entry,
    },
    EntryDeleted {
        id: Uuid,
        version: i64,
    },
    Person {
        person: Person,
    },
    /// The person's own feedback on an entry, with its status and answer.
    Feedback {
        feedback: crate::feedback::Feedback,
    },
    /// A coach asks this person to react on an entry.
    FeedbackRequest {
        request: crate::feedback::FeedbackRequest,
    },
    /// An approved article (or a newer approved text of it).
    Article {
        article: crate::article::Article,
    },
    /// The article is no longer published (withdrawn).
    ArticleGone {
        id: Uuid,
        version: i64,
    },
    /// A coach's reading tip for this person, once its moment came.
    ReadingTip {
        tip: crate::article::ReadingTip,
    },
    /// A message of this person's conversation with the coach (new, or now read).
    Message {
        message: crate::message::Message,
    },
    /// A questionnaire asked of this person, with its definition and, once in, the answers.
    Questionnaire {
        task: crate::questionnaire::QuestionnaireTask,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncPage {
    pub items: Vec<SyncItem>,
    /// Where the next request starts; equal to the request's cursor when nothing changed.
    pub next_cursor: i64,
    pub has_more: bool,
    /// New lines of the dossier's access log after `audit_from`, with the signed checkpoint
    /// they end in. Only when the request asked for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<crate::audit::AuditBatch>,
}

/// Audit lines per page at most.
pub const AUDIT_PAGE_MAX: usize = 500;

pub const SYNC_PAGE_MAX_ITEMS: usize = 200;
/// A client refuses a page body larger than this (a server answering garbage or worse).
pub const SYNC_PAGE_MAX_BYTES: usize = 8 * 1024 * 1024;
/// The server fills a page's items up to about this many bytes of JSON: well under
/// [`SYNC_PAGE_MAX_BYTES`] with the access-log lines added, so a dossier of long entries
/// arrives in more pages instead of one the device must refuse.
pub const SYNC_PAGE_TARGET_BYTES: usize = 1024 * 1024;

/// Items of a staff list in one answer unless the request asks for fewer.
pub const STAFF_PAGE_DEFAULT: u32 = 200;
pub const STAFF_PAGE_MAX: u32 = 1000;
/// The answer header that says where the next page of a staff list starts; absent on the last.
pub const NEXT_OFFSET_HEADER: &str = "x-cjg-next-offset";

/// `?offset=&limit=` on the long staff lists (entries, access log, feedback): a dossier of
/// years stays a series of answers of bounded size, like the family's sync pages.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListPage {
    #[serde(default)]
    pub offset: u32,
    pub limit: Option<u32>,
}

impl ListPage {
    pub fn limit(&self) -> u32 {
        self.limit.unwrap_or(STAFF_PAGE_DEFAULT).clamp(1, STAFF_PAGE_MAX)
    }
}

/// Cuts a page's items (sorted by cursor) to at most `limit` items and, after the first item,
/// to at most `max_bytes` by `size`; says whether anything was left for the next page. The
/// first item always goes, whatever its size (one item is bounded by the input checks), so a
/// sync always moves on.
pub fn fit_page<T>(
    mut items: Vec<T>,
    limit: usize,
    max_bytes: usize,
    size: impl Fn(&T) -> usize,
) -> (Vec<T>, bool) {
    let mut total = 0usize;
    let mut keep = 0;
    for item in items.iter().take(limit.max(1)) {
        total = total.saturating_add(size(item));
        if keep > 0 && total > max_bytes {
            break;
        }
        keep += 1;
    }
    let more = items.len() > keep;
    items.truncate(keep);
    (items, more)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("page cursor {item} does not follow {previous}")]
    CursorNotIncreasing { previous: i64, item: i64 },
    #[error("next_cursor {next} is behind the page")]
    NextCursorBehind { next: i64 },
    #[error("page holds {0} items, more than allowed")]
    TooManyItems(usize),
}

impl SyncPage {
    /// A page is applied whole or not at all; this refuses one that could not be applied sanely.
    pub fn check(&self, requested_cursor: i64) -> Result<(), PageError> {
        if self.items.len() > SYNC_PAGE_MAX_ITEMS {
            return Err(PageError::TooManyItems(self.items.len()));
        }
        let mut previous = requested_cursor;
        for item in &self.items {
            if item.cursor <= previous {
                return Err(PageError::CursorNotIncreasing { previous, item: item.cursor });
            }
            previous = item.cursor;
        }
        if self.next_cursor < previous {
            return Err(PageError::NextCursorBehind { next: self.next_cursor });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(cursor: i64) -> SyncItem {
        SyncItem { cursor, change: Change::EntryDeleted { id: Uuid::nil(), version: 2 } }
    }

    #[test]
    fn pages_fit_by_items_and_bytes_and_always_move_on() {
        let items = |n: i64| (1..=n).map(item).collect::<Vec<_>>();
        // By count.
        let (page, more) = fit_page(items(5), 3, 1_000, |_| 10);
        assert_eq!((page.len(), more), (3, true));
        // By bytes: 10 bytes each, 35 allowed.
        let (page, more) = fit_page(items(5), 200, 35, |_| 10);
        assert_eq!((page.len(), more), (3, true));
        // Exactly full, nothing left.
        let (page, more) = fit_page(items(3), 200, 30, |_| 10);
        assert_eq!((page.len(), more), (3, false));
        // One item larger than a page still goes, alone.
        let (page, more) = fit_page(items(2), 200, 5, |_| 10);
        assert_eq!((page.iter().map(|i| i.cursor).collect::<Vec<_>>(), more), (vec![1], true));
        assert_eq!(fit_page(Vec::<SyncItem>::new(), 200, 5, |_| 10).0.len(), 0);
    }

    #[test]
    fn page_cursors_must_grow() {
        let ok = SyncPage { items: vec![item(3), item(7)], next_cursor: 7, has_more: false, audit: None };
        assert_eq!(ok.check(2), Ok(()));
        assert!(ok.check(3).is_err());
        let back = SyncPage { items: vec![item(7), item(5)], next_cursor: 7, has_more: false, audit: None };
        assert!(back.check(0).is_err());
        let behind = SyncPage { items: vec![item(7)], next_cursor: 6, has_more: false, audit: None };
        assert!(behind.check(0).is_err());
    }

    #[test]
    fn error_codes_are_stable_strings() {
        let json = serde_json::to_string(&ErrorCode::ActivationCodeUsed).expect("serialises");
        assert_eq!(json, "\"activation_code_used\"");
        assert_eq!(ErrorCode::RateLimited.http_status(), 429);
    }

    #[test]
    fn signing_message_binds_device_and_challenge() {
        let a = token_signing_message(Uuid::nil(), "abc");
        let b = token_signing_message(Uuid::max(), "abc");
        assert_ne!(a, b);
    }
}

/// A coach's change to an entry: the version they edited, so a stale edit gets 409, not a
/// silent overwrite of a colleague's text.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryUpdate {
    pub expected_version: i64,
    pub draft: crate::entry::EntryDraft,
    /// Why the entry changes; kept with the version it replaces.
    #[serde(default)]
    pub reason: Option<String>,
}

/// The optional body of `DELETE /v1/staff/entries/{id}`: why the entry goes; kept with its last
/// version. In the body, not the query string, so no proxy's access log holds it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteEntryRequest {
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncQuery {
    #[serde(default)]
    pub cursor: i64,
    pub limit: Option<u32>,
    /// The number of audit lines the device has verified; absent: send no audit lines.
    pub audit_from: Option<u32>,
    /// Check the lines sent against the whole stored log, not only against the stored head
    /// of the device's last line (see the server's `audit::LogCheck`).
    #[serde(default)]
    pub audit_full: bool,
}

/// Who a bearer token was given to: a staff member after sign-in, or an enrolled device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Staff,
    Device,
}

impl TokenKind {
    /// As stored beside the token's hash.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Staff => "staff",
            Self::Device => "device",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Staff, Self::Device].into_iter().find(|k| k.as_str() == s)
    }
}

#[cfg(test)]
mod token_kind_tests {
    use super::TokenKind;

    #[test]
    fn token_kinds_round_trip() {
        for k in [TokenKind::Staff, TokenKind::Device] {
            assert_eq!(TokenKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(TokenKind::parse("admin"), None);
    }
}
