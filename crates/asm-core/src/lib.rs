//! asm-core: everything auto-session-manager knows and decides.
//!
//! The five binaries are thin: they parse arguments, call into this crate and print.
//! Arrows point one way: binaries → these modules → platform adapters. Decision modules
//! (`gateway::incident`, `quota::pause`) are pure state machines that take a [`clock::Clock`]
//! and plain inputs, so they are tested without sleeping or sockets.

pub mod cli; //          exit codes, the one error printer, logging start-up for binaries
pub mod clock; //        Clock trait: the system clock and a manual one for tests
pub mod config; //       ASM_* variables: parse, validate, defaults, effective view without secrets
pub mod env; //          a snapshot of the process environment, injectable in tests
pub mod error; //        the crate-wide error and its exit code
pub mod fsutil; //       atomic writes, advisory locks, private modes
pub mod gateway; //      OpenClaw gateway watch: probe, incident state machine, restart, repair
pub mod health; //       the health report: configuration, paths, state, tools found
pub mod json5; //        a lenient JSON5 reader (OpenClaw's config is JSON5)
pub mod logging; //      env_logger set-up, rotating log files, secret redaction of every line
pub mod memory; //       key-information extraction and the session memory store
pub mod notify; //       feed notifications: events, durable outbox, Telegram/OpenClaw senders
pub mod openclaw_config; // OpenClaw's openclaw.json, read-only, in one place
pub mod paths; //        OpenClaw state dir resolution and everything ASM keeps under it
pub mod platform; //     one adapter per agent platform: discovery and context measurement
pub mod proc; //         child processes: argv only, timeout, output capture, process groups
pub mod protocol; //     the JSON documents the binaries print and read from one another
pub mod quota; //        MiniMax plan quota: reading, pause/resume decisions
pub mod redact; //       secret patterns, in one place
pub mod runtime; //      Runtime: env + config + paths, built once per process
pub mod session; //      platform-neutral session and context-usage types
pub mod state; //        .asm_state.json: sections, lock, atomic write, corrupt-file recovery
pub mod supervision; //  the monitor loop: cadences, child tools, signals, daemon mode
pub mod switching; //    threshold crossings: which sessions to summarize and switch, and the OpenClaw switch

pub use error::{Error, Result};
pub use runtime::Runtime;
