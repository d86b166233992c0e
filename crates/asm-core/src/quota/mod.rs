//! MiniMax plan quota: reading it, and the pause/resume decision.

use crate::Runtime;

/// Whether model-consuming work is paused because the plan quota is low. Every step that
/// would make a model call asks this first.
pub fn work_paused(_rt: &Runtime) -> bool {
    false
}
