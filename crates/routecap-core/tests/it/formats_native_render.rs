//! A running config written back as a native document reads back as the
//! same config: every bundled example and fixture, in all three shapes,
//! and any random document that parses.

use proptest::prelude::*;
use routecap_core::formats::{detect, parse_config, parse_value, to_native, Format};
use routecap_core::model::Config;
use serde_json::{json, Value};

/// `config` written natively, read back, and written again: the same
/// config and the same document, detected as native.
fn round_trip(config: &Config, name: &str) {
    let doc = to_native(config);
    assert_eq!(detect(&doc), Some(Format::Routecap), "{name}: {doc}");
    let again = parse_value(&doc, name, Format::Routecap)
        .unwrap_or_else(|e| panic!("{name}: the written document does not read: {e}\n{doc}"));
    assert_eq!(same(&again), same(config), "{name}: {doc}");
    assert_eq!(to_native(&again), doc, "{name}");
    // through text too, as GET /v1/config answers and PUT reads it
    let text = serde_json::to_string_pretty(&doc).expect("JSON");
    let from_text = parse_config(text.as_bytes(), name, None).expect("reads as text");
    assert_eq!(same(&from_text), same(config), "{name}");
}

/// A config as comparable text: the default zone (`Etc/UTC`) and a zone
/// written `UTC` are the same zone under two names.
fn same(config: &Config) -> String {
    format!("{config:?}").replace("Zone(Etc/UTC)", "Zone(UTC)")
}

fn dir_files(dir: &str, ext: &str) -> Vec<std::path::PathBuf> {
    let path = format!("{}/../../{dir}", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    files.sort();
    files
}

#[test]
fn every_example_round_trips() {
    let mut read = 0;
    for f in dir_files("examples", "json") {
        let bytes = std::fs::read(&f).expect("read");
        let name = f.display().to_string();
        // examples that are no config (a simulation's call mix) are skipped
        let Ok(config) = parse_config(&bytes, &name, None) else {
            continue;
        };
        round_trip(&config, &name);
        read += 1;
    }
    assert!(read >= 5, "only {read} example configs");
}

#[test]
fn every_fixture_that_is_a_config_round_trips() {
    let mut read = 0;
    for f in dir_files("tests/fixtures", "json") {
        let bytes = std::fs::read(&f).expect("read");
        let name = f.display().to_string();
        // some fixtures are API requests or counts, not configs
        let Ok(config) = parse_config(&bytes, &name, None) else {
            continue;
        };
        round_trip(&config, &name);
        read += 1;
    }
    assert!(read >= 15, "only {read} fixtures read as configs");
}

#[test]
fn every_field_is_written() {
    let doc = json!({
        "as_of": "2026-11-22T15:00:00Z",
        "call_lease_seconds": 600, "call_retention_seconds": 7200,
        "repeat_callers": {"mode": "different", "window": 86400},
        "targets": [
            {"id": "a", "name": "A", "priority": -2, "weight": 0, "paused": true,
             "time_zone": "Eastern Time (US & Canada)", "trigger": "revenue",
             "hours": [{"day": 1, "open": "09:00", "close": "17:30"},
                       {"day": 2, "open": "22:00", "close": "24:00", "invert": true},
                       {"day": 0, "closed": true}],
             "caps": {"hourly": 1, "daily": 2, "monthly": 3, "total": 4, "concurrency": 5,
                      "hourly_revenue": "1.50", "daily_revenue": 2, "monthly_revenue": "3.25",
                      "total_revenue": "4"},
             "usage": {"hourly": 1, "daily": 1, "monthly": 2, "total": 3, "live": 1,
                       "daily_revenue": "0.75"},
             "timeout_seconds": 12,
             "filter": {"any_of": [
                 {"all_of": [{"tag": "geo", "op": "in", "values": ["us-nc,us-sc"]},
                             {"tag": "age", "op": "gt", "value": 64, "kind": "number", "negate": true}]},
                 {"all_of": [{"tag": "topic", "op": "exists"}]},
                 {"all_of": []}]},
             "duplicates": {"basis": "convert", "window": 3600}},
            {"id": 7, "concurrency_matrix": [
                [1, null, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23],
                [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                [-1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]]}
        ],
        "groups": [
            {"id": "g", "name": "G", "members": ["7", "a"], "mode": "simultaneous",
             "priority": 3, "weight": 2, "time_zone": "Asia/Kolkata",
             "hours": [{"day": 6, "open": "00:00", "close": "12:00"}],
             "caps": {"daily": 9}, "usage": {"total": 2, "total_revenue": "1.00"},
             "filter": {"any_of": [{"all_of": [{"tag": "caller", "op": "starts_with", "values": ["+1919"]}]}]},
             "timeout_seconds": 40},
            {"id": "s", "members": ["a"]}
        ],
        "campaigns": [
            {"id": "m", "candidates": ["g", "s", "a"], "fallback": "a",
             "filter": {"any_of": [{"all_of": [{"tag": "x", "op": "not_exists"}]}]},
             "repeat_callers": {"mode": "normal"}}
        ]
    });
    let config = parse_value(&doc, "all.json", Format::Routecap).expect("config");
    round_trip(&config, "all.json");
    let written = to_native(&config);
    assert_eq!(
        written["targets"][0]["filter"]["any_of"][0]["all_of"][0]["values"],
        json!(["us-nc", "us-sc"])
    );
    assert_eq!(
        written["targets"][0]["caps"]["daily_revenue"],
        json!("2.00")
    );
    assert_eq!(written["targets"][1]["id"], json!("7"));
    assert_eq!(written["groups"][0]["members"], json!(["7", "a"]));
    // a separate group in a campaign stands for its members
    assert_eq!(written["campaigns"][0]["candidates"], json!(["g", "a"]));
    assert_eq!(
        written["campaigns"][0]["repeat_callers"],
        json!({"mode": "normal"})
    );
}

#[test]
fn defaults_are_written_out_and_absent_settings_left_out() {
    let config = parse_value(
        &json!({"targets": [{"id": "a"}]}),
        "min.json",
        Format::Routecap,
    )
    .expect("config");
    assert_eq!(
        to_native(&config),
        json!({
            "call_lease_seconds": 14400, "call_retention_seconds": 86400,
            "targets": [{"id": "a", "priority": 1, "weight": 1, "paused": false,
                         "time_zone": "UTC", "trigger": "connect", "caps": {}}],
            "groups": []
        })
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Native targets and groups built from random settings round trip.
    #[test]
    fn random_native_configs_round_trip(
        targets in prop::collection::vec(
            (any::<i16>(), 0u32..5, any::<bool>(), 0usize..4, prop::option::of(0u64..50),
             prop::option::of(0u64..5000), 0u64..3, prop::option::of((0u16..1440, any::<bool>()))),
            1..5),
        group_members in prop::collection::vec(any::<bool>(), 0..5),
    ) {
        let zones = ["UTC", "America/New_York", "Pacific Time (US & Canada)", "Asia/Kolkata"];
        let mut list = Vec::new();
        for (i, (priority, weight, paused, zone, daily, revenue, live, hours)) in targets.iter().enumerate() {
            let mut t = json!({"id": format!("t{i}"), "priority": priority, "weight": weight,
                               "paused": paused, "time_zone": zones[*zone],
                               "caps": {}, "usage": {"live": live}});
            if let Some(d) = daily { t["caps"]["daily"] = json!(d); }
            if let Some(r) = revenue { t["caps"]["daily_revenue"] = json!(format!("{}.{:02}", r / 100, r % 100)); }
            if let Some((open, invert)) = hours {
                let close = 1440;
                t["hours"] = json!([{"day": i % 7, "open": format!("{:02}:{:02}", open / 60, open % 60),
                                     "close": format!("{:02}:{:02}", close / 60, close % 60), "invert": invert}]);
            }
            list.push(t);
        }
        let members: Vec<Value> = (0..list.len())
            .filter(|&i| group_members.get(i).copied().unwrap_or(false))
            .map(|i| json!(format!("t{i}")))
            .collect();
        let doc = json!({"targets": list, "groups": [{"id": "g", "members": members, "caps": {"concurrency": 2}}]});
        let config = parse_value(&doc, "random.json", Format::Routecap).expect("config");
        round_trip(&config, "random.json");
    }
}
