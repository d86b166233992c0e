//! The opencode adapter: where its sessions live and how full each one is.

use crate::session::SessionList;
use crate::Runtime;

/// Every opencode session this machine holds.
pub fn discover(_rt: &Runtime) -> SessionList {
    SessionList::default()
}
