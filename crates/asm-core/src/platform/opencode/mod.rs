//! The OpenCode adapter: which OpenCode sessions exist on this machine and how full each
//! context window is, counted as OpenCode's TUI counts it. Stores (see README.md): the
//! SQLite databases of 1.2.0+ (`sqlite`) and the legacy JSON tree of ≤ 1.1.x
//! (`legacy_json`), found through `paths`; limits from the config and the model catalog
//! (`models`); the numbers from `measure`. Root sessions are listed; child (subagent)
//! sessions are folded into their root's `children`.

pub mod legacy_json;
pub mod measure;
pub mod models;
pub mod paths;
pub mod sqlite;

use crate::session::{Platform, SessionInfo, SessionList, SourceError, TranscriptRef};
use crate::Runtime;
use chrono::{TimeZone, Utc};
use measure::{ModelRef, Scan};
use models::ModelDirectory;
use paths::OpencodePaths;
use std::collections::{HashMap, HashSet};

/// A session as a store holds it, before its numbers are worked out.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSession {
    pub id: String,
    pub parent_id: Option<String>,
    pub title: Option<String>,
    pub directory: Option<String>,
    /// The project's worktree (where the project config lookup stops).
    pub worktree: Option<String>,
    /// The session's own model column (`{"id","providerID"}`), newer versions only.
    pub model: Option<ModelRef>,
    pub updated_ms: Option<i64>,
    pub archived: bool,
    /// The TUI rule over the session's messages (roots only; children are not measured).
    pub scan: Scan,
}

/// Everything one store gave, and how many of its session records had to be skipped.
#[derive(Debug, Default)]
pub struct StoreRead {
    pub sessions: Vec<StoredSession>,
    pub skipped_rows: usize,
}

/// Every OpenCode root session this machine holds, with the stores that could not be read.
pub fn discover(rt: &Runtime) -> SessionList {
    let Some(paths) = OpencodePaths::resolve(&rt.env) else { return SessionList::default() };
    let mut models = ModelDirectory::load(&rt.env, &paths);
    let mut list = SessionList::default();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let estimate = rt.config.oc_estimate_tokens;
    for db in paths.db_files() {
        let source = db.display().to_string();
        let result = sqlite::read_store(&db).map_err(|e| e.to_string());
        add_store(
            &mut list,
            &mut seen,
            &source,
            result,
            |id| TranscriptRef::OpencodeSqlite { db: db.clone(), session_id: id.to_string() },
            &mut models,
            estimate,
        );
    }
    let storage = paths.storage_dir();
    if storage.join("session").is_dir() {
        let source = storage.display().to_string();
        let result = legacy_json::read_storage(&storage).map_err(|e| format!("cannot list the legacy JSON tree: {e}"));
        add_store(
            &mut list,
            &mut seen,
            &source,
            result,
            |id| TranscriptRef::OpencodeLegacy { storage_dir: storage.clone(), session_id: id.to_string() },
            &mut models,
            estimate,
        );
    }
    list
}

/// Adds one store's root sessions; a session id already listed from another store keeps the
/// most recently updated copy (1.2–1.15 imported the JSON tree, channel databases may overlap).
fn add_store(
    list: &mut SessionList,
    seen: &mut HashMap<String, usize>,
    source: &str,
    result: Result<StoreRead, String>,
    transcript: impl Fn(&str) -> TranscriptRef,
    models: &mut ModelDirectory,
    estimate_tokens: u64,
) {
    let read = match result {
        Ok(read) => read,
        Err(message) => return list.errors.push(SourceError { platform: Platform::Opencode, source: source.to_string(), message }),
    };
    if read.skipped_rows > 0 {
        let message = format!("{} session record(s) unreadable (no id, or a half-written file) and skipped; the others are listed", read.skipped_rows);
        list.errors.push(SourceError { platform: Platform::Opencode, source: source.to_string(), message });
    }
    for (root, children) in roots_with_descendants(&read.sessions) {
        let mut info = session_info(root, children, source, models, estimate_tokens);
        info.transcript = Some(transcript(&root.id));
        match seen.get(&info.session_id) {
            Some(&at) => {
                if let Some(existing) = list.sessions.get_mut(at) {
                    if info.updated_at > existing.updated_at {
                        *existing = info;
                    }
                }
            }
            None => {
                seen.insert(info.session_id.clone(), list.sessions.len());
                list.sessions.push(info);
            }
        }
    }
}

/// Whether a session is listed on its own: no parent, or a parent id that names no session of
/// the same store (deleted) or itself. `ids` are all session ids of that store.
pub fn is_root(session: &StoredSession, ids: &HashSet<&str>) -> bool {
    session.parent_id.as_deref().is_none_or(|p| p == session.id || !ids.contains(p))
}

/// Root sessions, not archived, each with the ids of all its descendants, sorted.
fn roots_with_descendants(sessions: &[StoredSession]) -> Vec<(&StoredSession, Vec<String>)> {
    let ids: HashSet<&str> = sessions.iter().map(|s| s.id.as_str()).collect();
    let mut children_of: HashMap<&str, Vec<&str>> = HashMap::new();
    for s in sessions {
        if let Some(parent) = s.parent_id.as_deref().filter(|p| ids.contains(p) && *p != s.id) {
            children_of.entry(parent).or_default().push(&s.id);
        }
    }
    sessions
        .iter()
        .filter(|s| is_root(s, &ids) && !s.archived)
        .map(|root| {
            let mut found: Vec<String> = Vec::new();
            let mut visited: HashSet<&str> = HashSet::from([root.id.as_str()]);
            let mut stack: Vec<&str> = vec![&root.id];
            while let Some(id) = stack.pop() {
                for child in children_of.get(id).into_iter().flatten() {
                    if visited.insert(child) {
                        found.push(child.to_string());
                        stack.push(child);
                    }
                }
            }
            found.sort();
            (root, found)
        })
        .collect()
}

fn session_info(stored: &StoredSession, children: Vec<String>, source: &str, models: &mut ModelDirectory, estimate_tokens: u64) -> SessionInfo {
    let model = match &stored.scan {
        Scan::Found(usage) => usage.model.clone().or_else(|| stored.model.clone()),
        Scan::NotFound { .. } => stored.model.clone(),
    };
    let (limits, rule) = models.resolve(model.as_ref(), stored.directory.as_deref(), stored.worktree.as_deref());
    let m = measure::measure(&stored.scan, limits.as_ref(), &rule, estimate_tokens);
    SessionInfo {
        platform: Platform::Opencode,
        session_id: stored.id.clone(),
        key: None,
        title: stored.title.clone().filter(|t| !t.is_empty()),
        cwd: stored.directory.clone().filter(|d| !d.is_empty()),
        model: model.map(|m| m.label()),
        context_tokens: m.context_tokens,
        context_window: m.context_window,
        context_percent: m.context_percent,
        compact_at_tokens: m.compact_at_tokens,
        estimated: m.estimated,
        live: None,
        updated_at: stored.updated_ms.and_then(|ms| Utc.timestamp_millis_opt(ms).single()),
        source: source.to_string(),
        children,
        transcript: None,
    }
}
