//! The monitor acting on a session list: a session over the threshold is extracted through
//! memory_manager, an OpenClaw session is reset and seeded through the openclaw CLI, and each
//! crossing is acted on once. The children here are fakes on the other side of the process
//! boundary; the monitor is the real binary.

use asm_testkit::TempDir;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

fn script(path: &Path, body: &str) {
    std::fs::write(path, format!("#!/usr/bin/env python3\n{body}")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

const SESSIONS: &str = r#"{"sessions":[
 {"platform":"openclaw","session_id":"oc-1","key":"agent:main:telegram:group:-1001:topic:7","title":null,"cwd":null,"model":"m","context_tokens":170000,"context_window":200000,"context_percent":85.0,"compact_at_tokens":180000,"estimated":false,"live":null,"updated_at":null,"source":"x"},
 {"platform":"claude-code","session_id":"cc-1","key":null,"title":"fix parser","cwd":"/w","model":"m","context_tokens":100,"context_window":200000,"context_percent":0.1,"compact_at_tokens":null,"estimated":false,"live":true,"updated_at":null,"source":"y"},
 {"platform":"opencode","session_id":"op-1","key":null,"title":null,"cwd":"/w","model":"m","context_tokens":190000,"context_window":200000,"context_percent":95.0,"compact_at_tokens":null,"estimated":true,"live":null,"updated_at":null,"source":"z"}
],"errors":[]}"#;

#[test]
fn crossing_sessions_are_extracted_switched_and_acted_on_once() {
    let tmp = TempDir::new("switch");
    let (bin, state, calls) = (tmp.join("bin"), tmp.join("state"), tmp.join("calls.log"));
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(state.join(".session_memory")).unwrap();
    let log_call = format!("import sys, json, os\nopen({:?}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n", calls.display().to_string());
    script(&bin.join("asm_session_manager"), &format!("print('''{SESSIONS}''')\n"));
    script(
        &bin.join("asm_memory_manager"),
        &format!("{log_call}sid = sys.argv[sys.argv.index('--session-id') + 1]\nopen(os.path.join({:?}, sid + '.json'), 'w').write(json.dumps({{'session_id': sid, 'handoff': '# Handoff\\nGoal: keep going'}}))\nprint('{{}}')\n", state.join(".session_memory").display().to_string()),
    );
    for t in ["asm_gateway_monitor", "asm_health_check"] {
        script(&bin.join(t), "print('{}')\n");
    }
    script(
        &bin.join("openclaw"),
        &format!("{log_call}if 'sessions.reset' in sys.argv: print(json.dumps({{'ok': True}}))\nif '--message-file' in sys.argv:\n    f = sys.argv[sys.argv.index('--message-file') + 1]\n    open({:?}, 'w').write(open(f).read())\n    print('{{}}')\n", tmp.join("seeded.md").display().to_string()),
    );
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_asm_monitor"))
            .args(["--once"])
            .env_clear()
            .env("PATH", format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default()))
            .env("HOME", tmp.path())
            .env("OPENCLAW_STATE_DIR", &state)
            .env("ASM_BIN_DIR", &bin)
            .env("ASM_NOTIFY_BACKEND", "log")
            .output()
            .unwrap()
    };
    let out = run();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let calls_text = std::fs::read_to_string(&calls).unwrap();
    let lines: Vec<&str> = calls_text.lines().collect();
    assert_eq!(lines.len(), 3, "extract oc-1, reset, seed; the estimated and the low session are left alone: {calls_text}");
    assert!(lines[0].contains("\"extract\"") && lines[0].contains("\"oc-1\"") && lines[0].contains("\"openclaw\""));
    assert!(lines[1].contains("sessions.reset") && lines[1].contains("expectedSessionId") && lines[1].contains("topic:7"));
    assert!(lines[2].contains("\"--session-key\"") && lines[2].contains("\"--deliver\""));
    assert_eq!(std::fs::read_to_string(tmp.join("seeded.md")).unwrap(), "# Handoff\nGoal: keep going");
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(state.join(".asm_state.json")).unwrap()).unwrap();
    let handled = &doc["switching"]["handled"]["openclaw:oc-1"];
    assert_eq!(handled["extracted"], true);
    assert_eq!(handled["switched"], true);
    let log = std::fs::read_to_string(state.join("logs/asm_monitor.log")).unwrap();
    assert!(log.contains("OpenClaw context usage reached 85%, switched to new session"), "{log}");

    let out = run();
    assert!(out.status.success());
    assert_eq!(std::fs::read_to_string(&calls).unwrap().lines().count(), 3, "the same crossing is not acted on twice");
}
