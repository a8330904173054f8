//! [`Checker`]: the same eligibility as [`check`](super::check), for a
//! service that decides call after call on one config.
//!
//! What makes it fast, without changing any answer:
//! - **One clock per distinct zone.** Targets share a few dozen zones at
//!   most; each zone's offset span and its hour/day/month windows are
//!   cached with the range of instants they hold for, and the local
//!   weekday and minute are computed once per zone per decision.
//! - **Reopening times are cached per owner.** If hours closed at `t` next
//!   open at `v`, they next open at `v` from every instant in `[t, v)` too,
//!   so `until` of a `closed` reason is computed once per closed stretch.
//! - **Buffers are reused.** Reports and their reason lists keep their
//!   capacity between calls: in steady state a decision does not allocate.
//!
//! Every cache entry is keyed by the range of instants it is valid for, so
//! instants may come in any order (time going backwards only costs a
//! recomputation).

use chrono::DateTime;
use chrono_tz::Tz;
use std::collections::HashMap;

use super::{CandidateReport, Clock, Owner, Reason, ReasonCode};
use crate::caps::Period;
use crate::hours::{local_weekday_minute, WeeklyHours};
use crate::model::{CandidateRef, Config};
use crate::state::State;
use crate::window::window;
use crate::zone::{Instant, Zone};

/// Sentinel for "not computed for any instant".
const NEVER: i64 = i64::MIN;

/// The cached facts of one zone.
#[derive(Clone, Debug)]
struct ZoneClock {
    zone: Zone,
    /// Unix second the local fields were computed for, or [`NEVER`].
    at: i64,
    /// `[start, end)` of the offset span in force.
    span: (i64, i64),
    offset: i32,
    /// `[start, end)` of the hour, day and month windows, Unix seconds.
    bounds: [(i64, i64); 3],
    /// The same windows' ends as instants (the `until` of cap reasons).
    ends: [Instant; 3],
    weekday: u32,
    minute: u16,
}

fn contains((start, end): (i64, i64), s: i64) -> bool {
    start <= s && s < end
}

impl ZoneClock {
    fn new(zone: Zone) -> Self {
        ZoneClock {
            zone,
            at: NEVER,
            span: (0, 0),
            offset: 0,
            bounds: [(0, 0); 3],
            ends: [Instant::MIN_UTC; 3],
            weekday: 0,
            minute: 0,
        }
    }

    /// Make the local fields those of `at` (a no-op within the same second).
    #[inline]
    fn refresh(&mut self, at: Instant, s: i64) {
        if self.at == s {
            return;
        }
        if !contains(self.span, s) {
            let span = self.zone.span_at(s);
            self.span = (span.start.unwrap_or(i64::MIN), span.end.unwrap_or(i64::MAX));
            self.offset = span.offset;
        }
        for (i, p) in Period::ALL.into_iter().enumerate() {
            if !contains(self.bounds[i], s) {
                let w = window(&self.zone, p, at);
                self.bounds[i] = (w.start.timestamp(), w.end.timestamp());
                self.ends[i] = w.end;
            }
        }
        (self.weekday, self.minute) = local_weekday_minute(s, self.offset);
        self.at = s;
    }
}

/// A [`Clock`] over a fresh [`ZoneClock`] and one owner's reopening cache.
struct Cached<'a> {
    clock: &'a ZoneClock,
    at: Instant,
    /// `(from, until)`: the hours are closed on `[from, until)` and open at `until`.
    reopen: &'a mut (i64, i64),
}

impl Clock for Cached<'_> {
    #[inline]
    fn is_open(&self, hours: &WeeklyHours) -> bool {
        hours.is_open_local(self.clock.weekday, self.clock.minute)
    }

    fn next_open(&mut self, hours: &WeeklyHours) -> Option<Instant> {
        let s = self.clock.at;
        if contains(*self.reopen, s) {
            return DateTime::from_timestamp(self.reopen.1, 0);
        }
        let next = hours.next_open(&self.clock.zone, self.at);
        // closed now, so `next` is a later whole second (or None: not cached)
        if let Some(v) = next.filter(|v| v.timestamp_subsec_nanos() == 0) {
            *self.reopen = (s, v.timestamp());
        }
        next
    }

    #[inline]
    fn window(&mut self, i: usize) -> (i64, Instant) {
        (self.clock.bounds[i].0, self.clock.ends[i])
    }

    fn weekday_hour(&self) -> (u32, u32) {
        (self.clock.weekday, u32::from(self.clock.minute / 60))
    }
}

/// Per-zone clocks and per-owner reopening caches of one config.
#[derive(Clone, Debug, Default)]
struct Caches {
    clocks: Vec<ZoneClock>,
    /// Clock index of each target, then of each group.
    clock_of: Vec<u16>,
    /// Reopening cache of each target, then of each group.
    reopen: Vec<(i64, i64)>,
    targets: usize,
}

impl Caches {
    fn new(config: &Config) -> Self {
        let mut clocks = Vec::new();
        let mut index: HashMap<Tz, u16> = HashMap::new();
        let zones = config
            .targets
            .iter()
            .map(|t| &t.zone)
            .chain(config.groups.iter().map(|g| &g.zone));
        let clock_of = zones
            .map(|z: &Zone| {
                *index.entry(z.tz()).or_insert_with(|| {
                    clocks.push(ZoneClock::new(z.clone()));
                    // fewer distinct zones than chrono-tz has, so this fits
                    u16::try_from(clocks.len() - 1).unwrap_or(u16::MAX)
                })
            })
            .collect::<Vec<_>>();
        Caches {
            clocks,
            reopen: vec![(0, 0); clock_of.len()],
            clock_of,
            targets: config.targets.len(),
        }
    }

    /// Reasons of owner `k` (targets first, then groups) at `at`.
    fn owner_reasons(&mut self, k: usize, owner: &Owner<'_>, at: Instant, out: &mut Vec<Reason>) {
        let (Some(&c), Some(reopen)) = (self.clock_of.get(k), self.reopen.get_mut(k)) else {
            return;
        };
        let Some(clock) = self.clocks.get_mut(usize::from(c)) else {
            return;
        };
        clock.refresh(at, at.timestamp());
        owner.reasons(&mut Cached { clock, at, reopen }, out);
    }

    /// [`super::reasons_of`] through the caches.
    fn target_reasons(
        &mut self,
        config: &Config,
        state: &State,
        t: usize,
        skip: Option<usize>,
        at: Instant,
        out: &mut Vec<Reason>,
    ) {
        let Some(target) = config.targets.get(t) else {
            return;
        };
        if target.paused {
            out.push(Reason {
                code: ReasonCode::Paused,
                group: None,
                used: None,
                limit: None,
                until: None,
            });
        }
        let (counters, held) = state.counters(CandidateRef::Target(t), at);
        let owner = Owner {
            hours: target.hours.as_ref(),
            limits: &target.limits,
            matrix: target.concurrency_matrix.as_ref(),
            counters,
            held,
            group: None,
        };
        self.owner_reasons(t, &owner, at, out);
        for &g in state.groups_of(t) {
            if Some(g) != skip {
                self.group_reasons(config, state, g, at, out);
            }
        }
    }

    /// [`super::group_reasons`] through the caches.
    fn group_reasons(
        &mut self,
        config: &Config,
        state: &State,
        g: usize,
        at: Instant,
        out: &mut Vec<Reason>,
    ) {
        let Some(group) = config.groups.get(g) else {
            return;
        };
        let (counters, held) = state.counters(CandidateRef::Group(g), at);
        let owner = Owner {
            hours: group.hours.as_ref(),
            limits: &group.limits,
            matrix: group.concurrency_matrix.as_ref(),
            counters,
            held,
            group: Some(g),
        };
        self.owner_reasons(self.targets + g, &owner, at, out);
    }
}

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
    /// The config's default candidates.
    candidates: Vec<CandidateRef>,
    /// Reports; only the first `len` belong to the last call, the others
    /// are kept for their buffers.
    reports: Vec<CandidateReport>,
    len: usize,
    scratch: Vec<Reason>,
    groups: usize,
}

impl Checker {
    /// A checker for `config`.
    pub fn new(config: &Config) -> Self {
        Checker {
            caches: Caches::new(config),
            candidates: config.default_candidates(),
            reports: Vec::new(),
            len: 0,
            scratch: Vec::new(),
            groups: config.groups.len(),
        }
    }

    /// Eligibility of the config's default candidates at `at`, as
    /// [`check`](super::check).
    pub fn check(&mut self, config: &Config, state: &State, at: Instant) -> &[CandidateReport] {
        self.fit(config);
        let cands = core::mem::take(&mut self.candidates);
        self.run(config, state, at, &cands);
        self.candidates = cands;
        self.reports()
    }

    /// Eligibility of `cands` at `at`, as [`check_candidates`](super::check_candidates)
    /// (indices outside the config are skipped).
    pub fn check_candidates(
        &mut self,
        config: &Config,
        state: &State,
        at: Instant,
        cands: &[CandidateRef],
    ) -> &[CandidateReport] {
        self.fit(config);
        self.run(config, state, at, cands);
        self.reports()
    }

    /// The reports of the last call.
    pub fn reports(&self) -> &[CandidateReport] {
        self.reports.get(..self.len).unwrap_or(&[])
    }

    /// Rebuild for a config of another shape.
    fn fit(&mut self, config: &Config) {
        if self.caches.targets != config.targets.len() || self.groups != config.groups.len() {
            *self = Checker::new(config);
        }
    }

    fn run(&mut self, config: &Config, state: &State, at: Instant, cands: &[CandidateRef]) {
        let mut n = 0;
        for &candidate in cands {
            let known = match candidate {
                CandidateRef::Target(t) => t < config.targets.len(),
                CandidateRef::Group(g) => g < config.groups.len(),
            };
            if !known {
                continue;
            }
            if n == self.reports.len() {
                self.reports.push(CandidateReport {
                    candidate,
                    eligible: true,
                    reasons: Vec::new(),
                    eligible_members: Vec::new(),
                });
            }
            let Some(rep) = self.reports.get_mut(n) else {
                break;
            };
            n += 1;
            rep.candidate = candidate;
            rep.reasons.clear();
            rep.eligible_members.clear();
            match candidate {
                CandidateRef::Target(t) => {
                    self.caches
                        .target_reasons(config, state, t, None, at, &mut rep.reasons);
                }
                CandidateRef::Group(g) => {
                    self.caches.group_reasons(config, state, g, at, &mut rep.reasons);
                    let members = config.groups.get(g).map_or(&[][..], |g| &g.members[..]);
                    for &m in members {
                        self.scratch.clear();
                        self.caches
                            .target_reasons(config, state, m, Some(g), at, &mut self.scratch);
                        if self.scratch.is_empty() && m < config.targets.len() {
                            rep.eligible_members.push(m);
                        }
                    }
                    if rep.eligible_members.is_empty() {
                        rep.reasons.push(Reason {
                            code: ReasonCode::NoEligibleMember,
                            group: Some(g),
                            used: None,
                            limit: None,
                            until: None,
                        });
                    }
                }
            }
            rep.eligible = rep.reasons.is_empty();
        }
        self.len = n;
    }
}
