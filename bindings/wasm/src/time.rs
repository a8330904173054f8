//! The engine's wall-clock rules for the demo: local date-time → instant and
//! the local day and week starts, with the engine's answer where the clock
//! skips (a gap) or repeats (a fold), so the page never redoes zone math
//! with the browser's `Intl` (which resolves gaps differently).

use chrono::{Datelike, Days, NaiveDate};
use routecap_core::caps::Period;
use routecap_core::instant::{parse_instant, InstantError};
use routecap_core::render;
use routecap_core::window::{first_at_or_after, window};
use routecap_core::zone::{self, Instant, Zone};
use wasm_bindgen::prelude::*;

fn fail(message: &str) -> JsValue {
    js_sys::Error::new(message).into()
}

fn zone_of(name: &str) -> Result<Zone, JsValue> {
    zone::resolve(name)
        .map(|r| Zone::new(r.tz))
        .map_err(|e| fail(&e.to_string()))
}

fn instant(text: &str) -> Result<Instant, JsValue> {
    parse_instant(text).map_err(|e| {
        fail(&match e {
            InstantError::Syntax { reason, .. } => {
                format!("{text:?} is not an RFC 3339 instant: {reason}")
            }
            InstantError::OutOfRange { .. } => format!("{text:?} is outside 1970..2100"),
        })
    })
}

/// Local midnight of `date` as the engine reads it: the first instant at or
/// after it (later where midnight is skipped).
fn start_of(zone: &Zone, date: NaiveDate) -> Instant {
    first_at_or_after(zone, date.and_time(chrono::NaiveTime::MIN))
}

/// The instant a local wall time `YYYY-MM-DDTHH:MM[:SS]` means in `zone`
/// (IANA, Rails or Windows name), by the engine's rule: in a gap, the first
/// instant after it (New York 2026-03-08T02:30 → 07:00Z); in a fold, the
/// earlier of the two.
#[wasm_bindgen(js_name = localToInstant)]
pub fn local_to_instant(local: &str, zone: &str) -> Result<String, JsValue> {
    let zone = zone_of(zone)?;
    let text = local.trim();
    let local = crate::convert::parse_local(text).ok_or_else(|| {
        fail(&format!(
            "{text:?} is not a local date-time YYYY-MM-DDTHH:MM"
        ))
    })?;
    if !(1970..2100).contains(&local.year()) {
        return Err(fail(&format!("{text:?} is outside 1970..2100")));
    }
    Ok(render::instant(first_at_or_after(&zone, local)))
}

/// Start of the local day containing instant `at` in `zone`: the engine's
/// daily cap window start (Santiago 2026-09-06 → 04:00Z, midnight skipped).
#[wasm_bindgen(js_name = dayStart)]
pub fn day_start(at: &str, zone: &str) -> Result<String, JsValue> {
    let zone = zone_of(zone)?;
    Ok(render::instant(
        window(&zone, Period::Day, instant(at)?).start,
    ))
}

/// The local week (Sunday first) containing instant `at` in `zone`:
/// `{start, date}`, the instant its Sunday begins and that Sunday's date.
#[wasm_bindgen(js_name = weekStart, unchecked_return_type = "{ start: string; date: string }")]
pub fn week_start(at: &str, zone: &str) -> Result<JsValue, JsValue> {
    let zone = zone_of(zone)?;
    let today = zone.local(instant(at)?).date();
    let sunday = today - Days::new(u64::from(today.weekday().num_days_from_sunday()));
    let out = js_sys::Object::new();
    let set = |k: &str, v: String| js_sys::Reflect::set(&out, &k.into(), &v.into());
    set("start", render::instant(start_of(&zone, sunday)))?;
    set("date", sunday.to_string())?; // YYYY-MM-DD
    Ok(out.into())
}
