//! Reservations whose call ids come back (reserved again on another
//! target after a lapse, connected, cancelled) read the same in memory and
//! in Redis at the instant of each event, and Redis answers reads at every
//! earlier instant (inside earlier reservations) instead of failing.

use std::sync::Arc;

use chrono::TimeDelta;
use proptest::prelude::*;
use routecap::core::formats::parse_config;
use routecap::core::zone::Instant;
use routecap::state::redis::{new_op_id, RedisOptions, RedisState};
use routecap::state::{Blocking, StateError};
use routecap::Call;

const CONFIG: &str = r#"{
  "targets": [
    {"id": "a", "caps": {"daily": 5, "concurrency": 2}},
    {"id": "b", "caps": {"daily": 5, "concurrency": 1}},
    {"id": "c"}
  ],
  "groups": [{"id": "g", "members": ["a", "b"], "caps": {"concurrency": 2}}]
}"#;

fn t(s: &str) -> Instant {
    s.parse().expect("instant")
}

fn backends(url: &str) -> (Blocking, Blocking) {
    let config = Arc::new(parse_config(CONFIG.as_bytes(), "test.json", None).expect("config"));
    let memory = Blocking::new(Arc::new(routecap::Engine::new(config.clone()))).expect("runtime");
    let rt = routecap::state::runtime().expect("runtime");
    let mut o = RedisOptions::new(url);
    o.namespace = format!("test-{}", new_op_id());
    let redis = rt
        .block_on(RedisState::open(config, o))
        .expect("redis opens");
    (memory, Blocking::on(rt, Arc::new(redis)))
}

fn show<T: std::fmt::Debug>(r: Result<T, StateError>) -> String {
    match r {
        Ok(v) => format!("ok {v:?}"),
        Err(StateError::Engine(e)) => format!("error {e}"),
        Err(e) => format!("backend failure: {e}"),
    }
}

/// Usage and check at `at`, as text (a backend failure is text too, so
/// that it shows as a difference rather than a panic).
fn views(b: &Blocking, at: Instant) -> String {
    let usage = b
        .usage(at)
        .map(|u| serde_json::to_string(&u).expect("json"));
    let check = b
        .check(&Call::default(), at)
        .map(|c| serde_json::to_string(&c).expect("json"));
    format!("{}\n{}", show(usage), show(check))
}

/// One event: (kind, call, target, seconds later, ttl).
type Ev = (u8, u8, u8, u16, u16);

fn run(url: &str, events: &[Ev]) {
    let (memory, redis) = backends(url);
    let mut at = t("2026-11-23T15:00:00Z");
    let mut instants = vec![at];
    for (i, &(kind, call, target, dt, ttl)) in events.iter().enumerate() {
        at += TimeDelta::seconds(i64::from(dt));
        let call = Call::new(format!("x{call}"));
        let target = ["a", "b", "c"][usize::from(target) % 3];
        let ttl = u64::from(ttl) + 1;
        let out: Vec<String> = [&memory, &redis]
            .iter()
            .map(|b| match kind % 6 {
                0..=2 => show(b.reserve(&call, target, ttl, at)),
                3 => show(b.connect(&call, target, at)),
                4 => show(b.cancel(&call, at)),
                _ => show(b.end(&call, at)),
            })
            .collect();
        assert_eq!(out[0], out[1], "event {i} at {at}");
        instants.push(at);
        assert_eq!(
            views(&memory, at),
            views(&redis, at),
            "reads after event {i} at {at}"
        );
        // reads at every earlier instant (inside earlier reservations of
        // the same call id) answer: a read of the past may count a later
        // reservation on Redis (held sets keep expiries only), never fail
        for &when in &instants {
            let r = redis.usage(when);
            assert!(r.is_ok(), "usage at {when} after event {i}: {}", show(r));
            let r = redis.check(&Call::default(), when);
            assert!(r.is_ok(), "check at {when} after event {i}: {}", show(r));
        }
    }
}

#[test]
fn a_call_id_reserved_again_on_another_target_after_a_lapse_reads_as_in_memory() {
    let Some(url) = crate::serve_support::redis_url("reserved_again_after_a_lapse") else {
        return;
    };
    // reserve x at a for 60 s, let it lapse, reserve x at b: reads inside
    // the first reservation answer as memory does (not "listed twice")
    run(&url, &[(0, 0, 0, 0, 59), (0, 0, 1, 120, 59)]);
    let (memory, redis) = backends(&url);
    let start = t("2026-11-23T15:00:00Z");
    let x = Call::new("x");
    for b in [&memory, &redis] {
        b.reserve(&x, "a", 60, start).expect("first reservation");
        b.reserve(&x, "b", 60, start + TimeDelta::seconds(120))
            .expect("second reservation");
    }
    let inside = start + TimeDelta::seconds(30);
    let r = redis.usage(inside);
    assert!(r.is_ok(), "{}", show(r));
    let r = redis.check(&Call::default(), inside);
    assert!(r.is_ok(), "{}", show(r));
    let after = start + TimeDelta::seconds(150);
    assert_eq!(views(&memory, after), views(&redis, after));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Reservations, connects, cancels and ends of a few call ids over
    /// three targets, with lapses: memory and Redis read alike at every
    /// instant seen so far.
    #[test]
    fn reservations_with_reused_call_ids_and_lapses_agree(events in proptest::collection::vec(
        (0u8..6, 0u8..2, 0u8..3, 0u16..150, 0u16..120), 1..14)) {
        let Some(url) = crate::serve_support::redis_url("reservations_with_reused_call_ids") else {
            return Ok(());
        };
        run(&url, &events);
    }
}
