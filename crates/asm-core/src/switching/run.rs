//! The monitor's side of switching: each round, the plan says which sessions crossed the
//! threshold and which switches are unfinished; each of them is switched through the one
//! switching path, `session_manager --switch` run as a child (so a switch by hand and by the
//! monitor are the same code), and finished switches of sessions back under the threshold
//! are re-armed.

use super::plan::{plan, Policy};
use super::record::SwitchState;
use super::SwitchingError;
use crate::clock::Clock;
use crate::session::{Platform, SessionInfo};
use crate::tools::{Tool, ToolRun, Tools};
use crate::Runtime;
use std::time::Duration;

/// A switch may take an extraction (with a platform summary) and a model turn or two.
const SWITCH_TIMEOUT: Duration = Duration::from_secs(1_800);

/// What a round did, for the monitor's log and summary.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RoundOutcome {
    pub started: usize,
    pub resumed: usize,
    pub switched: usize,
    pub failed: usize,
    pub rearmed: usize,
    /// Over the threshold again inside the cooldown after their last switch.
    pub cooling: usize,
}

/// Acts on this round's session list.
pub fn act(rt: &Runtime, clock: &dyn Clock, tools: &dyn Tools, sessions: &[SessionInfo]) -> Result<RoundOutcome, SwitchingError> {
    let state: SwitchState = rt.state().section::<SwitchState>()?.migrated();
    let policy = Policy { threshold: rt.config.context_threshold, cooldown: chrono::Duration::seconds(rt.config.switch_cooldown as i64), now: clock.now() };
    let todo = plan(sessions, &state, policy);
    let mut outcome = RoundOutcome { rearmed: todo.rearm.len(), cooling: todo.cooling.len(), ..RoundOutcome::default() };
    for (s, until) in &todo.cooling {
        log::info!(
            "{} session {} is over the threshold again; its next switch waits until {until} (ASM_SWITCH_COOLDOWN)",
            s.platform.display_name(),
            s.short_label()
        );
    }
    if !todo.rearm.is_empty() {
        let rearm = todo.rearm.clone();
        rt.state().update(|s: &mut SwitchState| {
            *s = std::mem::take(s).migrated();
            for key in &rearm {
                if let Some(r) = s.switches.get_mut(key) {
                    r.crossing_handled = false;
                }
            }
        })?;
        for key in &todo.rearm {
            log::info!("session {key} is below the threshold again; re-armed");
        }
    }
    for s in &todo.start {
        log::info!(
            "{} session {} at {:.1}% (threshold {}%): switching",
            s.platform.display_name(),
            s.short_label(),
            s.context_percent.unwrap_or_default(),
            rt.config.context_threshold
        );
        outcome.started += 1;
        tally(&mut outcome, &run_switch(tools, s.platform, &s.session_id));
    }
    for key in &todo.resume {
        let Some(r) = state.switches.get(key) else { continue };
        log::info!("carrying on the unfinished switch of {key}");
        outcome.resumed += 1;
        tally(&mut outcome, &run_switch(tools, r.platform, &r.session_id));
    }
    Ok(outcome)
}

fn run_switch(tools: &dyn Tools, platform: Platform, session_id: &str) -> ToolRun {
    let args = ["--switch", session_id, "--platform", platform.id(), "--trigger", "threshold", "--json"].map(String::from);
    tools.run(Tool::SessionManager, &args, SWITCH_TIMEOUT)
}

fn tally(outcome: &mut RoundOutcome, run: &ToolRun) {
    let switched = run.doc.as_ref().and_then(|d| d.get("switched")).and_then(|v| v.as_bool()).unwrap_or(false);
    if switched {
        outcome.switched += 1;
    } else {
        outcome.failed += 1;
        log::warn!("switch not done: {}", run.report.message.as_deref().unwrap_or("(no message)"));
    }
}
