//! The monitor's switching decision, pure: which sessions to switch this round, which
//! unfinished switches to carry on, and which records to re-arm.
//!
//! A session triggers once per crossing: when its exact (not estimated) percent reaches the
//! threshold it is switched, and it triggers again only after it has dropped back below
//! (after its switch, or the platform's own compaction). A switch that did not finish — a
//! step failed, or waits for the model quota — is carried on every round until it does,
//! whatever the session's percent now (an OpenClaw session is fresh and low once reset, but
//! its seed may still be due). A session that crosses again within the cooldown after its
//! last switch waits (a switch loop would burn the quota on seeds and summaries).
//!
//! Only live sessions are acted on: one idle for longer than `active_within` is over the
//! threshold in the list but nobody is working in it (a month-old history is not an
//! emergency). At most `max_starts` switches start per round, fullest first; the others wait
//! for the next rounds, and such a round is reported as one digest instead of a notice each.

use super::record::{key_of, SwitchState};
use crate::session::SessionInfo;
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeSet;

/// This round's work.
#[derive(Debug, Default, PartialEq)]
pub struct Plan<'a> {
    /// Over the threshold, crossing not handled yet: start their switch.
    pub start: Vec<&'a SessionInfo>,
    /// Over the threshold again, but switched less than the cooldown ago: wait until then.
    pub cooling: Vec<(&'a SessionInfo, DateTime<Utc>)>,
    /// Over the threshold but idle for longer than `active_within`: never acted on.
    pub idle: Vec<&'a SessionInfo>,
    /// Over the threshold, due, but beyond this round's `max_starts`: next round.
    pub deferred: Vec<&'a SessionInfo>,
    /// Keys of switches that started and did not finish: carry them on.
    pub resume: Vec<String>,
    /// Keys of finished switches whose session is below the threshold again (or gone): the
    /// next crossing triggers again.
    pub rearm: Vec<String>,
}

/// Whether a session is at or over the threshold, by an exact and believable number.
pub fn over(s: &SessionInfo, threshold: u8) -> bool {
    !s.estimated && !s.doubtful && s.context_percent.is_some_and(|p| p >= f64::from(threshold))
}

/// When to act on sessions: the threshold, and how long a switched session waits before its
/// next switch.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub threshold: u8,
    pub cooldown: Duration,
    pub now: DateTime<Utc>,
    /// Sessions whose last activity is older than this are not acted on; None: no limit.
    pub active_within: Option<Duration>,
    /// Switches started per round at most.
    pub max_starts: usize,
}

impl Policy {
    /// Whether a session was active recently enough to act on (unknown activity is not).
    fn live(&self, s: &SessionInfo) -> bool {
        match self.active_within {
            None => true,
            Some(within) => s.updated_at.is_some_and(|at| self.now - at <= within),
        }
    }
}

impl Plan<'_> {
    /// More sessions crossed than may start this round: one digest notice for the round.
    pub fn is_digest(&self, max_starts: usize) -> bool {
        self.start.len() + self.deferred.len() > max_starts
    }
}

pub fn plan<'a>(sessions: &'a [SessionInfo], state: &SwitchState, policy: Policy) -> Plan<'a> {
    let threshold = policy.threshold;
    let mut plan = Plan::default();
    for s in sessions.iter().filter(|s| over(s, threshold)) {
        let record = state.switches.get(&key_of(s.platform, &s.session_id));
        if record.is_some_and(|r| r.crossing_handled || !r.is_finished()) {
            continue;
        }
        if !policy.live(s) {
            plan.idle.push(s);
            continue;
        }
        let cooled_at = record.and_then(|r| r.finished_at).map(|t| t + policy.cooldown).filter(|until| *until > policy.now);
        match cooled_at {
            Some(until) => plan.cooling.push((s, until)),
            None => plan.start.push(s),
        }
    }
    plan.start.sort_by(|a, b| b.context_percent.unwrap_or_default().total_cmp(&a.context_percent.unwrap_or_default()));
    let beyond = plan.start.split_off(plan.start.len().min(policy.max_starts));
    plan.deferred = beyond;
    plan.resume = state.switches.iter().filter(|(_, r)| !r.is_finished()).map(|(k, _)| k.clone()).collect();
    let still_over: BTreeSet<String> = sessions.iter().filter(|s| over(s, threshold)).map(|s| key_of(s.platform, &s.session_id)).collect();
    plan.rearm = state.switches.iter().filter(|(k, r)| r.is_finished() && r.crossing_handled && !still_over.contains(*k)).map(|(k, _)| k.clone()).collect();
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Platform;
    use crate::switching::record::{SwitchRecord, Trigger};
    use chrono::Utc;

    fn session(platform: Platform, id: &str, pct: Option<f64>, estimated: bool) -> SessionInfo {
        SessionInfo { context_percent: pct, estimated, ..SessionInfo::bare(platform, id) }
    }

    fn at(threshold: u8) -> Policy {
        Policy { threshold, cooldown: Duration::zero(), now: Utc::now(), active_within: None, max_starts: 100 }
    }

    fn record(s: &SessionInfo, finished: bool) -> (String, SwitchRecord) {
        let mut r = SwitchRecord::new(s.platform, &s.session_id, Trigger::Threshold, Utc::now());
        if finished {
            r.finished_at = Some(Utc::now());
        }
        (key_of(s.platform, &s.session_id), r)
    }

    #[test]
    fn acts_once_per_crossing_on_exact_numbers_only() {
        let sessions = vec![
            session(Platform::ClaudeCode, "a", Some(80.0), false),
            session(Platform::ClaudeCode, "b", Some(79.9), false),
            session(Platform::Opencode, "c", Some(95.0), true),
            session(Platform::Opencode, "d", None, false),
        ];
        let p = plan(&sessions, &SwitchState::default(), at(80));
        assert_eq!(p.start.iter().map(|s| s.session_id.as_str()).collect::<Vec<_>>(), ["a"]);
        let state = SwitchState::of([record(&sessions[0], true)].into());
        let p = plan(&sessions, &state, at(80));
        assert!(p.start.is_empty() && p.resume.is_empty() && p.rearm.is_empty(), "{p:?}");
    }

    #[test]
    fn rearms_after_the_session_drops_below_or_disappears() {
        let low = vec![session(Platform::ClaudeCode, "a", Some(12.0), false)];
        let gone = session(Platform::Opencode, "gone", None, false);
        let state = SwitchState::of([record(&low[0], true), record(&gone, true)].into());
        assert_eq!(plan(&low, &state, at(80)).rearm, ["claude-code:a", "opencode:gone"]);
        let mut rearmed = state.clone();
        rearmed.switches.values_mut().for_each(|r| r.crossing_handled = false);
        assert!(plan(&low, &rearmed, at(80)).rearm.is_empty(), "re-armed once");
        let over = vec![session(Platform::ClaudeCode, "a", Some(90.0), false)];
        assert_eq!(plan(&over, &rearmed, at(80)).start.len(), 1, "the next crossing triggers again");
    }

    #[test]
    fn an_unfinished_switch_is_carried_on_whatever_the_percent_and_never_restarted() {
        let fresh = vec![session(Platform::Openclaw, "k", Some(0.0), false)];
        let state = SwitchState::of([record(&fresh[0], false)].into());
        let p = plan(&fresh, &state, at(80));
        assert_eq!((p.resume.clone(), p.rearm.len(), p.start.len()), (vec!["openclaw:k".to_string()], 0, 0));
        let over = vec![session(Platform::Openclaw, "k", Some(90.0), false)];
        assert!(plan(&over, &state, at(80)).start.is_empty(), "never a second start while one runs");
    }

    #[test]
    fn a_session_switched_within_the_cooldown_waits_for_its_end() {
        let over = vec![session(Platform::Openclaw, "k", Some(90.0), false)];
        let (key, mut r) = record(&over[0], true);
        r.crossing_handled = false;
        let finished = r.finished_at.unwrap();
        let state = SwitchState::of([(key, r)].into());
        let policy = Policy { cooldown: Duration::minutes(30), now: finished + Duration::minutes(10), ..at(80) };
        let p = plan(&over, &state, policy);
        assert!(p.start.is_empty());
        assert_eq!(p.cooling.iter().map(|(_, until)| *until).collect::<Vec<_>>(), [finished + Duration::minutes(30)]);
        let later = Policy { now: finished + Duration::minutes(31), ..policy };
        assert_eq!(plan(&over, &state, later).start.len(), 1);
    }

    #[test]
    fn idle_sessions_are_listed_but_never_started() {
        let now = Utc::now();
        let fresh = SessionInfo { updated_at: Some(now - Duration::minutes(20)), ..session(Platform::ClaudeCode, "fresh", Some(95.0), false) };
        let old = SessionInfo { updated_at: Some(now - Duration::days(30)), ..session(Platform::ClaudeCode, "old", Some(180.0), false) };
        let unknown = session(Platform::ClaudeCode, "unknown", Some(90.0), false);
        let sessions = vec![fresh, old, unknown];
        let policy = Policy { now, active_within: Some(Duration::hours(6)), ..at(80) };
        let p = plan(&sessions, &SwitchState::default(), policy);
        assert_eq!(p.start.iter().map(|s| s.session_id.as_str()).collect::<Vec<_>>(), ["fresh"]);
        assert_eq!(p.idle.iter().map(|s| s.session_id.as_str()).collect::<Vec<_>>(), ["old", "unknown"]);
        assert_eq!(plan(&sessions, &SwitchState::default(), Policy { active_within: None, ..policy }).start.len(), 3, "0 = no limit");
    }

    #[test]
    fn at_most_max_starts_switches_start_fullest_first_and_the_round_is_a_digest() {
        let sessions: Vec<SessionInfo> = (0..8).map(|i| session(Platform::Opencode, &format!("s{i}"), Some(81.0 + i as f64), false)).collect();
        let policy = Policy { max_starts: 5, ..at(80) };
        let p = plan(&sessions, &SwitchState::default(), policy);
        assert_eq!(p.start.iter().map(|s| s.session_id.as_str()).collect::<Vec<_>>(), ["s7", "s6", "s5", "s4", "s3"]);
        assert_eq!(p.deferred.len(), 3);
        assert!(p.is_digest(5));
        assert!(!plan(&sessions[..5], &SwitchState::default(), policy).is_digest(5), "five crossings: a notice each");
    }
}
