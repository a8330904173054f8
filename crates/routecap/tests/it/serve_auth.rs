//! Tokens and roles (`routecap serve --auth FILE`) against the running
//! binary: every role × endpoint → status, the 401/403 shapes, tokens never
//! in a log, a metric or an error body, SIGHUP reloading the token file,
//! and the refusal to listen beyond loopback without tokens.

use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};

use super::cli_support::run;
use super::serve_support::*;

const READ: &str = "read-token-0123456789abcdef";
const DECIDE: &str = "decide-token-0123456789abcdef";
const ADMIN: &str = "admin-token-0123456789abcdef";
const UNKNOWN: &str = "unknown-token-0123456789abcdef";

/// sha256 of `text` as lowercase hex (the file holds the decide token
/// as a digest).
fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn token_file(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("tokens");
    let text = format!(
        "# the test's tokens\nreporting read {READ}\n\nswitch decide sha256:{}  # a digest\nops admin {ADMIN}\n",
        sha256_hex(DECIDE)
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// Who asks: no header, an unknown token, or one of the three roles.
const WHO: [(&str, Option<&str>); 5] = [
    ("none", None),
    ("unknown", Some(UNKNOWN)),
    ("read", Some(READ)),
    ("decide", Some(DECIDE)),
    ("admin", Some(ADMIN)),
];

/// One request of the matrix: method, path, body (`{call}` replaced by a
/// call id of the asker's own).
const ENDPOINTS: [(&str, &str, Option<&str>); 15] = [
    ("GET", "/healthz", None),
    ("GET", "/openapi.json", None),
    ("GET", "/metrics", None),
    ("GET", "/v1/check?at=2026-11-23T15:00:00Z", None),
    ("GET", "/v1/usage?at=2026-11-23T15:00:00Z", None),
    ("GET", "/v1/config", None),
    (
        "POST",
        "/v1/route",
        Some(r#"{"call": "{call}-r", "at": "2026-11-23T15:00:00Z", "seed": 1}"#),
    ),
    (
        "POST",
        "/v1/reserve",
        Some(r#"{"call": "{call}-h", "target": "c", "at": "2026-11-23T15:00:00Z", "ttl": 60}"#),
    ),
    (
        "POST",
        "/v1/cancel",
        Some(r#"{"call": "{call}-h", "at": "2026-11-23T15:00:01Z"}"#),
    ),
    (
        "POST",
        "/v1/connect",
        Some(r#"{"call": "{call}", "target": "c", "at": "2026-11-23T15:00:00Z"}"#),
    ),
    (
        "POST",
        "/v1/touch",
        Some(r#"{"call": "{call}", "at": "2026-11-23T15:00:01Z"}"#),
    ),
    (
        "POST",
        "/v1/convert",
        Some(r#"{"call": "{call}", "revenue": "12.50", "at": "2026-11-23T15:00:02Z"}"#),
    ),
    (
        "POST",
        "/v1/end",
        Some(r#"{"call": "{call}", "at": "2026-11-23T15:00:03Z"}"#),
    ),
    ("PATCH", "/v1/targets/c", Some(r#"{"weight": 2}"#)),
    ("PATCH", "/v1/groups/g", Some(r#"{"caps": {"daily": 3}}"#)),
];

/// The status each asker gets, endpoint by endpoint (PUT /v1/config is
/// checked apart: its body is the config file).
fn expected(who: &str, method: &str, path: &str, metrics_need_token: bool) -> u16 {
    let needs = match (method, path) {
        (_, "/healthz" | "/openapi.json") => 0,
        (_, "/metrics") if !metrics_need_token => 0,
        ("GET", _) => 1,
        ("POST", _) => 2,
        _ => 3,
    };
    let has = match who {
        "read" => 1,
        "decide" => 2,
        "admin" => 3,
        _ => -1,
    };
    match (needs, has) {
        (0, _) => 200,
        (_, -1) => 401,
        (n, h) if h < n => 403,
        _ => 200,
    }
}

fn needs_name(method: &str) -> &'static str {
    match method {
        "GET" => "read",
        "POST" => "decide",
        _ => "admin",
    }
}

/// Run the whole matrix against one server; the table as text.
fn matrix(server: &ServeProcess, config: &str, metrics_need_token: bool) -> String {
    let agent = agent();
    let mut table = String::new();
    for (who, token) in WHO {
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = auth
            .as_deref()
            .map(|a| vec![("authorization", a)])
            .unwrap_or_default();
        let mut row = format!("{who:>8}:");
        let mut endpoints: Vec<(&str, &str, Option<String>)> = ENDPOINTS
            .iter()
            .map(|(m, p, b)| {
                (
                    *m,
                    *p,
                    b.map(|b| b.replace("{call}", &format!("call-{who}"))),
                )
            })
            .collect();
        endpoints.push(("PUT", "/v1/config", Some(config.to_string())));
        for (method, path, body) in endpoints {
            let url = format!("{}{path}", server.base);
            let (status, h, text) = send_with(&agent, method, &url, &headers, body.as_deref());
            let want = expected(who, method, path, metrics_need_token);
            assert_eq!(status, want, "{who} {method} {path}: {text}");
            match status {
                401 => {
                    assert_eq!(parse(&text), json!({"error": "unauthorized"}));
                    assert_eq!(h.get("www-authenticate").unwrap(), "Bearer");
                }
                403 => assert_eq!(
                    parse(&text),
                    json!({"error": "forbidden", "needs": needs_name(method)})
                ),
                _ => {}
            }
            for t in [READ, DECIDE, ADMIN, UNKNOWN] {
                assert!(!text.contains(t), "{method} {path} shows a token: {text}");
            }
            row.push_str(&format!(
                " {method} {} {status};",
                path.split('?').next().unwrap()
            ));
        }
        table.push_str(&row);
        table.push('\n');
    }
    table
}

#[test]
fn every_role_gets_exactly_its_endpoints_and_no_log_shows_a_token() {
    let config = config_file(CONFIG);
    let dir = config.parent().unwrap().to_path_buf();
    let tokens = token_file(&dir);
    let log_path = dir.join("serve.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut server = ServeProcess::start_logging(
        config.to_str().unwrap(),
        &["--auth", tokens.to_str().unwrap()],
        "debug",
        Stdio::from(log),
    );
    let table = matrix(&server, CONFIG, false);
    eprintln!("role × endpoint → status:\n{table}");
    // a token in the wrong place or with the wrong scheme is no token
    let agent = agent();
    for header in [
        format!("Basic {ADMIN}"),
        ADMIN.to_string(),
        "Bearer ".into(),
    ] {
        let (s, _, _) = send_with(
            &agent,
            "GET",
            &format!("{}/v1/config", server.base),
            &[("authorization", &header)],
            None,
        );
        assert_eq!(s, 401, "{header}");
    }
    // per-role counts and the config version in the metrics, no token
    let (_, _, metrics) = send_with(
        &agent,
        "GET",
        &format!("{}/metrics", server.base),
        &[],
        None,
    );
    for role in ["anonymous", "read", "decide", "admin"] {
        assert!(
            metrics.contains(&format!(
                "routecap_http_requests_by_role_total{{role=\"{role}\"}}"
            )),
            "{role}: {metrics}"
        );
    }
    assert!(metrics.contains("routecap_config_version "), "{metrics}");
    server.signal("TERM");
    assert_eq!(server.wait_exit(Duration::from_secs(20)), Some(0));
    let logs = std::fs::read_to_string(&log_path).unwrap();
    assert!(logs.contains("config changed"), "{logs}");
    assert!(
        logs.contains("token=ops") || logs.contains("token=\"ops\""),
        "{logs}"
    );
    for t in [READ, DECIDE, ADMIN, UNKNOWN, &sha256_hex(DECIDE)] {
        assert!(!logs.contains(t), "the log shows a token or digest");
        assert!(!metrics.contains(t), "the metrics show a token or digest");
    }
}

#[test]
fn metrics_need_a_read_token_with_auth_metrics() {
    let config = config_file(CONFIG);
    let tokens = token_file(config.parent().unwrap());
    let server = ServeProcess::start(
        config.to_str().unwrap(),
        &["--auth", tokens.to_str().unwrap(), "--auth-metrics"],
    );
    matrix(&server, CONFIG, true);
}

#[test]
fn sighup_reloads_the_token_file() {
    let config = config_file(CONFIG);
    let tokens = token_file(config.parent().unwrap());
    let server = ServeProcess::start(
        config.to_str().unwrap(),
        &["--auth", tokens.to_str().unwrap()],
    );
    let agent = agent();
    let status = |token: &str| {
        let auth = format!("Bearer {token}");
        send_with(
            &agent,
            "GET",
            &format!("{}/v1/usage", server.base),
            &[("authorization", &auth)],
            None,
        )
        .0
    };
    assert_eq!(status(READ), 200);
    assert_eq!(status(UNKNOWN), 401);
    std::fs::write(&tokens, format!("newcomer read {UNKNOWN}\n")).unwrap();
    server.signal("HUP");
    let mut waited = 0;
    while status(UNKNOWN) != 200 {
        waited += 1;
        assert!(waited < 100, "the new token never took effect");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(status(READ), 401, "the removed token still works");
    // a broken file keeps the tokens in force
    std::fs::write(&tokens, "broken\n").unwrap();
    server.signal("HUP");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(status(UNKNOWN), 200);
}

#[test]
fn listening_beyond_loopback_needs_tokens_or_an_explicit_opt_out() {
    let config = config_file(CONFIG);
    let path = config.to_str().unwrap();
    let (code, _, err) = run(&["serve", path, "--listen", "0.0.0.0:0"], b"");
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--auth") && err.contains("--allow-unauthenticated"),
        "{err}"
    );
    // a bad token file stops the start, naming the file and line, no token
    let tokens = config.parent().unwrap().join("bad-tokens");
    std::fs::write(&tokens, format!("ops root {ADMIN}\n")).unwrap();
    let (code, _, err) = run(&["serve", path, "--auth", tokens.to_str().unwrap()], b"");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("bad-tokens line 1 (ops)"), "{err}");
    assert!(!err.contains(ADMIN), "{err}");
    // with the opt-out it listens (and says so)
    let server = ServeProcess::start(path, &["--listen", "0.0.0.0:0", "--allow-unauthenticated"]);
    let port = server.base.rsplit(':').next().unwrap();
    let (s, v) = get(&agent(), &format!("http://127.0.0.1:{port}/healthz"));
    assert_eq!(s, 200, "{v}");
    let _: Value = v;
}
