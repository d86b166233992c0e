//! The monitor's side of switching: each round, the plan says which sessions crossed the
//! threshold and which switches are unfinished; each of them is switched through the one
//! switching path, `session_manager --switch` run as a child (so a switch by hand and by the
//! monitor are the same code), and finished switches of sessions back under the threshold
//! are re-armed. A round with more crossings than may start is reported as one digest.

use super::plan::{over, plan, Plan, Policy};
use super::record::SwitchState;
use super::SwitchingError;
use crate::clock::Clock;
use crate::notify::{Event, Notifier};
use crate::session::{Platform, SessionInfo};
use crate::tools::{Tool, ToolRun, Tools};
use crate::Runtime;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A switch may take an extraction (with a platform summary) and a model turn or two.
const SWITCH_TIMEOUT: Duration = Duration::from_secs(1_800);

/// What a round saw and did, for the monitor's summary.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundOutcome {
    pub sessions: usize,
    /// At or over the threshold by an exact number.
    pub over: usize,
    /// Of those, idle for longer than ASM_ACTIVE_WITHIN: listed, not acted on.
    pub idle_over: usize,
    /// Sessions idle for longer than ASM_ACTIVE_WITHIN that the listing passed over without
    /// measuring them (counted in `sessions`).
    #[serde(default)]
    pub idle_not_measured: usize,
    pub started: usize,
    pub resumed: usize,
    pub switched: usize,
    pub failed: usize,
    pub rearmed: usize,
    /// Over the threshold again inside the cooldown after their last switch.
    pub cooling: usize,
    /// Due, but beyond ASM_MAX_SWITCHES_PER_ROUND: next round.
    pub deferred: usize,
}

/// Acts on this round's session list.
pub fn act(rt: &Runtime, clock: &dyn Clock, tools: &dyn Tools, sessions: &[SessionInfo]) -> Result<RoundOutcome, SwitchingError> {
    let state: SwitchState = rt.state().section::<SwitchState>()?.migrated();
    let policy = policy(rt, clock);
    let todo = plan(sessions, &state, policy);
    let mut outcome = RoundOutcome {
        sessions: sessions.len(),
        over: sessions.iter().filter(|s| over(s, policy.threshold)).count(),
        idle_over: todo.idle.len(),
        rearmed: todo.rearm.len(),
        cooling: todo.cooling.len(),
        deferred: todo.deferred.len(),
        ..RoundOutcome::default()
    };
    rearm(rt, &todo)?;
    for (s, until) in &todo.cooling {
        log::info!(
            "{} session {} is over the threshold again; its next switch waits until {} (ASM_SWITCH_COOLDOWN)",
            s.platform.display_name(),
            s.short_label(),
            crate::timefmt::local(*until)
        );
    }
    let digest = todo.is_digest(policy.max_starts);
    let mut digest_lines = (Vec::new(), Vec::new());
    for s in &todo.start {
        log::info!(
            "{} session {} at {:.1}% (threshold {}%): switching",
            s.platform.display_name(),
            s.short_label(),
            s.context_percent.unwrap_or_default(),
            policy.threshold
        );
        outcome.started += 1;
        let run = run_switch(tools, s.platform, &s.session_id, !digest);
        let line = format!("{} {} ({:.0}%)", s.platform.display_name(), s.short_label(), s.context_percent.unwrap_or_default());
        match tally(&mut outcome, &run) {
            true => digest_lines.0.push(line),
            false => digest_lines.1.push(line),
        }
    }
    if !todo.deferred.is_empty() {
        log::info!("{} more sessions over the threshold wait for the next rounds (ASM_MAX_SWITCHES_PER_ROUND={})", todo.deferred.len(), policy.max_starts);
    }
    if digest {
        let (switched, failed) = digest_lines;
        Notifier::new(rt).emit(&Event::SwitchDigest { threshold: policy.threshold, switched, failed, waiting: todo.deferred.len() });
    }
    for key in &todo.resume {
        let Some(r) = state.switches.get(key) else { continue };
        log::info!("carrying on the unfinished switch of {key}");
        outcome.resumed += 1;
        tally(&mut outcome, &run_switch(tools, r.platform, &r.session_id, true));
    }
    Ok(outcome)
}

fn policy(rt: &Runtime, clock: &dyn Clock) -> Policy {
    let c = &rt.config;
    Policy {
        threshold: c.context_threshold,
        cooldown: chrono::Duration::seconds(c.switch_cooldown as i64),
        now: clock.now(),
        active_within: (c.active_within > 0).then(|| chrono::Duration::hours(c.active_within as i64)),
        max_starts: c.max_switches_per_round as usize,
    }
}

fn rearm(rt: &Runtime, todo: &Plan) -> Result<(), SwitchingError> {
    if todo.rearm.is_empty() {
        return Ok(());
    }
    let keys = todo.rearm.clone();
    rt.state().update(|s: &mut SwitchState| {
        *s = std::mem::take(s).migrated();
        for key in &keys {
            if let Some(r) = s.switches.get_mut(key) {
                r.crossing_handled = false;
            }
        }
    })?;
    for key in &todo.rearm {
        log::info!("session {key} is below the threshold again; re-armed");
    }
    Ok(())
}

fn run_switch(tools: &dyn Tools, platform: Platform, session_id: &str, notice: bool) -> ToolRun {
    let mut args: Vec<String> = ["--switch", session_id, "--platform", platform.id(), "--trigger", "threshold", "--json"].map(String::from).to_vec();
    if !notice {
        args.push("--no-notice".into());
    }
    tools.run(Tool::SessionManager, &args, SWITCH_TIMEOUT)
}

/// Counts the run; true when the session was switched.
fn tally(outcome: &mut RoundOutcome, run: &ToolRun) -> bool {
    let switched = run.doc.as_ref().and_then(|d| d.get("switched")).and_then(|v| v.as_bool()).unwrap_or(false);
    if switched {
        outcome.switched += 1;
    } else {
        outcome.failed += 1;
        log::warn!("switch not done: {}", run.report.message.as_deref().unwrap_or("(no message)"));
    }
    switched
}
