//! `routecap check`, `route` and `replay` end to end on the bundled examples.

use crate::cli_support;

use cli_support::{json, run as routecap_stdin};
use serde_json::Value;

fn routecap(args: &[&str]) -> (i32, String, String) {
    routecap_stdin(args, b"")
}

const AT: &str = "2026-11-22T15:00:00Z";

#[test]
fn check_reports_local_time_reasons_and_until() {
    let (code, out, err) = routecap(&["check", "examples/native.json", "--at", AT, "--json"]);
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert_eq!(v["at"], AT);
    let cands = v["candidates"].as_array().unwrap();
    let by_id = |id: &str| cands.iter().find(|c| c["id"] == id).unwrap().clone();
    let ny = by_id("ny-insurance");
    assert_eq!(ny["kind"], "target");
    assert_eq!(ny["eligible"], false);
    assert_eq!(ny["local_time"], "2026-11-22T10:00:00-05:00");
    assert_eq!(ny["reasons"][0]["code"], "closed");
    assert_eq!(ny["reasons"][0]["until"], "2026-11-23T14:00:00Z");
    let chicago = by_id("chicago-auto");
    assert_eq!(chicago["reasons"][0]["code"], "daily_cap");
    assert_eq!(chicago["reasons"][0]["used"], 25);
    assert_eq!(chicago["reasons"][0]["limit"], 25);
    // Chicago's next local midnight is 06:00Z.
    assert_eq!(chicago["reasons"][0]["until"], "2026-11-23T06:00:00Z");
    let stjohns = by_id("stjohns-backup");
    let codes: Vec<&str> = stjohns["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["paused", "total_cap"], "all reasons, not the first");
    assert_eq!(stjohns["local_time"], "2026-11-22T11:30:00-03:30");
    // Monday to Friday only, Saturday and Sunday listed as closed: closed
    // until Monday 07:00 in Los Angeles.
    let la = by_id("la-solar");
    assert_eq!(la["eligible"], false);
    assert_eq!(la["reasons"][0]["code"], "closed");
    assert_eq!(la["reasons"][0]["until"], "2026-11-23T15:00:00Z");
}

#[test]
fn check_human_table_and_stdin() {
    let cfg = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/native.json"
    ))
    .unwrap();
    let (code, out, _) = routecap_stdin(&["check", "-", "--at", AT], &cfg);
    assert_eq!(code, 0);
    assert!(out.contains("CANDIDATE"), "{out}");
    assert!(out.contains("daily_cap 25/25"), "{out}");
    assert!(out.contains("Sun 2026-11-22 10:00 -05:00"), "{out}");
}

#[test]
fn every_example_checks_in_each_shape() {
    for f in [
        "examples/native.json",
        "examples/retreaver.json",
        "examples/ringba.json",
    ] {
        let (code, out, err) = routecap(&["check", f, "--at", AT, "--json"]);
        assert_eq!(code, 0, "{f}: {err}");
        assert!(
            !json(&out)["candidates"].as_array().unwrap().is_empty(),
            "{f}"
        );
    }
}

#[test]
fn bad_config_exits_2_naming_file_and_path() {
    let bad = br#"{"targets": [{"id": "a", "time_zone": "Eastern Time"}]}"#;
    let (code, out, err) = routecap_stdin(&["check", "-", "--at", AT, "--format", "routecap"], bad);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains("<stdin>"), "{err}");
    assert!(err.contains("targets[0].time_zone"), "{err}");
    assert!(err.contains("not a known time zone"), "{err}");
    assert!(
        err.contains("Eastern Time (US & Canada)"),
        "suggests the Rails name: {err}"
    );
}

/// `--at` is read by the core's one instant reader: RFC 3339 (chrono's
/// parser), nothing around it, in 1970..2100; each refusal names the flag.
#[test]
fn at_is_an_rfc_3339_instant_in_range_exactly() {
    for (at, message) in [
        (
            "yesterday",
            r#"--at "yesterday" is not an RFC 3339 instant (e.g. 2026-11-22T15:00:00Z): premature end of input"#,
        ),
        (
            " 2026-11-22T15:00:00Z",
            r#"--at " 2026-11-22T15:00:00Z" is not an RFC 3339 instant (e.g. 2026-11-22T15:00:00Z): input contains invalid characters"#,
        ),
        (
            "2100-01-01T00:00:00Z",
            r#"--at "2100-01-01T00:00:00Z" is outside the supported range 1970-01-01T00:00:00Z .. 2100-01-01T00:00:00Z"#,
        ),
    ] {
        let (code, out, err) = routecap(&["check", "examples/native.json", "--at", at]);
        assert_eq!((code, out.as_str()), (2, ""), "{at:?}");
        assert_eq!(err.trim_end(), format!("routecap: {message}"));
    }
    let (code, _, _) = routecap(&[
        "check",
        "examples/native.json",
        "--at",
        "2026-11-22T10:00:00-05:00",
    ]);
    assert_eq!(code, 0);
}

#[test]
fn bad_instant_and_missing_file_exit_2() {
    let (code, out, err) = routecap(&["check", "examples/native.json", "--at", "yesterday"]);
    assert_eq!((code, out.is_empty()), (2, true));
    assert!(err.contains("RFC 3339"), "{err}");
    let (code, _, err) = routecap(&["check", "no/such/file.json"]);
    assert_eq!(code, 2);
    assert!(err.contains("no/such/file.json"), "{err}");
    let (code, _, _) = routecap(&["check", "examples/native.json", "--format", "xml"]);
    assert_eq!(code, 2);
}

#[test]
fn route_is_deterministic_per_seed_and_lists_rejections() {
    let args = [
        "route",
        "examples/native.json",
        "--at",
        AT,
        "--seed",
        "7",
        "--json",
    ];
    let (code, a, err) = routecap(&args);
    assert_eq!(code, 0, "{err}");
    let (_, b, _) = routecap(&args);
    assert_eq!(a, b, "same seed, same plan");
    let v = json(&a);
    assert_eq!(v["seed"], 7);
    let plan = v["plan"].as_array().unwrap();
    // on Sunday only the priority-3 simultaneous group is eligible (the
    // priority-2 targets are closed at weekends)
    assert_eq!(plan.len(), 1);
    assert_eq!(plan[0]["group"], "night-pool");
    assert_eq!(plan[0]["targets"], serde_json::json!(["kolkata-bpo"]));
    let rejected: Vec<&str> = v["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        rejected,
        [
            "ny-insurance",
            "chicago-auto",
            "la-solar",
            "london-debt",
            "stjohns-backup"
        ]
    );
    // across seeds both orders of the priority-2 tier occur (on Monday,
    // after the two priority-1 targets)
    let mut firsts = std::collections::BTreeSet::new();
    for seed in 0..16 {
        let s = seed.to_string();
        let (_, out, _) = routecap(&[
            "route",
            "examples/native.json",
            "--at",
            "2026-11-23T15:00:00Z",
            "--seed",
            &s,
            "--json",
        ]);
        firsts.insert(
            json(&out)["plan"][2]["target"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(firsts.len(), 2, "{firsts:?}");
}

#[test]
fn replay_answers_each_line_and_exits_1_on_errors() {
    let events = concat!(
        r#"{"at": "2026-11-22T15:00:00Z", "type": "route", "call": "c1"}"#,
        "\n",
        r#"{"at": "2026-11-22T15:00:01Z", "type": "connect", "call": "c1", "target": "kolkata-bpo"}"#,
        "\n",
        r#"{"at": "2026-11-22T15:00:02Z", "type": "connect", "call": "c2", "target": "chicago-auto"}"#,
        "\n",
        "\n",
        r#"{"at": "2026-11-22T15:05:00Z", "type": "convert", "call": "c1", "revenue": "12.50"}"#,
        "\n",
        r#"{"at": "2026-11-22T15:06:00Z", "type": "end", "call": "c1"}"#,
        "\n",
        r#"{"at": "2026-11-22T15:06:00Z", "type": "end", "call": "c1"}"#,
        "\n",
        r#"{"at": "2026-11-22T15:01:00Z", "type": "end", "call": "c1"}"#,
        "\n",
        r#"{"at": "2026-11-22T15:07:00Z", "type": "reset", "target": "stjohns-backup"}"#,
        "\n",
        "not json\n",
        r#"{"at": "2026-11-22T15:08:00Z", "type": "connect", "call": "c3", "target": "nobody"}"#,
        "\n",
    );
    let (code, out, err) = routecap_stdin(
        &["replay", "examples/native.json", "-", "--seed", "7"],
        events.as_bytes(),
    );
    assert_eq!(code, 1, "{err}");
    let lines: Vec<Value> = out.lines().map(json).collect();
    assert_eq!(lines.len(), 10, "one output per event, blank line skipped");
    assert_eq!(lines[0]["line"], 1);
    assert_eq!(lines[1], serde_json::json!({"line": 2, "ok": true}));
    assert_eq!(lines[2]["ok"], false);
    assert_eq!(lines[2]["reasons"][0]["code"], "daily_cap");
    assert_eq!(lines[3], serde_json::json!({"line": 5, "ok": true}));
    assert_eq!(lines[4], serde_json::json!({"line": 6, "ok": true}));
    assert!(lines[5]["error"]
        .as_str()
        .unwrap()
        .contains("already ended"));
    assert!(lines[6]["error"]
        .as_str()
        .unwrap()
        .contains("before the previous event"));
    assert_eq!(lines[7], serde_json::json!({"line": 9, "ok": true}));
    assert_eq!(lines[8]["line"], 10);
    assert!(lines[8]["error"].is_string());
    assert!(lines[9]["error"]
        .as_str()
        .unwrap()
        .contains("unknown target"));

    // the first route event equals `routecap route --seed 7` at its instant
    let (_, r, _) = routecap(&[
        "route",
        "examples/native.json",
        "--at",
        AT,
        "--seed",
        "7",
        "--json",
    ]);
    let r = json(&r);
    assert_eq!(lines[0]["plan"], r["plan"]);
    assert_eq!(lines[0]["rejected"], r["rejected"]);
}

#[test]
fn replay_without_errors_exits_0() {
    let events = r#"{"at": "2026-11-22T15:00:01Z", "type": "connect", "call": "c1", "target": "kolkata-bpo"}
{"at": "2026-11-22T15:00:09Z", "type": "end", "call": "c1"}
"#;
    let (code, out, _) = routecap_stdin(
        &["replay", "examples/native.json", "-", "--seed", "1"],
        events.as_bytes(),
    );
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 2);
}
