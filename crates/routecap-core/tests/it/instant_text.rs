//! The one instant reader (`routecap_core::instant`): exact instants at any
//! offset and precision, the half-open 1970..2100 range whatever the offset,
//! and bad text refused with chrono's reason, in the message every face
//! builds on.
//!
//! The texts are written here from civil fields computed by the test's own
//! calendar arithmetic (days from 1970-01-01), not by chrono's formatter, so
//! the reader is checked against an independent oracle.

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use routecap_core::instant::{parse_instant, parse_rfc3339, InstantError};
use routecap_core::zone::{MAX_SUPPORTED, MIN_SUPPORTED};

/// Year, month, day of day `z` counted from 1970-01-01 (proleptic Gregorian;
/// Howard Hinnant's `civil_from_days`).
fn civil(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// How an offset is written.
#[derive(Clone, Copy, Debug)]
enum Offset {
    /// `Z`.
    Z,
    /// `-00:00` (RFC 3339's "offset unknown", still UTC).
    MinusZero,
    /// `±HH:MM`, in minutes east of UTC.
    Minutes(i32),
}

/// RFC 3339 text of the UTC instant `secs` + `nanos` written at `offset`
/// with `digits` fractional digits (0 = none; `nanos` is cut to them).
fn text(secs: i64, nanos: u32, digits: usize, offset: Offset) -> String {
    let east = match offset {
        Offset::Minutes(m) => i64::from(m) * 60,
        _ => 0,
    };
    let local = secs + east;
    let (y, mo, d) = civil(local.div_euclid(86_400));
    let sod = local.rem_euclid(86_400);
    let mut s = format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    );
    if digits > 0 {
        s.push('.');
        s.push_str(&format!("{nanos:09}")[..digits]);
    }
    match offset {
        Offset::Z => s.push('Z'),
        Offset::MinusZero => s.push_str("-00:00"),
        Offset::Minutes(m) => {
            let sign = if m < 0 { '-' } else { '+' };
            s.push_str(&format!("{sign}{:02}:{:02}", m.abs() / 60, m.abs() % 60));
        }
    }
    s
}

/// `nanos` cut to `digits` fractional digits.
fn cut(nanos: u32, digits: usize) -> u32 {
    let unit = 10u32.pow(9 - digits as u32);
    nanos / unit * unit
}

fn utc(secs: i64, nanos: u32) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, nanos).unwrap()
}

fn offsets() -> impl Strategy<Value = Offset> {
    prop_oneof![
        Just(Offset::Z),
        Just(Offset::MinusZero),
        (-(23 * 60 + 59)..=(23 * 60 + 59)).prop_map(Offset::Minutes),
    ]
}

/// The message of a refused text, as the faces print it after the
/// argument's name.
fn syntax_message(text: &str) -> String {
    let reason = DateTime::parse_from_rfc3339(text).unwrap_err();
    format!("{text:?} is not an RFC 3339 instant (e.g. 2026-11-22T15:00:00Z): {reason}")
}

/// Year 1 to year 9999: every instant RFC 3339 can write.
const YEAR_1: i64 = -62_135_596_800;
const YEAR_10000: i64 = 253_402_300_800;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Any supported instant, at any offset and precision, reads back exactly.
    #[test]
    fn supported_instants_read_back_exactly(
        secs in MIN_SUPPORTED..MAX_SUPPORTED,
        nanos in 0u32..1_000_000_000,
        digits in 0usize..=9,
        offset in offsets(),
    ) {
        let t = text(secs, nanos, digits, offset);
        // an offset may take the local date outside 1970..2099: the instant
        // decides, not the written date
        prop_assert_eq!(parse_instant(&t), Ok(utc(secs, cut(nanos, digits))), "{}", t);
        prop_assert_eq!(parse_rfc3339(&t), Ok(utc(secs, cut(nanos, digits))));
    }

    /// Outside 1970..2100 (as an instant, whatever the offset) the text is
    /// RFC 3339 but refused as out of range; `parse_rfc3339` still reads it.
    #[test]
    fn instants_outside_the_range_are_refused(
        secs in prop_oneof![YEAR_1 + 86_400..MIN_SUPPORTED, MAX_SUPPORTED..YEAR_10000 - 86_400],
        digits in 0usize..=9,
        offset in offsets(),
    ) {
        let t = text(secs, 0, digits, offset);
        let e = parse_instant(&t).unwrap_err();
        prop_assert_eq!(&e, &InstantError::OutOfRange { text: t.clone() });
        prop_assert_eq!(
            e.to_string(),
            format!("{t:?} is outside the supported range 1970-01-01T00:00:00Z .. 2100-01-01T00:00:00Z")
        );
        prop_assert_eq!(parse_rfc3339(&t), Ok(utc(secs, 0)));
    }

    /// No strict prefix of an instant's text is one (the offset is required),
    /// nor the text with whitespace around it, nor with a digit replaced by
    /// a letter; each is refused with chrono's reason.
    #[test]
    fn bad_text_is_refused_with_chrono_s_reason(
        secs in MIN_SUPPORTED..MAX_SUPPORTED,
        digits in 0usize..=9,
        offset in offsets(),
        cut_at in any::<prop::sample::Index>(),
        pad in prop::sample::select(vec![" ", "\t", "\n", "\u{a0}", "\u{3000}"]),
        letter in prop::sample::select(vec!['a', 'O', 'l', 'x']),
    ) {
        let good = text(secs, 0, digits, offset);
        let prefix = &good[..cut_at.index(good.len())];
        let digit_at = good
            .char_indices()
            .filter(|(_, c)| c.is_ascii_digit())
            .map(|(i, _)| i)
            .nth(cut_at.index(14))
            .unwrap();
        let mut lettered = good.clone();
        lettered.replace_range(digit_at..digit_at + 1, &letter.to_string());
        for bad in [
            prefix.to_string(),
            format!("{pad}{good}"),
            format!("{good}{pad}"),
            lettered,
        ] {
            let e = parse_instant(&bad).unwrap_err();
            prop_assert!(matches!(e, InstantError::Syntax { .. }), "{:?}: {}", bad, e);
            prop_assert_eq!(e.text(), bad.as_str());
            prop_assert_eq!(e.to_string(), syntax_message(&bad));
        }
    }
}

#[test]
fn the_range_ends_are_exact() {
    let cases = [
        ("1970-01-01T00:00:00Z", true),
        ("1970-01-01T00:00:00-00:00", true),
        ("1970-01-01T05:30:00+05:30", true),
        ("1969-12-31T19:00:00-05:00", true),
        ("1969-12-31T23:59:59.999999999Z", false),
        ("1970-01-01T00:59:59+01:00", false),
        ("2099-12-31T23:59:59.999999999Z", true),
        ("2099-12-31T22:59:59-01:00", true),
        ("2100-01-01T00:59:59+01:00", true),
        ("2100-01-01T00:00:00Z", false),
        ("2099-12-31T23:00:00-01:00", false),
    ];
    for (t, ok) in cases {
        match parse_instant(t) {
            Ok(_) => assert!(ok, "{t} accepted"),
            Err(InstantError::OutOfRange { .. }) => assert!(!ok, "{t} refused"),
            Err(e) => panic!("{t}: {e}"),
        }
    }
}

#[test]
fn chrono_s_reasons_name_what_is_wrong() {
    for (t, reason) in [
        ("tomorrow", "premature end of input"),
        ("2026-11-22X15:00:00Z", "input contains invalid characters"),
        ("2026-11-22T15:00:00", "premature end of input"),
        ("2026-11-22T15:00:00Zjunk", "trailing input"),
        ("2026-02-30T15:00:00Z", "input is out of range"),
        ("2026-11-22T24:00:00Z", "input is out of range"),
        ("", "premature end of input"),
    ] {
        let e = parse_instant(t).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("{t:?} is not an RFC 3339 instant (e.g. 2026-11-22T15:00:00Z): {reason}")
        );
    }
}
