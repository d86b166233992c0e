//! What ASM does when a platform calls its hook (`memory_manager --action hook --platform P`,
//! installed by `session_manager --install-hooks`; the platform's adapter reads the call and
//! writes the answer):
//!
//! - a session starts (`startup`, `resume`, `clear`): the pending handoff of its directory, or
//!   of the nearest ancestor that has one up to the git top level, younger than
//!   ASM_HANDOFF_MAX_AGE, is given to it, once;
//! - a session was compacted (`compact`): the key information ASM saved just before (files,
//!   decisions, open items, errors, identifiers) is given to it, once per compaction;
//! - a session is about to compact: its memory is extracted right then;
//! - ASM_HOOKS_OFF=1 (set for the platform runs ASM starts itself) turns all of it off.

use super::{handoff, MemoryError, MemoryStore, Origin};
use crate::platform::hooks::{HookEvent, StartSource};
use crate::session::Platform;
use crate::Runtime;
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};

/// What to give the session, if anything.
pub fn handle(rt: &Runtime, platform: Platform, event: &HookEvent, now: DateTime<Utc>) -> Result<Option<String>, MemoryError> {
    if rt.env.get("ASM_HOOKS_OFF").is_some_and(|v| v == "1") {
        return Ok(None);
    }
    let store = MemoryStore::new(rt);
    match event {
        HookEvent::SessionStart { session_id, cwd, source: StartSource::Startup | StartSource::Resume | StartSource::Clear } => {
            pending_handoff(rt, &store, platform, session_id, Path::new(cwd), now)
        }
        HookEvent::SessionStart { session_id, source: StartSource::Compact, .. } => kept_before_compaction(&store, session_id, now),
        HookEvent::PreCompact { session_id, .. } => {
            extract_before_compaction(rt, platform, session_id)?;
            Ok(None)
        }
        HookEvent::SessionStart { .. } | HookEvent::Other(_) => Ok(None),
    }
}

fn pending_handoff(
    rt: &Runtime,
    store: &MemoryStore,
    platform: Platform,
    session_id: &str,
    cwd: &Path,
    now: DateTime<Utc>,
) -> Result<Option<String>, MemoryError> {
    let max_age = chrono::Duration::seconds(rt.config.handoff_max_age as i64);
    let top = git_top(cwd);
    let Some(record) = store.pending_for(platform, cwd, top.as_deref(), session_id, max_age, now)? else { return Ok(None) };
    let via = if platform == Platform::Opencode { "plugin" } else { "hook" };
    let record = store.mark_handed(&record.session_id, session_id, via, now)?;
    log::info!("handed the handoff of {} to {} session {session_id} in {}", record.memory_id(), platform.display_name(), cwd.display());
    let context = format!(
        "auto-session-manager handoff: you continue the work of session {} (extracted {}). What it knew:\n\n{}",
        record.session_id,
        record.extracted_at.format("%Y-%m-%d %H:%M UTC"),
        record.handoff
    );
    Ok(Some(crate::redact::redact(&context).into_owned()))
}

fn kept_before_compaction(store: &MemoryStore, session_id: &str, now: DateTime<Utc>) -> Result<Option<String>, MemoryError> {
    let record = match store.load(session_id) {
        Ok(r) => r,
        Err(MemoryError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    if record.compact_context_at.is_some_and(|given| given >= record.extracted_at) {
        return Ok(None);
    }
    let text = handoff::key_information(&record, store.handoff_max_bytes());
    if text.trim().is_empty() {
        return Ok(None);
    }
    store.mark_compact_context_given(session_id, now)?;
    Ok(Some(crate::redact::redact(&text).into_owned()))
}

fn extract_before_compaction(rt: &Runtime, platform: Platform, session_id: &str) -> Result<(), MemoryError> {
    let Some(info) = crate::platform::adapter(platform).find(rt, session_id) else {
        log::warn!("{} session {session_id} is about to compact but ASM cannot find its transcript", platform.display_name());
        return Ok(());
    };
    let record = super::extract_as(rt, &info, Origin::PreCompact)?;
    log::info!("extracted {} before its compaction ({} bytes of key information kept)", record.memory_id(), record.handoff.len());
    Ok(())
}

/// The git top level `cwd` is in (the nearest ancestor holding `.git`), if any.
pub fn git_top(cwd: &Path) -> Option<PathBuf> {
    cwd.ancestors().find(|dir| dir.join(".git").exists()).map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Env;
    use crate::memory::store::tests::record;

    fn runtime(home: &Path) -> Runtime {
        Runtime::from_env(Env::from_pairs([("HOME", home.to_str().unwrap()), ("OPENCLAW_STATE_DIR", home.join("state").to_str().unwrap())])).unwrap()
    }

    fn start(session: &str, cwd: &Path) -> HookEvent {
        HookEvent::SessionStart { session_id: session.into(), cwd: cwd.display().to_string(), source: StartSource::Startup }
    }

    #[test]
    fn a_pending_handoff_reaches_a_new_session_in_a_subdirectory_once() {
        let home = asm_testkit::TempDir::new("hook-sub");
        let rt = runtime(home.path());
        let project = home.join("proj");
        std::fs::create_dir_all(project.join(".git")).unwrap();
        std::fs::create_dir_all(project.join("sub/deeper")).unwrap();
        let store = MemoryStore::new(&rt);
        let mut r = record("old", None, Some(project.to_str().unwrap()), Utc::now());
        r.origin = Origin::Switch;
        r.sections.latest_request = Some("ship the parser".into());
        store.save(r).unwrap();
        let now = Utc::now();
        let given = handle(&rt, Platform::ClaudeCode, &start("new", &project.join("sub/deeper")), now).unwrap().unwrap();
        assert!(given.contains("ship the parser") && given.contains("session old"), "{given}");
        assert_eq!(store.load("old").unwrap().injected_into.as_deref(), Some("new"));
        assert_eq!(handle(&rt, Platform::ClaudeCode, &start("third", &project), now).unwrap(), None, "once");
    }

    #[test]
    fn the_walk_stops_at_the_git_top_level_and_old_or_own_handoffs_wait() {
        let home = asm_testkit::TempDir::new("hook-top");
        let rt = runtime(home.path());
        let outer = home.join("outer");
        let repo = outer.join("repo");
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        let store = MemoryStore::new(&rt);
        let mut above = record("above", None, Some(outer.to_str().unwrap()), Utc::now());
        above.origin = Origin::Switch;
        store.save(above).unwrap();
        assert_eq!(handle(&rt, Platform::ClaudeCode, &start("s", &repo), Utc::now()).unwrap(), None, "outside the repository");
        let mut stale = record("stale", None, Some(repo.to_str().unwrap()), Utc::now() - chrono::Duration::days(8));
        stale.origin = Origin::Switch;
        store.save(stale).unwrap();
        assert_eq!(handle(&rt, Platform::ClaudeCode, &start("s", &repo), Utc::now()).unwrap(), None, "older than ASM_HANDOFF_MAX_AGE");
        let mut own = record("s", None, Some(repo.to_str().unwrap()), Utc::now());
        own.origin = Origin::Switch;
        store.save(own).unwrap();
        assert_eq!(handle(&rt, Platform::ClaudeCode, &start("s", &repo), Utc::now()).unwrap(), None, "not into itself");
    }

    #[test]
    fn compaction_memories_are_not_handoffs_but_come_back_after_the_compaction_once() {
        let home = asm_testkit::TempDir::new("hook-compact");
        let rt = runtime(home.path());
        let project = home.join("p");
        std::fs::create_dir_all(&project).unwrap();
        let store = MemoryStore::new(&rt);
        let mut r = record("c", None, Some(project.to_str().unwrap()), Utc::now());
        r.origin = Origin::PreCompact;
        r.sections.files_changed = vec!["src/parser.rs".into()];
        r.sections.decisions = vec!["We decided to keep the reader streaming.".into()];
        store.save(r).unwrap();
        assert_eq!(handle(&rt, Platform::ClaudeCode, &start("other", &project), Utc::now()).unwrap(), None);
        let compacted = HookEvent::SessionStart { session_id: "c".into(), cwd: project.display().to_string(), source: StartSource::Compact };
        let kept = handle(&rt, Platform::ClaudeCode, &compacted, Utc::now()).unwrap().unwrap();
        assert!(kept.contains("src/parser.rs") && kept.contains("keep the reader streaming"), "{kept}");
        assert_eq!(handle(&rt, Platform::ClaudeCode, &compacted, Utc::now()).unwrap(), None);
    }

    #[test]
    fn hooks_off_does_nothing() {
        let home = asm_testkit::TempDir::new("hook-off");
        let mut rt = runtime(home.path());
        rt.env.set("ASM_HOOKS_OFF", "1");
        let project = home.join("p");
        let store = MemoryStore::new(&rt);
        let mut r = record("old", None, Some(project.to_str().unwrap()), Utc::now());
        r.origin = Origin::Switch;
        store.save(r).unwrap();
        assert_eq!(handle(&rt, Platform::ClaudeCode, &start("new", &project), Utc::now()).unwrap(), None);
    }
}
