//! The one way a session is switched, by the monitor (which runs `session_manager --switch`
//! as a child, like every step) and by hand: extract the session's memory, then the
//! platform's own steps (`platform/<p>/switch.rs`), each written to the state file before it
//! runs and after (see `record.rs`), then the feed notice. One switch runs at a time
//! (`.asm_switch.lock`). A dry run prints each step and each command it would run, and runs
//! none.

use super::record::{key_of, StepState, SwitchRecord, SwitchState, Trigger};
use super::{SwitchingError, EXTRACT_STEP};
use crate::clock::Clock;
use crate::fsutil::FileLock;
use crate::memory::{MemoryStore, Origin};
use crate::notify::{Event, Notifier};
use crate::platform::{adapter, StepOutcome, SwitchContext, SwitchStep};
use crate::session::{Platform, SessionInfo};
use crate::Runtime;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// How one step of a switch went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Done,
    /// Done by an earlier run (or found done after a crash).
    DoneEarlier,
    WouldRun,
    Failed,
    /// Waits for model work to be allowed again (quota).
    Waiting,
    /// Not reached: an earlier step failed or waits.
    NotRun,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    pub name: String,
    pub what: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<String>,
    pub status: StepStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What `session_manager --switch` prints.
#[derive(Debug, Clone, Serialize)]
pub struct SwitchReport {
    pub platform: Platform,
    pub session_id: String,
    pub key: Option<String>,
    /// How notices and logs name the session: its key, else its unique id prefix.
    pub label: String,
    /// The session's percent when the switch was asked for.
    pub percent: Option<f64>,
    pub trigger: Trigger,
    pub dry_run: bool,
    /// Every step was done (or, in a dry run, would be run).
    pub switched: bool,
    pub memory_id: Option<String>,
    pub memory_path: Option<String>,
    /// The session that has the handoff now, when a step put it there.
    pub handed_to: Option<String>,
    pub steps: Vec<StepReport>,
    /// The step that failed or waits, and why.
    pub stopped_at: Option<String>,
    pub error: Option<String>,
}

impl SwitchReport {
    /// The report for people: one line per step.
    pub fn text(&self) -> String {
        let mut lines = vec![format!(
            "{}{} session {}{}",
            if self.dry_run { "Dry run: switching " } else { "Switching " },
            self.platform.display_name(),
            self.session_id,
            self.key.as_deref().map(|k| format!(" ({k})")).unwrap_or_default()
        )];
        for (i, step) in self.steps.iter().enumerate() {
            let status = match step.status {
                StepStatus::Done => "done",
                StepStatus::DoneEarlier => "done earlier",
                StepStatus::WouldRun => "would run",
                StepStatus::Failed => "FAILED",
                StepStatus::Waiting => "waits",
                StepStatus::NotRun => "not run",
            };
            lines.push(format!("{}. {} [{status}]: {}", i + 1, step.name, step.what));
            lines.extend(step.commands.iter().map(|c| format!("     $ {c}")));
            lines.extend(step.note.iter().map(|n| format!("     {n}")));
        }
        lines.push(match (&self.error, self.switched, self.dry_run) {
            (Some(e), _, _) => format!("Not switched: {e}"),
            (None, true, true) => "Nothing was run.".into(),
            (None, true, false) => format!(
                "Switched{}.",
                self.handed_to
                    .as_deref()
                    .map(|h| format!("; the handoff is with session {h}"))
                    .unwrap_or_else(|| "; the handoff waits for the next session".into())
            ),
            (None, false, _) => "Not switched yet.".into(),
        });
        lines.join("\n")
    }
}

/// How a switch is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwitchOptions {
    pub trigger: Trigger,
    pub dry_run: bool,
    /// Post the feed notice of this switch (the monitor reports a crowded round as one digest).
    pub notice: bool,
}

/// Switches `session` (or carries on its unfinished switch).
pub fn switch(rt: &Runtime, clock: &dyn Clock, session: &SessionInfo, options: SwitchOptions) -> Result<SwitchReport, SwitchingError> {
    let SwitchOptions { trigger, dry_run, notice } = options;
    let key = key_of(session.platform, &session.session_id);
    let now = clock.now();
    let state: SwitchState = rt.state().section::<SwitchState>()?.migrated();
    let existing = state.switches.get(&key).cloned();
    if let Some(done) = existing.as_ref().filter(|r| r.is_finished()) {
        let until = done.finished_at.unwrap_or(now) + chrono::Duration::seconds(rt.config.switch_cooldown as i64);
        if now < until {
            return Err(SwitchingError::Cooldown { session: session.session_id.clone(), until });
        }
    }
    // A finished switch is history: the next one starts from its first step.
    let unfinished = existing.filter(|r| !r.is_finished());
    if dry_run {
        return Ok(dry_run_report(rt, session, trigger, unfinished.as_ref()));
    }
    crate::fsutil::ensure_state_dir(&rt.paths.state_dir)?;
    let lock_path = rt.paths.state_dir.join(".asm_switch.lock");
    let Some(_lock) = FileLock::try_exclusive(&lock_path)? else { return Err(SwitchingError::Busy(lock_path)) };
    let record = unfinished.unwrap_or_else(|| new_record(session, trigger, now));
    Run { rt, clock, session, key, record, report: empty_report(session, trigger, false), notice }.go()
}

fn new_record(session: &SessionInfo, trigger: Trigger, now: DateTime<Utc>) -> SwitchRecord {
    let mut r = SwitchRecord::new(session.platform, &session.session_id, trigger, now);
    r.key = session.key.clone();
    r.title = session.title.clone();
    r.cwd = session.cwd.clone();
    r.percent = session.context_percent;
    r
}

fn empty_report(session: &SessionInfo, trigger: Trigger, dry_run: bool) -> SwitchReport {
    SwitchReport {
        platform: session.platform,
        session_id: session.session_id.clone(),
        key: session.key.clone(),
        label: session.short_label(),
        percent: session.context_percent,
        trigger,
        dry_run,
        switched: false,
        memory_id: None,
        memory_path: None,
        handed_to: None,
        steps: Vec::new(),
        stopped_at: None,
        error: None,
    }
}

fn extract_step(rt: &Runtime, session: &SessionInfo, memory_path: &Path) -> SwitchStep {
    let summary = match rt.config.summary_mode {
        crate::config::SummaryMode::Platform => "; the platform is asked to summarize a copy of the session first (ASM_SUMMARY_MODE=platform)",
        crate::config::SummaryMode::Extract => "",
    };
    SwitchStep {
        name: EXTRACT_STEP,
        what: format!("extract the session's key information into {}{summary}", memory_path.display()),
        commands: vec![format!("asm_memory_manager --action extract --session-id {} --platform {}", session.session_id, session.platform)],
        needs_model: false,
    }
}

fn handoff_file(store: &MemoryStore, session_id: &str) -> Result<PathBuf, SwitchingError> {
    Ok(store.path_of(session_id)?.with_extension("handoff.md"))
}

fn dry_run_report(rt: &Runtime, session: &SessionInfo, trigger: Trigger, existing: Option<&SwitchRecord>) -> SwitchReport {
    let mut report = empty_report(session, trigger, true);
    let store = MemoryStore::new(rt);
    let (Ok(memory_path), Ok(file)) = (store.path_of(&session.session_id), handoff_file(&store, &session.session_id)) else {
        report.error = Some(format!("session id {:?} cannot name a memory file", session.session_id));
        return report;
    };
    let memory_id = format!("{}.g?", session.session_id);
    let earlier = existing.map(SwitchRecord::outcomes).unwrap_or_default();
    let ctx = SwitchContext { rt, session, handoff_file: &file, memory_id: &memory_id, earlier: &earlier };
    let steps = std::iter::once(extract_step(rt, session, &memory_path)).chain(adapter(session.platform).switch_steps(&ctx));
    for step in steps {
        let done = existing.is_some_and(|r| r.done(step.name).is_some());
        let status = if done { StepStatus::DoneEarlier } else { StepStatus::WouldRun };
        let note = step.needs_model.then(|| "makes a model call: waits while the quota pauses model work".to_string());
        report.steps.push(StepReport { name: step.name.into(), what: step.what, commands: step.commands, status, note });
    }
    report.memory_path = Some(memory_path.display().to_string());
    report.switched = true;
    report
}

/// One switch being carried out.
struct Run<'a> {
    rt: &'a Runtime,
    clock: &'a dyn Clock,
    session: &'a SessionInfo,
    key: String,
    record: SwitchRecord,
    report: SwitchReport,
    notice: bool,
}

impl Run<'_> {
    fn go(mut self) -> Result<SwitchReport, SwitchingError> {
        let store = MemoryStore::new(self.rt);
        let memory_path = store.path_of(&self.session.session_id)?;
        self.report.memory_path = Some(memory_path.display().to_string());
        if !self.step(&extract_step(self.rt, self.session, &memory_path), |run| run.extract())? {
            return self.stop();
        }
        let memory_id = self.memory_id();
        self.report.memory_id = Some(memory_id.clone());
        let file = handoff_file(&store, &self.session.session_id)?;
        let handoff = store.handoff_of(&self.session.session_id)?;
        crate::fsutil::write_atomic(&file, handoff.as_bytes(), 0o600)?;
        let result = self.platform_steps(&file, &memory_id);
        let _ = std::fs::remove_file(&file);
        if !result? {
            return self.stop();
        }
        self.finish(&store)
    }

    /// Runs the platform's steps in order; false when one failed or waits.
    fn platform_steps(&mut self, file: &Path, memory_id: &str) -> Result<bool, SwitchingError> {
        let platform = adapter(self.session.platform);
        let earlier = self.record.outcomes();
        let steps = platform.switch_steps(&SwitchContext { rt: self.rt, session: self.session, handoff_file: file, memory_id, earlier: &earlier });
        for step in &steps {
            let ok = self.step(step, |run| {
                let earlier = run.record.outcomes();
                let ctx = SwitchContext { rt: run.rt, session: run.session, handoff_file: file, memory_id, earlier: &earlier };
                platform.run_switch_step(&ctx, step).map_err(|e| e.to_string())
            })?;
            if !ok {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// One step, written down before and after. False when it failed or waits.
    fn step(&mut self, step: &SwitchStep, run: impl FnOnce(&Self) -> Result<StepOutcome, String>) -> Result<bool, SwitchingError> {
        let mut entry = StepReport { name: step.name.into(), what: step.what.clone(), commands: step.commands.clone(), status: StepStatus::Done, note: None };
        if let Some(outcome) = self.record.done(step.name).cloned().or_else(|| self.completed_before_a_crash(step)) {
            entry.status = StepStatus::DoneEarlier;
            entry.note = Some(outcome.note.clone());
            self.record.set(step.name, StepState::Done { at: self.clock.now(), outcome });
            self.report.steps.push(entry);
            return Ok(true);
        }
        if step.needs_model && crate::quota::work_paused(self.rt) {
            entry.status = StepStatus::Waiting;
            entry.note = Some("model work is paused (quota); it runs once the quota allows".into());
            self.record.last_error = Some(format!("step {} waits: model work is paused", step.name));
            self.report.stopped_at = Some(step.name.into());
            self.report.steps.push(entry);
            self.save()?;
            return Ok(false);
        }
        self.record.set(step.name, StepState::Started { at: self.clock.now() });
        self.save()?;
        log::info!("switch of {}: {}", self.key, step.what);
        let ok = match run(self) {
            Ok(outcome) => {
                entry.note = Some(outcome.note.clone());
                self.record.set(step.name, StepState::Done { at: self.clock.now(), outcome });
                self.record.last_error = None;
                true
            }
            Err(error) => {
                log::warn!("switch of {}: step {} failed, it is retried next round: {error}", self.key, step.name);
                entry.status = StepStatus::Failed;
                entry.note = Some(error.clone());
                self.report.stopped_at = Some(step.name.into());
                self.report.error = Some(format!("step {} failed: {error}", step.name));
                self.record.set(step.name, StepState::Failed { at: self.clock.now(), error: error.clone() });
                self.record.last_error = Some(format!("step {}: {error}", step.name));
                false
            }
        };
        self.report.steps.push(entry);
        self.save()?;
        Ok(ok)
    }

    /// A step recorded as started but never as done: ask the platform whether it happened.
    fn completed_before_a_crash(&self, step: &SwitchStep) -> Option<StepOutcome> {
        let StepState::Started { at } = self.record.step(step.name)?.state else { return None };
        if step.name == EXTRACT_STEP {
            return None; // extracting again is harmless
        }
        let store = MemoryStore::new(self.rt);
        let file = handoff_file(&store, &self.session.session_id).ok()?;
        let memory_id = self.memory_id();
        let earlier = self.record.outcomes();
        let ctx = SwitchContext { rt: self.rt, session: self.session, handoff_file: &file, memory_id: &memory_id, earlier: &earlier };
        let found = adapter(self.session.platform).step_completed(&ctx, step, at);
        if found.is_some() {
            log::info!("switch of {}: step {} had been done before an interruption; not doing it again", self.key, step.name);
        }
        found
    }

    fn extract(&self) -> Result<StepOutcome, String> {
        let record = crate::memory::extract_as(self.rt, self.session, Origin::Switch).map_err(|e| e.to_string())?;
        Ok(StepOutcome {
            note: format!("memory {} ({} bytes of handoff)", record.memory_id(), record.handoff.len()),
            data: Some(serde_json::json!({ "memory_id": record.memory_id() })),
            ..StepOutcome::default()
        })
    }

    /// The memory the extraction wrote (`<session_id>.g<N>`).
    fn memory_id(&self) -> String {
        let from_step = self.record.done(EXTRACT_STEP).and_then(|o| o.data.as_ref()?.get("memory_id")?.as_str().map(str::to_string));
        from_step.or_else(|| self.record.memory_id.clone()).unwrap_or_else(|| format!("{}.g1", self.session.session_id))
    }

    fn save(&mut self) -> Result<(), SwitchingError> {
        if self.record.done(EXTRACT_STEP).is_some() {
            self.record.memory_id = Some(self.memory_id());
        }
        let (key, record) = (self.key.clone(), self.record.clone());
        self.rt.state().update(|s: &mut SwitchState| {
            *s = std::mem::take(s).migrated();
            s.switches.insert(key, record);
        })?;
        Ok(())
    }

    fn stop(self) -> Result<SwitchReport, SwitchingError> {
        Ok(self.report)
    }

    fn finish(mut self, store: &MemoryStore) -> Result<SwitchReport, SwitchingError> {
        let now = self.clock.now();
        let handed = self.record.outcomes().into_iter().rev().find_map(|(_, o)| Some((o.handed_to?, o.via.unwrap_or_default())));
        if let Some((to, via)) = &handed {
            store.mark_handed(&self.session.session_id, to, via, now)?;
        }
        self.record.finished_at = Some(now);
        self.record.crossing_handled = true;
        self.save()?;
        self.report.switched = true;
        self.report.handed_to = handed.map(|(to, _)| to);
        if !self.notice {
            log::info!("{} session {} switched (reported in the round's digest)", self.session.platform.display_name(), self.session.session_id);
            return Ok(self.report);
        }
        let label = self.session.short_label();
        Notifier::new(self.rt).emit(&Event::ContextSwitch {
            platform: self.session.platform,
            percent: self.record.percent.unwrap_or_default(),
            session: label,
            title: self.session.title.clone().or_else(|| self.session.cwd.clone()),
            memory_path: self.report.memory_path.clone().unwrap_or_default(),
        });
        log::info!("{} session {} switched", self.session.platform.display_name(), self.session.session_id);
        Ok(self.report)
    }
}
