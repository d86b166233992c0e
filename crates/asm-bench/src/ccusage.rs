//! ccusage (the community's Claude Code usage tool) on the same corpus, for comparison:
//! installed from npm into the bench's cache dir, pinned at 20.0.24 (20.0.26, the latest,
//! lacks its linux-x64 native package on the registry reachable here and exits 1). Skipped,
//! with a message, when npm is missing or the install fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const VERSION: &str = "20.0.24";

pub struct Ccusage {
    bin: PathBuf,
    /// The arguments that list sessions as JSON without network access.
    args: Vec<&'static str>,
}

impl Ccusage {
    pub fn command(&self, home: &Path) -> Command {
        let mut c = Command::new(&self.bin);
        c.args(&self.args)
            .env_clear()
            .env("HOME", home)
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("CLAUDE_CONFIG_DIR", home.join(".claude"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    }
}

pub fn install(cache: &Path) -> Option<Ccusage> {
    let prefix = cache.join(format!("ccusage-{VERSION}"));
    let bin = prefix.join("node_modules/.bin/ccusage");
    if !bin.exists() {
        let npm = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix"])
            .arg(&prefix)
            .arg(format!("ccusage@{VERSION}"))
            .stdout(Stdio::null())
            .status();
        if !npm.is_ok_and(|s| s.success()) || !bin.exists() {
            println!("ccusage@{VERSION}: not installed (npm missing or the registry not reachable); its column is skipped");
            return None;
        }
    }
    // The subcommand moved under `claude` in 20.x; older layouts take `session` directly.
    let empty = cache.join("empty-home");
    let _ = std::fs::create_dir_all(empty.join(".claude/projects"));
    for args in [vec!["claude", "session", "--json", "--offline"], vec!["session", "--json", "--offline"]] {
        let c = Ccusage { bin: bin.clone(), args };
        let mut probe = c.command(&empty);
        let out = probe.stdout(Stdio::piped()).output();
        if out.is_ok_and(|o| o.status.success() && serde_json::from_slice::<serde_json::Value>(&o.stdout).is_ok()) {
            println!("ccusage@{VERSION}: {} {}", bin.display(), c.args.join(" "));
            return Some(c);
        }
    }
    println!("ccusage@{VERSION}: installed but does not answer `claude session --json --offline`; its column is skipped");
    None
}
