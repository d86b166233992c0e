//! How full a Claude Code session is, counted as Claude Code counts it: the prompt size of the
//! last main-chain response (or the compaction boundary's `postTokens` when a compaction came
//! after it), the model's context window, and where auto-compaction would fire.

use super::model::{self, Kinds, Line};
use super::tail::{self, ReverseLines, TailLine};
use crate::env::Env;
use std::fs::File;
use std::io;

/// Where the current context size came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ContextSource {
    /// `input + cache_creation + cache_read` of the last main-chain response.
    Usage,
    /// `compactMetadata.postTokens` of a compaction after the last response.
    CompactBoundary,
    /// A compaction after the last response that did not record `postTokens`.
    CompactBoundaryWithoutCount,
    /// No response with usage yet.
    Nothing,
}

/// What one transcript says about its session (kept in the measurement index as it is).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TranscriptFacts {
    pub context_tokens: Option<u64>,
    pub source: ContextSource,
    /// `message.model` of the response measured, or the model attachment after it.
    pub model: Option<String>,
    /// 2.1.3xx `requestedModel` (keeps a `[1m]` suffix the API model id lacks).
    pub requested_model: Option<String>,
    pub cwd: Option<String>,
    pub title: Option<String>,
    /// Lines that could not be read (corrupt, cut off, not UTF-8, too long) on the way.
    pub skipped_lines: usize,
    /// A skipped line came before the answer and might have held a newer one, so the number
    /// must not be presented as exact.
    pub doubtful: bool,
}

impl Default for TranscriptFacts {
    fn default() -> Self {
        TranscriptFacts {
            context_tokens: None,
            source: ContextSource::Nothing,
            model: None,
            requested_model: None,
            cwd: None,
            title: None,
            skipped_lines: 0,
            doubtful: false,
        }
    }
}

/// Reads what is needed from the end of the transcript (and its first lines for the title).
pub fn read_transcript(file: &File, len: u64) -> io::Result<TranscriptFacts> {
    read_transcript_with_limits(file, len, Limits::default())
}

/// Bounds on one transcript's reading, so one odd file cannot slow the whole listing.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longer lines are passed over (counted as unreadable).
    pub max_line: usize,
    /// How far back from the end to look for the last response before settling for what was
    /// found (a file with no response in its last 256 MiB is an estimate).
    pub max_scan: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_line: tail::MAX_LINE, max_scan: 256 * 1024 * 1024 }
    }
}

/// [`read_transcript`] with explicit [`Limits`].
pub fn read_transcript_with_limits(file: &File, len: u64, limits: Limits) -> io::Result<TranscriptFacts> {
    let mut scan = TailScan::default();
    let mut lines = ReverseLines::with_limit(file, len, limits.max_line);
    while !scan.complete() && len - lines.position() <= limits.max_scan {
        match lines.next_line()? {
            None => break,
            Some(TailLine::Oversized { .. }) => scan.skipped(),
            Some(TailLine::Line(bytes)) => scan.line(bytes),
        }
    }
    let mut facts = scan.facts;
    if facts.title.is_none() || facts.cwd.is_none() {
        let head = read_head_lines(file, len, &mut facts)?;
        if facts.title.is_none() {
            facts.title = trusted_summary(file, len, &head, scan.summaries)?.or(head.prompt).map(|t| short_title(&t));
        }
    }
    if facts.title.is_none() {
        facts.title = scan.last_prompt.map(|p| short_title(&p));
    }
    Ok(facts)
}

/// The facts of a transcript that only grew since its first `old_len` bytes were measured,
/// reading the bytes added (and the head for the title) — or None when those bytes do not
/// decide the result (no response in them, no cwd, a legacy summary title): the caller then
/// reads the file as [`read_transcript`] does. The result is what a fresh read gives, because
/// a fresh read would stop inside the same bytes.
pub fn read_grown(file: &File, old_len: u64, len: u64) -> io::Result<Option<TranscriptFacts>> {
    if old_len == 0 || old_len >= len || !ends_a_line(file, old_len)? {
        return Ok(None);
    }
    let mut scan = TailScan::default();
    let limits = Limits::default();
    let mut lines = ReverseLines::between(file, old_len, len, limits.max_line);
    while !scan.complete() && len - lines.position() <= limits.max_scan {
        match lines.next_line()? {
            None => break,
            Some(TailLine::Oversized { .. }) => scan.skipped(),
            Some(TailLine::Line(bytes)) => scan.line(bytes),
        }
    }
    if !scan.complete() || !scan.summaries.is_empty() || scan.facts.cwd.is_none() {
        return Ok(None);
    }
    let mut facts = scan.facts;
    if facts.title.is_none() {
        let head = read_head_lines(file, len, &mut facts)?;
        if !head.summaries.is_empty() {
            return Ok(None);
        }
        facts.title = head.prompt.or(scan.last_prompt).map(|t| short_title(&t));
    }
    Ok(Some(facts))
}

/// Whether the byte before `offset` is a newline (the old end was a complete line).
fn ends_a_line(file: &File, offset: u64) -> io::Result<bool> {
    let mut byte = [0u8; 1];
    std::os::unix::fs::FileExt::read_exact_at(file, &mut byte, offset - 1)?;
    Ok(byte[0] == b'\n')
}

#[derive(Default)]
struct TailScan {
    facts: TranscriptFacts,
    model_found: bool,
    last_prompt: Option<String>,
    /// Legacy `summary` titles `(text, leafUuid)`, trusted only when the leaf is in this file.
    summaries: Vec<(String, String)>,
}

impl TailScan {
    fn complete(&self) -> bool {
        self.facts.source != ContextSource::Nothing && self.model_found
    }

    fn measured(&self) -> bool {
        self.facts.source != ContextSource::Nothing
    }

    /// Any unreadable line before the answer could have been a newer answer.
    fn skipped(&mut self) {
        self.facts.skipped_lines += 1;
        self.facts.doubtful |= !self.measured();
    }

    fn line(&mut self, bytes: &[u8]) {
        let kinds = model::kinds(bytes);
        if !kinds.any() {
            // Not a line we read; a cut-off or garbage line is still counted.
            if !looks_like_json_object(bytes) {
                self.skipped();
            }
            return;
        }
        // From a user line the tail needs only the cwd; once known, a tool result of megabytes
        // is not parsed for nothing (parsing is most of a listing's cost).
        if kinds.only(Kinds::USER) && self.facts.cwd.is_some() {
            return;
        }
        match Line::parse(bytes) {
            Ok(line) => self.parsed(&line),
            // A line of another type that does not parse cannot have been the answer.
            Err(_) if kinds.has(Kinds::ASSISTANT) || kinds.has(Kinds::SYSTEM) => self.skipped(),
            Err(_) => self.facts.skipped_lines += 1,
        }
    }

    fn parsed(&mut self, line: &Line) {
        if self.facts.cwd.is_none() {
            self.facts.cwd.clone_from(&line.cwd);
        }
        if let Some(title) = line.title().filter(|_| self.facts.title.is_none()) {
            self.facts.title = Some(short_title(title));
        }
        if let (Some(text), Some(leaf)) = (line.summary.as_ref().filter(|_| line.kind.as_deref() == Some("summary")), &line.leaf_uuid) {
            self.summaries.push((text.clone(), leaf.clone()));
        }
        if line.kind.as_deref() == Some("last-prompt") && self.last_prompt.is_none() {
            self.last_prompt.clone_from(&line.last_prompt);
        }
        if let Some(model) = line.attached_model().filter(|_| !self.model_found) {
            self.model_found = true;
            self.facts.model = Some(model.to_owned());
        }
        if let Some(post_tokens) = line.compact_boundary().filter(|_| !self.measured()) {
            self.facts.context_tokens = post_tokens;
            self.facts.source = if post_tokens.is_some() { ContextSource::CompactBoundary } else { ContextSource::CompactBoundaryWithoutCount };
        }
        if let Some((usage, message)) = line.main_chain_usage() {
            if !self.measured() {
                self.facts.context_tokens = Some(usage.context_tokens());
                self.facts.source = ContextSource::Usage;
            }
            if !self.model_found {
                self.model_found = true;
                self.facts.model.clone_from(&message.model);
                self.facts.requested_model.clone_from(&line.requested_model);
            }
        }
    }
}

/// Cheap: the lines not parsed are only checked for their braces (a cut-off line lacks one).
fn looks_like_json_object(bytes: &[u8]) -> bool {
    bytes.first() == Some(&b'{') && bytes.last() == Some(&b'}')
}

/// What the first lines of a file hold: the first typed prompt and legacy `summary` lines.
#[derive(Default)]
struct Head {
    prompt: Option<String>,
    summaries: Vec<(String, String)>,
}

/// Reads the first lines for the cwd and the first prompt: a small read first, a larger one
/// only when hooks and attachments pushed the prompt further down.
fn read_head_lines(file: &File, len: u64, facts: &mut TranscriptFacts) -> io::Result<Head> {
    let mut head = Head::default();
    for limit in tail::HEAD_READS {
        let bytes = tail::read_head(file, limit)?;
        head = Head::default();
        for line in memchr::memchr_iter(b'\n', &bytes).scan(0, |start, nl| Some(&bytes[std::mem::replace(start, nl + 1)..nl])).chain(last_piece(&bytes)) {
            head_line(line, facts, &mut head);
        }
        if head.prompt.is_some() || len <= limit as u64 {
            break;
        }
    }
    Ok(head)
}

/// The bytes after the last newline (the whole file when it is shorter than the read).
fn last_piece(bytes: &[u8]) -> Option<&[u8]> {
    let start = memchr::memrchr(b'\n', bytes).map_or(0, |nl| nl + 1);
    bytes.get(start..).filter(|rest| !rest.is_empty())
}

fn head_line(bytes: &[u8], facts: &mut TranscriptFacts, head: &mut Head) {
    let kinds = model::kinds(bytes);
    if facts.cwd.is_none() || kinds.has(Kinds::SUMMARY) {
        if let Ok(line) = Line::parse(bytes) {
            if facts.cwd.is_none() {
                facts.cwd.clone_from(&line.cwd);
            }
            if let (Some("summary"), Some(text), Some(leaf)) = (line.kind.as_deref(), line.summary, line.leaf_uuid) {
                head.summaries.push((text, leaf));
            }
        }
    }
    if head.prompt.is_none() && kinds.has(Kinds::USER) {
        head.prompt = model::user_prompt(bytes);
    }
}

/// How much of the end of a file is searched for the message a legacy `summary` names.
const SUMMARY_LEAF_SEARCH: u64 = 256 * 1024;

/// A legacy `summary` title, trusted only when the message it names (`leafUuid`) is in this
/// file: Claude Code often wrote them into the wrong file. Only legacy files pay this read.
fn trusted_summary(file: &File, len: u64, head: &Head, tail_summaries: Vec<(String, String)>) -> io::Result<Option<String>> {
    let candidates: Vec<&(String, String)> = tail_summaries.iter().chain(&head.summaries).collect();
    if candidates.is_empty() {
        return Ok(None);
    }
    let start = len.saturating_sub(SUMMARY_LEAF_SEARCH);
    let mut end_bytes = vec![0u8; (len - start) as usize];
    std::os::unix::fs::FileExt::read_exact_at(file, &mut end_bytes, start)?;
    let head_bytes = tail::read_head(file, tail::HEAD_READS[tail::HEAD_READS.len() - 1])?;
    Ok(candidates.into_iter().find_map(|(text, leaf)| {
        let needle = format!("\"uuid\":\"{leaf}\"");
        let found = |hay: &[u8]| memchr::memmem::find(hay, needle.as_bytes()).is_some();
        (found(&end_bytes) || found(&head_bytes)).then(|| text.clone())
    }))
}

/// Titles longer than this are cut (at a character boundary) for the session list.
const TITLE_CHARS: usize = 100;

fn short_title(text: &str) -> String {
    let first_line = text.trim().lines().next().unwrap_or_default().trim();
    match first_line.char_indices().nth(TITLE_CHARS) {
        Some((cut, _)) => format!("{}…", &first_line[..cut]),
        None => first_line.to_owned(),
    }
}

/// One model family: its context window and its maximum output (which the auto-compact
/// threshold reserves, capped at 20,000).
struct ModelSpec {
    id_contains: &'static str,
    window: u64,
    max_output: u64,
}

/// Known model windows, first match wins. 2.1.330's default `claude-opus-5-5` reported
/// `contextWindow: 1000000`; the 4.x and 3.x families have 200k (1M only with `[1m]`).
const MODELS: &[ModelSpec] = &[
    ModelSpec { id_contains: "claude-opus-5-5", window: 1_000_000, max_output: 128_000 },
    ModelSpec { id_contains: "claude-opus-4", window: 200_000, max_output: 32_000 },
    ModelSpec { id_contains: "claude-sonnet-4", window: 200_000, max_output: 32_000 },
    ModelSpec { id_contains: "claude-haiku-4", window: 200_000, max_output: 32_000 },
    ModelSpec { id_contains: "claude-3-7-sonnet", window: 200_000, max_output: 32_000 },
    ModelSpec { id_contains: "claude-3-5-sonnet", window: 200_000, max_output: 8_192 },
    ModelSpec { id_contains: "claude-3-5-haiku", window: 200_000, max_output: 8_192 },
    ModelSpec { id_contains: "claude-3-", window: 200_000, max_output: 4_096 },
];

/// Claude Code's window when nothing says otherwise.
pub const DEFAULT_WINDOW: u64 = 200_000;
pub const ONE_MILLION_WINDOW: u64 = 1_000_000;
const ONE_MILLION_SUFFIX: &str = "[1m]";
/// Auto-compact constants from the 2.1.330 binary: output reserve cap and summary buffer.
const OUTPUT_RESERVE_CAP: u64 = 20_000;
const SUMMARY_BUFFER: u64 = 13_000;

/// A context window and whether it is known rather than assumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub tokens: u64,
    pub known: bool,
    max_output: u64,
}

/// The window Claude Code used for this model: a `[1m]` suffix on the requested or response
/// model means 1M; otherwise the model table; an unknown model gets Claude Code's default
/// 200k marked as not known. `CLAUDE_CODE_DISABLE_1M_CONTEXT` caps it at 200k.
pub fn window_for(model: Option<&str>, requested_model: Option<&str>, env: &Env) -> Window {
    let one_m_disabled = env.get("CLAUDE_CODE_DISABLE_1M_CONTEXT").is_some_and(|v| v != "0" && v != "false");
    let asks_1m = [model, requested_model].into_iter().flatten().any(|m| m.ends_with(ONE_MILLION_SUFFIX));
    let base = model.or(requested_model).map(|m| m.trim_end_matches(ONE_MILLION_SUFFIX));
    let spec = base.and_then(|m| MODELS.iter().find(|s| m.contains(s.id_contains)));
    let mut window = match spec {
        Some(s) => Window { tokens: s.window, known: true, max_output: s.max_output },
        None => Window { tokens: DEFAULT_WINDOW, known: false, max_output: OUTPUT_RESERVE_CAP },
    };
    if asks_1m {
        window.tokens = ONE_MILLION_WINDOW;
        window.known = true;
    }
    if one_m_disabled {
        window.tokens = window.tokens.min(DEFAULT_WINDOW);
    }
    window
}

/// A prompt the API accepted cannot have been larger than its window: usage over 200k proves
/// the 1M window (2.0.x transcripts record no `requestedModel` with its `[1m]`), unless 1M is
/// switched off or the number is beyond 1M too.
pub fn window_proven_by(window: Window, tokens: u64, env: &Env) -> Window {
    let one_m_disabled = env.get("CLAUDE_CODE_DISABLE_1M_CONTEXT").is_some_and(|v| v != "0" && v != "false");
    if tokens > window.tokens && window.tokens < ONE_MILLION_WINDOW && tokens <= ONE_MILLION_WINDOW && !one_m_disabled {
        return Window { tokens: ONE_MILLION_WINDOW, known: true, ..window };
    }
    window
}

/// Where Claude Code would auto-compact: window − min(max output, 20,000) − 13,000, lowered
/// (never raised) by `CLAUDE_AUTOCOMPACT_PCT_OVERRIDE`; None when auto-compaction is off
/// (`DISABLE_AUTO_COMPACT`, `DISABLE_COMPACT`, or settings `autoCompactEnabled: false`).
pub fn compact_threshold(window: Window, env: &Env, auto_compact_enabled: bool) -> Option<u64> {
    let off = ["DISABLE_AUTO_COMPACT", "DISABLE_COMPACT"].iter().any(|v| env.get(v).is_some_and(|v| v != "0" && v != "false"));
    if off || !auto_compact_enabled {
        return None;
    }
    let effective = window.tokens.saturating_sub(window.max_output.min(OUTPUT_RESERVE_CAP));
    let threshold = effective.saturating_sub(SUMMARY_BUFFER);
    let pct = env.get("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE").and_then(|v| v.trim().parse::<f64>().ok()).filter(|p| *p > 0.0 && *p <= 100.0);
    Some(match pct {
        Some(p) => threshold.min((effective as f64 * p / 100.0).floor() as u64),
        None => threshold,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn windows_follow_suffix_then_table_then_default() {
        let e = env(&[]);
        assert_eq!(window_for(Some("claude-sonnet-4-5"), Some("claude-sonnet-4-5"), &e).tokens, 200_000);
        assert_eq!(window_for(Some("claude-sonnet-4-5"), Some("claude-sonnet-4-5[1m]"), &e).tokens, 1_000_000);
        assert_eq!(window_for(Some("claude-opus-5-5"), None, &e).tokens, 1_000_000);
        assert_eq!(window_for(Some("claude-sonnet-4-5-20250929"), None, &e), Window { tokens: 200_000, known: true, max_output: 32_000 });
        let unknown = window_for(Some("MiniMax-M2"), None, &e);
        assert_eq!((unknown.tokens, unknown.known), (200_000, false));
        assert!(!window_for(None, None, &e).known);
        let capped = window_for(Some("claude-opus-5-5"), None, &env(&[("CLAUDE_CODE_DISABLE_1M_CONTEXT", "1")]));
        assert_eq!(capped.tokens, 200_000);
    }

    #[test]
    fn threshold_is_window_minus_33k_for_200k_models() {
        let e = env(&[]);
        let w = window_for(Some("claude-sonnet-4-5"), None, &e);
        assert_eq!(compact_threshold(w, &e, true), Some(167_000));
        assert_eq!(compact_threshold(window_for(Some("claude-3-5-sonnet-20241022"), None, &e), &e, true), Some(200_000 - 8_192 - 13_000));
        assert_eq!(compact_threshold(window_for(Some("claude-opus-5-5"), None, &e), &e, true), Some(967_000));
        assert_eq!(compact_threshold(w, &env(&[("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE", "50")]), true), Some(90_000));
        assert_eq!(compact_threshold(w, &env(&[("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE", "99")]), true), Some(167_000), "only lowers");
        assert_eq!(compact_threshold(w, &env(&[("DISABLE_AUTO_COMPACT", "1")]), true), None);
        assert_eq!(compact_threshold(w, &e, false), None);
    }

    #[test]
    fn titles_are_one_line_and_cut() {
        assert_eq!(short_title("  fix it\nplease "), "fix it");
        let long = "é".repeat(150);
        assert_eq!(short_title(&long).chars().count(), TITLE_CHARS + 1);
    }
}
