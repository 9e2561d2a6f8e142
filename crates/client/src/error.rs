use cjg_core::ErrorCode;
use serde::Serialize;
use thiserror::Error;

/// What the app can tell the user. Each variant maps to one stable [`ClientError::code`];
/// the UI shows its own Dutch sentence per code. No variant carries dossier text.
#[derive(Debug, Error)]
pub enum ClientError {
    #[error("the server address is not a valid http(s) address")]
    InvalidServerUrl,
    #[error("the server cannot be reached: {0}")]
    Unreachable(String),
    #[error("the server answered something that is not a valid response: {0}")]
    InvalidResponse(String),
    #[error("the server sent a page larger than {0} bytes")]
    PageTooLarge(usize),
    #[error("the server refused the request: {code:?}")]
    Api { code: ErrorCode, status: u16 },
    #[error("invalid input: {0}")]
    Validation(#[from] cjg_core::validate::ValidationError),
    #[error("local store: {0}")]
    Store(#[from] cjg_store::StoreError),
    #[error("crypto: {0}")]
    Crypto(#[from] cjg_crypto::CryptoError),
    #[error("the two PINs are not the same")]
    PinMismatch,
    #[error("the app is locked")]
    Locked,
    #[error("this device was revoked; its local data has been wiped")]
    WipedRevoked,
    #[error("the OS keychain does not answer or lost this account's key")]
    KeychainUnavailable,
    #[error("no staff member is signed in")]
    StaffSignedOut,
    #[error("no such account on this device")]
    NoSuchAccount,
    #[error("answer: {0}")]
    Answer(#[from] cjg_core::questionnaire::AnswerError),
    #[error("this questionnaire was sent and can no longer be changed")]
    ReadOnly,
    #[error("device secret file: {0}")]
    DeviceSecret(std::io::Error),
}

pub type Result<T> = std::result::Result<T, ClientError>;

/// `{code, message}` as it crosses to the UI.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, ts_rs::TS)]
pub struct UiError {
    pub code: &'static str,
    pub message: String,
}

impl ClientError {
    pub fn code(&self) -> &'static str {
        use cjg_core::validate::ValidationError as V;
        use cjg_store::StoreError as S;
        match self {
            Self::InvalidServerUrl => "invalid_server_url",
            Self::Unreachable(_) => "server_unreachable",
            Self::InvalidResponse(_) => "server_invalid_response",
            Self::PageTooLarge(_) => "server_invalid_response",
            Self::Api { code, .. } => match code {
                ErrorCode::ActivationCodeInvalid => "activation_code_invalid",
                ErrorCode::ActivationCodeExpired => "activation_code_expired",
                ErrorCode::ActivationCodeUsed => "activation_code_used",
                ErrorCode::RateLimited => "rate_limited",
                ErrorCode::DeviceRevoked => "device_revoked",
                ErrorCode::Unauthenticated | ErrorCode::ChallengeInvalid => "unauthenticated",
                ErrorCode::Forbidden => "forbidden",
                ErrorCode::PurposeRequired => "purpose_required",
                ErrorCode::NotFound => "not_found",
                ErrorCode::Conflict => "conflict",
                ErrorCode::AlreadyAnswered => "already_answered",
                ErrorCode::QuestionnaireOutdated => "questionnaire_outdated",
                ErrorCode::Validation => "invalid_input",
                _ => "server_error",
            },
            Self::Validation(V::ActivationCodeFormat) => "activation_code_format",
            Self::Validation(V::PinFormat { .. }) => "pin_format",
            Self::Validation(V::PinTooSimple) => "pin_too_simple",
            Self::Validation(V::TooLong { field: "account_label", .. })
            | Self::Validation(V::BadCharacters { field: "account_label" }) => "account_label_invalid",
            Self::Validation(_) => "invalid_input",
            Self::Answer(cjg_core::questionnaire::AnswerError::Missing(_)) => "answer_missing",
            Self::Answer(_) => "answer_invalid",
            Self::ReadOnly => "questionnaire_read_only",
            Self::PinMismatch => "pin_mismatch",
            Self::Locked => "locked",
            Self::WipedRevoked => "wiped_revoked",
            Self::KeychainUnavailable => "keychain_unavailable",
            Self::NoSuchAccount => "no_such_account",
            Self::StaffSignedOut => "staff_signed_out",
            Self::Store(S::NoUnlockKey) => "unlock_key_missing",
            Self::Store(S::WrongPin { attempts_left: 1 }) => "wrong_pin_last_try",
            Self::Store(S::WrongPin { .. }) => "wrong_pin",
            Self::Store(S::WipedAfterWrongPins) => "wiped_wrong_pin",
            Self::Store(S::Tampered { .. }) => "store_tampered",
            Self::Store(S::AuditChain(_)) => "audit_log_broken",
            Self::Store(S::BadPage(_)) => "server_invalid_response",
            Self::Store(S::NotFound) => "not_enrolled",
            Self::Store(_) | Self::Crypto(_) | Self::DeviceSecret(_) => "store_error",
        }
    }

    pub fn to_ui(&self) -> UiError {
        // For an answer, the UI needs the item to point at (a key, never the text typed).
        let message = match self {
            Self::Answer(e) => e.item().to_owned(),
            _ => self.to_string(),
        };
        UiError { code: self.code(), message }
    }
}
