//! What the monitor saw and did, for people: each step's finding, the summary a foreground
//! round ends with, and the problems that make `--once` exit 1.

use crate::protocol::StepReport;
use crate::switching::run::RoundOutcome;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What one step found, besides how it ran.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    Sessions(RoundOutcome),
    /// The gateway's phase (`HEALTHY`, `SUSPECT`, …) or why the watch is off.
    Gateway(String),
    Quota(String),
    Notifications {
        pending: usize,
    },
    Nothing,
}

impl Finding {
    /// The gateway step's finding from `gateway_monitor --act --json`.
    pub fn gateway_from(doc: Option<&Value>) -> Finding {
        let phase = doc.and_then(|d| d.get("phase")).and_then(Value::as_str);
        Finding::Gateway(phase.map_or_else(|| "unknown (no report)".to_string(), str::to_string))
    }

    /// The quota step's finding from `health_check --quota --json`.
    pub fn quota_from(doc: Option<&Value>) -> Finding {
        let Some(d) = doc else { return Finding::Quota("unknown (no report)".into()) };
        let flag = |k: &str| d.get(k).and_then(Value::as_bool).unwrap_or(false);
        let text = if !flag("watch") {
            "watch off".to_string()
        } else if flag("paused") {
            "work PAUSED".to_string()
        } else if d.get("read").and_then(Value::as_str) == Some("failed") {
            "read failed".to_string()
        } else {
            d.get("summary").and_then(Value::as_str).unwrap_or("no reading yet").to_string()
        };
        Finding::Quota(text)
    }
}

/// The latest finding of every step, kept by the monitor loop.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RoundSummary {
    pub at: Option<DateTime<Utc>>,
    pub sessions: Option<RoundOutcome>,
    pub gateway: Option<String>,
    pub quota: Option<String>,
    pub notifications_pending: Option<usize>,
    /// Steps that reported a problem and actions that failed, one line each.
    pub problems: Vec<String>,
}

impl RoundSummary {
    /// Takes one step's result in.
    pub fn absorb(&mut self, report: &StepReport, finding: &Finding, at: DateTime<Utc>) {
        self.problems.retain(|p| !p.starts_with(&format!("{}: ", report.step)));
        if !report.ok {
            self.problems.push(format!("{}: {}", report.step, report.message.as_deref().unwrap_or("failed")));
        }
        match finding {
            Finding::Sessions(outcome) => {
                self.at = Some(at);
                if outcome.failed > 0 {
                    self.problems.push(format!("{}: {} switch(es) failed (see the log)", report.step, outcome.failed));
                }
                self.sessions = Some(outcome.clone());
            }
            Finding::Gateway(phase) => self.gateway = Some(phase.clone()),
            Finding::Quota(text) => self.quota = Some(text.clone()),
            Finding::Notifications { pending } => self.notifications_pending = Some(*pending),
            Finding::Nothing => {}
        }
    }

    /// One line: sessions seen, over the threshold, acted on; gateway; quota; notifications.
    pub fn text(&self, threshold: u8) -> String {
        let mut parts = Vec::new();
        if let Some(s) = &self.sessions {
            let idle_count = s.idle_over + s.idle_not_measured;
            let idle = if idle_count > 0 { format!(" ({idle_count} idle, left alone)") } else { String::new() };
            let mut acted = format!("{} switched", s.switched);
            for (n, what) in [(s.failed, "failed"), (s.deferred, "wait for the next round"), (s.cooling, "in cooldown"), (s.rearmed, "re-armed")] {
                if n > 0 {
                    acted.push_str(&format!(", {n} {what}"));
                }
            }
            parts.push(format!("{} sessions, {} over {threshold}%{idle}, {acted}", s.sessions, s.over));
        }
        if let Some(g) = &self.gateway {
            parts.push(format!("gateway {g}"));
        }
        if let Some(q) = &self.quota {
            parts.push(format!("quota {q}"));
        }
        if let Some(n) = self.notifications_pending {
            parts.push(format!("{n} notification(s) pending"));
        }
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_names_what_was_seen_and_done_and_keeps_problems_per_step() {
        let mut r = RoundSummary::default();
        let now = Utc::now();
        let ok = |step: &str| StepReport { step: step.into(), ok: true, ..StepReport::default() };
        let outcome = RoundOutcome { sessions: 42, over: 3, idle_over: 1, started: 2, switched: 1, failed: 1, ..RoundOutcome::default() };
        r.absorb(&ok("sessions"), &Finding::Sessions(outcome), now);
        r.absorb(
            &StepReport { step: "gateway".into(), ok: false, message: Some("SUSPECT".into()), ..StepReport::default() },
            &Finding::Gateway("SUSPECT".into()),
            now,
        );
        r.absorb(&ok("quota"), &Finding::quota_from(Some(&serde_json::json!({"watch": false}))), now);
        r.absorb(&ok("notifications"), &Finding::Notifications { pending: 0 }, now);
        assert_eq!(
            r.text(80),
            "42 sessions, 3 over 80% (1 idle, left alone), 1 switched, 1 failed; gateway SUSPECT; quota watch off; 0 notification(s) pending"
        );
        assert_eq!(r.problems, ["sessions: 1 switch(es) failed (see the log)", "gateway: SUSPECT"]);
        r.absorb(&ok("gateway"), &Finding::Gateway("HEALTHY".into()), now);
        assert_eq!(r.problems.len(), 1, "a step that is fine again clears its problem");
    }
}
