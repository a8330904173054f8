//! Leases, touch, cancel and forgetting (docs/semantics.md), with exact instants:
//! a call whose `end` never comes frees its slot at connect + lease (not a
//! second before), `touch` renews it, a late `end` is accepted and frees
//! nothing more, imported live calls free at `as_of` + lease, `cancel`
//! frees a reservation at once, and settled calls are forgotten after the
//! retention. Then the bounded-memory law and a property test against a
//! reference model.

use std::collections::HashMap;

use crate::caps_support;

use caps_support::*;
use chrono::TimeDelta;
use proptest::prelude::*;
use routecap_core::caps::Trigger;
use routecap_core::eligibility::{check, target_reasons, Reason};
use routecap_core::lifecycle::{ConnectOutcome, LifecycleError, State};
use routecap_core::model::{CandidateRef, Config};
use routecap_core::money::Money;
use routecap_core::zone::Instant;

type E = LifecycleError;

const T0: CandidateRef = CandidateRef::Target(0);

fn secs(s: i64) -> TimeDelta {
    TimeDelta::seconds(s)
}

fn codes(cfg: &Config, st: &State, t: usize, at: Instant) -> Vec<String> {
    let mut out: Vec<Reason> = Vec::new();
    target_reasons(cfg, st, t, at, &mut out);
    out.iter().map(|r| r.code_string()).collect()
}

fn connected(st: &mut State, cfg: &Config, call: &str, t: usize, at: Instant) {
    assert_eq!(
        st.connect(cfg, call, t, at),
        Ok(ConnectOutcome::Connected),
        "{call} at {at}"
    );
}

fn refused(st: &mut State, cfg: &Config, call: &str, t: usize, at: Instant) {
    assert!(
        matches!(st.connect(cfg, call, t, at), Ok(ConnectOutcome::Refused(_))),
        "{call} at {at} should be refused"
    );
}

/// One UTC target with concurrency 1 (and a daily cap of 100).
fn one_line() -> Config {
    let mut t = target("a");
    t.limits_mut().concurrency = Some(1);
    t.limits_mut().daily = Some(100);
    config(vec![t], vec![])
}

#[test]
fn defaults_are_four_hours_and_one_day() {
    let cfg = one_line();
    assert_eq!(cfg.call_lease_seconds, 14_400);
    assert_eq!(cfg.call_retention_seconds, 86_400);
}

#[test]
fn a_call_never_ended_frees_its_slot_exactly_at_connect_plus_lease() {
    let cfg = one_line();
    let mut st = State::new(&cfg);
    let at = utc(2026, 11, 22, 10, 0);
    connected(&mut st, &cfg, "c1", 0, at);
    let lapse = utc(2026, 11, 22, 14, 0); // 10:00 + 14400 s
    assert_eq!(codes(&cfg, &st, 0, lapse - secs(1)), ["concurrency_cap"]);
    assert_eq!(st.usage(&cfg, T0, lapse - secs(1)).live, 1);
    // a check at the expiry already sees the slot free, before any sweep
    assert!(codes(&cfg, &st, 0, lapse).is_empty());
    assert_eq!(st.usage(&cfg, T0, lapse).live, 0);
    assert_eq!(st.live(T0, lapse), 0);
    // so does the fast checker (its kept reports end at the lease expiry)
    let mut checker = routecap_core::eligibility::Checker::new(&cfg);
    assert!(!checker.check(&cfg, &st, lapse - secs(1))[0].eligible);
    assert!(checker.check(&cfg, &st, lapse)[0].eligible);
    assert_eq!(check(&cfg, &st, lapse)[0].reasons, vec![]);
    // connects: one second before is refused, at the expiry accepted
    refused(&mut st, &cfg, "c2", 0, lapse - secs(1));
    connected(&mut st, &cfg, "c2", 0, lapse);
    let c1 = st.call("c1").unwrap();
    assert!(c1.lapsed, "the connect swept the lapsed lease");
    assert_eq!(c1.lease_until, Some(lapse));
    assert_eq!(c1.settled_at(), Some(lapse));
    assert_eq!(st.usage(&cfg, T0, lapse).live, 1);
}

#[test]
fn touch_renews_the_lease_from_the_touch_instant() {
    let cfg = one_line();
    let mut st = State::new(&cfg);
    connected(&mut st, &cfg, "c1", 0, utc(2026, 11, 22, 10, 0));
    st.touch(&cfg, "c1", utc(2026, 11, 22, 13, 0)).unwrap();
    let lapse = utc(2026, 11, 22, 17, 0); // 13:00 + 4 h
    assert_eq!(st.call("c1").unwrap().lease_until, Some(lapse));
    assert_eq!(
        codes(&cfg, &st, 0, utc(2026, 11, 22, 14, 0)),
        ["concurrency_cap"]
    );
    assert_eq!(codes(&cfg, &st, 0, lapse - secs(1)), ["concurrency_cap"]);
    assert!(codes(&cfg, &st, 0, lapse).is_empty());
    // a touch never shortens a lease (an earlier instant, as the core allows)
    st.touch(&cfg, "c1", utc(2026, 11, 22, 12, 0)).unwrap();
    assert_eq!(st.call("c1").unwrap().lease_until, Some(lapse));
    // at the expiry the lease has run out: touch is an error, nothing changes
    let before = st.clone();
    assert_eq!(
        st.touch(&cfg, "c1", lapse),
        Err(E::LeaseExpired {
            call: "c1".into(),
            until: lapse
        })
    );
    assert_eq!(
        st.touch(&cfg, "c1", lapse).unwrap_err().to_string(),
        r#"call "c1": lease expired at 2026-11-22T17:00:00Z"#
    );
    assert_eq!(st, before);
    // touches of ended, reserved-only and unknown calls are errors too
    connected(&mut st, &cfg, "c2", 0, lapse);
    st.end(&cfg, "c2", lapse + secs(60)).unwrap();
    assert_eq!(
        st.touch(&cfg, "c2", lapse + secs(61)),
        Err(E::AlreadyEnded("c2".into()))
    );
    st.reserve(&cfg, "r", 0, 600, lapse + secs(62)).unwrap();
    assert_eq!(
        st.touch(&cfg, "r", lapse + secs(63)),
        Err(E::NotConnected("r".into()))
    );
    assert_eq!(
        st.touch(&cfg, "ghost", lapse + secs(63)),
        Err(E::UnknownCall("ghost".into()))
    );
}

#[test]
fn an_end_after_the_lease_ran_out_is_ok_and_changes_nothing_more() {
    let mut cfg = one_line();
    cfg.call_lease_seconds = 3600;
    let mut st = State::new(&cfg);
    connected(&mut st, &cfg, "c1", 0, utc(2026, 11, 22, 10, 0));
    connected(&mut st, &cfg, "c2", 0, utc(2026, 11, 22, 11, 0)); // c1 lapsed at 11:00
    let late = utc(2026, 11, 22, 11, 30);
    let usage = st.usage(&cfg, T0, late);
    assert_eq!(st.end(&cfg, "c1", late), Ok(()));
    // c2 still holds the only slot: the late end released nothing
    assert_eq!(st.usage(&cfg, T0, late), usage);
    assert_eq!(usage.live, 1);
    refused(&mut st, &cfg, "c3", 0, late);
    // the end is recorded: a second one is still an error
    assert_eq!(st.end(&cfg, "c1", late), Err(E::AlreadyEnded("c1".into())));
    let c1 = st.call("c1").unwrap();
    assert_eq!(c1.ended_at, Some(late));
    // still settled when its lease ran out (forgetting counts from there)
    assert_eq!(c1.settled_at(), Some(utc(2026, 11, 22, 11, 0)));
    // and a lapsed call may still convert
    st.convert(&cfg, "c1", Money(500), late).unwrap();
    assert_eq!(st.usage(&cfg, T0, late).daily_revenue, Money(500));
}

#[test]
fn a_touch_stamped_before_a_swept_lapse_cannot_revive_the_call() {
    // events out of order: c1's lease runs out at 12:00 and the connect of
    // c2 at 12:00 sweeps it; a touch stamped 11:59:58 arrives afterwards.
    // The state already released c1's slot and queued it for forgetting at
    // 12:00, so the touch is refused and changes nothing (found by the
    // snapshot law: renewing it made the forgetting instant depend on
    // whether the state had been restored in between).
    let mut cfg = one_line();
    cfg.call_lease_seconds = 7200;
    let mut st = State::new(&cfg);
    let lapse = utc(2026, 11, 22, 12, 0);
    connected(&mut st, &cfg, "c1", 0, utc(2026, 11, 22, 10, 0));
    connected(&mut st, &cfg, "c2", 0, lapse);
    assert!(st.call("c1").unwrap().lapsed);
    let before = st.clone();
    assert_eq!(
        st.touch(&cfg, "c1", lapse - secs(2)),
        Err(E::LeaseExpired {
            call: "c1".into(),
            until: lapse
        })
    );
    assert_eq!(st, before);
    assert_eq!(st.call("c1").unwrap().settled_at(), Some(lapse));
    // c2 still holds the only slot
    refused(&mut st, &cfg, "c3", 0, lapse + secs(1));
}

#[test]
fn a_late_end_unswept_releases_nothing_either() {
    // no event between the lapse and the end: the end's own sweep releases
    // the lease first, so the end does not release a second time
    let mut a = target("a");
    a.limits_mut().concurrency = Some(2);
    let mut cfg = config(vec![a], vec![]);
    cfg.call_lease_seconds = 60;
    let mut st = State::new(&cfg);
    let at = utc(2026, 3, 1, 0, 0);
    connected(&mut st, &cfg, "long", 0, at);
    connected(&mut st, &cfg, "short", 0, at + secs(30));
    st.touch(&cfg, "short", at + secs(80)).unwrap(); // short: until 02:20
    st.end(&cfg, "long", at + secs(100)).unwrap(); // long lapsed at 01:00
    assert_eq!(st.live(T0, at + secs(100)), 1);
    st.end(&cfg, "short", at + secs(110)).unwrap();
    assert_eq!(st.live(T0, at + secs(110)), 0);
    assert_eq!(st.ledger().lease_count(), 0);
}

#[test]
fn imported_live_calls_free_at_as_of_plus_lease() {
    let mut t = target("a");
    t.limits_mut().concurrency = Some(2);
    t.usage_mut().live = 2;
    let mut cfg = config(vec![t, target("b")], vec![]);
    let as_of = utc(2026, 11, 22, 12, 0);
    cfg.as_of = Some(as_of);
    let st = State::new(&cfg);
    let free = utc(2026, 11, 22, 16, 0);
    assert_eq!(st.ledger().imported_live(T0), (2, Some(free)));
    assert_eq!(codes(&cfg, &st, 0, free - secs(1)), ["concurrency_cap"]);
    assert_eq!(st.usage(&cfg, T0, free - secs(1)).live, 2);
    assert!(codes(&cfg, &st, 0, free).is_empty());
    assert_eq!(st.usage(&cfg, T0, free).live, 0);

    // without as_of: from the anchor (the first lifecycle event) + lease
    cfg.as_of = None;
    let mut st = State::new(&cfg);
    assert_eq!(st.ledger().imported_live(T0), (2, None));
    assert_eq!(
        codes(&cfg, &st, 0, utc(2030, 1, 1, 0, 0)),
        ["concurrency_cap"]
    );
    connected(&mut st, &cfg, "x", 1, utc(2026, 11, 22, 13, 0));
    let free = utc(2026, 11, 22, 17, 0);
    assert_eq!(st.ledger().imported_live(T0), (2, Some(free)));
    assert_eq!(st.live(T0, free - secs(1)), 2);
    assert_eq!(st.live(T0, free), 0);

    // a usage import replaces them: 1 live call as of 16:30, until 20:30
    st.import_live(&cfg, T0, 1, utc(2026, 11, 22, 16, 30));
    assert_eq!(st.live(T0, utc(2026, 11, 22, 16, 29)), 1);
    assert_eq!(st.live(T0, utc(2026, 11, 22, 20, 29)), 1);
    assert_eq!(st.live(T0, utc(2026, 11, 22, 20, 30)), 0);
    // own calls come on top of imported ones
    connected(&mut st, &cfg, "y", 0, utc(2026, 11, 22, 18, 0));
    assert_eq!(
        codes(&cfg, &st, 0, utc(2026, 11, 22, 18, 0)),
        ["concurrency_cap"]
    );
    assert_eq!(st.live(T0, utc(2026, 11, 22, 20, 30)), 1);
}

#[test]
fn imported_live_calls_of_a_group_free_too() {
    let mut g = group("g", &[0, 1]);
    g.limits.concurrency = Some(1);
    g.usage.live = 1;
    let mut cfg = config(vec![target("a"), target("b")], vec![g]);
    cfg.as_of = Some(utc(2026, 1, 1, 0, 0));
    cfg.call_lease_seconds = 600;
    let mut st = State::new(&cfg);
    assert_eq!(
        codes(&cfg, &st, 1, utc(2026, 1, 1, 0, 9)),
        ["group_concurrency_cap"]
    );
    refused(&mut st, &cfg, "c", 1, utc(2026, 1, 1, 0, 9));
    connected(&mut st, &cfg, "c", 1, utc(2026, 1, 1, 0, 10));
}

#[test]
fn cancel_frees_a_reservation_at_once() {
    let cfg = one_line();
    let mut st = State::new(&cfg);
    let at = utc(2026, 11, 22, 10, 0);
    assert_eq!(
        st.reserve(&cfg, "r1", 0, 3600, at),
        Ok(ConnectOutcome::Connected)
    );
    assert_eq!(st.usage(&cfg, T0, at).daily, 1, "the hold counts");
    refused(&mut st, &cfg, "c1", 0, at + secs(60));
    assert_eq!(st.cancel(&cfg, "r1", at + secs(60)), Ok(()));
    // freed at once: the same instant sees concurrency and the daily unit back
    assert!(codes(&cfg, &st, 0, at + secs(60)).is_empty());
    assert_eq!(st.usage(&cfg, T0, at + secs(60)).daily, 0);
    assert!(st.call("r1").is_none());
    connected(&mut st, &cfg, "c1", 0, at + secs(60));
    // cancelling a connected or unknown call: an error that changes nothing
    let before = st.clone();
    assert_eq!(
        st.cancel(&cfg, "c1", at + secs(61)),
        Err(E::NotReserved("c1".into()))
    );
    assert_eq!(
        st.cancel(&cfg, "r1", at + secs(61)),
        Err(E::UnknownCall("r1".into()))
    );
    assert_eq!(st, before);
    // an expired reservation is gone: cancelling it is unknown too
    st.end(&cfg, "c1", at + secs(62)).unwrap();
    st.reserve(&cfg, "r2", 0, 30, at + secs(100)).unwrap();
    assert_eq!(
        st.cancel(&cfg, "r2", at + secs(130)),
        Err(E::UnknownCall("r2".into()))
    );
    assert_eq!(st.cancel(&cfg, "r2", at + secs(129)), Ok(()));
}

/// Convert-trigger target with daily cap 10, retention 1 hour.
fn retention_config() -> Config {
    let mut t = target("a");
    t.trigger = Trigger::Convert;
    t.limits_mut().daily = Some(10);
    let mut cfg = config(vec![t], vec![]);
    cfg.call_retention_seconds = 3600;
    cfg
}

#[test]
fn a_late_conversion_counts_until_the_call_is_forgotten() {
    let cfg = retention_config();
    let mut st = State::new(&cfg);
    connected(&mut st, &cfg, "c1", 0, utc(2026, 11, 22, 10, 0));
    st.end(&cfg, "c1", utc(2026, 11, 22, 10, 10)).unwrap();
    // one second before end + retention: accepted and counted
    let last = utc(2026, 11, 22, 11, 9) + secs(59);
    st.convert(&cfg, "c1", Money(1200), last).unwrap();
    let u = st.usage(&cfg, T0, last);
    assert_eq!((u.daily, u.daily_revenue), (1, Money(1200)));
    assert_eq!(st.call_count(), 1);
}

#[test]
fn events_for_a_forgotten_call_are_unknown_and_change_nothing() {
    let cfg = retention_config();
    let mut st = State::new(&cfg);
    connected(&mut st, &cfg, "c1", 0, utc(2026, 11, 22, 10, 0));
    st.end(&cfg, "c1", utc(2026, 11, 22, 10, 10)).unwrap();
    let gone = utc(2026, 11, 22, 11, 10); // end + 3600 s
                                          // not swept yet, but already forgotten for an event at that instant
    assert_eq!(st.call_count(), 1);
    let before = st.clone();
    for r in [
        st.convert(&cfg, "c1", Money(1200), gone),
        st.end(&cfg, "c1", gone),
        st.touch(&cfg, "c1", gone),
        st.cancel(&cfg, "c1", gone),
    ] {
        assert_eq!(r, Err(E::UnknownCall("c1".into())));
    }
    assert_eq!(st, before, "errors change nothing, not even a sweep");
    // the next accepted event sweeps it
    connected(&mut st, &cfg, "c2", 0, gone);
    assert!(st.call("c1").is_none());
    assert_eq!(st.call_count(), 1);
    // the id is free: a connect with it is a new call
    connected(&mut st, &cfg, "c1", 0, gone + secs(1));
    assert_eq!(st.call("c1").unwrap().ended_at, None);
}

#[test]
fn a_lapsed_call_is_forgotten_retention_after_its_lease_ran_out() {
    let mut cfg = retention_config();
    cfg.call_lease_seconds = 600;
    let mut st = State::new(&cfg);
    connected(&mut st, &cfg, "c1", 0, utc(2026, 11, 22, 10, 0));
    // lapsed at 10:10, forgotten at 11:10
    st.convert(&cfg, "c1", Money(100), utc(2026, 11, 22, 11, 9))
        .unwrap();
    assert!(st.call("c1").unwrap().lapsed);
    assert_eq!(
        st.end(&cfg, "c1", utc(2026, 11, 22, 11, 10)),
        Err(E::UnknownCall("c1".into()))
    );
    // advance sweeps without an event
    st.advance(&cfg, utc(2026, 11, 22, 11, 10));
    assert_eq!(st.call_count(), 0);
}

#[test]
fn call_records_stay_bounded_over_a_long_run() {
    // a call every 10 s for 20 days: each lasts 30 s, every 50th never ends
    // (its lease runs out); lease 10 min, retention 1 h
    let mut cfg = config(vec![target("a")], vec![]);
    cfg.call_lease_seconds = 600;
    cfg.call_retention_seconds = 3600;
    let mut st = State::new(&cfg);
    let start = utc(2026, 1, 1, 0, 0);
    let n: i64 = 20 * 8640;
    let mut peak = 0;
    for i in 0..n {
        let at = start + secs(10 * i);
        connected(&mut st, &cfg, &format!("c{i}"), 0, at);
        let j = i - 3; // the call that started 30 s ago
        if j >= 0 && j % 50 != 0 {
            st.end(&cfg, &format!("c{j}"), at).unwrap();
        }
        peak = peak.max(st.call_count());
        // live + settled within retention (+ lease for lapsed ones), at
        // one call per 10 s: at most (3600 + 600) / 10 + 1 records
        assert!(
            st.call_count() <= 421,
            "{} records at call {i}",
            st.call_count()
        );
        assert!(st.ledger().lease_count() <= 61 + 3);
    }
    // it does keep the retention window, and a never-forgetting state
    // would hold every call
    assert!(peak >= 360, "peak {peak}");
    assert!((n as usize) > 400 * peak);
    // the last 3 calls, and the leaked one of 500 s ago whose lease holds
    assert_eq!(st.live(T0, start + secs(10 * n)), 4);
}

// ---------------------------------------------------------------------------
// Property: a reference model of leases, reservations and forgetting.

const LEASE: i64 = 3600;
const RETENTION: i64 = 7200;

/// Targets 0..3 with concurrency caps, group g over targets 1 and 2.
fn model_config(caps: [u64; 3], gcap: u64) -> Config {
    let targets = caps
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let mut t = target(&format!("t{i}"));
            t.limits_mut().concurrency = Some(c);
            t
        })
        .collect();
    let mut g = group("g", &[1, 2]);
    g.limits.concurrency = Some(gcap);
    let mut cfg = config(targets, vec![g]);
    cfg.call_lease_seconds = LEASE as u64;
    cfg.call_retention_seconds = RETENTION as u64;
    cfg
}

#[derive(Clone, Debug)]
enum Op {
    Connect(u8, usize),
    Reserve(u8, usize, u64),
    Convert(u8),
    End(u8),
    Touch(u8),
    Cancel(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0u8..10, 0usize..3).prop_map(|(c, t)| Op::Connect(c, t)),
        2 => (0u8..10, 0usize..3, 1u64..5000).prop_map(|(c, t, s)| Op::Reserve(c, t, s)),
        2 => (0u8..10).prop_map(Op::Convert),
        3 => (0u8..10).prop_map(Op::End),
        3 => (0u8..10).prop_map(Op::Touch),
        1 => (0u8..10).prop_map(Op::Cancel),
    ]
}

#[derive(Clone, Debug)]
enum Rec {
    Reserved {
        t: usize,
        expires: Instant,
    },
    Connected {
        t: usize,
        lease: Instant,
        ended: Option<Instant>,
        converted: bool,
    },
}

/// The lease and forgetting rules written plainly: no queues, no sweeping,
/// everything judged from the records at the instant asked.
#[derive(Default)]
struct Model {
    calls: HashMap<String, Rec>,
}

impl Model {
    fn get(&self, call: &str, at: Instant) -> Option<&Rec> {
        self.calls.get(call).filter(|r| match **r {
            Rec::Reserved { expires, .. } => expires > at,
            Rec::Connected { lease, ended, .. } => {
                let settled = match ended {
                    Some(e) => Some(e.min(lease)),
                    None => (lease <= at).then_some(lease),
                };
                settled.is_none_or(|s| s + secs(RETENTION) > at)
            }
        })
    }

    /// Live calls and live holds of target `t` (or of the group when `t`
    /// is `None`) at `at`, leaving out `skip`.
    fn used(&self, t: Option<usize>, at: Instant, skip: Option<&str>) -> (u64, u64) {
        let on = |x: usize| t.map_or(x == 1 || x == 2, |t| t == x);
        let (mut live, mut held) = (0, 0);
        for (id, r) in &self.calls {
            if Some(id.as_str()) == skip {
                continue;
            }
            match *r {
                Rec::Reserved { t: x, expires } if on(x) && expires > at => held += 1,
                Rec::Connected {
                    t: x,
                    lease,
                    ended: None,
                    ..
                } if on(x) && at < lease => live += 1,
                _ => {}
            }
        }
        (live, held)
    }

    fn room(&self, cfg: &Config, t: usize, at: Instant, skip: Option<&str>) -> bool {
        let cap = cfg.targets[t].limits().concurrency.unwrap_or(u64::MAX);
        let (l, h) = self.used(Some(t), at, skip);
        let mut ok = l + h < cap;
        if t == 1 || t == 2 {
            let gcap = cfg.groups[0].limits.concurrency.unwrap_or(u64::MAX);
            let (l, h) = self.used(None, at, skip);
            ok &= l + h < gcap;
        }
        ok
    }

    /// The expected outcome of `op`, applied to the model.
    fn apply(&mut self, cfg: &Config, op: &Op, at: Instant) -> String {
        let id = |c: &u8| format!("c{c}");
        let lease = at + secs(LEASE);
        match op {
            Op::Connect(c, t) => {
                let call = id(c);
                let confirm = match self.get(&call, at) {
                    None => false,
                    Some(Rec::Reserved { t: x, .. }) if x == t => true,
                    Some(Rec::Reserved { .. }) => return "ReservedForOtherTarget".into(),
                    Some(Rec::Connected { .. }) => return "AlreadyConnected".into(),
                };
                let skip = confirm.then_some(call.as_str());
                if !self.room(cfg, *t, at, skip) {
                    return "Refused".into();
                }
                self.calls.insert(
                    call,
                    Rec::Connected {
                        t: *t,
                        lease,
                        ended: None,
                        converted: false,
                    },
                );
                "Connected".into()
            }
            Op::Reserve(c, t, ttl) => {
                let call = id(c);
                if self.get(&call, at).is_some() {
                    return "AlreadyExists".into();
                }
                if !self.room(cfg, *t, at, None) {
                    return "Refused".into();
                }
                let expires = at + secs(*ttl as i64);
                self.calls.insert(call, Rec::Reserved { t: *t, expires });
                "Connected".into()
            }
            Op::Convert(c) | Op::End(c) | Op::Touch(c) | Op::Cancel(c) => {
                let call = id(c);
                let Some(rec) = self.get(&call, at).cloned() else {
                    return "UnknownCall".into();
                };
                match (op, rec) {
                    (Op::Cancel(_), Rec::Reserved { .. }) => {
                        self.calls.remove(&call);
                        "Ok".into()
                    }
                    (Op::Cancel(_), _) => "NotReserved".into(),
                    (_, Rec::Reserved { .. }) => "NotConnected".into(),
                    (
                        Op::Convert(_),
                        Rec::Connected {
                            t,
                            lease: l,
                            ended,
                            converted,
                        },
                    ) => {
                        if converted {
                            return "AlreadyConverted".into();
                        }
                        self.calls.insert(
                            call,
                            Rec::Connected {
                                t,
                                lease: l,
                                ended,
                                converted: true,
                            },
                        );
                        "Ok".into()
                    }
                    (Op::End(_), Rec::Connected { ended: Some(_), .. })
                    | (Op::Touch(_), Rec::Connected { ended: Some(_), .. }) => {
                        "AlreadyEnded".into()
                    }
                    (
                        Op::End(_),
                        Rec::Connected {
                            t,
                            lease: l,
                            converted,
                            ..
                        },
                    ) => {
                        self.calls.insert(
                            call,
                            Rec::Connected {
                                t,
                                lease: l,
                                ended: Some(at),
                                converted,
                            },
                        );
                        "Ok".into()
                    }
                    (Op::Touch(_), Rec::Connected { lease: l, .. }) if l <= at => {
                        "LeaseExpired".into()
                    }
                    (
                        Op::Touch(_),
                        Rec::Connected {
                            t,
                            lease: l,
                            converted,
                            ..
                        },
                    ) => {
                        self.calls.insert(
                            call,
                            Rec::Connected {
                                t,
                                lease: l.max(lease),
                                ended: None,
                                converted,
                            },
                        );
                        "Ok".into()
                    }
                    _ => unreachable!(),
                }
            }
        }
    }
}

/// The state's answer reduced to the model's words.
fn outcome(r: Result<ConnectOutcome, LifecycleError>) -> String {
    match r {
        Ok(ConnectOutcome::Connected) => "Connected".into(),
        Ok(ConnectOutcome::Refused(_)) => "Refused".into(),
        Err(e) => error_name(&e),
    }
}

fn error_name(e: &LifecycleError) -> String {
    let debug = format!("{e:?}");
    debug
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or_default()
        .to_string()
}

fn done(r: Result<(), LifecycleError>) -> String {
    match r {
        Ok(()) => "Ok".into(),
        Err(e) => error_name(&e),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn leases_match_the_reference_model_and_no_cap_is_exceeded(
        caps in [1u64..4, 1u64..4, 1u64..4],
        gcap in 1u64..5,
        ops in prop::collection::vec((0i64..2400, op(), 0i64..7200), 1..80),
    ) {
        let cfg = model_config(caps, gcap);
        let mut st = State::new(&cfg);
        let mut model = Model::default();
        let mut at = utc(2026, 6, 1, 0, 0);
        for (dt, op, ahead) in &ops {
            at += secs(*dt);
            let call = |c: &u8| format!("c{c}");
            let got = match op {
                Op::Connect(c, t) => outcome(st.connect(&cfg, &call(c), *t, at)),
                Op::Reserve(c, t, s) => outcome(st.reserve(&cfg, &call(c), *t, *s, at)),
                Op::Convert(c) => done(st.convert(&cfg, &call(c), Money(100), at)),
                Op::End(c) => done(st.end(&cfg, &call(c), at)),
                Op::Touch(c) => done(st.touch(&cfg, &call(c), at)),
                Op::Cancel(c) => done(st.cancel(&cfg, &call(c), at)),
            };
            let want = model.apply(&cfg, op, at);
            prop_assert_eq!(&got, &want, "{:?} at {}", op, at);
            // now and later (reads see lapses before any sweep)
            for when in [at, at + secs(*ahead)] {
                let owners = (0..3)
                    .map(|t| (CandidateRef::Target(t), Some(t)))
                    .chain([(CandidateRef::Group(0), None)]);
                for (owner, key) in owners {
                    let (live, held) = model.used(key, when, None);
                    prop_assert_eq!(st.live(owner, when), live, "{:?} at {}", owner, when);
                    let u = st.usage(&cfg, owner, when);
                    prop_assert_eq!(u.live, live + held, "{:?} at {}", owner, when);
                    let cap = match owner {
                        CandidateRef::Target(t) => caps[t],
                        CandidateRef::Group(_) => gcap,
                    };
                    prop_assert!(u.live <= cap, "{:?} over its cap at {}", owner, when);
                }
            }
            // the state holds no more records than the model still knows
            let known = model.calls.keys().filter(|c| model.get(c, at).is_some()).count();
            prop_assert!(st.call_count() >= known);
            prop_assert!(st.ledger().lease_count() <= st.call_count());
        }
    }
}

#[test]
fn the_native_shape_reads_lease_and_retention_and_imports_default_them() {
    use routecap_core::formats::{parse_config, Format};
    let native = parse_config(
        br#"{"call_lease_seconds": 600, "call_retention_seconds": 7200, "targets": [{"id": "a"}]}"#,
        "n.json",
        None,
    )
    .unwrap();
    assert_eq!(
        (native.call_lease_seconds, native.call_retention_seconds),
        (600, 7200)
    );
    let plain = parse_config(br#"{"targets": [{"id": "a"}]}"#, "n.json", None).unwrap();
    assert_eq!(
        (plain.call_lease_seconds, plain.call_retention_seconds),
        (14_400, 86_400)
    );
    let retreaver = parse_config(
        br#"{"target": {"id": 1, "calls_in_progress": 1}}"#,
        "r.json",
        Some(Format::Retreaver),
    )
    .unwrap();
    assert_eq!(retreaver.call_lease_seconds, 14_400);
    let ringba = parse_config(
        br#"{"targets": [{"id": "T1", "enabled": true}], "stats": {}}"#,
        "g.json",
        Some(Format::Ringba),
    )
    .unwrap();
    assert_eq!(ringba.call_retention_seconds, 86_400);
    // the keys alone make a document native
    let detected = parse_config(br#"{"call_lease_seconds": 60, "targets": []}"#, "x", None);
    assert_eq!(detected.unwrap().call_lease_seconds, 60);
    let err = parse_config(
        br#"{"call_retention_seconds": 0, "targets": []}"#,
        "x.json",
        None,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "x.json: call_retention_seconds: 0 is not a number of seconds (an integer from 1 to 315576000, i.e. 10 years)"
    );
}
