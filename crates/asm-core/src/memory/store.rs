//! The memory store: `<state dir>/.session_memory/<session_id>.json`, one file per session,
//! mode 0600 in a 0700 directory, each replaced atomically (a crash or a full disk leaves the
//! old file as it was). Writers take one lock for the whole store, so concurrent extractions
//! of the same session serialize, and linking a new session to the one it continues (same
//! OpenClaw key, or same working directory) sees a consistent store.

use super::{handoff, MemoryError, MemoryRecord, Origin};
use crate::fsutil::{ensure_dir, write_atomic, FileLock, FsError};
use crate::session::Platform;
use crate::Runtime;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// How many earlier sessions a chain remembers.
pub const CHAIN_MAX: usize = 100;
const LOCK_FILE: &str = ".memory.lock";

/// Session ids become file names: only letters, digits, `.`, `_`, `-`; not starting with a dot.
pub fn validate_session_id(id: &str) -> Result<(), MemoryError> {
    let ok = !id.is_empty() && id.len() <= 128 && !id.starts_with('.') && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(MemoryError::BadSessionId(id.chars().take(200).collect()))
    }
}

/// One line of `--action list`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemoryEntry {
    pub session_id: String,
    pub platform: Option<Platform>,
    pub key: Option<String>,
    pub cwd: Option<String>,
    pub extracted_at: Option<DateTime<Utc>>,
    pub age_seconds: Option<i64>,
    pub size_bytes: u64,
    pub previous_session_id: Option<String>,
    pub summary_source: Option<String>,
    /// Set when the file could not be read as a memory record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PruneReport {
    pub removed: Vec<String>,
    pub kept: usize,
}

/// A memory file as found on disk: its record or why it does not parse, path, size.
type ScannedFile = (Result<MemoryRecord, MemoryError>, PathBuf, u64);

pub struct MemoryStore {
    dir: PathBuf,
    handoff_max_bytes: usize,
}

impl MemoryStore {
    pub fn new(rt: &Runtime) -> Self {
        Self::at(rt.paths.memory_dir(), rt.config.handoff_max_bytes)
    }

    pub fn at(dir: impl Into<PathBuf>, handoff_max_bytes: usize) -> Self {
        MemoryStore { dir: dir.into(), handoff_max_bytes }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn handoff_max_bytes(&self) -> usize {
        self.handoff_max_bytes
    }

    pub fn path_of(&self, session_id: &str) -> Result<PathBuf, MemoryError> {
        validate_session_id(session_id)?;
        Ok(self.dir.join(format!("{session_id}.json")))
    }

    /// Writes `record`. A re-extraction of the same session keeps what the earlier one
    /// established (chain, first extraction time, where the handoff went); a switch of a
    /// session whose earlier handoff was already given (an OpenClaw topic reset under the same
    /// session id) keeps the earlier memory as `<id>.g<N>.json` and continues its chain; a
    /// first extraction links to the memory it continues. Returns what was written.
    pub fn save(&self, mut record: MemoryRecord) -> Result<MemoryRecord, MemoryError> {
        let path = self.path_of(&record.session_id)?;
        ensure_dir(&self.dir)?;
        let _lock = FileLock::exclusive(&self.dir.join(LOCK_FILE))?;
        crate::fsutil::sweep_stale_temp_files(&self.dir);
        let existing = match self.read_existing(&path) {
            Err(MemoryError::Corrupt { message, .. }) => {
                let aside = move_aside(&path)?;
                log::warn!("memory file {} was unreadable ({message}); moved aside to {}", path.display(), aside.display());
                None
            }
            other => other?,
        };
        match existing {
            Some(old) if record.origin == Origin::Switch && old.injected_into.is_some() => {
                let archived = self.dir.join(format!("{}.json", old.memory_id()));
                std::fs::rename(&path, &archived).map_err(|e| FsError::io("keep the earlier memory as", &archived, e))?;
                crate::fsutil::sync_dir(&self.dir)?;
                record.generation = old.generation + 1;
                record.previous_session_id = Some(old.session_id.clone());
                record.previous_memory_id = Some(old.memory_id());
                record.chain = extended(&old.chain, old.memory_id(), &record.memory_id());
            }
            Some(old) => {
                record.generation = old.generation;
                record.previous_session_id = old.previous_session_id;
                record.previous_memory_id = old.previous_memory_id;
                record.chain = old.chain;
                record.first_extracted_at = old.first_extracted_at;
                record.injected_into = old.injected_into;
                record.injected_at = old.injected_at;
                record.handed_via = old.handed_via;
                // A compaction does not cancel a handoff that still waits for its new session.
                if record.origin == Origin::PreCompact && old.origin != Origin::PreCompact {
                    record.origin = old.origin;
                }
            }
            None => self.link_to_predecessor(&mut record)?,
        }
        record.handoff = handoff::render(&record, self.handoff_max_bytes);
        self.write(&path, &record)
    }

    /// Marks the handoff of `session_id`'s memory as given to `into`, by `via`.
    pub fn mark_handed(&self, session_id: &str, into: &str, via: &str, now: DateTime<Utc>) -> Result<MemoryRecord, MemoryError> {
        let path = self.path_of(session_id)?;
        let _lock = FileLock::exclusive(&self.dir.join(LOCK_FILE))?;
        let mut record = self.read_existing(&path)?.ok_or_else(|| MemoryError::NotFound(session_id.to_string()))?;
        record.injected_into = Some(into.to_string());
        record.injected_at = Some(now);
        record.handed_via = Some(via.to_string());
        self.write(&path, &record)
    }

    /// Marks the handoff of `session_id` as given to `into` by the SessionStart hook.
    pub fn mark_injected(&self, session_id: &str, into: &str, now: DateTime<Utc>) -> Result<MemoryRecord, MemoryError> {
        self.mark_handed(session_id, into, "hook", now)
    }

    /// Notes that the key information was given back to the session after its compaction.
    pub fn mark_compact_context_given(&self, session_id: &str, now: DateTime<Utc>) -> Result<(), MemoryError> {
        let path = self.path_of(session_id)?;
        let _lock = FileLock::exclusive(&self.dir.join(LOCK_FILE))?;
        if let Some(mut record) = self.read_existing(&path)? {
            record.compact_context_at = Some(now);
            self.write(&path, &record)?;
        }
        Ok(())
    }

    /// Takes a handoff back (a continuation that failed leaves it for the next session).
    pub fn unmark_handed(&self, session_id: &str) -> Result<(), MemoryError> {
        let path = self.path_of(session_id)?;
        let _lock = FileLock::exclusive(&self.dir.join(LOCK_FILE))?;
        if let Some(mut record) = self.read_existing(&path)? {
            record.injected_into = None;
            record.injected_at = None;
            record.handed_via = None;
            self.write(&path, &record)?;
        }
        Ok(())
    }

    /// A memory by its id: `<session_id>.g<N>` (an earlier switch's file, or the current file
    /// when it is that generation) or a plain session id (its current memory).
    pub fn load_memory(&self, memory_id: &str) -> Result<MemoryRecord, MemoryError> {
        let path = self.path_of(memory_id)?;
        if let Some(record) = self.read_existing(&path)? {
            return Ok(record);
        }
        if let Some((session_id, generation)) = split_memory_id(memory_id) {
            let current = self.load(session_id)?;
            if current.generation == generation {
                return Ok(current);
            }
        }
        Err(MemoryError::NotFound(memory_id.to_string()))
    }

    /// The line a memory belongs to, oldest first, ending with `last`.
    pub fn lineage(&self, last: MemoryRecord) -> Vec<Result<MemoryRecord, (String, MemoryError)>> {
        let mut line: Vec<Result<MemoryRecord, (String, MemoryError)>> =
            last.chain.iter().map(|id| self.load_memory(id).map_err(|e| (id.clone(), e))).collect();
        line.push(Ok(last));
        line
    }

    fn write(&self, path: &Path, record: &MemoryRecord) -> Result<MemoryRecord, MemoryError> {
        let write_error = |message: String| MemoryError::Write { path: path.to_path_buf(), message };
        let mut value = serde_json::to_value(record).map_err(|e| write_error(e.to_string()))?;
        crate::redact::redact_json(&mut value);
        let mut bytes = serde_json::to_vec_pretty(&value).map_err(|e| write_error(e.to_string()))?;
        bytes.push(b'\n');
        write_atomic(path, &bytes, 0o600).map_err(|e| write_error(describe_fs_error(&e)))?;
        serde_json::from_value(value).map_err(|e| write_error(e.to_string()))
    }

    /// The session ids that have a memory here (from the file names; earlier switches'
    /// `<id>.g<N>.json` are not sessions of their own).
    pub fn session_ids(&self) -> Result<Vec<String>, MemoryError> {
        let stems: Vec<String> = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(".json")).filter(|s| !s.starts_with('.')).map(str::to_string))
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(FsError::io("list", &self.dir, e).into()),
        };
        let archive_of = |stem: &str| split_memory_id(stem).is_some_and(|(sid, _)| stems.iter().any(|s| s == sid));
        let mut ids: Vec<String> = stems.iter().filter(|s| !archive_of(s)).cloned().collect();
        ids.sort();
        Ok(ids)
    }

    /// The stored session a person means: its full id, or a prefix of it that no other
    /// stored session shares.
    pub fn resolve(&self, query: &str) -> Result<String, MemoryError> {
        validate_session_id(query)?;
        let ids = self.session_ids()?;
        if ids.iter().any(|id| id == query) {
            return Ok(query.to_string());
        }
        let mut matches: Vec<String> = ids.into_iter().filter(|id| !query.is_empty() && id.starts_with(query)).collect();
        match matches.len() {
            0 => Err(MemoryError::NotFound(query.to_string())),
            1 => Ok(matches.remove(0)),
            _ => Err(MemoryError::Ambiguous { query: query.to_string(), matches }),
        }
    }

    /// The stored record of a session.
    pub fn load(&self, session_id: &str) -> Result<MemoryRecord, MemoryError> {
        let path = self.path_of(session_id)?;
        self.read_existing(&path)?.ok_or_else(|| MemoryError::NotFound(session_id.to_string()))
    }

    /// The handoff of a session's memory, read on its own: a file from another ASM version
    /// still has one even when its other fields differ.
    pub fn handoff_of(&self, session_id: &str) -> Result<String, MemoryError> {
        #[derive(serde::Deserialize)]
        struct HandoffOnly {
            #[serde(default)]
            handoff: String,
        }
        let path = self.path_of(session_id)?;
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(MemoryError::NotFound(session_id.to_string())),
            Err(e) => return Err(FsError::io("read", &path, e).into()),
        };
        let doc: HandoffOnly = serde_json::from_slice(&bytes).map_err(|e| MemoryError::Corrupt { path: path.clone(), message: e.to_string() })?;
        Ok(doc.handoff)
    }

    fn read_existing(&self, path: &Path) -> Result<Option<MemoryRecord>, MemoryError> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(FsError::io("read", path, e).into()),
        };
        serde_json::from_slice(&bytes).map(Some).map_err(|e| MemoryError::Corrupt { path: path.to_path_buf(), message: e.to_string() })
    }

    /// Every memory file: its record (or why it does not parse), path and size.
    fn scan(&self) -> Result<Vec<ScannedFile>, MemoryError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(FsError::io("list", &self.dir, e).into()),
        };
        let mut out = Vec::new();
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !name.ends_with(".json") {
                continue;
            }
            let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
            let parsed = std::fs::read(&path)
                .map_err(|e| MemoryError::Fs(FsError::io("read", &path, e)))
                .and_then(|b| serde_json::from_slice::<MemoryRecord>(&b).map_err(|e| MemoryError::Corrupt { path: path.clone(), message: e.to_string() }));
            out.push((parsed, path, size));
        }
        Ok(out)
    }

    fn records(&self) -> Result<Vec<MemoryRecord>, MemoryError> {
        let mut records: Vec<MemoryRecord> = self.scan()?.into_iter().filter_map(|(r, _, _)| r.ok()).collect();
        records.sort_by(|a, b| b.extracted_at.cmp(&a.extracted_at).then_with(|| a.session_id.cmp(&b.session_id)));
        Ok(records)
    }

    /// Links a first extraction to the memory it continues: the one whose handoff was given
    /// to this very session, else the newest of the same line (same OpenClaw key, else same
    /// working directory, same platform).
    fn link_to_predecessor(&self, record: &mut MemoryRecord) -> Result<(), MemoryError> {
        let records = self.records()?;
        let handed_here = records.iter().find(|other| other.injected_into.as_deref() == Some(record.session_id.as_str()));
        let same_line = |other: &&MemoryRecord| -> bool {
            other.session_id != record.session_id
                && other.platform == record.platform
                && match (&record.key, &record.cwd) {
                    (Some(key), _) => other.key.as_ref() == Some(key),
                    (None, Some(cwd)) => other.key.is_none() && other.cwd.as_ref() == Some(cwd),
                    (None, None) => false,
                }
        };
        if let Some(prev) = handed_here.or_else(|| records.iter().find(same_line)) {
            record.previous_session_id = Some(prev.session_id.clone());
            record.previous_memory_id = Some(prev.memory_id());
            record.chain = extended(&prev.chain, prev.memory_id(), &record.memory_id());
        }
        Ok(())
    }

    /// Stored memories, newest first.
    pub fn list(&self, now: DateTime<Utc>) -> Result<Vec<MemoryEntry>, MemoryError> {
        let mut entries: Vec<MemoryEntry> = self
            .scan()?
            .into_iter()
            .map(|(parsed, path, size)| {
                let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                match parsed {
                    Ok(r) => MemoryEntry {
                        session_id: r.session_id,
                        platform: Some(r.platform),
                        key: r.key,
                        cwd: r.cwd,
                        extracted_at: Some(r.extracted_at),
                        age_seconds: Some((now - r.extracted_at).num_seconds()),
                        size_bytes: size,
                        previous_session_id: r.previous_session_id,
                        summary_source: Some(r.summary.source),
                        error: None,
                    },
                    Err(message) => MemoryEntry {
                        session_id: stem,
                        platform: None,
                        key: None,
                        cwd: None,
                        extracted_at: None,
                        age_seconds: None,
                        size_bytes: size,
                        previous_session_id: None,
                        summary_source: None,
                        error: Some(message.to_string()),
                    },
                }
            })
            .collect();
        entries.sort_by(|a, b| b.extracted_at.cmp(&a.extracted_at).then_with(|| a.session_id.cmp(&b.session_id)));
        Ok(entries)
    }

    /// The newest memory of an OpenClaw key (topic).
    pub fn latest_for_key(&self, key: &str) -> Result<Option<MemoryRecord>, MemoryError> {
        Ok(self.records()?.into_iter().find(|r| r.key.as_deref() == Some(key)))
    }

    /// The newest memory of a Claude Code / OpenCode working directory (trailing slashes ignored).
    pub fn latest_for_cwd(&self, cwd: &str) -> Result<Option<MemoryRecord>, MemoryError> {
        let want = cwd.trim_end_matches('/');
        Ok(self.records()?.into_iter().find(|r| r.key.is_none() && r.cwd.as_deref().map(|c| c.trim_end_matches('/')) == Some(want)))
    }

    /// The handoff waiting for a new `platform` session started in `cwd`: a pending memory of
    /// that directory or of its nearest ancestor that has one, up to `top` (the git top level),
    /// not older than `max_age`, not the session's own.
    pub fn pending_for(
        &self,
        platform: Platform,
        cwd: &Path,
        top: Option<&Path>,
        session_id: &str,
        max_age: chrono::Duration,
        now: DateTime<Utc>,
    ) -> Result<Option<MemoryRecord>, MemoryError> {
        let records = self.records()?;
        for dir in cwd.ancestors() {
            let here = dir.to_string_lossy();
            let here = here.trim_end_matches('/');
            let found = records.iter().find(|r| {
                r.platform == platform
                    && r.key.is_none()
                    && r.cwd.as_deref().map(|c| c.trim_end_matches('/')) == Some(here)
                    && r.session_id != session_id
                    && r.handoff_pending()
                    && now - r.extracted_at <= max_age
            });
            if let Some(r) = found {
                return Ok(Some(r.clone()));
            }
            if top.is_none_or(|t| dir == t) {
                break;
            }
        }
        Ok(None)
    }

    /// Removes memories extracted more than `days` days before `now`. Unreadable files are
    /// kept (they are evidence, not garbage).
    pub fn prune(&self, days: u64, now: DateTime<Utc>) -> Result<PruneReport, MemoryError> {
        let cutoff = now - chrono::Duration::days(days.min(365_000) as i64);
        let _lock = if self.dir.is_dir() { Some(FileLock::exclusive(&self.dir.join(LOCK_FILE))?) } else { None };
        let mut report = PruneReport::default();
        for (parsed, path, _) in self.scan()? {
            match parsed {
                Ok(r) if r.extracted_at < cutoff => {
                    std::fs::remove_file(&path).map_err(|e| FsError::io("remove", &path, e))?;
                    report.removed.push(r.session_id);
                }
                _ => report.kept += 1,
            }
        }
        report.removed.sort();
        Ok(report)
    }
}

/// `chain` + `previous`, without `own`, at most [`CHAIN_MAX`] long (the newest kept).
fn extended(chain: &[String], previous: String, own: &str) -> Vec<String> {
    let mut chain: Vec<String> = chain.iter().filter(|id| id.as_str() != own).cloned().collect();
    chain.push(previous);
    let excess = chain.len().saturating_sub(CHAIN_MAX);
    chain.drain(..excess);
    chain
}

/// `<session_id>.g<N>` into its parts.
fn split_memory_id(memory_id: &str) -> Option<(&str, u32)> {
    let (session_id, generation) = memory_id.rsplit_once(".g")?;
    Some((session_id, generation.parse().ok()?))
}

/// Keeps an unreadable memory file next to the store as `<name>.corrupt-<time>` (not listed).
fn move_aside(path: &Path) -> Result<PathBuf, MemoryError> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let aside = path.with_file_name(format!("{name}.corrupt-{}", Utc::now().format("%Y%m%dT%H%M%S%.3fZ")));
    std::fs::rename(path, &aside).map_err(|e| FsError::io("move aside", path, e))?;
    Ok(aside)
}

fn describe_fs_error(e: &FsError) -> String {
    let FsError::Io { source, .. } = e else { return e.to_string() };
    use nix::errno::Errno;
    match source.raw_os_error().map(Errno::from_raw) {
        Some(Errno::ENOSPC | Errno::EDQUOT) => format!("the disk is full ({e})"),
        Some(Errno::EFBIG) => format!("the file size limit was reached ({e})"),
        _ => e.to_string(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::memory::{ContextSnapshot, ReadStats, Sections, SummaryInfo, SCHEMA_VERSION};
    use std::os::unix::fs::PermissionsExt;

    pub(crate) fn record(id: &str, key: Option<&str>, cwd: Option<&str>, at: DateTime<Utc>) -> MemoryRecord {
        MemoryRecord {
            schema_version: SCHEMA_VERSION,
            session_id: id.into(),
            platform: if key.is_some() { Platform::Openclaw } else { Platform::ClaudeCode },
            key: key.map(str::to_string),
            cwd: cwd.map(str::to_string),
            model: None,
            context: ContextSnapshot::default(),
            extracted_at: at,
            first_extracted_at: at,
            origin: crate::memory::Origin::Manual,
            generation: 1,
            previous_session_id: None,
            previous_memory_id: None,
            chain: vec![],
            summary: SummaryInfo { mode: "extract".into(), source: "extract".into(), fallback_reason: None },
            sections: Sections { goal: Some(format!("goal of {id}")), ..Sections::default() },
            fidelity: crate::memory::Fidelity::current(),
            handoff: String::new(),
            read_stats: ReadStats::default(),
            injected_into: None,
            injected_at: None,
            handed_via: None,
            compact_context_at: None,
            context_engine: None,
        }
    }

    #[test]
    fn bad_ids_are_rejected_before_touching_the_disk() {
        let dir = asm_testkit::TempDir::new("mem-ids");
        let store = MemoryStore::at(dir.join("m"), 6000);
        for bad in ["", "../etc/passwd", "a/b", ".hidden", "..", "x\0y", "a b", &"x".repeat(129)] {
            let err = store.path_of(bad).unwrap_err();
            assert!(matches!(err, MemoryError::BadSessionId(_)), "{bad:?}");
            assert!(err.to_string().contains("not usable as a memory file name"));
        }
        assert!(store.save(record("../escape", None, None, Utc::now())).is_err());
        assert!(!dir.join("m").exists() && !dir.join("escape.json").exists());
        for good in ["ffa9427d-db56-443c-b8a2-7aaf5ba49ae3", "ses_df4c7636affe5zEnkBDHC7yhTL", "a.b_c-d"] {
            assert!(store.path_of(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn temp_files_of_killed_writers_are_swept_and_a_planted_dir_link_is_refused() {
        let dir = asm_testkit::TempDir::new("mem-sweep");
        let store = MemoryStore::at(dir.join("m"), 6000);
        std::fs::create_dir_all(store.dir()).unwrap();
        let mut gone = std::process::Command::new("true").spawn().unwrap();
        let pid = gone.id();
        gone.wait().unwrap();
        let stale = store.dir().join(format!(".s.json.tmp.{pid}.7"));
        std::fs::write(&stale, "half").unwrap();
        store.save(record("s", None, None, Utc::now())).unwrap();
        assert!(!stale.exists(), "the killed writer's temp file is gone");

        let shared = dir.join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::symlink(&shared, dir.join("planted")).unwrap();
        let planted = MemoryStore::at(dir.join("planted"), 6000);
        let err = planted.save(record("s", None, None, Utc::now())).unwrap_err().to_string();
        assert!(err.contains("symbolic link"), "{err}");
        assert_eq!(std::fs::read_dir(&shared).unwrap().count(), 0, "nothing written through the link");
        assert_eq!(std::fs::metadata(&shared).unwrap().permissions().mode() & 0o777, 0o755, "its mode untouched");
    }

    #[test]
    fn save_is_private_keeps_the_chain_and_links_successors() {
        let dir = asm_testkit::TempDir::new("mem-chain");
        let store = MemoryStore::at(dir.join(".session_memory"), 6000);
        let t0 = Utc::now() - chrono::Duration::hours(3);
        let topic = "agent:main:telegram:group:-100123:topic:466";
        let key = Some(topic);
        store.save(record("a", key, None, t0)).unwrap();
        let b = store.save(record("b", key, None, t0 + chrono::Duration::hours(1))).unwrap();
        assert_eq!(b.previous_session_id.as_deref(), Some("a"));
        let c = store.save(record("c", key, None, t0 + chrono::Duration::hours(2))).unwrap();
        assert_eq!(c.chain, ["a.g1", "b.g1"], "the chain names memories");
        assert!(c.handoff.contains("continues b.g1"), "{}", c.handoff);
        // Extracting b again keeps its link even though c is now the newest of the key.
        let b2 = store.save(record("b", key, None, Utc::now())).unwrap();
        assert_eq!(b2.previous_session_id.as_deref(), Some("a"));
        assert_eq!(b2.first_extracted_at, b.first_extracted_at);
        // Other lines are not linked.
        let other = store.save(record("x", None, Some("/w"), Utc::now())).unwrap();
        assert_eq!(other.previous_session_id, None);
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(store.dir()), 0o700);
        assert_eq!(mode(&store.path_of("a").unwrap()), 0o600);
        assert_eq!(store.latest_for_key(topic).unwrap().unwrap().session_id, "b");
        assert_eq!(store.latest_for_cwd("/w/").unwrap().unwrap().session_id, "x");
        let listed: Vec<String> = store.list(Utc::now()).unwrap().into_iter().map(|e| e.session_id).collect();
        assert_eq!(listed, ["x", "b", "c", "a"]);
    }

    #[test]
    fn concurrent_saves_of_one_session_leave_one_whole_file() {
        let dir = asm_testkit::TempDir::new("mem-concurrent");
        let store_dir = dir.join("m");
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let store_dir = store_dir.clone();
                std::thread::spawn(move || {
                    let store = MemoryStore::at(store_dir, 6000);
                    let mut r = record("same", None, Some("/w"), Utc::now());
                    r.sections.goal = Some(format!("writer {i}"));
                    store.save(r).unwrap();
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        let store = MemoryStore::at(&store_dir, 6000);
        let stored = store.load("same").unwrap();
        assert!(stored.sections.goal.unwrap().starts_with("writer "));
        let names: Vec<String> = std::fs::read_dir(&store_dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        assert_eq!(names.iter().filter(|n| !n.starts_with(".memory.lock")).count(), 1, "no temp files left: {names:?}");
    }

    #[test]
    fn a_corrupt_memory_file_is_moved_aside_not_lost() {
        let dir = asm_testkit::TempDir::new("mem-corrupt");
        let store = MemoryStore::at(dir.join("m"), 6000);
        std::fs::create_dir_all(store.dir()).unwrap();
        std::fs::write(store.path_of("s").unwrap(), b"{half a file").unwrap();
        assert!(matches!(store.load("s"), Err(MemoryError::Corrupt { .. })));
        store.save(record("s", None, Some("/w"), Utc::now())).unwrap();
        assert_eq!(store.load("s").unwrap().session_id, "s");
        let aside: Vec<_> =
            std::fs::read_dir(store.dir()).unwrap().filter_map(|e| e.ok()).filter(|e| e.file_name().to_string_lossy().starts_with("s.json.corrupt-")).collect();
        assert_eq!(aside.len(), 1);
        assert_eq!(std::fs::read(aside[0].path()).unwrap(), b"{half a file");
    }

    #[test]
    fn prune_removes_old_records_and_keeps_unreadable_files() {
        let dir = asm_testkit::TempDir::new("mem-prune");
        let store = MemoryStore::at(dir.join("m"), 6000);
        let now = Utc::now();
        store.save(record("old", None, Some("/w"), now - chrono::Duration::days(10))).unwrap();
        store.save(record("new", None, Some("/w"), now - chrono::Duration::days(1))).unwrap();
        std::fs::write(store.dir().join("broken.json"), b"{").unwrap();
        let report = store.prune(7, now).unwrap();
        assert_eq!(report.removed, ["old"]);
        assert_eq!(report.kept, 2);
        let listed = store.list(now).unwrap();
        assert!(listed.iter().any(|e| e.session_id == "broken" && e.error.is_some()));
    }

    /// Runs in a child process whose file-size limit makes every write fail, the way a full
    /// disk does; the parent checks the error and that the old file is untouched.
    #[test]
    fn full_disk_gives_a_clear_error_and_keeps_the_old_file() {
        let dir = asm_testkit::TempDir::new("mem-full");
        let store_dir = dir.join("m");
        if let Ok(child_dir) = std::env::var("ASM_TEST_FULL_DISK_DIR") {
            let store = MemoryStore::at(child_dir, 6000);
            let mut r = record("s", None, Some("/w"), Utc::now());
            r.sections.goal = Some("new goal ".repeat(200));
            let err = store.save(r).unwrap_err();
            println!("CHILD-ERROR: {err}");
            return;
        }
        let store = MemoryStore::at(&store_dir, 6000);
        store.save(record("s", None, Some("/w"), Utc::now())).unwrap();
        let before = std::fs::read(store.path_of("s").unwrap()).unwrap();
        let exe = std::env::current_exe().unwrap();
        let mut cmd = std::process::Command::new(exe);
        cmd.args(["--exact", "memory::store::tests::full_disk_gives_a_clear_error_and_keeps_the_old_file", "--nocapture", "--test-threads=1"]);
        cmd.env("ASM_TEST_FULL_DISK_DIR", &store_dir);
        let limit = before.len() as u64 / 2;
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            use std::os::unix::process::CommandExt;
            cmd.pre_exec(move || {
                use nix::sys::resource::{setrlimit, Resource};
                use nix::sys::signal::{signal, SigHandler, Signal};
                signal(Signal::SIGXFSZ, SigHandler::SigIgn).map_err(std::io::Error::from)?;
                setrlimit(Resource::RLIMIT_FSIZE, limit, limit).map_err(std::io::Error::from)?;
                Ok(())
            });
        }
        let out = cmd.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        let line = stdout.lines().find(|l| l.contains("CHILD-ERROR: ")).unwrap_or_else(|| panic!("child did not run the save: {stdout}"));
        assert!(line.contains("cannot write memory file") && line.contains("s.json") && line.contains("unchanged"), "{line}");
        assert_eq!(std::fs::read(store.path_of("s").unwrap()).unwrap(), before, "old file intact");
        let leftovers = std::fs::read_dir(&store_dir).unwrap().filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().contains(".tmp.")).count();
        assert_eq!(leftovers, 0);
    }

    #[test]
    fn a_session_switched_twice_under_the_same_id_keeps_both_memories_in_one_chain() {
        let dir = asm_testkit::TempDir::new("mem-generations");
        let store = MemoryStore::at(dir.join(".session_memory"), 6000);
        let key = Some("agent:main:telegram:group:-100123:topic:466");
        let mut first = record("s", key, None, Utc::now());
        first.origin = Origin::Switch;
        first.sections.goal = Some("first topic goal".into());
        store.save(first).unwrap();
        // Before the handoff is given, a new extraction is the same switch: overwritten in place.
        let mut again = record("s", key, None, Utc::now());
        again.origin = Origin::Switch;
        again.sections.goal = Some("first topic goal".into());
        assert_eq!(store.save(again).unwrap().generation, 1);
        store.mark_handed("s", "s", "seed", Utc::now()).unwrap();
        let mut second = record("s", key, None, Utc::now());
        second.origin = Origin::Switch;
        second.sections.goal = Some("second topic goal".into());
        let second = store.save(second).unwrap();
        assert_eq!((second.generation, second.previous_memory_id.as_deref(), second.chain.clone()), (2, Some("s.g1"), vec!["s.g1".to_string()]));
        assert!(second.handoff.contains("(asm-handoff s.g2)") && !second.handoff.contains("first topic goal"), "{}", second.handoff);
        let kept = store.load_memory("s.g1").unwrap();
        assert_eq!((kept.generation, kept.sections.goal.as_deref(), kept.injected_into.as_deref()), (1, Some("first topic goal"), Some("s")));
        assert_eq!(store.load_memory("s.g2").unwrap().generation, 2, "the current file answers to its id too");
        assert_eq!(store.session_ids().unwrap(), ["s"], "an earlier switch's file is not a session of its own");
        let line: Vec<String> = store.lineage(store.load("s").unwrap()).into_iter().map(|r| r.unwrap().memory_id()).collect();
        assert_eq!(line, ["s.g1", "s.g2"]);
    }
}
