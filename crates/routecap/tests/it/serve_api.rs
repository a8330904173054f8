//! `routecap serve` over the memory state: every endpoint over real HTTP,
//! answers equal to the CLI's, statuses of bad input, live config changes.

use std::time::Duration;

use serde_json::{json, Value};

use super::cli_support::run;
use super::serve_support::*;

#[test]
fn route_answer_equals_the_cli_json_plus_the_call() {
    let path = config_file(CONFIG);
    let path = path.to_str().unwrap();
    let server = TestServer::memory(CONFIG);
    let agent = agent();
    for (seed, tags) in [
        (7u64, vec![]),
        (8, vec!["geo=us-nc"]),
        (123_456, vec!["geo=us-sc"]),
    ] {
        let mut args = vec!["route", path, "--at", AT, "--json"];
        let seed_text = seed.to_string();
        args.extend(["--seed", &seed_text]);
        for t in &tags {
            args.extend(["--tag", t]);
        }
        let (code, out, err) = run(&args, b"");
        assert_eq!(code, 0, "{err}");
        let cli: Value = serde_json::from_str(&out).unwrap();
        let tag_obj: serde_json::Map<String, Value> = tags
            .iter()
            .map(|t| {
                let (k, v) = t.split_once('=').unwrap();
                (k.to_string(), json!(v))
            })
            .collect();
        let (status, mut http) = post(
            &agent,
            &format!("{}/v1/route", server.base),
            &json!({"call": "c1", "at": AT, "seed": seed, "tags": tag_obj}),
        );
        assert_eq!(status, 200, "{http}");
        assert_eq!(http["call"], "c1");
        http.as_object_mut().unwrap().remove("call");
        assert_eq!(http, cli, "seed {seed} tags {tags:?}");
    }
}

#[test]
fn check_and_usage_answers_equal_the_cli_json() {
    let path = config_file(CONFIG);
    let path = path.to_str().unwrap();
    let server = TestServer::memory(CONFIG);
    let agent = agent();
    let (_, out, err) = run(
        &["check", path, "--at", AT, "--tag", "geo=us-nc", "--json"],
        b"",
    );
    let cli: Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{err}"));
    let (status, http) = get(
        &agent,
        &format!("{}/v1/check?at={}&tag=geo%3Dus-nc", server.base, AT),
    );
    assert_eq!(status, 200);
    assert_eq!(http, cli);
    let (_, out, _) = run(&["usage", path, "--at", AT, "--json"], b"");
    let cli: Value = serde_json::from_str(&out).unwrap();
    let (status, http) = get(&agent, &format!("{}/v1/usage?at={AT}", server.base));
    assert_eq!(status, 200);
    assert_eq!(http, cli);
}

fn daily_used(usage: &Value, id: &str) -> u64 {
    let owner = usage["owners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == id)
        .unwrap_or_else(|| panic!("no owner {id} in {usage}"));
    owner["caps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["cap"] == "daily")
        .map_or(0, |c| c["used"].as_u64().unwrap())
}

/// A refused outcome listing reason `code`.
pub fn has_reason(outcome: &Value, code: &str) -> bool {
    outcome["ok"] == false
        && outcome["reasons"]
            .as_array()
            .is_some_and(|rs| rs.iter().any(|r| r["code"] == code))
}

fn live(usage: &Value, id: &str) -> u64 {
    usage["owners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == id)
        .unwrap()["live"]
        .as_u64()
        .unwrap()
}

#[test]
fn lifecycle_connect_refuse_convert_end_and_conflicts() {
    let server = TestServer::memory(CONFIG);
    let agent = agent();
    let url = |p: &str| format!("{}{p}", server.base);
    let at = |m: u32| format!("2026-11-23T15:{m:02}:00Z");
    let (s, v) = post(
        &agent,
        &url("/v1/connect"),
        &json!({"call": "c1", "target": "a", "at": at(0)}),
    );
    assert_eq!((s, v), (200, json!({"ok": true})));
    // concurrency 1 on "a": a second live call is refused, with the reason
    let (s, v) = post(
        &agent,
        &url("/v1/connect"),
        &json!({"call": "c2", "target": "a", "at": at(1)}),
    );
    assert_eq!(s, 200);
    assert_eq!(v["ok"], false);
    assert_eq!(v["reasons"][0]["code"], "concurrency_cap", "{v}");
    // connecting c1 again is a lifecycle conflict
    let (s, v) = post(
        &agent,
        &url("/v1/connect"),
        &json!({"call": "c1", "target": "a", "at": at(2)}),
    );
    assert_eq!(s, 409, "{v}");
    assert_eq!(v["path"], "call");
    let (s, v) = post(
        &agent,
        &url("/v1/convert"),
        &json!({"call": "c1", "revenue": "12.50", "at": at(3)}),
    );
    assert_eq!((s, v), (200, json!({"ok": true})));
    let (s, _) = post(
        &agent,
        &url("/v1/touch"),
        &json!({"call": "c1", "at": at(4)}),
    );
    assert_eq!(s, 200);
    let (s, _) = post(&agent, &url("/v1/end"), &json!({"call": "c1", "at": at(5)}));
    assert_eq!(s, 200);
    // ending twice: 409, and the counts are unchanged
    let (s, v) = post(&agent, &url("/v1/end"), &json!({"call": "c1", "at": at(6)}));
    assert_eq!(s, 409, "{v}");
    assert!(
        v["error"].as_str().unwrap().contains("already ended"),
        "{v}"
    );
    let (s, v) = post(
        &agent,
        &url("/v1/end"),
        &json!({"call": "never", "at": at(6)}),
    );
    assert_eq!(s, 404, "{v}");
    assert_eq!(v["path"], "call");
    let (s, v) = post(
        &agent,
        &url("/v1/connect"),
        &json!({"call": "c9", "target": "zz", "at": at(6)}),
    );
    assert_eq!(s, 404, "{v}");
    assert_eq!(v["path"], "target");
    let (_, usage) = get(&agent, &url(&format!("/v1/usage?at={}", at(7))));
    assert_eq!(daily_used(&usage, "a"), 1);
    assert_eq!(daily_used(&usage, "g"), 1);
    assert_eq!(live(&usage, "a"), 0);
    // reserve, cancel; then the capacity is free again
    let (s, v) = post(
        &agent,
        &url("/v1/reserve"),
        &json!({"call": "r1", "target": "a", "ttl": 600, "at": at(8)}),
    );
    assert_eq!((s, v), (200, json!({"ok": true})));
    let (s, v) = post(
        &agent,
        &url("/v1/connect"),
        &json!({"call": "c3", "target": "a", "at": at(9)}),
    );
    assert_eq!(v["ok"], false, "{s} {v}");
    let (s, _) = post(
        &agent,
        &url("/v1/cancel"),
        &json!({"call": "r1", "at": at(10)}),
    );
    assert_eq!(s, 200);
    let (_, v) = post(
        &agent,
        &url("/v1/connect"),
        &json!({"call": "c3", "target": "a", "at": at(11)}),
    );
    assert_eq!(v, json!({"ok": true}));
    // the daily cap of 2 is now full: refused with daily_cap
    post(
        &agent,
        &url("/v1/end"),
        &json!({"call": "c3", "at": at(12)}),
    );
    let (_, v) = post(
        &agent,
        &url("/v1/connect"),
        &json!({"call": "c4", "target": "a", "at": at(13)}),
    );
    assert_eq!(v["ok"], false);
    assert!(has_reason(&v, "daily_cap"), "{v}");
}

#[test]
fn bad_input_answers_400_with_the_path() {
    let server = TestServer::memory(CONFIG);
    let agent = agent();
    let url = |p: &str| format!("{}{p}", server.base);
    let cases: &[(&str, &str, &str, &str)] = &[
        // no JSON value: the whole body, the place in the message
        ("POST", "/v1/connect", "{", "$"),
        ("POST", "/v1/route", "{x", "$"),
        ("POST", "/v1/connect", "", "$"),
        ("POST", "/v1/connect", "[1]", "$"),
        ("POST", "/v1/connect", r#"{"target": "a"}"#, "call"),
        (
            "POST",
            "/v1/connect",
            r#"{"call": 5, "target": "a"}"#,
            "call",
        ),
        (
            "POST",
            "/v1/connect",
            r#"{"call": "x", "target": "a", "at": "yesterday"}"#,
            "at",
        ),
        (
            "POST",
            "/v1/connect",
            r#"{"call": "x", "target": "a", "at": "2200-01-01T00:00:00Z"}"#,
            "at",
        ),
        (
            "POST",
            "/v1/connect",
            r#"{"call": "x", "target": "a", "at": " 2026-11-22T15:00:00Z"}"#,
            "at",
        ),
        ("POST", "/v1/route", r#"{"call": "x", "seed": -1}"#, "seed"),
        ("POST", "/v1/route", r#"{"call": "x", "tags": 3}"#, "tags"),
        (
            "POST",
            "/v1/convert",
            r#"{"call": "x", "revenue": "ten"}"#,
            "revenue",
        ),
        (
            "POST",
            "/v1/reserve",
            r#"{"call": "x", "target": "a", "ttl": 0}"#,
            "ttl",
        ),
        ("GET", "/v1/check?at=nope", "", "query.at"),
        ("GET", "/v1/check?colour=red", "", "query.colour"),
        ("GET", "/v1/check?tag=novalue", "", "query.tag"),
        (
            "PUT",
            "/v1/config",
            r#"{"targets": [{"id": "a", "caps": {"daily": "many"}}]}"#,
            "targets[0].caps.daily",
        ),
        // the strict native shape: a misspelt field, the same error as the CLI's
        (
            "PUT",
            "/v1/config",
            r#"{"targets": [{"id": "a", "caps": {"dialy": 5}}]}"#,
            "targets[0].caps.dialy",
        ),
    ];
    for (method, path, body, want_path) in cases {
        let body = (*method != "GET").then_some(*body);
        let (status, text) = send(&agent, method, &url(path), body);
        let v = parse(&text);
        assert_eq!(status, 400, "{method} {path} {body:?}: {text}");
        assert_eq!(v["path"], *want_path, "{method} {path} {body:?}: {text}");
        assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "{text}");
    }
    // unknown endpoint and wrong method: JSON errors too
    let (s, t) = send(&agent, "GET", &url("/v2/nothing"), None);
    assert_eq!(s, 404);
    assert!(parse(&t)["error"].is_string());
    let (s, t) = send(&agent, "GET", &url("/v1/connect"), None);
    assert_eq!(s, 405);
    assert!(parse(&t)["error"].is_string());
}

#[test]
fn oversized_bodies_answer_413_and_the_server_goes_on() {
    let options = routecap::serve::ServeOptions {
        body_limit: 1024,
        ..Default::default()
    };
    let server = TestServer::memory_with(CONFIG, options);
    let agent = agent();
    let big = format!(
        r#"{{"call": "x", "target": "a", "pad": "{}"}}"#,
        "x".repeat(2000)
    );
    let (s, t) = send(
        &agent,
        "POST",
        &format!("{}/v1/connect", server.base),
        Some(&big),
    );
    assert_eq!(s, 413, "{t}");
    assert!(parse(&t)["error"].as_str().unwrap().contains("1024"));
    let (s, _) = get(&agent, &format!("{}/healthz", server.base));
    assert_eq!(s, 200);
}

#[test]
fn config_changes_keep_counters_by_id() {
    let server = TestServer::memory(CONFIG);
    let agent = agent();
    let url = |p: &str| format!("{}{p}", server.base);
    post(
        &agent,
        &url("/v1/connect"),
        &json!({"call": "c1", "target": "a", "at": AT}),
    );
    // raise a's concurrency cap by a patch: the live call stays counted
    let (s, v) = send(
        &agent,
        "PATCH",
        &url("/v1/targets/a"),
        Some(r#"{"caps": {"daily": 2, "concurrency": 2}}"#),
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(parse(&v)["config_version"], 2);
    let (_, v) = post(
        &agent,
        &url("/v1/connect"),
        &json!({"call": "c2", "target": "a", "at": AT}),
    );
    assert_eq!(v, json!({"ok": true}));
    // the daily cap of 2 holds across the change
    let (_, v) = post(
        &agent,
        &url("/v1/connect"),
        &json!({"call": "c3", "target": "a", "at": AT}),
    );
    assert!(has_reason(&v, "daily_cap"), "{v}");
    // pause the group's members through a group patch? groups have no pause:
    // patch the group cap instead, then replace the whole config
    let (s, v) = send(
        &agent,
        "PATCH",
        &url("/v1/groups/g"),
        Some(r#"{"caps": {"daily": 1}}"#),
    );
    assert_eq!(s, 200, "{v}");
    let (s, v) = send(
        &agent,
        "PATCH",
        &url("/v1/targets/nope"),
        Some(r#"{"paused": true}"#),
    );
    assert_eq!(s, 404, "{v}");
    let (s, v) = send(&agent, "PATCH", &url("/v1/groups/nope"), Some(r#"{}"#));
    assert_eq!(s, 404, "{v}");
    let without_b = CONFIG
        .replace(
            r#"{"id": "b", "priority": 1, "weight": 1, "caps": {"daily": 5},
     "filter": {"any_of": [{"all_of": [{"tag": "geo", "op": "in", "values": ["us-nc"]}]}]}},"#,
            "",
        )
        .replace(r#""members": ["a", "b"]"#, r#""members": ["a"]"#);
    assert_ne!(without_b, CONFIG);
    let (s, v) = send(&agent, "PUT", &url("/v1/config"), Some(&without_b));
    assert_eq!(s, 200, "{v}");
    let v = parse(&v);
    assert_eq!(v["config_version"], 4);
    assert_eq!(v["dropped"]["targets"], json!(["b"]));
    let (_, usage) = get(&agent, &url(&format!("/v1/usage?at={AT}")));
    assert_eq!(daily_used(&usage, "a"), 2);
    assert_eq!(live(&usage, "a"), 2);
    assert!(usage["owners"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["id"] != "b"));
    let (_, h) = get(&agent, &url("/healthz"));
    assert_eq!(h["config_version"], 4);
}

#[test]
fn healthz_says_single_process_and_metrics_count_requests_and_refusals() {
    let server = TestServer::memory(CONFIG);
    let agent = agent();
    let url = |p: &str| format!("{}{p}", server.base);
    let (s, h) = get(&agent, &url("/healthz"));
    assert_eq!(s, 200);
    assert_eq!(h["state"], "memory");
    assert_eq!(h["shared"], false);
    assert!(h["note"].as_str().unwrap().contains("single-process"));
    post(
        &agent,
        &url("/v1/connect"),
        &json!({"call": "c1", "target": "a", "at": AT}),
    );
    post(
        &agent,
        &url("/v1/connect"),
        &json!({"call": "c2", "target": "a", "at": AT}),
    );
    post(
        &agent,
        &url("/v1/route"),
        &json!({"call": "c3", "at": AT, "seed": 1}),
    );
    let (s, text) = send(&agent, "GET", &url("/metrics"), None);
    assert_eq!(s, 200);
    for want in [
        r#"routecap_http_requests_total{endpoint="POST /v1/connect",status="200"} 2"#,
        r#"routecap_decisions_total{decision="connect",outcome="admitted"} 1"#,
        r#"routecap_decisions_total{decision="connect",outcome="refused"} 1"#,
        r#"routecap_decisions_total{decision="route",outcome="planned"} 1"#,
        r#"routecap_refusals_total{code="concurrency_cap"} 1"#,
        r#"routecap_http_request_duration_seconds_count{endpoint="POST /v1/connect"} 2"#,
        "routecap_config_version 1",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    // live calls are read from the state at scrape time, on the server clock:
    // c1 connected at AT (in the past) still holds its 4-hour lease only if
    // the clock is near AT, so only assert the gauge is there
    assert!(
        text.contains("routecap_live_calls{phase=\"connected\"}"),
        "{text}"
    );
}

#[test]
fn at_defaults_to_the_server_clock() {
    let server = TestServer::memory(r#"{"targets": [{"id": "x"}]}"#);
    let agent = agent();
    let before = chrono::Utc::now();
    let (s, v) = post(
        &agent,
        &format!("{}/v1/route", server.base),
        &json!({"call": "c"}),
    );
    let after = chrono::Utc::now();
    assert_eq!(s, 200);
    let at: chrono::DateTime<chrono::Utc> = v["at"].as_str().unwrap().parse().unwrap();
    assert!(
        before - chrono::TimeDelta::seconds(1) <= at && at <= after,
        "{at}"
    );
    assert!(v["seed"].is_u64());
}

#[test]
fn the_binary_serves_reloads_on_sighup_and_exits_0_on_sigterm() {
    let path = config_file(CONFIG);
    let mut p = ServeProcess::start(path.to_str().unwrap(), &[]);
    let agent = agent();
    let url = |q: &str| format!("{}{q}", p.base);
    let (s, v) = post(
        &agent,
        &url("/v1/connect"),
        &json!({"call": "c1", "target": "a", "at": AT}),
    );
    assert_eq!((s, v), (200, json!({"ok": true})));
    // SIGHUP: re-read the file (a's concurrency raised), counters kept
    std::fs::write(
        &path,
        CONFIG.replace(r#""concurrency": 1"#, r#""concurrency": 3"#),
    )
    .unwrap();
    p.signal("HUP");
    let mut version = json!(1);
    for _ in 0..100 {
        version = get(&agent, &url("/healthz")).1["config_version"].clone();
        if version == 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(version, 2, "SIGHUP did not reload");
    let (_, usage) = get(&agent, &url(&format!("/v1/usage?at={AT}")));
    assert_eq!(daily_used(&usage, "a"), 1);
    let (_, v) = post(
        &agent,
        &url("/v1/connect"),
        &json!({"call": "c2", "target": "a", "at": AT}),
    );
    assert_eq!(v, json!({"ok": true}));
    // a bad file on SIGHUP keeps the config
    std::fs::write(&path, "{ not json").unwrap();
    p.signal("HUP");
    std::thread::sleep(Duration::from_millis(300));
    let (s, h) = get(&agent, &url("/healthz"));
    assert_eq!((s, h["config_version"].clone()), (200, json!(2)));
    p.signal("TERM");
    assert_eq!(p.wait_exit(Duration::from_secs(10)), Some(0));
}

#[test]
fn sigterm_finishes_requests_in_flight() {
    // a body sent slowly is a request in flight: the server must answer it
    // after SIGTERM before it exits
    use std::io::{Read, Write};
    let path = config_file(CONFIG);
    let mut p = ServeProcess::start(path.to_str().unwrap(), &[]);
    let addr = p.base.trim_start_matches("http://").to_string();
    let mut conn = std::net::TcpStream::connect(&addr).unwrap();
    let body = format!(r#"{{"call": "c1", "target": "a", "at": "{AT}"}}"#);
    write!(
        conn,
        "POST /v1/connect HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        body.len(),
        &body[..10]
    )
    .unwrap();
    conn.flush().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    p.signal("TERM");
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        p.child.try_wait().unwrap().is_none(),
        "exited with a request in flight"
    );
    conn.write_all(&body.as_bytes()[10..]).unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with(r#"{"ok":true}"#), "{answer}");
    assert_eq!(p.wait_exit(Duration::from_secs(10)), Some(0));
}

#[test]
fn bad_command_lines_exit_2() {
    let (code, out, err) = run(
        &[
            "serve",
            "/nonexistent/config.json",
            "--listen",
            "127.0.0.1:0",
        ],
        b"",
    );
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty());
    assert!(err.contains("/nonexistent/config.json"), "{err}");
    let path = config_file(CONFIG);
    let (code, _, err) = run(
        &[
            "serve",
            path.to_str().unwrap(),
            "--listen",
            "not-an-address",
        ],
        b"",
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not-an-address"), "{err}");
    let (code, _, err) = run(
        &[
            "serve",
            path.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--state",
            "redis://127.0.0.1:1",
        ],
        b"",
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("redis://127.0.0.1:1"), "{err}");
}

#[test]
fn leases_run_out_on_time_and_touch_renews_them() {
    // call_lease_seconds 600: connect at 15:00:00, touch at 15:05:00 → the
    // call holds concurrency until 15:15:00 exactly
    let config =
        r#"{"call_lease_seconds": 600, "targets": [{"id": "x", "caps": {"concurrency": 1}}]}"#;
    let server = TestServer::memory(config);
    let agent = agent();
    let url = |p: &str| format!("{}{p}", server.base);
    let connect = |call: &str, at: &str| {
        post(
            &agent,
            &url("/v1/connect"),
            &json!({"call": call, "target": "x", "at": at}),
        )
        .1
    };
    let live_at = |at: &str| live(&get(&agent, &url(&format!("/v1/usage?at={at}"))).1, "x");
    assert_eq!(connect("c1", "2026-11-23T15:00:00Z"), json!({"ok": true}));
    let (s, _) = post(
        &agent,
        &url("/v1/touch"),
        &json!({"call": "c1", "at": "2026-11-23T15:05:00Z"}),
    );
    assert_eq!(s, 200);
    assert_eq!(live_at("2026-11-23T15:14:59Z"), 1);
    assert!(has_reason(
        &connect("c2", "2026-11-23T15:14:59Z"),
        "concurrency_cap"
    ));
    assert_eq!(live_at("2026-11-23T15:15:00Z"), 0);
    // a touch after the lease ran out is a conflict; the end is accepted
    let (s, v) = post(
        &agent,
        &url("/v1/touch"),
        &json!({"call": "c1", "at": "2026-11-23T15:15:00Z"}),
    );
    assert_eq!(s, 409, "{v}");
    assert_eq!(connect("c2", "2026-11-23T15:15:00Z"), json!({"ok": true}));
    let (s, _) = post(
        &agent,
        &url("/v1/end"),
        &json!({"call": "c1", "at": "2026-11-23T15:16:00Z"}),
    );
    assert_eq!(s, 200);
    assert_eq!(live_at("2026-11-23T15:16:00Z"), 1);
}

#[test]
fn imported_usage_is_anchored_by_the_first_decision_not_by_reads() {
    // no as_of: the config's usage belongs to the first decision's windows;
    // reads before it (usage, check, a metrics scrape) must not anchor it
    let config = r#"{"targets": [{"id": "u", "time_zone": "UTC",
        "caps": {"hourly": 5, "daily": 10, "concurrency": 3},
        "usage": {"hourly": 2, "daily": 4, "live": 1}}]}"#;
    let server = TestServer::memory(config);
    let agent = agent();
    let url = |p: &str| format!("{}{p}", server.base);
    let hourly = |u: &Value| {
        u["owners"][0]["caps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["cap"] == "hourly")
            .unwrap()["used"]
            .clone()
    };
    let (_, early) = get(&agent, &url("/v1/usage?at=2026-11-23T09:30:00Z"));
    assert_eq!(hourly(&early), 2);
    get(&agent, &url("/v1/check?at=2026-11-23T09:30:00Z"));
    send(&agent, "GET", &url("/metrics"), None);
    // the first decision, an hour later, takes the imported usage
    let (_, v) = post(
        &agent,
        &url("/v1/connect"),
        &json!({"call": "c1", "target": "u", "at": "2026-11-23T10:30:00Z"}),
    );
    assert_eq!(v, json!({"ok": true}));
    let (_, u) = get(&agent, &url("/v1/usage?at=2026-11-23T10:45:00Z"));
    assert_eq!(hourly(&u), 3, "{u}");
    let (_, u) = get(&agent, &url("/v1/usage?at=2026-11-23T11:00:00Z"));
    assert_eq!(hourly(&u), 0, "{u}");
}

/// `PATCH` takes JSON Merge Patches (either content type) at `?at=`; a
/// zone change keeps the window count, so route, check, usage and connect
/// agree; `PUT /v1/config` refuses an empty config unless asked for.
#[test]
fn merge_patches_zone_changes_and_empty_configs_over_http() {
    let server = TestServer::memory(
        r#"{"targets": [{"id": "a", "time_zone": "America/Los_Angeles", "caps": {"daily": 1, "monthly": 1, "concurrency": 3}}, {"id": "b"}]}"#,
    );
    let agent = agent();
    let url = |p: &str| format!("{}{p}", server.base);
    let at = "2026-11-23T20:00:00Z";
    let (_, v) = post(
        &agent,
        &url("/v1/connect"),
        &json!({"call": "c1", "target": "a", "at": at}),
    );
    assert_eq!(v, json!({"ok": true}));
    let (s, v) = send(
        &agent,
        "PATCH",
        &url(&format!("/v1/targets/a?at={at}")),
        Some(r#"{"time_zone": "UTC"}"#),
    );
    assert_eq!(s, 200, "{v}");
    let (_, route) = post(&agent, &url("/v1/route"), &json!({"call": "c2", "at": at}));
    assert_eq!(
        route["plan"],
        json!([{"target": "b", "timeout_seconds": 30}]),
        "{route}"
    );
    let (_, check) = get(&agent, &url(&format!("/v1/check?at={at}")));
    assert_eq!(check["candidates"][0]["eligible"], false);
    assert_eq!(
        check["candidates"][0]["reasons"][0],
        json!({"code": "daily_cap", "used": 1, "limit": 1, "until": "2026-11-24T00:00:00Z"})
    );
    let (_, usage) = get(&agent, &url(&format!("/v1/usage?at={at}")));
    assert_eq!(usage["owners"][0]["caps"][0]["used"], 1, "{usage}");
    let (_, v) = post(
        &agent,
        &url("/v1/connect"),
        &json!({"call": "c2", "target": "a", "at": at}),
    );
    assert_eq!(v["ok"], false);
    // a merge patch changes one cap and keeps the others
    let resp = agent
        .patch(&url("/v1/targets/a"))
        .header("Content-Type", "application/merge-patch+json")
        .send(r#"{"caps": {"concurrency": 10}}"#)
        .expect("patch");
    assert_eq!(resp.status().as_u16(), 200);
    let (_, usage) = get(&agent, &url(&format!("/v1/usage?at={at}")));
    let caps: Vec<&str> = usage["owners"][0]["caps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["cap"].as_str().unwrap())
        .collect();
    assert_eq!(caps, ["daily", "monthly", "concurrency"], "{usage}");
    // an invalid result is refused whole, the path inside the patch
    let (s, v) = send(
        &agent,
        "PATCH",
        &url("/v1/targets/a"),
        Some(r#"{"caps": {"daily": -2}}"#),
    );
    assert_eq!(s, 400, "{v}");
    assert_eq!(parse(&v)["path"], "patch.caps.daily", "{v}");
    // an empty config only on purpose
    for body in ["[]", "{\"targets\": []}"] {
        let (s, v) = send(&agent, "PUT", &url("/v1/config"), Some(body));
        assert_eq!(s, 400, "{body}: {v}");
        assert!(v.contains("allow_empty=true"), "{v}");
    }
    let (_, h) = get(&agent, &url("/healthz"));
    assert_eq!(h["targets"], 2);
    let (s, v) = send(
        &agent,
        "PUT",
        &url("/v1/config?allow_empty=maybe"),
        Some("[]"),
    );
    assert_eq!(s, 400, "{v}");
    let (s, v) = send(
        &agent,
        "PUT",
        &url("/v1/config?allow_empty=true"),
        Some("[]"),
    );
    assert_eq!(s, 200, "{v}");
    let (_, h) = get(&agent, &url("/healthz"));
    assert_eq!(h["targets"], 0);
}
