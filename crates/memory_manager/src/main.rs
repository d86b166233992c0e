//! asm_memory_manager: extracts a session's key information into the memory store and reads
//! it back (list, show, handoff, latest, prune), and serves the Claude Code SessionStart hook.

use asm_core::cli;
use asm_core::logging::LogTarget;
use asm_core::memory::inject::{self, InjectError};
use asm_core::memory::store::{validate_session_id, MemoryEntry};
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
    Prune,
    Inject,
}

#[derive(Parser, Debug)]
#[command(name = "memory_manager", version, about = "Extract session key information into ~/.openclaw/.session_memory and read it back")]
struct Args {
    #[arg(long, value_enum)]
    action: Action,
    /// Session id (an OpenClaw session key also works for --action extract).
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
    let target = if args.action == Action::Inject { LogTarget::File } else { LogTarget::attended() };
    cli::start_logging("memory_manager", target, &rt);
    let store = MemoryStore::new(&rt);
    match args.action {
        Action::Extract => extract(&rt, &args),
        Action::List => list(&store, &args),
        Action::Show => show(&store, &args),
        Action::Handoff => handoff(&store, &args),
        Action::Latest => latest(&store, &args),
        Action::Prune => prune(&store, &args),
        Action::Inject => inject(&store, &args),
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
    if let Err(e) = validate_session_id(id) {
        if !looks_like_openclaw_key {
            return Err(e.into());
        }
    }
    let where_ = args.platform.map_or("any platform".to_string(), |p| p.display_name().to_string());
    let session = asm_core::platform::find_session(rt, id, args.platform)
        .ok_or_else(|| Error::Failed(format!("no session with id or key {id:?} was found on {where_}")))?;
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
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            let platform = e.platform.map_or("?".to_string(), |p| p.id().to_string());
            let age = e.age_seconds.map_or("?".to_string(), human_age);
            let place = e.error.clone().or_else(|| e.key.clone()).or_else(|| e.cwd.clone()).unwrap_or_default();
            vec![e.session_id.clone(), platform, human_size(e.size_bytes), age, place]
        })
        .collect();
    asm_core::table::lines(&["SESSION", "PLATFORM", "SIZE", "AGE", "KEY / CWD"], &rows).join("\n")
}

fn human_age(secs: i64) -> String {
    match secs.max(0) {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

fn human_size(bytes: u64) -> String {
    if bytes < 10 * 1024 {
        format!("{bytes}B")
    } else {
        format!("{}K", bytes / 1024)
    }
}

fn show(store: &MemoryStore, args: &Args) -> asm_core::Result<i32> {
    let record = store.load(session_id_arg(args)?)?;
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
        format!("extracted    {} (first {})", r.extracted_at.to_rfc3339(), r.first_extracted_at.to_rfc3339()),
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
    let record = store.load(session_id_arg(args)?)?;
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

fn inject(store: &MemoryStore, args: &Args) -> asm_core::Result<i32> {
    match args.platform {
        Some(Platform::ClaudeCode) => {}
        other => {
            let got = other.map_or("none".to_string(), |p| p.id().to_string());
            return Err(Error::Usage(format!("--action inject serves the Claude Code SessionStart hook: give --platform claude-code (got {got})")));
        }
    }
    let mut stdin = String::new();
    std::io::stdin().take(4 * 1024 * 1024).read_to_string(&mut stdin).map_err(|e| Error::Failed(format!("cannot read the hook input on stdin: {e}")))?;
    match inject::session_start(store, &stdin, Utc::now()) {
        Ok(Some(line)) => cli::print_text(&line),
        Ok(None) => {}
        Err(InjectError::BadInput(message)) => return Err(Error::Usage(InjectError::BadInput(message).to_string())),
        Err(InjectError::Memory(e)) => return Err(e.into()),
    }
    Ok(cli::EXIT_OK)
}
