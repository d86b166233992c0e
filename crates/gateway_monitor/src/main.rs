//! asm_gateway_monitor: probes the OpenClaw gateway and recovers it when it stops answering.

use asm_core::cli;
use asm_core::logging::LogTarget;
use asm_core::{Error, Runtime};
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

fn run(_args: Args) -> asm_core::Result<i32> {
    let rt = Runtime::from_process()?;
    cli::start_logging("gateway_monitor", LogTarget::attended(), &rt);
    Err(Error::NotAvailable("gateway_monitor".into()))
}
