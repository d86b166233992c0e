//! A Claude Code switch. The person's session stays theirs; the handoff waits for the next
//! session started in the project or below (`next-session`: ASM's SessionStart hook gives
//! it), and with ASM_CC_CONTINUE=1 a headless continuation starts right away (`continue`):
//! `claude -p` in the session's directory with the handoff appended to its system prompt
//! (`--append-system-prompt-file`), its prompt carrying the handoff's marker so the new
//! session can be found again, and ASM's hooks off for it (it already has the handoff).

use crate::platform::{StepOutcome, SwitchContext, SwitchError, SwitchStep};
use crate::proc::{self, Cmd};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

pub const NEXT_SESSION: &str = "next-session";
pub const CONTINUE: &str = "continue";

pub fn steps(ctx: &SwitchContext) -> Vec<SwitchStep> {
    let cwd = ctx.session.cwd.as_deref().unwrap_or("(unknown directory)");
    let mut steps = vec![SwitchStep {
        name: NEXT_SESSION,
        what: format!("the next Claude Code session started in {cwd} or below gets the handoff (ASM's SessionStart hook)"),
        commands: Vec::new(),
        needs_model: false,
    }];
    if ctx.rt.config.cc_continue {
        steps.push(SwitchStep {
            name: CONTINUE,
            what: format!("start a headless continuation in {cwd} with the handoff in its system prompt (ASM_CC_CONTINUE=1)"),
            commands: vec![format!("cd {} && {}", shlex::try_quote(cwd).unwrap_or_default(), continue_command(ctx).display())],
            needs_model: true,
        });
    }
    steps
}

pub fn run(ctx: &SwitchContext, step: &SwitchStep) -> Result<StepOutcome, SwitchError> {
    match step.name {
        CONTINUE => start_continuation(ctx),
        _ => Ok(StepOutcome { note: next_session_note(ctx), ..StepOutcome::default() }),
    }
}

/// A continuation that ran shows as a session of the same directory whose first prompt carries
/// the handoff's marker.
pub fn completed(ctx: &SwitchContext, step: &SwitchStep) -> Option<StepOutcome> {
    if step.name != CONTINUE {
        return None;
    }
    let sessions = super::discover::discover(ctx.rt, &Default::default()).sessions;
    let found = sessions
        .into_iter()
        .find(|s| s.cwd == ctx.session.cwd && s.title.as_deref().and_then(crate::transcript::handoff_marker_in).as_deref() == Some(ctx.memory_id))?;
    Some(StepOutcome {
        note: format!("continuation {} was already started", found.session_id),
        handed_to: Some(found.session_id),
        via: Some("continuation".into()),
        data: None,
    })
}

fn next_session_note(ctx: &SwitchContext) -> String {
    let cwd = ctx.session.cwd.as_deref().unwrap_or("its directory");
    let installed = super::hooks::status(ctx.rt).iter().any(|(_, s)| matches!(s, Ok(crate::platform::HookStatus::Installed)));
    if installed {
        format!("the handoff waits for the next session in {cwd}")
    } else {
        format!(
            "the handoff waits in the memory store, but ASM's hooks are not in Claude Code's settings: run session_manager --install-hooks (until then, memory_manager --action latest --cwd {cwd} prints it)"
        )
    }
}

fn continue_prompt(ctx: &SwitchContext) -> String {
    format!(
        "{} Continue the work of Claude Code session {}: what it knew is in your system prompt. Say where things stand and carry on with the next step.",
        crate::transcript::handoff_marker(ctx.memory_id),
        ctx.session.session_id
    )
}

fn continue_command(ctx: &SwitchContext) -> Cmd {
    let program = proc::which("claude", ctx.rt.env.get("PATH")).map(|p| p.display().to_string()).unwrap_or_else(|| "claude".into());
    let file = ctx.handoff_file.display().to_string();
    Cmd::new([program, "-p".into(), continue_prompt(ctx), "--append-system-prompt-file".into(), file, "--output-format".into(), "json".into()])
}

fn start_continuation(ctx: &SwitchContext) -> Result<StepOutcome, SwitchError> {
    let failed = |detail: String| SwitchError::Cli { program: "claude", step: "-p continuation", detail };
    if proc::which("claude", ctx.rt.env.get("PATH")).is_none() {
        return Err(SwitchError::NoCli("claude"));
    }
    let cwd = ctx.session.cwd.as_deref().filter(|c| Path::new(c).is_dir()).ok_or_else(|| failed("the session's directory does not exist any more".into()))?;
    let cmd = continue_command(ctx).with_env_of(&ctx.rt.env).env("ASM_HOOKS_OFF", "1").cwd(cwd).timeout(Duration::from_secs(ctx.rt.config.continue_timeout));
    log::info!("starting a Claude Code continuation in {cwd}");
    let out = proc::run(&cmd).map_err(|e| failed(e.to_string()))?;
    let result: Option<Value> = serde_json::from_slice(&out.stdout).ok();
    let is_error = result.as_ref().and_then(|r| r.get("is_error")).and_then(Value::as_bool).unwrap_or(true);
    let session = result.as_ref().and_then(|r| r.get("session_id")).and_then(Value::as_str).map(str::to_string);
    if !out.success() || is_error {
        let reason = result.as_ref().and_then(|r| r.get("result")).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
        return Err(failed(reason.unwrap_or_else(|| proc::failure_line("claude", &out))));
    }
    let session = session.ok_or_else(|| failed("the result names no session_id".into()))?;
    Ok(StepOutcome { note: format!("continuation {session} started in {cwd}"), handed_to: Some(session), via: Some("continuation".into()), data: None })
}
