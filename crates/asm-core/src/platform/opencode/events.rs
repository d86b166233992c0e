//! An OpenCode transcript as events for extraction: the SQLite store (1.2.0+: `message` +
//! `part` rows, `data` JSON; sessions driven by the experimental v2 API live in
//! `session_message`) and the legacy JSON tree (≤ 1.1.x: `storage/message/<sessionID>/*.json`,
//! `storage/part/<messageID>/*.json`). Rows are streamed message by message; only one
//! message's parts are held at a time.

use crate::platform::sqlite::{has_table, open_transcript_store, read_big_cell, CELL_LIMIT};
use crate::transcript::{content_text, str_field, ReadStats, Sink, TranscriptError, TranscriptEvent};
use serde_json::Value;
use std::path::{Path, PathBuf};

pub fn read_sqlite(db: &Path, session_id: &str, sink: &mut Sink<'_>) -> Result<ReadStats, TranscriptError> {
    let conn = open_transcript_store(db)?;
    let mut stats = ReadStats::default();
    // A cell over CELL_LIMIT comes back NULL and is streamed from the database instead.
    let sql = format!(
        "SELECT m.id, m.rowid, CASE WHEN octet_length(m.data) <= {limit} THEN m.data END, p.rowid, CASE WHEN octet_length(p.data) <= {limit} THEN p.data END \
         FROM message m LEFT JOIN part p ON p.message_id = m.id \
         WHERE m.session_id = ?1 ORDER BY m.time_created, m.id, p.time_created, p.id",
        limit = CELL_LIMIT
    );
    let mut stmt = conn.prepare(&sql).map_err(|e| TranscriptError::new(db, e))?;
    let mut rows = stmt.query([session_id]).map_err(|e| TranscriptError::new(db, e))?;
    let mut current: Option<(String, Option<Value>, Vec<Value>)> = None;
    while let Some(row) = rows.next().map_err(|e| TranscriptError::new(db, e))? {
        let id: String = row.get(0).map_err(|e| TranscriptError::new(db, e))?;
        if current.as_ref().is_none_or(|(cur, _, _)| *cur != id) {
            if let Some((_, info, parts)) = current.take() {
                emit_message(info, &parts, &mut stats, sink);
            }
            let info = cell(&conn, "message", row.get(1).ok(), row.get_ref(2).ok(), &mut stats);
            stats.records += 1;
            current = Some((id, info, Vec::new()));
        }
        let part_rowid: Option<i64> = row.get(3).ok().flatten();
        if let (Some((_, _, parts)), Some(rowid)) = (current.as_mut(), part_rowid) {
            parts.extend(cell(&conn, "part", Some(rowid), row.get_ref(4).ok(), &mut stats));
        }
    }
    if let Some((_, info, parts)) = current.take() {
        emit_message(info, &parts, &mut stats, sink);
    }
    if stats.records == 0 && has_table(&conn, "session_message") {
        read_v2_rows(&conn, db, session_id, &mut stats, sink)?;
    }
    Ok(stats)
}

/// A `data` cell: parsed when it came with the row, streamed from the database when it was
/// too big to come (NULL).
fn cell(conn: &rusqlite::Connection, table: &str, rowid: Option<i64>, value: Option<rusqlite::types::ValueRef<'_>>, stats: &mut ReadStats) -> Option<Value> {
    match value {
        Some(rusqlite::types::ValueRef::Null) | None => read_big_cell(conn, table, "data", rowid?, stats),
        other => parse_column(other, stats),
    }
}

fn parse_column(cell: Option<rusqlite::types::ValueRef<'_>>, stats: &mut ReadStats) -> Option<Value> {
    let bytes = match cell? {
        rusqlite::types::ValueRef::Text(b) | rusqlite::types::ValueRef::Blob(b) => b,
        _ => return None,
    };
    crate::transcript::parse_record(bytes, stats)
}

/// Sessions written through the v2 HTTP API: `session_message` rows ordered by `seq`.
fn read_v2_rows(conn: &rusqlite::Connection, db: &Path, session_id: &str, stats: &mut ReadStats, sink: &mut Sink<'_>) -> Result<(), TranscriptError> {
    let mut stmt = conn.prepare("SELECT type, data FROM session_message WHERE session_id = ?1 ORDER BY seq").map_err(|e| TranscriptError::new(db, e))?;
    let mut rows = stmt.query([session_id]).map_err(|e| TranscriptError::new(db, e))?;
    while let Some(row) = rows.next().map_err(|e| TranscriptError::new(db, e))? {
        stats.records += 1;
        let kind: String = row.get(0).unwrap_or_default();
        let Some(data) = parse_column(row.get_ref(1).ok(), stats) else { continue };
        let at = data.pointer("/time/created").map(|t| t.to_string());
        match kind.as_str() {
            "user" => {
                let text = str_field(&data, "text").map(str::to_string).unwrap_or_else(|| content_text(data.get("content").unwrap_or(&Value::Null)));
                push_text(sink, text, at, true);
            }
            "assistant" => {
                context_of(&data, sink);
                for item in data.get("content").and_then(Value::as_array).into_iter().flatten() {
                    emit_part(item, stats, sink, at.clone());
                }
            }
            "compaction" => {
                let text = str_field(&data, "summary").or_else(|| str_field(&data, "text")).unwrap_or_default().trim().to_string();
                if !text.is_empty() {
                    sink(TranscriptEvent::PlatformSummary { text, source: "OpenCode compaction".into(), at });
                }
            }
            _ => stats.synthetic += 1,
        }
    }
    Ok(())
}

/// The legacy JSON tree: messages sorted by creation time then id (ids ascend with time).
pub fn read_legacy(storage_dir: &Path, session_id: &str, sink: &mut Sink<'_>) -> Result<ReadStats, TranscriptError> {
    let mut stats = ReadStats::default();
    let message_dir = storage_dir.join("message").join(session_id);
    if !message_dir.is_dir() {
        return Err(TranscriptError::new(&message_dir, "no such session in the OpenCode legacy store"));
    }
    let mut messages: Vec<(i64, String, PathBuf)> = Vec::new();
    for path in json_files(&message_dir)? {
        match read_json(&path, &mut stats) {
            Some(info) => {
                let created = info.pointer("/time/created").and_then(Value::as_i64).unwrap_or(0);
                let id = str_field(&info, "id").unwrap_or_default().to_string();
                messages.push((created, id, path));
            }
            None => stats.records += 1,
        }
    }
    messages.sort();
    for (_, id, path) in messages {
        stats.records += 1;
        let info = read_json(&path, &mut stats);
        let part_dir = storage_dir.join("part").join(&id);
        let mut parts: Vec<Value> = Vec::new();
        if part_dir.is_dir() {
            for part_path in json_files(&part_dir)? {
                parts.extend(read_json(&part_path, &mut stats));
            }
        }
        parts.sort_by(|a, b| str_field(a, "id").cmp(&str_field(b, "id")));
        emit_message(info, &parts, &mut stats, sink);
    }
    Ok(stats)
}

fn json_files(dir: &Path) -> Result<Vec<PathBuf>, TranscriptError> {
    let entries = std::fs::read_dir(dir).map_err(|e| TranscriptError::new(dir, e))?;
    let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "json")).collect();
    files.sort();
    Ok(files)
}

fn read_json(path: &Path, stats: &mut ReadStats) -> Option<Value> {
    match crate::fsutil::open_for_reading(path) {
        Ok(file) => crate::transcript::parse_record_stream(std::io::BufReader::new(file), stats),
        Err(_) => {
            stats.corrupt += 1;
            None
        }
    }
}

/// One message (its info JSON and its parts) as events.
fn emit_message(info: Option<Value>, parts: &[Value], stats: &mut ReadStats, sink: &mut Sink<'_>) {
    let Some(info) = info else { return };
    let at = info.pointer("/time/created").map(|t| t.to_string());
    match str_field(&info, "role") {
        Some("user") => {
            if parts.iter().any(|p| str_field(p, "type") == Some("compaction")) {
                stats.synthetic += 1;
                return;
            }
            let texts: Vec<&str> = parts.iter().filter(|p| is_real_text(p, stats)).filter_map(|p| str_field(p, "text")).collect();
            push_text(sink, texts.join("\n"), at, true);
        }
        Some("assistant") => {
            context_of(&info, sink);
            let is_summary = info.get("summary").and_then(Value::as_bool).unwrap_or(false) || str_field(&info, "mode") == Some("compaction");
            if is_summary {
                let texts: Vec<&str> = parts.iter().filter(|p| str_field(p, "type") == Some("text")).filter_map(|p| str_field(p, "text")).collect();
                let text = texts.join("\n").trim().to_string();
                if !text.is_empty() {
                    sink(TranscriptEvent::PlatformSummary { text, source: "OpenCode compaction".into(), at });
                }
                return;
            }
            for part in parts {
                emit_part(part, stats, sink, at.clone());
            }
        }
        _ => stats.synthetic += 1,
    }
}

fn is_real_text(part: &Value, stats: &mut ReadStats) -> bool {
    if str_field(part, "type") != Some("text") {
        return false;
    }
    let synthetic = part.get("synthetic").and_then(Value::as_bool).unwrap_or(false) || part.get("ignored").and_then(Value::as_bool).unwrap_or(false);
    if synthetic {
        stats.synthetic += 1;
    }
    !synthetic
}

fn emit_part(part: &Value, stats: &mut ReadStats, sink: &mut Sink<'_>, at: Option<String>) {
    match str_field(part, "type") {
        Some("text") if is_real_text(part, stats) => push_text(sink, str_field(part, "text").unwrap_or_default().to_string(), at, false),
        Some("tool") => emit_tool(part, sink),
        Some("patch") => {
            let changed: Vec<String> =
                part.get("files").and_then(Value::as_array).into_iter().flatten().filter_map(|f| f.as_str().map(str::to_string)).collect();
            if !changed.is_empty() {
                sink(TranscriptEvent::FilesTouched { read: Vec::new(), changed });
            }
        }
        _ => {}
    }
}

fn emit_tool(part: &Value, sink: &mut Sink<'_>) {
    let id = str_field(part, "callID").or_else(|| str_field(part, "id")).unwrap_or_default().to_string();
    let name = str_field(part, "tool").or_else(|| str_field(part, "name")).unwrap_or_default().to_string();
    let state = part.get("state").unwrap_or(part);
    let input = state.get("input").cloned().unwrap_or(Value::Null);
    sink(TranscriptEvent::ToolCall { id: id.clone(), name: name.clone(), input: input.clone() });
    let status = str_field(state, "status").unwrap_or_default();
    if matches!(status, "completed" | "error") {
        let is_error = status == "error";
        let output = if is_error { str_field(state, "error") } else { str_field(state, "output") };
        sink(TranscriptEvent::ToolResult { id, name: Some(name), input: Some(input), output: output.unwrap_or_default().to_string(), is_error });
    }
}

fn context_of(info: &Value, sink: &mut Sink<'_>) {
    let model = str_field(info, "modelID").or_else(|| info.pointer("/model/id").and_then(Value::as_str)).map(str::to_string);
    let provider = str_field(info, "providerID").or_else(|| info.pointer("/model/providerID").and_then(Value::as_str)).map(str::to_string);
    let cwd = info.pointer("/path/cwd").and_then(Value::as_str).map(str::to_string);
    if model.is_some() || cwd.is_some() {
        sink(TranscriptEvent::Context { model, provider, cwd, branch: None });
    }
}

fn push_text(sink: &mut Sink<'_>, text: String, at: Option<String>, user: bool) {
    let text = text.trim();
    if text.is_empty() {
        return;
    }
    let text = text.to_string();
    sink(if user { TranscriptEvent::UserText { text, at } } else { TranscriptEvent::AssistantText { text, at } });
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub const SESSION_A: &str = "ses_df4c7636affe5zEnkBDHC7yhTL";
    pub const SESSION_B: &str = "ses_df4c71c54ffegYITqWRqSxSPUP";

    /// A real OpenCode 1.18.33 database built from the fixture's SQL dump.
    pub fn fixture_db(dir: &Path) -> PathBuf {
        let db = dir.join("opencode.db");
        asm_testkit::opencode::fixture_db(&db);
        db
    }

    fn collect(result: impl FnOnce(&mut Sink<'_>) -> Result<ReadStats, TranscriptError>) -> (Vec<TranscriptEvent>, ReadStats) {
        let mut events = Vec::new();
        let stats = result(&mut |e| events.push(e)).unwrap();
        (events, stats)
    }

    #[test]
    fn sqlite_session_with_auto_and_manual_compaction() {
        let dir = asm_testkit::TempDir::new("oc-reader");
        let db = fixture_db(dir.path());
        let (events, stats) = collect(|sink| read_sqlite(&db, SESSION_A, sink));
        let users: Vec<&str> = events.iter().filter_map(|e| if let TranscriptEvent::UserText { text, .. } = e { Some(text.as_str()) } else { None }).collect();
        assert_eq!(users, ["hello", "second"], "compaction requests and the synthetic Continue turn are not user requests");
        let summaries = events.iter().filter(|e| matches!(e, TranscriptEvent::PlatformSummary { text, .. } if text.starts_with("## Objective"))).count();
        assert_eq!(summaries, 2);
        assert_eq!(stats.records, 10);
        assert!(stats.synthetic >= 3);
        let (events, _) = collect(|sink| read_sqlite(&db, SESSION_B, sink));
        assert!(matches!(&events[0], TranscriptEvent::UserText { text, .. } if text.starts_with("Continue the work of session")));
    }

    #[test]
    fn v2_rows_are_read_when_message_has_none() {
        let dir = asm_testkit::TempDir::new("oc-v2");
        let db = fixture_db(dir.path());
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("PRAGMA foreign_keys=OFF").unwrap();
        asm_testkit::opencode::insert_v2_messages(&conn, &asm_testkit::opencode::v2_rows());
        drop(conn);
        let (events, _) = collect(|sink| read_sqlite(&db, "ses_df4beb783ffea43OKmAfH6jrHn", sink));
        assert!(events.contains(&TranscriptEvent::UserText { text: "v2 hello".into(), at: Some("1795485161213".into()) }));
        assert!(events.iter().any(|e| matches!(e, TranscriptEvent::AssistantText { text, .. } if text == "Hello from the mock model.")));
    }

    #[test]
    fn missing_db_is_a_clear_error() {
        let err = read_sqlite(Path::new("/nonexistent/opencode.db"), SESSION_A, &mut |_| {}).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/opencode.db"), "{err}");
    }
}
