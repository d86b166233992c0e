//! The agent platforms, one adapter folder each: `claude_code`, `opencode`, `openclaw`. Every
//! folder has the same rooms (see `README.md` in each):
//!
//! | file | what it knows |
//! | --- | --- |
//! | `paths.rs` | where the platform keeps things (env vars, defaults, profiles) |
//! | `model.rs` | the one line/row model of its store and its lenient parser |
//! | `discover.rs`, `measure.rs` | which sessions exist and how full each context is |
//! | `events.rs` | the transcript as [`TranscriptEvent`]s for extraction |
//! | `summary.rs` | asking the platform itself for a summary (ASM_SUMMARY_MODE=platform) |
//! | `switch.rs` | how a fresh session takes over from a full one |
//!
//! [`Adapter`] is the only way the rest of asm-core reaches a platform: monitor, switching and
//! memory ask [`adapter`] for the session's platform and never name one. Stores are read
//! read-only; adapters act only through the platform's own CLI or API, and never notify.

pub mod claude_code;
pub mod openclaw;
pub mod opencode;
pub mod sqlite;

use crate::session::{Platform, SessionInfo, SessionList, TranscriptRef};
use crate::transcript::{ReadStats, Sink, TranscriptError};
use crate::Runtime;
use serde_json::Value;
use std::path::Path;
use thiserror::Error;

/// What one platform can do for ASM.
pub trait Adapter: Sync {
    fn platform(&self) -> Platform;

    /// Every session this platform holds on this machine, measured the way the platform
    /// counts. Stores that cannot be read go into `errors`; the others are still listed.
    fn discover(&self, rt: &Runtime) -> SessionList;

    /// Streams the session's transcript into `sink`, one event at a time.
    fn read_events(&self, transcript: &TranscriptRef, sink: &mut Sink<'_>) -> Result<ReadStats, TranscriptError>;

    /// Asks the platform to summarize the session itself (it writes the summary where
    /// [`Adapter::read_events`] then finds it, or hands it back). Never called while model
    /// work is paused: that is the caller's check.
    fn summarize(&self, rt: &Runtime, session: &SessionInfo) -> SummaryOutcome;

    /// Whether ASM itself starts the fresh session (otherwise the next session the person
    /// starts receives the handoff).
    fn switches_itself(&self, session: &SessionInfo) -> bool;

    /// First step of a switch: make room for a fresh session. Returns what the second step
    /// needs, kept in the state file so that a failed second step is retried on its own.
    fn begin_switch(&self, rt: &Runtime, session: &SessionInfo) -> Result<Value, SwitchError>;

    /// Second step: give the fresh session the handoff written in `handoff_file`.
    fn finish_switch(&self, rt: &Runtime, pending: &Value, handoff_file: &Path) -> Result<(), SwitchError>;

    /// A name for the session the feed notice can show once the switch is done.
    fn switched_label(&self, pending: &Value) -> Option<(String, Option<String>)>;
}

/// What asking a platform for its own summary came to.
#[derive(Debug, Clone, PartialEq)]
pub enum SummaryOutcome {
    /// The platform summarized; `text` when it handed the summary back directly.
    Done { source: String, text: Option<String> },
    /// Not available, failed or timed out; the reason goes into the memory file.
    Failed(String),
}

/// Why a switch step failed; the memory file is safe either way and the step is retried.
#[derive(Debug, Error)]
pub enum SwitchError {
    #[error("session {0} cannot be switched by ASM on its platform")]
    NotSwitchable(String),
    #[error("the {0} command is not on PATH")]
    NoCli(&'static str),
    #[error("{program} {step} failed: {detail}")]
    Cli { program: &'static str, step: &'static str, detail: String },
    #[error("the pending switch record is not understood: {0}")]
    Pending(String),
    #[error("no handoff to give the fresh session: {0}")]
    Handoff(String),
}

static CLAUDE_CODE: claude_code::ClaudeCode = claude_code::ClaudeCode;
static OPENCODE: opencode::Opencode = opencode::Opencode;
static OPENCLAW: openclaw::Openclaw = openclaw::Openclaw;

/// The adapter of `platform`.
pub fn adapter(platform: Platform) -> &'static dyn Adapter {
    match platform {
        Platform::ClaudeCode => &CLAUDE_CODE,
        Platform::Opencode => &OPENCODE,
        Platform::Openclaw => &OPENCLAW,
    }
}

/// Every session on the machine (or on one platform), sorted highest percent first.
pub fn discover(rt: &Runtime, only: Option<Platform>) -> SessionList {
    let mut all = SessionList::default();
    for platform in Platform::ALL.into_iter().filter(|p| only.is_none_or(|o| o == *p)) {
        let started = std::time::Instant::now();
        let found = adapter(platform).discover(rt);
        log::debug!("{platform}: {} sessions, {} store errors in {} ms", found.sessions.len(), found.errors.len(), started.elapsed().as_millis());
        all.extend(found);
    }
    all.sort();
    all.redact();
    all
}

/// The session with this id (or OpenClaw key), searching one platform or all.
pub fn find_session(rt: &Runtime, id: &str, only: Option<Platform>) -> Option<SessionInfo> {
    let list = discover(rt, only);
    let matches = |s: &SessionInfo| s.session_id == id || s.key.as_deref() == Some(id);
    list.sessions.into_iter().find(matches)
}

/// Streams the transcript of `session` through its platform's adapter.
pub fn read_events(session: &SessionInfo, sink: &mut Sink<'_>) -> Result<ReadStats, TranscriptError> {
    let transcript =
        session.transcript.as_ref().ok_or_else(|| TranscriptError::new(Path::new(&session.source), "the session has no transcript ASM can read"))?;
    adapter(session.platform).read_events(transcript, sink)
}
