//! A Claude Code transcript as events for extraction, read front to back through the one
//! line model (`model.rs`). Lines are first looked at for their `type` only (cheap: nothing
//! else is allocated), and only conversation lines are decoded, so the large
//! `api-request-blob` and `attachment` lines cost a scan and nothing more.

use super::model::{self, Kinds, Line, UserLine};
use crate::transcript::{content_text, for_each_line, str_field, ReadStats, Sink, TranscriptError, TranscriptEvent};
use serde_json::Value;
use std::path::Path;

pub fn read(path: &Path, sink: &mut Sink<'_>) -> Result<ReadStats, TranscriptError> {
    let mut stats = ReadStats::default();
    let mut place = (None::<String>, None::<String>);
    for_each_line(path, &mut stats, |raw, stats| {
        let kinds = model::kinds(raw);
        if !kinds.has(Kinds::USER) && !kinds.has(Kinds::ASSISTANT) {
            if serde_json::from_slice::<serde::de::IgnoredAny>(raw).is_err() {
                stats.corrupt += 1;
            }
            return;
        }
        match Line::parse(raw) {
            Ok(line) if line.is("user") || line.is("assistant") => emit_line(line, &mut place, stats, sink),
            Ok(_) => {}
            Err(_) => stats.corrupt += 1,
        }
    })?;
    Ok(stats)
}

fn emit_line(line: Line, place: &mut (Option<String>, Option<String>), stats: &mut ReadStats, sink: &mut Sink<'_>) {
    if line.is_sidechain == Some(true) {
        stats.synthetic += 1;
        return;
    }
    if (line.cwd.is_some() && line.cwd != place.0) || (line.git_branch.is_some() && line.git_branch != place.1) {
        place.0 = line.cwd.clone().or(place.0.take());
        place.1 = line.git_branch.clone().or(place.1.take());
        let branch = place.1.clone().filter(|b| b != "HEAD");
        sink(TranscriptEvent::Context { model: None, provider: None, cwd: place.0.clone(), branch });
    }
    if line.is("user") {
        emit_user(line, stats, sink)
    } else {
        emit_assistant(line, stats, sink)
    }
}

fn emit_user(line: Line, stats: &mut ReadStats, sink: &mut Sink<'_>) {
    let at = line.timestamp.clone();
    if line.is_compact_summary != Some(true) && line.is_meta != Some(true) && line.is_visible_in_transcript_only != Some(true) {
        emit_tool_results(&line, sink);
    }
    match line.user_line() {
        UserLine::Prompt(text) => sink(TranscriptEvent::UserText { text, at }),
        UserLine::SubagentResult(text) => sink(TranscriptEvent::SubagentResult { text }),
        UserLine::CompactSummary(text) => {
            sink(TranscriptEvent::PlatformSummary { text: compact_summary_text(&text), source: "Claude Code compaction".into(), at });
        }
        UserLine::Synthetic => stats.synthetic += 1,
        UserLine::Empty => {}
    }
}

fn emit_tool_results(line: &Line, sink: &mut Sink<'_>) {
    let Some(message) = &line.message else { return };
    let Value::Array(blocks) = message.content() else { return };
    for block in blocks.iter().filter(|b| str_field(b, "type") == Some("tool_result")) {
        let id = str_field(block, "tool_use_id").unwrap_or_default().to_string();
        let output = content_text(block.get("content").unwrap_or(&Value::Null));
        let is_error = block.get("is_error").and_then(Value::as_bool).unwrap_or(false);
        sink(TranscriptEvent::ToolResult { id, name: None, input: None, output, is_error });
    }
}

fn emit_assistant(line: Line, stats: &mut ReadStats, sink: &mut Sink<'_>) {
    let Some(message) = &line.message else { return };
    let model = message.model.as_deref();
    if line.is_api_error_message == Some(true) || model == Some(model::SYNTHETIC_MODEL) {
        stats.synthetic += 1;
        return;
    }
    if let Some(model) = model {
        sink(TranscriptEvent::Context { model: Some(model.to_string()), provider: Some("anthropic".into()), cwd: None, branch: None });
    }
    let Value::Array(blocks) = message.content() else { return };
    for block in &blocks {
        match str_field(block, "type") {
            Some("text") => {
                let text = str_field(block, "text").unwrap_or_default().trim();
                if !text.is_empty() {
                    sink(TranscriptEvent::AssistantText { text: text.to_string(), at: line.timestamp.clone() });
                }
            }
            Some("tool_use") => sink(TranscriptEvent::ToolCall {
                id: str_field(block, "id").unwrap_or_default().to_string(),
                name: str_field(block, "name").unwrap_or_default().to_string(),
                input: block.get("input").cloned().unwrap_or(Value::Null),
            }),
            _ => {}
        }
    }
}

/// The summary proper: Claude Code wraps it in a preamble and instructions to the model.
fn compact_summary_text(text: &str) -> String {
    let body = text.split_once("Summary:").map_or(text, |(_, rest)| rest);
    let body = body.split("\nIf you need specific details from before compaction").next().unwrap_or(body);
    let body = body.split("\nContinue the conversation from where it left off").next().unwrap_or(body);
    strip_reminders(body).trim().to_string()
}

fn strip_reminders(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<system-reminder>") {
        out.push_str(&rest[..start]);
        match rest[start..].find("</system-reminder>") {
            Some(end) => rest = &rest[start + end + "</system-reminder>".len()..],
            None => rest = "",
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events_of(file: &str) -> (Vec<TranscriptEvent>, ReadStats) {
        let path = asm_testkit::fixtures_dir().join("claude-code/projects/-tmp-fixture-project-demo").join(file);
        let mut events = Vec::new();
        let stats = read(&path, &mut |e| events.push(e)).unwrap();
        (events, stats)
    }

    #[test]
    fn tool_turn_and_compaction_are_read() {
        let (events, stats) = events_of("ffa9427d-db56-443c-b8a2-7aaf5ba49ae3.jsonl");
        let users: Vec<&str> = events.iter().filter_map(|e| if let TranscriptEvent::UserText { text, .. } = e { Some(text.as_str()) } else { None }).collect();
        assert_eq!(users, ["RUN_TOOL: check the gateway health", "thanks, anything else?"]);
        assert!(events.iter().any(|e| matches!(e, TranscriptEvent::ToolCall { name, input, .. } if name == "Bash" && input["command"] == "echo hi-from-tool")));
        assert!(events.iter().any(|e| matches!(e, TranscriptEvent::ToolResult { output, is_error: false, .. } if output == "hi-from-tool")));
        let summary = events.iter().find_map(|e| if let TranscriptEvent::PlatformSummary { text, .. } = e { Some(text.clone()) } else { None }).unwrap();
        assert!(summary.starts_with("1. Primary Request and Intent"), "{summary}");
        assert!(!summary.contains("read the full transcript"));
        assert_eq!(stats.corrupt, 0);
        assert!(stats.synthetic >= 3, "meta + command echoes skipped: {stats:?}");
    }

    #[test]
    fn subagent_notification_carries_only_its_result() {
        let (events, _) = events_of("ffef2de7-0e93-4bea-b4f5-c6c6c07e8fa6.jsonl");
        assert!(events.contains(&TranscriptEvent::SubagentResult { text: "Hello from the mock server.".into() }));
        assert!(!events.iter().any(|e| matches!(e, TranscriptEvent::UserText { text, .. } if text.contains("task-notification"))));
    }

    #[test]
    fn reminders_next_to_a_typed_prompt_are_dropped_not_the_prompt() {
        let dir = asm_testkit::TempDir::new("cc-blocks");
        let path = dir.join("s.jsonl");
        let line = r#"{"type":"user","message":{"role":"user","content":[{"type":"text","text":"<system-reminder>x</system-reminder>"},{"type":"text","text":"fix the build"}]}}"#;
        std::fs::write(&path, line).unwrap();
        let mut events = Vec::new();
        read(&path, &mut |e| events.push(e)).unwrap();
        assert_eq!(events, [TranscriptEvent::UserText { text: "fix the build".into(), at: None }]);
    }

    #[test]
    fn corrupt_lines_and_api_errors_are_skipped_and_counted() {
        let dir = asm_testkit::TempDir::new("cc-reader");
        let path = dir.join("s.jsonl");
        let lines = [
            r#"{"type":"user","message":{"role":"user","content":"first ask"},"cwd":"/w","gitBranch":"feat/x"}"#,
            "{not json",
            r#"{"type":"assistant","isApiErrorMessage":true,"message":{"model":"<synthetic>","content":[{"type":"text","text":"API Error: 500"}]}}"#,
            r#"{"type":"assistant","message":{"model":"claude-sonnet-4-5","content":[{"type":"text","text":"ok"}]}}"#,
        ];
        std::fs::write(&path, lines.join("\n")).unwrap();
        let mut events = Vec::new();
        let stats = read(&path, &mut |e| events.push(e)).unwrap();
        assert_eq!((stats.corrupt, stats.synthetic, stats.records), (1, 1, 4));
        assert!(events.contains(&TranscriptEvent::Context { model: None, provider: None, cwd: Some("/w".into()), branch: Some("feat/x".into()) }));
        assert!(!events.iter().any(|e| matches!(e, TranscriptEvent::AssistantText { text, .. } if text.contains("API Error"))));
    }
}
