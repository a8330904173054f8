//! Stress: 8 workers hammer connect / reserve / convert / end on shared
//! targets and groups with small caps while an observer keeps snapshotting.
//! No cap may ever be exceeded, live counts return to 0, and totals equal
//! the number of successful counting events.

use crate::engine_support;

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;

use chrono::TimeDelta;
use engine_support::*;
use routecap::core::caps::{Limits, Trigger};
use routecap::core::lifecycle::ConnectOutcome;
use routecap::core::model::{CandidateRef, Config};
use routecap::core::money::Money;
use routecap::core::snapshot::Snapshot;
use routecap::core::zone::{Instant, Zone};
use routecap::Call;
use routecap::Engine;

const WORKERS: usize = 8;
const OPS_PER_WORKER: usize = 10_000;
const TARGETS: [&str; 6] = ["t0", "t1", "t2", "t3", "t4", "t5"];

fn stress_config() -> Config {
    let utc_z = Zone::utc();
    let ny = Zone::new(
        routecap::core::zone::resolve("America/New_York")
            .unwrap()
            .tz,
    );
    let l = Limits::default;
    let t0 = target(
        "t0",
        &utc_z,
        Limits {
            hourly: Some(3),
            concurrency: Some(2),
            ..l()
        },
    );
    let t1 = target(
        "t1",
        &ny,
        Limits {
            hourly: Some(4),
            daily: Some(20),
            concurrency: Some(3),
            ..l()
        },
    );
    let t2 = target(
        "t2",
        &utc_z,
        Limits {
            total: Some(150),
            monthly: Some(140),
            concurrency: Some(1),
            ..l()
        },
    );
    // revenue trigger: counts on convert, so it gets no count caps (those
    // can be exceeded by design with convert triggers) and only groups
    // without count caps
    let mut t3 = target(
        "t3",
        &ny,
        Limits {
            concurrency: Some(2),
            daily_revenue: Some(Money(5000)),
            ..l()
        },
    );
    t3.trigger = Trigger::Revenue;
    // concurrency only: the live limits are what bites here
    let conc = |id, n| {
        target(
            id,
            &utc_z,
            Limits {
                concurrency: Some(n),
                ..l()
            },
        )
    };
    let (t4, t5) = (conc("t4", 2), conc("t5", 3));
    let g0 = group(
        "g0",
        &[0, 1],
        &utc_z,
        Limits {
            hourly: Some(5),
            concurrency: Some(3),
            ..l()
        },
    );
    let g1 = group(
        "g1",
        &[1, 2],
        &ny,
        Limits {
            daily: Some(30),
            total: Some(400),
            ..l()
        },
    );
    let g2 = group(
        "g2",
        &[2, 3],
        &utc_z,
        Limits {
            concurrency: Some(2),
            ..l()
        },
    );
    let g3 = group(
        "g3",
        &[4, 5],
        &utc_z,
        Limits {
            concurrency: Some(4),
            ..l()
        },
    );
    config(vec![t0, t1, t2, t3, t4, t5], vec![g0, g1, g2, g3])
}

/// xorshift64*: a tiny deterministic generator per worker.
struct Rng(u64);
impl Rng {
    fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
    }
}

struct Clock {
    base: Instant,
    secs: AtomicI64,
}
impl Clock {
    /// Every event takes the next second: time moves ~4 hours per 16k ops,
    /// so windows roll over (across the New York spring-forward night).
    fn tick(&self) -> Instant {
        self.base + TimeDelta::seconds(self.secs.fetch_add(1, Ordering::SeqCst))
    }
    fn now(&self) -> Instant {
        self.base + TimeDelta::seconds(self.secs.load(Ordering::SeqCst))
    }
}

#[derive(Default)]
struct Tally {
    ops: AtomicU64,
    connected: AtomicU64,
    refused: AtomicU64,
    reserved: AtomicU64,
    confirmed: AtomicU64,
    errors: AtomicU64,
    /// Successful counting events per target.
    counted: [AtomicU64; 6],
    /// Refusals by printed reason code (first reason).
    refusals: std::sync::Mutex<std::collections::BTreeMap<String, u64>>,
}

fn worker(engine: &Engine, clock: &Clock, tally: &Tally, w: usize) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (w as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03));
    let mut live: Vec<(Call, usize, bool)> = Vec::new(); // (call, target, converted)
    let mut reserved: Vec<(Call, usize)> = Vec::new();
    let connect_counts = |t: usize| t != 3; // t3 has the revenue trigger
    for n in 0..OPS_PER_WORKER {
        tally.ops.fetch_add(1, Ordering::Relaxed);
        let at = clock.tick();
        match rng.next(10) {
            0..=3 => {
                let t = rng.next(TARGETS.len());
                let call = Call::new(format!("w{w}-{n}"));
                match engine.connect(&call, TARGETS[t], at) {
                    Ok(ConnectOutcome::Connected) => {
                        tally.connected.fetch_add(1, Ordering::Relaxed);
                        if connect_counts(t) {
                            tally.counted[t].fetch_add(1, Ordering::Relaxed);
                        }
                        live.push((call, t, false));
                    }
                    Ok(ConnectOutcome::Refused(rs)) => {
                        tally.refused.fetch_add(1, Ordering::Relaxed);
                        let mut m = tally.refusals.lock().unwrap();
                        for r in rs {
                            *m.entry(r.code_string()).or_default() += 1;
                        }
                    }
                    Err(e) => panic!("connect: {e}"),
                }
            }
            4 => {
                let t = rng.next(TARGETS.len());
                let call = Call::new(format!("w{w}-{n}"));
                let ttl = 1 + rng.next(40) as u64;
                match engine.reserve(&call, TARGETS[t], ttl, at) {
                    Ok(ConnectOutcome::Connected) => {
                        tally.reserved.fetch_add(1, Ordering::Relaxed);
                        reserved.push((call, t));
                    }
                    Ok(ConnectOutcome::Refused(_)) => {
                        tally.refused.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => panic!("reserve: {e}"),
                }
            }
            5 if !reserved.is_empty() => {
                let (call, t) = reserved.swap_remove(rng.next(reserved.len()));
                match engine.connect(&call, TARGETS[t], at) {
                    Ok(ConnectOutcome::Connected) => {
                        tally.confirmed.fetch_add(1, Ordering::Relaxed);
                        if connect_counts(t) {
                            tally.counted[t].fetch_add(1, Ordering::Relaxed);
                        }
                        live.push((call, t, false));
                    }
                    Ok(ConnectOutcome::Refused(_)) => {
                        tally.refused.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => panic!("confirm: {e}"),
                }
            }
            6 if !live.is_empty() => {
                let i = rng.next(live.len());
                let revenue = Money(rng.next(3) as i64 * 150);
                let res = engine.convert(&live[i].0, revenue, at);
                if live[i].2 {
                    assert!(res.is_err(), "second convert must fail");
                    tally.errors.fetch_add(1, Ordering::Relaxed);
                } else {
                    res.unwrap();
                    live[i].2 = true;
                    if live[i].1 == 3 && revenue > Money::ZERO {
                        tally.counted[3].fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            _ if !live.is_empty() => {
                let (call, _, _) = live.swap_remove(rng.next(live.len()));
                engine.end(&call, at).unwrap();
                assert!(engine.end(&call, at).is_err(), "second end must fail");
                tally.errors.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }
    for (call, _, _) in live {
        engine.end(&call, clock.tick()).unwrap();
    }
}

/// Assert no cap is exceeded, from a snapshot and from usage at the clock's
/// instant read under the lock (so no applied event is later than it).
fn assert_within_caps(engine: &Engine, snap: &Snapshot, clock: &Clock) {
    let cfg = engine.config();
    let owners = cfg
        .targets
        .iter()
        .map(|t| t.limits())
        .zip(&snap.targets)
        .chain(
            cfg.groups
                .iter()
                .map(|g| g.limits.clone())
                .zip(&snap.groups),
        );
    for (l, o) in owners {
        let le = |v: u64, lim: Option<u64>, what: &str| {
            assert!(
                lim.is_none_or(|lim| v <= lim),
                "{} {what}: {v} > {lim:?}",
                o.id
            )
        };
        le(o.hour.count, l.hourly, "hour");
        le(o.day.count, l.daily, "day");
        le(o.month.count, l.monthly, "month");
        le(o.total, l.total, "total");
        le(o.live, l.concurrency, "live");
    }
    engine.with_state(|cfg, st| {
        let at = clock.now();
        let owners = (0..cfg.targets.len())
            .map(|t| (CandidateRef::Target(t), cfg.targets[t].limits()))
            .chain(
                (0..cfg.groups.len())
                    .map(|g| (CandidateRef::Group(g), cfg.groups[g].limits.clone())),
            );
        for (owner, l) in owners {
            let u = st.usage(cfg, owner, at);
            let ok = |v: u64, lim: Option<u64>| lim.is_none_or(|lim| v <= lim);
            assert!(
                ok(u.hourly, l.hourly)
                    && ok(u.daily, l.daily)
                    && ok(u.monthly, l.monthly)
                    && ok(u.total, l.total)
                    && ok(u.live, l.concurrency),
                "{owner:?} at {at}: {u:?} over {l:?}"
            );
        }
    });
}

#[test]
fn no_cap_is_ever_exceeded_under_contention() {
    let engine = Arc::new(Engine::new(stress_config()));
    let clock = Arc::new(Clock {
        base: utc(2026, 3, 8, 4, 0),
        secs: AtomicI64::new(0),
    });
    let tally = Arc::new(Tally::default());
    let done = Arc::new(AtomicBool::new(false));

    let observer = {
        let (engine, clock, done) = (engine.clone(), clock.clone(), done.clone());
        thread::spawn(move || {
            let mut looks = 0u64;
            while !done.load(Ordering::SeqCst) {
                let snap = engine.snapshot();
                assert_within_caps(&engine, &snap, &clock);
                looks += 1;
            }
            looks
        })
    };
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let (engine, clock, tally) = (engine.clone(), clock.clone(), tally.clone());
            thread::spawn(move || worker(&engine, &clock, &tally, w))
        })
        .collect();
    for h in workers {
        h.join().expect("worker panicked");
    }
    done.store(true, Ordering::SeqCst);
    let looks = observer.join().expect("observer panicked");

    // after every reservation has expired, nothing is live anywhere
    let later = clock.now() + TimeDelta::hours(1);
    let cfg = engine.config().clone();
    let usage = |o| engine.with_state(|c, s| s.usage(c, o, later));
    for t in 0..cfg.targets.len() {
        let u = usage(CandidateRef::Target(t));
        assert_eq!(u.live, 0, "target {t} still live");
        let counted = tally.counted[t].load(Ordering::SeqCst);
        assert_eq!(u.total, counted, "target {t} total vs counted events");
    }
    for (g, group) in cfg.groups.iter().enumerate() {
        let u = usage(CandidateRef::Group(g));
        assert_eq!(u.live, 0, "group {g} still live");
        let counted: u64 = group
            .members
            .iter()
            .map(|&m| tally.counted[m].load(Ordering::SeqCst))
            .sum();
        assert_eq!(
            u.total, counted,
            "group {g} total vs members' counted events"
        );
    }
    let get = |a: &AtomicU64| a.load(Ordering::SeqCst);
    eprintln!(
        "stress: {} ops by {WORKERS} workers over {} simulated s; connected {}, reserved {}, confirmed {}, \
         refused {}, rejected duplicates {}, counted per target {:?}; observer looked {looks} times; \
         connect refusal reasons {:?}",
        get(&tally.ops),
        clock.now().signed_duration_since(clock.base).num_seconds(),
        get(&tally.connected),
        get(&tally.reserved),
        get(&tally.confirmed),
        get(&tally.refused),
        get(&tally.errors),
        tally.counted.iter().map(get).collect::<Vec<_>>(),
        tally.refusals.lock().unwrap(),
    );
    assert!(
        get(&tally.connected) > 0 && get(&tally.refused) > 0,
        "the caps must bite"
    );
    assert!(looks > 0);
}
