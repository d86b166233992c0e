//! The OpenClaw switch, through OpenClaw's own CLI (we never write its stores):
//! 1. `openclaw gateway call sessions.reset --params {"key","reason":"new","expectedSessionId"}`
//!    starts a fresh session under the same key, so the Telegram topic and delivery routing
//!    stay (2026.9.x keeps the sessionId and appends a reset entry; 2026.7.x issues a new id);
//! 2. `openclaw agent --session-key <key> --message-file <handoff> --deliver` seeds it with the
//!    handoff and posts the reply to the topic. A session that never received a channel
//!    message (created by `openclaw agent` or cron) has no delivery route, and `--deliver` then
//!    fails ("Delivering to Telegram requires target"); for a Telegram key the route is named
//!    explicitly from the key, and a session with nowhere to deliver is seeded silently.

use super::cli::{self, CliError};
use super::keys::parse_telegram_key;
use crate::platform::SwitchError;
use crate::session::SessionInfo;
use crate::Runtime;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

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

impl From<CliError> for SwitchError {
    fn from(e: CliError) -> SwitchError {
        match e {
            CliError::NotFound => SwitchError::NoCli("openclaw"),
            CliError::Failed { step, detail } => SwitchError::Cli { program: "openclaw", step, detail },
        }
    }
}

/// Step 1: resets the session's key.
pub fn reset_session(rt: &Runtime, session: &SessionInfo) -> Result<PendingSeed, SwitchError> {
    let key = session.key.as_deref().ok_or_else(|| SwitchError::NotSwitchable(session.session_id.clone()))?;
    let entry = reset(rt, key, &session.session_id)?;
    Ok(PendingSeed { key: key.to_string(), delivery: Delivery::for_session(&entry, key), title: session.title.clone().or_else(|| session.cwd.clone()) })
}

/// Step 2: seeds the fresh session with the handoff in `handoff_file`.
pub fn seed_session(rt: &Runtime, pending: &PendingSeed, handoff_file: &Path) -> Result<(), SwitchError> {
    let file = handoff_file.display().to_string();
    let mut args: Vec<String> = ["agent", "--session-key", &pending.key, "--message-file", &file].map(String::from).to_vec();
    args.extend(pending.delivery.args());
    args.push("--json".into());
    if pending.delivery == Delivery::Silent {
        log::info!("session {} has no delivery route: seeding it without posting the reply", pending.key);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    cli::run(cli::command(rt, &args)?.timeout(Duration::from_secs(660)), "agent")?;
    Ok(())
}

/// Resets the key; returns the fresh session's entry as OpenClaw answered it.
fn reset(rt: &Runtime, key: &str, session_id: &str) -> Result<Value, SwitchError> {
    let params = serde_json::json!({"key": key, "reason": "new", "expectedSessionId": session_id}).to_string();
    let cmd = cli::command(rt, &["gateway", "call", "sessions.reset", "--params", &params, "--json"])?.timeout(Duration::from_secs(60));
    let out = cli::run(cmd, "sessions.reset")?;
    let failed = |detail: String| SwitchError::Cli { program: "openclaw", step: "sessions.reset", detail };
    let doc: Value = serde_json::from_str(out.trim()).map_err(|e| failed(format!("answer is not JSON ({e})")))?;
    match doc.get("ok").and_then(|v| v.as_bool()) {
        Some(true) => {
            log::debug!("sessions.reset answered {}", crate::redact::redact(&doc.to_string()));
            Ok(doc.get("entry").cloned().unwrap_or(Value::Null))
        }
        _ => Err(failed(crate::redact::redact(&doc.to_string()).chars().take(300).collect())),
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
}
