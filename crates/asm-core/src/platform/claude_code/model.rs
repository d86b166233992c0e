//! The one line model of a Claude Code transcript, for measuring (`measure.rs`) and for
//! extraction (`events.rs`) alike: a cheap byte-level look at which `"type"` values a line
//! carries (so the 50 KB tool results and prompt snapshots are never JSON-parsed when they
//! cannot matter), typed parsing of the lines that do, and the one rule for what counts as
//! something the person typed. Unknown types and unknown fields are ignored; a line that does
//! not parse is the caller's to count.

use memchr::memmem;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::fmt;
use std::sync::LazyLock;

static TYPE_KEY: LazyLock<memmem::Finder<'static>> = LazyLock::new(|| memmem::Finder::new(b"\"type\":"));

/// Which interesting `"type"` values occur anywhere in a line (a superset of the line's own
/// type: nested objects have types too, which is why a hit still needs a real parse).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Kinds(u16);

impl Kinds {
    pub const USER: u16 = 1;
    pub const ASSISTANT: u16 = 1 << 1;
    pub const SYSTEM: u16 = 1 << 2;
    pub const MODEL: u16 = 1 << 3;
    pub const TITLE: u16 = 1 << 4;
    pub const SUMMARY: u16 = 1 << 5;
    pub const LAST_PROMPT: u16 = 1 << 6;

    pub fn has(self, flag: u16) -> bool {
        self.0 & flag != 0
    }

    pub fn any(self) -> bool {
        self.0 != 0
    }

    /// No interesting type but `flag`.
    pub fn only(self, flag: u16) -> bool {
        self.0 == flag
    }
}

/// Scans a line for `"type":"…"` pairs (JSON inside string values is escaped, so only real
/// keys match) without parsing it.
pub fn kinds(line: &[u8]) -> Kinds {
    let mut flags = 0;
    for at in TYPE_KEY.find_iter(line) {
        let rest = line.get(at + 7..).unwrap_or_default();
        let rest = trim_ascii_start(rest);
        let Some(value) = rest.strip_prefix(b"\"") else { continue };
        let end = memchr::memchr(b'"', value).unwrap_or(value.len());
        flags |= match value.get(..end).unwrap_or_default() {
            b"user" => Kinds::USER,
            b"assistant" => Kinds::ASSISTANT,
            b"system" => Kinds::SYSTEM,
            b"model" => Kinds::MODEL,
            b"custom-title" | b"ai-title" => Kinds::TITLE,
            b"summary" => Kinds::SUMMARY,
            b"last-prompt" => Kinds::LAST_PROMPT,
            _ => 0,
        };
    }
    Kinds(flags)
}

fn trim_ascii_start(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    s
}

/// The fields of any transcript line that ASM reads; everything else is skipped by serde.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Line {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub subtype: Option<String>,
    pub is_sidechain: Option<bool>,
    pub is_api_error_message: Option<bool>,
    pub is_meta: Option<bool>,
    pub is_compact_summary: Option<bool>,
    pub is_visible_in_transcript_only: Option<bool>,
    pub message: Option<Message>,
    #[serde(deserialize_with = "lenient_string")]
    pub timestamp: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub git_branch: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub requested_model: Option<String>,
    pub compact_metadata: Option<CompactMetadata>,
    pub attachment: Option<Attachment>,
    #[serde(deserialize_with = "lenient_string")]
    pub cwd: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub session_id: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub custom_title: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub ai_title: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub summary: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub leaf_uuid: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub last_prompt: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Message {
    pub id: Option<String>,
    pub model: Option<String>,
    pub usage: Option<Usage>,
    /// Kept unparsed: a tool result or a pasted log can be megabytes, and measuring never looks.
    pub content: Option<Box<RawValue>>,
}

impl Message {
    /// The content as JSON (a string, or an array of blocks); Null when absent.
    pub fn content(&self) -> Value {
        self.content.as_ref().and_then(|raw| serde_json::from_str(raw.get()).ok()).unwrap_or(Value::Null)
    }
}

/// The API usage of one response; absent cache fields mean none were used.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    #[serde(default)]
    pub cache_creation_input_tokens: u64,
    #[serde(default)]
    pub cache_read_input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
}

impl Usage {
    /// What the prompt of this response occupied: Claude Code's statusline `total_input_tokens`.
    pub fn context_tokens(&self) -> u64 {
        self.input_tokens.saturating_add(self.cache_creation_input_tokens).saturating_add(self.cache_read_input_tokens)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CompactMetadata {
    pub trigger: Option<String>,
    pub pre_tokens: Option<u64>,
    pub post_tokens: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Attachment {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub identity: Option<ModelIdentity>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ModelIdentity {
    pub model_id: Option<String>,
}

/// A string field, or None when the value has another type: text fields of line types we do
/// not know must not make a whole line unreadable.
fn lenient_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    struct AnyValue;
    impl<'de> Visitor<'de> for AnyValue {
        type Value = Option<String>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_owned()))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(None)
        }
    }
    deserializer.deserialize_any(AnyValue)
}

/// The model Claude Code writes for responses it made up itself (API errors, interruptions).
pub const SYNTHETIC_MODEL: &str = "<synthetic>";

impl Line {
    pub fn parse(bytes: &[u8]) -> Result<Line, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    pub fn is(&self, kind: &str) -> bool {
        self.kind.as_deref() == Some(kind)
    }

    /// The usage of a real main-chain API response: not a subagent line, not an API error,
    /// not a synthetic message, and carrying usage.
    pub fn main_chain_usage(&self) -> Option<(Usage, &Message)> {
        if !self.is("assistant") || self.is_sidechain == Some(true) || self.is_api_error_message == Some(true) {
            return None;
        }
        let message = self.message.as_ref()?;
        if message.model.as_deref() == Some(SYNTHETIC_MODEL) {
            return None;
        }
        Some((message.usage?, message))
    }

    /// `Some(postTokens)` for a compaction boundary (None inside when the version did not
    /// record it).
    pub fn compact_boundary(&self) -> Option<Option<u64>> {
        (self.is("system") && self.subtype.as_deref() == Some("compact_boundary")).then(|| self.compact_metadata.as_ref().and_then(|m| m.post_tokens))
    }

    /// The model named by a `model` attachment (re-sent after compaction and model switches).
    pub fn attached_model(&self) -> Option<&str> {
        let a = self.attachment.as_ref().filter(|_| self.is("attachment"))?;
        (a.kind.as_deref() == Some("model")).then_some(())?;
        a.identity.as_ref()?.model_id.as_deref()
    }

    /// A session title line: `custom-title` (set by the user) or `ai-title`.
    pub fn title(&self) -> Option<&str> {
        match self.kind.as_deref()? {
            "custom-title" => self.custom_title.as_deref(),
            "ai-title" => self.ai_title.as_deref(),
            _ => None,
        }
    }
}

/// User-line texts that Claude Code writes itself: slash-command echoes, local-command output,
/// reminders, interruption notes, memory input and the caveat before local commands.
const SYNTHETIC_PROMPT_PREFIXES: [&str; 10] = [
    "<command-name>",
    "<command-message>",
    "<command-args>",
    "<local-command-",
    "<system-reminder>",
    "[Request interrupted",
    "<bash-stdout>",
    "<bash-stderr>",
    "<user-memory-input>",
    "Caveat:",
];

fn is_synthetic_prompt(text: &str) -> bool {
    let text = text.trim_start();
    SYNTHETIC_PROMPT_PREFIXES.iter().any(|p| text.starts_with(p))
}

/// What a `user` line holds, by the one rule both the session title and the memory's goal use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserLine {
    /// Something the person typed, trimmed.
    Prompt(String),
    /// A subagent's `<task-notification>`: only its `<result>` is kept.
    SubagentResult(String),
    /// Claude Code's own compaction summary (`isCompactSummary`).
    CompactSummary(String),
    /// Written by Claude Code, not typed: meta lines, command echoes, reminders.
    Synthetic,
    /// Nothing typed (tool results only, or empty).
    Empty,
}

impl Line {
    /// Classifies a main-chain `user` line (sidechain lines are the caller's to skip).
    pub fn user_line(&self) -> UserLine {
        let content = self.message.as_ref().map(Message::content).unwrap_or(Value::Null);
        if self.is_compact_summary == Some(true) {
            return UserLine::CompactSummary(crate::transcript::content_text(&content));
        }
        if self.is_meta == Some(true) || self.is_visible_in_transcript_only == Some(true) {
            return UserLine::Synthetic;
        }
        let text = typed_text(&content);
        let text = text.trim();
        if text.is_empty() {
            return UserLine::Empty;
        }
        if let Some(rest) = text.strip_prefix("<task-notification>") {
            return match between(rest, "<result>", "</result>") {
                Some(result) => UserLine::SubagentResult(result.trim().to_string()),
                None => UserLine::Synthetic,
            };
        }
        if is_synthetic_prompt(text) {
            return UserLine::Synthetic;
        }
        UserLine::Prompt(text.to_string())
    }
}

/// What the person typed: a string, or the text blocks of an array that Claude Code did not add
/// itself (reminders and command echoes can sit next to a real prompt).
fn typed_text(content: &Value) -> String {
    match content {
        Value::Array(blocks) => {
            let texts: Vec<&str> = blocks
                .iter()
                .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
                .filter_map(|b| b.get("text").and_then(Value::as_str))
                .filter(|t| !is_synthetic_prompt(t))
                .collect();
            texts.join("\n")
        }
        other => crate::transcript::content_text(other),
    }
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let end = text[start..].find(close)? + start;
    Some(&text[start..end])
}

/// The text of a typed user prompt in this line (see [`Line::user_line`]), for titles.
pub fn user_prompt(bytes: &[u8]) -> Option<String> {
    let line = Line::parse(bytes).ok()?;
    if !line.is("user") || line.is_sidechain == Some(true) {
        return None;
    }
    match line.user_line() {
        UserLine::Prompt(text) => Some(text),
        _ => None,
    }
}

/// The `sessionId` of one line, if it parses.
pub fn session_id_of(line: &[u8]) -> Option<String> {
    Line::parse(line).ok()?.session_id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_sees_real_keys_not_escaped_text() {
        let k = kinds(br#"{"type":"assistant","message":{"content":[{"type":"text","text":"{\"type\":\"system\"}"}]}}"#);
        assert!(k.has(Kinds::ASSISTANT));
        assert!(!k.has(Kinds::SYSTEM));
        assert!(kinds(br#"{"type": "summary"}"#).has(Kinds::SUMMARY));
        assert!(!kinds(br#"{"type":"api-request-blob","x":"assistant"}"#).any());
        assert!(!kinds(b"\xff\xfe garbage \"type\":").any());
        assert!(kinds(br#"{"attachment":{"type":"model"},"type":"attachment"}"#).has(Kinds::MODEL));
    }

    #[test]
    fn synthetic_error_and_sidechain_responses_do_not_count() {
        let usage = r#""usage":{"input_tokens":1,"cache_creation_input_tokens":2,"cache_read_input_tokens":3,"output_tokens":4}"#;
        let real = format!(r#"{{"type":"assistant","message":{{"model":"claude-sonnet-4-5",{usage}}}}}"#);
        assert_eq!(Line::parse(real.as_bytes()).unwrap().main_chain_usage().map(|(u, _)| u.context_tokens()), Some(6));
        for bad in [
            format!(r#"{{"type":"assistant","isSidechain":true,"message":{{"model":"m",{usage}}}}}"#),
            format!(r#"{{"type":"assistant","isApiErrorMessage":true,"message":{{"model":"m",{usage}}}}}"#),
            format!(r#"{{"type":"assistant","message":{{"model":"<synthetic>",{usage}}}}}"#),
            r#"{"type":"assistant","message":{"model":"m"}}"#.to_string(),
            format!(r#"{{"type":"user","message":{{"model":"m",{usage}}}}}"#),
        ] {
            assert!(Line::parse(bad.as_bytes()).unwrap().main_chain_usage().is_none(), "{bad}");
        }
    }

    #[test]
    fn odd_types_in_text_fields_do_not_spoil_a_line() {
        let l = Line::parse(br#"{"type":"system","subtype":{"x":1},"summary":[1,{"a":"b"}],"cwd":7,"sessionId":null,"lastPrompt":true}"#).unwrap();
        assert_eq!((l.subtype, l.summary, l.cwd, l.session_id, l.last_prompt), (None, None, None, None, None));
        assert_eq!(Line::parse(br#"{"cwd":"/a\u00e9"}"#).unwrap().cwd.as_deref(), Some("/a\u{e9}"));
    }

    #[test]
    fn missing_cache_fields_are_zero_but_missing_input_is_no_usage() {
        let l = Line::parse(br#"{"type":"assistant","message":{"usage":{"input_tokens":7}}}"#).unwrap();
        assert_eq!(l.main_chain_usage().map(|(u, _)| u.context_tokens()), Some(7));
        assert!(Line::parse(br#"{"type":"assistant","message":{"usage":{"output_tokens":7}}}"#).is_err());
        assert!(Line::parse(br#"{"type":"assistant","message":{"usage":{"input_tokens":-1}}}"#).is_err());
    }

    #[test]
    fn prompts_skip_meta_commands_and_tool_results() {
        let p = |s: &str| user_prompt(s.as_bytes());
        assert_eq!(p(r#"{"type":"user","message":{"content":"  fix the build \n"}}"#).as_deref(), Some("fix the build"));
        assert_eq!(p(r#"{"type":"user","message":{"content":[{"type":"text","text":"hi"}]}}"#).as_deref(), Some("hi"));
        assert_eq!(p(r#"{"type":"user","isMeta":true,"message":{"content":"x"}}"#), None);
        assert_eq!(p(r#"{"type":"user","message":{"content":[{"type":"tool_result","content":"x"}]}}"#), None);
        assert_eq!(p(r#"{"type":"user","message":{"content":"<command-name>/compact</command-name>"}}"#), None);
        assert_eq!(p(r#"{"type":"user","isVisibleInTranscriptOnly":true,"message":{"content":"x"}}"#), None);
        assert_eq!(p(r#"{"type":"user","message":{"content":"[Request interrupted by user]"}}"#), None);
        assert_eq!(p(r#"{"type":"user","message":{"content":"Caveat: The messages below were generated"}}"#), None);
        assert_eq!(p(r#"{"type":"user","isSidechain":true,"message":{"content":"x"}}"#), None);
    }

    #[test]
    fn title_and_goal_share_one_rule_for_a_typed_prompt() {
        // The session title (user_prompt) and extraction (user_line) must agree on every line.
        let lines = [
            r#"{"type":"user","message":{"content":[{"type":"text","text":"<system-reminder>x</system-reminder>"},{"type":"text","text":"fix the build"}]}}"#,
            r#"{"type":"user","message":{"content":"<bash-stdout>ok</bash-stdout>"}}"#,
            r#"{"type":"user","message":{"content":"<task-notification><result>done</result></task-notification>"}}"#,
            r#"{"type":"user","isCompactSummary":true,"message":{"content":"Summary: x"}}"#,
            r#"{"type":"user","message":{"content":"  ship it  "}}"#,
        ];
        for raw in lines {
            let from_title = user_prompt(raw.as_bytes());
            let from_events = match Line::parse(raw.as_bytes()).unwrap().user_line() {
                UserLine::Prompt(t) => Some(t),
                _ => None,
            };
            assert_eq!(from_title, from_events, "{raw}");
        }
        assert_eq!(user_prompt(lines[0].as_bytes()).as_deref(), Some("fix the build"));
    }
}
