//! The sibling tools as children: `asm_<name>` next to this executable (or in ASM_BIN_DIR),
//! run with arguments, a timeout, one JSON document read from stdout and the last line of
//! stderr kept as the reason when it fails. [`Tools`] is handed to whoever runs them (the
//! monitor, switching), so they are tested with a fake runner instead of fake binaries.

use crate::proc::{self, Cmd};
use crate::protocol::StepReport;
use crate::Runtime;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// The tools the monitor runs as children.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tool {
    SessionManager,
    MemoryManager,
    GatewayMonitor,
    HealthCheck,
}

impl Tool {
    /// The binary's name without the `asm_` prefix.
    pub fn name(self) -> &'static str {
        match self {
            Tool::SessionManager => "session_manager",
            Tool::MemoryManager => "memory_manager",
            Tool::GatewayMonitor => "gateway_monitor",
            Tool::HealthCheck => "health_check",
        }
    }
}

/// How one run of a tool went, and the JSON document it printed (if any).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolRun {
    pub report: StepReport,
    pub doc: Option<Value>,
}

/// Runs sibling tools.
pub trait Tools: Sync {
    fn run(&self, tool: Tool, args: &[String], timeout: Duration) -> ToolRun;
}

/// The real binaries.
pub struct Siblings {
    dir: PathBuf,
    cancel: Option<Arc<AtomicBool>>,
}

impl Siblings {
    /// `ASM_BIN_DIR`, else the directory of this executable.
    pub fn new(rt: &Runtime) -> Siblings {
        Siblings { dir: bin_dir(rt), cancel: None }
    }

    /// Children are stopped (their whole process group) once `flag` is set.
    pub fn cancel_on(mut self, flag: Arc<AtomicBool>) -> Siblings {
        self.cancel = Some(flag);
        self
    }

    pub fn program(&self, tool: Tool) -> PathBuf {
        self.dir.join(format!("asm_{}", tool.name()))
    }
}

impl Tools for Siblings {
    fn run(&self, tool: Tool, args: &[String], timeout: Duration) -> ToolRun {
        let mut argv = vec![self.program(tool).display().to_string()];
        argv.extend(args.iter().cloned());
        let mut report = StepReport { step: tool.name().to_string(), ..Default::default() };
        let mut cmd = Cmd::new(argv).timeout(timeout);
        if let Some(flag) = &self.cancel {
            cmd = cmd.cancel_on(flag.clone());
        }
        let output = match proc::run(&cmd) {
            Ok(o) => o,
            Err(e) => {
                report.message = Some(e.to_string());
                return ToolRun { report, doc: None };
            }
        };
        report.exit_code = output.code;
        report.duration_ms = output.elapsed.as_millis() as u64;
        report.ok = output.code == Some(0);
        let last_err_line = output.stderr_text().lines().rev().find(|l| !l.trim().is_empty()).map(str::to_string);
        report.message = if report.ok { None } else { last_err_line.or_else(|| Some(output.describe())) };
        ToolRun { report, doc: serde_json::from_slice(&output.stdout).ok() }
    }
}

/// Where the sibling binaries are: `ASM_BIN_DIR`, else the directory of this executable.
pub fn bin_dir(rt: &Runtime) -> PathBuf {
    if let Some(dir) = rt.env.get("ASM_BIN_DIR") {
        return PathBuf::from(dir);
    }
    std::env::current_exe().ok().and_then(|p| p.parent().map(Path::to_path_buf)).unwrap_or_else(|| PathBuf::from("."))
}
