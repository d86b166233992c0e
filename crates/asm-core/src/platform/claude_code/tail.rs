//! Reading a JSONL transcript without reading all of it: lines from the end backwards in
//! chunks (the context meter only needs the last response), and the first few lines from the
//! start (title, cwd). The cost depends on how far back the answer is, never on file size.
//! Lines longer than [`MAX_LINE`] are skipped without being held in memory.

use memchr::memrchr;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// First read from the end; most transcripts have their last response within it.
const FIRST_CHUNK: usize = 32 * 1024;
/// How much of the start of a file is read for the title and cwd: a first small read, and a
/// larger one when the first prompt is further down.
pub const HEAD_READS: [usize; 2] = [4 * 1024, 64 * 1024];
/// A line longer than this is skipped (and reported as such) rather than buffered.
pub const MAX_LINE: usize = 64 * 1024 * 1024;

/// One line from the end, or the fact that a line too long to hold was passed over.
#[derive(Debug, PartialEq, Eq)]
pub enum TailLine<'a> {
    Line(&'a [u8]),
    Oversized { bytes: u64 },
}

/// Yields the lines of a file from last to first. Empty lines are skipped.
pub struct ReverseLines<'f> {
    file: &'f File,
    /// File offset of `buf[0]`.
    buf_start: u64,
    /// Where the file is treated as starting (the end of what was read before, for a file
    /// that only grew since).
    floor: u64,
    /// Bytes `[buf_start, buf_start + buf.len())` of the file, not yet yielded.
    buf: Vec<u8>,
    /// Length to cut `buf` to before the next search (the line handed out last).
    pending_cut: Option<usize>,
    max_line: usize,
}

impl<'f> ReverseLines<'f> {
    pub fn with_limit(file: &'f File, len: u64, max_line: usize) -> ReverseLines<'f> {
        ReverseLines::between(file, 0, len, max_line)
    }

    /// The lines of bytes `[floor, len)` only; `floor` must be a line start.
    pub fn between(file: &'f File, floor: u64, len: u64, max_line: usize) -> ReverseLines<'f> {
        ReverseLines { file, buf_start: len, floor: floor.min(len), buf: Vec::new(), pending_cut: None, max_line }
    }

    /// File offset of the start of the bytes held so far (everything after it has been read).
    pub fn position(&self) -> u64 {
        self.buf_start
    }

    pub fn next_line(&mut self) -> io::Result<Option<TailLine<'_>>> {
        if let Some(cut) = self.pending_cut.take() {
            self.buf.truncate(cut);
        }
        loop {
            trim_trailing_newlines(&mut self.buf);
            if let Some(nl) = memrchr(b'\n', &self.buf) {
                self.pending_cut = Some(nl);
                return Ok(Some(TailLine::Line(&self.buf[nl + 1..])));
            }
            if self.buf_start == self.floor {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                self.pending_cut = Some(0);
                return Ok(Some(TailLine::Line(&self.buf[..])));
            }
            if self.buf.len() >= self.max_line {
                return self.skip_oversized().map(Some);
            }
            self.read_more()?;
        }
    }

    /// Prepends the previous chunk, doubling the read size as a line keeps growing so a long
    /// line costs O(length), not O(length²).
    fn read_more(&mut self) -> io::Result<()> {
        let want = FIRST_CHUNK.max(self.buf.len()).min(self.max_line.saturating_sub(self.buf.len()).max(1));
        let take = (want as u64).min(self.buf_start - self.floor) as usize;
        let start = self.buf_start - take as u64;
        let mut joined = vec![0u8; take + self.buf.len()];
        self.file.read_exact_at(&mut joined[..take], start)?;
        joined[take..].copy_from_slice(&self.buf);
        self.buf = joined;
        self.buf_start = start;
        Ok(())
    }

    /// Passes over the rest of a line that is too long to hold, keeping only what precedes it.
    fn skip_oversized(&mut self) -> io::Result<TailLine<'static>> {
        let mut skipped = self.buf.len() as u64;
        self.buf.clear();
        let mut chunk = vec![0u8; FIRST_CHUNK];
        while self.buf_start > self.floor {
            let take = (chunk.len() as u64).min(self.buf_start - self.floor) as usize;
            let start = self.buf_start - take as u64;
            self.file.read_exact_at(&mut chunk[..take], start)?;
            self.buf_start = start;
            match memrchr(b'\n', &chunk[..take]) {
                Some(nl) => {
                    skipped += (take - nl - 1) as u64;
                    self.buf.extend_from_slice(&chunk[..nl + 1]);
                    break;
                }
                None => skipped += take as u64,
            }
        }
        Ok(TailLine::Oversized { bytes: skipped })
    }
}

fn trim_trailing_newlines(buf: &mut Vec<u8>) {
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
}

/// The first `limit` bytes of a file, cut after the last complete line.
pub fn read_head(file: &File, limit: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; limit];
    let mut filled = 0;
    while filled < limit {
        match file.read_at(&mut buf[filled..], filled as u64)? {
            0 => break,
            n => filled += n,
        }
    }
    buf.truncate(filled);
    if buf.len() == limit {
        let keep = memrchr(b'\n', &buf).map_or(0, |nl| nl + 1);
        buf.truncate(keep);
    }
    Ok(buf)
}

/// The `sessionId` on the first line of a transcript (old inline subagent files name their
/// parent this way).
pub fn first_line_session_id(path: &Path) -> Option<String> {
    let file = crate::fsutil::open_for_reading(path).ok()?;
    let head = read_head(&file, HEAD_READS[1]).ok()?;
    let first = head.split(|b| *b == b'\n').next()?;
    super::model::session_id_of(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_with(bytes: &[u8]) -> (asm_testkit::TempDir, File, u64) {
        let dir = asm_testkit::TempDir::new("cc-tail");
        let path = dir.join("t.jsonl");
        std::fs::File::create(&path).unwrap().write_all(bytes).unwrap();
        let f = File::open(&path).unwrap();
        (dir, f, bytes.len() as u64)
    }

    fn collect(bytes: &[u8], limit: usize) -> Vec<String> {
        let (_d, f, len) = file_with(bytes);
        let mut r = ReverseLines::with_limit(&f, len, limit);
        let mut out = Vec::new();
        while let Some(line) = r.next_line().unwrap() {
            out.push(match line {
                TailLine::Line(l) => String::from_utf8_lossy(l).into_owned(),
                TailLine::Oversized { bytes } => format!("<{bytes}>"),
            });
        }
        out
    }

    #[test]
    fn yields_lines_last_first_with_or_without_final_newline() {
        assert_eq!(collect(b"a\nbb\nccc\n", MAX_LINE), ["ccc", "bb", "a"]);
        assert_eq!(collect(b"a\nbb\nccc", MAX_LINE), ["ccc", "bb", "a"]);
        assert_eq!(collect(b"\n\na\n\n\nb\n\n", MAX_LINE), ["b", "a"]);
        assert!(collect(b"", MAX_LINE).is_empty());
    }

    #[test]
    fn lines_spanning_many_chunks_come_out_whole() {
        let long = "x".repeat(FIRST_CHUNK * 5 + 17);
        let text = format!("first\n{long}\nlast\n");
        assert_eq!(collect(text.as_bytes(), MAX_LINE), ["last".to_string(), long, "first".to_string()]);
    }

    #[test]
    fn oversized_lines_are_passed_over_not_held() {
        let long = "y".repeat(FIRST_CHUNK * 3 + 5);
        let text = format!("first\n{long}\nlast\n");
        assert_eq!(collect(text.as_bytes(), FIRST_CHUNK), ["last".to_string(), format!("<{}>", long.len()), "first".to_string()]);
        let text = format!("{long}\nlast");
        assert_eq!(collect(text.as_bytes(), FIRST_CHUNK), ["last".to_string(), format!("<{}>", long.len())]);
    }

    #[test]
    fn head_keeps_only_complete_lines() {
        let (_d, f, _) = file_with(b"one\ntwo\nthree");
        assert_eq!(read_head(&f, 10).unwrap(), b"one\ntwo\n");
        let (_d, f, _) = file_with(b"one\ntwo\nthree");
        assert_eq!(read_head(&f, 100).unwrap(), b"one\ntwo\nthree");
    }
}
