//! Tables people read: [`lines`] lines columns up by display width (CJK and emoji are two
//! columns wide; `comfy-table` measures them), and the session list is one such table,
//! fullest first, coloured only on a terminal and never when NO_COLOR is set.

use crate::env::Env;
use crate::session::{SessionInfo, SessionList};
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

const HEADERS: [&str; 8] = ["PLATFORM", "SESSION", "TITLE / CWD", "MODEL", "TOKENS/WINDOW", "USED", "STATE", "LAST ACTIVITY"];

pub fn render(list: &SessionList, colour: bool) -> String {
    if list.sessions.is_empty() {
        let mut out = String::from("No sessions found.");
        append_errors(&mut out, list);
        return out;
    }
    let rows: Vec<Vec<String>> = list.sessions.iter().map(row).collect();
    let mut lines = lines(&HEADERS, &rows).into_iter();
    let mut out = lines.next().unwrap_or_default();
    for (line, s) in lines.zip(&list.sessions) {
        out.push('\n');
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

fn row(s: &SessionInfo) -> Vec<String> {
    let tokens = match (s.context_tokens, s.context_window) {
        (Some(t), Some(w)) => format!("{}/{}", human(t), human(w)),
        (Some(t), None) => format!("{}/?", human(t)),
        (None, Some(w)) => format!("?/{}", human(w)),
        (None, None) => "?".into(),
    };
    let used = s.context_percent.map(|p| format!("{p:.1}%{}", if s.estimated { "~" } else { "" })).unwrap_or_else(|| "?".into());
    vec![
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

    #[test]
    fn wide_characters_keep_the_columns_aligned() {
        let wide = SessionInfo { title: Some("修复解析器 🚀".into()), ..session("aaaaaaaa1111", Some(50.0)) };
        let narrow = SessionInfo { title: Some("fix it".into()), ..session("bbbbbbbb2222", Some(40.0)) };
        let text = render(&SessionList { sessions: vec![wide, narrow], errors: vec![] }, false);
        let model_at: Vec<usize> = text.lines().skip(1).map(|l| unicode_width::UnicodeWidthStr::width(&l[..l.find("claude-sonnet").unwrap()])).collect();
        assert_eq!(model_at[0], model_at[1], "the MODEL column starts at the same display column:\n{text}");
    }
}
