//! Hang to restart: the real monitor watches a stand-in gateway (the fake of the gateway
//! tests) on loopback; the gateway is frozen with SIGSTOP at a random moment between probes,
//! and the time until the monitor has started a new one is measured. Goal: within
//! ASM_GATEWAY_TIMEOUT + 20 s. The bench runs with ASM_GATEWAY_TIMEOUT=30 (ASM_BENCH_HANG_TIMEOUT)
//! so a run takes under a minute; what is compared with the goal is the margin over the timeout.

use asm_core::proc::{self, Signal};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn fake_gateway() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../gateway_monitor/tests/fakes/fake_openclaw_gateway.py")
}

struct Rig {
    dir: PathBuf,
    port: u16,
    monitor: Option<Child>,
    /// The gateway as first started (the monitor starts the next one itself).
    first: Option<Child>,
}

impl Drop for Rig {
    fn drop(&mut self) {
        if let Some(mut m) = self.monitor.take() {
            proc::signal_pid(m.id() as i32, Signal::SIGTERM);
            let _ = m.wait();
        }
        if let Some(pid) = self.gateway_pid() {
            proc::signal_pid(pid, Signal::SIGKILL);
        }
        if let Some(mut first) = self.first.take() {
            let _ = first.kill();
            let _ = first.wait();
        }
    }
}

impl Rig {
    fn gateway_pid(&self) -> Option<i32> {
        std::fs::read_to_string(self.dir.join("gw.pid")).ok()?.trim().parse().ok()
    }

    fn starts(&self) -> usize {
        std::fs::read_to_string(self.dir.join("starts.log")).map(|s| s.lines().count()).unwrap_or(0)
    }

    fn start_cmd(&self) -> Vec<String> {
        let p = |s: &str| self.dir.join(s).display().to_string();
        vec![
            "python3".into(),
            fake_gateway().display().to_string(),
            "--port".into(),
            self.port.to_string(),
            "--pidfile".into(),
            p("gw.pid"),
            "--starts".into(),
            p("starts.log"),
        ]
    }

    fn seen_healthy(&self) -> bool {
        let state = std::fs::read_to_string(self.dir.join("state/.asm_state.json")).unwrap_or_default();
        serde_json::from_str::<serde_json::Value>(&state).is_ok_and(|s| s["gateway"]["last_healthy_at"].is_string())
    }
}

fn wait(what: &str, limit: Duration, cond: impl Fn() -> bool) -> Duration {
    let started = Instant::now();
    while !cond() {
        assert!(started.elapsed() < limit, "bench: gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
    started.elapsed()
}

/// One hang: seconds from SIGSTOP to the new gateway's start.
fn one(root: &Path, monitor_bin: &Path, timeout: u64, run: usize) -> f64 {
    let dir = root.join(format!("hang-{run}"));
    std::fs::create_dir_all(dir.join("state")).expect("bench dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port");
    let mut rig = Rig { dir, port, monitor: None, first: None };
    let start = rig.start_cmd();
    rig.first = Some(Command::new(&start[0]).args(&start[1..]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("start the fake gateway"));
    wait("the fake gateway", Duration::from_secs(20), || rig.starts() == 1 && rig.gateway_pid().is_some());
    let monitor = Command::new(monitor_bin)
        .args(["--mode", "foreground"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", &rig.dir)
        .env("OPENCLAW_STATE_DIR", rig.dir.join("state"))
        .env("ASM_GATEWAY_URL", format!("http://127.0.0.1:{port}"))
        .env("ASM_GATEWAY_START_CMD", serde_json::to_string(&start).unwrap_or_default())
        .env("ASM_GATEWAY_TIMEOUT", timeout.to_string())
        .env("ASM_GATEWAY_PROBE_TIMEOUT", "1")
        .env("ASM_NOTIFY_BACKEND", "log")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start asm_monitor");
    rig.monitor = Some(monitor);
    wait("the monitor's first healthy probe", Duration::from_secs(60), || rig.seen_healthy());
    // A different phase against the 15 s probe cadence in every run.
    std::thread::sleep(Duration::from_millis(1_000 + 4_700 * run as u64 % 14_000));
    let pid = rig.gateway_pid().expect("gateway pid");
    proc::signal_pid(pid, Signal::SIGSTOP);
    let took = wait("the restart", Duration::from_secs(timeout + 120), || rig.starts() >= 2);
    took.as_secs_f64()
}

pub fn run(root: &Path, monitor_bin: &Path) -> String {
    let timeout: u64 = std::env::var("ASM_BENCH_HANG_TIMEOUT").ok().and_then(|v| v.parse().ok()).unwrap_or(30);
    let runs: usize = std::env::var("ASM_BENCH_HANG_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(3);
    let times: Vec<f64> = (0..runs).map(|r| one(root, monitor_bin, timeout, r)).collect();
    let worst = times.iter().copied().fold(0.0, f64::max);
    let shown: Vec<String> = times.iter().map(|t| format!("{t:.1} s")).collect();
    format!(
        "gateway hang to restart (ASM_GATEWAY_TIMEOUT={timeout}, probes every 15 s): {}; worst {worst:.1} s = timeout + {:.1} s (goal: timeout + 20 s)",
        shown.join(", "),
        worst - timeout as f64
    )
}
