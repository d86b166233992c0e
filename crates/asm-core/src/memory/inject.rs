//! The Claude Code SessionStart hook (`memory_manager --action inject --platform claude-code`):
//! reads the hook's JSON on stdin and, when a handoff is pending for that working directory,
//! answers `{"hookSpecificOutput":{"hookEventName":"SessionStart","additionalContext":…}}`
//! (reference claude-code.md §4.2). A handoff is pending when the newest memory of the
//! directory belongs to another session and has not been given to any session yet; giving
//! it marks it, so each handoff is injected once.

use super::{MemoryError, MemoryStore};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

/// The part of the hook's stdin that matters here.
#[derive(Debug, Deserialize)]
pub struct HookInput {
    pub session_id: Option<String>,
    pub cwd: Option<String>,
    pub source: Option<String>,
    pub hook_event_name: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum InjectError {
    #[error("the SessionStart hook input is not the JSON Claude Code sends: {0}")]
    BadInput(String),
    #[error(transparent)]
    Memory(#[from] MemoryError),
}

/// The line to print for this hook input, or None when nothing is pending.
pub fn session_start(store: &MemoryStore, stdin: &str, now: DateTime<Utc>) -> Result<Option<String>, InjectError> {
    let input: HookInput = serde_json::from_str(stdin.trim()).map_err(|e| InjectError::BadInput(e.to_string()))?;
    if input.hook_event_name.as_deref().is_some_and(|e| e != "SessionStart") {
        return Ok(None);
    }
    let cwd = input.cwd.as_deref().filter(|c| !c.is_empty()).ok_or_else(|| InjectError::BadInput("missing \"cwd\"".into()))?;
    let Some(record) = store.latest_for_cwd(cwd)? else { return Ok(None) };
    let new_session = input.session_id.clone().unwrap_or_default();
    if record.session_id == new_session || record.injected_into.is_some() || record.handoff.trim().is_empty() {
        return Ok(None);
    }
    let marked_for = if new_session.is_empty() { format!("(unknown session, {})", input.source.as_deref().unwrap_or("startup")) } else { new_session };
    let record = store.mark_injected(&record.session_id, &marked_for, now)?;
    let context = format!(
        "auto-session-manager handoff: you continue the work of session {} (extracted {}). What it knew:\n\n{}",
        record.session_id,
        record.extracted_at.format("%Y-%m-%d %H:%M UTC"),
        record.handoff
    );
    let out = json!({ "hookSpecificOutput": { "hookEventName": "SessionStart", "additionalContext": crate::redact::redact(&context) } });
    Ok(Some(out.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::store::MemoryStore;

    fn hook(session: &str, cwd: &str) -> String {
        json!({"session_id": session, "transcript_path": "/x.jsonl", "cwd": cwd, "hook_event_name": "SessionStart", "source": "startup"}).to_string()
    }

    #[test]
    fn pending_handoff_is_injected_once_into_a_new_session() {
        let dir = asm_testkit::TempDir::new("inject");
        let store = MemoryStore::at(dir.join("m"), 6000);
        assert_eq!(session_start(&store, &hook("new", "/tmp/fixture-project/demo"), Utc::now()).unwrap(), None, "nothing stored yet");
        let mut r = crate::memory::store::tests::record("old", None, Some("/tmp/fixture-project/demo"), Utc::now());
        r.sections.latest_request = Some("ship the memory store".into());
        store.save(r).unwrap();
        assert_eq!(session_start(&store, &hook("old", "/tmp/fixture-project/demo"), Utc::now()).unwrap(), None, "not into itself");
        let line = session_start(&store, &hook("new", "/tmp/fixture-project/demo/"), Utc::now()).unwrap().unwrap();
        let out: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(out["hookSpecificOutput"]["hookEventName"], "SessionStart");
        let context = out["hookSpecificOutput"]["additionalContext"].as_str().unwrap();
        assert!(context.contains("ship the memory store") && context.contains("session old"));
        assert_eq!(store.load("old").unwrap().injected_into.as_deref(), Some("new"));
        assert_eq!(session_start(&store, &hook("third", "/tmp/fixture-project/demo"), Utc::now()).unwrap(), None, "only once");
    }

    #[test]
    fn real_hook_payloads_parse_and_garbage_is_a_clear_error() {
        let fixture = asm_testkit::fixtures_dir().join("claude-code/hooks/SessionStart-startup.json");
        let dir = asm_testkit::TempDir::new("inject-bad");
        let store = MemoryStore::at(dir.join("m"), 6000);
        assert_eq!(session_start(&store, &std::fs::read_to_string(fixture).unwrap(), Utc::now()).unwrap(), None);
        let err = session_start(&store, "not json", Utc::now()).unwrap_err();
        assert!(err.to_string().starts_with("the SessionStart hook input is not the JSON"));
    }
}
