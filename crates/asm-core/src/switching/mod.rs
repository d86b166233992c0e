//! Session switching: when a session's context crosses ASM_CONTEXT_THRESHOLD (or someone asks
//! with `session_manager --switch`), its key information is extracted and a fresh session
//! takes over with it.
//!
//! - [`switch`] is the one way a session is switched: extraction, then the platform's own
//!   steps (its adapter's `switch.rs`), each written to the state file before and after it
//!   runs ([`record`]), then the feed notice.
//! - [`plan`] decides, as a pure function of the session list and the records, which
//!   sessions the monitor switches this round, which switches it carries on, which it re-arms.
//! - [`run`] is the monitor's round: it runs `session_manager --switch` as a child for each.

pub mod plan;
pub mod record;
pub mod run;
pub mod switch;

pub use record::{SwitchRecord, SwitchState, Trigger};

use chrono::{DateTime, Utc};
use std::path::PathBuf;
use thiserror::Error;

/// The first step of every switch: the memory and its handoff.
pub const EXTRACT_STEP: &str = "extract";

#[derive(Debug, Error)]
pub enum SwitchingError {
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    #[error(transparent)]
    Memory(#[from] crate::memory::MemoryError),
    #[error(transparent)]
    Fs(#[from] crate::fsutil::FsError),
    #[error("session {session} was switched a short while ago; the next switch can start at {until} (ASM_SWITCH_COOLDOWN)")]
    Cooldown { session: String, until: DateTime<Utc> },
    #[error("another switch is running (lock {0}); try again when it is done")]
    Busy(PathBuf),
}
