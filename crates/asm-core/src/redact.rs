//! Secret redaction, in one place. Everything that leaves the process as text (log lines,
//! notifications, memory files, error messages) passes through [`redact`].
//!
//! Two nets: patterns for the usual credential shapes, and the exact values of secrets this
//! process knows (registered by [`crate::config::Secret::new`]), so a token of an unusual shape
//! is still caught once it has been configured.

use regex::{Captures, Regex, RegexSet};
use std::borrow::Cow;
use std::sync::{OnceLock, RwLock};

pub const MASK: &str = "[REDACTED]";

struct Pattern {
    regex: Regex,
    /// Capture group to keep in front of the mask (a label such as `password=`), if any.
    keep_prefix: Option<usize>,
    /// A match this says is no secret is left as it is.
    not_a_secret: Option<fn(&Captures) -> bool>,
}

fn patterns() -> &'static [Pattern] {
    static PATTERNS: OnceLock<Vec<Pattern>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let p = |re: &str, keep_prefix: Option<usize>| Pattern { regex: Regex::new(re).expect("static pattern"), keep_prefix, not_a_secret: None };
        vec![
            // PEM private key blocks and PGP private key armour, whole.
            p(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|$)", None),
            // Telegram bot tokens, also inside Bot API URLs (/bot<token>/method).
            p(r"\d{6,12}:[A-Za-z0-9_-]{30,}", None),
            // Provider API keys: Anthropic, OpenAI, MiniMax sk-api/sk-cp, OpenRouter ... also
            // glued to a variable name by `_` (MY_TOKEN_sk-ant-…), which is no word boundary.
            p(r"(\b|_)sk-[A-Za-z0-9][A-Za-z0-9_-]{15,}", Some(1)),
            p(r"(\b|_)(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})", Some(1)),
            p(r"\bxox[abposr]-[A-Za-z0-9-]{10,}", None),
            p(r"\bAKIA[0-9A-Z]{16}\b", None),
            p(r"\bAIza[0-9A-Za-z_-]{30,}", None),
            p(r"\bglpat-[A-Za-z0-9_-]{16,}", None),
            // JSON Web Tokens (MiniMax group keys are JWTs).
            p(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", None),
            // Authorization headers.
            p(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{8,}", None),
            // Passwords in URLs: scheme://user:password@host, a `/` in the password included;
            // host:port/path@… is no password.
            Pattern {
                regex: Regex::new(r"([a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]+:)([^\s@]+)@").expect("static pattern"),
                keep_prefix: Some(1),
                not_a_secret: Some(|c: &Captures| {
                    c.get(2).is_some_and(|pw| pw.as_str().split('/').next().is_some_and(|port| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())))
                }),
            },
            // key=value and "key": "value" forms of the usual secret names.
            p(
                r#"(?i)((?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|client[_-]?secret|auth)["']?\s*[:=]\s*["']?)[^\s"',;&]{4,}"#,
                Some(1),
            ),
        ]
    })
}

/// All patterns in one automaton: one pass tells whether a text needs any replacing at all,
/// which for the great majority of strings (paths, titles, ids) it does not.
fn any_pattern() -> &'static RegexSet {
    static SET: OnceLock<RegexSet> = OnceLock::new();
    SET.get_or_init(|| RegexSet::new(patterns().iter().map(|p| p.regex.as_str())).expect("static patterns"))
}

fn known_secrets() -> &'static RwLock<Vec<String>> {
    static KNOWN: OnceLock<RwLock<Vec<String>>> = OnceLock::new();
    KNOWN.get_or_init(|| RwLock::new(Vec::new()))
}

/// Remembers a secret value so that it is masked wherever it appears later.
/// Values shorter than 6 characters are ignored: masking them would shred ordinary text.
pub fn register_secret(value: &str) {
    let value = value.trim();
    if value.len() < 6 {
        return;
    }
    let mut known = known_secrets().write().unwrap_or_else(|e| e.into_inner());
    if !known.iter().any(|k| k == value) {
        known.push(value.to_string());
    }
}

/// The text with every secret replaced by [`MASK`]. Borrowed when nothing matched.
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    {
        let known = known_secrets().read().unwrap_or_else(|e| e.into_inner());
        for secret in known.iter() {
            if out.contains(secret.as_str()) {
                out = Cow::Owned(out.replace(secret.as_str(), MASK));
            }
        }
    }
    if !any_pattern().is_match(&out) {
        return out;
    }
    for pattern in patterns() {
        if let Cow::Owned(replaced) = pattern.regex.replace_all(&out, |c: &Captures| {
            if pattern.not_a_secret.is_some_and(|check| check(c)) {
                return c[0].to_string();
            }
            let prefix = pattern.keep_prefix.and_then(|i| c.get(i)).map_or("", |m| m.as_str());
            format!("{prefix}{MASK}")
        }) {
            if replaced != *out {
                out = Cow::Owned(replaced);
            }
        }
    }
    out
}

/// A stable digest of `parts` (SHA-256, 16 hex digits), for what is persisted by identity
/// only: a coalescing key, a route's fingerprint. The text itself, which may hold a secret,
/// is never stored.
pub fn digest(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in parts {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    h.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Redacts every string inside a JSON value, in place.
pub fn redact_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(s) => {
            if let Cow::Owned(r) = redact(s) {
                *s = r;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_json),
        serde_json::Value::Object(map) => map.values_mut().for_each(redact_json),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_the_usual_credentials() {
        let cases = [
            "key sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789",
            "OPENAI sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX",
            "url https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/sendMessage",
            "Authorization: Bearer abcdef0123456789abcdef",
            "postgres://admin:hunter2secret@db.local:5432/x",
            "password=correcthorsebattery",
            r#"{"apiKey": "zzzzzzzzzzzzzzzz"}"#,
            "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
            "AKIAIOSFODNN7EXAMPLE",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
        ];
        for case in cases {
            let out = redact(case);
            assert!(out.contains(MASK), "not masked: {case} -> {out}");
        }
        assert!(!redact("postgres://admin:hunter2secret@db").contains("hunter2secret"));
        assert!(redact("postgres://admin:hunter2secret@db").contains("postgres://admin:"));
        assert!(redact("password=correcthorsebattery").starts_with("password="));
    }

    #[test]
    fn closes_the_shapes_an_attack_run_got_through() {
        let cases = [
            ("https://bob:SEC/RET@example.com/x", "SEC/RET"),
            ("-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQOYBGQx\n-----END PGP PRIVATE KEY BLOCK-----", "lQOYBGQx"),
            ("export MY_TOKEN_sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123", "abcdefghijklmnop"),
            ("CI_ghp_abcdefghijklmnopqrstuvwxyz0123456789", "abcdefghijklmnop"),
        ];
        for (case, secret) in cases {
            let out = redact(case);
            assert!(out.contains(MASK) && !out.contains(secret), "{case} -> {out}");
        }
        assert!(redact("export MY_TOKEN_sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123").starts_with("export MY_TOKEN_"), "the name stays readable");
        assert_eq!(digest(&["a", "b"]).len(), 16);
        assert_ne!(digest(&["a", "b"]), digest(&["ab"]));
    }

    #[test]
    fn leaves_ordinary_text_alone() {
        for text in [
            "src/main.rs:42 fixed the bug",
            "commit 3f2a9c1 on branch main",
            "port 18789",
            "see https://example.com/docs",
            "http://127.0.0.1:18789/@fs/src/main.ts",
        ] {
            assert!(matches!(redact(text), Cow::Borrowed(_)), "{text}");
        }
    }

    #[test]
    fn masks_registered_values_of_any_shape() {
        register_secret("plain-looking-value-42");
        assert_eq!(redact("x plain-looking-value-42 y"), format!("x {MASK} y"));
    }
}
