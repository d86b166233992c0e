//! Drop-in install: `scripts/install.sh` into a temporary OPENCLAW_STATE_DIR, then every
//! launcher run both ways (`scripts/x.py …` and `python3 scripts/x.py …`), the monitor once,
//! and the daemon: visible as asm_monitor, stopped cleanly by SIGTERM, one at a time.

use asm_testkit::TempDir;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const TOOLS: [&str; 5] = ["monitor", "session_manager", "memory_manager", "gateway_monitor", "health_check"];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn bin_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_BIN_EXE_asm_monitor")).parent().unwrap().to_path_buf();
    for t in TOOLS {
        assert!(dir.join(format!("asm_{t}")).exists(), "asm_{t} is not built in {}: run `cargo test --workspace`", dir.display());
    }
    dir
}

struct Installed {
    _tmp: TempDir,
    home: PathBuf,
    state: PathBuf,
}

impl Installed {
    fn new() -> Installed {
        let tmp = TempDir::new("install");
        let home = tmp.join("home");
        let state = tmp.join("state");
        std::fs::create_dir_all(&home).unwrap();
        let out = Command::new(repo().join("scripts/install.sh"))
            .args(["--bin-dir", bin_dir().to_str().unwrap()])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &home)
            .env("OPENCLAW_STATE_DIR", &state)
            .output()
            .unwrap();
        assert!(out.status.success(), "install failed: {}", String::from_utf8_lossy(&out.stderr));
        Installed { _tmp: tmp, home, state }
    }

    fn scripts(&self) -> PathBuf {
        self.state.join("skills/auto-session-manager/scripts")
    }

    fn cmd(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(program);
        c.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("OPENCLAW_STATE_DIR", &self.state)
            .env("ASM_NOTIFY_BACKEND", "log");
        c
    }

    /// Runs a launcher directly (`scripts/x.py …`) and through python3 (`python3 scripts/x.py …`).
    fn both_ways(&self, tool: &str, args: &[&str]) -> [Output; 2] {
        let launcher = self.scripts().join(format!("{tool}.py"));
        let direct = self.cmd(&launcher).args(args).output().unwrap();
        let via_python = self.cmd("python3").arg(&launcher).args(args).output().unwrap();
        [direct, via_python]
    }
}

#[test]
fn install_lays_out_the_skill_folder() {
    let i = Installed::new();
    let skill = i.state.join("skills/auto-session-manager");
    for f in ["SKILL.md", "references/context-management.md", "references/session-flow.md", "references/failure-recovery.md", "references/protocol.md"] {
        assert!(skill.join(f).is_file(), "{f} missing");
    }
    for t in TOOLS {
        assert!(i.scripts().join(format!("{t}.py")).is_file());
        assert!(i.scripts().join(format!("asm_{t}")).is_file());
    }
}

#[test]
fn every_launcher_works_both_ways_with_help_and_version() {
    let i = Installed::new();
    for t in TOOLS {
        for out in i.both_ways(t, &["--version"]) {
            assert!(out.status.success(), "{t} --version: {}", String::from_utf8_lossy(&out.stderr));
            assert!(String::from_utf8_lossy(&out.stdout).starts_with(t), "{t}: {}", String::from_utf8_lossy(&out.stdout));
        }
        for out in i.both_ways(t, &["--help"]) {
            assert!(out.status.success());
            assert!(String::from_utf8_lossy(&out.stdout).contains("Usage:"));
        }
    }
}

#[test]
fn exit_codes_pass_through_the_launchers() {
    let i = Installed::new();
    for out in i.both_ways("session_manager", &["--no-such-flag"]) {
        assert_eq!(out.status.code(), Some(2), "usage errors are exit 2");
    }
    for out in i.both_ways("health_check", &["--json"]) {
        assert!(out.status.code() == Some(0) || out.status.code() == Some(1));
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document on stdout");
        assert_eq!(doc["paths"]["state_dir"], i.state.display().to_string());
    }
}

#[test]
fn reinstall_upgrades_in_place_and_keeps_state_and_memory() {
    let i = Installed::new();
    let memory = i.state.join(".session_memory");
    std::fs::create_dir_all(&memory).unwrap();
    std::fs::write(memory.join("abc.json"), "{}").unwrap();
    std::fs::write(i.state.join(".asm_state.json"), "{\"schema_version\":1,\"quota\":{\"paused\":true}}").unwrap();
    let out = i.cmd(repo().join("scripts/install.sh")).args(["--bin-dir", bin_dir().to_str().unwrap()]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(std::fs::read_to_string(memory.join("abc.json")).unwrap(), "{}");
    assert!(std::fs::read_to_string(i.state.join(".asm_state.json")).unwrap().contains("paused"));
    let out = i.cmd(repo().join("scripts/install.sh")).arg("--uninstall").output().unwrap();
    assert!(out.status.success());
    assert!(!i.state.join("skills/auto-session-manager").exists());
    assert!(memory.join("abc.json").exists(), "uninstall keeps memory files");
}

#[test]
fn monitor_once_runs_through_the_launcher_and_records_its_tick() {
    let i = Installed::new();
    let out = i.cmd(i.scripts().join("monitor.py")).args(["--mode", "foreground", "--once", "--interval", "60"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let state: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(i.state.join(".asm_state.json")).unwrap()).unwrap();
    assert!(state["monitor"]["last_tick"].is_string(), "{state}");
    assert!(state["monitor"]["steps"]["sessions"].is_object(), "{state}");
    assert!(i.state.join("logs/asm_monitor.log").is_file());
}

fn wait_for(mut cond: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn daemon_shows_as_asm_monitor_refuses_a_twin_and_stops_on_sigterm() {
    let i = Installed::new();
    let out = i.cmd(i.scripts().join("monitor.py")).args(["--mode", "daemon", "--interval", "60"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let pid_file = i.state.join(".asm_monitor.pid");
    let mut pid = 0;
    wait_for(
        || {
            pid = std::fs::read_to_string(&pid_file).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0);
            pid > 0 && std::fs::read_to_string(format!("/proc/{pid}/cmdline")).is_ok()
        },
        "the daemon's pid file",
    );
    let cmdline = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap().replace('\0', " ");
    assert!(cmdline.contains("asm_monitor"), "ps would show: {cmdline}");
    let ps = Command::new("ps").args(["-o", "args=", "-p", &pid.to_string()]).output().unwrap();
    assert!(String::from_utf8_lossy(&ps.stdout).contains("asm_monitor"));

    let twin = i.cmd(i.scripts().join("monitor.py")).args(["--mode", "daemon"]).output().unwrap();
    assert_eq!(twin.status.code(), Some(1), "a second monitor is refused");
    assert!(String::from_utf8_lossy(&twin.stderr).contains("already running"));

    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGTERM).unwrap();
    wait_for(|| !Path::new(&format!("/proc/{pid}")).exists(), "the daemon to stop on SIGTERM");
    let log = std::fs::read_to_string(i.state.join("logs/asm_monitor.log")).unwrap();
    assert!(log.contains("monitor stopped"), "{log}");
}
