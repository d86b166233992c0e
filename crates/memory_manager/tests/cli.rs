//! asm_memory_manager as a user runs it: a temp HOME / XDG_DATA_HOME / OPENCLAW_STATE_DIR
//! holding fixture stores in the layouts the platform adapters read.
//!
//! The extract tests find their session through discovery (`asm_core::platform::find_session`),
//! as a user's run does; the others seed the memory store through the library and exercise the
//! binary on it.

use asm_core::env::Env;
use asm_core::memory;
use asm_core::session::{Platform, SessionInfo, StoreKind, TranscriptRef};
use asm_core::Runtime;
use asm_testkit::{fixtures_dir, TempDir};
use serde_json::{json, Value};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const CC_PROJECT: &str = "claude-code/projects/-tmp-fixture-project-demo";
const CC_TOOL_SESSION: &str = "ffa9427d-db56-443c-b8a2-7aaf5ba49ae3";
const CC_HOOK_SESSION: &str = "d18e4db7-efec-48bd-a24a-effb03c25a12";
const CC_CWD: &str = "/tmp/fixture-project/demo";
const OC_SESSION: &str = "ses_df4c7636affe5zEnkBDHC7yhTL";
const OCL_SESSION: &str = "cb7a4da0-b50a-4d69-942c-c0a531b7a1f6";
const OCL_KEY: &str = "agent:main:telegram:group:-1001234567890:topic:466";

/// A private world: HOME, XDG_DATA_HOME and OPENCLAW_STATE_DIR under one temp dir.
struct World {
    dir: TempDir,
}

impl World {
    fn new(tag: &str) -> World {
        let dir = TempDir::new(tag);
        for sub in ["home", "data", "state"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        World { dir }
    }

    fn home(&self) -> PathBuf {
        self.dir.join("home")
    }
    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }
    fn state(&self) -> PathBuf {
        self.dir.join("state")
    }

    fn env_pairs(&self) -> Vec<(String, String)> {
        vec![
            ("HOME".into(), self.home().display().to_string()),
            ("XDG_DATA_HOME".into(), self.data().display().to_string()),
            ("XDG_CONFIG_HOME".into(), self.dir.join("config").display().to_string()),
            ("OPENCLAW_STATE_DIR".into(), self.state().display().to_string()),
            ("PATH".into(), self.dir.join("no-bin").display().to_string()),
            ("ASM_LOG_LEVEL".into(), "warn".into()),
        ]
    }

    fn runtime(&self) -> Runtime {
        Runtime::from_env(Env::from_pairs(self.env_pairs())).unwrap()
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_asm_memory_manager"));
        cmd.env_clear()
            .envs(self.env_pairs())
            .args(args)
            .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(text.as_bytes()).unwrap();
        }
        child.wait_with_output().unwrap()
    }

    fn memory_dir(&self) -> PathBuf {
        self.state().join(".session_memory")
    }

    /// Claude Code: `$HOME/.claude/projects/<encoded-cwd>/<id>.jsonl`.
    fn with_claude_code(&self) -> PathBuf {
        let project = self.home().join(".claude/projects/-tmp-fixture-project-demo");
        asm_testkit::copy_tree(&fixtures_dir().join(CC_PROJECT), &project).unwrap();
        project
    }

    /// OpenCode: `$XDG_DATA_HOME/opencode/opencode.db`, a real database from the fixture dump.
    fn with_opencode(&self) -> PathBuf {
        let dir = self.data().join("opencode");
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("opencode.db");
        asm_testkit::opencode::fixture_db(&db);
        db
    }

    /// OpenClaw: `$OPENCLAW_STATE_DIR/agents/main/agent/openclaw-agent.sqlite` with the topic
    /// session's `session_nodes` row and its `transcript_events` (some rows zstd-compressed).
    fn with_openclaw(&self) -> PathBuf {
        let dir = self.state().join("agents/main/agent");
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("openclaw-agent.sqlite");
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(
            "CREATE TABLE session_nodes (session_key TEXT PRIMARY KEY, current_session_id TEXT, entry_json TEXT, status TEXT, label TEXT, display_name TEXT, \
               pinned_at INTEGER, archived_at INTEGER, last_interaction_at INTEGER, last_activity_at INTEGER, updated_at INTEGER, parent_session_key TEXT, \
               spawned_by TEXT, created_at INTEGER, created_via TEXT);
             CREATE TABLE transcript_events (session_id TEXT NOT NULL, seq INTEGER NOT NULL, event_json TEXT, created_at INTEGER, event_zstd BLOB, \
               event_utf8_bytes INTEGER, navigation_json TEXT, PRIMARY KEY (session_id, seq));",
        )
        .unwrap();
        let rows: Value =
            serde_json::from_str(&std::fs::read_to_string(fixtures_dir().join("openclaw/v2026.9.6/session_nodes.telegram-topic.json")).unwrap()).unwrap();
        let row = &rows[0];
        conn.execute(
            "INSERT INTO session_nodes (session_key, current_session_id, entry_json, status, display_name, last_interaction_at, last_activity_at, updated_at, created_at, created_via) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'channel')",
            rusqlite::params![
                row["session_key"].as_str(),
                row["current_session_id"].as_str(),
                row["entry_json(parsed)"].to_string(),
                row["status"].as_str(),
                row["display_name"].as_str(),
                row["last_interaction_at"].as_i64(),
                row["last_activity_at"].as_i64(),
                row["updated_at"].as_i64(),
                row["entry_json(parsed)"]["createdAt"].as_i64(),
            ],
        )
        .unwrap();
        let events = std::fs::read_to_string(fixtures_dir().join("openclaw/v2026.9.6/transcript_events.telegram-topic.jsonl")).unwrap();
        for (seq, line) in events.lines().filter(|l| !l.trim().is_empty()).enumerate() {
            let (text, blob) = if seq.is_multiple_of(2) { (None, Some(zstd::encode_all(line.as_bytes(), 3).unwrap())) } else { (Some(line.to_string()), None) };
            conn.execute(
                "INSERT INTO transcript_events (session_id, seq, event_json, created_at, event_zstd, event_utf8_bytes) VALUES (?1, ?2, ?3, 0, ?4, ?5)",
                rusqlite::params![OCL_SESSION, seq as i64, text, blob, line.len() as i64],
            )
            .unwrap();
        }
        db
    }

    /// Seeds the memory store through the library, as `--action extract` would.
    fn seed_claude_code(&self, id: &str) -> memory::MemoryRecord {
        let project = self.with_claude_code();
        let info = session(Platform::ClaudeCode, id, TranscriptRef::new(StoreKind::JsonlFile, project.join(format!("{id}.jsonl")), id));
        memory::extract(&self.runtime(), &info).unwrap()
    }

    fn seed_openclaw(&self) -> memory::MemoryRecord {
        let db = self.with_openclaw();
        let mut info = session(Platform::Openclaw, OCL_SESSION, TranscriptRef::new(StoreKind::Sqlite, db, OCL_SESSION));
        info.key = Some(OCL_KEY.into());
        memory::extract(&self.runtime(), &info).unwrap()
    }
}

fn session(platform: Platform, id: &str, transcript: TranscriptRef) -> SessionInfo {
    SessionInfo { transcript: Some(transcript), ..SessionInfo::bare(platform, id) }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}
fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
fn json_out(out: &Output) -> Value {
    assert!(out.status.success(), "exit {:?}: {}", out.status.code(), stderr(out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(out)))
}

fn assert_one_line_error(out: &Output, code: i32, needle: &str) {
    assert_eq!(out.status.code(), Some(code), "stdout: {} stderr: {}", stdout(out), stderr(out));
    let err = stderr(out);
    let line = err.lines().find(|l| l.starts_with("asm_memory_manager: error: ")).unwrap_or_else(|| panic!("no error line in {err:?}"));
    assert!(line.contains(needle), "{line}");
}

#[test]
fn list_is_empty_then_shows_memories_newest_first() {
    let w = World::new("cli-list");
    let out = w.run(&["--action", "list", "--json"], None);
    assert_eq!(json_out(&out)["count"], 0);
    w.seed_claude_code(CC_TOOL_SESSION);
    w.seed_openclaw();
    let doc = json_out(&w.run(&["--action", "list", "--json"], None));
    assert_eq!(doc["count"], 2);
    assert_eq!(doc["memories"][0]["session_id"], OCL_SESSION);
    assert_eq!(doc["memories"][0]["key"], OCL_KEY);
    assert_eq!(doc["memories"][1]["platform"], "claude-code");
    assert!(doc["memories"][1]["size_bytes"].as_u64().unwrap() > 100);
    let text = stdout(&w.run(&["--action", "list"], None));
    assert!(text.starts_with("SESSION") && text.contains(OCL_KEY) && text.contains(CC_CWD), "{text}");
}

#[test]
fn show_and_handoff_read_back_what_was_stored() {
    let w = World::new("cli-show");
    let record = w.seed_claude_code(CC_TOOL_SESSION);
    let doc = json_out(&w.run(&["--action", "show", "--session-id", CC_TOOL_SESSION, "--json"], None));
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["goal"], "RUN_TOOL: check the gateway health");
    assert_eq!(doc["handoff"], record.handoff);
    let text = stdout(&w.run(&["--action", "show", "--session-id", CC_TOOL_SESSION], None));
    assert!(text.contains("session      ffa9427d") && text.contains("# Handoff from Claude Code"), "{text}");
    let handoff = stdout(&w.run(&["--action", "handoff", "--session-id", CC_TOOL_SESSION], None));
    assert_eq!(handoff.trim_end(), record.handoff.trim_end());
    let by_prefix = stdout(&w.run(&["--action", "handoff", "--session-id", &CC_TOOL_SESSION[..8]], None));
    assert_eq!(by_prefix, handoff, "a unique prefix names the session");
    let missing = w.run(&["--action", "show", "--session-id", "0000"], None);
    assert_one_line_error(&missing, 1, "no memory stored for session 0000");
    let file = w.memory_dir().join(format!("{CC_TOOL_SESSION}.json"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(w.memory_dir()).unwrap().permissions().mode() & 0o777, 0o700);
}

#[test]
fn latest_by_key_and_by_cwd() {
    let w = World::new("cli-latest");
    w.seed_claude_code(CC_TOOL_SESSION);
    w.seed_claude_code(CC_HOOK_SESSION);
    w.seed_openclaw();
    let doc = json_out(&w.run(&["--action", "latest", "--key", OCL_KEY, "--json"], None));
    assert_eq!(doc["session_id"], OCL_SESSION);
    let doc = json_out(&w.run(&["--action", "latest", "--cwd", CC_CWD, "--json"], None));
    assert_eq!(doc["session_id"], CC_HOOK_SESSION);
    assert_eq!(doc["previous_session_id"], CC_TOOL_SESSION);
    let text = stdout(&w.run(&["--action", "latest", "--cwd", CC_CWD], None));
    assert!(text.starts_with("# Handoff from Claude Code session d18e4db7"), "{text}");
    assert_one_line_error(&w.run(&["--action", "latest", "--key", "agent:main:nope"], None), 1, "no memory stored for key");
    assert_one_line_error(&w.run(&["--action", "latest"], None), 2, "exactly one of --key KEY or --cwd DIR");
}

#[test]
fn prune_removes_only_old_memories() {
    let w = World::new("cli-prune");
    w.seed_claude_code(CC_TOOL_SESSION);
    w.seed_claude_code(CC_HOOK_SESSION);
    let file = w.memory_dir().join(format!("{CC_TOOL_SESSION}.json"));
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    doc["extracted_at"] = json!((chrono::Utc::now() - chrono::Duration::days(40)).to_rfc3339());
    std::fs::write(&file, doc.to_string()).unwrap();
    let report = json_out(&w.run(&["--action", "prune", "--older-than", "30", "--json"], None));
    assert_eq!(report["removed"], json!([CC_TOOL_SESSION]));
    assert_eq!(report["kept"], 1);
    assert!(!file.exists());
    assert_one_line_error(&w.run(&["--action", "prune"], None), 2, "--older-than DAYS");
}

#[test]
fn inject_gives_a_pending_handoff_once() {
    let w = World::new("cli-inject");
    let hook = std::fs::read_to_string(fixtures_dir().join("claude-code/hooks/SessionStart-startup.json")).unwrap();
    let out = w.run(&["--action", "inject", "--platform", "claude-code"], Some(&hook));
    assert!(out.status.success() && stdout(&out).is_empty(), "nothing pending: {}", stderr(&out));
    w.seed_claude_code(CC_TOOL_SESSION);
    let out = w.run(&["--action", "inject", "--platform", "claude-code"], Some(&hook));
    let doc = json_out(&out);
    assert_eq!(doc["hookSpecificOutput"]["hookEventName"], "SessionStart");
    let context = doc["hookSpecificOutput"]["additionalContext"].as_str().unwrap();
    assert!(context.contains("RUN_TOOL: check the gateway health") && context.contains(CC_TOOL_SESSION));
    let again = w.run(&["--action", "inject", "--platform", "claude-code"], Some(&hook));
    assert!(again.status.success() && stdout(&again).is_empty(), "given once only");
    // Exit 1, not 2: Claude Code reads a PreCompact hook's exit 2 as "block the compaction".
    assert_one_line_error(&w.run(&["--action", "hook", "--platform", "claude-code"], Some("garbage")), 1, "hook input is not the JSON");
    assert_one_line_error(&w.run(&["--action", "inject", "--platform", "openclaw"], Some(&hook)), 2, "takes no hooks from ASM");
}

#[test]
fn bad_session_ids_are_refused_with_exit_2() {
    let w = World::new("cli-bad-ids");
    for action in ["extract", "show", "handoff"] {
        for bad in ["../../etc/passwd", "a/b", ".hidden", "x y"] {
            let out = w.run(&["--action", action, "--session-id", bad], None);
            assert_one_line_error(&out, 2, "is not usable as a memory file name");
        }
        assert_one_line_error(&w.run(&["--action", action], None), 2, "needs --session-id ID");
    }
    assert!(!w.memory_dir().exists(), "nothing was created");
    assert_one_line_error(&w.run(&["--action", "show", "--session-id", "not-stored"], None), 1, "no memory stored for session not-stored");
}

#[test]
fn extract_of_an_unknown_session_fails_clearly() {
    let w = World::new("cli-unknown");
    w.with_claude_code();
    let out = w.run(&["--action", "extract", "--session-id", "00000000-0000-4000-8000-000000000000"], None);
    assert_one_line_error(&out, 1, "no session with id, id prefix or OpenClaw key \"00000000-0000-4000-8000-000000000000\" on any platform");
}

fn extract_json(w: &World, args: &[&str]) -> Value {
    let mut all = vec!["--action", "extract", "--json"];
    all.extend_from_slice(args);
    json_out(&w.run(&all, None))
}

#[test]
fn extract_claude_code_session_found_by_discovery() {
    let w = World::new("cli-x-cc");
    w.with_claude_code();
    let doc = extract_json(&w, &["--session-id", CC_TOOL_SESSION]);
    assert_eq!(doc["platform"], "claude-code");
    assert_eq!(doc["goal"], "RUN_TOOL: check the gateway health");
    assert_eq!(doc["cwd"], CC_CWD);
    assert_eq!(doc["summary"]["source"], "platform");
    assert!(w.memory_dir().join(format!("{CC_TOOL_SESSION}.json")).is_file());
    let text = stdout(&w.run(&["--action", "extract", "--session-id", CC_HOOK_SESSION, "--platform", "claude-code"], None));
    assert!(text.starts_with("Extracted Claude Code session d18e4db7"), "{text}");
    assert!(text.contains(&format!("continues {CC_TOOL_SESSION}")), "{text}");
}

#[test]
fn extract_opencode_session_found_by_discovery() {
    let w = World::new("cli-x-oc");
    w.with_opencode();
    let doc = extract_json(&w, &["--session-id", OC_SESSION, "--platform", "opencode"]);
    assert_eq!(doc["platform"], "opencode");
    assert_eq!(doc["user_requests"], json!(["hello", "second"]));
    assert!(doc["platform_summary"]["text"].as_str().unwrap().contains("## Objective"));
}

#[test]
fn extract_openclaw_session_by_id_and_by_key() {
    let w = World::new("cli-x-ocl");
    w.with_openclaw();
    let doc = extract_json(&w, &["--session-id", OCL_SESSION]);
    assert_eq!(doc["platform"], "openclaw");
    assert_eq!(doc["key"], OCL_KEY);
    assert_eq!(doc["latest_request"], "[manager] second injected message");
    let doc = extract_json(&w, &["--session-id", OCL_KEY, "--platform", "openclaw"]);
    assert_eq!(doc["session_id"], OCL_SESSION);
    let latest = json_out(&w.run(&["--action", "latest", "--key", OCL_KEY, "--json"], None));
    assert_eq!(latest["session_id"], OCL_SESSION);
}

#[test]
fn extract_twice_keeps_the_chain() {
    let w = World::new("cli-x-chain");
    w.with_claude_code();
    extract_json(&w, &["--session-id", CC_TOOL_SESSION]);
    let first = extract_json(&w, &["--session-id", CC_HOOK_SESSION]);
    assert_eq!(first["previous_session_id"], CC_TOOL_SESSION);
    let again = extract_json(&w, &["--session-id", CC_HOOK_SESSION]);
    assert_eq!(again["chain"], json!([format!("{CC_TOOL_SESSION}.g1")]));
    assert_eq!(again["first_extracted_at"], first["first_extracted_at"]);
}
