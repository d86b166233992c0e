//! File-system primitives that keep data safe: atomic replacement (temp file in the same
//! directory, fsync, rename, fsync of the directory), advisory locks and private modes.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum FsError {
    #[error("cannot {action} {path}: {source}")]
    Io { action: &'static str, path: PathBuf, source: std::io::Error },
}

impl FsError {
    pub fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        FsError::Io { action, path: path.to_path_buf(), source }
    }
}

/// Creates `dir` (and parents) and sets its mode, e.g. 0o700 for private dirs.
pub fn ensure_dir(dir: &Path, mode: u32) -> Result<(), FsError> {
    fs::create_dir_all(dir).map_err(|e| FsError::io("create directory", dir, e))?;
    let current = fs::metadata(dir).map_err(|e| FsError::io("inspect directory", dir, e))?.permissions().mode() & 0o777;
    if current != mode {
        fs::set_permissions(dir, fs::Permissions::from_mode(mode)).map_err(|e| FsError::io("set mode of", dir, e))?;
    }
    Ok(())
}

/// Replaces `path` with `bytes` so that a reader (or a crash) sees either the old file or the
/// new one, never a mix. On any failure the old file is left untouched.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), FsError> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp.{}.{}", std::process::id(), unique_suffix()));
    let result = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).mode(mode).open(&tmp).map_err(|e| FsError::io("create", &tmp, e))?;
        f.write_all(bytes).map_err(|e| FsError::io("write", &tmp, e))?;
        f.sync_all().map_err(|e| FsError::io("sync", &tmp, e))?;
        fs::rename(&tmp, path).map_err(|e| FsError::io("replace", path, e))?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Removes temp files that [`write_atomic`] left for `path` when its writer was killed between
/// creating the temp file and renaming it (their pid no longer runs). Call under the lock.
pub fn remove_stale_temp_files(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else { return };
    let prefix = format!(".{}.tmp.", name.to_string_lossy());
    let Ok(entries) = fs::read_dir(if dir.as_os_str().is_empty() { Path::new(".") } else { dir }) else { return };
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let pid = file.strip_prefix(&prefix).and_then(|rest| rest.split('.').next()).and_then(|p| p.parse::<i32>().ok());
        if pid.is_some_and(|pid| !crate::proc::pid_alive(pid)) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn unique_suffix() -> u128 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    nanos ^ (COUNTER.fetch_add(1, Ordering::Relaxed) as u128) << 64
}

pub fn sync_dir(dir: &Path) -> Result<(), FsError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| FsError::io("sync directory", dir, e))
}

/// An exclusive advisory lock on a lock file, released on drop (or when the process dies,
/// which is why a killed writer never leaves the lock held).
pub struct FileLock {
    file: File,
}

impl FileLock {
    pub fn exclusive(lock_path: &Path) -> Result<FileLock, FsError> {
        let file = open_lock_file(lock_path)?;
        file.lock().map_err(|e| FsError::io("lock", lock_path, e))?;
        Ok(FileLock { file })
    }

    /// Like [`FileLock::exclusive`] but returns None at once when another process holds it.
    pub fn try_exclusive(lock_path: &Path) -> Result<Option<FileLock>, FsError> {
        let file = open_lock_file(lock_path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(FileLock { file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(FsError::io("lock", lock_path, e)),
        }
    }

    /// The locked file itself (e.g. to write a pid into a pid file).
    pub fn file(&self) -> &File {
        &self.file
    }
}

fn open_lock_file(lock_path: &Path) -> Result<File, FsError> {
    OpenOptions::new().read(true).write(true).create(true).truncate(false).mode(0o600).open(lock_path).map_err(|e| FsError::io("open lock file", lock_path, e))
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_sets_mode() {
        let dir = std::env::temp_dir().join(format!("asm-fsutil-{}", std::process::id()));
        ensure_dir(&dir, 0o700).unwrap();
        let f = dir.join("x.json");
        write_atomic(&f, b"one", 0o600).unwrap();
        write_atomic(&f, b"two", 0o600).unwrap();
        assert_eq!(fs::read(&f).unwrap(), b"two");
        assert_eq!(fs::metadata(&f).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1, "no temp files left behind");
        fs::remove_dir_all(&dir).unwrap();
    }
}
