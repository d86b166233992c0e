//! asm_monitor: keeps every session healthy without a person watching. Runs the other tools
//! on their cadences, in the foreground or as a daemon.

use asm_core::cli;
use asm_core::clock::SystemClock;
use asm_core::logging::LogTarget;
use asm_core::monitor::{daemon, Monitor, PidFile};
use asm_core::tools::Siblings;
use asm_core::Runtime;
use clap::{Parser, ValueEnum};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    Foreground,
    Daemon,
}

#[derive(Parser, Debug)]
#[command(name = "monitor", version, about = "Watch sessions, the OpenClaw gateway and the MiniMax quota; act when needed")]
struct Args {
    #[arg(long, value_enum, default_value = "foreground")]
    mode: Mode,
    /// Seconds between checks (default ASM_MONITOR_INTERVAL, 60).
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    interval: Option<u64>,
    /// Run every check once and exit.
    #[arg(long)]
    once: bool,
}

fn main() {
    cli::exit("monitor", run(Args::parse()))
}

fn run(args: Args) -> asm_core::Result<i32> {
    let rt = Runtime::from_process()?;
    let interval = Duration::from_secs(args.interval.unwrap_or(rt.config.monitor_interval));
    let pid_file = rt.paths.monitor_pid_file();
    if args.mode == Mode::Daemon {
        // Refuse before detaching, so the user sees the error on their terminal.
        drop(PidFile::acquire(&pid_file)?);
        daemon::daemonize()?;
    }
    let _pid = PidFile::acquire(&pid_file)?;
    let target = if args.mode == Mode::Foreground { LogTarget::FileAndStderr } else { LogTarget::File };
    cli::start_logging("monitor", target, &rt);
    let stop = daemon::stop_flag();
    let mode = if args.mode == Mode::Daemon { "daemon" } else { "foreground" };
    let tools = Siblings::new(&rt);
    Monitor::new(&rt, &SystemClock, &tools, interval, stop).run(mode, args.once)?;
    Ok(cli::EXIT_OK)
}
