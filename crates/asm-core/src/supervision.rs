//! The monitor: runs the other tools as child processes on their cadences and acts on what
//! they report. Children talk through one JSON document on stdout and the shared state file,
//! so each of them stays runnable on its own.
//!
//! The schedule is a pure function of the clock ([`Schedule::due`]); the loop around it owns
//! the I/O: child processes, the `monitor` state section, signals and daemon mode.

use crate::clock::Clock;
use crate::fsutil::FileLock;
use crate::proc::{self, Cmd};
use crate::protocol::StepReport;
use crate::{Error, Runtime};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The step whose report (a session list) the monitor acts on: extraction and switching.
pub const SESSIONS_STEP: &str = "sessions";

/// One child tool the monitor runs every `every`.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub name: &'static str,
    /// The binary, without the `asm_` prefix.
    pub tool: &'static str,
    pub args: Vec<String>,
    pub every: Duration,
    pub timeout: Duration,
}

/// The monitor's steps for this configuration.
pub fn steps(rt: &Runtime, interval: Duration) -> Vec<Step> {
    let c = &rt.config;
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        Step { name: SESSIONS_STEP, tool: "session_manager", args: args(&["--list", "--json"]), every: interval, timeout: Duration::from_secs(120) },
        Step {
            name: "gateway",
            tool: "gateway_monitor",
            args: args(&["--act", "--json"]),
            every: interval,
            timeout: Duration::from_secs(c.gateway_verify_grace + c.repair_timeout + 120),
        },
        Step {
            name: "quota",
            tool: "health_check",
            args: args(&["--quota", "--json"]),
            every: Duration::from_secs(c.quota_interval).min(interval.max(Duration::from_secs(60))),
            timeout: Duration::from_secs(90),
        },
    ]
}

/// When each step last ran; decides which are due.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    pub last_run: BTreeMap<String, DateTime<Utc>>,
}

impl Schedule {
    /// Steps due at `now`: never run, or run at least `every` ago (or in the future, which
    /// means the clock was set back).
    pub fn due<'s>(&self, steps: &'s [Step], now: DateTime<Utc>) -> Vec<&'s Step> {
        steps.iter().filter(|s| self.is_due(s, now)).collect()
    }

    fn is_due(&self, step: &Step, now: DateTime<Utc>) -> bool {
        match self.last_run.get(step.name) {
            None => true,
            Some(last) if *last > now => true,
            Some(last) => (now - *last).to_std().unwrap_or_default() >= step.every,
        }
    }

    /// How long until the next step is due (zero when one is due now).
    pub fn wait(&self, steps: &[Step], now: DateTime<Utc>) -> Duration {
        steps
            .iter()
            .map(|s| match self.last_run.get(s.name) {
                Some(last) if *last <= now => s.every.saturating_sub((now - *last).to_std().unwrap_or_default()),
                _ => Duration::ZERO,
            })
            .min()
            .unwrap_or(Duration::from_secs(60))
    }

    pub fn mark(&mut self, step: &Step, at: DateTime<Utc>) {
        self.last_run.insert(step.name.to_string(), at);
    }
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

/// Where the sibling binaries are: `ASM_BIN_DIR`, else the directory of this executable.
pub fn bin_dir(rt: &Runtime) -> PathBuf {
    if let Some(dir) = rt.env.get("ASM_BIN_DIR") {
        return PathBuf::from(dir);
    }
    std::env::current_exe().ok().and_then(|p| p.parent().map(Path::to_path_buf)).unwrap_or_else(|| PathBuf::from("."))
}

/// Runs one step as a child process and reports how it went.
pub fn run_step(rt: &Runtime, step: &Step) -> (StepReport, Option<serde_json::Value>) {
    let program = bin_dir(rt).join(format!("asm_{}", step.tool));
    let mut argv = vec![program.display().to_string()];
    argv.extend(step.args.iter().cloned());
    let result = proc::run(&Cmd::new(argv).timeout(step.timeout));
    let mut report = StepReport { step: step.name.to_string(), ..Default::default() };
    let output = match result {
        Ok(o) => o,
        Err(e) => {
            report.message = Some(e.to_string());
            return (report, None);
        }
    };
    report.exit_code = output.code;
    report.duration_ms = output.elapsed.as_millis() as u64;
    report.ok = output.code == Some(0);
    let last_err_line = output.stderr_text().lines().rev().find(|l| !l.trim().is_empty()).map(str::to_string);
    report.message = if report.ok { None } else { last_err_line.or_else(|| Some(output.describe())) };
    let doc = serde_json::from_slice(&output.stdout).ok();
    (report, doc)
}

/// Runs a sibling tool once with these arguments (e.g. an extraction the sessions step asked for).
pub fn run_tool(rt: &Runtime, tool: &'static str, args: Vec<String>, timeout: Duration) -> (StepReport, Option<serde_json::Value>) {
    run_step(rt, &Step { name: tool, tool, args, every: Duration::ZERO, timeout })
}

/// What to do after a tick: keep going or stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Continue {
    Yes,
    Stop,
}

/// The monitor loop. `once` runs every step one time and returns.
pub struct Monitor<'a> {
    rt: &'a Runtime,
    clock: &'a dyn Clock,
    steps: Vec<Step>,
    stop: Arc<AtomicBool>,
}

impl<'a> Monitor<'a> {
    pub fn new(rt: &'a Runtime, clock: &'a dyn Clock, interval: Duration, stop: Arc<AtomicBool>) -> Self {
        Monitor { rt, clock, steps: steps(rt, interval), stop }
    }

    pub fn run(&mut self, mode: &str, once: bool) -> crate::Result<()> {
        let started = self.clock.now();
        self.rt.state().update("monitor", |m: &mut MonitorState| {
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
            let schedule = self.rt.state().section::<MonitorState>("monitor")?.schedule;
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

    fn tick(&mut self, all: bool) -> crate::Result<()> {
        let state: MonitorState = self.rt.state().section("monitor")?;
        let now = self.clock.now();
        let due: Vec<Step> = if all { self.steps.clone() } else { state.schedule.due(&self.steps, now).into_iter().cloned().collect() };
        for step in due {
            if self.stopping() {
                break;
            }
            self.run_and_record(&step)?;
            let at = self.clock.now();
            self.rt.state().update("monitor", |m: &mut MonitorState| m.schedule.mark(&step, at))?;
        }
        // emit() only waits briefly for throttles; whatever an outage left queued goes now.
        let flushed = crate::notify::Notifier::new(self.rt).flush();
        log::debug!("notification flush: {flushed:?}");
        let at = self.clock.now();
        self.rt.state().update("monitor", |m: &mut MonitorState| m.last_tick = Some(at))?;
        Ok(())
    }

    fn run_and_record(&self, step: &Step) -> crate::Result<()> {
        let (report, doc) = run_step(self.rt, step);
        if step.name == SESSIONS_STEP {
            match doc.map(serde_json::from_value::<crate::session::SessionList>) {
                Some(Ok(list)) => crate::switching::run::act(self.rt, self.clock, &list.sessions)?,
                Some(Err(e)) => log::warn!("session list from {} not understood: {e}", step.tool),
                None => {}
            }
        }
        if report.ok {
            log::info!("step {} ok in {} ms", step.name, report.duration_ms);
        } else {
            log::warn!("step {} reported a problem: {}", step.name, report.message.as_deref().unwrap_or("(no message)"));
        }
        self.rt.state().update("monitor", |m: &mut MonitorState| {
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

/// Holds the pid file lock for the life of the monitor: one monitor per state dir.
pub struct PidFile {
    _lock: FileLock,
}

impl PidFile {
    pub fn acquire(path: &Path) -> crate::Result<PidFile> {
        if let Some(dir) = path.parent() {
            crate::fsutil::ensure_dir(dir, 0o700)
                .or_else(|_| std::fs::create_dir_all(dir).map_err(|e| crate::fsutil::FsError::io("create directory", dir, e)))?;
        }
        let lock = FileLock::try_exclusive(path)?.ok_or_else(|| {
            let holder = std::fs::read_to_string(path).unwrap_or_default();
            Error::Failed(format!("another monitor is already running (pid {}, pid file {})", holder.trim(), path.display()))
        })?;
        let mut f = lock.file();
        let _ = f.set_len(0);
        let _ = f.rewind();
        let _ = writeln!(f, "{}", std::process::id());
        let _ = f.sync_all();
        Ok(PidFile { _lock: lock })
    }
}

/// Detaches from the terminal: fork, setsid, fork, stdio to /dev/null. The first parent
/// prints the daemon's pid and exits 0. Must run before any thread is started.
pub fn daemonize() -> crate::Result<()> {
    // SAFETY: called at start-up while the process is single-threaded; each branch only
    // calls async-signal-safe functions before continuing or exiting.
    unsafe {
        match libc::fork() {
            -1 => return Err(Error::Failed(format!("cannot fork: {}", std::io::Error::last_os_error()))),
            0 => {}
            _ => libc::_exit(0),
        }
        if libc::setsid() == -1 {
            return Err(Error::Failed(format!("cannot start a session: {}", std::io::Error::last_os_error())));
        }
        match libc::fork() {
            -1 => return Err(Error::Failed(format!("cannot fork: {}", std::io::Error::last_os_error()))),
            0 => {}
            pid => {
                println!("asm_monitor daemon started (pid {pid})");
                libc::_exit(0)
            }
        }
        let devnull = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if devnull >= 0 {
            libc::dup2(devnull, 0);
            libc::dup2(devnull, 1);
            libc::dup2(devnull, 2);
        }
        libc::umask(0o077);
    }
    Ok(())
}

/// A flag that SIGINT, SIGTERM and SIGHUP set, for a clean stop between steps.
pub fn stop_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    if let Err(e) = ctrlc::set_handler(move || f.store(true, Ordering::SeqCst)) {
        log::warn!("cannot install the signal handler: {e}");
    }
    flag
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn step(name: &'static str, secs: u64) -> Step {
        Step { name, tool: "x", args: vec![], every: Duration::from_secs(secs), timeout: Duration::from_secs(1) }
    }

    #[test]
    fn schedule_runs_each_step_on_its_own_cadence() {
        let clock = ManualClock::at_epoch();
        let steps = [step("sessions", 60), step("quota", 300)];
        let mut s = Schedule::default();
        assert_eq!(s.due(&steps, clock.now()).len(), 2, "everything is due at first");
        for st in &steps {
            s.mark(st, clock.now());
        }
        clock.advance_secs(59);
        assert!(s.due(&steps, clock.now()).is_empty());
        assert_eq!(s.wait(&steps, clock.now()), Duration::from_secs(1));
        clock.advance_secs(1);
        let due: Vec<_> = s.due(&steps, clock.now()).iter().map(|s| s.name).collect();
        assert_eq!(due, ["sessions"]);
        s.mark(&steps[0], clock.now());
        clock.advance_secs(240);
        let due: Vec<_> = s.due(&steps, clock.now()).iter().map(|s| s.name).collect();
        assert_eq!(due, ["sessions", "quota"]);
    }

    #[test]
    fn clock_set_back_makes_steps_due() {
        let clock = ManualClock::at_epoch();
        let steps = [step("sessions", 60)];
        let mut s = Schedule::default();
        s.mark(&steps[0], clock.now());
        clock.advance_secs(-3600);
        assert_eq!(s.due(&steps, clock.now()).len(), 1);
    }
}
