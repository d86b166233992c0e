//! A child process for the kill tests (`tests/state_file.rs`, `tests/notify_delivery.rs`, and
//! `make stress`): it performs one kind of ASM write, over and over or once, so that its parent
//! can SIGKILL it at any moment and check what is left on disk. Not shipped; built by `cargo test`.
//!
//!   crash_child state <state-file> <section> <count|unbounded>   read-modify-write a counter section
//!   crash_child enqueue <home>                                   queue one notification, mark <home>/queued, wait

use asm_core::env::Env;
use asm_core::notify::{Event, Notifier};
use asm_core::state::{Section, StateStore};
use asm_core::Runtime;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The counter the state writers bump; ballast makes each write take a little while.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Counter {
    n: u64,
    pad: String,
}

macro_rules! counter_section {
    ($name:ident, $section:literal) => {
        #[derive(Debug, Default, Serialize, Deserialize)]
        struct $name(Counter);
        impl Section for $name {
            const NAME: &'static str = $section;
        }
    };
}

counter_section!(GatewayCounter, "gateway");
counter_section!(QuotaCounter, "quota");
counter_section!(MonitorCounter, "monitor");

fn bump<T: Section>(store: &StateStore, wrap: fn(&mut T) -> &mut Counter) {
    store
        .update(|c: &mut T| {
            let c = wrap(c);
            c.n += 1;
            c.pad = "x".repeat(20_000 + (c.n as usize % 7) * 1000);
        })
        .expect("update");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["state", path, section, count] => {
            let store = StateStore::new(*path);
            let count: u64 = count.parse().unwrap_or(u64::MAX);
            for _ in 0..count {
                match *section {
                    "gateway" => bump(&store, |c: &mut GatewayCounter| &mut c.0),
                    "quota" => bump(&store, |c: &mut QuotaCounter| &mut c.0),
                    "monitor" => bump(&store, |c: &mut MonitorCounter| &mut c.0),
                    other => panic!("crash_child: unknown section {other}"),
                }
            }
        }
        ["enqueue", home] => {
            let env = Env::from_pairs([("HOME", home.to_string()), ("OPENCLAW_STATE_DIR", format!("{home}/state")), ("ASM_NOTIFY_BACKEND", "log".into())]);
            let rt = Runtime::from_env(env).expect("runtime");
            let event = Event::GatewayRestarted { attempt: Some(7), method: "openclaw gateway restart".into() };
            Notifier::new(&rt).enqueue(&event).expect("enqueue");
            std::fs::write(format!("{home}/queued"), b"1").expect("marker");
            std::thread::sleep(Duration::from_secs(60));
            panic!("crash_child: the parent should have killed this process");
        }
        _ => {
            eprintln!("usage: crash_child state <file> <section> <count|unbounded> | crash_child enqueue <home>");
            std::process::exit(2);
        }
    }
}
