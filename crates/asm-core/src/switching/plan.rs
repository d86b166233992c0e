//! The monitor's switching decision, pure: which sessions to switch this round, which
//! unfinished switches to carry on, and which records to re-arm.
//!
//! A session triggers once per crossing: when its exact (not estimated) percent reaches the
//! threshold it is switched, and it triggers again only after it has dropped back below
//! (after its switch, or the platform's own compaction). A switch that did not finish — a
//! step failed, or waits for the model quota — is carried on every round until it does,
//! whatever the session's percent now (an OpenClaw session is fresh and low once reset, but
//! its seed may still be due).

use super::record::{key_of, SwitchState};
use crate::session::SessionInfo;
use std::collections::BTreeSet;

/// This round's work.
#[derive(Debug, Default, PartialEq)]
pub struct Plan<'a> {
    /// Over the threshold, crossing not handled yet: start their switch.
    pub start: Vec<&'a SessionInfo>,
    /// Keys of switches that started and did not finish: carry them on.
    pub resume: Vec<String>,
    /// Keys of finished switches whose session is below the threshold again (or gone): the
    /// next crossing triggers again.
    pub rearm: Vec<String>,
}

/// Whether a session is at or over the threshold, by an exact number.
pub fn over(s: &SessionInfo, threshold: u8) -> bool {
    !s.estimated && s.context_percent.is_some_and(|p| p >= f64::from(threshold))
}

pub fn plan<'a>(sessions: &'a [SessionInfo], state: &SwitchState, threshold: u8) -> Plan<'a> {
    let mut plan = Plan::default();
    for s in sessions.iter().filter(|s| over(s, threshold)) {
        let handled = state.switches.get(&key_of(s.platform, &s.session_id)).is_some_and(|r| r.crossing_handled);
        if !handled {
            plan.start.push(s);
        }
    }
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
        let p = plan(&sessions, &SwitchState::default(), 80);
        assert_eq!(p.start.iter().map(|s| s.session_id.as_str()).collect::<Vec<_>>(), ["a"]);
        let state = SwitchState::of([record(&sessions[0], true)].into());
        let p = plan(&sessions, &state, 80);
        assert!(p.start.is_empty() && p.resume.is_empty() && p.rearm.is_empty(), "{p:?}");
    }

    #[test]
    fn rearms_after_the_session_drops_below_or_disappears() {
        let low = vec![session(Platform::ClaudeCode, "a", Some(12.0), false)];
        let gone = session(Platform::Opencode, "gone", None, false);
        let state = SwitchState::of([record(&low[0], true), record(&gone, true)].into());
        assert_eq!(plan(&low, &state, 80).rearm, ["claude-code:a", "opencode:gone"]);
        let mut rearmed = state.clone();
        rearmed.switches.values_mut().for_each(|r| r.crossing_handled = false);
        assert!(plan(&low, &rearmed, 80).rearm.is_empty(), "re-armed once");
        let over = vec![session(Platform::ClaudeCode, "a", Some(90.0), false)];
        assert_eq!(plan(&over, &rearmed, 80).start.len(), 1, "the next crossing triggers again");
    }

    #[test]
    fn an_unfinished_switch_is_carried_on_whatever_the_percent_and_never_restarted() {
        let fresh = vec![session(Platform::Openclaw, "k", Some(0.0), false)];
        let state = SwitchState::of([record(&fresh[0], false)].into());
        let p = plan(&fresh, &state, 80);
        assert_eq!((p.resume.clone(), p.rearm.len(), p.start.len()), (vec!["openclaw:k".to_string()], 0, 0));
        let over = vec![session(Platform::Openclaw, "k", Some(90.0), false)];
        assert!(plan(&over, &state, 80).start.is_empty(), "never a second start while one runs");
    }
}
