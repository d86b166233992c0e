//! Feed notifications: the events ASM reports, their texts, and delivery to the Telegram
//! feed topic with nothing lost.
//!
//! `Notifier::new(rt).emit(&event)` is the one entry point for every tool: it coalesces an
//! identical event inside ASM_NOTIFY_COOLDOWN, appends the message durably to the outbox
//! ([`outbox`]), then runs a short delivery pass ([`deliver`]) through the configured backend
//! ([`route`]: `openclaw` CLI, `telegram` Bot API, or `log`). Failures are logged and the
//! message stays queued for the next pass; the caller never sees an error.

pub mod deliver;
pub mod event;
pub mod openclaw_cli;
pub mod outbox;
pub mod policy;
pub mod route;
pub mod sender;
pub mod telegram;

pub use deliver::{PassOptions, PassReport, Sleeper, ThreadSleeper};
pub use event::{Event, GaveUpRepair};
pub use outbox::Outbox;

use crate::clock::{Clock, SystemClock};
use crate::fsutil::FsError;
use crate::Runtime;
use chrono::{DateTime, Utc};
use deliver::Pass;
use policy::NotifyState;
use serde::Serialize;
use std::time::Duration;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum NotifyError {
    #[error("cannot queue the notification: {0}")]
    Outbox(#[from] FsError),
}

/// How long `emit` may wait for throttles before leaving the rest for a later pass.
const EMIT_MAX_WAIT: Duration = Duration::from_secs(5);
/// The monitor's flush may spend part of its cycle waiting for throttles.
const FLUSH_MAX_WAIT: Duration = Duration::from_secs(30);
/// `--notify-test` waits longer: someone is watching and wants the answer.
const TEST_MAX_WAIT: Duration = Duration::from_secs(120);

static SYSTEM_CLOCK: SystemClock = SystemClock;
static THREAD_SLEEPER: ThreadSleeper = ThreadSleeper;

/// What became of an event handed to [`Notifier::enqueue`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enqueued {
    /// Written to the outbox under this idempotency key.
    Queued(String),
    /// An identical event was queued inside the cooldown; this one is dropped.
    Coalesced,
}

/// Sends events to the feed topic through the configured backend, via the outbox.
pub struct Notifier<'a> {
    rt: &'a Runtime,
    clock: &'a dyn Clock,
    sleeper: &'a dyn Sleeper,
}

impl<'a> Notifier<'a> {
    pub fn new(rt: &'a Runtime) -> Self {
        Notifier { rt, clock: &SYSTEM_CLOCK, sleeper: &THREAD_SLEEPER }
    }

    /// With time as an input (tests drive a `ManualClock` and a sleeper that advances it).
    pub fn with_time(rt: &'a Runtime, clock: &'a dyn Clock, sleeper: &'a dyn Sleeper) -> Self {
        Notifier { rt, clock, sleeper }
    }

    pub fn outbox(&self) -> Outbox {
        Outbox::at(&self.rt.paths)
    }

    /// Reports one event. Never fails the caller's own work: problems are logged and the
    /// message stays queued for the next pass.
    pub fn emit(&self, event: &Event) {
        match self.enqueue(event) {
            Ok(Enqueued::Coalesced) => {
                log::info!("event {} coalesced with an identical one inside the {}s cooldown", event.kind(), self.rt.config.notify_cooldown);
                return;
            }
            Ok(Enqueued::Queued(id)) => log::info!("event {} queued as {id}: {}", event.kind(), event.text().replace('\n', " | ")),
            Err(e) => {
                // The outbox cannot be written (disk full, permissions): the log keeps the text.
                log::error!("{e}; event {} was: {}", event.kind(), event.text().replace('\n', " | "));
                return;
            }
        }
        let report = self.deliver_pending(PassOptions { max_wait: EMIT_MAX_WAIT, force: false });
        log_pass(&report);
    }

    /// Queues an event durably (coalescing identical ones inside the cooldown).
    pub fn enqueue(&self, event: &Event) -> Result<Enqueued, NotifyError> {
        if !matches!(event, Event::Test { .. }) {
            let now = self.clock.now();
            let key = format!("{}:{}", event.kind(), event.text());
            let cooldown = self.rt.config.notify_cooldown;
            match self.rt.state().update(|s: &mut NotifyState| s.coalesce(&key, cooldown, now)) {
                Ok(true) => return Ok(Enqueued::Coalesced),
                Ok(false) => {}
                Err(e) => log::warn!("cannot check the notify cooldown ({e}); queuing anyway"),
            }
        }
        self.append(event).map(Enqueued::Queued)
    }

    /// Writes the event to the outbox, no questions asked; returns its idempotency key.
    fn append(&self, event: &Event) -> Result<String, NotifyError> {
        let now = self.clock.now();
        let id = new_message_id(now);
        let text = crate::redact::redact(&event.text()).into_owned();
        self.outbox().append_message(&id, now, event.kind(), &text)?;
        Ok(id)
    }

    /// Delivers what is pending, in order, within the options' waiting budget.
    pub fn deliver_pending(&self, opts: PassOptions) -> PassReport {
        let outbox = self.outbox();
        if outbox.snapshot().map(|s| s.pending.is_empty()).unwrap_or(false) {
            return PassReport::default();
        }
        let route = route::for_runtime(self.rt);
        let state = self.rt.state();
        let pass = Pass { outbox: &outbox, state: &state, route: &route, clock: self.clock, sleeper: self.sleeper };
        let mut report = pass.run(opts);
        // A message queued while this pass was finishing found the lock taken and left the
        // work to us: look once more after releasing the lock.
        for _ in 0..3 {
            let arrived = report.stopped.is_none() && !report.busy && outbox.snapshot().map(|s| !s.pending.is_empty()).unwrap_or(false);
            if !arrived {
                break;
            }
            let again = pass.run(opts);
            report.delivered.extend(again.delivered);
            report.attempts.extend(again.attempts);
            report.pending_left = again.pending_left;
            report.stopped = again.stopped;
            report.busy = again.busy;
        }
        report
    }

    /// A delivery pass for the monitor's cycle: whatever a short `emit` pass left queued
    /// (a backlog after an outage goes out at the throttled pace over a few cycles).
    pub fn flush(&self) -> PassReport {
        let report = self.deliver_pending(PassOptions { max_wait: FLUSH_MAX_WAIT, force: false });
        log_pass(&report);
        report
    }

    /// `health_check --notify-test`: delivers anything pending first, then the test message,
    /// and says what happened. A test message that did not get through is not retried later.
    pub fn send_test(&self, text: &str) -> TestReport {
        let route = route::for_runtime(self.rt);
        let mut report = TestReport {
            backend: route.backend,
            backend_reason: route.why.clone(),
            chat: route.chat.as_ref().ok().map(|c| c.id.clone()),
            chat_source: route.chat_source(),
            topic: route.topic,
            delivered: false,
            answer: None,
            error: None,
            earlier_delivered: 0,
            pending_left: 0,
        };
        let id = match self.append(&Event::Test { text: text.to_string() }) {
            Ok(id) => id,
            Err(e) => {
                report.error = Some(e.to_string());
                return report;
            }
        };
        let outbox = self.outbox();
        let state = self.rt.state();
        let pass = Pass { outbox: &outbox, state: &state, route: &route, clock: self.clock, sleeper: self.sleeper }
            .run(PassOptions { max_wait: TEST_MAX_WAIT, force: true });
        log_pass(&pass);
        report.delivered = pass.delivered.contains(&id);
        report.earlier_delivered = pass.delivered.iter().filter(|d| **d != id).count();
        let last = pass.attempts.iter().rev().find(|a| a.id == id);
        report.answer = last.and_then(|a| match &a.outcome {
            sender::SendOutcome::Delivered { answer, .. } => Some(answer.clone()),
            _ => None,
        });
        if !report.delivered {
            report.error = Some(last.and_then(|a| a.outcome.error().map(str::to_string)).or(pass.stopped.clone()).unwrap_or_else(|| "not delivered".into()));
            if let Ok(snapshot) = outbox.snapshot() {
                if let Some(test) = snapshot.pending.iter().find(|p| p.id == id) {
                    if let Err(e) = outbox.cancel(&test.id, self.clock.now(), "test message not delivered; not retried") {
                        log::warn!("cannot withdraw the undelivered test message: {e}");
                    }
                }
            }
        }
        report.pending_left = outbox.snapshot().map(|s| s.pending.len()).unwrap_or(pass.pending_left);
        report
    }
}

fn log_pass(report: &PassReport) {
    if report.busy {
        log::info!("another ASM process is delivering notifications; {} pending", report.pending_left);
    } else if let Some(why) = &report.stopped {
        log::warn!("{} notification(s) left queued: {why}", report.pending_left);
    }
}

/// An idempotency key: time, process and a counter, unique across processes and restarts.
fn new_message_id(now: DateTime<Utc>) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("{}-{}-{}-{nanos:08x}", now.format("%Y%m%dT%H%M%S%.3fZ"), std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// What `health_check --notify-test` prints.
#[derive(Debug, Clone, Serialize)]
pub struct TestReport {
    pub backend: route::Backend,
    pub backend_reason: String,
    pub chat: Option<String>,
    /// Where the chat id came from, or why there is none.
    pub chat_source: String,
    pub topic: i64,
    pub delivered: bool,
    /// The other side's answer (Telegram's JSON, OpenClaw's JSON), redacted.
    pub answer: Option<String>,
    pub error: Option<String>,
    /// Queued messages delivered before the test message.
    pub earlier_delivered: usize,
    pub pending_left: usize,
}

impl TestReport {
    /// The report as lines for people.
    pub fn text(&self) -> String {
        let mut lines = vec![
            format!("backend   {} ({})", self.backend, self.backend_reason),
            format!("chat      {} ({})", self.chat.as_deref().unwrap_or("-"), self.chat_source),
            format!("topic     {}{}", self.topic, if self.topic == 1 { " (General)" } else { "" }),
        ];
        if self.earlier_delivered > 0 {
            lines.push(format!("delivered {} queued message(s) first", self.earlier_delivered));
        }
        match (&self.answer, &self.error) {
            (Some(answer), _) if self.delivered => lines.push(format!("delivered: {answer}")),
            (_, Some(error)) => lines.push(format!("NOT delivered: {error}")),
            _ => lines.push(if self.delivered { "delivered".into() } else { "NOT delivered".into() }),
        }
        if self.pending_left > 0 {
            lines.push(format!("{} message(s) still queued in the outbox", self.pending_left));
        }
        lines.join("\n")
    }
}

/// The notification part of the health report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NotifyHealth {
    pub backend: Option<route::Backend>,
    pub backend_reason: String,
    pub chat: Option<String>,
    pub chat_source: String,
    pub topic: i64,
    /// Messages waiting in the outbox.
    pub pending: usize,
    pub oldest_pending_at: Option<DateTime<Utc>>,
    pub dead: usize,
    pub corrupt_lines: usize,
    pub last_delivered_at: Option<DateTime<Utc>>,
    pub retry_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// Things to fix: configuration errors, a missing topic, a moved chat, a stuck backlog.
    pub warnings: Vec<String>,
}

/// The notification health: backend, chat, backlog and warnings (probes the gateway in auto mode).
pub fn health(rt: &Runtime) -> NotifyHealth {
    let route = route::for_runtime(rt);
    let mut h = NotifyHealth {
        backend: Some(route.backend),
        backend_reason: route.why.clone(),
        chat: route.chat.as_ref().ok().map(|c| c.id.clone()),
        chat_source: route.chat_source(),
        topic: route.topic,
        ..NotifyHealth::default()
    };
    match Outbox::at(&rt.paths).snapshot() {
        Ok(s) => {
            h.pending = s.pending.len();
            h.oldest_pending_at = s.pending.first().map(|p| p.queued_at);
            h.dead = s.dead.len();
            h.corrupt_lines = s.corrupt_lines;
        }
        Err(e) => h.warnings.push(format!("notification outbox: {e}")),
    }
    let state: NotifyState = rt.state().section().unwrap_or_default();
    h.last_delivered_at = state.last_delivered_at;
    h.retry_at = state.not_before.filter(|t| *t > Utc::now());
    h.last_error = state.last_error.clone();
    if let Err(e) = route.ready() {
        h.warnings.push(format!("notifications: {e}"));
    }
    if let Some(b) = state.blocked.as_ref().filter(|b| b.fingerprint == route.fingerprint) {
        h.warnings.push(format!("notifications paused since {} by a configuration error: {}", b.since.format("%Y-%m-%d %H:%M UTC"), b.error));
    }
    if let Some(m) = &state.topic_missing {
        h.warnings.push(format!(
            "feed topic {} in chat {} is missing or closed ({}); notifications go to General — create the topic or set ASM_FEED_TOPIC",
            m.topic, m.chat, m.error
        ));
    }
    if let Some(m) = &state.migrated {
        h.warnings.push(format!("chat {} became supergroup {}; set ASM_FEED_CHAT_ID={}", m.from, m.to, m.to));
    }
    if h.pending > 0 {
        let since = h.oldest_pending_at.map(|t| format!(", the oldest queued {}", crate::timefmt::relative(t, Utc::now()))).unwrap_or_default();
        h.warnings.push(format!("{} notification(s) waiting in the outbox{since}", h.pending));
    }
    if h.dead > 0 {
        h.warnings.push(format!("{} notification(s) refused for good (kept in {})", h.dead, rt.paths.outbox_file().display()));
    }
    h
}
