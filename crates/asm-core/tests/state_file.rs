//! The state file under real processes: writers killed with SIGKILL at random moments always
//! leave a parseable file, and concurrent writers lose nothing.
//!
//! The writers are the `crash_child` example (`examples/crash_child.rs`), which bumps a counter
//! section over and over.

use asm_core::state::{Section, StateStore};
use asm_testkit::TempDir;
use serde::{Deserialize, Serialize};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The counter `crash_child` writes, read back under each section's name.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Counter {
    n: u64,
    #[serde(default)]
    pad: String,
}

macro_rules! section {
    ($name:ident, $section:literal) => {
        #[derive(Debug, Default, Serialize, Deserialize)]
        struct $name(Counter);
        impl Section for $name {
            const NAME: &'static str = $section;
        }
    };
}

section!(Other, "other");
section!(Gateway, "gateway");
section!(Quota, "quota");
section!(Monitor, "monitor");

fn spawn_writer(state: &std::path::Path, section: &str, count: Option<u64>) -> Child {
    let count = count.map(|c| c.to_string()).unwrap_or_else(|| "unbounded".into());
    Command::new(asm_testkit::example("crash_child"))
        .args(["state", &state.display().to_string(), section, &count])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn writer")
}

/// A small deterministic generator: reproducible kill moments without a rand dependency.
struct Lcg(u64);
impl Lcg {
    fn next_below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

#[test]
fn sigkill_at_random_moments_always_leaves_a_parseable_file() {
    let dir = TempDir::new("state-kill");
    let path = dir.join(".asm_state.json");
    let store = StateStore::new(&path);
    store.update(|c: &mut Other| c.0.n = 42).unwrap();
    let mut rng = Lcg(0x5eed);
    let mut last_seen = 0;
    for round in 0..300 {
        let mut child = spawn_writer(&path, "gateway", None);
        // A writer starts with compiling the redaction patterns (state is redacted on its way
        // to disk), a few ms in a debug build: the kills fall after that, amid the writes.
        std::thread::sleep(Duration::from_micros(15_000 + rng.next_below(40_000)));
        child.kill().unwrap(); // SIGKILL
        let _ = child.wait();
        let text = std::fs::read_to_string(&path).unwrap();
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("round {round}: torn state file: {e}"));
        assert_eq!(doc["schema_version"], 1, "round {round}");
        assert_eq!(doc["other"]["n"], 42, "round {round}: another section was lost");
        let n = doc["gateway"]["n"].as_u64().unwrap_or(0);
        assert!(n >= last_seen, "round {round}: counter went back from {last_seen} to {n}");
        last_seen = n;
    }
    assert!(last_seen > 0, "the writers never completed a single update; the test proves nothing");
    store.update(|c: &mut Other| c.0.n = 42).unwrap();
    let strays: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp.") || n.contains(".corrupt-"))
        .collect();
    assert!(strays.is_empty(), "stale temp files of killed writers are cleaned up, nothing was taken for corrupt: {strays:?}");
}

#[test]
fn concurrent_writers_of_different_sections_keep_both() {
    let dir = TempDir::new("state-conc");
    let path = dir.join(".asm_state.json");
    let a = spawn_writer(&path, "gateway", Some(150));
    let b = spawn_writer(&path, "quota", Some(150));
    for mut c in [a, b] {
        assert!(c.wait().unwrap().success());
    }
    let store = StateStore::new(&path);
    assert_eq!(store.section::<Gateway>().unwrap().0.n, 150);
    assert_eq!(store.section::<Quota>().unwrap().0.n, 150);
}

#[test]
fn concurrent_writers_of_one_section_serialize() {
    let dir = TempDir::new("state-same");
    let path = dir.join(".asm_state.json");
    let a = spawn_writer(&path, "monitor", Some(100));
    let b = spawn_writer(&path, "monitor", Some(100));
    for mut c in [a, b] {
        assert!(c.wait().unwrap().success());
    }
    assert_eq!(StateStore::new(&path).section::<Monitor>().unwrap().0.n, 200);
}
