//! The claude_code adapter: where its sessions live and how full each one is.

use crate::session::SessionList;
use crate::Runtime;

/// Every claude_code session this machine holds.
pub fn discover(_rt: &Runtime) -> SessionList {
    SessionList::default()
}
