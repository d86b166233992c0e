//! The `openclaw` backend: `openclaw message send --channel telegram --target <chat>
//! --thread-id <topic> --message … --json`, so the gateway's own Telegram account posts.
//! Success is exit 0 *and* a JSON answer that confirms (`payload.ok` or a `messageId`);
//! anything else is sorted with the same vocabulary as the Bot API's errors.

use super::sender::{classify_failure, Outgoing, SendOutcome, Sender};
use crate::env::Env;
use crate::proc::{self, Cmd};
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

/// Node start-up alone takes 1–2 s, a send through the gateway a few more; on a loaded
/// machine a send took 29 s.
const SEND_TIMEOUT: Duration = Duration::from_secs(90);

pub struct OpenclawCliSender {
    program: PathBuf,
    /// OpenClaw's own variables from our environment, so the CLI finds the same state dir,
    /// config and gateway we resolved.
    env: Vec<(String, String)>,
}

impl OpenclawCliSender {
    pub fn new(program: PathBuf, env: &Env) -> OpenclawCliSender {
        let env =
            env.iter().filter(|(k, _)| k.starts_with("OPENCLAW_") || matches!(*k, "HOME" | "PATH")).map(|(k, v)| (k.to_string(), v.to_string())).collect();
        OpenclawCliSender { program, env }
    }

    pub fn program(&self) -> &std::path::Path {
        &self.program
    }

    pub fn argv(&self, out: &Outgoing) -> Vec<String> {
        let mut argv: Vec<String> = vec![self.program.display().to_string(), "message".into(), "send".into(), "--channel".into(), "telegram".into()];
        argv.extend(["--target".to_string(), out.chat.to_string()]);
        if let Some(topic) = out.topic.filter(|t| *t != 1) {
            argv.extend(["--thread-id".to_string(), topic.to_string()]);
        }
        argv.extend(["--message".to_string(), out.text.to_string(), "--json".to_string()]);
        argv
    }
}

impl Sender for OpenclawCliSender {
    fn backend(&self) -> &'static str {
        "openclaw"
    }

    fn send(&self, out: &Outgoing) -> SendOutcome {
        let mut cmd = Cmd::new(self.argv(out)).timeout(SEND_TIMEOUT).env("NO_COLOR", "1");
        for (k, v) in &self.env {
            cmd = cmd.env(k.clone(), v.clone());
        }
        let output = match proc::run(&cmd) {
            Ok(o) => o,
            Err(e) => return SendOutcome::Config { error: format!("cannot run {}: {e}", self.program.display()) },
        };
        if output.timed_out {
            return SendOutcome::Transient { error: format!("openclaw message send {}", output.describe()) };
        }
        let stdout = output.stdout_text();
        let answer = find_json(&stdout);
        if output.success() {
            if let Some(doc) = answer.as_ref().filter(|d| confirmed(d)) {
                let message_id = doc.get("messageId").or_else(|| doc.pointer("/payload/messageId")).map(json_id);
                let mut shown = doc.clone();
                crate::redact::redact_json(&mut shown);
                return SendOutcome::Delivered { message_id, answer: shown.to_string() };
            }
        }
        let detail = failure_text(answer.as_ref(), &output.stderr_text(), &stdout);
        let error = format!("openclaw message send {}: {detail}", output.describe());
        let lower = detail.to_ascii_lowercase();
        if lower.contains("unknown option") || lower.contains("unknown command") || lower.contains("no systemagent") {
            return SendOutcome::Config { error };
        }
        match classify_failure(None, &error, None, None) {
            SendOutcome::Rejected { error } => SendOutcome::Transient { error },
            other => other,
        }
    }
}

/// The JSON document in the CLI's stdout (it may print banner lines first).
fn find_json(stdout: &str) -> Option<Value> {
    if let Ok(v) = serde_json::from_str::<Value>(stdout.trim()) {
        return Some(v);
    }
    let start = stdout.find('{')?;
    let end = stdout.rfind('}')?;
    serde_json::from_str(stdout.get(start..=end)?).ok()
}

fn confirmed(doc: &Value) -> bool {
    let payload_ok = doc.pointer("/payload/ok").and_then(Value::as_bool);
    let top_ok = doc.get("ok").and_then(Value::as_bool);
    if payload_ok == Some(false) || top_ok == Some(false) {
        return false;
    }
    payload_ok == Some(true) || doc.get("messageId").is_some() || doc.pointer("/payload/messageId").is_some()
}

fn json_id(v: &Value) -> String {
    v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())
}

/// One line saying why: the JSON error message if there is one, else stderr, else stdout.
fn failure_text(answer: Option<&Value>, stderr: &str, stdout: &str) -> String {
    let from_json = answer
        .and_then(|d| ["/error/message", "/error", "/payload/error", "/message"].iter().find_map(|p| d.pointer(p).and_then(Value::as_str).map(str::to_string)));
    let raw = from_json.unwrap_or_else(|| if stderr.trim().is_empty() { stdout.to_string() } else { stderr.to_string() });
    let line: String = raw.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(400).collect();
    let line = if line.is_empty() { "no output".to_string() } else { line };
    crate::redact::redact(&line).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_has_the_documented_shape_and_general_drops_the_thread() {
        let s = OpenclawCliSender::new("openclaw".into(), &Env::default());
        let out = Outgoing { chat: "-1001234567890", topic: Some(466), text: "hi" };
        assert_eq!(
            s.argv(&out),
            ["openclaw", "message", "send", "--channel", "telegram", "--target", "-1001234567890", "--thread-id", "466", "--message", "hi", "--json"]
        );
        assert!(!s.argv(&Outgoing { topic: Some(1), ..out }).contains(&"--thread-id".to_string()));
    }

    #[test]
    fn confirmation_needs_ok_or_a_message_id() {
        let doc: Value = serde_json::from_str(r#"{"action":"send","channel":"telegram","dryRun":false,"handledBy":"plugin","messageId":"1001","payload":{"ok":true,"messageId":"1001","chatId":"-1001234567890","receipt":{"threadId":"466"}}}"#).unwrap();
        assert!(confirmed(&doc));
        assert!(!confirmed(&serde_json::json!({"payload": {"ok": false}})));
        assert!(!confirmed(&serde_json::json!({"action": "send"})));
        assert_eq!(find_json("banner\n{\"a\":1}\n"), Some(serde_json::json!({"a": 1})));
    }
}
