//! What every backend shares: one outgoing message, the outcomes a send can have (one
//! vocabulary for the Bot API and the OpenClaw CLI, so the delivery pass decides the same way
//! for both), the classification of Telegram's error descriptions, splitting long texts, and
//! the `log` backend.

use serde::Serialize;

/// Telegram's limit is 4096 characters after entity parsing; parts stay below it with room for
/// the "topic missing" note.
pub const PART_LIMIT: usize = 4000;

/// One message (or one part of a split message) on its way.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outgoing<'a> {
    pub chat: &'a str,
    /// The forum topic; None posts to General (topic 1 is never sent as an id).
    pub topic: Option<i64>,
    pub text: &'a str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum SendOutcome {
    /// The other side confirmed; `answer` is its reply (redacted), for `--notify-test`.
    Delivered { message_id: Option<String>, answer: String },
    /// 429: wait exactly this long, then retry.
    RetryAfter { secs: u64, error: String },
    /// 400 message thread not found / TOPIC_CLOSED: post to General instead.
    TopicMissing { error: String },
    /// The group became a supergroup; post to the new id.
    Migrated { to_chat: String, error: String },
    /// Network cut, 5xx, timeout: try again later.
    Transient { error: String },
    /// 401/403/chat not found, a missing CLI: nothing will work until someone fixes it.
    Config { error: String },
    /// This message itself is refused (e.g. empty text): retrying cannot help.
    Rejected { error: String },
}

impl SendOutcome {
    pub fn error(&self) -> Option<&str> {
        match self {
            SendOutcome::Delivered { .. } => None,
            SendOutcome::RetryAfter { error, .. }
            | SendOutcome::TopicMissing { error }
            | SendOutcome::Migrated { error, .. }
            | SendOutcome::Transient { error }
            | SendOutcome::Config { error }
            | SendOutcome::Rejected { error } => Some(error),
        }
    }
}

/// A way to post a message.
pub trait Sender: Send + Sync {
    /// `telegram`, `openclaw` or `log`.
    fn backend(&self) -> &'static str;
    fn send(&self, out: &Outgoing) -> SendOutcome;
}

/// Sorts a failed send by what Telegram said. The Bot API warns that error codes may change,
/// so the description text decides first and the code second.
pub fn classify_failure(code: Option<i64>, description: &str, retry_after: Option<u64>, migrate_to: Option<String>) -> SendOutcome {
    let lower = description.to_ascii_lowercase();
    let error = match code {
        Some(c) => format!("Telegram answered {c}: {description}"),
        None => description.to_string(),
    };
    if let Some(to_chat) = migrate_to {
        return SendOutcome::Migrated { to_chat, error };
    }
    if code == Some(429) || lower.contains("too many requests") {
        let secs = retry_after.or_else(|| retry_after_in_text(&lower)).unwrap_or(5);
        return SendOutcome::RetryAfter { secs, error };
    }
    if lower.contains("message thread not found") || lower.contains("topic_closed") || lower.contains("topic_deleted") || lower.contains("topic closed") {
        return SendOutcome::TopicMissing { error };
    }
    let config_words =
        ["chat not found", "unauthorized", "forbidden", "bot was kicked", "bot is not a member", "not enough rights", "need administrator rights"];
    if matches!(code, Some(401 | 403 | 404)) || config_words.iter().any(|w| lower.contains(w)) {
        return SendOutcome::Config { error };
    }
    match code {
        Some(c) if (400..500).contains(&c) => SendOutcome::Rejected { error },
        _ => SendOutcome::Transient { error },
    }
}

/// "Too Many Requests: retry after 35" → 35.
fn retry_after_in_text(lower: &str) -> Option<u64> {
    let rest = &lower[lower.find("retry after")? + "retry after".len()..];
    rest.trim_start().split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// Whether Telegram refused the formatting (bad HTML/Markdown), so plain text would pass.
pub fn is_entity_error(description: &str) -> bool {
    let lower = description.to_ascii_lowercase();
    lower.contains("can't parse entities") || lower.contains("can't find end of the entity") || lower.contains("unsupported start tag")
}

/// Splits a text into parts of at most `limit` UTF-16 units (Telegram counts those), at a line
/// break when there is one, else at a space, else anywhere. Nothing is lost but the break.
pub fn split_text(text: &str, limit: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = text;
    while utf16_len(rest) > limit {
        let cut = byte_index_at_utf16(rest, limit);
        let head = &rest[..cut];
        let (part, skip) = match head.rfind('\n').or_else(|| head.rfind(' ')) {
            Some(i) if i > 0 => (&rest[..i], 1),
            _ => (head, 0),
        };
        parts.push(part.to_string());
        rest = &rest[part.len() + skip..];
    }
    if !rest.is_empty() || parts.is_empty() {
        parts.push(rest.to_string());
    }
    parts
}

fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// The largest char boundary whose prefix has at most `units` UTF-16 units.
fn byte_index_at_utf16(s: &str, units: usize) -> usize {
    let mut used = 0;
    for (i, c) in s.char_indices() {
        if used + c.len_utf16() > units {
            return i;
        }
        used += c.len_utf16();
    }
    s.len()
}

/// The `log` backend: the message goes to the log (and to stdout when someone watches it).
pub struct LogSender;

impl Sender for LogSender {
    fn backend(&self) -> &'static str {
        "log"
    }

    fn send(&self, out: &Outgoing) -> SendOutcome {
        let text = crate::redact::redact(out.text).into_owned();
        log::warn!("notification: {}", text.replace('\n', " | "));
        // Only to a terminal: tools that print JSON on stdout must keep it parseable.
        if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
            println!("[asm notify] {text}");
        }
        SendOutcome::Delivered { message_id: None, answer: "written to the log".into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_telegram_errors() {
        let c = |code, d: &str| classify_failure(Some(code), d, None, None);
        assert!(matches!(c(429, "Too Many Requests: retry after 35"), SendOutcome::RetryAfter { secs: 35, .. }));
        assert!(matches!(classify_failure(Some(429), "Too Many Requests", Some(7), None), SendOutcome::RetryAfter { secs: 7, .. }));
        assert!(matches!(c(400, "Bad Request: message thread not found"), SendOutcome::TopicMissing { .. }));
        assert!(matches!(c(400, "Bad Request: TOPIC_CLOSED"), SendOutcome::TopicMissing { .. }));
        assert!(matches!(c(400, "Bad Request: chat not found"), SendOutcome::Config { .. }));
        assert!(matches!(c(401, "Unauthorized"), SendOutcome::Config { .. }));
        assert!(matches!(c(403, "Forbidden: bot was kicked from the supergroup chat"), SendOutcome::Config { .. }));
        assert!(matches!(c(400, "Bad Request: message text is empty"), SendOutcome::Rejected { .. }));
        assert!(matches!(c(502, "Bad Gateway"), SendOutcome::Transient { .. }));
        assert!(matches!(
            classify_failure(Some(400), "Bad Request: group chat was upgraded to a supergroup chat", None, Some("-100999".into())),
            SendOutcome::Migrated { .. }
        ));
        assert!(is_entity_error("Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 0"));
    }

    #[test]
    fn splits_long_texts_at_line_breaks_within_the_limit() {
        let line = "x".repeat(99);
        let text = vec![line.as_str(); 100].join("\n"); // 9999 characters
        let parts = split_text(&text, PART_LIMIT);
        assert_eq!(parts.len(), 3);
        assert!(parts.iter().all(|p| p.chars().count() <= PART_LIMIT && !p.starts_with('\n')));
        assert_eq!(parts.join("\n"), text);
        let solid = "é".repeat(9000);
        let parts = split_text(&solid, PART_LIMIT);
        assert_eq!(parts.concat(), solid);
        assert_eq!(split_text("short", PART_LIMIT), ["short"]);
        assert_eq!(split_text("😀😀😀", 4), ["😀😀", "😀"], "counted in UTF-16 units, never splitting a character");
    }
}
