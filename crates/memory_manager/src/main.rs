//! asm_memory_manager: extracts a session's key information into the memory store and reads
//! it back (list, show, handoff, latest, chain, prune), and answers the platforms' hooks.

use asm_core::cli;
use asm_core::logging::LogTarget;
use asm_core::memory::store::MemoryEntry;
use asm_core::memory::{MemoryRecord, MemoryStore};
use asm_core::session::Platform;
use asm_core::{Error, Runtime};
use chrono::Utc;
use clap::{Parser, ValueEnum};
use std::io::Read;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Action {
    Extract,
    List,
    Show,
    Handoff,
    Latest,
    Chain,
    Prune,
    /// Answers a platform's hook: JSON on stdin (what Claude Code sends its hooks).
    Hook,
    /// The earlier name of `hook` (Claude Code's SessionStart).
    Inject,
}

#[derive(Parser, Debug)]
#[command(name = "memory_manager", version, about = "Extract session key information into ~/.openclaw/.session_memory and read it back")]
struct Args {
    #[arg(long, value_enum)]
    action: Action,
    /// Session id or a unique prefix of it (for extract also an OpenClaw session key).
    #[arg(long, value_name = "ID")]
    session_id: Option<String>,
    #[arg(long, value_enum)]
    platform: Option<Platform>,
    /// OpenClaw session key (for --action latest and chain).
    #[arg(long)]
    key: Option<String>,
    /// Working directory (for --action latest and chain).
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
    // A hook's stdout belongs to the platform: log to the file only.
    let target = if matches!(args.action, Action::Hook | Action::Inject) { LogTarget::File } else { LogTarget::attended() };
    cli::start_logging("memory_manager", target, &rt);
    let store = MemoryStore::new(&rt);
    match args.action {
        Action::Extract => extract(&rt, &args),
        Action::List => list(&store, &args),
        Action::Show => show(&store, &args),
        Action::Handoff => handoff(&store, &args),
        Action::Latest => latest(&store, &args),
        Action::Chain => chain(&store, &args),
        Action::Prune => prune(&store, &args),
        Action::Hook | Action::Inject => hook(&rt, &args),
    }
}

fn session_id_arg(args: &Args) -> asm_core::Result<&str> {
    args.session_id.as_deref().ok_or_else(|| Error::Usage(format!("--action {} needs --session-id ID", action_name(args.action))))
}

fn action_name(action: Action) -> String {
    action.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default()
}

fn extract(rt: &Runtime, args: &Args) -> asm_core::Result<i32> {
    let id = session_id_arg(args)?;
    // A bad id is refused before anything is searched; an OpenClaw key (with colons) is looked up.
    let looks_like_openclaw_key = id.contains(':') && !id.contains('/');
    if let Err(e) = asm_core::memory::store::validate_session_id(id) {
        if !looks_like_openclaw_key {
            return Err(e.into());
        }
    }
    let session = asm_core::platform::resolve(rt, id, args.platform).map_err(|e| match e {
        asm_core::platform::ResolveError::Ambiguous { .. } => Error::Usage(e.to_string()),
        asm_core::platform::ResolveError::NotFound { .. } => Error::Failed(e.to_string()),
    })?;
    let record = asm_core::memory::extract(rt, &session)?;
    if args.json {
        cli::print_json(&record)?;
    } else {
        let path = MemoryStore::new(rt).path_of(&record.session_id)?;
        let s = &record.sections;
        cli::print_text(&format!(
            "Extracted {} session {} into {}\n  summary: {}{}\n  requests {}, decisions {}, open items {}, files changed {}, read {}, commands {}, errors {}, identifiers {}\n  handoff {} bytes; transcript {} records ({} corrupt, {} synthetic skipped){}",
            record.platform.display_name(),
            record.session_id,
            path.display(),
            record.summary.source,
            record.summary.fallback_reason.as_deref().map(|r| format!(" (platform summary not used: {r})")).unwrap_or_default(),
            s.user_requests.len(),
            s.decisions.len(),
            s.open_items.len(),
            s.files_changed.len(),
            s.files_read.len(),
            s.commands.len(),
            s.errors.len(),
            s.identifiers.len(),
            record.handoff.len(),
            record.read_stats.records,
            record.read_stats.corrupt,
            record.read_stats.synthetic,
            record.previous_session_id.as_deref().map(|p| format!("\n  continues {p}")).unwrap_or_default(),
        ));
    }
    Ok(cli::EXIT_OK)
}

fn list(store: &MemoryStore, args: &Args) -> asm_core::Result<i32> {
    let entries = store.list(Utc::now())?;
    if args.json {
        cli::print_json(&serde_json::json!({ "dir": store.dir(), "count": entries.len(), "memories": entries }))?;
    } else if entries.is_empty() {
        cli::print_text(&format!("No memories stored in {}", store.dir().display()));
    } else {
        cli::print_text(&render_table(&entries));
    }
    Ok(cli::EXIT_OK)
}

fn render_table(entries: &[MemoryEntry]) -> String {
    // Earlier switches' memories share their session's id: prefixes are unique among sessions.
    let mut ids: Vec<&str> = entries.iter().map(|e| e.session_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let lengths: std::collections::HashMap<&str, usize> = ids.iter().copied().zip(asm_core::session::unique_prefix_lengths(&ids)).collect();
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            let len = lengths.get(e.session_id.as_str()).copied().unwrap_or(usize::MAX);
            let platform = e.platform.map_or("?".to_string(), |p| p.id().to_string());
            let age = e.age_seconds.map_or("?".to_string(), |a| format!("{} ago", asm_core::timefmt::span(a.max(0))));
            let place = e.error.clone().or_else(|| e.key.clone()).or_else(|| e.cwd.clone()).unwrap_or_default();
            vec![e.session_id.chars().take(len).collect(), platform, human_size(e.size_bytes), age, place]
        })
        .collect();
    asm_core::table::lines(&["SESSION", "PLATFORM", "SIZE", "EXTRACTED", "KEY / CWD"], &rows).join("\n")
}

fn human_size(bytes: u64) -> String {
    if bytes < 10 * 1024 {
        format!("{bytes}B")
    } else {
        format!("{}K", bytes / 1024)
    }
}

/// The stored memory of `--session-id` (a full id or a unique prefix).
fn load_arg(store: &MemoryStore, args: &Args) -> asm_core::Result<MemoryRecord> {
    let id = store.resolve(session_id_arg(args)?)?;
    Ok(store.load(&id)?)
}

fn show(store: &MemoryStore, args: &Args) -> asm_core::Result<i32> {
    let record = load_arg(store, args)?;
    if args.json {
        cli::print_json(&record)?;
    } else {
        cli::print_text(&describe(&record));
    }
    Ok(cli::EXIT_OK)
}

fn describe(r: &MemoryRecord) -> String {
    let mut lines = vec![
        format!("session      {} ({})", r.session_id, r.platform.display_name()),
        format!(
            "extracted    {} (first {})",
            asm_core::timefmt::local_with_age(r.extracted_at, Utc::now()),
            asm_core::timefmt::local_with_age(r.first_extracted_at, Utc::now())
        ),
    ];
    let optional = [("key", r.key.clone()), ("cwd", r.cwd.clone()), ("model", r.model.clone()), ("continues", r.previous_session_id.clone())];
    lines.extend(optional.into_iter().filter_map(|(label, v)| v.map(|v| format!("{label:<12} {v}"))));
    if let Some(p) = r.context.percent {
        lines.push(format!("context      {p}% ({} / {} tokens)", r.context.tokens.unwrap_or(0), r.context.window.unwrap_or(0)));
    }
    lines.push(format!(
        "summary      {} (mode {}){}",
        r.summary.source,
        r.summary.mode,
        r.summary.fallback_reason.as_deref().map(|f| format!("; fallback: {f}")).unwrap_or_default()
    ));
    if !r.chain.is_empty() {
        lines.push(format!("chain        {}", r.chain.join(" → ")));
    }
    lines.push(String::new());
    lines.push(r.handoff.clone());
    lines.join("\n")
}

fn handoff(store: &MemoryStore, args: &Args) -> asm_core::Result<i32> {
    let record = load_arg(store, args)?;
    if args.json {
        cli::print_json(&serde_json::json!({ "session_id": record.session_id, "handoff": record.handoff }))?;
    } else {
        cli::print_text(record.handoff.trim_end());
    }
    Ok(cli::EXIT_OK)
}

fn latest(store: &MemoryStore, args: &Args) -> asm_core::Result<i32> {
    let (found, what) = match (&args.key, &args.cwd) {
        (Some(key), None) => (store.latest_for_key(key)?, format!("key {key:?}")),
        (None, Some(cwd)) => (store.latest_for_cwd(cwd)?, format!("working directory {cwd:?}")),
        _ => return Err(Error::Usage("--action latest needs exactly one of --key KEY or --cwd DIR".into())),
    };
    let record = found.ok_or_else(|| Error::Failed(format!("no memory stored for {what}")))?;
    if args.json {
        cli::print_json(&record)?;
    } else {
        cli::print_text(record.handoff.trim_end());
    }
    Ok(cli::EXIT_OK)
}

fn prune(store: &MemoryStore, args: &Args) -> asm_core::Result<i32> {
    let days = args.older_than.ok_or_else(|| Error::Usage("--action prune needs --older-than DAYS".into()))?;
    let report = store.prune(days, Utc::now())?;
    if args.json {
        cli::print_json(&report)?;
    } else {
        cli::print_text(&format!("Removed {} memories older than {days} days ({} kept){}", report.removed.len(), report.kept, list_suffix(&report.removed)));
    }
    Ok(cli::EXIT_OK)
}

fn list_suffix(ids: &[String]) -> String {
    if ids.is_empty() {
        String::new()
    } else {
        format!(": {}", ids.join(", "))
    }
}

/// The line of a memory, oldest first: where each handoff came from and where it went.
fn chain(store: &MemoryStore, args: &Args) -> asm_core::Result<i32> {
    let last = match (&args.session_id, &args.key, &args.cwd) {
        (Some(_), None, None) => load_arg(store, args)?,
        (None, Some(key), None) => store.latest_for_key(key)?.ok_or_else(|| Error::Failed(format!("no memory stored for key {key:?}")))?,
        (None, None, Some(cwd)) => store.latest_for_cwd(cwd)?.ok_or_else(|| Error::Failed(format!("no memory stored for working directory {cwd:?}")))?,
        _ => return Err(Error::Usage("--action chain needs exactly one of --session-id ID, --key KEY or --cwd DIR".into())),
    };
    let line = store.lineage(last);
    if args.json {
        let doc: Vec<serde_json::Value> = line
            .iter()
            .map(|entry| match entry {
                Ok(r) => serde_json::json!({
                    "memory_id": r.memory_id(), "session_id": r.session_id, "platform": r.platform, "key": r.key, "cwd": r.cwd,
                    "percent": r.context.percent, "extracted_at": r.extracted_at, "origin": r.origin,
                    "handed_to": r.injected_into, "handed_via": r.handed_via, "handed_at": r.injected_at,
                }),
                Err((id, e)) => serde_json::json!({ "memory_id": id, "error": e.to_string() }),
            })
            .collect();
        cli::print_json(&serde_json::json!({ "chain": doc }))?;
    } else {
        let rows: Vec<Vec<String>> = line
            .iter()
            .map(|entry| match entry {
                Ok(r) => vec![
                    r.memory_id(),
                    r.platform.id().to_string(),
                    r.context.percent.map_or("-".into(), |p| format!("{p:.0}%")),
                    asm_core::timefmt::local_with_age(r.extracted_at, Utc::now()),
                    match (&r.injected_into, &r.handed_via) {
                        (Some(to), via) => format!("{to}{}", via.as_deref().map(|v| format!(" ({v})")).unwrap_or_default()),
                        (None, _) if r.handoff_pending() => "waiting for the next session".into(),
                        (None, _) => "-".into(),
                    },
                ],
                Err((id, e)) => vec![id.clone(), "?".into(), "-".into(), "-".into(), format!("unreadable: {e}")],
            })
            .collect();
        cli::print_text(&asm_core::table::lines(&["MEMORY", "PLATFORM", "AT SWITCH", "EXTRACTED", "HANDOFF WENT TO"], &rows).join("\n"));
    }
    Ok(cli::EXIT_OK)
}

/// Answers a platform's hook: reads its JSON on stdin, prints what the session should get.
/// A hook never fails the platform's own work: problems are logged and the answer is empty.
fn hook(rt: &Runtime, args: &Args) -> asm_core::Result<i32> {
    let platform = match (args.action, args.platform) {
        (Action::Inject, None) => Platform::ClaudeCode,
        (_, Some(p)) => p,
        (_, None) => return Err(Error::Usage("--action hook needs --platform claude-code or --platform opencode".into())),
    };
    let Some(hooks) = asm_core::platform::adapter(platform).hooks() else {
        return Err(Error::Usage(format!("{} takes no hooks from ASM (ASM switches its sessions itself)", platform.display_name())));
    };
    let mut stdin = String::new();
    std::io::stdin().take(4 * 1024 * 1024).read_to_string(&mut stdin).map_err(|e| Error::Failed(format!("cannot read the hook input on stdin: {e}")))?;
    // Exit 1, never 2: Claude Code takes a PreCompact hook's exit 2 as "block the compaction".
    let event = hooks.parse_event(&stdin).map_err(|e| Error::Failed(e.to_string()))?;
    match asm_core::memory::handle_hook(rt, platform, &event, Utc::now()) {
        Ok(Some(context)) => cli::print_text(&hooks.render_context(&event, &context)),
        Ok(None) => {}
        Err(e) => log::warn!("{} hook {}: {e}", platform.display_name(), event.name()),
    }
    Ok(cli::EXIT_OK)
}
