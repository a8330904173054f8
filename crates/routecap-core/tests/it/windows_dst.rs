//! Cap windows across DST: laws over random zones and instants
//! checked against minute-stepping references, and scenario tests with exact
//! expected UTC instants.

use std::sync::OnceLock;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;
use routecap_core::caps::Period;
use routecap_core::window::{first_at_or_after, window, window_start, Window};
use routecap_core::zone::Zone;
use routecap_core::Instant;

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Instant {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn w(start: Instant, end: Instant) -> Window {
    Window { start, end }
}

fn zone(tz: Tz) -> Zone {
    Zone::new(tz)
}

// ---------------------------------------------------------------- scenarios

#[test]
fn new_york_fall_back_night_has_two_distinct_one_oclock_windows() {
    let z = zone(chrono_tz::America::New_York);
    let first = window(&z, Period::Hour, utc(2026, 11, 1, 5, 59));
    let second = window(&z, Period::Hour, utc(2026, 11, 1, 6, 0));
    assert_eq!(first, w(utc(2026, 11, 1, 5, 0), utc(2026, 11, 1, 6, 0)));
    assert_eq!(second, w(utc(2026, 11, 1, 6, 0), utc(2026, 11, 1, 7, 0)));
    assert_ne!(
        window_start(&z, Period::Hour, utc(2026, 11, 1, 5, 30)),
        window_start(&z, Period::Hour, utc(2026, 11, 1, 6, 30))
    );
    // the 25-hour day
    let day = window(&z, Period::Day, utc(2026, 11, 1, 5, 30));
    assert_eq!(day, w(utc(2026, 11, 1, 4, 0), utc(2026, 11, 2, 5, 0)));
    assert_eq!(day.end - day.start, Duration::hours(25));
    // 01:30 local first occurs in EDT
    let local = NaiveDate::from_ymd_opt(2026, 11, 1)
        .unwrap()
        .and_hms_opt(1, 30, 0)
        .unwrap();
    assert_eq!(first_at_or_after(&z, local), utc(2026, 11, 1, 5, 30));
}

#[test]
fn new_york_spring_forward_day_is_23_hours() {
    let z = zone(chrono_tz::America::New_York);
    let day = window(&z, Period::Day, utc(2026, 3, 8, 5, 0));
    assert_eq!(day, w(utc(2026, 3, 8, 5, 0), utc(2026, 3, 9, 4, 0)));
    assert_eq!(day.end - day.start, Duration::hours(23));
    assert_eq!(
        window(&z, Period::Hour, utc(2026, 3, 8, 6, 30)),
        w(utc(2026, 3, 8, 6, 0), utc(2026, 3, 8, 7, 0))
    );
    assert_eq!(
        window(&z, Period::Hour, utc(2026, 3, 8, 7, 0)),
        w(utc(2026, 3, 8, 7, 0), utc(2026, 3, 8, 8, 0))
    );
    // 02:30 local does not exist: the first instant at or after it is the jump
    let local = NaiveDate::from_ymd_opt(2026, 3, 8)
        .unwrap()
        .and_hms_opt(2, 30, 0)
        .unwrap();
    assert_eq!(first_at_or_after(&z, local), utc(2026, 3, 8, 7, 0));
    let month = window(&z, Period::Month, utc(2026, 3, 31, 12, 0));
    assert_eq!(month, w(utc(2026, 3, 1, 5, 0), utc(2026, 4, 1, 4, 0)));
}

#[test]
fn kolkata_rolls_over_at_half_past_utc() {
    let z = zone(chrono_tz::Asia::Kolkata);
    assert_eq!(
        window(&z, Period::Hour, utc(2026, 6, 1, 10, 29)),
        w(utc(2026, 6, 1, 9, 30), utc(2026, 6, 1, 10, 30))
    );
    assert_eq!(
        window(&z, Period::Hour, utc(2026, 6, 1, 10, 30)),
        w(utc(2026, 6, 1, 10, 30), utc(2026, 6, 1, 11, 30))
    );
    assert_eq!(
        window(&z, Period::Day, utc(2026, 6, 1, 18, 29)),
        w(utc(2026, 5, 31, 18, 30), utc(2026, 6, 1, 18, 30))
    );
    assert_eq!(
        window(&z, Period::Month, utc(2026, 6, 30, 18, 30)),
        w(utc(2026, 6, 30, 18, 30), utc(2026, 7, 31, 18, 30))
    );
}

#[test]
fn newfoundland_hourly_windows_at_half_past() {
    let z = zone(chrono_tz::America::St_Johns);
    // summer -02:30 and winter -03:30 both roll over at :30 UTC
    assert_eq!(
        window(&z, Period::Hour, utc(2026, 7, 1, 12, 45)),
        w(utc(2026, 7, 1, 12, 30), utc(2026, 7, 1, 13, 30))
    );
    assert_eq!(
        window(&z, Period::Hour, utc(2026, 1, 15, 12, 15)),
        w(utc(2026, 1, 15, 11, 30), utc(2026, 1, 15, 12, 30))
    );
    // fall back 2026-11-01 02:00 NDT -> 01:00 NST at 04:30Z: two 01:00 windows
    assert_eq!(
        window(&z, Period::Hour, utc(2026, 11, 1, 4, 0)),
        w(utc(2026, 11, 1, 3, 30), utc(2026, 11, 1, 4, 30))
    );
    assert_eq!(
        window(&z, Period::Hour, utc(2026, 11, 1, 4, 30)),
        w(utc(2026, 11, 1, 4, 30), utc(2026, 11, 1, 5, 30))
    );
    // spring forward 2026-03-08 02:00 NST -> 03:00 NDT at 05:30Z
    assert_eq!(
        window(&z, Period::Hour, utc(2026, 3, 8, 5, 29)),
        w(utc(2026, 3, 8, 4, 30), utc(2026, 3, 8, 5, 30))
    );
    assert_eq!(
        window(&z, Period::Day, utc(2026, 3, 8, 12, 0)),
        w(utc(2026, 3, 8, 3, 30), utc(2026, 3, 9, 2, 30))
    );
}

#[test]
fn santiago_midnight_dst_days() {
    let z = zone(chrono_tz::America::Santiago);
    // 2026-09-06 00:00 -04 -> 01:00 -03 at 04:00Z: the day starts at the jump
    let sep6 = window(&z, Period::Day, utc(2026, 9, 6, 4, 0));
    assert_eq!(sep6, w(utc(2026, 9, 6, 4, 0), utc(2026, 9, 7, 3, 0)));
    assert_eq!(
        window(&z, Period::Day, utc(2026, 9, 6, 3, 59)),
        w(utc(2026, 9, 5, 4, 0), utc(2026, 9, 6, 4, 0))
    );
    // the clock shows 01:00 at the jump
    assert_eq!(
        window(&z, Period::Hour, utc(2026, 9, 6, 4, 30)),
        w(utc(2026, 9, 6, 4, 0), utc(2026, 9, 6, 5, 0))
    );
    // 2026-04-05 00:00 -03 -> 2026-04-04 23:00 -04 at 03:00Z: a 25-hour 4 April,
    // two 23:00 windows, and 5 April starts at its first midnight (-04)
    let apr4 = window(&z, Period::Day, utc(2026, 4, 5, 3, 30));
    assert_eq!(apr4, w(utc(2026, 4, 4, 3, 0), utc(2026, 4, 5, 4, 0)));
    assert_eq!(
        window(&z, Period::Hour, utc(2026, 4, 5, 2, 30)),
        w(utc(2026, 4, 5, 2, 0), utc(2026, 4, 5, 3, 0))
    );
    assert_eq!(
        window(&z, Period::Hour, utc(2026, 4, 5, 3, 30)),
        w(utc(2026, 4, 5, 3, 0), utc(2026, 4, 5, 4, 0))
    );
    assert_eq!(
        window(&z, Period::Month, utc(2026, 9, 15, 0, 0)),
        w(utc(2026, 9, 1, 4, 0), utc(2026, 10, 1, 3, 0))
    );
}

#[test]
fn havana_midnight_dst_days() {
    let z = zone(chrono_tz::America::Havana);
    // 2026-03-08 00:00 -05 -> 01:00 -04 at 05:00Z
    assert_eq!(
        window(&z, Period::Day, utc(2026, 3, 8, 5, 0)),
        w(utc(2026, 3, 8, 5, 0), utc(2026, 3, 9, 4, 0))
    );
    assert_eq!(
        window(&z, Period::Day, utc(2026, 3, 8, 4, 59)),
        w(utc(2026, 3, 7, 5, 0), utc(2026, 3, 8, 5, 0))
    );
    assert_eq!(
        window(&z, Period::Hour, utc(2026, 3, 8, 5, 10)),
        w(utc(2026, 3, 8, 5, 0), utc(2026, 3, 8, 6, 0))
    );
    // 2026-11-01 01:00 -04 -> 00:00 -05 at 05:00Z: midnight shows twice, one 25-hour day
    assert_eq!(
        window(&z, Period::Day, utc(2026, 11, 1, 5, 30)),
        w(utc(2026, 11, 1, 4, 0), utc(2026, 11, 2, 5, 0))
    );
    assert_eq!(
        window(&z, Period::Hour, utc(2026, 11, 1, 4, 30)),
        w(utc(2026, 11, 1, 4, 0), utc(2026, 11, 1, 5, 0))
    );
    assert_eq!(
        window(&z, Period::Hour, utc(2026, 11, 1, 5, 30)),
        w(utc(2026, 11, 1, 5, 0), utc(2026, 11, 1, 6, 0))
    );
}

#[test]
fn lord_howe_half_hour_shifts_start_no_window() {
    let z = zone(chrono_tz::Australia::Lord_Howe);
    // 2026-04-05 02:00 +11 -> 01:30 +10:30 at 15:00Z on the 4th:
    // the 01:00 window runs until the clock shows 02:00 (+10:30)
    let fall = w(utc(2026, 4, 4, 14, 0), utc(2026, 4, 4, 15, 30));
    assert_eq!(window(&z, Period::Hour, utc(2026, 4, 4, 14, 10)), fall);
    assert_eq!(window(&z, Period::Hour, utc(2026, 4, 4, 15, 10)), fall);
    assert_eq!(
        window(&z, Period::Day, utc(2026, 4, 4, 20, 0)),
        w(utc(2026, 4, 4, 13, 0), utc(2026, 4, 5, 13, 30))
    );
    // 2026-10-04 02:00 +10:30 -> 02:30 +11 at 15:30Z on the 3rd:
    // the clock never shows 02:00, so the 01:00 window runs to 03:00 (+11)
    let spring = w(utc(2026, 10, 3, 14, 30), utc(2026, 10, 3, 16, 0));
    assert_eq!(window(&z, Period::Hour, utc(2026, 10, 3, 15, 40)), spring);
    assert_eq!(
        window(&z, Period::Day, utc(2026, 10, 3, 20, 0)),
        w(utc(2026, 10, 3, 13, 30), utc(2026, 10, 4, 13, 0))
    );
}

#[test]
fn chatham_rolls_over_at_quarter_past_utc() {
    let z = zone(chrono_tz::Pacific::Chatham);
    assert_eq!(
        window(&z, Period::Hour, utc(2026, 7, 1, 0, 0)),
        w(utc(2026, 6, 30, 23, 15), utc(2026, 7, 1, 0, 15))
    );
}

// ---------------------------------------------------------------- laws

const ZONE_TZS: &[Tz] = &[
    chrono_tz::America::New_York,
    chrono_tz::Asia::Kolkata,
    chrono_tz::Pacific::Chatham,
    chrono_tz::Australia::Lord_Howe,
    chrono_tz::America::Santiago,
    chrono_tz::America::Havana,
    chrono_tz::Etc::GMTPlus12,
    chrono_tz::Europe::London,
    chrono_tz::America::St_Johns,
    chrono_tz::Africa::Casablanca,
    chrono_tz::Asia::Kathmandu,
    chrono_tz::Pacific::Apia,
    chrono_tz::UTC,
];

fn zones() -> &'static [Zone] {
    static ZONES: OnceLock<Vec<Zone>> = OnceLock::new();
    ZONES.get_or_init(|| ZONE_TZS.iter().map(|&tz| Zone::new(tz)).collect())
}

const FROM: i64 = 1_577_836_800; // 2020-01-01
const TO: i64 = 2_082_758_400; // 2036-01-01

fn at(secs: i64) -> Instant {
    DateTime::from_timestamp(secs, 0).unwrap()
}

/// A random instant in 2020..2035, uniform or within three days of one of
/// the zone's transitions, with a random sub-second part.
fn pick_instant(z: &Zone, near_transition: bool, raw: u64, delta: i64, nanos: u32) -> Instant {
    let tx: Vec<i64> = z
        .rules()
        .transitions()
        .iter()
        .map(|&(at, _)| at)
        .filter(|at| (FROM..TO).contains(at))
        .collect();
    let secs = if near_transition && !tx.is_empty() {
        tx[raw as usize % tx.len()] + delta
    } else {
        FROM + (raw % (TO - FROM) as u64) as i64
    };
    DateTime::from_timestamp(secs, nanos).unwrap()
}

fn case() -> impl Strategy<Value = (usize, Period, Instant)> {
    (
        0..ZONE_TZS.len(),
        prop::sample::select(Period::ALL.to_vec()),
        any::<bool>(),
        any::<u64>(),
        // most DST trouble sits within an hour or two of a transition
        prop_oneof![-3 * 86_400i64..3 * 86_400, -7200i64..7200],
        prop_oneof![Just(0u32), 0..1_000_000_000u32],
    )
        .prop_map(|(zi, p, near, raw, delta, nanos)| {
            (zi, p, pick_instant(&zones()[zi], near, raw, delta, nanos))
        })
}

/// Whether the local clock shows `HH:00:00` at Unix second `s`.
fn shows_hour(z: &Zone, s: i64) -> bool {
    let l = z.local(at(s));
    l.minute() == 0 && l.second() == 0
}

/// Reference hourly window by stepping whole minutes (every zone in the list
/// has whole-minute offsets and transitions).
fn hour_reference(z: &Zone, t: Instant) -> Window {
    let m = t.timestamp().div_euclid(60) * 60;
    let start = (0..=240)
        .map(|k| m - 60 * k)
        .find(|&s| shows_hour(z, s))
        .unwrap();
    let end = (1..=240)
        .map(|k| m + 60 * k)
        .find(|&s| shows_hour(z, s))
        .unwrap();
    w(at(start), at(end))
}

/// The local day (or month) number that has begun by Unix second `s`: the
/// largest one shown at any instant up to `s` (a fall-back may show an
/// earlier date again, which does not start a new window).
fn key_begun_by(z: &Zone, p: Period, s: i64) -> i64 {
    let key = |x: i64| {
        let d = z.local(at(x)).date();
        match p {
            Period::Day => d.num_days_from_ce() as i64,
            _ => d.year() as i64 * 12 + d.month0() as i64,
        }
    };
    (0..=27 * 60).map(|k| key(s - 60 * k)).max().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn window_contains_its_instant((zi, p, t) in case()) {
        let z = &zones()[zi];
        let win = window(z, p, t);
        prop_assert!(win.start <= t && t < win.end, "{:?} {:?} {}", p, win, t);
        prop_assert!(win.contains(t));
        prop_assert_eq!(window_start(z, p, t), win.start.timestamp());
    }

    #[test]
    fn windows_tile_time((zi, p, t) in case()) {
        let z = &zones()[zi];
        let win = window(z, p, t);
        let next = window(z, p, win.end);
        prop_assert_eq!(next.start, win.end, "no gap or overlap after {:?}", win);
        prop_assert_eq!(window(z, p, win.end - Duration::seconds(1)), win);
        prop_assert_eq!(window(z, p, win.start), win);
        prop_assert_eq!(window(z, p, win.start - Duration::seconds(1)).end, win.start);
        let (lo, hi) = match p {
            Period::Hour => (Duration::minutes(30), Duration::minutes(120)),
            Period::Day => (Duration::hours(22), Duration::hours(26)),
            Period::Month => (Duration::days(27), Duration::days(32)),
        };
        let len = win.end - win.start;
        prop_assert!(lo <= len && len <= hi, "{:?} lasts {}", win, len);
    }

    #[test]
    fn windows_match_minute_stepping_references((zi, p, t) in case()) {
        let z = &zones()[zi];
        let win = window(z, p, t);
        if p == Period::Hour {
            prop_assert_eq!(win, hour_reference(z, t));
        } else {
            // the window is the maximal run of instants that have begun the same local day / month
            let (s, e) = (win.start.timestamp(), win.end.timestamp());
            let k = key_begun_by(z, p, t.timestamp());
            prop_assert_eq!(key_begun_by(z, p, s), k);
            prop_assert_eq!(key_begun_by(z, p, e - 1), k);
            prop_assert!(key_begun_by(z, p, s - 1) < k);
            prop_assert!(key_begun_by(z, p, e) > k);
        }
    }
}
