//! `health_check --notify-test` and the notification part of the health report, run as the
//! real binary against a loopback mock Bot API, with a hermetic environment.

use asm_core::notify::Outbox;
use asm_testkit::{MockServer, Response, TempDir};
use serde_json::{json, Value};
use std::process::{Command, Output};

const CHAT: &str = "-1001234567890";

fn run(home: &TempDir, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_asm_health_check"));
    cmd.env_clear()
        .env("HOME", home.path())
        .env("OPENCLAW_STATE_DIR", home.join("state"))
        .env("PATH", "/usr/bin:/bin")
        .env("ASM_FEED_CHAT_ID", CHAT)
        .env("ASM_NOTIFY_BACKEND", "telegram")
        .env("ASM_GATEWAY_URL", format!("http://127.0.0.1:{}", closed_port()))
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn queue_one(home: &TempDir, text: &str) {
    std::fs::create_dir_all(home.join("state")).unwrap();
    let outbox = Outbox::new(home.join("state/.asm_outbox.jsonl"));
    outbox.append_message("queued-1", asm_core::clock::Clock::now(&asm_core::clock::SystemClock), "gateway_recovered", text).unwrap();
}

fn ok_api() -> MockServer {
    MockServer::start(|_| {
        Response::json(200, &json!({"ok": true, "result": {"message_id": 4242, "chat": {"id": -1001234567890i64}, "message_thread_id": 466}}))
    })
}

#[test]
fn notify_test_delivers_the_backlog_first_then_the_test_message() {
    let home = TempDir::new("hc-notify");
    let api = ok_api();
    queue_one(&home, "OpenClaw gateway recovered after 200s");
    let token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
    let out = run(&home, &[("TELEGRAM_BOT_TOKEN", token), ("ASM_TELEGRAM_API_ROOT", &api.url())], &["--notify-test", "--text", "hello feed"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("backend   telegram (ASM_NOTIFY_BACKEND=telegram)"), "{stdout}");
    assert!(stdout.contains(&format!("chat      {CHAT} (ASM_FEED_CHAT_ID)")), "{stdout}");
    assert!(stdout.contains("topic     466"), "{stdout}");
    assert!(stdout.contains("delivered 1 queued message(s) first"), "{stdout}");
    assert!(stdout.contains("delivered: {\"ok\":true"), "{stdout}");
    let texts: Vec<Value> = api.requests().iter().map(|r| r.body_json().unwrap()["text"].clone()).collect();
    assert_eq!(texts, [json!("OpenClaw gateway recovered after 200s"), json!("hello feed")]);
}

#[test]
fn notify_test_reports_the_error_and_exits_1() {
    let home = TempDir::new("hc-notify-fail");
    let api = MockServer::start(|_| Response::json(400, &json!({"ok": false, "error_code": 400, "description": "Bad Request: chat not found"})));
    let token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
    let out = run(&home, &[("TELEGRAM_BOT_TOKEN", token), ("ASM_TELEGRAM_API_ROOT", &api.url()), ("ASM_FEED_TOPIC", "1")], &["--notify-test", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["delivered"], false);
    assert_eq!(report["topic"], 1);
    assert_eq!(report["error"], "Telegram answered 400: Bad Request: chat not found");
    assert!(api.requests()[0].body_json().unwrap().get("message_thread_id").is_none(), "General: no thread id");
    // The failed test message is not left to pop up later.
    assert_eq!(Outbox::new(home.join("state/.asm_outbox.jsonl")).snapshot().unwrap().pending.len(), 0);
}

#[test]
fn the_token_never_reaches_logs_output_or_files() {
    let home = TempDir::new("hc-token");
    // An unusual shape that no pattern knows: only the registered secret catches it.
    let token = "5550001:tok_SECRET_value_42";
    // The mock echoes the request path (which holds the token) back in its error description.
    let api = MockServer::start(|r| Response::json(401, &json!({"ok": false, "error_code": 401, "description": format!("Unauthorized for {}", r.path)})));
    queue_one(&home, "OpenClaw gateway restarted (attempt 1, systemd)");
    let api_root = api.url();
    let env: Vec<(&str, &str)> = vec![("TELEGRAM_BOT_TOKEN", token), ("ASM_TELEGRAM_API_ROOT", &api_root), ("ASM_LOG_LEVEL", "debug")];
    let unauthorized = run(&home, &env, &["--notify-test"]);
    assert_eq!(unauthorized.status.code(), Some(1));
    assert!(api.requests()[0].path.contains(token), "the mock did receive the token in the URL");
    let unreachable_root = format!("http://127.0.0.1:{}", closed_port());
    let mut env2 = env.clone();
    env2.retain(|(k, _)| *k != "ASM_TELEGRAM_API_ROOT");
    env2.push(("ASM_TELEGRAM_API_ROOT", &unreachable_root));
    let unreachable = run(&home, &env2, &["--notify-test"]);
    assert_eq!(unreachable.status.code(), Some(1));
    let report = run(&home, &env, &["--json"]);
    let log = std::fs::read_to_string(home.join("state/logs/asm_health_check.log")).unwrap();
    assert!(log.contains("NOTIFICATIONS ARE NOT BEING DELIVERED"), "loud: {log}");
    assert!(log.contains("cannot reach the Telegram Bot API"), "{log}");
    let mut everything = log;
    for out in [&unauthorized, &unreachable, &report] {
        everything.push_str(&String::from_utf8_lossy(&out.stdout));
        everything.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    for file in ["state/.asm_outbox.jsonl", "state/.asm_state.json"] {
        everything.push_str(&std::fs::read_to_string(home.join(file)).unwrap_or_default());
    }
    assert!(!everything.contains("tok_SECRET_value_42"), "token leaked:\n{everything}");
    assert!(everything.contains("Unauthorized for /bot[REDACTED]/sendMessage"), "{everything}");
}

#[test]
fn health_report_shows_the_outbox_backlog() {
    let home = TempDir::new("hc-backlog");
    queue_one(&home, "OpenClaw gateway recovered after 200s");
    let out = run(&home, &[], &["--json"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let check = report["checks"].as_array().unwrap().iter().find(|c| c["name"] == "notifications").cloned().unwrap();
    assert_eq!((check["status"].as_str(), check["details"]["pending"].as_u64()), (Some("warn"), Some(1)), "{check}");
    assert_eq!(check["details"]["backend"], "telegram");
    let reason = check["reason"].as_str().unwrap();
    assert!(reason.contains("1 notification(s) waiting in the outbox") && reason.contains("no bot token"), "{reason}");
    assert_eq!(out.status.code(), Some(1), "a warning: exit 1");
    let text = run(&home, &[], &[]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.lines().any(|l| l.starts_with("warn") && l.contains("notifications") && l.contains("1 notification(s) waiting")), "{stdout}");
}
