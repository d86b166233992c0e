//! OpenCode's own summary (ASM_SUMMARY_MODE=platform), of a copy: the session is forked
//! (`POST /session/{id}/fork`), the fork summarized (`POST /session/{fork}/summarize`, with
//! the provider and model of the session's last answer), its summary read back
//! (`GET /session/{fork}/message`) and the fork deleted. The person's session is never
//! changed (verified on 1.18.33: its export and rows hash the same before and after). While
//! the fork exists a marker file tells ASM's plugin to leave it alone.

use super::server::Server;
use crate::platform::SummaryOutcome;
use crate::session::{SessionInfo, TranscriptRef};
use crate::transcript::TranscriptEvent;
use crate::Runtime;
use serde_json::Value;
use std::time::Duration;

pub fn summarize(rt: &Runtime, info: &SessionInfo) -> SummaryOutcome {
    let Some((provider, model)) = info.transcript.as_ref().and_then(last_model) else {
        return SummaryOutcome::Failed("the OpenCode session names no provider/model to summarize with".into());
    };
    let server = Server::new(rt, Duration::from_secs(rt.config.summary_timeout));
    let dir = info.cwd.as_deref();
    let fork = match server.fork(&info.session_id, dir) {
        Ok(fork) => fork,
        Err(e) => return SummaryOutcome::Failed(e.to_string()),
    };
    let marker = rt.paths.summary_fork_marker(&fork);
    if let Some(parent) = marker.parent() {
        let _ = crate::fsutil::ensure_dir(parent);
    }
    let _ = crate::fsutil::write_atomic(&marker, b"", 0o600);
    let outcome = summarize_fork(&server, &fork, dir, &provider, &model);
    if let Err(e) = server.delete(&fork, dir) {
        log::warn!("the fork {fork} that OpenCode summarized for ASM could not be deleted: {e}");
    }
    let _ = std::fs::remove_file(&marker);
    outcome
}

fn summarize_fork(server: &Server, fork: &str, dir: Option<&str>, provider: &str, model: &str) -> SummaryOutcome {
    if let Err(e) = server.summarize(fork, dir, provider, model) {
        return SummaryOutcome::Failed(e.to_string());
    }
    let messages = match server.messages(fork, dir) {
        Ok(m) => m,
        Err(e) => return SummaryOutcome::Failed(e.to_string()),
    };
    match messages.iter().rev().find_map(summary_text) {
        Some(text) => SummaryOutcome::Done { source: "OpenCode summarize (of a fork)".into(), text: Some(text) },
        None => SummaryOutcome::Failed("OpenCode summarized the fork but no summary message came back".into()),
    }
}

/// The text of a compaction summary message (`summary: true` or `mode: "compaction"`).
fn summary_text(message: &Value) -> Option<String> {
    let info = message.get("info")?;
    let is_summary = info.get("summary").and_then(Value::as_bool) == Some(true) || info.get("mode").and_then(Value::as_str) == Some("compaction");
    if !is_summary || info.get("role").and_then(Value::as_str) != Some("assistant") {
        return None;
    }
    let texts: Vec<&str> = message
        .get("parts")?
        .as_array()?
        .iter()
        .filter(|p| p.get("type").and_then(Value::as_str) == Some("text"))
        .filter_map(|p| p.get("text").and_then(Value::as_str))
        .collect();
    let text = texts.join("\n").trim().to_string();
    (!text.is_empty()).then_some(text)
}

/// The provider and model of the session's last assistant message.
fn last_model(transcript: &TranscriptRef) -> Option<(String, String)> {
    let mut found = None;
    super::read_events(transcript, &mut |event| {
        if let TranscriptEvent::Context { model: Some(m), provider: Some(p), .. } = event {
            found = Some((p, m));
        }
    })
    .ok()?;
    found
}
