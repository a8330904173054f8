//! Clients and state servers that misbehave: a half-sent header, a body
//! shorter than its `Content-Length`, a SIGTERM while a client holds a
//! connection, a Redis server that comes back empty.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use routecap::serve::ServeOptions;
use serde_json::json;

use super::serve_support::*;

fn connect(base: &str) -> TcpStream {
    let addr = base.trim_start_matches("http://");
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s
}

/// Everything the server sends until it closes (or the read timeout).
fn read_all(mut s: TcpStream) -> String {
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn a_half_sent_header_is_dropped_after_the_header_timeout() {
    let options = ServeOptions {
        header_timeout: Duration::from_millis(300),
        ..ServeOptions::default()
    };
    let server = TestServer::memory_with(CONFIG, options);
    let mut s = connect(&server.base);
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .unwrap();
    let start = Instant::now();
    let answer = read_all(s);
    let waited = start.elapsed();
    assert!(
        waited < Duration::from_secs(5),
        "the connection was held {waited:?}: {answer}"
    );
    assert!(!answer.contains("200 OK"), "{answer}");
    // the service goes on answering
    let (status, _) = get(&agent(), &format!("{}/healthz", server.base));
    assert_eq!(status, 200);
}

#[test]
fn sigterm_is_not_held_by_a_half_sent_header() {
    let config = config_file(CONFIG);
    let mut server = ServeProcess::start(
        config.to_str().unwrap(),
        &["--header-timeout-ms", "60000", "--shutdown-grace-ms", "500"],
    );
    let mut held = connect(&server.base);
    held.write_all(b"POST /v1/connect HTTP/1.1\r\nHost: x\r\nContent-")
        .unwrap();
    // and one in the middle of its body
    let mut body = connect(&server.base);
    body.write_all(b"POST /v1/connect HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{\"call\"")
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    server.signal("TERM");
    let code = server.wait_exit(Duration::from_secs(10));
    assert_eq!(code, Some(0), "serve did not stop within 10 s of SIGTERM");
    drop((held, body));
}

#[test]
fn a_body_shorter_than_its_content_length_is_a_client_error_at_once() {
    let options = ServeOptions {
        body_timeout: Duration::from_millis(300),
        ..ServeOptions::default()
    };
    let server = TestServer::memory_with(CONFIG, options);
    let mut s = connect(&server.base);
    let body = json!({"call": "c1", "target": "a", "at": AT}).to_string();
    let head = format!(
        "POST /v1/connect HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len() + 20
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body.as_bytes()).unwrap();
    let start = Instant::now();
    let answer = read_all(s);
    let waited = start.elapsed();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("Content-Length"), "{answer}");
    assert!(waited < Duration::from_secs(5), "answered after {waited:?}");
    // nothing was counted, and no backend error either
    let (_, usage) = get(&agent(), &format!("{}/v1/usage?at={AT}", server.base));
    let a = usage["owners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == "a")
        .unwrap();
    assert_eq!(a["live"], 0, "{usage}");
    let metrics = server.service.metrics.render();
    assert!(
        !metrics.contains("routecap_backend_errors_total{"),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            r#"routecap_http_requests_total{endpoint="POST /v1/connect",status="408"} 1"#
        ),
        "{metrics}"
    );
}

#[test]
fn a_state_server_that_comes_back_empty_is_seeded_again() {
    let Some(mut redis) = PrivateRedis::start() else {
        let _ =
            redis_url("a_state_server_that_comes_back_empty (needs ROUTECAP_TEST_REDIS_SERVER)");
        return;
    };
    let ns = namespace();
    let server = TestServer::redis(CONFIG, &redis.url, &ns, ServeOptions::default());
    let agent = agent();
    let url = |p: &str| format!("{}{p}", server.base);
    let (s, v) = post(
        &agent,
        &url("/v1/connect"),
        &json!({"call": "c1", "target": "c", "at": AT}),
    );
    assert_eq!((s, v), (200, json!({"ok": true})));
    // the server goes away: unhealthy
    redis.kill();
    let (s, v) = get(&agent, &url("/healthz"));
    assert_eq!(s, 503, "{v}");
    // and comes back without its data
    redis.restart();
    let (s, v) = get(&agent, &url("/healthz"));
    assert_eq!(s, 200, "{v}");
    for (i, path) in ["/v1/route", "/v1/connect"].iter().enumerate() {
        let (s, v) = post(
            &agent,
            &url(path),
            &json!({"call": format!("c{}", i + 2), "target": "c", "at": AT, "seed": 1}),
        );
        assert_eq!(s, 200, "{path}: {v}");
    }
    let (s, v) = get(&agent, &url(&format!("/v1/check?at={AT}")));
    assert_eq!(s, 200, "{v}");
    let (_, _, metrics) = send_with(&agent, "GET", &url("/metrics"), &[], None);
    assert!(
        metrics.contains("routecap_state_reseeds_total 1"),
        "{metrics}"
    );
}
