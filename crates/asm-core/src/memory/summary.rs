//! The optional model summary (ASM_SUMMARY_MODE=platform): ask the platform to summarize the
//! session itself, the way it does when it compacts — OpenClaw `sessions.compact` through its
//! CLI, Claude Code `claude -p "/compact …" --resume ID`, OpenCode
//! `POST /session/{id}/summarize` on a running `opencode serve`. The platform writes its
//! summary into the transcript, where the extraction that follows finds it and puts it first.
//! When the quota is paused, or the call fails or times out, the extracted sections stand
//! alone and the memory file says why.

use super::extract::{PlatformSummary, Sections};
use super::{readers, SummaryInfo, TranscriptEvent};
use crate::config::{Config, SummaryMode};
use crate::proc::{run, which, Cmd};
use crate::session::{Platform, SessionInfo, TranscriptRef};
use crate::Runtime;
use serde_json::{json, Value};
use std::time::Duration;

/// The instructions given with Claude Code's `/compact`.
pub const COMPACT_INSTRUCTIONS: &str = "Summarize for a handoff to a new session: the goal, decisions and their reasons, files read and changed, \
     commands run and their outcome, errors and whether they were fixed, open items, and every identifier (paths, URLs, ids, ports, branches) exactly.";

/// What asking the platform for a summary came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// ASM_SUMMARY_MODE=extract: nothing was asked.
    NotAsked,
    /// The platform summarized; `text` when it handed the summary back directly.
    Done { source: String, text: Option<String> },
    /// Not available, failed or timed out; the reason goes into the memory file.
    Failed(String),
}

impl Outcome {
    /// Puts a returned summary in front and says where the leading summary came from.
    pub fn apply(self, config: &Config, sections: &mut Sections) -> SummaryInfo {
        let mode = match config.summary_mode {
            SummaryMode::Extract => "extract",
            SummaryMode::Platform => "platform",
        };
        let fallback_reason = match self {
            Outcome::NotAsked => None,
            Outcome::Done { source, text: Some(text) } if !text.trim().is_empty() => {
                sections.platform_summaries_seen += 1;
                let text = super::extract::clip(&crate::redact::redact(text.trim()), super::extract::Caps::SUMMARY_CHARS);
                sections.platform_summary = Some(PlatformSummary { text, source, at: Some(chrono::Utc::now().to_rfc3339()) });
                None
            }
            Outcome::Done { source, .. } => {
                (sections.platform_summary.is_none()).then(|| format!("{source} reported success but no summary was found in the transcript"))
            }
            Outcome::Failed(reason) => Some(reason),
        };
        let source = if sections.platform_summary.is_some() { "platform" } else { "extract" };
        SummaryInfo { mode: mode.into(), source: source.into(), fallback_reason }
    }
}

/// Asks the platform for a summary when the configuration says so.
pub fn request(rt: &Runtime, info: &SessionInfo, transcript: &TranscriptRef) -> Outcome {
    if rt.config.summary_mode != SummaryMode::Platform {
        return Outcome::NotAsked;
    }
    if crate::quota::work_paused(rt) {
        return Outcome::Failed("the model quota is low and model work is paused; kept the extracted summary".into());
    }
    let outcome = match info.platform {
        Platform::ClaudeCode => claude_code(rt, info),
        Platform::Openclaw => openclaw(rt, info),
        Platform::Opencode => opencode(rt, info, transcript),
    };
    if let Outcome::Failed(reason) = &outcome {
        log::warn!("platform summary of {} failed, using the extracted one: {reason}", info.session_id);
    }
    outcome
}

fn timeout(rt: &Runtime) -> Duration {
    Duration::from_secs(rt.config.summary_timeout)
}

fn find_tool(rt: &Runtime, program: &str) -> Result<String, Outcome> {
    which(program, rt.env.get("PATH")).map(|p| p.to_string_lossy().into_owned()).ok_or_else(|| Outcome::Failed(format!("{program} was not found on PATH")))
}

/// A platform CLI child sees the environment ASM was given (the same as the process's, except
/// in tests that inject one).
fn with_env(rt: &Runtime, mut cmd: Cmd) -> Cmd {
    for (k, v) in rt.env.iter() {
        cmd = cmd.env(k, v);
    }
    cmd
}

fn child_failure(program: &str, out: &crate::proc::Output) -> Outcome {
    let detail = out.stderr_text().lines().chain(out.stdout_text().lines()).map(str::trim).find(|l| !l.is_empty()).unwrap_or_default().to_string();
    Outcome::Failed(format!("{program} {}{}", out.describe(), if detail.is_empty() { String::new() } else { format!(": {detail}") }))
}

/// `claude -p "/compact …" --resume ID --output-format json`, run in the session's directory
/// (Claude Code finds a session through the project of its working directory).
fn claude_code(rt: &Runtime, info: &SessionInfo) -> Outcome {
    let program = match find_tool(rt, "claude") {
        Ok(p) => p,
        Err(o) => return o,
    };
    let prompt = format!("/compact {COMPACT_INSTRUCTIONS}");
    let mut cmd = with_env(rt, Cmd::new([program.as_str(), "-p", &prompt, "--resume", &info.session_id, "--output-format", "json"]).timeout(timeout(rt)));
    if let Some(cwd) = info.cwd.as_deref().filter(|c| std::path::Path::new(c).is_dir()) {
        cmd = cmd.cwd(cwd);
    }
    let out = match run(&cmd) {
        Ok(out) => out,
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    let result: Option<Value> = serde_json::from_slice(&out.stdout).ok();
    let is_error = result.as_ref().and_then(|r| r.get("is_error")).and_then(Value::as_bool).unwrap_or(true);
    if !out.success() || is_error {
        let reason = result.as_ref().and_then(|r| r.get("result")).and_then(Value::as_str).filter(|s| !s.is_empty());
        return match reason {
            Some(r) => Outcome::Failed(format!("claude /compact failed: {r}")),
            None => child_failure("claude /compact", &out),
        };
    }
    Outcome::Done { source: "Claude Code /compact".into(), text: None }
}

/// `openclaw gateway call sessions.compact --params {"key":…} --json`; the answer carries the summary.
fn openclaw(rt: &Runtime, info: &SessionInfo) -> Outcome {
    let Some(key) = info.key.as_deref() else {
        return Outcome::Failed("the session has no OpenClaw key to compact".into());
    };
    let program = match find_tool(rt, "openclaw") {
        Ok(p) => p,
        Err(o) => return o,
    };
    let params = json!({ "key": key }).to_string();
    let timeout_ms = (rt.config.summary_timeout * 1000).to_string();
    let argv = [program.as_str(), "gateway", "call", "sessions.compact", "--params", &params, "--json", "--timeout", &timeout_ms];
    let cmd = with_env(rt, Cmd::new(argv).timeout(timeout(rt) + Duration::from_secs(5)));
    let out = match run(&cmd) {
        Ok(out) => out,
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    let answer: Option<Value> = serde_json::from_slice(&out.stdout).ok();
    let compacted = answer.as_ref().is_some_and(|a| a.get("ok") == Some(&Value::Bool(true)) && a.get("compacted") != Some(&Value::Bool(false)));
    if !out.success() || !compacted {
        if let Some(reason) = answer.as_ref().and_then(|a| a.get("reason").or_else(|| a.pointer("/error/message"))).and_then(Value::as_str) {
            return Outcome::Failed(format!("openclaw sessions.compact: {reason}"));
        }
        return child_failure("openclaw sessions.compact", &out);
    }
    let text = answer.as_ref().and_then(|a| a.pointer("/result/summary")).and_then(Value::as_str).map(str::to_string);
    Outcome::Done { source: "OpenClaw sessions.compact".into(), text }
}

/// `POST /session/{id}/summarize {"providerID","modelID"}` on `opencode serve` (synchronous,
/// answers `true`); Basic auth when OPENCODE_SERVER_PASSWORD is set, as OpenCode requires then.
fn opencode(rt: &Runtime, info: &SessionInfo, transcript: &TranscriptRef) -> Outcome {
    let (provider, model) = match last_model(transcript) {
        Some(pm) => pm,
        None => return Outcome::Failed("the OpenCode session names no provider/model to summarize with".into()),
    };
    let mut url = format!("{}/session/{}/summarize", rt.config.opencode_url, info.session_id);
    if let Some(cwd) = &info.cwd {
        url = format!("{url}?directory={}", percent_encode(cwd));
    }
    let agent = ureq::AgentBuilder::new().timeout(timeout(rt)).build();
    let mut req = agent.post(&url);
    if let Some(password) = rt.env.get("OPENCODE_SERVER_PASSWORD") {
        let secret = crate::config::Secret::new(password, "OPENCODE_SERVER_PASSWORD");
        let user = rt.env.get("OPENCODE_SERVER_USERNAME").unwrap_or("opencode");
        req = req.set("Authorization", &format!("Basic {}", base64(format!("{user}:{}", secret.expose()).as_bytes())));
    }
    match req.send_json(json!({ "providerID": provider, "modelID": model })) {
        Ok(resp) => match resp.into_json::<Value>() {
            Ok(Value::Bool(true)) => Outcome::Done { source: "OpenCode summarize".into(), text: None },
            Ok(other) => Outcome::Failed(format!("opencode summarize answered {}", crate::memory::extract::clip(&other.to_string(), 200))),
            Err(e) => Outcome::Failed(format!("opencode summarize answered something that is not JSON: {e}")),
        },
        Err(ureq::Error::Status(code, resp)) => {
            let body = resp.into_string().unwrap_or_default();
            Outcome::Failed(format!("opencode summarize answered HTTP {code}: {}", crate::memory::extract::clip(body.trim(), 200)))
        }
        Err(e) => Outcome::Failed(format!("opencode summarize at {} failed: {e}", rt.config.opencode_url)),
    }
}

/// The provider and model of the session's last assistant message.
fn last_model(transcript: &TranscriptRef) -> Option<(String, String)> {
    let mut found = None;
    readers::read(transcript, &mut |event| {
        if let TranscriptEvent::Context { model: Some(m), provider: Some(p), .. } = event {
            found = Some((p, m));
        }
    })
    .ok()?;
    found
}

fn percent_encode(text: &str) -> String {
    text.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16) | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8) | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Env;
    use asm_testkit::{MockServer, Response, TempDir};
    use std::os::unix::fs::PermissionsExt;

    fn runtime(home: &std::path::Path, extra: &[(&str, String)]) -> Runtime {
        let mut pairs: Vec<(String, String)> = vec![("HOME".into(), home.display().to_string()), ("ASM_SUMMARY_MODE".into(), "platform".into())];
        pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
        Runtime::from_env(Env::from_pairs(pairs)).unwrap()
    }

    fn session(platform: Platform, id: &str, key: Option<&str>) -> SessionInfo {
        SessionInfo { key: key.map(str::to_string), cwd: Some("/tmp/ocfx/demo".into()), ..SessionInfo::bare(platform, id) }
    }

    fn fake_tool(dir: &std::path::Path, name: &str, script: &str) {
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn base64_matches_the_standard_alphabet() {
        assert_eq!(base64(b"opencode:pw"), "b3BlbmNvZGU6cHc=");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
    }

    #[test]
    fn extract_mode_asks_nothing() {
        let home = TempDir::new("sum-none");
        let mut rt = runtime(home.path(), &[]);
        rt.config.summary_mode = SummaryMode::Extract;
        let info = session(Platform::ClaudeCode, "s", None);
        assert_eq!(request(&rt, &info, &TranscriptRef::ClaudeCodeJsonl { path: "/x".into() }), Outcome::NotAsked);
    }

    #[test]
    fn opencode_summarize_is_posted_with_the_sessions_model_and_basic_auth() {
        let home = TempDir::new("sum-oc");
        let db = crate::memory::readers::opencode::tests::fixture_db(home.path());
        let server = MockServer::start(|_| Response::json(200, &json!(true)));
        let rt = runtime(home.path(), &[("ASM_OPENCODE_URL", server.url()), ("OPENCODE_SERVER_PASSWORD", "pw-for-test".into())]);
        let id = crate::memory::readers::opencode::tests::SESSION_A;
        let transcript = TranscriptRef::OpencodeSqlite { db, session_id: id.into() };
        let outcome = request(&rt, &session(Platform::Opencode, id, None), &transcript);
        assert_eq!(outcome, Outcome::Done { source: "OpenCode summarize".into(), text: None });
        let req = &server.requests()[0];
        assert_eq!(req.path, format!("/session/{id}/summarize?directory=/tmp/ocfx/demo"));
        assert_eq!(req.body_json().unwrap(), json!({"providerID": "mock", "modelID": "mock-model"}));
        assert_eq!(req.header("authorization"), Some(format!("Basic {}", base64(b"opencode:pw-for-test")).as_str()));
    }

    #[test]
    fn opencode_error_falls_back_and_says_why() {
        let home = TempDir::new("sum-oc-err");
        let db = crate::memory::readers::opencode::tests::fixture_db(home.path());
        let server = MockServer::start(|_| Response::json(500, &json!({"name": "UnknownError"})));
        let rt = runtime(home.path(), &[("ASM_OPENCODE_URL", server.url())]);
        let id = crate::memory::readers::opencode::tests::SESSION_A;
        let outcome = request(&rt, &session(Platform::Opencode, id, None), &TranscriptRef::OpencodeSqlite { db, session_id: id.into() });
        let Outcome::Failed(reason) = outcome.clone() else { panic!("{outcome:?}") };
        assert!(reason.contains("HTTP 500"), "{reason}");
        let mut sections = Sections::default();
        let info = outcome.apply(&rt.config, &mut sections);
        assert_eq!((info.mode.as_str(), info.source.as_str()), ("platform", "extract"));
        assert!(info.fallback_reason.unwrap().contains("HTTP 500"));
    }

    #[test]
    fn openclaw_compact_summary_leads_and_a_hung_cli_times_out() {
        let home = TempDir::new("sum-ocl");
        let bin = home.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        fake_tool(
            &bin,
            "openclaw",
            r#"echo '{"ok":true,"key":"k","compacted":true,"result":{"summary":"Decisions: keep port 18789.","firstKeptEntryId":"x","tokensBefore":10}}'"#,
        );
        let rt = runtime(home.path(), &[("PATH", bin.display().to_string())]);
        let info = session(Platform::Openclaw, "s", Some("agent:main:topic-466"));
        let transcript = TranscriptRef::OpenclawJsonl { path: "/x".into() };
        let outcome = request(&rt, &info, &transcript);
        let mut sections = Sections::default();
        let summary = outcome.apply(&rt.config, &mut sections);
        assert_eq!(summary.source, "platform");
        assert_eq!(sections.platform_summary.unwrap().text, "Decisions: keep port 18789.");

        fake_tool(&bin, "openclaw", "sleep 30");
        let path = format!("{}:/usr/bin:/bin", bin.display());
        let rt = runtime(home.path(), &[("PATH", path), ("ASM_SUMMARY_TIMEOUT", "1".into())]);
        let Outcome::Failed(reason) = request(&rt, &info, &transcript) else { panic!("expected a failure") };
        assert!(reason.contains("timed out"), "{reason}");
    }

    #[test]
    fn paused_quota_asks_nothing_and_says_so() {
        let home = TempDir::new("sum-paused");
        let server = MockServer::start(|_| Response::json(200, &json!(true)));
        let rt = runtime(home.path(), &[("ASM_OPENCODE_URL", server.url())]);
        rt.state().update("quota", |q: &mut Value| *q = json!({"paused": true, "reason": "test"})).unwrap();
        let outcome = request(&rt, &session(Platform::Opencode, "ses_x", None), &TranscriptRef::OpencodeSqlite { db: "/x".into(), session_id: "ses_x".into() });
        let Outcome::Failed(reason) = outcome else { panic!("{outcome:?}") };
        assert!(reason.contains("quota is low"), "{reason}");
        assert!(server.requests().is_empty(), "no model call while paused");
    }

    #[test]
    fn missing_cli_is_a_fallback_not_an_error() {
        let home = TempDir::new("sum-cc");
        let rt = runtime(home.path(), &[("PATH", home.join("empty-bin").display().to_string())]);
        let outcome = request(&rt, &session(Platform::ClaudeCode, "s", None), &TranscriptRef::ClaudeCodeJsonl { path: "/x".into() });
        assert_eq!(outcome, Outcome::Failed("claude was not found on PATH".into()));
    }
}
