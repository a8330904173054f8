//! Eligibility: who may receive a call at an instant, every reason
//! why not, and when each reason lifts.
//!
//! A target is eligible iff it is not paused, open by its hours, below every
//! cap of its own, and every group containing it is open and below its caps.
//! Usage includes the units held by live reservations (see [`crate::counters`]).
//! Reasons come owner by owner (the target, then its groups in config order),
//! each in [`ReasonCode`] order.
//!
//! A simultaneous group candidate is eligible iff the group itself is open
//! and below its caps and at least one member is eligible, members being
//! judged on their own reasons and their *other* containing groups.
//! `eligible_members` is filled whatever the group's own verdict.
//!
//! # One implementation
//!
//! Every verdict is built by one reason builder: the rules above (paused,
//! containing groups, a group as a candidate) are written once, over a
//! source of each owner's own reasons. Two sources exist and differ only in
//! how they read the clock: [`Checker`] caches per zone and per owner (what
//! [`check`] and [`check_candidates`] use on a config of some size, so a
//! one-shot check is the fast path run once), and a direct one that
//! computes one owner's facts from its zone (what the lifecycle's re-check
//! of a single target and small configs use, where building caches for
//! every owner would cost more than it saves).

mod caller_reasons;
mod checker;

use crate::callers::{CallerHistory, CallerView};
use crate::caps::{ConcurrencyMatrix, Limits, Period};
use crate::counters::{Counters, Ledger};
use crate::filter::{CallAttrs, CallBuffers, PreparedCall};
use crate::hours::WeeklyHours;
use crate::model::{CandidateRef, CompiledFilters, Config};
use crate::money::Money;
use crate::zone::Instant;

pub use caller_reasons::original_report;
pub use checker::Checker;
pub(crate) use checker::Refusals;

/// Why a candidate is not eligible. Stable strings via [`ReasonCode::as_str`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReasonCode {
    /// Paused (Retreaver) / not enabled (Ringba).
    Paused,
    /// Outside business hours.
    Closed,
    /// Hourly count cap reached.
    HourlyCap,
    /// Daily count cap reached.
    DailyCap,
    /// Monthly count cap reached.
    MonthlyCap,
    /// Total (hard) count cap reached.
    TotalCap,
    /// Hourly revenue cap reached.
    HourlyRevenueCap,
    /// Daily revenue cap reached.
    DailyRevenueCap,
    /// Monthly revenue cap reached.
    MonthlyRevenueCap,
    /// Total revenue cap reached.
    TotalRevenueCap,
    /// Live calls at the concurrency limit.
    ConcurrencyCap,
    /// A simultaneous group with no eligible member.
    NoEligibleMember,
    /// The owner's filter does not match the call's attributes.
    FilterMismatch,
    /// The target took this caller within its `duplicates` window.
    DuplicateCaller,
    /// `repeat_callers: different`: the caller connected here within the window.
    RepeatCaller,
}

impl ReasonCode {
    /// The stable code string (without any `group_` prefix).
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::Paused => "paused",
            ReasonCode::Closed => "closed",
            ReasonCode::HourlyCap => "hourly_cap",
            ReasonCode::DailyCap => "daily_cap",
            ReasonCode::MonthlyCap => "monthly_cap",
            ReasonCode::TotalCap => "total_cap",
            ReasonCode::HourlyRevenueCap => "hourly_revenue_cap",
            ReasonCode::DailyRevenueCap => "daily_revenue_cap",
            ReasonCode::MonthlyRevenueCap => "monthly_revenue_cap",
            ReasonCode::TotalRevenueCap => "total_revenue_cap",
            ReasonCode::ConcurrencyCap => "concurrency_cap",
            ReasonCode::NoEligibleMember => "no_eligible_member",
            ReasonCode::FilterMismatch => "filter_mismatch",
            ReasonCode::DuplicateCaller => "duplicate_caller",
            ReasonCode::RepeatCaller => "repeat_caller",
        }
    }

    /// Whether the reason depends on the call (its attributes or its
    /// caller's history) rather than on the candidate's state alone.
    pub fn is_call_dependent(self) -> bool {
        matches!(
            self,
            ReasonCode::FilterMismatch | ReasonCode::DuplicateCaller | ReasonCode::RepeatCaller
        )
    }
}

/// A count or an amount of money, as reported in `used` / `limit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Amount {
    /// A number of calls.
    Count(u64),
    /// Revenue.
    Money(Money),
}

/// One reason a candidate is not eligible.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    /// What failed.
    pub code: ReasonCode,
    /// `Some(g)` when the failing owner is containing group `g` (index into
    /// `Config::groups`); the printed code then gets a `group_` prefix.
    pub group: Option<usize>,
    /// Usage in the current window, for caps.
    pub used: Option<Amount>,
    /// The limit, for caps.
    pub limit: Option<Amount>,
    /// When the reason lifts, where knowable: next opening for `closed`,
    /// window end for periodic caps; `None` for total caps, concurrency,
    /// `paused`, and hours that never open.
    pub until: Option<Instant>,
    /// For a call-dependent reason (`filter_mismatch`): which condition
    /// failed and what the call had, for people.
    pub detail: Option<String>,
}

impl Reason {
    /// The printed code: `daily_cap`, or `group_daily_cap` for a containing group.
    pub fn code_string(&self) -> String {
        match self.group {
            Some(_) if self.code != ReasonCode::NoEligibleMember => {
                format!("group_{}", self.code.as_str())
            }
            _ => self.code.as_str().to_string(),
        }
    }
}

/// The verdict on one candidate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CandidateReport {
    /// The candidate judged.
    pub candidate: CandidateRef,
    /// Eligible now.
    pub eligible: bool,
    /// Every reason it is not (empty when eligible).
    pub reasons: Vec<Reason>,
    /// For a simultaneous group: its eligible members (target indices), in
    /// config order. Empty for targets.
    pub eligible_members: Vec<usize>,
}

impl CandidateReport {
    /// Whether this candidate is a step of a route plan: eligible, and for
    /// a simultaneous group with at least one eligible member to ring.
    pub fn is_routable(&self) -> bool {
        self.eligible
            && match self.candidate {
                CandidateRef::Target(_) => true,
                CandidateRef::Group(_) => !self.eligible_members.is_empty(),
            }
    }
}

/// Eligibility of the config's default candidates at `at`: the fast path
/// ([`Checker`]) run once, or for a small config the same reason builder
/// reading each zone directly. `state` is the
/// counters: a [`Ledger`], or the lifecycle's `State`, which reads as one.
pub fn check(config: &Config, state: &Ledger, at: Instant) -> Vec<CandidateReport> {
    once(config, state, at, None, &Call::none(config))
}

/// [`check`] for a call with attributes: filters judge `attrs`.
pub fn check_call(
    config: &Config,
    state: &Ledger,
    at: Instant,
    attrs: &CallAttrs,
) -> Vec<CandidateReport> {
    once(config, state, at, None, &Call::new(config, attrs))
}

/// [`check_call`] (`cands` `None`: the default candidates) or
/// [`check_candidates_call`] that also judges the caller's `history`:
/// targets' `duplicates` and the call's `repeat_callers: different` rule
/// (see [`crate::callers`]).
pub fn check_seen(
    config: &Config,
    state: &Ledger,
    at: Instant,
    cands: Option<&[CandidateRef]>,
    attrs: &CallAttrs,
    history: &CallerHistory,
) -> Vec<CandidateReport> {
    once(
        config,
        state,
        at,
        cands,
        &Call::seen(config, attrs, history, at, &mut CallBuffers::default()),
    )
}

/// Eligibility of the given candidates at `at`, in their order. Indices
/// outside the config are skipped.
pub fn check_candidates(
    config: &Config,
    state: &Ledger,
    at: Instant,
    cands: &[CandidateRef],
) -> Vec<CandidateReport> {
    once(config, state, at, Some(cands), &Call::none(config))
}

/// [`check_candidates`] for a call with attributes.
pub fn check_candidates_call(
    config: &Config,
    state: &Ledger,
    at: Instant,
    cands: &[CandidateRef],
    attrs: &CallAttrs,
) -> Vec<CandidateReport> {
    once(config, state, at, Some(cands), &Call::new(config, attrs))
}

/// One decision with a fresh [`Checker`], handed over as owned reports
/// (`cands` `None`: the default candidates).
fn once(
    config: &Config,
    ledger: &Ledger,
    at: Instant,
    cands: Option<&[CandidateRef]>,
    call: &Call<'_>,
) -> Vec<CandidateReport> {
    Checker::once(config, ledger, at, cands, call)
}

/// The report of one candidate; `None` for an index outside the config.
pub fn candidate_report(
    config: &Config,
    state: &Ledger,
    at: Instant,
    candidate: CandidateRef,
) -> Option<CandidateReport> {
    once(config, state, at, Some(&[candidate]), &Call::none(config)).pop()
}

/// Append to `out` every reason target `t` is not eligible at `at`: its own,
/// then those of each containing group (with `group: Some(g)`). Nothing is
/// appended when it is eligible (or when `t` is not in the config).
pub fn target_reasons(
    config: &Config,
    state: &Ledger,
    t: usize,
    at: Instant,
    out: &mut Vec<Reason>,
) {
    target_reasons_call(config, state, t, at, &CallAttrs::new(), out);
}

/// [`target_reasons`] for a call with attributes (the re-check of a connect).
pub fn target_reasons_call(
    config: &Config,
    state: &Ledger,
    t: usize,
    at: Instant,
    attrs: &CallAttrs,
    out: &mut Vec<Reason>,
) {
    let mut call = Call::new(config, attrs);
    call.details = true;
    Checker::target_reasons(config, state, at, &call, t, out);
}

/// [`target_reasons_call`] that also judges the caller's `history` (the
/// re-check of a connect).
pub fn target_reasons_seen(
    config: &Config,
    state: &Ledger,
    t: usize,
    at: Instant,
    attrs: &CallAttrs,
    history: &CallerHistory,
    out: &mut Vec<Reason>,
) {
    let mut call = Call::seen(config, attrs, history, at, &mut CallBuffers::default());
    call.details = true;
    Checker::target_reasons(config, state, at, &call, t, out);
}

/// Reasons target `t` is not eligible by its own state and its groups'
/// (pause, hours, caps), whatever the call: how a campaign's fallback is
/// judged, since filters and caller rules do not apply to it.
pub fn target_state_reasons(
    config: &Config,
    state: &Ledger,
    t: usize,
    at: Instant,
    out: &mut Vec<Reason>,
) {
    let call = Call {
        filters: config.filters(),
        prepared: None,
        caller: None,
        caller_rules: false,
        details: false,
    };
    Checker::target_reasons(config, state, at, &call, t, out);
}

/// `filter_mismatch` (with its detail) when campaign `c`'s filter rejects
/// the call; `None` when it takes it (or `c` is not in the config).
pub fn campaign_reason(config: &Config, c: usize, attrs: &CallAttrs) -> Option<Reason> {
    let filters = config.filters();
    let compiled = filters.campaigns.get(c)?.as_ref()?;
    let call = filters.table.prepare(attrs);
    let detail = compiled.matches(&call).err()?.detail();
    Some(Reason {
        detail: Some(detail),
        ..bare(ReasonCode::FilterMismatch, None)
    })
}

/// Writes the `detail` of filter reasons for one call. Decisions over many
/// candidates leave `detail` empty (formatting hundreds of them would cost
/// more than the decision); views that show reasons ask this instead.
pub struct Explainer<'a> {
    call: Call<'a>,
}

impl<'a> Explainer<'a> {
    /// Details for `attrs` judged by `config`'s filters.
    pub fn new(config: &'a Config, attrs: &CallAttrs) -> Self {
        Explainer {
            call: Call::new(config, attrs),
        }
    }

    /// The detail of `reason`, given in a report on `candidate`: its own
    /// when set, else for `filter_mismatch` the failed condition of the
    /// owner's filter (the containing group's when the reason names one).
    pub fn detail(&self, candidate: CandidateRef, reason: &Reason) -> Option<String> {
        if reason.detail.is_some() || reason.code != ReasonCode::FilterMismatch {
            return reason.detail.clone();
        }
        let owner = reason.group.map_or(candidate, CandidateRef::Group);
        self.call.mismatch(owner)
    }
}

/// The call a decision is about, prepared once for the config's filters
/// (not at all when the config has none).
pub(crate) struct Call<'a> {
    filters: &'a CompiledFilters,
    prepared: Option<PreparedCall<'a>>,
    /// The caller's history, when some caller rule can match.
    caller: Option<CallerView<'a>>,
    /// The config has caller rules: reasons kept from another call's
    /// decision may hold that caller's, so they are judged again.
    caller_rules: bool,
    /// Write each filter reason's `detail` (one target's re-check).
    details: bool,
}

impl<'a> Call<'a> {
    /// `attrs` prepared for `config`'s filters.
    pub(crate) fn new(config: &'a Config, attrs: &CallAttrs) -> Self {
        Call::with_buffers(config, attrs, &mut CallBuffers::default())
    }

    /// [`Call::new`] in the buffers of an earlier call, taken from
    /// `buffers` only when the config has filters (given back by
    /// [`Call::keep_buffers`]): no allocation once they are large enough,
    /// and nothing moved for a config without filters. Every target's own
    /// filter is judged here, all at once.
    #[inline]
    pub(crate) fn with_buffers(
        config: &'a Config,
        attrs: &CallAttrs,
        buffers: &mut CallBuffers,
    ) -> Self {
        let filters = config.filters();
        // each arm builds its value in place: a call without filters
        // copies no 200-byte `None` per decision
        let caller_rules = config.caller_window() > 0;
        if !filters.any {
            return Call {
                filters,
                prepared: None,
                caller: None,
                caller_rules,
                details: false,
            };
        }
        let mut prepared = filters.table.prepare_with(attrs, core::mem::take(buffers));
        filters.target_rows.refuse(&mut prepared);
        Call {
            filters,
            prepared: Some(prepared),
            caller: None,
            caller_rules,
            details: false,
        }
    }

    /// Give the buffers taken by [`Call::with_buffers`] back to `into`,
    /// for the next call (none taken when the config has no filters).
    #[inline]
    pub(crate) fn keep_buffers(self, into: &mut CallBuffers) {
        if let Some(p) = self.prepared {
            *into = p.into_buffers();
        }
    }

    /// The targets refused by their own filter, 64 a word (empty: none).
    pub(crate) fn refused_bits(&self) -> &[u64] {
        self.prepared.as_ref().map_or(&[], |p| p.refused_bits())
    }

    /// [`Call::new`] judged against the caller's `history` at `at`.
    pub(crate) fn seen(
        config: &'a Config,
        attrs: &'a CallAttrs,
        history: &'a CallerHistory,
        at: Instant,
        buffers: &mut CallBuffers,
    ) -> Self {
        Call {
            caller: CallerView::new(config, history, attrs, at),
            ..Call::with_buffers(config, attrs, buffers)
        }
    }

    /// A call without attributes (no tags, unknown caller).
    pub(crate) fn none(config: &'a Config) -> Self {
        Call::new(config, &CallAttrs::new())
    }

    /// Whether some reason may depend on the call.
    pub(crate) fn active(&self) -> bool {
        self.prepared.is_some() || self.caller_rules
    }

    /// Whether the only call-dependent reason an ungrouped target can have
    /// is its own filter's (no caller rules, no details written): a kept
    /// report then needs only that one reason set or cleared.
    pub(crate) fn filters_only(&self) -> bool {
        self.prepared.is_some() && self.caller.is_none() && !self.caller_rules && !self.details
    }

    /// Whether target `t`'s own filter refuses the call (`false`: no
    /// filter, or it matches).
    #[inline]
    pub(crate) fn refuses(&self, t: usize) -> bool {
        self.prepared.as_ref().is_some_and(|call| call.refused(t))
    }

    /// Whether a report of ungrouped target `t` kept from another call
    /// (with `reasons`) must be judged again for this one: always with
    /// filters; with caller rules only when it holds a call-dependent
    /// reason or this caller's history names `t`.
    pub(crate) fn rejudge(&self, t: usize, reasons: &[Reason]) -> bool {
        self.prepared.is_some()
            || (self.caller_rules
                && (self.caller.as_ref().is_some_and(|c| c.knows(t))
                    || reasons.iter().any(|r| r.code.is_call_dependent())))
    }

    /// The detail of `owner`'s filter rejecting the call; `None` when it
    /// has no filter or the filter matches.
    fn mismatch(&self, owner: CandidateRef) -> Option<String> {
        let call = self.prepared.as_ref()?;
        let compiled = match owner {
            CandidateRef::Target(t) => self.filters.targets.get(t),
            CandidateRef::Group(g) => self.filters.groups.get(g),
        };
        compiled?.as_ref()?.matches(call).err().map(|m| m.detail())
    }

    /// Append `filter_mismatch` when `owner`'s filter rejects the call,
    /// tagged with `group` (a containing group's reason).
    fn filter(&self, owner: CandidateRef, group: Option<usize>, out: &mut Vec<Reason>) {
        let Some(call) = &self.prepared else {
            return;
        };
        let compiled = match owner {
            CandidateRef::Target(t) => self.filters.targets.get(t),
            CandidateRef::Group(g) => self.filters.groups.get(g),
        };
        if let Some(Some(f)) = compiled {
            let refused = match owner {
                CandidateRef::Target(t) => call.refused(t),
                CandidateRef::Group(_) => !f.is_match(call),
            };
            // the mismatch itself is only built when its detail is wanted
            if refused {
                let detail = if self.details {
                    f.matches(call).err().map(|m| m.detail())
                } else {
                    None
                };
                out.push(Reason {
                    detail,
                    ..bare(ReasonCode::FilterMismatch, group)
                });
            }
        }
    }

    /// Append the call-dependent reasons of target `t`: its filter's, then
    /// those of its containing groups other than `skip`.
    fn target(&self, ledger: &Ledger, t: usize, skip: Option<usize>, out: &mut Vec<Reason>) {
        if !self.active() {
            return;
        }
        self.filter(CandidateRef::Target(t), None, out);
        for &g in ledger.groups_of(t) {
            if Some(g) != skip {
                self.filter(CandidateRef::Group(g), Some(g), out);
            }
        }
        if let Some(caller) = &self.caller {
            caller.reasons(t, out);
        }
    }
}

/// A reason with no amounts and no end.
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

/// Where the reason builder gets each owner's own reasons from.
trait Judge {
    /// Whether target `t` is paused.
    fn paused(&self, t: usize) -> bool;
    /// Append the reasons of `owner` itself (hours and caps; not `paused`,
    /// not its groups'), tagged with the group for a group. Returns until
    /// when (Unix seconds, exclusive) they stay the same while the owner's
    /// counters do; `i64::MIN` when the source does not know.
    fn own(&mut self, owner: CandidateRef, out: &mut Vec<Reason>) -> i64;
}

/// Reasons of target `t`: `paused`, its own, then those of its containing
/// groups other than `skip`, then the call-dependent ones (filters).
/// Returns the [`Judge::own`] bound of its own.
fn target_into<J: Judge>(
    judge: &mut J,
    config: &Config,
    ledger: &Ledger,
    call: &Call<'_>,
    t: usize,
    skip: Option<usize>,
    out: &mut Vec<Reason>,
) -> i64 {
    if t >= config.targets.len() {
        return i64::MIN;
    }
    if judge.paused(t) {
        out.push(bare(ReasonCode::Paused, None));
    }
    let until = judge.own(CandidateRef::Target(t), out);
    for &g in ledger.groups_of(t) {
        if Some(g) != skip {
            judge.own(CandidateRef::Group(g), out);
        }
    }
    call.target(ledger, t, skip, out);
    until
}

/// Fill `rep` with the verdict on `candidate` (an index in the config).
/// A group as the candidate: its own reasons carry no group tag, and its
/// members are judged on their own reasons and their *other* groups.
/// Returns, for a target, the [`Judge::own`] bound of its own reasons.
fn fill_report<J: Judge>(
    judge: &mut J,
    config: &Config,
    ledger: &Ledger,
    call: &Call<'_>,
    candidate: CandidateRef,
    rep: &mut CandidateReport,
    scratch: &mut Vec<Reason>,
) -> i64 {
    rep.candidate = candidate;
    rep.reasons.clear();
    rep.eligible_members.clear();
    let mut until = i64::MIN;
    match candidate {
        CandidateRef::Target(t) => {
            until = target_into(judge, config, ledger, call, t, None, &mut rep.reasons);
        }
        CandidateRef::Group(g) => {
            judge.own(candidate, &mut rep.reasons);
            for r in &mut rep.reasons {
                r.group = None;
            }
            call.filter(candidate, None, &mut rep.reasons);
            let members = config.groups.get(g).map_or(&[][..], |g| &g.members[..]);
            for &m in members {
                scratch.clear();
                target_into(judge, config, ledger, call, m, Some(g), scratch);
                if scratch.is_empty() && m < config.targets.len() {
                    rep.eligible_members.push(m);
                }
            }
            if rep.eligible_members.is_empty() {
                rep.reasons.push(bare(ReasonCode::NoEligibleMember, None));
            }
        }
    }
    rep.eligible = rep.reasons.is_empty();
    until
}

/// The time-dependent facts eligibility needs about one owner at the
/// decision instant. [`ZoneClock`] computes them from the zone on demand;
/// the [`Checker`]'s clock reads them from per-zone caches.
trait Clock {
    /// Whether `hours` are open at the instant.
    fn is_open(&self, hours: &WeeklyHours) -> bool;
    /// When `hours`, closed at the instant, open next.
    fn next_open(&mut self, hours: &WeeklyHours) -> Option<Instant>;
    /// The window of `Period::ALL[i]` containing the instant: its start
    /// (Unix seconds, the counter key) and its end.
    fn window(&mut self, i: usize) -> (i64, Instant);
    /// Local (weekday from Sunday, hour) at the instant.
    fn weekday_hour(&self) -> (u32, u32);
}

/// An owner's [`Limits`] in 80 bytes: what eligibility reads per owner per
/// decision, kept compact so that the [`Checker`] can store it contiguously.
#[derive(Clone, Copy, Debug)]
struct Caps {
    /// Bit `i` set: `counts[i]` is a limit (0..4), `revenue[i - 4]` (4..8),
    /// `concurrency` (8).
    set: u16,
    /// Hourly, daily, monthly, total call counts.
    counts: [u64; 4],
    /// Hourly, daily, monthly, total revenue.
    revenue: [Money; 4],
    concurrency: u64,
}

impl Caps {
    fn of(l: &Limits) -> Self {
        let mut caps = Caps {
            set: 0,
            counts: [0; 4],
            revenue: [Money::ZERO; 4],
            concurrency: 0,
        };
        let counts = [l.hourly, l.daily, l.monthly, l.total];
        let revenue = [
            l.hourly_revenue,
            l.daily_revenue,
            l.monthly_revenue,
            l.total_revenue,
        ];
        for (i, c) in counts.into_iter().enumerate() {
            if let Some(c) = c {
                caps.set |= 1 << i;
                caps.counts[i] = c;
            }
        }
        for (i, r) in revenue.into_iter().enumerate() {
            if let Some(r) = r {
                caps.set |= 1 << (4 + i);
                caps.revenue[i] = r;
            }
        }
        if let Some(c) = l.concurrency {
            caps.set |= 1 << 8;
            caps.concurrency = c;
        }
        caps
    }

    /// Count limit `i`: hourly, daily, monthly, total.
    #[inline]
    fn count(&self, i: usize) -> Option<u64> {
        (self.set & (1 << i) != 0).then(|| self.counts[i])
    }

    /// Revenue limit `i`: hourly, daily, monthly, total.
    #[inline]
    fn revenue(&self, i: usize) -> Option<Money> {
        (self.set & (1 << (4 + i)) != 0).then(|| self.revenue[i])
    }

    #[inline]
    fn concurrency(&self) -> Option<u64> {
        (self.set & (1 << 8) != 0).then_some(self.concurrency)
    }
}

/// What eligibility needs to know about one target or group.
struct Owner<'a> {
    hours: Option<&'a WeeklyHours>,
    caps: &'a Caps,
    matrix: Option<&'a ConcurrencyMatrix>,
    counters: &'a Counters,
    /// Units held by live reservations.
    held: u64,
    /// Live calls at the instant (leases and imported calls that hold).
    live: u64,
    group: Option<usize>,
}

const COUNT_CODES: [ReasonCode; 3] = [
    ReasonCode::HourlyCap,
    ReasonCode::DailyCap,
    ReasonCode::MonthlyCap,
];
const REVENUE_CODES: [ReasonCode; 3] = [
    ReasonCode::HourlyRevenueCap,
    ReasonCode::DailyRevenueCap,
    ReasonCode::MonthlyRevenueCap,
];

impl Owner<'_> {
    fn reason(
        &self,
        code: ReasonCode,
        used: Amount,
        limit: Amount,
        until: Option<Instant>,
    ) -> Reason {
        Reason {
            code,
            group: self.group,
            used: Some(used),
            limit: Some(limit),
            until,
            detail: None,
        }
    }

    fn reasons<C: Clock>(&self, clock: &mut C, out: &mut Vec<Reason>) {
        if let Some(h) = self.hours {
            if !clock.is_open(h) {
                out.push(Reason {
                    code: ReasonCode::Closed,
                    group: self.group,
                    used: None,
                    limit: None,
                    until: clock.next_open(h),
                    detail: None,
                });
            }
        }
        let c = self.counters;
        for (i, p) in Period::ALL.into_iter().enumerate() {
            if let Some(lim) = self.caps.count(i) {
                let (start, end) = clock.window(i);
                let used = c.count_in(p, start).saturating_add(self.held);
                if used >= lim {
                    out.push(self.reason(
                        COUNT_CODES[i],
                        Amount::Count(used),
                        Amount::Count(lim),
                        Some(end),
                    ));
                }
            }
        }
        if let Some(lim) = self.caps.count(3) {
            let used = c.total().saturating_add(self.held);
            if used >= lim {
                out.push(self.reason(
                    ReasonCode::TotalCap,
                    Amount::Count(used),
                    Amount::Count(lim),
                    None,
                ));
            }
        }
        for (i, p) in Period::ALL.into_iter().enumerate() {
            if let Some(lim) = self.caps.revenue(i) {
                let (start, end) = clock.window(i);
                let used = c.revenue_in(p, start);
                if used >= lim {
                    out.push(self.reason(
                        REVENUE_CODES[i],
                        Amount::Money(used),
                        Amount::Money(lim),
                        Some(end),
                    ));
                }
            }
        }
        if let Some(lim) = self.caps.revenue(3) {
            let used = c.total_revenue();
            if used >= lim {
                out.push(self.reason(
                    ReasonCode::TotalRevenueCap,
                    Amount::Money(used),
                    Amount::Money(lim),
                    None,
                ));
            }
        }
        let concurrency = match self.matrix {
            Some(m) => {
                let (day, hour) = clock.weekday_hour();
                m.limit(day, hour)
            }
            None => self.caps.concurrency(),
        };
        if let Some(lim) = concurrency {
            let used = self.live.saturating_add(self.held);
            if used >= lim {
                out.push(self.reason(
                    ReasonCode::ConcurrencyCap,
                    Amount::Count(used),
                    Amount::Count(lim),
                    None,
                ));
            }
        }
    }
}
