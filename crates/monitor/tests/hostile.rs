//! The reproducers of the attack run, as a user's machine would meet them, each against the
//! real binaries: links planted in the state dir, special files in a platform's store, a full
//! disk, secret shapes in a transcript, impossible usage numbers and an oversized config.
//! `make stress` runs the long kill loops and the fuzzing; these are the quick cases.

use asm_testkit::TempDir;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const SESSION: &str = "0b7f6a2e-3c1d-4e5f-8a9b-0c1d2e3f4a5b";

fn bin(tool: &str) -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_asm_monitor")).parent().unwrap().join(format!("asm_{tool}"))
}

fn env(home: &TempDir) -> Vec<(String, String)> {
    let path = |p: PathBuf| p.display().to_string();
    vec![
        ("HOME".into(), path(home.path().to_path_buf())),
        ("OPENCLAW_STATE_DIR".into(), path(home.join("state"))),
        ("PATH".into(), "/usr/bin:/bin".into()),
        ("ASM_NOTIFY_BACKEND".into(), "log".into()),
    ]
}

fn command(home: &TempDir, tool: &str, args: &[&str]) -> Command {
    let mut c = Command::new(bin(tool));
    c.args(args).env_clear().envs(env(home)).stdin(Stdio::null());
    c
}

/// Runs a tool; one that does not end within a minute is killed and the test fails (a hang
/// is what these cases used to cause).
fn run(home: &TempDir, tool: &str, args: &[&str]) -> Output {
    asm_testkit::output_within(&mut command(home, tool, args), Duration::from_secs(60)).unwrap_or_else(|| panic!("asm_{tool} {args:?} hung"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A Claude Code session whose user message carries `message`, with `usage` on its answer.
fn claude_session(home: &TempDir, id: &str, message: &str, usage: &str) -> PathBuf {
    let project = home.join(".claude/projects/-w");
    std::fs::create_dir_all(&project).unwrap();
    let message = serde_json::Value::from(message).to_string();
    let lines = [
        format!(r#"{{"type":"user","sessionId":"{id}","cwd":"/w","uuid":"u1","message":{{"role":"user","content":{message}}}}}"#),
        format!(
            r#"{{"type":"assistant","sessionId":"{id}","cwd":"/w","uuid":"a1","parentUuid":"u1","message":{{"id":"msg_1","role":"assistant","model":"claude-sonnet-4-5","content":[{{"type":"text","text":"We decided to keep the reader streaming."}}],"usage":{usage}}}}}"#
        ),
    ];
    let path = project.join(format!("{id}.jsonl"));
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

const USAGE_85: &str = r#"{"input_tokens":100,"cache_creation_input_tokens":0,"cache_read_input_tokens":170000,"output_tokens":5}"#;

fn precious(home: &TempDir) -> PathBuf {
    let target = home.join("precious.txt");
    std::fs::write(&target, "precious").unwrap();
    target
}

#[test]
fn writes_never_follow_links_planted_in_the_state_dir() {
    let home = TempDir::new("hostile-links");
    let state = home.join("state");
    std::fs::create_dir_all(state.join("logs")).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o755)).unwrap();
    let target = precious(&home);

    // The pid file: the monitor refuses to start, the target is not truncated.
    symlink(&target, state.join(".asm_monitor.pid")).unwrap();
    let out = run(&home, "monitor", &["--once"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains(".asm_monitor.pid") && err.contains("symbolic link"), "{err}");
    std::fs::remove_file(state.join(".asm_monitor.pid")).unwrap();

    // The outbox and a log file: the message and the log lines do not reach the target.
    symlink(&target, state.join(".asm_outbox.jsonl")).unwrap();
    symlink(&target, state.join("logs/asm_health_check.log")).unwrap();
    let out = run(&home, "health_check", &["--notify-test", "--text", "must not land in the target"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("symbolic link"), "{}", text(&out.stdout));
    std::fs::remove_file(state.join(".asm_outbox.jsonl")).unwrap();

    // The whole logs/ dir pointing elsewhere.
    let elsewhere = home.join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::remove_file(state.join("logs/asm_health_check.log")).unwrap();
    std::fs::remove_dir(state.join("logs")).unwrap();
    symlink(&elsewhere, state.join("logs")).unwrap();
    let out = run(&home, "session_manager", &["--list"]);
    assert!(out.status.success());
    assert!(text(&out.stderr).contains("symbolic link"), "says why it logs to stderr only: {}", text(&out.stderr));
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0, "no log written through the link");

    // .session_memory pointing at a shared 0755 dir.
    let shared = home.join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o755)).unwrap();
    symlink(&shared, state.join(".session_memory")).unwrap();
    claude_session(&home, SESSION, "split the parser", USAGE_85);
    let out = run(&home, "memory_manager", &["--action", "extract", "--session-id", SESSION]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("symbolic link"), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_dir(&shared).unwrap().count(), 0);
    assert_eq!(std::fs::metadata(&shared).unwrap().permissions().mode() & 0o777, 0o755, "not chmodded");

    assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious", "the target never changed");
    assert_eq!(std::fs::metadata(&state).unwrap().permissions().mode() & 0o777, 0o755, "the state dir keeps its mode");
}

#[test]
fn special_files_in_a_store_are_skipped_and_counted_never_waited_on() {
    let home = TempDir::new("hostile-special");
    let project = home.join(".claude/projects/-w");
    std::fs::create_dir_all(&project).unwrap();
    nix::unistd::mkfifo(&project.join("11111111-2222-4333-8444-555555555555.jsonl"), nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    symlink("/dev/zero", project.join("22222222-2222-4333-8444-555555555555.jsonl")).unwrap();
    let looped = project.join("33333333-2222-4333-8444-555555555555.jsonl");
    symlink(&looped, &looped).unwrap();
    claude_session(&home, SESSION, "split the parser", USAGE_85);
    let out = run(&home, "session_manager", &["--list", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = doc["sessions"].as_array().unwrap().iter().map(|s| s["session_id"].as_str().unwrap()).collect();
    assert_eq!(ids, [SESSION], "only the real transcript is a session");
    assert_eq!(doc["errors"].as_array().unwrap().len(), 3, "the other three are counted: {}", doc["errors"]);
    let out = run(&home, "memory_manager", &["--action", "extract", "--session-id", "22222222"]);
    assert_eq!(out.status.code(), Some(1), "no session to read forever: {}", text(&out.stderr));
}

/// `sh -c 'trap "" XFSZ; ulimit -f N; exec …'`: every write past N KiB fails with EFBIG, as on
/// a full disk (RLIMIT_FSIZE, which needs no root).
fn with_file_size_limit(home: &TempDir, tool: &str, args: &[&str], kib: u32) -> Command {
    let mut sh = Command::new("sh");
    sh.arg("-c").arg(format!("trap '' XFSZ; ulimit -f {kib}; exec \"$0\" \"$@\"")).arg(bin(tool)).args(args).env_clear().envs(env(home)).stdin(Stdio::null());
    sh
}

#[test]
fn the_monitor_survives_a_full_disk_and_says_so() {
    let home = TempDir::new("hostile-full");
    std::fs::create_dir_all(home.join("state")).unwrap();
    // A state file bigger than the limit already: every rewrite of it fails.
    let ballast: String = "x".repeat(8 * 1024);
    std::fs::write(home.join("state/.asm_state.json"), serde_json::json!({"schema_version": 1, "other": {"pad": ballast}}).to_string()).unwrap();
    let out = with_file_size_limit(&home, "monitor", &["--once"], 4).output().unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "a problem, not a crash: {stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("problem: state: ") && stdout.starts_with("0 sessions"), "{stdout}");

    // A foreground monitor keeps going round after round.
    let mut child = with_file_size_limit(&home, "monitor", &["--mode", "foreground", "--interval", "1"], 4).stderr(Stdio::piped()).spawn().unwrap();
    let started = Instant::now();
    let mut log = String::new();
    let mut stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        let _ = tx.send(s);
    });
    while started.elapsed() < Duration::from_secs(6) {
        std::thread::sleep(Duration::from_millis(200));
    }
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = child.wait().unwrap();
    if let Ok(s) = rx.recv_timeout(Duration::from_secs(10)) {
        log = s;
    }
    assert!(status.success(), "{log}");
    assert!(log.matches("round: ").count() >= 2, "rounds went on: {log}");
    assert!(log.contains("cannot record in the state file"), "{log}");
}

#[test]
fn secret_shapes_never_reach_the_memory_the_handoff_or_the_state() {
    let home = TempDir::new("hostile-secrets");
    let message = "deploy with https://bob:SEC/RET@example.com and MY_TOKEN_sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123 \
                   -----BEGIN PGP PRIVATE KEY BLOCK-----\nlQOYBGQxSECRETARMOR\n-----END PGP PRIVATE KEY BLOCK-----";
    claude_session(&home, SESSION, message, USAGE_85);
    let out = run(&home, "memory_manager", &["--action", "extract", "--session-id", SESSION]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let handoff = run(&home, "memory_manager", &["--action", "handoff", "--session-id", SESSION]);
    let mut everything = text(&handoff.stdout);
    everything.push_str(&std::fs::read_to_string(home.join(format!("state/.session_memory/{SESSION}.json"))).unwrap());
    assert!(everything.contains("[REDACTED]"), "{everything}");
    for secret in ["SEC/RET", "abcdefghijklmnopqrstuvwxyz0123", "lQOYBGQxSECRETARMOR"] {
        assert!(!everything.contains(secret), "{secret} leaked: {everything}");
    }

    // A restart command's output quoted in a notice: the state keeps no copy of it.
    let out = run(&home, "health_check", &["--notify-test", "--text", "restart said: Authorization: Bearer abcdef0123456789abcdef"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let state = std::fs::read_to_string(home.join("state/.asm_state.json")).unwrap();
    assert!(!state.contains("abcdef0123456789abcdef"), "{state}");
}

#[test]
fn impossible_usage_is_doubtful_and_never_acted_on() {
    let home = TempDir::new("hostile-usage");
    claude_session(&home, SESSION, "split the parser", r#"{"input_tokens":18446744073709551615,"output_tokens":5}"#);
    let list = run(&home, "session_manager", &["--list"]);
    assert!(text(&list.stdout).contains("doubtful"), "{}", text(&list.stdout));
    let out = run(&home, "monitor", &["--once"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("1 sessions, 0 over 80%"), "{}", text(&out.stdout));
    assert!(!home.join(format!("state/.session_memory/{SESSION}.json")).exists());
}

#[test]
fn an_oversized_openclaw_config_is_refused_with_a_clear_error() {
    let home = TempDir::new("hostile-config");
    std::fs::create_dir_all(home.join("state")).unwrap();
    let file = std::fs::File::create(home.join("state/openclaw.json")).unwrap();
    file.set_len(100 * 1024 * 1024).unwrap();
    let out = run(&home, "health_check", &["--json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let check = doc["checks"].as_array().unwrap().iter().find(|c| c["name"] == "openclaw config").cloned().unwrap();
    let reason = check["reason"].as_str().unwrap();
    assert_eq!(check["status"], "warn");
    assert!(reason.contains("openclaw.json is 104857600 bytes, more than the 4194304 a config file may have; not read"), "{reason}");
}
