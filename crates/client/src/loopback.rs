//! The app's side of the sign-in at the organisation (RFC 8252, native apps): a one-time
//! listener on this computer's loopback address that receives the browser when the server is
//! done with the provider. The browser brings only a handoff code; the password was typed on
//! the provider's own page and never reaches the app.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::{ClientError, Result};

/// The path the server sends the browser to.
const PATH: &str = "/mijn-cjg/klaar";
/// A request line and headers larger than this are not a browser coming back.
const MAX_REQUEST: usize = 16 * 1024;

/// What came back from the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Returned {
    Handoff(String),
    /// The server's error code (`no_staff_role`, `organisation_sign_in_failed`).
    Error(String),
}

pub struct Loopback {
    listener: TcpListener,
    pub return_to: String,
}

impl Loopback {
    /// A listener on a free port of 127.0.0.1 (an IP literal, not `localhost`).
    pub async fn open() -> Result<Self> {
        let listener =
            TcpListener::bind("127.0.0.1:0").await.map_err(|e| ClientError::Unreachable(e.to_string()))?;
        let port = listener.local_addr().map_err(|e| ClientError::Unreachable(e.to_string()))?.port();
        Ok(Self { listener, return_to: format!("http://127.0.0.1:{port}{PATH}") })
    }

    /// Waits for the browser (at most `within`), answers it with a short page in Dutch, and
    /// says what it brought. Other requests (a favicon, a stray probe) get 404 and are ignored.
    pub async fn wait(self, within: Duration) -> Result<Returned> {
        tokio::time::timeout(within, async {
            loop {
                let Ok((mut stream, _)) = self.listener.accept().await else { continue };
                let Some(target) = read_target(&mut stream).await else { continue };
                let Some(returned) = parse_target(&target) else {
                    let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
                    continue;
                };
                let text = match returned {
                    Returned::Handoff(_) => "U bent ingelogd. Sluit dit venster en ga terug naar Mijn CJG.",
                    Returned::Error(_) => "Inloggen is niet gelukt. Ga terug naar Mijn CJG: daar staat wat u kunt doen.",
                };
                let body = format!(
                    "<!doctype html><html lang=\"nl\"><meta charset=\"utf-8\"><title>Mijn CJG</title>\
                     <main style=\"font-family:sans-serif;max-width:32rem;margin:3rem auto\"><h1>Mijn CJG</h1><p>{text}</p></main></html>"
                );
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\n\
                     cache-control: no-store\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(body.as_bytes()).await;
                let _ = stream.shutdown().await;
                return returned;
            }
        })
        .await
        .map_err(|_| ClientError::SignInTimedOut)
    }
}

/// The request target of a GET, read up to the end of the headers.
async fn read_target(stream: &mut tokio::net::TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 2048];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk)).await.ok()?.ok()?;
        if n == 0 || buf.len() + n > MAX_REQUEST {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let text = std::str::from_utf8(&buf).ok()?;
    let mut first = text.lines().next()?.split(' ');
    (first.next()? == "GET").then_some(())?;
    first.next().map(str::to_owned)
}

fn parse_target(target: &str) -> Option<Returned> {
    let url = reqwest::Url::parse(&format!("http://127.0.0.1{target}")).ok()?;
    if url.path() != PATH {
        return None;
    }
    let value = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    match (value("handoff"), value("error")) {
        (Some(h), None) if !h.is_empty() && h.len() <= 100 => Some(Returned::Handoff(h)),
        (None, Some(e)) if e.len() <= 60 && e.chars().all(|c| c.is_ascii_lowercase() || c == '_') => {
            Some(Returned::Error(e))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_handoff_or_an_error_code_on_the_path_counts() {
        assert_eq!(parse_target("/mijn-cjg/klaar?handoff=abc"), Some(Returned::Handoff("abc".into())));
        assert_eq!(
            parse_target("/mijn-cjg/klaar?error=no_staff_role"),
            Some(Returned::Error("no_staff_role".into()))
        );
        assert_eq!(parse_target("/favicon.ico"), None);
        assert_eq!(parse_target("/mijn-cjg/klaar"), None);
        assert_eq!(parse_target("/mijn-cjg/klaar?handoff=a&error=b"), None);
        assert_eq!(parse_target("/mijn-cjg/klaar?error=<script>"), None);
    }
}
