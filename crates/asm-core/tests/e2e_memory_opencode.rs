//! End-to-end: the real OpenCode (1.18.33) runs a turn offline against a loopback
//! OpenAI-compatible mock; ASM then extracts the session from OpenCode's real SQLite store with
//! ASM_SUMMARY_MODE=platform, which posts `/session/{id}/summarize` to a real `opencode serve`
//! (Basic auth); the summary the mock wrote must lead the memory. Needs `opencode` on PATH
//! (`make e2e` puts it there). Every process started is stopped by pid.

use asm_core::env::Env;
use asm_core::proc::{run, which, Cmd};
use asm_core::session::{Platform, SessionInfo, StoreKind, TranscriptRef};
use asm_core::Runtime;
use asm_testkit::{MockServer, Request, Response, TempDir};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SUMMARY_MARK: &str = "E2E-OC-SUMMARY keep src/lib.rs";

/// OpenAI-compatible chat completions, streamed; the summary request gets the marked summary.
fn mock_provider() -> MockServer {
    MockServer::start(|req: &Request| {
        if req.method == "GET" {
            return Response::json(200, &json!({"object":"list","data":[{"id":"mock-model","object":"model"}]}));
        }
        let body = req.body_text();
        let text = if body.contains("<conversation>") { format!("## Objective\n- {SUMMARY_MARK}") } else { "Hello from the e2e mock.".to_string() };
        let usage = json!({"prompt_tokens": 3000, "completion_tokens": 42, "total_tokens": 3042, "prompt_tokens_details": {"cached_tokens": 1000}});
        asm_testkit::openai::chat_stream(&text, &usage)
    })
}

struct Scratch {
    dir: TempDir,
    serve: Option<Child>,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(child) = self.serve.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Scratch {
    fn env(&self, extra: &[(&str, String)]) -> Vec<(String, String)> {
        let p = |rel: &str| self.dir.join(rel).display().to_string();
        let mut pairs: Vec<(String, String)> = vec![
            ("HOME".into(), p("home")),
            ("XDG_DATA_HOME".into(), p("home/.local/share")),
            ("XDG_CONFIG_HOME".into(), p("home/.config")),
            ("XDG_CACHE_HOME".into(), p("home/.cache")),
            ("XDG_STATE_HOME".into(), p("home/.local/state")),
            ("OPENCLAW_STATE_DIR".into(), p("state")),
            ("OPENCODE_DISABLE_AUTOUPDATE".into(), "1".into()),
            ("OPENCODE_DISABLE_MODELS_FETCH".into(), "1".into()),
            ("OPENCODE_DISABLE_LSP_DOWNLOAD".into(), "1".into()),
            ("OPENCODE_DISABLE_DEFAULT_PLUGINS".into(), "1".into()),
            ("OPENCODE_DISABLE_SHARE".into(), "1".into()),
            ("OPENCODE_SERVER_PASSWORD".into(), "e2e-server-pw".into()),
            ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
        ];
        pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
        pairs
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap()
}

fn wait_healthy(url: &str, deadline: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < deadline {
        let http = asm_core::http::Http::new(Duration::from_secs(2), Duration::from_secs(2), asm_core::http::Route::Direct);
        let auth = asm_core::http::basic_auth("opencode", "e2e-server-pw");
        let ok = http.get(&format!("{url}/global/health"), &[("Authorization", auth.as_str())]).is_ok_and(|a| a.is_success());
        if ok {
            return true;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    false
}

fn session_id_from_events(stdout: &str) -> Option<String> {
    stdout.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()).find_map(|e| e["sessionID"].as_str().map(str::to_string))
}

#[test]
#[ignore = "e2e: run with make e2e"]
fn real_opencode_session_and_serve_summarize() {
    let opencode = which("opencode", std::env::var("PATH").ok().as_deref()).expect("opencode is not on PATH: run `make e2e` (tests/e2e/install-tools.sh)");
    let provider = mock_provider();
    let mut scratch = Scratch { dir: TempDir::new("e2e-mem-oc"), serve: None };
    let project: PathBuf = scratch.dir.join("project");
    std::fs::create_dir_all(&project).unwrap();
    let config_dir = scratch.dir.join("home/.config/opencode");
    std::fs::create_dir_all(&config_dir).unwrap();
    let config = json!({
        "$schema": "https://opencode.ai/config.json",
        "provider": {"mock": {"npm": "@ai-sdk/openai-compatible", "name": "Mock", "options": {"baseURL": format!("{}/v1", provider.url()), "apiKey": "mock-key"},
            "models": {"mock-model": {"name": "Mock Model", "limit": {"context": 200000, "output": 8000}}}}},
        "model": "mock/mock-model", "small_model": "mock/mock-model", "autoupdate": false, "share": "disabled"
    });
    std::fs::write(config_dir.join("opencode.json"), config.to_string()).unwrap();

    let mut cmd =
        Cmd::new([opencode.to_str().unwrap(), "run", "--format", "json", "Please look at src/lib.rs"]).timeout(Duration::from_secs(180)).cwd(&project);
    for (k, v) in scratch.env(&[]) {
        cmd = cmd.env(k, v);
    }
    let out = run(&cmd).unwrap();
    assert!(out.success(), "opencode run: {}\n{}", out.describe(), out.stderr_text());
    let id = session_id_from_events(&out.stdout_text()).expect("a sessionID in the run events");

    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut serve = Command::new(&opencode);
    serve.args(["serve", "--port", &port.to_string(), "--hostname", "127.0.0.1"]).current_dir(&project).env_clear().stdout(Stdio::null()).stderr(Stdio::null());
    for (k, v) in scratch.env(&[]) {
        serve.env(k, v);
    }
    scratch.serve = Some(serve.spawn().expect("start opencode serve"));
    assert!(wait_healthy(&url, Duration::from_secs(60)), "opencode serve did not answer on {url}");

    let db = scratch.dir.join("home/.local/share/opencode/opencode.db");
    assert!(db.is_file(), "OpenCode wrote its database");
    let pairs = scratch.env(&[("ASM_SUMMARY_MODE", "platform".into()), ("ASM_OPENCODE_URL", url.clone()), ("ASM_SUMMARY_TIMEOUT", "120".into())]);
    let rt = Runtime::from_env(Env::from_pairs(pairs)).unwrap();
    let info = SessionInfo {
        cwd: Some(std::fs::canonicalize(&project).unwrap().display().to_string()),
        model: Some("mock/mock-model".into()),
        source: db.display().to_string(),
        transcript: Some(TranscriptRef::new(StoreKind::Sqlite, db.clone(), id.clone())),
        ..SessionInfo::bare(Platform::Opencode, id.clone())
    };
    let record = asm_core::memory::extract(&rt, &info).unwrap();
    assert_eq!(record.summary.fallback_reason, None, "summarize through opencode serve worked");
    assert_eq!(record.summary.source, "platform");
    assert!(record.sections.platform_summary.as_ref().unwrap().text.contains(SUMMARY_MARK), "{:?}", record.sections.platform_summary);
    // `opencode run` wraps an argument containing spaces in double quotes before sending it.
    assert_eq!(record.sections.goal.as_deref(), Some("\"Please look at src/lib.rs\""));
    assert!(record.handoff.find(SUMMARY_MARK).unwrap() < record.handoff.find("Please look at").unwrap());
    let stored = std::fs::read_to_string(rt.paths.memory_dir().join(format!("{id}.json"))).unwrap();
    assert!(!stored.contains("e2e-server-pw"));
}
