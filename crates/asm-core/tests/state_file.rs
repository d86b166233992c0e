//! The state file under real processes: writers killed with SIGKILL at random moments always
//! leave a parseable file, and concurrent writers lose nothing.
//!
//! The child processes are this test binary itself, started with `--exact writer_child` and
//! an environment that tells the child what to do.

use asm_core::state::StateStore;
use asm_testkit::TempDir;
use serde::{Deserialize, Serialize};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

#[derive(Debug, Default, Serialize, Deserialize)]
struct Counter {
    n: u64,
    /// Ballast so that each write takes a little while and kills land mid-write.
    pad: String,
}

/// Not a test of its own: the body of the child processes.
#[test]
fn writer_child() {
    let (Ok(path), Ok(section), Ok(count)) = (std::env::var("ASM_TEST_STATE"), std::env::var("ASM_TEST_SECTION"), std::env::var("ASM_TEST_COUNT")) else {
        return;
    };
    let store = StateStore::new(path);
    let count: u64 = count.parse().unwrap_or(u64::MAX);
    for _ in 0..count {
        store
            .update(&section, |c: &mut Counter| {
                c.n += 1;
                c.pad = "x".repeat(20_000 + (c.n as usize % 7) * 1000);
            })
            .expect("update");
    }
}

fn spawn_writer(state: &std::path::Path, section: &str, count: Option<u64>) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "writer_child", "--nocapture", "--test-threads=1"])
        .env("ASM_TEST_STATE", state)
        .env("ASM_TEST_SECTION", section)
        .env("ASM_TEST_COUNT", count.map(|c| c.to_string()).unwrap_or_else(|| "unbounded".into()))
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
    store.update("other", |c: &mut Counter| c.n = 42).unwrap();
    let mut rng = Lcg(0x5eed);
    let mut last_seen = 0;
    for round in 0..300 {
        let mut child = spawn_writer(&path, "gateway", None);
        std::thread::sleep(Duration::from_micros(3_000 + rng.next_below(25_000)));
        // SAFETY: plain kill(2) of our own child.
        unsafe {
            libc::kill(child.id() as i32, libc::SIGKILL);
        }
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
    store.update("other", |c: &mut Counter| c.n = 42).unwrap();
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
    assert_eq!(store.section::<Counter>("gateway").unwrap().n, 150);
    assert_eq!(store.section::<Counter>("quota").unwrap().n, 150);
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
    assert_eq!(StateStore::new(&path).section::<Counter>("monitor").unwrap().n, 200);
}
