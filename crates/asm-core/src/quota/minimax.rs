//! The MiniMax side of the wire: which key, which host, which path, and one HTTP GET each.
//!
//! Key: ASM_MINIMAX_API_KEY / MINIMAX_API_KEY, else the MiniMax provider configured in
//! OpenClaw's `openclaw.json` (`models.providers.<minimax…>.apiKey`, a literal, `${VAR}` or an
//! env reference), else `MINIMAX_API_KEY` in OpenClaw's `env` config or its `.env` file.
//! Hosts: ASM_MINIMAX_BASE_URL alone when set; else by ASM_MINIMAX_REGION, and in `auto` the
//! global host first and the China host when the global one refuses the key (or first, when
//! OpenClaw's provider points at minimaxi.com). Paths: `/v1/token_plan/remains`, the legacy
//! Coding Plan paths only when that answers 404/405 or a body without `model_remains`;
//! `sk-api-` pay-as-you-go keys read `/account/query_balance` instead.

use super::reading::{self, Endpoint, QuotaReading, ReadError};
use crate::config::{MinimaxRegion, Secret};
use crate::Runtime;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::time::Duration;

pub const GLOBAL_HOST: &str = "https://api.minimax.io";
pub const CHINA_HOST: &str = "https://api.minimaxi.com";
const TOKEN_PLAN_PATH: &str = "/v1/token_plan/remains";
const LEGACY_PATHS: [&str; 2] = ["/v1/api/openplatform/coding_plan/remains", "/v1/coding_plan/remains"];
const BALANCE_PATH: &str = "/account/query_balance";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
const MAX_BODY_BYTES: u64 = 1 << 20;

/// The key to read the quota with and what is known about its region.
#[derive(Debug, Clone)]
pub struct KeyInfo {
    pub key: Secret,
    /// The key was configured against the China host (OpenClaw provider `baseUrl`).
    pub china_hint: bool,
}

impl KeyInfo {
    /// Pay-as-you-go Open Platform keys are not metered by `remains`.
    pub fn is_pay_as_you_go(&self) -> bool {
        self.key.expose().starts_with("sk-api-")
    }
}

/// Finds the key, or `None` when none is configured anywhere (the quota watch is then off).
/// `openclaw_config` is OpenClaw's parsed `openclaw.json`, when there is one.
pub fn find_key_in(rt: &Runtime, openclaw_config: Option<&Value>) -> Option<KeyInfo> {
    if let Some(key) = &rt.config.minimax_api_key {
        return Some(KeyInfo { key: key.clone(), china_hint: false });
    }
    let config = openclaw_config;
    let dotenv = std::fs::read_to_string(rt.paths.state_dir.join(".env")).unwrap_or_default();
    let lookup = |name: &str| -> Option<String> {
        rt.env.get(name).map(str::to_string).or_else(|| config.and_then(|c| config_env(c, name))).or_else(|| dotenv_value(&dotenv, name))
    };
    if let Some((raw, base_url)) = config.and_then(openclaw_minimax_provider) {
        if let Some(key) = resolve_key_ref(&raw, &lookup) {
            let source = format!("{} (models.providers MiniMax apiKey)", rt.paths.openclaw_config.display());
            return Some(KeyInfo { key: Secret::new(key, source), china_hint: base_url.contains("minimaxi.com") });
        }
    }
    lookup("MINIMAX_API_KEY").map(|key| KeyInfo { key: Secret::new(key, "OpenClaw env / .env MINIMAX_API_KEY"), china_hint: false })
}

/// The first provider under `models.providers` whose name or baseUrl says MiniMax, with an
/// `apiKey`: (the raw apiKey value, its baseUrl).
fn openclaw_minimax_provider(config: &Value) -> Option<(Value, String)> {
    let providers = config.get("models")?.get("providers")?.as_object()?;
    providers.iter().find_map(|(name, p)| {
        let base_url = p.get("baseUrl").or_else(|| p.get("base_url")).and_then(Value::as_str).unwrap_or("").to_string();
        let is_minimax = name.to_ascii_lowercase().contains("minimax") || base_url.contains("minimax");
        let key = p.get("apiKey").or_else(|| p.get("api_key"))?;
        is_minimax.then(|| (key.clone(), base_url))
    })
}

/// A literal key, `${VAR}`, or `{source: "env", id: "VAR"}`.
fn resolve_key_ref(raw: &Value, lookup: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let text = match raw {
        Value::String(s) => s.trim().to_string(),
        Value::Object(o) if o.get("source").and_then(Value::as_str) == Some("env") => {
            let var = o.get("id").or_else(|| o.get("name")).and_then(Value::as_str)?;
            return lookup(var).filter(|v| !v.is_empty());
        }
        _ => return None,
    };
    match text.strip_prefix("${").and_then(|t| t.strip_suffix('}')) {
        Some(var) => lookup(var.trim()).filter(|v| !v.is_empty()),
        None => (!text.is_empty()).then_some(text),
    }
}

/// `env.<NAME>` or `env.vars.<NAME>` in openclaw.json.
fn config_env(config: &Value, name: &str) -> Option<String> {
    let env = config.get("env")?;
    env.get(name).or_else(|| env.get("vars").and_then(|v| v.get(name))).and_then(Value::as_str).map(str::to_string)
}

fn dotenv_value(text: &str, name: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let line = line.trim().strip_prefix("export ").unwrap_or(line.trim());
        let (k, v) = line.split_once('=')?;
        (k.trim() == name).then(|| v.trim().trim_matches(|c| c == '"' || c == '\'').to_string()).filter(|v| !v.is_empty())
    })
}

/// The hosts to ask, in order.
pub fn hosts_for(base_url: Option<&str>, region: MinimaxRegion, key: &KeyInfo) -> Vec<String> {
    if let Some(base) = base_url {
        let base = base.trim_end_matches('/');
        return vec![base.strip_suffix("/v1").unwrap_or(base).to_string()];
    }
    match region {
        MinimaxRegion::Global => vec![GLOBAL_HOST.into()],
        MinimaxRegion::Cn => vec![CHINA_HOST.into()],
        MinimaxRegion::Auto if key.china_hint => vec![CHINA_HOST.into(), GLOBAL_HOST.into()],
        MinimaxRegion::Auto => vec![GLOBAL_HOST.into(), CHINA_HOST.into()],
    }
}

/// Reads the quota (or balance) over HTTP.
pub struct Client {
    key: KeyInfo,
    hosts: Vec<String>,
    agent: ureq::Agent,
}

impl Client {
    pub fn new(key: KeyInfo, hosts: Vec<String>) -> Client {
        let agent = ureq::AgentBuilder::new().timeout_connect(CONNECT_TIMEOUT).timeout(REQUEST_TIMEOUT).redirects(0).build();
        Client { key, hosts, agent }
    }

    pub fn hosts(&self) -> &[String] {
        &self.hosts
    }

    pub fn for_runtime(rt: &Runtime, key: KeyInfo) -> Client {
        let hosts = hosts_for(rt.config.minimax_base_url.as_deref(), rt.config.minimax_region, &key);
        Client::new(key, hosts)
    }

    /// One reading: each host in turn while the key is refused (region fallback), the legacy
    /// path only when the current one is not a remains endpoint. The first host's error
    /// wins when every host refuses, unless a later one says something more specific.
    pub fn read(&self, now: DateTime<Utc>) -> Result<QuotaReading, ReadError> {
        let mut first_error: Option<ReadError> = None;
        for host in &self.hosts {
            match self.read_host(host, now) {
                Ok(reading) => return Ok(reading),
                Err(e) if e.is_auth() => {
                    log::info!("MiniMax quota: {e}; trying the next host");
                    first_error.get_or_insert(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(first_error.unwrap_or_else(|| ReadError::Transport { host: "-".into(), detail: "no MiniMax host configured".into() }))
    }

    fn read_host(&self, host: &str, now: DateTime<Utc>) -> Result<QuotaReading, ReadError> {
        if self.key.is_pay_as_you_go() {
            let body = self.get(host, BALANCE_PATH, now)?;
            return reading::parse_balance(host, &body, now);
        }
        let first = self.get(host, TOKEN_PLAN_PATH, now).and_then(|b| reading::parse_remains(Endpoint::TokenPlan, host, &b, now));
        match first {
            Err(e) if e.is_wrong_path() => {
                log::info!("MiniMax quota: {e}; trying the legacy Coding Plan path");
                let mut last = e;
                for path in LEGACY_PATHS {
                    match self.get(host, path, now).and_then(|b| reading::parse_remains(Endpoint::CodingPlan, host, &b, now)) {
                        Err(e) if e.is_wrong_path() => last = e,
                        other => return other,
                    }
                }
                Err(last)
            }
            other => other,
        }
    }

    fn get(&self, host: &str, path: &str, now: DateTime<Utc>) -> Result<Value, ReadError> {
        let url = format!("{host}{path}");
        let request = self
            .agent
            .get(&url)
            .set("Authorization", &format!("Bearer {}", self.key.key.expose()))
            .set("Accept", "application/json")
            .set("Content-Type", "application/json")
            .set("MM-API-Source", "auto-session-manager");
        let response = match request.call() {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(ureq::Error::Transport(t)) => {
                return Err(ReadError::Transport { host: host.into(), detail: crate::redact::redact(&t.to_string()).into_owned() })
            }
        };
        let status = response.status();
        let content_type = response.header("Content-Type").unwrap_or("").to_string();
        let retry_after = response.header("Retry-After").map(str::to_string);
        let mut body = String::new();
        use std::io::Read;
        if let Err(e) = response.into_reader().take(MAX_BODY_BYTES).read_to_string(&mut body) {
            return Err(ReadError::Transport { host: host.into(), detail: format!("reading the answer failed: {e}") });
        }
        reading::check_answer(host, status, &content_type, &body, retry_after.as_deref(), now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_references_resolve() {
        let lookup = |n: &str| (n == "MM").then(|| "sk-cp-from-env".to_string());
        assert_eq!(resolve_key_ref(&json!("sk-cp-literal"), &lookup).as_deref(), Some("sk-cp-literal"));
        assert_eq!(resolve_key_ref(&json!("${MM}"), &lookup).as_deref(), Some("sk-cp-from-env"));
        assert_eq!(resolve_key_ref(&json!({"source": "env", "id": "MM"}), &lookup).as_deref(), Some("sk-cp-from-env"));
        assert_eq!(resolve_key_ref(&json!("${NOPE}"), &lookup), None);
        assert_eq!(dotenv_value("# c\nexport MINIMAX_API_KEY=\"abc123\"\n", "MINIMAX_API_KEY").as_deref(), Some("abc123"));
    }

    #[test]
    fn host_order() {
        let key = |china_hint| KeyInfo { key: Secret::new("sk-cp-0123456789abcdef", "t"), china_hint };
        assert_eq!(hosts_for(None, MinimaxRegion::Auto, &key(false)), vec![GLOBAL_HOST, CHINA_HOST]);
        assert_eq!(hosts_for(None, MinimaxRegion::Auto, &key(true)), vec![CHINA_HOST, GLOBAL_HOST]);
        assert_eq!(hosts_for(None, MinimaxRegion::Cn, &key(false)), vec![CHINA_HOST]);
        assert_eq!(hosts_for(Some("http://127.0.0.1:9/v1/"), MinimaxRegion::Cn, &key(false)), vec!["http://127.0.0.1:9"]);
    }
}
