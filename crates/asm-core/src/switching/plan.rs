//! The switching decision, pure: which sessions to act on this round.
//!
//! A session triggers once per crossing: it is acted on when its (exact, not estimated)
//! percent reaches the threshold, and re-armed only when it has dropped back below it (after a
//! switch, or the platform's own compaction). OpenClaw switches make a model call (the seeding
//! turn), so while work is paused they wait; extraction never waits. A switch is two steps: once
//! the reset is done the fresh session is below the threshold, so a seed still due is carried
//! by its own record ([`Handled::pending`]) until it succeeds, and never re-armed before.

use crate::session::{Platform, SessionInfo};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What was done for one session at its latest crossing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Handled {
    pub platform: Platform,
    pub percent: f64,
    pub at: DateTime<Utc>,
    /// The memory file was written.
    pub extracted: bool,
    /// The platform switch is done (always true for platforms ASM does not switch itself).
    pub switched: bool,
    pub memory_path: Option<String>,
    pub last_error: Option<String>,
    /// The first step of the platform's switch is done and the second is still due; what the
    /// adapter needs for it (OpenClaw: the key and where the seed's reply goes).
    #[serde(default, alias = "seed_pending", skip_serializing_if = "Option::is_none")]
    pub pending: Option<serde_json::Value>,
}

/// The `switching` section of the state file: sessions handled, keyed by `platform:session_id`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SwitchState {
    pub handled: BTreeMap<String, Handled>,
}

impl crate::state::Section for SwitchState {
    const NAME: &'static str = "switching";
}

/// This round's work.
#[derive(Debug, Default, PartialEq)]
pub struct Plan<'a> {
    /// Over the threshold and not yet extracted at this crossing.
    pub extract: Vec<&'a SessionInfo>,
    /// Extracted OpenClaw sessions whose switch (reset, then seed) is still due (and work is not paused).
    pub switch: Vec<&'a SessionInfo>,
    /// Keys of handled sessions reset but not yet seeded (when work is not paused).
    pub seed: Vec<String>,
    /// Keys of handled sessions now below the threshold or gone, with no seed due: forget them.
    pub rearm: Vec<String>,
}

pub fn key_of(s: &SessionInfo) -> String {
    format!("{}:{}", s.platform, s.session_id)
}

/// Whether ASM itself switches this session (its adapter says so).
pub fn switches_itself(s: &SessionInfo) -> bool {
    crate::platform::adapter(s.platform).switches_itself(s)
}

pub fn plan<'a>(sessions: &'a [SessionInfo], state: &SwitchState, threshold: u8, work_paused: bool) -> Plan<'a> {
    let over = |s: &SessionInfo| !s.estimated && s.context_percent.is_some_and(|p| p >= f64::from(threshold));
    let mut plan = Plan::default();
    for s in sessions.iter().filter(|s| over(s)) {
        match state.handled.get(&key_of(s)) {
            None => plan.extract.push(s),
            Some(h) if !h.extracted => plan.extract.push(s),
            Some(h) if !h.switched && h.pending.is_none() && switches_itself(s) && !work_paused => plan.switch.push(s),
            Some(_) => {}
        }
    }
    let seed_due = |h: &Handled| !h.switched && h.pending.is_some();
    if !work_paused {
        plan.seed = state.handled.iter().filter(|(_, h)| seed_due(h)).map(|(k, _)| k.clone()).collect();
    }
    let still_over: std::collections::BTreeSet<String> = sessions.iter().filter(|s| over(s)).map(key_of).collect();
    plan.rearm = state.handled.iter().filter(|(k, h)| !still_over.contains(*k) && !seed_due(h)).map(|(k, _)| k.clone()).collect();
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(platform: Platform, id: &str, pct: Option<f64>, estimated: bool) -> SessionInfo {
        SessionInfo {
            key: (platform == Platform::Openclaw).then(|| format!("agent:main:telegram:group:-100:topic:{id}")),
            context_percent: pct,
            estimated,
            ..SessionInfo::bare(platform, id)
        }
    }

    fn handled(s: &SessionInfo, extracted: bool, switched: bool) -> (String, Handled) {
        (key_of(s), Handled { platform: s.platform, percent: 85.0, at: Utc::now(), extracted, switched, memory_path: None, last_error: None, pending: None })
    }

    #[test]
    fn acts_once_per_crossing_on_exact_numbers_only() {
        let sessions = vec![
            session(Platform::ClaudeCode, "a", Some(80.0), false),
            session(Platform::ClaudeCode, "b", Some(79.9), false),
            session(Platform::Opencode, "c", Some(95.0), true),
            session(Platform::Opencode, "d", None, false),
        ];
        let p = plan(&sessions, &SwitchState::default(), 80, false);
        assert_eq!(p.extract.iter().map(|s| s.session_id.as_str()).collect::<Vec<_>>(), ["a"]);
        let state = SwitchState { handled: [handled(&sessions[0], true, true)].into() };
        let p = plan(&sessions, &state, 80, false);
        assert!(p.extract.is_empty() && p.switch.is_empty() && p.rearm.is_empty(), "{p:?}");
    }

    #[test]
    fn rearms_after_the_session_drops_below_or_disappears() {
        let low = vec![session(Platform::ClaudeCode, "a", Some(12.0), false)];
        let state = SwitchState { handled: [handled(&low[0], true, true), handled(&session(Platform::Opencode, "gone", None, false), true, true)].into() };
        let p = plan(&low, &state, 80, false);
        assert_eq!(p.rearm, ["claude-code:a", "opencode:gone"]);
    }

    #[test]
    fn openclaw_switch_waits_while_work_is_paused_but_extraction_does_not() {
        let s = vec![session(Platform::Openclaw, "k", Some(90.0), false)];
        let p = plan(&s, &SwitchState::default(), 80, true);
        assert_eq!(p.extract.len(), 1);
        let state = SwitchState { handled: [handled(&s[0], true, false)].into() };
        assert!(plan(&s, &state, 80, true).switch.is_empty());
        assert_eq!(plan(&s, &state, 80, false).switch.len(), 1);
    }

    #[test]
    fn failed_extraction_is_retried_next_round() {
        let s = vec![session(Platform::Opencode, "x", Some(81.0), false)];
        let state = SwitchState { handled: [handled(&s[0], false, false)].into() };
        assert_eq!(plan(&s, &state, 80, false).extract.len(), 1);
    }

    #[test]
    fn a_reset_session_waits_for_its_seed_below_the_threshold_and_is_not_reset_again() {
        let fresh = vec![session(Platform::Openclaw, "k", Some(0.0), false)];
        let (key, mut h) = handled(&fresh[0], true, false);
        h.pending = Some(serde_json::json!({"key": fresh[0].key, "delivery": {"kind": "session_route"}}));
        let state = SwitchState { handled: [(key.clone(), h.clone())].into() };
        let p = plan(&fresh, &state, 80, false);
        assert_eq!((p.seed.clone(), p.rearm.clone(), p.switch.len()), (vec![key.clone()], vec![], 0));
        assert!(plan(&fresh, &state, 80, true).seed.is_empty(), "the seed is a model call: it waits while paused");
        let over = vec![session(Platform::Openclaw, "k", Some(90.0), false)];
        assert!(plan(&over, &state, 80, false).switch.is_empty(), "never a second reset");
        h.switched = true;
        let state = SwitchState { handled: [(key.clone(), h)].into() };
        assert_eq!(plan(&fresh, &state, 80, false).rearm, [key]);
    }
}
