//! The OpenCode adapter: sessions live in SQLite databases (1.2.0+) or a legacy JSON tree
//! (≤ 1.1.x); the store format is in `README.md` next to this file. `opencode serve`
//! (`server.rs`) is how ASM asks OpenCode for anything.
//!
//! OpenCode sessions belong to a person's terminal: the handoff waits for the next session
//! started in the project, which ASM's plugin gives it to (`hooks.rs`), and when `opencode
//! serve` answers, a continuation session is created through its API (`switch.rs`).

pub mod catalog;
pub mod discover;
pub mod events;
pub mod hooks;
pub mod legacy_json;
pub mod measure;
pub mod model;
pub mod paths;
pub mod server;
pub mod sqlite;
pub mod summary;
pub mod switch;

use crate::platform::{Adapter, PlatformHooks, StepOutcome, SummaryOutcome, SwitchContext, SwitchError, SwitchStep};
use crate::session::{Platform, SessionInfo, SessionList, StoreKind, TranscriptRef};
use crate::transcript::{ReadStats, Sink, TranscriptError};
use crate::Runtime;
use chrono::{DateTime, Utc};

pub struct Opencode;

/// Streams a transcript from whichever store generation holds it.
fn read_events(transcript: &TranscriptRef, sink: &mut Sink<'_>) -> Result<ReadStats, TranscriptError> {
    match transcript.kind {
        StoreKind::JsonTree => events::read_legacy(&transcript.path, &transcript.session_id, sink),
        _ => events::read_sqlite(&transcript.path, &transcript.session_id, sink),
    }
}

impl Adapter for Opencode {
    fn platform(&self) -> Platform {
        Platform::Opencode
    }

    fn discover_in(&self, rt: &Runtime, listing: &crate::platform::Listing) -> SessionList {
        discover::discover(rt, listing)
    }

    fn read_events(&self, transcript: &TranscriptRef, sink: &mut Sink<'_>) -> Result<ReadStats, TranscriptError> {
        read_events(transcript, sink)
    }

    fn summarize(&self, rt: &Runtime, session: &SessionInfo) -> SummaryOutcome {
        summary::summarize(rt, session)
    }

    fn switch_steps(&self, ctx: &SwitchContext) -> Vec<SwitchStep> {
        switch::steps(ctx)
    }

    fn run_switch_step(&self, ctx: &SwitchContext, step: &SwitchStep) -> Result<StepOutcome, SwitchError> {
        switch::run(ctx, step)
    }

    fn step_completed(&self, ctx: &SwitchContext, step: &SwitchStep, started_at: DateTime<Utc>) -> Option<StepOutcome> {
        switch::completed(ctx, step, started_at)
    }

    fn hooks(&self) -> Option<&'static dyn PlatformHooks> {
        Some(&hooks::OpencodeHooks)
    }

    fn places(&self, rt: &Runtime) -> Vec<crate::platform::Place> {
        paths::OpencodePaths::resolve(&rt.env).map(|p| p.places()).unwrap_or_default()
    }
}
