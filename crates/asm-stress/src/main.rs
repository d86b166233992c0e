//! asm_stress (`make stress`): the long fault runs against the real binaries, with one summary
//! table of runs and failures at the end (exit 1 when anything failed):
//!
//! - kill loops: SIGKILL at random moments during state writes, memory extraction, outbox
//!   appends and deliveries, and monitor rounds; after each kill every file must still parse,
//!   no memory or notification may be lost, and duplicate deliveries are counted;
//! - links planted in the state dir (pid file, outbox, log file, logs dir, memory dir) and the
//!   state dir's mode;
//! - special files in a platform store (a FIFO, `/dev/zero` behind a link, a link loop);
//! - a full disk: a small tmpfs when this user may mount one, else RLIMIT_FSIZE.
//!
//! ASM_STRESS_KILLS sets the kills per loop (default 300). The fuzz targets run next to this
//! (`PROPTEST_CASES=50000 cargo test --release -p asm-core --test fuzz`, see the Makefile).

mod cases;
mod kills;

use std::path::{Path, PathBuf};

/// One line of the summary.
pub struct Outcome {
    pub case: String,
    pub runs: usize,
    pub failures: Vec<String>,
    pub note: String,
}

impl Outcome {
    pub fn new(case: &str) -> Outcome {
        Outcome { case: case.to_string(), runs: 0, failures: Vec::new(), note: String::new() }
    }

    /// Counts a run; a failed check keeps its reason.
    pub fn check(&mut self, ok: bool, why: impl FnOnce() -> String) {
        self.runs += 1;
        if !ok {
            self.failures.push(why());
        }
    }
}

/// The real binaries, next to this one.
pub fn bin(tool: &str) -> PathBuf {
    let path = std::env::current_exe().expect("current exe").with_file_name(format!("asm_{tool}"));
    assert!(path.exists(), "{} is missing: build with `cargo build --release --workspace --bins` (make stress does)", path.display());
    path
}

/// The environment every child gets: a scratch HOME and state dir, notifications logged.
pub fn env_of(home: &Path) -> Vec<(String, String)> {
    vec![
        ("HOME".into(), home.display().to_string()),
        ("OPENCLAW_STATE_DIR".into(), home.join("state").display().to_string()),
        ("PATH".into(), "/usr/bin:/bin".into()),
        ("ASM_NOTIFY_BACKEND".into(), "log".into()),
    ]
}

/// A small deterministic generator: reproducible kill moments.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(code) = kills::child(&args) {
        std::process::exit(code);
    }
    let kills: usize = std::env::var("ASM_STRESS_KILLS").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    let root = asm_testkit::TempDir::new("stress");
    println!("asm_stress: {kills} kills per loop, scratch {}", root.path().display());
    let outcomes = [
        kills::state(root.path(), kills),
        kills::memory(root.path(), kills),
        kills::outbox(root.path(), kills),
        kills::monitor(root.path(), kills),
        cases::links(root.path()),
        cases::special_files(root.path()),
        cases::full_disk(root.path()),
    ];
    let rows: Vec<Vec<String>> = outcomes.iter().map(|o| vec![o.case.clone(), o.runs.to_string(), o.failures.len().to_string(), o.note.clone()]).collect();
    println!("{}", asm_core::table::lines(&["CASE", "RUNS", "FAILURES", "NOTES"], &rows).join("\n"));
    let failed: Vec<&String> = outcomes.iter().flat_map(|o| o.failures.iter()).collect();
    for f in failed.iter().take(20) {
        println!("FAILED: {f}");
    }
    std::process::exit(if failed.is_empty() { 0 } else { 1 });
}
