//! [`Checker`]: eligibility for a service that decides call after call on
//! one config, and, run once, for every one-shot check.
//!
//! What makes it fast, without changing any answer:
//! - **One clock per distinct zone.** Targets share a few dozen zones at
//!   most; each zone's offset span and its hour/day/month windows are
//!   cached with the range of instants they hold for, and the local
//!   weekday and minute are computed once per zone per decision.
//! - **Hours are judged per (schedule, zone) pair.** Whether hours are
//!   open, until when, and when closed hours reopen depend on the schedule,
//!   the zone and the instant alone, so owners sharing both share one
//!   memo ([`Pair`](hours_memo::Pair)). If hours closed at `t` next open at `v`, they next
//!   open at `v` from every instant in `[t, v)` too, so `until` of a
//!   `closed` reason is computed once per closed stretch and pair.
//! - **Hot data is compact.** Interned hours, zone, pair and route key of
//!   every owner sit in one array, the caps only of owners the general
//!   path reads every decision; the config's `Target` is larger and
//!   scattered.
//! - **Reports are kept.** A target's report is reused from the previous
//!   decision while its counters keep their stamp (see [`crate::counters`]) and the
//!   instant has not crossed the next boundary its reasons read: the end of
//!   a window of a set cap, the next open/close minute of today's hours, the
//!   end of the offset span, or the local hour for a concurrency matrix,
//!   and before any lease or its imported live calls can run out
//!   ([`Ledger::lease_bound`]). Targets in groups, and reservation
//!   holders, are always re-evaluated.
//! - **Simple targets are decided before any reason is built.** A target
//!   in no group and without a concurrency matrix is judged from its zone's
//!   cached windows and its hours memo; with no cap reached its report is
//!   a [`Plain`](quick::Plain) value (paused? closed until when?), written only when it
//!   differs from what the report holds.
//! - **Cold decisions are one verdict pass.** For a call without
//!   attributes, every target whose kept report lapsed is judged from its
//!   48-byte [`Quick`](quick::Quick) record, its zone's prepared window starts and its
//!   counters read in one go, in step over the arrays; a report is written
//!   only when its verdict changed. A report at a cap stands while the
//!   same caps are reached with the same use ([`same_caps`](quick::same_caps)), even after
//!   its counters were re-stamped.
//! - **Warm decisions are a scan.** Kept reports are skipped eight at a
//!   time ([`first_stale`](verdict_pass::first_stale)), once: the general path starts after the ones
//!   the verdict pass found kept. The route planner keeps its first tier
//!   while [`Checker::keys_version`] says the step keys did not change.
//! - **Filtered calls flip reasons, not keys.** Every target's own filter
//!   is judged at once for the call ([`crate::filter::FilterRows`]); a
//!   kept report whose verdict differs from the one it holds gets its
//!   `filter_mismatch` pushed or popped, and step keys leave that reason
//!   out ([`Checker::refusals`] tells the planner which to drop), so the
//!   planner's first tier stays.
//! - **Buffers are reused.** Reports and their reason lists keep their
//!   capacity between calls: in steady state a decision does not allocate.
//!
//! Every cache entry is keyed by the range of instants it is valid for, so
//! instants may come in any order (time going backwards only costs a
//! recomputation).

mod filter_pass;
mod general_path;
mod hours_memo;
mod one_target;
use one_target::ONE_SHOT_CACHES_FROM;
mod own_reasons;
mod owners;
mod quick;
mod rules;
mod step_keys;
mod verdict_pass;
mod written;
mod zone_clock;

use crate::caller_history::CallerHistory;
use crate::counters::{fresh_stamp, Ledger};
use crate::filter::{CallAttrs, CallBuffers};
use crate::model::{CandidateRef, Config};
use crate::zone::Instant;

use super::{CandidateReport, JudgedCall, Reason};
use general_path::Cands;
use owners::Caches;
pub(crate) use step_keys::Refusals;
use step_keys::StepKeys;
use written::{Memo, Written};
use zone_clock::NEVER;

/// A reusable eligibility checker for one [`Config`]: the reports of
/// [`check`](super::check) / [`check_candidates`](super::check_candidates),
/// equal field for field, from caches kept between calls and buffers it
/// owns. In steady state a call does not allocate.
///
/// Build one per config and keep it with that config (a checker handed a
/// config of another shape rebuilds itself; one of the same shape but other
/// zones would get wrong answers). Instants may come in any order.
#[derive(Clone, Debug, Default)]
pub struct Checker {
    caches: Caches,
    /// The config's default candidates after the first `identity` (see
    /// [`Cands`](general_path::Cands)).
    candidates: Vec<CandidateRef>,
    /// Reports; only the first `len` belong to the last call, the others
    /// are kept for their buffers.
    reports: Vec<CandidateReport>,
    len: usize,
    /// Route step key of each report (see [`Checker::step_keys`]).
    keys: StepKeys,
    /// One per report of the default candidates (see [`Memo`](written::Memo)).
    memo: Vec<Memo>,
    /// Per report: what it holds when it is a [`Plain`](quick::Plain) report of an
    /// ungrouped target for a call without filter reasons (with its step
    /// key), so that an unchanged verdict is not written again.
    written: Vec<Written>,
    /// Bit per report: it holds its target's own `filter_mismatch` (last
    /// of its reasons when kept), so a kept report's reasons are not read
    /// to find out.
    held: Vec<u64>,
    /// Reports `0..refused_upto` are of targets `0, 1, …` and their step
    /// keys leave out their target's own filter (see [`Checker::refusals`]).
    refused_upto: usize,
    /// How many of them have a step key and are refused by that filter.
    refused_keyed: usize,
    scratch: Vec<Reason>,
    /// The prepared call's buffers, kept between decisions.
    buffers: CallBuffers,
    groups: usize,
    /// Changes whenever some step key or the number of reports does (see
    /// [`Checker::keys_version`]).
    keys_version: u64,
    /// How many of the default candidates are targets `0, 1, …` in order
    /// (every one, in a config without groups).
    identity: usize,
    /// The latest instant decided (Unix seconds): memos are valid from
    /// the instant they were made, so time going back before it forgets
    /// them all.
    latest: i64,
}

impl Checker {
    /// A checker for `config`.
    pub fn new(config: &Config) -> Self {
        Checker::with_caches(config, true)
    }

    /// A checker for `config`, its caches with verdict records or not
    /// (see [`Caches::new`]).
    fn with_caches(config: &Config, records: bool) -> Self {
        let mut candidates = config.default_candidates();
        let identity = (candidates.iter().enumerate())
            .take_while(|&(i, c)| *c == CandidateRef::Target(i))
            .count();
        candidates.drain(..identity);
        candidates.shrink_to_fit();
        Checker {
            caches: Caches::new(config, records),
            candidates,
            reports: Vec::new(),
            len: 0,
            keys: StepKeys::default(),
            memo: Vec::new(),
            written: Vec::new(),
            held: Vec::new(),
            refused_upto: 0,
            refused_keyed: 0,
            scratch: Vec::new(),
            buffers: CallBuffers::default(),
            groups: config.groups.len(),
            keys_version: fresh_stamp(),
            identity,
            latest: NEVER,
        }
    }

    /// Eligibility of the config's default candidates at `at`, as
    /// [`check`](super::check).
    pub fn check(&mut self, config: &Config, state: &Ledger, at: Instant) -> &[CandidateReport] {
        self.check_call(config, state, at, &CallAttrs::new())
    }

    /// [`Checker::check`] for a call with attributes, as
    /// [`check_call`](super::check_call).
    pub fn check_call(
        &mut self,
        config: &Config,
        state: &Ledger,
        at: Instant,
        attrs: &CallAttrs,
    ) -> &[CandidateReport] {
        self.fit(config);
        let rest = core::mem::take(&mut self.candidates);
        let call = JudgedCall::with_buffers(config, attrs, &mut self.buffers);
        let cands = Cands::of(self.identity, &rest);
        self.run(config, state, at, cands, true, &call);
        call.keep_buffers(&mut self.buffers);
        self.candidates = rest;
        self.reports()
    }

    /// Eligibility of `cands` (`None`: the default candidates) for a call
    /// judged against its caller's `history`, as [`check_seen`](super::check_seen).
    pub fn check_seen(
        &mut self,
        config: &Config,
        state: &Ledger,
        at: Instant,
        cands: Option<&[CandidateRef]>,
        attrs: &CallAttrs,
        history: &CallerHistory,
    ) -> &[CandidateReport] {
        self.fit(config);
        let call = JudgedCall::seen(config, attrs, history, at, &mut self.buffers);
        match cands {
            None => {
                let rest = core::mem::take(&mut self.candidates);
                self.run(
                    config,
                    state,
                    at,
                    Cands::of(self.identity, &rest),
                    true,
                    &call,
                );
                self.candidates = rest;
            }
            Some(cands) => {
                self.forget();
                self.run(config, state, at, Cands::of(0, cands), false, &call);
            }
        }
        call.keep_buffers(&mut self.buffers);
        self.reports()
    }

    /// Eligibility of `cands` at `at`, as [`check_candidates`](super::check_candidates)
    /// (indices outside the config are skipped).
    pub fn check_candidates(
        &mut self,
        config: &Config,
        state: &Ledger,
        at: Instant,
        cands: &[CandidateRef],
    ) -> &[CandidateReport] {
        self.check_candidates_call(config, state, at, cands, &CallAttrs::new())
    }

    /// [`Checker::check_candidates`] for a call with attributes.
    pub fn check_candidates_call(
        &mut self,
        config: &Config,
        state: &Ledger,
        at: Instant,
        cands: &[CandidateRef],
        attrs: &CallAttrs,
    ) -> &[CandidateReport] {
        self.fit(config);
        // reports are about to hold other candidates: forget what was kept
        self.forget();
        let call = JudgedCall::with_buffers(config, attrs, &mut self.buffers);
        self.run(config, state, at, Cands::of(0, cands), false, &call);
        call.keep_buffers(&mut self.buffers);
        self.reports()
    }

    /// One decision with a fresh checker, its reports handed over: the
    /// one-shot [`check`](super::check) (`cands` `None`: the default
    /// candidates) and [`check_candidates`](super::check_candidates).
    pub(crate) fn once(
        config: &Config,
        ledger: &Ledger,
        at: Instant,
        cands: Option<&[CandidateRef]>,
        call: &JudgedCall<'_>,
    ) -> Vec<CandidateReport> {
        if config.targets.len() + config.groups.len() < ONE_SHOT_CACHES_FROM {
            return Checker::once_uncached(config, ledger, at, cands, call);
        }
        // one decision: each target is read once, so no verdict records
        let mut checker = Checker::with_caches(config, false);
        let n = cands.map_or(checker.identity + checker.candidates.len(), <[_]>::len);
        checker.reports.reserve_exact(n);
        checker.keys.keys.reserve_exact(n);
        checker.written.reserve_exact(n);
        match cands {
            Some(cands) => checker.run(config, ledger, at, Cands::of(0, cands), false, call),
            None => {
                let rest = core::mem::take(&mut checker.candidates);
                let cands = Cands::of(checker.identity, &rest);
                checker.run(config, ledger, at, cands, false, call);
            }
        }
        let mut reports = checker.reports;
        reports.truncate(checker.len);
        reports
    }

    /// `(priority, weight)` of each report's route step if it is eligible:
    /// what the route planner would read from the config, kept in a
    /// compact array next to the reports.
    ///
    /// The keys of reports `0..upto` of [`Checker::refusals`] leave out
    /// their target's own filter: the plan drops those it refuses. A call
    /// then changes reasons but not keys, and the planner keeps its first
    /// tier.
    pub(crate) fn step_keys(&self) -> &[Option<(i32, u32)>] {
        self.keys.keys.get(..self.len).unwrap_or(&[])
    }

    /// Which reports the last call's own target filters refuse: bit `i`
    /// of `bits` for report `i < upto`, and how many of those have a step
    /// key.
    pub(crate) fn refusals(&self) -> Refusals<'_> {
        Refusals {
            bits: self.buffers.refused(),
            upto: self.refused_upto,
            keyed: self.refused_keyed,
        }
    }

    /// A value that changes whenever [`Checker::step_keys`] does, unique
    /// across checkers: a route planner keeps what it derived from the
    /// keys while it stays the same.
    pub(crate) fn keys_version(&self) -> u64 {
        self.keys_version
    }

    /// The reports of the last call.
    pub fn reports(&self) -> &[CandidateReport] {
        self.reports.get(..self.len).unwrap_or(&[])
    }

    /// Forget the reports kept between decisions, so that the next one
    /// evaluates every candidate (zone clocks and reopening times stay
    /// cached). For benchmarks and tests; answers never depend on it.
    pub fn forget(&mut self) {
        self.memo.iter_mut().for_each(|m| m.stamp = 0);
    }

    /// Rebuild for a config of another shape.
    fn fit(&mut self, config: &Config) {
        if self.caches.targets != config.targets.len() || self.groups != config.groups.len() {
            *self = Checker::new(config);
        }
    }
}
