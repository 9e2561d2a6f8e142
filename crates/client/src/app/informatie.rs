//! Informatie: the approved articles on this device, searched offline, and the coach's tips.

use cjg_core::article::{self, Article, ReadingTip, Topic};
use cjg_core::markdown::{self, Block};
use cjg_store::OutboxItem;
use serde::Serialize;
use ts_rs::TS;
use uuid::Uuid;

use super::AppCore;
use crate::{ClientError, Result};

#[derive(Debug, Clone, Serialize, TS)]
pub struct ArticleSummary {
    pub id: Uuid,
    pub title: String,
    pub summary: String,
    pub topics: Vec<Topic>,
    pub age_min: u8,
    pub age_max: u8,
    pub reading_minutes: u32,
    /// The person marked it as useful (kept on this device).
    pub useful: bool,
}

impl From<&Article> for ArticleSummary {
    fn from(a: &Article) -> Self {
        Self {
            id: a.id,
            title: a.title.clone(),
            summary: a.summary.clone(),
            topics: a.topics.clone(),
            age_min: a.age_min,
            age_max: a.age_max,
            reading_minutes: a.reading_minutes,
            useful: false,
        }
    }
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct TipView {
    pub tip: ReadingTip,
    pub article: ArticleSummary,
    /// Opened on this device (perhaps not yet told to the server).
    pub read: bool,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct InformatieView {
    /// The coach's tips whose article is here, newest first.
    pub tips: Vec<TipView>,
    /// Matches of the search and filters, best first.
    pub articles: Vec<ArticleSummary>,
    /// Topics that occur in the library, for the filter.
    pub topics: Vec<Topic>,
    /// Articles on the device in all.
    pub total: u32,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ArticleView {
    pub article: Article,
    pub blocks: Vec<Block>,
    /// The coach's tips that point here.
    pub tips: Vec<ReadingTip>,
    pub useful: bool,
}

pub const QUERY_MAX: usize = 200;

impl AppCore {
    /// Searches offline: case and diacritics do not matter; a title hit ranks first. `age`
    /// keeps articles whose age range holds that age; `only_useful` those the person marked.
    pub async fn informatie(
        &self,
        query: &str,
        topic: Option<Topic>,
        age: Option<u8>,
        only_useful: bool,
    ) -> Result<InformatieView> {
        if query.chars().count() > QUERY_MAX {
            return Err(ClientError::Validation(cjg_core::validate::ValidationError::TooLong {
                field: "query",
                max: QUERY_MAX,
            }));
        }
        let guard = self.store().await?;
        let store = &*guard;
        let all = store.articles()?;
        let useful = store.useful_articles()?;
        let summary = |a: &Article| ArticleSummary { useful: useful.contains(&a.id), ..a.into() };
        let opened: Vec<Uuid> = store
            .outbox()?
            .into_iter()
            .filter_map(|o| match o.item {
                OutboxItem::TipRead(id) => Some(id),
                _ => None,
            })
            .collect();
        let tips = store
            .tips()?
            .into_iter()
            .filter_map(|tip| {
                let a = all.iter().find(|a| a.id == tip.article_id)?;
                let read = tip.read_at.is_some() || opened.contains(&tip.id);
                Some(TipView { article: summary(a), read, tip })
            })
            .collect();
        let mut topics: Vec<Topic> = all.iter().flat_map(|a| a.topics.iter().copied()).collect();
        topics.sort_unstable();
        topics.dedup();
        let articles = article::search(&all, query)
            .into_iter()
            .filter(|a| topic.is_none_or(|t| a.topics.contains(&t)))
            .filter(|a| age.is_none_or(|x| a.age_min <= x && x <= a.age_max))
            .filter(|a| !only_useful || useful.contains(&a.id))
            .map(summary)
            .collect();
        Ok(InformatieView { tips, articles, topics, total: u32::try_from(all.len()).unwrap_or(u32::MAX) })
    }

    /// One article, rendered safely. Opening it marks the coach's tips for it as read: queued in
    /// the outbox and sent at the next contact.
    pub async fn article(&self, id: Uuid) -> Result<Option<ArticleView>> {
        let mut guard = self.store().await?;
        let store = &mut *guard;
        let Some(article) = store.articles()?.into_iter().find(|a| a.id == id) else { return Ok(None) };
        let tips: Vec<ReadingTip> = store.tips()?.into_iter().filter(|t| t.article_id == id).collect();
        let mut queued = false;
        for t in tips.iter().filter(|t| t.read_at.is_none()) {
            store.enqueue(&OutboxItem::TipRead(t.id))?;
            queued = true;
        }
        let useful = store.useful_articles()?.contains(&id);
        drop(guard);
        if queued {
            // Best effort: a sync sends the mark and brings the tip back as read. Offline (or any
            // failure) the mark waits in the outbox for the next contact.
            let _ = self.sync(|_| {}).await;
        }
        Ok(Some(ArticleView { blocks: markdown::render(&article.body), article, tips, useful }))
    }

    /// Marks an article as useful for this person, or takes the mark away. Local only.
    pub async fn set_article_useful(&self, id: Uuid, useful: bool) -> Result<()> {
        let mut guard = self.store().await?;
        let store = &mut *guard;
        // An article withdrawn meanwhile is gone from the device: nothing left to mark.
        if useful && !store.articles()?.iter().any(|a| a.id == id) {
            return Ok(());
        }
        store.set_useful(id, useful)?;
        Ok(())
    }
}
