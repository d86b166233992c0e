//! Transcript readers: each turns one platform's transcript store into a stream of
//! [`TranscriptEvent`]s, one record at a time, so memory stays bounded whatever the size.
//! Stores are opened read-only; a corrupt record is skipped and counted, never fatal.

pub mod claude_code;
pub mod openclaw;
pub mod opencode;

use super::{MemoryError, ReadStats, TranscriptEvent};
use crate::session::TranscriptRef;
use rusqlite::Connection;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::time::Duration;

/// A record longer than this is skipped (counted as oversized) rather than held in memory.
pub const MAX_RECORD_BYTES: usize = 32 * 1024 * 1024;

/// Where events go: the extractor, or anything else that wants them.
pub type Sink<'a> = dyn FnMut(TranscriptEvent) + 'a;

/// Streams the transcript behind `transcript` into `sink`.
pub fn read(transcript: &TranscriptRef, sink: &mut Sink<'_>) -> Result<ReadStats, MemoryError> {
    match transcript {
        TranscriptRef::ClaudeCodeJsonl { path } => claude_code::read(path, sink),
        TranscriptRef::OpencodeSqlite { db, session_id } => opencode::read_sqlite(db, session_id, sink),
        TranscriptRef::OpencodeLegacy { storage_dir, session_id } => opencode::read_legacy(storage_dir, session_id, sink),
        TranscriptRef::OpenclawSqlite { db, session_id } => openclaw::read_sqlite(db, session_id, sink),
        TranscriptRef::OpenclawJsonl { path } => openclaw::read_jsonl(path, sink),
    }
}

pub(crate) fn transcript_error(path: &Path, message: impl std::fmt::Display) -> MemoryError {
    MemoryError::Transcript { path: path.to_path_buf(), message: message.to_string() }
}

/// Calls `each` with every line of a JSONL file, without ever holding more than one line
/// (lines over [`MAX_RECORD_BYTES`] are skipped and counted).
pub fn for_each_line(path: &Path, stats: &mut ReadStats, mut each: impl FnMut(&[u8], &mut ReadStats)) -> Result<(), MemoryError> {
    let file = std::fs::File::open(path).map_err(|e| transcript_error(path, e))?;
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    let mut line: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut oversized = false;
    loop {
        let chunk = reader.fill_buf().map_err(|e| transcript_error(path, e))?;
        if chunk.is_empty() {
            break;
        }
        let (take, ended) = match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        if !oversized {
            line.extend_from_slice(&chunk[..take]);
            if line.len() > MAX_RECORD_BYTES {
                oversized = true;
                line = Vec::with_capacity(64 * 1024);
            }
        }
        stats.bytes += take as u64;
        reader.consume(take);
        if ended {
            finish_line(&mut line, &mut oversized, stats, &mut each);
        }
    }
    finish_line(&mut line, &mut oversized, stats, &mut each);
    Ok(())
}

fn finish_line(line: &mut Vec<u8>, oversized: &mut bool, stats: &mut ReadStats, each: &mut impl FnMut(&[u8], &mut ReadStats)) {
    if *oversized {
        stats.records += 1;
        stats.oversized += 1;
    } else {
        let trimmed = line.trim_ascii();
        if !trimmed.is_empty() {
            stats.records += 1;
            each(trimmed, stats);
        }
    }
    *oversized = false;
    line.clear();
    if line.capacity() > 4 * 1024 * 1024 {
        line.shrink_to(64 * 1024);
    }
}

/// Opens a platform's SQLite store read-only (never `immutable`: the platform may be
/// writing through its WAL right now). A locked database is retried briefly.
pub fn open_readonly(db: &Path) -> Result<Connection, MemoryError> {
    if !db.is_file() {
        return Err(transcript_error(db, "no such database file"));
    }
    crate::platform::sqlite::open_read_only(db, Duration::from_secs(3)).map_err(|e| transcript_error(db, e))
}

/// Whether `table` exists in the database.
pub fn has_table(conn: &Connection, table: &str) -> bool {
    conn.query_row("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?1", [table], |_| Ok(())).is_ok()
}

/// Text of a JSON string, or of the `text` fields of an array of content blocks.
pub fn content_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => {
            let texts: Vec<&str> = items
                .iter()
                .filter(|b| b.get("type").and_then(|t| t.as_str()).is_none_or(|t| t == "text"))
                .filter_map(|b| b.get("text").and_then(|t| t.as_str()).or_else(|| b.as_str()))
                .collect();
            texts.join("\n")
        }
        _ => String::new(),
    }
}

pub(crate) fn str_field<'a>(value: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(|v| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_stream_and_corrupt_or_huge_ones_are_counted() {
        let dir = asm_testkit::TempDir::new("lines");
        let path = dir.join("t.jsonl");
        std::fs::write(&path, b"{\"a\":1}\n\n  {\"b\":2}  \nlast-without-newline").unwrap();
        let mut stats = ReadStats::default();
        let mut seen = Vec::new();
        for_each_line(&path, &mut stats, |line, _| seen.push(String::from_utf8_lossy(line).into_owned())).unwrap();
        assert_eq!(seen, ["{\"a\":1}", "{\"b\":2}", "last-without-newline"]);
        assert_eq!(stats.records, 3);
        assert!(for_each_line(&dir.join("missing.jsonl"), &mut stats, |_, _| {}).unwrap_err().to_string().contains("missing.jsonl"));
    }
}
