//! Every delivery decision as pure code over the `notify` state section and a given "now":
//! the up-front throttle (≤ 1 message/s per chat, ≤ 20/min per group), waiting out a 429's
//! `retry_after`, backing off after network failures and configuration errors (no hot retry
//! loop), coalescing identical events inside the cooldown, and remembering a missing topic.
//! Nothing here sleeps or does I/O; the delivery pass asks and then acts.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const PER_CHAT_GAP_SECS: i64 = 1;
pub const GROUP_PER_MINUTE: usize = 20;
/// How long a topic that Telegram called missing is skipped before it is tried again.
pub const TOPIC_RECHECK_SECS: i64 = 3600;

/// The `notify` section of `.asm_state.json`: shared by every tool that delivers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NotifyState {
    /// Recent sends per chat (the last minute), for the throttle.
    pub sent_at: BTreeMap<String, Vec<DateTime<Utc>>>,
    /// Nothing is sent before this instant (a 429's retry_after or a network back-off).
    pub not_before: Option<DateTime<Utc>>,
    /// Network/transient failures in a row.
    pub transient_failures: u32,
    /// A configuration error (401/403/chat not found/no chat id) pauses delivery until fixed.
    pub blocked: Option<Blocked>,
    /// Telegram said the feed topic is gone or closed; messages go to General meanwhile.
    pub topic_missing: Option<TopicMissing>,
    /// The group became a supergroup with a new id.
    pub migrated: Option<Migrated>,
    /// Coalescing: when each distinct event text was last queued.
    pub recent: BTreeMap<String, DateTime<Utc>>,
    pub last_delivered_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

impl crate::state::Section for NotifyState {
    const NAME: &'static str = "notify";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Blocked {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub failures: u32,
    pub error: String,
    /// Which configuration failed; a changed configuration is tried at once.
    pub fingerprint: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicMissing {
    pub chat: String,
    pub topic: i64,
    pub since: DateTime<Utc>,
    pub error: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Migrated {
    pub from: String,
    pub to: String,
}

/// Groups (and supergroups, channels) have negative ids or @usernames; users are positive.
fn is_group(chat: &str) -> bool {
    chat.starts_with('-') || chat.starts_with('@')
}

impl NotifyState {
    /// The earliest instant the next message to `chat` may go out (≤ now means: now).
    pub fn next_send_at(&self, chat: &str, now: DateTime<Utc>) -> DateTime<Utc> {
        let mut at = self.not_before.unwrap_or(now).max(now);
        let recent: Vec<DateTime<Utc>> =
            self.sent_at.get(chat).map(|v| v.iter().copied().filter(|t| *t > now - Duration::seconds(60)).collect()).unwrap_or_default();
        if let Some(last) = recent.iter().max() {
            at = at.max(*last + Duration::seconds(PER_CHAT_GAP_SECS));
        }
        if is_group(chat) && recent.len() >= GROUP_PER_MINUTE {
            let mut sorted = recent.clone();
            sorted.sort();
            // The oldest of the last 20 must leave the minute before another may go.
            if let Some(oldest) = sorted.get(sorted.len() - GROUP_PER_MINUTE) {
                at = at.max(*oldest + Duration::seconds(60));
            }
        }
        at
    }

    /// A message is about to go to `chat`: the throttle counts it from now on, whatever the
    /// answer (and even when this process dies before it comes).
    pub fn record_attempt(&mut self, chat: &str, now: DateTime<Utc>) {
        self.sent_at.entry(chat.to_string()).or_default().push(now);
        for stamps in self.sent_at.values_mut() {
            stamps.retain(|t| *t > now - Duration::seconds(60));
        }
        self.sent_at.retain(|_, v| !v.is_empty());
    }

    /// A message reached `chat` at `now` (its attempt was recorded before it was sent).
    pub fn record_delivery(&mut self, now: DateTime<Utc>) {
        self.transient_failures = 0;
        self.blocked = None;
        self.last_delivered_at = Some(now);
        self.last_error = None;
    }

    /// 429: nothing goes out before exactly `retry_after` seconds from now.
    pub fn record_retry_after(&mut self, secs: u64, now: DateTime<Utc>) {
        self.not_before = Some(now + Duration::seconds(secs.min(86_400) as i64));
    }

    /// A network cut, a 5xx, a CLI that failed for no stated reason: back off 5 s, 10 s, … 5 min.
    pub fn record_transient(&mut self, error: &str, now: DateTime<Utc>) {
        self.transient_failures = self.transient_failures.saturating_add(1);
        self.not_before = Some(now + transient_backoff(self.transient_failures));
        self.last_error = Some(error.to_string());
    }

    /// A configuration error: paused 1 min, 2, 4 … up to 1 h, unless the configuration changes.
    pub fn record_config_error(&mut self, error: &str, fingerprint: &str, now: DateTime<Utc>) {
        let failures = match &self.blocked {
            Some(b) if b.fingerprint == fingerprint => b.failures.saturating_add(1),
            _ => 1,
        };
        let since = self.blocked.as_ref().filter(|b| b.fingerprint == fingerprint).map_or(now, |b| b.since);
        self.blocked = Some(Blocked { since, until: now + config_backoff(failures), failures, error: error.to_string(), fingerprint: fingerprint.to_string() });
        self.last_error = Some(error.to_string());
    }

    /// The configuration error that still pauses delivery for this configuration, if any.
    pub fn blocking(&self, fingerprint: &str, now: DateTime<Utc>) -> Option<&Blocked> {
        self.blocked.as_ref().filter(|b| b.fingerprint == fingerprint && b.until > now)
    }

    /// Whether to post to the topic or straight to General (the topic was missing a while ago).
    pub fn use_topic(&self, chat: &str, topic: i64, now: DateTime<Utc>) -> bool {
        match &self.topic_missing {
            Some(m) if m.chat == chat && m.topic == topic => now - m.since >= Duration::seconds(TOPIC_RECHECK_SECS),
            _ => true,
        }
    }

    pub fn record_topic_missing(&mut self, chat: &str, topic: i64, error: &str, now: DateTime<Utc>) {
        self.topic_missing = Some(TopicMissing { chat: chat.into(), topic, since: now, error: error.into() });
    }

    /// A message reached the topic itself: it exists again.
    pub fn record_topic_ok(&mut self, chat: &str, topic: i64) {
        if self.topic_missing.as_ref().is_some_and(|m| m.chat == chat && m.topic == topic) {
            self.topic_missing = None;
        }
    }

    /// Whether an event with this coalescing key was already queued inside the cooldown; if
    /// not, remembers it now. Old entries are forgotten. Only the key's digest is kept: the
    /// key is the message text, which may quote a command's output.
    pub fn coalesce(&mut self, key: &str, cooldown_secs: u64, now: DateTime<Utc>) -> bool {
        let digest = crate::redact::digest(&[key]);
        let key = digest.as_str();
        let cooldown = Duration::seconds(cooldown_secs as i64);
        self.recent.retain(|_, t| now - *t < cooldown);
        if cooldown_secs > 0 && self.recent.contains_key(key) {
            return true;
        }
        if cooldown_secs > 0 {
            self.recent.insert(key.to_string(), now);
        }
        false
    }

    /// The chat to post to, after a recorded supergroup migration.
    pub fn effective_chat(&self, configured: &str) -> String {
        match &self.migrated {
            Some(m) if m.from == configured => m.to.clone(),
            _ => configured.to_string(),
        }
    }
}

pub fn transient_backoff(failures: u32) -> Duration {
    let exp = failures.saturating_sub(1).min(10);
    Duration::seconds((5i64 << exp).min(300))
}

pub fn config_backoff(failures: u32) -> Duration {
    let exp = failures.saturating_sub(1).min(10);
    Duration::seconds((60i64 << exp).min(3600))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};

    const GROUP: &str = "-1001234567890";

    #[test]
    fn one_message_per_second_per_chat() {
        let clock = ManualClock::at_epoch();
        let mut s = NotifyState::default();
        let t0 = clock.now();
        assert_eq!(s.next_send_at(GROUP, t0), t0);
        s.record_attempt(GROUP, t0);
        s.record_delivery(t0);
        assert_eq!(s.next_send_at(GROUP, t0), t0 + Duration::seconds(1));
        assert_eq!(s.next_send_at("42", t0), t0, "another chat is not held back");
    }

    #[test]
    fn twenty_per_minute_per_group() {
        let clock = ManualClock::at_epoch();
        let mut s = NotifyState::default();
        let t0 = clock.now();
        for i in 0..20 {
            let at = s.next_send_at(GROUP, t0 + Duration::seconds(i));
            assert_eq!(at, t0 + Duration::seconds(i));
            s.record_attempt(GROUP, at);
            s.record_delivery(at);
        }
        let now = t0 + Duration::seconds(20);
        assert_eq!(s.next_send_at(GROUP, now), t0 + Duration::seconds(60));
        // A private chat only has the per-second limit.
        let mut p = NotifyState::default();
        for i in 0..25 {
            p.record_attempt("42", t0 + Duration::seconds(i));
            p.record_delivery(t0 + Duration::seconds(i));
        }
        assert_eq!(p.next_send_at("42", t0 + Duration::seconds(25)), t0 + Duration::seconds(25));
    }

    #[test]
    fn retry_after_waits_exactly() {
        let t0 = ManualClock::at_epoch().now();
        let mut s = NotifyState::default();
        s.record_retry_after(17, t0);
        assert_eq!(s.next_send_at(GROUP, t0), t0 + Duration::seconds(17));
        assert_eq!(s.next_send_at(GROUP, t0 + Duration::seconds(30)), t0 + Duration::seconds(30));
    }

    #[test]
    fn backoffs_grow_and_cap() {
        assert_eq!(transient_backoff(1), Duration::seconds(5));
        assert_eq!(transient_backoff(2), Duration::seconds(10));
        assert_eq!(transient_backoff(50), Duration::seconds(300));
        assert_eq!(config_backoff(1), Duration::seconds(60));
        assert_eq!(config_backoff(3), Duration::seconds(240));
        assert_eq!(config_backoff(99), Duration::seconds(3600));
    }

    #[test]
    fn config_error_blocks_only_the_same_configuration_and_only_for_a_while() {
        let t0 = ManualClock::at_epoch().now();
        let mut s = NotifyState::default();
        s.record_config_error("401 Unauthorized", "cfg-a", t0);
        assert!(s.blocking("cfg-a", t0 + Duration::seconds(59)).is_some());
        assert!(s.blocking("cfg-a", t0 + Duration::seconds(60)).is_none());
        assert!(s.blocking("cfg-b", t0).is_none(), "a new token or chat is tried at once");
        s.record_config_error("401 Unauthorized", "cfg-a", t0 + Duration::seconds(60));
        let b = s.blocking("cfg-a", t0 + Duration::seconds(61)).unwrap();
        assert_eq!((b.failures, b.since, b.until), (2, t0, t0 + Duration::seconds(180)));
        s.record_attempt(GROUP, t0 + Duration::seconds(500));
        s.record_delivery(t0 + Duration::seconds(500));
        assert!(s.blocked.is_none());
    }

    #[test]
    fn identical_events_coalesce_inside_the_cooldown() {
        let t0 = ManualClock::at_epoch().now();
        let mut s = NotifyState::default();
        assert!(!s.coalesce("k", 300, t0));
        assert!(s.coalesce("k", 300, t0 + Duration::seconds(299)));
        assert!(!s.coalesce("other", 300, t0 + Duration::seconds(1)));
        assert!(!s.coalesce("k", 300, t0 + Duration::seconds(300)));
        assert!(!s.coalesce("k", 0, t0) && !s.coalesce("k", 0, t0), "cooldown 0 turns coalescing off");
    }

    #[test]
    fn missing_topic_is_skipped_for_an_hour_then_tried_again() {
        let t0 = ManualClock::at_epoch().now();
        let mut s = NotifyState::default();
        s.record_topic_missing(GROUP, 466, "message thread not found", t0);
        assert!(!s.use_topic(GROUP, 466, t0 + Duration::seconds(10)));
        assert!(s.use_topic(GROUP, 467, t0));
        assert!(s.use_topic(GROUP, 466, t0 + Duration::seconds(3600)));
        s.record_topic_ok(GROUP, 466);
        assert!(s.topic_missing.is_none());
    }
}
