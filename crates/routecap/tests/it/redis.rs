//! The Redis backend against a real server (`scripts/with-redis` starts
//! one and exports `ROUTECAP_TEST_REDIS_URL`). Every test uses its own
//! namespace; without a server each test prints a loud SKIPPING line.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use proptest::prelude::*;
use routecap::core::engine::EngineError;
use routecap::core::formats::parse_config;
use routecap::core::formats::source::OwnerKind as Owner;
use routecap::core::lifecycle::{ConnectOutcome, LifecycleError};
use routecap::core::model::Config;
use routecap::core::money::Money;
use routecap::core::route::Draws;
use routecap::core::zone::Instant;
use routecap::state::redis::{new_op_id, RedisOptions, RedisState};
use routecap::state::Backend;
use routecap::state::{Blocking, StateError};
use routecap::Call;

/// The test server's URL, or `None` after a SKIPPING line.
fn server(test: &str) -> Option<String> {
    crate::serve_support::redis_url(test)
}

fn namespace() -> String {
    format!("test-{}", new_op_id())
}

fn opts(url: &str, ns: &str) -> RedisOptions {
    let mut o = RedisOptions::new(url);
    o.namespace = ns.to_string();
    o
}

fn parse(json: &str) -> Arc<Config> {
    Arc::new(parse_config(json.as_bytes(), "test.json", None).expect("valid config"))
}

/// `json` with a lease of `secs` seconds on connected calls.
fn with_lease(json: &str, secs: u64) -> Arc<Config> {
    let mut config = (*parse(json)).clone();
    config.call_lease_seconds = secs;
    Arc::new(config)
}

fn t(s: &str) -> Instant {
    s.parse().expect("instant")
}

fn secs(at: Instant, s: i64) -> Instant {
    at + TimeDelta::seconds(s)
}

/// An outcome as comparable text.
fn show<T: std::fmt::Debug>(r: Result<T, StateError>) -> String {
    match r {
        Ok(v) => format!("ok {v:?}"),
        Err(StateError::Engine(e)) => format!("error {e}"),
        Err(e) => panic!("backend failure: {e}"),
    }
}

/// A Redis state driven synchronously, with its typed state for
/// [`usage_of`].
struct Redis {
    blocking: Blocking,
    state: Arc<RedisState>,
}

impl std::ops::Deref for Redis {
    type Target = Blocking;
    fn deref(&self) -> &Blocking {
        &self.blocking
    }
}

/// A Redis state for `config`, driven synchronously.
fn redis_open(config: Arc<Config>, o: RedisOptions) -> Result<Redis, StateError> {
    let rt = routecap::state::runtime().expect("runtime");
    let state = Arc::new(rt.block_on(RedisState::open(config, o))?);
    let blocking = Blocking::on(rt, state.clone());
    Ok(Redis { blocking, state })
}

/// [`redis_open`] with the config's document, so that patches work.
fn redis_open_document(bytes: &[u8], file: &str, o: RedisOptions) -> Result<Redis, StateError> {
    let rt = routecap::state::runtime().expect("runtime");
    let state = Arc::new(rt.block_on(RedisState::open_document(bytes, file, None, o))?);
    let blocking = Blocking::on(rt, state.clone());
    Ok(Redis { blocking, state })
}

/// A memory state over `engine`, driven as the Redis one is.
fn memory(engine: routecap::Engine) -> Blocking {
    Blocking::new(Arc::new(engine)).expect("runtime")
}

/// Every count of owner `id` at `at` (capped or not), read from the server.
fn usage_of(b: &Redis, id: &str, at: Instant) -> routecap::core::render::UsageRow {
    let engine = b.block_on(b.state.fetch(at)).expect("fetch");
    engine.with_state(|c, s| {
        let owner = (c
            .target_index(id)
            .map(routecap::core::model::CandidateRef::Target))
        .or_else(|| {
            c.group_index(id)
                .map(routecap::core::model::CandidateRef::Group)
        })
        .expect("owner");
        routecap::core::render::usage_row(c, owner, &s.usage(c, owner, at))
    })
}

const EQUIV_CONFIG: &str = r#"{
  "targets": [
    {"id": "a", "time_zone": "America/New_York", "trigger": "connect",
     "caps": {"hourly": 3, "daily": 5, "concurrency": 2, "daily_revenue": "30.00"},
     "usage": {"daily": 1, "total": 2, "daily_revenue": "5.00"},
     "hours": [{"day": 0, "open": "00:00", "close": "01:30"}]},
    {"id": "b", "time_zone": "UTC", "trigger": "convert", "caps": {"total": 4, "concurrency": 3}},
    {"id": "c", "time_zone": "Asia/Kolkata", "trigger": "revenue",
     "caps": {"hourly": 2, "concurrency": 1, "total_revenue": "40.00"}}
  ],
  "groups": [
    {"id": "g", "members": ["a", "b"], "time_zone": "Europe/London",
     "caps": {"daily": 6, "concurrency": 3}, "usage": {"daily": 1}}
  ]
}"#;

/// Imported usage anchored at `as_of`, a concurrency matrix (Sunday 01:00
/// local allows 1, other hours 2), a paused target and imported live calls.
fn equiv_config_as_of() -> String {
    let row = |sunday: bool| {
        let cells: Vec<String> = (0..24)
            .map(|h| {
                if sunday && h == 1 {
                    "1".into()
                } else {
                    "2".to_string()
                }
            })
            .collect();
        format!("[{}]", cells.join(","))
    };
    let matrix: Vec<String> = (0..7).map(|d| row(d == 0)).collect();
    format!(
        r#"{{
  "as_of": "2026-11-01T05:00:00Z",
  "targets": [
    {{"id": "a", "time_zone": "America/New_York", "caps": {{"hourly": 4, "total": 9}},
     "concurrency_matrix": [{}],
     "usage": {{"hourly": 2, "total": 3, "live": 1}}}},
    {{"id": "b", "paused": true, "caps": {{"daily": 2}}, "usage": {{"daily": 2}}}},
    {{"id": "c", "time_zone": "Australia/Lord_Howe", "trigger": "convert",
     "caps": {{"daily": 3, "daily_revenue": "20.00"}}, "usage": {{"daily_revenue": "12.00"}}}}
  ],
  "groups": [
    {{"id": "g", "members": ["a", "c"], "time_zone": "America/New_York",
     "caps": {{"hourly": 5, "total_revenue": "60.00"}}, "usage": {{"total_revenue": "10.00", "live": 1}}}}
  ]
}}"#,
        matrix.join(",")
    )
}

/// One random event: (kind, call, target, seconds later, revenue cents).
type Ev = (u8, u8, u8, u16, u16);

/// Event `kind` (0–8) of [`Ev`] on backend `b`, its answer shown.
fn step(
    b: &Blocking,
    kind: u8,
    call: &str,
    target: &str,
    dt: u16,
    cents: u16,
    at: Instant,
) -> String {
    match kind {
        0 | 1 => show(b.connect(&Call::new(call), target, at)),
        2 => show(b.convert(&Call::new(call), Money(i64::from(cents)), at)),
        3 | 4 => show(b.end(&Call::new(call), at)),
        5 => show(b.reserve(&Call::new(call), target, u64::from(dt % 300) + 1, at)),
        6 => show(b.touch(&Call::new(call), at)),
        7 if cents % 2 == 0 => show(b.reset(Owner::Target, target)),
        7 => show(b.reset(Owner::Group, "g")),
        _ => show(b.route(&Call::default(), at, &mut Draws::new(u64::from(cents)))),
    }
}

fn run_equivalence(url: &str, config_text: &str, events: &[Ev]) {
    let config = parse(config_text);
    let memory = memory(routecap::Engine::new(config.clone()));
    let redis = redis_open(config.clone(), opts(url, &namespace())).expect("open");
    let dir = crate::sqlite::store_dir();
    let sqlite = crate::sqlite::sqlite_open(&dir.join("state.db"), config_text);
    let backends: [&Blocking; 3] = [&memory, &redis, &sqlite];
    // New York falls back at 06:00Z on this day.
    let mut at = t("2026-11-01T04:50:00Z");
    let ids = ["a", "b", "c"];
    for (i, &(kind, call, target, dt, cents)) in events.iter().enumerate() {
        at = secs(at, i64::from(dt));
        let call = format!("c{call}");
        let target = ids[usize::from(target) % 3];
        let out: Vec<String> = backends
            .iter()
            .map(|&b| step(b, kind % 9, &call, target, dt, cents, at))
            .collect();
        assert_eq!(out[0], out[1], "event {i} at {at}: {kind} {call} {target}");
        assert_eq!(
            out[0], out[2],
            "sqlite: event {i} at {at}: {kind} {call} {target}"
        );
        let usage: Vec<_> = backends
            .iter()
            .map(|b| b.usage(at).expect("usage"))
            .collect();
        assert_eq!(usage[0], usage[1], "usage after event {i} at {at}");
        assert_eq!(usage[0], usage[2], "sqlite: usage after event {i} at {at}");
        let check: Vec<_> = backends
            .iter()
            .map(|b| b.check(&Call::default(), at).expect("check"))
            .collect();
        assert_eq!(check[0], check[1], "check after event {i} at {at}");
        assert_eq!(check[0], check[2], "sqlite: check after event {i} at {at}");
    }
    drop(sqlite);
    let _ = std::fs::remove_dir_all(&dir);
}

/// [`run_equivalence`] with live changes too: cancels, pauses and
/// resumes, usage imports and cap patches, comparing the JSON views.
fn run_live_equivalence(url: &str, config: &str, events: &[Ev]) {
    use routecap::core::formats::source::OwnerKind;
    let core =
        routecap::core::engine::Engine::parse(config.as_bytes(), "c.json", None).expect("config");
    let memory = memory(routecap::Engine::from_core(core));
    let redis =
        redis_open_document(config.as_bytes(), "c.json", opts(url, &namespace())).expect("open");
    let dir = crate::sqlite::store_dir();
    let sqlite = crate::sqlite::sqlite_open(&dir.join("state.db"), config);
    let backends: [&Blocking; 3] = [&memory, &redis, &sqlite];
    let mut at = t("2026-11-01T04:50:00Z");
    let ids = ["a", "b", "c"];
    for (i, &(kind, call, target, dt, cents)) in events.iter().enumerate() {
        at = secs(at, i64::from(dt));
        let call = format!("c{call}");
        let target = ids[usize::from(target) % 3];
        let usage = serde_json::json!({ target: {"daily": cents % 4, "live": cents % 2} });
        let patch =
            serde_json::json!({"caps": {"daily": 2 + cents % 4, "concurrency": 1 + cents % 3}});
        let out: Vec<String> = backends
            .iter()
            .map(|b| match kind % 13 {
                0 | 1 => show(b.connect(&Call::new(&*call), target, at)),
                2 => show(b.convert(&Call::new(&*call), Money(i64::from(cents)), at)),
                3 | 4 => show(b.end(&Call::new(&*call), at)),
                5 => show(b.reserve(&Call::new(&*call), target, u64::from(dt % 300) + 1, at)),
                6 => show(b.touch(&Call::new(&*call), at)),
                7 => show(b.cancel(&Call::new(&*call), at)),
                8 => show(b.set_paused(OwnerKind::Target, target, cents % 2 == 0)),
                9 => show(b.import_usage(at, &usage, "usage")),
                10 => show(b.patch(OwnerKind::Target, target, &patch, "update", at)),
                11 => show(b.reset(Owner::Group, "g")),
                _ => show(b.route(&Call::default(), at, &mut Draws::new(u64::from(cents)))),
            })
            .collect();
        assert_eq!(out[0], out[1], "event {i} at {at}: {kind} {call} {target}");
        assert_eq!(
            out[0], out[2],
            "sqlite: event {i} at {at}: {kind} {call} {target}"
        );
        let views: Vec<String> = backends
            .iter()
            .map(|b| {
                let u = serde_json::to_string(&b.usage(at).expect("usage")).expect("json");
                let c = serde_json::to_string(&b.check(&Call::default(), at).expect("check"))
                    .expect("json");
                format!("{u}\n{c}")
            })
            .collect();
        assert_eq!(
            views[0], views[1],
            "usage and check after event {i} at {at}"
        );
        assert_eq!(
            views[0], views[2],
            "sqlite: usage and check after event {i}"
        );
    }
    drop(sqlite);
    let _ = std::fs::remove_dir_all(&dir);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Random lifecycles mixed with live changes (pause, resume, usage
    /// imports, cap patches, cancels) agree between memory, Redis and SQLite.
    #[test]
    fn memory_and_redis_agree_with_live_changes(events in proptest::collection::vec(
        (0u8..13, 0u8..6, 0u8..3, 0u16..480, 0u16..2000), 1..30)) {
        let Some(url) = server("memory_and_redis_agree_with_live_changes") else { return Ok(()) };
        run_live_equivalence(&url, EQUIV_CONFIG, &events);
    }

    /// Random lifecycles across a DST change give the same answers, usage
    /// and checks in memory and in Redis.
    #[test]
    fn memory_and_redis_agree(events in proptest::collection::vec(
        (0u8..9, 0u8..6, 0u8..3, 0u16..480, 0u16..2000), 1..30)) {
        let Some(url) = server("memory_and_redis_agree") else { return Ok(()) };
        run_equivalence(&url, EQUIV_CONFIG, &events);
    }

    /// The same with usage imported at `as_of`, a concurrency matrix, a
    /// paused target and a zone with a 30-minute DST shift.
    #[test]
    fn memory_and_redis_agree_with_imports(events in proptest::collection::vec(
        (0u8..9, 0u8..6, 0u8..3, 0u16..480, 0u16..2000), 1..30)) {
        let Some(url) = server("memory_and_redis_agree_with_imports") else { return Ok(()) };
        run_equivalence(&url, &equiv_config_as_of(), &events);
    }
}

#[test]
fn equivalence_fixed_sequence() {
    let Some(url) = server("equivalence_fixed_sequence") else {
        return;
    };
    let events: Vec<Ev> = vec![
        (0, 1, 0, 0, 0),
        (0, 2, 0, 10, 0),
        (0, 3, 0, 10, 0),
        (2, 1, 0, 10, 1500),
        (2, 2, 0, 10, 2000),
        (3, 1, 0, 3000, 0),
        (5, 4, 1, 10, 0),
        (0, 4, 1, 10, 0),
        (2, 4, 1, 10, 0),
        (7, 0, 1, 10, 2),
        (7, 0, 0, 10, 3),
        (0, 5, 2, 10, 0),
        (2, 5, 2, 10, 100),
        (8, 0, 0, 3600, 7),
    ];
    run_equivalence(&url, EQUIV_CONFIG, &events);
    run_equivalence(&url, &equiv_config_as_of(), &events);
}

/// A second process that reads the state again for every decision
/// (`refresh` 0: each refreshed cache takes over the previous one's router,
/// keeping the reports of the targets the writer did not touch) routes
/// and checks as memory does after every write of the first.
fn run_reader_equivalence(url: &str, config: &str, events: &[Ev]) {
    let config = parse(config);
    let ns = namespace();
    let memory = memory(routecap::Engine::new(config.clone()));
    let writer = redis_open(config.clone(), opts(url, &ns)).expect("open");
    let mut o = opts(url, &ns);
    o.refresh = std::time::Duration::ZERO;
    let reader = redis_open(config.clone(), o).expect("open");
    let mut at = t("2026-11-01T04:50:00Z");
    let ids = ["a", "b", "c"];
    for (i, &(kind, call, target, dt, cents)) in events.iter().enumerate() {
        at = secs(at, i64::from(dt));
        let call = format!("c{call}");
        let target = ids[usize::from(target) % 3];
        let backends: [&Blocking; 2] = [&memory, &writer];
        // the writes of `step`: connect, convert, end, reserve
        let out: Vec<String> = backends
            .iter()
            .map(|&b| step(b, kind % 6, &call, target, dt, cents, at))
            .collect();
        assert_eq!(out[0], out[1], "event {i} at {at}");
        let seed = u64::from(cents);
        let routes: Vec<String> = [&memory as &Blocking, &reader]
            .iter()
            .map(|b| show(b.route(&Call::default(), at, &mut Draws::new(seed))))
            .collect();
        assert_eq!(routes[0], routes[1], "route after event {i} at {at}");
        let checks: Vec<_> = [&memory as &Blocking, &reader]
            .iter()
            .map(|b| b.check(&Call::default(), at).expect("check"))
            .collect();
        assert_eq!(checks[0], checks[1], "check after event {i} at {at}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn a_reader_refreshing_every_decision_agrees_with_memory(events in proptest::collection::vec(
        (0u8..6, 0u8..6, 0u8..3, 0u16..480, 0u16..2000), 1..30)) {
        let Some(url) = server("a_reader_refreshing_every_decision_agrees_with_memory") else { return Ok(()) };
        run_reader_equivalence(&url, EQUIV_CONFIG, &events);
    }
}

/// Several connections hammer one target: never more accepted than the
/// caps, and the counters equal what was accepted.
#[test]
fn concurrent_connects_never_exceed_caps() {
    let Some(url) = server("concurrent_connects_never_exceed_caps") else {
        return;
    };
    let config = parse(
        r#"{"targets": [{"id": "a", "caps": {"daily": 6, "concurrency": 2}},
                        {"id": "b", "caps": {"concurrency": 3}}],
            "groups": [{"id": "g", "members": ["a", "b"], "caps": {"daily": 9}}]}"#,
    );
    let ns = namespace();
    let at = t("2026-06-01T12:00:00Z");
    let threads: Vec<_> = (0..6)
        .map(|w| {
            let (config, url, ns) = (config.clone(), url.clone(), ns.clone());
            std::thread::spawn(move || {
                let b = redis_open(config, opts(&url, &ns)).expect("open");
                let mut accepted = [0u64; 2];
                for i in 0..12 {
                    let (target, k) = if i % 2 == 0 { ("a", 0) } else { ("b", 1) };
                    let call = format!("w{w}-{i}");
                    if let ConnectOutcome::Connected =
                        b.connect(&Call::new(&*call), target, at).expect("connect")
                    {
                        accepted[k] += 1;
                        if target == "a" {
                            b.end(&Call::new(&*call), at).expect("end");
                        }
                    }
                }
                accepted
            })
        })
        .collect();
    let mut accepted = [0u64; 2];
    for th in threads {
        let a = th.join().expect("worker");
        accepted[0] += a[0];
        accepted[1] += a[1];
    }
    let b = redis_open(config, opts(&url, &ns)).expect("open");
    let ua = usage_of(&b, "a", at);
    let ub = usage_of(&b, "b", at);
    let ug = usage_of(&b, "g", at);
    assert!(accepted[0] <= 6, "a accepted {}", accepted[0]);
    assert_eq!(accepted[1], 3, "b holds its concurrency cap exactly");
    assert!(accepted[0] + accepted[1] <= 9);
    assert_eq!(ua.daily, accepted[0]);
    assert_eq!(ua.live, 0);
    assert_eq!(ub.daily, accepted[1]);
    assert_eq!(ub.live, 3);
    assert_eq!(ug.daily, accepted[0] + accepted[1]);
    assert_eq!(ug.live, 3);
}

const ONE_TARGET: &str = r#"{"targets": [{"id": "a", "caps": {"daily": 10, "concurrency": 1}}]}"#;

/// The same operation retried answers the same and counts once; a plain
/// repeat is the memory backend's error.
#[test]
fn retried_operations_count_once() {
    let Some(url) = server("retried_operations_count_once") else {
        return;
    };
    let b = redis_open(parse(ONE_TARGET), opts(&url, &namespace())).expect("open");
    let at = t("2026-06-01T12:00:00Z");
    let op = new_op_id();
    assert_eq!(
        b.connect(&Call::new("c1").request(&op), "a", at)
            .expect("connect"),
        ConnectOutcome::Connected
    );
    assert_eq!(
        b.connect(&Call::new("c1").request(&op), "a", at)
            .expect("retry"),
        ConnectOutcome::Connected
    );
    assert!(matches!(
        b.connect(&Call::new("c1"), "a", at),
        Err(StateError::Engine(_))
    ));
    let op = new_op_id();
    b.convert(&Call::new("c1").request(&op), Money(1250), at)
        .expect("convert");
    b.convert(&Call::new("c1").request(&op), Money(1250), at)
        .expect("convert retry");
    let op = new_op_id();
    b.end(&Call::new("c1").request(&op), at).expect("end");
    b.end(&Call::new("c1").request(&op), at).expect("end retry");
    assert!(matches!(
        b.end(&Call::new("c1"), at),
        Err(StateError::Engine(_))
    ));
    let u = usage_of(&b, "a", at);
    assert_eq!((u.daily, u.total, u.live), (1, 1, 0));
    assert_eq!(u.daily_revenue, "12.50");
}

/// A write queued behind `CLIENT PAUSE` times out on the client, then
/// applies on the server: the retry with the same operation id gets the
/// first answer and nothing is counted twice.
#[test]
fn ambiguous_failure_then_retry_counts_once() {
    let Some(url) = server("ambiguous_failure_then_retry_counts_once") else {
        return;
    };
    let mut o = opts(&url, &namespace());
    o.response_timeout = Duration::from_millis(300);
    let b = redis_open(parse(ONE_TARGET), o).expect("open");
    let at = t("2026-06-01T12:00:00Z");
    // load the scripts first
    b.connect(&Call::new("warm"), "a", at).expect("warm");
    b.end(&Call::new("warm"), at).expect("warm end");
    let admin = redis::Client::open(url.as_str()).expect("client");
    let mut admin = admin.get_connection().expect("admin connection");
    let _: () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(1200)
        .arg("WRITE")
        .query(&mut admin)
        .expect("pause");
    let op = new_op_id();
    let first = b.connect(&Call::new("c1").request(&op), "a", secs(at, 1));
    assert!(
        matches!(first, Err(StateError::Ambiguous { .. })),
        "expected an ambiguous failure, got {first:?}"
    );
    std::thread::sleep(Duration::from_millis(1500));
    let retry = b
        .connect(&Call::new("c1").request(&op), "a", secs(at, 1))
        .expect("retry");
    assert_eq!(retry, ConnectOutcome::Connected);
    let u = usage_of(&b, "a", secs(at, 1));
    assert_eq!((u.daily, u.live), (2, 1), "warm-up + c1, counted once");
}

/// A call never ended frees its concurrency when its lease runs out and
/// not before; a touch renews the lease.
#[test]
fn lease_expiry_frees_concurrency() {
    let Some(url) = server("lease_expiry_frees_concurrency") else {
        return;
    };
    let o = opts(&url, &namespace());
    let config = with_lease(
        r#"{"targets": [{"id": "a", "caps": {"concurrency": 1}}, {"id": "b", "caps": {"concurrency": 1}}]}"#,
        60,
    );
    let b = redis_open(config, o).expect("open");
    let t0 = t("2026-06-01T12:00:00Z");
    assert_eq!(
        b.connect(&Call::new("c1"), "a", t0).expect("c1"),
        ConnectOutcome::Connected
    );
    assert!(matches!(
        b.connect(&Call::new("c2"), "a", secs(t0, 59)).expect("c2"),
        ConnectOutcome::Refused(_)
    ));
    assert_eq!(
        b.connect(&Call::new("c2"), "a", secs(t0, 60)).expect("c2"),
        ConnectOutcome::Connected
    );
    // an end after the lease ran out is accepted
    b.end(&Call::new("c1"), secs(t0, 61)).expect("late end");

    assert_eq!(
        b.connect(&Call::new("d1"), "b", t0).expect("d1"),
        ConnectOutcome::Connected
    );
    b.touch(&Call::new("d1"), secs(t0, 50)).expect("touch");
    assert!(matches!(
        b.connect(&Call::new("d2"), "b", secs(t0, 109)).expect("d2"),
        ConnectOutcome::Refused(_)
    ));
    assert_eq!(
        b.connect(&Call::new("d2"), "b", secs(t0, 110)).expect("d2"),
        ConnectOutcome::Connected
    );
}

/// Lapsed calls leave a live set: an owner with a concurrency cap at the
/// next connect (its set never holds more than the cap), one without at
/// the first connect a lease or more after the last pruning; usage counts
/// only unlapsed calls either way.
#[test]
fn lapsed_calls_are_pruned_from_live_sets() {
    let Some(url) = server("lapsed_calls_are_pruned_from_live_sets") else {
        return;
    };
    let ns = namespace();
    let config = with_lease(
        r#"{"targets": [{"id": "a", "caps": {"concurrency": 5}}],
            "groups": [{"id": "g", "members": ["a"], "caps": {"daily": 100}}]}"#,
        60,
    );
    let b = redis_open(config, opts(&url, &ns)).expect("open");
    let mut raw = redis::Client::open(url.as_str())
        .expect("client")
        .get_connection()
        .expect("connection");
    // the raw sizes of the target's and the group's live sets
    let sizes = |raw: &mut redis::Connection| -> (u64, u64) {
        let mut card =
            |key: String| -> u64 { redis::cmd("ZCARD").arg(key).query(raw).expect("ZCARD") };
        let target = card(format!("{{{ns}}}:t:1:a:live"));
        (target, card(format!("{{{ns}}}:g:1:g:live")))
    };
    let t0 = t("2026-06-01T12:00:00Z");
    // none of these calls ends: each lapses 60 s after its connect
    let connect = |call: &str, at: i64| {
        assert_eq!(
            b.connect(&Call::new(call), "a", secs(t0, at))
                .expect("connect"),
            ConnectOutcome::Connected,
            "{call}"
        );
    };
    // the group's first pruning is at t0, its next at t0 + 60
    connect("c1", 0);
    connect("c2", 30);
    assert_eq!(sizes(&mut raw), (2, 2));
    // c1 lapsed at t0 + 60: pruned from both (the group's next: t0 + 121)
    connect("c3", 61);
    assert_eq!(sizes(&mut raw), (2, 2));
    // c2 lapsed at t0 + 90: the capped target drops it, the group keeps
    // it until t0 + 121, yet counts only c3 and c4 live
    connect("c4", 100);
    assert_eq!(sizes(&mut raw), (2, 3));
    let at = secs(t0, 100);
    assert_eq!(
        (usage_of(&b, "a", at).live, usage_of(&b, "g", at).live),
        (2, 2)
    );
    // t0 + 121: c3 lapses; both sets drop every lapsed call
    connect("c5", 121);
    assert_eq!(sizes(&mut raw), (2, 2));
    let at = secs(t0, 121);
    assert_eq!(
        (usage_of(&b, "a", at).live, usage_of(&b, "g", at).live),
        (2, 2)
    );
}

/// Reservations hold capacity and `cancel` frees it at once.
#[test]
fn cancel_frees_a_reservation() {
    let Some(url) = server("cancel_frees_a_reservation") else {
        return;
    };
    let b = redis_open(parse(ONE_TARGET), opts(&url, &namespace())).expect("open");
    let at = t("2026-06-01T12:00:00Z");
    assert_eq!(
        b.reserve(&Call::new("r1"), "a", 60, at).expect("reserve"),
        ConnectOutcome::Connected
    );
    assert!(matches!(
        b.connect(&Call::new("c1"), "a", at).expect("c1"),
        ConnectOutcome::Refused(_)
    ));
    b.cancel(&Call::new("r1"), at).expect("cancel");
    // as in memory: a cancelled reservation is forgotten
    assert!(matches!(
        b.cancel(&Call::new("r1"), at),
        Err(StateError::Engine(EngineError::Lifecycle(
            LifecycleError::UnknownCall(_)
        )))
    ));
    assert_eq!(
        b.connect(&Call::new("c1"), "a", at).expect("c1"),
        ConnectOutcome::Connected
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn unavailable(r: Result<Redis, StateError>) -> String {
    match r {
        Err(e @ StateError::Unavailable { .. }) => e.to_string(),
        Err(other) => panic!("expected Unavailable, got {other:?}"),
        Ok(_) => panic!("expected Unavailable, got a state"),
    }
}

#[test]
fn unreachable_server_is_a_clear_error() {
    let port = free_port();
    let url = format!("redis://:hunter2@127.0.0.1:{port}");
    let msg = unavailable(redis_open(parse(ONE_TARGET), opts(&url, "x")));
    assert!(msg.contains(&format!("127.0.0.1:{port}")), "{msg}");
    assert!(!msg.contains("hunter2"), "{msg}");
}

#[test]
fn not_a_redis_server_is_a_clear_error() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let th = std::thread::spawn(move || {
        use std::io::{Read, Write};
        for _ in 0..2 {
            let Ok((mut s, _)) = listener.accept() else {
                return;
            };
            let mut buf = [0u8; 256];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
        }
    });
    let url = format!("redis://127.0.0.1:{port}");
    let msg = unavailable(redis_open(parse(ONE_TARGET), opts(&url, "x")));
    assert!(msg.contains(&format!("127.0.0.1:{port}")), "{msg}");
    drop(th);
}

/// A private server with a password, stopped on drop.
struct PrivateServer {
    child: std::process::Child,
    dir: std::path::PathBuf,
    port: u16,
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn private_server(args: &[&str]) -> Option<PrivateServer> {
    let bin = std::env::var("ROUTECAP_TEST_REDIS_SERVER").ok()?;
    let dir = std::env::temp_dir().join(format!("routecap-test-{}", new_op_id()));
    std::fs::create_dir_all(&dir).ok()?;
    let port = free_port();
    let child = std::process::Command::new(bin)
        .args([
            "--bind",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--save",
            "",
        ])
        .args(["--dir", dir.to_str()?])
        .args(args)
        .stdout(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let server = PrivateServer { child, dir, port };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(server);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[test]
fn wrong_password_is_a_clear_error() {
    if server("wrong_password_is_a_clear_error").is_none() {
        return;
    }
    let srv = private_server(&["--requirepass", "right-one"]).expect("private server");
    let url = format!("redis://:wrong-one@127.0.0.1:{}", srv.port);
    let msg = unavailable(redis_open(parse(ONE_TARGET), opts(&url, "x")));
    assert!(msg.contains(&format!("127.0.0.1:{}", srv.port)), "{msg}");
    assert!(!msg.contains("wrong-one"), "{msg}");
    let ok = format!("redis://:right-one@127.0.0.1:{}", srv.port);
    let b = redis_open(parse(ONE_TARGET), opts(&ok, "x")).expect("right password");
    assert_eq!(
        b.connect(&Call::new("c1"), "a", t("2026-06-01T12:00:00Z"))
            .expect("connect"),
        ConnectOutcome::Connected
    );
}

// ---- many processes: the test binary re-runs itself as a worker ----

const STRESS_CONFIG: &str = r#"{
  "targets": [
    {"id": "a", "time_zone": "America/New_York", "caps": {"hourly": 10, "concurrency": 3}},
    {"id": "b", "time_zone": "UTC", "caps": {"hourly": 8, "concurrency": 2}},
    {"id": "c", "caps": {"concurrency": 2}}
  ],
  "groups": [{"id": "g", "members": ["a", "b"], "time_zone": "America/New_York",
              "caps": {"hourly": 15, "concurrency": 4}}]
}"#;

/// New York springs forward at 07:00Z: the stress run crosses both an
/// hour boundary and the DST change.
const STRESS_BASE: &str = "2026-03-08T06:50:00Z";
const STRESS_STEPS: i64 = 30;
const WORKER_ENV: &str = "ROUTECAP_REDIS_WORKER";
const CRASH_LEASE: u64 = 60;

/// Not a test of its own: the body of a worker process when
/// `ROUTECAP_REDIS_WORKER` is set (`stress:NS:ID` or `hold:NS`).
#[test]
fn redis_worker_process() {
    let Ok(spec) = std::env::var(WORKER_ENV) else {
        return;
    };
    let url = std::env::var("ROUTECAP_TEST_REDIS_URL").expect("worker needs the server URL");
    let parts: Vec<&str> = spec.split(':').collect();
    match parts.as_slice() {
        ["stress", ns, id] => stress_worker(&url, ns, id),
        ["hold", ns] => {
            let o = opts(&url, ns);
            let b = redis_open(with_lease(STRESS_CONFIG, CRASH_LEASE), o).expect("open");
            let at = t(STRESS_BASE);
            for call in ["h1", "h2"] {
                assert_eq!(
                    b.connect(&Call::new(call), "c", at).expect("hold"),
                    ConnectOutcome::Connected
                );
            }
            println!("READY");
            use std::io::Write;
            std::io::stdout().flush().expect("flush");
            std::thread::sleep(Duration::from_secs(60));
        }
        _ => panic!("bad worker spec {spec:?}"),
    }
}

fn stress_worker(url: &str, ns: &str, id: &str) {
    let config = parse(STRESS_CONFIG);
    let base = t(STRESS_BASE);
    let threads: Vec<_> = (0..4)
        .map(|th| {
            let (config, url, ns, id) = (
                config.clone(),
                url.to_string(),
                ns.to_string(),
                id.to_string(),
            );
            std::thread::spawn(move || {
                let b = redis_open(config, opts(&url, &ns)).expect("open");
                let mut open: Vec<(String, i64)> = Vec::new();
                let mut lines = Vec::new();
                for i in 0..STRESS_STEPS {
                    let at = secs(base, i * 40 + th);
                    // end calls connected two steps ago (the earliest first)
                    while open.first().is_some_and(|(_, s)| *s <= i - 2) {
                        let (call, _) = open.remove(0);
                        b.end(&Call::new(&*call), at).expect("end");
                    }
                    let target = if (i + th) % 2 == 0 { "a" } else { "b" };
                    let call = format!("p{id}-t{th}-{i}");
                    if i % 5 == 4 {
                        if b.reserve(&Call::new(&*call), target, 30, at)
                            .expect("reserve")
                            == ConnectOutcome::Connected
                        {
                            b.cancel(&Call::new(&*call), at).expect("cancel");
                        }
                        continue;
                    }
                    if b.connect(&Call::new(&*call), target, at).expect("connect")
                        == ConnectOutcome::Connected
                    {
                        lines.push(format!("ACC {target} {}", at.timestamp()));
                        if i % 3 == 0 {
                            b.convert(&Call::new(&*call), Money(100), at)
                                .expect("convert");
                        }
                        open.push((call, i));
                    }
                }
                let end = secs(base, STRESS_STEPS * 40 + 10);
                for (call, _) in open {
                    b.end(&Call::new(&*call), end).expect("final end");
                }
                lines
            })
        })
        .collect();
    for th in threads {
        for line in th.join().expect("worker thread") {
            println!("{line}");
        }
    }
}

fn worker(spec: &str, url: &str) -> std::process::Child {
    std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "redis::redis_worker_process",
            "--exact",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(WORKER_ENV, spec)
        .env("ROUTECAP_TEST_REDIS_URL", url)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn worker")
}

/// 4 processes × 4 threads connect, convert, end, reserve and cancel on
/// shared targets and a group with small caps, across an hour boundary
/// and a DST change, while an observer samples usage: no cap is ever
/// exceeded, counted usage equals accepted connects, live returns to 0.
#[test]
fn many_processes_never_exceed_caps() {
    let Some(url) = server("many_processes_never_exceed_caps") else {
        return;
    };
    let ns = namespace();
    let children: Vec<_> = (0..4)
        .map(|p| worker(&format!("stress:{ns}:{p}"), &url))
        .collect();
    let config = parse(STRESS_CONFIG);
    let observer = redis_open(config.clone(), opts(&url, &ns)).expect("observer");
    let base = t(STRESS_BASE);
    let caps = [("a", 10, 3), ("b", 8, 2), ("g", 15, 4)];
    let started = std::time::Instant::now();
    let mut raw = redis::Client::open(url.as_str())
        .expect("client")
        .get_connection()
        .expect("raw");
    let mut samples = 0;
    let mut outputs = Vec::new();
    let mut children: Vec<Option<std::process::Child>> = children.into_iter().map(Some).collect();
    while children.iter().any(Option::is_some) && started.elapsed() < Duration::from_secs(120) {
        // Raw counters: a window's count and a live set's size never pass
        // the cap, whatever order the workers' instants arrive in (usage
        // at an instant also counts reservations live then, which calls
        // at other instants never saw).
        for (id, hourly, conc) in caps {
            let prefix = format!("{{{ns}}}:{}:1:{id}", if id == "g" { "g" } else { "t" });
            let zone = if id == "b" {
                &config.targets[1].zone
            } else {
                &config.targets[0].zone
            };
            // the owner hash's hour slot: its window's start and count
            let (start, n): (Option<i64>, Option<u64>) = redis::cmd("HMGET")
                .arg(format!("{prefix}:o"))
                .arg("h")
                .arg("nh")
                .query(&mut raw)
                .expect("HMGET");
            for k in [5, 15] {
                let at = secs(base, k * 60);
                let w =
                    routecap::core::window::window(zone, routecap::core::caps::Period::Hour, at);
                if start == Some(w.start.timestamp()) {
                    assert!(
                        n.unwrap_or(0) <= hourly,
                        "{id} hourly {n:?} > {hourly} in {w:?}"
                    );
                }
            }
            let live: u64 = redis::cmd("ZCARD")
                .arg(format!("{prefix}:live"))
                .query(&mut raw)
                .expect("ZCARD");
            assert!(live <= conc, "{id} live {live} > {conc}");
            samples += 1;
        }
        for slot in children.iter_mut() {
            if let Some(child) = slot {
                if child.try_wait().expect("wait").is_some() {
                    let child = slot.take().expect("child");
                    let out = child.wait_with_output().expect("output");
                    assert!(out.status.success(), "worker failed");
                    outputs.push(String::from_utf8_lossy(&out.stdout).into_owned());
                }
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        children.iter().all(Option::is_none),
        "workers did not finish in time"
    );
    assert!(samples > 0);
    // accepted connects per owner and hour window
    let mut accepted: std::collections::BTreeMap<(String, i64), u64> = Default::default();
    let mut total = std::collections::BTreeMap::<String, u64>::new();
    for line in outputs.iter().flat_map(|o| o.lines()) {
        // libtest may print its own text on the same line first
        let Some(i) = line.find("ACC ") else {
            continue;
        };
        let rest = &line[i + 4..];
        let (target, ts) = rest.split_once(' ').expect("ACC line");
        let at = chrono::DateTime::from_timestamp(ts.parse().expect("ts"), 0).expect("instant");
        for owner in [target, "g"] {
            let zone = if owner == "b" {
                &config.targets[1].zone
            } else {
                &config.targets[0].zone
            };
            let w = routecap::core::window::window(zone, routecap::core::caps::Period::Hour, at);
            *accepted
                .entry((owner.to_string(), w.start.timestamp()))
                .or_default() += 1;
            *total.entry(owner.to_string()).or_default() += 1;
        }
    }
    assert!(total.get("g").copied().unwrap_or(0) > 0, "nothing accepted");
    let end = secs(base, STRESS_STEPS * 40 + 10);
    for ((owner, start), n) in &accepted {
        let at = chrono::DateTime::from_timestamp(*start, 0).expect("start");
        let u = usage_of(&observer, owner, at);
        let cap = caps.iter().find(|c| c.0 == owner).expect("cap").1;
        assert_eq!(u.hourly, *n, "{owner} window {at}: counted = accepted");
        assert!(*n <= cap, "{owner} window {at}: {n} > {cap}");
    }
    for (owner, n) in &total {
        let u = usage_of(&observer, owner, end);
        assert_eq!(u.total, *n, "{owner} total");
        assert_eq!(u.live, 0, "{owner} live at the end");
    }
}

/// A process killed with SIGKILL while holding calls: their concurrency
/// comes back when their leases run out, and not before.
#[test]
fn killed_process_frees_calls_at_lease_end() {
    let Some(url) = server("killed_process_frees_calls_at_lease_end") else {
        return;
    };
    let ns = namespace();
    let mut child = worker(&format!("hold:{ns}"), &url);
    let stdout = child.stdout.take().expect("stdout");
    // libtest prints its own lines first
    let mut ready = false;
    let mut reader = std::io::BufReader::new(stdout);
    for _ in 0..20 {
        let mut line = String::new();
        if std::io::BufRead::read_line(&mut reader, &mut line).expect("read") == 0 {
            break;
        }
        if line.contains("READY") {
            ready = true;
            break;
        }
    }
    assert!(ready, "worker never got ready");
    child.kill().expect("kill -9");
    child.wait().expect("reap");
    let o = opts(&url, &ns);
    let b = redis_open(with_lease(STRESS_CONFIG, CRASH_LEASE), o).expect("open");
    let at = t(STRESS_BASE);
    let lease = i64::try_from(CRASH_LEASE).expect("lease");
    assert!(matches!(
        b.connect(&Call::new("n1"), "c", secs(at, lease - 1))
            .expect("n1"),
        ConnectOutcome::Refused(_)
    ));
    assert_eq!(usage_of(&b, "c", secs(at, lease - 1)).live, 2);
    assert_eq!(
        b.connect(&Call::new("n1"), "c", secs(at, lease))
            .expect("n1"),
        ConnectOutcome::Connected
    );
    assert_eq!(usage_of(&b, "c", secs(at, lease)).live, 1);
}

/// With `appendonly yes`, a server restart keeps counts, live calls and
/// call records; scripts reload on their own.
#[test]
fn server_restart_keeps_state() {
    if server("server_restart_keeps_state").is_none() {
        return;
    }
    let aof = ["--appendonly", "yes", "--appendfsync", "always"];
    let srv = private_server(&aof).expect("private server");
    let (port, dir) = (srv.port, srv.dir.clone());
    let url = format!("redis://127.0.0.1:{port}");
    let b = redis_open(parse(ONE_TARGET), opts(&url, "restart")).expect("open");
    let at = t("2026-06-01T12:00:00Z");
    assert_eq!(
        b.connect(&Call::new("c1"), "a", at).expect("c1"),
        ConnectOutcome::Connected
    );
    b.convert(&Call::new("c1"), Money(700), at)
        .expect("convert");
    // restart on the same port and directory
    let mut srv = srv;
    let _ = srv.child.kill();
    let _ = srv.child.wait();
    let bin = std::env::var("ROUTECAP_TEST_REDIS_SERVER").expect("server binary");
    srv.child = std::process::Command::new(bin)
        .args([
            "--bind",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--save",
            "",
        ])
        .args(["--dir", dir.to_str().expect("dir")])
        .args(aof)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("restart");
    let mut up = false;
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            up = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(up, "server came back");
    let _: () = redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query(
            &mut redis::Client::open(url.as_str())
                .expect("client")
                .get_connection()
                .expect("conn"),
        )
        .expect("flush scripts");
    // and the step functions: the next step loads them again
    let _: () = redis::cmd("FUNCTION")
        .arg("FLUSH")
        .query(
            &mut redis::Client::open(url.as_str())
                .expect("client")
                .get_connection()
                .expect("conn"),
        )
        .expect("flush functions");
    // the first call may find the old connection gone: an error, then a retry
    let mut usage = None;
    for _ in 0..20 {
        if b.usage(at).is_ok() {
            usage = Some(usage_of(&b, "a", at));
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let u = usage.expect("usage after restart");
    assert_eq!((u.daily, u.live, u.daily_revenue.as_str()), (1, 1, "7.00"));
    assert!(
        matches!(
            b.connect(&Call::new("c1"), "a", at),
            Err(StateError::Engine(_))
        ),
        "record kept"
    );
    b.end(&Call::new("c1"), at)
        .expect("end after restart (script reloaded)");
    assert_eq!(usage_of(&b, "a", at).live, 0);
    drop(srv);
}

// ---- the CLI: --state / --namespace ----

/// Random-ish events over every target and group of a config.
fn cli_events(config: &Config) -> String {
    let mut out = String::new();
    let mut at = t("2026-11-22T14:00:00Z");
    let ids: Vec<&str> = config.targets.iter().map(|t| t.id.as_str()).collect();
    let mut x: u64 = 12345;
    for i in 0..120 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let r = (x >> 33) as usize;
        at = secs(at, (r % 400) as i64);
        let call = format!("c{}", r % 17);
        let target = ids[r % ids.len()];
        let ts = routecap::core::render::instant(at);
        let line = match (r / 7) % 8 {
            0 => format!(r#"{{"at": "{ts}", "type": "route", "call": "{call}"}}"#),
            1 | 2 => format!(
                r#"{{"at": "{ts}", "type": "connect", "call": "{call}", "target": "{target}"}}"#
            ),
            3 => format!(
                r#"{{"at": "{ts}", "type": "convert", "call": "{call}", "revenue": "{}.{:02}"}}"#,
                r % 40,
                r % 100
            ),
            4 | 5 => format!(r#"{{"at": "{ts}", "type": "end", "call": "{call}"}}"#),
            6 => format!(
                r#"{{"at": "{ts}", "type": "reserve", "call": "{call}", "target": "{target}", "ttl": {}}}"#,
                1 + r % 600
            ),
            _ if i % 2 == 0 && !config.groups.is_empty() => {
                format!(
                    r#"{{"at": "{ts}", "type": "reset", "group": "{}"}}"#,
                    config.groups[r % config.groups.len()].id
                )
            }
            _ => format!(r#"{{"at": "{ts}", "type": "reset", "target": "{target}"}}"#),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// `replay`, `check` and `route` print byte-identical output with
/// `--state redis://…` and with the memory backend, on every example config.
#[test]
fn cli_output_is_identical_on_redis() {
    let Some(url) = server("cli_output_is_identical_on_redis") else {
        return;
    };
    for example in [
        "examples/native.json",
        "examples/retreaver.json",
        "examples/ringba.json",
    ] {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../");
        let bytes = std::fs::read(format!("{path}{example}")).expect("example");
        let config = parse_config(&bytes, example, None).expect("example config");
        let events = cli_events(&config);
        let ns = namespace();
        let replay = |state: &[&str]| {
            let mut args = vec!["replay", example, "-", "--seed", "7"];
            args.extend_from_slice(state);
            crate::cli_support::run(&args, events.as_bytes())
        };
        let memory = replay(&[]);
        let redis = replay(&["--state", &url, "--namespace", &ns]);
        assert_eq!(memory.0, redis.0, "{example}: exit status; {}", redis.2);
        assert_eq!(memory.1, redis.1, "{example}: replay output");
        assert!(memory.1.lines().count() == 120);
        for cmd in ["check", "route"] {
            let at = "2026-11-22T23:30:00Z";
            let base = [cmd, example, "--at", at, "--seed", "3", "--json"];
            let base: Vec<&str> = if cmd == "check" {
                base.iter()
                    .copied()
                    .filter(|a| *a != "--seed" && *a != "3")
                    .collect()
            } else {
                base.to_vec()
            };
            let m = crate::cli_support::run(&base, b"");
            let mut with_state = base.clone();
            with_state.extend_from_slice(&["--state", &url, "--namespace", &ns]);
            let r = crate::cli_support::run(&with_state, b"");
            assert_eq!(m.0, 0, "{example} {cmd}: {}", m.2);
            assert_eq!(r.0, 0, "{example} {cmd}: {}", r.2);
            // memory starts from the imported usage; the namespace holds
            // the replay's counters: equal only where nothing was counted
            let fresh = namespace();
            let mut fresh_args = base.clone();
            fresh_args.extend_from_slice(&["--state", &url, "--namespace", &fresh]);
            let f = crate::cli_support::run(&fresh_args, b"");
            assert_eq!(m.1, f.1, "{example} {cmd} on a fresh namespace");
        }
    }
}

/// A server that cannot be reached: exit 2, a message naming the URL
/// without its password, nothing on stdout.
#[test]
fn cli_unreachable_state_exits_2() {
    let port = free_port();
    let url = format!("redis://:sekrit@127.0.0.1:{port}");
    let (code, out, err) = crate::cli_support::run(
        &[
            "check",
            "examples/native.json",
            "--at",
            "2026-11-22T15:00:00Z",
            "--state",
            &url,
        ],
        b"",
    );
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty());
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(!err.contains("sekrit"), "{err}");
    let (code, _, err) = crate::cli_support::run(
        &["check", "examples/native.json", "--state", "postgres://x"],
        b"",
    );
    assert_eq!(code, 2, "{err}");
}

/// A process whose idea of a call's target is stale (the call was
/// reconnected elsewhere by another process) still ends the right call.
#[test]
fn stale_target_hint_is_corrected() {
    let Some(url) = server("stale_target_hint_is_corrected") else {
        return;
    };
    let config = parse(r#"{"targets": [{"id": "a"}, {"id": "b", "caps": {"concurrency": 1}}]}"#);
    let ns = namespace();
    let p1 = redis_open(config.clone(), opts(&url, &ns)).expect("p1");
    let p2 = redis_open(config, opts(&url, &ns)).expect("p2");
    let at = t("2026-06-01T12:00:00Z");
    // p1 reserves c on a; the reservation lapses; p2 connects c on b
    assert_eq!(
        p1.reserve(&Call::new("c"), "a", 10, at).expect("reserve"),
        ConnectOutcome::Connected
    );
    assert_eq!(
        p2.connect(&Call::new("c"), "b", secs(at, 20))
            .expect("connect"),
        ConnectOutcome::Connected
    );
    p1.end(&Call::new("c"), secs(at, 30))
        .expect("end through a stale hint");
    let u = usage_of(&p2, "b", secs(at, 30));
    assert_eq!((u.live, u.daily), (0, 1));
    assert!(matches!(
        p2.end(&Call::new("c"), secs(at, 31)),
        Err(StateError::Engine(_))
    ));
}

/// Wrong password and a port answering garbage: exit 2 from the CLI,
/// the URL named without the password, nothing on stdout, no panic.
#[test]
fn cli_wrong_password_and_not_redis_exit_2() {
    if server("cli_wrong_password_and_not_redis_exit_2").is_none() {
        return;
    }
    let srv = private_server(&["--requirepass", "right-one"]).expect("private server");
    let url = format!("redis://:wrong-one@127.0.0.1:{}", srv.port);
    for cmd in ["check", "usage"] {
        let (code, out, err) = crate::cli_support::run(
            &[
                cmd,
                "examples/native.json",
                "--at",
                "2026-11-22T15:00:00Z",
                "--state",
                &url,
            ],
            b"",
        );
        assert_eq!(code, 2, "{cmd}: {err}");
        assert!(out.is_empty(), "{out}");
        assert!(err.contains(&format!("127.0.0.1:{}", srv.port)), "{err}");
        assert!(err.contains("authentication failed"), "{err}");
        assert!(
            !err.contains("wrong-one") && !err.contains("panicked"),
            "{err}"
        );
    }

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for s in listener.incoming() {
            let Ok(mut s) = s else { return };
            let mut buf = [0u8; 256];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
        }
    });
    let url = format!("redis://:pw@127.0.0.1:{port}");
    let events = b"{\"at\": \"2026-11-22T15:00:00Z\", \"type\": \"end\", \"call\": \"x\"}\n";
    let (code, out, err) = crate::cli_support::run(
        &[
            "replay",
            "examples/native.json",
            "-",
            "--seed",
            "1",
            "--state",
            &url,
        ],
        events,
    );
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(!err.contains(":pw@") && !err.contains("panicked"), "{err}");
}

/// A second process continues from what the first left in the namespace:
/// the counts, the live call (ended by the second) and its cap.
#[test]
fn cli_second_process_continues_the_namespace() {
    let Some(url) = server("cli_second_process_continues_the_namespace") else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("routecap-cont-{}", new_op_id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let cfg = dir.join("c.json");
    std::fs::write(
        &cfg,
        r#"{"targets": [{"id": "a", "caps": {"daily": 2, "concurrency": 1}}, {"id": "b"}]}"#,
    )
    .expect("config");
    let cfg = cfg.to_str().expect("utf-8 path");
    let ns = namespace();
    let state = ["--state", url.as_str(), "--namespace", ns.as_str()];
    let replay = |events: &str| {
        let mut args = vec!["replay", cfg, "-", "--seed", "1"];
        args.extend_from_slice(&state);
        crate::cli_support::run(&args, events.as_bytes())
    };
    let first = replay(concat!(
        "{\"at\": \"2026-06-01T12:00:00Z\", \"type\": \"connect\", \"call\": \"c1\", \"target\": \"a\"}\n",
        "{\"at\": \"2026-06-01T12:01:00Z\", \"type\": \"connect\", \"call\": \"c2\", \"target\": \"a\"}\n",
    ));
    assert_eq!(first.0, 0, "{}", first.2);
    assert!(
        first
            .1
            .lines()
            .nth(1)
            .unwrap_or("")
            .contains("concurrency_cap"),
        "{}",
        first.1
    );
    // a new process: c1 is still live there, and ends; c2 then connects
    // and reaches the daily cap of 2
    let second = replay(concat!(
        "{\"at\": \"2026-06-01T12:02:00Z\", \"type\": \"end\", \"call\": \"c1\"}\n",
        "{\"at\": \"2026-06-01T12:03:00Z\", \"type\": \"connect\", \"call\": \"c2\", \"target\": \"a\"}\n",
        "{\"at\": \"2026-06-01T12:04:00Z\", \"type\": \"end\", \"call\": \"c2\"}\n",
        "{\"at\": \"2026-06-01T12:05:00Z\", \"type\": \"connect\", \"call\": \"c3\", \"target\": \"a\"}\n",
    ));
    assert_eq!(second.0, 0, "{}", second.2);
    let lines: Vec<serde_json::Value> = second
        .1
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(lines[0]["ok"], true, "{}", second.1);
    assert_eq!(lines[1]["ok"], true, "{}", second.1);
    assert_eq!(lines[3]["ok"], false, "{}", second.1);
    assert_eq!(lines[3]["reasons"][0]["code"], "daily_cap", "{}", second.1);
    let mut args = vec!["usage", cfg, "--at", "2026-06-01T12:06:00Z", "--json"];
    args.extend_from_slice(&state);
    let (code, out, err) = crate::cli_support::run(&args, b"");
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let a = &v["owners"][0];
    assert_eq!(
        (a["id"].as_str(), a["live"].as_u64()),
        (Some("a"), Some(0)),
        "{out}"
    );
    assert_eq!(a["caps"][0]["used"], 2, "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A config change made by one process (a pause, then a whole new config
/// with a lower cap) is seen by another at its next decision; counters
/// stay by id.
#[test]
fn config_changes_reach_every_process() {
    let Some(url) = server("config_changes_reach_every_process") else {
        return;
    };
    use routecap::core::formats::source::OwnerKind;
    use routecap::state::redis::RedisState;
    let doc = br#"{"targets": [{"id": "a", "caps": {"daily": 5}}, {"id": "b"}]}"#;
    let ns = namespace();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let p1 = RedisState::open_document(doc, "c.json", None, opts(&url, &ns))
            .await
            .expect("p1");
        let p2 = RedisState::open_document(doc, "c.json", None, opts(&url, &ns))
            .await
            .expect("p2");
        let at = t("2026-06-01T12:00:00Z");
        for i in 0..2 {
            let call = format!("c{i}");
            assert_eq!(
                p1.connect(&Call::new(&*call).request(&new_op_id()), "a", at)
                    .await
                    .expect("connect"),
                ConnectOutcome::Connected
            );
            p1.end(&Call::new(&*call).request(&new_op_id()), at)
                .await
                .expect("end");
        }
        p1.set_paused(OwnerKind::Target, "a", true)
            .await
            .expect("pause");
        let view = p2
            .check(&Call::default(), secs(at, 1))
            .await
            .expect("check");
        let a = serde_json::to_value(&view).expect("json");
        assert_eq!(a["candidates"][0]["reasons"][0]["code"], "paused", "{a}");
        match p2
            .connect(&Call::new("c9").request(&new_op_id()), "a", secs(at, 1))
            .await
            .expect("connect")
        {
            ConnectOutcome::Refused(r) => assert_eq!(r[0].code_string(), "paused"),
            other => panic!("{other:?}"),
        }
        // a whole new config from p2: cap 2, and "b" removed
        let dropped = p2
            .replace_config(
                &serde_json::json!({"targets": [{"id": "a", "caps": {"daily": 2}}]}),
                "new.json",
                None,
                "2026-11-23T00:00:00Z".parse().unwrap(),
            )
            .await
            .expect("update");
        assert_eq!(dropped.targets, ["b"]);
        assert_eq!(p1.config().targets.len(), 2, "p1 has not read since");
        match p1
            .connect(&Call::new("c3").request(&new_op_id()), "a", secs(at, 2))
            .await
            .expect("connect")
        {
            ConnectOutcome::Refused(r) => {
                assert_eq!(r[0].code_string(), "daily_cap");
                assert_eq!(r[0].used.map(|u| format!("{u:?}")), Some("Count(2)".into()));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(p1.config().targets.len(), 1, "p1 reloaded the config");
        assert!(p1.ping().await.is_ok());
    });
}

/// One `RedisBackend` shared by 8 threads (its runtime is driven by
/// whichever thread waits): every call completes, none is lost, and the
/// concurrency cap holds.
#[test]
fn one_backend_shared_by_threads() {
    let Some(url) = server("one_backend_shared_by_threads") else {
        return;
    };
    let config = parse(r#"{"targets": [{"id": "a", "caps": {"concurrency": 3}}]}"#);
    let b = Arc::new(redis_open(config, opts(&url, &namespace())).expect("open"));
    let at = t("2026-06-01T12:00:00Z");
    let (tx, rx) = std::sync::mpsc::channel();
    for th in 0..8 {
        let b = b.clone();
        let tx = tx.clone();
        std::thread::spawn(move || {
            let mut connected = 0u64;
            for i in 0..50 {
                let call = format!("t{th}-{i}");
                if b.connect(&Call::new(&*call), "a", at).expect("connect")
                    == ConnectOutcome::Connected
                {
                    connected += 1;
                    let live = usage_of(&b, "a", at).live;
                    assert!(live <= 3, "live {live} > 3");
                    b.end(&Call::new(&*call), at).expect("end");
                }
            }
            tx.send(connected).expect("send");
        });
    }
    drop(tx);
    let mut total = 0;
    for _ in 0..8 {
        total += rx
            .recv_timeout(Duration::from_secs(60))
            .expect("every thread finishes");
    }
    assert!(total > 0);
    let u = usage_of(&b, "a", at);
    assert_eq!((u.total, u.live), (total, 0));
}

/// Every async method's future is `Send` (a service spawns them on a
/// multi-thread runtime) and the state is `Send + Sync`: checked at
/// compile time, nothing to run.
#[allow(dead_code, clippy::diverging_sub_expression, unreachable_code)]
fn async_api_is_send(s: &routecap::state::redis::RedisState) {
    use routecap::core::formats::source::OwnerKind;
    fn send<T: Send>(_: T) {}
    fn send_sync<T: Send + Sync>() {}
    send_sync::<routecap::state::redis::RedisState>();
    let at = t("2026-06-01T12:00:00Z");
    let call = Call::new("c").request("op");
    send(s.check(&call, at));
    send(s.route(&call, at, &mut Draws::new(1)));
    send(s.usage(at));
    send(s.replace_config(
        &serde_json::json!({}),
        "c.json",
        None,
        "2026-11-23T00:00:00Z".parse().unwrap(),
    ));
    send(s.patch(
        OwnerKind::Target,
        "a",
        &serde_json::json!({}),
        "patch",
        "2026-11-23T00:00:00Z".parse().unwrap(),
    ));
    send(s.set_paused(OwnerKind::Group, "g", true));
    send(s.import_usage(at, &serde_json::json!({}), "usage"));
    send(s.health());
    send(s.connect(&call, "a", at));
    send(s.reserve(&call, "a", 60, at));
    send(s.convert(&call, Money(1), at));
    send(s.end(&call, at));
    send(s.touch(&call, at));
    send(s.cancel(&call, at));
    send(s.reset(Owner::Target, "a"));
    send(s.reset(Owner::Group, "g"));
}

/// Caller rules (`duplicates`, `repeat_callers`): duplicates by connect (`a`) and by conversion
/// (`b`), `original` for the config, `different` for campaign `fresh`.
/// Windows stay within the test's hours so that they open and close.
const CALLERS_CONFIG: &str = r#"{
  "repeat_callers": {"mode": "original", "window": 1800},
  "targets": [
    {"id": "a", "priority": 1, "caps": {"concurrency": 2},
     "duplicates": {"basis": "connect", "window": 600}},
    {"id": "b", "priority": 2, "trigger": "convert",
     "duplicates": {"basis": "convert", "window": 1200}},
    {"id": "c", "priority": 3}
  ],
  "campaigns": [
    {"id": "fresh", "candidates": ["a", "b", "c"],
     "repeat_callers": {"mode": "different", "window": 900}}
  ]
}"#;

/// Two known callers and an unknown one.
const CALLERS: [&str; 3] = ["+19195550100", "+19195550101", "anonymous"];

/// The attributes an event's `cents` picks: caller `cents % 3`, the
/// campaign when `cents % 6 < 3`.
fn event_attrs(cents: u16) -> routecap::core::filter::CallAttrs {
    caller_attrs(usize::from(cents % 3), cents % 6 < 3)
}

fn caller_attrs(caller: usize, campaign: bool) -> routecap::core::filter::CallAttrs {
    let mut attrs = routecap::core::filter::CallAttrs::new();
    attrs.set_caller(Some(CALLERS[caller % CALLERS.len()]));
    if campaign {
        attrs.set_campaign(Some("fresh"));
    }
    attrs
}

/// Random calls of a few callers (with and without the campaign), their
/// reservations, conversions and ends, plans and checks, and patches of a
/// duplicate window: every answer, and every caller's check, equal
/// memory's.
/// Returns how many answers named `duplicate_caller` and `repeat_caller`.
fn run_caller_equivalence(url: &str, events: &[Ev]) -> (usize, usize) {
    use routecap::core::formats::source::OwnerKind;
    let core = routecap::core::engine::Engine::parse(CALLERS_CONFIG.as_bytes(), "c.json", None)
        .expect("config");
    let memory = memory(routecap::Engine::from_core(core));
    let redis = redis_open_document(CALLERS_CONFIG.as_bytes(), "c.json", opts(url, &namespace()))
        .expect("open");
    let backends: [&Blocking; 2] = [&memory, &redis];
    let mut at = t("2026-11-23T10:00:00Z");
    let ids = ["a", "b", "c"];
    let mut seen = (0, 0);
    for (i, &(kind, call, target, dt, cents)) in events.iter().enumerate() {
        at = secs(at, i64::from(dt));
        let call = format!("c{call}");
        let target = ids[usize::from(target) % 3];
        let attrs = event_attrs(cents);
        // never beyond the longest window (1800 s): a longer one would see
        // history memory may already have swept (see the module docs)
        let patch =
            serde_json::json!({"duplicates": {"basis": "connect", "window": 60 + cents % 1700}});
        let out: Vec<String> = backends
            .iter()
            .map(|b| match kind % 9 {
                0..=2 => show(b.connect(&Call::with_attrs(&*call, attrs.clone()), target, at)),
                // a reservation confirmed by a connect with a caller
                8 => show(b.reserve(&Call::new(&*call), target, u64::from(dt % 300) + 1, at)),
                3 => show(b.convert(&Call::new(&*call), Money(i64::from(cents)), at)),
                4 => show(b.end(&Call::new(&*call), at)),
                5 => show(b.patch(OwnerKind::Target, target, &patch, "update", at)),
                _ => show(b.route(
                    &Call::with_attrs("", attrs.clone()),
                    at,
                    &mut Draws::new(u64::from(cents)),
                )),
            })
            .collect();
        assert_eq!(
            out[0], out[1],
            "event {i} at {at}: {kind} {call} {target} {attrs:?}"
        );
        seen.0 +=
            out[0].matches("DuplicateCaller").count() + out[0].matches("duplicate_caller").count();
        seen.1 += out[0].matches("RepeatCaller").count() + out[0].matches("repeat_caller").count();
        for caller in 0..CALLERS.len() {
            for campaign in [false, true] {
                let attrs = caller_attrs(caller, campaign);
                let views: Vec<String> = backends
                    .iter()
                    .map(|b| {
                        serde_json::to_string(
                            &b.check(&Call::with_attrs("", attrs.clone()), at)
                                .expect("check"),
                        )
                        .expect("json")
                    })
                    .collect();
                assert_eq!(
                    views[0], views[1],
                    "check after event {i} at {at}: {attrs:?}"
                );
            }
        }
    }
    seen
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Random calls of repeat callers under duplicate and repeat rules
    /// agree between memory and Redis.
    #[test]
    fn memory_and_redis_agree_with_callers(events in proptest::collection::vec(
        (0u8..9, 0u8..6, 0u8..3, 0u16..480, 0u16..2000), 1..30)) {
        let Some(url) = server("memory_and_redis_agree_with_callers") else { return Ok(()) };
        run_caller_equivalence(&url, &events);
    }
}

/// A fixed story: a duplicate by connect, a conversion making a
/// duplicate by conversion, `different` refusing the original target,
/// `original` putting it first, windows closing at their exact instants.
#[test]
fn callers_fixed_sequence() {
    let Some(url) = server("callers_fixed_sequence") else {
        return;
    };
    // (kind, call, target, seconds later, cents): cents 3 = caller 0,
    // cents 4 = caller 1, cents 0 = caller 0 in campaign `fresh`
    let events: Vec<Ev> = vec![
        (0, 1, 0, 0, 3),    // T: caller 0 connects to a
        (4, 1, 0, 60, 0),   // ends
        (0, 2, 0, 60, 3),   // T+120 on a again: duplicate (connect, 600 s)
        (0, 2, 1, 0, 4),    // caller 1 on b
        (3, 2, 1, 30, 0),   // converts at T+150
        (0, 3, 1, 30, 4),   // caller 1 on b again: duplicate (convert)
        (6, 0, 0, 0, 3),    // plan for caller 0 (original)
        (6, 0, 0, 0, 0),    // plan in the campaign: different refuses a
        (0, 4, 0, 480, 3),  // T+660: a's window closed at T+600
        (0, 5, 2, 479, 0),  // T+1139: c in the campaign
        (5, 0, 0, 0, 1000), // a's window becomes 1060 s
        (0, 0, 0, 1, 3),    // T+1140 on a: within 1060 s of T+660
    ];
    let (duplicates, repeats) = run_caller_equivalence(&url, &events);
    assert!(duplicates >= 3, "{duplicates} duplicate_caller answers");
    assert!(repeats >= 1, "{repeats} repeat_caller answers");
}

/// Many processes connect one caller to one target at the same instant
/// under a duplicate rule: exactly one is admitted, the others are
/// refused for `duplicate_caller`, and the target counted one call.
#[test]
fn concurrent_duplicate_callers_admit_one() {
    let Some(url) = server("concurrent_duplicate_callers_admit_one") else {
        return;
    };
    let config = parse(
        r#"{"targets": [{"id": "a", "duplicates": {"basis": "connect", "window": 3600}},
                        {"id": "b"}]}"#,
    );
    let ns = namespace();
    let at = t("2026-06-01T12:00:00Z");
    let threads: Vec<_> = (0..6)
        .map(|w| {
            let (config, url, ns) = (config.clone(), url.clone(), ns.clone());
            std::thread::spawn(move || {
                let b = redis_open(config, opts(&url, &ns)).expect("open");
                let attrs = caller_attrs(0, false);
                let mut outcomes = Vec::new();
                for i in 0..4 {
                    let call = format!("w{w}-{i}");
                    outcomes.push(
                        b.connect(&Call::with_attrs(&*call, attrs.clone()), "a", at)
                            .expect("connect"),
                    );
                }
                outcomes
            })
        })
        .collect();
    let outcomes: Vec<ConnectOutcome> = threads
        .into_iter()
        .flat_map(|th| th.join().expect("worker"))
        .collect();
    let admitted = outcomes
        .iter()
        .filter(|o| matches!(o, ConnectOutcome::Connected))
        .count();
    assert_eq!(admitted, 1, "{outcomes:?}");
    for o in &outcomes {
        if let ConnectOutcome::Refused(reasons) = o {
            let codes: Vec<&str> = reasons.iter().map(|r| r.code.as_str()).collect();
            assert_eq!(codes, ["duplicate_caller"], "{o:?}");
        }
    }
    let b = redis_open(config, opts(&url, &ns)).expect("open");
    let ua = usage_of(&b, "a", at);
    assert_eq!((ua.daily, ua.live), (1, 1));
    // another caller, and the same caller on another target, are admitted
    let other = caller_attrs(1, false);
    assert_eq!(
        b.connect(&Call::with_attrs("x1", other.clone()), "a", at)
            .expect("connect"),
        ConnectOutcome::Connected
    );
    assert_eq!(
        b.connect(&Call::with_attrs("x2", caller_attrs(0, false)), "b", at)
            .expect("connect"),
        ConnectOutcome::Connected
    );
}

/// The caller's hash holds the last connect and conversion per target and
/// lives until its latest event + the longest rule window + an hour,
/// counted from the event instant; the call record keeps the caller.
#[test]
fn caller_history_keys_and_their_expiry() {
    let Some(url) = server("caller_history_keys_and_their_expiry") else {
        return;
    };
    let ns = namespace();
    let b = redis_open(parse(CALLERS_CONFIG), opts(&url, &ns)).expect("open");
    let mut raw = redis::Client::open(url.as_str())
        .expect("client")
        .get_connection()
        .expect("connection");
    let caller = CALLERS[0];
    let key = format!("{{{ns}}}:caller:{}:{caller}", caller.len());
    let ttl = |raw: &mut redis::Connection| -> i64 {
        redis::cmd("TTL").arg(&key).query(raw).expect("ttl")
    };
    let fields = |raw: &mut redis::Connection| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> =
            redis::cmd("HGETALL").arg(&key).query(raw).expect("hgetall");
        v.sort();
        v
    };
    let at = t("2026-11-23T10:00:00Z");
    let s = at.timestamp();
    let keep = 1800; // the longest window of CALLERS_CONFIG (repeat_callers)
    assert_eq!(
        b.connect(&Call::with_attrs("c1", caller_attrs(0, false)), "b", at)
            .expect("connect"),
        ConnectOutcome::Connected
    );
    let caller_of: Option<String> = redis::cmd("HGET")
        .arg(format!("{{{ns}}}:call:2:c1"))
        .arg("caller")
        .query(&mut raw)
        .expect("hget");
    assert_eq!(caller_of.as_deref(), Some(caller));
    assert_eq!(
        fields(&mut raw),
        [
            ("c:b".to_string(), s.to_string()),
            ("last".to_string(), s.to_string())
        ]
    );
    let left = ttl(&mut raw);
    assert!(
        (keep + 3600 - 5..=keep + 3600).contains(&left),
        "ttl {left}"
    );
    // a conversion 100 s later: recorded, the key lives from it
    b.convert(&Call::new("c1"), Money(500), secs(at, 100))
        .expect("convert");
    let left = ttl(&mut raw);
    assert!(
        (keep + 3600 - 5..=keep + 3600).contains(&left),
        "ttl {left}"
    );
    // an older connect elsewhere: the latest event still decides the expiry
    assert_eq!(
        b.connect(
            &Call::with_attrs("c2", caller_attrs(0, false)),
            "c",
            secs(at, -1000)
        )
        .expect("connect"),
        ConnectOutcome::Connected
    );
    let left = ttl(&mut raw);
    let want = 1100 + keep + 3600;
    assert!((want - 5..=want).contains(&left), "ttl {left}");
    assert_eq!(
        fields(&mut raw),
        [
            ("c:b".to_string(), s.to_string()),
            ("c:c".to_string(), (s - 1000).to_string()),
            ("last".to_string(), (s + 100).to_string()),
            ("v:b".to_string(), (s + 100).to_string()),
        ]
    );
    // an unknown caller and a config without rules leave no history
    let mut anonymous = routecap::core::filter::CallAttrs::new();
    anonymous.set_caller(Some("anonymous"));
    b.connect(&Call::with_attrs("c3", anonymous.clone()), "c", at)
        .expect("connect");
    let plain_ns = namespace();
    let plain = redis_open(parse(ONE_TARGET), opts(&url, &plain_ns)).expect("open");
    plain
        .connect(&Call::with_attrs("c4", caller_attrs(1, false)), "a", at)
        .expect("connect");
    let mut keys = |ns: &str| -> Vec<String> {
        redis::cmd("KEYS")
            .arg(format!("{{{ns}}}:caller:*"))
            .query(&mut raw)
            .expect("keys")
    };
    assert_eq!(keys(&ns), [key]);
    assert!(keys(&plain_ns).is_empty());
}
