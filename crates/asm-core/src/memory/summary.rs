//! The optional model summary (ASM_SUMMARY_MODE=platform): ask the session's platform to
//! summarize it, the way it does when it compacts (each adapter's `summary.rs` knows how). The
//! platform writes its summary into the transcript, where the extraction that follows finds it
//! and puts it first, or hands it back. When the quota is paused, or the call fails or times
//! out, the extracted sections stand alone and the memory file says why.

use super::extract::{PlatformSummary, Sections};
use super::SummaryInfo;
use crate::config::{Config, SummaryMode};
use crate::platform::SummaryOutcome;
use crate::session::SessionInfo;
use crate::Runtime;

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

impl From<SummaryOutcome> for Outcome {
    fn from(o: SummaryOutcome) -> Outcome {
        match o {
            SummaryOutcome::Done { source, text } => Outcome::Done { source, text },
            SummaryOutcome::Failed(reason) => Outcome::Failed(reason),
        }
    }
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
pub fn request(rt: &Runtime, info: &SessionInfo) -> Outcome {
    if rt.config.summary_mode != SummaryMode::Platform {
        return Outcome::NotAsked;
    }
    if crate::quota::work_paused(rt) {
        return Outcome::Failed("the model quota is low and model work is paused; kept the extracted summary".into());
    }
    let outcome: Outcome = crate::platform::adapter(info.platform).summarize(rt, info).into();
    if let Outcome::Failed(reason) = &outcome {
        log::warn!("platform summary of {} failed, using the extracted one: {reason}", info.session_id);
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Env;
    use crate::session::{Platform, StoreKind, TranscriptRef};
    use asm_testkit::{MockServer, Response, TempDir};
    use serde_json::json;
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
    fn extract_mode_asks_nothing() {
        let home = TempDir::new("sum-none");
        let mut rt = runtime(home.path(), &[]);
        rt.config.summary_mode = SummaryMode::Extract;
        let info = session(Platform::ClaudeCode, "s", None);
        assert_eq!(request(&rt, &info), Outcome::NotAsked);
    }

    #[test]
    fn opencode_summarizes_a_fork_with_the_sessions_model_and_deletes_it() {
        let home = TempDir::new("sum-oc");
        let db = crate::platform::opencode::events::tests::fixture_db(home.path());
        let server = MockServer::start(|req| match (req.method.as_str(), req.path.split('?').next().unwrap_or_default()) {
            ("POST", p) if p.ends_with("/fork") => Response::json(200, &json!({"id": "ses_fork1", "title": "x (fork #1)"})),
            ("POST", "/session/ses_fork1/summarize") => Response::json(200, &json!(true)),
            ("GET", "/session/ses_fork1/message") => Response::json(
                200,
                &json!([{"info": {"role": "user"}, "parts": [{"type": "compaction"}]},
                        {"info": {"role": "assistant", "summary": true, "mode": "compaction"}, "parts": [{"type": "text", "text": "## Objective\n- ship it"}]}]),
            ),
            ("DELETE", "/session/ses_fork1") => Response::json(200, &json!(true)),
            _ => Response::json(404, &json!({"name": "NotFound"})),
        });
        let rt = runtime(home.path(), &[("ASM_OPENCODE_URL", server.url()), ("OPENCODE_SERVER_PASSWORD", "pw-for-test".into())]);
        let id = crate::platform::opencode::events::tests::SESSION_A;
        let info = SessionInfo { transcript: Some(TranscriptRef::new(StoreKind::Sqlite, db, id)), ..session(Platform::Opencode, id, None) };
        let outcome = request(&rt, &info);
        assert_eq!(outcome, Outcome::Done { source: "OpenCode summarize (of a fork)".into(), text: Some("## Objective\n- ship it".into()) });
        let calls: Vec<String> = server.requests().iter().map(|r| format!("{} {}", r.method, r.path)).collect();
        assert_eq!(
            calls,
            [
                format!("POST /session/{id}/fork?directory=/tmp/ocfx/demo"),
                "POST /session/ses_fork1/summarize?directory=/tmp/ocfx/demo".to_string(),
                "GET /session/ses_fork1/message?directory=/tmp/ocfx/demo".to_string(),
                "DELETE /session/ses_fork1?directory=/tmp/ocfx/demo".to_string(),
            ],
            "the person's session is only forked, never summarized itself"
        );
        let summarize = &server.requests()[1];
        assert_eq!(summarize.body_json().unwrap(), json!({"providerID": "mock", "modelID": "mock-model"}));
        assert_eq!(summarize.header("authorization"), Some(crate::http::basic_auth("opencode", "pw-for-test").as_str()));
        assert!(!rt.paths.summary_fork_marker("ses_fork1").exists(), "the fork's marker is gone with the fork");
    }

    #[test]
    fn opencode_error_falls_back_and_says_why() {
        let home = TempDir::new("sum-oc-err");
        let db = crate::platform::opencode::events::tests::fixture_db(home.path());
        let server = MockServer::start(|_| Response::json(500, &json!({"name": "UnknownError"})));
        let rt = runtime(home.path(), &[("ASM_OPENCODE_URL", server.url())]);
        let id = crate::platform::opencode::events::tests::SESSION_A;
        let info = SessionInfo { transcript: Some(TranscriptRef::new(StoreKind::Sqlite, db, id)), ..session(Platform::Opencode, id, None) };
        let outcome = request(&rt, &info);
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
        let outcome = request(&rt, &info);
        let mut sections = Sections::default();
        let summary = outcome.apply(&rt.config, &mut sections);
        assert_eq!(summary.source, "platform");
        assert_eq!(sections.platform_summary.unwrap().text, "Decisions: keep port 18789.");

        fake_tool(&bin, "openclaw", "sleep 30");
        let path = format!("{}:/usr/bin:/bin", bin.display());
        let rt = runtime(home.path(), &[("PATH", path), ("ASM_SUMMARY_TIMEOUT", "1".into())]);
        let Outcome::Failed(reason) = request(&rt, &info) else { panic!("expected a failure") };
        assert!(reason.contains("timed out"), "{reason}");
    }

    #[test]
    fn paused_quota_asks_nothing_and_says_so() {
        let home = TempDir::new("sum-paused");
        let server = MockServer::start(|_| Response::json(200, &json!(true)));
        let rt = runtime(home.path(), &[("ASM_OPENCODE_URL", server.url())]);
        rt.state().update(|q: &mut crate::quota::pause::QuotaState| q.paused = true).unwrap();
        let outcome = request(&rt, &session(Platform::Opencode, "ses_x", None));
        let Outcome::Failed(reason) = outcome else { panic!("{outcome:?}") };
        assert!(reason.contains("quota is low"), "{reason}");
        assert!(server.requests().is_empty(), "no model call while paused");
    }

    #[test]
    fn missing_cli_is_a_fallback_not_an_error() {
        let home = TempDir::new("sum-cc");
        let rt = runtime(home.path(), &[("PATH", home.join("empty-bin").display().to_string())]);
        let outcome = request(&rt, &session(Platform::ClaudeCode, "s", None));
        assert_eq!(outcome, Outcome::Failed("claude was not found on PATH".into()));
    }
}
