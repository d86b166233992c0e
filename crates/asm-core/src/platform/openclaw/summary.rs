//! OpenClaw's own summary (ASM_SUMMARY_MODE=platform): `openclaw gateway call
//! sessions.compact --params {"key":…} --json`; the answer carries the summary, and OpenClaw
//! also writes a `compaction` entry into the transcript.

use super::cli;
use crate::platform::SummaryOutcome;
use crate::proc;
use crate::session::SessionInfo;
use crate::Runtime;
use serde_json::{json, Value};
use std::time::Duration;

pub fn summarize(rt: &Runtime, info: &SessionInfo) -> SummaryOutcome {
    let Some(key) = info.key.as_deref() else {
        return SummaryOutcome::Failed("the session has no OpenClaw key to compact".into());
    };
    let params = json!({ "key": key }).to_string();
    let timeout_ms = (rt.config.summary_timeout * 1000).to_string();
    let cmd = match cli::command(rt, &["gateway", "call", "sessions.compact", "--params", &params, "--json", "--timeout", &timeout_ms]) {
        Ok(cmd) => cmd.timeout(Duration::from_secs(rt.config.summary_timeout) + Duration::from_secs(5)),
        Err(_) => return SummaryOutcome::Failed("openclaw was not found on PATH".into()),
    };
    let out = match proc::run(&cmd) {
        Ok(out) => out,
        Err(e) => return SummaryOutcome::Failed(e.to_string()),
    };
    let answer: Option<Value> = serde_json::from_slice(&out.stdout).ok();
    let compacted = answer.as_ref().is_some_and(|a| a.get("ok") == Some(&Value::Bool(true)) && a.get("compacted") != Some(&Value::Bool(false)));
    if !out.success() || !compacted {
        if let Some(reason) = answer.as_ref().and_then(|a| a.get("reason").or_else(|| a.pointer("/error/message"))).and_then(Value::as_str) {
            return SummaryOutcome::Failed(format!("openclaw sessions.compact: {reason}"));
        }
        return SummaryOutcome::Failed(proc::failure_line("openclaw sessions.compact", &out));
    }
    let text = answer.as_ref().and_then(|a| a.pointer("/result/summary")).and_then(Value::as_str).map(str::to_string);
    SummaryOutcome::Done { source: "OpenClaw sessions.compact".into(), text }
}
