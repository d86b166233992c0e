//! OpenClaw's own config file (`openclaw.json`, JSON5), read-only: the one place that knows
//! where OpenClaw keeps a setting ASM needs (gateway port, log file, Telegram bot token and
//! groups, a MiniMax provider key, its `env` section) and how it writes references to secrets.

use crate::config::Secret;
use crate::env::Env;
use crate::lenient_json::{self, ConfigFileError};
use crate::paths::Paths;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// The config as a JSON value: None when there is no file; an error naming the file when it
/// cannot be read or parsed, or is too large to be a config.
pub fn read(paths: &Paths) -> Result<Option<Value>, ConfigFileError> {
    lenient_json::read_file(&paths.openclaw_config)
}

/// `gateway.port`, when it is a valid port.
pub fn gateway_port(config: &Value) -> Option<u16> {
    config.pointer("/gateway/port").and_then(Value::as_u64).filter(|p| (1..=65535).contains(p)).map(|p| p as u16)
}

/// `logging.file`: where the gateway writes its file log, when configured.
pub fn log_file(config: &Value, env: &Env) -> Option<PathBuf> {
    config.pointer("/logging/file").and_then(Value::as_str).map(|p| env.expand_tilde(p))
}

/// `env.<NAME>` or `env.vars.<NAME>`: variables OpenClaw gives its own processes.
pub fn env_var(config: &Value, name: &str) -> Option<String> {
    let env = config.get("env")?;
    env.get(name).or_else(|| env.get("vars").and_then(|v| v.get(name))).and_then(Value::as_str).map(str::to_string)
}

/// `NAME=value` in the state dir's `.env`, which OpenClaw loads for its own processes.
pub fn dotenv_var(paths: &Paths, name: &str) -> Option<String> {
    let bytes = crate::fsutil::read_capped(&paths.state_dir.join(".env"), crate::fsutil::SMALL_FILE_CAP).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    text.lines().find_map(|line| {
        let line = line.trim().strip_prefix("export ").unwrap_or(line.trim());
        let (k, v) = line.split_once('=')?;
        (k.trim() == name).then(|| v.trim().trim_matches(|c| c == '"' || c == '\'').to_string()).filter(|v| !v.is_empty())
    })
}

/// A secret as OpenClaw writes one: a literal, `${VAR}`, or `{source: "env", id: "VAR"}`;
/// variables are looked up with `lookup`.
pub fn resolve_secret_ref(raw: &Value, lookup: &dyn Fn(&str) -> Option<String>) -> Option<String> {
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

/// The first provider under `models.providers` whose name or baseUrl says MiniMax, with an
/// `apiKey`: (the raw apiKey value, its baseUrl).
pub fn minimax_provider(config: &Value) -> Option<(Value, String)> {
    let providers = config.get("models")?.get("providers")?.as_object()?;
    providers.iter().find_map(|(name, p)| {
        let base_url = p.get("baseUrl").or_else(|| p.get("base_url")).and_then(Value::as_str).unwrap_or("").to_string();
        let is_minimax = name.to_ascii_lowercase().contains("minimax") || base_url.contains("minimax");
        let key = p.get("apiKey").or_else(|| p.get("api_key"))?;
        is_minimax.then(|| (key.clone(), base_url))
    })
}

/// `channels.telegram.botToken` (or `${VAR}` naming a variable), else `tokenFile`; the same
/// under `accounts.default` for multi-account configs.
pub fn telegram_bot_token(config: &Value, paths: &Paths, env: &Env) -> Option<Secret> {
    let telegram = config.pointer("/channels/telegram")?;
    let sections = [("", telegram), ("accounts.default.", telegram.pointer("/accounts/default").unwrap_or(&Value::Null))];
    sections.into_iter().find_map(|(prefix, section)| {
        if let Some(raw) = section.get("botToken").and_then(Value::as_str) {
            let value = match raw.trim().strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
                Some(var) => env.get(var)?.to_string(),
                None => raw.trim().to_string(),
            };
            return (!value.is_empty()).then(|| Secret::new(value, format!("{} channels.telegram.{prefix}botToken", paths.openclaw_config.display())));
        }
        let file = section.get("tokenFile").and_then(Value::as_str)?;
        let mut path = env.expand_tilde(file);
        if path.is_relative() {
            if let Some(dir) = paths.openclaw_config.parent() {
                path = dir.join(path);
            }
        }
        match crate::fsutil::read_capped(&path, crate::fsutil::SMALL_FILE_CAP).map(|b| String::from_utf8_lossy(&b).into_owned()) {
            Ok(t) if !t.trim().is_empty() => Some(Secret::new(t.trim(), format!("{} (channels.telegram.{prefix}tokenFile)", path.display()))),
            Ok(_) => None,
            Err(e) => {
                log::warn!("OpenClaw's channels.telegram.{prefix}tokenFile {} cannot be read: {e}", path.display());
                None
            }
        }
    })
}

/// The context engine `plugins.slots.contextEngine` selects, unless it is the built-in `legacy`.
pub fn context_engine(config: &Value) -> Option<String> {
    config.pointer("/plugins/slots/contextEngine").and_then(Value::as_str).map(str::trim).filter(|e| !e.is_empty() && *e != "legacy").map(str::to_string)
}

/// `channels.telegram.apiRoot`: a local Bot API server OpenClaw talks to instead of Telegram.
pub fn telegram_api_root(config: &Value) -> Option<String> {
    config.pointer("/channels/telegram/apiRoot").and_then(Value::as_str).filter(|r| r.starts_with("http")).map(str::to_string)
}

/// Group ids under `channels.telegram.groups` (and each account's `groups`); `*` is a
/// wildcard, not a group.
pub fn telegram_group_ids(config: &Value) -> BTreeSet<String> {
    let telegram = config.pointer("/channels/telegram");
    let mut sections: Vec<&Value> = telegram.and_then(|t| t.get("groups")).into_iter().collect();
    if let Some(Value::Object(accounts)) = telegram.and_then(|t| t.get("accounts")) {
        sections.extend(accounts.values().filter_map(|a| a.get("groups")));
    }
    sections.into_iter().filter_map(Value::as_object).flat_map(|m| m.keys()).filter(|k| is_group_id(k)).cloned().collect()
}

fn is_group_id(id: &str) -> bool {
    id.strip_prefix('-').is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_references_resolve() {
        let lookup = |n: &str| (n == "MM").then(|| "sk-cp-from-env".to_string());
        assert_eq!(resolve_secret_ref(&json!("sk-cp-literal"), &lookup).as_deref(), Some("sk-cp-literal"));
        assert_eq!(resolve_secret_ref(&json!("${MM}"), &lookup).as_deref(), Some("sk-cp-from-env"));
        assert_eq!(resolve_secret_ref(&json!({"source": "env", "id": "MM"}), &lookup).as_deref(), Some("sk-cp-from-env"));
        assert_eq!(resolve_secret_ref(&json!("${NOPE}"), &lookup), None);
    }

    #[test]
    fn the_state_dirs_dotenv_is_read_like_a_shell_would() {
        let dir = asm_testkit::TempDir::new("oc-dotenv");
        let paths = Paths::resolve(&Env::from_pairs([("HOME", "/nonexistent"), ("OPENCLAW_STATE_DIR", dir.path().to_str().unwrap())])).unwrap();
        std::fs::write(dir.join(".env"), "# c\nexport MINIMAX_API_KEY=\"abc123\"\n").unwrap();
        assert_eq!(dotenv_var(&paths, "MINIMAX_API_KEY").as_deref(), Some("abc123"));
        assert_eq!(dotenv_var(&paths, "OTHER"), None);
    }
}
