//! Drop-in install: `scripts/install.sh` into a temporary OPENCLAW_STATE_DIR, then every
//! launcher run both ways (`scripts/x.py …` and `python3 scripts/x.py …`), the monitor once,
//! and the daemon: visible as asm_monitor, stopped cleanly by SIGTERM, one at a time.

use asm_testkit::TempDir;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const TOOLS: [&str; 5] = ["monitor", "session_manager", "memory_manager", "gateway_monitor", "health_check"];

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
        let out = Command::new(asm_testkit::repo_root().join("scripts/install.sh"))
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
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document on stdout");
        let worst = doc["status"].as_str().unwrap();
        assert_eq!(out.status.code(), Some(["ok", "warn", "fail"].iter().position(|s| *s == worst).unwrap() as i32), "the exit code is the verdict");
        let state_dir = doc["paths"].as_array().unwrap().iter().find(|p| p["what"] == "state dir").cloned().unwrap();
        assert_eq!(state_dir["path"], i.state.display().to_string());
    }
}

#[test]
fn reinstall_upgrades_in_place_and_keeps_state_and_memory() {
    let i = Installed::new();
    let memory = i.state.join(".session_memory");
    std::fs::create_dir_all(&memory).unwrap();
    std::fs::write(memory.join("abc.json"), "{}").unwrap();
    std::fs::write(i.state.join(".asm_state.json"), "{\"schema_version\":1,\"quota\":{\"paused\":true}}").unwrap();
    let out = i.cmd(asm_testkit::repo_root().join("scripts/install.sh")).args(["--bin-dir", bin_dir().to_str().unwrap()]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(std::fs::read_to_string(memory.join("abc.json")).unwrap(), "{}");
    assert!(std::fs::read_to_string(i.state.join(".asm_state.json")).unwrap().contains("paused"));
    let out = i.cmd(asm_testkit::repo_root().join("scripts/install.sh")).arg("--uninstall").output().unwrap();
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

/// Starts the installed monitor as a daemon and returns its pid.
fn start_daemon(i: &Installed, interval: &str) -> i32 {
    let out = i.cmd(i.scripts().join("monitor.py")).args(["--mode", "daemon", "--interval", interval]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let pid_file = i.state.join(".asm_monitor.pid");
    let mut pid = 0;
    wait_for(
        || {
            pid = std::fs::read_to_string(&pid_file).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0);
            pid > 0 && std::fs::read_to_string(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.contains("asm_monitor"))
        },
        "the daemon's pid file",
    );
    pid
}

fn gone(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/cmdline")).map_or(true, |c| c.is_empty())
}

#[test]
fn daemon_shows_as_asm_monitor_refuses_a_twin_reports_its_status_reloads_on_sighup_and_stops() {
    let i = Installed::new();
    let pid = start_daemon(&i, "60");
    let ps = Command::new("ps").args(["-o", "args=", "-p", &pid.to_string()]).output().unwrap();
    assert!(String::from_utf8_lossy(&ps.stdout).contains("asm_monitor"), "ps shows asm_monitor");

    let twin = i.cmd(i.scripts().join("monitor.py")).args(["--mode", "daemon"]).output().unwrap();
    assert_eq!(twin.status.code(), Some(1), "a second monitor is refused");
    assert!(String::from_utf8_lossy(&twin.stderr).contains("already running"));

    let log = || std::fs::read_to_string(i.state.join("logs/asm_monitor.log")).unwrap_or_default();
    wait_for(|| log().contains("round: "), "the first round");
    let status = i.cmd(i.scripts().join("monitor.py")).args(["--status", "--json"]).output().unwrap();
    assert_eq!(status.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!((doc["running"].as_bool(), doc["pid"].as_i64(), doc["mode"].as_str()), (Some(true), Some(pid as i64), Some("daemon")), "{doc}");
    assert!(doc["last_round_at"].is_string() && doc["next_round_at"].is_string(), "{doc}");
    let text = String::from_utf8_lossy(&i.cmd(i.scripts().join("monitor.py")).arg("--status").output().unwrap().stdout).into_owned();
    assert!(text.starts_with(&format!("monitor running (pid {pid}, daemon mode)")) && text.contains("next round"), "{text}");

    // SIGHUP: a bad value in asm.env is logged and the old configuration stays; a good one is taken.
    let hup = || nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGHUP).unwrap();
    std::fs::write(i.state.join("asm.env"), "ASM_CONTEXT_THRESHOLD=900\n").unwrap();
    hup();
    wait_for(|| log().contains("configuration not reloaded, the previous one stays: ASM_CONTEXT_THRESHOLD=\"900\" is invalid"), "the refused reload");
    std::fs::write(i.state.join("asm.env"), "ASM_GATEWAY_PROBE_INTERVAL=45\n").unwrap();
    hup();
    wait_for(|| log().contains("configuration reloaded (SIGHUP)"), "the reload");
    assert!(!gone(pid), "SIGHUP does not stop the monitor");

    let stop = i.cmd(i.scripts().join("monitor.py")).arg("--stop").output().unwrap();
    assert_eq!(stop.status.code(), Some(0), "{}", String::from_utf8_lossy(&stop.stderr));
    assert!(String::from_utf8_lossy(&stop.stdout).contains(&format!("monitor (pid {pid}) stopped")));
    assert!(gone(pid));
    assert!(!i.state.join(".asm_monitor.pid").exists(), "a clean exit removes the pid file");
    assert!(log().contains("monitor stopped"));
    let status = i.cmd(i.scripts().join("monitor.py")).arg("--status").output().unwrap();
    assert_eq!(status.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&status.stdout).starts_with("monitor not running"));
    let again = i.cmd(i.scripts().join("monitor.py")).arg("--stop").output().unwrap();
    assert_eq!(again.status.code(), Some(0), "nothing to stop is not an error");
}

#[test]
fn an_upgrade_restarts_a_running_daemon_and_uninstall_leaves_no_process() {
    let i = Installed::new();
    let old = start_daemon(&i, "45");
    let out = i.cmd(asm_testkit::repo_root().join("scripts/install.sh")).args(["--bin-dir", bin_dir().to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("restarted the monitor daemon on the new binaries"), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(gone(old), "the old daemon ended");
    let status: serde_json::Value =
        serde_json::from_slice(&i.cmd(i.scripts().join("monitor.py")).args(["--status", "--json"]).output().unwrap().stdout).unwrap();
    let new = status["pid"].as_i64().unwrap() as i32;
    assert_eq!((status["mode"].as_str(), status["interval_secs"].as_u64()), (Some("daemon"), Some(45)), "same mode and interval: {status}");

    let out = i.cmd(asm_testkit::repo_root().join("scripts/install.sh")).arg("--uninstall").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(gone(new), "uninstall stopped the daemon");
    assert!(!i.state.join("skills/auto-session-manager").exists());
}

#[test]
fn install_service_writes_path_and_the_settings_file_and_uninstall_removes_the_unit() {
    let i = Installed::new();
    // Fake platform tools and a fake systemctl that only logs its calls.
    let tools = i.home.join("npm/bin");
    std::fs::create_dir_all(&tools).unwrap();
    let log = i.home.join("systemctl.log");
    for (name, body) in [("openclaw", "exit 0".to_string()), ("claude", "exit 0".to_string()), ("systemctl", format!("echo \"$*\" >> {}", log.display()))] {
        let path = tools.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
    let path = format!("{}:{}", tools.display(), std::env::var("PATH").unwrap_or_default());
    let out =
        i.cmd(asm_testkit::repo_root().join("scripts/install-service.sh")).env("PATH", &path).env("XDG_CONFIG_HOME", i.home.join(".config")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let unit = std::fs::read_to_string(i.home.join(".config/systemd/user/asm-monitor.service")).unwrap();
    let path_line = unit.lines().find(|l| l.starts_with("Environment=PATH=")).unwrap();
    assert!(path_line.contains(&tools.display().to_string()) && path_line.contains("/usr/bin"), "{path_line}");
    assert!(unit.contains(&format!("EnvironmentFile=-{}", i.state.join("asm.env").display())), "{unit}");
    assert!(unit.contains("ExecReload=/bin/kill -HUP $MAINPID"), "{unit}");
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(i.state.join("asm.env")).unwrap().permissions()) & 0o777;
    assert_eq!(mode, 0o600, "the settings file may hold tokens");
    assert!(std::fs::read_to_string(&log).unwrap().contains("--user enable asm-monitor.service"));

    let out = i
        .cmd(asm_testkit::repo_root().join("scripts/install.sh"))
        .arg("--uninstall")
        .env("PATH", &path)
        .env("XDG_CONFIG_HOME", i.home.join(".config"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!i.home.join(".config/systemd/user/asm-monitor.service").exists(), "the unit is gone");
    assert!(std::fs::read_to_string(&log).unwrap().contains("--user disable --now asm-monitor.service"));
    assert!(i.state.join("asm.env").exists(), "settings are kept like state and memory");
}
