//! Times for people: local time (the machine's zone, named), and spans and ages relative to
//! now ("12m ago", "in 3h05m"). JSON keeps RFC 3339 UTC; only text for people comes here.

use chrono::{DateTime, Local, Utc};

/// `2026-12-01 17:04 CET` in the machine's time zone (the offset when the zone has no name).
pub fn local(at: DateTime<Utc>) -> String {
    at.with_timezone(&Local).format("%Y-%m-%d %H:%M %Z").to_string()
}

/// `2026-12-01 17:04` in the machine's time zone, for columns whose header names the zone.
pub fn local_short(at: DateTime<Utc>) -> String {
    at.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string()
}

/// The machine's time zone as people read it (`CET`, or an offset such as `+01:00`).
pub fn zone() -> String {
    Local::now().format("%Z").to_string()
}

/// A length of time in at most two units: `45s`, `12m`, `3h05m`, `2d04h`.
pub fn span(secs: i64) -> String {
    let s = secs.unsigned_abs();
    match s {
        s if s < 120 => format!("{s}s"),
        s if s < 7_200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h{:02}m", s / 3_600, (s % 3_600) / 60),
        s => format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3_600),
    }
}

/// `12m ago`, `in 3h05m`, or `just now`.
pub fn relative(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - at).num_seconds();
    match secs {
        -1..=1 => "just now".into(),
        s if s > 0 => format!("{} ago", span(s)),
        s => format!("in {}", span(s)),
    }
}

/// `2026-12-01 17:04 CET (12m ago)`.
pub fn local_with_age(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    format!("{} ({})", local(at), relative(at, now))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn spans_use_two_units_at_most() {
        assert_eq!([span(45), span(720), span(11_100), span(190_000)], ["45s", "12m", "3h05m", "2d04h"]);
    }

    #[test]
    fn ages_say_which_way() {
        let now = Utc::now();
        assert_eq!(relative(now - Duration::minutes(12), now), "12m ago");
        assert_eq!(relative(now + Duration::minutes(185), now), "in 3h05m");
        assert_eq!(relative(now, now), "just now");
        assert!(local_with_age(now - Duration::seconds(30), now).ends_with("(30s ago)"));
        assert!(!local(now).contains('T'), "no RFC 3339 for people");
    }
}
