//! Every Claude Code session in every config dir, measured the way Claude Code's own
//! statusline counts. Transcripts are read from the end, so the cost grows with the number of
//! sessions, not with their size; with the index, a transcript whose size, mtime and inode are
//! what they were when it was last measured costs one stat and no read.

use super::live;
use super::measure::{self, ContextSource, TranscriptFacts};
use super::paths::{self, FileStat, SessionFile};
use crate::env::Env;
use crate::index::Stamp;
use crate::platform::Listing;
use crate::session::{Platform, SessionInfo, SessionList, SourceError, StoreKind, TranscriptRef};
use crate::Runtime;
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::SystemTime;

/// Worker threads for reading transcripts; the work is a few small reads per file, so more
/// threads than this mostly contend.
const MAX_THREADS: usize = 4;

/// The index's name for this platform's entries.
const INDEX: &str = "claude-code";

/// Every Claude Code session on this machine. Unreadable dirs and files become `errors`; the
/// rest are still listed. With `changed_since`, a transcript not written since costs one stat.
pub fn discover(rt: &Runtime, listing: &Listing) -> SessionList {
    let dirs = paths::config_dirs(&rt.env);
    let mut files: Vec<(SessionFile, bool)> = Vec::new();
    let mut list = SessionList::default();
    for dir in &dirs {
        let auto_compact = auto_compact_enabled(dir, &rt.env);
        let mut found = Vec::new();
        let mut errors = Vec::new();
        paths::list_sessions(dir, &mut found, &mut errors);
        files.extend(found.into_iter().map(|f| (f, auto_compact)));
        list.errors.extend(
            errors.into_iter().map(|e| source_error(&e.path, &format!("cannot list Claude Code projects (expected a readable directory): {}", e.error))),
        );
    }
    let all_files = files.len();
    if listing.changed_since.is_some() {
        let before = files.len();
        for (file, _) in files.iter_mut() {
            file.stat = std::fs::metadata(&file.path).ok().map(|m| FileStat::of(&m));
        }
        // A transcript with no stat is kept: measuring it reports why.
        files.retain(|(f, _)| listing.keeps(f.stat.and_then(|s| s.modified).map(DateTime::<Utc>::from)));
        list.idle_not_listed = before - files.len();
    }
    let remembered = match (listing.index, listing.changed_since) {
        (Some(index), Some(_)) => index.entries_for(INDEX, files.iter().map(|(f, _)| path_text(&f.path))),
        (Some(index), None) => index.entries(INDEX),
        (None, _) => HashMap::new(),
    };
    let ctx = Context {
        env: &rt.env,
        estimate_tokens: rt.config.cc_estimate_tokens,
        registry: live::Registry::load(&dirs),
        now: SystemTime::now(),
        remembered,
        measured: std::sync::Mutex::new(Vec::new()),
    };
    let results = measure_all(&files, &ctx);
    if let Some(index) = listing.index {
        let measured = std::mem::take(&mut *ctx.measured.lock().unwrap_or_else(|e| e.into_inner()));
        log::debug!("claude-code: {} of {} transcripts read, the others unchanged since the index or idle", measured.len(), all_files);
        match listing.changed_since {
            // Only a full listing knows which transcripts are gone: their entries go.
            None => {
                let present: HashSet<String> = files.iter().map(|(f, _)| path_text(&f.path)).collect();
                if !measured.is_empty() || ctx.remembered.len() != present.len() {
                    index.save(INDEX, &measured, Some(&|key: &str| present.contains(key)));
                }
            }
            Some(_) if !measured.is_empty() => index.save(INDEX, &measured, None),
            Some(_) => {}
        }
    }
    for result in results {
        match result {
            Ok(info) => list.sessions.push(info),
            Err(e) => list.errors.push(e),
        }
    }
    keep_newest_per_id(&mut list.sessions);
    list
}

/// One session by id: its transcript is found directly (`projects/*/<id>.jsonl`), without
/// measuring every other session.
pub fn find(rt: &Runtime, session_id: &str) -> Option<SessionInfo> {
    if session_id.is_empty() || session_id.contains(['/', '\\']) || session_id.starts_with('.') {
        return None;
    }
    let dirs = paths::config_dirs(&rt.env);
    let ctx = Context {
        env: &rt.env,
        estimate_tokens: rt.config.cc_estimate_tokens,
        registry: live::Registry::load(&dirs),
        now: SystemTime::now(),
        remembered: HashMap::new(),
        measured: std::sync::Mutex::new(Vec::new()),
    };
    for dir in &dirs {
        let Ok(projects) = std::fs::read_dir(dir.join("projects")) else { continue };
        for project in projects.flatten() {
            let path = project.path().join(format!("{session_id}.jsonl"));
            if path.is_file() {
                let file = SessionFile { session_id: session_id.to_string(), path, subagents: Vec::new(), stat: None };
                return measure_session(&file, auto_compact_enabled(dir, &rt.env), &ctx).ok();
            }
        }
    }
    None
}

struct Context<'a> {
    env: &'a Env,
    estimate_tokens: u64,
    registry: live::Registry,
    now: SystemTime,
    /// What the index remembers, by transcript path.
    remembered: HashMap<String, crate::index::Entry>,
    /// What this run measured afresh, for the index.
    measured: std::sync::Mutex<Vec<(String, crate::index::Entry)>>,
}

/// Measures every file on a few threads, keeping the listing order.
fn measure_all(files: &[(SessionFile, bool)], ctx: &Context) -> Vec<Result<SessionInfo, SourceError>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, MAX_THREADS).min(files.len().max(1));
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some((file, auto_compact)) = files.get(i) else { break };
            done.push((i, measure_session(file, *auto_compact, ctx)));
        }
        done
    };
    let mut panicked = 0;
    let mut results: Vec<(usize, Result<SessionInfo, SourceError>)> = if threads == 1 {
        work()
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads).map(|_| s.spawn(work)).collect();
            let mut all = Vec::new();
            for handle in handles {
                match handle.join() {
                    Ok(done) => all.extend(done),
                    Err(_) => panicked += 1,
                }
            }
            all
        })
    };
    results.sort_by_key(|(i, _)| *i);
    let mut measured: Vec<Result<SessionInfo, SourceError>> = results.into_iter().map(|(_, r)| r).collect();
    // A worker that died took the sessions it had measured with it: say so rather than list fewer.
    if panicked > 0 {
        let lost = files.len().saturating_sub(measured.len());
        let message = format!("{panicked} measuring thread(s) failed; {lost} transcript(s) were not measured in this run");
        measured.push(Err(SourceError { platform: Platform::ClaudeCode, source: "projects/".into(), message }));
    }
    measured
}

fn measure_session(file: &SessionFile, auto_compact: bool, ctx: &Context) -> Result<SessionInfo, SourceError> {
    let read_error = |e: std::io::Error| source_error(&file.path, &format!("cannot read Claude Code transcript (expected a readable JSONL file): {e}"));
    let key = path_text(&file.path);
    let remembered = ctx.remembered.get(&key).and_then(Remembered::parse);
    // One stat: a transcript that did not change since it was measured is not read again.
    if let Some(remembered) = &remembered {
        let stat = match file.stat {
            Some(stat) => stat,
            None => FileStat::of(&std::fs::metadata(&file.path).map_err(read_error)?),
        };
        if stat.is_file && remembered.stamp == stat.stamp {
            return Ok(session_info(file, remembered.facts.clone(), stat.modified, auto_compact, ctx));
        }
    }
    let handle = crate::fsutil::open_for_reading(&file.path).map_err(read_error)?;
    let meta = handle.metadata().map_err(read_error)?;
    let stamp = Stamp::of(&meta);
    // JSONL only grows: when the bytes added since decide the result, only they are read.
    let grown = match remembered.filter(|r| r.stamp.same_file(&stamp) && stamp.size > r.stamp.size) {
        Some(r) => measure::read_grown(&handle, r.stamp.size, stamp.size).map_err(read_error)?,
        None => None,
    };
    let facts = match grown {
        Some(facts) => facts,
        None => measure::read_transcript(&handle, meta.len()).map_err(read_error)?,
    };
    if facts.skipped_lines > 0 {
        log::debug!("{}: skipped {} unreadable line(s)", file.path.display(), facts.skipped_lines);
    }
    if let (Ok(stamp), Ok(value)) = (serde_json::to_string(&stamp), serde_json::to_string(&facts)) {
        ctx.measured.lock().unwrap_or_else(|e| e.into_inner()).push((key, crate::index::Entry { stamp, value }));
    }
    let modified = meta.modified().ok();
    Ok(session_info(file, facts, modified, auto_compact, ctx))
}

/// An index entry of this platform: the transcript's stamp and what it measured.
struct Remembered {
    stamp: Stamp,
    facts: TranscriptFacts,
}

impl Remembered {
    /// None for an entry that does not parse (written by something else): measured afresh.
    fn parse(entry: &crate::index::Entry) -> Option<Remembered> {
        Some(Remembered { stamp: serde_json::from_str(&entry.stamp).ok()?, facts: serde_json::from_str(&entry.value).ok()? })
    }
}

fn session_info(file: &SessionFile, facts: TranscriptFacts, modified: Option<SystemTime>, auto_compact: bool, ctx: &Context) -> SessionInfo {
    let window = measure::window_for(facts.model.as_deref(), facts.requested_model.as_deref(), ctx.env);
    let (tokens, tokens_estimated) = match (facts.source, facts.context_tokens) {
        (ContextSource::Usage | ContextSource::CompactBoundary, Some(t)) => (t, facts.doubtful),
        _ => (ctx.estimate_tokens, true),
    };
    let window = if tokens_estimated { window } else { measure::window_proven_by(window, tokens, ctx.env) };
    SessionInfo {
        platform: Platform::ClaudeCode,
        session_id: file.session_id.clone(),
        key: None,
        title: facts.title,
        cwd: facts.cwd,
        model: display_model(facts.model, facts.requested_model.as_deref()),
        context_tokens: Some(tokens),
        context_window: Some(window.tokens),
        context_percent: SessionInfo::percent_of(Some(tokens), Some(window.tokens)),
        compact_at_tokens: measure::compact_threshold(window, ctx.env, auto_compact),
        estimated: tokens_estimated || !window.known,
        live: Some(ctx.registry.is_live(&file.session_id, modified, ctx.now)),
        updated_at: modified.map(DateTime::<Utc>::from),
        short_id: String::new(),
        doubtful: false,
        source: path_text(&file.path),
        children: file.subagents.iter().map(|a| a.agent_id.clone()).collect(),
        transcript: Some(TranscriptRef::new(StoreKind::JsonlFile, file.path.clone(), file.session_id.clone())),
    }
}

/// The response's model id, with the `[1m]` suffix when the request asked for it (the API
/// echoes the id without it).
fn display_model(model: Option<String>, requested: Option<&str>) -> Option<String> {
    const SUFFIX: &str = "[1m]";
    match (model, requested) {
        (Some(m), Some(r)) if r.ends_with(SUFFIX) && !m.ends_with(SUFFIX) => Some(format!("{m}{SUFFIX}")),
        (Some(m), _) => Some(m),
        (None, r) => r.map(str::to_owned),
    }
}

/// The same session can sit in two config dirs (a copied `~/.claude`); list the newest copy.
fn keep_newest_per_id(sessions: &mut Vec<SessionInfo>) {
    let mut newest: HashMap<String, usize> = HashMap::new();
    for (i, s) in sessions.iter().enumerate() {
        let keep = newest.get(&s.session_id).is_none_or(|&j| sessions.get(j).is_some_and(|o| s.updated_at > o.updated_at));
        if keep {
            newest.insert(s.session_id.clone(), i);
        }
    }
    let mut i = 0;
    sessions.retain(|s| {
        let kept = newest.get(&s.session_id) == Some(&i);
        i += 1;
        kept
    });
}

/// Auto-compaction is on unless a settings file of this config dir (or the global config
/// `~/.claude.json` for `~/.claude`) says `"autoCompactEnabled": false`.
fn auto_compact_enabled(dir: &Path, env: &Env) -> bool {
    let mut candidates: Vec<PathBuf> = vec![dir.join("settings.json"), dir.join(".claude.json")];
    if let Some(home) = env.home().filter(|h| dir == h.join(".claude")) {
        candidates.push(home.join(".claude.json"));
    }
    !candidates.iter().any(|path| {
        let Ok(bytes) = crate::fsutil::read_capped(path, crate::fsutil::SMALL_FILE_CAP) else { return false };
        serde_json::from_slice::<serde_json::Value>(&bytes).ok().and_then(|v| v.get("autoCompactEnabled")?.as_bool()) == Some(false)
    })
}

/// A path as text: most are UTF-8 and need no lossy pass (a listing makes one per session).
fn path_text(path: &Path) -> String {
    path.to_str().map_or_else(|| path.display().to_string(), str::to_owned)
}

fn source_error(path: &Path, message: &str) -> SourceError {
    SourceError { platform: Platform::ClaudeCode, source: path.display().to_string(), message: message.to_owned() }
}

#[cfg(test)]
#[path = "discover_tests.rs"]
mod tests;
