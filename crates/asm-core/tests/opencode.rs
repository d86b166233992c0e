//! The OpenCode adapter against real stores: the 1.18.33 database of the fixtures (built
//! from its SQL dump in a temp HOME), the v2 rows, a 1.1.x JSON tree built from the notes,
//! live WAL databases and bad input of every kind.

use asm_core::env::Env;
use asm_core::platform::opencode;
use asm_core::session::{Platform, SessionInfo, SessionList, StoreKind, TranscriptRef};
use asm_core::Runtime;
use asm_testkit::TempDir;
use rusqlite::Connection;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const A: &str = "ses_df4c7636affe5zEnkBDHC7yhTL";
const B: &str = "ses_df4c71c54ffegYITqWRqSxSPUP";

fn fixture(rel: &str) -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/opencode")).join(rel)
}

fn fixture_json(rel: &str) -> Value {
    serde_json::from_slice(&std::fs::read(fixture(rel)).unwrap()).unwrap()
}

/// A temp HOME with OpenCode's config (the fixtures' `mock` provider) and an empty data dir.
struct Home {
    tmp: TempDir,
    extra_env: Vec<(String, String)>,
}

impl Home {
    fn new(tag: &str) -> Home {
        let tmp = TempDir::new(tag);
        std::fs::create_dir_all(tmp.join("home/.config/opencode")).unwrap();
        std::fs::create_dir_all(tmp.join("home/.local/share/opencode")).unwrap();
        std::fs::copy(fixture("opencode.json"), tmp.join("home/.config/opencode/opencode.json")).unwrap();
        Home { tmp, extra_env: Vec::new() }
    }

    fn data(&self) -> PathBuf {
        self.tmp.join("home/.local/share/opencode")
    }

    fn db_path(&self) -> PathBuf {
        self.data().join("opencode.db")
    }

    /// The fixture database, as OpenCode 1.18.33 left it, in WAL mode as OpenCode keeps it.
    fn fixture_db(&self) -> Connection {
        let conn = asm_testkit::opencode::fixture_db(&self.db_path());
        conn.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(())).unwrap();
        conn
    }

    fn set(&mut self, name: &str, value: &str) {
        self.extra_env.push((name.to_string(), value.to_string()));
    }

    fn runtime(&self) -> Runtime {
        let mut pairs = vec![("HOME".to_string(), self.tmp.join("home").display().to_string())];
        pairs.extend(self.extra_env.iter().cloned());
        Runtime::from_env(Env::from_pairs(pairs)).unwrap()
    }

    fn discover(&self) -> SessionList {
        opencode::discover::discover(&self.runtime(), &Default::default())
    }
}

fn session<'a>(list: &'a SessionList, id: &str) -> &'a SessionInfo {
    list.sessions.iter().find(|s| s.session_id == id).unwrap_or_else(|| panic!("{id} not listed in {list:#?}"))
}

#[test]
fn every_fixture_session_has_the_golden_numbers() {
    let home = Home::new("oc-golden");
    drop(home.fixture_db());
    let list = home.discover();
    assert!(list.errors.is_empty(), "{:?}", list.errors);
    let golden = fixture_json("expected-context.json");
    let sessions = golden["sessions"].as_object().unwrap();
    assert_eq!(list.sessions.len(), sessions.len());
    for (id, expected) in sessions {
        let s = session(&list, id);
        let tui = &expected["tui_rule"];
        assert_eq!(s.context_tokens, tui["context_tokens"].as_u64(), "{id}");
        assert_eq!(s.context_percent.map(|p| p.round() as u64), tui["percent"].as_u64(), "{id}");
        assert_eq!(s.context_window, golden["model_limit"]["context"].as_u64());
        assert_eq!(s.compact_at_tokens, golden["usable"].as_u64());
        assert_eq!(s.title.as_deref(), expected["title"].as_str());
        assert_eq!((s.platform, s.key.as_deref(), s.live, s.estimated), (Platform::Opencode, None, None, false));
        assert_eq!(s.model.as_deref(), Some("mock/mock-model"));
        assert_eq!(s.cwd.as_deref(), Some("/tmp/ocfx/demo"));
        assert_eq!(s.source, home.db_path().display().to_string());
        assert_eq!(s.transcript, Some(TranscriptRef::new(StoreKind::Sqlite, home.db_path(), id.clone())));
        assert!(s.children.is_empty());
    }
    assert_eq!(session(&list, A).context_percent, Some(10.0));
    assert_eq!(session(&list, A).updated_at.unwrap().timestamp_millis(), 1_795_484_607_381);
    assert_eq!(session(&list, B).context_percent, Some(2.0));
}

#[test]
fn every_golden_message_is_what_the_tui_showed_when_it_was_the_last() {
    let golden = fixture_json("expected-context.json");
    for (id, expected) in golden["sessions"].as_object().unwrap() {
        for message in expected["messages"].as_array().unwrap() {
            let home = Home::new("oc-prefix");
            let conn = home.fixture_db();
            let msg_id = message["id"].as_str().unwrap();
            conn.execute(
                "DELETE FROM message WHERE session_id = ?1 AND (time_created, id) > (SELECT time_created, id FROM message WHERE id = ?2)",
                [id.as_str(), msg_id],
            )
            .unwrap();
            drop(conn);
            let s = home.discover().sessions.into_iter().find(|s| &s.session_id == id).unwrap();
            assert_eq!(s.context_tokens, message["tui_context_tokens"].as_u64(), "{msg_id}");
            assert_eq!(s.context_percent.map(|p| p.round() as u64), message["tui_percent"].as_u64(), "{msg_id}");
            assert!(!s.estimated);
        }
    }
}

#[test]
fn v2_session_message_rows_are_measured() {
    let home = Home::new("oc-v2");
    let conn = home.fixture_db();
    let rows = fixture_json("v1.18.33/v2-api/db-rows.json");
    let s = &rows["session"][0];
    conn.execute(
        "INSERT INTO session (id, project_id, slug, directory, title, version, time_created, time_updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        rusqlite::params![
            s["id"].as_str(),
            s["project_id"].as_str(),
            s["slug"].as_str(),
            s["directory"].as_str(),
            s["title"].as_str(),
            s["version"].as_str(),
            s["time_created"].as_i64(),
            s["time_updated"].as_i64()
        ],
    )
    .unwrap();
    asm_testkit::opencode::insert_v2_messages(&conn, &rows);
    drop(conn);
    let list = home.discover();
    let v2 = session(&list, "ses_df4beb783ffea43OKmAfH6jrHn");
    assert_eq!((v2.context_tokens, v2.context_percent, v2.estimated), (Some(3042), Some(1.5), false));
    assert_eq!(v2.model.as_deref(), Some("mock/mock-model"));
    assert_eq!(list.sessions.len(), 3);
}

#[test]
fn session_v2_table_is_read_with_the_v1_tables() {
    let home = Home::new("oc-v2table");
    let conn = home.fixture_db();
    conn.execute_batch(
        "CREATE TABLE session_v2 AS SELECT * FROM session WHERE 0;
         ALTER TABLE session_v2 ADD COLUMN time_idle integer;
         INSERT INTO session_v2 (id, project_id, slug, directory, title, version, time_created, time_updated, model)
           VALUES ('ses_v2only', 'global', 's', '/w', 'two', '2.0.12', 1795485000000, 1795485000000, '{\"id\":\"mock-model\",\"providerID\":\"mock\"}');
         INSERT INTO session_message (id, session_id, type, seq, time_created, time_updated, data) VALUES
           ('m1', 'ses_v2only', 'user', 1, 1, 1, '{\"text\":\"hi\"}'),
           ('m2', 'ses_v2only', 'assistant', 2, 2, 2, '{\"model\":{\"id\":\"mock-model\",\"providerID\":\"mock\"},\"tokens\":{\"input\":100,\"output\":10,\"reasoning\":5,\"cache\":{\"read\":50000,\"write\":0}}}'),
           ('m3', 'ses_v2only', 'compaction', 3, 3, 3, '{}');",
    )
    .unwrap();
    drop(conn);
    let list = home.discover();
    let s = session(&list, "ses_v2only");
    assert_eq!((s.context_tokens, s.context_percent, s.title.as_deref()), (Some(50_115), Some(25.1), Some("two")));
    assert_eq!(list.sessions.len(), 3);
}

#[test]
fn child_sessions_fold_into_their_root_and_archived_roots_are_hidden() {
    let home = Home::new("oc-children");
    let conn = home.fixture_db();
    conn.execute_batch(&format!(
        "INSERT INTO session (id, project_id, parent_id, slug, directory, title, version, time_created, time_updated) VALUES
           ('ses_child', 'p', '{A}', 's', '/w', 'sub', '1.18.33', 1, 1),
           ('ses_grandchild', 'p', 'ses_child', 's', '/w', 'subsub', '1.18.33', 1, 1),
           ('ses_orphan', 'p', 'ses_gone', 's', '/w', 'orphan', '1.18.33', 1, 1),
           ('ses_selfish', 'p', 'ses_selfish', 's', '/w', 'own parent', '1.18.33', 1, 1);
         INSERT INTO message VALUES ('msg_o1', 'ses_orphan', 5, 5, '{{\"role\":\"assistant\",\"providerID\":\"mock\",\"modelID\":\"mock-model\",\"tokens\":{{\"input\":1,\"output\":1,\"reasoning\":0,\"cache\":{{\"read\":0,\"write\":0}}}}}}');
         INSERT INTO message VALUES ('msg_s1', 'ses_selfish', 5, 5, '{{\"role\":\"assistant\",\"providerID\":\"mock\",\"modelID\":\"mock-model\",\"tokens\":{{\"input\":1,\"output\":2,\"reasoning\":0,\"cache\":{{\"read\":0,\"write\":0}}}}}}');
         UPDATE session SET time_archived = 1795484608999 WHERE id = '{B}';"
    ))
    .unwrap();
    drop(conn);
    let list = home.discover();
    let ids: Vec<&str> = list.sessions.iter().map(|s| s.session_id.as_str()).collect();
    assert!(ids.contains(&A) && ids.contains(&"ses_orphan") && ids.contains(&"ses_selfish") && ids.len() == 3, "{ids:?}");
    assert_eq!(session(&list, A).children, ["ses_child", "ses_grandchild"]);
    assert_eq!(session(&list, "ses_orphan").context_tokens, Some(2));
    assert_eq!(session(&list, "ses_selfish").context_tokens, Some(3));
}

#[test]
fn no_usage_yet_is_the_configured_estimate_and_says_so() {
    let mut home = Home::new("oc-nousage");
    let conn = home.fixture_db();
    conn.execute(&format!("DELETE FROM message WHERE session_id = '{B}' AND json_extract(data, '$.role') = 'assistant'"), []).unwrap();
    drop(conn);
    let s = home.discover().sessions.into_iter().find(|s| s.session_id == B).unwrap();
    assert_eq!((s.context_tokens, s.context_window, s.context_percent, s.estimated), (Some(8_000), Some(200_000), Some(4.0), true));
    assert_eq!(s.model.as_deref(), Some("mock/mock-model"), "the session's own model column still names the model");
    home.set("ASM_OC_ESTIMATE_TOKENS", "5000");
    let s = home.discover().sessions.into_iter().find(|s| s.session_id == B).unwrap();
    assert_eq!((s.context_tokens, s.estimated), (Some(5_000), true));
}

#[test]
fn unknown_window_gives_no_percent_and_is_marked_estimated() {
    let home = Home::new("oc-nowindow");
    std::fs::remove_file(home.tmp.join("home/.config/opencode/opencode.json")).unwrap();
    drop(home.fixture_db());
    let s = home.discover().sessions.into_iter().find(|s| s.session_id == A).unwrap();
    assert_eq!((s.context_tokens, s.context_window, s.context_percent, s.compact_at_tokens, s.estimated), (Some(20_042), None, None, None, true));
}

#[test]
fn limits_come_from_the_catalog_cache_and_config_overrides_them() {
    let mut home = Home::new("oc-catalog");
    std::fs::remove_file(home.tmp.join("home/.config/opencode/opencode.json")).unwrap();
    std::fs::create_dir_all(home.tmp.join("home/.cache/opencode")).unwrap();
    std::fs::write(
        home.tmp.join("home/.cache/opencode/models.json"),
        r#"{"mock":{"id":"mock","models":{"mock-model":{"limit":{"context":100000,"output":50000}}}}}"#,
    )
    .unwrap();
    drop(home.fixture_db());
    let s = home.discover().sessions.into_iter().find(|s| s.session_id == A).unwrap();
    assert_eq!((s.context_window, s.context_percent, s.compact_at_tokens, s.estimated), (Some(100_000), Some(20.0), Some(68_000), false));
    home.set("OPENCODE_CONFIG_CONTENT", r#"{"provider":{"mock":{"models":{"mock-model":{"limit":{"input":90000}}}}},"compaction":{"reserved":10000}}"#);
    let s = home.discover().sessions.into_iter().find(|s| s.session_id == A).unwrap();
    assert_eq!((s.context_window, s.compact_at_tokens), (Some(100_000), Some(80_000)));
    home.set("OPENCODE_DISABLE_AUTOCOMPACT", "1");
    assert_eq!(home.discover().sessions.into_iter().find(|s| s.session_id == A).unwrap().compact_at_tokens, None);
}

#[test]
fn garbage_json_in_newer_rows_makes_the_number_estimated_never_wrong_and_exact() {
    let home = Home::new("oc-garbage");
    let conn = home.fixture_db();
    // A's newest assistant (the manual summary, 20,042) becomes garbage: the older 9,042 is
    // the best guess, flagged. B's only assistant is unreadable bytes: no usage known.
    conn.execute("UPDATE message SET data = '{\"role\":\"assistant\",\"tok' WHERE id = 'msg_20b38e304001jAez1zIqfS653e'", []).unwrap();
    conn.execute(&format!("UPDATE message SET data = X'FFFE00C3' WHERE session_id = '{B}' AND json_extract(data, '$.role') = 'assistant'"), []).unwrap();
    drop(conn);
    let list = home.discover();
    assert!(list.errors.is_empty());
    let a = session(&list, A);
    assert_eq!((a.context_tokens, a.estimated), (Some(9_042), true));
    let b = session(&list, B);
    assert_eq!((b.context_tokens, b.estimated), (Some(8_000), true));
}

#[test]
fn rows_sql_accepts_but_the_reader_rejects_are_resolved_row_by_row() {
    let home = Home::new("oc-malformed");
    let conn = home.fixture_db();
    // output > 0 (the SQL candidate) but no cache counts: malformed, so the older row counts.
    conn.execute("UPDATE message SET data = json_set(data, '$.tokens', json('{\"input\":1,\"output\":5}')) WHERE id = 'msg_20b38e304001jAez1zIqfS653e'", [])
        .unwrap();
    conn.execute("UPDATE message SET data = json_set(data, '$.tokens.cache', 'lots') WHERE id = 'msg_20b38adbf001oGxc5PT90h2Lbu'", []).unwrap();
    drop(conn);
    let a = home.discover().sessions.into_iter().find(|s| s.session_id == A).unwrap();
    assert_eq!((a.context_tokens, a.estimated), (Some(12_042), true));
}

#[test]
fn corrupt_and_foreign_databases_are_errors_and_the_others_still_listed() {
    let mut home = Home::new("oc-corrupt");
    drop(home.fixture_db());
    std::fs::write(home.data().join("opencode-broken.db"), b"this is not a database at all, just some text that is long enough to look like a header").unwrap();
    let foreign = Connection::open(home.data().join("opencode-other.db")).unwrap();
    foreign.execute_batch("CREATE TABLE notes (x TEXT); INSERT INTO notes VALUES ('hi');").unwrap();
    drop(foreign);
    std::fs::write(home.data().join("opencode-empty.db"), b"").unwrap();
    home.set("OPENCODE_DB", "/nonexistent/opencode.db");
    let list = home.discover();
    assert_eq!(list.sessions.len(), 2);
    let message_for = |name: &str| list.errors.iter().find(|e| e.source.ends_with(name)).map(|e| e.message.clone()).unwrap_or_default();
    assert!(message_for("opencode-broken.db").contains("not an SQLite database"), "{:?}", list.errors);
    assert!(message_for("opencode-other.db").contains("unknown format"), "{:?}", list.errors);
    assert!(message_for("opencode-empty.db").contains("unknown format"), "{:?}", list.errors);
    assert!(list.errors.iter().all(|e| e.platform == Platform::Opencode));
    assert_eq!(list.errors.len(), 3);
}

#[test]
fn a_truncated_database_file_is_an_error_not_a_panic() {
    let home = Home::new("oc-truncated");
    let conn = home.fixture_db();
    conn.query_row("PRAGMA journal_mode=DELETE", [], |_| Ok(())).unwrap();
    drop(conn);
    let bytes = std::fs::read(home.db_path()).unwrap();
    std::fs::write(home.db_path(), &bytes[..bytes.len() / 3]).unwrap();
    let list = home.discover();
    // Either some rows were still reachable or the store is reported; never a panic, never silence.
    assert!(!list.errors.is_empty() || !list.sessions.is_empty());
    for s in &list.sessions {
        assert!(s.context_tokens.is_some());
    }
}

#[test]
fn bad_session_rows_are_skipped_and_counted() {
    let home = Home::new("oc-badrows");
    let conn = home.fixture_db();
    conn.execute_batch(
        "INSERT INTO session (id, project_id, slug, directory, title, version, time_created, time_updated) VALUES (NULL, 'p', 's', '/w', 't', 'v', 1, 1);
         INSERT INTO session (id, project_id, slug, directory, title, version, time_created, time_updated) VALUES ('ses_weird', 'p', 's', X'2F77FF', X'74C328', 'v', 1, 'yesterday');",
    )
    .unwrap();
    drop(conn);
    let list = home.discover();
    assert_eq!(list.errors.len(), 1);
    assert!(list.errors[0].message.contains("1 session record(s)"), "{:?}", list.errors);
    let weird = session(&list, "ses_weird");
    assert_eq!((weird.updated_at, weird.context_tokens, weird.estimated), (None, Some(8_000), true));
    assert_eq!(list.sessions.len(), 3);
}

#[test]
fn missing_columns_are_an_unknown_format() {
    let home = Home::new("oc-oldschema");
    let conn = Connection::open(home.db_path()).unwrap();
    conn.execute_batch("CREATE TABLE session (id TEXT PRIMARY KEY, name TEXT); CREATE TABLE message (id TEXT, session_id TEXT, data TEXT);").unwrap();
    drop(conn);
    let list = home.discover();
    assert!(list.sessions.is_empty());
    assert!(list.errors[0].message.contains("lacks column"), "{:?}", list.errors);
}

#[test]
fn an_older_schema_without_model_and_archive_columns_reads() {
    let home = Home::new("oc-1.2");
    let conn = Connection::open(home.db_path()).unwrap();
    conn.execute_batch(
        "CREATE TABLE session (id TEXT PRIMARY KEY, project_id TEXT, parent_id TEXT, directory TEXT NOT NULL, title TEXT NOT NULL, time_created INTEGER, time_updated INTEGER);
         CREATE TABLE message (id TEXT PRIMARY KEY, session_id TEXT, time_created INTEGER, time_updated INTEGER, data TEXT);
         CREATE INDEX message_session_idx ON message (session_id);
         INSERT INTO session VALUES ('ses_old', 'global', NULL, '/w', 'old', 1771000000000, 1771000000000);
         INSERT INTO message VALUES ('msg_1', 'ses_old', 1, 1, '{\"role\":\"assistant\",\"providerID\":\"mock\",\"modelID\":\"mock-model\",\"tokens\":{\"input\":10,\"output\":20,\"reasoning\":30,\"cache\":{\"read\":40,\"write\":50}}}');",
    )
    .unwrap();
    drop(conn);
    let list = home.discover();
    assert!(list.errors.is_empty(), "{:?}", list.errors);
    assert_eq!(session(&list, "ses_old").context_tokens, Some(150));
}

#[test]
fn a_wal_database_is_read_while_opencode_writes_and_nothing_is_changed() {
    let home = Home::new("oc-wal");
    let writer = home.fixture_db();
    writer.execute_batch("PRAGMA wal_autocheckpoint=0;").unwrap();
    // Committed but only in the WAL (no checkpoint): must be seen.
    writer
        .execute(
            &format!("INSERT INTO message VALUES ('msg_zz1', '{B}', 1795484609000, 1795484609000, '{{\"role\":\"assistant\",\"providerID\":\"mock\",\"modelID\":\"mock-model\",\"tokens\":{{\"input\":1000,\"output\":42,\"reasoning\":0,\"cache\":{{\"read\":4000,\"write\":0}}}}}}')"),
            [],
        )
        .unwrap();
    // An open write transaction: its row must not be seen, and the read must not wait for it.
    writer.execute_batch("BEGIN IMMEDIATE").unwrap();
    writer
        .execute(
            &format!("INSERT INTO message VALUES ('msg_zz2', '{B}', 1795484610000, 1795484610000, '{{\"role\":\"assistant\",\"providerID\":\"mock\",\"modelID\":\"mock-model\",\"tokens\":{{\"input\":0,\"output\":1,\"reasoning\":0,\"cache\":{{\"read\":99999,\"write\":0}}}}}}')"),
            [],
        )
        .unwrap();
    let db_before = std::fs::read(home.db_path()).unwrap();
    let list = home.discover();
    assert!(list.errors.is_empty(), "{:?}", list.errors);
    assert_eq!(session(&list, B).context_tokens, Some(5_042));
    writer.execute_batch("COMMIT").unwrap();
    assert_eq!(session(&home.discover(), B).context_tokens, Some(100_000));
    assert_eq!(std::fs::read(home.db_path()).unwrap(), db_before, "the main database file was not touched");
}

#[test]
fn a_locked_rollback_journal_database_is_reported_busy_not_waited_for() {
    let home = Home::new("oc-locked");
    let writer = home.fixture_db();
    writer.query_row("PRAGMA journal_mode=DELETE", [], |_| Ok(())).unwrap();
    writer.execute_batch("BEGIN EXCLUSIVE; UPDATE session SET title = 'x';").unwrap();
    let list = home.discover();
    assert!(list.sessions.is_empty());
    assert!(list.errors[0].message.contains("busy"), "{:?}", list.errors);
    writer.execute_batch("ROLLBACK").unwrap();
    assert_eq!(home.discover().sessions.len(), 2);
}

#[test]
fn a_database_named_by_opencode_db_is_read_and_duplicates_keep_the_newest() {
    let mut home = Home::new("oc-dbvar");
    drop(home.fixture_db());
    let elsewhere = home.tmp.join("elsewhere.db");
    std::fs::copy(home.db_path(), &elsewhere).unwrap();
    let conn = Connection::open(&elsewhere).unwrap();
    conn.execute_batch(&format!("UPDATE session SET time_updated = 1895484607381, title = 'newer copy' WHERE id = '{A}'")).unwrap();
    drop(conn);
    home.set("OPENCODE_DB", elsewhere.to_str().unwrap());
    let list = home.discover();
    assert_eq!(list.sessions.len(), 2);
    assert_eq!(session(&list, A).title.as_deref(), Some("newer copy"));
    assert_eq!(session(&list, A).source, elsewhere.display().to_string());
}

// --- legacy JSON tree (OpenCode ≤ 1.1.x), built from the layout in the reference notes ---

fn write_json(path: &Path, value: &Value) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
}

fn assistant(id: &str, session: &str, input: u64, output: u64, read: u64, extra: Value) -> Value {
    let mut m = json!({
        "id": id, "sessionID": session, "role": "assistant", "parentID": "msg_x", "mode": "build", "agent": "build",
        "path": {"cwd": "/tmp/legacy/demo", "root": "/tmp/legacy/demo"}, "cost": 0,
        "tokens": {"total": input + output + read, "input": input, "output": output, "reasoning": 0, "cache": {"write": 0, "read": read}},
        "modelID": "mock-model", "providerID": "mock", "time": {"created": 1770000000000u64, "completed": 1770000000500u64}, "finish": "stop"
    });
    if let (Some(m), Some(extra)) = (m.as_object_mut(), extra.as_object()) {
        m.extend(extra.clone());
    }
    m
}

/// The 1.1.65 scenario of the notes: 150,042 → 195,042 → auto compaction (summary 12,042) →
/// synthetic continue turn 9,042 (TUI 9,042 = 5 %), plus a subagent child session.
fn legacy_tree(storage: &Path) {
    let s = "ses_legacyA";
    write_json(&storage.join("migration"), &json!(2));
    write_json(
        &storage.join("project/proj1.json"),
        &json!({"id": "proj1", "worktree": "/tmp/legacy/demo", "vcs": "git", "sandboxes": [], "time": {"created": 1, "updated": 2}}),
    );
    write_json(
        &storage.join(format!("session/proj1/{s}.json")),
        &json!({"id": s, "slug": "brave-otter", "version": "1.1.65", "projectID": "proj1", "directory": "/tmp/legacy/demo", "title": "Legacy session",
                "permission": [], "time": {"created": 1770000000000u64, "updated": 1770000009000u64}, "summary": {"additions": 0, "deletions": 0, "files": 0}}),
    );
    write_json(
        &storage.join("session/proj1/ses_legacyChild.json"),
        &json!({"id": "ses_legacyChild", "parentID": s, "version": "1.1.65", "projectID": "proj1", "directory": "/tmp/legacy/demo", "title": "Subagent", "time": {"created": 1, "updated": 2}}),
    );
    let msgs = storage.join(format!("message/{s}"));
    write_json(&msgs.join("msg_100a.json"), &json!({"id": "msg_100a", "sessionID": s, "role": "user", "time": {"created": 1}, "summary": {"title": "hello"}}));
    write_json(&msgs.join("msg_100b.json"), &assistant("msg_100b", s, 50_000, 42, 100_000, json!({})));
    write_json(&msgs.join("msg_100c.json"), &json!({"id": "msg_100c", "sessionID": s, "role": "user", "time": {"created": 2}}));
    write_json(&msgs.join("msg_100d.json"), &assistant("msg_100d", s, 95_000, 42, 100_000, json!({})));
    write_json(&msgs.join("msg_100e.json"), &assistant("msg_100e", s, 0, 42, 12_000, json!({"mode": "compaction", "agent": "compaction", "summary": true})));
    write_json(&msgs.join("msg_100f.json"), &json!({"id": "msg_100f", "sessionID": s, "role": "user", "time": {"created": 3}}));
    write_json(&msgs.join("msg_100g.json"), &assistant("msg_100g", s, 0, 42, 9_000, json!({})));
}

#[test]
fn legacy_json_tree_is_read_with_the_tui_rule() {
    let home = Home::new("oc-legacy");
    let storage = home.data().join("storage");
    legacy_tree(&storage);
    let list = home.discover();
    assert!(list.errors.is_empty(), "{:?}", list.errors);
    assert_eq!(list.sessions.len(), 1);
    let s = &list.sessions[0];
    assert_eq!((s.context_tokens, s.context_percent.map(|p| p.round()), s.estimated), (Some(9_042), Some(5.0), false));
    assert_eq!((s.context_window, s.compact_at_tokens), (Some(200_000), Some(192_000)));
    assert_eq!(s.children, ["ses_legacyChild"]);
    assert_eq!((s.title.as_deref(), s.cwd.as_deref(), s.model.as_deref()), (Some("Legacy session"), Some("/tmp/legacy/demo"), Some("mock/mock-model")));
    assert_eq!(s.source, storage.display().to_string());
    assert_eq!(s.transcript, Some(TranscriptRef::new(StoreKind::JsonTree, storage.clone(), "ses_legacyA")));
    assert_eq!(s.updated_at.unwrap().timestamp_millis(), 1_770_000_009_000);
}

#[test]
fn half_written_and_non_utf8_legacy_files_never_give_a_wrong_exact_number() {
    let home = Home::new("oc-legacy-bad");
    let storage = home.data().join("storage");
    legacy_tree(&storage);
    let msgs = storage.join("message/ses_legacyA");
    std::fs::write(msgs.join("msg_100h.json"), br#"{"id":"msg_100h","sessionID":"ses_legacyA","role":"assistant","tokens":{"total":19"#).unwrap();
    std::fs::write(msgs.join("msg_100i.json"), b"\xff\xfe\x00garbage").unwrap();
    std::fs::write(storage.join("session/proj1/ses_halfwritten.json"), br#"{"id":"ses_half"#).unwrap();
    std::fs::write(storage.join("session/proj1/ses_latin1.json"), b"{\"id\":\"ses_latin1\",\"title\":\"caf\xe9\"}").unwrap();
    let list = home.discover();
    let s = session(&list, "ses_legacyA");
    assert_eq!((s.context_tokens, s.estimated), (Some(9_042), true));
    assert_eq!(list.sessions.len(), 1);
    assert_eq!(list.errors.len(), 1);
    assert!(list.errors[0].message.contains("2 session record(s)"), "{:?}", list.errors);
}

#[test]
fn a_session_in_both_the_json_tree_and_the_database_is_listed_once() {
    let home = Home::new("oc-both");
    drop(home.fixture_db());
    let storage = home.data().join("storage");
    legacy_tree(&storage);
    write_json(
        &storage.join(format!("session/proj1/{A}.json")),
        &json!({"id": A, "directory": "/old", "title": "old copy", "time": {"created": 1, "updated": 2}}),
    );
    let list = home.discover();
    assert_eq!(list.sessions.len(), 3);
    assert_eq!(session(&list, A).title.as_deref(), Some("Mock session title"));
}

#[test]
fn the_platform_entry_point_lists_opencode_sessions_fullest_first() {
    let home = Home::new("oc-platform");
    drop(home.fixture_db());
    let list = asm_core::platform::discover(&home.runtime(), Some(Platform::Opencode));
    let ids: Vec<&str> = list.sessions.iter().map(|s| s.session_id.as_str()).collect();
    assert_eq!(ids, [A, B]);
    let json = serde_json::to_value(&list).unwrap();
    assert_eq!(json["sessions"][0]["platform"], "opencode");
    assert_eq!(json["sessions"][0]["context_tokens"], 20_042);
    assert!(asm_core::platform::find_session(&home.runtime(), B, None).is_some());
}

#[test]
fn no_opencode_at_all_is_an_empty_list() {
    let home = Home::new("oc-none");
    std::fs::remove_dir_all(home.data()).unwrap();
    assert_eq!(home.discover(), SessionList::default());
}

#[test]
fn every_kind_of_doubtful_newer_row_is_flagged_and_harmless_ones_are_not() {
    let doubtful = [
        "[1,2]",
        "\"just a string\"",
        "{\"role\":\"assistant\"}",
        "{\"role\":\"assistant\",\"tokens\":{\"output\":\"x\"}}",
        "{\"role\":\"assistant\",\"tokens\":{\"input\":1,\"output\":-3,\"reasoning\":0,\"cache\":{\"read\":0,\"write\":0}}}",
        "{\"role\":\"assist",
    ];
    let harmless = [
        "{\"role\":\"user\",\"time\":{\"created\":1}}",
        "{\"role\":\"assistant\",\"tokens\":{\"input\":0,\"output\":0,\"reasoning\":0,\"cache\":{\"read\":0,\"write\":0}}}",
    ];
    for (data, flagged) in doubtful.iter().map(|d| (d, true)).chain(harmless.iter().map(|d| (d, false))) {
        let home = Home::new("oc-doubtful");
        let conn = home.fixture_db();
        conn.execute("INSERT INTO message VALUES ('msg_zzz', ?1, 1795484609999, 1795484609999, ?2)", [B, data]).unwrap();
        drop(conn);
        let b = home.discover().sessions.into_iter().find(|s| s.session_id == B).unwrap();
        assert_eq!((b.context_tokens, b.estimated), (Some(4_042), flagged), "newer row {data}");
    }
}

#[test]
fn rows_left_only_in_the_wal_of_a_crashed_opencode_are_read() {
    let home = Home::new("oc-crashwal");
    let writer_dir = home.tmp.join("live");
    std::fs::create_dir_all(&writer_dir).unwrap();
    let writer = asm_testkit::opencode::fixture_db(&writer_dir.join("opencode.db"));
    writer.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(())).unwrap();
    writer.execute_batch("PRAGMA wal_autocheckpoint=0;").unwrap();
    writer.execute(&format!("UPDATE session SET title = 'only in the WAL' WHERE id = '{A}'"), []).unwrap();
    // A crash leaves the database and its WAL without the shared-memory index.
    for name in ["opencode.db", "opencode.db-wal"] {
        std::fs::copy(writer_dir.join(name), home.data().join(name)).unwrap();
    }
    drop(writer);
    let list = home.discover();
    assert!(list.errors.is_empty(), "{:?}", list.errors);
    assert_eq!(session(&list, A).title.as_deref(), Some("only in the WAL"));
    assert_eq!(session(&list, A).context_tokens, Some(20_042));
}
