//! The monitor acting on a session over the threshold: it runs `session_manager --switch` (the
//! one switching path) as a child, which extracts the memory and resets and seeds the OpenClaw
//! session through the `openclaw` CLI; each crossing is acted on once, and a failed seed is
//! retried alone. The store is a real OpenClaw file store (2026.7 layout) in a temp dir; the
//! `openclaw` CLI is a fake on the other side of the process boundary; every ASM tool is the
//! real binary.

use asm_testkit::TempDir;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

const KEY: &str = "agent:main:telegram:group:-1001:topic:7";
const SESSION: &str = "0c1a0000-0000-4000-8000-000000000001";

fn script(path: &Path, body: &str) {
    std::fs::write(path, format!("#!/usr/bin/env python3\n{body}")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The directory of the real binaries (the monitor's siblings).
fn bin_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_asm_monitor")).parent().unwrap().to_path_buf()
}

/// A scratch world: a file store holding one Telegram-topic session at 85 %, and a fake
/// `openclaw` whose body is `openclaw_body` (after a line logging its argv to `calls.log`).
struct World {
    tmp: TempDir,
}

impl World {
    fn new(openclaw_body: impl Fn(&World) -> String) -> World {
        let world = World { tmp: TempDir::new("switch") };
        let sessions = world.state().join("agents/main/sessions");
        std::fs::create_dir_all(&sessions).unwrap();
        let transcript = sessions.join(format!("{SESSION}.jsonl"));
        let store = serde_json::json!({ KEY: {
            "sessionId": SESSION, "updatedAt": chrono_now_ms(), "sessionFile": transcript.to_str().unwrap(),
            "subject": "Ops", "contextTokens": 200000, "totalTokens": 170000, "totalTokensFresh": true
        }});
        std::fs::write(sessions.join("sessions.json"), store.to_string()).unwrap();
        let lines = [
            serde_json::json!({"type": "session", "version": 3, "id": SESSION}),
            serde_json::json!({"type": "message", "message": {"role": "user", "content": [{"type": "text", "text": "keep the parser streaming"}]}}),
            serde_json::json!({"type": "message", "message": {"role": "assistant", "content": [{"type": "text", "text": "We decided to keep the reader streaming."}]}}),
        ];
        std::fs::write(&transcript, lines.iter().map(|l| l.to_string() + "\n").collect::<String>()).unwrap();
        let bin = world.tmp.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        script(&bin.join("openclaw"), &format!("{}{}", world.log_call(), openclaw_body(&world)));
        world
    }

    fn state(&self) -> PathBuf {
        self.tmp.join("state")
    }

    fn log_call(&self) -> String {
        format!("import sys, json, os\nopen({:?}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n", self.tmp.join("calls.log").display().to_string())
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.tmp.join("calls.log")).unwrap_or_default().lines().map(str::to_string).collect()
    }

    fn state_doc(&self) -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(self.state().join(".asm_state.json")).unwrap()).unwrap()
    }

    fn run(&self) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_asm_monitor"))
            .args(["--once"])
            .env_clear()
            .env("PATH", format!("{}:{}", self.tmp.join("bin").display(), std::env::var("PATH").unwrap_or_default()))
            .env("HOME", self.tmp.join("home"))
            .env("OPENCLAW_STATE_DIR", self.state())
            .env("ASM_BIN_DIR", bin_dir())
            .env("ASM_NOTIFY_BACKEND", "log")
            .output()
            .unwrap()
    }
}

fn chrono_now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64
}

#[test]
fn a_crossing_session_is_extracted_reset_and_seeded_once() {
    let world = World::new(|w| {
        format!(
            "if 'sessions.reset' in sys.argv: print(json.dumps({{'ok': True}}))\nif '--message-file' in sys.argv:\n    f = sys.argv[sys.argv.index('--message-file') + 1]\n    open({:?}, 'w').write(open(f).read())\n    print('{{}}')\n",
            w.tmp.join("seeded.md").display().to_string()
        )
    });
    let out = world.run();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let calls = world.calls();
    let calls_text = calls.join("\n");
    assert_eq!(calls.len(), 2, "reset, then seed: {calls_text}");
    assert!(calls[0].contains("sessions.reset") && calls[0].contains("expectedSessionId") && calls[0].contains("topic:7"), "{calls_text}");
    assert!(calls[1].contains("\"--session-key\"") && calls[1].contains("\"--deliver\""), "{calls_text}");
    let seeded = std::fs::read_to_string(world.tmp.join("seeded.md")).unwrap();
    assert!(seeded.starts_with(&format!("# Handoff from OpenClaw session {SESSION} (asm-handoff {SESSION}.g1)")), "{seeded}");
    assert!(seeded.contains("keep the parser streaming"), "{seeded}");
    let doc = world.state_doc();
    let record = &doc["switching"]["switches"][format!("openclaw:{SESSION}")];
    assert!(record["finished_at"].is_string(), "{record}");
    assert_eq!(record["steps"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect::<Vec<_>>(), ["extract", "reset", "seed"]);
    let memory: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(world.state().join(format!(".session_memory/{SESSION}.json"))).unwrap()).unwrap();
    assert_eq!((memory["handed_via"].as_str(), memory["injected_into"].as_str()), (Some("seed"), Some(SESSION)));
    let log = std::fs::read_to_string(world.state().join("logs/asm_session_manager.log")).unwrap();
    assert!(log.contains("OpenClaw context usage reached 85%, switched to new session"), "{log}");

    assert!(world.run().status.success());
    assert_eq!(world.calls().len(), 2, "the same crossing is not acted on twice");
}

#[test]
fn a_failed_seed_is_retried_alone_without_a_second_reset() {
    let world = World::new(|w| {
        format!(
            "if 'sessions.reset' in sys.argv: print(json.dumps({{'ok': True, 'entry': {{'delivery': {{'kind': 'none'}}}}}}))\nif '--message-file' in sys.argv:\n    marker = {:?}\n    if not os.path.exists(marker):\n        open(marker, 'w').write('1')\n        print(json.dumps({{'ok': False, 'error': {{'message': 'model provider unreachable'}}}}))\n        sys.exit(1)\n    print('{{}}')\n",
            w.tmp.join("seed-failed-once").display().to_string()
        )
    });
    let first = world.run();
    assert_eq!(first.status.code(), Some(1), "a switch failed: --once says so");
    assert!(String::from_utf8_lossy(&first.stdout).contains("problem: sessions: 1 switch(es) failed"), "{}", String::from_utf8_lossy(&first.stdout));
    let record = world.state_doc()["switching"]["switches"][format!("openclaw:{SESSION}")].clone();
    assert!(record["finished_at"].is_null(), "{record}");
    let reset = record["steps"].as_array().unwrap().iter().find(|s| s["name"] == "reset").unwrap().clone();
    assert_eq!(reset["outcome"]["data"], serde_json::json!({"kind": "explicit", "channel": "telegram", "to": "-1001:topic:7"}));
    assert!(record["last_error"].as_str().unwrap_or_default().contains("model provider unreachable"), "{record}");

    assert!(world.run().status.success());
    let calls = world.calls();
    assert_eq!(calls.len(), 3, "reset, failed seed, seed again: {calls:?}");
    assert!(calls[2].contains("--message-file") && calls[2].contains("\"--reply-to\", \"-1001:topic:7\""), "{calls:?}");
    let record = world.state_doc()["switching"]["switches"][format!("openclaw:{SESSION}")].clone();
    assert!(record["finished_at"].is_string(), "{record}");
    let log = std::fs::read_to_string(world.state().join("logs/asm_session_manager.log")).unwrap();
    assert_eq!(log.matches("event context_switch queued").count(), 1, "the feed hears once, after the seed: {log}");

    assert!(world.run().status.success());
    assert_eq!(world.calls().len(), 3);
}
