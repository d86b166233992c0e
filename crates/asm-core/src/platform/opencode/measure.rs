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

#[cfg(test)]
use super::model::Tokens;
use super::model::{Row, Scan, Usage};

/// `OUTPUT_TOKEN_MAX` in OpenCode (overridable with `OPENCODE_EXPERIMENTAL_OUTPUT_TOKEN_MAX`).
pub const OUTPUT_TOKEN_MAX: u64 = 32_000;
/// The reserve OpenCode keeps below `limit.input` unless `compaction.reserved` says otherwise.
const DEFAULT_INPUT_RESERVE: u64 = 20_000;

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
