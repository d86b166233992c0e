//! Where things are. The OpenClaw state dir is resolved exactly as OpenClaw resolves it
//! (`OPENCLAW_STATE_DIR`, else `$OPENCLAW_HOME` or `$HOME`, then `.openclaw`, or
//! `.openclaw-<profile>` for `OPENCLAW_PROFILE`, with the legacy `.clawdbot` detected), and
//! everything ASM keeps lives under it.

use crate::env::Env;
use std::path::{Path, PathBuf};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum PathsError {
    #[error("cannot find the home directory: set HOME, OPENCLAW_HOME or OPENCLAW_STATE_DIR")]
    NoHome,
}

pub const SKILL_NAME: &str = "auto-session-manager";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// OpenClaw's state dir (`~/.openclaw`).
    pub state_dir: PathBuf,
    /// OpenClaw's config file (`openclaw.json`, JSON5).
    pub openclaw_config: PathBuf,
    /// The home that OpenClaw and the other platforms resolve against.
    pub home: PathBuf,
    /// The OpenClaw profile in force, if any.
    pub profile: Option<String>,
}

impl Paths {
    pub fn resolve(env: &Env) -> Result<Paths, PathsError> {
        let home = match env.get("OPENCLAW_HOME") {
            Some(h) => env.expand_tilde(h),
            None => env.home().cloned().ok_or(PathsError::NoHome)?,
        };
        let profile = env.get("OPENCLAW_PROFILE").map(str::to_string).filter(|p| p != "default");
        let state_dir = match env.get("OPENCLAW_STATE_DIR") {
            Some(dir) => env.expand_tilde(dir),
            None => default_state_dir(&home, profile.as_deref()),
        };
        let openclaw_config = match env.get("OPENCLAW_CONFIG_PATH") {
            Some(p) => env.expand_tilde(p),
            None => existing_or_first(&[state_dir.join("openclaw.json"), state_dir.join("clawdbot.json")]),
        };
        Ok(Paths { state_dir, openclaw_config, home, profile })
    }

    /// Memory files: `<state>/.session_memory/<session_id>.json` (dir 0700, files 0600).
    pub fn memory_dir(&self) -> PathBuf {
        self.state_dir.join(".session_memory")
    }

    pub fn logs_dir(&self) -> PathBuf {
        self.state_dir.join("logs")
    }

    /// `logs/asm_<tool>.log`
    pub fn log_file(&self, tool: &str) -> PathBuf {
        self.logs_dir().join(format!("asm_{tool}.log"))
    }

    pub fn state_file(&self) -> PathBuf {
        self.state_dir.join(".asm_state.json")
    }

    /// The durable notification outbox (append-only JSON lines).
    pub fn outbox_file(&self) -> PathBuf {
        self.state_dir.join(".asm_outbox.jsonl")
    }

    /// Where `make install` puts the skill.
    pub fn skill_dir(&self) -> PathBuf {
        self.state_dir.join("skills").join(SKILL_NAME)
    }

    /// The monitor daemon's pid file.
    /// ASM's settings file (`asm.env`), whose ASM_* values beat the environment.
    pub fn settings_file(&self) -> PathBuf {
        self.state_dir.join(crate::settings_file::FILE_NAME)
    }

    pub fn monitor_pid_file(&self) -> PathBuf {
        self.state_dir.join(".asm_monitor.pid")
    }

    /// A fork ASM made only to have the platform summarize it: the platform's hooks leave
    /// such a session alone while this file exists.
    pub fn summary_fork_marker(&self, session_id: &str) -> PathBuf {
        self.state_dir.join(".asm_forks").join(session_id.replace(['/', '\\'], "_"))
    }

    /// `agents/` holds one folder per OpenClaw agent.
    pub fn openclaw_agents_dir(&self) -> PathBuf {
        self.state_dir.join("agents")
    }
}

fn default_state_dir(home: &Path, profile: Option<&str>) -> PathBuf {
    match profile {
        Some(p) => home.join(format!(".openclaw-{p}")),
        None => {
            let current = home.join(".openclaw");
            let legacy = home.join(".clawdbot");
            if !current.exists() && legacy.is_dir() {
                legacy
            } else {
                current
            }
        }
    }
}

fn existing_or_first(candidates: &[PathBuf]) -> PathBuf {
    candidates.iter().find(|p| p.exists()).unwrap_or(&candidates[0]).clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(pairs: &[(&str, &str)]) -> Paths {
        Paths::resolve(&Env::from_pairs(pairs.iter().copied())).unwrap()
    }

    #[test]
    fn default_is_dot_openclaw_in_home() {
        let p = resolve(&[("HOME", "/home/u")]);
        assert_eq!(p.state_dir, PathBuf::from("/home/u/.openclaw"));
        assert_eq!(p.state_file(), PathBuf::from("/home/u/.openclaw/.asm_state.json"));
        assert_eq!(p.log_file("monitor"), PathBuf::from("/home/u/.openclaw/logs/asm_monitor.log"));
        assert_eq!(p.memory_dir(), PathBuf::from("/home/u/.openclaw/.session_memory"));
        assert_eq!(p.openclaw_config, PathBuf::from("/home/u/.openclaw/openclaw.json"));
    }

    #[test]
    fn state_dir_variable_wins_then_openclaw_home_then_profile() {
        assert_eq!(resolve(&[("HOME", "/h"), ("OPENCLAW_STATE_DIR", "/srv/oc"), ("OPENCLAW_HOME", "/x")]).state_dir, PathBuf::from("/srv/oc"));
        assert_eq!(resolve(&[("HOME", "/h"), ("OPENCLAW_STATE_DIR", "~/oc")]).state_dir, PathBuf::from("/h/oc"));
        assert_eq!(resolve(&[("HOME", "/h"), ("OPENCLAW_HOME", "/x")]).state_dir, PathBuf::from("/x/.openclaw"));
        assert_eq!(resolve(&[("HOME", "/h"), ("OPENCLAW_PROFILE", "work")]).state_dir, PathBuf::from("/h/.openclaw-work"));
        assert_eq!(resolve(&[("HOME", "/h"), ("OPENCLAW_CONFIG_PATH", "/etc/oc.json")]).openclaw_config, PathBuf::from("/etc/oc.json"));
    }

    #[test]
    fn no_home_is_a_clear_error() {
        assert!(Paths::resolve(&Env::from_pairs(Vec::<(String, String)>::new())).is_err());
    }
}
