//! An OpenClaw transcript as events for extraction: the SQLite store (2026.8.1+: `transcript_events` rows of
//! `openclaw-agent.sqlite`, `event_json` text or zstd-compressed `event_zstd`) and the
//! legacy JSONL file (≤ 2026.7.x). Both hold the same logical records (pi transcript
//! entries): `session`, `model_change`, `message` (user / assistant / toolResult),
//! `compaction`, `reset`, `custom`, ... Synthetic assistant rows (`gateway-injected` notes,
//! `delivery-mirror` copies of sends) and heartbeat polls are skipped.

use crate::platform::sqlite::{open_transcript_store, read_big_cell, CELL_LIMIT};
use crate::transcript::{content_text, for_each_line, parse_record, parse_record_stream, str_field, ReadStats, Sink, TranscriptError, TranscriptEvent};
use rusqlite::types::ValueRef;
use serde_json::Value;
use std::path::Path;

pub fn read_jsonl(path: &Path, sink: &mut Sink<'_>) -> Result<ReadStats, TranscriptError> {
    let mut stats = ReadStats::default();
    for_each_line(path, &mut stats, |raw, stats| match serde_json::from_slice::<Value>(raw) {
        Ok(record) => emit_record(&record, stats, sink),
        Err(_) => stats.corrupt += 1,
    })?;
    Ok(stats)
}

pub fn read_sqlite(db: &Path, session_id: &str, sink: &mut Sink<'_>) -> Result<ReadStats, TranscriptError> {
    let conn = open_transcript_store(db)?;
    let mut stats = ReadStats::default();
    // A cell over CELL_LIMIT comes back NULL and is streamed from the database instead.
    let sql = format!(
        "SELECT rowid, CASE WHEN octet_length(event_json) <= {limit} THEN event_json END, event_json IS NOT NULL, \
                CASE WHEN octet_length(event_zstd) <= {limit} THEN event_zstd END, event_zstd IS NOT NULL \
         FROM transcript_events WHERE session_id = ?1 ORDER BY seq",
        limit = CELL_LIMIT
    );
    let mut stmt = conn.prepare(&sql).map_err(|e| TranscriptError::new(db, e))?;
    let mut rows = stmt.query([session_id]).map_err(|e| TranscriptError::new(db, e))?;
    while let Some(row) = rows.next().map_err(|e| TranscriptError::new(db, e))? {
        stats.records += 1;
        let rowid: i64 = row.get(0).unwrap_or_default();
        let has = |i: usize| row.get::<_, bool>(i).unwrap_or(false);
        let record = match (row.get_ref(1), row.get_ref(3)) {
            (Ok(ValueRef::Text(json)), _) => parse_record(json, &mut stats),
            _ if has(2) => read_big_cell(&conn, "transcript_events", "event_json", rowid, &mut stats),
            (_, Ok(ValueRef::Blob(compressed))) => decompress(compressed, &mut stats),
            _ if has(4) => conn.blob_open(rusqlite::MAIN_DB, "transcript_events", "event_zstd", rowid, true).ok().and_then(|b| decompress(b, &mut stats)),
            _ => {
                stats.corrupt += 1;
                None
            }
        };
        if let Some(record) = record {
            emit_record(&record, &mut stats, sink);
        }
    }
    Ok(stats)
}

/// A zstd-compressed record, decompressed as it is parsed (never whole in memory).
fn decompress(compressed: impl std::io::Read, stats: &mut ReadStats) -> Option<Value> {
    match zstd::stream::read::Decoder::new(compressed) {
        Ok(decoder) => parse_record_stream(decoder, stats),
        Err(_) => {
            stats.corrupt += 1;
            None
        }
    }
}

fn emit_record(record: &Value, stats: &mut ReadStats, sink: &mut Sink<'_>) {
    let at = str_field(record, "timestamp").map(str::to_string);
    match str_field(record, "type") {
        Some("message") => emit_message(record.get("message").unwrap_or(&Value::Null), at, stats, sink),
        Some("compaction") => {
            if let Some(details) = record.get("details") {
                let list = |key: &str| -> Vec<String> {
                    details.get(key).and_then(Value::as_array).into_iter().flatten().filter_map(|v| v.as_str().map(str::to_string)).collect()
                };
                let (read, changed) = (list("readFiles"), list("modifiedFiles"));
                if !read.is_empty() || !changed.is_empty() {
                    sink(TranscriptEvent::FilesTouched { read, changed });
                }
            }
            let text = str_field(record, "summary").unwrap_or_default().trim().to_string();
            if !text.is_empty() {
                sink(TranscriptEvent::PlatformSummary { text, source: "OpenClaw compaction".into(), at });
            }
        }
        Some("reset") => sink(TranscriptEvent::Reset),
        Some("session") => sink(TranscriptEvent::Context { model: None, provider: None, cwd: str_field(record, "cwd").map(str::to_string), branch: None }),
        Some("model_change") => sink(TranscriptEvent::Context {
            model: str_field(record, "modelId").map(str::to_string),
            provider: str_field(record, "provider").map(str::to_string),
            cwd: None,
            branch: None,
        }),
        _ => {}
    }
}

fn emit_message(message: &Value, at: Option<String>, stats: &mut ReadStats, sink: &mut Sink<'_>) {
    match str_field(message, "role") {
        Some("user") => {
            let internal = message.pointer("/provenance/kind").and_then(Value::as_str) == Some("internal_system");
            let text = content_text(message.get("content").unwrap_or(&Value::Null));
            let text = text.trim();
            if internal || is_slash_command(text) {
                stats.synthetic += 1;
            } else if !text.is_empty() {
                sink(TranscriptEvent::UserText { text: text.to_string(), at });
            }
        }
        Some("assistant") => emit_assistant(message, at, stats, sink),
        Some("toolResult") => sink(TranscriptEvent::ToolResult {
            id: str_field(message, "toolCallId").unwrap_or_default().to_string(),
            name: str_field(message, "toolName").map(str::to_string),
            input: None,
            output: content_text(message.get("content").unwrap_or(&Value::Null)),
            is_error: message.get("isError").and_then(Value::as_bool).unwrap_or(false),
        }),
        Some("bashExecution") => {
            let input = serde_json::json!({ "command": str_field(message, "command").unwrap_or_default() });
            let failed = message.get("exitCode").and_then(Value::as_i64).is_some_and(|c| c != 0);
            let output = str_field(message, "output").unwrap_or_default().to_string();
            sink(TranscriptEvent::ToolResult { id: String::new(), name: Some("bash".into()), input: Some(input), output, is_error: failed });
        }
        _ => stats.synthetic += 1,
    }
}

fn emit_assistant(message: &Value, at: Option<String>, stats: &mut ReadStats, sink: &mut Sink<'_>) {
    let provider = str_field(message, "provider");
    let model = str_field(message, "model");
    let synthetic = provider == Some("openclaw")
        || str_field(message, "api") == Some("openclaw-transcript")
        || matches!(model, Some("gateway-injected" | "delivery-mirror"));
    let api_error = str_field(message, "stopReason") == Some("error");
    if synthetic || api_error {
        stats.synthetic += 1;
        return;
    }
    if model.is_some() {
        sink(TranscriptEvent::Context { model: model.map(str::to_string), provider: provider.map(str::to_string), cwd: None, branch: None });
    }
    for block in message.get("content").and_then(Value::as_array).into_iter().flatten() {
        match str_field(block, "type") {
            Some("text") => {
                let text = str_field(block, "text").unwrap_or_default().trim();
                if !text.is_empty() {
                    sink(TranscriptEvent::AssistantText { text: text.to_string(), at: at.clone() });
                }
            }
            Some("toolCall") => sink(TranscriptEvent::ToolCall {
                id: str_field(block, "id").unwrap_or_default().to_string(),
                name: str_field(block, "name").unwrap_or_default().to_string(),
                input: block.get("arguments").cloned().unwrap_or(Value::Null),
            }),
            _ => {}
        }
    }
}

/// `/new`, `/reset`, `/status`: commands to the gateway, not requests to the agent.
fn is_slash_command(text: &str) -> bool {
    text.strip_prefix('/').is_some_and(|rest| !rest.is_empty() && rest.len() <= 40 && rest.chars().all(|c| c.is_ascii_alphanumeric() || "-_:. ".contains(c)))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::path::PathBuf;

    pub const TOPIC_SESSION: &str = "cb7a4da0-b50a-4d69-942c-c0a531b7a1f6";
    pub const CLI_SESSION: &str = "c82a68a7-ec3e-4130-987d-c5330d8e3b1a";

    /// The `transcript_events` table as documented (docs/reference/database-schemas/layout.md).
    pub const SCHEMA: &str = "CREATE TABLE transcript_events (session_id TEXT NOT NULL, seq INTEGER NOT NULL, event_json TEXT, created_at INTEGER, \
        event_zstd BLOB, event_utf8_bytes INTEGER, navigation_json TEXT, PRIMARY KEY (session_id, seq));";

    /// Builds `openclaw-agent.sqlite` holding the fixture records of `session_id`; every
    /// `compress_every`-th row is stored zstd-compressed in `event_zstd` as OpenClaw does for some rows.
    pub fn build_db(db: &Path, records: &[(String, Vec<String>)], compress_every: usize) {
        let conn = rusqlite::Connection::open(db).unwrap();
        conn.execute_batch(SCHEMA).unwrap();
        for (session_id, lines) in records {
            for (seq, line) in lines.iter().enumerate() {
                let compressed = compress_every > 0 && seq.is_multiple_of(compress_every);
                let (json, zstd_blob) = if compressed { (None, Some(zstd::encode_all(line.as_bytes(), 3).unwrap())) } else { (Some(line.clone()), None) };
                conn.execute(
                    "INSERT INTO transcript_events (session_id, seq, event_json, created_at, event_zstd, event_utf8_bytes) VALUES (?1, ?2, ?3, 0, ?4, ?5)",
                    rusqlite::params![session_id, seq as i64, json, zstd_blob, line.len() as i64],
                )
                .unwrap();
            }
        }
    }

    pub fn fixture_lines(name: &str) -> Vec<String> {
        let path: PathBuf = asm_testkit::fixtures_dir().join("openclaw/v2026.9.6").join(name);
        std::fs::read_to_string(path).unwrap().lines().filter(|l| !l.trim().is_empty()).map(str::to_string).collect()
    }

    #[test]
    fn sqlite_rows_plain_and_zstd_give_the_same_events_as_jsonl() {
        let dir = asm_testkit::TempDir::new("ocl-reader");
        let lines = fixture_lines("transcript_events.reset-inject-compaction.jsonl");
        let db = dir.join("openclaw-agent.sqlite");
        build_db(&db, &[(CLI_SESSION.to_string(), lines.clone())], 2);
        let mut from_db = Vec::new();
        let stats = read_sqlite(&db, CLI_SESSION, &mut |e| from_db.push(e)).unwrap();
        let jsonl = dir.join("s.jsonl");
        std::fs::write(&jsonl, lines.join("\n")).unwrap();
        let mut from_file = Vec::new();
        read_jsonl(&jsonl, &mut |e| from_file.push(e)).unwrap();
        assert_eq!(from_db, from_file);
        assert_eq!(stats.corrupt, 0);
        assert_eq!(stats.records, lines.len() as u64);
        let users: Vec<&str> = from_db.iter().filter_map(|e| if let TranscriptEvent::UserText { text, .. } = e { Some(text.as_str()) } else { None }).collect();
        assert_eq!(users, ["Hello from the test harness", "Continue with the task."], "heartbeat poll and /new skipped");
        assert!(!from_db
            .iter()
            .any(|e| matches!(e, TranscriptEvent::AssistantText { text, .. } if text.contains("[handoff]") || text.contains("not authorized"))));
        assert!(from_db.iter().any(|e| matches!(e, TranscriptEvent::PlatformSummary { text, .. } if text.starts_with("## Latest user request context"))));
        assert!(from_db.contains(&TranscriptEvent::Reset));
    }

    #[test]
    fn delivery_mirror_is_synthetic_and_corrupt_rows_are_counted() {
        let dir = asm_testkit::TempDir::new("ocl-mirror");
        let mut lines = fixture_lines("transcript_events.telegram-topic.jsonl");
        lines.push("{broken".into());
        let db = dir.join("openclaw-agent.sqlite");
        build_db(&db, &[(TOPIC_SESSION.to_string(), lines)], 0);
        let mut events = Vec::new();
        let stats = read_sqlite(&db, TOPIC_SESSION, &mut |e| events.push(e)).unwrap();
        assert_eq!(stats.corrupt, 1);
        assert!(stats.synthetic >= 1);
        assert!(!events.iter().any(|e| matches!(e, TranscriptEvent::AssistantText { text, .. } if text.contains("Manager notice"))));
    }
}
