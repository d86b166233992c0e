//! The one row model of OpenCode's stores, for measuring and for extraction alike: a stored
//! session, a message's token counts and model, and the reading of one message row (v1
//! `message.data`, v2 `session_message.data` with the role in its `type` column, or a legacy
//! JSON file) into what the TUI rule needs.

use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::HashSet;

/// A session as a store holds it, before its numbers are worked out.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSession {
    pub id: String,
    pub parent_id: Option<String>,
    pub title: Option<String>,
    pub directory: Option<String>,
    /// The project's worktree (where the project config lookup stops).
    pub worktree: Option<String>,
    /// The session's own model column (`{"id","providerID"}`), newer versions only.
    pub model: Option<ModelRef>,
    pub updated_ms: Option<i64>,
    pub archived: bool,
    /// The TUI rule over the session's messages (roots only; children are not measured).
    pub scan: Scan,
}

/// Everything one store gave, and how many of its session records had to be skipped.
#[derive(Debug, Default)]
pub struct StoreRead {
    pub sessions: Vec<StoredSession>,
    pub skipped_rows: usize,
}

/// Whether a session is listed on its own: no parent, or a parent id that names no session of
/// the same store (deleted) or itself. `ids` are all session ids of that store.
pub fn is_root(session: &StoredSession, ids: &HashSet<&str>) -> bool {
    session.parent_id.as_deref().is_none_or(|p| p == session.id || !ids.contains(p))
}

/// One assistant message's token counts as OpenCode stores them (`input` excludes cache,
/// `output` excludes reasoning).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Tokens {
    pub input: u64,
    pub output: u64,
    pub reasoning: u64,
    pub cache_read: u64,
    pub cache_write: u64,
    /// The provider's `totalTokens`; absent in v2 rows.
    pub total: Option<u64>,
}

impl Tokens {
    /// The number the TUI shows.
    pub fn context(&self) -> u64 {
        [self.input, self.output, self.reasoning, self.cache_read, self.cache_write].iter().fold(0u64, |sum, n| sum.saturating_add(*n))
    }

    /// The count `isOverflow` compares with the threshold: `total || input+output+cache`.
    pub fn overflow_count(&self) -> u64 {
        match self.total {
            Some(total) if total > 0 => total,
            _ => [self.input, self.output, self.cache_read, self.cache_write].iter().fold(0u64, |sum, n| sum.saturating_add(*n)),
        }
    }
}

/// A model as OpenCode names it: provider id and model id (`mock/mock-model`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct ModelRef {
    pub provider_id: String,
    pub model_id: String,
}

impl ModelRef {
    pub fn label(&self) -> String {
        format!("{}/{}", self.provider_id, self.model_id)
    }

    /// `{"providerID","modelID"}` (v1 message) or `{"id","providerID"}` (session column, v2).
    pub fn from_json(value: &Value) -> Option<ModelRef> {
        let provider = value.get("providerID")?.as_str()?;
        let model = value.get("modelID").or_else(|| value.get("id"))?.as_str()?;
        (!provider.is_empty() && !model.is_empty()).then(|| ModelRef { provider_id: provider.to_string(), model_id: model.to_string() })
    }

    /// The `session.model` column: `{"id","providerID","variant"?}` as JSON text.
    pub fn from_column(json: &[u8]) -> Option<ModelRef> {
        #[derive(Deserialize)]
        struct Column<'a> {
            #[serde(borrow)]
            id: Option<Cow<'a, str>>,
            #[serde(rename = "providerID", borrow)]
            provider_id: Option<Cow<'a, str>>,
        }
        let column: Column = serde_json::from_slice(json).ok()?;
        match (column.provider_id, column.id) {
            (Some(p), Some(m)) if !p.is_empty() && !m.is_empty() => Some(ModelRef { provider_id: p.into_owned(), model_id: m.into_owned() }),
            _ => None,
        }
    }
}

/// What one stored message means for the TUI rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Row {
    /// Not JSON, not UTF-8, not an object: it might have been the deciding message.
    Unreadable,
    /// Readable and not a candidate (a user message, an assistant that produced no output).
    Skip,
    /// An assistant message whose token counts are missing or not numbers.
    Malformed,
    /// An assistant message with output > 0: the candidate.
    Usage { tokens: Tokens, model: Option<ModelRef> },
}

/// Reads one stored message. `row_type` is the v2 `session_message.type` column (the
/// role there is not in the JSON); None for v1 rows and legacy files.
pub fn classify(data: &[u8], row_type: Option<&str>) -> Row {
    // Only an object is a message (serde would also build the struct from an array).
    if data.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Row::Unreadable;
    }
    let Ok(message) = serde_json::from_slice::<MessageFields>(data) else { return Row::Unreadable };
    let role = row_type.or(message.role.as_deref());
    if role != Some("assistant") {
        return Row::Skip;
    }
    let Some(tokens) = &message.tokens else { return Row::Malformed };
    match count_value(tokens.get("output")) {
        None => Row::Malformed,
        Some(0) => Row::Skip,
        Some(output) => match read_tokens(tokens, output) {
            Some(tokens) => Row::Usage { tokens, model: message.model_ref() },
            None => Row::Malformed,
        },
    }
}

/// The fields of a stored message the measurement reads; the rest (paths, parts, errors…) is
/// skipped without being built. A wrongly typed field makes the whole row unreadable.
#[derive(Deserialize)]
struct MessageFields<'a> {
    #[serde(borrow, default)]
    role: Option<Cow<'a, str>>,
    #[serde(default)]
    tokens: Option<Value>,
    #[serde(rename = "modelID", borrow, default)]
    model_id: Option<Cow<'a, str>>,
    #[serde(rename = "providerID", borrow, default)]
    provider_id: Option<Cow<'a, str>>,
    #[serde(default)]
    model: Option<Value>,
}

impl MessageFields<'_> {
    /// v1 `providerID`/`modelID`, else v2 `model:{id, providerID}`.
    fn model_ref(&self) -> Option<ModelRef> {
        match (&self.provider_id, &self.model_id) {
            (Some(p), Some(m)) if !p.is_empty() && !m.is_empty() => Some(ModelRef { provider_id: p.to_string(), model_id: m.to_string() }),
            _ => self.model.as_ref().and_then(ModelRef::from_json),
        }
    }
}

fn read_tokens(tokens: &Value, output: u64) -> Option<Tokens> {
    let cache = tokens.get("cache")?;
    Some(Tokens {
        input: count_value(tokens.get("input"))?,
        output,
        reasoning: count_value(tokens.get("reasoning"))?,
        cache_read: count_value(cache.get("read"))?,
        cache_write: count_value(cache.get("write"))?,
        total: count_value(tokens.get("total")),
    })
}

/// A token count: a non-negative integer (an integral float is accepted, JSON has one number type).
pub fn count_value(value: Option<&Value>) -> Option<u64> {
    let value = value?;
    value.as_u64().or_else(|| value.as_f64().filter(|f| f.is_finite() && *f >= 0.0 && f.fract() == 0.0 && *f < 9.0e15).map(|f| f as u64))
}

/// The usage the TUI rule picked, and whether an unreadable newer row might have won instead.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Usage {
    pub tokens: Tokens,
    pub model: Option<ModelRef>,
    pub uncertain: bool,
}

/// Result of the TUI rule over one session's rows.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Scan {
    Found(Usage),
    /// No assistant output yet (or none readable).
    NotFound {
        uncertain: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(input: u64, output: u64, reasoning: u64, read: u64, write: u64) -> Tokens {
        Tokens { input, output, reasoning, cache_read: read, cache_write: write, total: None }
    }

    #[test]
    fn tui_number_adds_all_five_and_overflow_prefers_total() {
        let t = Tokens { total: Some(195_042), ..tokens(95_000, 42, 7, 100_000, 0) };
        assert_eq!(t.context(), 195_049);
        assert_eq!(t.overflow_count(), 195_042);
        assert_eq!(tokens(1, 2, 100, 3, 4).overflow_count(), 10);
    }

    #[test]
    fn classify_reads_v1_v2_and_rejects_garbage() {
        let v1 = br#"{"role":"assistant","tokens":{"total":150042,"input":50000,"output":42,"reasoning":0,"cache":{"write":0,"read":100000}},"modelID":"m","providerID":"p"}"#;
        let Row::Usage { tokens: t, model } = classify(v1, None) else { panic!("v1 row not read") };
        assert_eq!((t.context(), t.total), (150_042, Some(150_042)));
        assert_eq!(model.unwrap().label(), "p/m");
        let v2 = br#"{"model":{"id":"m","providerID":"p"},"tokens":{"input":2000,"output":42,"reasoning":0,"cache":{"read":1000,"write":0}}}"#;
        assert!(matches!(classify(v2, Some("assistant")), Row::Usage { tokens: t, .. } if t.context() == 3042 && t.total.is_none()));
        assert_eq!(classify(v2, Some("user")), Row::Skip);
        assert_eq!(classify(br#"{"role":"user"}"#, None), Row::Skip);
        assert_eq!(classify(br#"{"role":"assistant","tokens":{"input":9,"output":0,"reasoning":0,"cache":{"read":0,"write":0}}}"#, None), Row::Skip);
        assert_eq!(classify(br#"{"role":"assistant"}"#, None), Row::Malformed);
        assert_eq!(classify(br#"{"role":"assistant","tokens":{"output":"5"}}"#, None), Row::Malformed);
        assert_eq!(classify(br#"{"role":"assistant","tokens":{"input":-1,"output":5,"reasoning":0,"cache":{"read":0,"write":0}}}"#, None), Row::Malformed);
        assert_eq!(classify(br#"{"role":"assistant","tokens":{"input":1,"output":5,"reasoning":0}}"#, None), Row::Malformed);
        assert_eq!(classify(b"{\"role\":\"assist", None), Row::Unreadable);
        assert_eq!(classify(b"[1,2]", None), Row::Unreadable);
        assert_eq!(classify(b"[]", None), Row::Unreadable);
        assert_eq!(classify(br#"["assistant"]"#, None), Row::Unreadable);
        assert_eq!(classify(b"null", None), Row::Unreadable);
        assert_eq!(classify(br#"{"role":7}"#, None), Row::Unreadable);
        assert_eq!(classify(b"\xff\xfe{}", None), Row::Unreadable);
        assert_eq!(classify(b"", None), Row::Unreadable);
    }
}
