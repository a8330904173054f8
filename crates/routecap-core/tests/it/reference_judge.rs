//! The plain eligibility judge the `Checker` is compared with: every rule
//! of `eligibility` written once and directly, from the config and the
//! ledger's public reads, each owner's facts computed from its zone at the
//! instant. Nothing is cached, kept between decisions or judged in bulk,
//! so what it says is easy to check by reading; the product's speed comes
//! from the caches and passes it does not have.
//!
//! It judges calls without a caller history (no `duplicates` or
//! `repeat_callers` rules): the configs compared carry none.

use routecap_core::caps::{Limits, Period};
use routecap_core::counters::Ledger;
use routecap_core::eligibility::{Amount, CandidateReport, Reason, ReasonCode};
use routecap_core::filter::{CallAttrs, PreparedCall};
use routecap_core::model::{CandidateRef, Config};
use routecap_core::window::window;
use routecap_core::zone::Instant;

use chrono::{Datelike, Timelike};

/// Eligibility of the config's default candidates at `at`, as
/// `eligibility::check` answers.
pub fn check(config: &Config, ledger: &Ledger, at: Instant) -> Vec<CandidateReport> {
    check_candidates_call(
        config,
        ledger,
        at,
        &config.default_candidates(),
        &CallAttrs::new(),
    )
}

/// Eligibility of `cands` at `at`, as `eligibility::check_candidates`.
pub fn check_candidates(
    config: &Config,
    ledger: &Ledger,
    at: Instant,
    cands: &[CandidateRef],
) -> Vec<CandidateReport> {
    check_candidates_call(config, ledger, at, cands, &CallAttrs::new())
}

/// [`check`] for a call with attributes, as `eligibility::check_call`.
pub fn check_call(
    config: &Config,
    ledger: &Ledger,
    at: Instant,
    attrs: &CallAttrs,
) -> Vec<CandidateReport> {
    check_candidates_call(config, ledger, at, &config.default_candidates(), attrs)
}

/// Eligibility of `cands` (those outside the config skipped) for a call.
fn check_candidates_call(
    config: &Config,
    ledger: &Ledger,
    at: Instant,
    cands: &[CandidateRef],
    attrs: &CallAttrs,
) -> Vec<CandidateReport> {
    let filters = config.filters();
    let prepared = filters.any.then(|| filters.table.prepare(attrs));
    let judge = Judge {
        config,
        ledger,
        at,
        call: prepared.as_ref(),
    };
    cands.iter().filter_map(|&c| judge.report(c)).collect()
}

/// One decision: the config, the counters, the instant and the call's
/// attributes prepared for the config's filters (none without filters).
struct Judge<'a> {
    config: &'a Config,
    ledger: &'a Ledger,
    at: Instant,
    call: Option<&'a PreparedCall<'a>>,
}

impl Judge<'_> {
    /// The verdict on `candidate`; `None` outside the config.
    fn report(&self, candidate: CandidateRef) -> Option<CandidateReport> {
        let mut reasons = Vec::new();
        let mut eligible_members = Vec::new();
        match candidate {
            CandidateRef::Target(t) => {
                self.config.targets.get(t)?;
                self.target(t, None, &mut reasons);
            }
            CandidateRef::Group(g) => {
                let group = self.config.groups.get(g)?;
                // a group judged as a candidate: its reasons are its own
                self.own(candidate, None, &mut reasons);
                self.filter(candidate, None, &mut reasons);
                for &m in &group.members {
                    let mut member = Vec::new();
                    self.target(m, Some(g), &mut member);
                    if member.is_empty() && m < self.config.targets.len() {
                        eligible_members.push(m);
                    }
                }
                if eligible_members.is_empty() {
                    reasons.push(bare(ReasonCode::NoEligibleMember, None));
                }
            }
        }
        Some(CandidateReport {
            candidate,
            eligible: reasons.is_empty(),
            reasons,
            eligible_members,
        })
    }

    /// Reasons of target `t`: paused, its own, those of each containing
    /// group but `skip` (tagged with the group), then the filters'.
    fn target(&self, t: usize, skip: Option<usize>, out: &mut Vec<Reason>) {
        let Some(target) = self.config.targets.get(t) else {
            return;
        };
        if target.paused {
            out.push(bare(ReasonCode::Paused, None));
        }
        self.own(CandidateRef::Target(t), None, out);
        let groups: Vec<usize> = self
            .config
            .groups_of(t)
            .filter(|&g| Some(g) != skip)
            .collect();
        for &g in &groups {
            self.own(CandidateRef::Group(g), Some(g), out);
        }
        self.filter(CandidateRef::Target(t), None, out);
        for &g in &groups {
            self.filter(CandidateRef::Group(g), Some(g), out);
        }
    }

    /// `filter_mismatch` when `owner` has a filter the call does not match.
    fn filter(&self, owner: CandidateRef, group: Option<usize>, out: &mut Vec<Reason>) {
        let Some(call) = self.call else {
            return;
        };
        let filters = self.config.filters();
        let compiled = match owner {
            CandidateRef::Target(t) => filters.targets.get(t),
            CandidateRef::Group(g) => filters.groups.get(g),
        };
        if let Some(Some(f)) = compiled {
            if !f.is_match(call) {
                out.push(bare(ReasonCode::FilterMismatch, group));
            }
        }
    }

    /// The reasons of `owner` itself: hours, then count caps (hour, day,
    /// month, total), revenue caps (the same), concurrency.
    fn own(&self, owner: CandidateRef, group: Option<usize>, out: &mut Vec<Reason>) {
        let (zone, hours, limits, matrix) = match owner {
            CandidateRef::Target(t) => {
                let t = &self.config.targets[t];
                (
                    &t.zone,
                    t.hours.as_deref(),
                    t.limits(),
                    t.concurrency_matrix(),
                )
            }
            CandidateRef::Group(g) => {
                let g = &self.config.groups[g];
                (
                    &g.zone,
                    g.hours.as_deref(),
                    g.limits.clone(),
                    g.concurrency_matrix.as_ref(),
                )
            }
        };
        let at = self.at;
        if let Some(h) = hours {
            if !h.is_open(zone, at) {
                out.push(Reason {
                    until: h.next_open(zone, at),
                    ..bare(ReasonCode::Closed, group)
                });
            }
        }
        let usage = self.ledger.usage(self.config, owner, at);
        let end = |p: Period| Some(window(zone, p, at).end);
        let reason = |code, used, limit, until| Reason {
            used: Some(used),
            limit: Some(limit),
            until,
            ..bare(code, group)
        };
        let counts = [
            (ReasonCode::HourlyCap, usage.hourly, end(Period::Hour)),
            (ReasonCode::DailyCap, usage.daily, end(Period::Day)),
            (ReasonCode::MonthlyCap, usage.monthly, end(Period::Month)),
            (ReasonCode::TotalCap, usage.total, None),
        ];
        for ((code, used, until), limit) in counts.into_iter().zip(count_limits(&limits)) {
            if let Some(limit) = limit.filter(|&l| used >= l) {
                out.push(reason(
                    code,
                    Amount::Count(used),
                    Amount::Count(limit),
                    until,
                ));
            }
        }
        let revenue = [
            (
                ReasonCode::HourlyRevenueCap,
                usage.hourly_revenue,
                end(Period::Hour),
            ),
            (
                ReasonCode::DailyRevenueCap,
                usage.daily_revenue,
                end(Period::Day),
            ),
            (
                ReasonCode::MonthlyRevenueCap,
                usage.monthly_revenue,
                end(Period::Month),
            ),
            (ReasonCode::TotalRevenueCap, usage.total_revenue, None),
        ];
        for ((code, used, until), limit) in revenue.into_iter().zip(revenue_limits(&limits)) {
            if let Some(limit) = limit.filter(|&l| used >= l) {
                out.push(reason(
                    code,
                    Amount::Money(used),
                    Amount::Money(limit),
                    until,
                ));
            }
        }
        let concurrency = match matrix {
            Some(m) => {
                let local = zone.local(at);
                m.limit(local.weekday().num_days_from_sunday(), local.hour())
            }
            None => limits.concurrency,
        };
        // live calls with the units held by reservations
        if let Some(limit) = concurrency.filter(|&l| usage.live >= l) {
            let (used, limit) = (Amount::Count(usage.live), Amount::Count(limit));
            out.push(reason(ReasonCode::ConcurrencyCap, used, limit, None));
        }
    }
}

/// Hourly, daily, monthly and total count limits.
fn count_limits(l: &Limits) -> [Option<u64>; 4] {
    [l.hourly, l.daily, l.monthly, l.total]
}

/// Hourly, daily, monthly and total revenue limits.
fn revenue_limits(l: &Limits) -> [Option<routecap_core::money::Money>; 4] {
    [
        l.hourly_revenue,
        l.daily_revenue,
        l.monthly_revenue,
        l.total_revenue,
    ]
}

/// A reason with no amounts, no end and no detail.
fn bare(code: ReasonCode, group: Option<usize>) -> Reason {
    Reason {
        code,
        group,
        used: None,
        limit: None,
        until: None,
        detail: None,
    }
}
