//! OpenClaw discovery over real-format stores built in temp dirs: the 2026.9.6 SQLite store
//! (schema copied from the shipped dist, rows from the real fixtures), the 2026.7.x
//! `sessions.json` store as the reference note describes it, and the bad inputs of issue 4.

use asm_core::env::Env;
use asm_core::platform::openclaw::{self, store_files, telegram_group_chat_ids};
use asm_core::session::{Platform, SessionInfo, SessionList, StoreKind, TranscriptRef};
use asm_core::Runtime;
use asm_testkit::TempDir;
use rusqlite::{params, Connection};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/openclaw/v2026.9.6");
const SCHEMA: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/openclaw/v2026.9.6/openclaw-agent.schema.sql"));
const TOPIC_KEY: &str = "agent:main:telegram:group:-1001234567890:topic:466";
const CLI_KEY: &str = "agent:main:topic-466";

fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(Path::new(FIXTURES).join(name)).unwrap()
}

fn fixture_json(name: &str) -> Value {
    serde_json::from_str(&fixture_text(name)).unwrap()
}

fn topic_entry() -> Value {
    fixture_json("session_nodes.telegram-topic.json")[0]["entry_json(parsed)"].clone()
}

struct Home {
    tmp: TempDir,
}

impl Home {
    fn new(tag: &str) -> Home {
        Home { tmp: TempDir::new(tag) }
    }

    fn state(&self) -> PathBuf {
        self.tmp.join("state")
    }

    fn agent(&self, id: &str) -> PathBuf {
        self.state().join("agents").join(id)
    }

    fn db(&self, agent: &str) -> PathBuf {
        self.agent(agent).join("agent/openclaw-agent.sqlite")
    }

    fn runtime(&self) -> Runtime {
        let home = self.tmp.join("home");
        Runtime::from_env(Env::from_pairs([("HOME", home.to_str().unwrap()), ("OPENCLAW_STATE_DIR", self.state().to_str().unwrap())])).unwrap()
    }

    fn discover(&self) -> SessionList {
        openclaw::discover::discover(&self.runtime(), &Default::default())
    }
}

/// A store with OpenClaw's schema, in WAL mode like the real one.
fn create_db(path: &Path) -> Connection {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let conn = Connection::open(path).unwrap();
    conn.pragma_update(None, "journal_mode", "wal").unwrap();
    conn.execute_batch(SCHEMA).unwrap();
    conn.pragma_update(None, "user_version", 23).unwrap();
    conn
}

fn insert_node(conn: &Connection, key: &str, session_id: &str, entry_json: &[u8], archived_at: Option<i64>) {
    conn.execute(
        "INSERT INTO session_nodes (session_key, current_session_id, entry_json, updated_at, archived_at) VALUES (?1, ?2, CAST(?3 AS TEXT), 1, ?4)",
        params![key, session_id, entry_json, archived_at],
    )
    .unwrap();
    conn.execute("INSERT OR IGNORE INTO session_windows (session_id, session_key, created_at, updated_at) VALUES (?1, ?2, 1, 1)", params![session_id, key])
        .unwrap();
}

fn insert_entry(conn: &Connection, key: &str, entry: &Value) {
    let id = entry["sessionId"].as_str().unwrap_or("no-id");
    insert_node(conn, key, id, serde_json::to_string(entry).unwrap().as_bytes(), None);
}

fn insert_transcript(conn: &Connection, session_id: &str, jsonl: &str) {
    for (seq, line) in jsonl.lines().enumerate() {
        conn.execute("INSERT INTO transcript_events (session_id, seq, event_json, created_at) VALUES (?1, ?2, ?3, 1)", params![session_id, seq as i64, line])
            .unwrap();
    }
}

/// The agent store of the 2026.9.6 fixtures: the Telegram topic session and the CLI session
/// after its compaction, with their transcripts.
fn fixture_store(home: &Home) -> Connection {
    let conn = create_db(&home.db("main"));
    let topic = topic_entry();
    insert_entry(&conn, TOPIC_KEY, &topic);
    insert_transcript(&conn, topic["sessionId"].as_str().unwrap(), &fixture_text("transcript_events.telegram-topic.jsonl"));
    let compacted = fixture_json("session_entry.after-compaction.json");
    insert_entry(&conn, CLI_KEY, &compacted);
    insert_transcript(&conn, compacted["sessionId"].as_str().unwrap(), &fixture_text("transcript_events.reset-inject-compaction.jsonl"));
    conn
}

fn by_key<'a>(list: &'a SessionList, key: &str) -> &'a SessionInfo {
    list.sessions.iter().find(|s| s.key.as_deref() == Some(key)).unwrap_or_else(|| panic!("no session {key} in {list:#?}"))
}

#[test]
fn sqlite_store_lists_the_fixture_sessions_with_openclaws_numbers() {
    let home = Home::new("oc-fixture");
    drop(fixture_store(&home));
    let list = home.discover();
    assert!(list.errors.is_empty(), "{:?}", list.errors);
    assert_eq!(list.sessions.len(), 2);

    let topic = by_key(&list, TOPIC_KEY);
    assert_eq!(topic.platform, Platform::Openclaw);
    assert_eq!(topic.session_id, "cb7a4da0-b50a-4d69-942c-c0a531b7a1f6");
    assert_eq!(topic.title.as_deref(), Some("Mock Forum · topic 466"));
    assert_eq!(topic.cwd.as_deref(), Some("~/.openclaw/workspace"));
    assert_eq!(topic.model.as_deref(), Some("mock-1"));
    assert_eq!((topic.context_tokens, topic.context_window, topic.context_percent), (Some(12993), Some(32000), Some(40.6)));
    // effectiveReserveTokens 8000 of the 32k window, as OpenClaw reported it.
    assert_eq!(topic.compact_at_tokens, Some(24000));
    assert!(!topic.estimated);
    assert_eq!(topic.live, None);
    assert_eq!(topic.updated_at.map(|t| t.timestamp_millis()), Some(1795481741914));
    assert_eq!(topic.source, home.db("main").display().to_string());
    assert_eq!(topic.transcript, Some(TranscriptRef::new(StoreKind::Sqlite, home.db("main"), topic.session_id.clone())));

    // After a compaction totalTokens is stale: unknown, as `openclaw status` shows percentUsed null.
    let compacted = by_key(&list, CLI_KEY);
    assert_eq!(compacted.session_id, "c82a68a7-ec3e-4130-987d-c5330d8e3b1a");
    assert_eq!((compacted.context_tokens, compacted.context_window, compacted.context_percent), (None, Some(32000), None));
    assert!(!compacted.estimated);
    assert_eq!(compacted.title.as_deref(), Some("topic-466"));
}

#[test]
fn numbers_agree_with_the_openclaw_cli_and_status() {
    let home = Home::new("oc-cli");
    drop(fixture_store(&home));
    let list = home.discover();
    let cli = fixture_json("openclaw-sessions.json");
    for row in cli["sessions"].as_array().unwrap() {
        let ours = by_key(&list, row["key"].as_str().unwrap());
        assert_eq!(ours.session_id, row["sessionId"].as_str().unwrap());
        assert_eq!(ours.context_tokens, row["totalTokens"].as_u64());
        assert_eq!(ours.context_window, row["contextTokens"].as_u64());
        assert_eq!(ours.model.as_deref(), row["model"].as_str());
        // OpenClaw rounds to a whole percent; ours keeps one decimal of the same ratio.
        let theirs = (100.0 * row["totalTokens"].as_f64().unwrap() / row["contextTokens"].as_f64().unwrap()).round();
        assert_eq!(ours.context_percent.unwrap().round(), theirs);
    }
    let status = fixture_json("openclaw-status.sessions-part.gateway-down.json");
    for row in status["sessions"]["recent"].as_array().unwrap() {
        let ours = by_key(&list, row["key"].as_str().unwrap());
        assert_eq!(ours.context_percent.map(f64::round), row["percentUsed"].as_f64());
        assert_eq!(ours.context_window, row["contextTokens"].as_u64());
    }
}

#[test]
fn reading_never_changes_the_store() {
    let home = Home::new("oc-readonly");
    let conn = fixture_store(&home);
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
    let before = std::fs::read(home.db("main")).unwrap();
    let list = home.discover();
    assert_eq!(list.sessions.len(), 2);
    assert_eq!(std::fs::read(home.db("main")).unwrap(), before);
    let rows: i64 = conn.query_row("SELECT count(*) FROM session_nodes", [], |r| r.get(0)).unwrap();
    assert_eq!(rows, 2);
}

#[test]
fn a_write_transaction_in_progress_neither_blocks_nor_confuses_the_reader() {
    let home = Home::new("oc-wal");
    let writer = fixture_store(&home);
    writer.execute_batch("BEGIN IMMEDIATE").unwrap();
    insert_entry(&writer, "agent:main:uncommitted", &json!({"sessionId":"u1","totalTokens":5,"contextTokens":100}));
    writer.execute("UPDATE session_nodes SET entry_json = '{}' WHERE session_key = ?1", params![TOPIC_KEY]).unwrap();

    let during = home.discover();
    assert!(during.errors.is_empty(), "{:?}", during.errors);
    assert_eq!(during.sessions.len(), 2, "only committed rows are seen");
    assert_eq!(by_key(&during, TOPIC_KEY).context_tokens, Some(12993));

    writer.execute_batch("COMMIT").unwrap();
    let after = home.discover();
    assert_eq!(after.sessions.len(), 3);
    assert_eq!(by_key(&after, "agent:main:uncommitted").context_tokens, Some(5));
}

#[test]
fn a_locked_database_is_reported_and_the_other_agents_still_listed() {
    let home = Home::new("oc-locked");
    drop(fixture_store(&home));
    // A rollback-journal store whose writer holds the exclusive lock: readers get SQLITE_BUSY.
    let locked_path = home.db("busy");
    let locker = create_db(&locked_path);
    locker.pragma_update(None, "journal_mode", "delete").unwrap();
    insert_entry(&locker, "agent:busy:main", &json!({"sessionId":"b1","totalTokens":1,"contextTokens":10}));
    locker.execute_batch("BEGIN EXCLUSIVE; UPDATE session_nodes SET updated_at = 2;").unwrap();

    let list = home.discover();
    assert_eq!(list.sessions.len(), 2);
    assert_eq!(list.errors.len(), 1, "{:?}", list.errors);
    assert_eq!(list.errors[0].source, locked_path.display().to_string());
    assert!(list.errors[0].message.contains("locked"), "{}", list.errors[0].message);
    locker.execute_batch("ROLLBACK").unwrap();
    assert_eq!(home.discover().sessions.len(), 3);
}

#[test]
fn a_corrupt_database_is_an_error_not_a_panic() {
    let home = Home::new("oc-corrupt");
    drop(fixture_store(&home));
    let bad = home.db("broken");
    std::fs::create_dir_all(bad.parent().unwrap()).unwrap();
    std::fs::write(&bad, b"this is not a database, just bytes \x00\xff\xfe".repeat(200)).unwrap();
    let list = home.discover();
    assert_eq!(list.sessions.len(), 2);
    assert_eq!(list.errors.len(), 1);
    assert!(list.errors[0].message.contains("not a readable SQLite database"), "{}", list.errors[0].message);
}

#[test]
fn an_unknown_schema_is_an_error_naming_what_was_expected() {
    let home = Home::new("oc-schema");
    let path = home.db("main");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE sessions (id TEXT); PRAGMA user_version = 99;").unwrap();
    drop(conn);
    let list = home.discover();
    assert!(list.sessions.is_empty());
    let message = &list.errors[0].message;
    assert!(message.contains("no session_nodes table") && message.contains("user_version 99"), "{message}");
}

#[test]
fn garbage_rows_are_skipped_and_counted_good_rows_listed() {
    let home = Home::new("oc-garbage");
    let conn = fixture_store(&home);
    insert_node(&conn, "agent:main:not-json", "g1", b"{\"sessionId\": \"g1\", \"totalTok", None);
    insert_node(&conn, "agent:main:array", "g2", b"[1,2,3]", None);
    // Missing fields: no sessionId in the entry (the row's current_session_id stands in), no counters.
    insert_node(&conn, "agent:main:bare", "g3", b"{}", None);
    // A label that is not UTF-8 costs a character, not the row.
    insert_node(&conn, "agent:main:latin1", "g4", b"{\"sessionId\":\"g4\",\"label\":\"caf\xe9\",\"totalTokens\":100,\"contextTokens\":1000}", None);
    insert_node(&conn, "agent:main:archived", "g5", b"{\"sessionId\":\"g5\"}", Some(5));
    drop(conn);

    let list = home.discover();
    let keys: Vec<&str> = list.sessions.iter().filter_map(|s| s.key.as_deref()).collect();
    assert_eq!(list.sessions.len(), 4, "{keys:?}");
    let bare = by_key(&list, "agent:main:bare");
    assert_eq!(bare.session_id, "g3");
    // No usage and no window: the configured estimate, flagged, and no percent.
    assert_eq!((bare.context_tokens, bare.context_window, bare.context_percent, bare.estimated), (Some(8000), None, None, true));
    let latin1 = by_key(&list, "agent:main:latin1");
    assert_eq!(latin1.title.as_deref(), Some("caf\u{fffd}"));
    assert_eq!(latin1.context_percent, Some(10.0));
    assert_eq!(list.errors.len(), 1);
    assert!(list.errors[0].message.starts_with("skipped 2 of 6 session rows"), "{}", list.errors[0].message);
}

#[test]
fn no_openclaw_on_the_machine_is_an_empty_list() {
    let home = Home::new("oc-none");
    assert_eq!(home.discover(), SessionList::default());
}

// ---- 2026.7.x file store -------------------------------------------------------------

const OLD_TOPIC_ID: &str = "92768b1d-4a0e-4c43-9f55-0d9c1c0a8e11";
const TOPIC_ID_7: &str = "1192079f-5f0e-4b8e-a3c4-6f1b2c3d4e5f";
const MAIN_ID_7: &str = "5a0c9e2e-1111-4c1d-8d7e-2b3c4d5e6f70";

fn transcript_v3(session_id: &str, input: u64) -> String {
    [
        json!({"type":"session","version":3,"id":session_id,"timestamp":"2026-11-24T00:50:00.000Z","cwd":"/srv/workspace"}),
        json!({"type":"message","id":"a1b2c3d4","parentId":null,"timestamp":"2026-11-24T00:50:01.000Z","message":{"role":"user","content":"hello"}}),
        json!({"type":"message","id":"b2c3d4e5","parentId":"a1b2c3d4","timestamp":"2026-11-24T00:50:02.000Z","message":{"role":"assistant","content":[{"type":"text","text":"hi"}],"provider":"mock","model":"mock-1","usage":{"input":input,"output":5,"cacheRead":0,"cacheWrite":0,"totalTokens":input + 5}}}),
    ]
    .iter()
    .map(|v| format!("{v}\n"))
    .collect()
}

/// `agents/main/sessions/` as 2026.7.35 leaves it after a reset of the topic session: the
/// topic entry points at a new transcript, the old one renamed `.jsonl.reset.<ISO>`.
fn file_store(home: &Home) -> PathBuf {
    let dir = home.agent("main").join("sessions");
    std::fs::create_dir_all(&dir).unwrap();
    let topic_file = dir.join(format!("{TOPIC_ID_7}.jsonl"));
    let sessions = json!({
        TOPIC_KEY: {
            "chatType":"group","channel":"telegram","sessionId":TOPIC_ID_7,"updatedAt":1795481691597u64,
            "deliveryContext":{"channel":"telegram","to":"telegram:-1001234567890:topic:466","accountId":"default","threadId":466},
            "lastChannel":"telegram","lastTo":"telegram:-1001234567890:topic:466","lastThreadId":466,
            "sessionFile": topic_file.to_str().unwrap(), "subject":"Ops Forum",
            "compactionCount":1,"model":"mock-1","modelProvider":"mock",
            "contextTokens":32000,"totalTokens":18752,"totalTokensFresh":true,
            "skillsSnapshot":{"prompt":"x".repeat(5000)}
        },
        "agent:main:main": {
            "sessionId":MAIN_ID_7,"updatedAt":1795481000000u64,"chatType":"direct","model":"big-1","modelProvider":"mock",
            "contextTokens":200000,"totalTokens":150000,"totalTokensFresh":true
        }
    });
    std::fs::write(dir.join("sessions.json"), serde_json::to_vec_pretty(&sessions).unwrap()).unwrap();
    std::fs::write(&topic_file, transcript_v3(TOPIC_ID_7, 18752)).unwrap();
    std::fs::write(dir.join(format!("{MAIN_ID_7}.jsonl")), transcript_v3(MAIN_ID_7, 150000)).unwrap();
    std::fs::write(dir.join(format!("{MAIN_ID_7}.trajectory.jsonl")), "{\"traceSchema\":\"openclaw-trajectory\"}\n").unwrap();
    std::fs::write(dir.join(format!("{OLD_TOPIC_ID}.jsonl.reset.2026-11-24T00-54-00.470Z")), transcript_v3(OLD_TOPIC_ID, 16400)).unwrap();
    std::fs::write(dir.join(format!("{OLD_TOPIC_ID}.jsonl.reset.2026-11-23T10-00-00.000Z")), transcript_v3(OLD_TOPIC_ID, 9000)).unwrap();
    dir
}

#[test]
fn file_store_lists_current_sessions_with_their_transcripts() {
    let home = Home::new("oc-files");
    let dir = file_store(&home);
    let list = home.discover();
    assert!(list.errors.is_empty(), "{:?}", list.errors);
    assert_eq!(list.sessions.len(), 2, "reset archives are not sessions");

    let topic = by_key(&list, TOPIC_KEY);
    assert_eq!(topic.session_id, TOPIC_ID_7);
    assert_eq!((topic.context_tokens, topic.context_window, topic.context_percent), (Some(18752), Some(32000), Some(58.6)));
    // 2026.7.x reserves its 20,000-token floor even in a 32k window.
    assert_eq!(topic.compact_at_tokens, Some(12000));
    assert_eq!(topic.title.as_deref(), Some("Ops Forum · topic 466"));
    assert_eq!(topic.source, dir.join("sessions.json").display().to_string());
    assert_eq!(topic.transcript, Some(TranscriptRef::new(StoreKind::JsonlFile, dir.join(format!("{TOPIC_ID_7}.jsonl")), topic.session_id.clone())));

    let main = by_key(&list, "agent:main:main");
    assert_eq!((main.context_percent, main.compact_at_tokens, main.estimated), (Some(75.0), Some(180_000), false));
    assert_eq!(main.transcript, Some(TranscriptRef::new(StoreKind::JsonlFile, dir.join(format!("{MAIN_ID_7}.jsonl")), main.session_id.clone())));

    let archives = store_files::reset_archives(&dir);
    let names: Vec<(&str, &str)> = archives.iter().map(|a| (a.session_id.as_str(), a.reset_at.as_str())).collect();
    assert_eq!(names, vec![(OLD_TOPIC_ID, "2026-11-23T10-00-00.000Z"), (OLD_TOPIC_ID, "2026-11-24T00-54-00.470Z")]);
}

#[test]
fn a_stale_file_store_total_is_not_shown_as_exact() {
    // 2026.7.35 itself still showed the stale total; ASM follows 2026.9.6 and never does.
    let home = Home::new("oc-files-stale");
    let dir = home.agent("main").join("sessions");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("sessions.json"), r#"{"agent:main:main":{"sessionId":"s","totalTokens":16400,"totalTokensFresh":false,"contextTokens":32000}}"#)
        .unwrap();
    let s = &home.discover().sessions[0];
    assert_eq!((s.context_tokens, s.context_percent, s.transcript.as_ref()), (None, None, None));
}

#[test]
fn a_truncated_sessions_json_is_an_error_and_other_agents_still_listed() {
    let home = Home::new("oc-files-truncated");
    drop(fixture_store(&home));
    let dir = home.agent("work").join("sessions");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("sessions.json"), r#"{"agent:work:main":{"sessionId":"s","totalTokens":164"#).unwrap();
    let list = home.discover();
    assert_eq!(list.sessions.len(), 2);
    assert_eq!(list.errors.len(), 1);
    assert!(list.errors[0].message.contains("expected one JSON object keyed by session key"), "{}", list.errors[0].message);
}

#[test]
fn file_store_survives_non_utf8_bytes_and_odd_entries() {
    let home = Home::new("oc-files-odd");
    let dir = home.agent("main").join("sessions");
    std::fs::create_dir_all(&dir).unwrap();
    let mut bytes = b"{\"agent:main:a\":{\"sessionId\":\"a\",\"subject\":\"gr\xfc\xdfe\",\"totalTokens\":10,\"contextTokens\":100},".to_vec();
    bytes.extend_from_slice(b"\"agent:main:b\":42,\"agent:main:c\":{\"totalTokens\":1}}");
    std::fs::write(dir.join("sessions.json"), bytes).unwrap();
    let list = home.discover();
    assert_eq!(list.sessions.len(), 1);
    assert_eq!(list.sessions[0].context_percent, Some(10.0));
    assert_eq!(list.errors.len(), 1);
    assert!(list.errors[0].message.starts_with("skipped 2 of 3"), "{}", list.errors[0].message);
}

#[test]
fn telegram_group_chats_are_found_in_session_keys() {
    let home = Home::new("oc-chats");
    let conn = fixture_store(&home);
    insert_entry(&conn, "agent:main:telegram:group:-100999:topic:7", &json!({"sessionId":"t7","lastInteractionAt":1}));
    insert_entry(&conn, "agent:main:telegram:group:-100999", &json!({"sessionId":"t8","lastInteractionAt":2}));
    drop(conn);
    let list = home.discover();
    assert_eq!(telegram_group_chat_ids(&list.sessions), vec!["-1001234567890".to_string(), "-100999".to_string()]);
}

#[test]
fn subagent_sessions_are_children_of_the_session_that_spawned_them() {
    let home = Home::new("oc-subagents");
    let conn = fixture_store(&home);
    insert_entry(&conn, "agent:main:subagent:a", &json!({"sessionId":"sub-a","spawnedBy":TOPIC_KEY,"totalTokens":100,"contextTokens":1000}));
    insert_entry(&conn, "agent:main:subagent:a2", &json!({"sessionId":"sub-a2","spawnedBy":"agent:main:subagent:a"}));
    insert_entry(&conn, "agent:main:subagent:orphan", &json!({"sessionId":"sub-o","spawnedBy":"agent:main:gone"}));
    insert_entry(&conn, "agent:main:loop1", &json!({"sessionId":"l1","spawnedBy":"agent:main:loop2"}));
    insert_entry(&conn, "agent:main:loop2", &json!({"sessionId":"l2","spawnedBy":"agent:main:loop1"}));
    drop(conn);
    let list = home.discover();
    let mut keys: Vec<&str> = list.sessions.iter().filter_map(|s| s.key.as_deref()).collect();
    keys.sort();
    assert_eq!(keys, vec!["agent:main:loop1", "agent:main:loop2", "agent:main:subagent:orphan", TOPIC_KEY, CLI_KEY]);
    let mut children = by_key(&list, TOPIC_KEY).children.clone();
    children.sort();
    assert_eq!(children, vec!["sub-a".to_string(), "sub-a2".to_string()]);
}

#[test]
fn a_half_written_database_is_an_error_not_a_partial_list() {
    let home = Home::new("oc-half");
    let conn = fixture_store(&home);
    for i in 0..200 {
        insert_entry(&conn, &format!("agent:main:filler-{i}"), &json!({"sessionId":format!("f{i}"),"skillsSnapshot":"x".repeat(3000)}));
    }
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
    drop(conn);
    let db = home.db("main");
    let bytes = std::fs::read(&db).unwrap();
    std::fs::write(&db, &bytes[..bytes.len() / 2]).unwrap();
    let list = home.discover();
    assert!(list.sessions.is_empty(), "{} sessions listed from half a file", list.sessions.len());
    assert_eq!(list.errors.len(), 1);
    assert!(list.errors[0].message.contains("not a readable SQLite database"), "{}", list.errors[0].message);
}
