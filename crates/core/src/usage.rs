//! The usage report: whether families use the app and which parts, per municipality and team,
//! from counts only. Nothing here knows a person: the server hands over families with their
//! trajectory dates, enrolment dates and dated events, plus activity counters it kept as
//! numbers per period, and the report adds them up.
//!
//! Small groups: a figure under [`MIN_GROUP`] is not shown. A hidden figure must also not
//! follow from the others:
//! - inside one month, when exactly one team of a municipality is hidden (and not zero), the
//!   smallest shown team is hidden too; when exactly one municipality is hidden, the smallest
//!   shown municipality whose own total cannot be added up from its teams is hidden too, or
//!   else the grand total;
//! - a quarter or half year shows a figure only where every month in it shows one (or hides a
//!   zero). Its shown figures are then sums or unions of shown month figures, so no longer
//!   period can be taken apart into a hidden month, and no month can be subtracted from it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use ts_rs::TS;
use utoipa::ToSchema;

use crate::entry::PersonRole;
use crate::feedback::FeedbackKind;
use crate::indicators::{self, Period};

pub use crate::indicators::MIN_GROUP;

/// Days after a period's end in which its figures may still change (late dates, the apps'
/// monthly reports); a report exists from the day after.
pub const SETTLE_DAYS: i64 = 10;

/// A month, quarter or half year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum UsagePeriod {
    Month { year: i32, month: u8 },
    Quarter { year: i32, quarter: u8 },
    Half { year: i32, half: u8 },
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("a period looks like 2026-11, 2026-Q3 or 2026-H1")]
pub struct UsagePeriodError;

const MONTHS: [&str; 12] = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
];

impl UsagePeriod {
    /// `2026-11` (a month), `2026-Q4`, `2026-H2`.
    pub fn parse(s: &str) -> Result<Self, UsagePeriodError> {
        let s = s.trim();
        if let Ok(p) = Period::parse(s) {
            return Ok(p.into());
        }
        let (year, month) = s.split_once('-').ok_or(UsagePeriodError)?;
        let year: i32 = year.parse().map_err(|_| UsagePeriodError)?;
        if month.len() != 2 || !(2000..=2200).contains(&year) {
            return Err(UsagePeriodError);
        }
        let month: u8 = month.parse().map_err(|_| UsagePeriodError)?;
        if !(1..=12).contains(&month) {
            return Err(UsagePeriodError);
        }
        Ok(Self::Month { year, month })
    }

    pub fn code(self) -> String {
        match self {
            Self::Month { year, month } => format!("{year}-{month:02}"),
            Self::Quarter { year, quarter } => format!("{year}-Q{quarter}"),
            Self::Half { year, half } => format!("{year}-H{half}"),
        }
    }

    pub fn label(self) -> String {
        match self {
            Self::Month { year, month } => format!("{} {year}", MONTHS[usize::from(month.clamp(1, 12) - 1)]),
            Self::Quarter { year, quarter } => Period::Quarter { year, quarter }.label(),
            Self::Half { year, half } => Period::Half { year, half }.label(),
        }
    }

    /// The months in it, in order.
    pub fn months(self) -> Vec<UsagePeriod> {
        let (year, first, len) = match self {
            Self::Month { year, month } => (year, month, 1),
            Self::Quarter { year, quarter } => (year, (quarter - 1) * 3 + 1, 3),
            Self::Half { year, half } => (year, (half - 1) * 6 + 1, 6),
        };
        (first..first + len).map(|month| Self::Month { year, month }).collect()
    }

    pub fn first_day(self) -> NaiveDate {
        match self.months().first() {
            Some(Self::Month { year, month }) => {
                NaiveDate::from_ymd_opt(*year, u32::from(*month), 1).unwrap_or(NaiveDate::MIN)
            }
            _ => NaiveDate::MIN,
        }
    }

    pub fn last_day(self) -> NaiveDate {
        let (year, month) = match self.months().last() {
            Some(Self::Month { year, month }) => (*year, u32::from(*month)),
            _ => return NaiveDate::MAX,
        };
        let next = if month == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(year, month + 1, 1)
        };
        next.and_then(|d| d.pred_opt()).unwrap_or(NaiveDate::MAX)
    }

    pub fn contains(self, day: NaiveDate) -> bool {
        (self.first_day()..=self.last_day()).contains(&day)
    }

    /// The first day a report of the period exists: [`SETTLE_DAYS`] after it ended, when late
    /// trajectory dates and the apps' monthly reports are in. From then on its counts are fixed.
    pub fn ready_on(self) -> NaiveDate {
        self.last_day() + Duration::days(SETTLE_DAYS + 1)
    }

    pub fn year_earlier(self) -> Self {
        match self {
            Self::Month { year, month } => Self::Month { year: year - 1, month },
            Self::Quarter { year, quarter } => Self::Quarter { year: year - 1, quarter },
            Self::Half { year, half } => Self::Half { year: year - 1, half },
        }
    }

    /// The ISO weeks whose Thursday falls in the period (so every week belongs to one month),
    /// each by its Monday.
    pub fn weeks(self) -> Vec<NaiveDate> {
        let first = self.first_day();
        let mut thursday = first
            + Duration::days(
                (i64::from(Weekday::Thu.num_days_from_monday())
                    - i64::from(first.weekday().num_days_from_monday()))
                .rem_euclid(7),
            );
        let mut out = Vec::new();
        while thursday <= self.last_day() {
            out.push(thursday - Duration::days(3));
            thursday += Duration::days(7);
        }
        out
    }
}

impl From<Period> for UsagePeriod {
    fn from(p: Period) -> Self {
        match p {
            Period::Half { year, half } => Self::Half { year, half },
            Period::Quarter { year, quarter } => Self::Quarter { year, quarter },
        }
    }
}

/// The counter key of the ISO week a day falls in: `2026-W47`.
pub fn week_code(day: NaiveDate) -> String {
    let w = day.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

/// The counter keys a day of activity counts in: its week, month, quarter and half year. The
/// server counts a person once per key: at the first contact in a period that differs from the
/// person's previous contact.
pub fn activity_buckets(day: NaiveDate) -> [String; 4] {
    let (year, month) = (day.year(), day.month());
    let quarter = (month - 1) / 3 + 1;
    let half = (month - 1) / 6 + 1;
    [week_code(day), format!("{year}-{month:02}"), format!("{year}-Q{quarter}"), format!("{year}-H{half}")]
}

/// Who a person is for the report, on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum RoleGroup {
    Parent,
    Carer,
    /// Young people under 16 (an account starts at 12).
    Youth12To15,
    Youth16Plus,
}

impl RoleGroup {
    pub fn of(role: PersonRole, birth_date: NaiveDate, on: NaiveDate) -> Self {
        match role {
            PersonRole::Parent => Self::Parent,
            PersonRole::Carer => Self::Carer,
            PersonRole::Child if on.years_since(birth_date).unwrap_or(0) >= 16 => Self::Youth16Plus,
            PersonRole::Child => Self::Youth12To15,
        }
    }
}

/// One app installation of a person: the days only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceDays {
    pub enrolled_on: NaiveDate,
    pub revoked_on: Option<NaiveDate>,
    /// Revoked by the family themselves (in the app), not by staff or by PIN tries.
    pub revoked_by_family: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub role: PersonRole,
    pub birth_date: NaiveDate,
    pub devices: Vec<DeviceDays>,
}

/// Something the server saw the family do, with its day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Feedback {
        on: NaiveDate,
        kind: FeedbackKind,
    },
    /// A questionnaire became available to a family member.
    QuestionnaireSent {
        on: NaiveDate,
    },
    /// Submitted from the app (not imported from paper).
    QuestionnaireAnsweredInApp {
        on: NaiveDate,
    },
    /// A message from the family, and how long the coaches took to write back, if they did.
    FamilyMessage {
        on: NaiveDate,
        answered_after_minutes: Option<u32>,
    },
    TipOpened {
        on: NaiveDate,
    },
}

impl Event {
    fn on(self) -> NaiveDate {
        match self {
            Self::Feedback { on, .. }
            | Self::QuestionnaireSent { on }
            | Self::QuestionnaireAnsweredInApp { on }
            | Self::FamilyMessage { on, .. }
            | Self::TipOpened { on } => on,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Family {
    pub municipality: String,
    pub team: String,
    pub started_on: Option<NaiveDate>,
    pub closed_on: Option<NaiveDate>,
    pub members: Vec<Member>,
    pub events: Vec<Event>,
}

/// The server's activity counter: how many persons of a team contacted the server in a
/// period (`bucket`: a week, month, quarter or half-year code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityCount {
    pub bucket: String,
    pub municipality: String,
    pub team: String,
    pub persons: u32,
}

/// What the report counts, in the order it shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Families with a trajectory running on some day of the period.
    FamiliesInCare,
    /// Of those, families with at least one member who had the app.
    FamiliesReached,
    EnrolledParents,
    EnrolledCarers,
    EnrolledYouth12To15,
    EnrolledYouth16Plus,
    /// Persons whose app contacted the server at least once in the period.
    ActivePersons,
    FeedbackAanvulling,
    FeedbackCorrectie,
    FeedbackVraag,
    FeedbackAkkoord,
    QuestionnairesSent,
    QuestionnairesAnsweredInApp,
    FamilyMessages,
    /// Family messages the coaches wrote back to (the median time is over these).
    FamilyMessagesAnswered,
    TipsOpened,
    DevicesRevokedByFamily,
    /// Monthly reports from apps whose person chose to share which parts they used
    /// ([`UsageQuestion`]); the estimates are over these.
    UsageReportsShared,
}

const N: usize = 18;

impl Measure {
    pub const ALL: [Measure; N] = [
        Self::FamiliesInCare,
        Self::FamiliesReached,
        Self::EnrolledParents,
        Self::EnrolledCarers,
        Self::EnrolledYouth12To15,
        Self::EnrolledYouth16Plus,
        Self::ActivePersons,
        Self::FeedbackAanvulling,
        Self::FeedbackCorrectie,
        Self::FeedbackVraag,
        Self::FeedbackAkkoord,
        Self::QuestionnairesSent,
        Self::QuestionnairesAnsweredInApp,
        Self::FamilyMessages,
        Self::FamilyMessagesAnswered,
        Self::TipsOpened,
        Self::DevicesRevokedByFamily,
        Self::UsageReportsShared,
    ];

    fn index(self) -> usize {
        Self::ALL.iter().position(|m| *m == self).unwrap_or(0)
    }

    /// For the CSV and HTML exports (the app has its own texts, in the reader's language).
    pub fn label(self) -> &'static str {
        match self {
            Self::FamiliesInCare => "Gezinnen in zorg",
            Self::FamiliesReached => "Gezinnen met de app",
            Self::EnrolledParents => "Ouders met de app",
            Self::EnrolledCarers => "Opvoeders met de app",
            Self::EnrolledYouth12To15 => "Jongeren 12-15 met de app",
            Self::EnrolledYouth16Plus => "Jongeren 16+ met de app",
            Self::ActivePersons => "Actieve gebruikers",
            Self::FeedbackAanvulling => "Reacties: aanvulling",
            Self::FeedbackCorrectie => "Reacties: correctieverzoek",
            Self::FeedbackVraag => "Reacties: vraag",
            Self::FeedbackAkkoord => "Reacties: akkoord",
            Self::QuestionnairesSent => "Vragenlijsten verstuurd",
            Self::QuestionnairesAnsweredInApp => "Vragenlijsten ingevuld in de app",
            Self::FamilyMessages => "Berichten van gezinnen",
            Self::FamilyMessagesAnswered => "Berichten beantwoord",
            Self::TipsOpened => "Leestips geopend",
            Self::DevicesRevokedByFamily => "Apparaten ontkoppeld door het gezin",
            Self::UsageReportsShared => "Maandmeldingen van gebruik (gedeeld)",
        }
    }

    fn feedback(kind: FeedbackKind) -> Self {
        match kind {
            FeedbackKind::Aanvulling => Self::FeedbackAanvulling,
            FeedbackKind::Correctie => Self::FeedbackCorrectie,
            FeedbackKind::Vraag => Self::FeedbackVraag,
            FeedbackKind::Akkoord => Self::FeedbackAkkoord,
        }
    }

    fn enrolled(group: RoleGroup) -> Self {
        match group {
            RoleGroup::Parent => Self::EnrolledParents,
            RoleGroup::Carer => Self::EnrolledCarers,
            RoleGroup::Youth12To15 => Self::EnrolledYouth12To15,
            RoleGroup::Youth16Plus => Self::EnrolledYouth16Plus,
        }
    }
}

/// One figure; `None` when it is hidden (a small group, or one that would give one away) or
/// not measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct Count {
    pub measure: Measure,
    pub value: Option<u32>,
}

/// Active persons in one ISO week, by its Monday.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct WeekCount {
    #[ts(type = "string")]
    pub monday: NaiveDate,
    pub value: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
pub struct UsageFigures {
    /// One per [`Measure::ALL`], in order.
    pub counts: Vec<Count>,
    /// Families with the app as a whole percentage of families in care, when both are shown.
    pub reach_percent: Option<u8>,
    /// The median time from a family's message to the coach's answer, in hours with one
    /// decimal, when the answered messages are shown.
    pub median_answer_hours: Option<f64>,
    /// Activity per week; empty when activity was not yet counted in the period.
    pub weeks: Vec<WeekCount>,
    /// What people who chose to share said they used, estimated from randomized answers; one
    /// per [`UsageQuestion::ALL`], without figures when the reports are hidden.
    pub shared: Vec<SharedEstimate>,
    /// False when the server began counting activity after the period began: the active
    /// persons are then not known.
    pub activity_measured: bool,
}

impl UsageFigures {
    pub fn get(&self, m: Measure) -> Option<u32> {
        self.counts.iter().find(|c| c.measure == m).and_then(|c| c.value)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
pub struct UsageRow {
    /// Empty on the grand total.
    pub municipality: String,
    /// `None`: all teams of the municipality (or of all municipalities).
    pub team: Option<String>,
    pub current: UsageFigures,
    pub previous: UsageFigures,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
pub struct UsageReport {
    pub period: UsagePeriod,
    pub previous_period: UsagePeriod,
    /// The day the server began counting activity, if it has.
    #[ts(type = "string | null")]
    pub activity_counted_from: Option<NaiveDate>,
    pub rows: Vec<UsageRow>,
}

// ---- what people choose to share -----------------------------------------------------------

/// What an app can report once a month when its person chose to share: whether they opened
/// each part of the app that month, and whether they saved their Inzage as a file (which the
/// server does not see). Each answer is randomized on the device ([`randomize`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum UsageQuestion {
    Dossier,
    Inzage,
    Taken,
    Informatie,
    Berichten,
    InzageExport,
}

const Q: usize = 6;

impl UsageQuestion {
    pub const ALL: [UsageQuestion; Q] =
        [Self::Dossier, Self::Inzage, Self::Taken, Self::Informatie, Self::Berichten, Self::InzageExport];

    fn index(self) -> usize {
        Self::ALL.iter().position(|q| *q == self).unwrap_or(0)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dossier => "dossier",
            Self::Inzage => "inzage",
            Self::Taken => "taken",
            Self::Informatie => "informatie",
            Self::Berichten => "berichten",
            Self::InzageExport => "inzage_export",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|q| q.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Dossier => "Dossier geopend",
            Self::Inzage => "Inzage geopend",
            Self::Taken => "Taken geopend",
            Self::Informatie => "Informatie geopend",
            Self::Berichten => "Berichten geopend",
            Self::InzageExport => "Inzage als bestand opgeslagen",
        }
    }
}

/// Randomized response: after a first fair coin the true answer, otherwise a second fair coin.
/// A "yes" is then three times as likely from someone who did as from someone who did not
/// (local differential privacy with ε = ln 3), and either answer is possible whatever the truth.
pub fn randomize(truth: bool, first_coin: bool, second_coin: bool) -> bool {
    if first_coin {
        truth
    } else {
        second_coin
    }
}

/// The share of people who did, in percent, and the half-width of its 95% interval, from `n`
/// randomized answers of which `yes` said yes: P(yes) = π/2 + 1/4, so π = 2·P(yes) − 1/2,
/// with four times the variance of P(yes). One decimal; `None` without answers.
pub fn estimate(n: u32, yes: u32) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let p = f64::from(yes.min(n)) / f64::from(n);
    let share = (2.0 * p - 0.5).clamp(0.0, 1.0);
    let margin = 1.96 * 2.0 * (p * (1.0 - p) / f64::from(n)).sqrt();
    let tenth = |v: f64| (v * 1000.0).round() / 10.0;
    Some((tenth(share), tenth(margin)))
}

/// One month's shared report as the app sends it: every question answered, randomized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UsageShare {
    /// `2026-11`: a month that has ended.
    pub month: String,
    pub answers: BTreeMap<UsageQuestion, bool>,
}

impl UsageShare {
    /// The month, if the report is whole: a month code and an answer to every question.
    pub fn check(&self) -> Result<UsagePeriod, UsagePeriodError> {
        let month = UsagePeriod::parse(&self.month)?;
        let whole = UsageQuestion::ALL.iter().all(|q| self.answers.contains_key(q));
        match month {
            // Only the plain code: what is stored and compared is exactly `2026-11`.
            UsagePeriod::Month { .. } if whole && self.answers.len() == Q && self.month == month.code() => {
                Ok(month)
            }
            _ => Err(UsagePeriodError),
        }
    }
}

/// The server's counter of shared reports: per month, team and question, how many reports and
/// how many said yes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedCount {
    pub month: String,
    pub municipality: String,
    pub team: String,
    pub question: UsageQuestion,
    pub reports: u32,
    pub yes: u32,
}

/// An estimate for one question; `None` when the reports are hidden or absent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema, TS)]
pub struct SharedEstimate {
    pub question: UsageQuestion,
    /// Percent of the people who shared, one decimal.
    pub percent: Option<f64>,
    /// Half-width of the 95% interval, in percentage points.
    pub margin: Option<f64>,
}

/// Two coins per question for [`SharingRecord::report`].
pub const COINS: usize = 2 * Q;

/// What the app keeps on the device (sealed) while its person shares: the parts used this
/// month, and the last month not yet sent. Nothing at all while sharing is off.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharingRecord {
    pub month: String,
    pub used: std::collections::BTreeSet<UsageQuestion>,
    pub pending: Option<(String, std::collections::BTreeSet<UsageQuestion>)>,
}

impl SharingRecord {
    /// Moves to `month` (a month code): the month before becomes the one to send. A month the
    /// app was not opened in is not reported.
    pub fn roll(&mut self, month: &str) {
        if self.month != month {
            if !self.month.is_empty() {
                self.pending = Some((std::mem::take(&mut self.month), std::mem::take(&mut self.used)));
            }
            self.month = month.to_owned();
            self.used.clear();
        }
    }

    pub fn note(&mut self, month: &str, q: UsageQuestion) {
        self.roll(month);
        self.used.insert(q);
    }

    /// The pending month's report, randomized with `coins` (two per question, in order).
    pub fn report(&self, coins: &[bool; COINS]) -> Option<UsageShare> {
        let (month, used) = self.pending.as_ref()?;
        let answers = UsageQuestion::ALL
            .iter()
            .enumerate()
            .map(|(i, q)| (*q, randomize(used.contains(q), coins[2 * i], coins[2 * i + 1])))
            .collect();
        Some(UsageShare { month: month.clone(), answers })
    }
}

// ---- counting ------------------------------------------------------------------------------

type Team = (String, String);

/// One team's counts in one period, before anything is hidden.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Raw {
    /// Per [`Measure::ALL`].
    counts: Vec<u32>,
    /// Per measure, how many families are behind the figure: a figure needs five of them too,
    /// or seven messages of one family would show.
    families: Vec<u32>,
    answer_minutes: Vec<u32>,
    /// Randomized "yes" answers per [`UsageQuestion::ALL`].
    shared_yes: Vec<u32>,
}

impl Raw {
    fn new() -> Self {
        Self { counts: vec![0; N], families: vec![0; N], answer_minutes: Vec::new(), shared_yes: vec![0; Q] }
    }

    fn count(&self, i: usize) -> u32 {
        self.counts.get(i).copied().unwrap_or(0)
    }

    fn families(&self, i: usize) -> u32 {
        self.families.get(i).copied().unwrap_or(0)
    }

    fn yes(&self, i: usize) -> u32 {
        self.shared_yes.get(i).copied().unwrap_or(0)
    }

    fn bump(&mut self, touched: &mut [bool; N], m: Measure) {
        self.counts[m.index()] += 1;
        touched[m.index()] = true;
    }

    fn add(&mut self, other: &Raw) {
        for (i, s) in self.counts.iter_mut().enumerate() {
            *s += other.count(i);
        }
        for (i, s) in self.families.iter_mut().enumerate() {
            *s += other.families(i);
        }
        for (i, s) in self.shared_yes.iter_mut().enumerate() {
            *s += other.yes(i);
        }
        self.answer_minutes.extend(&other.answer_minutes);
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct TeamCounts {
    municipality: String,
    team: String,
    raw: Raw,
}

/// One ISO week of a period, by its Monday: per team the active persons and the families with
/// the app that week.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct WeekCounts {
    monday: NaiveDate,
    teams: Vec<TeamCounts>,
}

/// What a report needs of one period, before anything is hidden: numbers per team, nothing
/// per person. The server stores it once the period has settled ([`UsagePeriod::ready_on`]) and
/// makes every later report from the stored counts, so no two reports of a period, and no report
/// next to another that shares its months, are made from different data.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PeriodCounts {
    teams: Vec<TeamCounts>,
    weeks: Vec<WeekCounts>,
}

fn in_care(f: &Family, first: NaiveDate, last: NaiveDate) -> bool {
    f.started_on.is_some_and(|s| s <= last) && f.closed_on.is_none_or(|c| c >= first)
}

fn had_app(m: &Member, first: NaiveDate, last: NaiveDate) -> bool {
    m.devices.iter().any(|d| d.enrolled_on <= last && d.revoked_on.is_none_or(|r| r >= first))
}

fn family_had_app(f: &Family, first: NaiveDate, last: NaiveDate) -> bool {
    f.members.iter().any(|m| had_app(m, first, last))
}

fn team_of(f: &Family) -> Team {
    (f.municipality.clone(), f.team.clone())
}

/// Counts one period from the data as it is now.
pub fn count(
    p: UsagePeriod,
    families: &[Family],
    activity: &[ActivityCount],
    shared: &[SharedCount],
) -> PeriodCounts {
    let (first, last) = (p.first_day(), p.last_day());
    let mut out: BTreeMap<Team, Raw> = BTreeMap::new();
    for f in families {
        let raw = out.entry(team_of(f)).or_insert_with(Raw::new);
        let mut touched = [false; N];
        if in_care(f, first, last) {
            raw.bump(&mut touched, Measure::FamiliesInCare);
            let mut reached = false;
            for m in f.members.iter().filter(|m| had_app(m, first, last)) {
                reached = true;
                raw.bump(&mut touched, Measure::enrolled(RoleGroup::of(m.role, m.birth_date, last)));
            }
            if reached {
                raw.bump(&mut touched, Measure::FamiliesReached);
            }
        }
        for d in f.members.iter().flat_map(|m| &m.devices) {
            if d.revoked_by_family && d.revoked_on.is_some_and(|r| p.contains(r)) {
                raw.bump(&mut touched, Measure::DevicesRevokedByFamily);
            }
        }
        for e in f.events.iter().filter(|e| p.contains(e.on())) {
            match *e {
                Event::Feedback { kind, .. } => raw.bump(&mut touched, Measure::feedback(kind)),
                Event::QuestionnaireSent { .. } => raw.bump(&mut touched, Measure::QuestionnairesSent),
                Event::QuestionnaireAnsweredInApp { .. } => {
                    raw.bump(&mut touched, Measure::QuestionnairesAnsweredInApp)
                }
                Event::FamilyMessage { answered_after_minutes, .. } => {
                    raw.bump(&mut touched, Measure::FamilyMessages);
                    if let Some(m) = answered_after_minutes {
                        raw.bump(&mut touched, Measure::FamilyMessagesAnswered);
                        raw.answer_minutes.push(m);
                    }
                }
                Event::TipOpened { .. } => raw.bump(&mut touched, Measure::TipsOpened),
            }
        }
        // Counters of people say nothing of families: those with the app stand behind them.
        if family_had_app(f, first, last) {
            touched[Measure::ActivePersons.index()] = true;
            touched[Measure::UsageReportsShared.index()] = true;
        }
        for (families, t) in raw.families.iter_mut().zip(touched) {
            *families += u32::from(t);
        }
    }
    for a in activity.iter().filter(|a| a.bucket == p.code()) {
        let raw = out.entry((a.municipality.clone(), a.team.clone())).or_insert_with(Raw::new);
        raw.counts[Measure::ActivePersons.index()] = a.persons;
    }
    let months: Vec<String> = p.months().into_iter().map(UsagePeriod::code).collect();
    for s in shared.iter().filter(|s| months.contains(&s.month)) {
        let raw = out.entry((s.municipality.clone(), s.team.clone())).or_insert_with(Raw::new);
        let q = s.question.index();
        // Every report answers every question: the first question's count is the reports'.
        if q == 0 {
            raw.counts[Measure::UsageReportsShared.index()] += s.reports;
        }
        raw.shared_yes[q] += s.yes;
    }
    let weeks = p
        .weeks()
        .into_iter()
        .map(|monday| {
            let (from, to) = (monday, monday + Duration::days(6));
            let mut teams: BTreeMap<Team, Raw> = BTreeMap::new();
            let i = Measure::ActivePersons.index();
            for f in families.iter().filter(|f| family_had_app(f, from, to)) {
                teams.entry(team_of(f)).or_insert_with(Raw::new).families[i] += 1;
            }
            for a in activity.iter().filter(|a| a.bucket == week_code(monday)) {
                teams.entry((a.municipality.clone(), a.team.clone())).or_insert_with(Raw::new).counts[i] =
                    a.persons;
            }
            WeekCounts { monday, teams: into_teams(teams) }
        })
        .collect();
    PeriodCounts { teams: into_teams(out), weeks }
}

fn into_teams(map: BTreeMap<Team, Raw>) -> Vec<TeamCounts> {
    map.into_iter().map(|((municipality, team), raw)| TeamCounts { municipality, team, raw }).collect()
}

/// The periods a report of `period` is made from: the period, its months, and the same a year
/// earlier.
pub fn periods_needed(period: UsagePeriod) -> Vec<UsagePeriod> {
    let previous = period.year_earlier();
    let mut out = vec![period, previous];
    out.extend(period.months());
    out.extend(previous.months());
    out.sort();
    out.dedup();
    out
}

/// A figure before it is shown: the count, and whether it stays hidden.
#[derive(Debug, Clone, Copy, Default)]
struct Cell {
    n: u32,
    hidden: bool,
}

impl Cell {
    fn new(n: u32, families: u32) -> Self {
        Self { n, hidden: n < MIN_GROUP || families < MIN_GROUP }
    }
    /// Hidden with something to hide: a hidden zero gives nothing away.
    fn hides(self) -> bool {
        self.hidden && self.n > 0
    }
}

/// The rows of a report in their order: the teams of each municipality, the municipality's
/// total, and at the end the grand total.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct RowKey {
    municipality: String,
    team: Option<String>,
}

fn row_keys(teams: &[Team]) -> Vec<RowKey> {
    let mut keys = Vec::new();
    let mut i = 0;
    while i < teams.len() {
        let m = &teams[i].0;
        while i < teams.len() && teams[i].0 == *m {
            keys.push(RowKey { municipality: m.clone(), team: Some(teams[i].1.clone()) });
            i += 1;
        }
        keys.push(RowKey { municipality: m.clone(), team: None });
    }
    keys.push(RowKey { municipality: String::new(), team: None });
    keys
}

/// Per row (in [`row_keys`] order) the counts: team counts as counted, totals as sums (every
/// person and family belongs to one team).
fn table(keys: &[RowKey], teams: &[TeamCounts]) -> Vec<Raw> {
    keys.iter()
        .map(|k| {
            let mut sum = Raw::new();
            for t in teams.iter().filter(|t| {
                (k.municipality.is_empty() || t.municipality == k.municipality)
                    && k.team.as_ref().is_none_or(|kt| *kt == t.team)
            }) {
                sum.add(&t.raw);
            }
            sum
        })
        .collect()
}

/// Small groups and their complements, for one figure over all rows.
fn protect(keys: &[RowKey], cells: &mut [Cell]) {
    // Teams within their municipality.
    let mut start = 0;
    let mut totals = Vec::new();
    for i in 0..keys.len() {
        if keys[i].team.is_none() {
            if !keys[i].municipality.is_empty() {
                protect_parts(&mut cells[start..i]);
                totals.push(i);
            }
            start = i + 1;
        }
    }
    // Municipalities within the grand total. A partner whose total is the plain sum of shown
    // teams would be hidden for nothing: pick one that hides a team, or hide the grand total.
    let hidden = totals.iter().filter(|i| cells[**i].hides()).count();
    let grand = keys.len() - 1;
    if hidden == 1 && !cells[grand].hidden {
        let has_hidden_team = |i: usize| {
            let mut j = i;
            while j > 0 && keys[j - 1].team.is_some() {
                j -= 1;
                if cells[j].hides() {
                    return true;
                }
            }
            false
        };
        let partner = totals
            .iter()
            .copied()
            .filter(|i| !cells[*i].hidden && has_hidden_team(*i))
            .min_by_key(|i| cells[*i].n);
        match partner {
            Some(i) => cells[i].hidden = true,
            None => cells[grand].hidden = true,
        }
    }
}

fn protect_parts(parts: &mut [Cell]) {
    if parts.len() < 2 || parts.iter().filter(|c| c.hides()).count() != 1 {
        return;
    }
    if let Some(next) = parts.iter_mut().filter(|c| !c.hidden).min_by_key(|c| c.n) {
        next.hidden = true;
    }
}

fn median_hours(mut minutes: Vec<u32>) -> Option<f64> {
    if minutes.is_empty() {
        return None;
    }
    minutes.sort_unstable();
    let n = minutes.len();
    let twice = if n % 2 == 1 {
        u64::from(minutes[n / 2]) * 2
    } else {
        u64::from(minutes[n / 2 - 1]) + u64::from(minutes[n / 2])
    };
    // Tenths of hours, rounded half up, in integers.
    let tenths = (twice + 6) / 12;
    Some(tenths as f64 / 10.0)
}

/// One period's figures for every row, protected.
fn figures(
    p: UsagePeriod,
    keys: &[RowKey],
    counts: &BTreeMap<UsagePeriod, PeriodCounts>,
    counted_from: Option<NaiveDate>,
) -> Vec<UsageFigures> {
    let empty = PeriodCounts::default();
    let of = |p: UsagePeriod| counts.get(&p).unwrap_or(&empty);
    let measured = |from: NaiveDate| counted_from.is_some_and(|c| c <= from);
    let whole = table(keys, &of(p).teams);
    let months: Vec<Vec<Raw>> = p.months().into_iter().map(|m| table(keys, &of(m).teams)).collect();
    let mut cells: Vec<Vec<Cell>> =
        whole.iter().map(|r| (0..N).map(|i| Cell::new(r.count(i), r.families(i))).collect()).collect();
    for i in 0..N {
        // Each month protected on its own, then the period: hidden where any month hides.
        let mut hidden_in_a_month = vec![false; keys.len()];
        for month in &months {
            let mut c: Vec<Cell> = month.iter().map(|r| Cell::new(r.count(i), r.families(i))).collect();
            protect(keys, &mut c);
            for (h, c) in hidden_in_a_month.iter_mut().zip(&c) {
                *h |= c.hides();
            }
        }
        let mut c: Vec<Cell> = cells.iter().map(|row| row[i]).collect();
        for (c, h) in c.iter_mut().zip(&hidden_in_a_month) {
            c.hidden |= *h;
        }
        protect(keys, &mut c);
        for (row, c) in cells.iter_mut().zip(c) {
            row[i] = c;
        }
    }
    let activity_measured = measured(p.first_day());
    let active = Measure::ActivePersons.index();
    let week_cells: Vec<(NaiveDate, Vec<Cell>)> = of(p)
        .weeks
        .iter()
        .map(|w| {
            let mut c: Vec<Cell> = table(keys, &w.teams)
                .iter()
                .map(|r| Cell::new(r.count(active), r.families(active)))
                .collect();
            protect(keys, &mut c);
            (w.monday, c)
        })
        .collect();
    cells
        .iter()
        .zip(whole)
        .enumerate()
        .map(|(row, (cells, raw))| {
            let shown = |m: Measure| {
                let c = cells[m.index()];
                (!c.hidden).then_some(c.n)
            };
            let counts = Measure::ALL
                .iter()
                .map(|m| Count {
                    measure: *m,
                    value: if *m == Measure::ActivePersons && !activity_measured { None } else { shown(*m) },
                })
                .collect();
            let reach_percent = match (shown(Measure::FamiliesReached), shown(Measure::FamiliesInCare)) {
                (Some(r), Some(f)) if f > 0 => u8::try_from((r * 200 + f) / (f * 2)).ok(),
                _ => None,
            };
            let median_answer_hours =
                shown(Measure::FamilyMessagesAnswered).and_then(|_| median_hours(raw.answer_minutes.clone()));
            let reports = shown(Measure::UsageReportsShared);
            let shared = UsageQuestion::ALL
                .iter()
                .map(|q| {
                    let e = reports.and_then(|n| estimate(n, raw.yes(q.index())));
                    SharedEstimate { question: *q, percent: e.map(|e| e.0), margin: e.map(|e| e.1) }
                })
                .collect();
            let weeks = week_cells
                .iter()
                .filter(|(monday, _)| measured(*monday))
                .map(|(monday, c)| WeekCount { monday: *monday, value: (!c[row].hidden).then_some(c[row].n) })
                .collect();
            UsageFigures { counts, reach_percent, median_answer_hours, weeks, shared, activity_measured }
        })
        .collect()
}

/// The report of a period next to the same period a year earlier, from the counts of
/// [`periods_needed`] (a period missing counts as empty).
pub fn build(
    period: UsagePeriod,
    counts: &BTreeMap<UsagePeriod, PeriodCounts>,
    activity_counted_from: Option<NaiveDate>,
) -> UsageReport {
    let previous_period = period.year_earlier();
    let mut teams: Vec<Team> = counts
        .values()
        .flat_map(|c| c.teams.iter().chain(c.weeks.iter().flat_map(|w| &w.teams)))
        .map(|t| (t.municipality.clone(), t.team.clone()))
        .collect();
    teams.sort();
    teams.dedup();
    let keys = row_keys(&teams);
    let current = figures(period, &keys, counts, activity_counted_from);
    let previous = figures(previous_period, &keys, counts, activity_counted_from);
    let rows = keys
        .into_iter()
        .zip(current.into_iter().zip(previous))
        .map(|(k, (current, previous))| UsageRow {
            municipality: k.municipality,
            team: k.team,
            current,
            previous,
        })
        .collect();
    UsageReport { period, previous_period, activity_counted_from, rows }
}

/// Counts every period needed from the data as it is now, and builds the report.
pub fn report(
    period: UsagePeriod,
    families: &[Family],
    activity: &[ActivityCount],
    shared: &[SharedCount],
    activity_counted_from: Option<NaiveDate>,
) -> UsageReport {
    let counts =
        periods_needed(period).into_iter().map(|p| (p, count(p, families, activity, shared))).collect();
    build(period, &counts, activity_counted_from)
}

// ---- output -------------------------------------------------------------------------------

fn group_name(r: &UsageRow) -> (String, String) {
    match (&r.team, r.municipality.is_empty()) {
        (Some(t), _) => (r.municipality.clone(), t.clone()),
        (None, false) => (r.municipality.clone(), "Alle teams".into()),
        (None, true) => ("Alle gemeenten".into(), "Alle teams".into()),
    }
}

fn shown(v: Option<u32>) -> String {
    v.map_or_else(String::new, |v| v.to_string())
}

/// Semicolon-separated, as Dutch spreadsheet programs open it: one row per group and period,
/// hidden figures empty. Weeks are in the JSON and the app's page, not here.
pub fn to_csv(report: &UsageReport) -> String {
    let mut header: Vec<String> = ["Gemeente", "Team", "Periode"].map(String::from).into();
    header.extend(Measure::ALL.iter().map(|m| m.label().to_owned()));
    header.extend(["Bereik %", "Mediaan antwoordtijd (uur)"].map(String::from));
    for q in UsageQuestion::ALL {
        header.extend([format!("{} (geschat %)", q.label()), format!("{} (marge ±)", q.label())]);
    }
    let mut rows = vec![header];
    for r in &report.rows {
        let (m, t) = group_name(r);
        for (period, f) in [(report.period, &r.current), (report.previous_period, &r.previous)] {
            let mut row = vec![indicators::csv_cell(&m), indicators::csv_cell(&t), period.code()];
            row.extend(Measure::ALL.iter().map(|m| shown(f.get(*m))));
            row.push(f.reach_percent.map(|p| p.to_string()).unwrap_or_default());
            let decimal = |v: Option<f64>| v.map(|v| format!("{v:.1}").replace('.', ",")).unwrap_or_default();
            row.push(decimal(f.median_answer_hours));
            for e in &f.shared {
                row.extend([decimal(e.percent), decimal(e.margin)]);
            }
            rows.push(row);
        }
    }
    indicators::csv_text(&rows)
}

/// A self-contained page to print or save as PDF: one table per group, this period next to the
/// year before.
pub fn to_html(report: &UsageReport, made_on: NaiveDate) -> String {
    let (cur, prev) = (report.period.label(), report.previous_period.label());
    let esc = indicators::esc;
    let mut out = indicators::html_page(
        &format!("Gebruik van de app {cur}"),
        "Gebruik van de app Mijn CJG",
        &format!(
            "{cur} naast {prev}. Gemaakt op {}. Alleen aantallen; groepen van minder dan {MIN_GROUP} tonen geen cijfer (–).",
            made_on.format("%d-%m-%Y")
        ),
    );
    for r in &report.rows {
        indicators::html_group_table(&mut out, group_name(r), "Wat", &cur, &prev);
        let dash = |v: Option<String>| v.unwrap_or_else(|| "–".into());
        for m in &Measure::ALL {
            let _ = write!(
                out,
                "<tr><th scope=\"row\">{}</th><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                esc(m.label()),
                dash(r.current.get(*m).map(|v| v.to_string())),
                dash(r.previous.get(*m).map(|v| v.to_string())),
            );
        }
        let _ = write!(
            out,
            "<tr><th scope=\"row\">Bereik</th><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\
             <tr><th scope=\"row\">Mediaan antwoordtijd</th><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            dash(r.current.reach_percent.map(|p| format!("{p}%"))),
            dash(r.previous.reach_percent.map(|p| format!("{p}%"))),
            dash(r.current.median_answer_hours.map(|h| format!("{h:.1} uur").replace('.', ","))),
            dash(r.previous.median_answer_hours.map(|h| format!("{h:.1} uur").replace('.', ","))),
        );
        for (i, q) in UsageQuestion::ALL.iter().enumerate() {
            let estimate = |f: &UsageFigures| {
                f.shared.get(i).and_then(|e| Some((e.percent?, e.margin?))).map_or_else(
                    || "–".to_owned(),
                    |(p, m)| format!("ongeveer {p:.1}% (± {m:.1})").replace('.', ","),
                )
            };
            let _ = write!(
                out,
                "<tr><th scope=\"row\">{} (geschat)</th><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                esc(q.label()),
                estimate(&r.current),
                estimate(&r.previous),
            );
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</body></html>");
    out
}

#[cfg(test)]
mod tests;
