//! One test per error class: the exact path and message of each refusal.

use routecap_core::formats::{parse_config, ConfigError, Format};
use serde_json::json;

fn err_bytes(bytes: &[u8], format: Option<Format>) -> ConfigError {
    match parse_config(bytes, "cfg.json", format) {
        Ok(c) => panic!("expected an error, parsed {} targets", c.targets.len()),
        Err(e) => e,
    }
}

fn err(doc: serde_json::Value, format: Option<Format>) -> ConfigError {
    err_bytes(doc.to_string().as_bytes(), format)
}

/// Assert the error's path and its whole message.
fn check(e: &ConfigError, path: &str, message: &str) {
    assert_eq!(e.file(), "cfg.json");
    assert_eq!(e.path(), path, "{e}");
    assert_eq!(e.to_string(), message);
}

#[test]
fn hhmm_out_of_range() {
    let hours =
        json!([{"day_of_week": 0}, {"day_of_week": 1}, {"day_of_week": 2, "time_close": 2500}]);
    let e = err(
        json!({"targets": [{"id": 1, "business_hours": hours}]}),
        Some(Format::Retreaver),
    );
    check(
        &e,
        "targets[0].business_hours[2].time_close",
        "cfg.json: targets[0].business_hours[2].time_close: 2500 is not an HHMM time (0000–2400)",
    );
}

#[test]
fn hhmm_minutes_over_59_and_past_2400() {
    for bad in [1260, 2401, 960, -1] {
        let t =
            json!({"target": {"id": 1, "business_hours": [{"day_of_week": 3, "time_open": bad}]}});
        let e = err(t, None);
        check(
            &e,
            "target.business_hours[0].time_open",
            &format!("cfg.json: target.business_hours[0].time_open: {bad} is not an HHMM time (0000–2400)"),
        );
    }
}

#[test]
fn open_after_close() {
    let t = json!([{"target": {"id": 1, "business_hours_attributes": [{"day_of_week": 5, "time_open": 1800, "time_close": 900}]}}]);
    let e = err(t, None);
    check(
        &e,
        "[0].target.business_hours_attributes[0].time_close",
        "cfg.json: [0].target.business_hours_attributes[0].time_close: 900 is before the opening time 1800 (open must not be after close; use invert for overnight shifts)",
    );
}

#[test]
fn duplicate_day() {
    let hours = json!([{"day": 1, "open": "09:00"}, {"day": 1, "open": "10:00"}]);
    let e = err(json!({"targets": [{"id": "a", "hours": hours}]}), None);
    check(
        &e,
        "targets[0].hours[1].day",
        "cfg.json: targets[0].hours[1].day: 1 repeats a day of the week already given at targets[0].hours[0] (one entry per day)",
    );
}

#[test]
fn day_out_of_range() {
    let e = err(
        json!({"targets": [{"id": "a", "hours": [{"day": 7}]}]}),
        None,
    );
    check(
        &e,
        "targets[0].hours[0].day",
        "cfg.json: targets[0].hours[0].day: 7 is not a day of the week (an integer 0..=6, 0 = Sunday)",
    );
}

#[test]
fn native_clock_text() {
    for bad in ["25:00", "9:60", "24:30", "0900", "9:5", "noon"] {
        let doc = json!({"targets": [{"id": "a", "hours": [{"day": 2, "close": bad}]}]});
        let e = err(doc, None);
        check(
            &e,
            "targets[0].hours[0].close",
            &format!("cfg.json: targets[0].hours[0].close: \"{bad}\" is not a local time \"HH:MM\" (00:00 to 24:00)"),
        );
    }
}

#[test]
fn unknown_cap_type_lists_allowed_types() {
    let caps = json!([{"type": "Daily", "cap": 5}, {"type": "Weekly", "cap": 9}]);
    let e = err(json!({"target": {"id": 1, "caps": caps}}), None);
    check(
        &e,
        "target.caps[1].type",
        "cfg.json: target.caps[1].type: \"Weekly\" is not a Retreaver cap type (Hourly, Daily, Monthly or Hard)",
    );
}

#[test]
fn repeated_cap_type() {
    let caps = json!([{"type": "Daily", "cap": 5}, {"type": "daily", "cap": 9}]);
    let e = err(json!({"target": {"id": 1, "caps": caps}}), None);
    check(
        &e,
        "target.caps[1].type",
        "cfg.json: target.caps[1].type: \"daily\" repeats the cap type given at target.caps[0].type (one cap per type)",
    );
}

#[test]
fn float_where_integer_belongs() {
    let e = err(json!({"targets": [{"id": "a", "priority": 1.5}]}), None);
    check(
        &e,
        "targets[0].priority",
        "cfg.json: targets[0].priority: 1.5 is not a priority (an integer from -2147483648 to 2147483647)",
    );
    let e = err_bytes(
        br#"{"targets": [{"id": "a", "caps": {"daily": 3.0}}]}"#,
        None,
    );
    check(
        &e,
        "targets[0].caps.daily",
        "cfg.json: targets[0].caps.daily: 3.0 is not a count (an integer from 0 to 18446744073709551615)",
    );
}

#[test]
fn integer_too_large_is_shown_verbatim() {
    let doc = br#"{"targets": [{"id": "a", "caps": {"daily": 123456789012345678901234567890123456789012}}]}"#;
    check(
        &err_bytes(doc, None),
        "targets[0].caps.daily",
        "cfg.json: targets[0].caps.daily: 123456789012345678901234567890123456789012 is not a count (an integer from 0 to 18446744073709551615)",
    );
    let doc = br#"{"targets": [{"id": "a", "priority": 2147483648}]}"#;
    check(
        &err_bytes(doc, None),
        "targets[0].priority",
        "cfg.json: targets[0].priority: 2147483648 is not a priority (an integer from -2147483648 to 2147483647)",
    );
}

#[test]
fn negative_weight_and_native_negative_cap() {
    let e = err(json!({"targets": [{"id": "a", "weight": -1}]}), None);
    check(
        &e,
        "targets[0].weight",
        "cfg.json: targets[0].weight: -1 is not a weight (an integer from 0 to 4294967295)",
    );
    let e = err(
        json!({"targets": [{"id": "a", "caps": {"hourly": -1}}]}),
        None,
    );
    check(
        &e,
        "targets[0].caps.hourly",
        "cfg.json: targets[0].caps.hourly: -1 is not a count (an integer from 0 to 18446744073709551615)",
    );
}

#[test]
fn ringba_negative_other_than_minus_one() {
    let doc = json!({"targets": [{"id": "TA1", "schedule": {"dailyCap": -2}}], "stats": {}});
    check(
        &err(doc, None),
        "targets[0].schedule.dailyCap",
        "cfg.json: targets[0].schedule.dailyCap: -2 is not a cap (an integer >= 0, or -1 for unlimited)",
    );
    let doc = json!({"id": "TA1", "schedule": {"dailySumCap": -5}});
    check(
        &err(doc, None),
        "schedule.dailySumCap",
        "cfg.json: schedule.dailySumCap: -5 is not a money amount (a non-negative decimal with at most 2 decimals, as a number or string); -1 = unlimited",
    );
}

#[test]
fn money_with_too_many_decimals() {
    let e = err(
        json!({"targets": [{"id": "a", "caps": {"daily_revenue": "1.234"}}]}),
        None,
    );
    check(
        &e,
        "targets[0].caps.daily_revenue",
        "cfg.json: targets[0].caps.daily_revenue: \"1.234\" has more than 2 decimal places; expected a non-negative decimal amount with at most 2 decimals, as a number or string",
    );
}

#[test]
fn unknown_zone_suggests_names() {
    let e = err(
        json!({"targets": [{"id": "a", "time_zone": "Eastern Time"}]}),
        None,
    );
    assert_eq!(e.path(), "targets[0].time_zone");
    assert_eq!(e.value(), "\"Eastern Time\"");
    let suggestions = routecap_core::zone::suggest("Eastern Time");
    let list: Vec<String> = suggestions.iter().map(|s| format!("{s:?}")).collect();
    assert!(
        list.contains(&"\"Eastern Time (US & Canada)\"".to_string()),
        "{list:?}"
    );
    assert_eq!(
        e.to_string(),
        format!(
            "cfg.json: targets[0].time_zone: \"Eastern Time\" is not a known time zone (a Rails, Windows or IANA name); did you mean {}?",
            list.join(", ")
        )
    );
}

#[test]
fn duplicate_target_ids_number_and_string() {
    let e = err(json!({"targets": [{"id": 1}, {"id": "1"}]}), None);
    check(
        &e,
        "targets[1].id",
        "cfg.json: targets[1].id: \"1\" repeats the target id of targets[0].id (target ids must be unique)",
    );
    let e = err(json!([{"target": {"id": 7}}, {"target": {"id": 7}}]), None);
    check(
        &e,
        "[1].target.id",
        "cfg.json: [1].target.id: 7 repeats the target id of [0].target.id (target ids must be unique)",
    );
}

#[test]
fn duplicate_group_ids() {
    let doc =
        json!({"targets": [{"id": "a"}], "groups": [{"id": "g", "members": ["a"]}, {"id": "g"}]});
    check(
        &err(doc, None),
        "groups[1].id",
        "cfg.json: groups[1].id: \"g\" repeats the group id of groups[0].id (group ids must be unique)",
    );
}

#[test]
fn group_with_unknown_member() {
    let doc = json!({"targets": [{"id": "a"}], "groups": [{"id": "g", "members": ["a", "zz"]}]});
    check(
        &err(doc, None),
        "groups[0].members[1]",
        "cfg.json: groups[0].members[1]: \"zz\" is not the id of any target in this config",
    );
    let doc = json!({"targets": [{"target": {"id": 1}}], "target_groups": [{"target_group": {"id": 5, "target_ids": [1, 99]}}]});
    check(
        &err(doc, None),
        "target_groups[0].target_group.target_ids[1]",
        "cfg.json: target_groups[0].target_group.target_ids[1]: 99 is not the id of any target in this config",
    );
}

#[test]
fn group_listing_a_target_twice() {
    let doc = json!({"targets": [{"id": "a"}], "groups": [{"id": "g", "members": ["a", "a"]}]});
    check(
        &err(doc, None),
        "groups[0].members[1]",
        "cfg.json: groups[0].members[1]: \"a\" lists the same target twice",
    );
}

#[test]
fn retreaver_behavior_other_than_1_or_2() {
    let doc = json!([{"target": {"id": 1}}, {"target_group": {"id": 2, "target_ids": [1], "behavior": 3}}]);
    check(
        &err(doc, None),
        "[1].target_group.behavior",
        "cfg.json: [1].target_group.behavior: 3 is not a target group behavior (1 = dial separately, 2 = simuldial)",
    );
}

#[test]
fn native_group_mode() {
    let doc = json!({"targets": [], "groups": [{"id": "g", "mode": "parallel"}]});
    check(
        &err(doc, None),
        "groups[0].mode",
        "cfg.json: groups[0].mode: \"parallel\" is not a group mode (\"separate\" or \"simultaneous\")",
    );
}

#[test]
fn unknown_trigger() {
    let doc = json!({"targets": [{"id": "TA1", "targetCallIncrement": "onHangup"}]});
    check(
        &err(doc, None),
        "targets[0].targetCallIncrement",
        "cfg.json: targets[0].targetCallIncrement: \"onHangup\" is not a cap trigger (connect, convert or revenue; onConnect, on_connect and similar spellings are accepted)",
    );
}

#[test]
fn missing_ids() {
    let e = err(
        json!({"targets": [{"name": "no id"}]}),
        Some(Format::Routecap),
    );
    check(
        &e,
        "targets[0].id",
        "cfg.json: targets[0].id: is missing: a string or integer id is required",
    );
    let e = err(json!({"target": {"name": "x", "tid": null}}), None);
    check(
        &e,
        "target.id",
        "cfg.json: target.id: is missing: a Retreaver target needs an \"id\" (or a \"tid\" / \"client_tid\")",
    );
    let e = err(json!({"targets": [{"enabled": true}], "stats": {}}), None);
    check(
        &e,
        "targets[0].id",
        "cfg.json: targets[0].id: is missing: a Ringba target needs an \"id\"",
    );
    let e = err(json!({"targets": [{"id": ""}]}), None);
    check(
        &e,
        "targets[0].id",
        "cfg.json: targets[0].id: \"\" is not an id (a non-empty string or an integer)",
    );
}

#[test]
fn ringba_hours_shape() {
    let doc = json!({"id": "TA1", "schedule": {"hoursOfOperation": [{}, {}]}});
    check(
        &err(doc, None),
        "schedule.hoursOfOperation",
        "cfg.json: schedule.hoursOfOperation: [{},{}] has 2 entries; expected 7 (one per day, Sunday first)",
    );
    let mut week = vec![json!({}); 7];
    week[4] = json!({"closeTime": {"hour": 24, "minute": 30}});
    let doc = json!({"id": "TA1", "schedule": {"hoursOfOperation": week}});
    check(
        &err(doc, None),
        "schedule.hoursOfOperation[4].closeTime.minute",
        "cfg.json: schedule.hoursOfOperation[4].closeTime.minute: 30 is not 0 although the hour is 24 (24:00 is the latest time)",
    );
}

#[test]
fn matrix_shape() {
    let doc = json!({"targets": [{"id": "a", "concurrency_matrix": vec![vec![1; 24]; 6]}]});
    let e = err(doc, None);
    assert_eq!(e.path(), "targets[0].concurrency_matrix");
    assert!(
        e.expected()
            .starts_with("has 6 rows; expected 7 (Sunday first)"),
        "{e}"
    );
    let mut rows = vec![vec![json!(-1); 24]; 7];
    rows[2][13] = json!(-3);
    let doc = json!({"id": "TA1", "schedule": {"callConcurrencyMatrix": rows}});
    check(
        &err(doc, None),
        "schedule.callConcurrencyMatrix[2][13]",
        "cfg.json: schedule.callConcurrencyMatrix[2][13]: -3 is not a concurrency limit (an integer >= 0, or -1 or null for unlimited)",
    );
}

#[test]
fn as_of_must_be_rfc3339_in_range() {
    for bad in [
        "2026-11-22 15:00",
        "2100-01-01T00:00:00Z",
        "1969-12-31T23:59:59Z",
        " 2026-11-22T15:00:00Z",
    ] {
        let e = err(json!({"as_of": bad, "targets": []}), None);
        check(
            &e,
            "as_of",
            &format!("cfg.json: as_of: \"{bad}\" is not an RFC 3339 instant between 1970-01-01 and 2100-01-01 (e.g. \"2026-11-22T15:00:00Z\")"),
        );
    }
}

#[test]
fn empty_file() {
    for bytes in [&b""[..], b"  \n\t ", b"\xEF\xBB\xBF"] {
        check(&err_bytes(bytes, None), "$", "cfg.json: $: empty file");
    }
}

#[test]
fn non_utf8_names_the_byte_offset() {
    let e = err_bytes(b"{\"targets\": [{\"id\": \"a\xFFb\"}]}", None);
    check(
        &e,
        "byte 22",
        "cfg.json: byte 22: 0xFF is not valid UTF-8 (config files must be UTF-8 text)",
    );
}

#[test]
fn invalid_json_names_line_and_column() {
    let e = err_bytes(b"{\n  \"targets\": [\n    {\"id\": \"a\",}\n  ]\n}", None);
    check(
        &e,
        "line 3 column 16",
        "cfg.json: line 3 column 16: invalid JSON: trailing comma",
    );
    let e = err_bytes(b"{\"targets\": [", None);
    check(
        &e,
        "line 1 column 13",
        "cfg.json: line 1 column 13: invalid JSON: EOF while parsing a list",
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    for open in ["[", "{\"a\":"] {
        let doc = open.repeat(100_000);
        let e = err_bytes(doc.as_bytes(), None);
        assert!(e.path().starts_with("line 1 column "), "{e}");
        assert_eq!(
            e.expected(),
            "invalid JSON: recursion limit exceeded",
            "{e}"
        );
    }
}

#[test]
fn wrong_top_level_type_lists_accepted_shapes() {
    let e = err(json!(42), None);
    check(
        &e,
        "$",
        "cfg.json: $: 42 is not a config routecap recognises: expected a routecap config {\"targets\": [...]}, a Retreaver target / array of targets / {\"targets\": [...], \"target_groups\": [...]}, or a Ringba get-targets / get-target response (use --format to choose)",
    );
    let e = err(json!([1]), Some(Format::Routecap));
    check(
        &e,
        "$",
        "cfg.json: $: [1] is not a routecap config (an object with \"targets\" and optional \"as_of\" and \"groups\")",
    );
    let e = err(json!("x"), Some(Format::Ringba));
    assert!(
        e.to_string()
            .starts_with("cfg.json: $: \"x\" is not a Ringba export (a get-targets response"),
        "{e}"
    );
    let e = err(json!([7]), None);
    check(
        &e,
        "[0]",
        "cfg.json: [0]: 7 is not a target or target group object",
    );
    let e = err(json!({"targets": {"id": 1}}), None);
    check(
        &e,
        "targets",
        "cfg.json: targets: {\"id\":1} is not an array of targets",
    );
}

#[test]
fn long_values_are_truncated() {
    let name = "x".repeat(500);
    let e = err(json!({"targets": [{"id": "a", "time_zone": name}]}), None);
    assert_eq!(e.path(), "targets[0].time_zone");
    assert_eq!(
        e.value().chars().count(),
        61,
        "60 characters and an ellipsis"
    );
    assert!(e.value().ends_with('…'));
}

#[test]
fn wrong_types_name_what_is_allowed() {
    let e = err(json!({"targets": [{"id": "a", "paused": "no"}]}), None);
    check(
        &e,
        "targets[0].paused",
        "cfg.json: targets[0].paused: \"no\" is not a boolean (true or false)",
    );
    let e = err(json!({"targets": [{"id": ["a"]}]}), None);
    check(
        &e,
        "targets[0].id",
        "cfg.json: targets[0].id: [\"a\"] is not an id (a non-empty string or an integer)",
    );
}
