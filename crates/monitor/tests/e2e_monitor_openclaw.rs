//! End to end, ASM's main job against the real OpenClaw (2026.9.6 on node 24 from `make e2e`),
//! all offline on loopback: a real gateway whose model provider is a loopback
//! OpenAI-compatible mock (reporting a nearly full 32k window for the user's turn) and whose
//! Telegram channel points at a loopback mock Bot API. Two Telegram topic sessions cross 80 %:
//! one created by `openclaw agent --session-key` (no delivery route), one by a user's message
//! in the forum topic arriving through `getUpdates` (OpenClaw stores its route). One
//! `asm_monitor --once` must extract each one's memory, reset the key through `sessions.reset`,
//! seed the fresh session with the handoff (which reaches the model, and whose reply reaches the
//! topic) and post each switch to feed topic 466; a second run must not switch again. Every
//! process started is stopped by pid, even when an assert fails.

use asm_testkit::openclaw::{self, text, ScratchOpenclaw};
use asm_testkit::{MockServer, Request, Response};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const MONITOR: &str = env!("CARGO_BIN_EXE_asm_monitor");
const CHAT: &str = "-1001234567890";
/// The topic whose session `openclaw agent` creates, and the one a user's message creates.
const CLI_TOPIC: u64 = 77;
const CHAT_TOPIC: u64 = 78;
const USER_ID: i64 = 42;
const FEED_TOPIC: u64 = 466;
const BOT_TOKEN: &str = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
const GATEWAY_TOKEN: &str = "asm-e2e-flow-gateway-token-0123456789";
const WINDOW: u64 = 32_000;
/// What the provider reports for the user's turn: 87.5 % of the window.
const FULL_PROMPT: u64 = 28_000;
/// What it reports for the seeding turn of the fresh session.
const SEED_PROMPT: u64 = 6_000;
/// The first line of every handoff ASM renders (memory/handoff.rs).
const HANDOFF_MARK: &str = "# Handoff from OpenClaw session";
const SEED_REPLY: &str = "Picked up the handoff; continuing. E2E-SEED-ACK";

fn session_key(topic: u64) -> String {
    format!("agent:main:telegram:group:{CHAT}:topic:{topic}")
}

/// The user's request in this topic; its marker must survive into the memory and the seed.
fn request(topic: u64) -> String {
    format!("Please refactor src/billing/invoice.rs and keep port 18789 open (E2E-FLOW-REQUEST-{topic})")
}

/// A user's message in the forum topic, as Telegram's `getUpdates` delivers it.
fn inbound_update(topic: u64) -> Value {
    json!({"update_id": 5001, "message": {
        "message_id": 900, "date": 1_795_481_000u64, "message_thread_id": topic, "is_topic_message": true, "text": request(topic),
        "from": {"id": USER_ID, "is_bot": false, "first_name": "Alice", "username": "alice"},
        "chat": {"id": -1001234567890i64, "title": "Mock Forum", "type": "supergroup", "is_forum": true}
    }})
}

/// An OpenAI-compatible provider (`/v1/models`, `/v1/chat/completions`, SSE when asked) that
/// reports a large prompt for ordinary turns and a small one for the handoff seed.
fn mock_provider() -> MockServer {
    MockServer::start(|req: &Request| {
        if req.method == "GET" {
            return Response::json(200, &json!({"object":"list","data":[{"id":"mock-1","object":"model"}]}));
        }
        // Only the seed turn itself is small: later turns carry the seed in their history.
        let seeding = req.body_json().is_some_and(|b| last_user_text(&b).contains(HANDOFF_MARK));
        let (prompt, text) = if seeding { (SEED_PROMPT, SEED_REPLY) } else { (FULL_PROMPT, "Refactoring invoice.rs now; port 18789 stays open.") };
        let usage = json!({"prompt_tokens": prompt, "completion_tokens": 12, "total_tokens": prompt + 12});
        let base = json!({"id": "chatcmpl-e2e-flow", "created": 1_795_481_000u64, "model": "mock-1"});
        let with = |extra: Value| {
            let mut v = base.clone();
            if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
                o.extend(e.clone());
            }
            v
        };
        if !req.body_json().and_then(|b| b["stream"].as_bool()).unwrap_or(false) {
            let choice = json!({"index":0,"message":{"role":"assistant","content":text},"finish_reason":"stop"});
            return Response::json(200, &with(json!({"object":"chat.completion","choices":[choice],"usage":usage})));
        }
        let chunks = [
            with(json!({"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":text},"finish_reason":null}]})),
            with(json!({"object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})),
            with(json!({"object":"chat.completion.chunk","choices":[],"usage":usage})),
        ];
        let mut body: String = chunks.iter().map(|c| format!("data: {c}\n\n")).collect();
        body.push_str("data: [DONE]\n\n");
        Response::new(200, "text/event-stream", body)
    })
}

/// The text of the user's newest message in a chat-completions request (OpenClaw 2026.9 adds
/// its own internal-context message after it).
fn last_user_text(body: &Value) -> String {
    let text = |m: &Value| match &m["content"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    messages.iter().rev().filter(|m| m["role"] == "user").map(text).find(|t| !t.contains("BEGIN_OPENCLAW_INTERNAL_CONTEXT")).unwrap_or_default()
}

/// The Telegram Bot API the gateway polls and posts to; `inbound` is handed out once by
/// `getUpdates` when the test puts an update there.
fn mock_bot_api(inbound: Arc<Mutex<Option<Value>>>) -> MockServer {
    MockServer::start(move |req: &Request| {
        let method = req.path.rsplit('/').next().unwrap_or("");
        match method {
            "getMe" => Response::json(200, &json!({"ok": true, "result": {"id": 123456789, "is_bot": true, "first_name": "asm", "username": "asm_bot"}})),
            m if m.starts_with("getUpdates") => match inbound.lock().ok().and_then(|mut u| u.take()) {
                Some(update) => Response::json(200, &json!({"ok": true, "result": [update]})),
                // Long polling: answer slowly so the gateway does not spin.
                None => Response::json(200, &json!({"ok": true, "result": []})).with_delay(Duration::from_secs(1)),
            },
            "sendMessage" => {
                let body = req.body_json().unwrap_or(Value::Null);
                let chat = json!({"id": -1001234567890i64, "type": "supergroup", "is_forum": true});
                let result =
                    json!({"message_id": 1001, "date": 1_700_000_000, "chat": chat, "message_thread_id": body["message_thread_id"], "text": body["text"]});
                Response::json(200, &json!({"ok": true, "result": result}))
            }
            _ => Response::json(200, &json!({"ok": true, "result": true})),
        }
    })
}

/// The scratch OpenClaw world this test's gateway runs in, with ASM's view of it.
struct Scratch {
    world: ScratchOpenclaw,
}

impl std::ops::Deref for Scratch {
    type Target = ScratchOpenclaw;

    fn deref(&self) -> &ScratchOpenclaw {
        &self.world
    }
}

impl Scratch {
    fn new(provider: &MockServer, bot_api: &MockServer) -> Scratch {
        let mut world = ScratchOpenclaw::new("e2e-flow");
        world.set_env("OPENCLAW_GATEWAY_TOKEN", GATEWAY_TOKEN);
        world.write_config(&json!({
            "gateway": {"mode": "local", "port": world.port(), "bind": "loopback", "auth": {"mode": "token", "token": GATEWAY_TOKEN}},
            "models": {"mode": "replace", "providers": {"mock": {
                "baseUrl": format!("{}/v1", provider.url()), "api": "openai-completions", "apiKey": "mock-key",
                "models": [{"id": "mock-1", "name": "Mock 1", "contextWindow": WINDOW, "maxTokens": 4096}]
            }}},
            // The pre-compaction memory flush would run a model call in the background after
            // the user's turn, racing the monitor; ASM's handoff is what this test is about.
            "agents": {"defaults": {"model": {"primary": "mock/mock-1"}, "compaction": {"memoryFlush": {"enabled": false}}}},
            // The owner (USER_ID) talks to the bot in the forum without mentioning it.
            "channels": {"telegram": {"botToken": BOT_TOKEN, "apiRoot": bot_api.url(), "allowFrom": [USER_ID.to_string()], "groups": {CHAT: {"requireMention": false}}}},
            "logging": {"file": world.join("openclaw.log").display().to_string()}
        }));
        Scratch { world }
    }

    /// ASM's configuration for this scratch world: feed topic 466 in the group, notifications
    /// through the gateway's Telegram channel, no MiniMax key.
    fn asm_env(&self) -> Vec<(String, String)> {
        let mut env = self.env();
        env.extend(
            [
                ("ASM_FEED_CHAT_ID", CHAT.to_string()),
                ("ASM_FEED_TOPIC", FEED_TOPIC.to_string()),
                ("ASM_NOTIFY_BACKEND", "openclaw".into()),
                ("ASM_GATEWAY_URL", format!("http://127.0.0.1:{}", self.port())),
                ("ASM_REPAIR", "0".into()),
                ("ASM_LOG_LEVEL", "debug".into()),
            ]
            .map(|(k, v)| (k.to_string(), v)),
        );
        env
    }

    fn start_gateway(&mut self) {
        self.world.start_gateway(&[]);
        assert!(self.wait_ready(Duration::from_secs(120)), "the gateway was not ready within 120 s:\n{}", self.gateway_log());
    }

    fn asm(&self, program: &Path, args: &[&str]) -> Output {
        Command::new(program).args(args).env_clear().envs(self.asm_env()).current_dir(self.dir()).stdin(Stdio::null()).output().unwrap()
    }

    fn state_file(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.state().join(".asm_state.json")).unwrap()).unwrap()
    }

    fn session_row(&self, topic: u64) -> Value {
        self.find_session_row(topic).unwrap_or_else(|| panic!("{} not in `openclaw sessions --json`", session_key(topic)))
    }

    fn find_session_row(&self, topic: u64) -> Option<Value> {
        let list = self.openclaw(&["sessions", "--json"]);
        list["sessions"].as_array()?.iter().find(|r| r["key"] == json!(session_key(topic))).cloned()
    }
}

fn require_tools() -> PathBuf {
    openclaw::require_tools();
    let bin_dir = Path::new(MONITOR).parent().unwrap().to_path_buf();
    for sibling in ["asm_session_manager", "asm_memory_manager", "asm_gateway_monitor", "asm_health_check"] {
        assert!(bin_dir.join(sibling).is_file(), "{sibling} is not built next to asm_monitor: run `cargo build --workspace --bins` first (make e2e does)");
    }
    bin_dir
}

fn sends_to(bot_api: &MockServer, topic: u64) -> Vec<String> {
    bot_api
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/sendMessage"))
        .filter_map(|r| r.body_json())
        .filter(|b| b["chat_id"].to_string().trim_matches('"') == CHAT && b["message_thread_id"].to_string().trim_matches('"') == topic.to_string())
        .map(|b| b["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn run_monitor(scratch: &Scratch) -> String {
    run_monitor_with(scratch, &[])
}

fn run_monitor_with(scratch: &Scratch, env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(MONITOR);
    cmd.arg("--once").env_clear().envs(scratch.asm_env()).envs(env.iter().copied()).current_dir(scratch.dir()).stdin(Stdio::null());
    let out = cmd.output().unwrap();
    let stderr = text(&out.stderr);
    eprintln!("--- asm_monitor --once ---\n{stderr}");
    assert!(out.status.success(), "asm_monitor --once: {}", out.status);
    stderr
}

/// The user's turn in `topic` through `getUpdates`; waits for OpenClaw's reply to reach the topic.
fn user_writes_in_topic(scratch: &Scratch, inbound: &Mutex<Option<Value>>, bot_api: &MockServer, topic: u64) {
    *inbound.lock().unwrap() = Some(inbound_update(topic));
    let deadline = Instant::now() + Duration::from_secs(120);
    while sends_to(bot_api, topic).is_empty() || scratch.find_session_row(topic).is_none_or(|r| r["totalTokens"].as_u64() != Some(FULL_PROMPT)) {
        assert!(Instant::now() < deadline, "no reply to the user's message in topic {topic} within 120 s:\n{}", scratch.gateway_log());
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Every crossing session, as `openclaw sessions --json` shows it before the monitor runs.
struct Crossing {
    topic: u64,
    session_id: String,
    before: Value,
}

#[test]
#[ignore = "e2e: run with make e2e"]
fn monitor_switches_full_telegram_topic_sessions_through_the_real_openclaw() {
    let bin_dir = require_tools();
    let provider = mock_provider();
    let inbound = Arc::new(Mutex::new(None));
    let bot_api = mock_bot_api(inbound.clone());
    let mut scratch = Scratch::new(&provider, &bot_api);
    scratch.start_gateway();

    // Two users' turns fill their topics' windows past the threshold.
    scratch.openclaw(&["agent", "--session-key", &session_key(CLI_TOPIC), "--message", &request(CLI_TOPIC), "--json"]);
    user_writes_in_topic(&scratch, &inbound, &bot_api, CHAT_TOPIC);
    let crossings: Vec<Crossing> = [CLI_TOPIC, CHAT_TOPIC]
        .into_iter()
        .map(|topic| {
            let before = scratch.session_row(topic);
            assert_eq!((before["totalTokens"].as_u64(), before["contextTokens"].as_u64()), (Some(FULL_PROMPT), Some(WINDOW)), "{before}");
            Crossing { topic, session_id: before["sessionId"].as_str().unwrap_or_default().to_string(), before }
        })
        .collect();

    let out = scratch.asm(&bin_dir.join("asm_session_manager"), &["--list", "--json"]);
    assert!(out.status.success(), "asm_session_manager --list: {}", text(&out.stderr));
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    for c in &crossings {
        let key = session_key(c.topic);
        let ours =
            list["sessions"].as_array().and_then(|s| s.iter().find(|s| s["key"] == json!(key)).cloned()).unwrap_or_else(|| panic!("{key} not listed: {list}"));
        assert_eq!(ours["session_id"], json!(c.session_id));
        assert_eq!(ours["estimated"], json!(false));
        assert!(ours["context_percent"].as_f64().is_some_and(|p| p >= 80.0), "{ours}");
    }

    let started = Instant::now();
    run_monitor(&scratch);
    eprintln!("first asm_monitor --once took {:?}", started.elapsed());
    let state = scratch.state_file();
    for c in &crossings {
        check_switched(&scratch, &provider, &bot_api, &state, c);
    }
    let feed = sends_to(&bot_api, FEED_TOPIC);
    assert_eq!(feed.len(), crossings.len(), "one feed post per switch: {feed:?}");
    for c in &crossings {
        let post = feed.iter().find(|t| t.contains(&session_key(c.topic))).unwrap_or_else(|| panic!("no feed post for topic {}: {feed:?}", c.topic));
        assert!(post.contains("OpenClaw context usage reached 88%, switched to new session"), "{post}");
    }
    let last_probe = state["gateway"]["history"].as_array().and_then(|h| h.last()).cloned().unwrap_or_default();
    assert_eq!(last_probe["kind"], "ok", "gateway section: {}", state["gateway"]);

    // A second round: the sessions are below the threshold now, so they are re-armed, not switched again.
    let rows_after: Vec<Value> = crossings.iter().map(|c| scratch.session_row(c.topic)).collect();
    let stderr = run_monitor(&scratch);
    let state = scratch.state_file();
    let records = state["switching"]["switches"].as_object().cloned().unwrap_or_default();
    assert!(records.values().all(|r| r["crossing_handled"] == json!(false)), "re-armed: {}\n{stderr}", state["switching"]);
    assert_eq!(provider.requests().iter().filter(|r| r.body_text().contains(HANDOFF_MARK)).count(), crossings.len(), "no second seed");
    for (c, after) in crossings.iter().zip(&rows_after) {
        assert_eq!(scratch.session_row(c.topic)["sessionStartedAt"], after["sessionStartedAt"], "no second reset of topic {}", c.topic);
    }
    assert_eq!(sends_to(&bot_api, FEED_TOPIC).len(), crossings.len(), "no second feed post");
    eprintln!("both monitor rounds took {:?}", started.elapsed());

    // The CLI topic fills up again under the same session id (2026.9 keeps it across a reset):
    // its second switch keeps the first memory, links both in one chain, and neither handoff
    // holds the other.
    let c = &crossings[0];
    let second_request = format!("Now add the CSV export to src/billing/export.rs (E2E-SECOND-REQUEST-{})", c.topic);
    scratch.openclaw(&["agent", "--session-key", &session_key(c.topic), "--message", &second_request, "--json"]);
    assert_eq!(scratch.session_row(c.topic)["sessionId"], json!(c.session_id), "OpenClaw 2026.9 keeps the session id");
    let dry = scratch.asm(&bin_dir.join("asm_session_manager"), &["--switch", &c.session_id[..10], "--dry-run"]);
    let dry_text = text(&dry.stdout);
    assert_eq!(dry.status.code(), Some(1), "inside the cooldown even a dry run says no: {dry_text}{}", text(&dry.stderr));
    assert!(text(&dry.stderr).contains("ASM_SWITCH_COOLDOWN"), "{}", text(&dry.stderr));
    let mut no_cooldown = scratch.asm_env();
    no_cooldown.push(("ASM_SWITCH_COOLDOWN".into(), "0".into()));
    let dry = Command::new(bin_dir.join("asm_session_manager"))
        .args(["--switch", &c.session_id[..10], "--dry-run"])
        .env_clear()
        .envs(no_cooldown)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let dry_text = text(&dry.stdout);
    assert_eq!(dry.status.code(), Some(0), "{dry_text}{}", text(&dry.stderr));
    assert!(dry_text.contains("reset [would run]") && dry_text.contains("seed [would run]") && dry_text.contains("sessions.reset"), "{dry_text}");
    assert!(!scratch.state().join(format!(".session_memory/{}.g1.json", c.session_id)).exists(), "a dry run writes no memory");
    let stderr = run_monitor(&scratch);
    assert!(stderr.contains("its next switch waits until"), "a second crossing inside ASM_SWITCH_COOLDOWN waits: {stderr}");
    assert!(!scratch.state().join(format!(".session_memory/{}.g1.json", c.session_id)).exists());
    run_monitor_with(&scratch, &[("ASM_SWITCH_COOLDOWN", "0")]);
    let dir = scratch.state().join(".session_memory");
    let read = |name: &str| -> Value { serde_json::from_slice(&std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))).unwrap() };
    let first = read(&format!("{}.g1.json", c.session_id));
    let second = read(&format!("{}.json", c.session_id));
    assert_eq!((second["generation"].as_u64(), second["previous_memory_id"].as_str()), (Some(2), Some(format!("{}.g1", c.session_id).as_str())), "{second}");
    assert_eq!(second["chain"], json!([format!("{}.g1", c.session_id)]));
    let (h1, h2) = (first["handoff"].as_str().unwrap(), second["handoff"].as_str().unwrap());
    assert!(h1.contains(&format!("E2E-FLOW-REQUEST-{}", c.topic)) && !h1.contains("E2E-SECOND-REQUEST"), "{h1}");
    assert!(h2.contains("E2E-SECOND-REQUEST") && !h2.contains(&format!("E2E-FLOW-REQUEST-{}", c.topic)), "the second handoff does not hold the first: {h2}");
    assert!(second["goal"].as_str().is_some_and(|g| g.contains("E2E-SECOND-REQUEST")), "the seeded handoff is not taken as the goal: {}", second["goal"]);
    let chain = scratch.asm(&bin_dir.join("asm_memory_manager"), &["--action", "chain", "--key", &session_key(c.topic), "--json"]);
    let chain: Value = serde_json::from_slice(&chain.stdout).unwrap_or_else(|e| panic!("chain: {e}: {}", text(&chain.stderr)));
    let ids: Vec<&str> = chain["chain"].as_array().unwrap().iter().map(|e| e["memory_id"].as_str().unwrap()).collect();
    assert_eq!(ids, [format!("{}.g1", c.session_id), format!("{}.g2", c.session_id)]);
    assert!(chain["chain"].as_array().unwrap().iter().all(|e| e["handed_via"] == "seed" && e["percent"].as_f64().is_some()), "{chain}");
}

/// What the user sees after the first round for one crossing session.
fn check_switched(scratch: &Scratch, provider: &MockServer, bot_api: &MockServer, state: &Value, c: &Crossing) {
    let marker = format!("E2E-FLOW-REQUEST-{}", c.topic);
    // The memory file holds the user's request and a handoff.
    let memory_path = scratch.state().join(format!(".session_memory/{}.json", c.session_id));
    let memory: Value = serde_json::from_slice(&std::fs::read(&memory_path).unwrap_or_else(|e| panic!("{}: {e}", memory_path.display()))).unwrap();
    let handoff = memory["handoff"].as_str().unwrap_or_default();
    assert!(handoff.starts_with(HANDOFF_MARK) && handoff.contains(&marker), "{handoff}");
    assert!(!memory.to_string().contains(GATEWAY_TOKEN) && !memory.to_string().contains(BOT_TOKEN));

    // sessions.reset, then the seed: the handoff reached the model and the counters are the seed's.
    let seeds = provider.requests().into_iter().filter(|r| r.body_text().contains(HANDOFF_MARK) && r.body_text().contains(&marker)).count();
    assert_eq!(seeds, 1, "one seeding turn for topic {} reached the model provider", c.topic);
    let after = scratch.session_row(c.topic);
    assert_eq!(after["totalTokens"].as_u64(), Some(SEED_PROMPT), "{after}");
    assert_ne!(after["sessionStartedAt"], c.before["sessionStartedAt"], "sessions.reset started a fresh session: {after}");
    assert!(sends_to(bot_api, c.topic).iter().any(|t| t.contains("E2E-SEED-ACK")), "the seed's reply was delivered to topic {}", c.topic);

    let record = &state["switching"]["switches"][format!("openclaw:{}", c.session_id)];
    let steps: Vec<(&str, &str)> = record["steps"].as_array().unwrap().iter().map(|s| (s["name"].as_str().unwrap(), s["state"].as_str().unwrap())).collect();
    assert_eq!(steps, [("extract", "done"), ("reset", "done"), ("seed", "done")], "{}", state["switching"]);
    assert!(record["finished_at"].is_string() && record["last_error"].is_null(), "{record}");
    assert_eq!(memory["injected_into"], json!(c.session_id), "the memory says where its handoff went");
}
