//! A lenient reader for OpenClaw's JSON5 config (`openclaw.json`): comments, unquoted keys,
//! single-quoted strings, trailing commas, hex numbers, `+`/leading-dot numbers and
//! `Infinity`/`NaN` are turned into plain JSON text and handed to serde_json. Only reading
//! is needed (we never write OpenClaw's config), so anything it cannot make sense of is an
//! error for the caller to report, not a guess.

use serde_json::Value;

/// Parses JSON5 text into a JSON value.
pub fn parse(text: &str) -> Result<Value, String> {
    let json = to_json(text)?;
    serde_json::from_str(&json).map_err(|e| format!("not valid JSON5: {e}"))
}

fn to_json(text: &str) -> Result<String, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        match c {
            '/' if chars.get(i + 1) == Some(&'/') => {
                while chars.get(i).is_some_and(|c| *c != '\n') {
                    i += 1;
                }
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                i += 2;
                while chars.get(i).is_some() && !(chars.get(i) == Some(&'*') && chars.get(i + 1) == Some(&'/')) {
                    i += 1;
                }
                if chars.get(i).is_none() {
                    return Err("unterminated /* comment".into());
                }
                i += 2;
            }
            '"' | '\'' => i = copy_string(&chars, i, &mut out)?,
            ',' => {
                if next_significant(&chars, i + 1).is_some_and(|n| n == '}' || n == ']') {
                    i += 1;
                } else {
                    out.push(',');
                    i += 1;
                }
            }
            c if c == '_' || c == '$' || c.is_alphabetic() => {
                let start = i;
                while chars.get(i).is_some_and(|c| *c == '_' || *c == '$' || c.is_alphanumeric()) {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                match word.as_str() {
                    "true" | "false" | "null" => out.push_str(&word),
                    // JSON has no infinities; a port or timeout never is one.
                    "Infinity" | "NaN" => out.push_str("null"),
                    _ => {
                        out.push('"');
                        out.push_str(&word);
                        out.push('"');
                    }
                }
            }
            '+' | '-' | '.' | '0'..='9' => i = copy_number(&chars, i, &mut out)?,
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// The next character that is not whitespace or inside a comment.
fn next_significant(chars: &[char], mut i: usize) -> Option<char> {
    loop {
        let c = *chars.get(i)?;
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && chars.get(i + 1) == Some(&'/') {
            while chars.get(i).is_some_and(|c| *c != '\n') {
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            i += 2;
            while chars.get(i).is_some() && !(chars.get(i) == Some(&'*') && chars.get(i + 1) == Some(&'/')) {
                i += 1;
            }
            i += 2;
        } else {
            return Some(c);
        }
    }
}

fn copy_string(chars: &[char], start: usize, out: &mut String) -> Result<usize, String> {
    let quote = chars.get(start).copied().unwrap_or('"');
    let mut i = start + 1;
    out.push('"');
    loop {
        let c = *chars.get(i).ok_or("unterminated string")?;
        i += 1;
        match c {
            '\\' => {
                let next = *chars.get(i).ok_or("unterminated string")?;
                i += 1;
                match next {
                    '\'' => out.push('\''),
                    // A backslash before a line break continues the string.
                    '\n' => {}
                    _ => {
                        out.push('\\');
                        out.push(next);
                    }
                }
            }
            c if c == quote => {
                out.push('"');
                return Ok(i);
            }
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
}

fn copy_number(chars: &[char], start: usize, out: &mut String) -> Result<usize, String> {
    let mut i = start;
    let mut literal = String::new();
    while chars.get(i).is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')) {
        literal.push(chars[i]);
        i += 1;
    }
    let (negative, body) = match literal.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, literal.strip_prefix('+').unwrap_or(&literal)),
    };
    let sign = if negative { "-" } else { "" };
    if let Some(hex) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        let n = u64::from_str_radix(hex, 16).map_err(|_| format!("bad hex number {literal}"))?;
        out.push_str(&format!("{sign}{n}"));
    } else if body == "Infinity" || body == "NaN" {
        out.push_str("null");
    } else {
        let mut normal = body.to_string();
        if normal.starts_with('.') {
            normal.insert(0, '0');
        }
        if normal.ends_with('.') {
            normal.push('0');
        }
        out.push_str(sign);
        out.push_str(&normal);
    }
    Ok(i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_json5_openclaw_writes_and_people_edit() {
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
    fn broken_text_is_an_error_not_a_guess() {
        assert!(parse("{ gateway: { port: 1 }").is_err());
        assert!(parse("{ a: 'open }").is_err());
        assert!(parse("/* never closed").is_err());
    }
}
