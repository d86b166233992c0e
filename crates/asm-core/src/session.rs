//! Platform-neutral session types: what `session_manager --list --json` prints for every
//! session on every platform, and where each session's transcript can be read.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Platform {
    Openclaw,
    ClaudeCode,
    Opencode,
}

impl Platform {
    pub const ALL: [Platform; 3] = [Platform::Openclaw, Platform::ClaudeCode, Platform::Opencode];

    /// The id used on command lines and in JSON: `openclaw`, `claude-code`, `opencode`.
    pub fn id(self) -> &'static str {
        match self {
            Platform::Openclaw => "openclaw",
            Platform::ClaudeCode => "claude-code",
            Platform::Opencode => "opencode",
        }
    }

    /// The name people read: `OpenClaw`, `Claude Code`, `OpenCode`.
    pub fn display_name(self) -> &'static str {
        match self {
            Platform::Openclaw => "OpenClaw",
            Platform::ClaudeCode => "Claude Code",
            Platform::Opencode => "OpenCode",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// One session and how full its context window is, as the platform itself counts it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub platform: Platform,
    pub session_id: String,
    /// OpenClaw session key (carries the Telegram topic); None elsewhere.
    pub key: Option<String>,
    pub title: Option<String>,
    pub cwd: Option<String>,
    pub model: Option<String>,
    pub context_tokens: Option<u64>,
    pub context_window: Option<u64>,
    /// 100 × tokens / window, one decimal.
    pub context_percent: Option<f64>,
    /// Where the platform itself would auto-compact.
    pub compact_at_tokens: Option<u64>,
    /// True when tokens or window are ASM's estimate rather than the platform's number.
    pub estimated: bool,
    /// The platform's number cannot be right (more than 10× the window, or more than any
    /// model's window): shown as doubtful, never acted on.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub doubtful: bool,
    /// Whether a live process holds the session; None when the platform does not say.
    pub live: Option<bool>,
    pub updated_at: Option<DateTime<Utc>>,
    /// The shortest prefix of the id, at least [`MIN_ID_PREFIX`] characters, that no other
    /// listed session shares: what tables and notices show, and what commands take back.
    #[serde(default)]
    pub short_id: String,
    /// The file or database the session was read from.
    pub source: String,
    /// Child sessions (subagents) folded into this one; only their ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<String>,
    /// Where the transcript can be read, for extraction. Not part of the JSON protocol.
    #[serde(skip)]
    pub transcript: Option<TranscriptRef>,
}

impl SessionInfo {
    /// A session known only by its platform and id: nothing measured, nothing known about it.
    /// Fill in what is known with struct-update syntax.
    pub fn bare(platform: Platform, session_id: impl Into<String>) -> SessionInfo {
        SessionInfo {
            platform,
            session_id: session_id.into(),
            key: None,
            title: None,
            cwd: None,
            model: None,
            context_tokens: None,
            context_window: None,
            context_percent: None,
            compact_at_tokens: None,
            estimated: false,
            doubtful: false,
            live: None,
            updated_at: None,
            short_id: String::new(),
            source: String::new(),
            children: Vec::new(),
            transcript: None,
        }
    }

    /// 100 × tokens / window rounded to one decimal, or None when either is unknown.
    pub fn percent_of(tokens: Option<u64>, window: Option<u64>) -> Option<f64> {
        match (tokens, window) {
            (Some(t), Some(w)) if w > 0 => Some((t as f64 * 1000.0 / w as f64).round() / 10.0),
            _ => None,
        }
    }

    /// A short label for people: the OpenClaw key, else the id's unique prefix.
    pub fn short_label(&self) -> String {
        match &self.key {
            Some(k) => k.clone(),
            None => self.short_id().to_string(),
        }
    }

    /// The id's unique prefix when discovery worked it out, else the whole id.
    pub fn short_id(&self) -> &str {
        if self.short_id.is_empty() {
            &self.session_id
        } else {
            &self.short_id
        }
    }
}

/// More tokens than any model's context window holds (the largest known is 10M).
pub const LARGEST_KNOWN_WINDOW: u64 = 10_000_000;

impl SessionInfo {
    /// Whether the context number cannot be right: over 10× the window, or over any window.
    pub fn implausible(&self) -> bool {
        let Some(tokens) = self.context_tokens else { return false };
        tokens > LARGEST_KNOWN_WINDOW || self.context_window.is_some_and(|w| tokens > w.saturating_mul(10))
    }
}

/// Ids are shown by a prefix of at least this many characters.
pub const MIN_ID_PREFIX: usize = 8;

/// For each id, the length of its shortest prefix (at least [`MIN_ID_PREFIX`] characters, at
/// most the whole id) that no other id starts with. Sorting puts the ids sharing the longest
/// prefix with an id next to it, so neighbours decide.
pub fn unique_prefix_lengths(ids: &[&str]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..ids.len()).collect();
    order.sort_by_key(|&i| ids[i]);
    let common = |a: &str, b: &str| a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    let mut lengths = vec![0; ids.len()];
    for (pos, &i) in order.iter().enumerate() {
        let before = pos.checked_sub(1).map_or(0, |p| common(ids[order[p]], ids[i]));
        let after = order.get(pos + 1).map_or(0, |&n| common(ids[n], ids[i]));
        let total = ids[i].chars().count();
        lengths[i] = (before.max(after) + 1).max(MIN_ID_PREFIX).min(total);
    }
    lengths
}

/// How a platform keeps a transcript, in words every platform shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreKind {
    /// One JSON object per line, the whole file is the session's.
    JsonlFile,
    /// An SQLite database holding many sessions' rows.
    Sqlite,
    /// A folder tree of JSON files holding many sessions.
    JsonTree,
}

/// Where a session's transcript can be read. Only the session's own adapter interprets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscriptRef {
    pub kind: StoreKind,
    pub path: PathBuf,
    pub session_id: String,
}

impl TranscriptRef {
    pub fn new(kind: StoreKind, path: impl Into<PathBuf>, session_id: impl Into<String>) -> TranscriptRef {
        TranscriptRef { kind, path: path.into(), session_id: session_id.into() }
    }
}

/// A store that could not be read; the others are still listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceError {
    pub platform: Platform,
    pub source: String,
    pub message: String,
}

/// What discovery found: sessions, and the stores it could not read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionList {
    pub sessions: Vec<SessionInfo>,
    pub errors: Vec<SourceError>,
    /// Sessions passed over because they did not change within the asked window
    /// (`--changed-within`), not measured.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub idle_not_listed: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl SessionList {
    pub fn extend(&mut self, other: SessionList) {
        self.sessions.extend(other.sessions);
        self.errors.extend(other.errors);
        self.idle_not_listed += other.idle_not_listed;
    }

    /// Masks secrets in every text that came from a platform's store (a title is often the
    /// user's first prompt). Paths and ids are ours or the platform's and hold none.
    pub fn redact(&mut self) {
        let mask = |field: &mut Option<String>| {
            if let Some(text) = field {
                if let std::borrow::Cow::Owned(masked) = crate::redact::redact(text) {
                    *text = masked;
                }
            }
        };
        for s in &mut self.sessions {
            mask(&mut s.title);
            mask(&mut s.cwd);
            mask(&mut s.model);
            mask(&mut s.key);
        }
        for e in &mut self.errors {
            if let std::borrow::Cow::Owned(masked) = crate::redact::redact(&e.message) {
                e.message = masked;
            }
        }
    }

    /// Marks the sessions whose numbers cannot be right as doubtful.
    pub fn mark_doubtful(&mut self) {
        for s in self.sessions.iter_mut().filter(|s| s.implausible()) {
            log::warn!(
                "{} session {}: {} tokens in a {} window cannot be right; shown as doubtful, not acted on",
                s.platform,
                s.session_id,
                s.context_tokens.unwrap_or_default(),
                s.context_window.map_or("unknown".to_string(), |w| w.to_string())
            );
            s.doubtful = true;
        }
    }

    /// Gives every session its shortest unique id prefix among this list's sessions.
    pub fn assign_short_ids(&mut self) {
        let ids: Vec<&str> = self.sessions.iter().map(|s| s.session_id.as_str()).collect();
        let lengths = unique_prefix_lengths(&ids);
        for (s, len) in self.sessions.iter_mut().zip(lengths) {
            s.short_id = s.session_id.chars().take(len).collect();
        }
    }

    /// Highest percent first; sessions without a percent last, newest first among equals.
    pub fn sort(&mut self) {
        self.sessions.sort_by(|a, b| {
            let pa = a.context_percent.unwrap_or(-1.0);
            let pb = b.context_percent.unwrap_or(-1.0);
            pb.total_cmp(&pa).then_with(|| b.updated_at.cmp(&a.updated_at)).then_with(|| a.session_id.cmp(&b.session_id))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_has_one_decimal_and_needs_both_numbers() {
        assert_eq!(SessionInfo::percent_of(Some(160_000), Some(200_000)), Some(80.0));
        assert_eq!(SessionInfo::percent_of(Some(33_333), Some(200_000)), Some(16.7));
        assert_eq!(SessionInfo::percent_of(None, Some(200_000)), None);
        assert_eq!(SessionInfo::percent_of(Some(5), Some(0)), None);
    }

    #[test]
    fn short_ids_are_the_shortest_unique_prefixes_of_at_least_eight_characters() {
        let ids = ["ses_df4c1a2b3c", "ses_df4c9f8e7d", "ffef2de7-0e93-4bea", "abc", "ses_df4c1a2b3c"];
        assert_eq!(unique_prefix_lengths(&ids), [14, 9, 8, 3, 14], "a duplicate is shown whole; a short id is its own prefix");
        let mut list =
            SessionList { sessions: ids[..3].iter().map(|id| SessionInfo::bare(Platform::Opencode, *id)).collect(), errors: vec![], idle_not_listed: 0 };
        list.assign_short_ids();
        let shown: Vec<&str> = list.sessions.iter().map(|s| s.short_id()).collect();
        assert_eq!(shown, ["ses_df4c1", "ses_df4c9", "ffef2de7"]);
        assert_eq!(SessionInfo::bare(Platform::Opencode, "ses_x").short_label(), "ses_x", "an id without a list is shown whole");
    }

    #[test]
    fn impossible_numbers_are_doubtful() {
        let at = |tokens: u64, window: Option<u64>| SessionInfo {
            context_tokens: Some(tokens),
            context_window: window,
            ..SessionInfo::bare(Platform::ClaudeCode, "x")
        };
        assert!(at(u64::MAX, Some(200_000)).implausible());
        assert!(at(1 << 63, None).implausible());
        assert!(at(2_000_001, Some(200_000)).implausible());
        assert!(!at(360_000, Some(200_000)).implausible(), "over the window after a failed compaction happens");
        let mut list = SessionList { sessions: vec![at(u64::MAX, Some(200_000)), at(100, Some(200_000))], errors: vec![], idle_not_listed: 0 };
        list.mark_doubtful();
        assert_eq!(list.sessions.iter().map(|s| s.doubtful).collect::<Vec<_>>(), [true, false]);
    }

    #[test]
    fn platform_ids_are_kebab_case() {
        assert_eq!(serde_json::to_string(&Platform::ClaudeCode).unwrap(), "\"claude-code\"");
        assert_eq!(Platform::Opencode.id(), "opencode");
    }
}
