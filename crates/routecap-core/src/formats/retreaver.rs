//! The Retreaver Core API shape: targets and target groups as the API
//! returns them (or as create/update payloads), see
//! `shared/seeds/retreaver-*.{md,txt}`.

use std::collections::HashMap;

use super::common::{self, DayEntry, UniqueIds};
use super::json::{Node, Res};
use crate::cap_settings::CapSettings;
use crate::caps::{Limits, Usage};
use crate::hours::WeeklyHours;
use crate::model::{Config, Extras, Group, GroupMode, Target, TargetExtras};
use crate::zone_cache::ZoneCache;

const TOP: &str = "is not a Retreaver export (a target object, {\"target\": {...}}, an array of those, or {\"targets\": [...], \"target_groups\": [...]})";

/// Parse a Retreaver export.
pub(crate) fn parse(root: &Node<'_>, cache: &mut ZoneCache) -> Res<Config> {
    super::shape_hint::refuse_near_misses(
        root,
        &["targets", "target_groups", "target", "target_group"],
        "Retreaver document",
    )?;
    let mut target_nodes = Vec::new();
    let mut group_nodes = Vec::new();
    match root.v {
        serde_json::Value::Array(_) => {
            for item in root.array(TOP)? {
                sort_item(item, &mut target_nodes, &mut group_nodes)?;
            }
        }
        serde_json::Value::Object(_) => {
            if root.has("target") || root.has("target_group") {
                sort_item(root.clone(), &mut target_nodes, &mut group_nodes)?;
            } else if root.has("targets") || root.has("target_groups") {
                if let Some(list) = root.get("targets") {
                    for item in list.array("is not an array of targets")? {
                        target_nodes.push(unwrap(item, "target")?);
                    }
                }
                if let Some(list) = root.get("target_groups") {
                    for item in list.array("is not an array of target groups")? {
                        group_nodes.push(unwrap(item, "target_group")?);
                    }
                }
            } else {
                target_nodes.push(root.clone());
            }
        }
        _ => return Err(root.err(TOP)),
    }

    let mut targets = Vec::with_capacity(target_nodes.len());
    let mut index = HashMap::new();
    let mut ids = UniqueIds::default();
    for node in &target_nodes {
        let (t, id_node) = target(node, cache)?;
        ids.insert(&t.id, &id_node, "target")?;
        index.insert(t.id.clone(), targets.len());
        targets.push(t);
    }
    let mut groups = Vec::with_capacity(group_nodes.len());
    let mut gids = UniqueIds::default();
    for node in &group_nodes {
        let (g, id_node) = group(node, &mut targets, &mut index, cache)?;
        gids.insert(&g.id, &id_node, "target group")?;
        groups.push(g);
    }
    // no platform equivalent of the lease and retention: the defaults
    Ok(Config {
        as_of: None,
        targets,
        groups,
        ..Config::default()
    })
}

/// Files an array item or single object as a target or a group.
fn sort_item<'a>(
    item: Node<'a>,
    targets: &mut Vec<Node<'a>>,
    groups: &mut Vec<Node<'a>>,
) -> Res<()> {
    item.object("is not a target or target group object")?;
    if item.has("target_group") {
        groups.push(unwrap(item, "target_group")?);
    } else {
        targets.push(unwrap(item, "target")?);
    }
    Ok(())
}

/// `{"target": {...}}` → the inner object; a bare object stays as it is.
fn unwrap<'a>(item: Node<'a>, key: &str) -> Res<Node<'a>> {
    item.object(&format!("is not a {key} object"))?;
    if item.has(key) {
        let inner = item
            .get(key)
            .ok_or_else(|| item.missing(key, &format!("a {key} object")))?;
        inner.object(&format!("is not a {key} object"))?;
        Ok(inner)
    } else {
        Ok(item)
    }
}

fn target<'a>(node: &Node<'a>, cache: &mut ZoneCache) -> Res<(Target, Node<'a>)> {
    super::shape_hint::check_record(node, super::Format::Retreaver)?;
    super::shape_hint::refuse_near_misses(
        node,
        super::shape_hint::RETREAVER_TARGET,
        "Retreaver target",
    )?;
    let id_node = node
        .get("id")
        .or_else(|| node.get("tid"))
        .or_else(|| node.get("client_tid"))
        .ok_or_else(|| {
            node.missing(
                "id",
                "a Retreaver target needs an \"id\" (or a \"tid\" / \"client_tid\")",
            )
        })?;
    let (zone, zone_name) = common::zone(node.get("time_zone"), cache)?;
    let (limits, usage) = caps(node)?;
    let trigger = common::trigger(node.get("cap_trigger").or_else(|| node.get("trigger")))?;
    let (priority, weight) = common::target_rank(node)?;
    let t = Target {
        id: id_node.id()?,
        name: name(node)?,
        priority,
        weight,
        paused: node.opt("paused", Node::bool)?.unwrap_or(false),
        zone,
        zone_name,
        trigger,
        hours: hours(node)?.map(|h| cache.hours(h)),
        caps: CapSettings::new(&limits, &usage),
        extras: Extras::new(TargetExtras {
            concurrency_matrix: None,
            filter: common::retreaver_filter(node)?,
            timeout_seconds: node.opt("timeout_seconds", common::timeout)?,
            duplicates: None,
        }),
    };
    Ok((t, id_node))
}

const BEHAVIOR: &str = "is not a target group behavior (1 = dial separately, 2 = simuldial)";

/// A target group. Member ids that name no target of the config but are
/// described in the group's own `targets` list (as Retreaver's group
/// responses embed them) become targets of the config, so a group export
/// stands on its own.
fn group<'a>(
    node: &Node<'a>,
    targets: &mut Vec<Target>,
    index: &mut HashMap<String, usize>,
    cache: &mut ZoneCache,
) -> Res<(Group, Node<'a>)> {
    super::shape_hint::refuse_near_misses(
        node,
        super::shape_hint::RETREAVER_GROUP,
        "Retreaver target group",
    )?;
    let id_node = node
        .get("id")
        .ok_or_else(|| node.missing("id", "a Retreaver target group needs an \"id\""))?;
    let mut embedded: Vec<(String, Node<'a>)> = Vec::new();
    if let Some(list) = node.get("targets") {
        for m in list.array("is not an array of targets")? {
            m.object("is not a target (an object)")?;
            let id = m
                .get("id")
                .ok_or_else(|| m.missing("id", "each listed target needs an \"id\""))?;
            embedded.push((id.id()?, m));
        }
    }
    let mut member_ids = Vec::new();
    match node.get("target_ids") {
        Some(list) => {
            for m in list.array("is not an array of target ids")? {
                member_ids.push((m.id()?, m));
            }
        }
        None => {
            for (id, m) in &embedded {
                member_ids.push((id.clone(), m.get("id").unwrap_or_else(|| m.clone())));
            }
        }
    }
    for (id, _) in &member_ids {
        if index.contains_key(id) {
            continue;
        }
        if let Some((_, m)) = embedded.iter().find(|(e, _)| e == id) {
            let (t, _) = target(m, cache)?;
            index.insert(t.id.clone(), targets.len());
            targets.push(t);
        }
    }
    let mode = match node.get("behavior") {
        None => GroupMode::Separate,
        Some(b) => match b.int_in(1, 2, BEHAVIOR)? {
            2 => GroupMode::Simultaneous,
            _ => GroupMode::Separate,
        },
    };
    let (zone, zone_name) = common::zone(node.get("time_zone"), cache)?;
    let (limits, usage) = caps(node)?;
    let g = Group {
        id: id_node.id()?,
        name: name(node)?,
        members: common::members(&member_ids, index)?,
        mode,
        priority: node.opt("priority", Node::priority)?,
        weight: node.opt("weight", Node::weight)?,
        zone,
        zone_name,
        hours: hours(node)?.map(|h| cache.hours(h)),
        limits,
        concurrency_matrix: None,
        usage,
        filter: common::retreaver_filter(node)?,
        timeout_seconds: node.opt("timeout_seconds", common::timeout)?,
    };
    Ok((g, id_node))
}

fn name(node: &Node<'_>) -> Res<Option<String>> {
    node.get("name")
        .map(|n| n.str("is not a name (a string)").map(str::to_string))
        .transpose()
}

/// Which cap a Retreaver cap `type` names.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Hourly,
    Daily,
    Monthly,
    Hard,
}

const CAP_TYPE: &str = "is not a Retreaver cap type (Hourly, Daily, Monthly or Hard)";
const ATTRS: [(&str, Kind); 4] = [
    ("hourly_cap_attributes", Kind::Hourly),
    ("daily_cap_attributes", Kind::Daily),
    ("monthly_cap_attributes", Kind::Monthly),
    ("hard_cap_attributes", Kind::Hard),
];

/// Limits and usage from `caps`, `*_cap_attributes`, `concurrency_cap` and
/// `calls_in_progress`. A `*_cap_attributes` value (an update payload)
/// overrides the same kind in `caps`.
fn caps(node: &Node<'_>) -> Res<(Limits, Usage)> {
    let mut limits = Limits::default();
    let mut usage = Usage::default();
    let mut seen: Vec<(Kind, String)> = Vec::new();
    if let Some(list) = node.get("caps") {
        for c in list.array("is not an array of caps ({\"type\", \"cap\", \"filled\"})")? {
            c.object("is not a cap (an object with \"type\", \"cap\", \"filled\")")?;
            super::shape_hint::refuse_near_misses(&c, &["type", "cap", "filled"], "Retreaver cap")?;
            let type_node = c
                .get("type")
                .ok_or_else(|| c.missing("type", "one of Hourly, Daily, Monthly, Hard"))?;
            let kind = match type_node
                .str(CAP_TYPE)?
                .trim()
                .to_ascii_lowercase()
                .as_str()
            {
                "hourly" => Kind::Hourly,
                "daily" => Kind::Daily,
                "monthly" => Kind::Monthly,
                "hard" => Kind::Hard,
                _ => return Err(type_node.err(CAP_TYPE)),
            };
            if let Some((_, first)) = seen.iter().find(|(k, _)| *k == kind) {
                return Err(type_node.err(format!(
                    "repeats the cap type given at {first} (one cap per type)"
                )));
            }
            seen.push((kind, type_node.path().to_string()));
            let cap = c.opt("cap", Node::count)?;
            let filled = c.opt("filled", Node::count)?.unwrap_or(0);
            set(&mut limits, kind, cap);
            match kind {
                Kind::Hourly => usage.hourly = filled,
                Kind::Daily => usage.daily = filled,
                Kind::Monthly => usage.monthly = filled,
                Kind::Hard => usage.total = filled,
            }
        }
    }
    for (key, kind) in ATTRS {
        if let Some(a) = node.get(key) {
            a.object("is not a cap update (an object with \"cap\")")?;
            set(&mut limits, kind, a.opt("cap", Node::count)?);
        }
    }
    limits.concurrency = node.opt("concurrency_cap", Node::count)?;
    usage.live = node.opt("calls_in_progress", Node::count)?.unwrap_or(0);
    Ok((limits, usage))
}

fn set(limits: &mut Limits, kind: Kind, cap: Option<u64>) {
    match kind {
        Kind::Hourly => limits.hourly = cap,
        Kind::Daily => limits.daily = cap,
        Kind::Monthly => limits.monthly = cap,
        Kind::Hard => limits.total = cap,
    }
}

const DAY: &str = "is not a day_of_week (an integer 0..=6, 0 = Sunday)";
const HHMM: &str = "is not an HHMM time (0000–2400)";

/// Retreaver military time `HHMM` as minutes: minutes < 60, hours <= 24,
/// and 2400 only exactly.
fn hhmm(node: &Node<'_>) -> Res<u16> {
    // 16-bit arithmetic: no 128-bit division linked into the wasm build
    let n = node.int_in(0, 2400, HHMM)? as u16;
    let (h, m) = (n / 100, n % 100);
    if m >= 60 {
        return Err(node.err(HHMM));
    }
    Ok(h * 60 + m)
}

/// `business_hours` (as returned) or else `business_hours_attributes` (as sent).
fn hours(node: &Node<'_>) -> Res<Option<WeeklyHours>> {
    let Some(list) = node
        .get("business_hours")
        .or_else(|| node.get("business_hours_attributes"))
    else {
        return Ok(None);
    };
    let mut entries = Vec::new();
    for e in list.array("is not an array of business hours")? {
        e.object("is not a business hours entry (an object with \"day_of_week\", \"time_open\", \"time_close\")")?;
        super::shape_hint::refuse_near_misses(
            &e,
            super::shape_hint::RETREAVER_DAY,
            "Retreaver business hours entry",
        )?;
        let day_node = e
            .get("day_of_week")
            .ok_or_else(|| e.missing("day_of_week", "an integer 0..=6 (0 = Sunday)"))?;
        let day = day_node.int_in(0, 6, DAY)? as usize;
        let work_day = e.opt("work_day", Node::bool)?.unwrap_or(true);
        let open_node = e.get("time_open");
        let open = open_node.as_ref().map(hhmm).transpose()?.unwrap_or(0);
        let close_node = e.get("time_close");
        let close = close_node.as_ref().map(hhmm).transpose()?.unwrap_or(1440);
        let invert = match e.get("invert").or_else(|| e.get("inverted")) {
            Some(n) => n.bool()?,
            None => false,
        };
        let open_text = open_node
            .map(|n| super::json::show(n.v))
            .unwrap_or_else(|| "0".into());
        let blame = close_node.unwrap_or_else(|| e.clone());
        let hours = common::day_hours(open, close, invert, !work_day, &blame, &open_text)?;
        entries.push(DayEntry {
            day,
            day_node: Some(day_node),
            node: e,
            hours,
        });
    }
    common::week(entries)
}
