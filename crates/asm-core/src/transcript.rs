//! A transcript as every platform's adapter hands it to extraction: a stream of
//! platform-neutral [`TranscriptEvent`]s, one record at a time, so memory stays bounded
//! whatever the size. The adapters (`platform/<p>/events.rs`) produce them; `memory` consumes
//! them. Stores are opened read-only; a corrupt record is skipped and counted, never fatal.

use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// One event of a transcript, the same for every platform. Adapters drop synthetic rows
/// (gateway notes, delivery mirrors, API-error lines, slash-command echoes) before this.
#[derive(Debug, Clone, PartialEq)]
pub enum TranscriptEvent {
    /// Something a person asked.
    UserText { text: String, at: Option<String> },
    /// What the model answered (text blocks only).
    AssistantText { text: String, at: Option<String> },
    /// A tool the model called; `input` is the tool's argument object.
    ToolCall { id: String, name: String, input: serde_json::Value },
    /// The result of a tool call; `name` and `input` are filled when the reader knows them.
    ToolResult { id: String, name: Option<String>, input: Option<serde_json::Value>, output: String, is_error: bool },
    /// Files a platform itself recorded as read or changed (OpenClaw compaction details, OpenCode patch parts).
    FilesTouched { read: Vec<String>, changed: Vec<String> },
    /// The platform's own summary of the conversation so far (compaction).
    PlatformSummary { text: String, source: String, at: Option<String> },
    /// The result a subagent handed back.
    SubagentResult { text: String },
    /// The session was reset in place: what came before left the model's context.
    Reset,
    /// Model/provider and working directory as the transcript records them.
    Context { model: Option<String>, provider: Option<String>, cwd: Option<String>, branch: Option<String> },
}

/// What reading a transcript skipped, so nothing is lost silently.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReadStats {
    /// Records (lines/rows) read.
    pub records: u64,
    /// Records that were not valid JSON (or undecodable), skipped.
    pub corrupt: u64,
    /// Synthetic rows skipped on purpose (gateway-injected, delivery-mirror, API errors, ...).
    pub synthetic: u64,
    /// Records longer than the reader's per-record limit, skipped.
    pub oversized: u64,
    pub bytes: u64,
}

/// The word that marks a handoff ASM wrote, followed by the id of the memory it came from,
/// in parentheses: `(asm-handoff <memory_id>)`. A session that received a handoff carries
/// it in a message, so the platform shows where a handoff went, and extraction never takes
/// it for the person's request.
pub const HANDOFF_MARKER: &str = "asm-handoff";

/// The marker of the handoff of `memory_id`, as it appears in the text.
pub fn handoff_marker(memory_id: &str) -> String {
    format!("({HANDOFF_MARKER} {memory_id})")
}

/// The memory id in the handoff marker `text` carries, if any.
pub fn handoff_marker_in(text: &str) -> Option<String> {
    let at = text.find(&format!("({HANDOFF_MARKER} "))?;
    let rest = &text[at + HANDOFF_MARKER.len() + 2..];
    let id: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || "._:-".contains(*c)).collect();
    (!id.is_empty() && rest[id.len()..].starts_with(')')).then_some(id)
}

/// A transcript that could not be read at all (a corrupt record is skipped, not an error).
#[derive(Debug, Error)]
#[error("cannot read transcript {path}: {message}")]
pub struct TranscriptError {
    pub path: PathBuf,
    pub message: String,
}

impl TranscriptError {
    pub fn new(path: &Path, message: impl std::fmt::Display) -> TranscriptError {
        TranscriptError { path: path.to_path_buf(), message: message.to_string() }
    }
}

/// A record longer than this is skipped (counted as oversized) rather than held in memory.
pub const MAX_RECORD_BYTES: usize = 32 * 1024 * 1024;

/// Where events go: the extractor, or anything else that wants them.
pub type Sink<'a> = dyn FnMut(TranscriptEvent) + 'a;

/// Calls `each` with every line of a JSONL file, without ever holding more than one line
/// (lines over [`MAX_RECORD_BYTES`] are skipped and counted).
pub fn for_each_line(path: &Path, stats: &mut ReadStats, mut each: impl FnMut(&[u8], &mut ReadStats)) -> Result<(), TranscriptError> {
    let file = std::fs::File::open(path).map_err(|e| TranscriptError::new(path, e))?;
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    let mut line: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut oversized = false;
    loop {
        let chunk = reader.fill_buf().map_err(|e| TranscriptError::new(path, e))?;
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

pub fn str_field<'a>(value: &'a serde_json::Value, key: &str) -> Option<&'a str> {
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
