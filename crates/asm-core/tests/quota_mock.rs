//! The quota watch against a loopback mock of MiniMax's endpoints: every answer shape the
//! reference notes list, the region and legacy-path fallbacks, and the pause/resume cycle
//! with its hooks and notifications.

use asm_core::clock::{Clock, ManualClock};
use asm_core::config::{MinimaxRegion, Secret};
use asm_core::env::Env;
use asm_core::notify::Event;
use asm_core::quota::minimax::{hosts_for, Client, KeyInfo};
use asm_core::quota::pause::QuotaState;
use asm_core::quota::reading::{CountMeaning, Endpoint, ReadError, WindowStatus};
use asm_core::quota::{self, QuotaReport};
use asm_core::Runtime;
use asm_testkit::{MockServer, Request, Response, TempDir};
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

const KEY: &str = "sk-cp-TESTKEY0123456789abcdef";

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().with_timezone(&Utc)
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn key(value: &str) -> KeyInfo {
    KeyInfo { key: Secret::new(value, "test"), china_hint: false }
}

fn remains_row(extra: Value) -> Value {
    let mut row = json!({"model_name": "general", "start_time": ms(now() - Duration::hours(1)), "end_time": ms(now() + Duration::hours(4)),
        "remains_time": 4 * 3600 * 1000});
    if let (Some(row), Some(extra)) = (row.as_object_mut(), extra.as_object()) {
        row.extend(extra.clone());
    }
    row
}

fn remains(extra: Value) -> Value {
    json!({"model_remains": [remains_row(extra)], "base_resp": {"status_code": 0, "status_msg": "success"}})
}

/// A mock answering `answer` on every path, and a client pointed at it.
fn serve(answer: impl Fn(&Request) -> Response + Send + Sync + 'static) -> (MockServer, Client) {
    let server = MockServer::start(answer);
    let client = Client::new(key(KEY), vec![server.url()]);
    (server, client)
}

fn json_on(path: &'static str, body: Value) -> impl Fn(&Request) -> Response + Send + Sync + 'static {
    move |r: &Request| if r.path == path { Response::json(200, &body) } else { Response::text(404, "404 page not found") }
}

#[test]
fn legacy_remaining_counts_with_bearer_key() {
    let (server, client) =
        serve(json_on("/v1/token_plan/remains", remains(json!({"current_interval_total_count": 1500, "current_interval_usage_count": 1473}))));
    let r = client.read(now()).unwrap();
    let w = r.five_hour.clone().unwrap();
    assert_eq!((w.remaining, w.total, w.count_meaning), (Some(1473), Some(1500), CountMeaning::Remaining));
    assert_eq!(r.resets_at(), Some(now() + Duration::hours(4)));
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].method, "GET");
    assert_eq!(reqs[0].header("Authorization"), Some(format!("Bearer {KEY}").as_str()));
}

#[test]
fn newer_consumed_counts_with_percent() {
    let (_s, client) = serve(json_on(
        "/v1/token_plan/remains",
        remains(json!({"current_interval_total_count": 1500, "current_interval_usage_count": 151, "current_interval_remaining_percent": 90})),
    ));
    let w = client.read(now()).unwrap().five_hour.unwrap();
    assert_eq!((w.remaining, w.count_meaning), (Some(1349), CountMeaning::Consumed));
}

#[test]
fn percent_only_with_zero_totals() {
    let (_s, client) = serve(json_on(
        "/v1/token_plan/remains",
        json!({"data": {"model_remains": [remains_row(json!({"current_interval_total_count": 0, "current_interval_usage_count": 0,
            "current_interval_remaining_percent": 42, "current_interval_status": 1}))], "base_resp": {"status_code": 0}}}),
    ));
    let r = client.read(now()).unwrap();
    assert_eq!(r.remaining_calls(), None);
    assert_eq!(r.remaining_percent(), Some(42.0));
    assert!(!r.is_unlimited());
}

#[test]
fn status_three_is_unlimited() {
    let (_s, client) = serve(json_on(
        "/v1/token_plan/remains",
        remains(json!({"current_interval_total_count": 4500, "current_interval_usage_count": 4500, "current_interval_status": 3})),
    ));
    let r = client.read(now()).unwrap();
    assert!(r.is_unlimited());
    assert_eq!(r.five_hour.unwrap().status, WindowStatus::Unlimited);
}

#[test]
fn exhausted_window() {
    let (_s, client) = serve(json_on(
        "/v1/token_plan/remains",
        remains(
            json!({"current_interval_total_count": 1500, "current_interval_usage_count": 0, "current_interval_remaining_percent": 0, "current_interval_status": 2}),
        ),
    ));
    let r = client.read(now()).unwrap();
    assert_eq!(r.remaining_calls(), Some(0));
    assert!(r.five_hour.unwrap().is_exhausted());
}

#[test]
fn weekly_limit_is_the_tight_one() {
    let weekly_end = now() + Duration::days(3);
    let (_s, client) = serve(json_on(
        "/v1/token_plan/remains",
        remains(json!({"current_interval_total_count": 1500, "current_interval_usage_count": 1400,
            "current_weekly_total_count": 15000, "current_weekly_usage_count": 40, "current_weekly_status": 1,
            "weekly_start_time": ms(now() - Duration::days(4)), "weekly_end_time": ms(weekly_end), "weekly_remains_time": 3 * 86_400_000i64})),
    ));
    let r = client.read(now()).unwrap();
    assert_eq!(r.remaining_calls(), Some(40));
    assert_eq!(r.resets_at(), Some(weekly_end));
    let low = quota::pause::assess(&r, asm_core::config::QuotaThreshold::Count(100));
    assert!(low.below && low.reason.contains("weekly"), "{}", low.reason);
}

#[test]
fn html_from_the_wrong_host_is_not_quota_zero() {
    let (_s, client) = serve(|_| Response::html(403, "<!DOCTYPE html><html><head><title>Attention Required! | Cloudflare</title></head></html>"));
    let err = client.read(now()).unwrap_err();
    assert!(matches!(err, ReadError::WrongHost { status: 403, .. }), "{err:?}");
    assert!(err.to_string().contains("wrong host"));
}

#[test]
fn unauthorized_key() {
    let (_s, client) = serve(|_| Response::json(401, &json!({"error": "unauthorized"})));
    let err = client.read(now()).unwrap_err();
    assert!(matches!(err, ReadError::Unauthorized { status: 401, .. }));
    assert!(err.to_string().contains("rejected the API key"));
}

#[test]
fn no_active_plan_2062() {
    let (_s, client) = serve(|_| Response::json(200, &json!({"base_resp": {"status_code": 2062, "status_msg": "no active token plan"}})));
    let err = client.read(now()).unwrap_err();
    assert!(matches!(err, ReadError::Api { code: 2062, .. }));
    assert!(err.to_string().contains("no active Token Plan"), "{err}");
}

#[test]
fn legacy_path_only_after_404_or_non_remains_body() {
    let (server, client) = serve(json_on(
        "/v1/api/openplatform/coding_plan/remains",
        json!({"model_remains": [{"model_name": "MiniMax-M2", "current_interval_total_count": 100, "current_interval_usage_count": 80}], "base_resp": {"status_code": 0}}),
    ));
    let r = client.read(now()).unwrap();
    assert_eq!((r.endpoint, r.remaining_calls()), (Endpoint::CodingPlan, Some(80)));
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, vec!["/v1/token_plan/remains", "/v1/api/openplatform/coding_plan/remains"]);

    let (server, client) = serve(|r| match r.path.as_str() {
        "/v1/token_plan/remains" => Response::json(200, &json!({"hello": "world"})),
        _ => Response::json(200, &remains(json!({"current_interval_total_count": 100, "current_interval_usage_count": 5}))),
    });
    assert_eq!(client.read(now()).unwrap().remaining_calls(), Some(5));
    assert_eq!(server.requests().len(), 2);

    // A dead key is not a hint to try the other path.
    let (server, client) = serve(|_| Response::json(401, &json!({})));
    assert!(client.read(now()).is_err());
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn china_key_refused_globally_is_read_in_china() {
    let global = MockServer::start(|_| Response::json(200, &json!({"base_resp": {"status_code": 1004, "status_msg": "token not match group"}})));
    let china = MockServer::start(|_| Response::json(200, &remains(json!({"current_interval_total_count": 1500, "current_interval_usage_count": 900}))));
    let client = Client::new(key(KEY), vec![global.url(), china.url()]);
    let r = client.read(now()).unwrap();
    assert_eq!(r.host, china.url());
    assert_eq!(r.remaining_calls(), Some(900));
    assert_eq!(global.requests().len(), 1);
    // Both refuse: the global host's error is the one reported.
    let china_refuses = MockServer::start(|_| Response::json(401, &json!({})));
    let err = Client::new(key(KEY), vec![global.url(), china_refuses.url()]).read(now()).unwrap_err();
    assert!(matches!(err, ReadError::Api { code: 1004, .. }));
    // With the region pinned only one host is asked.
    assert_eq!(hosts_for(None, MinimaxRegion::Global, &key(KEY)).len(), 1);
}

#[test]
fn pay_as_you_go_key_reads_the_balance() {
    let server = MockServer::start(|r| {
        if r.path == "/account/query_balance" {
            Response::json(200, &json!({"data": {"cash_balance": 4.2, "voucher_balance": 0}, "base_resp": {"status_code": 0}}))
        } else {
            Response::text(404, "no")
        }
    });
    let r = Client::new(key("sk-api-PAYGO0123456789abcdef"), vec![server.url()]).read(now()).unwrap();
    assert_eq!(r.endpoint, Endpoint::Balance);
    assert_eq!(r.balance.unwrap().available, 4.2);
    assert_eq!(server.requests().len(), 1);
}

// ---- the edge: state, hooks, notifications ----

struct Rig {
    dir: TempDir,
    rt: Runtime,
    clock: ManualClock,
}

impl Rig {
    fn new(server: &MockServer, extra: &[(&str, String)]) -> Rig {
        let dir = TempDir::new("quota");
        let state = dir.join("state");
        std::fs::create_dir_all(&state).unwrap();
        let log = dir.join("openclaw.log");
        std::fs::write(state.join("openclaw.json"), format!("{{ logging: {{ file: '{}' }}, }}", log.display())).unwrap();
        let hooks = dir.join("hooks.txt");
        let mut pairs: Vec<(String, String)> = vec![
            ("HOME".into(), dir.path().display().to_string()),
            ("OPENCLAW_STATE_DIR".into(), state.display().to_string()),
            ("ASM_MINIMAX_API_KEY".into(), KEY.into()),
            ("ASM_MINIMAX_BASE_URL".into(), server.url()),
            ("ASM_PAUSE_CMD".into(), json!(["sh", "-c", format!("echo \"pause $ASM_QUOTA_RESUME_AT\" >> {}", hooks.display())]).to_string()),
            ("ASM_RESUME_CMD".into(), json!(["sh", "-c", format!("echo resume >> {}", hooks.display())]).to_string()),
        ];
        pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
        let rt = Runtime::from_env(Env::from_pairs(pairs)).unwrap();
        Rig { dir, rt, clock: ManualClock::new(now()) }
    }

    fn check(&self, force: bool) -> (QuotaReport, Vec<Event>) {
        let mut events = Vec::new();
        let report = quota::check_with(&self.rt, &self.clock, force, &mut |e| events.push(e.clone())).unwrap();
        (report, events)
    }

    fn hooks(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("hooks.txt")).unwrap_or_default().lines().map(str::to_string).collect()
    }

    fn state(&self) -> QuotaState {
        self.rt.state().section().unwrap()
    }
}

/// A plan whose remaining count the test sets; resets 5 hours after the start.
fn adjustable_plan() -> (MockServer, Arc<AtomicI64>) {
    let remaining = Arc::new(AtomicI64::new(1000));
    let r2 = remaining.clone();
    let server = MockServer::start(move |_| {
        Response::json(
            200,
            &remains(json!({"current_interval_total_count": 1500, "current_interval_usage_count": r2.load(Ordering::SeqCst),
            "end_time": ms(now() + Duration::hours(5))})),
        )
    });
    (server, remaining)
}

#[test]
fn pause_resume_cycle_with_hysteresis_hooks_and_notifications() {
    let (server, remaining) = adjustable_plan();
    let rig = Rig::new(&server, &[]);
    let reset = now() + Duration::hours(5);

    let (report, events) = rig.check(false);
    assert_eq!((report.read, report.remaining, report.paused), ("read", Some(1000), false));
    assert!(events.is_empty());
    assert!(!quota::work_paused_at(&rig.rt, &rig.clock));

    // Within the poll interval nothing is asked, even though the quota dropped.
    remaining.store(40, Ordering::SeqCst);
    rig.clock.advance_secs(299);
    let (report, _) = rig.check(false);
    assert_eq!(report.read, "skipped");
    assert_eq!(server.requests().len(), 1);

    rig.clock.advance_secs(1);
    let (report, events) = rig.check(false);
    assert!(report.paused);
    assert_eq!(report.resume_at, Some(reset));
    assert_eq!(
        events,
        vec![
            Event::QuotaLow { remaining: Some(40), percent: report.remaining_percent, resets_at: Some(reset) },
            Event::WorkPaused { reason: "MiniMax 5-hour quota at 40 calls (below 100)".into(), resume_at: Some(reset) },
        ]
    );
    assert!(events[0].text().contains("40 calls left"), "{}", events[0].text());
    assert_eq!(rig.hooks(), vec!["pause 2026-01-01 05:00 UTC"]);
    assert!(quota::work_paused_at(&rig.rt, &rig.clock));
    let state = rig.state();
    assert!(state.paused && state.reading.is_some());

    // Above the threshold but under the hysteresis level (150): still paused, nothing sent.
    remaining.store(120, Ordering::SeqCst);
    let (report, events) = rig.check(true);
    assert!(report.paused && events.is_empty());
    assert_eq!(rig.hooks().len(), 1);

    remaining.store(200, Ordering::SeqCst);
    let (report, events) = rig.check(true);
    assert!(!report.paused);
    assert_eq!(events, vec![Event::WorkResumed { remaining: Some(200) }]);
    assert_eq!(rig.hooks(), vec!["pause 2026-01-01 05:00 UTC", "resume"]);
    assert!(!quota::work_paused_at(&rig.rt, &rig.clock));
}

#[test]
fn window_reset_resumes_when_the_read_fails() {
    let answer_ok = Arc::new(AtomicI64::new(1));
    let flag = answer_ok.clone();
    let server = MockServer::start(move |_| {
        if flag.load(Ordering::SeqCst) == 1 {
            Response::json(
                200,
                &remains(json!({"current_interval_total_count": 1500, "current_interval_usage_count": 0, "current_interval_status": 2,
                "end_time": ms(now() + Duration::hours(5)), "remains_time": 5 * 3600 * 1000})),
            )
        } else {
            Response::text(503, "upstream down")
        }
    });
    let rig = Rig::new(&server, &[("ASM_MINIMAX_QUOTA_THRESHOLD", "10%".into())]);
    let (report, events) = rig.check(false);
    assert!(report.paused, "{report:?}");
    assert_eq!(events.len(), 2);
    answer_ok.store(0, Ordering::SeqCst);
    rig.clock.advance(Duration::hours(4));
    let (report, events) = rig.check(false);
    assert_eq!(report.read, "failed");
    assert!(report.paused && events.is_empty(), "a failed read changes nothing");
    rig.clock.advance(Duration::hours(1));
    let (report, events) = rig.check(false);
    assert!(!report.paused);
    assert_eq!(events, vec![Event::WorkResumed { remaining: None }]);
    assert_eq!(rig.hooks().last().map(String::as_str), Some("resume"));
}

#[test]
fn rate_limited_read_backs_off_and_never_pauses() {
    let (good, _) = adjustable_plan();
    let server =
        MockServer::start(|_| Response::json(429, &json!({"base_resp": {"status_code": 1002, "status_msg": "rate limit"}})).with_header("Retry-After", "1200"));
    let rig = Rig::new(&server, &[]);
    let (report, events) = rig.check(false);
    assert_eq!(report.read, "failed");
    assert!(report.error.as_deref().unwrap().contains("rate-limiting"), "{:?}", report.error);
    assert!(!report.paused && events.is_empty());
    assert!(report.has_problem());
    let state = rig.state();
    assert_eq!((state.consecutive_failures, state.backoff_secs), (1, 1200));
    rig.clock.advance_secs(600);
    assert_eq!(rig.check(false).0.read, "skipped");
    assert_eq!(server.requests().len(), 1);
    rig.clock.advance_secs(600);
    assert_eq!(rig.check(false).0.read, "failed");
    assert_eq!(rig.state().backoff_secs, 1200);
    drop(good);
}

#[test]
fn failed_read_keeps_the_last_good_reading() {
    let ok = Arc::new(AtomicI64::new(1));
    let flag = ok.clone();
    let server = MockServer::start(move |_| {
        if flag.load(Ordering::SeqCst) == 1 {
            Response::json(200, &remains(json!({"current_interval_total_count": 1500, "current_interval_usage_count": 700})))
        } else {
            Response::html(403, "<html>blocked</html>")
        }
    });
    let rig = Rig::new(&server, &[]);
    rig.check(false);
    ok.store(0, Ordering::SeqCst);
    rig.clock.advance_secs(600);
    let (report, _) = rig.check(false);
    assert_eq!(report.read, "failed");
    assert_eq!(report.remaining, Some(700));
    assert_eq!(report.reading_age_secs, Some(600));
    assert!(!report.paused);
    let view = quota::health_view(&rig.rt, rig.clock.now());
    assert_eq!((view.remaining, view.reading_age_secs), (Some(700), Some(600)));
    assert_eq!(view.error.as_deref(), report.error.as_deref());
}

#[test]
fn openclaw_log_2056_notice_pauses_until_its_reset() {
    let (server, _) = adjustable_plan();
    let rig = Rig::new(&server, &[]);
    let line = json!({"time": "2026-01-01T00:00:00Z", "level": "error",
        "msg": "provider error: usage limit exceeded, 5-hour usage limit reached for Token Plan Starter (0/0 used), resets at 2026-01-01T02:00:00Z (2056)"});
    std::fs::write(rig.dir.join("openclaw.log"), format!("{{\"time\":\"2026-01-01T00:00:00Z\",\"msg\":\"hello\"}}\n{line}\n")).unwrap();
    let (report, events) = rig.check(false);
    let reset = DateTime::parse_from_rfc3339("2026-01-01T02:00:00Z").unwrap().with_timezone(&Utc);
    assert!(report.paused, "{report:?}");
    assert_eq!(report.resume_at, Some(reset));
    assert!(report.reason.unwrap().contains("2056"));
    assert!(matches!(&events[..], [Event::QuotaLow { .. }, Event::WorkPaused { .. }]));
    rig.clock.set(reset);
    let (report, events) = rig.check(false);
    assert!(!report.paused);
    assert_eq!(events.len(), 1);
    // The same notice does not pause again.
    rig.clock.set(reset - Duration::minutes(1));
    assert!(!rig.check(true).0.paused);
}

#[test]
fn api_2056_answer_pauses() {
    let server = MockServer::start(|_| {
        Response::json(
            429,
            &json!({"type": "error", "error": {"type": "rate_limit_error",
            "message": "usage limit exceeded, 5-hour usage limit reached for Token Plan Starter (0/0 used), resets at 2026-01-01T03:00:00Z (2056)"}}),
        )
    });
    let rig = Rig::new(&server, &[]);
    let (report, _) = rig.check(false);
    assert!(report.paused);
    assert_eq!(report.resume_at, Some(now() + Duration::hours(3)));
    assert_eq!(rig.state().consecutive_failures, 0);
}

#[test]
fn no_key_means_the_watch_is_off() {
    let dir = TempDir::new("quota-off");
    let rt = Runtime::from_env(Env::from_pairs([("HOME", dir.path().display().to_string()), ("OPENCLAW_STATE_DIR", dir.join("state").display().to_string())]))
        .unwrap();
    let report = quota::check_with(&rt, &ManualClock::new(now()), true, &mut |_| panic!("no events")).unwrap();
    assert!(!report.watch && report.read == "off" && !report.has_problem());
    assert!(report.render().contains("off"));
    assert!(!quota::work_paused(&rt));
    assert!(!quota::health_view(&rt, now()).watch);
}

#[test]
fn key_from_openclaw_provider_config() {
    let server = MockServer::start(|_| Response::json(200, &remains(json!({"current_interval_total_count": 10, "current_interval_usage_count": 9}))));
    let dir = TempDir::new("quota-oc");
    let state = dir.join("state");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(
        state.join("openclaw.json"),
        format!(
            "// JSON5\n{{ logging: {{ file: '{}' }}, models: {{ providers: {{ 'minimax-portal': {{ baseUrl: 'https://api.minimaxi.com/anthropic', apiKey: '${{MM_KEY}}', }}, }}, }}, }}",
            dir.join("none.log").display()
        ),
    )
    .unwrap();
    let rt = Runtime::from_env(Env::from_pairs([
        ("HOME", dir.path().display().to_string()),
        ("OPENCLAW_STATE_DIR", state.display().to_string()),
        ("MM_KEY", "sk-cp-FROMOPENCLAW0123456789".into()),
        ("ASM_MINIMAX_BASE_URL", server.url()),
    ]))
    .unwrap();
    let found = quota::minimax::find_key_in(
        &rt,
        Some(&json!({"models": {"providers": {"minimax": {"baseUrl": "https://api.minimaxi.com/anthropic", "apiKey": "sk-cp-x1234567"}}}})),
    )
    .unwrap();
    assert!(found.china_hint);
    let report = quota::check_with(&rt, &ManualClock::new(now()), false, &mut |_| {}).unwrap();
    assert!(report.watch);
    assert!(report.key_source.unwrap().contains("openclaw.json"));
    assert_eq!(server.requests()[0].header("Authorization"), Some("Bearer sk-cp-FROMOPENCLAW0123456789"));
}
