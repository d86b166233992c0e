//! MiniMax plan quota: reading it ([`minimax`], [`reading`]), the pause/resume decision
//! ([`pause`]), and this edge that ties them to the state file's "quota" section, the user's
//! ASM_PAUSE_CMD / ASM_RESUME_CMD hooks, OpenClaw's log (2056 notices) and the feed.
//!
//! Other tools ask one question: [`work_paused`]. `health_check --quota` and the monitor run
//! [`check`]; with no MiniMax key anywhere the watch is off, which is not an error.

pub mod minimax;
pub mod pause;
pub mod reading;

use crate::clock::{Clock, SystemClock};
use crate::notify::{Event, Notifier};
use crate::proc::{self, Cmd};
use crate::Runtime;
use chrono::{DateTime, Duration, Utc};
use pause::{Action, Observation, Policy, QuotaState, ResumeReason};
use reading::{QuotaReading, ReadError};
use serde::Serialize;
use serde_json::Value;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum QuotaError {
    #[error(transparent)]
    State(#[from] crate::state::StateError),
}

/// How long a pause/resume hook may run.
pub const HOOK_TIMEOUT_SECS: u64 = 60;
/// How much of the end of each OpenClaw log file is scanned for 2056 notices.
const LOG_TAIL_BYTES: u64 = 2 << 20;

/// Whether model-consuming work is paused because the plan quota is low. Every step that
/// would make a model call asks this first. Unreadable state never pauses work.
pub fn work_paused(rt: &Runtime) -> bool {
    work_paused_at(rt, &SystemClock)
}

pub fn work_paused_at(rt: &Runtime, clock: &dyn Clock) -> bool {
    match rt.state().section::<QuotaState>() {
        Ok(state) => state.work_paused_at(clock.now()),
        Err(e) => {
            log::warn!("quota state unreadable ({e}); not pausing work");
            false
        }
    }
}

/// What one check did and found; `health_check --quota --json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct QuotaReport {
    /// The watch is on (a key was found).
    pub watch: bool,
    pub key_source: Option<String>,
    pub hosts: Vec<String>,
    /// "read", "skipped" (poll interval or backoff not over), "failed" or "off".
    pub read: &'static str,
    pub error: Option<String>,
    pub plan: Option<String>,
    pub summary: Option<String>,
    pub remaining: Option<u64>,
    pub remaining_percent: Option<f64>,
    pub resets_at: Option<DateTime<Utc>>,
    pub unlimited: bool,
    pub paused: bool,
    pub reason: Option<String>,
    pub resume_at: Option<DateTime<Utc>>,
    pub reading_age_secs: Option<i64>,
    pub next_read_at: Option<DateTime<Utc>>,
    pub events: Vec<Event>,
    pub hooks: Vec<HookRun>,
    pub last_reading: Option<QuotaReading>,
}

impl QuotaReport {
    /// Something went wrong that a person should look at (a failed read or hook).
    pub fn has_problem(&self) -> bool {
        self.read == "failed" || self.hooks.iter().any(|h| !h.ok)
    }

    /// Lines for people.
    pub fn render(&self) -> String {
        if !self.watch {
            return "MiniMax quota watch: off (no MiniMax key: set ASM_MINIMAX_API_KEY or MINIMAX_API_KEY, or configure the MiniMax provider in OpenClaw)"
                .into();
        }
        let mut lines = vec![format!("MiniMax quota watch: on (key from {})", self.key_source.as_deref().unwrap_or("?"))];
        match self.read {
            "skipped" => lines.push(format!(
                "read: not due (next read after {}; --force reads now)",
                self.next_read_at.map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string()).unwrap_or_else(|| "-".into())
            )),
            "failed" => lines.push(format!("read: FAILED: {}", self.error.as_deref().unwrap_or("?"))),
            _ => lines.push("read: ok".into()),
        }
        if self.last_reading.is_none() {
            lines.push("reading: none yet".into());
        } else {
            lines.extend(self.reading_lines());
        }
        if self.paused {
            lines.push(format!("work: PAUSED until {}: {}", fmt_time(self.resume_at), self.reason.as_deref().unwrap_or("")));
        } else {
            lines.push("work: running".into());
        }
        lines.extend(self.events.iter().map(|e| format!("notified: {}", e.text())));
        lines.extend(self.hooks.iter().map(|h| format!("hook {}: {} ({})", h.kind, h.command, h.detail)));
        lines.join("\n")
    }

    fn reading_lines(&self) -> Vec<String> {
        let mut lines = vec![format!("plan: {}", self.plan.as_deref().unwrap_or("unknown"))];
        if self.unlimited {
            lines.push("remaining: unlimited".into());
        } else {
            let count = self.remaining.map(|r| format!("{r} calls")).unwrap_or_else(|| "count not reported".into());
            let pct = self.remaining_percent.map(|p| format!(" ({p:.1}%)")).unwrap_or_default();
            lines.push(format!("remaining: {count}{pct}"));
        }
        lines.push(format!("resets at: {}", fmt_time(self.resets_at)));
        if let Some(s) = &self.summary {
            lines.push(format!("reading: {s}{}", self.reading_age_secs.map(|a| format!(" ({} old)", crate::timefmt::span(a))).unwrap_or_default()));
        }
        lines
    }
}

/// One ASM_PAUSE_CMD / ASM_RESUME_CMD run.
#[derive(Debug, Clone, Serialize)]
pub struct HookRun {
    pub kind: &'static str,
    pub command: String,
    pub ok: bool,
    pub detail: String,
}

/// Reads the quota when due (always with `force`), applies pause/resume, runs the hooks and
/// notifies the feed.
pub fn check(rt: &Runtime, clock: &dyn Clock, force: bool) -> Result<QuotaReport, QuotaError> {
    let notifier = Notifier::new(rt);
    check_with(rt, clock, force, &mut |e| notifier.emit(e))
}

/// [`check`] with the event sink given (tests capture events here).
pub fn check_with(rt: &Runtime, clock: &dyn Clock, force: bool, emit: &mut dyn FnMut(&Event)) -> Result<QuotaReport, QuotaError> {
    let now = clock.now();
    let policy = Policy::new(rt.config.minimax_quota_threshold, rt.config.quota_interval);
    let openclaw_config = read_openclaw_config(&rt.paths);
    let mut state: QuotaState = rt.state().section()?;
    let Some(key) = minimax::find_key_in(rt, openclaw_config.as_ref()) else {
        return watch_off(rt, now, state, emit);
    };
    let client = minimax::Client::for_runtime(rt, key.clone());
    let mut actions = Vec::new();
    if let Some((resets_at, source)) = scan_openclaw_log(rt, openclaw_config.as_ref(), now) {
        actions.extend(state.step(now, Observation::UsageLimit { resets_at: Some(resets_at), source }, &policy));
    }
    let (read, error) = if force || state.read_due(now) {
        match client.read(now) {
            Ok(reading) => {
                actions.extend(state.step(now, Observation::reading(reading), &policy));
                ("read", None)
            }
            Err(ReadError::UsageLimit { resets_at, host }) => {
                state.note_answered(now, &policy);
                let resets_at = resets_at.or(Some(now + Duration::hours(5)));
                actions.extend(state.step(now, Observation::UsageLimit { resets_at, source: format!("MiniMax at {host}") }, &policy));
                ("read", None)
            }
            Err(e) => {
                log::warn!("MiniMax quota read failed: {e}");
                let message = e.to_string();
                actions.extend(state.step(now, Observation::Failed(e), &policy));
                ("failed", Some(message))
            }
        }
    } else {
        actions.extend(state.step(now, Observation::Nothing, &policy));
        ("skipped", None)
    };
    let saved = state.clone();
    rt.state().update(move |s: &mut QuotaState| *s = saved)?;
    let (events, hooks) = act(rt, &actions, emit);
    let mut report = report_from(&state, now, events, hooks);
    report.watch = true;
    report.key_source = Some(key.key.source.clone());
    report.hosts = client.hosts().to_vec();
    report.read = read;
    report.error = error;
    Ok(report)
}

/// No key: the watch is off. A pause left from when it was on is lifted (nothing would ever
/// lift it otherwise).
fn watch_off(rt: &Runtime, now: DateTime<Utc>, state: QuotaState, emit: &mut dyn FnMut(&Event)) -> Result<QuotaReport, QuotaError> {
    let mut actions = Vec::new();
    if state.paused {
        rt.state().update(|s: &mut QuotaState| *s = QuotaState { last_reading: s.last_reading.clone(), ..QuotaState::default() })?;
        actions.push(Action::Resume { remaining: None, why: ResumeReason::WatchOff });
    }
    let (events, hooks) = act(rt, &actions, emit);
    let mut report = report_from(&QuotaState::default(), now, events, hooks);
    report.read = "off";
    Ok(report)
}

fn report_from(state: &QuotaState, now: DateTime<Utc>, events: Vec<Event>, hooks: Vec<HookRun>) -> QuotaReport {
    let last = state.last_reading.as_ref();
    QuotaReport {
        watch: false,
        key_source: None,
        hosts: Vec::new(),
        read: "skipped",
        error: None,
        plan: last.and_then(|r| r.plan.clone().or_else(|| r.model.clone())),
        summary: last.map(QuotaReading::summary),
        remaining: last.and_then(QuotaReading::remaining_calls),
        remaining_percent: last.and_then(QuotaReading::remaining_percent),
        resets_at: last.and_then(QuotaReading::resets_at),
        unlimited: last.is_some_and(QuotaReading::is_unlimited),
        paused: state.work_paused_at(now),
        reason: state.reason.clone().filter(|_| state.paused),
        resume_at: state.resume_at,
        reading_age_secs: state.reading_age_secs(now),
        next_read_at: state.next_read_at,
        events,
        hooks,
        last_reading: state.last_reading.clone(),
    }
}

/// Runs the hooks and emits the events for the actions, in order.
fn act(rt: &Runtime, actions: &[Action], emit: &mut dyn FnMut(&Event)) -> (Vec<Event>, Vec<HookRun>) {
    let mut events = Vec::new();
    let mut hooks = Vec::new();
    for action in actions {
        match action {
            Action::Pause { reason, resume_at, remaining, percent } => {
                log::warn!("pausing model work: {reason}");
                if let Some(argv) = &rt.config.pause_cmd {
                    hooks.push(run_hook(
                        "pause",
                        argv,
                        &[("ASM_QUOTA_EVENT", "pause".into()), ("ASM_QUOTA_REASON", reason.clone()), ("ASM_QUOTA_RESUME_AT", fmt_time(*resume_at))],
                    ));
                }
                events.push(Event::QuotaLow { remaining: *remaining, percent: *percent, resets_at: *resume_at });
                events.push(Event::WorkPaused { reason: reason.clone(), resume_at: *resume_at });
            }
            Action::Resume { remaining, why } => {
                log::info!("resuming model work ({})", why.describe());
                if let Some(argv) = &rt.config.resume_cmd {
                    hooks.push(run_hook("resume", argv, &[("ASM_QUOTA_EVENT", "resume".into())]));
                }
                events.push(Event::WorkResumed { remaining: *remaining });
            }
        }
    }
    for event in &events {
        emit(event);
    }
    (events, hooks)
}

fn run_hook(kind: &'static str, argv: &[String], env: &[(&str, String)]) -> HookRun {
    let mut cmd = Cmd::new(argv.iter().cloned()).timeout(std::time::Duration::from_secs(HOOK_TIMEOUT_SECS));
    for (k, v) in env {
        cmd = cmd.env(*k, v.clone());
    }
    let command = cmd.display();
    let (ok, detail) = match proc::run(&cmd) {
        Ok(out) if out.success() => (true, out.describe()),
        Ok(out) => {
            let stderr = out.stderr_text();
            let tail = stderr.lines().last().unwrap_or("").trim().to_string();
            (false, if tail.is_empty() { out.describe() } else { format!("{}: {tail}", out.describe()) })
        }
        Err(e) => (false, e.to_string()),
    };
    if ok {
        log::info!("{kind} hook {command}: {detail}");
    } else {
        log::warn!("{kind} hook {command} failed: {detail}");
    }
    HookRun { kind, command, ok, detail }
}

fn read_openclaw_config(paths: &crate::paths::Paths) -> Option<Value> {
    crate::platform::openclaw::config::read(paths).unwrap_or_else(|e| {
        log::warn!("{e}; ignoring OpenClaw's config for the quota watch");
        None
    })
}

/// OpenClaw's file log: `logging.file` when configured, else
/// `/tmp/openclaw/openclaw[-<profile>]-YYYY-MM-DD.log` for today and yesterday.
fn openclaw_log_files(rt: &Runtime, config: Option<&Value>, now: DateTime<Utc>) -> Vec<PathBuf> {
    if let Some(file) = config.and_then(|c| crate::platform::openclaw::config::log_file(c, &rt.env)) {
        return vec![file];
    }
    let prefix = match &rt.paths.profile {
        Some(p) => format!("openclaw-{p}-"),
        None => "openclaw-".into(),
    };
    // OpenClaw names the file by its local date; UTC ± a day covers every zone.
    [now + Duration::days(1), now, now - Duration::days(1)]
        .iter()
        .map(|d| PathBuf::from("/tmp/openclaw").join(format!("{prefix}{}.log", d.format("%Y-%m-%d"))))
        .collect()
}

/// The latest 2056 "usage limit exceeded" notice in OpenClaw's log whose reset is still
/// ahead: (reset time, where it was seen).
fn scan_openclaw_log(rt: &Runtime, config: Option<&Value>, now: DateTime<Utc>) -> Option<(DateTime<Utc>, String)> {
    let mut best: Option<(DateTime<Utc>, String)> = None;
    for path in openclaw_log_files(rt, config, now) {
        let Some(text) = read_tail(&path, LOG_TAIL_BYTES) else { continue };
        for line in text.lines() {
            // Other providers have "usage limit" errors too; only MiniMax's count here.
            if !(line.contains("2056") || line.to_ascii_lowercase().contains("minimax")) {
                continue;
            }
            let Some(reset) = reading::parse_usage_limit(line) else { continue };
            let reset = reset.or_else(|| log_line_time(line).map(|t| t + Duration::hours(5)));
            if let Some(reset) = reset.filter(|r| *r > now) {
                if best.as_ref().is_none_or(|(b, _)| reset > *b) {
                    best = Some((reset, format!("OpenClaw log {}", path.display())));
                }
            }
        }
    }
    best
}

fn read_tail(path: &Path, max: u64) -> Option<String> {
    let mut file = std::fs::File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    file.seek(SeekFrom::Start(len.saturating_sub(max))).ok()?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// The time of a JSON log line (`time`, `timestamp`, `ts`, `date` or `_meta.date`).
fn log_line_time(line: &str) -> Option<DateTime<Utc>> {
    let v: Value = serde_json::from_str(line).ok()?;
    let field = ["time", "timestamp", "ts", "date"].iter().find_map(|k| v.get(*k)).or_else(|| v.get("_meta").and_then(|m| m.get("date")))?;
    match field {
        Value::String(s) => DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc)),
        Value::Number(n) => n.as_i64().and_then(DateTime::from_timestamp_millis),
        _ => None,
    }
}

/// What plain `health_check` shows about the quota: the watch, the last reading and its age
/// (never reads; `health_check --quota` does).
pub fn health_view(rt: &Runtime, now: DateTime<Utc>) -> QuotaReport {
    let config = read_openclaw_config(&rt.paths);
    let key = minimax::find_key_in(rt, config.as_ref());
    let state: QuotaState = rt.state().section().unwrap_or_default();
    let mut report = report_from(&state, now, Vec::new(), Vec::new());
    report.watch = key.is_some();
    report.key_source = key.map(|k| k.key.source.clone());
    report.read = if report.watch { "skipped" } else { "off" };
    report.error = state.last_error.clone();
    report
}

fn fmt_time(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_else(|| "unknown".into())
}
