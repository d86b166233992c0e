//! A snapshot of the environment. Everything that reads a variable reads it from an [`Env`],
//! so tests build one from a map instead of mutating the process environment.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
    home: Option<PathBuf>,
    /// The variables a settings file set (they beat the process environment).
    from_file: BTreeSet<String>,
}

/// Where a variable's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Environment,
    SettingsFile,
    Unset,
}

impl Env {
    /// The current process environment; non-UTF-8 values are skipped rather than mangled.
    pub fn from_process() -> Self {
        let vars = std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))).collect();
        Env { vars, home: dirs::home_dir(), from_file: BTreeSet::new() }
    }

    /// An environment made of exactly these pairs; `HOME` among them sets the home dir.
    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let vars: BTreeMap<String, String> = pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        let home = vars.get("HOME").map(PathBuf::from);
        Env { vars, home, from_file: BTreeSet::new() }
    }

    /// The value of `name`, treating an empty value as unset (as shells usually mean it).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// The first of `names` that is set, with the name it was found under.
    pub fn first(&self, names: &[&'static str]) -> Option<(&'static str, &str)> {
        names.iter().find_map(|n| self.get(n).map(|v| (*n, v)))
    }

    pub fn set(&mut self, name: &str, value: &str) {
        self.vars.insert(name.to_string(), value.to_string());
        if name == "HOME" {
            self.home = Some(PathBuf::from(value));
        }
    }

    /// A settings file's pairs over this environment: each beats the variable of the same name.
    pub fn overlay_file(&mut self, pairs: Vec<(String, String)>) {
        for (name, value) in pairs {
            self.set(&name, &value);
            self.from_file.insert(name);
        }
    }

    /// Where `name`'s value came from.
    pub fn origin(&self, name: &str) -> Origin {
        match self.get(name) {
            None => Origin::Unset,
            Some(_) if self.from_file.contains(name) => Origin::SettingsFile,
            Some(_) => Origin::Environment,
        }
    }

    pub fn remove(&mut self, name: &str) {
        self.vars.remove(name);
    }

    pub fn home(&self) -> Option<&PathBuf> {
        self.home.as_ref()
    }

    /// Expands a leading `~` against this environment's home.
    pub fn expand_tilde(&self, raw: &str) -> PathBuf {
        match (raw.strip_prefix('~'), self.home()) {
            (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => home.join(rest.trim_start_matches('/')),
            _ => PathBuf::from(raw),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}
