//! OpenCode's own summary (ASM_SUMMARY_MODE=platform): `POST /session/{id}/summarize` on a
//! running `opencode serve`, with the provider and model of the session's last answer.
//! OpenCode writes the summary into the session, where `events.rs` finds it.

use super::server::Server;
use crate::platform::SummaryOutcome;
use crate::session::{SessionInfo, TranscriptRef};
use crate::transcript::TranscriptEvent;
use crate::Runtime;
use std::time::Duration;

pub fn summarize(rt: &Runtime, info: &SessionInfo) -> SummaryOutcome {
    let Some((provider, model)) = info.transcript.as_ref().and_then(last_model) else {
        return SummaryOutcome::Failed("the OpenCode session names no provider/model to summarize with".into());
    };
    let server = Server::new(rt, Duration::from_secs(rt.config.summary_timeout));
    match server.summarize(&info.session_id, info.cwd.as_deref(), &provider, &model) {
        Ok(()) => SummaryOutcome::Done { source: "OpenCode summarize".into(), text: None },
        Err(e) => SummaryOutcome::Failed(e.to_string()),
    }
}

/// The provider and model of the session's last assistant message.
fn last_model(transcript: &TranscriptRef) -> Option<(String, String)> {
    let mut found = None;
    super::read_events(transcript, &mut |event| {
        if let TranscriptEvent::Context { model: Some(m), provider: Some(p), .. } = event {
            found = Some((p, m));
        }
    })
    .ok()?;
    found
}
