//! Config files people edit by hand: OpenClaw's `openclaw.json` is JSON5 and OpenCode's
//! `opencode.json(c)` is JSONC, a subset of JSON5, so one maintained JSON5 reader (the `json5`
//! crate) serves both. Files are read with a size cap: a config is small, and a huge one is
//! refused with a clear error instead of being held in memory.

use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// No config ASM reads comes near this; anything larger is refused unread.
pub const MAX_CONFIG_BYTES: u64 = 4 * 1024 * 1024;
/// The JSON5 reader recurses once per nesting level (and overflows the stack past ~1,000 in a
/// test thread): deeper text is refused before it is parsed. Real configs nest under 10.
pub const MAX_NESTING: usize = 256;

#[derive(Debug, Error)]
pub enum ParseError {
    #[error("nested more than {MAX_NESTING} levels deep")]
    TooDeep,
    #[error(transparent)]
    Syntax(#[from] json5::Error),
}

#[derive(Debug, Error)]
pub enum ConfigFileError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path} is {size} bytes, more than the {limit} a config file may have; not read")]
    TooLarge { path: PathBuf, size: u64, limit: u64 },
    #[error("{path}: {message}")]
    Syntax { path: PathBuf, message: String },
}

/// JSON5 (and so JSONC and plain JSON) text as a JSON value.
pub fn parse(text: &str) -> Result<Value, ParseError> {
    if bracket_depth(text) > MAX_NESTING {
        return Err(ParseError::TooDeep);
    }
    Ok(json5::from_str(text)?)
}

/// The deepest run of open brackets, counting every `[`/`{` and `]`/`}` byte, also those
/// inside strings and comments: an over-estimate, so nothing too deep gets through.
fn bracket_depth(text: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for b in text.bytes() {
        match b {
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// The file as a JSON value; None when it does not exist.
pub fn read_file(path: &Path) -> Result<Option<Value>, ConfigFileError> {
    let io = |source| ConfigFileError::Io { path: path.to_path_buf(), source };
    let file = match crate::fsutil::open_for_reading(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    let size = file.metadata().map_err(io)?.len();
    if size > MAX_CONFIG_BYTES {
        return Err(ConfigFileError::TooLarge { path: path.to_path_buf(), size, limit: MAX_CONFIG_BYTES });
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(MAX_CONFIG_BYTES + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(ConfigFileError::TooLarge { path: path.to_path_buf(), size: bytes.len() as u64, limit: MAX_CONFIG_BYTES });
    }
    let text = String::from_utf8_lossy(&bytes);
    parse(&text).map(Some).map_err(|e| ConfigFileError::Syntax { path: path.to_path_buf(), message: e.to_string() })
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
    fn jsonc_comments_and_trailing_commas_read_the_same() {
        let text = "{\n // a comment with \"quotes\"\n \"a\": \"http://x//y\", /* block, */ \"b\": [1, 2,],\n \"c\": {\"d\": \"\\\"/*\",},\n}";
        let v = parse(text).unwrap();
        assert_eq!(v["a"], "http://x//y");
        assert_eq!(v["b"], json!([1, 2]));
        assert_eq!(v["c"]["d"], "\"/*");
        let plain = r#"{"a": [1, 2.5, null, true, {"b": "c"}], "d": -1e3}"#;
        assert_eq!(parse(plain).unwrap(), serde_json::from_str::<Value>(plain).unwrap());
    }

    #[test]
    fn broken_text_is_an_error_not_a_guess() {
        for bad in ["{\"a\": ", "{ gateway: { port: 1 }", "{ a: 'open }", "/* never closed", "{a: 1} x", "'open"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(matches!(parse(&"[".repeat(100_000)), Err(ParseError::TooDeep)), "deep nesting is an error, not a stack overflow");
        let deep_but_fine = format!("{}{}", "[".repeat(MAX_NESTING), "]".repeat(MAX_NESTING));
        assert!(parse(&deep_but_fine).is_ok());
    }

    #[test]
    fn files_say_which_file_and_huge_ones_are_refused_unread() {
        let dir = asm_testkit::TempDir::new("lenient-json");
        assert!(read_file(&dir.join("missing.json")).unwrap().is_none());
        std::fs::write(dir.join("bad.json"), "{ a: ").unwrap();
        let err = read_file(&dir.join("bad.json")).unwrap_err().to_string();
        assert!(err.starts_with(&format!("{}: ", dir.join("bad.json").display())), "{err}");
        let big = std::fs::File::create(dir.join("big.json")).unwrap();
        big.set_len(MAX_CONFIG_BYTES + 1).unwrap();
        let err = read_file(&dir.join("big.json")).unwrap_err().to_string();
        assert!(err.contains("more than the") && err.contains("not read"), "{err}");
    }
}
