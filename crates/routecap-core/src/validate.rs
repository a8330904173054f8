//! `routecap validate`: a config's errors and warnings, without deciding
//! anything (SPEC §13). Pure, so every face (CLI, wasm) reports the same.
//!
//! Warnings never change a decision; each has a stable snake_case code:
//! - `open_unlisted_days`: hours list some days and not others (the unlisted
//!   days are open all day);
//! - `cap_cannot_bind`: an hourly limit at or above the daily one, or a
//!   daily at or above the monthly one (counts or revenue);
//! - `empty_group`: a group without members;
//! - `unreachable_candidate`: campaigns exist and no campaign lists the
//!   target (directly, through a group, or as fallback);
//! - `zero_weight_alone`: a target with weight 0 and no other target of its
//!   priority (the weight then has no effect);
//! - `legacy_zone_alias`: an IANA backward-compatibility name such as
//!   `US/Eastern`.

use serde::Serialize;
use serde_json::Value;

use crate::caps::Limits;
use crate::formats::source::{owner_json_path, OwnerKind};
use crate::formats::{self, ConfigError, Format};
use crate::hours::WeeklyHours;
use crate::model::{CandidateRef, Config, GroupMode};
use crate::zone::{self, ZoneKind};

/// One error: where and what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct ValidationError {
    /// JSON path from the document root (`$.targets[0].tiem_zone`).
    pub path: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

/// One warning: a stable code, where, and a sentence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct Warning {
    /// Stable snake_case code (see the module documentation).
    pub code: &'static str,
    /// JSON path from the document root (`$.targets[2].hours`).
    pub path: String,
    /// What it means and how to say it explicitly.
    pub message: String,
}

/// `routecap validate --json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct ValidationReport {
    /// No errors (warnings may remain).
    pub ok: bool,
    /// `native`, `retreaver` or `ringba`; `null` when no shape was recognised.
    #[cfg_attr(
        feature = "typescript",
        tsify(type = "\"native\" | \"retreaver\" | \"ringba\" | null")
    )]
    pub shape: Option<&'static str>,
    /// At most one today: the reader stops at the first.
    pub errors: Vec<ValidationError>,
    /// Empty when there are errors.
    pub warnings: Vec<Warning>,
}

/// The name `validate` gives a shape.
fn shape_name(format: Format) -> &'static str {
    match format {
        Format::Routecap => "native",
        Format::Retreaver => "retreaver",
        Format::Ringba => "ringba",
    }
}

/// A reader path (`targets[0].x`, empty, `line 1 column 2`) as a JSON path
/// from the root; a position before any JSON value is `$` and goes into
/// the message.
fn root_path(path: &str) -> (String, Option<&str>) {
    if path.is_empty() || path == "$" {
        ("$".into(), None)
    } else if path.starts_with("line ") || path.starts_with("byte ") {
        ("$".into(), Some(path))
    } else if path.starts_with('[') {
        (format!("${path}"), None)
    } else {
        (format!("$.{path}"), None)
    }
}

/// A reader error as a validation error.
pub fn error_entry(e: &ConfigError) -> ValidationError {
    let (path, position) = root_path(e.path());
    let mut message = String::new();
    if let Some(p) = position {
        message.push_str(p);
        message.push_str(": ");
    }
    if !e.value().is_empty() {
        message.push_str(e.value());
        message.push(' ');
    }
    message.push_str(e.expected());
    ValidationError { path, message }
}

/// Read config bytes as every command does and report errors and warnings.
pub fn validate(bytes: &[u8], file: &str, format: Option<Format>) -> ValidationReport {
    let doc: Option<Value> =
        std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))
            .ok()
            .and_then(|t| serde_json::from_str(t).ok());
    let shape = format.or_else(|| doc.as_ref().and_then(formats::detect));
    match formats::parse_config(bytes, file, format) {
        Err(e) => ValidationReport {
            ok: false,
            shape: shape.map(shape_name),
            errors: vec![error_entry(&e)],
            warnings: Vec::new(),
        },
        Ok(config) => {
            let shape = shape.unwrap_or(Format::Routecap);
            let null = Value::Null;
            ValidationReport {
                ok: true,
                shape: Some(shape_name(shape)),
                errors: Vec::new(),
                warnings: warnings(&config, doc.as_ref().unwrap_or(&null), shape),
            }
        }
    }
}

/// Where an owner's fields are in a document of one shape.
struct Paths<'a> {
    doc: &'a Value,
    shape: Format,
}

impl Paths<'_> {
    /// The owner's path, `$` when it cannot be found.
    fn owner(&self, kind: OwnerKind, id: &str) -> String {
        owner_json_path(self.doc, self.shape, kind, id).unwrap_or_else(|| "$".into())
    }

    /// The path of the first of `fields` (dotted, per shape) the owner has,
    /// else the owner's own path.
    fn field(&self, kind: OwnerKind, id: &str, fields: [&str; 3]) -> String {
        let base = self.owner(kind, id);
        let wanted = match self.shape {
            Format::Routecap => fields[0],
            Format::Retreaver => fields[1],
            Format::Ringba => fields[2],
        };
        for candidate in wanted.split('|') {
            if self.lookup(&base, candidate) {
                return format!("{base}.{candidate}");
            }
        }
        base
    }

    /// Whether the owner at `base` has the dotted field `dotted`.
    fn lookup(&self, base: &str, dotted: &str) -> bool {
        let pointer = to_pointer(base);
        let Some(owner) = self.doc.pointer(&pointer) else {
            return false;
        };
        dotted
            .split('.')
            .try_fold(owner, |v, k| v.get(k))
            .is_some_and(|v| !v.is_null())
    }
}

/// `$.targets[0].target` as the JSON pointer `/targets/0/target`.
fn to_pointer(path: &str) -> String {
    let rest = path.trim_start_matches('$');
    rest.replace('[', ".")
        .replace(']', "")
        .split('.')
        .filter(|s| !s.is_empty())
        .map(|s| format!("/{}", s.replace('~', "~0").replace('/', "~1")))
        .collect()
}

const HOURS: [&str; 3] = [
    "hours",
    "business_hours|business_hours_attributes",
    "schedule.hoursOfOperation",
];
const ZONE: [&str; 3] = ["time_zone", "time_zone", "schedule.timeZoneId"];
const WEIGHT: [&str; 3] = ["weight", "weight", "weight"];
const CAPS: [&str; 3] = [
    "caps",
    "caps|hourly_cap_attributes|daily_cap_attributes",
    "schedule",
];
const DAY_NAMES: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/// The warnings of a valid config read from `doc` in `shape`.
pub fn warnings(config: &Config, doc: &Value, shape: Format) -> Vec<Warning> {
    let paths = Paths { doc, shape };
    let mut out = Vec::new();
    let owners = config
        .targets
        .iter()
        .map(|t| {
            (
                OwnerKind::Target,
                &t.id,
                t.hours.as_deref(),
                t.caps.limits(),
                &*t.zone_name,
            )
        })
        .chain(config.groups.iter().map(|g| {
            (
                OwnerKind::Group,
                &g.id,
                g.hours.as_deref(),
                g.limits.clone(),
                &*g.zone_name,
            )
        }));
    for (kind, id, hours, limits, zone_name) in owners {
        let what = match kind {
            OwnerKind::Target => "target",
            OwnerKind::Group => "group",
        };
        if let Some(message) = hours.and_then(|h| unlisted_days(h, what, id, shape)) {
            let path = paths.field(kind, id, HOURS);
            out.push(Warning {
                code: "open_unlisted_days",
                path,
                message,
            });
        }
        for message in unbound_caps(&limits, what, id) {
            let path = paths.field(kind, id, CAPS);
            out.push(Warning {
                code: "cap_cannot_bind",
                path,
                message,
            });
        }
        if let Some(message) = legacy_zone(zone_name, what, id) {
            let path = paths.field(kind, id, ZONE);
            out.push(Warning {
                code: "legacy_zone_alias",
                path,
                message,
            });
        }
    }
    for g in config.groups.iter().filter(|g| g.members.is_empty()) {
        out.push(Warning {
            code: "empty_group",
            path: paths.owner(OwnerKind::Group, &g.id),
            message: format!(
                "group `{}` has no members: its caps and hours apply to nothing",
                g.id
            ),
        });
    }
    for (i, t) in config.targets.iter().enumerate() {
        if !config.campaigns.is_empty() && !reachable(config, i) {
            out.push(Warning {
                code: "unreachable_candidate",
                path: paths.owner(OwnerKind::Target, &t.id),
                message: format!(
                    "target `{}` is in no campaign (neither a candidate, a member of a candidate group, nor a fallback): no call can reach it",
                    t.id
                ),
            });
        }
        let alone = !config
            .targets
            .iter()
            .enumerate()
            .any(|(j, o)| j != i && o.priority == t.priority);
        if t.weight == 0 && alone {
            out.push(Warning {
                code: "zero_weight_alone",
                path: paths.field(OwnerKind::Target, &t.id, WEIGHT),
                message: format!(
                    "target `{}` has weight 0 but no other target has its priority {}: the weight has no effect (it is offered like any other)",
                    t.id, t.priority
                ),
            });
        }
    }
    out
}

/// The sentence for hours that list some days and not others.
fn unlisted_days(h: &WeeklyHours, what: &str, id: &str, shape: Format) -> Option<String> {
    let listed: Vec<&str> = (0..7)
        .filter(|&d| h.days[d].is_some())
        .map(|d| DAY_NAMES[d])
        .collect();
    let open: Vec<&str> = (0..7)
        .filter(|&d| h.days[d].is_none())
        .map(|d| DAY_NAMES[d])
        .collect();
    if listed.is_empty() || open.is_empty() {
        return None;
    }
    let how = match shape {
        Format::Routecap => "{\"day\": N, \"closed\": true}",
        Format::Retreaver => "\"work_day\": false",
        Format::Ringba => "\"isClosed\": true",
    };
    Some(format!(
        "{what} `{id}` lists hours for {} only, so {} {} open all day; list {} with {how} to close {}",
        listed.join(", "),
        open.join(", "),
        if open.len() == 1 { "is" } else { "are" },
        if open.len() == 1 { "it" } else { "them" },
        if open.len() == 1 { "it" } else { "them" },
    ))
}

/// Sentences for limits that a narrower window's limit makes unreachable.
fn unbound_caps(l: &Limits, what: &str, id: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut pair = |short: &str,
                    a: Option<String>,
                    long: &str,
                    b: Option<String>,
                    at_or_above: bool| {
        if let (Some(a), Some(b)) = (a, b) {
            if at_or_above {
                out.push(format!(
                    "{what} `{id}`: the {short} cap {a} is at or above the {long} cap {b}, so it can never bind"
                ));
            }
        }
    };
    let ge = |a: Option<u64>, b: Option<u64>| matches!((a, b), (Some(a), Some(b)) if a >= b);
    pair(
        "hourly",
        l.hourly.map(|v| v.to_string()),
        "daily",
        l.daily.map(|v| v.to_string()),
        ge(l.hourly, l.daily),
    );
    pair(
        "daily",
        l.daily.map(|v| v.to_string()),
        "monthly",
        l.monthly.map(|v| v.to_string()),
        ge(l.daily, l.monthly),
    );
    let gem = |a: Option<crate::money::Money>, b: Option<crate::money::Money>| matches!((a, b), (Some(a), Some(b)) if a.0 >= b.0);
    pair(
        "hourly revenue",
        l.hourly_revenue.map(|v| v.to_string()),
        "daily revenue",
        l.daily_revenue.map(|v| v.to_string()),
        gem(l.hourly_revenue, l.daily_revenue),
    );
    pair(
        "daily revenue",
        l.daily_revenue.map(|v| v.to_string()),
        "monthly revenue",
        l.monthly_revenue.map(|v| v.to_string()),
        gem(l.daily_revenue, l.monthly_revenue),
    );
    out
}

/// IANA areas of current names; other IANA names (`US/Eastern`, `Japan`,
/// `EST5EDT`) are the tz database's backward-compatibility aliases.
const AREAS: [&str; 11] = [
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
    "Etc",
];

/// The sentence for a legacy IANA alias.
fn legacy_zone(name: &str, what: &str, id: &str) -> Option<String> {
    let resolved = zone::resolve(name).ok()?;
    if resolved.kind != ZoneKind::Iana || matches!(resolved.canonical, "UTC" | "GMT") {
        return None;
    }
    let area = resolved.canonical.split('/').next().unwrap_or_default();
    if resolved.canonical.contains('/') && AREAS.contains(&area) {
        return None;
    }
    Some(format!(
        "{what} `{id}`: time zone {:?} is a legacy alias kept for backward compatibility; use the Area/Location name it stands for (e.g. \"America/New_York\" for \"US/Eastern\")",
        name.trim()
    ))
}

/// Whether some campaign can offer target `i`.
fn reachable(config: &Config, i: usize) -> bool {
    config.campaigns.iter().any(|c| {
        c.fallback == Some(i)
            || c.candidates.iter().any(|r| match *r {
                CandidateRef::Target(t) => t == i,
                CandidateRef::Group(g) => config
                    .groups
                    .get(g)
                    .is_some_and(|g| g.mode == GroupMode::Simultaneous && g.members.contains(&i)),
            })
    })
}
