//! The agent platforms, one adapter folder each: `claude_code`, `opencode`, `openclaw`. Every
//! folder has the same rooms (see `README.md` in each):
//!
//! | file | what it knows |
//! | --- | --- |
//! | `paths.rs` | where the platform keeps things (env vars, defaults, profiles) |
//! | `model.rs` | the one line/row model of its store and its lenient parser |
//! | `discover.rs`, `measure.rs` | which sessions exist and how full each context is |
//! | `events.rs` | the transcript as [`TranscriptEvent`]s for extraction |
//! | `summary.rs` | asking the platform for a summary of a copy (ASM_SUMMARY_MODE=platform) |
//! | `switch.rs` | how a fresh session takes over from a full one, step by step |
//! | `hooks.rs` | ASM's hooks or plugin in the platform's configuration |
//!
//! [`Adapter`] is the only way the rest of asm-core reaches a platform: monitor, switching and
//! memory ask [`adapter`] for the session's platform and never name one. Stores are read
//! read-only; adapters act only through the platform's own CLI or API, and never notify.

pub mod claude_code;
pub mod hooks;
pub mod openclaw;
pub mod opencode;
pub mod sqlite;

pub use hooks::{HookChange, HookError, HookEvent, HookStatus, StartSource};

use crate::session::{Platform, SessionInfo, SessionList, TranscriptRef};
use crate::transcript::{ReadStats, Sink, TranscriptError};
use crate::Runtime;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// What one platform can do for ASM.
pub trait Adapter: Sync {
    fn platform(&self) -> Platform;

    /// Every session this platform holds on this machine, measured the way the platform
    /// counts. Stores that cannot be read go into `errors`; the others are still listed.
    fn discover(&self, rt: &Runtime) -> SessionList {
        self.discover_in(rt, &Listing::default())
    }

    /// [`Adapter::discover`] as `listing` asks: reusing what the index remembers of
    /// transcripts (or sessions, or stores) that did not change since — the result is the
    /// same as without it — and, with `changed_since`, passing over what did not change since
    /// then without measuring it where the store allows (the caller filters the rest).
    fn discover_in(&self, rt: &Runtime, listing: &Listing) -> SessionList;

    /// One session by its id (a platform may find it without listing every session).
    fn find(&self, rt: &Runtime, session_id: &str) -> Option<SessionInfo> {
        self.discover(rt).sessions.into_iter().find(|s| s.session_id == session_id)
    }

    /// Streams the session's transcript into `sink`, one event at a time.
    fn read_events(&self, transcript: &TranscriptRef, sink: &mut Sink<'_>) -> Result<ReadStats, TranscriptError>;

    /// Asks the platform to summarize a copy of the session (the user's own session is never
    /// changed): the summary comes back, or is written where [`Adapter::read_events`] finds
    /// it. Never called while model work is paused: that is the caller's check.
    fn summarize(&self, rt: &Runtime, session: &SessionInfo) -> SummaryOutcome;

    /// How a fresh session takes over from `ctx.session`, step by step (none: the handoff
    /// simply waits in the memory store).
    fn switch_steps(&self, ctx: &SwitchContext) -> Vec<SwitchStep>;

    /// Runs one of the steps [`Adapter::switch_steps`] planned.
    fn run_switch_step(&self, ctx: &SwitchContext, step: &SwitchStep) -> Result<StepOutcome, SwitchError>;

    /// After a crash during `step` (started at `started_at`, never recorded as done): what
    /// it did, when the platform shows it was done, so it is not done twice.
    fn step_completed(&self, ctx: &SwitchContext, step: &SwitchStep, started_at: DateTime<Utc>) -> Option<StepOutcome>;

    /// The platform's hooks or plugin, when ASM installs any there.
    fn hooks(&self) -> Option<&'static dyn PlatformHooks>;

    /// Where [`Adapter::discover`] looks for sessions, for people ("No sessions found" and
    /// `health_check` say where they looked).
    fn places(&self, rt: &Runtime) -> Vec<Place>;
}

/// A place a platform's sessions are looked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Place {
    pub path: PathBuf,
    pub exists: bool,
    /// The variable a person set to name this place (a missing one is worth a warning).
    pub configured_by: Option<&'static str>,
}

impl Place {
    pub fn new(path: PathBuf, configured_by: Option<&'static str>) -> Place {
        Place { exists: path.exists(), path, configured_by }
    }
}

/// ASM's hooks (or plugin) in one platform's configuration, and the calls they make.
pub trait PlatformHooks: Sync {
    /// Whether the platform is on this machine (its CLI on PATH, or its files exist).
    fn present(&self, rt: &Runtime) -> bool;
    /// Where they go and whether they are there. `command` is ASM's hook command.
    fn status(&self, rt: &Runtime, command: &[String]) -> Vec<(PathBuf, Result<HookStatus, HookError>)>;
    fn install(&self, rt: &Runtime, command: &[String], dry_run: bool) -> Vec<Result<HookChange, HookError>>;
    fn remove(&self, rt: &Runtime, dry_run: bool) -> Vec<Result<HookChange, HookError>>;
    /// The platform's call, read from the hook's stdin.
    fn parse_event(&self, stdin: &str) -> Result<HookEvent, HookError>;
    /// What to print so the platform gives `context` to the session.
    fn render_context(&self, event: &HookEvent, context: &str) -> String;
}

/// One step of a platform's switch, planned before anything runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SwitchStep {
    /// Stable name, recorded in the state file (`reset`, `seed`, `next-session`, ...).
    pub name: &'static str,
    /// What it does, for people.
    pub what: String,
    /// What a dry run shows: each command or HTTP request the step makes.
    pub commands: Vec<String>,
    /// It makes a model call, so it waits while model work is paused.
    pub needs_model: bool,
}

/// What a step left behind, kept in the state file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StepOutcome {
    /// One line for people.
    pub note: String,
    /// What later steps need (OpenClaw: where the seed's reply goes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    /// The session that now holds the handoff, when the step put it there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handed_to: Option<String>,
    /// How (`seed`, `continuation`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

/// What a switch step knows.
pub struct SwitchContext<'a> {
    pub rt: &'a Runtime,
    pub session: &'a SessionInfo,
    /// The handoff, written 0600 beside its memory.
    pub handoff_file: &'a Path,
    /// The memory the handoff came from (its marker is in the handoff's first line).
    pub memory_id: &'a str,
    /// The outcomes of the steps done so far, in order.
    pub earlier: &'a [(String, StepOutcome)],
}

impl SwitchContext<'_> {
    pub fn earlier(&self, step: &str) -> Option<&StepOutcome> {
        self.earlier.iter().find(|(name, _)| name == step).map(|(_, o)| o)
    }
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
    #[error("the switch record is not understood: {0}")]
    Record(String),
    #[error("{0}")]
    Http(String),
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

/// How a listing reads the stores: with the measurement index, and which sessions it keeps.
#[derive(Default, Clone, Copy)]
pub struct Listing<'a> {
    pub index: Option<&'a crate::index::Index>,
    /// Only sessions whose store changed at or after this time (the monitor's
    /// ASM_ACTIVE_WITHIN); the others are counted in `SessionList::idle_not_listed`.
    pub changed_since: Option<DateTime<Utc>>,
}

impl Listing<'_> {
    /// Whether a session last changed at `updated` is listed (one with no time always is).
    pub fn keeps(&self, updated: Option<DateTime<Utc>>) -> bool {
        match (self.changed_since, updated) {
            (Some(since), Some(updated)) => updated >= since,
            _ => true,
        }
    }
}

/// What a listing asks for: see [`Listing`].
#[derive(Debug, Clone, Copy)]
pub struct ListOptions {
    pub use_index: bool,
    /// Only sessions changed within this long before now.
    pub changed_within: Option<std::time::Duration>,
}

impl Default for ListOptions {
    fn default() -> Self {
        ListOptions { use_index: true, changed_within: None }
    }
}

/// Every session on the machine (or on one platform), sorted highest percent first.
pub fn discover(rt: &Runtime, only: Option<Platform>) -> SessionList {
    discover_with(rt, only, ListOptions::default())
}

/// [`discover`] as `options` ask: with or without the measurement index (`--no-index`), all
/// sessions or only those changed lately (`--changed-within`).
pub fn discover_with(rt: &Runtime, only: Option<Platform>, options: ListOptions) -> SessionList {
    let index = if options.use_index { crate::index::Index::open(rt) } else { None };
    let changed_since = options.changed_within.and_then(|d| chrono::Duration::from_std(d).ok()).map(|d| Utc::now() - d);
    let listing = Listing { index: index.as_ref(), changed_since };
    let mut all = SessionList::default();
    for platform in Platform::ALL.into_iter().filter(|p| only.is_none_or(|o| o == *p)) {
        let started = std::time::Instant::now();
        let mut found = adapter(platform).discover_in(rt, &listing);
        let before = found.sessions.len();
        found.sessions.retain(|s| listing.keeps(s.updated_at));
        found.idle_not_listed += before - found.sessions.len();
        log::debug!("{platform}: {} sessions, {} store errors in {} ms", found.sessions.len(), found.errors.len(), started.elapsed().as_millis());
        all.extend(found);
    }
    all.mark_doubtful();
    all.sort();
    all.redact();
    all.assign_short_ids();
    all
}

/// The session with this id (or OpenClaw key), searching one platform or all.
pub fn find_session(rt: &Runtime, id: &str, only: Option<Platform>) -> Option<SessionInfo> {
    resolve(rt, id, only).ok()
}

/// Why a session could not be picked from a query.
#[derive(Debug, Error)]
pub enum ResolveError {
    #[error("no session with id, id prefix or OpenClaw key {query:?} on {where_}")]
    NotFound { query: String, where_: String },
    #[error("{query:?} names {} sessions; give more of the id: {}", .matches.len(), .matches.join(", "))]
    Ambiguous { query: String, matches: Vec<String> },
}

/// The session a person means: its full id or OpenClaw key, or any prefix of its id that no
/// other session shares.
pub fn resolve(rt: &Runtime, query: &str, only: Option<Platform>) -> Result<SessionInfo, ResolveError> {
    pick(discover(rt, only).sessions, query).map_err(|e| match e {
        ResolveError::NotFound { query, .. } => ResolveError::NotFound { query, where_: only.map_or("any platform".into(), |p| p.display_name().to_string()) },
        other => other,
    })
}

/// [`resolve`] over a given list.
pub fn pick(sessions: Vec<SessionInfo>, query: &str) -> Result<SessionInfo, ResolveError> {
    let query = query.trim();
    let not_found = || ResolveError::NotFound { query: query.to_string(), where_: String::new() };
    if query.is_empty() {
        return Err(not_found());
    }
    if let Some(exact) = sessions.iter().position(|s| s.session_id == query || s.key.as_deref() == Some(query)) {
        let mut sessions = sessions;
        return Ok(sessions.swap_remove(exact));
    }
    let mut matches: Vec<SessionInfo> = sessions.into_iter().filter(|s| s.session_id.starts_with(query)).collect();
    match matches.len() {
        0 => Err(not_found()),
        1 => Ok(matches.remove(0)),
        _ => Err(ResolveError::Ambiguous { query: query.to_string(), matches: matches.iter().map(|s| format!("{} ({})", s.session_id, s.platform)).collect() }),
    }
}

/// ASM's hook command for `platform`: the `asm_memory_manager` beside the running tool.
pub fn hook_command(bin_dir: &Path, platform: Platform) -> Vec<String> {
    vec![bin_dir.join("asm_memory_manager").display().to_string(), "--action".into(), "hook".into(), "--platform".into(), platform.id().into()]
}

/// Whether `session`'s transcript holds a message carrying the handoff of `memory_id`.
pub fn carries_handoff(session: &SessionInfo, memory_id: &str) -> bool {
    let mut seen = false;
    let _ = read_events(session, &mut |event| {
        if let crate::transcript::TranscriptEvent::UserText { text, .. } = event {
            seen |= crate::transcript::handoff_marker_in(&text).as_deref() == Some(memory_id);
        }
    });
    seen
}

/// Streams the transcript of `session` through its platform's adapter.
pub fn read_events(session: &SessionInfo, sink: &mut Sink<'_>) -> Result<ReadStats, TranscriptError> {
    let transcript =
        session.transcript.as_ref().ok_or_else(|| TranscriptError::new(Path::new(&session.source), "the session has no transcript ASM can read"))?;
    adapter(session.platform).read_events(transcript, sink)
}
