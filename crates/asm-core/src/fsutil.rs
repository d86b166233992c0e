//! File-system primitives that keep data safe: atomic replacement (temp file in the same
//! directory, fsync, rename, fsync of the directory), advisory locks, private modes, and the
//! one way ASM opens a file it writes: never through a symbolic link (O_NOFOLLOW), never
//! anything but a regular file (a FIFO or a device planted under the name is refused, without
//! blocking on it), and never by changing the mode of a directory it did not make.

use nix::fcntl::OFlag;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum FsError {
    #[error("cannot {action} {path}: {source}")]
    Io { action: &'static str, path: PathBuf, source: std::io::Error },
    #[error("{0} is a symbolic link; ASM does not write through links it did not make (remove it, or point the setting at the real place)")]
    Link(PathBuf),
    #[error("{0} is not a regular file; ASM writes only regular files there")]
    NotRegular(PathBuf),
    #[error("{0} is not a directory")]
    NotDirectory(PathBuf),
}

impl FsError {
    pub fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        FsError::Io { action, path: path.to_path_buf(), source }
    }

    /// Out of disk space (ENOSPC) or over a file-size limit (EFBIG).
    pub fn is_disk_full(&self) -> bool {
        matches!(self, FsError::Io { source, .. } if matches!(source.raw_os_error(), Some(28) | Some(27)))
    }
}

/// A private directory ASM owns inside the state dir (`logs/`, `.session_memory/`): created
/// 0700 (with its parents) when missing; an existing one keeps its mode. A symbolic link or a
/// file in its place is refused.
pub fn ensure_dir(dir: &Path) -> Result<(), FsError> {
    match fs::symlink_metadata(dir) {
        Ok(m) if m.file_type().is_symlink() => Err(FsError::Link(dir.to_path_buf())),
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(FsError::NotDirectory(dir.to_path_buf())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_private_dir(dir),
        Err(e) => Err(FsError::io("inspect directory", dir, e)),
    }
}

/// The state dir itself: created 0700 when missing; an existing one is used as it is, its
/// mode kept (it is OpenClaw's, and a person may have made it a link to another disk).
pub fn ensure_state_dir(dir: &Path) -> Result<(), FsError> {
    if dir.is_dir() {
        return Ok(());
    }
    create_private_dir(dir)
}

fn create_private_dir(dir: &Path) -> Result<(), FsError> {
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(|e| FsError::io("create directory", dir, e))
}

/// How [`open_private`] opens a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Appending (logs, the outbox), created 0600 when missing.
    Append,
    /// Reading and writing in place (lock and pid files), created 0600 when missing.
    ReadWrite,
}

/// Opens a file ASM writes, created 0600 when missing: never through a symbolic link, never a
/// FIFO, device or directory (the open does not block on a FIFO either).
pub fn open_private(path: &Path, access: Access) -> Result<File, FsError> {
    let mut options = OpenOptions::new();
    match access {
        Access::Append => options.read(true).append(true),
        Access::ReadWrite => options.read(true).write(true),
    };
    options.create(true).mode(0o600).custom_flags((OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC).bits());
    let file = options.open(path).map_err(|e| match e.raw_os_error() {
        Some(code) if code == nix::errno::Errno::ELOOP as i32 => FsError::Link(path.to_path_buf()),
        Some(code) if code == nix::errno::Errno::ENXIO as i32 => FsError::NotRegular(path.to_path_buf()),
        _ => FsError::io("open", path, e),
    })?;
    let meta = file.metadata().map_err(|e| FsError::io("inspect", path, e))?;
    if !meta.is_file() {
        return Err(FsError::NotRegular(path.to_path_buf()));
    }
    Ok(file)
}

/// The most ASM reads of one JSON file of a platform's store (OpenClaw's `sessions.json`).
pub const STORE_FILE_CAP: u64 = 64 * 1024 * 1024;
/// The most ASM reads of a small settings or registry file.
pub const SMALL_FILE_CAP: u64 = 4 * 1024 * 1024;

/// Opens a file of a platform's store (or a config) for reading: a link a person made is
/// followed, but only a regular file is read. A FIFO, a device (`/dev/zero` behind a link) or
/// a link loop is an error, and the open never blocks on a FIFO.
pub fn open_for_reading(path: &Path) -> std::io::Result<File> {
    let file = OpenOptions::new().read(true).custom_flags((OFlag::O_NONBLOCK | OFlag::O_CLOEXEC).bits()).open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file"));
    }
    Ok(file)
}

/// A whole regular file, refused when it is larger than `cap` bytes (nothing over the cap is
/// read into memory).
pub fn read_capped(path: &Path, cap: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let file = open_for_reading(path)?;
    let mut bytes = Vec::new();
    file.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("larger than the {} MiB ASM reads", cap / (1024 * 1024))));
    }
    Ok(bytes)
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

/// Removes the temp files [`write_atomic`] left in `dir` when a writer was killed between
/// creating one and renaming it: `.<name>.tmp.<pid>.<n>` whose pid no longer runs. Call it
/// under the lock of the files in that directory.
pub fn sweep_stale_temp_files(dir: &Path) {
    let Ok(entries) = fs::read_dir(if dir.as_os_str().is_empty() { Path::new(".") } else { dir }) else { return };
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some((_, after)) = file.strip_prefix('.').and_then(|rest| rest.rsplit_once(".tmp.")) else { continue };
        let pid = after.split('.').next().and_then(|p| p.parse::<i32>().ok());
        if pid.is_some_and(|pid| !crate::proc::pid_alive(pid)) && entry.file_type().is_ok_and(|t| t.is_file()) {
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
    open_private(lock_path, Access::ReadWrite)
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, PermissionsExt};

    #[test]
    fn atomic_write_replaces_and_sets_mode() {
        let tmp = asm_testkit::TempDir::new("fsutil-atomic");
        let dir = tmp.join("private");
        ensure_dir(&dir).unwrap();
        let f = dir.join("x.json");
        write_atomic(&f, b"one", 0o600).unwrap();
        write_atomic(&f, b"two", 0o600).unwrap();
        assert_eq!(fs::read(&f).unwrap(), b"two");
        assert_eq!(fs::metadata(&f).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1, "no temp files left behind");
    }

    #[test]
    fn links_and_special_files_are_refused_and_dirs_keep_their_mode() {
        let tmp = asm_testkit::TempDir::new("fsutil-links");
        let target = tmp.join("target.txt");
        fs::write(&target, "precious").unwrap();
        let link = tmp.join("planted.log");
        symlink(&target, &link).unwrap();
        for access in [Access::Append, Access::ReadWrite] {
            assert!(matches!(open_private(&link, access), Err(FsError::Link(_))));
        }
        assert!(FileLock::exclusive(&link).is_err());
        assert_eq!(fs::read_to_string(&target).unwrap(), "precious");
        let fifo = tmp.join("fifo.jsonl");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        assert!(matches!(open_private(&fifo, Access::Append), Err(FsError::NotRegular(_))), "no hang, no write");
        let shared = tmp.join("shared");
        fs::create_dir(&shared).unwrap();
        fs::set_permissions(&shared, fs::Permissions::from_mode(0o755)).unwrap();
        let dir_link = tmp.join("logs");
        symlink(&shared, &dir_link).unwrap();
        assert!(matches!(ensure_dir(&dir_link), Err(FsError::Link(_))));
        ensure_dir(&shared).unwrap();
        ensure_state_dir(&shared).unwrap();
        assert_eq!(fs::metadata(&shared).unwrap().permissions().mode() & 0o777, 0o755, "an existing dir keeps its mode");
        assert!(open_for_reading(&fifo).unwrap_err().to_string().contains("not a regular file"), "a FIFO is not read, and not waited on");
        let zero = tmp.join("zero.jsonl");
        symlink("/dev/zero", &zero).unwrap();
        assert!(read_capped(&zero, 1024).is_err());
        let looped = tmp.join("loop.jsonl");
        symlink(&looped, &looped).unwrap();
        assert!(open_for_reading(&looped).is_err());
        fs::write(tmp.join("big"), vec![b'x'; 2048]).unwrap();
        assert!(read_capped(&tmp.join("big"), 1024).unwrap_err().to_string().contains("larger than"));
        assert_eq!(read_capped(&link, 1024).unwrap(), b"precious", "a link a person made is read through");
        let e = FsError::Link(link.clone()).to_string();
        assert!(e.contains("planted.log") && e.contains("symbolic link"), "{e}");
    }
}
