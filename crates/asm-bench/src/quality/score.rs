//! The scorer: exact matches of the generator's truth against the handoff text and the memory
//! file's sections, read as the documented JSON they are. It shares no code with the extractor.

use super::script::Truth;
use serde::Serialize;
use serde_json::Value;

/// One probe category summed over sessions.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tally {
    /// Truth items.
    pub items: usize,
    /// Of those, found in the handoff text.
    pub in_handoff: usize,
    /// Of those, found in the memory file.
    pub in_memory: usize,
    /// Entries the memory file lists for the category (None: not a list, no precision).
    pub listed: Option<usize>,
    /// Of those, matching a truth item.
    pub correct: usize,
}

impl Tally {
    pub fn recall_handoff(&self) -> Option<f64> {
        (self.items > 0).then(|| self.in_handoff as f64 / self.items as f64)
    }
    pub fn recall_memory(&self) -> Option<f64> {
        (self.items > 0).then(|| self.in_memory as f64 / self.items as f64)
    }
    pub fn precision(&self) -> Option<f64> {
        self.listed.filter(|n| *n > 0).map(|n| self.correct as f64 / n as f64)
    }
    fn add(&mut self, other: &Tally) {
        self.items += other.items;
        self.in_handoff += other.in_handoff;
        self.in_memory += other.in_memory;
        self.listed = match (self.listed, other.listed) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
        };
        self.correct += other.correct;
    }
}

pub const CATEGORIES: [&str; 10] =
    ["goal", "latest request", "files changed", "files read", "commands run", "failed commands", "decisions", "open items", "identifiers", "platform ids kept"];

/// Every category of one session.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Score {
    pub tallies: Vec<(String, Tally)>,
    pub secrets_leaked: usize,
}

impl Score {
    pub fn add(&mut self, other: &Score) {
        if self.tallies.is_empty() {
            self.tallies = CATEGORIES.iter().map(|c| (c.to_string(), Tally::default())).collect();
        }
        for ((_, mine), (_, theirs)) in self.tallies.iter_mut().zip(&other.tallies) {
            mine.add(theirs);
        }
        self.secrets_leaked += other.secrets_leaked;
    }
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect()).unwrap_or_default()
}

fn no_stop(s: &str) -> &str {
    s.trim().trim_end_matches('.')
}

/// Identifiers are listed bare or as `port N` / `branch B`.
fn bare(id: &str) -> &str {
    id.strip_prefix("port ").or_else(|| id.strip_prefix("branch ")).unwrap_or(id)
}

pub fn score(truth: &Truth, handoff: &str, memory: &Value) -> Score {
    let s = memory;
    let text = |k: &str| s[k].as_str().unwrap_or_default().to_string();
    let mut tallies = Vec::new();
    let single = |want: &str, got: String| Tally {
        items: 1,
        in_handoff: usize::from(handoff.contains(want)),
        in_memory: usize::from(got == want),
        listed: None,
        correct: 0,
    };
    tallies.push(single(&truth.goal, text("goal")));
    tallies.push(single(&truth.latest_request, text("latest_request")));
    tallies.push(list(&truth.files_changed, &strs(&s["files_changed"]), handoff, |t, m| t == m));
    tallies.push(list(&truth.files_read, &strs(&s["files_read"]), handoff, |t, m| t == m));
    let commands: Vec<(String, String)> = s["commands"]
        .as_array()
        .map(|a| a.iter().map(|c| (c["command"].as_str().unwrap_or_default().to_string(), c["outcome"].as_str().unwrap_or_default().to_string())).collect())
        .unwrap_or_default();
    let names: Vec<String> = commands.iter().map(|(c, _)| c.clone()).collect();
    tallies.push(list(&truth.commands, &names, handoff, |t, m| t == m));
    tallies.push(failed(truth, &commands, s, handoff));
    let decisions = strs(&s["decisions"]);
    let mut d = list(&truth.decisions, &decisions, handoff, |t, m| no_stop(t) == no_stop(m));
    d.in_handoff = truth.decisions.iter().filter(|t| handoff.contains(no_stop(t))).count();
    tallies.push(d);
    tallies.push(list(&truth.open_items, &strs(&s["open_items"]), handoff, |t, m| m.contains(no_stop(t))));
    let ids = strs(&s["identifiers"]);
    tallies.push(list(&truth.identifiers, &ids, handoff, |t, m| bare(m) == t));
    // Platform ids: "items" are the ids, "in memory" the identifiers that are or hold one.
    let leaked = ids.iter().filter(|m| truth.platform_ids.iter().any(|p| m.contains(p.as_str()))).count();
    tallies.push(Tally { items: truth.platform_ids.len(), in_handoff: 0, in_memory: leaked, listed: None, correct: 0 });
    let everything = format!("{handoff}\n{memory}");
    let secrets_leaked = truth.secrets.iter().filter(|secret| everything.contains(secret.as_str())).count();
    Score { tallies: CATEGORIES.iter().map(|c| c.to_string()).zip(tallies).collect(), secrets_leaked }
}

/// Recall of `truth` in the handoff and in `listed`, and precision of `listed`. With
/// ASM_QUALITY_DEBUG set, the misses and the wrong entries are printed.
fn list(truth: &[String], listed: &[String], handoff: &str, same: impl Fn(&str, &str) -> bool) -> Tally {
    if std::env::var_os("ASM_QUALITY_DEBUG").is_some() {
        truth.iter().filter(|t| !listed.iter().any(|m| same(t, m))).for_each(|t| println!("  missed: {t}"));
        listed.iter().filter(|m| !truth.iter().any(|t| same(t, m))).for_each(|m| println!("  wrong:  {m}"));
    }
    Tally {
        items: truth.len(),
        in_handoff: truth.iter().filter(|t| handoff.contains(t.as_str())).count(),
        in_memory: truth.iter().filter(|t| listed.iter().any(|m| same(t, m))).count(),
        listed: Some(listed.len()),
        correct: listed.iter().filter(|m| truth.iter().any(|t| same(t, m))).count(),
    }
}

/// A failed command is recalled when the command and its error are both there; precision
/// over the commands the memory marks as failed.
fn failed(truth: &Truth, commands: &[(String, String)], s: &Value, handoff: &str) -> Tally {
    let errors: Vec<String> = s["errors"].as_array().map(|a| a.iter().filter_map(|e| e["message"].as_str()).map(str::to_string).collect()).unwrap_or_default();
    let marked: Vec<&String> = commands.iter().filter(|(_, o)| o == "failed").map(|(c, _)| c).collect();
    Tally {
        items: truth.failed_commands.len(),
        in_handoff: truth.failed_commands.iter().filter(|(c, e)| handoff.contains(c.as_str()) && handoff.contains(e.as_str())).count(),
        in_memory: truth.failed_commands.iter().filter(|(c, e)| marked.contains(&c) && errors.iter().any(|m| m.contains(e.as_str()))).count(),
        listed: Some(marked.len()),
        correct: marked.iter().filter(|c| truth.failed_commands.iter().any(|(t, _)| t == **c)).count(),
    }
}
