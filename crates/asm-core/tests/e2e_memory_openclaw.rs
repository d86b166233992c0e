//! End-to-end: a real OpenClaw gateway (2026.9.6, node 24) runs an agent turn offline against
//! a loopback OpenAI-compatible mock; ASM then extracts the session from OpenClaw's real
//! SQLite store with ASM_SUMMARY_MODE=platform, which runs
//! `openclaw gateway call sessions.compact`; the compaction summary must lead the memory.
//! Needs `openclaw` and `node` on PATH (`make e2e`). Every process started is killed by pid.

use asm_core::env::Env;
use asm_core::session::{Platform, SessionInfo, StoreKind, TranscriptRef};
use asm_core::Runtime;
use asm_testkit::openclaw::{require_tools, text, ScratchOpenclaw};
use asm_testkit::{MockServer, Request, Response};
use serde_json::{json, Value};
use std::time::Duration;

const KEY: &str = "agent:main:asm-memory-e2e";
const TOKEN: &str = "e2e-gateway-token-0123456789";

fn mock_provider() -> MockServer {
    MockServer::start(|req: &Request| {
        if req.method == "GET" {
            return Response::json(200, &json!({"object":"list","data":[{"id":"mock-1","object":"model"}]}));
        }
        let prompt = req.body.len() as u64 / 4;
        let text = "Mock reply: decided to keep src/main.rs as is. E2E-OCL-MARK";
        let usage = json!({"prompt_tokens": prompt, "completion_tokens": 12, "total_tokens": prompt + 12});
        let streaming = req.body_json().and_then(|b| b["stream"].as_bool()).unwrap_or(false);
        if !streaming {
            return Response::json(
                200,
                &json!({"id":"chatcmpl-e2e","object":"chat.completion","created":1,"model":"mock-1","choices":[{"index":0,"message":{"role":"assistant","content":text},"finish_reason":"stop"}],"usage":usage}),
            );
        }
        let chunk = |v: Value| {
            json!({"id":"chatcmpl-e2e","object":"chat.completion.chunk","created":1,"model":"mock-1"}).as_object().cloned().map(|mut o| {
                o.extend(v.as_object().cloned().unwrap_or_default());
                Value::Object(o)
            })
        };
        let chunks = [
            chunk(json!({"choices":[{"index":0,"delta":{"role":"assistant","content":text},"finish_reason":null}]})),
            chunk(json!({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})),
            chunk(json!({"choices":[],"usage":usage})),
        ];
        let mut body: String = chunks.iter().flatten().map(|c| format!("data: {c}\n\n")).collect();
        body.push_str("data: [DONE]\n\n");
        Response::new(200, "text/event-stream", body)
    })
}

#[test]
#[ignore = "e2e: run with make e2e"]
fn real_openclaw_session_and_sessions_compact() {
    require_tools();
    let provider = mock_provider();
    let mut scratch = ScratchOpenclaw::new("e2e-mem-ocl");
    scratch.set_env("OPENCLAW_SKIP_CHANNELS", "1").set_env("OPENCLAW_GATEWAY_TOKEN", TOKEN);
    scratch.write_config(&json!({
        "gateway": {"mode": "local", "port": scratch.port(), "auth": {"token": TOKEN}},
        "models": {"mode": "replace", "providers": {"mock": {
            "baseUrl": format!("{}/v1", provider.url()), "api": "openai-completions", "apiKey": "mock-key",
            "models": [{"id": "mock-1", "name": "Mock 1", "contextWindow": 32000, "maxTokens": 4096}]
        }}},
        "agents": {"defaults": {"model": {"primary": "mock/mock-1"}}},
        "logging": {"file": scratch.join("openclaw.log").display().to_string()}
    }));
    scratch.start_gateway(&[]);
    assert!(scratch.wait_ready(Duration::from_secs(120)), "gateway not ready; see {}", scratch.log_path().display());

    let out = scratch.openclaw_output(&["agent", "--session-key", KEY, "--message", "Please check src/main.rs and port 18789", "--json"]);
    assert!(out.status.success(), "openclaw agent: {}\n{}\n{}", out.status, text(&out.stdout), text(&out.stderr));
    let answer: Value = serde_json::from_slice(&out.stdout).expect("agent JSON");
    let session_id = answer.pointer("/result/meta/agentMeta/sessionId").and_then(Value::as_str).expect("sessionId in the agent answer").to_string();
    let db = scratch.join("state/agents/main/agent/openclaw-agent.sqlite");
    assert!(db.is_file());

    let mut pairs = scratch.env();
    pairs.push(("ASM_SUMMARY_MODE".into(), "platform".into()));
    pairs.push(("ASM_SUMMARY_TIMEOUT".into(), "180".into()));
    let rt = Runtime::from_env(Env::from_pairs(pairs)).unwrap();
    let info = SessionInfo {
        key: Some(KEY.into()),
        model: Some("mock-1".into()),
        context_window: Some(32_000),
        source: db.display().to_string(),
        transcript: Some(TranscriptRef::new(StoreKind::Sqlite, db, session_id.clone())),
        ..SessionInfo::bare(Platform::Openclaw, session_id.clone())
    };
    let record = asm_core::memory::extract(&rt, &info).unwrap();
    assert_eq!(record.summary.fallback_reason, None, "sessions.compact worked");
    assert_eq!(record.summary.source, "platform");
    let summary = record.sections.platform_summary.as_ref().unwrap();
    assert_eq!(summary.source, "OpenClaw sessions.compact");
    assert!(!summary.text.trim().is_empty());
    assert_eq!(record.sections.goal.as_deref(), Some("Please check src/main.rs and port 18789"));
    assert!(record.sections.identifiers.contains(&"port 18789".to_string()));
    assert_eq!(record.key.as_deref(), Some(KEY));
    let stored = std::fs::read_to_string(rt.paths.memory_dir().join(format!("{session_id}.json"))).unwrap();
    assert!(!stored.contains(TOKEN));
}
