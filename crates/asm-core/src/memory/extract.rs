//! The deterministic extractor: no model, no network. It folds a transcript's events into
//! capped sections that favour recent material (each list keeps its newest distinct
//! entries), so memory stays bounded however long the transcript is. Every kept string is
//! redacted before it is stored.
//!
//! Rules (after the non-LLM approach in the reference notes, §4.4): goal = first real user
//! request, latest = last one; files and commands come from tool-call arguments, outcomes and
//! errors from tool results (an error is resolved when the same command or the same tool on
//! the same file later succeeds); decisions are sentences with decision markers minus
//! tentative ones; open items are TODO / next-step lines plus a question left unanswered;
//! identifiers (URLs, paths, hashes, ids, ports, branches) are kept verbatim.

use super::TranscriptEvent;
use crate::redact::redact;
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::sync::OnceLock;

/// How many entries each section keeps (the newest ones).
pub struct Caps;
impl Caps {
    pub const USER_REQUESTS: usize = 8;
    pub const DECISIONS: usize = 12;
    pub const OPEN_ITEMS: usize = 12;
    pub const FILES: usize = 30;
    pub const COMMANDS: usize = 15;
    pub const ERRORS: usize = 10;
    pub const IDENTIFIERS: usize = 40;
    pub const SUBAGENT_RESULTS: usize = 5;
    /// Characters kept of a request, of a list entry, and of the platform summary.
    pub const REQUEST_CHARS: usize = 2000;
    pub const ITEM_CHARS: usize = 300;
    pub const SUMMARY_CHARS: usize = 12_000;
    /// Tool calls waiting for their result (older ones are forgotten).
    pub const PENDING_CALLS: usize = 256;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlatformSummary {
    pub text: String,
    /// Which mechanism wrote it (e.g. "Claude Code compaction", "OpenClaw sessions.compact").
    pub source: String,
    pub at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandRun {
    pub command: String,
    /// `ok`, `failed`, or `no result` (the transcript ends before the result).
    pub outcome: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorSeen {
    pub message: String,
    /// The tool (and command) that failed, when it came from a tool result.
    pub source: Option<String>,
    pub resolved: bool,
    /// What later succeeded (command or tool + file), for resolving.
    #[serde(skip)]
    subject: Option<String>,
}

/// The extracted sections, as stored in the memory file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sections {
    /// The newest summary the platform itself wrote (it leads the handoff).
    pub platform_summary: Option<PlatformSummary>,
    /// How many platform summaries the transcript holds.
    #[serde(default)]
    pub platform_summaries_seen: u32,
    pub goal: Option<String>,
    pub latest_request: Option<String>,
    /// The newest distinct requests, oldest first.
    pub user_requests: Vec<String>,
    pub decisions: Vec<String>,
    pub open_items: Vec<String>,
    pub files_read: Vec<String>,
    pub files_changed: Vec<String>,
    pub commands: Vec<CommandRun>,
    pub errors: Vec<ErrorSeen>,
    pub identifiers: Vec<String>,
    pub subagent_results: Vec<String>,
    /// Handoffs ASM gave this session (their memory ids), found by their marker; they are
    /// never taken as a request, a goal or a decision: earlier summaries travel in the chain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub handoffs_received: Vec<String>,
    /// Working directory and model as the transcript records them (fallbacks for the record).
    #[serde(skip)]
    pub transcript_cwd: Option<String>,
    #[serde(skip)]
    pub transcript_model: Option<String>,
}

/// A bounded list of distinct entries: re-adding moves an entry to the newest end, the
/// oldest falls off the other end.
struct Recent<T> {
    cap: usize,
    items: VecDeque<(String, T)>,
}

impl<T> Recent<T> {
    fn new(cap: usize) -> Self {
        Recent { cap, items: VecDeque::with_capacity(cap + 1) }
    }

    fn push(&mut self, key: String, item: T) {
        if let Some(pos) = self.items.iter().position(|(k, _)| *k == key) {
            self.items.remove(pos);
        }
        self.items.push_back((key, item));
        if self.items.len() > self.cap {
            self.items.pop_front();
        }
    }

    fn last_mut_by_key(&mut self, key: &str) -> Option<&mut T> {
        self.items.iter_mut().rev().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    fn into_vec(self) -> Vec<T> {
        self.items.into_iter().map(|(_, v)| v).collect()
    }
}

/// What a tool does, judged by its name (the three platforms name their tools differently).
#[derive(Debug, Clone, Copy, PartialEq)]
enum ToolKind {
    Read,
    Change,
    Command,
    /// A subagent (Claude Code `Agent`/`Task`, OpenCode `task`): its result is worth keeping.
    Subagent,
    Other,
}

fn tool_kind(name: &str) -> ToolKind {
    let n = name.to_ascii_lowercase();
    match n.as_str() {
        "read" | "view" | "cat" | "read_file" | "readfile" | "notebookread" | "open" => ToolKind::Read,
        "write" | "edit" | "multiedit" | "notebookedit" | "patch" | "apply_patch" | "write_file" | "edit_file" | "create" | "str_replace"
        | "str_replace_editor" => ToolKind::Change,
        "bash" | "exec" | "shell" | "run" | "command" | "terminal" | "run_command" | "execute" | "sh" | "powershell" => ToolKind::Command,
        "agent" | "task" | "subagent" | "sessions_spawn" => ToolKind::Subagent,
        _ => ToolKind::Other,
    }
}

struct PendingCall {
    name: String,
    input: Value,
}

pub struct Extractor {
    summary: Option<PlatformSummary>,
    summaries_seen: u32,
    goal: Option<String>,
    latest: Option<String>,
    requests: Recent<String>,
    decisions: Recent<String>,
    open_items: Recent<String>,
    files_read: Recent<String>,
    files_changed: Recent<String>,
    commands: Recent<CommandRun>,
    errors: Recent<ErrorSeen>,
    identifiers: Recent<String>,
    subagent_results: Recent<String>,
    handoffs_received: Vec<String>,
    pending: HashMap<String, PendingCall>,
    pending_order: VecDeque<String>,
    unanswered_user_question: Option<String>,
    last_assistant_question: Option<String>,
    cwd: Option<String>,
    model: Option<String>,
}

impl Default for Extractor {
    fn default() -> Self {
        Self::new()
    }
}

impl Extractor {
    pub fn new() -> Self {
        Extractor {
            summary: None,
            summaries_seen: 0,
            goal: None,
            latest: None,
            requests: Recent::new(Caps::USER_REQUESTS),
            decisions: Recent::new(Caps::DECISIONS),
            open_items: Recent::new(Caps::OPEN_ITEMS),
            files_read: Recent::new(Caps::FILES),
            files_changed: Recent::new(Caps::FILES),
            commands: Recent::new(Caps::COMMANDS),
            errors: Recent::new(Caps::ERRORS),
            identifiers: Recent::new(Caps::IDENTIFIERS),
            subagent_results: Recent::new(Caps::SUBAGENT_RESULTS),
            handoffs_received: Vec::new(),
            pending: HashMap::new(),
            pending_order: VecDeque::new(),
            unanswered_user_question: None,
            last_assistant_question: None,
            cwd: None,
            model: None,
        }
    }

    pub fn push(&mut self, event: TranscriptEvent) {
        match event {
            TranscriptEvent::UserText { text, .. } => self.user_text(&text),
            TranscriptEvent::AssistantText { text, .. } => self.assistant_text(&text),
            TranscriptEvent::ToolCall { id, name, input } => self.tool_call(id, name, input),
            TranscriptEvent::ToolResult { id, name, input, output, is_error } => self.tool_result(&id, name, input, &output, is_error),
            TranscriptEvent::FilesTouched { read, changed } => {
                read.iter().for_each(|f| self.file(ToolKind::Read, f));
                changed.iter().for_each(|f| self.file(ToolKind::Change, f));
            }
            TranscriptEvent::PlatformSummary { text, source, at } => {
                self.summaries_seen += 1;
                self.summary = Some(PlatformSummary { text: clip(&redact(&text), Caps::SUMMARY_CHARS), source, at });
            }
            TranscriptEvent::SubagentResult { text } => self.subagent_result(&text),
            TranscriptEvent::Reset => self.reset(),
            TranscriptEvent::Context { model, cwd, branch, .. } => {
                self.model = model.or(self.model.take());
                self.cwd = cwd.or(self.cwd.take());
                if let Some(branch) = branch {
                    self.identifier(format!("branch {branch}"));
                }
            }
        }
    }

    /// A reset in place starts a new conversation: what came before is no longer the session's.
    fn reset(&mut self) {
        let (cwd, model) = (self.cwd.take(), self.model.take());
        *self = Extractor::new();
        self.cwd = cwd;
        self.model = model;
    }

    fn subagent_result(&mut self, text: &str) {
        // A background launch acknowledges, it does not report: its result comes later.
        if text.trim_start().starts_with("Async agent launched") {
            return;
        }
        let text = clean(text, Caps::ITEM_CHARS);
        if !text.is_empty() {
            self.subagent_results.push(norm(&text), text);
        }
    }

    fn user_text(&mut self, text: &str) {
        if let Some(memory_id) = received_marker(text) {
            if !self.handoffs_received.contains(&memory_id) {
                self.handoffs_received.push(memory_id);
            }
            return;
        }
        let redacted = redact(text);
        let request = clip(redacted.trim(), Caps::REQUEST_CHARS);
        if request.is_empty() {
            return;
        }
        if self.goal.is_none() {
            self.goal = Some(request.clone());
        }
        self.latest = Some(request.clone());
        self.requests.push(norm(&request), request.clone());
        self.unanswered_user_question = request.trim_end().ends_with('?').then(|| clip(&request, Caps::ITEM_CHARS));
        self.last_assistant_question = None;
        self.scan_text(&redacted, true);
    }

    fn assistant_text(&mut self, text: &str) {
        let redacted = redact(text);
        self.unanswered_user_question = None;
        self.last_assistant_question = last_question(&redacted);
        self.scan_text(&redacted, false);
    }

    /// Decisions, open items, errors pasted by the user, and identifiers in a (redacted) text.
    fn scan_text(&mut self, text: &str, from_user: bool) {
        for sentence in sentences(text) {
            if is_decision(sentence) {
                let s = clip(sentence, Caps::ITEM_CHARS);
                self.decisions.push(norm(&s), s);
            }
        }
        for line in text.lines().map(str::trim) {
            if is_open_item(line) {
                let s = clip(line.trim_start_matches(['-', '*', ' ']), Caps::ITEM_CHARS);
                self.open_items.push(norm(&s), s);
            }
            if from_user && looks_like_error(line) {
                let message = clip(line, Caps::ITEM_CHARS);
                self.errors.push(norm(&message), ErrorSeen { message, source: Some("reported by the user".into()), resolved: false, subject: None });
            }
        }
        for id in identifiers_in(text) {
            self.identifier(id);
        }
    }

    fn identifier(&mut self, id: String) {
        let id = clip(&redact(&id), Caps::ITEM_CHARS);
        self.identifiers.push(id.clone(), id);
    }

    fn tool_call(&mut self, id: String, name: String, input: Value) {
        self.note_tool_input(&name, &input);
        if tool_kind(&name) == ToolKind::Command {
            if let Some(command) = command_of(&input) {
                self.commands.push(command.clone(), CommandRun { command, outcome: "no result".into() });
            }
        }
        if id.is_empty() {
            return;
        }
        if self.pending.insert(id.clone(), PendingCall { name, input }).is_none() {
            self.pending_order.push_back(id);
        }
        while self.pending_order.len() > Caps::PENDING_CALLS {
            if let Some(old) = self.pending_order.pop_front() {
                self.pending.remove(&old);
            }
        }
    }

    fn note_tool_input(&mut self, name: &str, input: &Value) {
        let kind = tool_kind(name);
        for path in paths_of(input) {
            self.file(kind, &path);
        }
        if let Some(command) = command_of(input) {
            for id in identifiers_in(&command) {
                self.identifier(id);
            }
        }
    }

    fn file(&mut self, kind: ToolKind, path: &str) {
        let path = clip(&redact(path.trim()), Caps::ITEM_CHARS);
        if path.is_empty() {
            return;
        }
        match kind {
            ToolKind::Read => self.files_read.push(path.clone(), path),
            ToolKind::Change => self.files_changed.push(path.clone(), path),
            _ => {}
        }
    }

    fn tool_result(&mut self, id: &str, name: Option<String>, input: Option<Value>, output: &str, is_error: bool) {
        let call = self.pending.remove(id);
        let name = name.or_else(|| call.as_ref().map(|c| c.name.clone())).unwrap_or_default();
        let input = match (input, call) {
            (Some(input), _) => input,
            (None, Some(call)) => call.input,
            (None, None) => Value::Null,
        };
        let kind = tool_kind(&name);
        let command = (kind == ToolKind::Command).then(|| command_of(&input)).flatten();
        if let Some(command) = &command {
            let outcome = if is_error { "failed" } else { "ok" }.to_string();
            match self.commands.last_mut_by_key(command) {
                Some(run) => run.outcome = outcome,
                None => {
                    self.note_tool_input(&name, &input);
                    self.commands.push(command.clone(), CommandRun { command: command.clone(), outcome });
                }
            }
        }
        let subject = match &command {
            Some(c) => Some(c.clone()),
            None => paths_of(&input).into_iter().next().map(|p| format!("{name} {p}")),
        };
        if kind == ToolKind::Subagent && !is_error {
            self.subagent_result(output);
        }
        if is_error {
            let message = error_message(output);
            let source = Some(match &command {
                Some(c) => format!("{name}: {}", clip(c, 120)),
                None => name.clone(),
            });
            self.errors.push(norm(&message), ErrorSeen { message, source, resolved: false, subject });
        } else if let Some(subject) = subject {
            self.resolve_errors(&subject);
        }
    }

    /// A later success of the same command (or of one with the same program and subcommand,
    /// or of the same tool on the same file) resolves the errors it had.
    fn resolve_errors(&mut self, subject: &str) {
        let head = command_head(subject);
        for (_, error) in self.errors.items.iter_mut() {
            if let Some(s) = &error.subject {
                if s == subject || (!head.is_empty() && command_head(s) == head) {
                    error.resolved = true;
                }
            }
        }
    }

    pub fn finish(mut self) -> Sections {
        if let Some(q) = self.unanswered_user_question.take() {
            self.open_items.push(norm(&q), format!("Unanswered question from the user: {q}"));
        }
        if let Some(q) = self.last_assistant_question.take() {
            self.open_items.push(norm(&q), format!("Waiting for the user to answer: {q}"));
        }
        Sections {
            platform_summary: self.summary,
            platform_summaries_seen: self.summaries_seen,
            goal: self.goal,
            latest_request: self.latest,
            user_requests: self.requests.into_vec(),
            decisions: self.decisions.into_vec(),
            open_items: self.open_items.into_vec(),
            files_read: self.files_read.into_vec(),
            files_changed: self.files_changed.into_vec(),
            commands: self.commands.into_vec(),
            errors: self.errors.into_vec(),
            identifiers: self.identifiers.into_vec(),
            subagent_results: self.subagent_results.into_vec(),
            handoffs_received: self.handoffs_received,
            transcript_cwd: self.cwd,
            transcript_model: self.model,
        }
    }
}

/// The memory id of a handoff ASM gave, when `text` is one (or a prompt that carries one):
/// its marker, or the heading handoffs had before the marker existed ("" then).
fn received_marker(text: &str) -> Option<String> {
    if let Some(id) = crate::transcript::handoff_marker_in(text) {
        return Some(id);
    }
    let first = text.trim_start().lines().next().unwrap_or_default();
    (first.starts_with("# Handoff from ") && first.contains(" session ")).then(String::new)
}

/// The command string of a shell tool's input (`command`, `cmd`, or an argv array).
fn command_of(input: &Value) -> Option<String> {
    let raw = input.get("command").or_else(|| input.get("cmd")).or_else(|| input.get("script"))?;
    let text = match raw {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" "),
        _ => return None,
    };
    let text = clip(&redact(text.split_whitespace().collect::<Vec<_>>().join(" ").as_str()), Caps::ITEM_CHARS);
    (!text.is_empty()).then_some(text)
}

/// The file paths in a tool's input: the usual argument names, and the files named in an
/// `apply_patch` body.
fn paths_of(input: &Value) -> Vec<String> {
    let mut paths: Vec<String> = ["file_path", "filePath", "path", "notebook_path", "file", "filename", "target_file"]
        .iter()
        .filter_map(|k| input.get(*k).and_then(Value::as_str))
        .filter(|p| !p.trim().is_empty())
        .map(str::to_string)
        .collect();
    for key in ["patchText", "patch", "input"] {
        if let Some(body) = input.get(key).and_then(Value::as_str) {
            for line in body.lines() {
                for marker in ["*** Update File: ", "*** Add File: ", "*** Delete File: ", "+++ b/"] {
                    if let Some(p) = line.strip_prefix(marker) {
                        paths.push(p.trim().to_string());
                    }
                }
            }
        }
    }
    paths.dedup();
    paths
}

/// Program and subcommand, options left out: `systemctl --user restart x` → `systemctl restart`.
fn command_head(command: &str) -> String {
    command.split_whitespace().filter(|w| !w.starts_with('-')).take(2).collect::<Vec<_>>().join(" ")
}

/// The first meaningful lines of a failed tool's output.
fn error_message(output: &str) -> String {
    let redacted = redact(output);
    let lines: Vec<&str> = redacted.lines().map(str::trim).filter(|l| !l.is_empty()).take(3).collect();
    let message = if lines.is_empty() { "failed without output".to_string() } else { lines.join(" | ") };
    clip(&message, Caps::ITEM_CHARS)
}

fn looks_like_error(line: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(
            r"^(?:error(?:\[\w+\])?:|Error:|ERROR\b|fatal:|panicked at|thread '.*' panicked|Traceback \(most recent call last\)|\w+(?:Error|Exception): )",
        )
        .expect("static")
    });
    line.len() < 1000 && re.is_match(line)
}

fn sentences(text: &str) -> impl Iterator<Item = &str> {
    text.split(['\n', '.', '!', ';']).map(|s| s.trim().trim_start_matches(['-', '*', '#', ' '])).filter(|s| s.len() >= 12 && s.len() <= 600)
}

fn is_decision(sentence: &str) -> bool {
    static MARKERS: OnceLock<Regex> = OnceLock::new();
    static NEGATIVE: OnceLock<Regex> = OnceLock::new();
    let markers = MARKERS.get_or_init(|| {
        Regex::new(r"(?i)\b(decided|decision|we'll use|we will use|i'll use|going with|go with|let's use|chose|chosen|opted|settled on|conclusion|concluded|root cause|the fix is|agreed|switched to|instead of|turns out|confirmed)\b").expect("static")
    });
    let negative = NEGATIVE
        .get_or_init(|| Regex::new(r"(?i)\b(should we|maybe|perhaps|not decided|undecided|ruled out|could we|whether|if we|do you want)\b").expect("static"));
    !sentence.ends_with('?') && markers.is_match(sentence) && !negative.is_match(sentence)
}

fn is_open_item(line: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"(?i)(\bTODO\b|\bFIXME\b|\bnext steps?\b|\bfollow[- ]up\b|\bstill (?:need|have) to\b|\bremaining:|\bpending:|^[-*] \[ \])").expect("static")
    });
    line.len() >= 6 && line.len() <= 1000 && !line.starts_with("- [x]") && re.is_match(line)
}

/// The last question the assistant asked, if its text ends with one.
fn last_question(text: &str) -> Option<String> {
    let trimmed = text.trim_end();
    if !trimmed.ends_with('?') {
        return None;
    }
    let start = trimmed[..trimmed.len() - 1].rfind(['.', '!', '\n', '?']).map_or(0, |i| i + 1);
    let question = trimmed[start..].trim();
    (question.len() >= 8).then(|| clip(question, Caps::ITEM_CHARS))
}

/// Identifiers that must survive exactly: URLs, paths, UUIDs and hashes, prefixed ids,
/// host:port and port numbers, branch names, Telegram chat ids.
pub fn identifiers_in(text: &str) -> Vec<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(concat!(
            r#"(?P<url>\b(?:https?|wss?|ftp|ssh|git|file)://[^\s<>"'`)\]\}]+)"#,
            r#"|(?P<uuid>\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b)"#,
            r#"|(?P<hostport>\b(?:localhost|\d{1,3}(?:\.\d{1,3}){3}|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+):\d{2,5}\b)"#,
            r#"|(?P<path>(?:~|\.{1,2})?/(?:[\w.@+-]+/)+[\w.@+-]+|\b[\w.-]+/(?:[\w.-]+/)*[\w-]+\.[A-Za-z0-9]{1,8}\b)"#,
            r#"|(?P<hash>\b[0-9a-f]{7,64}\b)"#,
            r#"|(?P<prefixed>\b[a-z]{2,8}_[A-Za-z0-9]{12,}\b)"#,
            r#"|(?P<chat>-100\d{6,}\b)"#,
            r#"|(?i:\bport\s*[:=]?\s*)(?P<port>\d{2,5})\b"#,
            r#"|(?i:\b(?:branch|checkout -b|switch -c)\s+[`'"]?)(?P<branch>[A-Za-z0-9][\w./-]{1,80})"#,
        ))
        .expect("static identifier pattern")
    });
    let mut found = Vec::new();
    for caps in re.captures_iter(text) {
        let item = if let Some(m) = caps.name("url") {
            m.as_str().trim_end_matches(['.', ',', ';', ':', '!', '?']).to_string()
        } else if let Some(m) = caps.name("hash") {
            let h = m.as_str();
            if !(h.bytes().any(|b| b.is_ascii_digit()) && h.bytes().any(|b| b.is_ascii_alphabetic())) {
                continue;
            }
            h.to_string()
        } else if let Some(m) = caps.name("port") {
            format!("port {}", m.as_str())
        } else if let Some(m) = caps.name("branch") {
            format!("branch {}", m.as_str().trim_end_matches(['.', ',']))
        } else if let Some(m) = ["uuid", "hostport", "path", "prefixed", "chat"].iter().find_map(|n| caps.name(n)) {
            m.as_str().trim_end_matches(['.', ',']).to_string()
        } else {
            continue;
        };
        if !item.contains(crate::redact::MASK) && !found.contains(&item) {
            found.push(item);
        }
    }
    found
}

/// Trimmed, redacted and clipped.
fn clean(text: &str, max_chars: usize) -> String {
    clip(redact(text.trim()).trim(), max_chars)
}

/// At most `max_chars` characters, cut on a character boundary, with an ellipsis when cut.
pub fn clip(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        None => text.to_string(),
        Some((cut, _)) => format!("{}…", text[..cut].trim_end()),
    }
}

/// The key two entries are "the same" under: case and spacing ignored.
fn norm(text: &str) -> String {
    text.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user(t: &str) -> TranscriptEvent {
        TranscriptEvent::UserText { text: t.into(), at: None }
    }
    fn assistant(t: &str) -> TranscriptEvent {
        TranscriptEvent::AssistantText { text: t.into(), at: None }
    }
    fn call(id: &str, name: &str, input: Value) -> TranscriptEvent {
        TranscriptEvent::ToolCall { id: id.into(), name: name.into(), input }
    }
    fn result(id: &str, output: &str, is_error: bool) -> TranscriptEvent {
        TranscriptEvent::ToolResult { id: id.into(), name: None, input: None, output: output.into(), is_error }
    }

    fn run(events: Vec<TranscriptEvent>) -> Sections {
        let mut x = Extractor::new();
        events.into_iter().for_each(|e| x.push(e));
        x.finish()
    }

    #[test]
    fn goal_latest_files_commands_and_error_resolution() {
        let s = run(vec![
            user("  Fix the flaky gateway probe in src/probe.rs  "),
            call("1", "Read", json!({"file_path": "/repo/src/probe.rs"})),
            result("1", "fn probe() {}", false),
            call("2", "Bash", json!({"command": "cargo test -p asm-core probe"})),
            result("2", "Exit code 101\nerror[E0425]: cannot find value `x`\nmore", true),
            call("3", "Edit", json!({"file_path": "/repo/src/probe.rs", "old_string": "a", "new_string": "b"})),
            result("3", "ok", false),
            call("4", "Bash", json!({"command": "cargo test -p asm-core probe"})),
            result("4", "test result: ok", false),
            assistant("Root cause: the probe had no timeout. We'll use a 3 s timeout.\nNext step: run the e2e suite."),
            user("thanks, and what about port 18789?"),
        ]);
        assert_eq!(s.goal.as_deref(), Some("Fix the flaky gateway probe in src/probe.rs"));
        assert_eq!(s.latest_request.as_deref(), Some("thanks, and what about port 18789?"));
        assert_eq!(s.files_read, ["/repo/src/probe.rs"]);
        assert_eq!(s.files_changed, ["/repo/src/probe.rs"]);
        assert_eq!(s.commands, [CommandRun { command: "cargo test -p asm-core probe".into(), outcome: "ok".into() }]);
        assert_eq!(s.errors.len(), 1);
        assert!(s.errors[0].message.starts_with("Exit code 101 | error[E0425]"));
        assert!(s.errors[0].resolved);
        assert!(s.decisions.iter().any(|d| d.starts_with("Root cause")), "{:?}", s.decisions);
        assert!(s.open_items.iter().any(|o| o.starts_with("Next step")), "{:?}", s.open_items);
        assert!(s.open_items.iter().any(|o| o.starts_with("Unanswered question from the user")));
        assert!(s.identifiers.contains(&"port 18789".to_string()));
        assert!(s.identifiers.contains(&"src/probe.rs".to_string()));
    }

    #[test]
    fn synchronous_subagent_results_are_kept_and_launch_notices_are_not() {
        let s = run(vec![
            call("a", "Task", json!({"prompt": "find the bug"})),
            result("a", "The bug is in src/probe.rs: no timeout.", false),
            call("b", "Agent", json!({"prompt": "later"})),
            result("b", "Async agent launched successfully. agentId: x", false),
        ]);
        assert_eq!(s.subagent_results, ["The bug is in src/probe.rs: no timeout."]);
    }

    #[test]
    fn sections_are_capped_and_keep_the_newest() {
        let mut events = Vec::new();
        for i in 0..200 {
            events.push(call(&format!("c{i}"), "Write", json!({"file_path": format!("/w/f{i}.rs")})));
            events.push(user(&format!("request number {i}")));
        }
        let s = run(events);
        assert_eq!(s.files_changed.len(), Caps::FILES);
        assert_eq!(s.files_changed.last().map(String::as_str), Some("/w/f199.rs"));
        assert_eq!(s.user_requests.len(), Caps::USER_REQUESTS);
        assert_eq!(s.goal.as_deref(), Some("request number 0"));
    }

    #[test]
    fn newest_platform_summary_leads_and_reset_starts_over() {
        let s = run(vec![
            TranscriptEvent::PlatformSummary { text: "old".into(), source: "x".into(), at: None },
            TranscriptEvent::PlatformSummary { text: "new".into(), source: "x".into(), at: None },
        ]);
        assert_eq!(s.platform_summary.map(|p| p.text).as_deref(), Some("new"));
        let s = run(vec![user("before reset"), TranscriptEvent::Reset, user("after reset")]);
        assert_eq!(s.goal.as_deref(), Some("after reset"));
        assert_eq!(s.user_requests, ["after reset"]);
    }

    #[test]
    fn identifiers_are_verbatim_and_tentative_phrasing_is_not_a_decision() {
        let ids = identifiers_in("see https://github.com/o/r/pull/12, commit 3f2a9c1d, session ses_df4c7636affe5zEnkBDHC7yhTL at 127.0.0.1:18789 on branch feat/memory-store, chat -1001234567890");
        for want in
            ["https://github.com/o/r/pull/12", "3f2a9c1d", "ses_df4c7636affe5zEnkBDHC7yhTL", "127.0.0.1:18789", "branch feat/memory-store", "-1001234567890"]
        {
            assert!(ids.contains(&want.to_string()), "{want} missing from {ids:?}");
        }
        assert!(!is_decision("Maybe we decided to use sqlite"));
        assert!(!is_decision("Should we go with sqlite?"));
        assert!(is_decision("We decided to keep the JSONL reader streaming"));
    }

    #[test]
    fn clip_cuts_on_char_boundaries() {
        assert_eq!(clip("héllo wörld", 5), "héllo…");
        assert_eq!(clip("short", 10), "short");
    }

    #[test]
    fn a_handoff_asm_gave_is_never_the_goal_or_a_request() {
        let handoff = "# Handoff from OpenClaw session s1 (asm-handoff s1.g1)\n\n## Goal (first request)\nfix the invoice export\n\n## Decisions\n- We decided to split invoice.rs.";
        let older = "# Handoff from OpenClaw session s0\n\n## Goal (first request)\nsomething older";
        let s = run(vec![user(handoff), user(older), user("now add the CSV column"), user("and test it")]);
        assert_eq!(s.goal.as_deref(), Some("now add the CSV column"));
        assert_eq!(s.latest_request.as_deref(), Some("and test it"));
        assert!(s.decisions.is_empty(), "a decision quoted in a handoff is not this session's: {:?}", s.decisions);
        assert_eq!(s.handoffs_received, ["s1.g1", ""]);
        let continuation = "(asm-handoff c.g2) Continue the work of Claude Code session c: what it knew is in your system prompt.";
        assert_eq!(run(vec![user(continuation), user("go")]).goal.as_deref(), Some("go"));
    }
}
