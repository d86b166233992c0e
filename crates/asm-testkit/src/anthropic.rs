//! A loopback stand-in for the Anthropic Messages API, for end-to-end tests with the real
//! `claude`: it streams a short answer (a summary when Claude Code asks for a compaction),
//! reports the context usage the test sets, and keeps every request body so a test can see
//! exactly what Claude Code sent to the model.

use crate::{MockServer, Request, Response};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The model the mock answers as (a 200k-token window).
pub const MODEL: &str = "claude-sonnet-4-5";

pub struct AnthropicMock {
    server: MockServer,
    context: Arc<AtomicU64>,
}

impl AnthropicMock {
    /// Every answer reports `context` prompt tokens (cache read), until [`Self::set_context`].
    pub fn start(context: u64) -> AnthropicMock {
        let shared = Arc::new(AtomicU64::new(context));
        let tokens = shared.clone();
        let server = MockServer::start(move |req: &Request| answer(req, tokens.load(Ordering::SeqCst)));
        AnthropicMock { server, context: shared }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    pub fn set_context(&self, tokens: u64) {
        self.context.store(tokens, Ordering::SeqCst);
    }

    /// The bodies of the model requests received so far, oldest first.
    pub fn requests(&self) -> Vec<Value> {
        self.server
            .requests()
            .iter()
            .filter(|r| r.path.starts_with("/v1/messages") && !r.path.contains("count_tokens"))
            .filter_map(Request::body_json)
            .collect()
    }

    /// How many model requests mention `text` anywhere.
    pub fn requests_mentioning(&self, text: &str) -> usize {
        self.requests().iter().filter(|b| b.to_string().contains(text)).count()
    }
}

fn is_compaction(body: &Value) -> bool {
    let text = body.to_string();
    text.contains("Do NOT call any tools") || text.contains("CRITICAL: Respond with TEXT ONLY")
}

fn answer(req: &Request, context: u64) -> Response {
    if !(req.method == "POST" && req.path.starts_with("/v1/messages")) || req.path.contains("count_tokens") {
        return Response::json(404, &json!({"type": "error", "error": {"type": "not_found_error", "message": "mock: not here"}}));
    }
    let body = req.body_json().unwrap_or(Value::Null);
    let text = if is_compaction(&body) {
        "<analysis>e2e</analysis>\n<summary>\n1. Primary Request and Intent: E2E-COMPACT-SUMMARY\n</summary>".to_string()
    } else {
        "Hello from the e2e mock. We decided to keep the exporter streaming.".to_string()
    };
    let events = [
        json!({"type":"message_start","message":{"id":"msg_e2e","type":"message","role":"assistant","model":MODEL,"content":[],"stop_reason":null,"stop_sequence":null,
            "usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":context,"output_tokens":1}}}),
        json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}),
        json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":text}}),
        json!({"type":"content_block_stop","index":0}),
        json!({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":20}}),
        json!({"type":"message_stop"}),
    ];
    let sse: String = events.iter().map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap_or("message"))).collect();
    Response::new(200, "text/event-stream", sse).with_header("request-id", "req_e2e")
}
