//! Berichten: safe messaging between a family member and their coach. Each family member has
//! their own conversation with the coaches of the dossier: what a youth writes is not read by
//! their parents, and the other way round.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::validate::{multi_line, ValidationError};

pub const MESSAGE_MAX: usize = 4000;

/// What the app sends. `id` is made by the app: the idempotency key of its outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct MessageDraft {
    pub id: Uuid,
    pub text: String,
}

impl MessageDraft {
    /// Trims; something must remain, at most [`MESSAGE_MAX`] characters.
    pub fn validate(mut self) -> Result<Self, ValidationError> {
        self.text = multi_line("text", self.text.trim(), MESSAGE_MAX)?;
        Ok(self)
    }
}

/// A coach's message to one family member.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffMessageDraft {
    pub text: String,
}

/// A message of a conversation, as both sides see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct Message {
    pub id: Uuid,
    /// Whose conversation this is.
    pub person_id: Uuid,
    pub from_coach: bool,
    pub author_name: String,
    pub text: String,
    pub created_at: DateTime<Utc>,
    /// When the other side opened it.
    pub read_at: Option<DateTime<Utc>>,
    #[ts(type = "number")]
    pub version: i64,
}

/// The family member opened the conversation: these coach messages are read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct ReadReceipt {
    pub message_ids: Vec<Uuid>,
}

pub const RECEIPT_MAX: usize = 500;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn messages_are_trimmed_and_bounded() {
        let d = |t: &str| MessageDraft { id: Uuid::nil(), text: t.into() }.validate();
        assert_eq!(d("  Hoi coach  \n").unwrap().text, "Hoi coach");
        assert!(d("   \n\t ").is_err());
        assert!(d(&"x".repeat(100_000)).is_err());
        assert!(d("a\u{0}b").is_err());
        assert_eq!(d("Regel 1\r\nRegel 2").unwrap().text, "Regel 1\nRegel 2");
    }
}
