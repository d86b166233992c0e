//! What every platform's hooks share: the events ASM handles when a platform calls it (a
//! session starts, a session is about to compact), whether ASM's hooks are in place, and the
//! one careful way to change a platform's config file: parse it first (an invalid file is
//! an error and nothing is written), change only ASM's entries, back the file up beside
//! itself, replace it atomically with its mode kept, and never write through a link.

use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum HookError {
    #[error("{path} is not valid JSON ({message}); nothing was written")]
    Invalid { path: PathBuf, message: String },
    #[error("{0}; nothing was written")]
    Shape(String),
    #[error("{0} is a symbolic link; ASM does not write through links (edit the file it points to by hand)")]
    Link(PathBuf),
    #[error("cannot {action} {path}: {source}")]
    Io { action: &'static str, path: PathBuf, source: std::io::Error },
    #[error("the hook input is {0}")]
    Input(String),
}

/// Where ASM's hooks stand in one place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "events", rename_all = "snake_case")]
pub enum HookStatus {
    Installed,
    /// Some of ASM's hooks are there, these ones.
    Partial(Vec<String>),
    Missing,
}

/// What installing or removing did (or, in a dry run, would do) to one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HookChange {
    pub path: PathBuf,
    pub action: ChangeAction,
    /// The copy of the file as it was, when it was changed.
    pub backup: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeAction {
    Unchanged,
    Created,
    Updated,
    Removed,
    WouldCreate,
    WouldUpdate,
    WouldRemove,
}

/// Why a session is starting (Claude Code's SessionStart `source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartSource {
    Startup,
    Resume,
    Clear,
    /// The session was just compacted.
    Compact,
    /// `--fork-session`: a copy of a session that already has its context.
    Fork,
    Other,
}

impl StartSource {
    pub fn parse(source: Option<&str>) -> StartSource {
        match source {
            Some("startup") | None => StartSource::Startup,
            Some("resume") => StartSource::Resume,
            Some("clear") => StartSource::Clear,
            Some("compact") => StartSource::Compact,
            Some("fork") => StartSource::Fork,
            Some(_) => StartSource::Other,
        }
    }
}

/// A platform calling ASM's hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookEvent {
    SessionStart { session_id: String, cwd: String, source: StartSource },
    PreCompact { session_id: String, cwd: String },
    Other(String),
}

impl HookEvent {
    pub fn name(&self) -> &str {
        match self {
            HookEvent::SessionStart { .. } => "SessionStart",
            HookEvent::PreCompact { .. } => "PreCompact",
            HookEvent::Other(name) => name,
        }
    }
}

fn io<'p>(action: &'static str, path: &'p Path) -> impl FnOnce(std::io::Error) -> HookError + 'p {
    move |source| HookError::Io { action, path: path.to_path_buf(), source }
}

/// The file's JSON; a missing file is an empty object.
pub fn read_json(path: &Path) -> Result<Value, HookError> {
    match std::fs::read_to_string(path) {
        Ok(text) if text.trim().is_empty() => Ok(Value::Object(Default::default())),
        Ok(text) => serde_json::from_str(&text).map_err(|e| HookError::Invalid { path: path.to_path_buf(), message: e.to_string() }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Value::Object(Default::default())),
        Err(e) => Err(io("read", path)(e)),
    }
}

/// Applies `change` to the JSON file at `path` and writes it back when it changed (a dry run
/// only says what it would do). A file that would end up empty (`{}`) and did not exist
/// before is not created.
pub fn edit_json(path: &Path, dry_run: bool, change: impl FnOnce(&Value) -> Result<Value, HookError>) -> Result<HookChange, HookError> {
    refuse_link(path)?;
    let existed = path.exists();
    let before = read_json(path)?;
    let after = change(&before)?;
    let empty = after.as_object().is_some_and(|o| o.is_empty());
    let action = match (before == after, existed, dry_run) {
        (true, _, _) => ChangeAction::Unchanged,
        (false, false, _) if empty => ChangeAction::Unchanged,
        (false, false, true) => ChangeAction::WouldCreate,
        (false, true, true) => ChangeAction::WouldUpdate,
        (false, false, false) => ChangeAction::Created,
        (false, true, false) => ChangeAction::Updated,
    };
    let mut outcome = HookChange { path: path.to_path_buf(), action, backup: None };
    if matches!(action, ChangeAction::Created | ChangeAction::Updated) {
        let mut text = serde_json::to_string_pretty(&after).map_err(|e| HookError::Shape(e.to_string()))?;
        text.push('\n');
        outcome.backup = if existed { Some(backup(path)?) } else { None };
        write_keeping_mode(path, text.as_bytes())?;
    }
    Ok(outcome)
}

/// Puts `contents` at `path` (a file ASM owns entirely, such as a plugin), creating its dir.
pub fn put_file(path: &Path, contents: &[u8], dry_run: bool) -> Result<HookChange, HookError> {
    refuse_link(path)?;
    let existing = std::fs::read(path).ok();
    let action = match (existing.as_deref() == Some(contents), existing.is_some(), dry_run) {
        (true, _, _) => ChangeAction::Unchanged,
        (false, false, true) => ChangeAction::WouldCreate,
        (false, true, true) => ChangeAction::WouldUpdate,
        (false, false, false) => ChangeAction::Created,
        (false, true, false) => ChangeAction::Updated,
    };
    if matches!(action, ChangeAction::Created | ChangeAction::Updated) {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io("create directory", dir))?;
        }
        write_keeping_mode(path, contents)?;
    }
    Ok(HookChange { path: path.to_path_buf(), action, backup: None })
}

/// Removes a file ASM owns entirely.
pub fn remove_file(path: &Path, dry_run: bool) -> Result<HookChange, HookError> {
    refuse_link(path)?;
    let action = match (path.exists(), dry_run) {
        (false, _) => ChangeAction::Unchanged,
        (true, true) => ChangeAction::WouldRemove,
        (true, false) => {
            std::fs::remove_file(path).map_err(io("remove", path))?;
            ChangeAction::Removed
        }
    };
    Ok(HookChange { path: path.to_path_buf(), action, backup: None })
}

fn refuse_link(path: &Path) -> Result<(), HookError> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => Err(HookError::Link(path.to_path_buf())),
        _ => Ok(()),
    }
}

/// `<file>.asm-backup-<time>` beside the file, a byte copy.
fn backup(path: &Path) -> Result<PathBuf, HookError> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let copy = path.with_file_name(format!("{name}.asm-backup-{stamp}"));
    let bytes = std::fs::read(path).map_err(io("read", path))?;
    crate::fsutil::write_atomic(&copy, &bytes, file_mode(path).unwrap_or(0o600)).map_err(|e| HookError::Shape(e.to_string()))?;
    Ok(copy)
}

fn file_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).ok().map(|m| m.permissions().mode() & 0o777)
}

fn write_keeping_mode(path: &Path, bytes: &[u8]) -> Result<(), HookError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io("create directory", dir))?;
    }
    crate::fsutil::write_atomic(path, bytes, file_mode(path).unwrap_or(0o644)).map_err(|e| HookError::Shape(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn edits_back_up_keep_the_mode_and_refuse_invalid_json_and_links() {
        use std::os::unix::fs::PermissionsExt;
        let dir = asm_testkit::TempDir::new("hook-file");
        let path = dir.join("settings.json");
        std::fs::write(&path, "{\"a\": 1}").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let change = edit_json(&path, false, |v| {
            let mut v = v.clone();
            v["b"] = json!(2);
            Ok(v)
        })
        .unwrap();
        assert_eq!(change.action, ChangeAction::Updated);
        assert_eq!(std::fs::read_to_string(change.backup.unwrap()).unwrap(), "{\"a\": 1}");
        assert_eq!(read_json(&path).unwrap(), json!({"a": 1, "b": 2}));
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o640);

        std::fs::write(&path, "{ not json").unwrap();
        let err = edit_json(&path, false, |v| Ok(v.clone())).unwrap_err();
        assert!(err.to_string().contains("is not valid JSON") && err.to_string().contains("nothing was written"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{ not json");

        let link = dir.join("linked.json");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert!(matches!(edit_json(&link, false, |v| Ok(v.clone())), Err(HookError::Link(_))));
    }

    #[test]
    fn a_dry_run_writes_nothing_and_nothing_is_created_to_stay_empty() {
        let dir = asm_testkit::TempDir::new("hook-dry");
        let path = dir.join("settings.json");
        let change = edit_json(&path, true, |_| Ok(json!({"hooks": {}}))).unwrap();
        assert_eq!(change.action, ChangeAction::WouldCreate);
        assert!(!path.exists());
        assert_eq!(edit_json(&path, false, |_| Ok(json!({}))).unwrap().action, ChangeAction::Unchanged);
        assert!(!path.exists());
    }
}
