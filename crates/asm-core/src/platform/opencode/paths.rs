//! Where OpenCode keeps things, resolved the way OpenCode 1.18 resolves them: the data dir
//! (`$XDG_DATA_HOME/opencode`, else `~/.local/share/opencode`) with its SQLite stores
//! (`opencode*.db`, `OPENCODE_DB`) and the legacy `storage/` JSON tree; the config dir
//! (`$XDG_CONFIG_HOME/opencode`), the model catalog cache (`$XDG_CACHE_HOME/opencode/models.json`
//! or `OPENCODE_MODELS_PATH`) and the config-related variables.

use crate::env::Env;
use std::path::{Path, PathBuf};

/// OpenCode's directories and the variables that move its files, for one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpencodePaths {
    /// `<data>`: `$XDG_DATA_HOME/opencode` or `~/.local/share/opencode`.
    pub data_dir: PathBuf,
    /// `$XDG_CONFIG_HOME/opencode` or `~/.config/opencode` (global `opencode.json[c]`).
    pub config_dir: Option<PathBuf>,
    /// The model catalog (models.dev format) OpenCode caches or is pinned to.
    pub models_catalog: Option<PathBuf>,
    /// `~` (for `~/.opencode`, which OpenCode always scans for config).
    pub home: Option<PathBuf>,
    /// `OPENCODE_DB` when it names a file (absolute, or relative to the data dir).
    pub db_override: Option<PathBuf>,
}

impl OpencodePaths {
    /// None when neither `HOME` nor the XDG variables say where the data lives.
    pub fn resolve(env: &Env) -> Option<OpencodePaths> {
        let home = env.home().cloned();
        let xdg = |var: &str, fallback: &[&str]| -> Option<PathBuf> {
            match env.get(var) {
                Some(dir) if Path::new(dir).is_absolute() => Some(PathBuf::from(dir)),
                _ => home.as_ref().map(|h| fallback.iter().fold(h.clone(), |p, part| p.join(part))),
            }
        };
        let data_dir = xdg("XDG_DATA_HOME", &[".local", "share"])?.join("opencode");
        let config_dir = xdg("XDG_CONFIG_HOME", &[".config"]).map(|d| d.join("opencode"));
        let models_catalog = match env.get("OPENCODE_MODELS_PATH") {
            Some(p) => Some(env.expand_tilde(p)),
            None => xdg("XDG_CACHE_HOME", &[".cache"]).map(|d| d.join("opencode").join("models.json")),
        };
        let db_override = env.get("OPENCODE_DB").filter(|v| *v != ":memory:").map(|v| {
            let p = env.expand_tilde(v);
            if p.is_absolute() {
                p
            } else {
                data_dir.join(p)
            }
        });
        Some(OpencodePaths { data_dir, config_dir, models_catalog, home, db_override })
    }

    /// Every SQLite store: `OPENCODE_DB` if set, then each `opencode*.db` in the data dir
    /// (`opencode.db`, `opencode-<channel>.db`), without duplicates, in name order.
    pub fn db_files(&self) -> Vec<PathBuf> {
        let mut found: Vec<PathBuf> = self.db_override.iter().filter(|p| p.is_file()).cloned().collect();
        let mut globbed: Vec<PathBuf> = std::fs::read_dir(&self.data_dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path())
            .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(is_store_name) && p.is_file())
            .collect();
        globbed.sort();
        for path in globbed {
            if !found.iter().any(|f| same_file(f, &path)) {
                found.push(path);
            }
        }
        found
    }

    /// Where sessions are looked for: `OPENCODE_DB`, the data dir's databases, the legacy tree.
    pub fn places(&self) -> Vec<crate::platform::Place> {
        let mut places: Vec<crate::platform::Place> = self.db_override.iter().map(|p| crate::platform::Place::new(p.clone(), Some("OPENCODE_DB"))).collect();
        places.push(crate::platform::Place::new(self.data_dir.join("opencode.db"), None));
        places.push(crate::platform::Place::new(self.storage_dir(), None));
        places
    }

    /// The legacy JSON tree of OpenCode ≤ 1.1.x (left in place after upgrades).
    pub fn storage_dir(&self) -> PathBuf {
        self.data_dir.join("storage")
    }
}

/// `opencode.db`, `opencode-beta.db`…, not the `-wal`/`-shm` companions.
fn is_store_name(name: &str) -> bool {
    name.starts_with("opencode") && name.ends_with(".db")
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(pairs: &[(&str, &str)]) -> OpencodePaths {
        OpencodePaths::resolve(&Env::from_pairs(pairs.iter().copied())).unwrap()
    }

    #[test]
    fn defaults_follow_xdg_under_home() {
        let p = resolve(&[("HOME", "/h")]);
        assert_eq!(p.data_dir, PathBuf::from("/h/.local/share/opencode"));
        assert_eq!(p.config_dir, Some(PathBuf::from("/h/.config/opencode")));
        assert_eq!(p.models_catalog, Some(PathBuf::from("/h/.cache/opencode/models.json")));
        assert_eq!(p.storage_dir(), PathBuf::from("/h/.local/share/opencode/storage"));
        assert_eq!(p.db_override, None);
    }

    #[test]
    fn xdg_variables_and_overrides_move_things() {
        let p = resolve(&[("HOME", "/h"), ("XDG_DATA_HOME", "/d"), ("XDG_CONFIG_HOME", "/c"), ("XDG_CACHE_HOME", "/k"), ("OPENCODE_DB", "other.db")]);
        assert_eq!(p.data_dir, PathBuf::from("/d/opencode"));
        assert_eq!(p.config_dir, Some(PathBuf::from("/c/opencode")));
        assert_eq!(p.models_catalog, Some(PathBuf::from("/k/opencode/models.json")));
        assert_eq!(p.db_override, Some(PathBuf::from("/d/opencode/other.db")));
        assert_eq!(resolve(&[("HOME", "/h"), ("OPENCODE_DB", "/x/y.db")]).db_override, Some(PathBuf::from("/x/y.db")));
        assert_eq!(resolve(&[("HOME", "/h"), ("OPENCODE_DB", ":memory:")]).db_override, None);
        assert_eq!(resolve(&[("HOME", "/h"), ("OPENCODE_MODELS_PATH", "/m.json")]).models_catalog, Some(PathBuf::from("/m.json")));
        // A relative XDG value is invalid per the spec and ignored, as xdg-basedir does.
        assert_eq!(resolve(&[("HOME", "/h"), ("XDG_DATA_HOME", "rel")]).data_dir, PathBuf::from("/h/.local/share/opencode"));
    }

    #[test]
    fn finds_channel_databases_but_not_their_companions() {
        let tmp = std::env::temp_dir().join(format!("asm-oc-paths-{}", std::process::id()));
        let data = tmp.join("opencode");
        std::fs::create_dir_all(&data).unwrap();
        for name in ["opencode.db", "opencode.db-wal", "opencode.db-shm", "opencode-beta.db", "notes.db"] {
            std::fs::write(data.join(name), b"").unwrap();
        }
        let p = resolve(&[("HOME", "/nowhere"), ("XDG_DATA_HOME", tmp.to_str().unwrap())]);
        let names: Vec<String> = p.db_files().iter().map(|f| f.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(names, ["opencode-beta.db", "opencode.db"]);
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn no_home_and_no_xdg_means_nothing_to_read() {
        assert!(OpencodePaths::resolve(&Env::from_pairs(Vec::<(String, String)>::new())).is_none());
    }
}
