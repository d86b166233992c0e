//! Session switching: when a session's context crosses ASM_CONTEXT_THRESHOLD its key
//! information is extracted and a fresh session takes over.
//!
//! - [`plan`] decides, as a pure function of the session list and what was already done,
//!   which sessions to extract, which to switch, and which to re-arm.
//! - [`run`] carries a plan out: extraction through `memory_manager`, the platform's own
//!   switch through its adapter (`platform/<p>/switch.rs`), the feed notice, the record.
//!
//! Platforms whose sessions belong to a person's terminal are not switched by ASM: the
//! handoff waits in the memory store for the next session in that directory.

pub mod plan;
pub mod run;

pub use plan::{plan, Handled, Plan, SwitchState};

use thiserror::Error;

#[derive(Debug, Error)]
pub enum SwitchingError {
    #[error(transparent)]
    State(#[from] crate::state::StateError),
}
