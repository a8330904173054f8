//! The per-owner records of one config: each owner's interned zone clock,
//! schedule and hours pair, its caps and its route step key, copied out of
//! the config into compact arrays that a decision over thousands of
//! owners reads in order.

use chrono_tz::Tz;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash};

use super::hours_memo::Pair;
use super::own_reasons::{Caps, Owner};
use super::quick::Quick;
use super::rules::Judge;
use super::zone_clock::{Cached, Now, ZoneClock};
use crate::counters::Ledger;
use crate::eligibility::{CandidateReport, Reason};
use crate::hours::WeeklyHours;
use crate::intern_hasher::InternHasher;
use crate::model::{CandidateRef, Config};

/// What the checker reads about one owner (target or group) per decision,
/// copied out of the config so that a pass over thousands of targets reads
/// one compact array (the config's `Target` is about 3 KB). Its caps are
/// kept only when the general path reads them on every decision (see
/// [`Caches::caps_of`]).
#[derive(Clone, Copy, Debug)]
pub(super) struct Hot {
    /// Index into `Caches::caps`, or [`NO_CAPS`] for a [`Quick`] target,
    /// whose caps are read from the config on the rare decision that
    /// builds its cap reasons.
    pub(super) caps: u32,
    /// Index into `Caches::schedules`, or [`NO_HOURS`] (open 24/7).
    pub(super) hours: u32,
    /// Index into `Caches::clocks`.
    pub(super) clock: u16,
    /// Index into `Caches::pairs`.
    pub(super) pair: u32,
    pub(super) paused: bool,
    /// Has a concurrency matrix (read from the config: rare, and large).
    pub(super) matrix: bool,
    /// A target in some group: its report depends on other owners too, so
    /// it is never kept between decisions.
    pub(super) grouped: bool,
    /// Route step key: priority and weight (effective ones for groups).
    pub(super) priority: i32,
    pub(super) weight: u32,
}

pub(super) const NO_HOURS: u32 = u32::MAX;
pub(super) const NO_CAPS: u32 = u32::MAX;

/// Per-zone clocks, per-owner hot data and reopening caches of one config.
#[derive(Clone, Debug, Default)]
pub(super) struct Caches {
    pub(super) clocks: Vec<ZoneClock>,
    /// Distinct weekly tables: campaigns share a handful of schedules.
    pub(super) schedules: Vec<WeeklyHours>,
    /// Each target, then each group.
    pub(super) hot: Vec<Hot>,
    /// Each distinct (schedule, zone) pair of the owners: hours memo and
    /// reopening cache.
    pub(super) pairs: Vec<Pair>,
    /// Each target's verdict record.
    pub(super) quick: Vec<Quick>,
    /// The caps of the owners whose `Hot::caps` points here.
    pub(super) caps: Vec<Caps>,
    pub(super) targets: usize,
}

/// Interning index: key → position in its list.
pub(super) type Interner<K> = HashMap<K, u32, BuildHasherDefault<InternHasher>>;

/// Entries of an interned list found by a plain scan; only later ones go
/// through the hash index (a handful of zones or schedules is the usual
/// case, and scanning them beats hashing).
pub(super) const SCANNED: usize = 8;

/// Index of `key` in `list` (`same` tells whether an entry is `key`'s),
/// appending it the first time it is seen.
pub(super) fn intern<K: Eq + Hash + Clone, V>(
    index: &mut Interner<K>,
    list: &mut Vec<V>,
    key: &K,
    same: impl Fn(&V) -> bool,
    make: impl FnOnce() -> V,
) -> u32 {
    // fewer than 2^32 owners, so positions fit
    let pos = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
    if let Some(i) = list.iter().take(SCANNED).position(same) {
        return pos(i);
    }
    if list.len() > SCANNED {
        if let Some(&i) = index.get(key) {
            return i;
        }
    }
    let i = list.len();
    list.push(make());
    if i >= SCANNED {
        index.insert(key.clone(), pos(i));
    }
    pos(i)
}

/// Interns the zones, schedules and (schedule, zone) pairs of the owners
/// added, making each one's [`Hot`] record.
#[derive(Default)]
pub(super) struct HotBuilder {
    pub(super) clocks: Vec<ZoneClock>,
    pub(super) zone_index: Interner<Tz>,
    pub(super) schedules: Vec<WeeklyHours>,
    pub(super) hours_index: Interner<WeeklyHours>,
    pub(super) pairs: Vec<Pair>,
    pub(super) pair_index: Interner<(u32, u16)>,
}

impl HotBuilder {
    /// The record and caps of `owner` (`grouped`: a target in some group).
    pub(super) fn owner(
        &mut self,
        config: &Config,
        owner: CandidateRef,
        grouped: bool,
    ) -> Option<(Hot, Caps)> {
        let (zone, hours, caps, paused, matrix) = match owner {
            CandidateRef::Target(t) => {
                let t = config.targets.get(t)?;
                let matrix = t.concurrency_matrix().is_some();
                (
                    &t.zone,
                    t.hours.as_deref(),
                    Caps::of(&t.limits()),
                    t.paused,
                    matrix,
                )
            }
            CandidateRef::Group(g) => {
                let g = config.groups.get(g)?;
                let matrix = g.concurrency_matrix.is_some();
                (
                    &g.zone,
                    g.hours.as_deref(),
                    Caps::of(&g.limits),
                    false,
                    matrix,
                )
            }
        };
        let tz = zone.tz();
        let same = |c: &ZoneClock| c.zone.tz() == tz;
        let clock = intern(&mut self.zone_index, &mut self.clocks, &tz, same, || {
            ZoneClock::new(zone.clone())
        });
        if let Some(c) = self.clocks.get_mut(clock as usize) {
            c.periods |= caps.periods();
        }
        let hours = hours.map_or(NO_HOURS, |h| {
            let same = |s: &WeeklyHours| s == h;
            intern(&mut self.hours_index, &mut self.schedules, h, same, || {
                h.clone()
            })
        });
        // fewer distinct zones than chrono-tz has, so this fits
        let clock = u16::try_from(clock).unwrap_or(u16::MAX);
        let same = |p: &Pair| p.hours == hours && p.clock == clock;
        let key = (hours, clock);
        let pair = intern(&mut self.pair_index, &mut self.pairs, &key, same, || {
            Pair::new(hours, clock)
        });
        let (priority, weight) = config.step_key(owner).unwrap_or_default();
        let hot = Hot {
            caps: NO_CAPS,
            hours,
            clock,
            pair,
            paused,
            matrix,
            grouped,
            priority,
            weight,
        };
        Some((hot, caps))
    }

    /// The caches of `owners`, with [`Quick`] records for the first
    /// `targets` of them when `quick`.
    pub(super) fn finish(self, owners: Vec<(Hot, Caps)>, targets: usize, quick: bool) -> Caches {
        let mut kept = Vec::new();
        let mut records = Vec::with_capacity(if quick { targets } else { 0 });
        let mut hots = Vec::with_capacity(owners.len());
        for (k, (mut hot, caps)) in owners.into_iter().enumerate() {
            if quick && k < targets {
                records.push(Quick::of(&hot, &caps));
            }
            // a Quick target's caps are read only to build its cap
            // reasons: from the config then, not kept (80 bytes each)
            if records.get(k).is_none_or(|q| !q.on) {
                hot.caps = u32::try_from(kept.len()).unwrap_or(NO_CAPS);
                kept.push(caps);
            }
            hots.push(hot);
        }
        Caches {
            clocks: self.clocks,
            schedules: self.schedules,
            pairs: self.pairs,
            quick: records,
            hot: hots,
            caps: kept,
            targets,
        }
    }
}

impl Caches {
    /// The caches of every owner of `config`, with a [`Quick`] record per
    /// target when `records` (they pay for themselves over repeated
    /// decisions; one decision reads each target once).
    pub(super) fn new(config: &Config, records: bool) -> Self {
        let mut grouped = vec![false; config.targets.len()];
        for &m in config.groups.iter().flat_map(|g| &g.members) {
            if let Some(x) = grouped.get_mut(m) {
                *x = true;
            }
        }
        let mut builder = HotBuilder::default();
        let mut owners = Vec::with_capacity(config.targets.len() + config.groups.len());
        for (t, grouped) in grouped.into_iter().enumerate() {
            owners.extend(builder.owner(config, CandidateRef::Target(t), grouped));
        }
        for g in 0..config.groups.len() {
            owners.extend(builder.owner(config, CandidateRef::Group(g), false));
        }
        builder.finish(owners, config.targets.len(), records)
    }

    /// The record of owner `k` (targets first, then groups).
    #[inline]
    pub(super) fn hot_of(&self, k: usize) -> Option<&Hot> {
        self.hot.get(k)
    }

    /// The caps of owner `k` (targets first, then groups): kept, or for a
    /// [`Quick`] target read from the config (see [`Hot::caps`]).
    pub(super) fn caps_of(&self, k: usize, config: &Config) -> Option<Caps> {
        match self.caps.get(self.hot_of(k)?.caps as usize) {
            Some(&caps) => Some(caps),
            None => Some(Caps::of(&config.targets.get(k)?.limits())),
        }
    }

    /// Reasons of owner `k` (targets first, then groups) at `now`, except
    /// `paused`. Returns until when (Unix seconds, exclusive) they stay the
    /// same if the owner's counters do.
    #[inline]
    pub(super) fn owner_reasons(
        &mut self,
        k: usize,
        config: &Config,
        ledger: &Ledger,
        now: Now,
        out: &mut Vec<Reason>,
    ) -> i64 {
        let (Some(&hot), Some(caps)) = (self.hot_of(k), self.caps_of(k, config)) else {
            return now.s;
        };
        let Some(reopen) = self.pairs.get_mut(hot.pair as usize).map(|p| &mut p.reopen) else {
            return now.s;
        };
        let Some(clock) = self.clocks.get_mut(usize::from(hot.clock)) else {
            return now.s;
        };
        clock.refresh(now.at, now.s);
        let (owner, group) = if k < self.targets {
            (CandidateRef::Target(k), None)
        } else {
            (
                CandidateRef::Group(k - self.targets),
                Some(k - self.targets),
            )
        };
        let matrix = match (hot.matrix, group) {
            (false, _) => None,
            (true, None) => config.targets.get(k).and_then(|t| t.concurrency_matrix()),
            (true, Some(g)) => config
                .groups
                .get(g)
                .and_then(|g| g.concurrency_matrix.as_ref()),
        };
        let (counters, held, live) = ledger.counters(owner, now.at);
        let hours = self.schedules.get(hot.hours as usize);
        Owner {
            hours,
            caps: &caps,
            matrix,
            counters,
            held,
            live,
            group,
        }
        .reasons(
            &mut Cached {
                clock,
                at: now.at,
                reopen,
                counters,
            },
            out,
        );
        // what the reasons read: windows of set caps, hours, matrix cell
        let mut until = i64::MAX;
        for i in 0..3 {
            if caps.count(i).is_some() || caps.revenue(i).is_some() {
                until = until.min(clock.bound(i).1);
            }
        }
        if let Some(h) = hours {
            until = until.min(clock.hours_boundary(h));
        }
        if hot.matrix {
            until = until.min(clock.span.1).min(clock.bound(0).1);
        }
        until
    }

    /// [`Caches::step_key`] of a report of a target as if it did not hold
    /// its own `filter_mismatch`, when `own` says it does.
    pub(super) fn base_key(&self, rep: &CandidateReport, own: bool) -> Option<(i32, u32)> {
        match rep.candidate {
            CandidateRef::Target(t) if own => (rep.reasons.len() == 1)
                .then(|| self.hot.get(t).map(|h| (h.priority, h.weight)))
                .flatten(),
            _ => self.step_key(rep),
        }
    }

    /// `(priority, weight)` of a routable report's step: the
    /// [`Config::step_key`] copied into the hot data.
    pub(super) fn step_key(&self, rep: &CandidateReport) -> Option<(i32, u32)> {
        if !rep.is_routable() {
            return None;
        }
        let k = match rep.candidate {
            CandidateRef::Target(t) => t,
            CandidateRef::Group(g) => self.targets + g,
        };
        self.hot.get(k).map(|h| (h.priority, h.weight))
    }
}

/// The reason builder's source of each owner's own reasons, through the
/// caches ([`super::rules`]).
pub(super) struct Fast<'a> {
    pub(super) caches: &'a mut Caches,
    pub(super) config: &'a Config,
    pub(super) ledger: &'a Ledger,
    pub(super) now: Now,
}

impl Judge for Fast<'_> {
    fn paused(&self, t: usize) -> bool {
        self.caches.hot_of(t).is_some_and(|h| h.paused)
    }

    fn own(&mut self, owner: CandidateRef, out: &mut Vec<Reason>) -> i64 {
        let k = match owner {
            CandidateRef::Target(t) if t < self.caches.targets => t,
            CandidateRef::Group(g) if g < self.config.groups.len() => self.caches.targets + g,
            _ => return i64::MIN,
        };
        self.caches
            .owner_reasons(k, self.config, self.ledger, self.now, out)
    }
}
