//! End to end, Claude Code continuity with the real `claude` (on PATH, see `make e2e`) offline
//! against a loopback mock of the Anthropic API, and nothing edited by hand after the install:
//!
//! 1. `scripts/install.sh` installs the skill and merges ASM's hooks into the user's settings
//!    (their own settings and hook stay);
//! 2. a session over the threshold → `monitor --once` switches it;
//! 3. the next `claude -p` started in a *subdirectory* of the project carries the handoff to
//!    the model, once;
//! 4. `/compact` runs the PreCompact extraction, and the compacted session's next request
//!    carries the saved key information;
//! 5. `session_manager --switch <prefix>` with and without `--dry-run`; the platform summary
//!    (ASM_SUMMARY_MODE=platform) leaves the session's transcript byte-identical;
//! 6. `--remove-hooks` gives back the settings the user had.

use asm_testkit::anthropic::AnthropicMock;
use asm_testkit::TempDir;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const USER_SETTINGS: &str = r#"{
  "model": "sonnet",
  "hooks": {
    "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "true"}]}]
  }
}
"#;

fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_asm_monitor")).parent().unwrap().to_path_buf()
}

struct World {
    tmp: TempDir,
    mock: AnthropicMock,
    claude: PathBuf,
}

impl World {
    fn home(&self) -> PathBuf {
        self.tmp.join("home")
    }
    fn state(&self) -> PathBuf {
        self.tmp.join("state")
    }
    fn project(&self) -> PathBuf {
        self.tmp.join("project")
    }
    fn scripts(&self) -> PathBuf {
        self.state().join("skills/auto-session-manager/scripts")
    }
    fn settings(&self) -> PathBuf {
        self.home().join(".claude/settings.json")
    }

    fn command(&self, program: &Path) -> Command {
        let path = format!("{}:{}", self.claude.parent().unwrap().display(), std::env::var("PATH").unwrap_or_default());
        let mut c = Command::new(program);
        c.env_clear()
            .env("PATH", path)
            .env("HOME", self.home())
            .env("CLAUDE_CONFIG_DIR", self.home().join(".claude"))
            .env("OPENCLAW_STATE_DIR", self.state())
            .env("ANTHROPIC_BASE_URL", self.mock.url())
            .env("ANTHROPIC_API_KEY", "dummy-e2e-key")
            .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
            .env("DISABLE_AUTOUPDATER", "1")
            .env("ASM_NOTIFY_BACKEND", "log");
        c
    }

    /// `claude -p <prompt> [extra]` in `dir`; the session id of the result.
    fn claude(&self, dir: &Path, prompt: &str, extra: &[&str]) -> String {
        let out = self.command(&self.claude).current_dir(dir).args(["-p", prompt, "--output-format", "json"]).args(extra).output().unwrap();
        assert!(out.status.success(), "claude -p {prompt:?}: {}\n{}", text(&out.stdout), text(&out.stderr));
        let result: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("claude printed no JSON ({e}): {}", text(&out.stdout)));
        assert_eq!(result["is_error"], false, "{result}");
        result["session_id"].as_str().unwrap().to_string()
    }

    fn tool(&self, name: &str, args: &[&str]) -> Output {
        self.command(&self.scripts().join(format!("asm_{name}"))).args(args).output().unwrap()
    }

    fn memory(&self, id: &str) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.state().join(format!(".session_memory/{id}.json"))).unwrap()).unwrap()
    }

    fn transcript(&self, id: &str) -> PathBuf {
        let projects = self.home().join(".claude/projects");
        for dir in std::fs::read_dir(&projects).unwrap().flatten() {
            let path = dir.path().join(format!("{id}.jsonl"));
            if path.is_file() {
                return path;
            }
        }
        panic!("no transcript of {id} under {}", projects.display())
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn sha256(path: &Path) -> String {
    Sha256::digest(std::fs::read(path).unwrap()).iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
#[ignore = "e2e: run with make e2e"]
fn claude_code_sessions_hand_over_to_the_next_session_and_keep_their_key_information_through_compaction() {
    let claude = asm_core::proc::which("claude", std::env::var("PATH").ok().as_deref()).expect("claude is not on PATH: run `make e2e`");
    let world = World { tmp: TempDir::new("e2e-cc-continuity"), mock: AnthropicMock::start(170_000), claude };
    std::fs::create_dir_all(world.project().join(".git")).unwrap();
    std::fs::create_dir_all(world.project().join("sub")).unwrap();
    std::fs::create_dir_all(world.home().join(".claude")).unwrap();
    std::fs::write(world.settings(), USER_SETTINGS).unwrap();

    // 1. The install, as the README's first command runs it.
    let install = world.command(&asm_testkit::repo_root().join("scripts/install.sh")).args(["--bin-dir", bin_dir().to_str().unwrap()]).output().unwrap();
    assert!(install.status.success(), "install: {}\n{}", text(&install.stdout), text(&install.stderr));
    let settings: Value = serde_json::from_str(&std::fs::read_to_string(world.settings()).unwrap()).unwrap();
    assert_eq!(settings["model"], "sonnet");
    assert_eq!(settings["hooks"]["PreToolUse"][0]["hooks"][0]["command"], "true", "the user's own hook stays");
    assert!(settings["hooks"]["SessionStart"][0]["hooks"][0]["command"].as_str().unwrap().contains("asm_memory_manager --action hook --platform claude-code"));

    // 2. A session at 85 % of 200k; the monitor switches it.
    let first = world.claude(&world.project(), "build the invoice exporter", &[]);
    let monitor = world.command(&world.scripts().join("asm_monitor")).arg("--once").output().unwrap();
    assert!(monitor.status.success(), "{}\n{}", text(&monitor.stdout), text(&monitor.stderr));
    assert!(text(&monitor.stdout).starts_with("1 sessions, 1 over 80%, 1 switched"), "{}", text(&monitor.stdout));
    let memory = world.memory(&first);
    assert_eq!(memory["origin"], "switch", "{memory}");
    let marker = format!("(asm-handoff {first}.g1)");
    assert!(memory["handoff"].as_str().unwrap().contains(&marker));

    // 3. The next session, started in a subdirectory, carries the handoff to the model, once.
    world.mock.set_context(5_000);
    let before = world.mock.requests().len();
    let second = world.claude(&world.project().join("sub"), "carry on from where we were", &[]);
    let carried: Vec<Value> = world.mock.requests()[before..].iter().filter(|b| b.to_string().contains(&marker)).cloned().collect();
    assert_eq!(carried.len(), 1, "the first request of the new session carries the handoff");
    assert!(carried[0].to_string().contains("build the invoice exporter"));
    assert_eq!(world.memory(&first)["injected_into"], second.as_str());
    let third = world.claude(&world.project().join("sub"), "another new session", &[]);
    assert_eq!(world.mock.requests_mentioning(&marker), 1, "given once");
    assert_ne!(second, third);

    // 4. /compact: the PreCompact hook extracts, the compacted session gets the key information back.
    world.claude(&world.project().join("sub"), "/compact", &["--resume", &second]);
    let precompact = world.memory(&second);
    assert_eq!(precompact["origin"], "pre_compact", "{precompact}");
    let before = world.mock.requests().len();
    world.claude(&world.project().join("sub"), "what now after the compaction", &["--resume", &second]);
    let after: Vec<String> = world.mock.requests()[before..].iter().map(|b| b.to_string()).collect();
    assert!(after.iter().any(|b| b.contains("what this session knew just before it was compacted")), "the key information came back");

    // 5. A switch by hand, by prefix: a dry run runs nothing, then the real one.
    let prefix = &third[..12];
    let dry = world.tool("session_manager", &["--switch", prefix, "--dry-run"]);
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry.stderr));
    assert!(text(&dry.stdout).contains("next-session [would run]"));
    assert!(!world.state().join(format!(".session_memory/{third}.json")).exists(), "a dry run writes no memory");
    let transcript = world.transcript(&third);
    let hash = sha256(&transcript);
    let switched =
        world.command(&world.scripts().join("asm_session_manager")).args(["--switch", prefix, "--json"]).env("ASM_SUMMARY_MODE", "platform").output().unwrap();
    assert_eq!(switched.status.code(), Some(0), "{}\n{}", text(&switched.stdout), text(&switched.stderr));
    assert_eq!(sha256(&transcript), hash, "the platform summary was asked of a copy: the transcript is byte-identical");
    let memory = world.memory(&third);
    assert_eq!(memory["summary"]["source"], "platform", "{}", memory["summary"]);
    assert!(memory["platform_summary"]["text"].as_str().unwrap().contains("E2E-COMPACT-SUMMARY"));

    // 6. The hooks come out again; the user's settings are as they were.
    let removed = world.tool("session_manager", &["--remove-hooks"]);
    assert!(removed.status.success(), "{}", text(&removed.stderr));
    let now: Value = serde_json::from_str(&std::fs::read_to_string(world.settings()).unwrap()).unwrap();
    assert_eq!(now, serde_json::from_str::<Value>(USER_SETTINGS).unwrap());
}
