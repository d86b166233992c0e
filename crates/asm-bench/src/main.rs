//! asm_bench (`make bench`): builds synthetic histories in the platforms' real on-disk formats
//! and times the real binaries over them, warm, as a user would run them.
//!
//! Goals checked (reported, never asserted in tests):
//! - `session_manager --list --json` over 10,000 Claude Code sessions (several GB) plus an
//!   OpenCode database with thousands of sessions: under 300 ms on a 2-core machine;
//! - doubling the bytes with the same session count grows that time by at most 10 %;
//! - extraction of a 200 MB transcript: seconds, with memory in tens of MB;
//! - a frozen gateway is restarted within ASM_GATEWAY_TIMEOUT + 20 s.
//!
//! Sizes can be scaled down for a quick look: ASM_BENCH_SESSIONS, ASM_BENCH_BYTES (per
//! Claude Code session), ASM_BENCH_OPENCODE_SESSIONS, ASM_BENCH_OPENCLAW_SESSIONS, ASM_BENCH_RUNS,
//! ASM_BENCH_HANG_RUNS, ASM_BENCH_HANG_TIMEOUT.

mod bench_gateway;
mod bench_hostile;
mod bench_memory;
mod gen_claude_code;
mod gen_openclaw;
mod gen_opencode;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

struct Sizes {
    cc_sessions: usize,
    cc_bytes: usize,
    oc_sessions: usize,
    ocl_sessions: usize,
    runs: usize,
}

fn main() {
    let sizes = Sizes {
        cc_sessions: env_usize("ASM_BENCH_SESSIONS", 10_000),
        cc_bytes: env_usize("ASM_BENCH_BYTES", 200_000),
        oc_sessions: env_usize("ASM_BENCH_OPENCODE_SESSIONS", 3_000),
        ocl_sessions: env_usize("ASM_BENCH_OPENCLAW_SESSIONS", 500),
        runs: env_usize("ASM_BENCH_RUNS", 7).max(3),
    };
    let root = std::env::temp_dir().join(format!("asm-bench-{}", std::process::id()));
    let result = std::panic::catch_unwind(|| run(&root, &sizes));
    if std::env::var_os("ASM_BENCH_KEEP").is_some() {
        println!("kept the generated history under {}", root.display());
    } else {
        let _ = std::fs::remove_dir_all(&root);
    }
    if result.is_err() {
        std::process::exit(1);
    }
}

fn run(root: &Path, sizes: &Sizes) {
    if std::env::var("ASM_BENCH_ONLY").as_deref() == Ok("hostile") {
        std::fs::create_dir_all(root).expect("bench dir");
        bench_hostile::run(root).iter().for_each(|l| println!("{l}"));
        println!("{}", bench_hostile::outbox_drain(root));
        return;
    }
    let bin = sibling("asm_session_manager");
    println!(
        "asm_bench: {} Claude Code sessions × {} KB, {} OpenCode sessions, {} OpenClaw sessions; {} warm runs each",
        sizes.cc_sessions,
        sizes.cc_bytes / 1000,
        sizes.oc_sessions,
        sizes.ocl_sessions,
        sizes.runs
    );
    let base = list_timing(root, "1x", sizes, sizes.cc_bytes, &bin);
    let _ = std::fs::remove_dir_all(root);
    let double = list_timing(root, "2x", sizes, sizes.cc_bytes * 2, &bin);
    let growth = (double.as_secs_f64() / base.as_secs_f64() - 1.0) * 100.0;
    println!(
        "session_manager --list --json: {} ms at 1x bytes, {} ms at 2x bytes: {growth:+.1} % (goals: < 300 ms, growth ≤ 10 %)",
        base.as_millis(),
        double.as_millis()
    );
    if std::env::var_os("ASM_BENCH_KEEP").is_some() {
        return;
    }
    let _ = std::fs::remove_dir_all(root);
    std::fs::create_dir_all(root).expect("bench dir");
    println!("{}", bench_memory::run(root));
    for line in bench_hostile::run(root) {
        println!("{line}");
    }
    println!("{}", bench_hostile::outbox_drain(root));
    println!("{}", bench_gateway::run(root, &sibling("asm_monitor")));
}

/// Builds one history and returns the median warm time of `session_manager --list --json`.
fn list_timing(root: &Path, label: &str, sizes: &Sizes, cc_bytes: usize, bin: &Path) -> Duration {
    // Every generator writes where its platform looks under a HOME: ~/.claude,
    // ~/.local/share/opencode, ~/.openclaw.
    let home = root.join("home");
    let started = Instant::now();
    let written = gen_claude_code::generate(&home, sizes.cc_sessions, cc_bytes).expect("generate Claude Code history")
        + gen_opencode::generate(&home, sizes.oc_sessions, 20_000).expect("generate OpenCode database")
        + gen_openclaw::generate(&home, sizes.ocl_sessions, 20_000).expect("generate OpenClaw store");
    println!("[{label}] generated {:.2} GB in {:.1} s", written as f64 / 1e9, started.elapsed().as_secs_f64());
    let cmd = || {
        let mut c = Command::new(bin);
        c.args(["--list", "--json"]).env_clear().env("HOME", &home).env("ASM_LOG_LEVEL", "warn");
        c
    };
    let warm = cmd().output().expect("run session_manager");
    let doc: serde_json::Value = serde_json::from_slice(&warm.stdout).expect("session_manager printed JSON");
    let listed = doc["sessions"].as_array().map_or(0, Vec::len);
    let median = median_of(sizes.runs, || {
        let out = cmd().output().expect("run session_manager");
        assert!(out.status.success(), "session_manager failed: {}", String::from_utf8_lossy(&out.stderr));
    });
    println!("[{label}] {listed} sessions listed; median {} ms", median.as_millis());
    for platform in ["claude-code", "opencode", "openclaw"] {
        let alone = median_of(sizes.runs, || drop(cmd().args(["--platform", platform]).output().expect("run session_manager")));
        println!("[{label}]   --platform {platform} alone: median {} ms", alone.as_millis());
    }
    median
}

/// The median wall time of `runs` calls of `f`.
fn median_of(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn sibling(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let path = exe.with_file_name(name);
    assert!(path.exists(), "{} is missing: build with `cargo build --release --workspace --bins` (make bench does)", path.display());
    path
}
