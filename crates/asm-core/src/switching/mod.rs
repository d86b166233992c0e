//! Session switching: when a session's context crosses ASM_CONTEXT_THRESHOLD its key
//! information is extracted and a fresh session takes over.
//!
//! - [`plan`] decides, as a pure function of the session list and what was already done,
//!   which sessions to extract, which to switch, and which to re-arm.
//! - [`openclaw`] performs an OpenClaw switch through the platform's own CLI: reset the
//!   session key (which keeps the Telegram topic) and seed the fresh session with the handoff.
//!
//! Claude Code and OpenCode sessions belong to a person's terminal, so ASM does not replace
//! them: the handoff waits in the memory store and the next session in that directory receives
//! it (the Claude Code SessionStart hook, `memory_manager --action latest --cwd`).

pub mod openclaw;
pub mod plan;
pub mod run;

pub use plan::{plan, Handled, Plan, SwitchState};
