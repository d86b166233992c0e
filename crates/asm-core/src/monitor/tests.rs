//! The loop with fake children on the injected clock: steps run concurrently, so a gateway
//! step that hangs for minutes (a restart and a repair) does not hold up the session rounds;
//! a reload takes new settings and keeps the old ones when they are bad.

use super::*;
use crate::clock::ManualClock;
use crate::env::Env;
use crate::tools::ToolRun;
use asm_testkit::TempDir;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Children that answer at once, except the gateway step, which blocks until released.
#[derive(Default)]
struct FakeTools {
    session_rounds: AtomicUsize,
    gateway_runs: AtomicUsize,
    gateway_released: AtomicBool,
    calls: Mutex<Vec<String>>,
}

impl Tools for FakeTools {
    fn run(&self, tool: Tool, args: &[String], _timeout: Duration) -> crate::tools::ToolRun {
        self.calls.lock().unwrap().push(format!("{} {}", tool.name(), args.join(" ")));
        let ok = |doc: serde_json::Value| ToolRun { report: StepReport { ok: true, exit_code: Some(0), ..StepReport::default() }, doc: Some(doc) };
        match tool {
            Tool::SessionManager => {
                self.session_rounds.fetch_add(1, Ordering::SeqCst);
                ok(serde_json::json!({"sessions": [], "errors": []}))
            }
            Tool::GatewayMonitor => {
                self.gateway_runs.fetch_add(1, Ordering::SeqCst);
                while !self.gateway_released.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(5));
                }
                ok(serde_json::json!({"phase": "VERIFYING"}))
            }
            _ => ok(serde_json::json!({"watch": false})),
        }
    }
}

fn runtime(home: &TempDir) -> Runtime {
    Runtime::from_env(Env::from_pairs([
        ("HOME", home.path().to_str().unwrap()),
        ("OPENCLAW_STATE_DIR", home.join("state").to_str().unwrap()),
        ("ASM_GATEWAY_URL", "http://127.0.0.1:9"),
        ("ASM_NOTIFY_BACKEND", "log"),
    ]))
    .unwrap()
}

/// Waits (without asserting on time) until `cond` holds; a generous deadline only turns a
/// hang into a failure.
fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cond() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_gateway_step_that_takes_minutes_does_not_delay_the_session_rounds() {
    let home = TempDir::new("monitor-concurrent");
    let clock = ManualClock::at_epoch();
    let tools = FakeTools::default();
    let signals = SignalFlags::default();
    let stop = signals.stop.clone();
    std::thread::scope(|s| {
        let monitor = s.spawn(|| Monitor::new(runtime(&home), &clock, &tools, Some(Duration::from_secs(60)), signals).run("foreground", false));
        wait_until("the first session round and a gateway step that hangs", || {
            tools.session_rounds.load(Ordering::SeqCst) == 1 && tools.gateway_runs.load(Ordering::SeqCst) == 1
        });
        // Three more intervals while the gateway step is still busy (a repair takes minutes).
        for round in 2..=4 {
            clock.advance_secs(60);
            wait_until("the next session round", || tools.session_rounds.load(Ordering::SeqCst) == round);
        }
        assert_eq!(tools.gateway_runs.load(Ordering::SeqCst), 1, "a busy step is never started twice");
        tools.gateway_released.store(true, Ordering::SeqCst);
        clock.advance_secs(15);
        wait_until("the gateway's own cadence resumes", || tools.gateway_runs.load(Ordering::SeqCst) == 2);
        stop.store(true, Ordering::SeqCst);
        let summary = monitor.join().unwrap().unwrap();
        assert_eq!(summary.gateway.as_deref(), Some("VERIFYING"));
    });
    let state: MonitorState = runtime(&home).state().section().unwrap();
    assert!(state.last_tick.is_some() && state.steps.contains_key("gateway"));
}

#[test]
fn once_runs_every_step_one_time_and_keeps_the_summary() {
    let home = TempDir::new("monitor-once");
    let clock = ManualClock::at_epoch();
    let tools = FakeTools { gateway_released: AtomicBool::new(true), ..FakeTools::default() };
    let summary = Monitor::new(runtime(&home), &clock, &tools, None, SignalFlags::default()).run("foreground", true).unwrap();
    assert_eq!((tools.session_rounds.load(Ordering::SeqCst), tools.gateway_runs.load(Ordering::SeqCst)), (1, 1));
    assert_eq!(summary.text(80), "0 sessions, 0 over 80%, 0 switched; gateway VERIFYING; quota watch off; 0 notification(s) pending");
    assert!(summary.problems.is_empty());
    let state: MonitorState = runtime(&home).state().section().unwrap();
    assert_eq!(state.last_round.unwrap().gateway.as_deref(), Some("VERIFYING"));
}

#[test]
fn a_reload_takes_new_settings_and_a_bad_one_keeps_the_old() {
    let home = TempDir::new("monitor-reload");
    let clock = ManualClock::at_epoch();
    let tools = FakeTools { gateway_released: AtomicBool::new(true), ..FakeTools::default() };
    let settings = home.join("state/asm.env");
    std::fs::create_dir_all(home.join("state")).unwrap();
    let mut monitor = Monitor::new(runtime(&home), &clock, &tools, None, SignalFlags::default()).reload_with(|| Ok(runtime(&home)));
    let mut steps = steps(&monitor.rt, monitor.interval());
    std::fs::write(&settings, "ASM_GATEWAY_PROBE_INTERVAL=40\n").unwrap();
    monitor.reload(&mut steps);
    let gateway = |steps: &[Step]| steps.iter().find(|s| s.kind == StepKind::Gateway).unwrap().every;
    assert_eq!(gateway(&steps), Duration::from_secs(40));
    let mut monitor = monitor.reload_with(|| Runtime::from_env(Env::from_pairs([("HOME", "/x"), ("ASM_CONTEXT_THRESHOLD", "900")])));
    monitor.reload(&mut steps);
    assert_eq!((gateway(&steps), monitor.rt.config.gateway_probe_interval), (Duration::from_secs(40), 40), "the bad value changed nothing");
}
