//! Audit vocabulary (NEN 7513): what a staff member did, and why; and the canonical bytes of
//! an event and a checkpoint, which the hash chain and the server's signature cover.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::validate::ValidationError;

/// Why a staff member opens or changes a dossier. Required on every staff access to client
/// data, sent as the `X-Cjg-Purpose` header; a fixed list so the client can show it in plain
/// language and nobody types a free-text reason that itself leaks client data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Giving the help itself.
    Hulpverlening,
    /// Preparing a conversation with the family.
    GesprekVoorbereiden,
    /// Writing a report of a conversation.
    VerslagSchrijven,
    /// Consultation with colleagues, with the family's consent.
    Overleg,
    /// Deciding on access to (more) help.
    Toegangsbesluit,
    /// Handing the family over to another coach or organisation.
    Overdracht,
    /// Quality control or supervision.
    Kwaliteit,
    /// The family asked for it.
    VerzoekClient,
}

impl Purpose {
    pub const ALL: [Purpose; 8] = [
        Self::Hulpverlening,
        Self::GesprekVoorbereiden,
        Self::VerslagSchrijven,
        Self::Overleg,
        Self::Toegangsbesluit,
        Self::Overdracht,
        Self::Kwaliteit,
        Self::VerzoekClient,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hulpverlening => "hulpverlening",
            Self::GesprekVoorbereiden => "gesprek_voorbereiden",
            Self::VerslagSchrijven => "verslag_schrijven",
            Self::Overleg => "overleg",
            Self::Toegangsbesluit => "toegangsbesluit",
            Self::Overdracht => "overdracht",
            Self::Kwaliteit => "kwaliteit",
            Self::VerzoekClient => "verzoek_client",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// NEN 7513's actions as far as this system performs them: bekeken, aangemaakt, gewijzigd,
/// verwijderd, geëxporteerd, gedeeld.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    Create,
    Read,
    Update,
    Delete,
    Export,
    Share,
}

impl AuditAction {
    pub const ALL: [AuditAction; 6] =
        [Self::Create, Self::Read, Self::Update, Self::Delete, Self::Export, Self::Share];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Read => "read",
            Self::Update => "update",
            Self::Delete => "delete",
            Self::Export => "export",
            Self::Share => "share",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// What a staff access touched, as the audit line names it (`object_type`). A fixed list so
/// a route cannot log a typo the family's app would not know how to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditObject {
    ActivationCode,
    AuditLog,
    /// Which staff members work with the family (set by the CJG's own system).
    CareTeam,
    Device,
    Devices,
    Entries,
    Entry,
    Feedback,
    FeedbackRequest,
    Message,
    Messages,
    People,
    Questionnaire,
    Questionnaires,
    ReadingTip,
    ReadingTips,
    Trajectory,
}

impl AuditObject {
    pub const ALL: [AuditObject; 17] = [
        Self::ActivationCode,
        Self::AuditLog,
        Self::CareTeam,
        Self::Device,
        Self::Devices,
        Self::Entries,
        Self::Entry,
        Self::Feedback,
        Self::FeedbackRequest,
        Self::Message,
        Self::Messages,
        Self::People,
        Self::Questionnaire,
        Self::Questionnaires,
        Self::ReadingTip,
        Self::ReadingTips,
        Self::Trajectory,
    ];

    /// The name stored in the log and shown (translated) in the family's Inzage.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ActivationCode => "activation_code",
            Self::AuditLog => "audit_log",
            Self::CareTeam => "care_team",
            Self::Device => "device",
            Self::Devices => "devices",
            Self::Entries => "entries",
            Self::Entry => "entry",
            Self::Feedback => "feedback",
            Self::FeedbackRequest => "feedback_request",
            Self::Message => "message",
            Self::Messages => "messages",
            Self::People => "people",
            Self::Questionnaire => "questionnaire",
            Self::Questionnaires => "questionnaires",
            Self::ReadingTip => "reading_tip",
            Self::ReadingTips => "reading_tips",
            Self::Trajectory => "trajectory",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// A staff member states why they open a dossier; it holds for a short window (30 minutes
/// unless configured). The note is shown to the family: it says why, never what about.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PurposeRequest {
    pub purpose: Purpose,
    #[serde(default)]
    pub note: Option<String>,
}

pub const PURPOSE_NOTE_MAX: usize = 200;

impl PurposeRequest {
    /// The note trimmed, `None` when empty; one line of at most [`PURPOSE_NOTE_MAX`] characters.
    pub fn note(&self) -> Result<Option<String>, ValidationError> {
        match self.note.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(n) => crate::validate::single_line("note", n, PURPOSE_NOTE_MAX).map(Some),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PurposeResponse {
    pub purpose: Purpose,
    pub expires_at: DateTime<Utc>,
}

/// One line of a dossier's access log, as it is chained, sent to the family and shown in Inzage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct AuditEvent {
    pub id: Uuid,
    pub dossier_id: Uuid,
    /// 1-based place in the dossier's chain.
    pub position: u32,
    pub actor_id: Uuid,
    pub actor_name: String,
    pub actor_role: String,
    pub action: AuditAction,
    /// What was touched: `dossier`, `entry`, `device`, `activation_code`, `audit_log`.
    pub object_type: String,
    pub object_id: Option<Uuid>,
    pub purpose: Purpose,
    pub purpose_note: Option<String>,
    pub at: DateTime<Utc>,
    /// The application the access came through (e.g. `staff-api`).
    pub origin: String,
}

/// Appends length-prefixed fields: no field can run into the next, whatever it contains.
pub(crate) struct Canonical(pub(crate) Vec<u8>);

impl Canonical {
    pub(crate) fn new(domain: &str) -> Self {
        let mut c = Self(Vec::with_capacity(256));
        c.field(domain.as_bytes());
        c
    }

    pub(crate) fn field(&mut self, bytes: &[u8]) -> &mut Self {
        // Fields are short (names, ids, a note of 200 characters): u32 is ample.
        let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        self.0.extend_from_slice(&len.to_be_bytes());
        self.0.extend_from_slice(bytes);
        self
    }

    fn opt(&mut self, v: Option<&str>) -> &mut Self {
        match v {
            None => self.field(b"\0none"),
            Some(s) => self.field(s.as_bytes()),
        }
    }
}

/// Times are chained at microsecond precision in UTC, the precision every store keeps.
pub fn canonical_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

impl AuditEvent {
    /// The bytes the hash chain covers: every field, in a fixed order, versioned. Ids as their
    /// 16 bytes and the time as microseconds since 1970: exact, and cheap to encode.
    pub fn canonical(&self) -> Vec<u8> {
        let mut c = Canonical::new("mijn-cjg/audit-event/v1");
        c.field(self.id.as_bytes())
            .field(self.dossier_id.as_bytes())
            .field(&self.position.to_be_bytes())
            .field(self.actor_id.as_bytes())
            .field(self.actor_name.as_bytes())
            .field(self.actor_role.as_bytes())
            .field(self.action.as_str().as_bytes())
            .field(self.object_type.as_bytes())
            .field(self.object_id.as_ref().map_or(&[][..], |u| u.as_bytes()))
            .field(self.purpose.as_str().as_bytes())
            .opt(self.purpose_note.as_deref())
            .field(&self.at.timestamp_micros().to_be_bytes())
            .field(self.origin.as_bytes());
        c.0
    }
}

/// The server's statement "the log of this person in this dossier has `size` events and ends
/// in `head`". Each person has a chain of their own, holding only the lines they may read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    pub dossier_id: Uuid,
    pub person_id: Uuid,
    pub size: u32,
    /// SHA-256 chain head, lowercase hex.
    pub head: String,
    pub time: DateTime<Utc>,
}

impl Checkpoint {
    pub fn signing_message(&self) -> Vec<u8> {
        let mut c = Canonical::new("mijn-cjg/audit-checkpoint/v2");
        c.field(self.dossier_id.to_string().as_bytes())
            .field(self.person_id.to_string().as_bytes())
            .field(&self.size.to_be_bytes())
            .field(self.head.as_bytes())
            .field(canonical_time(self.time).as_bytes());
        c.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignedCheckpoint {
    pub checkpoint: Checkpoint,
    /// Ed25519 over [`Checkpoint::signing_message`], base64url without padding.
    pub signature: String,
}

/// New log lines for the client since the size it verified, and the checkpoint they end in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditBatch {
    pub events: Vec<AuditEvent>,
    pub checkpoint: SignedCheckpoint,
    /// Every replacement of the checkpoint key, oldest first: an app follows them from the key
    /// it pinned, each signed by the key before it, and accepts no other new key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_rotations: Vec<SignedKeyRotation>,
}

/// "The checkpoint key `old_key` is replaced by `new_key` from `at` on" (public keys, base64url).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyRotation {
    pub old_key: String,
    pub new_key: String,
    pub at: DateTime<Utc>,
}

impl KeyRotation {
    pub fn signing_message(&self) -> Vec<u8> {
        let mut c = Canonical::new("mijn-cjg/audit-key-rotation/v1");
        c.field(self.old_key.as_bytes())
            .field(self.new_key.as_bytes())
            .field(canonical_time(self.at).as_bytes());
        c.0
    }
}

/// A [`KeyRotation`] signed by the old key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignedKeyRotation {
    pub rotation: KeyRotation,
    /// Ed25519 by the old key over [`KeyRotation::signing_message`], base64url.
    pub signature: String,
}

/// What the app found wrong with a log the server sent, as it tells the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum AuditProblem {
    /// Lines the device verified before were changed, removed or moved.
    Rewritten,
    /// Lines are missing between the verified log and the new ones.
    Gap,
    /// The log is shorter than the one verified before.
    Shrunk,
    /// The checkpoint is older than one verified before: an old state played back.
    Backdated,
    /// The checkpoint is not signed with the key pinned at enrolment.
    NotSigned,
    /// The checkpoint is about another dossier or person.
    NotMine,
}

/// A client that found a log not extending what it verified tells the server.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditAlert {
    pub verified_size: u32,
    pub verified_head: String,
    pub received_size: u32,
    pub received_head: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_objects_round_trip_and_are_distinct() {
        for o in AuditObject::ALL {
            assert_eq!(AuditObject::parse(o.as_str()), Some(o));
        }
        let names: std::collections::BTreeSet<_> = AuditObject::ALL.iter().map(|o| o.as_str()).collect();
        assert_eq!(names.len(), AuditObject::ALL.len());
    }

    #[test]
    fn purposes_round_trip() {
        for p in Purpose::ALL {
            assert_eq!(Purpose::parse(p.as_str()), Some(p));
        }
        assert_eq!(Purpose::parse("nieuwsgierig"), None);
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.as_str()), Some(a));
        }
    }

    fn event() -> AuditEvent {
        AuditEvent {
            id: Uuid::from_u128(1),
            dossier_id: Uuid::from_u128(2),
            position: 1,
            actor_id: Uuid::from_u128(3),
            actor_name: "Fleur Demo".into(),
            actor_role: "coach".into(),
            action: AuditAction::Read,
            object_type: "entry".into(),
            object_id: Some(Uuid::from_u128(4)),
            purpose: Purpose::GesprekVoorbereiden,
            purpose_note: None,
            at: DateTime::from_timestamp(1_790_000_000, 123_456_789).unwrap_or_default(),
            origin: "staff-api".into(),
        }
    }

    #[test]
    fn every_field_changes_the_canonical_bytes() {
        let base = event().canonical();
        let variants: Vec<AuditEvent> = vec![
            AuditEvent { id: Uuid::from_u128(9), ..event() },
            AuditEvent { position: 2, ..event() },
            AuditEvent { actor_name: "Fleur Demo ".into(), ..event() },
            AuditEvent { action: AuditAction::Update, ..event() },
            AuditEvent { object_id: None, ..event() },
            AuditEvent { purpose_note: Some(String::new()), ..event() },
            AuditEvent { at: event().at + chrono::Duration::microseconds(1), ..event() },
            AuditEvent { origin: "app".into(), ..event() },
        ];
        for v in variants {
            assert_ne!(v.canonical(), base, "{v:?}");
        }
        // Two fields cannot trade bytes: "ab"+"c" differs from "a"+"bc".
        let a = AuditEvent { actor_name: "ab".into(), actor_role: "c".into(), ..event() };
        let b = AuditEvent { actor_name: "a".into(), actor_role: "bc".into(), ..event() };
        assert_ne!(a.canonical(), b.canonical());
        // Nanoseconds below a microsecond are not kept by stores, so they do not count.
        let finer = AuditEvent { at: event().at + chrono::Duration::nanoseconds(10), ..event() };
        assert_eq!(finer.canonical(), base);
    }

    #[test]
    fn purpose_notes_are_one_short_line() {
        let r = |n: &str| PurposeRequest { purpose: Purpose::Overleg, note: Some(n.into()) }.note();
        assert_eq!(r("  ").expect("empty is none"), None);
        assert_eq!(
            r(" om het gesprek van dinsdag voor te bereiden ").expect("ok").as_deref(),
            Some("om het gesprek van dinsdag voor te bereiden")
        );
        assert!(r(&"x".repeat(201)).is_err());
        assert!(r("twee\nregels").is_err());
    }
}
