//! Feed notifications: the events ASM reports, their texts, and delivery to the Telegram
//! feed topic.

pub mod event;

pub use event::Event;

use crate::Runtime;

/// Sends events to the feed topic through the configured backend.
pub struct Notifier<'a> {
    rt: &'a Runtime,
}

impl<'a> Notifier<'a> {
    pub fn new(rt: &'a Runtime) -> Self {
        Notifier { rt }
    }

    /// Reports one event. Delivery failures never fail the caller's own work.
    pub fn emit(&self, event: &Event) {
        log::info!("event {} for topic {}: {}", event.kind(), self.rt.config.feed_topic, event.text());
    }
}
