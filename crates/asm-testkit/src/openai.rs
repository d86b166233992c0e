//! A loopback stand-in for an OpenAI-compatible chat completions API (what OpenCode's
//! `@ai-sdk/openai-compatible` provider calls), for end-to-end tests with the real `opencode`:
//! it streams a short answer (a summary when OpenCode asks for a compaction), reports the
//! prompt tokens the test sets, and keeps every request body.

use crate::{MockServer, Request, Response};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub struct OpenaiMock {
    server: MockServer,
    prompt_tokens: Arc<AtomicU64>,
}

impl OpenaiMock {
    pub fn start(prompt_tokens: u64) -> OpenaiMock {
        let shared = Arc::new(AtomicU64::new(prompt_tokens));
        let tokens = shared.clone();
        let server = MockServer::start(move |req: &Request| answer(req, tokens.load(Ordering::SeqCst)));
        OpenaiMock { server, prompt_tokens: shared }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    pub fn set_prompt_tokens(&self, tokens: u64) {
        self.prompt_tokens.store(tokens, Ordering::SeqCst);
    }

    /// The chat requests received so far, oldest first.
    pub fn requests(&self) -> Vec<Value> {
        self.server.requests().iter().filter(|r| r.method == "POST").filter_map(Request::body_json).collect()
    }

    /// An OpenCode config (`opencode.json`) with this mock as provider `mock`, model `mock-model`
    /// (200k context, 8k output).
    pub fn opencode_config(&self) -> Value {
        json!({
            "$schema": "https://opencode.ai/config.json",
            "provider": {"mock": {"npm": "@ai-sdk/openai-compatible", "name": "Mock", "options": {"baseURL": format!("{}/v1", self.url()), "apiKey": "mock-key"},
                "models": {"mock-model": {"name": "Mock Model", "limit": {"context": 200000, "output": 8000}}}}},
            "model": "mock/mock-model", "small_model": "mock/mock-model", "autoupdate": false, "share": "disabled"
        })
    }
}

fn answer(req: &Request, prompt_tokens: u64) -> Response {
    if req.method == "GET" {
        return Response::json(200, &json!({"object":"list","data":[{"id":"mock-model","object":"model"}]}));
    }
    let body = req.body_text();
    let text = if body.contains("<conversation>") || body.contains("context summarization agent") {
        "## Objective\n- E2E-OC-COMPACT-SUMMARY".to_string()
    } else {
        "Hello from the e2e mock. We decided to keep the importer streaming.".to_string()
    };
    let usage =
        json!({"prompt_tokens": prompt_tokens, "completion_tokens": 42, "total_tokens": prompt_tokens + 42, "prompt_tokens_details": {"cached_tokens": 0}});
    chat_stream(&text, &usage)
}

/// A streamed chat completion (server-sent events) answering `text`, ending with `usage`.
pub fn chat_stream(text: &str, usage: &Value) -> Response {
    let chunk = |delta: Value, finish: Value| json!({"id":"chatcmpl-e2e","object":"chat.completion.chunk","created":1,"model":"mock-model","choices":[{"index":0,"delta":delta,"finish_reason":finish}]});
    let chunks = [
        chunk(json!({"role":"assistant","content":text}), Value::Null),
        chunk(json!({}), json!("stop")),
        json!({"id":"chatcmpl-e2e","object":"chat.completion.chunk","created":1,"model":"mock-model","choices":[],"usage":usage}),
    ];
    let mut out: String = chunks.iter().map(|c| format!("data: {c}\n\n")).collect();
    out.push_str("data: [DONE]\n\n");
    Response::new(200, "text/event-stream", out)
}
