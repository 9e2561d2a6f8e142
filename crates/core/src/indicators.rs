//! The indicator report of the performance plan: per period, municipality and team, how many
//! closing questionnaires went out and came back, the eens / oneens / n.v.t. shares of the four
//! closing items and the mean ratings, next to the same period a year earlier.
//!
//! Counting rule: a closing questionnaire belongs to the period in which it was sent (the
//! trajectory's closing), whether it was answered then or later. That keeps the response rate
//! a true share of one set of questionnaires. A report is therefore a snapshot: late answers
//! can still raise an earlier period's figures.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use utoipa::ToSchema;

use crate::questionnaire::{self, Agree, Answer, Answers, Audience, Phase, CLOSING_ITEMS, CLOSING_RATINGS};

/// Groups with fewer answers than this show no figures, so no family can be recognised.
pub const MIN_GROUP: u32 = 5;
/// Days after a period's end when its report is frozen.
pub const FREEZE_AFTER_DAYS: u64 = 35;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Period {
    Half { year: i32, half: u8 },
    Quarter { year: i32, quarter: u8 },
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("a period looks like 2026-H1 or 2026-Q3")]
pub struct PeriodError;

impl Period {
    /// `2026-H1`, `2026-H2`, `2026-Q1` … `2026-Q4` (lower case too).
    pub fn parse(s: &str) -> Result<Self, PeriodError> {
        let (year, part) = s.trim().split_once('-').ok_or(PeriodError)?;
        let year: i32 = year.parse().map_err(|_| PeriodError)?;
        if !(2000..=2200).contains(&year) {
            return Err(PeriodError);
        }
        let part = part.to_ascii_uppercase();
        let (kind, n) = part.split_at(1.min(part.len()));
        let n: u8 = n.parse().map_err(|_| PeriodError)?;
        match kind {
            "H" if (1..=2).contains(&n) => Ok(Self::Half { year, half: n }),
            "Q" if (1..=4).contains(&n) => Ok(Self::Quarter { year, quarter: n }),
            _ => Err(PeriodError),
        }
    }

    pub fn code(self) -> String {
        match self {
            Self::Half { year, half } => format!("{year}-H{half}"),
            Self::Quarter { year, quarter } => format!("{year}-Q{quarter}"),
        }
    }

    /// As the performance plan writes it.
    pub fn label(self) -> String {
        match self {
            Self::Half { year, half } => format!("{half}e halfjaar {year}"),
            Self::Quarter { year, quarter } => format!("kwartaal {quarter} van {year}"),
        }
    }

    fn months(self) -> (i32, u32, u32) {
        match self {
            Self::Half { year, half } => (year, u32::from(half - 1) * 6 + 1, 6),
            Self::Quarter { year, quarter } => (year, u32::from(quarter - 1) * 3 + 1, 3),
        }
    }

    pub fn first_day(self) -> NaiveDate {
        let (year, first, _) = self.months();
        NaiveDate::from_ymd_opt(year, first, 1).unwrap_or(NaiveDate::MIN)
    }

    pub fn last_day(self) -> NaiveDate {
        let (year, first, len) = self.months();
        let after = if first + len > 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(year, first + len, 1)
        };
        after.and_then(|d| d.pred_opt()).unwrap_or(NaiveDate::MAX)
    }

    pub fn contains(self, day: NaiveDate) -> bool {
        let (year, first, len) = self.months();
        day.year() == year && (first..first + len).contains(&day.month())
    }

    /// The two quarters a half-year is made of; `None` for a quarter.
    pub fn quarters(self) -> Option<[Period; 2]> {
        match self {
            Self::Half { year, half } => Some([
                Self::Quarter { year, quarter: half * 2 - 1 },
                Self::Quarter { year, quarter: half * 2 },
            ]),
            Self::Quarter { .. } => None,
        }
    }

    /// From this day a period's figures no longer change: the closing questionnaires sent on its
    /// last day have had their 14 days, and late answers some more.
    pub fn freezes_on(self) -> NaiveDate {
        self.last_day() + chrono::Days::new(FREEZE_AFTER_DAYS)
    }

    pub fn year_earlier(self) -> Self {
        match self {
            Self::Half { year, half } => Self::Half { year: year - 1, half },
            Self::Quarter { year, quarter } => Self::Quarter { year: year - 1, quarter },
        }
    }
}

/// One closing questionnaire that went out, and its answers if they came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosingRecord {
    pub municipality: String,
    pub team: String,
    pub sent_on: NaiveDate,
    pub answers: Option<Answers>,
}

/// Whole percentages of eens / oneens / n.v.t.; they add up to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AgreeShares {
    pub eens: u8,
    pub oneens: u8,
    pub nvt: u8,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Figures {
    pub sent: u32,
    pub answered: u32,
    /// Fewer than [`MIN_GROUP`] answers, or hidden so a hidden neighbour cannot be worked out
    /// from a total: no figures but the count of questionnaires sent.
    pub suppressed: bool,
    pub response_rate: Option<u8>,
    /// Per item of [`CLOSING_ITEMS`], in order; `None` when suppressed or unanswered.
    pub items: Vec<Option<AgreeShares>>,
    /// Per rating of [`CLOSING_RATINGS`], in order, one decimal.
    pub ratings: Vec<Option<f64>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReportRow {
    pub municipality: String,
    /// `None`: all teams of the municipality (or all municipalities, with an empty name).
    pub team: Option<String>,
    pub current: Figures,
    pub previous: Figures,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IndicatorReport {
    pub period: Period,
    pub previous_period: Period,
    pub rows: Vec<ReportRow>,
}

/// Largest-remainder rounding: whole percentages that add up to 100, as in the plan's tables.
pub fn percentages<const N: usize>(counts: [u32; N]) -> Option<[u8; N]> {
    let total: u32 = counts.iter().sum();
    if total == 0 {
        return None;
    }
    let mut out = [0u8; N];
    let mut rest: Vec<(u32, usize)> = Vec::with_capacity(N);
    let mut given = 0u32;
    for (i, c) in counts.iter().enumerate() {
        let scaled = c * 100;
        let whole = scaled / total;
        out[i] = u8::try_from(whole).unwrap_or(100);
        given += whole;
        rest.push((scaled % total, i));
    }
    // Biggest remainder first; on a tie the earlier column (eens before oneens before n.v.t.).
    rest.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in rest.into_iter().take((100 - given) as usize) {
        out[i] += 1;
    }
    Some(out)
}

fn round_percent(part: u32, total: u32) -> Option<u8> {
    (total > 0).then(|| u8::try_from((part * 200 + total) / (total * 2)).unwrap_or(100))
}

fn figures(records: &[&ClosingRecord]) -> Figures {
    let sent = u32::try_from(records.len()).unwrap_or(u32::MAX);
    let answers: Vec<&Answers> = records.iter().filter_map(|r| r.answers.as_ref()).collect();
    let answered = u32::try_from(answers.len()).unwrap_or(u32::MAX);
    let suppressed = answered < MIN_GROUP;
    if suppressed {
        return Figures { sent, answered, suppressed, response_rate: None, items: vec![], ratings: vec![] };
    }
    let items = CLOSING_ITEMS
        .iter()
        .map(|k| {
            let mut counts = [0u32; 3];
            for a in &answers {
                match a.get(*k) {
                    Some(Answer::Agree(Agree::Eens)) => counts[0] += 1,
                    Some(Answer::Agree(Agree::Oneens)) => counts[1] += 1,
                    Some(Answer::Agree(Agree::Nvt)) => counts[2] += 1,
                    _ => {}
                }
            }
            percentages(counts).map(|[eens, oneens, nvt]| AgreeShares { eens, oneens, nvt })
        })
        .collect();
    let ratings = CLOSING_RATINGS
        .iter()
        .map(|k| {
            let values: Vec<u32> = answers
                .iter()
                .filter_map(|a| match a.get(*k) {
                    Some(Answer::Rating(v)) => Some(u32::from(*v)),
                    _ => None,
                })
                .collect();
            let n = u32::try_from(values.len()).ok().filter(|n| *n > 0)?;
            // Tenths, rounded half up, in integers so 4.25 does not become 4.2 by float error.
            let tenths = (values.iter().sum::<u32>() * 20 + n) / (n * 2);
            Some(f64::from(tenths) / 10.0)
        })
        .collect();
    Figures { sent, answered, suppressed, response_rate: round_percent(answered, sent), items, ratings }
}

fn hide(f: &mut Figures) {
    *f = Figures { suppressed: true, response_rate: None, items: vec![], ratings: vec![], ..f.clone() };
}

/// When exactly one part of a total is hidden, its figures follow from the total minus the
/// others; hiding the smallest shown neighbour as well closes that door.
fn protect_complement(parts: &mut [&mut Figures]) {
    // A hidden part with no answers gives nothing away.
    if parts.len() < 2 || parts.iter().filter(|f| f.suppressed && f.answered > 0).count() != 1 {
        return;
    }
    if let Some(next) = parts.iter_mut().filter(|f| !f.suppressed).min_by_key(|f| f.answered) {
        hide(next);
    }
}

/// The records of one group: this period's and the year before's.
type Split<'a> = (Vec<&'a ClosingRecord>, Vec<&'a ClosingRecord>);

pub fn build(period: Period, records: &[ClosingRecord]) -> IndicatorReport {
    let previous_period = period.year_earlier();
    let mut groups: BTreeMap<(&str, &str), Split<'_>> = BTreeMap::new();
    for r in records {
        let slot = if period.contains(r.sent_on) {
            0
        } else if previous_period.contains(r.sent_on) {
            1
        } else {
            continue;
        };
        let g = groups.entry((&r.municipality, &r.team)).or_default();
        if slot == 0 { &mut g.0 } else { &mut g.1 }.push(r);
    }
    let mut rows = Vec::new();
    let mut all = (Vec::new(), Vec::new());
    let municipalities: Vec<&str> = {
        let mut m: Vec<&str> = groups.keys().map(|k| k.0).collect();
        m.dedup();
        m
    };
    let mut totals_at = Vec::new();
    for m in municipalities {
        let mut sum = (Vec::new(), Vec::new());
        let first = rows.len();
        for ((_, team), (cur, prev)) in groups.range((m, "")..).take_while(|(k, _)| k.0 == m) {
            sum.0.extend(cur);
            sum.1.extend(prev);
            rows.push(ReportRow {
                municipality: m.to_owned(),
                team: Some((*team).to_owned()),
                current: figures(cur),
                previous: figures(prev),
            });
        }
        protect(&mut rows[first..]);
        all.0.extend(&sum.0);
        all.1.extend(&sum.1);
        totals_at.push(rows.len());
        rows.push(ReportRow {
            municipality: m.to_owned(),
            team: None,
            current: figures(&sum.0),
            previous: figures(&sum.1),
        });
    }
    // The municipality totals are the parts of the grand total.
    let mut totals: Vec<ReportRow> = totals_at.iter().map(|i| rows[*i].clone()).collect();
    protect(&mut totals);
    for (i, t) in totals_at.into_iter().zip(totals) {
        rows[i] = t;
    }
    rows.push(ReportRow {
        municipality: String::new(),
        team: None,
        current: figures(&all.0),
        previous: figures(&all.1),
    });
    IndicatorReport { period, previous_period, rows }
}

fn row_key(r: &ReportRow) -> (String, Option<String>) {
    (r.municipality.clone(), r.team.clone())
}

/// Hidden with something to hide: a group without answers gives nothing away.
fn hides_answers(f: &Figures) -> bool {
    f.suppressed && f.answered > 0
}

/// A half-year is the sum of its two quarters. Where a group is hidden in exactly one of them,
/// the half-year minus the other quarter would give the hidden one away (H1 − Q1 = Q2), so the
/// group is hidden in the half-year too, and the half-year's totals are protected again. The
/// quarters are left as they are: every report of a year is then safe next to every other.
pub fn align_with_quarters(half: &mut IndicatorReport, quarters: [&IndicatorReport; 2]) {
    type Flags = BTreeMap<(String, Option<String>), (bool, bool)>;
    let flags = |r: &IndicatorReport| -> Flags {
        r.rows
            .iter()
            .map(|row| (row_key(row), (hides_answers(&row.current), hides_answers(&row.previous))))
            .collect()
    };
    let (a, b) = (flags(quarters[0]), flags(quarters[1]));
    for row in &mut half.rows {
        let k = row_key(row);
        let (a_current, a_previous) = a.get(&k).copied().unwrap_or_default();
        let (b_current, b_previous) = b.get(&k).copied().unwrap_or_default();
        if a_current != b_current && !row.current.suppressed {
            hide(&mut row.current);
        }
        if a_previous != b_previous && !row.previous.suppressed {
            hide(&mut row.previous);
        }
    }
    protect_again(&mut half.rows);
}

/// [`protect`] over a finished report: the teams of each municipality, then the municipalities.
fn protect_again(rows: &mut [ReportRow]) {
    let mut start = 0;
    let mut totals = Vec::new();
    for i in 0..rows.len() {
        if rows[i].team.is_none() {
            if !rows[i].municipality.is_empty() {
                protect(&mut rows[start..i]);
                totals.push(i);
            }
            start = i + 1;
        }
    }
    let mut parts: Vec<ReportRow> = totals.iter().map(|i| rows[*i].clone()).collect();
    protect(&mut parts);
    for (i, row) in totals.into_iter().zip(parts) {
        rows[i] = row;
    }
}

fn protect(rows: &mut [ReportRow]) {
    protect_complement(&mut rows.iter_mut().map(|r| &mut r.current).collect::<Vec<_>>());
    protect_complement(&mut rows.iter_mut().map(|r| &mut r.previous).collect::<Vec<_>>());
}

// ---- output -------------------------------------------------------------------------------

fn item_texts() -> Vec<String> {
    let d = questionnaire::current(Phase::Eind, Audience::Ouder);
    CLOSING_ITEMS
        .iter()
        .chain(&CLOSING_RATINGS)
        .map(|k| d.item(k).map_or_else(|| (*k).to_owned(), |i| i.text.clone()))
        .collect()
}

fn group_name(r: &ReportRow) -> (String, String) {
    match (&r.team, r.municipality.is_empty()) {
        (Some(t), _) => (r.municipality.clone(), t.clone()),
        (None, false) => (r.municipality.clone(), "Alle teams".into()),
        (None, true) => ("Alle gemeenten".into(), "Alle teams".into()),
    }
}

fn decimal(v: f64) -> String {
    format!("{v:.1}").replace('.', ",")
}

/// Semicolon-separated with decimal commas, as Dutch spreadsheet programs open it; one row per
/// group and period. Suppressed cells are empty with the reason in the last column.
pub fn to_csv(report: &IndicatorReport) -> String {
    let mut header: Vec<String> =
        ["Gemeente", "Team", "Periode", "Verstuurd", "Ingevuld", "Respons %"].map(String::from).into();
    for k in CLOSING_ITEMS {
        header.extend([format!("{k} eens %"), format!("{k} oneens %"), format!("{k} n.v.t. %")]);
    }
    header.extend(CLOSING_RATINGS.iter().map(|k| format!("{k} gemiddeld")));
    header.push("Opmerking".into());
    let mut rows = vec![header];
    for r in &report.rows {
        let (m, t) = group_name(r);
        for (period, f) in [(report.period, &r.current), (report.previous_period, &r.previous)] {
            let mut row = vec![csv_cell(&m), csv_cell(&t), period.code(), f.sent.to_string()];
            if f.suppressed {
                row.extend(std::iter::repeat_n(
                    String::new(),
                    2 + CLOSING_ITEMS.len() * 3 + CLOSING_RATINGS.len(),
                ));
                row.push(format!("minder dan {MIN_GROUP} antwoorden"));
            } else {
                row.push(f.answered.to_string());
                row.push(f.response_rate.map(|p| p.to_string()).unwrap_or_default());
                for s in &f.items {
                    match s {
                        Some(s) => row.extend([s.eens, s.oneens, s.nvt].map(|v| v.to_string())),
                        None => row.extend(std::iter::repeat_n(String::new(), 3)),
                    }
                }
                row.extend(f.ratings.iter().map(|v| v.map(decimal).unwrap_or_default()));
                row.push(String::new());
            }
            rows.push(row);
        }
    }
    csv_text(&rows)
}

/// Rows as a Dutch spreadsheet opens them: semicolons, CRLF, a byte-order mark.
pub(crate) fn csv_text(rows: &[Vec<String>]) -> String {
    let mut out = csv::WriterBuilder::new()
        .delimiter(b';')
        .terminator(csv::Terminator::CRLF)
        .from_writer(b"\xef\xbb\xbf".to_vec());
    for row in rows {
        // Writing to memory cannot fail; every row has the header's length.
        let _ = out.write_record(row);
    }
    out.into_inner().ok().and_then(|b| String::from_utf8(b).ok()).unwrap_or_default()
}

/// A spreadsheet must not run a cell as a formula: names that start like one get a quote.
pub(crate) fn csv_cell(s: &str) -> String {
    let s = s.replace(['\r', '\n'], " ");
    if s.starts_with(['=', '+', '-', '@', '\t']) {
        format!("'{s}")
    } else {
        s
    }
}

pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The start of a report page to print or save as PDF: its style, heading and a line on what it
/// shows. Shared by the indicator and usage reports.
pub(crate) fn html_page(title: &str, heading: &str, intro: &str) -> String {
    format!(
        "<!doctype html><html lang=\"nl\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>body{{font-family:system-ui,sans-serif;margin:2rem;color:#1b1b1b}}\
         table{{border-collapse:collapse;width:100%;margin-bottom:2rem;break-inside:avoid}}\
         th,td{{border:1px solid #999;padding:.35rem .5rem;text-align:left;vertical-align:top}}\
         th{{background:#eef2f0}}td.n{{white-space:nowrap}}.muted{{color:#555}}\
         @media print{{body{{margin:0}}}}</style></head><body><h1>{}</h1><p>{}</p>",
        esc(title),
        esc(heading),
        esc(intro),
    )
}

/// A group's heading and the head of its table: what, this period, the year before.
pub(crate) fn html_group_table(out: &mut String, group: (String, String), what: &str, cur: &str, prev: &str) {
    let _ = write!(
        out,
        "<h2>{} – {}</h2><table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th>\
         <th scope=\"col\">{}</th></tr></thead><tbody>",
        esc(&group.0),
        esc(&group.1),
        esc(what),
        esc(cur),
        esc(prev)
    );
}

fn shares_text(s: &Option<AgreeShares>) -> String {
    s.map_or_else(|| "–".into(), |s| format!("eens {}% · oneens {}% · n.v.t. {}%", s.eens, s.oneens, s.nvt))
}

/// A self-contained page to print or save as PDF from a browser: one table per group, this
/// period next to the year before, like the table of the performance plan.
pub fn to_html(report: &IndicatorReport, made_on: NaiveDate) -> String {
    let texts = item_texts();
    let (cur, prev) = (report.period.label(), report.previous_period.label());
    let mut out = html_page(
        &format!("Indicatoren {cur}"),
        "Indicatoren vragenlijst bij het afsluiten",
        &format!(
            "{cur} naast {prev}. Gemaakt op {}. Groepen met minder dan {MIN_GROUP} antwoorden tonen geen cijfers.",
            made_on.format("%d-%m-%Y")
        ),
    );
    for r in &report.rows {
        html_group_table(&mut out, group_name(r), "Indicator", &cur, &prev);
        let cell = |f: &Figures, i: usize| -> String {
            if f.suppressed {
                return format!("<span class=\"muted\">minder dan {MIN_GROUP} antwoorden</span>");
            }
            if i < CLOSING_ITEMS.len() {
                shares_text(&f.items[i])
            } else {
                f.ratings[i - CLOSING_ITEMS.len()].map_or_else(|| "–".into(), decimal)
            }
        };
        let _ = write!(
            out,
            "<tr><th scope=\"row\">Verstuurde vragenlijsten</th><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            r.current.sent, r.previous.sent
        );
        let answered = |f: &Figures| {
            if f.suppressed {
                format!("minder dan {MIN_GROUP}")
            } else {
                format!("{} ({}%)", f.answered, f.response_rate.unwrap_or(0))
            }
        };
        let _ = write!(
            out,
            "<tr><th scope=\"row\">Ingevuld (respons)</th><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            answered(&r.current),
            answered(&r.previous)
        );
        for (i, text) in texts.iter().enumerate() {
            let _ = write!(
                out,
                "<tr><th scope=\"row\">{}</th><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                esc(text),
                cell(&r.current, i),
                cell(&r.previous, i)
            );
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</body></html>");
    out
}

#[cfg(test)]
mod tests;
