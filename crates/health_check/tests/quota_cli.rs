//! `asm_health_check --quota` as a user runs it: a real process against a loopback MiniMax
//! mock, with a temp OPENCLAW_STATE_DIR.

use asm_testkit::{MockServer, Response, TempDir};
use serde_json::{json, Value};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

const KEY: &str = "sk-cp-CLITEST0123456789abcdef";

fn run(dir: &TempDir, server: &MockServer, args: &[&str]) -> Output {
    let state = dir.join("state");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(state.join("openclaw.json"), format!("{{ logging: {{ file: '{}' }} }}", dir.join("openclaw.log").display())).unwrap();
    Command::new(env!("CARGO_BIN_EXE_asm_health_check"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .env("OPENCLAW_STATE_DIR", &state)
        .env("ASM_MINIMAX_API_KEY", KEY)
        .env("ASM_MINIMAX_BASE_URL", server.url())
        .env("ASM_NOTIFY_BACKEND", "log")
        .env("ASM_PAUSE_CMD", json!(["sh", "-c", format!("echo paused >> {}", dir.join("hooks.txt").display())]).to_string())
        .output()
        .unwrap()
}

fn json_out(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn quota_json_reads_pauses_and_respects_the_interval() {
    let remaining = Arc::new(AtomicI64::new(30));
    let r2 = remaining.clone();
    let server = MockServer::start(move |_| {
        Response::json(
            200,
            &json!({"model_remains": [{"model_name": "general", "end_time": 4_102_444_800_000i64, "current_interval_total_count": 1500,
                "current_interval_usage_count": r2.load(Ordering::SeqCst)}], "base_resp": {"status_code": 0, "status_msg": "success"}, "current_subscribe_title": "Plus"}),
        )
    });
    let dir = TempDir::new("hc-quota");

    let out = run(&dir, &server, &["--quota", "--json"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let report = json_out(&out);
    assert_eq!(report["watch"], json!(true));
    assert_eq!(report["read"], json!("read"));
    assert_eq!(report["plan"], json!("Plus"));
    assert_eq!(report["remaining"], json!(30));
    assert_eq!(report["resets_at"], json!("2100-01-01T00:00:00Z"));
    assert_eq!(report["paused"], json!(true));
    let kinds: Vec<&str> = report["events"].as_array().unwrap().iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds, vec!["quota_low", "work_paused"]);
    assert_eq!(std::fs::read_to_string(dir.join("hooks.txt")).unwrap(), "paused\n");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(KEY));
    let saved: Value = serde_json::from_slice(&std::fs::read(dir.join("state/.asm_state.json")).unwrap()).unwrap();
    assert_eq!(saved["quota"]["paused"], json!(true));

    // Again at once: the poll interval holds, no request; --force reads.
    remaining.store(1400, Ordering::SeqCst);
    let report = json_out(&run(&dir, &server, &["--quota", "--json"]));
    assert_eq!(report["read"], json!("skipped"));
    assert_eq!(server.requests().len(), 1);
    let report = json_out(&run(&dir, &server, &["--quota", "--force", "--json"]));
    assert_eq!((report["read"].clone(), report["paused"].clone()), (json!("read"), json!(false)));
    assert_eq!(report["events"][0]["kind"], json!("work_resumed"));

    // Plain health_check shows the last reading and its age.
    let out = run(&dir, &server, &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines().any(|l| l.starts_with("ok") && l.contains("quota") && l.contains("Plus: 5-hour: 1400/1500 calls left") && l.ends_with("s old")),
        "{text}"
    );
    let report = json_out(&run(&dir, &server, &["--json"]));
    let quota = report["checks"].as_array().unwrap().iter().find(|c| c["name"] == "quota").cloned().unwrap();
    assert_eq!(quota["details"]["remaining"], json!(1400));
    assert!(quota["details"]["reading_age_secs"].is_number());
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn quota_text_reports_a_failed_read_with_exit_1() {
    let server = MockServer::start(|_| Response::json(401, &json!({"base_resp": {"status_code": 2049, "status_msg": "invalid api key"}})));
    let dir = TempDir::new("hc-quota-401");
    let out = run(&dir, &server, &["--quota"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("read: FAILED") && text.contains("2049"), "{text}");
    assert!(text.contains("work: running"), "{text}");
}
