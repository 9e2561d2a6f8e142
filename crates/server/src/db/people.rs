//! Dossiers and the people in them.

use chrono::{DateTime, NaiveDate, Utc};
use cjg_core::policy::{Family, Member, Regime};
use cjg_core::{Person, PersonRole};
use uuid::Uuid;

use super::sql::{self, params, OptionalExt, Query, QueryExt, Tx};
use super::{bad_text, next_seq, uuid_col};

/// A new family's dossier; `invented` marks the demo's and load test's families (see migration
/// 0011), the only ones `--demo` hands out codes for.
pub fn insert_dossier(
    tx: &Tx<'_>,
    id: Uuid,
    family_name: &str,
    invented: bool,
    now: DateTime<Utc>,
) -> sql::Result<()> {
    tx.execute(
        "INSERT INTO dossiers (id, family_name, invented, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![id.to_string(), family_name, i64::from(invented), now],
    )?;
    Ok(())
}

pub struct NewPerson<'a> {
    pub role: PersonRole,
    pub display_name: &'a str,
    pub birth_date: NaiveDate,
    pub has_gezag: bool,
}

pub fn insert_person(tx: &Tx<'_>, dossier_id: Uuid, p: &NewPerson<'_>) -> sql::Result<Uuid> {
    let id = Uuid::new_v4();
    let seq = next_seq(tx)?;
    tx.execute(
        "INSERT INTO people (id, dossier_id, role, display_name, birth_date, has_gezag, version, seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7)",
        params![
            id.to_string(),
            dossier_id.to_string(),
            p.role.as_str(),
            p.display_name,
            p.birth_date,
            p.has_gezag,
            seq
        ],
    )?;
    Ok(id)
}

/// Brings a person in line with what the ECD says of them; `false` when nothing changed. A
/// change moves the person into the feed, so every device of the family weighs its entries
/// again (an age or gezag changes who may read what).
pub fn update_person(tx: &Tx<'_>, id: Uuid, p: &NewPerson<'_>) -> sql::Result<bool> {
    // Checked first: a number of the change feed is taken only for a real change.
    if !differs(tx, id, p)? {
        return Ok(false);
    }
    let seq = next_seq(tx)?;
    let n = tx.execute(
        "UPDATE people SET role = ?2, display_name = ?3, birth_date = ?4, has_gezag = ?5,
                version = version + 1, seq = ?6
         WHERE id = ?1 AND (role <> ?2 OR display_name <> ?3 OR birth_date <> ?4 OR has_gezag <> ?5)",
        params![id.to_string(), p.role.as_str(), p.display_name, p.birth_date, p.has_gezag, seq],
    )?;
    Ok(n == 1)
}

/// Whether what the ECD says of a person differs from what is stored.
pub fn differs(conn: &dyn Query, id: Uuid, p: &NewPerson<'_>) -> sql::Result<bool> {
    Ok(person(conn, id)?.is_none_or(|k| {
        k.role != p.role
            || k.display_name != p.display_name
            || k.birth_date != p.birth_date
            || k.has_gezag != p.has_gezag
    }))
}

/// The team that serves a family (the indicator report and the FHIR clients go by it).
pub fn set_dossier_team(tx: &Tx<'_>, dossier_id: Uuid, team: &str) -> sql::Result<()> {
    tx.execute("UPDATE dossiers SET team = ?2 WHERE id = ?1", params![dossier_id.to_string(), team])?;
    Ok(())
}

pub fn dossier_team(conn: &dyn Query, dossier_id: Uuid) -> sql::Result<String> {
    conn.query_row("SELECT team FROM dossiers WHERE id = ?1", [dossier_id.to_string()], |r| r.get(0))
}

pub(super) const PERSON_COLUMNS: &str =
    "id, dossier_id, role, display_name, birth_date, has_gezag, shares_with_parents, version, seq, consent_on";

pub(super) fn person_row(r: &sql::Row) -> sql::Result<(Person, i64)> {
    let role: String = r.get(2)?;
    Ok((
        Person {
            id: uuid_col(r.get(0)?)?,
            dossier_id: uuid_col(r.get(1)?)?,
            role: PersonRole::parse(&role).ok_or_else(|| bad_text(2, "unknown person role"))?,
            display_name: r.get(3)?,
            birth_date: r.get(4)?,
            has_gezag: r.get(5)?,
            shares_with_parents: r.get(6)?,
            consent_on: r.get(9)?,
            version: r.get(7)?,
        },
        r.get(8)?,
    ))
}

pub fn person(conn: &dyn Query, id: Uuid) -> sql::Result<Option<Person>> {
    conn.query_row(&format!("SELECT {PERSON_COLUMNS} FROM people WHERE id = ?1"), [id.to_string()], |r| {
        person_row(r).map(|(p, _)| p)
    })
    .optional()
}

pub fn dossier_people(conn: &dyn Query, dossier_id: Uuid) -> sql::Result<Vec<Person>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {PERSON_COLUMNS} FROM people WHERE dossier_id = ?1 ORDER BY birth_date, display_name"
    ))?;
    let rows = stmt.query_map([dossier_id.to_string()], |r| person_row(r).map(|(p, _)| p))?;
    rows.collect()
}

pub fn regime(conn: &dyn Query, dossier_id: Uuid) -> sql::Result<Regime> {
    let r: String =
        conn.query_row("SELECT regime FROM dossiers WHERE id = ?1", [dossier_id.to_string()], |r| r.get(0))?;
    Ok(if r == "wgbo" { Regime::Wgbo } else { Regime::Jeugdwet })
}

/// Whether a person may use the app for their dossier on `today` (a youth from 12, say).
pub fn has_own_access(conn: &dyn Query, person_id: Uuid, today: NaiveDate) -> sql::Result<bool> {
    let Some(p) = person(conn, person_id)? else { return Ok(false) };
    let members: Vec<Member> = dossier_people(conn, p.dossier_id)?.iter().map(member_of).collect();
    let family = Family { members: &members, regime: regime(conn, p.dossier_id)?, today };
    Ok(family.has_own_access(&member_of(&p)))
}

pub(super) fn member_of(p: &Person) -> Member {
    Member {
        id: p.id,
        role: p.role,
        birth_date: p.birth_date,
        has_gezag: p.has_gezag,
        shares_with_parents: p.shares_with_parents,
        consent_on: p.consent_on,
    }
}

/// Records a youth's consent (or its withdrawal) and moves it into the feed. A "yes" is
/// recorded with its day even when it repeats an earlier one: that is how a youth renews at 16
/// a consent given before.
pub fn set_consent(
    tx: &Tx<'_>,
    youth_id: Uuid,
    shares: bool,
    recorded_by: &str,
    now: DateTime<Utc>,
) -> sql::Result<()> {
    let seq = next_seq(tx)?;
    let today = cjg_core::time::dutch_date(now);
    if shares {
        tx.execute(
            "UPDATE people SET shares_with_parents = ?2, consent_on = ?3, version = version + 1, seq = ?4
             WHERE id = ?1",
            params![youth_id.to_string(), shares, today, seq],
        )?;
    } else {
        tx.execute(
            "UPDATE people SET shares_with_parents = ?2, consent_on = NULL, version = version + 1, seq = ?3
             WHERE id = ?1 AND shares_with_parents <> ?2",
            params![youth_id.to_string(), shares, seq],
        )?;
    }
    tx.execute(
        "INSERT INTO consents (youth_id, shares, recorded_by, at) VALUES (?1, ?2, ?3, ?4)",
        params![youth_id.to_string(), shares, recorded_by, now],
    )?;
    Ok(())
}

pub fn dossier_count(conn: &dyn Query) -> sql::Result<i64> {
    conn.query_row("SELECT COUNT(*) FROM dossiers", params![], |r| r.get(0))
}

/// Families the demo did not invent.
pub fn real_dossier_count(conn: &dyn Query) -> sql::Result<i64> {
    conn.query_row("SELECT COUNT(*) FROM dossiers WHERE invented = 0", params![], |r| r.get(0))
}

pub fn person_id_by_name(conn: &dyn Query, dossier_id: Uuid, name: &str) -> sql::Result<Uuid> {
    conn.query_row(
        "SELECT id FROM people WHERE dossier_id = ?1 AND display_name = ?2",
        params![dossier_id.to_string(), name],
        |r| uuid_col(r.get(0)?),
    )
}

/// (person id, role, display name) of every member of an invented family with a coach, oldest
/// first. The
/// demo archive (closed trajectories, no coach) is left out.
pub fn invented_family_members(conn: &dyn Query) -> sql::Result<Vec<(Uuid, String, String)>> {
    let mut stmt = conn.prepare(
        "SELECT p.id, p.role, p.display_name FROM people p JOIN dossiers d ON d.id = p.dossier_id
         WHERE d.invented = 1 AND EXISTS (SELECT 1 FROM staff_dossiers sd WHERE sd.dossier_id = d.id)
         ORDER BY d.created_at, d.family_name, p.birth_date, p.display_name",
    )?;
    let rows = stmt.query_map(params![], |r| Ok((uuid_col(r.get(0)?)?, r.get(1)?, r.get(2)?)))?;
    rows.collect()
}

pub fn person_dossier(conn: &dyn Query, person_id: Uuid) -> sql::Result<Option<Uuid>> {
    conn.query_row("SELECT dossier_id FROM people WHERE id = ?1", [person_id.to_string()], |r| {
        uuid_col(r.get(0)?)
    })
    .optional()
}

pub fn person_name(conn: &dyn Query, person_id: Uuid) -> sql::Result<String> {
    conn.query_row("SELECT display_name FROM people WHERE id = ?1", [person_id.to_string()], |r| r.get(0))
}
