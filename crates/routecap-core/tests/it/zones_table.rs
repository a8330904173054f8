//! The embedded zone-name tables: every Rails and Windows row
//! resolves as listed, matching is case- and whitespace-insensitive, unknown
//! names get suggestions, and the transition tables agree with chrono-tz.

use std::collections::HashSet;

use chrono::{DateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use routecap_core::zone::{resolve, Zone, ZoneKind};

const RAILS: &str = include_str!("../../data/rails-time-zones.tsv");
const WINDOWS: &str = include_str!("../../data/windows-time-zones.tsv");

/// `(name, iana)` rows of a table, parsed independently of the crate.
fn rows(text: &'static str) -> Vec<(&'static str, &'static str)> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_once('\t').expect("name<TAB>iana"))
        .collect()
}

/// UTC offset (seconds) of `tz` at `t`, straight from chrono-tz.
fn chrono_offset(tz: Tz, t: i64) -> i32 {
    let dt = DateTime::from_timestamp(t, 0).unwrap().naive_utc();
    tz.offset_from_utc_datetime(&dt).fix().local_minus_utc()
}

fn jan_jul_2026(tz: Tz) -> (i32, i32) {
    let jan = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .unwrap()
        .timestamp();
    let jul = Utc
        .with_ymd_and_hms(2026, 7, 1, 0, 0, 0)
        .unwrap()
        .timestamp();
    (chrono_offset(tz, jan), chrono_offset(tz, jul))
}

fn same_zone_or_offsets(got: Tz, listed: Tz) -> bool {
    got == listed || jan_jul_2026(got) == jan_jul_2026(listed)
}

#[test]
fn row_counts_and_no_duplicate_names() {
    let rails = rows(RAILS);
    let windows = rows(WINDOWS);
    assert_eq!(rails.len(), 154);
    assert_eq!(windows.len(), 142);
    for table in [&rails, &windows] {
        let names: HashSet<String> = table.iter().map(|(n, _)| n.to_ascii_lowercase()).collect();
        assert_eq!(names.len(), table.len(), "duplicate name in a table");
    }
}

#[test]
fn every_rails_row_resolves_as_listed() {
    for (name, iana) in rows(RAILS) {
        let listed: Tz = iana
            .parse()
            .unwrap_or_else(|_| panic!("{iana} is a chrono-tz zone"));
        let r = resolve(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            same_zone_or_offsets(r.tz, listed),
            "{name}: {} vs {iana}",
            r.tz.name()
        );
        assert_eq!(r.kind, ZoneKind::Rails, "{name}");
        assert_eq!(r.canonical, name);
    }
}

#[test]
fn every_windows_row_resolves_as_listed() {
    let rails: HashSet<String> = rows(RAILS)
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect();
    for (name, iana) in rows(WINDOWS) {
        let listed: Tz = iana
            .parse()
            .unwrap_or_else(|_| panic!("{iana} is a chrono-tz zone"));
        let r = resolve(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            same_zone_or_offsets(r.tz, listed),
            "{name}: {} vs {iana}",
            r.tz.name()
        );
        // `UTC` is in both tables; the Rails spelling wins, to the same zone
        let kind = if rails.contains(&name.to_ascii_lowercase()) {
            ZoneKind::Rails
        } else {
            ZoneKind::Windows
        };
        assert_eq!(r.kind, kind, "{name}");
    }
}

#[test]
fn known_mappings_have_the_expected_offsets() {
    const H: i32 = 3600;
    // (name, January 2026 offset, July 2026 offset), from the Rails / CLDR mappings
    let cases: &[(&str, i32, i32)] = &[
        ("Eastern Time (US & Canada)", -5 * H, -4 * H),
        ("Arizona", -7 * H, -7 * H),
        ("Chatham Is.", 13 * H + 2700, 12 * H + 2700),
        ("Mid-Atlantic", -2 * H, -2 * H),
        ("Astana", 5 * H, 5 * H),
        ("Asuncion", -3 * H, -3 * H),
        ("Alberta", -7 * H, -6 * H),
        ("Pacific Time (Canada)", -8 * H, -7 * H),
        ("International Date Line West", -12 * H, -12 * H),
        ("Newfoundland", -3 * H - 1800, -2 * H - 1800),
        ("Romance Standard Time", H, 2 * H),
        ("Hawaiian Standard Time", -10 * H, -10 * H),
        ("Alberta Standard Time", -7 * H, -6 * H),
        ("British Columbia Standard Time", -8 * H, -7 * H),
        ("Manitoba Standard Time", -6 * H, -5 * H),
        ("India Standard Time", 5 * H + 1800, 5 * H + 1800),
        ("Dateline Standard Time", -12 * H, -12 * H),
        ("Pacific SA Standard Time", -3 * H, -4 * H),
        ("Lord Howe Standard Time", 11 * H, 10 * H + 1800),
        ("Nepal Standard Time", 5 * H + 2700, 5 * H + 2700),
        ("Etc/GMT+12", -12 * H, -12 * H),
        ("UTC", 0, 0),
    ];
    for &(name, jan, jul) in cases {
        let r = resolve(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(jan_jul_2026(r.tz), (jan, jul), "{name} -> {}", r.tz.name());
    }
    assert_eq!(resolve("Astana").unwrap().tz, chrono_tz::Asia::Almaty);
    assert_eq!(
        resolve("Eastern Standard Time").unwrap().tz,
        chrono_tz::America::New_York
    );
}

#[test]
fn matching_ignores_ascii_case_and_surrounding_whitespace() {
    for (name, _) in rows(RAILS).into_iter().chain(rows(WINDOWS)) {
        let want = resolve(name).unwrap();
        for variant in [
            name.to_ascii_uppercase(),
            name.to_ascii_lowercase(),
            format!("  \t{name} \n"),
        ] {
            let got = resolve(&variant).unwrap_or_else(|e| panic!("{variant:?}: {e}"));
            assert_eq!(
                (got.tz, got.kind, got.canonical),
                (want.tz, want.kind, want.canonical)
            );
        }
    }
    assert_eq!(
        resolve(" america/NEW_york ").unwrap().tz,
        chrono_tz::America::New_York
    );
    assert_eq!(resolve(" \t ").unwrap().tz, Tz::UTC);
    // inner whitespace is significant
    assert!(resolve("Eastern  Time (US & Canada)").is_err());
}

#[test]
fn unknown_names_get_at_most_three_known_suggestions() {
    for input in [
        "Eastern Time",
        "Mars/Olympus_Mons",
        "Romance",
        "  pacific tim ",
        "x",
        "Eastern Time (US and Canada)",
    ] {
        let e = resolve(input).unwrap_err();
        assert_eq!(e.input(), input);
        assert!(
            !e.suggestions().is_empty() && e.suggestions().len() <= 3,
            "{input}: {:?}",
            e.suggestions()
        );
        let distinct: HashSet<String> = e
            .suggestions()
            .iter()
            .map(|s| s.to_ascii_lowercase())
            .collect();
        assert_eq!(
            distinct.len(),
            e.suggestions().len(),
            "{input}: duplicate suggestion"
        );
        for s in e.suggestions() {
            assert!(resolve(s).is_ok(), "suggestion {s:?} resolves");
        }
        let msg = e.to_string();
        assert!(
            msg.starts_with(&format!("unknown time zone {input:?}")),
            "{msg}"
        );
    }
    let e = resolve("Eastern Time").unwrap_err();
    assert!(
        e.suggestions().contains(&"Eastern Time (US & Canada)"),
        "{:?}",
        e.suggestions()
    );
    let e = resolve("Eastern Time (US and Canada)").unwrap_err();
    assert_eq!(e.suggestions().first(), Some(&"Eastern Time (US & Canada)"));
}

#[test]
fn transition_tables_agree_with_chrono_tz_2024_to_2027() {
    use chrono_tz::{Africa, America, Asia, Australia, Europe, Pacific};
    let zones = [
        America::New_York,
        Australia::Lord_Howe,
        Pacific::Chatham,
        America::Santiago,
        America::Havana,
        Africa::Casablanca,
        Asia::Kolkata,
        America::St_Johns,
        Europe::London,
        Asia::Kathmandu,
        Pacific::Apia,
        America::Asuncion,
        Pacific::Auckland,
        Africa::Cairo,
        America::Nuuk,
        Asia::Gaza,
        chrono_tz::Etc::GMTPlus12,
    ];
    let from = Utc
        .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .unwrap()
        .timestamp();
    let to = Utc
        .with_ymd_and_hms(2028, 1, 1, 0, 0, 0)
        .unwrap()
        .timestamp();
    for tz in zones {
        let z = Zone::new(tz);
        // every half hour: transitions fall on :00 or :30 UTC, so this hits them exactly
        for t in (from..to).step_by(1800) {
            assert_eq!(
                z.rules().offset_at(t),
                chrono_offset(tz, t),
                "{} at {t}",
                tz.name()
            );
        }
        // each transition is exact to the second, and spans are consistent
        for &(at, off) in z
            .rules()
            .transitions()
            .iter()
            .filter(|(at, _)| (from..to).contains(at))
        {
            assert_eq!(chrono_offset(tz, at), off, "{} at {at}", tz.name());
            assert_ne!(chrono_offset(tz, at - 1), off, "{} before {at}", tz.name());
            let span = z.span_at(at);
            assert_eq!((span.start, span.offset), (Some(at), off));
            assert_eq!(z.span_at(at - 1).end, Some(at));
        }
    }
}
