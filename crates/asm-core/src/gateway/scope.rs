//! Whether the gateway watch applies on this machine, and whether it may recover the gateway
//! it watches (pure, from [`Facts`] gathered at the edge).
//!
//! The watch is on where OpenClaw is: its CLI on PATH, its config file, ASM_GATEWAY_URL (or
//! OpenClaw's own OPENCLAW_GATEWAY_PORT), or a gateway ASM once saw healthy. Elsewhere it is off and says why, as the quota watch does
//! without a key. A gateway never seen healthy is watched but not restarted (nor alerted
//! about) unless ASM_GATEWAY_URL or ASM_GATEWAY_RESTART_CMD says it is meant to be there: an
//! OpenClaw that is installed and never started is not an outage.

use crate::platform::openclaw::cli;
use crate::Runtime;
use serde::Serialize;

/// What the machine says about OpenClaw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub cli_found: bool,
    pub config_found: bool,
    /// ASM_GATEWAY_URL or OPENCLAW_GATEWAY_PORT names where the gateway answers.
    pub url_configured: bool,
    pub restart_cmd_configured: bool,
    pub seen_healthy: bool,
}

impl Facts {
    pub fn gather(rt: &Runtime, seen_healthy: bool) -> Facts {
        Facts {
            cli_found: cli::program(rt).is_some(),
            config_found: rt.paths.openclaw_config.is_file(),
            url_configured: rt.config.gateway_url.is_some() || rt.env.get("OPENCLAW_GATEWAY_PORT").is_some(),
            restart_cmd_configured: rt.config.gateway_restart_cmd.is_some(),
            seen_healthy,
        }
    }
}

/// The watch's scope on this machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "watch", rename_all = "snake_case")]
pub enum Scope {
    Off { reason: String },
    On { recover: bool, reason: String },
}

impl Scope {
    pub fn is_on(&self) -> bool {
        matches!(self, Scope::On { .. })
    }

    /// Whether outages are acted on (restart, repair, alerts).
    pub fn recovers(&self) -> bool {
        matches!(self, Scope::On { recover: true, .. })
    }

    pub fn reason(&self) -> &str {
        match self {
            Scope::Off { reason } | Scope::On { reason, .. } => reason,
        }
    }
}

pub fn scope(f: &Facts) -> Scope {
    let found: Vec<&str> = [
        (f.url_configured, "ASM_GATEWAY_URL or OPENCLAW_GATEWAY_PORT is set"),
        (f.cli_found, "the openclaw CLI is on PATH"),
        (f.config_found, "OpenClaw's config exists"),
        (f.seen_healthy, "the gateway was seen healthy"),
    ]
    .into_iter()
    .filter_map(|(yes, why)| yes.then_some(why))
    .collect();
    if found.is_empty() {
        return Scope::Off {
            reason: "no OpenClaw found (no openclaw on PATH, no OpenClaw config, neither ASM_GATEWAY_URL nor OPENCLAW_GATEWAY_PORT set)".into(),
        };
    }
    let recover = f.seen_healthy || f.url_configured || f.restart_cmd_configured;
    let mut reason = found.join(", ");
    if !recover {
        reason.push_str(
            "; never seen healthy, so not restarted (ASM_GATEWAY_URL, OPENCLAW_GATEWAY_PORT or ASM_GATEWAY_RESTART_CMD would say it is meant to run)",
        );
    }
    Scope::On { recover, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_without_any_sign_of_openclaw() {
        let s = scope(&Facts::default());
        assert!(!s.is_on());
        assert!(s.reason().starts_with("no OpenClaw found"));
        assert!(!scope(&Facts { restart_cmd_configured: true, ..Facts::default() }).is_on(), "a restart command alone names no gateway");
    }

    #[test]
    fn on_where_openclaw_is_and_recovering_only_a_gateway_meant_to_run() {
        let installed = Facts { cli_found: true, config_found: true, ..Facts::default() };
        let s = scope(&installed);
        assert!(s.is_on() && !s.recovers(), "{s:?}");
        assert!(s.reason().contains("never seen healthy"));
        assert!(scope(&Facts { seen_healthy: true, ..installed.clone() }).recovers());
        assert!(scope(&Facts { restart_cmd_configured: true, ..installed.clone() }).recovers());
        assert!(scope(&Facts { url_configured: true, ..Facts::default() }).recovers());
        assert!(scope(&Facts { seen_healthy: true, ..Facts::default() }).recovers(), "the CLI went away, the gateway did not");
    }
}
