//! ASM's settings file, `<state dir>/asm.env`: `ASM_*` variables as `KEY=value` lines, with
//! quotes and `#` comments as systemd's `EnvironmentFile=` reads them (parsed by dotenvy).
//!
//! A value in the file beats the same variable in the environment, and a command-line flag
//! beats both. That order is what lets the monitor apply the file again on SIGHUP, also under
//! systemd, which loads the same file into the monitor's environment when it starts it.

use std::path::{Path, PathBuf};
use thiserror::Error;

pub const FILE_NAME: &str = "asm.env";

#[derive(Debug, Error)]
pub enum SettingsFileError {
    #[error("{path}: {message}; expected KEY=value lines")]
    Invalid { path: PathBuf, message: String },
    #[error("{path}: {key} is not an ASM_* variable (this file holds only ASM_* settings)")]
    NotOurs { path: PathBuf, key: String },
    #[error("{path} is not a regular file")]
    NotAFile { path: PathBuf },
}

/// The `ASM_*` pairs of the file, in order; none when there is no file.
pub fn read(path: &Path) -> Result<Vec<(String, String)>, SettingsFileError> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Ok(m) if !m.is_file() => return Err(SettingsFileError::NotAFile { path: path.to_path_buf() }),
        _ => {}
    }
    let invalid = |e: dotenvy::Error| SettingsFileError::Invalid { path: path.to_path_buf(), message: describe(e) };
    let mut pairs = Vec::new();
    for item in dotenvy::from_path_iter(path).map_err(invalid)? {
        let (key, value) = item.map_err(invalid)?;
        if !key.starts_with("ASM_") {
            return Err(SettingsFileError::NotOurs { path: path.to_path_buf(), key });
        }
        pairs.push((key, value));
    }
    Ok(pairs)
}

fn describe(e: dotenvy::Error) -> String {
    match e {
        dotenvy::Error::LineParse(line, at) => format!("cannot parse {:?} (at character {at})", line.chars().take(80).collect::<String>()),
        dotenvy::Error::Io(e) => e.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use asm_testkit::TempDir;

    #[test]
    fn reads_asm_variables_with_quotes_and_comments() {
        let dir = TempDir::new("settings-file");
        let path = dir.join(FILE_NAME);
        assert!(read(&path).unwrap().is_empty(), "no file, no settings");
        std::fs::write(&path, "# ASM settings\nASM_CONTEXT_THRESHOLD=75\nASM_PAUSE_CMD=\"systemctl --user stop jobs\"\n\nASM_FEED_TOPIC='12' # feed\n")
            .unwrap();
        let pairs = read(&path).unwrap();
        assert_eq!(
            pairs,
            [("ASM_CONTEXT_THRESHOLD", "75"), ("ASM_PAUSE_CMD", "systemctl --user stop jobs"), ("ASM_FEED_TOPIC", "12")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
        );
    }

    #[test]
    fn other_variables_and_broken_lines_are_errors_naming_the_file() {
        let dir = TempDir::new("settings-file-bad");
        let path = dir.join(FILE_NAME);
        std::fs::write(&path, "PATH=/usr/bin\n").unwrap();
        let e = read(&path).unwrap_err().to_string();
        assert!(e.contains("asm.env") && e.contains("PATH is not an ASM_* variable"), "{e}");
        std::fs::write(&path, "ASM_CONTEXT_THRESHOLD 75\n").unwrap();
        let e = read(&path).unwrap_err().to_string();
        assert!(e.contains("asm.env") && e.contains("expected KEY=value"), "{e}");
        std::fs::create_dir(dir.join("dir.env")).unwrap();
        assert!(read(&dir.join("dir.env")).unwrap_err().to_string().contains("not a regular file"));
    }
}
