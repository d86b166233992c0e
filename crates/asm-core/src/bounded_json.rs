//! Huge JSON records read with bounded memory: a streaming parse (struson) that keeps every
//! string's head and tail and drops its middle, so a 100 MB pasted log in a transcript costs
//! a few hundred KB, not a copy of itself in a `serde_json::Value`. A record cut short (only
//! its head was kept) still yields what was read up to the cut, containers closed.
//!
//! Records under [`SMALL`] bytes never come here: `serde_json` reads them whole, faster.

use serde_json::{Map, Number, Value};
use std::io::Read;
use struson::reader::{JsonReader, JsonStreamReader, ReaderSettings, ValueType};

/// Records up to this size are parsed whole by serde_json.
pub const SMALL: usize = 1024 * 1024;
/// Of a longer string, this many bytes from its start are kept...
pub const KEEP_HEAD: usize = 48 * 1024;
/// ...and this many from its end.
pub const KEEP_TAIL: usize = 16 * 1024;
/// Nesting deeper than this is an error, not a stack overflow.
const MAX_NESTING: u32 = 256;

/// What a bounded read produced: the value, and whether the input ended (or broke) before the
/// value did — then the value holds what came before.
#[derive(Debug, Clone, PartialEq)]
pub struct Bounded {
    pub value: Value,
    pub complete: bool,
}

/// Parses one JSON value from `input`, clipping long strings. None when not even the start of
/// a value could be read.
pub fn read(input: impl Read) -> Option<Bounded> {
    let settings = ReaderSettings { max_nesting_depth: Some(MAX_NESTING), track_path: false, restrict_number_values: false, ..ReaderSettings::default() };
    let mut reader = JsonStreamReader::new_custom(input, settings);
    let mut value = Value::Null;
    match fill(&mut reader, &mut value) {
        Ok(()) => Some(Bounded { value, complete: true }),
        Err(_) if value.is_null() => None,
        Err(_) => Some(Bounded { value, complete: false }),
    }
}

/// Reads the next value into `out`; on an error `out` keeps what was read so far.
/// The input broke off or is not JSON: what was read so far stays in the value.
struct Broken;

fn ok<T, E>(r: Result<T, E>) -> Result<T, Broken> {
    r.map_err(|_| Broken)
}

fn fill<J: JsonReader>(r: &mut J, out: &mut Value) -> Result<(), Broken> {
    match ok(r.peek())? {
        ValueType::Object => {
            ok(r.begin_object())?;
            *out = Value::Object(Map::new());
            while ok(r.has_next())? {
                let name = ok(r.next_name_owned())?;
                let mut member = Value::Null;
                let result = fill(r, &mut member);
                if let Value::Object(map) = out {
                    map.insert(name, member);
                }
                result?;
            }
            ok(r.end_object())
        }
        ValueType::Array => {
            ok(r.begin_array())?;
            *out = Value::Array(Vec::new());
            while ok(r.has_next())? {
                let mut item = Value::Null;
                let result = fill(r, &mut item);
                if let Value::Array(items) = out {
                    items.push(item);
                }
                result?;
            }
            ok(r.end_array())
        }
        ValueType::String => {
            let mut clip = Clip::default();
            let result = clip.read_from(&mut ok(r.next_string_reader())?);
            *out = Value::String(clip.finish());
            ok(result)
        }
        ValueType::Number => {
            let text = ok(r.next_number_as_string())?;
            *out = text.parse::<Number>().map(Value::Number).unwrap_or(Value::String(text));
            Ok(())
        }
        ValueType::Boolean => {
            *out = Value::Bool(ok(r.next_bool())?);
            Ok(())
        }
        ValueType::Null => ok(r.next_null()),
    }
}

/// `text` itself when it is short; else its head and tail around a note of what was left out.
pub fn clip_str(text: &str) -> std::borrow::Cow<'_, str> {
    if text.len() <= KEEP_HEAD + KEEP_TAIL {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut clip = Clip::default();
    clip.push(text.as_bytes());
    std::borrow::Cow::Owned(clip.finish())
}

/// A string's head and tail while it streams past.
#[derive(Default)]
struct Clip {
    head: Vec<u8>,
    /// The last [`KEEP_TAIL`] bytes after the head, as a ring.
    tail: std::collections::VecDeque<u8>,
    total: usize,
}

impl Clip {
    fn read_from(&mut self, input: &mut impl Read) -> std::io::Result<()> {
        let mut chunk = [0u8; 64 * 1024];
        loop {
            let n = input.read(&mut chunk)?;
            if n == 0 {
                return Ok(());
            }
            self.push(&chunk[..n]);
        }
    }

    fn push(&mut self, mut bytes: &[u8]) {
        self.total += bytes.len();
        let room = KEEP_HEAD.saturating_sub(self.head.len());
        let (to_head, rest) = bytes.split_at(room.min(bytes.len()));
        self.head.extend_from_slice(to_head);
        bytes = rest;
        if bytes.len() >= KEEP_TAIL {
            self.tail.clear();
            bytes = &bytes[bytes.len() - KEEP_TAIL..];
        }
        let overflow = (self.tail.len() + bytes.len()).saturating_sub(KEEP_TAIL);
        self.tail.drain(..overflow);
        self.tail.extend(bytes);
    }

    fn finish(self) -> String {
        let left_out = self.total - self.head.len() - self.tail.len();
        let mut head = String::from_utf8_lossy(utf8_prefix(&self.head)).into_owned();
        if self.tail.is_empty() {
            return head;
        }
        let tail: Vec<u8> = self.tail.into_iter().collect();
        if left_out > 0 {
            head.push_str(&format!("\n[… {left_out} bytes left out …]\n"));
        }
        head.push_str(&String::from_utf8_lossy(utf8_suffix(&tail)));
        head
    }
}

/// `bytes` without a character cut at its end.
fn utf8_prefix(bytes: &[u8]) -> &[u8] {
    match std::str::from_utf8(bytes) {
        Ok(_) => bytes,
        Err(e) if e.error_len().is_none() => &bytes[..e.valid_up_to()],
        Err(_) => bytes,
    }
}

/// `bytes` without a character cut at its start (continuation bytes dropped).
fn utf8_suffix(bytes: &[u8]) -> &[u8] {
    let skip = bytes.iter().take(3).take_while(|b| (**b & 0b1100_0000) == 0b1000_0000).count();
    &bytes[skip..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn small_strings_and_every_shape_come_through_unchanged() {
        let doc = json!({"type": "user", "n": 12, "f": 1.5, "ok": true, "none": null, "list": [1, "two", {"x": []}], "é": "ünïcødé 日本"});
        let read = read(doc.to_string().as_bytes()).unwrap();
        assert_eq!(read, Bounded { value: doc, complete: true });
    }

    #[test]
    fn a_huge_string_keeps_its_head_and_tail() {
        let text = format!("START{}END", "abcdé".repeat(1_000_000));
        let read = read(json!({"message": {"content": text}}).to_string().as_bytes()).unwrap();
        let kept = read.value["message"]["content"].as_str().unwrap();
        assert!(kept.starts_with("STARTabcd") && kept.ends_with("abcdéEND"), "{}", &kept[..40]);
        assert!(kept.contains("bytes left out") && kept.len() < KEEP_HEAD + KEEP_TAIL + 100);
    }

    #[test]
    fn long_text_is_clipped_short_text_is_not() {
        assert!(matches!(clip_str("short"), std::borrow::Cow::Borrowed("short")));
        let long = "é".repeat(100_000);
        let clipped = clip_str(&long);
        assert!(clipped.len() < KEEP_HEAD + KEEP_TAIL + 100 && clipped.contains("bytes left out"));
    }

    #[test]
    fn a_record_cut_short_keeps_what_came_before_the_cut() {
        let whole = json!({"type": "user", "message": {"role": "user", "content": "x".repeat(200_000)}, "uuid": "u1"}).to_string();
        let read = read(&whole.as_bytes()[..100_000]).unwrap();
        assert!(!read.complete);
        assert_eq!((read.value["type"].as_str(), read.value["message"]["role"].as_str()), (Some("user"), Some("user")));
        assert!(read.value["message"]["content"].as_str().unwrap().starts_with("xxxx"));
        assert!(super::read(&b"garbage"[..]).is_none());
        let deep = "[".repeat(10_000);
        assert!(super::read(deep.as_bytes()).is_some_and(|r| !r.complete), "deep nesting is an error, not a stack overflow");
    }
}
