//! What the usage report counts, read from the tables the features keep, and the activity
//! counters it keeps itself (numbers per team and period, nothing per person).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use cjg_core::entry::PersonRole;
use cjg_core::feedback::FeedbackKind;
use cjg_core::time::dutch_date;
use cjg_core::usage::{
    self, ActivityCount, DeviceDays, Event, Family, Member, SharedCount, UsageQuestion, UsageShare,
};
use uuid::Uuid;

use super::bad_text;
use super::sql::{self, params, OptionalExt, Query, QueryExt, Tx};

/// Every family with its members' app installations and what the server saw them do. Only
/// days leave this function, never names, texts or ids.
pub fn families(conn: &dyn Query) -> sql::Result<Vec<Family>> {
    let mut families = Vec::new();
    let mut by_dossier: HashMap<String, usize> = HashMap::new();
    {
        let mut stmt =
            conn.prepare("SELECT id, municipality, team, started_on, closed_on FROM dossiers ORDER BY id")?;
        let rows = stmt.query_map(params![], |r| {
            Ok((
                r.get::<String>(0)?,
                Family {
                    municipality: r.get(1)?,
                    team: r.get(2)?,
                    started_on: r.get(3)?,
                    closed_on: r.get(4)?,
                    members: Vec::new(),
                    events: Vec::new(),
                },
            ))
        })?;
        for row in rows {
            let (id, f) = row?;
            by_dossier.insert(id, families.len());
            families.push(f);
        }
    }
    let mut by_person: HashMap<String, (usize, usize)> = HashMap::new();
    {
        let mut stmt = conn.prepare("SELECT id, dossier_id, role, birth_date FROM people ORDER BY id")?;
        let rows = stmt.query_map(params![], |r| {
            let role: String = r.get(2)?;
            Ok((
                r.get::<String>(0)?,
                r.get::<String>(1)?,
                PersonRole::parse(&role).ok_or_else(|| bad_text(2, "unknown person role"))?,
                r.get::<NaiveDate>(3)?,
            ))
        })?;
        for row in rows {
            let (id, dossier, role, birth_date) = row?;
            if let Some(&f) = by_dossier.get(&dossier) {
                let members = &mut families[f].members;
                by_person.insert(id, (f, members.len()));
                members.push(Member { role, birth_date, devices: Vec::new() });
            }
        }
    }
    {
        let mut stmt =
            conn.prepare("SELECT person_id, created_at, revoked_at, revoked_by FROM devices ORDER BY id")?;
        let rows = stmt.query_map(params![], |r| {
            Ok((
                r.get::<String>(0)?,
                r.get::<DateTime<Utc>>(1)?,
                r.get::<Option<DateTime<Utc>>>(2)?,
                r.get::<Option<String>>(3)?,
            ))
        })?;
        for row in rows {
            let (person, created, revoked, by) = row?;
            if let Some(&(f, m)) = by_person.get(&person) {
                families[f].members[m].devices.push(DeviceDays {
                    enrolled_on: dutch_date(created),
                    revoked_on: revoked.map(dutch_date),
                    // The app revokes as `person:<id>`; staff as `staff:<id>`, too many PIN tries as `pin-tries`.
                    revoked_by_family: by.is_some_and(|b| b.starts_with("person:")),
                });
            }
        }
    }
    let mut push = |dossier: &str, e: Event| {
        if let Some(&f) = by_dossier.get(dossier) {
            families[f].events.push(e);
        }
    };
    for_each(
        conn,
        "SELECT dossier_id, created_at, kind FROM feedback",
        |r| {
            let kind: String = r.get(2)?;
            let kind = FeedbackKind::parse(&kind).ok_or_else(|| bad_text(2, "unknown feedback kind"))?;
            Ok((r.get(0)?, Event::Feedback { on: dutch_date(r.get(1)?), kind }))
        },
        &mut push,
    )?;
    for_each(
        conn,
        "SELECT dossier_id, available_on FROM questionnaire_tasks WHERE status != 'withdrawn'",
        |r| Ok((r.get(0)?, Event::QuestionnaireSent { on: r.get(1)? })),
        &mut push,
    )?;
    for_each(
        conn,
        "SELECT dossier_id, submitted_at FROM questionnaire_tasks
         WHERE status = 'submitted' AND submitted_device IS NOT NULL AND submitted_at IS NOT NULL",
        |r| Ok((r.get(0)?, Event::QuestionnaireAnsweredInApp { on: dutch_date(r.get(1)?) })),
        &mut push,
    )?;
    for_each(
        conn,
        "SELECT dossier_id, read_at FROM reading_tips WHERE read_at IS NOT NULL",
        |r| Ok((r.get(0)?, Event::TipOpened { on: dutch_date(r.get(1)?) })),
        &mut push,
    )?;
    // Each family message against the first coach message after it in the same conversation.
    let mut stmt = conn.prepare(
        "SELECT dossier_id, person_id, author_staff_id IS NULL, created_at FROM messages
         ORDER BY person_id, created_at DESC",
    )?;
    let rows = stmt.query_map(params![], |r| {
        Ok((r.get::<String>(0)?, r.get::<String>(1)?, r.get::<bool>(2)?, r.get::<DateTime<Utc>>(3)?))
    })?;
    let mut thread: Option<String> = None;
    let mut next_answer: Option<DateTime<Utc>> = None;
    for row in rows {
        let (dossier, person, from_family, at) = row?;
        if thread.as_deref() != Some(person.as_str()) {
            thread = Some(person);
            next_answer = None;
        }
        if from_family {
            let after = next_answer.map(|a| u32::try_from((a - at).num_minutes().max(0)).unwrap_or(u32::MAX));
            push(&dossier, Event::FamilyMessage { on: dutch_date(at), answered_after_minutes: after });
        } else {
            next_answer = Some(at);
        }
    }
    Ok(families)
}

fn for_each(
    conn: &dyn Query,
    query: &str,
    row: impl Fn(&sql::Row) -> sql::Result<(String, Event)>,
    push: &mut impl FnMut(&str, Event),
) -> sql::Result<()> {
    let mut stmt = conn.prepare(query)?;
    for r in stmt.query_map(params![], |r| row(r))? {
        let (dossier, e) = r?;
        push(&dossier, e);
    }
    Ok(())
}

pub fn activity(conn: &dyn Query) -> sql::Result<Vec<ActivityCount>> {
    let mut stmt =
        conn.prepare("SELECT bucket, municipality, team, persons FROM usage_activity ORDER BY bucket")?;
    let rows = stmt.query_map(params![], |r| {
        Ok(ActivityCount {
            bucket: r.get(0)?,
            municipality: r.get(1)?,
            team: r.get(2)?,
            persons: u32::try_from(r.get::<i64>(3)?).unwrap_or(0),
        })
    })?;
    rows.collect()
}

pub fn counting_since(conn: &dyn Query) -> sql::Result<Option<NaiveDate>> {
    conn.query_row("SELECT started_on FROM usage_counting WHERE id = 1", params![], |r| r.get(0)).optional()
}

/// Where a device's person belongs and their last contact from any device, before this one.
pub struct PreviousContact {
    at: Option<DateTime<Utc>>,
    municipality: String,
    team: String,
}

pub fn previous_contact(conn: &dyn Query, device_id: Uuid) -> sql::Result<Option<PreviousContact>> {
    conn.query_row(
        "SELECT (SELECT MAX(o.last_seen_at) FROM devices o WHERE o.person_id = d.person_id),
                ds.municipality, ds.team
         FROM devices d JOIN people p ON p.id = d.person_id JOIN dossiers ds ON ds.id = p.dossier_id
         WHERE d.id = ?1",
        params![device_id.to_string()],
        |r| Ok(PreviousContact { at: r.get(0)?, municipality: r.get(1)?, team: r.get(2)? }),
    )
    .optional()
}

/// Counts the person as active in every bucket of `now` (week, month, quarter, half year)
/// their previous contact was not in.
pub fn count_activity(conn: &dyn Query, previous: &PreviousContact, now: DateTime<Utc>) -> sql::Result<()> {
    let before = previous.at.map(|p| usage::activity_buckets(dutch_date(p)));
    for (i, bucket) in usage::activity_buckets(dutch_date(now)).iter().enumerate() {
        if before.as_ref().is_some_and(|b| b[i] == *bucket) {
            continue;
        }
        conn.execute(
            "INSERT INTO usage_activity (bucket, municipality, team, persons) VALUES (?1, ?2, ?3, 1)
             ON CONFLICT (bucket, municipality, team) DO UPDATE SET persons = usage_activity.persons + 1",
            params![bucket, previous.municipality, previous.team],
        )?;
    }
    Ok(())
}

pub fn shared(conn: &dyn Query) -> sql::Result<Vec<SharedCount>> {
    let mut stmt = conn.prepare(
        "SELECT month, municipality, team, question, reports, yes FROM usage_shared ORDER BY month",
    )?;
    let rows = stmt.query_map(params![], |r| {
        let question: String = r.get(3)?;
        Ok(SharedCount {
            month: r.get(0)?,
            municipality: r.get(1)?,
            team: r.get(2)?,
            question: UsageQuestion::parse(&question).ok_or_else(|| bad_text(3, "unknown usage question"))?,
            reports: u32::try_from(r.get::<i64>(4)?).unwrap_or(0),
            yes: u32::try_from(r.get::<i64>(5)?).unwrap_or(0),
        })
    })?;
    rows.collect()
}

/// Adds one person's randomized monthly report to the counters, unless the person's apps
/// already reported this month or a later one (`false` then).
pub fn add_share(tx: &Tx<'_>, device_id: Uuid, share: &UsageShare) -> sql::Result<bool> {
    let found: Option<(Option<String>, String, String, String)> = tx
        .query_row(
            "SELECT (SELECT MAX(o.usage_reported_month) FROM devices o WHERE o.person_id = d.person_id),
                    ds.municipality, ds.team, d.person_id
             FROM devices d JOIN people p ON p.id = d.person_id JOIN dossiers ds ON ds.id = p.dossier_id
             WHERE d.id = ?1",
            params![device_id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let Some((last, municipality, team, _person)) = found else { return Ok(false) };
    // Month codes sort as text (2026-11 < 2026-12 < 2027-01).
    if last.is_some_and(|l| l.as_str() >= share.month.as_str()) {
        return Ok(false);
    }
    tx.execute(
        "UPDATE devices SET usage_reported_month = ?2 WHERE id = ?1",
        params![device_id.to_string(), share.month.clone()],
    )?;
    for (q, yes) in &share.answers {
        tx.execute(
            "INSERT INTO usage_shared (month, municipality, team, question, reports, yes) VALUES (?1, ?2, ?3, ?4, 1, ?5)
             ON CONFLICT (month, municipality, team, question)
             DO UPDATE SET reports = usage_shared.reports + 1, yes = usage_shared.yes + ?5",
            params![share.month.clone(), municipality.clone(), team.clone(), q.as_str(), i64::from(*yes)],
        )?;
    }
    Ok(true)
}
