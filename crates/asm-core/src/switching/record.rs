//! The `switching` section of the state file: one record per session, the switch written in
//! two phases. Each step is recorded as started (the intent) before it runs and as done or
//! failed after, so a switch that a crash cut short is completed on the next run — a step that
//! was started but not recorded is first checked with the platform — and never repeated.
//!
//! ```text
//!            start                     all steps done
//!   (none) ─────────▶ Running ───────────────────────▶ Switched ──(below threshold)──▶ re-armed
//!                       │  ▲ a step failed / paused        │
//!                       ▼  │ (retried next run)            └─ a second switch of the same
//!                     Running                                 session waits out the cooldown
//! ```

use crate::platform::StepOutcome;
use crate::session::Platform;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Why a switch was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// The monitor saw the session cross ASM_CONTEXT_THRESHOLD.
    Threshold,
    /// `session_manager --switch` by hand.
    Manual,
}

/// Where one step stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum StepState {
    /// Recorded before the step ran; still so after a crash.
    Started {
        at: DateTime<Utc>,
    },
    Done {
        at: DateTime<Utc>,
        outcome: StepOutcome,
    },
    Failed {
        at: DateTime<Utc>,
        error: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub name: String,
    #[serde(flatten)]
    pub state: StepState,
}

/// The switch of one session at its latest crossing (or by hand).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SwitchRecord {
    pub platform: Platform,
    pub session_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    pub trigger: Trigger,
    /// The context percent when the switch started.
    pub percent: Option<f64>,
    pub started_at: DateTime<Utc>,
    /// When the last step finished; None while running.
    #[serde(default)]
    pub finished_at: Option<DateTime<Utc>>,
    /// The memory the handoff came from.
    #[serde(default)]
    pub memory_id: Option<String>,
    #[serde(default)]
    pub steps: Vec<StepRecord>,
    #[serde(default)]
    pub last_error: Option<String>,
    /// Acted on at this crossing: the monitor leaves the session alone until it is back under
    /// the threshold (then the record is re-armed, i.e. this turns false).
    #[serde(default = "yes")]
    pub crossing_handled: bool,
}

fn yes() -> bool {
    true
}

impl SwitchRecord {
    pub fn new(platform: Platform, session_id: &str, trigger: Trigger, now: DateTime<Utc>) -> SwitchRecord {
        SwitchRecord {
            platform,
            session_id: session_id.to_string(),
            key: None,
            title: None,
            cwd: None,
            trigger,
            percent: None,
            started_at: now,
            finished_at: None,
            memory_id: None,
            steps: Vec::new(),
            last_error: None,
            crossing_handled: true,
        }
    }

    pub fn is_finished(&self) -> bool {
        self.finished_at.is_some()
    }

    pub fn step(&self, name: &str) -> Option<&StepRecord> {
        self.steps.iter().find(|s| s.name == name)
    }

    /// The outcome of a step that is done.
    pub fn done(&self, name: &str) -> Option<&StepOutcome> {
        match &self.step(name)?.state {
            StepState::Done { outcome, .. } => Some(outcome),
            _ => None,
        }
    }

    pub fn set(&mut self, name: &str, state: StepState) {
        match self.steps.iter_mut().find(|s| s.name == name) {
            Some(step) => step.state = state,
            None => self.steps.push(StepRecord { name: name.to_string(), state }),
        }
    }

    /// The session as the record knows it: a switch is carried on even when the session is no
    /// longer listed (OpenClaw 2026.7 gives a reset topic a new session id).
    pub fn session(&self) -> crate::session::SessionInfo {
        crate::session::SessionInfo {
            key: self.key.clone(),
            title: self.title.clone(),
            cwd: self.cwd.clone(),
            context_percent: self.percent,
            ..crate::session::SessionInfo::bare(self.platform, self.session_id.clone())
        }
    }

    /// Every done step's outcome, in order.
    pub fn outcomes(&self) -> Vec<(String, StepOutcome)> {
        self.steps
            .iter()
            .filter_map(|s| match &s.state {
                StepState::Done { outcome, .. } => Some((s.name.clone(), outcome.clone())),
                _ => None,
            })
            .collect()
    }
}

/// The `switching` section: records keyed by `platform:session_id`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SwitchState {
    #[serde(default)]
    pub switches: BTreeMap<String, SwitchRecord>,
    /// Records of ASM before 0.2 (`handled`), read once and carried over.
    #[serde(default, skip_serializing)]
    handled: BTreeMap<String, LegacyHandled>,
}

impl crate::state::Section for SwitchState {
    const NAME: &'static str = "switching";
}

impl SwitchState {
    pub fn of(switches: BTreeMap<String, SwitchRecord>) -> SwitchState {
        SwitchState { switches, handled: BTreeMap::new() }
    }

    /// Carries records of the earlier layout over (an OpenClaw seed still due stays due).
    pub fn migrated(mut self) -> SwitchState {
        for (key, old) in std::mem::take(&mut self.handled) {
            self.switches.entry(key).or_insert_with(|| old.into_record());
        }
        self
    }
}

pub fn key_of(platform: Platform, session_id: &str) -> String {
    format!("{platform}:{session_id}")
}

/// The earlier record: extracted / switched flags and an OpenClaw seed still due.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct LegacyHandled {
    platform: Platform,
    percent: f64,
    at: DateTime<Utc>,
    extracted: bool,
    switched: bool,
    memory_path: Option<String>,
    last_error: Option<String>,
    #[serde(default, alias = "seed_pending")]
    pending: Option<serde_json::Value>,
}

impl LegacyHandled {
    fn into_record(self) -> SwitchRecord {
        let session_id =
            self.memory_path.as_deref().and_then(|p| std::path::Path::new(p).file_stem()).map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let mut r = SwitchRecord::new(self.platform, &session_id, Trigger::Threshold, self.at);
        r.percent = Some(self.percent);
        r.memory_id = self.extracted.then(|| session_id.clone());
        r.last_error = self.last_error;
        let done = |note: &str, data| StepState::Done { at: self.at, outcome: StepOutcome { note: note.into(), data, ..StepOutcome::default() } };
        if self.extracted {
            r.set(super::EXTRACT_STEP, done("extracted before the upgrade", None));
        }
        if let Some(pending) = self.pending {
            r.set("reset", done("reset before the upgrade", Some(pending)));
        }
        if self.switched {
            r.finished_at = Some(self.at);
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn records_of_the_earlier_layout_carry_over_with_their_seed_still_due() {
        let old = json!({"handled": {"openclaw:s1": {"platform": "openclaw", "percent": 85.0, "at": "2026-11-30T10:00:00Z", "extracted": true,
            "switched": false, "memory_path": "/m/s1.json", "last_error": "seed failed",
            "seed_pending": {"key": "agent:main:k", "delivery": {"kind": "session_route"}}}}});
        let state: SwitchState = serde_json::from_value(old).unwrap();
        let state = state.migrated();
        let r = &state.switches["openclaw:s1"];
        assert_eq!((r.session_id.as_str(), r.is_finished()), ("s1", false));
        assert!(r.done(super::super::EXTRACT_STEP).is_some());
        assert_eq!(r.done("reset").unwrap().data.as_ref().unwrap()["key"], "agent:main:k");
        assert!(r.step("seed").is_none(), "the seed is what is left to do");
        let written = serde_json::to_value(&state).unwrap();
        assert!(written.get("handled").is_none(), "the old layout is not written back");
    }
}
