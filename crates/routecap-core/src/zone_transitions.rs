//! The zone transition prober, shared by `build.rs` (which runs it for every
//! IANA zone at build time) and the tests (which pin the generated tables to
//! it). chrono-tz keeps its transition list private, so this rebuilds it by
//! probing chrono-tz every 12 hours over the supported range and bisecting
//! each change to the second. Offsets therefore still come from the IANA
//! database as compiled into chrono-tz; the runtime never calls chrono-tz for
//! an offset, so its timespan tables do not ship in the binary.
//!
//! Self-contained on purpose: `build.rs` includes this file with `#[path]`.

use chrono::{DateTime, Offset, TimeZone};
use chrono_tz::Tz;

/// First supported instant, 1970-01-01T00:00:00Z, as Unix seconds.
pub const MIN_SUPPORTED: i64 = 0;
/// First unsupported instant, 2100-01-01T00:00:00Z, as Unix seconds.
pub const MAX_SUPPORTED: i64 = 4_102_444_800;

/// 28 years in seconds: within the supported range (every fourth year a leap
/// year) the calendar, weekdays included, repeats with this period, so a
/// fixed yearly DST rule's transitions do too.
pub const CYCLE: i64 = 883_612_800;

const PROBE_STEP: i64 = 12 * 3600;

/// `local - utc` in seconds at Unix second `t`, straight from chrono-tz.
pub fn chrono_offset(tz: Tz, t: i64) -> i32 {
    let dt = DateTime::from_timestamp(t, 0).expect("probe instant in range");
    tz.offset_from_utc_datetime(&dt.naive_utc())
        .fix()
        .local_minus_utc()
}

/// The offset in force at [`MIN_SUPPORTED`] and every transition
/// `(instant, offset from that instant on)` in the supported range.
pub fn probe(tz: Tz) -> (i32, Vec<(i64, i32)>) {
    let initial_offset = chrono_offset(tz, MIN_SUPPORTED);
    let mut transitions = Vec::new();
    let (mut lo, mut off_lo) = (MIN_SUPPORTED, initial_offset);
    while lo < MAX_SUPPORTED {
        let hi = (lo + PROBE_STEP).min(MAX_SUPPORTED);
        if chrono_offset(tz, hi) == off_lo {
            lo = hi;
            continue;
        }
        // first instant in (lo, hi] whose offset differs from off_lo
        let (mut a, mut b) = (lo, hi);
        while b - a > 1 {
            let mid = a + (b - a) / 2;
            if chrono_offset(tz, mid) == off_lo {
                a = mid;
            } else {
                b = mid;
            }
        }
        let off_b = chrono_offset(tz, b);
        transitions.push((b, off_b));
        lo = b;
        off_lo = off_b;
    }
    (initial_offset, transitions)
}
