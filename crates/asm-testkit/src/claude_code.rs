//! Small Claude Code transcripts for tests that need a session to act on.

/// A 2.1.3xx-shaped transcript of session `id` in `/w`: one request and one response at
/// 170,100 tokens, 85 % of claude-sonnet-4-5's 200k window, with a decision in it.
pub fn transcript_at_85_percent(id: &str) -> String {
    let lines = [
        format!(r#"{{"type":"user","sessionId":"{id}","cwd":"/w","uuid":"u1","message":{{"role":"user","content":"split the parser into two modules"}}}}"#),
        format!(
            r#"{{"type":"assistant","sessionId":"{id}","cwd":"/w","uuid":"a1","parentUuid":"u1","message":{{"id":"msg_1","role":"assistant","model":"claude-sonnet-4-5","content":[{{"type":"text","text":"We decided to keep the reader streaming."}}],"usage":{{"input_tokens":100,"cache_creation_input_tokens":0,"cache_read_input_tokens":170000,"output_tokens":5}}}}}}"#
        ),
    ];
    lines.join("\n") + "\n"
}
