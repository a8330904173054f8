//! `routecap hours`: week grids of business hours, in the owner's zone and
//! converted to another, across DST.

use crate::cli_support;

use serde_json::Value;

fn routecap(args: &[&str], stdin: &str) -> (i32, String, String) {
    cli_support::run(args, stdin.as_bytes())
}

/// A 09:00-17:00 Monday-Friday target in `zone`.
fn office(zone: &str) -> String {
    let days: Vec<String> = (1..=5)
        .map(|d| format!(r#"{{"day": {d}, "open": "09:00", "close": "17:00"}}"#))
        .chain(std::iter::once(r#"{"day": 0, "closed": true}"#.to_string()))
        .chain(std::iter::once(r#"{"day": 6, "closed": true}"#.to_string()))
        .collect();
    format!(
        r#"{{"targets": [{{"id": "office", "time_zone": "{zone}", "hours": [{}]}}, {{"id": "always"}}]}}"#,
        days.join(",")
    )
}

/// `(date, [state per hour])` of the grid of `office`.
fn grid(config: &str, extra: &[&str]) -> Vec<(String, u64, Vec<Value>, Vec<Value>)> {
    let mut args = vec!["hours", "-", "--target", "office", "--json"];
    args.extend_from_slice(extra);
    let (code, out, err) = routecap(&args, config);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let grids = v["grids"].as_array().unwrap();
    assert_eq!(grids.len(), 1);
    grids[0]["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["date"].as_str().unwrap().to_string(),
                d["weekday"].as_u64().unwrap(),
                d["hours"].as_array().unwrap().clone(),
                d["open_minutes"].as_array().unwrap().clone(),
            )
        })
        .collect()
}

/// Assert that Mon-Fri cells `open_from..open_to` are open and every other cell closed.
fn assert_office(g: &[(String, u64, Vec<Value>, Vec<Value>)], open_from: usize, open_to: usize) {
    assert_eq!(g.len(), 7);
    for (date, wd, hours, _) in g {
        assert_eq!(hours.len(), 24);
        for (h, s) in hours.iter().enumerate() {
            let want = if (1..=5).contains(wd) && (open_from..open_to).contains(&h) {
                "open"
            } else {
                "closed"
            };
            assert_eq!(s, want, "{date} {h:02}:00");
        }
    }
}

#[test]
fn office_hours_in_their_own_zone() {
    let g = grid(&office("America/New_York"), &["--week-of", "2026-01-14"]);
    // the week runs Sunday to Saturday around the given date
    assert_eq!(g[0].0, "2026-01-11");
    assert_eq!(g[6].0, "2026-01-17");
    assert_eq!(
        g.iter().map(|d| d.1).collect::<Vec<_>>(),
        vec![0, 1, 2, 3, 4, 5, 6]
    );
    assert_office(&g, 9, 17);
}

#[test]
fn converted_to_utc_shifts_by_the_offset() {
    // winter: New York is UTC-5
    let g = grid(
        &office("Eastern Time (US & Canada)"),
        &["--week-of", "2026-01-14", "--zone", "UTC"],
    );
    assert_office(&g, 14, 22);
    // summer: UTC-4
    let g = grid(
        &office("America/New_York"),
        &["--week-of", "2026-07-15", "--zone", "Etc/UTC"],
    );
    assert_office(&g, 13, 21);
}

#[test]
fn half_hour_zones_show_partial_hours_with_exact_minutes() {
    // 09:00 EST = 19:30 IST; 17:00 EST = 03:30 IST the next day
    let g = grid(
        &office("America/New_York"),
        &["--week-of", "2026-01-14", "--zone", "India Standard Time"],
    );
    let (_, wd, hours, minutes) = &g[1];
    assert_eq!(*wd, 1);
    assert_eq!(hours[19], "partial");
    assert_eq!(minutes[19], 30);
    assert_eq!(hours[18], "closed");
    assert_eq!(hours[20], "open");
    assert_eq!(minutes[20], 60);
    let (_, _, tue, tue_min) = &g[2];
    assert_eq!(tue[2], "open");
    assert_eq!(tue[3], "partial");
    assert_eq!(tue_min[3], 30);
    assert_eq!(tue[4], "closed");
    // Sunday evening IST is still Sunday morning in New York: closed
    assert!(g[0].2.iter().all(|s| s == "closed"));
}

#[test]
fn dst_week_shifts_by_the_offset_in_force() {
    // Week of Sunday 8 March 2026: New York springs forward that Sunday at
    // 02:00, London not until 29 March. A London office (GMT) seen from New
    // York opens at 05:00 that week instead of 04:00.
    let winter = grid(
        &office("Europe/London"),
        &["--week-of", "2026-02-11", "--zone", "America/New_York"],
    );
    assert_office(&winter, 4, 12);
    let dst = grid(
        &office("GMT Standard Time"),
        &["--week-of", "2026-03-10", "--zone", "America/New_York"],
    );
    assert_eq!(dst[0].0, "2026-03-08");
    // Sunday's 02:00 does not occur in New York: a blank cell, not a closed one
    assert_eq!(dst[0].2[2], Value::Null);
    assert_eq!(dst[0].3[2], Value::Null);
    for (h, s) in dst[0].2.iter().enumerate() {
        if h != 2 {
            assert_eq!(s, "closed", "Sunday {h:02}:00");
        }
    }
    for (date, _, hours, _) in &dst[1..6] {
        for (h, s) in hours.iter().enumerate() {
            let want = if (5..13).contains(&h) {
                "open"
            } else {
                "closed"
            };
            assert_eq!(s, want, "{date} {h:02}:00");
        }
    }
    // a week later London moves too: back to the 4-hour difference
    let after = grid(
        &office("Europe/London"),
        &["--week-of", "2026-04-01", "--zone", "America/New_York"],
    );
    assert_office(&after, 4, 12);
}

#[test]
fn fall_back_hour_covers_two_hours() {
    let config = office("UTC");
    let (code, out, err) = routecap(
        &[
            "hours",
            "-",
            "--target",
            "always",
            "--week-of",
            "2026-11-01",
            "--zone",
            "America/New_York",
            "--json",
        ],
        &config,
    );
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let day = &v["grids"][0]["days"][0];
    assert_eq!(day["date"], "2026-11-01");
    assert_eq!(day["open_minutes"][1], 120);
    assert_eq!(day["open_minutes"][0], 60);
    assert_eq!(day["hours"][1], "open");
    assert_eq!(v["grids"][0]["always_open"], true);
    // the local day starts at 04:00Z (EDT midnight)
    assert_eq!(day["starts"], "2026-11-01T04:00:00Z");
}

#[test]
fn terminal_grid_marks_the_open_cells() {
    let (code, out, err) = routecap(
        &[
            "hours",
            "-",
            "--target",
            "office",
            "--week-of",
            "2026-01-14",
        ],
        &office("America/New_York"),
    );
    assert_eq!(code, 0, "{err}");
    let monday = out
        .lines()
        .find(|l| l.starts_with("Mon 2026-01-12"))
        .unwrap_or_else(|| panic!("{out}"));
    let cells: Vec<&str> = monday["Mon 2026-01-12".len()..]
        .split_whitespace()
        .collect();
    assert_eq!(cells.len(), 24);
    for (h, c) in cells.iter().enumerate() {
        let want = if (9..17).contains(&h) {
            "██"
        } else {
            "··"
        };
        assert_eq!(*c, want, "{h:02}:00 in {monday}");
    }
    let sunday = out
        .lines()
        .find(|l| l.starts_with("Sun 2026-01-11"))
        .unwrap();
    assert!(!sunday.contains('█'));
    assert!(out.contains("target office"));
    assert!(out.contains("legend"));
}

#[test]
fn every_target_without_target_flag() {
    let (code, out, err) = routecap(
        &[
            "hours",
            "examples/native.json",
            "--week-of",
            "2026-11-22",
            "--json",
        ],
        "",
    );
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let ids: Vec<&str> = v["grids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap())
        .collect();
    // seven targets, then the one group with hours
    assert_eq!(ids.len(), 8, "{ids:?}");
    assert_eq!(ids[0], "ny-insurance");
    assert_eq!(ids[7], "us-east");
}

#[test]
fn bad_input_exits_2() {
    let cfg = office("UTC");
    for (args, msg) in [
        (
            vec!["hours", "-", "--target", "nope"],
            "unknown target or group \"nope\"",
        ),
        (
            vec!["hours", "-", "--zone", "Eastern Tme"],
            "unknown time zone",
        ),
        (vec!["hours", "-", "--week-of", "2026-13-01"], "--week-of"),
        (
            vec!["hours", "-", "--week-of", "1900-01-01"],
            "supported range",
        ),
    ] {
        let (code, out, err) = routecap(&args, &cfg);
        assert_eq!(code, 2, "{args:?}");
        assert!(out.is_empty());
        assert!(err.contains(msg), "{args:?}: {err}");
    }
}
