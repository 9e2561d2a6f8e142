//! Berichten: the person's conversation with the coach. Messages are written into the outbox
//! (offline too) and leave at the next contact; the coach's replies arrive by sync.

use chrono::{DateTime, Utc};
use cjg_core::message::MessageDraft;
use cjg_store::{OutboxItem, Store};
use serde::Serialize;
use ts_rs::TS;
use uuid::Uuid;

use super::AppCore;
use crate::Result;

/// How far one's own message got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// In the outbox, waiting for a connection.
    Waiting,
    /// The server refused it for good (`failed` says why); the text is kept.
    Failed,
    /// The server has it.
    Delivered,
    /// The coach opened it.
    Read,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct MessageView {
    pub id: Uuid,
    pub from_coach: bool,
    pub author_name: String,
    pub text: String,
    /// When the server took it in; `None` while it waits in the outbox.
    pub created_at: Option<DateTime<Utc>>,
    /// For one's own messages.
    pub delivery: Option<Delivery>,
    pub failed: Option<String>,
    /// A coach message the person has not seen yet.
    pub new: bool,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct BerichtenView {
    /// Oldest first; waiting messages last.
    pub messages: Vec<MessageView>,
    /// Coach messages not yet seen: the badge.
    pub unread: u32,
}

#[derive(Debug, Clone, Copy, Serialize, TS)]
pub struct MessageSent {
    /// False: kept in the outbox, sent at the next contact.
    pub sent: bool,
}

fn view(store: &Store) -> Result<BerichtenView> {
    let outbox = store.outbox()?;
    let seen: Vec<Uuid> = outbox
        .iter()
        .flat_map(|o| match &o.item {
            OutboxItem::MessagesRead(_, ids) => ids.clone(),
            _ => Vec::new(),
        })
        .collect();
    let mut messages: Vec<MessageView> = store
        .messages()?
        .into_iter()
        .map(|m| {
            let new = m.from_coach && m.read_at.is_none() && !seen.contains(&m.id);
            let delivery = (!m.from_coach).then_some(if m.read_at.is_some() {
                Delivery::Read
            } else {
                Delivery::Delivered
            });
            MessageView {
                id: m.id,
                from_coach: m.from_coach,
                author_name: m.author_name,
                text: m.text,
                created_at: Some(m.created_at),
                delivery,
                failed: None,
                new,
            }
        })
        .collect();
    let me = store.profile()?.display_name;
    for o in outbox {
        if let OutboxItem::Message(d) = o.item {
            messages.push(MessageView {
                id: d.id,
                from_coach: false,
                author_name: me.clone(),
                text: d.text,
                created_at: None,
                delivery: Some(if o.failed.is_some() { Delivery::Failed } else { Delivery::Waiting }),
                failed: o.failed,
                new: false,
            });
        }
    }
    let unread = u32::try_from(messages.iter().filter(|m| m.new).count()).unwrap_or(u32::MAX);
    Ok(BerichtenView { messages, unread })
}

impl AppCore {
    pub async fn berichten(&self) -> Result<BerichtenView> {
        view(&*self.store().await?)
    }

    /// The person has the conversation on screen: the coach's new messages count as read, on
    /// this device at once and on the server at the next contact.
    pub async fn mark_messages_read(&self) -> Result<()> {
        let mut guard = self.store().await?;
        let store = &mut *guard;
        let new: Vec<Uuid> = view(store)?.messages.into_iter().filter(|m| m.new).map(|m| m.id).collect();
        if new.is_empty() {
            return Ok(());
        }
        store.enqueue(&OutboxItem::MessagesRead(Uuid::new_v4(), new))?;
        drop(guard);
        // Offline is fine: the receipt waits in the outbox.
        let _ = self.sync(|_| {}).await;
        Ok(())
    }

    /// Queues the message and syncs; offline it waits and leaves at the next contact.
    pub async fn send_message(&self, text: &str) -> Result<MessageSent> {
        let draft = MessageDraft { id: Uuid::new_v4(), text: text.to_owned() }.validate()?;
        let mut guard = self.store().await?;
        let store = &mut *guard;
        store.enqueue(&OutboxItem::Message(draft.clone()))?;
        drop(guard);
        let sent = self.send_queued(draft.id).await?;
        Ok(MessageSent { sent })
    }

    /// Removes a message the server refused for good, after the person has seen it.
    pub async fn discard_message(&self, id: Uuid) -> Result<()> {
        let mut guard = self.store().await?;
        let store = &mut *guard;
        Ok(store.outbox_sent(id)?)
    }
}
