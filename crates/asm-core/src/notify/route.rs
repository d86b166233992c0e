//! Where notifications go: the backend (ASM_NOTIFY_BACKEND, or `auto`: openclaw when its CLI
//! and a reachable gateway exist, else telegram when a token exists, else log), the chat
//! (ASM_FEED_CHAT_ID, else the one Telegram group OpenClaw knows), the topic, and the bot
//! token (TELEGRAM_BOT_TOKEN / ASM_TELEGRAM_BOT_TOKEN, else OpenClaw's config). A process
//! resolves its route once ([`for_runtime`]): it reads OpenClaw's config, may probe the
//! gateway and list OpenClaw's sessions, none of which changes between two messages.

use super::openclaw_cli::OpenclawCliSender;
use super::sender::{LogSender, Sender};
use super::telegram::TelegramSender;
use crate::config::{NotifyBackend, Secret};
use crate::platform::openclaw::{self, config as oc_config};
use crate::{proc, Runtime};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;

/// The backend a route delivers through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    Openclaw,
    Telegram,
    Log,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Openclaw => "openclaw",
            Backend::Telegram => "telegram",
            Backend::Log => "log",
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A piece of the route that is missing: a configuration error that `health_check` shows and
/// on which delivery pauses.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RouteError {
    #[error("ASM_NOTIFY_BACKEND=telegram but no bot token: set TELEGRAM_BOT_TOKEN or OpenClaw's channels.telegram.botToken{}", suffix(.0, " (", ")"))]
    NoToken(Option<String>),
    #[error("ASM_NOTIFY_BACKEND=openclaw but no openclaw executable is on PATH")]
    NoOpenclawCli,
    #[error("no feed chat: set ASM_FEED_CHAT_ID (OpenClaw's config and sessions name no Telegram group){}", suffix(.0, "; ", ""))]
    NoChat(Option<String>),
    #[error("no feed chat: OpenClaw knows {} Telegram groups ({}); set ASM_FEED_CHAT_ID to the feed's group", .0.len(), .0.join(", "))]
    ManyChats(Vec<String>),
    #[error("not needed for the log backend")]
    NotNeeded,
}

fn suffix(detail: &Option<String>, open: &str, close: &str) -> String {
    detail.as_ref().map(|d| format!("{open}{d}{close}")).unwrap_or_default()
}

/// The chat the feed goes to, and what said so.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatChoice {
    pub id: String,
    pub source: String,
}

/// The resolved destination.
pub struct Route {
    pub backend: Backend,
    /// Why this backend (for health_check).
    pub why: String,
    pub sender: Result<Box<dyn Sender>, RouteError>,
    pub chat: Result<ChatChoice, RouteError>,
    pub topic: i64,
    /// Identifies this configuration (a digest, stable across releases), so a configuration
    /// error pauses delivery only until the configuration changes.
    pub fingerprint: String,
}

impl Route {
    /// Where the chat id came from, or why there is none.
    pub fn chat_source(&self) -> String {
        match &self.chat {
            Ok(c) => c.source.clone(),
            Err(e) => e.to_string(),
        }
    }

    /// The sender and chat, or the configuration error that stops delivery (the log backend
    /// needs no chat).
    pub fn ready(&self) -> Result<(&dyn Sender, Option<&ChatChoice>), RouteError> {
        let sender = self.sender.as_deref().map_err(Clone::clone)?;
        if self.backend == Backend::Log {
            return Ok((sender, self.chat.as_ref().ok()));
        }
        let chat = self.chat.as_ref().map_err(Clone::clone)?;
        Ok((sender, Some(chat)))
    }
}

/// This process's route, resolved on first use.
pub fn for_runtime(rt: &Runtime) -> Arc<Route> {
    rt.memo(|| resolve(rt))
}

pub fn resolve(rt: &Runtime) -> Route {
    let oc = oc_config::read(&rt.paths).map_err(|e| e.to_string());
    let oc_value = oc.as_ref().ok().and_then(Option::as_ref);
    let (backend, why, sender): (Backend, String, Result<Box<dyn Sender>, RouteError>) = match rt.config.notify_backend {
        NotifyBackend::Log => (Backend::Log, "ASM_NOTIFY_BACKEND=log".into(), Ok(Box::new(LogSender))),
        NotifyBackend::Telegram => {
            let sender = telegram_sender(rt, oc_value).ok_or_else(|| RouteError::NoToken(oc.as_ref().err().cloned()));
            (Backend::Telegram, "ASM_NOTIFY_BACKEND=telegram".into(), sender)
        }
        NotifyBackend::Openclaw => {
            let sender = openclaw_program(rt).map(|p| Box::new(OpenclawCliSender::new(p, &rt.env)) as Box<dyn Sender>).ok_or(RouteError::NoOpenclawCli);
            (Backend::Openclaw, "ASM_NOTIFY_BACKEND=openclaw".into(), sender)
        }
        NotifyBackend::Auto => auto(rt, oc_value),
    };
    // The log backend needs no chat, so it does not pay for session discovery.
    let chat = if backend == Backend::Log { Err(RouteError::NotNeeded) } else { resolve_chat(rt, oc_value, oc.as_ref().err()) };
    let topic = rt.config.feed_topic;
    let token = bot_token(rt, oc_value);
    let fingerprint = fingerprint(backend, chat.as_ref().ok().map(|c| c.id.as_str()), topic, token.as_ref().map(Secret::expose));
    Route { backend, why, sender, chat, topic, fingerprint }
}

fn auto(rt: &Runtime, oc: Option<&Value>) -> (Backend, String, Result<Box<dyn Sender>, RouteError>) {
    // Inside an agent's exec tool OpenClaw's CLI refuses message RPCs by design.
    let inside_agent_exec = rt.env.get("OPENCLAW_SHELL") == Some("exec");
    if let Some(program) = openclaw_program(rt).filter(|_| !inside_agent_exec) {
        let endpoint = openclaw::probe::Endpoint::resolve(rt);
        let timeout = Duration::from_secs(rt.config.gateway_probe_timeout);
        if openclaw::probe::probe(&endpoint, timeout, &crate::clock::SystemClock).ok() {
            let why = format!("auto: openclaw CLI at {} and the gateway answers at {}", program.display(), endpoint.base_url);
            return (Backend::Openclaw, why, Ok(Box::new(OpenclawCliSender::new(program, &rt.env))));
        }
    }
    if let Some(sender) = telegram_sender(rt, oc) {
        return (Backend::Telegram, "auto: no reachable OpenClaw gateway, a bot token is configured".into(), Ok(sender));
    }
    (Backend::Log, "auto: no reachable OpenClaw gateway and no bot token".into(), Ok(Box::new(LogSender)))
}

fn openclaw_program(rt: &Runtime) -> Option<PathBuf> {
    proc::which("openclaw", rt.env.get("PATH"))
}

fn bot_token(rt: &Runtime, oc: Option<&Value>) -> Option<Secret> {
    rt.config.telegram_bot_token.clone().or_else(|| oc.and_then(|v| oc_config::telegram_bot_token(v, &rt.paths, &rt.env)))
}

fn telegram_sender(rt: &Runtime, oc: Option<&Value>) -> Option<Box<dyn Sender>> {
    let token = bot_token(rt, oc)?;
    // ASM_TELEGRAM_API_ROOT wins; else OpenClaw's own apiRoot (a local Bot API server); else Telegram.
    let api_root = match (rt.env.get("ASM_TELEGRAM_API_ROOT"), oc.and_then(oc_config::telegram_api_root)) {
        (None, Some(root)) => root,
        _ => rt.config.telegram_api_root.clone(),
    };
    Some(Box::new(TelegramSender::new(&api_root, token)))
}

fn resolve_chat(rt: &Runtime, oc: Option<&Value>, oc_error: Option<&String>) -> Result<ChatChoice, RouteError> {
    if let Some(id) = &rt.config.feed_chat_id {
        return Ok(ChatChoice { id: id.clone(), source: "ASM_FEED_CHAT_ID".into() });
    }
    let from_config: BTreeSet<String> = oc.map(oc_config::telegram_group_ids).unwrap_or_default();
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
        [] => Err(RouteError::NoChat(oc_error.cloned())),
        many => Err(RouteError::ManyChats(many.iter().map(|s| s.to_string()).collect())),
    }
}

/// Telegram group ids in OpenClaw's session keys (`agent:<id>:telegram:group:<chat>:topic:<n>`).
pub fn group_ids_from_session_keys(rt: &Runtime) -> BTreeSet<String> {
    let sessions = crate::platform::adapter(crate::session::Platform::Openclaw).discover(rt).sessions;
    openclaw::telegram_group_chat_ids(&sessions).into_iter().collect()
}

/// A digest of what decides where messages go; SHA-256, so it means the same after an upgrade.
fn fingerprint(backend: Backend, chat: Option<&str>, topic: i64, token: Option<&str>) -> String {
    crate::redact::digest(&[backend.name(), chat.unwrap_or("-"), &topic.to_string(), token.unwrap_or("-")])
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
        assert_eq!(route.backend, Backend::Telegram);
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
        let oc = oc_config::read(&rt.paths).unwrap().unwrap();
        assert_eq!(oc_config::telegram_bot_token(&oc, &rt.paths, &rt.env).unwrap().expose(), "444555666:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB");
        std::fs::write(dir.join("state/openclaw.json"), r#"{channels:{telegram:{botToken:"${MY_TG}"}}}"#).unwrap();
        let rt = runtime(&dir, &[("MY_TG", "777888999:CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC")]);
        let oc = oc_config::read(&rt.paths).unwrap().unwrap();
        assert_eq!(oc_config::telegram_bot_token(&oc, &rt.paths, &rt.env).unwrap().expose(), "777888999:CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn no_chat_or_two_chats_is_a_clear_error_and_the_variable_wins() {
        let dir = temp("chats");
        let rt = runtime(&dir, &[("ASM_NOTIFY_BACKEND", "openclaw")]);
        assert!(resolve(&rt).chat.unwrap_err().to_string().starts_with("no feed chat: set ASM_FEED_CHAT_ID"));
        std::fs::write(dir.join("state/openclaw.json"), r#"{channels:{telegram:{groups:{"-1001":{}, "-1002":{}}}}}"#).unwrap();
        let err = resolve(&rt).chat.unwrap_err().to_string();
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
        assert_eq!(route.backend, Backend::Log);
        assert!(route.ready().is_ok(), "log needs no chat");
        let rt = runtime(&dir, &[("PATH", "/nonexistent"), ("TELEGRAM_BOT_TOKEN", "123456789:DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD")]);
        assert_eq!(resolve(&rt).backend, Backend::Telegram);
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[cfg(test)]
mod fingerprint_tests {
    use super::*;

    #[test]
    fn the_fingerprint_is_a_stable_digest_that_follows_the_configuration() {
        let a = fingerprint(Backend::Telegram, Some("-100"), 466, Some("123:tok"));
        assert_eq!(a, fingerprint(Backend::Telegram, Some("-100"), 466, Some("123:tok")));
        assert_eq!(a.len(), 16);
        assert_ne!(a, fingerprint(Backend::Telegram, Some("-100"), 467, Some("123:tok")));
        assert_ne!(a, fingerprint(Backend::Telegram, Some("-100"), 466, Some("123:other")));
        // SHA-256 of the parts: the same digest on every release and machine.
        assert_eq!(fingerprint(Backend::Log, None, 466, None), "454273fa942f9195");
    }
}
