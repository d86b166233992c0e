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

impl TranscriptEvent {
    /// The event with every text longer than the extractor needs clipped to its head and
    /// tail ([`crate::bounded_json::clip_str`]): a pasted 20 MB log costs what 64 KB does.
    pub fn clipped(self) -> TranscriptEvent {
        let clip = |text: String| match crate::bounded_json::clip_str(&text) {
            std::borrow::Cow::Owned(short) => short,
            std::borrow::Cow::Borrowed(_) => text,
        };
        match self {
            TranscriptEvent::UserText { text, at } => TranscriptEvent::UserText { text: clip(text), at },
            TranscriptEvent::AssistantText { text, at } => TranscriptEvent::AssistantText { text: clip(text), at },
            TranscriptEvent::ToolResult { id, name, input, output, is_error } => {
                TranscriptEvent::ToolResult { id, name, input, output: clip(output), is_error }
            }
            TranscriptEvent::PlatformSummary { text, source, at } => TranscriptEvent::PlatformSummary { text: clip(text), source, at },
            TranscriptEvent::SubagentResult { text } => TranscriptEvent::SubagentResult { text: clip(text) },
            other => other,
        }
    }
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

/// Of a record longer than this only the head is kept (counted as oversized) and read for
/// what it holds; the rest is skipped without being held in memory.
pub const MAX_RECORD_BYTES: usize = 8 * 1024 * 1024;

/// One record's JSON: read whole when small, with its long strings clipped when not (see
/// [`crate::bounded_json`]); None (counted as corrupt) when it is not JSON.
pub fn parse_record(bytes: &[u8], stats: &mut ReadStats) -> Option<serde_json::Value> {
    stats.bytes += bytes.len() as u64;
    let parsed = if bytes.len() <= crate::bounded_json::SMALL { serde_json::from_slice(bytes).ok() } else { crate::bounded_json::read(bytes).map(|b| b.value) };
    if parsed.is_none() {
        stats.corrupt += 1;
    }
    parsed
}

/// A record read from a stream (a big SQLite cell, a decompressed row): at most
/// [`MAX_RECORD_BYTES`] of it, long strings clipped; a record longer than that yields what
/// its head holds and is counted as oversized.
pub fn parse_record_stream(input: impl std::io::Read, stats: &mut ReadStats) -> Option<serde_json::Value> {
    let mut counted = CountingReader { inner: input.take(MAX_RECORD_BYTES as u64), read: 0 };
    let parsed = crate::bounded_json::read(&mut counted);
    stats.bytes += counted.read;
    if counted.read >= MAX_RECORD_BYTES as u64 {
        stats.oversized += 1;
    }
    if parsed.is_none() {
        stats.corrupt += 1;
    }
    parsed.map(|b| b.value)
}

struct CountingReader<R> {
    inner: R,
    read: u64,
}

impl<R: std::io::Read> std::io::Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

/// Where events go: the extractor, or anything else that wants them.
pub type Sink<'a> = dyn FnMut(TranscriptEvent) + 'a;

/// Calls `each` with every line of a JSONL file, without ever holding more than one line.
/// A line over [`crate::bounded_json::SMALL`] is handed on with its long strings clipped; of a
/// line over [`MAX_RECORD_BYTES`] only what its head holds is handed on.
pub fn for_each_line(path: &Path, stats: &mut ReadStats, mut each: impl FnMut(&[u8], &mut ReadStats)) -> Result<(), TranscriptError> {
    let file = crate::fsutil::open_for_reading(path).map_err(|e| TranscriptError::new(path, e))?;
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    let mut line: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut cut = false;
    loop {
        let chunk = reader.fill_buf().map_err(|e| TranscriptError::new(path, e))?;
        if chunk.is_empty() {
            break;
        }
        let (take, ended) = match memchr::memchr(b'\n', chunk) {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        let room = MAX_RECORD_BYTES.saturating_sub(line.len());
        line.extend_from_slice(&chunk[..take.min(room)]);
        cut |= take > room;
        stats.bytes += take as u64;
        reader.consume(take);
        if ended {
            finish_line(&mut line, &mut cut, stats, &mut each);
        }
    }
    finish_line(&mut line, &mut cut, stats, &mut each);
    Ok(())
}

fn finish_line(line: &mut Vec<u8>, cut: &mut bool, stats: &mut ReadStats, each: &mut impl FnMut(&[u8], &mut ReadStats)) {
    let trimmed = line.trim_ascii();
    if !trimmed.is_empty() {
        stats.records += 1;
        if *cut || trimmed.len() > crate::bounded_json::SMALL {
            stats.oversized += u64::from(*cut);
            match crate::bounded_json::read(trimmed).and_then(|b| serde_json::to_vec(&b.value).ok()) {
                Some(clipped) => each(&clipped, stats),
                None => stats.corrupt += 1,
            }
        } else {
            each(trimmed, stats);
        }
    }
    *cut = false;
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
