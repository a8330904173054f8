//! JSON views of decisions in the shapes of INTERFACE.md, shared by the CLI
//! and the WebAssembly face so both print byte-identical answers.

use chrono::SecondsFormat;
use serde_json::{json, Map, Value};

use crate::eligibility::{Amount, CandidateReport, Reason};
use crate::model::{CandidateRef, Config};
use crate::zone::{Instant, Zone};

/// An instant as RFC 3339 UTC with a `Z` (sub-seconds only when present).
pub fn instant(t: Instant) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// A local time with its offset, e.g. `2026-11-22T10:00:00-05:00`.
pub fn local_time(zone: &Zone, t: Instant) -> String {
    zone.local_fixed(t)
        .to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// The id of a candidate (target id or group id).
pub fn candidate_id(config: &Config, c: CandidateRef) -> &str {
    match c {
        CandidateRef::Target(i) => &config.targets[i].id,
        CandidateRef::Group(g) => &config.groups[g].id,
    }
}

/// `"target"` or `"group"`.
pub fn candidate_kind(c: CandidateRef) -> &'static str {
    match c {
        CandidateRef::Target(_) => "target",
        CandidateRef::Group(_) => "group",
    }
}

/// The zone a candidate is judged in.
pub fn candidate_zone(config: &Config, c: CandidateRef) -> &Zone {
    match c {
        CandidateRef::Target(i) => &config.targets[i].zone,
        CandidateRef::Group(g) => &config.groups[g].zone,
    }
}

fn amount(a: Amount) -> Value {
    match a {
        Amount::Count(n) => json!(n),
        Amount::Money(m) => json!(m.to_string()),
    }
}

/// One reason: `{"code", "group"?, "used"?, "limit"?, "until"}`.
pub fn reason(config: &Config, r: &Reason) -> Value {
    let mut m = Map::new();
    m.insert("code".into(), json!(r.code_string()));
    if let Some(g) = r.group {
        m.insert("group".into(), json!(config.groups[g].id));
    }
    if let Some(u) = r.used {
        m.insert("used".into(), amount(u));
    }
    if let Some(l) = r.limit {
        m.insert("limit".into(), amount(l));
    }
    m.insert(
        "until".into(),
        r.until.map(instant).map_or(Value::Null, Value::from),
    );
    Value::Object(m)
}

/// All reasons of a report.
pub fn reasons(config: &Config, rs: &[Reason]) -> Value {
    Value::Array(rs.iter().map(|r| reason(config, r)).collect())
}

/// One candidate of `check`.
pub fn candidate(config: &Config, rep: &CandidateReport, at: Instant) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(candidate_id(config, rep.candidate)));
    m.insert("kind".into(), json!(candidate_kind(rep.candidate)));
    m.insert("eligible".into(), json!(rep.eligible));
    m.insert(
        "local_time".into(),
        json!(local_time(candidate_zone(config, rep.candidate), at)),
    );
    if let CandidateRef::Group(_) = rep.candidate {
        let members: Vec<&str> = rep
            .eligible_members
            .iter()
            .map(|&t| config.targets[t].id.as_str())
            .collect();
        m.insert("eligible_members".into(), json!(members));
    }
    m.insert("reasons".into(), reasons(config, &rep.reasons));
    Value::Object(m)
}

/// The whole `check` answer: `{"at", "candidates": [...]}`.
pub fn check(config: &Config, reports: &[CandidateReport], at: Instant) -> Value {
    json!({
        "at": instant(at),
        "candidates": reports.iter().map(|r| candidate(config, r, at)).collect::<Vec<_>>(),
    })
}

/// The `rejected` list of `route`: `[{"id", "reasons"}]` for ineligible candidates.
pub fn rejected(config: &Config, reports: &[CandidateReport]) -> Value {
    Value::Array(
        reports
            .iter()
            .filter(|r| !r.eligible)
            .map(|r| {
                json!({
                    "id": candidate_id(config, r.candidate),
                    "reasons": reasons(config, &r.reasons),
                })
            })
            .collect(),
    )
}

/// One plan step: `{"target": id}` or `{"group": id, "targets": [ids]}`.
pub fn step(config: &Config, s: &crate::route::Step<'_>) -> Value {
    match *s {
        crate::route::Step::Target(t) => json!({"target": config.targets[t].id}),
        crate::route::Step::Group { group, members } => json!({
            "group": config.groups[group].id,
            "targets": members.iter().map(|&t| config.targets[t].id.as_str()).collect::<Vec<_>>(),
        }),
    }
}

/// The whole `route` answer: `{"at", "seed", "plan", "rejected"}`.
pub fn route(
    config: &Config,
    at: Instant,
    seed: u64,
    plan: &[crate::route::Step<'_>],
    reports: &[CandidateReport],
) -> Value {
    json!({
        "at": instant(at),
        "seed": seed,
        "plan": plan.iter().map(|s| step(config, s)).collect::<Vec<_>>(),
        "rejected": rejected(config, reports),
    })
}
