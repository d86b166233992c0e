//! Carrying out a switching plan: extraction through `memory_manager` (a child process, so it
//! stays runnable on its own), the platform's switch through its adapter, the feed
//! notification, and the record in the `switching` section of the state file.

use super::plan::{key_of, plan, switches_itself, Handled, SwitchState};
use super::SwitchingError;
use crate::clock::Clock;
use crate::memory::MemoryStore;
use crate::notify::{Event, Notifier};
use crate::platform::{adapter, SwitchError};
use crate::session::{Platform, SessionInfo};
use crate::tools::{Tool, Tools};
use crate::Runtime;
use std::path::PathBuf;
use std::time::Duration;

/// How long one extraction may take (a platform summary included).
const EXTRACT_TIMEOUT: Duration = Duration::from_secs(300);

/// Acts on this round's session list.
pub fn act(rt: &Runtime, clock: &dyn Clock, tools: &dyn Tools, sessions: &[SessionInfo]) -> Result<(), SwitchingError> {
    let state: SwitchState = rt.state().section()?;
    let paused = crate::quota::work_paused(rt);
    let todo = plan(sessions, &state, rt.config.context_threshold, paused);
    for key in &todo.rearm {
        log::info!("session {key} is below the threshold again; re-armed");
    }
    let rearm = todo.rearm.clone();
    rt.state().update(|s: &mut SwitchState| rearm.iter().for_each(|k| drop(s.handled.remove(k))))?;
    for s in todo.extract {
        let handled = extract(rt, clock, tools, s);
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
        finish(rt, key)?;
    }
    Ok(())
}

fn extract(rt: &Runtime, clock: &dyn Clock, tools: &dyn Tools, s: &SessionInfo) -> Handled {
    let percent = s.context_percent.unwrap_or_default();
    log::info!(
        "{} session {} at {percent:.1}% (threshold {}%): extracting its key information",
        s.platform.display_name(),
        s.short_label(),
        rt.config.context_threshold
    );
    let failed = |error: String| Handled {
        platform: s.platform,
        percent,
        at: clock.now(),
        extracted: false,
        switched: false,
        memory_path: None,
        last_error: Some(error),
        pending: None,
    };
    // The id comes from a child's JSON: it names a file only once the store has checked it.
    let memory_path = match MemoryStore::new(rt).path_of(&s.session_id) {
        Ok(path) => path,
        Err(e) => {
            log::warn!("extraction of {} refused: {e}", s.short_label());
            return failed(e.to_string());
        }
    };
    let args = ["--action", "extract", "--session-id", &s.session_id, "--platform", s.platform.id(), "--json"].map(String::from);
    let run = tools.run(Tool::MemoryManager, &args, EXTRACT_TIMEOUT);
    if !(run.report.ok && memory_path.is_file()) {
        let error = run.report.message.unwrap_or_else(|| "no memory file written".into());
        log::warn!("extraction of {} failed: {error}", s.short_label());
        return failed(error);
    }
    let switched = !switches_itself(s);
    if switched {
        notify_switch(rt, s.platform, percent, s.short_label(), s.title.clone().or_else(|| s.cwd.clone()), &memory_path);
    }
    Handled {
        platform: s.platform,
        percent,
        at: clock.now(),
        extracted: true,
        switched,
        memory_path: Some(memory_path.display().to_string()),
        last_error: None,
        pending: None,
    }
}

/// The platform's first step (OpenClaw: the reset), then the second. A failed first step is
/// retried next round from the start; a failed second step is retried on its own.
fn switch(rt: &Runtime, s: &SessionInfo) -> Result<(), SwitchingError> {
    let key = key_of(s);
    match adapter(s.platform).begin_switch(rt, s) {
        Ok(pending) => {
            log::info!("{} session {} made room for a fresh session; handing it the summary", s.platform.display_name(), s.short_label());
            rt.state().update(|st: &mut SwitchState| {
                if let Some(h) = st.handled.get_mut(&key) {
                    h.pending = Some(pending);
                    h.last_error = None;
                }
            })?;
            finish(rt, &key)
        }
        Err(e) => {
            log::warn!("switch of {} failed, will retry next round: {e}", s.short_label());
            let error = e.to_string();
            rt.state().update(|st: &mut SwitchState| {
                if let Some(h) = st.handled.get_mut(&key) {
                    h.last_error = Some(error);
                }
            })?;
            Ok(())
        }
    }
}

/// The second step: the fresh session receives the handoff; once that worked, the feed hears of it.
fn finish(rt: &Runtime, key: &str) -> Result<(), SwitchingError> {
    let state: SwitchState = rt.state().section()?;
    let Some(h) = state.handled.get(key) else { return Ok(()) };
    let (Some(pending), Some(memory_path)) = (h.pending.clone(), h.memory_path.clone()) else { return Ok(()) };
    let platform = adapter(h.platform);
    let result = with_handoff_file(rt, key, |file| platform.finish_switch(rt, &pending, file));
    let error = result.as_ref().err().map(|e| e.to_string());
    match &error {
        None => {
            let (label, title) = platform.switched_label(&pending).unwrap_or_else(|| (key.to_string(), None));
            log::info!("{} session {label} switched to a fresh session that has its summary", h.platform.display_name());
            notify_switch(rt, h.platform, h.percent, label, title, &PathBuf::from(&memory_path));
        }
        Some(e) => log::warn!("handing the summary to the fresh session of {key} failed, will retry next round: {e}"),
    }
    rt.state().update(|st: &mut SwitchState| {
        if let Some(h) = st.handled.get_mut(key) {
            h.switched = error.is_none();
            if h.switched {
                h.pending = None;
            }
            h.last_error = error;
        }
    })?;
    Ok(())
}

/// Writes the session's handoff into a private file beside its memory for `use_file`, then
/// removes it.
fn with_handoff_file(rt: &Runtime, key: &str, use_file: impl FnOnce(&std::path::Path) -> Result<(), SwitchError>) -> Result<(), SwitchError> {
    let store = MemoryStore::new(rt);
    let session_id = key.split_once(':').map_or(key, |(_, id)| id);
    let handoff = store.handoff_of(session_id).map_err(|e| SwitchError::Handoff(e.to_string()))?;
    if handoff.trim().is_empty() {
        return Err(SwitchError::Handoff(format!("the memory of {session_id} has no handoff")));
    }
    let file = store.path_of(session_id).map_err(|e| SwitchError::Handoff(e.to_string()))?.with_extension("handoff.md");
    crate::fsutil::write_atomic(&file, handoff.as_bytes(), 0o600).map_err(|e| SwitchError::Handoff(e.to_string()))?;
    let result = use_file(&file);
    let _ = std::fs::remove_file(&file);
    result
}

fn record(rt: &Runtime, s: &SessionInfo, handled: Handled) -> Result<(), SwitchingError> {
    rt.state().update(|st: &mut SwitchState| {
        st.handled.insert(key_of(s), handled);
    })?;
    Ok(())
}

fn notify_switch(rt: &Runtime, platform: Platform, percent: f64, session: String, title: Option<String>, memory_path: &std::path::Path) {
    Notifier::new(rt).emit(&Event::ContextSwitch { platform, percent, session, title, memory_path: memory_path.display().to_string() });
}
