//! End-to-end: the real Claude Code (2.1.330) runs a tool turn offline against a loopback
//! mock of the Anthropic Messages API; ASM then extracts that real transcript with
//! ASM_SUMMARY_MODE=platform, which makes Claude Code `/compact` the session (the mock writes
//! the summary), and the memory must lead with that summary and hold the request, the command
//! and its outcome. Needs `claude` on PATH (`make e2e` puts it there).

use asm_core::env::Env;
use asm_core::proc::{run, which, Cmd};
use asm_core::session::{Platform, SessionInfo, StoreKind, TranscriptRef};
use asm_core::Runtime;
use asm_testkit::{MockServer, Request, Response, TempDir};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

const SUMMARY_MARK: &str = "E2E-SUMMARY: the user asked to run echo e2e-tool-ran";

fn sse(events: &[Value]) -> String {
    events.iter().map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap_or("message"))).collect()
}

fn message_events(blocks: &[Value], stop_reason: &str) -> String {
    let mut events = vec![
        json!({"type":"message_start","message":{"id":"msg_e2e","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":2000,"output_tokens":1}}}),
    ];
    for (i, block) in blocks.iter().enumerate() {
        match block["type"].as_str() {
            Some("tool_use") => {
                events
                    .push(json!({"type":"content_block_start","index":i,"content_block":{"type":"tool_use","id":block["id"],"name":block["name"],"input":{}}}));
                events.push(json!({"type":"content_block_delta","index":i,"delta":{"type":"input_json_delta","partial_json":block["input"].to_string()}}));
            }
            _ => {
                events.push(json!({"type":"content_block_start","index":i,"content_block":{"type":"text","text":""}}));
                events.push(json!({"type":"content_block_delta","index":i,"delta":{"type":"text_delta","text":block["text"]}}));
            }
        }
        events.push(json!({"type":"content_block_stop","index":i}));
    }
    events.push(json!({"type":"message_delta","delta":{"stop_reason":stop_reason,"stop_sequence":null},"usage":{"output_tokens":20}}));
    events.push(json!({"type":"message_stop"}));
    sse(&events)
}

/// Answers by the shape of the request: the compaction request gets a summary, a request
/// after a tool result gets text, a RUN_TOOL prompt gets a Bash call.
fn mock_anthropic() -> MockServer {
    MockServer::start(|req: &Request| {
        let body = req.body_json().unwrap_or(Value::Null);
        let text = body.to_string();
        // 2.1.330 sends mid-conversation `system` messages: the turn is the last user message.
        let last = body["messages"].as_array().and_then(|m| m.iter().rev().find(|m| m["role"] == "user")).cloned().unwrap_or(Value::Null);
        let last_text = last.to_string();
        let answer = if text.contains("<summary>") || text.contains("Do NOT call any tools") {
            message_events(
                &[json!({"type":"text","text":format!("<analysis>e2e</analysis>\n<summary>\n1. Primary Request and Intent: {SUMMARY_MARK}\n</summary>")})],
                "end_turn",
            )
        } else if last_text.contains("tool_result") {
            message_events(&[json!({"type":"text","text":"The command ran. We decided to keep the output as is."})], "end_turn")
        } else if last_text.contains("RUN_TOOL") {
            message_events(
                &[
                    json!({"type":"text","text":"Running it."}),
                    json!({"type":"tool_use","id":"toolu_e2e_1","name":"Bash","input":{"command":"echo e2e-tool-ran","description":"echo"}}),
                ],
                "tool_use",
            )
        } else {
            message_events(&[json!({"type":"text","text":"Hello from the e2e mock."})], "end_turn")
        };
        Response::new(200, "text/event-stream", answer).with_header("request-id", "req_e2e")
    })
}

fn env_pairs(scratch: &Path, mock: &MockServer, claude_dir: &Path) -> Vec<(String, String)> {
    let path = format!("{}:/usr/bin:/bin", claude_dir.display());
    vec![
        ("HOME".into(), scratch.join("home").display().to_string()),
        ("CLAUDE_CONFIG_DIR".into(), scratch.join("home/.claude").display().to_string()),
        ("OPENCLAW_STATE_DIR".into(), scratch.join("state").display().to_string()),
        ("ANTHROPIC_BASE_URL".into(), mock.url()),
        ("ANTHROPIC_API_KEY".into(), "dummy-e2e-key".into()),
        ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC".into(), "1".into()),
        ("DISABLE_AUTOUPDATER".into(), "1".into()),
        ("PATH".into(), path),
        ("ASM_SUMMARY_MODE".into(), "platform".into()),
        ("ASM_SUMMARY_TIMEOUT".into(), "180".into()),
    ]
}

fn find_transcript(dir: &Path, id: &str) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = find_transcript(&path, id) {
                return Some(found);
            }
        } else if path.file_name().is_some_and(|n| n == format!("{id}.jsonl").as_str()) {
            return Some(path);
        }
    }
    None
}

#[test]
#[ignore = "e2e: run with make e2e"]
fn real_claude_code_transcript_and_compact_summary() {
    let claude = which("claude", std::env::var("PATH").ok().as_deref()).expect("claude is not on PATH: run `make e2e` (tests/e2e/install-tools.sh)");
    let claude_dir = claude.parent().unwrap().to_path_buf();
    let scratch = TempDir::new("e2e-memory");
    let project = scratch.join("project");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::create_dir_all(scratch.join("home/.claude")).unwrap();
    let mock = mock_anthropic();
    let pairs = env_pairs(scratch.path(), &mock, &claude_dir);
    let argv = [claude.to_str().unwrap(), "-p", "RUN_TOOL: echo something for the e2e test", "--allowedTools", "Bash(echo *)", "--output-format", "json"];
    let mut cmd = Cmd::new(argv).timeout(Duration::from_secs(180)).cwd(&project);
    for (k, v) in &pairs {
        cmd = cmd.env(k, v);
    }
    let out = run(&cmd).unwrap();
    assert!(out.success(), "claude failed: {}\n{}", out.stdout_text(), out.stderr_text());
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = result["session_id"].as_str().expect("session_id in the result").to_string();
    let transcript = find_transcript(&scratch.join("home/.claude/projects"), &id).expect("Claude Code wrote the transcript");

    let rt = Runtime::from_env(Env::from_pairs(pairs)).unwrap();
    let info = SessionInfo {
        cwd: Some(std::fs::canonicalize(&project).unwrap().display().to_string()),
        model: Some("claude-sonnet-4-5".into()),
        live: Some(false),
        source: transcript.display().to_string(),
        transcript: Some(TranscriptRef::new(StoreKind::JsonlFile, transcript, id.clone())),
        ..SessionInfo::bare(Platform::ClaudeCode, id.clone())
    };
    let record = asm_core::memory::extract(&rt, &info).unwrap();
    assert_eq!(record.summary.mode, "platform");
    assert_eq!(record.summary.fallback_reason, None, "the real /compact worked");
    assert_eq!(record.summary.source, "platform");
    assert!(record.sections.platform_summary.as_ref().unwrap().text.contains(SUMMARY_MARK));
    assert_eq!(record.sections.goal.as_deref(), Some("RUN_TOOL: echo something for the e2e test"));
    assert!(record.sections.commands.iter().any(|c| c.command == "echo e2e-tool-ran" && c.outcome == "ok"), "{:?}", record.sections.commands);
    assert!(record.handoff.starts_with("# Handoff from Claude Code session"));
    assert!(record.handoff.find(SUMMARY_MARK).unwrap() < record.handoff.find("RUN_TOOL").unwrap());
    let stored = std::fs::read_to_string(rt.paths.memory_dir().join(format!("{id}.json"))).unwrap();
    assert!(!stored.contains("dummy-e2e-key"));
}
