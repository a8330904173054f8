//! Random requests against a running service (real HTTP on a loopback
//! port): methods, paths, query strings and bodies, mostly near-valid so
//! that they reach the handlers. No answer is a 5xx, every error is the
//! `{"error", "path"?}` shape, and the server answers afterwards.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Map, Value};

use super::serve_support::*;

/// One raw HTTP/1.1 exchange: the status code (0 when the server closed
/// without a status line) and the body.
fn exchange(addr: &str, method: &str, target: &str, body: &[u8]) -> (u16, String) {
    let mut conn = TcpStream::connect(addr).expect("connect");
    conn.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    // the server may answer (and close) before reading a bad request's body
    let _ = conn
        .write_all(head.as_bytes())
        .and_then(|_| conn.write_all(body));
    let mut answer = Vec::new();
    let _ = conn.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|r| r.get(..3))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, body)
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        (-1e12f64..1e12).prop_map(|f| json!(f)),
        prop::sample::select(vec![
            "a",
            "b",
            "c",
            "g",
            "zz",
            "",
            "c1",
            "c2",
            "2026-11-23T15:00:00Z",
            "2026-11-23T16:30:00-05:00",
            "1969-12-31T23:59:59Z",
            "2100-01-01T00:00:00Z",
            "12.50",
            "-3",
            "1e3",
            "us-nc",
            "geo=us-nc",
            "\u{0}",
            "é",
            "{\"x\":1}",
        ])
        .prop_map(|s| json!(s)),
        "\\PC{0,12}".prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// An object with the API's field names and random values.
fn near_valid_body() -> impl Strategy<Value = Value> {
    let field = prop::sample::select(vec![
        "call", "target", "at", "seed", "ttl", "revenue", "caller", "tags", "campaign", "caps",
        "paused", "targets", "groups", "id", "hours", "filter",
    ]);
    prop::collection::vec((field, value()), 0..7).prop_map(|fs| {
        let mut m = Map::new();
        for (k, v) in fs {
            m.insert(k.to_string(), v);
        }
        Value::Object(m)
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => near_valid_body().prop_map(|v| v.to_string().into_bytes()),
        1 => value().prop_map(|v| v.to_string().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..64),
        1 => "[{}\\[\\]\":,0-9a-z ]{0,40}".prop_map(String::into_bytes),
    ]
}

fn target() -> impl Strategy<Value = String> {
    let path = prop::sample::select(vec![
        "/v1/route",
        "/v1/connect",
        "/v1/convert",
        "/v1/end",
        "/v1/reserve",
        "/v1/cancel",
        "/v1/touch",
        "/v1/check",
        "/v1/usage",
        "/v1/config",
        "/v1/targets/a",
        "/v1/targets/zz",
        "/v1/groups/g",
        "/v1/groups/%FF",
        "/v1/targets/",
        "/healthz",
        "/metrics",
        "/",
        "/v1",
        "/v1/route/x",
        "//v1/route",
        "/v1/targets/a%20b",
    ]);
    let query = prop_oneof![
        Just(String::new()),
        "[a-z=&%0-9A-F:+\\-TZ.]{0,30}".prop_map(|q| format!("?{q}")),
        prop::sample::select(vec![
            "?at=2026-11-23T15:00:00Z",
            "?at=",
            "?at=%ZZ",
            "?tag=geo=us-nc&tag=x",
            "?tag==",
            "?caller=&campaign=",
            "?campaign=nope",
            "?at=2026-11-23T15:00:00Z&at=bad",
        ])
        .prop_map(str::to_string),
    ];
    (path, query).prop_map(|(p, q)| format!("{p}{q}"))
}

fn method() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "POST", "POST",
    ])
}

#[test]
fn random_requests_never_get_a_5xx_and_the_server_goes_on() {
    let server = TestServer::memory(CONFIG);
    let addr = server.base.trim_start_matches("http://").to_string();
    let mut runner = TestRunner::new(Config {
        cases: 400,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&(method(), target(), body()), |(method, target, body)| {
            let (status, text) = exchange(&addr, method, &target, &body);
            prop_assert!(
                (200..500).contains(&status),
                "{method} {target} {:?} -> {status} {text}",
                String::from_utf8_lossy(&body)
            );
            if status >= 400 && method != "HEAD" {
                let v: Value = serde_json::from_str(&text).map_err(|e| {
                    TestCaseError::fail(format!(
                        "{method} {target}: {status} not JSON ({e}): {text}"
                    ))
                })?;
                prop_assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "{text}");
            }
            Ok(())
        })
        .unwrap();
    let (status, _) = exchange(&addr, "GET", "/healthz", b"");
    assert_eq!(status, 200);
}

#[test]
fn with_the_state_server_gone_random_requests_get_503_at_worst() {
    if redis_url("serve_fuzz::redis_gone").is_none() {
        return;
    }
    let mut redis = PrivateRedis::start().expect("private redis-server");
    let options = routecap::serve::ServeOptions {
        backend_timeout: Duration::from_millis(200),
        ..Default::default()
    };
    let server = TestServer::redis(CONFIG, &redis.url, "gone", options);
    redis.kill();
    let addr = server.base.trim_start_matches("http://").to_string();
    let mut runner = TestRunner::new(Config {
        cases: 48,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&(method(), target(), body()), |(method, target, body)| {
            let (status, text) = exchange(&addr, method, &target, &body);
            prop_assert!(
                (200..500).contains(&status) || status == 503,
                "{method} {target} {:?} -> {status} {text}",
                String::from_utf8_lossy(&body)
            );
            Ok(())
        })
        .unwrap();
    let (status, _) = exchange(&addr, "GET", "/healthz", b"");
    assert_eq!(status, 503);
}
