//! The monitor's pid file: an exclusive lock held for the monitor's life (one monitor per
//! state dir) with the pid written into it for people, `health_check`, `--status` and
//! `--stop`. It is removed on a clean exit, so a pid left in it never points at a stranger.

use crate::fsutil::FileLock;
use crate::proc;
use std::io::{Seek, Write};
use std::path::{Path, PathBuf};
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
    lock: Option<FileLock>,
    path: PathBuf,
}

impl PidFile {
    pub fn acquire(path: &Path) -> Result<PidFile, PidFileError> {
        if let Some(dir) = path.parent() {
            crate::fsutil::ensure_state_dir(dir)?;
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
        Ok(PidFile { lock: Some(lock), path: path.to_path_buf() })
    }
}

impl Drop for PidFile {
    /// Removed while still locked, so no other monitor's fresh pid file is ever taken away.
    fn drop(&mut self) {
        if self.lock.is_some() && read_pid(&self.path) == Some(std::process::id() as i32) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn read_pid(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The pid of the monitor that runs for this pid file: the pid in it is alive and is an
/// `asm_monitor` (a pid reused by another program does not count).
pub fn running_pid(path: &Path) -> Option<i32> {
    read_pid(path).filter(|p| proc::pid_alive(*p) && proc::pid_cmdline(*p).is_some_and(|c| c.contains("asm_monitor")))
}
