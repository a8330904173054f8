//! `routecap usage` and the live-change replay events end to end.

use crate::cli_support;

use cli_support::{json, run};
use serde_json::Value;

const AT: &str = "2026-11-22T15:00:00Z";

#[test]
fn usage_json_lists_every_cap_with_its_window() {
    let (code, out, err) = run(
        &["usage", "examples/native.json", "--at", AT, "--json"],
        b"",
    );
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert_eq!(v["at"], AT);
    let owners = v["owners"].as_array().unwrap();
    let ny = &owners[0];
    assert_eq!(ny["id"], "ny-insurance");
    assert_eq!(ny["kind"], "target");
    assert_eq!(
        (ny["live"].as_u64(), ny["reserved"].as_u64()),
        (Some(1), Some(0))
    );
    let cap = |o: &Value, c: &str| {
        o["caps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["cap"] == c)
            .cloned()
            .unwrap_or_else(|| panic!("no {c} in {o}"))
    };
    assert_eq!(
        cap(ny, "daily"),
        serde_json::json!({"cap": "daily", "used": 12, "limit": 40,
            "window_start": "2026-11-22T05:00:00Z", "window_end": "2026-11-23T05:00:00Z"})
    );
    assert_eq!(
        cap(ny, "daily_revenue"),
        serde_json::json!({"cap": "daily_revenue", "used": "420.50", "limit": "1500.00",
            "window_start": "2026-11-22T05:00:00Z", "window_end": "2026-11-23T05:00:00Z"})
    );
    assert_eq!(
        cap(ny, "total"),
        serde_json::json!({"cap": "total", "used": 2210, "limit": 5000})
    );
    assert_eq!(cap(ny, "concurrency")["used"], 1);
    // every owner is listed, eligible or not, groups after targets
    let ids: Vec<&str> = owners.iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert!(
        ids.contains(&"stjohns-backup") && ids.contains(&"us-east"),
        "{ids:?}"
    );
    assert_eq!(owners.last().unwrap()["kind"], "group");
    assert_eq!(
        cap(
            owners.iter().find(|o| o["id"] == "stjohns-backup").unwrap(),
            "total"
        )["used"],
        200
    );
}

#[test]
fn usage_table_for_people_and_errors() {
    let (code, out, err) = run(&["usage", "examples/native.json", "--at", AT], b"");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("usage at 2026-11-22T15:00:00Z\n\nOWNER"),
        "{out}"
    );
    let line = out.lines().find(|l| l.starts_with("ny-insurance")).unwrap();
    assert!(line.contains("hourly") && line.contains("1+0"), "{line}");
    assert!(
        out.contains("2026-11-22T05:00:00Z .. 2026-11-23T05:00:00Z"),
        "{out}"
    );
    let (code, out, err) = run(&["usage", "examples/native.json", "--at", "yesterday"], b"");
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(err.contains("--at \"yesterday\""), "{err}");
    let (code, _, err) = run(
        &["usage", "examples/native.json", "--state", "redis://x:1"],
        b"",
    );
    assert_eq!(code, 2, "{err}");
    let (code, _, _) = run(
        &[
            "usage",
            "examples/native.json",
            "--state",
            "memory",
            "--namespace",
            "x",
            "--at",
            AT,
        ],
        b"",
    );
    assert_eq!(code, 0);
}

#[test]
fn replay_answers_every_live_change_event() {
    let config = r#"{"as_of": "2026-11-23T00:00:00Z",
        "targets": [{"id": "a", "caps": {"daily": 1}}, {"id": "b"}],
        "groups": [{"id": "g", "members": ["a", "b"]}]}"#;
    let dir = std::env::temp_dir().join(format!("routecap-live-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("c.json");
    std::fs::write(&path, config).unwrap();
    let events = [
        r#"{"at": "2026-11-23T10:00:00Z", "type": "connect", "call": "c1", "target": "a"}"#,
        r#"{"at": "2026-11-23T10:01:00Z", "type": "connect", "call": "c2", "target": "a"}"#,
        r#"{"at": "2026-11-23T10:02:00Z", "type": "update", "target": "a", "patch": {"caps": {"daily": 2}}}"#,
        r#"{"at": "2026-11-23T10:03:00Z", "type": "connect", "call": "c2", "target": "a"}"#,
        r#"{"at": "2026-11-23T10:04:00Z", "type": "pause", "target": "b"}"#,
        r#"{"at": "2026-11-23T10:04:00Z", "type": "connect", "call": "c3", "target": "b"}"#,
        r#"{"at": "2026-11-23T10:05:00Z", "type": "resume", "group": "g"}"#,
        r#"{"at": "2026-11-23T10:06:00Z", "type": "usage", "usage": {"a": {"daily": 0}}}"#,
        r#"{"at": "2026-11-23T10:06:00Z", "type": "connect", "call": "c4", "target": "a"}"#,
        r#"{"at": "2026-11-23T10:07:00Z", "type": "config", "config": {"targets": [{"id": "a"}]}}"#,
        r#"{"at": "2026-11-23T10:08:00Z", "type": "update", "target": "a", "patch": {"colour": 1}}"#,
        r#"{"at": "2026-11-23T10:08:00Z", "type": "update", "target": "zz", "patch": {}}"#,
        r#"{"at": "2026-11-23T10:08:00Z", "type": "usage", "usage": {"zz": {"daily": 1}}}"#,
        r#"{"at": "2026-11-23T10:08:00Z", "type": "pause"}"#,
        r#"{"at": "2026-11-23T10:08:00Z", "type": "config", "config": 5}"#,
    ]
    .join("\n");
    let (code, out, err) = run(
        &["replay", path.to_str().unwrap(), "-", "--seed", "1"],
        events.as_bytes(),
    );
    assert_eq!(code, 1, "some lines are errors: {err}");
    let lines: Vec<Value> = out.lines().map(json).collect();
    let ok = |i: usize| lines[i]["ok"].clone();
    assert_eq!(ok(0), true);
    assert_eq!(ok(1), false, "daily cap 1");
    assert_eq!(ok(2), true);
    assert_eq!(ok(3), true, "raised cap: open at once");
    assert_eq!(ok(4), true);
    assert_eq!(lines[5]["reasons"][0]["code"], "paused");
    assert_eq!(ok(6), true);
    assert_eq!(ok(7), true);
    assert_eq!(ok(8), true, "the import reset today's count");
    assert_eq!(ok(9), true);
    assert_eq!(lines[9]["dropped"]["targets"], serde_json::json!(["b"]));
    assert_eq!(lines[9]["dropped"]["groups"], serde_json::json!(["g"]));
    let error = |i: usize| lines[i]["error"].as_str().unwrap().to_string();
    assert!(
        error(10).starts_with(
            "update: patch.colour: 1 is not a field a routecap target patch can change (allowed: "
        ),
        "{}",
        error(10)
    );
    assert_eq!(error(11), r#"target: unknown target "zz""#);
    assert_eq!(
        error(12),
        r#"usage import: unknown target or group "zz"; nothing was applied"#
    );
    assert_eq!(
        error(13),
        r#"pause needs exactly one of "target" or "group""#
    );
    assert!(
        error(14).starts_with("config: $: 5 is not a config"),
        "{}",
        error(14)
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn replay_patches_a_retreaver_target_named_by_tid() {
    let config = r#"{"targets": [{"target": {"id": 22592, "tid": "support", "caps": [{"type": "Hard", "cap": 1, "filled": 1}]}}]}"#;
    let dir = std::env::temp_dir().join(format!("routecap-live-r-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("r.json");
    std::fs::write(&path, config).unwrap();
    let events = [
        r#"{"at": "2026-11-23T10:00:00Z", "type": "connect", "call": "c1", "target": "support"}"#,
        r#"{"at": "2026-11-23T10:01:00Z", "type": "update", "target": "support", "patch": {"target": {"hard_cap_attributes": {"cap": 100}}}}"#,
        r#"{"at": "2026-11-23T10:02:00Z", "type": "connect", "call": "c1", "target": "support"}"#,
        r#"{"at": "2026-11-23T10:03:00Z", "type": "update", "target": "22592", "patch": {"target": {"paused": true}}}"#,
        r#"{"at": "2026-11-23T10:04:00Z", "type": "connect", "call": "c2", "target": "22592"}"#,
    ]
    .join("\n");
    let (code, out, err) = run(
        &["replay", path.to_str().unwrap(), "-", "--seed", "1"],
        events.as_bytes(),
    );
    assert_eq!(code, 0, "{err}{out}");
    let lines: Vec<Value> = out.lines().map(json).collect();
    assert_eq!(lines[0]["reasons"][0]["code"], "total_cap");
    assert_eq!(lines[2]["ok"], true);
    assert_eq!(lines[4]["reasons"][0]["code"], "paused");
    std::fs::remove_dir_all(&dir).ok();
}

/// SPEC §14 through replay: caps used up in Los Angeles, then the zone
/// becomes UTC at the same instant (an `update`, then a whole `config`).
/// Route and connect agree: the daily count holds until the end of the UTC
/// day, the monthly one until the end of the UTC month. (Mirrored on
/// Redis under `scripts/with-redis`.)
#[test]
fn replay_zone_changes_keep_the_window_count() {
    let config = r#"{"targets": [{"id": "a", "time_zone": "America/Los_Angeles", "caps": {"daily": 1, "monthly": 1}}, {"id": "b"}]}"#;
    let dir = std::env::temp_dir().join(format!("routecap-zone-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("la.json");
    std::fs::write(&path, config).unwrap();
    let utc = r#"{"targets": [{"id": "a", "time_zone": "UTC", "caps": {"daily": 1, "monthly": 1}}, {"id": "b"}]}"#;
    for change in [
        r#"{"at": "2026-11-23T20:00:00Z", "type": "update", "target": "a", "patch": {"time_zone": "UTC"}}"#.to_string(),
        format!(r#"{{"at": "2026-11-23T20:00:00Z", "type": "config", "config": {utc}}}"#),
    ] {
        let events = [
            r#"{"at": "2026-11-23T20:00:00Z", "type": "connect", "call": "c1", "target": "a"}"#,
            r#"{"at": "2026-11-23T20:00:00Z", "type": "end", "call": "c1"}"#,
            &change,
            r#"{"at": "2026-11-23T20:00:00Z", "type": "route", "call": "c2"}"#,
            r#"{"at": "2026-11-23T20:00:00Z", "type": "connect", "call": "c2", "target": "a"}"#,
            r#"{"at": "2026-11-24T00:00:00Z", "type": "route", "call": "c3"}"#,
            r#"{"at": "2026-12-01T00:00:00Z", "type": "connect", "call": "c4", "target": "a"}"#,
        ]
        .join("\n");
        let (code, out, err) = run(
            &["replay", path.to_str().unwrap(), "-", "--seed", "1"],
            events.as_bytes(),
        );
        assert_eq!(code, 0, "{err}");
        let lines: Vec<Value> = out.lines().map(json).collect();
        assert_eq!(lines[2]["ok"], true, "{change}");
        let offered = |i: usize| lines[i]["plan"].as_array().unwrap().len();
        assert_eq!(offered(3), 1, "only b: {}", lines[3]);
        assert_eq!(lines[3]["rejected"][0]["id"], "a", "{}", lines[3]);
        assert_eq!(lines[4]["ok"], false);
        assert_eq!(
            lines[4]["reasons"],
            serde_json::json!([
                {"code": "daily_cap", "used": 1, "limit": 1, "until": "2026-11-24T00:00:00Z"},
                {"code": "monthly_cap", "used": 1, "limit": 1, "until": "2026-12-01T00:00:00Z"}
            ])
        );
        assert_eq!(offered(5), 1, "monthly still reached: {}", lines[5]);
        assert_eq!(lines[6]["ok"], true, "a new UTC month");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// A whole config with no target and no group empties the engine only
/// when the event asks for it.
#[test]
fn replay_refuses_an_empty_config_unless_asked() {
    let dir = std::env::temp_dir().join(format!("routecap-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("c.json");
    std::fs::write(&path, r#"{"targets": [{"id": "a"}]}"#).unwrap();
    let events = [
        r#"{"at": "2026-11-23T10:00:00Z", "type": "config", "config": []}"#,
        r#"{"at": "2026-11-23T10:00:00Z", "type": "config", "config": {"targets": []}}"#,
        r#"{"at": "2026-11-23T10:00:00Z", "type": "connect", "call": "c1", "target": "a"}"#,
        r#"{"at": "2026-11-23T10:00:00Z", "type": "config", "config": [], "allow_empty": "yes"}"#,
        r#"{"at": "2026-11-23T10:01:00Z", "type": "config", "config": [], "allow_empty": true}"#,
        r#"{"at": "2026-11-23T10:01:00Z", "type": "connect", "call": "c2", "target": "a"}"#,
    ]
    .join("\n");
    let (code, out, _) = run(
        &["replay", path.to_str().unwrap(), "-", "--seed", "1"],
        events.as_bytes(),
    );
    assert_eq!(code, 1);
    let lines: Vec<Value> = out.lines().map(json).collect();
    let error = |i: usize| lines[i]["error"].as_str().unwrap_or("").to_string();
    assert_eq!(
        error(0),
        "config: $: [] has no targets and no groups: it would drop every target, group and counter of the running config; to empty the engine on purpose, add \"allow_empty\": true to the event"
    );
    assert!(
        error(1).starts_with(r#"config: $: {"targets":[]} has no targets"#),
        "{}",
        error(1)
    );
    assert_eq!(lines[2]["ok"], true, "nothing was dropped");
    assert_eq!(error(3), "allow_empty: \"yes\" is not true or false");
    assert_eq!(lines[4]["dropped"]["targets"], serde_json::json!(["a"]));
    assert_eq!(error(5), r#"target: unknown target "a""#);
    std::fs::remove_dir_all(&dir).ok();
}
