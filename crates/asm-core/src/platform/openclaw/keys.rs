//! OpenClaw session keys: `agent:<agentId>:<rest>`, where a Telegram forum topic reads
//! `agent:<agentId>:telegram:group:<chatId>:topic:<threadId>` and a plain group
//! `agent:<agentId>:telegram:group:<chatId>`. The notifier uses these to find the feed chat.

use crate::session::SessionInfo;

/// The Telegram chat (and forum topic) a session key belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelegramChat {
    /// The agent id when the key has the `agent:<id>:` prefix.
    pub agent_id: Option<String>,
    /// The group chat id as written in the key, e.g. `-1001234567890`.
    pub chat_id: String,
    /// The forum topic (message thread) id; None for a group without topics.
    pub thread_id: Option<i64>,
}

/// Parses a Telegram group key; None for any other kind of key or a malformed one.
pub fn parse_telegram_key(key: &str) -> Option<TelegramChat> {
    let parts: Vec<&str> = key.split(':').collect();
    let at = parts.windows(2).position(|w| w[0].eq_ignore_ascii_case("telegram") && w[1].eq_ignore_ascii_case("group"))?;
    let chat_id = *parts.get(at + 2)?;
    chat_id.parse::<i64>().ok()?;
    let thread_id = match parts.get(at + 3) {
        Some(word) if word.eq_ignore_ascii_case("topic") => Some(parts.get(at + 4)?.parse::<i64>().ok().filter(|t| *t > 0)?),
        _ => None,
    };
    let agent_id = match (parts.first(), parts.get(1)) {
        (Some(&"agent"), Some(id)) if at >= 2 => Some(id.to_string()),
        _ => None,
    };
    Some(TelegramChat { agent_id, chat_id: chat_id.to_string(), thread_id })
}

/// The distinct Telegram group chat ids found in these sessions' keys, the chat of the most
/// recently active session first.
pub fn telegram_group_chat_ids(sessions: &[SessionInfo]) -> Vec<String> {
    let mut by_recency: Vec<&SessionInfo> = sessions.iter().collect();
    by_recency.sort_by_key(|s| std::cmp::Reverse(s.updated_at));
    let mut ids: Vec<String> = Vec::new();
    for chat in by_recency.iter().filter_map(|s| s.key.as_deref()).filter_map(parse_telegram_key) {
        if !ids.contains(&chat.chat_id) {
            ids.push(chat.chat_id);
        }
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_and_group_keys() {
        assert_eq!(
            parse_telegram_key("agent:main:telegram:group:-1001234567890:topic:466"),
            Some(TelegramChat { agent_id: Some("main".into()), chat_id: "-1001234567890".into(), thread_id: Some(466) })
        );
        assert_eq!(parse_telegram_key("agent:ops:telegram:group:-100777").map(|c| (c.chat_id, c.thread_id)), Some(("-100777".into(), None)));
        assert_eq!(parse_telegram_key("telegram:group:-5:topic:1").map(|c| (c.agent_id, c.thread_id)), Some((None, Some(1))));
    }

    #[test]
    fn other_keys_are_not_telegram_groups() {
        for key in [
            "agent:main:main",
            "agent:main:topic-466",
            "agent:main:discord:group:123",
            "agent:main:telegram:direct:42",
            "agent:main:telegram:group:notanumber",
            "agent:main:telegram:group:-100:topic:x",
            "agent:main:telegram:group:",
            "cron:job",
            "",
        ] {
            assert_eq!(parse_telegram_key(key), None, "{key}");
        }
    }
}
