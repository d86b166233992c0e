//! OpenClaw gateway watch: probes, the incident state machine, restart and repair.
//!
//! [`Watch`] is the edge that ties them together for `gateway_monitor`: it probes, records
//! the probe and the incident in the state file section "gateway", feeds the pure
//! [`incident::Incident`] and carries out what it returns (notifications, restart, verify,
//! repair). Only one process acts at a time (`.asm_gateway.lock`); others only record.

pub mod diagnose;
pub mod incident;
pub mod repair;
pub mod scope;
pub mod supervisor;

use crate::clock::Clock;
use crate::notify::Notifier;
use crate::platform::openclaw::probe::{self, Endpoint, ProbeKind, ProbeRecord};
use crate::Runtime;
use chrono::{DateTime, Utc};
use incident::{Action, Incident, Observation, Phase, Policy, RepairAvailability};
use repair::RepairRecord;
use scope::{Facts, Scope};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use thiserror::Error;

/// Probes kept in the state file.
const HISTORY_KEEP: usize = 100;
/// Pause between readiness probes while verifying a restart.
const VERIFY_POLL: Duration = Duration::from_secs(2);

#[derive(Debug, Error)]
pub enum GatewayError {
    #[error("another gateway_monitor is already acting on the gateway (lock {0}); try again when it is done")]
    Busy(PathBuf),
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    #[error(transparent)]
    Fs(#[from] crate::fsutil::FsError),
}

/// The "gateway" section of `.asm_state.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GatewayState {
    pub incident: Incident,
    /// Recent probes, oldest first.
    pub history: Vec<ProbeRecord>,
    pub last_repair: Option<RepairRecord>,
    /// The last time a probe found the gateway healthy (the watch may recover a gateway it
    /// has seen up).
    pub last_healthy_at: Option<DateTime<Utc>>,
}

impl GatewayState {
    pub fn seen_healthy(&self) -> bool {
        self.last_healthy_at.is_some() || self.history.iter().any(|p| p.ok())
    }
}

impl crate::state::Section for GatewayState {
    const NAME: &'static str = "gateway";
}

/// What a run of `gateway_monitor` found and did.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub url: String,
    pub healthy: bool,
    pub probe: ProbeRecord,
    pub phase: String,
    pub incident: Incident,
    pub next_restart_at: Option<DateTime<Utc>>,
    /// Log lines and notifications of this run, in order.
    pub actions: Vec<String>,
    pub last_repair: Option<RepairRecord>,
    pub note: Option<String>,
    /// Whether ASM restarts this gateway when it hangs (see [`scope`]).
    pub recover: bool,
}

impl Report {
    pub fn text(&self) -> String {
        let mut s = format!(
            "Gateway {}: {} ({:?}, {} ms) {}\nIncident: {}",
            self.url,
            if self.healthy { "healthy" } else { "NOT healthy" },
            self.probe.kind,
            self.probe.latency_ms,
            self.probe.detail,
            self.phase,
        );
        if self.incident.attempts > 0 {
            s.push_str(&format!(", {} restart attempt(s) in the current budget", self.incident.attempts));
        }
        if let Some(at) = self.next_restart_at.filter(|_| !self.healthy && self.recover && self.incident.phase != Phase::GaveUp) {
            s.push_str(&format!(", next restart not before {}", crate::timefmt::local_with_age(at, chrono::Utc::now())));
        }
        if !self.recover {
            s.push_str("\nNot restarted: never seen healthy (ASM_GATEWAY_URL or ASM_GATEWAY_RESTART_CMD would say it is meant to run)");
        }
        for a in &self.actions {
            s.push_str(&format!("\n  {a}"));
        }
        // A repair belongs to an incident: shown while the gateway is not healthy.
        if let Some(r) = self.last_repair.as_ref().filter(|_| self.incident.phase != Phase::Healthy) {
            s.push_str(&format!("\nLast repair: {} ({}): {}", if r.ok { "ok" } else { "failed" }, r.exit, r.summary));
        }
        if let Some(n) = &self.note {
            s.push_str(&format!("\nNote: {n}"));
        }
        s
    }
}

/// One gateway watch run.
pub struct Watch<'a> {
    rt: &'a Runtime,
    clock: &'a dyn Clock,
    endpoint: Endpoint,
    policy: Policy,
    scope: Scope,
}

impl<'a> Watch<'a> {
    pub fn new(rt: &'a Runtime, clock: &'a dyn Clock) -> Watch<'a> {
        let scope = watch_scope(rt);
        let mut policy = Policy::from_config(&rt.config);
        policy.recover = scope.recovers();
        if policy.repair == RepairAvailability::Available && crate::proc::which("claude", rt.env.get("PATH")).is_none() {
            policy.repair = RepairAvailability::NoClaude;
        }
        Watch { rt, clock, endpoint: Endpoint::resolve(rt), policy, scope }
    }

    /// Whether the watch applies here, and whether it recovers the gateway.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    pub fn probe(&self) -> ProbeRecord {
        probe::probe(&self.endpoint, Duration::from_secs(self.rt.config.gateway_probe_timeout), self.clock)
    }

    /// Probe once, record, report. Never acts.
    pub fn check(&self) -> Result<Report, GatewayError> {
        let rec = self.probe();
        let mut done = Vec::new();
        let actions = self.record(&rec, false)?;
        self.perform(actions, rec.kind, &mut done)?;
        self.report(rec, done, None)
    }

    /// Probe, record, then carry out whatever the incident says is due now.
    pub fn act(&self) -> Result<Report, GatewayError> {
        crate::fsutil::ensure_state_dir(&self.rt.paths.state_dir)?;
        let Some(_lock) = crate::fsutil::FileLock::try_exclusive(&self.lock_path())? else {
            let mut report = self.check()?;
            report.note = Some("another gateway_monitor is acting; this run only recorded the probe".into());
            return Ok(report);
        };
        let rec = self.probe();
        let mut done = Vec::new();
        let actions = self.record(&rec, true)?;
        let last = self.perform(actions, rec.kind, &mut done)?;
        self.report(last.unwrap_or(rec), done, None)
    }

    /// `--restart`: restart now (outside the budget) and verify.
    pub fn restart(&self) -> Result<Report, GatewayError> {
        crate::fsutil::ensure_state_dir(&self.rt.paths.state_dir)?;
        let _lock = crate::fsutil::FileLock::try_exclusive(&self.lock_path())?.ok_or_else(|| GatewayError::Busy(self.lock_path()))?;
        let rec = self.probe();
        let mut done = Vec::new();
        let mut actions = self.record(&rec, false)?;
        let now = self.clock.now();
        actions.extend(self.apply(|s| s.incident.begin_manual_restart(now))?);
        actions.push(Action::Restart { attempt: None });
        let last = self.perform(actions, rec.kind, &mut done)?;
        self.report(last.unwrap_or(rec), done, None)
    }

    /// `--reset`: clear GAVE_UP and the restart budget, then probe afresh.
    pub fn reset(&self) -> Result<Report, GatewayError> {
        let mut done = Vec::new();
        let actions = self.apply(|s| s.incident.reset())?;
        self.perform(actions, ProbeKind::Ok, &mut done)?;
        let rec = self.probe();
        let actions = self.record(&rec, false)?;
        self.perform(actions, rec.kind, &mut done)?;
        self.report(rec, done, None)
    }

    /// `--debug`: probe (recorded), then the full diagnosis.
    pub fn diagnose(&self) -> Result<diagnose::Diagnosis, GatewayError> {
        let rec = self.probe();
        let mut done = Vec::new();
        let actions = self.record(&rec, false)?;
        self.perform(actions, rec.kind, &mut done)?;
        let state: GatewayState = self.rt.state().section()?;
        Ok(diagnose::diagnose(self.rt, &self.endpoint, rec, state.incident, state.history))
    }

    fn lock_path(&self) -> PathBuf {
        self.rt.paths.state_dir.join(".asm_gateway.lock")
    }

    /// Read-modify-write of the section; the change returns the incident's actions.
    fn apply(&self, change: impl FnOnce(&mut GatewayState) -> Vec<Action>) -> Result<Vec<Action>, GatewayError> {
        Ok(self.rt.state().update(change)?)
    }

    /// Adds the probe to the history and hands it to the incident.
    fn record(&self, rec: &ProbeRecord, act: bool) -> Result<Vec<Action>, GatewayError> {
        let obs = Observation { ok: rec.ok(), url: self.endpoint.base_url.clone(), detail: format!("{:?}, {}", rec.kind, rec.detail) };
        let policy = self.policy.clone();
        let rec = rec.clone();
        self.apply(move |s| {
            let at = rec.at;
            if rec.ok() {
                s.last_healthy_at = Some(at);
            }
            s.history.push(rec);
            let excess = s.history.len().saturating_sub(HISTORY_KEEP);
            s.history.drain(..excess);
            s.incident.observe(at, &obs, &policy, act)
        })
    }

    /// Carries out actions until none are left, verifying restarts and repairs by probing
    /// again. Returns the last probe made, if any.
    fn perform(&self, actions: Vec<Action>, mut last_kind: ProbeKind, done: &mut Vec<String>) -> Result<Option<ProbeRecord>, GatewayError> {
        let mut queue: VecDeque<Action> = actions.into();
        let mut last_probe = None;
        let verify_limit = Duration::from_secs(self.rt.config.gateway_verify_grace + 4 * self.rt.config.gateway_probe_timeout + 10);
        let mut verify_started: Option<Instant> = None;
        loop {
            while let Some(action) = queue.pop_front() {
                if matches!(action, Action::Restart { .. } | Action::Repair { .. }) {
                    verify_started = None;
                }
                self.perform_one(action, last_kind, done, &mut queue)?;
            }
            let state: GatewayState = self.rt.state().section()?;
            if state.incident.phase != Phase::Verifying {
                return Ok(last_probe);
            }
            let started = *verify_started.get_or_insert_with(Instant::now);
            if started.elapsed() > verify_limit {
                // The clock and the wall disagree (a test clock, a suspended machine): leave it to the next run.
                return Ok(last_probe);
            }
            std::thread::sleep(VERIFY_POLL.min(Duration::from_secs(self.rt.config.gateway_verify_grace.max(1))));
            let rec = self.probe();
            last_kind = rec.kind;
            queue.extend(self.record(&rec, true)?);
            last_probe = Some(rec);
        }
    }

    fn perform_one(&self, action: Action, last_kind: ProbeKind, done: &mut Vec<String>, queue: &mut VecDeque<Action>) -> Result<(), GatewayError> {
        match action {
            Action::Log(line) => {
                log::info!("{line}");
                done.push(line);
            }
            Action::Notify(event) => {
                log::info!("gateway event {}: {}", event.kind(), event.text());
                Notifier::new(self.rt).emit(&event);
                done.push(format!("notified: {}", event.text()));
            }
            Action::Restart { attempt } => {
                let which = attempt.map_or("the restart by hand".to_string(), |n| format!("restart attempt {n}"));
                let result = supervisor::restart(self.rt, &self.endpoint, last_kind, attempt.unwrap_or(0));
                match &result {
                    Ok(method) => log::info!("gateway {which} done: {method}"),
                    Err(e) => log::warn!("gateway {which} failed: {e}"),
                }
                let now = self.clock.now();
                let policy = self.policy.clone();
                queue.extend(self.apply(move |s| s.incident.restart_finished(now, result, &policy))?);
            }
            Action::Repair { .. } => {
                let state: GatewayState = self.rt.state().section()?;
                let diagnosis = diagnose::diagnose(self.rt, &self.endpoint, self.probe(), state.incident, state.history);
                let record = repair::run(self.rt, &diagnosis.text(), self.clock.now());
                let now = self.clock.now();
                let policy = self.policy.clone();
                let (ok, summary) = (record.ok, record.summary.clone());
                queue.extend(self.apply(move |s| {
                    s.last_repair = Some(record);
                    s.incident.repair_finished(now, ok, summary, &policy)
                })?);
            }
        }
        Ok(())
    }

    fn report(&self, probe: ProbeRecord, actions: Vec<String>, note: Option<String>) -> Result<Report, GatewayError> {
        let state: GatewayState = self.rt.state().section()?;
        Ok(Report {
            url: self.endpoint.base_url.clone(),
            healthy: probe.ok(),
            phase: state.incident.phase.name().to_string(),
            next_restart_at: state.incident.next_restart_at(&self.policy),
            incident: state.incident,
            probe,
            actions,
            last_repair: state.last_repair,
            note,
            recover: self.policy.recover,
        })
    }
}

/// Whether the watch applies on this machine and recovers its gateway (see [`scope`]).
pub fn watch_scope(rt: &Runtime) -> Scope {
    let seen_healthy = rt.state().section::<GatewayState>().map(|s| s.seen_healthy()).unwrap_or(false);
    scope::scope(&Facts::gather(rt, seen_healthy))
}

/// The gateway as `health_check` shows it, from the state file (health_check never probes;
/// `gateway_monitor` does).
#[derive(Debug, Clone, Serialize)]
pub struct HealthView {
    #[serde(flatten)]
    pub scope: Scope,
    pub url: String,
    pub phase: Phase,
    pub last_probe: Option<ProbeRecord>,
    pub restart_attempts: u32,
    pub last_healthy_at: Option<DateTime<Utc>>,
}

pub fn health_view(rt: &Runtime) -> Result<HealthView, crate::state::StateError> {
    let state: GatewayState = rt.state().section()?;
    let scope = scope::scope(&Facts::gather(rt, state.seen_healthy()));
    Ok(HealthView {
        scope,
        url: Endpoint::resolve(rt).base_url,
        phase: state.incident.phase,
        last_probe: state.history.last().cloned(),
        restart_attempts: state.incident.attempts,
        last_healthy_at: state.last_healthy_at.or_else(|| state.history.iter().rev().find(|p| p.ok()).map(|p| p.at)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::env::Env;
    use asm_testkit::{MockServer, Response, TempDir};
    use serde_json::json;

    fn rt(home: &TempDir, url: &str) -> Runtime {
        let env = Env::from_pairs([
            ("HOME", home.path().to_str().unwrap()),
            ("PATH", home.path().to_str().unwrap()),
            ("ASM_GATEWAY_URL", url),
            ("ASM_GATEWAY_PROBE_TIMEOUT", "1"),
            ("ASM_GATEWAY_TIMEOUT", "120"),
        ]);
        Runtime::from_env(env).unwrap()
    }

    #[test]
    fn probes_are_recorded_and_the_incident_survives_in_the_state_file() {
        let home = TempDir::new("gw-watch");
        let server = MockServer::start(|_| Response::json(503, &json!({"ok": false, "ready": false, "status": "draining"})));
        let rt = rt(&home, &server.url());
        let clock = ManualClock::at_epoch();
        for _ in 0..3 {
            let report = Watch::new(&rt, &clock).check().unwrap();
            assert!(!report.healthy);
            clock.advance_secs(60);
        }
        let state: GatewayState = rt.state().section().unwrap();
        assert_eq!(state.history.len(), 3);
        assert_eq!(state.incident.phase, Phase::Unresponsive, "120 s of failures across three separate runs");
        assert!(state.history.iter().all(|p| p.kind == ProbeKind::NotReady));
    }

    #[test]
    fn reset_clears_gave_up() {
        let home = TempDir::new("gw-reset");
        let server = MockServer::start(|_| Response::json(200, &json!({"ok": true, "ready": true})));
        let rt = rt(&home, &server.url());
        rt.state().update(|s: &mut GatewayState| s.incident = Incident { phase: Phase::GaveUp, attempts: 3, repaired: true, ..Incident::default() }).unwrap();
        let clock = ManualClock::at_epoch();
        let report = Watch::new(&rt, &clock).reset().unwrap();
        assert!(report.healthy);
        assert_eq!(report.incident.phase, Phase::Healthy);
        assert_eq!(report.incident.attempts, 0);
        assert!(report.actions.iter().any(|a| a.contains("reset")), "{:?}", report.actions);
    }
}
