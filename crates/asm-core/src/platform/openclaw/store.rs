//! What reading one store yields, whichever its kind: the session rows it held and the rows
//! it had to skip, or why it could not be read at all.

use super::model::SessionEntry;
use std::path::PathBuf;
use thiserror::Error;

/// One session row: its key, the entry, and the session id it currently points at.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub key: String,
    pub session_id: String,
    pub entry: SessionEntry,
}

/// The rows read from one store; `skipped` says which rows were unreadable and why.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoreRead {
    pub rows: Vec<Row>,
    pub skipped: Vec<String>,
}

impl StoreRead {
    /// Adds a row whose entry parsed; a row without any session id is skipped, not guessed.
    pub fn push(&mut self, key: String, entry: SessionEntry, fallback_session_id: Option<String>) {
        match entry.session_id.clone().or(fallback_session_id) {
            Some(session_id) => self.rows.push(Row { key, session_id, entry }),
            None => self.skipped.push(format!("{key}: no sessionId")),
        }
    }

    /// One line for people: how many rows were skipped, and the first reason.
    pub fn skipped_summary(&self) -> Option<String> {
        let first = self.skipped.first()?;
        let total = self.skipped.len() + self.rows.len();
        Some(format!("skipped {} of {} session rows that could not be read (first: {first})", self.skipped.len(), total))
    }
}

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("cannot read {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{} is not a readable SQLite database: {detail}", path.display())]
    Database { path: PathBuf, detail: String },
    #[error("{} is locked by another process (still busy after a retry); it will be read next time", path.display())]
    Locked { path: PathBuf },
    #[error("{} has a format this version does not know: {detail}", path.display())]
    UnknownFormat { path: PathBuf, detail: String },
}
