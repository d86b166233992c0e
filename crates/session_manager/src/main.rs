//! asm_session_manager: lists every agent session with how full its context window is,
//! switches a session to a fresh one, and installs ASM's hooks into the platforms.

use asm_core::clock::SystemClock;
use asm_core::logging::LogTarget;
use asm_core::platform::{self, HookChange, HookError};
use asm_core::session::Platform;
use asm_core::switching::switch::SwitchOptions;
use asm_core::switching::{switch, SwitchState, Trigger};
use asm_core::table::TableOptions;
use asm_core::{cli, Error, Runtime};
use clap::{Parser, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TriggerArg {
    Manual,
    Threshold,
}

#[derive(Parser, Debug)]
#[command(
    name = "session_manager",
    version,
    about = "List OpenClaw, Claude Code and OpenCode sessions with their context usage; switch them; install ASM's hooks"
)]
struct Args {
    /// List every session, fullest first.
    #[arg(long, conflicts_with_all = ["show", "switch", "install_hooks", "remove_hooks"])]
    list: bool,
    /// Show one session in detail (its id, a unique prefix of it, or an OpenClaw key).
    #[arg(long, value_name = "SESSION", conflicts_with_all = ["switch", "install_hooks", "remove_hooks"])]
    show: Option<String>,
    /// Switch a session to a fresh one that starts from its handoff (id, unique prefix or key).
    #[arg(long, value_name = "SESSION", conflicts_with_all = ["install_hooks", "remove_hooks"])]
    switch: Option<String>,
    /// Merge ASM's hooks (Claude Code) and plugin (OpenCode) into the platforms' configuration.
    #[arg(long, conflicts_with = "remove_hooks")]
    install_hooks: bool,
    /// Take ASM's hooks and plugin out again (exactly ASM's entries).
    #[arg(long)]
    remove_hooks: bool,
    /// With --switch, --install-hooks, --remove-hooks: say what would be done, do nothing.
    #[arg(long)]
    dry_run: bool,
    /// With --list: titles and models untruncated.
    #[arg(long, requires = "list")]
    wide: bool,
    /// With --list: measure every transcript afresh, without the measurement index.
    #[arg(long, requires = "list")]
    no_index: bool,
    /// With --list: only sessions whose transcript or store changed within this many hours
    /// (the others are counted, not measured; the monitor passes ASM_ACTIVE_WITHIN).
    #[arg(long, requires = "list", value_name = "HOURS", value_parser = positive_hours)]
    changed_within: Option<f64>,
    /// Only this platform.
    #[arg(long, value_enum)]
    platform: Option<Platform>,
    /// Print one JSON document instead of text.
    #[arg(long)]
    json: bool,
    /// Why the switch runs (the monitor says `threshold`).
    #[arg(long, value_enum, default_value = "manual", hide = true)]
    trigger: TriggerArg,
    /// No feed notice for this switch (the monitor posts a digest of a crowded round).
    #[arg(long, hide = true, requires = "switch")]
    no_notice: bool,
}

/// A number of hours above zero (fractions allowed).
fn positive_hours(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(h) if h > 0.0 && h.is_finite() && h <= 24.0 * 365.0 * 100.0 => Ok(h),
        _ => Err(format!("expected a number of hours above 0, got {text:?}")),
    }
}

fn main() {
    cli::exit("session_manager", run(Args::parse()))
}

fn run(args: Args) -> asm_core::Result<i32> {
    let rt = Runtime::from_process()?;
    cli::start_logging("session_manager", LogTarget::attended(), &rt);
    if let Some(query) = &args.switch {
        return switch_session(&rt, query, &args);
    }
    if args.install_hooks || args.remove_hooks {
        return hooks(&rt, &args);
    }
    match (&args.show, args.list) {
        (Some(id), _) => show(&rt, id, &args),
        (None, true) => list(&rt, &args),
        (None, false) => Err(Error::Usage("nothing to do: give --list, --show SESSION, --switch SESSION or --install-hooks (see --help)".into())),
    }
}

fn list(rt: &Runtime, args: &Args) -> asm_core::Result<i32> {
    let changed_within = args.changed_within.map(|hours| std::time::Duration::from_secs_f64(hours * 3600.0));
    let found = platform::discover_with(rt, args.platform, platform::ListOptions { use_index: !args.no_index, changed_within });
    for e in &found.errors {
        log::warn!("{} store {} not read: {}", e.platform, e.source, e.message);
    }
    let started = std::time::Instant::now();
    if args.json {
        cli::print_session_list(&found)?;
    } else {
        cli::print_text(&asm_core::table::render(&found, &TableOptions::for_runtime(rt, args.wide, args.platform)));
    }
    log::debug!("printed {} sessions in {} ms", found.sessions.len(), started.elapsed().as_millis());
    let nothing_read = found.sessions.is_empty() && !found.errors.is_empty();
    Ok(if nothing_read { cli::EXIT_PROBLEM } else { cli::EXIT_OK })
}

fn show(rt: &Runtime, query: &str, args: &Args) -> asm_core::Result<i32> {
    let session = platform::resolve(rt, query, args.platform).map_err(resolve_error)?;
    if args.json {
        cli::print_json(&session)?;
    } else {
        cli::print_text(&asm_core::table::render_one(&session, &TableOptions::for_runtime(rt, false, None)));
    }
    Ok(cli::EXIT_OK)
}

/// An ambiguous prefix is a usage error (exit 2); a session that is not there is a problem found (exit 1).
fn resolve_error(e: platform::ResolveError) -> Error {
    match e {
        platform::ResolveError::Ambiguous { .. } => Error::Usage(e.to_string()),
        platform::ResolveError::NotFound { .. } => Error::Failed(e.to_string()),
    }
}

fn switch_session(rt: &Runtime, query: &str, args: &Args) -> asm_core::Result<i32> {
    let trigger = match args.trigger {
        TriggerArg::Manual => Trigger::Manual,
        TriggerArg::Threshold => Trigger::Threshold,
    };
    let session = match platform::resolve(rt, query, args.platform) {
        Ok(s) => s,
        // A switch that started and did not finish is carried on even when the session is no
        // longer listed (an OpenClaw 2026.7 reset gives the topic a new id).
        Err(e) => unfinished(rt, query, args.platform).ok_or_else(|| resolve_error(e))?,
    };
    let options = SwitchOptions { trigger, dry_run: args.dry_run, notice: !args.no_notice };
    let report = switch::switch(rt, &SystemClock, &session, options)?;
    if args.json {
        cli::print_json(&report)?;
    } else {
        cli::print_text(&report.text());
    }
    if let Some(error) = report.error.as_deref().filter(|_| !report.switched) {
        cli::report_problem("session_manager", error);
    }
    Ok(if report.switched { cli::EXIT_OK } else { cli::EXIT_PROBLEM })
}

fn unfinished(rt: &Runtime, query: &str, only: Option<Platform>) -> Option<asm_core::session::SessionInfo> {
    let state: SwitchState = rt.state().section::<SwitchState>().ok()?.migrated();
    let record = state.switches.into_values().find(|r| !r.is_finished() && r.session_id == query && only.is_none_or(|p| p == r.platform))?;
    Some(record.session())
}

fn hooks(rt: &Runtime, args: &Args) -> asm_core::Result<i32> {
    let bin_dir = asm_core::tools::bin_dir(rt);
    let mut changes: Vec<(Platform, Result<HookChange, HookError>)> = Vec::new();
    let mut skipped = Vec::new();
    for p in Platform::ALL.into_iter().filter(|p| args.platform.is_none_or(|o| o == *p)) {
        let Some(hooks) = platform::adapter(p).hooks() else { continue };
        // Without --platform, hooks go only where the platform is (removing looks everywhere).
        if args.install_hooks && args.platform.is_none() && !hooks.present(rt) {
            skipped.push(p);
            continue;
        }
        let results = if args.install_hooks { hooks.install(rt, &platform::hook_command(&bin_dir, p), args.dry_run) } else { hooks.remove(rt, args.dry_run) };
        changes.extend(results.into_iter().map(|r| (p, r)));
    }
    let failed = changes.iter().any(|(_, r)| r.is_err());
    if args.json {
        let doc: Vec<serde_json::Value> = changes
            .iter()
            .map(|(p, r)| match r {
                Ok(c) => serde_json::json!({"platform": p, "path": c.path, "action": c.action, "backup": c.backup}),
                Err(e) => serde_json::json!({"platform": p, "error": e.to_string()}),
            })
            .collect();
        cli::print_json(&serde_json::json!({ "dry_run": args.dry_run, "changes": doc, "skipped_not_found": skipped }))?;
    } else {
        let mut lines: Vec<String> = changes
            .iter()
            .map(|(p, r)| match r {
                Ok(c) => format!(
                    "{:<12} {:<13} {}{}",
                    p.display_name(),
                    serde_json::to_value(c.action).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default().replace('_', " "),
                    c.path.display(),
                    c.backup.as_ref().map(|b| format!(" (backup {})", b.display())).unwrap_or_default()
                ),
                Err(e) => format!("{:<12} FAILED        {e}", p.display_name()),
            })
            .collect();
        lines.extend(
            skipped.iter().map(|p| format!("{:<12} skipped       not found on this machine (--platform {} installs anyway)", p.display_name(), p.id())),
        );
        cli::print_text(&if lines.is_empty() { "No platform takes ASM's hooks.".to_string() } else { lines.join("\n") });
    }
    if failed {
        let first = changes.iter().find_map(|(p, r)| r.as_ref().err().map(|e| format!("{}: {e}", p.display_name()))).unwrap_or_default();
        cli::report_problem("session_manager", &first);
    }
    Ok(if failed { cli::EXIT_PROBLEM } else { cli::EXIT_OK })
}
