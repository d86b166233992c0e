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

use crate::platform::{Adapter, PlatformHooks, StepOutcome, SummaryOutcome, SwitchContext, SwitchError, SwitchStep};
use crate::session::{Platform, SessionInfo, SessionList, StoreKind, TranscriptRef};
use crate::transcript::{ReadStats, Sink, TranscriptError};
use crate::Runtime;
use chrono::{DateTime, Utc};

pub struct Openclaw;

impl Adapter for Openclaw {
    fn platform(&self) -> Platform {
        Platform::Openclaw
    }

    fn discover_in(&self, rt: &Runtime, listing: &crate::platform::Listing) -> SessionList {
        discover::discover(rt, listing)
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
        // ASM starts the fresh OpenClaw session itself; nothing waits for a hook.
        None
    }

    fn places(&self, rt: &Runtime) -> Vec<crate::platform::Place> {
        paths::places(rt)
    }
}
