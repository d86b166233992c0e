//! End to end against the real OpenClaw gateway (openclaw 2026.9.6 on node 24 from
//! `tests/e2e/install-tools.sh`, first on PATH): run it on a free loopback port in a scratch
//! HOME with OpenClaw's isolation variables, freeze it with SIGSTOP, and check that
//! `asm_gateway_monitor` sees "unresponsive", restarts it through ASM_GATEWAY_START_CMD and
//! verifies it ready again. Every process started is killed by pid at the end.

use asm_core::env::Env;
use asm_core::gateway::supervisor;
use asm_core::Runtime;
use asm_testkit::openclaw::{require_tools, ScratchOpenclaw};
use serde_json::Value;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_asm_gateway_monitor");
use asm_core::proc::Signal::{SIGCONT, SIGKILL, SIGSTOP};

/// The scratch world with OpenClaw's isolation variables (openclaw.md §8) plus ours; no
/// cron skipping, no channels, and ASM_GATEWAY_START_CMD is the world's own gateway command.
fn scratch() -> ScratchOpenclaw {
    let mut world = ScratchOpenclaw::new("e2e-gw");
    world.write_config(&serde_json::json!({ "logging": { "file": world.join("openclaw.log").display().to_string() } }));
    let start_cmd = world.gateway_argv(&["--allow-unconfigured"]);
    world
        .remove_env("OPENCLAW_SKIP_CRON")
        .set_env("OPENCLAW_SKIP_CHANNELS", "1")
        .set_env("ASM_GATEWAY_START_CMD", serde_json::to_string(&start_cmd).unwrap())
        .set_env("ASM_GATEWAY_PROBE_TIMEOUT", "3")
        .set_env("ASM_GATEWAY_VERIFY_GRACE", "90")
        .set_env("ASM_GATEWAY_TIMEOUT", "1")
        .set_env("ASM_NOTIFY_BACKEND", "log")
        .set_env("ASM_REPAIR", "0");
    world
}

fn runtime(scratch: &ScratchOpenclaw) -> Runtime {
    Runtime::from_env(Env::from_pairs(scratch.env())).unwrap()
}

fn monitor(scratch: &ScratchOpenclaw, args: &[&str]) -> (Output, Value) {
    let out = Command::new(BIN).args(args).env_clear().envs(scratch.env()).output().unwrap();
    (out.clone(), serde_json::from_slice(&out.stdout).unwrap_or(Value::Null))
}

/// Waits until `asm_gateway_monitor --json` itself reports the gateway healthy.
fn wait_healthy(scratch: &ScratchOpenclaw, within: Duration) {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if monitor(scratch, &["--json"]).0.status.code() == Some(0) {
            return;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!("the gateway did not become ready within {within:?}; see {}", scratch.log_path().display());
}

fn gateway_pids(scratch: &ScratchOpenclaw) -> Vec<i32> {
    supervisor::listeners_on(scratch.port(), &runtime(scratch)).into_iter().filter(|l| l.is_gateway).map(|l| l.pid).collect()
}

/// Kills whatever gateway the test or the monitor started, even when an assert failed.
struct Cleanup<'a> {
    scratch: &'a ScratchOpenclaw,
    pids: Vec<i32>,
}

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        let mut pids = self.pids.clone();
        pids.extend(gateway_pids(self.scratch));
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
    require_tools();
    let mut scratch = scratch();
    let started_by_hand = scratch.start_gateway(&["--allow-unconfigured"]);
    let mut cleanup = Cleanup { scratch: &scratch, pids: vec![started_by_hand as i32] };
    wait_healthy(&scratch, Duration::from_secs(90));

    let old = gateway_pids(&scratch);
    assert!(!old.is_empty(), "no gateway process found listening on {}", scratch.port());
    cleanup.pids.extend(&old);
    for pid in &old {
        asm_core::proc::signal_pid(*pid, SIGSTOP);
    }

    let (out, doc) = monitor(&scratch, &["--json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(doc["probe"]["kind"], "unresponsive", "a frozen gateway accepts and never answers: {doc}");

    std::thread::sleep(Duration::from_millis(1100));
    let (out, doc) = monitor(&scratch, &["--act", "--json"]);
    assert_eq!(out.status.code(), Some(0), "stdout {}\nstderr {}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(doc["phase"], "HEALTHY");
    assert_eq!(doc["incident"]["attempts"], 1);
    let actions = doc["actions"].to_string();
    assert!(actions.contains("restart verified"), "{actions}");

    let new = gateway_pids(&scratch);
    assert!(!new.is_empty());
    assert!(new.iter().all(|p| !old.contains(p)), "old {old:?}, new {new:?}");
}
