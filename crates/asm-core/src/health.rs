//! The health report `health_check` prints: the effective configuration (never secrets),
//! where everything is, what the state file holds, and which platform tools are installed.

use crate::proc;
use crate::Runtime;
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Serialize)]
pub struct HealthReport {
    pub version: &'static str,
    pub ok: bool,
    pub problems: Vec<String>,
    pub warnings: Vec<String>,
    pub config: Value,
    pub paths: PathsView,
    pub tools: Vec<ToolView>,
    pub memory_files: usize,
    pub monitor: MonitorView,
    /// The gateway incident phase and last probe, as `gateway_monitor` last recorded them.
    pub gateway: String,
    /// The state file's sections as stored (each tool's own view of its last work).
    pub state: Value,
    /// The MiniMax quota watch: on/off, the last reading and its age, paused or not.
    pub quota: Value,
    /// Notification backend, chat, outbox backlog and delivery warnings.
    pub notify: crate::notify::NotifyHealth,
}

#[derive(Debug, Serialize)]
pub struct PathsView {
    pub state_dir: String,
    pub state_dir_exists: bool,
    pub openclaw_config: String,
    pub state_file: String,
    pub memory_dir: String,
    pub logs_dir: String,
    pub outbox: String,
    pub profile: Option<String>,
}

/// Whether a monitor runs for this state dir, and when it last looked.
#[derive(Debug, Serialize)]
pub struct MonitorView {
    pub running: bool,
    pub pid: Option<i32>,
    pub last_tick: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ToolView {
    pub name: &'static str,
    pub path: Option<String>,
}

pub fn report(rt: &Runtime) -> HealthReport {
    let p = &rt.paths;
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let state = match rt.state().read_all() {
        Ok(doc) => Value::Object(doc),
        Err(e) => {
            problems.push(format!("state file: {e}"));
            Value::Null
        }
    };
    if !p.state_dir.is_dir() {
        warnings.push(format!("OpenClaw state dir {} does not exist yet", p.state_dir.display()));
    }
    let tools: Vec<ToolView> = ["openclaw", "claude", "opencode"]
        .into_iter()
        .map(|name| ToolView { name, path: proc::which(name, rt.env.get("PATH")).map(|p| p.display().to_string()) })
        .collect();
    if tools.iter().all(|t| t.path.is_none()) {
        warnings.push("none of openclaw, claude, opencode is on PATH".into());
    }
    let memory_files =
        std::fs::read_dir(p.memory_dir()).map(|d| d.filter_map(Result::ok).filter(|e| e.path().extension().is_some_and(|x| x == "json")).count()).unwrap_or(0);
    let monitor = monitor_view(rt);
    let notify = crate::notify::health(rt);
    warnings.extend(notify.warnings.iter().cloned());
    HealthReport {
        monitor,
        gateway: crate::gateway::health_line(rt),
        version: env!("CARGO_PKG_VERSION"),
        ok: problems.is_empty(),
        problems,
        warnings,
        config: rt.config.effective(),
        paths: PathsView {
            state_dir: p.state_dir.display().to_string(),
            state_dir_exists: p.state_dir.is_dir(),
            openclaw_config: p.openclaw_config.display().to_string(),
            state_file: p.state_file().display().to_string(),
            memory_dir: p.memory_dir().display().to_string(),
            logs_dir: p.logs_dir().display().to_string(),
            outbox: p.outbox_file().display().to_string(),
            profile: p.profile.clone(),
        },
        tools,
        memory_files,
        state,
        quota: crate::quota::health_view(rt, chrono::Utc::now()),
        notify,
    }
}

/// A monitor runs when the pid in its pid file is alive and is an asm_monitor.
fn monitor_view(rt: &Runtime) -> MonitorView {
    let pid = std::fs::read_to_string(rt.paths.monitor_pid_file()).ok().and_then(|s| s.trim().parse::<i32>().ok());
    let running = pid.is_some_and(|p| proc::pid_alive(p) && proc::pid_cmdline(p).is_some_and(|c| c.contains("asm_monitor")));
    let section: crate::monitor::MonitorState = rt.state().section().unwrap_or_default();
    let last_tick = section.last_tick.map(|t| t.to_rfc3339());
    MonitorView { running, pid: pid.filter(|_| running), last_tick }
}

/// The report as lines for people.
pub fn render(r: &HealthReport) -> String {
    let mut lines = vec![format!("auto-session-manager {}: {}", r.version, if r.ok { "OK" } else { "PROBLEMS FOUND" })];
    lines.extend(r.problems.iter().map(|p| format!("  problem: {p}")));
    lines.extend(r.warnings.iter().map(|w| format!("  warning: {w}")));
    lines.push(match (&r.monitor.running, r.monitor.pid) {
        (true, Some(pid)) => format!("monitor     running (pid {pid}), last tick {}", r.monitor.last_tick.as_deref().unwrap_or("not yet")),
        _ => format!("monitor     not running; last tick {}", r.monitor.last_tick.as_deref().unwrap_or("never")),
    });
    lines.push(r.gateway.clone());
    lines.push(format!("state dir   {}{}", r.paths.state_dir, if r.paths.state_dir_exists { "" } else { " (missing)" }));
    lines.push(format!("state file  {}", r.paths.state_file));
    lines.push(format!("memory      {} ({} files)", r.paths.memory_dir, r.memory_files));
    lines.push(format!("logs        {}", r.paths.logs_dir));
    lines.push(crate::quota::health_line(&r.quota));
    lines.extend(crate::notify::render_health(&r.notify));
    for t in &r.tools {
        lines.push(format!("{:<11} {}", t.name, t.path.as_deref().unwrap_or("not found")));
    }
    lines.push("configuration:".into());
    if let Value::Object(map) = &r.config {
        for (k, v) in map {
            lines.push(format!("  ASM_{:<26} {}", k.to_uppercase(), if v.is_string() { v.as_str().unwrap_or_default().to_string() } else { v.to_string() }));
        }
    }
    lines.join("\n")
}
