//! Properties of the audit chain: however an honest log is cut into batches, it verifies to the
//! same head; and any change, removal or reordering of a line the app already verified is
//! caught, even when whoever changed it re-signs a checkpoint over the changed log.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Utc};
use cjg_core::audit::{AuditAction, AuditBatch, AuditEvent, Checkpoint, Purpose};
use cjg_crypto::chain::{hex, recompute, sign_checkpoint, verify_extension, Expected, Verified};
use cjg_crypto::DeviceKey;
use proptest::prelude::*;
use uuid::Uuid;

const DOSSIER: Uuid = Uuid::from_u128(2);
const PERSON: Uuid = Uuid::from_u128(5);
const WHOSE: Expected = Expected { dossier_id: DOSSIER, person_id: PERSON, not_before: None };

fn event(position: u32, seed: u64) -> AuditEvent {
    AuditEvent {
        id: Uuid::from_u128(u128::from(seed) << 32 | u128::from(position)),
        dossier_id: DOSSIER,
        position,
        actor_id: Uuid::from_u128(3 + u128::from(seed % 3)),
        actor_name: format!("Coach {}", seed % 5),
        actor_role: "CJG-coach".into(),
        action: AuditAction::ALL[(seed % 6) as usize],
        object_type: "entry".into(),
        object_id: Some(Uuid::from_u128(u128::from(seed))),
        purpose: Purpose::ALL[(seed % 8) as usize],
        purpose_note: seed.is_multiple_of(2).then(|| format!("overleg {seed}")),
        at: DateTime::<Utc>::from_timestamp(1_790_000_000 + i64::from(position) * 60, 0).unwrap_or_default(),
        origin: "staff-api".into(),
    }
}

/// Positions 1, 2, 3, … again, as someone hiding a removal or a swap would renumber them.
fn renumbered(mut log: Vec<AuditEvent>) -> Vec<AuditEvent> {
    for (i, e) in log.iter_mut().enumerate() {
        e.position = u32::try_from(i + 1).unwrap();
    }
    log
}

/// What the server would send for `log` after `from` lines: the lines and a checkpoint signed
/// over the whole of `log`.
fn batch(key: &DeviceKey, log: &[AuditEvent], from: usize) -> AuditBatch {
    let head = recompute(log).expect("positions in order");
    let cp = Checkpoint {
        dossier_id: DOSSIER,
        person_id: PERSON,
        size: head.size,
        head: hex(&head.head),
        time: Utc::now(),
    };
    AuditBatch {
        events: log[from.min(log.len())..].to_vec(),
        checkpoint: sign_checkpoint(key, cp),
        key_rotations: Vec::new(),
    }
}

fn key() -> &'static DeviceKey {
    static KEY: std::sync::OnceLock<DeviceKey> = std::sync::OnceLock::new();
    KEY.get_or_init(|| DeviceKey::generate().expect("key"))
}

/// A log of `len` lines, and how many of them the app verified before.
fn log_and_prefix() -> impl Strategy<Value = (Vec<AuditEvent>, usize)> {
    (1usize..40, any::<u64>()).prop_flat_map(|(len, seed)| {
        let log: Vec<AuditEvent> =
            (1..=len).map(|p| event(u32::try_from(p).unwrap(), seed.wrapping_add(p as u64))).collect();
        (Just(log), 1..=len)
    })
}

fn verified(log: &[AuditEvent], upto: usize) -> Verified {
    recompute(&log[..upto]).expect("honest prefix")
}

proptest! {
    #[test]
    fn an_honest_log_verifies_in_any_pieces((log, _) in log_and_prefix(), cuts in prop::collection::vec(0usize..40, 0..5)) {
        let mut points: Vec<usize> = cuts.into_iter().map(|c| c % (log.len() + 1)).collect();
        points.push(log.len());
        points.sort_unstable();
        let mut known = Verified::EMPTY;
        for to in points {
            let b = batch(key(), &log[..to], known.size as usize);
            known = verify_extension(known, &WHOSE, &b, &key().public_key()).expect("honest");
        }
        prop_assert_eq!(known, recompute(&log).unwrap());
    }

    #[test]
    fn a_changed_verified_line_is_caught((log, k) in log_and_prefix(), line in any::<prop::sample::Index>(), field in 0usize..6) {
        let known = verified(&log, k);
        let mut tampered = log.clone();
        let e = &mut tampered[line.index(k)];
        match field {
            0 => e.actor_name.push('x'),
            1 => e.purpose = if e.purpose == Purpose::Overleg { Purpose::Kwaliteit } else { Purpose::Overleg },
            2 => e.purpose_note = Some(format!("{:?}!", e.purpose_note)),
            3 => e.at += chrono::Duration::seconds(1),
            4 => e.object_id = None,
            _ => e.action = if e.action == AuditAction::Read { AuditAction::Update } else { AuditAction::Read },
        }
        let b = batch(key(), &tampered, k);
        prop_assert!(verify_extension(known, &WHOSE, &b, &key().public_key()).is_err());
    }

    #[test]
    fn a_removed_verified_line_is_caught((log, k) in log_and_prefix(), line in any::<prop::sample::Index>()) {
        let known = verified(&log, k);
        let mut shorter = log.clone();
        shorter.remove(line.index(k));
        let b = batch(key(), &renumbered(shorter), k);
        prop_assert!(verify_extension(known, &WHOSE, &b, &key().public_key()).is_err());
    }

    #[test]
    fn a_reordered_verified_line_is_caught((log, k) in log_and_prefix(), a in any::<prop::sample::Index>(), b in any::<prop::sample::Index>()) {
        prop_assume!(log.len() >= 2);
        let i = a.index(k);
        let j = b.index(log.len());
        prop_assume!(i != j);
        let known = verified(&log, k);
        let mut swapped = log.clone();
        swapped.swap(i, j);
        let b = batch(key(), &renumbered(swapped), k);
        prop_assert!(verify_extension(known, &WHOSE, &b, &key().public_key()).is_err());
    }
}

/// Found by `cjg-core`'s `tests/input_props.rs` reasoning about the encoding: an absent note is
/// hashed as the field `\0none`, so a note of exactly that text hashes like no note at all, and
/// a server could add or drop it without breaking the chain. The server never writes a note
/// with a control character (`validate::single_line`), so the app refuses a line that has one.
#[test]
fn a_note_that_would_hash_like_no_note_is_refused() {
    let mut log: Vec<AuditEvent> = (1..=3).map(|p| event(p, 7)).collect();
    log[1].purpose_note = None;
    let mut twin = log[1].clone();
    twin.purpose_note = Some("\0none".into());
    assert_eq!(twin.canonical(), log[1].canonical(), "the encoding cannot tell them apart");
    log[1] = twin;
    let b = batch(key(), &log, 0);
    assert!(verify_extension(Verified::EMPTY, &WHOSE, &b, &key().public_key()).is_err());
    // Any other control character in a note is refused the same way.
    log[1].purpose_note = Some("overleg\u{7}".into());
    let b = batch(key(), &log, 0);
    assert!(verify_extension(Verified::EMPTY, &WHOSE, &b, &key().public_key()).is_err());
}

/// Rotation statements are followed from the pinned key only, each signed by the key it
/// replaces; a forged, unrelated or circular one moves nothing.
#[test]
fn key_rotations_are_followed_only_from_the_pinned_key() {
    use cjg_crypto::chain::{follow_rotations, sign_rotation};
    let [a, b, c, x] = [(); 4].map(|()| DeviceKey::generate().unwrap());
    let now = Utc::now();
    let a_to_b = sign_rotation(&a, &b.public_key(), now);
    let b_to_c = sign_rotation(&b, &c.public_key(), now);
    let x_to_a = sign_rotation(&x, &a.public_key(), now);
    // Out of order, with an unrelated one first: still A → B → C.
    assert_eq!(
        follow_rotations(&a.public_key(), &[x_to_a.clone(), b_to_c.clone(), a_to_b.clone()]),
        c.public_key()
    );
    assert_eq!(follow_rotations(&b.public_key(), &[a_to_b.clone(), b_to_c.clone()]), c.public_key());
    // "A hands over to X", signed by X (someone without A's key): not followed.
    let mut forged = sign_rotation(&x, &x.public_key(), now);
    forged.rotation.old_key = cjg_crypto::b64(&a.public_key());
    assert_eq!(follow_rotations(&a.public_key(), &[forged]), a.public_key());
    // A changed statement no longer carries its signature.
    let mut changed = a_to_b.clone();
    changed.rotation.new_key = cjg_crypto::b64(&x.public_key());
    assert_eq!(follow_rotations(&a.public_key(), &[changed]), a.public_key());
    // A circle ends.
    let b_to_a = sign_rotation(&b, &a.public_key(), now);
    let end = follow_rotations(&a.public_key(), &[a_to_b, b_to_a]);
    assert!(end == a.public_key() || end == b.public_key());
}
