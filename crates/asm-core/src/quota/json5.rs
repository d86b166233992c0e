//! A lenient JSON5 reader for OpenClaw's `openclaw.json`: comments, unquoted keys, single
//! quotes, trailing commas, hex numbers, `+`/leading-dot numbers, `Infinity`/`NaN` (as null).
//! It only has to read a config file into a [`serde_json::Value`]; it never writes one.

use serde_json::{Map, Number, Value};

/// Parses JSON5 text; the error says where and what was expected.
pub fn parse(text: &str) -> Result<Value, String> {
    let mut p = Parser { chars: text.chars().collect(), pos: 0 };
    p.skip_blank();
    let value = p.value()?;
    p.skip_blank();
    match p.peek() {
        None => Ok(value),
        Some(c) => Err(p.err(&format!("unexpected {c:?} after the document"))),
    }
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek();
        self.pos += 1;
        c
    }

    fn err(&self, what: &str) -> String {
        let line = self.chars.iter().take(self.pos).filter(|c| **c == '\n').count() + 1;
        format!("line {line}: {what}")
    }

    fn skip_blank(&mut self) {
        loop {
            match (self.peek(), self.peek_at(1)) {
                (Some(c), _) if c.is_whitespace() || c == '\u{feff}' => self.pos += 1,
                (Some('/'), Some('/')) => {
                    while !matches!(self.peek(), None | Some('\n')) {
                        self.pos += 1;
                    }
                }
                (Some('/'), Some('*')) => {
                    self.pos += 2;
                    while self.peek().is_some() && !(self.peek() == Some('*') && self.peek_at(1) == Some('/')) {
                        self.pos += 1;
                    }
                    self.pos += 2;
                }
                _ => return,
            }
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        match self.peek() {
            Some('{') => self.object(),
            Some('[') => self.array(),
            Some(q @ ('"' | '\'')) => self.string(q).map(Value::String),
            Some(c) if c.is_ascii_digit() || matches!(c, '-' | '+' | '.') => self.number(),
            Some(c) if c.is_alphabetic() => match self.identifier().as_str() {
                "true" => Ok(Value::Bool(true)),
                "false" => Ok(Value::Bool(false)),
                "null" | "Infinity" | "NaN" => Ok(Value::Null),
                other => Err(self.err(&format!("unexpected word {other:?}, expected a value"))),
            },
            Some(c) => Err(self.err(&format!("unexpected {c:?}, expected a value"))),
            None => Err(self.err("unexpected end, expected a value")),
        }
    }

    fn object(&mut self) -> Result<Value, String> {
        self.pos += 1;
        let mut map = Map::new();
        loop {
            self.skip_blank();
            let key = match self.peek() {
                Some('}') => {
                    self.pos += 1;
                    return Ok(Value::Object(map));
                }
                Some(q @ ('"' | '\'')) => self.string(q)?,
                Some(c) if c.is_alphanumeric() || c == '_' || c == '$' => self.identifier(),
                _ => return Err(self.err("expected a key or '}'")),
            };
            self.skip_blank();
            if self.bump() != Some(':') {
                return Err(self.err(&format!("expected ':' after key {key:?}")));
            }
            self.skip_blank();
            let value = self.value()?;
            map.insert(key, value);
            self.skip_blank();
            match self.bump() {
                Some(',') => {}
                Some('}') => return Ok(Value::Object(map)),
                _ => return Err(self.err("expected ',' or '}'")),
            }
        }
    }

    fn array(&mut self) -> Result<Value, String> {
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.skip_blank();
            if self.peek() == Some(']') {
                self.pos += 1;
                return Ok(Value::Array(items));
            }
            items.push(self.value()?);
            self.skip_blank();
            match self.bump() {
                Some(',') => {}
                Some(']') => return Ok(Value::Array(items)),
                _ => return Err(self.err("expected ',' or ']'")),
            }
        }
    }

    fn identifier(&mut self) -> String {
        let mut out = String::new();
        while let Some(c) = self.peek().filter(|c| c.is_alphanumeric() || *c == '_' || *c == '$') {
            out.push(c);
            self.pos += 1;
        }
        out
    }

    fn string(&mut self, quote: char) -> Result<String, String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return Err(self.err("unterminated string")),
                Some(c) if c == quote => return Ok(out),
                Some('\\') => match self.bump() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('r') => out.push('\r'),
                    Some('b') => out.push('\u{8}'),
                    Some('f') => out.push('\u{c}'),
                    Some('0') => out.push('\0'),
                    Some('\n') => {}
                    Some('u') => out.push(self.unicode_escape()?),
                    Some(c) => out.push(c),
                    None => return Err(self.err("unterminated string")),
                },
                Some(c) => out.push(c),
            }
        }
    }

    fn unicode_escape(&mut self) -> Result<char, String> {
        let hex: String = (0..4).filter_map(|_| self.bump()).collect();
        let code = u32::from_str_radix(&hex, 16).map_err(|_| self.err("bad \\u escape"))?;
        Ok(char::from_u32(code).unwrap_or('\u{fffd}'))
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.pos;
        while let Some(c) = self.peek().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '.')) {
            let _ = c;
            self.pos += 1;
        }
        let raw: String = self.chars[start..self.pos].iter().collect();
        let (negative, body) = match raw.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, raw.strip_prefix('+').unwrap_or(&raw)),
        };
        if matches!(body, "Infinity" | "NaN") {
            return Ok(Value::Null);
        }
        if let Some(hex) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            let v = i64::from_str_radix(hex, 16).map_err(|_| self.err(&format!("bad number {raw:?}")))?;
            return Ok(Value::from(if negative { -v } else { v }));
        }
        let signed = if negative { format!("-{body}") } else { body.to_string() };
        if let Ok(i) = signed.parse::<i64>() {
            return Ok(Value::from(i));
        }
        signed.parse::<f64>().ok().and_then(Number::from_f64).map(Value::Number).ok_or_else(|| self.err(&format!("bad number {raw:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_json5_openclaw_writes_and_people_edit() {
        let text = r#"// OpenClaw config
        {
          models: {
            providers: {
              'minimax': { baseUrl: "https://api.minimax.io/anthropic", apiKey: 'sk-cp-abc', weight: +1.5, port: 0x10, },
            },
          },
          /* block
             comment */
          "list": [1, .5, -2, Infinity,],
          url: "http://x//y",
        }"#;
        let v = parse(text).unwrap();
        assert_eq!(v["models"]["providers"]["minimax"]["apiKey"], json!("sk-cp-abc"));
        assert_eq!(v["models"]["providers"]["minimax"]["port"], json!(16));
        assert_eq!(v["list"], json!([1, 0.5, -2, null]));
        assert_eq!(v["url"], json!("http://x//y"));
    }

    #[test]
    fn errors_name_the_line() {
        let err = parse("{\n  a: 1\n  b: 2\n}").unwrap_err();
        assert!(err.starts_with("line 3:"), "{err}");
        assert!(parse("{ a: 'open").is_err());
    }
}
