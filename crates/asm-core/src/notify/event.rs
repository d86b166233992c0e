//! The events ASM reports to the feed topic, and their texts: short, plain, one event per
//! message.

use crate::session::Platform;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// A session crossed the threshold and its summary was saved (and, for OpenClaw, the
    /// session was switched).
    ContextSwitch {
        platform: Platform,
        percent: f64,
        session: String,
        title: Option<String>,
        memory_path: String,
    },
    GatewayUnresponsive {
        url: String,
        down_for_secs: u64,
        detail: String,
    },
    GatewayRestarted {
        attempt: u32,
        method: String,
    },
    GatewayRecovered {
        down_for_secs: u64,
    },
    GatewayRestartFailed {
        attempt: u32,
        error: String,
    },
    GatewayRepairStarted {
        attempts: u32,
    },
    GatewayRepairResult {
        ok: bool,
        summary: String,
    },
    GatewayGaveUp {
        attempts: u32,
    },
    QuotaLow {
        /// None when MiniMax reports only a percentage.
        remaining: Option<u64>,
        percent: Option<f64>,
        resets_at: Option<DateTime<Utc>>,
    },
    WorkPaused {
        reason: String,
        resume_at: Option<DateTime<Utc>>,
    },
    WorkResumed {
        remaining: Option<u64>,
    },
    Test {
        text: String,
    },
}

impl Event {
    /// A stable name for the kind of event, used for coalescing and in logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::ContextSwitch { .. } => "context_switch",
            Event::GatewayUnresponsive { .. } => "gateway_unresponsive",
            Event::GatewayRestarted { .. } => "gateway_restarted",
            Event::GatewayRecovered { .. } => "gateway_recovered",
            Event::GatewayRestartFailed { .. } => "gateway_restart_failed",
            Event::GatewayRepairStarted { .. } => "gateway_repair_started",
            Event::GatewayRepairResult { .. } => "gateway_repair_result",
            Event::GatewayGaveUp { .. } => "gateway_gave_up",
            Event::QuotaLow { .. } => "quota_low",
            Event::WorkPaused { .. } => "work_paused",
            Event::WorkResumed { .. } => "work_resumed",
            Event::Test { .. } => "test",
        }
    }

    /// The message text as it is posted.
    pub fn text(&self) -> String {
        match self {
            Event::ContextSwitch { platform, percent, session, title, memory_path } => {
                let headline = match platform {
                    Platform::Openclaw => format!("OpenClaw context usage reached {}%, switched to new session", percent.round()),
                    other => format!("{} context usage reached {}%, summary switch triggered", other.display_name(), percent.round()),
                };
                let what = title.as_deref().map(|t| format!("{session} ({t})")).unwrap_or_else(|| session.clone());
                format!("{headline}\n{what}, summary saved to {memory_path}")
            }
            Event::GatewayUnresponsive { url, down_for_secs, detail } => format!("OpenClaw gateway unresponsive for {down_for_secs}s at {url}: {detail}"),
            Event::GatewayRestarted { attempt, method } => format!("OpenClaw gateway restarted (attempt {attempt}, {method})"),
            Event::GatewayRecovered { down_for_secs } => format!("OpenClaw gateway recovered after {down_for_secs}s"),
            Event::GatewayRestartFailed { attempt, error } => format!("OpenClaw gateway restart failed (attempt {attempt}): {error}"),
            Event::GatewayRepairStarted { attempts } => format!("OpenClaw gateway still down after {attempts} restarts, Claude Code repair started"),
            Event::GatewayRepairResult { ok, summary } => format!("Claude Code repair {}: {summary}", if *ok { "finished" } else { "failed" }),
            Event::GatewayGaveUp { attempts } => {
                format!("OpenClaw gateway still down after {attempts} restarts and a repair; automatic recovery stopped (gateway_monitor --reset to resume)")
            }
            Event::QuotaLow { remaining, percent, resets_at } => {
                let pct = percent.map(|p| format!(" ({p:.0}%)")).unwrap_or_default();
                let reset = resets_at.map(|t| format!(", resets at {}", t.format("%Y-%m-%d %H:%M UTC"))).unwrap_or_default();
                match remaining {
                    Some(n) => format!("MiniMax quota low: {n} calls left{pct}{reset}"),
                    None => format!("MiniMax quota low:{pct} left{reset}"),
                }
            }
            Event::WorkPaused { reason, resume_at } => {
                let until = resume_at.map(|t| format!(" until {}", t.format("%Y-%m-%d %H:%M UTC"))).unwrap_or_default();
                format!("Model work paused{until}: {reason}")
            }
            Event::WorkResumed { remaining } => match remaining {
                Some(n) => format!("Model work resumed: MiniMax quota back to {n} calls"),
                None => "Model work resumed: MiniMax quota window reset".to_string(),
            },
            Event::Test { text } => text.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switch_texts_match_the_original_skill() {
        let e = |platform| Event::ContextSwitch {
            platform,
            percent: 81.4,
            session: "agent:main:telegram:group:-100:topic:7".into(),
            title: None,
            memory_path: "/m.json".into(),
        };
        assert!(e(Platform::Openclaw).text().starts_with("OpenClaw context usage reached 81%, switched to new session\n"));
        assert!(e(Platform::ClaudeCode).text().starts_with("Claude Code context usage reached 81%, summary switch triggered\n"));
        assert!(e(Platform::Opencode).text().starts_with("OpenCode context usage reached 81%, summary switch triggered\n"));
    }
}
