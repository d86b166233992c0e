//! Running without a terminal: detaching into the background (fork, setsid, fork, stdio to
//! /dev/null) and the flag that SIGINT, SIGTERM and SIGHUP set for a clean stop.

use nix::unistd::{fork, setsid, ForkResult};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum DaemonError {
    #[error("cannot {step}: {source}")]
    Sys { step: &'static str, source: nix::Error },
}

/// Detaches from the terminal: fork, setsid, fork, stdio to /dev/null. The first parent
/// exits 0; the second prints the daemon's pid and exits 0. Must run before any thread starts.
pub fn daemonize() -> Result<(), DaemonError> {
    let sys = |step| move |source| DaemonError::Sys { step, source };
    // SAFETY: called at start-up while the process is single-threaded (fork's requirement).
    match unsafe { fork() }.map_err(sys("fork"))? {
        ForkResult::Parent { .. } => std::process::exit(0),
        ForkResult::Child => {}
    }
    setsid().map_err(sys("start a session"))?;
    // SAFETY: still single-threaded.
    match unsafe { fork() }.map_err(sys("fork"))? {
        ForkResult::Parent { child } => {
            println!("asm_monitor daemon started (pid {child})");
            std::process::exit(0)
        }
        ForkResult::Child => {}
    }
    if let Ok(devnull) = std::fs::OpenOptions::new().read(true).write(true).open("/dev/null") {
        let _ = nix::unistd::dup2_stdin(&devnull);
        let _ = nix::unistd::dup2_stdout(&devnull);
        let _ = nix::unistd::dup2_stderr(&devnull);
    }
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    Ok(())
}

/// A flag that SIGINT, SIGTERM and SIGHUP set, for a clean stop between steps.
pub fn stop_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    if let Err(e) = ctrlc::set_handler(move || f.store(true, Ordering::SeqCst)) {
        log::warn!("cannot install the signal handler: {e}");
    }
    flag
}
