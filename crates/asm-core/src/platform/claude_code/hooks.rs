//! ASM's hooks in Claude Code's user settings (`$CLAUDE_CONFIG_DIR/settings.json`, else
//! `~/.claude/settings.json`; with `CLAUDE_CONFIG_DIR` set, Claude Code reads only that one —
//! verified on 2.1.330 and 2.1.332):
//!
//! - `SessionStart` (matcher `startup|resume|clear|compact`): the pending handoff for the
//!   project goes into the new session; after a compaction, the key information ASM saved
//!   just before it goes into the compacted session;
//! - `PreCompact` (matcher `manual|auto`): the session's memory is extracted right then.
//!
//! Both run one command, `asm_memory_manager --action hook --platform claude-code`, which
//! reads the hook's JSON on stdin and answers with `hookSpecificOutput.additionalContext`
//! (Claude Code adds it to the next request as a `role:"system"` message).
//!
//! Installing merges ASM's entries into the file and keeps every other setting and every
//! other hook (key order too); it is idempotent, backs the file up beside itself before a
//! change, and writes nothing when the file is not valid JSON. Removing takes out exactly
//! ASM's entries. ASM's entries are the ones whose command runs `memory_manager` with
//! `--action hook`.

use crate::platform::hooks::{self as shared, HookChange, HookError, HookEvent, HookStatus, StartSource};
use crate::Runtime;
use serde_json::{json, Map, Value};
use std::path::PathBuf;

/// The hook events ASM uses and the matcher of each.
const EVENTS: [(&str, &str); 2] = [("SessionStart", "startup|resume|clear|compact"), ("PreCompact", "manual|auto")];
/// Claude Code's default hook timeout is 60 s; an extraction of a large transcript takes about one.
const HOOK_TIMEOUT_SECS: u64 = 60;

/// The settings files ASM's hooks go into: each dir of `CLAUDE_CONFIG_DIR`, else `~/.claude`.
pub fn settings_files(rt: &Runtime) -> Vec<PathBuf> {
    match rt.env.get("CLAUDE_CONFIG_DIR").filter(|v| !v.trim().is_empty()) {
        Some(list) => list.split(',').map(str::trim).filter(|p| !p.is_empty()).map(|p| rt.env.expand_tilde(p).join("settings.json")).collect(),
        None => rt.env.home().map(|h| h.join(".claude").join("settings.json")).into_iter().collect(),
    }
}

/// Whether a hook command is ASM's.
fn is_ours(hook: &Value) -> bool {
    let command = hook.get("command").and_then(Value::as_str).unwrap_or_default();
    command.contains("memory_manager") && command.contains("--action hook")
}

fn our_group(matcher: &str, command: &str) -> Value {
    json!({ "matcher": matcher, "hooks": [{ "type": "command", "command": command, "timeout": HOOK_TIMEOUT_SECS }] })
}

/// The settings with ASM's entries in place (unchanged when they already are).
pub fn with_hooks(settings: &Value, command: &str) -> Result<Value, HookError> {
    let mut out = settings.clone();
    let root = out.as_object_mut().ok_or_else(|| HookError::Shape("the settings are not a JSON object".into()))?;
    let hooks = root.entry("hooks").or_insert_with(|| Value::Object(Map::new()));
    let hooks = hooks.as_object_mut().ok_or_else(|| HookError::Shape("\"hooks\" is not an object".into()))?;
    for (event, matcher) in EVENTS {
        let groups = hooks.entry(event).or_insert_with(|| Value::Array(Vec::new()));
        let groups = groups.as_array_mut().ok_or_else(|| HookError::Shape(format!("\"hooks.{event}\" is not an array")))?;
        let wanted = our_group(matcher, command);
        let ours: Vec<usize> = groups.iter().enumerate().filter(|(_, g)| group_hooks(g).iter().any(is_ours)).map(|(i, _)| i).collect();
        if ours.len() == 1 && groups[ours[0]] == wanted {
            continue;
        }
        strip_ours(groups);
        groups.push(wanted);
    }
    Ok(out)
}

/// The settings without ASM's entries; event lists and the `hooks` object that only ASM's
/// entries filled are removed too.
pub fn without_hooks(settings: &Value) -> Value {
    let mut out = settings.clone();
    let Some(root) = out.as_object_mut() else { return out };
    let Some(hooks) = root.get_mut("hooks").and_then(Value::as_object_mut) else { return out };
    for (event, _) in EVENTS {
        let Some(groups) = hooks.get_mut(event).and_then(Value::as_array_mut) else { continue };
        let had_ours = groups.iter().any(|g| group_hooks(g).iter().any(is_ours));
        strip_ours(groups);
        if had_ours && groups.is_empty() {
            hooks.remove(event);
        }
    }
    if hooks.is_empty() {
        root.remove("hooks");
    }
    out
}

fn group_hooks(group: &Value) -> Vec<Value> {
    group.get("hooks").and_then(Value::as_array).cloned().unwrap_or_default()
}

/// Removes ASM's hooks from every group, and groups left empty by that.
fn strip_ours(groups: &mut Vec<Value>) {
    groups.retain_mut(|group| {
        let Some(hooks) = group.get_mut("hooks").and_then(Value::as_array_mut) else { return true };
        let before = hooks.len();
        hooks.retain(|h| !is_ours(h));
        !(hooks.is_empty() && before > 0)
    });
}

/// Which of ASM's hooks the settings hold.
pub fn status_of(settings: &Value) -> HookStatus {
    let present: Vec<&str> = EVENTS
        .iter()
        .filter(|(event, _)| {
            settings
                .pointer(&format!("/hooks/{event}"))
                .and_then(Value::as_array)
                .is_some_and(|groups| groups.iter().any(|g| group_hooks(g).iter().any(is_ours)))
        })
        .map(|(event, _)| *event)
        .collect();
    match present.len() {
        0 => HookStatus::Missing,
        n if n == EVENTS.len() => HookStatus::Installed,
        _ => HookStatus::Partial(present.iter().map(|e| e.to_string()).collect()),
    }
}

pub fn status(rt: &Runtime) -> Vec<(PathBuf, Result<HookStatus, HookError>)> {
    settings_files(rt).into_iter().map(|path| (path.clone(), shared::read_json(&path).map(|v| status_of(&v)))).collect()
}

/// Merges ASM's hooks into every settings file (`dry_run`: says what would change, writes nothing).
pub fn install(rt: &Runtime, command: &str, dry_run: bool) -> Vec<Result<HookChange, HookError>> {
    settings_files(rt).iter().map(|path| shared::edit_json(path, dry_run, |v| with_hooks(v, command))).collect()
}

/// Takes ASM's hooks out of every settings file.
pub fn remove(rt: &Runtime, dry_run: bool) -> Vec<Result<HookChange, HookError>> {
    settings_files(rt).iter().map(|path| shared::edit_json(path, dry_run, |v| Ok(without_hooks(v)))).collect()
}

/// The hook's stdin, as Claude Code sends it (`session_id`, `cwd`, `hook_event_name`,
/// `source` for SessionStart, `trigger` for PreCompact).
pub fn parse_event(stdin: &str) -> Result<HookEvent, HookError> {
    let v: Value = serde_json::from_str(stdin.trim()).map_err(|e| HookError::Input(format!("not the JSON Claude Code sends ({e})")))?;
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let session_id = text("session_id").filter(|s| !s.is_empty()).ok_or_else(|| HookError::Input("missing \"session_id\"".into()))?;
    let cwd = text("cwd").filter(|s| !s.is_empty()).ok_or_else(|| HookError::Input("missing \"cwd\"".into()))?;
    Ok(match text("hook_event_name").as_deref() {
        Some("SessionStart") => HookEvent::SessionStart { session_id, cwd, source: StartSource::parse(text("source").as_deref()) },
        Some("PreCompact") => HookEvent::PreCompact { session_id, cwd },
        other => HookEvent::Other(other.unwrap_or("(none)").to_string()),
    })
}

/// What the hook prints to hand `context` to the session.
pub fn render_context(event_name: &str, context: &str) -> String {
    json!({ "hookSpecificOutput": { "hookEventName": event_name, "additionalContext": context } }).to_string()
}

/// ASM's hooks in Claude Code, for the [`crate::platform::Adapter`].
pub struct ClaudeCodeHooks;

impl crate::platform::PlatformHooks for ClaudeCodeHooks {
    fn present(&self, rt: &Runtime) -> bool {
        !super::paths::config_dirs(&rt.env).is_empty() || crate::proc::which("claude", rt.env.get("PATH")).is_some()
    }

    fn status(&self, rt: &Runtime, _command: &[String]) -> Vec<(PathBuf, Result<HookStatus, HookError>)> {
        status(rt)
    }

    fn install(&self, rt: &Runtime, command: &[String], dry_run: bool) -> Vec<Result<HookChange, HookError>> {
        install(rt, &shell_line(command), dry_run)
    }

    fn remove(&self, rt: &Runtime, dry_run: bool) -> Vec<Result<HookChange, HookError>> {
        remove(rt, dry_run)
    }

    fn parse_event(&self, stdin: &str) -> Result<HookEvent, HookError> {
        parse_event(stdin)
    }

    fn render_context(&self, event: &HookEvent, context: &str) -> String {
        render_context(event.name(), context)
    }
}

/// Claude Code runs a hook command through a shell: the argument vector, quoted.
fn shell_line(command: &[String]) -> String {
    command.iter().map(|a| shlex::try_quote(a).map(|q| q.into_owned()).unwrap_or_else(|_| a.clone())).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const CMD: &str = "/home/u/.openclaw/skills/auto-session-manager/scripts/asm_memory_manager --action hook --platform claude-code";

    fn user_settings() -> Value {
        serde_json::from_str(
            r#"{"model": "opus", "permissions": {"allow": ["Bash(ls:*)"]},
                "hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "audit.sh"}]}],
                          "SessionStart": [{"matcher": "startup", "hooks": [{"type": "command", "command": "echo hello"}]}]},
                "statusLine": {"type": "command", "command": "line.sh"}}"#,
        )
        .unwrap()
    }

    #[test]
    fn install_keeps_every_other_setting_and_hook_and_is_idempotent() {
        let before = user_settings();
        let once = with_hooks(&before, CMD).unwrap();
        assert_eq!(once["model"], "opus");
        assert_eq!(once["hooks"]["PreToolUse"], before["hooks"]["PreToolUse"]);
        assert_eq!(once["hooks"]["SessionStart"][0], before["hooks"]["SessionStart"][0], "the user's own SessionStart hook stays first");
        assert_eq!(once["hooks"]["SessionStart"][1]["matcher"], "startup|resume|clear|compact");
        assert_eq!(once["hooks"]["PreCompact"][0]["hooks"][0]["command"], CMD);
        assert_eq!(status_of(&once), HookStatus::Installed);
        assert_eq!(with_hooks(&once, CMD).unwrap(), once, "twice changes nothing");
        let keys: Vec<&String> = once.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["model", "permissions", "hooks", "statusLine"], "key order is kept");
    }

    #[test]
    fn remove_takes_out_exactly_what_install_put_in() {
        let before = user_settings();
        let installed = with_hooks(&before, CMD).unwrap();
        assert_eq!(without_hooks(&installed), before);
        let empty = serde_json::json!({});
        assert_eq!(without_hooks(&with_hooks(&empty, CMD).unwrap()), empty);
        assert_eq!(status_of(&before), HookStatus::Missing);
    }

    #[test]
    fn a_moved_binary_replaces_the_old_entry_instead_of_adding_one() {
        let old = with_hooks(&json!({}), "/old/asm_memory_manager --action hook --platform claude-code").unwrap();
        let new = with_hooks(&old, CMD).unwrap();
        assert_eq!(new["hooks"]["SessionStart"].as_array().unwrap().len(), 1);
        assert_eq!(new["hooks"]["SessionStart"][0]["hooks"][0]["command"], CMD);
    }

    #[test]
    fn settings_of_the_wrong_shape_are_refused_not_rewritten() {
        assert!(with_hooks(&json!([1, 2]), CMD).is_err());
        assert!(with_hooks(&json!({"hooks": []}), CMD).is_err());
        assert!(with_hooks(&json!({"hooks": {"SessionStart": {}}}), CMD).is_err());
    }

    #[test]
    fn real_hook_payloads_parse() {
        let dir = asm_testkit::fixtures_dir().join("claude-code/hooks");
        let start = parse_event(&std::fs::read_to_string(dir.join("SessionStart-startup.json")).unwrap()).unwrap();
        assert!(matches!(start, HookEvent::SessionStart { source: StartSource::Startup, .. }), "{start:?}");
        let compact = parse_event(&std::fs::read_to_string(dir.join("SessionStart-compact.json")).unwrap()).unwrap();
        assert!(matches!(compact, HookEvent::SessionStart { source: StartSource::Compact, .. }));
        let pre = parse_event(&std::fs::read_to_string(dir.join("PreCompact-manual.json")).unwrap()).unwrap();
        assert!(matches!(pre, HookEvent::PreCompact { .. }));
        assert!(parse_event("not json").unwrap_err().to_string().contains("not the JSON Claude Code sends"));
        assert!(parse_event(r#"{"hook_event_name":"SessionStart"}"#).is_err());
    }
}
