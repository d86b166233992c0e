//! The SessionEntry: OpenClaw's per-session row, the same JSON in both stores (a value of
//! `sessions.json` up to 2026.7.x, `session_nodes.entry_json` from 2026.8.1). Only the fields
//! ASM reads are kept; every field is optional and read leniently, so one field of an
//! unexpected type costs that field, never the row.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// The fields of a SessionEntry that ASM uses (see README.md for their meaning).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SessionEntry {
    #[serde(deserialize_with = "text")]
    pub session_id: Option<String>,
    #[serde(deserialize_with = "count")]
    pub updated_at: Option<u64>,
    #[serde(deserialize_with = "count")]
    pub session_started_at: Option<u64>,
    #[serde(deserialize_with = "count")]
    pub last_interaction_at: Option<u64>,
    #[serde(deserialize_with = "count")]
    pub last_activity_at: Option<u64>,
    #[serde(deserialize_with = "count")]
    pub ended_at: Option<u64>,
    #[serde(deserialize_with = "text")]
    pub status: Option<String>,
    /// Context used: prompt tokens of the last model call (input + cacheRead + cacheWrite).
    #[serde(deserialize_with = "count")]
    pub total_tokens: Option<u64>,
    /// `false` means `totalTokens` is stale (e.g. right after a compaction).
    #[serde(deserialize_with = "flag")]
    pub total_tokens_fresh: Option<bool>,
    /// The context window (effective token budget) of the model that produced the row.
    #[serde(deserialize_with = "count")]
    pub context_tokens: Option<u64>,
    #[serde(deserialize_with = "budget")]
    pub context_budget_status: Option<ContextBudgetStatus>,
    #[serde(deserialize_with = "text")]
    pub model: Option<String>,
    #[serde(deserialize_with = "text")]
    pub model_provider: Option<String>,
    #[serde(deserialize_with = "text")]
    pub model_override: Option<String>,
    #[serde(deserialize_with = "text")]
    pub provider_override: Option<String>,
    #[serde(deserialize_with = "count")]
    pub compaction_count: Option<u64>,
    #[serde(deserialize_with = "text")]
    pub label: Option<String>,
    #[serde(deserialize_with = "text")]
    pub display_name: Option<String>,
    #[serde(deserialize_with = "text")]
    pub subject: Option<String>,
    #[serde(deserialize_with = "text")]
    pub chat_type: Option<String>,
    #[serde(deserialize_with = "text")]
    pub channel: Option<String>,
    /// The key of the session whose run spawned this one (a subagent).
    #[serde(deserialize_with = "text")]
    pub spawned_by: Option<String>,
    /// Absolute path of the transcript (file store only).
    #[serde(deserialize_with = "text")]
    pub session_file: Option<String>,
    /// The workspace the session's files are diffed against (`root`), when recorded.
    #[serde(deserialize_with = "workspace_root")]
    pub session_diff_baseline: Option<String>,
    /// The workspace the last run's system prompt was built in (`workspaceDir`).
    #[serde(deserialize_with = "workspace_dir")]
    pub system_prompt_report: Option<String>,
}

/// `contextBudgetStatus`: OpenClaw's pre-prompt estimate of the last run.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ContextBudgetStatus {
    #[serde(deserialize_with = "count")]
    pub estimated_prompt_tokens: Option<u64>,
    #[serde(deserialize_with = "count")]
    pub context_token_budget: Option<u64>,
    #[serde(deserialize_with = "count")]
    pub effective_reserve_tokens: Option<u64>,
    #[serde(deserialize_with = "count")]
    pub reserve_tokens: Option<u64>,
    #[serde(deserialize_with = "text")]
    pub session_id: Option<String>,
}

impl SessionEntry {
    /// Parses one entry, which must be a JSON object; the error says what was wrong.
    pub fn parse(json: &str) -> Result<SessionEntry, serde_json::Error> {
        if !json.trim_start().starts_with('{') {
            // serde would also accept an array as a struct; an entry is only ever an object.
            return Err(serde::de::Error::custom("expected a JSON object"));
        }
        serde_json::from_str(json)
    }

    /// The agent's workspace, as the last run or the diff baseline recorded it.
    pub fn workspace(&self) -> Option<&str> {
        self.system_prompt_report.as_deref().or(self.session_diff_baseline.as_deref())
    }

    /// The model as OpenClaw ran it last, else the one the user pinned.
    pub fn model_name(&self) -> Option<&str> {
        self.model.as_deref().or(self.model_override.as_deref())
    }

    /// Last real activity: user input, a completed run or its end; the row's own
    /// `updatedAt` (bumped by any mutation) only when none of those is recorded.
    pub fn last_activity(&self) -> Option<DateTime<Utc>> {
        let activity = [self.last_interaction_at, self.last_activity_at, self.ended_at].into_iter().flatten().max();
        activity.or(self.updated_at).or(self.session_started_at).and_then(millis_to_time)
    }

    /// The pre-prompt estimate, when it was made for this very session id.
    pub fn budget_for_current_session(&self) -> Option<&ContextBudgetStatus> {
        let budget = self.context_budget_status.as_ref()?;
        match (&budget.session_id, &self.session_id) {
            (Some(theirs), Some(ours)) if theirs != ours => None,
            _ => Some(budget),
        }
    }
}

/// Epoch milliseconds to a time; None outside chrono's range.
pub fn millis_to_time(ms: u64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(i64::try_from(ms).ok()?)
}

/// A non-negative whole number; floats are rounded, anything else (negative, string, NaN) is absent.
fn count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().filter(|f| f.is_finite() && *f >= 0.0 && *f < u64::MAX as f64).map(|f| f.round() as u64)),
        _ => None,
    })
}

/// A non-empty string; any other JSON type is absent.
fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) if !s.trim().is_empty() => Some(s),
        _ => None,
    })
}

fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(Value::deserialize(d)?.as_bool())
}

fn budget<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ContextBudgetStatus>, D::Error> {
    let value = Value::deserialize(d)?;
    Ok(value.is_object().then(|| serde_json::from_value(value).ok()).flatten())
}

fn workspace_root<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    string_member(d, "root")
}

fn workspace_dir<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    string_member(d, "workspaceDir")
}

/// One string member of an object, reading past the rest of it without keeping it (the
/// prompt report is large).
fn string_member<'de, D: Deserializer<'de>>(d: D, name: &'static str) -> Result<Option<String>, D::Error> {
    struct Member(&'static str);
    impl<'de> serde::de::Visitor<'de> for Member {
        type Value = Option<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            write!(f, "an object with a string {}", self.0)
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut found = None;
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if key == self.0 {
                    found = map.next_value::<Value>()?.as_str().filter(|s| !s.is_empty()).map(str::to_string);
                } else {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
            Ok(found)
        }
        fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            Ok(None)
        }
    }
    d.deserialize_any(Member(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_fields_and_skips_the_rest() {
        let e = SessionEntry::parse(
            r#"{"sessionId":"s1","totalTokens":12993,"totalTokensFresh":true,"contextTokens":32000,"skillsSnapshot":{"big":[1,2,3]},
                "contextBudgetStatus":{"estimatedPromptTokens":16198,"effectiveReserveTokens":8000,"sessionId":"s1"},
                "sessionDiffBaseline":{"root":"/w"},"subject":"Forum","lastInteractionAt":1795481741751,
                "systemPromptReport":{"systemPrompt":"long","workspaceDir":"/ws","tools":[{"a":1}]}}"#,
        )
        .unwrap();
        assert_eq!(e.session_id.as_deref(), Some("s1"));
        assert_eq!(e.total_tokens, Some(12993));
        assert_eq!(e.total_tokens_fresh, Some(true));
        assert_eq!(e.context_tokens, Some(32000));
        assert_eq!(e.budget_for_current_session().and_then(|b| b.estimated_prompt_tokens), Some(16198));
        assert_eq!(e.session_diff_baseline.as_deref(), Some("/w"));
        assert_eq!(e.workspace(), Some("/ws"));
        assert_eq!(e.last_activity().map(|t| t.timestamp_millis()), Some(1795481741751));
    }

    #[test]
    fn a_field_of_the_wrong_type_costs_only_that_field() {
        let e = SessionEntry::parse(r#"{"sessionId":7,"totalTokens":"lots","contextTokens":-5,"totalTokensFresh":"no","model":"m","contextBudgetStatus":3}"#)
            .unwrap();
        assert_eq!(e.session_id, None);
        assert_eq!(e.total_tokens, None);
        assert_eq!(e.context_tokens, None);
        assert_eq!(e.total_tokens_fresh, None);
        assert_eq!(e.context_budget_status, None);
        let odd = SessionEntry::parse(r#"{"systemPromptReport":"<omitted: large>","sessionDiffBaseline":[1,{"root":"/x"}]}"#).unwrap();
        assert_eq!(odd.workspace(), None);
        assert_eq!(e.model.as_deref(), Some("m"));
        assert_eq!(SessionEntry::parse(r#"{"totalTokens":1.6e3}"#).unwrap().total_tokens, Some(1600));
    }

    #[test]
    fn an_estimate_for_another_session_id_is_not_used() {
        let e = SessionEntry::parse(r#"{"sessionId":"new","contextBudgetStatus":{"estimatedPromptTokens":5,"sessionId":"old"}}"#).unwrap();
        assert!(e.budget_for_current_session().is_none());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(SessionEntry::parse("{\"sessionId\":").is_err());
        assert!(SessionEntry::parse("[1,2]").is_err());
        assert!(SessionEntry::parse("").is_err());
    }
}
