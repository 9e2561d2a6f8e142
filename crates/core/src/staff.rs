//! Staff roles and what each may do beyond their own caseload. Caseload (which dossiers a
//! staff member works on) is data, not a role: the server checks it per request.

use uuid::Uuid;

/// A staff member's role at the CJG. The stored and logged name is the Dutch job title the
/// family sees in Inzage ("CJG-coach"), so it stays as the organisation writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StaffRole {
    /// Works with families: writes entries, sets tips, answers messages.
    Coach,
    /// Behavioural scientist: approves and withdraws information articles (four eyes).
    Gedragswetenschapper,
    /// Quality officer: reads the aggregated indicator report.
    Kwaliteitsmedewerker,
    Manager,
    /// Application manager of the CJG.
    FunctioneelBeheerder,
}

impl StaffRole {
    pub const ALL: [StaffRole; 5] = [
        Self::Coach,
        Self::Gedragswetenschapper,
        Self::Kwaliteitsmedewerker,
        Self::Manager,
        Self::FunctioneelBeheerder,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Coach => "CJG-coach",
            Self::Gedragswetenschapper => "Gedragswetenschapper",
            Self::Kwaliteitsmedewerker => "Kwaliteitsmedewerker",
            Self::Manager => "Manager",
            Self::FunctioneelBeheerder => "Functioneel beheerder",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The indicator report covers every team: not for coaches, who see only their caseload.
    pub fn may_read_reports(self) -> bool {
        matches!(self, Self::Kwaliteitsmedewerker | Self::Manager | Self::FunctioneelBeheerder)
    }

    /// Approving or withdrawing information families read is an editor's task (DOMAIN: a
    /// behavioural scientist); writing a draft is open to every staff member.
    pub fn may_edit_articles(self) -> bool {
        self == Self::Gedragswetenschapper
    }
}

/// Why an approval of an article revision is refused, before any storage is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ApprovalRefused {
    #[error("only an editor (gedragswetenschapper) approves or withdraws")]
    NotAnEditor,
    #[error("an author cannot approve their own text")]
    OwnText,
}

/// The four-eyes rule of Informatie: an editor approves, and never a text they wrote.
pub fn may_approve(role: StaffRole, approver: Uuid, author: Uuid) -> Result<(), ApprovalRefused> {
    if !role.may_edit_articles() {
        return Err(ApprovalRefused::NotAnEditor);
    }
    if approver == author {
        return Err(ApprovalRefused::OwnText);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip() {
        for r in StaffRole::ALL {
            assert_eq!(StaffRole::parse(r.as_str()), Some(r));
        }
        assert_eq!(StaffRole::parse("coach"), None, "the stored name is the job title");
    }

    #[test]
    fn only_quality_staff_and_managers_read_reports() {
        let readers: Vec<_> = StaffRole::ALL.into_iter().filter(|r| r.may_read_reports()).collect();
        assert_eq!(
            readers,
            [StaffRole::Kwaliteitsmedewerker, StaffRole::Manager, StaffRole::FunctioneelBeheerder]
        );
    }

    #[test]
    fn four_eyes() {
        let (editor, author) = (Uuid::from_u128(1), Uuid::from_u128(2));
        assert_eq!(may_approve(StaffRole::Gedragswetenschapper, editor, author), Ok(()));
        assert_eq!(
            may_approve(StaffRole::Gedragswetenschapper, author, author),
            Err(ApprovalRefused::OwnText)
        );
        for role in StaffRole::ALL.into_iter().filter(|r| *r != StaffRole::Gedragswetenschapper) {
            assert_eq!(may_approve(role, editor, author), Err(ApprovalRefused::NotAnEditor));
        }
    }
}
