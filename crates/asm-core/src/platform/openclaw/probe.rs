//! Asking the gateway whether it is alive and ready: where it listens (ASM_GATEWAY_URL, else
//! the port OpenClaw itself would use) and one HTTP probe of `/healthz` then `/readyz`.
//!
//! The body decides, not the status: an old build or a wrong port answers 200 with the
//! Control UI's HTML, and `/readyz` answers 503 with a JSON body while starting. A frozen
//! gateway (SIGSTOP) still accepts TCP and never answers, so the read timeout is what tells
//! "unresponsive" from "down" (connection refused).

use crate::clock::Clock;
use crate::http::{Http, HttpError, Route};
use crate::Runtime;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::{Duration, Instant};

pub const DEFAULT_PORT: u16 = 18789;
/// Bodies beyond this are not a health answer; reading stops there.
const MAX_BODY: u64 = 64 * 1024;

/// Where the gateway is and how that was decided (shown by `--debug`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    /// `http://127.0.0.1:18789`, without a trailing slash.
    pub base_url: String,
    /// The TCP port, when the URL is on this machine and its port is known.
    pub port: Option<u16>,
    /// ASM_GATEWAY_URL, OPENCLAW_GATEWAY_PORT, config gateway.port, profile, default.
    pub source: String,
}

impl Endpoint {
    pub fn resolve(rt: &Runtime) -> Endpoint {
        if let Some(url) = &rt.config.gateway_url {
            let base_url = url.trim_end_matches('/').to_string();
            return Endpoint { port: local_port_of(&base_url), base_url, source: "ASM_GATEWAY_URL".into() };
        }
        let (port, source) = resolve_port(rt);
        Endpoint { base_url: format!("http://127.0.0.1:{port}"), port: Some(port), source }
    }
}

/// OpenClaw's own rule (`resolveGatewayPort`): the variable, then `gateway.port` in the
/// config, then for a named profile `20000 + FNV-1a(profile) % 40000`, else 18789.
fn resolve_port(rt: &Runtime) -> (u16, String) {
    if let Some(port) = rt.env.get("OPENCLAW_GATEWAY_PORT").and_then(parse_port_env) {
        return (port, "OPENCLAW_GATEWAY_PORT".into());
    }
    match super::config::read(&rt.paths) {
        Ok(Some(doc)) => {
            if let Some(port) = super::config::gateway_port(&doc) {
                return (port, format!("gateway.port in {}", rt.paths.openclaw_config.display()));
            }
        }
        Ok(None) => {}
        Err(e) => log::warn!("{e}; using the default gateway port"),
    }
    match &rt.paths.profile {
        Some(profile) => (profile_port(profile), format!("profile {profile}")),
        None => (DEFAULT_PORT, "default".into()),
    }
}

/// `18999`, `127.0.0.1:18999` or `[::1]:18999`, as OpenClaw accepts them.
fn parse_port_env(raw: &str) -> Option<u16> {
    let raw = raw.trim();
    let digits = match raw.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && (host.starts_with('[') || !host.contains(':')) => port,
        Some(_) => return None,
        None => raw,
    };
    digits.parse::<u16>().ok().filter(|p| *p > 0)
}

/// The port OpenClaw (2026.8.2 and later) gives a named profile without `gateway.port`.
pub fn profile_port(profile: &str) -> u16 {
    let mut hash: u32 = 2_166_136_261;
    for byte in profile.as_bytes() {
        hash = (hash ^ u32::from(*byte)).wrapping_mul(16_777_619);
    }
    (20_000 + hash % 40_000) as u16
}

/// The port of a URL that points at this machine (only there can we find its listener).
fn local_port_of(url: &str) -> Option<u16> {
    let rest = url.split_once("://").map(|(_, r)| r)?;
    let authority = rest.split('/').next()?;
    let authority = authority.rsplit_once('@').map(|(_, a)| a).unwrap_or(authority);
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !p.contains(']') => (h, p.parse::<u16>().ok()?),
        _ => (authority, if url.starts_with("https") { 443 } else { 80 }),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    matches!(host, "127.0.0.1" | "localhost" | "::1" | "0.0.0.0").then_some(port)
}

/// What one probe found, from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeKind {
    /// Live and ready.
    Ok,
    /// Live, but `/readyz` says not ready (starting, draining, a failing subsystem).
    NotReady,
    /// Something answered, but not with the gateway's JSON (HTML 200: wrong path or old build).
    BadAnswer,
    /// Accepted the connection and never answered within the timeout (frozen, SIGSTOP).
    Unresponsive,
    /// Connection refused: nothing listens.
    Down,
    /// Any other failure (name resolution, TLS, reset connection).
    Error,
}

impl ProbeKind {
    pub fn is_ok(self) -> bool {
        self == ProbeKind::Ok
    }
}

/// One request to one path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathProbe {
    pub path: String,
    pub kind: ProbeKind,
    pub status: Option<u16>,
    pub latency_ms: u64,
    pub detail: String,
}

/// One probe of the gateway: liveness, then readiness when alive. Kept in the state file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeRecord {
    pub at: DateTime<Utc>,
    pub kind: ProbeKind,
    pub latency_ms: u64,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<PathProbe>,
}

impl ProbeRecord {
    pub fn ok(&self) -> bool {
        self.kind.is_ok()
    }
}

/// Probes `/healthz` and, when it is live, `/readyz`, each with connect and read timeouts.
pub fn probe(endpoint: &Endpoint, timeout: Duration, clock: &dyn Clock) -> ProbeRecord {
    let at = clock.now();
    let http = Http::new(timeout, timeout, Route::Direct).body_limit(MAX_BODY);
    let live = probe_path(&http, endpoint, "/healthz");
    let mut paths = vec![live.clone()];
    let outcome = if live.kind.is_ok() {
        let ready = probe_path(&http, endpoint, "/readyz");
        paths.push(ready.clone());
        ready
    } else {
        live
    };
    let latency_ms = paths.iter().map(|p| p.latency_ms).sum();
    ProbeRecord { at, kind: outcome.kind, latency_ms, detail: format!("{}: {}", outcome.path, outcome.detail), paths }
}

fn probe_path(http: &Http, endpoint: &Endpoint, path: &str) -> PathProbe {
    let started = Instant::now();
    let (kind, status, detail) = match http.get(&format!("{}{path}", endpoint.base_url), &[]) {
        Ok(answer) => {
            let (kind, detail) = judge_body(path, answer.status, &answer.content_type, &answer.body);
            (kind, Some(answer.status), detail)
        }
        Err(e) => (classify_failure(&e), None, describe_failure(&e)),
    };
    PathProbe { path: path.into(), kind, status, latency_ms: started.elapsed().as_millis() as u64, detail }
}

/// The verdict on one answer. Pure, so every shape OpenClaw answers with is a table test.
pub fn judge_body(path: &str, status: u16, content_type: &str, body: &str) -> (ProbeKind, String) {
    let doc = serde_json::from_str::<Value>(body).ok().filter(Value::is_object);
    let Some(doc) = doc else {
        let what =
            if content_type.contains("html") || body.trim_start().starts_with('<') { "HTML (wrong path, wrong port or an old build)" } else { "not JSON" };
        return (ProbeKind::BadAnswer, format!("HTTP {status} {what}"));
    };
    let flag = |k: &str| doc.get(k).and_then(Value::as_bool);
    let verdict = if path.starts_with("/ready") { flag("ready") } else { flag("ok") };
    match verdict {
        Some(true) if (200..300).contains(&status) => (ProbeKind::Ok, format!("HTTP {status} {}", short_status(&doc))),
        Some(_) => (ProbeKind::NotReady, format!("HTTP {status} {}", short_status(&doc))),
        None => (ProbeKind::BadAnswer, format!("HTTP {status} JSON without {}", if path.starts_with("/ready") { "\"ready\"" } else { "\"ok\"" })),
    }
}

/// `live`, `ready`, or `not ready: agent-database:main` for logs and notifications.
fn short_status(doc: &Value) -> String {
    let failing: Vec<String> =
        doc.get("failing").and_then(Value::as_array).map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()).unwrap_or_default();
    match (doc.get("ready").and_then(Value::as_bool), doc.get("status").and_then(Value::as_str)) {
        (Some(true), _) => "ready".into(),
        (Some(false), status) => {
            let mut s = format!("not ready ({})", status.unwrap_or("no status"));
            if !failing.is_empty() {
                s.push_str(&format!(": {}", failing.join(", ")));
            }
            s
        }
        (None, Some(status)) => status.into(),
        (None, None) => if doc.get("ok").and_then(Value::as_bool) == Some(true) { "ok" } else { "not ok" }.into(),
    }
}

fn classify_failure(e: &HttpError) -> ProbeKind {
    match e {
        // Refused, reset or aborted: nothing listens, or the process died while accepting.
        HttpError::Refused | HttpError::Dropped(_) => ProbeKind::Down,
        HttpError::TimedOut => ProbeKind::Unresponsive,
        HttpError::Other(_) => ProbeKind::Error,
    }
}

fn describe_failure(e: &HttpError) -> String {
    match e {
        HttpError::TimedOut => "no answer within the timeout (accepted but frozen?)".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::env::Env;
    use asm_testkit::{MockServer, Response, TempDir};
    use serde_json::json;

    fn endpoint(url: &str) -> Endpoint {
        Endpoint { base_url: url.into(), port: None, source: "test".into() }
    }

    fn run(server: &MockServer) -> ProbeRecord {
        probe(&endpoint(&server.url()), Duration::from_millis(600), &ManualClock::at_epoch())
    }

    #[test]
    fn json_live_and_ready_is_ok() {
        let server = MockServer::start(|r| match r.path.as_str() {
            "/healthz" => Response::json(200, &json!({"ok": true, "status": "live"})),
            _ => Response::json(200, &json!({"ready": true, "failing": [], "uptimeMs": 7434})),
        });
        let rec = run(&server);
        assert_eq!(rec.kind, ProbeKind::Ok, "{rec:?}");
        assert_eq!(rec.paths.len(), 2);
        assert_eq!(server.requests().iter().map(|r| r.path.clone()).collect::<Vec<_>>(), ["/healthz", "/readyz"]);
    }

    #[test]
    fn readyz_503_is_not_ready_with_the_failing_subsystem() {
        let server = MockServer::start(|r| match r.path.as_str() {
            "/healthz" => Response::json(200, &json!({"ok": true, "status": "live"})),
            _ => Response::json(503, &json!({"ready": false, "status": "starting", "failing": ["agent-database:main"]})),
        });
        let rec = run(&server);
        assert_eq!(rec.kind, ProbeKind::NotReady);
        assert!(rec.detail.contains("agent-database:main"), "{}", rec.detail);
    }

    #[test]
    fn html_200_is_a_bad_answer_not_health() {
        let server = MockServer::start(|_| Response::html(200, "<!doctype html><title>OpenClaw Control</title>"));
        let rec = run(&server);
        assert_eq!(rec.kind, ProbeKind::BadAnswer);
        assert!(rec.detail.contains("HTML"), "{}", rec.detail);
        assert_eq!(server.requests().len(), 1, "readiness is not asked when liveness failed");
    }

    #[test]
    fn accepted_but_never_answered_is_unresponsive() {
        let server = MockServer::start(|_| Response::hang());
        let rec = run(&server);
        assert_eq!(rec.kind, ProbeKind::Unresponsive, "{rec:?}");
    }

    #[test]
    fn refused_is_down() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let rec = probe(&endpoint(&format!("http://127.0.0.1:{port}")), Duration::from_millis(600), &ManualClock::at_epoch());
        assert_eq!(rec.kind, ProbeKind::Down, "{rec:?}");
    }

    #[test]
    fn body_verdicts() {
        assert_eq!(judge_body("/healthz", 200, "application/json", r#"{"ok":true,"status":"live"}"#).0, ProbeKind::Ok);
        assert_eq!(judge_body("/healthz", 200, "application/json", r#"{"ok":false}"#).0, ProbeKind::NotReady);
        assert_eq!(judge_body("/readyz", 200, "application/json", r#"{"ok":true}"#).0, ProbeKind::BadAnswer);
        assert_eq!(judge_body("/readyz", 500, "application/json", r#"{"ready":true}"#).0, ProbeKind::NotReady);
        assert_eq!(judge_body("/healthz", 200, "text/plain", "OK").0, ProbeKind::BadAnswer);
        assert_eq!(judge_body("/healthz", 200, "application/json", "[true]").0, ProbeKind::BadAnswer);
    }

    fn rt_with(home: &TempDir, pairs: &[(&str, &str)]) -> Runtime {
        let mut env = Env::from_pairs([("HOME", home.path().to_str().unwrap())]);
        for (k, v) in pairs {
            env.set(k, v);
        }
        Runtime::from_env(env).unwrap()
    }

    #[test]
    fn port_resolution_follows_openclaw() {
        let home = TempDir::new("gw-port");
        assert_eq!(Endpoint::resolve(&rt_with(&home, &[])).base_url, "http://127.0.0.1:18789");
        assert_eq!(Endpoint::resolve(&rt_with(&home, &[("OPENCLAW_GATEWAY_PORT", "127.0.0.1:18999")])).port, Some(18999));
        let url = Endpoint::resolve(&rt_with(&home, &[("ASM_GATEWAY_URL", "http://localhost:19000/"), ("OPENCLAW_GATEWAY_PORT", "18999")]));
        assert_eq!((url.base_url.as_str(), url.port), ("http://localhost:19000", Some(19000)));
        std::fs::create_dir_all(home.join(".openclaw")).unwrap();
        std::fs::write(home.join(".openclaw/openclaw.json"), "{ // json5\n gateway: { port: 18777, }, }").unwrap();
        let from_config = Endpoint::resolve(&rt_with(&home, &[]));
        assert_eq!(from_config.port, Some(18777));
        assert!(from_config.source.starts_with("gateway.port"));
        let profiled = Endpoint::resolve(&rt_with(&home, &[("OPENCLAW_PROFILE", "work")]));
        assert_eq!(profiled.port, Some(profile_port("work")));
        assert!((20_000..60_000).contains(&profile_port("work")));
    }

    #[test]
    fn profile_port_matches_openclaw_and_port_variable_forms() {
        // Computed with OpenClaw's own resolveGatewayPort code under node 24.
        assert_eq!(profile_port("work"), 41984);
        assert_eq!(parse_port_env("[::1]:18999"), Some(18999));
        assert_eq!(parse_port_env("a:b:1"), None);
        assert_eq!(parse_port_env("0"), None);
    }
}
