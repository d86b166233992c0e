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
        /// The n-th restart of the budget; None for one a person asked for.
        attempt: Option<u32>,
        method: String,
    },
    GatewayRecovered {
        down_for_secs: u64,
    },
    GatewayRestartFailed {
        attempt: Option<u32>,
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
        repair: GaveUpRepair,
    },
    /// More sessions crossed the threshold in one monitor round than may be switched in one.
    SwitchDigest {
        threshold: u8,
        /// "<platform> <label> (<percent>%)" of each switched session.
        switched: Vec<String>,
        failed: Vec<String>,
        /// Crossed, but beyond this round's limit: switched in the next rounds.
        waiting: usize,
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

/// What became of the repair when the gateway watch gave up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GaveUpRepair {
    /// It ran and the gateway is still down.
    Failed,
    TurnedOff,
    NoClaude,
}

/// "1 restart", "3 restarts"; none said as such.
fn restarts(n: u32) -> String {
    match n {
        0 => "without a restart (ASM_GATEWAY_MAX_RESTARTS=0)".into(),
        1 => "after 1 restart".into(),
        n => format!("after {n} restarts"),
    }
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
            Event::SwitchDigest { .. } => "switch_digest",
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
            Event::GatewayRestarted { attempt: Some(n), method } => format!("OpenClaw gateway restarted (attempt {n}, {method})"),
            Event::GatewayRestarted { attempt: None, method } => format!("OpenClaw gateway restarted by hand ({method})"),
            Event::GatewayRecovered { down_for_secs } => format!("OpenClaw gateway recovered after {down_for_secs}s"),
            Event::GatewayRestartFailed { attempt: Some(n), error } => format!("OpenClaw gateway restart failed (attempt {n}): {error}"),
            Event::GatewayRestartFailed { attempt: None, error } => format!("OpenClaw gateway restart by hand failed: {error}"),
            Event::GatewayRepairStarted { attempts } => format!("OpenClaw gateway still down {}, Claude Code repair started", restarts(*attempts)),
            Event::GatewayRepairResult { ok, summary } => format!("Claude Code repair {}: {summary}", if *ok { "finished" } else { "failed" }),
            Event::GatewayGaveUp { attempts, repair } => {
                let repair = match repair {
                    GaveUpRepair::Failed => " and a Claude Code repair",
                    GaveUpRepair::TurnedOff => ", no repair (ASM_REPAIR=0)",
                    GaveUpRepair::NoClaude => ", no repair (claude is not on PATH)",
                };
                format!("OpenClaw gateway still down {}{repair}; automatic recovery stopped (gateway_monitor --reset to resume)", restarts(*attempts))
            }
            Event::SwitchDigest { threshold, switched, failed, waiting } => {
                let total = switched.len() + failed.len() + waiting;
                let mut lines = vec![format!("{total} sessions reached {threshold}% context usage this round")];
                if !switched.is_empty() {
                    lines.push(format!("switched: {}", switched.join(", ")));
                }
                if !failed.is_empty() {
                    lines.push(format!("not switched (see the monitor log): {}", failed.join(", ")));
                }
                if *waiting > 0 {
                    lines.push(format!("{waiting} more wait for the next rounds (ASM_MAX_SWITCHES_PER_ROUND)"));
                }
                lines.join("\n")
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
