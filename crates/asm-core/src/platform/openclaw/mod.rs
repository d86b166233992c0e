//! The OpenClaw adapter: sessions of every agent live in an SQLite store (2026.8.1+) or the
//! `sessions.json` file store (up to 2026.7.x); the formats are in `README.md` next to this
//! file. The OpenClaw client — the CLI (`cli.rs`), the gateway's health probe (`probe.rs`)
//! and the config file (`config.rs`) — is here too, for the gateway watch and notifications.
//!
//! OpenClaw sessions are switched by ASM itself (`switch.rs`): the key, and with it the
//! Telegram topic, gets a fresh session that is seeded with the handoff.

pub mod cli;
pub mod config;
pub mod discover;
pub mod events;
pub mod keys;
pub mod measure;
pub mod model;
pub mod paths;
pub mod probe;
pub mod store;
pub mod store_files;
pub mod store_sqlite;
pub mod summary;
pub mod switch;

pub use keys::{parse_telegram_key, telegram_group_chat_ids, TelegramChat};

use crate::platform::{Adapter, SummaryOutcome, SwitchError};
use crate::session::{Platform, SessionInfo, SessionList, StoreKind, TranscriptRef};
use crate::transcript::{ReadStats, Sink, TranscriptError};
use crate::Runtime;
use serde_json::Value;
use std::path::Path;

pub struct Openclaw;

impl Adapter for Openclaw {
    fn platform(&self) -> Platform {
        Platform::Openclaw
    }

    fn discover(&self, rt: &Runtime) -> SessionList {
        discover::discover(rt)
    }

    fn read_events(&self, transcript: &TranscriptRef, sink: &mut Sink<'_>) -> Result<ReadStats, TranscriptError> {
        match transcript.kind {
            StoreKind::JsonlFile => events::read_jsonl(&transcript.path, sink),
            _ => events::read_sqlite(&transcript.path, &transcript.session_id, sink),
        }
    }

    fn summarize(&self, rt: &Runtime, session: &SessionInfo) -> SummaryOutcome {
        summary::summarize(rt, session)
    }

    fn switches_itself(&self, session: &SessionInfo) -> bool {
        session.key.is_some()
    }

    fn begin_switch(&self, rt: &Runtime, session: &SessionInfo) -> Result<Value, SwitchError> {
        let pending = switch::reset_session(rt, session)?;
        serde_json::to_value(pending).map_err(|e| SwitchError::Pending(e.to_string()))
    }

    fn finish_switch(&self, rt: &Runtime, pending: &Value, handoff_file: &Path) -> Result<(), SwitchError> {
        let pending: switch::PendingSeed = serde_json::from_value(pending.clone()).map_err(|e| SwitchError::Pending(e.to_string()))?;
        switch::seed_session(rt, &pending, handoff_file)
    }

    fn switched_label(&self, pending: &Value) -> Option<(String, Option<String>)> {
        let pending: switch::PendingSeed = serde_json::from_value(pending.clone()).ok()?;
        Some((pending.key, pending.title))
    }
}
