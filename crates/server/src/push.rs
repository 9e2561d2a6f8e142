//! "Sync now": the content-free signal an open app waits for, so a coach's answer reaches it
//! within a second instead of at the next quiet sync.
//!
//! A transaction that gives a person something new to sync (a line in their access log, which
//! every staff write and read about what they may see adds; an article for everyone) marks the
//! person with [`crate::db::wake`]. After the commit the signal reaches every connection of that
//! person: directly on SQLite (one process), and through PostgreSQL's `NOTIFY`, which is sent at
//! commit, to every instance on the database (each one `LISTEN`s), so an entry written on one
//! instance wakes an app connected to another. A signal carries nothing but "sync now"; the
//! app's cursor decides what it gets, so a missed signal loses nothing.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use uuid::Uuid;

/// Open connections one person may keep (a phone, a laptop, a tablet, with room to reconnect).
pub const CONNECTIONS_PER_PERSON: usize = 8;

/// Who a committed change concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    Person(Uuid),
    Everyone,
}

impl Wake {
    /// The `NOTIFY` payload: a person id, or `*`.
    pub fn payload(self) -> String {
        match self {
            Wake::Person(id) => id.to_string(),
            Wake::Everyone => "*".into(),
        }
    }

    pub fn from_payload(payload: &str) -> Option<Self> {
        match payload {
            "*" => Some(Wake::Everyone),
            id => Uuid::parse_str(id).ok().map(Wake::Person),
        }
    }
}

struct Person {
    signal: watch::Sender<u64>,
    connections: usize,
}

/// The open connections, per person. Memory is bounded by the connections: a person's slot is
/// removed when their last connection closes.
pub struct Signals {
    persons: Mutex<HashMap<Uuid, Person>>,
    everyone: watch::Sender<u64>,
    closing: watch::Sender<bool>,
    open: AtomicUsize,
    max_open: usize,
}

impl Signals {
    pub fn new(max_open: usize) -> Arc<Self> {
        Arc::new(Self {
            persons: Mutex::default(),
            everyone: watch::Sender::new(0),
            closing: watch::Sender::new(false),
            open: AtomicUsize::new(0),
            max_open,
        })
    }

    pub fn wake(&self, wake: Wake) {
        match wake {
            Wake::Everyone => self.everyone.send_modify(|n| *n = n.wrapping_add(1)),
            Wake::Person(id) => {
                if let Ok(persons) = self.persons.lock() {
                    if let Some(p) = persons.get(&id) {
                        p.signal.send_modify(|n| *n = n.wrapping_add(1));
                    }
                }
            }
        }
    }

    /// A connection for `person`, or `None` when they (or the server) have too many open, or
    /// the server is stopping.
    pub fn subscribe(self: &Arc<Self>, person: Uuid) -> Option<Subscription> {
        let mut persons = self.persons.lock().ok()?;
        if self.is_closing() || self.open.load(Ordering::Relaxed) >= self.max_open {
            return None;
        }
        let slot =
            persons.entry(person).or_insert_with(|| Person { signal: watch::Sender::new(0), connections: 0 });
        if slot.connections >= CONNECTIONS_PER_PERSON {
            return None;
        }
        slot.connections += 1;
        self.open.fetch_add(1, Ordering::Relaxed);
        Some(Subscription {
            person,
            mine: slot.signal.subscribe(),
            everyone: self.everyone.subscribe(),
            closing: self.closing.subscribe(),
            signals: self.clone(),
        })
    }

    /// Open connections now (for the benchmarks and the log).
    pub fn open_connections(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// Ends every connection: the server is stopping, and a graceful shutdown waits for them.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    pub fn is_closing(&self) -> bool {
        *self.closing.borrow()
    }
}

/// One open connection's view of the signals.
pub struct Subscription {
    person: Uuid,
    mine: watch::Receiver<u64>,
    everyone: watch::Receiver<u64>,
    closing: watch::Receiver<bool>,
    signals: Arc<Signals>,
}

impl Subscription {
    /// Waits for the next signal: `true` for "sync now", `false` when the connection should end
    /// (the server is stopping, or `until` passed). Signals that came while the app was busy
    /// syncing fold into one.
    pub async fn next(&mut self, until: tokio::time::Instant) -> bool {
        if *self.closing.borrow() {
            return false;
        }
        tokio::select! {
            changed = self.mine.changed() => changed.is_ok(),
            changed = self.everyone.changed() => changed.is_ok(),
            _ = self.closing.changed() => false,
            () = tokio::time::sleep_until(until) => false,
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.signals.open.fetch_sub(1, Ordering::Relaxed);
        if let Ok(mut persons) = self.signals.persons.lock() {
            if let Some(p) = persons.get_mut(&self.person) {
                p.connections = p.connections.saturating_sub(1);
                if p.connections == 0 {
                    persons.remove(&self.person);
                }
            }
        }
    }
}

/// How long one connection stays open at most: the app then connects again with a fresh
/// token, so a revoked device or an ended token stops receiving signals within this time.
pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(10 * 60);

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_signal_reaches_only_its_person_and_slots_are_freed() {
        let signals = Signals::new(100);
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let mut sa = signals.subscribe(a).expect("room");
        let mut sb = signals.subscribe(b).expect("room");
        signals.wake(Wake::Person(a));
        let soon = || tokio::time::Instant::now() + Duration::from_millis(50);
        assert!(sa.next(soon()).await);
        assert!(!sb.next(soon()).await, "b heard nothing");
        signals.wake(Wake::Everyone);
        assert!(sb.next(soon()).await);
        drop(sa);
        drop(sb);
        assert_eq!(signals.open_connections(), 0);
        assert!(signals.persons.lock().expect("lock").is_empty(), "no slot left behind");
    }

    #[tokio::test]
    async fn connections_are_capped_per_person_and_in_all() {
        let signals = Signals::new(CONNECTIONS_PER_PERSON + 1);
        let a = Uuid::new_v4();
        let held: Vec<_> = (0..CONNECTIONS_PER_PERSON).filter_map(|_| signals.subscribe(a)).collect();
        assert_eq!(held.len(), CONNECTIONS_PER_PERSON);
        assert!(signals.subscribe(a).is_none(), "per person");
        let other = signals.subscribe(Uuid::new_v4()).expect("room for another");
        assert!(signals.subscribe(Uuid::new_v4()).is_none(), "in all");
        drop(other);
        assert!(signals.subscribe(Uuid::new_v4()).is_some());
    }

    #[tokio::test]
    async fn closing_ends_every_connection() {
        let signals = Signals::new(10);
        let mut s = signals.subscribe(Uuid::new_v4()).expect("room");
        signals.close();
        assert!(!s.next(tokio::time::Instant::now() + Duration::from_secs(5)).await);
    }

    #[test]
    fn payloads_round_trip() {
        let id = Uuid::new_v4();
        assert_eq!(Wake::from_payload(&Wake::Person(id).payload()), Some(Wake::Person(id)));
        assert_eq!(Wake::from_payload("*"), Some(Wake::Everyone));
        assert_eq!(Wake::from_payload("iets anders"), None);
    }
}
