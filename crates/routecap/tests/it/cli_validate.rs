//! `routecap validate` and the strict native shape (SPEC §13): unknown
//! fields, wrong shapes, warnings, exit codes; the same error on `check`
//! and on a replay `config` event.

use serde_json::{json, Value};

use super::cli_support::{json as parse, run};

/// `routecap validate --json` on `doc` given on stdin, with extra args.
fn validate(doc: &Value, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["validate", "-", "--json"];
    args.extend_from_slice(extra);
    let (code, out, err) = run(&args, doc.to_string().as_bytes());
    assert!(err.is_empty(), "validate writes to stdout only: {err}");
    (code, parse(&out))
}

fn target(extra: Value) -> Value {
    let mut t = json!({"id": "a", "time_zone": "America/New_York", "caps": {"daily": 5}});
    for (k, v) in extra.as_object().unwrap() {
        t[k] = v.clone();
    }
    t
}

#[test]
fn a_misspelt_field_is_an_error_with_its_path_and_the_field_meant() {
    let mut t = target(json!({}));
    t.as_object_mut().unwrap().remove("time_zone");
    t["tiem_zone"] = json!("America/New_York");
    let (code, report) = validate(&json!({"targets": [t]}), &[]);
    assert_eq!(code, 2);
    assert_eq!(
        report,
        json!({"ok": false, "shape": "native", "warnings": [], "errors": [{
            "path": "$.targets[0].tiem_zone",
            "message": "unknown field `tiem_zone`; did you mean `time_zone`?"}]})
    );
    // a misspelt cap, deeper down
    let doc = json!({"targets": [target(json!({"caps": {"dialy": 5}}))]});
    let (code, report) = validate(&doc, &[]);
    assert_eq!(code, 2);
    assert_eq!(report["errors"][0]["path"], "$.targets[0].caps.dialy");
    assert!(report["errors"][0]["message"]
        .as_str()
        .unwrap()
        .ends_with("did you mean `daily`?"));
    // every command refuses it the same way
    let (code, _, err) = run(
        &["check", "-", "--at", "2026-11-23T15:00:00Z"],
        doc.to_string().as_bytes(),
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("targets[0].caps.dialy: unknown field `dialy`; did you mean `daily`?"),
        "{err}"
    );
}

#[test]
fn a_field_far_from_every_known_one_lists_the_known_fields() {
    let doc = json!({"targets": [target(json!({"hours": [{"day": 1, "sometimes": true}]}))]});
    let (code, report) = validate(&doc, &[]);
    assert_eq!(code, 2);
    assert_eq!(
        report["errors"][0]["path"],
        "$.targets[0].hours[0].sometimes"
    );
    let message = report["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("known fields here: close, closed, day, invert, open"),
        "{message}"
    );
}

#[test]
fn dollar_and_x_fields_are_the_operators_own() {
    let doc = json!({
        "$schema": "../docs/config.schema.json",
        "x-owner": "ops",
        "targets": [target(json!({"x-note": "called weekly", "$comment": "hi"}))]
    });
    let (code, report) = validate(&doc, &[]);
    assert_eq!((code, &report["errors"]), (0, &json!([])));
}

#[test]
fn a_record_read_as_the_wrong_shape_names_the_shape_it_looks_like() {
    let (code, out, err) = run(
        &["check", "examples/ringba.json", "--format", "retreaver"],
        b"",
    );
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(err.contains("targets[0]: "), "{err}");
    assert!(
        err.contains(
            "is a Ringba target (it has `schedule`), not a Retreaver one: read it as ringba"
        ),
        "{err}"
    );
    for (file, format, looks) in [
        ("examples/retreaver.json", "ringba", "is a Retreaver target"),
        (
            "examples/native.json",
            "ringba",
            "is a routecap (native) target",
        ),
        ("examples/ringba.json", "routecap", "is a Ringba document"),
        (
            "examples/retreaver.json",
            "routecap",
            "is a Retreaver document",
        ),
    ] {
        let (code, _, err) = run(&["validate", file, "--format", format], b"");
        assert_eq!(code, 2, "{file} as {format}");
        let (code, out, _) = run(&["validate", file, "--format", format, "--json"], b"");
        assert_eq!(code, 2);
        let msg = parse(&out)["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(msg.contains(looks), "{file} as {format}: {msg} / {err}");
    }
}

#[test]
fn a_huge_zone_name_is_refused_by_its_length() {
    let doc = json!({"targets": [target(json!({"time_zone": "A".repeat(1 << 20)}))]});
    let (code, report) = validate(&doc, &[]);
    assert_eq!(code, 2);
    assert_eq!(report["errors"][0]["path"], "$.targets[0].time_zone");
    assert!(report["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("longer than 64 bytes"));
    let doc = json!({"targets": [target(json!({"id": "b".repeat(257)}))]});
    let (code, report) = validate(&doc, &[]);
    assert_eq!(code, 2);
    assert_eq!(report["errors"][0]["path"], "$.targets[0].id");
}

/// One config with each warning once.
fn warned() -> Value {
    json!({
        "targets": [
            {"id": "weekdays", "hours": [{"day": 1, "open": "09:00", "close": "17:00"}]},
            {"id": "loose", "caps": {"hourly": 50, "daily": 40}},
            {"id": "lonely", "priority": 9, "weight": 0},
            {"id": "old-zone", "time_zone": "US/Eastern"}
        ],
        "groups": [{"id": "nobody", "members": []}],
        "campaigns": [{"id": "c", "candidates": ["weekdays", "loose", "old-zone"]}]
    })
}

#[test]
fn each_warning_has_a_code_a_path_and_a_sentence() {
    let (code, report) = validate(&warned(), &[]);
    assert_eq!(code, 0, "{report}");
    let got: Vec<(String, String)> = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            assert!(w["message"].as_str().unwrap().len() > 20, "{w}");
            (
                w["code"].as_str().unwrap().into(),
                w["path"].as_str().unwrap().into(),
            )
        })
        .collect();
    let want = [
        ("open_unlisted_days", "$.targets[0].hours"),
        ("cap_cannot_bind", "$.targets[1].caps"),
        ("legacy_zone_alias", "$.targets[3].time_zone"),
        ("empty_group", "$.groups[0]"),
        ("unreachable_candidate", "$.targets[2]"),
        ("zero_weight_alone", "$.targets[2].weight"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(c, p)| (c.to_string(), p.to_string()))
        .collect();
    assert_eq!(got, want);
    let (code, _) = validate(&warned(), &["--strict"]);
    assert_eq!(code, 1);
    // text output: one line per warning and a summary
    let (code, out, _) = run(&["validate", "-"], warned().to_string().as_bytes());
    assert_eq!(code, 0);
    assert!(out.contains("warning[open_unlisted_days]: $.targets[0].hours: target `weekdays` lists hours for Mon only"), "{out}");
    assert!(
        out.ends_with("-: valid (native shape): 0 errors, 6 warnings\n"),
        "{out}"
    );
    // other commands stay silent about warnings
    let (code, _, err) = run(
        &["check", "-", "--at", "2026-11-23T15:00:00Z"],
        warned().to_string().as_bytes(),
    );
    assert_eq!((code, err.as_str()), (0, ""));
}

#[test]
fn the_bundled_examples_validate_without_warnings() {
    for file in [
        "examples/native.json",
        "examples/attributes.json",
        "examples/callers.json",
        "examples/retreaver.json",
        "examples/ringba.json",
    ] {
        let (code, out, err) = run(&["validate", file, "--strict", "--json"], b"");
        assert_eq!(code, 0, "{file}: {out} {err}");
        let report = parse(&out);
        assert_eq!(report["warnings"], json!([]), "{file}");
    }
}

#[test]
fn a_missing_file_is_an_error_at_the_root() {
    let (code, out, _) = run(&["validate", "no/such/file.json", "--json"], b"");
    assert_eq!(code, 2);
    let report = parse(&out);
    assert_eq!(report["errors"][0]["path"], "$");
    assert_eq!(report["shape"], Value::Null);
    let (code, out, _) = run(&["validate", "-", "--json"], b"{\"targets\": [");
    assert_eq!(code, 2);
    let message = parse(&out)["errors"][0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.starts_with("line 1 column 13: invalid JSON"),
        "{message}"
    );
}

#[test]
fn a_replay_config_event_refuses_a_misspelt_field_on_its_line() {
    let events = concat!(
        r#"{"at": "2026-11-23T15:00:00Z", "type": "config", "config": {"targets": [{"id": "a", "caps": {"dialy": 1}}]}}"#,
        "\n"
    );
    let (_, out, err) = run(
        &["replay", "examples/native.json", "-", "--seed", "1"],
        events.as_bytes(),
    );
    let line = parse(out.lines().next().unwrap_or("null"));
    assert_eq!(
        line,
        json!({"line": 1, "error": "config: targets[0].caps.dialy: unknown field `dialy`; did you mean `daily`?"}),
        "{err}"
    );
}
