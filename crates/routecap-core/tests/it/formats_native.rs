//! The native shape, format detection, lenient spellings, and the three
//! example configs in `examples/`.

use chrono::{TimeZone, Utc};
use chrono_tz::Tz;
use routecap_core::caps::{Limits, Trigger, Usage};
use routecap_core::formats::{detect, parse_config, parse_value, Format};
use routecap_core::hours::{DayHours, WeeklyHours};
use routecap_core::model::{Config, GroupMode};
use routecap_core::money::Money;
use serde_json::json;

fn parse(doc: &serde_json::Value, format: Format) -> Config {
    parse_value(doc, "t.json", format).unwrap_or_else(|e| panic!("{e}"))
}

fn day(open: u16, close: u16, invert: bool, closed: bool) -> Option<DayHours> {
    Some(DayHours {
        open,
        close,
        invert,
        closed,
    })
}

const INTERFACE_EXAMPLE: &str = r#"{
  "as_of": "2026-11-22T15:00:00Z",
  "targets": [{
    "id": "buyer-a", "name": "Buyer A", "priority": 1, "weight": 3,
    "paused": false, "time_zone": "Eastern Time (US & Canada)",
    "trigger": "connect",
    "hours": [{"day": 1, "open": "09:00", "close": "17:00", "invert": false, "closed": false}],
    "caps": {"hourly": 5, "daily": 40, "monthly": null, "total": 1000,
             "concurrency": 2, "daily_revenue": "500.00"},
    "concurrency_matrix": null,
    "usage": {"hourly": 3, "daily": 10, "total": 250, "live": 1, "daily_revenue": "120.50"}
  }],
  "groups": [{
    "id": "g1", "name": "East buyers", "members": ["buyer-a"],
    "mode": "separate", "priority": null, "weight": null,
    "time_zone": "UTC", "hours": [], "caps": {"daily": 100}, "usage": {}
  }]
}"#;

#[test]
fn interface_example_parses_exactly() {
    let c = parse_config(INTERFACE_EXAMPLE.as_bytes(), "x.json", None).unwrap();
    assert_eq!(
        c.as_of,
        Some(Utc.with_ymd_and_hms(2026, 11, 22, 15, 0, 0).unwrap())
    );
    assert_eq!(c.targets.len(), 1);
    let t = &c.targets[0];
    assert_eq!(t.id, "buyer-a");
    assert_eq!(t.name.as_deref(), Some("Buyer A"));
    assert_eq!((t.priority, t.weight, t.paused), (1, 3, false));
    assert_eq!(t.zone.tz(), Tz::America__New_York);
    assert_eq!(t.trigger, Trigger::Connect);
    let mut days = [None; 7];
    days[1] = day(540, 1020, false, false);
    assert_eq!(t.hours.as_deref().cloned(), Some(WeeklyHours::new(days)));
    assert_eq!(
        t.limits(),
        Limits {
            hourly: Some(5),
            daily: Some(40),
            total: Some(1000),
            concurrency: Some(2),
            daily_revenue: Some(Money(50000)),
            ..Limits::default()
        }
    );
    assert_eq!(t.concurrency_matrix(), None);
    assert_eq!(
        t.usage(),
        Usage {
            hourly: 3,
            daily: 10,
            total: 250,
            live: 1,
            daily_revenue: Money(12050),
            ..Usage::default()
        }
    );
    let g = &c.groups[0];
    assert_eq!(
        (g.id.as_str(), g.name.as_deref()),
        ("g1", Some("East buyers"))
    );
    assert_eq!(g.members, vec![0]);
    assert_eq!(g.mode, GroupMode::Separate);
    assert_eq!((g.priority, g.weight), (None, None));
    assert_eq!(g.zone.tz(), Tz::Etc__UTC);
    assert_eq!(g.hours, None, "an empty hours list is open 24/7");
    assert_eq!(
        g.limits,
        Limits {
            daily: Some(100),
            ..Limits::default()
        }
    );
    assert_eq!(g.usage, Usage::default());
}

#[test]
fn native_defaults_and_numeric_ids() {
    let c = parse(
        &json!({"targets": [{"id": 42, "name": null, "priority": null, "caps": null}]}),
        Format::Routecap,
    );
    let t = &c.targets[0];
    assert_eq!(t.id, "42");
    assert_eq!((t.priority, t.weight, t.paused), (1, 1, false));
    assert_eq!(t.zone.tz(), Tz::UTC);
    assert_eq!(&*t.zone_name, "UTC");
    assert_eq!((t.trigger, t.hours.clone()), (Trigger::Connect, None));
    assert_eq!(c.as_of, None);
}

#[test]
fn native_hours_inverted_closed_and_midnight() {
    let hours = json!([
        {"day": 0, "closed": true},
        {"day": 5, "open": "22:00", "close": "24:00"},
        {"day": 6, "open": "06:00", "close": "22:00", "invert": true},
        {"day": 3, "open": "9:30"}
    ]);
    let c = parse(
        &json!({"targets": [{"id": "a", "hours": hours}]}),
        Format::Routecap,
    );
    let mut days = [None; 7];
    days[0] = day(0, 1440, false, true);
    days[3] = day(570, 1440, false, false);
    days[5] = day(1320, 1440, false, false);
    days[6] = day(360, 1320, true, false);
    assert_eq!(
        c.targets[0].hours.as_deref().cloned(),
        Some(WeeklyHours::new(days))
    );
}

#[test]
fn native_matrix_minus_one_and_null_are_unlimited() {
    let mut rows = vec![vec![json!(-1); 24]; 7];
    rows[1][9] = json!(2);
    rows[2][10] = json!(null);
    rows[6][23] = json!(0);
    let c = parse(
        &json!({"targets": [{"id": "a", "concurrency_matrix": rows}]}),
        Format::Routecap,
    );
    let m = c.targets[0].concurrency_matrix().unwrap();
    let set: Vec<(u32, u32, u64)> = (0..7)
        .flat_map(|d| (0..24).map(move |h| (d, h)))
        .filter_map(|(d, h)| m.limit(d, h).map(|l| (d, h, l)))
        .collect();
    assert_eq!(set, vec![(1, 9, 2), (6, 23, 0)]);
}

#[test]
fn money_is_exact_from_numbers_and_strings() {
    // `1e0` is refused: money is decimal text only.
    let doc = br#"{"targets": [{"id": "a", "usage": {"total_revenue": 1e0}}]}"#;
    let e = parse_config(doc, "t.json", None).unwrap_err();
    assert_eq!(e.path(), "targets[0].usage.total_revenue");
    assert!(e.expected().starts_with("is not a decimal amount"), "{e}");
    let doc = json!({"targets": [{"id": "a",
        "caps": {"hourly_revenue": 0.1, "monthly_revenue": "12345678.9", "total_revenue": 99999999999u64},
        "usage": {"hourly_revenue": "0.07"}}]});
    let t = &parse(&doc, Format::Routecap).targets[0];
    assert_eq!(t.limits().hourly_revenue, Some(Money(10)));
    assert_eq!(t.limits().monthly_revenue, Some(Money(1_234_567_890)));
    assert_eq!(t.limits().total_revenue, Some(Money(9_999_999_999_900)));
    assert_eq!(t.usage().hourly_revenue, Money(7));
}

#[test]
fn trigger_spellings_are_lenient() {
    for (text, want) in [
        ("connect", Trigger::Connect),
        ("onConnect", Trigger::Connect),
        ("on_connect", Trigger::Connect),
        ("Connected", Trigger::Connect),
        ("onConvert", Trigger::Convert),
        ("conversion", Trigger::Convert),
        ("CONVERT", Trigger::Convert),
        ("on-revenue", Trigger::Revenue),
        ("onRevenue", Trigger::Revenue),
    ] {
        let c = parse(
            &json!({"targets": [{"id": "a", "trigger": text}]}),
            Format::Routecap,
        );
        assert_eq!(c.targets[0].trigger, want, "{text}");
        let c = parse(
            &json!({"target": {"id": 1, "cap_trigger": text}}),
            Format::Retreaver,
        );
        assert_eq!(c.targets[0].trigger, want, "{text}");
        let c = parse(
            &json!({"id": "TA1", "targetCallIncrement": text}),
            Format::Ringba,
        );
        assert_eq!(c.targets[0].trigger, want, "{text}");
    }
}

#[test]
fn retreaver_details() {
    let doc = json!({
        "targets": [
            {"id": 1, "caps": [{"type": "Hourly", "cap": 4, "filled": 3}, {"type": "Monthly", "cap": 90, "filled": 12},
                               {"type": "Hard", "cap": null, "filled": 77}],
             "daily_cap_attributes": {"cap": 9}, "hourly_cap_attributes": {"cap": 6},
             "concurrency_cap": 2, "calls_in_progress": 1,
             "business_hours": [{"day_of_week": 2, "time_open": 830, "time_close": 1730, "inverted": true}],
             "business_hours_attributes": [{"day_of_week": 4}]},
            {"tid": "ext-2", "business_hours_attributes": [{"day_of_week": 6, "work_day": false}]}
        ],
        "target_groups": [{"id": 10, "targets": [{"id": 1}, {"id": "ext-2"}], "behavior": 2, "weight": null, "priority": -3}]
    });
    let c = parse(&doc, Format::Retreaver);
    let t = &c.targets[0];
    assert_eq!(
        t.limits(),
        Limits {
            hourly: Some(6),
            daily: Some(9),
            monthly: Some(90),
            concurrency: Some(2),
            ..Limits::default()
        },
        "attributes override the caps array"
    );
    assert_eq!(
        t.usage(),
        Usage {
            hourly: 3,
            monthly: 12,
            total: 77,
            live: 1,
            ..Usage::default()
        }
    );
    let mut days = [None; 7];
    days[2] = day(510, 1050, true, false);
    assert_eq!(
        t.hours.as_deref().cloned(),
        Some(WeeklyHours::new(days)),
        "business_hours wins over _attributes"
    );
    let t2 = &c.targets[1];
    assert_eq!(t2.id, "ext-2");
    let mut days = [None; 7];
    days[6] = day(0, 1440, false, true);
    assert_eq!(t2.hours.as_deref().cloned(), Some(WeeklyHours::new(days)));
    let g = &c.groups[0];
    assert_eq!((g.id.as_str(), g.mode), ("10", GroupMode::Simultaneous));
    assert_eq!(g.members, vec![0, 1]);
    assert_eq!((g.priority, g.weight), (Some(-3), None));
}

#[test]
fn ringba_group_membership_accumulates() {
    let doc = json!({
        "targets": [
            {"id": "TA1", "targetGroupId": "TG1", "schedule": {"hourlySumCap": "12.5", "allTimeSumCap": -1}},
            {"id": "TA2", "targetGroupId": ""},
            {"id": "TA3", "targetGroupId": "TG1", "enabled": false, "priority": 2, "weight": 7}
        ],
        "stats": {"tG1": {"currentDay": 9, "currentDaySum": "10.10"}, "ta3": {"currentLive": 1}}
    });
    let c = parse(&doc, Format::Ringba);
    assert_eq!(c.targets[0].limits().hourly_revenue, Some(Money(1250)));
    assert_eq!(c.targets[0].limits().total_revenue, None);
    let t3 = &c.targets[2];
    assert_eq!((t3.paused, t3.priority, t3.weight), (true, 2, 7));
    assert_eq!(
        t3.usage(),
        Usage {
            live: 1,
            ..Usage::default()
        }
    );
    assert_eq!(c.groups.len(), 1);
    assert_eq!(c.groups[0].id, "TG1");
    assert_eq!(c.groups[0].members, vec![0, 2]);
    assert_eq!(
        c.groups[0].usage,
        Usage {
            daily: 9,
            daily_revenue: Money(1010),
            ..Usage::default()
        }
    );
}

/// Stats ids match target ids ignoring ASCII case only, like every name
/// match of the engine: `tA1` is `TA1`'s, but `éa` is not `ÉA`'s.
#[test]
fn ringba_stats_ids_fold_ascii_case_only() {
    let doc = json!({
        "targets": [{"id": "TA1"}, {"id": "ÉA"}, {"id": "éa2"}],
        "stats": {
            "tA1": {"currentDay": 3},
            "éa": {"currentDay": 4},
            "ÉA2": {"currentDay": 5}
        }
    });
    let c = parse(&doc, Format::Ringba);
    assert_eq!(c.targets[0].usage().daily, 3);
    assert_eq!(c.targets[1].usage().daily, 0);
    assert_eq!(c.targets[2].usage().daily, 0);
}

#[test]
fn detection() {
    let cases = [
        (json!({"targets": []}), Some(Format::Routecap)),
        (json!({"targets": [{"id": "a"}]}), Some(Format::Routecap)),
        (
            json!({"as_of": "2026-01-01T00:00:00Z"}),
            Some(Format::Routecap),
        ),
        (
            json!({"targets": [{"id": 1, "caps": {"daily": 1}}]}),
            Some(Format::Routecap),
        ),
        (
            json!({"targets": [{"id": 1, "hours": []}]}),
            Some(Format::Routecap),
        ),
        (
            json!({"targets": [{"id": "TA", "schedule": {}}]}),
            Some(Format::Ringba),
        ),
        (
            json!({"targets": [{"id": "TA"}], "stats": {}}),
            Some(Format::Ringba),
        ),
        (
            json!({"target": {"id": "TA", "enabled": true}}),
            Some(Format::Ringba),
        ),
        (
            json!({"id": "TA", "targetCallIncrement": "onConnect"}),
            Some(Format::Ringba),
        ),
        (json!([{"id": "TA", "schedule": {}}]), Some(Format::Ringba)),
        (json!({"target": {"id": 1}}), Some(Format::Retreaver)),
        (json!({"target_group": {"id": 1}}), Some(Format::Retreaver)),
        (json!([{"target": {"id": 1}}]), Some(Format::Retreaver)),
        (json!([]), Some(Format::Retreaver)),
        (
            json!({"targets": [{"target": {"id": 1}}]}),
            Some(Format::Retreaver),
        ),
        (
            json!({"targets": [{"id": 1, "caps": []}]}),
            Some(Format::Retreaver),
        ),
        (
            json!({"targets": [{"id": 1, "business_hours": []}]}),
            Some(Format::Retreaver),
        ),
        (json!({"target_groups": []}), Some(Format::Retreaver)),
        (
            json!({"id": 1, "concurrency_cap": 3}),
            Some(Format::Retreaver),
        ),
        (json!({"id": 1}), None),
        (json!(42), None),
        (json!("x"), None),
        (json!(null), None),
    ];
    for (doc, want) in cases {
        assert_eq!(detect(&doc), want, "{doc}");
    }
}

#[test]
fn format_names_round_trip() {
    for f in [Format::Routecap, Format::Retreaver, Format::Ringba] {
        assert_eq!(f.as_str().parse::<Format>(), Ok(f));
        assert_eq!(f.as_str().to_uppercase().parse::<Format>(), Ok(f));
    }
    assert!("csv".parse::<Format>().is_err());
}

#[test]
fn explicit_format_overrides_detection() {
    // Ambiguous, so detected as native, which refuses `cap_trigger` (a
    // Retreaver field, and the strict native shape knows no such field);
    // read as Retreaver when told so.
    let doc = br#"{"targets": [{"id": 5, "cap_trigger": "convert"}]}"#;
    let native = parse_config(doc, "t", None).unwrap_err();
    assert_eq!(native.path(), "targets[0]");
    assert!(
        native
            .expected()
            .starts_with("is a Retreaver target (it has `cap_trigger`)"),
        "{native}"
    );
    let retreaver = parse_config(doc, "t", Some(Format::Retreaver)).unwrap();
    assert_eq!(retreaver.targets[0].trigger, Trigger::Convert);
}

// ---------- examples/ ----------

fn example(name: &str, format: Format) -> Config {
    let path = format!("{}/../../examples/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(detect(&v), Some(format), "{name}");
    parse_config(&bytes, name, None).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn example_native() {
    let c = example("native.json", Format::Routecap);
    assert_eq!(
        c.as_of,
        Some(Utc.with_ymd_and_hms(2026, 11, 22, 15, 0, 0).unwrap())
    );
    let zones: Vec<Tz> = c.targets.iter().map(|t| t.zone.tz()).collect();
    assert_eq!(
        zones,
        [
            Tz::America__New_York,
            Tz::America__Chicago,
            Tz::America__Los_Angeles,
            Tz::America__Phoenix,
            Tz::Europe__London,
            Tz::Asia__Kolkata,
            Tz::America__St_Johns
        ]
    );
    assert_eq!(c.targets[1].trigger, Trigger::Convert);
    assert_eq!(c.targets[2].usage().monthly_revenue, Money(1_825_075));
    assert_eq!(
        c.targets[4].concurrency_matrix().unwrap().limit(1, 9),
        Some(3)
    );
    assert!(c.targets[6].paused);
    let modes: Vec<(&str, GroupMode, Vec<usize>)> = c
        .groups
        .iter()
        .map(|g| (g.id.as_str(), g.mode, g.members.clone()))
        .collect();
    assert_eq!(
        modes,
        [
            ("us-east", GroupMode::Separate, vec![0, 1]),
            ("night-pool", GroupMode::Simultaneous, vec![3, 5])
        ]
    );
}

#[test]
fn example_retreaver() {
    let c = example("retreaver.json", Format::Retreaver);
    assert_eq!(c.targets.len(), 4);
    let t = &c.targets[0];
    assert_eq!(t.id, "6588");
    assert_eq!(
        t.limits(),
        Limits {
            hourly: Some(6),
            daily: Some(40),
            total: Some(1000),
            concurrency: Some(3),
            ..Limits::default()
        }
    );
    assert_eq!(
        t.usage(),
        Usage {
            hourly: 2,
            daily: 17,
            monthly: 233,
            total: 611,
            live: 1,
            ..Usage::default()
        }
    );
    assert_eq!(
        t.hours.as_ref().unwrap().days[0],
        day(900 / 100 * 60, 1080, false, true)
    );
    assert_eq!(c.groups[0].mode, GroupMode::Simultaneous);
    assert_eq!(c.groups[0].members, vec![0, 1]);
    assert_eq!(
        (c.groups[0].priority, c.groups[0].weight),
        (Some(1), Some(2))
    );
}

#[test]
fn example_ringba() {
    let c = example("ringba.json", Format::Ringba);
    assert_eq!(c.targets.len(), 3);
    assert_eq!(c.targets[0].usage().daily, 31);
    assert_eq!(c.targets[1].limits().total_revenue, Some(Money(5_000_050)));
    assert_eq!(c.targets[1].usage().total_revenue, Money(3_125_025));
    assert_eq!(
        c.targets[1].concurrency_matrix().unwrap().limit(3, 18),
        Some(1)
    );
    assert!(c.targets[2].paused);
    assert_eq!(c.groups.len(), 1);
    assert_eq!(c.groups[0].members, vec![0, 1]);
    assert_eq!(c.groups[0].usage.daily, 45);
}

/// What many targets have in common is stored once per config: equal
/// weekly hours and equal zone names are one shared copy (the memory of a
/// million targets, README "Memory"), and sharing changes no value.
#[test]
fn equal_hours_and_zone_names_are_shared() {
    let hours = json!([{"day": 1, "open": "09:00", "close": "17:00"}]);
    let doc = json!({"targets": [
        {"id": "a", "time_zone": "Eastern Time (US & Canada)", "hours": hours},
        {"id": "b", "time_zone": "Eastern Time (US & Canada)", "hours": hours},
        {"id": "c", "time_zone": "America/New_York",
         "hours": [{"day": 2, "open": "09:00", "close": "17:00"}]},
    ]});
    let c = parse(&doc, Format::Routecap);
    let [a, b, x] = [&c.targets[0], &c.targets[1], &c.targets[2]];
    let (ha, hb, hx) = (a.hours.as_ref(), b.hours.as_ref(), x.hours.as_ref());
    let (ha, hb, hx) = (ha.unwrap(), hb.unwrap(), hx.unwrap());
    assert!(std::sync::Arc::ptr_eq(ha, hb));
    assert!(!std::sync::Arc::ptr_eq(ha, hx));
    assert_ne!(ha, hx);
    assert!(std::sync::Arc::ptr_eq(&a.zone_name, &b.zone_name));
    assert_eq!(&*x.zone_name, "America/New_York");
    assert_eq!(a.zone, x.zone);
}
