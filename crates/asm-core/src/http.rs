//! HTTP, one way for every caller (the gateway probe, Telegram, MiniMax, `opencode serve`):
//! ureq with explicit timeouts, no redirects, an HTTP status as an answer rather than an
//! error, bodies read up to a limit, and transport failures sorted into what callers tell
//! apart (nothing listens, no answer in time, anything else).

use serde_json::Value;
use std::io::ErrorKind;
use std::time::Duration;
use thiserror::Error;

/// Bodies beyond this are cut: ASM's peers answer with small JSON documents.
const DEFAULT_BODY_LIMIT: u64 = 4 * 1024 * 1024;

#[derive(Debug, Error)]
pub enum HttpError {
    /// Connection refused, reset or aborted: nothing (alive) listens there.
    #[error("connection refused (nothing listens)")]
    Refused,
    #[error("connection dropped ({0})")]
    Dropped(std::io::Error),
    /// Connected (or tried to) and got no answer within the timeout.
    #[error("no answer within the timeout")]
    TimedOut,
    #[error("{0}")]
    Other(String),
}

/// A complete answer: the status, its content type and the body as text.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    /// `Retry-After`, when the peer sent one.
    pub retry_after: Option<String>,
    pub body: String,
}

impl Answer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as JSON, when it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }
}

/// Where a request goes through: the user's proxy settings for the internet, never for
/// loopback peers (a gateway or `opencode serve` on this machine).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Direct,
    ProxyFromEnv,
}

pub struct Http {
    agent: ureq::Agent,
    body_limit: u64,
}

impl Http {
    /// `connect` bounds the TCP (and TLS) set-up; `answer` bounds waiting for and reading the answer.
    pub fn new(connect: Duration, answer: Duration, route: Route) -> Http {
        let mut config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(connect))
            .timeout_send_request(Some(answer))
            .timeout_send_body(Some(answer))
            .timeout_recv_response(Some(answer))
            .timeout_recv_body(Some(answer));
        if route == Route::Direct {
            config = config.proxy(None);
        }
        Http { agent: config.build().into(), body_limit: DEFAULT_BODY_LIMIT }
    }

    /// Stops reading a body after `limit` bytes (what follows is not read at all).
    pub fn body_limit(mut self, limit: u64) -> Http {
        self.body_limit = limit;
        self
    }

    pub fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<Answer, HttpError> {
        let mut req = self.agent.get(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.read(req.call())
    }

    pub fn delete(&self, url: &str, headers: &[(&str, &str)]) -> Result<Answer, HttpError> {
        let mut req = self.agent.delete(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.read(req.call())
    }

    pub fn post_json(&self, url: &str, headers: &[(&str, &str)], body: &Value) -> Result<Answer, HttpError> {
        let mut req = self.agent.post(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.read(req.send_json(body))
    }

    /// `application/x-www-form-urlencoded` POST (Telegram's Bot API takes either; forms keep
    /// the text exactly as given).
    pub fn post_form(&self, url: &str, fields: &[(&str, &str)]) -> Result<Answer, HttpError> {
        self.read(self.agent.post(url).send_form(fields.iter().copied()))
    }

    fn read(&self, result: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Result<Answer, HttpError> {
        let mut resp = result.map_err(classify)?;
        let status = resp.status().as_u16();
        let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let (content_type, retry_after) = (header("content-type").unwrap_or_default(), header("retry-after"));
        let bytes = read_limited(resp.body_mut(), self.body_limit)?;
        Ok(Answer { status, content_type, retry_after, body: String::from_utf8_lossy(&bytes).into_owned() })
    }
}

/// Reads at most `limit` bytes of a body; more is not an error, it is not read.
fn read_limited(body: &mut ureq::Body, limit: u64) -> Result<Vec<u8>, HttpError> {
    use std::io::Read;
    let mut out = Vec::new();
    let reader = body.with_config().limit(u64::MAX).reader();
    reader.take(limit).read_to_end(&mut out).map_err(|e| match e.kind() {
        ErrorKind::TimedOut | ErrorKind::WouldBlock => HttpError::TimedOut,
        _ => io_error(e),
    })?;
    Ok(out)
}

fn classify(e: ureq::Error) -> HttpError {
    match e {
        ureq::Error::Timeout(_) => HttpError::TimedOut,
        ureq::Error::Io(io) => io_error(io),
        other => HttpError::Other(other.to_string()),
    }
}

fn io_error(e: std::io::Error) -> HttpError {
    match e.kind() {
        ErrorKind::ConnectionRefused => HttpError::Refused,
        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe | ErrorKind::UnexpectedEof => HttpError::Dropped(e),
        ErrorKind::TimedOut | ErrorKind::WouldBlock => HttpError::TimedOut,
        _ => HttpError::Other(e.to_string()),
    }
}

/// `Authorization: Basic …` for `user:password`.
pub fn basic_auth(user: &str, password: &str) -> String {
    use base64::Engine;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use asm_testkit::{MockServer, Response};

    #[test]
    fn statuses_are_answers_and_bodies_are_cut_at_the_limit() {
        let server = MockServer::start(|req| match req.path.as_str() {
            "/big" => Response::text(200, &"x".repeat(10_000)),
            _ => Response::json(503, &serde_json::json!({"ready": false})),
        });
        let http = Http::new(Duration::from_secs(2), Duration::from_secs(2), Route::Direct).body_limit(100);
        let answer = http.get(&format!("{}/readyz", server.url()), &[]).unwrap();
        assert_eq!((answer.status, answer.is_success()), (503, false));
        assert_eq!(answer.json().unwrap()["ready"], false);
        assert_eq!(http.get(&format!("{}/big", server.url()), &[]).unwrap().body.len(), 100);
    }

    #[test]
    fn refused_and_frozen_peers_are_told_apart() {
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = free.local_addr().unwrap().port();
        drop(free);
        let http = Http::new(Duration::from_millis(500), Duration::from_millis(300), Route::Direct);
        assert!(matches!(http.get(&format!("http://127.0.0.1:{port}/"), &[]), Err(HttpError::Refused)));
        let frozen = MockServer::start(|_| Response::hang());
        assert!(matches!(http.get(&format!("{}/healthz", frozen.url()), &[]), Err(HttpError::TimedOut)));
    }

    #[test]
    fn basic_auth_is_standard_base64() {
        assert_eq!(basic_auth("opencode", "pw"), "Basic b3BlbmNvZGU6cHc=");
    }
}
