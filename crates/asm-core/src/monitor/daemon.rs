//! Running without a terminal: detaching into the background (fork, setsid, fork, stdio to
//! /dev/null), and the flags the signals set: SIGINT and SIGTERM for a clean stop, SIGHUP for
//! a reload of the configuration.

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

/// The flags the monitor's loop looks at between steps.
#[derive(Debug, Clone, Default)]
pub struct SignalFlags {
    /// SIGINT or SIGTERM arrived: stop cleanly.
    pub stop: Arc<AtomicBool>,
    /// SIGHUP arrived: read the configuration again (cleared by whoever reloads).
    pub reload: Arc<AtomicBool>,
}

impl SignalFlags {
    /// Flags set by this process's SIGINT, SIGTERM and SIGHUP.
    pub fn install() -> SignalFlags {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let flags = SignalFlags::default();
        for (signal, flag) in [(SIGINT, &flags.stop), (SIGTERM, &flags.stop), (SIGHUP, &flags.reload)] {
            if let Err(e) = signal_hook::flag::register(signal, flag.clone()) {
                log::warn!("cannot install the handler of signal {signal}: {e}");
            }
        }
        flags
    }

    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Whether a reload was asked for since the last call.
    pub fn take_reload(&self) -> bool {
        self.reload.swap(false, Ordering::SeqCst)
    }
}
