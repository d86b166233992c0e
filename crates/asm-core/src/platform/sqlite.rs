//! The one way ASM opens a platform's SQLite store: read-only, without SQLite's own mutex (each
//! connection stays on one thread), never `immutable` (the platform may be writing through its
//! WAL right now, and `immutable` would read a stale or torn view), with a busy timeout so a
//! writer holding the lock delays us briefly instead of failing us — and never the other way
//! round: a reader cannot block the platform's writes in WAL mode.

use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;

pub fn open_read_only(db: &Path, busy_timeout: Duration) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    conn.busy_timeout(busy_timeout)?;
    Ok(conn)
}
