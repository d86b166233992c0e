//! The Claude Code adapter: sessions are JSONL transcripts under each config dir's
//! `projects/<encoded-cwd>/`; the store format is in `README.md` next to this file.
//!
//! Claude Code sessions belong to a person's terminal: ASM does not start the next one, the
//! handoff waits in the memory store for the next session in that project.

pub mod discover;
pub mod events;
pub mod live;
pub mod measure;
pub mod model;
pub mod paths;
pub mod summary;
pub mod tail;

use crate::platform::{Adapter, SummaryOutcome, SwitchError};
use crate::session::{Platform, SessionInfo, SessionList, TranscriptRef};
use crate::transcript::{ReadStats, Sink, TranscriptError};
use crate::Runtime;
use serde_json::Value;
use std::path::Path;

pub struct ClaudeCode;

impl Adapter for ClaudeCode {
    fn platform(&self) -> Platform {
        Platform::ClaudeCode
    }

    fn discover(&self, rt: &Runtime) -> SessionList {
        discover::discover(rt)
    }

    fn read_events(&self, transcript: &TranscriptRef, sink: &mut Sink<'_>) -> Result<ReadStats, TranscriptError> {
        events::read(&transcript.path, sink)
    }

    fn summarize(&self, rt: &Runtime, session: &SessionInfo) -> SummaryOutcome {
        summary::summarize(rt, session)
    }

    fn switches_itself(&self, _session: &SessionInfo) -> bool {
        false
    }

    fn begin_switch(&self, _rt: &Runtime, session: &SessionInfo) -> Result<Value, SwitchError> {
        Err(SwitchError::NotSwitchable(session.session_id.clone()))
    }

    fn finish_switch(&self, _rt: &Runtime, _pending: &Value, _handoff_file: &Path) -> Result<(), SwitchError> {
        Err(SwitchError::Pending("Claude Code sessions are not switched by ASM".into()))
    }

    fn switched_label(&self, _pending: &Value) -> Option<(String, Option<String>)> {
        None
    }
}
