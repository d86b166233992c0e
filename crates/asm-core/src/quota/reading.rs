//! What MiniMax's answers mean: the `remains` body (both wrappers, both meanings of the
//! misnamed `*_usage_count`, the status enum, the 5-hour and weekly windows, the reset time),
//! the pay-as-you-go balance body, the error envelope, and the 2056 "usage limit exceeded …
//! resets at <time>" text that OpenClaw logs when a chat call hits the plan limit.
//!
//! Pure functions of text and `now`: no I/O here.

use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::sync::OnceLock;
use thiserror::Error;

/// Which MiniMax endpoint a reading came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    TokenPlan,
    CodingPlan,
    Balance,
}

/// `current_interval_status` / `current_weekly_status`: 1 limited, 2 exhausted, 3 unlimited
/// (3 with both totals 0 means the model is not in the plan).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowStatus {
    Limited,
    Exhausted,
    Unlimited,
    NotInPlan,
}

/// How the `*_usage_count` field was read (see the reference notes, "the usage_count trap").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CountMeaning {
    /// The count is what is left (older responses; the default without a percentage).
    Remaining,
    /// The count is what was used (newer responses; chosen because the percentage says so).
    Consumed,
    /// Neither reading matched the percentage, so the counts were dropped.
    Dropped,
    /// There was no usable count.
    Absent,
}

/// One quota window (the 5-hour interval or the week).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub status: WindowStatus,
    pub total: Option<u64>,
    pub remaining: Option<u64>,
    pub remaining_percent: Option<f64>,
    pub count_meaning: CountMeaning,
    pub starts_at: Option<DateTime<Utc>>,
    pub resets_at: Option<DateTime<Utc>>,
    /// Set when `remains_time` and `end_time` disagree; `end_time` wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset_note: Option<String>,
}

impl Window {
    /// Whether this window limits anything (unlimited and not-in-plan windows never do).
    pub fn is_limited(&self) -> bool {
        matches!(self.status, WindowStatus::Limited | WindowStatus::Exhausted)
    }

    pub fn is_exhausted(&self) -> bool {
        self.status == WindowStatus::Exhausted || self.remaining == Some(0) || self.remaining_percent.is_some_and(|p| p <= 0.0)
    }
}

/// A pay-as-you-go account balance (`sk-api-` keys).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Balance {
    /// What can still be spent: the `available`/`total` figure, else the sum of the parts.
    pub available: f64,
    /// Every balance figure found, by field name (cash, voucher, credit ...).
    pub parts: Map<String, Value>,
}

/// One successful read of the quota.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuotaReading {
    pub endpoint: Endpoint,
    pub host: String,
    pub read_at: DateTime<Utc>,
    pub plan: Option<String>,
    /// The `model_remains` row used for the chat budget.
    pub model: Option<String>,
    pub five_hour: Option<Window>,
    pub weekly: Option<Window>,
    pub balance: Option<Balance>,
}

impl QuotaReading {
    /// The windows that actually limit work (both must have room for a chat call).
    pub fn limited_windows(&self) -> impl Iterator<Item = (&'static str, &Window)> {
        [("5-hour", self.five_hour.as_ref()), ("weekly", self.weekly.as_ref())].into_iter().filter_map(|(n, w)| w.filter(|w| w.is_limited()).map(|w| (n, w)))
    }

    /// Nothing limits this plan (status 3 everywhere, or no limited window at all).
    pub fn is_unlimited(&self) -> bool {
        self.balance.is_none() && self.limited_windows().next().is_none()
    }

    /// The fewest calls left in any limiting window, when counts are known.
    pub fn remaining_calls(&self) -> Option<u64> {
        self.limited_windows().filter_map(|(_, w)| w.remaining).min()
    }

    /// The lowest remaining percentage of any limiting window.
    pub fn remaining_percent(&self) -> Option<f64> {
        self.limited_windows().filter_map(|(_, w)| w.remaining_percent).reduce(f64::min)
    }

    /// When the tightest limiting window resets.
    pub fn resets_at(&self) -> Option<DateTime<Utc>> {
        let tightest = self.limited_windows().min_by(|(_, a), (_, b)| {
            let key = |w: &Window| w.remaining_percent.unwrap_or(if w.is_exhausted() { 0.0 } else { 100.0 });
            key(a).total_cmp(&key(b))
        });
        tightest.and_then(|(_, w)| w.resets_at)
    }

    /// One line for people: plan, counts, percentages, resets.
    pub fn summary(&self) -> String {
        if let Some(b) = &self.balance {
            return format!("pay-as-you-go balance {:.2}", b.available);
        }
        let plan = self.plan.as_deref().or(self.model.as_deref()).unwrap_or("MiniMax plan");
        let windows: Vec<String> = [("5-hour", &self.five_hour), ("weekly", &self.weekly)]
            .into_iter()
            .filter_map(|(name, w)| w.as_ref().map(|w| format!("{name}: {}", describe_window(w))))
            .collect();
        if windows.is_empty() {
            return format!("{plan}: no quota windows reported");
        }
        format!("{plan}: {}", windows.join("; "))
    }
}

fn describe_window(w: &Window) -> String {
    let amount = match w.status {
        WindowStatus::Unlimited => "unlimited".to_string(),
        WindowStatus::NotInPlan => "not in plan".to_string(),
        _ => {
            let count = match (w.remaining, w.total) {
                (Some(r), Some(t)) => format!("{r}/{t} calls left"),
                (Some(r), None) => format!("{r} calls left"),
                _ => String::new(),
            };
            let pct = w.remaining_percent.map(|p| format!("{p:.0}%")).unwrap_or_default();
            let exhausted = if w.status == WindowStatus::Exhausted { " exhausted" } else { "" };
            match (count.is_empty(), pct.is_empty()) {
                (false, false) => format!("{count} ({pct}){exhausted}"),
                (false, true) => format!("{count}{exhausted}"),
                (true, false) => format!("{pct} left{exhausted}"),
                (true, true) => format!("no figures{exhausted}"),
            }
        }
    };
    match w.resets_at {
        Some(t) => format!("{amount}, resets {}", t.format("%Y-%m-%d %H:%M UTC")),
        None => amount,
    }
}

/// Why a read did not produce a reading. Every message is one line that says what to do.
#[derive(Debug, Clone, PartialEq, Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReadError {
    #[error("MiniMax quota check at {host} got an HTML page (HTTP {status}), not an API answer: wrong host for an API key (use https://api.minimax.io or https://api.minimaxi.com, or fix ASM_MINIMAX_BASE_URL)")]
    WrongHost { host: String, status: u16 },
    #[error(
        "MiniMax at {host} rejected the API key (HTTP {status}): it is invalid, revoked or for the other region; check ASM_MINIMAX_API_KEY / MINIMAX_API_KEY"
    )]
    Unauthorized { host: String, status: u16 },
    #[error("MiniMax at {host} is rate-limiting the quota check (HTTP {status}{}); backing off", retry_after_secs.map(|s| format!(", retry after {s}s")).unwrap_or_default())]
    RateLimited { host: String, status: u16, retry_after_secs: Option<u64> },
    #[error("MiniMax at {host} answered error {code} ({message}): {meaning}")]
    Api { host: String, code: i64, message: String, meaning: String },
    #[error("MiniMax plan usage limit reached (2056){}", resets_at.map(|t| format!(", resets at {}", t.format("%Y-%m-%d %H:%M UTC"))).unwrap_or_default())]
    UsageLimit { host: String, resets_at: Option<DateTime<Utc>> },
    #[error("MiniMax at {host} answered HTTP {status}: {detail}")]
    Http { host: String, status: u16, detail: String },
    #[error("MiniMax at {host} answered without a quota reading: {detail}")]
    NotRemains { host: String, detail: String },
    #[error("cannot reach MiniMax at {host}: {detail}")]
    Transport { host: String, detail: String },
}

impl ReadError {
    /// The key was refused here; another region's host may accept it.
    pub fn is_auth(&self) -> bool {
        match self {
            ReadError::Unauthorized { .. } | ReadError::WrongHost { .. } => true,
            ReadError::Api { code, .. } => matches!(code, 1004 | 2049),
            _ => false,
        }
    }

    /// The answer says the path is wrong (try the legacy path).
    pub fn is_wrong_path(&self) -> bool {
        matches!(self, ReadError::NotRemains { .. } | ReadError::Http { status: 404 | 405, .. })
    }

    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            ReadError::RateLimited { retry_after_secs, .. } => *retry_after_secs,
            _ => None,
        }
    }
}

/// What an error code means for a watchdog.
fn code_meaning(code: i64) -> &'static str {
    match code {
        1000 | 1001 | 1024 | 1033 => "temporary MiniMax failure, will retry",
        1002 | 2045 => "rate limited, backing off",
        1004 => "not authorized: wrong host for this key (or a console-only endpoint), or the key is not valid here",
        1008 => "insufficient balance on the pay-as-you-go account",
        1028 | 1030 => "quota exhausted",
        2049 => "invalid API key",
        2056 => "plan usage limit reached; wait for the window to reset",
        2057 => "this key is not a Coding/Token Plan key",
        2061 => "the model is not included in the current Token Plan",
        2062 => "no active Token Plan on this key (subscribe, or use the plan key rather than a pay-as-you-go key)",
        _ => "unexpected MiniMax error",
    }
}

/// Turns one HTTP answer into a body to parse or an error. `retry_after` is the raw header.
pub fn check_answer(host: &str, status: u16, content_type: &str, body: &str, retry_after: Option<&str>, now: DateTime<Utc>) -> Result<Value, ReadError> {
    let host = host.to_string();
    if looks_like_html(content_type, body) {
        return Err(ReadError::WrongHost { host, status });
    }
    let json: Option<Value> = serde_json::from_str(body).ok();
    if let Some(notice) = parse_usage_limit(body) {
        return Err(ReadError::UsageLimit { host, resets_at: notice });
    }
    let retry_after_secs = retry_after.and_then(|h| parse_retry_after(h, now));
    match json.as_ref().and_then(|v| envelope_error(&host, v)) {
        Some(ReadError::RateLimited { host, .. }) => return Err(ReadError::RateLimited { host, status, retry_after_secs }),
        Some(err) => return Err(err),
        None => {}
    }
    match status {
        200..=299 => json.ok_or_else(|| ReadError::NotRemains { host, detail: format!("not JSON: {}", snippet(body)) }),
        401 | 403 => Err(ReadError::Unauthorized { host, status }),
        429 => Err(ReadError::RateLimited { host, status, retry_after_secs }),
        _ => Err(ReadError::Http { host, status, detail: snippet(body) }),
    }
}

fn looks_like_html(content_type: &str, body: &str) -> bool {
    let head = body.trim_start().get(..15).unwrap_or(body.trim_start()).to_ascii_lowercase();
    content_type.to_ascii_lowercase().contains("text/html") || head.starts_with("<!doctype html") || head.starts_with("<html")
}

fn snippet(body: &str) -> String {
    let one_line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(160) {
        Some((i, _)) => format!("{}…", &one_line[..i]),
        None if one_line.is_empty() => "(empty body)".into(),
        None => one_line,
    }
}

/// `base_resp` (top level or under `data`) with a non-zero code, or an `error` object.
fn envelope_error(host: &str, v: &Value) -> Option<ReadError> {
    let base = v.get("base_resp").or_else(|| v.get("data").and_then(|d| d.get("base_resp")))?;
    let code = base.get("status_code").and_then(as_i64)?;
    if code == 0 {
        return None;
    }
    let message = base.get("status_msg").and_then(Value::as_str).unwrap_or("").to_string();
    let host = host.to_string();
    Some(match code {
        1002 | 2045 => ReadError::RateLimited { host, status: 200, retry_after_secs: None },
        _ => ReadError::Api { host, code, message, meaning: code_meaning(code).to_string() },
    })
}

/// `Retry-After`: delay seconds or an HTTP date.
pub fn parse_retry_after(raw: &str, now: DateTime<Utc>) -> Option<u64> {
    let raw = raw.trim();
    if let Ok(secs) = raw.parse::<u64>() {
        return Some(secs);
    }
    let at = DateTime::parse_from_rfc2822(raw).ok()?.with_timezone(&Utc);
    Some((at - now).num_seconds().max(0) as u64)
}

/// Parses a `remains` answer (already checked by [`check_answer`]).
pub fn parse_remains(endpoint: Endpoint, host: &str, body: &Value, now: DateTime<Utc>) -> Result<QuotaReading, ReadError> {
    let not_remains = |detail: &str| ReadError::NotRemains { host: host.to_string(), detail: detail.to_string() };
    let rows = body.get("model_remains").or_else(|| body.get("data").and_then(|d| d.get("model_remains"))).ok_or_else(|| not_remains("no model_remains"))?;
    let rows = rows.as_array().ok_or_else(|| not_remains("model_remains is not a list"))?;
    let row = pick_chat_row(rows).ok_or_else(|| not_remains("model_remains has no named model row"))?;
    let plan = ["current_subscribe_title", "plan_name"]
        .iter()
        .find_map(|k| body.get(*k).or_else(|| body.get("data").and_then(|d| d.get(*k))).and_then(Value::as_str))
        .map(str::to_string);
    Ok(QuotaReading {
        endpoint,
        host: host.to_string(),
        read_at: now,
        plan,
        model: row.get("model_name").and_then(Value::as_str).map(str::to_string),
        five_hour: parse_window(row, &FIVE_HOUR, now),
        weekly: parse_window(row, &WEEKLY, now),
        balance: None,
    })
}

/// The chat budget: `general` (Token Plan) or a `MiniMax-M*` row (Coding Plan); rows
/// without a name are noise; otherwise the first named row.
fn pick_chat_row(rows: &[Value]) -> Option<&Map<String, Value>> {
    let named: Vec<&Map<String, Value>> =
        rows.iter().filter_map(Value::as_object).filter(|r| r.get("model_name").and_then(Value::as_str).is_some_and(|n| !n.trim().is_empty())).collect();
    let name = |r: &Map<String, Value>| r.get("model_name").and_then(Value::as_str).unwrap_or("").to_ascii_lowercase();
    named.iter().find(|r| name(r) == "general").or_else(|| named.iter().find(|r| name(r).starts_with("minimax-m"))).or_else(|| named.first()).copied()
}

struct WindowFields {
    total: &'static str,
    count: &'static str,
    percent: &'static str,
    status: &'static str,
    start: &'static str,
    end: &'static str,
    remains: &'static str,
}

const FIVE_HOUR: WindowFields = WindowFields {
    total: "current_interval_total_count",
    count: "current_interval_usage_count",
    percent: "current_interval_remaining_percent",
    status: "current_interval_status",
    start: "start_time",
    end: "end_time",
    remains: "remains_time",
};

const WEEKLY: WindowFields = WindowFields {
    total: "current_weekly_total_count",
    count: "current_weekly_usage_count",
    percent: "current_weekly_remaining_percent",
    status: "current_weekly_status",
    start: "weekly_start_time",
    end: "weekly_end_time",
    remains: "weekly_remains_time",
};

fn parse_window(row: &Map<String, Value>, f: &WindowFields, now: DateTime<Utc>) -> Option<Window> {
    let total = row.get(f.total).and_then(as_i64);
    let count = row.get(f.count).and_then(as_i64);
    let percent = row.get(f.percent).and_then(as_f64).filter(|p| (0.0..=100.0).contains(p));
    let status_code = row.get(f.status).and_then(as_i64);
    if total.unwrap_or(0) <= 0 && percent.is_none() && status_code.is_none() && count.unwrap_or(0) <= 0 {
        return None;
    }
    let (remaining, meaning) = resolve_counts(count, total, percent);
    let total = total.filter(|t| *t > 0).map(|t| t as u64);
    let remaining_percent = percent.or_else(|| match (remaining, total) {
        (Some(r), Some(t)) => Some(r as f64 * 100.0 / t as f64),
        _ => None,
    });
    let status = match status_code {
        Some(3) if total.is_none() => WindowStatus::NotInPlan,
        Some(3) => WindowStatus::Unlimited,
        Some(2) => WindowStatus::Exhausted,
        _ => WindowStatus::Limited,
    };
    let (remaining, remaining_percent) = if status == WindowStatus::Exhausted { (remaining.map(|_| 0), Some(0.0)) } else { (remaining, remaining_percent) };
    let starts_at = row.get(f.start).and_then(as_i64).and_then(ms_to_time);
    let (resets_at, reset_note) = resolve_reset(starts_at, row.get(f.end).and_then(as_i64).and_then(ms_to_time), row.get(f.remains).and_then(as_i64), now);
    Some(Window { status, total, remaining, remaining_percent, count_meaning: meaning, starts_at, resets_at, reset_note })
}

/// MiniMax's own rule for the misnamed count: with a remaining percentage, take whichever of
/// "count is remaining" / "count is consumed" lands within one point of it (neither: drop the
/// counts); without one, the count is the remaining count (the older meaning).
pub fn resolve_counts(count: Option<i64>, total: Option<i64>, percent: Option<f64>) -> (Option<u64>, CountMeaning) {
    let (Some(count), Some(total)) = (count, total) else { return (None, CountMeaning::Absent) };
    if total <= 0 || count < 0 || count > total {
        return (None, CountMeaning::Absent);
    }
    let (count, total) = (count as u64, total as u64);
    let Some(pct) = percent else { return (Some(count), CountMeaning::Remaining) };
    let as_remaining = count as f64 * 100.0 / total as f64;
    let as_consumed = (total - count) as f64 * 100.0 / total as f64;
    if (as_remaining - pct).abs() <= 1.0 {
        (Some(count), CountMeaning::Remaining)
    } else if (as_consumed - pct).abs() <= 1.0 {
        (Some(total - count), CountMeaning::Consumed)
    } else {
        (None, CountMeaning::Dropped)
    }
}

/// `end_time` is the reset; `remains_time` (ms until reset) only stands in when `end_time` is
/// missing or not after the window start, and is noted when the two disagree by > 5 minutes.
fn resolve_reset(
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    remains_ms: Option<i64>,
    now: DateTime<Utc>,
) -> (Option<DateTime<Utc>>, Option<String>) {
    let countdown = remains_ms.filter(|ms| *ms > 0).map(|ms| now + Duration::milliseconds(ms));
    let end = end.filter(|e| start.is_none_or(|s| *e > s));
    match (end, countdown) {
        (Some(e), Some(c)) if (e - c).num_seconds().abs() > 300 => {
            (Some(e), Some(format!("remains_time points to {} but end_time is {}; using end_time", c.format("%H:%M UTC"), e.format("%H:%M UTC"))))
        }
        (Some(e), _) => (Some(e), None),
        (None, c) => (c, None),
    }
}

/// Parses a pay-as-you-go `account/query_balance` answer: every numeric field whose name
/// mentions a balance, top level or under `data`; `available`/`total` wins, else the sum.
pub fn parse_balance(host: &str, body: &Value, now: DateTime<Utc>) -> Result<QuotaReading, ReadError> {
    let mut parts = Map::new();
    for scope in [Some(body), body.get("data"), body.get("data").and_then(|d| d.get("balance")), body.get("balance")] {
        if let Some(obj) = scope.and_then(Value::as_object) {
            for (k, v) in obj {
                if let Some(n) = as_f64(v)
                    .filter(|_| k.to_ascii_lowercase().contains("balance") || matches!(k.as_str(), "cash" | "voucher" | "credit" | "available" | "total"))
                {
                    parts.insert(k.clone(), Value::from(n));
                }
            }
        }
    }
    if let Some(n) = body.get("balance").or_else(|| body.get("data").and_then(|d| d.get("balance"))).and_then(as_f64) {
        parts.insert("balance".into(), Value::from(n));
    }
    if parts.is_empty() {
        return Err(ReadError::NotRemains { host: host.into(), detail: "no balance figures in the account/query_balance answer".into() });
    }
    let preferred = parts.iter().find(|(k, _)| {
        let k = k.to_ascii_lowercase();
        k.contains("available") || k.contains("total") || k == "balance"
    });
    let available = match preferred {
        Some((_, v)) => v.as_f64().unwrap_or(0.0),
        None => parts.values().filter_map(Value::as_f64).sum(),
    };
    Ok(QuotaReading {
        endpoint: Endpoint::Balance,
        host: host.into(),
        read_at: now,
        plan: Some("pay-as-you-go".into()),
        model: None,
        five_hour: None,
        weekly: None,
        balance: Some(Balance { available, parts }),
    })
}

/// Recognises MiniMax's 2056 "usage limit exceeded … resets at <time>" error in any text (an
/// API body, a log line, a tool's report). `Some(reset)` when it is there; the reset is `None`
/// when the text gives no parseable time.
pub fn parse_usage_limit(text: &str) -> Option<Option<DateTime<Utc>>> {
    static SIGN: OnceLock<Regex> = OnceLock::new();
    static RESET: OnceLock<Regex> = OnceLock::new();
    let sign = SIGN.get_or_init(|| Regex::new(r#"(?i)usage limit exceeded|\(2056\)|"status_code"\s*:\s*2056\b"#).expect("static pattern"));
    let reset = RESET
        .get_or_init(|| Regex::new(r"(?i)resets? at ([0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9:.]+(?:Z|[+-][0-9]{2}:?[0-9]{2}| ?UTC)?)").expect("static pattern"));
    if !sign.is_match(text) {
        return None;
    }
    Some(reset.captures(text).and_then(|c| c.get(1)).and_then(|m| parse_loose_time(m.as_str())))
}

fn parse_loose_time(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&Utc));
    }
    let bare = raw.trim_end_matches("UTC").trim().trim_end_matches('Z').replace('T', " ");
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(&bare, f).ok())
        .map(|n| Utc.from_utc_datetime(&n))
}

fn ms_to_time(ms: i64) -> Option<DateTime<Utc>> {
    (ms > 0).then(|| DateTime::from_timestamp_millis(ms)).flatten()
}

fn as_i64(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)).or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

fn as_f64(v: &Value) -> Option<f64> {
    v.as_f64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok())).filter(|f| f.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp_millis(1_776_094_672_532).unwrap()
    }

    fn read(body: Value) -> QuotaReading {
        let checked = check_answer("h", 200, "application/json", &body.to_string(), None, now()).unwrap();
        parse_remains(Endpoint::TokenPlan, "h", &checked, now()).unwrap()
    }

    #[test]
    fn legacy_count_is_remaining_without_percent() {
        let r = read(json!({"model_remains": [{"model_name": "MiniMax-M2", "start_time": 1776009600000u64, "end_time": 1776096000000u64,
            "remains_time": 1327468, "current_interval_total_count": 1500, "current_interval_usage_count": 1473}],
            "base_resp": {"status_code": 0, "status_msg": "success"}}));
        let w = r.five_hour.clone().unwrap();
        assert_eq!((w.remaining, w.total, w.count_meaning), (Some(1473), Some(1500), CountMeaning::Remaining));
        assert_eq!(w.resets_at, ms_to_time(1776096000000));
        assert!(w.reset_note.is_none());
        assert_eq!(r.remaining_calls(), Some(1473));
        assert!(r.weekly.is_none());
    }

    #[test]
    fn newer_consumed_count_is_recognised_by_the_percent() {
        let (remaining, meaning) = resolve_counts(Some(151), Some(1500), Some(90.0));
        assert_eq!((remaining, meaning), (Some(1349), CountMeaning::Consumed));
        assert_eq!(resolve_counts(Some(1473), Some(1500), Some(98.0)), (Some(1473), CountMeaning::Remaining));
        assert_eq!(resolve_counts(Some(700), Some(1500), Some(10.0)), (None, CountMeaning::Dropped));
        assert_eq!(resolve_counts(Some(1600), Some(1500), None), (None, CountMeaning::Absent));
    }

    #[test]
    fn data_wrapper_percent_only_and_weekly() {
        let r = read(json!({"data": {"model_remains": [{"current_interval_total_count": 5},
            {"model_name": "general", "current_interval_total_count": 0, "current_interval_usage_count": 0, "current_interval_remaining_percent": 7,
             "current_interval_status": 1, "end_time": 1776096000000u64,
             "current_weekly_total_count": 0, "current_weekly_usage_count": 0, "current_weekly_remaining_percent": 40, "current_weekly_status": 1,
             "weekly_end_time": 1776614400000u64}], "base_resp": {"status_code": 0}, "current_subscribe_title": "Plus"}}));
        assert_eq!(r.plan.as_deref(), Some("Plus"));
        assert_eq!(r.model.as_deref(), Some("general"));
        assert_eq!(r.remaining_calls(), None);
        assert_eq!(r.remaining_percent(), Some(7.0));
        assert_eq!(r.resets_at(), ms_to_time(1776096000000));
        assert_eq!(r.weekly.as_ref().unwrap().remaining_percent, Some(40.0));
    }

    #[test]
    fn status_three_is_unlimited_and_status_two_exhausted() {
        let r = read(
            json!({"model_remains": [{"model_name": "general", "current_interval_total_count": 1500, "current_interval_usage_count": 1500, "current_interval_status": 3}]}),
        );
        assert!(r.is_unlimited());
        let r = read(
            json!({"model_remains": [{"model_name": "general", "current_interval_total_count": 0, "current_interval_usage_count": 0, "current_interval_status": 3}]}),
        );
        assert_eq!(r.five_hour.as_ref().unwrap().status, WindowStatus::NotInPlan);
        let r = read(
            json!({"model_remains": [{"model_name": "general", "current_interval_total_count": 1500, "current_interval_usage_count": 12, "current_interval_status": 2}]}),
        );
        assert_eq!(r.remaining_calls(), Some(0));
        assert!(r.five_hour.unwrap().is_exhausted());
    }

    #[test]
    fn end_time_wins_over_an_implausible_countdown() {
        let r = read(json!({"model_remains": [{"model_name": "general", "start_time": 1776009600000u64, "end_time": 1776096000000u64,
            "remains_time": 90_000_000, "current_interval_total_count": 1500, "current_interval_usage_count": 100}]}));
        let w = r.five_hour.unwrap();
        assert_eq!(w.resets_at, ms_to_time(1776096000000));
        assert!(w.reset_note.unwrap().contains("using end_time"));
        let r = read(
            json!({"model_remains": [{"model_name": "general", "remains_time": 60_000, "current_interval_total_count": 10, "current_interval_usage_count": 5}]}),
        );
        assert_eq!(r.five_hour.unwrap().resets_at, Some(now() + Duration::seconds(60)));
    }

    #[test]
    fn errors_are_classified() {
        let html = check_answer("www.minimax.io", 403, "text/html", "<!DOCTYPE html><html>cf</html>", None, now()).unwrap_err();
        assert!(matches!(html, ReadError::WrongHost { status: 403, .. }));
        assert!(html.to_string().contains("wrong host"));
        let e =
            check_answer("h", 200, "application/json", r#"{"base_resp":{"status_code":2062,"status_msg":"no active token plan"}}"#, None, now()).unwrap_err();
        assert!(matches!(e, ReadError::Api { code: 2062, .. }));
        assert!(e.to_string().contains("no active Token Plan"));
        let e = check_answer("h", 429, "application/json", "{}", Some("120"), now()).unwrap_err();
        assert_eq!(e.retry_after_secs(), Some(120));
        assert!(check_answer("h", 401, "application/json", "{}", None, now()).unwrap_err().is_auth());
        assert!(check_answer("h", 200, "application/json", r#"{"base_resp":{"status_code":1004,"status_msg":"cookie is missing"}}"#, None, now())
            .unwrap_err()
            .is_auth());
        assert!(check_answer("h", 404, "text/plain", "not found", None, now()).unwrap_err().is_wrong_path());
    }

    #[test]
    fn usage_limit_text_yields_the_reset_time() {
        let body = r#"{"type":"error","error":{"type":"rate_limit_error","message":"usage limit exceeded, 5-hour usage limit reached for Token Plan Starter (0/0 used), resets at 2026-05-15T15:00:00Z (2056)"}}"#;
        let reset = parse_usage_limit(body).unwrap();
        assert_eq!(reset, Some(DateTime::parse_from_rfc3339("2026-05-15T15:00:00Z").unwrap().with_timezone(&Utc)));
        assert!(matches!(check_answer("h", 429, "application/json", body, None, now()), Err(ReadError::UsageLimit { .. })));
        assert_eq!(parse_usage_limit("all fine"), None);
    }

    #[test]
    fn balance_figures_are_found() {
        let r = parse_balance("h", &json!({"data": {"cash_balance": "12.50", "voucher_balance": 3}, "base_resp": {"status_code": 0}}), now()).unwrap();
        assert_eq!(r.balance.unwrap().available, 15.5);
        let r = parse_balance("h", &json!({"available_balance": 0.0, "cash_balance": 0.0}), now()).unwrap();
        assert_eq!(r.balance.unwrap().available, 0.0);
        assert!(parse_balance("h", &json!({"x": 1}), now()).is_err());
    }
}
