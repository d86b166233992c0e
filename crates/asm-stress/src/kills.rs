//! The kill loops: a writer is started, killed with SIGKILL at a random moment, and what it
//! left on disk is checked; at the end a clean run must finish the work, losing nothing.

use crate::{bin, env_of, Lcg, Outcome};
use asm_core::env::Env;
use asm_core::state::{Section, StateStore};
use asm_core::Runtime;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

#[derive(Debug, Default, Serialize, Deserialize)]
struct Counter {
    n: u64,
    #[serde(default)]
    pad: String,
}

impl Section for Counter {
    const NAME: &'static str = "stress";
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Other {
    n: u64,
}

impl Section for Other {
    const NAME: &'static str = "other";
}

/// The children this binary plays: `child state <file>`, `child outbox <home>`.
pub fn child(args: &[String]) -> Option<i32> {
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["child", "state", file] => {
            let store = StateStore::new(*file);
            loop {
                let bumped = store.update(|c: &mut Counter| {
                    c.n += 1;
                    c.pad = "x".repeat(20_000 + (c.n as usize % 7) * 1000);
                });
                if bumped.is_err() {
                    return Some(1);
                }
            }
        }
        ["child", "outbox", home] => {
            let rt = Runtime::from_env(Env::from_pairs(env_of(Path::new(home)))).ok()?;
            asm_core::cli::start_logging("stress", asm_core::logging::LogTarget::File, &rt);
            let queued = Path::new(home).join("queued.txt");
            let notifier = asm_core::notify::Notifier::new(&rt);
            for seq in 0u64.. {
                let text = format!("stress message {}-{seq}", std::process::id());
                notifier.emit(&asm_core::notify::Event::Test { text: text.clone() });
                // Durably queued once emit returned: it must be delivered, sooner or later.
                let mut f = std::fs::OpenOptions::new().append(true).create(true).open(&queued).ok()?;
                std::io::Write::write_all(&mut f, format!("{text}\n").as_bytes()).ok()?;
            }
            Some(0)
        }
        _ => None,
    }
}

fn spawn(cmd: &mut Command) -> Child {
    cmd.stdout(Stdio::null()).stderr(Stdio::null()).stdin(Stdio::null()).spawn().expect("spawn a writer")
}

fn kill_after(mut child: Child, after: Duration) {
    std::thread::sleep(after);
    let _ = child.kill();
    let _ = child.wait();
}

fn self_exe() -> std::path::PathBuf {
    std::env::current_exe().expect("current exe")
}

/// State writes: the file always parses, another section is never lost, the counter never
/// goes back.
pub fn state(root: &Path, kills: usize) -> Outcome {
    let mut out = Outcome::new("kill: state file writes");
    let file = root.join("state-kill/.asm_state.json");
    std::fs::create_dir_all(file.parent().unwrap_or(root)).ok();
    let store = StateStore::new(&file);
    let _ = store.update(|o: &mut Other| o.n = 42);
    let mut rng = Lcg(0x5eed);
    let mut last = 0;
    for round in 0..kills {
        kill_after(spawn(Command::new(self_exe()).args(["child", "state", &file.display().to_string()])), Duration::from_micros(5_000 + rng.below(40_000)));
        let doc: Option<serde_json::Value> = std::fs::read_to_string(&file).ok().and_then(|t| serde_json::from_str(&t).ok());
        let n = doc.as_ref().and_then(|d| d["stress"]["n"].as_u64()).unwrap_or(0);
        let other = doc.as_ref().and_then(|d| d["other"]["n"].as_u64());
        out.check(doc.is_some() && other == Some(42) && n >= last, || format!("state round {round}: torn or lost (n {n}, last {last}, other {other:?})"));
        last = n;
    }
    out.note = format!("counter reached {last}");
    out
}

/// A Claude Code transcript of about `bytes`, one session.
fn claude_transcript(home: &Path, id: &str, bytes: usize) -> std::io::Result<()> {
    use std::io::Write;
    let project = home.join(".claude/projects/-w");
    std::fs::create_dir_all(&project)?;
    let mut f = std::io::BufWriter::new(std::fs::File::create(project.join(format!("{id}.jsonl")))?);
    let filler = "We decided to keep the reader streaming; next step: update the callers of src/parser.rs. ".repeat(40);
    let mut written = 0;
    let mut turn = 0;
    while written < bytes {
        let user = format!(
            r#"{{"type":"user","sessionId":"{id}","cwd":"/w","uuid":"u{turn}","message":{{"role":"user","content":"request {turn}: split the parser"}}}}"#
        );
        let answer = format!(
            r#"{{"type":"assistant","sessionId":"{id}","cwd":"/w","uuid":"a{turn}","message":{{"id":"m{turn}","role":"assistant","model":"claude-sonnet-4-5","content":[{{"type":"text","text":"{filler}"}}],"usage":{{"input_tokens":100,"cache_read_input_tokens":170000,"output_tokens":5}}}}}}"#
        );
        writeln!(f, "{user}\n{answer}")?;
        written += user.len() + answer.len() + 2;
        turn += 1;
    }
    f.flush()
}

const SESSION: &str = "5e55e55e-1111-4222-8333-444455556666";

/// Memory extraction: the memory file is absent or whole after every kill; a clean run at the
/// end writes it and no temp file is left.
pub fn memory(root: &Path, kills: usize) -> Outcome {
    let mut out = Outcome::new("kill: memory extraction");
    let home = root.join("memory-kill");
    if let Err(e) = claude_transcript(&home, SESSION, 30 * 1024 * 1024) {
        out.check(false, || format!("cannot write the transcript: {e}"));
        return out;
    }
    let memory = home.join(format!("state/.session_memory/{SESSION}.json"));
    let extract = || {
        let mut c = Command::new(bin("memory_manager"));
        c.args(["--action", "extract", "--session-id", SESSION]).env_clear().envs(env_of(&home));
        c
    };
    let mut rng = Lcg(0x3e3);
    for round in 0..kills {
        kill_after(spawn(&mut extract()), Duration::from_micros(rng.below(400_000)));
        let whole = !memory.exists()
            || std::fs::read(&memory).ok().and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok()).is_some_and(|v| v["session_id"] == SESSION);
        out.check(whole, || format!("memory round {round}: a torn memory file"));
    }
    let clean = extract().output().map(|o| o.status.success()).unwrap_or(false);
    let leftovers = std::fs::read_dir(home.join("state/.session_memory"))
        .map(|d| d.flatten().filter(|e| e.file_name().to_string_lossy().contains(".tmp.")).count())
        .unwrap_or(0);
    out.check(clean && memory.exists() && leftovers == 0, || format!("the clean run: ok {clean}, {leftovers} temp files left"));
    out.note = "30 MB transcript".into();
    out
}

/// Outbox appends and deliveries: every message that was queued is delivered; a message
/// delivered twice (killed between its send and its `sent` record) is counted.
pub fn outbox(root: &Path, kills: usize) -> Outcome {
    let mut out = Outcome::new("kill: outbox append + delivery");
    let home = root.join("outbox-kill");
    std::fs::create_dir_all(home.join("state")).ok();
    let mut rng = Lcg(0x0b0);
    for round in 0..kills {
        kill_after(spawn(Command::new(self_exe()).args(["child", "outbox", &home.display().to_string()])), Duration::from_micros(2_000 + rng.below(30_000)));
        let parses = asm_core::notify::Outbox::at(&asm_core::paths::Paths::resolve(&Env::from_pairs(env_of(&home))).expect("paths")).snapshot().is_ok();
        out.check(parses, || format!("outbox round {round}: unreadable"));
    }
    // Drain what the killed writers left, as the next tool run would.
    if let Ok(rt) = Runtime::from_env(Env::from_pairs(env_of(&home))) {
        asm_core::cli::start_logging("stress", asm_core::logging::LogTarget::File, &rt);
        asm_core::notify::Notifier::new(&rt).flush();
    }
    let queued: Vec<String> = std::fs::read_to_string(home.join("queued.txt")).unwrap_or_default().lines().map(str::to_string).collect();
    let mut delivered: BTreeMap<String, usize> = BTreeMap::new();
    for entry in std::fs::read_dir(home.join("state/logs")).into_iter().flatten().flatten() {
        let log = std::fs::read_to_string(entry.path()).unwrap_or_default();
        for line in log.lines().filter_map(|l| l.split_once("notification: ").map(|(_, t)| t.to_string())) {
            *delivered.entry(line).or_default() += 1;
        }
    }
    let lost: Vec<&String> = queued.iter().filter(|q| !delivered.contains_key(*q)).collect();
    let duplicates = delivered.values().filter(|n| **n > 1).count();
    out.check(lost.is_empty(), || format!("{} queued message(s) never delivered, e.g. {:?}", lost.len(), lost.first()));
    out.note = format!("{} queued, {} delivered, {duplicates} delivered twice (kill between send and record)", queued.len(), delivered.len());
    out
}

/// Monitor rounds: the state and memory files always parse; a clean round at the end finishes
/// the switch it started, once.
pub fn monitor(root: &Path, kills: usize) -> Outcome {
    let mut out = Outcome::new("kill: monitor rounds");
    let home = root.join("monitor-kill");
    if let Err(e) = claude_transcript(&home, SESSION, 2 * 1024 * 1024) {
        out.check(false, || format!("cannot write the transcript: {e}"));
        return out;
    }
    let once = || {
        let mut c = Command::new(bin("monitor"));
        c.arg("--once").env_clear().envs(env_of(&home)).env("ASM_BIN_DIR", bin("monitor").parent().unwrap_or(Path::new(".")));
        c
    };
    let parses = |p: &Path| !p.exists() || std::fs::read(p).ok().and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok()).is_some();
    let memory = home.join(format!("state/.session_memory/{SESSION}.json"));
    let mut rng = Lcg(0x40);
    for round in 0..kills {
        kill_after(spawn(&mut once()), Duration::from_micros(rng.below(600_000)));
        let ok = parses(&home.join("state/.asm_state.json")) && parses(&memory);
        out.check(ok, || format!("monitor round {round}: a torn state or memory file"));
    }
    let clean = once().output().map(|o| o.status.code()).ok().flatten();
    let state: serde_json::Value = std::fs::read(home.join("state/.asm_state.json")).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
    let finished = state["switching"]["switches"][format!("claude-code:{SESSION}")]["finished_at"].is_string();
    let notices: usize = std::fs::read_dir(home.join("state/logs"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default().matches("event context_switch queued").count())
        .sum();
    out.check(clean == Some(0) && finished && memory.exists(), || format!("the clean round: exit {clean:?}, switch finished {finished}"));
    out.note = format!("{notices} switch notice(s) queued in all");
    out
}
