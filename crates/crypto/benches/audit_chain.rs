//! Audit chain verification against the physical limit: hashing the same bytes with plain
//! SHA-256 in the same run. Prints a table; never a pass/fail on time.
//!
//! `cargo bench -p cjg-crypto --bench audit_chain` (EVENTS=n to change the default 1,000,000)

use std::time::Instant;

use chrono::{DateTime, Utc};
use cjg_core::audit::{AuditAction, AuditBatch, AuditEvent, Checkpoint, Purpose};
use cjg_crypto::chain::{self, Verified};
use cjg_crypto::DeviceKey;
use uuid::Uuid;

fn event(position: u32, dossier_id: Uuid) -> AuditEvent {
    AuditEvent {
        id: Uuid::from_u128(u128::from(position) << 64 | 0xa0d1),
        dossier_id,
        position,
        actor_id: Uuid::from_u128(7),
        actor_name: "Fleur Demo".into(),
        actor_role: "CJG-coach".into(),
        action: if position.is_multiple_of(5) { AuditAction::Update } else { AuditAction::Read },
        object_type: "entry".into(),
        object_id: Some(Uuid::from_u128(u128::from(position % 5000))),
        purpose: Purpose::GesprekVoorbereiden,
        purpose_note: position
            .is_multiple_of(3)
            .then(|| "om het gesprek van dinsdag voor te bereiden".to_owned()),
        at: DateTime::<Utc>::from_timestamp(1_790_000_000 + i64::from(position), 0).unwrap_or_default(),
        origin: "staff-api".into(),
    }
}

const PERSON: Uuid = Uuid::from_u128(43);

fn main() {
    let n: u32 = std::env::var("EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let dossier = Uuid::from_u128(42);
    let whose = chain::Expected { dossier_id: dossier, person_id: PERSON, not_before: None };
    let events: Vec<AuditEvent> = (1..=n).map(|p| event(p, dossier)).collect();
    let key = DeviceKey::generate().expect("key");
    let head = chain::recompute(&events).expect("chain");
    let batch = AuditBatch {
        key_rotations: Vec::new(),
        checkpoint: chain::sign_checkpoint(
            &key,
            Checkpoint {
                dossier_id: dossier,
                person_id: PERSON,
                size: head.size,
                head: chain::hex(&head.head),
                time: Utc::now(),
            },
        ),
        events,
    };

    // The client's real path: canonical encoding, chaining, signature check.
    let t = Instant::now();
    let v = chain::verify_extension(Verified::EMPTY, &whose, &batch, &key.public_key()).expect("verifies");
    let verify_s = t.elapsed().as_secs_f64();
    assert_eq!(v.size, n);

    // The limit: SHA-256 over the same bytes the chain hashes (prefix, previous head, canonical).
    let inputs: Vec<Vec<u8>> = batch
        .events
        .iter()
        .map(|e| {
            let mut b = b"mijn-cjg/audit-chain/v1\0".to_vec();
            b.extend_from_slice(&[0u8; 32]);
            b.extend_from_slice(&e.canonical());
            b
        })
        .collect();
    let bytes: usize = inputs.iter().map(Vec::len).sum();
    let t = Instant::now();
    let mut acc = 0u8;
    for i in &inputs {
        acc ^= cjg_crypto::sha256(i)[0];
    }
    let sha_s = t.elapsed().as_secs_f64();
    std::hint::black_box(acc);

    let per_s = |s: f64| f64::from(n) / s;
    println!("audit chain verification, {n} events, {:.1} MB hashed", bytes as f64 / 1e6);
    println!("| measure                         | events/s   | MB/s   |");
    println!("|---------------------------------|-----------:|-------:|");
    println!(
        "| verify_extension (encode+chain) | {:>10.0} | {:>6.1} |",
        per_s(verify_s),
        bytes as f64 / 1e6 / verify_s
    );
    println!(
        "| raw SHA-256 of the same bytes   | {:>10.0} | {:>6.1} |",
        per_s(sha_s),
        bytes as f64 / 1e6 / sha_s
    );
    println!("ratio verify / raw SHA-256: {:.2} (target ≥ 0.50)", sha_s / verify_s);
}
