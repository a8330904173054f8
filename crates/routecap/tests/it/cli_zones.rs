//! `routecap zones`: JSON shape, kinds, unknown names, exit codes.

use crate::cli_support;

fn routecap(args: &[&str]) -> (i32, String, String) {
    cli_support::run(args, b"")
}

#[test]
fn resolves_each_kind_as_json() {
    let (code, out, _) = routecap(&[
        "zones",
        " eastern time (us & canada) ",
        "Romance Standard Time",
        "Asia/Kolkata",
        "--json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["iana"], "America/New_York");
    assert_eq!(v[0]["kind"], "rails");
    assert_eq!(v[0]["input"], " eastern time (us & canada) ");
    assert_eq!(v[1]["iana"], "Europe/Paris");
    assert_eq!(v[1]["kind"], "windows");
    assert_eq!(v[2]["iana"], "Asia/Kolkata");
    assert_eq!(v[2]["kind"], "iana");
}

#[test]
fn lists_every_name_without_arguments() {
    let (code, out, _) = routecap(&["zones", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let arr = v.as_array().unwrap();
    let count = |k: &str| arr.iter().filter(|r| r["kind"] == k).count();
    assert_eq!(count("rails"), 154);
    assert_eq!(count("windows"), 142);
    assert!(count("iana") > 400);
}

#[test]
fn unknown_name_exits_2_with_suggestions_and_no_stdout() {
    let (code, out, err) = routecap(&["zones", "Pacific Time", "--json"]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains("unknown time zone \"Pacific Time\""), "{err}");
    assert!(err.contains("did you mean"), "{err}");
}

#[test]
fn usage_error_exits_2() {
    let (code, out, _) = routecap(&["zones", "--no-such-flag"]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
}

#[test]
fn empty_name_is_not_a_zone_name() {
    for name in ["", "   ", "\t"] {
        let (code, out, err) = routecap(&["zones", name]);
        assert_eq!(code, 2, "{name:?}: {err}");
        assert!(out.is_empty(), "{name:?}: {out}");
        assert!(
            err.contains(&format!("{name:?} is not a time zone name (empty)")),
            "{name:?}: {err}"
        );
    }
}

#[test]
fn empty_name_among_good_ones_fails_the_whole_command() {
    let (code, out, err) = routecap(&["zones", "UTC", "", "Asia/Kolkata", "--json"]);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("\"\" is not a time zone name (empty)"),
        "{err}"
    );
    assert!(!err.contains("unknown time zone"), "{err}");
}

#[test]
fn empty_time_zone_in_a_config_is_still_utc() {
    let config = br#"{"targets": [{"id": "a", "time_zone": ""}, {"id": "b", "time_zone": "  "}]}"#;
    let (code, out, err) = cli_support::run(
        &["check", "-", "--at", "2026-11-22T15:00:00Z", "--json"],
        config,
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for c in v["candidates"].as_array().unwrap() {
        assert_eq!(c["local_time"], "2026-11-22T15:00:00+00:00", "{c}");
    }
}
