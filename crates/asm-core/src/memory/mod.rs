//! Key-information extraction from transcripts and the session memory store
//! (`<state>/.session_memory/<session_id>.json`).
//!
//! The flow: the session's platform adapter streams its transcript as platform-neutral
//! [`TranscriptEvent`]s; the deterministic [`extract::Extractor`] keeps
//! capped, recent-first sections; [`handoff`] renders the Markdown a new session is given;
//! [`store`] writes the record atomically and links it to the session it continues.
//! [`summary`] optionally asks the platform to summarize itself first; [`inject`] serves
//! the platforms' hooks (`hook`).

pub mod extract;
pub mod handoff;
pub mod hook;
pub mod store;
pub mod summary;
#[cfg(test)]
mod tests;

use crate::session::{Platform, SessionInfo};
use crate::transcript::TranscriptError;
pub use crate::transcript::{ReadStats, TranscriptEvent};
use crate::Runtime;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use thiserror::Error;

pub use extract::Sections;
pub use hook::handle as handle_hook;
pub use store::MemoryStore;

/// Version of the memory file layout; bumped when a field changes meaning.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Error)]
pub enum MemoryError {
    #[error("session id {0:?} is not usable as a memory file name: expected 1-128 characters of letters, digits, '.', '_', '-', ':' (not starting with '.')")]
    BadSessionId(String),
    #[error("session {0} has no transcript that ASM can read")]
    NoTranscript(String),
    #[error(transparent)]
    Transcript(#[from] TranscriptError),
    #[error("no memory stored for session {0}")]
    NotFound(String),
    #[error("{query:?} names {} stored memories; give more of the id: {}", .matches.len(), .matches.join(", "))]
    Ambiguous { query: String, matches: Vec<String> },
    #[error("memory file {path} is unreadable: {message}")]
    Corrupt { path: PathBuf, message: String },
    #[error("cannot write memory file {path}: {message} (the previous file, if any, is unchanged)")]
    Write { path: PathBuf, message: String },
    #[error(transparent)]
    Fs(#[from] crate::fsutil::FsError),
}

/// How full the context was when the memory was taken.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContextSnapshot {
    pub tokens: Option<u64>,
    pub window: Option<u64>,
    pub percent: Option<f64>,
}

/// Where the leading summary came from and, when a platform summary was asked for, how that went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryInfo {
    /// `extract` or `platform` (ASM_SUMMARY_MODE).
    pub mode: String,
    /// `platform` when the platform's own summary leads, else `extract`.
    pub source: String,
    /// Why the platform summary was not used, when it was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_reason: Option<String>,
}

/// Why a memory was taken, which decides whether its handoff is waiting for a new session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// `memory_manager --action extract` by hand: the handoff waits for the next session.
    #[default]
    Manual,
    /// A switch (threshold crossing or `session_manager --switch`): the handoff waits for (or
    /// was given to) the fresh session.
    Switch,
    /// Just before the platform compacted the session (Claude Code PreCompact, OpenCode's
    /// compaction): kept for the compacted session itself, not handed to a new one.
    PreCompact,
}

/// One stored memory: everything `<session_id>.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryRecord {
    pub schema_version: u32,
    pub session_id: String,
    pub platform: Platform,
    /// OpenClaw session key (carries the Telegram topic).
    pub key: Option<String>,
    pub cwd: Option<String>,
    pub model: Option<String>,
    pub context: ContextSnapshot,
    pub extracted_at: DateTime<Utc>,
    /// When this session's memory was first written (kept across re-extractions).
    pub first_extracted_at: DateTime<Utc>,
    #[serde(default)]
    pub origin: Origin,
    /// How many switches of this session id came before, plus one. OpenClaw 2026.9 keeps a
    /// topic's session id across a reset: each switch keeps its own memory, the earlier ones
    /// as `<session_id>.g<N>.json`.
    #[serde(default = "first_generation")]
    pub generation: u32,
    /// The session this one continues (same key or working directory; the same id after an
    /// OpenClaw 2026.9 reset).
    pub previous_session_id: Option<String>,
    /// The memory this one continues (`<session_id>.g<N>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_memory_id: Option<String>,
    /// Every earlier memory of the line, oldest first (ends with `previous_memory_id`).
    pub chain: Vec<String>,
    pub summary: SummaryInfo,
    #[serde(flatten)]
    pub sections: Sections,
    /// Which sections the new session may take literally.
    #[serde(default = "Fidelity::current")]
    pub fidelity: Fidelity,
    /// The Markdown a new session is given (under ASM_HANDOFF_MAX_BYTES).
    pub handoff: String,
    pub read_stats: ReadStats,
    /// The session the handoff was given to, once it was (`handed_via` says how).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub injected_into: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub injected_at: Option<DateTime<Utc>>,
    /// `hook` (Claude Code SessionStart), `plugin` (OpenCode), `seed` (OpenClaw), `continuation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handed_via: Option<String>,
    /// When the key information of this memory was given back to the session after its
    /// compaction (once per extraction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compact_context_at: Option<DateTime<Utc>>,
    /// A context engine of the platform that keeps the session's history on its own across a
    /// reset, which can make this handoff repeat what the fresh session already holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_engine: Option<String>,
}

fn first_generation() -> u32 {
    1
}

/// Which sections are copied from the transcript character for character (secrets masked,
/// long entries cut with "…") and which are condensed (written by a model, assembled or cut
/// by ASM), so a new session knows what it can quote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fidelity {
    pub verbatim: Vec<String>,
    pub condensed: Vec<String>,
}

impl Fidelity {
    pub fn current() -> Fidelity {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        Fidelity {
            verbatim: names(&["goal", "latest_request", "user_requests", "decisions", "files_read", "files_changed", "commands", "errors", "identifiers"]),
            condensed: names(&["platform_summary", "open_items", "subagent_results"]),
        }
    }
}

impl MemoryRecord {
    /// This memory's id for good: `<session_id>.g<generation>` (the chain and the handoff
    /// marker use it; the current file is `<session_id>.json`, earlier ones keep the id as name).
    pub fn memory_id(&self) -> String {
        format!("{}.g{}", self.session_id, self.generation)
    }

    /// The handoff waits for a new session: taken for a switch or by hand, not given yet.
    pub fn handoff_pending(&self) -> bool {
        self.origin != Origin::PreCompact && self.injected_into.is_none() && !self.handoff.trim().is_empty()
    }
}

/// Reads the session's transcript, extracts its key information, renders the handoff and
/// stores the record (linked to the session it continues). Returns what was stored.
pub fn extract(rt: &Runtime, info: &SessionInfo) -> Result<MemoryRecord, MemoryError> {
    extract_as(rt, info, Origin::Manual)
}

/// [`extract`] for a purpose: a PreCompact extraction never asks the platform for a summary
/// (the platform is compacting right now).
pub fn extract_as(rt: &Runtime, info: &SessionInfo, origin: Origin) -> Result<MemoryRecord, MemoryError> {
    store::validate_session_id(&info.session_id)?;
    if info.transcript.is_none() {
        return Err(MemoryError::NoTranscript(info.session_id.clone()));
    }
    let outcome = if origin == Origin::PreCompact { summary::Outcome::NotAsked } else { summary::request(rt, info) };
    let mut record = build_record(rt, info, outcome)?;
    record.origin = origin;
    let stored = MemoryStore::new(rt).save(record)?;
    let stats = &stored.read_stats;
    log::info!(
        "extracted {} session {}: {} records ({} corrupt, {} synthetic, {} oversized skipped), summary from {}, handoff {} bytes",
        stored.platform,
        stored.session_id,
        stats.records,
        stats.corrupt,
        stats.synthetic,
        stats.oversized,
        stored.summary.source,
        stored.handoff.len()
    );
    Ok(stored)
}

/// OpenClaw's `plugins.slots.contextEngine`, when it names an engine other than the built-in
/// one: such an engine (lossless-claw, say) keeps a topic's history across `sessions.reset`.
fn context_engine_note(rt: &Runtime) -> Option<String> {
    let config = crate::platform::openclaw::config::read(&rt.paths).ok().flatten()?;
    let engine = crate::platform::openclaw::config::context_engine(&config)?;
    Some(format!(
        "plugins.slots.contextEngine is \"{engine}\": it keeps the session's history across a reset, so the fresh session may already hold what this handoff repeats"
    ))
}

/// Extracts without storing: the record as it would be written (chain not linked yet).
pub fn build_record(rt: &Runtime, info: &SessionInfo, outcome: summary::Outcome) -> Result<MemoryRecord, MemoryError> {
    let mut extractor = extract::Extractor::for_session(extract::OwnIds::of(&info.session_id, info.key.as_deref(), info.cwd.as_deref()));
    let stats = crate::platform::read_events(info, &mut |event| extractor.push(event.clipped()))?;
    let mut sections = extractor.finish();
    let summary = outcome.apply(&rt.config, &mut sections);
    let now = Utc::now();
    let mut record = MemoryRecord {
        schema_version: SCHEMA_VERSION,
        session_id: info.session_id.clone(),
        platform: info.platform,
        key: info.key.clone(),
        cwd: info.cwd.clone().or_else(|| sections.transcript_cwd.clone()),
        model: info.model.clone().or_else(|| sections.transcript_model.clone()),
        context: ContextSnapshot { tokens: info.context_tokens, window: info.context_window, percent: info.context_percent },
        extracted_at: now,
        first_extracted_at: now,
        origin: Origin::Manual,
        generation: 1,
        previous_session_id: None,
        previous_memory_id: None,
        chain: Vec::new(),
        summary,
        sections,
        fidelity: Fidelity::current(),
        handoff: String::new(),
        read_stats: stats,
        injected_into: None,
        injected_at: None,
        handed_via: None,
        compact_context_at: None,
        context_engine: (info.platform == Platform::Openclaw).then(|| context_engine_note(rt)).flatten(),
    };
    record.handoff = handoff::render(&record, rt.config.handoff_max_bytes);
    Ok(record)
}
