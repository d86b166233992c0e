//! Child processes, one way: an argument vector (no shell), an optional stdin, a hard
//! timeout after which the child's whole process group is killed, and captured output.
//! Used for platform CLIs (`openclaw`, `claude`, `opencode`), user hooks (ASM_PAUSE_CMD, ...)
//! and the monitor's own children.

use nix::errno::Errno;
pub use nix::sys::signal::Signal;
use nix::sys::signal::{kill, killpg};
use nix::unistd::Pid;
use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ProcError {
    #[error("cannot run {program}: {source}")]
    Spawn { program: String, source: std::io::Error },
    #[error("empty command")]
    Empty,
}

#[derive(Debug, Clone)]
pub struct Cmd {
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    pub env_remove: Vec<String>,
    pub cwd: Option<PathBuf>,
    pub stdin: Option<Vec<u8>>,
    pub timeout: Duration,
    /// When this flag is set the child's group gets SIGTERM (SIGKILL after a grace): the
    /// monitor is stopping.
    pub cancel: Option<Arc<AtomicBool>>,
}

impl Cmd {
    pub fn new<I, S>(argv: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Cmd {
            argv: argv.into_iter().map(Into::into).collect(),
            env: Vec::new(),
            env_remove: Vec::new(),
            cwd: None,
            stdin: None,
            timeout: Duration::from_secs(30),
            cancel: None,
        }
    }

    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    pub fn env(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }

    pub fn env_remove(mut self, k: impl Into<String>) -> Self {
        self.env_remove.push(k.into());
        self
    }

    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    pub fn cancel_on(mut self, flag: Arc<AtomicBool>) -> Self {
        self.cancel = Some(flag);
        self
    }

    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// The child sees the environment ASM was given (the process's own, except in tests that
    /// inject one); variables set with [`Cmd::env`] afterwards win.
    pub fn with_env_of(mut self, env: &crate::env::Env) -> Self {
        let own = std::mem::take(&mut self.env);
        self.env = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.env.extend(own);
        self
    }

    /// The command as one line for logs and dry runs, quoted so a shell would read it back
    /// (redacted by the logger like every line).
    pub fn display(&self) -> String {
        self.argv.iter().map(|a| shlex::try_quote(a).map(|q| q.into_owned()).unwrap_or_else(|_| format!("{a:?}"))).collect::<Vec<_>>().join(" ")
    }
}

#[derive(Debug, Clone)]
pub struct Output {
    /// Exit code; None when killed by a signal or by the timeout.
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub timed_out: bool,
    /// Stopped because the cancel flag was set.
    pub cancelled: bool,
    pub elapsed: Duration,
}

impl Output {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// "exit 1", "killed by signal 9", "timed out after 30s": for one-line error messages.
    pub fn describe(&self) -> String {
        match (self.timed_out, self.code, self.signal) {
            (true, _, _) => format!("timed out after {}s", self.elapsed.as_secs()),
            _ if self.cancelled => "stopped: the monitor is stopping".into(),
            (_, Some(c), _) => format!("exit {c}"),
            (_, None, Some(s)) => format!("killed by signal {s}"),
            _ => "ended without a status".into(),
        }
    }
}

/// One line saying why a child failed: how it ended, and its first non-empty line of output.
pub fn failure_line(program: &str, out: &Output) -> String {
    let stderr = out.stderr_text();
    let stdout = out.stdout_text();
    let detail = stderr.lines().chain(stdout.lines()).map(str::trim).find(|l| !l.is_empty()).unwrap_or_default();
    if detail.is_empty() {
        format!("{program} {}", out.describe())
    } else {
        format!("{program} {}: {detail}", out.describe())
    }
}

/// Runs `cmd` to completion or timeout. The child gets its own process group so that a
/// timeout kills everything it started, not just the first process.
pub fn run(cmd: &Cmd) -> Result<Output, ProcError> {
    let program = cmd.argv.first().ok_or(ProcError::Empty)?;
    let mut command = Command::new(program);
    command
        .args(&cmd.argv[1..])
        .stdin(if cmd.stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    for (k, v) in &cmd.env {
        command.env(k, v);
    }
    for k in &cmd.env_remove {
        command.env_remove(k);
    }
    if let Some(dir) = &cmd.cwd {
        command.current_dir(dir);
    }
    let started = Instant::now();
    let mut child = command.spawn().map_err(|source| ProcError::Spawn { program: program.clone(), source })?;
    if let (Some(bytes), Some(mut pipe)) = (cmd.stdin.clone(), child.stdin.take()) {
        std::thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        });
    }
    let stdout = Drain::start(child.stdout.take());
    let stderr = Drain::start(child.stderr.take());
    let (status, ending) = wait_with_deadline(&mut child, cmd.timeout, cmd.cancel.as_deref());
    // The child is gone; a grandchild it left behind may still hold the pipes open (a restart
    // command that backgrounds the gateway). The output is read with a deadline, then the
    // whole group is killed, and whatever arrived is kept.
    let pgid = child.id() as i32;
    let outputs = [stdout, stderr];
    if !outputs.iter().all(|d| d.wait(OUTPUT_GRACE)) {
        kill_group(pgid, Signal::SIGKILL);
        outputs.iter().for_each(|d| {
            d.wait(OUTPUT_GRACE);
        });
    }
    let [stdout, stderr] = outputs;
    Ok(Output {
        code: status.and_then(|s| s.code()),
        signal: status.and_then(|s| s.signal()),
        stdout: stdout.take(),
        stderr: stderr.take(),
        timed_out: ending == Ending::TimedOut,
        cancelled: ending == Ending::Cancelled,
        elapsed: started.elapsed(),
    })
}

/// How long the output may still come after the child ended, before its group is killed.
const OUTPUT_GRACE: Duration = Duration::from_secs(2);
/// The most kept of one stream; the rest is read and dropped (a child cannot fill memory).
const MAX_OUTPUT_BYTES: usize = 64 * 1024 * 1024;

/// A pipe read on its own thread into a shared buffer, so the caller can stop waiting for it.
struct Drain {
    buf: Arc<std::sync::Mutex<Vec<u8>>>,
    done: std::sync::mpsc::Receiver<()>,
    finished: std::cell::Cell<bool>,
}

impl Drain {
    fn start<R: Read + Send + 'static>(pipe: Option<R>) -> Drain {
        let buf = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (tx, done) = std::sync::mpsc::channel();
        let shared = buf.clone();
        std::thread::spawn(move || {
            if let Some(mut p) = pipe {
                let mut chunk = [0u8; 64 * 1024];
                while let Ok(n) = p.read(&mut chunk) {
                    if n == 0 {
                        break;
                    }
                    let mut b = shared.lock().unwrap_or_else(|e| e.into_inner());
                    let room = MAX_OUTPUT_BYTES.saturating_sub(b.len());
                    b.extend_from_slice(&chunk[..n.min(room)]);
                }
            }
            let _ = tx.send(());
        });
        Drain { buf, done, finished: std::cell::Cell::new(false) }
    }

    /// Whether the pipe reached its end within `limit`.
    fn wait(&self, limit: Duration) -> bool {
        if !self.finished.get() {
            self.finished.set(self.done.recv_timeout(limit).is_ok());
        }
        self.finished.get()
    }

    fn take(self) -> Vec<u8> {
        std::mem::take(&mut *self.buf.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// How a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Exited,
    TimedOut,
    Cancelled,
}

/// A cancelled child gets this long between SIGTERM and SIGKILL.
const CANCEL_GRACE: Duration = Duration::from_secs(5);

fn wait_with_deadline(child: &mut Child, timeout: Duration, cancel: Option<&AtomicBool>) -> (Option<std::process::ExitStatus>, Ending) {
    let mut deadline = Instant::now() + timeout;
    let mut ending = Ending::Exited;
    let mut pause = Duration::from_millis(2);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return (Some(status), ending),
            Ok(None) if Instant::now() >= deadline => {
                kill_group(child.id() as i32, Signal::SIGKILL);
                let ending = if ending == Ending::Cancelled { ending } else { Ending::TimedOut };
                return (child.wait().ok(), ending);
            }
            Ok(None) if ending != Ending::Cancelled && cancel.is_some_and(|c| c.load(Ordering::SeqCst)) => {
                kill_group(child.id() as i32, Signal::SIGTERM);
                ending = Ending::Cancelled;
                deadline = deadline.min(Instant::now() + CANCEL_GRACE);
            }
            Ok(None) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(_) => return (None, ending),
        }
    }
}

/// Sends `signal` to a whole process group.
pub fn kill_group(pgid: i32, signal: Signal) {
    let _ = killpg(Pid::from_raw(pgid), signal);
}

/// Sends `signal` to one process; false when it does not exist (or is not ours).
pub fn signal_pid(pid: i32, signal: Signal) -> bool {
    pid > 0 && kill(Pid::from_raw(pid), signal).is_ok()
}

/// Whether a process with this pid exists (signal 0 probes without sending anything; EPERM
/// means it exists and belongs to someone else).
pub fn pid_alive(pid: i32) -> bool {
    pid > 0 && matches!(kill(Pid::from_raw(pid), None), Ok(()) | Err(Errno::EPERM))
}

/// The command line of a running process (Linux /proc), arguments joined by spaces.
pub fn pid_cmdline(pid: i32) -> Option<String> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let parts: Vec<String> = raw.split(|b| *b == 0).filter(|p| !p.is_empty()).map(|p| String::from_utf8_lossy(p).into_owned()).collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// Finds an executable on `path_var` (a PATH-style list), like `which`.
pub fn which(program: &str, path_var: Option<&str>) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let is_exec = |p: &Path| p.metadata().map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false);
    if program.contains('/') {
        let p = PathBuf::from(program);
        return is_exec(&p).then_some(p);
    }
    path_var?.split(':').filter(|d| !d.is_empty()).map(|d| Path::new(d).join(program)).find(|p| is_exec(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_output_and_exit_code() {
        let out = run(&Cmd::new(["sh", "-c", "echo out; echo err >&2; exit 3"])).unwrap();
        assert_eq!(out.code, Some(3));
        assert_eq!(out.stdout_text(), "out\n");
        assert_eq!(out.stderr_text(), "err\n");
        assert!(!out.timed_out);
    }

    #[test]
    fn timeout_kills_the_whole_group() {
        let out = run(&Cmd::new(["sh", "-c", "sleep 30 & sleep 30"]).timeout(Duration::from_millis(200))).unwrap();
        assert!(out.timed_out);
        assert_eq!(out.signal, Some(Signal::SIGKILL as i32));
        assert!(out.elapsed < Duration::from_secs(10));
    }

    #[test]
    fn a_cancelled_child_is_stopped_with_its_group() {
        let flag = Arc::new(AtomicBool::new(false));
        let setter = flag.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            setter.store(true, Ordering::SeqCst);
        });
        let out = run(&Cmd::new(["sh", "-c", "sleep 30 & sleep 30"]).timeout(Duration::from_secs(60)).cancel_on(flag)).unwrap();
        t.join().unwrap();
        assert!(out.cancelled && !out.timed_out, "{out:?}");
        assert_eq!(out.describe(), "stopped: the monitor is stopping");
    }

    #[test]
    fn a_grandchild_holding_the_pipes_does_not_hold_the_caller() {
        let started = Instant::now();
        let out = run(&Cmd::new(["sh", "-c", "echo started; sleep 600 & exit 0"]).timeout(Duration::from_secs(60))).unwrap();
        assert_eq!((out.code, out.stdout_text().trim()), (Some(0), "started"));
        assert!(started.elapsed() < Duration::from_secs(30), "returned after the output grace, not after the grandchild");
    }

    #[test]
    fn stdin_is_fed() {
        let out = run(&Cmd::new(["cat"]).stdin("hello")).unwrap();
        assert_eq!(out.stdout_text(), "hello");
    }

    #[test]
    fn missing_program_is_a_spawn_error() {
        let err = run(&Cmd::new(["/nonexistent/asm-nope"])).unwrap_err();
        assert!(err.to_string().starts_with("cannot run /nonexistent/asm-nope"));
    }
}
