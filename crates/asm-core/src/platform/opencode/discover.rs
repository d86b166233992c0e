//! Which OpenCode sessions exist on this machine and how full each context window is, counted
//! as OpenCode's TUI counts it: the SQLite databases of 1.2.0+ (`sqlite.rs`) and the legacy
//! JSON tree of ≤ 1.1.x (`legacy_json.rs`), found through `paths.rs`; limits from the config
//! and the model catalog (`catalog.rs`); the numbers from `measure.rs`. Root sessions are
//! listed; child (subagent) sessions are folded into their root's `children`.

use super::catalog::ModelDirectory;
use super::measure;
use super::model::{is_root, Scan, StoreRead, StoredSession};
use super::paths::OpencodePaths;
use super::{legacy_json, sqlite};
use crate::session::{Platform, SessionInfo, SessionList, SourceError, StoreKind, TranscriptRef};
use crate::Runtime;
use chrono::{TimeZone, Utc};
use std::collections::{HashMap, HashSet};

/// The index's name for this platform's entries: `<db>\u{1f}<session id>`, stamped with the
/// session's `time_updated`, valued with its scan.
const INDEX: &str = "opencode";

/// Every OpenCode root session this machine holds, with the stores that could not be read.
pub fn discover(rt: &Runtime, listing: &crate::platform::Listing) -> SessionList {
    let index = listing.index;
    let remembered = index.map(|i| i.entries(INDEX)).unwrap_or_default();
    let mut fresh: Vec<(String, crate::index::Entry)> = Vec::new();
    let mut present: HashSet<String> = HashSet::new();
    let Some(paths) = OpencodePaths::resolve(&rt.env) else { return SessionList::default() };
    let mut stores = Stores {
        list: SessionList::default(),
        seen: HashMap::new(),
        models: ModelDirectory::load(&rt.env, &paths),
        estimate_tokens: rt.config.oc_estimate_tokens,
    };
    for db in paths.db_files() {
        let name = db.display().to_string();
        let key = |id: &str| format!("{name}\u{1f}{id}");
        let stamp = |updated: Option<i64>| updated.map_or_else(|| "-".to_string(), |u| u.to_string());
        let lookup = |id: &str, updated: Option<i64>| -> Option<Scan> {
            let entry = remembered.get(&key(id)).filter(|e| e.stamp == stamp(updated))?;
            serde_json::from_str(&entry.value).ok()
        };
        match sqlite::read_store(&db, &lookup) {
            Ok(read) => {
                for s in &read.sessions {
                    present.insert(key(&s.id));
                    let known = lookup(&s.id, s.updated_ms).is_some_and(|scan| scan == s.scan);
                    if index.is_some() && !known && s.parent_id.is_none() {
                        if let Ok(value) = serde_json::to_string(&s.scan) {
                            fresh.push((key(&s.id), crate::index::Entry { stamp: stamp(s.updated_ms), value }));
                        }
                    }
                }
                stores.add(&name, read, |id| TranscriptRef::new(StoreKind::Sqlite, db.clone(), id))
            }
            Err(e) => stores.failed(&db.display().to_string(), e.to_string()),
        }
    }
    let storage = paths.storage_dir();
    if storage.join("session").is_dir() {
        match legacy_json::read_storage(&storage) {
            Ok(read) => stores.add(&storage.display().to_string(), read, |id| TranscriptRef::new(StoreKind::JsonTree, storage.clone(), id)),
            Err(e) => stores.failed(&storage.display().to_string(), format!("cannot list the legacy JSON tree: {e}")),
        }
    }
    if let Some(index) = index {
        if !fresh.is_empty() || remembered.len() != present.len() {
            index.save(INDEX, &fresh, Some(&|k: &str| present.contains(k)));
        }
    }
    stores.list
}

/// The sessions of every store read so far.
struct Stores {
    list: SessionList,
    seen: HashMap<String, usize>,
    models: ModelDirectory,
    estimate_tokens: u64,
}

impl Stores {
    fn failed(&mut self, source: &str, message: String) {
        self.list.errors.push(SourceError { platform: Platform::Opencode, source: source.to_string(), message });
    }

    /// Adds one store's root sessions; a session id already listed from another store keeps
    /// the most recently updated copy (1.2–1.15 imported the JSON tree, channel databases may overlap).
    fn add(&mut self, source: &str, read: StoreRead, transcript: impl Fn(&str) -> TranscriptRef) {
        if read.skipped_rows > 0 {
            let message = format!("{} session record(s) unreadable (no id, or a half-written file) and skipped; the others are listed", read.skipped_rows);
            self.failed(source, message);
        }
        for (root, children) in roots_with_descendants(&read.sessions) {
            let mut info = session_info(root, children, source, &mut self.models, self.estimate_tokens);
            info.transcript = Some(transcript(&root.id));
            match self.seen.get(&info.session_id) {
                Some(&at) => {
                    if let Some(existing) = self.list.sessions.get_mut(at) {
                        if info.updated_at > existing.updated_at {
                            *existing = info;
                        }
                    }
                }
                None => {
                    self.seen.insert(info.session_id.clone(), self.list.sessions.len());
                    self.list.sessions.push(info);
                }
            }
        }
    }
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
        short_id: String::new(),
        doubtful: false,
        source: source.to_string(),
        children,
        transcript: None,
    }
}
