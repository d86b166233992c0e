//! The measurement index can never make a number differ from a fresh read: the list with the
//! index (after it was built, and after every change) is the list `--no-index` gives, over the
//! Claude Code and OpenCode fixtures and a generated history changed at random — lines
//! appended, files cut short, rewritten in place, replaced by another inode, deleted, added;
//! OpenCode turns added with their session's `time_updated` moved.

use asm_testkit::TempDir;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

fn list(home: &TempDir, no_index: bool) -> Value {
    list_with(home, no_index, &[])
}

fn list_with(home: &TempDir, no_index: bool, extra: &[&str]) -> Value {
    let mut c = Command::new(env!("CARGO_BIN_EXE_asm_session_manager"));
    c.args(["--list", "--json"]).args(extra).env_clear().env("HOME", home.path()).env("OPENCLAW_STATE_DIR", home.join("state")).env("PATH", "/usr/bin:/bin");
    if no_index {
        c.arg("--no-index");
    }
    let out = c.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    // Liveness follows the clock, not the transcript: compared apart from the numbers.
    for s in doc["sessions"].as_array_mut().unwrap() {
        s.as_object_mut().unwrap().remove("live");
    }
    doc
}

fn assert_same(home: &TempDir, when: &str) {
    let fresh = list(home, true);
    let indexed = list(home, false);
    assert_eq!(indexed, fresh, "{when}: the index changed a number");
}

struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

const PROJECT: &str = ".claude/projects/-home-u-gen";

fn line(rng: &mut Rng, id: &str, turn: u64) -> String {
    let model = ["claude-sonnet-4-5", "claude-opus-5-5", "claude-haiku-4-5"][rng.below(3) as usize];
    match rng.below(6) {
        0 => json!({"type": "user", "sessionId": id, "cwd": "/home/u/gen", "uuid": format!("u{turn}"), "message": {"role": "user", "content": format!("request {turn}")}}),
        1 => json!({"type": "system", "subtype": "compact_boundary", "sessionId": id, "uuid": format!("c{turn}"), "compactMetadata": {"trigger": "auto", "preTokens": 160_000, "postTokens": rng.below(40_000)}}),
        2 => json!({"type": "attachment", "sessionId": id, "uuid": format!("m{turn}"), "attachment": {"type": "model", "identity": {"modelId": model}}}),
        _ => json!({"type": "assistant", "sessionId": id, "cwd": "/home/u/gen", "uuid": format!("a{turn}"), "message": {"id": format!("msg{turn}"), "role": "assistant", "model": model,
            "content": [{"type": "text", "text": "ok"}], "usage": {"input_tokens": rng.below(100), "cache_creation_input_tokens": rng.below(5_000), "cache_read_input_tokens": rng.below(250_000), "output_tokens": 5}}}),
    }
    .to_string()
}

/// A transcript of 1 to 40 random lines.
fn write_session(path: &Path, rng: &mut Rng) {
    let lines = 1 + rng.below(40);
    let id = path.file_stem().unwrap().to_str().unwrap().to_string();
    let text: String = (0..lines).map(|t| line(rng, &id, t) + "\n").collect();
    std::fs::write(path, text).unwrap();
}

fn session_path(home: &TempDir, n: u64) -> PathBuf {
    home.join(PROJECT).join(format!("{n:08x}-1111-4222-8333-444455556666.jsonl"))
}

#[test]
fn the_indexed_list_is_the_fresh_list_through_random_changes() {
    let home = TempDir::new("index-equivalence");
    asm_testkit::copy_tree(&asm_testkit::fixtures_dir().join("claude-code/projects"), &home.join(".claude/projects")).unwrap();
    let oc = home.join(".local/share/opencode");
    std::fs::create_dir_all(&oc).unwrap();
    let db = asm_testkit::opencode::fixture_db(&oc.join("opencode.db"));
    std::fs::create_dir_all(home.join(PROJECT)).unwrap();
    let mut rng = Rng(0x1de4);
    for n in 0..30 {
        write_session(&session_path(&home, n), &mut rng);
    }
    assert_same(&home, "first run (the index is built)");
    assert_same(&home, "second run (the index is used)");
    let mut next = 30;
    for round in 0..25 {
        let path = session_path(&home, rng.below(next));
        let action = rng.below(7);
        match action {
            // Appended lines (the usual case).
            0 | 1 if path.exists() => {
                let id = path.file_stem().unwrap().to_str().unwrap().to_string();
                let extra: String = (0..1 + rng.below(5)).map(|t| line(&mut rng, &id, 1000 + t) + "\n").collect();
                let mut text = std::fs::read_to_string(&path).unwrap();
                text.push_str(&extra);
                std::fs::write(&path, text).unwrap();
            }
            // Cut short at a line boundary.
            2 if path.exists() => {
                let text = std::fs::read_to_string(&path).unwrap();
                let keep: Vec<&str> = text.lines().take(rng.below(text.lines().count() as u64) as usize).collect();
                std::fs::write(&path, keep.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
            }
            // Rewritten in place, or replaced by a new file (another inode).
            3 if path.exists() => write_session(&path, &mut rng),
            4 if path.exists() => {
                let tmp = path.with_extension("tmp");
                write_session(&tmp, &mut rng);
                std::fs::rename(&tmp, &path).unwrap();
            }
            5 if path.exists() => std::fs::remove_file(&path).unwrap(),
            // An OpenCode turn, with the session's time_updated moved as OpenCode moves it.
            6 => {
                let (session, at): (String, i64) = db
                    .query_row("SELECT id, time_updated FROM session ORDER BY id LIMIT 1 OFFSET ?1", [rng.below(2) as i64], |r| Ok((r.get(0)?, r.get(1)?)))
                    .unwrap();
                let data = json!({"role": "assistant", "time": {"created": at + 1000}, "modelID": "mock-model", "providerID": "mock",
                    "tokens": {"input": rng.below(9000), "output": 1 + rng.below(500), "reasoning": 0, "cache": {"read": rng.below(50_000), "write": 0}}});
                db.execute(
                    "INSERT INTO message (id, session_id, time_created, time_updated, data) VALUES (?1, ?2, ?3, ?3, ?4)",
                    rusqlite::params![format!("msg_r{round}"), session, at + 1000, data.to_string()],
                )
                .unwrap();
                db.execute("UPDATE session SET time_updated = ?1 WHERE id = ?2", rusqlite::params![at + 1000, session]).unwrap();
            }
            _ => {
                write_session(&session_path(&home, next), &mut rng);
                next += 1;
            }
        }
        assert_same(&home, &format!("round {round}, change {action}"));
    }
    // A corrupt index is rebuilt, never trusted.
    std::fs::write(home.join("state/.asm_index.sqlite"), "garbage").unwrap();
    assert_same(&home, "after the index was corrupted");
}

#[test]
fn changed_within_lists_exactly_the_sessions_written_lately_and_counts_the_rest() {
    let home = TempDir::new("index-changed-within");
    std::fs::create_dir_all(home.join(PROJECT)).unwrap();
    let mut rng = Rng(0x5eed);
    for n in 0..12 {
        let path = session_path(&home, n);
        write_session(&path, &mut rng);
        if n % 3 != 0 {
            assert!(Command::new("touch").args(["-d", "3 days ago"]).arg(&path).status().unwrap().success());
        }
    }
    let fresh = list(&home, true);
    for no_index in [true, false, false] {
        let recent = list_with(&home, no_index, &["--changed-within", "1.5"]);
        let ids = |doc: &Value| doc["sessions"].as_array().unwrap().iter().map(|s| s["session_id"].as_str().unwrap().to_string()).collect::<Vec<_>>();
        let expected: Vec<String> = (0..12).filter(|n| n % 3 == 0).map(|n| format!("{n:08x}-1111-4222-8333-444455556666")).collect();
        let mut got = ids(&recent);
        got.sort();
        assert_eq!(got, expected, "no_index {no_index}");
        assert_eq!(recent["idle_not_listed"], 8);
        // The sessions listed are measured exactly as in the full list.
        for s in recent["sessions"].as_array().unwrap() {
            let full = fresh["sessions"].as_array().unwrap().iter().find(|f| f["session_id"] == s["session_id"]).unwrap();
            assert_eq!(s["context_tokens"], full["context_tokens"]);
            assert_eq!(s["context_window"], full["context_window"]);
        }
    }
    let bad = Command::new(env!("CARGO_BIN_EXE_asm_session_manager")).args(["--list", "--changed-within", "0"]).env("HOME", home.path()).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("expected a number of hours above 0"));
}
