//! asm_bench (`make bench`): builds synthetic histories in the platforms' real on-disk formats
//! and measures the real binaries over them, warm, as a user would run them, all in one run so
//! the goals are checked as ratios (absolute times are noise on shared machines):
//!
//! - listing Claude Code sessions: cold (`--no-index`) against the tail floor (reading the
//!   last 64 KiB of every transcript) and warm (index current) against the stat floor
//!   (stat every transcript), ccusage on the same corpus, peak RSS of each, the doubled-bytes
//!   scaling, the CPU of an idle monitor round, and every session checked against the
//!   generator's truth (traps included);
//! - the handoff quality probe (`quality/`): what survives extraction, per category;
//! - extraction of a 200 MB transcript and of hostile records, the outbox drain, and the
//!   gateway's hang-to-restart time.
//!
//! Prints one table and writes the same as JSON (`ASM_BENCH_JSON`, default
//! `target/bench.json`). Sizes: ASM_BENCH_SIZES (default `3000,10000` sessions),
//! ASM_BENCH_BYTES (per session, default 200000), ASM_BENCH_RUNS (default 7);
//! ASM_BENCH_ONLY=hostile runs the extraction cases alone, ASM_BENCH_ONLY=listing the table,
//! ASM_BENCH_ONLY=quality the handoff probe (`make quality`; ASM_QUALITY_DEBUG=1 prints each
//! miss and each wrong entry).

mod bench_gateway;
mod bench_hostile;
mod bench_memory;
mod ccusage;
mod gen_claude_code;
mod gen_opencode;
mod measure;
mod quality;

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("measure") {
        std::process::exit(measure::child(&args[1..]));
    }
    // `asm_bench generate <home> <sessions> <bytes>`: a history to look at or profile by hand.
    if let [cmd, home, sessions, bytes] = args.as_slice() {
        if cmd == "generate" {
            let (written, _) = gen_claude_code::generate(Path::new(home), sessions.parse().unwrap_or(100), bytes.parse().unwrap_or(200_000)).expect("generate");
            println!("{written} bytes under {home}");
            return;
        }
    }
    let root = std::env::temp_dir().join(format!("asm-bench-{}", std::process::id()));
    std::fs::create_dir_all(&root).expect("bench dir");
    let result = std::panic::catch_unwind(|| run(&root));
    let _ = std::fs::remove_dir_all(&root);
    if result.is_err() {
        std::process::exit(1);
    }
}

fn run(root: &Path) {
    if std::env::var("ASM_BENCH_ONLY").as_deref() == Ok("quality") {
        quality::run(root, &sibling("asm_memory_manager"));
        return;
    }
    if std::env::var("ASM_BENCH_ONLY").as_deref() == Ok("hostile") {
        bench_hostile::run(root).iter().for_each(|l| println!("{l}"));
        println!("{}", bench_hostile::outbox_drain(root));
        return;
    }
    let sizes: Vec<usize> = std::env::var("ASM_BENCH_SIZES").unwrap_or_else(|_| "3000,10000".into()).split(',').filter_map(|s| s.trim().parse().ok()).collect();
    let bytes = env_usize("ASM_BENCH_BYTES", 200_000);
    let runs = env_usize("ASM_BENCH_RUNS", 7).max(3);
    let ccusage = ccusage::install(&cache_dir());
    println!("asm_bench: Claude Code histories of {sizes:?} sessions x {} KB, {runs} warm runs each; {}", bytes / 1000, machine());
    let mut report = json!({"machine": machine(), "runs": runs, "bytes_per_session": bytes, "listing": [], "goals": {}});
    let mut rows = Vec::new();
    for &n in &sizes {
        let row = listing(root, n, bytes, runs, ccusage.as_ref());
        rows.push(row.clone());
        report["listing"].as_array_mut().expect("array").push(row);
    }
    let biggest = *sizes.iter().max().unwrap_or(&3000);
    let growth = doubled(root, biggest, bytes, runs, rows.last());
    report["doubled_bytes_growth_percent"] = json!(growth);
    print_listing(&rows, growth);
    if std::env::var("ASM_BENCH_ONLY").as_deref() == Ok("listing") {
        return;
    }
    report["handoff_quality"] = quality::run(root, &sibling("asm_memory_manager"));
    let extraction = bench_memory::run(root);
    println!("{extraction}");
    report["extraction"] = json!(extraction);
    let hostile = bench_hostile::run(root);
    hostile.iter().for_each(|l| println!("{l}"));
    report["hostile"] = json!(hostile);
    let drain = bench_hostile::outbox_drain(root);
    println!("{drain}");
    report["outbox_drain"] = json!(drain);
    let gateway = bench_gateway::run(root, &sibling("asm_monitor"));
    println!("{gateway}");
    report["gateway_hang_to_restart"] = json!(gateway);
    let path = std::env::var("ASM_BENCH_JSON").map(PathBuf::from).unwrap_or_else(|_| PathBuf::from("target/bench.json"));
    match std::fs::write(&path, serde_json::to_vec_pretty(&report).unwrap_or_default()) {
        Ok(()) => println!("written to {}", path.display()),
        Err(e) => println!("cannot write {}: {e}", path.display()),
    }
}

/// One history size: every listing measure, side by side.
fn listing(root: &Path, sessions: usize, bytes: usize, runs: usize, ccusage: Option<&ccusage::Ccusage>) -> Value {
    let home = root.join(format!("home-{sessions}"));
    let _ = std::fs::remove_dir_all(&home);
    let started = Instant::now();
    let (written, truth) = gen_claude_code::generate(&home, sessions, bytes).expect("generate Claude Code history");
    println!("[{sessions}] generated {:.2} GB in {:.1} s", written as f64 / 1e9, started.elapsed().as_secs_f64());
    let files = transcripts(&home.join(".claude/projects"));
    let list = |index: bool| list_command(&home, index, &[]);
    // What the monitor's session step runs each round (ASM_ACTIVE_WITHIN=6).
    let idle_round = || list_command(&home, true, &["--changed-within", "6"]);
    // Warm the page cache, and build the index.
    let first = list(true).output().expect("run session_manager");
    let wrong = check(&first.stdout, &truth);
    let cold = median(runs, || drop(list(false).output()));
    let warm = median(runs, || drop(list(true).output()));
    let stat_floor = median(runs, || measure::stat_all(&files));
    let tail_floor = median(runs, || measure::tail_all(&files, 64 * 1024));
    let cold_usage = measure::usage_of(&mut list(false));
    let warm_usage = measure::usage_of(&mut list(true));
    let round_output = idle_round().output().expect("run session_manager");
    let round_usage = median_usage(runs, idle_round);
    let parse = median(runs, || drop(serde_json::from_slice::<asm_core::session::SessionList>(&round_output.stdout)));
    let cc = ccusage.map(|c| {
        let time = median(3, || drop(c.command(&home).output()));
        (time, measure::usage_of(&mut c.command(&home)))
    });
    let row = json!({
        "sessions": sessions, "gigabytes": written as f64 / 1e9, "files": files.len(),
        "cold_ms": ms(cold), "warm_ms": ms(warm), "stat_floor_ms": ms(stat_floor), "tail_floor_ms": ms(tail_floor),
        "warm_over_stat": ratio(warm, stat_floor), "cold_over_tail": ratio(cold, tail_floor),
        "rss_cold_mib": cold_usage.rss_mib, "rss_warm_mib": warm_usage.rss_mib,
        "idle_round_cpu_ms": round_usage.cpu_ms + ms(parse),
        "ccusage_ms": cc.as_ref().map(|(t, _)| ms(*t)), "ccusage_rss_mib": cc.as_ref().map(|(_, u)| u.rss_mib),
        "ccusage_over_cold": cc.as_ref().map(|(t, _)| ratio(*t, cold)),
        "wrong_sessions": wrong,
    });
    println!("[{sessions}] {row}");
    let _ = std::fs::remove_dir_all(&home);
    row
}

fn list_command(home: &Path, index: bool, extra: &[&str]) -> Command {
    let mut c = Command::new(sibling("asm_session_manager"));
    c.args(["--list", "--json", "--platform", "claude-code"])
        .args(extra)
        .env_clear()
        .env("HOME", home)
        .env("OPENCLAW_STATE_DIR", home.join("state"))
        .env("ASM_LOG_LEVEL", "warn");
    if !index {
        c.arg("--no-index");
    }
    c
}

/// The run with the median CPU time of `runs` runs.
fn median_usage(runs: usize, command: impl Fn() -> Command) -> measure::Usage {
    let mut all: Vec<measure::Usage> = (0..runs.max(1)).map(|_| measure::usage_of(&mut command())).collect();
    all.sort_by(|a, b| a.cpu_ms.total_cmp(&b.cpu_ms));
    all.swap_remove(all.len() / 2)
}

/// The biggest history again with every transcript twice as long: the cold time's growth.
fn doubled(root: &Path, sessions: usize, bytes: usize, runs: usize, base: Option<&Value>) -> Option<f64> {
    let home = root.join("home-doubled");
    gen_claude_code::generate(&home, sessions, bytes * 2).ok()?;
    let mut c = Command::new(sibling("asm_session_manager"));
    c.args(["--list", "--json", "--platform", "claude-code", "--no-index"]).env_clear().env("HOME", &home).env("OPENCLAW_STATE_DIR", home.join("state"));
    let _ = c.output();
    let cold = median(runs, || drop(c.output()));
    let _ = std::fs::remove_dir_all(&home);
    let base = base?.get("cold_ms")?.as_f64()?;
    Some(((ms(cold) / base) - 1.0) * 100.0)
}

/// Sessions whose tokens or window differ from what the generator wrote down.
fn check(stdout: &[u8], truth: &gen_claude_code::Truth) -> usize {
    let Ok(list) = serde_json::from_slice::<asm_core::session::SessionList>(stdout) else { return truth.len() };
    let mut wrong = 0;
    for (id, (tokens, window)) in truth {
        let found = list.sessions.iter().find(|s| &s.session_id == id);
        if found.is_none_or(|s| s.context_tokens != Some(*tokens) || s.context_window != Some(*window) || s.estimated) {
            wrong += 1;
            if wrong <= 3 {
                println!("  wrong: {id}: expected {tokens}/{window}, listed {:?}", found.map(|s| (s.context_tokens, s.context_window, s.estimated)));
            }
        }
    }
    wrong
}

fn print_listing(rows: &[Value], growth: Option<f64>) {
    let f = |v: &Value, k: &str| v.get(k).and_then(Value::as_f64).map_or("-".to_string(), |x| format!("{x:.0}"));
    let r = |v: &Value, k: &str| v.get(k).and_then(Value::as_f64).map_or("-".to_string(), |x| format!("{x:.1}x"));
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|v| {
            vec![
                format!("{} ({:.1} GB)", f(v, "sessions"), v["gigabytes"].as_f64().unwrap_or(0.0)),
                format!("{} ms", f(v, "cold_ms")),
                format!("{} ms", f(v, "warm_ms")),
                format!("{} ms", f(v, "stat_floor_ms")),
                format!("{} ms", f(v, "tail_floor_ms")),
                r(v, "warm_over_stat"),
                r(v, "cold_over_tail"),
                v["ccusage_ms"].as_f64().map_or("not run".to_string(), |c| format!("{c:.0} ms ({})", r(v, "ccusage_over_cold"))),
                format!("{} / {} / {} MiB", f(v, "rss_cold_mib"), f(v, "rss_warm_mib"), f(v, "ccusage_rss_mib")),
                format!("{} ms", f(v, "idle_round_cpu_ms")),
                f(v, "wrong_sessions"),
            ]
        })
        .collect();
    let headers = [
        "HISTORY",
        "COLD",
        "WARM",
        "STAT FLOOR",
        "TAIL FLOOR",
        "WARM/STAT",
        "COLD/TAIL",
        "CCUSAGE (x COLD)",
        "RSS COLD/WARM/CCUSAGE",
        "IDLE ROUND CPU",
        "WRONG",
    ];
    println!("{}", asm_core::table::lines(&headers, &table).join("\n"));
    println!("doubled bytes, same sessions: cold time {}", growth.map_or("not measured".to_string(), |g| format!("{g:+.1} %")));
    println!("goals: warm <= 1.5x stat floor; cold <= 2x tail floor; >= 30x faster than ccusage; RSS <= 32 MiB at 10,000; doubled bytes < +10 %; idle round <= 30 ms CPU; 0 wrong");
}

fn transcripts(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for project in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        for file in std::fs::read_dir(project.path()).into_iter().flatten().flatten() {
            if file.path().extension().is_some_and(|e| e == "jsonl") {
                out.push(file.path());
            }
        }
    }
    out
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}

/// The median wall time of `runs` calls of `f`.
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
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

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| c.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split(':').nth(1)).map(|m| m.trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cpus} CPUs ({model}), warm page cache")
}

fn cache_dir() -> PathBuf {
    std::env::var("ASM_BENCH_CACHE").map(PathBuf::from).unwrap_or_else(|_| PathBuf::from("target/bench-cache"))
}

fn sibling(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let path = exe.with_file_name(name);
    assert!(path.exists(), "{} is missing: build with `cargo build --release --workspace --bins` (make bench does)", path.display());
    path
}
