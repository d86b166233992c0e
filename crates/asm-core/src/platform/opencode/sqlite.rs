//! The SQLite store of OpenCode 1.2.0 and later (`opencode*.db`), read-only.
//!
//! Tables: `session` (+ `session_v2` of OpenCode 2.x when present) for the sessions,
//! `message` (v1, ordered by `time_created, id`) and `session_message` (v2, ordered by `seq`,
//! role in the `type` column) for the usage. Columns are probed, so older 1.2.x schemas
//! (without `model`, `time_archived`) read too.
//!
//! Speed: one query lists the sessions; one query per message table finds, for every root
//! session at once, the newest assistant row with output > 0 through the
//! `(session_id, time_created, id)` / `(session_id, type, seq)` indexes, and whether a newer
//! row is garbage; the cost follows the number of sessions, not the size of their history.
//! A session whose candidate row the Rust reader rejects (SQL and Rust judging the JSON
//! differently) is re-read alone, newest first.
//!
//! Never written: `SQLITE_OPEN_READ_ONLY` (not `immutable`, so a live WAL is read
//! correctly), a short busy timeout, and a busy database is reported, not waited for.

use super::model::{classify, is_root, ModelRef, Row, Scan, StoreRead, StoredSession, Usage};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, ErrorCode};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;
use thiserror::Error;

/// How long a read waits for a lock held by OpenCode before the store is reported busy.
pub const BUSY_TIMEOUT: Duration = Duration::from_millis(500);

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database is busy (locked by another process for more than {} ms); it will be read on the next run", BUSY_TIMEOUT.as_millis())]
    Busy,
    #[error("not an SQLite database (corrupt, or another kind of file)")]
    NotADatabase,
    #[error("unknown format: {0} (expected an OpenCode 1.2+ database with session and message tables)")]
    UnknownFormat(String),
    #[error("cannot read: {0}")]
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Busy,
            Some(ErrorCode::NotADatabase) => StoreError::NotADatabase,
            _ => StoreError::Sqlite(e),
        }
    }
}

/// What an earlier run measured of a session, when its `time_updated` is still the one it had.
pub type Remembered<'a> = &'a dyn Fn(&str, Option<i64>) -> Option<Scan>;

/// Up to this many changed sessions are measured one by one; more, and the bulk query runs.
const ONE_BY_ONE: usize = 32;

/// Reads every session of one database; sessions `remembered` knows unchanged are not
/// measured again.
pub fn read_store(db: &Path, remembered: Remembered) -> Result<StoreRead, StoreError> {
    let conn = crate::platform::sqlite::open_read_only(db, BUSY_TIMEOUT)?;
    let schema = Schema::probe(&conn)?;
    // One read transaction: the sessions and their messages come from the same snapshot.
    conn.execute_batch("BEGIN")?;
    let result = read_snapshot(&conn, &schema, remembered);
    let _ = conn.execute_batch("COMMIT");
    result
}

fn read_snapshot(conn: &Connection, schema: &Schema, remembered: Remembered) -> Result<StoreRead, StoreError> {
    let mut read = StoreRead::default();
    let mut by_id: HashMap<String, StoredSession> = HashMap::new();
    for table in &schema.session_tables {
        for session in read_sessions(conn, table, schema.project_worktree, &mut read.skipped_rows)? {
            by_id.insert(session.id.clone(), session);
        }
    }
    let ids: HashSet<&str> = by_id.keys().map(String::as_str).collect();
    let roots: Vec<String> = by_id.values().filter(|s| is_root(s, &ids) && !s.archived).map(|s| s.id.clone()).collect();
    let mut changed = Vec::new();
    for id in roots {
        let Some(session) = by_id.get_mut(&id) else { continue };
        match remembered(&session.id, session.updated_ms) {
            Some(scan) => session.scan = scan,
            None => changed.push(id),
        }
    }
    // The bulk query costs about as much as a few dozen single reads: only worth it for many.
    let mut bulk = Vec::new();
    if changed.len() > ONE_BY_ONE {
        for table in &schema.message_tables {
            bulk.push(bulk_candidates(conn, table, &schema.session_tables)?);
        }
    }
    for id in changed {
        let Some(session) = by_id.get_mut(&id) else { continue };
        // Orphans and self-parented sessions are roots the bulk query (parent_id IS NULL) left out.
        let from_bulk = (!bulk.is_empty() && session.parent_id.is_none()).then(|| scan_bulk(&session.id, &mut bulk)).flatten();
        session.scan = match from_bulk {
            Some(scan) => scan,
            None => scan_one(conn, &schema.message_tables, &session.id)?,
        };
    }
    read.sessions = by_id.into_values().collect();
    Ok(read)
}

/// The layout found in the file.
struct Schema {
    session_tables: Vec<SessionTable>,
    message_tables: Vec<MessageTable>,
    project_worktree: bool,
}

struct SessionTable {
    name: &'static str,
    has_model: bool,
    has_archived: bool,
    has_project: bool,
}

/// A table of messages and how its rows are ordered.
#[derive(Clone, Copy)]
struct MessageTable {
    name: &'static str,
    /// v2 keeps the role in a column; v1 in the JSON.
    type_column: bool,
}

impl MessageTable {
    const V1: MessageTable = MessageTable { name: "message", type_column: false };
    const V2: MessageTable = MessageTable { name: "session_message", type_column: true };

    fn newest_first(&self) -> &'static str {
        if self.type_column {
            "m.seq DESC"
        } else {
            "m.time_created DESC, m.id DESC"
        }
    }

    fn newer_than_cut(&self) -> &'static str {
        if self.type_column {
            "m.seq > cm.seq"
        } else {
            "(m.time_created, m.id) > (cm.time_created, cm.id)"
        }
    }

    /// A row `measure::classify` would call unreadable or malformed, in SQL.
    fn doubtful(&self) -> String {
        format!(
            "CASE WHEN typeof(m.data) = 'text' AND json_valid(m.data) THEN json_type(m.data) != 'object' OR ({} = 'assistant' \
             AND NOT coalesce(json_type(m.data, '$.tokens.output') IN ('integer', 'real') AND json_extract(m.data, '$.tokens.output') >= 0, 0)) ELSE 1 END",
            self.role()
        )
    }

    fn role(&self) -> &'static str {
        if self.type_column {
            "m.type"
        } else {
            "json_extract(m.data, '$.role')"
        }
    }

    /// The TUI rule's candidate test in SQL; the JSON is only looked into when it is valid text.
    fn qualifies(&self) -> String {
        format!(
            "CASE WHEN typeof(m.data) = 'text' AND json_valid(m.data) THEN {} = 'assistant' \
             AND json_type(m.data, '$.tokens.output') IN ('integer', 'real') AND json_extract(m.data, '$.tokens.output') > 0 ELSE 0 END",
            self.role()
        )
    }

    fn type_expr(&self) -> &'static str {
        if self.type_column {
            "m.type"
        } else {
            "NULL"
        }
    }
}

impl Schema {
    fn probe(conn: &Connection) -> Result<Schema, StoreError> {
        let tables: HashSet<String> =
            conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table'")?.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<_, _>>()?;
        let mut session_tables = Vec::new();
        for name in ["session", "session_v2"] {
            if !tables.contains(name) {
                continue;
            }
            let columns = columns_of(conn, name)?;
            let missing: Vec<&str> = ["id", "parent_id", "directory", "title", "time_updated"].into_iter().filter(|c| !columns.contains(*c)).collect();
            if !missing.is_empty() {
                return Err(StoreError::UnknownFormat(format!("table {name} lacks column(s) {}", missing.join(", "))));
            }
            session_tables.push(SessionTable {
                name,
                has_model: columns.contains("model"),
                has_archived: columns.contains("time_archived"),
                has_project: columns.contains("project_id"),
            });
        }
        let mut message_tables = Vec::new();
        for table in [MessageTable::V2, MessageTable::V1] {
            if tables.contains(table.name) {
                let columns = columns_of(conn, table.name)?;
                let needed: &[&str] = if table.type_column { &["session_id", "type", "seq", "data"] } else { &["session_id", "time_created", "id", "data"] };
                if let Some(missing) = needed.iter().find(|c| !columns.contains(**c)) {
                    return Err(StoreError::UnknownFormat(format!("table {} lacks column {missing}", table.name)));
                }
                message_tables.push(table);
            }
        }
        if session_tables.is_empty() || message_tables.is_empty() {
            let found = if tables.is_empty() { "no tables at all".to_string() } else { format!("no session/message tables among {} table(s)", tables.len()) };
            return Err(StoreError::UnknownFormat(found));
        }
        let project_worktree = tables.contains("project") && columns_of(conn, "project")?.contains("worktree");
        Ok(Schema { session_tables, message_tables, project_worktree })
    }
}

fn columns_of(conn: &Connection, table: &str) -> Result<HashSet<String>, rusqlite::Error> {
    conn.prepare("SELECT name FROM pragma_table_info(?1)")?.query_map([table], |r| r.get::<_, String>(0))?.collect()
}

fn read_sessions(conn: &Connection, table: &SessionTable, project_worktree: bool, skipped: &mut usize) -> Result<Vec<StoredSession>, StoreError> {
    let model = if table.has_model { "s.model" } else { "NULL" };
    let archived = if table.has_archived { "s.time_archived" } else { "NULL" };
    let (worktree, join) = if project_worktree && table.has_project { ("p.worktree", "LEFT JOIN project p ON p.id = s.project_id") } else { ("NULL", "") };
    let sql = format!("SELECT s.id, s.parent_id, s.title, s.directory, {worktree}, {model}, s.time_updated, {archived} FROM {} s {join}", table.name);
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([])?;
    let mut sessions = Vec::new();
    while let Some(row) = rows.next()? {
        let Some(id) = text(row.get_ref(0)?).filter(|id| !id.is_empty()) else {
            *skipped += 1;
            continue;
        };
        sessions.push(StoredSession {
            id,
            parent_id: text(row.get_ref(1)?).filter(|p| !p.is_empty()),
            title: text(row.get_ref(2)?),
            directory: text(row.get_ref(3)?),
            worktree: text(row.get_ref(4)?),
            model: match row.get_ref(5)? {
                ValueRef::Text(json) => ModelRef::from_column(json),
                _ => None,
            },
            updated_ms: integer(row.get_ref(6)?),
            archived: !matches!(row.get_ref(7)?, ValueRef::Null),
            scan: Scan::NotFound { uncertain: false },
        });
    }
    Ok(sessions)
}

/// The candidate row of one session from the bulk query, and whether a newer row looked doubtful.
struct BulkCandidate {
    row: Row,
    doubtful_newer: bool,
}

/// For every root session with a candidate row: that row, and whether any newer row is one the
/// reader would call unreadable or malformed (then the number is only a best guess).
fn bulk_candidates(conn: &Connection, table: &MessageTable, session_tables: &[SessionTable]) -> Result<HashMap<String, BulkCandidate>, StoreError> {
    let roots: Vec<String> = session_tables
        .iter()
        .map(|t| {
            let live = if t.has_archived { " AND time_archived IS NULL" } else { "" };
            format!("SELECT id FROM {} WHERE parent_id IS NULL{live}", t.name)
        })
        .collect();
    let name = table.name;
    let sql = format!(
        "WITH roots(sid) AS ({roots}), \
         cut AS (SELECT r.sid AS sid, (SELECT m.id FROM {name} m WHERE m.session_id = r.sid AND {qualifies} ORDER BY {order} LIMIT 1) AS mid FROM roots r) \
         SELECT c.sid, {cut_type}, cm.data, \
           EXISTS (SELECT 1 FROM {name} m WHERE m.session_id = c.sid AND {newer} AND {doubtful}) \
         FROM cut c JOIN {name} cm ON cm.id = c.mid",
        roots = roots.join(" UNION "),
        qualifies = table.qualifies(),
        order = table.newest_first(),
        cut_type = table.type_expr().replace("m.", "cm."),
        newer = table.newer_than_cut(),
        doubtful = table.doubtful(),
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([])?;
    let mut by_session = HashMap::new();
    while let Some(row) = rows.next()? {
        let Some(sid) = text(row.get_ref(0)?) else { continue };
        let candidate = BulkCandidate { row: classify_row(row.get_ref(1)?, row.get_ref(2)?), doubtful_newer: !matches!(row.get_ref(3)?, ValueRef::Integer(0)) };
        by_session.insert(sid, candidate);
    }
    Ok(by_session)
}

/// The TUI rule from the bulk candidates (v2 table first: its rows are newer than v1's); None
/// when the reader rejects the row SQL picked, and the session must be read alone.
fn scan_bulk(session_id: &str, bulk: &mut [HashMap<String, BulkCandidate>]) -> Option<Scan> {
    for candidates in bulk.iter_mut() {
        let Some(candidate) = candidates.remove(session_id) else { continue };
        return match candidate.row {
            Row::Usage { tokens, model } => Some(Scan::Found(Usage { tokens, model, uncertain: candidate.doubtful_newer })),
            _ => None,
        };
    }
    Some(Scan::NotFound { uncertain: false })
}

/// The TUI rule over every row of one session, newest first, stopping at the first candidate.
fn scan_one(conn: &Connection, tables: &[MessageTable], session_id: &str) -> Result<Scan, StoreError> {
    let mut uncertain = false;
    for table in tables {
        let sql = format!("SELECT {}, m.data FROM {} m WHERE m.session_id = ?1 ORDER BY {}", table.type_expr(), table.name, table.newest_first());
        let mut stmt = conn.prepare(&sql)?;
        let mut rows = stmt.query([session_id])?;
        while let Some(row) = rows.next()? {
            match classify_row(row.get_ref(0)?, row.get_ref(1)?) {
                Row::Usage { tokens, model } => return Ok(Scan::Found(Usage { tokens, model, uncertain })),
                Row::Unreadable | Row::Malformed => uncertain = true,
                Row::Skip => {}
            }
        }
    }
    Ok(Scan::NotFound { uncertain })
}

fn classify_row(row_type: ValueRef<'_>, data: ValueRef<'_>) -> Row {
    let row_type = text(row_type);
    match data {
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => classify(bytes, row_type.as_deref()),
        _ => Row::Unreadable,
    }
}

/// A text column, tolerating bytes that are not UTF-8 (replaced, never a failure).
fn text(value: ValueRef<'_>) -> Option<String> {
    match value {
        ValueRef::Text(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        _ => None,
    }
}

fn integer(value: ValueRef<'_>) -> Option<i64> {
    match value {
        ValueRef::Integer(n) => Some(n),
        ValueRef::Real(f) if f.is_finite() => Some(f as i64),
        ValueRef::Text(bytes) => std::str::from_utf8(bytes).ok()?.trim().parse().ok(),
        _ => None,
    }
}
