//! asm-core: everything auto-session-manager knows and decides.
//!
//! The five binaries are thin: they parse arguments, call into this crate and print.
//! Arrows point one way: binaries → `cli`/`error` → the concerns (monitor, switching, memory,
//! notify, gateway, quota, health) → the platform adapters → the foundations (config, paths,
//! state, proc, http, ...); `tests/lint/module_cycles.py` checks that no module imports one
//! that imports it back. Decisions (`gateway::incident`, `quota::pause`, `monitor::schedule`,
//! `switching::plan`, `notify::policy`) are pure state machines on an injected
//! [`clock::Clock`], tested without sleeping or sockets.

pub mod bounded_json; // huge JSON records read with their long strings clipped, memory bounded
pub mod cli; //          exit codes, the one error printer, logging start-up for binaries
pub mod clock; //        Clock trait: the system clock and a manual one for tests
pub mod config; //       ASM_* variables: parse, validate, defaults, effective view without secrets
pub mod env; //          a snapshot of the process environment, injectable in tests
pub mod error; //        the crate-wide error the binaries print, and its exit code
pub mod fsutil; //       atomic writes, advisory locks, private modes
pub mod gateway; //      OpenClaw gateway watch: incident state machine, restart, repair
pub mod health; //       the health report: configuration, paths, state, tools found
pub mod http; //         HTTP requests with timeouts and limits, one way for every peer
pub mod index; //        .asm_index.sqlite: last measurements by file stamp, so unchanged transcripts cost a stat
pub mod lenient_json; // JSON5/JSONC config files (OpenClaw's, OpenCode's), size-capped
pub mod logging; //      env_logger set-up, rotating log files, secret redaction of every line
pub mod memory; //       key-information extraction and the session memory store
pub mod monitor; //      the monitor loop: schedule, child tools, pid file, daemon mode
pub mod notify; //       feed notifications: events, durable outbox, Telegram/OpenClaw senders
pub mod paths; //        OpenClaw state dir resolution and everything ASM keeps under it
pub mod platform; //     one adapter per agent platform, reached through one trait
pub mod proc; //         child processes: argv only, timeout, output capture, process groups
pub mod protocol; //     the JSON documents the binaries print and read from one another
pub mod quota; //        MiniMax plan quota: reading, pause/resume decisions
pub mod redact; //       secret patterns, in one place
pub mod runtime; //      Runtime: env + config + paths (+ a memo), built once per process
pub mod session; //      platform-neutral session and context-usage types
pub mod settings_file; // <state dir>/asm.env: ASM_* settings that beat the environment, reread on SIGHUP
pub mod state; //        .asm_state.json: typed sections, lock, atomic write, corrupt-file recovery
pub mod switching; //    threshold crossings: which sessions to summarize and switch, and doing it
pub mod table; //        the session table people read
pub mod timefmt; //      local times and relative ages for people (JSON stays UTC)
pub mod tools; //        the sibling binaries as child processes, behind a trait
pub mod transcript; //   transcripts as platform-neutral events, streamed

pub use error::{Error, Result};
pub use runtime::Runtime;
