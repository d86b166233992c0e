//! OpenCode 1.18.33 fixture databases for tests: a real SQLite file built from the fixture's
//! SQL dump, and the rows of the v2 `session_message` table captured beside it.

use rusqlite::Connection;
use serde_json::Value;
use std::path::Path;

/// Creates the database at `path` from `tests/fixtures/opencode/v1.18.33/opencode.db.dump.sql`
/// and returns the open connection.
pub fn fixture_db(path: &Path) -> Connection {
    let dump = std::fs::read_to_string(crate::fixtures_dir().join("opencode/v1.18.33/opencode.db.dump.sql")).expect("opencode fixture dump");
    let conn = Connection::open(path).expect("create fixture database");
    conn.execute_batch(&dump).expect("load opencode fixture dump");
    conn
}

/// `tests/fixtures/opencode/v1.18.33/v2-api/db-rows.json`: the v2 tables' rows OpenCode wrote.
pub fn v2_rows() -> Value {
    let text = std::fs::read_to_string(crate::fixtures_dir().join("opencode/v1.18.33/v2-api/db-rows.json")).expect("v2 rows fixture");
    serde_json::from_str(&text).expect("v2 rows fixture is JSON")
}

/// Inserts the fixture's v2 `session_message` rows.
pub fn insert_v2_messages(conn: &Connection, rows: &Value) {
    for m in rows["session_message"].as_array().expect("session_message rows") {
        conn.execute(
            "INSERT INTO session_message (id, session_id, type, seq, time_created, time_updated, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            rusqlite::params![
                m["id"].as_str(),
                m["session_id"].as_str(),
                m["type"].as_str(),
                m["seq"].as_i64(),
                m["time_created"].as_i64(),
                m["time_updated"].as_i64(),
                m["data"].to_string()
            ],
        )
        .expect("insert v2 session_message row");
    }
}
