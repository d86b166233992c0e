//! The OpenClaw switch, through OpenClaw's own CLI (we never write its stores):
//! 1. `openclaw gateway call sessions.reset --params {"key","reason":"new","expectedSessionId"}`
//!    starts a fresh session under the same key, so the Telegram topic and delivery routing
//!    stay (2026.9.x keeps the sessionId and appends a reset entry; 2026.7.x issues a new id);
//! 2. `openclaw agent --session-key <key> --message-file <handoff> --deliver` seeds it with the
//!    handoff and posts the reply to the topic.

use crate::proc::{self, Cmd};
use crate::session::SessionInfo;
use crate::Runtime;
use std::path::Path;
use std::time::Duration;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum SwitchError {
    #[error("session {0} has no OpenClaw key to switch")]
    NoKey(String),
    #[error("the openclaw command is not on PATH")]
    NoCli,
    #[error("memory file {path} has no handoff: {reason}")]
    NoHandoff { path: String, reason: String },
    #[error("openclaw {step} failed: {detail}")]
    Cli { step: &'static str, detail: String },
}

/// Resets the session's key and seeds the fresh session with the handoff in `memory_file`.
pub fn switch(rt: &Runtime, session: &SessionInfo, memory_file: &Path) -> Result<(), SwitchError> {
    let key = session.key.as_deref().ok_or_else(|| SwitchError::NoKey(session.session_id.clone()))?;
    let cli = proc::which("openclaw", rt.env.get("PATH")).ok_or(SwitchError::NoCli)?.display().to_string();
    let handoff_file = write_handoff_file(memory_file)?;
    let result = reset(rt, &cli, key, &session.session_id).and_then(|()| seed(rt, &cli, key, &handoff_file));
    let _ = std::fs::remove_file(&handoff_file);
    result
}

fn reset(rt: &Runtime, cli: &str, key: &str, session_id: &str) -> Result<(), SwitchError> {
    let params = serde_json::json!({"key": key, "reason": "new", "expectedSessionId": session_id}).to_string();
    let out = run(rt, Cmd::new([cli, "gateway", "call", "sessions.reset", "--params", &params, "--json"]).timeout(Duration::from_secs(60)), "sessions.reset")?;
    let doc: serde_json::Value =
        serde_json::from_str(out.trim()).map_err(|e| SwitchError::Cli { step: "sessions.reset", detail: format!("answer is not JSON ({e})") })?;
    match doc.get("ok").and_then(|v| v.as_bool()) {
        Some(true) => Ok(()),
        _ => Err(SwitchError::Cli { step: "sessions.reset", detail: crate::redact::redact(&doc.to_string()).chars().take(300).collect() }),
    }
}

fn seed(rt: &Runtime, cli: &str, key: &str, handoff_file: &Path) -> Result<(), SwitchError> {
    let file = handoff_file.display().to_string();
    run(rt, Cmd::new([cli, "agent", "--session-key", key, "--message-file", &file, "--deliver", "--json"]).timeout(Duration::from_secs(660)), "agent")?;
    Ok(())
}

fn run(rt: &Runtime, cmd: Cmd, step: &'static str) -> Result<String, SwitchError> {
    let cmd = cmd.env_remove("OPENCLAW_SHELL").cwd(&rt.paths.state_dir);
    log::info!("running {}", cmd.display());
    let out = proc::run(&cmd).map_err(|e| SwitchError::Cli { step, detail: e.to_string() })?;
    if !out.success() {
        let why = out.stderr_text().lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default().to_string();
        return Err(SwitchError::Cli { step, detail: format!("{}: {}", out.describe(), crate::redact::redact(&why)) });
    }
    Ok(out.stdout_text())
}

/// The handoff Markdown, taken from the memory file, in a private file beside it.
fn write_handoff_file(memory_file: &Path) -> Result<std::path::PathBuf, SwitchError> {
    let path_text = memory_file.display().to_string();
    let no_handoff = |reason: String| SwitchError::NoHandoff { path: path_text.clone(), reason };
    let text = std::fs::read_to_string(memory_file).map_err(|e| no_handoff(e.to_string()))?;
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| no_handoff(e.to_string()))?;
    let handoff =
        doc.get("handoff").and_then(|h| h.as_str()).filter(|h| !h.trim().is_empty()).ok_or_else(|| no_handoff("field `handoff` is missing or empty".into()))?;
    let file = memory_file.with_extension("handoff.md");
    crate::fsutil::write_atomic(&file, handoff.as_bytes(), 0o600).map_err(|e| no_handoff(e.to_string()))?;
    Ok(file)
}
