//! Synthetic Claude Code history in the real 2.1.3xx on-disk format, for the benchmark:
//! `root/.claude/projects/<encoded-cwd>/<uuid>.jsonl`, sessions of tool turns whose results
//! are tens of KB, each ending the way 2.1.330 ends a turn (final response, a ~24 KB
//! `prompt_snapshot` attachment, `last-prompt`, `atis-latch`, `cost-state`). Six sessions in
//! ten end in a trap for the measurement ([`Trap`]); the generator writes down what each
//! session must measure, so the bench can check every number.

use asm_core::platform::claude_code::paths::encode_project_dir;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Projects the sessions are spread over (a user's repos).
const PROJECTS: usize = 40;
const MODEL: &str = "claude-sonnet-4-5";

/// What a session must measure: its context tokens and window.
pub type Truth = std::collections::HashMap<String, (u64, u64)>;

/// How a session ends, when it is one of the traps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trap {
    /// The deciding response is more than 1 MB from the end (tool output after it).
    FarFromTheEnd,
    /// The last assistant line is an API error (synthetic, zero usage): not a response.
    ApiErrorLast,
    /// The file ends inside a line: tool output cut off mid-write.
    InterruptedOutput,
    /// A compaction boundary after the last response: its postTokens count.
    CompactionLast,
    /// Inline sidechain (legacy subagent) responses after the main chain's last one.
    LegacySidechain,
    /// The last response asked for the 1M window (`requestedModel` with `[1m]`).
    OneMillion,
}

const TRAPS: [Trap; 6] = [Trap::FarFromTheEnd, Trap::ApiErrorLast, Trap::InterruptedOutput, Trap::CompactionLast, Trap::LegacySidechain, Trap::OneMillion];

/// Writes `sessions` sessions of about `bytes_per_session` bytes each under `root` (used as
/// HOME); returns how many bytes were written and what each session must measure.
pub fn generate(root: &Path, sessions: usize, bytes_per_session: usize) -> io::Result<(u64, Truth)> {
    let mut rng = Rng(0x5eed_cafe_f00d_0001);
    let filler = Filler::new();
    let mut total = 0u64;
    let mut truth = Truth::new();
    for i in 0..sessions {
        let cwd = format!("/home/bench/work/project-{:02}", i % PROJECTS);
        let dir = root.join(".claude/projects").join(encode_project_dir(&cwd));
        if i < PROJECTS {
            fs::create_dir_all(&dir)?;
        }
        let session = Session { id: rng.uuid(), cwd, version: "2.1.330", day: 1 + (i % 28) as u32 };
        let mut out = Counting { inner: BufWriter::with_capacity(256 * 1024, File::create(dir.join(format!("{}.jsonl", session.id)))?), bytes: 0 };
        let trap = TRAPS.get(i % 10).copied();
        let measured = session.write(&mut out, bytes_per_session, &mut rng, &filler, trap)?;
        out.inner.flush()?;
        out.inner.get_ref().set_modified(last_written(i))?;
        total += out.bytes;
        truth.insert(session.id.clone(), measured);
    }
    Ok((total, truth))
}

/// A history as a user has it: one session in a hundred written in the last hour, the
/// others spread over the last two months (the monitor's idle round passes those over).
fn last_written(i: usize) -> std::time::SystemTime {
    let age = if i.is_multiple_of(100) { 60 * (1 + i as u64 % 50) } else { 86_400 * (1 + i as u64 % 60) };
    std::time::SystemTime::now() - std::time::Duration::from_secs(age)
}

struct Counting<W: Write> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A small deterministic generator, so two runs produce the same history.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn uuid(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        format!("{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xfff, 0x8000 | (b >> 48) & 0x3fff, b & 0xffff_ffff_ffff)
    }

    fn hex(&mut self, n: usize) -> String {
        let mut s = format!("{:016x}{:016x}", self.next(), self.next());
        s.truncate(n);
        s
    }
}

/// Pre-escaped text to cut tool results and snapshots from: source-like lines with JSON
/// escapes, as file reads and command output look inside a transcript.
struct Filler {
    text: String,
}

impl Filler {
    fn new() -> Filler {
        let mut text = String::with_capacity(256 * 1024);
        let mut n = 0;
        while text.len() < 200 * 1024 {
            text.push_str(&format!(
                "    {n:>5}\\tfn handle_request_{n}(ctx: &Context, req: Request) -> Result<Response, Error> {{ let body = req.body(); log::debug!(\\\"request {{}}\\\", body.len()); }}\\n"
            ));
            n += 1;
        }
        Filler { text }
    }

    /// About `len` bytes, never ending inside an escape.
    fn take(&self, len: usize) -> &str {
        let end = len.min(self.text.len());
        let cut = self.text[..end].rfind("\\n").map_or(0, |i| i + 2);
        &self.text[..cut]
    }
}

struct Session {
    id: String,
    cwd: String,
    version: &'static str,
    day: u32,
}

impl Session {
    fn envelope(&self, parent: &str, uuid: &str, second: u64) -> String {
        format!(
            r#""uuid":"{uuid}","timestamp":"2026-10-{:02}T{:02}:{:02}:{:02}.{:03}Z","userType":"external","entrypoint":"cli","cwd":"{}","sessionId":"{}","version":"{}","gitBranch":"main","parentUuid":{parent}"#,
            self.day,
            8 + second / 3600 % 12,
            second / 60 % 60,
            second % 60,
            second % 1000,
            self.cwd,
            self.id,
            self.version
        )
    }

    /// Writes the session; returns the context tokens and window it must measure.
    fn write<W: Write>(&self, out: &mut Counting<W>, target: usize, rng: &mut Rng, filler: &Filler, trap: Option<Trap>) -> io::Result<(u64, u64)> {
        let mut parent = "null".to_string();
        let mut second = rng.below(3600);
        let mut context = 18_000 + rng.below(4_000);
        let line = |out: &mut Counting<W>, s: String| -> io::Result<()> {
            out.write_all(s.as_bytes())?;
            out.write_all(b"\n")
        };
        line(
            out,
            format!(
                r#"{{"type":"queue-operation","operation":"enqueue","timestamp":"2026-10-{:02}T08:00:00.000Z","sessionId":"{}","content":"continue the refactor"}}"#,
                self.day, self.id
            ),
        )?;
        let mut turn = 0u64;
        let mut measured;
        loop {
            turn += 1;
            second += 7;
            let prompt_uuid = rng.uuid();
            line(
                out,
                format!(
                    r#"{{"isSidechain":false,"promptId":"{}","type":"user","message":{{"role":"user","content":"Turn {turn}: continue the refactor of the request handlers and run the tests"}},{},"permissionMode":"default","promptSource":"user"}}"#,
                    rng.uuid(),
                    self.envelope(&parent, &prompt_uuid, second)
                ),
            )?;
            parent = format!("\"{prompt_uuid}\"");
            for kind in ["total_tokens_reminder", "date", "session_context"] {
                let uuid = rng.uuid();
                line(
                    out,
                    format!(
                        r#"{{"isSidechain":false,"attachment":{{"type":"{kind}","text":"{}"}},"type":"attachment",{},"renderedRole":"system"}}"#,
                        filler.take(300),
                        self.envelope(&parent, &uuid, second)
                    ),
                )?;
                parent = format!("\"{uuid}\"");
            }
            line(out, format!(r#"{{"type":"api-request-blob","sessionId":"{}","blobRef":"{}","body":"{}"}}"#, self.id, rng.uuid(), filler.take(2_000)))?;
            line(out, format!(r#"{{"type":"api-request","sessionId":"{}","requestRef":"{}","model":"{MODEL}","messages":{turn}}}"#, self.id, rng.uuid()))?;
            let tool_id = format!("toolu_{}", rng.hex(24));
            let (msg_tool, req_tool) = (format!("msg_{}", rng.hex(24)), format!("req_{}", rng.hex(24)));
            let usage_tool = usage(context, rng.below(2_000), 120);
            let tool_uuid = rng.uuid();
            line(
                out,
                format!(
                    r#"{{"isSidechain":false,"message":{{"id":"{msg_tool}","type":"message","role":"assistant","model":"{MODEL}","content":[{{"type":"tool_use","id":"{tool_id}","name":"Read","input":{{"file_path":"{}/src/handlers.rs"}}}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{usage_tool}}},"requestId":"{req_tool}","requestedModel":"{MODEL}","type":"assistant",{}}}"#,
                    self.cwd,
                    self.envelope(&parent, &tool_uuid, second + 2)
                ),
            )?;
            parent = format!("\"{tool_uuid}\"");
            let result_len = 15_000 + rng.below(45_000) as usize;
            let result = filler.take(result_len);
            let result_uuid = rng.uuid();
            line(
                out,
                format!(
                    r#"{{"isSidechain":false,"type":"user","message":{{"role":"user","content":[{{"tool_use_id":"{tool_id}","type":"tool_result","content":"{result}"}}]}},"toolUseResult":{{"type":"text","file":{{"filePath":"{}/src/handlers.rs","numLines":900}}}},"sourceToolAssistantUUID":"{tool_uuid}",{}}}"#,
                    self.cwd,
                    self.envelope(&parent, &result_uuid, second + 3)
                ),
            )?;
            parent = format!("\"{result_uuid}\"");
            context += result.len() as u64 / 4 + 300;
            let text_uuid = rng.uuid();
            let last = out.bytes as usize >= target.saturating_sub(26_000);
            let requested = if last && trap == Some(Trap::OneMillion) { "claude-sonnet-4-5[1m]" } else { MODEL };
            line(
                out,
                format!(
                    r#"{{"isSidechain":false,"message":{{"id":"msg_{}","type":"message","role":"assistant","model":"{MODEL}","content":[{{"type":"text","text":"I read the handlers; the error paths now return typed errors. Next I will run the tests."}}],"stop_reason":"end_turn","stop_sequence":null,"usage":{}}},"requestId":"req_{}","requestedModel":"{requested}","type":"assistant",{}}}"#,
                    rng.hex(24),
                    usage(context, rng.below(3_000), 240),
                    rng.hex(24),
                    self.envelope(&parent, &text_uuid, second + 5)
                ),
            )?;
            parent = format!("\"{text_uuid}\"");
            measured = (context + 3, if requested == MODEL { 200_000 } else { 1_000_000 });
            context += 400;
            if last {
                break;
            }
            line(out, format!(r#"{{"type":"tools-used","sessionId":"{}","tools":["Read"]}}"#, self.id))?;
            // Claude Code compacts a 200k session on its own before it fills; a long session
            // has boundaries in the middle (a response follows each).
            if context > AUTO_COMPACT_AT {
                let post = 20_000 + rng.below(10_000);
                let boundary_uuid = rng.uuid();
                line(
                    out,
                    format!(
                        r#"{{"type":"system","subtype":"compact_boundary","content":"Conversation compacted","compactMetadata":{{"trigger":"auto","preTokens":{context},"postTokens":{post}}},{}}}"#,
                        self.envelope(&parent, &boundary_uuid, second + 6)
                    ),
                )?;
                parent = format!("\"{boundary_uuid}\"");
                context = post;
            }
        }
        match trap {
            Some(Trap::FarFromTheEnd) => {
                for _ in 0..24 {
                    let uuid = rng.uuid();
                    line(
                        out,
                        format!(
                            r#"{{"isSidechain":false,"type":"user","message":{{"role":"user","content":[{{"tool_use_id":"toolu_far","type":"tool_result","content":"{}"}}]}},{}}}"#,
                            filler.take(50_000),
                            self.envelope(&parent, &uuid, second + 6)
                        ),
                    )?;
                }
            }
            Some(Trap::ApiErrorLast) => line(
                out,
                format!(
                    r#"{{"isSidechain":false,"message":{{"id":"msg_err","type":"message","role":"assistant","model":"<synthetic>","content":[{{"type":"text","text":"API Error: 529 Overloaded"}}],"usage":{{"input_tokens":0,"output_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}}},"isApiErrorMessage":true,"type":"assistant",{}}}"#,
                    self.envelope(&parent, &rng.uuid(), second + 6)
                ),
            )?,
            Some(Trap::CompactionLast) => {
                let post = 20_000 + rng.below(10_000);
                line(
                    out,
                    format!(
                        r#"{{"type":"system","subtype":"compact_boundary","content":"Conversation compacted","compactMetadata":{{"trigger":"auto","preTokens":{},"postTokens":{post}}},{}}}"#,
                        measured.0,
                        self.envelope(&parent, &rng.uuid(), second + 6)
                    ),
                )?;
                measured.0 = post;
            }
            Some(Trap::LegacySidechain) => {
                for _ in 0..3 {
                    line(
                        out,
                        format!(
                            r#"{{"isSidechain":true,"message":{{"id":"msg_side","type":"message","role":"assistant","model":"{MODEL}","content":[{{"type":"text","text":"subagent"}}],"usage":{}}},"type":"assistant",{}}}"#,
                            usage(5_000, 0, 10),
                            self.envelope(&parent, &rng.uuid(), second + 6)
                        ),
                    )?;
                }
            }
            Some(Trap::InterruptedOutput) | Some(Trap::OneMillion) | None => {}
        }
        let snapshot_uuid = rng.uuid();
        line(
            out,
            format!(
                r#"{{"isSidechain":false,"attachment":{{"type":"prompt_snapshot","text":"{}"}},"type":"attachment",{}}}"#,
                filler.take(24_000),
                self.envelope(&parent, &snapshot_uuid, second + 6)
            ),
        )?;
        line(
            out,
            format!(r#"{{"type":"last-prompt","lastPrompt":"Turn {turn}: continue the refactor","leafUuid":"{snapshot_uuid}","sessionId":"{}"}}"#, self.id),
        )?;
        line(out, r#"{"type":"atis-latch","value":false}"#.to_string())?;
        line(
            out,
            format!(
                r#"{{"type":"cost-state","sessionId":"{}","totalCostUSD":0.42,"totalAPIDuration":{},"modelUsage":{{"{MODEL}":{{"inputTokens":{turn},"outputTokens":{}}}}},"hasUnknownModelCost":false}}"#,
                self.id,
                turn * 1500,
                turn * 360
            ),
        )?;
        if trap == Some(Trap::InterruptedOutput) {
            // A tool result cut off mid-write: no closing brace, no newline.
            out.write_all(format!(r#"{{"isSidechain":false,"type":"user","message":{{"role":"user","content":[{{"tool_use_id":"toolu_cut","type":"tool_result","content":"{}"#, filler.take(8_000)).as_bytes())?;
        }
        Ok(measured)
    }
}

/// Where the generated 200k sessions compact (Claude Code's own threshold is near 167k).
const AUTO_COMPACT_AT: u64 = 160_000;

fn usage(context: u64, creation: u64, output: u64) -> String {
    let read = context.saturating_sub(creation);
    format!(
        r#"{{"input_tokens":3,"cache_creation_input_tokens":{creation},"cache_read_input_tokens":{read},"output_tokens":{output},"output_tokens_details":{{"thinking_tokens":0}},"service_tier":"standard","cache_creation":{{"ephemeral_1h_input_tokens":0,"ephemeral_5m_input_tokens":{creation}}},"speed":"standard"}}"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_sessions_are_valid_jsonl_of_about_the_asked_size() {
        let root = std::env::temp_dir().join(format!("asm-bench-cc-test-{}", std::process::id()));
        let (written, truth) = generate(&root, 3, 120_000).unwrap();
        assert_eq!(truth.len(), 3);
        let files: Vec<_> = walk(&root.join(".claude/projects"));
        assert_eq!(files.len(), 3);
        let mut on_disk = 0;
        for f in &files {
            let text = fs::read_to_string(f).unwrap();
            on_disk += text.len() as u64;
            // The far-from-the-end trap appends 24 results of 50 kB after the last usage.
            let trap_bytes = if text.contains("toolu_far") { 24 * 50_000 + 10_000 } else { 0 };
            assert!(text.len() > 90_000 && text.len() < 200_000 + trap_bytes, "{}", text.len());
            let complete: Vec<&str> = text.lines().filter(|l| !l.contains("toolu_cut")).collect();
            for line in &complete {
                serde_json::from_str::<serde_json::Value>(line).unwrap();
            }
            assert!(complete.last().unwrap().contains("\"type\":\"cost-state\""));
        }
        assert_eq!(written, on_disk);
        fs::remove_dir_all(&root).unwrap();
    }

    fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for e in fs::read_dir(dir).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                out.extend(walk(&e.path()));
            } else {
                out.push(e.path());
            }
        }
        out
    }
}
