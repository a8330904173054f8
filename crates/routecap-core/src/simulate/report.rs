//! The outcome of a run: [`SimReport`] with per-owner and per-hour counts,
//! the cap-fill and lost-call views the CLI and the HTML report draw, and
//! [`ReportJson`], the serialisable form `routecap simulate --json` prints.

use chrono::{Datelike, Timelike};
use serde::Serialize;
use std::borrow::Cow;

use crate::caps::Usage;
use crate::eligibility::{Reason, ReasonCode};
use crate::model::Config;
use crate::money::Money;
use crate::render;
use crate::zone::Instant;

use super::SimParams;

/// How often one reason made a candidate ineligible when a call was routed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The reason code.
    pub code: ReasonCode,
    /// The containing group it came from (printed as `group_...`).
    pub group: Option<usize>,
    /// Calls it was seen on.
    pub calls: u64,
}

impl Rejection {
    /// The printed code, e.g. `daily_cap` or `group_daily_cap`.
    pub fn code_string(&self) -> String {
        Reason {
            code: self.code,
            group: self.group,
            used: None,
            limit: None,
            until: None,
            detail: None,
        }
        .code_string()
    }
}

/// Counts of one target, or one simultaneous group step.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OwnerStats {
    /// Calls that rang it (its step, or its group's step, was reached).
    pub offered: u64,
    /// Offers it answered.
    pub answered: u64,
    /// Calls connected to it.
    pub connected: u64,
    /// Answers whose `connect` the state refused.
    pub refused: u64,
    /// Connected calls that converted.
    pub converted: u64,
    /// Revenue of those conversions.
    pub revenue: Money,
    /// Calls on which it was ineligible.
    pub ineligible: u64,
    /// Why, per reason (one call may count under several reasons).
    pub rejections: Vec<Rejection>,
}

impl OwnerStats {
    pub(super) fn reject(&mut self, r: &Reason) {
        match self
            .rejections
            .iter_mut()
            .find(|x| x.code == r.code && x.group == r.group)
        {
            Some(x) => x.calls += 1,
            None => self.rejections.push(Rejection {
                code: r.code,
                group: r.group,
                calls: 1,
            }),
        }
    }
}

/// One UTC hour of the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HourBucket {
    /// Start of the hour.
    pub start: Instant,
    /// Arrivals.
    pub calls: u64,
    /// Calls that found no eligible target.
    pub no_eligible: u64,
    /// Calls that found targets but nobody answered (or every connect was refused).
    pub unanswered: u64,
    /// Connects per target (index into `Config::targets`).
    pub connected: Vec<u64>,
    /// Usage of each owner (targets, then groups) as the state saw it at the
    /// last millisecond of the hour.
    pub usage: Vec<Usage>,
    /// Most live calls of each owner (targets, then groups) during the hour.
    pub peak_live: Vec<u64>,
}

/// The outcome of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct SimReport {
    /// The parameters, as run.
    pub params: SimParams,
    /// Arrivals.
    pub calls: u64,
    /// Calls with at least one eligible candidate.
    pub routed: u64,
    /// Calls connected.
    pub connected: u64,
    /// Calls converted.
    pub converted: u64,
    /// Total revenue.
    pub revenue: Money,
    /// Calls that found no eligible target.
    pub no_eligible: u64,
    /// Calls that found targets but nobody answered.
    pub unanswered: u64,
    /// Per target, config order.
    pub targets: Vec<OwnerStats>,
    /// Per group, config order (offers and rejections only for simultaneous
    /// groups, which are route steps of their own; connects, conversions and
    /// revenue of their members for every group).
    pub groups: Vec<OwnerStats>,
    /// One bucket per UTC hour from the hour containing `from` to the one
    /// containing the last instant before `to`.
    pub hours: Vec<HourBucket>,
    /// Most call records the state held at once during the run (live calls
    /// plus calls settled within `call_retention_seconds`): what bounds the
    /// run's memory. Not part of the JSON report.
    pub peak_call_records: usize,
    /// Connected calls by whole seconds from arrival to answer: each step
    /// that did not answer cost its ring timeout first.
    pub answer_secs: Vec<u64>,
}

impl SimReport {
    /// Mean seconds from arrival to answer over connected calls (0 when none).
    pub fn mean_answer_secs(&self) -> f64 {
        let (n, total) = (self.answer_secs.iter().enumerate())
            .fold((0u64, 0u64), |(n, t), (s, &k)| (n + k, t + s as u64 * k));
        if n == 0 {
            0.0
        } else {
            total as f64 / n as f64
        }
    }

    /// The 90th percentile of seconds from arrival to answer: the least `s`
    /// with at least 90 % of connected calls answered within `s` (0 when none).
    pub fn p90_answer_secs(&self) -> u64 {
        let n: u64 = self.answer_secs.iter().sum();
        let mut seen = 0u64;
        for (s, &k) in self.answer_secs.iter().enumerate() {
            seen += k;
            if seen * 10 >= n * 9 && n > 0 {
                return s as u64;
            }
        }
        0
    }
}

/// How full one cap of one owner was, hour by hour.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapFill {
    /// Cap name: `hourly`, `daily`, `monthly`, `total`, `hourly_revenue`, …,
    /// `concurrency`.
    pub cap: &'static str,
    /// Whether values are money (minor units) rather than counts.
    pub money: bool,
    /// Per hour bucket: usage at the end of the hour (peak live calls
    /// during the hour for `concurrency`).
    pub used: Vec<i64>,
    /// Per hour bucket: the limit (`None` = unlimited that hour; only a
    /// concurrency matrix varies).
    pub limit: Vec<Option<i64>>,
}

impl CapFill {
    /// Highest usage seen.
    pub fn peak(&self) -> i64 {
        self.used.iter().copied().max().unwrap_or(0)
    }

    /// Hours that ended at or over the limit.
    pub fn hours_at_limit(&self) -> usize {
        self.used
            .iter()
            .zip(&self.limit)
            .filter(|(u, l)| l.is_some_and(|l| **u >= l))
            .count()
    }

    /// The limit, if it is the same every hour.
    pub fn fixed_limit(&self) -> Option<i64> {
        let first = *self.limit.first()?;
        self.limit.iter().all(|l| *l == first).then_some(first)?
    }
}

fn sat(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The caps with a limit of owner `o` (targets, then groups), filled from
/// the hourly samples of `report`.
pub fn cap_fill(config: &Config, report: &SimReport, o: usize) -> Vec<CapFill> {
    let nt = config.targets.len();
    let (limits, matrix, zone) = if o < nt {
        let t = &config.targets[o];
        (Cow::Owned(t.limits()), t.concurrency_matrix(), &t.zone)
    } else if let Some(g) = config.groups.get(o - nt) {
        (
            Cow::Borrowed(&g.limits),
            g.concurrency_matrix.as_ref(),
            &g.zone,
        )
    } else {
        return Vec::new();
    };
    type Pick = fn(&Usage) -> i64;
    let counts: [(&'static str, Option<u64>, Pick); 4] = [
        ("hourly", limits.hourly, |u| sat(u.hourly)),
        ("daily", limits.daily, |u| sat(u.daily)),
        ("monthly", limits.monthly, |u| sat(u.monthly)),
        ("total", limits.total, |u| sat(u.total)),
    ];
    let money: [(&'static str, Option<Money>, Pick); 4] = [
        ("hourly_revenue", limits.hourly_revenue, |u| {
            u.hourly_revenue.0
        }),
        ("daily_revenue", limits.daily_revenue, |u| u.daily_revenue.0),
        ("monthly_revenue", limits.monthly_revenue, |u| {
            u.monthly_revenue.0
        }),
        ("total_revenue", limits.total_revenue, |u| u.total_revenue.0),
    ];
    let used_of = |pick: Pick| -> Vec<i64> {
        report
            .hours
            .iter()
            .map(|h| h.usage.get(o).map_or(0, pick))
            .collect()
    };
    let n = report.hours.len();
    let mut out = Vec::new();
    for (cap, lim, pick) in counts {
        if let Some(l) = lim {
            out.push(CapFill {
                cap,
                money: false,
                used: used_of(pick),
                limit: vec![Some(sat(l)); n],
            });
        }
    }
    for (cap, lim, pick) in money {
        if let Some(l) = lim {
            out.push(CapFill {
                cap,
                money: true,
                used: used_of(pick),
                limit: vec![Some(l.0); n],
            });
        }
    }
    let limit_at = |h: &HourBucket| -> Option<i64> {
        match matrix {
            Some(m) => {
                let local = zone.local(h.start);
                m.limit(local.weekday().num_days_from_sunday(), local.hour())
                    .map(sat)
            }
            None => limits.concurrency.map(sat),
        }
    };
    let limit: Vec<Option<i64>> = report.hours.iter().map(limit_at).collect();
    if limit.iter().any(Option::is_some) {
        out.push(CapFill {
            cap: "concurrency",
            money: false,
            used: report
                .hours
                .iter()
                .map(|h| h.peak_live.get(o).copied().map_or(0, sat))
                .collect(),
            limit,
        });
    }
    out
}

/// Rejections, most frequent first (ties: reason order, then group).
pub fn sorted_rejections(st: &OwnerStats) -> Vec<&Rejection> {
    let mut v: Vec<&Rejection> = st.rejections.iter().collect();
    v.sort_by(|a, b| {
        b.calls
            .cmp(&a.calls)
            .then(a.group.cmp(&b.group))
            .then(a.code.cmp(&b.code))
    });
    v
}

/// Lost calls per UTC hour of day: `(no eligible target, nobody answered)`.
pub fn lost_by_hour_of_day(report: &SimReport) -> [(u64, u64); 24] {
    let mut out = [(0, 0); 24];
    for h in &report.hours {
        let slot = &mut out[h.start.hour() as usize % 24];
        slot.0 += h.no_eligible;
        slot.1 += h.unanswered;
    }
    out
}

/// A cap amount: a count, or money as its exact decimal text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Amount {
    /// A count of calls.
    Count(i64),
    /// Money, e.g. `"12.50"`.
    Money(String),
}

impl Amount {
    fn new(v: i64, money: bool) -> Amount {
        if money {
            Amount::Money(Money(v).to_string())
        } else {
            Amount::Count(v)
        }
    }
}

/// One reason in an owner's [`OwnerJson::rejections`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RejectionJson {
    /// Printed code, e.g. `daily_cap` or `group_daily_cap`.
    pub code: String,
    /// Id of the containing group a `group_...` reason came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Calls it was seen on.
    pub calls: u64,
}

/// One cap in an owner's [`OwnerJson::caps`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CapJson {
    /// Cap name (see [`CapFill::cap`]).
    pub cap: &'static str,
    /// The limit, if the same every hour.
    pub limit: Option<Amount>,
    /// Highest usage seen.
    pub peak: Amount,
    /// Hours that ended at or over the limit.
    pub hours_at_limit: usize,
}

/// Counts of one target or group, with its id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OwnerJson {
    /// Target or group id.
    pub id: String,
    /// Group mode (groups only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<&'static str>,
    /// See [`OwnerStats::offered`].
    pub offered: u64,
    /// See [`OwnerStats::answered`].
    pub answered: u64,
    /// See [`OwnerStats::connected`].
    pub connected: u64,
    /// See [`OwnerStats::refused`].
    pub refused: u64,
    /// See [`OwnerStats::converted`].
    pub converted: u64,
    /// Revenue as exact decimal text.
    pub revenue: String,
    /// See [`OwnerStats::ineligible`].
    pub ineligible: u64,
    /// Reasons, most frequent first.
    pub rejections: Vec<RejectionJson>,
    /// Caps with a limit and how full they got.
    pub caps: Vec<CapJson>,
}

/// The parameters of a run as reported.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ParamsJson {
    /// Average arrivals per hour.
    pub calls_per_hour: f64,
    /// The arrival shape, if any.
    pub profile: Option<ProfileJson>,
    /// Probability that a rung target answers.
    pub answer_rate: f64,
    /// Probability that a connected call converts.
    pub convert_rate: f64,
    /// Revenue per conversion as exact decimal text.
    pub revenue: String,
    /// Mean call length in seconds.
    pub mean_duration: f64,
    /// Whether the run started from empty counters.
    pub fresh: bool,
}

/// An arrival profile as reported.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProfileJson {
    /// IANA zone of the hours.
    pub time_zone: &'static str,
    /// The 168 hour-of-week weights, Sunday 00:00 first.
    pub weights: Vec<f64>,
}

/// Lost calls of one UTC hour.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LostHour {
    /// Start of the hour, RFC 3339.
    pub hour: String,
    /// Calls that found no eligible target.
    pub no_eligible: u64,
    /// Calls nobody answered.
    pub unanswered: u64,
}

/// Lost calls per UTC hour of day, 24 entries each.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LostByHourOfDay {
    /// Calls that found no eligible target.
    pub no_eligible: Vec<u64>,
    /// Calls nobody answered.
    pub unanswered: Vec<u64>,
}

/// The report as programs read it: ids instead of indices, money as exact
/// decimal text, instants as RFC 3339. Serialised, it is exactly what
/// `routecap simulate --json` prints and what the WebAssembly `simulate`
/// returns, so the two can be compared for one seed.
///
/// (`time_to_answer`: see [`AnswerJson`].)
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReportJson {
    /// Start of the run.
    pub from: String,
    /// End of the run (exclusive).
    pub to: String,
    /// Seed of every draw.
    pub seed: u64,
    /// The other parameters.
    pub params: ParamsJson,
    /// Arrivals.
    pub calls: u64,
    /// Calls with at least one eligible candidate.
    pub routed: u64,
    /// Calls connected.
    pub connected: u64,
    /// Calls converted.
    pub converted: u64,
    /// Total revenue as exact decimal text.
    pub revenue: String,
    /// Calls that found no eligible target.
    pub no_eligible: u64,
    /// Calls nobody answered.
    pub unanswered: u64,
    /// Seconds from arrival to answer of connected calls.
    pub time_to_answer: AnswerJson,
    /// Per target, config order.
    pub targets: Vec<OwnerJson>,
    /// Per group, config order.
    pub groups: Vec<OwnerJson>,
    /// Hours that lost calls.
    pub lost_by_hour: Vec<LostHour>,
    /// Lost calls per UTC hour of day.
    pub lost_by_hour_of_day: LostByHourOfDay,
}

/// Time to answer: a step that does not answer costs its ring timeout.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AnswerJson {
    /// Mean seconds from arrival to answer.
    pub mean_seconds: f64,
    /// 90th percentile, whole seconds.
    pub p90_seconds: u64,
}

fn owner_json(
    config: &Config,
    report: &SimReport,
    o: usize,
    id: &str,
    mode: Option<&'static str>,
    st: &OwnerStats,
) -> OwnerJson {
    let rejections = sorted_rejections(st)
        .into_iter()
        .map(|r| RejectionJson {
            code: r.code_string(),
            group: r
                .group
                .and_then(|g| config.groups.get(g))
                .map(|g| g.id.clone()),
            calls: r.calls,
        })
        .collect();
    let caps = cap_fill(config, report, o)
        .iter()
        .map(|c| CapJson {
            cap: c.cap,
            limit: c.fixed_limit().map(|l| Amount::new(l, c.money)),
            peak: Amount::new(c.peak(), c.money),
            hours_at_limit: c.hours_at_limit(),
        })
        .collect();
    OwnerJson {
        id: id.to_string(),
        mode,
        offered: st.offered,
        answered: st.answered,
        connected: st.connected,
        refused: st.refused,
        converted: st.converted,
        revenue: st.revenue.to_string(),
        ineligible: st.ineligible,
        rejections,
        caps,
    }
}

/// The report as programs read it (what `routecap simulate --json` prints).
pub fn report_json(config: &Config, report: &SimReport) -> ReportJson {
    let p = &report.params;
    let nt = config.targets.len();
    let targets = config
        .targets
        .iter()
        .zip(&report.targets)
        .enumerate()
        .map(|(i, (t, st))| owner_json(config, report, i, &t.id, None, st))
        .collect();
    let groups = config
        .groups
        .iter()
        .zip(&report.groups)
        .enumerate()
        .map(|(i, (g, st))| owner_json(config, report, nt + i, &g.id, Some(g.mode.as_str()), st))
        .collect();
    let lost_by_hour = report
        .hours
        .iter()
        .filter(|h| h.no_eligible + h.unanswered > 0)
        .map(|h| LostHour {
            hour: render::instant(h.start),
            no_eligible: h.no_eligible,
            unanswered: h.unanswered,
        })
        .collect();
    let by_hod = lost_by_hour_of_day(report);
    ReportJson {
        from: render::instant(p.from),
        to: render::instant(p.to),
        seed: p.seed,
        params: ParamsJson {
            calls_per_hour: p.calls_per_hour,
            profile: p.profile.as_ref().map(|pr| ProfileJson {
                time_zone: pr.zone.name(),
                weights: pr.weights.to_vec(),
            }),
            answer_rate: p.answer_rate,
            convert_rate: p.convert_rate,
            revenue: p.revenue.to_string(),
            mean_duration: p.mean_duration_secs,
            fresh: p.fresh,
        },
        calls: report.calls,
        routed: report.routed,
        connected: report.connected,
        converted: report.converted,
        revenue: report.revenue.to_string(),
        no_eligible: report.no_eligible,
        unanswered: report.unanswered,
        time_to_answer: AnswerJson {
            mean_seconds: report.mean_answer_secs(),
            p90_seconds: report.p90_answer_secs(),
        },
        targets,
        groups,
        lost_by_hour,
        lost_by_hour_of_day: LostByHourOfDay {
            no_eligible: by_hod.iter().map(|x| x.0).collect(),
            unanswered: by_hod.iter().map(|x| x.1).collect(),
        },
    }
}
