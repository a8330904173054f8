//! Laws of the config parsers: bad input never panics, and the numeric
//! encodings (HHMM, `{hour, minute}`, `-1`, money) map exactly.

use proptest::prelude::*;
use routecap_core::formats::{detect, parse_config, parse_value, Format};
use routecap_core::money::Money;
use serde_json::{json, Value};

const FORMATS: [Option<Format>; 4] = [
    None,
    Some(Format::Routecap),
    Some(Format::Retreaver),
    Some(Format::Ringba),
];

/// Field names of all three shapes, so random documents reach deep code paths.
const KEYS: &[&str] = &[
    "as_of",
    "targets",
    "groups",
    "target",
    "target_group",
    "target_groups",
    "stats",
    "id",
    "tid",
    "name",
    "priority",
    "weight",
    "paused",
    "enabled",
    "time_zone",
    "timeZoneId",
    "trigger",
    "cap_trigger",
    "targetCallIncrement",
    "hours",
    "day",
    "open",
    "close",
    "invert",
    "closed",
    "caps",
    "hourly",
    "daily",
    "total",
    "concurrency",
    "daily_revenue",
    "usage",
    "live",
    "members",
    "mode",
    "target_ids",
    "behavior",
    "business_hours",
    "day_of_week",
    "time_open",
    "time_close",
    "work_day",
    "type",
    "cap",
    "filled",
    "schedule",
    "hoursOfOperation",
    "openTime",
    "closeTime",
    "hour",
    "minute",
    "isClosed",
    "dailyCap",
    "dailySumCap",
    "callConcurrencyMatrix",
    "concurrency_matrix",
    "targetGroupId",
    "currentDay",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-3i64..3000).prop_map(|n| json!(n)),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        prop_oneof![
            Just("UTC".to_string()),
            Just("Eastern Time (US & Canada)".to_string()),
            Just("09:00".to_string()),
            Just("Daily".to_string()),
            Just("onConvert".to_string()),
            Just("12.50".to_string()),
            "[a-zA-Z0-9 :._-]{0,12}",
        ]
        .prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..8).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        for f in FORMATS {
            if let Err(e) = parse_config(&bytes, "r.json", f) {
                prop_assert!(e.to_string().starts_with("r.json: "));
                prop_assert!(!e.path().is_empty());
            }
        }
    }

    #[test]
    fn random_documents_never_panic(doc in value()) {
        let _ = detect(&doc);
        for f in [Format::Routecap, Format::Retreaver, Format::Ringba] {
            if let Err(e) = parse_value(&doc, "r.json", f) {
                prop_assert!(!e.path().is_empty());
                prop_assert!(!e.expected().is_empty());
            }
        }
        let text = doc.to_string();
        let _ = parse_config(text.as_bytes(), "r.json", None);
    }
}

// Each parse builds its zones' transition tables (a few ms each in debug
// builds), so the exact-mapping laws run fewer cases.
proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn hhmm_maps_exactly(n in -100i64..3000) {
        let doc = json!({"target": {"id": 1, "business_hours": [{"day_of_week": 0, "time_open": n, "time_close": 2400}]}});
        let r = parse_value(&doc, "h", Format::Retreaver);
        let valid = (0..=2400).contains(&n) && n % 100 < 60;
        prop_assert_eq!(r.is_ok(), valid, "{}", n);
        if let Ok(c) = r {
            let open = c.targets[0].hours.as_ref().and_then(|h| h.days[0]).map(|d| d.open);
            prop_assert_eq!(open, Some((n / 100 * 60 + n % 100) as u16));
        }
    }

    #[test]
    fn ringba_clock_maps_exactly(h in -1i64..27, m in -1i64..62) {
        let mut week = vec![json!({}); 7];
        week[2] = json!({"openTime": {"hour": 0, "minute": 0}, "closeTime": {"hour": h, "minute": m}});
        let doc = json!({"id": "TA", "schedule": {"hoursOfOperation": week}});
        let r = parse_value(&doc, "h", Format::Ringba);
        let valid = (0..=24).contains(&h) && (0..60).contains(&m) && (h < 24 || m == 0);
        prop_assert_eq!(r.is_ok(), valid, "{}:{}", h, m);
        if let Ok(c) = r {
            let close = c.targets[0].hours.as_ref().and_then(|w| w.days[2]).map(|d| d.close);
            prop_assert_eq!(close, Some((h * 60 + m) as u16));
        }
    }

    #[test]
    fn ringba_minus_one_is_unlimited(n in -5i64..1_000_000) {
        let doc = json!({"id": "TA", "schedule": {"monthlyCap": n}});
        let r = parse_value(&doc, "c", Format::Ringba);
        match n {
            -1 => prop_assert_eq!(r.unwrap().targets[0].limits().monthly, None),
            n if n >= 0 => prop_assert_eq!(r.unwrap().targets[0].limits().monthly, Some(n as u64)),
            _ => prop_assert_eq!(r.unwrap_err().path().to_string(), "schedule.monthlyCap"),
        }
    }

    #[test]
    fn money_is_exact(cents in 0i64..=i64::MAX / 100) {
        let text = format!("{}.{:02}", cents / 100, cents % 100);
        let number: Value = serde_json::from_str(&text).unwrap();
        for v in [number, Value::String(text.clone())] {
            let doc = json!({"targets": [{"id": "a", "caps": {"total_revenue": v}}]});
            let c = parse_value(&doc, "m", Format::Routecap).unwrap();
            prop_assert_eq!(c.targets[0].limits().total_revenue, Some(Money(cents)));
        }
    }
}
