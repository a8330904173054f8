//! Cross-crate scenario: one buyer written in the three config shapes
//! (routecap, Retreaver, Ringba) decides identically — through the parser,
//! eligibility with exact `until` instants across a DST change, and the
//! thread-safe `Engine` lifecycle.
//!
//! The buyer: New York, open Monday–Friday 09:00–17:00, daily cap 2 with one
//! call already counted, concurrency 1. The routing decisions must not depend
//! on which platform's export the config came from.

use chrono::{DateTime, Utc};
use routecap::{Call, Engine};
use routecap_core::eligibility::{Amount, CandidateReport, ReasonCode};
use routecap_core::formats::{parse_config, Format};
use routecap_core::model::Config;

/// The typed reports of every default candidate at `t`.
fn reports(engine: &Engine, t: DateTime<Utc>) -> Vec<CandidateReport> {
    engine.with_state(|c, s| routecap_core::eligibility::check(c, s, t))
}

const AS_OF: &str = "2026-03-06T14:00:00Z"; // Friday 09:00 EST

fn native() -> String {
    let days: Vec<String> = (0..7)
        .map(|d| {
            if (1..=5).contains(&d) {
                format!(r#"{{"day": {d}, "open": "09:00", "close": "17:00"}}"#)
            } else {
                format!(r#"{{"day": {d}, "closed": true}}"#)
            }
        })
        .collect();
    format!(
        r#"{{"as_of": "{AS_OF}", "targets": [{{"id": "buyer", "time_zone": "America/New_York",
            "hours": [{}], "caps": {{"daily": 2, "concurrency": 1}}, "usage": {{"daily": 1}}}}]}}"#,
        days.join(",")
    )
}

fn retreaver() -> String {
    let days: Vec<String> = (0..7)
        .map(|d| {
            format!(
                r#"{{"day_of_week": {d}, "work_day": {}, "time_open": 900, "time_close": 1700, "invert": false}}"#,
                (1..=5).contains(&d)
            )
        })
        .collect();
    format!(
        r#"{{"target": {{"id": "buyer", "time_zone": "Eastern Time (US & Canada)", "concurrency_cap": 1,
            "caps": [{{"type": "Daily", "cap": 2, "filled": 1}}, {{"type": "Hard", "cap": null, "filled": 0}}],
            "business_hours": [{}]}}}}"#,
        days.join(",")
    )
}

fn ringba() -> String {
    let days: Vec<String> = (0..7)
        .map(|d| {
            format!(
                r#"{{"openTime": {{"hour": 9, "minute": 0}}, "closeTime": {{"hour": 17, "minute": 0}},
                    "inverted": false, "isClosed": {}}}"#,
                !(1..=5).contains(&d)
            )
        })
        .collect();
    format!(
        r#"{{"targets": [{{"id": "TAbuyer", "name": "buyer", "enabled": true, "targetCallIncrement": "onConnect",
            "schedule": {{"timeZoneId": "Eastern Standard Time", "hoursOfOperation": [{}],
                "concurrencyCap": 1, "dailyCap": 2, "hourlyCap": -1, "monthlyCap": -1, "allTimeCap": -1,
                "hourlySumCap": -1, "dailySumCap": -1, "monthlySumCap": -1, "allTimeSumCap": -1}}}}],
          "stats": {{"tAbuyer": {{"currentDay": 1, "currentHour": 0, "currentMonth": 1, "total": 1, "currentLive": 0}}}}}}"#,
        days.join(",")
    )
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn configs() -> Vec<(Format, Config)> {
    [
        (Format::Routecap, native()),
        (Format::Retreaver, retreaver()),
        (Format::Ringba, ringba()),
    ]
    .into_iter()
    .map(|(f, text)| {
        let cfg = parse_config(text.as_bytes(), f.as_str(), None)
            .unwrap_or_else(|e| panic!("{f:?}: {e}"));
        (f, cfg)
    })
    .collect()
}

/// One reason without ids: code, used, limit, until.
type ReasonSummary = (
    ReasonCode,
    Option<Amount>,
    Option<Amount>,
    Option<DateTime<Utc>>,
);

/// Codes, used/limit and until of a report — everything but ids.
fn summary(r: &CandidateReport) -> Vec<ReasonSummary> {
    r.reasons
        .iter()
        .map(|x| (x.code, x.used, x.limit, x.until))
        .collect()
}

#[test]
fn each_shape_is_detected_as_itself() {
    for (f, cfg) in configs() {
        let text = match f {
            Format::Routecap => native(),
            Format::Retreaver => retreaver(),
            Format::Ringba => ringba(),
        };
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(routecap_core::formats::detect(&v), Some(f));
        assert_eq!(cfg.targets.len(), 1);
        assert_eq!(cfg.targets[0].zone.name(), "America/New_York");
    }
}

#[test]
fn the_three_shapes_decide_identically_across_dst() {
    // Friday 16:59 EST open; Friday 17:00 closed until Monday 09:00 EDT
    // (clocks spring forward on Sunday 2026-03-08): 13:00Z, not 14:00Z.
    let cases = [
        ("2026-03-06T21:59:00Z", vec![]),
        (
            "2026-03-06T22:00:00Z",
            vec![(
                ReasonCode::Closed,
                None,
                None,
                Some(at("2026-03-09T13:00:00Z")),
            )],
        ),
        (
            "2026-03-08T15:00:00Z",
            vec![(
                ReasonCode::Closed,
                None,
                None,
                Some(at("2026-03-09T13:00:00Z")),
            )],
        ),
    ];
    for (f, cfg) in configs() {
        let engine = Engine::new(cfg);
        for (when, expected) in &cases {
            let reports = reports(&engine, at(when));
            assert_eq!(reports.len(), 1, "{f:?}");
            assert_eq!(&summary(&reports[0]), expected, "{f:?} at {when}");
        }
    }
}

#[test]
fn the_three_shapes_count_caps_identically() {
    let t1 = at("2026-03-06T15:00:00Z"); // Friday 10:00 EST
    for (f, cfg) in configs() {
        let id = cfg.targets[0].id.clone();
        let engine = Engine::new(cfg);
        // one call imported, one more allowed; concurrency 1
        assert!(
            matches!(
                engine.connect(&Call::new("c1"), &id, t1).unwrap(),
                routecap_core::lifecycle::ConnectOutcome::Connected
            ),
            "{f:?}"
        );
        let r = &reports(&engine, t1)[0];
        assert_eq!(
            summary(r),
            [
                (
                    ReasonCode::DailyCap,
                    Some(Amount::Count(2)),
                    Some(Amount::Count(2)),
                    Some(at("2026-03-07T05:00:00Z"))
                ),
                (
                    ReasonCode::ConcurrencyCap,
                    Some(Amount::Count(1)),
                    Some(Amount::Count(1)),
                    None
                ),
            ],
            "{f:?}"
        );
        engine.end(&Call::new("c1"), t1).unwrap();
        assert!(
            engine.end(&Call::new("c1"), t1).is_err(),
            "{f:?}: a second end is an error"
        );
        // the daily cap lifts at local midnight (05:00Z), but Saturday is closed
        let sat = at("2026-03-07T15:00:00Z");
        let codes: Vec<ReasonCode> = reports(&engine, sat)[0]
            .reasons
            .iter()
            .map(|r| r.code)
            .collect();
        assert_eq!(codes, [ReasonCode::Closed], "{f:?}");
    }
}
