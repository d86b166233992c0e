//! The OpenClaw switch, through OpenClaw's own CLI (we never write its stores):
//! 1. `openclaw gateway call sessions.reset --params {"key","reason":"new","expectedSessionId"}`
//!    starts a fresh session under the same key, so the Telegram topic and delivery routing
//!    stay (2026.9.x keeps the sessionId and appends a reset entry; 2026.7.x issues a new id);
//! 2. `openclaw agent --session-key <key> --message-file <handoff> --deliver` seeds it with the
//!    handoff and posts the reply to the topic. A session that never received a channel
//!    message (created by `openclaw agent` or cron) has no delivery route, and `--deliver` then
//!    fails ("Delivering to Telegram requires target"); for a Telegram key the route is named
//!    explicitly from the key, and a session with nowhere to deliver is seeded silently.

use crate::platform::openclaw::parse_telegram_key;
use crate::proc::{self, Cmd};
use crate::session::SessionInfo;
use crate::Runtime;
use serde::{Deserialize, Serialize};
use serde_json::Value;
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

/// A reset whose seed is still due: kept in the state file so a failed seed is retried on
/// its own, never with a second reset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSeed {
    pub key: String,
    pub delivery: Delivery,
    /// The session's title (or directory) for the feed notice.
    #[serde(default)]
    pub title: Option<String>,
}

/// Step 1: resets the session's key, once its memory file has a handoff to seed with.
pub fn reset_session(rt: &Runtime, session: &SessionInfo, memory_file: &Path) -> Result<PendingSeed, SwitchError> {
    let key = session.key.as_deref().ok_or_else(|| SwitchError::NoKey(session.session_id.clone()))?;
    let cli = openclaw_cli(rt)?;
    read_handoff(memory_file)?;
    let entry = reset(rt, &cli, key, &session.session_id)?;
    Ok(PendingSeed { key: key.to_string(), delivery: Delivery::for_session(&entry, key), title: session.title.clone().or_else(|| session.cwd.clone()) })
}

/// Step 2: seeds the fresh session with the handoff in `memory_file`.
pub fn seed_session(rt: &Runtime, pending: &PendingSeed, memory_file: &Path) -> Result<(), SwitchError> {
    let cli = openclaw_cli(rt)?;
    let handoff_file = memory_file.with_extension("handoff.md");
    crate::fsutil::write_atomic(&handoff_file, read_handoff(memory_file)?.as_bytes(), 0o600)
        .map_err(|e| SwitchError::NoHandoff { path: handoff_file.display().to_string(), reason: e.to_string() })?;
    let result = seed(rt, &cli, &pending.key, &handoff_file, &pending.delivery);
    let _ = std::fs::remove_file(&handoff_file);
    result
}

fn openclaw_cli(rt: &Runtime) -> Result<String, SwitchError> {
    Ok(proc::which("openclaw", rt.env.get("PATH")).ok_or(SwitchError::NoCli)?.display().to_string())
}

/// Resets the key; returns the fresh session's entry as OpenClaw answered it.
fn reset(rt: &Runtime, cli: &str, key: &str, session_id: &str) -> Result<Value, SwitchError> {
    let params = serde_json::json!({"key": key, "reason": "new", "expectedSessionId": session_id}).to_string();
    let out = run(rt, Cmd::new([cli, "gateway", "call", "sessions.reset", "--params", &params, "--json"]).timeout(Duration::from_secs(60)), "sessions.reset")?;
    let doc: Value = serde_json::from_str(out.trim()).map_err(|e| SwitchError::Cli { step: "sessions.reset", detail: format!("answer is not JSON ({e})") })?;
    match doc.get("ok").and_then(|v| v.as_bool()) {
        Some(true) => {
            log::debug!("sessions.reset answered {}", crate::redact::redact(&doc.to_string()));
            Ok(doc.get("entry").cloned().unwrap_or(Value::Null))
        }
        _ => Err(SwitchError::Cli { step: "sessions.reset", detail: crate::redact::redact(&doc.to_string()).chars().take(300).collect() }),
    }
}

/// Where the seeding turn's reply goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Delivery {
    /// The session's own stored route (it came from a channel message).
    SessionRoute,
    /// No stored route, but the key names the place: `--reply-channel` / `--reply-to`.
    Explicit { channel: String, to: String },
    /// No route and the key names none: seed without posting the reply anywhere.
    Silent,
}

impl Delivery {
    /// Decides from the entry `sessions.reset` returned (2026.9.x `delivery.context.to`,
    /// older `deliveryContext.to`) and the key.
    pub fn for_session(entry: &Value, key: &str) -> Delivery {
        let routed = ["/delivery/context/to", "/delivery/route/target/to", "/deliveryContext/to"]
            .iter()
            .any(|p| entry.pointer(p).and_then(Value::as_str).is_some_and(|to| !to.trim().is_empty()));
        if routed {
            return Delivery::SessionRoute;
        }
        match parse_telegram_key(key) {
            Some(chat) => {
                let to = match chat.thread_id {
                    Some(topic) => format!("{}:topic:{topic}", chat.chat_id),
                    None => chat.chat_id,
                };
                Delivery::Explicit { channel: "telegram".into(), to }
            }
            None => Delivery::Silent,
        }
    }

    fn args(&self) -> Vec<String> {
        match self {
            Delivery::SessionRoute => vec!["--deliver".into()],
            Delivery::Explicit { channel, to } => ["--deliver", "--reply-channel", channel.as_str(), "--reply-to", to.as_str()].map(String::from).to_vec(),
            Delivery::Silent => vec![],
        }
    }
}

fn seed(rt: &Runtime, cli: &str, key: &str, handoff_file: &Path, delivery: &Delivery) -> Result<(), SwitchError> {
    let file = handoff_file.display().to_string();
    let mut argv: Vec<String> = [cli, "agent", "--session-key", key, "--message-file", &file].map(String::from).to_vec();
    argv.extend(delivery.args());
    argv.push("--json".into());
    if *delivery == Delivery::Silent {
        log::info!("session {key} has no delivery route: seeding it without posting the reply");
    }
    run(rt, Cmd::new(argv).timeout(Duration::from_secs(660)), "agent")?;
    Ok(())
}

fn run(rt: &Runtime, cmd: Cmd, step: &'static str) -> Result<String, SwitchError> {
    let cmd = cmd.env_remove("OPENCLAW_SHELL").cwd(&rt.paths.state_dir);
    log::info!("running {}", cmd.display());
    let out = proc::run(&cmd).map_err(|e| SwitchError::Cli { step, detail: e.to_string() })?;
    if !out.success() {
        let why = failure_reason(&out.stdout_text(), &out.stderr_text());
        return Err(SwitchError::Cli { step, detail: format!("{}: {}", out.describe(), crate::redact::redact(&why)) });
    }
    Ok(out.stdout_text())
}

/// Why a failed openclaw command failed: the `--json` error on stdout, else the `Reason:`
/// line on stderr, else its last line (which for 2026.9.x is only "Help: openclaw --help").
fn failure_reason(stdout: &str, stderr: &str) -> String {
    let from_json = serde_json::from_str::<Value>(stdout.trim()).ok().and_then(|d| d.pointer("/error/message").and_then(Value::as_str).map(str::to_string));
    let lines = || stderr.lines().map(|l| l.trim().trim_start_matches("[openclaw]").trim()).filter(|l| !l.is_empty());
    from_json
        .or_else(|| lines().find_map(|l| l.strip_prefix("Reason:").map(|r| r.trim().to_string())))
        .or_else(|| lines().next_back().map(str::to_string))
        .unwrap_or_default()
}

/// The handoff Markdown in the memory file.
fn read_handoff(memory_file: &Path) -> Result<String, SwitchError> {
    let no_handoff = |reason: String| SwitchError::NoHandoff { path: memory_file.display().to_string(), reason };
    let text = std::fs::read_to_string(memory_file).map_err(|e| no_handoff(e.to_string()))?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| no_handoff(e.to_string()))?;
    doc.get("handoff")
        .and_then(|h| h.as_str())
        .filter(|h| !h.trim().is_empty())
        .map(str::to_string)
        .ok_or_else(|| no_handoff("field `handoff` is missing or empty".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TOPIC_KEY: &str = "agent:main:telegram:group:-1001234567890:topic:77";

    #[test]
    fn a_stored_route_is_used_as_is() {
        let entry = json!({"delivery": {"context": {"channel": "telegram", "to": "telegram:-1001234567890:topic:77", "threadId": 77}}});
        assert_eq!(Delivery::for_session(&entry, TOPIC_KEY), Delivery::SessionRoute);
        assert_eq!(Delivery::for_session(&json!({"deliveryContext": {"to": "x"}}), "agent:main:main"), Delivery::SessionRoute);
    }

    #[test]
    fn a_session_without_a_route_is_delivered_to_the_topic_its_key_names() {
        let explicit = Delivery::for_session(&json!({"sessionId": "s"}), TOPIC_KEY);
        assert_eq!(explicit, Delivery::Explicit { channel: "telegram".into(), to: "-1001234567890:topic:77".into() });
        assert_eq!(explicit.args(), ["--deliver", "--reply-channel", "telegram", "--reply-to", "-1001234567890:topic:77"]);
        let group = Delivery::for_session(&Value::Null, "agent:main:telegram:group:-100777");
        assert_eq!(group, Delivery::Explicit { channel: "telegram".into(), to: "-100777".into() });
    }

    #[test]
    fn a_session_with_nowhere_to_deliver_is_seeded_silently() {
        let silent = Delivery::for_session(&json!({"delivery": {"context": {"to": ""}}}), "agent:main:asm-e2e");
        assert_eq!(silent, Delivery::Silent);
        assert!(silent.args().is_empty());
    }

    #[test]
    fn failure_reason_names_the_cause_not_the_help_hint() {
        let stderr =
            "[openclaw] The CLI command failed.\n[openclaw] Reason: Delivering to Telegram requires target <chatId>\n[openclaw] Help: openclaw --help\n";
        assert_eq!(failure_reason("", stderr), "Delivering to Telegram requires target <chatId>");
        let stdout = r#"{"ok": false, "error": {"type": "cli_error", "message": "session busy"}}"#;
        assert_eq!(failure_reason(stdout, stderr), "session busy");
        assert_eq!(failure_reason("", "boom\n\n"), "boom");
    }
}
