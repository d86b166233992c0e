//! Times `platform::openclaw::discover` over a synthetic 2026.9.6 store, warm, at two sizes
//! of the same session count (the cost must follow sessions, not bytes):
//! `cargo run --release -p asm-bench --example openclaw_discover -- [SESSIONS] [BYTES_PER_SESSION] [--keep]`
//! (`--keep` leaves the generated state dirs in the temp dir for a look).

#[path = "../src/gen_openclaw.rs"]
mod gen_openclaw;

use asm_core::env::Env;
use asm_core::Runtime;
use std::time::{Duration, Instant};

const RUNS: usize = 15;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let keep = std::env::args().any(|a| a == "--keep");
    let mut args = std::env::args().skip(1).filter(|a| a != "--keep");
    let sessions: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(2_000);
    let bytes: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(100_000);
    for scale in [1, 2] {
        let root = std::env::temp_dir().join(format!("asm-bench-openclaw-{}-{scale}", std::process::id()));
        let started = Instant::now();
        let written = gen_openclaw::generate(&root, sessions, bytes * scale)?;
        let generated = started.elapsed();
        let rt = Runtime::from_env(Env::from_pairs([("HOME", root.to_string_lossy().into_owned())]))?;
        let warm = asm_core::platform::openclaw::discover::discover(&rt, &Default::default());
        assert_eq!(warm.sessions.len(), sessions, "errors: {:?}", warm.errors);
        let mut times: Vec<Duration> = (0..RUNS)
            .map(|_| {
                let t = Instant::now();
                let list = asm_core::platform::openclaw::discover::discover(&rt, &Default::default());
                std::hint::black_box(&list);
                t.elapsed()
            })
            .collect();
        times.sort();
        println!(
            "{sessions} sessions x {} B ({:.1} MB on disk, generated in {:.1} s): discover min {:.1} ms, median {:.1} ms, max {:.1} ms",
            bytes * scale,
            written as f64 / 1e6,
            generated.as_secs_f64(),
            times[0].as_secs_f64() * 1e3,
            times[RUNS / 2].as_secs_f64() * 1e3,
            times[RUNS - 1].as_secs_f64() * 1e3
        );
        if keep {
            println!("kept {}", root.display());
        } else {
            std::fs::remove_dir_all(&root)?;
        }
    }
    Ok(())
}
