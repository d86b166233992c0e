//! asm_health_check: one verdict from the checks (monitor, gateway, quota, notifications,
//! session stores, hooks, state dir), then paths, tools and settings; the quota check and the
//! notification test.

use asm_core::cli;
use asm_core::clock::SystemClock;
use asm_core::logging::LogTarget;
use asm_core::notify::Notifier;
use asm_core::Runtime;
use clap::Parser;

#[derive(Parser, Debug)]
#[command(name = "health_check", version, about = "Check auto-session-manager's configuration, state and surroundings")]
struct Args {
    /// Read the MiniMax quota now and apply pause/resume.
    #[arg(long)]
    quota: bool,
    /// With --quota: read even if the poll interval has not passed.
    #[arg(long, requires = "quota")]
    force: bool,
    /// Post a test message to the feed topic.
    #[arg(long)]
    notify_test: bool,
    /// Text of the test message.
    #[arg(long, requires = "notify_test")]
    text: Option<String>,
    #[arg(long)]
    json: bool,
}

fn main() {
    cli::exit("health_check", run(Args::parse()))
}

fn run(args: Args) -> asm_core::Result<i32> {
    let rt = Runtime::from_process()?;
    cli::start_logging("health_check", LogTarget::attended(), &rt);
    if args.quota {
        let report = asm_core::quota::check(&rt, &SystemClock, args.force)?;
        if args.json {
            cli::print_json(&report)?;
        } else {
            cli::print_text(&report.render());
        }
        if report.has_problem() {
            let why = report
                .error
                .clone()
                .or_else(|| report.hooks.iter().find(|h| !h.ok).map(|h| format!("{} command failed: {}", h.kind, h.detail)))
                .unwrap_or_default();
            cli::report_problem("health_check", &format!("MiniMax quota: {why}"));
            return Ok(cli::EXIT_PROBLEM);
        }
        return Ok(cli::EXIT_OK);
    }
    if args.notify_test {
        return notify_test(&rt, args.text.as_deref(), args.json);
    }
    let report = asm_core::health::report(&rt);
    if args.json {
        cli::print_json(&report)?;
    } else {
        cli::print_text(&asm_core::health::render(&report));
    }
    // 0 every check ok, 1 a warning, 2 a failure.
    Ok(report.status.exit_code())
}

/// Delivers what is pending, posts the test message, prints what happened; exit 0 when delivered.
fn notify_test(rt: &Runtime, text: Option<&str>, json: bool) -> asm_core::Result<i32> {
    let default_text = format!("auto-session-manager test message from {} (health_check --notify-test)", host_name());
    let report = Notifier::new(rt).send_test(text.unwrap_or(&default_text));
    if json {
        cli::print_json(&report)?;
    } else {
        cli::print_text(&report.text());
    }
    Ok(if report.delivered { cli::EXIT_OK } else { cli::EXIT_PROBLEM })
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).ok().filter(|h| !h.is_empty()).unwrap_or_else(|| "this host".into())
}
