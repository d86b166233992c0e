//! End-to-end: the real `opencode` CLI (opencode-ai 1.18.33 on PATH, see tests/e2e/install-tools.sh)
//! runs offline against a loopback OpenAI-compatible mock whose reported usage we choose,
//! writes real sessions into a temp data dir, and `discover()` must report what OpenCode's
//! own TUI rule gives over OpenCode's own export of those sessions.

use asm_core::env::Env;
use asm_core::platform::opencode;
use asm_core::proc::{run, which, Cmd};
use asm_core::session::SessionInfo;
use asm_core::Runtime;
use asm_testkit::{MockServer, Request, Response, TempDir};
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

/// Prompt tokens (of which cached) the mock reports for a turn whose last user text starts so.
fn usage_for(last_user_text: &str) -> (u64, u64) {
    match last_user_text {
        t if t.starts_with("hello") => (150_000, 100_000),
        t if t.starts_with("second") => (120_000, 100_000),
        t if t.starts_with("other") => (4_000, 1_000),
        // ≥ 192,000 (200k − 8k): OpenCode compacts on its own, then continues.
        t if t.starts_with("overflow") => (195_000, 100_000),
        _ => (2_000, 0),
    }
}

fn last_user_text(request: &Request) -> String {
    let body = request.body_json().unwrap_or(Value::Null);
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let last_user = messages.iter().rev().find(|m| m["role"] == "user").cloned().unwrap_or(Value::Null);
    match &last_user["content"] {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts.iter().filter_map(|p| p["text"].as_str()).collect::<Vec<_>>().join(" "),
        _ => String::new(),
    }
}

/// An OpenAI Chat Completions stream: one text delta, stop, then the usage chunk.
fn completion_stream(request: &Request) -> Response {
    let (prompt, cached) = usage_for(&last_user_text(request));
    let chunk = |choices: Value, usage: Option<Value>| {
        let mut c = json!({"id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": 1_795_484_000, "model": "mock-model", "choices": choices});
        if let Some(u) = usage {
            c["usage"] = u;
        }
        format!("data: {c}\n\n")
    };
    let body = [
        chunk(json!([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}]), None),
        chunk(json!([{"index": 0, "delta": {"content": "Hello from the mock model."}, "finish_reason": null}]), None),
        chunk(json!([{"index": 0, "delta": {}, "finish_reason": "stop"}]), None),
        chunk(
            json!([]),
            Some(json!({"prompt_tokens": prompt, "completion_tokens": 42, "total_tokens": prompt + 42, "prompt_tokens_details": {"cached_tokens": cached}})),
        ),
        "data: [DONE]\n\n".to_string(),
    ]
    .concat();
    Response::new(200, "text/event-stream", body)
}

struct Sandbox {
    tmp: TempDir,
    opencode: String,
}

impl Sandbox {
    fn new(mock: &MockServer) -> Sandbox {
        let opencode = which("opencode", std::env::var("PATH").ok().as_deref())
            .expect("e2e: `opencode` not found on PATH; run `make e2e` (tests/e2e/install-tools.sh installs opencode-ai 1.18.33)");
        let tmp = TempDir::new("e2e-opencode");
        for dir in ["home", "data", "config/opencode", "cache", "state", "demo"] {
            std::fs::create_dir_all(tmp.join(dir)).unwrap();
        }
        let config = json!({
            "$schema": "https://opencode.ai/config.json",
            "provider": {"mock": {"npm": "@ai-sdk/openai-compatible", "name": "Mock (loopback)",
                "options": {"baseURL": format!("{}/v1", mock.url()), "apiKey": "mock-key"},
                "models": {"mock-model": {"name": "Mock Model", "limit": {"context": 200000, "output": 8000}}}}},
            "model": "mock/mock-model", "small_model": "mock/mock-model", "autoupdate": false, "share": "disabled"
        });
        std::fs::write(tmp.join("config/opencode/opencode.json"), config.to_string()).unwrap();
        Sandbox { tmp, opencode: opencode.display().to_string() }
    }

    fn dir(&self, rel: &str) -> String {
        self.tmp.join(rel).display().to_string()
    }

    fn vars(&self) -> Vec<(String, String)> {
        let mut vars: Vec<(String, String)> = ["HOME:home", "XDG_DATA_HOME:data", "XDG_CONFIG_HOME:config", "XDG_CACHE_HOME:cache", "XDG_STATE_HOME:state"]
            .iter()
            .map(|pair| pair.split_once(':').unwrap())
            .map(|(k, rel)| (k.to_string(), self.dir(rel)))
            .collect();
        for flag in ["AUTOUPDATE", "MODELS_FETCH", "LSP_DOWNLOAD", "DEFAULT_PLUGINS", "SHARE"] {
            vars.push((format!("OPENCODE_DISABLE_{flag}"), "1".into()));
        }
        vars
    }

    fn opencode(&self, args: &[&str]) -> String {
        let mut cmd =
            Cmd::new(std::iter::once(self.opencode.as_str()).chain(args.iter().copied())).cwd(self.tmp.join("demo")).timeout(Duration::from_secs(180));
        // OpenCode takes its directory from PWD when set (Bun), not from the real cwd.
        cmd = cmd.env("PWD", self.dir("demo"));
        for (k, v) in self.vars() {
            cmd = cmd.env(k, v);
        }
        let out = run(&cmd).expect("start opencode");
        assert!(out.success(), "opencode {args:?}: {}\n{}", out.describe(), out.stderr_text());
        out.stdout_text()
    }

    /// `opencode run --format json` and the session id from its NDJSON events.
    fn run_prompt(&self, extra: &[&str], prompt: &str) -> String {
        let mut args = vec!["run", "--format", "json"];
        args.extend_from_slice(extra);
        args.push(prompt);
        let out = self.opencode(&args);
        out.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()).find_map(|e| e["sessionID"].as_str().map(str::to_string)).expect("a sessionID event")
    }

    fn discover(&self) -> Vec<SessionInfo> {
        let rt = Runtime::from_env(Env::from_pairs(self.vars())).unwrap();
        let list = opencode::discover::discover(&rt, &Default::default());
        assert!(list.errors.is_empty(), "{:?}", list.errors);
        list.sessions
    }
}

/// OpenCode's TUI rule over its own export: last assistant with output > 0, all five counts.
fn tui_tokens_from_export(export: &Value) -> u64 {
    let messages = export["messages"].as_array().unwrap();
    let last = messages.iter().rev().map(|m| &m["info"]).find(|i| i["role"] == "assistant" && i["tokens"]["output"].as_u64().unwrap_or(0) > 0).unwrap();
    let t = &last["tokens"];
    ["input", "output", "reasoning"].iter().map(|k| t[k].as_u64().unwrap()).sum::<u64>()
        + t["cache"]["read"].as_u64().unwrap()
        + t["cache"]["write"].as_u64().unwrap()
}

#[test]
#[ignore = "e2e: run with make e2e"]
fn real_opencode_sessions_are_measured_as_opencode_counts_them() {
    let mock = MockServer::start(|req| match (req.method.as_str(), req.path.as_str()) {
        ("POST", p) if p.ends_with("/chat/completions") => completion_stream(req),
        _ => Response::json(404, &json!({"error": "not mocked"})),
    });
    let sandbox = Sandbox::new(&mock);
    let a = sandbox.run_prompt(&[], "hello");
    let a_again = sandbox.run_prompt(&["--session", &a], "second");
    assert_eq!(a, a_again);
    let b = sandbox.run_prompt(&[], "other");
    let c = sandbox.run_prompt(&[], "hello again");
    assert_eq!(sandbox.run_prompt(&["--session", &c], "overflow"), c);
    assert!(mock.requests().iter().any(|r| r.header("x-session-id") == Some(a.as_str())), "OpenCode talked to the mock");

    let sessions = sandbox.discover();
    assert_eq!(sessions.len(), 3, "{sessions:#?}");
    // C: after the automatic compaction the TUI shows the synthetic "Continue…" turn (2,042).
    for (id, tokens) in [(&a, 120_042u64), (&b, 4_042), (&c, 2_042)] {
        let s = sessions.iter().find(|s| &s.session_id == id).unwrap();
        let export: Value = serde_json::from_str(&sandbox.opencode(&["export", id])).expect("opencode export prints JSON");
        assert_eq!(tui_tokens_from_export(&export), tokens, "the mock's usage became OpenCode's numbers");
        let compacted = export["messages"].as_array().unwrap().iter().any(|m| m["info"]["summary"] == true);
        assert_eq!(compacted, id == &c, "only C crossed the threshold");
        assert_eq!(s.context_tokens, Some(tokens));
        assert_eq!((s.context_window, s.compact_at_tokens, s.estimated), (Some(200_000), Some(192_000), false));
        assert_eq!(s.context_percent, SessionInfo::percent_of(Some(tokens), Some(200_000)));
        assert_eq!(s.model.as_deref(), Some("mock/mock-model"));
        assert_eq!(s.title.as_deref(), export["info"]["title"].as_str());
        assert_eq!(s.cwd.as_deref(), Some(sandbox.dir("demo").as_str()));
        assert!(Path::new(&s.source).ends_with("opencode.db"));
    }
    let listed: Value = serde_json::from_str(&sandbox.opencode(&["session", "list", "--format", "json"])).unwrap();
    let mut theirs: Vec<&str> = listed.as_array().unwrap().iter().filter_map(|s| s["id"].as_str()).collect();
    let mut ours: Vec<&str> = sessions.iter().map(|s| s.session_id.as_str()).collect();
    theirs.sort();
    ours.sort();
    assert_eq!(ours, theirs, "the same sessions as `opencode session list`");
}
