//! Taken: the questionnaires asked of the person, their sealed drafts, and sending the answers
//! through the outbox.

use chrono::{DateTime, NaiveDate, Utc};
use cjg_core::article::{Article, ReadingTip};
use cjg_core::feedback::FeedbackRequest;
use cjg_core::questionnaire::{Answers, Completeness, Phase, QuestionnaireTask, Submission, TaskStatus};
use cjg_store::{Draft, OutboxItem, Store};
use serde::Serialize;
use ts_rs::TS;
use uuid::Uuid;

use super::AppCore;
use crate::{ClientError, Result};

/// Where a task stands on this device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    /// Not started.
    Open,
    /// Started: answers saved on this device.
    Draft,
    /// Sent from this device, waiting for a connection.
    Sending,
    /// The server refused the answers for good (`failed` says why); they are kept.
    Failed,
    Submitted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    Questionnaire,
    /// Read an entry and react on it (asked by the coach).
    FeedbackRequest,
    /// Read an article the coach picked.
    ReadingTip,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct TaskItem {
    pub id: Uuid,
    pub kind: TaskKind,
    /// The questionnaire's title, or the title of the entry to react on.
    pub title: String,
    /// The entry to react on, for a feedback request.
    pub entry_id: Option<Uuid>,
    /// The article to read, for a reading tip.
    pub article_id: Option<Uuid>,
    /// The coach's words with a feedback request, and who asked.
    pub note: Option<String>,
    pub requested_by: Option<String>,
    /// For a questionnaire: when in the trajectory it is asked.
    pub phase: Option<Phase>,
    pub available_on: NaiveDate,
    pub due_on: NaiveDate,
    pub state: TaskState,
    /// The code of the server's refusal, when the state is `failed` (or answers from this
    /// device were refused after another device answered).
    pub failed: Option<String>,
    /// Days until the due date; negative when late. Late answers still count.
    #[ts(type = "number")]
    pub days_left: i64,
}

impl TaskItem {
    pub fn is_to_do(&self) -> bool {
        matches!(self.state, TaskState::Open | TaskState::Draft | TaskState::Failed)
    }
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct TasksView {
    /// To do first (soonest due first), then done (newest first).
    pub items: Vec<TaskItem>,
    /// How many still ask something of the person: the badge.
    pub to_do: u32,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct QuestionnaireView {
    pub task: QuestionnaireTask,
    pub item: TaskItem,
    /// The answers to show: the server's once submitted, else what waits in the outbox, else
    /// the draft.
    pub answers: Answers,
    pub saved_at: Option<DateTime<Utc>>,
    pub read_only: bool,
}

#[derive(Debug, Clone, Copy, Serialize, TS)]
pub struct AnswersSent {
    /// False: kept in the outbox, sent at the next contact.
    pub sent: bool,
}

struct Local {
    drafts: Vec<Draft>,
    queued: Vec<(Submission, Option<String>)>,
    /// Entries with feedback waiting in the outbox (a request for them is being answered).
    feedback_waiting: Vec<Uuid>,
    /// Tips whose read mark waits in the outbox.
    tips_opened: Vec<Uuid>,
}

impl Local {
    /// What sits on this device besides the synced rows: one read of the outbox and the drafts.
    fn of(store: &Store) -> Result<Self> {
        let mut local = Self {
            drafts: store.drafts()?,
            queued: Vec::new(),
            feedback_waiting: Vec::new(),
            tips_opened: Vec::new(),
        };
        for o in store.outbox()? {
            match o.item {
                OutboxItem::Questionnaire(s) => local.queued.push((s, o.failed)),
                OutboxItem::Feedback(d) if o.failed.is_none() => local.feedback_waiting.push(d.entry_id),
                OutboxItem::TipRead(id) => local.tips_opened.push(id),
                _ => {}
            }
        }
        Ok(local)
    }

    fn item(&self, t: &QuestionnaireTask, today: NaiveDate) -> TaskItem {
        let queued = self.queued.iter().rev().find(|(s, _)| s.task_id == t.id);
        let failed = queued.and_then(|(_, f)| f.clone());
        let state = if t.status == TaskStatus::Submitted {
            TaskState::Submitted
        } else if let Some((_, f)) = queued {
            if f.is_some() {
                TaskState::Failed
            } else {
                TaskState::Sending
            }
        } else if self.drafts.iter().any(|d| d.task_id == t.id) {
            TaskState::Draft
        } else {
            TaskState::Open
        };
        TaskItem {
            id: t.id,
            kind: TaskKind::Questionnaire,
            title: t.definition.title.clone(),
            entry_id: None,
            article_id: None,
            note: None,
            requested_by: None,
            phase: Some(t.definition.phase),
            available_on: t.available_on,
            due_on: t.due_on,
            state,
            failed,
            days_left: (t.due_on - today).num_days(),
        }
    }
}

/// A coach's request to react on an entry, as a task. Only for entries the person can still
/// see: the store drops an entry whose access ended, and the request goes with it.
fn request_item(
    store: &Store,
    local: &Local,
    r: &FeedbackRequest,
    today: NaiveDate,
) -> Result<Option<TaskItem>> {
    let Some(entry) = store.entry(r.entry_id)? else { return Ok(None) };
    let pending = local.feedback_waiting.contains(&r.entry_id);
    let state = match (r.done_at, pending) {
        (Some(_), _) => TaskState::Submitted,
        (None, true) => TaskState::Sending,
        (None, false) => TaskState::Open,
    };
    Ok(Some(TaskItem {
        id: r.id,
        kind: TaskKind::FeedbackRequest,
        title: entry.title,
        entry_id: Some(r.entry_id),
        article_id: None,
        note: Some(r.note.clone()),
        requested_by: Some(r.requested_by.clone()),
        phase: None,
        available_on: cjg_core::time::dutch_date(r.created_at),
        due_on: r.due_on,
        state,
        failed: None,
        days_left: (r.due_on - today).num_days(),
    }))
}

/// A reading tip as a task: to do until the article is opened. Only while the article is
/// published: a withdrawn one leaves the device, and its tip with it.
fn tip_item(articles: &[Article], local: &Local, tip: &ReadingTip, today: NaiveDate) -> Option<TaskItem> {
    let article = articles.iter().find(|a| a.id == tip.article_id)?;
    let opened = local.tips_opened.contains(&tip.id);
    let due_on =
        cjg_core::time::dutch_date(tip.created_at) + chrono::Days::new(cjg_core::questionnaire::ANSWER_DAYS);
    Some(TaskItem {
        id: tip.id,
        kind: TaskKind::ReadingTip,
        title: article.title.clone(),
        entry_id: None,
        article_id: Some(article.id),
        note: (!tip.note.is_empty()).then(|| tip.note.clone()),
        requested_by: Some(tip.from.clone()),
        phase: None,
        available_on: cjg_core::time::dutch_date(tip.created_at),
        due_on,
        state: if tip.read_at.is_some() || opened { TaskState::Submitted } else { TaskState::Open },
        failed: None,
        days_left: (due_on - today).num_days(),
    })
}

fn today() -> NaiveDate {
    cjg_core::time::dutch_date(Utc::now())
}

impl AppCore {
    pub async fn tasks(&self) -> Result<TasksView> {
        let guard = self.store().await?;
        let store = &*guard;
        let local = Local::of(store)?;
        let today = today();
        let mut items: Vec<TaskItem> = store
            .questionnaires()?
            .iter()
            .filter(|t| t.status != TaskStatus::Withdrawn)
            .map(|t| local.item(t, today))
            .collect();
        for r in store.feedback_requests()? {
            items.extend(request_item(store, &local, &r, today)?);
        }
        let articles = store.articles()?;
        items.extend(store.tips()?.iter().filter_map(|tip| tip_item(&articles, &local, tip, today)));
        items.sort_by(|a, b| {
            b.is_to_do().cmp(&a.is_to_do()).then_with(|| {
                if a.is_to_do() {
                    a.due_on.cmp(&b.due_on)
                } else {
                    b.available_on.cmp(&a.available_on)
                }
            })
        });
        let to_do = u32::try_from(items.iter().filter(|i| i.is_to_do()).count()).unwrap_or(u32::MAX);
        Ok(TasksView { items, to_do })
    }

    /// The person's own answers at the start, after 3 months and at the end, side by side.
    pub async fn my_progress(&self) -> Result<cjg_core::questionnaire::MyProgress> {
        let guard = self.store().await?;
        let me = guard.profile()?.person_id;
        Ok(cjg_core::questionnaire::my_progress(me, &guard.questionnaires()?))
    }

    pub async fn questionnaire(&self, task_id: Uuid) -> Result<Option<QuestionnaireView>> {
        let guard = self.store().await?;
        let store = &*guard;
        let Some(task) = store.questionnaires()?.into_iter().find(|t| t.id == task_id) else {
            return Ok(None);
        };
        let local = Local::of(store)?;
        let item = local.item(&task, today());
        let draft = local.drafts.iter().find(|d| d.task_id == task_id);
        let queued = local.queued.iter().rev().find(|(s, _)| s.task_id == task_id);
        let (answers, saved_at) = match (&task.answers, queued, draft) {
            (Some(a), _, _) => (a.clone(), task.submitted_at),
            (None, Some((s, _)), _) => (s.answers.clone(), None),
            (None, None, Some(d)) => (d.answers.clone(), Some(d.saved_at)),
            (None, None, None) => (Answers::new(), None),
        };
        let read_only = matches!(item.state, TaskState::Submitted | TaskState::Sending | TaskState::Failed);
        Ok(Some(QuestionnaireView { task, item, answers, saved_at, read_only }))
    }

    /// The task if the person may still change its answers.
    fn editable(store: &Store, task_id: Uuid) -> Result<QuestionnaireTask> {
        let task = store
            .questionnaires()?
            .into_iter()
            .find(|t| t.id == task_id && t.status != TaskStatus::Withdrawn)
            .ok_or(ClientError::Api { code: cjg_core::ErrorCode::NotFound, status: 404 })?;
        let queued = Local::of(store)?.queued.iter().any(|(s, _)| s.task_id == task_id);
        if task.status == TaskStatus::Submitted || queued {
            return Err(ClientError::ReadOnly);
        }
        Ok(task)
    }

    /// Seals unfinished answers on this device; the person can leave and carry on later.
    pub async fn save_questionnaire_draft(&self, task_id: Uuid, answers: Answers) -> Result<DateTime<Utc>> {
        let mut guard = self.store().await?;
        let store = &mut *guard;
        let task = Self::editable(store, task_id)?;
        let answers = task.definition.check(&answers, Completeness::Draft)?;
        let saved_at = Utc::now();
        store.save_draft(&Draft { task_id, version: task.definition.version, answers, saved_at })?;
        Ok(saved_at)
    }

    /// Checks the answers are complete, queues them (the draft becomes the queued copy) and
    /// syncs. Offline, they wait in the outbox; from then on they are read-only.
    pub async fn submit_questionnaire(&self, task_id: Uuid, answers: Answers) -> Result<AnswersSent> {
        let mut guard = self.store().await?;
        let store = &mut *guard;
        let task = Self::editable(store, task_id)?;
        let answers = task.definition.check(&answers, Completeness::Submit)?;
        let submission =
            Submission { id: Uuid::new_v4(), task_id, version: task.definition.version, answers };
        store.enqueue_submission(&submission)?;
        drop(guard);
        let sent = self.send_queued(submission.id).await?;
        Ok(AnswersSent { sent })
    }

    /// Takes back answers the server refused for good, after the person has seen why. While the
    /// questionnaire is still open they become a draft again, to fix and send; once it was
    /// answered (on another device, say) they are removed.
    pub async fn take_back_refused_answers(&self, task_id: Uuid) -> Result<()> {
        let mut guard = self.store().await?;
        let store = &mut *guard;
        let answered =
            store.questionnaires()?.iter().any(|t| t.id == task_id && t.status == TaskStatus::Submitted);
        let refused: Vec<Submission> = Local::of(store)?
            .queued
            .into_iter()
            .filter(|(s, f)| s.task_id == task_id && f.is_some())
            .map(|(s, _)| s)
            .collect();
        for sub in refused {
            if answered {
                store.outbox_sent(sub.id)?;
            } else {
                store.return_to_draft(&sub, Utc::now())?;
            }
        }
        Ok(())
    }
}
