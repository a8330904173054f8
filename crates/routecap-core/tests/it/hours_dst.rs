//! Business hours across DST gaps and overlaps: laws of `next_open` /
//! `next_close` over random tables, zones and instants, and scenario tests with
//! exact expected UTC instants.

use std::sync::OnceLock;

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use proptest::prelude::*;
use routecap_core::hours::{DayHours, WeeklyHours, MINUTES_PER_DAY};
use routecap_core::zone::Zone;
use routecap_core::Instant;

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Instant {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn hm(h: u16, m: u16) -> u16 {
    h * 60 + m
}

fn entry(open: u16, close: u16) -> Option<DayHours> {
    Some(DayHours::new(open, close, false, false).unwrap())
}

fn inverted(open: u16, close: u16) -> Option<DayHours> {
    Some(DayHours::new(open, close, true, false).unwrap())
}

fn closed() -> Option<DayHours> {
    Some(DayHours::new(0, MINUTES_PER_DAY, false, true).unwrap())
}

/// A table with `day` (0 = Sunday) set to `e` and every other day closed.
fn only(day: usize, e: Option<DayHours>) -> WeeklyHours {
    let mut days = [closed(); 7];
    days[day] = e;
    WeeklyHours::new(days)
}

fn assert_weekday(t: Instant, zone: &Zone, wd: Weekday) {
    assert_eq!(zone.local(t).weekday(), wd, "local weekday of {t}");
}

// ---------------------------------------------------------------- scenarios

#[test]
fn new_york_spring_forward_hours_in_the_gap_never_occur() {
    let z = Zone::new(chrono_tz::America::New_York);
    let t = utc(2026, 3, 8, 5, 0); // Sun 00:00 EST
    assert_weekday(t, &z, Weekday::Sun);
    let gap_only = only(0, entry(hm(2, 0), hm(3, 0)));
    // 02:00-02:59 does not exist on 2026-03-08; next Sunday 02:00 EDT = 06:00Z
    assert_eq!(gap_only.next_open(&z, t), Some(utc(2026, 3, 15, 6, 0)));

    // 02:00-03:30 opens at the jump (03:00 EDT = 07:00Z) and closes at 03:30 EDT
    let into_gap = only(0, entry(hm(2, 0), hm(3, 30)));
    assert_eq!(into_gap.next_open(&z, t), Some(utc(2026, 3, 8, 7, 0)));
    assert_eq!(
        into_gap.next_close(&z, utc(2026, 3, 8, 7, 0)),
        Some(utc(2026, 3, 8, 7, 30))
    );

    // 01:30-02:30 opens at 01:30 EST and closes at the jump (local 03:00)
    let before_gap = only(0, entry(hm(1, 30), hm(2, 30)));
    assert_eq!(before_gap.next_open(&z, t), Some(utc(2026, 3, 8, 6, 30)));
    assert_eq!(
        before_gap.next_close(&z, utc(2026, 3, 8, 6, 30)),
        Some(utc(2026, 3, 8, 7, 0))
    );
}

#[test]
fn new_york_fall_back_hours_are_open_twice() {
    let z = Zone::new(chrono_tz::America::New_York);
    let h = only(0, entry(hm(1, 0), hm(1, 30)));
    let t = utc(2026, 11, 1, 4, 0); // Sun 00:00 EDT
    assert_weekday(t, &z, Weekday::Sun);
    let first = h.next_open(&z, t).unwrap();
    assert_eq!(first, utc(2026, 11, 1, 5, 0)); // 01:00 EDT
    assert_eq!(h.next_close(&z, first), Some(utc(2026, 11, 1, 5, 30)));
    let second = h.next_open(&z, utc(2026, 11, 1, 5, 30)).unwrap();
    assert_eq!(second, utc(2026, 11, 1, 6, 0)); // 01:00 EST
    assert_eq!(h.next_close(&z, second), Some(utc(2026, 11, 1, 6, 30)));
    assert_eq!(
        h.next_open(&z, utc(2026, 11, 1, 6, 30)),
        Some(utc(2026, 11, 8, 6, 0))
    );
    assert!(!h.is_open(&z, utc(2026, 11, 1, 5, 45)));
}

#[test]
fn india_half_hour_offset_and_minute_truncation() {
    let z = Zone::new(chrono_tz::Asia::Kolkata);
    let h = WeeklyHours::new([entry(hm(9, 0), hm(17, 0)); 7]);
    let t = utc(2026, 6, 1, 3, 0); // 08:30 IST
    assert_eq!(h.next_open(&z, t), Some(utc(2026, 6, 1, 3, 30)));
    assert_eq!(
        h.next_close(&z, utc(2026, 6, 1, 3, 30)),
        Some(utc(2026, 6, 1, 11, 30))
    );
    assert!(!h.is_open(&z, utc(2026, 6, 1, 3, 29) + Duration::seconds(59)));
    // an open instant with seconds and nanoseconds is its own next_open
    let inside = utc(2026, 6, 1, 3, 45) + Duration::milliseconds(10_123);
    assert_eq!(h.next_open(&z, inside), Some(inside));
    // 16:59:59.9 IST is still open (minute 16:59); it closes at 17:00:00 sharp
    let last = utc(2026, 6, 1, 11, 29) + Duration::milliseconds(59_900);
    assert!(h.is_open(&z, last));
    assert_eq!(h.next_close(&z, last), Some(utc(2026, 6, 1, 11, 30)));
}

#[test]
fn chatham_quarter_hour_offsets_and_its_dst_gap() {
    let z = Zone::new(chrono_tz::Pacific::Chatham);
    let h = WeeklyHours::new([entry(hm(9, 0), hm(17, 0)); 7]);
    // July: +12:45. 05:00Z = 17:45 local, next 09:00 local = 20:15Z
    assert_eq!(
        h.next_open(&z, utc(2026, 7, 1, 5, 0)),
        Some(utc(2026, 7, 1, 20, 15))
    );
    assert_eq!(
        h.next_open(&z, utc(2026, 7, 1, 0, 0)),
        Some(utc(2026, 7, 1, 0, 0))
    );
    // January: +13:45. 04:00Z = 17:45 local, next 09:00 local = 19:15Z
    assert_eq!(
        h.next_open(&z, utc(2026, 1, 15, 4, 0)),
        Some(utc(2026, 1, 15, 19, 15))
    );
    assert_eq!(
        h.next_close(&z, utc(2026, 1, 15, 19, 15)),
        Some(utc(2026, 1, 16, 3, 15))
    );
    // 2026-09-27 02:45 -> 03:45 (at 14:00Z on the 26th): 03:00-03:30 never occurs
    let gap = WeeklyHours::new([entry(hm(3, 0), hm(3, 30)); 7]);
    let t = utc(2026, 9, 26, 13, 0); // 01:45 local +12:45
    assert_eq!(gap.next_open(&z, t), Some(utc(2026, 9, 27, 13, 15))); // 28th 03:00 +13:45
}

#[test]
fn inverted_overnight_shift_across_midnight() {
    let z = Zone::new(chrono_tz::America::New_York);
    let mut days = [closed(); 7];
    days[1] = inverted(0, hm(22, 0)); // Mon: open 22:00-24:00
    days[2] = inverted(hm(6, 0), MINUTES_PER_DAY); // Tue: open 00:00-06:00
    let h = WeeklyHours::new(days);
    let t = utc(2026, 6, 1, 16, 0); // Mon 12:00 EDT
    assert_weekday(t, &z, Weekday::Mon);
    let open = h.next_open(&z, t).unwrap();
    assert_eq!(open, utc(2026, 6, 2, 2, 0)); // Mon 22:00 EDT
    assert!(h.is_open(&z, utc(2026, 6, 2, 3, 59)) && h.is_open(&z, utc(2026, 6, 2, 4, 0)));
    assert_eq!(h.next_close(&z, open), Some(utc(2026, 6, 2, 10, 0))); // Tue 06:00 EDT
    assert_eq!(
        h.next_open(&z, utc(2026, 6, 2, 10, 0)),
        Some(utc(2026, 6, 9, 2, 0))
    );
}

#[test]
fn closed_day_is_closed_whatever_the_times_and_invert_say() {
    let z = Zone::new(chrono_tz::America::New_York);
    for invert in [false, true] {
        let mut days = [entry(hm(9, 0), hm(17, 0)); 7];
        days[3] = Some(DayHours::new(hm(9, 0), hm(17, 0), invert, true).unwrap());
        let h = WeeklyHours::new(days);
        let t = utc(2026, 6, 3, 14, 0); // Wed 10:00 EDT
        assert_weekday(t, &z, Weekday::Wed);
        assert!(!h.is_open(&z, t));
        assert_eq!(h.next_open(&z, t), Some(utc(2026, 6, 4, 13, 0)));
    }
}

#[test]
fn etc_gmt_plus_12_is_utc_minus_12() {
    let z = Zone::new(chrono_tz::Etc::GMTPlus12);
    let h = only(1, entry(hm(9, 0), hm(17, 0)));
    let t = utc(2026, 6, 1, 0, 0); // Sun 2026-05-31 12:00 local
    assert_weekday(t, &z, Weekday::Sun);
    assert_eq!(h.next_open(&z, t), Some(utc(2026, 6, 1, 21, 0)));
    assert_eq!(
        h.next_close(&z, utc(2026, 6, 1, 21, 0)),
        Some(utc(2026, 6, 2, 5, 0))
    );
}

#[test]
fn close_2400_means_until_midnight() {
    let z = Zone::new(chrono_tz::Europe::London);
    let t = utc(2026, 6, 5, 19, 30); // Fri 20:30 BST
    assert_weekday(t, &z, Weekday::Fri);
    let h = only(5, entry(hm(20, 0), MINUTES_PER_DAY));
    assert!(h.is_open(&z, utc(2026, 6, 5, 22, 59)));
    assert_eq!(h.next_close(&z, t), Some(utc(2026, 6, 5, 23, 0))); // Sat 00:00 BST
                                                                   // with Saturday 00:00-02:00 the shift runs on without a break
    let mut days = h.days;
    days[6] = entry(0, hm(2, 0));
    let h2 = WeeklyHours::new(days);
    assert_eq!(h2.next_close(&z, t), Some(utc(2026, 6, 6, 1, 0)));
}

#[test]
fn next_open_from_inside_a_closed_weekend() {
    let z = Zone::new(chrono_tz::America::New_York);
    let mut days = [entry(hm(9, 0), hm(17, 0)); 7];
    days[0] = closed();
    days[6] = closed();
    let h = WeeklyHours::new(days);
    let t = utc(2026, 6, 6, 15, 0); // Sat 11:00 EDT
    assert_weekday(t, &z, Weekday::Sat);
    assert_eq!(h.next_open(&z, t), Some(utc(2026, 6, 8, 13, 0)));
    assert_eq!(h.next_close(&z, t), Some(t));
}

#[test]
fn lord_howe_half_hour_fall_back_repeats_0130_to_0200() {
    // 2026-04-05 02:00 +11 -> 01:30 +10:30 at 15:00Z on the 4th
    let z = Zone::new(chrono_tz::Australia::Lord_Howe);
    let h = WeeklyHours::new([entry(hm(1, 30), hm(2, 0)); 7]);
    let t = utc(2026, 4, 4, 14, 0); // 01:00 +11
    assert_eq!(h.next_open(&z, t), Some(utc(2026, 4, 4, 14, 30)));
    assert_eq!(
        h.next_close(&z, utc(2026, 4, 4, 14, 30)),
        Some(utc(2026, 4, 4, 15, 30))
    );
}

#[test]
fn havana_midnight_gap() {
    // 2026-03-08 00:00 -05 -> 01:00 -04 at 05:00Z: Sunday 00:00-01:00 never occurs
    let z = Zone::new(chrono_tz::America::Havana);
    let h = only(0, entry(0, hm(1, 0)));
    let t = utc(2026, 3, 7, 12, 0);
    assert_eq!(h.next_open(&z, t), Some(utc(2026, 3, 15, 4, 0)));
    let h2 = only(0, entry(0, hm(1, 30)));
    assert_eq!(h2.next_open(&z, t), Some(utc(2026, 3, 8, 5, 0)));
}

#[test]
fn always_and_never_open_tables() {
    let z = Zone::new(chrono_tz::America::New_York);
    let t = utc(2026, 3, 8, 6, 59) + Duration::milliseconds(1);
    let always = WeeklyHours::default();
    assert_eq!(always.next_open(&z, t), Some(t));
    assert_eq!(always.next_close(&z, t), None);
    let never = WeeklyHours::new([closed(); 7]);
    assert_eq!(never.next_open(&z, t), None);
    assert_eq!(never.next_close(&z, t), Some(t));
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
    chrono_tz::Pacific::Kiritimati,
    chrono_tz::UTC,
];

fn zones() -> &'static [Zone] {
    static ZONES: OnceLock<Vec<Zone>> = OnceLock::new();
    ZONES.get_or_init(|| ZONE_TZS.iter().map(|&tz| Zone::new(tz)).collect())
}

const FROM: i64 = 1_577_836_800; // 2020-01-01
const TO: i64 = 2_082_758_400; // 2036-01-01

/// A random instant in 2020..2035: uniform, or within three days of one of
/// the zone's transitions, with random sub-second part.
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

fn day_strategy() -> impl Strategy<Value = Option<DayHours>> {
    let minute = prop_oneof![0..=MINUTES_PER_DAY, (0..=96u16).prop_map(|q| q * 15)];
    prop_oneof![
        1 => Just(None),
        6 => (minute.clone(), minute, any::<bool>(), prop::bool::weighted(0.15)).prop_map(
            |(a, b, invert, closed)| Some(DayHours::new(a.min(b), a.max(b), invert, closed).unwrap())
        ),
    ]
}

fn instant_args() -> impl Strategy<Value = (usize, bool, u64, i64, u32)> {
    (
        0..ZONE_TZS.len(),
        any::<bool>(),
        any::<u64>(),
        // most DST trouble sits within an hour or two of a transition
        prop_oneof![-3 * 86_400i64..3 * 86_400, -7200i64..7200],
        prop_oneof![Just(0u32), 0..1_000_000_000u32],
    )
}

/// Reference answer by stepping whole UTC minutes (every zone in the list has
/// whole-minute offsets and transitions) for at most `limit` minutes.
fn brute_next(h: &WeeklyHours, z: &Zone, t: Instant, want: bool, limit: i64) -> Option<Instant> {
    if h.is_open(z, t) == want {
        return Some(t);
    }
    let first = t.timestamp().div_euclid(60) * 60 + 60;
    (0..limit)
        .map(|k| DateTime::from_timestamp(first + k * 60, 0).unwrap())
        .find(|&x| h.is_open(z, x) == want)
}

const LIMIT_MINUTES: i64 = 3 * 1440;

fn check_next(h: &WeeklyHours, z: &Zone, t: Instant, want: bool) -> Result<(), TestCaseError> {
    let got = if want {
        h.next_open(z, t)
    } else {
        h.next_close(z, t)
    };
    if let Some(g) = got {
        prop_assert!(g >= t);
        prop_assert_eq!(h.is_open(z, g), want, "state at the answer {}", g);
        if g > t {
            prop_assert_eq!(
                h.is_open(z, g - Duration::seconds(1)),
                !want,
                "just before {}",
                g
            );
        }
    }
    match brute_next(h, z, t, want, LIMIT_MINUTES) {
        Some(b) => prop_assert_eq!(got, Some(b)),
        None => prop_assert!(
            got.is_none_or(|g| g >= t + Duration::minutes(LIMIT_MINUTES)),
            "answer {:?} missed by stepping",
            got
        ),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(160))]

    #[test]
    fn next_open_is_the_first_open_instant(
        days in prop::array::uniform7(day_strategy()),
        (zi, near, raw, delta, nanos) in instant_args(),
    ) {
        let z = &zones()[zi];
        let t = pick_instant(z, near, raw, delta, nanos);
        check_next(&WeeklyHours::new(days), z, t, true)?;
    }

    #[test]
    fn next_close_is_the_first_closed_instant(
        days in prop::array::uniform7(day_strategy()),
        (zi, near, raw, delta, nanos) in instant_args(),
    ) {
        let z = &zones()[zi];
        let t = pick_instant(z, near, raw, delta, nanos);
        check_next(&WeeklyHours::new(days), z, t, false)?;
    }

    #[test]
    fn an_answer_exists_unless_the_table_says_never(
        days in prop::array::uniform7(day_strategy()),
        (zi, near, raw, delta, nanos) in instant_args(),
    ) {
        let z = &zones()[zi];
        let t = pick_instant(z, near, raw, delta, nanos);
        let h = WeeklyHours::new(days);
        prop_assert_eq!(h.next_open(z, t).is_none(), h.never_open());
        prop_assert_eq!(h.next_close(z, t).is_none(), h.always_open());
    }

    #[test]
    fn inverted_entry_is_the_complement_unless_the_day_is_closed(
        days in prop::array::uniform7(day_strategy()),
        (zi, near, raw, delta, nanos) in instant_args(),
    ) {
        let z = &zones()[zi];
        let t = pick_instant(z, near, raw, delta, nanos);
        let plain = WeeklyHours::new(days);
        let flipped = WeeklyHours::new(days.map(|d| d.map(|d| DayHours { invert: !d.invert, ..d })));
        let weekday = z.local(t).weekday().num_days_from_sunday() as usize;
        match days[weekday] {
            None => prop_assert!(plain.is_open(z, t) && flipped.is_open(z, t)),
            Some(d) if d.closed => prop_assert!(!plain.is_open(z, t) && !flipped.is_open(z, t)),
            Some(_) => prop_assert_eq!(flipped.is_open(z, t), !plain.is_open(z, t)),
        }
    }
}
