//! Claude Code's own summary (ASM_SUMMARY_MODE=platform), of a copy: `claude -p "/compact …"
//! --resume ID --fork-session` compacts a fork and leaves the person's transcript as it was
//! (verified byte-identical on 2.1.330 and 2.1.332). The summary is read back from the fork's
//! transcript. Claude Code has no way to delete a session, so the fork stays in its history.
//! ASM's own hooks are off for the run (it is ASM asking).

use crate::platform::SummaryOutcome;
use crate::proc::{self, Cmd};
use crate::session::SessionInfo;
use crate::Runtime;
use serde_json::Value;
use std::time::Duration;

/// The instructions given with Claude Code's `/compact`.
pub const COMPACT_INSTRUCTIONS: &str = "Summarize for a handoff to a new session: the goal, decisions and their reasons, files read and changed, \
     commands run and their outcome, errors and whether they were fixed, open items, and every identifier (paths, URLs, ids, ports, branches) exactly.";

pub fn summarize(rt: &Runtime, info: &SessionInfo) -> SummaryOutcome {
    let Some(program) = proc::which("claude", rt.env.get("PATH")) else {
        return SummaryOutcome::Failed("claude was not found on PATH".into());
    };
    let prompt = format!("/compact {COMPACT_INSTRUCTIONS}");
    let argv = [
        program.display().to_string(),
        "-p".into(),
        prompt,
        "--resume".into(),
        info.session_id.clone(),
        "--fork-session".into(),
        "--output-format".into(),
        "json".into(),
    ];
    let mut cmd = Cmd::new(argv).with_env_of(&rt.env).env("ASM_HOOKS_OFF", "1").timeout(Duration::from_secs(rt.config.summary_timeout));
    if let Some(cwd) = info.cwd.as_deref().filter(|c| std::path::Path::new(c).is_dir()) {
        cmd = cmd.cwd(cwd);
    }
    let out = match proc::run(&cmd) {
        Ok(out) => out,
        Err(e) => return SummaryOutcome::Failed(e.to_string()),
    };
    let result: Option<Value> = serde_json::from_slice(&out.stdout).ok();
    let is_error = result.as_ref().and_then(|r| r.get("is_error")).and_then(Value::as_bool).unwrap_or(true);
    if !out.success() || is_error {
        let reason = result.as_ref().and_then(|r| r.get("result")).and_then(Value::as_str).filter(|s| !s.is_empty());
        return SummaryOutcome::Failed(match reason {
            Some(r) => format!("claude /compact failed: {r}"),
            None => proc::failure_line("claude /compact", &out),
        });
    }
    let Some(fork) = result.as_ref().and_then(|r| r.get("session_id")).and_then(Value::as_str) else {
        return SummaryOutcome::Failed("claude /compact of a fork named no session".into());
    };
    match fork_summary(rt, fork) {
        Some(text) => SummaryOutcome::Done { source: "Claude Code /compact (of a fork)".into(), text: Some(text) },
        None => SummaryOutcome::Failed(format!("the compacted fork {fork} holds no summary")),
    }
}

/// The newest compaction summary in the fork's transcript.
fn fork_summary(rt: &Runtime, fork: &str) -> Option<String> {
    let session = super::discover::find(rt, fork)?;
    let mut summary = None;
    crate::platform::read_events(&session, &mut |event| {
        if let crate::transcript::TranscriptEvent::PlatformSummary { text, .. } = event {
            summary = Some(text);
        }
    })
    .ok()?;
    summary.filter(|s| !s.trim().is_empty())
}
