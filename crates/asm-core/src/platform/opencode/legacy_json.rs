//! The JSON tree of OpenCode ≤ 1.1.x (`<data>/storage/`), left in place after upgrades:
//! `session/<projectID>/<sessionID>.json`, `message/<sessionID>/<messageID>.json`,
//! `project/<projectID>.json`. Message ids sort by time (`msg_…` ascending), so a session's
//! files are read newest first and reading stops at the TUI rule's candidate.
//!
//! Files may be half-written (OpenCode writes them in place): a session file that cannot be
//! read is skipped and counted; a message file that cannot be read counts as unreadable,
//! which makes the number uncertain if it was newer than the one used.

use super::model::{classify, is_root, Row, Scan, StoreRead, StoredSession, Usage};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};

/// Reads every session of a `storage/` tree; an error only when the tree itself cannot be listed.
pub fn read_storage(storage: &Path) -> io::Result<StoreRead> {
    let mut read = StoreRead::default();
    let mut worktrees: HashMap<String, Option<String>> = HashMap::new();
    for project_dir in sorted_entries(&storage.join("session"))?.into_iter().filter(|p| p.is_dir()) {
        let project_id = file_stem(&project_dir);
        let worktree = worktrees.entry(project_id.clone()).or_insert_with(|| project_worktree(storage, &project_id)).clone();
        for file in sorted_entries(&project_dir)?.into_iter().filter(|f| is_json_file(f)) {
            match read_session(&file, worktree.clone()) {
                Some(session) => read.sessions.push(session),
                None => read.skipped_rows += 1,
            }
        }
    }
    let roots: Vec<usize> = root_indexes(&read.sessions);
    for index in roots {
        if let Some(session) = read.sessions.get_mut(index) {
            session.scan = scan_messages(&storage.join("message").join(&session.id));
        }
    }
    Ok(read)
}

fn read_session(file: &Path, worktree: Option<String>) -> Option<StoredSession> {
    let value: Value = serde_json::from_slice(&crate::fsutil::read_capped(file, crate::fsutil::SMALL_FILE_CAP).ok()?).ok()?;
    let id = value.get("id")?.as_str().filter(|id| !id.is_empty())?.to_string();
    let string = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_string);
    let time = value.get("time");
    Some(StoredSession {
        id,
        parent_id: string("parentID").filter(|p| !p.is_empty()),
        title: string("title"),
        directory: string("directory"),
        worktree,
        model: None,
        updated_ms: time.and_then(|t| t.get("updated")).and_then(|u| u.as_i64().or_else(|| u.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))),
        archived: time.and_then(|t| t.get("archived")).is_some_and(|a| !a.is_null()),
        scan: Scan::NotFound { uncertain: false },
    })
}

fn root_indexes(sessions: &[StoredSession]) -> Vec<usize> {
    let ids: HashSet<&str> = sessions.iter().map(|s| s.id.as_str()).collect();
    sessions.iter().enumerate().filter(|(_, s)| !s.archived && is_root(s, &ids)).map(|(i, _)| i).collect()
}

/// The TUI rule over `message/<sessionID>/*.json`, newest file first.
fn scan_messages(dir: &Path) -> Scan {
    let Ok(mut files) = sorted_entries(dir) else { return Scan::NotFound { uncertain: false } };
    files.retain(|f| is_json_file(f));
    let mut uncertain = false;
    for file in files.iter().rev() {
        let row = match crate::fsutil::read_capped(file, crate::transcript::MAX_RECORD_BYTES as u64) {
            Ok(bytes) => classify(&bytes, None),
            Err(_) => Row::Unreadable,
        };
        match row {
            Row::Usage { tokens, model } => return Scan::Found(Usage { tokens, model, uncertain }),
            Row::Unreadable | Row::Malformed => uncertain = true,
            Row::Skip => {}
        }
    }
    Scan::NotFound { uncertain }
}

fn project_worktree(storage: &Path, project_id: &str) -> Option<String> {
    let bytes = crate::fsutil::read_capped(&storage.join("project").join(format!("{project_id}.json")), crate::fsutil::SMALL_FILE_CAP).ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    value.get("worktree")?.as_str().map(str::to_string)
}

fn sorted_entries(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?.flatten().map(|e| e.path()).collect();
    entries.sort();
    Ok(entries)
}

fn is_json_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "json") && path.is_file()
}

fn file_stem(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}
