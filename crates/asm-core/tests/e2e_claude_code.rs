//! End to end: the real `claude` CLI (on PATH, see `make e2e`) runs `-p` offline against a
//! loopback mock of the Anthropic Messages API, writes a real transcript, and the adapter
//! must report exactly the context that transcript records.

use asm_core::env::Env;
use asm_core::platform::claude_code;
use asm_core::proc::{self, Cmd};
use asm_core::session::TranscriptRef;
use asm_core::Runtime;
use asm_testkit::{MockServer, Response, TempDir};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The usage the mock reports for every response: context = 5 + 1,200 + 30,000.
const USAGE: (u64, u64, u64) = (5, 1_200, 30_000);

fn sse_reply(model: &str) -> Vec<u8> {
    let (input, creation, read) = USAGE;
    let events = [
        (
            "message_start",
            json!({"type": "message_start", "message": {"id": "msg_e2e_0001", "type": "message", "role": "assistant", "model": model, "content": [],
                "stop_reason": null, "stop_sequence": null,
                "usage": {"input_tokens": input, "cache_creation_input_tokens": creation, "cache_read_input_tokens": read, "output_tokens": 1}}}),
        ),
        ("content_block_start", json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})),
        ("ping", json!({"type": "ping"})),
        ("content_block_delta", json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello from the mock."}})),
        ("content_block_stop", json!({"type": "content_block_stop", "index": 0})),
        ("message_delta", json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": 12}})),
        ("message_stop", json!({"type": "message_stop"})),
    ];
    events.iter().map(|(name, data)| format!("event: {name}\ndata: {data}\n\n")).collect::<String>().into_bytes()
}

fn mock_api() -> MockServer {
    MockServer::start(|req| {
        if req.method == "POST" && req.path.starts_with("/v1/messages") && !req.path.contains("count_tokens") {
            let model = req.body_json().and_then(|b| b["model"].as_str().map(str::to_owned)).unwrap_or_default();
            Response::new(200, "text/event-stream", sse_reply(&model)).with_header("request-id", "req_e2e_0001")
        } else {
            Response::json(404, &json!({"type": "error", "error": {"type": "not_found_error", "message": "mock: not here"}}))
        }
    })
}

fn claude_binary() -> PathBuf {
    let path = std::env::var("PATH").ok();
    proc::which("claude", path.as_deref()).expect("e2e: `claude` not on PATH; run `make e2e` (installs it into $ASM_E2E_TOOLS/bin)")
}

/// Runs one `claude -p <args>` in `project` with HOME = `home`; returns its result JSON.
fn run_claude(home: &Path, project: &Path, server: &MockServer, args: &[&str]) -> Value {
    let mut argv = vec![claude_binary().display().to_string(), "-p".into()];
    argv.extend(args.iter().map(|a| a.to_string()));
    argv.extend(["--output-format".to_string(), "json".to_string()]);
    let cmd = Cmd::new(argv)
        .cwd(project)
        .env("HOME", home.display().to_string())
        .env("CLAUDE_CONFIG_DIR", home.join(".claude").display().to_string())
        .env("ANTHROPIC_BASE_URL", server.url())
        .env("ANTHROPIC_API_KEY", "dummy")
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env("DISABLE_AUTOUPDATER", "1")
        .env_remove("ANTHROPIC_AUTH_TOKEN")
        .env_remove("XDG_CONFIG_HOME")
        .timeout(Duration::from_secs(120));
    let out = proc::run(&cmd).expect("start claude");
    assert!(out.success(), "claude -p failed ({}): {}\n{}", out.describe(), out.stdout_text(), out.stderr_text());
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("claude printed no JSON result ({e}): {}", out.stdout_text()))
}

/// The context the transcript itself records: input + cache creation + cache read of the
/// last assistant line (read here the plain way, the whole file).
fn context_in_transcript(path: &Path) -> u64 {
    let text = std::fs::read_to_string(path).unwrap();
    let last = text.lines().rev().filter_map(|l| serde_json::from_str::<Value>(l).ok()).find(|l| l["type"] == "assistant").expect("an assistant line");
    let u = &last["message"]["usage"];
    ["input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"].iter().map(|k| u[*k].as_u64().unwrap_or(0)).sum()
}

fn runtime(home: &Path) -> Runtime {
    let env = Env::from_pairs([
        ("HOME", home.display().to_string()),
        ("CLAUDE_CONFIG_DIR", home.join(".claude").display().to_string()),
        ("OPENCLAW_STATE_DIR", home.join(".openclaw").display().to_string()),
    ]);
    Runtime::from_env(env).unwrap()
}

#[test]
#[ignore = "e2e: run with make e2e"]
fn real_claude_sessions_are_measured_as_their_transcripts_say() {
    let home = TempDir::new("e2e-cc");
    let project = home.join("proj");
    std::fs::create_dir_all(&project).unwrap();
    let server = mock_api();
    let mut sessions = Vec::new();

    for (model, window) in [("claude-sonnet-4-5", 200_000u64), ("claude-sonnet-4-5[1m]", 1_000_000)] {
        let result = run_claude(home.path(), &project, &server, &["say hello", "--model", model]);
        assert_eq!(result["is_error"], json!(false), "{result}");
        let session_id = result["session_id"].as_str().expect("session_id in the result").to_owned();

        let list = claude_code::discover::discover(&runtime(home.path()), &Default::default());
        assert!(list.errors.is_empty(), "{:?}", list.errors);
        let s = list.sessions.iter().find(|s| s.session_id == session_id).unwrap_or_else(|| panic!("{session_id} not listed: {list:#?}"));
        let Some(TranscriptRef { path, .. }) = &s.transcript else { panic!("no transcript path") };
        let expected = context_in_transcript(path);
        assert_eq!(expected, USAGE.0 + USAGE.1 + USAGE.2);
        assert_eq!(s.context_tokens, Some(expected), "{model}");
        assert_eq!(s.context_window, Some(window), "{model}");
        assert!(!s.estimated, "{model}");
        assert_eq!(s.model.as_deref(), Some(model));
        let real_project = std::fs::canonicalize(&project).unwrap();
        assert_eq!(s.cwd.as_deref(), Some(real_project.to_str().unwrap()));
        assert!(path.starts_with(home.join(".claude/projects").join(claude_code::paths::encode_project_dir(real_project.to_str().unwrap()))));
        assert_eq!(s.title.as_deref(), Some("say hello"));
        sessions.push(session_id);
    }

    // Compacting the first session in place: the boundary's postTokens is the context now.
    let first = &sessions[0];
    let result = run_claude(home.path(), &project, &server, &["/compact keep the notes", "--resume", first]);
    assert_eq!(result["is_error"], json!(false), "{result}");
    let list = claude_code::discover::discover(&runtime(home.path()), &Default::default());
    let s = list.sessions.iter().find(|s| &s.session_id == first).expect("compacted session listed");
    let Some(TranscriptRef { path, .. }) = &s.transcript else { panic!("no transcript path") };
    let post_tokens = last_boundary_post_tokens(path).expect("a compact_boundary with postTokens");
    assert_eq!(s.context_tokens, Some(post_tokens));
    assert!(!s.estimated);
    assert!(!server.requests().is_empty());
}

fn last_boundary_post_tokens(path: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let boundary = text.lines().rev().filter_map(|l| serde_json::from_str::<Value>(l).ok()).find(|l| l["subtype"] == "compact_boundary")?;
    boundary["compactMetadata"]["postTokens"].as_u64()
}
