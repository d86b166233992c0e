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
    pub const DECISIONS: usize = 20;
    pub const OPEN_ITEMS: usize = 16;
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
        self.push_keeping(key, item, |_| false);
    }

    /// [`Recent::push`], but when the list is full the oldest entry that is not `precious`
    /// falls off (an unresolved failure outlives newer successes).
    fn push_keeping(&mut self, key: String, item: T, precious: impl Fn(&T) -> bool) {
        if let Some(pos) = self.items.iter().position(|(k, _)| *k == key) {
            self.items.remove(pos);
        }
        self.items.push_back((key, item));
        if self.items.len() > self.cap {
            let victim = self.items.iter().position(|(_, v)| !precious(v)).unwrap_or(0);
            self.items.remove(victim);
        }
    }

    fn remove(&mut self, key: &str) {
        self.items.retain(|(k, _)| k != key);
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
    /// The newest todo list of the platform's todo tool: its unfinished items.
    todo_tool_items: Vec<String>,
    /// Identifiers first seen in what the user wrote (kept even when they are platform ids).
    user_identifiers: std::collections::HashSet<String>,
    /// The platform's own ids for this session (id, key, chat id, working directory).
    own_ids: OwnIds,
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

/// The ids a platform gives a session. They are the platform's, not the work's: an identifier
/// that is (or, for the session id, holds) one is not kept unless the user wrote it.
#[derive(Debug, Clone, Default)]
pub struct OwnIds {
    pub session_id: Option<String>,
    /// Exact matches: the OpenClaw key, the Telegram chat id in it, the working directory.
    pub exact: Vec<String>,
}

impl OwnIds {
    /// The ids of a session: its id, its key and the chat id in the key, its working dir.
    pub fn of(session_id: &str, key: Option<&str>, cwd: Option<&str>) -> OwnIds {
        let mut exact: Vec<String> = key.into_iter().chain(cwd).map(str::to_string).collect();
        if let Some(key) = key {
            exact.extend(key.split(':').filter(|part| part.starts_with("-100") && part[1..].bytes().all(|b| b.is_ascii_digit())).map(str::to_string));
        }
        OwnIds { session_id: Some(session_id.to_string()).filter(|s| s.len() >= 8), exact }
    }

    fn holds(&self, id: &str, cwd: Option<&str>) -> bool {
        self.session_id.as_deref().is_some_and(|s| id.contains(s)) || self.exact.iter().any(|e| e == id) || cwd == Some(id)
    }
}

impl Extractor {
    /// An extractor that drops the session's own platform ids from the identifiers.
    pub fn for_session(own_ids: OwnIds) -> Self {
        Extractor { own_ids, ..Extractor::new() }
    }

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
            todo_tool_items: Vec::new(),
            user_identifiers: std::collections::HashSet::new(),
            own_ids: OwnIds::default(),
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
        let (cwd, model, own_ids) = (self.cwd.take(), self.model.take(), std::mem::take(&mut self.own_ids));
        *self = Extractor::for_session(own_ids);
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
        // A handoff injected as an assistant message (OpenClaw's chat.inject) is not this
        // session's work either.
        if let Some(memory_id) = received_marker(text) {
            if !self.handoffs_received.contains(&memory_id) {
                self.handoffs_received.push(memory_id);
            }
            return;
        }
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
            if let Some(done) = checked_item(line) {
                self.open_items.remove(&norm(done));
                continue;
            }
            if is_open_item(line) {
                let item = line.trim_start_matches(['-', '*', ' ']);
                let item = item.strip_prefix("[ ]").unwrap_or(item).trim();
                let s = clip(item, Caps::ITEM_CHARS);
                self.open_items.push(norm(&s), s);
            }
            if from_user && looks_like_error(line) {
                let message = clip(line, Caps::ITEM_CHARS);
                self.errors.push(norm(&message), ErrorSeen { message, source: Some("reported by the user".into()), resolved: false, subject: None });
            }
        }
        for id in identifiers_in(text) {
            if from_user {
                self.user_identifiers.insert(id.clone());
            }
            self.identifier(id);
        }
    }

    fn identifier(&mut self, id: String) {
        let id = clip(&redact(&id), Caps::ITEM_CHARS);
        self.identifiers.push(id.clone(), id);
    }

    fn tool_call(&mut self, id: String, name: String, input: Value) {
        if let Some(items) = unfinished_todos(&name, &input) {
            self.todo_tool_items = items;
        }
        self.note_tool_input(&name, &input);
        if tool_kind(&name) == ToolKind::Command {
            if let Some(command) = command_of(&input) {
                self.commands.push_keeping(command.clone(), CommandRun { command, outcome: "no result".into() }, failed_run);
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
        // OpenCode reports a tool once, finished, with its input: its todo list is here (a
        // call seen before its result was read when it came).
        if let Some(items) = input.as_ref().and_then(|input| unfinished_todos(&name, input)) {
            self.todo_tool_items = items;
        }
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
                    self.commands.push_keeping(command.clone(), CommandRun { command: command.clone(), outcome }, failed_run);
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
            // Keyed by what failed too: two commands failing alike are two open failures.
            let key = norm(&format!("{}|{message}", source.as_deref().unwrap_or_default()));
            self.errors.push_keeping(key, ErrorSeen { message, source, resolved: false, subject }, |e| !e.resolved);
        } else if let Some(subject) = subject {
            self.resolve_errors(&subject);
        }
    }

    /// A later success of the same command (options aside: `cargo test -q x` is `cargo test
    /// x`), or of the same tool on the same file, resolves the errors it had. Another command
    /// of the same program does not: `cargo build` passing says nothing of `cargo test x`.
    fn resolve_errors(&mut self, subject: &str) {
        let key = command_key(subject);
        for (_, error) in self.errors.items.iter_mut() {
            if let Some(s) = &error.subject {
                if s == subject || (!key.is_empty() && command_key(s) == key) {
                    error.resolved = true;
                }
            }
        }
    }

    pub fn finish(mut self) -> Sections {
        for item in std::mem::take(&mut self.todo_tool_items) {
            self.open_items.push(norm(&item), item);
        }
        let cwd = self.cwd.clone();
        let (own, from_user) = (&self.own_ids, &self.user_identifiers);
        self.identifiers.items.retain(|(_, id)| from_user.contains(id) || !own.holds(id, cwd.as_deref()));
        if let Some(q) = self.unanswered_user_question.take() {
            self.open_items.push(norm(&q), format!("Unanswered question from the user: {q}"));
        }
        if let Some(q) = self.last_assistant_question.take().filter(|q| !is_courtesy(q)) {
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

/// A command without its options: `systemctl --user restart x` → `systemctl restart x`.
fn command_key(command: &str) -> String {
    command.split_whitespace().filter(|w| !w.starts_with('-')).collect::<Vec<_>>().join(" ")
}

fn failed_run(run: &CommandRun) -> bool {
    run.outcome == "failed"
}

/// The unfinished items of a todo tool's call (Claude Code `TodoWrite`, OpenCode
/// `todowrite`): each call restates the whole list, so the newest one is the truth.
fn unfinished_todos(name: &str, input: &Value) -> Option<Vec<String>> {
    if !name.eq_ignore_ascii_case("todowrite") {
        return None;
    }
    let todos = input.get("todos")?.as_array()?;
    Some(
        todos
            .iter()
            .filter(|t| !matches!(t.get("status").and_then(Value::as_str), Some("completed" | "cancelled")))
            .filter_map(|t| t.get("content").and_then(Value::as_str))
            .map(|c| clean(c, Caps::ITEM_CHARS))
            .filter(|c| !c.is_empty())
            .collect(),
    )
}

/// The text of a checked checklist line (`- [x] item`), which closes the open item `item`.
fn checked_item(line: &str) -> Option<&str> {
    let rest = line.strip_prefix(['-', '*'])?.trim_start();
    let rest = rest.strip_prefix("[x]").or_else(|| rest.strip_prefix("[X]"))?;
    Some(rest.trim()).filter(|r| !r.is_empty())
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

/// The sentences of a text: split at line ends and at `.`, `!`, `?` or `;` followed by a
/// space or the end — so file names (`invoice.rs`), versions (`1.36.0`) and decimals stay
/// whole — except after an abbreviation (`e.g.`, `i.e.`, `vs.` …).
fn sentences(text: &str) -> impl Iterator<Item = &str> {
    text.lines().flat_map(split_sentences).map(|s| s.trim().trim_start_matches(['-', '*', '#', ' '])).filter(|s| s.len() >= 12 && s.len() <= 600)
}

/// Common abbreviations that end in a dot inside a sentence.
const ABBREVIATIONS: [&str; 16] = ["e.g", "i.e", "vs", "etc", "cf", "approx", "incl", "resp", "no", "mr", "mrs", "ms", "dr", "fig", "al", "esp"];

fn split_sentences(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = line.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if !matches!(b, b'.' | b'!' | b'?' | b';') || !bytes.get(i + 1).is_none_or(|n| n.is_ascii_whitespace()) {
            continue;
        }
        if *b == b'.' {
            let word = line[start..i].rsplit(|c: char| c.is_whitespace() || c == '(').next().unwrap_or_default();
            if ABBREVIATIONS.iter().any(|a| word.eq_ignore_ascii_case(a)) {
                continue;
            }
        }
        // `?` stays with its sentence (a question is recognized by it).
        let end = if *b == b'?' { i + 1 } else { i };
        out.push(&line[start..end]);
        start = i + 1;
    }
    out.push(&line[start..]);
    out
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
    let last_line = trimmed.lines().last().unwrap_or_default();
    let question = split_sentences(last_line).into_iter().map(str::trim).rfind(|s| !s.is_empty())?;
    (question.len() >= 8 && question.ends_with('?')).then(|| clip(question, Caps::ITEM_CHARS))
}

/// A question asked out of politeness, not one the work waits on.
fn is_courtesy(question: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"(?i)^(?:is there )?anything else\b|^(?:do you have )?any (?:other |more )?questions\b|^(?:does|did) (?:that|this) help\b|^what else\b|^how else\b").expect("static")
    });
    re.is_match(question.trim())
}

/// Prefixes of `ABC-123` shapes that name standards, not tickets.
const NOT_TICKETS: [&str; 10] = ["UTF", "SHA", "ISO", "AES", "HTTP", "TLS", "MD", "RSA", "ECDSA", "X"];

/// Identifiers that must survive exactly: URLs, paths, UUIDs and hashes, versions, ticket ids,
/// prefixed ids, host:port and port numbers, branch names, Telegram chat ids.
pub fn identifiers_in(text: &str) -> Vec<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(concat!(
            r#"(?P<url>\b(?:https?|wss?|ftp|ssh|git|file)://[^\s<>"'`)\]\}]+)"#,
            r#"|(?P<uuid>\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b)"#,
            r#"|(?P<hostport>\b(?:localhost|\d{1,3}(?:\.\d{1,3}){3}|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+):\d{2,5}\b)"#,
            r#"|(?P<path>(?:~|\.{1,2})?/(?:[\w.@+-]+/)+[\w.@+-]+|\b[\w.-]+/(?:[\w.-]+/)*[\w-]+\.[A-Za-z0-9]{1,8}\b)"#,
            r#"|(?P<file>\b[\w-]+\.(?:rs|toml|md|json|jsonl|ya?ml|py|ts|tsx|js|mjs|sql|sh|go|java|kt|c|h|cc|cpp|hpp|txt|lock|cfg|ini|html|css|proto|xml|csv)\b)"#,
            r#"|(?P<version>\bv?\d+\.\d+\.\d+(?:\.\d+)?(?:-[0-9A-Za-z.]+)?\b)"#,
            r#"|(?P<ticket>\b[A-Z][A-Z0-9]{1,9}-\d{1,6}(?:-\d{1,6})?\b)"#,
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
        } else if let Some(m) = caps.name("ticket") {
            // Names of standards look like tickets (UTF-8, SHA-256): not ids of this work.
            if NOT_TICKETS.iter().any(|p| m.as_str().split('-').next() == Some(*p)) {
                continue;
            }
            m.as_str().to_string()
        } else if let Some(m) = ["uuid", "hostport", "path", "file", "version", "prefixed", "chat"].iter().find_map(|n| caps.name(n)) {
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

    #[test]
    fn a_handoff_injected_as_an_assistant_message_is_not_this_sessions_work() {
        let injected = "# Handoff from OpenClaw session s1 (asm-handoff s1.g2)\n\n## Decisions\n- We decided to drop the XML export.";
        let s = run(vec![assistant(injected), user("fix the CSV export"), assistant("We decided to keep the header.")]);
        assert_eq!(s.decisions, ["We decided to keep the header"]);
        assert_eq!(s.handoffs_received, ["s1.g2"]);
    }

    #[test]
    fn sentences_stay_whole_across_file_names_versions_and_abbreviations() {
        let s = run(vec![assistant(
            "Let me look. We decided to split invoice.rs into two modules. Going with rust_decimal 1.36.0 instead of f64, i.e. no floats. We'll use the table from src/tax/rules.rs, e.g. for reduced rates.",
        )]);
        assert_eq!(
            s.decisions,
            [
                "We decided to split invoice.rs into two modules",
                "Going with rust_decimal 1.36.0 instead of f64, i.e. no floats",
                "We'll use the table from src/tax/rules.rs, e.g. for reduced rates"
            ]
        );
    }

    #[test]
    fn open_items_are_the_unfinished_ones_not_the_last_sentence() {
        let s = run(vec![
            assistant("Plan:\n- [ ] add the CSV column\n- [ ] update the docs"),
            assistant("Plan:\n- [x] add the CSV column\n- [ ] update the docs"),
            call(
                "t",
                "TodoWrite",
                json!({"todos": [{"content": "write the test", "status": "completed"}, {"content": "bump the version", "status": "pending"}]}),
            ),
            assistant("Done. The totals round correctly now. Should I also bump the version to 2.4.1 in Cargo.toml?"),
        ]);
        assert_eq!(
            s.open_items,
            ["update the docs", "bump the version", "Waiting for the user to answer: Should I also bump the version to 2.4.1 in Cargo.toml?"]
        );
        let polite = run(vec![assistant("Done. Anything else?")]);
        assert!(polite.open_items.is_empty(), "{:?}", polite.open_items);
        // OpenCode reports the todo tool once, finished, with its input.
        let opencode = run(vec![TranscriptEvent::ToolResult {
            id: "c".into(),
            name: Some("todowrite".into()),
            input: Some(json!({"todos": [{"content": "ship it", "status": "in_progress"}]})),
            output: "ok".into(),
            is_error: false,
        }]);
        assert_eq!(opencode.open_items, ["ship it"]);
    }

    #[test]
    fn identifiers_leave_out_the_platforms_own_ids_unless_the_user_wrote_them() {
        let own =
            OwnIds::of("5e550002-0000-4a11-8b22-0000c0ffee20", Some("agent:main:telegram:group:-1001234567890:topic:466"), Some("/home/u/.openclaw/workspace"));
        let mut x = Extractor::for_session(own.clone());
        x.push(assistant(
            "Working in /home/u/.openclaw/workspace, session 5e550002-0000-4a11-8b22-0000c0ffee20, chat -1001234567890; see src/invoice.rs for INV-2041.",
        ));
        let s = x.finish();
        assert_eq!(s.identifiers, ["src/invoice.rs", "INV-2041"]);
        let mut x = Extractor::for_session(own);
        x.push(user("please look at chat -1001234567890"));
        assert_eq!(x.finish().identifiers, ["-1001234567890"], "the user wrote it");
    }

    #[test]
    fn an_unresolved_failure_outlives_newer_successes() {
        let mut events = vec![call("f", "Bash", json!({"command": "cargo test case_1"})), result("f", "test case_1 ... FAILED", true)];
        for i in 0..40 {
            events.push(call(&format!("c{i}"), "Bash", json!({"command": format!("echo {i}")})));
            events.push(result(&format!("c{i}"), "ok", false));
        }
        // Another command of the same program passing does not resolve it.
        events.push(call("b", "Bash", json!({"command": "cargo build"})));
        events.push(result("b", "ok", false));
        let s = run(events);
        assert!(s.commands.iter().any(|c| c.command == "cargo test case_1" && c.outcome == "failed"), "{:?}", s.commands);
        assert!(s.errors.iter().any(|e| e.message.contains("case_1") && !e.resolved));
    }
}
