//! The FHIR endpoint's clients: used assertions and their access tokens.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::sql::{self, params, OptionalExt, Query, QueryExt};
use super::uuid_col;

/// Keeps an assertion's `jti` until it expires; `false` when the client used it before (a
/// replay). Expired ones go first.
pub fn use_assertion(
    conn: &dyn Query,
    client_id: &str,
    jti: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> sql::Result<bool> {
    conn.execute("DELETE FROM fhir_assertions WHERE expires_at <= ?1", [now])?;
    let n = conn.execute(
        "INSERT INTO fhir_assertions (client_id, jti, expires_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
        params![client_id, jti, expires_at],
    )?;
    Ok(n == 1)
}

pub fn insert_token(
    conn: &dyn Query,
    token_hash: &[u8; 32],
    client_id: &str,
    scopes: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> sql::Result<()> {
    conn.execute("DELETE FROM fhir_tokens WHERE expires_at <= ?1", [now])?;
    conn.execute(
        "INSERT INTO fhir_tokens (token_hash, client_id, scopes, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![token_hash.as_slice(), client_id, scopes, expires_at],
    )?;
    Ok(())
}

/// The client and scopes of a live access token.
pub fn token_client(
    conn: &dyn Query,
    token_hash: &[u8; 32],
    now: DateTime<Utc>,
) -> sql::Result<Option<(String, String)>> {
    conn.query_row(
        "SELECT client_id, scopes FROM fhir_tokens WHERE token_hash = ?1 AND expires_at > ?2",
        params![token_hash.as_slice(), now],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// Staff members as an ECD may see them: id and name (no username, no role details).
pub fn practitioners(conn: &dyn Query, only: Option<Uuid>) -> sql::Result<Vec<(Uuid, String)>> {
    let row = |r: &sql::Row| Ok((uuid_col(r.get(0)?)?, r.get(1)?));
    match only {
        Some(id) => conn.query_map("SELECT id, display_name FROM staff WHERE id = ?1", [id.to_string()], row),
        None => {
            conn.query_map("SELECT id, display_name FROM staff ORDER BY display_name, id", params![], row)
        }
    }
}
