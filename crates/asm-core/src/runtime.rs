//! The process-wide context a tool works in: its environment, validated configuration and
//! resolved paths. Built once at start-up; a bad variable stops the tool here.

use crate::config::Config;
use crate::env::Env;
use crate::paths::Paths;
use crate::state::StateStore;

#[derive(Debug, Clone)]
pub struct Runtime {
    pub env: Env,
    pub config: Config,
    pub paths: Paths,
}

impl Runtime {
    pub fn from_env(env: Env) -> crate::Result<Runtime> {
        let config = Config::from_env(&env)?;
        let paths = Paths::resolve(&env)?;
        Ok(Runtime { env, config, paths })
    }

    pub fn from_process() -> crate::Result<Runtime> {
        Self::from_env(Env::from_process())
    }

    pub fn state(&self) -> StateStore {
        StateStore::at(&self.paths)
    }
}
