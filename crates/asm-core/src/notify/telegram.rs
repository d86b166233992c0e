//! The `telegram` backend: Bot API `sendMessage` over HTTPS (ureq), in the shape OpenClaw
//! itself sends — `{"chat_id":"-100…","text":…,"message_thread_id":466,"parse_mode":"HTML"}`
//! with the text HTML-escaped, no `message_thread_id` for General. A formatting error is
//! answered by resending as plain text. The request URL contains the bot token, so no error
//! or log line ever carries the URL or anything ureq says about it without scrubbing.

use super::sender::{classify_failure, is_entity_error, Outgoing, SendOutcome, Sender};
use crate::config::Secret;
use crate::http::{Http, Route};
use serde_json::{json, Value};
use std::time::Duration;

pub struct TelegramSender {
    api_root: String,
    token: Secret,
    http: Http,
}

impl TelegramSender {
    pub fn new(api_root: &str, token: Secret) -> TelegramSender {
        let http = Http::new(Duration::from_secs(10), Duration::from_secs(30), Route::ProxyFromEnv);
        TelegramSender { api_root: api_root.trim_end_matches('/').to_string(), token, http }
    }

    pub fn api_root(&self) -> &str {
        &self.api_root
    }

    /// Any text that may hold the token, made safe to show.
    fn scrub(&self, text: &str) -> String {
        let token = self.token.expose();
        let text = if token.is_empty() { text.to_string() } else { text.replace(token, crate::redact::MASK) };
        crate::redact::redact(&text).into_owned()
    }

    fn post(&self, body: &Value) -> SendOutcome {
        let url = format!("{}/bot{}/sendMessage", self.api_root, self.token.expose());
        let (status, text) = match self.http.post_json(&url, &[], body) {
            Ok(answer) => (answer.status, answer.body),
            Err(e) => {
                // The URL holds the token: the error names the API root only, and is scrubbed anyway.
                let error = format!("cannot reach the Telegram Bot API at {} ({e})", self.api_root);
                return SendOutcome::Transient { error: self.scrub(&error) };
            }
        };
        read_answer(&self.api_root, status, &text, &|t| self.scrub(t))
    }
}

/// What the Bot API's answer means for the message: delivered, or which kind of failure.
/// `scrub` masks the token (and any secret) in everything kept from the answer.
pub fn read_answer(api_root: &str, status: u16, text: &str, scrub: &dyn Fn(&str) -> String) -> SendOutcome {
    let envelope: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(_) => {
            let excerpt: String = text.chars().take(200).collect();
            let error = format!("the Telegram Bot API at {api_root} answered {status} with no JSON: {excerpt}");
            return SendOutcome::Transient { error: scrub(&error) };
        }
    };
    let answer = scrub(&envelope.to_string());
    if envelope.get("ok").and_then(Value::as_bool) == Some(true) {
        let message_id = envelope.pointer("/result/message_id").map(|id| id.as_str().map(str::to_string).unwrap_or_else(|| id.to_string()));
        return SendOutcome::Delivered { message_id, answer };
    }
    let code = envelope.get("error_code").and_then(Value::as_i64).or(Some(status as i64));
    let description = envelope.get("description").and_then(Value::as_str).unwrap_or("no description");
    let retry_after = envelope.pointer("/parameters/retry_after").and_then(Value::as_u64);
    let migrate_to = envelope.pointer("/parameters/migrate_to_chat_id").map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()));
    classify_failure(code, &scrub(description), retry_after, migrate_to)
}

/// The request body, as OpenClaw sends it.
pub fn request_body(out: &Outgoing, formatted: bool) -> Value {
    let mut body = json!({ "chat_id": out.chat, "text": if formatted { escape_html(out.text) } else { out.text.to_string() } });
    if let Some(topic) = out.topic.filter(|t| *t != 1) {
        body["message_thread_id"] = json!(topic);
    }
    if formatted {
        body["parse_mode"] = json!("HTML");
    }
    body
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

impl Sender for TelegramSender {
    fn backend(&self) -> &'static str {
        "telegram"
    }

    fn send(&self, out: &Outgoing) -> SendOutcome {
        match self.post(&request_body(out, true)) {
            SendOutcome::Rejected { error } if is_entity_error(&error) => {
                log::warn!("Telegram refused the message formatting ({error}); resending as plain text");
                self.post(&request_body(out, false))
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_matches_what_openclaw_sends() {
        let out = Outgoing { chat: "-1001234567890", topic: Some(466), text: "Manager notice: context at 85% (thread-id flag)" };
        let fixture =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/openclaw/v2026.9.6/telegram-botapi-requests.jsonl")).unwrap();
        let first: Value = serde_json::from_str(fixture.lines().next().unwrap()).unwrap();
        assert_eq!(request_body(&out, true), first["body"]);
    }

    #[test]
    fn general_topic_omits_the_thread_and_plain_omits_parse_mode() {
        let out = Outgoing { chat: "-100", topic: Some(1), text: "a < b & c" };
        assert_eq!(request_body(&out, true), json!({"chat_id": "-100", "text": "a &lt; b &amp; c", "parse_mode": "HTML"}));
        assert_eq!(request_body(&Outgoing { topic: None, ..out }, false), json!({"chat_id": "-100", "text": "a < b & c"}));
    }
}
