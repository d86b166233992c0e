//! A scratch OpenClaw world for end-to-end tests: a private HOME and state dir with
//! OpenClaw's isolation variables (reference openclaw.md §8), a free loopback port, the config
//! file, a real `openclaw gateway run` in its own process group (log in the scratch dir),
//! readiness waits, `openclaw … --json` runs with the same environment, and clean-up on drop
//! of every process the world started, by pid.

use crate::TempDir;
use nix::sys::signal::Signal;
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How long one `openclaw` CLI run may take before it is killed.
const CLI_TIMEOUT: Duration = Duration::from_secs(300);
/// How long the gateway gets to stop on SIGTERM before its group is killed.
const STOP_GRACE: Duration = Duration::from_secs(15);

/// The scratch dir (`home/`, `state/`, `gateway.out`), the environment every OpenClaw process
/// of the test runs with, and the gateway once started. Dropping it stops the gateway's
/// process group and anything else still carrying this state dir.
pub struct ScratchOpenclaw {
    dir: TempDir,
    port: u16,
    vars: Vec<(String, String)>,
    gateway: Option<Child>,
}

impl ScratchOpenclaw {
    /// A fresh world under a temp dir named after `tag`, with a free loopback port for its gateway.
    pub fn new(tag: &str) -> ScratchOpenclaw {
        let dir = TempDir::new(tag);
        std::fs::create_dir_all(dir.join("home")).expect("create scratch home");
        std::fs::create_dir_all(dir.join("state")).expect("create scratch state dir");
        let port = free_port();
        let d = |p: &str| dir.join(p).display().to_string();
        let vars = [
            ("HOME", d("home")),
            ("OPENCLAW_STATE_DIR", d("state")),
            ("OPENCLAW_CONFIG_PATH", d("state/openclaw.json")),
            ("OPENCLAW_OFFLINE", "1".into()),
            ("OPENCLAW_NO_AUTO_UPDATE", "1".into()),
            ("OPENCLAW_DISABLE_BONJOUR", "1".into()),
            ("OPENCLAW_SKIP_CRON", "1".into()),
            ("OPENCLAW_GATEWAY_PORT", port.to_string()),
            ("NO_COLOR", "1".into()),
            ("PATH", std::env::var("PATH").unwrap_or_default()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        ScratchOpenclaw { dir, port, vars, gateway: None }
    }

    /// Sets (or replaces) one variable of the world's environment, e.g. `OPENCLAW_GATEWAY_TOKEN`.
    pub fn set_env(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        let value = value.into();
        match self.vars.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.vars.push((key.to_string(), value)),
        }
        self
    }

    /// Drops one variable of the world's environment.
    pub fn remove_env(&mut self, key: &str) -> &mut Self {
        self.vars.retain(|(k, _)| k != key);
        self
    }

    /// The complete environment of every process the world runs (they start with nothing else).
    pub fn env(&self) -> Vec<(String, String)> {
        self.vars.clone()
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.dir.join(rel)
    }

    /// OpenClaw's state dir (`OPENCLAW_STATE_DIR`).
    pub fn state(&self) -> PathBuf {
        self.dir.join("state")
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Writes `state/openclaw.json`.
    pub fn write_config(&self, config: &Value) {
        let bytes = serde_json::to_vec_pretty(config).expect("serialize openclaw.json");
        std::fs::write(self.state().join("openclaw.json"), bytes).expect("write openclaw.json");
    }

    /// The argv of `openclaw gateway run` on this world's port (the binary resolved on PATH).
    pub fn gateway_argv(&self, extra: &[&str]) -> Vec<String> {
        let openclaw = which("openclaw").map(|p| p.display().to_string()).unwrap_or_else(|| "openclaw".into());
        let port = self.port.to_string();
        let base = [openclaw.as_str(), "gateway", "run", "--port", &port, "--bind", "loopback"];
        base.iter().chain(extra).map(|a| a.to_string()).collect()
    }

    /// Starts `openclaw gateway run --port … --bind loopback` (plus `extra`) in its own process
    /// group, output to `gateway.out`; returns its pid. Stopped on drop.
    pub fn start_gateway(&mut self, extra: &[&str]) -> u32 {
        let argv = self.gateway_argv(extra);
        let log = std::fs::File::create(self.log_path()).expect("create gateway.out");
        let child = Command::new(&argv[0])
            .args(&argv[1..])
            .env_clear()
            .envs(self.env())
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log)
            .process_group(0)
            .spawn()
            .expect("start `openclaw gateway run`");
        let pid = child.id();
        self.gateway = Some(child);
        pid
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.join("gateway.out")
    }

    /// What the gateway printed so far.
    pub fn gateway_log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Waits until `GET /healthz` answers 200; false when `within` passed first.
    pub fn wait_healthy(&self, within: Duration) -> bool {
        self.poll(within, || http_get(self.port, "/healthz").is_some_and(|(status, _)| status == 200))
    }

    /// Waits until `GET /readyz` answers `{"ready": true}`; false when `within` passed first.
    pub fn wait_ready(&self, within: Duration) -> bool {
        self.poll(within, || {
            http_get(self.port, "/readyz").and_then(|(_, body)| serde_json::from_slice::<Value>(&body).ok()).is_some_and(|v| v["ready"] == Value::Bool(true))
        })
    }

    fn poll(&self, within: Duration, mut done: impl FnMut() -> bool) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if done() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        false
    }

    /// Runs `openclaw <args>` in the scratch dir with the world's environment only; killed
    /// after five minutes.
    pub fn openclaw_output(&self, args: &[&str]) -> Output {
        let child = Command::new("openclaw")
            .args(args)
            .env_clear()
            .envs(self.env())
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("run openclaw {args:?}: {e}"));
        wait_with_timeout(child, CLI_TIMEOUT).unwrap_or_else(|e| panic!("openclaw {args:?}: {e}"))
    }

    /// Runs `openclaw <args>` (which must include `--json`), asserts it succeeded and returns what it printed.
    pub fn openclaw(&self, args: &[&str]) -> Value {
        let out = self.openclaw_output(args);
        assert!(out.status.success(), "openclaw {args:?}: {}\n{}\n{}", out.status, text(&out.stdout), text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("openclaw {args:?} printed no JSON ({e}): {}", text(&out.stdout)))
    }

    /// Stops every process still carrying this world's state dir in its environment or
    /// command line: started (indirectly) by this test, so ended by it.
    pub fn stop_leftovers(&self) {
        let state = self.state().display().to_string();
        let marker = format!("OPENCLAW_STATE_DIR={state}");
        let own = std::process::id() as i32;
        for pid in pids().filter(|pid| *pid != own) {
            let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let in_env = environ.split(|b| *b == 0).any(|var| var == marker.as_bytes());
            let in_cmdline = cmdline.split(|b| *b == 0).any(|arg| String::from_utf8_lossy(arg).contains(&state));
            if in_env || in_cmdline {
                signal(pid, Signal::SIGKILL);
            }
        }
    }

    fn stop_gateway(&mut self) {
        let Some(mut child) = self.gateway.take() else { return };
        let group = -(child.id() as i32);
        signal(group, Signal::SIGTERM);
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(200));
        }
        signal(group, Signal::SIGKILL);
        let _ = child.wait();
    }
}

impl Drop for ScratchOpenclaw {
    fn drop(&mut self) {
        self.stop_gateway();
        self.stop_leftovers();
    }
}

/// Fails the test with a clear message unless `openclaw` and `node` are on PATH.
pub fn require_tools() {
    for tool in ["openclaw", "node"] {
        assert!(which(tool).is_some(), "{tool} is not on PATH: run `make e2e`, or put $ASM_E2E_TOOLS/bin (e.g. /work/e2e-tools/bin) first on PATH");
    }
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("bind 127.0.0.1:0")
}

/// Lossy text of a child's output.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The executable `tool` on the test's PATH.
pub fn which(tool: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(tool)).find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

fn pids() -> impl Iterator<Item = i32> {
    std::fs::read_dir("/proc").into_iter().flatten().filter_map(Result::ok).filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
}

/// `kill(2)`; a negative pid is a process group. Never pid 0 or -1 (everything we may signal).
fn signal(pid: i32, sig: Signal) {
    if pid != 0 && pid != -1 {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig);
    }
}

/// Waits for `child`, reading its output meanwhile; kills it when `timeout` passes.
fn wait_with_timeout(mut child: Child, timeout: Duration) -> Result<Output, String> {
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut buf);
            }
            buf
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(status) => break status,
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("timed out after {timeout:?}"));
            }
            None => std::thread::sleep(Duration::from_millis(100)),
        }
    };
    Ok(Output { status, stdout: stdout.join().unwrap_or_default(), stderr: stderr.join().unwrap_or_default() })
}

/// A plain HTTP/1.0 GET on loopback (no chunking to undo): status and body, or None when nothing answered.
fn http_get(port: u16, path: &str) -> Option<(u16, Vec<u8>)> {
    let timeout = Duration::from_secs(3);
    let mut stream = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), timeout).ok()?;
    stream.set_read_timeout(Some(timeout)).ok()?;
    stream.set_write_timeout(Some(timeout)).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n").ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let head_end = response.windows(4).position(|w| w == b"\r\n\r\n")?;
    let status = std::str::from_utf8(&response[..head_end]).ok()?.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, response[head_end + 4..].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MockServer, Response};
    use std::os::unix::process::ExitStatusExt;

    #[test]
    fn env_is_the_isolation_set_and_set_env_replaces_or_adds() {
        let mut world = ScratchOpenclaw::new("kit-env");
        let get = |w: &ScratchOpenclaw, k: &str| w.env().into_iter().find(|(key, _)| key == k).map(|(_, v)| v);
        assert_eq!(get(&world, "OPENCLAW_STATE_DIR"), Some(world.state().display().to_string()));
        assert_eq!(get(&world, "OPENCLAW_GATEWAY_PORT"), Some(world.port().to_string()));
        world.set_env("OPENCLAW_SKIP_CRON", "0").set_env("OPENCLAW_SKIP_CHANNELS", "1").remove_env("NO_COLOR");
        assert_eq!(get(&world, "OPENCLAW_SKIP_CRON").as_deref(), Some("0"));
        assert_eq!(get(&world, "OPENCLAW_SKIP_CHANNELS").as_deref(), Some("1"));
        assert_eq!(get(&world, "NO_COLOR"), None);
        assert_eq!(world.env().iter().filter(|(k, _)| k == "OPENCLAW_SKIP_CRON").count(), 1);
        let argv = world.gateway_argv(&["--allow-unconfigured"]);
        assert_eq!(argv[1..], ["gateway", "run", "--port", &world.port().to_string(), "--bind", "loopback", "--allow-unconfigured"]);
    }

    #[test]
    fn http_get_reads_status_and_body() {
        let server = MockServer::start(|req| match req.path.as_str() {
            "/readyz" => Response::json(200, &serde_json::json!({"ready": true})),
            _ => Response::json(503, &serde_json::json!({"ready": false})),
        });
        let (status, body) = http_get(server.port(), "/readyz").unwrap();
        assert_eq!((status, serde_json::from_slice::<Value>(&body).unwrap()), (200, serde_json::json!({"ready": true})));
        assert_eq!(http_get(server.port(), "/healthz").map(|(s, _)| s), Some(503));
        assert_eq!(http_get(free_port(), "/healthz"), None);
    }

    #[test]
    fn a_child_over_its_time_is_killed() {
        let child = Command::new("sleep").arg("30").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        assert!(wait_with_timeout(child, Duration::from_millis(100)).unwrap_err().contains("timed out"));
        let child = Command::new("echo").arg("hi").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        assert_eq!(wait_with_timeout(child, Duration::from_secs(30)).unwrap().stdout, b"hi\n");
    }

    #[test]
    fn drop_kills_processes_carrying_the_state_dir() {
        let world = ScratchOpenclaw::new("kit-drop");
        let mut leftover = Command::new("sleep").arg("60").env_clear().envs(world.env()).spawn().unwrap();
        drop(world);
        assert_eq!(leftover.wait().unwrap().signal(), Some(Signal::SIGKILL as i32));
    }
}
