//! Dossier entries and the people of a family, as both server and app see them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::validate::{self, ValidationError};

/// What a coach wrote: the three kinds the seed names for the Dossier module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// A conversation report.
    Gespreksverslag,
    /// An agreement or appointment made with the family.
    Afspraak,
    /// The family plan (gedragen plan).
    Plan,
}

impl EntryKind {
    pub const ALL: [EntryKind; 3] = [Self::Gespreksverslag, Self::Afspraak, Self::Plan];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gespreksverslag => "gespreksverslag",
            Self::Afspraak => "afspraak",
            Self::Plan => "plan",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One dossier entry at one version. `body` is a small markdown subset (see [`crate::markdown`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub id: Uuid,
    pub dossier_id: Uuid,
    /// The child this entry is about; `None` for the family as a whole.
    pub child_id: Option<Uuid>,
    pub kind: EntryKind,
    pub title: String,
    pub body: String,
    pub author_name: String,
    pub author_role: String,
    /// The day the conversation or agreement took place.
    pub occurred_on: NaiveDate,
    /// Starts at 1, +1 on every edit; the tombstone carries the next version.
    #[ts(type = "number")]
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum PersonRole {
    Parent,
    Child,
}

/// A member of a family as the app shows them (the filter "per kind").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct Person {
    pub id: Uuid,
    pub dossier_id: Uuid,
    pub role: PersonRole,
    pub display_name: String,
    pub birth_date: NaiveDate,
    #[ts(type = "number")]
    pub version: i64,
}

/// What a coach sends to create or change an entry. Validated before anything is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryDraft {
    pub kind: EntryKind,
    pub child_id: Option<Uuid>,
    pub title: String,
    pub body: String,
    pub occurred_on: NaiveDate,
}

pub const TITLE_MAX_CHARS: usize = 200;
pub const BODY_MAX_CHARS: usize = 20_000;

impl EntryDraft {
    /// Trims the title and checks the limits; returns the draft as it will be stored.
    pub fn validate(mut self) -> Result<Self, ValidationError> {
        self.title = validate::single_line("title", &self.title, TITLE_MAX_CHARS)?;
        self.body = validate::multi_line("body", &self.body, BODY_MAX_CHARS)?;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(title: &str, body: &str) -> EntryDraft {
        EntryDraft {
            kind: EntryKind::Plan,
            child_id: None,
            title: title.into(),
            body: body.into(),
            occurred_on: NaiveDate::from_ymd_opt(2026, 3, 1).expect("valid date"),
        }
    }

    #[test]
    fn kind_round_trips_through_its_name() {
        for k in EntryKind::ALL {
            assert_eq!(EntryKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(EntryKind::parse("werkaantekening"), None);
    }

    #[test]
    fn draft_is_trimmed_and_limited() {
        let ok = draft("  Plan  ", "tekst").validate().expect("valid");
        assert_eq!(ok.title, "Plan");
        assert!(draft("", "tekst").validate().is_err());
        assert!(draft("a\nb", "tekst").validate().is_err());
        assert!(draft("t", &"x".repeat(BODY_MAX_CHARS + 1)).validate().is_err());
        assert!(draft("t", "nul\u{0}byte").validate().is_err());
    }

    #[test]
    fn unknown_fields_are_refused() {
        let json =
            r#"{"kind":"plan","child_id":null,"title":"t","body":"b","occurred_on":"2026-01-01","extra":1}"#;
        assert!(serde_json::from_str::<EntryDraft>(json).is_err());
    }
}
