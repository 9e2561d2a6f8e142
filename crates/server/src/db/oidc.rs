//! Sign-ins at the organisation under way, the staff sessions they made, and the log of every
//! staff sign-in.

use chrono::{DateTime, Utc};
use cjg_core::staff::StaffRole;
use uuid::Uuid;

use super::sql::{self, params, OptionalExt, Query, QueryExt, Tx};
use super::uuid_col;

/// A started sign-in, kept until the provider answers.
pub struct Flow {
    pub nonce: String,
    pub pkce_verifier: String,
    pub app_challenge: String,
    pub return_to: String,
}

pub fn insert_flow(
    tx: &Tx<'_>,
    state: &str,
    flow: &Flow,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> sql::Result<()> {
    tx.execute("DELETE FROM oidc_flows WHERE expires_at <= ?1", [now])?;
    tx.execute(
        "INSERT INTO oidc_flows (state, nonce, pkce_verifier, app_challenge, return_to, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![state, flow.nonce, flow.pkce_verifier, flow.app_challenge, flow.return_to, expires_at],
    )?;
    Ok(())
}

/// Takes the started sign-in of `state` out (once: a replayed answer finds nothing).
pub fn take_flow(tx: &Tx<'_>, state: &str, now: DateTime<Utc>) -> sql::Result<Option<Flow>> {
    tx.query_row(
        "DELETE FROM oidc_flows WHERE state = ?1 AND handoff_hash IS NULL AND expires_at > ?2
         RETURNING nonce, pkce_verifier, app_challenge, return_to",
        params![state, now],
        |r| {
            Ok(Flow {
                nonce: r.get(0)?,
                pkce_verifier: r.get(1)?,
                app_challenge: r.get(2)?,
                return_to: r.get(3)?,
            })
        },
    )
    .optional()
}

/// The answer checked out: the app may trade `handoff_hash`'s code for a token of `session`.
pub fn insert_handoff(
    tx: &Tx<'_>,
    handoff_hash: &[u8; 32],
    app_challenge: &str,
    session: Uuid,
    expires_at: DateTime<Utc>,
) -> sql::Result<()> {
    tx.execute(
        "INSERT INTO oidc_flows (state, nonce, pkce_verifier, app_challenge, return_to, expires_at, handoff_hash, session_id)
         VALUES (?1, '', '', ?2, '', ?3, ?4, ?5)",
        params![Uuid::new_v4().to_string(), app_challenge, expires_at, handoff_hash.as_slice(), session.to_string()],
    )?;
    Ok(())
}

/// Takes a handoff out (once), with the app's challenge and the session it is for.
pub fn take_handoff(
    tx: &Tx<'_>,
    handoff_hash: &[u8; 32],
    now: DateTime<Utc>,
) -> sql::Result<Option<(String, Uuid)>> {
    tx.query_row(
        "DELETE FROM oidc_flows WHERE handoff_hash = ?1 AND expires_at > ?2 RETURNING app_challenge, session_id",
        params![handoff_hash.as_slice(), now],
        |r| Ok((r.get(0)?, uuid_col(r.get(1)?)?)),
    )
    .optional()
}

/// The staff member the provider's subject belongs to, linked or made now. A built-in account
/// whose username is the provider's `preferred_username` is linked at the first sign-in (it
/// keeps its caseload) and loses its password: from then on the organisation decides. Name and
/// role follow the provider at every sign-in.
pub fn staff_for_subject(
    tx: &Tx<'_>,
    issuer: &str,
    subject: &str,
    username: Option<&str>,
    display_name: &str,
    role: StaffRole,
) -> sql::Result<Uuid> {
    let known: Option<String> = tx
        .query_row(
            "SELECT id FROM staff WHERE oidc_issuer = ?1 AND oidc_subject = ?2",
            params![issuer, subject],
            |r| r.get(0),
        )
        .optional()?;
    let linkable: Option<String> = match (&known, username) {
        (None, Some(u)) => tx
            .query_row("SELECT id FROM staff WHERE username = ?1 AND oidc_subject IS NULL", [u], |r| r.get(0))
            .optional()?,
        _ => None,
    };
    if let Some(id) = known.or(linkable) {
        tx.execute(
            "UPDATE staff SET oidc_issuer = ?2, oidc_subject = ?3, display_name = ?4, role = ?5,
                    password_hash = '!', second_factor = 'off'
             WHERE id = ?1",
            params![id, issuer, subject, display_name, role.as_str()],
        )?;
        return uuid_col(id);
    }
    let id = Uuid::new_v4();
    // The username must be unique; a taken one (a linked account of the same name at another
    // provider) gets the subject instead.
    let wanted = username.unwrap_or(subject);
    let taken: bool =
        tx.query_row("SELECT EXISTS (SELECT 1 FROM staff WHERE username = ?1)", [wanted], |r| r.get(0))?;
    let name = if taken { format!("{subject}@{issuer}") } else { wanted.to_owned() };
    tx.execute(
        "INSERT INTO staff (id, username, display_name, role, password_hash, second_factor, oidc_issuer, oidc_subject)
         VALUES (?1, ?2, ?3, ?4, '!', 'off', ?5, ?6)",
        params![id.to_string(), name, display_name, role.as_str(), issuer, subject],
    )?;
    Ok(id)
}

pub fn staff_of_session(tx: &Tx<'_>, session: Uuid) -> sql::Result<Uuid> {
    tx.query_row("SELECT staff_id FROM oidc_sessions WHERE id = ?1", [session.to_string()], |r| {
        uuid_col(r.get(0)?)
    })
}

pub fn insert_session(
    tx: &Tx<'_>,
    staff_id: Uuid,
    refresh_token: Option<&str>,
    id_token: &str,
    now: DateTime<Utc>,
) -> sql::Result<Uuid> {
    let id = Uuid::new_v4();
    tx.execute(
        "INSERT INTO oidc_sessions (id, staff_id, refresh_token, id_token, checked_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id.to_string(), staff_id.to_string(), refresh_token, id_token, now],
    )?;
    Ok(id)
}

/// The session a staff token belongs to, if it came from the organisation's sign-in.
pub struct Session {
    pub id: Uuid,
    pub refresh_token: Option<String>,
    pub id_token: String,
    pub checked_at: DateTime<Utc>,
    pub ended: bool,
}

pub fn session_of_token(conn: &dyn Query, token_hash: &[u8; 32]) -> sql::Result<Option<Session>> {
    conn.query_row(
        "SELECT s.id, s.refresh_token, s.id_token, s.checked_at, s.ended_at IS NOT NULL
         FROM tokens t JOIN oidc_sessions s ON s.id = t.oidc_session WHERE t.token_hash = ?1",
        params![token_hash.as_slice()],
        |r| {
            Ok(Session {
                id: uuid_col(r.get(0)?)?,
                refresh_token: r.get(1)?,
                id_token: r.get(2)?,
                checked_at: r.get(3)?,
                ended: r.get(4)?,
            })
        },
    )
    .optional()
}

/// Claims the check of a session last checked at or before `due`: only one request (on any
/// instance) asks the provider, so a rotated refresh token is never used twice.
pub fn claim_check(conn: &dyn Query, id: Uuid, due: DateTime<Utc>, now: DateTime<Utc>) -> sql::Result<bool> {
    let n = conn.execute(
        "UPDATE oidc_sessions SET checked_at = ?3 WHERE id = ?1 AND checked_at <= ?2 AND ended_at IS NULL",
        params![id.to_string(), due, now],
    )?;
    Ok(n == 1)
}

/// The provider could not be asked: the next request tries again.
pub fn unclaim_check(conn: &dyn Query, id: Uuid, back_to: DateTime<Utc>) -> sql::Result<()> {
    conn.execute("UPDATE oidc_sessions SET checked_at = ?2 WHERE id = ?1", params![id.to_string(), back_to])?;
    Ok(())
}

pub fn keep_refresh_token(conn: &dyn Query, id: Uuid, refresh_token: &str) -> sql::Result<()> {
    conn.execute(
        "UPDATE oidc_sessions SET refresh_token = ?2 WHERE id = ?1",
        params![id.to_string(), refresh_token],
    )?;
    Ok(())
}

/// The provider ended the session (or the person signed out): its tokens are refused from now
/// on, with a code that says why (they are not deleted, so the app can tell the person).
pub fn end_session(conn: &dyn Query, id: Uuid, now: DateTime<Utc>) -> sql::Result<()> {
    conn.execute(
        "UPDATE oidc_sessions SET ended_at = ?2, refresh_token = NULL WHERE id = ?1 AND ended_at IS NULL",
        params![id.to_string(), now],
    )?;
    Ok(())
}

pub fn set_token_session(tx: &Tx<'_>, token_hash: &[u8; 32], session: Uuid) -> sql::Result<()> {
    tx.execute(
        "UPDATE tokens SET oidc_session = ?2 WHERE token_hash = ?1",
        params![token_hash.as_slice(), session.to_string()],
    )?;
    Ok(())
}

/// How a staff member signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInMethod {
    Password,
    Organisation,
}

/// One line of the staff sign-in log: with the provider's subject for a sign-in at the
/// organisation, never a password or a token.
pub fn log_sign_in(
    tx: &Tx<'_>,
    staff_id: Uuid,
    method: SignInMethod,
    subject: Option<&str>,
    address: &str,
    now: DateTime<Utc>,
) -> sql::Result<()> {
    let method = match method {
        SignInMethod::Password => "password",
        SignInMethod::Organisation => "organisation",
    };
    tx.execute(
        "INSERT INTO staff_sign_ins (staff_id, method, subject, address, at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![staff_id.to_string(), method, subject, address, now],
    )?;
    Ok(())
}
