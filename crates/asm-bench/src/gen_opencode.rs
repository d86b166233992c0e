//! Synthetic OpenCode history in the real on-disk format, for the benchmark: an OpenCode
//! 1.18.33 SQLite database (the real schema, from the fixtures) in WAL mode, with the rows
//! OpenCode writes for `opencode run` turns — `session`, `message` (user + assistant with
//! `tokens`), `part` (`text`, `step-start`, `step-finish`) — plus subagent child sessions and
//! compaction summaries, and the global config giving the model's limits.
//!
//! Files, with `root` used as HOME:
//! * `<root>/.local/share/opencode/opencode.db` — the store (i.e. `XDG_DATA_HOME=<root>/.local/share`);
//! * `<root>/.config/opencode/opencode.json` — provider `bench`, model `bench-model`, 200k/8k limits.

use rusqlite::{params, Connection};
use std::io;
use std::path::{Path, PathBuf};

const SCHEMA: &str = include_str!("../../../tests/fixtures/opencode/v1.18.33/opencode.db.schema.sql");
const PROJECT_ID: &str = "bbfd25153a46b00190f7e72c2b13952fa6bd78c4";
const START_MS: i64 = 1_790_000_000_000;
/// Bytes of assistant text per turn; sessions get more turns, not bigger rows, as they grow.
const TEXT_PER_TURN: usize = 4_096;

/// Where the store lands for a HOME of `root`.
pub fn db_path(root: &Path) -> PathBuf {
    root.join(".local/share/opencode/opencode.db")
}

/// Writes `sessions` root sessions of about `bytes_per_session` bytes each (every tenth with
/// a subagent child, every seventh ending in a compaction summary) and returns the bytes on disk.
pub fn generate(root: &Path, sessions: usize, bytes_per_session: usize) -> io::Result<u64> {
    let db = db_path(root);
    let data_dir = db.parent().unwrap_or(root).to_path_buf();
    std::fs::create_dir_all(&data_dir)?;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(data_dir.join(format!("opencode.db{suffix}")));
    }
    write_config(root)?;
    write_db(&db, sessions, bytes_per_session).map_err(io::Error::other)?;
    let mut total = 0;
    for suffix in ["", "-wal"] {
        total += std::fs::metadata(data_dir.join(format!("opencode.db{suffix}"))).map(|m| m.len()).unwrap_or(0);
    }
    Ok(total)
}

fn write_config(root: &Path) -> io::Result<()> {
    let dir = root.join(".config/opencode");
    std::fs::create_dir_all(&dir)?;
    let config = serde_json::json!({
        "$schema": "https://opencode.ai/config.json",
        "provider": {"bench": {"npm": "@ai-sdk/openai-compatible", "options": {"baseURL": "http://127.0.0.1:9/v1"},
                     "models": {"bench-model": {"limit": {"context": 200000, "output": 8000}}}}},
        "model": "bench/bench-model"
    });
    std::fs::write(dir.join("opencode.json"), serde_json::to_vec_pretty(&config).map_err(io::Error::other)?)
}

fn write_db(db: &Path, sessions: usize, bytes_per_session: usize) -> rusqlite::Result<()> {
    let mut conn = Connection::open(db)?;
    conn.execute_batch(SCHEMA)?;
    conn.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))?;
    conn.execute_batch("PRAGMA synchronous=OFF")?;
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO project (id, worktree, vcs, time_created, time_updated, sandboxes) VALUES (?1, '/home/bench/repo', 'git', ?2, ?2, '[]')",
        params![PROJECT_ID, START_MS],
    )?;
    let turns = (bytes_per_session / (TEXT_PER_TURN + 1_200)).max(1);
    {
        let mut writer = Writer { tx: &tx, seq: 0, seed: 0x9E37_79B9_7F4A_7C15 };
        for n in 0..sessions {
            let id = writer.session(n, None, turns)?;
            if n.is_multiple_of(10) {
                writer.session(n, Some(&id), 2)?;
            }
        }
    }
    tx.commit()?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}

struct Writer<'a> {
    tx: &'a rusqlite::Transaction<'a>,
    seq: u64,
    seed: u64,
}

impl Writer<'_> {
    fn next_random(&mut self) -> u64 {
        self.seed = self.seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.seed >> 33
    }

    /// An id like OpenCode's: prefix, 12 hex digits growing with time, 14 more characters.
    fn id(&mut self, prefix: &str) -> String {
        self.seq += 1;
        format!("{prefix}_{:012x}{:014}", (START_MS as u64) * 4096 + self.seq, self.next_random() % 100_000_000_000_000)
    }

    fn session(&mut self, n: usize, parent: Option<&str>, turns: usize) -> rusqlite::Result<String> {
        let id = self.id("ses");
        let created = START_MS + (n as i64) * 60_000;
        let title = if parent.is_some() { format!("Subagent of session {n}") } else { format!("Bench session {n}: refactor module {}", n % 97) };
        self.tx.execute(
            "INSERT INTO session (id, project_id, parent_id, slug, directory, path, title, version, permission, agent, model, time_created, time_updated)
             VALUES (?1, ?2, ?3, ?4, '/home/bench/repo', '', ?5, '1.18.33', NULL, 'build', '{\"id\":\"bench-model\",\"providerID\":\"bench\",\"variant\":\"default\"}', ?6, ?6)",
            params![id, PROJECT_ID, parent, format!("bench-{n}"), title, created],
        )?;
        let mut now = created;
        let mut last_tokens = 0;
        for turn in 0..turns {
            now += 20_000;
            last_tokens = self.turn(&id, now, turn)?;
        }
        if parent.is_none() && n.is_multiple_of(7) {
            now += 20_000;
            self.assistant(&id, now, 0, 42, last_tokens / 10, true)?;
        }
        // The cumulative billing columns OpenCode keeps (never the context).
        self.tx.execute(
            "UPDATE session SET tokens_input = ?2, tokens_output = ?3, tokens_cache_read = ?4, time_updated = ?5 WHERE id = ?1",
            params![id, (last_tokens * turns as u64) as i64, (42 * turns as u64) as i64, (last_tokens / 2) as i64, now],
        )?;
        Ok(id)
    }

    /// One user prompt and one assistant answer; returns the answer's context size.
    fn turn(&mut self, session: &str, at: i64, turn: usize) -> rusqlite::Result<u64> {
        let user = self.id("msg");
        let user_data = serde_json::json!({"role": "user", "time": {"created": at}, "agent": "build",
            "model": {"providerID": "bench", "modelID": "bench-model"}, "summary": {"diffs": []}});
        self.tx.execute("INSERT INTO message VALUES (?1, ?2, ?3, ?3, ?4)", params![user, session, at, user_data.to_string()])?;
        let prompt = serde_json::json!({"type": "text", "text": format!("Turn {turn}: please continue with the next step of the plan.")});
        self.part(&user, session, at, &prompt)?;
        let context = 5_000 + (turn as u64) * 3_000 + self.next_random() % 2_000;
        let input = context / 3;
        let output = 40 + self.next_random() % 400;
        self.assistant(session, at + 500, input, output, context - input, false)?;
        Ok(context)
    }

    /// An answer, or with `summary` a compaction summary (`mode`/`agent` "compaction").
    fn assistant(&mut self, session: &str, at: i64, input: u64, output: u64, cache_read: u64, summary: bool) -> rusqlite::Result<()> {
        let mode = if summary { "compaction" } else { "build" };
        let id = self.id("msg");
        let tokens = serde_json::json!({"total": input + output + cache_read, "input": input, "output": output, "reasoning": 0, "cache": {"write": 0, "read": cache_read}});
        let mut data = serde_json::json!({"parentID": "msg_parent", "role": "assistant", "mode": mode, "agent": mode,
            "path": {"cwd": "/home/bench/repo", "root": "/home/bench/repo"}, "cost": 0, "tokens": tokens,
            "modelID": "bench-model", "providerID": "bench", "time": {"created": at, "completed": at + 400}, "finish": "stop"});
        if summary {
            data["summary"] = serde_json::Value::Bool(true);
        }
        self.tx.execute("INSERT INTO message VALUES (?1, ?2, ?3, ?4, ?5)", params![id, session, at, at + 400, data.to_string()])?;
        let snapshot = "5dadd1311caf60dbb1c640bf8060a87309319eee";
        self.part(&id, session, at, &serde_json::json!({"snapshot": snapshot, "type": "step-start"}))?;
        let text = filler(TEXT_PER_TURN, self.next_random());
        self.part(&id, session, at + 1, &serde_json::json!({"type": "text", "text": text, "time": {"start": at + 1, "end": at + 300}}))?;
        let finish = serde_json::json!({"reason": "stop", "snapshot": snapshot, "type": "step-finish", "tokens": tokens, "cost": 0});
        self.part(&id, session, at + 390, &finish)
    }

    fn part(&mut self, message: &str, session: &str, at: i64, data: &serde_json::Value) -> rusqlite::Result<()> {
        let id = self.id("prt");
        self.tx.execute("INSERT INTO part VALUES (?1, ?2, ?3, ?4, ?4, ?5)", params![id, message, session, at, data.to_string()])?;
        Ok(())
    }
}

/// Prose-like text of `len` bytes (varied so pages do not compress to nothing).
fn filler(len: usize, seed: u64) -> String {
    const WORDS: [&str; 12] = ["the", "module", "refactor", "function", "returns", "error", "handling", "test", "passes", "config", "value", "session"];
    let mut out = String::with_capacity(len + 16);
    let mut state = seed | 1;
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.push_str(WORDS[(state % WORDS.len() as u64) as usize]);
        out.push(' ');
    }
    out.truncate(len);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_history_is_read_by_the_adapter() {
        let root = std::env::temp_dir().join(format!("asm-bench-oc-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let bytes = generate(&root, 30, 20_000).unwrap();
        assert!(bytes > 30 * 20_000 / 2, "{bytes}");
        let env = asm_core::env::Env::from_pairs([("HOME", root.to_str().unwrap())]);
        let rt = asm_core::Runtime::from_env(env).unwrap();
        let list = asm_core::platform::opencode::discover::discover(&rt, &Default::default());
        assert!(list.errors.is_empty(), "{:?}", list.errors);
        assert_eq!(list.sessions.len(), 30);
        assert!(list.sessions.iter().all(|s| !s.estimated && s.context_window == Some(200_000) && s.compact_at_tokens == Some(192_000)));
        assert_eq!(list.sessions.iter().map(|s| s.children.len()).sum::<usize>(), 3);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
