//! Restarting the gateway the way it is run: ASM_GATEWAY_RESTART_CMD when set; else the
//! systemd user unit `openclaw-gateway[-<profile>].service`, the launchd job
//! `ai.openclaw.gateway` (`ai.openclaw.<profile>`), or a foreground gateway through
//! `openclaw gateway restart` (SIGUSR2 on 2026.9.x).
//!
//! A hung gateway (accepts, never answers) ignores a restart request, so it is stopped by
//! PID: the listener of the gateway port is found through /proc/net/tcp and /proc/*/fd,
//! checked to be the gateway by its command line (anything else is never signalled), sent
//! SIGTERM (and SIGCONT, so a stopped process can act on it), given a while, then SIGKILL,
//! and started again with `openclaw gateway start` or ASM_GATEWAY_START_CMD.

use crate::platform::openclaw::probe::{Endpoint, ProbeKind};
use crate::proc::{self, Cmd};
use crate::Runtime;
use nix::sys::signal::Signal;
use serde::Serialize;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use thiserror::Error;

/// Why a restart step failed, as the feed notice tells it.
#[derive(Debug, Error)]
pub enum RestartError {
    #[error("port {port} is held by pid {pid} ({cmdline}), which is not the OpenClaw gateway; not touching it")]
    PortHeldByOther { port: u16, pid: i32, cmdline: String },
    #[error("gateway pid {0} survived SIGKILL")]
    Unkillable(i32),
    #[error("cannot start the gateway: no openclaw CLI on PATH and ASM_GATEWAY_START_CMD is not set")]
    NoStartCommand,
    #[error("cannot open {}: {source}", path.display())]
    StartLog { path: PathBuf, source: std::io::Error },
    #[error("cannot run {program}: {source}")]
    Spawn { program: String, source: std::io::Error },
    #[error("{what} failed ({status}); output in {}{hint}", log.display())]
    StartFailed { what: &'static str, status: std::process::ExitStatus, log: PathBuf, hint: &'static str },
    #[error("{what}: {source}")]
    Wait { what: &'static str, source: std::io::Error },
    /// A service manager or CLI command failed: the command, how it ended, the end of its output.
    #[error("{command}: {detail}")]
    Command { command: String, detail: String },
    /// The restart was lost: ASM stopped while it ran, and the next run found it unfinished.
    #[error("{0}")]
    Lost(String),
}

/// How long a start command may take to hand over before we consider it "running".
const START_SETTLE: Duration = Duration::from_secs(3);
/// How long to wait for a process to vanish after SIGKILL.
const KILL_WAIT: Duration = Duration::from_secs(5);
/// Service manager commands should answer quickly; systemd's own stop can take minutes, which
/// is why a hung unit is killed first.
const MANAGER_TIMEOUT: Duration = Duration::from_secs(120);

/// How the gateway is run on this machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Supervision {
    /// ASM_GATEWAY_RESTART_CMD replaces the whole restart step.
    RestartCmd {
        argv: Vec<String>,
    },
    Systemd {
        unit: String,
    },
    Launchd {
        target: String,
    },
    /// No service manager: a gateway started by hand or by ASM_GATEWAY_START_CMD.
    Foreground {
        openclaw: Option<PathBuf>,
    },
}

impl Supervision {
    pub fn describe(&self) -> String {
        match self {
            Supervision::RestartCmd { argv } => format!("ASM_GATEWAY_RESTART_CMD ({})", Cmd::new(argv.clone()).display()),
            Supervision::Systemd { unit } => format!("systemd user unit {unit}"),
            Supervision::Launchd { target } => format!("launchd job {target}"),
            Supervision::Foreground { openclaw: Some(p) } => format!("no service manager; foreground gateway ({} gateway restart)", p.display()),
            Supervision::Foreground { openclaw: None } => "no service manager and no openclaw CLI on PATH; foreground gateway".into(),
        }
    }
}

/// A process listening on the gateway port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listener {
    pub pid: i32,
    pub cmdline: String,
    pub is_gateway: bool,
}

fn tool(rt: &Runtime, name: &str) -> Option<PathBuf> {
    proc::which(name, rt.env.get("PATH"))
}

pub fn systemd_unit(rt: &Runtime) -> String {
    match &rt.paths.profile {
        Some(p) => format!("openclaw-gateway-{p}.service"),
        None => "openclaw-gateway.service".into(),
    }
}

fn launchd_label(rt: &Runtime) -> String {
    match &rt.paths.profile {
        Some(p) => format!("ai.openclaw.{p}"),
        None => "ai.openclaw.gateway".into(),
    }
}

/// Finds how the gateway is supervised (asks systemd and launchd; a few seconds at most).
pub fn detect(rt: &Runtime) -> Supervision {
    if let Some(argv) = &rt.config.gateway_restart_cmd {
        return Supervision::RestartCmd { argv: argv.clone() };
    }
    if let Some(systemctl) = tool(rt, "systemctl") {
        let unit = systemd_unit(rt);
        let cmd = Cmd::new([systemctl.display().to_string(), "--user".into(), "show".into(), unit.clone(), "-p".into(), "LoadState".into(), "--value".into()])
            .timeout(Duration::from_secs(10));
        if proc::run(&cmd).is_ok_and(|o| o.success() && o.stdout_text().trim() == "loaded") {
            return Supervision::Systemd { unit };
        }
    }
    if let Some(launchctl) = tool(rt, "launchctl") {
        let target = format!("gui/{}/{}", nix::unistd::getuid(), launchd_label(rt));
        let cmd = Cmd::new([launchctl.display().to_string(), "print".into(), target.clone()]).timeout(Duration::from_secs(10));
        if proc::run(&cmd).is_ok_and(|o| o.success()) {
            return Supervision::Launchd { target };
        }
    }
    Supervision::Foreground { openclaw: tool(rt, "openclaw") }
}

/// Restarts the gateway; `Ok` names the method used. `last_probe` says how it failed: a
/// hung gateway is stopped by force rather than asked, and so is one whose earlier polite
/// restart in this incident did not help (`attempt` 2 and later).
pub fn restart(rt: &Runtime, endpoint: &Endpoint, last_probe: ProbeKind, attempt: u32) -> Result<String, RestartError> {
    let force = last_probe == ProbeKind::Unresponsive || attempt >= 2;
    let supervision = detect(rt);
    log::info!("restarting the gateway via {} (last probe: {last_probe:?})", supervision.describe());
    match supervision {
        Supervision::RestartCmd { argv } => run_step(&Cmd::new(argv).timeout(MANAGER_TIMEOUT)).map(|_| "ASM_GATEWAY_RESTART_CMD".to_string()),
        Supervision::Systemd { unit } => {
            let systemctl = tool(rt, "systemctl").map(|p| p.display().to_string()).unwrap_or_else(|| "systemctl".into());
            if force {
                // `restart` would wait out TimeoutStopSec (330 s) on a frozen process.
                let kill = Cmd::new([systemctl.as_str(), "--user", "kill", "--signal=SIGKILL", &unit]).timeout(Duration::from_secs(30));
                if let Err(e) = run_step(&kill) {
                    log::warn!("systemctl kill of hung {unit} failed: {e}");
                }
            }
            run_step(&Cmd::new([systemctl.as_str(), "--user", "restart", &unit]).timeout(MANAGER_TIMEOUT)).map(|_| format!("systemctl --user restart {unit}"))
        }
        Supervision::Launchd { target } => {
            let launchctl = tool(rt, "launchctl").map(|p| p.display().to_string()).unwrap_or_else(|| "launchctl".into());
            run_step(&Cmd::new([launchctl.as_str(), "kickstart", "-k", &target]).timeout(MANAGER_TIMEOUT)).map(|_| format!("launchctl kickstart -k {target}"))
        }
        Supervision::Foreground { openclaw } => restart_foreground(rt, endpoint, force, openclaw),
    }
}

fn restart_foreground(rt: &Runtime, endpoint: &Endpoint, force: bool, openclaw: Option<PathBuf>) -> Result<String, RestartError> {
    let listeners = endpoint.port.map(|p| listeners_on(p, rt)).unwrap_or_default();
    let (gateways, others): (Vec<Listener>, Vec<Listener>) = listeners.into_iter().partition(|l| l.is_gateway);
    if gateways.is_empty() {
        if let Some(other) = others.first() {
            return Err(RestartError::PortHeldByOther { port: endpoint.port.unwrap_or(0), pid: other.pid, cmdline: other.cmdline.clone() });
        }
    }
    if !gateways.is_empty() && !force {
        if let Some(cli) = &openclaw {
            let cmd = Cmd::new([cli.display().to_string(), "gateway".into(), "restart".into()]).timeout(Duration::from_secs(60));
            match run_step(&cmd) {
                Ok(_) => return Ok("openclaw gateway restart".into()),
                Err(e) => log::warn!("openclaw gateway restart did not work ({e}); stopping the gateway by PID"),
            }
        }
    }
    let mut stopped = Vec::new();
    for gw in &gateways {
        stopped.push(stop_process(gw.pid, stop_wait(rt))?);
    }
    let started = start(rt)?;
    Ok(if stopped.is_empty() { started } else { format!("{}; {started}", stopped.join("; ")) })
}

/// How long a gateway gets to exit after SIGTERM: half the verify grace, 2 to 30 s. A
/// gateway that is draining agent turns can take minutes; it is killed instead.
fn stop_wait(rt: &Runtime) -> Duration {
    Duration::from_secs((rt.config.gateway_verify_grace / 2).clamp(2, 30))
}

/// SIGTERM (+SIGCONT), wait, SIGKILL, and make sure it is gone.
pub fn stop_process(pid: i32, wait: Duration) -> Result<String, RestartError> {
    proc::signal_pid(pid, Signal::SIGTERM);
    proc::signal_pid(pid, Signal::SIGCONT);
    if wait_gone(pid, wait) {
        return Ok(format!("stopped pid {pid} with SIGTERM"));
    }
    log::warn!("gateway pid {pid} still alive {}s after SIGTERM; sending SIGKILL", wait.as_secs());
    proc::signal_pid(pid, Signal::SIGKILL);
    if wait_gone(pid, KILL_WAIT) {
        Ok(format!("killed pid {pid} with SIGKILL"))
    } else {
        Err(RestartError::Unkillable(pid))
    }
}

fn wait_gone(pid: i32, wait: Duration) -> bool {
    let deadline = Instant::now() + wait;
    loop {
        if process_gone(pid) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Gone, or a zombie waiting for a parent that is not us to reap it.
fn process_gone(pid: i32) -> bool {
    if !proc::pid_alive(pid) {
        return true;
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The state follows the parenthesised command name, which may itself contain spaces.
    stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next()).is_some_and(|state| state == "Z" || state == "X")
}

/// Starts the gateway with ASM_GATEWAY_START_CMD or `openclaw gateway start`, detached (its
/// own session; output to `logs/asm_gateway_start.log`). A command that is still running
/// after a few seconds is the gateway itself; one that exits 0 was a launcher.
pub fn start(rt: &Runtime) -> Result<String, RestartError> {
    let (argv, what) = match &rt.config.gateway_start_cmd {
        Some(argv) => (argv.clone(), "ASM_GATEWAY_START_CMD"),
        None => {
            let cli = tool(rt, "openclaw").ok_or(RestartError::NoStartCommand)?;
            (vec![cli.display().to_string(), "gateway".into(), "start".into()], "openclaw gateway start")
        }
    };
    let program = argv.first().ok_or(RestartError::NoStartCommand)?;
    let log_path = rt.paths.log_file("gateway_start");
    if let Some(dir) = log_path.parent() {
        let _ = crate::fsutil::ensure_dir(dir);
    }
    let start_log = |source| RestartError::StartLog { path: log_path.clone(), source };
    let log = crate::fsutil::open_private(&log_path, crate::fsutil::Access::Append).map_err(|e| start_log(std::io::Error::other(e.to_string())))?;
    let log_err = log.try_clone().map_err(start_log)?;
    let mut command = Command::new(program);
    command.args(&argv[1..]).stdin(Stdio::null()).stdout(log).stderr(log_err);
    if let Some(cwd) = rt.paths.state_dir.is_dir().then(|| rt.paths.state_dir.clone()) {
        command.current_dir(cwd);
    }
    // SAFETY: setsid(2) is async-signal-safe; the closure touches nothing else. The gateway
    // gets its own session so it outlives this short-lived monitor and its terminal.
    unsafe {
        command.pre_exec(|| {
            let _ = nix::unistd::setsid();
            Ok(())
        });
    }
    let mut child = command.spawn().map_err(|source| RestartError::Spawn { program: program.clone(), source })?;
    let deadline = Instant::now() + START_SETTLE;
    while Instant::now() < deadline {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(format!("started with {what}")),
            Ok(Some(status)) => {
                let hint =
                    if rt.config.gateway_start_cmd.is_none() { " (a gateway run by hand needs ASM_GATEWAY_START_CMD, the command that runs it)" } else { "" };
                return Err(RestartError::StartFailed { what, status, log: log_path.clone(), hint });
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(source) => return Err(RestartError::Wait { what, source }),
        }
    }
    Ok(format!("started with {what} (pid {})", child.id()))
}

/// Runs a step; `Err` carries a one-line reason with the end of its output.
fn run_step(cmd: &Cmd) -> Result<String, RestartError> {
    let out = proc::run(cmd).map_err(|e| RestartError::Command { command: cmd.display(), detail: e.to_string() })?;
    if out.success() {
        return Ok(out.stdout_text());
    }
    let text = format!("{} {}", out.stderr_text().trim(), out.stdout_text().trim());
    let tail: String = text.trim().chars().rev().take(300).collect::<Vec<_>>().into_iter().rev().collect();
    let detail = if tail.is_empty() { out.describe() } else { format!("{}: {tail}", out.describe()) };
    Err(RestartError::Command { command: cmd.display(), detail })
}

/// Whether a command line belongs to the gateway: OpenClaw's own (its process title is
/// `openclaw-gateway`; `node …/openclaw.mjs gateway run`), or the configured start command.
pub fn is_gateway_cmdline(cmdline: &str, rt: &Runtime) -> bool {
    let lower = cmdline.to_lowercase();
    if lower.contains("openclaw") || lower.contains("clawdbot") {
        return true;
    }
    // The program may have been resolved through a wrapper (pyenv, nvm), so its arguments identify it.
    let identity = |argv: &[String]| match argv {
        [] => None,
        [program] => Some(program.clone()),
        [_, args @ ..] => Some(args.join(" ")),
    };
    rt.config.gateway_start_cmd.as_deref().and_then(identity).is_some_and(|id| cmdline.contains(&id))
}

/// Processes listening on TCP `port` (IPv4 or IPv6), as far as /proc lets us see them.
pub fn listeners_on(port: u16, rt: &Runtime) -> Vec<Listener> {
    let inodes = listening_inodes(port);
    if inodes.is_empty() {
        return Vec::new();
    }
    let mut found = Vec::new();
    let Ok(procs) = std::fs::read_dir("/proc") else { return found };
    for entry in procs.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else { continue };
        let holds = fds.flatten().any(|fd| {
            std::fs::read_link(fd.path())
                .ok()
                .and_then(|t| t.to_str().and_then(|t| t.strip_prefix("socket:[")?.strip_suffix(']')?.parse::<u64>().ok()))
                .is_some_and(|i| inodes.contains(&i))
        });
        if holds {
            let cmdline = proc::pid_cmdline(pid).unwrap_or_default();
            found.push(Listener { pid, is_gateway: is_gateway_cmdline(&cmdline, rt), cmdline });
        }
    }
    found
}

fn listening_inodes(port: u16) -> Vec<u64> {
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else { continue };
        inodes.extend(parse_listen_table(&text, port));
    }
    inodes
}

/// Socket inodes in LISTEN state (0A) on `port` from a /proc/net/tcp{,6} table.
fn parse_listen_table(text: &str, port: u16) -> Vec<u64> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let local_port = cols.get(1)?.rsplit_once(':').and_then(|(_, p)| u16::from_str_radix(p, 16).ok())?;
            (local_port == port && *cols.get(3)? == "0A").then(|| cols.get(9)?.parse::<u64>().ok()).flatten()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Env;
    use asm_testkit::TempDir;

    fn rt(home: &TempDir, extra: &[(&str, &str)]) -> Runtime {
        let mut env = Env::from_pairs([("HOME", home.path().to_str().unwrap()), ("PATH", home.path().to_str().unwrap())]);
        for (k, v) in extra {
            env.set(k, v);
        }
        Runtime::from_env(env).unwrap()
    }

    #[test]
    fn listen_table_parsing() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
           0: 0100007F:4A19 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 123456 1 0000000000000000 100 0 0 10 0\n\
           1: 0100007F:4A19 0100007F:9C40 01 00000000:00000000 00:00000000 00000000  1000        0 654321 1 0000000000000000 100 0 0 10 0\n\
           2: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 777 1 0000000000000000 100 0 0 10 0\n";
        assert_eq!(parse_listen_table(table, 18969), [123456]);
        assert_eq!(parse_listen_table(table, 8080), [777]);
        assert!(parse_listen_table("garbage\nline", 1).is_empty());
    }

    #[test]
    fn finds_our_own_listener_and_does_not_call_it_the_gateway() {
        let home = TempDir::new("gw-listen");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let found = listeners_on(port, &rt(&home, &[]));
        let me = found.iter().find(|l| l.pid == std::process::id() as i32).expect("our own pid listens");
        assert!(!me.is_gateway, "{me:?}");
    }

    #[test]
    fn gateway_identity_by_command_line() {
        let home = TempDir::new("gw-ident");
        let r = rt(&home, &[("ASM_GATEWAY_START_CMD", "python3 /x/fake_gw.py --port 5")]);
        assert!(is_gateway_cmdline("openclaw-gateway", &r));
        assert!(is_gateway_cmdline("node /usr/lib/node_modules/openclaw/openclaw.mjs gateway run", &r));
        assert!(is_gateway_cmdline("python3 /x/fake_gw.py --port 5", &r));
        assert!(!is_gateway_cmdline("python3 -m http.server 5", &r));
        assert!(is_gateway_cmdline("/opt/pyenv/versions/3.12/bin/python3.12 /x/fake_gw.py --port 5", &r), "found through a wrapper");
        assert!(!is_gateway_cmdline("postgres: main", &rt(&home, &[])));
    }

    #[test]
    fn supervision_names_follow_the_profile_and_restart_cmd_wins() {
        let home = TempDir::new("gw-sup");
        assert_eq!(systemd_unit(&rt(&home, &[])), "openclaw-gateway.service");
        assert_eq!(systemd_unit(&rt(&home, &[("OPENCLAW_PROFILE", "work")])), "openclaw-gateway-work.service");
        assert_eq!(launchd_label(&rt(&home, &[("OPENCLAW_PROFILE", "work")])), "ai.openclaw.work");
        assert_eq!(detect(&rt(&home, &[("ASM_GATEWAY_RESTART_CMD", "true")])), Supervision::RestartCmd { argv: vec!["true".into()] });
        assert_eq!(detect(&rt(&home, &[])), Supervision::Foreground { openclaw: None });
    }

    #[test]
    fn stop_process_escalates_to_sigkill_and_a_zombie_counts_as_gone() {
        let mut child = Command::new("sh").args(["-c", "trap '' TERM; while :; do sleep 0.05; done"]).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let how = stop_process(child.id() as i32, Duration::from_millis(300)).unwrap();
        assert!(how.contains("SIGKILL"), "{how}");
        let _ = child.wait();
    }

    #[test]
    fn refuses_to_touch_a_listener_that_is_not_the_gateway() {
        let home = TempDir::new("gw-foreign");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let ep = Endpoint { base_url: format!("http://127.0.0.1:{port}"), port: Some(port), source: "test".into() };
        let err = restart(&rt(&home, &[]), &ep, ProbeKind::Unresponsive, 1).unwrap_err();
        assert!(err.to_string().contains("not the OpenClaw gateway"), "{err}");
    }
}
