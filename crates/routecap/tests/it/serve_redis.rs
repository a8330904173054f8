//! `serve` over Redis: the same answers as over memory, config changes seen
//! by every process of the namespace, 503 (never 500) when the server is gone.

use std::time::Duration;

use routecap::serve::ServeOptions;
use serde_json::{json, Value};

use super::serve_support::*;

/// Requests of a whole call flow, answered in order.
fn flow() -> Vec<(&'static str, String, Option<Value>)> {
    let at = |m: u32| format!("2026-11-23T15:{m:02}:00Z");
    vec![
        ("GET", format!("/v1/check?at={}", at(0)), None),
        (
            "POST",
            "/v1/route".into(),
            Some(json!({"call": "c1", "at": at(0), "seed": 11})),
        ),
        (
            "POST",
            "/v1/route".into(),
            Some(json!({"call": "c1", "at": at(0), "seed": 12, "tags": {"geo": "us-nc"}})),
        ),
        (
            "POST",
            "/v1/connect".into(),
            Some(json!({"call": "c1", "target": "a", "at": at(1)})),
        ),
        (
            "POST",
            "/v1/connect".into(),
            Some(json!({"call": "c2", "target": "a", "at": at(2)})),
        ),
        (
            "POST",
            "/v1/connect".into(),
            Some(json!({"call": "c2", "target": "b", "at": at(2), "tags": {"geo": "us-sc"}})),
        ),
        (
            "POST",
            "/v1/connect".into(),
            Some(json!({"call": "c2", "target": "b", "at": at(2), "tags": {"geo": "us-nc"}})),
        ),
        (
            "POST",
            "/v1/connect".into(),
            Some(json!({"call": "c1", "target": "a", "at": at(3)})),
        ),
        (
            "POST",
            "/v1/reserve".into(),
            Some(json!({"call": "r1", "target": "c", "ttl": 120, "at": at(3)})),
        ),
        (
            "POST",
            "/v1/convert".into(),
            Some(json!({"call": "c1", "revenue": "7.25", "at": at(4)})),
        ),
        (
            "POST",
            "/v1/touch".into(),
            Some(json!({"call": "c1", "at": at(5)})),
        ),
        (
            "POST",
            "/v1/end".into(),
            Some(json!({"call": "c1", "at": at(6)})),
        ),
        (
            "POST",
            "/v1/end".into(),
            Some(json!({"call": "c1", "at": at(7)})),
        ),
        (
            "POST",
            "/v1/end".into(),
            Some(json!({"call": "nope", "at": at(7)})),
        ),
        (
            "POST",
            "/v1/cancel".into(),
            Some(json!({"call": "r1", "at": at(8)})),
        ),
        (
            "POST",
            "/v1/route".into(),
            Some(json!({"call": "c3", "at": at(9), "seed": 5})),
        ),
        ("GET", format!("/v1/usage?at={}", at(9)), None),
        (
            "GET",
            format!("/v1/check?at={}&tag=geo%3Dus-nc", at(9)),
            None,
        ),
        (
            "PATCH",
            "/v1/targets/a".into(),
            Some(json!({"paused": true})),
        ),
        ("GET", format!("/v1/check?at={}", at(10)), None),
        (
            "POST",
            "/v1/connect".into(),
            Some(json!({"call": "c4", "target": "a", "at": at(10)})),
        ),
        (
            "PUT",
            "/v1/config".into(),
            Some(serde_json::from_str::<Value>(CONFIG).unwrap()),
        ),
        (
            "POST",
            "/v1/connect".into(),
            Some(json!({"call": "c4", "target": "a", "at": at(11)})),
        ),
        ("GET", format!("/v1/usage?at={}", at(12)), None),
    ]
}

#[test]
fn redis_answers_equal_memory_answers_for_a_whole_flow() {
    let Some(url) = redis_url("serve_redis::equal") else {
        return;
    };
    let mem = TestServer::memory(CONFIG);
    let red = TestServer::redis(CONFIG, &url, &namespace(), ServeOptions::default());
    let agent = agent();
    for (method, path, body) in flow() {
        let body = body.map(|b| b.to_string());
        let (sm, tm) = send(
            &agent,
            method,
            &format!("{}{path}", mem.base),
            body.as_deref(),
        );
        let (sr, tr) = send(
            &agent,
            method,
            &format!("{}{path}", red.base),
            body.as_deref(),
        );
        assert_eq!(
            (sr, parse(&tr)),
            (sm, parse(&tm)),
            "{method} {path} {body:?}"
        );
    }
}

#[test]
fn a_config_change_through_one_process_is_seen_by_the_others() {
    let Some(url) = redis_url("serve_redis::config_change") else {
        return;
    };
    let ns = namespace();
    let one = TestServer::redis(CONFIG, &url, &ns, ServeOptions::default());
    let two = TestServer::redis(CONFIG, &url, &ns, ServeOptions::default());
    let agent = agent();
    let (s, v) = send(
        &agent,
        "PATCH",
        &format!("{}/v1/targets/a", one.base),
        Some(r#"{"paused": true}"#),
    );
    assert_eq!(s, 200, "{v}");
    let (_, v) = post(
        &agent,
        &format!("{}/v1/connect", two.base),
        &json!({"call": "c1", "target": "a", "at": AT}),
    );
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["reasons"][0]["code"], "paused", "{v}");
    let (s, v) = send(
        &agent,
        "PUT",
        &format!("{}/v1/config", two.base),
        Some(CONFIG),
    );
    assert_eq!(s, 200, "{v}");
    // a read through the first process sees the resumed target...
    let (_, v) = get(&agent, &format!("{}/v1/check?at={AT}", one.base));
    let a = &v["candidates"][0];
    assert_eq!(
        (a["id"].clone(), a["eligible"].clone()),
        (json!("a"), json!(true)),
        "{v}"
    );
    // ...and so does its connect
    let (_, v) = post(
        &agent,
        &format!("{}/v1/connect", one.base),
        &json!({"call": "c1", "target": "a", "at": AT}),
    );
    assert_eq!(v, json!({"ok": true}));
    let (_, h) = get(&agent, &format!("{}/healthz", one.base));
    assert_eq!(
        (h["state"].clone(), h["shared"].clone()),
        (json!("redis"), json!(true))
    );
    assert!(h["url"].as_str().unwrap().starts_with("redis://"), "{h}");
}

#[test]
fn a_lost_state_server_is_a_503_with_the_error_shape() {
    if redis_url("serve_redis::lost_server").is_none() {
        return;
    }
    let mut redis = PrivateRedis::start().expect("private redis-server");
    let options = ServeOptions {
        backend_timeout: Duration::from_millis(500),
        ..ServeOptions::default()
    };
    let server = TestServer::redis(CONFIG, &redis.url, "lost", options);
    let agent = agent();
    let (s, _) = get(&agent, &format!("{}/healthz", server.base));
    assert_eq!(s, 200);
    redis.kill();
    for (method, path, body) in flow() {
        let body = body.map(|b| b.to_string());
        let (s, t) = send(
            &agent,
            method,
            &format!("{}{path}", server.base),
            body.as_deref(),
        );
        let v = parse(&t);
        // bad input is still judged first where no state is needed
        assert!(
            s == 503 || (400..500).contains(&s),
            "{method} {path}: {s} {t}"
        );
        assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "{t}");
        if s == 503 {
            assert!(v["error"].as_str().unwrap().contains(&redis.url), "{t}");
        }
    }
    let (s, h) = get(&agent, &format!("{}/healthz", server.base));
    assert_eq!(s, 503, "{h}");
    assert_eq!(h["status"], "unavailable");
    let (s, m) = send(&agent, "GET", &format!("{}/metrics", server.base), None);
    assert_eq!(s, 200);
    assert!(
        m.contains(r#"routecap_backend_errors_total{endpoint="POST /v1/connect"}"#),
        "{m}"
    );
}

/// A process that paused a target must not refuse a `connect` to it from
/// its own stale config after another process resumed it (it once
/// answered `{"ok": false, "reasons": []}`): a refusal judged in the
/// process stands only under the namespace's current config.
#[test]
fn a_connect_right_after_another_process_resumed_a_target_is_admitted() {
    let Some(url) = redis_url("serve_redis::stale_local_refusal") else {
        return;
    };
    let ns = namespace();
    let one = TestServer::redis(CONFIG, &url, &ns, ServeOptions::default());
    let two = TestServer::redis(CONFIG, &url, &ns, ServeOptions::default());
    let agent = agent();
    let (s, _) = send(
        &agent,
        "PATCH",
        &format!("{}/v1/targets/a", one.base),
        Some(r#"{"paused": true}"#),
    );
    assert_eq!(s, 200);
    let (s, _) = send(
        &agent,
        "PATCH",
        &format!("{}/v1/targets/a", two.base),
        Some(r#"{"paused": false}"#),
    );
    assert_eq!(s, 200);
    let (_, v) = post(
        &agent,
        &format!("{}/v1/connect", one.base),
        &json!({"call": "c1", "target": "a", "at": AT}),
    );
    assert_eq!(v, json!({"ok": true}));
}

#[test]
fn a_retry_with_the_same_idempotency_key_never_counts_twice() {
    let Some(url) = redis_url("serve_redis::idempotency") else {
        return;
    };
    let ns = namespace();
    let one = TestServer::redis(CONFIG, &url, &ns, ServeOptions::default());
    let two = TestServer::redis(CONFIG, &url, &ns, ServeOptions::default());
    let agent = agent();
    let body = json!({"call": "c1", "target": "a", "at": AT}).to_string();
    let connect = |base: &str, key: &str| {
        let mut resp = agent
            .post(format!("{base}/v1/connect"))
            .header("content-type", "application/json")
            .header("Idempotency-Key", key)
            .send(body.as_str())
            .expect("connect");
        (
            resp.status().as_u16(),
            parse(&resp.body_mut().read_to_string().unwrap()),
        )
    };
    assert_eq!(connect(&one.base, "op-1"), (200, json!({"ok": true})));
    // the reply was lost: the client retries through another process
    assert_eq!(connect(&two.base, "op-1"), (200, json!({"ok": true})));
    // a new key for the same call is a new operation: a lifecycle conflict
    let (s, v) = connect(&two.base, "op-2");
    assert_eq!(s, 409, "{v}");
    let (_, usage) = get(&agent, &format!("{}/v1/usage?at={AT}", one.base));
    let a = usage["owners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == "a")
        .unwrap();
    let daily = a["caps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["cap"] == "daily")
        .unwrap();
    assert_eq!(
        (daily["used"].clone(), a["live"].clone()),
        (json!(1), json!(1)),
        "{usage}"
    );
}

#[test]
fn a_frozen_state_server_is_a_503_after_the_backend_timeout_then_recovers() {
    if redis_url("serve_redis::frozen_server").is_none() {
        return;
    }
    let redis = PrivateRedis::start().expect("private redis-server");
    let options = ServeOptions {
        backend_timeout: Duration::from_millis(300),
        ..ServeOptions::default()
    };
    let server = TestServer::redis(CONFIG, &redis.url, "frozen", options);
    let agent = agent();
    // target "c" has no caps: whether the frozen connect applied after
    // the thaw or not, the later ones are admitted
    let connect = |call: &str| {
        let start = std::time::Instant::now();
        let (s, v) = post(
            &agent,
            &format!("{}/v1/connect", server.base),
            &json!({"call": call, "target": "c", "at": AT}),
        );
        (s, v, start.elapsed())
    };
    redis.signal("STOP");
    let (s, v, took) = connect("c1");
    redis.signal("CONT");
    assert_eq!(s, 503, "{v}");
    assert!(v["error"].as_str().unwrap().contains(&redis.url), "{v}");
    assert!(took < Duration::from_secs(5), "answered after {took:?}");
    // the server answers again: the service recovers without a restart
    let mut last = (0, Value::Null);
    for i in 0..50 {
        let (s, v, _) = connect(&format!("c{}", i + 2));
        last = (s, v);
        if s == 200 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(last, (200, json!({"ok": true})));
}

/// A caller's history is the namespace's: a duplicate connect or a
/// duplicate after a conversion is refused through another process, and
/// its checks and plans see it.
#[test]
fn a_duplicate_caller_is_refused_through_a_second_process() {
    let Some(url) = redis_url("serve_redis::duplicate_caller") else {
        return;
    };
    let config = r#"{
      "targets": [
        {"id": "a", "priority": 1, "duplicates": {"basis": "connect", "window": 3600}},
        {"id": "b", "priority": 2, "duplicates": {"basis": "convert", "window": 86400}}
      ]
    }"#;
    let ns = namespace();
    let one = TestServer::redis(config, &url, &ns, ServeOptions::default());
    let two = TestServer::redis(config, &url, &ns, ServeOptions::default());
    let agent = agent();
    let caller = "+19195550100";
    let connect = |base: &str, call: &str, target: &str, at: &str| {
        post(
            &agent,
            &format!("{base}/v1/connect"),
            &json!({"call": call, "target": target, "at": at, "caller": caller}),
        )
    };
    assert_eq!(
        connect(&one.base, "c1", "a", "2026-11-23T15:00:00Z"),
        (200, json!({"ok": true}))
    );
    let (s, v) = connect(&two.base, "c2", "a", "2026-11-23T15:10:00Z");
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v,
        json!({"ok": false, "reasons": [{
            "code": "duplicate_caller",
            "until": "2026-11-23T16:00:00Z",
            "detail": "caller +19195550100 connected at 2026-11-23T15:00:00Z (window 3600 s)"
        }]})
    );
    // another caller is welcome; the window closes at its `until`
    let (_, v) = post(
        &agent,
        &format!("{}/v1/connect", two.base),
        &json!({"call": "c3", "target": "a", "at": "2026-11-23T15:10:00Z", "caller": "+19195550199"}),
    );
    assert_eq!(v, json!({"ok": true}));
    assert_eq!(
        connect(&two.base, "c4", "a", "2026-11-23T16:00:00Z"),
        (200, json!({"ok": true}))
    );
    // a conversion through one process makes a duplicate for the other
    assert_eq!(
        connect(&one.base, "c5", "b", "2026-11-23T16:05:00Z"),
        (200, json!({"ok": true}))
    );
    let (s, v) = post(
        &agent,
        &format!("{}/v1/convert", two.base),
        &json!({"call": "c5", "revenue": "12.00", "at": "2026-11-23T16:06:00Z"}),
    );
    assert_eq!(s, 200, "{v}");
    let (_, check) = get(
        &agent,
        &format!(
            "{}/v1/check?at=2026-11-23T16:07:00Z&caller=%2B19195550100",
            one.base
        ),
    );
    let b = check["candidates"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == "b"))
        .unwrap_or_else(|| panic!("b in {check}"));
    assert_eq!(b["eligible"], json!(false), "{check}");
    assert_eq!(b["reasons"][0]["code"], "duplicate_caller", "{check}");
    assert_eq!(b["reasons"][0]["until"], "2026-11-24T16:06:00Z", "{check}");
    let (_, v) = connect(&one.base, "c6", "b", "2026-11-23T16:08:00Z");
    assert_eq!(v["ok"], json!(false), "{v}");
    assert_eq!(v["reasons"][0]["code"], "duplicate_caller", "{v}");
}
