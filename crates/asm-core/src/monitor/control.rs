//! `monitor --status` and `monitor --stop`: whether a monitor runs for this state dir, what
//! it last did and when it looks next; stopping it by the pid in its pid file.

use super::{steps, MonitorState, RoundSummary};
use crate::proc::{self, Signal};
use crate::Runtime;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub running: bool,
    pub pid: Option<i32>,
    pub mode: Option<String>,
    /// The interval the running monitor was started with.
    pub interval_secs: Option<u64>,
    pub started_at: Option<DateTime<Utc>>,
    pub last_round_at: Option<DateTime<Utc>>,
    /// When the next session round is due (running monitors only).
    pub next_round_at: Option<DateTime<Utc>>,
    pub last_round: Option<RoundSummary>,
}

impl Status {
    pub fn text(&self, threshold: u8) -> String {
        let now = Utc::now();
        let when = |t: Option<DateTime<Utc>>| t.map_or("never".to_string(), |t| crate::timefmt::local_with_age(t, now));
        let mut lines = vec![match (self.running, self.pid) {
            (true, Some(pid)) => format!("monitor running (pid {pid}, {} mode) since {}", self.mode.as_deref().unwrap_or("?"), when(self.started_at)),
            _ => "monitor not running".to_string(),
        }];
        lines.push(format!("last round  {}", when(self.last_round_at)));
        if self.running {
            lines.push(format!("next round  {}", when(self.next_round_at)));
        }
        if let Some(summary) = &self.last_round {
            lines.push(format!("last seen   {}", summary.text(threshold)));
            lines.extend(summary.problems.iter().map(|p| format!("problem     {p}")));
        }
        lines.join("\n")
    }
}

pub fn status(rt: &Runtime) -> Status {
    let pid = super::pidfile::running_pid(&rt.paths.monitor_pid_file());
    let state: MonitorState = rt.state().section().unwrap_or_default();
    let interval = Duration::from_secs(state.interval_secs.unwrap_or(rt.config.monitor_interval));
    let sessions = steps(rt, interval).into_iter().find(|s| s.kind == super::StepKind::Sessions);
    let next_round_at = pid.and(sessions).map(|s| state.schedule.next(&s, Utc::now()));
    Status {
        running: pid.is_some(),
        pid,
        mode: state.mode.filter(|_| pid.is_some()),
        interval_secs: state.interval_secs.filter(|_| pid.is_some()),
        started_at: state.started_at,
        last_round_at: state.last_tick,
        next_round_at,
        last_round: state.last_round,
    }
}

/// How `--stop` went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Stop {
    NotRunning,
    Stopped {
        pid: i32,
    },
    /// Still running after the wait.
    StillRunning {
        pid: i32,
    },
}

impl Stop {
    pub fn text(&self) -> String {
        match self {
            Stop::NotRunning => "no monitor is running".into(),
            Stop::Stopped { pid } => format!("monitor (pid {pid}) stopped"),
            Stop::StillRunning { pid } => {
                format!("monitor (pid {pid}) did not stop within the wait; it may still be ending a step (kill -9 {pid} ends it at once)")
            }
        }
    }
}

/// SIGTERM to the monitor named by the pid file, then waits up to `wait` for it to end.
pub fn stop(rt: &Runtime, wait: Duration) -> Stop {
    let Some(pid) = super::pidfile::running_pid(&rt.paths.monitor_pid_file()) else { return Stop::NotRunning };
    proc::signal_pid(pid, Signal::SIGTERM);
    let started = Instant::now();
    while started.elapsed() < wait {
        if !proc::pid_alive(pid) || proc::pid_cmdline(pid).is_none_or(|c| !c.contains("asm_monitor")) {
            return Stop::Stopped { pid };
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Stop::StillRunning { pid }
}
