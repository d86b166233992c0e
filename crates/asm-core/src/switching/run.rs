//! Carrying out a switching plan: extraction through `memory_manager` (a child process, so it
//! stays runnable on its own), the OpenClaw switch, the feed notification, and the record in
//! the `switching` section of the state file.

use super::plan::{key_of, plan, switches_itself, Handled, SwitchState};
use crate::clock::Clock;
use crate::notify::{Event, Notifier};
use crate::session::SessionInfo;
use crate::supervision::run_tool;
use crate::Runtime;
use std::time::Duration;

pub const SECTION: &str = "switching";

/// Acts on this round's session list.
pub fn act(rt: &Runtime, clock: &dyn Clock, sessions: &[SessionInfo]) -> crate::Result<()> {
    let state: SwitchState = rt.state().section(SECTION)?;
    let paused = crate::quota::work_paused(rt);
    let todo = plan(sessions, &state, rt.config.context_threshold, paused);
    for key in &todo.rearm {
        log::info!("session {key} is below the threshold again; re-armed");
    }
    let rearm = todo.rearm.clone();
    rt.state().update(SECTION, |s: &mut SwitchState| rearm.iter().for_each(|k| drop(s.handled.remove(k))))?;
    for s in todo.extract {
        let handled = extract(rt, clock, s);
        let ready_to_switch = handled.extracted && !handled.switched && !paused;
        record(rt, s, handled)?;
        if ready_to_switch {
            switch(rt, s)?;
        } else if paused && switches_itself(s) {
            log::info!("switch of {} waits: model work is paused", s.short_label());
        }
    }
    for s in todo.switch {
        switch(rt, s)?;
    }
    for key in &todo.seed {
        seed(rt, key)?;
    }
    Ok(())
}

fn extract(rt: &Runtime, clock: &dyn Clock, s: &SessionInfo) -> Handled {
    let percent = s.context_percent.unwrap_or_default();
    log::info!(
        "{} session {} at {percent:.1}% (threshold {}%): extracting its key information",
        s.platform.display_name(),
        s.short_label(),
        rt.config.context_threshold
    );
    let args = ["--action", "extract", "--session-id", &s.session_id, "--platform", s.platform.id(), "--json"].map(String::from).to_vec();
    let (report, _) = run_tool(rt, "memory_manager", args, Duration::from_secs(300));
    let memory_path = rt.paths.memory_dir().join(format!("{}.json", s.session_id));
    let extracted = report.ok && memory_path.is_file();
    if !extracted {
        log::warn!("extraction of {} failed: {}", s.short_label(), report.message.as_deref().unwrap_or("no memory file written"));
    }
    let switched = extracted && !switches_itself(s);
    if switched {
        notify_switch(rt, s, &memory_path);
    }
    Handled {
        platform: s.platform,
        percent,
        at: clock.now(),
        extracted,
        switched,
        memory_path: extracted.then(|| memory_path.display().to_string()),
        last_error: (!extracted).then(|| report.message.unwrap_or_default()),
        seed_pending: None,
    }
}

/// Resets the session, then seeds it. A failed reset is retried next round from the start;
/// a failed seed is retried on its own (see [`seed`]).
fn switch(rt: &Runtime, s: &SessionInfo) -> crate::Result<()> {
    let key = key_of(s);
    let memory_path = rt.paths.memory_dir().join(format!("{}.json", s.session_id));
    match super::openclaw::reset_session(rt, s, &memory_path) {
        Ok(pending) => {
            log::info!("OpenClaw session {} reset; seeding the fresh session with its summary", s.short_label());
            rt.state().update(SECTION, |st: &mut SwitchState| {
                if let Some(h) = st.handled.get_mut(&key) {
                    h.seed_pending = Some(pending);
                    h.last_error = None;
                }
            })?;
            seed(rt, &key)
        }
        Err(e) => {
            log::warn!("switch of {} failed, will retry next round: {e}", s.short_label());
            let error = e.to_string();
            rt.state()
                .update(SECTION, |st: &mut SwitchState| {
                    if let Some(h) = st.handled.get_mut(&key) {
                        h.last_error = Some(error);
                    }
                })
                .map_err(Into::into)
        }
    }
}

/// Seeds the fresh session of a reset one and, once that worked, tells the feed.
fn seed(rt: &Runtime, key: &str) -> crate::Result<()> {
    let state: SwitchState = rt.state().section(SECTION)?;
    let Some(h) = state.handled.get(key) else { return Ok(()) };
    let (Some(pending), Some(memory_path)) = (h.seed_pending.clone(), h.memory_path.clone()) else { return Ok(()) };
    let result = super::openclaw::seed_session(rt, &pending, std::path::Path::new(&memory_path));
    let error = result.as_ref().err().map(|e| e.to_string());
    match &error {
        None => {
            log::info!("OpenClaw session {} switched to a fresh session seeded with its summary", pending.key);
            Notifier::new(rt).emit(&Event::ContextSwitch {
                platform: h.platform,
                percent: h.percent,
                session: pending.key.clone(),
                title: pending.title.clone(),
                memory_path,
            });
        }
        Some(e) => log::warn!("seeding the fresh session of {} failed, will retry next round: {e}", pending.key),
    }
    rt.state().update(SECTION, |st: &mut SwitchState| {
        if let Some(h) = st.handled.get_mut(key) {
            h.switched = error.is_none();
            if h.switched {
                h.seed_pending = None;
            }
            h.last_error = error;
        }
    })?;
    Ok(())
}

fn record(rt: &Runtime, s: &SessionInfo, handled: Handled) -> crate::Result<()> {
    rt.state().update(SECTION, |st: &mut SwitchState| {
        st.handled.insert(key_of(s), handled);
    })?;
    Ok(())
}

fn notify_switch(rt: &Runtime, s: &SessionInfo, memory_path: &std::path::Path) {
    Notifier::new(rt).emit(&Event::ContextSwitch {
        platform: s.platform,
        percent: s.context_percent.unwrap_or_default(),
        session: s.short_label(),
        title: s.title.clone().or_else(|| s.cwd.clone()),
        memory_path: memory_path.display().to_string(),
    });
}
