//! Synthetic OpenClaw history in the real on-disk format of 2026.9.6, for the benchmark: the
//! SQLite agent store with OpenClaw's own schema (copied from its dist into
//! `tests/fixtures/openclaw/v2026.9.6/openclaw-agent.schema.sql`), `session_nodes` rows whose
//! `entry_json` is shaped like the real fixture entries (including the large
//! `skillsSnapshot`/`systemPromptReport` fields), and `transcript_events` carrying the bytes.

use rusqlite::{params, Connection};
use serde_json::json;
use std::path::{Path, PathBuf};

const SCHEMA: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/openclaw/v2026.9.6/openclaw-agent.schema.sql"));
/// One agent in ten sessions is `ops`, the rest `main`: a multi-agent machine.
const AGENTS: [&str; 2] = ["main", "ops"];
/// SessionEntry size: real entries carry a skills snapshot and a prompt report that do not
/// grow with the conversation, so the transcript takes the rest of the bytes.
const ENTRY_BYTES: usize = 12_000;
const EVENT_BYTES: usize = 4_000;
const WINDOWS: [u64; 4] = [32_000, 128_000, 200_000, 1_000_000];

/// Writes `sessions` sessions of about `bytes_per_session` bytes each into the state dir
/// `<root>/.openclaw` (so `HOME=<root>` finds it): `agents/{main,ops}/agent/openclaw-agent.sqlite`.
/// Returns the bytes on disk. Nothing is written for 0 sessions.
pub fn generate(root: &Path, sessions: usize, bytes_per_session: usize) -> std::io::Result<u64> {
    if sessions == 0 {
        return Ok(0);
    }
    let mut written = 0;
    for (agent_index, agent) in AGENTS.iter().enumerate() {
        let mine: Vec<usize> = (0..sessions).filter(|i| usize::from(i % 10 == 9) == agent_index).collect();
        if mine.is_empty() {
            continue;
        }
        let db = root.join(".openclaw/agents").join(agent).join("agent/openclaw-agent.sqlite");
        write_store(&db, agent, &mine, bytes_per_session).map_err(std::io::Error::other)?;
        written += file_bytes(&db);
    }
    Ok(written)
}

fn write_store(db: &Path, agent: &str, sessions: &[usize], bytes_per_session: usize) -> rusqlite::Result<()> {
    if let Some(dir) = db.parent() {
        std::fs::create_dir_all(dir).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    }
    let _ = std::fs::remove_file(db);
    let mut conn = Connection::open(db)?;
    conn.pragma_update(None, "journal_mode", "wal")?;
    conn.pragma_update(None, "synchronous", "off")?;
    conn.execute_batch(SCHEMA)?;
    conn.pragma_update(None, "user_version", 23)?;
    let tx = conn.transaction()?;
    {
        let mut node = tx.prepare("INSERT INTO session_nodes (session_key, current_session_id, entry_json, entry_valid, updated_at, status, created_at, created_via, display_name, last_interaction_at, last_activity_at) VALUES (?1, ?2, ?3, 1, ?4, 'done', ?4, 'channel', ?5, ?4, ?4)")?;
        let mut window = tx.prepare("INSERT INTO session_windows (session_id, session_key, reason, created_at, updated_at, status, model_provider, model) VALUES (?1, ?2, 'initial', ?3, ?3, 'done', 'mock', 'mock-1')")?;
        let mut event = tx.prepare("INSERT INTO transcript_events (session_id, seq, event_json, created_at, event_utf8_bytes) VALUES (?1, ?2, ?3, ?4, ?5)")?;
        for &i in sessions {
            let session_id = uuid_like(i);
            let key = session_key(agent, i);
            let at = 1_795_400_000_000u64 + i as u64 * 60_000;
            node.execute(params![key, session_id, entry_json(i, &session_id), at as i64, format!("telegram:g-bench-{}", i % 7)])?;
            window.execute(params![session_id, key, at as i64])?;
            let transcript_bytes = bytes_per_session.saturating_sub(ENTRY_BYTES.min(bytes_per_session / 2));
            for (seq, line) in transcript(&session_id, i, transcript_bytes).iter().enumerate() {
                event.execute(params![session_id, seq as i64, line, at as i64, line.len() as i64])?;
            }
        }
    }
    tx.commit()?;
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
}

fn session_key(agent: &str, i: usize) -> String {
    match i % 4 {
        0 => format!("agent:{agent}:telegram:group:-100{}:topic:{}", 1_000_000_000 + i % 3, 400 + i),
        1 => format!("agent:{agent}:telegram:group:-100{}", 2_000_000_000 + i),
        2 => format!("agent:{agent}:cron-{i}"),
        _ => format!("agent:{agent}:topic-{i}"),
    }
}

fn uuid_like(i: usize) -> String {
    format!("{:08x}-b50a-4d69-942c-{:012x}", i, i * 7919)
}

/// A SessionEntry like the real 2026.9.6 ones; every fifth right after a compaction.
fn entry_json(i: usize, session_id: &str) -> String {
    let window = WINDOWS[i % WINDOWS.len()];
    let total = (window as usize * (i * 37 % 95) / 100) as u64;
    let fresh = !i.is_multiple_of(5);
    let entry = json!({
        "sessionId": session_id, "updatedAt": 1_795_481_741_917u64 + i as u64, "sessionStartedAt": 1_795_481_734_781u64,
        "systemSent": true, "abortedLastRun": false, "chatType": "group", "compactionCount": u64::from(!fresh),
        "createdVia": "channel", "displayName": format!("telegram:g-bench-{}", i % 7), "subject": format!("Bench Forum {}", i % 7),
        "delivery": {"kind": "external", "route": {"channel": "telegram", "accountId": "default", "target": {"to": "telegram:-1001234567890:topic:466"}, "thread": {"id": 466}}},
        "inputTokens": total, "outputTokens": 250, "totalTokens": total, "totalTokensFresh": fresh, "totalTokensVersion": 1,
        "lastInteractionAt": 1_795_481_741_751u64 + i as u64, "lastActivityAt": 1_795_481_741_751u64 + i as u64,
        "sessionDiffBaseline": {"version": 1, "root": "/home/bench/.openclaw/workspace", "files": [{"path": "AGENTS.md", "fingerprint": "7b765078b01bbd293dce2f2c1f4e13a94bc8dc29edbf483115270271e14ec888"}]},
        "skillsSnapshot": {"prompt": filler(ENTRY_BYTES * 2 / 3, i), "skills": (0..20).map(|s| json!({"name": format!("skill-{s}"), "eligible": true})).collect::<Vec<_>>()},
        "status": "done", "modelProvider": "mock", "model": "mock-1", "agentHarnessId": "openclaw", "contextTokensSource": "resolved",
        "contextBudgetStatus": {"schemaVersion": 1, "source": "pre-prompt-estimate", "route": "fits", "shouldCompact": false,
            "estimatedPromptTokens": total + 3000, "contextTokenBudget": window, "reserveTokens": 20_000.min(window / 4),
            "effectiveReserveTokens": 20_000.min(window / 4), "sessionId": session_id},
        "contextTokens": window,
        "systemPromptReport": {"text": filler(ENTRY_BYTES / 4, i + 1)},
        "cacheRead": 0, "cacheWrite": 0, "estimatedCostUsd": 0, "endedAt": 1_795_481_741_914u64 + i as u64, "runtimeMs": 414,
    });
    entry.to_string()
}

/// Version-4 transcript records: header, model snapshot, then user/assistant turns with usage.
fn transcript(session_id: &str, i: usize, bytes: usize) -> Vec<String> {
    let mut lines = vec![
        json!({"type":"session","version":4,"id":session_id,"timestamp":"2026-11-24T00:53:07.967Z","cwd":"/home/bench/.openclaw/workspace"}).to_string(),
        json!({"type":"custom","customType":"model-snapshot","data":{"provider":"mock","modelApi":"openai-completions","modelId":"mock-1"},"id":"m0","parentId":null,"timestamp":"2026-11-24T00:53:10.582Z"}).to_string(),
    ];
    let mut total: usize = lines.iter().map(String::len).sum();
    let mut turn = 0;
    while total < bytes {
        let text = filler(EVENT_BYTES.min(bytes - total).max(16), i + turn);
        let line = if turn % 2 == 0 {
            json!({"type":"message","id":format!("u{turn}"),"parentId":format!("a{}", turn.saturating_sub(1)),"timestamp":"2026-11-24T00:53:09.344Z","message":{"role":"user","content":text}})
        } else {
            json!({"type":"message","id":format!("a{turn}"),"parentId":format!("u{}", turn - 1),"timestamp":"2026-11-24T00:53:10.698Z","message":{"role":"assistant","content":[{"type":"text","text":text}],"api":"openai-completions","provider":"mock","model":"mock-1","usage":{"input":1000 * turn,"output":5,"cacheRead":0,"cacheWrite":0,"totalTokens":1000 * turn + 5},"stopReason":"stop"}})
        }
        .to_string();
        total += line.len();
        lines.push(line);
        turn += 1;
    }
    lines
}

/// Prose-like text of `len` bytes that does not compress to nothing.
fn filler(len: usize, seed: usize) -> String {
    const WORDS: [&str; 12] = ["context", "session", "gateway", "topic", "summary", "tokens", "window", "agent", "reply", "memory", "compaction", "telegram"];
    let mut out = String::with_capacity(len + 12);
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.push_str(WORDS[x % WORDS.len()]);
        out.push(' ');
    }
    out.truncate(len);
    out
}

fn file_bytes(db: &Path) -> u64 {
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    [db.to_path_buf(), wal].iter().filter_map(|p| std::fs::metadata(p).ok()).map(|m| m.len()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use asm_core::env::Env;
    use asm_core::Runtime;

    #[test]
    fn generated_store_is_read_back_by_the_adapter() {
        let root = std::env::temp_dir().join(format!("asm-bench-gen-openclaw-test-{}", std::process::id()));
        let written = generate(&root, 20, 30_000).unwrap();
        assert!(written > 20 * 30_000 / 2, "{written}");
        let rt = Runtime::from_env(Env::from_pairs([("HOME", root.to_string_lossy().into_owned())])).unwrap();
        let list = asm_core::platform::openclaw::discover::discover(&rt, &Default::default());
        std::fs::remove_dir_all(&root).unwrap();
        assert!(list.errors.is_empty(), "{:?}", list.errors);
        assert_eq!(list.sessions.len(), 20);
        assert_eq!(list.sessions.iter().filter(|s| s.source.contains("/agents/ops/")).count(), 2);
        assert!(list.sessions.iter().all(|s| s.context_window.is_some() && s.compact_at_tokens.is_some()));
    }
}
