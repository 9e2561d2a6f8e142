//! Staff roles and what each may do beyond their own caseload. Caseload (which dossiers a
//! staff member works on) is data, not a role: the server checks it per request.

use uuid::Uuid;

/// A staff member's role at the CJG. The stored and logged name is the Dutch job title the
/// family sees in Inzage ("CJG-coach"), so it stays as the organisation writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(try_from = "String")]
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
    /// One of the CJG's own systems (the ECD) through the FHIR endpoint: a system account that
    /// cannot sign in, named in the access log like a person would be.
    Systeemkoppeling,
}

impl TryFrom<String> for StaffRole {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::from_config_name(&s).ok_or_else(|| {
            format!("unknown role {s:?}: coach, gedragswetenschapper, kwaliteitsmedewerker, manager or functioneel_beheerder")
        })
    }
}

impl StaffRole {
    pub const ALL: [StaffRole; 6] = [
        Self::Coach,
        Self::Gedragswetenschapper,
        Self::Kwaliteitsmedewerker,
        Self::Manager,
        Self::FunctioneelBeheerder,
        Self::Systeemkoppeling,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Coach => "CJG-coach",
            Self::Gedragswetenschapper => "Gedragswetenschapper",
            Self::Kwaliteitsmedewerker => "Kwaliteitsmedewerker",
            Self::Manager => "Manager",
            Self::FunctioneelBeheerder => "Functioneel beheerder",
            Self::Systeemkoppeling => "Systeemkoppeling",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The name an administrator writes on the command line or in a configuration file
    /// (`coach`, `functioneel_beheerder`), or the job title itself. Never the system accounts'
    /// role: no person and no group of the organisation gets it.
    pub fn from_config_name(s: &str) -> Option<Self> {
        match s {
            "coach" => Some(Self::Coach),
            "gedragswetenschapper" => Some(Self::Gedragswetenschapper),
            "kwaliteitsmedewerker" => Some(Self::Kwaliteitsmedewerker),
            "manager" => Some(Self::Manager),
            "functioneel_beheerder" => Some(Self::FunctioneelBeheerder),
            other => Self::parse(other).filter(|r| *r != Self::Systeemkoppeling),
        }
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

/// What a staff member does in a dossier of their caseload. Being on the caseload is needed for
/// every one of these; the role decides which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaseloadTask {
    /// Read what the family's file holds: entries, messages, feedback, questionnaires, tips,
    /// the trajectory, the access log.
    ReadFile,
    /// See who is in the family and which devices they use (support work).
    ReadMembers,
    /// Write or change an entry.
    WriteEntries,
    /// Delete an entry (the earlier version stays on the server).
    DeleteEntries,
    IssueActivationCodes,
    RevokeDevices,
    SendQuestionnaires,
    SetTrajectory,
    SetTips,
    MessageFamily,
    /// Answer a family member's feedback, or ask for it.
    HandleFeedback,
}

impl CaseloadTask {
    pub const ALL: [CaseloadTask; 11] = [
        Self::ReadFile,
        Self::ReadMembers,
        Self::WriteEntries,
        Self::DeleteEntries,
        Self::IssueActivationCodes,
        Self::RevokeDevices,
        Self::SendQuestionnaires,
        Self::SetTrajectory,
        Self::SetTips,
        Self::MessageFamily,
        Self::HandleFeedback,
    ];

    /// The task an audited access is: every staff access to a dossier is logged as an action
    /// on an object, and the same pair says which permission it needs.
    pub fn of(action: crate::audit::AuditAction, object: crate::audit::AuditObject) -> Self {
        use crate::audit::{AuditAction as A, AuditObject as O};
        match (action, object) {
            (A::Read | A::Export, O::People | O::Devices | O::Device | O::CareTeam) => Self::ReadMembers,
            (A::Read | A::Export, _) => Self::ReadFile,
            (A::Delete, O::Entry | O::Entries) => Self::DeleteEntries,
            (_, O::Entry | O::Entries) => Self::WriteEntries,
            (_, O::ActivationCode) => Self::IssueActivationCodes,
            (_, O::Device | O::Devices) => Self::RevokeDevices,
            (_, O::Questionnaire | O::Questionnaires) => Self::SendQuestionnaires,
            (_, O::Trajectory) => Self::SetTrajectory,
            (_, O::ReadingTip | O::ReadingTips) => Self::SetTips,
            (_, O::Message | O::Messages) => Self::MessageFamily,
            (_, O::Feedback | O::FeedbackRequest) => Self::HandleFeedback,
            // Nobody writes the access log, the people or the care team through a staff route
            // (the CJG's own system does, through FHIR); should a new route try, only the
            // coach's full set of tasks covers it.
            (_, O::AuditLog | O::People | O::CareTeam) => Self::DeleteEntries,
        }
    }
}

impl StaffRole {
    /// What this role may do in a dossier of their caseload. The coach does the work with the
    /// family; a behavioural scientist advises (reads, writes entries, points to information,
    /// handles feedback); a manager reads; the application manager helps with access (codes,
    /// devices) without reading the file; a quality officer works from the report only.
    pub fn may_in_caseload(self, task: CaseloadTask) -> bool {
        use CaseloadTask as T;
        match self {
            Self::Coach => true,
            Self::Gedragswetenschapper => {
                matches!(
                    task,
                    T::ReadFile | T::ReadMembers | T::WriteEntries | T::SetTips | T::HandleFeedback
                )
            }
            Self::Manager => matches!(task, T::ReadFile | T::ReadMembers),
            Self::FunctioneelBeheerder => {
                matches!(task, T::ReadMembers | T::IssueActivationCodes | T::RevokeDevices)
            }
            // A system account does nothing through the staff API; the FHIR endpoint has its
            // own scopes and teams.
            Self::Kwaliteitsmedewerker | Self::Systeemkoppeling => false,
        }
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

    /// The whole table, written out: a change to who may do what shows up here.
    #[test]
    fn roles_inside_a_caseload() {
        use CaseloadTask as T;
        use StaffRole as R;
        let y = true;
        let n = false;
        // Read, Members, Write, Delete, Codes, Devices, Questionnaires, Trajectory, Tips, Messages, Feedback
        let table: [(R, [bool; 11]); 5] = [
            (R::Coach, [y, y, y, y, y, y, y, y, y, y, y]),
            (R::Gedragswetenschapper, [y, y, y, n, n, n, n, n, y, n, y]),
            (R::Manager, [y, y, n, n, n, n, n, n, n, n, n]),
            (R::FunctioneelBeheerder, [n, y, n, n, y, y, n, n, n, n, n]),
            (R::Kwaliteitsmedewerker, [n, n, n, n, n, n, n, n, n, n, n]),
        ];
        for (role, row) in table {
            for (task, expected) in T::ALL.into_iter().zip(row) {
                assert_eq!(role.may_in_caseload(task), expected, "{role:?} {task:?}");
            }
        }
    }

    #[test]
    fn every_audited_access_names_a_task() {
        use crate::audit::{AuditAction as A, AuditObject as O};
        assert_eq!(CaseloadTask::of(A::Read, O::Entries), CaseloadTask::ReadFile);
        assert_eq!(CaseloadTask::of(A::Read, O::AuditLog), CaseloadTask::ReadFile);
        assert_eq!(CaseloadTask::of(A::Read, O::People), CaseloadTask::ReadMembers);
        assert_eq!(CaseloadTask::of(A::Create, O::Entry), CaseloadTask::WriteEntries);
        assert_eq!(CaseloadTask::of(A::Update, O::Entry), CaseloadTask::WriteEntries);
        assert_eq!(CaseloadTask::of(A::Delete, O::Entry), CaseloadTask::DeleteEntries);
        assert_eq!(CaseloadTask::of(A::Create, O::ActivationCode), CaseloadTask::IssueActivationCodes);
        assert_eq!(CaseloadTask::of(A::Delete, O::Device), CaseloadTask::RevokeDevices);
        assert_eq!(CaseloadTask::of(A::Create, O::Message), CaseloadTask::MessageFamily);
        assert_eq!(CaseloadTask::of(A::Update, O::Trajectory), CaseloadTask::SetTrajectory);
        // Every pair has an answer, and writing what no route writes needs the most.
        for object in O::ALL {
            assert_eq!(
                CaseloadTask::of(A::Read, object) == CaseloadTask::ReadMembers,
                matches!(object, O::People | O::Devices | O::Device | O::CareTeam)
            );
        }
        assert_eq!(CaseloadTask::of(A::Update, O::AuditLog), CaseloadTask::DeleteEntries);
    }

    #[test]
    fn roles_round_trip() {
        for r in StaffRole::ALL {
            assert_eq!(StaffRole::parse(r.as_str()), Some(r));
        }
        assert_eq!(StaffRole::parse("coach"), None, "the stored name is the job title");
        assert_eq!(StaffRole::from_config_name("Systeemkoppeling"), None, "no person gets it");
        assert_eq!(StaffRole::from_config_name("systeemkoppeling"), None);
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
