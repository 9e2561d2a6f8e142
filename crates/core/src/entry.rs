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
    pub visibility: Visibility,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum PersonRole {
    /// A parent or guardian; whether they have gezag is a separate fact.
    Parent,
    /// A child or youth of the family.
    Child,
    /// Another carer in the help (a step-parent, a grandparent who raises the children).
    Carer,
}

impl PersonRole {
    pub const ALL: [PersonRole; 3] = [Self::Parent, Self::Child, Self::Carer];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Parent => "parent",
            Self::Child => "child",
            Self::Carer => "carer",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Who in the family may read an entry; the policy turns this into a yes or no per person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// The whole family: parents, carers and the youths of 12 and over.
    Family,
    /// About one child: the child from 12, and the parents with gezag as the age rules allow.
    Child,
    /// Only the youth it is about (from 12), never the parents.
    YouthOnly,
    /// Only the parents with gezag (and, if it is about a child, only while they may see that child's entries).
    ParentsOnly,
    /// A staff work note (werkaantekening): it never leaves the server.
    StaffOnly,
}

impl Visibility {
    pub const ALL: [Visibility; 5] =
        [Self::Family, Self::Child, Self::YouthOnly, Self::ParentsOnly, Self::StaffOnly];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Family => "family",
            Self::Child => "child",
            Self::YouthOnly => "youth_only",
            Self::ParentsOnly => "parents_only",
            Self::StaffOnly => "staff_only",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Whether this visibility needs, allows or forbids a `child_id`.
    fn child_rule(self) -> ChildRule {
        match self {
            Self::Family => ChildRule::Forbidden,
            Self::Child | Self::YouthOnly => ChildRule::Required,
            Self::ParentsOnly | Self::StaffOnly => ChildRule::Optional,
        }
    }
}

enum ChildRule {
    Required,
    Optional,
    Forbidden,
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
    /// Parental authority: only parents with gezag see their children's entries.
    pub has_gezag: bool,
    /// A youth's recorded consent to let the parents with gezag read their entries (from 16).
    pub shares_with_parents: bool,
    /// The day the consent was given: one given before 16 is asked again at 16
    /// ([`crate::policy::consent_to_ask_again`]). Absent in what older servers sent.
    #[serde(default)]
    #[ts(type = "string | null")]
    pub consent_on: Option<NaiveDate>,
    #[ts(type = "number")]
    pub version: i64,
}

/// What a coach sends to create or change an entry. Validated before anything is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryDraft {
    pub kind: EntryKind,
    pub child_id: Option<Uuid>,
    /// Left out: `child` when the entry is about a child, else `family`.
    #[serde(default)]
    pub visibility: Option<Visibility>,
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
        let visibility = self.visibility();
        let fits = match visibility.child_rule() {
            ChildRule::Required => self.child_id.is_some(),
            ChildRule::Optional => true,
            ChildRule::Forbidden => self.child_id.is_none(),
        };
        if !fits {
            return Err(ValidationError::Invalid {
                field: "child_id",
                reason: "this visibility needs a child_id (child, youth_only) or forbids one (family)",
            });
        }
        self.visibility = Some(visibility);
        Ok(self)
    }

    /// The visibility as stored: the explicit one, or the default for the child_id.
    pub fn visibility(&self) -> Visibility {
        self.visibility.unwrap_or(if self.child_id.is_some() {
            Visibility::Child
        } else {
            Visibility::Family
        })
    }
}

/// What became of an earlier version of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryChange {
    Updated,
    Deleted,
}

impl EntryChange {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Updated => "updated",
            Self::Deleted => "deleted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Updated, Self::Deleted].into_iter().find(|c| c.as_str() == s)
    }
}

/// An earlier version of an entry, as staff see it in the entry's history: what it said, who
/// wrote it and when, and who changed or deleted it, when and why. A dossier stays traceable
/// (Jeugdwet art. 7.3.8); the family never receives these, only the current text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EntryVersion {
    pub version: i64,
    pub kind: EntryKind,
    pub visibility: Visibility,
    pub child_id: Option<Uuid>,
    pub title: String,
    pub body: String,
    pub occurred_on: NaiveDate,
    pub written_by: String,
    pub written_by_role: String,
    pub written_at: DateTime<Utc>,
    pub change: EntryChange,
    pub changed_by: String,
    pub changed_by_role: String,
    pub changed_at: DateTime<Utc>,
    /// The purpose under which the change was made (as in the access log).
    pub purpose: crate::audit::Purpose,
    /// The reason the coach gave for this change, else the note of the purpose, if any.
    pub reason: Option<String>,
}

pub const CHANGE_REASON_MAX: usize = 200;

/// The reason given for changing or deleting an entry: one line, or none when empty.
pub fn change_reason(reason: Option<&str>) -> Result<Option<String>, ValidationError> {
    match reason.map(str::trim) {
        None | Some("") => Ok(None),
        Some(r) => validate::single_line("reason", r, CHANGE_REASON_MAX).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(title: &str, body: &str) -> EntryDraft {
        EntryDraft {
            kind: EntryKind::Plan,
            child_id: None,
            visibility: None,
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
    fn visibility_defaults_from_the_child_and_must_fit_it() {
        let child = Some(Uuid::from_u128(7));
        assert_eq!(draft("t", "b").validate().expect("ok").visibility, Some(Visibility::Family));
        let about = EntryDraft { child_id: child, ..draft("t", "b") };
        assert_eq!(about.validate().expect("ok").visibility, Some(Visibility::Child));
        let family_about_child =
            EntryDraft { child_id: child, visibility: Some(Visibility::Family), ..draft("t", "b") };
        assert!(family_about_child.validate().is_err());
        let youth_without_child = EntryDraft { visibility: Some(Visibility::YouthOnly), ..draft("t", "b") };
        assert!(youth_without_child.validate().is_err());
        let note = EntryDraft { visibility: Some(Visibility::StaffOnly), ..draft("t", "b") };
        assert!(note.validate().is_ok());
        for v in Visibility::ALL {
            assert_eq!(Visibility::parse(v.as_str()), Some(v));
        }
        for r in PersonRole::ALL {
            assert_eq!(PersonRole::parse(r.as_str()), Some(r));
        }
    }

    #[test]
    fn unknown_fields_are_refused() {
        let json =
            r#"{"kind":"plan","child_id":null,"title":"t","body":"b","occurred_on":"2026-01-01","extra":1}"#;
        assert!(serde_json::from_str::<EntryDraft>(json).is_err());
    }
}
