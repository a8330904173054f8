//! Which shape a target record looks like, so that a record read as the
//! wrong shape is refused instead of read as an empty target (SPEC §13: a
//! Ringba record read as Retreaver would otherwise be open 24/7, uncapped).

use serde_json::{Map, Value};

use super::json::{Node, Res};
use super::Format;

/// Fields only a native target has.
const NATIVE_ONLY: &[&str] = &["hours", "usage", "concurrency_matrix", "duplicates"];
/// Fields only a Retreaver target has.
const RETREAVER_ONLY: &[&str] = &[
    "business_hours",
    "business_hours_attributes",
    "hourly_cap_attributes",
    "daily_cap_attributes",
    "monthly_cap_attributes",
    "hard_cap_attributes",
    "concurrency_cap",
    "calls_in_progress",
    "tid",
    "client_tid",
    "tag_list",
    "tag_values",
    "cap_trigger",
    "number",
];
/// Fields only a Ringba target has.
const RINGBA_ONLY: &[&str] = &[
    "schedule",
    "enabled",
    "targetCallIncrement",
    "targetGroupId",
    "criteria",
    "instructions",
    "conversionTimerOffset",
];

/// The first field of `record` that only `shape` has (a `caps` object is
/// native, a `caps` array Retreaver).
fn own_field(record: &Map<String, Value>, shape: Format) -> Option<&'static str> {
    let (only, caps_fits): (&[&str], fn(&Value) -> bool) = match shape {
        Format::Routecap => (NATIVE_ONLY, Value::is_object),
        Format::Retreaver => (RETREAVER_ONLY, Value::is_array),
        Format::Ringba => (RINGBA_ONLY, |_| false),
    };
    if record.get("caps").is_some_and(caps_fits) {
        return Some("caps");
    }
    // only Retreaver lists targets as `{"target": {...}}` wrappers
    if shape == Format::Retreaver && record.get("target").is_some_and(Value::is_object) {
        return Some("target");
    }
    only.iter().find(|k| record.contains_key(**k)).copied()
}

/// The shape's name as users know it.
fn title(shape: Format) -> &'static str {
    match shape {
        Format::Routecap => "routecap (native)",
        Format::Retreaver => "Retreaver",
        Format::Ringba => "Ringba",
    }
}

/// Refuse a native document that [`super::detect`] reads as another shape
/// and that has a field the native shape does not know.
pub(crate) fn check_document(root: &Node<'_>) -> Res<()> {
    let Some(map) = root.v.as_object() else {
        return Ok(());
    };
    let strange = map
        .keys()
        .any(|k| !super::native::fields::CONFIG.contains(&k.as_str()));
    match super::detect(root.v) {
        Some(shape) if shape != Format::Routecap && strange => Err(root.err(format!(
            "is a {} document, not a routecap one: read it as {} (--format {}), or leave the format out to detect it",
            title(shape),
            shape.as_str(),
            shape.as_str(),
        ))),
        _ => Ok(()),
    }
}

/// Refuse a target record read as `read_as` that has none of that shape's
/// own fields but some of another shape's: it names the shape it looks like.
pub(crate) fn check_record(node: &Node<'_>, read_as: Format) -> Res<()> {
    let Some(record) = node.v.as_object() else {
        return Ok(());
    };
    if own_field(record, read_as).is_some() {
        return Ok(());
    }
    let other = [Format::Routecap, Format::Retreaver, Format::Ringba]
        .into_iter()
        .filter(|f| *f != read_as)
        .find_map(|f| own_field(record, f).map(|field| (f, field)));
    match other {
        None => Ok(()),
        Some((shape, field)) => Err(node.err(format!(
            "is a {} target (it has `{field}`), not a {} one: read it as {} (--format {}), or leave the format out to detect it",
            title(shape),
            title(read_as),
            shape.as_str(),
            shape.as_str(),
        ))),
    }
}

/// The fields routecap reads from a Retreaver target.
pub(crate) const RETREAVER_TARGET: &[&str] = &[
    "id",
    "tid",
    "client_tid",
    "name",
    "paused",
    "priority",
    "weight",
    "time_zone",
    "cap_trigger",
    "trigger",
    "business_hours",
    "business_hours_attributes",
    "caps",
    "hourly_cap_attributes",
    "daily_cap_attributes",
    "monthly_cap_attributes",
    "hard_cap_attributes",
    "concurrency_cap",
    "calls_in_progress",
    "tag_list",
    "tag_values",
    "timeout_seconds",
];
/// The fields routecap reads from a Retreaver target group.
pub(crate) const RETREAVER_GROUP: &[&str] = &[
    "id",
    "name",
    "target_ids",
    "targets",
    "behavior",
    "priority",
    "weight",
    "time_zone",
    "business_hours",
    "business_hours_attributes",
    "caps",
    "hourly_cap_attributes",
    "daily_cap_attributes",
    "monthly_cap_attributes",
    "hard_cap_attributes",
    "concurrency_cap",
    "calls_in_progress",
    "tag_list",
    "tag_values",
    "timeout_seconds",
];
/// The fields routecap reads from a Retreaver business-hours entry.
pub(crate) const RETREAVER_DAY: &[&str] = &[
    "day_of_week",
    "time_open",
    "time_close",
    "work_day",
    "invert",
    "inverted",
];
/// The fields routecap reads from a Ringba target.
pub(crate) const RINGBA_TARGET: &[&str] = &[
    "id",
    "name",
    "enabled",
    "schedule",
    "targetCallIncrement",
    "targetGroupId",
    "priority",
    "weight",
    "criteria",
    "instructions",
];
/// The fields routecap reads from a Ringba `schedule`.
pub(crate) const RINGBA_SCHEDULE: &[&str] = &[
    "timeZoneId",
    "hoursOfOperation",
    "hourlyCap",
    "dailyCap",
    "monthlyCap",
    "allTimeCap",
    "concurrencyCap",
    "hourlySumCap",
    "dailySumCap",
    "monthlySumCap",
    "allTimeSumCap",
    "callConcurrencyMatrix",
];
/// The fields routecap reads from a Ringba hours entry.
pub(crate) const RINGBA_DAY: &[&str] = &["openTime", "closeTime", "inverted", "isClosed"];

/// Longest field name compared (longer names cannot be near a read field).
const MAX_COMPARED: usize = 40;

/// Lower case without `_` and `-`, for `concurrencyCap` ~ `concurrency_cap`.
fn folded(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '_' && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The read field `key` is a near miss of: the same when case and `_` are
/// ignored, one edit away from a read field of at least 4 characters, or
/// two edits away from one of at least 8. Tighter than the native "did you mean", because
/// platform exports carry many fields routecap does not read.
fn near_miss<'k>(key: &str, read: &[&'k str]) -> Option<&'k str> {
    if key.len() > MAX_COMPARED {
        return None;
    }
    let key_folded = folded(key);
    read.iter().copied().find(|r| {
        let d = strsim::levenshtein(&key.to_ascii_lowercase(), &r.to_ascii_lowercase());
        folded(r) == key_folded || (d <= 1 && r.len() >= 4) || (d <= 2 && r.len() >= 8)
    })
}

/// In an imported shape, refuse a field that is a near miss of a field
/// routecap reads there (`pasued` for `paused`): tolerated, it would
/// silently change the meaning. `what` names the object
/// (`Retreaver target`).
pub(crate) fn refuse_near_misses(node: &Node<'_>, read: &[&str], what: &str) -> Res<()> {
    let Some(map) = node.v.as_object() else {
        return Ok(());
    };
    for key in map.keys() {
        if read.contains(&key.as_str()) {
            continue;
        }
        if let Some(meant) = near_miss(key, read) {
            return Err(super::json::error_at(
                &super::json::join(node.path(), key),
                String::new(),
                format!(
                    "unknown field `{key}` in a {what}; did you mean `{meant}`? (fields routecap does not read are ignored, but this one is a misspelling of one it does)"
                ),
            ));
        }
    }
    Ok(())
}
