//! Discovery over real 2.1.330 fixtures (golden numbers), hand-built 2.1.1xx transcripts, and
//! every kind of bad input the issue lists.

use super::*;
use crate::platform::claude_code::tail;
use asm_testkit::TempDir;
use serde_json::{json, Value};
use std::fs;
use std::io::Write;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/claude-code");

fn runtime(home: &Path, extra: &[(&str, &str)]) -> Runtime {
    let home_s = home.display().to_string();
    let mut pairs = vec![("HOME".to_string(), home_s.clone()), ("OPENCLAW_STATE_DIR".to_string(), format!("{home_s}/.openclaw"))];
    pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Runtime::from_env(Env::from_pairs(pairs)).unwrap()
}

fn discover_plain(rt: &Runtime) -> SessionList {
    discover(rt, &Default::default())
}

fn find<'a>(list: &'a SessionList, id: &str) -> &'a SessionInfo {
    list.sessions.iter().find(|s| s.session_id == id).unwrap_or_else(|| panic!("session {id} not listed: {list:#?}"))
}

fn home_with_fixtures() -> TempDir {
    let home = TempDir::new("cc-fixtures");
    asm_testkit::copy_tree(&Path::new(FIXTURES).join("projects"), &home.join(".claude/projects")).unwrap();
    home
}

#[test]
fn every_fixture_session_has_the_golden_numbers() {
    let home = home_with_fixtures();
    let list = discover_plain(&runtime(home.path(), &[]));
    assert!(list.errors.is_empty(), "{:?}", list.errors);
    let expected: Value = serde_json::from_str(&fs::read_to_string(Path::new(FIXTURES).join("expected-context.json")).unwrap()).unwrap();
    let mut checked = 0;
    for (rel, golden) in expected.as_object().unwrap() {
        let Some(tokens) = golden["current_context"]["context_tokens"].as_u64() else {
            assert!(rel.contains("/subagents/"), "only subagent transcripts lack a context: {rel}");
            let stem = Path::new(rel).file_stem().unwrap().to_str().unwrap();
            assert!(list.sessions.iter().all(|s| s.session_id != stem), "a subagent is not a session");
            continue;
        };
        let id = Path::new(rel).file_stem().unwrap().to_str().unwrap();
        let s = find(&list, id);
        assert_eq!(s.context_tokens, Some(tokens), "{rel}");
        assert_eq!(s.context_window, Some(200_000));
        assert_eq!(s.context_percent, SessionInfo::percent_of(Some(tokens), Some(200_000)));
        assert_eq!(s.compact_at_tokens, Some(167_000));
        assert!(!s.estimated, "{rel}");
        assert_eq!(s.model.as_deref(), Some("claude-sonnet-4-5"));
        assert_eq!(s.cwd.as_deref(), Some("/tmp/fixture-project/demo"));
        assert_eq!(s.platform, Platform::ClaudeCode);
        assert_eq!(s.key, None);
        assert!(s.updated_at.is_some() && s.live.is_some());
        assert_eq!(s.transcript, Some(TranscriptRef::new(crate::session::StoreKind::JsonlFile, home.join(".claude").join(rel), s.session_id.clone())));
        assert_eq!(s.source, home.join(".claude").join(rel).display().to_string());
        checked += 1;
    }
    assert_eq!(checked, 3);
    assert_eq!(list.sessions.len(), 3);
    assert_eq!(find(&list, "ffef2de7-0e93-4bea-b4f5-c6c6c07e8fa6").children, vec!["ad53489d48f6e2e2e".to_string()]);
    assert_eq!(find(&list, "d18e4db7-efec-48bd-a24a-effb03c25a12").title.as_deref(), Some("hello with hooks"));
}

#[test]
fn all_config_dirs_are_scanned_and_tool_projects_left_out() {
    let home = TempDir::new("cc-dirs");
    let fixture = |id: &str| Path::new(FIXTURES).join(format!("projects/-tmp-fixture-project-demo/{id}.jsonl"));
    for (dir, id) in [("custom-a", "ffa9427d-db56-443c-b8a2-7aaf5ba49ae3"), (".config/claude", "d18e4db7-efec-48bd-a24a-effb03c25a12")] {
        let target = home.join(dir).join("projects/-p");
        fs::create_dir_all(&target).unwrap();
        fs::copy(fixture(id), target.join(format!("{id}.jsonl"))).unwrap();
    }
    let observer = home.join(".claude/projects/-home-u--claude-mem-observer-sessions");
    fs::create_dir_all(&observer).unwrap();
    fs::copy(fixture("ffef2de7-0e93-4bea-b4f5-c6c6c07e8fa6"), observer.join("ffef2de7-0e93-4bea-b4f5-c6c6c07e8fa6.jsonl")).unwrap();
    let list_var = format!("{},{}", home.join("custom-a").display(), home.join("missing").display());
    let list = discover_plain(&runtime(home.path(), &[("CLAUDE_CONFIG_DIR", &list_var)]));
    let mut ids: Vec<&str> = list.sessions.iter().map(|s| s.session_id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["d18e4db7-efec-48bd-a24a-effb03c25a12", "ffa9427d-db56-443c-b8a2-7aaf5ba49ae3"]);
    assert!(list.errors.is_empty());
}

// ---- hand-built transcripts -------------------------------------------------------------

const SID: &str = "11111111-2222-4333-8444-555555555555";

fn envelope(kind: &str, uuid: &str, extra: Value) -> Value {
    let mut line = json!({"parentUuid": null, "isSidechain": false, "type": kind, "uuid": uuid, "timestamp": "2026-01-10T10:00:00.000Z",
        "userType": "external", "entrypoint": "cli", "cwd": "/home/u/proj", "sessionId": SID, "version": "2.1.150", "gitBranch": "main"});
    for (k, v) in extra.as_object().unwrap() {
        line[k] = v.clone();
    }
    line
}

fn user(uuid: &str, text: &str) -> Value {
    envelope("user", uuid, json!({"message": {"role": "user", "content": text}}))
}

fn assistant(uuid: &str, msg_id: &str, model: &str, usage: [u64; 4]) -> Value {
    let [input, creation, read, output] = usage;
    envelope(
        "assistant",
        uuid,
        json!({"requestId": format!("req_{msg_id}"), "message": {"id": msg_id, "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn",
            "usage": {"input_tokens": input, "cache_creation_input_tokens": creation, "cache_read_input_tokens": read, "output_tokens": output,
                      "service_tier": "standard", "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0}}}}),
    )
}

fn jsonl(lines: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for l in lines {
        out.extend(serde_json::to_vec(l).unwrap());
        out.push(b'\n');
    }
    out
}

/// A HOME with one project holding `files` (name → bytes) under `~/.claude/projects/-home-u-proj/`.
fn home_with(files: &[(&str, Vec<u8>)]) -> TempDir {
    let home = TempDir::new("cc-built");
    let project = home.join(".claude/projects/-home-u-proj");
    for (name, bytes) in files {
        let path = project.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    }
    home
}

fn discover_one(files: &[(&str, Vec<u8>)], env: &[(&str, &str)]) -> SessionInfo {
    let home = home_with(files);
    let list = discover_plain(&runtime(home.path(), env));
    assert!(list.errors.is_empty(), "{:?}", list.errors);
    find(&list, SID).clone()
}

fn main_file(bytes: Vec<u8>) -> Vec<(&'static str, Vec<u8>)> {
    vec![("11111111-2222-4333-8444-555555555555.jsonl", bytes)]
}

/// The lean 2.1.1xx transcript of `reference/claude-code.md` §2.2: queue-operation, user,
/// attachment, assistant, last-prompt; no requestedModel, no cost-state.
fn legacy_lines() -> Vec<Value> {
    vec![
        json!({"type": "queue-operation", "operation": "enqueue", "timestamp": "2026-01-10T10:00:00.000Z", "sessionId": SID, "content": "RUN_TOOL old version"}),
        user("u1", "RUN_TOOL old version"),
        envelope("attachment", "a1", json!({"attachment": {"type": "date", "content": "2026-01-10"}})),
        assistant("as1", "msg_1", "claude-sonnet-4-5", [4, 18250, 0, 61]),
        assistant("as2", "msg_1", "claude-sonnet-4-5", [4, 18250, 0, 61]),
        envelope("user", "u2", json!({"message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "done"}]}})),
        assistant("as3", "msg_2", "claude-sonnet-4-5", [1, 240, 18250, 35]),
        json!({"type": "last-prompt", "lastPrompt": "RUN_TOOL old version", "leafUuid": "as3", "sessionId": SID}),
    ]
}

#[test]
fn legacy_lean_format_is_measured_from_its_last_response() {
    let s = discover_one(&main_file(jsonl(&legacy_lines())), &[]);
    assert_eq!(s.context_tokens, Some(1 + 240 + 18250));
    assert_eq!((s.context_window, s.compact_at_tokens, s.estimated), (Some(200_000), Some(167_000), false));
    assert_eq!(s.context_percent, Some(9.2));
    assert_eq!(s.title.as_deref(), Some("RUN_TOOL old version"));
    assert_eq!(s.cwd.as_deref(), Some("/home/u/proj"));
    assert_eq!(s.model.as_deref(), Some("claude-sonnet-4-5"));
}

#[test]
fn inline_sidechains_api_errors_and_synthetic_lines_are_skipped() {
    let mut lines = legacy_lines();
    let mut side = assistant("sc1", "msg_side", "claude-haiku-4-5", [9, 90_000, 0, 5]);
    side["isSidechain"] = json!(true);
    side["agentId"] = json!("a123");
    lines.push(side);
    let mut api_error = assistant("err", "msg_err", "<synthetic>", [0, 0, 0, 0]);
    api_error["isApiErrorMessage"] = json!(true);
    lines.push(api_error);
    lines.push(assistant("syn", "msg_syn", "<synthetic>", [0, 0, 0, 0]));
    let mut files = main_file(jsonl(&lines));
    // Before 2.1.2 a subagent could also be a file next to the main one, naming its parent.
    let mut agent_line = user("x1", "inner");
    agent_line["isSidechain"] = json!(true);
    files.push(("agent-a123.jsonl", jsonl(&[agent_line])));
    let home = home_with(&files);
    let list = discover_plain(&runtime(home.path(), &[]));
    assert_eq!(list.sessions.len(), 1, "an inline agent file is not a session");
    let s = find(&list, SID);
    assert_eq!(s.context_tokens, Some(18_491));
    assert!(!s.estimated);
    assert_eq!(s.children, vec!["a123".to_string()]);
}

#[test]
fn streaming_partials_of_one_response_use_the_last_line() {
    let mut lines = legacy_lines();
    lines.push(assistant("p1", "msg_3", "claude-sonnet-4-5", [2, 100, 18_491, 1]));
    lines.push(assistant("p2", "msg_3", "claude-sonnet-4-5", [2, 100, 18_491, 80]));
    let s = discover_one(&main_file(jsonl(&lines)), &[]);
    assert_eq!(s.context_tokens, Some(18_593));
}

#[test]
fn a_boundary_after_the_last_response_gives_post_tokens_and_without_them_an_estimate() {
    let boundary = |meta: Value| envelope("system", "cb", json!({"subtype": "compact_boundary", "content": "Conversation compacted", "compactMetadata": meta}));
    let mut lines = legacy_lines();
    lines.push(boundary(json!({"trigger": "auto", "preTokens": 150_015, "postTokens": 4_200})));
    let s = discover_one(&main_file(jsonl(&lines)), &[]);
    assert_eq!((s.context_tokens, s.estimated), (Some(4_200), false));
    assert_eq!(s.model.as_deref(), Some("claude-sonnet-4-5"), "the model comes from before the boundary");

    let mut lines = legacy_lines();
    lines.push(boundary(json!({"trigger": "manual", "preTokens": 18_526})));
    let s = discover_one(&main_file(jsonl(&lines)), &[("ASM_CC_ESTIMATE_TOKENS", "12345")]);
    assert_eq!((s.context_tokens, s.estimated), (Some(12_345), true));
}

#[test]
fn a_session_without_usage_yet_is_an_estimate() {
    let lines = vec![user("u1", "just started")];
    let s = discover_one(&main_file(jsonl(&lines)), &[]);
    assert_eq!(s.context_tokens, Some(10_000));
    assert_eq!(s.context_window, Some(200_000));
    assert!(s.estimated);
    assert_eq!(s.context_percent, Some(5.0));
    assert_eq!(s.title.as_deref(), Some("just started"));
}

#[test]
fn windows_come_from_requested_model_and_unknown_models_are_estimates() {
    let mut lines = legacy_lines();
    let last = lines.len() - 2;
    lines[last]["requestedModel"] = json!("claude-sonnet-4-5[1m]");
    let s = discover_one(&main_file(jsonl(&lines)), &[]);
    assert_eq!((s.context_window, s.compact_at_tokens, s.estimated), (Some(1_000_000), Some(967_000), false));
    assert_eq!(s.model.as_deref(), Some("claude-sonnet-4-5[1m]"));

    let lines = vec![user("u1", "hi"), assistant("as1", "m1", "MiniMax-M2", [10, 0, 0, 1])];
    let s = discover_one(&main_file(jsonl(&lines)), &[]);
    assert_eq!((s.context_tokens, s.context_window, s.estimated), (Some(10), Some(200_000), true));
}

#[test]
fn without_a_response_the_model_attachment_gives_the_window() {
    let attachment = |model: &str| envelope("attachment", "at1", json!({"attachment": {"type": "model", "identity": {"modelId": model}}}));
    for (model, window) in [("claude-opus-5-5", 1_000_000), ("claude-sonnet-4-5[1m]", 1_000_000), ("claude-sonnet-4-5", 200_000)] {
        let lines = vec![user("u1", "just started"), attachment(model)];
        let s = discover_one(&main_file(jsonl(&lines)), &[]);
        assert_eq!((s.context_window, s.estimated), (Some(window), true), "{model}");
    }
}

#[test]
fn usage_over_200k_proves_the_1m_window_of_a_transcript_without_requested_model() {
    let lines = vec![user("u1", "long one"), assistant("as1", "m1", "claude-sonnet-4-5", [10, 0, 300_000, 5])];
    let s = discover_one(&main_file(jsonl(&lines)), &[]);
    assert_eq!((s.context_tokens, s.context_window, s.context_percent, s.estimated), (Some(300_010), Some(1_000_000), Some(30.0), false));
    let s = discover_one(&main_file(jsonl(&lines)), &[("CLAUDE_CODE_DISABLE_1M_CONTEXT", "1")]);
    assert_eq!(s.context_window, Some(200_000), "unless 1M is switched off");
}

#[test]
fn titles_prefer_custom_then_trusted_summary_then_first_prompt() {
    let mut lines = legacy_lines();
    lines.insert(0, json!({"type": "summary", "summary": "Stray summary from another file", "leafUuid": "not-here"}));
    let s = discover_one(&main_file(jsonl(&lines)), &[]);
    assert_eq!(s.title.as_deref(), Some("RUN_TOOL old version"));

    lines.insert(0, json!({"type": "summary", "summary": "Gateway restart fix", "leafUuid": "as3"}));
    let s = discover_one(&main_file(jsonl(&lines)), &[]);
    assert_eq!(s.title.as_deref(), Some("Gateway restart fix"));

    lines.push(json!({"type": "ai-title", "aiTitle": "AI named it", "sessionId": SID}));
    lines.push(json!({"type": "custom-title", "customTitle": "My name for it", "sessionId": SID}));
    let s = discover_one(&main_file(jsonl(&lines)), &[]);
    assert_eq!(s.title.as_deref(), Some("My name for it"));
}

#[test]
fn auto_compact_switched_off_in_settings_has_no_threshold() {
    let home = home_with(&main_file(jsonl(&legacy_lines())));
    fs::write(home.join(".claude/settings.json"), r#"{"autoCompactEnabled": false}"#).unwrap();
    let list = discover_plain(&runtime(home.path(), &[]));
    assert_eq!(find(&list, SID).compact_at_tokens, None);
}

// ---- bad input --------------------------------------------------------------------------

const GOOD_TOKENS: u64 = 18_491;

fn with_tail(extra: &[u8]) -> SessionInfo {
    let mut bytes = jsonl(&legacy_lines());
    bytes.extend_from_slice(extra);
    discover_one(&main_file(bytes), &[])
}

#[test]
fn a_truncated_last_line_is_skipped_and_the_number_marked_estimated() {
    let half = serde_json::to_string(&assistant("as9", "msg_9", "claude-sonnet-4-5", [1, 2, 3, 4])).unwrap();
    let s = with_tail(&half.as_bytes()[..half.len() / 2]);
    assert_eq!(s.context_tokens, Some(GOOD_TOKENS));
    assert!(s.estimated, "a newer response may be in the cut-off line");
}

#[test]
fn garbage_lines_are_skipped() {
    let s = with_tail(b"this is not json\n{\"type\":\"assistant\",\"message\":{\"usage\":{\"input_tokens\":\"many\"}}}\n[1,2,3\n");
    assert_eq!(s.context_tokens, Some(GOOD_TOKENS));
    assert!(s.estimated);
    // Garbage before the last response does not make it doubtful.
    let mut bytes = b"garbage\n\x00\x01\n".to_vec();
    bytes.extend(jsonl(&legacy_lines()));
    let s = discover_one(&main_file(bytes), &[]);
    assert_eq!((s.context_tokens, s.estimated), (Some(GOOD_TOKENS), false));
}

#[test]
fn non_utf8_bytes_never_panic() {
    let s = with_tail(b"{\"type\":\"assistant\",\"message\":{\"model\":\"\xff\xfe\",\"usage\":{\"input_tokens\":1}}}\n\xc3\x28\xa0\xa1\n");
    assert_eq!((s.context_tokens, s.estimated), (Some(GOOD_TOKENS), true));
    let s = discover_one(&main_file(b"\xff\xfe\xfd\n\x80\x81".to_vec()), &[]);
    assert!(s.estimated);
}

#[test]
fn lines_of_tens_of_megabytes_are_read_or_passed_over() {
    // A 30 MB tool result after the last response: the response behind it is still found.
    let big = "x".repeat(30 * 1024 * 1024);
    let tool_result = envelope("user", "u9", json!({"message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": big}]}}));
    let s = with_tail(&jsonl(&[tool_result]));
    assert_eq!((s.context_tokens, s.estimated), (Some(GOOD_TOKENS), false));
    // A 30 MB response line (a huge Write tool call) is itself read.
    let mut huge_response = assistant("as9", "msg_9", "claude-sonnet-4-5", [3, 0, 77_000, 9]);
    huge_response["message"]["content"] = json!([{"type": "tool_use", "id": "t", "name": "Write", "input": {"content": big}}]);
    let s = with_tail(&jsonl(&[huge_response]));
    assert_eq!((s.context_tokens, s.estimated), (Some(77_003), false));
}

#[test]
fn an_oversized_line_is_passed_over_and_marks_the_number_doubtful() {
    let dir = TempDir::new("cc-oversized");
    let path = dir.join("t.jsonl");
    let mut bytes = jsonl(&legacy_lines());
    bytes.extend(vec![b'z'; 3 * 1024 * 1024]);
    bytes.push(b'\n');
    fs::write(&path, &bytes).unwrap();
    let file = std::fs::File::open(&path).unwrap();
    let mut lines = tail::ReverseLines::with_limit(&file, bytes.len() as u64, 1024 * 1024);
    assert!(matches!(lines.next_line().unwrap(), Some(tail::TailLine::Oversized { bytes: 3_145_728 })));
    assert!(matches!(lines.next_line().unwrap(), Some(tail::TailLine::Line(l)) if memchr::memmem::find(l, b"\"type\":\"last-prompt\"").is_some()));
    let limits = measure::Limits { max_line: 1024 * 1024, ..Default::default() };
    let facts = measure::read_transcript_with_limits(&file, bytes.len() as u64, limits).unwrap();
    assert_eq!((facts.context_tokens, facts.skipped_lines, facts.doubtful), (Some(GOOD_TOKENS), 1, true));
}

#[test]
fn the_search_for_the_last_response_is_bounded() {
    let dir = TempDir::new("cc-bounded");
    let path = dir.join("t.jsonl");
    let mut bytes = jsonl(&legacy_lines());
    let filler = jsonl(&[json!({"type": "progress", "data": "p".repeat(1000)})]);
    for _ in 0..200 {
        bytes.extend_from_slice(&filler);
    }
    fs::write(&path, &bytes).unwrap();
    let file = std::fs::File::open(&path).unwrap();
    let len = bytes.len() as u64;
    let found = measure::read_transcript_with_limits(&file, len, measure::Limits::default()).unwrap();
    assert_eq!(found.context_tokens, Some(GOOD_TOKENS));
    let bounded = measure::read_transcript_with_limits(&file, len, measure::Limits { max_line: tail::MAX_LINE, max_scan: 64 * 1024 }).unwrap();
    assert_eq!((bounded.context_tokens, bounded.source), (None, measure::ContextSource::Nothing));
}

#[test]
fn an_empty_file_is_listed_as_an_estimate() {
    let s = discover_one(&main_file(Vec::new()), &[]);
    assert_eq!((s.context_tokens, s.estimated, s.title.clone()), (Some(10_000), true, None));
    let s = discover_one(&main_file(b"\n\n\n".to_vec()), &[]);
    assert!(s.estimated);
}

#[test]
fn unknown_line_types_are_ignored() {
    let s = with_tail(&jsonl(&[
        json!({"type": "future-thing", "payload": {"type": "assistant", "message": {"usage": {"input_tokens": 999_999}}}}),
        json!({"type": "cost-state", "sessionId": SID, "totalCostUSD": 1.5}),
        json!({"type": "brand-new", "nested": [1, 2, {"deep": true}]}),
    ]));
    assert_eq!((s.context_tokens, s.estimated), (Some(GOOD_TOKENS), false));
}

#[test]
fn missing_fields_never_give_a_number() {
    // An assistant line without usage, one without message, a boundary without metadata.
    let no_usage = envelope("assistant", "n1", json!({"message": {"id": "m", "model": "claude-sonnet-4-5", "content": []}}));
    let no_message = envelope("assistant", "n2", json!({}));
    let s = with_tail(&jsonl(&[no_usage, no_message]));
    assert_eq!((s.context_tokens, s.estimated), (Some(GOOD_TOKENS), false));
    let bare_boundary = json!({"type": "system", "subtype": "compact_boundary"});
    let s = with_tail(&jsonl(&[bare_boundary]));
    assert_eq!((s.context_tokens, s.estimated), (Some(10_000), true));
    let only_type = jsonl(&[json!({"type": "assistant"}), json!({"type": "user"})]);
    let s = discover_one(&main_file(only_type), &[]);
    assert!(s.estimated);
    assert_eq!((s.model, s.cwd, s.title), (None, None, None));
}

#[test]
fn an_unreadable_transcript_is_an_error_and_the_rest_still_listed() {
    let mut files = main_file(jsonl(&legacy_lines()));
    files.push(("22222222-0000-4000-8000-000000000000.jsonl", Vec::new()));
    let home = home_with(&files);
    let broken = home.join(".claude/projects/-home-u-proj/22222222-0000-4000-8000-000000000000.jsonl");
    fs::remove_file(&broken).unwrap();
    std::os::unix::fs::symlink(home.join("nowhere"), &broken).unwrap();
    let list = discover_plain(&runtime(home.path(), &[]));
    assert_eq!(list.sessions.len(), 1);
    assert_eq!(find(&list, SID).context_tokens, Some(GOOD_TOKENS));
    assert_eq!(list.errors.len(), 1);
    assert_eq!(list.errors[0].platform, Platform::ClaudeCode);
    assert_eq!(list.errors[0].source, broken.display().to_string());
    assert!(list.errors[0].message.contains("cannot read Claude Code transcript"), "{}", list.errors[0].message);
}

#[test]
fn an_unlistable_projects_dir_is_an_error() {
    let home = TempDir::new("cc-unlistable");
    fs::create_dir_all(home.join(".claude")).unwrap();
    fs::File::create(home.join(".claude/projects")).unwrap().write_all(b"not a dir").unwrap();
    let list = discover_plain(&runtime(home.path(), &[]));
    assert!(list.sessions.is_empty());
    assert_eq!(list.errors.len(), 1);
    assert!(list.errors[0].message.contains("expected a readable directory"));
}

#[test]
fn duplicates_across_config_dirs_keep_the_newest() {
    let mut s = vec![
        SessionInfo { updated_at: Some(DateTime::<Utc>::from(SystemTime::UNIX_EPOCH)), ..sample("a") },
        sample("b"),
        SessionInfo { source: "newer".into(), ..sample("a") },
    ];
    keep_newest_per_id(&mut s);
    let kept: Vec<(&str, &str)> = s.iter().map(|s| (s.session_id.as_str(), s.source.as_str())).collect();
    assert_eq!(kept, [("b", "x"), ("a", "newer")]);
}

fn sample(id: &str) -> SessionInfo {
    SessionInfo { updated_at: Some(Utc::now()), source: "x".into(), children: Vec::new(), ..SessionInfo::bare(Platform::ClaudeCode, id) }
}

#[test]
fn a_grown_transcript_read_from_its_old_end_gives_what_a_fresh_read_gives() {
    let mut compared = 0;
    let projects = fs::read_dir(Path::new(FIXTURES).join("projects")).unwrap().flatten();
    for path in projects.flat_map(|p| fs::read_dir(p.path()).unwrap().flatten().map(|e| e.path())) {
        if path.extension().is_none_or(|e| e != "jsonl") {
            continue;
        }
        let file = std::fs::File::open(&path).unwrap();
        let bytes = fs::read(&path).unwrap();
        let len = bytes.len() as u64;
        let fresh = measure::read_transcript(&file, len).unwrap();
        // Every line end as the old end: the file grew from there to what it is now.
        for (old_end, _) in bytes.iter().enumerate().filter(|(_, b)| **b == b'\n') {
            if let Some(grown) = measure::read_grown(&file, old_end as u64 + 1, len).unwrap() {
                assert_eq!(grown, fresh, "{} grown from {}", path.display(), old_end + 1);
                compared += 1;
            }
        }
        // An old end inside a line is never used.
        assert_eq!(measure::read_grown(&file, len / 2 + 1, len).unwrap().filter(|_| bytes[len as usize / 2] != b'\n'), None);
    }
    assert!(compared > 10, "{compared}");
}
