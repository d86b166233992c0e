//! The one way ASM opens a platform's SQLite store: read-only, without SQLite's own mutex (each
//! connection stays on one thread), never `immutable` (the platform may be writing through its
//! WAL right now, and `immutable` would read a stale or torn view), with a busy timeout so a
//! writer holding the lock delays us briefly instead of failing us — and never the other way
//! round: a reader cannot block the platform's writes in WAL mode.

use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;

pub fn open_read_only(db: &Path, busy_timeout: Duration) -> rusqlite::Result<Connection> {
    // A FIFO or a device under a store's name would block or never end: only regular files.
    if std::fs::metadata(db).is_ok_and(|m| !m.is_file()) {
        return Err(rusqlite::Error::InvalidPath(db.to_path_buf()));
    }
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    conn.busy_timeout(busy_timeout)?;
    Ok(conn)
}

/// How long a transcript read waits for a lock a platform holds (extraction is not in a hurry).
const TRANSCRIPT_BUSY_TIMEOUT: Duration = Duration::from_secs(3);

/// Opens the store a transcript lives in, for extraction; a missing file is an error that names it.
pub fn open_transcript_store(db: &Path) -> Result<Connection, crate::transcript::TranscriptError> {
    use crate::transcript::TranscriptError;
    if !db.is_file() {
        return Err(TranscriptError::new(db, "no such database file"));
    }
    open_read_only(db, TRANSCRIPT_BUSY_TIMEOUT).map_err(|e| TranscriptError::new(db, e))
}

/// A cell too big to be read whole is read from the database in pieces (incremental BLOB
/// I/O), as a bounded JSON record: select it as `CASE WHEN octet_length(c) <= {CELL_LIMIT}
/// THEN c END` next to its table's rowid, and call this when that came back NULL.
pub const CELL_LIMIT: usize = crate::bounded_json::SMALL;

/// The JSON of `table.column` in row `rowid`, streamed (see [`CELL_LIMIT`]).
pub fn read_big_cell(conn: &Connection, table: &str, column: &str, rowid: i64, stats: &mut crate::transcript::ReadStats) -> Option<serde_json::Value> {
    match conn.blob_open(rusqlite::MAIN_DB, table, column, rowid, true) {
        Ok(blob) => crate::transcript::parse_record_stream(blob, stats),
        Err(_) => {
            stats.corrupt += 1;
            None
        }
    }
}

/// Whether `table` exists in the database.
pub fn has_table(conn: &Connection, table: &str) -> bool {
    conn.query_row("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?1", [table], |_| Ok(())).is_ok()
}
