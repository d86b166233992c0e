//! The durable outbox: `.asm_outbox.jsonl` in the state dir, one JSON record per line,
//! append-only. A message is appended and fsynced (`add`) before anyone tries to send it;
//! each confirmed part (`part`) and the confirmed whole (`sent`) are appended only after the
//! other side confirmed; a message that can never be delivered is kept as `dead`. Whatever
//! happens in between (kill -9, network cut, gateway restart), the next pass finds the message
//! still pending and sends it — each message, and each part of a split message, once.
//! (One window remains, as with any sender to an API without idempotent sends: killed after
//! Telegram confirmed but before the `sent` record reached the disk, a message goes out twice.
//! The window is one fsync long.)
//!
//! Two locks: a short one around every append and every compaction (so a compaction's
//! rename never swallows a concurrent append), and a delivery lock held for a whole pass (so
//! two tools never send the same message). A torn last line (a writer killed mid-write) is
//! skipped and counted, and the next append starts on a fresh line.

use crate::fsutil::{self, FileLock, FsError};
use crate::paths::Paths;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// How many undeliverable messages compaction keeps for people to look at.
const KEEP_DEAD: usize = 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Record {
    Add {
        id: String,
        at: DateTime<Utc>,
        kind: String,
        text: String,
    },
    Part {
        id: String,
        part: usize,
        at: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message_id: Option<String>,
    },
    Sent {
        id: String,
        at: DateTime<Utc>,
        via: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message_id: Option<String>,
    },
    Dead {
        id: String,
        at: DateTime<Utc>,
        kind: String,
        text: String,
        error: String,
    },
    /// Withdrawn on purpose (a failed `--notify-test` message is not delivered hours later).
    Cancelled {
        id: String,
        at: DateTime<Utc>,
        reason: String,
    },
}

/// A message waiting for delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingMessage {
    /// The idempotency key: one per message, never reused.
    pub id: String,
    pub queued_at: DateTime<Utc>,
    pub kind: String,
    pub text: String,
    /// Parts of a split message already confirmed (they are not sent again).
    pub parts_done: usize,
}

/// A message given up on (rejected by the other side for what it is, not for where it goes).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeadMessage {
    pub id: String,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub error: String,
}

/// What the outbox holds right now.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutboxSnapshot {
    /// In the order they were queued.
    pub pending: Vec<PendingMessage>,
    pub sent: usize,
    pub dead: Vec<DeadMessage>,
    /// Messages sent, dead or withdrawn: what compaction can drop (dead beyond the last few).
    pub finished: usize,
    /// Lines that could not be read (a torn write, a hand edit); skipped.
    pub corrupt_lines: usize,
}

pub struct Outbox {
    path: PathBuf,
}

impl Outbox {
    pub fn new(path: impl Into<PathBuf>) -> Outbox {
        Outbox { path: path.into() }
    }

    pub fn at(paths: &Paths) -> Outbox {
        Outbox::new(paths.outbox_file())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sibling(&self, suffix: &str) -> PathBuf {
        let mut p = self.path.clone().into_os_string();
        p.push(suffix);
        PathBuf::from(p)
    }

    /// Queues a message durably: when this returns Ok the record is on disk.
    pub fn append_message(&self, id: &str, at: DateTime<Utc>, kind: &str, text: &str) -> Result<(), FsError> {
        self.append(&Record::Add { id: id.into(), at, kind: kind.into(), text: text.into() })
    }

    pub fn mark_part(&self, id: &str, part: usize, at: DateTime<Utc>, message_id: Option<String>) -> Result<(), FsError> {
        self.append(&Record::Part { id: id.into(), part, at, message_id })
    }

    pub fn mark_sent(&self, id: &str, at: DateTime<Utc>, via: &str, message_id: Option<String>) -> Result<(), FsError> {
        self.append(&Record::Sent { id: id.into(), at, via: via.into(), message_id })
    }

    pub fn mark_dead(&self, message: &PendingMessage, at: DateTime<Utc>, error: &str) -> Result<(), FsError> {
        self.append(&Record::Dead { id: message.id.clone(), at, kind: message.kind.clone(), text: message.text.clone(), error: error.into() })
    }

    pub fn cancel(&self, id: &str, at: DateTime<Utc>, reason: &str) -> Result<(), FsError> {
        self.append(&Record::Cancelled { id: id.into(), at, reason: reason.into() })
    }

    /// Held for a whole delivery pass; None when another process is delivering right now.
    pub fn try_lock_delivery(&self) -> Result<Option<FileLock>, FsError> {
        self.ensure_parent()?;
        FileLock::try_exclusive(&self.sibling(".deliver.lock"))
    }

    fn lock_file(&self) -> Result<FileLock, FsError> {
        self.ensure_parent()?;
        FileLock::exclusive(&self.sibling(".lock"))
    }

    fn ensure_parent(&self) -> Result<(), FsError> {
        match self.path.parent() {
            // Only a missing dir is created (private); an existing state dir is OpenClaw's and keeps its mode.
            Some(dir) if !dir.as_os_str().is_empty() => fsutil::ensure_state_dir(dir),
            _ => Ok(()),
        }
    }

    fn append(&self, record: &Record) -> Result<(), FsError> {
        let mut line = serde_json::to_string(record).map_err(|e| FsError::io("encode a record for", &self.path, e.into()))?;
        line.push('\n');
        let _lock = self.lock_file()?;
        let created = !self.path.exists();
        let mut file = fsutil::open_private(&self.path, fsutil::Access::Append)?;
        if ends_without_newline(&mut file).map_err(|e| FsError::io("read", &self.path, e))? {
            line.insert(0, '\n');
        }
        file.write_all(line.as_bytes()).map_err(|e| FsError::io("append to", &self.path, e))?;
        file.sync_data().map_err(|e| FsError::io("sync", &self.path, e))?;
        if created {
            if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                fsutil::sync_dir(dir)?;
            }
        }
        Ok(())
    }

    /// Reads the whole outbox; a missing file is an empty outbox.
    pub fn snapshot(&self) -> Result<OutboxSnapshot, FsError> {
        let _lock = self.lock_file()?;
        Ok(self.read_locked()?.0)
    }

    fn read_locked(&self) -> Result<(OutboxSnapshot, Vec<Record>, Vec<String>), FsError> {
        let text = match std::fs::read(&self.path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(FsError::io("read", &self.path, e)),
        };
        let mut records = Vec::new();
        let mut corrupt = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            match serde_json::from_str::<Record>(line) {
                Ok(r) => records.push(r),
                Err(_) => corrupt.push(line.to_string()),
            }
        }
        let mut snapshot = fold(&records);
        snapshot.corrupt_lines = corrupt.len();
        Ok((snapshot, records, corrupt))
    }

    /// Rewrites the file without delivered messages (keeping the last few dead ones). Lines
    /// that could not be read are moved to `.asm_outbox.jsonl.corrupt`, not thrown away.
    /// Returns how many records were dropped.
    pub fn compact(&self) -> Result<usize, FsError> {
        let _lock = self.lock_file()?;
        let (snapshot, records, corrupt) = self.read_locked()?;
        let pending: HashSet<&str> = snapshot.pending.iter().map(|p| p.id.as_str()).collect();
        let dead_ids: Vec<&str> = records.iter().filter_map(|r| if let Record::Dead { id, .. } = r { Some(id.as_str()) } else { None }).collect();
        let keep_dead: HashSet<&str> = dead_ids.iter().rev().take(KEEP_DEAD).copied().collect();
        let kept: Vec<&Record> = records
            .iter()
            .filter(|r| match r {
                Record::Add { id, .. } | Record::Part { id, .. } => pending.contains(id.as_str()),
                Record::Sent { .. } | Record::Cancelled { .. } => false,
                Record::Dead { id, .. } => keep_dead.contains(id.as_str()),
            })
            .collect();
        let dropped = records.len() - kept.len();
        if dropped == 0 && corrupt.is_empty() {
            return Ok(0);
        }
        if !corrupt.is_empty() {
            let aside = self.sibling(".corrupt");
            let mut f = fsutil::open_private(&aside, fsutil::Access::Append)?;
            f.write_all((corrupt.join("\n") + "\n").as_bytes()).map_err(|e| FsError::io("append to", &aside, e))?;
            f.sync_data().map_err(|e| FsError::io("sync", &aside, e))?;
        }
        let mut bytes = Vec::new();
        for r in kept {
            if let Ok(line) = serde_json::to_string(r) {
                bytes.extend_from_slice(line.as_bytes());
                bytes.push(b'\n');
            }
        }
        fsutil::write_atomic(&self.path, &bytes, 0o600)?;
        Ok(dropped)
    }
}

fn ends_without_newline(file: &mut std::fs::File) -> std::io::Result<bool> {
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(false);
    }
    file.seek(SeekFrom::Start(len - 1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

/// Replays the records into what is pending, sent and dead.
fn fold(records: &[Record]) -> OutboxSnapshot {
    let mut order: Vec<String> = Vec::new();
    let mut added: HashMap<&str, PendingMessage> = HashMap::new();
    let mut finished: HashSet<&str> = HashSet::new();
    let mut parts: HashMap<&str, usize> = HashMap::new();
    let mut snapshot = OutboxSnapshot::default();
    for r in records {
        match r {
            Record::Add { id, at, kind, text } => {
                if !added.contains_key(id.as_str()) {
                    order.push(id.clone());
                    added.insert(id, PendingMessage { id: id.clone(), queued_at: *at, kind: kind.clone(), text: text.clone(), parts_done: 0 });
                }
            }
            Record::Part { id, part, .. } => {
                let done = parts.entry(id).or_insert(0);
                *done = (*done).max(part + 1);
            }
            Record::Sent { id, .. } => {
                if finished.insert(id) {
                    snapshot.sent += 1;
                }
            }
            Record::Cancelled { id, .. } => {
                finished.insert(id);
            }
            Record::Dead { id, at, kind, error, .. } => {
                if finished.insert(id) {
                    snapshot.dead.push(DeadMessage { id: id.clone(), at: *at, kind: kind.clone(), error: error.clone() });
                }
            }
        }
    }
    snapshot.finished = finished.len();
    snapshot.pending = order
        .iter()
        .filter(|id| !finished.contains(id.as_str()))
        .filter_map(|id| added.get(id.as_str()).cloned())
        .map(|mut p| {
            p.parts_done = parts.get(p.id.as_str()).copied().unwrap_or(0);
            p
        })
        .collect();
    snapshot
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};

    fn temp_outbox(tag: &str) -> (PathBuf, Outbox) {
        let dir = std::env::temp_dir().join(format!("asm-outbox-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        (dir.clone(), Outbox::new(dir.join(".asm_outbox.jsonl")))
    }

    #[test]
    fn pending_until_sent_in_queue_order() {
        let (dir, ob) = temp_outbox("order");
        let t = ManualClock::at_epoch().now();
        for id in ["a", "b", "c"] {
            ob.append_message(id, t, "test", &format!("text {id}")).unwrap();
        }
        ob.mark_part("b", 0, t, Some("7".into())).unwrap();
        ob.mark_sent("a", t, "telegram", Some("1".into())).unwrap();
        ob.append_message("d", t, "test", "withdrawn").unwrap();
        ob.cancel("d", t, "test message not delivered").unwrap();
        let s = ob.snapshot().unwrap();
        assert_eq!(s.pending.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["b", "c"]);
        assert_eq!(s.pending[0].parts_done, 1);
        assert_eq!(s.sent, 1);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn torn_last_line_is_skipped_and_next_append_starts_fresh() {
        let (dir, ob) = temp_outbox("torn");
        let t = ManualClock::at_epoch().now();
        ob.append_message("a", t, "test", "one").unwrap();
        let mut f = std::fs::OpenOptions::new().append(true).open(ob.path()).unwrap();
        f.write_all(br#"{"op":"add","id":"b","at":"2026-"#).unwrap();
        ob.append_message("c", t, "test", "three").unwrap();
        let s = ob.snapshot().unwrap();
        assert_eq!(s.pending.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["a", "c"]);
        assert_eq!(s.corrupt_lines, 1);
        ob.compact().unwrap();
        assert_eq!(ob.snapshot().unwrap().corrupt_lines, 0);
        assert!(std::fs::read_to_string(dir.join(".asm_outbox.jsonl.corrupt")).unwrap().contains("\"id\":\"b\""));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn compaction_drops_delivered_and_keeps_pending_and_dead() {
        let (dir, ob) = temp_outbox("compact");
        let t = ManualClock::at_epoch().now();
        ob.append_message("a", t, "test", "one").unwrap();
        ob.append_message("b", t, "test", "two").unwrap();
        ob.append_message("c", t, "test", "three").unwrap();
        ob.mark_part("b", 0, t, None).unwrap();
        ob.mark_sent("a", t, "log", None).unwrap();
        let c = ob.snapshot().unwrap().pending[1].clone();
        ob.mark_dead(&c, t, "400 Bad Request: message text is empty").unwrap();
        assert_eq!(ob.compact().unwrap(), 3, "add+sent of a, add of dead c");
        let s = ob.snapshot().unwrap();
        assert_eq!(s.pending.len(), 1);
        assert_eq!(s.pending[0].parts_done, 1);
        assert_eq!(s.dead.len(), 1);
        assert_eq!(ob.compact().unwrap(), 0);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn delivery_lock_is_exclusive() {
        let (dir, ob) = temp_outbox("lock");
        let held = ob.try_lock_delivery().unwrap();
        assert!(held.is_some());
        // flock locks are per open file description: a second open in the same process conflicts too.
        assert!(ob.try_lock_delivery().unwrap().is_none());
        drop(held);
        assert!(ob.try_lock_delivery().unwrap().is_some());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
