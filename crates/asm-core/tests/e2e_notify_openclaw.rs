//! End to end with the real OpenClaw (2026.9.6 from `make e2e`): a real gateway whose
//! Telegram channel points at a loopback mock Bot API, and ASM's `auto` backend choosing
//! `openclaw message send` because the CLI and a reachable gateway exist. The chat id comes
//! from OpenClaw's config (its only Telegram group). Every process started is stopped.

use asm_core::env::Env;
use asm_core::notify::{Event, Notifier, Outbox};
use asm_core::Runtime;
use asm_testkit::{MockServer, Response, TempDir};
use serde_json::json;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHAT: &str = "-1001234567890";
const TOKEN: &str = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
const GATEWAY_TOKEN: &str = "asm-e2e-gateway-token-0123456789";

/// Stops the gateway (SIGTERM to its group, SIGKILL after 30 s) and any worker still
/// carrying this test's state dir, by pid.
struct Gateway {
    child: Child,
    state_dir: String,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let pid = self.child.id() as i32;
        asm_core::proc::kill_group(pid, libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline && matches!(self.child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(200));
        }
        asm_core::proc::kill_group(pid, libc::SIGKILL);
        let _ = self.child.wait();
        for leftover in pids_with_state_dir(&self.state_dir) {
            asm_core::proc::signal_pid(leftover, libc::SIGKILL);
        }
    }
}

fn pids_with_state_dir(state_dir: &str) -> Vec<i32> {
    let needle = format!("OPENCLAW_STATE_DIR={state_dir}");
    std::fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(Result::ok)
                .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()))
                .filter(|pid| std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|env| env.split(|b| *b == 0).any(|kv| kv == needle.as_bytes())))
                .collect()
        })
        .unwrap_or_default()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
#[ignore = "e2e: run with make e2e"]
fn auto_backend_posts_through_the_real_openclaw_gateway() {
    let path = std::env::var("PATH").unwrap_or_default();
    let openclaw = asm_core::proc::which("openclaw", Some(&path)).expect("openclaw is not on PATH: run `make e2e` (tests/e2e/install-tools.sh) first");
    let api = MockServer::start(|req| {
        let method = req.path.rsplit('/').next().unwrap_or("");
        match method {
            "getMe" => Response::json(200, &json!({"ok": true, "result": {"id": 123456789, "is_bot": true, "first_name": "asm", "username": "asm_bot"}})),
            // Long polling: answer slowly so the gateway does not spin.
            m if m.starts_with("getUpdates") => Response::json(200, &json!({"ok": true, "result": []})).with_delay(Duration::from_secs(1)),
            "sendMessage" => Response::json(
                200,
                &json!({"ok": true, "result": {"message_id": 1001, "date": 1_700_000_000, "chat": {"id": -1001234567890i64, "type": "supergroup", "is_forum": true}, "message_thread_id": 466, "text": "x"}}),
            ),
            _ => Response::json(200, &json!({"ok": true, "result": true})),
        }
    });
    let home = TempDir::new("e2e-notify");
    let state_dir = home.join("state");
    std::fs::create_dir_all(&state_dir).unwrap();
    let port = free_port();
    let config = format!(
        "{{\n  // written by the ASM notify e2e test\n  gateway: {{ mode: 'local', port: {port}, bind: 'loopback', auth: {{ mode: 'token', token: '{GATEWAY_TOKEN}' }} }},\n  channels: {{ telegram: {{ botToken: '{TOKEN}', apiRoot: '{}', groups: {{ '{CHAT}': {{}} }}, }} }},\n}}\n",
        api.url()
    );
    std::fs::write(state_dir.join("openclaw.json"), config).unwrap();
    let env: Vec<(String, String)> = vec![
        ("HOME".into(), home.path().display().to_string()),
        ("OPENCLAW_STATE_DIR".into(), state_dir.display().to_string()),
        ("OPENCLAW_CONFIG_PATH".into(), state_dir.join("openclaw.json").display().to_string()),
        ("OPENCLAW_GATEWAY_TOKEN".into(), GATEWAY_TOKEN.into()),
        ("OPENCLAW_GATEWAY_PORT".into(), port.to_string()),
        ("OPENCLAW_OFFLINE".into(), "1".into()),
        ("OPENCLAW_NO_AUTO_UPDATE".into(), "1".into()),
        ("OPENCLAW_DISABLE_BONJOUR".into(), "1".into()),
        ("OPENCLAW_SKIP_CRON".into(), "1".into()),
        ("NO_COLOR".into(), "1".into()),
        ("PATH".into(), path.clone()),
    ];
    let log = std::fs::File::create(home.join("gateway.log")).unwrap();
    let child = Command::new(&openclaw)
        .args(["gateway", "run", "--port", &port.to_string(), "--bind", "loopback"])
        .env_clear()
        .envs(env.iter().cloned())
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .process_group(0)
        .spawn()
        .unwrap();
    let _gateway = Gateway { child, state_dir: state_dir.display().to_string() };
    let endpoint = asm_core::gateway::probe::Endpoint { base_url: format!("http://127.0.0.1:{port}"), port: Some(port), source: "test".into() };
    let started = Instant::now();
    while !asm_core::notify::route::gateway_reachable(&endpoint, Duration::from_secs(3)) {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "gateway did not answer /healthz: {}",
            std::fs::read_to_string(home.join("gateway.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    let rt = Runtime::from_env(Env::from_pairs(env.iter().cloned())).unwrap();
    let health = asm_core::notify::health(&rt);
    assert_eq!(health.backend, "openclaw", "{health:?}");
    assert_eq!(health.chat.as_deref(), Some(CHAT), "{health:?}");
    let event = Event::GatewayRecovered { down_for_secs: 200 };
    Notifier::new(&rt).emit(&event);

    let sends: Vec<serde_json::Value> = api.requests().iter().filter(|r| r.path.ends_with("/sendMessage")).map(|r| r.body_json().unwrap()).collect();
    assert_eq!(sends, [json!({"chat_id": CHAT, "text": event.text(), "message_thread_id": 466, "parse_mode": "HTML"})]);
    assert_eq!(Outbox::at(&rt.paths).snapshot().unwrap().pending.len(), 0);
}
