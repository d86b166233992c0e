//! The foundation seen from outside: bad configuration stops every tool before it does
//! anything (one line, exit 2), the effective configuration never shows secrets, and no
//! secret from the environment reaches a log file.

use asm_testkit::TempDir;
use serde_json::json;
use std::path::Path;
use std::process::{Command, Output};

const TOKEN: &str = "7345112233:AAFakeTelegramTokenForTestsOnly12345678";
const MINIMAX_KEY: &str = "sk-cp-ThisIsAFakeMinimaxKeyForTests9876";

fn bin(tool: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_BIN_EXE_asm_health_check")).with_file_name(format!("asm_{tool}"))
}

fn run(tool: &str, args: &[&str], env: &[(&str, &str)], state: &Path) -> Output {
    Command::new(bin(tool))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", state.join("home"))
        .env("OPENCLAW_STATE_DIR", state)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

#[test]
fn bad_values_stop_every_tool_with_one_line_and_exit_2() {
    let tmp = TempDir::new("cfg");
    let cases = [
        ("ASM_CONTEXT_THRESHOLD", "abc"),
        ("ASM_CONTEXT_THRESHOLD", "150"),
        ("ASM_MONITOR_INTERVAL", "-5"),
        ("ASM_GATEWAY_TIMEOUT", "soon"),
        ("ASM_MINIMAX_QUOTA_THRESHOLD", "lots"),
    ];
    let tools: [(&str, &[&str]); 5] = [
        ("health_check", &[]),
        ("session_manager", &["--list"]),
        ("monitor", &["--once"]),
        ("gateway_monitor", &[]),
        ("memory_manager", &["--action", "list"]),
    ];
    for (var, value) in cases {
        for (tool, args) in tools {
            let out = run(tool, args, &[(var, value)], tmp.path());
            assert_eq!(out.status.code(), Some(2), "{tool} with {var}={value}");
            let err = String::from_utf8_lossy(&out.stderr);
            let lines: Vec<&str> = err.lines().collect();
            assert_eq!(lines.len(), 1, "{tool}: exactly one line: {err}");
            assert!(lines[0].contains(var) && lines[0].contains(value) && lines[0].contains("expected"), "{tool}: {err}");
            assert!(out.stdout.is_empty(), "{tool} did nothing before stopping");
        }
    }
    assert!(!tmp.join(".asm_state.json").exists(), "nothing was written");
}

#[test]
fn a_flag_beats_the_variable_and_flag_values_are_checked() {
    let tmp = TempDir::new("flag");
    let out = run("monitor", &["--once", "--interval", "0"], &[], tmp.path());
    assert_eq!(out.status.code(), Some(2));
    let out = run("monitor", &["--once", "--interval", "5"], &[("ASM_MONITOR_INTERVAL", "60")], tmp.path());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn effective_configuration_shows_settings_but_never_secrets() {
    let tmp = TempDir::new("eff");
    let out = run("health_check", &["--json"], &[("TELEGRAM_BOT_TOKEN", TOKEN), ("MINIMAX_API_KEY", MINIMAX_KEY), ("ASM_CONTEXT_THRESHOLD", "75")], tmp.path());
    let text = String::from_utf8_lossy(&out.stdout);
    let doc: serde_json::Value = serde_json::from_str(&text).expect("one JSON document");
    let setting = |var: &str| doc["config"].as_array().unwrap().iter().find(|s| s["variable"] == var).cloned().unwrap();
    assert_eq!((setting("ASM_CONTEXT_THRESHOLD")["value"].clone(), setting("ASM_CONTEXT_THRESHOLD")["origin"].clone()), (json!(75), json!("environment")));
    assert_eq!((setting("ASM_FEED_TOPIC")["value"].clone(), setting("ASM_FEED_TOPIC")["origin"].clone()), (json!(466), json!("unset")));
    assert_eq!(setting("ASM_TELEGRAM_BOT_TOKEN")["value"], json!({"set": true, "from": "TELEGRAM_BOT_TOKEN"}));
    let check = |name: &str| doc["checks"].as_array().unwrap().iter().find(|c| c["name"] == name).cloned().unwrap();
    assert_eq!(check("monitor")["details"]["running"], false);
    assert_eq!(check("gateway")["details"]["watch"], "off", "{}", check("gateway"));
    assert!(!text.contains("AAFakeTelegram") && !text.contains("ThisIsAFakeMinimax"));
}

#[test]
fn no_secret_from_the_environment_reaches_the_log() {
    let tmp = TempDir::new("logsecret");
    let env = [("TELEGRAM_BOT_TOKEN", TOKEN), ("MINIMAX_API_KEY", MINIMAX_KEY), ("ASM_LOG_LEVEL", "trace"), ("ASM_MINIMAX_BASE_URL", "http://127.0.0.1:9")];
    // The monitor logs each step, including failing children whose errors may echo input: the
    // quota read fails here (nothing answers), so --once says so and exits 1.
    let out = run("monitor", &["--once"], &env, tmp.path());
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("problem: quota: ") && !said.contains("ThisIsAFakeMinimax"), "{said}");
    let out = run("session_manager", &["--show", TOKEN], &env, tmp.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("AAFakeTelegram"), "error lines are redacted too");
    let mut seen = 0;
    for entry in std::fs::read_dir(tmp.join("logs")).unwrap().flatten() {
        let log = std::fs::read_to_string(entry.path()).unwrap();
        seen += log.lines().count();
        assert!(!log.contains("AAFakeTelegram") && !log.contains("ThisIsAFakeMinimax"), "{}: {log}", entry.path().display());
    }
    assert!(seen > 0, "the logs were written, so the check means something");
}
