//! `gateway_monitor --debug`: everything known about the gateway in one report, also the
//! diagnosis handed to the Claude Code repair. Each probe with timings, who listens on the
//! port, the supervisor, `openclaw gateway status --json` (judged by `rpc.ok`, never its
//! exit code, which is 0 even when the gateway is down), `openclaw config validate`, and the
//! last lines of the gateway log and of the service journal.

use super::incident::Incident;
use super::probe::{Endpoint, ProbeRecord};
use super::supervisor::{self, Listener, Supervision};
use crate::proc::{self, Cmd};
use crate::Runtime;
use serde::Serialize;
use serde_json::Value;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

const TAIL_LINES: usize = 40;
const TAIL_BYTES: u64 = 64 * 1024;
const CLI_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Serialize)]
pub struct Diagnosis {
    pub endpoint: Endpoint,
    pub probe: ProbeRecord,
    pub listeners: Vec<Listener>,
    pub supervision: Supervision,
    pub supervision_text: String,
    pub gateway_status: Option<GatewayStatus>,
    pub config_validation: Option<CommandReport>,
    pub gateway_log: LogTail,
    pub journal: Option<LogTail>,
    pub incident: Incident,
    pub history: Vec<ProbeRecord>,
}

/// What `openclaw gateway status --json` says, judged by `rpc.ok`.
#[derive(Debug, Clone, Serialize)]
pub struct GatewayStatus {
    pub rpc_ok: Option<bool>,
    pub rpc_error: Option<String>,
    pub port_status: Option<String>,
    pub service: Option<String>,
    pub exit: String,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CommandReport {
    pub ok: bool,
    pub exit: String,
    pub output: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct LogTail {
    pub source: String,
    pub lines: Vec<String>,
    pub error: Option<String>,
}

/// Gathers the whole diagnosis. `probe` is a fresh probe; `history` the recorded ones.
pub fn diagnose(rt: &Runtime, endpoint: &Endpoint, probe: ProbeRecord, incident: Incident, history: Vec<ProbeRecord>) -> Diagnosis {
    let supervision = supervisor::detect(rt);
    let openclaw = proc::which("openclaw", rt.env.get("PATH"));
    let journal = match &supervision {
        Supervision::Systemd { unit } => Some(journal_tail(rt, unit)),
        _ => None,
    };
    Diagnosis {
        endpoint: endpoint.clone(),
        probe,
        listeners: endpoint.port.map(|p| supervisor::listeners_on(p, rt)).unwrap_or_default(),
        supervision_text: supervision.describe(),
        supervision,
        gateway_status: openclaw.as_deref().map(gateway_status),
        config_validation: openclaw.as_deref().map(config_validate),
        gateway_log: gateway_log_tail(rt),
        journal,
        incident,
        history,
    }
}

fn gateway_status(openclaw: &Path) -> GatewayStatus {
    let cmd = Cmd::new([openclaw.display().to_string(), "gateway".into(), "status".into(), "--json".into()]).timeout(CLI_TIMEOUT);
    match proc::run(&cmd) {
        Ok(out) => {
            let mut status = parse_gateway_status(&out.stdout_text());
            status.exit = out.describe();
            status
        }
        Err(e) => GatewayStatus { rpc_ok: None, rpc_error: None, port_status: None, service: None, exit: "not run".into(), error: Some(e.to_string()) },
    }
}

/// Reads the status document (the CLI may print warnings before it).
pub fn parse_gateway_status(stdout: &str) -> GatewayStatus {
    let doc = stdout.find('{').and_then(|i| serde_json::from_str::<Value>(stdout.get(i..)?).ok());
    let Some(doc) = doc else {
        return GatewayStatus {
            rpc_ok: None,
            rpc_error: None,
            port_status: None,
            service: None,
            exit: String::new(),
            error: Some("no JSON in the output".into()),
        };
    };
    let text = |p: &str| doc.pointer(p).and_then(Value::as_str).map(str::to_string);
    GatewayStatus {
        rpc_ok: doc.pointer("/rpc/ok").and_then(Value::as_bool),
        rpc_error: text("/rpc/error"),
        port_status: text("/port/status"),
        service: text("/service/label"),
        exit: String::new(),
        error: None,
    }
}

fn config_validate(openclaw: &Path) -> CommandReport {
    let cmd = Cmd::new([openclaw.display().to_string(), "config".into(), "validate".into()]).timeout(CLI_TIMEOUT);
    match proc::run(&cmd) {
        Ok(out) => CommandReport { ok: out.success(), exit: out.describe(), output: format!("{}{}", out.stdout_text(), out.stderr_text()).trim().to_string() },
        Err(e) => CommandReport { ok: false, exit: "not run".into(), output: e.to_string() },
    }
}

fn journal_tail(rt: &Runtime, unit: &str) -> LogTail {
    let source = format!("journalctl --user -u {unit}");
    let Some(journalctl) = proc::which("journalctl", rt.env.get("PATH")) else {
        return LogTail { source, lines: Vec::new(), error: Some("journalctl not on PATH".into()) };
    };
    let n = TAIL_LINES.to_string();
    let cmd = Cmd::new([journalctl.display().to_string(), "--user".into(), "-u".into(), unit.into(), "-n".into(), n, "--no-pager".into()]).timeout(CLI_TIMEOUT);
    match proc::run(&cmd) {
        Ok(out) => LogTail { source, lines: out.stdout_text().lines().map(str::to_string).collect(), error: (!out.success()).then(|| out.describe()) },
        Err(e) => LogTail { source, lines: Vec::new(), error: Some(e.to_string()) },
    }
}

/// OpenClaw's file log: `logging.file` from its config, else
/// `/tmp/openclaw/openclaw[-<profile>]-YYYY-MM-DD.log` for today (or yesterday, just after midnight).
pub fn gateway_log_candidates(rt: &Runtime) -> Vec<PathBuf> {
    let configured =
        crate::platform::openclaw::config::read(&rt.paths).ok().flatten().and_then(|doc| crate::platform::openclaw::config::log_file(&doc, &rt.env));
    if let Some(path) = configured {
        return vec![path];
    }
    let stem = match &rt.paths.profile {
        Some(p) => format!("openclaw-{p}"),
        None => "openclaw".into(),
    };
    let today = chrono::Local::now().date_naive();
    [today, today.pred_opt().unwrap_or(today)].iter().map(|d| PathBuf::from(format!("/tmp/openclaw/{stem}-{}.log", d.format("%Y-%m-%d")))).collect()
}

fn gateway_log_tail(rt: &Runtime) -> LogTail {
    let candidates = gateway_log_candidates(rt);
    for path in &candidates {
        if let Ok(lines) = tail_file(path, TAIL_LINES) {
            let lines = lines.iter().map(|l| compact_log_line(l)).collect();
            return LogTail { source: path.display().to_string(), lines, error: None };
        }
    }
    let source = candidates.first().map(|p| p.display().to_string()).unwrap_or_default();
    LogTail { source, lines: Vec::new(), error: Some("no gateway log file found".into()) }
}

/// OpenClaw's file log is JSON lines with a large `_meta`; keep time, level and message.
fn compact_log_line(line: &str) -> String {
    let Ok(doc) = serde_json::from_str::<Value>(line) else { return line.to_string() };
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    let message = text(doc.get("message")).or_else(|| text(doc.get("0")));
    match message {
        Some(message) => {
            let time = text(doc.get("time")).unwrap_or_default();
            let level = text(doc.pointer("/_meta/logLevelName")).unwrap_or_default();
            format!("{time} {level} {message}").trim().to_string()
        }
        None => line.to_string(),
    }
}

/// The last `n` lines of a file, reading only its end.
pub fn tail_file(path: &Path, n: usize) -> std::io::Result<Vec<String>> {
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    file.seek(SeekFrom::Start(len.saturating_sub(TAIL_BYTES)))?;
    let mut bytes = Vec::new();
    file.take(TAIL_BYTES).read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    Ok(lines[lines.len().saturating_sub(n)..].to_vec())
}

impl Diagnosis {
    /// The report as text, for a person (`--debug`) and for the repair prompt.
    pub fn text(&self) -> String {
        let mut s = String::new();
        s.push_str(&format!("Gateway: {} (from {})\n", self.endpoint.base_url, self.endpoint.source));
        s.push_str(&format!("Incident: {} (restart attempts {}, repaired {})\n", self.incident.phase.name(), self.incident.attempts, self.incident.repaired));
        s.push_str("Probe now:\n");
        for p in &self.probe.paths {
            s.push_str(&format!("  GET {} -> {:?} in {} ms: {}\n", p.path, p.kind, p.latency_ms, p.detail));
        }
        s.push_str(&format!("  verdict: {:?} ({})\n", self.probe.kind, self.probe.detail));
        s.push_str("Port listeners:\n");
        if self.listeners.is_empty() {
            s.push_str("  none found\n");
        }
        for l in &self.listeners {
            s.push_str(&format!("  pid {} {}: {}\n", l.pid, if l.is_gateway { "(gateway)" } else { "(NOT the gateway)" }, l.cmdline));
        }
        s.push_str(&format!("Supervisor: {}\n", self.supervision_text));
        match &self.gateway_status {
            Some(g) => s.push_str(&format!(
                "openclaw gateway status --json: rpc.ok={} port={} service={} ({}){}{}\n",
                g.rpc_ok.map(|b| b.to_string()).unwrap_or_else(|| "?".into()),
                g.port_status.as_deref().unwrap_or("?"),
                g.service.as_deref().unwrap_or("?"),
                g.exit,
                g.rpc_error.as_deref().map(|e| format!(", rpc error: {e}")).unwrap_or_default(),
                g.error.as_deref().map(|e| format!(", {e}")).unwrap_or_default(),
            )),
            None => s.push_str("openclaw gateway status: openclaw CLI not on PATH\n"),
        }
        match &self.config_validation {
            Some(c) => s.push_str(&format!("openclaw config validate: {} ({}): {}\n", if c.ok { "ok" } else { "FAILED" }, c.exit, c.output)),
            None => s.push_str("openclaw config validate: openclaw CLI not on PATH\n"),
        }
        s.push_str("Recent probes:\n");
        for p in self.history.iter().rev().take(15).rev() {
            s.push_str(&format!("  {} {:?} {} ms {}\n", p.at.format("%Y-%m-%dT%H:%M:%SZ"), p.kind, p.latency_ms, p.detail));
        }
        for tail in std::iter::once(&self.gateway_log).chain(self.journal.as_ref()) {
            s.push_str(&format!("Last lines of {}{}:\n", tail.source, tail.error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default()));
            for l in &tail.lines {
                s.push_str(&format!("  {l}\n"));
            }
        }
        crate::redact::redact(&s).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(asm_testkit::fixtures_dir().join("openclaw/v2026.9.6").join(name)).unwrap()
    }

    #[test]
    fn gateway_status_is_judged_by_rpc_ok() {
        let up = parse_gateway_status(&fixture("openclaw-gateway-status.json"));
        assert_eq!((up.rpc_ok, up.port_status.as_deref()), (Some(true), Some("busy")));
        let frozen = parse_gateway_status(&format!("warning: something\n{}", fixture("openclaw-gateway-status.while-SIGSTOPped.json")));
        assert_eq!((frozen.rpc_ok, frozen.rpc_error.as_deref(), frozen.port_status.as_deref()), (Some(false), Some("timeout"), Some("busy")));
        let down = parse_gateway_status(&fixture("openclaw-gateway-status.gateway-down.json"));
        assert_eq!((down.rpc_ok, down.port_status.as_deref()), (Some(false), Some("free")));
        assert!(down.rpc_error.unwrap().contains("ECONNREFUSED"));
        assert!(parse_gateway_status("Error: boom").error.is_some());
    }

    #[test]
    fn openclaw_json_log_lines_are_compacted() {
        let line = r#"{"0":"Config file not found","_meta":{"logLevelName":"ERROR","path":{"x":1}},"time":"2026-11-24T21:17:33.962+00:00","message":"Config file not found"}"#;
        assert_eq!(compact_log_line(line), "2026-11-24T21:17:33.962+00:00 ERROR Config file not found");
        assert_eq!(compact_log_line("plain text"), "plain text");
    }

    #[test]
    fn tail_reads_the_last_lines() {
        let dir = asm_testkit::TempDir::new("gw-tail");
        let f = dir.join("x.log");
        std::fs::write(&f, (1..=100).map(|i| format!("line {i}\n")).collect::<String>()).unwrap();
        assert_eq!(tail_file(&f, 2).unwrap(), ["line 99", "line 100"]);
    }
}
