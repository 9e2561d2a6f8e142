//! Feedback of a family member on a dossier entry (Taken): an addition, a correction (a GDPR
//! rectification request, which must get a traceable answer), a question, or agreement.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::validate::ValidationError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackKind {
    Aanvulling,
    /// A request to correct the entry (AVG art. 16).
    Correctie,
    Vraag,
    Akkoord,
}

impl FeedbackKind {
    pub const ALL: [FeedbackKind; 4] = [Self::Aanvulling, Self::Correctie, Self::Vraag, Self::Akkoord];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aanvulling => "aanvulling",
            Self::Correctie => "correctie",
            Self::Vraag => "vraag",
            Self::Akkoord => "akkoord",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackStatus {
    /// Sent, not yet answered.
    Open,
    /// The coach answered.
    Answered,
    /// Done: a correction made, an addition taken in.
    Handled,
    /// A correction the CJG did not make; the answer says why.
    Refused,
}

impl FeedbackStatus {
    pub const ALL: [FeedbackStatus; 4] = [Self::Open, Self::Answered, Self::Handled, Self::Refused];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Answered => "answered",
            Self::Handled => "handled",
            Self::Refused => "refused",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// What the app sends. `id` is made by the app and is the idempotency key: the same id sent
/// twice stores one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct FeedbackDraft {
    pub id: Uuid,
    pub entry_id: Uuid,
    pub kind: FeedbackKind,
    pub text: String,
}

pub const FEEDBACK_TEXT_MAX: usize = 4000;

impl FeedbackDraft {
    /// Trims the text; it must hold something and at most [`FEEDBACK_TEXT_MAX`] characters.
    /// "Akkoord" may come without text.
    pub fn validate(mut self) -> Result<Self, ValidationError> {
        self.text = self.text.trim().to_owned();
        if self.text.is_empty() && self.kind != FeedbackKind::Akkoord {
            return Err(ValidationError::Empty { field: "text" });
        }
        if self.text.chars().count() > FEEDBACK_TEXT_MAX {
            return Err(ValidationError::TooLong { field: "text", max: FEEDBACK_TEXT_MAX });
        }
        if self.text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            return Err(ValidationError::BadCharacters { field: "text" });
        }
        Ok(self)
    }
}

/// Feedback as stored on the server and synced to its author.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct Feedback {
    pub id: Uuid,
    pub entry_id: Uuid,
    pub dossier_id: Uuid,
    pub author_id: Uuid,
    pub author_name: String,
    pub kind: FeedbackKind,
    pub text: String,
    pub created_at: DateTime<Utc>,
    pub status: FeedbackStatus,
    pub answer: Option<String>,
    pub answered_by: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    #[ts(type = "number")]
    pub version: i64,
}

/// A coach's answer. A refused correction needs a reason.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackAnswer {
    pub status: FeedbackStatus,
    pub answer: String,
}

impl FeedbackAnswer {
    pub fn validate(mut self) -> Result<Self, ValidationError> {
        self.answer = self.answer.trim().to_owned();
        if self.status == FeedbackStatus::Open {
            return Err(ValidationError::Invalid {
                field: "status",
                reason: "an answer cannot reopen feedback",
            });
        }
        if self.answer.is_empty() && matches!(self.status, FeedbackStatus::Answered | FeedbackStatus::Refused)
        {
            return Err(ValidationError::Empty { field: "answer" });
        }
        if self.answer.chars().count() > FEEDBACK_TEXT_MAX {
            return Err(ValidationError::TooLong { field: "answer", max: FEEDBACK_TEXT_MAX });
        }
        Ok(self)
    }
}

/// A coach asks a family member to read an entry and react ("wil je het verslag lezen en laten
/// weten of het klopt?").
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackRequestDraft {
    pub person_id: Uuid,
    pub note: String,
    pub due_on: Option<chrono::NaiveDate>,
}

pub const REQUEST_NOTE_MAX: usize = 300;

impl FeedbackRequestDraft {
    pub fn validate(mut self) -> Result<Self, ValidationError> {
        self.note = crate::validate::single_line("note", &self.note, REQUEST_NOTE_MAX)?;
        Ok(self)
    }
}

/// The request as synced to the person it is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct FeedbackRequest {
    pub id: Uuid,
    pub entry_id: Uuid,
    pub person_id: Uuid,
    pub note: String,
    pub due_on: chrono::NaiveDate,
    pub requested_by: String,
    pub created_at: DateTime<Utc>,
    /// When the person reacted on the entry.
    pub done_at: Option<DateTime<Utc>>,
    #[ts(type = "number")]
    pub version: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(kind: FeedbackKind, text: &str) -> FeedbackDraft {
        FeedbackDraft { id: Uuid::nil(), entry_id: Uuid::nil(), kind, text: text.into() }
    }

    #[test]
    fn feedback_text_is_checked() {
        assert_eq!(
            draft(FeedbackKind::Vraag, "  Wat bedoelt u?  ").validate().expect("ok").text,
            "Wat bedoelt u?"
        );
        assert!(draft(FeedbackKind::Correctie, "   ").validate().is_err());
        assert!(draft(FeedbackKind::Akkoord, "").validate().is_ok());
        assert!(draft(FeedbackKind::Aanvulling, &"x".repeat(FEEDBACK_TEXT_MAX + 1)).validate().is_err());
        assert!(draft(FeedbackKind::Aanvulling, "regel\nregel").validate().is_ok());
        assert!(draft(FeedbackKind::Aanvulling, "bel\u{7}").validate().is_err());
        for k in FeedbackKind::ALL {
            assert_eq!(FeedbackKind::parse(k.as_str()), Some(k));
        }
    }

    #[test]
    fn a_refusal_needs_a_reason() {
        let a = |status, answer: &str| FeedbackAnswer { status, answer: answer.into() }.validate();
        assert!(a(FeedbackStatus::Refused, " ").is_err());
        assert!(a(FeedbackStatus::Refused, "Het verslag klopt zo.").is_ok());
        assert!(a(FeedbackStatus::Handled, "").is_ok());
        assert!(a(FeedbackStatus::Open, "x").is_err());
    }
}
