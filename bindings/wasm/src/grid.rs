//! The weekly hours heatmap: for 7 local days × 24 local hours of a view
//! zone, the share of that hour's minutes during which an owner's hours are
//! open. Seen in the owner's own zone it is its weekly table (DST gaps show
//! as missing hours); seen in the viewer's zone it is what a person
//! elsewhere needs to know ("when can I send calls to this buyer?").

use chrono::{Datelike, Days, NaiveDate, Timelike};
use routecap_core::hours::WeeklyHours;
use routecap_core::window::first_at_or_after;
use routecap_core::zone::{self, Instant, Zone};
use serde_json::{json, Value};

/// One view: 7 days from `start` in `view`, each `{date, weekday, hours}`
/// where `hours[h]` is the open share (0..=1, two decimals) of local hour
/// `h`, or `null` for an hour that does not occur (spring-forward gap).
pub fn view(hours: Option<&WeeklyHours>, owner: &Zone, view: &Zone, start: NaiveDate) -> Value {
    let mut days = Vec::with_capacity(7);
    for d in 0..7u64 {
        let Some(date) = start.checked_add_days(Days::new(d)) else {
            break;
        };
        days.push(json!({
            "date": date.format("%Y-%m-%d").to_string(),
            "weekday": date.weekday().num_days_from_sunday(),
            "hours": day_row(hours, owner, view, date),
        }));
    }
    json!({ "zone": view.name(), "days": days })
}

/// The 24 cells of one local date of `view`.
fn day_row(hours: Option<&WeeklyHours>, owner: &Zone, view: &Zone, date: NaiveDate) -> Vec<Value> {
    let (Some(from), Some(next)) = (date.and_hms_opt(0, 0, 0), date.succ_opt()) else {
        return vec![Value::Null; 24];
    };
    let Some(to) = next.and_hms_opt(0, 0, 0) else {
        return vec![Value::Null; 24];
    };
    let start = first_at_or_after(view, from);
    let end = first_at_or_after(view, to);
    let mut open = [0u32; 24];
    let mut total = [0u32; 24];
    let mut t = start;
    while t < end && zone::is_supported(t) {
        let h = view.local(t).hour() as usize % 24;
        total[h] += 1;
        if hours.is_none_or(|w| w.is_open(owner, t)) {
            open[h] += 1;
        }
        t = next_minute(t);
    }
    (0..24)
        .map(|h| match total[h] {
            0 => Value::Null,
            n => json!(f64::from(open[h] * 100 / n) / 100.0),
        })
        .collect()
}

fn next_minute(t: Instant) -> Instant {
    t + chrono::TimeDelta::minutes(1)
}

/// The whole answer of `hoursGrid`: the owner in its zone and in the viewer's.
pub fn grid(
    id: &str,
    kind: &str,
    hours: Option<&WeeklyHours>,
    owner: &Zone,
    viewer: &Zone,
    start: NaiveDate,
) -> Value {
    json!({
        "id": id,
        "kind": kind,
        "always_open": hours.is_none_or(WeeklyHours::always_open),
        "own": view(hours, owner, owner, start),
        "viewer": view(hours, owner, viewer, start),
    })
}
