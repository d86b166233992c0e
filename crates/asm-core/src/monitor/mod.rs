//! The monitor: runs the other tools as child processes on their cadences and acts on what
//! they report. Children talk through one JSON document on stdout and the shared state file,
//! so each of them stays runnable on its own.
//!
//! [`schedule`] decides what is due (pure, on the injected clock); the loop here owns the
//! I/O: children through [`Tools`], the `monitor` state section; [`pidfile`] keeps one monitor
//! per state dir and [`daemon`] detaches it.

pub mod daemon;
pub mod pidfile;
pub mod schedule;

pub use pidfile::PidFile;
pub use schedule::{Schedule, Step};

use crate::clock::Clock;
use crate::protocol::StepReport;
use crate::tools::{Tool, Tools};
use crate::Runtime;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;

/// The step whose report (a session list) the monitor acts on: extraction and switching.
pub const SESSIONS_STEP: &str = "sessions";

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
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        Step { name: SESSIONS_STEP, tool: Tool::SessionManager, args: args(&["--list", "--json"]), every: interval, timeout: Duration::from_secs(120) },
        Step {
            name: "gateway",
            tool: Tool::GatewayMonitor,
            args: args(&["--act", "--json"]),
            every: interval,
            timeout: Duration::from_secs(c.gateway_verify_grace + c.repair_timeout + 120),
        },
        Step {
            name: "quota",
            tool: Tool::HealthCheck,
            args: args(&["--quota", "--json"]),
            every: Duration::from_secs(c.quota_interval).min(interval.max(Duration::from_secs(60))),
            timeout: Duration::from_secs(90),
        },
    ]
}

/// The `monitor` section of the state file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MonitorState {
    pub pid: Option<u32>,
    pub mode: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub last_tick: Option<DateTime<Utc>>,
    pub schedule: Schedule,
    pub steps: BTreeMap<String, StepReport>,
}

impl crate::state::Section for MonitorState {
    const NAME: &'static str = "monitor";
}

/// The monitor loop. `once` runs every step one time and returns.
pub struct Monitor<'a> {
    rt: &'a Runtime,
    clock: &'a dyn Clock,
    tools: &'a dyn Tools,
    steps: Vec<Step>,
    stop: Arc<AtomicBool>,
}

impl<'a> Monitor<'a> {
    pub fn new(rt: &'a Runtime, clock: &'a dyn Clock, tools: &'a dyn Tools, interval: Duration, stop: Arc<AtomicBool>) -> Self {
        Monitor { rt, clock, tools, steps: steps(rt, interval), stop }
    }

    pub fn run(&mut self, mode: &str, once: bool) -> Result<(), MonitorError> {
        let started = self.clock.now();
        self.rt.state().update(|m: &mut MonitorState| {
            m.pid = Some(std::process::id());
            m.mode = Some(mode.to_string());
            m.started_at = Some(started);
        })?;
        log::info!("monitor started in {mode} mode (pid {}), steps: {}", std::process::id(), self.steps.iter().map(|s| s.name).collect::<Vec<_>>().join(", "));
        loop {
            self.tick(once)?;
            if once || self.stopping() {
                break;
            }
            let schedule = self.rt.state().section::<MonitorState>()?.schedule;
            self.sleep(schedule.wait(&self.steps, self.clock.now()));
            if self.stopping() {
                break;
            }
        }
        log::info!("monitor stopped");
        Ok(())
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    fn tick(&mut self, all: bool) -> Result<(), MonitorError> {
        let state: MonitorState = self.rt.state().section()?;
        let now = self.clock.now();
        let due: Vec<Step> = if all { self.steps.clone() } else { state.schedule.due(&self.steps, now).into_iter().cloned().collect() };
        for step in due {
            if self.stopping() {
                break;
            }
            self.run_and_record(&step)?;
            let at = self.clock.now();
            self.rt.state().update(|m: &mut MonitorState| m.schedule.mark(&step, at))?;
        }
        // emit() only waits briefly for throttles; whatever an outage left queued goes now.
        let flushed = crate::notify::Notifier::new(self.rt).flush();
        log::debug!("notification flush: {flushed:?}");
        let at = self.clock.now();
        self.rt.state().update(|m: &mut MonitorState| m.last_tick = Some(at))?;
        Ok(())
    }

    fn run_and_record(&self, step: &Step) -> Result<(), MonitorError> {
        let run = self.tools.run(step.tool, &step.args, step.timeout);
        let report = StepReport { step: step.name.to_string(), ..run.report };
        if step.name == SESSIONS_STEP {
            match run.doc.map(serde_json::from_value::<crate::session::SessionList>) {
                Some(Ok(list)) => {
                    let round = crate::switching::run::act(self.rt, self.clock, self.tools, &list.sessions)?;
                    log::debug!("switching round: {round:?}");
                }
                Some(Err(e)) => log::warn!("session list from {} not understood: {e}", step.tool.name()),
                None => {}
            }
        }
        if report.ok {
            log::info!("step {} ok in {} ms", step.name, report.duration_ms);
        } else {
            log::warn!("step {} reported a problem: {}", step.name, report.message.as_deref().unwrap_or("(no message)"));
        }
        self.rt.state().update(|m: &mut MonitorState| {
            m.steps.insert(step.name.to_string(), report);
        })?;
        Ok(())
    }

    /// Sleeps in short slices so a stop signal ends the wait promptly.
    fn sleep(&self, total: Duration) {
        let slice = Duration::from_millis(200);
        let mut left = total;
        while !left.is_zero() && !self.stopping() {
            let d = left.min(slice);
            std::thread::sleep(d);
            left -= d;
        }
    }
}
