//! The monitor and health_check tell the truth on the first homes a user has: weeks-old
//! sessions over the threshold are listed but left alone; a machine without OpenClaw gets no
//! gateway watch at all; health_check exits 0, 1 or 2 for healthy, degraded and failed setups
//! and says so in typed JSON.

use asm_testkit::TempDir;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const FRESH: &str = "0b7f6a2e-3c1d-4e5f-8a9b-0c1d2e3f4a5b";
const OLD: &str = "7c2d9e41-5a6b-4c3d-9e8f-1a2b3c4d5e6f";

fn bin(tool: &str) -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_asm_monitor")).parent().unwrap().join(format!("asm_{tool}"))
}

fn run(home: &TempDir, tool: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(bin(tool))
        .args(args)
        .env_clear()
        .env("HOME", home.path())
        .env("OPENCLAW_STATE_DIR", home.join("state"))
        .env("PATH", "/usr/bin:/bin")
        .env("ASM_NOTIFY_BACKEND", "log")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// A Claude Code session at 85 % of a 200k window, last touched `age` ago (`touch -d`).
fn claude_session(home: &TempDir, id: &str, age: &str) {
    let project = home.join(".claude/projects/-w");
    std::fs::create_dir_all(&project).unwrap();
    let file = project.join(format!("{id}.jsonl"));
    std::fs::write(&file, asm_testkit::claude_code::transcript_at_85_percent(id)).unwrap();
    let touched = Command::new("touch").args(["-d", age]).arg(&file).status().unwrap();
    assert!(touched.success());
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Every notification queued, from the tools' logs ("event <kind> queued as <id>: <text>"):
/// with the log backend a message leaves the outbox as soon as it is written.
fn sent(home: &TempDir) -> Vec<String> {
    let mut lines = Vec::new();
    for entry in std::fs::read_dir(home.join("state/logs")).into_iter().flatten().flatten() {
        let log = std::fs::read_to_string(entry.path()).unwrap_or_default();
        lines.extend(log.lines().filter(|l| l.contains(" queued as ")).map(str::to_string));
    }
    lines
}

#[test]
fn weeks_old_sessions_over_the_threshold_are_listed_but_never_acted_on() {
    let home = TempDir::new("truth-old");
    claude_session(&home, OLD, "30 days ago");
    let first = run(&home, "monitor", &["--once"], &[]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert!(text(&first.stdout).starts_with("1 sessions, 0 over 80% (1 idle, left alone), 0 switched"), "{}", text(&first.stdout));
    assert!(sent(&home).is_empty(), "nothing was sent: {:?}", sent(&home));
    assert!(!home.join(format!("state/.session_memory/{OLD}.json")).exists(), "nothing was extracted");
    let list = run(&home, "session_manager", &["--list", "--json"], &[]);
    assert!(text(&list.stdout).contains(OLD), "still listed");

    // A live session next to it is switched; ASM_ACTIVE_WITHIN=0 lifts the limit.
    claude_session(&home, FRESH, "5 minutes ago");
    let second = run(&home, "monitor", &["--once"], &[]);
    assert!(text(&second.stdout).starts_with("2 sessions, 1 over 80% (1 idle, left alone), 1 switched"), "{}", text(&second.stdout));
    assert!(home.join(format!("state/.session_memory/{FRESH}.json")).exists());
    assert_eq!(sent(&home).len(), 1, "{:?}", sent(&home));
    assert!(sent(&home).iter().all(|l| !l.contains(&OLD[..8])));
    let unlimited = run(&home, "monitor", &["--once"], &[("ASM_ACTIVE_WITHIN", "0")]);
    assert!(text(&unlimited.stdout).contains("1 switched"), "{}", text(&unlimited.stdout));
    assert!(home.join(format!("state/.session_memory/{OLD}.json")).exists());
}

#[test]
fn more_crossings_than_a_round_allows_send_one_digest() {
    let home = TempDir::new("truth-digest");
    let ids: Vec<String> = (0..4).map(|i| format!("{i}b7f6a2e-3c1d-4e5f-8a9b-0c1d2e3f4a5b")).collect();
    for id in &ids {
        claude_session(&home, id, "1 minute ago");
    }
    let out = run(&home, "monitor", &["--once"], &[("ASM_MAX_SWITCHES_PER_ROUND", "3")]);
    assert!(text(&out.stdout).contains("3 switched, 1 wait for the next round"), "{}", text(&out.stdout));
    let lines = sent(&home);
    assert_eq!(lines.len(), 1, "one digest, not a notice each: {lines:?}");
    let digest = lines[0].as_str();
    assert!(
        digest.contains("event switch_digest queued") && digest.contains("4 sessions reached 80% context usage this round") && digest.contains("1 more wait"),
        "{digest}"
    );
    let next = run(&home, "monitor", &["--once"], &[("ASM_MAX_SWITCHES_PER_ROUND", "3")]);
    assert!(text(&next.stdout).contains("1 switched"), "the one left is switched next round: {}", text(&next.stdout));
}

#[test]
fn without_openclaw_ten_rounds_make_no_gateway_attempt_and_send_nothing() {
    let home = TempDir::new("truth-no-openclaw");
    for _ in 0..10 {
        let out = run(&home, "monitor", &["--once"], &[]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(text(&out.stdout).contains("gateway watch off: no OpenClaw found"), "{}", text(&out.stdout));
    }
    let state: Value = serde_json::from_str(&std::fs::read_to_string(home.join("state/.asm_state.json")).unwrap()).unwrap();
    assert!(state.get("gateway").is_none(), "never probed, never an incident: {}", state["gateway"]);
    assert!(sent(&home).is_empty());
    let gateway = run(&home, "gateway_monitor", &["--act"], &[]);
    assert_eq!(gateway.status.code(), Some(0));
    assert!(text(&gateway.stdout).starts_with("gateway watch off: no OpenClaw found"), "{}", text(&gateway.stdout));
}

fn check<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["checks"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap_or_else(|| panic!("no check {name}: {doc}"))
}

#[test]
fn health_check_exits_0_1_2_for_healthy_degraded_and_failed_setups_in_typed_json() {
    let home = TempDir::new("truth-health");
    assert!(run(&home, "monitor", &["--once"], &[]).status.success());
    let healthy = run(&home, "health_check", &["--json"], &[]);
    let doc: Value = serde_json::from_slice(&healthy.stdout).unwrap();
    assert_eq!((healthy.status.code(), doc["status"].as_str()), (Some(0), Some("ok")), "{doc:#}");
    assert_eq!(check(&doc, "gateway")["details"]["watch"], "off");
    assert!(check(&doc, "monitor")["details"]["interval_secs"].is_u64());
    for c in doc["checks"].as_array().unwrap() {
        assert!(c["reason"].as_str().is_some_and(|r| !r.contains('\n') && !r.contains("{\"")), "one plain line: {c}");
    }
    let threshold = doc["config"].as_array().unwrap().iter().find(|s| s["variable"] == "ASM_MINIMAX_QUOTA_THRESHOLD").unwrap();
    assert_eq!(threshold["value"], 100, "a typed value, not {{\"kind\":…}}");

    claude_session(&home, FRESH, "1 minute ago");
    let degraded = run(&home, "health_check", &["--json"], &[]);
    let doc: Value = serde_json::from_slice(&degraded.stdout).unwrap();
    assert_eq!(degraded.status.code(), Some(1));
    let hooks = check(&doc, "hooks claude-code");
    assert_eq!(hooks["status"], "warn");
    assert!(hooks["reason"].as_str().unwrap().contains("has 1 session(s) but ASM's hooks are not installed"), "{hooks}");
    assert!(run(&home, "session_manager", &["--install-hooks"], &[]).status.success());
    let doc: Value = serde_json::from_slice(&run(&home, "health_check", &["--json"], &[]).stdout).unwrap();
    assert_eq!(check(&doc, "hooks claude-code")["status"], "ok", "{}", check(&doc, "hooks claude-code"));

    let state_file = home.join("state/.asm_state.json");
    let mut state: Value = serde_json::from_str(&std::fs::read_to_string(&state_file).unwrap()).unwrap();
    state["gateway"] = serde_json::json!({"incident": {"phase": "gave_up", "attempts": 3, "repaired": true},
        "history": [{"at": "2026-12-01T10:00:00Z", "kind": "down", "latency_ms": 1, "detail": "connection refused"}]});
    assert!(serde_json::from_value::<asm_core::gateway::GatewayState>(state["gateway"].clone()).is_ok(), "the section as the gateway watch writes it");
    std::fs::write(&state_file, state.to_string()).unwrap();
    let failed = run(&home, "health_check", &[], &[("ASM_GATEWAY_URL", "http://127.0.0.1:9")]);
    assert_eq!(failed.status.code(), Some(2), "{}", text(&failed.stdout));
    let out = text(&failed.stdout);
    assert!(out.starts_with("auto-session-manager ") && out.lines().next().unwrap().contains("FAIL (1 failed"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("fail") && l.contains("GAVE_UP")), "{out}");
    assert!(!out.contains("{\"") && !out.contains("null"), "no raw JSON for people: {out}");
}
