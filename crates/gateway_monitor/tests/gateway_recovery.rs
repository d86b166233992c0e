//! `asm_gateway_monitor` against a real child process standing in for the gateway on
//! loopback (tests/fakes/fake_openclaw_gateway.py): frozen with SIGSTOP or killed, it must
//! be restarted through ASM_GATEWAY_START_CMD and verified; a process on the port that is not
//! the gateway is never signalled; the Claude Code repair runs a fake `claude` from PATH.

use asm_testkit::TempDir;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_asm_gateway_monitor");

fn fake_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fakes/fake_openclaw_gateway.py")
}

/// The real interpreter (not a pyenv shim), so the test does not depend on PATH.
fn python() -> String {
    let out = Command::new("python3").args(["-c", "import sys; print(sys.executable)"]).output().expect("python3 is needed for this test");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One fake gateway setup: a temp HOME, a port, a start command, and clean-up of every
/// process it started (by pid) on drop.
struct Gateway {
    home: TempDir,
    port: u16,
    start_cmd: Vec<String>,
    first: Option<Child>,
    extra_env: Vec<(String, String)>,
}

impl Gateway {
    fn new(tag: &str) -> Gateway {
        let home = TempDir::new(tag);
        std::fs::create_dir_all(home.join(".openclaw")).unwrap();
        std::fs::create_dir_all(home.join("bin")).unwrap();
        let port = free_port();
        let start_cmd = vec![
            python(),
            fake_script().display().to_string(),
            "--port".into(),
            port.to_string(),
            "--pidfile".into(),
            home.join("gw.pid").display().to_string(),
            "--starts".into(),
            home.join("starts.log").display().to_string(),
            "--not-ready".into(),
            home.join("not-ready").display().to_string(),
        ];
        Gateway { home, port, start_cmd, first: None, extra_env: Vec::new() }
    }

    /// Starts the gateway the way a person would, and waits until it answers.
    fn start(mut self) -> Gateway {
        self.first = Some(Command::new(&self.start_cmd[0]).args(&self.start_cmd[1..]).spawn().unwrap());
        self.wait_ready();
        self
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.pid().is_some() && std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("fake gateway did not start on port {}", self.port);
    }

    /// Kills the gateway and waits until the port refuses connections.
    fn kill(&self) {
        signal(self.pid().unwrap(), SIGKILL);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn pid(&self) -> Option<i32> {
        std::fs::read_to_string(self.home.join("gw.pid")).ok()?.trim().parse().ok()
    }

    fn starts(&self) -> usize {
        std::fs::read_to_string(self.home.join("starts.log")).map(|s| s.lines().count()).unwrap_or(0)
    }

    fn env(mut self, k: &str, v: &str) -> Gateway {
        self.extra_env.push((k.into(), v.into()));
        self
    }

    fn monitor(&self, args: &[&str]) -> (Output, Value) {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .env_clear()
            .env("HOME", self.home.path())
            .env("OPENCLAW_STATE_DIR", self.home.join(".openclaw"))
            .env("PATH", self.home.join("bin"))
            .env("OPENCLAW_GATEWAY_PORT", self.port.to_string())
            .env("ASM_GATEWAY_START_CMD", serde_json::to_string(&self.start_cmd).unwrap())
            .env("ASM_GATEWAY_PROBE_TIMEOUT", "1")
            .env("ASM_GATEWAY_VERIFY_GRACE", "8")
            .env("ASM_NOTIFY_BACKEND", "log");
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let doc = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (out, doc)
    }

    fn state(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.home.join(".openclaw/.asm_state.json")).unwrap()).unwrap()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.home.join(".openclaw/logs/asm_gateway_monitor.log")).unwrap_or_default()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(pid) = self.pid() {
            asm_core::proc::signal_pid(pid, SIGKILL);
        }
        if let Some(mut c) = self.first.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn signal(pid: i32, sig: Signal) {
    assert!(asm_core::proc::signal_pid(pid, sig), "signal {sig:?} to {pid}");
}

use asm_core::proc::Signal::{self, SIGKILL, SIGSTOP};

fn describe(out: &Output) -> String {
    format!("status {:?}\nstdout {}\nstderr {}", out.status, String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn report_only_run_probes_records_and_never_acts() {
    let gw = Gateway::new("gwm-report").start();
    let (out, doc) = gw.monitor(&["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(doc["healthy"], true);
    assert_eq!(doc["probe"]["kind"], "ok");
    gw.kill();
    let (out, doc) = gw.monitor(&["--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert_eq!(doc["probe"]["kind"], "down");
    assert_eq!(gw.starts(), 1, "a report-only run never starts anything");
    assert_eq!(gw.state()["gateway"]["history"].as_array().unwrap().len(), 2);
}

#[test]
fn restart_kills_a_frozen_gateway_starts_it_again_and_verifies() {
    let gw = Gateway::new("gwm-restart").start();
    let old = gw.pid().unwrap();
    signal(old, SIGSTOP);
    let (out, doc) = gw.monitor(&["--restart", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(doc["healthy"], true);
    assert_eq!(doc["phase"], "HEALTHY");
    assert_eq!(gw.starts(), 2);
    assert_ne!(gw.pid(), Some(old));
    let actions = doc["actions"].to_string();
    assert!(actions.contains(&format!("stopped pid {old}")) || actions.contains(&format!("killed pid {old}")), "{actions}");
    assert!(actions.contains("restart verified"), "{actions}");
}

#[test]
fn act_restarts_a_dead_gateway_after_the_timeout_once() {
    let gw = Gateway::new("gwm-act-dead").env("ASM_GATEWAY_TIMEOUT", "1").start();
    gw.kill();
    let (out, doc) = gw.monitor(&["--act", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert_eq!(doc["phase"], "SUSPECT", "the first failure only opens the window");
    assert_eq!(gw.starts(), 1);
    std::thread::sleep(Duration::from_millis(1100));
    let (out, doc) = gw.monitor(&["--act", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(doc["phase"], "HEALTHY");
    assert_eq!(doc["incident"]["attempts"], 1);
    assert_eq!(gw.starts(), 2);
    let actions = doc["actions"].to_string();
    for what in ["unresponsive", "restarted (attempt 1", "recovered"] {
        assert!(actions.contains(what), "{what} missing in {actions}");
    }
    // Healthy now: a further run does nothing.
    let (out, _) = gw.monitor(&["--act", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(gw.starts(), 2);
    assert!(gw.log().contains("gateway_recovered"), "events are logged");
}

#[test]
fn act_recovers_a_hung_gateway() {
    let gw = Gateway::new("gwm-act-hung").env("ASM_GATEWAY_TIMEOUT", "1").start();
    let old = gw.pid().unwrap();
    signal(old, SIGSTOP);
    let (_, doc) = gw.monitor(&["--act", "--json"]);
    assert_eq!(doc["probe"]["kind"], "unresponsive", "accepts but never answers");
    std::thread::sleep(Duration::from_millis(1100));
    let (out, doc) = gw.monitor(&["--act", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(doc["phase"], "HEALTHY");
    assert_ne!(gw.pid(), Some(old));
    assert_eq!(gw.starts(), 2);
}

#[test]
fn a_process_on_the_port_that_is_not_the_gateway_is_never_killed() {
    let gw = Gateway::new("gwm-foreign");
    let script = format!("import socket,time\ns=socket.socket()\ns.bind(('127.0.0.1',{}))\ns.listen(8)\ntime.sleep(120)\n", gw.port);
    let mut foreign = Command::new(python()).args(["-c", &script]).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", gw.port)).is_err() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let (out, _) = gw.monitor(&["--restart", "--json"]);
    let alive = foreign.try_wait().unwrap().is_none();
    let _ = foreign.kill();
    let _ = foreign.wait();
    assert!(alive, "the foreign listener was killed");
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(describe(&out).contains("not the OpenClaw gateway"), "{}", describe(&out));
    assert_eq!(gw.starts(), 0);
}

/// An executable script in the fake PATH.
fn install_script(gw: &Gateway, name: &str, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    let path = gw.home.join("bin").join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_live_but_not_ready_gateway_is_asked_to_restart_through_the_openclaw_cli() {
    let gw = Gateway::new("gwm-polite").env("ASM_GATEWAY_TIMEOUT", "1").start();
    // The fake CLI's `gateway restart` plays OpenClaw's in-process restart (SIGUSR2): same pid, ready again.
    let calls = gw.home.join("openclaw.calls");
    install_script(&gw, "openclaw", &format!("echo \"$@\" >> '{}'\n/bin/rm -f '{}'\n", calls.display(), gw.home.join("not-ready").display()));
    std::fs::write(gw.home.join("not-ready"), "").unwrap();
    let pid = gw.pid();
    let (_, doc) = gw.monitor(&["--act", "--json"]);
    assert_eq!(doc["probe"]["kind"], "not_ready", "{doc}");
    std::thread::sleep(Duration::from_millis(1100));
    let (out, doc) = gw.monitor(&["--act", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(doc["phase"], "HEALTHY");
    assert_eq!(std::fs::read_to_string(&calls).unwrap(), "gateway restart\n");
    assert_eq!(gw.pid(), pid, "restarted in place, not killed");
    assert_eq!(gw.starts(), 1);
    assert!(doc["actions"].to_string().contains("openclaw gateway restart"), "{doc}");
}

/// A fake `claude` that records how it was called; `fix` makes it start the gateway.
fn fake_claude(gw: &Gateway, fix: bool) {
    let start = gw.start_cmd.iter().map(|a| format!("'{a}'")).collect::<Vec<_>>().join(" ");
    let (fix_line, result) = if fix {
        (
            format!("{start} >/dev/null 2>&1 &\n/bin/sleep 1"),
            r#"{"type":"result","subtype":"success","is_error":false,"result":"Restarted the gateway; rpc.ok true.","session_id":"fake-session-1"}"#,
        )
    } else {
        (String::new(), r#"{"type":"result","subtype":"success","is_error":true,"result":"API Error: 400 mock","session_id":"fake-session-2"}"#)
    };
    let body = format!(
        "printf '%s\\0' \"$@\" > '{args}'\npwd > '{cwd}'\n{fix_line}\necho '{result}'\n",
        args = gw.home.join("claude.args").display(),
        cwd = gw.home.join("claude.cwd").display(),
    );
    install_script(gw, "claude", &body);
}

#[test]
fn repair_runs_claude_headless_in_the_state_dir_and_is_verified() {
    // No restart budget: the first unresponsive verdict goes straight to the repair, and only
    // the repair (the fake claude starts the gateway) can bring it back.
    let gw = Gateway::new("gwm-repair").env("ASM_GATEWAY_TIMEOUT", "1").env("ASM_GATEWAY_MAX_RESTARTS", "0").env("ASM_REPAIR_MAX_TURNS", "7");
    fake_claude(&gw, true);
    gw.monitor(&["--act", "--json"]);
    std::thread::sleep(Duration::from_millis(1100));
    let (out, doc) = gw.monitor(&["--act", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(doc["phase"], "HEALTHY");
    assert_eq!(doc["last_repair"]["ok"], true);
    assert_eq!(doc["last_repair"]["session_id"], "fake-session-1");
    let args: Vec<String> = std::fs::read_to_string(gw.home.join("claude.args")).unwrap().split('\0').map(str::to_string).collect();
    assert_eq!(args[0], "-p");
    assert!(args[1].contains("Diagnosis:"), "{}", args[1]);
    for pair in [["--permission-mode", "acceptEdits"], ["--max-turns", "7"], ["--output-format", "json"]] {
        assert!(args.windows(2).any(|w| w == pair), "{pair:?} missing in {args:?}");
    }
    assert!(args.iter().any(|a| a == "--allowedTools"));
    let cwd = std::fs::read_to_string(gw.home.join("claude.cwd")).unwrap();
    assert_eq!(Path::new(cwd.trim()).canonicalize().unwrap(), gw.home.join(".openclaw").canonicalize().unwrap());
    let actions = doc["actions"].to_string();
    assert!(actions.contains("repair started") && actions.contains("repair finished"), "{actions}");
}

#[test]
fn failed_repair_gives_up_and_no_action_follows_until_reset() {
    let gw = Gateway::new("gwm-giveup").env("ASM_GATEWAY_TIMEOUT", "1").env("ASM_GATEWAY_MAX_RESTARTS", "0").env("ASM_GATEWAY_VERIFY_GRACE", "2");
    fake_claude(&gw, false);
    gw.monitor(&["--act", "--json"]);
    std::thread::sleep(Duration::from_millis(1100));
    let (out, doc) = gw.monitor(&["--act", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert_eq!(doc["phase"], "GAVE_UP", "{doc}");
    assert_eq!(doc["last_repair"]["ok"], false);
    std::fs::remove_file(gw.home.join("claude.args")).unwrap();
    for _ in 0..2 {
        std::thread::sleep(Duration::from_millis(600));
        let (_, doc) = gw.monitor(&["--act", "--json"]);
        assert_eq!(doc["phase"], "GAVE_UP");
        assert_eq!(doc["actions"], serde_json::json!([]), "no more automatic action");
    }
    assert!(!gw.home.join("claude.args").exists(), "the repair ran once only");
    let (out, doc) = gw.monitor(&["--reset", "--json"]);
    assert_eq!(out.status.code(), Some(1), "still down after the reset");
    assert_eq!(doc["phase"], "SUSPECT");
    assert_eq!(doc["incident"]["repaired"], false);
}
