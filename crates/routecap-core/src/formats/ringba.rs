//! The Ringba API shape: get-targets, get-target (also the create-target
//! response) and bare targets, see `shared/seeds/ringba-targets-api.txt`
//! and `shared/reference/ringba-target-examples.json`.
//!
//! - `hoursOfOperation` is 7 entries without a day field, Sunday first
//!   (.NET `DayOfWeek` order; the reference example closes entries 0 and 6,
//!   the weekend).
//! - `callConcurrencyMatrix` is 7 rows (Sunday first) of 24 hourly cells.
//! - `-1` is unlimited for every cap and matrix cell; other negatives are invalid.
//! - The get-target response's top-level `caps` object (`hour`, `day`, …,
//!   `isGroup`) repeats the target's `schedule` caps when `isGroup` is
//!   false (ignored: `schedule` is read instead); with `isGroup: true` it
//!   is the caps of the target's group, and gives that group its limits.
//! - `targetGroupId` makes the target a member of a `separate` group with
//!   that id (UTC, no hours; caps from an `isGroup` caps object, else none:
//!   a get-targets export does not carry them); the group's usage comes
//!   from `stats` under its id.

use std::collections::HashMap;

use super::common::{self, DayEntry, UniqueIds};
use super::json::{Node, Res};
use crate::cap_settings::CapSettings;
use crate::caps::{Limits, Usage};
use crate::hours::WeeklyHours;
use crate::model::{Config, Extras, Group, GroupMode, Target, TargetExtras};
use crate::money::Money;
use crate::zone_cache::ZoneCache;

const TOP: &str = "is not a Ringba export (a get-targets response {\"targets\": [...], \"stats\": {...}}, a get-target response {\"target\": {...}, \"stats\": {...}}, an array of targets, or a target object)";

/// Parse a Ringba export.
pub(crate) fn parse(root: &Node<'_>, cache: &mut ZoneCache) -> Res<Config> {
    super::shape_hint::refuse_near_misses(
        root,
        &["targets", "target", "stats", "caps"],
        "Ringba response",
    )?;
    let target_nodes = if root.v.is_array() {
        // a bare array of targets, as Ringba's list endpoints return
        root.array(TOP)?
    } else if let Some(list) = {
        root.object(TOP)?;
        root.get("targets")
    } {
        list.array("is not an array of targets")?
    } else if let Some(t) = root.get("target") {
        vec![t]
    } else if root.has("stats") || root.has("targets") || root.has("target") {
        Vec::new()
    } else {
        vec![root.clone()]
    };
    let stats = stats(root.get("stats"))?;

    let mut targets = Vec::with_capacity(target_nodes.len());
    let mut ids = UniqueIds::default();
    let mut groups: Vec<Group> = Vec::new();
    for node in &target_nodes {
        let (mut t, id_node, group_id) = target(node, cache)?;
        ids.insert(&t.id, &id_node, "target")?;
        if let Some(s) = stats.get(&t.id.to_ascii_lowercase()) {
            t.caps.set_usage(&usage(s)?);
        }
        let index = targets.len();
        targets.push(t);
        let Some(gid) = group_id else { continue };
        match groups.iter_mut().find(|g| g.id == gid) {
            Some(g) => g.members.push(index),
            None => {
                let usage = match stats.get(&gid.to_ascii_lowercase()) {
                    Some(s) => usage(s)?,
                    None => Usage::default(),
                };
                groups.push(Group {
                    id: gid,
                    name: None,
                    members: vec![index],
                    mode: GroupMode::Separate,
                    priority: None,
                    weight: None,
                    zone: cache.get(chrono_tz::Tz::UTC),
                    zone_name: cache.name("UTC"),
                    hours: None,
                    limits: Limits::default(),
                    concurrency_matrix: None,
                    usage,
                    filter: None,
                    timeout_seconds: None,
                });
            }
        }
    }
    // no platform equivalent of the lease and retention: the defaults
    if let Some(caps) = root.get("caps") {
        let is_group = caps.opt("isGroup", Node::bool)?.unwrap_or(false);
        if is_group && target_nodes.len() == 1 {
            if let Some(g) = groups.first_mut() {
                g.limits = group_limits(&caps)?;
            }
        }
    }
    Ok(Config {
        as_of: None,
        targets,
        groups,
        ..Config::default()
    })
}

/// The limits of a get-target response's `caps` object (`-1` = unlimited).
fn group_limits(caps: &Node<'_>) -> Res<Limits> {
    caps.object("is not a caps object (hour, day, month, total, live, *Sum, isGroup)")?;
    let count = |k: &str| common::limit_minus_one(caps.get(k));
    let money = |k: &str| money_cap(caps.get(k));
    Ok(Limits {
        hourly: count("hour")?,
        daily: count("day")?,
        monthly: count("month")?,
        total: count("total")?,
        concurrency: count("live")?,
        hourly_revenue: money("hourSum")?,
        daily_revenue: money("daySum")?,
        monthly_revenue: money("monthSum")?,
        total_revenue: money("totalSum")?,
    })
}

/// `stats` entries by id with ASCII letters lower-cased (Ringba lower-cases
/// the first letter); like every name match of the engine, only ASCII case
/// is folded.
fn stats<'a>(node: Option<Node<'a>>) -> Res<HashMap<String, Node<'a>>> {
    let mut out = HashMap::new();
    let Some(node) = node else { return Ok(out) };
    let map = node.object("is not a stats object keyed by target id")?;
    for key in map.keys() {
        if let Some(entry) = node.get(key) {
            out.entry(key.to_ascii_lowercase()).or_insert(entry);
        }
    }
    Ok(out)
}

fn usage(node: &Node<'_>) -> Res<Usage> {
    node.object(
        "is not a stats entry (currentHour, currentDay, currentMonth, total, currentLive, *Sum)",
    )?;
    super::shape_hint::refuse_near_misses(node, &STATS_KEYS, "Ringba stats entry")?;
    common::usage(node, &STATS_KEYS)
}

/// The usage figures of a stats entry, in [`common::UsageKeys`] order.
const STATS_KEYS: common::UsageKeys = [
    "currentHour",
    "currentDay",
    "currentMonth",
    "total",
    "currentLive",
    "currentHourSum",
    "currentDaySum",
    "currentMonthSum",
    "totalSum",
];

/// A target, its id node, and its `targetGroupId` if any.
fn target<'a>(node: &Node<'a>, cache: &mut ZoneCache) -> Res<(Target, Node<'a>, Option<String>)> {
    node.object("is not a Ringba target (an object)")?;
    super::shape_hint::check_record(node, super::Format::Ringba)?;
    super::shape_hint::refuse_near_misses(node, super::shape_hint::RINGBA_TARGET, "Ringba target")?;
    let id_node = node
        .get("id")
        .ok_or_else(|| node.missing("id", "a Ringba target needs an \"id\""))?;
    let schedule = node.get("schedule");
    if let Some(s) = &schedule {
        s.object("is not a schedule object")?;
        super::shape_hint::refuse_near_misses(
            s,
            super::shape_hint::RINGBA_SCHEDULE,
            "Ringba schedule",
        )?;
    }
    let field = |k: &str| schedule.as_ref().and_then(|s| s.get(k));
    let (zone, zone_name) = common::zone(field("timeZoneId"), cache)?;
    let group_id = match node.get("targetGroupId") {
        Some(g) if g.v.as_str().is_some_and(|s| s.trim().is_empty()) => None,
        Some(g) => Some(g.id()?),
        None => None,
    };
    let enabled = node.opt("enabled", Node::bool)?.unwrap_or(true);
    let (priority, weight) = common::target_rank(node)?;
    let t = Target {
        id: id_node.id()?,
        name: node
            .get("name")
            .map(|n| n.str("is not a name (a string)").map(str::to_string))
            .transpose()?,
        priority,
        weight,
        paused: !enabled,
        zone,
        zone_name,
        trigger: common::trigger(node.get("targetCallIncrement"))?,
        hours: hours(field("hoursOfOperation"))?.map(|h| cache.hours(h)),
        caps: CapSettings::new(
            &Limits {
                hourly: common::limit_minus_one(field("hourlyCap"))?,
                daily: common::limit_minus_one(field("dailyCap"))?,
                monthly: common::limit_minus_one(field("monthlyCap"))?,
                total: common::limit_minus_one(field("allTimeCap"))?,
                concurrency: common::limit_minus_one(field("concurrencyCap"))?,
                hourly_revenue: money_cap(field("hourlySumCap"))?,
                daily_revenue: money_cap(field("dailySumCap"))?,
                monthly_revenue: money_cap(field("monthlySumCap"))?,
                total_revenue: money_cap(field("allTimeSumCap"))?,
            },
            &Usage::default(),
        ),
        extras: Extras::new(TargetExtras {
            concurrency_matrix: common::matrix(field("callConcurrencyMatrix"))?,
            filter: node
                .opt("criteria", super::filter_syntax::ringba_criteria)?
                .flatten(),
            timeout_seconds: connection_timeout(node)?,
            duplicates: None,
        }),
    };
    Ok((t, id_node, group_id))
}

const TIMEOUT: &str = "is not a connection timeout (whole seconds; 0 or less = the default)";

/// `instructions.connectionTimeOut` when above 0 (Ringba writes 0 for unset).
fn connection_timeout(node: &Node<'_>) -> Res<Option<u32>> {
    let Some(n) = node
        .get("instructions")
        .and_then(|i| i.get("connectionTimeOut"))
    else {
        return Ok(None);
    };
    let secs = n.integer(TIMEOUT)?;
    Ok((secs > 0).then(|| u32::try_from(secs.min(86_400)).unwrap_or(86_400)))
}

/// A revenue cap: `-1` = unlimited, otherwise a non-negative amount.
fn money_cap(node: Option<Node<'_>>) -> Res<Option<Money>> {
    let Some(node) = node else { return Ok(None) };
    if let serde_json::Value::Number(n) = node.v {
        if Money::parse(&n.to_string()) == Ok(Money(-100)) {
            return Ok(None);
        }
    }
    node.money()
        .map(Some)
        .map_err(|e| node.err(format!("{}; -1 = unlimited", e.expected)))
}

const HOUR: &str = "is not an hour (an integer 0..=24)";
const MINUTE: &str = "is not a minute (an integer 0..=59)";

/// `{"hour": h, "minute": m}` as minutes since midnight (24:00 allowed).
fn clock(node: Option<Node<'_>>, default: u16) -> Res<(u16, String)> {
    let Some(node) = node else {
        return Ok((default, format!("{:02}:{:02}", default / 60, default % 60)));
    };
    node.object("is not a time of day ({\"hour\": 0..=24, \"minute\": 0..=59})")?;
    super::shape_hint::refuse_near_misses(&node, &["hour", "minute"], "Ringba time of day")?;
    let hour_node = node
        .get("hour")
        .ok_or_else(|| node.missing("hour", "an integer 0..=24"))?;
    let h = hour_node.int_in(0, 24, HOUR)? as u16;
    let (m, minute_node) = match node.get("minute") {
        Some(n) => (n.int_in(0, 59, MINUTE)? as u16, Some(n)),
        None => (0, None),
    };
    if h == 24 && m != 0 {
        let blame = minute_node.unwrap_or(node);
        return Err(blame.err("is not 0 although the hour is 24 (24:00 is the latest time)"));
    }
    Ok((h * 60 + m, format!("{h:02}:{m:02}")))
}

fn hours(node: Option<Node<'_>>) -> Res<Option<WeeklyHours>> {
    let Some(node) = node else { return Ok(None) };
    const WEEK: &str = "is not hours of operation (7 entries, Sunday first)";
    let items = node.array(WEEK)?;
    if items.is_empty() {
        return Ok(None);
    }
    if items.len() != 7 {
        return Err(node.err(format!(
            "has {} entries; expected 7 (one per day, Sunday first)",
            items.len()
        )));
    }
    let mut entries = Vec::with_capacity(7);
    for (day, e) in items.into_iter().enumerate() {
        e.object("is not an hours entry (an object with \"openTime\", \"closeTime\", \"inverted\", \"isClosed\")")?;
        super::shape_hint::refuse_near_misses(
            &e,
            super::shape_hint::RINGBA_DAY,
            "Ringba hours entry",
        )?;
        let (open, open_text) = clock(e.get("openTime"), 0)?;
        let close_node = e.get("closeTime");
        let (close, _) = clock(close_node.clone(), 1440)?;
        let invert = e.opt("inverted", Node::bool)?.unwrap_or(false);
        let closed = e.opt("isClosed", Node::bool)?.unwrap_or(false);
        let blame = close_node.unwrap_or_else(|| e.clone());
        let hours = common::day_hours(open, close, invert, closed, &blame, &open_text)?;
        entries.push(DayEntry {
            day,
            day_node: None,
            node: e,
            hours,
        });
    }
    common::week(entries)
}
