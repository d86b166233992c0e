//! End-to-end: the real `openclaw` (2026.9.6, node 24) runs agent turns offline against a
//! loopback OpenAI-compatible mock provider in a scratch state dir; then ASM's discovery must
//! report what `openclaw sessions --json` reports for the same store. Needs `openclaw` and
//! `node` on PATH (`make e2e` puts them there).

use asm_core::env::Env;
use asm_core::platform::openclaw;
use asm_core::session::TranscriptRef;
use asm_core::Runtime;
use asm_testkit::openclaw::{require_tools, ScratchOpenclaw};
use asm_testkit::{MockServer, Request, Response};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

const TOPIC_KEY: &str = "agent:main:telegram:group:-1001234567890:topic:466";
const PLAIN_KEY: &str = "agent:main:asm-e2e";

/// An OpenAI-compatible provider: `/v1/models` and `/v1/chat/completions` (SSE when asked),
/// reporting prompt_tokens = request bytes / 4 like the mock the reference note used.
fn mock_provider(prompt_tokens_seen: Arc<Mutex<Vec<u64>>>) -> MockServer {
    let counter = AtomicU64::new(0);
    MockServer::start(move |req: &Request| {
        if req.method == "GET" {
            return Response::json(200, &json!({"object":"list","data":[{"id":"mock-1","object":"model"}]}));
        }
        let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
        let prompt = req.body.len() as u64 / 4;
        prompt_tokens_seen.lock().unwrap().push(prompt);
        let usage = json!({"prompt_tokens": prompt, "completion_tokens": 5, "total_tokens": prompt + 5});
        let base = json!({"id": format!("chatcmpl-mock-{n}"), "created": 1_795_481_000u64, "model": "mock-1"});
        let with = |extra: Value| {
            let mut v = base.clone();
            v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            v
        };
        let streaming = req.body_json().and_then(|b| b["stream"].as_bool()).unwrap_or(false);
        if !streaming {
            let message = json!({"index":0,"message":{"role":"assistant","content":format!("Mock reply #{n}.")},"finish_reason":"stop"});
            return Response::json(200, &with(json!({"object":"chat.completion","choices":[message],"usage":usage})));
        }
        let chunks = [
            with(
                json!({"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":format!("Mock reply #{n}.")},"finish_reason":null}]}),
            ),
            with(json!({"object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})),
            with(json!({"object":"chat.completion.chunk","choices":[],"usage":usage})),
        ];
        let mut body: String = chunks.iter().map(|c| format!("data: {c}\n\n")).collect();
        body.push_str("data: [DONE]\n\n");
        Response::new(200, "text/event-stream", body)
    })
}

fn write_config(scratch: &ScratchOpenclaw, provider_url: &str) {
    scratch.write_config(&json!({
        "gateway": {"mode": "local"},
        "models": {"mode": "replace", "providers": {"mock": {
            "baseUrl": format!("{provider_url}/v1"), "api": "openai-completions", "apiKey": "mock-key",
            "models": [{"id": "mock-1", "name": "Mock 1", "contextWindow": 32000, "maxTokens": 4096}]
        }}},
        "agents": {"defaults": {"model": {"primary": "mock/mock-1"}}}
    }));
}

#[test]
#[ignore = "e2e: run with make e2e"]
fn discovery_matches_openclaw_sessions_json_for_real_sessions() {
    require_tools();
    let prompt_tokens_seen = Arc::new(Mutex::new(Vec::new()));
    let provider = mock_provider(prompt_tokens_seen.clone());
    let scratch = ScratchOpenclaw::new("e2e-openclaw");
    write_config(&scratch, &provider.url());

    for (key, message) in [(TOPIC_KEY, "Hello from the ASM end-to-end test"), (PLAIN_KEY, "A second session, a longer first message to differ in size")] {
        let reply = scratch.openclaw(&["agent", "--local", "--session-key", key, "--message", message, "--json"]);
        assert_eq!(reply["meta"]["agentMeta"]["provider"], "mock", "{reply}");
    }
    let cli = scratch.openclaw(&["sessions", "--all-agents", "--json"]);
    scratch.stop_leftovers();

    let env = Env::from_pairs(scratch.env());
    let rt = Runtime::from_env(env).unwrap();
    let list = openclaw::discover::discover(&rt, &Default::default());
    assert!(list.errors.is_empty(), "{:?}", list.errors);
    let rows = cli["sessions"].as_array().expect("sessions array");
    assert_eq!(rows.len(), 2, "{cli}");
    assert_eq!(list.sessions.len(), rows.len());
    let seen = prompt_tokens_seen.lock().unwrap().clone();

    for row in rows {
        let key = row["key"].as_str().unwrap();
        let ours = list.sessions.iter().find(|s| s.key.as_deref() == Some(key)).unwrap_or_else(|| panic!("{key} not discovered: {list:#?}"));
        assert_eq!(ours.session_id, row["sessionId"].as_str().unwrap());
        assert_eq!(ours.model.as_deref(), row["model"].as_str());
        assert_eq!(ours.context_window, row["contextTokens"].as_u64());
        assert_ne!(row["totalTokensFresh"], json!(false), "a fresh turn: {row}");
        assert_eq!(ours.context_tokens, row["totalTokens"].as_u64());
        assert!(!ours.estimated);
        let (tokens, window) = (row["totalTokens"].as_f64().unwrap(), row["contextTokens"].as_f64().unwrap());
        assert_eq!(ours.context_percent.map(f64::round), Some((100.0 * tokens / window).round()));
        // The number is the prompt size the provider reported on the wire.
        assert!(seen.contains(&ours.context_tokens.unwrap()), "{:?} not among {seen:?}", ours.context_tokens);
        assert_eq!(ours.compact_at_tokens, Some(24_000), "32k window, reserve 8k");
        assert_eq!(ours.cwd.as_deref(), Some(scratch.join("state/workspace").to_str().unwrap()));
        let Some(TranscriptRef { path: db, session_id, .. }) = &ours.transcript else { panic!("transcript {:?}", ours.transcript) };
        let conn = openclaw::store_sqlite::open_read_only(db).unwrap();
        let events: i64 = conn.query_row("SELECT count(*) FROM transcript_events WHERE session_id = ?1", [session_id], |r| r.get(0)).unwrap();
        assert!(events > 0, "no transcript events for {session_id}");
    }
    assert_eq!(openclaw::telegram_group_chat_ids(&list.sessions), vec!["-1001234567890".to_string()]);
}
