//! Staff members and their caseloads.

use cjg_core::staff::StaffRole;
use uuid::Uuid;

use super::sql::{self, params, OptionalExt, Query, QueryExt, Tx};
use super::{bad_text, uuid_col, StaffActor};

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

pub fn staff_by_username(conn: &dyn Query, username: &str) -> sql::Result<Option<(StaffActor, String)>> {
    conn.query_row(
        "SELECT id, display_name, role, password_hash FROM staff WHERE username = ?1",
        [username],
        |r| Ok((staff_row(r)?, r.get(3)?)),
    )
    .optional()
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
