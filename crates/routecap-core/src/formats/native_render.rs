//! A running [`Config`] written back as a native document: what `GET
//! /v1/config` answers, whatever shape the config was read from.
//!
//! Reading the document gives the same config again ([`to_native`] then
//! [`super::parse_value`] as [`Format::Routecap`](super::Format)): every
//! field the engine decides with is written, in the native spelling
//! (`docs/config.md`). Defaults are written out where they are settings an
//! operator edits (priority, weight, paused, time zone, trigger, lease and
//! retention), left out where absent means "none" (caps, filters, hours,
//! timeouts, caller rules), and usage figures are written only when not
//! zero. The lease and retention are always written: they also mark the
//! document as native for shape detection.

use serde_json::{json, Map, Value};

use crate::caller_rules::{DuplicateRule, RepeatRule};
use crate::caps::{ConcurrencyMatrix, Limits, Usage};
use crate::filter::{Condition, Filter};
use crate::hours::{DayHours, WeeklyHours};
use crate::model::{Campaign, CandidateRef, Config, Group, Target};

/// `config` as a native routecap document.
pub fn to_native(config: &Config) -> Value {
    let mut doc = Map::new();
    if let Some(as_of) = config.as_of {
        doc.insert("as_of".into(), json!(instant_text(as_of)));
    }
    doc.insert(
        "call_lease_seconds".into(),
        json!(config.call_lease_seconds),
    );
    doc.insert(
        "call_retention_seconds".into(),
        json!(config.call_retention_seconds),
    );
    if let Some(r) = &config.repeat_callers {
        doc.insert("repeat_callers".into(), repeat(r));
    }
    let targets: Vec<Value> = config.targets.iter().map(target).collect();
    doc.insert("targets".into(), Value::Array(targets));
    let groups: Vec<Value> = (config.groups.iter()).map(|g| group(config, g)).collect();
    doc.insert("groups".into(), Value::Array(groups));
    if !config.campaigns.is_empty() {
        let campaigns = (config.campaigns.iter())
            .map(|c| campaign(config, c))
            .collect();
        doc.insert("campaigns".into(), Value::Array(campaigns));
    }
    Value::Object(doc)
}

/// An instant as the configs write it: RFC 3339 UTC, seconds unless finer.
fn instant_text(at: crate::zone::Instant) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

fn target(t: &Target) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(t.id));
    if let Some(name) = &t.name {
        m.insert("name".into(), json!(name));
    }
    m.insert("priority".into(), json!(t.priority));
    m.insert("weight".into(), json!(t.weight));
    m.insert("paused".into(), json!(t.paused));
    m.insert("time_zone".into(), json!(&*t.zone_name));
    m.insert("trigger".into(), json!(t.trigger.as_str()));
    if let Some(h) = &t.hours {
        m.insert("hours".into(), hours(h));
    }
    m.insert("caps".into(), limits(&t.limits()));
    if let Some(matrix) = t.concurrency_matrix() {
        m.insert("concurrency_matrix".into(), concurrency(matrix));
    }
    insert_usage(&mut m, &t.usage());
    if let Some(s) = t.timeout_seconds() {
        m.insert("timeout_seconds".into(), json!(s));
    }
    if let Some(f) = t.filter() {
        m.insert("filter".into(), filter(f));
    }
    if let Some(d) = t.duplicates() {
        m.insert("duplicates".into(), duplicates(&d));
    }
    Value::Object(m)
}

fn group(c: &Config, g: &Group) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(g.id));
    if let Some(name) = &g.name {
        m.insert("name".into(), json!(name));
    }
    let members: Vec<&str> = (g.members.iter())
        .filter_map(|&i| c.targets.get(i))
        .map(|t| t.id.as_str())
        .collect();
    m.insert("members".into(), json!(members));
    m.insert("mode".into(), json!(g.mode.as_str()));
    if let Some(p) = g.priority {
        m.insert("priority".into(), json!(p));
    }
    if let Some(w) = g.weight {
        m.insert("weight".into(), json!(w));
    }
    m.insert("time_zone".into(), json!(&*g.zone_name));
    if let Some(h) = &g.hours {
        m.insert("hours".into(), hours(h));
    }
    m.insert("caps".into(), limits(&g.limits));
    if let Some(matrix) = &g.concurrency_matrix {
        m.insert("concurrency_matrix".into(), concurrency(matrix));
    }
    insert_usage(&mut m, &g.usage);
    if let Some(f) = &g.filter {
        m.insert("filter".into(), filter(f));
    }
    if let Some(s) = g.timeout_seconds {
        m.insert("timeout_seconds".into(), json!(s));
    }
    Value::Object(m)
}

/// A campaign's candidates by id: targets, and simultaneous groups as one
/// step (a separate group was expanded into its members when read).
fn campaign(c: &Config, k: &Campaign) -> Value {
    let candidates: Vec<&str> = (k.candidates.iter())
        .filter_map(|&cand| match cand {
            CandidateRef::Target(t) => c.targets.get(t).map(|t| t.id.as_str()),
            CandidateRef::Group(g) => c.groups.get(g).map(|g| g.id.as_str()),
        })
        .collect();
    let mut m = Map::new();
    m.insert("id".into(), json!(k.id));
    m.insert("candidates".into(), json!(candidates));
    if let Some(t) = k.fallback.and_then(|t| c.targets.get(t)) {
        m.insert("fallback".into(), json!(t.id));
    }
    if let Some(f) = &k.filter {
        m.insert("filter".into(), filter(f));
    }
    if let Some(r) = &k.repeat_callers {
        m.insert("repeat_callers".into(), repeat(r));
    }
    Value::Object(m)
}

/// Minutes since midnight as `HH:MM` (`24:00` for the end of the day).
fn clock(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

fn day(d: usize, h: &DayHours) -> Value {
    let mut m = Map::new();
    m.insert("day".into(), json!(d));
    m.insert("open".into(), json!(clock(h.open)));
    m.insert("close".into(), json!(clock(h.close)));
    if h.invert {
        m.insert("invert".into(), json!(true));
    }
    if h.closed {
        m.insert("closed".into(), json!(true));
    }
    Value::Object(m)
}

fn hours(h: &WeeklyHours) -> Value {
    let days = (h.days.iter().enumerate())
        .filter_map(|(d, e)| e.as_ref().map(|e| day(d, e)))
        .collect();
    Value::Array(days)
}

/// The limits that are set (an empty object: none).
fn limits(l: &Limits) -> Value {
    let mut m = Map::new();
    let counts = [
        ("hourly", l.hourly),
        ("daily", l.daily),
        ("monthly", l.monthly),
        ("total", l.total),
        ("concurrency", l.concurrency),
    ];
    for (k, v) in counts {
        if let Some(v) = v {
            m.insert(k.into(), json!(v));
        }
    }
    let sums = [
        ("hourly_revenue", l.hourly_revenue),
        ("daily_revenue", l.daily_revenue),
        ("monthly_revenue", l.monthly_revenue),
        ("total_revenue", l.total_revenue),
    ];
    for (k, v) in sums {
        if let Some(v) = v {
            m.insert(k.into(), json!(v.to_string()));
        }
    }
    Value::Object(m)
}

/// `usage` with its non-zero figures, left out when all are zero.
fn insert_usage(owner: &mut Map<String, Value>, u: &Usage) {
    let mut m = Map::new();
    let counts = [
        ("hourly", u.hourly),
        ("daily", u.daily),
        ("monthly", u.monthly),
        ("total", u.total),
        ("live", u.live),
    ];
    for (k, v) in counts {
        if v != 0 {
            m.insert(k.into(), json!(v));
        }
    }
    let sums = [
        ("hourly_revenue", u.hourly_revenue),
        ("daily_revenue", u.daily_revenue),
        ("monthly_revenue", u.monthly_revenue),
        ("total_revenue", u.total_revenue),
    ];
    for (k, v) in sums {
        if v.0 != 0 {
            m.insert(k.into(), json!(v.to_string()));
        }
    }
    if !m.is_empty() {
        owner.insert("usage".into(), Value::Object(m));
    }
}

/// 7 rows (Sunday first) of 24 cells; `null` = unlimited.
fn concurrency(matrix: &ConcurrencyMatrix) -> Value {
    let rows = (matrix.0.iter())
        .map(|row| Value::Array(row.iter().map(|c| json!(c)).collect()))
        .collect();
    Value::Array(rows)
}

fn filter(f: &Filter) -> Value {
    let rules: Vec<Value> = (f.any_of.iter())
        .map(|r| json!({"all_of": r.all_of.iter().map(condition).collect::<Vec<_>>()}))
        .collect();
    json!({ "any_of": rules })
}

fn condition(c: &Condition) -> Value {
    let mut m = Map::new();
    m.insert("tag".into(), json!(c.tag));
    m.insert("op".into(), json!(c.op.as_str()));
    if c.op.takes_values() {
        m.insert("values".into(), json!(c.values));
    }
    if c.op.uses_kind() {
        m.insert("kind".into(), json!(c.kind.as_str()));
    }
    if c.negate {
        m.insert("negate".into(), json!(true));
    }
    Value::Object(m)
}

fn duplicates(d: &DuplicateRule) -> Value {
    json!({"basis": d.basis.as_str(), "window": d.window})
}

/// A repeat-caller rule; a `normal` rule's window is left out when unset
/// (0: a window must be at least 1 second).
fn repeat(r: &RepeatRule) -> Value {
    let mut m = Map::new();
    m.insert("mode".into(), json!(r.mode.as_str()));
    if r.window > 0 {
        m.insert("window".into(), json!(r.window));
    }
    Value::Object(m)
}
