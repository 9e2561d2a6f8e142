//! Staff members and their caseloads.

use chrono::{DateTime, Utc};
use cjg_core::staff::StaffRole;
use uuid::Uuid;

use super::sql::{self, params, OptionalExt, Query, QueryExt, Tx};
use super::{bad_text, uuid_col, StaffActor};

/// A new built-in account; its second factor is required (the demo turns it off for its own).
pub fn insert_staff(
    tx: &Tx<'_>,
    username: &str,
    display_name: &str,
    role: StaffRole,
    password_hash: &str,
) -> sql::Result<Uuid> {
    let id = Uuid::new_v4();
    tx.execute(
        "INSERT INTO staff (id, username, display_name, role, password_hash) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id.to_string(), username, display_name, role.as_str(), password_hash],
    )?;
    Ok(id)
}

pub fn assign_staff(tx: &Tx<'_>, staff_id: Uuid, dossier_id: Uuid) -> sql::Result<()> {
    tx.execute(
        "INSERT INTO staff_dossiers (staff_id, dossier_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        params![staff_id.to_string(), dossier_id.to_string()],
    )?;
    Ok(())
}

/// The dossiers a staff member works on, by family name.
pub fn caseload(conn: &dyn Query, staff_id: Uuid) -> sql::Result<Vec<cjg_core::api::CaseloadDossier>> {
    let mut stmt = conn.prepare(
        "SELECT d.id, d.family_name FROM staff_dossiers sd JOIN dossiers d ON d.id = sd.dossier_id
         WHERE sd.staff_id = ?1 ORDER BY d.family_name, d.id",
    )?;
    let rows = stmt.query_map([staff_id.to_string()], |r| {
        Ok(cjg_core::api::CaseloadDossier { id: uuid_col(r.get(0)?)?, family_name: r.get(1)? })
    })?;
    rows.collect()
}

/// Where a staff account stands with its second factor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecondFactor {
    /// Not asked (only the demo's invented accounts).
    Off,
    /// Required, but no secret confirmed yet: the account must set it up before it signs in.
    NotSetUp { pending: Option<Vec<u8>> },
    /// Set up: every sign-in needs a code.
    Ready { secret: Vec<u8>, last_step: Option<u64> },
}

/// A staff account as sign-in needs it.
pub struct StaffLogin {
    pub actor: StaffActor,
    pub username: String,
    pub password_hash: String,
    pub second_factor: SecondFactor,
}

pub fn staff_by_username(conn: &dyn Query, username: &str) -> sql::Result<Option<StaffLogin>> {
    conn.query_row(
        "SELECT id, display_name, role, password_hash, second_factor, totp_secret, totp_confirmed_at IS NOT NULL,
                totp_last_step, username
         FROM staff WHERE username = ?1",
        [username],
        |r| {
            let policy: String = r.get(4)?;
            let secret: Option<Vec<u8>> = r.get(5)?;
            let confirmed: bool = r.get(6)?;
            let last_step: Option<i64> = r.get(7)?;
            let second_factor = match (policy.as_str(), secret) {
                ("off", _) => SecondFactor::Off,
                (_, Some(secret)) if confirmed => {
                    SecondFactor::Ready { secret, last_step: last_step.and_then(|s| u64::try_from(s).ok()) }
                }
                (_, pending) => SecondFactor::NotSetUp { pending },
            };
            Ok(StaffLogin { actor: staff_row(r)?, password_hash: r.get(3)?, second_factor, username: r.get(8)? })
        },
    )
    .optional()
}

/// A new secret for the authenticator app, not yet confirmed (replaces an earlier unconfirmed
/// one; never one that is set up).
pub fn set_pending_secret(tx: &Tx<'_>, staff_id: Uuid, secret: &[u8]) -> sql::Result<bool> {
    let n = tx.execute(
        "UPDATE staff SET totp_secret = ?2, totp_last_step = NULL WHERE id = ?1 AND totp_confirmed_at IS NULL",
        params![staff_id.to_string(), secret.to_vec()],
    )?;
    Ok(n == 1)
}

/// The first code confirmed the secret: it counts from now, with these recovery codes (hashes).
pub fn confirm_second_factor(
    tx: &Tx<'_>,
    staff_id: Uuid,
    step: u64,
    recovery_hashes: &[[u8; 32]],
    now: DateTime<Utc>,
) -> sql::Result<bool> {
    let n = tx.execute(
        "UPDATE staff SET totp_confirmed_at = ?2, totp_last_step = ?3
         WHERE id = ?1 AND totp_secret IS NOT NULL AND totp_confirmed_at IS NULL",
        params![staff_id.to_string(), now, step_value(step)],
    )?;
    if n != 1 {
        return Ok(false);
    }
    tx.execute("DELETE FROM staff_recovery_codes WHERE staff_id = ?1", [staff_id.to_string()])?;
    for hash in recovery_hashes {
        tx.execute(
            "INSERT INTO staff_recovery_codes (staff_id, code_hash) VALUES (?1, ?2)",
            params![staff_id.to_string(), hash.to_vec()],
        )?;
    }
    Ok(true)
}

fn step_value(step: u64) -> i64 {
    i64::try_from(step).unwrap_or(i64::MAX)
}

/// Records that the code of `step` was used; false when that step or a later one already was
/// (a replay, or two sign-ins racing with one code on two instances).
pub fn use_step(tx: &Tx<'_>, staff_id: Uuid, step: u64) -> sql::Result<bool> {
    let n = tx.execute(
        "UPDATE staff SET totp_last_step = ?2
         WHERE id = ?1 AND totp_confirmed_at IS NOT NULL AND (totp_last_step IS NULL OR totp_last_step < ?2)",
        params![staff_id.to_string(), step_value(step)],
    )?;
    Ok(n == 1)
}

/// Uses up a recovery code; false when it is unknown or was used before.
pub fn use_recovery_code(
    tx: &Tx<'_>,
    staff_id: Uuid,
    hash: &[u8; 32],
    now: DateTime<Utc>,
) -> sql::Result<bool> {
    let n = tx.execute(
        "UPDATE staff_recovery_codes SET used_at = ?3 WHERE staff_id = ?1 AND code_hash = ?2 AND used_at IS NULL",
        params![staff_id.to_string(), hash.to_vec(), now],
    )?;
    Ok(n == 1)
}

/// Recovery codes that still work.
pub fn recovery_codes_left(conn: &dyn Query, staff_id: Uuid) -> sql::Result<i64> {
    conn.query_row(
        "SELECT COUNT(*) FROM staff_recovery_codes WHERE staff_id = ?1 AND used_at IS NULL",
        [staff_id.to_string()],
        |r| r.get(0),
    )
}

/// A lost phone and no recovery codes left: an administrator clears the second factor, the
/// account sets it up again at its next sign-in, and its tokens end now.
pub fn reset_second_factor(tx: &Tx<'_>, username: &str) -> sql::Result<bool> {
    let Some(id) = tx
        .query_row("SELECT id FROM staff WHERE username = ?1", [username], |r| r.get::<String>(0))
        .optional()?
    else {
        return Ok(false);
    };
    tx.execute(
        "UPDATE staff SET totp_secret = NULL, totp_confirmed_at = NULL, totp_last_step = NULL WHERE id = ?1",
        [id.as_str()],
    )?;
    tx.execute("DELETE FROM staff_recovery_codes WHERE staff_id = ?1", [id.as_str()])?;
    tx.execute("DELETE FROM tokens WHERE subject_kind = 'staff' AND subject_id = ?1", [id.as_str()])?;
    Ok(true)
}

/// The demo's invented accounts sign in without a second factor (and the demo says so).
pub fn second_factor_off(tx: &Tx<'_>, username: &str) -> sql::Result<()> {
    tx.execute("UPDATE staff SET second_factor = 'off' WHERE username = ?1", [username])?;
    Ok(())
}

pub fn staff_by_id(conn: &dyn Query, id: Uuid) -> sql::Result<Option<StaffActor>> {
    conn.query_row("SELECT id, display_name, role FROM staff WHERE id = ?1", [id.to_string()], |r| {
        staff_row(r)
    })
    .optional()
}

pub fn staff_has_dossier(conn: &dyn Query, staff_id: Uuid, dossier_id: Uuid) -> sql::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM staff_dossiers WHERE staff_id = ?1 AND dossier_id = ?2)",
        params![staff_id.to_string(), dossier_id.to_string()],
        |r| r.get(0),
    )
}

/// A staff member from `id, display_name, role` in the first three columns.
fn staff_row(r: &sql::Row) -> sql::Result<StaffActor> {
    let role: String = r.get(2)?;
    Ok(StaffActor {
        id: uuid_col(r.get(0)?)?,
        display_name: r.get(1)?,
        role: StaffRole::parse(&role).ok_or_else(|| bad_text(2, "unknown staff role"))?,
    })
}
