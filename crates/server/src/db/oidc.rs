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

/// The staff member the provider's subject belongs to, or a new one. Name and role follow the
/// provider at every sign-in. A built-in account is never linked here by a matching name:
/// whoever can choose their `preferred_username` at the provider would take over that account
/// and its caseload. An administrator links one with [`link_staff`].
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
    if let Some(id) = known {
        tx.execute(
            "UPDATE staff SET display_name = ?2, role = ?3 WHERE id = ?1",
            params![id, display_name, role.as_str()],
        )?;
        return uuid_col(id);
    }
    // The username must be unique; a taken one gets the subject instead. Two first sign-ins at
    // once (on two instances) meet at the unique indexes: the one that lost finds the winner's.
    let wanted = username.unwrap_or(subject);
    for name in [wanted.to_owned(), format!("{subject}@{issuer}")] {
        let id = Uuid::new_v4();
        let added = tx.execute(
            "INSERT INTO staff (id, username, display_name, role, password_hash, second_factor, oidc_issuer, oidc_subject)
             VALUES (?1, ?2, ?3, ?4, '!', 'off', ?5, ?6) ON CONFLICT DO NOTHING",
            params![id.to_string(), name, display_name, role.as_str(), issuer, subject],
        )?;
        if added == 1 {
            return Ok(id);
        }
        let now_known: Option<String> = tx
            .query_row(
                "SELECT id FROM staff WHERE oidc_issuer = ?1 AND oidc_subject = ?2",
                params![issuer, subject],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = now_known {
            return uuid_col(id);
        }
    }
    Err(sql::Error::NoRows)
}

/// Why an administrator's link of a built-in account did not happen.
#[derive(Debug, PartialEq, Eq)]
pub enum LinkRefused {
    NoSuchAccount,
    AlreadyLinked,
    SubjectTaken,
}

/// Links the built-in account `username` to the provider's `subject` (an administrator's act:
/// `cjg-server link-staff`). The account keeps its caseload and its name in the logs; its
/// password and second factor stop working, and its password tokens end now. A person who
/// signed in at the organisation before the link got an account of their own; while that one
/// works on no dossier, the link takes the subject over from it (its sign-ins end).
pub fn link_staff(
    tx: &Tx<'_>,
    username: &str,
    issuer: &str,
    subject: &str,
    now: DateTime<Utc>,
) -> sql::Result<Result<Uuid, LinkRefused>> {
    let holder: Option<(String, bool)> = tx
        .query_row(
            "SELECT id, EXISTS (SELECT 1 FROM staff_dossiers sd WHERE sd.staff_id = staff.id)
             FROM staff WHERE oidc_issuer = ?1 AND oidc_subject = ?2",
            params![issuer, subject],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let found: Option<(String, bool)> = tx
        // A system account of the FHIR endpoint is no person's: it is never linked.
        .query_row(
            "SELECT id, oidc_subject IS NOT NULL FROM staff WHERE username = ?1 AND role <> 'Systeemkoppeling'",
            [username],
            |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let id = match found {
        None => return Ok(Err(LinkRefused::NoSuchAccount)),
        Some((_, true)) => return Ok(Err(LinkRefused::AlreadyLinked)),
        Some((id, false)) => id,
    };
    match holder {
        Some((_, true)) => return Ok(Err(LinkRefused::SubjectTaken)),
        Some((other, false)) => {
            tx.execute(
                "UPDATE oidc_sessions SET ended_at = ?2, refresh_token = NULL WHERE staff_id = ?1 AND ended_at IS NULL",
                params![other, now],
            )?;
            tx.execute(
                "DELETE FROM tokens WHERE subject_kind = 'staff' AND subject_id = ?1",
                [other.as_str()],
            )?;
            tx.execute(
                "UPDATE staff SET oidc_issuer = NULL, oidc_subject = NULL WHERE id = ?1",
                [other.as_str()],
            )?;
        }
        None => {}
    }
    tx.execute(
        "UPDATE staff SET oidc_issuer = ?2, oidc_subject = ?3, password_hash = '!', second_factor = 'off'
         WHERE id = ?1 AND oidc_subject IS NULL",
        params![id, issuer, subject],
    )?;
    tx.execute("DELETE FROM tokens WHERE subject_kind = 'staff' AND subject_id = ?1", [id.as_str()])?;
    Ok(Ok(uuid_col(id)?))
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
    // Sessions no token or handoff refers to any more (a staff token lasts hours) go.
    tx.execute(
        "DELETE FROM oidc_sessions WHERE checked_at < ?1
           AND NOT EXISTS (SELECT 1 FROM tokens t WHERE t.oidc_session = oidc_sessions.id)
           AND NOT EXISTS (SELECT 1 FROM oidc_flows f WHERE f.session_id = oidc_sessions.id)",
        [now - chrono::Duration::days(2)],
    )?;
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
    pub staff_id: Uuid,
    /// The provider's subject of the staff member, which a refreshed ID token must repeat.
    pub subject: Option<String>,
    pub refresh_token: Option<String>,
    pub id_token: String,
    pub checked_at: DateTime<Utc>,
    pub ended: bool,
}

pub fn session_of_token(conn: &dyn Query, token_hash: &[u8; 32]) -> sql::Result<Option<Session>> {
    conn.query_row(
        "SELECT s.id, s.refresh_token, s.id_token, s.checked_at, s.ended_at IS NOT NULL, s.staff_id, f.oidc_subject
         FROM tokens t JOIN oidc_sessions s ON s.id = t.oidc_session JOIN staff f ON f.id = s.staff_id
         WHERE t.token_hash = ?1",
        params![token_hash.as_slice()],
        |r| {
            Ok(Session {
                id: uuid_col(r.get(0)?)?,
                refresh_token: r.get(1)?,
                id_token: r.get(2)?,
                checked_at: r.get(3)?,
                ended: r.get(4)?,
                staff_id: uuid_col(r.get(5)?)?,
                subject: r.get(6)?,
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
        "UPDATE oidc_sessions SET refresh_token = ?2 WHERE id = ?1 AND ended_at IS NULL",
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

/// The provider's refreshed ID token gave another name or role: the staff member follows it.
pub fn follow_provider(
    conn: &dyn Query,
    staff_id: Uuid,
    display_name: &str,
    role: StaffRole,
) -> sql::Result<()> {
    conn.execute(
        "UPDATE staff SET display_name = ?2, role = ?3 WHERE id = ?1 AND (display_name <> ?2 OR role <> ?3)",
        params![staff_id.to_string(), display_name, role.as_str()],
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
