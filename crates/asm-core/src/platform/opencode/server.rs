//! `opencode serve`'s HTTP API as ASM uses it: where it answers (ASM_OPENCODE_URL), Basic auth
//! when OPENCODE_SERVER_PASSWORD is set (user OPENCODE_SERVER_USERNAME, default `opencode`, as
//! OpenCode requires then), and the calls ASM makes. Every call names the session's directory
//! (`?directory=`), which is how the server picks the project.

use crate::config::Secret;
use crate::http::{basic_auth, Answer, Http, HttpError, Route};
use crate::Runtime;
use serde_json::{json, Value};
use std::time::Duration;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ServerError {
    #[error("opencode serve at {url} failed: {source}")]
    Unreachable { url: String, source: HttpError },
    #[error("opencode {call} answered HTTP {status}: {body}")]
    Status { call: &'static str, status: u16, body: String },
    #[error("opencode {call} answered {answer}")]
    Unexpected { call: &'static str, answer: String },
}

pub struct Server {
    base_url: String,
    authorization: Option<String>,
    http: Http,
}

impl Server {
    /// The server ASM_OPENCODE_URL names; `timeout` bounds each call.
    pub fn new(rt: &Runtime, timeout: Duration) -> Server {
        let authorization = rt.env.get("OPENCODE_SERVER_PASSWORD").map(|password| {
            let secret = Secret::new(password, "OPENCODE_SERVER_PASSWORD");
            basic_auth(rt.env.get("OPENCODE_SERVER_USERNAME").unwrap_or("opencode"), secret.expose())
        });
        Server { base_url: rt.config.opencode_url.clone(), authorization, http: Http::new(Duration::from_secs(5), timeout, Route::Direct) }
    }

    pub fn url(&self) -> &str {
        &self.base_url
    }

    /// Whether the server answers (`GET /global/health`, with the credentials ASM has).
    pub fn healthy(&self) -> bool {
        self.http.get(&format!("{}/global/health", self.base_url), &self.headers()).is_ok_and(|a| a.is_success())
    }

    /// `POST /session/{id}/summarize {"providerID","modelID"}`: synchronous, answers `true`.
    pub fn summarize(&self, session_id: &str, directory: Option<&str>, provider: &str, model: &str) -> Result<(), ServerError> {
        let url = self.url_for(&format!("/session/{session_id}/summarize"), directory);
        let answer = self.post("summarize", &url, &json!({ "providerID": provider, "modelID": model }))?;
        match answer.json() {
            Some(Value::Bool(true)) => Ok(()),
            Some(other) => Err(ServerError::Unexpected { call: "summarize", answer: clip(&other.to_string()) }),
            None => Err(ServerError::Unexpected { call: "summarize", answer: "something that is not JSON".into() }),
        }
    }

    /// `POST /session {"title"}` in `directory` (a query parameter: a `directory` in the
    /// body is ignored by 1.18.33); the new session's id.
    pub fn create_session(&self, title: &str, directory: Option<&str>) -> Result<String, ServerError> {
        let url = self.url_for("/session", directory);
        let answer = self.post("create session", &url, &json!({ "title": title }))?;
        session_id_of("create session", &answer)
    }

    /// `POST /session/{id}/message` with one text part. `no_reply`: stored as the session's
    /// first message without a model turn (1.18.33 answers with the stored message).
    pub fn post_message(&self, session_id: &str, directory: Option<&str>, text: &str, no_reply: bool) -> Result<(), ServerError> {
        let url = self.url_for(&format!("/session/{session_id}/message"), directory);
        let body = json!({ "noReply": no_reply, "parts": [{ "type": "text", "text": text }] });
        self.post("message", &url, &body).map(|_| ())
    }

    /// `POST /session/{id}/fork`: a copy of the session (a root session of its own).
    pub fn fork(&self, session_id: &str, directory: Option<&str>) -> Result<String, ServerError> {
        let url = self.url_for(&format!("/session/{session_id}/fork"), directory);
        let answer = self.post("fork", &url, &json!({}))?;
        session_id_of("fork", &answer)
    }

    /// `DELETE /session/{id}`.
    pub fn delete(&self, session_id: &str, directory: Option<&str>) -> Result<(), ServerError> {
        let url = self.url_for(&format!("/session/{session_id}"), directory);
        let answer = self.http.delete(&url, &self.headers()).map_err(|source| ServerError::Unreachable { url: self.base_url.clone(), source })?;
        if !answer.is_success() {
            return Err(ServerError::Status { call: "delete", status: answer.status, body: clip(answer.body.trim()) });
        }
        Ok(())
    }

    /// `GET /session` in `directory`: the project's root sessions as the server lists them.
    pub fn sessions(&self, directory: Option<&str>) -> Result<Vec<Value>, ServerError> {
        let url = self.url_for("/session", directory);
        let answer = self.get("list sessions", &url)?;
        match answer.json() {
            Some(Value::Array(items)) => Ok(items),
            _ => Err(ServerError::Unexpected { call: "list sessions", answer: clip(&answer.body) }),
        }
    }

    /// `GET /session/{id}/message`: `[{info, parts}]`, oldest first.
    pub fn messages(&self, session_id: &str, directory: Option<&str>) -> Result<Vec<Value>, ServerError> {
        let url = self.url_for(&format!("/session/{session_id}/message"), directory);
        let answer = self.get("messages", &url)?;
        match answer.json() {
            Some(Value::Array(items)) => Ok(items),
            _ => Err(ServerError::Unexpected { call: "messages", answer: clip(&answer.body) }),
        }
    }

    /// How a request for `call` would look, for a dry run.
    pub fn describe(&self, method: &str, path: &str, directory: Option<&str>, body: Option<&Value>) -> String {
        let url = self.url_for(path, directory);
        match body {
            Some(b) => format!("{method} {url} {b}"),
            None => format!("{method} {url}"),
        }
    }

    fn url_for(&self, path: &str, directory: Option<&str>) -> String {
        match directory {
            Some(dir) => format!("{}{path}?directory={}", self.base_url, percent_encode(dir)),
            None => format!("{}{path}", self.base_url),
        }
    }

    fn headers(&self) -> Vec<(&str, &str)> {
        self.authorization.as_deref().map(|a| ("Authorization", a)).into_iter().collect()
    }

    fn get(&self, call: &'static str, url: &str) -> Result<Answer, ServerError> {
        let answer = self.http.get(url, &self.headers()).map_err(|source| ServerError::Unreachable { url: self.base_url.clone(), source })?;
        if !answer.is_success() {
            return Err(ServerError::Status { call, status: answer.status, body: clip(answer.body.trim()) });
        }
        Ok(answer)
    }

    fn post(&self, call: &'static str, url: &str, body: &Value) -> Result<Answer, ServerError> {
        let answer = self.http.post_json(url, &self.headers(), body).map_err(|source| ServerError::Unreachable { url: self.base_url.clone(), source })?;
        if !answer.is_success() {
            return Err(ServerError::Status { call, status: answer.status, body: clip(answer.body.trim()) });
        }
        Ok(answer)
    }
}

fn session_id_of(call: &'static str, answer: &Answer) -> Result<String, ServerError> {
    answer
        .json()
        .and_then(|v| v.get("id").and_then(Value::as_str).map(str::to_string))
        .ok_or_else(|| ServerError::Unexpected { call, answer: clip(&answer.body) })
}

fn clip(text: &str) -> String {
    match text.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// A path as a query value: unreserved characters and `/` stay, everything else is %XX.
fn percent_encode(text: &str) -> String {
    text.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}
