//! The `openclaw` CLI as ASM runs it, for every module that asks OpenClaw for something
//! (switching, platform summaries, the gateway watch, the `openclaw` notification backend):
//! found on PATH, run with ASM's environment minus `OPENCLAW_SHELL` (inside an agent's exec
//! tool OpenClaw refuses RPCs by design) from the state dir, and a failure told in one line.

use crate::proc::{self, Cmd, Output};
use crate::Runtime;
use serde_json::Value;
use std::path::PathBuf;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum CliError {
    #[error("the openclaw command is not on PATH")]
    NotFound,
    #[error("openclaw {step} failed: {detail}")]
    Failed { step: &'static str, detail: String },
}

/// Where `openclaw` is, if it is on ASM's PATH.
pub fn program(rt: &Runtime) -> Option<PathBuf> {
    proc::which("openclaw", rt.env.get("PATH"))
}

/// `openclaw <args>` ready to run: ASM's environment, no `OPENCLAW_SHELL`, in the state dir.
pub fn command(rt: &Runtime, args: &[&str]) -> Result<Cmd, CliError> {
    let program = program(rt).ok_or(CliError::NotFound)?;
    let mut argv = vec![program.display().to_string()];
    argv.extend(args.iter().map(|a| a.to_string()));
    Ok(Cmd::new(argv).with_env_of(&rt.env).env_remove("OPENCLAW_SHELL").cwd(&rt.paths.state_dir))
}

/// `openclaw <args>` as one line, for a dry run (the command need not be installed).
pub fn display(rt: &Runtime, args: &[&str]) -> String {
    match command(rt, args) {
        Ok(cmd) => cmd.display(),
        Err(_) => Cmd::new(std::iter::once("openclaw").chain(args.iter().copied())).display(),
    }
}

/// Runs `cmd` (named `step` in errors); its stdout when it exits 0.
pub fn run(cmd: Cmd, step: &'static str) -> Result<String, CliError> {
    log::info!("running {}", cmd.display());
    let out = proc::run(&cmd).map_err(|e| CliError::Failed { step, detail: e.to_string() })?;
    if !out.success() {
        return Err(CliError::Failed { step, detail: format!("{}: {}", out.describe(), crate::redact::redact(&failure_reason(&out))) });
    }
    Ok(out.stdout_text())
}

/// Why a failed openclaw command failed: the `--json` error on stdout, else the `Reason:`
/// line on stderr, else its last line (which for 2026.9.x is only "Help: openclaw --help").
pub fn failure_reason(out: &Output) -> String {
    let (stdout, stderr) = (out.stdout_text(), out.stderr_text());
    let from_json = serde_json::from_str::<Value>(stdout.trim()).ok().and_then(|d| d.pointer("/error/message").and_then(Value::as_str).map(str::to_string));
    let lines = || stderr.lines().map(|l| l.trim().trim_start_matches("[openclaw]").trim()).filter(|l| !l.is_empty());
    from_json
        .or_else(|| lines().find_map(|l| l.strip_prefix("Reason:").map(|r| r.trim().to_string())))
        .or_else(|| lines().next_back().map(str::to_string))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(stdout: &str, stderr: &str) -> Output {
        Output {
            code: Some(1),
            signal: None,
            stdout: stdout.as_bytes().to_vec(),
            stderr: stderr.as_bytes().to_vec(),
            timed_out: false,
            cancelled: false,
            elapsed: std::time::Duration::ZERO,
        }
    }

    #[test]
    fn failure_reason_names_the_cause_not_the_help_hint() {
        let stderr =
            "[openclaw] The CLI command failed.\n[openclaw] Reason: Delivering to Telegram requires target <chatId>\n[openclaw] Help: openclaw --help\n";
        assert_eq!(failure_reason(&output("", stderr)), "Delivering to Telegram requires target <chatId>");
        let stdout = r#"{"ok": false, "error": {"type": "cli_error", "message": "session busy"}}"#;
        assert_eq!(failure_reason(&output(stdout, stderr)), "session busy");
        assert_eq!(failure_reason(&output("", "boom\n\n")), "boom");
    }
}
