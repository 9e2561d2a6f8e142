//! Informatie: approved parenting information. An article has revisions; only an approved one
//! reaches families, approved by someone other than its author. Search folds case and
//! diacritics, and ranks a hit in the title above one in the text.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use unicode_normalization::UnicodeNormalization;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::validate::{multi_line, single_line, ValidationError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    Slapen,
    Schermtijd,
    Driftbuien,
    Scheiding,
    Puberteit,
    School,
    Eten,
    BroersEnZussen,
    Zindelijkheid,
    Pesten,
    OuderZijn,
}

impl Topic {
    pub const ALL: [Topic; 11] = [
        Self::Slapen,
        Self::Schermtijd,
        Self::Driftbuien,
        Self::Scheiding,
        Self::Puberteit,
        Self::School,
        Self::Eten,
        Self::BroersEnZussen,
        Self::Zindelijkheid,
        Self::Pesten,
        Self::OuderZijn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Slapen => "slapen",
            Self::Schermtijd => "schermtijd",
            Self::Driftbuien => "driftbuien",
            Self::Scheiding => "scheiding",
            Self::Puberteit => "puberteit",
            Self::School => "school",
            Self::Eten => "eten",
            Self::BroersEnZussen => "broers_en_zussen",
            Self::Zindelijkheid => "zindelijkheid",
            Self::Pesten => "pesten",
            Self::OuderZijn => "ouder_zijn",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    Nl,
    En,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nl => "nl",
            Self::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Nl, Self::En].into_iter().find(|l| l.as_str() == s)
    }
}

pub const TITLE_MAX: usize = 120;
pub const SUMMARY_MAX: usize = 300;
pub const BODY_MAX: usize = 20_000;
pub const SOURCE_MAX: usize = 200;
pub const TOPICS_MAX: usize = 4;
/// Children and youths the CJG helps: up to 23.
pub const AGE_MAX: u8 = 23;

/// What an author writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct ArticleDraft {
    pub title: String,
    pub summary: String,
    /// The markdown subset of [`crate::markdown`]: no HTML, no links, no images ever reach the screen.
    pub body: String,
    pub topics: Vec<Topic>,
    pub age_min: u8,
    pub age_max: u8,
    pub source: String,
    pub language: Language,
}

impl ArticleDraft {
    /// Every field of the text in a fixed, unambiguous order: what an editor's approval is for.
    /// The server and the staff app hash these bytes (SHA-256) to name exactly the text read.
    pub fn canonical(&self) -> Vec<u8> {
        let mut c = crate::audit::Canonical::new("mijn-cjg/article-text/v1");
        c.field(self.title.as_bytes()).field(self.summary.as_bytes()).field(self.body.as_bytes());
        for t in &self.topics {
            c.field(t.as_str().as_bytes());
        }
        c.field(b"\0topics-end")
            .field(&[self.age_min, self.age_max])
            .field(self.source.as_bytes())
            .field(self.language.as_str().as_bytes());
        c.0
    }

    pub fn validate(mut self) -> Result<Self, ValidationError> {
        self.title = single_line("title", &self.title, TITLE_MAX)?;
        self.summary = single_line("summary", &self.summary, SUMMARY_MAX)?;
        self.body = multi_line("body", &self.body, BODY_MAX)?;
        self.source = single_line("source", &self.source, SOURCE_MAX)?;
        self.topics.sort_unstable();
        self.topics.dedup();
        if self.topics.is_empty() {
            return Err(ValidationError::Empty { field: "topics" });
        }
        if self.topics.len() > TOPICS_MAX {
            return Err(ValidationError::Invalid { field: "topics", reason: "at most 4 topics" });
        }
        if self.age_min > self.age_max || self.age_max > AGE_MAX {
            return Err(ValidationError::Invalid {
                field: "age_max",
                reason: "ages run from 0 to 23, low to high",
            });
        }
        Ok(self)
    }

    /// Minutes at 200 words a minute, at least one.
    pub fn reading_minutes(&self) -> u32 {
        let words = self.body.split_whitespace().count() + self.summary.split_whitespace().count();
        u32::try_from(words.div_ceil(200)).unwrap_or(u32::MAX).max(1)
    }
}

/// An approved article as families get it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct Article {
    pub id: Uuid,
    /// Which approved text this is; a replacement gets a higher one.
    pub revision: u32,
    pub title: String,
    pub summary: String,
    pub body: String,
    pub topics: Vec<Topic>,
    pub age_min: u8,
    pub age_max: u8,
    pub reading_minutes: u32,
    pub source: String,
    pub language: Language,
    pub approved_by: String,
    pub approved_at: DateTime<Utc>,
    #[ts(type = "number")]
    pub version: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum RevisionStatus {
    /// Written, waiting for an editor.
    Draft,
    /// What families read now.
    Published,
    /// Was published, replaced by a later approved revision.
    Replaced,
}

/// One revision as the editorial side sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct StaffArticle {
    pub id: Uuid,
    pub revision: u32,
    pub status: RevisionStatus,
    /// The whole article is withdrawn: families no longer see any revision.
    pub withdrawn: bool,
    pub draft: ArticleDraft,
    /// SHA-256 of [`ArticleDraft::canonical`], lowercase hex: the staff app sends it back with
    /// an approval, so the approval is for exactly the text the editor was shown.
    pub text_hash: String,
    pub author: String,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveRequest {
    /// The revision the editor read: approving is for that text, not whatever is latest.
    pub revision: u32,
    /// [`StaffArticle::text_hash`] of the text shown: the server refuses the approval when the
    /// revision holds anything else.
    pub text_hash: String,
}

// ---- reading tips ---------------------------------------------------------------------------

/// When a reading tip shows up for the family member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum ShowAt {
    Now,
    /// Once the interim evaluation is due (three months after the start).
    Tussentijds,
    /// Once the trajectory is closed.
    Eind,
}

impl ShowAt {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Now => "now",
            Self::Tussentijds => "tussentijds",
            Self::Eind => "eind",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Now, Self::Tussentijds, Self::Eind].into_iter().find(|x| x.as_str() == s)
    }

    /// Whether the tip shows on `today` for a trajectory with these dates.
    pub fn reached(self, t: Option<&crate::questionnaire::Trajectory>, today: NaiveDate) -> bool {
        match (self, t) {
            (Self::Now, _) => true,
            (Self::Tussentijds, Some(t)) => {
                t.started_on.checked_add_months(chrono::Months::new(3)).is_some_and(|d| d <= today)
            }
            (Self::Eind, Some(t)) => t.closed_on.is_some_and(|d| d <= today),
            (_, None) => false,
        }
    }
}

pub const TIP_NOTE_MAX: usize = 300;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TipDraft {
    pub person_id: Uuid,
    pub article_id: Uuid,
    pub note: String,
    pub show_at: ShowAt,
}

impl TipDraft {
    /// A tip may come without a note; a note is one line.
    pub fn validate(mut self) -> Result<Self, ValidationError> {
        self.note = self.note.trim().to_owned();
        if !self.note.is_empty() {
            self.note = single_line("note", &self.note, TIP_NOTE_MAX)?;
        }
        Ok(self)
    }
}

/// A coach's reading tip for one family member, as synced to them (once its moment came).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct ReadingTip {
    pub id: Uuid,
    pub article_id: Uuid,
    pub person_id: Uuid,
    pub note: String,
    pub show_at: ShowAt,
    pub from: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
    #[ts(type = "number")]
    pub version: i64,
}

/// A tip as the coach sees it: whether it shows yet, whether it was read, whether its article
/// is still there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct StaffTip {
    pub tip: ReadingTip,
    pub person_name: String,
    pub article_title: String,
    pub shown: bool,
    pub article_withdrawn: bool,
}

// ---- search ---------------------------------------------------------------------------------

/// Lower case without diacritics: "Ruzië" and "ruzie" fold to the same text.
pub fn fold(s: &str) -> String {
    s.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Articles matching every word of `query`, best first: a word in the title counts most, then
/// in the summary, then in the text; equal scores in title order. An empty query matches all.
pub fn search<'a>(articles: &'a [Article], query: &str) -> Vec<&'a Article> {
    let words: Vec<String> = fold(query).split_whitespace().map(str::to_owned).collect();
    let mut hits: Vec<(u32, String, &Article)> = articles
        .iter()
        .filter_map(|a| {
            let (title, summary, body) = (fold(&a.title), fold(&a.summary), fold(&a.body));
            let mut score = 0;
            for w in &words {
                let s = 10 * u32::from(title.contains(w.as_str()))
                    + 3 * u32::from(summary.contains(w.as_str()))
                    + u32::from(body.contains(w.as_str()));
                if s == 0 {
                    return None;
                }
                score += s;
            }
            Some((score, title, a))
        })
        .collect();
    hits.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    hits.into_iter().map(|(_, _, a)| a).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn article(title: &str, summary: &str, body: &str) -> Article {
        Article {
            id: Uuid::new_v4(),
            revision: 1,
            title: title.into(),
            summary: summary.into(),
            body: body.into(),
            topics: vec![Topic::Puberteit],
            age_min: 12,
            age_max: 18,
            reading_minutes: 1,
            source: "CJG Demostad (demotekst)".into(),
            language: Language::Nl,
            approved_by: "Demo".into(),
            approved_at: Utc::now(),
            version: 1,
        }
    }

    #[test]
    fn every_field_of_the_text_changes_what_an_approval_names() {
        let d = ArticleDraft {
            title: "Slapen".into(),
            summary: "Over bedtijd".into(),
            body: "Tekst".into(),
            topics: vec![Topic::Puberteit],
            age_min: 12,
            age_max: 18,
            source: "CJG Demostad (demotekst)".into(),
            language: Language::Nl,
        };
        let variants = [
            ArticleDraft { title: "Slapen!".into(), ..d.clone() },
            ArticleDraft { summary: "Over bedtijd!".into(), ..d.clone() },
            ArticleDraft { body: "Tekst!".into(), ..d.clone() },
            ArticleDraft { topics: vec![], ..d.clone() },
            ArticleDraft { age_min: 11, ..d.clone() },
            ArticleDraft { age_max: 17, ..d.clone() },
            ArticleDraft { source: "Elders".into(), ..d.clone() },
            ArticleDraft { language: Language::En, ..d.clone() },
            // Moving text from one field to the next is a different text too.
            ArticleDraft { title: "SlapenOver bedtijd".into(), summary: String::new(), ..d.clone() },
        ];
        for v in &variants {
            assert_ne!(v.canonical(), d.canonical(), "{v:?}");
        }
    }

    #[test]
    fn folding_ignores_case_and_diacritics() {
        assert_eq!(fold("Ruzië"), "ruzie");
        assert_eq!(fold("RUZIE"), "ruzie");
        assert_eq!(fold("Crèche, één, coöperatie, Ångström"), "creche, een, cooperatie, angstrom");
        assert_eq!(fold("ĲSSELMEER"), fold("ĳsselmeer"));
    }

    #[test]
    fn search_finds_with_or_without_accents_and_ranks_title_first() {
        let list = [
            article("Slapen", "Over bedtijd", "Soms is er ruzie over de bedtijd."),
            article("Ruzië thuis", "Wat doe je bij ruzie?", "Tips."),
            article("Puberteit", "Ruzie met je puber", "Veel praten."),
            article("Eten", "Kieskeurig", "Niets over conflicten."),
        ];
        let titles = |q: &str| search(&list, q).into_iter().map(|a| a.title.clone()).collect::<Vec<_>>();
        assert_eq!(titles("ruzie"), ["Ruzië thuis", "Puberteit", "Slapen"]);
        assert_eq!(titles("RUZIË"), titles("ruzie"));
        assert_eq!(titles("ruzie bedtijd"), ["Slapen"], "every word must match");
        assert_eq!(titles("").len(), 4);
        assert!(titles("zwemles").is_empty());
    }

    #[test]
    fn drafts_are_checked() {
        let ok = ArticleDraft {
            title: " Slapen ".into(),
            summary: "Kort".into(),
            body: "Tekst".into(),
            topics: vec![Topic::Slapen, Topic::Slapen],
            age_min: 0,
            age_max: 4,
            source: "CJG Demostad".into(),
            language: Language::Nl,
        };
        let v = ok.clone().validate().unwrap();
        assert_eq!((v.title.as_str(), v.topics.len()), ("Slapen", 1));
        assert!(ArticleDraft { topics: vec![], ..ok.clone() }.validate().is_err());
        assert!(ArticleDraft { age_min: 5, age_max: 4, ..ok.clone() }.validate().is_err());
        assert!(ArticleDraft { age_max: 40, ..ok.clone() }.validate().is_err());
        assert!(ArticleDraft { body: "x".repeat(BODY_MAX + 1), ..ok.clone() }.validate().is_err());
        assert!(ArticleDraft { title: "a\nb".into(), ..ok.clone() }.validate().is_err());
        assert_eq!(ArticleDraft { body: "woord ".repeat(401), ..ok }.reading_minutes(), 3);
    }

    #[test]
    fn tips_show_at_their_moment() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let t = crate::questionnaire::Trajectory { started_on: d("2026-01-10"), closed_on: None };
        assert!(ShowAt::Now.reached(None, d("2026-01-01")));
        assert!(!ShowAt::Tussentijds.reached(Some(&t), d("2026-04-09")));
        assert!(ShowAt::Tussentijds.reached(Some(&t), d("2026-04-10")));
        assert!(!ShowAt::Eind.reached(Some(&t), d("2027-01-01")));
        let closed = crate::questionnaire::Trajectory { closed_on: Some(d("2026-09-01")), ..t };
        assert!(ShowAt::Eind.reached(Some(&closed), d("2026-09-01")));
    }
}
