//! How full an OpenClaw session is, by OpenClaw's own rules: context used = `totalTokens`
//! (unknown when `totalTokensFresh` is false), window = `contextTokens`, and where OpenClaw
//! itself would compact (window − reserve). Numbers that are not OpenClaw's own exact counts
//! are marked estimated.

use super::model::SessionEntry;
use crate::session::SessionInfo;

/// Which OpenClaw generation wrote the row; their compaction reserves differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    /// 2026.8.1 and later (SQLite store): reserve 20,000 capped at a quarter of the window.
    Sqlite,
    /// Up to 2026.7.x (`sessions.json`): reserve 16,384 raised to its 20,000 floor.
    Files,
}

/// Built-in reserve for windows of 80k and more (2026.9.6).
const RESERVE_TOKENS: u64 = 20_000;
/// `reserveTokensFloor` of 2026.7.x, which wins over its 16,384 `reserveTokens`.
const LEGACY_RESERVE_FLOOR: u64 = 20_000;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measurement {
    pub tokens: Option<u64>,
    pub window: Option<u64>,
    pub percent: Option<f64>,
    pub compact_at: Option<u64>,
    pub estimated: bool,
}

/// Measures one entry. `no_usage_estimate` (ASM_OC_ESTIMATE_TOKENS) stands in for a
/// session that has not made a model call yet and has no pre-prompt estimate either.
pub fn measure(entry: &SessionEntry, generation: Generation, no_usage_estimate: u64) -> Measurement {
    let window = context_window(entry);
    let (tokens, estimated) = context_used(entry, no_usage_estimate);
    Measurement {
        tokens,
        window,
        percent: SessionInfo::percent_of(tokens, window),
        compact_at: window.and_then(|w| compact_at(entry, generation, w)),
        estimated,
    }
}

/// `contextTokens`, else the budget OpenClaw used for its last pre-prompt estimate.
fn context_window(entry: &SessionEntry) -> Option<u64> {
    let budget = entry.budget_for_current_session().and_then(|b| b.context_token_budget);
    entry.context_tokens.filter(|w| *w > 0).or(budget.filter(|w| *w > 0))
}

/// (tokens, estimated). Fresh `totalTokens` is exact; a stale one is never shown; the
/// pre-prompt estimate (what `/status` shows as "est") stands in, marked estimated.
fn context_used(entry: &SessionEntry, no_usage_estimate: u64) -> (Option<u64>, bool) {
    let pre_prompt_estimate = entry.budget_for_current_session().and_then(|b| b.estimated_prompt_tokens).filter(|t| *t > 0);
    let stale = entry.total_tokens_fresh == Some(false);
    match entry.total_tokens.filter(|t| *t > 0) {
        Some(total) if !stale => (Some(total), false),
        _ if pre_prompt_estimate.is_some() => (pre_prompt_estimate, true),
        // Stale and nothing better: unknown rather than a number that may be far off.
        _ if stale => (None, false),
        _ => (Some(no_usage_estimate), true),
    }
}

/// Where OpenClaw's blocking compaction starts: window − reserve. The reserve OpenClaw
/// reported for this window wins (it reflects the user's config); else the built-in rule.
fn compact_at(entry: &SessionEntry, generation: Generation, window: u64) -> Option<u64> {
    let reported = entry
        .budget_for_current_session()
        .filter(|b| b.context_token_budget.is_none_or(|budget| budget == window))
        .and_then(|b| b.effective_reserve_tokens.or(b.reserve_tokens));
    let reserve = reported.unwrap_or(match generation {
        Generation::Sqlite => RESERVE_TOKENS.min(window / 4),
        Generation::Files => LEGACY_RESERVE_FLOOR,
    });
    window.checked_sub(reserve).filter(|at| *at > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(json: &str) -> SessionEntry {
        SessionEntry::parse(json).unwrap()
    }

    #[test]
    fn fresh_total_over_context_tokens_is_exact() {
        let m = measure(&entry(r#"{"totalTokens":12993,"totalTokensFresh":true,"contextTokens":32000}"#), Generation::Sqlite, 8000);
        assert_eq!((m.tokens, m.window, m.percent, m.compact_at, m.estimated), (Some(12993), Some(32000), Some(40.6), Some(24000), false));
    }

    #[test]
    fn stale_total_is_unknown_not_shown() {
        let m = measure(&entry(r#"{"totalTokens":10623,"totalTokensFresh":false,"contextTokens":32000}"#), Generation::Sqlite, 8000);
        assert_eq!((m.tokens, m.percent, m.estimated), (None, None, false));
        assert_eq!(m.window, Some(32000));
    }

    #[test]
    fn stale_total_with_a_pre_prompt_estimate_uses_it_marked_estimated() {
        let m = measure(
            &entry(r#"{"totalTokens":10623,"totalTokensFresh":false,"contextTokens":32000,"contextBudgetStatus":{"estimatedPromptTokens":3200}}"#),
            Generation::Sqlite,
            8000,
        );
        assert_eq!((m.tokens, m.percent, m.estimated), (Some(3200), Some(10.0), true));
    }

    #[test]
    fn no_usage_yet_uses_the_configured_estimate() {
        let m = measure(&entry(r#"{"contextTokens":200000}"#), Generation::Sqlite, 8000);
        assert_eq!((m.tokens, m.percent, m.estimated), (Some(8000), Some(4.0), true));
        let zero = measure(&entry(r#"{"totalTokens":0,"contextTokens":200000}"#), Generation::Sqlite, 8000);
        assert_eq!(zero.tokens, Some(8000));
    }

    #[test]
    fn unknown_window_gives_no_percent() {
        let m = measure(&entry(r#"{"totalTokens":500}"#), Generation::Sqlite, 8000);
        assert_eq!((m.tokens, m.window, m.percent, m.compact_at), (Some(500), None, None, None));
    }

    #[test]
    fn compaction_reserve_rules_per_generation() {
        let big = entry(r#"{"contextTokens":200000}"#);
        assert_eq!(measure(&big, Generation::Sqlite, 1).compact_at, Some(180_000));
        assert_eq!(measure(&big, Generation::Files, 1).compact_at, Some(180_000));
        let small = entry(r#"{"contextTokens":32000}"#);
        assert_eq!(measure(&small, Generation::Sqlite, 1).compact_at, Some(24_000));
        assert_eq!(measure(&small, Generation::Files, 1).compact_at, Some(12_000));
        let docs_example = entry(r#"{"contextTokens":32768}"#);
        assert_eq!(measure(&docs_example, Generation::Sqlite, 1).compact_at, Some(24_576));
        let tiny = entry(r#"{"contextTokens":16000}"#);
        assert_eq!(measure(&tiny, Generation::Files, 1).compact_at, None);
    }

    #[test]
    fn reported_reserve_wins_when_it_is_for_this_window() {
        let e = entry(r#"{"contextTokens":200000,"contextBudgetStatus":{"contextTokenBudget":200000,"effectiveReserveTokens":30000}}"#);
        assert_eq!(measure(&e, Generation::Sqlite, 1).compact_at, Some(170_000));
        let other_window = entry(r#"{"contextTokens":200000,"contextBudgetStatus":{"contextTokenBudget":32000,"effectiveReserveTokens":8000}}"#);
        assert_eq!(measure(&other_window, Generation::Sqlite, 1).compact_at, Some(180_000));
    }
}
