use cjg_core::ErrorCode;
use serde::Serialize;
use thiserror::Error;

/// What the app can tell the user. Each variant maps to one stable [`ClientError::code`];
/// the UI shows its own Dutch sentence per code. No variant carries dossier text.
#[derive(Debug, Error)]
pub enum ClientError {
    #[error("the server address is not a valid http(s) address")]
    InvalidServerUrl,
    #[error("the server address must start with https:// (http:// only to this computer)")]
    InsecureServerUrl,
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
    /// A store from before the access log's key was pinned at enrolment.
    #[error("this account has no pinned key for the access log; enrol the device again")]
    EnrolAgain,
    /// The PIN of an account whose device secret is a file is checked with the server's help.
    #[error("the PIN can only be checked with the server, which cannot be reached")]
    PinNeedsServer,
    /// Too many PIN tries (on this device or on copies of it): the server locked the device.
    #[error("the server locked this device after too many PIN tries; its local data has been wiped")]
    DeviceLocked,
    /// The system browser could not be opened for the sign-in at the organisation.
    #[error("the browser could not be opened: {0}")]
    BrowserNotOpened(String),
    /// Nobody finished the sign-in in the browser in time.
    #[error("the sign-in in the browser was not finished in time")]
    SignInTimedOut,
    /// The person stopped the sign-in at the organisation.
    #[error("the sign-in was stopped")]
    SignInCancelled,
    /// The export file could not be laid out (never with dossier text in the message).
    #[error("the export could not be made: {0}")]
    Export(&'static str),
}

pub type Result<T> = std::result::Result<T, ClientError>;

/// Every code the app gives the UI, one per thing a person can be told. The UI's catalogues
/// are typed by it (`Record<UiCode, string>`), so a code without a Dutch and an English text is
/// a type error, not a silent "something went wrong".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum UiCode {
    AccountLabelInvalid,
    ActivationCodeExpired,
    ActivationCodeFormat,
    ActivationCodeInvalid,
    ActivationCodeUsed,
    AlreadyAnswered,
    AnswerInvalid,
    AnswerMissing,
    AuditLogBroken,
    BrowserNotOpened,
    BuiltInAccountsOff,
    Conflict,
    EnrolAgain,
    DeviceLocked,
    ExportFailed,
    DeviceRevoked,
    Forbidden,
    IdentityProviderUnreachable,
    InsecureServerUrl,
    InvalidInput,
    InvalidServerUrl,
    KeychainUnavailable,
    Locked,
    NoStaffRole,
    NoSuchAccount,
    NotEnrolled,
    NotFound,
    OrganisationSignInFailed,
    PinFormat,
    PinMismatch,
    PinNeedsServer,
    PinTooSimple,
    PurposeRequired,
    QuestionnaireOutdated,
    QuestionnaireReadOnly,
    RateLimited,
    SecondFactorCode,
    SecondFactorLocked,
    SecondFactorNeeded,
    SecondFactorSetupNeeded,
    SetupCode,
    ServerError,
    ServerInvalidResponse,
    ServerUnreachable,
    SignInCancelled,
    SignInTimedOut,
    StaffSessionEnded,
    StaffSignedOut,
    StoreError,
    StoreTampered,
    Unauthenticated,
    UnlockKeyMissing,
    WipedRevoked,
    WipedWrongPin,
    WrongPin,
    WrongPinLastTry,
}

impl UiCode {
    pub const ALL: [UiCode; 56] = [
        Self::AccountLabelInvalid,
        Self::ActivationCodeExpired,
        Self::ActivationCodeFormat,
        Self::ActivationCodeInvalid,
        Self::ActivationCodeUsed,
        Self::AlreadyAnswered,
        Self::AnswerInvalid,
        Self::AnswerMissing,
        Self::AuditLogBroken,
        Self::BrowserNotOpened,
        Self::BuiltInAccountsOff,
        Self::Conflict,
        Self::EnrolAgain,
        Self::DeviceLocked,
        Self::ExportFailed,
        Self::DeviceRevoked,
        Self::Forbidden,
        Self::IdentityProviderUnreachable,
        Self::InsecureServerUrl,
        Self::InvalidInput,
        Self::InvalidServerUrl,
        Self::KeychainUnavailable,
        Self::Locked,
        Self::NoStaffRole,
        Self::NoSuchAccount,
        Self::NotEnrolled,
        Self::NotFound,
        Self::OrganisationSignInFailed,
        Self::PinFormat,
        Self::PinMismatch,
        Self::PinNeedsServer,
        Self::PinTooSimple,
        Self::PurposeRequired,
        Self::QuestionnaireOutdated,
        Self::QuestionnaireReadOnly,
        Self::RateLimited,
        Self::SecondFactorCode,
        Self::SecondFactorLocked,
        Self::SecondFactorNeeded,
        Self::SecondFactorSetupNeeded,
        Self::SetupCode,
        Self::ServerError,
        Self::ServerInvalidResponse,
        Self::ServerUnreachable,
        Self::SignInCancelled,
        Self::SignInTimedOut,
        Self::StaffSessionEnded,
        Self::StaffSignedOut,
        Self::StoreError,
        Self::StoreTampered,
        Self::Unauthenticated,
        Self::UnlockKeyMissing,
        Self::WipedRevoked,
        Self::WipedWrongPin,
        Self::WrongPin,
        Self::WrongPinLastTry,
    ];

    /// The code as the UI and the logs see it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccountLabelInvalid => "account_label_invalid",
            Self::ActivationCodeExpired => "activation_code_expired",
            Self::ActivationCodeFormat => "activation_code_format",
            Self::ActivationCodeInvalid => "activation_code_invalid",
            Self::ActivationCodeUsed => "activation_code_used",
            Self::AlreadyAnswered => "already_answered",
            Self::AnswerInvalid => "answer_invalid",
            Self::AnswerMissing => "answer_missing",
            Self::AuditLogBroken => "audit_log_broken",
            Self::BrowserNotOpened => "browser_not_opened",
            Self::BuiltInAccountsOff => "built_in_accounts_off",
            Self::IdentityProviderUnreachable => "identity_provider_unreachable",
            Self::NoStaffRole => "no_staff_role",
            Self::OrganisationSignInFailed => "organisation_sign_in_failed",
            Self::SignInCancelled => "sign_in_cancelled",
            Self::SignInTimedOut => "sign_in_timed_out",
            Self::StaffSessionEnded => "staff_session_ended",
            Self::Conflict => "conflict",
            Self::EnrolAgain => "enrol_again",
            Self::DeviceLocked => "device_locked",
            Self::ExportFailed => "export_failed",
            Self::DeviceRevoked => "device_revoked",
            Self::Forbidden => "forbidden",
            Self::InsecureServerUrl => "insecure_server_url",
            Self::InvalidInput => "invalid_input",
            Self::InvalidServerUrl => "invalid_server_url",
            Self::KeychainUnavailable => "keychain_unavailable",
            Self::Locked => "locked",
            Self::NoSuchAccount => "no_such_account",
            Self::NotEnrolled => "not_enrolled",
            Self::NotFound => "not_found",
            Self::PinFormat => "pin_format",
            Self::PinMismatch => "pin_mismatch",
            Self::PinNeedsServer => "pin_needs_server",
            Self::PinTooSimple => "pin_too_simple",
            Self::PurposeRequired => "purpose_required",
            Self::QuestionnaireOutdated => "questionnaire_outdated",
            Self::QuestionnaireReadOnly => "questionnaire_read_only",
            Self::RateLimited => "rate_limited",
            Self::SecondFactorCode => "second_factor_code",
            Self::SecondFactorLocked => "second_factor_locked",
            Self::SetupCode => "setup_code",
            Self::SecondFactorNeeded => "second_factor_needed",
            Self::SecondFactorSetupNeeded => "second_factor_setup_needed",
            Self::ServerError => "server_error",
            Self::ServerInvalidResponse => "server_invalid_response",
            Self::ServerUnreachable => "server_unreachable",
            Self::StaffSignedOut => "staff_signed_out",
            Self::StoreError => "store_error",
            Self::StoreTampered => "store_tampered",
            Self::Unauthenticated => "unauthenticated",
            Self::UnlockKeyMissing => "unlock_key_missing",
            Self::WipedRevoked => "wiped_revoked",
            Self::WipedWrongPin => "wiped_wrong_pin",
            Self::WrongPin => "wrong_pin",
            Self::WrongPinLastTry => "wrong_pin_last_try",
        }
    }
}

/// `{code, message}` as it crosses to the UI.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, ts_rs::TS)]
pub struct UiError {
    pub code: UiCode,
    pub message: String,
}

impl ClientError {
    pub fn code(&self) -> &'static str {
        self.ui_code().as_str()
    }

    pub fn ui_code(&self) -> UiCode {
        use cjg_core::validate::ValidationError as V;
        use cjg_store::StoreError as S;
        match self {
            Self::InvalidServerUrl => UiCode::InvalidServerUrl,
            Self::InsecureServerUrl => UiCode::InsecureServerUrl,
            Self::Unreachable(_) => UiCode::ServerUnreachable,
            Self::InvalidResponse(_) => UiCode::ServerInvalidResponse,
            Self::PageTooLarge(_) => UiCode::ServerInvalidResponse,
            Self::Api { code, .. } => match code {
                ErrorCode::ActivationCodeInvalid => UiCode::ActivationCodeInvalid,
                ErrorCode::ActivationCodeExpired => UiCode::ActivationCodeExpired,
                ErrorCode::ActivationCodeUsed => UiCode::ActivationCodeUsed,
                ErrorCode::RateLimited => UiCode::RateLimited,
                ErrorCode::DeviceRevoked => UiCode::DeviceRevoked,
                ErrorCode::DeviceLocked => UiCode::DeviceLocked,
                ErrorCode::Unauthenticated | ErrorCode::ChallengeInvalid => UiCode::Unauthenticated,
                ErrorCode::SecondFactorNeeded => UiCode::SecondFactorNeeded,
                ErrorCode::SecondFactorSetupNeeded => UiCode::SecondFactorSetupNeeded,
                ErrorCode::SecondFactorLocked => UiCode::SecondFactorLocked,
                ErrorCode::Forbidden => UiCode::Forbidden,
                ErrorCode::PurposeRequired => UiCode::PurposeRequired,
                ErrorCode::NotFound => UiCode::NotFound,
                ErrorCode::Conflict => UiCode::Conflict,
                ErrorCode::AlreadyAnswered => UiCode::AlreadyAnswered,
                ErrorCode::QuestionnaireOutdated => UiCode::QuestionnaireOutdated,
                ErrorCode::Validation => UiCode::InvalidInput,
                ErrorCode::OrganisationSignInFailed => UiCode::OrganisationSignInFailed,
                ErrorCode::NoStaffRole => UiCode::NoStaffRole,
                ErrorCode::StaffSessionEnded => UiCode::StaffSessionEnded,
                ErrorCode::BuiltInAccountsOff => UiCode::BuiltInAccountsOff,
                ErrorCode::IdentityProviderUnreachable => UiCode::IdentityProviderUnreachable,
                _ => UiCode::ServerError,
            },
            Self::Validation(V::ActivationCodeFormat) => UiCode::ActivationCodeFormat,
            Self::Validation(V::Invalid { field: "one_time_code", .. }) => UiCode::SecondFactorCode,
            Self::Validation(V::Invalid { field: "setup_code", .. }) => UiCode::SetupCode,
            Self::Validation(V::PinFormat { .. }) => UiCode::PinFormat,
            Self::Validation(V::PinTooSimple) => UiCode::PinTooSimple,
            Self::Validation(V::TooLong { field: "account_label", .. })
            | Self::Validation(V::BadCharacters { field: "account_label" }) => UiCode::AccountLabelInvalid,
            Self::Validation(_) => UiCode::InvalidInput,
            Self::Answer(cjg_core::questionnaire::AnswerError::Missing(_)) => UiCode::AnswerMissing,
            Self::Answer(_) => UiCode::AnswerInvalid,
            Self::ReadOnly => UiCode::QuestionnaireReadOnly,
            Self::PinMismatch => UiCode::PinMismatch,
            Self::Locked => UiCode::Locked,
            Self::WipedRevoked => UiCode::WipedRevoked,
            Self::KeychainUnavailable => UiCode::KeychainUnavailable,
            Self::NoSuchAccount => UiCode::NoSuchAccount,
            Self::StaffSignedOut => UiCode::StaffSignedOut,
            Self::EnrolAgain => UiCode::EnrolAgain,
            Self::PinNeedsServer => UiCode::PinNeedsServer,
            Self::DeviceLocked => UiCode::DeviceLocked,
            Self::BrowserNotOpened(_) => UiCode::BrowserNotOpened,
            Self::SignInTimedOut => UiCode::SignInTimedOut,
            Self::SignInCancelled => UiCode::SignInCancelled,
            Self::Export(_) => UiCode::ExportFailed,
            Self::Store(S::NoUnlockKey) => UiCode::UnlockKeyMissing,
            Self::Store(S::WrongPin { attempts_left: 1 }) => UiCode::WrongPinLastTry,
            Self::Store(S::WrongPin { .. }) => UiCode::WrongPin,
            Self::Store(S::WipedAfterWrongPins) => UiCode::WipedWrongPin,
            Self::Store(S::Tampered { .. }) => UiCode::StoreTampered,
            Self::Store(S::AuditChain(_)) => UiCode::AuditLogBroken,
            Self::Store(S::BadPage(_)) => UiCode::ServerInvalidResponse,
            Self::Store(S::NotFound) => UiCode::NotEnrolled,
            Self::Store(_) | Self::Crypto(_) | Self::DeviceSecret(_) => UiCode::StoreError,
        }
    }

    /// A failure that may pass by itself (the network, a broken or refused-for-now answer), worth
    /// trying again after a wait; not one that needs the person or stays until something changes.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable(_)
            | Self::InvalidResponse(_)
            | Self::PageTooLarge(_)
            | Self::Store(cjg_store::StoreError::BadPage(_)) => true,
            // Busy, restarting or out of space: 502, 503, 504. A 500 is a fault that the same
            // request may meet again, and the person should hear of it.
            Self::Api { code, status } => (502..=504).contains(status) || *code == ErrorCode::RateLimited,
            _ => false,
        }
    }

    pub fn to_ui(&self) -> UiError {
        // For an answer, the UI needs the item to point at (a key, never the text typed).
        let message = match self {
            Self::Answer(e) => e.item().to_owned(),
            _ => self.to_string(),
        };
        UiError { code: self.ui_code(), message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The UI receives the serde name; the logs and tests use `as_str`: they must be one name.
    #[test]
    fn each_code_has_one_name() {
        for code in UiCode::ALL {
            let json = serde_json::to_string(&code).expect("serialise");
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
        let names: std::collections::BTreeSet<_> = UiCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), UiCode::ALL.len());
    }
}
