//! The measurement index, `<state dir>/.asm_index.sqlite`: what each transcript (or store)
//! measured last time, with the stamp it had then (size, mtime, inode; OpenCode: the session's
//! `time_updated`), so an unchanged one costs a stat instead of a read.
//!
//! SQLite (bundled rusqlite, already here for the platforms' stores) rather than a file of our
//! own: a round updates a handful of rows in one transaction instead of rewriting the whole
//! index, readers and writers from two processes are serialized by SQLite's locking, and a
//! torn write is rolled back by its journal. The index is a cache and never an authority: a
//! corrupt file, another schema, another ASM version or another measurement version is
//! dropped and rebuilt, an entry whose stamp differs is measured afresh, and a write that
//! fails (a busy or full disk) is skipped. `session_manager --list --no-index` bypasses it.

use rusqlite::{params, Connection, OpenFlags};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const FILE_NAME: &str = ".asm_index.sqlite";
/// Bump when any platform measures differently: every entry is then measured afresh.
const MEASURE_VERSION: &str = "1";

/// What a file looked like when it was measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub size: u64,
    pub mtime_ns: i64,
    pub ino: u64,
    pub dev: u64,
}

impl Stamp {
    pub fn of(meta: &std::fs::Metadata) -> Stamp {
        Stamp { size: meta.len(), mtime_ns: meta.mtime().saturating_mul(1_000_000_000).saturating_add(meta.mtime_nsec()), ino: meta.ino(), dev: meta.dev() }
    }

    /// The same file (inode and device), whatever happened to its bytes.
    pub fn same_file(&self, other: &Stamp) -> bool {
        self.ino == other.ino && self.dev == other.dev
    }
}

/// One remembered measurement: its stamp (any serializable change marker) and the result.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub stamp: String,
    pub value: String,
}

pub struct Index {
    conn: Connection,
}

impl Index {
    /// The index of this state dir, or None (logged) when it cannot be used: listing then
    /// reads everything, as with `--no-index`.
    pub fn open(rt: &crate::Runtime) -> Option<Index> {
        let path = rt.paths.state_dir.join(FILE_NAME);
        if crate::fsutil::ensure_state_dir(&rt.paths.state_dir).is_err() {
            return None;
        }
        match Index::open_at(&path) {
            Ok(index) => Some(index),
            Err(first) => {
                // Corrupt or not ours: rebuilt from nothing, never trusted.
                log::warn!("measurement index {} unusable ({first}); rebuilding it", path.display());
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(PathBuf::from(format!("{}{suffix}", path.display())));
                }
                Index::open_at(&path).map_err(|e| log::warn!("measurement index {} not used: {e}", path.display())).ok()
            }
        }
    }

    fn open_at(path: &Path) -> rusqlite::Result<Index> {
        let existed = path.exists();
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NOFOLLOW | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)?;
        if !existed {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
        conn.busy_timeout(Duration::from_secs(1))?;
        conn.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))?;
        // Mapped reads: a listing reads every row, and copying each page through read() cost more
        // than the rows' parsing.
        conn.execute_batch(
            "PRAGMA synchronous=NORMAL; PRAGMA mmap_size=268435456; CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
        )?;
        let version = format!("{}/{MEASURE_VERSION}", env!("CARGO_PKG_VERSION"));
        let stored: Option<String> = conn.query_row("SELECT value FROM meta WHERE key = 'version'", [], |r| r.get(0)).ok();
        if stored.as_deref() != Some(version.as_str()) {
            conn.execute_batch("DROP TABLE IF EXISTS entries")?;
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('version', ?1)", [&version])?;
        }
        conn.execute_batch("CREATE TABLE IF NOT EXISTS entries (platform TEXT NOT NULL, key TEXT NOT NULL, stamp TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (platform, key)) WITHOUT ROWID")?;
        // A file that is not an index of ours fails here, not later.
        conn.query_row("SELECT count(*) FROM entries", [], |_| Ok(()))?;
        Ok(Index { conn })
    }

    /// Every entry of `platform`, by key.
    pub fn entries(&self, platform: &str) -> HashMap<String, Entry> {
        let read = || -> rusqlite::Result<HashMap<String, Entry>> {
            let mut stmt = self.conn.prepare("SELECT key, stamp, value FROM entries WHERE platform = ?1")?;
            let rows = stmt.query_map([platform], |r| Ok((r.get::<_, String>(0)?, Entry { stamp: r.get(1)?, value: r.get(2)? })))?;
            rows.collect()
        };
        read().unwrap_or_else(|e| {
            log::warn!("measurement index not read ({e}); measuring afresh");
            HashMap::new()
        })
    }

    /// The entries of `platform` under these keys (one lookup each: for a listing that
    /// needs a few of many).
    pub fn entries_for(&self, platform: &str, keys: impl Iterator<Item = String>) -> HashMap<String, Entry> {
        let read = |keys: &mut dyn Iterator<Item = String>| -> rusqlite::Result<HashMap<String, Entry>> {
            let mut stmt = self.conn.prepare_cached("SELECT stamp, value FROM entries WHERE platform = ?1 AND key = ?2")?;
            let mut found = HashMap::new();
            for key in keys {
                let entry = stmt.query_row(params![platform, key], |r| Ok(Entry { stamp: r.get(0)?, value: r.get(1)? }));
                match entry {
                    Ok(entry) => drop(found.insert(key, entry)),
                    Err(rusqlite::Error::QueryReturnedNoRows) => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(found)
        };
        let mut keys = keys;
        read(&mut keys).unwrap_or_else(|e| {
            log::warn!("measurement index not read ({e}); measuring afresh");
            HashMap::new()
        })
    }

    /// Records `changed` entries of `platform`; with `keep`, the entries not in it are dropped
    /// (a transcript that is gone).
    pub fn save(&self, platform: &str, changed: &[(String, Entry)], keep: Option<&dyn Fn(&str) -> bool>) {
        let write = || -> rusqlite::Result<()> {
            let tx = self.conn.unchecked_transaction()?;
            {
                let mut upsert = tx.prepare("INSERT OR REPLACE INTO entries (platform, key, stamp, value) VALUES (?1, ?2, ?3, ?4)")?;
                for (key, entry) in changed {
                    upsert.execute(params![platform, key, entry.stamp, entry.value])?;
                }
            }
            if let Some(keep) = keep {
                let stale: Vec<String> = {
                    let mut stmt = tx.prepare("SELECT key FROM entries WHERE platform = ?1")?;
                    let keys = stmt.query_map([platform], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
                    keys.into_iter().filter(|k| !keep(k)).collect()
                };
                let mut delete = tx.prepare("DELETE FROM entries WHERE platform = ?1 AND key = ?2")?;
                for key in stale {
                    delete.execute(params![platform, key])?;
                }
            }
            tx.commit()
        };
        if let Err(e) = write() {
            log::debug!("measurement index not updated ({e}); the next run measures those again");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_a_foreign_file_is_rebuilt() {
        let dir = asm_testkit::TempDir::new("index");
        let path = dir.join(FILE_NAME);
        let index = Index::open_at(&path).unwrap();
        let e = |v: &str| Entry { stamp: "s".into(), value: v.into() };
        index.save("cc", &[("a".into(), e("1")), ("b".into(), e("2"))], None);
        assert_eq!(index.entries("cc").len(), 2);
        index.save("cc", &[("a".into(), e("3"))], Some(&|k: &str| k == "a"));
        let entries = index.entries("cc");
        assert_eq!((entries.len(), entries["a"].value.as_str()), (1, "3"), "b is gone, a updated");
        drop(index);
        std::fs::write(&path, "not a database at all, just text").unwrap();
        assert!(Index::open_at(&path).is_err(), "a foreign file is not trusted");
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::remove_file(&path);
        Index::open_at(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
