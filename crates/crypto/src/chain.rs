//! The per-dossier audit hash chain and its signed checkpoints. The server appends with
//! [`link`] and signs with [`sign_checkpoint`]; the client accepts new lines only through
//! [`verify_extension`], so a log that does not extend what it verified before is refused.

use chrono::{DateTime, Utc};
use cjg_core::audit::{AuditBatch, AuditEvent, Checkpoint, KeyRotation, SignedCheckpoint, SignedKeyRotation};
use thiserror::Error;
use uuid::Uuid;

use crate::{b64, unb64, verify_ed25519, DeviceKey};

pub type Hash = [u8; 32];

/// The head of an empty chain.
pub const GENESIS: Hash = [0; 32];

/// The next head: SHA-256 over a domain tag, the previous head and the event's canonical bytes.
pub fn link(prev: &Hash, event: &AuditEvent) -> Hash {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(b"mijn-cjg/audit-chain/v1\0");
    ctx.update(prev);
    ctx.update(&event.canonical());
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

pub fn hex(h: &Hash) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn unhex(s: &str) -> Option<Hash> {
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// What a client has verified of a dossier's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub size: u32,
    pub head: Hash,
}

impl Verified {
    pub const EMPTY: Verified = Verified { size: 0, head: GENESIS };
}

/// Whose log a device verifies, and the time of the newest checkpoint it accepted before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    pub dossier_id: Uuid,
    pub person_id: Uuid,
    pub not_before: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ChainError {
    #[error("the checkpoint is for another dossier or person")]
    WrongDossier,
    /// A checkpoint older than one already verified: an old state of the log played back.
    #[error("the checkpoint is older than the one verified before")]
    Backdated,
    #[error("the checkpoint's signature is not the server's")]
    BadSignature,
    #[error("line {got} arrived where line {expected} belongs")]
    Gap { expected: u32, got: u32 },
    #[error("the log has {received} lines, fewer than the {verified} already verified")]
    Shrunk { verified: u32, received: u32 },
    #[error("the log does not extend the one verified before")]
    NotAnExtension,
    /// A line no honest server writes: a purpose note with a control character. (An absent
    /// note is hashed as `\0none`, so that very note would hash like none at all.)
    #[error("line {0} holds a purpose note with a control character")]
    Malformed(u32),
}

impl ChainError {
    pub fn problem(&self) -> cjg_core::audit::AuditProblem {
        use cjg_core::audit::AuditProblem as P;
        match self {
            Self::WrongDossier => P::NotMine,
            Self::Backdated => P::Backdated,
            Self::BadSignature => P::NotSigned,
            Self::Gap { .. } => P::Gap,
            Self::Shrunk { .. } => P::Shrunk,
            Self::NotAnExtension | Self::Malformed(_) => P::Rewritten,
        }
    }
}

/// Checks that `batch` extends `known` exactly: its lines follow on, and hashing them onto the
/// known head gives the head the server signed for the new size.
pub fn verify_extension(
    known: Verified,
    expected: &Expected,
    batch: &AuditBatch,
    server_key: &[u8],
) -> Result<Verified, ChainError> {
    let cp = &batch.checkpoint;
    let dossier_id = expected.dossier_id;
    if cp.checkpoint.dossier_id != dossier_id || cp.checkpoint.person_id != expected.person_id {
        return Err(ChainError::WrongDossier);
    }
    let sig = unb64(&cp.signature).ok_or(ChainError::BadSignature)?;
    if !verify_ed25519(server_key, &cp.checkpoint.signing_message(), &sig) {
        return Err(ChainError::BadSignature);
    }
    if expected.not_before.is_some_and(|t| cp.checkpoint.time < t) {
        return Err(ChainError::Backdated);
    }
    if cp.checkpoint.size < known.size {
        return Err(ChainError::Shrunk { verified: known.size, received: cp.checkpoint.size });
    }
    let mut head = known.head;
    let mut expected = known.size;
    for e in &batch.events {
        expected += 1;
        if e.position != expected || e.dossier_id != dossier_id {
            return Err(ChainError::Gap { expected, got: e.position });
        }
        if e.purpose_note.as_deref().is_some_and(|n| n.chars().any(char::is_control)) {
            return Err(ChainError::Malformed(e.position));
        }
        head = link(&head, e);
    }
    if expected != cp.checkpoint.size || unhex(&cp.checkpoint.head) != Some(head) {
        return Err(ChainError::NotAnExtension);
    }
    Ok(Verified { size: expected, head })
}

/// The statement that `old` hands the checkpoints over to `new_public`, signed by `old`.
pub fn sign_rotation(old: &DeviceKey, new_public: &[u8], at: DateTime<Utc>) -> SignedKeyRotation {
    let rotation = KeyRotation { old_key: b64(&old.public_key()), new_key: b64(new_public), at };
    let signature = b64(&old.sign(&rotation.signing_message()));
    SignedKeyRotation { rotation, signature }
}

/// The newest checkpoint key reachable from `pinned` through `rotations`, each signed by the key
/// it replaces; `pinned` itself when none starts from it. A key swapped in without such a
/// statement is never reached, so checkpoints it signs fail as [`ChainError::BadSignature`].
pub fn follow_rotations(pinned: &[u8], rotations: &[SignedKeyRotation]) -> Vec<u8> {
    let mut key = pinned.to_vec();
    // Each step uses a statement; a cycle ends when they are used up.
    for _ in 0..rotations.len() {
        let next = rotations.iter().find_map(|r| {
            let old = unb64(&r.rotation.old_key)?;
            let sig = unb64(&r.signature)?;
            let new = unb64(&r.rotation.new_key)?;
            (old == key && new.len() == 32 && verify_ed25519(&key, &r.rotation.signing_message(), &sig))
                .then_some(new)
        });
        match next {
            Some(new) if new != key => key = new,
            _ => break,
        }
    }
    key
}

pub fn sign_checkpoint(key: &DeviceKey, checkpoint: Checkpoint) -> SignedCheckpoint {
    let signature = b64(&key.sign(&checkpoint.signing_message()));
    SignedCheckpoint { checkpoint, signature }
}

/// The head over `events` from the start, checking that positions run 1, 2, 3, …; the first
/// position that does not is returned as the break.
pub fn recompute<'a>(events: impl IntoIterator<Item = &'a AuditEvent>) -> Result<Verified, ChainError> {
    let mut v = Verified::EMPTY;
    for e in events {
        if e.position != v.size + 1 {
            return Err(ChainError::Gap { expected: v.size + 1, got: e.position });
        }
        v = Verified { size: e.position, head: link(&v.head, e) };
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use cjg_core::audit::{AuditAction, Purpose};

    fn event(position: u32) -> AuditEvent {
        AuditEvent {
            id: Uuid::from_u128(u128::from(position) + 1000),
            dossier_id: Uuid::from_u128(2),
            position,
            actor_id: Uuid::from_u128(3),
            actor_name: "Fleur Demo".into(),
            actor_role: "coach".into(),
            action: AuditAction::Read,
            object_type: "entry".into(),
            object_id: Some(Uuid::from_u128(4)),
            purpose: Purpose::Hulpverlening,
            purpose_note: None,
            at: DateTime::<Utc>::from_timestamp(1_790_000_000 + i64::from(position), 0).unwrap_or_default(),
            origin: "staff-api".into(),
        }
    }

    fn batch(key: &DeviceKey, all: &[AuditEvent], from: usize, to: usize) -> AuditBatch {
        let head = recompute(&all[..to]).expect("chain");
        let cp = Checkpoint {
            dossier_id: Uuid::from_u128(2),
            person_id: Uuid::from_u128(5),
            size: head.size,
            head: hex(&head.head),
            time: Utc::now(),
        };
        AuditBatch {
            events: all[from..to].to_vec(),
            checkpoint: sign_checkpoint(key, cp),
            key_rotations: Vec::new(),
        }
    }

    #[test]
    fn an_honest_log_verifies_in_pieces() {
        let key = DeviceKey::generate().expect("key");
        let all: Vec<AuditEvent> = (1..=10).map(event).collect();
        let d = &Expected { dossier_id: Uuid::from_u128(2), person_id: Uuid::from_u128(5), not_before: None };
        let v =
            verify_extension(Verified::EMPTY, d, &batch(&key, &all, 0, 4), &key.public_key()).expect("1-4");
        assert_eq!(v.size, 4);
        let v = verify_extension(v, d, &batch(&key, &all, 4, 10), &key.public_key()).expect("5-10");
        assert_eq!(v, recompute(&all).expect("chain"));
        // Nothing new is fine too.
        assert_eq!(verify_extension(v, d, &batch(&key, &all, 10, 10), &key.public_key()), Ok(v));
        assert_eq!(unhex(&hex(&v.head)), Some(v.head));
    }

    #[test]
    fn every_kind_of_tampering_is_caught() {
        let key = DeviceKey::generate().expect("key");
        let pk = key.public_key();
        let d = &Expected { dossier_id: Uuid::from_u128(2), person_id: Uuid::from_u128(5), not_before: None };
        let all: Vec<AuditEvent> = (1..=6).map(event).collect();
        let known = verify_extension(Verified::EMPTY, d, &batch(&key, &all, 0, 4), &pk).expect("verified");

        // An old line altered, then the chain re-hashed and re-signed by the server: the new
        // head does not extend the verified one.
        let mut altered = all.clone();
        altered[1].purpose = Purpose::VerzoekClient;
        assert_eq!(
            verify_extension(known, d, &batch(&key, &altered, 4, 6), &pk),
            Err(ChainError::NotAnExtension)
        );

        // An old line deleted: positions renumbered, or the log shorter than verified.
        let mut deleted = all.clone();
        deleted.remove(2);
        for (i, e) in deleted.iter_mut().enumerate() {
            e.position = u32::try_from(i).unwrap_or(0) + 1;
        }
        assert_eq!(
            verify_extension(known, d, &batch(&key, &deleted, 4, 5), &pk),
            Err(ChainError::NotAnExtension)
        );
        assert_eq!(
            verify_extension(known, d, &batch(&key, &deleted, 3, 3), &pk),
            Err(ChainError::Shrunk { verified: 4, received: 3 })
        );

        // Two lines swapped.
        let mut swapped = all.clone();
        swapped.swap(0, 1);
        swapped[0].position = 1;
        swapped[1].position = 2;
        assert_eq!(
            verify_extension(known, d, &batch(&key, &swapped, 4, 6), &pk),
            Err(ChainError::NotAnExtension)
        );

        // A new line skipped, a checkpoint not signed by the pinned key, another dossier.
        let mut gap = batch(&key, &all, 4, 6);
        gap.events.remove(0);
        assert!(matches!(
            verify_extension(known, d, &gap, &pk),
            Err(ChainError::Gap { expected: 5, got: 6 })
        ));
        let other = DeviceKey::generate().expect("key");
        assert_eq!(
            verify_extension(known, d, &batch(&other, &all, 4, 6), &pk),
            Err(ChainError::BadSignature)
        );
        assert_eq!(
            verify_extension(
                known,
                &Expected { dossier_id: Uuid::from_u128(7), ..*d },
                &batch(&key, &all, 4, 6),
                &pk
            ),
            Err(ChainError::WrongDossier)
        );
        assert_eq!(
            verify_extension(
                known,
                &Expected { person_id: Uuid::from_u128(6), ..*d },
                &batch(&key, &all, 4, 6),
                &pk
            ),
            Err(ChainError::WrongDossier),
            "another family member's log"
        );
        let later = Expected { not_before: Some(Utc::now() + chrono::Duration::hours(1)), ..*d };
        assert_eq!(
            verify_extension(known, &later, &batch(&key, &all, 4, 6), &pk),
            Err(ChainError::Backdated)
        );
        let mut forged = batch(&key, &all, 4, 6);
        forged.checkpoint.checkpoint.size = 7;
        assert_eq!(verify_extension(known, d, &forged, &pk), Err(ChainError::BadSignature));
    }
}
