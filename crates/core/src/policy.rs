//! Who may see what. The server applies this before anything leaves it; the app never decides.
//!
//! The walking skeleton knows one rule: a family member sees their own family's dossier.
//! The age bands and gezag of the Jeugdwet come with the access-policy issue.

use uuid::Uuid;

/// The facts about a signed-in client the policy needs.
#[derive(Debug, Clone, Copy)]
pub struct Viewer {
    pub person_id: Uuid,
    pub dossier_id: Uuid,
}

pub fn may_see_dossier(viewer: Viewer, dossier_id: Uuid) -> bool {
    viewer.dossier_id == dossier_id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_sees_only_their_own_dossier() {
        let own = Uuid::from_u128(1);
        let viewer = Viewer { person_id: Uuid::from_u128(9), dossier_id: own };
        assert!(may_see_dossier(viewer, own));
        assert!(!may_see_dossier(viewer, Uuid::from_u128(2)));
    }
}
