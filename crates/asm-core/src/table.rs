//! The human view of a session list: an aligned table, fullest first, coloured only on a
//! terminal and never when NO_COLOR is set.

use crate::env::Env;
use crate::session::{SessionInfo, SessionList};
use std::io::IsTerminal;

/// Colour when stdout is a terminal and NO_COLOR is unset (https://no-color.org).
pub fn use_colour(env: &Env) -> bool {
    env.get("NO_COLOR").is_none() && std::io::stdout().is_terminal()
}

const HEADERS: [&str; 8] = ["PLATFORM", "SESSION", "TITLE / CWD", "MODEL", "TOKENS/WINDOW", "USED", "STATE", "LAST ACTIVITY"];

pub fn render(list: &SessionList, colour: bool) -> String {
    if list.sessions.is_empty() {
        let mut out = String::from("No sessions found.");
        append_errors(&mut out, list);
        return out;
    }
    let rows: Vec<[String; 8]> = list.sessions.iter().map(row).collect();
    let mut widths = HEADERS.map(str::len);
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = format_row(&HEADERS.map(String::from), &widths);
    for (r, s) in rows.iter().zip(&list.sessions) {
        out.push('\n');
        let line = format_row(r, &widths);
        out.push_str(&if colour { paint(&line, s.context_percent) } else { line });
    }
    append_errors(&mut out, list);
    out
}

pub fn render_one(s: &SessionInfo) -> String {
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
    field("used", s.context_percent.map(|p| format!("{p:.1}%{}", if s.estimated { " (estimated)" } else { "" })));
    field("compacts at", s.compact_at_tokens.map(|t| t.to_string()));
    field("state", s.live.map(|l| if l { "live" } else { "idle" }.to_string()));
    field("last activity", s.updated_at.map(|t| t.to_rfc3339()));
    field("children", (!s.children.is_empty()).then(|| s.children.join(", ")));
    field("source", Some(s.source.clone()));
    lines.join("\n")
}

fn row(s: &SessionInfo) -> [String; 8] {
    let tokens = match (s.context_tokens, s.context_window) {
        (Some(t), Some(w)) => format!("{}/{}", human(t), human(w)),
        (Some(t), None) => format!("{}/?", human(t)),
        (None, Some(w)) => format!("?/{}", human(w)),
        (None, None) => "?".into(),
    };
    let used = s.context_percent.map(|p| format!("{p:.1}%{}", if s.estimated { "~" } else { "" })).unwrap_or_else(|| "?".into());
    [
        s.platform.to_string(),
        s.short_label(),
        truncate(s.title.as_deref().or(s.cwd.as_deref()).unwrap_or("-"), 40),
        truncate(s.model.as_deref().unwrap_or("-"), 28),
        tokens,
        used,
        match s.live {
            Some(true) => "live",
            Some(false) => "idle",
            None => "-",
        }
        .into(),
        s.updated_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|| "-".into()),
    ]
}

fn format_row(cells: &[String; 8], widths: &[usize; 8]) -> String {
    let padded: Vec<String> = cells.iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
    padded.join("  ").trim_end().to_string()
}

fn paint(line: &str, percent: Option<f64>) -> String {
    let code = match percent {
        Some(p) if p >= 80.0 => "31",
        Some(p) if p >= 60.0 => "33",
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

    #[test]
    fn table_has_headers_rows_and_no_colour_when_off() {
        let list = SessionList { sessions: vec![session("abcdef123456", Some(75.0))], errors: vec![] };
        let text = render(&list, false);
        assert!(text.starts_with("PLATFORM"));
        assert!(text.contains("abcdef12 "));
        assert!(text.contains("150.0k/200.0k"));
        assert!(text.contains("75.0%"));
        assert!(!text.contains('\x1b'));
        assert!(render(&list, true).contains("\x1b[33m"));
    }
}
