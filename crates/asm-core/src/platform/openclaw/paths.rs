//! Where OpenClaw keeps its session stores: one per agent under `<state>/agents/<agentId>/`,
//! the state dir resolved as OpenClaw does (OPENCLAW_STATE_DIR, OPENCLAW_HOME, profiles; see
//! `crate::paths`), plus the agent dir OPENCLAW_AGENT_DIR points at.

use crate::Runtime;
use std::path::{Path, PathBuf};

/// The SQLite store of 2026.8.1 and later, relative to an agent's folder.
pub const SQLITE_STORE: &str = "agent/openclaw-agent.sqlite";
/// The file store of 2026.7.x and earlier, relative to an agent's folder.
pub const FILE_STORE: &str = "sessions/sessions.json";
const SQLITE_FILE_NAME: &str = "openclaw-agent.sqlite";

/// One agent's session store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Store {
    Sqlite { agent_id: String, db: PathBuf },
    Files { agent_id: String, sessions_json: PathBuf },
}

impl Store {
    pub fn path(&self) -> &Path {
        match self {
            Store::Sqlite { db, .. } => db,
            Store::Files { sessions_json, .. } => sessions_json,
        }
    }

    pub fn agent_id(&self) -> &str {
        match self {
            Store::Sqlite { agent_id, .. } | Store::Files { agent_id, .. } => agent_id,
        }
    }
}

/// Every agent store on this machine, in agent-id order. An agent with a SQLite store is
/// read from it alone: from 2026.8.1 the gateway no longer reads a leftover `sessions.json`.
/// Err when the agents folder exists but cannot be listed.
pub fn stores(rt: &Runtime) -> Result<Vec<Store>, std::io::Error> {
    let agents_dir = rt.paths.openclaw_agents_dir();
    let mut found = match std::fs::read_dir(&agents_dir) {
        Ok(entries) => {
            let mut dirs: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_dir()).collect();
            dirs.sort();
            dirs.iter().filter_map(|dir| store_of_agent(dir)).collect()
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    if let Some(extra) = agent_dir_override(rt) {
        let already = found.iter().any(|s| same_file(s.path(), extra.path()));
        if !already {
            found.push(extra);
        }
    }
    Ok(found)
}

/// Where sessions are looked for: the agents folder of the state dir (and OPENCLAW_AGENT_DIR).
pub fn places(rt: &Runtime) -> Vec<crate::platform::Place> {
    let named_by = ["OPENCLAW_STATE_DIR", "OPENCLAW_HOME", "OPENCLAW_PROFILE"].into_iter().find(|v| rt.env.get(v).is_some());
    // A state dir a person named that is not there is worth a warning; an empty one is not.
    let mut places = match named_by.filter(|_| !rt.paths.state_dir.exists()) {
        Some(var) => vec![crate::platform::Place::new(rt.paths.state_dir.clone(), Some(var))],
        None => vec![crate::platform::Place::new(rt.paths.openclaw_agents_dir(), None)],
    };
    if let Some(dir) = rt.env.get("OPENCLAW_AGENT_DIR") {
        places.push(crate::platform::Place::new(rt.env.expand_tilde(dir), Some("OPENCLAW_AGENT_DIR")));
    }
    places
}

fn store_of_agent(agent_dir: &Path) -> Option<Store> {
    let agent_id = agent_dir.file_name()?.to_string_lossy().into_owned();
    let db = agent_dir.join(SQLITE_STORE);
    if db.is_file() {
        return Some(Store::Sqlite { agent_id, db });
    }
    let sessions_json = agent_dir.join(FILE_STORE);
    sessions_json.is_file().then_some(Store::Files { agent_id, sessions_json })
}

/// OPENCLAW_AGENT_DIR names an agent dir (the one holding `openclaw-agent.sqlite`) that may
/// lie outside the state dir. Its agent id is read from an `agents/<id>/agent` layout, else
/// it is the default agent `main`.
fn agent_dir_override(rt: &Runtime) -> Option<Store> {
    let dir = rt.env.expand_tilde(rt.env.get("OPENCLAW_AGENT_DIR")?);
    let db = dir.join(SQLITE_FILE_NAME);
    if !db.is_file() {
        return None;
    }
    let agent_id = match (dir.file_name(), dir.parent().and_then(Path::file_name), dir.parent().and_then(Path::parent).and_then(Path::file_name)) {
        (Some(agent), Some(id), Some(agents)) if agent == "agent" && agents == "agents" => id.to_string_lossy().into_owned(),
        _ => "main".to_string(),
    };
    Some(Store::Sqlite { agent_id, db })
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Env;
    use asm_testkit::TempDir;

    fn runtime(pairs: &[(&str, &str)]) -> Runtime {
        Runtime::from_env(Env::from_pairs(pairs.iter().copied())).unwrap()
    }

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"").unwrap();
    }

    #[test]
    fn one_store_per_agent_sqlite_preferred() {
        let tmp = TempDir::new("oc-paths");
        let state = tmp.join("state");
        touch(&state.join("agents/main").join(SQLITE_STORE));
        touch(&state.join("agents/main").join(FILE_STORE));
        touch(&state.join("agents/work").join(FILE_STORE));
        std::fs::create_dir_all(state.join("agents/empty")).unwrap();
        let rt = runtime(&[("HOME", tmp.path().to_str().unwrap()), ("OPENCLAW_STATE_DIR", state.to_str().unwrap())]);
        let stores = stores(&rt).unwrap();
        assert_eq!(
            stores,
            vec![
                Store::Sqlite { agent_id: "main".into(), db: state.join("agents/main").join(SQLITE_STORE) },
                Store::Files { agent_id: "work".into(), sessions_json: state.join("agents/work").join(FILE_STORE) },
            ]
        );
    }

    #[test]
    fn profiles_and_openclaw_home_are_followed() {
        let tmp = TempDir::new("oc-paths-profile");
        touch(&tmp.join("home/.openclaw-work/agents/main").join(SQLITE_STORE));
        touch(&tmp.join("oc-home/.openclaw/agents/ops").join(FILE_STORE));
        let home = tmp.join("home");
        let rt = runtime(&[("HOME", home.to_str().unwrap()), ("OPENCLAW_PROFILE", "work")]);
        assert_eq!(stores(&rt).unwrap().len(), 1);
        let rt = runtime(&[("HOME", home.to_str().unwrap()), ("OPENCLAW_HOME", tmp.join("oc-home").to_str().unwrap())]);
        assert_eq!(stores(&rt).unwrap()[0].agent_id(), "ops");
    }

    #[test]
    fn agent_dir_override_adds_a_store_once() {
        let tmp = TempDir::new("oc-paths-agentdir");
        let state = tmp.join("state");
        touch(&state.join("agents/main").join(SQLITE_STORE));
        touch(&tmp.join("elsewhere").join(SQLITE_FILE_NAME));
        let base = [("HOME", tmp.path().to_str().unwrap().to_string()), ("OPENCLAW_STATE_DIR", state.to_str().unwrap().to_string())];
        let with = |dir: &Path| {
            let mut pairs: Vec<(&str, String)> = base.iter().map(|(k, v)| (*k, v.clone())).collect();
            pairs.push(("OPENCLAW_AGENT_DIR", dir.to_str().unwrap().to_string()));
            Runtime::from_env(Env::from_pairs(pairs)).unwrap()
        };
        assert_eq!(stores(&with(&state.join("agents/main/agent"))).unwrap().len(), 1);
        let extra = stores(&with(&tmp.join("elsewhere"))).unwrap();
        assert_eq!(extra.len(), 2);
        assert_eq!(extra[1].agent_id(), "main");
    }

    #[test]
    fn no_agents_folder_is_no_store_and_no_error() {
        let tmp = TempDir::new("oc-paths-none");
        let rt = runtime(&[("HOME", tmp.path().to_str().unwrap())]);
        assert!(stores(&rt).unwrap().is_empty());
    }
}
