//! ASM's plugin for OpenCode: one file, `asm-auto-session-manager.js`, in OpenCode's global
//! plugin folder (`$XDG_CONFIG_HOME/opencode/plugin/`, default `~/.config/opencode/plugin/`;
//! 1.18.33 loads `{plugin,plugins}/*.{ts,js}` from there). The plugin (`asm-plugin.js`, in
//! this folder) hands a pending handoff to a new session's first request
//! (`experimental.chat.system.transform`), runs ASM's extraction before OpenCode compacts a
//! session (`experimental.session.compacting`, awaited by OpenCode) and gives the compacted
//! session the key information ASM kept (after `session.compacted`). It calls the same hook
//! command as Claude Code's hooks, with the same JSON.
//!
//! Note: OpenCode runs `npm install @opencode-ai/plugin` into a plugin folder it finds (it
//! writes `package.json` and `node_modules/` there); that is OpenCode's doing, in its own
//! config dir, not ASM's.

use super::paths::OpencodePaths;
use crate::platform::hooks::{self as shared, HookChange, HookError, HookStatus};
use crate::Runtime;
use std::path::PathBuf;

const TEMPLATE: &str = include_str!("asm-plugin.js");
pub const PLUGIN_FILE: &str = "asm-auto-session-manager.js";

/// Where the plugin goes; None when neither HOME nor XDG_CONFIG_HOME says where OpenCode's
/// config is.
pub fn plugin_path(rt: &Runtime) -> Option<PathBuf> {
    OpencodePaths::resolve(&rt.env)?.config_dir.map(|d| d.join("plugin").join(PLUGIN_FILE))
}

/// The plugin's text for this hook command (an argument vector).
pub fn plugin_text(argv: &[String]) -> String {
    TEMPLATE.replace("__ASM_COMMAND__", &serde_json::to_string(argv).unwrap_or_else(|_| "[]".into()))
}

/// Whether the plugin is there, and is the one for `argv` (an empty `argv`: any version).
pub fn status(rt: &Runtime, argv: &[String]) -> Vec<(PathBuf, Result<HookStatus, HookError>)> {
    let Some(path) = plugin_path(rt) else { return Vec::new() };
    let status = match std::fs::read_to_string(&path) {
        Ok(text) if argv.is_empty() || text == plugin_text(argv) => Ok(HookStatus::Installed),
        Ok(_) => Ok(HookStatus::Partial(vec!["an older version of the plugin (run --install-hooks again)".into()])),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(HookStatus::Missing),
        Err(e) => Err(HookError::Io { action: "read", path: path.clone(), source: e }),
    };
    vec![(path, status)]
}

pub fn install(rt: &Runtime, argv: &[String], dry_run: bool) -> Vec<Result<HookChange, HookError>> {
    plugin_path(rt).map(|path| shared::put_file(&path, plugin_text(argv).as_bytes(), dry_run)).into_iter().collect()
}

pub fn remove(rt: &Runtime, dry_run: bool) -> Vec<Result<HookChange, HookError>> {
    plugin_path(rt).map(|path| shared::remove_file(&path, dry_run)).into_iter().collect()
}

/// ASM's plugin in OpenCode, for the [`crate::platform::Adapter`].
pub struct OpencodeHooks;

impl crate::platform::PlatformHooks for OpencodeHooks {
    fn present(&self, rt: &Runtime) -> bool {
        let dirs = OpencodePaths::resolve(&rt.env).map(|p| p.data_dir.is_dir() || p.config_dir.is_some_and(|c| c.is_dir())).unwrap_or(false);
        dirs || crate::proc::which("opencode", rt.env.get("PATH")).is_some()
    }

    fn status(&self, rt: &Runtime, command: &[String]) -> Vec<(PathBuf, Result<HookStatus, HookError>)> {
        status(rt, command)
    }

    fn install(&self, rt: &Runtime, command: &[String], dry_run: bool) -> Vec<Result<HookChange, HookError>> {
        install(rt, command, dry_run)
    }

    fn remove(&self, rt: &Runtime, dry_run: bool) -> Vec<Result<HookChange, HookError>> {
        remove(rt, dry_run)
    }

    /// The plugin sends what Claude Code's hooks send.
    fn parse_event(&self, stdin: &str) -> Result<crate::platform::HookEvent, HookError> {
        crate::platform::claude_code::hooks::parse_event(stdin)
    }

    fn render_context(&self, event: &crate::platform::HookEvent, context: &str) -> String {
        crate::platform::claude_code::hooks::render_context(event.name(), context)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plugin_carries_the_command_as_a_json_array() {
        let text = plugin_text(&["/opt/asm/asm_memory_manager".into(), "--action".into(), "hook".into(), "--platform".into(), "opencode".into()]);
        assert!(text.contains(r#"const ASM_COMMAND = ["/opt/asm/asm_memory_manager","--action","hook","--platform","opencode"];"#));
        assert!(!text.contains("__ASM_COMMAND__"));
    }
}
