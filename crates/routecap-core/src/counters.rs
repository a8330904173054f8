//! Windowed counters: what each target and group has used, per cap window.
//!
//! This module is pure window arithmetic over counts and money. It knows
//! nothing of eligibility or of calls: the `eligibility` module reads a
//! [`Ledger`], and the `lifecycle` module changes it after checking.
//!
//! # Windows
//!
//! Each target and each group keeps, per [`Period`], one counter slot keyed
//! by the start of the window it belongs to (`window::window_start` in the
//! owner's zone). A slot whose key is not the start of the window containing
//! the instant asked about reads as 0 — nothing is swept, no timer runs.
//!
//! *Example* (target in `America/New_York`, daily cap 10): a call connected at
//! 2026-11-22T15:00Z (10:00 local) lands in the 22 Nov window
//! `[05:00Z, 23 Nov 05:00Z)`. At 2026-11-23T04:59Z the daily usage is 1; at
//! 05:00Z it reads 0 again, while the total (hard) counter still says 1.
//!
//! A count lands in the windows that contain the instant of the *counting
//! event*, not of the call's start. Only the latest window of each kind is
//! kept: an event at an instant whose window is older than the slot's (time
//! going backwards) still counts toward the totals but toward no periodic
//! window.
//!
//! # Imported usage
//!
//! [`Usage`] from the config is the usage of the windows containing
//! `Config::as_of`. With no `as_of` it is not anchored yet: until
//! [`Ledger::anchor`], every read takes it as the usage of the windows
//! containing the instant read (the decision instant).
//!
//! # Holds
//!
//! A reservation holds one unit of every count cap and of concurrency on
//! its target and the target's groups until its expiry (exclusive). Reads
//! at or after the expiry no longer see the unit, even before the
//! reservation is swept.
//!
//! # Live calls and leases
//!
//! Concurrency reads the live calls of an owner at an instant: its own
//! connected calls whose lease has not run out, plus the imported live
//! calls while they hold.
//!
//! - Each connected call has a **lease**: one entry (expiry, call id) in a
//!   time-ordered index. Reads at or after the expiry no longer count the
//!   call, even before the lifecycle sweeps the entry (like holds); the
//!   sweep, done by the next lifecycle event, releases the unit for good.
//! - **Imported live calls** (`Usage::live`) are kept per owner as a count
//!   and the instant they stop holding (exclusive): `as_of` plus the
//!   lease, or, while the imported usage is not anchored yet, the anchor
//!   instant plus the lease. [`Ledger::set_imported_live`] replaces both
//!   (a usage import). Nothing sweeps them: reads compare the instant.
//!
//! # Stamps
//!
//! Every change of an owner's counters gives it a fresh stamp, so that the
//! fast eligibility `Checker` can keep a target's report while its
//! counters are unchanged. Live calls also change by time alone (a lease
//! or the imported live calls running out), so a stamp only vouches for
//! the counters before a bound the ledger computes (the earliest lease or
//! imported expiry). Stamps only key caches:
//! they are not part of any value and never change an answer.

mod memberships;
mod owner_counters;

use std::collections::BTreeMap;

use chrono::TimeDelta;

use crate::caps::{ImportedUsage, Period, Usage};
use crate::model::{CandidateRef, Config};
use crate::money::Money;
use crate::window::window_start;
use crate::zone::Instant;

use memberships::Memberships;
use owner_counters::NO_COUNTERS;
pub(crate) use owner_counters::{fresh_stamp, CounterParts, Counters, SlotParts};

/// The counters of every target and group of one config, with the
/// reservation holds on them.
///
/// Eligibility reads a ledger (a lifecycle `State` reads as its ledger);
/// only the lifecycle changes it, after checking, so that no change can
/// overbook.
#[derive(Clone, Debug)]
pub struct Ledger {
    targets: Vec<Counters>,
    /// The stable stamp of each target (0 = none), kept dense so that a
    /// checker sees which targets changed without reading their counters.
    stable: Vec<u64>,
    groups: Vec<Counters>,
    /// Containing groups of each target (derived from the config), flat:
    /// see [`Memberships`].
    memberships: Memberships,
    /// Unconfirmed reservations by expiry and call id, with their target.
    holds: BTreeMap<(Instant, String), usize>,
    /// Leases of connected calls not ended and not swept, by expiry and
    /// call id, with their target.
    /// (Keyed like `holds`: one map type for both keeps the wasm build small.)
    leases: BTreeMap<(Instant, String), usize>,
    /// Some slot or imported live count is not anchored yet.
    pending: bool,
}

/// `at + d`, saturating at chrono's last instant (never reached with
/// supported instants and durations of at most 10 years).
pub(crate) fn after(at: Instant, d: TimeDelta) -> Instant {
    at.checked_add_signed(d).unwrap_or(Instant::MAX_UTC)
}

impl PartialEq for Ledger {
    fn eq(&self, o: &Self) -> bool {
        self.targets == o.targets
            && self.groups == o.groups
            && self.memberships == o.memberships
            && self.holds == o.holds
            && self.leases == o.leases
            && self.pending == o.pending
    }
}
impl Eq for Ledger {}

impl Ledger {
    /// The config's imported usage: anchored at `config.as_of`, or pending
    /// until [`Ledger::anchor`] when the config has none.
    pub fn new(config: &Config) -> Ledger {
        let lease = config.call_lease();
        let mut ledger = Ledger {
            targets: config
                .targets
                .iter()
                .map(|t| Counters::from_usage(&t.usage(), &t.zone, config.as_of, lease))
                .collect(),
            stable: Vec::new(),
            groups: config
                .groups
                .iter()
                .map(|g| Counters::from_usage(&g.usage, &g.zone, config.as_of, lease))
                .collect(),
            memberships: Memberships::new(config),
            holds: BTreeMap::new(),
            leases: BTreeMap::new(),
            pending: config.as_of.is_none(),
        };
        ledger.sync_stable_all();
        ledger
    }

    /// Take `old`'s stamps for the targets whose counters here equal
    /// theirs there (neither holding a reservation): this ledger is a newer
    /// read of the same owners' counters (a state backend's cache
    /// refresh), and a stamp names counters by content, so caches keyed by
    /// the old stamp stay right for them. Other targets keep their fresh
    /// stamps.
    pub(crate) fn keep_stamps(&mut self, old: &Ledger) {
        if self.targets.len() != old.targets.len() {
            return;
        }
        let new = self.stable.iter_mut().zip(&self.targets);
        for ((s, c), (&o, oc)) in new.zip(old.stable.iter().zip(&old.targets)) {
            if *s != 0 && o != 0 && c == oc {
                *s = o;
            }
        }
    }

    /// Recompute `stable` for every target.
    fn sync_stable_all(&mut self) {
        self.stable.clear();
        self.stable
            .extend(self.targets.iter().map(Counters::fresh_stable_stamp));
    }

    /// Change target `t`'s counters with `f`, keeping `stable` in step.
    fn with_target(&mut self, t: usize, f: impl FnOnce(&mut Counters)) {
        if let (Some(c), Some(s)) = (self.targets.get_mut(t), self.stable.get_mut(t)) {
            f(c);
            *s = c.fresh_stable_stamp();
        }
    }

    /// Apply `f` to target `t` and each of its groups.
    fn with_owners(&mut self, t: usize, f: impl Fn(&mut Counters)) {
        self.with_target(t, &f);
        for &g in self.memberships.of(t) {
            if let Some(c) = self.groups.get_mut(g) {
                f(c);
            }
        }
    }

    /// Anchor imported usage not anchored yet to the windows containing
    /// `at`; a no-op once anchored.
    pub fn anchor(&mut self, config: &Config, at: Instant) {
        if !self.pending {
            return;
        }
        let lease = config.call_lease();
        for (c, t) in self.targets.iter_mut().zip(&config.targets) {
            c.anchor(&t.zone, at, lease);
        }
        self.sync_stable_all();
        for (c, g) in self.groups.iter_mut().zip(&config.groups) {
            c.anchor(&g.zone, at, lease);
        }
        self.pending = false;
    }

    /// Whether some imported usage is not anchored yet: the next decision
    /// or lifecycle event anchors it (a durable store records that a
    /// `route` did).
    pub fn is_pending(&self) -> bool {
        self.pending
    }

    /// The number of targets.
    pub(crate) fn target_count(&self) -> usize {
        self.targets.len()
    }

    /// The number of groups.
    pub(crate) fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// The counters of an owner, how many live reservations it holds at
    /// `at` (expired but unswept ones excluded) and how many live calls it
    /// has at `at` (own calls whose lease holds, plus imported ones that
    /// hold; reservations excluded). Unknown owners read as empty.
    pub(crate) fn counters(&self, owner: CandidateRef, at: Instant) -> (&Counters, u64, u64) {
        let c = self.owner(owner);
        let held = u64::from(c.held).saturating_sub(self.expired_holds(owner, at));
        (c, held, self.live_of(c, owner, at))
    }

    fn owner(&self, owner: CandidateRef) -> &Counters {
        match owner {
            CandidateRef::Target(t) => self.targets.get(t),
            CandidateRef::Group(g) => self.groups.get(g),
        }
        .unwrap_or(&NO_COUNTERS)
    }

    fn live_of(&self, c: &Counters, owner: CandidateRef, at: Instant) -> u64 {
        u64::from(c.live)
            .saturating_sub(self.lapsed_leases(owner, at))
            .saturating_add(c.imported_live_at(at))
    }

    /// Live calls of an owner at `at`: its own connected calls whose lease
    /// holds and the imported live calls that hold; reservations excluded.
    pub fn live(&self, owner: CandidateRef, at: Instant) -> u64 {
        self.live_of(self.owner(owner), owner, at)
    }

    /// Every target's counters, in config order.
    pub(crate) fn target_counters(&self) -> &[Counters] {
        &self.targets
    }

    /// Stamp of each target's counters when it holds no reservation, 0
    /// otherwise: while it is unchanged, so are its counters, up to
    /// [`Ledger::lease_bound`] and [`Counters::imported_bound`].
    pub(crate) fn stable_stamps(&self) -> &[u64] {
        &self.stable
    }

    /// Stamp of target `t`'s counters when it holds no reservation (see
    /// [`Ledger::stable_stamps`]).
    pub(crate) fn stable_stamp(&self, t: usize) -> Option<u64> {
        self.stable.get(t).copied().filter(|&s| s != 0)
    }

    /// Whether no hold has expired and no lease has run out at `at`: then
    /// every owner's held units and live calls are its raw counts
    /// ([`Counters::held_units`], [`Counters::live_quiet`]). Checked once
    /// per decision rather than per owner.
    pub(crate) fn quiet_at(&self, at: Instant) -> bool {
        let after = |m: &BTreeMap<(Instant, String), usize>| {
            m.first_key_value().is_none_or(|((t, _), _)| *t > at)
        };
        after(&self.holds) && after(&self.leases)
    }

    /// Unix second before which no owner's live calls can change by time
    /// alone through a lease (a cache keyed by a stable stamp is valid
    /// before it, and before [`Counters::imported_bound`]): the second of
    /// the earliest lease expiry of any call, `i64::MAX` when none — a
    /// conservative bound, cheap to read (calls are short, so it is hours
    /// away while calls end normally).
    pub(crate) fn lease_bound(&self) -> i64 {
        self.leases
            .first_key_value()
            .map_or(i64::MAX, |((until, _), _)| until.timestamp())
    }

    /// Containing groups of target `t`.
    pub(crate) fn groups_of(&self, t: usize) -> &[usize] {
        self.memberships.of(t)
    }

    /// Usage of an owner as caps see it at `at`: counts include the units
    /// held by live reservations, `live` includes them too. Periodic values
    /// are those of the windows containing `at`.
    pub fn usage(&self, config: &Config, owner: CandidateRef, at: Instant) -> Usage {
        let zone = match owner {
            CandidateRef::Target(t) => config.targets.get(t).map(|t| &t.zone),
            CandidateRef::Group(g) => config.groups.get(g).map(|g| &g.zone),
        };
        let (c, held, _) = self.counters(owner, at);
        let Some(zone) = zone else {
            return Usage::default();
        };
        let ws = |p| window_start(zone, p, at);
        let (h, d, m) = (ws(Period::Hour), ws(Period::Day), ws(Period::Month));
        Usage {
            hourly: c.count_in(Period::Hour, h) + held,
            daily: c.count_in(Period::Day, d) + held,
            monthly: c.count_in(Period::Month, m) + held,
            total: c.total + held,
            live: self.live_of(c, owner, at) + held,
            hourly_revenue: c.revenue_in(Period::Hour, h),
            daily_revenue: c.revenue_in(Period::Day, d),
            monthly_revenue: c.revenue_in(Period::Month, m),
            total_revenue: c.total_revenue,
        }
    }

    /// Holds of `owner` that have expired at `at` but are not swept yet.
    fn expired_holds(&self, owner: CandidateRef, at: Instant) -> u64 {
        // the common case, checked first: nothing has expired yet
        if self
            .holds
            .first_key_value()
            .is_none_or(|((expires, _), _)| *expires > at)
        {
            return 0;
        }
        let mut n = 0;
        for (&(expires, _), &t) in &self.holds {
            if expires > at {
                break;
            }
            let hit = match owner {
                CandidateRef::Target(o) => t == o,
                CandidateRef::Group(g) => self.groups_of(t).contains(&g),
            };
            n += u64::from(hit);
        }
        n
    }

    /// Leases of `owner` that have run out at `at` but are not swept yet.
    fn lapsed_leases(&self, owner: CandidateRef, at: Instant) -> u64 {
        // the common case, checked first: nothing has lapsed
        if self
            .leases
            .first_key_value()
            .is_none_or(|((until, _), _)| *until > at)
        {
            return 0;
        }
        let mut n = 0;
        for (&(until, _), &t) in &self.leases {
            if until > at {
                break;
            }
            let hit = match owner {
                CandidateRef::Target(o) => t == o,
                CandidateRef::Group(g) => self.groups_of(t).contains(&g),
            };
            n += u64::from(hit);
        }
        n
    }

    /// Make `call` a live call of target `t` and its groups, its lease
    /// running until `until` (exclusive).
    pub(crate) fn lease(&mut self, call: &str, t: usize, until: Instant) {
        self.leases.insert((until, call.to_string()), t);
        self.change_live(t, true);
    }

    /// Move the lease of `call` from `old` to `new` (a touch): the live
    /// counts do not change, so neither do the stamps (a later expiry
    /// only makes [`Ledger::lease_bound`] more conservative).
    pub(crate) fn renew(&mut self, call: &str, old: Instant, new: Instant) {
        let mut key = (old, call.to_string());
        if let Some(t) = self.leases.remove(&key) {
            key.0 = new;
            self.leases.insert(key, t);
        }
    }

    /// End the lease of `call` (expiring at `until`) before it ran out:
    /// one live call fewer on its target and groups. `false` when there
    /// was no such lease (already swept).
    pub(crate) fn release(&mut self, call: &str, until: Instant) -> bool {
        match self.leases.remove(&(until, call.to_string())) {
            Some(t) => {
                self.change_live(t, false);
                true
            }
            None => false,
        }
    }

    /// Sweep the first lease run out at `at`, releasing its live call: its
    /// call id and expiry, or `None` when no lease has run out.
    pub(crate) fn pop_lapsed(&mut self, at: Instant) -> Option<(String, Instant)> {
        let entry = self.leases.first_entry()?;
        if entry.key().0 > at {
            return None;
        }
        let ((until, call), t) = entry.remove_entry();
        self.change_live(t, false);
        Some((call, until))
    }

    /// Own connected calls of an owner whose lease is not swept yet.
    pub(crate) fn own_live(&self, owner: CandidateRef) -> u64 {
        u64::from(self.owner(owner).live)
    }

    /// Leases not swept yet (live calls, and lapsed ones until swept).
    pub fn lease_count(&self) -> usize {
        self.leases.len()
    }

    /// Replace the imported live calls of an owner (a usage import): from
    /// now on it has `count` of them, holding concurrency until `until`
    /// (exclusive; `None` = until the imported usage is anchored, then for
    /// the config's lease). Its own calls are untouched. Unknown owners
    /// are ignored.
    pub fn set_imported_live(&mut self, owner: CandidateRef, count: u64, until: Option<Instant>) {
        match owner {
            CandidateRef::Target(t) => {
                self.with_target(t, |c| c.set_imported_live(count, until));
            }
            CandidateRef::Group(g) => {
                if let Some(c) = self.groups.get_mut(g) {
                    c.set_imported_live(count, until);
                }
            }
        }
        if until.is_none() {
            self.pending = true;
        }
    }

    /// Imported live calls of an owner and until when they hold (`None`:
    /// until the anchor + lease).
    pub fn imported_live(&self, owner: CandidateRef) -> (u64, Option<Instant>) {
        let c = self.owner(owner);
        (c.imported_live, c.imported_until)
    }

    /// Hold one unit on target `t` and its groups for `call` until `expires`.
    pub(crate) fn hold(&mut self, call: &str, t: usize, expires: Instant) {
        self.holds.insert((expires, call.to_string()), t);
        self.change_held(t, true);
    }

    /// Drop the hold entry of `call` (expiring at `expires`) without
    /// touching the held units: a confirmed reservation has already given
    /// its unit back with [`Ledger::change_held`].
    pub(crate) fn drop_hold(&mut self, call: &str, expires: Instant) {
        self.holds.remove(&(expires, call.to_string()));
    }

    /// Take (`true`) or give back one held unit on target `t` and its
    /// groups, leaving the hold list alone (a confirmation re-checks
    /// without its own hold, then keeps or drops it).
    pub(crate) fn change_held(&mut self, t: usize, take: bool) {
        self.with_owners(t, |c| c.step_held(take));
    }

    /// Drop the first hold expired at `at`, releasing its unit: its call
    /// id and target, or `None` when no hold has expired.
    pub(crate) fn pop_expired(&mut self, at: Instant) -> Option<(String, usize)> {
        let entry = self.holds.first_entry()?;
        if entry.key().0 > at {
            return None;
        }
        let ((_, call), t) = entry.remove_entry();
        self.change_held(t, false);
        Some((call, t))
    }

    /// One more (`true`) or one fewer live call on target `t` and its groups.
    pub(crate) fn change_live(&mut self, t: usize, up: bool) {
        self.with_owners(t, |c| c.step_live(up));
    }

    /// Add `count` calls and `revenue` at `at` to target `t` and its groups,
    /// each in the windows of its own zone.
    pub(crate) fn add(
        &mut self,
        config: &Config,
        t: usize,
        at: Instant,
        count: u64,
        revenue: Money,
    ) {
        if let Some(target) = config.targets.get(t) {
            self.with_target(t, |c| c.add(&target.zone, at, count, revenue));
        }
        for &g in self.memberships.of(t) {
            if let (Some(c), Some(group)) = (self.groups.get_mut(g), config.groups.get(g)) {
                c.add(&group.zone, at, count, revenue);
            }
        }
    }

    /// Reset the total count and revenue of target `t`.
    pub(crate) fn reset_target(&mut self, t: usize) {
        self.with_target(t, Counters::reset_totals);
    }

    /// Reset the total count and revenue of group `g` (members untouched).
    pub(crate) fn reset_group(&mut self, g: usize) {
        if let Some(c) = self.groups.get_mut(g) {
            c.reset_totals();
        }
    }

    /// The counters of target `t`, if any.
    pub(crate) fn target(&self, t: usize) -> Option<&Counters> {
        self.targets.get(t)
    }

    /// The counters of group `g`, if any.
    pub(crate) fn group(&self, g: usize) -> Option<&Counters> {
        self.groups.get(g)
    }

    /// Replace the counters of an owner (restoring a snapshot); call
    /// [`Ledger::restored`] when done.
    pub(crate) fn set(&mut self, owner: CandidateRef, c: Counters) {
        let slot = match owner {
            CandidateRef::Target(t) => self.targets.get_mut(t),
            CandidateRef::Group(g) => self.groups.get_mut(g),
        };
        if let Some(s) = slot {
            *s = c;
        }
    }

    /// A ledger for `new` (imported usage for every owner) whose owners
    /// listed in `kept` (new owner, old counters) continue from the old
    /// counters; call [`Ledger::restored`] when done.
    pub(crate) fn carried_over(new: &Config, kept: Vec<(CandidateRef, Counters)>) -> Ledger {
        let mut ledger = Ledger::new(new);
        for (owner, c) in kept {
            ledger.set(owner, c);
        }
        ledger
    }

    /// Every lease not swept yet: expiry, call id and target index.
    pub(crate) fn leases(&self) -> impl Iterator<Item = (Instant, &str, usize)> + '_ {
        self.leases
            .iter()
            .map(|((until, call), &t)| (*until, call.as_str(), t))
    }

    /// [`Counters::import`] on one owner, in its own zone.
    pub(crate) fn import(
        &mut self,
        config: &Config,
        owner: CandidateRef,
        at: Instant,
        u: &ImportedUsage,
    ) {
        let until = after(at, config.call_lease());
        match owner {
            CandidateRef::Target(t) => {
                if let Some(target) = config.targets.get(t) {
                    self.with_target(t, |c| c.import(&target.zone, at, u, until));
                }
            }
            CandidateRef::Group(g) => {
                if let (Some(c), Some(group)) = (self.groups.get_mut(g), config.groups.get(g)) {
                    c.import(&group.zone, at, u, until);
                }
            }
        }
    }

    /// Finish a restore: stamps and the pending flag from the counters.
    pub(crate) fn restored(&mut self) {
        self.sync_stable_all();
        self.pending = self
            .targets
            .iter()
            .chain(&self.groups)
            .any(Counters::is_pending);
    }
}
