//! Conversions between JavaScript values and the core's types, with the
//! CLI's error messages so that a script sees the same text in both places.

use chrono::format::{self, Item, Numeric, Pad, Parsed};
use chrono::{NaiveDate, NaiveDateTime};
use js_sys::{BigInt, Error, Reflect, JSON};
use routecap_core::formats::ConfigError;
use routecap_core::instant::parse_instant;
#[cfg(feature = "full")]
use routecap_core::money::Money;
use routecap_core::render::{AmountView, ReasonView};
use routecap_core::zone::Instant;
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};

/// Largest integer a JS number holds exactly (2^53 - 1).
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

/// A JS `Error` with `message`.
pub fn error(message: &str) -> JsValue {
    Error::new(message).into()
}

/// A JS `Error` for a refused config: the CLI's message, plus `file`, `path`,
/// `value` and `expected` properties so a UI can point at the bad spot.
pub fn config_error(e: &ConfigError) -> JsValue {
    let err = Error::new(&e.to_string());
    for (k, v) in [
        ("file", e.file()),
        ("path", e.path()),
        ("value", e.value()),
        ("expected", e.expected()),
    ] {
        // Setting a property on a fresh Error cannot fail; ignore if it does.
        let _ = Reflect::set(&err, &JsValue::from_str(k), &JsValue::from_str(v));
    }
    err.into()
}

/// Config text from a JSON string or any JSON-serialisable JS value.
pub fn config_text(config: &JsValue) -> Result<String, JsValue> {
    if let Some(s) = config.as_string() {
        return Ok(s);
    }
    JSON::stringify(config)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| {
            error(
                "config must be a JSON string or a JSON-serialisable object (no BigInt, no cycles)",
            )
        })
}

/// A JSON string or JS object as a JSON value; `what` names it in errors.
#[cfg(feature = "full")]
pub fn json_value(what: &str, v: &JsValue) -> Result<serde_json::Value, JsValue> {
    let text = match v.as_string() {
        Some(s) => s,
        None => JSON::stringify(v)
            .ok()
            .and_then(|s| s.as_string())
            .ok_or_else(|| {
                error(&format!(
                    "{what} must be a JSON string or a JSON-serialisable object"
                ))
            })?,
    };
    serde_json::from_str(&text).map_err(|e| error(&format!("{what}: invalid JSON: {e}")))
}

/// Call attributes from an optional JS object (`undefined` / `null` = none).
pub fn attrs(v: &Option<JsValue>) -> Result<routecap_core::filter::CallAttrs, JsValue> {
    match v {
        None => Ok(Default::default()),
        Some(v) if v.is_undefined() || v.is_null() => Ok(Default::default()),
        Some(v) => {
            let text = JSON::stringify(v)
                .ok()
                .and_then(|s| s.as_string())
                .ok_or_else(|| error("attrs must be a JSON-serialisable object"))?;
            serde_json::from_str(&text).map_err(|e| error(&format!("attrs: {e}")))
        }
    }
}

/// A reason object of a view (`check`, `route`, `connect`) as the core's
/// `ReasonView`: `code` and the optional `group`, `used`, `limit`, `until`
/// and `detail`, read field by field.
pub fn reason(v: &JsValue) -> Result<ReasonView, JsValue> {
    if !v.is_object() {
        return Err(error("reason must be a reason object ({code, until, ...})"));
    }
    let field = |k: &str| {
        Reflect::get(v, &JsValue::from_str(k))
            .ok()
            .filter(|x| !x.is_undefined() && !x.is_null())
    };
    let text = |k: &str| match field(k) {
        None => Ok(None),
        Some(x) => {
            (x.as_string().map(Some)).ok_or_else(|| error(&format!("reason.{k} must be a string")))
        }
    };
    let amount = |k: &str| match field(k) {
        None => Ok(None),
        Some(x) => match (x.as_string(), x.as_f64()) {
            (Some(m), _) => Ok(Some(AmountView::Money(m))),
            (_, Some(n)) if n >= 0.0 && n.fract() == 0.0 && n <= MAX_SAFE => {
                Ok(Some(AmountView::Count(n as u64)))
            }
            _ => Err(error(&format!(
                "reason.{k} must be a count or a decimal string"
            ))),
        },
    };
    Ok(ReasonView {
        code: text("code")?.ok_or_else(|| error("reason.code is missing"))?,
        group: text("group")?,
        used: amount("used")?,
        limit: amount("limit")?,
        until: text("until")?,
        detail: text("detail")?,
    })
}

/// The RFC 3339 instant `text` ([`parse_instant`]); `what` (`at`) names it
/// in errors, as the CLI names `--at`.
pub fn instant(what: &str, text: &str) -> Result<Instant, JsValue> {
    parse_instant(text).map_err(|e| error(&format!("{what} {e}")))
}

/// A calendar date `YYYY-MM-DD`, or the UTC date of an RFC 3339 instant.
pub fn date(what: &str, text: &str) -> Result<NaiveDate, JsValue> {
    let text = text.trim();
    if let Some(d) = parse_date(text) {
        return Ok(d);
    }
    parse_instant(text).map(|t| t.date_naive()).map_err(|_| {
        error(&format!(
            "{what} {text:?} is not a date (YYYY-MM-DD) or an RFC 3339 instant"
        ))
    })
}

/// A non-negative integer from a JS number, BigInt or decimal string.
pub fn unsigned(what: &str, v: &JsValue) -> Result<u64, JsValue> {
    let bad = || {
        error(&format!(
            "{what} {} is not an integer in 0..=18446744073709551615 (use a BigInt or a string above 2^53)",
            show(v)
        ))
    };
    if let Some(n) = v.as_f64() {
        if n.fract() == 0.0 && (0.0..=MAX_SAFE).contains(&n) {
            return Ok(n as u64);
        }
        return Err(bad());
    }
    if v.is_bigint() {
        let b: &BigInt = v.unchecked_ref();
        return b
            .to_string(10)
            .ok()
            .and_then(|s| String::from(s).parse().ok())
            .ok_or_else(bad);
    }
    match v.as_string() {
        Some(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().map_err(|_| bad())
        }
        _ => Err(bad()),
    }
}

/// Money from a decimal string or a JS number (its shortest round-trip
/// decimal text, so `12.5` is 12.50 exactly).
#[cfg(feature = "full")]
pub fn money(what: &str, v: &JsValue) -> Result<Money, JsValue> {
    let text = if let Some(s) = v.as_string() {
        s
    } else if let Some(n) = v.as_f64() {
        if !n.is_finite() {
            return Err(error(&format!("{what} {n} is not an amount of money")));
        }
        format!("{n}")
    } else {
        return Err(error(&format!(
            "{what} {} is not an amount of money (a decimal string or number)",
            show(v)
        )));
    };
    Money::parse(&text).map_err(|e| error(&format!("{what}: {text:?} {e}")))
}

/// A JS value as text for error messages.
fn show(v: &JsValue) -> String {
    if let Some(s) = v.as_string() {
        return format!("{s:?}");
    }
    JSON::stringify(v)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| format!("{v:?}"))
}

/// A typed view as a plain JS value (via JSON text and `JSON.parse`, so
/// numbers, nulls and key order come out as the CLI prints them).
pub fn to_js(v: &impl Serialize) -> Result<JsValue, JsValue> {
    // pretty, as cli_text: one serialiser instance per view type (JSON.parse
    // ignores the whitespace)
    let text = serde_json::to_string_pretty(v).map_err(|e| error(&e.to_string()))?;
    JSON::parse(&text)
}

/// The CLI's `--json` text for a view: pretty-printed, one trailing newline.
pub fn cli_text(v: &impl Serialize) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_else(|_| "null".into());
    s.push('\n');
    s
}

/// `%Y-%m-%dT%H:%M:%S` as chrono's strftime reader compiles it: the items
/// `parse_from_str` would give chrono's `format::parse` (a test holds them
/// equal), given to it directly, so that the strftime reader itself is not
/// linked (3.3 KB gzipped in the main module).
const DATE_TIME: [Item<'static>; 11] = [
    Item::Numeric(Numeric::Year, Pad::Zero),
    Item::Literal("-"),
    Item::Numeric(Numeric::Month, Pad::Zero),
    Item::Literal("-"),
    Item::Numeric(Numeric::Day, Pad::Zero),
    Item::Literal("T"),
    Item::Numeric(Numeric::Hour, Pad::Zero),
    Item::Literal(":"),
    Item::Numeric(Numeric::Minute, Pad::Zero),
    Item::Literal(":"),
    Item::Numeric(Numeric::Second, Pad::Zero),
];
/// `%Y-%m-%d`.
const DATE: &[Item<'static>] = DATE_TIME.split_at(5).0;
/// `%Y-%m-%dT%H:%M`.
const DATE_HOUR_MINUTE: &[Item<'static>] = DATE_TIME.split_at(9).0;

/// `NaiveDate::parse_from_str(text, "%Y-%m-%d")`, as an `Option`.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let mut parsed = Parsed::new();
    format::parse(&mut parsed, text, DATE.iter()).ok()?;
    parsed.to_naive_date().ok()
}

/// `NaiveDateTime::parse_from_str` with `%Y-%m-%dT%H:%M:%S`, else with
/// `%Y-%m-%dT%H:%M`, as an `Option`.
pub fn parse_local(text: &str) -> Option<NaiveDateTime> {
    [&DATE_TIME[..], DATE_HOUR_MINUTE].iter().find_map(|items| {
        let mut parsed = Parsed::new();
        format::parse(&mut parsed, text, items.iter()).ok()?;
        parsed.to_naive_datetime_with_offset(0).ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::format::StrftimeItems;

    #[test]
    fn the_layouts_are_chrono_s_own_compiled_strftime() {
        for (fmt, items) in [
            ("%Y-%m-%dT%H:%M:%S", &DATE_TIME[..]),
            ("%Y-%m-%d", DATE),
            ("%Y-%m-%dT%H:%M", DATE_HOUR_MINUTE),
        ] {
            assert_eq!(StrftimeItems::new(fmt).collect::<Vec<_>>(), items, "{fmt}");
        }
    }

    #[test]
    fn layouts_parse_as_chrono_parse_from_str() {
        for s in [
            "2026-03-08",
            "2026-3-8",
            " 2026-03-08",
            "2026- 03-08",
            "2026-03-08 ",
            "+2026-03-08",
            "-0-01-01",
            "2026-02-29",
            "2024-02-29",
            "2026-13-01",
            "",
            "2026-03-08T02:30",
            "2026-03-08T02:30:00",
            "2026-03-08T2:3:4",
            "2026-03-08T24:00",
            "2026-03-08T23:59:60",
            "2026-03-08T23:59:59.5",
            "2026-03-08T02:30Z",
            "2026-03-08t02:30",
            "2026-03-08 02:30",
            "\u{3000}2026-03-08",
        ] {
            assert_eq!(
                parse_date(s),
                NaiveDate::parse_from_str(s, "%Y-%m-%d").ok(),
                "{s:?}"
            );
            let chrono = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
                .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M"));
            assert_eq!(parse_local(s), chrono.ok(), "{s:?}");
        }
    }
}
