//! Feed notifications end to end against a loopback mock Bot API (and a fake `openclaw`
//! CLI): request shapes, Telegram's error answers, throttling, outages, crash safety.
//! Time is a ManualClock; every wait goes through a sleeper that advances it.

use asm_core::clock::{Clock, ManualClock};
use asm_core::env::Env;
use asm_core::notify::{Event, Notifier, Outbox, PassOptions, Sleeper};
use asm_core::session::Platform;
use asm_core::Runtime;
use asm_testkit::{MockServer, Request, Response, TempDir};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const TOKEN: &str = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
const CHAT: &str = "-1001234567890";

/// Advances the shared manual clock instead of sleeping, and remembers each wait.
struct ClockSleeper {
    clock: Arc<ManualClock>,
    waits: Mutex<Vec<Duration>>,
}

impl Sleeper for ClockSleeper {
    fn sleep(&self, d: Duration) {
        self.waits.lock().unwrap().push(d);
        self.clock.advance(chrono::Duration::from_std(d).unwrap());
    }
}

/// A mock Bot API: scripted answers first, then `{"ok":true}` with increasing message ids.
/// Records the (manual) time of each request.
struct BotApi {
    server: MockServer,
    script: Arc<Mutex<VecDeque<Response>>>,
    times: Arc<Mutex<Vec<chrono::DateTime<chrono::Utc>>>>,
}

impl BotApi {
    fn start(clock: Arc<ManualClock>) -> BotApi {
        let script: Arc<Mutex<VecDeque<Response>>> = Arc::default();
        let times: Arc<Mutex<Vec<_>>> = Arc::default();
        let (s, t) = (script.clone(), times.clone());
        let counter = Arc::new(Mutex::new(1000));
        let server = MockServer::start(move |_req: &Request| {
            t.lock().unwrap().push(clock.now());
            if let Some(r) = s.lock().unwrap().pop_front() {
                return r;
            }
            let mut n = counter.lock().unwrap();
            *n += 1;
            Response::json(200, &json!({"ok": true, "result": {"message_id": *n, "chat": {"id": -1001234567890i64}}}))
        });
        BotApi { server, script, times }
    }

    fn then(&self, r: Response) -> &Self {
        self.script.lock().unwrap().push_back(r);
        self
    }

    fn bodies(&self) -> Vec<Value> {
        self.server.requests().iter().map(|r| r.body_json().unwrap()).collect()
    }
}

fn error(code: u16, description: &str, parameters: Option<Value>) -> Response {
    let mut body = json!({"ok": false, "error_code": code, "description": description});
    if let Some(p) = parameters {
        body["parameters"] = p;
    }
    Response::json(code, &body)
}

struct World {
    home: TempDir,
    clock: Arc<ManualClock>,
    sleeper: ClockSleeper,
    api: BotApi,
}

impl World {
    fn new() -> World {
        let clock = Arc::new(ManualClock::at_epoch());
        let api = BotApi::start(clock.clone());
        World { home: TempDir::new("notify"), sleeper: ClockSleeper { clock: clock.clone(), waits: Mutex::default() }, clock, api }
    }

    fn runtime(&self, extra: &[(&str, &str)]) -> Runtime {
        let mut pairs: Vec<(String, String)> = vec![
            ("HOME".into(), self.home.path().display().to_string()),
            ("OPENCLAW_STATE_DIR".into(), self.home.join("state").display().to_string()),
            ("PATH".into(), "/nonexistent".into()),
            ("TELEGRAM_BOT_TOKEN".into(), TOKEN.into()),
            ("ASM_TELEGRAM_API_ROOT".into(), self.api.server.url()),
            ("ASM_FEED_CHAT_ID".into(), CHAT.into()),
            ("ASM_NOTIFY_BACKEND".into(), "telegram".into()),
        ];
        for (k, v) in extra {
            pairs.retain(|(pk, _)| pk != k);
            pairs.push((k.to_string(), v.to_string()));
        }
        Runtime::from_env(Env::from_pairs(pairs)).unwrap()
    }

    fn notifier<'a>(&'a self, rt: &'a Runtime) -> Notifier<'a> {
        Notifier::with_time(rt, &*self.clock, &self.sleeper)
    }

    fn pending(&self, rt: &Runtime) -> usize {
        Outbox::at(&rt.paths).snapshot().unwrap().pending.len()
    }
}

fn switch_event() -> Event {
    Event::ContextSwitch {
        platform: Platform::Openclaw,
        percent: 82.0,
        session: "agent:main:telegram:group:-1001234567890:topic:466".into(),
        title: Some("feed".into()),
        memory_path: "/home/u/.openclaw/.session_memory/abc.json".into(),
    }
}

fn restarted(attempt: u32) -> Event {
    Event::GatewayRestarted { attempt: Some(attempt), method: "openclaw gateway restart".into() }
}

const LONG_WAIT: PassOptions = PassOptions { max_wait: Duration::from_secs(3600), force: false };

#[test]
fn exact_request_body_with_message_thread_id() {
    let w = World::new();
    let rt = w.runtime(&[]);
    w.notifier(&rt).emit(&switch_event());
    let reqs = w.api.server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].method, "POST");
    assert_eq!(reqs[0].path, format!("/bot{TOKEN}/sendMessage"));
    assert_eq!(
        reqs[0].body_json().unwrap(),
        json!({
            "chat_id": CHAT,
            "text": "OpenClaw context usage reached 82%, switched to new session\nagent:main:telegram:group:-1001234567890:topic:466 (feed), summary saved to /home/u/.openclaw/.session_memory/abc.json",
            "message_thread_id": 466,
            "parse_mode": "HTML"
        })
    );
    assert_eq!(w.pending(&rt), 0);
    assert_eq!(std::fs::read_to_string(rt.paths.outbox_file()).unwrap(), "", "delivered records are compacted away");
}

#[test]
fn general_topic_omits_message_thread_id() {
    let w = World::new();
    let rt = w.runtime(&[("ASM_FEED_TOPIC", "1")]);
    w.notifier(&rt).emit(&restarted(1));
    let bodies = w.api.bodies();
    assert_eq!(bodies.len(), 1);
    assert_eq!(bodies[0], json!({"chat_id": CHAT, "text": "OpenClaw gateway restarted (attempt 1, openclaw gateway restart)", "parse_mode": "HTML"}));
}

#[test]
fn retry_after_is_waited_exactly_then_retried() {
    let w = World::new();
    let rt = w.runtime(&[]);
    w.api.then(error(429, "Too Many Requests: retry after 3", Some(json!({"retry_after": 3}))));
    let t0 = w.clock.now();
    w.notifier(&rt).emit(&restarted(1));
    assert_eq!(*w.sleeper.waits.lock().unwrap(), [Duration::from_secs(3)]);
    let times = w.api.times.lock().unwrap().clone();
    assert_eq!(times, [t0, t0 + chrono::Duration::seconds(3)]);
    assert_eq!(w.pending(&rt), 0);
}

#[test]
fn long_retry_after_leaves_the_message_queued_until_exactly_then() {
    let w = World::new();
    let rt = w.runtime(&[]);
    w.api.then(error(429, "Too Many Requests: retry after 30", Some(json!({"retry_after": 30}))));
    w.notifier(&rt).emit(&restarted(1));
    assert_eq!(w.pending(&rt), 1, "30 s is beyond emit's waiting budget: kept queued");
    w.clock.advance_secs(29);
    let report = w.notifier(&rt).deliver_pending(PassOptions { max_wait: Duration::ZERO, force: false });
    assert!(report.stopped.unwrap().starts_with("next send allowed at 2026-01-01 00:00:30"));
    assert_eq!(w.api.server.requests().len(), 1);
    w.clock.advance_secs(1);
    w.notifier(&rt).deliver_pending(PassOptions { max_wait: Duration::ZERO, force: false });
    assert_eq!(w.api.server.requests().len(), 2);
    assert_eq!(w.pending(&rt), 0);
}

#[test]
fn missing_topic_falls_back_to_general_with_a_note_and_warns() {
    let w = World::new();
    let rt = w.runtime(&[]);
    w.api.then(error(400, "Bad Request: message thread not found", None));
    w.notifier(&rt).emit(&restarted(1));
    let bodies = w.api.bodies();
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[0]["message_thread_id"], 466);
    assert!(bodies[1].get("message_thread_id").is_none());
    assert_eq!(
        bodies[1]["text"],
        "(feed topic 466 is missing or closed; posting in General)\nOpenClaw gateway restarted (attempt 1, openclaw gateway restart)"
    );
    let health = asm_core::notify::health(&rt);
    assert!(health.warnings.iter().any(|w| w.contains("feed topic 466 in chat -1001234567890 is missing or closed")), "{:?}", health.warnings);
    // Meanwhile the next message goes straight to General: no second failed request.
    w.clock.advance_secs(10);
    w.notifier(&rt).emit(&restarted(2));
    let bodies = w.api.bodies();
    assert_eq!(bodies.len(), 3);
    assert!(bodies[2].get("message_thread_id").is_none());
}

#[test]
fn topic_closed_is_handled_like_a_missing_topic() {
    let w = World::new();
    let rt = w.runtime(&[]);
    w.api.then(error(400, "Bad Request: TOPIC_CLOSED", None));
    w.notifier(&rt).emit(&restarted(1));
    let bodies = w.api.bodies();
    assert_eq!(bodies.len(), 2);
    assert!(bodies[1].get("message_thread_id").is_none());
    assert_eq!(w.pending(&rt), 0);
}

#[test]
fn entity_parse_error_is_resent_as_plain_text() {
    let w = World::new();
    let rt = w.runtime(&[]);
    w.api.then(error(400, "Bad Request: can't parse entities: Unsupported start tag \"b\" at byte offset 5", None));
    w.notifier(&rt).emit(&Event::WorkPaused { reason: "quota <5% & falling".into(), resume_at: None });
    let bodies = w.api.bodies();
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[0]["parse_mode"], "HTML");
    assert_eq!(bodies[0]["text"], "Model work paused: quota &lt;5% &amp; falling");
    assert_eq!(bodies[1], json!({"chat_id": CHAT, "text": "Model work paused: quota <5% & falling", "message_thread_id": 466}));
    assert_eq!(w.pending(&rt), 0);
}

#[test]
fn texts_over_4096_characters_are_split_in_order() {
    let w = World::new();
    let rt = w.runtime(&[]);
    let text: String = (0..300).map(|i| format!("line {i:03} {}\n", "x".repeat(20))).collect(); // 9000 characters
    let n = w.notifier(&rt);
    n.enqueue(&Event::Test { text: text.clone() }).unwrap();
    n.deliver_pending(LONG_WAIT);
    let parts: Vec<String> = w.api.bodies().iter().map(|b| b["text"].as_str().unwrap().to_string()).collect();
    assert_eq!(parts.len(), 3);
    assert!(parts.iter().all(|p| p.chars().count() <= 4096));
    assert!(parts.join("\n") == text, "the parts rejoined at their breaks give the text back");
    // Parts to one chat keep the 1 message/s throttle.
    let times = w.api.times.lock().unwrap().clone();
    assert!(times.windows(2).all(|p| p[1] - p[0] >= chrono::Duration::seconds(1)));
}

#[test]
fn a_part_confirmed_before_a_crash_is_not_sent_again() {
    let w = World::new();
    let rt = w.runtime(&[]);
    let text = format!("{}\n{}", "a".repeat(3000), "b".repeat(3000));
    let n = w.notifier(&rt);
    n.enqueue(&Event::Test { text }).unwrap();
    let id = Outbox::at(&rt.paths).snapshot().unwrap().pending[0].id.clone();
    Outbox::at(&rt.paths).mark_part(&id, 0, w.clock.now(), Some("7".into())).unwrap();
    n.deliver_pending(LONG_WAIT);
    let bodies = w.api.bodies();
    assert_eq!(bodies.len(), 1);
    assert_eq!(bodies[0]["text"], "b".repeat(3000));
}

#[test]
fn unauthorized_is_kept_queued_without_a_hot_retry_loop() {
    let w = World::new();
    let rt = w.runtime(&[]);
    w.api.then(error(401, "Unauthorized", None));
    let n = w.notifier(&rt);
    n.emit(&restarted(1));
    assert_eq!(w.api.server.requests().len(), 1);
    assert_eq!(w.pending(&rt), 1);
    // More events inside the pause: queued, nothing sent.
    for i in 2..6 {
        w.clock.advance_secs(10);
        n.emit(&restarted(i));
    }
    assert_eq!(w.api.server.requests().len(), 1, "no retry while the configuration error pause lasts");
    assert_eq!(w.pending(&rt), 5);
    let health = asm_core::notify::health(&rt);
    assert!(health.warnings.iter().any(|w| w.contains("paused since") && w.contains("Telegram answered 401: Unauthorized")), "{:?}", health.warnings);
    // After the pause the queue goes out, in order.
    w.clock.advance_secs(30);
    n.deliver_pending(LONG_WAIT);
    let texts: Vec<String> = w.api.bodies().iter().skip(1).map(|b| b["text"].as_str().unwrap().to_string()).collect();
    assert_eq!(texts.len(), 5);
    for (i, t) in texts.iter().enumerate() {
        assert!(t.contains(&format!("attempt {}", i + 1)), "{t}");
    }
    assert_eq!(w.pending(&rt), 0);
}

#[test]
fn chat_not_found_and_forbidden_are_configuration_errors() {
    for (code, description) in [(400, "Bad Request: chat not found"), (403, "Forbidden: bot was kicked from the supergroup chat")] {
        let w = World::new();
        let rt = w.runtime(&[]);
        w.api.then(error(code, description, None));
        w.notifier(&rt).emit(&restarted(1));
        w.clock.advance_secs(5);
        w.notifier(&rt).emit(&restarted(2));
        assert_eq!(w.api.server.requests().len(), 1, "{description}");
        assert_eq!(w.pending(&rt), 2);
    }
}

/// When a message reached the mock, and its text.
type Sent = (chrono::DateTime<chrono::Utc>, String);

#[test]
fn ten_minute_outage_then_full_delivery_in_order() {
    let w = World::new();
    let rt = w.runtime(&[]);
    let down = Arc::new(Mutex::new(true));
    let clock = w.clock.clone();
    let flag = down.clone();
    let sent: Arc<Mutex<Vec<Sent>>> = Arc::default();
    let log = sent.clone();
    let api = MockServer::start(move |req| {
        if *flag.lock().unwrap() {
            return Response::html(502, "<html>502 Bad Gateway</html>");
        }
        let text = req.body_json().unwrap()["text"].as_str().unwrap().to_string();
        log.lock().unwrap().push((clock.now(), text));
        Response::json(200, &json!({"ok": true, "result": {"message_id": 1}}))
    });
    let rt = Runtime::from_env({
        let mut env = rt.env.clone();
        env.set("ASM_TELEGRAM_API_ROOT", &api.url());
        env
    })
    .unwrap();
    let n = w.notifier(&rt);
    // One event every 20 s for 10 minutes, while Telegram is unreachable.
    for i in 1..=30 {
        n.emit(&restarted(i));
        w.clock.advance_secs(20);
    }
    let attempts = api.requests().len();
    assert!(attempts < 30, "backs off instead of retrying on every event ({attempts} attempts)");
    assert_eq!(w.pending(&rt), 30);
    *down.lock().unwrap() = false;
    w.clock.advance_secs(300);
    let report = n.deliver_pending(LONG_WAIT);
    assert_eq!(report.delivered.len(), 30, "{report:?}");
    let sent = sent.lock().unwrap().clone();
    let texts: Vec<&str> = sent.iter().map(|(_, t)| t.as_str()).collect();
    let expected: Vec<String> = (1..=30).map(|i| restarted(i).text()).collect();
    assert_eq!(texts, expected.iter().map(String::as_str).collect::<Vec<_>>());
    // Throttled up front: ≥ 1 s apart, at most 20 inside any minute.
    let times: Vec<_> = sent.iter().map(|(t, _)| *t).collect();
    assert!(times.windows(2).all(|p| p[1] - p[0] >= chrono::Duration::seconds(1)));
    assert!(times.windows(21).all(|p| p[20] - p[0] >= chrono::Duration::seconds(60)));
    assert_eq!(w.pending(&rt), 0);
}

#[test]
fn identical_events_inside_the_cooldown_are_coalesced() {
    let w = World::new();
    let rt = w.runtime(&[("ASM_NOTIFY_COOLDOWN", "300")]);
    let n = w.notifier(&rt);
    n.emit(&restarted(1));
    w.clock.advance_secs(100);
    n.emit(&restarted(1));
    n.emit(&restarted(2));
    w.clock.advance_secs(200);
    n.emit(&restarted(1));
    let texts: Vec<String> = w.api.bodies().iter().map(|b| b["text"].as_str().unwrap().to_string()).collect();
    assert_eq!(texts, [restarted(1).text(), restarted(2).text(), restarted(1).text()]);
}

#[test]
fn concurrent_deliverers_send_each_message_once() {
    let w = World::new();
    let rt = w.runtime(&[]);
    let slow = MockServer::start(|_| Response::json(200, &json!({"ok": true, "result": {"message_id": 5}})).with_delay(Duration::from_millis(30)));
    let rt = Runtime::from_env({
        let mut env = rt.env.clone();
        env.set("ASM_TELEGRAM_API_ROOT", &slow.url());
        env.set("ASM_FEED_CHAT_ID", "42"); // a private chat: no per-minute cap, the test stays short
        env
    })
    .unwrap();
    for i in 0..6 {
        w.notifier(&rt).enqueue(&restarted(i)).unwrap();
    }
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                let sleeper = ClockSleeper { clock: w.clock.clone(), waits: Mutex::default() };
                Notifier::with_time(&rt, &*w.clock, &sleeper).deliver_pending(LONG_WAIT);
            });
        }
    });
    // A deliverer that found the lock taken left the work to the holder; one more pass
    // delivers whatever the holder had not seen yet.
    w.notifier(&rt).deliver_pending(LONG_WAIT);
    let texts: Vec<String> = slow.requests().iter().map(|r| r.body_json().unwrap()["text"].as_str().unwrap().to_string()).collect();
    assert_eq!(texts, (0..6).map(|i| restarted(i).text()).collect::<Vec<_>>());
}

#[test]
fn kill_9_between_write_and_send_delivers_once_afterwards() {
    let w = World::new();
    let home = w.home.path().display().to_string();
    // The child (`examples/crash_child.rs`) queues restarted(7) and waits to be killed.
    let mut child = std::process::Command::new(asm_testkit::example("crash_child"))
        .args(["enqueue", &home])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let marker = w.home.join("queued");
    for _ in 0..600 {
        if marker.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(marker.exists(), "child did not queue its message");
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(9));
    let rt = w.runtime(&[]);
    assert_eq!(w.pending(&rt), 1, "the record was on disk before the kill");
    let n = w.notifier(&rt);
    n.deliver_pending(LONG_WAIT);
    n.deliver_pending(LONG_WAIT);
    w.clock.advance_secs(60);
    n.emit(&restarted(8));
    let texts: Vec<String> = w.api.bodies().iter().map(|b| b["text"].as_str().unwrap().to_string()).collect();
    assert_eq!(texts, [restarted(7).text(), restarted(8).text()], "delivered once, then the next one");
}

#[test]
fn openclaw_backend_runs_the_cli_and_checks_its_json() {
    let w = World::new();
    let bin = w.home.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let args_file = w.home.join("args.txt");
    let script = format!(
        "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done >> '{}'\necho '---' >> '{}'\n\
         case \"$*\" in *--thread-id*) if [ -f '{}' ]; then echo \"Error: Call to 'sendMessage' failed! (400: Bad Request: message thread not found)\" >&2; exit 1; fi;; esac\n\
         echo '{{\"action\":\"send\",\"channel\":\"telegram\",\"dryRun\":false,\"handledBy\":\"plugin\",\"messageId\":\"1001\",\"payload\":{{\"ok\":true,\"messageId\":\"1001\",\"chatId\":\"-1001234567890\",\"receipt\":{{\"threadId\":\"466\"}}}}}}'\n",
        args_file.display(),
        args_file.display(),
        w.home.join("topic-gone").display()
    );
    let program = bin.join("openclaw");
    std::fs::write(&program, script).unwrap();
    std::fs::set_permissions(&program, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let rt = w.runtime(&[("ASM_NOTIFY_BACKEND", "openclaw"), ("PATH", &path)]);
    let n = w.notifier(&rt);
    n.emit(&restarted(1));
    let calls = std::fs::read_to_string(&args_file).unwrap();
    let first: Vec<&str> = calls.split("---\n").next().unwrap().lines().collect();
    assert_eq!(
        first,
        [
            "message",
            "send",
            "--channel",
            "telegram",
            "--target",
            CHAT,
            "--thread-id",
            "466",
            "--message",
            "OpenClaw gateway restarted (attempt 1, openclaw gateway restart)",
            "--json"
        ]
    );
    assert_eq!(w.pending(&rt), 0);
    // The topic disappears: the CLI fails, the message goes to General with the note.
    std::fs::write(w.home.join("topic-gone"), b"").unwrap();
    w.clock.advance_secs(10);
    n.emit(&restarted(2));
    let calls = std::fs::read_to_string(&args_file).unwrap();
    let last: Vec<&str> = calls.trim_end_matches("---\n").rsplit("---\n").next().unwrap().lines().collect();
    assert!(!last.contains(&"--thread-id"), "{last:?}");
    assert!(last.iter().any(|a| a.starts_with("(feed topic 466 is missing or closed; posting in General)")));
    assert_eq!(w.pending(&rt), 0);
}

#[test]
fn openclaw_backend_keeps_the_message_when_the_cli_does_not_confirm() {
    let w = World::new();
    let bin = w.home.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let program = bin.join("openclaw");
    std::fs::write(&program, "#!/bin/sh\necho 'sent, probably'\nexit 0\n").unwrap();
    std::fs::set_permissions(&program, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let rt = w.runtime(&[("ASM_NOTIFY_BACKEND", "openclaw"), ("PATH", &path)]);
    w.notifier(&rt).emit(&restarted(1));
    assert_eq!(w.pending(&rt), 1, "exit 0 without a confirming JSON answer is not a delivery");
    let health = asm_core::notify::health(&rt);
    assert!(health.last_error.unwrap().contains("openclaw message send exit 0"));
}

#[test]
fn log_backend_delivers_to_the_log() {
    let w = World::new();
    let rt = w.runtime(&[("ASM_NOTIFY_BACKEND", "log")]);
    w.notifier(&rt).emit(&restarted(1));
    assert_eq!(w.pending(&rt), 0);
    assert!(w.api.server.requests().is_empty());
}

#[test]
fn a_group_upgraded_to_a_supergroup_is_followed_and_reported() {
    let w = World::new();
    let rt = w.runtime(&[]);
    w.api.then(error(400, "Bad Request: group chat was upgraded to a supergroup chat", Some(json!({"migrate_to_chat_id": -1009999999999i64}))));
    let n = w.notifier(&rt);
    n.emit(&restarted(1));
    w.clock.advance_secs(5);
    n.emit(&restarted(2));
    let chats: Vec<Value> = w.api.bodies().iter().map(|b| b["chat_id"].clone()).collect();
    assert_eq!(chats, [json!(CHAT), json!("-1009999999999"), json!("-1009999999999")]);
    let health = asm_core::notify::health(&rt);
    assert!(health.warnings.iter().any(|w| w.contains("set ASM_FEED_CHAT_ID=-1009999999999")), "{:?}", health.warnings);
    assert_eq!(w.pending(&rt), 0);
}

#[test]
fn a_test_message_left_by_a_killed_notify_test_is_withdrawn_not_delivered() {
    let w = World::new();
    let rt = w.runtime(&[]);
    // The pid of a process that has ended: the notify test that queued it was killed.
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let pid = gone.id();
    gone.wait().unwrap();
    let outbox = Outbox::at(&rt.paths);
    outbox.append_message(&format!("20260101T000000.000Z-{pid}-0-00000000"), w.clock.now(), "test", "a test message nobody waits for").unwrap();
    w.notifier(&rt).emit(&restarted(1));
    let texts: Vec<String> = w.api.bodies().iter().map(|b| b["text"].as_str().unwrap().to_string()).collect();
    assert_eq!(texts, [restarted(1).text()], "the orphaned test message was withdrawn");
    assert_eq!(w.pending(&rt), 0);
}

#[test]
fn the_gap_to_the_next_send_is_recorded_before_the_request_goes_out() {
    let w = World::new();
    let state_file = w.home.join("state/.asm_state.json");
    let seen: Arc<Mutex<Vec<bool>>> = Arc::default();
    let record = seen.clone();
    let server = MockServer::start(move |_req: &Request| {
        // What a process killed right now would leave behind for the next one.
        let state: Value = serde_json::from_str(&std::fs::read_to_string(&state_file).unwrap_or_default()).unwrap_or_default();
        record.lock().unwrap().push(state["notify"]["sent_at"][CHAT].as_array().is_some_and(|a| !a.is_empty()));
        Response::json(200, &json!({"ok": true, "result": {"message_id": 1, "chat": {"id": -1001234567890i64}}}))
    });
    let rt = w.runtime(&[("ASM_TELEGRAM_API_ROOT", &server.url())]);
    w.notifier(&rt).emit(&restarted(1));
    assert_eq!(*seen.lock().unwrap(), [true]);
}
