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
use crate::platform::{StepOutcome, SwitchContext, SwitchError, SwitchStep};
use crate::Runtime;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

impl From<CliError> for SwitchError {
    fn from(e: CliError) -> SwitchError {
        match e {
            CliError::NotFound => SwitchError::NoCli("openclaw"),
            CliError::Failed { step, detail } => SwitchError::Cli { program: "openclaw", step, detail },
        }
    }
}

/// The two steps of an OpenClaw switch.
pub const RESET: &str = "reset";
pub const SEED: &str = "seed";
/// `openclaw agent` waits up to 600 s for the turn; a little more before ASM gives up.
const SEED_TIMEOUT: Duration = Duration::from_secs(660);

pub fn steps(ctx: &SwitchContext) -> Vec<SwitchStep> {
    let Some(key) = ctx.session.key.as_deref() else { return Vec::new() };
    let file = ctx.handoff_file.display().to_string();
    let seed_args = ["agent", "--session-key", key, "--message-file", &file, "--deliver", "--json"];
    vec![
        SwitchStep {
            name: RESET,
            what: format!("start a fresh session under key {key}; the Telegram topic and its routing stay"),
            commands: vec![cli::display(ctx.rt, &reset_args(key, &ctx.session.session_id).iter().map(String::as_str).collect::<Vec<_>>())],
            needs_model: false,
        },
        SwitchStep {
            name: SEED,
            what: "give the fresh session the handoff; its reply goes to the topic (the route comes from the reset's answer)".into(),
            commands: vec![cli::display(ctx.rt, &seed_args)],
            needs_model: true,
        },
    ]
}

pub fn run(ctx: &SwitchContext, step: &SwitchStep) -> Result<StepOutcome, SwitchError> {
    let key = ctx.session.key.as_deref().ok_or_else(|| SwitchError::NotSwitchable(ctx.session.session_id.clone()))?;
    match step.name {
        RESET => {
            let entry = reset(ctx.rt, key, &ctx.session.session_id)?;
            let delivery = Delivery::for_session(&entry, key);
            let data = serde_json::to_value(&delivery).map_err(|e| SwitchError::Record(e.to_string()))?;
            Ok(StepOutcome { note: format!("{key} has a fresh session"), data: Some(data), ..StepOutcome::default() })
        }
        _ => {
            let delivery = match ctx.earlier(RESET).and_then(|o| o.data.clone()) {
                Some(data) => serde_json::from_value(data).map_err(|e| SwitchError::Record(e.to_string()))?,
                None => Delivery::for_session(&Value::Null, key),
            };
            let session = seed(ctx.rt, key, ctx.handoff_file, &delivery)?.unwrap_or_else(|| ctx.session.session_id.clone());
            Ok(StepOutcome { note: format!("session {session} of {key} has the handoff"), handed_to: Some(session), via: Some("seed".into()), data: None })
        }
    }
}

/// A reset shows as a fresh session under the key (below the threshold, or a new id); a seed
/// as the handoff's marker in the fresh session's transcript.
pub fn completed(ctx: &SwitchContext, step: &SwitchStep) -> Option<StepOutcome> {
    let key = ctx.session.key.as_deref()?;
    let now = super::discover::discover(ctx.rt, &Default::default()).sessions.into_iter().find(|s| s.key.as_deref() == Some(key))?;
    match step.name {
        RESET => {
            let fresh = now.session_id != ctx.session.session_id || now.context_percent.is_some_and(|p| p < f64::from(ctx.rt.config.context_threshold));
            let data = serde_json::to_value(Delivery::for_session(&Value::Null, key)).ok();
            fresh.then(|| StepOutcome { note: format!("{key} already had a fresh session"), data, ..StepOutcome::default() })
        }
        _ => {
            let seen = crate::platform::carries_handoff(&now, ctx.memory_id);
            seen.then(|| StepOutcome {
                note: format!("session {} of {key} already had the handoff", now.session_id),
                handed_to: Some(now.session_id.clone()),
                via: Some("seed".into()),
                data: None,
            })
        }
    }
}

fn reset_args(key: &str, session_id: &str) -> Vec<String> {
    let params = serde_json::json!({"key": key, "reason": "new", "expectedSessionId": session_id}).to_string();
    ["gateway", "call", "sessions.reset", "--params", &params, "--json"].map(String::from).to_vec()
}

/// Resets the key; returns the fresh session's entry as OpenClaw answered it.
fn reset(rt: &Runtime, key: &str, session_id: &str) -> Result<Value, SwitchError> {
    let args = reset_args(key, session_id);
    let cmd = cli::command(rt, &args.iter().map(String::as_str).collect::<Vec<_>>())?.timeout(Duration::from_secs(60));
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

/// Runs the seeding turn; the session id that took it, when OpenClaw says.
fn seed(rt: &Runtime, key: &str, handoff_file: &Path, delivery: &Delivery) -> Result<Option<String>, SwitchError> {
    let file = handoff_file.display().to_string();
    let mut args: Vec<String> = ["agent", "--session-key", key, "--message-file", &file].map(String::from).to_vec();
    args.extend(delivery.args());
    args.push("--json".into());
    if *delivery == Delivery::Silent {
        log::info!("session {key} has no delivery route: seeding it without posting the reply");
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = cli::run(cli::command(rt, &args)?.timeout(SEED_TIMEOUT), "agent")?;
    let doc: Value = serde_json::from_str(out.trim()).unwrap_or(Value::Null);
    Ok(["/result/meta/agentMeta/sessionId", "/meta/agentMeta/sessionId", "/sessionId"].iter().find_map(|p| doc.pointer(p)?.as_str().map(str::to_string)))
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
