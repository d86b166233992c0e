//! End-to-end: a real OpenClaw gateway (2026.9.6, node 24) runs an agent turn offline against
//! a loopback OpenAI-compatible mock; ASM then extracts the session from OpenClaw's real
//! SQLite store with ASM_SUMMARY_MODE=platform, which runs
//! `openclaw gateway call sessions.compact`; the compaction summary must lead the memory.
//! Needs `openclaw` and `node` on PATH (`make e2e`). Every process started is killed by pid.

use asm_core::env::Env;
use asm_core::proc::{run, which, Cmd};
use asm_core::session::{Platform, SessionInfo, TranscriptRef};
use asm_core::Runtime;
use asm_testkit::{MockServer, Request, Response, TempDir};
use serde_json::{json, Value};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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

struct Scratch {
    dir: TempDir,
    port: u16,
    gateway: Option<Child>,
}

impl Scratch {
    fn env(&self) -> Vec<(String, String)> {
        let d = |p: &str| self.dir.join(p).display().to_string();
        [
            ("HOME", d("home")),
            ("OPENCLAW_STATE_DIR", d("state")),
            ("OPENCLAW_CONFIG_PATH", d("state/openclaw.json")),
            ("OPENCLAW_OFFLINE", "1".into()),
            ("OPENCLAW_NO_AUTO_UPDATE", "1".into()),
            ("OPENCLAW_DISABLE_BONJOUR", "1".into()),
            ("OPENCLAW_SKIP_CHANNELS", "1".into()),
            ("OPENCLAW_SKIP_CRON", "1".into()),
            ("OPENCLAW_GATEWAY_PORT", self.port.to_string()),
            ("OPENCLAW_GATEWAY_TOKEN", TOKEN.into()),
            ("NO_COLOR", "1".into()),
            ("PATH", std::env::var("PATH").unwrap_or_default()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    fn openclaw(&self, args: &[&str]) -> asm_core::proc::Output {
        let mut cmd = Cmd::new(std::iter::once("openclaw").chain(args.iter().copied())).timeout(Duration::from_secs(240)).cwd(self.dir.path());
        for (k, v) in self.env() {
            cmd = cmd.env(k, v);
        }
        run(&cmd).expect("run openclaw")
    }

    fn wait_ready(&self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            let ready = ureq::get(&format!("http://127.0.0.1:{}/readyz", self.port))
                .timeout(Duration::from_secs(3))
                .call()
                .ok()
                .and_then(|r| r.into_json::<Value>().ok())
                .is_some_and(|v| v["ready"] == json!(true));
            if ready {
                return true;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        false
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(child) = self.gateway.as_mut() {
            asm_core::proc::kill_group(child.id() as i32, libc::SIGKILL);
            let _ = child.wait();
        }
        // Workers the gateway spawned carry our scratch state dir in their environment.
        let marker = format!("OPENCLAW_STATE_DIR={}", self.dir.join("state").display());
        let Ok(procs) = std::fs::read_dir("/proc") else { return };
        for pid in procs.filter_map(Result::ok).filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok()) {
            let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            if environ.split(|b| *b == 0).any(|var| var == marker.as_bytes()) {
                asm_core::proc::signal_pid(pid, libc::SIGKILL);
            }
        }
    }
}

#[test]
#[ignore = "e2e: run with make e2e"]
fn real_openclaw_session_and_sessions_compact() {
    let path = std::env::var("PATH").ok();
    for tool in ["openclaw", "node"] {
        assert!(which(tool, path.as_deref()).is_some(), "{tool} is not on PATH: run `make e2e` (tests/e2e/install-tools.sh)");
    }
    let provider = mock_provider();
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap();
    let mut scratch = Scratch { dir: TempDir::new("e2e-mem-ocl"), port, gateway: None };
    std::fs::create_dir_all(scratch.dir.join("home")).unwrap();
    std::fs::create_dir_all(scratch.dir.join("state")).unwrap();
    let config = json!({
        "gateway": {"mode": "local", "port": port, "auth": {"token": TOKEN}},
        "models": {"mode": "replace", "providers": {"mock": {
            "baseUrl": format!("{}/v1", provider.url()), "api": "openai-completions", "apiKey": "mock-key",
            "models": [{"id": "mock-1", "name": "Mock 1", "contextWindow": 32000, "maxTokens": 4096}]
        }}},
        "agents": {"defaults": {"model": {"primary": "mock/mock-1"}}},
        "logging": {"file": scratch.dir.join("openclaw.log").display().to_string()}
    });
    std::fs::write(scratch.dir.join("state/openclaw.json"), config.to_string()).unwrap();
    let log = std::fs::File::create(scratch.dir.join("gateway.out")).unwrap();
    let gateway = Command::new("openclaw")
        .args(["gateway", "run", "--port", &port.to_string(), "--bind", "loopback"])
        .env_clear()
        .envs(scratch.env())
        .current_dir(scratch.dir.path())
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .process_group(0)
        .spawn()
        .expect("start the gateway");
    scratch.gateway = Some(gateway);
    assert!(scratch.wait_ready(Duration::from_secs(120)), "gateway not ready; see {}", scratch.dir.join("gateway.out").display());

    let out = scratch.openclaw(&["agent", "--session-key", KEY, "--message", "Please check src/main.rs and port 18789", "--json"]);
    assert!(out.success(), "openclaw agent: {}\n{}\n{}", out.describe(), out.stdout_text(), out.stderr_text());
    let answer: Value = serde_json::from_slice(&out.stdout).expect("agent JSON");
    let session_id = answer.pointer("/result/meta/agentMeta/sessionId").and_then(Value::as_str).expect("sessionId in the agent answer").to_string();
    let db = scratch.dir.join("state/agents/main/agent/openclaw-agent.sqlite");
    assert!(db.is_file());

    let mut pairs = scratch.env();
    pairs.push(("ASM_SUMMARY_MODE".into(), "platform".into()));
    pairs.push(("ASM_SUMMARY_TIMEOUT".into(), "180".into()));
    let rt = Runtime::from_env(Env::from_pairs(pairs)).unwrap();
    let info = SessionInfo {
        platform: Platform::Openclaw,
        session_id: session_id.clone(),
        key: Some(KEY.into()),
        title: None,
        cwd: None,
        model: Some("mock-1".into()),
        context_tokens: None,
        context_window: Some(32_000),
        context_percent: None,
        compact_at_tokens: None,
        estimated: false,
        live: None,
        updated_at: None,
        source: db.display().to_string(),
        children: vec![],
        transcript: Some(TranscriptRef::OpenclawSqlite { db, session_id: session_id.clone() }),
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
