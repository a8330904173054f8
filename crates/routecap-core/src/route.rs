//! Route order: the failover plan for one call, from the
//! eligibility reports of its candidates.
//!
//! 1. Ineligible candidates are dropped, so weights are renormalised over the
//!    eligible ones only: a capped target's share goes to the others of its
//!    tier in proportion to their weights.
//! 2. The rest are taken by `priority` ascending (negatives allowed). A
//!    simultaneous group is one step with [`Group::effective_priority`](crate::model::Group::effective_priority)
//!    and [`Group::effective_weight`](crate::model::Group::effective_weight).
//! 3. Within a tier: **sequential roulette without replacement**. Draw `r`
//!    uniformly in `0..W` ([`uniform_below`]), where `W` is the sum of the
//!    remaining positive weights laid out as cumulative intervals in report
//!    order; the item whose interval contains `r` is the next step; remove it
//!    and repeat. Weight-0 members follow every positive weight of their tier,
//!    drawn the same way as if each weighed 1 (uniform random order).
//!
//! Why sequential roulette: Retreaver documents the weight as "the cumulative
//! weight of the targets being considered is used to randomize their order".
//! Drawing over cumulative weights, removing the winner and drawing again over
//! what remains is the direct reading: the first step is `i` with probability
//! `w_i / W`, then `j` with `w_j / (W - w_i)`, and so on.
//!
//! # Determinism
//!
//! Same reports, same config and same seed give the same plan on every
//! platform: only integer arithmetic (`u64` cumulative weights, no floats, no
//! `ln`/`powf`), our own documented draw over `next_u64` (not `rand`'s
//! internals), a portable generator ([`RouteRng`]), and ties in a tier laid
//! out in the order of `reports` (config order). No hash-map iteration.
//!
//! # Complexity
//!
//! Starting a plan ([`Planner::lazy`]) scans the `n` reports once to find the
//! lowest priority, moves that tier into a Fenwick tree and heapifies the
//! remaining candidates: `O(n)`, no sort. Each step then costs `O(log k)` for
//! a tier of `k` (Fenwick search for the interval containing `r`, then set its
//! weight to 0). Entering a later tier of `k` candidates costs `O(k log n)`
//! heap pops plus an `O(k)` rebuild, so a whole plan is `O(n log n)` and a
//! caller taking the usual 1–5 steps pays `O(n + log n)`, never `O(n²)`.
//! [`Planner::work`] counts these elementary operations so tests can check the
//! bounds without timing. A reused [`Planner`] keeps its buffers: steady-state
//! planning does not allocate.
//!
//! [`Router`] plans from the step keys its checker keeps next to the reports
//! and collects the later tiers only when the plan reaches them, so the
//! usual 1–5 steps within the first tier cost two linear passes over a
//! 12-byte-per-report array and no heap building.
//!
//! Small cases skip the structures built for large ones, with the same
//! draws: a tier of at most 16 candidates is a flat list of weights
//! searched by a running sum rather than a Fenwick tree, and the later
//! tiers of at most 32 step keys are found by scanning the keys again for
//! each tier rather than through a heap (a campaign's usual handful of
//! buyers: 20 % off a 10-target decision natively).
//!
//! Defensive choices (the routing contract is silent): a report whose target or group index is
//! not in the config, or an "eligible" simultaneous group with no eligible
//! member, is skipped rather than panicking or dialling nobody.

mod draw;
mod fenwick;

use core::cmp::Reverse;
use core::num::NonZeroU64;
use std::collections::BinaryHeap;

use rand_core::{Rng, SeedableRng};

use crate::caller_history::CallerHistory;
use crate::counters::Ledger;
use crate::eligibility::{self, CandidateReport, Refusals};
use crate::filter::CallAttrs;
use crate::model::{CandidateRef, Config};
use crate::zone::Instant;

pub use draw::uniform_below;
use fenwick::Fenwick;

/// The route generator: ChaCha with 8 rounds, `chacha20`'s `ChaCha8Rng`.
/// Portable and value-stable across platforms and releases (unlike
/// `StdRng`), and fast; it shuffles a failover list, so the cryptographic
/// margin of ChaCha20 is not needed.
///
/// Its words are exactly those of `rand_chacha`'s `ChaCha8Rng`, which the
/// first releases used (the goldens and a proptest check it, seeds and
/// streams included): `chacha20` has plain 32-bit code where `rand_chacha`
/// emulates vectors, which made the generator a fifth of a small decision
/// in WebAssembly; natively both use AVX2.
pub type RouteRng = chacha20::ChaCha8Rng;

/// A [`RouteRng`] from a `u64` seed (`SeedableRng::seed_from_u64`, whose
/// PCG32 seed expansion `rand_core` documents as value-stable).
pub fn rng_from_seed(seed: u64) -> RouteRng {
    RouteRng::seed_from_u64(seed)
}

/// The random draws of route orders: a [`RouteRng`] stream and the seed it
/// started from, which route answers print so that any plan can be drawn
/// again. One call's route takes `Draws::new(seed)`; a replay keeps one
/// stream for all its calls (its answers print the replay's seed).
#[derive(Debug)]
pub struct Draws {
    seed: u64,
    rng: RouteRng,
}

impl Draws {
    /// The stream of `seed` (the same words as [`rng_from_seed`]).
    pub fn new(seed: u64) -> Draws {
        Draws {
            seed,
            rng: rng_from_seed(seed),
        }
    }

    /// The seed the stream started from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The generator, at its current position.
    pub fn rng(&mut self) -> &mut RouteRng {
        &mut self.rng
    }
}

/// One step of a route plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step<'r> {
    /// Ring one target (index into `Config::targets`).
    Target(usize),
    /// Ring every eligible member of a simultaneous group at once.
    Group {
        /// Index into `Config::groups`.
        group: usize,
        /// Its eligible members (target indices, config order), borrowed from
        /// the report so that a step never allocates.
        members: &'r [usize],
    },
}

/// An eligible candidate waiting for its tier: `(priority, report index,
/// weight)`, ordered by priority then report order.
type Pending = (i32, usize, u32);

/// Which draw the current tier is in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Phase {
    /// Drawing among positive weights.
    #[default]
    Positive,
    /// Drawing among the tier's weight-0 members, each counted as 1.
    Zero,
}

/// Reusable route planner: holds the buffers of one plan at a time, so that a
/// planner kept across calls does not allocate per decision.
#[derive(Debug, Default)]
pub struct Planner {
    /// Eligible candidates of later tiers (min-heap), built from `later`
    /// only when the plan gets past its first tier.
    rest: BinaryHeap<Reverse<Pending>>,
    /// Eligible candidates of later tiers, not heapified yet.
    later: Vec<Reverse<Pending>>,
    /// Later tiers are not collected yet: they are read from the plan's
    /// step keys when the first tier (`first`) runs out.
    deferred: bool,
    /// Priority of the first tier; while later tiers are found by a scan
    /// of the keys ([`SCANNED`]), of the tier drawn last.
    first: i32,
    /// Current draw: `(report index, weight)` in report order.
    active: Vec<(usize, u64)>,
    /// Weight-0 members of the current tier, report order.
    zeros: Vec<usize>,
    /// Cumulative weights of `active`.
    wheel: Fenwick,
    phase: Phase,
    /// Steps not yet drawn.
    remaining: usize,
    /// Elementary operations since the last [`Planner::lazy`].
    work: u64,
    /// Report index rung first, ahead of every tier (a repeat caller's
    /// original target), so left out of the draws.
    skip: Option<usize>,
    /// The first tier found by the last deferred pass over step keys, kept
    /// while the keys are the same (see [`FirstTier`]).
    tier: FirstTier,
}

/// What a deferred pass over `n` step keys of version `version` (see
/// `Checker::keys_version`) found: the first tier's positive-weight and
/// weight-0 members, how many keys are eligible and the tier's priority.
/// A decision whose keys did not change starts its plan from it instead
/// of reading every key again.
#[derive(Debug, Default)]
struct FirstTier {
    version: u64,
    n: usize,
    active: Vec<(usize, u64)>,
    zeros: Vec<usize>,
    eligible: usize,
    min: i32,
}

impl Planner {
    /// An empty planner.
    pub fn new() -> Self {
        Self::default()
    }

    /// Start a plan over `reports` (in candidate/config order); steps are
    /// drawn on demand from `rng`. Costs `O(n)`; see the module docs.
    pub fn lazy<'p, 'r, R: Rng + ?Sized>(
        &'p mut self,
        config: &Config,
        reports: &'r [CandidateReport],
        rng: &'p mut R,
    ) -> LazyPlan<'p, 'r, R> {
        self.lazy_first(config, reports, None, rng)
    }

    /// [`Planner::lazy`] with report `first` (when routable) rung first,
    /// ahead of every priority tier, and the others drawn as usual: a
    /// repeat caller's original target (see [`crate::caller_history`]).
    pub fn lazy_first<'p, 'r, R: Rng + ?Sized>(
        &'p mut self,
        config: &Config,
        reports: &'r [CandidateReport],
        first: Option<usize>,
        rng: &'p mut R,
    ) -> LazyPlan<'p, 'r, R> {
        let first = first.filter(|&i| {
            reports
                .get(i)
                .is_some_and(|r| report_key(config, r).is_some())
        });
        self.skip = first;
        self.start(config, reports);
        LazyPlan {
            planner: self,
            reports,
            keys: &[],
            refused: Refusals::NONE,
            rng,
            first,
            tail: None,
        }
    }

    /// Elementary operations (reports scanned, heap and Fenwick nodes
    /// touched) since the last [`Planner::lazy`]: a deterministic complexity
    /// probe for tests and benchmarks.
    pub fn work(&self) -> u64 {
        self.work
    }

    fn start(&mut self, config: &Config, reports: &[CandidateReport]) {
        self.start_keyed(
            reports.len(),
            |i| reports.get(i).and_then(|rep| report_key(config, rep)),
            None,
            Refusals::NONE,
        );
    }

    /// [`Planner::start`] over `n` reports whose step keys `key(i)` gives
    /// (the [`Router`] reads them from its compact copy, not the config).
    /// With `version` (of the keys, see [`FirstTier`]), later tiers are
    /// collected only if the plan reaches them, from the keys the
    /// [`LazyPlan`] carries, and the first tier is kept for the next plan.
    /// Reports `refused` are left out (with `version` only): the first
    /// tier kept is that of the keys, and a call's refusals are taken out
    /// of it, so a call that changes only refusals reads no key.
    fn start_keyed(
        &mut self,
        n: usize,
        key: impl Fn(usize) -> Option<(i32, u32)>,
        version: Option<u64>,
        refused: Refusals<'_>,
    ) {
        let defer = version.is_some();
        self.active.clear();
        self.zeros.clear();
        self.phase = Phase::Positive;
        self.work = n as u64;
        // buffers circulate between `rest` and `later`: no allocation
        let mut later = core::mem::take(&mut self.rest).into_vec();
        if later.capacity() < self.later.capacity() {
            later = core::mem::take(&mut self.later);
        }
        later.clear();
        // the first tier: kept from the last plan while the keys are the
        // same, else found in one pass (see `tier_pass`)
        let (mut eligible, mut min): (usize, i32);
        let kept = version.filter(|&v| v == self.tier.version && n == self.tier.n);
        // the call's refusals come out of the first tier (kept or found)
        let refusing = defer && refused.keyed > 0;
        let stays = |i: usize| !(refusing && refused.refused(i));
        if kept.is_some() {
            let tier = &self.tier;
            (self.active).extend(tier.active.iter().filter(|&&(i, _)| stays(i)));
            (self.zeros).extend(tier.zeros.iter().filter(|&&i| stays(i)));
            (eligible, min) = (tier.eligible, tier.min);
        } else {
            (eligible, min) = self.tier_pass(n, &key, Refusals::NONE, defer, &mut later);
            if let Some(v) = version {
                self.tier.active.clone_from(&self.active);
                self.tier.zeros.clone_from(&self.zeros);
                (self.tier.version, self.tier.n) = (v, n);
                (self.tier.eligible, self.tier.min) = (eligible, min);
            }
            if refusing {
                self.active.retain(|&(i, _)| stays(i));
                self.zeros.retain(|&i| stays(i));
            }
        }
        if refusing {
            eligible = eligible.saturating_sub(refused.keyed);
            if self.active.is_empty() && self.zeros.is_empty() && eligible > 0 {
                // the whole first tier is refused: the first of the rest
                (eligible, min) = self.tier_pass(n, &key, refused, defer, &mut later);
            }
        }
        self.remaining = eligible;
        if eligible > 0 {
            self.work += eligible as u64 + self.active.len() as u64;
            self.first = min;
        }
        // the report rung first takes no draw (removed here rather than
        // tested in the loops above: most plans have none)
        if let Some(s) = (self.skip).filter(|&s| key(s).is_some() && !refused.refused(s)) {
            eligible -= 1;
            self.remaining = eligible;
            self.active.retain(|&(i, _)| i != s);
            self.zeros.retain(|&i| i != s);
            later.retain(|&Reverse((_, i, _))| i != s);
        }
        self.deferred = defer && self.active.len() + self.zeros.len() < eligible;
        self.later = later;
        self.wheel.rebuild(self.active.iter().map(|&(_, w)| w));
    }

    /// One pass over the keys of `n` reports: the lowest tier goes
    /// straight into the wheel (report order kept; a lower one found later
    /// starts it over), the rest into `later` unless `defer` (heapified in
    /// O(n) when needed). Reports `dropped` are left out. Returns how
    /// many have a key and the lowest priority.
    fn tier_pass(
        &mut self,
        n: usize,
        key: &impl Fn(usize) -> Option<(i32, u32)>,
        dropped: Refusals<'_>,
        defer: bool,
        later: &mut Vec<Reverse<Pending>>,
    ) -> (usize, i32) {
        self.active.clear();
        self.zeros.clear();
        let (mut eligible, mut min) = (0usize, i32::MAX);
        for i in 0..n {
            let Some((p, w)) = key(i) else { continue };
            if dropped.refused(i) {
                continue;
            }
            eligible += 1;
            if p < min || eligible == 1 {
                if !defer {
                    let (active, zeros) = (&self.active, &self.zeros);
                    let tier = active
                        .iter()
                        .map(|&(j, w)| (j, w as u32))
                        .chain(zeros.iter().map(|&j| (j, 0)));
                    later.extend(tier.map(|(j, w)| Reverse((min, j, w))));
                }
                self.active.clear();
                self.zeros.clear();
                min = p;
            }
            if p == min && w > 0 {
                self.active.push((i, u64::from(w)));
            } else if p == min {
                self.zeros.push(i);
            } else if !defer {
                later.push(Reverse((p, i, w)));
            }
        }
        (eligible, min)
    }

    /// Next report index of the plan, or `None` when every eligible
    /// candidate has been drawn.
    fn next_index<R: Rng + ?Sized>(
        &mut self,
        rng: &mut R,
        keys: &[Option<(i32, u32)>],
        refused: Refusals<'_>,
    ) -> Option<usize> {
        loop {
            if let Some(total) = NonZeroU64::new(self.wheel.total()) {
                let r = uniform_below(rng, total);
                let (pos, found) = self.wheel.find(r);
                let &(index, w) = self.active.get(pos)?;
                self.work += found + self.wheel.sub(pos, w);
                self.remaining -= 1;
                return Some(index);
            }
            if self.phase == Phase::Positive && !self.zeros.is_empty() {
                self.phase = Phase::Zero;
                self.active.clear();
                self.active.extend(self.zeros.drain(..).map(|i| (i, 1)));
            } else if !self.next_tier(keys, refused) {
                return None;
            }
            self.work += self.active.len() as u64;
            self.wheel.rebuild(self.active.iter().map(|&(_, w)| w));
        }
    }

    /// Move the lowest remaining priority tier out of the heap; `false` when
    /// none is left.
    fn next_tier(&mut self, keys: &[Option<(i32, u32)>], refused: Refusals<'_>) -> bool {
        if self.deferred && keys.len() <= SCANNED {
            return self.next_tier_scanned(keys, refused);
        }
        if self.deferred {
            self.deferred = false;
            let (first, skip) = (self.first, self.skip);
            self.later
                .extend(keys.iter().enumerate().filter_map(|(i, k)| {
                    k.filter(|&(p, _)| p != first && Some(i) != skip && !refused.refused(i))
                        .map(|(p, w)| Reverse((p, i, w)))
                }));
        }
        if !self.later.is_empty() {
            self.rest = BinaryHeap::from(core::mem::take(&mut self.later));
        }
        self.active.clear();
        self.zeros.clear();
        self.phase = Phase::Positive;
        let Some(&Reverse((tier, _, _))) = self.rest.peek() else {
            return false;
        };
        let pop_cost = u64::from(usize::BITS - self.rest.len().leading_zeros());
        while let Some(&Reverse((p, i, w))) = self.rest.peek() {
            if p != tier {
                break;
            }
            self.rest.pop();
            self.work += pop_cost;
            if w > 0 {
                self.active.push((i, u64::from(w)));
            } else {
                self.zeros.push(i);
            }
        }
        true
    }
}

/// The most step keys whose later tiers are found by scanning the keys
/// again for each tier rather than through a heap: for a handful of
/// candidates one short pass costs less than building and popping a heap.
const SCANNED: usize = 32;

impl Planner {
    /// [`Planner::next_tier`] over at most [`SCANNED`] deferred keys: the
    /// first tier of the keys above the tier just drawn (`first`), found by
    /// [`Planner::tier_pass`] as the plan's first tier is, so its members
    /// come in report order, as the heap would give them.
    fn next_tier_scanned(&mut self, keys: &[Option<(i32, u32)>], refused: Refusals<'_>) -> bool {
        let (done, skip) = (self.first, self.skip);
        let later = |i: usize| {
            (keys.get(i).copied().flatten()).filter(|&(p, _)| p > done && Some(i) != skip)
        };
        self.work += keys.len() as u64;
        self.phase = Phase::Positive;
        // deferred: the pass leaves the later tiers alone (no allocation)
        let mut untouched = Vec::new();
        let (found, tier) = self.tier_pass(keys.len(), &later, refused, true, &mut untouched);
        if found == 0 {
            self.deferred = false;
            return false;
        }
        self.first = tier;
        true
    }
}

/// `(priority, weight)` of a report's step, `None` to drop it (not
/// routable, or outside the config).
fn report_key(config: &Config, rep: &CandidateReport) -> Option<(i32, u32)> {
    rep.is_routable()
        .then(|| config.step_key(rep.candidate))
        .flatten()
}

impl Step<'_> {
    /// The candidate this step rings.
    pub fn candidate(&self) -> CandidateRef {
        match *self {
            Step::Target(t) => CandidateRef::Target(t),
            Step::Group { group, .. } => CandidateRef::Group(group),
        }
    }
}

/// `(priority, weight)` of a plan step: a target's own, a simultaneous
/// group's effective ones ([`Config::step_key`]). A step outside the config
/// (never produced by a plan over it) ranks last with weight 0.
pub fn step_key(config: &Config, step: &Step<'_>) -> (i32, u32) {
    config.step_key(step.candidate()).unwrap_or((i32::MAX, 0))
}

/// The chance of each step of `plan` being drawn first: `w / W` over the
/// weights of the lowest priority tier, uniform over that tier when it
/// weighs 0, and 0 for every later tier. What a user compares first-place
/// counts against; every face shows the same numbers.
///
/// ```
/// use routecap_core::formats::parse_config;
/// use routecap_core::route::{first_place_chances, step_key, Step};
///
/// let config = parse_config(br#"{"targets": [
///   {"id": "a", "weight": 3}, {"id": "b", "weight": 1}, {"id": "c", "priority": 2}
/// ]}"#, "c.json", None)?;
/// let plan = [Step::Target(1), Step::Target(0), Step::Target(2)];
/// assert_eq!(step_key(&config, &plan[2]), (2, 1));
/// assert_eq!(first_place_chances(&config, &plan), [0.25, 0.75, 0.0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn first_place_chances(config: &Config, plan: &[Step<'_>]) -> Vec<f64> {
    let keys: Vec<(i32, u32)> = plan.iter().map(|s| step_key(config, s)).collect();
    let Some(top) = keys.iter().map(|&(p, _)| p).min() else {
        return Vec::new();
    };
    let (mut members, mut total) = (0usize, 0u64);
    for &(p, w) in &keys {
        if p == top {
            members += 1;
            total += u64::from(w);
        }
    }
    keys.iter()
        .map(|&(p, w)| {
            if p != top {
                0.0
            } else if total == 0 {
                1.0 / members as f64
            } else {
                f64::from(w) / total as f64
            }
        })
        .collect()
}

/// A route plan drawn on demand: each `next()` draws one step (`O(log n)`).
/// Yields exactly the steps of [`plan`] for the same seed, in order.
#[derive(Debug)]
pub struct LazyPlan<'p, 'r, R: ?Sized> {
    planner: &'p mut Planner,
    reports: &'r [CandidateReport],
    /// Step keys of `reports` when later tiers are deferred, else empty.
    keys: &'r [Option<(i32, u32)>],
    /// Reports whose keys stand but whose own target filter refuses the
    /// call (see `Checker::step_keys`).
    refused: Refusals<'r>,
    rng: &'p mut R,
    /// Report index rung before any draw.
    first: Option<usize>,
    /// Target rung after every drawn step: a campaign's fallback.
    tail: Option<usize>,
}

impl<R: ?Sized> LazyPlan<'_, '_, R> {
    /// The campaign fallback target this plan ends with, if any (its last
    /// step is then `Step::Target` of it).
    pub fn fallback(&self) -> Option<usize> {
        self.tail
    }
}

impl<'r, R: Rng + ?Sized> Iterator for LazyPlan<'_, 'r, R> {
    type Item = Step<'r>;

    fn next(&mut self) -> Option<Step<'r>> {
        let index = match self.first.take() {
            Some(i) => i,
            None => match self.planner.next_index(self.rng, self.keys, self.refused) {
                Some(i) => i,
                None => return self.tail.take().map(Step::Target),
            },
        };
        let rep = self.reports.get(index)?;
        Some(match rep.candidate {
            CandidateRef::Target(t) => Step::Target(t),
            CandidateRef::Group(group) => Step::Group {
                group,
                members: &rep.eligible_members,
            },
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.planner.remaining
            + usize::from(self.first.is_some())
            + usize::from(self.tail.is_some());
        (n, Some(n))
    }
}

impl<R: Rng + ?Sized> ExactSizeIterator for LazyPlan<'_, '_, R> {}

/// The whole routing decision for one call, reusable call after call on
/// one config: the eligibility of every default candidate at the instant
/// (through an [`eligibility::Checker`]) and the failover plan, drawn
/// lazily. Same reports and same steps as [`eligibility::check`] followed
/// by [`Planner::lazy`] with the same generator; in steady state a decision
/// does not allocate.
#[derive(Debug, Default)]
pub struct Router {
    checker: eligibility::Checker,
    planner: Planner,
    /// The engine config generation this router was built for (see
    /// `Engine::route_with`): a live config change rebuilds older routers.
    pub(crate) generation: u64,
}

impl Router {
    /// A router for `config` (keep it with that config, see [`eligibility::Checker`]).
    pub fn new(config: &Config) -> Self {
        Router {
            checker: eligibility::Checker::new(config),
            planner: Planner::new(),
            generation: 0,
        }
    }

    /// Forget the reports kept between decisions (see
    /// [`eligibility::Checker::forget`]).
    pub fn forget(&mut self) {
        self.checker.forget();
    }

    /// Decide at `at`: the reports of every default candidate and the
    /// plan over them, each step drawn from `rng` when asked for.
    pub fn route<'a, R: Rng + ?Sized>(
        &'a mut self,
        config: &Config,
        state: &Ledger,
        at: Instant,
        rng: &'a mut R,
    ) -> (&'a [CandidateReport], LazyPlan<'a, 'a, R>) {
        self.route_call(config, state, at, &CallAttrs::new(), rng)
    }

    /// [`Router::route`] for a call with attributes (filters judge `attrs`).
    pub fn route_call<'a, R: Rng + ?Sized>(
        &'a mut self,
        config: &Config,
        state: &Ledger,
        at: Instant,
        attrs: &CallAttrs,
        rng: &'a mut R,
    ) -> (&'a [CandidateReport], LazyPlan<'a, 'a, R>) {
        let Router {
            checker, planner, ..
        } = self;
        checker.check_call(config, state, at, attrs);
        let checker = &*checker;
        let (reports, keys) = (checker.reports(), checker.step_keys());
        let refused = checker.refusals();
        planner.skip = None;
        let version = Some(checker.keys_version());
        let key = |i: usize| keys.get(i).copied().flatten();
        planner.start_keyed(reports.len(), key, version, refused);
        let plan = LazyPlan {
            planner,
            reports,
            keys,
            refused,
            rng,
            first: None,
            tail: None,
        };
        (reports, plan)
    }

    /// The whole decision for a call, as every face routes it: the
    /// candidates of the campaign `attrs` names (none when its filter
    /// refuses the call; an unknown campaign id routes the default
    /// candidates — the engine refuses it before), judged with the
    /// caller's `history` (`duplicates`, `repeat_callers`); a repeat
    /// caller's original target first under `original`; the campaign's
    /// fallback last when eligible by its own state and not in the plan
    /// ([`LazyPlan::fallback`]).
    pub fn route_seen<'a, R: Rng + ?Sized>(
        &'a mut self,
        config: &Config,
        state: &Ledger,
        at: Instant,
        attrs: &CallAttrs,
        history: &CallerHistory,
        rng: &'a mut R,
    ) -> (&'a [CandidateReport], LazyPlan<'a, 'a, R>) {
        let Router {
            checker, planner, ..
        } = self;
        let campaign = attrs.campaign().and_then(|c| config.campaign_index(c));
        let refused =
            campaign.is_some_and(|c| eligibility::campaign_reason(config, c, attrs).is_some());
        let cands = match campaign.and_then(|c| config.campaigns.get(c)) {
            _ if refused => Some(&[][..]),
            Some(c) => Some(&c.candidates[..]),
            None => None,
        };
        checker.check_seen(config, state, at, cands, attrs, history);
        let checker = &*checker;
        let (reports, keys) = (checker.reports(), checker.step_keys());
        let refusals = checker.refusals();
        let first = crate::eligibility::original_report(config, history, attrs, at, reports);
        planner.skip = first;
        let version = Some(checker.keys_version());
        let key = |i: usize| keys.get(i).copied().flatten();
        planner.start_keyed(reports.len(), key, version, refusals);
        let tail = match campaign {
            Some(c) if !refused => fallback(config, state, c, reports, at),
            _ => None,
        };
        let plan = LazyPlan {
            planner,
            reports,
            keys,
            refused: refusals,
            rng,
            first,
            tail,
        };
        (reports, plan)
    }
}

/// Campaign `c`'s fallback target when it ends a plan over `reports`: set,
/// not a step of the plan already (a routable target, or an eligible
/// member of a routable group), and eligible by its own pause, hours and
/// caps (filters and caller rules ignored).
pub fn fallback(
    config: &Config,
    state: &Ledger,
    c: usize,
    reports: &[CandidateReport],
    at: Instant,
) -> Option<usize> {
    let f = config.campaigns.get(c)?.fallback?;
    let in_plan = reports.iter().any(|r| {
        r.is_routable()
            && match r.candidate {
                CandidateRef::Target(t) => t == f,
                CandidateRef::Group(_) => r.eligible_members.contains(&f),
            }
    });
    if in_plan {
        return None;
    }
    let mut reasons = Vec::new();
    eligibility::target_state_reasons(config, state, f, at, &mut reasons);
    reasons.is_empty().then_some(f)
}

/// How long to ring a step before failing over: a target's own timeout;
/// a group's own, else the largest of the members it rings (the default
/// 30 s for whatever sets none).
pub fn step_timeout(config: &Config, step: &Step<'_>) -> u32 {
    match *step {
        Step::Target(t) => config
            .targets
            .get(t)
            .map_or(crate::model::DEFAULT_TIMEOUT_SECONDS, |t| {
                t.effective_timeout()
            }),
        Step::Group { group, members } => {
            let own = config.groups.get(group).and_then(|g| g.timeout_seconds);
            own.unwrap_or_else(|| {
                (members.iter())
                    .filter_map(|&m| config.targets.get(m))
                    .map(|t| t.effective_timeout())
                    .max()
                    .unwrap_or(crate::model::DEFAULT_TIMEOUT_SECONDS)
            })
        }
    }
}

/// [`plan`] with report `first` rung first (see [`Planner::lazy_first`]).
pub fn plan_first<'r, R: Rng + ?Sized>(
    config: &Config,
    reports: &'r [CandidateReport],
    first: Option<usize>,
    rng: &mut R,
) -> Vec<Step<'r>> {
    Planner::new()
        .lazy_first(config, reports, first, rng)
        .collect()
}

/// The whole plan at once (convenience over [`Planner::lazy`] with a fresh
/// planner).
pub fn plan<'r, R: Rng + ?Sized>(
    config: &Config,
    reports: &'r [CandidateReport],
    rng: &mut R,
) -> Vec<Step<'r>> {
    Planner::new().lazy(config, reports, rng).collect()
}
