//! The OpenCode adapter: sessions live in SQLite databases (1.2.0+) or a legacy JSON tree
//! (≤ 1.1.x); the store format is in `README.md` next to this file. `opencode serve`
//! (`server.rs`) is how ASM asks OpenCode for anything.
//!
//! OpenCode sessions belong to a person's terminal: ASM does not start the next one, the
//! handoff waits in the memory store for the next session in that project.

pub mod catalog;
pub mod discover;
pub mod events;
pub mod legacy_json;
pub mod measure;
pub mod model;
pub mod paths;
pub mod server;
pub mod sqlite;
pub mod summary;

use crate::platform::{Adapter, SummaryOutcome, SwitchError};
use crate::session::{Platform, SessionInfo, SessionList, StoreKind, TranscriptRef};
use crate::transcript::{ReadStats, Sink, TranscriptError};
use crate::Runtime;
use serde_json::Value;
use std::path::Path;

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

    fn discover(&self, rt: &Runtime) -> SessionList {
        discover::discover(rt)
    }

    fn read_events(&self, transcript: &TranscriptRef, sink: &mut Sink<'_>) -> Result<ReadStats, TranscriptError> {
        read_events(transcript, sink)
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
        Err(SwitchError::Pending("OpenCode sessions are not switched by ASM".into()))
    }

    fn switched_label(&self, _pending: &Value) -> Option<(String, Option<String>)> {
        None
    }
}
