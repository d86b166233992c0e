//! asm_monitor: keeps every session healthy without a person watching. Runs the other tools
//! on their cadences, in the foreground or as a daemon; says whether one runs, and stops it.

use asm_core::cli;
use asm_core::clock::SystemClock;
use asm_core::logging::LogTarget;
use asm_core::monitor::daemon::{self, SignalFlags};
use asm_core::monitor::{control, Monitor, PidFile};
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
    /// Seconds between session rounds (default ASM_MONITOR_INTERVAL, 60).
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    interval: Option<u64>,
    /// Run every step once, print what was seen and done, and exit (1 when a step found a
    /// problem or an action failed).
    #[arg(long, conflicts_with_all = ["status", "stop"])]
    once: bool,
    /// Say whether a monitor runs for this state dir, its last and next round.
    #[arg(long, conflicts_with = "stop")]
    status: bool,
    /// Stop the running monitor (SIGTERM by its pid file) and wait until it has ended.
    #[arg(long)]
    stop: bool,
    /// With --status, --stop or --once: one JSON document instead of text.
    #[arg(long)]
    json: bool,
}

/// How long `--stop` waits for the monitor to end its running steps.
const STOP_WAIT: Duration = Duration::from_secs(30);

fn main() {
    cli::exit("monitor", run(Args::parse()))
}

fn run(args: Args) -> asm_core::Result<i32> {
    let rt = Runtime::from_process()?;
    if args.status {
        let status = control::status(&rt);
        cli::print_either(&status, &status.text(rt.config.context_threshold), args.json)?;
        return Ok(if status.running { cli::EXIT_OK } else { cli::EXIT_PROBLEM });
    }
    if args.stop {
        let stop = control::stop(&rt, STOP_WAIT);
        cli::print_either(&stop, &stop.text(), args.json)?;
        return Ok(if matches!(stop, control::Stop::StillRunning { .. }) { cli::EXIT_PROBLEM } else { cli::EXIT_OK });
    }
    let pid_file = rt.paths.monitor_pid_file();
    if args.mode == Mode::Daemon {
        // Refuse before detaching, so the user sees the error on their terminal.
        drop(PidFile::acquire(&pid_file)?);
        daemon::daemonize()?;
    }
    let _pid = PidFile::acquire(&pid_file)?;
    let target = if args.mode == Mode::Foreground { LogTarget::FileAndStderr } else { LogTarget::File };
    cli::start_logging("monitor", target, &rt);
    let signals = SignalFlags::install();
    let mode = if args.mode == Mode::Daemon { "daemon" } else { "foreground" };
    let tools = Siblings::new(&rt).cancel_on(signals.stop.clone());
    let threshold = rt.config.context_threshold;
    let summary = Monitor::new(rt, &SystemClock, &tools, args.interval.map(Duration::from_secs), signals).run(mode, args.once)?;
    if !args.once {
        return Ok(cli::EXIT_OK);
    }
    let mut text = summary.text(threshold);
    text.extend(summary.problems.iter().map(|p| format!("\nproblem: {p}")));
    cli::print_either(&summary, &text, args.json)?;
    Ok(if summary.problems.is_empty() { cli::EXIT_OK } else { cli::EXIT_PROBLEM })
}
