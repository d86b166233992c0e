//! The one-shot hostile cases: links planted in the state dir, special files in a platform's
//! store, and a full disk.

use crate::{bin, env_of, Outcome};
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn run(home: &Path, tool: &str, args: &[&str]) -> Option<Output> {
    asm_testkit::output_within(Command::new(bin(tool)).args(args).env_clear().envs(env_of(home)), Duration::from_secs(60))
}

fn fresh(root: &Path, tag: &str) -> std::path::PathBuf {
    let home = root.join(tag);
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(home.join("state/logs")).ok();
    home
}

fn claude_session(home: &Path, id: &str) {
    let project = home.join(".claude/projects/-w");
    std::fs::create_dir_all(&project).ok();
    let lines = [
        format!(r#"{{"type":"user","sessionId":"{id}","cwd":"/w","uuid":"u1","message":{{"role":"user","content":"split the parser"}}}}"#),
        format!(
            r#"{{"type":"assistant","sessionId":"{id}","cwd":"/w","uuid":"a1","message":{{"id":"m","role":"assistant","model":"claude-sonnet-4-5","content":[{{"type":"text","text":"ok"}}],"usage":{{"input_tokens":100,"cache_read_input_tokens":170000,"output_tokens":5}}}}}}"#
        ),
    ];
    let _ = std::fs::write(project.join(format!("{id}.jsonl")), lines.join("\n") + "\n");
}

const SESSION: &str = "0b7f6a2e-3c1d-4e5f-8a9b-0c1d2e3f4a5b";

/// Each link planted where ASM writes: refused, and the target unchanged.
pub fn links(root: &Path) -> Outcome {
    let mut out = Outcome::new("planted links in the state dir");
    let cases: [(&str, &str, &[&str]); 4] = [
        (".asm_monitor.pid", "monitor", &["--once"]),
        (".asm_outbox.jsonl", "health_check", &["--notify-test"]),
        ("logs/asm_session_manager.log", "session_manager", &["--list"]),
        (".session_memory", "memory_manager", &["--action", "extract", "--session-id", SESSION]),
    ];
    for (planted, tool, args) in cases {
        let home = fresh(root, "links");
        std::fs::set_permissions(home.join("state"), std::fs::Permissions::from_mode(0o755)).ok();
        claude_session(&home, SESSION);
        let target = home.join("target");
        if planted == ".session_memory" {
            std::fs::create_dir(&target).ok();
        } else {
            std::fs::write(&target, "precious").ok();
        }
        symlink(&target, home.join("state").join(planted)).ok();
        let ran = run(&home, tool, args);
        let untouched = if target.is_dir() {
            std::fs::read_dir(&target).map(|d| d.count() == 0).unwrap_or(false)
        } else {
            std::fs::read_to_string(&target).ok().as_deref() == Some("precious")
        };
        let mode = std::fs::metadata(home.join("state")).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
        out.check(ran.is_some() && untouched && mode == 0o755, || format!("{planted}: written through the link, or the state dir chmodded ({mode:o})"));
    }
    let home = fresh(root, "links");
    std::fs::remove_dir(home.join("state/logs")).ok();
    std::fs::create_dir(home.join("elsewhere")).ok();
    symlink(home.join("elsewhere"), home.join("state/logs")).ok();
    let ran = run(&home, "session_manager", &["--list"]);
    let empty = std::fs::read_dir(home.join("elsewhere")).map(|d| d.count() == 0).unwrap_or(false);
    out.check(ran.is_some() && empty, || "logs/ -> elsewhere: a log written through the link".into());
    out.note = "pid file, outbox, log file, memory dir, logs dir; state dir mode kept".into();
    out
}

/// A FIFO, /dev/zero behind a link and a link loop among the transcripts: listed as errors,
/// never waited on.
pub fn special_files(root: &Path) -> Outcome {
    let mut out = Outcome::new("special files in a store");
    let home = fresh(root, "special");
    let project = home.join(".claude/projects/-w");
    std::fs::create_dir_all(&project).ok();
    let _ = nix::unistd::mkfifo(&project.join("11111111-2222-4333-8444-555555555555.jsonl"), nix::sys::stat::Mode::from_bits_truncate(0o600));
    symlink("/dev/zero", project.join("22222222-2222-4333-8444-555555555555.jsonl")).ok();
    let looped = project.join("33333333-2222-4333-8444-555555555555.jsonl");
    symlink(&looped, &looped).ok();
    claude_session(&home, SESSION);
    for (tool, args) in [
        ("session_manager", &["--list", "--json"][..]),
        ("monitor", &["--once"][..]),
        ("memory_manager", &["--action", "extract", "--session-id", "22222222"][..]),
    ] {
        let ran = run(&home, tool, args);
        let errors = ran.as_ref().and_then(|o| serde_json::from_slice::<serde_json::Value>(&o.stdout).ok()).map(|d| d["errors"].as_array().map_or(0, Vec::len));
        out.check(ran.is_some() && (tool != "session_manager" || errors == Some(3)), || format!("{tool}: hung or did not count the three ({errors:?})"));
    }
    out.note = "FIFO, /dev/zero link, link loop".into();
    out
}

/// A full disk: a 1 MiB tmpfs when `mount` works here, else RLIMIT_FSIZE (EFBIG).
pub fn full_disk(root: &Path) -> Outcome {
    let mut out = Outcome::new("full disk");
    let home = fresh(root, "full");
    claude_session(&home, SESSION);
    let mounted = Command::new("mount").args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"]).arg(home.join("state")).status().is_ok_and(|s| s.success());
    let fill = |home: &Path| {
        let ballast = home.join("state/ballast");
        let _ = std::fs::write(&ballast, vec![0u8; 2 * 1024 * 1024]);
    };
    let limited = |tool: &str, args: &[&str]| -> Option<Output> {
        let mut sh = Command::new("sh");
        let limit = if mounted { "" } else { "ulimit -f 4; " };
        sh.arg("-c").arg(format!("trap '' XFSZ; {limit}exec \"$0\" \"$@\"")).arg(bin(tool)).args(args).env_clear().envs(env_of(&home)).stdin(Stdio::null());
        sh.output().ok()
    };
    // A memory that exists before the disk fills must stay whole.
    let first = limited("memory_manager", &["--action", "extract", "--session-id", SESSION]);
    let memory = home.join(format!("state/.session_memory/{SESSION}.json"));
    let before = std::fs::read(&memory).ok();
    if mounted {
        fill(&home);
    } else {
        let ballast = "x".repeat(8 * 1024);
        let _ = std::fs::write(home.join("state/.asm_state.json"), serde_json::json!({"schema_version": 1, "pad": ballast}).to_string());
    }
    let monitor = limited("monitor", &["--once"]);
    let said = monitor.as_ref().map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
    out.check(monitor.as_ref().is_some_and(|o| o.status.code() == Some(1)) && said.contains("problem: state: "), || format!("monitor on a full disk: {said}"));
    let again = limited("memory_manager", &["--action", "extract", "--session-id", SESSION]);
    let after = std::fs::read(&memory).ok();
    out.check(
        first.is_some()
            && again.is_some()
            && (before.is_none() || after == before || after.as_ref().and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok()).is_some()),
        || "the memory file was torn".into(),
    );
    if mounted {
        let _ = Command::new("umount").arg(home.join("state")).status();
    }
    out.note = if mounted { "1 MiB tmpfs".into() } else { "RLIMIT_FSIZE 4 KiB (no tmpfs mount here)".into() };
    out
}
