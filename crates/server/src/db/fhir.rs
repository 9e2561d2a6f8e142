//! The FHIR endpoint's clients: used assertions, their access tokens, and what their own
//! identifiers stand for here.

use chrono::{DateTime, Utc};
use cjg_core::fhir::inbound::ExternalId;
use uuid::Uuid;

use super::sql::{self, params, OptionalExt, Query, QueryExt, Tx};
use super::{uuid_col, StoreError, StoreResult};

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

/// The client, scopes and system account of a live access token.
pub fn token_client(
    conn: &dyn Query,
    token_hash: &[u8; 32],
    now: DateTime<Utc>,
) -> sql::Result<Option<(String, String, Uuid)>> {
    conn.query_row(
        "SELECT t.client_id, t.scopes, s.id FROM fhir_tokens t
         JOIN staff s ON s.username = 'fhir:' || t.client_id AND s.role = ?3
         WHERE t.token_hash = ?1 AND t.expires_at > ?2",
        params![token_hash.as_slice(), now, SYSTEM_ROLE],
        |r| Ok((r.get(0)?, r.get(1)?, uuid_col(r.get(2)?)?)),
    )
    .optional()
}

const SYSTEM_ROLE: &str = "Systeemkoppeling";

/// The system account a client acts as in the access log (`fhir:<client id>`, made at its
/// first token, its name following the configuration). It has no password and no caseload.
/// `None` when a person's account already holds that username: the client is then refused
/// rather than acting under a person's name.
pub fn system_account(conn: &dyn Query, client_id: &str, name: &str) -> sql::Result<Option<Uuid>> {
    let username = format!("fhir:{client_id}");
    conn.execute(
        "INSERT INTO staff (id, username, display_name, role, password_hash, second_factor)
         VALUES (?1, ?2, ?3, ?4, '!', 'off')
         ON CONFLICT (username) DO UPDATE SET display_name = excluded.display_name WHERE staff.role = ?4",
        params![Uuid::new_v4().to_string(), username, name, SYSTEM_ROLE],
    )?;
    conn.query_row(
        "SELECT id FROM staff WHERE username = ?1 AND role = ?2",
        params![username, SYSTEM_ROLE],
        |r| uuid_col(r.get(0)?),
    )
    .optional()
}

/// A young person of a family dossier, with the dossier's team.
pub struct PatientRow {
    pub id: Uuid,
    pub dossier_id: Uuid,
    pub name: String,
    pub birth_date: String,
    pub team: String,
}

/// The young people of every dossier (or one), by name.
pub fn patients(conn: &dyn Query, only: Option<Uuid>) -> sql::Result<Vec<PatientRow>> {
    let row = |r: &sql::Row| {
        Ok(PatientRow {
            id: uuid_col(r.get(0)?)?,
            dossier_id: uuid_col(r.get(1)?)?,
            name: r.get(2)?,
            birth_date: r.get(3)?,
            team: r.get(4)?,
        })
    };
    let select = "SELECT p.id, p.dossier_id, p.display_name, p.birth_date, d.team
                  FROM people p JOIN dossiers d ON d.id = p.dossier_id WHERE p.role = 'child'";
    match only {
        Some(id) => conn.query_map(&format!("{select} AND p.id = ?1"), [id.to_string()], row),
        None => conn.query_map(&format!("{select} ORDER BY p.display_name, p.id"), params![], row),
    }
}

/// One young person of a family (the eldest): who stands for the family in a lookup by
/// something of the family's own, such as a questionnaire.
pub fn a_patient_of(conn: &dyn Query, dossier_id: Uuid) -> sql::Result<Option<Uuid>> {
    conn.query_row(
        "SELECT id FROM people WHERE dossier_id = ?1 AND role = 'child' ORDER BY birth_date, id LIMIT 1",
        [dossier_id.to_string()],
        |r| uuid_col(r.get(0)?),
    )
    .optional()
}

/// Staff members as an ECD may see them: id and name (no username, no role details).
pub fn practitioners(conn: &dyn Query, only: Option<Uuid>) -> sql::Result<Vec<(Uuid, String)>> {
    let row = |r: &sql::Row| Ok((uuid_col(r.get(0)?)?, r.get(1)?));
    match only {
        Some(id) => conn.query_map(
            "SELECT id, display_name FROM staff WHERE id = ?1 AND role <> ?2",
            params![id.to_string(), SYSTEM_ROLE],
            row,
        ),
        None => conn.query_map(
            "SELECT id, display_name FROM staff WHERE role <> ?1 ORDER BY display_name, id",
            [SYSTEM_ROLE],
            row,
        ),
    }
}

/// The Mijn CJG record a client's own identifier stands for. Identifiers are kept per client:
/// another organisation's system cannot reach, or learn of, this one's records by guessing
/// its identifiers.
pub fn linked(
    conn: &dyn Query,
    client_id: &str,
    resource_type: &str,
    id: &ExternalId,
) -> sql::Result<Option<Uuid>> {
    conn.query_row(
        "SELECT local_id FROM fhir_links
         WHERE client_id = ?1 AND resource_type = ?2 AND system = ?3 AND value = ?4",
        params![client_id, resource_type, id.system, id.value],
        |r| uuid_col(r.get(0)?),
    )
    .optional()
}

pub fn link(
    conn: &dyn Query,
    client_id: &str,
    resource_type: &str,
    id: &ExternalId,
    local_id: Uuid,
) -> sql::Result<()> {
    conn.execute(
        "INSERT INTO fhir_links (client_id, resource_type, system, value, local_id) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![client_id, resource_type, id.system, id.value, local_id.to_string()],
    )?;
    Ok(())
}

/// The client's identifier of a record, if it sent one (shown back beside Mijn CJG's own).
pub fn identifier_of(
    conn: &dyn Query,
    client_id: &str,
    resource_type: &str,
    local_id: Uuid,
) -> sql::Result<Option<ExternalId>> {
    conn.query_row(
        "SELECT system, value FROM fhir_links WHERE client_id = ?1 AND resource_type = ?2 AND local_id = ?3",
        params![client_id, resource_type, local_id.to_string()],
        |r| Ok(ExternalId { system: r.get(0)?, value: r.get(1)? }),
    )
    .optional()
}

/// The staff members who work on a dossier become exactly `staff`, as the ECD's care team
/// says. Each must be a person whose role works in a caseload (never a system account, nor a
/// quality officer who works from the report only).
pub fn set_dossier_staff(tx: &Tx<'_>, dossier_id: Uuid, staff: &[Uuid]) -> StoreResult<()> {
    use cjg_core::staff::CaseloadTask;
    for id in staff {
        let works_with_families = super::staff::staff_by_id(tx, *id)?
            .is_some_and(|s| CaseloadTask::ALL.iter().any(|t| s.role.may_in_caseload(*t)));
        if !works_with_families {
            return Err(StoreError::invalid(format!(
                "participant Practitioner/{id} is not known here, or has no role that works with families"
            )));
        }
    }
    tx.execute("DELETE FROM staff_dossiers WHERE dossier_id = ?1", [dossier_id.to_string()])?;
    for id in staff {
        super::staff::assign_staff(tx, *id, dossier_id)?;
    }
    Ok(())
}

/// The staff members of a dossier's caseload (for the `CareTeam` given back).
pub fn dossier_staff(conn: &dyn Query, dossier_id: Uuid) -> sql::Result<Vec<Uuid>> {
    conn.query_map(
        "SELECT staff_id FROM staff_dossiers WHERE dossier_id = ?1 ORDER BY staff_id",
        [dossier_id.to_string()],
        |r| uuid_col(r.get(0)?),
    )
}

/// A client's Subscription.
#[derive(Debug, Clone)]
pub struct Subscription {
    pub id: Uuid,
    pub client_id: String,
    pub criteria: String,
    pub endpoint: String,
}

pub fn insert_subscription(conn: &dyn Query, s: &Subscription, now: DateTime<Utc>) -> sql::Result<()> {
    conn.execute(
        "INSERT INTO fhir_subscriptions (id, client_id, criteria, endpoint, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![s.id.to_string(), s.client_id, s.criteria, s.endpoint, now],
    )?;
    Ok(())
}

fn subscription_row(r: &sql::Row) -> sql::Result<Subscription> {
    Ok(Subscription {
        id: uuid_col(r.get(0)?)?,
        client_id: r.get(1)?,
        criteria: r.get(2)?,
        endpoint: r.get(3)?,
    })
}

/// A client's own Subscriptions, oldest first.
pub fn subscriptions_of(conn: &dyn Query, client_id: &str) -> sql::Result<Vec<Subscription>> {
    conn.query_map(
        "SELECT id, client_id, criteria, endpoint FROM fhir_subscriptions WHERE client_id = ?1 ORDER BY created_at, id",
        [client_id],
        subscription_row,
    )
}

/// Every Subscription on `criteria` (the caller keeps those whose client serves the family).
pub fn subscriptions_on(conn: &dyn Query, criteria: &str) -> sql::Result<Vec<Subscription>> {
    conn.query_map(
        "SELECT id, client_id, criteria, endpoint FROM fhir_subscriptions WHERE criteria = ?1 ORDER BY id",
        [criteria],
        subscription_row,
    )
}

/// `false` when the client has no Subscription with this id.
pub fn delete_subscription(conn: &dyn Query, client_id: &str, id: Uuid) -> sql::Result<bool> {
    let n = conn.execute(
        "DELETE FROM fhir_subscriptions WHERE id = ?1 AND client_id = ?2",
        params![id.to_string(), client_id],
    )?;
    Ok(n == 1)
}

/// Which part of a change feed a poll reads: after `since` (or at it, `inclusive`), after a
/// place (`cursor`: time and id) when paging, up to a `horizon`, in some teams only (`None`:
/// every team), at most `limit` rows.
pub struct FeedQuery<'a> {
    pub since: DateTime<Utc>,
    pub inclusive: bool,
    pub cursor: Option<(DateTime<Utc>, Uuid)>,
    pub horizon: DateTime<Utc>,
    pub teams: Option<&'a [String]>,
    pub limit: i64,
}

impl FeedQuery<'_> {
    /// The `WHERE` condition on `at` (a time column or expression), `id` and `team`, with its
    /// values, numbered from `?1`; and the `ORDER BY … LIMIT` that goes with it.
    pub fn filter(&self, at: &str, id: &str, team: &str) -> (String, String, Vec<sql::Value>) {
        use super::sql::ToValue;
        let mut values = vec![self.horizon.to_value(), self.limit.to_value()];
        let mut conditions = vec![format!("{at} <= ?1")];
        match self.cursor {
            Some((c_at, c_id)) => {
                values.push(c_at.to_value());
                values.push(c_id.to_string().to_value());
                conditions.push(format!("({at} > ?3 OR ({at} = ?3 AND {id} > ?4))"));
            }
            None => {
                values.push(self.since.to_value());
                conditions.push(format!("{at} {} ?3", if self.inclusive { ">=" } else { ">" }));
            }
        }
        if let Some(teams) = self.teams {
            let first = values.len() + 1;
            let marks: Vec<String> = (first..first + teams.len()).map(|i| format!("?{i}")).collect();
            values.extend(teams.iter().map(|t| t.to_value()));
            // An empty list of teams matches nothing.
            conditions.push(if marks.is_empty() {
                "1 = 0".into()
            } else {
                format!("{team} IN ({})", marks.join(", "))
            });
        }
        (conditions.join(" AND "), format!("ORDER BY {at}, {id} LIMIT ?2"), values)
    }
}
