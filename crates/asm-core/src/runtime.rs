//! The process-wide context a tool works in: its environment, validated configuration and
//! resolved paths, built once at start-up (a bad variable stops the tool here), plus a memo
//! for what a process works out once and reuses (a notification route, say).

use crate::config::{Config, ConfigError};
use crate::env::Env;
use crate::paths::{Paths, PathsError};
use crate::state::StateStore;
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum RuntimeError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Paths(#[from] PathsError),
    #[error(transparent)]
    SettingsFile(#[from] crate::settings_file::SettingsFileError),
}

#[derive(Debug, Clone)]
pub struct Runtime {
    pub env: Env,
    pub config: Config,
    pub paths: Paths,
    memo: Memo,
}

impl Runtime {
    /// The environment, with `<state dir>/asm.env` over it, validated.
    pub fn from_env(mut env: Env) -> Result<Runtime, RuntimeError> {
        let paths = Paths::resolve(&env)?;
        env.overlay_file(crate::settings_file::read(&paths.settings_file())?);
        let config = Config::from_env(&env)?;
        Ok(Runtime { env, config, paths, memo: Memo::default() })
    }

    pub fn from_process() -> Result<Runtime, RuntimeError> {
        Self::from_env(Env::from_process())
    }

    pub fn state(&self) -> StateStore {
        StateStore::at(&self.paths)
    }

    /// The value of type `T` this runtime worked out before, or `make()`'s, kept for next time.
    /// Clones of a runtime share the memo; a runtime built afresh (a reload) starts empty.
    pub fn memo<T: Any + Send + Sync>(&self, make: impl FnOnce() -> T) -> Arc<T> {
        let key = TypeId::of::<T>();
        let found = self.memo.0.lock().ok().and_then(|m| m.get(&key).cloned());
        if let Some(value) = found.and_then(|v| v.downcast::<T>().ok()) {
            return value;
        }
        let value = Arc::new(make());
        if let Ok(mut m) = self.memo.0.lock() {
            m.entry(key).or_insert_with(|| value.clone() as Arc<dyn Any + Send + Sync>);
        }
        value
    }
}

#[derive(Clone, Default)]
struct Memo(Arc<Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>>);

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Memo")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_memo_is_worked_out_once_and_shared_by_clones() {
        let rt = Runtime::from_env(Env::from_pairs([("HOME", "/tmp/asm-memo")])).unwrap();
        let mut calls = 0;
        let a = rt.memo(|| {
            calls += 1;
            String::from("route")
        });
        let b = rt.clone().memo(|| String::from("other"));
        assert_eq!((a.as_str(), b.as_str(), calls), ("route", "route", 1));
        let fresh = Runtime::from_env(Env::from_pairs([("HOME", "/tmp/asm-memo")])).unwrap();
        assert_eq!(fresh.memo(|| String::from("new")).as_str(), "new");
    }
}
