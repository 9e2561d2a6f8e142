//! Informatie: articles, their revisions and approvals, and reading tips.

use super::sql::{self, params, OptionalExt, Query, QueryExt, Tx};
use chrono::{DateTime, Utc};
use cjg_core::article::{
    Article, ArticleDraft, Language, ReadingTip, RevisionStatus, ShowAt, StaffArticle, StaffTip, TipDraft,
    Topic,
};
use uuid::Uuid;

use super::people::dossier_people;
use super::{bad_text, next_seq, uuid_col, StaffActor};
use super::{StoreError, StoreResult};

fn topics_col(s: &str) -> sql::Result<Vec<Topic>> {
    s.split(',')
        .filter(|t| !t.is_empty())
        .map(|t| Topic::parse(t).ok_or_else(|| bad_text(4, "unknown topic")))
        .collect()
}

fn topics_text(topics: &[Topic]) -> String {
    topics.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(",")
}

const REVISION_COLUMNS: &str =
    "r.title, r.summary, r.body, r.topics, r.age_min, r.age_max, r.source, r.language";

fn draft_at(r: &sql::Row, at: usize) -> sql::Result<ArticleDraft> {
    let topics: String = r.get(at + 3)?;
    let language: String = r.get(at + 7)?;
    Ok(ArticleDraft {
        title: r.get(at)?,
        summary: r.get(at + 1)?,
        body: r.get(at + 2)?,
        topics: topics_col(&topics)?,
        age_min: r.get(at + 4)?,
        age_max: r.get(at + 5)?,
        source: r.get(at + 6)?,
        language: Language::parse(&language).ok_or_else(|| bad_text(at + 7, "unknown language"))?,
    })
}

/// What families get: published, not withdrawn.
fn published_row(r: &sql::Row) -> sql::Result<(Article, i64)> {
    let draft = draft_at(r, 0)?;
    let reading_minutes = draft.reading_minutes();
    Ok((
        Article {
            id: uuid_col(r.get(8)?)?,
            revision: r.get(9)?,
            title: draft.title,
            summary: draft.summary,
            body: draft.body,
            topics: draft.topics,
            age_min: draft.age_min,
            age_max: draft.age_max,
            reading_minutes,
            source: draft.source,
            language: draft.language,
            approved_by: r.get(10)?,
            approved_at: r.get(11)?,
            version: r.get(12)?,
        },
        r.get(13)?,
    ))
}

/// One change of the article feed: the published text, or that there is none any more.
pub enum ArticleChange {
    Published(Article),
    Gone { id: Uuid, version: i64 },
}

pub fn articles_since(conn: &dyn Query, cursor: i64, limit: i64) -> sql::Result<Vec<(ArticleChange, i64)>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {REVISION_COLUMNS}, a.id, a.published_revision, s.display_name, r.approved_at, a.version, a.seq,
                a.withdrawn_at IS NOT NULL
         FROM articles a
         LEFT JOIN article_revisions r ON r.article_id = a.id AND r.revision = a.published_revision
         LEFT JOIN staff s ON s.id = r.approved_by
         WHERE a.seq > ?1 ORDER BY a.seq LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![cursor, limit], |r| {
        let withdrawn: bool = r.get(14)?;
        let revision: Option<u32> = r.get(9)?;
        if withdrawn || revision.is_none() {
            return Ok((ArticleChange::Gone { id: uuid_col(r.get(8)?)?, version: r.get(12)? }, r.get(13)?));
        }
        published_row(r).map(|(a, seq)| (ArticleChange::Published(a), seq))
    })?;
    rows.collect()
}

pub fn staff_articles(conn: &dyn Query) -> sql::Result<Vec<StaffArticle>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {REVISION_COLUMNS}, a.id, r.revision, a.published_revision, a.withdrawn_at IS NOT NULL,
                au.display_name, ap.display_name, r.approved_at
         FROM article_revisions r JOIN articles a ON a.id = r.article_id
         JOIN staff au ON au.id = r.author_id LEFT JOIN staff ap ON ap.id = r.approved_by
         ORDER BY r.title, r.revision"
    ))?;
    let rows = stmt.query_map(params![], |r| {
        let revision: u32 = r.get(9)?;
        let published: Option<u32> = r.get(10)?;
        let approved_at: Option<DateTime<Utc>> = r.get(14)?;
        let draft = draft_at(r, 0)?;
        let status = match (published, approved_at) {
            (Some(p), _) if p == revision => RevisionStatus::Published,
            (_, Some(_)) => RevisionStatus::Replaced,
            _ => RevisionStatus::Draft,
        };
        Ok(StaffArticle {
            id: uuid_col(r.get(8)?)?,
            revision,
            status,
            withdrawn: r.get(11)?,
            text_hash: text_hash(&draft),
            draft,
            author: r.get(12)?,
            approved_by: r.get(13)?,
            approved_at,
        })
    })?;
    rows.collect()
}

fn insert_revision(
    tx: &Tx<'_>,
    id: Uuid,
    revision: u32,
    d: &ArticleDraft,
    author: Uuid,
    now: DateTime<Utc>,
) -> sql::Result<()> {
    tx.execute(
        "INSERT INTO article_revisions (article_id, revision, title, summary, body, topics, age_min, age_max,
             source, language, author_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            id.to_string(),
            revision,
            d.title,
            d.summary,
            d.body,
            topics_text(&d.topics),
            d.age_min,
            d.age_max,
            d.source,
            d.language.as_str(),
            author.to_string(),
            now
        ],
    )?;
    Ok(())
}

/// A new article: revision 1, a draft nobody but staff sees.
pub fn create_article(
    tx: &Tx<'_>,
    author: &StaffActor,
    d: &ArticleDraft,
    now: DateTime<Utc>,
) -> sql::Result<Uuid> {
    let id = Uuid::new_v4();
    // seq 0: not in any family's feed until approved.
    tx.execute(
        "INSERT INTO articles (id, created_at, version, seq) VALUES (?1, ?2, 1, 0)",
        params![id.to_string(), now],
    )?;
    insert_revision(tx, id, 1, d, author.id, now)?;
    Ok(id)
}

/// A change is always a new revision: revisions are never changed or deleted (migration 0012
/// enforces it), so what an editor read is still there, under its number, when they approve it.
/// Families keep the published text until a newer one is approved.
pub fn revise_article(
    tx: &Tx<'_>,
    id: Uuid,
    author: &StaffActor,
    d: &ArticleDraft,
    now: DateTime<Utc>,
) -> StoreResult<u32> {
    let latest: Option<u32> = tx
        .query_row(
            "SELECT MAX(revision) FROM article_revisions WHERE article_id = ?1",
            [id.to_string()],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    let Some(revision) = latest else { return Err(StoreError::NotFound) };
    insert_revision(tx, id, revision + 1, d, author.id, now)?;
    Ok(revision + 1)
}

/// SHA-256 of the text's canonical bytes, lowercase hex: what an approval names.
pub fn text_hash(d: &ArticleDraft) -> String {
    cjg_crypto::chain::hex(&cjg_crypto::sha256(&d.canonical()))
}

/// An editor approves one revision: it becomes what families read. Never one's own text.
pub fn approve(
    tx: &Tx<'_>,
    id: Uuid,
    revision: u32,
    seen_hash: &str,
    editor: &StaffActor,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let row: Option<(String, Option<String>, ArticleDraft)> = tx
        .query_row(
            &format!(
                "SELECT r.author_id, r.approved_at, {REVISION_COLUMNS} FROM article_revisions r
                 WHERE r.article_id = ?1 AND r.revision = ?2"
            ),
            params![id.to_string(), revision],
            |r| Ok((r.get(0)?, r.get(1)?, draft_at(r, 2)?)),
        )
        .optional()?;
    let Some((author, approved, text)) = row else { return Err(StoreError::NotFound) };
    cjg_core::staff::may_approve(editor.role, editor.id, uuid_col(author)?)?;
    if text_hash(&text) != seen_hash {
        return Err(StoreError::conflict("this is not the text you read; open the article again"));
    }
    if approved.is_some() {
        return Err(StoreError::conflict("this revision was already approved"));
    }
    let published: Option<u32> =
        tx.query_row("SELECT published_revision FROM articles WHERE id = ?1", [id.to_string()], |r| {
            r.get(0)
        })?;
    if published.is_some_and(|p| p > revision) {
        return Err(StoreError::conflict("a newer revision is already published"));
    }
    tx.execute(
        "UPDATE article_revisions SET approved_by = ?3, approved_at = ?4 WHERE article_id = ?1 AND revision = ?2",
        params![id.to_string(), revision, editor.id.to_string(), now],
    )?;
    let seq = next_seq(tx)?;
    tx.execute(
        "UPDATE articles SET published_revision = ?2, withdrawn_at = NULL, withdrawn_by = NULL,
             version = version + 1, seq = ?3 WHERE id = ?1",
        params![id.to_string(), revision, seq],
    )?;
    super::wake(tx, crate::push::Wake::Everyone)?;
    Ok(())
}

/// Takes an article away from families (a tombstone in their feed); its history stays.
pub fn withdraw(tx: &Tx<'_>, id: Uuid, editor: &StaffActor, now: DateTime<Utc>) -> StoreResult<()> {
    let seq = next_seq(tx)?;
    let n = tx.execute(
        "UPDATE articles SET withdrawn_at = ?2, withdrawn_by = ?3, version = version + 1, seq = ?4
         WHERE id = ?1 AND withdrawn_at IS NULL",
        params![id.to_string(), now, editor.id.to_string(), seq],
    )?;
    super::wake(tx, crate::push::Wake::Everyone)?;
    if n == 0 {
        let exists: bool =
            tx.query_row("SELECT EXISTS (SELECT 1 FROM articles WHERE id = ?1)", [id.to_string()], |r| {
                r.get(0)
            })?;
        return Err(if exists {
            StoreError::conflict("this article is already withdrawn")
        } else {
            StoreError::NotFound
        });
    }
    Ok(())
}

fn is_live(conn: &dyn Query, id: Uuid) -> sql::Result<Option<bool>> {
    conn.query_row(
        "SELECT published_revision IS NOT NULL AND withdrawn_at IS NULL FROM articles WHERE id = ?1",
        [id.to_string()],
        |r| r.get(0),
    )
    .optional()
}

// ---- reading tips -----------------------------------------------------------------------

const TIP_COLUMNS: &str = "t.id, t.article_id, t.person_id, t.note, t.show_at, s.display_name, t.created_at,
     t.read_at, t.version, t.seq";

fn tip_row(r: &sql::Row) -> sql::Result<(ReadingTip, i64)> {
    let show_at: String = r.get(4)?;
    Ok((
        ReadingTip {
            id: uuid_col(r.get(0)?)?,
            article_id: uuid_col(r.get(1)?)?,
            person_id: uuid_col(r.get(2)?)?,
            note: r.get(3)?,
            show_at: ShowAt::parse(&show_at).ok_or_else(|| bad_text(4, "unknown moment"))?,
            from: r.get(5)?,
            created_at: r.get(6)?,
            read_at: r.get(7)?,
            version: r.get(8)?,
        },
        r.get(9)?,
    ))
}

pub fn create_tip(
    tx: &Tx<'_>,
    dossier_id: Uuid,
    actor: &StaffActor,
    d: &TipDraft,
    now: DateTime<Utc>,
) -> StoreResult<ReadingTip> {
    if !dossier_people(tx, dossier_id)?.iter().any(|p| p.id == d.person_id) {
        return Err(StoreError::NotFound);
    }
    match is_live(tx, d.article_id)? {
        None => return Err(StoreError::invalid("no such article")),
        Some(false) => return Err(StoreError::invalid("this article is not approved or was withdrawn")),
        Some(true) => {}
    }
    let id = Uuid::new_v4();
    let seq = next_seq(tx)?;
    tx.execute(
        "INSERT INTO reading_tips (id, dossier_id, person_id, article_id, note, show_at, created_by, created_at,
             version, seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9)",
        params![
            id.to_string(),
            dossier_id.to_string(),
            d.person_id.to_string(),
            d.article_id.to_string(),
            d.note,
            d.show_at.as_str(),
            actor.id.to_string(),
            now,
            seq
        ],
    )?;
    refresh_tips(tx, dossier_id, now)?;
    Ok(tip(tx, id)?.ok_or(StoreError::NotFound)?.0)
}

fn tip(conn: &dyn Query, id: Uuid) -> sql::Result<Option<(ReadingTip, bool)>> {
    conn.query_row(
        &format!("SELECT {TIP_COLUMNS}, t.shown FROM reading_tips t JOIN staff s ON s.id = t.created_by WHERE t.id = ?1"),
        [id.to_string()],
        |r| Ok((tip_row(r)?.0, r.get(10)?)),
    )
    .optional()
}

/// Shows the tips whose moment came (a new seq puts them in the feed).
pub fn refresh_tips(tx: &Tx<'_>, dossier_id: Uuid, now: DateTime<Utc>) -> sql::Result<()> {
    let trajectory = super::questionnaires::trajectory(tx, dossier_id)?;
    let waiting: Vec<(String, String)> = {
        let mut stmt =
            tx.prepare("SELECT id, show_at FROM reading_tips WHERE dossier_id = ?1 AND shown = 0")?;
        let rows = stmt.query_map([dossier_id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<sql::Result<_>>()?
    };
    for (id, show_at) in waiting {
        let at = ShowAt::parse(&show_at).ok_or_else(|| bad_text(1, "unknown moment"))?;
        if at.reached(trajectory.as_ref(), cjg_core::time::dutch_date(now)) {
            let seq = next_seq(tx)?;
            tx.execute(
                "UPDATE reading_tips SET shown = 1, version = version + 1, seq = ?2 WHERE id = ?1",
                params![id, seq],
            )?;
        }
    }
    Ok(())
}

pub fn tips_since(
    conn: &dyn Query,
    person_id: Uuid,
    cursor: i64,
    limit: i64,
) -> sql::Result<Vec<(ReadingTip, i64)>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {TIP_COLUMNS} FROM reading_tips t JOIN staff s ON s.id = t.created_by
         WHERE t.person_id = ?1 AND t.shown = 1 AND t.seq > ?2 ORDER BY t.seq LIMIT ?3"
    ))?;
    let rows = stmt.query_map(params![person_id.to_string(), cursor, limit], tip_row)?;
    rows.collect()
}

/// The person opened the tip's article: the coach sees it was read.
pub fn mark_tip_read(tx: &Tx<'_>, person_id: Uuid, id: Uuid, now: DateTime<Utc>) -> StoreResult<ReadingTip> {
    let owner: Option<(String, bool)> = tx
        .query_row("SELECT person_id, shown FROM reading_tips WHERE id = ?1", [id.to_string()], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    match owner {
        Some((p, true)) if p == person_id.to_string() => {}
        _ => return Err(StoreError::NotFound),
    }
    let seq = next_seq(tx)?;
    tx.execute(
        "UPDATE reading_tips SET read_at = COALESCE(read_at, ?2), version = version + 1, seq = ?3 WHERE id = ?1",
        params![id.to_string(), now, seq],
    )?;
    Ok(tip(tx, id)?.ok_or(StoreError::NotFound)?.0)
}

pub fn dossier_tips(conn: &dyn Query, dossier_id: Uuid) -> sql::Result<Vec<StaffTip>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {TIP_COLUMNS}, t.shown, p.display_name,
                (SELECT r.title FROM article_revisions r WHERE r.article_id = t.article_id
                 ORDER BY r.approved_at IS NULL, r.revision DESC LIMIT 1),
                a.withdrawn_at IS NOT NULL
         FROM reading_tips t JOIN staff s ON s.id = t.created_by JOIN people p ON p.id = t.person_id
         JOIN articles a ON a.id = t.article_id
         WHERE t.dossier_id = ?1 ORDER BY t.created_at"
    ))?;
    let rows = stmt.query_map([dossier_id.to_string()], |r| {
        Ok(StaffTip {
            tip: tip_row(r)?.0,
            shown: r.get(10)?,
            person_name: r.get(11)?,
            article_title: r.get(12)?,
            article_withdrawn: r.get(13)?,
        })
    })?;
    rows.collect()
}
