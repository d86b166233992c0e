//! asm_session_manager: lists every agent session with how full its context window is.

use asm_core::cli;
use asm_core::logging::LogTarget;
use asm_core::session::Platform;
use asm_core::{Error, Runtime};
use clap::Parser;

#[derive(Parser, Debug)]
#[command(name = "session_manager", version, about = "List OpenClaw, Claude Code and OpenCode sessions with their context usage")]
struct Args {
    /// List every session, fullest first.
    #[arg(long, conflicts_with = "show")]
    list: bool,
    /// Show one session in detail (session id, or OpenClaw session key).
    #[arg(long, value_name = "SESSION_ID")]
    show: Option<String>,
    /// Only this platform.
    #[arg(long, value_enum)]
    platform: Option<Platform>,
    /// Print one JSON document instead of a table.
    #[arg(long)]
    json: bool,
}

fn main() {
    cli::exit("session_manager", run(Args::parse()))
}

fn run(args: Args) -> asm_core::Result<i32> {
    let rt = Runtime::from_process()?;
    cli::start_logging("session_manager", LogTarget::attended(), &rt);
    match (&args.show, args.list) {
        (Some(id), _) => show(&rt, id, &args),
        (None, true) => list(&rt, &args),
        (None, false) => Err(Error::Usage("nothing to do: give --list or --show SESSION_ID (see --help)".into())),
    }
}

fn list(rt: &Runtime, args: &Args) -> asm_core::Result<i32> {
    let found = asm_core::platform::discover(rt, args.platform);
    for e in &found.errors {
        log::warn!("{} store {} not read: {}", e.platform, e.source, e.message);
    }
    let started = std::time::Instant::now();
    if args.json {
        cli::print_session_list(&found)?;
    } else {
        cli::print_text(&asm_core::table::render(&found, asm_core::table::use_colour(&rt.env)));
    }
    log::debug!("printed {} sessions in {} ms", found.sessions.len(), started.elapsed().as_millis());
    let nothing_read = found.sessions.is_empty() && !found.errors.is_empty();
    Ok(if nothing_read { cli::EXIT_PROBLEM } else { cli::EXIT_OK })
}

fn show(rt: &Runtime, id: &str, args: &Args) -> asm_core::Result<i32> {
    let session =
        asm_core::platform::find_session(rt, id, args.platform).ok_or_else(|| Error::Failed(format!("no session with id or key {id:?} was found")))?;
    if args.json {
        cli::print_json(&session)?;
    } else {
        cli::print_text(&asm_core::table::render_one(&session));
    }
    Ok(cli::EXIT_OK)
}
