//! Every session of every OpenClaw agent, from the SQLite store (2026.8.1+) or the
//! `sessions.json` file store (up to 2026.7.x), measured the way OpenClaw measures it.

use super::keys::{parse_telegram_key, TelegramChat};
use super::measure::{self, Generation};
use super::model::SessionEntry;
use super::paths::{self, Store};
use super::store::{Row, StoreError, StoreRead};
use super::{store_files, store_sqlite};
use crate::session::{Platform, SessionInfo, SessionList, SourceError, StoreKind, TranscriptRef};
use crate::Runtime;
use std::collections::HashMap;

/// Every OpenClaw session this machine holds; stores that cannot be read are listed in `errors`.
/// The measurement index is not used here: each agent store is read with one query per run.
pub fn discover(rt: &Runtime, _listing: &crate::platform::Listing) -> SessionList {
    let mut list = SessionList::default();
    let stores = match paths::stores(rt) {
        Ok(stores) => stores,
        Err(e) => {
            let agents_dir = rt.paths.openclaw_agents_dir();
            list.errors.push(source_error(&agents_dir.display().to_string(), format!("cannot list the agents folder: {e}")));
            return list;
        }
    };
    for store in &stores {
        match read_store(store) {
            Ok(read) => add_store(rt, store, read, &mut list),
            Err(e) => list.errors.push(source_error(&store.path().display().to_string(), e.to_string())),
        }
    }
    list
}

fn read_store(store: &Store) -> Result<StoreRead, StoreError> {
    match store {
        Store::Sqlite { db, .. } => store_sqlite::read(db),
        Store::Files { sessions_json, .. } => store_files::read(sessions_json),
    }
}

fn add_store(rt: &Runtime, store: &Store, read: StoreRead, list: &mut SessionList) {
    let source = store.path().display().to_string();
    if let Some(summary) = read.skipped_summary() {
        log::warn!("openclaw store {source}: {summary}");
        list.errors.push(source_error(&source, summary));
    }
    let spawners: Vec<Option<String>> = read.rows.iter().map(|r| r.entry.spawned_by.clone()).collect();
    let sessions: Vec<SessionInfo> = read.rows.into_iter().map(|row| session_info(rt, store, &source, row)).collect();
    list.sessions.extend(fold_subagents(sessions, &spawners));
}

/// Subagent sessions (`spawnedBy` another session of the same store) are not sessions of their
/// own: their ids go into the `children` of the session at the top of their spawn chain. A
/// subagent whose spawner is not in the store stays listed.
fn fold_subagents(mut sessions: Vec<SessionInfo>, spawners: &[Option<String>]) -> Vec<SessionInfo> {
    let index: HashMap<&str, usize> = sessions.iter().enumerate().filter_map(|(i, s)| Some((s.key.as_deref()?, i))).collect();
    let parent_of = |i: usize| spawners.get(i)?.as_deref().and_then(|k| index.get(k).copied()).filter(|p| *p != i);
    let mut root_of: Vec<Option<usize>> = vec![None; sessions.len()];
    for (i, root) in root_of.iter_mut().enumerate() {
        let mut at = i;
        // A chain longer than the store is a cycle: leave such a session where it is.
        for _ in 0..sessions.len() {
            match parent_of(at) {
                Some(p) => at = p,
                None => break,
            }
        }
        *root = (at != i && parent_of(at).is_none()).then_some(at);
    }
    for (child, root) in root_of.iter().enumerate() {
        if let Some(root) = *root {
            let id = sessions[child].session_id.clone();
            sessions[root].children.push(id);
        }
    }
    sessions.into_iter().zip(root_of).filter(|(_, root)| root.is_none()).map(|(s, _)| s).collect()
}

fn session_info(rt: &Runtime, store: &Store, source: &str, row: Row) -> SessionInfo {
    let Row { key, session_id, entry } = row;
    let telegram = parse_telegram_key(&key);
    let (generation, transcript) = match store {
        Store::Sqlite { db, .. } => (Generation::Sqlite, Some(TranscriptRef::new(StoreKind::Sqlite, db.clone(), session_id.clone()))),
        Store::Files { sessions_json, .. } => {
            let dir = sessions_json.parent().unwrap_or(sessions_json);
            let thread = telegram.as_ref().and_then(|t| t.thread_id);
            (
                Generation::Files,
                store_files::transcript_path(dir, &session_id, &entry, thread, &rt.env)
                    .map(|path| TranscriptRef::new(StoreKind::JsonlFile, path, session_id.clone())),
            )
        }
    };
    let m = measure::measure(&entry, generation, rt.config.oc_estimate_tokens);
    SessionInfo {
        platform: Platform::Openclaw,
        title: title(&entry, telegram.as_ref()),
        cwd: entry.workspace().map(str::to_string),
        model: entry.model_name().map(str::to_string),
        context_tokens: m.tokens,
        context_window: m.window,
        context_percent: m.percent,
        compact_at_tokens: m.compact_at,
        estimated: m.estimated,
        // The gateway holds every session; no per-session process says whether one is live.
        live: None,
        updated_at: entry.last_activity(),
        short_id: String::new(),
        doubtful: false,
        source: source.to_string(),
        children: Vec::new(),
        transcript,
        key: Some(key),
        session_id,
    }
}

/// A name for people: the user's label, else the group's subject (with its topic), else
/// OpenClaw's display name.
fn title(entry: &SessionEntry, telegram: Option<&TelegramChat>) -> Option<String> {
    if let Some(label) = &entry.label {
        return Some(label.clone());
    }
    match (&entry.subject, telegram.and_then(|t| t.thread_id)) {
        (Some(subject), Some(topic)) => Some(format!("{subject} · topic {topic}")),
        (Some(subject), None) => Some(subject.clone()),
        (None, _) => entry.display_name.clone(),
    }
}

fn source_error(source: &str, message: String) -> SourceError {
    SourceError { platform: Platform::Openclaw, source: source.to_string(), message }
}
