//! Extraction end to end: every fixture transcript of the three platforms, legacy formats
//! built from the reference notes, and a transcript seeded with secrets.

use super::*;
use crate::env::Env;
use crate::platform::openclaw::events as ocl;
use crate::platform::opencode::events as oc;
use crate::session::StoreKind;
use crate::session::TranscriptRef;
use asm_testkit::{fixtures_dir, TempDir};
use serde_json::json;
use std::path::Path;

fn runtime(home: &Path, extra: &[(&str, &str)]) -> Runtime {
    let mut pairs = vec![("HOME".to_string(), home.display().to_string()), ("OPENCLAW_STATE_DIR".to_string(), home.join(".openclaw").display().to_string())];
    pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Runtime::from_env(Env::from_pairs(pairs)).unwrap()
}

pub(crate) fn info(platform: Platform, id: &str, transcript: TranscriptRef) -> SessionInfo {
    SessionInfo {
        context_tokens: Some(160_000),
        context_window: Some(200_000),
        context_percent: Some(80.0),
        transcript: Some(transcript),
        ..SessionInfo::bare(platform, id)
    }
}

fn cc(id: &str) -> TranscriptRef {
    TranscriptRef::new(StoreKind::JsonlFile, fixtures_dir().join("claude-code/projects/-tmp-fixture-project-demo").join(format!("{id}.jsonl")), id)
}

fn stored_text(rt: &Runtime, id: &str) -> String {
    std::fs::read_to_string(rt.paths.memory_dir().join(format!("{id}.json"))).unwrap()
}

#[test]
fn claude_code_fixtures() {
    let home = TempDir::new("x-cc");
    let rt = runtime(home.path(), &[]);
    let r = extract(&rt, &info(Platform::ClaudeCode, "ffa9427d-db56-443c-b8a2-7aaf5ba49ae3", cc("ffa9427d-db56-443c-b8a2-7aaf5ba49ae3"))).unwrap();
    assert_eq!(r.sections.goal.as_deref(), Some("RUN_TOOL: check the gateway health"));
    assert_eq!(r.sections.latest_request.as_deref(), Some("thanks, anything else?"));
    assert_eq!(r.sections.commands[0].command, "echo hi-from-tool");
    assert_eq!(r.sections.commands[0].outcome, "ok");
    assert_eq!(r.cwd.as_deref(), Some("/tmp/fixture-project/demo"), "cwd from the transcript when discovery gave none");
    assert!(r.sections.identifiers.contains(&"branch main".to_string()));
    let summary = r.sections.platform_summary.as_ref().unwrap();
    assert_eq!(summary.source, "Claude Code compaction");
    assert_eq!(r.summary.source, "platform");
    assert!(r.handoff.find("Primary Request and Intent").unwrap() < r.handoff.find("RUN_TOOL").unwrap(), "the platform summary leads");
    assert!(r.handoff.contains("`echo hi-from-tool` → ok"));
    assert_eq!(r.context.percent, Some(80.0));

    let r = extract(&rt, &info(Platform::ClaudeCode, "ffef2de7-0e93-4bea-b4f5-c6c6c07e8fa6", cc("ffef2de7-0e93-4bea-b4f5-c6c6c07e8fa6"))).unwrap();
    assert_eq!(r.sections.goal.as_deref(), Some("SUBAGENT_PLEASE look into the gateway"));
    assert_eq!(r.sections.subagent_results, ["Hello from the mock server."]);
    assert_eq!(r.previous_session_id.as_deref(), Some("ffa9427d-db56-443c-b8a2-7aaf5ba49ae3"), "same working directory continues the line");

    let r = extract(&rt, &info(Platform::ClaudeCode, "d18e4db7-efec-48bd-a24a-effb03c25a12", cc("d18e4db7-efec-48bd-a24a-effb03c25a12"))).unwrap();
    assert_eq!(r.sections.goal.as_deref(), Some("hello with hooks"));
    assert!(r.sections.platform_summary.is_some());
    assert_eq!(r.chain, ["ffa9427d-db56-443c-b8a2-7aaf5ba49ae3.g1", "ffef2de7-0e93-4bea-b4f5-c6c6c07e8fa6.g1"]);
}

#[test]
fn opencode_sqlite_fixture() {
    let home = TempDir::new("x-oc");
    let db = oc::tests::fixture_db(home.path());
    let rt = runtime(home.path(), &[]);
    let transcript = TranscriptRef::new(StoreKind::Sqlite, db.clone(), oc::tests::SESSION_A);
    let r = extract(&rt, &info(Platform::Opencode, oc::tests::SESSION_A, transcript)).unwrap();
    assert_eq!(r.sections.user_requests, ["hello", "second"]);
    assert!(r.sections.platform_summary.as_ref().unwrap().text.contains("## Relevant Files"));
    assert_eq!(r.model.as_deref(), Some("mock-model"));
    assert_eq!(r.cwd.as_deref(), Some("/tmp/ocfx/demo"));
    assert!(r.handoff.contains("Say hello to the mock model"));
    let transcript = TranscriptRef::new(StoreKind::Sqlite, db, oc::tests::SESSION_B);
    let r = extract(&rt, &info(Platform::Opencode, oc::tests::SESSION_B, transcript)).unwrap();
    assert!(r.sections.goal.unwrap().starts_with("Continue the work of session ses_df4c7636affe5zEnkBDHC7yhTL"));
    assert!(r.sections.identifiers.contains(&"README.md".to_string()) || r.sections.identifiers.iter().any(|i| i.contains("ses_df4c7636affe5zEnkBDHC7yhTL")));
    assert_eq!(r.previous_session_id.as_deref(), Some(oc::tests::SESSION_A));
}

#[test]
fn openclaw_sqlite_fixtures_with_zstd_rows() {
    let home = TempDir::new("x-ocl");
    let db = home.join("openclaw-agent.sqlite");
    ocl::tests::build_db(
        &db,
        &[
            (ocl::tests::TOPIC_SESSION.into(), ocl::tests::fixture_lines("transcript_events.telegram-topic.jsonl")),
            (ocl::tests::CLI_SESSION.into(), ocl::tests::fixture_lines("transcript_events.reset-inject-compaction.jsonl")),
        ],
        3,
    );
    let rt = runtime(home.path(), &[]);
    let mut topic = info(Platform::Openclaw, ocl::tests::TOPIC_SESSION, TranscriptRef::new(StoreKind::Sqlite, db.clone(), ocl::tests::TOPIC_SESSION));
    topic.key = Some("agent:main:telegram:group:-1001234567890:topic:466".into());
    let r = extract(&rt, &topic).unwrap();
    assert_eq!(
        r.sections.user_requests,
        ["[manager] New session. Summary of previous: ...", "[manager] second injected message"],
        "the reset started the conversation over"
    );
    assert_eq!(r.key.as_deref(), Some("agent:main:telegram:group:-1001234567890:topic:466"));
    assert!(!stored_text(&rt, ocl::tests::TOPIC_SESSION).contains("Manager notice via send RPC"), "delivery mirror skipped");

    let cli = info(Platform::Openclaw, ocl::tests::CLI_SESSION, TranscriptRef::new(StoreKind::Sqlite, db, ocl::tests::CLI_SESSION));
    let r = extract(&rt, &cli).unwrap();
    assert_eq!(r.sections.user_requests, ["Continue with the task."]);
    assert!(r.sections.platform_summary.as_ref().unwrap().text.contains("## Decisions"));
    assert!(!r.handoff.contains("not authorized"), "gateway-injected rows skipped");
    assert!(r.read_stats.synthetic >= 3);
}

/// OpenClaw ≤ 2026.7.x: a `<sessionId>.jsonl` file, header `version:3`, 8-hex entry ids,
/// compaction without `tokensAfter` (`fromHook:false`), pi tool calls and results.
fn openclaw_legacy_jsonl(path: &Path) {
    let lines = [
        json!({"type":"session","version":3,"id":"92768b1d-0000-4000-8000-000000000001","timestamp":"2026-07-20T10:00:00.000Z","cwd":"/home/u/.openclaw/workspace"}),
        json!({"type":"model_change","provider":"minimax","modelId":"MiniMax-M2","id":"a1b2c3d4","parentId":null,"timestamp":"2026-07-20T10:00:00.100Z"}),
        json!({"type":"message","id":"a1b2c3d5","parentId":"a1b2c3d4","timestamp":"2026-07-20T10:00:01.000Z","message":{"role":"user","content":"Deploy the bot to https://bots.example.net/hook and check port 8443","timestamp":1}}),
        json!({"type":"message","id":"a1b2c3d6","parentId":"a1b2c3d5","timestamp":"2026-07-20T10:00:02.000Z","message":{"role":"assistant","content":[{"type":"text","text":"Reading the config first."},{"type":"toolCall","id":"call_1","name":"read","arguments":{"path":"/srv/bot/config.yaml"}}],"provider":"minimax","model":"MiniMax-M2","usage":{"input":900,"output":20,"cacheRead":0,"cacheWrite":0,"totalTokens":920},"stopReason":"toolUse"}}),
        json!({"type":"message","id":"a1b2c3d7","parentId":"a1b2c3d6","timestamp":"2026-07-20T10:00:03.000Z","message":{"role":"toolResult","toolCallId":"call_1","toolName":"read","content":[{"type":"text","text":"port: 8443"}],"isError":false}}),
        json!({"type":"message","id":"a1b2c3d8","parentId":"a1b2c3d7","timestamp":"2026-07-20T10:00:04.000Z","message":{"role":"assistant","content":[{"type":"toolCall","id":"call_2","name":"exec","arguments":{"command":"systemctl restart bot.service"}}],"provider":"minimax","model":"MiniMax-M2","stopReason":"toolUse"}}),
        json!({"type":"message","id":"a1b2c3d9","parentId":"a1b2c3d8","timestamp":"2026-07-20T10:00:05.000Z","message":{"role":"toolResult","toolCallId":"call_2","toolName":"exec","content":[{"type":"text","text":"Failed to restart bot.service: Unit not found."}],"isError":true}}),
        json!({"type":"compaction","id":"a1b2c3da","parentId":"a1b2c3d9","timestamp":"2026-07-20T10:05:00.000Z","summary":"## Goal\nDeploy the bot.\n## Progress\nConfig read; restart failed.","firstKeptEntryId":"a1b2c3d8","tokensBefore":16400,"details":{"readFiles":["/srv/bot/config.yaml"],"modifiedFiles":["/srv/bot/bot.service"]},"fromHook":false}),
        json!({"type":"message","id":"a1b2c3db","parentId":"a1b2c3da","timestamp":"2026-07-20T10:06:00.000Z","message":{"role":"user","content":[{"type":"text","text":"Use the user unit instead. TODO: document it in README.md"}],"timestamp":2}}),
        json!({"type":"message","id":"a1b2c3dc","parentId":"a1b2c3db","timestamp":"2026-07-20T10:06:02.000Z","message":{"role":"assistant","content":[{"type":"text","text":"We'll use the user unit bot.service under systemctl --user."},{"type":"toolCall","id":"call_3","name":"exec","arguments":{"command":"systemctl --user restart bot.service"}}],"provider":"minimax","model":"MiniMax-M2","stopReason":"toolUse"}}),
        json!({"type":"message","id":"a1b2c3dd","parentId":"a1b2c3dc","timestamp":"2026-07-20T10:06:03.000Z","message":{"role":"toolResult","toolCallId":"call_3","toolName":"exec","content":[{"type":"text","text":""}],"isError":false}}),
    ];
    std::fs::write(path, lines.iter().map(|l| l.to_string()).collect::<Vec<_>>().join("\n") + "\n").unwrap();
}

#[test]
fn openclaw_legacy_jsonl_format() {
    let home = TempDir::new("x-ocl-legacy");
    let path = home.join("92768b1d-0000-4000-8000-000000000001.jsonl");
    openclaw_legacy_jsonl(&path);
    let rt = runtime(home.path(), &[]);
    let r = extract(
        &rt,
        &info(
            Platform::Openclaw,
            "92768b1d-0000-4000-8000-000000000001",
            TranscriptRef::new(StoreKind::JsonlFile, path, "92768b1d-0000-4000-8000-000000000001"),
        ),
    )
    .unwrap();
    let s = &r.sections;
    assert_eq!(s.goal.as_deref(), Some("Deploy the bot to https://bots.example.net/hook and check port 8443"));
    assert_eq!(s.latest_request.as_deref(), Some("Use the user unit instead. TODO: document it in README.md"));
    assert_eq!(s.files_read, ["/srv/bot/config.yaml"]);
    assert_eq!(s.files_changed, ["/srv/bot/bot.service"]);
    let commands: Vec<(&str, &str)> = s.commands.iter().map(|c| (c.command.as_str(), c.outcome.as_str())).collect();
    assert_eq!(commands, [("systemctl restart bot.service", "failed"), ("systemctl --user restart bot.service", "ok")]);
    assert_eq!(s.errors.len(), 1);
    assert!(s.errors[0].message.contains("Unit not found"));
    assert!(s.errors[0].resolved, "the same program and subcommand later succeeded");
    assert!(s.decisions.iter().any(|d| d.starts_with("We'll use the user unit")));
    assert!(s.open_items.iter().any(|o| o.contains("TODO: document it in README.md")));
    assert!(s.identifiers.contains(&"https://bots.example.net/hook".to_string()));
    assert!(s.identifiers.contains(&"port 8443".to_string()));
    assert_eq!(s.platform_summary.as_ref().unwrap().source, "OpenClaw compaction");
    assert_eq!(r.model.as_deref(), Some("MiniMax-M2"));
}

/// OpenCode ≤ 1.1.x: the JSON tree under `storage/` (reference opencode.md §1.5).
fn opencode_legacy_tree(storage: &Path, session: &str) {
    let write = |rel: String, v: serde_json::Value| {
        let path = storage.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, v.to_string()).unwrap();
    };
    write("migration".into(), json!(2));
    write(
        format!("session/global/{session}.json"),
        json!({"id":session,"slug":"calm-river","version":"1.1.65","projectID":"global","directory":"/work/app","title":"Retry","time":{"created":1,"updated":9}}),
    );
    let user = |id: &str, t: i64, parts: Vec<serde_json::Value>| {
        write(
            format!("message/{session}/{id}.json"),
            json!({"id":id,"sessionID":session,"role":"user","time":{"created":t},"agent":"build","model":{"providerID":"mock","modelID":"mock-model"},"summary":{"title":"t"}}),
        );
        for (i, p) in parts.into_iter().enumerate() {
            let mut p = p;
            p["id"] = json!(format!("prt_{id}_{i}"));
            write(format!("part/{id}/prt_{id}_{i}.json"), p);
        }
    };
    let assistant = |id: &str, t: i64, extra: serde_json::Value, parts: Vec<serde_json::Value>| {
        let mut info = json!({"id":id,"sessionID":session,"role":"assistant","mode":"build","path":{"cwd":"/work/app","root":"/work/app"},"cost":0,"tokens":{"total":1000,"input":900,"output":100,"reasoning":0,"cache":{"read":0,"write":0}},"modelID":"mock-model","providerID":"mock","time":{"created":t}});
        if let (Some(info), Some(extra)) = (info.as_object_mut(), extra.as_object()) {
            info.extend(extra.clone());
        }
        write(format!("message/{session}/{id}.json"), info);
        for (i, p) in parts.into_iter().enumerate() {
            let mut p = p;
            p["id"] = json!(format!("prt_{id}_{i}"));
            write(format!("part/{id}/prt_{id}_{i}.json"), p);
        }
    };
    user("msg_0001", 10, vec![json!({"type":"text","text":"Add a retry with backoff to src/net.rs"})]);
    assistant(
        "msg_0002",
        20,
        json!({}),
        vec![
            json!({"type":"step-start"}),
            json!({"type":"tool","callID":"call_a","tool":"read","state":{"status":"completed","input":{"filePath":"/work/app/src/net.rs"},"output":"fn fetch() {}","title":"src/net.rs"}}),
            json!({"type":"tool","callID":"call_b","tool":"edit","state":{"status":"completed","input":{"filePath":"/work/app/src/net.rs","oldString":"a","newString":"b"},"output":""}}),
            json!({"type":"tool","callID":"call_c","tool":"bash","state":{"status":"error","input":{"command":"cargo test --lib net"},"error":"error[E0308]: mismatched types"}}),
            json!({"type":"text","text":"The test fails on a type mismatch; I decided to return Result from fetch."}),
        ],
    );
    user("msg_0003", 30, vec![json!({"type":"compaction","auto":true})]);
    assistant(
        "msg_0004",
        40,
        json!({"mode":"compaction","agent":"compaction","summary":true}),
        vec![json!({"type":"text","text":"## Objective\n- Retry in src/net.rs"})],
    );
    user("msg_0005", 50, vec![json!({"type":"text","text":"Continue if you have next steps","synthetic":true})]);
    assistant(
        "msg_0006",
        60,
        json!({}),
        vec![
            json!({"type":"tool","callID":"call_d","tool":"bash","state":{"status":"completed","input":{"command":"cargo test --lib net"},"output":"test result: ok"}}),
            json!({"type":"patch","hash":"abc","files":["/work/app/src/net.rs","/work/app/Cargo.toml"]}),
        ],
    );
}

#[test]
fn opencode_legacy_json_tree() {
    let home = TempDir::new("x-oc-legacy");
    let storage = home.join("opencode/storage");
    opencode_legacy_tree(&storage, "ses_legacy0001");
    let rt = runtime(home.path(), &[]);
    let transcript = TranscriptRef::new(StoreKind::JsonTree, storage, "ses_legacy0001");
    let r = extract(&rt, &info(Platform::Opencode, "ses_legacy0001", transcript)).unwrap();
    let s = &r.sections;
    assert_eq!(s.user_requests, ["Add a retry with backoff to src/net.rs"]);
    assert_eq!(s.files_read, ["/work/app/src/net.rs"]);
    assert_eq!(s.files_changed, ["/work/app/src/net.rs", "/work/app/Cargo.toml"]);
    assert_eq!(s.commands, [extract::CommandRun { command: "cargo test --lib net".into(), outcome: "ok".into() }]);
    assert!(s.errors[0].resolved && s.errors[0].message.contains("E0308"));
    assert!(s.decisions.iter().any(|d| d.contains("decided to return Result")));
    assert_eq!(s.platform_summary.as_ref().unwrap().text, "## Objective\n- Retry in src/net.rs");
    assert_eq!(r.cwd.as_deref(), Some("/work/app"));
}

#[test]
fn secrets_never_reach_the_memory_file() {
    let secrets = [
        "sk-ant-api03-SECRETSECRETSECRETSECRET0123456789",
        "sk-proj-OPENAIOPENAIOPENAIOPENAI01",
        "ghp_GITHUBGITHUBGITHUBGITHUB0123456789",
        "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ",
        "hunter2-db-password",
        "correct-horse-battery-staple",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0ZXN0LXVzZXIifQ.c2lnbmF0dXJlLXNlY3JldA",
        "AKIAIOSFODNN7EXAMPLE",
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7",
        "BearerTokenValue0123456789abcdef",
        "xoxb-1234567890-SLACKSLACKSLACK",
    ];
    let lines = [
        json!({"type":"user","message":{"role":"user","content":format!("Deploy with ANTHROPIC_API_KEY={} and the bot https://api.telegram.org/bot{}/getMe", secrets[0], secrets[3])},"cwd":"/w","gitBranch":"main"}),
        json!({"type":"assistant","message":{"model":"claude-sonnet-4-5","content":[{"type":"text","text":format!("I decided to use the key {} from the vault. TODO: rotate token {}", secrets[1], secrets[2])}]}}),
        json!({"type":"assistant","message":{"model":"claude-sonnet-4-5","content":[{"type":"tool_use","id":"t1","name":"Bash","input":{"command":format!("psql postgres://admin:{}@db.internal:5432/app -c 'select 1'", secrets[4])}}]}}),
        json!({"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","is_error":true,"content":format!("FATAL: password={} rejected; Authorization: Bearer {}", secrets[5], secrets[9])}]}}),
        json!({"type":"assistant","message":{"model":"claude-sonnet-4-5","content":[{"type":"tool_use","id":"t2","name":"Write","input":{"file_path":"/w/.env","content":format!("JWT={}\nAWS={}\n-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----", secrets[6], secrets[7], secrets[8])}}]}}),
        json!({"type":"user","isCompactSummary":true,"message":{"role":"user","content":format!("Summary:\n1. Primary Request: deploy. Slack {} and jwt {}", secrets[10], secrets[6])}}),
        json!({"type":"user","message":{"role":"user","content":format!("Error: login failed with token {} (password: {})", secrets[2], secrets[5])}}),
    ];
    let home = TempDir::new("x-secrets");
    let path = home.join("s.jsonl");
    std::fs::write(&path, lines.iter().map(|l| l.to_string()).collect::<Vec<_>>().join("\n")).unwrap();
    let rt = runtime(home.path(), &[]);
    let r = extract(&rt, &info(Platform::ClaudeCode, "secret-session", TranscriptRef::new(StoreKind::JsonlFile, path, "secret-session"))).unwrap();
    let stored = stored_text(&rt, "secret-session");
    for secret in secrets {
        assert!(!stored.contains(secret), "{secret} leaked into the memory file:\n{stored}");
        assert!(!r.handoff.contains(secret));
    }
    assert!(stored.contains(crate::redact::MASK));
    assert!(r.sections.goal.unwrap().starts_with("Deploy with ANTHROPIC_API_KEY="), "the request itself survives");
    assert!(r.sections.files_changed.contains(&"/w/.env".to_string()));
}

#[test]
fn handoff_respects_the_configured_limit() {
    let home = TempDir::new("x-limit");
    let rt = runtime(home.path(), &[("ASM_HANDOFF_MAX_BYTES", "800")]);
    let r = extract(&rt, &info(Platform::ClaudeCode, "ffa9427d-db56-443c-b8a2-7aaf5ba49ae3", cc("ffa9427d-db56-443c-b8a2-7aaf5ba49ae3"))).unwrap();
    assert!(r.handoff.len() <= 800, "{}", r.handoff.len());
    assert!(r.handoff.contains("RUN_TOOL"));
}

#[test]
fn missing_transcript_and_bad_ids_are_clear_errors() {
    let home = TempDir::new("x-errors");
    let rt = runtime(home.path(), &[]);
    let mut no_transcript = info(Platform::ClaudeCode, "abc", cc("abc"));
    no_transcript.transcript = None;
    assert_eq!(extract(&rt, &no_transcript).unwrap_err().to_string(), "session abc has no transcript that ASM can read");
    let err = extract(&rt, &info(Platform::ClaudeCode, "abc", cc("abc"))).unwrap_err();
    assert!(err.to_string().starts_with("cannot read transcript") && err.to_string().contains("abc.jsonl"), "{err}");
    let err = extract(&rt, &info(Platform::ClaudeCode, "../../x", cc("x"))).unwrap_err();
    assert!(matches!(err, MemoryError::BadSessionId(_)));
}
