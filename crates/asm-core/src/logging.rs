//! Logging set-up shared by the binaries: `log` macros, env_logger-style level filters
//! (`ASM_LOG_LEVEL`, else `RUST_LOG`), one line per event with a UTC timestamp, written to
//! `logs/asm_<tool>.log` (size-rotated, a few files kept) and, when someone is watching, to
//! stderr as well. Every line passes through [`crate::redact`] before it is written.

use crate::config::Config;
use crate::paths::Paths;
use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Where log lines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogTarget {
    /// The log file only (daemon, child of the monitor, cron).
    File,
    /// The log file and stderr (a person at a terminal, `--mode foreground`).
    FileAndStderr,
}

impl LogTarget {
    /// Stderr is added when it is a terminal: someone is watching.
    pub fn attended() -> LogTarget {
        if io::stderr().is_terminal() {
            LogTarget::FileAndStderr
        } else {
            LogTarget::File
        }
    }
}

/// Installs the logger for `tool`. Safe to call once per process; a second call is ignored.
/// When the log dir cannot be created the lines go to stderr, with one warning saying why.
pub fn init(tool: &str, target: LogTarget, paths: &Paths, config: &Config) {
    let file = RotatingFile::open(&paths.log_file(tool), config.log_max_bytes, config.log_keep);
    let file_error = file.as_ref().err().map(|e| e.to_string());
    let sink = LogSink { file: file.ok().map(Mutex::new), stderr: target == LogTarget::FileAndStderr || file_error.is_some() };
    let tool = tool.to_string();
    let mut builder = env_logger::Builder::new();
    builder
        .parse_filters(&config.log_level)
        .format(move |buf, record| {
            let line = format!("{} {:<5} asm_{}: {}", chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ"), record.level(), tool, record.args());
            writeln!(buf, "{}", crate::redact::redact(&line).replace('\n', "\\n"))
        })
        .target(env_logger::Target::Pipe(Box::new(sink)));
    if builder.try_init().is_ok() {
        if let Some(e) = file_error {
            log::warn!("cannot write the log file ({e}); logging to stderr only");
        }
    }
}

struct LogSink {
    file: Option<Mutex<RotatingFile>>,
    stderr: bool,
}

impl Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(f) = &self.file {
            let mut f = f.lock().unwrap_or_else(|e| e.into_inner());
            // A full disk must not take the tool down: the line is dropped, the work goes on.
            let _ = f.write_line(buf);
        }
        if self.stderr {
            let _ = io::stderr().write_all(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A log file that rotates by size: `x.log` → `x.log.1` → … → `x.log.<keep>` (dropped).
pub struct RotatingFile {
    path: PathBuf,
    file: File,
    size: u64,
    max_bytes: u64,
    keep: u32,
}

impl RotatingFile {
    pub fn open(path: &Path, max_bytes: u64, keep: u32) -> io::Result<RotatingFile> {
        if let Some(dir) = path.parent() {
            crate::fsutil::ensure_dir(dir).map_err(io::Error::other)?;
        }
        let file = open_append(path)?;
        let size = file.metadata()?.len();
        Ok(RotatingFile { path: path.to_path_buf(), file, size, max_bytes, keep })
    }

    pub fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
        if self.size > 0 && self.size + line.len() as u64 > self.max_bytes {
            self.rotate()?;
        }
        self.file.write_all(line)?;
        self.size += line.len() as u64;
        Ok(())
    }

    fn rotate(&mut self) -> io::Result<()> {
        let numbered = |n: u32| PathBuf::from(format!("{}.{n}", self.path.display()));
        let _ = std::fs::remove_file(numbered(self.keep));
        for n in (1..self.keep).rev() {
            let _ = std::fs::rename(numbered(n), numbered(n + 1));
        }
        std::fs::rename(&self.path, numbered(1))?;
        self.file = open_append(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

/// Never through a link planted in place of the log (nor a FIFO): refused, and the lines go
/// to stderr instead.
fn open_append(path: &Path) -> io::Result<File> {
    crate::fsutil::open_private(path, crate::fsutil::Access::Append).map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_by_size_and_keeps_a_few_files() {
        let dir = std::env::temp_dir().join(format!("asm-log-rot-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("asm_test.log");
        let mut f = RotatingFile::open(&path, 100, 2).unwrap();
        for i in 0..30 {
            f.write_line(format!("line {i:04} ........................\n").as_bytes()).unwrap();
        }
        let mut names: Vec<String> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        assert_eq!(names, ["asm_test.log", "asm_test.log.1", "asm_test.log.2"]);
        assert!(std::fs::metadata(&path).unwrap().len() <= 100);
        assert!(std::fs::read_to_string(&path).unwrap().contains("line 0029"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
