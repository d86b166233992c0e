//! The monitor's pid file: an exclusive lock held for the monitor's life (one monitor per
//! state dir) with the pid written into it for people and for `health_check`.

use crate::fsutil::FileLock;
use std::io::{Seek, Write};
use std::path::Path;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum PidFileError {
    #[error("another monitor is already running (pid {pid}, pid file {path})")]
    Running { pid: String, path: String },
    #[error(transparent)]
    Fs(#[from] crate::fsutil::FsError),
}

/// Holds the pid file lock for the life of the monitor: one monitor per state dir.
pub struct PidFile {
    _lock: FileLock,
}

impl PidFile {
    pub fn acquire(path: &Path) -> Result<PidFile, PidFileError> {
        if let Some(dir) = path.parent() {
            crate::fsutil::ensure_dir(dir, 0o700)
                .or_else(|_| std::fs::create_dir_all(dir).map_err(|e| crate::fsutil::FsError::io("create directory", dir, e)))?;
        }
        let lock = FileLock::try_exclusive(path)?.ok_or_else(|| {
            let holder = std::fs::read_to_string(path).unwrap_or_default();
            PidFileError::Running { pid: holder.trim().to_string(), path: path.display().to_string() }
        })?;
        let mut f = lock.file();
        let _ = f.set_len(0);
        let _ = f.rewind();
        let _ = writeln!(f, "{}", std::process::id());
        let _ = f.sync_all();
        Ok(PidFile { _lock: lock })
    }
}
