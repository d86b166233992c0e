//! The pause/resume decision as a pure state machine: [`QuotaState`] (stored as the state
//! file's "quota" section) plus an observation at an instant gives the next state and the
//! actions to take. No I/O and no clock reads: `now` is always passed in.
//!
//! Rules: read at most every poll interval (longer after failures: exponential backoff, or
//! the server's Retry-After); keep the last good reading; a failed read never counts as low;
//! below the threshold (calls or percent, in any limiting window) or exhausted → pause until
//! the tightest window resets; resume when a reading is back above the threshold plus
//! hysteresis, or when the window the pause waited for has reset.

use super::reading::{QuotaReading, ReadError};
use crate::config::QuotaThreshold;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Backoff after failed reads never exceeds this (unless the server asks for longer).
pub const BACKOFF_CAP_SECS: u64 = 900;

/// The "quota" section of the state file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct QuotaState {
    pub paused: bool,
    pub reason: Option<String>,
    pub paused_at: Option<DateTime<Utc>>,
    pub resume_at: Option<DateTime<Utc>>,
    /// The reading that caused the pause.
    pub reading: Option<QuotaReading>,
    /// The last good reading, kept through failures.
    pub last_reading: Option<QuotaReading>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub consecutive_failures: u32,
    /// No read before this instant (poll interval or backoff).
    pub next_read_at: Option<DateTime<Utc>>,
    pub backoff_secs: u64,
    /// The reset time of the last 2056 notice acted on, so one notice pauses once.
    pub handled_limit_reset: Option<DateTime<Utc>>,
    /// The pause came from a 2056 notice: chat calls are being refused, so only the
    /// window's reset ends it, whatever the remains endpoint says meanwhile.
    pub held_until_reset: bool,
}

impl crate::state::Section for QuotaState {
    const NAME: &'static str = "quota";
}

/// The settings the decision depends on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    pub threshold: QuotaThreshold,
    pub interval_secs: u64,
}

impl Policy {
    pub fn new(threshold: QuotaThreshold, interval_secs: u64) -> Self {
        Policy { threshold, interval_secs }
    }

    /// The level a reading must climb back to before a pause ends: half as much again as the
    /// threshold (at least one more call or point), so a reading hovering at the line does
    /// not flap.
    pub fn resume_level(&self) -> QuotaThreshold {
        match self.threshold {
            QuotaThreshold::Count(n) => QuotaThreshold::Count(n + (n / 2).max(1)),
            QuotaThreshold::Percent(p) => QuotaThreshold::Percent((p + (p / 2.0).max(1.0)).min(100.0)),
        }
    }
}

/// What was learned at one instant.
#[derive(Debug, Clone, PartialEq)]
pub enum Observation {
    Reading(Box<QuotaReading>),
    /// The read failed; says nothing about the quota.
    Failed(ReadError),
    /// MiniMax said the plan limit was hit (2056), via the API, OpenClaw's log or a tool.
    UsageLimit {
        resets_at: Option<DateTime<Utc>>,
        source: String,
    },
    /// No read this time (not due); only time-based resumes apply.
    Nothing,
}

impl Observation {
    pub fn reading(reading: QuotaReading) -> Observation {
        Observation::Reading(Box::new(reading))
    }
}

/// What the edge must do after a step.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Pause { reason: String, resume_at: Option<DateTime<Utc>>, remaining: Option<u64>, percent: Option<f64> },
    Resume { remaining: Option<u64>, why: ResumeReason },
}

/// Why a pause ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResumeReason {
    /// The quota window the pause waited for has reset.
    WindowReset,
    /// A reading climbed back above the resume level.
    AboveThreshold,
    /// No key any more: the quota watch is off, so nothing would ever lift the pause.
    WatchOff,
}

impl ResumeReason {
    pub fn describe(self) -> &'static str {
        match self {
            ResumeReason::WindowReset => "quota window reset",
            ResumeReason::AboveThreshold => "quota back above the threshold",
            ResumeReason::WatchOff => "the quota watch is off (no MiniMax key)",
        }
    }
}

/// How a reading compares to a level.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub below: bool,
    /// Why it is below (empty when not).
    pub reason: String,
    /// When the windows that are below reset (the latest of them).
    pub resets_at: Option<DateTime<Utc>>,
}

/// Whether `reading` is below `level` in any limiting window. A percent-only reading cannot
/// be compared to a call count; then only an exhausted window counts as below.
pub fn assess(reading: &QuotaReading, level: QuotaThreshold) -> Assessment {
    if let Some(balance) = &reading.balance {
        let below = balance.available <= 0.0;
        let reason = if below { format!("MiniMax pay-as-you-go balance is {:.2}", balance.available) } else { String::new() };
        return Assessment { below, reason, resets_at: None };
    }
    let mut reasons = Vec::new();
    let mut resets_at: Option<DateTime<Utc>> = None;
    for (name, w) in reading.limited_windows() {
        let why = if w.is_exhausted() {
            Some(format!("MiniMax {name} quota exhausted"))
        } else {
            match level {
                QuotaThreshold::Count(n) => w.remaining.filter(|r| *r < n).map(|r| format!("MiniMax {name} quota at {r} calls (below {n})")),
                QuotaThreshold::Percent(p) => w.remaining_percent.filter(|r| *r < p).map(|r| format!("MiniMax {name} quota at {r:.0}% (below {p}%)")),
            }
        };
        if let Some(why) = why {
            reasons.push(why);
            resets_at = resets_at.max(w.resets_at);
        }
    }
    Assessment { below: !reasons.is_empty(), reason: reasons.join("; "), resets_at }
}

impl QuotaState {
    /// Whether a read is due at `now`. A pause whose reset time has come makes a read due
    /// (to confirm with real data) unless the server asked us to back off.
    pub fn read_due(&self, now: DateTime<Utc>) -> bool {
        match self.next_read_at {
            None => true,
            Some(next) if now >= next => true,
            Some(_) => self.consecutive_failures == 0 && self.paused && self.resume_at.is_some_and(|r| now >= r),
        }
    }

    /// Work is paused at `now` (a pause whose window has reset no longer holds work back,
    /// even before the next step records the resume).
    pub fn work_paused_at(&self, now: DateTime<Utc>) -> bool {
        self.paused && self.resume_at.is_none_or(|r| now < r)
    }

    /// Records an answered read that carried no reading (a 2056 answer): the poll interval
    /// applies, no backoff.
    pub fn note_answered(&mut self, now: DateTime<Utc>, policy: &Policy) {
        self.last_attempt_at = Some(now);
        self.consecutive_failures = 0;
        self.backoff_secs = 0;
        self.next_read_at = Some(now + secs(policy.interval_secs));
    }

    /// Seconds since the last good reading.
    pub fn reading_age_secs(&self, now: DateTime<Utc>) -> Option<i64> {
        self.last_reading.as_ref().map(|r| (now - r.read_at).num_seconds().max(0))
    }

    /// Applies one observation and returns the actions to take.
    pub fn step(&mut self, now: DateTime<Utc>, observation: Observation, policy: &Policy) -> Vec<Action> {
        match observation {
            Observation::Reading(reading) => self.on_reading(now, *reading, policy),
            Observation::Failed(error) => {
                self.on_failure(now, &error, policy);
                self.resume_if_window_reset(now)
            }
            Observation::UsageLimit { resets_at, source } => self.on_usage_limit(now, resets_at, &source),
            Observation::Nothing => self.resume_if_window_reset(now),
        }
    }

    fn on_reading(&mut self, now: DateTime<Utc>, reading: QuotaReading, policy: &Policy) -> Vec<Action> {
        self.last_attempt_at = Some(now);
        self.last_error = None;
        self.consecutive_failures = 0;
        self.backoff_secs = 0;
        self.next_read_at = Some(now + secs(policy.interval_secs));
        if self.held_until_reset && self.resume_at.is_some_and(|r| now >= r) {
            self.held_until_reset = false;
        }
        let low = assess(&reading, policy.threshold);
        let remaining = reading.remaining_calls();
        let percent = reading.remaining_percent();
        self.last_reading = Some(reading.clone());
        if low.below {
            let resume_at = low.resets_at;
            let newly = !self.paused;
            if self.held_until_reset {
                return Vec::new();
            }
            self.pause(now, low.reason.clone(), resume_at, Some(reading));
            return if newly { vec![Action::Pause { reason: low.reason, resume_at, remaining, percent }] } else { Vec::new() };
        }
        if !self.paused {
            return Vec::new();
        }
        let window_reset = self.resume_at.is_some_and(|r| now >= r);
        if window_reset || (!self.held_until_reset && !assess(&reading, policy.resume_level()).below) {
            self.resume();
            let why = if window_reset { ResumeReason::WindowReset } else { ResumeReason::AboveThreshold };
            return vec![Action::Resume { remaining, why }];
        }
        Vec::new()
    }

    fn on_failure(&mut self, now: DateTime<Utc>, error: &ReadError, policy: &Policy) {
        self.last_attempt_at = Some(now);
        self.last_error = Some(error.to_string());
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        let exponent = self.consecutive_failures.saturating_sub(1).min(16);
        let grown = policy.interval_secs.saturating_mul(1u64 << exponent).min(BACKOFF_CAP_SECS.max(policy.interval_secs));
        self.backoff_secs = grown.max(error.retry_after_secs().unwrap_or(0));
        self.next_read_at = Some(now + secs(self.backoff_secs));
    }

    fn on_usage_limit(&mut self, now: DateTime<Utc>, resets_at: Option<DateTime<Utc>>, source: &str) -> Vec<Action> {
        // A limit notice whose reset has passed is history, not news.
        if resets_at.is_some_and(|r| r <= now) || (resets_at.is_some() && resets_at <= self.handled_limit_reset) {
            return self.resume_if_window_reset(now);
        }
        if resets_at.is_some() {
            self.handled_limit_reset = resets_at;
        }
        let reason = format!("MiniMax plan usage limit reached (2056, reported by {source})");
        let newly = !self.paused;
        self.pause(now, reason.clone(), resets_at.or(self.resume_at), None);
        self.held_until_reset = self.resume_at.is_some();
        if newly {
            vec![Action::Pause { reason, resume_at: self.resume_at, remaining: Some(0), percent: Some(0.0) }]
        } else {
            Vec::new()
        }
    }

    fn resume_if_window_reset(&mut self, now: DateTime<Utc>) -> Vec<Action> {
        if self.paused && self.resume_at.is_some_and(|r| now >= r) {
            self.resume();
            return vec![Action::Resume { remaining: None, why: ResumeReason::WindowReset }];
        }
        Vec::new()
    }

    fn pause(&mut self, now: DateTime<Utc>, reason: String, resume_at: Option<DateTime<Utc>>, reading: Option<QuotaReading>) {
        if !self.paused {
            self.paused_at = Some(now);
        }
        self.paused = true;
        self.reason = Some(reason);
        self.resume_at = resume_at;
        if reading.is_some() {
            self.reading = reading;
        }
    }

    fn resume(&mut self) {
        self.paused = false;
        self.held_until_reset = false;
        self.reason = None;
        self.paused_at = None;
        self.resume_at = None;
        self.reading = None;
    }
}

fn secs(n: u64) -> Duration {
    Duration::seconds(i64::try_from(n).unwrap_or(i64::MAX / 1000).min(10 * 365 * 86_400))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quota::reading::{CountMeaning, Endpoint, Window, WindowStatus};

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().with_timezone(&Utc)
    }

    fn reading(at: DateTime<Utc>, remaining: u64, resets_at: DateTime<Utc>) -> QuotaReading {
        QuotaReading {
            endpoint: Endpoint::TokenPlan,
            host: "h".into(),
            read_at: at,
            plan: None,
            model: Some("general".into()),
            five_hour: Some(Window {
                status: WindowStatus::Limited,
                total: Some(1500),
                remaining: Some(remaining),
                remaining_percent: Some(remaining as f64 * 100.0 / 1500.0),
                count_meaning: CountMeaning::Remaining,
                starts_at: None,
                resets_at: Some(resets_at),
                reset_note: None,
            }),
            weekly: None,
            balance: None,
        }
    }

    fn failure() -> ReadError {
        ReadError::Transport { host: "h".into(), detail: "connection refused".into() }
    }

    #[test]
    fn pauses_below_threshold_and_resumes_only_above_hysteresis() {
        let policy = Policy::new(QuotaThreshold::Count(100), 300);
        let reset = t0() + Duration::hours(5);
        let mut s = QuotaState::default();
        assert!(s.step(t0(), Observation::reading(reading(t0(), 500, reset)), &policy).is_empty());
        let actions = s.step(t0(), Observation::reading(reading(t0(), 99, reset)), &policy);
        assert!(matches!(&actions[..], [Action::Pause { remaining: Some(99), resume_at: Some(r), .. }] if *r == reset));
        assert!(s.work_paused_at(t0()));
        assert!(s.reason.as_deref().unwrap().contains("99 calls (below 100)"));
        // Back above the threshold but not above 150: stays paused, no repeat pause either.
        assert!(s.step(t0(), Observation::reading(reading(t0(), 120, reset)), &policy).is_empty());
        assert!(s.paused);
        let actions = s.step(t0(), Observation::reading(reading(t0(), 150, reset)), &policy);
        assert_eq!(actions, vec![Action::Resume { remaining: Some(150), why: ResumeReason::AboveThreshold }]);
        assert!(!s.paused && s.resume_at.is_none() && s.reading.is_none());
    }

    #[test]
    fn failures_never_pause_keep_the_reading_and_back_off() {
        let policy = Policy::new(QuotaThreshold::Count(100), 300);
        let mut s = QuotaState::default();
        s.step(t0(), Observation::reading(reading(t0(), 500, t0() + Duration::hours(5))), &policy);
        let kept = s.last_reading.clone();
        let mut delays = Vec::new();
        for i in 0..5 {
            let now = t0() + Duration::hours(i);
            assert!(s.step(now, Observation::Failed(failure()), &policy).is_empty());
            delays.push(s.backoff_secs);
        }
        assert_eq!(delays, vec![300, 600, 900, 900, 900]);
        assert!(!s.paused);
        assert_eq!(s.last_reading, kept);
        assert_eq!(s.consecutive_failures, 5);
        let rate_limited = ReadError::RateLimited { host: "h".into(), status: 429, retry_after_secs: Some(3600) };
        s.step(t0(), Observation::Failed(rate_limited), &policy);
        assert_eq!(s.next_read_at, Some(t0() + Duration::seconds(3600)));
        assert!(!s.read_due(t0() + Duration::seconds(3599)));
        assert!(s.read_due(t0() + Duration::seconds(3600)));
        s.step(t0(), Observation::reading(reading(t0(), 500, t0())), &policy);
        assert_eq!((s.consecutive_failures, s.backoff_secs, s.last_error.clone()), (0, 0, None));
    }

    #[test]
    fn poll_interval_is_respected() {
        let policy = Policy::new(QuotaThreshold::Count(100), 300);
        let mut s = QuotaState::default();
        assert!(s.read_due(t0()));
        s.step(t0(), Observation::reading(reading(t0(), 500, t0() + Duration::hours(5))), &policy);
        assert!(!s.read_due(t0() + Duration::seconds(299)));
        assert!(s.read_due(t0() + Duration::seconds(300)));
    }

    #[test]
    fn window_reset_resumes_even_without_a_reading() {
        let policy = Policy::new(QuotaThreshold::Percent(10.0), 300);
        let reset = t0() + Duration::hours(2);
        let mut s = QuotaState::default();
        s.step(t0(), Observation::reading(reading(t0(), 30, reset)), &policy);
        assert!(s.paused);
        assert!(s.step(reset - Duration::seconds(1), Observation::Nothing, &policy).is_empty());
        assert!(!s.work_paused_at(reset), "the window has reset, work may go on");
        assert!(s.read_due(reset));
        let actions = s.step(reset, Observation::Failed(failure()), &policy);
        assert_eq!(actions, vec![Action::Resume { remaining: None, why: ResumeReason::WindowReset }]);
    }

    #[test]
    fn usage_limit_notice_pauses_until_its_reset() {
        let policy = Policy::new(QuotaThreshold::Count(100), 300);
        let reset = t0() + Duration::hours(1);
        let mut s = QuotaState::default();
        let stale = s.step(t0(), Observation::UsageLimit { resets_at: Some(t0() - Duration::hours(1)), source: "log".into() }, &policy);
        assert!(stale.is_empty() && !s.paused);
        let actions = s.step(t0(), Observation::UsageLimit { resets_at: Some(reset), source: "OpenClaw log".into() }, &policy);
        assert!(matches!(&actions[..], [Action::Pause { resume_at: Some(r), .. }] if *r == reset));
        let again = s.step(t0(), Observation::UsageLimit { resets_at: Some(reset), source: "OpenClaw log".into() }, &policy);
        assert!(again.is_empty(), "one notice pauses once");
        assert!(s.step(reset, Observation::Nothing, &policy).contains(&Action::Resume { remaining: None, why: ResumeReason::WindowReset }));
        s.step(reset, Observation::reading(reading(reset, 1500, reset + Duration::hours(5))), &policy);
        assert!(s.step(reset, Observation::UsageLimit { resets_at: Some(reset - Duration::seconds(1)), source: "log".into() }, &policy).is_empty());
        assert!(!s.paused);
    }

    #[test]
    fn a_2056_pause_holds_until_the_reset_whatever_remains_says() {
        let policy = Policy::new(QuotaThreshold::Count(100), 300);
        let reset = t0() + Duration::hours(2);
        let mut s = QuotaState::default();
        s.step(t0(), Observation::UsageLimit { resets_at: Some(reset), source: "tool".into() }, &policy);
        assert!(s.step(t0(), Observation::reading(reading(t0(), 1400, reset)), &policy).is_empty());
        assert!(s.paused && s.held_until_reset);
        let actions = s.step(reset, Observation::reading(reading(reset, 1500, reset + Duration::hours(5))), &policy);
        assert_eq!(actions, vec![Action::Resume { remaining: Some(1500), why: ResumeReason::WindowReset }], "the held pause ends because its window reset");
        assert!(!s.held_until_reset);
    }

    #[test]
    fn empty_balance_pauses_and_a_top_up_resumes() {
        let policy = Policy::new(QuotaThreshold::Count(100), 300);
        let balance = |available: f64| QuotaReading {
            endpoint: Endpoint::Balance,
            host: "h".into(),
            read_at: t0(),
            plan: Some("pay-as-you-go".into()),
            model: None,
            five_hour: None,
            weekly: None,
            balance: Some(crate::quota::reading::Balance { available, parts: serde_json::Map::new() }),
        };
        let mut s = QuotaState::default();
        assert!(s.step(t0(), Observation::reading(balance(3.0)), &policy).is_empty());
        let actions = s.step(t0(), Observation::reading(balance(0.0)), &policy);
        assert!(matches!(&actions[..], [Action::Pause { resume_at: None, .. }]));
        assert!(s.work_paused_at(t0() + Duration::days(30)), "no reset time: only a top-up ends it");
        assert_eq!(s.step(t0(), Observation::reading(balance(10.0)), &policy).len(), 1);
        assert!(!s.paused);
    }

    #[test]
    fn percent_only_reading_against_a_count_threshold_pauses_only_when_exhausted() {
        let mut r = reading(t0(), 0, t0());
        let w = r.five_hour.as_mut().unwrap();
        (w.total, w.remaining, w.remaining_percent) = (None, None, Some(3.0));
        assert!(!assess(&r, QuotaThreshold::Count(100)).below);
        assert!(assess(&r, QuotaThreshold::Percent(5.0)).below);
        r.five_hour.as_mut().unwrap().remaining_percent = Some(0.0);
        assert!(assess(&r, QuotaThreshold::Count(100)).below);
    }

    #[test]
    fn hysteresis_levels() {
        assert_eq!(Policy::new(QuotaThreshold::Count(100), 1).resume_level(), QuotaThreshold::Count(150));
        assert_eq!(Policy::new(QuotaThreshold::Count(0), 1).resume_level(), QuotaThreshold::Count(1));
        assert_eq!(Policy::new(QuotaThreshold::Percent(10.0), 1).resume_level(), QuotaThreshold::Percent(15.0));
        assert_eq!(Policy::new(QuotaThreshold::Percent(90.0), 1).resume_level(), QuotaThreshold::Percent(100.0));
    }
}
