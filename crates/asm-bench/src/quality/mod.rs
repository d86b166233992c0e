//! The handoff quality probe: long sessions generated in all three platforms' formats with
//! their ground truth, extracted by the real `asm_memory_manager`, and scored per category
//! (recall in the handoff and in the memory file, precision of the memory's lists), with the
//! handoff's size, the extraction time and a determinism check. `make quality` runs it alone.

mod render;
mod score;
mod script;

use score::{Score, Tally, CATEGORIES};
use script::{Session, Todo};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// Turns per generated session: a short day, a long day, a very long one.
const TURNS: [usize; 4] = [150, 300, 500, 800];
/// ASM_HANDOFF_MAX_BYTES's default.
const HANDOFF_MAX_BYTES: usize = 6_000;

/// Goals of the issue: (category, recall in the handoff at least, precision at least).
const GOALS: [(&str, Option<f64>, Option<f64>); 7] = [
    ("goal", Some(1.0), None),
    ("latest request", Some(1.0), None),
    ("files changed", Some(0.95), None),
    ("failed commands", Some(0.95), None),
    ("decisions", Some(0.90), Some(0.90)),
    ("open items", Some(0.90), Some(0.90)),
    ("identifiers", None, Some(0.90)),
];

struct Platform {
    name: &'static str,
    id: &'static str,
    cwd: &'static str,
    todo: Todo,
}

const PLATFORMS: [Platform; 3] = [
    Platform { name: "Claude Code", id: "claude-code", cwd: "/home/bench/work/billing", todo: Todo::Tool },
    Platform { name: "OpenCode", id: "opencode", cwd: "/home/bench/repo-billing", todo: Todo::Tool },
    Platform { name: "OpenClaw", id: "openclaw", cwd: "/home/bench/.openclaw/workspace", todo: Todo::Checklist },
];
const CHAT_ID: &str = "-1001234567890";

pub fn run(root: &Path, memory_manager: &Path) -> Value {
    let home = root.join("quality-home");
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home).expect("quality home");
    let mut all = Vec::new();
    for (p, platform) in PLATFORMS.iter().enumerate() {
        let sessions: Vec<Session> = TURNS.iter().enumerate().map(|(i, turns)| session(p, i, *turns, platform)).collect();
        write(&home, platform, &sessions).expect("write the generated sessions");
        all.extend(sessions.into_iter().map(|s| (platform, s)));
    }
    let mut total = Score::default();
    let mut per_platform: Vec<(String, Score)> = PLATFORMS.iter().map(|p| (p.name.to_string(), Score::default())).collect();
    let (mut sizes, mut times, mut deterministic) = (Vec::new(), Vec::new(), true);
    let recorded_home = root.join("quality-recorded");
    let recorded = recorded_sessions(&recorded_home).expect("the recorded sessions and their truth");
    let recorded_count = recorded.len();
    let cases = all.iter().map(|(p, s)| (&home, *p, s)).chain(recorded.iter().map(|(p, s)| (&recorded_home, *p, s)));
    for (home, platform, s) in cases {
        let Some(first) = extract(home, memory_manager, platform, s) else {
            println!("quality: {} session {} was not extracted", platform.name, s.id);
            continue;
        };
        let again = extract(home, memory_manager, platform, s);
        deterministic &= again.as_ref().is_some_and(|a| same_output(a, &first));
        if std::env::var_os("ASM_QUALITY_DEBUG").is_some() {
            println!("{} session {} ({} steps):", platform.name, s.id, s.steps.len());
        }
        let score = score::score(&s.truth, &first.handoff, &first.memory);
        total.add(&score);
        if let Some((_, p)) = per_platform.iter_mut().find(|(n, _)| n == platform.name) {
            p.add(&score);
        }
        sizes.push(first.handoff.len());
        times.push(first.millis);
    }
    let _ = std::fs::remove_dir_all(&recorded_home);
    let report = json!({
        "sessions": all.len(), "recorded_sessions": recorded_count, "turns": TURNS, "platforms": PLATFORMS.iter().map(|p| p.name).collect::<Vec<_>>(),
        "categories": table_json(&total), "per_platform": per_platform.iter().map(|(n, s)| (n.clone(), table_json(s))).collect::<serde_json::Map<_, _>>(),
        "secrets_leaked": total.secrets_leaked, "handoff_bytes_max": sizes.iter().max(), "handoff_bytes_median": median(&mut sizes.iter().map(|s| *s as f64).collect::<Vec<_>>()),
        "handoff_budget": HANDOFF_MAX_BYTES, "extract_ms_median": median(&mut times.clone()), "extract_ms_max": times.iter().cloned().fold(0.0, f64::max),
        "deterministic": deterministic,
    });
    print_table(&total, &per_platform, &report);
    let _ = std::fs::remove_dir_all(&home);
    report
}

fn session(p: usize, i: usize, turns: usize, platform: &Platform) -> Session {
    let id = match platform.id {
        "opencode" => format!("ses_quality{p}{i}aBcDeFgHiJkLmN"),
        _ => format!("5e55{p:04}-{i:04}-4a11-8b22-0000c0ffee{p}{i}"),
    };
    let chat = (platform.todo == Todo::Checklist).then_some(CHAT_ID);
    let mut s = script::generate(p * 10 + i, turns, platform.cwd, &id, chat, platform.todo);
    if platform.id == "claude-code" {
        // Claude Code records the git branch on every line: the work's branch, worth keeping.
        s.truth.identifiers.push(render::CLAUDE_CODE_BRANCH.to_string());
    }
    s
}

/// The sessions the real tools recorded (the e2e fixtures), with the truth written by hand
/// in `tests/fixtures/quality/recorded-truth.json`.
fn recorded_sessions(home: &Path) -> std::io::Result<Vec<(&'static Platform, Session)>> {
    let fixtures = asm_testkit::fixtures_dir();
    let _ = std::fs::remove_dir_all(home);
    asm_testkit::copy_tree(&fixtures.join("claude-code/projects"), &home.join(".claude/projects"))?;
    let db = home.join(".local/share/opencode/opencode.db");
    std::fs::create_dir_all(db.parent().unwrap_or(home))?;
    drop(asm_testkit::opencode::fixture_db(&db));
    let truth: Value = serde_json::from_slice(&std::fs::read(fixtures.join("quality/recorded-truth.json"))?)?;
    let mut sessions = Vec::new();
    for entry in truth["sessions"].as_array().into_iter().flatten() {
        let platform = PLATFORMS.iter().find(|p| entry["platform"] == p.id).ok_or_else(|| std::io::Error::other("unknown platform in the truth file"))?;
        let t: script::Truth = serde_json::from_value(entry.clone())?;
        let id = entry["session_id"].as_str().unwrap_or_default().to_string();
        sessions.push((platform, Session { id, cwd: String::new(), steps: Vec::new(), truth: t }));
    }
    Ok(sessions)
}

fn write(home: &Path, platform: &Platform, sessions: &[Session]) -> std::io::Result<()> {
    match platform.id {
        "claude-code" => sessions.iter().try_for_each(|s| render::claude_code(home, s)),
        "opencode" => render::opencode(home, &sessions.iter().collect::<Vec<_>>()),
        _ => render::openclaw(
            home,
            &sessions.iter().enumerate().map(|(i, s)| (s, format!("agent:main:telegram:group:{CHAT_ID}:topic:{}", 470 + i))).collect::<Vec<_>>(),
        ),
    }
}

struct Extracted {
    handoff: String,
    memory: Value,
    millis: f64,
}

fn extract(home: &Path, memory_manager: &Path, platform: &Platform, s: &Session) -> Option<Extracted> {
    let command = |args: &[&str]| {
        let mut c = Command::new(memory_manager);
        c.args(args)
            .env_clear()
            .env("HOME", home)
            .env("OPENCLAW_STATE_DIR", home.join(".openclaw"))
            .env("PATH", "/usr/bin:/bin")
            .env("ASM_LOG_LEVEL", "warn")
            .env("ASM_HANDOFF_MAX_BYTES", HANDOFF_MAX_BYTES.to_string());
        c
    };
    let started = Instant::now();
    let out = command(&["--action", "extract", "--session-id", &s.id, "--platform", platform.id]).output().ok()?;
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    if !out.status.success() {
        println!("quality: extract {}: {}", s.id, String::from_utf8_lossy(&out.stderr).trim());
        return None;
    }
    let handoff = command(&["--action", "handoff", "--session-id", &s.id]).output().ok()?;
    let memory = std::fs::read(home.join(".openclaw/.session_memory").join(format!("{}.json", s.id))).ok()?;
    Some(Extracted { handoff: String::from_utf8_lossy(&handoff.stdout).into_owned(), memory: serde_json::from_slice(&memory).ok()?, millis })
}

/// The same sections and the same handoff, apart from the extraction time it states.
fn same_output(a: &Extracted, b: &Extracted) -> bool {
    let timeless = |h: &str| h.lines().map(|l| l.split(" · extracted ").next().unwrap_or(l).to_string()).collect::<Vec<_>>();
    without_times(&a.memory) == without_times(&b.memory) && timeless(&a.handoff) == timeless(&b.handoff)
}

/// The memory file apart from the times it records and the handoff (compared on its own).
fn without_times(memory: &Value) -> Value {
    let mut m = memory.clone();
    if let Some(map) = m.as_object_mut() {
        for key in ["extracted_at", "first_extracted_at", "handoff"] {
            map.remove(key);
        }
    }
    m
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn table_json(score: &Score) -> Value {
    score
        .tallies
        .iter()
        .map(|(name, t)| json!({"category": name, "items": t.items, "recall_handoff": t.recall_handoff(), "recall_memory": t.recall_memory(), "precision": t.precision()}))
        .collect()
}

fn pct(v: Option<f64>) -> String {
    v.map_or("—".into(), |x| format!("{:.1} %", x * 100.0))
}

fn goal_text(category: &str) -> String {
    match GOALS.iter().find(|(c, _, _)| *c == category) {
        Some((_, recall, precision)) => {
            let mut parts = Vec::new();
            if let Some(r) = recall {
                parts.push(format!("recall ≥ {:.0} %", r * 100.0));
            }
            if let Some(p) = precision {
                parts.push(format!("precision ≥ {:.0} %", p * 100.0));
            }
            parts.join(", ")
        }
        None if category == "platform ids kept" => "0 kept".into(),
        None => "—".into(),
    }
}

fn met(category: &str, t: &Tally) -> &'static str {
    if category == "platform ids kept" {
        return if t.in_memory == 0 { "met" } else { "NOT met" };
    }
    let Some((_, recall, precision)) = GOALS.iter().find(|(c, _, _)| *c == category) else { return "" };
    let ok_recall = recall.is_none_or(|r| t.recall_handoff().is_none_or(|x| x >= r));
    let ok_precision = precision.is_none_or(|p| t.precision().is_none_or(|x| x >= p));
    if ok_recall && ok_precision {
        "met"
    } else {
        "NOT met"
    }
}

fn print_table(total: &Score, per_platform: &[(String, Score)], report: &Value) {
    let mut table = comfy_table::Table::new();
    table.load_style(comfy_table::presets::ASCII_MARKDOWN);
    let mut header = vec!["category".to_string(), "items".into(), "recall (handoff)".into(), "recall (memory)".into(), "precision".into()];
    header.extend(per_platform.iter().map(|(n, _)| format!("{n} recall")));
    header.extend(["goal".to_string(), "".into()]);
    table.set_header(header);
    for (i, category) in CATEGORIES.iter().enumerate() {
        let t = &total.tallies[i].1;
        let mut row = if *category == "platform ids kept" {
            vec![category.to_string(), t.items.to_string(), "—".into(), format!("{} kept", t.in_memory), "—".into()]
        } else {
            vec![category.to_string(), t.items.to_string(), pct(t.recall_handoff()), pct(t.recall_memory()), pct(t.precision())]
        };
        row.extend(per_platform.iter().map(|(_, s)| {
            let t = &s.tallies[i].1;
            if *category == "platform ids kept" {
                format!("{} kept", t.in_memory)
            } else {
                pct(t.recall_handoff())
            }
        }));
        row.extend([goal_text(category), met(category, t).to_string()]);
        table.add_row(row);
    }
    println!(
        "handoff quality: {} generated sessions ({} turns each, per platform, all three formats) and {} recorded by the real claude and opencode",
        report["sessions"],
        TURNS.map(|t| t.to_string()).join("/"),
        report["recorded_sessions"]
    );
    println!("{table}");
    println!(
        "handoff size: median {} B, max {} B (budget {} B); extraction: median {:.0} ms, max {:.0} ms per session; secrets leaked: {}; deterministic: {}",
        report["handoff_bytes_median"],
        report["handoff_bytes_max"],
        HANDOFF_MAX_BYTES,
        report["extract_ms_median"].as_f64().unwrap_or(0.0),
        report["extract_ms_max"].as_f64().unwrap_or(0.0),
        report["secrets_leaked"],
        report["deterministic"]
    );
}
