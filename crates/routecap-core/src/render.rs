//! JSON views of decisions, shared by the CLI and the WebAssembly face so
//! both print byte-identical answers.
//!
//! Each view is a plain `Serialize` struct: field order is output order, and
//! optional fields are left out rather than printed as `null` where the
//! contract says so.

use chrono::SecondsFormat;
use serde::{Serialize, Serializer};
use std::borrow::Cow;

use crate::caps::{Limits, Usage};
use crate::eligibility::{Amount, CandidateReport, Explainer, Reason};
use crate::filter::CallAttrs;
use crate::lifecycle::ConnectOutcome;
use crate::model::{CandidateRef, Config};
use crate::route::Step;
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

fn target_ids(config: &Config, ts: &[usize]) -> Vec<String> {
    ts.iter().map(|&t| config.targets[t].id.clone()).collect()
}

/// A count as a number, money as a decimal string (`"120.50"`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub enum AmountView {
    /// A number of calls.
    Count(u64),
    /// Money with two decimals.
    Money(String),
}

impl From<Amount> for AmountView {
    fn from(a: Amount) -> Self {
        match a {
            Amount::Count(n) => AmountView::Count(n),
            Amount::Money(m) => AmountView::Money(m.to_string()),
        }
    }
}

impl std::fmt::Display for AmountView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AmountView::Count(n) => write!(f, "{n}"),
            AmountView::Money(m) => f.write_str(m),
        }
    }
}

/// One reason: `{"code", "group"?, "used"?, "limit"?, "until"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct ReasonView {
    /// `closed`, `daily_cap`, `group_daily_cap`, …
    pub code: String,
    /// Id of the containing group the reason belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Usage in the current window, for caps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub used: Option<AmountView>,
    /// The limit, for caps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<AmountView>,
    /// When the reason lifts (always printed, `null` when unknowable).
    pub until: Option<String>,
    /// Which filter condition failed, for a call-dependent reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// One reason for people, on one line — what every face prints for a
/// reason (the CLI's tables, the WebAssembly `formatReason`, the web demo):
/// the code, `used/limit` for a cap, `[group]` for a containing group's
/// reason, `until` when it lifts (left out when unknowable or never), and
/// the filter or caller `(detail)`:
///
/// ```text
/// daily_cap 40/40 until 2026-11-23T05:00:00Z
/// group_daily_revenue_cap 120.00/120.00 [east-pool] until 2026-11-23T05:00:00Z
/// total_cap 100/100
/// filter_mismatch (geo in [us-nc, us-sc]: call has geo = [us-tx])
/// ```
pub fn reason_text(r: &ReasonView) -> String {
    let mut s = r.code.clone();
    if let (Some(used), Some(limit)) = (&r.used, &r.limit) {
        s.push_str(&format!(" {used}/{limit}"));
    }
    if let Some(g) = &r.group {
        s.push_str(&format!(" [{g}]"));
    }
    if let Some(t) = &r.until {
        s.push_str(&format!(" until {t}"));
    }
    if let Some(d) = &r.detail {
        s.push_str(&format!(" ({d})"));
    }
    s
}

/// One reason (its own `detail` only).
pub fn reason(config: &Config, r: &Reason) -> ReasonView {
    ReasonView {
        code: r.code_string(),
        group: r.group.map(|g| config.groups[g].id.clone()),
        used: r.used.map(AmountView::from),
        limit: r.limit.map(AmountView::from),
        until: r.until.map(instant),
        detail: r.detail.clone(),
    }
}

/// All reasons of a report (their own `detail` only).
pub fn reasons(config: &Config, rs: &[Reason]) -> Vec<ReasonView> {
    rs.iter().map(|r| reason(config, r)).collect()
}

/// The reasons of a report on `candidate`, filter details written for the call.
fn explained(
    config: &Config,
    ex: &Explainer<'_>,
    candidate: CandidateRef,
    rs: &[Reason],
) -> Vec<ReasonView> {
    rs.iter()
        .map(|r| ReasonView {
            detail: ex.detail(candidate, r),
            ..reason(config, r)
        })
        .collect()
}

/// One candidate of `check`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct CandidateView {
    /// Target or group id.
    pub id: String,
    /// `"target"` or `"group"`.
    #[cfg_attr(feature = "typescript", tsify(type = "\"target\" | \"group\""))]
    pub kind: &'static str,
    /// Eligible now.
    pub eligible: bool,
    /// The candidate's wall clock with its offset.
    pub local_time: String,
    /// Simultaneous groups only: the members that could take the call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eligible_members: Option<Vec<String>>,
    /// Every reason it is not eligible.
    pub reasons: Vec<ReasonView>,
}

/// One candidate of `check`.
pub fn candidate(config: &Config, rep: &CandidateReport, at: Instant) -> CandidateView {
    candidate_explained(config, &Explainer::new(config, &CallAttrs::new()), rep, at)
}

fn candidate_explained(
    config: &Config,
    ex: &Explainer<'_>,
    rep: &CandidateReport,
    at: Instant,
) -> CandidateView {
    CandidateView {
        id: candidate_id(config, rep.candidate).to_string(),
        kind: candidate_kind(rep.candidate),
        eligible: rep.eligible,
        local_time: local_time(candidate_zone(config, rep.candidate), at),
        eligible_members: matches!(rep.candidate, CandidateRef::Group(_))
            .then(|| target_ids(config, &rep.eligible_members)),
        reasons: explained(config, ex, rep.candidate, &rep.reasons),
    }
}

/// The whole `check` answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct CheckView {
    /// The decision instant.
    pub at: String,
    /// The campaign the call came through, when it named one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub campaign: Option<CampaignView>,
    /// Every default candidate (or the campaign's), in config order.
    pub candidates: Vec<CandidateView>,
}

/// The campaign of a `check`: whether it takes the call, and its fallback.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct CampaignView {
    /// Campaign id.
    pub id: String,
    /// Its filter takes the call.
    pub eligible: bool,
    /// Why not (its filter's `filter_mismatch`).
    pub reasons: Vec<ReasonView>,
    /// Its fallback target id.
    pub fallback: Option<String>,
}

/// The whole `check` answer.
pub fn check(config: &Config, reports: &[CandidateReport], at: Instant) -> CheckView {
    check_call(config, reports, at, &CallAttrs::new())
}

/// The whole `check` answer for a call with `attrs` (filter details).
pub fn check_call(
    config: &Config,
    reports: &[CandidateReport],
    at: Instant,
    attrs: &CallAttrs,
) -> CheckView {
    let ex = Explainer::new(config, attrs);
    CheckView {
        at: instant(at),
        campaign: None,
        candidates: (reports.iter())
            .map(|r| candidate_explained(config, &ex, r, at))
            .collect(),
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// An ineligible candidate of `route`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct RejectedView {
    /// Target or group id.
    pub id: String,
    /// `"campaign"` when the campaign itself refused the call; candidates
    /// leave it out.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", tsify(type = "\"campaign\""))]
    pub kind: Option<&'static str>,
    /// Why it is not in the plan.
    pub reasons: Vec<ReasonView>,
}

/// The `rejected` list of `route`: the ineligible candidates.
pub fn rejected(config: &Config, reports: &[CandidateReport]) -> Vec<RejectedView> {
    rejected_call(config, reports, &CallAttrs::new())
}

/// The `rejected` list of `route` for a call with `attrs` (filter details).
pub fn rejected_call(
    config: &Config,
    reports: &[CandidateReport],
    attrs: &CallAttrs,
) -> Vec<RejectedView> {
    let ex = Explainer::new(config, attrs);
    reports
        .iter()
        .filter(|r| !r.eligible)
        .map(|r| RejectedView {
            id: candidate_id(config, r.candidate).to_string(),
            kind: None,
            reasons: explained(config, &ex, r.candidate, &r.reasons),
        })
        .collect()
}

/// One plan step: `{"target": id}` or `{"group": id, "targets": [ids]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub enum StepView {
    /// Ring one target.
    Target {
        /// Its id.
        target: String,
        /// How long to ring it before failing over.
        timeout_seconds: u32,
        /// The campaign's last resort, appended after the plan.
        #[serde(skip_serializing_if = "is_false")]
        #[cfg_attr(feature = "typescript", tsify(optional, type = "true"))]
        fallback: bool,
    },
    /// Ring a simultaneous group's eligible members at once.
    Group {
        /// The group id.
        group: String,
        /// Ids of the members rung.
        targets: Vec<String>,
        /// How long to ring them before failing over.
        timeout_seconds: u32,
    },
}

/// One plan step.
pub fn step(config: &Config, s: &Step<'_>) -> StepView {
    match *s {
        Step::Target(t) => StepView::Target {
            target: config.targets[t].id.clone(),
            timeout_seconds: crate::route::step_timeout(config, s),
            fallback: false,
        },
        Step::Group { group, members } => StepView::Group {
            group: config.groups[group].id.clone(),
            targets: target_ids(config, members),
            timeout_seconds: crate::route::step_timeout(config, s),
        },
    }
}

/// The whole `route` answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct RouteView {
    /// The decision instant.
    pub at: String,
    /// The seed the order was drawn from.
    pub seed: u64,
    /// Failover order.
    pub plan: Vec<StepView>,
    /// Ineligible candidates and why.
    pub rejected: Vec<RejectedView>,
}

/// The whole `route` answer.
pub fn route(
    config: &Config,
    at: Instant,
    seed: u64,
    plan: &[Step<'_>],
    reports: &[CandidateReport],
) -> RouteView {
    route_call(config, at, seed, plan, reports, &CallAttrs::new())
}

/// The whole `route` answer for a call with `attrs` (filter details).
pub fn route_call(
    config: &Config,
    at: Instant,
    seed: u64,
    plan: &[Step<'_>],
    reports: &[CandidateReport],
    attrs: &CallAttrs,
) -> RouteView {
    RouteView {
        at: instant(at),
        seed,
        plan: plan.iter().map(|s| step(config, s)).collect(),
        rejected: rejected_call(config, reports, attrs),
    }
}

/// The answer to `connect` / `reserve`, or `{"ok": true}` of the others.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct OutcomeView {
    /// Accepted.
    pub ok: bool,
    /// Why not, when refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasons: Option<Vec<ReasonView>>,
}

impl OutcomeView {
    /// `{"ok": true}`.
    pub const OK: OutcomeView = OutcomeView {
        ok: true,
        reasons: None,
    };
}

/// A connect or reserve outcome.
pub fn outcome(config: &Config, out: &ConnectOutcome) -> OutcomeView {
    match out {
        ConnectOutcome::Connected => OutcomeView::OK,
        ConnectOutcome::Refused(rs) => OutcomeView {
            ok: false,
            reasons: Some(reasons(config, rs)),
        },
    }
}

/// Where the first step of many routed calls went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct FirstCountsView {
    /// Calls routed.
    pub n: u32,
    /// First-place counts per eligible candidate id, in candidate order.
    #[serde(serialize_with = "ordered_map")]
    #[cfg_attr(feature = "typescript", tsify(type = "Record<string, number>"))]
    pub first: Vec<(String, u64)>,
    /// Calls with no eligible candidate at all.
    pub none: u64,
}

/// Chance of each eligible candidate to be rung first, by id.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct ChancesView(
    #[serde(serialize_with = "ordered_map")]
    #[cfg_attr(feature = "typescript", tsify(type = "Record<string, number>"))]
    pub Vec<(String, f64)>,
);

/// Pairs as a JSON object, keeping their order.
fn ordered_map<S: Serializer, V: Serialize>(
    pairs: &[(String, V)],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_map(pairs.iter().map(|(k, v)| (k, v)))
}

/// Cap limits, `null` where unlimited; money as decimal strings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct LimitsView {
    /// Calls per hour.
    pub hourly: Option<u64>,
    /// Calls per day.
    pub daily: Option<u64>,
    /// Calls per month.
    pub monthly: Option<u64>,
    /// Calls ever (until reset).
    pub total: Option<u64>,
    /// Live calls at once.
    pub concurrency: Option<u64>,
    /// Revenue per hour.
    pub hourly_revenue: Option<String>,
    /// Revenue per day.
    pub daily_revenue: Option<String>,
    /// Revenue per month.
    pub monthly_revenue: Option<String>,
    /// Revenue ever (until reset).
    pub total_revenue: Option<String>,
}

impl From<&Limits> for LimitsView {
    fn from(l: &Limits) -> Self {
        let money = |m: Option<crate::money::Money>| m.map(|m| m.to_string());
        LimitsView {
            hourly: l.hourly,
            daily: l.daily,
            monthly: l.monthly,
            total: l.total,
            concurrency: l.concurrency,
            hourly_revenue: money(l.hourly_revenue),
            daily_revenue: money(l.daily_revenue),
            monthly_revenue: money(l.monthly_revenue),
            total_revenue: money(l.total_revenue),
        }
    }
}

/// A target for display.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct TargetSummary {
    /// Its id.
    pub id: String,
    /// Its display name.
    pub name: Option<String>,
    /// The zone name as written in the config.
    pub zone: String,
    /// The IANA zone it resolved to.
    pub iana: String,
    /// Priority tier (lower rings first).
    pub priority: i32,
    /// Weight within its tier.
    pub weight: u32,
    /// Paused targets take no calls.
    pub paused: bool,
    /// What counts a call: `connect`, `convert` or `revenue`.
    #[cfg_attr(
        feature = "typescript",
        tsify(type = "\"connect\" | \"convert\" | \"revenue\"")
    )]
    pub trigger: &'static str,
    /// Whether it has business hours.
    pub has_hours: bool,
    /// Its caps.
    pub limits: LimitsView,
    /// Ids of the groups that contain it.
    pub groups: Vec<String>,
}

/// Every target for display.
pub fn targets(c: &Config) -> Vec<TargetSummary> {
    c.targets
        .iter()
        .enumerate()
        .map(|(i, t)| TargetSummary {
            id: t.id.clone(),
            name: t.name.clone(),
            zone: t.zone_name.to_string(),
            iana: t.zone.name().to_string(),
            priority: t.priority,
            weight: t.weight,
            paused: t.paused,
            trigger: t.trigger.as_str(),
            has_hours: t.hours.is_some(),
            limits: (&t.limits()).into(),
            groups: c.groups_of(i).map(|g| c.groups[g].id.clone()).collect(),
        })
        .collect()
}

/// A group for display.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct GroupSummary {
    /// Its id.
    pub id: String,
    /// Its display name.
    pub name: Option<String>,
    /// `separate` or `simultaneous`.
    #[cfg_attr(
        feature = "typescript",
        tsify(type = "\"separate\" | \"simultaneous\"")
    )]
    pub mode: &'static str,
    /// Member target ids.
    pub members: Vec<String>,
    /// The zone name as written in the config.
    pub zone: String,
    /// The IANA zone it resolved to.
    pub iana: String,
    /// Priority as a route step.
    pub priority: i32,
    /// Weight as a route step.
    pub weight: u32,
    /// Whether it has business hours.
    pub has_hours: bool,
    /// Its caps.
    pub limits: LimitsView,
}

/// Every group for display.
pub fn groups(c: &Config) -> Vec<GroupSummary> {
    c.groups
        .iter()
        .map(|g| GroupSummary {
            id: g.id.clone(),
            name: g.name.clone(),
            mode: g.mode.as_str(),
            members: g
                .members
                .iter()
                .filter_map(|&m| c.targets.get(m))
                .map(|t| t.id.clone())
                .collect(),
            zone: g.zone_name.to_string(),
            iana: g.zone.name().to_string(),
            priority: g.effective_priority(),
            weight: g.effective_weight(),
            has_hours: g.hours.is_some(),
            limits: (&g.limits).into(),
        })
        .collect()
}

/// Usage of one target or group as caps see it at an instant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UsageRow {
    /// Target or group id.
    pub id: String,
    /// `"target"` or `"group"`.
    pub kind: &'static str,
    /// Calls this hour.
    pub hourly: u64,
    /// Calls today.
    pub daily: u64,
    /// Calls this month.
    pub monthly: u64,
    /// Calls since the last reset.
    pub total: u64,
    /// Live calls (reservations included).
    pub live: u64,
    /// Revenue this hour.
    pub hourly_revenue: String,
    /// Revenue today.
    pub daily_revenue: String,
    /// Revenue this month.
    pub monthly_revenue: String,
    /// Revenue since the last reset.
    pub total_revenue: String,
}

/// One usage row.
pub fn usage_row(config: &Config, owner: CandidateRef, u: &Usage) -> UsageRow {
    UsageRow {
        id: candidate_id(config, owner).to_string(),
        kind: candidate_kind(owner),
        hourly: u.hourly,
        daily: u.daily,
        monthly: u.monthly,
        total: u.total,
        live: u.live,
        hourly_revenue: u.hourly_revenue.to_string(),
        daily_revenue: u.daily_revenue.to_string(),
        monthly_revenue: u.monthly_revenue.to_string(),
        total_revenue: u.total_revenue.to_string(),
    }
}

/// A resolved zone name, as `routecap zones --json` prints it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct ZoneRow {
    /// The name as given.
    pub input: String,
    /// The IANA zone it names.
    pub iana: String,
    /// `rails`, `windows` or `iana`.
    #[cfg_attr(
        feature = "typescript",
        tsify(type = "\"rails\" | \"windows\" | \"iana\"")
    )]
    pub kind: &'static str,
}

/// An amount in a usage view: a count is a number, money a decimal string.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub enum UsageAmount {
    /// Calls.
    Count(u64),
    /// Money, exact decimal text.
    Money(String),
}

/// The fill of one cap, as `routecap usage --json` prints it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct CapUsage {
    /// `hourly`, `daily`, `monthly`, `total`, the four `*_revenue`, `concurrency`.
    #[cfg_attr(
        feature = "typescript",
        tsify(
            type = "\"hourly\" | \"daily\" | \"monthly\" | \"total\" | \"hourly_revenue\" | \"daily_revenue\" | \"monthly_revenue\" | \"total_revenue\" | \"concurrency\""
        )
    )]
    pub cap: &'static str,
    /// What counts against the cap now (reservations included; for
    /// concurrency, live calls plus live reservations).
    pub used: UsageAmount,
    /// The limit in force at the instant (a concurrency matrix cell where
    /// there is one).
    pub limit: UsageAmount,
    /// Start of the cap's window (periodic caps only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_start: Option<String>,
    /// End of the cap's window, exclusive (periodic caps only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_end: Option<String>,
}

/// The usage of one target or group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct OwnerUsage {
    /// Target or group id.
    pub id: String,
    /// `"target"` or `"group"`.
    #[cfg_attr(feature = "typescript", tsify(type = "\"target\" | \"group\""))]
    pub kind: &'static str,
    /// Live connected calls (imported ones included).
    pub live: u64,
    /// Live reservations.
    pub reserved: u64,
    /// Every cap that has a limit, eligible or not.
    pub caps: Vec<CapUsage>,
}

/// `routecap usage --json`: every cap of every target, then every group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct UsageView {
    /// The instant the usage is read at.
    pub at: String,
    /// Targets in config order, then groups.
    pub owners: Vec<OwnerUsage>,
}

/// The usage view of every owner at `at`.
pub fn usage_view(config: &Config, ledger: &crate::counters::Ledger, at: Instant) -> UsageView {
    use crate::caps::Period;
    let mut owners = Vec::with_capacity(config.targets.len() + config.groups.len());
    let all = (0..config.targets.len())
        .map(CandidateRef::Target)
        .chain((0..config.groups.len()).map(CandidateRef::Group));
    for owner in all {
        let (limits, matrix, zone) = match owner {
            CandidateRef::Target(t) => {
                let t = &config.targets[t];
                (Cow::Owned(t.limits()), t.concurrency_matrix(), &t.zone)
            }
            CandidateRef::Group(g) => {
                let g = &config.groups[g];
                (
                    Cow::Borrowed(&g.limits),
                    g.concurrency_matrix.as_ref(),
                    &g.zone,
                )
            }
        };
        let (_, reserved, live) = ledger.counters(owner, at);
        let u = ledger.usage(config, owner, at);
        let concurrency = match matrix {
            Some(m) => {
                use chrono::{Datelike, Timelike};
                let local = zone.local(at);
                m.limit(local.weekday().num_days_from_sunday(), local.hour())
            }
            None => limits.concurrency,
        };
        let count = |n: Option<u64>| n.map(UsageAmount::Count);
        let money = |m: Option<crate::money::Money>| m.map(|m| UsageAmount::Money(m.to_string()));
        let rows: [(
            &'static str,
            Option<Period>,
            UsageAmount,
            Option<UsageAmount>,
        ); 9] = [
            (
                "hourly",
                Some(Period::Hour),
                UsageAmount::Count(u.hourly),
                count(limits.hourly),
            ),
            (
                "daily",
                Some(Period::Day),
                UsageAmount::Count(u.daily),
                count(limits.daily),
            ),
            (
                "monthly",
                Some(Period::Month),
                UsageAmount::Count(u.monthly),
                count(limits.monthly),
            ),
            (
                "total",
                None,
                UsageAmount::Count(u.total),
                count(limits.total),
            ),
            (
                "hourly_revenue",
                Some(Period::Hour),
                UsageAmount::Money(u.hourly_revenue.to_string()),
                money(limits.hourly_revenue),
            ),
            (
                "daily_revenue",
                Some(Period::Day),
                UsageAmount::Money(u.daily_revenue.to_string()),
                money(limits.daily_revenue),
            ),
            (
                "monthly_revenue",
                Some(Period::Month),
                UsageAmount::Money(u.monthly_revenue.to_string()),
                money(limits.monthly_revenue),
            ),
            (
                "total_revenue",
                None,
                UsageAmount::Money(u.total_revenue.to_string()),
                money(limits.total_revenue),
            ),
            (
                "concurrency",
                None,
                UsageAmount::Count(u.live),
                count(concurrency),
            ),
        ];
        let mut caps = Vec::new();
        for (cap, period, used, limit) in rows {
            let Some(limit) = limit else { continue };
            let w = period.map(|p| crate::window::window(zone, p, at));
            caps.push(CapUsage {
                cap,
                used,
                limit,
                window_start: w.as_ref().map(|w| instant(w.start)),
                window_end: w.as_ref().map(|w| instant(w.end)),
            });
        }
        owners.push(OwnerUsage {
            id: candidate_id(config, owner).to_string(),
            kind: candidate_kind(owner),
            live,
            reserved,
            caps,
        });
    }
    UsageView {
        at: instant(at),
        owners,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(code: &str) -> ReasonView {
        ReasonView {
            code: code.into(),
            group: None,
            used: None,
            limit: None,
            until: None,
            detail: None,
        }
    }

    #[test]
    fn reason_text_is_one_line_in_the_cli_wording() {
        let t = |s: &str| Some(s.to_string());
        let cases = [
            (
                ReasonView {
                    used: Some(AmountView::Count(40)),
                    limit: Some(AmountView::Count(40)),
                    until: t("2026-11-23T05:00:00Z"),
                    ..view("daily_cap")
                },
                "daily_cap 40/40 until 2026-11-23T05:00:00Z",
            ),
            (
                ReasonView {
                    group: t("g1"),
                    used: Some(AmountView::Money("120.00".into())),
                    limit: Some(AmountView::Money("120.00".into())),
                    until: t("2026-11-23T05:00:00Z"),
                    ..view("group_daily_revenue_cap")
                },
                "group_daily_revenue_cap 120.00/120.00 [g1] until 2026-11-23T05:00:00Z",
            ),
            (
                ReasonView {
                    used: Some(AmountView::Count(5)),
                    limit: Some(AmountView::Count(5)),
                    ..view("total_cap")
                },
                "total_cap 5/5",
            ),
            (view("paused"), "paused"),
            (
                ReasonView {
                    detail: t("geo in [us-nc]: call has geo = [us-tx]"),
                    ..view("filter_mismatch")
                },
                "filter_mismatch (geo in [us-nc]: call has geo = [us-tx])",
            ),
            (
                ReasonView {
                    until: t("2026-11-23T11:00:00Z"),
                    detail: t("caller +19195550100 connected at 2026-11-23T10:00:00Z (window 3600 s)"),
                    ..view("duplicate_caller")
                },
                "duplicate_caller until 2026-11-23T11:00:00Z (caller +19195550100 connected at 2026-11-23T10:00:00Z (window 3600 s))",
            ),
        ];
        for (r, want) in cases {
            assert_eq!(reason_text(&r), want);
        }
    }
}
