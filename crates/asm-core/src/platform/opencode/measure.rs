//! How full an OpenCode session is, counted as OpenCode counts it.
//!
//! Context now (the TUI rule, `sidebar/context.tsx`): of the **last assistant message with
//! `tokens.output > 0`**, `input + output + reasoning + cache.read + cache.write`, against
//! the model's `limit.context`. Auto-compaction threshold (`SessionCompaction.isOverflow`):
//! `usable = limit.input ? limit.input − (compaction.reserved ?? min(20000, maxOut))
//! : limit.context − maxOut`, `maxOut = min(limit.output, 32000) || 32000`.
//!
//! Rows come newest first from any store generation (v1 `message`, v2 `session_message`,
//! legacy JSON files) as raw JSON bytes; a row that cannot be read where it might have been
//! the deciding one makes the result uncertain rather than silently wrong.

use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;

/// `OUTPUT_TOKEN_MAX` in OpenCode (overridable with `OPENCODE_EXPERIMENTAL_OUTPUT_TOKEN_MAX`).
pub const OUTPUT_TOKEN_MAX: u64 = 32_000;
/// The reserve OpenCode keeps below `limit.input` unless `compaction.reserved` says otherwise.
const DEFAULT_INPUT_RESERVE: u64 = 20_000;

/// One assistant message's token counts as OpenCode stores them (`input` excludes cache,
/// `output` excludes reasoning).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
#[derive(Debug, Clone, PartialEq)]
pub struct Usage {
    pub tokens: Tokens,
    pub model: Option<ModelRef>,
    pub uncertain: bool,
}

/// Result of the TUI rule over one session's rows.
#[derive(Debug, Clone, PartialEq)]
pub enum Scan {
    Found(Usage),
    /// No assistant output yet (or none readable).
    NotFound {
        uncertain: bool,
    },
}

/// The TUI rule over rows given newest first.
pub fn last_context<I: IntoIterator<Item = Row>>(rows_newest_first: I) -> Scan {
    let mut uncertain = false;
    for row in rows_newest_first {
        match row {
            Row::Usage { tokens, model } => return Scan::Found(Usage { tokens, model, uncertain }),
            Row::Unreadable | Row::Malformed => uncertain = true,
            Row::Skip => {}
        }
    }
    Scan::NotFound { uncertain }
}

/// A model's limits, merged from the catalog and the config (`limit.context/input/output`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ModelLimits {
    pub context: Option<u64>,
    pub input: Option<u64>,
    pub output: Option<u64>,
}

impl ModelLimits {
    /// The context window; OpenCode treats 0 (a custom model without limits) as unknown.
    pub fn window(&self) -> Option<u64> {
        self.context.filter(|c| *c > 0)
    }
}

/// The `compaction` config and the variables that change the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompactionRule {
    /// `compaction.auto` (default true); false also with `OPENCODE_DISABLE_AUTOCOMPACT`.
    pub auto: bool,
    /// `compaction.reserved`: only used for models that declare `limit.input`.
    pub reserved: Option<u64>,
    /// `OUTPUT_TOKEN_MAX` or `OPENCODE_EXPERIMENTAL_OUTPUT_TOKEN_MAX`.
    pub output_token_max: u64,
}

impl Default for CompactionRule {
    fn default() -> Self {
        CompactionRule { auto: true, reserved: None, output_token_max: OUTPUT_TOKEN_MAX }
    }
}

/// Where OpenCode would auto-compact (`usable`); None when it never would.
pub fn compact_at(limits: &ModelLimits, rule: &CompactionRule) -> Option<u64> {
    let context = limits.window()?;
    if !rule.auto {
        return None;
    }
    let max_out = match limits.output {
        Some(out) if out > 0 => out.min(rule.output_token_max),
        _ => rule.output_token_max,
    };
    Some(match limits.input.filter(|i| *i > 0) {
        Some(input) => input.saturating_sub(rule.reserved.unwrap_or(DEFAULT_INPUT_RESERVE.min(max_out))),
        None => context.saturating_sub(max_out),
    })
}

/// The numbers of one session, ready for `SessionInfo`.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    pub context_tokens: Option<u64>,
    pub context_window: Option<u64>,
    pub context_percent: Option<f64>,
    pub compact_at_tokens: Option<u64>,
    pub estimated: bool,
}

/// Combines the scan with the model's limits. No usage yet → `estimate_tokens`
/// (ASM_OC_ESTIMATE_TOKENS), marked estimated; window unknown → no percent, marked estimated
/// (OpenCode itself shows no percentage then, so nothing exact can be said about fullness).
pub fn measure(scan: &Scan, limits: Option<&ModelLimits>, rule: &CompactionRule, estimate_tokens: u64) -> Measurement {
    let (tokens, uncertain) = match scan {
        Scan::Found(usage) => (usage.tokens.context(), usage.uncertain),
        Scan::NotFound { .. } => (estimate_tokens, true),
    };
    let window = limits.and_then(ModelLimits::window);
    Measurement {
        context_tokens: Some(tokens),
        context_window: window,
        context_percent: crate::session::SessionInfo::percent_of(Some(tokens), window),
        compact_at_tokens: limits.and_then(|l| compact_at(l, rule)),
        estimated: uncertain || window.is_none(),
    }
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

    #[test]
    fn the_last_candidate_wins_and_unreadable_newer_rows_make_it_uncertain() {
        let usage = |n| Row::Usage { tokens: tokens(n, 1, 0, 0, 0), model: None };
        let Scan::Found(u) = last_context([Row::Skip, usage(10), usage(20)]) else { panic!() };
        assert_eq!((u.tokens.context(), u.uncertain), (11, false));
        let Scan::Found(u) = last_context([Row::Unreadable, usage(10)]) else { panic!() };
        assert!(u.uncertain);
        assert_eq!(last_context([Row::Skip]), Scan::NotFound { uncertain: false });
        assert_eq!(last_context([Row::Malformed, Row::Skip]), Scan::NotFound { uncertain: true });
    }

    #[test]
    fn compaction_threshold_follows_is_overflow() {
        let rule = CompactionRule::default();
        let limits = |context, input, output| ModelLimits { context: Some(context), input, output };
        assert_eq!(compact_at(&limits(200_000, None, Some(8_000)), &rule), Some(192_000));
        assert_eq!(compact_at(&limits(200_000, None, Some(64_000)), &rule), Some(168_000));
        assert_eq!(compact_at(&limits(200_000, None, None), &rule), Some(168_000));
        assert_eq!(compact_at(&limits(200_000, Some(160_000), Some(32_000)), &rule), Some(140_000));
        assert_eq!(compact_at(&limits(200_000, Some(160_000), Some(32_000)), &CompactionRule { reserved: Some(50_000), ..rule }), Some(110_000));
        assert_eq!(compact_at(&limits(200_000, None, Some(8_000)), &CompactionRule { auto: false, ..rule }), None);
        assert_eq!(compact_at(&limits(0, None, Some(8_000)), &rule), None);
        assert_eq!(compact_at(&limits(200_000, None, Some(8_000)), &CompactionRule { output_token_max: 4_000, ..rule }), Some(196_000));
    }

    #[test]
    fn measurement_marks_estimates() {
        let limits = ModelLimits { context: Some(200_000), input: None, output: Some(8_000) };
        let rule = CompactionRule::default();
        let found = Scan::Found(Usage { tokens: Tokens { total: Some(20_042), ..tokens(0, 42, 0, 20_000, 0) }, model: None, uncertain: false });
        let m = measure(&found, Some(&limits), &rule, 8_000);
        assert_eq!(
            m,
            Measurement {
                context_tokens: Some(20_042),
                context_window: Some(200_000),
                context_percent: Some(10.0),
                compact_at_tokens: Some(192_000),
                estimated: false
            }
        );
        let none = measure(&Scan::NotFound { uncertain: false }, Some(&limits), &rule, 8_000);
        assert_eq!((none.context_tokens, none.context_percent, none.estimated), (Some(8_000), Some(4.0), true));
        let no_window = measure(&found, None, &rule, 8_000);
        assert_eq!((no_window.context_tokens, no_window.context_window, no_window.context_percent, no_window.estimated), (Some(20_042), None, None, true));
    }
}
