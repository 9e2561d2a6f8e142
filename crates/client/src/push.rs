//! The app's end of "sync now" (the server's is `crates/server/src/push.rs`): one long
//! server-sent-events request that tells an open app to sync, and the waits between attempts
//! when it drops.

use std::pin::Pin;
use std::time::Duration;

use futures_util::{Stream, StreamExt};

use crate::{Client, ClientError, Result};

/// What the push connection says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Connected: whatever changed while the app was not listening is fetched now.
    Ready,
    /// Something new for this person: sync.
    Sync,
}

/// The server comments every 25 s to keep proxies from closing an idle connection; silence
/// for longer than this means the connection is gone even if no error said so.
const SILENCE: Duration = Duration::from_secs(60);

/// The server ends a connection after 10 minutes; this only stops a request that hangs.
const LONGEST: Duration = Duration::from_secs(11 * 60);

type EventStream = Pin<
    Box<
        dyn Stream<
                Item = std::result::Result<
                    eventsource_stream::Event,
                    eventsource_stream::EventStreamError<reqwest::Error>,
                >,
            > + Send,
    >,
>;

/// An open push connection.
pub struct Events {
    stream: EventStream,
}

impl Client {
    /// Opens the push connection for the device whose token this is.
    pub async fn events(&self, token: &str) -> Result<Events> {
        use eventsource_stream::Eventsource;
        let resp = self
            .http
            .get(format!("{}/v1/me/events", self.base))
            .bearer_auth(token)
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .timeout(LONGEST)
            .send()
            .await
            .map_err(|e| ClientError::Unreachable(crate::without_url(e)))?;
        let status = resp.status();
        if !status.is_success() {
            let body = crate::read_body(resp, crate::SMALL_RESPONSE).await?;
            return Err(crate::error_answer(status, &body));
        }
        Ok(Events { stream: Box::pin(resp.bytes_stream().eventsource()) })
    }
}

impl Events {
    /// The next signal; `Ok(None)` when the server ended the connection.
    pub async fn next(&mut self) -> Result<Option<Signal>> {
        loop {
            let event = tokio::time::timeout(SILENCE, self.stream.next())
                .await
                .map_err(|_| ClientError::Unreachable("the push connection went silent".into()))?;
            match event {
                None => return Ok(None),
                Some(Err(e)) => return Err(ClientError::Unreachable(format!("push connection: {e}"))),
                Some(Ok(e)) if e.event == "ready" => return Ok(Some(Signal::Ready)),
                Some(Ok(e)) if e.event == "sync" => return Ok(Some(Signal::Sync)),
                // An event this app does not know (a newer server): nothing to do.
                Some(Ok(_)) => {}
            }
        }
    }
}

/// How long to wait before connecting again after `failures` failed attempts in a row: doubling
/// from one second up to a minute, each wait a random point in its upper half, so apps cut off
/// by the same restart do not all return in the same second.
pub fn reconnect_delay(failures: u32, random: f64) -> Duration {
    let ceiling = Duration::from_secs(1u64 << failures.min(6)).min(Duration::from_secs(60));
    ceiling.mul_f64(0.5 + 0.5 * random.clamp(0.0, 1.0))
}

/// A number in [0, 1) from the OS random source, for the jitter.
pub(crate) fn jitter() -> f64 {
    // A v4 UUID is 122 random bits from getrandom; its lowest 62 bits are all random (the
    // version and variant bits sit above them), and 53 of them make a uniform f64.
    (uuid::Uuid::new_v4().as_u128() & ((1u128 << 53) - 1)) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_to_a_minute_with_jitter_in_the_upper_half() {
        assert_eq!(reconnect_delay(0, 1.0), Duration::from_secs(1));
        assert_eq!(reconnect_delay(0, 0.0), Duration::from_millis(500));
        assert_eq!(reconnect_delay(3, 1.0), Duration::from_secs(8));
        assert_eq!(reconnect_delay(40, 1.0), Duration::from_secs(60));
        assert_eq!(reconnect_delay(40, 0.0), Duration::from_secs(30));
        let j = jitter();
        assert!((0.0..1.0).contains(&j));
    }
}
