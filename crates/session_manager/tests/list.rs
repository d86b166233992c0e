//! `session_manager --list` as a user runs it, over a temporary HOME: the JSON document, the
//! platform filter, the table, and secrets in titles masked on the way out.

use asm_testkit::TempDir;
use std::process::{Command, Output};

const SECRET: &str = "sk-ant-api03-SECRETSECRETSECRETSECRET0123";

fn home_with_one_claude_session() -> TempDir {
    let home = TempDir::new("sm-list");
    let project = home.join(".claude/projects/-w");
    std::fs::create_dir_all(&project).unwrap();
    let id = "0b7f6a2e-3c1d-4e5f-8a9b-0c1d2e3f4a5b";
    let lines = [
        format!(
            r#"{{"type":"user","sessionId":"{id}","cwd":"/w","uuid":"u1","timestamp":"2026-11-24T10:00:00Z","message":{{"role":"user","content":"deploy with key {SECRET}"}}}}"#
        ),
        format!(
            r#"{{"type":"assistant","sessionId":"{id}","cwd":"/w","uuid":"a1","parentUuid":"u1","timestamp":"2026-11-24T10:00:05Z","message":{{"id":"msg_1","role":"assistant","model":"claude-sonnet-4-5","content":[{{"type":"text","text":"ok"}}],"usage":{{"input_tokens":100,"cache_creation_input_tokens":0,"cache_read_input_tokens":170000,"output_tokens":5}}}}}}"#
        ),
    ];
    std::fs::write(project.join(format!("{id}.jsonl")), lines.join("\n") + "\n").unwrap();
    home
}

fn list(home: &TempDir, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_asm_session_manager")).arg("--list").args(args).env_clear().env("HOME", home.path()).env("NO_COLOR", "1").output().unwrap()
}

#[test]
fn json_lists_the_session_with_its_numbers_and_no_secret() {
    let home = home_with_one_claude_session();
    let out = list(&home, &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("SECRETSECRET"), "{text}");
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let s = &doc["sessions"][0];
    assert_eq!(s["platform"], "claude-code");
    assert_eq!(s["context_tokens"], 170_100);
    assert_eq!(s["context_window"], 200_000);
    assert_eq!(s["context_percent"], 85.1);
    assert_eq!(s["estimated"], false);
    assert!(s["title"].as_str().unwrap().contains("[REDACTED]"), "{s}");
    assert_eq!(doc["errors"], serde_json::json!([]));
}

#[test]
fn platform_filter_and_table() {
    let home = home_with_one_claude_session();
    let doc: serde_json::Value = serde_json::from_slice(&list(&home, &["--json", "--platform", "opencode"]).stdout).unwrap();
    assert_eq!(doc["sessions"], serde_json::json!([]));
    let table = String::from_utf8_lossy(&list(&home, &[]).stdout).into_owned();
    assert!(table.starts_with("PLATFORM"), "{table}");
    assert!(table.contains("85.1%") && table.contains("claude-code") && !table.contains("SECRETSECRET"), "{table}");
    assert!(!table.contains('\x1b'), "no colour off a terminal");
}
