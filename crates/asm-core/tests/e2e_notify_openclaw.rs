//! End to end with the real OpenClaw (2026.9.6 from `make e2e`): a real gateway whose
//! Telegram channel points at a loopback mock Bot API, and ASM's `auto` backend choosing
//! `openclaw message send` because the CLI and a reachable gateway exist. The chat id comes
//! from OpenClaw's config (its only Telegram group). Every process started is stopped.

use asm_core::env::Env;
use asm_core::notify::{Event, Notifier, Outbox};
use asm_core::Runtime;
use asm_testkit::openclaw::{require_tools, ScratchOpenclaw};
use asm_testkit::{MockServer, Response};
use serde_json::json;
use std::time::Duration;

const CHAT: &str = "-1001234567890";
const TOKEN: &str = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
const GATEWAY_TOKEN: &str = "asm-e2e-gateway-token-0123456789";

#[test]
#[ignore = "e2e: run with make e2e"]
fn auto_backend_posts_through_the_real_openclaw_gateway() {
    require_tools();
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
    let mut scratch = ScratchOpenclaw::new("e2e-notify");
    scratch.set_env("OPENCLAW_GATEWAY_TOKEN", GATEWAY_TOKEN);
    let port = scratch.port();
    scratch.write_config(&json!({
        "gateway": {"mode": "local", "port": port, "bind": "loopback", "auth": {"mode": "token", "token": GATEWAY_TOKEN}},
        "channels": {"telegram": {"botToken": TOKEN, "apiRoot": api.url(), "groups": {CHAT: {}}}}
    }));
    scratch.start_gateway(&[]);
    assert!(scratch.wait_ready(Duration::from_secs(120)), "gateway did not answer /healthz and /readyz: {}", scratch.gateway_log());

    let rt = Runtime::from_env(Env::from_pairs(scratch.env())).unwrap();
    let health = asm_core::notify::health(&rt);
    assert_eq!(health.backend, Some(asm_core::notify::route::Backend::Openclaw), "{health:?}");
    assert_eq!(health.chat.as_deref(), Some(CHAT), "{health:?}");
    let event = Event::GatewayRecovered { down_for_secs: 200 };
    Notifier::new(&rt).emit(&event);

    let sends: Vec<serde_json::Value> = api.requests().iter().filter(|r| r.path.ends_with("/sendMessage")).map(|r| r.body_json().unwrap()).collect();
    assert_eq!(sends, [json!({"chat_id": CHAT, "text": event.text(), "message_thread_id": 466, "parse_mode": "HTML"})]);
    assert_eq!(Outbox::at(&rt.paths).snapshot().unwrap().pending.len(), 0);
}
