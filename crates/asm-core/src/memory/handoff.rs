//! The handoff: the Markdown a new session is given so it can carry on. It always fits in
//! ASM_HANDOFF_MAX_BYTES: the platform's own summary leads (clipped to a share of the
//! budget), then the goal and the latest request, then the list sections newest first in
//! turns, in two tiers: what decides the next step (open items, decisions, errors still
//! open, files changed) takes the budget first, the trail (commands, files read,
//! identifiers, resolved errors, earlier requests, subagent results) gets what is left.

use super::MemoryRecord;
use std::fmt::Write;

/// Share of the budget the leading summary may take, and each of goal / latest request.
const SUMMARY_SHARE: f64 = 0.40;
const REQUEST_SHARE: f64 = 0.12;

struct ListSection {
    title: &'static str,
    /// Newest first.
    items: Vec<String>,
    taken: usize,
}

pub fn render(record: &MemoryRecord, max_bytes: usize) -> String {
    let s = &record.sections;
    let mut out = header(record, max_bytes / 4);
    if let Some(summary) = &s.platform_summary {
        let title = if record.summary.source == "platform" { "Summary (asked of the platform)" } else { "Summary" };
        push_block(&mut out, &format!("{title} — {}", summary.source), &summary.text, share(max_bytes, SUMMARY_SHARE));
    }
    if let Some(goal) = &s.goal {
        push_block(&mut out, "Goal (first request)", goal, share(max_bytes, REQUEST_SHARE));
    }
    if let Some(latest) = s.latest_request.as_ref().filter(|l| Some(*l) != s.goal.as_ref()) {
        push_block(&mut out, "Latest request", latest, share(max_bytes, REQUEST_SHARE));
    }
    out.push_str(FIDELITY);
    let mut lists = list_sections(record);
    let (decisive, trail) = lists.split_at_mut(DECISIVE);
    let left = fill_in_turns(decisive, max_bytes.saturating_sub(out.len()));
    fill_in_turns(trail, left);
    for list in lists.iter().filter(|l| l.taken > 0) {
        let _ = write!(out, "\n## {}\n", list.title);
        for item in list.items[..list.taken].iter().rev() {
            let _ = writeln!(out, "- {item}");
        }
    }
    clip_bytes(&out, max_bytes)
}

/// The key information a session had just before its platform compacted it, for the
/// compacted session: files, decisions, open items, errors and identifiers, newest first in
/// turns, under `max_bytes`.
pub fn key_information(record: &MemoryRecord, max_bytes: usize) -> String {
    const KEPT: [&str; 7] = ["Open items", "Decisions", "Errors still open", "Files changed", "Errors resolved", "Files read", "Identifiers to keep exactly"];
    let mut lists: Vec<ListSection> = list_sections(record).into_iter().filter(|l| KEPT.contains(&l.title)).collect();
    let mut out = format!(
        "auto-session-manager: what this session knew just before it was compacted {}, kept exactly:\n",
        crate::transcript::handoff_marker(&record.memory_id())
    );
    fill_in_turns(&mut lists, max_bytes.saturating_sub(out.len()));
    if lists.iter().all(|l| l.taken == 0) {
        return String::new();
    }
    for list in lists.iter().filter(|l| l.taken > 0) {
        let _ = write!(out, "\n## {}\n", list.title);
        for item in list.items[..list.taken].iter().rev() {
            let _ = writeln!(out, "- {item}");
        }
    }
    clip_bytes(&out, max_bytes)
}

fn header(record: &MemoryRecord, max: usize) -> String {
    let marker = crate::transcript::handoff_marker(&record.memory_id());
    let mut h = format!("# Handoff from {} session {} {marker}\n\n", record.platform.display_name(), record.session_id);
    let mut facts = Vec::new();
    if let Some(key) = &record.key {
        facts.push(format!("key `{key}`"));
    }
    if let Some(cwd) = &record.cwd {
        facts.push(format!("cwd `{cwd}`"));
    }
    if let Some(model) = &record.model {
        facts.push(format!("model {model}"));
    }
    if let (Some(p), Some(t), Some(w)) = (record.context.percent, record.context.tokens, record.context.window) {
        facts.push(format!("context {p}% ({t}/{w} tokens)"));
    }
    facts.push(format!("extracted {}", record.extracted_at.format("%Y-%m-%d %H:%M UTC")));
    if let Some(prev) = record.previous_memory_id.as_ref().or(record.previous_session_id.as_ref()) {
        facts.push(format!("continues {prev} ({} earlier in this line)", record.chain.len()));
    }
    let _ = writeln!(h, "{}", facts.join(" · "));
    clip_bytes(&h, max)
}

/// What the new session may take literally (the memory file's `fidelity` says the same).
const FIDELITY: &str = "\n_Verbatim from the transcript (secrets masked, long entries cut with …): requests, decisions, files, commands, errors, identifiers. Condensed: the summary, open items, subagent results._\n";

/// How many of [`list_sections`] come first, in the decisive tier.
const DECISIVE: usize = 4;

fn list_sections(record: &MemoryRecord) -> Vec<ListSection> {
    let s = &record.sections;
    let newest_first = |v: Vec<String>| -> Vec<String> { v.into_iter().rev().collect() };
    let earlier: Vec<String> =
        s.user_requests.iter().filter(|r| Some(*r) != s.goal.as_ref() && Some(*r) != s.latest_request.as_ref()).map(|r| one_line(r, 300)).collect();
    let sections = [
        ("Open items", s.open_items.clone()),
        ("Decisions", s.decisions.clone()),
        ("Errors still open", s.errors.iter().filter(|e| !e.resolved).map(error_line).collect()),
        ("Files changed", s.files_changed.iter().map(|f| format!("`{f}`")).collect()),
        ("Commands run", s.commands.iter().map(|c| format!("`{}` → {}", c.command, c.outcome)).collect()),
        ("Errors resolved", s.errors.iter().filter(|e| e.resolved).map(error_line).collect()),
        ("Files read", s.files_read.iter().map(|f| format!("`{f}`")).collect()),
        ("Identifiers to keep exactly", s.identifiers.iter().map(|i| format!("`{i}`")).collect()),
        ("Earlier requests", earlier),
        ("Subagent results", s.subagent_results.clone()),
    ];
    sections
        .into_iter()
        .map(|(title, items)| ListSection { title, items: newest_first(items.into_iter().map(|i| one_line(&i, 400)).collect()), taken: 0 })
        .collect()
}

fn error_line(e: &super::extract::ErrorSeen) -> String {
    format!("{}{}", e.message, e.source.as_deref().map(|src| format!(" ({src})")).unwrap_or_default())
}

/// Takes one item per section per turn, newest first, while it fits; returns what is left.
fn fill_in_turns(lists: &mut [ListSection], mut budget: usize) -> usize {
    loop {
        let mut progressed = false;
        for list in lists.iter_mut() {
            let Some(item) = list.items.get(list.taken) else { continue };
            let cost = item.len() + 3 + if list.taken == 0 { list.title.len() + 5 } else { 0 };
            if cost <= budget {
                budget -= cost;
                list.taken += 1;
                progressed = true;
            }
        }
        if !progressed {
            return budget;
        }
    }
}

fn push_block(out: &mut String, title: &str, text: &str, max: usize) {
    let _ = write!(out, "\n## {title}\n{}\n", clip_bytes(text.trim(), max));
}

fn share(max_bytes: usize, fraction: f64) -> usize {
    (max_bytes as f64 * fraction) as usize
}

fn one_line(text: &str, max: usize) -> String {
    clip_bytes(&text.split_whitespace().collect::<Vec<_>>().join(" "), max)
}

/// At most `max` bytes, cut on a character boundary, ending in "…" when cut.
pub fn clip_bytes(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut cut = max.saturating_sub('…'.len_utf8());
    while cut > 0 && !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &text[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::extract::{CommandRun, PlatformSummary};
    use crate::memory::{ContextSnapshot, ReadStats, Sections, SummaryInfo, SCHEMA_VERSION};
    use crate::session::Platform;

    pub(crate) fn record_with(sections: Sections) -> MemoryRecord {
        let now = chrono::Utc::now();
        MemoryRecord {
            schema_version: SCHEMA_VERSION,
            session_id: "s1".into(),
            platform: Platform::ClaudeCode,
            key: None,
            cwd: Some("/w".into()),
            model: None,
            context: ContextSnapshot::default(),
            extracted_at: now,
            first_extracted_at: now,
            origin: crate::memory::Origin::Manual,
            generation: 1,
            previous_session_id: None,
            previous_memory_id: None,
            chain: vec![],
            summary: SummaryInfo { mode: "extract".into(), source: "extract".into(), fallback_reason: None },
            sections,
            fidelity: crate::memory::Fidelity::current(),
            handoff: String::new(),
            read_stats: ReadStats::default(),
            injected_into: None,
            injected_at: None,
            handed_via: None,
            compact_context_at: None,
            context_engine: None,
        }
    }

    #[test]
    fn stays_under_the_budget_and_spends_it_on_the_decisive_sections_newest_first() {
        let many = |prefix: &str| (0..200).map(|i| format!("{prefix} {i} {}", "x".repeat(40))).collect::<Vec<_>>();
        let sections = Sections {
            platform_summary: Some(PlatformSummary { text: "S".repeat(20_000), source: "Claude Code compaction".into(), at: None }),
            goal: Some("the goal".into()),
            latest_request: Some("the latest ✓".into()),
            decisions: many("decision"),
            open_items: many("todo"),
            files_changed: many("/f"),
            commands: (0..200).map(|i| CommandRun { command: format!("cmd {i}"), outcome: "ok".into() }).collect(),
            ..Sections::default()
        };
        for max in [500, 2000, 6000, 20_000] {
            let text = render(&record_with(sections.clone()), max);
            assert!(text.len() <= max, "{} > {max}", text.len());
            assert!(text.contains("## Summary"));
        }
        let text = render(&record_with(sections.clone()), 6000);
        assert!(text.contains("the goal") && text.contains("the latest ✓"));
        assert!(text.contains("decision 199") && text.contains("todo 199") && text.contains("`/f 199"));
        assert!(!text.contains("decision 0 "));
        assert!(text.find("## Summary").unwrap() < text.find("## Goal").unwrap());
        // The trail (commands here) gets what the decisive sections leave.
        assert!(!text.contains("## Commands run"), "the decisive sections filled the budget");
        let few = Sections { decisions: many("decision")[195..].to_vec(), open_items: many("todo")[195..].to_vec(), files_changed: Vec::new(), ..sections };
        let text = render(&record_with(few), 6000);
        assert!(text.contains("decision 195") && text.contains("`cmd 199` → ok"), "{text}");
    }

    #[test]
    fn clip_bytes_respects_char_boundaries() {
        assert_eq!(clip_bytes("ééééé", 7), "éé…");
        assert_eq!(clip_bytes("abc", 3), "abc");
    }
}
