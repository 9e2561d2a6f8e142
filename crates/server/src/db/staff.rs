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
    /// The hash of the one-time setup code an administrator handed out, and until when it holds.
    pub setup_code: Option<(Vec<u8>, DateTime<Utc>)>,
    /// Wrong second-factor codes in a row.
    pub code_failures: i64,
}

pub fn staff_by_username(conn: &dyn Query, username: &str) -> sql::Result<Option<StaffLogin>> {
    conn.query_row(
        "SELECT id, display_name, role, password_hash, second_factor, totp_secret, totp_confirmed_at IS NOT NULL,
                totp_last_step, username, setup_code_hash, setup_code_expires_at, code_failures
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
            let setup_hash: Option<Vec<u8>> = r.get(9)?;
            let setup_expires: Option<DateTime<Utc>> = r.get(10)?;
            Ok(StaffLogin {
                actor: staff_row(r)?,
                password_hash: r.get(3)?,
                second_factor,
                username: r.get(8)?,
                setup_code: setup_hash.zip(setup_expires),
                code_failures: r.get(11)?,
            })
        },
    )
    .optional()
}

/// A one-time setup code for the account's second factor (its hash), valid until `expires_at`;
/// an earlier one stops working.
pub fn set_setup_code(
    tx: &Tx<'_>,
    staff_id: Uuid,
    hash: &[u8; 32],
    expires_at: DateTime<Utc>,
) -> sql::Result<()> {
    tx.execute(
        "UPDATE staff SET setup_code_hash = ?2, setup_code_expires_at = ?3 WHERE id = ?1",
        params![staff_id.to_string(), hash.to_vec(), expires_at],
    )?;
    Ok(())
}

/// A wrong second-factor code: counts it, and returns how many came in a row.
pub fn code_failed(tx: &Tx<'_>, staff_id: Uuid) -> sql::Result<i64> {
    tx.execute("UPDATE staff SET code_failures = code_failures + 1 WHERE id = ?1", [staff_id.to_string()])?;
    tx.query_row("SELECT code_failures FROM staff WHERE id = ?1", [staff_id.to_string()], |r| r.get(0))
}

/// A right code ends the row of wrong ones.
pub fn code_succeeded(tx: &Tx<'_>, staff_id: Uuid) -> sql::Result<()> {
    tx.execute("UPDATE staff SET code_failures = 0 WHERE id = ?1", [staff_id.to_string()])?;
    Ok(())
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
/// Only for the secret the code was checked against: a setup that replaced it in the meantime
/// makes this fail rather than bind the account to a secret nobody confirmed. The setup code is
/// used up.
pub fn confirm_second_factor(
    tx: &Tx<'_>,
    staff_id: Uuid,
    secret: &[u8],
    step: u64,
    recovery_hashes: &[[u8; 32]],
    now: DateTime<Utc>,
) -> sql::Result<bool> {
    let n = tx.execute(
        "UPDATE staff SET totp_confirmed_at = ?2, totp_last_step = ?3, setup_code_hash = NULL,
                setup_code_expires_at = NULL, code_failures = 0
         WHERE id = ?1 AND totp_secret = ?4 AND totp_confirmed_at IS NULL",
        params![staff_id.to_string(), now, step_value(step), secret.to_vec()],
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

/// A lost phone and no recovery codes left, or too many wrong codes: an administrator clears
/// the second factor and hands out a new setup code (its hash here); the account's tokens end
/// now. The staff member's id, or `None` for an unknown username.
pub fn reset_second_factor(
    tx: &Tx<'_>,
    username: &str,
    setup_hash: impl Fn(Uuid) -> [u8; 32],
    expires_at: DateTime<Utc>,
) -> sql::Result<Option<Uuid>> {
    let Some(id) = tx
        .query_row("SELECT id FROM staff WHERE username = ?1", [username], |r| r.get::<String>(0))
        .optional()?
    else {
        return Ok(None);
    };
    let staff_id = uuid_col(id.clone())?;
    tx.execute(
        "UPDATE staff SET totp_secret = NULL, totp_confirmed_at = NULL, totp_last_step = NULL, code_failures = 0
         WHERE id = ?1",
        [id.as_str()],
    )?;
    set_setup_code(tx, staff_id, &setup_hash(staff_id), expires_at)?;
    tx.execute("DELETE FROM staff_recovery_codes WHERE staff_id = ?1", [id.as_str()])?;
    tx.execute("DELETE FROM tokens WHERE subject_kind = 'staff' AND subject_id = ?1", [id.as_str()])?;
    Ok(Some(staff_id))
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
