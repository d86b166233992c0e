//! Extraction of hostile transcripts: one enormous record on each platform (a 100 MB OpenCode
//! text part, a 20 MB and a 100 MB Claude Code user message, a 100 MB OpenClaw message), timed
//! and measured for peak RSS. Goal: at least 100 MB/s and at most 64 MB of RSS each.

use asm_core::env::Env;
use asm_core::session::{Platform, SessionInfo, StoreKind, TranscriptRef};
use asm_core::Runtime;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

const MB: usize = 1024 * 1024;

/// Prose of `len` bytes: sentences with file names, decisions and questions, as a pasted log
/// or a generated document would hold.
fn prose(len: usize) -> String {
    let sentence = "The parser in src/billing/invoice.rs reads 18789 lines. We decided to keep it streaming. Why does it stall? ";
    let mut s = String::with_capacity(len + sentence.len());
    while s.len() < len {
        s.push_str(sentence);
    }
    s.truncate(len);
    s
}

struct Case {
    label: &'static str,
    info: SessionInfo,
    bytes: u64,
}

fn claude_code(root: &Path, label: &'static str, id: &str, message_bytes: usize) -> std::io::Result<Case> {
    let project = root.join("home/.claude/projects/-hostile");
    std::fs::create_dir_all(&project)?;
    let path = project.join(format!("{id}.jsonl"));
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
    let text = serde_json::Value::from(prose(message_bytes)).to_string();
    writeln!(f, r#"{{"type":"user","sessionId":"{id}","cwd":"/w","uuid":"u0","message":{{"role":"user","content":"fix the invoice parser"}}}}"#)?;
    writeln!(f, r#"{{"type":"user","sessionId":"{id}","cwd":"/w","uuid":"u1","message":{{"role":"user","content":{text}}}}}"#)?;
    writeln!(
        f,
        r#"{{"type":"assistant","sessionId":"{id}","cwd":"/w","uuid":"a1","message":{{"id":"m1","role":"assistant","model":"claude-sonnet-4-5","content":[{{"type":"text","text":"Done."}}],"usage":{{"input_tokens":10,"output_tokens":5}}}}}}"#
    )?;
    f.flush()?;
    let bytes = std::fs::metadata(&path)?.len();
    let info = SessionInfo {
        cwd: Some("/w".into()),
        transcript: Some(TranscriptRef::new(StoreKind::JsonlFile, path, id)),
        ..SessionInfo::bare(Platform::ClaudeCode, id)
    };
    Ok(Case { label, info, bytes })
}

fn opencode(root: &Path, part_bytes: usize) -> Result<Case, String> {
    let home = root.join("oc-home");
    crate::gen_opencode::generate(&home, 1, 20_000).map_err(|e| e.to_string())?;
    let db = crate::gen_opencode::db_path(&home);
    let conn = rusqlite::Connection::open(&db).map_err(|e| e.to_string())?;
    let (session, part): (String, String) = conn
        .query_row("SELECT p.session_id, p.id FROM part p WHERE json_extract(p.data, '$.type') = 'text' LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(|e| e.to_string())?;
    let data = serde_json::json!({"type": "text", "text": prose(part_bytes)}).to_string();
    conn.execute("UPDATE part SET data = ?1 WHERE id = ?2", [data, part]).map_err(|e| e.to_string())?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).map_err(|e| e.to_string())?;
    let info = SessionInfo { transcript: Some(TranscriptRef::new(StoreKind::Sqlite, db, &session)), ..SessionInfo::bare(Platform::Opencode, &session) };
    Ok(Case { label: "OpenCode text part", info, bytes: part_bytes as u64 })
}

fn openclaw(root: &Path, message_bytes: usize) -> std::io::Result<Case> {
    let id = "0c1a0000-0000-4000-8000-00000000beef";
    let dir = root.join("ocl");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{id}.jsonl"));
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
    let text = serde_json::Value::from(prose(message_bytes)).to_string();
    writeln!(f, r#"{{"type":"session","version":3,"id":"{id}"}}"#)?;
    writeln!(f, r#"{{"type":"message","message":{{"role":"user","content":[{{"type":"text","text":"fix the invoice parser"}}]}}}}"#)?;
    writeln!(f, r#"{{"type":"message","message":{{"role":"toolResult","content":[{{"type":"text","text":{text}}}]}}}}"#)?;
    f.flush()?;
    let bytes = std::fs::metadata(&path)?.len();
    let info = SessionInfo { transcript: Some(TranscriptRef::new(StoreKind::JsonlFile, path, id)), ..SessionInfo::bare(Platform::Openclaw, id) };
    Ok(Case { label: "OpenClaw message", info, bytes })
}

pub fn run(tmp: &Path) -> Vec<String> {
    let root = tmp.join(format!("asm-bench-hostile-{}", std::process::id()));
    let cases: Vec<Result<Case, String>> = vec![
        opencode(&root, 100 * MB),
        claude_code(&root, "Claude Code user message", "c0c0c0c0-1111-4222-8333-444455556666", 20 * MB).map_err(|e| e.to_string()),
        claude_code(&root, "Claude Code user message", "c1c1c1c1-1111-4222-8333-444455556666", 100 * MB).map_err(|e| e.to_string()),
        openclaw(&root, 100 * MB).map_err(|e| e.to_string()),
    ];
    let env = Env::from_pairs([("HOME", root.join("home").display().to_string()), ("OPENCLAW_STATE_DIR", root.join("state").display().to_string())]);
    let lines = match Runtime::from_env(env) {
        Ok(rt) => {
            cases.into_iter().map(|c| c.and_then(|c| measure(&rt, &c))).map(|r| r.unwrap_or_else(|e| format!("hostile extraction failed: {e}"))).collect()
        }
        Err(e) => vec![format!("hostile extraction: {e}")],
    };
    let _ = std::fs::remove_dir_all(&root);
    lines
}

fn measure(rt: &Runtime, case: &Case) -> Result<String, String> {
    crate::bench_memory::reset_peak_rss();
    let started = Instant::now();
    let record = asm_core::memory::extract(rt, &case.info).map_err(|e| e.to_string())?;
    let secs = started.elapsed().as_secs_f64();
    let peak = crate::bench_memory::vm_kib("VmHWM").map_or("n/a".into(), |k| format!("{:.1} MB", k as f64 / 1024.0));
    let mb = case.bytes as f64 / MB as f64;
    Ok(format!(
        "hostile extraction: {} of {mb:.0} MB in {secs:.2} s ({:.0} MB/s), peak RSS {peak}; handoff {} bytes, {} oversized (goal: >= 100 MB/s, <= 64 MB)",
        case.label,
        mb / secs.max(1e-9),
        record.handoff.len(),
        record.read_stats.oversized
    ))
}

/// Draining a backlog of 5,000 queued notifications (log backend: no network, no throttle),
/// against the same backlog of 1,000: linear means the ratio stays near 5.
pub fn outbox_drain(tmp: &Path) -> String {
    let time = |n: usize| -> Result<f64, String> {
        let root = tmp.join(format!("asm-bench-outbox-{n}-{}", std::process::id()));
        let env = Env::from_pairs([
            ("HOME", root.display().to_string()),
            ("OPENCLAW_STATE_DIR", root.join("state").display().to_string()),
            ("ASM_NOTIFY_BACKEND", "log".into()),
        ]);
        let rt = Runtime::from_env(env).map_err(|e| e.to_string())?;
        let outbox = asm_core::notify::Outbox::at(&rt.paths);
        let now = chrono::Utc::now();
        for i in 0..n {
            outbox
                .append_message(&format!("20260101T000000.000Z-1-{i}-00000000"), now, "test_backlog", &format!("backlog message {i}"))
                .map_err(|e| e.to_string())?;
        }
        let started = Instant::now();
        let opts = asm_core::notify::PassOptions { max_wait: std::time::Duration::from_secs(3600), force: false };
        let report = asm_core::notify::Notifier::new(&rt).deliver_pending(opts);
        let secs = started.elapsed().as_secs_f64();
        let _ = std::fs::remove_dir_all(&root);
        if report.delivered.len() != n {
            return Err(format!("{} of {n} delivered", report.delivered.len()));
        }
        Ok(secs)
    };
    match (time(1_000), time(5_000)) {
        (Ok(small), Ok(big)) => format!(
            "outbox drain: 1,000 queued in {small:.2} s, 5,000 in {big:.2} s: ratio {:.1} (linear: 5; the quadratic drain took 69 s for 5,000)",
            big / small
        ),
        (Err(e), _) | (_, Err(e)) => format!("outbox drain: failed: {e}"),
    }
}
