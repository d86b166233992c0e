//! The crate-wide error: each module has its own typed error, and this one gathers them so
//! a binary has one thing to print and one exit code to return.

use thiserror::Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Paths(#[from] crate::paths::PathsError),
    #[error(transparent)]
    SettingsFile(#[from] crate::settings_file::SettingsFileError),
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    #[error(transparent)]
    Fs(#[from] crate::fsutil::FsError),
    #[error(transparent)]
    Proc(#[from] crate::proc::ProcError),
    #[error(transparent)]
    Notify(#[from] crate::notify::NotifyError),
    #[error(transparent)]
    Gateway(#[from] crate::gateway::GatewayError),
    #[error(transparent)]
    Memory(#[from] crate::memory::MemoryError),
    #[error(transparent)]
    Quota(#[from] crate::quota::QuotaError),
    #[error(transparent)]
    Monitor(#[from] crate::monitor::MonitorError),
    #[error(transparent)]
    PidFile(#[from] crate::monitor::pidfile::PidFileError),
    #[error(transparent)]
    Daemon(#[from] crate::monitor::daemon::DaemonError),
    #[error(transparent)]
    Switching(#[from] crate::switching::SwitchingError),
    /// The command line asked for something that does not fit (exit 2).
    #[error("{0}")]
    Usage(String),
    /// Work ran and found a problem or failed; the message says which (exit 1).
    #[error("{0}")]
    Failed(String),
}

impl From<crate::runtime::RuntimeError> for Error {
    fn from(e: crate::runtime::RuntimeError) -> Error {
        match e {
            crate::runtime::RuntimeError::Config(e) => Error::Config(e),
            crate::runtime::RuntimeError::Paths(e) => Error::Paths(e),
            crate::runtime::RuntimeError::SettingsFile(e) => Error::SettingsFile(e),
        }
    }
}

impl Error {
    /// 0 ok, 1 a problem was found or an action failed, 2 usage or configuration error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config(_) | Error::SettingsFile(_) | Error::Usage(_) => 2,
            Error::State(crate::state::StateError::NewerSchema { .. }) => 2,
            Error::Memory(crate::memory::MemoryError::BadSessionId(_) | crate::memory::MemoryError::Ambiguous { .. }) => 2,
            _ => 1,
        }
    }
}
