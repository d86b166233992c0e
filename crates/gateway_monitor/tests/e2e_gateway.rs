//! End to end against the real OpenClaw gateway (openclaw 2026.9.6 on node 24 from
//! `tests/e2e/install-tools.sh`, first on PATH): run it on a free loopback port in a scratch
//! HOME with OpenClaw's isolation variables, freeze it with SIGSTOP, and check that
//! `asm_gateway_monitor` sees "unresponsive", restarts it through ASM_GATEWAY_START_CMD and
//! verifies it ready again. Every process started is killed by pid at the end.

use asm_core::env::Env;
use asm_core::gateway::supervisor;
use asm_core::Runtime;
use asm_testkit::TempDir;
use serde_json::Value;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_asm_gateway_monitor");
const SIGKILL: i32 = 9;
const SIGSTOP: i32 = 19;
const SIGCONT: i32 = 18;

fn openclaw() -> PathBuf {
    let path = std::env::var("PATH").unwrap_or_default();
    asm_core::proc::which("openclaw", Some(&path))
        .expect("openclaw is not on PATH: run tests/e2e/install-tools.sh and put $ASM_E2E_TOOLS/bin (node 24 + openclaw) first on PATH")
}

struct Scratch {
    dir: TempDir,
    port: u16,
    start_cmd: Vec<String>,
}

impl Scratch {
    fn new() -> Scratch {
        let dir = TempDir::new("e2e-gw");
        std::fs::create_dir_all(dir.join("home")).unwrap();
        std::fs::create_dir_all(dir.join("state")).unwrap();
        let config = serde_json::json!({ "logging": { "file": dir.join("openclaw.log").display().to_string() } });
        std::fs::write(dir.join("state/openclaw.json"), config.to_string()).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let start_cmd = vec![
            openclaw().display().to_string(),
            "gateway".into(),
            "run".into(),
            "--port".into(),
            port.to_string(),
            "--bind".into(),
            "loopback".into(),
            "--allow-unconfigured".into(),
        ];
        Scratch { dir, port, start_cmd }
    }

    /// OpenClaw's isolation variables (openclaw.md §8) plus ours.
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
            ("NO_COLOR", "1".into()),
            ("PATH", std::env::var("PATH").unwrap_or_default()),
            ("OPENCLAW_GATEWAY_PORT", self.port.to_string()),
            ("ASM_GATEWAY_START_CMD", serde_json::to_string(&self.start_cmd).unwrap()),
            ("ASM_GATEWAY_PROBE_TIMEOUT", "3".into()),
            ("ASM_GATEWAY_VERIFY_GRACE", "90".into()),
            ("ASM_GATEWAY_TIMEOUT", "1".into()),
            ("ASM_NOTIFY_BACKEND", "log".into()),
            ("ASM_REPAIR", "0".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    fn runtime(&self) -> Runtime {
        Runtime::from_env(Env::from_pairs(self.env())).unwrap()
    }

    fn monitor(&self, args: &[&str]) -> (Output, Value) {
        let out = Command::new(BIN).args(args).env_clear().envs(self.env()).output().unwrap();
        (out.clone(), serde_json::from_slice(&out.stdout).unwrap_or(Value::Null))
    }

    fn start_by_hand(&self) -> std::process::Child {
        let log = std::fs::File::create(self.dir.join("gateway.out")).unwrap();
        Command::new(&self.start_cmd[0])
            .args(&self.start_cmd[1..])
            .env_clear()
            .envs(self.env())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0)
            .spawn()
            .unwrap()
    }

    fn wait_healthy(&self, within: Duration) {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if self.monitor(&["--json"]).0.status.code() == Some(0) {
                return;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        panic!("the gateway did not become ready within {within:?}; see {}", self.dir.join("gateway.out").display());
    }

    fn gateway_pids(&self) -> Vec<i32> {
        supervisor::listeners_on(self.port, &self.runtime()).into_iter().filter(|l| l.is_gateway).map(|l| l.pid).collect()
    }
}

/// Kills whatever gateway the test or the monitor started, even when an assert failed.
struct Cleanup<'a> {
    scratch: &'a Scratch,
    pids: Vec<i32>,
}

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        let mut pids = self.pids.clone();
        pids.extend(self.scratch.gateway_pids());
        for pid in pids {
            asm_core::proc::signal_pid(pid, SIGCONT);
            asm_core::proc::kill_group(pid, SIGKILL);
            asm_core::proc::signal_pid(pid, SIGKILL);
        }
    }
}

#[test]
#[ignore = "e2e: run with make e2e"]
fn real_gateway_frozen_with_sigstop_is_detected_restarted_and_verified() {
    let scratch = Scratch::new();
    let mut child = scratch.start_by_hand();
    let mut cleanup = Cleanup { scratch: &scratch, pids: vec![child.id() as i32] };
    scratch.wait_healthy(Duration::from_secs(90));

    let old = scratch.gateway_pids();
    assert!(!old.is_empty(), "no gateway process found listening on {}", scratch.port);
    cleanup.pids.extend(&old);
    for pid in &old {
        asm_core::proc::signal_pid(*pid, SIGSTOP);
    }

    let (out, doc) = scratch.monitor(&["--json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(doc["probe"]["kind"], "unresponsive", "a frozen gateway accepts and never answers: {doc}");

    std::thread::sleep(Duration::from_millis(1100));
    let (out, doc) = scratch.monitor(&["--act", "--json"]);
    assert_eq!(out.status.code(), Some(0), "stdout {}\nstderr {}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(doc["phase"], "HEALTHY");
    assert_eq!(doc["incident"]["attempts"], 1);
    let actions = doc["actions"].to_string();
    assert!(actions.contains("restart verified"), "{actions}");

    let new = scratch.gateway_pids();
    assert!(!new.is_empty());
    assert!(new.iter().all(|p| !old.contains(p)), "old {old:?}, new {new:?}");
    let _ = child.wait();
}
