//! The monitor: runs the other tools as child processes, each step on its own cadence and in
//! its own thread, and acts on what they report. Children talk through one JSON document on
//! stdout and the shared state file, so each of them stays runnable on its own.
//!
//! [`schedule`] decides what is due (pure, on the injected clock); the loop here owns the
//! I/O: it starts due steps, collects finished ones, records them in the `monitor` state
//! section and logs a summary after each session round ([`round`]). A step that takes long
//! (a gateway restart and repair) holds up only itself. SIGHUP reloads the configuration,
//! SIGTERM/SIGINT stop the loop and the running children. [`pidfile`] keeps one monitor per
//! state dir, [`daemon`] detaches it, [`control`] answers `--status` and `--stop`.

pub mod control;
pub mod daemon;
pub mod pidfile;
pub mod round;
pub mod schedule;

pub use pidfile::PidFile;
pub use round::{Finding, RoundSummary};
pub use schedule::{Schedule, Step, StepKind};

use crate::clock::Clock;
use crate::protocol::StepReport;
use crate::runtime::RuntimeError;
use crate::tools::{Tool, Tools};
use crate::Runtime;
use chrono::{DateTime, Utc};
use daemon::SignalFlags;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::thread::ScopedJoinHandle;
use std::time::Duration;
use thiserror::Error;

/// How often what waits in the outbox is delivered, whatever the other steps do.
const NOTIFY_EVERY: Duration = Duration::from_secs(15);
/// The loop looks at finished steps, signals and due steps at least this often.
const TICK: Duration = Duration::from_millis(200);

#[derive(Debug, Error)]
pub enum MonitorError {
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    #[error(transparent)]
    Switching(#[from] crate::switching::SwitchingError),
}

/// The monitor's steps for this configuration.
pub fn steps(rt: &Runtime, interval: Duration) -> Vec<Step> {
    let c = &rt.config;
    vec![
        Step { kind: StepKind::Sessions, every: interval, timeout: Duration::from_secs(120) },
        Step {
            kind: StepKind::Gateway,
            every: Duration::from_secs(c.gateway_probe_interval),
            timeout: Duration::from_secs(c.gateway_verify_grace + c.repair_timeout + 120),
        },
        Step {
            kind: StepKind::Quota,
            every: Duration::from_secs(c.quota_interval).min(interval.max(Duration::from_secs(60))),
            timeout: Duration::from_secs(90),
        },
        Step { kind: StepKind::Notifications, every: NOTIFY_EVERY, timeout: Duration::from_secs(120) },
    ]
}

/// The `monitor` section of the state file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MonitorState {
    pub pid: Option<u32>,
    /// The interval the running monitor was started with (`--interval` or ASM_MONITOR_INTERVAL).
    #[serde(default)]
    pub interval_secs: Option<u64>,
    pub mode: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    /// When the last session round ended.
    pub last_tick: Option<DateTime<Utc>>,
    pub schedule: Schedule,
    pub steps: BTreeMap<String, StepReport>,
    #[serde(default)]
    pub last_round: Option<RoundSummary>,
}

impl crate::state::Section for MonitorState {
    const NAME: &'static str = "monitor";
}

/// How a step ran and what it found.
struct StepResult {
    report: StepReport,
    finding: Finding,
}

/// The monitor loop. `once` runs every step one time and returns.
pub struct Monitor<'a> {
    rt: Arc<Runtime>,
    clock: &'a dyn Clock,
    tools: &'a dyn Tools,
    /// `--interval`, which beats ASM_MONITOR_INTERVAL also after a reload.
    interval: Option<Duration>,
    signals: SignalFlags,
    reload: Box<dyn Fn() -> Result<Runtime, RuntimeError> + 'a>,
}

impl<'a> Monitor<'a> {
    pub fn new(rt: Runtime, clock: &'a dyn Clock, tools: &'a dyn Tools, interval: Option<Duration>, signals: SignalFlags) -> Self {
        Monitor { rt: Arc::new(rt), clock, tools, interval, signals, reload: Box::new(Runtime::from_process) }
    }

    /// How a SIGHUP builds the new configuration (tests give their own environment).
    pub fn reload_with(mut self, reload: impl Fn() -> Result<Runtime, RuntimeError> + 'a) -> Self {
        self.reload = Box::new(reload);
        self
    }

    fn interval(&self) -> Duration {
        self.interval.unwrap_or(Duration::from_secs(self.rt.config.monitor_interval))
    }

    /// Runs until stopped (or, with `once`, until every step ran once); the summary of what
    /// it saw last.
    pub fn run(&mut self, mode: &str, once: bool) -> Result<RoundSummary, MonitorError> {
        let started = self.clock.now();
        let interval = self.interval();
        let mut summary = RoundSummary::default();
        // A full disk does not keep the monitor from starting: it says so and works on.
        let written = self.rt.state().update(|m: &mut MonitorState| {
            m.pid = Some(std::process::id());
            m.mode = Some(mode.to_string());
            m.started_at = Some(started);
            m.interval_secs = Some(interval.as_secs());
        });
        note_state_write(&mut summary, written);
        let mut steps = steps(&self.rt, interval);
        log::info!(
            "monitor started in {mode} mode (pid {}), steps: {}",
            std::process::id(),
            steps.iter().map(|s| format!("{} every {}", s.name(), crate::timefmt::span(s.every.as_secs() as i64))).collect::<Vec<_>>().join(", ")
        );
        std::thread::scope(|scope| self.drive(scope, &mut steps, &mut summary, once));
        if once {
            // What the round queued goes out before the summary is printed.
            let flushed = crate::notify::Notifier::new(&self.rt).flush();
            summary.notifications_pending = Some(flushed.pending_left);
        }
        let snapshot = summary.clone();
        let written = self.rt.state().update(|m: &mut MonitorState| m.last_round = Some(snapshot));
        note_state_write(&mut summary, written);
        log::info!("monitor stopped");
        Ok(summary)
    }

    /// The loop: collect finished steps, reload on SIGHUP, start due steps, wait a tick.
    /// The schedule lives here; the state file gets a copy for `--status` (a write that fails
    /// is a problem of the round, never the end of the monitor).
    fn drive<'s>(&mut self, scope: &'s std::thread::Scope<'s, '_>, steps: &mut Vec<Step>, summary: &mut RoundSummary, once: bool)
    where
        'a: 's,
    {
        let mut running: Vec<(Step, ScopedJoinHandle<'s, StepResult>)> = Vec::new();
        let mut waiting_once: BTreeSet<StepKind> = steps.iter().map(|s| s.kind).collect();
        let mut gateway_scope: Option<String> = None;
        let mut schedule = self.rt.state().section::<MonitorState>().map(|m| m.schedule).unwrap_or_default();
        loop {
            let mut i = 0;
            while i < running.len() {
                if !running[i].1.is_finished() {
                    i += 1;
                    continue;
                }
                let (step, handle) = running.remove(i);
                let result = handle.join().unwrap_or_else(|_| StepResult { report: failed_report(&step, "the step panicked"), finding: Finding::Nothing });
                self.record(&step, &result, summary, &mut gateway_scope);
            }
            if self.signals.stopping() {
                log::info!("stop requested; waiting for {} running step(s) to end", running.len());
                for (step, handle) in running.drain(..) {
                    if let Ok(result) = handle.join() {
                        self.record(&step, &result, summary, &mut gateway_scope);
                    }
                }
                return;
            }
            if once && waiting_once.is_empty() && running.is_empty() {
                return;
            }
            if self.signals.take_reload() {
                self.reload(steps);
            }
            let now = self.clock.now();
            for step in steps.iter() {
                let busy = running.iter().any(|(r, _)| r.kind == step.kind);
                let due = if once { waiting_once.contains(&step.kind) } else { schedule.is_due(step, now) };
                if busy || !due {
                    continue;
                }
                waiting_once.remove(&step.kind);
                schedule.mark(step, now);
                let copy = schedule.clone();
                note_state_write(summary, self.rt.state().update(|m: &mut MonitorState| m.schedule = copy));
                let (rt, clock, tools, step_copy) = (self.rt.clone(), self.clock, self.tools, step.clone());
                running.push((step.clone(), scope.spawn(move || run_step(&rt, clock, tools, &step_copy))));
            }
            std::thread::sleep(TICK);
        }
    }

    /// Keeps a finished step's report in the state file and its finding in the summary.
    fn record(&self, step: &Step, result: &StepResult, summary: &mut RoundSummary, gateway_scope: &mut Option<String>) {
        let now = self.clock.now();
        let r = &result.report;
        if r.ok {
            log::debug!("step {} ok in {} ms", step.name(), r.duration_ms);
        } else {
            log::warn!("step {} reported a problem: {}", step.name(), r.message.as_deref().unwrap_or("(no message)"));
        }
        if let Finding::Gateway(text) = &result.finding {
            if gateway_scope.as_deref() != Some(text) && text.starts_with("watch off") {
                log::info!("gateway {text}");
            }
            *gateway_scope = Some(text.clone());
        }
        summary.absorb(r, &result.finding, now);
        let round_done = step.kind == StepKind::Sessions;
        if round_done {
            log::info!("round: {}", summary.text(self.rt.config.context_threshold));
        }
        let snapshot = summary.clone();
        let written = self.rt.state().update(|m: &mut MonitorState| {
            m.steps.insert(step.name().to_string(), r.clone());
            if round_done {
                m.last_tick = Some(now);
                m.last_round = Some(snapshot);
            }
        });
        note_state_write(summary, written);
    }

    /// SIGHUP: the configuration is read again; a bad value keeps the old one.
    fn reload(&mut self, steps: &mut Vec<Step>) {
        match (self.reload)() {
            Ok(rt) => {
                self.rt = Arc::new(rt);
                *steps = self::steps(&self.rt, self.interval());
                log::info!("configuration reloaded (SIGHUP)");
            }
            Err(e) => log::error!("configuration not reloaded, the previous one stays: {e}"),
        }
    }
}

/// A state write that failed (a full disk, say) is a problem of the round, logged once per
/// kind of failure; the monitor goes on.
fn note_state_write<T>(summary: &mut RoundSummary, written: Result<T, crate::state::StateError>) {
    const STEP: &str = "state";
    match written {
        Ok(_) => summary.problems.retain(|p| !p.starts_with("state: ")),
        Err(e) => {
            let problem = format!("{STEP}: {e}");
            if !summary.problems.contains(&problem) {
                log::error!("cannot record in the state file: {e}; carrying on");
                summary.problems.push(problem);
            }
        }
    }
}

fn failed_report(step: &Step, message: &str) -> StepReport {
    StepReport { step: step.name().to_string(), ok: false, message: Some(message.to_string()), ..StepReport::default() }
}

/// One step, in its own thread.
fn run_step(rt: &Runtime, clock: &dyn Clock, tools: &dyn Tools, step: &Step) -> StepResult {
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    match step.kind {
        StepKind::Sessions => {
            // Sessions idle for longer than ASM_ACTIVE_WITHIN are never acted on, so the child
            // does not measure them: an idle round over a long history costs a stat per file.
            let mut list_args = args(&["--list", "--json"]);
            if rt.config.active_within > 0 {
                list_args.extend(["--changed-within".to_string(), rt.config.active_within.to_string()]);
            }
            let run = tools.run(Tool::SessionManager, &list_args, step.timeout);
            let report = StepReport { step: step.name().into(), ..run.report };
            let finding = match run.doc.map(serde_json::from_value::<crate::session::SessionList>) {
                Some(Ok(list)) => match crate::switching::run::act(rt, clock, tools, &list.sessions) {
                    Ok(outcome) => Finding::Sessions(crate::switching::run::RoundOutcome {
                        sessions: outcome.sessions + list.idle_not_listed,
                        idle_not_measured: list.idle_not_listed,
                        ..outcome
                    }),
                    Err(e) => return StepResult { report: failed_report(step, &format!("switching round: {e}")), finding: Finding::Nothing },
                },
                Some(Err(e)) => return StepResult { report: failed_report(step, &format!("session list not understood: {e}")), finding: Finding::Nothing },
                None => Finding::Nothing,
            };
            StepResult { report, finding }
        }
        StepKind::Gateway => {
            let scope = crate::gateway::watch_scope(rt);
            if !scope.is_on() {
                let report =
                    StepReport { step: step.name().into(), ok: true, message: Some(format!("watch off: {}", scope.reason())), ..StepReport::default() };
                return StepResult { report, finding: Finding::Gateway(format!("watch off: {}", scope.reason())) };
            }
            let run = tools.run(Tool::GatewayMonitor, &args(&["--act", "--json"]), step.timeout);
            let mut report = StepReport { step: step.name().into(), ..run.report };
            if !scope.recovers() && report.exit_code == Some(1) {
                // Not answering, but never seen up and not named by any setting: OpenClaw is
                // installed, its gateway is not meant to run here. Recorded, not a problem.
                report.ok = true;
                report.message = Some(format!("not answering; {}", scope.reason()));
            }
            StepResult { finding: Finding::gateway_from(run.doc.as_ref()), report }
        }
        StepKind::Quota => {
            let run = tools.run(Tool::HealthCheck, &args(&["--quota", "--json"]), step.timeout);
            StepResult { finding: Finding::quota_from(run.doc.as_ref()), report: StepReport { step: step.name().into(), ..run.report } }
        }
        StepKind::Notifications => {
            let started = std::time::Instant::now();
            let pass = crate::notify::Notifier::new(rt).flush();
            let stuck = pass.stopped.clone().filter(|_| pass.pending_left > 0);
            let report = StepReport {
                step: step.name().into(),
                ok: true,
                message: stuck.map(|why| format!("{} pending: {why}", pass.pending_left)),
                duration_ms: started.elapsed().as_millis() as u64,
                exit_code: None,
            };
            StepResult { report, finding: Finding::Notifications { pending: pass.pending_left } }
        }
    }
}

#[cfg(test)]
mod tests;
