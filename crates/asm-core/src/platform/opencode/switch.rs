//! An OpenCode switch. The person's session stays theirs; the handoff waits for the next
//! session started in the project (`next-session`: ASM's plugin gives it). When `opencode
//! serve` answers at ASM_OPENCODE_URL, a continuation session is also created through its API
//! (`continuation`): `POST /session` titled "Continuation of <title>" in the session's
//! directory, then the handoff as its first message — stored without a model turn
//! (`noReply`), or answered by the model with ASM_OC_CONTINUE=1.

use super::server::Server;
use crate::platform::{StepOutcome, SwitchContext, SwitchError, SwitchStep};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::time::Duration;

pub const NEXT_SESSION: &str = "next-session";
pub const CONTINUATION: &str = "continuation";
/// Creating a session answers at once; a message with a model turn can take a while.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

fn server(ctx: &SwitchContext) -> Server {
    let timeout = if ctx.rt.config.oc_continue { Duration::from_secs(ctx.rt.config.continue_timeout) } else { CALL_TIMEOUT };
    Server::new(ctx.rt, timeout)
}

fn title(ctx: &SwitchContext) -> String {
    format!("Continuation of {}", ctx.session.title.as_deref().unwrap_or(&ctx.session.session_id))
}

pub fn steps(ctx: &SwitchContext) -> Vec<SwitchStep> {
    let cwd = ctx.session.cwd.as_deref();
    let mut steps = vec![SwitchStep {
        name: NEXT_SESSION,
        what: format!("the next OpenCode session started in {} gets the handoff (ASM's plugin)", cwd.unwrap_or("its directory")),
        commands: Vec::new(),
        needs_model: false,
    }];
    let server = server(ctx);
    if server.healthy() {
        let no_reply = !ctx.rt.config.oc_continue;
        steps.push(SwitchStep {
            name: CONTINUATION,
            what: format!(
                "create a continuation session through opencode serve at {}, the handoff as its first message ({})",
                server.url(),
                if no_reply { "stored, no model turn" } else { "answered by the model, ASM_OC_CONTINUE=1" }
            ),
            commands: vec![
                server.describe("POST", "/session", cwd, Some(&json!({ "title": title(ctx) }))),
                server.describe(
                    "POST",
                    "/session/<new session>/message",
                    cwd,
                    Some(&json!({ "noReply": no_reply, "parts": [{ "type": "text", "text": format!("<{}>", ctx.handoff_file.display()) }] })),
                ),
            ],
            needs_model: !no_reply,
        });
    }
    steps
}

pub fn run(ctx: &SwitchContext, step: &SwitchStep) -> Result<StepOutcome, SwitchError> {
    if step.name != CONTINUATION {
        let where_ = ctx.session.cwd.as_deref().unwrap_or("its directory");
        let installed = super::hooks::status(ctx.rt, &[]).iter().any(|(_, s)| matches!(s, Ok(crate::platform::HookStatus::Installed)));
        let note = if installed {
            format!("the handoff waits for the next session in {where_}")
        } else {
            format!("the handoff waits in the memory store, but ASM's OpenCode plugin is not installed: run session_manager --install-hooks (until then, memory_manager --action latest --cwd {where_} prints it)")
        };
        return Ok(StepOutcome { note, ..StepOutcome::default() });
    }
    let handoff =
        std::fs::read_to_string(ctx.handoff_file).map_err(|e| SwitchError::Record(format!("cannot read the handoff {}: {e}", ctx.handoff_file.display())))?;
    let server = server(ctx);
    let dir = ctx.session.cwd.as_deref();
    let http = |e: super::server::ServerError| SwitchError::Http(e.to_string());
    let id = server.create_session(&title(ctx), dir).map_err(http)?;
    server.post_message(&id, dir, &handoff, !ctx.rt.config.oc_continue).map_err(http)?;
    Ok(StepOutcome { note: format!("continuation session {id} has the handoff"), handed_to: Some(id), via: Some("continuation".into()), data: None })
}

/// A continuation that was created shows as a session with its title, created after the step
/// started, whose first message carries the handoff's marker.
pub fn completed(ctx: &SwitchContext, step: &SwitchStep, started_at: DateTime<Utc>) -> Option<StepOutcome> {
    if step.name != CONTINUATION {
        return None;
    }
    let server = server(ctx);
    let dir = ctx.session.cwd.as_deref();
    let title = title(ctx);
    let since = started_at.timestamp_millis();
    let sessions = server.sessions(dir).ok()?;
    let candidates = sessions.iter().filter(|s| {
        s.get("title").and_then(Value::as_str) == Some(title.as_str()) && s.pointer("/time/created").and_then(Value::as_i64).is_some_and(|t| t >= since)
    });
    for session in candidates {
        let id = session.get("id").and_then(Value::as_str)?;
        let carries = server.messages(id, dir).ok()?.iter().any(|m| m.to_string().contains(&crate::transcript::handoff_marker(ctx.memory_id)));
        if carries {
            return Some(StepOutcome {
                note: format!("continuation session {id} already had the handoff"),
                handed_to: Some(id.to_string()),
                via: Some("continuation".into()),
                data: None,
            });
        }
    }
    None
}
