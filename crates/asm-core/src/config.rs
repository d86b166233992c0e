//! ASM_* configuration: every variable, its default, its validation, and the effective view
//! that `health_check` prints. A bad value stops the tool before it does anything, with one
//! line naming the variable, the value and what is accepted.
//!
//! One general mechanism: [`VarReader`] reads a variable, parses it with a typed parser and
//! turns any failure into [`ConfigError::Invalid`]. Command-line flags override fields after
//! loading (a flag beats the variable).

use crate::env::Env;
use serde::{Serialize, Serializer};
use std::fmt;
use thiserror::Error;

#[derive(Debug, Error, PartialEq)]
pub enum ConfigError {
    #[error("{var}={value:?} is invalid: expected {expected}")]
    Invalid { var: String, value: String, expected: String },
    #[error("{0}")]
    Missing(String),
}

/// A secret value: never printed, logged or serialized; only whether it is set shows.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    value: String,
    /// Where it came from (a variable name or a config path), safe to show.
    pub source: String,
}

impl Secret {
    pub fn new(value: impl Into<String>, source: impl Into<String>) -> Self {
        let value = value.into();
        crate::redact::register_secret(&value);
        Secret { value, source: source.into() }
    }

    pub fn expose(&self) -> &str {
        &self.value
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(set from {})", self.source)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("set", &true)?;
        map.serialize_entry("from", &self.source)?;
        map.end()
    }
}

/// Below how much remaining MiniMax quota work pauses: a count of calls or a percentage.
/// Serialized as it is written: `100` or `"10%"`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum QuotaThreshold {
    Count(u64),
    Percent(f64),
}

impl fmt::Display for QuotaThreshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuotaThreshold::Count(n) => write!(f, "{n}"),
            QuotaThreshold::Percent(p) => write!(f, "{p}%"),
        }
    }
}

impl Serialize for QuotaThreshold {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            QuotaThreshold::Count(n) => s.serialize_u64(*n),
            QuotaThreshold::Percent(_) => s.serialize_str(&self.to_string()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyBackend {
    Auto,
    Openclaw,
    Telegram,
    Log,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SummaryMode {
    Extract,
    Platform,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MinimaxRegion {
    Auto,
    Global,
    Cn,
}

/// The effective configuration. Field names are the variable names without `ASM_`,
/// lower-cased, so the effective view reads like the environment it came from.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    // Context and sessions
    pub context_threshold: u8,
    pub cc_estimate_tokens: u64,
    pub oc_estimate_tokens: u64,
    pub handoff_max_bytes: usize,
    pub summary_mode: SummaryMode,
    // Monitor
    pub monitor_interval: u64,
    // Notifications
    pub feed_chat_id: Option<String>,
    pub feed_topic: i64,
    pub notify_backend: NotifyBackend,
    pub notify_cooldown: u64,
    pub telegram_api_root: String,
    pub telegram_bot_token: Option<Secret>,
    // Gateway
    pub gateway_url: Option<String>,
    pub gateway_timeout: u64,
    pub gateway_probe_timeout: u64,
    pub gateway_verify_grace: u64,
    pub gateway_max_restarts: u32,
    pub gateway_backoff_max: u64,
    pub gateway_restart_cmd: Option<Vec<String>>,
    pub gateway_start_cmd: Option<Vec<String>>,
    pub repair: bool,
    pub repair_timeout: u64,
    pub repair_max_turns: u32,
    // Quota
    pub minimax_quota_threshold: QuotaThreshold,
    pub minimax_api_key: Option<Secret>,
    pub minimax_region: MinimaxRegion,
    pub minimax_base_url: Option<String>,
    pub quota_interval: u64,
    pub pause_cmd: Option<Vec<String>>,
    pub resume_cmd: Option<Vec<String>>,
    // Logging
    pub log_level: String,
    pub log_max_bytes: u64,
    pub log_keep: u32,
    // Memory (issue 5): the optional platform summary
    /// How long a platform summary (`ASM_SUMMARY_MODE=platform`) may take before ASM falls back.
    pub summary_timeout: u64,
    /// Where a running `opencode serve` answers (summaries of a fork, continuation sessions).
    pub opencode_url: String,
    // Continuity (issue 12): handoffs and switches
    /// A handoff older than this (seconds) is not given to a new session any more.
    pub handoff_max_age: u64,
    /// A session switched less than this long ago (seconds) is not switched again.
    pub switch_cooldown: u64,
    /// Claude Code: a switch also starts a headless continuation (`claude -p`).
    pub cc_continue: bool,
    /// OpenCode: the continuation session's first message asks for a model turn.
    pub oc_continue: bool,
    /// How long a headless continuation may take (seconds).
    pub continue_timeout: u64,
    // Monitor (issue 13): what it acts on, and how often it looks at the gateway
    /// A session idle longer than this many hours is listed but never acted on; 0 = no limit.
    pub active_within: u64,
    /// At most this many switches start per round, fullest first; the rest wait.
    pub max_switches_per_round: u32,
    /// Seconds between gateway probes (the gateway step's own cadence).
    pub gateway_probe_interval: u64,
}

/// One variable of the effective configuration, typed, with where its value came from.
#[derive(Debug, Clone, Serialize)]
pub struct Setting {
    pub variable: String,
    /// The value in effect (`null` when unset and without a default).
    pub value: serde_json::Value,
    /// `environment`, `settings_file` (asm.env) or `unset` (the default applies).
    pub origin: crate::env::Origin,
}

impl Config {
    /// Reads and validates every variable; the first bad one is the error.
    pub fn from_env(env: &Env) -> Result<Config, ConfigError> {
        let r = VarReader { env };
        Ok(Config {
            context_threshold: r.int("ASM_CONTEXT_THRESHOLD", 80, 1, 100, "an integer percent from 1 to 100")? as u8,
            cc_estimate_tokens: r.int("ASM_CC_ESTIMATE_TOKENS", 10_000, 1, 10_000_000, "a token count from 1 to 10000000")?,
            oc_estimate_tokens: r.int("ASM_OC_ESTIMATE_TOKENS", 8_000, 1, 10_000_000, "a token count from 1 to 10000000")?,
            handoff_max_bytes: r.int("ASM_HANDOFF_MAX_BYTES", 6_000, 500, 1_000_000, "a byte count from 500 to 1000000")? as usize,
            summary_mode: r.choice("ASM_SUMMARY_MODE", SummaryMode::Extract, &[("extract", SummaryMode::Extract), ("platform", SummaryMode::Platform)])?,
            monitor_interval: r.int("ASM_MONITOR_INTERVAL", 60, 1, 86_400, "seconds from 1 to 86400")?,
            feed_chat_id: r.opt("ASM_FEED_CHAT_ID", parse_chat_id, "a Telegram chat id such as -1001234567890 or @channelname")?,
            feed_topic: r.int("ASM_FEED_TOPIC", 466, 1, i32::MAX as u64, "a Telegram topic (message thread) id, 1 for General")? as i64,
            notify_backend: r.choice(
                "ASM_NOTIFY_BACKEND",
                NotifyBackend::Auto,
                &[("auto", NotifyBackend::Auto), ("openclaw", NotifyBackend::Openclaw), ("telegram", NotifyBackend::Telegram), ("log", NotifyBackend::Log)],
            )?,
            notify_cooldown: r.int("ASM_NOTIFY_COOLDOWN", 300, 0, 86_400, "seconds from 0 to 86400")?,
            telegram_api_root: r.opt("ASM_TELEGRAM_API_ROOT", parse_http_url, "an http(s) URL")?.unwrap_or_else(|| "https://api.telegram.org".into()),
            telegram_bot_token: r.secret(&["ASM_TELEGRAM_BOT_TOKEN", "TELEGRAM_BOT_TOKEN"]),
            gateway_url: r.opt("ASM_GATEWAY_URL", parse_http_url, "an http(s) URL such as http://127.0.0.1:18789")?,
            gateway_timeout: r.int("ASM_GATEWAY_TIMEOUT", 180, 1, 86_400, "seconds from 1 to 86400")?,
            gateway_probe_timeout: r.int("ASM_GATEWAY_PROBE_TIMEOUT", 3, 1, 60, "seconds from 1 to 60")?,
            gateway_verify_grace: r.int("ASM_GATEWAY_VERIFY_GRACE", 60, 1, 3_600, "seconds from 1 to 3600")?,
            gateway_max_restarts: r.int("ASM_GATEWAY_MAX_RESTARTS", 3, 0, 100, "a count from 0 to 100")? as u32,
            gateway_backoff_max: r.int("ASM_GATEWAY_BACKOFF_MAX", 600, 1, 86_400, "seconds from 1 to 86400")?,
            gateway_restart_cmd: r.opt("ASM_GATEWAY_RESTART_CMD", parse_argv, ARGV_EXPECTED)?,
            gateway_start_cmd: r.opt("ASM_GATEWAY_START_CMD", parse_argv, ARGV_EXPECTED)?,
            repair: r.flag("ASM_REPAIR", true)?,
            repair_timeout: r.int("ASM_REPAIR_TIMEOUT", 900, 10, 86_400, "seconds from 10 to 86400")?,
            repair_max_turns: r.int("ASM_REPAIR_MAX_TURNS", 25, 1, 500, "a count from 1 to 500")? as u32,
            minimax_quota_threshold: r
                .opt("ASM_MINIMAX_QUOTA_THRESHOLD", parse_quota_threshold, "a call count (e.g. 100) or a percentage from 0% to 100% (e.g. 10%)")?
                .unwrap_or(QuotaThreshold::Count(100)),
            minimax_api_key: r.secret(&["ASM_MINIMAX_API_KEY", "MINIMAX_API_KEY"]),
            minimax_region: r.choice(
                "ASM_MINIMAX_REGION",
                MinimaxRegion::Auto,
                &[("auto", MinimaxRegion::Auto), ("global", MinimaxRegion::Global), ("cn", MinimaxRegion::Cn), ("china", MinimaxRegion::Cn)],
            )?,
            minimax_base_url: r.opt("ASM_MINIMAX_BASE_URL", parse_http_url, "an http(s) URL")?,
            quota_interval: r.int("ASM_QUOTA_INTERVAL", 300, 1, 86_400, "seconds from 1 to 86400")?,
            pause_cmd: r.opt("ASM_PAUSE_CMD", parse_argv, ARGV_EXPECTED)?,
            resume_cmd: r.opt("ASM_RESUME_CMD", parse_argv, ARGV_EXPECTED)?,
            log_level: r
                .opt("ASM_LOG_LEVEL", parse_log_level, "one of error, warn, info, debug, trace, off")?
                .or_else(|| env.get("RUST_LOG").map(str::to_string))
                .unwrap_or_else(|| "info".into()),
            log_max_bytes: r.int("ASM_LOG_MAX_BYTES", 5 * 1024 * 1024, 4096, 1 << 40, "a byte count of at least 4096")?,
            log_keep: r.int("ASM_LOG_KEEP", 3, 1, 50, "a count from 1 to 50")? as u32,
            summary_timeout: r.int("ASM_SUMMARY_TIMEOUT", 300, 1, 86_400, "seconds from 1 to 86400")?,
            opencode_url: r
                .opt("ASM_OPENCODE_URL", parse_http_url, "an http(s) URL such as http://127.0.0.1:4096")?
                .unwrap_or_else(|| "http://127.0.0.1:4096".into()),
            handoff_max_age: r.opt("ASM_HANDOFF_MAX_AGE", parse_duration, DURATION_EXPECTED)?.unwrap_or(7 * 86_400),
            switch_cooldown: r.opt("ASM_SWITCH_COOLDOWN", parse_duration, DURATION_EXPECTED)?.unwrap_or(1_800),
            cc_continue: r.flag("ASM_CC_CONTINUE", false)?,
            oc_continue: r.flag("ASM_OC_CONTINUE", false)?,
            continue_timeout: r.int("ASM_CONTINUE_TIMEOUT", 600, 10, 86_400, "seconds from 10 to 86400")?,
            active_within: r.int("ASM_ACTIVE_WITHIN", 6, 0, 87_600, "hours from 0 (no limit) to 87600")?,
            max_switches_per_round: r.int("ASM_MAX_SWITCHES_PER_ROUND", 5, 1, 1_000, "a count from 1 to 1000")? as u32,
            gateway_probe_interval: r.int("ASM_GATEWAY_PROBE_INTERVAL", 15, 1, 3_600, "seconds from 1 to 3600")?,
        })
    }

    /// The configuration as a JSON object keyed by field name: secrets only as
    /// `{"set": true, "from": …}`.
    pub fn effective(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// Every variable with its typed value and origin, in the order of [`Config`]'s fields.
    pub fn settings(&self, env: &Env) -> Vec<Setting> {
        let serde_json::Value::Object(fields) = self.effective() else { return Vec::new() };
        fields
            .into_iter()
            .map(|(field, value)| {
                let variable = format!("ASM_{}", field.to_ascii_uppercase());
                let secret_source = value.get("from").and_then(|f| f.as_str()).map(str::to_string);
                let origin = env.origin(secret_source.as_deref().unwrap_or(&variable));
                Setting { variable, value, origin }
            })
            .collect()
    }
}

const DURATION_EXPECTED: &str = "a duration such as 3600, 90s, 30m, 12h or 7d";

/// Seconds, or a number with `s`, `m`, `h` or `d`.
fn parse_duration(raw: &str) -> Option<u64> {
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (digits, unit) = raw.split_at(split);
    let n: u64 = digits.parse().ok()?;
    let factor = match unit.trim() {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return None,
    };
    n.checked_mul(factor)
}

const ARGV_EXPECTED: &str = "a command as a JSON array of strings or as shell words (quotes group words, a backslash escapes)";

/// Reads one variable at a time from an [`Env`]; every failure names the variable.
struct VarReader<'a> {
    env: &'a Env,
}

impl VarReader<'_> {
    fn invalid(&self, var: &str, value: &str, expected: &str) -> ConfigError {
        ConfigError::Invalid { var: var.into(), value: value.into(), expected: expected.into() }
    }

    fn opt<T>(&self, var: &str, parse: fn(&str) -> Option<T>, expected: &str) -> Result<Option<T>, ConfigError> {
        match self.env.get(var) {
            None => Ok(None),
            Some(raw) => parse(raw.trim()).map(Some).ok_or_else(|| self.invalid(var, raw, expected)),
        }
    }

    fn int(&self, var: &str, default: u64, min: u64, max: u64, expected: &str) -> Result<u64, ConfigError> {
        let Some(raw) = self.env.get(var) else { return Ok(default) };
        match raw.trim().parse::<u64>() {
            Ok(v) if (min..=max).contains(&v) => Ok(v),
            _ => Err(self.invalid(var, raw, expected)),
        }
    }

    fn choice<T: Copy>(&self, var: &str, default: T, options: &[(&str, T)]) -> Result<T, ConfigError> {
        let Some(raw) = self.env.get(var) else { return Ok(default) };
        let wanted = raw.trim().to_ascii_lowercase();
        options.iter().find(|(name, _)| *name == wanted).map(|(_, v)| *v).ok_or_else(|| {
            let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
            self.invalid(var, raw, &format!("one of {}", names.join(", ")))
        })
    }

    fn flag(&self, var: &str, default: bool) -> Result<bool, ConfigError> {
        let Some(raw) = self.env.get(var) else { return Ok(default) };
        match raw.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            _ => Err(self.invalid(var, raw, "1 or 0 (also true/false, yes/no, on/off)")),
        }
    }

    fn secret(&self, vars: &[&'static str]) -> Option<Secret> {
        self.env.first(vars).map(|(name, value)| Secret::new(value.trim(), name))
    }
}

fn parse_chat_id(raw: &str) -> Option<String> {
    let numeric = raw.strip_prefix('-').unwrap_or(raw);
    let is_numeric = !numeric.is_empty() && numeric.bytes().all(|b| b.is_ascii_digit());
    let is_username = raw.len() > 1 && raw.starts_with('@') && raw[1..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    (is_numeric || is_username).then(|| raw.to_string())
}

fn parse_http_url(raw: &str) -> Option<String> {
    let rest = raw.strip_prefix("http://").or_else(|| raw.strip_prefix("https://"))?;
    (!rest.is_empty() && !rest.contains(char::is_whitespace)).then(|| raw.trim_end_matches('/').to_string())
}

fn parse_quota_threshold(raw: &str) -> Option<QuotaThreshold> {
    match raw.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().ok().filter(|v| (0.0..=100.0).contains(v)).map(QuotaThreshold::Percent),
        None => raw.parse::<u64>().ok().map(QuotaThreshold::Count),
    }
}

fn parse_log_level(raw: &str) -> Option<String> {
    let level = raw.to_ascii_lowercase();
    ["error", "warn", "info", "debug", "trace", "off"].contains(&level.as_str()).then_some(level)
}

/// A command as an argument vector: a JSON array of strings, or words split as a POSIX shell
/// splits them (quotes group words, a backslash escapes) — by `shlex`. No shell ever runs it.
pub fn parse_argv(raw: &str) -> Option<Vec<String>> {
    if raw.starts_with('[') {
        let argv: Vec<String> = serde_json::from_str(raw).ok()?;
        return (!argv.is_empty() && !argv[0].is_empty()).then_some(argv);
    }
    shlex::split(raw).filter(|words| !words.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_env(&Env::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn defaults_match_the_original_skill() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.context_threshold, 80);
        assert_eq!(c.gateway_timeout, 180);
        assert_eq!(c.monitor_interval, 60);
        assert_eq!(c.minimax_quota_threshold, QuotaThreshold::Count(100));
        assert_eq!(c.cc_estimate_tokens, 10_000);
        assert_eq!(c.oc_estimate_tokens, 8_000);
        assert_eq!(c.feed_topic, 466);
        assert_eq!(c.notify_backend, NotifyBackend::Auto);
        assert_eq!(c.gateway_max_restarts, 3);
        assert_eq!(c.handoff_max_bytes, 6000);
        assert_eq!(c.summary_mode, SummaryMode::Extract);
        assert_eq!(c.summary_timeout, 300);
        assert_eq!(c.opencode_url, "http://127.0.0.1:4096");
        assert!(c.repair);
        assert_eq!((c.handoff_max_age, c.switch_cooldown, c.cc_continue, c.oc_continue), (7 * 86_400, 1_800, false, false));
    }

    #[test]
    fn bad_values_name_variable_value_and_what_is_accepted() {
        for (var, value) in [
            ("ASM_CONTEXT_THRESHOLD", "abc"),
            ("ASM_CONTEXT_THRESHOLD", "150"),
            ("ASM_CONTEXT_THRESHOLD", "0"),
            ("ASM_MONITOR_INTERVAL", "-5"),
            ("ASM_GATEWAY_TIMEOUT", "3m"),
            ("ASM_NOTIFY_BACKEND", "pigeon"),
            ("ASM_MINIMAX_QUOTA_THRESHOLD", "120%"),
            ("ASM_FEED_CHAT_ID", "my group"),
            ("ASM_GATEWAY_URL", "localhost:18789"),
            ("ASM_REPAIR", "maybe"),
            ("ASM_GATEWAY_START_CMD", "openclaw 'gateway"),
            ("ASM_SUMMARY_MODE", "llm"),
            ("ASM_SUMMARY_TIMEOUT", "0"),
            ("ASM_OPENCODE_URL", "127.0.0.1:4096"),
            ("ASM_HANDOFF_MAX_BYTES", "100"),
            ("ASM_HANDOFF_MAX_AGE", "a week"),
            ("ASM_SWITCH_COOLDOWN", "5x"),
            ("ASM_CC_CONTINUE", "sometimes"),
        ] {
            let err = cfg(&[(var, value)]).unwrap_err();
            let line = err.to_string();
            assert!(line.starts_with(&format!("{var}=\"{value}\" is invalid: expected ")), "{line}");
            assert!(!line.contains('\n'));
        }
    }

    #[test]
    fn accepted_forms() {
        let c = cfg(&[
            ("ASM_MINIMAX_QUOTA_THRESHOLD", "10%"),
            ("ASM_FEED_CHAT_ID", "-1001234567890"),
            ("ASM_GATEWAY_URL", "http://127.0.0.1:18999/"),
            ("ASM_NOTIFY_BACKEND", "Telegram"),
            ("ASM_REPAIR", "0"),
            ("ASM_GATEWAY_START_CMD", r#"openclaw gateway run --port "18 999""#),
        ])
        .unwrap();
        assert_eq!(c.minimax_quota_threshold, QuotaThreshold::Percent(10.0));
        assert_eq!(c.feed_chat_id.as_deref(), Some("-1001234567890"));
        assert_eq!(c.gateway_url.as_deref(), Some("http://127.0.0.1:18999"));
        assert_eq!(c.notify_backend, NotifyBackend::Telegram);
        assert!(!c.repair);
        assert_eq!(c.gateway_start_cmd.unwrap(), ["openclaw", "gateway", "run", "--port", "18 999"]);
    }

    #[test]
    fn durations_take_a_unit() {
        assert_eq!(parse_duration("90"), Some(90));
        assert_eq!(parse_duration("30m"), Some(1_800));
        assert_eq!(parse_duration("7d"), Some(604_800));
        assert_eq!(parse_duration("12 h"), Some(43_200));
        assert_eq!(parse_duration("d"), None);
        assert_eq!(parse_duration("1w"), None);
    }

    #[test]
    fn argv_accepts_json_arrays() {
        assert_eq!(parse_argv(r#"["a b","c"]"#).unwrap(), ["a b", "c"]);
        assert_eq!(parse_argv("[]"), None);
        assert_eq!(parse_argv("   "), None);
    }

    #[test]
    fn argv_words_split_as_a_shell_would() {
        assert_eq!(parse_argv(r#"systemctl --user restart "my unit""#).unwrap(), ["systemctl", "--user", "restart", "my unit"]);
        assert_eq!(parse_argv(r"run /path/with\ space 'it''s'").unwrap(), ["run", "/path/with space", "its"]);
        assert_eq!(parse_argv(r#"echo "a \"quoted\" word""#).unwrap(), ["echo", r#"a "quoted" word"#]);
        assert_eq!(parse_argv("openclaw 'gateway"), None, "an open quote is an error, not a guess");
    }

    #[test]
    fn effective_view_never_shows_secrets() {
        let c = cfg(&[("TELEGRAM_BOT_TOKEN", "123456789:AAHsecretsecretsecretsecretsecret12"), ("MINIMAX_API_KEY", "sk-cp-verysecretvalue")]).unwrap();
        let shown = c.effective().to_string();
        assert!(!shown.contains("AAHsecret"));
        assert!(!shown.contains("verysecret"));
        assert!(shown.contains(r#"{"set":true,"from":"TELEGRAM_BOT_TOKEN"}"#), "{shown}");
        assert!(!format!("{c:?}").contains("verysecret"));
    }

    #[test]
    fn settings_are_typed_and_say_where_each_value_came_from() {
        let mut env = Env::from_pairs([("ASM_CONTEXT_THRESHOLD", "70"), ("ASM_MINIMAX_QUOTA_THRESHOLD", "10%"), ("MINIMAX_API_KEY", "sk-cp-verysecretvalue")]);
        env.overlay_file(vec![("ASM_CONTEXT_THRESHOLD".into(), "75".into())]);
        let c = Config::from_env(&env).unwrap();
        let settings = c.settings(&env);
        let get = |v: &str| settings.iter().find(|s| s.variable == v).cloned().unwrap();
        let threshold = get("ASM_CONTEXT_THRESHOLD");
        assert_eq!((threshold.value, threshold.origin), (serde_json::json!(75), crate::env::Origin::SettingsFile), "the file beats the environment");
        assert_eq!(get("ASM_MINIMAX_QUOTA_THRESHOLD").value, serde_json::json!("10%"));
        assert_eq!(get("ASM_MINIMAX_API_KEY").origin, crate::env::Origin::Environment, "found under MINIMAX_API_KEY");
        assert_eq!((get("ASM_ACTIVE_WITHIN").value, get("ASM_ACTIVE_WITHIN").origin), (serde_json::json!(6), crate::env::Origin::Unset));
        assert!(get("ASM_GATEWAY_URL").value.is_null());
    }
}
