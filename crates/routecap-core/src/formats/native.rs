//! The native routecap shape.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::common::{self, DayEntry, UniqueIds};
use super::filter_syntax as filter;
use super::json::{Node, Res};
use crate::caller_history::{Basis, DuplicateRule, RepeatMode, RepeatRule};
use crate::cap_settings::CapSettings;
use crate::caps::{Limits, Usage};
use crate::hours::WeeklyHours;
use crate::instant::parse_instant;
use crate::model::{
    Campaign, CandidateRef, Config, Extras, Group, GroupMode, Target, TargetExtras,
    DEFAULT_CALL_LEASE_SECONDS, DEFAULT_CALL_RETENTION_SECONDS, MAX_CALL_SECONDS,
};
use crate::zone_cache::ZoneCache;

const TOP: &str =
    "is not a routecap config (an object with \"targets\" and optional \"as_of\" and \"groups\")";

/// The fields of each native object (SPEC §13: anything else is an error,
/// except `$…` and `x-…` fields). `docs/config.schema.json` is checked
/// against these lists by a test.
pub(crate) mod fields {
    /// The document.
    pub const CONFIG: &[&str] = &[
        "as_of",
        "targets",
        "groups",
        "campaigns",
        "call_lease_seconds",
        "call_retention_seconds",
        "repeat_callers",
    ];
    /// A target.
    pub const TARGET: &[&str] = &[
        "id",
        "name",
        "priority",
        "weight",
        "paused",
        "time_zone",
        "trigger",
        "hours",
        "caps",
        "usage",
        "concurrency_matrix",
        "filter",
        "timeout_seconds",
        "duplicates",
    ];
    /// A group.
    pub const GROUP: &[&str] = &[
        "id",
        "name",
        "members",
        "mode",
        "priority",
        "weight",
        "time_zone",
        "hours",
        "caps",
        "concurrency_matrix",
        "usage",
        "filter",
        "timeout_seconds",
    ];
    /// A campaign.
    pub const CAMPAIGN: &[&str] = &["id", "candidates", "fallback", "filter", "repeat_callers"];
    /// A day entry of `hours`.
    pub const DAY: &[&str] = &["day", "open", "close", "invert", "closed"];
    /// `caps`.
    pub const CAPS: &[&str] = &[
        "hourly",
        "daily",
        "monthly",
        "total",
        "concurrency",
        "hourly_revenue",
        "daily_revenue",
        "monthly_revenue",
        "total_revenue",
    ];
    /// `usage`.
    pub const USAGE: &[&str] = &[
        "hourly",
        "daily",
        "monthly",
        "total",
        "live",
        "hourly_revenue",
        "daily_revenue",
        "monthly_revenue",
        "total_revenue",
    ];
    /// A target's `duplicates`.
    pub const DUPLICATES: &[&str] = &["basis", "window"];
    /// `repeat_callers` (config or campaign).
    pub const REPEAT_CALLERS: &[&str] = &["mode", "window"];
    /// A `filter`.
    pub const FILTER: &[&str] = &["any_of"];
    /// A filter rule.
    pub const RULE: &[&str] = &["all_of"];
    /// A filter condition.
    pub const CONDITION: &[&str] = &["tag", "op", "kind", "negate", "value", "values"];
}

/// Parse a native config.
pub(crate) fn parse(root: &Node<'_>, cache: &mut ZoneCache) -> Res<Config> {
    root.object(TOP)?;
    super::shape_hint::check_document(root)?;
    root.known_fields(fields::CONFIG)?;
    let as_of = match root.get("as_of") {
        None => None,
        Some(n) => Some(instant(&n)?),
    };
    let mut targets = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut ids = UniqueIds::default();
    if let Some(list) = root.get("targets") {
        for node in list.array("is not an array of targets")? {
            let t = target(&node, cache)?;
            if let Some(id_node) = node.get("id") {
                ids.insert(&t.id, &id_node, "target")?;
            }
            index.insert(t.id.clone(), targets.len());
            targets.push(t);
        }
    }
    let mut groups = Vec::new();
    let mut gids = UniqueIds::default();
    if let Some(list) = root.get("groups") {
        for node in list.array("is not an array of groups")? {
            let g = group(&node, &index, cache)?;
            if let Some(id_node) = node.get("id") {
                gids.insert(&g.id, &id_node, "group")?;
            }
            groups.push(g);
        }
    }
    let mut campaigns = Vec::new();
    let mut cids = UniqueIds::default();
    if let Some(list) = root.get("campaigns") {
        for node in list.array("is not an array of campaigns")? {
            let c = campaign(&node, &index, &groups)?;
            if let Some(id_node) = node.get("id") {
                cids.insert(&c.id, &id_node, "campaign")?;
            }
            campaigns.push(c);
        }
    }
    Ok(Config {
        as_of,
        targets,
        groups,
        call_lease_seconds: call_seconds(root, "call_lease_seconds")?
            .unwrap_or(DEFAULT_CALL_LEASE_SECONDS),
        call_retention_seconds: call_seconds(root, "call_retention_seconds")?
            .unwrap_or(DEFAULT_CALL_RETENTION_SECONDS),
        campaigns,
        repeat_callers: root.opt("repeat_callers", repeat_callers)?,
        ..Config::default()
    })
}

const WINDOW: &str = "is not a window (whole seconds, an integer from 1 to 315576000)";
const BASIS: &str = "is not a duplicate basis (\"connect\" or \"convert\")";
const REPEAT_MODE: &str = "is not a repeat-caller mode (\"normal\", \"original\" or \"different\")";

/// A caller-rule window in whole seconds (at most 10 years, like leases).
fn window(node: &Node<'_>) -> Res<u64> {
    let v = node.int_in(1, i128::from(MAX_CALL_SECONDS), WINDOW)?;
    u64::try_from(v).map_err(|_| node.err(WINDOW))
}

/// A target's `duplicates`: `{"basis": "connect" | "convert", "window": s}`
/// (basis defaults to `connect`).
fn duplicates(node: &Node<'_>) -> Res<DuplicateRule> {
    node.object(
        "is not a duplicates rule (an object {\"basis\": \"connect\" | \"convert\", \"window\": seconds})",
    )?;
    node.known_fields(fields::DUPLICATES)?;
    let basis = match node.get("basis") {
        None => Basis::Connect,
        Some(b) => match b.str(BASIS)? {
            "connect" => Basis::Connect,
            "convert" => Basis::Convert,
            _ => return Err(b.err(BASIS)),
        },
    };
    let w = node
        .get("window")
        .ok_or_else(|| node.missing("window", "whole seconds, an integer from 1 to 315576000"))?;
    Ok(DuplicateRule {
        basis,
        window: window(&w)?,
    })
}

/// `repeat_callers`: `{"mode": "normal" | "original" | "different",
/// "window": s}` (the window may be left out for `normal`).
fn repeat_callers(node: &Node<'_>) -> Res<RepeatRule> {
    node.object(
        "is not a repeat-callers rule (an object {\"mode\": \"normal\" | \"original\" | \"different\", \"window\": seconds})",
    )?;
    node.known_fields(fields::REPEAT_CALLERS)?;
    let m = node
        .get("mode")
        .ok_or_else(|| node.missing("mode", "\"normal\", \"original\" or \"different\""))?;
    let mode = match m.str(REPEAT_MODE)? {
        "normal" => RepeatMode::Normal,
        "original" => RepeatMode::Original,
        "different" => RepeatMode::Different,
        _ => return Err(m.err(REPEAT_MODE)),
    };
    let window = match (node.get("window"), mode) {
        (Some(w), _) => window(&w)?,
        (None, RepeatMode::Normal) => 0,
        (None, _) => {
            return Err(node.missing("window", "whole seconds, an integer from 1 to 315576000"))
        }
    };
    Ok(RepeatRule { mode, window })
}

/// `call_lease_seconds` / `call_retention_seconds`: whole seconds, at
/// least 1 and at most [`MAX_CALL_SECONDS`] (10 years).
fn call_seconds(root: &Node<'_>, key: &str) -> Res<Option<u64>> {
    const SECONDS: &str =
        "is not a number of seconds (an integer from 1 to 315576000, i.e. 10 years)";
    root.opt(key, |n| {
        let v = n.int_in(1, i128::from(MAX_CALL_SECONDS), SECONDS)?;
        u64::try_from(v).map_err(|_| n.err(SECONDS))
    })
}

const CANDIDATE: &str = "is not the id of any target or group in this config";

/// A campaign: candidates by target or group id (a target id wins over a
/// group id that is the same; a separate group stands for its members).
fn campaign(node: &Node<'_>, index: &HashMap<String, usize>, groups: &[Group]) -> Res<Campaign> {
    node.object("is not a campaign (an object with \"id\" and \"candidates\")")?;
    node.known_fields(fields::CAMPAIGN)?;
    let mut candidates = Vec::new();
    let list = node
        .get("candidates")
        .ok_or_else(|| node.missing("candidates", "an array of target or group ids"))?;
    for c in list.array("is not an array of target or group ids")? {
        let id = c.id()?;
        let found: Vec<CandidateRef> = match index.get(&id) {
            Some(&t) => vec![CandidateRef::Target(t)],
            None => match groups.iter().position(|g| g.id == id) {
                Some(g) if groups[g].mode == GroupMode::Simultaneous => {
                    vec![CandidateRef::Group(g)]
                }
                Some(g) => groups[g]
                    .members
                    .iter()
                    .map(|&m| CandidateRef::Target(m))
                    .collect(),
                None => return Err(c.err(CANDIDATE)),
            },
        };
        for f in found {
            if !candidates.contains(&f) {
                candidates.push(f);
            }
        }
    }
    let fallback = match node.get("fallback") {
        None => None,
        Some(f) => Some(
            *index
                .get(&f.id()?)
                .ok_or_else(|| f.err("is not the id of any target in this config"))?,
        ),
    };
    Ok(Campaign {
        id: required_id(node)?,
        candidates,
        fallback,
        filter: node.opt("filter", filter::native)?,
        repeat_callers: node.opt("repeat_callers", repeat_callers)?,
    })
}

const INSTANT: &str =
    "is not an RFC 3339 instant between 1970-01-01 and 2100-01-01 (e.g. \"2026-11-22T15:00:00Z\")";

fn instant(node: &Node<'_>) -> Res<DateTime<Utc>> {
    parse_instant(node.str(INSTANT)?).map_err(|_| node.err(INSTANT))
}

fn required_id(node: &Node<'_>) -> Res<String> {
    node.get("id")
        .ok_or_else(|| node.missing("id", "a string or integer id is required"))?
        .id()
}

fn name(node: &Node<'_>) -> Res<Option<String>> {
    node.get("name")
        .map(|n| n.str("is not a name (a string)").map(str::to_string))
        .transpose()
}

fn target(node: &Node<'_>, cache: &mut ZoneCache) -> Res<Target> {
    node.object("is not a target (an object)")?;
    super::shape_hint::check_record(node, super::Format::Routecap)?;
    node.known_fields(fields::TARGET)?;
    let (zone, zone_name) = common::zone(node.get("time_zone"), cache)?;
    let (priority, weight) = common::target_rank(node)?;
    Ok(Target {
        id: required_id(node)?,
        name: name(node)?,
        priority,
        weight,
        paused: node.opt("paused", Node::bool)?.unwrap_or(false),
        zone,
        zone_name,
        trigger: common::trigger(node.get("trigger"))?,
        hours: hours(node.get("hours"))?.map(|h| cache.hours(h)),
        caps: CapSettings::new(&limits(node.get("caps"))?, &usage(node.get("usage"))?),
        extras: Extras::new(TargetExtras {
            concurrency_matrix: common::matrix(node.get("concurrency_matrix"))?,
            filter: node.opt("filter", filter::native)?,
            timeout_seconds: node.opt("timeout_seconds", common::timeout)?,
            duplicates: node.opt("duplicates", duplicates)?,
        }),
    })
}

fn group(node: &Node<'_>, index: &HashMap<String, usize>, cache: &mut ZoneCache) -> Res<Group> {
    node.object("is not a group (an object)")?;
    node.known_fields(fields::GROUP)?;
    let mut member_ids = Vec::new();
    if let Some(list) = node.get("members") {
        for m in list.array("is not an array of target ids")? {
            member_ids.push((m.id()?, m));
        }
    }
    let mode = match node.get("mode") {
        None => GroupMode::Separate,
        Some(m) => match m.str(MODE)? {
            "separate" => GroupMode::Separate,
            "simultaneous" => GroupMode::Simultaneous,
            _ => return Err(m.err(MODE)),
        },
    };
    let (zone, zone_name) = common::zone(node.get("time_zone"), cache)?;
    Ok(Group {
        id: required_id(node)?,
        name: name(node)?,
        members: common::members(&member_ids, index)?,
        mode,
        priority: node.opt("priority", Node::priority)?,
        weight: node.opt("weight", Node::weight)?,
        zone,
        zone_name,
        hours: hours(node.get("hours"))?.map(|h| cache.hours(h)),
        limits: limits(node.get("caps"))?,
        concurrency_matrix: common::matrix(node.get("concurrency_matrix"))?,
        usage: usage(node.get("usage"))?,
        filter: node.opt("filter", filter::native)?,
        timeout_seconds: node.opt("timeout_seconds", common::timeout)?,
    })
}

const MODE: &str = "is not a group mode (\"separate\" or \"simultaneous\")";
const DAY: &str = "is not a day of the week (an integer 0..=6, 0 = Sunday)";
const CLOCK: &str = "is not a local time \"HH:MM\" (00:00 to 24:00)";

/// `"HH:MM"` as minutes since midnight; `24:00` is the end of the day.
fn clock(node: &Node<'_>) -> Res<u16> {
    let text = node.str(CLOCK)?;
    let parsed = text.split_once(':').and_then(|(h, m)| {
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !(digits(h) && h.len() <= 2 && digits(m) && m.len() == 2) {
            return None;
        }
        let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
        (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
    });
    parsed.ok_or_else(|| node.err(CLOCK))
}

fn hours(node: Option<Node<'_>>) -> Res<Option<WeeklyHours>> {
    let Some(node) = node else { return Ok(None) };
    let mut entries = Vec::new();
    for e in node.array(
        "is not an array of day entries ({\"day\", \"open\", \"close\", \"invert\", \"closed\"})",
    )? {
        e.object("is not a day entry (an object with \"day\", \"open\", \"close\", \"invert\", \"closed\")",
        )?;
        e.known_fields(fields::DAY)?;
        let day_node = e
            .get("day")
            .ok_or_else(|| e.missing("day", "an integer 0..=6 (0 = Sunday)"))?;
        let day = day_node.int_in(0, 6, DAY)? as usize;
        let open = e.get("open").map(|n| clock(&n)).transpose()?.unwrap_or(0);
        let close_node = e.get("close");
        let close = close_node.as_ref().map(clock).transpose()?.unwrap_or(1440);
        let invert = e.opt("invert", Node::bool)?.unwrap_or(false);
        let closed = e.opt("closed", Node::bool)?.unwrap_or(false);
        let open_text = e
            .get("open")
            .map(|n| super::json::show(n.v))
            .unwrap_or_else(|| "\"00:00\"".into());
        let blame = close_node.unwrap_or_else(|| e.clone());
        let hours = common::day_hours(open, close, invert, closed, &blame, &open_text)?;
        entries.push(DayEntry {
            day,
            day_node: Some(day_node),
            node: e,
            hours,
        });
    }
    common::week(entries)
}

fn limits(node: Option<Node<'_>>) -> Res<Limits> {
    let Some(node) = node else {
        return Ok(Limits::default());
    };
    node.object("is not a caps object (hourly, daily, monthly, total, concurrency, *_revenue)")?;
    node.known_fields(fields::CAPS)?;
    let count = |k: &str| node.opt(k, Node::count);
    let money = |k: &str| node.opt(k, Node::money);
    Ok(Limits {
        hourly: count("hourly")?,
        daily: count("daily")?,
        monthly: count("monthly")?,
        total: count("total")?,
        concurrency: count("concurrency")?,
        hourly_revenue: money("hourly_revenue")?,
        daily_revenue: money("daily_revenue")?,
        monthly_revenue: money("monthly_revenue")?,
        total_revenue: money("total_revenue")?,
    })
}

fn usage(node: Option<Node<'_>>) -> Res<Usage> {
    let Some(node) = node else {
        return Ok(Usage::default());
    };
    node.object("is not a usage object (hourly, daily, monthly, total, live, *_revenue)")?;
    node.known_fields(fields::USAGE)?;
    common::usage(
        &node,
        &[
            "hourly",
            "daily",
            "monthly",
            "total",
            "live",
            "hourly_revenue",
            "daily_revenue",
            "monthly_revenue",
            "total_revenue",
        ],
    )
}
