//! The SQLite session store of OpenClaw 2026.8.1 and later
//! (`agents/<agentId>/agent/openclaw-agent.sqlite`, WAL): one `session_nodes` row per session
//! key, the SessionEntry in `entry_json`. Opened read-only, never written; a reader in WAL mode
//! neither waits for nor blocks the gateway's writes, and a lock that persists is reported
//! after one brief retry instead of waiting.

use super::model::SessionEntry;
use super::store::{StoreError, StoreRead};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, ErrorCode};
use std::borrow::Cow;
use std::path::Path;
use std::time::Duration;

/// How long SQLite itself retries a busy database before giving up on one attempt.
const BUSY_TIMEOUT: Duration = Duration::from_millis(250);
/// Pause before the one retry of a whole read that found the database busy.
const RETRY_PAUSE: Duration = Duration::from_millis(100);

/// Reads every session row that is not archived.
pub fn read(db: &Path) -> Result<StoreRead, StoreError> {
    match read_once(db) {
        Err(StoreError::Locked { .. }) => {
            std::thread::sleep(RETRY_PAUSE);
            read_once(db)
        }
        other => other,
    }
}

/// Opens a platform database the only way ASM may: read-only, no mutex, a short busy timeout.
pub fn open_read_only(db: &Path) -> rusqlite::Result<Connection> {
    crate::platform::sqlite::open_read_only(db, BUSY_TIMEOUT)
}

fn read_once(db: &Path) -> Result<StoreRead, StoreError> {
    let fail = |e: rusqlite::Error| classify(db, e);
    let conn = open_read_only(db).map_err(fail)?;
    let columns = session_node_columns(&conn).map_err(fail)?;
    let has = |name: &str| columns.iter().any(|c| c == name);
    if !has("session_key") || !has("entry_json") {
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(fail)?;
        let detail = if columns.is_empty() { "no session_nodes table".to_string() } else { "session_nodes has no session_key/entry_json".to_string() };
        return Err(StoreError::UnknownFormat {
            path: db.to_path_buf(),
            detail: format!("{detail} (user_version {version}); expected an OpenClaw agent store"),
        });
    }
    let session_id = if has("current_session_id") { "current_session_id" } else { "NULL" };
    let not_archived = if has("archived_at") { "WHERE archived_at IS NULL" } else { "" };
    let sql = format!("SELECT session_key, entry_json, {session_id} FROM session_nodes {not_archived}");
    let mut stmt = conn.prepare(&sql).map_err(fail)?;
    let mut rows = stmt.query([]).map_err(fail)?;
    let mut read = StoreRead::default();
    while let Some(row) = rows.next().map_err(fail)? {
        let key = text_of(row.get_ref(0).map_err(fail)?).map(Cow::into_owned).unwrap_or_default();
        let fallback_id = text_of(row.get_ref(2).map_err(fail)?).filter(|s| !s.is_empty()).map(Cow::into_owned);
        match text_of(row.get_ref(1).map_err(fail)?).map(|json| SessionEntry::parse(&json)) {
            Some(Ok(entry)) => read.push(key, entry, fallback_id),
            Some(Err(e)) => read.skipped.push(format!("{key}: entry_json is not a SessionEntry object ({e})")),
            None => read.skipped.push(format!("{key}: entry_json is empty")),
        }
    }
    Ok(read)
}

fn session_node_columns(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info('session_nodes')")?;
    let names = stmt.query_map([], |r| r.get::<_, String>(0))?;
    names.collect()
}

/// Text of a TEXT or BLOB cell, borrowed when it is valid UTF-8; other bytes become U+FFFD
/// instead of failing.
fn text_of(value: ValueRef<'_>) -> Option<Cow<'_, str>> {
    match value {
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => Some(String::from_utf8_lossy(bytes)),
        _ => None,
    }
}

fn classify(db: &Path, e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Locked { path: db.to_path_buf() },
        _ => StoreError::Database { path: db.to_path_buf(), detail: e.to_string() },
    }
}
