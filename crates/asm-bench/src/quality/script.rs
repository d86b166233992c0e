//! Long generated sessions as platform-neutral steps, with the ground truth written as the
//! steps are chosen: the generator knows what it put in (the goal, every file it changed,
//! every command and how its last run ended, the decisions, the open items, the identifiers,
//! the platform's own ids and the secrets it pasted). Nothing here looks at ASM's output.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// What a tool does; each platform names it and its arguments in its own way.
#[derive(Debug, Clone)]
pub enum ToolUse {
    Read(String),
    Edit(String),
    Write(String),
    Shell(String),
}

#[derive(Debug, Clone)]
pub enum Step {
    User(String),
    Assistant(String),
    Tool {
        tool: ToolUse,
        output: String,
        is_error: bool,
    },
    /// The platform's todo tool (Claude Code TodoWrite, OpenCode todowrite): (item, done).
    Todos(Vec<(String, bool)>),
    Subagent {
        prompt: String,
        result: String,
    },
    Compaction(String),
}

/// What a perfect handoff of this session would carry (also read from the hand-written truth
/// of the recorded sessions, where lists not given are empty).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Truth {
    pub goal: String,
    pub latest_request: String,
    pub files_read: Vec<String>,
    pub files_changed: Vec<String>,
    pub commands: Vec<String>,
    /// Commands whose last run failed, with the first line of the error.
    pub failed_commands: Vec<(String, String)>,
    pub decisions: Vec<String>,
    pub open_items: Vec<String>,
    pub identifiers: Vec<String>,
    /// The platform's own ids: never an identifier to keep (the user did not write them).
    pub platform_ids: Vec<String>,
    /// Pasted secrets: never anywhere in the memory or the handoff.
    pub secrets: Vec<String>,
}

pub struct Session {
    pub id: String,
    pub cwd: String,
    pub steps: Vec<Step>,
    pub truth: Truth,
}

/// Which todo mechanism the platform has.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Todo {
    Tool,
    Checklist,
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    fn hex(&mut self, n: usize) -> String {
        let mut s = String::new();
        while s.len() < n {
            s.push_str(&format!("{:08x}", self.next() as u32));
        }
        s.truncate(n);
        if !s.bytes().any(|b| b.is_ascii_alphabetic()) {
            s.replace_range(0..1, "a");
        }
        if !s.bytes().any(|b| b.is_ascii_digit()) {
            s.replace_range(0..1, "7");
        }
        s
    }
}

const FILES: [&str; 14] = [
    "src/invoice.rs",
    "src/tax/rules.rs",
    "src/export/csv.rs",
    "src/lib.rs",
    "tests/invoice_test.rs",
    "Cargo.toml",
    "README.md",
    "src/api/handlers.rs",
    "src/db/schema.sql",
    "config/app.toml",
    "docs/CHANGELOG.md",
    "src/money.rs",
    "src/export/pdf.rs",
    "benches/totals.rs",
];

const TASKS: [&str; 10] = [
    "handle negative line items",
    "add the CSV column for the tax rate",
    "round half-even when summing",
    "log the invoice id on every export",
    "reject invoices without a currency",
    "keep the PDF export in step with the CSV one",
    "cache the tax table per request",
    "add a test for zero-amount invoices",
    "document the rounding rule",
    "make the export streaming",
];

const PROSE: [&str; 12] = [
    "Let me look at how the totals are computed first.",
    "The tests cover the happy path but not the edge cases.",
    "Here is the current shape of the function.",
    "This touches the export path as well, so I will check it too.",
    "The compiler points at the conversion from f64.",
    "I ran the suite again to see what else breaks.",
    "The numbers match the examples from the ticket now.",
    "Nothing else depends on this helper.",
    "I kept the public API unchanged.",
    "The failing case was an invoice with a single line.",
    "Reading the config to see how the rate is loaded.",
    "The change is small and local.",
];

/// Sentences that sound like choices but are not made yet: never decisions.
const TENTATIVE: [&str; 5] = [
    "Maybe we should go with Postgres later, once the exports settle.",
    "Should we go with a feature flag for the new rounding?",
    "I'm not sure whether to use i64 cents or decimals here.",
    "We could switch to a streaming writer if the files get big.",
    "Perhaps the cache is not needed at all.",
];

/// Generates session `n` of about `turns` steps. `todo` says how the platform tracks todos.
pub fn generate(n: usize, turns: usize, cwd: &str, session_id: &str, chat_id: Option<&str>, todo: Todo) -> Session {
    let mut g = Gen {
        rng: Rng(0x0dd5_eed0 + n as u64 * 7919),
        steps: Vec::new(),
        truth: Truth::default(),
        cwd: cwd.to_string(),
        last_command_run: Vec::new(),
        todos: Vec::new(),
        todo,
    };
    g.truth.platform_ids.push(session_id.to_string());
    g.truth.platform_ids.push(cwd.to_string());
    if let Some(chat) = chat_id {
        g.truth.platform_ids.push(chat.to_string());
    }
    g.opening(n, session_id, chat_id);
    let compact_at = turns / 2;
    for turn in 0..turns {
        if turn == compact_at {
            g.steps.push(Step::Compaction(format!("The user asked to fix invoice rounding; work on {} is under way.", FILES[n % FILES.len()])));
        }
        g.turn(turn);
    }
    g.closing();
    g.finish_truth();
    Session { id: session_id.to_string(), cwd: cwd.to_string(), steps: g.steps, truth: g.truth }
}

struct Gen {
    rng: Rng,
    steps: Vec<Step>,
    truth: Truth,
    cwd: String,
    /// Every command with the outcome of its last run: Some(error line) when it failed.
    last_command_run: Vec<(String, Option<String>)>,
    /// The open todo list (item, done).
    todos: Vec<(String, bool)>,
    todo: Todo,
}

impl Gen {
    fn user(&mut self, text: String) {
        self.truth.latest_request.clone_from(&text);
        if self.truth.goal.is_empty() {
            self.truth.goal.clone_from(&text);
        }
        self.steps.push(Step::User(text));
    }

    fn identifier(&mut self, id: &str) -> String {
        if !self.truth.identifiers.iter().any(|i| i == id) {
            self.truth.identifiers.push(id.to_string());
        }
        id.to_string()
    }

    fn abs(&self, rel: &str) -> String {
        format!("{}/{rel}", self.cwd)
    }

    /// A handoff of an earlier switch (a continuation prompt, and on OpenClaw the whole
    /// previous handoff as the first message), then the first real request.
    fn opening(&mut self, n: usize, session_id: &str, chat_id: Option<&str>) {
        let earlier = format!("{}.g{}", &session_id[..8], 1 + n % 3);
        let key = chat_id.map_or(String::new(), |c| format!("key `agent:main:telegram:group:{c}:topic:466` · "));
        self.steps.push(Step::User(format!(
            "# Handoff from OpenClaw session {session_id} (asm-handoff {earlier})\n\n{key}cwd `{}` · context 81% (162000/200000 tokens)\n\n## Goal (first request)\nMigrate the billing exports to the new schema\n\n## Decisions\n- We decided to drop the XML export entirely.\n\n## Open items\n- TODO: remove the XML fixtures",
            self.cwd
        )));
        let ticket = self.identifier(&format!("INV-{}", 2000 + n * 37));
        let url = self.identifier(&format!("https://tracker.example.com/browse/{ticket}"));
        let rate = ["7.5%", "19%", "8.25%"][n % 3];
        self.user(format!("Fix the rounding error in invoice totals for ticket {ticket} (see {url}): totals are off by one cent when the tax rate is {rate}."));
        let first = FILES[n % FILES.len()];
        let path = self.identifier(first);
        self.steps.push(Step::Assistant(format!("Working in {}, session {session_id}. I'll start with {path}.", self.cwd)));
        if let Some(chat) = chat_id {
            self.steps.push(Step::Assistant(format!("This topic belongs to chat {chat}; I will report progress here.")));
        }
    }

    fn turn(&mut self, turn: usize) {
        match self.rng.below(100) {
            0..=4 => self.request(),
            5..=6 => self.decision(),
            7..=8 => {
                let t = self.rng.pick(&TENTATIVE).to_string();
                self.steps.push(Step::Assistant(t));
            }
            9..=23 => self.read(),
            24..=43 => self.edit(),
            44..=63 => self.command(),
            64..=67 => self.todo_update(turn),
            68..=69 => self.subagent(turn),
            70 => self.paste_log(),
            _ => {
                let text = format!("{} {}", self.rng.pick(&PROSE), self.rng.pick(&PROSE));
                self.steps.push(Step::Assistant(text));
            }
        }
    }

    fn request(&mut self) {
        let task = self.rng.pick(&TASKS);
        let file = FILES[self.rng.below(FILES.len())];
        let file = self.identifier(file);
        let text = match self.rng.below(3) {
            0 => format!("Now {task} in {file}."),
            1 => format!("Next, please {task} — the code is in {file}, e.g. the totals helper."),
            _ => format!("Can you {task}? It lives in {file}."),
        };
        self.user(text);
    }

    /// A decision sentence with the dots that break naive splitting: file names, versions,
    /// abbreviations.
    fn decision(&mut self) {
        let file = FILES[self.rng.below(FILES.len())];
        let version = format!("1.{}.{}", 30 + self.rng.below(9), self.rng.below(10));
        let sentence = match self.rng.below(6) {
            0 => format!("We decided to split {} into two modules, one for parsing and one for totals.", self.identifier(file)),
            1 => format!("Going with rust_decimal {} instead of f64 for every money amount, i.e. no floats anywhere.", self.identifier(&version)),
            2 => format!("Root cause: the tax rate was parsed as f32 in {}, which loses the third decimal.", self.identifier(file)),
            3 => "The fix is to round half-even once after summing the lines, not per line.".to_string(),
            4 => format!("We'll use the lookup table from {} as the single source of truth, e.g. for the reduced rates.", self.identifier(file)),
            _ => format!("Settled on keeping the CSV header stable for version {} of the export.", self.identifier(&version)),
        };
        let prose = self.rng.pick(&PROSE);
        self.steps.push(Step::Assistant(format!("{prose} {sentence} {}", self.rng.pick(&PROSE))));
        if !self.truth.decisions.contains(&sentence) {
            self.truth.decisions.push(sentence);
        }
    }

    fn read(&mut self) {
        let rel = FILES[self.rng.below(FILES.len())];
        let path = self.abs(rel);
        self.steps.push(Step::Tool {
            tool: ToolUse::Read(path.clone()),
            output: "fn total(lines: &[Line]) -> Money {\n    lines.iter().map(|l| l.amount).sum()\n}".into(),
            is_error: false,
        });
        push_new(&mut self.truth.files_read, path);
    }

    fn edit(&mut self) {
        // A few files edited over and over, as real sessions do.
        let hot = self.rng.below(3) > 0;
        let rel = if hot { FILES[self.rng.below(3)] } else { FILES[self.rng.below(FILES.len())] };
        let path = self.abs(rel);
        let tool = if self.rng.below(5) == 0 { ToolUse::Write(path.clone()) } else { ToolUse::Edit(path.clone()) };
        self.steps.push(Step::Tool { tool, output: format!("The file {path} has been updated."), is_error: false });
        push_new(&mut self.truth.files_changed, path);
    }

    fn command(&mut self) {
        let command = match self.rng.below(7) {
            0 => "cargo test -p billing invoice".to_string(),
            1 => "cargo build --release".to_string(),
            2 => "cargo clippy --all-targets -- -D warnings".to_string(),
            3 => {
                let file = FILES[self.rng.below(4)];
                format!("rg -n round_half_even {}", self.identifier(file))
            }
            4 => "git diff --stat".to_string(),
            5 => format!("cargo test -p billing --test invoice_test case_{}", self.rng.below(40)),
            _ => format!("python3 {} --strict", self.identifier("scripts/check_totals.py")),
        };
        let fails = self.rng.below(4) == 0;
        let error = if fails {
            let e = match self.rng.below(4) {
                0 => format!("error[E0308]: mismatched types at {}:{}", FILES[0], 10 + self.rng.below(200)),
                1 => format!("test invoice::rounds_half_even_{} ... FAILED", self.rng.below(30)),
                2 => "error: could not compile `billing` (lib) due to 2 previous errors".to_string(),
                _ => format!("AssertionError: expected 10.07 but got 10.0{}", self.rng.below(7)),
            };
            Some(e)
        } else {
            None
        };
        let output = match &error {
            Some(e) => format!("{e}\n  --> more context here\n  = note: see the log"),
            None => "test result: ok. 42 passed; 0 failed".into(),
        };
        self.steps.push(Step::Tool { tool: ToolUse::Shell(command.clone()), output, is_error: fails });
        self.last_command_run.retain(|(c, _)| *c != command);
        self.last_command_run.push((command.clone(), error));
        push_new(&mut self.truth.commands, command);
    }

    fn todo_update(&mut self, turn: usize) {
        // Items shown done once are dropped from the next list; then finish one, add one.
        self.todos.retain(|(_, done)| !done);
        // A list of five or more always gets one item done: real todo lists stay short.
        let finish = self.todos.len() >= 5 || self.rng.below(2) == 0;
        if let Some(open) = self.todos.iter_mut().find(|(_, done)| !done).filter(|_| finish) {
            open.1 = true;
        }
        let task = format!("{} (step {turn})", self.rng.pick(&TASKS));
        self.todos.push((task, false));
        match self.todo {
            Todo::Tool => self.steps.push(Step::Todos(self.todos.clone())),
            Todo::Checklist => {
                let list: Vec<String> = self.todos.iter().map(|(t, done)| format!("- [{}] {t}", if *done { "x" } else { " " })).collect();
                self.steps.push(Step::Assistant(format!("Plan so far:\n{}", list.join("\n"))));
            }
        }
    }

    fn subagent(&mut self, turn: usize) {
        let file = FILES[self.rng.below(FILES.len())];
        self.steps.push(Step::Subagent {
            prompt: format!("Find every caller of the totals helper (turn {turn})."),
            result: format!("The totals helper is called from {file} and from the PDF export only."),
        });
    }

    fn paste_log(&mut self) {
        let secret = format!("sk-ant-api03-{}AA", self.rng.hex(40));
        let password = format!("hunter{}x{}", self.rng.hex(6), self.rng.below(99));
        if !self.truth.secrets.contains(&secret) {
            self.truth.secrets.push(secret.clone());
            self.truth.secrets.push(password.clone());
        }
        let commit = self.rng.hex(10);
        let commit = self.identifier(&commit);
        let host = "billing.internal:8443";
        self.identifier(&format!("https://{host}/v1/export"));
        let text = format!(
            "The staging deploy of commit {commit} failed again, log below:\n```\nPOST https://{host}/v1/export 502\nAuthorization: Bearer {secret}\nDATABASE_URL=postgres://billing:{password}@db.internal/billing\nretrying in 5s\n```"
        );
        // Pasted, not asked: the closing request comes after it.
        self.steps.push(Step::User(text));
    }

    fn closing(&mut self) {
        let ticket = self.truth.identifiers[0].clone();
        self.user(format!("Last thing: make sure the export of {ticket} still passes with the new rounding."));
        let version = format!("2.4.{}", self.rng.below(9));
        let version = self.identifier(&version);
        let manifest = self.identifier("Cargo.toml");
        let question = format!("Should I also bump the version to {version} in {manifest}?");
        self.steps.push(Step::Assistant(format!("Done. The totals round correctly now and the suite passes. {question}")));
        self.truth.open_items.push(question);
    }

    fn finish_truth(&mut self) {
        for (command, error) in &self.last_command_run {
            if let Some(e) = error {
                self.truth.failed_commands.push((command.clone(), e.clone()));
            }
        }
        for (item, done) in &self.todos {
            if !done {
                self.truth.open_items.push(item.clone());
            }
        }
    }
}

fn push_new(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

impl ToolUse {
    /// (Claude Code name, input), (OpenCode name, input), (OpenClaw name, input).
    pub fn claude_code(&self) -> (&'static str, Value) {
        match self {
            ToolUse::Read(p) => ("Read", json!({"file_path": p})),
            ToolUse::Edit(p) => ("Edit", json!({"file_path": p, "old_string": "sum()", "new_string": "sum_rounded()"})),
            ToolUse::Write(p) => ("Write", json!({"file_path": p, "content": "// rewritten\n"})),
            ToolUse::Shell(c) => ("Bash", json!({"command": c, "description": "run it"})),
        }
    }

    pub fn opencode(&self) -> (&'static str, Value) {
        match self {
            ToolUse::Read(p) => ("read", json!({"filePath": p})),
            ToolUse::Edit(p) => ("edit", json!({"filePath": p, "oldString": "sum()", "newString": "sum_rounded()"})),
            ToolUse::Write(p) => ("write", json!({"filePath": p, "content": "// rewritten\n"})),
            ToolUse::Shell(c) => ("bash", json!({"command": c, "description": "run it"})),
        }
    }

    pub fn openclaw(&self) -> (&'static str, Value) {
        match self {
            ToolUse::Read(p) => ("read", json!({"path": p})),
            ToolUse::Edit(p) => ("edit", json!({"path": p, "oldText": "sum()", "newText": "sum_rounded()"})),
            ToolUse::Write(p) => ("write", json!({"path": p, "content": "// rewritten\n"})),
            ToolUse::Shell(c) => ("exec", json!({"command": c})),
        }
    }
}
