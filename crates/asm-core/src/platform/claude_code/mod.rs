//! The Claude Code adapter: sessions are JSONL transcripts under each config dir's
//! `projects/<encoded-cwd>/`; the store format is in `README.md` next to this file.
//!
//! Claude Code sessions belong to a person's terminal: the handoff waits for the next session
//! started in the project, which ASM's SessionStart hook gives it to (`hooks.rs`), and
//! ASM_CC_CONTINUE=1 starts a headless continuation right away (`switch.rs`).

pub mod discover;
pub mod events;
pub mod hooks;
pub mod live;
pub mod measure;
pub mod model;
pub mod paths;
pub mod summary;
pub mod switch;
pub mod tail;

use crate::platform::{Adapter, PlatformHooks, StepOutcome, SummaryOutcome, SwitchContext, SwitchError, SwitchStep};
use crate::session::{Platform, SessionInfo, SessionList, TranscriptRef};
use crate::transcript::{ReadStats, Sink, TranscriptError};
use crate::Runtime;
use chrono::{DateTime, Utc};

pub struct ClaudeCode;

impl Adapter for ClaudeCode {
    fn platform(&self) -> Platform {
        Platform::ClaudeCode
    }

    fn discover_in(&self, rt: &Runtime, listing: &crate::platform::Listing) -> SessionList {
        discover::discover(rt, listing)
    }

    fn read_events(&self, transcript: &TranscriptRef, sink: &mut Sink<'_>) -> Result<ReadStats, TranscriptError> {
        events::read(&transcript.path, sink)
    }

    fn summarize(&self, rt: &Runtime, session: &SessionInfo) -> SummaryOutcome {
        summary::summarize(rt, session)
    }

    fn find(&self, rt: &Runtime, session_id: &str) -> Option<SessionInfo> {
        discover::find(rt, session_id)
    }

    fn switch_steps(&self, ctx: &SwitchContext) -> Vec<SwitchStep> {
        switch::steps(ctx)
    }

    fn run_switch_step(&self, ctx: &SwitchContext, step: &SwitchStep) -> Result<StepOutcome, SwitchError> {
        switch::run(ctx, step)
    }

    fn step_completed(&self, ctx: &SwitchContext, step: &SwitchStep, _started_at: DateTime<Utc>) -> Option<StepOutcome> {
        switch::completed(ctx, step)
    }

    fn hooks(&self) -> Option<&'static dyn PlatformHooks> {
        Some(&hooks::ClaudeCodeHooks)
    }

    fn places(&self, rt: &Runtime) -> Vec<crate::platform::Place> {
        paths::places(&rt.env)
    }
}
