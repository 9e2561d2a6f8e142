//! The access log (NEN 7513): one hash chain per dossier (the whole log, for staff and the
//! server's own check) and one per family member over the lines that person may read (what
//! their Inzage shows and verifies); purposes and alerts.

use chrono::SubsecRound;
use chrono::{DateTime, Utc};
use cjg_core::audit::{AuditAction, AuditEvent, AuditObject, Purpose};
use cjg_core::entry::Visibility;
use cjg_core::policy::{EntryScope, Family, LineSubject, Member};
use cjg_crypto::chain;
use uuid::Uuid;

use super::sql::{self, params, OptionalExt, Query, QueryExt, Tx};
use super::{uuid_col, DeviceSubject, StaffActor};

/// One NEN 7513 audit line, as a handler describes the access.
pub struct AuditRecord<'a> {
    pub dossier_id: Uuid,
    pub actor: &'a StaffActor,
    pub action: AuditAction,
    pub object_type: AuditObject,
    pub object_id: Option<Uuid>,
    pub purpose: Purpose,
    pub purpose_note: Option<&'a str>,
    /// The peer address: kept on the server, not part of what families see.
    pub origin: &'a str,
    pub at: DateTime<Utc>,
    /// Through which application the access came (NEN 7513): [`APPLICATION`] for the staff
    /// API and the app, `fhir:<client id>` for one of the CJG's own systems.
    pub application: &'a str,
}

/// The application staff accesses come through: the staff API (and the app on it).
pub const APPLICATION: &str = "staff-api";

pub(super) const AUDIT_COLUMNS: &str =
    "a.event_id, a.dossier_id, a.position, a.actor_staff_id, a.actor_name, a.actor_role,
     a.action, a.object_type, a.object_id, a.purpose, a.purpose_note, a.at, a.application, a.hash";

fn bad_value(what: &str) -> sql::Error {
    sql::Error::BadValue(0, format!("unknown {what} in the audit log"))
}

/// A stored line and the hash stored beside it (which [`verify_chains`] checks).
pub(super) fn audit_row(r: &sql::Row) -> sql::Result<(AuditEvent, Option<String>)> {
    let action: String = r.get(6)?;
    let purpose: String = r.get(9)?;
    let object_id: Option<String> = r.get(8)?;
    Ok((
        AuditEvent {
            id: uuid_col(r.get(0)?)?,
            dossier_id: uuid_col(r.get(1)?)?,
            position: r.get(2)?,
            actor_id: uuid_col(r.get(3)?)?,
            actor_name: r.get(4)?,
            actor_role: r.get(5)?,
            action: AuditAction::parse(&action).ok_or_else(|| bad_value("action"))?,
            object_type: r.get(7)?,
            object_id: object_id.map(uuid_col).transpose()?,
            purpose: Purpose::parse(&purpose).ok_or_else(|| bad_value("purpose"))?,
            purpose_note: r.get(10)?,
            at: r.get(11)?,
            origin: r.get(12)?,
        },
        r.get(13)?,
    ))
}

/// The stored hash of the line before `position` (the genesis for the first line).
pub(super) fn chain_tail(tx: &Tx<'_>, dossier_id: Uuid, position: u32) -> sql::Result<chain::Hash> {
    let stored: Option<String> = tx
        .query_row(
            "SELECT hash FROM audit_events WHERE dossier_id = ?1 AND position = ?2",
            params![dossier_id.to_string(), position.saturating_sub(1)],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    Ok(stored.as_deref().and_then(chain::unhex).unwrap_or(chain::GENESIS))
}

/// How many lines the dossier's log has.
pub fn log_size(conn: &dyn Query, dossier_id: Uuid) -> sql::Result<u32> {
    conn.query_row(
        "SELECT COALESCE(MAX(position), 0) FROM audit_events WHERE dossier_id = ?1",
        [dossier_id.to_string()],
        |r| r.get(0),
    )
}

/// Appends a line to the dossier's chain, in the caller's transaction.
pub fn append_audit(tx: &Tx<'_>, r: &AuditRecord<'_>) -> sql::Result<AuditEvent> {
    tx.check_order(r.dossier_id)?;
    let last = log_size(tx, r.dossier_id)?;
    let event = AuditEvent {
        id: Uuid::new_v4(),
        dossier_id: r.dossier_id,
        position: last + 1,
        actor_id: r.actor.id,
        actor_name: r.actor.display_name.clone(),
        actor_role: r.actor.role.as_str().to_owned(),
        action: r.action,
        object_type: r.object_type.as_str().to_owned(),
        object_id: r.object_id,
        purpose: r.purpose,
        purpose_note: r.purpose_note.map(str::to_owned),
        // Stores keep microseconds; the chain covers exactly what is stored.
        at: r.at.trunc_subsecs(6),
        origin: r.application.to_owned(),
    };
    let hash = chain::link(&chain_tail(tx, r.dossier_id, event.position)?, &event);
    tx.execute(
        "INSERT INTO audit_events (event_id, dossier_id, position, actor_staff_id, actor_name, actor_role, action,
             object_type, object_id, purpose, purpose_note, at, application, hash, origin)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        params![
            event.id.to_string(),
            event.dossier_id.to_string(),
            event.position,
            event.actor_id.to_string(),
            event.actor_name,
            event.actor_role,
            event.action.as_str(),
            event.object_type,
            event.object_id.map(|u| u.to_string()),
            event.purpose.as_str(),
            event.purpose_note,
            event.at,
            event.origin,
            chain::hex(&hash),
            r.origin
        ],
    )?;
    distribute(tx, &event)?;
    Ok(event)
}

/// What a line is about, from its object: the rule of `cjg_core::policy` then says who may
/// read it. A list or the dossier as a whole is for the family; an item of one person (a
/// message, a device, a code, a questionnaire, feedback, a tip) only for that person.
fn line_subject(conn: &dyn Query, object_type: &str, object_id: Option<Uuid>) -> sql::Result<LineSubject> {
    let Some(object) = AuditObject::parse(object_type) else { return Ok(LineSubject::Unknown) };
    let owner = |table_and_column: &str| -> sql::Result<LineSubject> {
        let Some(id) = object_id else { return Ok(LineSubject::Dossier) };
        let person: Option<String> = conn
            .query_row(&format!("SELECT {table_and_column} = ?1"), [id.to_string()], |r| r.get(0))
            .optional()?;
        Ok(person.map(uuid_col).transpose()?.map_or(LineSubject::Unknown, LineSubject::Person))
    };
    Ok(match object {
        AuditObject::AuditLog
        | AuditObject::Entries
        | AuditObject::Messages
        | AuditObject::People
        | AuditObject::Questionnaires
        | AuditObject::ReadingTips
        | AuditObject::Trajectory
        | AuditObject::CareTeam => LineSubject::Dossier,
        AuditObject::ActivationCode | AuditObject::Devices => {
            object_id.map_or(LineSubject::Unknown, LineSubject::Person)
        }
        AuditObject::Device => owner("person_id FROM devices WHERE id")?,
        AuditObject::Feedback => owner("author_person_id FROM feedback WHERE id")?,
        AuditObject::FeedbackRequest => owner("person_id FROM feedback_requests WHERE id")?,
        AuditObject::Message => owner("person_id FROM messages WHERE id")?,
        AuditObject::Questionnaire => owner("person_id FROM questionnaire_tasks WHERE id")?,
        AuditObject::ReadingTip => owner("person_id FROM reading_tips WHERE id")?,
        AuditObject::Entry => {
            let Some(id) = object_id else { return Ok(LineSubject::Dossier) };
            let row: Option<(String, Option<String>)> = conn
                .query_row("SELECT visibility, child_id FROM entries WHERE id = ?1", [id.to_string()], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            match row {
                Some((visibility, child)) => match Visibility::parse(&visibility) {
                    Some(visibility) => LineSubject::Entry(EntryScope {
                        visibility,
                        child_id: child.map(uuid_col).transpose()?,
                    }),
                    None => LineSubject::Unknown,
                },
                None => LineSubject::Unknown,
            }
        }
    })
}

/// Appends `event` to the log of every family member who may read it on the day it happened.
pub(super) fn distribute(tx: &Tx<'_>, event: &AuditEvent) -> sql::Result<()> {
    let subject = line_subject(tx, &event.object_type, event.object_id)?;
    let members: Vec<Member> =
        super::people::dossier_people(tx, event.dossier_id)?.iter().map(super::people::member_of).collect();
    let family = Family {
        members: &members,
        regime: super::people::regime(tx, event.dossier_id)?,
        today: cjg_core::time::dutch_date(event.at),
    };
    for person in family.audience(subject) {
        // A new line of their own log is something new to sync: exactly the people it reaches.
        super::wake(tx, crate::push::Wake::Person(person))?;
        let (position, prev): (u32, Option<String>) = tx.query_row(
            "SELECT COALESCE(MAX(position), 0) + 1,
                    (SELECT hash FROM audit_views WHERE person_id = ?1 ORDER BY position DESC LIMIT 1)
             FROM audit_views WHERE person_id = ?1",
            [person.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let prev = prev.as_deref().and_then(chain::unhex).unwrap_or(chain::GENESIS);
        let line = AuditEvent { position, ..event.clone() };
        tx.execute(
            "INSERT INTO audit_views (person_id, position, event_id, hash) VALUES (?1, ?2, ?3, ?4)",
            params![
                person.to_string(),
                position,
                event.id.to_string(),
                chain::hex(&chain::link(&prev, &line))
            ],
        )?;
    }
    Ok(())
}

/// A person's own log as stored, in their chain's order: the lines they may read, each with
/// its place in their chain as `position`, and the hash stored beside it.
pub fn person_log(conn: &dyn Query, person_id: Uuid) -> sql::Result<Vec<(AuditEvent, Option<String>)>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {AUDIT_COLUMNS}, v.position, v.hash FROM audit_views v
         JOIN audit_events a ON a.event_id = v.event_id
         WHERE v.person_id = ?1 ORDER BY v.position"
    ))?;
    let rows = stmt.query_map([person_id.to_string()], |r| {
        let (event, _) = audit_row(r)?;
        Ok((AuditEvent { position: r.get(14)?, ..event }, r.get(15)?))
    })?;
    rows.collect()
}

/// At most `limit` of a person's lines after the first `skip` of their chain, in order, each
/// with its place in the chain as `position`: what a sync page needs, without the rest.
pub fn person_lines(
    conn: &dyn Query,
    person_id: Uuid,
    skip: u32,
    limit: usize,
) -> sql::Result<Vec<AuditEvent>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {AUDIT_COLUMNS}, v.position FROM audit_views v
         JOIN audit_events a ON a.event_id = v.event_id
         WHERE v.person_id = ?1 AND v.position > ?2 ORDER BY v.position LIMIT ?3"
    ))?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt.query_map(params![person_id.to_string(), skip, limit], |r| {
        let (event, _) = audit_row(r)?;
        Ok(AuditEvent { position: r.get(14)?, ..event })
    })?;
    rows.collect()
}

/// The hash stored beside the person's line at `position`: the head of their chain up to it.
pub fn person_head_at(conn: &dyn Query, person_id: Uuid, position: u32) -> sql::Result<Option<String>> {
    conn.query_row(
        "SELECT hash FROM audit_views WHERE person_id = ?1 AND position = ?2",
        params![person_id.to_string(), position],
        |r| r.get(0),
    )
    .optional()
}

/// A dossier's log as stored, in chain order, with the stored hashes.
pub fn audit_log(conn: &dyn Query, dossier_id: Uuid) -> sql::Result<Vec<(AuditEvent, Option<String>)>> {
    audit_log_window(conn, dossier_id, super::Window::ALL)
}

/// The rows of `window` of a dossier's log, in chain order.
pub fn audit_log_window(
    conn: &dyn Query,
    dossier_id: Uuid,
    window: super::Window,
) -> sql::Result<Vec<(AuditEvent, Option<String>)>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {AUDIT_COLUMNS} FROM audit_events a WHERE a.dossier_id = ?1 ORDER BY a.position, a.id
         LIMIT ?2 OFFSET ?3"
    ))?;
    let rows = stmt.query_map(params![dossier_id.to_string(), window.limit, window.offset], audit_row)?;
    rows.collect()
}

/// The dossier's lines after `from` (or at it, `inclusive`), in chain order, the rows of
/// `window`.
pub fn audit_log_from(
    conn: &dyn Query,
    dossier_id: Uuid,
    from: DateTime<Utc>,
    inclusive: bool,
    window: super::Window,
) -> sql::Result<Vec<(AuditEvent, Option<String>)>> {
    let op = if inclusive { ">=" } else { ">" };
    let mut stmt = conn.prepare(&format!(
        "SELECT {AUDIT_COLUMNS} FROM audit_events a WHERE a.dossier_id = ?1 AND a.at {op} ?4
         ORDER BY a.position, a.id LIMIT ?2 OFFSET ?3"
    ))?;
    let rows =
        stmt.query_map(params![dossier_id.to_string(), window.limit, window.offset, from], audit_row)?;
    rows.collect()
}

/// (action, object type, purpose) of a dossier's audit events, oldest first. For tests.
pub fn audit_actions(conn: &dyn Query, dossier_id: Uuid) -> sql::Result<Vec<(String, String, String)>> {
    let mut stmt = conn
        .prepare("SELECT action, object_type, purpose FROM audit_events WHERE dossier_id = ?1 ORDER BY id")?;
    let rows = stmt.query_map([dossier_id.to_string()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    rows.collect()
}

/// What a check of one dossier's chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainReport {
    Intact {
        dossier_id: Uuid,
        size: u32,
    },
    /// The first line at which the chain no longer holds, and why.
    Broken {
        dossier_id: Uuid,
        position: u32,
        reason: &'static str,
    },
}

/// Recomputes every dossier's chain from the stored lines and compares it with the stored
/// hashes: a deleted line leaves a gap, an altered one a hash that no longer matches, a moved
/// one both.
pub fn verify_chains(conn: &dyn Query) -> sql::Result<Vec<ChainReport>> {
    let dossiers: Vec<String> = {
        let mut stmt = conn.prepare("SELECT id FROM dossiers ORDER BY family_name, id")?;
        let rows = stmt.query_map(params![], |r| r.get(0))?;
        rows.collect::<sql::Result<_>>()?
    };
    let mut out = Vec::new();
    for d in dossiers {
        let dossier_id = uuid_col(d)?;
        let mut head = chain::GENESIS;
        let mut size = 0u32;
        let mut broken = None;
        for (event, stored) in audit_log(conn, dossier_id)? {
            if event.position != size + 1 {
                broken = Some((size + 1, "line missing or out of order"));
                break;
            }
            head = chain::link(&head, &event);
            size = event.position;
            if stored.as_deref().and_then(chain::unhex) != Some(head) {
                broken = Some((event.position, "line changed after it was written"));
                break;
            }
        }
        if broken.is_none() {
            broken = verify_person_chains(conn, dossier_id)?;
        }
        out.push(match broken {
            Some((position, reason)) => ChainReport::Broken { dossier_id, position, reason },
            None => ChainReport::Intact { dossier_id, size },
        });
    }
    Ok(out)
}

/// The first break in the log of any member of the dossier, like the dossier's own check.
fn verify_person_chains(conn: &dyn Query, dossier_id: Uuid) -> sql::Result<Option<(u32, &'static str)>> {
    for person in super::people::dossier_people(conn, dossier_id)? {
        let mut head = chain::GENESIS;
        let mut size = 0u32;
        for (event, stored) in person_log(conn, person.id)? {
            if event.position != size + 1 {
                return Ok(Some((size + 1, "a line is missing from a family member's log")));
            }
            head = chain::link(&head, &event);
            size = event.position;
            if stored.as_deref().and_then(chain::unhex) != Some(head) {
                return Ok(Some((event.position, "a line of a family member's log changed")));
            }
        }
    }
    Ok(None)
}

/// The staff member's purpose for the dossier, if stated and not yet expired.
pub fn active_purpose(
    tx: &Tx<'_>,
    staff_id: Uuid,
    dossier_id: Uuid,
    now: DateTime<Utc>,
) -> sql::Result<Option<(Purpose, Option<String>)>> {
    let row: Option<(String, Option<String>, DateTime<Utc>)> = tx
        .query_row(
            "SELECT purpose, note, expires_at FROM purpose_sessions WHERE staff_id = ?1 AND dossier_id = ?2",
            params![staff_id.to_string(), dossier_id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    Ok(row
        .filter(|(_, _, expires)| *expires > now)
        .and_then(|(p, note, _)| Purpose::parse(&p).map(|p| (p, note))))
}

pub fn open_purpose(
    conn: &dyn Query,
    staff_id: Uuid,
    dossier_id: Uuid,
    purpose: Purpose,
    note: Option<&str>,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> sql::Result<()> {
    conn.execute(
        "INSERT INTO purpose_sessions (staff_id, dossier_id, purpose, note, opened_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (staff_id, dossier_id) DO UPDATE SET purpose = excluded.purpose, note = excluded.note,
             opened_at = excluded.opened_at, expires_at = excluded.expires_at",
        params![staff_id.to_string(), dossier_id.to_string(), purpose.as_str(), note, now, expires_at],
    )?;
    Ok(())
}

pub struct AlertRecord<'a> {
    pub subject: &'a DeviceSubject,
    pub alert: &'a cjg_core::audit::AuditAlert,
    pub at: DateTime<Utc>,
}

pub fn record_audit_alert(conn: &dyn Query, a: &AlertRecord<'_>) -> sql::Result<()> {
    conn.execute(
        "INSERT INTO audit_alerts (dossier_id, person_id, device_id, verified_size, verified_head,
             received_size, received_head, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            a.subject.dossier_id.to_string(),
            a.subject.person_id.to_string(),
            a.subject.device_id.to_string(),
            a.alert.verified_size,
            a.alert.verified_head,
            a.alert.received_size,
            a.alert.received_head,
            a.at
        ],
    )?;
    Ok(())
}

/// Every replacement of the checkpoint key, oldest first.
pub fn key_rotations(conn: &dyn Query) -> sql::Result<Vec<cjg_core::audit::SignedKeyRotation>> {
    use cjg_core::audit::{KeyRotation, SignedKeyRotation};
    conn.query_map(
        "SELECT old_key, new_key, at, signature FROM audit_key_rotations ORDER BY position",
        params![],
        |r| {
            Ok(SignedKeyRotation {
                rotation: KeyRotation { old_key: r.get(0)?, new_key: r.get(1)?, at: r.get(2)? },
                signature: r.get(3)?,
            })
        },
    )
}

/// Keeps a key rotation statement after the ones before it, only when it continues from the
/// last one (or is the first): false when another rotation got there first, so two at once
/// cannot fork the keys. Run it in a region-wide write transaction.
pub fn add_key_rotation(conn: &dyn Query, r: &cjg_core::audit::SignedKeyRotation) -> sql::Result<bool> {
    let last: Option<String> = conn
        .query_row(
            "SELECT new_key FROM audit_key_rotations ORDER BY position DESC LIMIT 1",
            params![],
            |row| row.get(0),
        )
        .optional()?;
    if last.is_some_and(|k| k != r.rotation.old_key) {
        return Ok(false);
    }
    let added = conn.execute(
        "INSERT INTO audit_key_rotations (position, old_key, new_key, at, signature)
         SELECT COALESCE(MAX(position), 0) + 1, ?1, ?2, ?3, ?4 FROM audit_key_rotations
         WHERE NOT EXISTS (SELECT 1 FROM audit_key_rotations WHERE old_key = ?1)",
        params![r.rotation.old_key, r.rotation.new_key, r.rotation.at, r.signature],
    )?;
    Ok(added == 1)
}
