//! The file session store of OpenClaw 2026.7.x and earlier: `agents/<agentId>/sessions/`
//! holds `sessions.json` (one JSON object keyed by session key, each value a SessionEntry),
//! a `<sessionId>.jsonl` transcript per session, and `<oldId>.jsonl.reset.<ISO>` archives of
//! transcripts that a reset replaced (those are history, not sessions).

use super::model::SessionEntry;
use super::store::{StoreError, StoreRead};
use crate::env::Env;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// OpenClaw rewrites `sessions.json` whole; a read that lands mid-write is retried once.
const RETRY_PAUSE: Duration = Duration::from_millis(100);

/// Reads every entry of a `sessions.json`.
pub fn read(sessions_json: &Path) -> Result<StoreRead, StoreError> {
    match read_once(sessions_json) {
        Err(StoreError::UnknownFormat { .. }) => {
            std::thread::sleep(RETRY_PAUSE);
            read_once(sessions_json)
        }
        other => other,
    }
}

fn read_once(sessions_json: &Path) -> Result<StoreRead, StoreError> {
    let bytes = crate::fsutil::read_capped(sessions_json, crate::fsutil::STORE_FILE_CAP)
        .map_err(|source| StoreError::Io { path: sessions_json.to_path_buf(), source })?;
    parse(&bytes, sessions_json)
}

/// The entries of a `sessions.json`'s bytes (`sessions_json` names it in errors).
pub fn parse(bytes: &[u8], sessions_json: &Path) -> Result<StoreRead, StoreError> {
    // A stray non-UTF-8 byte costs one character, not the whole store.
    let text = String::from_utf8_lossy(bytes);
    let unknown = |detail: String| StoreError::UnknownFormat { path: sessions_json.to_path_buf(), detail };
    let object: Map<String, Value> =
        serde_json::from_str(&text).map_err(|e| unknown(format!("{e}; expected one JSON object keyed by session key (is the file being written?)")))?;
    let mut read = StoreRead::default();
    for (key, value) in object {
        if !value.is_object() {
            read.skipped.push(format!("{key}: not a SessionEntry object"));
            continue;
        }
        match serde_json::from_value::<SessionEntry>(value) {
            Ok(entry) => read.push(key, entry, None),
            Err(e) => read.skipped.push(format!("{key}: {e}")),
        }
    }
    Ok(read)
}

/// The transcript of an entry: its `sessionFile` when that file exists, else
/// `<sessionId>.jsonl` or the topic-named `<sessionId>-topic-<threadId>.jsonl` next to
/// `sessions.json`. None when none of them exists.
pub fn transcript_path(sessions_dir: &Path, session_id: &str, entry: &SessionEntry, thread_id: Option<i64>, env: &Env) -> Option<PathBuf> {
    let recorded = entry.session_file.as_deref().map(|f| sessions_dir.join(env.expand_tilde(f)));
    let by_id = sessions_dir.join(format!("{session_id}.jsonl"));
    let by_topic = thread_id.map(|t| sessions_dir.join(format!("{session_id}-topic-{t}.jsonl")));
    recorded.into_iter().chain([by_id]).chain(by_topic).find(|p| p.is_file())
}

/// A transcript that a reset replaced: `<sessionId>.jsonl.reset.<ISO-with-dashes>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetArchive {
    pub session_id: String,
    /// The reset time as written in the name, e.g. `2026-11-24T00-54-00.470Z`.
    pub reset_at: String,
    pub path: PathBuf,
}

/// Every reset archive in a sessions folder, oldest first per session id. These are the
/// earlier lives of a session key, not sessions of their own.
pub fn reset_archives(sessions_dir: &Path) -> Vec<ResetArchive> {
    let Ok(entries) = std::fs::read_dir(sessions_dir) else { return Vec::new() };
    let mut found: Vec<ResetArchive> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let (session_id, reset_at) = name.split_once(".jsonl.reset.")?;
            (!session_id.is_empty() && !reset_at.is_empty()).then(|| ResetArchive { session_id: session_id.into(), reset_at: reset_at.into(), path: e.path() })
        })
        .collect();
    // The ISO suffix sorts chronologically as text.
    found.sort_by(|a, b| (&a.session_id, &a.reset_at).cmp(&(&b.session_id, &b.reset_at)));
    found
}
