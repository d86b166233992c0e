//! The JSON documents the binaries print on stdout and read from one another. Each tool
//! prints exactly one document with `--json`; the monitor parses its children's documents
//! with these same types. `references/protocol.md` describes them for people.

use serde::{Deserialize, Serialize};

pub use crate::session::SessionList;

/// What the monitor records about each child step it ran.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StepReport {
    pub step: String,
    pub exit_code: Option<i32>,
    pub ok: bool,
    pub message: Option<String>,
    pub duration_ms: u64,
}
