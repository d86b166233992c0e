//! A small, lenient reader for OpenClaw's `openclaw.json`, which is JSON5: comments, trailing
//! commas, unquoted keys, single-quoted strings, hex numbers, `+`/`.5`/`5.` numbers. It reads
//! into a `serde_json::Value`; Infinity and NaN (which JSON cannot hold) become null. We only
//! ever read the file, so a reader is all we need (no crate: the grammar is small).

use serde_json::{Map, Number, Value};
use thiserror::Error;

#[derive(Debug, Error, PartialEq)]
#[error("not valid JSON5 at line {line}, column {column}: {message}")]
pub struct Json5Error {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Parses one JSON5 document.
pub fn parse(text: &str) -> Result<Value, Json5Error> {
    let mut reader = Reader { chars: text.chars().collect(), pos: 0 };
    reader.skip_blank()?;
    let value = reader.value(0)?;
    reader.skip_blank()?;
    if reader.pos < reader.chars.len() {
        return Err(reader.error("unexpected text after the document"));
    }
    Ok(value)
}

/// Deep enough for any real config, shallow enough that hostile input cannot overflow the stack.
const MAX_DEPTH: usize = 128;

struct Reader {
    chars: Vec<char>,
    pos: usize,
}

impl Reader {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    fn error(&self, message: &str) -> Json5Error {
        let before = &self.chars[..self.pos.min(self.chars.len())];
        let line = before.iter().filter(|c| **c == '\n').count() + 1;
        let column = before.iter().rev().take_while(|c| **c != '\n').count() + 1;
        Json5Error { line, column, message: message.to_string() }
    }

    /// Skips white space and comments.
    fn skip_blank(&mut self) -> Result<(), Json5Error> {
        loop {
            match (self.peek(), self.peek_at(1)) {
                (Some(c), _) if c.is_whitespace() || c == '\u{feff}' => self.pos += 1,
                (Some('/'), Some('/')) => {
                    while self.peek().is_some_and(|c| c != '\n') {
                        self.pos += 1;
                    }
                }
                (Some('/'), Some('*')) => {
                    self.pos += 2;
                    loop {
                        match (self.peek(), self.peek_at(1)) {
                            (Some('*'), Some('/')) => {
                                self.pos += 2;
                                break;
                            }
                            (Some(_), _) => self.pos += 1,
                            (None, _) => return Err(self.error("unterminated /* comment")),
                        }
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, Json5Error> {
        if depth > MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        match self.peek() {
            Some('{') => self.object(depth),
            Some('[') => self.array(depth),
            Some(q @ ('"' | '\'')) => self.string(q).map(Value::String),
            Some(c) if c.is_ascii_digit() || matches!(c, '-' | '+' | '.') => self.number(),
            Some(c) if is_ident_start(c) => {
                let word = self.identifier();
                match word.as_str() {
                    "true" => Ok(Value::Bool(true)),
                    "false" => Ok(Value::Bool(false)),
                    "null" | "Infinity" | "NaN" => Ok(Value::Null),
                    _ => Err(self.error(&format!("unexpected word {word:?}"))),
                }
            }
            Some(c) => Err(self.error(&format!("unexpected character {c:?}"))),
            None => Err(self.error("unexpected end of text")),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, Json5Error> {
        self.pos += 1;
        let mut map = Map::new();
        loop {
            self.skip_blank()?;
            match self.peek() {
                Some('}') => {
                    self.pos += 1;
                    return Ok(Value::Object(map));
                }
                Some(q @ ('"' | '\'')) => {
                    let key = self.string(q)?;
                    self.member(key, &mut map, depth)?;
                }
                Some(c) if is_ident_start(c) => {
                    let key = self.identifier();
                    self.member(key, &mut map, depth)?;
                }
                _ => return Err(self.error("expected a key or '}'")),
            }
            self.skip_blank()?;
            match self.peek() {
                Some(',') => self.pos += 1,
                Some('}') => {}
                _ => return Err(self.error("expected ',' or '}'")),
            }
        }
    }

    fn member(&mut self, key: String, map: &mut Map<String, Value>, depth: usize) -> Result<(), Json5Error> {
        self.skip_blank()?;
        if self.peek() != Some(':') {
            return Err(self.error("expected ':' after a key"));
        }
        self.pos += 1;
        self.skip_blank()?;
        let value = self.value(depth + 1)?;
        map.insert(key, value);
        Ok(())
    }

    fn array(&mut self, depth: usize) -> Result<Value, Json5Error> {
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.skip_blank()?;
            if self.peek() == Some(']') {
                self.pos += 1;
                return Ok(Value::Array(items));
            }
            items.push(self.value(depth + 1)?);
            self.skip_blank()?;
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(']') => {}
                _ => return Err(self.error("expected ',' or ']'")),
            }
        }
    }

    fn identifier(&mut self) -> String {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    fn string(&mut self, quote: char) -> Result<String, Json5Error> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else { return Err(self.error("unterminated string")) };
            self.pos += 1;
            match c {
                c if c == quote => return Ok(out),
                '\\' => self.escape(&mut out)?,
                '\n' => return Err(self.error("line break inside a string")),
                c => out.push(c),
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), Json5Error> {
        let Some(c) = self.peek() else { return Err(self.error("unterminated escape")) };
        self.pos += 1;
        match c {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'v' => out.push('\u{b}'),
            '0' => out.push('\0'),
            '\n' => {} // a backslash before a line break continues the string
            'x' => out.push(self.hex_char(2)?),
            'u' => {
                let high = self.hex_code(4)?;
                let is_high_surrogate = (0xD800..0xDC00).contains(&high);
                if is_high_surrogate && self.peek() == Some('\\') && self.peek_at(1) == Some('u') {
                    self.pos += 2;
                    let low = self.hex_code(4)?;
                    let combined = 0x10000 + ((high - 0xD800) << 10) + (low.wrapping_sub(0xDC00) & 0x3FF);
                    out.push(char::from_u32(combined).unwrap_or('\u{fffd}'));
                } else {
                    out.push(char::from_u32(high).unwrap_or('\u{fffd}'));
                }
            }
            other => out.push(other),
        }
        Ok(())
    }

    fn hex_code(&mut self, digits: usize) -> Result<u32, Json5Error> {
        let mut code = 0u32;
        for _ in 0..digits {
            let d = self.peek().and_then(|c| c.to_digit(16)).ok_or_else(|| self.error("bad hex escape"))?;
            code = code * 16 + d;
            self.pos += 1;
        }
        Ok(code)
    }

    fn hex_char(&mut self, digits: usize) -> Result<char, Json5Error> {
        let code = self.hex_code(digits)?;
        Ok(char::from_u32(code).unwrap_or('\u{fffd}'))
    }

    fn number(&mut self) -> Result<Value, Json5Error> {
        let negative = match self.peek() {
            Some('-') => {
                self.pos += 1;
                true
            }
            Some('+') => {
                self.pos += 1;
                false
            }
            _ => false,
        };
        if self.peek().is_some_and(is_ident_start) {
            return match self.identifier().as_str() {
                "Infinity" | "NaN" => Ok(Value::Null),
                _ => Err(self.error("bad number")),
            };
        }
        if self.peek() == Some('0') && matches!(self.peek_at(1), Some('x' | 'X')) {
            self.pos += 2;
            let start = self.pos;
            while self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                self.pos += 1;
            }
            let digits: String = self.chars[start..self.pos].iter().collect();
            let n = i64::from_str_radix(&digits, 16).map_err(|_| self.error("bad hex number"))?;
            return Ok(Value::from(if negative { -n } else { n }));
        }
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-')) {
            self.pos += 1;
        }
        let raw: String = self.chars[start..self.pos].iter().collect();
        let sign = if negative { "-" } else { "" };
        if let Ok(n) = raw.parse::<i64>() {
            return Ok(Value::from(if negative { -n } else { n }));
        }
        if let Ok(n) = raw.parse::<u64>() {
            if !negative {
                return Ok(Value::from(n));
            }
        }
        // Rust's float parser accepts ".5" and "5." as JSON5 does.
        let f: f64 = format!("{sign}{raw}").parse().map_err(|_| self.error(&format!("bad number {raw:?}")))?;
        Ok(Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null))
    }
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '$'
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_what_openclaw_configs_look_like() {
        let text = r#"
        // OpenClaw config
        {
          gateway: { mode: 'local', port: 18999, },   /* trailing comma */
          channels: {
            telegram: {
              botToken: "123:abc",
              groups: { "-1001234567890": { topics: { '466': { requireMention: false } } } },
            },
          },
          list: [1, +2, .5, 5., 0x1F, -3,],
          "quoted key": "a \"b\" \u00e9 \x41",
        }
        "#;
        let v = parse(text).unwrap();
        assert_eq!(v["gateway"], json!({"mode": "local", "port": 18999}));
        assert_eq!(v["channels"]["telegram"]["botToken"], "123:abc");
        assert_eq!(v["channels"]["telegram"]["groups"]["-1001234567890"]["topics"]["466"]["requireMention"], false);
        assert_eq!(v["list"], json!([1, 2, 0.5, 5.0, 31, -3]));
        assert_eq!(v["quoted key"], "a \"b\" é A");
    }

    #[test]
    fn plain_json_reads_the_same() {
        let text = r#"{"a": [1, 2.5, null, true, {"b": "c"}], "d": -1e3}"#;
        assert_eq!(parse(text).unwrap(), serde_json::from_str::<Value>(text).unwrap());
    }

    #[test]
    fn errors_say_where() {
        let err = parse("{\n  a: 1,\n  b: }").unwrap_err();
        assert_eq!((err.line, err.column), (3, 6));
        assert!(parse("{a: 1").is_err());
        assert!(parse("{a: 1} x").is_err());
        assert!(parse("'open").is_err());
        assert!(parse(&"[".repeat(1000)).is_err());
    }

    #[test]
    fn reads_what_openclaw_writes_and_people_edit() {
        let text = r#"
        // OpenClaw config
        {
          gateway: {
            port: 0x4A19, /* 18969 */
            mode: 'local',
            auth: { token: "a\"b", },
          },
          agents: { defaults: { model: { primary: 'it\'s "mock"', }, }, },
          list: [1, +2, .5, 3., -0x10,],
          url: "http://x//y", // not a comment inside a string
        }
        "#;
        let v = parse(text).unwrap();
        assert_eq!(v["gateway"]["port"], json!(18969));
        assert_eq!(v["gateway"]["mode"], json!("local"));
        assert_eq!(v["gateway"]["auth"]["token"], json!("a\"b"));
        assert_eq!(v["agents"]["defaults"]["model"]["primary"], json!("it's \"mock\""));
        assert_eq!(v["list"], json!([1, 2, 0.5, 3.0, -16]));
        assert_eq!(v["url"], json!("http://x//y"));
        assert_eq!(parse("{a: 'tab\there', b: \"line\\\ncontinued\"}").unwrap(), json!({"a": "tab\there", "b": "linecontinued"}));
    }

    #[test]
    fn broken_text_is_an_error_not_a_guess_too() {
        assert!(parse("{ gateway: { port: 1 }").is_err());
        assert!(parse("{ a: 'open }").is_err());
        assert!(parse("/* never closed").is_err());
    }
}
