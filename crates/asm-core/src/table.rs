//! Tables people read: [`lines`] lines columns up by display width (CJK and emoji are two
//! columns wide; `comfy-table` measures them), and the session list is one such table,
//! fullest first, in local time with relative ages, coloured at the configured threshold
//! only on a terminal and never when NO_COLOR is set.

use crate::env::Env;
use crate::platform::Place;
use crate::session::{Platform, SessionInfo, SessionList};
use chrono::{DateTime, Utc};
use comfy_table::{presets, Table};
use std::io::IsTerminal;

/// Columns separated by two spaces, no borders, each line without trailing blanks.
pub fn lines(header: &[&str], rows: &[Vec<String>]) -> Vec<String> {
    let mut table = Table::new();
    table.load_style(presets::NOTHING).set_header(header.to_vec());
    for row in rows {
        table.add_row(row.clone());
    }
    let last = header.len().saturating_sub(1);
    for (i, column) in table.column_iter_mut().enumerate() {
        column.set_padding((0, if i == last { 0 } else { 2 }));
    }
    table.lines().map(|l| l.trim_end().to_string()).collect()
}

/// Colour when stdout is a terminal and NO_COLOR is unset (https://no-color.org).
pub fn use_colour(env: &Env) -> bool {
    env.get("NO_COLOR").is_none() && std::io::stdout().is_terminal()
}

/// How the session table is drawn.
#[derive(Debug, Clone)]
pub struct TableOptions {
    pub colour: bool,
    /// Rows at or over it are red, rows within a quarter of it yellow.
    pub threshold: u8,
    /// Titles and models untruncated.
    pub wide: bool,
    pub now: DateTime<Utc>,
    /// Where each platform's sessions were looked for, named when none were found.
    pub places: Vec<(Platform, Vec<Place>)>,
}

impl TableOptions {
    /// The options for this terminal and configuration, now.
    pub fn for_runtime(rt: &crate::Runtime, wide: bool, only: Option<Platform>) -> TableOptions {
        TableOptions {
            colour: use_colour(&rt.env),
            threshold: rt.config.context_threshold,
            wide,
            now: Utc::now(),
            places: Platform::ALL.into_iter().filter(|p| only.is_none_or(|o| o == *p)).map(|p| (p, crate::platform::adapter(p).places(rt))).collect(),
        }
    }
}

const TITLE_WIDTH: usize = 40;
const MODEL_WIDTH: usize = 28;

pub fn render(list: &SessionList, opts: &TableOptions) -> String {
    if list.sessions.is_empty() {
        let mut out = nothing_found(&opts.places);
        append_errors(&mut out, list);
        return out;
    }
    let activity = format!("LAST ACTIVITY ({})", crate::timefmt::zone());
    let headers = ["PLATFORM", "SESSION", "TITLE / CWD", "MODEL", "TOKENS/WINDOW", "USED", "COMPACTS AT", "STATE", activity.as_str()];
    let rows: Vec<Vec<String>> = list.sessions.iter().map(|s| row(s, opts)).collect();
    let mut lines = lines(&headers, &rows).into_iter();
    let mut out = lines.next().unwrap_or_default();
    for (line, s) in lines.zip(&list.sessions) {
        out.push('\n');
        out.push_str(&if opts.colour { paint(&line, s.context_percent, opts.threshold) } else { line });
    }
    append_errors(&mut out, list);
    out
}

/// "No sessions found." and every place that was looked in.
fn nothing_found(places: &[(Platform, Vec<Place>)]) -> String {
    let mut out = String::from("No sessions found. Looked in:");
    for (platform, list) in places {
        for place in list {
            let note = match (place.exists, place.configured_by) {
                (true, _) => String::new(),
                (false, Some(var)) => format!(" (from {var}: does not exist)"),
                (false, None) => " (not there)".into(),
            };
            out.push_str(&format!("\n  {:<12} {}{note}", platform.display_name(), place.path.display()));
        }
    }
    out
}

pub fn render_one(s: &SessionInfo, opts: &TableOptions) -> String {
    let now = opts.now;
    let mut lines = vec![format!("platform       {}", s.platform), format!("session        {}", s.session_id)];
    let mut field = |name: &str, value: Option<String>| {
        if let Some(v) = value {
            lines.push(format!("{name:<15}{v}"));
        }
    };
    field("key", s.key.clone());
    field("title", s.title.clone());
    field("cwd", s.cwd.clone());
    field("model", s.model.clone());
    field("tokens", s.context_tokens.map(|t| t.to_string()));
    field("window", s.context_window.map(|t| t.to_string()));
    let note = if s.doubtful {
        " (doubtful: more tokens than the window can hold; not acted on)"
    } else if s.estimated {
        " (estimated)"
    } else {
        ""
    };
    field("used", s.context_percent.map(|p| format!("{p:.1}%{note}")));
    field("compacts at", s.compact_at_tokens.map(|t| t.to_string()));
    field("state", s.live.map(|l| if l { "live" } else { "idle" }.to_string()));
    field("last activity", s.updated_at.map(|t| crate::timefmt::local_with_age(t, now)));
    field("children", (!s.children.is_empty()).then(|| s.children.join(", ")));
    field("source", Some(s.source.clone()));
    lines.join("\n")
}

fn row(s: &SessionInfo, opts: &TableOptions) -> Vec<String> {
    let tokens = match (s.context_tokens, s.context_window) {
        (Some(t), Some(w)) => format!("{}/{}", human(t), human(w)),
        (Some(t), None) => format!("{}/?", human(t)),
        (None, Some(w)) => format!("?/{}", human(w)),
        (None, None) => "?".into(),
    };
    let used = match s.context_percent {
        _ if s.doubtful => "doubtful".into(),
        Some(p) => format!("{p:.1}%{}", if s.estimated { "~" } else { "" }),
        None => "?".into(),
    };
    let fit = |text: &str, width: usize| if opts.wide { text.replace(['\n', '\r', '\t'], " ") } else { truncate(text, width) };
    vec![
        s.platform.to_string(),
        s.short_label(),
        fit(s.title.as_deref().or(s.cwd.as_deref()).unwrap_or("-"), TITLE_WIDTH),
        fit(s.model.as_deref().unwrap_or("-"), MODEL_WIDTH),
        tokens,
        used,
        s.compact_at_tokens.map(human).unwrap_or_else(|| "-".into()),
        match s.live {
            Some(true) => "live",
            Some(false) => "idle",
            None => "-",
        }
        .into(),
        s.updated_at.map(|t| format!("{} ({})", crate::timefmt::local_short(t), crate::timefmt::relative(t, opts.now))).unwrap_or_else(|| "-".into()),
    ]
}

fn paint(line: &str, percent: Option<f64>, threshold: u8) -> String {
    let threshold = f64::from(threshold);
    let code = match percent {
        Some(p) if p >= threshold => "31",
        Some(p) if p >= threshold * 0.75 => "33",
        Some(_) => "32",
        None => return line.to_string(),
    };
    format!("\x1b[{code}m{line}\x1b[0m")
}

fn human(n: u64) -> String {
    match n {
        n if n >= 1_000_000 => format!("{:.1}M", n as f64 / 1e6),
        n if n >= 1_000 => format!("{:.1}k", n as f64 / 1e3),
        n => n.to_string(),
    }
}

fn truncate(s: &str, max: usize) -> String {
    let s = s.replace(['\n', '\r', '\t'], " ");
    if s.chars().count() <= max {
        s
    } else {
        format!("{}…", s.chars().take(max - 1).collect::<String>())
    }
}

fn append_errors(out: &mut String, list: &SessionList) {
    if list.idle_not_listed > 0 {
        out.push_str(&format!("\n{} more session(s) not changed within --changed-within: not listed", list.idle_not_listed));
    }
    for e in &list.errors {
        out.push_str(&format!("\nnot read: {} {}: {}", e.platform, e.source, e.message));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Platform;

    fn session(id: &str, pct: Option<f64>) -> SessionInfo {
        SessionInfo {
            title: Some("fix the parser".into()),
            model: Some("claude-sonnet-4-5".into()),
            context_tokens: Some(150_000),
            context_window: Some(200_000),
            context_percent: pct,
            compact_at_tokens: Some(167_000),
            live: Some(true),
            source: "/x.jsonl".into(),
            ..SessionInfo::bare(Platform::ClaudeCode, id)
        }
    }

    fn opts() -> TableOptions {
        TableOptions { colour: false, threshold: 80, wide: false, now: Utc::now(), places: Vec::new() }
    }

    #[test]
    fn table_has_headers_rows_and_no_colour_when_off() {
        let mut list = SessionList { sessions: vec![session("abcdef123456", Some(75.0))], errors: vec![], idle_not_listed: 0 };
        list.assign_short_ids();
        let text = render(&list, &opts());
        assert!(text.starts_with("PLATFORM"));
        assert!(text.contains("abcdef12 "));
        assert!(text.contains("150.0k/200.0k"));
        assert!(text.contains("75.0%"));
        assert!(text.contains("COMPACTS AT") && text.contains("167.0k"), "{text}");
        assert!(!text.contains('\x1b'));
        assert!(render(&list, &TableOptions { colour: true, ..opts() }).contains("\x1b[33m"));
        assert!(render(&list, &TableOptions { colour: true, threshold: 70, ..opts() }).contains("\x1b[31m"), "red from the configured threshold");
    }

    #[test]
    fn activity_is_local_time_with_a_relative_age() {
        let now = Utc::now();
        let s = SessionInfo { updated_at: Some(now - chrono::Duration::minutes(190)), ..session("abcdef123456", Some(10.0)) };
        let text = render(&SessionList { sessions: vec![s], errors: vec![], idle_not_listed: 0 }, &TableOptions { now, ..opts() });
        assert!(text.contains("(3h10m ago)") && text.contains(&format!("LAST ACTIVITY ({})", crate::timefmt::zone())), "{text}");
    }

    #[test]
    fn wide_keeps_long_titles_whole() {
        let long = "a very long title that goes on and on well past forty characters of width";
        let s = SessionInfo { title: Some(long.into()), ..session("abcdef123456", Some(10.0)) };
        let list = SessionList { sessions: vec![s], errors: vec![], idle_not_listed: 0 };
        assert!(!render(&list, &opts()).contains(long));
        assert!(render(&list, &TableOptions { wide: true, ..opts() }).contains(long));
    }

    #[test]
    fn no_sessions_names_the_places_looked_in() {
        let places = vec![(
            Platform::ClaudeCode,
            vec![
                Place { path: "/nowhere/projects".into(), exists: false, configured_by: Some("CLAUDE_CONFIG_DIR") },
                Place { path: "/home/u/.claude/projects".into(), exists: false, configured_by: None },
            ],
        )];
        let text = render(&SessionList::default(), &TableOptions { places, ..opts() });
        assert!(text.starts_with("No sessions found. Looked in:"), "{text}");
        assert!(text.contains("/nowhere/projects (from CLAUDE_CONFIG_DIR: does not exist)") && text.contains("/home/u/.claude/projects (not there)"), "{text}");
    }

    #[test]
    fn wide_characters_keep_the_columns_aligned() {
        let wide = SessionInfo { title: Some("修复解析器 🚀".into()), ..session("aaaaaaaa1111", Some(50.0)) };
        let narrow = SessionInfo { title: Some("fix it".into()), ..session("bbbbbbbb2222", Some(40.0)) };
        let text = render(&SessionList { sessions: vec![wide, narrow], errors: vec![], idle_not_listed: 0 }, &opts());
        let model_at: Vec<usize> = text.lines().skip(1).map(|l| unicode_width::UnicodeWidthStr::width(&l[..l.find("claude-sonnet").unwrap()])).collect();
        assert_eq!(model_at[0], model_at[1], "the MODEL column starts at the same display column:\n{text}");
    }

    #[test]
    fn sessions_passed_over_by_changed_within_are_counted_below_the_table() {
        let text = render(&SessionList { sessions: vec![session("aaaaaaaa1111", Some(50.0))], errors: vec![], idle_not_listed: 3 }, &opts());
        assert!(text.ends_with("\n3 more session(s) not changed within --changed-within: not listed"), "{text}");
    }
}
