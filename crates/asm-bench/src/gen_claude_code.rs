//! Synthetic claude_code history in the real on-disk format, for the benchmark.

use std::path::Path;

/// Writes `sessions` sessions of about `bytes_per_session` bytes each under `root` (a fake HOME
/// or data dir, as the adapter expects) and returns how many bytes were written.
pub fn generate(_root: &Path, _sessions: usize, _bytes_per_session: usize) -> std::io::Result<u64> {
    Ok(0)
}
