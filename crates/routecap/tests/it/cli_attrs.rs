//! Call attributes on the command line and in replay events: `--caller`,
//! `--tag`, `--campaign`, filter reasons with details, campaign scoping
//! and fallback, ring timeouts on plan steps.

use crate::cli_support;

use cli_support::{json, run};
use serde_json::{json, Value};

const CFG: &str = "examples/attributes.json";
const AT: &str = "2026-11-23T15:00:00Z";

fn ok(args: &[&str]) -> Value {
    let (code, out, err) = run(args, b"");
    assert_eq!(code, 0, "{err}");
    json(&out)
}

fn candidate(v: &Value, id: &str) -> Value {
    let list = v["candidates"].as_array().unwrap();
    list.iter().find(|c| c["id"] == id).unwrap().clone()
}

#[test]
fn check_with_tags_gives_filter_mismatch_with_a_detail() {
    let base = ["check", CFG, "--at", AT, "--json"];
    let v = ok(&[
        &base[..],
        &["--tag", "geo=919,us,us-27601,us-nc", "--tag", "age=70"],
    ]
    .concat());
    assert_eq!(candidate(&v, "nc-medicare")["eligible"], true);
    assert_eq!(
        candidate(&v, "any-medicare")["reasons"],
        json!([{"code": "filter_mismatch", "until": null,
                "detail": "calling_about in [medicare]: call has no calling_about"}])
    );
    // repeated keys add values
    let v = ok(&[
        &base[..],
        &[
            "--tag",
            "geo=us-tx",
            "--tag",
            "geo=us-nc",
            "--tag",
            "age=64",
        ],
    ]
    .concat());
    assert_eq!(
        candidate(&v, "nc-medicare")["reasons"][0]["detail"],
        "age gte 65 (number): call has age = [64]"
    );
    // without tags every filter sees a call with no tags
    let v = ok(&base);
    assert_eq!(
        candidate(&v, "nc-medicare")["reasons"][0]["code"],
        "filter_mismatch"
    );
    assert_eq!(candidate(&v, "sim")["eligible"], true);
    assert_eq!(
        candidate(&v, "sim")["eligible_members"],
        json!(["sim-a", "sim-b"])
    );
}

#[test]
fn route_steps_carry_timeouts_and_a_group_takes_the_largest() {
    let v = ok(&[
        "route",
        CFG,
        "--at",
        AT,
        "--seed",
        "4",
        "--json",
        "--tag",
        "geo=us-tx",
    ]);
    assert_eq!(
        v["plan"],
        json!([{"group": "sim", "targets": ["sim-a"], "timeout_seconds": 15},
               {"target": "overflow", "timeout_seconds": 60}])
    );
    let v = ok(&[
        "route",
        CFG,
        "--at",
        AT,
        "--seed",
        "4",
        "--json",
        "--tag",
        "geo=us-nc",
    ]);
    assert_eq!(
        v["plan"][0],
        json!({"group": "sim", "targets": ["sim-a", "sim-b"], "timeout_seconds": 25})
    );
}

#[test]
fn a_campaign_scopes_candidates_and_appends_its_fallback() {
    let args = [
        "route",
        CFG,
        "--at",
        AT,
        "--seed",
        "1",
        "--json",
        "--campaign",
        "medicare",
    ];
    let v = ok(&[
        &args[..],
        &[
            "--tag",
            "calling_about=medicare",
            "--tag",
            "geo=us-nc",
            "--tag",
            "age=66",
        ],
    ]
    .concat());
    let plan = v["plan"].as_array().unwrap();
    assert_eq!(plan.len(), 4, "{v}");
    let last = plan.last().unwrap();
    assert_eq!(
        last,
        &json!({"target": "overflow", "timeout_seconds": 60, "fallback": true})
    );
    assert!(plan[..3].iter().all(|s| s.get("fallback").is_none()));
    // the campaign filter refuses the whole call: empty plan, reason on it
    let v = ok(&[&args[..], &["--tag", "calling_about=auto"]].concat());
    assert_eq!(
        v,
        json!({"at": AT, "seed": 1, "plan": [], "rejected": [{"id": "medicare", "kind": "campaign",
            "reasons": [{"code": "filter_mismatch", "until": null,
                         "detail": "calling_about in [medicare, medicaid]: call has calling_about = [auto]"}]}]})
    );
    let v = ok(&[
        "check",
        CFG,
        "--at",
        AT,
        "--json",
        "--campaign",
        "medicare",
        "--tag",
        "calling_about=medicaid",
    ]);
    assert_eq!(
        v["campaign"],
        json!({"id": "medicare", "eligible": true, "reasons": [], "fallback": "overflow"})
    );
    assert_eq!(v["candidates"].as_array().unwrap().len(), 3);
}

#[test]
fn bad_attributes_exit_2_with_a_message() {
    let (code, out, err) = run(&["route", CFG, "--at", AT, "--campaign", "nope"], b"");
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(err.contains("unknown campaign \"nope\""), "{err}");
    let (code, _, err) = run(&["check", CFG, "--at", AT, "--tag", "geo"], b"");
    assert_eq!(code, 2);
    assert!(
        err.contains("--tag \"geo\" is not a tag KEY=VALUE"),
        "{err}"
    );
}

#[test]
fn replay_events_carry_caller_tags_and_campaign() {
    let events = [
        json!({"at": AT, "type": "route", "call": "c1", "tags": {"geo": "us-tx"}}),
        json!({"at": AT, "type": "connect", "call": "c1", "target": "nc-medicare", "tags": {"geo": "us-tx", "age": 70}}),
        json!({"at": AT, "type": "connect", "call": "c1", "target": "nc-medicare", "caller": "+19195550100",
               "tags": {"geo": ["us-nc"], "age": "70"}}),
        json!({"at": AT, "type": "route", "call": "c2", "campaign": "medicare", "tags": {"calling_about": "auto"}}),
        json!({"at": AT, "type": "route", "call": "c3", "campaign": "nope"}),
        json!({"at": AT, "type": "route", "call": "c4", "tags": "geo"}),
    ];
    let text: String = events.iter().map(|e| format!("{e}\n")).collect();
    let (code, out, err) = run(&["replay", CFG, "-", "--seed", "3"], text.as_bytes());
    assert_eq!(code, 1, "{err}");
    let lines: Vec<Value> = out.lines().map(json).collect();
    assert_eq!(
        lines[0]["rejected"][0]["reasons"][0]["code"],
        "filter_mismatch"
    );
    assert_eq!(lines[1]["ok"], false);
    assert_eq!(
        lines[1]["reasons"][0]["detail"],
        "geo in [us-nc, us-sc]: call has geo = [us-tx]"
    );
    assert_eq!(lines[2]["ok"], true);
    assert_eq!(lines[3]["plan"], json!([]));
    assert_eq!(lines[3]["rejected"][0]["kind"], "campaign");
    assert_eq!(lines[4]["error"], "unknown campaign \"nope\"");
    assert!(
        lines[5]["error"]
            .as_str()
            .unwrap()
            .contains("tags must be an object"),
        "{}",
        lines[5]
    );
    // the first route event equals `route --seed 3` with the same attributes
    let alone = ok(&[
        "route",
        CFG,
        "--at",
        AT,
        "--seed",
        "3",
        "--json",
        "--tag",
        "geo=us-tx",
    ]);
    assert_eq!(lines[0]["plan"], alone["plan"]);
}

#[test]
fn simulate_takes_a_call_mix_and_reports_time_to_answer() {
    let args = [
        "simulate",
        CFG,
        "--from",
        "2026-11-23T00:00:00Z",
        "--to",
        "2026-11-23T06:00:00Z",
        "--seed",
        "3",
        "--json",
        "--quiet",
        "--tags",
        "examples/call-mix.json",
    ];
    let v = ok(&args);
    assert_eq!(ok(&args), v, "same seed, same report");
    let tta = &v["time_to_answer"];
    assert!(tta["mean_seconds"].as_f64().unwrap() > 0.0, "{tta}");
    assert!(tta["p90_seconds"].as_u64().is_some());
    let nc = v["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "nc-medicare")
        .unwrap();
    assert!(
        nc["rejections"].to_string().contains("filter_mismatch"),
        "{nc}"
    );
    let (code, out, err) = run(
        &[&args[..10], &["--tags", "examples/native.json"]].concat(),
        b"",
    );
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(err.contains("--tags examples/native.json: sets"), "{err}");
}
