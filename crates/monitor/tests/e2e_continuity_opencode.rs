//! End to end, OpenCode continuity with the real `opencode` (on PATH, see `make e2e`) offline
//! against a loopback OpenAI-compatible mock, nothing edited by hand after the install:
//!
//! 1. `scripts/install.sh` installs the skill and ASM's plugin into OpenCode's global plugin
//!    folder;
//! 2. a session over the threshold → `monitor --once` switches it; the next `opencode run` in
//!    that project carries the handoff to the model, once;
//! 3. with `opencode serve` running, `session_manager --switch <prefix>` creates a continuation
//!    session whose first message is the handoff; the platform summary (of a fork) leaves the
//!    original session as it was (`opencode export` byte-identical);
//! 4. OpenCode's own compaction (through serve) runs ASM's extraction first, and the compacted
//!    session's next request carries the saved key information.

use asm_core::http::{basic_auth, Http, Route};
use asm_testkit::openai::OpenaiMock;
use asm_testkit::TempDir;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PASSWORD: &str = "e2e-server-pw";

fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_asm_monitor")).parent().unwrap().to_path_buf()
}

struct World {
    tmp: TempDir,
    mock: OpenaiMock,
    opencode: PathBuf,
    serve: Option<Child>,
    serve_url: String,
}

impl Drop for World {
    fn drop(&mut self) {
        if let Some(child) = self.serve.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl World {
    fn p(&self, rel: &str) -> PathBuf {
        self.tmp.join(rel)
    }
    fn state(&self) -> PathBuf {
        self.p("state")
    }
    fn project(&self) -> PathBuf {
        self.p("project")
    }
    fn scripts(&self) -> PathBuf {
        self.state().join("skills/auto-session-manager/scripts")
    }

    fn command(&self, program: &Path) -> Command {
        let mut c = Command::new(program);
        c.env_clear()
            .env("HOME", self.p("home"))
            .env("XDG_DATA_HOME", self.p("home/.local/share"))
            .env("XDG_CONFIG_HOME", self.p("home/.config"))
            .env("XDG_CACHE_HOME", self.p("home/.cache"))
            .env("XDG_STATE_HOME", self.p("home/.local/state"))
            .env("OPENCLAW_STATE_DIR", self.state())
            .env("OPENCODE_DISABLE_AUTOUPDATE", "1")
            .env("OPENCODE_DISABLE_MODELS_FETCH", "1")
            .env("OPENCODE_DISABLE_LSP_DOWNLOAD", "1")
            .env("OPENCODE_DISABLE_DEFAULT_PLUGINS", "1")
            .env("OPENCODE_DISABLE_SHARE", "1")
            .env("OPENCODE_SERVER_PASSWORD", PASSWORD)
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("ASM_NOTIFY_BACKEND", "log")
            .env("ASM_OPENCODE_URL", &self.serve_url);
        c
    }

    /// `opencode run <prompt>` in the project; the session id it used.
    fn run(&self, prompt: &str, extra: &[&str]) -> String {
        let out = self.command(&self.opencode).current_dir(self.project()).args(["run", "--format", "json"]).args(extra).arg(prompt).output().unwrap();
        assert!(out.status.success(), "opencode run {prompt:?}: {}\n{}", text(&out.stdout), text(&out.stderr));
        text(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find_map(|e| e["sessionID"].as_str().map(str::to_string))
            .expect("a sessionID in the run events")
    }

    fn memory(&self, id: &str) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.state().join(format!(".session_memory/{id}.json"))).unwrap()).unwrap()
    }

    fn export_hash(&self, id: &str) -> String {
        let out = self.command(&self.opencode).current_dir(self.project()).args(["export", id]).output().unwrap();
        assert!(out.status.success(), "opencode export: {}", text(&out.stderr));
        Sha256::digest(&out.stdout).iter().map(|b| format!("{b:02x}")).collect()
    }

    fn start_serve(&mut self) {
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap();
        self.serve_url = format!("http://127.0.0.1:{port}");
        let child = self
            .command(&self.opencode)
            .current_dir(self.project())
            .args(["serve", "--port", &port.to_string(), "--hostname", "127.0.0.1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.serve = Some(child);
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if self.serve_get("/global/health").is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!("opencode serve did not answer on {}", self.serve_url);
    }

    fn serve_get(&self, path: &str) -> Option<Value> {
        let http = Http::new(Duration::from_secs(2), Duration::from_secs(10), Route::Direct);
        let auth = basic_auth("opencode", PASSWORD);
        http.get(&format!("{}{path}", self.serve_url), &[("Authorization", auth.as_str())]).ok().filter(|a| a.is_success()).and_then(|a| a.json())
    }

    fn serve_post(&self, path: &str, body: &Value) -> Value {
        let http = Http::new(Duration::from_secs(2), Duration::from_secs(120), Route::Direct);
        let auth = basic_auth("opencode", PASSWORD);
        let answer = http.post_json(&format!("{}{path}", self.serve_url), &[("Authorization", auth.as_str())], body).unwrap();
        assert!(answer.is_success(), "POST {path}: {}", answer.status);
        answer.json().unwrap_or_default()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
#[ignore = "e2e: run with make e2e"]
fn opencode_sessions_hand_over_to_the_next_session_and_to_a_continuation_through_serve() {
    let opencode = asm_core::proc::which("opencode", std::env::var("PATH").ok().as_deref()).expect("opencode is not on PATH: run `make e2e`");
    let free = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap();
    let mut world = World {
        tmp: TempDir::new("e2e-oc-continuity"),
        mock: OpenaiMock::start(180_000),
        opencode,
        serve: None,
        serve_url: format!("http://127.0.0.1:{free}"),
    };
    std::fs::create_dir_all(world.project()).unwrap();
    std::fs::create_dir_all(world.p("home/.config/opencode")).unwrap();
    std::fs::write(world.p("home/.config/opencode/opencode.json"), world.mock.opencode_config().to_string()).unwrap();

    // 1. The install puts ASM's plugin where OpenCode 1.18.33 loads global plugins.
    let install = world.command(&asm_testkit::repo_root().join("scripts/install.sh")).args(["--bin-dir", bin_dir().to_str().unwrap()]).output().unwrap();
    assert!(install.status.success(), "install: {}\n{}", text(&install.stdout), text(&install.stderr));
    let plugin = world.p("home/.config/opencode/plugin/asm-auto-session-manager.js");
    assert!(std::fs::read_to_string(&plugin).unwrap().contains("asm_memory_manager"), "the plugin is installed with ASM's command");

    // 2. A session at 90 %: the monitor switches it; the next session in the project gets the handoff, once.
    let first = world.run("build the CSV importer", &[]);
    let monitor = world.command(&world.scripts().join("asm_monitor")).arg("--once").output().unwrap();
    assert!(monitor.status.success(), "{}\n{}", text(&monitor.stdout), text(&monitor.stderr));
    let memory = world.memory(&first);
    assert_eq!(memory["origin"], "switch", "monitor: {}\n{memory}", text(&monitor.stderr));
    let marker = format!("(asm-handoff {first}.g1)");
    world.mock.set_prompt_tokens(3_000);
    let before = world.mock.requests().len();
    let second = world.run("carry on with the importer", &[]);
    let carried = world.mock.requests()[before..].iter().filter(|b| b.to_string().contains(&marker)).count();
    assert_eq!(carried, 1, "the new session's first main request carries the handoff");
    assert_eq!(world.memory(&first)["injected_into"], second.as_str());
    world.run("one more new session", &[]);
    assert_eq!(world.mock.requests().iter().filter(|b| b.to_string().contains(&marker)).count(), 1, "given once");

    // 3. With opencode serve: a continuation session, and a summary of a copy.
    world.start_serve();
    world.mock.set_prompt_tokens(180_000);
    let third = world.run("refactor the parser", &[]);
    let hash = world.export_hash(&third);
    let dry = world.command(&world.scripts().join("asm_session_manager")).args(["--switch", &third[..12], "--dry-run"]).output().unwrap();
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry.stderr));
    assert!(text(&dry.stdout).contains("continuation [would run]"), "{}", text(&dry.stdout));
    assert!(!world.state().join(format!(".session_memory/{third}.json")).exists(), "a dry run writes no memory");
    let switched = world
        .command(&world.scripts().join("asm_session_manager"))
        .args(["--switch", &third[..16], "--json"])
        .env("ASM_SUMMARY_MODE", "platform")
        .output()
        .unwrap();
    assert_eq!(switched.status.code(), Some(0), "{}\n{}", text(&switched.stdout), text(&switched.stderr));
    let report: Value = serde_json::from_slice(&switched.stdout).unwrap();
    let continuation = report["handed_to"].as_str().unwrap_or_else(|| panic!("a continuation session: {report}")).to_string();
    let messages = world.serve_get(&format!("/session/{continuation}/message")).expect("the continuation's messages");
    let first_text = messages[0]["parts"][0]["text"].as_str().unwrap_or_default();
    assert!(first_text.contains(&format!("(asm-handoff {third}.g1)")), "the first message is the handoff: {first_text}");
    assert_eq!(world.export_hash(&third), hash, "the summary was asked of a fork: the session is as it was");
    let memory = world.memory(&third);
    assert_eq!(memory["summary"]["source"], "platform", "{}", memory["summary"]);
    assert_eq!((memory["handed_via"].as_str(), memory["injected_into"].as_str()), (Some("continuation"), Some(continuation.as_str())));

    // 4. OpenCode compacts the second session: ASM extracts first, the next request gets the key information.
    let compact = world.serve_post(&format!("/session/{second}/summarize"), &serde_json::json!({"providerID": "mock", "modelID": "mock-model"}));
    assert_eq!(compact, Value::Bool(true));
    let saved = world.memory(&second);
    assert_eq!(saved["origin"], "pre_compact", "{saved}");
    let before = world.mock.requests().len();
    world.serve_post(
        &format!("/session/{second}/message"),
        &serde_json::json!({"model": {"providerID": "mock", "modelID": "mock-model"}, "parts": [{"type": "text", "text": "what now after the compaction"}]}),
    );
    let after: Vec<String> = world.mock.requests()[before..].iter().map(|b| b.to_string()).collect();
    assert!(after.iter().any(|b| b.contains("what this session knew just before it was compacted")), "the key information came back");
}
