//! asm_gateway_monitor: probes the OpenClaw gateway and recovers it when it stops answering.

use asm_core::clock::SystemClock;
use asm_core::gateway::Watch;
use asm_core::logging::LogTarget;
use asm_core::{cli, Runtime};
use clap::Parser;

#[derive(Parser, Debug)]
#[command(name = "gateway_monitor", version, about = "Probe the OpenClaw gateway; restart, repair or give up as the incident requires")]
struct Args {
    /// After probing, carry out what the incident state machine says is due now.
    #[arg(long)]
    act: bool,
    /// Restart the gateway now and verify it comes back.
    #[arg(long, conflicts_with_all = ["act", "debug", "reset"])]
    restart: bool,
    /// Full diagnosis: probes with timings, listener, supervisor, status, config, log tail.
    #[arg(long, conflicts_with_all = ["act", "reset"])]
    debug: bool,
    /// Clear a GAVE_UP incident so automatic recovery resumes.
    #[arg(long, conflicts_with = "act")]
    reset: bool,
    #[arg(long)]
    json: bool,
}

fn main() {
    cli::exit("gateway_monitor", run(Args::parse()))
}

fn run(args: Args) -> asm_core::Result<i32> {
    let rt = Runtime::from_process()?;
    cli::start_logging("gateway_monitor", LogTarget::attended(), &rt);
    let clock = SystemClock;
    let watch = Watch::new(&rt, &clock);
    if args.debug {
        let diagnosis = watch.diagnose()?;
        cli::print_either(&diagnosis, &diagnosis.text(), args.json)?;
        return Ok(exit_code(diagnosis.probe.ok()));
    }
    // Probing and acting are for machines where OpenClaw is; a request by hand always runs.
    let asked_by_hand = args.restart || args.reset;
    if !asked_by_hand && !watch.scope().is_on() {
        let off = watch.scope();
        cli::print_either(off, &format!("gateway watch off: {}", off.reason()), args.json)?;
        return Ok(cli::EXIT_OK);
    }
    let report = if args.restart {
        watch.restart()?
    } else if args.reset {
        watch.reset()?
    } else if args.act {
        watch.act()?
    } else {
        watch.check()?
    };
    cli::print_either(&report, &report.text(), args.json)?;
    if !report.healthy {
        cli::report_problem("gateway_monitor", &format!("gateway {} at {}: {}", report.phase, report.url, report.probe.detail));
    }
    Ok(exit_code(report.healthy))
}

fn exit_code(healthy: bool) -> i32 {
    if healthy {
        cli::EXIT_OK
    } else {
        cli::EXIT_PROBLEM
    }
}
