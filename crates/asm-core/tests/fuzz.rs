//! Fuzz targets on the stable toolchain (proptest): every parser that reads what another
//! program wrote — Claude Code lines, OpenCode and OpenClaw rows, the Telegram and MiniMax
//! answers, JSON5 configs, the bounded JSON reader — and the redactor, fed random bytes,
//! random JSON and mutated real records. The property is the same everywhere: no panic, no
//! hang, and an answer; the redactor also never lets a secret shape through.
//!
//! `make test` runs each target with proptest's default case count; `make stress` runs them
//! with PROPTEST_CASES=50000 (the README's "Reliability" section has the figures).

use asm_core::platform::{claude_code, openclaw, opencode};
use asm_core::quota::reading;
use asm_core::session::{StoreKind, TranscriptRef};
use asm_core::transcript::TranscriptEvent;
use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::io::Write;

/// Real records to mutate: one of each shape the readers meet.
const SEEDS: &[&str] = &[
    r#"{"type":"user","sessionId":"s","cwd":"/w","uuid":"u1","message":{"role":"user","content":"split the parser"}}"#,
    r#"{"type":"assistant","sessionId":"s","uuid":"a1","message":{"id":"m","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"tool_use","id":"t","name":"Bash","input":{"command":"ls"}}],"usage":{"input_tokens":4,"cache_read_input_tokens":150000,"output_tokens":3}}}"#,
    r#"{"type":"system","subtype":"compact_boundary","compactMetadata":{"trigger":"auto","preTokens":167000}}"#,
    r#"{"type":"message","message":{"role":"toolResult","content":[{"type":"text","text":"ok"}]}}"#,
    r#"{"type":"compaction","summary":"s","details":{"readFiles":["a"],"modifiedFiles":["b"]}}"#,
    r#"{"role":"assistant","tokens":{"input":10,"output":2,"cache":{"read":5,"write":0}},"modelID":"m","providerID":"p"}"#,
    r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}"#,
    r#"{"base_resp":{"status_code":0},"model_remains":[{"start_time":1,"end_time":2,"remains_time":3,"current_interval_total_count":1500,"current_interval_usage_count":1400}]}"#,
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        "\\PC{0,40}".prop_map(Value::String),
        prop_oneof![Just("type"), Just("message"), Just("content"), Just("usage"), Just("text"), Just("role")].prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("type".to_string()),
                    Just("message".to_string()),
                    Just("content".to_string()),
                    Just("usage".to_string()),
                    Just("role".to_string()),
                    Just("tokens".to_string()),
                    Just("text".to_string()),
                    "[a-z_]{1,12}"
                ],
                inner,
                0..8
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A real record with some bytes changed, inserted or cut.
fn mutated_seed() -> impl Strategy<Value = Vec<u8>> {
    (0..SEEDS.len(), prop::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 0..6)).prop_map(|(i, edits)| {
        let mut bytes = SEEDS[i].as_bytes().to_vec();
        for (at, byte, kind) in edits {
            if bytes.is_empty() {
                break;
            }
            let at = at % bytes.len();
            match kind {
                0 => bytes[at] = byte,
                1 => bytes.insert(at, byte),
                _ => bytes.truncate(at),
            }
        }
        bytes
    })
}

/// Any input a reader may meet: random bytes, random JSON, or a mutated real record.
fn record() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![prop::collection::vec(any::<u8>(), 0..300), json_value().prop_map(|v| v.to_string().into_bytes()), mutated_seed()]
}

fn temp_file(tag: &str, lines: &[Vec<u8>]) -> (asm_testkit::TempDir, std::path::PathBuf) {
    let dir = asm_testkit::TempDir::new(tag);
    let path = dir.join("t.jsonl");
    let mut f = std::fs::File::create(&path).unwrap();
    for line in lines {
        f.write_all(line).unwrap();
        f.write_all(b"\n").unwrap();
    }
    (dir, path)
}

/// 64 cases per target in `make test`; `make stress` sets PROPTEST_CASES.
fn config() -> ProptestConfig {
    ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64), ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn claude_code_lines(lines in prop::collection::vec(record(), 0..12)) {
        for line in &lines {
            let _ = claude_code::model::kinds(line);
            let _ = claude_code::model::user_prompt(line);
            let _ = claude_code::model::session_id_of(line);
        }
        let (_dir, path) = temp_file("fuzz-cc", &lines);
        let file = std::fs::File::open(&path).unwrap();
        let len = file.metadata().unwrap().len();
        let _ = claude_code::measure::read_transcript(&file, len);
        let mut events = 0;
        prop_assert!(claude_code::events::read(&path, &mut |_e: TranscriptEvent| events += 1).is_ok());
    }

    #[test]
    fn opencode_rows(data in record(), row_type in prop::option::of(prop_oneof![Just("assistant"), Just("user"), Just("x")])) {
        let _ = opencode::model::classify(&data, row_type);
        let value: Option<Value> = serde_json::from_slice(&data).ok();
        let _ = opencode::model::count_value(value.as_ref());
    }

    #[test]
    fn openclaw_rows(lines in prop::collection::vec(record(), 0..12)) {
        let (_dir, path) = temp_file("fuzz-ocl", &lines);
        let mut events = 0;
        prop_assert!(openclaw::events::read_jsonl(&path, &mut |_e: TranscriptEvent| events += 1).is_ok());
        let _ = openclaw::store_files::parse(&lines.first().cloned().unwrap_or_default(), &path.with_file_name("sessions.json"));
        let r = TranscriptRef::new(StoreKind::JsonlFile, path, "s");
        let _ = asm_core::platform::adapter(asm_core::session::Platform::Openclaw).read_events(&r, &mut |_e| {});
    }

    #[test]
    fn telegram_answers(status in 100u16..600, body in record()) {
        let text = String::from_utf8_lossy(&body);
        let _ = asm_core::notify::telegram::read_answer("https://api.telegram.org", status, &text, &|t| t.to_string());
    }

    #[test]
    fn minimax_answers(status in 100u16..600, body in record(), retry in "\\PC{0,12}", notice in "\\PC{0,200}") {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let text = String::from_utf8_lossy(&body);
        if let Ok(value) = reading::check_answer("https://api.minimax.io", status, "application/json", &text, Some(&retry), now) {
            let _ = reading::parse_remains(reading::Endpoint::TokenPlan, "https://api.minimax.io", &value, now);
            let _ = reading::parse_balance("https://api.minimax.io", &value, now);
        }
        if let Ok(value) = serde_json::from_str::<Value>(&text) {
            let _ = reading::parse_remains(reading::Endpoint::CodingPlan, "https://api.minimaxi.com", &value, now);
        }
        let _ = reading::parse_retry_after(&retry, now);
        let _ = reading::parse_usage_limit(&notice);
    }

    #[test]
    fn json5_configs(text in prop_oneof!["\\PC{0,300}", json_value().prop_map(|v| v.to_string()), mutated_seed().prop_map(|b| String::from_utf8_lossy(&b).into_owned())]) {
        let _ = asm_core::lenient_json::parse(&text);
    }

    #[test]
    fn bounded_json_agrees_with_serde_on_what_serde_reads(value in json_value()) {
        let text = value.to_string();
        let read = asm_core::bounded_json::read(text.as_bytes());
        prop_assert!(read.is_some());
        let read = read.unwrap();
        prop_assert!(read.complete);
        prop_assert_eq!(read.value, serde_json::from_str::<Value>(&text).unwrap());
    }

    #[test]
    fn bounded_json_never_panics(bytes in record()) {
        let _ = asm_core::bounded_json::read(bytes.as_slice());
    }

    #[test]
    fn the_redactor_is_idempotent_and_masks_every_shape(before in "\\PC{0,60}", after in "\\PC{0,60}", shape in 0usize..6) {
        let secrets = [
            "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123",
            "MY_TOKEN_sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX",
            "https://bob:SEC/RET@example.com",
            "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQOYBGQxSECRETARMOR\n-----END PGP PRIVATE KEY BLOCK-----",
            "Authorization: Bearer abcdef0123456789abcdef",
        ];
        let secret = secrets[shape];
        let text = format!("{before} {secret} {after}");
        let once = asm_core::redact::redact(&text).into_owned();
        prop_assert_eq!(asm_core::redact::redact(&once).into_owned(), once.clone(), "idempotent");
        for token in ["abcdefghijklmnopqrstuvwxyz0123", "ABCDEFGHIJKLMNOPQRSTUVWX", "SEC/RET", "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "lQOYBGQxSECRETARMOR", "abcdef0123456789abcdef"] {
            if secret.contains(token) && !before.contains(token) && !after.contains(token) {
                prop_assert!(!once.contains(token), "{} leaked from {:?}", token, text);
            }
        }
    }
}
