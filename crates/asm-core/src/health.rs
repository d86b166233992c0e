//! The health report `health_check` prints: one verdict from checks that each have a status
//! (ok, warn, fail) and a one-line reason, then where everything is, which platform tools are
//! installed and the effective configuration (never secrets).
//!
//! Each check reads what the tools recorded (the state file, the outbox, the platforms' own
//! stores and settings); `health_check` itself never probes the gateway or reads the quota.

use crate::config::Setting;
use crate::gateway::incident::Phase;
use crate::platform::{self, HookStatus, Place};
use crate::session::Platform;
use crate::timefmt;
use crate::{proc, Runtime};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};
use std::path::Path;

/// Below this much free space in the state dir a check fails; below ten times it, it warns.
const MIN_FREE_BYTES: u64 = 50 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }

    /// 0 all ok, 1 a warning, 2 a failure.
    pub fn exit_code(self) -> i32 {
        self as i32
    }
}

/// One check: what it looked at, its status, why, and the facts behind it.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub status: Status,
    pub reason: String,
    pub details: Value,
}

impl Check {
    fn new(name: impl Into<String>, status: Status, reason: impl Into<String>, details: Value) -> Check {
        Check { name: name.into(), status, reason: reason.into(), details }
    }
}

#[derive(Debug, Serialize)]
pub struct HealthReport {
    pub version: &'static str,
    /// The worst status of all checks.
    pub status: Status,
    pub checks: Vec<Check>,
    pub paths: Vec<PathView>,
    pub tools: Vec<ToolView>,
    pub config: Vec<Setting>,
}

#[derive(Debug, Serialize)]
pub struct PathView {
    pub what: &'static str,
    pub path: String,
    pub exists: bool,
}

#[derive(Debug, Serialize)]
pub struct ToolView {
    pub name: &'static str,
    pub path: Option<String>,
}

pub fn report(rt: &Runtime) -> HealthReport {
    let now = Utc::now();
    let mut checks = vec![monitor_check(rt, now), gateway_check(rt, now), quota_check(rt, now), notify_check(rt)];
    for p in Platform::ALL {
        let found = platform::adapter(p).discover(rt);
        checks.push(store_check(rt, p, &found));
        if let Some(check) = hooks_check(rt, p, found.sessions.len()) {
            checks.push(check);
        }
    }
    checks.extend(openclaw_config_check(rt));
    checks.push(state_check(rt));
    let status = checks.iter().map(|c| c.status).max().unwrap_or(Status::Ok);
    let p = &rt.paths;
    let path = |what, path: &Path| PathView { what, path: path.display().to_string(), exists: path.exists() };
    HealthReport {
        version: env!("CARGO_PKG_VERSION"),
        status,
        checks,
        paths: vec![
            path("state dir", &p.state_dir),
            path("settings", &p.settings_file()),
            path("state file", &p.state_file()),
            path("memory", &p.memory_dir()),
            path("logs", &p.logs_dir()),
            path("outbox", &p.outbox_file()),
            path("OpenClaw config", &p.openclaw_config),
        ],
        tools: ["openclaw", "claude", "opencode"]
            .into_iter()
            .map(|name| ToolView { name, path: proc::which(name, rt.env.get("PATH")).map(|p| p.display().to_string()) })
            .collect(),
        config: rt.config.settings(&rt.env),
    }
}

/// Alive (the pid file names a running asm_monitor) and its last round within two intervals.
fn monitor_check(rt: &Runtime, now: DateTime<Utc>) -> Check {
    let pid = std::fs::read_to_string(rt.paths.monitor_pid_file()).ok().and_then(|s| s.trim().parse::<i32>().ok());
    let running = pid.filter(|p| proc::pid_alive(*p) && proc::pid_cmdline(*p).is_some_and(|c| c.contains("asm_monitor")));
    let section: crate::monitor::MonitorState = rt.state().section().unwrap_or_default();
    let interval = section.interval_secs.unwrap_or(rt.config.monitor_interval).max(1);
    let age = section.last_tick.map(|t| (now - t).num_seconds());
    let details = json!({"running": running.is_some(), "pid": running, "mode": section.mode, "last_round_at": section.last_tick, "interval_secs": interval});
    let fresh = age.is_some_and(|a| a <= 2 * interval as i64);
    let last = section.last_tick.map_or("never".to_string(), |t| timefmt::relative(t, now));
    let (status, reason) = match (running, fresh) {
        (Some(pid), true) => (Status::Ok, format!("running (pid {pid}), last round {last}")),
        (Some(pid), false) => (Status::Fail, format!("running (pid {pid}) but its last round was {last}; expected every {}", timefmt::span(interval as i64))),
        (None, true) => (Status::Ok, format!("not running; last round {last} (run by cron or --once)")),
        (None, false) => (Status::Warn, format!("not running; last round {last} (monitor.py --mode daemon, or make install-service)")),
    };
    Check::new("monitor", status, reason, details)
}

fn gateway_check(rt: &Runtime, now: DateTime<Utc>) -> Check {
    let view = match crate::gateway::health_view(rt) {
        Ok(v) => v,
        Err(e) => return Check::new("gateway", Status::Fail, format!("state unreadable: {e}"), Value::Null),
    };
    let details = serde_json::to_value(&view).unwrap_or(Value::Null);
    if !view.scope.is_on() {
        return Check::new("gateway", Status::Ok, format!("watch off: {}", view.scope.reason()), details);
    }
    let Some(probe) = &view.last_probe else {
        return Check::new("gateway", Status::Warn, format!("not probed yet at {} (the monitor or gateway_monitor.py probes it)", view.url), details);
    };
    let when = timefmt::relative(probe.at, now);
    let (status, reason) = match view.phase {
        Phase::Healthy => (Status::Ok, format!("healthy at {}, last probe {when}", view.url)),
        Phase::GaveUp => (Status::Fail, format!("GAVE_UP at {}: automatic recovery stopped (gateway_monitor.py --debug, then --reset)", view.url)),
        phase if !view.scope.recovers() => {
            (Status::Warn, format!("{} at {} ({}), never seen healthy: recorded, not restarted", phase.name(), view.url, probe.detail))
        }
        phase => (Status::Warn, format!("{} at {}, last probe {when}: {}", phase.name(), view.url, probe.detail)),
    };
    Check::new("gateway", status, reason, details)
}

fn quota_check(rt: &Runtime, now: DateTime<Utc>) -> Check {
    let q = crate::quota::health_view(rt, now);
    let details = json!({
        "watch": q.watch, "key_source": q.key_source, "remaining": q.remaining, "remaining_percent": q.remaining_percent,
        "resets_at": q.resets_at, "reading_age_secs": q.reading_age_secs, "paused": q.paused, "resume_at": q.resume_at, "last_error": q.error,
    });
    if !q.watch {
        return Check::new("quota", Status::Ok, "watch off (no MiniMax key configured)", details);
    }
    let reading = q.summary.clone().unwrap_or_else(|| "no reading yet".into());
    let age = q.reading_age_secs.map(|a| format!(", {} old", timefmt::span(a))).unwrap_or_default();
    let stale = q.reading_age_secs.is_none_or(|a| a > 2 * rt.config.quota_interval as i64 + 60);
    let (status, reason) = if q.paused {
        let until = q.resume_at.map(|t| format!(" until {}", timefmt::local_with_age(t, now))).unwrap_or_default();
        (Status::Warn, format!("work PAUSED{until}: {}", q.reason.as_deref().unwrap_or(&reading)))
    } else if let Some(e) = &q.error {
        (Status::Warn, format!("last read failed: {e}; {reading}{age}"))
    } else if stale {
        (Status::Warn, format!("{reading}{age}: no recent reading (the monitor reads it every {})", timefmt::span(rt.config.quota_interval as i64)))
    } else {
        (Status::Ok, format!("{reading}{age}"))
    };
    Check::new("quota", status, reason, details)
}

fn notify_check(rt: &Runtime) -> Check {
    let h = crate::notify::health(rt);
    let details = serde_json::to_value(&h).unwrap_or(Value::Null);
    let backend = h.backend.map_or("-", crate::notify::route::Backend::name);
    let chat = h.chat.as_deref().unwrap_or("no chat");
    let place = format!("{backend} to {chat} topic {}", h.topic);
    let mut problems = h.warnings.clone();
    if h.dead > 0 {
        problems.push(format!("{} message(s) given up (see the outbox)", h.dead));
    }
    let (status, reason) = match problems.is_empty() {
        true => (Status::Ok, format!("{place}, nothing pending")),
        false => (Status::Warn, format!("{place}: {}", problems.join("; "))),
    };
    Check::new("notifications", status, reason, details)
}

/// Where the platform's sessions were looked for; a place a person configured that does not
/// exist is a warning, stores that cannot be read too.
fn store_check(rt: &Runtime, p: Platform, found: &crate::session::SessionList) -> Check {
    let places = platform::adapter(p).places(rt);
    let details = json!({"sessions": found.sessions.len(), "places": places, "errors": found.errors});
    let name = format!("sessions {}", p.id());
    let missing: Vec<&Place> = places.iter().filter(|pl| pl.configured_by.is_some() && !pl.exists).collect();
    if let Some(m) = missing.first() {
        return Check::new(name, Status::Warn, format!("{} names {}, which does not exist", m.configured_by.unwrap_or_default(), m.path.display()), details);
    }
    if let Some(e) = found.errors.first() {
        return Check::new(name, Status::Warn, format!("{} store(s) not read: {}: {}", found.errors.len(), e.source, e.message), details);
    }
    let looked = places.iter().map(|pl| pl.path.display().to_string()).collect::<Vec<_>>().join(", ");
    let reason = match found.sessions.len() {
        0 => format!("none found (looked in {looked})"),
        n => format!("{n} in {}", places.iter().filter(|pl| pl.exists).map(|pl| pl.path.display().to_string()).collect::<Vec<_>>().join(", ")),
    };
    Check::new(name, Status::Ok, reason, details)
}

/// ASM's hooks in the platform's configuration; missing hooks matter where there are sessions.
fn hooks_check(rt: &Runtime, p: Platform, sessions: usize) -> Option<Check> {
    let hooks = platform::adapter(p).hooks()?;
    let command = platform::hook_command(&crate::tools::bin_dir(rt), p);
    let statuses = hooks.status(rt, &command);
    let details = json!({
        "present": hooks.present(rt),
        "files": statuses.iter().map(|(path, s)| match s {
            Ok(st) => json!({"path": path, "status": st}),
            Err(e) => json!({"path": path, "error": e.to_string()}),
        }).collect::<Vec<_>>(),
    });
    let name = format!("hooks {}", p.id());
    let files = |f: &dyn Fn(&Result<HookStatus, platform::HookError>) -> bool| {
        statuses.iter().filter(|(_, s)| f(s)).map(|(path, _)| path.display().to_string()).collect::<Vec<_>>()
    };
    let broken = files(&|s| s.is_err());
    let partial = files(&|s| matches!(s, Ok(HookStatus::Partial(_))));
    let installed = files(&|s| matches!(s, Ok(HookStatus::Installed)));
    let (status, reason) = if let Some((path, Err(e))) = statuses.iter().find(|(_, s)| s.is_err()) {
        (Status::Warn, format!("{} cannot be read: {e}", path.display()))
    } else if !broken.is_empty() || !partial.is_empty() {
        (Status::Warn, format!("only some of ASM's hooks are in {} (session_manager.py --install-hooks)", partial.join(", ")))
    } else if !installed.is_empty() && installed.len() == statuses.len() {
        (Status::Ok, format!("installed in {}", installed.join(", ")))
    } else if sessions > 0 {
        (
            Status::Warn,
            format!(
                "{} has {sessions} session(s) but ASM's hooks are not installed: no handoff reaches its next session (session_manager.py --install-hooks)",
                p.display_name()
            ),
        )
    } else {
        (Status::Ok, format!("not installed ({} has no sessions here)", p.display_name()))
    };
    Some(Check::new(name, status, reason, details))
}

/// OpenClaw's config, when there is one: ASM reads its gateway port, bot token and quota key
/// there, so a file it cannot read is worth a warning.
fn openclaw_config_check(rt: &Runtime) -> Option<Check> {
    let path = &rt.paths.openclaw_config;
    if !path.exists() {
        return None;
    }
    let details = json!({"path": path});
    Some(match crate::platform::openclaw::config::read(&rt.paths) {
        Ok(_) => Check::new("openclaw config", Status::Ok, format!("{} read", path.display()), details),
        Err(e) => Check::new("openclaw config", Status::Warn, e.to_string(), details),
    })
}

/// The state dir is writable, the state file readable, there is room on the disk, and the
/// settings file is private.
fn state_check(rt: &Runtime) -> Check {
    let dir = &rt.paths.state_dir;
    let free = free_bytes(dir);
    let details = json!({"state_dir": dir, "free_bytes": free, "settings_file": rt.paths.settings_file()});
    if !dir.is_dir() {
        return Check::new("state", Status::Warn, format!("{} does not exist yet (the first tool run creates it)", dir.display()), details);
    }
    if let Err(e) = rt.state().read_all() {
        return Check::new("state", Status::Fail, format!("state file: {e}"), details);
    }
    if let Err(e) = write_probe(dir) {
        return Check::new("state", Status::Fail, format!("{} is not writable: {e}", dir.display()), details);
    }
    let free_text = free.map(|b| format!("{} MiB free", b / (1024 * 1024))).unwrap_or_else(|| "free space unknown".into());
    match free {
        Some(b) if b < MIN_FREE_BYTES => return Check::new("state", Status::Fail, format!("{}: only {free_text}", dir.display()), details),
        Some(b) if b < 10 * MIN_FREE_BYTES => return Check::new("state", Status::Warn, format!("{}: {free_text}", dir.display()), details),
        _ => {}
    }
    if let Some(mode) = group_or_world_readable(&rt.paths.settings_file()) {
        return Check::new(
            "state",
            Status::Warn,
            format!("{} is readable by others (mode {mode:o}); chmod 600 it", rt.paths.settings_file().display()),
            details,
        );
    }
    Check::new("state", Status::Ok, format!("{} writable, {free_text}", dir.display()), details)
}

fn free_bytes(dir: &Path) -> Option<u64> {
    let s = nix::sys::statvfs::statvfs(dir).ok()?;
    Some(s.blocks_available() as u64 * s.fragment_size() as u64)
}

fn write_probe(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".asm_health_check.{}", std::process::id()));
    std::fs::OpenOptions::new().write(true).create_new(true).open(&probe)?;
    std::fs::remove_file(&probe)
}

fn group_or_world_readable(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o044 != 0).then_some(mode)
}

/// The report for people: the verdict, the checks aligned, paths, tools and settings; local
/// times and relative ages, no raw JSON.
pub fn render(r: &HealthReport) -> String {
    let warnings = r.checks.iter().filter(|c| c.status == Status::Warn).count();
    let failures = r.checks.iter().filter(|c| c.status == Status::Fail).count();
    let verdict = match r.status {
        Status::Ok => "OK".to_string(),
        _ => format!("{} ({failures} failed, {warnings} warnings)", r.status.name().to_uppercase()),
    };
    let mut out = vec![format!("auto-session-manager {}: {verdict}", r.version)];
    let rows: Vec<Vec<String>> = r.checks.iter().map(|c| vec![c.status.name().to_string(), c.name.clone(), c.reason.clone()]).collect();
    out.extend(crate::table::lines(&["STATUS", "CHECK", "REASON"], &rows));
    out.push(String::new());
    let rows: Vec<Vec<String>> =
        r.paths.iter().map(|p| vec![p.what.to_string(), format!("{}{}", p.path, if p.exists { "" } else { " (not there yet)" })]).collect();
    out.extend(crate::table::lines(&["PATH", "WHERE"], &rows));
    out.push(String::new());
    let rows: Vec<Vec<String>> = r.tools.iter().map(|t| vec![t.name.to_string(), t.path.clone().unwrap_or_else(|| "not on PATH".into())]).collect();
    out.extend(crate::table::lines(&["TOOL", "FOUND AT"], &rows));
    out.push(String::new());
    let rows: Vec<Vec<String>> = r.config.iter().map(|s| vec![s.variable.clone(), setting_text(&s.value), origin_text(s.origin).into()]).collect();
    out.extend(crate::table::lines(&["SETTING", "VALUE", "FROM"], &rows));
    out.join("\n")
}

fn setting_text(v: &Value) -> String {
    match v {
        Value::Null => "unset".into(),
        Value::String(s) => s.clone(),
        Value::Array(words) => shlex::try_join(words.iter().filter_map(Value::as_str)).unwrap_or_default(),
        Value::Object(o) if o.get("set") == Some(&Value::Bool(true)) => format!("set (from {})", o.get("from").and_then(Value::as_str).unwrap_or("?")),
        other => other.to_string(),
    }
}

fn origin_text(o: crate::env::Origin) -> &'static str {
    match o {
        crate::env::Origin::Environment => "environment",
        crate::env::Origin::SettingsFile => "asm.env",
        crate::env::Origin::Unset => "default",
    }
}
