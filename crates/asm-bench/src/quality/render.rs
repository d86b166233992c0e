//! A generated session written in each platform's real storage format: a Claude Code JSONL
//! transcript (2.1.3xx lines), an OpenCode SQLite store (1.18 schema: message + part rows),
//! an OpenClaw SQLite agent store (2026.9 schema: session_nodes + transcript_events).

use super::script::{Session, Step};
use rusqlite::{params, Connection};
use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;

const OPENCODE_SCHEMA: &str = include_str!("../../../../tests/fixtures/opencode/v1.18.33/opencode.db.schema.sql");
const OPENCLAW_SCHEMA: &str = include_str!("../../../../tests/fixtures/openclaw/v2026.9.6/openclaw-agent.schema.sql");
pub const CLAUDE_CODE_BRANCH: &str = "feat/rounding-fix";

fn other(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

/// `<home>/.claude/projects/<encoded cwd>/<id>.jsonl`.
pub fn claude_code(home: &Path, s: &Session) -> std::io::Result<()> {
    let dir = home.join(".claude/projects").join(s.cwd.replace(['/', '.', '_'], "-"));
    std::fs::create_dir_all(&dir)?;
    let mut out = std::io::BufWriter::new(std::fs::File::create(dir.join(format!("{}.jsonl", s.id)))?);
    let mut w = ClaudeLines { out: &mut out, s, n: 0, parent: Value::Null };
    for step in &s.steps {
        w.step(step)?;
    }
    out.flush()
}

struct ClaudeLines<'a, W: Write> {
    out: &'a mut W,
    s: &'a Session,
    n: usize,
    parent: Value,
}

impl<W: Write> ClaudeLines<'_, W> {
    fn line(&mut self, mut v: Value) -> std::io::Result<()> {
        self.n += 1;
        let uuid = format!("00000000-0000-4000-8000-{:012}", self.n);
        let extra = json!({"uuid": uuid, "parentUuid": self.parent, "timestamp": format!("2026-11-30T10:{:02}:{:02}.000Z", self.n / 60 % 60, self.n % 60),
            "cwd": self.s.cwd, "sessionId": self.s.id, "version": "2.1.332", "gitBranch": CLAUDE_CODE_BRANCH, "isSidechain": false, "userType": "external", "entrypoint": "cli"});
        if let (Some(map), Value::Object(extra)) = (v.as_object_mut(), extra) {
            map.extend(extra);
        }
        self.parent = Value::String(uuid);
        writeln!(self.out, "{v}")
    }

    fn assistant(&mut self, content: Value) -> std::io::Result<()> {
        let usage = json!({"input_tokens": 3, "cache_creation_input_tokens": 200, "cache_read_input_tokens": 40_000 + self.n as u64 * 10, "output_tokens": 80});
        self.line(json!({"type": "assistant", "message": {"id": format!("msg_{}", self.n), "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929", "content": content, "usage": usage}}))
    }

    fn tool(&mut self, name: &str, input: Value, output: Value, is_error: bool) -> std::io::Result<()> {
        let id = format!("toolu_{:06}", self.n);
        self.assistant(json!([{"type": "tool_use", "id": id, "name": name, "input": input}]))?;
        self.line(json!({"type": "user", "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": id, "content": output, "is_error": is_error}]}}))
    }

    fn step(&mut self, step: &Step) -> std::io::Result<()> {
        match step {
            Step::User(text) => self.line(json!({"type": "user", "message": {"role": "user", "content": text}})),
            Step::Assistant(text) => self.assistant(json!([{"type": "text", "text": text}])),
            Step::Tool { tool, output, is_error } => {
                let (name, input) = tool.claude_code();
                self.tool(name, input, Value::String(output.clone()), *is_error)
            }
            Step::Todos(todos) => {
                let list: Vec<Value> =
                    todos.iter().map(|(t, done)| json!({"content": t, "status": if *done { "completed" } else { "pending" }, "activeForm": t})).collect();
                self.tool(
                    "TodoWrite",
                    json!({"todos": list}),
                    json!("Todos have been modified successfully. Ensure that you continue to use the todo list to track your progress."),
                    false,
                )
            }
            Step::Subagent { prompt, result } => self.tool(
                "Task",
                json!({"description": "find callers", "prompt": prompt, "subagent_type": "general-purpose"}),
                json!([{"type": "text", "text": result}]),
                false,
            ),
            Step::Compaction(summary) => {
                self.line(json!({"type": "system", "subtype": "compact_boundary", "content": "Conversation compacted", "compactMetadata": {"trigger": "auto", "preTokens": 160_000, "postTokens": 20_000}}))?;
                let text = format!("This session is being continued from a previous conversation that ran out of context. The conversation is summarized below:\nSummary:\n{summary}");
                self.line(json!({"type": "user", "isCompactSummary": true, "message": {"role": "user", "content": text}}))
            }
        }
    }
}

/// `<home>/.local/share/opencode/opencode.db`, one store for every session given.
pub fn opencode(home: &Path, sessions: &[&Session]) -> std::io::Result<()> {
    let dir = home.join(".local/share/opencode");
    std::fs::create_dir_all(&dir)?;
    let db = dir.join("opencode.db");
    let _ = std::fs::remove_file(&db);
    let mut conn = Connection::open(&db).map_err(other)?;
    conn.execute_batch(OPENCODE_SCHEMA).map_err(other)?;
    let tx = conn.transaction().map_err(other)?;
    tx.execute("INSERT INTO project (id, worktree, vcs, time_created, time_updated, sandboxes) VALUES ('prj_quality', '/home/bench', 'git', 1, 1, '[]')", [])
        .map_err(other)?;
    for (i, s) in sessions.iter().enumerate() {
        let mut w = OpencodeRows { tx: &tx, s, n: 0, at: 1_796_000_000_000 + i as i64 * 100_000_000 };
        w.session().map_err(other)?;
        for step in &s.steps {
            w.step(step).map_err(other)?;
        }
        tx.execute("UPDATE session SET time_updated = ?1 WHERE id = ?2", params![w.at, s.id]).map_err(other)?;
    }
    tx.commit().map_err(other)
}

struct OpencodeRows<'a> {
    tx: &'a rusqlite::Transaction<'a>,
    s: &'a Session,
    n: u64,
    at: i64,
}

impl OpencodeRows<'_> {
    fn id(&mut self, prefix: &str) -> String {
        self.n += 1;
        format!("{prefix}_{:012x}{:014}", self.at as u64, self.n)
    }

    fn session(&mut self) -> rusqlite::Result<()> {
        self.tx.execute(
            "INSERT INTO session (id, project_id, parent_id, slug, directory, path, title, version, permission, agent, model, time_created, time_updated)
             VALUES (?1, 'prj_quality', NULL, 'quality', ?2, '', 'Invoice rounding', '1.18.33', NULL, 'build', '{\"id\":\"mock-model\",\"providerID\":\"mock\"}', ?3, ?3)",
            params![self.s.id, self.s.cwd, self.at],
        )?;
        Ok(())
    }

    fn message(&mut self, data: Value, parts: Vec<Value>) -> rusqlite::Result<()> {
        self.at += 1_000;
        let id = self.id("msg");
        self.tx.execute("INSERT INTO message VALUES (?1, ?2, ?3, ?3, ?4)", params![id, self.s.id, self.at, data.to_string()])?;
        for (i, part) in parts.into_iter().enumerate() {
            let pid = self.id("prt");
            self.tx.execute("INSERT INTO part VALUES (?1, ?2, ?3, ?4, ?4, ?5)", params![pid, id, self.s.id, self.at + i as i64, part.to_string()])?;
        }
        Ok(())
    }

    fn user(&mut self, text: &str) -> rusqlite::Result<()> {
        let data = json!({"role": "user", "time": {"created": self.at}, "agent": "build", "model": {"providerID": "mock", "modelID": "mock-model"}});
        self.message(data, vec![json!({"type": "text", "text": text})])
    }

    fn assistant(&mut self, parts: Vec<Value>, summary: bool) -> rusqlite::Result<()> {
        let mode = if summary { "compaction" } else { "build" };
        let mut data = json!({"role": "assistant", "mode": mode, "agent": mode, "path": {"cwd": self.s.cwd, "root": self.s.cwd}, "cost": 0,
            "tokens": {"total": 40_080, "input": 40_000, "output": 80, "reasoning": 0, "cache": {"write": 0, "read": 0}},
            "modelID": "mock-model", "providerID": "mock", "time": {"created": self.at, "completed": self.at + 400}, "finish": "stop"});
        if summary {
            data["summary"] = Value::Bool(true);
        }
        self.message(data, parts)
    }

    fn tool(&mut self, name: &str, input: Value, output: &str, is_error: bool) -> rusqlite::Result<()> {
        let call = self.id("call");
        let state = if is_error {
            json!({"status": "error", "input": input, "error": output, "time": {"start": self.at, "end": self.at + 10}})
        } else {
            json!({"status": "completed", "input": input, "output": output, "title": name, "metadata": {}, "time": {"start": self.at, "end": self.at + 10}})
        };
        self.assistant(vec![json!({"type": "tool", "callID": call, "tool": name, "state": state})], false)
    }

    fn step(&mut self, step: &Step) -> rusqlite::Result<()> {
        match step {
            Step::User(text) => self.user(text),
            Step::Assistant(text) => self.assistant(vec![json!({"type": "text", "text": text})], false),
            Step::Tool { tool, output, is_error } => {
                let (name, input) = tool.opencode();
                self.tool(name, input, output, *is_error)
            }
            Step::Todos(todos) => {
                let list: Vec<Value> =
                    todos.iter().enumerate().map(|(i, (t, done))| json!({"content": t, "status": if *done { "completed" } else { "pending" }, "priority": "medium", "id": i.to_string()})).collect();
                self.tool("todowrite", json!({"todos": list}), "todo list updated", false)
            }
            Step::Subagent { prompt, result } => {
                self.tool("task", json!({"description": "find callers", "prompt": prompt, "subagent_type": "general"}), result, false)
            }
            Step::Compaction(summary) => self.assistant(vec![json!({"type": "text", "text": summary})], true),
        }
    }
}

/// `<home>/.openclaw/agents/main/agent/openclaw-agent.sqlite`, one topic session each.
pub fn openclaw(home: &Path, sessions: &[(&Session, String)]) -> std::io::Result<()> {
    let db = home.join(".openclaw/agents/main/agent/openclaw-agent.sqlite");
    std::fs::create_dir_all(db.parent().unwrap_or(home))?;
    let _ = std::fs::remove_file(&db);
    let mut conn = Connection::open(&db).map_err(other)?;
    conn.execute_batch(OPENCLAW_SCHEMA).map_err(other)?;
    conn.pragma_update(None, "user_version", 23).map_err(other)?;
    let tx = conn.transaction().map_err(other)?;
    for (i, (s, key)) in sessions.iter().enumerate() {
        let at = 1_796_000_000_000i64 + i as i64 * 60_000;
        let entry = json!({"sessionId": s.id, "updatedAt": at, "sessionStartedAt": at, "chatType": "group", "displayName": "telegram:quality",
            "totalTokens": 40_000, "totalTokensFresh": true, "contextTokens": 200_000, "modelProvider": "mock", "model": "mock-1", "status": "done"});
        tx.execute(
            "INSERT INTO session_nodes (session_key, current_session_id, entry_json, entry_valid, updated_at, status, created_at, created_via, display_name, last_interaction_at, last_activity_at) VALUES (?1, ?2, ?3, 1, ?4, 'done', ?4, 'channel', 'telegram:quality', ?4, ?4)",
            params![key, s.id, entry.to_string(), at],
        )
        .map_err(other)?;
        tx.execute(
            "INSERT INTO session_windows (session_id, session_key, reason, created_at, updated_at, status, model_provider, model) VALUES (?1, ?2, 'initial', ?3, ?3, 'done', 'mock', 'mock-1')",
            params![s.id, key, at],
        )
        .map_err(other)?;
        let mut seq = 0i64;
        let mut event = |v: Value| -> rusqlite::Result<()> {
            let text = v.to_string();
            seq += 1;
            tx.execute(
                "INSERT INTO transcript_events (session_id, seq, event_json, created_at, event_utf8_bytes) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![s.id, seq, text, at, text.len() as i64],
            )?;
            Ok(())
        };
        event(json!({"type": "session", "version": 4, "id": s.id, "timestamp": "2026-11-30T10:00:00.000Z", "cwd": s.cwd})).map_err(other)?;
        for (n, step) in s.steps.iter().enumerate() {
            for v in openclaw_events(step, n) {
                event(v).map_err(other)?;
            }
        }
    }
    tx.commit().map_err(other)
}

fn openclaw_events(step: &Step, n: usize) -> Vec<Value> {
    let message = |role: &str, content: Value| {
        let mut m = json!({"role": role, "content": content});
        if role == "assistant" {
            m["usage"] = json!({"input": 40_000, "output": 80, "cacheRead": 0, "cacheWrite": 0, "totalTokens": 40_080});
            m["provider"] = json!("mock");
            m["model"] = json!("mock-1");
            m["stopReason"] = json!("stop");
        }
        json!({"type": "message", "id": format!("e{n}-{role}"), "timestamp": "2026-11-30T10:00:00.000Z", "message": m})
    };
    let tool = |name: &str, input: Value, output: &str, is_error: bool| {
        let id = format!("call_{n}");
        vec![
            message("assistant", json!([{"type": "toolCall", "id": id, "name": name, "arguments": input}])),
            json!({"type": "message", "id": format!("e{n}-result"), "timestamp": "2026-11-30T10:00:00.000Z",
                "message": {"role": "toolResult", "toolCallId": id, "toolName": name, "content": [{"type": "text", "text": output}], "isError": is_error}}),
        ]
    };
    match step {
        Step::User(text) => vec![message("user", Value::String(text.clone()))],
        Step::Assistant(text) => vec![message("assistant", json!([{"type": "text", "text": text}]))],
        Step::Tool { tool: t, output, is_error } => {
            let (name, input) = t.openclaw();
            tool(name, input, output, *is_error)
        }
        Step::Todos(_) => Vec::new(),
        Step::Subagent { prompt, result } => tool("sessions_spawn", json!({"task": prompt}), result, false),
        Step::Compaction(summary) => {
            vec![json!({"type": "compaction", "id": format!("c{n}"), "timestamp": "2026-11-30T10:00:00.000Z", "summary": summary, "tokensBefore": 160_000})]
        }
    }
}
