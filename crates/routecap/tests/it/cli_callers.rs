//! Repeat and duplicate callers through the command line: a replay of
//! `examples/callers-events.jsonl` against `examples/callers.json`, whose
//! every line was checked by hand (see the comments), `--caller` on
//! `route`, and config errors.

use crate::cli_support;

use cli_support::{json, run};
use serde_json::{json, Value};

const CFG: &str = "examples/callers.json";
const EVENTS: &str = "examples/callers-events.jsonl";

/// The replay output, line by line. Why each line is what it is (priorities
/// bolt 1, acme 2, spare 3; `original` over 1 day by default; campaign
/// `fresh` takes bolt and acme, `different` over 1 day, fallback spare;
/// acme refuses a caller it connected within 1 hour, bolt one it
/// converted within 30 days):
/// 1. nothing known of X yet: priority order;
/// 2. and 3. X connects to acme at 10:00, ends;
/// 4. 10:30: acme refuses X until 11:00; `original` would ring acme but
///    it is not eligible, so the usual order;
/// 5. through `fresh`: acme also refuses X as a repeat caller until the
///    next day 10:00; spare is not a candidate, so it comes as fallback;
/// 6. 11:00: the duplicate window is over, and `original` rings acme first;
/// 7. Y has no history: priority order;
/// 8. and 9. X connects to bolt at 11:00 and converts at 11:05;
/// 10. 12:00: bolt refuses X until 11:05 thirty days later; X's last
///     connect (bolt) is not eligible, so the usual order;
/// 11. connect re-checks: refused with the same reason;
/// 12. an anonymous caller never matches any history.
const GOLDEN: &str = r#"{"line":1,"call":"c1","plan":[{"target":"bolt","timeout_seconds":30},{"target":"acme","timeout_seconds":30},{"target":"spare","timeout_seconds":30}],"rejected":[]}
{"line":2,"ok":true}
{"line":3,"ok":true}
{"line":4,"call":"c2","plan":[{"target":"bolt","timeout_seconds":30},{"target":"spare","timeout_seconds":30}],"rejected":[{"id":"acme","reasons":[{"code":"duplicate_caller","until":"2026-11-23T11:00:00Z","detail":"caller +19195550100 connected at 2026-11-23T10:00:00Z (window 3600 s)"}]}]}
{"line":5,"call":"c3","plan":[{"target":"bolt","timeout_seconds":30},{"target":"spare","timeout_seconds":30,"fallback":true}],"rejected":[{"id":"acme","reasons":[{"code":"duplicate_caller","until":"2026-11-23T11:00:00Z","detail":"caller +19195550100 connected at 2026-11-23T10:00:00Z (window 3600 s)"},{"code":"repeat_caller","until":"2026-11-24T10:00:00Z","detail":"caller +19195550100 connected at 2026-11-23T10:00:00Z (window 86400 s)"}]}]}
{"line":6,"call":"c4","plan":[{"target":"acme","timeout_seconds":30},{"target":"bolt","timeout_seconds":30},{"target":"spare","timeout_seconds":30}],"rejected":[]}
{"line":7,"call":"c5","plan":[{"target":"bolt","timeout_seconds":30},{"target":"acme","timeout_seconds":30},{"target":"spare","timeout_seconds":30}],"rejected":[]}
{"line":8,"ok":true}
{"line":9,"ok":true}
{"line":10,"call":"c6","plan":[{"target":"acme","timeout_seconds":30},{"target":"spare","timeout_seconds":30}],"rejected":[{"id":"bolt","reasons":[{"code":"duplicate_caller","until":"2026-12-23T11:05:00Z","detail":"caller +19195550100 converted at 2026-11-23T11:05:00Z (window 2592000 s)"}]}]}
{"line":11,"ok":false,"reasons":[{"code":"duplicate_caller","until":"2026-12-23T11:05:00Z","detail":"caller +19195550100 converted at 2026-11-23T11:05:00Z (window 2592000 s)"}]}
{"line":12,"call":"c8","plan":[{"target":"bolt","timeout_seconds":30},{"target":"acme","timeout_seconds":30},{"target":"spare","timeout_seconds":30}],"rejected":[]}
"#;

#[test]
fn replay_meets_repeat_and_duplicate_callers() {
    let (code, out, err) = run(&["replay", CFG, EVENTS, "--seed", "5"], b"");
    assert_eq!(code, 0, "{err}");
    for (i, (got, want)) in out.lines().zip(GOLDEN.lines()).enumerate() {
        assert_eq!(json(got), json(want), "line {}", i + 1);
    }
    assert_eq!(out.lines().count(), GOLDEN.lines().count());
}

#[test]
fn route_takes_a_caller_and_a_fresh_state_has_no_history() {
    let args = [
        "route",
        CFG,
        "--at",
        "2026-11-23T10:30:00Z",
        "--seed",
        "5",
        "--json",
    ];
    let plain: Value = json(&run(&args, b"").1);
    let (code, out, err) = run(&[&args[..], &["--caller", "+19195550100"]].concat(), b"");
    assert_eq!(code, 0, "{err}");
    // route reads the config's state: no calls, so nobody is a repeat caller
    assert_eq!(json(&out)["plan"], plain["plan"]);
    assert_eq!(plain["plan"][0]["target"], "bolt");
}

#[test]
fn bad_caller_rules_exit_2_naming_path_value_and_choices() {
    let doc = json!({"targets": [{"id": "a", "duplicates": {"basis": "answered", "window": 60}}]});
    let (code, out, err) = run(&["check", "-", "--json"], doc.to_string().as_bytes());
    assert_eq!(code, 2);
    assert_eq!(out, "");
    assert!(
        err.contains(
            "targets[0].duplicates.basis: \"answered\" is not a duplicate basis (\"connect\" or \"convert\")"
        ),
        "{err}"
    );
    let doc = json!({"repeat_callers": {"mode": "different", "window": -5}, "targets": []});
    let (code, _, err) = run(&["check", "-", "--json"], doc.to_string().as_bytes());
    assert_eq!(code, 2);
    assert!(
        err.contains("repeat_callers.window: -5 is not a window (whole seconds, an integer from 1 to 315576000)"),
        "{err}"
    );
}
