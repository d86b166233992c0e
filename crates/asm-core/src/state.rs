//! `.asm_state.json`: the state the tools share. One JSON object with a `schema_version` and
//! one section per concern. A section is a type that names itself ([`Section::NAME`]), so
//! no call site spells a section's name or chooses its type. Every change is a
//! read-modify-write of only the writer's own section, under an exclusive advisory lock, and
//! lands through an atomic replace, so concurrent writers lose nothing and a killed writer
//! leaves the old or the new file, never a torn one.
//!
//! A file that cannot be parsed is moved aside as `.asm_state.json.corrupt-<timestamp>` and a
//! fresh state starts; a file from a newer ASM (higher `schema_version`) is refused rather
//! than overwritten.

use crate::fsutil::{self, FileLock, FsError};
use crate::paths::Paths;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use thiserror::Error;

pub const SCHEMA_VERSION: u64 = 1;
const VERSION_KEY: &str = "schema_version";

#[derive(Debug, Error)]
pub enum StateError {
    #[error(transparent)]
    Fs(#[from] FsError),
    #[error("{path} has schema_version {found}, newer than the {known} this ASM understands; upgrade ASM instead of letting it overwrite the file")]
    NewerSchema { path: PathBuf, found: u64, known: u64 },
    #[error("cannot encode state section {section}: {message}")]
    Encode { section: String, message: String },
}

/// A section of the state file: its type and the name it is stored under.
pub trait Section: Serialize + DeserializeOwned + Default {
    const NAME: &'static str;
}

#[derive(Debug, Clone)]
pub struct StateStore {
    path: PathBuf,
    lock_path: PathBuf,
}

impl StateStore {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let mut lock = path.clone().into_os_string();
        lock.push(".lock");
        StateStore { path, lock_path: PathBuf::from(lock) }
    }

    pub fn at(paths: &Paths) -> Self {
        Self::new(paths.state_file())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The whole document (for `health_check`); a missing file is an empty state.
    pub fn read_all(&self) -> Result<Map<String, Value>, StateError> {
        let _lock = self.lock()?;
        self.load_locked()
    }

    /// One section, or its default when absent or not readable as `T`.
    pub fn section<T: Section>(&self) -> Result<T, StateError> {
        let doc = self.read_all()?;
        Ok(decode_section(&doc, T::NAME))
    }

    /// Read-modify-write of one section; other sections are written back exactly as found.
    pub fn update<T: Section, R>(&self, change: impl FnOnce(&mut T) -> R) -> Result<R, StateError> {
        let _lock = self.lock()?;
        let mut doc = self.load_locked()?;
        let mut section: T = decode_section(&doc, T::NAME);
        let result = change(&mut section);
        let value = serde_json::to_value(&section).map_err(|e| StateError::Encode { section: T::NAME.into(), message: e.to_string() })?;
        doc.insert(T::NAME.to_string(), value);
        doc.insert(VERSION_KEY.into(), Value::from(SCHEMA_VERSION));
        self.store_locked(&doc)?;
        Ok(result)
    }

    /// Removes one section.
    pub fn clear<T: Section>(&self) -> Result<(), StateError> {
        let _lock = self.lock()?;
        let mut doc = self.load_locked()?;
        if doc.remove(T::NAME).is_some() {
            self.store_locked(&doc)?;
        }
        Ok(())
    }

    fn lock(&self) -> Result<FileLock, StateError> {
        if let Some(dir) = self.path.parent() {
            if !dir.as_os_str().is_empty() && !dir.exists() {
                fsutil::ensure_state_dir(dir)?;
            }
        }
        let lock = FileLock::exclusive(&self.lock_path)?;
        if let Some(dir) = self.path.parent() {
            fsutil::sweep_stale_temp_files(dir);
        }
        Ok(lock)
    }

    fn load_locked(&self) -> Result<Map<String, Value>, StateError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(fresh()),
            Err(e) => {
                log::warn!("state file {} is unreadable ({e}); moving it aside", self.path.display());
                return self.move_aside();
            }
        };
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(doc)) => {
                let found = doc.get(VERSION_KEY).and_then(Value::as_u64).unwrap_or(SCHEMA_VERSION);
                if found > SCHEMA_VERSION {
                    return Err(StateError::NewerSchema { path: self.path.clone(), found, known: SCHEMA_VERSION });
                }
                Ok(doc)
            }
            Ok(_) | Err(_) => {
                log::warn!("state file {} is corrupt (not a JSON object); moving it aside and starting fresh", self.path.display());
                self.move_aside()
            }
        }
    }

    fn move_aside(&self) -> Result<Map<String, Value>, StateError> {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        let mut aside = self.path.clone().into_os_string();
        aside.push(format!(".corrupt-{stamp}"));
        let aside = PathBuf::from(aside);
        std::fs::rename(&self.path, &aside).map_err(|e| FsError::io("move aside", &self.path, e))?;
        log::warn!("corrupt state kept as {}", aside.display());
        Ok(fresh())
    }

    /// Every string is redacted on its way to disk: a section may quote a command's output.
    fn store_locked(&self, doc: &Map<String, Value>) -> Result<(), StateError> {
        let mut doc = Value::Object(doc.clone());
        crate::redact::redact_json(&mut doc);
        let mut bytes = serde_json::to_vec_pretty(&doc).map_err(|e| StateError::Encode { section: "*".into(), message: e.to_string() })?;
        bytes.push(b'\n');
        fsutil::write_atomic(&self.path, &bytes, 0o600)?;
        Ok(())
    }
}

fn fresh() -> Map<String, Value> {
    let mut doc = Map::new();
    doc.insert(VERSION_KEY.into(), Value::from(SCHEMA_VERSION));
    doc
}

fn decode_section<T: DeserializeOwned + Default>(doc: &Map<String, Value>, name: &str) -> T {
    match doc.get(name) {
        None | Some(Value::Null) => T::default(),
        Some(v) => serde_json::from_value(v.clone()).unwrap_or_else(|e| {
            log::warn!("state section {name} is not in the expected shape ({e}); starting it afresh");
            T::default()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::os::unix::fs::PermissionsExt;

    #[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
    struct Counter {
        n: u64,
    }

    impl Section for Counter {
        const NAME: &'static str = "gateway";
    }

    #[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
    struct Other {
        n: u64,
    }

    impl Section for Other {
        const NAME: &'static str = "quota";
    }

    fn temp_store(tag: &str) -> (PathBuf, StateStore) {
        let dir = std::env::temp_dir().join(format!("asm-state-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let store = StateStore::new(dir.join(".asm_state.json"));
        (dir, store)
    }

    #[test]
    fn sections_are_independent_and_file_is_private() {
        let (dir, s) = temp_store("sections");
        s.update(|c: &mut Counter| c.n = 7).unwrap();
        s.update(|c: &mut Other| c.n = 9).unwrap();
        assert_eq!(s.section::<Counter>().unwrap().n, 7);
        assert_eq!(s.section::<Other>().unwrap().n, 9);
        let doc = s.read_all().unwrap();
        assert_eq!(doc["schema_version"], 1);
        let mode = std::fs::metadata(s.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn corrupt_file_is_moved_aside_and_state_starts_fresh() {
        let (dir, s) = temp_store("corrupt");
        std::fs::write(s.path(), b"{\"gateway\": {\"n\": 3").unwrap();
        assert_eq!(s.section::<Counter>().unwrap(), Counter::default());
        let aside: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".corrupt-"))
            .collect();
        assert_eq!(aside.len(), 1, "{aside:?}");
        s.update(|c: &mut Counter| c.n = 1).unwrap();
        assert_eq!(s.section::<Counter>().unwrap().n, 1);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn newer_schema_is_refused_and_left_untouched() {
        let (dir, s) = temp_store("newer");
        let original = b"{\"schema_version\": 99, \"gateway\": {\"n\": 3}}";
        std::fs::write(s.path(), original).unwrap();
        assert!(matches!(s.update(|c: &mut Counter| c.n = 1), Err(StateError::NewerSchema { found: 99, .. })));
        assert_eq!(std::fs::read(s.path()).unwrap(), original);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn misshapen_section_restarts_without_touching_others() {
        let (dir, s) = temp_store("shape");
        std::fs::write(s.path(), b"{\"schema_version\": 1, \"gateway\": \"oops\", \"quota\": {\"n\": 4}}").unwrap();
        s.update(|c: &mut Counter| c.n += 1).unwrap();
        assert_eq!(s.section::<Counter>().unwrap().n, 1);
        assert_eq!(s.section::<Other>().unwrap().n, 4);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
