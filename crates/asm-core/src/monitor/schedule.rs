//! The monitor's steps and their schedule, pure: which steps are due at an instant, and how
//! long until the next one, from when each last started. Each step has its own cadence and
//! runs on its own, so a long one (a gateway repair) never holds up another. Tested on the
//! injected clock.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// What a step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StepKind {
    /// `session_manager --list`, then the switching round on what it found.
    Sessions,
    /// `gateway_monitor --act` where the gateway watch applies.
    Gateway,
    /// `health_check --quota`.
    Quota,
    /// Delivering what waits in the notification outbox.
    Notifications,
}

impl StepKind {
    pub fn name(self) -> &'static str {
        match self {
            StepKind::Sessions => "sessions",
            StepKind::Gateway => "gateway",
            StepKind::Quota => "quota",
            StepKind::Notifications => "notifications",
        }
    }
}

/// One step the monitor runs every `every`, within `timeout`.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub kind: StepKind,
    pub every: Duration,
    pub timeout: Duration,
}

impl Step {
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }
}

/// When each step last started; decides which are due.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    pub last_run: BTreeMap<String, DateTime<Utc>>,
}

impl Schedule {
    /// Steps due at `now`: never run, or started at least `every` ago (or in the future,
    /// which means the clock was set back).
    pub fn due<'s>(&self, steps: &'s [Step], now: DateTime<Utc>) -> Vec<&'s Step> {
        steps.iter().filter(|s| self.is_due(s, now)).collect()
    }

    pub fn is_due(&self, step: &Step, now: DateTime<Utc>) -> bool {
        match self.last_run.get(step.name()) {
            None => true,
            Some(last) if *last > now => true,
            Some(last) => (now - *last).to_std().unwrap_or_default() >= step.every,
        }
    }

    /// When `step` is due next (now when it is due).
    pub fn next(&self, step: &Step, now: DateTime<Utc>) -> DateTime<Utc> {
        match self.last_run.get(step.name()) {
            Some(last) if *last <= now => *last + chrono::Duration::from_std(step.every).unwrap_or_default(),
            _ => now,
        }
    }

    /// How long until the next step is due (zero when one is due now).
    pub fn wait(&self, steps: &[Step], now: DateTime<Utc>) -> Duration {
        steps.iter().map(|s| (self.next(s, now) - now).to_std().unwrap_or_default()).min().unwrap_or(Duration::from_secs(60))
    }

    pub fn mark(&mut self, step: &Step, at: DateTime<Utc>) {
        self.last_run.insert(step.name().to_string(), at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};

    fn step(kind: StepKind, secs: u64) -> Step {
        Step { kind, every: Duration::from_secs(secs), timeout: Duration::from_secs(1) }
    }

    #[test]
    fn schedule_runs_each_step_on_its_own_cadence() {
        let clock = ManualClock::at_epoch();
        let steps = [step(StepKind::Sessions, 60), step(StepKind::Quota, 300)];
        let mut s = Schedule::default();
        assert_eq!(s.due(&steps, clock.now()).len(), 2, "everything is due at first");
        for st in &steps {
            s.mark(st, clock.now());
        }
        clock.advance_secs(59);
        assert!(s.due(&steps, clock.now()).is_empty());
        assert_eq!(s.wait(&steps, clock.now()), Duration::from_secs(1));
        clock.advance_secs(1);
        let due: Vec<_> = s.due(&steps, clock.now()).iter().map(|s| s.name()).collect();
        assert_eq!(due, ["sessions"]);
        s.mark(&steps[0], clock.now());
        clock.advance_secs(240);
        let due: Vec<_> = s.due(&steps, clock.now()).iter().map(|s| s.name()).collect();
        assert_eq!(due, ["sessions", "quota"]);
    }

    #[test]
    fn a_hang_is_probed_every_15_seconds_so_the_restart_comes_within_the_timeout_and_20_seconds() {
        // The gateway hangs at t=7 s (just after a probe at t=0); probes every 15 s, started
        // start-to-start. The incident needs ASM_GATEWAY_TIMEOUT (180 s) of failed probes from
        // the first failed one: the restart comes with the first probe at or after 7 + 15 + 180.
        let clock = ManualClock::at_epoch();
        let start = clock.now();
        let gateway = [step(StepKind::Gateway, 15)];
        let mut s = Schedule::default();
        let mut probes = Vec::new();
        for _ in 0..400 {
            if s.is_due(&gateway[0], clock.now()) {
                s.mark(&gateway[0], clock.now());
                probes.push((clock.now() - start).num_seconds());
            }
            clock.advance_secs(1);
        }
        let first_failed = probes.iter().copied().find(|t| *t >= 7).unwrap();
        let restart_at = probes.iter().copied().find(|t| *t >= first_failed + 180).unwrap();
        assert!(restart_at - 7 <= 180 + 20, "hang at 7 s, restart at {restart_at} s");
    }

    #[test]
    fn clock_set_back_makes_steps_due() {
        let clock = ManualClock::at_epoch();
        let steps = [step(StepKind::Sessions, 60)];
        let mut s = Schedule::default();
        s.mark(&steps[0], clock.now());
        clock.advance_secs(-3600);
        assert_eq!(s.due(&steps, clock.now()).len(), 1);
    }
}
