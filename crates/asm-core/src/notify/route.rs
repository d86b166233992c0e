//! Where notifications go: the backend (ASM_NOTIFY_BACKEND, or `auto`: openclaw when its CLI
//! and a reachable gateway exist, else telegram when a token exists, else log), the chat
//! (ASM_FEED_CHAT_ID, else the one Telegram group OpenClaw knows), the topic, and the bot
//! token (TELEGRAM_BOT_TOKEN / ASM_TELEGRAM_BOT_TOKEN, else OpenClaw's
//! `channels.telegram.botToken` / `tokenFile`). OpenClaw's config is read leniently (JSON5).

use super::openclaw_cli::OpenclawCliSender;
use super::sender::{LogSender, Sender};
use super::telegram::TelegramSender;
use crate::config::{NotifyBackend, Secret};
use crate::{proc, Runtime};
use serde_json::Value;
use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::time::Duration;

/// The chat the feed goes to, and what said so.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatChoice {
    pub id: String,
    pub source: String,
}

/// The resolved destination. A piece that is missing is a configuration error, kept as text
/// so `health_check` can show it and the delivery pass can pause on it.
pub struct Route {
    pub backend: &'static str,
    /// Why this backend (for health_check).
    pub why: String,
    pub sender: Result<Box<dyn Sender>, String>,
    pub chat: Result<ChatChoice, String>,
    pub topic: i64,
    /// Identifies this configuration, so a configuration error pauses only until it changes.
    pub fingerprint: String,
}

impl Route {
    /// Where the chat id came from, or why there is none (the log backend needs none).
    pub fn chat_source(&self) -> String {
        match (&self.chat, self.backend) {
            (Ok(c), _) => c.source.clone(),
            (Err(e), _) => e.clone(),
        }
    }

    /// The sender and chat, or the configuration error that stops delivery.
    pub fn ready(&self) -> Result<(&dyn Sender, Option<&ChatChoice>), String> {
        let sender = self.sender.as_deref().map_err(Clone::clone)?;
        if self.backend == "log" {
            return Ok((sender, self.chat.as_ref().ok()));
        }
        let chat = self.chat.as_ref().map_err(Clone::clone)?;
        Ok((sender, Some(chat)))
    }
}

pub fn resolve(rt: &Runtime) -> Route {
    let oc = read_openclaw_config(rt);
    let oc_value = oc.as_ref().ok().and_then(Option::as_ref);
    let (backend, why, sender): (&'static str, String, Result<Box<dyn Sender>, String>) = match rt.config.notify_backend {
        NotifyBackend::Log => ("log", "ASM_NOTIFY_BACKEND=log".into(), Ok(Box::new(LogSender))),
        NotifyBackend::Telegram => {
            let sender = telegram_sender(rt, oc_value).ok_or_else(|| no_token_error(&oc));
            ("telegram", "ASM_NOTIFY_BACKEND=telegram".into(), sender)
        }
        NotifyBackend::Openclaw => {
            let sender = openclaw_program(rt)
                .map(|p| Box::new(OpenclawCliSender::new(p, &rt.env)) as Box<dyn Sender>)
                .ok_or_else(|| "ASM_NOTIFY_BACKEND=openclaw but no openclaw executable is on PATH".to_string());
            ("openclaw", "ASM_NOTIFY_BACKEND=openclaw".into(), sender)
        }
        NotifyBackend::Auto => auto(rt, oc_value),
    };
    // The log backend needs no chat, so it does not pay for session discovery.
    let chat = if backend == "log" { Err("not needed for the log backend".to_string()) } else { resolve_chat(rt, oc_value, &oc) };
    let topic = rt.config.feed_topic;
    let token = rt.config.telegram_bot_token.clone().or_else(|| oc_value.and_then(|v| token_from_openclaw(rt, v)));
    let fingerprint = fingerprint(backend, chat.as_ref().ok().map(|c| c.id.as_str()), topic, token.as_ref().map(Secret::expose));
    Route { backend, why, sender, chat, topic, fingerprint }
}

fn auto(rt: &Runtime, oc: Option<&Value>) -> (&'static str, String, Result<Box<dyn Sender>, String>) {
    // Inside an agent's exec tool OpenClaw's CLI refuses message RPCs by design.
    let inside_agent_exec = rt.env.get("OPENCLAW_SHELL") == Some("exec");
    if let Some(program) = openclaw_program(rt).filter(|_| !inside_agent_exec) {
        let endpoint = crate::gateway::probe::Endpoint::resolve(rt);
        let url = endpoint.base_url.clone();
        if gateway_reachable(&endpoint, Duration::from_secs(rt.config.gateway_probe_timeout)) {
            let why = format!("auto: openclaw CLI at {} and the gateway answers at {url}", program.display());
            return ("openclaw", why, Ok(Box::new(OpenclawCliSender::new(program, &rt.env))));
        }
    }
    if let Some(sender) = telegram_sender(rt, oc) {
        return ("telegram", "auto: no reachable OpenClaw gateway, a bot token is configured".into(), Ok(sender));
    }
    ("log", "auto: no reachable OpenClaw gateway and no bot token".into(), Ok(Box::new(LogSender)))
}

fn no_token_error(oc: &Result<Option<Value>, String>) -> String {
    let mut error = "ASM_NOTIFY_BACKEND=telegram but no bot token: set TELEGRAM_BOT_TOKEN or OpenClaw's channels.telegram.botToken".to_string();
    if let Err(e) = oc {
        error.push_str(&format!(" ({e})"));
    }
    error
}

fn openclaw_program(rt: &Runtime) -> Option<PathBuf> {
    proc::which("openclaw", rt.env.get("PATH"))
}

fn telegram_sender(rt: &Runtime, oc: Option<&Value>) -> Option<Box<dyn Sender>> {
    let token = rt.config.telegram_bot_token.clone().or_else(|| oc.and_then(|v| token_from_openclaw(rt, v)))?;
    // ASM_TELEGRAM_API_ROOT wins; else OpenClaw's own apiRoot (a local Bot API server); else Telegram.
    let oc_root = oc.and_then(|v| v.pointer("/channels/telegram/apiRoot")).and_then(Value::as_str);
    let api_root = match (rt.env.get("ASM_TELEGRAM_API_ROOT"), oc_root) {
        (None, Some(root)) if root.starts_with("http") => root.to_string(),
        _ => rt.config.telegram_api_root.clone(),
    };
    Some(Box::new(TelegramSender::new(&api_root, token)))
}

/// OpenClaw's config as a JSON value: None when there is no file, Err when it cannot be read.
pub fn read_openclaw_config(rt: &Runtime) -> Result<Option<Value>, String> {
    crate::openclaw_config::read(&rt.paths)
}

/// `channels.telegram.botToken` (or `${VAR}` naming a variable), else `tokenFile`; the same
/// under `accounts.default` for multi-account configs.
fn token_from_openclaw(rt: &Runtime, oc: &Value) -> Option<Secret> {
    let telegram = oc.pointer("/channels/telegram")?;
    [("", telegram), ("accounts.default.", telegram.pointer("/accounts/default").unwrap_or(&Value::Null))].into_iter().find_map(|(prefix, section)| {
        if let Some(raw) = section.get("botToken").and_then(Value::as_str) {
            let value = match raw.trim().strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
                Some(var) => rt.env.get(var)?.to_string(),
                None => raw.trim().to_string(),
            };
            return (!value.is_empty()).then(|| Secret::new(value, format!("{} channels.telegram.{prefix}botToken", rt.paths.openclaw_config.display())));
        }
        let file = section.get("tokenFile").and_then(Value::as_str)?;
        let mut path = rt.env.expand_tilde(file);
        if path.is_relative() {
            if let Some(dir) = rt.paths.openclaw_config.parent() {
                path = dir.join(path);
            }
        }
        match std::fs::read_to_string(&path) {
            Ok(t) if !t.trim().is_empty() => Some(Secret::new(t.trim(), format!("{} (channels.telegram.{prefix}tokenFile)", path.display()))),
            Ok(_) => None,
            Err(e) => {
                log::warn!("OpenClaw's channels.telegram.{prefix}tokenFile {} cannot be read: {e}", path.display());
                None
            }
        }
    })
}

fn resolve_chat(rt: &Runtime, oc: Option<&Value>, oc_read: &Result<Option<Value>, String>) -> Result<ChatChoice, String> {
    if let Some(id) = &rt.config.feed_chat_id {
        return Ok(ChatChoice { id: id.clone(), source: "ASM_FEED_CHAT_ID".into() });
    }
    let from_config: BTreeSet<String> = oc.map(group_ids_from_openclaw_config).unwrap_or_default();
    let from_sessions: BTreeSet<String> = group_ids_from_session_keys(rt);
    let all: BTreeSet<&String> = from_config.iter().chain(from_sessions.iter()).collect();
    match all.into_iter().collect::<Vec<_>>().as_slice() {
        [only] => {
            let source = match (from_config.contains(*only), from_sessions.contains(*only)) {
                (true, true) => "the only Telegram group in OpenClaw's config and session keys",
                (true, false) => "the only Telegram group in OpenClaw's config (channels.telegram.groups)",
                _ => "the only Telegram group in OpenClaw's session keys",
            };
            Ok(ChatChoice { id: (*only).clone(), source: source.into() })
        }
        [] => {
            let mut e = "no feed chat: set ASM_FEED_CHAT_ID (OpenClaw's config and sessions name no Telegram group)".to_string();
            if let Err(read) = oc_read {
                e.push_str(&format!("; {read}"));
            }
            Err(e)
        }
        many => Err(format!(
            "no feed chat: OpenClaw knows {} Telegram groups ({}); set ASM_FEED_CHAT_ID to the feed's group",
            many.len(),
            many.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        )),
    }
}

/// Group ids under `channels.telegram.groups` (and each account's `groups`); `*` is a
/// wildcard, not a group.
pub fn group_ids_from_openclaw_config(oc: &Value) -> BTreeSet<String> {
    let telegram = oc.pointer("/channels/telegram");
    let mut sections: Vec<&Value> = telegram.and_then(|t| t.get("groups")).into_iter().collect();
    if let Some(Value::Object(accounts)) = telegram.and_then(|t| t.get("accounts")) {
        sections.extend(accounts.values().filter_map(|a| a.get("groups")));
    }
    sections.into_iter().filter_map(Value::as_object).flat_map(|m| m.keys()).filter(|k| is_group_id(k)).cloned().collect()
}

/// Telegram group ids in OpenClaw's session keys (`agent:<id>:telegram:group:<chat>:topic:<n>`).
pub fn group_ids_from_session_keys(rt: &Runtime) -> BTreeSet<String> {
    let sessions = crate::platform::openclaw::discover(rt).sessions;
    crate::platform::openclaw::telegram_group_chat_ids(&sessions).into_iter().collect()
}

fn is_group_id(id: &str) -> bool {
    id.strip_prefix('-').is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether the gateway answers its probes (the same probe the gateway watch uses).
pub fn gateway_reachable(endpoint: &crate::gateway::probe::Endpoint, timeout: Duration) -> bool {
    crate::gateway::probe::probe(endpoint, timeout, &crate::clock::SystemClock).ok()
}

fn fingerprint(backend: &str, chat: Option<&str>, topic: i64, token: Option<&str>) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (backend, chat, topic, token).hash(&mut h);
    format!("{:016x}", h.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Env;

    fn runtime(dir: &std::path::Path, extra: &[(&str, &str)]) -> Runtime {
        let mut pairs: Vec<(String, String)> =
            vec![("HOME".into(), dir.display().to_string()), ("OPENCLAW_STATE_DIR".into(), dir.join("state").display().to_string())];
        pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Runtime::from_env(Env::from_pairs(pairs)).unwrap()
    }

    fn temp(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("asm-route-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("state")).unwrap();
        dir
    }

    #[test]
    fn token_and_the_only_group_come_from_openclaw_config() {
        let dir = temp("oc");
        std::fs::write(
            dir.join("state/openclaw.json"),
            "{ // JSON5\n channels: { telegram: { botToken: '111222333:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', groups: { '-1009876543210': {}, '*': {}, }, }, },\n}",
        )
        .unwrap();
        let rt = runtime(&dir, &[("ASM_NOTIFY_BACKEND", "telegram")]);
        let route = resolve(&rt);
        assert_eq!(route.backend, "telegram");
        assert!(route.sender.is_ok());
        let chat = route.chat.unwrap();
        assert_eq!(chat.id, "-1009876543210");
        assert!(chat.source.contains("OpenClaw's config"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn token_file_and_env_reference() {
        let dir = temp("tokenfile");
        std::fs::write(dir.join("state/tok"), "444555666:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB\n").unwrap();
        std::fs::write(dir.join("state/openclaw.json"), r#"{"channels":{"telegram":{"tokenFile":"tok"}}}"#).unwrap();
        let rt = runtime(&dir, &[]);
        let oc = read_openclaw_config(&rt).unwrap().unwrap();
        assert_eq!(token_from_openclaw(&rt, &oc).unwrap().expose(), "444555666:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB");
        std::fs::write(dir.join("state/openclaw.json"), r#"{channels:{telegram:{botToken:"${MY_TG}"}}}"#).unwrap();
        let rt = runtime(&dir, &[("MY_TG", "777888999:CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC")]);
        let oc = read_openclaw_config(&rt).unwrap().unwrap();
        assert_eq!(token_from_openclaw(&rt, &oc).unwrap().expose(), "777888999:CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn no_chat_or_two_chats_is_a_clear_error_and_the_variable_wins() {
        let dir = temp("chats");
        let rt = runtime(&dir, &[("ASM_NOTIFY_BACKEND", "openclaw")]);
        assert!(resolve(&rt).chat.unwrap_err().starts_with("no feed chat: set ASM_FEED_CHAT_ID"));
        std::fs::write(dir.join("state/openclaw.json"), r#"{channels:{telegram:{groups:{"-1001":{}, "-1002":{}}}}}"#).unwrap();
        let err = resolve(&rt).chat.unwrap_err();
        assert!(err.contains("2 Telegram groups (-1001, -1002)"), "{err}");
        let rt = runtime(&dir, &[("ASM_NOTIFY_BACKEND", "openclaw"), ("ASM_FEED_CHAT_ID", "-1003")]);
        assert_eq!(resolve(&rt).chat.unwrap(), ChatChoice { id: "-1003".into(), source: "ASM_FEED_CHAT_ID".into() });
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn auto_falls_back_to_log_without_gateway_or_token() {
        let dir = temp("auto");
        let rt = runtime(&dir, &[("PATH", "/nonexistent"), ("ASM_GATEWAY_URL", "http://127.0.0.1:9")]);
        let route = resolve(&rt);
        assert_eq!(route.backend, "log");
        assert!(route.ready().is_ok(), "log needs no chat");
        let rt = runtime(&dir, &[("PATH", "/nonexistent"), ("TELEGRAM_BOT_TOKEN", "123456789:DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD")]);
        assert_eq!(resolve(&rt).backend, "telegram");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
