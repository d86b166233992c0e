//! Which sessions a running Claude Code holds: `<config>/sessions/<pid>.json` is written by
//! interactive runs and removed at exit. A file whose pid is gone (a crash) or now belongs to
//! another program does not count. Headless `-p` runs register nothing, so a transcript
//! written moments ago also counts as live.

use crate::proc;
use serde::Deserialize;
use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// A transcript written this recently is taken as being in use.
pub const RECENT_WRITE: Duration = Duration::from_secs(120);

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RegistryEntry {
    pid: i64,
    session_id: String,
}

/// Session ids held by running Claude Code processes, with whether the process is alive.
#[derive(Debug, Default)]
pub struct Registry {
    sessions: HashMap<String, bool>,
}

impl Registry {
    /// Reads `sessions/*.json` of every config dir; unreadable entries are ignored (the
    /// registry is advisory, and Claude Code rewrites it constantly).
    pub fn load(config_dirs: &[impl AsRef<Path>]) -> Registry {
        Self::load_with(config_dirs, process_is_claude)
    }

    pub fn load_with(config_dirs: &[impl AsRef<Path>], alive: impl Fn(i32) -> bool) -> Registry {
        let mut sessions = HashMap::new();
        for dir in config_dirs {
            let Ok(entries) = fs::read_dir(dir.as_ref().join("sessions")) else { continue };
            for path in entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "json")) {
                let Some(entry) =
                    crate::fsutil::read_capped(&path, crate::fsutil::SMALL_FILE_CAP).ok().and_then(|b| serde_json::from_slice::<RegistryEntry>(&b).ok())
                else {
                    continue;
                };
                let is_alive = i32::try_from(entry.pid).is_ok_and(&alive);
                let held = sessions.entry(entry.session_id).or_insert(false);
                *held |= is_alive;
            }
        }
        Registry { sessions }
    }

    /// Live when a running process holds it; idle when a registered process is gone;
    /// otherwise by how recently the transcript was written.
    pub fn is_live(&self, session_id: &str, modified: Option<SystemTime>, now: SystemTime) -> bool {
        match self.sessions.get(session_id) {
            Some(alive) => *alive,
            None => modified.and_then(|m| now.duration_since(m).ok()).is_some_and(|age| age <= RECENT_WRITE),
        }
    }
}

fn process_is_claude(pid: i32) -> bool {
    proc::pid_alive(pid) && proc::pid_cmdline(pid).is_none_or(|cmd| cmd.to_lowercase().contains("claude"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_entries_decide_and_recent_writes_fill_in() {
        let dir = asm_testkit::TempDir::new("cc-live");
        let sessions = dir.join("sessions");
        fs::create_dir_all(&sessions).unwrap();
        fs::write(sessions.join("100.json"), r#"{"pid":100,"sessionId":"alive","status":"busy"}"#).unwrap();
        fs::write(sessions.join("200.json"), r#"{"pid":200,"sessionId":"crashed"}"#).unwrap();
        fs::write(sessions.join("300.json"), "{not json").unwrap();
        let reg = Registry::load_with(&[dir.path()], |pid| pid == 100);
        let now = SystemTime::now();
        let long_ago = Some(now - Duration::from_secs(3600));
        assert!(reg.is_live("alive", long_ago, now));
        assert!(!reg.is_live("crashed", Some(now), now));
        assert!(reg.is_live("headless", Some(now - Duration::from_secs(5)), now));
        assert!(!reg.is_live("headless", long_ago, now));
        assert!(!reg.is_live("headless", None, now));
    }

    #[test]
    fn our_own_pid_is_not_claude_unless_its_name_says_so() {
        let me = std::process::id() as i32;
        let named_claude = proc::pid_cmdline(me).is_some_and(|c| c.to_lowercase().contains("claude"));
        assert_eq!(process_is_claude(me), named_claude);
        assert!(!process_is_claude(-1));
    }
}
