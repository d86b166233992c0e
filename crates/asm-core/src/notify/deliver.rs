//! One delivery pass: under the outbox's delivery lock, take the oldest pending message,
//! ask the policy whether it may go now (waiting out short throttles and `retry_after`
//! through the injected [`Sleeper`] and [`Clock`], within a budget), send it (or its next
//! part), and record what happened — in the outbox first when the other side confirmed,
//! then in the `notify` state section. Messages go strictly in queue order; a failure that
//! concerns the route (network, configuration) stops the pass with everything still queued.

use super::outbox::{Outbox, PendingMessage};
use super::policy::NotifyState;
use super::route::{Backend, ChatChoice, Route};
use super::sender::{split_text, Outgoing, SendOutcome, PART_LIMIT};
use crate::clock::Clock;
use crate::state::StateStore;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::time::Duration;

/// Waiting, as an input: real sleeping in tools, a clock that jumps in tests.
pub trait Sleeper: Send + Sync {
    fn sleep(&self, d: Duration);
}

#[derive(Debug, Default, Clone, Copy)]
pub struct ThreadSleeper;

impl Sleeper for ThreadSleeper {
    fn sleep(&self, d: Duration) {
        std::thread::sleep(d);
    }
}

#[derive(Debug, Clone, Copy)]
pub struct PassOptions {
    /// How long the pass may wait in total for throttles and retry_after before it leaves the
    /// rest for a later pass.
    pub max_wait: Duration,
    /// Ignore a configuration-error pause (someone is testing the configuration right now).
    pub force: bool,
}

/// One send attempt, for logs and `--notify-test`.
#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    pub id: String,
    pub kind: String,
    pub part: usize,
    pub parts: usize,
    pub chat: Option<String>,
    pub topic: Option<i64>,
    #[serde(flatten)]
    pub outcome: SendOutcome,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct PassReport {
    /// The backend that delivered; None when nothing was pending.
    pub backend: Option<Backend>,
    /// Ids of messages fully delivered in this pass, in order.
    pub delivered: Vec<String>,
    pub attempts: Vec<Attempt>,
    pub pending_left: usize,
    /// Why the pass stopped with messages still queued.
    pub stopped: Option<String>,
    /// Another process holds the delivery lock; it delivers.
    pub busy: bool,
}

pub struct Pass<'a> {
    pub outbox: &'a Outbox,
    pub state: &'a StateStore,
    pub route: &'a Route,
    pub clock: &'a dyn Clock,
    pub sleeper: &'a dyn Sleeper,
}

/// What a step did to the message at the head of the queue.
enum Step {
    /// It is delivered or given up: the next message.
    Finished,
    /// One more part of it went out.
    PartSent,
    /// Waited (a throttle, a 429, a moved chat): the same message again.
    Again,
    Stop(String),
}

/// The part of a message on its way, and where it goes.
struct Sending<'m> {
    message: &'m PendingMessage,
    part: usize,
    parts: usize,
    chat: Option<String>,
    use_topic: bool,
    now: DateTime<Utc>,
}

impl Pass<'_> {
    pub fn run(&self, opts: PassOptions) -> PassReport {
        let mut report = PassReport { backend: Some(self.route.backend), ..PassReport::default() };
        let _lock = match self.outbox.try_lock_delivery() {
            Ok(Some(lock)) => lock,
            Ok(None) => {
                report.busy = true;
                report.pending_left = self.outbox.snapshot().map(|s| s.pending.len()).unwrap_or(0);
                return report;
            }
            Err(e) => {
                report.stopped = Some(e.to_string());
                return report;
            }
        };
        let mut waited = Duration::ZERO;
        // One read of the outbox per pass: the queue is kept here as it is worked through
        // (what is appended meanwhile waits for the next pass).
        let snapshot = match self.outbox.snapshot() {
            Ok(s) => s,
            Err(e) => {
                report.stopped = Some(e.to_string());
                return report;
            }
        };
        let finished_any = snapshot.finished > 0;
        let mut queue: std::collections::VecDeque<PendingMessage> = snapshot.pending.into();
        queue.retain(|m| !self.withdraw_orphan_test(m));
        loop {
            report.pending_left = queue.len();
            let Some(message) = queue.front_mut() else { break };
            match self.step(message, opts, &mut waited, &mut report) {
                Step::Finished => {
                    queue.pop_front();
                }
                Step::PartSent => message.parts_done += 1,
                Step::Again => {}
                Step::Stop(why) => {
                    report.stopped = Some(why);
                    break;
                }
            }
        }
        report.pending_left = queue.len();
        if finished_any || !report.delivered.is_empty() {
            if let Err(e) = self.outbox.compact() {
                log::warn!("cannot compact the notification outbox: {e}");
            }
        }
        report
    }

    /// A test message is delivered by the `health_check --notify-test` that queued it, or
    /// never: one whose process is gone (killed before it could withdraw it) is withdrawn now.
    fn withdraw_orphan_test(&self, m: &PendingMessage) -> bool {
        let writer = m.id.split('-').nth(1).and_then(|pid| pid.parse::<i32>().ok());
        let orphan = m.kind == "test" && writer.is_some_and(|pid| pid != std::process::id() as i32 && !crate::proc::pid_alive(pid));
        if orphan {
            match self.outbox.cancel(&m.id, self.clock.now(), "test message of a health_check --notify-test that ended before delivering it; not retried") {
                Ok(()) => log::info!("withdrew the orphaned test message {}", m.id),
                Err(e) => log::warn!("cannot withdraw the orphaned test message {}: {e}", m.id),
            }
        }
        orphan
    }

    fn load_state(&self) -> NotifyState {
        self.state.section().unwrap_or_else(|e| {
            log::warn!("cannot read the notify state ({e}); delivering without throttle history");
            NotifyState::default()
        })
    }

    fn update_state(&self, change: impl FnOnce(&mut NotifyState)) {
        if let Err(e) = self.state.update(change) {
            log::warn!("cannot record the notify state: {e}");
        }
    }

    /// One message, one move: wait out a throttle, send the next part, or stop.
    fn step(&self, message: &PendingMessage, opts: PassOptions, waited: &mut Duration, report: &mut PassReport) -> Step {
        let now = self.clock.now();
        let state = self.load_state();
        let (sender, chat) = match self.route.ready() {
            Ok(ready) => ready,
            Err(error) => return self.config_error(&error.to_string(), now, opts, &state),
        };
        if let Some(paused) = self.paused_by_config_error(&state, now, opts) {
            return paused;
        }
        let chat_id = chat.map(|c| state.effective_chat(&c.id));
        if let Some(throttled) = chat_id.as_deref().and_then(|c| self.wait_for_throttle(&state, c, now, opts, waited)) {
            return throttled;
        }
        let parts = split_text(&message.text, PART_LIMIT);
        let Some(part_text) = parts.get(message.parts_done) else {
            // Every part was confirmed before a crash took the final mark: finish it now.
            return self.mark_sent(message, None, now, report);
        };
        let send = Sending { message, part: message.parts_done, parts: parts.len(), chat: chat_id, use_topic: false, now };
        let send = Sending { use_topic: send.chat.as_deref().is_none_or(|c| state.use_topic(c, self.route.topic, now)), ..send };
        // The gap to the next send is kept before the request goes out: a process killed
        // between the request and its `sent` record leaves the next one waiting its turn.
        if let Some(chat) = send.chat.as_deref().filter(|c| !c.is_empty()) {
            self.update_state(|s| s.record_attempt(chat, now));
        }
        let outcome = self.send_part(sender, &send, part_text, report);
        self.settle(&send, outcome, chat, opts, &state, report)
    }

    /// A configuration error paused delivery until the configuration changes (unless forced).
    fn paused_by_config_error(&self, state: &NotifyState, now: DateTime<Utc>, opts: PassOptions) -> Option<Step> {
        if opts.force {
            return None;
        }
        let b = state.blocking(&self.route.fingerprint, now)?;
        Some(Step::Stop(format!("delivery paused until {} after a configuration error: {}", b.until.format("%Y-%m-%d %H:%M:%S UTC"), b.error)))
    }

    /// Waits for the chat's next allowed send when that fits the pass's budget; stops otherwise.
    fn wait_for_throttle(&self, state: &NotifyState, chat_id: &str, now: DateTime<Utc>, opts: PassOptions, waited: &mut Duration) -> Option<Step> {
        let at = state.next_send_at(chat_id, now);
        if at <= now {
            return None;
        }
        let wait = (at - now).to_std().unwrap_or(Duration::ZERO);
        if *waited + wait > opts.max_wait {
            return Some(Step::Stop(format!("next send allowed at {} (rate limit or back-off); left queued", at.format("%Y-%m-%d %H:%M:%S UTC"))));
        }
        self.sleeper.sleep(wait);
        *waited += wait;
        Some(Step::Again)
    }

    /// Sends one part (with a note when the topic is gone) and records the attempt.
    fn send_part(&self, sender: &dyn super::sender::Sender, send: &Sending, part_text: &str, report: &mut PassReport) -> SendOutcome {
        let topic = self.route.topic;
        let text = if send.use_topic || topic == 1 {
            part_text.to_string()
        } else {
            format!("(feed topic {topic} is missing or closed; posting in General)\n{part_text}")
        };
        let out = Outgoing { chat: send.chat.as_deref().unwrap_or(""), topic: if send.use_topic { Some(topic) } else { None }, text: &text };
        let outcome = sender.send(&out);
        report.attempts.push(Attempt {
            id: send.message.id.clone(),
            kind: send.message.kind.clone(),
            part: send.part,
            parts: send.parts,
            chat: send.chat.clone(),
            topic: out.topic.filter(|t| *t != 1),
            outcome: outcome.clone(),
        });
        outcome
    }

    /// Records what the other side answered and decides whether the pass goes on.
    fn settle(&self, send: &Sending, outcome: SendOutcome, chat: Option<&ChatChoice>, opts: PassOptions, state: &NotifyState, report: &mut PassReport) -> Step {
        let (now, topic) = (send.now, self.route.topic);
        let chat_id = send.chat.clone().unwrap_or_default();
        match outcome {
            SendOutcome::Delivered { message_id, .. } => {
                self.update_state(|s| {
                    s.record_delivery(now);
                    if send.use_topic {
                        s.record_topic_ok(&chat_id, topic);
                    }
                });
                if send.part + 1 < send.parts {
                    if let Err(e) = self.outbox.mark_part(&send.message.id, send.part, now, message_id) {
                        return Step::Stop(format!("sent part {} of {} but cannot record it: {e}", send.part + 1, send.message.id));
                    }
                    return Step::PartSent;
                }
                self.mark_sent(send.message, message_id, now, report)
            }
            SendOutcome::TopicMissing { error } if send.use_topic && topic != 1 => {
                log::warn!("feed topic {topic} in chat {chat_id} is missing or closed ({error}); posting in General and warning in health_check");
                self.update_state(|s| s.record_topic_missing(&chat_id, topic, &error, now));
                Step::Again
            }
            SendOutcome::Migrated { to_chat, error } if to_chat == chat_id => {
                self.config_error(&format!("{error} (already posting to {to_chat})"), now, opts, state)
            }
            SendOutcome::Migrated { to_chat, error } => {
                log::warn!("chat {chat_id} moved to {to_chat} ({error}); posting there — set ASM_FEED_CHAT_ID={to_chat}");
                let from = chat.map(|c| c.id.clone()).unwrap_or_default();
                self.update_state(|s| s.migrated = Some(super::policy::Migrated { from, to: to_chat }));
                Step::Again
            }
            SendOutcome::RetryAfter { secs, error } => {
                log::warn!("{error}; waiting exactly {secs}s before the next send");
                self.update_state(|s| s.record_retry_after(secs, now));
                Step::Again
            }
            SendOutcome::Transient { error } => {
                log::warn!("notification not delivered yet, kept queued: {error}");
                self.update_state(|s| s.record_transient(&error, now));
                Step::Stop(error)
            }
            SendOutcome::Config { error } | SendOutcome::TopicMissing { error } => self.config_error(&error, now, opts, state),
            SendOutcome::Rejected { error } => {
                log::error!("notification {} refused for good and kept as dead in the outbox: {error}", send.message.id);
                match self.outbox.mark_dead(send.message, now, &error) {
                    Ok(()) => Step::Finished,
                    Err(e) => Step::Stop(format!("cannot record a refused message: {e}")),
                }
            }
        }
    }

    fn mark_sent(&self, message: &PendingMessage, message_id: Option<String>, now: DateTime<Utc>, report: &mut PassReport) -> Step {
        match self.outbox.mark_sent(&message.id, now, self.route.backend.name(), message_id) {
            Ok(()) => {
                log::info!("notification {} delivered via {}", message.id, self.route.backend);
                report.delivered.push(message.id.clone());
                Step::Finished
            }
            // Without the mark the next pass would send it again: stop rather than loop.
            Err(e) => Step::Stop(format!("delivered {} but cannot record it: {e}", message.id)),
        }
    }

    fn config_error(&self, error: &str, now: DateTime<Utc>, opts: PassOptions, state: &NotifyState) -> Step {
        let repeated = state.blocked.as_ref().is_some_and(|b| b.fingerprint == self.route.fingerprint && b.error == error);
        if !repeated || opts.force {
            log::error!("NOTIFICATIONS ARE NOT BEING DELIVERED — configuration error: {error}. Messages stay queued in the outbox; fix the configuration and run health_check --notify-test");
        } else {
            log::warn!("notifications still not delivered (configuration error): {error}");
        }
        self.update_state(|s| s.record_config_error(error, &self.route.fingerprint, now));
        Step::Stop(format!("configuration error: {error}"))
    }
}
