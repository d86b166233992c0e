//! The Claude Code repair: a headless `claude -p` run (claude-code.md §4.4–4.5) in the
//! OpenClaw state dir, given the diagnosis, a fixed allow-list of tools,
//! `--permission-mode acceptEdits`, a turn limit, JSON output and a hard timeout. Its verdict
//! is `is_error` and the exit code (never `subtype`, which says "success" on API errors).
//! The prompt is redacted: the diagnosis may quote config and logs.

use crate::proc::{self, Cmd};
use crate::Runtime;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

/// The prompt stays far below the kernel's 128 KiB limit for one argument.
const MAX_DIAGNOSIS_CHARS: usize = 24_000;
/// The notification carries this much of Claude's report.
const SUMMARY_CHARS: usize = 400;

/// Tools the repair may use without asking: read and edit files, and the service and
/// OpenClaw commands a person would use to mend a gateway.
pub const ALLOWED_TOOLS: &[&str] = &[
    "Read",
    "Grep",
    "Glob",
    "Edit",
    "Bash(openclaw *)",
    "Bash(systemctl --user *)",
    "Bash(journalctl --user *)",
    "Bash(launchctl *)",
    "Bash(ps *)",
    "Bash(ss *)",
    "Bash(tail *)",
    "Bash(ls *)",
];

/// What the repair did, kept in the state file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RepairRecord {
    pub at: Option<chrono::DateTime<chrono::Utc>>,
    pub ok: bool,
    pub summary: String,
    pub session_id: Option<String>,
    pub exit: String,
}

/// The prompt: the task, the rules, and the diagnosis (redacted and bounded).
pub fn prompt(diagnosis: &str) -> String {
    let mut diagnosis = crate::redact::redact(diagnosis).into_owned();
    if diagnosis.chars().count() > MAX_DIAGNOSIS_CHARS {
        diagnosis = diagnosis.chars().take(MAX_DIAGNOSIS_CHARS).collect::<String>() + "\n[diagnosis cut]";
    }
    format!(
        "The OpenClaw gateway on this machine stopped answering its health checks and did not \
         recover after automatic restarts. Diagnose the cause and fix it: check the gateway \
         configuration (openclaw config validate), the service, the port and the logs below; \
         make the smallest change that makes the gateway healthy again, restart it, and verify \
         with `openclaw gateway status --json` (rpc.ok must be true). Do not delete sessions, \
         transcripts or credentials. Finish with a short report: the cause, what you changed, \
         and how you verified it.\n\n\
         Diagnosis:\n{diagnosis}"
    )
}

/// The argument vector of the repair run.
pub fn command(rt: &Runtime, claude: &str, diagnosis: &str) -> Cmd {
    let mut argv: Vec<String> = vec![claude.into(), "-p".into(), prompt(diagnosis), "--allowedTools".into()];
    argv.extend(ALLOWED_TOOLS.iter().map(|t| t.to_string()));
    argv.extend(["--permission-mode", "acceptEdits", "--max-turns"].map(String::from));
    argv.push(rt.config.repair_max_turns.to_string());
    argv.extend(["--output-format", "json"].map(String::from));
    let mut cmd = Cmd::new(argv).timeout(Duration::from_secs(rt.config.repair_timeout));
    if rt.paths.state_dir.is_dir() {
        cmd = cmd.cwd(&rt.paths.state_dir);
    }
    cmd
}

/// Runs the repair (unless disabled or model work is paused) and reports what it did.
pub fn run(rt: &Runtime, diagnosis: &str, now: chrono::DateTime<chrono::Utc>) -> RepairRecord {
    let fail = |summary: String, exit: &str| RepairRecord { at: Some(now), ok: false, summary, session_id: None, exit: exit.into() };
    if !rt.config.repair {
        return fail("repair disabled (ASM_REPAIR=0)".into(), "not run");
    }
    if crate::quota::work_paused(rt) {
        return fail("skipped: model work is paused (low quota)".into(), "not run");
    }
    let Some(claude) = proc::which("claude", rt.env.get("PATH")) else {
        return fail("claude (Claude Code CLI) is not on PATH".into(), "not run");
    };
    let cmd = command(rt, &claude.display().to_string(), diagnosis);
    log::info!("starting Claude Code repair: {} … (timeout {}s)", claude.display(), rt.config.repair_timeout);
    let out = match proc::run(&cmd) {
        Ok(out) => out,
        Err(e) => return fail(e.to_string(), "not run"),
    };
    let mut record = judge(&out.stdout_text(), out.success());
    record.at = Some(now);
    record.exit = out.describe();
    if out.timed_out {
        record.ok = false;
        record.summary = format!("timed out after {}s (ASM_REPAIR_TIMEOUT). {}", rt.config.repair_timeout, record.summary);
    }
    log::info!(
        "Claude Code repair {} ({}), session {}: {}",
        if record.ok { "finished" } else { "failed" },
        record.exit,
        record.session_id.as_deref().unwrap_or("-"),
        out.stdout_text().trim()
    );
    if !out.success() {
        log::info!("Claude Code repair stderr: {}", out.stderr_text().trim());
    }
    record.summary = crate::redact::redact(&record.summary).into_owned();
    record
}

/// The verdict from the `--output-format json` result (the last result object printed).
pub fn judge(stdout: &str, exit_ok: bool) -> RepairRecord {
    let result_doc = stdout
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .find(|v| v.get("type").and_then(Value::as_str) == Some("result"))
        .or_else(|| serde_json::from_str::<Value>(stdout.trim()).ok().filter(Value::is_object));
    let Some(doc) = result_doc else {
        let head: String = stdout.trim().chars().take(SUMMARY_CHARS).collect();
        return RepairRecord {
            ok: false,
            summary: if head.is_empty() { "no output".into() } else { format!("unreadable output: {head}") },
            ..RepairRecord::default()
        };
    };
    let is_error = doc.get("is_error").and_then(Value::as_bool).unwrap_or(true);
    let text = doc.get("result").and_then(Value::as_str).unwrap_or("").trim();
    let mut summary: String = text.chars().take(SUMMARY_CHARS).collect();
    if text.chars().count() > SUMMARY_CHARS {
        summary.push('…');
    }
    if summary.is_empty() {
        summary = doc.get("terminal_reason").and_then(Value::as_str).unwrap_or("no report").to_string();
    }
    RepairRecord { ok: exit_ok && !is_error, summary, session_id: doc.get("session_id").and_then(Value::as_str).map(str::to_string), ..RepairRecord::default() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_and_api_error_are_told_by_is_error() {
        let ok = judge(r#"{"type":"result","subtype":"success","is_error":false,"result":"Fixed gateway.port typo; rpc.ok true.","session_id":"s-1"}"#, true);
        assert!(ok.ok);
        assert_eq!(ok.session_id.as_deref(), Some("s-1"));
        assert_eq!(ok.summary, "Fixed gateway.port typo; rpc.ok true.");
        let api =
            judge(r#"{"type":"result","subtype":"success","is_error":true,"result":"API Error: 400 mock: model not supported","session_id":"s-2"}"#, false);
        assert!(!api.ok);
        assert!(api.summary.starts_with("API Error"));
        let garbage = judge("Segmentation fault", false);
        assert!(!garbage.ok && garbage.summary.contains("Segmentation"));
        assert!(!judge(r#"{"type":"result","is_error":false,"result":"x"}"#, false).ok, "a non-zero exit is a failure");
    }

    #[test]
    fn prompt_is_redacted_and_bounded() {
        let p = prompt(&format!("token=abcdefghijklmnop {}", "x".repeat(100_000)));
        assert!(!p.contains("abcdefghijklmnop"));
        assert!(p.len() < 30_000);
        assert!(p.ends_with("[diagnosis cut]"));
    }
}
