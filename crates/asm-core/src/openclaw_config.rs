//! OpenClaw's own config file (`openclaw.json`, JSON5), read-only: the one place every module
//! that needs a setting from it (bot token, feed group, gateway port, MiniMax key) reads it.

use crate::paths::Paths;
use serde_json::Value;

/// The config as a JSON value: None when there is no file, Err (one line naming the file) when
/// it cannot be read or parsed.
pub fn read(paths: &Paths) -> Result<Option<Value>, String> {
    let path = &paths.openclaw_config;
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    crate::json5::parse(&text).map(Some).map_err(|e| format!("{}: {e}", path.display()))
}
