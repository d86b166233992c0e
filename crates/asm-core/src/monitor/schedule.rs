//! The monitor's schedule, pure: which steps are due at an instant, and how long until the
//! next one, from when each last ran. Tested on the injected clock.

use crate::tools::Tool;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// One child tool the monitor runs every `every`.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub name: &'static str,
    pub tool: Tool,
    pub args: Vec<String>,
    pub every: Duration,
    pub timeout: Duration,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};

    fn step(name: &'static str, secs: u64) -> Step {
        Step { name, tool: Tool::HealthCheck, args: vec![], every: Duration::from_secs(secs), timeout: Duration::from_secs(1) }
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
