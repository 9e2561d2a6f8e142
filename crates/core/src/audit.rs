//! Audit vocabulary (NEN 7513): what a staff member did, and why.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Why a staff member opens or changes a dossier. Required on every staff access to client
/// data, sent as the `X-Cjg-Purpose` header; a fixed list so the client can show it in plain
/// language and nobody types a free-text reason that itself leaks client data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
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
    /// Quality control or supervision.
    Kwaliteit,
    /// The family asked for it.
    VerzoekClient,
}

impl Purpose {
    pub const ALL: [Purpose; 6] = [
        Self::Hulpverlening,
        Self::GesprekVoorbereiden,
        Self::VerslagSchrijven,
        Self::Overleg,
        Self::Kwaliteit,
        Self::VerzoekClient,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hulpverlening => "hulpverlening",
            Self::GesprekVoorbereiden => "gesprek_voorbereiden",
            Self::VerslagSchrijven => "verslag_schrijven",
            Self::Overleg => "overleg",
            Self::Kwaliteit => "kwaliteit",
            Self::VerzoekClient => "verzoek_client",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    Create,
    Read,
    Update,
    Delete,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Read => "read",
            Self::Update => "update",
            Self::Delete => "delete",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_round_trip() {
        for p in Purpose::ALL {
            assert_eq!(Purpose::parse(p.as_str()), Some(p));
        }
        assert_eq!(Purpose::parse("nieuwsgierig"), None);
    }
}
