//! Enrolment (activation codes), devices, challenges and tokens.

use chrono::{DateTime, Utc};
use cjg_core::api::{DeviceInfo, TokenKind};
use uuid::Uuid;

use super::sql::{self, params, OptionalExt, Query, QueryExt, Tx};
use super::{bad_text, uuid_col, CodeCheck, DeviceSubject};

pub fn insert_activation_code(
    tx: &Tx<'_>,
    code_hash: &[u8; 32],
    person_id: Uuid,
    created_by: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> sql::Result<()> {
    tx.execute(
        "INSERT INTO activation_codes (code_hash, person_id, created_by, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![code_hash.as_slice(), person_id.to_string(), created_by, now, expires_at],
    )?;
    Ok(())
}

/// Checks a code and, if good, marks it used in the same transaction.
pub fn consume_activation_code(
    tx: &Tx<'_>,
    code_hash: &[u8; 32],
    now: DateTime<Utc>,
) -> sql::Result<CodeCheck> {
    let row: Option<(String, DateTime<Utc>, Option<DateTime<Utc>>)> = tx
        .query_row(
            "SELECT person_id, expires_at, used_at FROM activation_codes WHERE code_hash = ?1",
            [code_hash.as_slice()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((person, expires_at, used_at)) = row else { return Ok(CodeCheck::Invalid) };
    if used_at.is_some() {
        return Ok(CodeCheck::Used);
    }
    if expires_at <= now {
        return Ok(CodeCheck::Expired);
    }
    tx.execute(
        "UPDATE activation_codes SET used_at = ?2 WHERE code_hash = ?1",
        params![code_hash.as_slice(), now],
    )?;
    Ok(CodeCheck::Ok(uuid_col(person)?))
}

pub fn insert_device(
    tx: &Tx<'_>,
    person_id: Uuid,
    public_key: &[u8],
    name: &str,
    now: DateTime<Utc>,
) -> sql::Result<Uuid> {
    let id = Uuid::new_v4();
    tx.execute(
        "INSERT INTO devices (id, person_id, public_key, name, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id.to_string(), person_id.to_string(), public_key, name, now],
    )?;
    Ok(id)
}

/// (public key, revoked) of a device.
pub fn device_key(conn: &dyn Query, device_id: Uuid) -> sql::Result<Option<(Vec<u8>, bool)>> {
    conn.query_row(
        "SELECT public_key, revoked_at IS NOT NULL FROM devices WHERE id = ?1",
        [device_id.to_string()],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// Records that a signed challenge was used; false when it was used before (a replay). Only
/// challenges a device signed get here, so strangers write nothing.
pub fn use_challenge(
    tx: &Tx<'_>,
    nonce: &[u8],
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> sql::Result<bool> {
    // Kept a while past expiry: another instance whose clock is behind still sees it as used.
    tx.execute("DELETE FROM used_challenges WHERE expires_at <= ?1", [now - chrono::Duration::minutes(10)])?;
    let n = tx.execute(
        "INSERT INTO used_challenges (nonce, expires_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        params![nonce.to_vec(), expires_at],
    )?;
    Ok(n == 1)
}

/// The server's key called `name`, made on first use; every instance on the database gets the
/// same one (the first writer wins).
pub fn server_key(tx: &Tx<'_>, name: &str, fresh: &[u8; 32]) -> sql::Result<Vec<u8>> {
    tx.execute(
        "INSERT INTO server_keys (name, key) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        params![name, fresh.to_vec()],
    )?;
    tx.query_row("SELECT key FROM server_keys WHERE name = ?1", [name], |r| r.get(0))
}

pub fn insert_token(
    tx: &Tx<'_>,
    token_hash: &[u8; 32],
    kind: TokenKind,
    subject_id: Uuid,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> sql::Result<()> {
    tx.execute("DELETE FROM tokens WHERE expires_at <= ?1", [now])?;
    tx.execute(
        "INSERT INTO tokens (token_hash, subject_kind, subject_id, expires_at, last_used_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![token_hash.as_slice(), kind.as_str(), subject_id.to_string(), expires_at, now],
    )?;
    Ok(())
}

/// The staff member of a live staff token that was used within `idle`, and whether its last
/// use is more than a minute old (then [`touch_token`] records this one).
pub fn staff_token_subject(
    conn: &dyn Query,
    token_hash: &[u8; 32],
    now: DateTime<Utc>,
    idle: chrono::Duration,
) -> sql::Result<Option<(Uuid, bool)>> {
    conn.query_row(
        "SELECT subject_id, last_used_at < ?4 FROM tokens
         WHERE token_hash = ?1 AND subject_kind = 'staff' AND expires_at > ?2 AND last_used_at > ?3",
        params![token_hash.as_slice(), now, now - idle, now - chrono::Duration::minutes(1)],
        |r| Ok((uuid_col(r.get(0)?)?, r.get(1)?)),
    )
    .optional()
}

pub fn touch_token(conn: &dyn Query, token_hash: &[u8; 32], now: DateTime<Utc>) -> sql::Result<()> {
    conn.execute(
        "UPDATE tokens SET last_used_at = ?2 WHERE token_hash = ?1",
        params![token_hash.as_slice(), now],
    )?;
    Ok(())
}

/// Ends every staff token of a password sign-in (built-in accounts turned off).
pub fn delete_password_staff_tokens(conn: &dyn Query) -> sql::Result<usize> {
    conn.execute("DELETE FROM tokens WHERE subject_kind = 'staff' AND oidc_session IS NULL", params![])
}

/// Ends a staff token at once (sign-out, lock); `false` when there was none.
pub fn delete_staff_token(conn: &dyn Query, token_hash: &[u8; 32]) -> sql::Result<bool> {
    let n = conn.execute(
        "DELETE FROM tokens WHERE token_hash = ?1 AND subject_kind = 'staff'",
        params![token_hash.as_slice()],
    )?;
    Ok(n == 1)
}

/// The subject of a live token of the given kind.
pub fn token_subject(
    conn: &dyn Query,
    token_hash: &[u8; 32],
    kind: TokenKind,
    now: DateTime<Utc>,
) -> sql::Result<Option<Uuid>> {
    conn.query_row(
        "SELECT subject_id FROM tokens WHERE token_hash = ?1 AND subject_kind = ?2 AND expires_at > ?3",
        params![token_hash.as_slice(), kind.as_str(), now],
        |r| uuid_col(r.get(0)?),
    )
    .optional()
}

/// The device's person and dossier, whether it is revoked, and whether its last contact is
/// more than a minute old (so `touch_device` has something to write).
pub fn device_subject(
    conn: &dyn Query,
    device_id: Uuid,
    now: DateTime<Utc>,
) -> sql::Result<Option<(DeviceSubject, bool, bool)>> {
    conn.query_row(
        "SELECT d.person_id, p.dossier_id, d.revoked_at IS NOT NULL,
                d.last_seen_at IS NULL OR d.last_seen_at < ?2
         FROM devices d JOIN people p ON p.id = d.person_id
         WHERE d.id = ?1",
        params![device_id.to_string(), now - chrono::Duration::minutes(1)],
        |r| {
            let subject = DeviceSubject {
                device_id,
                person_id: uuid_col(r.get(0)?)?,
                dossier_id: uuid_col(r.get(1)?)?,
            };
            Ok((subject, r.get(2)?, r.get(3)?))
        },
    )
    .optional()
}

/// Marks the device as seen now, at most once a minute: "last seen" is for the person's list of
/// devices, and a write on every request would make every sync a write.
/// The usage report's activity counters move in the same transaction, and only when this
/// request is the one that wrote the contact (two requests at once count once).
pub fn touch_device(tx: &Tx<'_>, device_id: Uuid, now: DateTime<Utc>) -> sql::Result<()> {
    let previous = super::usage::previous_contact(tx, device_id)?;
    let written = tx.execute(
        "UPDATE devices SET last_seen_at = ?2 WHERE id = ?1 AND (last_seen_at IS NULL OR last_seen_at < ?3)",
        params![device_id.to_string(), now, now - chrono::Duration::minutes(1)],
    )?;
    if written == 1 {
        if let Some(previous) = previous {
            super::usage::count_activity(tx, &previous, now)?;
        }
    }
    Ok(())
}

pub fn person_devices(conn: &dyn Query, person_id: Uuid) -> sql::Result<Vec<DeviceInfo>> {
    let mut stmt = conn.prepare(
        "SELECT id, name, created_at, last_seen_at, revoked_at FROM devices WHERE person_id = ?1
         ORDER BY created_at",
    )?;
    let rows = stmt.query_map([person_id.to_string()], |r| {
        Ok(DeviceInfo {
            id: uuid_col(r.get(0)?)?,
            name: r.get(1)?,
            created_at: r.get(2)?,
            last_seen_at: r.get(3)?,
            revoked_at: r.get(4)?,
        })
    })?;
    rows.collect()
}

/// The person a device belongs to.
pub fn device_owner(conn: &dyn Query, device_id: Uuid) -> sql::Result<Option<Uuid>> {
    conn.query_row("SELECT person_id FROM devices WHERE id = ?1", [device_id.to_string()], |r| {
        uuid_col(r.get(0)?)
    })
    .optional()
}

/// Revokes a device and ends its tokens at once. Revoking twice is not an error.
pub fn revoke_device(tx: &Tx<'_>, device_id: Uuid, revoked_by: &str, now: DateTime<Utc>) -> sql::Result<()> {
    tx.execute(
        "UPDATE devices SET revoked_at = ?2, revoked_by = ?3 WHERE id = ?1 AND revoked_at IS NULL",
        params![device_id.to_string(), now, revoked_by],
    )?;
    tx.execute(
        "DELETE FROM tokens WHERE subject_kind = 'device' AND subject_id = ?1",
        [device_id.to_string()],
    )?;
    Ok(())
}

/// The subject of a token of any kind, live or not: for the log of refused requests.
pub fn token_owner(conn: &dyn Query, token_hash: &[u8; 32]) -> sql::Result<Option<(TokenKind, Uuid)>> {
    conn.query_row(
        "SELECT subject_kind, subject_id FROM tokens WHERE token_hash = ?1",
        [token_hash.as_slice()],
        |r| {
            let kind: String = r.get(0)?;
            let kind = TokenKind::parse(&kind).ok_or_else(|| bad_text(0, "unknown token kind"))?;
            Ok((kind, uuid_col(r.get(1)?)?))
        },
    )
    .optional()
}

/// The server's side of a device's PIN (where the device keeps its secret in a file).
pub struct PinState {
    pub key: Option<Vec<u8>>,
    pub token_hash: Option<Vec<u8>>,
    pub tries: i64,
    pub locked: bool,
    pub revoked: bool,
}

pub fn pin_state(conn: &dyn Query, device_id: Uuid) -> sql::Result<Option<PinState>> {
    conn.query_row(
        "SELECT pin_key, pin_token_hash, pin_tries, pin_locked_at IS NOT NULL, revoked_at IS NOT NULL
         FROM devices WHERE id = ?1",
        [device_id.to_string()],
        |r| {
            Ok(PinState {
                key: r.get(0)?,
                token_hash: r.get(1)?,
                tries: r.get(2)?,
                locked: r.get(3)?,
                revoked: r.get(4)?,
            })
        },
    )
    .optional()
}

/// Keeps the device's PIN key (the first one stays: a PIN change evaluates under the same key)
/// and the hash of its PIN token. The count of tries is left as it is.
pub fn set_pin_key(tx: &Tx<'_>, device_id: Uuid, key: &[u8], token_hash: &[u8; 32]) -> sql::Result<()> {
    tx.execute(
        "UPDATE devices SET pin_key = COALESCE(pin_key, ?2), pin_token_hash = ?3 WHERE id = ?1",
        params![device_id.to_string(), key, token_hash.as_slice()],
    )?;
    Ok(())
}

/// Counts one PIN try; the number of tries since the device last got a token.
pub fn count_pin_try(tx: &Tx<'_>, device_id: Uuid) -> sql::Result<i64> {
    tx.query_row(
        "UPDATE devices SET pin_tries = pin_tries + 1 WHERE id = ?1 RETURNING pin_tries",
        [device_id.to_string()],
        |r| r.get(0),
    )
}

/// Too many PIN tries: the device is signed off for good, as if the family had revoked it.
pub fn lock_for_pin_tries(tx: &Tx<'_>, device_id: Uuid, now: DateTime<Utc>) -> sql::Result<()> {
    tx.execute(
        "UPDATE devices SET pin_locked_at = ?2, revoked_at = COALESCE(revoked_at, ?2),
             revoked_by = COALESCE(revoked_by, 'pin-tries')
         WHERE id = ?1",
        params![device_id.to_string(), now],
    )?;
    Ok(())
}

/// The device's own app, unlocked, reports the tries it made itself: only those come off the
/// count, so tries made on a copy of its folder are never forgiven.
pub fn forgive_own_pin_tries(tx: &Tx<'_>, device_id: Uuid, own_tries: u32) -> sql::Result<()> {
    tx.execute(
        "UPDATE devices SET pin_tries = CASE WHEN pin_tries > ?2 THEN pin_tries - ?2 ELSE 0 END WHERE id = ?1",
        params![device_id.to_string(), i64::from(own_tries)],
    )?;
    Ok(())
}
