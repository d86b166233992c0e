//! `session_manager --switch` and `--install-hooks`/`--remove-hooks` as a user runs them, over a
//! temporary HOME with a Claude Code session: a dry run prints every step and runs nothing, a
//! switch by a unique prefix extracts and waits for the next session, a second one inside the
//! cooldown is refused; hooks are merged into the settings and taken out again exactly.

use asm_testkit::TempDir;
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Output};

const ID: &str = "0b7f6a2e-3c1d-4e5f-8a9b-0c1d2e3f4a5b";

fn home_with_one_claude_session() -> TempDir {
    let home = TempDir::new("sm-switch");
    let project = home.join(".claude/projects/-w");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(project.join(format!("{ID}.jsonl")), asm_testkit::claude_code::transcript_at_85_percent(ID)).unwrap();
    home
}

fn run(home: &TempDir, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_asm_session_manager"))
        .args(args)
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", "/usr/bin:/bin")
        .env("ASM_NOTIFY_BACKEND", "log")
        .output()
        .unwrap()
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn a_dry_run_prints_each_step_and_runs_none() {
    let home = home_with_one_claude_session();
    let out = run(&home, &["--switch", &ID[..8], "--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with(&format!("Dry run: switching Claude Code session {ID}")), "{text}");
    assert!(text.contains("1. extract [would run]") && text.contains("2. next-session [would run]"), "{text}");
    assert!(text.contains("$ asm_memory_manager --action extract"), "{text}");
    assert!(!home.join(".openclaw/.session_memory").exists(), "nothing was written");
    assert!(!home.join(".openclaw/.asm_state.json").exists());
    let doc = json_of(&run(&home, &["--switch", ID, "--dry-run", "--json"]));
    assert_eq!((doc["dry_run"].as_bool(), doc["switched"].as_bool()), (Some(true), Some(true)));
}

#[test]
fn a_switch_by_prefix_extracts_waits_for_the_next_session_and_respects_the_cooldown() {
    let home = home_with_one_claude_session();
    let doc = json_of(&run(&home, &["--switch", &ID[..10], "--json"]));
    assert_eq!(doc["switched"], true, "{doc}");
    assert_eq!(doc["memory_id"], format!("{ID}.g1"));
    assert_eq!(doc["steps"].as_array().unwrap().iter().map(|s| s["status"].as_str().unwrap()).collect::<Vec<_>>(), ["done", "done"]);
    let note = doc["steps"][1]["note"].as_str().unwrap();
    assert!(note.contains("hooks are not in Claude Code's settings"), "{note}");
    let memory: Value = serde_json::from_str(&std::fs::read_to_string(home.join(format!(".openclaw/.session_memory/{ID}.json"))).unwrap()).unwrap();
    assert_eq!((memory["origin"].as_str(), memory["injected_into"].as_str()), (Some("switch"), None), "the handoff waits for the next session");
    let again = run(&home, &["--switch", ID]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("ASM_SWITCH_COOLDOWN"), "{}", String::from_utf8_lossy(&again.stderr));
    let mut after_cooldown = Command::new(env!("CARGO_BIN_EXE_asm_session_manager"));
    after_cooldown.args(["--switch", ID, "--dry-run"]).env_clear().env("HOME", home.path()).env("PATH", "/usr/bin:/bin").env("ASM_SWITCH_COOLDOWN", "0");
    let dry = String::from_utf8_lossy(&after_cooldown.output().unwrap().stdout).into_owned();
    assert!(dry.contains("1. extract [would run]") && dry.contains("2. next-session [would run]"), "the next switch starts afresh: {dry}");
}

#[test]
fn unknown_and_ambiguous_sessions_are_clear_errors() {
    let home = home_with_one_claude_session();
    let project = home.join(".claude/projects/-w");
    std::fs::copy(project.join(format!("{ID}.jsonl")), project.join("0b7f6a2e-ffff-4e5f-8a9b-0c1d2e3f4a5b.jsonl")).unwrap();
    let out = run(&home, &["--switch", "0b7f6a2e"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("names 2 sessions") && err.contains(ID), "{err}");
    let out = run(&home, &["--show", "ffffffff"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no session with id, id prefix or OpenClaw key \"ffffffff\""));
    let shown = run(&home, &["--show", &ID[..10], "--json"]);
    assert_eq!(json_of(&shown)["session_id"], ID);
}

fn settings(home: &TempDir) -> Value {
    serde_json::from_str(&std::fs::read_to_string(home.join(".claude/settings.json")).unwrap()).unwrap()
}

#[test]
fn hooks_are_merged_kept_idempotent_backed_up_and_removed_exactly() {
    let home = home_with_one_claude_session();
    let original = r#"{
  "model": "opus",
  "hooks": {
    "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "audit.sh"}]}]
  }
}
"#;
    std::fs::write(home.join(".claude/settings.json"), original).unwrap();
    let dry = run(&home, &["--install-hooks", "--platform", "claude-code", "--dry-run"]);
    assert!(String::from_utf8_lossy(&dry.stdout).contains("would update"), "{}", String::from_utf8_lossy(&dry.stdout));
    assert_eq!(std::fs::read_to_string(home.join(".claude/settings.json")).unwrap(), original, "a dry run writes nothing");

    let out = run(&home, &["--install-hooks", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let doc = json_of(&out);
    let change = doc["changes"].as_array().unwrap().iter().find(|c| c["platform"] == "claude-code").unwrap().clone();
    assert_eq!(change["action"], "updated");
    assert_eq!(std::fs::read_to_string(change["backup"].as_str().unwrap()).unwrap(), original);
    assert_eq!(doc["skipped_not_found"], json!(["opencode"]), "OpenCode is not on this machine");
    let s = settings(&home);
    assert_eq!(s["model"], "opus");
    assert_eq!(s["hooks"]["PreToolUse"][0]["hooks"][0]["command"], "audit.sh");
    let command = s["hooks"]["SessionStart"][0]["hooks"][0]["command"].as_str().unwrap();
    assert!(command.ends_with("asm_memory_manager --action hook --platform claude-code"), "{command}");
    assert_eq!(s["hooks"]["PreCompact"][0]["matcher"], "manual|auto");

    let again = json_of(&run(&home, &["--install-hooks", "--platform", "claude-code", "--json"]));
    assert_eq!(again["changes"][0]["action"], "unchanged", "twice changes nothing");

    let removed = json_of(&run(&home, &["--remove-hooks", "--platform", "claude-code", "--json"]));
    assert_eq!(removed["changes"][0]["action"], "updated");
    assert_eq!(settings(&home), serde_json::from_str::<Value>(original).unwrap(), "exactly ASM's entries are gone");
}

#[test]
fn settings_that_are_not_json_are_refused_and_left_alone() {
    let home = home_with_one_claude_session();
    let path = home.join(".claude/settings.json");
    std::fs::write(&path, "{ \"model\": ").unwrap();
    let out = run(&home, &["--install-hooks", "--platform", "claude-code"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("is not valid JSON") && stdout.contains("nothing was written"), "{stdout}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "{ \"model\": ");
    assert_eq!(std::fs::read_dir(home.join(".claude")).unwrap().count(), 2, "no backup, no temp file: {:?}", Path::new(&path).parent());
}
