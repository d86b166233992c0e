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
    /// Whether a live process holds the session; None when the platform does not say.
    pub live: Option<bool>,
    pub updated_at: Option<DateTime<Utc>>,
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
            live: None,
            updated_at: None,
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

    /// A short label for people: the OpenClaw key, else the first 8 characters of the id.
    pub fn short_label(&self) -> String {
        match &self.key {
            Some(k) => k.clone(),
            None => self.session_id.chars().take(8).collect(),
        }
    }
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
}

impl SessionList {
    pub fn extend(&mut self, other: SessionList) {
        self.sessions.extend(other.sessions);
        self.errors.extend(other.errors);
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
    fn platform_ids_are_kebab_case() {
        assert_eq!(serde_json::to_string(&Platform::ClaudeCode).unwrap(), "\"claude-code\"");
        assert_eq!(Platform::Opencode.id(), "opencode");
    }
}
