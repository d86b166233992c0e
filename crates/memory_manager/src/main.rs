//! asm_memory_manager: extracts a session's key information and manages the memory store.

use asm_core::cli;
use asm_core::logging::LogTarget;
use asm_core::session::Platform;
use asm_core::{Error, Runtime};
use clap::{Parser, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Action {
    Extract,
    List,
    Show,
    Handoff,
    Latest,
    Prune,
    Inject,
}

#[derive(Parser, Debug)]
#[command(name = "memory_manager", version, about = "Extract session key information into ~/.openclaw/.session_memory and read it back")]
struct Args {
    #[arg(long, value_enum)]
    action: Action,
    #[arg(long, value_name = "ID")]
    session_id: Option<String>,
    #[arg(long, value_enum)]
    platform: Option<Platform>,
    /// OpenClaw session key (for --action latest).
    #[arg(long)]
    key: Option<String>,
    /// Working directory (for --action latest).
    #[arg(long)]
    cwd: Option<String>,
    /// Age in days (for --action prune).
    #[arg(long, value_name = "DAYS")]
    older_than: Option<u64>,
    #[arg(long)]
    json: bool,
}

fn main() {
    cli::exit("memory_manager", run(Args::parse()))
}

fn run(args: Args) -> asm_core::Result<i32> {
    let rt = Runtime::from_process()?;
    cli::start_logging("memory_manager", LogTarget::attended(), &rt);
    Err(Error::NotAvailable(format!("memory_manager --action {:?}", args.action).to_lowercase()))
}
