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
use crate::http::{Http, Route};
use crate::platform::openclaw::config as oc_config;
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
    let lookup = |name: &str| -> Option<String> {
        rt.env.get(name).map(str::to_string).or_else(|| config.and_then(|c| oc_config::env_var(c, name))).or_else(|| oc_config::dotenv_var(&rt.paths, name))
    };
    if let Some((raw, base_url)) = config.and_then(oc_config::minimax_provider) {
        if let Some(key) = oc_config::resolve_secret_ref(&raw, &lookup) {
            let source = format!("{} (models.providers MiniMax apiKey)", rt.paths.openclaw_config.display());
            return Some(KeyInfo { key: Secret::new(key, source), china_hint: base_url.contains("minimaxi.com") });
        }
    }
    lookup("MINIMAX_API_KEY").map(|key| KeyInfo { key: Secret::new(key, "OpenClaw env / .env MINIMAX_API_KEY"), china_hint: false })
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
    http: Http,
}

impl Client {
    pub fn new(key: KeyInfo, hosts: Vec<String>) -> Client {
        let http = Http::new(CONNECT_TIMEOUT, REQUEST_TIMEOUT, Route::ProxyFromEnv).body_limit(MAX_BODY_BYTES);
        Client { key, hosts, http }
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
        let bearer = format!("Bearer {}", self.key.key.expose());
        let headers = [
            ("Authorization", bearer.as_str()),
            ("Accept", "application/json"),
            ("Content-Type", "application/json"),
            ("MM-API-Source", "auto-session-manager"),
        ];
        let answer = self
            .http
            .get(&url, &headers)
            .map_err(|e| ReadError::Transport { host: host.into(), detail: crate::redact::redact(&e.to_string()).into_owned() })?;
        reading::check_answer(host, answer.status, &answer.content_type, &answer.body, answer.retry_after.as_deref(), now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_order() {
        let key = |china_hint| KeyInfo { key: Secret::new("sk-cp-0123456789abcdef", "t"), china_hint };
        assert_eq!(hosts_for(None, MinimaxRegion::Auto, &key(false)), vec![GLOBAL_HOST, CHINA_HOST]);
        assert_eq!(hosts_for(None, MinimaxRegion::Auto, &key(true)), vec![CHINA_HOST, GLOBAL_HOST]);
        assert_eq!(hosts_for(None, MinimaxRegion::Cn, &key(false)), vec![CHINA_HOST]);
        assert_eq!(hosts_for(Some("http://127.0.0.1:9/v1/"), MinimaxRegion::Cn, &key(false)), vec!["http://127.0.0.1:9"]);
    }
}
