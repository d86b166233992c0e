//! Where Claude Code keeps its files: the config dirs (`CLAUDE_CONFIG_DIR`, which may be a
//! comma-separated list, `~/.claude`, `~/.config/claude`), the project-dir name encoding of a
//! cwd, and the listing of `projects/<encoded-cwd>/` into sessions and their subagents.

use crate::env::Env;
use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Project dirs written by other tools through Claude Code, not by the user: claude-mem's
/// background observer sessions (`projects/-…-claude-mem-observer-sessions/`).
const TOOL_GENERATED_PROJECTS: &[&str] = &["claude-mem-observer-sessions"];

/// Claude Code's limit on an encoded dir name before it appends a hash (`_oe=200`).
const MAX_ENCODED_LEN: usize = 200;

/// Every existing config dir, each once (by real path), in the order Claude Code tools use:
/// the `CLAUDE_CONFIG_DIR` list first, then `~/.claude`, then `$XDG_CONFIG_HOME/claude`
/// (default `~/.config/claude`).
pub fn config_dirs(env: &Env) -> Vec<PathBuf> {
    let mut candidates: Vec<PathBuf> = env
        .get("CLAUDE_CONFIG_DIR")
        .map(|list| list.split(',').map(str::trim).filter(|p| !p.is_empty()).map(|p| env.expand_tilde(p)).collect())
        .unwrap_or_default();
    if let Some(home) = env.home() {
        candidates.push(home.join(".claude"));
    }
    match env.get("XDG_CONFIG_HOME") {
        Some(xdg) => candidates.push(env.expand_tilde(xdg).join("claude")),
        None => candidates.extend(env.home().map(|h| h.join(".config").join("claude"))),
    }
    let mut seen = Vec::new();
    let mut dirs = Vec::new();
    for dir in candidates {
        let Ok(real) = fs::canonicalize(&dir) else { continue };
        if real.is_dir() && !seen.contains(&real) {
            seen.push(real);
            dirs.push(dir);
        }
    }
    dirs
}

/// Where sessions are looked for: `projects/` of each candidate config dir, existing or not.
pub fn places(env: &Env) -> Vec<crate::platform::Place> {
    let configured: Vec<PathBuf> = env
        .get("CLAUDE_CONFIG_DIR")
        .map(|list| list.split(',').map(str::trim).filter(|p| !p.is_empty()).map(|p| env.expand_tilde(p)).collect())
        .unwrap_or_default();
    // A config dir a person named that is not there is worth a warning; one without projects yet is not.
    let mut places: Vec<crate::platform::Place> = configured
        .into_iter()
        .map(|d| if d.exists() { crate::platform::Place::new(d.join("projects"), None) } else { crate::platform::Place::new(d, Some("CLAUDE_CONFIG_DIR")) })
        .collect();
    let defaults = [
        env.home().map(|h| h.join(".claude")),
        match env.get("XDG_CONFIG_HOME") {
            Some(xdg) => Some(env.expand_tilde(xdg).join("claude")),
            None => env.home().map(|h| h.join(".config").join("claude")),
        },
    ];
    for dir in defaults.into_iter().flatten() {
        let path = dir.join("projects");
        if !places.iter().any(|p| p.path == path) {
            places.push(crate::platform::Place::new(path, None));
        }
    }
    places
}

/// The directory name Claude Code gives a launch cwd under `projects/`: every UTF-16 unit that
/// is not an ASCII letter or digit becomes `-`; names over 200 units are cut and get `-` plus
/// the base-36 Java string hash of the original cwd. Pass the real path (symlinks resolved),
/// as Claude Code does.
pub fn encode_project_dir(cwd: &str) -> String {
    let encoded: String = cwd.encode_utf16().map(|u| if u < 128 && (u as u8).is_ascii_alphanumeric() { u as u8 as char } else { '-' }).collect();
    if encoded.len() <= MAX_ENCODED_LEN {
        return encoded;
    }
    let hash = cwd.encode_utf16().fold(0i32, |h, u| h.wrapping_shl(5).wrapping_sub(h).wrapping_add(i32::from(u)));
    format!("{}-{}", &encoded[..MAX_ENCODED_LEN], base36(hash.unsigned_abs()))
}

fn base36(mut n: u32) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8_lossy(&out).into_owned()
}

/// One main transcript and the subagent transcripts that belong to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionFile {
    pub session_id: String,
    pub path: PathBuf,
    /// Subagent transcripts: `<sessionId>/subagents/agent-<id>.jsonl` (2.1.2 and later) or
    /// `agent-<id>.jsonl` next to the main file naming this session (older versions).
    pub subagents: Vec<Subagent>,
    /// The file's stat, when the lister already took it.
    pub stat: Option<FileStat>,
}

/// What a stat said about a transcript.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStat {
    pub stamp: crate::index::Stamp,
    pub is_file: bool,
    pub modified: Option<std::time::SystemTime>,
}

impl FileStat {
    pub fn of(meta: &fs::Metadata) -> FileStat {
        FileStat { stamp: crate::index::Stamp::of(meta), is_file: meta.is_file(), modified: meta.modified().ok() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subagent {
    pub agent_id: String,
    pub path: PathBuf,
}

/// A directory that exists but could not be listed.
#[derive(Debug)]
pub struct ListError {
    pub path: PathBuf,
    pub error: io::Error,
}

/// Lists `<config>/projects/*/` into sessions; tool-generated projects are left out. A missing
/// `projects/` is no error (Claude Code has not run with this config dir yet).
pub fn list_sessions(config_dir: &Path, sessions: &mut Vec<SessionFile>, errors: &mut Vec<ListError>) {
    let projects = config_dir.join("projects");
    let entries = match fs::read_dir(&projects) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return,
        Err(error) => return errors.push(ListError { path: projects, error }),
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let is_tool_generated = TOOL_GENERATED_PROJECTS.iter().any(|marker| name.to_string_lossy().contains(marker));
        if is_tool_generated || !entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            continue;
        }
        if let Err(error) = list_project(&entry.path(), sessions) {
            errors.push(ListError { path: entry.path(), error });
        }
    }
}

fn list_project(dir: &Path, sessions: &mut Vec<SessionFile>) -> io::Result<()> {
    let mut found: BTreeMap<String, SessionFile> = BTreeMap::new();
    let mut with_dir = Vec::new();
    let mut inline_agents = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else { continue };
        let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
        if is_dir {
            with_dir.push(name);
        } else if let Some(stem) = name.strip_suffix(".jsonl") {
            match stem.strip_prefix("agent-") {
                Some(agent_id) => inline_agents.push(Subagent { agent_id: agent_id.to_owned(), path }),
                None => {
                    found.insert(stem.to_owned(), SessionFile { session_id: stem.to_owned(), path, subagents: Vec::new(), stat: None });
                }
            }
        }
    }
    for name in with_dir {
        if let Some(session) = found.get_mut(&name) {
            session.subagents.extend(list_subagents(&dir.join(&name).join("subagents")));
        }
    }
    for agent in inline_agents {
        let parent = super::tail::first_line_session_id(&agent.path);
        if let Some(session) = parent.and_then(|id| found.get_mut(&id)) {
            session.subagents.push(agent);
        }
    }
    sessions.extend(found.into_values());
    Ok(())
}

fn list_subagents(dir: &Path) -> Vec<Subagent> {
    let Ok(entries) = fs::read_dir(dir) else { return Vec::new() };
    let mut agents: Vec<Subagent> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_owned();
            let agent_id = name.strip_suffix(".jsonl")?.strip_prefix("agent-")?.to_owned();
            Some(Subagent { agent_id, path: e.path() })
        })
        .collect();
    agents.sort_by(|a, b| a.agent_id.cmp(&b.agent_id));
    agents
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_matches_the_verified_cases() {
        assert_eq!(encode_project_dir("/x/cc-proj"), "-x-cc-proj");
        assert_eq!(encode_project_dir("/x/cc enc/a.b_c-d~e@f+g=h"), "-x-cc-enc-a-b-c-d-e-f-g-h");
        assert_eq!(encode_project_dir("/x/cc-enc/Ünïcødé/日本"), "-x-cc-enc--n-c-d----");
        assert_eq!(encode_project_dir("/x/😀"), "-x---", "an astral char is two UTF-16 units");
    }

    #[test]
    fn long_names_are_cut_and_hashed() {
        let cwd = format!("/x/cc-enc/{}", "x".repeat(230));
        let enc = encode_project_dir(&cwd);
        assert_eq!(enc.len(), 207);
        assert!(enc.starts_with("-x-cc-enc-xxx"));
        // Java hash of the cwd, recomputed independently the obvious way.
        let mut h: i32 = 0;
        for u in cwd.encode_utf16() {
            h = h.wrapping_mul(31).wrapping_add(u as i32);
        }
        assert_eq!(&enc[201..], base36(h.unsigned_abs()));
        assert_eq!(base36(0), "0");
        assert_eq!(base36(35), "z");
        assert_eq!(base36(36), "10");
    }

    #[test]
    fn config_dirs_take_the_list_then_home_then_xdg_once_each() {
        let home = asm_testkit::TempDir::new("cc-paths");
        for d in ["a", "b", ".claude", ".config/claude"] {
            fs::create_dir_all(home.join(d)).unwrap();
        }
        let h = home.path().display().to_string();
        let list = format!("{h}/a, {h}/b ,,{h}/missing,{h}/.claude");
        let env = Env::from_pairs([("HOME", h.as_str()), ("CLAUDE_CONFIG_DIR", list.as_str())]);
        let dirs = config_dirs(&env);
        assert_eq!(dirs, vec![home.join("a"), home.join("b"), home.join(".claude"), home.join(".config/claude")]);
    }
}
