//! One adapter per agent platform, each in its own folder with a README of the store format:
//! `claude_code`, `opencode`, `openclaw`. Every adapter answers one question — which sessions
//! exist and how full is each context window, counted as the platform itself counts it —
//! reading the platform's stores read-only. Adapters never notify or act.

pub mod claude_code;
pub mod openclaw;
pub mod opencode;
pub mod sqlite;
pub mod table;

use crate::session::{Platform, SessionInfo, SessionList};
use crate::Runtime;

/// Every session on the machine (or on one platform), sorted highest percent first.
pub fn discover(rt: &Runtime, only: Option<Platform>) -> SessionList {
    let mut all = SessionList::default();
    for platform in Platform::ALL.into_iter().filter(|p| only.is_none_or(|o| o == *p)) {
        let started = std::time::Instant::now();
        let found = discover_platform(rt, platform);
        log::debug!("{platform}: {} sessions, {} store errors in {} ms", found.sessions.len(), found.errors.len(), started.elapsed().as_millis());
        all.extend(found);
    }
    all.sort();
    all.redact();
    all
}

fn discover_platform(rt: &Runtime, platform: Platform) -> SessionList {
    match platform {
        Platform::ClaudeCode => claude_code::discover(rt),
        Platform::Opencode => opencode::discover(rt),
        Platform::Openclaw => openclaw::discover(rt),
    }
}

/// The session with this id (or OpenClaw key), searching one platform or all.
pub fn find_session(rt: &Runtime, id: &str, only: Option<Platform>) -> Option<SessionInfo> {
    let list = discover(rt, only);
    let matches = |s: &SessionInfo| s.session_id == id || s.key.as_deref() == Some(id);
    list.sessions.into_iter().find(matches)
}
