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

/// A scratch world: fake sibling tools and a fake `openclaw` whose body is `openclaw_body`
/// (after a line logging its argv to `calls.log`).
struct World {
    tmp: TempDir,
}

impl World {
    fn new(openclaw_body: impl Fn(&World) -> String) -> World {
        let world = World { tmp: TempDir::new("switch") };
        let (bin, state) = (world.tmp.join("bin"), world.tmp.join("state"));
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(state.join(".session_memory")).unwrap();
        script(&bin.join("asm_session_manager"), &format!("print('''{SESSIONS}''')\n"));
        script(
            &bin.join("asm_memory_manager"),
            &format!("{}sid = sys.argv[sys.argv.index('--session-id') + 1]\nopen(os.path.join({:?}, sid + '.json'), 'w').write(json.dumps({{'session_id': sid, 'handoff': '# Handoff\\nGoal: keep going'}}))\nprint('{{}}')\n", world.log_call(), state.join(".session_memory").display().to_string()),
        );
        for t in ["asm_gateway_monitor", "asm_health_check"] {
            script(&bin.join(t), "print('{}')\n");
        }
        script(&bin.join("openclaw"), &format!("{}{}", world.log_call(), openclaw_body(&world)));
        world
    }

    fn log_call(&self) -> String {
        format!("import sys, json, os\nopen({:?}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n", self.tmp.join("calls.log").display().to_string())
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.tmp.join("calls.log")).unwrap_or_default().lines().map(str::to_string).collect()
    }

    fn state_doc(&self) -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(self.tmp.join("state/.asm_state.json")).unwrap()).unwrap()
    }

    fn run(&self) -> std::process::Output {
        let bin = self.tmp.join("bin");
        Command::new(env!("CARGO_BIN_EXE_asm_monitor"))
            .args(["--once"])
            .env_clear()
            .env("PATH", format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default()))
            .env("HOME", self.tmp.path())
            .env("OPENCLAW_STATE_DIR", self.tmp.join("state"))
            .env("ASM_BIN_DIR", &bin)
            .env("ASM_NOTIFY_BACKEND", "log")
            .output()
            .unwrap()
    }
}

#[test]
fn crossing_sessions_are_extracted_switched_and_acted_on_once() {
    let world = World::new(|w| {
        format!(
            "if 'sessions.reset' in sys.argv: print(json.dumps({{'ok': True}}))\nif '--message-file' in sys.argv:\n    f = sys.argv[sys.argv.index('--message-file') + 1]\n    open({:?}, 'w').write(open(f).read())\n    print('{{}}')\n",
            w.tmp.join("seeded.md").display().to_string()
        )
    });
    let (tmp, state) = (&world.tmp, world.tmp.join("state"));
    let run = || world.run();
    let out = run();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines = world.calls();
    let calls_text = lines.join("\n");
    assert_eq!(lines.len(), 3, "extract oc-1, reset, seed; the estimated and the low session are left alone: {calls_text}");
    assert!(lines[0].contains("\"extract\"") && lines[0].contains("\"oc-1\"") && lines[0].contains("\"openclaw\""));
    assert!(lines[1].contains("sessions.reset") && lines[1].contains("expectedSessionId") && lines[1].contains("topic:7"));
    assert!(lines[2].contains("\"--session-key\"") && lines[2].contains("\"--deliver\""));
    assert_eq!(std::fs::read_to_string(tmp.join("seeded.md")).unwrap(), "# Handoff\nGoal: keep going");
    let doc = world.state_doc();
    let handled = &doc["switching"]["handled"]["openclaw:oc-1"];
    assert_eq!(handled["extracted"], true);
    assert_eq!(handled["switched"], true);
    let log = std::fs::read_to_string(state.join("logs/asm_monitor.log")).unwrap();
    assert!(log.contains("OpenClaw context usage reached 85%, switched to new session"), "{log}");

    let out = run();
    assert!(out.status.success());
    assert_eq!(world.calls().len(), 3, "the same crossing is not acted on twice");
}

#[test]
fn a_failed_seed_is_retried_alone_without_a_second_reset() {
    let world = World::new(|w| {
        format!(
            "if 'sessions.reset' in sys.argv: print(json.dumps({{'ok': True, 'entry': {{'delivery': {{'kind': 'none'}}}}}}))\nif '--message-file' in sys.argv:\n    marker = {:?}\n    if not os.path.exists(marker):\n        open(marker, 'w').write('1')\n        print(json.dumps({{'ok': False, 'error': {{'message': 'model provider unreachable'}}}}))\n        sys.exit(1)\n    print('{{}}')\n",
            w.tmp.join("seed-failed-once").display().to_string()
        )
    });
    assert!(world.run().status.success());
    let handled = world.state_doc()["switching"]["handled"]["openclaw:oc-1"].clone();
    assert_eq!(handled["switched"], false);
    assert_eq!(handled["pending"]["delivery"], serde_json::json!({"kind": "explicit", "channel": "telegram", "to": "-1001:topic:7"}));
    assert!(handled["last_error"].as_str().unwrap_or_default().contains("model provider unreachable"), "{handled}");

    assert!(world.run().status.success());
    let calls = world.calls();
    assert_eq!(calls.len(), 4, "extract, reset, failed seed, seed again: {calls:?}");
    assert!(calls[3].contains("--message-file") && calls[3].contains("\"--reply-to\", \"-1001:topic:7\""), "{calls:?}");
    let handled = world.state_doc()["switching"]["handled"]["openclaw:oc-1"].clone();
    assert_eq!((handled["switched"].as_bool(), handled.get("pending")), (Some(true), None), "{handled}");
    let log = std::fs::read_to_string(world.tmp.join("state/logs/asm_monitor.log")).unwrap();
    assert_eq!(log.matches("event context_switch queued").count(), 1, "the feed hears once, after the seed: {log}");

    assert!(world.run().status.success());
    assert_eq!(world.calls().len(), 4);
}
