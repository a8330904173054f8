//! Pieces shared by the three shapes: zones, triggers, weekly hours,
//! concurrency matrices, usage figures, and id bookkeeping.

use std::collections::HashMap;
use std::sync::Arc;

use super::json::{Node, Res};
use crate::caps::{ConcurrencyMatrix, ImportedUsage, Trigger, Usage};
use crate::hours::{DayHours, WeeklyHours};
use crate::zone::{self, Zone};
use crate::zone_cache::ZoneCache;

/// The zone of a `time_zone` / `timeZoneId` field; missing or null = UTC.
/// Returns the zone and the name as written (`UTC` when missing).
pub(crate) fn zone(node: Option<Node<'_>>, cache: &mut ZoneCache) -> Res<(Zone, Arc<str>)> {
    let Some(node) = node else {
        return Ok((cache.get(chrono_tz::Tz::UTC), cache.name("UTC")));
    };
    let name = node.str("is not a time zone name (a string)")?;
    match zone::resolve(name) {
        Ok(r) => Ok((cache.get(r.tz), cache.name(name))),
        Err(e) if e.too_long() => Err(node.err(format!(
            "is not a known time zone: longer than {} bytes (no Rails, Windows or IANA name is)",
            zone::MAX_ZONE_NAME_BYTES
        ))),
        Err(e) => {
            let mut expected =
                "is not a known time zone (a Rails, Windows or IANA name)".to_string();
            if !e.suggestions().is_empty() {
                let list: Vec<String> = e.suggestions().iter().map(|s| format!("{s:?}")).collect();
                expected.push_str(&format!("; did you mean {}?", list.join(", ")));
            }
            Err(node.err(expected))
        }
    }
}

const TRIGGER: &str =
    "is not a cap trigger (connect, convert or revenue; onConnect, on_connect and similar spellings are accepted)";

/// A count trigger, leniently spelled: case, `_`/`-`/spaces and an `on`
/// prefix are ignored, and the noun forms are accepted
/// (`onConvert`, `on_connect`, `Conversion`, `connected`).
pub(crate) fn trigger(node: Option<Node<'_>>) -> Res<Trigger> {
    let Some(node) = node else {
        return Ok(Trigger::default());
    };
    let raw = node.str(TRIGGER)?;
    let norm: String = raw
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let word = norm.strip_prefix("on").unwrap_or(&norm);
    match word {
        "connect" | "connected" | "connection" | "answer" | "answered" => Ok(Trigger::Connect),
        "convert" | "converted" | "conversion" => Ok(Trigger::Convert),
        "revenue" | "revenuegt0" | "positiverevenue" => Ok(Trigger::Revenue),
        _ => Err(node.err(TRIGGER)),
    }
}

/// One day entry before it is placed in the week.
pub(crate) struct DayEntry<'a> {
    /// Day of week, 0 = Sunday.
    pub day: usize,
    /// The node holding the day number (for duplicate-day errors).
    pub day_node: Option<Node<'a>>,
    /// The entry's own node.
    pub node: Node<'a>,
    /// Validated hours.
    pub hours: DayHours,
}

/// Validated hours from open/close minutes; `close_node` is blamed when
/// `open > close`.
pub(crate) fn day_hours(
    open: u16,
    close: u16,
    invert: bool,
    closed: bool,
    close_node: &Node<'_>,
    open_text: &str,
) -> Res<DayHours> {
    DayHours::new(open, close, invert, closed).map_err(|_| {
        close_node.err(format!(
            "is before the opening time {open_text} (open must not be after close; use invert for overnight shifts)"
        ))
    })
}

/// A weekly table from day entries; a repeated day is an error. An empty
/// list is `None` (open 24/7), like a missing table.
pub(crate) fn week(entries: Vec<DayEntry<'_>>) -> Res<Option<WeeklyHours>> {
    if entries.is_empty() {
        return Ok(None);
    }
    let mut days: [Option<DayHours>; 7] = [None; 7];
    let mut first_path: [Option<String>; 7] = Default::default();
    for e in entries {
        let slot = days
            .get_mut(e.day)
            .ok_or_else(|| e.node.err("has a day outside 0..=6"))?;
        if slot.is_some() {
            let blame = e.day_node.as_ref().unwrap_or(&e.node);
            let first = first_path.get(e.day).cloned().flatten().unwrap_or_default();
            return Err(blame.err(format!(
                "repeats a day of the week already given at {first} (one entry per day)"
            )));
        }
        *slot = Some(e.hours);
        if let Some(p) = first_path.get_mut(e.day) {
            *p = Some(e.node.path().to_string());
        }
    }
    Ok(Some(WeeklyHours::new(days)))
}

/// A 7×24 concurrency matrix (rows Sunday first, one cell per local hour);
/// a cell of `-1` or null is unlimited. An empty array is `None`.
pub(crate) fn matrix(node: Option<Node<'_>>) -> Res<Option<ConcurrencyMatrix>> {
    const ROWS: &str = "is not a concurrency matrix (7 arrays, Sunday first, of 24 integers or null; -1 = unlimited)";
    const CELL: &str = "is not a concurrency limit (an integer >= 0, or -1 or null for unlimited)";
    let Some(node) = node else { return Ok(None) };
    let rows = node.array(ROWS)?;
    if rows.is_empty() {
        return Ok(None);
    }
    if rows.len() != 7 {
        return Err(node.err(format!(
            "has {} rows; expected 7 (Sunday first) of 24 integers or null each",
            rows.len()
        )));
    }
    let mut out = [[None; 24]; 7];
    for (d, row) in rows.iter().enumerate() {
        let cells = row.array(ROWS)?;
        if cells.len() != 24 {
            return Err(row.err(format!(
                "has {} cells; expected 24 (one per local hour)",
                cells.len()
            )));
        }
        for (h, cell) in cells.iter().enumerate() {
            if matches!(cell.v, serde_json::Value::Null) {
                continue;
            }
            let n = cell.int_in(-1, u64::MAX as i128, CELL)?;
            out[d][h] = u64::try_from(n).ok();
        }
    }
    Ok(Some(ConcurrencyMatrix(Box::new(out))))
}

/// A ringba-style limit: `-1` (or null/absent) = unlimited, other negatives invalid.
pub(crate) fn limit_minus_one(node: Option<Node<'_>>) -> Res<Option<u64>> {
    const LIMIT: &str = "is not a cap (an integer >= 0, or -1 for unlimited)";
    let Some(node) = node else { return Ok(None) };
    let n = node.int_in(-1, u64::MAX as i128, LIMIT)?;
    Ok(u64::try_from(n).ok())
}

/// Checks ids are unique; `what` names the collection in errors.
#[derive(Default)]
pub(crate) struct UniqueIds {
    seen: HashMap<String, String>,
}

impl UniqueIds {
    /// Record `id` read at `node`; an id seen before is an error.
    pub fn insert(&mut self, id: &str, node: &Node<'_>, what: &str) -> Res<()> {
        if let Some(first) = self.seen.get(id) {
            return Err(node.err(format!(
                "repeats the {what} id of {first} ({what} ids must be unique)"
            )));
        }
        self.seen.insert(id.to_string(), node.path().to_string());
        Ok(())
    }
}

/// Resolves group member ids to target indices.
pub(crate) fn members(
    ids: &[(String, Node<'_>)],
    targets: &HashMap<String, usize>,
) -> Res<Vec<usize>> {
    let mut out: Vec<usize> = Vec::with_capacity(ids.len());
    for (id, node) in ids {
        let Some(&i) = targets.get(id) else {
            return Err(node.err("is not the id of any target in this config"));
        };
        if out.contains(&i) {
            return Err(node.err("lists the same target twice"));
        }
        out.push(i);
    }
    Ok(out)
}

/// The keys of the nine usage figures of a format, in [`Usage`] field order:
/// hourly, daily, monthly, total and live counts, then the hourly, daily,
/// monthly and total revenue sums.
pub(crate) type UsageKeys = [&'static str; 9];

/// Usage figures of an object; absent or `null` figures are 0.
pub(crate) fn usage(node: &Node<'_>, keys: &UsageKeys) -> Res<Usage> {
    imported_usage(node, keys).map(Usage::from)
}

/// The usage figures an object names under `keys` (`None` where absent or
/// `null`): the one reader behind config usage and usage imports.
pub(crate) fn imported_usage(node: &Node<'_>, keys: &UsageKeys) -> Res<ImportedUsage> {
    let count = |k: &str| node.opt(k, Node::count);
    let money = |k: &str| node.opt(k, Node::money);
    Ok(ImportedUsage {
        hourly: count(keys[0])?,
        daily: count(keys[1])?,
        monthly: count(keys[2])?,
        total: count(keys[3])?,
        live: count(keys[4])?,
        hourly_revenue: money(keys[5])?,
        daily_revenue: money(keys[6])?,
        monthly_revenue: money(keys[7])?,
        total_revenue: money(keys[8])?,
    })
}

/// A target's `priority` and `weight`, defaulting to 1 and 1:
/// the same field names in all three shapes.
const TIMEOUT: &str = "is not a ring timeout (whole seconds, 1 to 86400)";

/// A ring timeout in whole seconds.
pub(crate) fn timeout(node: &Node<'_>) -> Res<u32> {
    // 1..=86_400 fits in u32
    Ok(node.int_in(1, 86_400, TIMEOUT)? as u32)
}

/// A target's or group's filter in the Retreaver shape: `tag_values` (as
/// returned), else `tag_list` (as sent).
pub(crate) fn retreaver_filter(node: &Node<'_>) -> Res<Option<crate::filter::Filter>> {
    if let Some(f) = node.opt("tag_values", super::filter_syntax::retreaver_tag_values)? {
        if f.is_some() {
            return Ok(f);
        }
    }
    Ok(node
        .opt("tag_list", super::filter_syntax::retreaver_tag_list)?
        .flatten())
}

pub(crate) fn target_rank(node: &Node<'_>) -> Res<(i32, u32)> {
    Ok((
        node.opt("priority", Node::priority)?
            .unwrap_or(crate::model::DEFAULT_PRIORITY),
        node.opt("weight", Node::weight)?
            .unwrap_or(crate::model::DEFAULT_WEIGHT),
    ))
}
