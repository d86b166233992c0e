//! The gateway incident: a pure state machine with an injected clock. It takes probe results
//! and the outcomes of the restarts and repairs it asked for, and returns what is to be done
//! (notify, restart, repair); it performs nothing itself. The whole state is plain data kept
//! in the state file, so an incident continues across separate `gateway_monitor --act` runs
//! and monitor restarts.
//!
//! ```text
//! Healthy ─fail─▶ Suspect ─failing for `timeout`─▶ Unresponsive ─due─▶ Restarting ─done─▶ Verifying
//!    ▲               │ ok (no alert)                    │ budget spent          │ ready ─▶ Healthy (recovered)
//!    └───────────────┘                                  ├─▶ Repairing ─▶ Verifying(repair) ─grace over─▶ GaveUp
//!                                                       └─▶ GaveUp (repair disabled or done)
//! ```
//!
//! Discipline copied from systemd/monit/supervisord/Kubernetes (quota-notify-supervisors.md §3.5):
//! a failure window (debounce) before acting, which restarts after every restart (monit's
//! pitfall); a start grace in which failures are not judged; exponential backoff between
//! restarts with a cap; restart attempts and backoff forgotten only after a stable healthy
//! period (so a crash loop that comes up briefly after each restart still spends its budget);
//! after the budget one repair, then GAVE_UP until `--reset` or the gateway is healthy again.

use super::supervisor::RestartError;
use crate::config::Config;
use crate::notify::{Event, GaveUpRepair};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// A restart attempt or repair that has not reported back after this long was lost (the
/// monitor was killed in the middle); it counts as failed.
const LOST_RESTART_SECS: i64 = 600;
/// The first backoff step; each further attempt doubles it, up to ASM_GATEWAY_BACKOFF_MAX.
const BACKOFF_BASE_SECS: u64 = 60;
/// Healthy this long without interruption forgets restart attempts and backoff (Kubernetes: 10 min).
const STABLE_SECS: u64 = 600;

/// Whether the Claude Code repair can run after the restart budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RepairAvailability {
    Available,
    /// ASM_REPAIR=0.
    TurnedOff,
    /// `claude` is not on PATH.
    NoClaude,
}

/// The knobs, from the configuration and what is on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub timeout_secs: u64,
    pub verify_grace_secs: u64,
    pub max_restarts: u32,
    pub backoff_base_secs: u64,
    pub backoff_max_secs: u64,
    pub stable_secs: u64,
    pub repair: RepairAvailability,
    pub repair_timeout_secs: u64,
    /// Whether ASM restarts this gateway and alerts about it: it was seen healthy, or a URL
    /// or restart command names it (see `gateway::scope`). Otherwise outages are only recorded.
    pub recover: bool,
}

impl Policy {
    /// The configured knobs; `repair` and `recover` are for the caller to narrow down from what
    /// is on the machine.
    pub fn from_config(c: &Config) -> Policy {
        Policy {
            timeout_secs: c.gateway_timeout,
            verify_grace_secs: c.gateway_verify_grace,
            max_restarts: c.gateway_max_restarts,
            backoff_base_secs: BACKOFF_BASE_SECS.min(c.gateway_backoff_max),
            backoff_max_secs: c.gateway_backoff_max,
            stable_secs: STABLE_SECS,
            repair: if c.repair { RepairAvailability::Available } else { RepairAvailability::TurnedOff },
            repair_timeout_secs: c.repair_timeout,
            recover: true,
        }
    }

    /// The wait after restart attempt `n` (1-based) before the next may start.
    pub fn backoff_after(&self, attempt: u32) -> u64 {
        if attempt == 0 {
            return 0;
        }
        let factor = 1u64.checked_shl(attempt.saturating_sub(1)).unwrap_or(u64::MAX);
        self.backoff_base_secs.saturating_mul(factor).min(self.backoff_max_secs)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    #[default]
    Healthy,
    /// Failing, but not yet for the whole window.
    Suspect,
    /// Failing for the whole window: recovery is due (when the backoff allows).
    Unresponsive,
    Restarting,
    Repairing,
    /// A restart or repair ran; waiting for readiness within the grace period.
    Verifying,
    /// Budget and repair spent: no automatic action until `--reset` or healthy again.
    GaveUp,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Healthy => "HEALTHY",
            Phase::Suspect => "SUSPECT",
            Phase::Unresponsive => "UNRESPONSIVE",
            Phase::Restarting => "RESTARTING",
            Phase::Repairing => "REPAIRING",
            Phase::Verifying => "VERIFYING",
            Phase::GaveUp => "GAVE_UP",
        }
    }
}

/// What is being verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recovery {
    Restart,
    Repair,
}

/// The incident, as kept in the state file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Incident {
    pub phase: Phase,
    /// First failure of the current outage (for "down for N s").
    pub down_since: Option<DateTime<Utc>>,
    /// Start of the failure window; moves to each restart.
    pub window_start: Option<DateTime<Utc>>,
    /// Healthy without interruption since.
    pub healthy_since: Option<DateTime<Utc>>,
    /// Restart attempts not yet followed by a stable period.
    pub attempts: u32,
    pub last_restart_at: Option<DateTime<Utc>>,
    /// When the running restart or repair began.
    pub action_started_at: Option<DateTime<Utc>>,
    pub verifying: Option<Recovery>,
    pub verify_until: Option<DateTime<Utc>>,
    /// The repair for this budget has run.
    pub repaired: bool,
    /// The unresponsive alert went out for this outage (so recovery is reported too).
    pub alerted: bool,
    /// The last failure, for alerts.
    pub last_failure: Option<String>,
    /// The running restart was asked for by a person.
    pub manual: bool,
    /// The restart being verified was asked for by a person.
    pub manual_verify: bool,
}

/// A probe result as the incident sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub ok: bool,
    pub url: String,
    pub detail: String,
}

/// What the caller is to do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A phase change worth a log line but not a message.
    Log(String),
    /// Report this event (feed notifier and log).
    Notify(Event),
    /// Restart the gateway, then call [`Incident::restart_finished`]. `attempt` is the n-th of
    /// the budget; None for a restart a person asked for.
    Restart { attempt: Option<u32> },
    /// Run the Claude Code repair, then call [`Incident::repair_finished`].
    Repair { attempts: u32 },
}

impl Incident {
    /// Takes one probe result. With `act`, also decides the recovery step due now (the
    /// phase then moves to Restarting/Repairing/GaveUp); without it, only records.
    pub fn observe(&mut self, now: DateTime<Utc>, obs: &Observation, policy: &Policy, act: bool) -> Vec<Action> {
        let mut out = Vec::new();
        self.expire_lost_action(now, policy, &mut out);
        if obs.ok {
            self.on_success(now, policy, &mut out);
        } else {
            self.last_failure = Some(obs.detail.clone());
            self.on_failure(now, obs, policy, &mut out);
        }
        if act {
            self.due(now, policy, &mut out);
        }
        out
    }

    /// A restart was asked for by a person (`--restart`): it does not spend the budget.
    pub fn begin_manual_restart(&mut self, now: DateTime<Utc>) -> Vec<Action> {
        let from = self.phase;
        self.phase = Phase::Restarting;
        self.action_started_at = Some(now);
        self.manual = true;
        vec![Action::Log(format!("gateway {} -> RESTARTING (manual restart)", from.name()))]
    }

    /// The restart step ended: `Ok(method)` when the restart command succeeded.
    pub fn restart_finished(&mut self, now: DateTime<Utc>, result: Result<String, RestartError>, policy: &Policy) -> Vec<Action> {
        self.action_started_at = None;
        self.window_start = Some(now);
        let manual = std::mem::take(&mut self.manual);
        let attempt = (!manual).then_some(self.attempts);
        let result = result.map_err(|e| e.to_string());
        match result {
            Ok(method) => {
                self.start_verifying(now, Recovery::Restart, policy);
                self.manual_verify = manual;
                vec![
                    Action::Log(format!("gateway RESTARTING -> VERIFYING (ready within {}s)", policy.verify_grace_secs)),
                    Action::Notify(Event::GatewayRestarted { attempt, method }),
                ]
            }
            Err(error) => {
                self.phase = Phase::Suspect;
                vec![Action::Log("gateway RESTARTING -> SUSPECT (restart failed)".into()), Action::Notify(Event::GatewayRestartFailed { attempt, error })]
            }
        }
    }

    /// The repair run ended; readiness is verified next either way (it may have fixed it).
    pub fn repair_finished(&mut self, now: DateTime<Utc>, ok: bool, summary: String, policy: &Policy) -> Vec<Action> {
        self.action_started_at = None;
        self.start_verifying(now, Recovery::Repair, policy);
        vec![
            Action::Log(format!("gateway REPAIRING -> VERIFYING (repair {})", if ok { "finished" } else { "failed" })),
            Action::Notify(Event::GatewayRepairResult { ok, summary }),
        ]
    }

    /// `--reset`: forget the incident and its budget; the next probe starts afresh.
    pub fn reset(&mut self) -> Vec<Action> {
        let from = self.phase;
        *self = Incident::default();
        vec![Action::Log(format!("gateway {} -> HEALTHY (reset: incident and restart budget cleared)", from.name()))]
    }

    /// When the next restart may start (for display).
    pub fn next_restart_at(&self, policy: &Policy) -> Option<DateTime<Utc>> {
        let window_end = self.window_start.map(|w| w + secs(policy.timeout_secs));
        let backoff_end = self.last_restart_at.map(|r| r + secs(policy.backoff_after(self.attempts)));
        match (window_end, backoff_end) {
            (Some(w), Some(b)) => Some(w.max(b)),
            (w, b) => w.or(b),
        }
    }

    fn start_verifying(&mut self, now: DateTime<Utc>, what: Recovery, policy: &Policy) {
        self.phase = Phase::Verifying;
        self.verifying = Some(what);
        self.verify_until = Some(now + secs(policy.verify_grace_secs));
    }

    fn on_success(&mut self, now: DateTime<Utc>, policy: &Policy, out: &mut Vec<Action>) {
        match self.phase {
            Phase::Healthy => {
                let since = *self.healthy_since.get_or_insert(now);
                if (self.attempts > 0 || self.repaired) && now - since >= secs(policy.stable_secs) {
                    out.push(Action::Log(format!("gateway stable for {}s: restart budget and backoff reset", policy.stable_secs)));
                    self.attempts = 0;
                    self.repaired = false;
                    self.last_restart_at = None;
                }
            }
            from => {
                let how = match (from, self.verifying) {
                    (Phase::Verifying, Some(Recovery::Restart)) => "restart verified",
                    (Phase::Verifying, Some(Recovery::Repair)) => "repair verified",
                    (Phase::GaveUp, _) => "healthy again after giving up",
                    (Phase::Suspect, _) => "answered again before the timeout",
                    _ => "answered again",
                };
                out.push(Action::Log(format!("gateway {} -> HEALTHY ({how})", from.name())));
                if self.alerted {
                    let down_for_secs = self.down_since.map(|d| (now - d).num_seconds().max(0) as u64).unwrap_or(0);
                    out.push(Action::Notify(Event::GatewayRecovered { down_for_secs }));
                }
                let (attempts, repaired, last_restart_at) = (self.attempts, self.repaired, self.last_restart_at);
                *self = Incident { healthy_since: Some(now), attempts, repaired, last_restart_at, ..Incident::default() };
            }
        }
    }

    fn on_failure(&mut self, now: DateTime<Utc>, obs: &Observation, policy: &Policy, out: &mut Vec<Action>) {
        self.healthy_since = None;
        match self.phase {
            Phase::Healthy => {
                self.phase = Phase::Suspect;
                self.down_since = Some(now);
                self.window_start = Some(now);
                out.push(Action::Log(format!("gateway HEALTHY -> SUSPECT ({})", obs.detail)));
                self.check_window(now, obs, policy, out);
            }
            Phase::Suspect => self.check_window(now, obs, policy, out),
            Phase::Verifying if self.verify_until.is_none_or(|until| now >= until) => self.verify_failed(now, obs, policy, out),
            Phase::Unresponsive | Phase::Verifying | Phase::Restarting | Phase::Repairing | Phase::GaveUp => {}
        }
    }

    fn check_window(&mut self, now: DateTime<Utc>, obs: &Observation, policy: &Policy, out: &mut Vec<Action>) {
        let start = *self.window_start.get_or_insert(now);
        if now - start < secs(policy.timeout_secs) {
            return;
        }
        self.phase = Phase::Unresponsive;
        let down_for_secs = self.down_since.map(|d| (now - d).num_seconds().max(0) as u64).unwrap_or(0);
        out.push(Action::Log(format!("gateway SUSPECT -> UNRESPONSIVE (failing for {down_for_secs}s: {})", obs.detail)));
        if !policy.recover {
            out.push(Action::Log("gateway never seen healthy and no ASM_GATEWAY_URL or ASM_GATEWAY_RESTART_CMD names it: recorded, not restarted".into()));
            return;
        }
        if !self.alerted {
            self.alerted = true;
            out.push(Action::Notify(Event::GatewayUnresponsive { url: obs.url.clone(), down_for_secs, detail: obs.detail.clone() }));
        }
    }

    fn verify_failed(&mut self, now: DateTime<Utc>, obs: &Observation, policy: &Policy, out: &mut Vec<Action>) {
        let what = self.verifying.take();
        self.verify_until = None;
        let error = format!("not ready within {}s: {}", policy.verify_grace_secs, obs.detail);
        match what {
            Some(Recovery::Repair) => self.give_up(policy, out),
            _ => {
                // The failure window restarted at the restart; the next attempt needs a full window again.
                self.phase = Phase::Suspect;
                let attempt = (!std::mem::take(&mut self.manual_verify)).then_some(self.attempts);
                let which = attempt.map_or("the restart by hand".to_string(), |n| format!("restart attempt {n}"));
                out.push(Action::Log(format!("gateway VERIFYING -> SUSPECT ({which} failed: {error})")));
                out.push(Action::Notify(Event::GatewayRestartFailed { attempt, error }));
                self.check_window(now, obs, policy, out);
            }
        }
    }

    /// Decides the recovery step due now, if any.
    fn due(&mut self, now: DateTime<Utc>, policy: &Policy, out: &mut Vec<Action>) {
        if self.phase != Phase::Unresponsive || !policy.recover {
            return;
        }
        if self.attempts < policy.max_restarts {
            if self.next_restart_at(policy).is_some_and(|at| now < at) {
                return;
            }
            self.attempts += 1;
            self.phase = Phase::Restarting;
            self.action_started_at = Some(now);
            self.last_restart_at = Some(now);
            out.push(Action::Log(format!("gateway UNRESPONSIVE -> RESTARTING (attempt {} of {})", self.attempts, policy.max_restarts)));
            out.push(Action::Restart { attempt: Some(self.attempts) });
        } else if policy.repair == RepairAvailability::Available && !self.repaired {
            self.repaired = true;
            self.phase = Phase::Repairing;
            self.action_started_at = Some(now);
            out.push(Action::Log(format!("gateway UNRESPONSIVE -> REPAIRING (after {} failed restarts)", self.attempts)));
            out.push(Action::Notify(Event::GatewayRepairStarted { attempts: self.attempts }));
            out.push(Action::Repair { attempts: self.attempts });
        } else {
            self.give_up(policy, out);
        }
    }

    fn give_up(&mut self, policy: &Policy, out: &mut Vec<Action>) {
        out.push(Action::Log(format!("gateway {} -> GAVE_UP (no automatic action until --reset or healthy again)", self.phase.name())));
        self.phase = Phase::GaveUp;
        self.verifying = None;
        self.verify_until = None;
        let repair = if self.repaired {
            GaveUpRepair::Failed
        } else {
            match policy.repair {
                RepairAvailability::TurnedOff => GaveUpRepair::TurnedOff,
                _ => GaveUpRepair::NoClaude,
            }
        };
        out.push(Action::Notify(Event::GatewayGaveUp { attempts: self.attempts, repair }));
    }

    /// A restart or repair that never reported back (the monitor died) counts as failed.
    fn expire_lost_action(&mut self, now: DateTime<Utc>, policy: &Policy, out: &mut Vec<Action>) {
        let limit = match self.phase {
            Phase::Restarting => LOST_RESTART_SECS,
            Phase::Repairing => policy.repair_timeout_secs as i64 + LOST_RESTART_SECS,
            _ => return,
        };
        let started = self.action_started_at.unwrap_or(now);
        if now - started < Duration::seconds(limit) {
            return;
        }
        let lost = "the monitor stopped before the step reported back".to_string();
        let more = if self.phase == Phase::Restarting {
            self.restart_finished(now, Err(RestartError::Lost(lost)), policy)
        } else {
            self.repair_finished(now, false, lost, policy)
        };
        out.extend(more);
    }
}

fn secs(s: u64) -> Duration {
    Duration::seconds(s.min(i64::MAX as u64 / 1000) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};

    fn policy() -> Policy {
        Policy {
            timeout_secs: 180,
            verify_grace_secs: 60,
            max_restarts: 3,
            backoff_base_secs: 60,
            backoff_max_secs: 600,
            stable_secs: 600,
            repair: RepairAvailability::Available,
            repair_timeout_secs: 900,
            recover: true,
        }
    }

    /// One simulated gateway and monitor: the monitor probes every `period` seconds with
    /// `--act`, performs the actions at once (restart and repair succeed as commands) and
    /// records everything it was asked to do.
    struct Sim {
        clock: ManualClock,
        incident: Incident,
        policy: Policy,
        log: Vec<(i64, String)>,
        start: DateTime<Utc>,
    }

    impl Sim {
        fn new(policy: Policy) -> Sim {
            let clock = ManualClock::at_epoch();
            let start = clock.now();
            Sim { clock, incident: Incident::default(), policy, log: Vec::new(), start }
        }

        fn t(&self) -> i64 {
            (self.clock.now() - self.start).num_seconds()
        }

        fn probe(&mut self, ok: bool, act: bool) {
            let obs = Observation { ok, url: "http://127.0.0.1:18789".into(), detail: if ok { "ok".into() } else { "/healthz: no answer".into() } };
            let actions = self.incident.observe(self.clock.now(), &obs, &self.policy, act);
            self.perform(actions);
        }

        fn perform(&mut self, actions: Vec<Action>) {
            for a in actions {
                let now = self.clock.now();
                let more = match &a {
                    Action::Restart { .. } => self.incident.restart_finished(now, Ok("test".into()), &self.policy),
                    Action::Repair { .. } => self.incident.repair_finished(now, true, "fixed nothing".into(), &self.policy),
                    _ => Vec::new(),
                };
                let t = self.t();
                match a {
                    Action::Log(_) => {}
                    Action::Notify(e) => self.log.push((t, e.kind().to_string())),
                    Action::Restart { attempt } => self.log.push((t, format!("restart {}", attempt.unwrap_or_default()))),
                    Action::Repair { .. } => self.log.push((t, "repair".into())),
                }
                self.perform(more);
            }
        }

        /// Probes every `period` seconds for `duration` seconds; `up(t)` says whether the gateway answers at t.
        fn run(&mut self, duration: i64, period: i64, up: impl Fn(i64) -> bool) {
            let end = self.t() + duration;
            while self.t() < end {
                let t = self.t();
                self.probe(up(t), true);
                self.clock.advance_secs(period);
            }
        }

        fn restarts(&self) -> Vec<i64> {
            self.log.iter().filter(|(_, w)| w.starts_with("restart ")).map(|(t, _)| *t).collect()
        }

        fn kinds(&self) -> Vec<&str> {
            self.log.iter().map(|(_, k)| k.as_str()).collect()
        }
    }

    #[test]
    fn flapping_never_restarts() {
        let mut sim = Sim::new(policy());
        // Down one minute, up the next, for two hours.
        sim.run(7200, 60, |t| (t / 60) % 2 == 1);
        assert!(sim.log.is_empty(), "{:?}", sim.log);
        // Also flapping with failures of up to 2 minutes.
        sim.run(7200, 60, |t| (t / 60) % 3 == 2);
        assert!(sim.log.is_empty(), "{:?}", sim.log);
    }

    #[test]
    fn a_three_minute_outage_gets_exactly_one_restart_and_a_recovery() {
        let mut sim = Sim::new(policy());
        sim.run(600, 60, |_| true);
        // Down from t=600 until someone restarts it.
        let outage_start = sim.t();
        for _ in 0..5 {
            let down = sim.restarts().is_empty();
            sim.probe(!down, true);
            sim.clock.advance_secs(60);
        }
        assert_eq!(sim.restarts(), [outage_start + 180]);
        assert_eq!(sim.kinds(), ["gateway_unresponsive", "restart 1", "gateway_restarted", "gateway_recovered"]);
        assert_eq!(sim.incident.phase, Phase::Healthy);
        assert_eq!(sim.incident.attempts, 1, "attempts are kept until the gateway stays stable");
        sim.run(700, 60, |_| true);
        assert_eq!(sim.incident.attempts, 0, "a stable period resets the budget");
    }

    #[test]
    fn report_only_runs_alert_but_never_act() {
        let mut sim = Sim::new(policy());
        for _ in 0..10 {
            sim.probe(false, false);
            sim.clock.advance_secs(60);
        }
        assert_eq!(sim.kinds(), ["gateway_unresponsive"]);
        assert_eq!(sim.incident.phase, Phase::Unresponsive);
        // The next --act run does what is due at once.
        sim.probe(false, true);
        assert_eq!(sim.restarts().len(), 1);
    }

    #[test]
    fn a_hang_is_judged_like_an_outage_and_verified_within_the_grace() {
        let mut sim = Sim::new(policy());
        // Frozen: every probe times out. After the restart it needs 40 s to come up.
        let mut restarted: Option<i64> = None;
        for _ in 0..40 {
            let t = sim.t();
            let up = restarted.is_some_and(|r| t >= r + 40);
            sim.probe(up, true);
            if restarted.is_none() {
                restarted = sim.restarts().first().copied();
            }
            sim.clock.advance_secs(10);
        }
        assert_eq!(sim.restarts(), [180]);
        assert_eq!(sim.kinds(), ["gateway_unresponsive", "restart 1", "gateway_restarted", "gateway_recovered"]);
    }

    #[test]
    fn crash_loop_backs_off_gives_up_after_budget_repairs_once_and_stops() {
        let mut sim = Sim::new(policy());
        // Down for good. Probe every 30 s for 3 hours.
        sim.run(3 * 3600, 30, |_| false);
        let restarts = sim.restarts();
        assert_eq!(restarts.len(), 3, "{:?}", sim.log);
        // First at the window; each later one after a failed verify, a full new window and the backoff.
        assert_eq!(restarts[0], 180);
        let gaps: Vec<i64> = restarts.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(gaps.iter().all(|g| *g >= 180), "{gaps:?}");
        assert_eq!(sim.kinds().iter().filter(|k| **k == "repair").count(), 1);
        assert_eq!(sim.kinds().iter().filter(|k| **k == "gateway_gave_up").count(), 1);
        assert_eq!(sim.kinds().iter().filter(|k| **k == "gateway_unresponsive").count(), 1, "one alert per outage");
        assert_eq!(sim.kinds().last(), Some(&"gateway_gave_up"));
        assert_eq!(sim.incident.phase, Phase::GaveUp);
        // No excess restarts afterwards, however long it stays down.
        let before = sim.log.len();
        sim.run(6 * 3600, 60, |_| false);
        assert_eq!(sim.log.len(), before);
        // Healthy again leaves GAVE_UP and reports the recovery.
        sim.probe(true, true);
        assert_eq!(sim.kinds().last(), Some(&"gateway_recovered"));
        assert_eq!(sim.incident.phase, Phase::Healthy);
    }

    #[test]
    fn crash_loop_that_comes_up_briefly_after_each_restart_still_spends_the_budget() {
        let mut p = policy();
        p.max_restarts = 4;
        p.backoff_max_secs = 400;
        let mut sim = Sim::new(p);
        // Up for two minutes after every restart, then down again.
        for _ in 0..(4 * 3600 / 30) {
            let t = sim.t();
            let up = sim.restarts().last().is_some_and(|r| t - r < 120);
            sim.probe(up, true);
            sim.clock.advance_secs(30);
        }
        let restarts = sim.restarts();
        assert_eq!(restarts.len(), 4, "{:?}", sim.log);
        let gaps: Vec<i64> = restarts.windows(2).map(|w| w[1] - w[0]).collect();
        // Each failure after 120 s up opens a new 180 s window: 300 s apart (the backoff is shorter here).
        assert_eq!(gaps, [300, 300, 300]);
        let mut p = policy();
        p.backoff_base_secs = 100;
        assert_eq!((1..=5).map(|n| p.backoff_after(n)).collect::<Vec<_>>(), [100, 200, 400, 600, 600]);
        assert_eq!(sim.kinds().iter().filter(|k| **k == "repair").count(), 1);
        assert_eq!(sim.incident.phase, Phase::GaveUp);
    }

    #[test]
    fn backoff_spacing_dominates_a_short_window() {
        let mut p = policy();
        p.timeout_secs = 30;
        p.verify_grace_secs = 10;
        p.max_restarts = 5;
        p.backoff_base_secs = 60;
        p.backoff_max_secs = 300;
        let mut sim = Sim::new(p);
        sim.run(3600, 10, |_| false);
        let restarts = sim.restarts();
        let gaps: Vec<i64> = restarts.windows(2).map(|w| w[1] - w[0]).collect();
        assert_eq!(gaps, [60, 120, 240, 300]);
    }

    #[test]
    fn repair_disabled_gives_up_straight_after_the_budget() {
        let mut p = policy();
        p.repair = RepairAvailability::TurnedOff;
        p.max_restarts = 1;
        let mut sim = Sim::new(p);
        sim.run(3600, 60, |_| false);
        assert_eq!(sim.kinds(), ["gateway_unresponsive", "restart 1", "gateway_restarted", "gateway_restart_failed", "gateway_gave_up"]);
    }

    #[test]
    fn reset_clears_gave_up_and_recovery_resumes() {
        let mut p = policy();
        p.max_restarts = 1;
        let mut sim = Sim::new(p);
        sim.run(3600, 60, |_| false);
        assert_eq!(sim.incident.phase, Phase::GaveUp);
        sim.incident.reset();
        sim.log.clear();
        sim.run(600, 60, |_| false);
        assert_eq!(sim.kinds()[..3], ["gateway_unresponsive", "restart 1", "gateway_restarted"]);
    }

    #[test]
    fn monitor_restart_mid_incident_continues_from_the_state_file() {
        let mut sim = Sim::new(policy());
        for _ in 0..2 {
            sim.probe(false, true);
            sim.clock.advance_secs(60);
        }
        // The monitor stops; its successor reads the incident back from JSON.
        let saved = serde_json::to_string(&sim.incident).unwrap();
        sim.incident = serde_json::from_str(&saved).unwrap();
        sim.probe(false, true);
        assert!(sim.restarts().is_empty());
        sim.clock.advance_secs(60);
        sim.probe(false, true);
        assert_eq!(sim.restarts(), [180], "the window counted across the monitor restart");
        // A restart that never reported back (monitor killed in the middle) counts as failed.
        let mut lost = Incident { phase: Phase::Restarting, attempts: 1, action_started_at: Some(sim.clock.now()), ..Incident::default() };
        let obs = Observation { ok: false, url: "u".into(), detail: "down".into() };
        sim.clock.advance_secs(LOST_RESTART_SECS);
        let actions = lost.observe(sim.clock.now(), &obs, &policy(), false);
        assert!(actions.iter().any(|a| matches!(a, Action::Notify(Event::GatewayRestartFailed { attempt: Some(1), .. }))), "{actions:?}");
        assert_eq!(lost.phase, Phase::Suspect);
    }

    #[test]
    fn a_failed_restart_command_is_a_failed_attempt() {
        let mut inc = Incident::default();
        let p = policy();
        let t0 = ManualClock::at_epoch().now();
        let obs = Observation { ok: false, url: "u".into(), detail: "refused".into() };
        inc.observe(t0, &obs, &p, true);
        let actions = inc.observe(t0 + Duration::seconds(180), &obs, &p, true);
        assert!(actions.contains(&Action::Restart { attempt: Some(1) }));
        let after = inc.restart_finished(t0 + Duration::seconds(181), Err(RestartError::Command { command: "systemctl".into(), detail: "exit 1".into() }), &p);
        assert!(after.contains(&Action::Notify(Event::GatewayRestartFailed { attempt: Some(1), error: "systemctl: exit 1".into() })));
        assert_eq!(inc.phase, Phase::Suspect);
    }

    #[test]
    fn manual_restart_does_not_spend_the_budget() {
        let p = policy();
        let mut inc = Incident::default();
        let t0 = ManualClock::at_epoch().now();
        inc.begin_manual_restart(t0);
        inc.restart_finished(t0, Ok("openclaw gateway restart".into()), &p);
        assert_eq!(inc.phase, Phase::Verifying);
        let ok = Observation { ok: true, url: "u".into(), detail: "ok".into() };
        let actions = inc.observe(t0 + Duration::seconds(5), &ok, &p, true);
        assert_eq!(inc.phase, Phase::Healthy);
        assert_eq!(inc.attempts, 0);
        assert!(!actions.iter().any(|a| matches!(a, Action::Notify(_))), "no recovery alert without an outage alert");
    }

    #[test]
    fn a_manual_restart_is_reported_as_one_not_as_attempt_0() {
        let p = policy();
        let mut inc = Incident::default();
        let t0 = ManualClock::at_epoch().now();
        inc.begin_manual_restart(t0);
        let done = inc.restart_finished(t0, Ok("openclaw gateway restart".into()), &p);
        assert!(done.contains(&Action::Notify(Event::GatewayRestarted { attempt: None, method: "openclaw gateway restart".into() })), "{done:?}");
        assert!(Event::GatewayRestarted { attempt: None, method: "m".into() }.text().contains("restarted by hand"));
        let down = Observation { ok: false, url: "u".into(), detail: "down".into() };
        let failed = inc.observe(t0 + Duration::seconds(61), &down, &p, true);
        assert!(failed.iter().any(|a| matches!(a, Action::Notify(Event::GatewayRestartFailed { attempt: None, .. }))), "{failed:?}");
    }

    #[test]
    fn the_give_up_notice_says_whether_a_repair_ran() {
        for (repair, expected) in [
            (RepairAvailability::Available, GaveUpRepair::Failed),
            (RepairAvailability::TurnedOff, GaveUpRepair::TurnedOff),
            (RepairAvailability::NoClaude, GaveUpRepair::NoClaude),
        ] {
            let mut p = policy();
            p.repair = repair;
            p.max_restarts = 1;
            let mut sim = Sim::new(p);
            sim.run(3600, 60, |_| false);
            assert_eq!(sim.kinds().iter().filter(|k| **k == "repair").count(), usize::from(repair == RepairAvailability::Available));
            assert_eq!(sim.incident.phase, Phase::GaveUp);
            let text = Event::GatewayGaveUp { attempts: 1, repair: expected }.text();
            assert_eq!(text.contains("and a Claude Code repair"), expected == GaveUpRepair::Failed, "{text}");
        }
        let text = Event::GatewayGaveUp { attempts: 0, repair: GaveUpRepair::TurnedOff }.text();
        assert!(!text.contains("0 restarts") && text.contains("ASM_REPAIR=0"), "{text}");
    }

    #[test]
    fn a_gateway_asm_may_not_recover_is_recorded_but_never_restarted_or_alerted() {
        let mut p = policy();
        p.recover = false;
        let mut sim = Sim::new(p);
        sim.run(3 * 3600, 15, |_| false);
        assert!(sim.log.is_empty(), "{:?}", sim.log);
        assert_eq!(sim.incident.phase, Phase::Unresponsive);
    }
}
