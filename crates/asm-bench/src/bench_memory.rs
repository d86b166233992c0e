//! Memory extraction benchmark: a 200 MB Claude Code transcript in the real line format
//! (prompts, assistant text, tool calls and results, large request-blob and attachment
//! lines, a compaction), extracted end to end; reports wall time and peak RSS.

use asm_core::env::Env;
use asm_core::session::{Platform, SessionInfo, StoreKind, TranscriptRef};
use asm_core::Runtime;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

pub const TARGET_BYTES: u64 = 200 * 1024 * 1024;
const SESSION_ID: &str = "b0b0b0b0-1111-4222-8333-444455556666";

/// Generates the transcript under `tmp`, extracts it, removes everything it wrote, and
/// returns one line: size, time, peak RSS, and what the extraction found.
pub fn run(tmp: &Path) -> String {
    let root = tmp.join(format!("asm-bench-memory-{}", std::process::id()));
    let result = run_in(&root);
    let _ = std::fs::remove_dir_all(&root);
    match result {
        Ok(line) => line,
        Err(e) => format!("memory extraction: failed: {e}"),
    }
}

fn run_in(root: &Path) -> Result<String, String> {
    let project = root.join("home/.claude/projects/-bench-project");
    std::fs::create_dir_all(&project).map_err(|e| e.to_string())?;
    let path = project.join(format!("{SESSION_ID}.jsonl"));
    let generated = Instant::now();
    let bytes = generate(&path, TARGET_BYTES).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let generate_secs = generated.elapsed().as_secs_f64();
    let env = Env::from_pairs([("HOME", root.join("home").display().to_string()), ("OPENCLAW_STATE_DIR", root.join("state").display().to_string())]);
    let rt = Runtime::from_env(env).map_err(|e| e.to_string())?;
    let info = session_info(path.clone());
    reset_peak_rss();
    let rss_before = vm_kib("VmRSS");
    let started = Instant::now();
    let record = asm_core::memory::extract(&rt, &info).map_err(|e| e.to_string())?;
    let secs = started.elapsed().as_secs_f64();
    let peak = vm_kib("VmHWM");
    let _ = std::fs::remove_file(&path);
    Ok(format!(
        "memory extraction: {:.0} MB Claude Code transcript ({} lines) in {secs:.2} s ({:.0} MB/s), peak RSS {} (RSS before {}); handoff {} bytes, {} files changed, {} commands, {} errors; generated in {generate_secs:.1} s",
        bytes as f64 / 1_048_576.0,
        record.read_stats.records,
        bytes as f64 / 1_048_576.0 / secs.max(1e-9),
        peak.map_or("n/a".into(), |k| format!("{:.1} MB", k as f64 / 1024.0)),
        rss_before.map_or("n/a".into(), |k| format!("{:.1} MB", k as f64 / 1024.0)),
        record.handoff.len(),
        record.sections.files_changed.len(),
        record.sections.commands.len(),
        record.sections.errors.len(),
    ))
}

fn session_info(path: std::path::PathBuf) -> SessionInfo {
    SessionInfo {
        cwd: Some("/bench/project".into()),
        model: Some("claude-sonnet-4-5".into()),
        context_tokens: Some(160_000),
        context_window: Some(200_000),
        context_percent: Some(80.0),
        compact_at_tokens: Some(167_000),
        source: path.display().to_string(),
        transcript: Some(TranscriptRef::new(StoreKind::JsonlFile, path, SESSION_ID)),
        ..SessionInfo::bare(Platform::ClaudeCode, SESSION_ID)
    }
}

/// Writes turns until `target` bytes; returns the bytes written.
pub fn generate(path: &Path, target: u64) -> std::io::Result<u64> {
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let blob = "x".repeat(24_000);
    let output = "line of tool output with some text in it\n".repeat(150);
    let mut written = 0u64;
    let mut turn = 0u64;
    while written < target {
        let lines = turn_lines(turn, &blob, &output);
        for line in lines {
            out.write_all(line.as_bytes())?;
            out.write_all(b"\n")?;
            written += line.len() as u64 + 1;
        }
        turn += 1;
    }
    out.flush()?;
    Ok(written)
}

fn envelope(kind: &str, turn: u64, body: &str) -> String {
    format!(
        r#"{{"parentUuid":"p-{turn}","isSidechain":false,"type":"{kind}",{body},"uuid":"u-{kind}-{turn}","timestamp":"2026-11-24T00:00:00.000Z","userType":"external","entrypoint":"cli","cwd":"/bench/project","sessionId":"{SESSION_ID}","version":"2.1.330","gitBranch":"feat/bench"}}"#
    )
}

fn turn_lines(turn: u64, blob: &str, output: &str) -> Vec<String> {
    let file = format!("/bench/project/src/module_{}.rs", turn % 400);
    let usage = r#""usage":{"input_tokens":4,"cache_creation_input_tokens":1200,"cache_read_input_tokens":150000,"output_tokens":80}"#;
    let mut lines = vec![
        envelope(
            "user",
            turn,
            &format!(
                r#""message":{{"role":"user","content":"Request {turn}: refactor {file} and run the tests; TODO check port 18789 and https://example.com/issues/{turn}"}}"#
            ),
        ),
        format!(r#"{{"type":"attachment","attachment":{{"type":"prompt_snapshot","text":"{blob}"}},"sessionId":"{SESSION_ID}"}}"#),
        format!(r#"{{"type":"api-request-blob","message":{{"role":"user","content":[{{"type":"text","text":"{blob}"}}]}},"sessionId":"{SESSION_ID}"}}"#),
        envelope(
            "assistant",
            turn,
            &format!(
                r#""message":{{"id":"msg_{turn}","role":"assistant","model":"claude-sonnet-4-5","content":[{{"type":"text","text":"I decided to split {file} into two parts. Next step: update the callers."}}],{usage}}}"#
            ),
        ),
        envelope(
            "assistant",
            turn,
            &format!(
                r#""message":{{"id":"msg_{turn}","role":"assistant","model":"claude-sonnet-4-5","content":[{{"type":"tool_use","id":"toolu_r{turn}","name":"Read","input":{{"file_path":"{file}"}}}}],{usage}}}"#
            ),
        ),
        envelope(
            "user",
            turn,
            &format!(
                r#""message":{{"role":"user","content":[{{"tool_use_id":"toolu_r{turn}","type":"tool_result","content":{}}}]}}"#,
                serde_json::Value::from(output)
            ),
        ),
        envelope(
            "assistant",
            turn,
            &format!(
                r#""message":{{"id":"msg_{turn}e","role":"assistant","model":"claude-sonnet-4-5","content":[{{"type":"tool_use","id":"toolu_e{turn}","name":"Edit","input":{{"file_path":"{file}","old_string":"a","new_string":"b"}}}}],{usage}}}"#
            ),
        ),
        envelope("user", turn, &format!(r#""message":{{"role":"user","content":[{{"tool_use_id":"toolu_e{turn}","type":"tool_result","content":"ok"}}]}}"#)),
        envelope(
            "assistant",
            turn,
            &format!(
                r#""message":{{"id":"msg_{turn}b","role":"assistant","model":"claude-sonnet-4-5","content":[{{"type":"tool_use","id":"toolu_b{turn}","name":"Bash","input":{{"command":"cargo test -p module_{}"}}}}],{usage}}}"#,
                turn % 50
            ),
        ),
    ];
    let failed = turn.is_multiple_of(7);
    let result = if failed { "Exit code 101\\nerror[E0599]: no method named `run` found; password=hunter2bench" } else { "test result: ok. 12 passed" };
    lines.push(envelope(
        "user",
        turn,
        &format!(r#""message":{{"role":"user","content":[{{"tool_use_id":"toolu_b{turn}","type":"tool_result","content":"{result}","is_error":{failed}}}]}}"#),
    ));
    if turn % 2000 == 1999 {
        lines.push(envelope("user", turn, r#""isCompactSummary":true,"message":{"role":"user","content":"Summary:\n1. Primary Request and Intent: refactor the modules.\n2. Pending Tasks: callers."}"#));
    }
    lines
}

/// Forgets the peak so that VmHWM measures the extraction alone (Linux ≥ 4.0).
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

pub fn vm_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_transcript_extracts_and_leaves_nothing_behind() {
        let tmp = std::env::temp_dir().join(format!("asm-bench-mem-test-{}", std::process::id()));
        let path = tmp.join("t.jsonl");
        std::fs::create_dir_all(&tmp).unwrap();
        let bytes = generate(&path, 300_000).unwrap();
        assert!(bytes >= 300_000);
        let mut events = 0;
        asm_core::platform::adapter(Platform::ClaudeCode)
            .read_events(&TranscriptRef::new(StoreKind::JsonlFile, path.clone(), "bench"), &mut |_| events += 1)
            .unwrap();
        assert!(events > 10);
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}
