//! Questionnaire tasks: scheduled from the trajectory, sent by hand, answered once.

use std::collections::HashSet;

use super::sql::{self, params, OptionalExt, Query, QueryExt, Tx};
use chrono::{DateTime, Days, NaiveDate, Utc};
use cjg_core::indicators::ClosingRecord;
use cjg_core::questionnaire::{
    self, Answers, Completeness, Phase, QuestionnaireTask, SendQuestionnaire, StaffQuestionnaire, Submission,
    TaskStatus, Trajectory, TrajectoryUpdate, ANSWER_DAYS,
};
use uuid::Uuid;

use super::people::dossier_people;
use super::{bad_text, next_seq, uuid_col, DeviceSubject, StaffActor};
use super::{StoreError, StoreResult};

const TASK_COLUMNS: &str = "t.id, t.person_id, t.questionnaire_key, t.questionnaire_version, t.available_on,
     t.due_on, t.status, t.answers, t.submitted_at, t.version, t.seq";

fn task_row(r: &sql::Row) -> sql::Result<(QuestionnaireTask, i64)> {
    let key: String = r.get(2)?;
    let version: u32 = r.get(3)?;
    let status: String = r.get(6)?;
    let answers: Option<String> = r.get(7)?;
    let definition =
        questionnaire::find(&key, version).ok_or_else(|| bad_text(2, "unknown questionnaire"))?;
    let answers = answers
        .map(|a| serde_json::from_str::<Answers>(&a))
        .transpose()
        .map_err(|_| bad_text(7, "answers are not valid JSON"))?;
    Ok((
        QuestionnaireTask {
            id: uuid_col(r.get(0)?)?,
            person_id: uuid_col(r.get(1)?)?,
            definition,
            available_on: r.get(4)?,
            due_on: r.get(5)?,
            status: TaskStatus::parse(&status).ok_or_else(|| bad_text(6, "unknown task status"))?,
            answers,
            submitted_at: r.get(8)?,
            version: r.get(9)?,
        },
        r.get(10)?,
    ))
}

pub fn task(conn: &dyn Query, id: Uuid) -> sql::Result<Option<QuestionnaireTask>> {
    conn.query_row(
        &format!("SELECT {TASK_COLUMNS} FROM questionnaire_tasks t WHERE t.id = ?1"),
        [id.to_string()],
        |r| task_row(r).map(|(t, _)| t),
    )
    .optional()
}

pub fn task_dossier(conn: &dyn Query, id: Uuid) -> sql::Result<Option<Uuid>> {
    conn.query_row("SELECT dossier_id FROM questionnaire_tasks WHERE id = ?1", [id.to_string()], |r| {
        uuid_col(r.get(0)?)
    })
    .optional()
}

/// A dossier's answered questionnaires, oldest answer first, each with whether a young person
/// (not a parent or carer) answered it.
pub fn answered_tasks(conn: &dyn Query, dossier_id: Uuid) -> sql::Result<Vec<(QuestionnaireTask, bool)>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {TASK_COLUMNS}, p.role FROM questionnaire_tasks t JOIN people p ON p.id = t.person_id
         WHERE t.dossier_id = ?1 AND t.status = 'submitted' ORDER BY t.submitted_at, t.id"
    ))?;
    let rows = stmt.query_map([dossier_id.to_string()], |r| {
        Ok((task_row(r)?.0, r.get::<String>(11)? == cjg_core::PersonRole::Child.as_str()))
    })?;
    rows.collect()
}

/// One answered questionnaire of the feed: the task, whether a young person answered, and its
/// family with the family's team.
pub struct AnsweredRow {
    pub task: QuestionnaireTask,
    pub by_youth: bool,
    pub dossier_id: Uuid,
    pub team: String,
}

/// A page of the change feed of answers, over every family of some teams, oldest first.
pub fn answered_page(conn: &dyn Query, q: &super::fhir::FeedQuery<'_>) -> sql::Result<Vec<AnsweredRow>> {
    let (condition, order, values) = q.filter("t.submitted_at", "t.id", "d.team");
    let mut stmt = conn.prepare(&format!(
        "SELECT {TASK_COLUMNS}, p.role, t.dossier_id, d.team FROM questionnaire_tasks t
         JOIN people p ON p.id = t.person_id JOIN dossiers d ON d.id = t.dossier_id
         WHERE t.status = 'submitted' AND {condition} {order}"
    ))?;
    let rows = stmt.query_map(values.as_slice(), |r| {
        Ok(AnsweredRow {
            task: task_row(r)?.0,
            by_youth: r.get::<String>(11)? == cjg_core::PersonRole::Child.as_str(),
            dossier_id: uuid_col(r.get(12)?)?,
            team: r.get(13)?,
        })
    })?;
    rows.collect()
}

/// The person's tasks that changed after `cursor`, for the sync feed.
pub fn person_tasks_since(
    conn: &dyn Query,
    person_id: Uuid,
    cursor: i64,
    limit: i64,
) -> sql::Result<Vec<(QuestionnaireTask, i64)>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {TASK_COLUMNS} FROM questionnaire_tasks t WHERE t.person_id = ?1 AND t.seq > ?2 ORDER BY t.seq LIMIT ?3"
    ))?;
    let rows = stmt.query_map(params![person_id.to_string(), cursor, limit], task_row)?;
    rows.collect()
}

pub fn dossier_tasks(conn: &dyn Query, dossier_id: Uuid) -> sql::Result<Vec<StaffQuestionnaire>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {TASK_COLUMNS}, p.display_name, s.display_name FROM questionnaire_tasks t
         JOIN people p ON p.id = t.person_id LEFT JOIN staff s ON s.id = t.sent_by
         WHERE t.dossier_id = ?1 ORDER BY t.available_on, p.display_name, t.phase"
    ))?;
    let rows = stmt.query_map([dossier_id.to_string()], |r| {
        Ok(StaffQuestionnaire { task: task_row(r)?.0, person_name: r.get(11)?, sent_by: r.get(12)? })
    })?;
    rows.collect()
}

pub fn trajectory(conn: &dyn Query, dossier_id: Uuid) -> sql::Result<Option<Trajectory>> {
    let started: Option<NaiveDate> = conn
        .query_row("SELECT started_on FROM dossiers WHERE id = ?1", [dossier_id.to_string()], |r| r.get(0))
        .optional()?
        .flatten();
    let Some(started_on) = started else { return Ok(None) };
    let closed_on =
        conn.query_row("SELECT closed_on FROM dossiers WHERE id = ?1", [dossier_id.to_string()], |r| {
            r.get(0)
        })?;
    Ok(Some(Trajectory { started_on, closed_on }))
}

pub fn set_trajectory(tx: &Tx<'_>, dossier_id: Uuid, t: &TrajectoryUpdate) -> sql::Result<()> {
    tx.execute(
        "UPDATE dossiers SET started_on = ?2, closed_on = ?3, municipality = ?4, team = ?5 WHERE id = ?1",
        params![dossier_id.to_string(), t.started_on, t.closed_on, t.municipality, t.team],
    )?;
    Ok(())
}

struct NewTask<'a> {
    dossier_id: Uuid,
    person_id: Uuid,
    phase: Phase,
    definition: &'a questionnaire::Definition,
    available_on: NaiveDate,
    due_on: NaiveDate,
    sent_by: Option<Uuid>,
    now: DateTime<Utc>,
}

fn insert_task(tx: &Tx<'_>, t: &NewTask<'_>) -> sql::Result<Uuid> {
    let id = Uuid::new_v4();
    let seq = next_seq(tx)?;
    tx.execute(
        "INSERT INTO questionnaire_tasks (id, dossier_id, person_id, phase, questionnaire_key,
             questionnaire_version, available_on, due_on, sent_by, created_at, version, seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 1, ?11)",
        params![
            id.to_string(),
            t.dossier_id.to_string(),
            t.person_id.to_string(),
            t.phase.as_str(),
            t.definition.key,
            t.definition.version,
            t.available_on,
            t.due_on,
            t.sent_by.map(|s| s.to_string()),
            t.now,
            seq
        ],
    )?;
    Ok(id)
}

/// Creates the questionnaires the trajectory asks for by `today` that do not exist yet, and
/// moves open ones to the newest version of their questionnaire. Runs in the sync transaction,
/// so a family sees a questionnaire on the first sync of its day.
pub fn refresh_tasks(tx: &Tx<'_>, dossier_id: Uuid, now: DateTime<Utc>) -> sql::Result<()> {
    let today = cjg_core::time::dutch_date(now);
    if let Some(t) = trajectory(tx, dossier_id)? {
        let people = dossier_people(tx, dossier_id)?;
        let existing: HashSet<(Uuid, String)> = {
            let mut stmt =
                tx.prepare("SELECT person_id, phase FROM questionnaire_tasks WHERE dossier_id = ?1")?;
            let rows = stmt.query_map([dossier_id.to_string()], |r| Ok((uuid_col(r.get(0)?)?, r.get(1)?)))?;
            rows.collect::<sql::Result<_>>()?
        };
        for p in questionnaire::planned(&t, &people, today) {
            if existing.contains(&(p.person_id, p.phase.as_str().to_owned())) {
                continue;
            }
            let definition = questionnaire::current(p.phase, p.audience);
            insert_task(
                tx,
                &NewTask {
                    dossier_id,
                    person_id: p.person_id,
                    phase: p.phase,
                    definition: &definition,
                    available_on: p.available_on,
                    due_on: p.due_on,
                    sent_by: None,
                    now,
                },
            )?;
        }
    }
    let open: Vec<(String, String, u32)> = {
        let mut stmt = tx.prepare(
            "SELECT id, questionnaire_key, questionnaire_version FROM questionnaire_tasks
             WHERE dossier_id = ?1 AND status = 'open'",
        )?;
        let rows = stmt.query_map([dossier_id.to_string()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<sql::Result<_>>()?
    };
    for (id, key, version) in open {
        let Some(old) = questionnaire::find(&key, version) else { continue };
        let newest = questionnaire::current(old.phase, old.audience);
        if newest.version != version {
            let seq = next_seq(tx)?;
            tx.execute(
                "UPDATE questionnaire_tasks SET questionnaire_version = ?2, version = version + 1, seq = ?3
                 WHERE id = ?1",
                params![id, newest.version, seq],
            )?;
        }
    }
    Ok(())
}

/// Stores a questionnaire that was asked and perhaps answered outside the app (answers on paper,
/// or from an earlier system), so the report counts it. Used by the demo seed.
pub fn import_task(
    tx: &Tx<'_>,
    dossier_id: Uuid,
    person_id: Uuid,
    definition: &questionnaire::Definition,
    available_on: NaiveDate,
    answers: Option<&Answers>,
    now: DateTime<Utc>,
) -> StoreResult<Uuid> {
    let due_on = available_on.checked_add_days(Days::new(ANSWER_DAYS)).unwrap_or(available_on);
    let id = insert_task(
        tx,
        &NewTask {
            dossier_id,
            person_id,
            phase: definition.phase,
            definition,
            available_on,
            due_on,
            sent_by: None,
            now,
        },
    )?;
    if let Some(answers) = answers {
        let answers = definition
            .check(answers, Completeness::Submit)
            .map_err(|e| StoreError::invalid(e.to_string()))?;
        let json = serde_json::to_string(&answers).map_err(StoreError::internal)?;
        tx.execute(
            "UPDATE questionnaire_tasks SET status = 'submitted', answers = ?2, submitted_at = ?3 WHERE id = ?1",
            params![id.to_string(), json, available_on.and_hms_opt(12, 0, 0).map(|t| t.and_utc())],
        )?;
    }
    Ok(id)
}

/// Runs the schedule for every trajectory with a start date, one transaction per dossier, so
/// questionnaires also appear for families that do not sync (the report counts them as sent).
/// Returns how many dossiers it looked at.
pub fn refresh_all(conn: &mut sql::Conn, now: DateTime<Utc>) -> sql::Result<usize> {
    let dossiers: Vec<Uuid> = {
        let mut stmt = conn.prepare("SELECT id FROM dossiers WHERE started_on IS NOT NULL")?;
        let rows = stmt.query_map(params![], |r| uuid_col(r.get(0)?))?;
        rows.collect::<sql::Result<_>>()?
    };
    for id in &dossiers {
        // One dossier at a time, beside the writes to the others.
        let tx = conn.transaction_for(sql::Order::Dossier(*id))?;
        refresh_tasks(&tx, *id, now)?;
        tx.commit()?;
    }
    Ok(dossiers.len())
}

/// A coach sends a questionnaire by hand. One per person and phase: a second gets `conflict`.
pub fn send_by_hand(
    tx: &Tx<'_>,
    dossier_id: Uuid,
    actor: &StaffActor,
    req: &SendQuestionnaire,
    now: DateTime<Utc>,
) -> StoreResult<QuestionnaireTask> {
    let today = cjg_core::time::dutch_date(now);
    let person = dossier_people(tx, dossier_id)?
        .into_iter()
        .find(|p| p.id == req.person_id)
        .ok_or(StoreError::NotFound)?;
    let audience = questionnaire::audience_of(&person, today)
        .ok_or_else(|| StoreError::invalid("questionnaires are for parents and for youths from 12"))?;
    let due_on = match req.due_on {
        Some(d) if d < today => {
            return Err(StoreError::invalid("due_on lies in the past"));
        }
        Some(d) => d,
        None => today.checked_add_days(Days::new(ANSWER_DAYS)).unwrap_or(today),
    };
    let taken: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM questionnaire_tasks WHERE dossier_id = ?1 AND person_id = ?2 AND phase = ?3)",
        params![dossier_id.to_string(), person.id.to_string(), req.phase.as_str()],
        |r| r.get(0),
    )?;
    if taken {
        return Err(StoreError::conflict("this person already has this questionnaire"));
    }
    let definition = questionnaire::current(req.phase, audience);
    let id = insert_task(
        tx,
        &NewTask {
            dossier_id,
            person_id: person.id,
            phase: req.phase,
            definition: &definition,
            available_on: today,
            due_on,
            sent_by: Some(actor.id),
            now,
        },
    )?;
    task(tx, id)?.ok_or(StoreError::NotFound)
}

/// What storing an app's answers came to.
pub enum Submitted {
    New(QuestionnaireTask),
    /// The same submission again (a retry after a lost answer): the stored task, unchanged.
    Again(QuestionnaireTask),
}

/// Stores a person's answers once. The checks run in the order that gives the most useful
/// answer: whose task, a retry, already answered, outdated, then the answers themselves.
pub fn submit(
    tx: &Tx<'_>,
    who: &DeviceSubject,
    sub: &Submission,
    now: DateTime<Utc>,
) -> StoreResult<Submitted> {
    struct Row {
        person: String,
        status: String,
        key: String,
        version: u32,
        submission_id: Option<String>,
        hash: Option<Vec<u8>>,
    }
    let row = tx
        .query_row(
            "SELECT person_id, status, questionnaire_key, questionnaire_version, submission_id, payload_hash
             FROM questionnaire_tasks WHERE id = ?1",
            [sub.task_id.to_string()],
            |r| {
                Ok(Row {
                    person: r.get(0)?,
                    status: r.get(1)?,
                    key: r.get(2)?,
                    version: r.get(3)?,
                    submission_id: r.get(4)?,
                    hash: r.get(5)?,
                })
            },
        )
        .optional()?
        .ok_or(StoreError::NotFound)?;
    let Row { person, status, key, version, submission_id, hash } = row;
    if person != who.person_id.to_string() || status == TaskStatus::Withdrawn.as_str() {
        return Err(StoreError::NotFound);
    }
    let payload = payload_hash(who.person_id, sub);
    if submission_id.as_deref() == Some(sub.id.to_string().as_str()) {
        if hash.as_deref() == Some(payload.as_slice()) {
            return task(tx, sub.task_id)?.map(Submitted::Again).ok_or(StoreError::NotFound);
        }
        return Err(StoreError::conflict("this id belongs to other answers"));
    }
    if status == TaskStatus::Submitted.as_str() {
        return Err(StoreError::already_answered("this questionnaire was already answered"));
    }
    let definition = questionnaire::find(&key, version).ok_or(StoreError::NotFound)?;
    let newest = questionnaire::current(definition.phase, definition.audience);
    if sub.version != version || newest.version != version {
        return Err(StoreError::outdated(
            "this version of the questionnaire no longer takes answers; sync to get the new one",
        ));
    }
    let answers = definition
        .check(&sub.answers, Completeness::Submit)
        .map_err(|e| StoreError::invalid(e.to_string()))?;
    let json = serde_json::to_string(&answers).map_err(StoreError::internal)?;
    let seq = next_seq(tx)?;
    let updated = tx.execute(
        "UPDATE questionnaire_tasks SET status = 'submitted', submission_id = ?2, payload_hash = ?3, answers = ?4,
             submitted_device = ?5, submitted_at = ?6, version = version + 1, seq = ?7
         WHERE id = ?1 AND status = 'open'",
        params![
            sub.task_id.to_string(),
            sub.id.to_string(),
            payload.as_slice(),
            json,
            who.device_id.to_string(),
            now,
            seq
        ],
    );
    match updated {
        Ok(1) => {}
        Ok(_) => return Err(StoreError::already_answered("this questionnaire was already answered")),
        // The submission id is unique: the app reused one of another task's answers.
        Err(sql::Error::Unique) => {
            return Err(StoreError::conflict("this id belongs to other answers"));
        }
        Err(e) => return Err(e.into()),
    }
    task(tx, sub.task_id)?.map(Submitted::New).ok_or(StoreError::NotFound)
}

fn payload_hash(person_id: Uuid, sub: &Submission) -> [u8; 32] {
    // BTreeMap serialises in key order, so the same answers always hash the same.
    let answers = serde_json::to_string(&sub.answers).unwrap_or_default();
    cjg_crypto::sha256(format!("{person_id}\0{}\0{}\0{answers}", sub.task_id, sub.version).as_bytes())
}

/// Every closing questionnaire sent between `from` and `to` (inclusive), with where its
/// dossier is counted and its answers if they came.
pub fn closing_records(conn: &dyn Query, from: NaiveDate, to: NaiveDate) -> sql::Result<Vec<ClosingRecord>> {
    let mut stmt = conn.prepare(
        "SELECT d.municipality, d.team, t.available_on, t.answers FROM questionnaire_tasks t
         JOIN dossiers d ON d.id = t.dossier_id
         WHERE t.phase = 'eind' AND t.status != 'withdrawn' AND t.available_on BETWEEN ?1 AND ?2",
    )?;
    let rows = stmt.query_map(params![from, to], |r| {
        let answers: Option<String> = r.get(3)?;
        Ok(ClosingRecord {
            municipality: r.get(0)?,
            team: r.get(1)?,
            sent_on: r.get(2)?,
            answers: answers
                .map(|a| serde_json::from_str(&a))
                .transpose()
                .map_err(|_| bad_text(3, "answers are not valid JSON"))?,
        })
    })?;
    rows.collect()
}
