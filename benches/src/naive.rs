//! The naive peer: the routing decision written the straightforward way, as
//! a first version in a service would be. It is the yardstick of the
//! `naive/route/targets/*` benches.
//!
//! Per decision: convert the instant to each target's local time with
//! chrono-tz, judge hours and caps from the config's usage, sort the
//! eligible targets by priority, then draw each step with a `rand`
//! `WeightedIndex` rebuilt over what remains of the tier.
//!
//! It does strictly less than routecap: no reasons, no `until`, no groups,
//! no reservations, imported usage read as current (the fixture has no
//! `as_of`). Weight-0 targets follow their tier's positive weights in random
//! order, as docs/semantics.md describes.
//!
//! It reads its own plain copy of each target ([`Peer`], built once per
//! config, outside the timing): limits, usage and hours inline, the way a
//! first version would hold them, so that routecap's packed config layout
//! neither helps nor slows the yardstick.

use chrono::{Datelike, Timelike};
use rand::distr::weighted::WeightedIndex;
use rand::distr::Distribution;
use rand::Rng;
use routecap_core::caps::{Limits, Usage};
use routecap_core::hours::WeeklyHours;
use routecap_core::model::Config;
use routecap_core::zone::Zone;
use routecap_core::Instant;

/// One target as the naive peer holds it: everything inline.
#[derive(Clone, Debug)]
struct PlainTarget {
    paused: bool,
    zone: Zone,
    hours: Option<WeeklyHours>,
    limits: Limits,
    usage: Usage,
    priority: i32,
    weight: u32,
}

/// The naive peer's copy of a config's targets.
#[derive(Clone, Debug)]
pub struct Peer {
    targets: Vec<PlainTarget>,
}

impl Peer {
    /// Copy what the peer reads out of `config` (once, outside the timing).
    pub fn new(config: &Config) -> Peer {
        let targets = config
            .targets
            .iter()
            .map(|t| PlainTarget {
                paused: t.paused,
                zone: t.zone.clone(),
                hours: t.hours.as_deref().cloned(),
                limits: t.limits(),
                usage: t.usage(),
                priority: t.priority,
                weight: t.weight,
            })
            .collect();
        Peer { targets }
    }

    /// Indices of the eligible targets at `at`, in config order.
    pub fn eligible_set(&self, at: Instant) -> Vec<usize> {
        eligible_set(self, at)
    }

    /// The first `steps` steps of the failover plan at `at`.
    pub fn route<R: Rng>(&self, at: Instant, steps: usize, rng: &mut R) -> Vec<usize> {
        route(self, at, steps, rng)
    }
}

/// Whether target `i` is eligible at `at`, judged naively.
fn eligible(config: &Peer, i: usize, at: Instant) -> bool {
    let Some(t) = config.targets.get(i) else {
        return false;
    };
    if t.paused {
        return false;
    }
    if let Some(h) = &t.hours {
        let local = at.with_timezone(&t.zone.tz());
        let weekday = local.weekday().num_days_from_sunday() as usize;
        let minute = (local.hour() * 60 + local.minute()) as u16;
        if let Some(Some(d)) = h.days.get(weekday) {
            let inside = d.open <= minute && minute < d.close;
            if d.closed || inside == d.invert {
                return false;
            }
        }
    }
    let (l, u) = (&t.limits, &t.usage);
    let count_ok = |lim: Option<u64>, used: u64| lim.is_none_or(|lim| used < lim);
    let money_ok =
        |lim: Option<routecap_core::money::Money>, used| lim.is_none_or(|lim| used < lim);
    count_ok(l.hourly, u.hourly)
        && count_ok(l.daily, u.daily)
        && count_ok(l.monthly, u.monthly)
        && count_ok(l.total, u.total)
        && count_ok(l.concurrency, u.live)
        && money_ok(l.hourly_revenue, u.hourly_revenue)
        && money_ok(l.daily_revenue, u.daily_revenue)
        && money_ok(l.monthly_revenue, u.monthly_revenue)
        && money_ok(l.total_revenue, u.total_revenue)
}

fn eligible_set(config: &Peer, at: Instant) -> Vec<usize> {
    (0..config.targets.len())
        .filter(|&i| eligible(config, i, at))
        .collect()
}

fn route<R: Rng>(config: &Peer, at: Instant, steps: usize, rng: &mut R) -> Vec<usize> {
    let mut cands: Vec<(i32, usize, u32)> = eligible_set(config, at)
        .into_iter()
        .map(|i| (config.targets[i].priority, i, config.targets[i].weight))
        .collect();
    cands.sort_by_key(|&(p, _, _)| p);
    let mut plan = Vec::with_capacity(steps);
    let mut start = 0;
    while start < cands.len() && plan.len() < steps {
        let tier = cands[start].0;
        let end = start + cands[start..].iter().take_while(|c| c.0 == tier).count();
        let mut positive: Vec<(usize, u32)> = cands[start..end]
            .iter()
            .filter(|c| c.2 > 0)
            .map(|c| (c.1, c.2))
            .collect();
        let mut zeros: Vec<(usize, u32)> = cands[start..end]
            .iter()
            .filter(|c| c.2 == 0)
            .map(|c| (c.1, 1))
            .collect();
        for pool in [&mut positive, &mut zeros] {
            while !pool.is_empty() && plan.len() < steps {
                let dist =
                    WeightedIndex::new(pool.iter().map(|&(_, w)| w)).expect("positive weights");
                let k = dist.sample(rng);
                plan.push(pool.remove(k).0);
            }
        }
        start = end;
    }
    plan
}
