//! Evaluation questionnaires (vragenlijsten): versioned definitions, answers and their checks,
//! and when a trajectory asks for which one.
//!
//! A definition travels with its task, so the app renders whatever version the server sent and
//! a new version needs no app update. The same [`Definition::check`] runs in the app (before a
//! draft is sealed or an answer is queued) and on the server (before anything is stored).

use std::collections::BTreeMap;

use chrono::{Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use ts_rs::TS;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::entry::{Person, PersonRole};
use crate::policy::age_on;

/// When in the trajectory a questionnaire is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "snake_case")]
#[ts(rename = "QuestionnairePhase")]
pub enum Phase {
    Start,
    /// Three months after the start (tussenevaluatie).
    Tussentijds,
    /// At closing (evaluatie en terugblik).
    Eind,
}

impl Phase {
    pub const ALL: [Phase; 3] = [Self::Start, Self::Tussentijds, Self::Eind];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Tussentijds => "tussentijds",
            Self::Eind => "eind",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// Who a questionnaire is written for: parents, or youths from 12.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    Ouder,
    Jongere,
}

impl Audience {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ouder => "ouder",
            Self::Jongere => "jongere",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Ouder, Self::Jongere].into_iter().find(|a| a.as_str() == s)
    }
}

/// Questionnaires are asked from youths of this age on (DOMAIN: "from age 12").
pub const YOUTH_MIN_AGE: u32 = 12;
/// Open answers are short by design; a page of text is plenty.
pub const OPEN_TEXT_MAX: usize = 2000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct ChoiceOption {
    pub value: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ItemKind {
    /// eens / oneens / n.v.t.
    Agree,
    /// 1 to 5, with words for both ends.
    Rating {
        low: String,
        high: String,
    },
    Choice {
        options: Vec<ChoiceOption>,
    },
    Open {
        max_chars: u32,
    },
}

/// Show an item only when an earlier item has this answer (a skip rule, seen from the item
/// that is skipped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct ShowIf {
    pub item: String,
    pub equals: Answer,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct Item {
    /// Stable across versions for the same question: the report adds answers up by key.
    pub key: String,
    pub text: String,
    pub kind: ItemKind,
    pub required: bool,
    pub show_if: Option<ShowIf>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct Definition {
    /// `<phase>-<audience>`, e.g. `eind-ouder`.
    pub key: String,
    pub version: u32,
    pub phase: Phase,
    pub audience: Audience,
    pub title: String,
    pub intro: String,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum Agree {
    Eens,
    Oneens,
    Nvt,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Answer {
    Agree(Agree),
    Rating(u8),
    Choice(String),
    Text(String),
}

/// Answers by item key.
pub type Answers = BTreeMap<String, Answer>;

/// Why a set of answers does not fit its definition. Names the item, never the answer text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AnswerError {
    #[error("item {0} is not part of this questionnaire")]
    UnknownItem(String),
    #[error("item {0} got an answer of the wrong kind")]
    WrongKind(String),
    #[error("item {item}: a rating is 1 to 5, not {value}")]
    RatingOutOfRange { item: String, value: u8 },
    #[error("item {0}: not one of the choices")]
    UnknownChoice(String),
    #[error("item {item}: at most {max} characters")]
    TextTooLong { item: String, max: usize },
    #[error("item {0}: characters that are not allowed")]
    BadCharacters(String),
    #[error("item {0} must be answered")]
    Missing(String),
}

impl AnswerError {
    pub fn item(&self) -> &str {
        match self {
            Self::UnknownItem(i)
            | Self::WrongKind(i)
            | Self::UnknownChoice(i)
            | Self::BadCharacters(i)
            | Self::Missing(i) => i,
            Self::RatingOutOfRange { item, .. } | Self::TextTooLong { item, .. } => item,
        }
    }
}

/// A draft may have gaps; a submission must answer every required item that is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completeness {
    Draft,
    Submit,
}

impl Definition {
    pub fn item(&self, key: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.key == key)
    }

    /// Whether `item` is shown given the answers so far.
    pub fn is_shown(&self, item: &Item, answers: &Answers) -> bool {
        match &item.show_if {
            None => true,
            Some(rule) => answers.get(&rule.item) == Some(&rule.equals),
        }
    }

    /// Checks answers against this definition and returns them normalised: texts trimmed, empty
    /// texts and answers to items that are not shown (a changed earlier answer) left out.
    pub fn check(&self, answers: &Answers, completeness: Completeness) -> Result<Answers, AnswerError> {
        let mut out = Answers::new();
        for (key, answer) in answers {
            let item = self.item(key).ok_or_else(|| AnswerError::UnknownItem(key.clone()))?;
            if let Some(a) = check_answer(item, answer)? {
                out.insert(key.clone(), a);
            }
        }
        // Rules refer to earlier items only, so one pass in order settles what is shown.
        let hidden: Vec<String> =
            self.items.iter().filter(|i| !self.is_shown(i, &out)).map(|i| i.key.clone()).collect();
        for key in hidden {
            out.remove(&key);
        }
        if completeness == Completeness::Submit {
            if let Some(missing) =
                self.items.iter().find(|i| i.required && self.is_shown(i, &out) && !out.contains_key(&i.key))
            {
                return Err(AnswerError::Missing(missing.key.clone()));
            }
        }
        Ok(out)
    }
}

fn check_answer(item: &Item, answer: &Answer) -> Result<Option<Answer>, AnswerError> {
    let key = || item.key.clone();
    match (&item.kind, answer) {
        (ItemKind::Agree, Answer::Agree(_)) => Ok(Some(answer.clone())),
        (ItemKind::Rating { .. }, Answer::Rating(v)) => {
            if (1..=5).contains(v) {
                Ok(Some(answer.clone()))
            } else {
                Err(AnswerError::RatingOutOfRange { item: key(), value: *v })
            }
        }
        (ItemKind::Choice { options }, Answer::Choice(v)) => {
            if options.iter().any(|o| &o.value == v) {
                Ok(Some(answer.clone()))
            } else {
                Err(AnswerError::UnknownChoice(key()))
            }
        }
        (ItemKind::Open { max_chars }, Answer::Text(t)) => {
            let t = t.trim();
            let max = usize::try_from(*max_chars).unwrap_or(OPEN_TEXT_MAX).min(OPEN_TEXT_MAX);
            if t.chars().count() > max {
                return Err(AnswerError::TextTooLong { item: key(), max });
            }
            if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
                return Err(AnswerError::BadCharacters(key()));
            }
            Ok((!t.is_empty()).then(|| Answer::Text(t.to_owned())))
        }
        _ => Err(AnswerError::WrongKind(key())),
    }
}

// ---- the shipped questionnaires ----------------------------------------------------------

fn agree(key: &str, text: &str) -> Item {
    Item { key: key.into(), text: text.into(), kind: ItemKind::Agree, required: true, show_if: None }
}

fn rating(key: &str, text: &str) -> Item {
    Item {
        key: key.into(),
        text: text.into(),
        kind: ItemKind::Rating { low: "Heel slecht".into(), high: "Heel goed".into() },
        required: true,
        show_if: None,
    }
}

fn open(key: &str, text: &str) -> Item {
    Item {
        key: key.into(),
        text: text.into(),
        kind: ItemKind::Open { max_chars: 1000 },
        required: false,
        show_if: None,
    }
}

fn choice(key: &str, text: &str, options: &[(&str, &str)]) -> Item {
    Item {
        key: key.into(),
        text: text.into(),
        kind: ItemKind::Choice {
            options: options
                .iter()
                .map(|(v, l)| ChoiceOption { value: (*v).into(), label: (*l).into() })
                .collect(),
        },
        required: true,
        show_if: None,
    }
}

fn shown_if(mut item: Item, on: &str, value: &str) -> Item {
    item.show_if = Some(ShowIf { item: on.into(), equals: Answer::Choice(value.into()) });
    item
}

/// The four closing items of the performance plan, in the order of its table.
pub const CLOSING_ITEMS: [&str; 4] = ["zelf_verder", "eigen_plan", "betrokken", "samenwerking"];
/// The three closing ratings: overall, the coach, the help.
pub const CLOSING_RATINGS: [&str; 3] = ["cijfer_algemeen", "cijfer_coach", "cijfer_hulp"];

fn definition(phase: Phase, audience: Audience, title: &str, intro: &str, items: Vec<Item>) -> Definition {
    Definition {
        key: format!("{}-{}", phase.as_str(), audience.as_str()),
        version: 1,
        phase,
        audience,
        title: title.into(),
        intro: intro.into(),
        items,
    }
}

/// Every version ever shipped, so old answers stay readable. Only the newest version of each
/// questionnaire takes answers: an app that still holds an older one gets
/// `questionnaire_outdated`, and the newer version by the next sync.
pub fn catalogue() -> Vec<Definition> {
    let yes_no = [("ja", "Ja"), ("nee", "Nee"), ("weet_niet", "Weet ik niet")];
    let next = [("afbouwen", "Minder hulp"), ("doorgaan", "Zo doorgaan"), ("anders", "Iets anders")];
    vec![
        definition(
            Phase::Start,
            Audience::Ouder,
            "Vragenlijst bij de start",
            "We willen weten hoe het nu gaat. Dan kunnen we later zien wat de hulp heeft gedaan. Het kost 3 minuten.",
            vec![
                rating("thuis_nu", "Hoe gaat het nu thuis?"),
                open("zorg", "Waar maakt u zich nu de meeste zorgen over?"),
                open("doel", "Wat wilt u dat er over een half jaar anders is?"),
                choice("eerder_hulp", "Heeft u eerder hulp gehad bij het opvoeden?", &yes_no),
                shown_if(open("welke_hulp", "Welke hulp was dat?"), "eerder_hulp", "ja"),
            ],
        ),
        definition(
            Phase::Start,
            Audience::Jongere,
            "Vragenlijst bij de start",
            "We willen weten hoe het nu met je gaat. Het kost 3 minuten.",
            vec![
                rating("thuis_nu", "Hoe gaat het nu met je?"),
                open("zorg", "Waar maak je je nu de meeste zorgen over?"),
                open("doel", "Wat wil je dat er over een half jaar anders is?"),
                choice("eerder_hulp", "Heb je eerder hulp gehad?", &yes_no),
                shown_if(open("welke_hulp", "Welke hulp was dat?"), "eerder_hulp", "ja"),
            ],
        ),
        definition(
            Phase::Tussentijds,
            Audience::Ouder,
            "Vragenlijst na 3 maanden",
            "De hulp loopt nu 3 maanden. Hoe gaat het? Uw antwoorden helpen bij het gesprek over hoe het verder gaat.",
            vec![
                agree("gaat_beter", "Het gaat beter dan bij de start."),
                agree("plan_past", "Ons plan past nog bij wat wij willen."),
                rating("cijfer_coach", "Welk cijfer geeft u de coach tot nu toe?"),
                choice("verder", "Hoe wilt u verder?", &next),
                shown_if(open("verder_anders", "Wat wilt u anders?"), "verder", "anders"),
            ],
        ),
        definition(
            Phase::Tussentijds,
            Audience::Jongere,
            "Vragenlijst na 3 maanden",
            "De hulp loopt nu 3 maanden. Hoe gaat het met je?",
            vec![
                agree("gaat_beter", "Het gaat beter dan bij de start."),
                agree("plan_past", "Mijn plan past nog bij wat ik wil."),
                rating("cijfer_coach", "Welk cijfer geef je de coach tot nu toe?"),
                choice("verder", "Hoe wil je verder?", &next),
                shown_if(open("verder_anders", "Wat wil je anders?"), "verder", "anders"),
            ],
        ),
        definition(
            Phase::Eind,
            Audience::Ouder,
            "Vragenlijst bij het afsluiten",
            "De hulp is klaar. Hoe was het? Met uw antwoorden maken we de hulp beter. Het kost 2 minuten.",
            vec![
                agree(CLOSING_ITEMS[0], "Ik heb genoeg aan de hulp gehad om zelf verder te kunnen."),
                agree(CLOSING_ITEMS[1], "Wij hebben met ons gezin ons eigen plan kunnen maken en uitvoeren."),
                agree(CLOSING_ITEMS[2], "De mensen die belangrijk voor ons zijn, waren betrokken."),
                agree(CLOSING_ITEMS[3], "De hulpverleners werkten goed samen."),
                rating(CLOSING_RATINGS[0], "Welk cijfer geeft u het CJG?"),
                rating(CLOSING_RATINGS[1], "Welk cijfer geeft u uw coach?"),
                rating(CLOSING_RATINGS[2], "Welk cijfer geeft u de hulp die u kreeg?"),
                open("tip", "Wilt u nog iets zeggen? Een tip of een compliment?"),
            ],
        ),
        definition(
            Phase::Eind,
            Audience::Jongere,
            "Vragenlijst bij het afsluiten",
            "De hulp is klaar. Hoe was het voor jou? Het kost 2 minuten.",
            vec![
                agree(CLOSING_ITEMS[0], "Ik heb genoeg aan de hulp gehad om zelf verder te kunnen."),
                agree(CLOSING_ITEMS[1], "Ik heb mijn eigen plan kunnen maken en uitvoeren."),
                agree(CLOSING_ITEMS[2], "De mensen die belangrijk voor mij zijn, waren betrokken."),
                agree(CLOSING_ITEMS[3], "De hulpverleners werkten goed samen."),
                rating(CLOSING_RATINGS[0], "Welk cijfer geef je het CJG?"),
                rating(CLOSING_RATINGS[1], "Welk cijfer geef je je coach?"),
                rating(CLOSING_RATINGS[2], "Welk cijfer geef je de hulp die je kreeg?"),
                open("tip", "Wil je nog iets zeggen? Een tip of een compliment?"),
            ],
        ),
    ]
}

/// The newest version for a phase and audience.
pub fn current(phase: Phase, audience: Audience) -> Definition {
    catalogue()
        .into_iter()
        .filter(|d| d.phase == phase && d.audience == audience)
        .max_by_key(|d| d.version)
        .unwrap_or_else(|| unreachable!("the catalogue has every phase for every audience"))
}

pub fn find(key: &str, version: u32) -> Option<Definition> {
    catalogue().into_iter().find(|d| d.key == key && d.version == version)
}

// ---- scheduling ---------------------------------------------------------------------------

/// The dates of a trajectory that questionnaires hang on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct Trajectory {
    pub started_on: NaiveDate,
    pub closed_on: Option<NaiveDate>,
}

/// Days a family has to answer, counted from the day the questionnaire appears.
pub const ANSWER_DAYS: u64 = 14;

/// A questionnaire a person is due to get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub person_id: Uuid,
    pub phase: Phase,
    pub audience: Audience,
    pub available_on: NaiveDate,
    pub due_on: NaiveDate,
}

pub fn audience_of(person: &Person, on: NaiveDate) -> Option<Audience> {
    match person.role {
        // Carers raise the children too (opvoeders): they get the parents' questionnaire.
        PersonRole::Parent | PersonRole::Carer => Some(Audience::Ouder),
        PersonRole::Child => {
            age_on(person.birth_date, on).filter(|a| *a >= YOUTH_MIN_AGE).map(|_| Audience::Jongere)
        }
    }
}

/// Which questionnaires the trajectory asks of whom by `today`: start at the start, tussentijds
/// three months later unless the help closed before, eind at closing. Parents always, youths
/// when 12 or older on the day it appears.
pub fn planned(t: &Trajectory, people: &[Person], today: NaiveDate) -> Vec<Planned> {
    let interim = t.started_on.checked_add_months(Months::new(3));
    let mut moments = vec![(Phase::Start, Some(t.started_on))];
    if t.closed_on.is_none_or(|c| interim.is_some_and(|i| i < c)) {
        moments.push((Phase::Tussentijds, interim));
    }
    moments.push((Phase::Eind, t.closed_on));
    let mut out = Vec::new();
    for (phase, on) in moments {
        let Some(on) = on.filter(|d| *d <= today) else { continue };
        for p in people {
            if let Some(audience) = audience_of(p, on) {
                let due_on = on.checked_add_days(Days::new(ANSWER_DAYS)).unwrap_or(on);
                out.push(Planned { person_id: p.id, phase, audience, available_on: on, due_on });
            }
        }
    }
    out
}

// ---- tasks on the wire ----------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Open,
    Submitted,
    /// The coach took it back (sent by mistake).
    Withdrawn,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Submitted => "submitted",
            Self::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Open, Self::Submitted, Self::Withdrawn].into_iter().find(|x| x.as_str() == s)
    }
}

/// A questionnaire a person is asked to fill in, as synced to them. Carries its definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct QuestionnaireTask {
    pub id: Uuid,
    pub person_id: Uuid,
    pub definition: Definition,
    pub available_on: NaiveDate,
    pub due_on: NaiveDate,
    pub status: TaskStatus,
    /// The answers as the server stored them, once submitted.
    pub answers: Option<Answers>,
    pub submitted_at: Option<chrono::DateTime<chrono::Utc>>,
    #[ts(type = "number")]
    pub version: i64,
}

/// One question over the trajectory, for the person's own view of their progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ProgressRow {
    /// As the newest questionnaire that asked it put it.
    pub item: Item,
    /// One per [`MyProgress::phases`], in that order; `None` where it was not answered.
    pub answers: Vec<Option<Answer>>,
    /// One per phase: whether that questionnaire asked it (unanswered then means left open).
    pub asked: Vec<bool>,
}

/// A questionnaire the person answered, as a column of their progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ProgressPhase {
    pub phase: Phase,
    pub submitted_at: chrono::DateTime<chrono::Utc>,
}

/// A person's own answers at the start, after 3 months and at the end, side by side.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, TS)]
pub struct MyProgress {
    /// The phases answered, in the order of the trajectory.
    pub phases: Vec<ProgressPhase>,
    /// Every question answered at least once, in the order first asked.
    pub rows: Vec<ProgressRow>,
}

/// The answers of `person_id` side by side: per phase the newest questionnaire they submitted.
/// Anyone else's tasks are left out (the server sends a person only their own; a store is one
/// person's), so the view can never show another family member's answers.
pub fn my_progress(person_id: Uuid, tasks: &[QuestionnaireTask]) -> MyProgress {
    let mut newest: BTreeMap<Phase, (&QuestionnaireTask, &Answers, chrono::DateTime<chrono::Utc>)> =
        BTreeMap::new();
    for task in tasks.iter().filter(|t| t.person_id == person_id && t.status == TaskStatus::Submitted) {
        let (Some(answers), Some(at)) = (&task.answers, task.submitted_at) else { continue };
        let phase = task.definition.phase;
        if newest.get(&phase).is_none_or(|(_, _, kept)| *kept < at) {
            newest.insert(phase, (task, answers, at));
        }
    }
    let columns = newest.len();
    let mut rows: Vec<ProgressRow> = Vec::new();
    for (column, (task, answers, _)) in newest.values().enumerate() {
        for item in &task.definition.items {
            let index = match rows.iter().position(|r| r.item.key == item.key) {
                Some(i) => i,
                None => {
                    rows.push(ProgressRow {
                        item: item.clone(),
                        answers: vec![None; columns],
                        asked: vec![false; columns],
                    });
                    rows.len() - 1
                }
            };
            let row = &mut rows[index];
            // Phases come in trajectory order: the later wording wins.
            row.item = item.clone();
            row.answers[column] = answers.get(&item.key).cloned();
            row.asked[column] = true;
        }
    }
    rows.retain(|r| r.answers.iter().any(Option::is_some));
    let phases = newest
        .into_iter()
        .map(|(phase, (_, _, submitted_at))| ProgressPhase { phase, submitted_at })
        .collect();
    MyProgress { phases, rows }
}

/// What the app sends. `id` is made by the app: the idempotency key of its outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    pub id: Uuid,
    pub task_id: Uuid,
    pub version: u32,
    pub answers: Answers,
}

/// A coach sends a questionnaire by hand (outside the schedule, or again after a mistake).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendQuestionnaire {
    pub person_id: Uuid,
    pub phase: Phase,
    pub due_on: Option<NaiveDate>,
}

/// A coach sets the trajectory's dates and where it is counted in the indicator report.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct TrajectoryUpdate {
    pub started_on: NaiveDate,
    pub closed_on: Option<NaiveDate>,
    pub municipality: String,
    pub team: String,
}

impl TrajectoryUpdate {
    pub fn validate(mut self) -> Result<Self, crate::validate::ValidationError> {
        use crate::validate::{single_line, ValidationError};
        self.municipality = single_line("municipality", &self.municipality, 80)?;
        self.team = single_line("team", &self.team, 80)?;
        if self.closed_on.is_some_and(|c| c < self.started_on) {
            return Err(ValidationError::Invalid {
                field: "closed_on",
                reason: "closing comes after the start",
            });
        }
        Ok(self)
    }

    pub fn trajectory(&self) -> Trajectory {
        Trajectory { started_on: self.started_on, closed_on: self.closed_on }
    }
}

/// A questionnaire as a coach sees it: whose it is, who sent it, and the answers once in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct StaffQuestionnaire {
    pub task: QuestionnaireTask,
    pub person_name: String,
    /// `None`: sent by the schedule.
    pub sent_by: Option<String>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn eind() -> Definition {
        current(Phase::Eind, Audience::Ouder)
    }

    fn full_eind() -> Answers {
        let mut a = Answers::new();
        for k in CLOSING_ITEMS {
            a.insert(k.into(), Answer::Agree(Agree::Eens));
        }
        for k in CLOSING_RATINGS {
            a.insert(k.into(), Answer::Rating(4));
        }
        a
    }

    #[test]
    fn catalogue_is_complete_and_keys_are_unique() {
        for phase in Phase::ALL {
            for audience in [Audience::Ouder, Audience::Jongere] {
                let d = current(phase, audience);
                let mut keys: Vec<&str> = d.items.iter().map(|i| i.key.as_str()).collect();
                keys.sort_unstable();
                keys.dedup();
                assert_eq!(keys.len(), d.items.len(), "{}", d.key);
                for i in &d.items {
                    if let Some(rule) = &i.show_if {
                        let pos = |k: &str| d.items.iter().position(|x| x.key == k);
                        assert!(pos(&rule.item) < pos(&i.key), "rules point backwards in {}", d.key);
                    }
                }
            }
        }
        for k in CLOSING_ITEMS.iter().chain(&CLOSING_RATINGS) {
            assert!(current(Phase::Eind, Audience::Jongere).item(k).is_some());
        }
    }

    #[test]
    fn a_full_answer_passes_and_a_gap_is_named() {
        assert_eq!(eind().check(&full_eind(), Completeness::Submit), Ok(full_eind()));
        let mut gap = full_eind();
        gap.remove("betrokken");
        assert_eq!(eind().check(&gap, Completeness::Submit), Err(AnswerError::Missing("betrokken".into())));
        assert!(eind().check(&gap, Completeness::Draft).is_ok());
    }

    #[test]
    fn bad_answers_are_refused() {
        let d = eind();
        let with = |k: &str, a: Answer| {
            let mut x = full_eind();
            x.insert(k.into(), a);
            d.check(&x, Completeness::Draft)
        };
        assert_eq!(
            with("cijfer_coach", Answer::Rating(7)),
            Err(AnswerError::RatingOutOfRange { item: "cijfer_coach".into(), value: 7 })
        );
        assert_eq!(with("cijfer_coach", Answer::Rating(0)).unwrap_err().item(), "cijfer_coach");
        assert_eq!(with("zelf_verder", Answer::Rating(3)), Err(AnswerError::WrongKind("zelf_verder".into())));
        assert_eq!(
            with("bestaat_niet", Answer::Rating(3)),
            Err(AnswerError::UnknownItem("bestaat_niet".into()))
        );
        assert_eq!(
            with("tip", Answer::Text("x".repeat(1001))),
            Err(AnswerError::TextTooLong { item: "tip".into(), max: 1000 })
        );
        assert_eq!(
            with("tip", Answer::Text("a\u{0}b".into())),
            Err(AnswerError::BadCharacters("tip".into()))
        );
        // Blank text counts as no answer; text is trimmed.
        assert!(!with("tip", Answer::Text("   ".into())).unwrap().contains_key("tip"));
        assert_eq!(with("tip", Answer::Text(" dank ".into())).unwrap()["tip"], Answer::Text("dank".into()));
    }

    #[test]
    fn skip_rules_hide_and_drop_answers() {
        let d = current(Phase::Start, Audience::Ouder);
        let mut a = Answers::new();
        a.insert("thuis_nu".into(), Answer::Rating(2));
        a.insert("eerder_hulp".into(), Answer::Choice("ja".into()));
        a.insert("welke_hulp".into(), Answer::Text("opvoedcursus".into()));
        assert!(d.check(&a, Completeness::Submit).unwrap().contains_key("welke_hulp"));
        // The person changed their mind: the follow-up is no longer asked, and its answer goes.
        a.insert("eerder_hulp".into(), Answer::Choice("nee".into()));
        assert!(!d.check(&a, Completeness::Submit).unwrap().contains_key("welke_hulp"));
        a.insert("eerder_hulp".into(), Answer::Choice("misschien".into()));
        assert_eq!(d.check(&a, Completeness::Draft), Err(AnswerError::UnknownChoice("eerder_hulp".into())));
    }

    fn person(role: PersonRole, born: &str) -> Person {
        Person {
            id: Uuid::new_v4(),
            dossier_id: Uuid::nil(),
            role,
            display_name: "Demo".into(),
            birth_date: born.parse().unwrap(),
            has_gezag: true,
            shares_with_parents: false,
            consent_on: None,
            version: 1,
        }
    }

    #[test]
    fn schedule_follows_the_trajectory_and_age() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let parent = person(PersonRole::Parent, "1985-03-01");
        let youth = person(PersonRole::Child, "2013-01-10"); // 12 on 2025-01-10
        let small = person(PersonRole::Child, "2019-06-01");
        let people = [parent.clone(), youth.clone(), small];
        let t = Trajectory { started_on: d("2025-01-01"), closed_on: None };
        let p = planned(&t, &people, d("2025-01-05"));
        // Youth is 11 on the start day: only the parent gets the start questionnaire.
        assert_eq!(p.len(), 1);
        assert_eq!((p[0].person_id, p[0].phase, p[0].due_on), (parent.id, Phase::Start, d("2025-01-15")));
        let p = planned(&t, &people, d("2025-04-01"));
        let interim: Vec<_> = p.iter().filter(|x| x.phase == Phase::Tussentijds).collect();
        assert_eq!(interim.len(), 2);
        assert!(interim.iter().any(|x| x.person_id == youth.id && x.audience == Audience::Jongere));
        assert_eq!(interim[0].available_on, d("2025-04-01"));
        // Closed after two months: no interim questionnaire, an end one for both.
        let t = Trajectory { started_on: d("2025-01-01"), closed_on: Some(d("2025-03-01")) };
        let p = planned(&t, &people, d("2025-06-01"));
        assert!(p.iter().all(|x| x.phase != Phase::Tussentijds));
        assert_eq!(p.iter().filter(|x| x.phase == Phase::Eind).count(), 2);
        // Nothing before its day.
        let t = Trajectory { started_on: d("2025-02-01"), closed_on: None };
        assert!(planned(&t, &people, d("2025-01-31")).is_empty());
    }

    #[test]
    fn answers_serialise_with_a_type_tag() {
        let json = serde_json::to_string(&Answer::Agree(Agree::Nvt)).unwrap();
        assert_eq!(json, r#"{"type":"agree","value":"nvt"}"#);
        let back: Answer = serde_json::from_str(r#"{"type":"rating","value":5}"#).unwrap();
        assert_eq!(back, Answer::Rating(5));
        assert!(serde_json::from_str::<Answer>(r#"{"type":"rating","value":700}"#).is_err());
    }

    fn submitted(
        person: Uuid,
        phase: Phase,
        audience: Audience,
        answers: Answers,
        day: u32,
    ) -> QuestionnaireTask {
        let at =
            chrono::NaiveDate::from_ymd_opt(2026, 3, day).unwrap().and_hms_opt(10, 0, 0).unwrap().and_utc();
        QuestionnaireTask {
            id: Uuid::new_v4(),
            person_id: person,
            definition: current(phase, audience),
            available_on: at.date_naive(),
            due_on: at.date_naive(),
            status: TaskStatus::Submitted,
            answers: Some(answers),
            submitted_at: Some(at),
            version: 1,
        }
    }

    #[test]
    fn my_progress_puts_my_own_answers_side_by_side() {
        let (me, my_child) = (Uuid::new_v4(), Uuid::new_v4());
        let rating = |k: &str, v: u8| (k.to_owned(), Answer::Rating(v));
        let start = submitted(me, Phase::Start, Audience::Ouder, [rating("thuis_nu", 2)].into(), 1);
        let mut interim =
            submitted(me, Phase::Tussentijds, Audience::Ouder, [rating("cijfer_coach", 3)].into(), 2);
        let child = submitted(my_child, Phase::Start, Audience::Jongere, [rating("thuis_nu", 5)].into(), 3);
        let mut open = submitted(me, Phase::Eind, Audience::Ouder, Answers::new(), 4);
        open.status = TaskStatus::Open;
        // Listed out of order: the columns follow the trajectory, not the list.
        let p = my_progress(me, &[full_end(me), interim.clone(), child.clone(), start.clone(), open]);
        let phases: Vec<Phase> = p.phases.iter().map(|c| c.phase).collect();
        assert_eq!(phases, [Phase::Start, Phase::Tussentijds, Phase::Eind], "an open task is no column");
        let row = |key: &str| p.rows.iter().find(|r| r.item.key == key).unwrap();
        assert_eq!(row("thuis_nu").answers, [Some(Answer::Rating(2)), None, None], "never the child's 5");
        assert_eq!(row("thuis_nu").item.text, "Hoe gaat het nu thuis?", "the parent's wording");
        // Asked after 3 months and at the end: one row, two answers, in the end's wording.
        assert_eq!(row("cijfer_coach").answers, [None, Some(Answer::Rating(3)), Some(Answer::Rating(4))]);
        assert_eq!(row("cijfer_coach").item.text, "Welk cijfer geeft u uw coach?");
        assert!(p.rows.iter().all(|r| r.item.key != "zorg"), "a question never answered is left out");
        assert_eq!(p.rows[0].item.key, "thuis_nu", "rows in the order first asked");

        // Answered again later in the same phase: the newest answers count.
        interim.submitted_at = interim.submitted_at.map(|at| at + chrono::Duration::days(30));
        interim.answers = Some([rating("cijfer_coach", 5)].into());
        let p = my_progress(
            me,
            &[
                start.clone(),
                submitted(me, Phase::Tussentijds, Audience::Ouder, [rating("cijfer_coach", 1)].into(), 2),
                interim,
            ],
        );
        let coach = p.rows.iter().find(|r| r.item.key == "cijfer_coach").unwrap();
        assert_eq!(coach.answers, [None, Some(Answer::Rating(5))]);

        // Asked and left open is not the same as not asked.
        let mut skipped = submitted(me, Phase::Tussentijds, Audience::Ouder, Answers::new(), 2);
        skipped.answers = Some([("gaat_beter".to_owned(), Answer::Agree(Agree::Eens))].into());
        let p = my_progress(me, &[skipped, full_end(me)]);
        let coach = p.rows.iter().find(|r| r.item.key == "cijfer_coach").unwrap();
        assert_eq!(
            (coach.answers.clone(), coach.asked.clone()),
            (vec![None, Some(Answer::Rating(4))], vec![true, true])
        );
        let closing = p.rows.iter().find(|r| r.item.key == "zelf_verder").unwrap();
        assert_eq!(closing.asked, [false, true]);

        // Someone else's tasks alone: nothing at all.
        assert_eq!(my_progress(me, &[child]), MyProgress::default());
    }

    fn full_end(person: Uuid) -> QuestionnaireTask {
        submitted(person, Phase::Eind, Audience::Ouder, full_eind(), 5)
    }
}
