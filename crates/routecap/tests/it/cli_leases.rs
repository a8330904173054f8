//! `routecap replay` with leases: `touch` and `cancel` events, a lease
//! running out, a late `end`, forgotten calls, and config validation of
//! `call_lease_seconds` / `call_retention_seconds`.

use crate::cli_support;

use cli_support::{json, run};
use serde_json::{json, Value};

/// Write `text` to a fresh file under the temp dir; returns its path.
fn temp_file(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("routecap-leases-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

/// Two UTC targets with one line each; 10-minute leases, 1-hour retention.
const CONFIG: &str = r#"{
  "call_lease_seconds": 600,
  "call_retention_seconds": 3600,
  "targets": [
    {"id": "a", "caps": {"concurrency": 1}},
    {"id": "b", "caps": {"concurrency": 1}}
  ]
}"#;

fn replay(config: &str, events: &[Value]) -> (i32, Vec<Value>, String) {
    let path = temp_file("config.json", config);
    let text: String = events.iter().map(|e| format!("{e}\n")).collect();
    let (code, out, err) = run(&["replay", &path, "-", "--seed", "1"], text.as_bytes());
    (code, out.lines().map(json).collect(), err)
}

fn ev(at: &str, kind: &str, fields: Value) -> Value {
    let mut v = json!({"at": format!("2026-11-22T{at}Z"), "type": kind});
    if let (Some(o), Value::Object(f)) = (v.as_object_mut(), fields) {
        o.extend(f);
    }
    v
}

#[test]
fn replay_touch_cancel_and_lease_expiry() {
    let events = [
        ev("10:00:00", "connect", json!({"call": "c1", "target": "a"})),
        ev("10:05:00", "touch", json!({"call": "c1"})), // lease until 10:15
        ev("10:14:59", "connect", json!({"call": "c2", "target": "a"})),
        ev("10:15:00", "touch", json!({"call": "c1"})),
        ev("10:15:00", "connect", json!({"call": "c2", "target": "a"})),
        ev("10:16:00", "end", json!({"call": "c1"})),
        ev("10:16:00", "connect", json!({"call": "c3", "target": "a"})),
        ev(
            "10:17:00",
            "reserve",
            json!({"call": "r1", "target": "b", "ttl": 600}),
        ),
        ev("10:17:30", "connect", json!({"call": "c4", "target": "b"})),
        ev("10:18:00", "cancel", json!({"call": "r1"})),
        ev("10:18:00", "connect", json!({"call": "c4", "target": "b"})),
        ev("10:18:00", "cancel", json!({"call": "c4"})),
        ev("10:18:00", "cancel", json!({"call": "r1"})),
        ev(
            "11:14:59",
            "convert",
            json!({"call": "c1", "revenue": "5.00"}),
        ),
        ev("11:15:00", "end", json!({"call": "c1"})),
        ev("11:15:00", "touch", json!({})),
    ];
    let (code, lines, err) = replay(CONFIG, &events);
    assert_eq!(code, 1, "some lines are errors: {err}");
    assert_eq!(lines.len(), events.len());
    let ok = |i: usize| json!({"line": i + 1, "ok": true});
    let error = |i: usize| lines[i]["error"].as_str().unwrap_or_default().to_string();
    assert_eq!(lines[0], ok(0));
    assert_eq!(lines[1], ok(1), "touch");
    assert_eq!(
        lines[2]["ok"], false,
        "the touched lease still holds at 10:14:59"
    );
    assert_eq!(lines[2]["reasons"][0]["code"], "concurrency_cap");
    assert_eq!(
        error(3),
        r#"call "c1": lease expired at 2026-11-22T10:15:00Z"#
    );
    assert_eq!(lines[4], ok(4), "the slot is free at touch + lease");
    assert_eq!(lines[5], ok(5), "a late end is accepted");
    assert_eq!(lines[6]["ok"], false, "and frees nothing more");
    assert_eq!(lines[7], ok(7), "reserve");
    assert_eq!(lines[8]["ok"], false, "the reservation holds b's line");
    assert_eq!(lines[9], ok(9), "cancel");
    assert_eq!(lines[10], ok(10), "freed at once");
    assert_eq!(
        error(11),
        r#"call "c4" is connected, not reserved: end it instead of cancelling"#
    );
    assert_eq!(error(12), r#"unknown call "r1""#);
    assert_eq!(lines[13], ok(13), "converts until lapse + retention");
    assert_eq!(error(14), r#"unknown call "c1""#, "then forgotten");
    assert_eq!(error(15), r#"missing "call""#);
}

#[test]
fn replay_with_only_accepted_touches_and_cancels_exits_0() {
    let events = [
        ev("10:00:00", "connect", json!({"call": "c1", "target": "a"})),
        ev("10:01:00", "touch", json!({"call": "c1"})),
        ev(
            "10:02:00",
            "reserve",
            json!({"call": "r1", "target": "b", "ttl": 60}),
        ),
        ev("10:02:30", "cancel", json!({"call": "r1"})),
        ev("10:03:00", "end", json!({"call": "c1"})),
    ];
    let (code, lines, err) = replay(CONFIG, &events);
    assert_eq!(code, 0, "{err}");
    assert!(lines.iter().all(|l| l["ok"] == true), "{lines:?}");
}

#[test]
fn lease_and_retention_must_be_positive_whole_seconds() {
    for (field, value) in [
        ("call_lease_seconds", "0"),
        ("call_retention_seconds", "-5"),
        ("call_lease_seconds", "1.5"),
        ("call_retention_seconds", "\"1d\""),
        ("call_lease_seconds", "315576001"),
    ] {
        let config = format!(r#"{{"{field}": {value}, "targets": [{{"id": "a"}}]}}"#);
        let path = temp_file("bad.json", &config);
        let (code, out, err) = run(&["check", &path, "--at", "2026-11-22T10:00:00Z"], b"");
        assert_eq!(code, 2, "{field} = {value}: {err}");
        assert!(out.is_empty());
        assert!(
            err.contains(&format!(": {field}: {value} is not a number of seconds")),
            "{field} = {value}: {err}"
        );
    }
}
