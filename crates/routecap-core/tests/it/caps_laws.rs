//! Laws of the lifecycle over random event sequences: connect-trigger caps
//! are never exceeded, errors change nothing, totals equal counted events,
//! and ending every call brings live counts back to the imported ones.

use crate::caps_support;

use caps_support::*;
use chrono::TimeDelta;
use proptest::prelude::*;
use routecap_core::caps::{Limits, Usage};
use routecap_core::lifecycle::{ConnectOutcome, State};
use routecap_core::model::{CandidateRef, Config};
use routecap_core::money::Money;
use routecap_core::zone::Instant;

fn small_caps() -> impl Strategy<Value = Limits> {
    let cap = || prop::option::of(0u64..4);
    (cap(), cap(), cap(), cap(), cap()).prop_map(|(hourly, daily, monthly, total, concurrency)| {
        Limits {
            hourly,
            daily,
            monthly,
            total,
            concurrency,
            ..Limits::default()
        }
    })
}

fn build(caps: &[Limits], gcaps: &[Limits]) -> Config {
    let targets = caps
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let mut t = target(&format!("t{i}"));
            if i == 0 {
                t.zone = new_york();
            }
            *t.limits_mut() = l.clone();
            t
        })
        .collect();
    let groups = vec![group("g0", &[0, 1]), group("g1", &[1, 2])]
        .into_iter()
        .zip(gcaps)
        .map(|(mut g, l)| {
            g.limits = l.clone();
            g
        })
        .collect();
    config(targets, groups)
}

fn within(u: &Usage, l: &Limits) -> bool {
    let ok = |used: u64, lim: Option<u64>| lim.is_none_or(|lim| used <= lim);
    ok(u.hourly, l.hourly)
        && ok(u.daily, l.daily)
        && ok(u.monthly, l.monthly)
        && ok(u.total, l.total)
        && ok(u.live, l.concurrency)
}

#[derive(Clone, Debug)]
enum Ev {
    Connect(u8, usize),
    Reserve(u8, usize, u64),
    Convert(u8, i64),
    End(u8),
}

fn ev() -> impl Strategy<Value = Ev> {
    prop_oneof![
        (0u8..10, 0usize..3).prop_map(|(c, t)| Ev::Connect(c, t)),
        (0u8..10, 0usize..3, 1u64..1800).prop_map(|(c, t, s)| Ev::Reserve(c, t, s)),
        (0u8..10, -5i64..500).prop_map(|(c, r)| Ev::Convert(c, r)),
        (0u8..10).prop_map(Ev::End),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn connect_never_overbooks_and_errors_change_nothing(
        caps in prop::collection::vec(small_caps(), 3),
        gcaps in prop::collection::vec(small_caps(), 2),
        evs in prop::collection::vec((0i64..2400, ev()), 1..40),
    ) {
        let cfg = build(&caps, &gcaps);
        let mut st = State::new(&cfg);
        let mut at: Instant = utc(2026, 3, 8, 5, 0); // NY spring-forward day
        let mut counted = [0u64; 3];
        for (dt, e) in &evs {
            at += TimeDelta::seconds(*dt);
            let before = st.clone();
            let res = match e {
                Ev::Connect(c, t) => st.connect(&cfg, &format!("c{c}"), *t, at).map(|o| {
                    if o == ConnectOutcome::Connected { counted[*t] += 1; }
                    Some(o)
                }),
                Ev::Reserve(c, t, s) => st.reserve(&cfg, &format!("c{c}"), *t, *s, at).map(Some),
                Ev::Convert(c, r) => st.convert(&cfg, &format!("c{c}"), Money(*r), at).map(|_| None),
                Ev::End(c) => st.end(&cfg, &format!("c{c}"), at).map(|_| None),
            };
            match res {
                Err(_) | Ok(Some(ConnectOutcome::Refused(_))) => prop_assert_eq!(&st, &before),
                Ok(_) => {}
            }
            for (i, l) in caps.iter().enumerate() {
                let u = st.usage(&cfg, CandidateRef::Target(i), at);
                prop_assert!(within(&u, l), "target {} {:?} over {:?}", i, u, l);
            }
            for (g, l) in gcaps.iter().enumerate() {
                let u = st.usage(&cfg, CandidateRef::Group(g), at);
                prop_assert!(within(&u, l), "group {} {:?} over {:?}", g, u, l);
            }
        }
        // every accepted connect (confirmations included) counted once
        let far = at + TimeDelta::days(1);
        for c in 0..10 {
            let _ = st.end(&cfg, &format!("c{c}"), far);
        }
        for (t, &n) in counted.iter().enumerate() {
            let u = st.usage(&cfg, CandidateRef::Target(t), far);
            prop_assert_eq!(u.live, 0);
            prop_assert_eq!(u.total, n);
        }
    }
}
