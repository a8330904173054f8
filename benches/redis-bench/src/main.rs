//! Throughput and latency of the Redis backend beside its anchors, on one
//! server, in one run:
//!
//! ```text
//! scripts/bench-redis
//! ```
//!
//! (`scripts/with-redis cargo run --release -p routecap-redis-bench`.)
//! Every loop is bounded in count and in time. Anchors, measured in the
//! same run against the same server:
//! - `redis-benchmark -c 1` and `-c 32` of `EVALSHA` of a script as large
//!   as the connect script (found beside `ROUTECAP_TEST_REDIS_SERVER`, else
//!   on `PATH`; skipped with a note when missing);
//! - the same raw `EVALSHA` through redis-rs from this process;
//! - a route decision from the memory backend.

use std::sync::Arc;
use std::time::{Duration, Instant as Clock};

use chrono::TimeDelta;
use routecap::core::filter::CallAttrs;
use routecap::core::formats::parse_config;
use routecap::core::lifecycle::ConnectOutcome;
use routecap::core::model::Config;
use routecap::core::route::Draws;
use routecap::core::Instant;
use routecap::state::redis::{connect_script_len, new_op_id, RedisOptions, RedisState};
use routecap::state::{Backend, Blocking};
use routecap::Call;

/// A Redis state for `config`, driven synchronously.
fn open_blocking(
    config: Arc<Config>,
    o: RedisOptions,
) -> Result<Blocking, routecap::state::StateError> {
    let rt = routecap::state::runtime().expect("runtime");
    let state = rt.block_on(RedisState::open(config, o))?;
    Ok(Blocking::on(rt, Arc::new(state)))
}

const PAIRS: usize = 4000;
const LIMIT: Duration = Duration::from_secs(20);

/// `redis-benchmark` requests per second for `EVALSHA sha` with `clients`.
fn redis_benchmark(url: &str, sha: &str, clients: usize) -> Option<f64> {
    let bin = std::env::var("ROUTECAP_TEST_REDIS_SERVER")
        .ok()
        .map(|s| std::path::PathBuf::from(s).with_file_name("redis-benchmark"))
        .filter(|p| p.exists())
        .unwrap_or_else(|| "redis-benchmark".into());
    let hostport = url.trim_start_matches("redis://");
    let (host, port) = hostport.rsplit_once(':')?;
    let out = std::process::Command::new(bin)
        .args(["-h", host, "-p", port.trim_end_matches('/')])
        .args(["-c", &clients.to_string(), "-n", "40000", "--csv"])
        .args(["EVALSHA", sha, "1", "{bench}:k", "1"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // "test","rps",...: the second field of the data line
    text.lines()
        .filter(|l| !l.starts_with("\"test\""))
        .find_map(|l| l.split(',').nth(1)?.trim_matches('"').parse().ok())
}

/// The server, the bench's config (a target in one group, caps never
/// reached) and the instant every step runs at.
struct Bench {
    url: String,
    config: Arc<Config>,
    at: Instant,
}

impl Bench {
    /// A synchronous backend on namespace `ns`.
    fn open(&self, ns: &str) -> Blocking {
        let mut o = RedisOptions::new(self.url.clone());
        o.namespace = ns.to_string();
        open_blocking(self.config.clone(), o).expect("open")
    }

    /// Options for a fresh namespace.
    fn fresh_options(&self) -> RedisOptions {
        let mut o = RedisOptions::new(self.url.clone());
        o.namespace = format!("bench-{}", new_op_id());
        o
    }
}

/// The first anchor: a script as large as the connect script that does
/// nothing, run raw (`EVALSHA` through redis-rs on its own connection).
struct RawAnchor {
    client: redis::Client,
    conn: redis::Connection,
    script: redis::Script,
}

impl RawAnchor {
    /// Load the script and print its size beside the connect script's.
    fn load(url: &str) -> RawAnchor {
        let client = redis::Client::open(url).expect("client");
        let mut conn = client.get_connection().expect("connection");
        let pad = connect_script_len().saturating_sub(20);
        let body = format!("-- {}\nreturn 'ok'", "x".repeat(pad));
        let script = redis::Script::new(&body);
        let _: String = script.invoke(&mut conn).expect("load");
        println!(
            "script size: {} bytes (connect script: {})",
            body.len(),
            connect_script_len()
        );
        RawAnchor {
            client,
            conn,
            script,
        }
    }

    /// One raw `EVALSHA` of the script.
    fn evalsha(&mut self) {
        let _: String = self
            .script
            .prepare_invoke()
            .key("{bench}:k")
            .arg(1)
            .invoke(&mut self.conn)
            .expect("evalsha");
    }

    /// `redis-benchmark` with 1 and 32 clients, then the raw round trip
    /// from this process: prints them, returns the one-client time of a
    /// raw step (us; redis-benchmark's when it ran).
    fn measure(&mut self, url: &str) -> f64 {
        let rb1 = redis_benchmark(url, self.script.get_hash(), 1);
        let rb32 = redis_benchmark(url, self.script.get_hash(), 32);
        match (rb1, rb32) {
            (Some(a), Some(b)) => {
                println!(
                    "redis-benchmark -c 1  EVALSHA:          {a:8.0} req/s  ({:6.1} us/req)",
                    1e6 / a
                );
                println!("redis-benchmark -c 32 EVALSHA:          {b:8.0} req/s");
            }
            _ => println!("redis-benchmark: not found or failed (anchor skipped)"),
        }
        let start = Clock::now();
        let mut n = 0;
        while n < PAIRS * 2 && start.elapsed() < LIMIT {
            self.evalsha();
            n += 1;
        }
        let raw_us = start.elapsed().as_secs_f64() * 1e6 / n as f64;
        println!("raw EVALSHA round trip, redis-rs (1 client): {raw_us:8.1} us");
        rb1.map_or(raw_us, |r| 1e6 / r)
    }
}

/// The median of `v`, in microseconds.
fn median(v: &mut [Duration]) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1e6
}

/// Medians (us) of the one-client loop: a raw step, a connect, an end.
struct OneClient {
    raw: f64,
    connect: f64,
    end: f64,
}

fn main() {
    let Ok(url) = std::env::var("ROUTECAP_TEST_REDIS_URL") else {
        eprintln!(
            "SKIPPING routecap-redis-bench: ROUTECAP_TEST_REDIS_URL is unset (run it with scripts/bench-redis)"
        );
        return;
    };
    let config = Arc::new(
        parse_config(
            br#"{"targets": [{"id": "a", "caps": {"daily": 100000000, "concurrency": 1000}}],
                 "groups": [{"id": "g", "members": ["a"], "caps": {"hourly": 100000000}}]}"#,
            "bench.json",
            None,
        )
        .expect("config"),
    );
    let at: Instant = "2026-06-01T12:00:00Z".parse().expect("instant");
    let bench = Bench { url, config, at };
    let mut raw = RawAnchor::load(&bench.url);
    let anchor_us = raw.measure(&bench.url);
    let one = one_client(&bench, &mut raw, anchor_us);
    same_step_anchor(&raw.client, &bench, one.connect, one.end);
    caller_rules(&bench, &mut raw, &one);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    async_state(&bench, &rt, &mut raw, anchor_us);
    concurrent_clients(&bench, &rt);
    route_decision(&bench);
}

/// One client, interleaved with the raw anchor so that both see the same
/// machine noise: raw EVALSHA, connect, end, raw, connect, …
fn one_client(bench: &Bench, raw: &mut RawAnchor, anchor_us: f64) -> OneClient {
    let b = bench.open(&format!("bench-{}", new_op_id()));
    let (mut raw_lat, mut con_lat, mut end_lat, mut pair_lat) = (
        Vec::with_capacity(PAIRS),
        Vec::with_capacity(PAIRS),
        Vec::with_capacity(PAIRS),
        Vec::with_capacity(PAIRS),
    );
    let start = Clock::now();
    let mut done = 0;
    while done < PAIRS && start.elapsed() < LIMIT {
        let call = format!("c{done}");
        let t = bench.at + TimeDelta::milliseconds(done as i64);
        let t0 = Clock::now();
        raw.evalsha();
        let t1 = Clock::now();
        assert_eq!(
            b.connect(&Call::new(&*call), "a", t).expect("connect"),
            ConnectOutcome::Connected
        );
        let t2 = Clock::now();
        b.end(&Call::new(&*call), t).expect("end");
        let t3 = Clock::now();
        raw_lat.push(t1 - t0);
        con_lat.push(t2 - t1);
        end_lat.push(t3 - t2);
        pair_lat.push(t3 - t1);
        done += 1;
    }
    let (raw_m, con_m, end_m, pair_m) = (
        median(&mut raw_lat),
        median(&mut con_lat),
        median(&mut end_lat),
        median(&mut pair_lat),
    );
    println!("interleaved, 1 client, medians of {done}:");
    println!("  raw EVALSHA (same-size script):      {raw_m:8.1} us");
    println!(
        "  connect:                             {con_m:8.1} us  ({:.2}× raw)",
        con_m / raw_m
    );
    println!(
        "  end:                                 {end_m:8.1} us  ({:.2}× raw)",
        end_m / raw_m
    );
    println!(
        "  connect+end pair:                    {pair_m:8.1} us  ({:.2}× two raw)",
        pair_m / 2.0 / raw_m
    );
    println!(
        "  connect vs redis-benchmark -c 1:     {:.2}×",
        con_m / anchor_us
    );
    OneClient {
        raw: raw_m,
        connect: con_m,
        end: end_m,
    }
}

/// Caller rules, interleaved with the same raw anchor: a connect of a
/// fresh known caller under a duplicates and a `different` rule (the
/// script reads and writes the caller's hash), its end, and a check for
/// that caller (an uncached read of its hash).
fn caller_rules(bench: &Bench, raw: &mut RawAnchor, one: &OneClient) {
    let callers_config = Arc::new(
        parse_config(
            br#"{"repeat_callers": {"mode": "different", "window": 86400},
                 "targets": [{"id": "a", "caps": {"daily": 100000000, "concurrency": 1000},
                              "duplicates": {"basis": "connect", "window": 3600}}],
                 "groups": [{"id": "g", "members": ["a"], "caps": {"hourly": 100000000}}]}"#,
            "bench-callers.json",
            None,
        )
        .expect("config"),
    );
    let cb = open_blocking(callers_config, bench.fresh_options()).expect("open");
    let at = bench.at;
    let (mut raw_lat, mut con_lat, mut chk_lat) = (Vec::new(), Vec::new(), Vec::new());
    let start = Clock::now();
    let mut done = 0;
    while done < PAIRS && start.elapsed() < LIMIT {
        let call = format!("c{done}");
        let mut attrs = CallAttrs::new();
        attrs.set_caller(Some(&format!("+1919{done:07}")));
        let t0 = Clock::now();
        raw.evalsha();
        let t1 = Clock::now();
        assert_eq!(
            cb.connect(&Call::with_attrs(&*call, attrs.clone()), "a", at)
                .expect("connect"),
            ConnectOutcome::Connected
        );
        let t2 = Clock::now();
        cb.end(&Call::new(&*call), at).expect("end");
        let t3 = Clock::now();
        cb.check(&Call::with_attrs("", attrs.clone()), at)
            .expect("check");
        let t4 = Clock::now();
        raw_lat.push(t1 - t0);
        con_lat.push(t2 - t1);
        chk_lat.push(t4 - t3);
        done += 1;
    }
    let (raw_c, con_c, chk_c) = (
        median(&mut raw_lat),
        median(&mut con_lat),
        median(&mut chk_lat),
    );
    println!("caller rules, interleaved, 1 client, medians of {done}:");
    println!("  raw EVALSHA (same-size script):      {raw_c:8.1} us");
    println!(
        "  connect, known caller, rules:        {con_c:8.1} us  ({:.2}× raw; without rules above: {:.2}×)",
        con_c / raw_c,
        one.connect / one.raw
    );
    println!(
        "  check for that caller (fresh read):  {chk_c:8.1} us  ({:.2}× raw)",
        chk_c / raw_c
    );
}

/// `CONFIG RESETSTAT`: the server's command statistics start again.
fn resetstat(raw: &mut redis::Connection) {
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query(raw)
        .expect("resetstat");
}

/// The server's mean time per call of command `cmd` since the last
/// [`resetstat`] (us, `INFO commandstats`).
fn server_us(raw: &mut redis::Connection, cmd: &str) -> f64 {
    let stats: String = redis::cmd("INFO")
        .arg("commandstats")
        .query(raw)
        .expect("info");
    stats
        .lines()
        .find(|l| l.starts_with(&format!("cmdstat_{cmd}:")))
        .and_then(|l| l.split("usec_per_call=").nth(1))
        .and_then(|v| v.split(',').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

/// The async API driven by the caller's own current-thread runtime, then
/// the server time of each script alone.
fn async_state(bench: &Bench, rt: &tokio::runtime::Runtime, raw: &mut RawAnchor, anchor_us: f64) {
    let at = bench.at;
    let state = rt
        .block_on(RedisState::open(
            bench.config.clone(),
            bench.fresh_options(),
        ))
        .expect("open");
    let mut lat = Vec::with_capacity(PAIRS);
    let mut end_lat = Vec::with_capacity(PAIRS);
    resetstat(&mut raw.conn);
    let start = Clock::now();
    let mut done = 0;
    while done < PAIRS && start.elapsed() < LIMIT {
        let call = format!("c{done}");
        let t0 = Clock::now();
        rt.block_on(async {
            state
                .connect(&Call::new(&*call), "a", at)
                .await
                .expect("connect");
            lat.push(t0.elapsed());
            let t1 = Clock::now();
            state.end(&Call::new(&*call), at).await.expect("end");
            end_lat.push(t1.elapsed());
        });
        done += 1;
    }
    let per_pair = start.elapsed().as_secs_f64() * 1e6 / done as f64;
    lat.sort();
    let connect_us = lat[lat.len() / 2].as_secs_f64() * 1e6;
    end_lat.sort();
    println!(
        "async RedisState, end median {:8.1} us",
        end_lat[end_lat.len() / 2].as_secs_f64() * 1e6
    );
    println!(
        "async RedisState, current-thread runtime: connect median {connect_us:8.1} us ({:.2}×), pair mean {per_pair:8.1} us",
        connect_us / anchor_us
    );
    // server time per step script (connect and end alike), from the server
    let stats: String = redis::cmd("INFO")
        .arg("commandstats")
        .query(&mut raw.conn)
        .expect("info");
    for line in stats.lines().filter(|l| l.starts_with("cmdstat_")) {
        println!("server-side, the async loop above: {line}");
    }
    server_time_per_script(rt, &state, raw, at);
    probe_server_costs(&mut raw.conn);
}

/// Server time of each script alone: 900 connects (the target's
/// concurrency cap is 1,000), then their ends, then 900 raw anchors. Steps
/// run as `FCALL` (a Functions library), the anchor as `EVALSHA`.
fn server_time_per_script(
    rt: &tokio::runtime::Runtime,
    state: &RedisState,
    raw: &mut RawAnchor,
    at: Instant,
) {
    resetstat(&mut raw.conn);
    for i in 0..900 {
        let outcome = rt
            .block_on(state.connect(&Call::new(format!("s{i}")), "a", at))
            .expect("connect");
        assert_eq!(outcome, ConnectOutcome::Connected);
    }
    let connect_server = server_us(&mut raw.conn, "fcall");
    resetstat(&mut raw.conn);
    for i in 0..900 {
        rt.block_on(state.end(&Call::new(format!("s{i}")), at))
            .expect("end");
    }
    let end_server = server_us(&mut raw.conn, "fcall");
    resetstat(&mut raw.conn);
    for _ in 0..900 {
        raw.evalsha();
    }
    let raw_server = server_us(&mut raw.conn, "evalsha");
    println!(
        "server time per script (INFO commandstats, 900 each): connect {connect_server:.2} us, end {end_server:.2} us, raw same-size EVALSHA {raw_server:.2} us"
    );
}

/// Connect+end pairs from many clients at once: a backend per thread, one
/// backend shared by threads, and one async state shared by tasks.
fn concurrent_clients(bench: &Bench, rt: &tokio::runtime::Runtime) {
    let at = bench.at;
    for clients in [1usize, 8, 32] {
        let ns = format!("bench-{}", new_op_id());
        let per = PAIRS * 2 / clients;
        let backends: Vec<Blocking> = (0..clients).map(|_| bench.open(&ns)).collect();
        let (rate, p50, p99) = threads_connect_end(backends.into_iter().map(Arc::new), per, at);
        println!(
            "{clients:2} clients: {rate:8.0} connect+end pairs/s; connect p50 {p50:?} p99 {p99:?}"
        );
    }

    // one Blocking shared by threads: one multiplexed connection,
    // requests from every thread pipelined on it
    for clients in [8usize, 32] {
        let shared = Arc::new(bench.open(&format!("bench-{}", new_op_id())));
        let per = PAIRS * 2 / clients;
        let (rate, p50, p99) = threads_connect_end((0..clients).map(|_| shared.clone()), per, at);
        println!(
            "{clients:2} threads, one shared Blocking: {rate:8.0} connect+end pairs/s; connect p50 {p50:?} p99 {p99:?}"
        );
    }

    for tasks in [1usize, 8, 32] {
        tasks_on_one_state(bench, rt, tasks);
    }
}

/// One RedisState (one multiplexed connection) shared by `tasks`
/// concurrent tasks, as a service runs it: requests pipeline on the
/// connection.
fn tasks_on_one_state(bench: &Bench, rt: &tokio::runtime::Runtime, tasks: usize) {
    let at = bench.at;
    let state = Arc::new(
        rt.block_on(RedisState::open(
            bench.config.clone(),
            bench.fresh_options(),
        ))
        .expect("open"),
    );
    let per = PAIRS * 2 / tasks;
    let start = Clock::now();
    let mut lat: Vec<Duration> = rt.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        for c in 0..tasks {
            let state = state.clone();
            set.spawn(async move {
                let mut lat = Vec::with_capacity(per);
                for i in 0..per {
                    let call = format!("c{c}-{i}");
                    let t0 = Clock::now();
                    state
                        .connect(&Call::new(&*call), "a", at)
                        .await
                        .expect("connect");
                    lat.push(t0.elapsed());
                    state.end(&Call::new(&*call), at).await.expect("end");
                }
                lat
            });
        }
        let mut all = Vec::new();
        while let Some(r) = set.join_next().await {
            all.extend(r.expect("task"));
        }
        all
    });
    let secs = start.elapsed().as_secs_f64();
    lat.sort();
    let q = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    println!(
        "{tasks:2} tasks on one RedisState: {:8.0} connect+end pairs/s; connect p50 {:?} p99 {:?}",
        lat.len() as f64 / secs,
        q(0.50),
        q(0.99)
    );
}

/// A route decision over 1,000 targets: the cached Redis view beside the
/// memory backend.
fn route_decision(bench: &Bench) {
    let at = bench.at;
    let big: String = (0..1000)
        .map(|i| {
            format!(
                r#"{{"id": "t{i}", "priority": {}, "weight": {}, "caps": {{"daily": 50}}}}"#,
                i % 3,
                1 + i % 7
            )
        })
        .collect::<Vec<_>>()
        .join(",");
    let big = Arc::new(
        parse_config(
            format!(r#"{{"targets": [{big}]}}"#).as_bytes(),
            "big.json",
            None,
        )
        .expect("big"),
    );
    let memory = Blocking::new(Arc::new(routecap::Engine::new(big.clone()))).expect("runtime");
    let mut o = bench.fresh_options();
    o.refresh = Duration::from_secs(3600);
    let redis_b = open_blocking(big, o).expect("open");
    redis_b
        .route(&Call::default(), at, &mut Draws::new(1))
        .expect("warm");
    memory
        .route(&Call::default(), at, &mut Draws::new(1))
        .expect("warm");
    let mut per = Vec::new();
    for (name, b) in [("memory", &memory), ("redis (cached)", &redis_b)] {
        let start = Clock::now();
        let mut n = 0u64;
        while n < 300 && start.elapsed() < LIMIT {
            std::hint::black_box(
                b.route(&Call::default(), at, &mut Draws::new(n))
                    .expect("route"),
            );
            n += 1;
        }
        let us = start.elapsed().as_secs_f64() * 1e6 / n as f64;
        per.push(us);
        println!("route decision over 1,000 targets, {name:15}: {us:8.1} us");
    }
    println!("cached route / memory route: {:.2}×", per[1] / per[0]);
}

/// Where a step's server time goes, from functions that do one part of
/// its work each (`INFO commandstats`, 2,000 calls each): an empty
/// function called with no arguments, with the connect's 9 keys and 33
/// arguments (a target and one group), and with 15 (what would be left
/// if the 18 limits lived on the server); and 11 `HMGET`s inside.
fn probe_server_costs(raw: &mut redis::Connection) {
    const PROBE: &str = "#!lua name=routecap_bench_probe\n\
        redis.register_function('routecap_probe_nop', function(keys, args) return 'ok' end)\n\
        redis.register_function('routecap_probe_calls', function(keys, args)\n\
          for i = 1, 11 do redis.call('HMGET', keys[1], 'ver', 'anchor', 'pending') end\n\
          return 'ok' end)\n";
    let _: String = redis::cmd("FUNCTION")
        .arg("LOAD")
        .arg("REPLACE")
        .arg(PROBE)
        .query(raw)
        .expect("probe library");
    let keys: Vec<String> = (0..9).map(|i| format!("{{bench}}:t:1:a:k{i}")).collect();
    let args: Vec<String> = (0..33).map(|i| (1_780_315_200 + i).to_string()).collect();
    let mut run = |name: &str, keys: &[String], args: &[String]| -> f64 {
        resetstat(raw);
        for _ in 0..2000 {
            let _: String = redis::cmd("FCALL")
                .arg(name)
                .arg(keys.len())
                .arg(keys)
                .arg(args)
                .query(raw)
                .expect("probe");
        }
        server_us(raw, "fcall")
    };
    let bare = run("routecap_probe_nop", &[], &[]);
    let full = run("routecap_probe_nop", &keys, &args);
    let fewer = run("routecap_probe_nop", &keys, &args[..15]);
    let calls = run("routecap_probe_calls", &keys[..1], &[]);
    println!(
        "server time, probes: empty function {bare:.2} us; with 9 keys + 33 args {full:.2} us, + 15 args {fewer:.2} us \
         ({:.3} us per argument); 11 HMGETs inside {calls:.2} us ({:.2} us per redis.call)",
        (full - fewer) / 18.0,
        (calls - bare) / 11.0
    );
}

/// The call id the steps are captured with.
const CAPTURED_CALL: &str = "capt-000000";

/// A connect's and an end's `FCALL` as the server saw them (for
/// [`CAPTURED_CALL`]), and their operation ids.
struct CapturedSteps {
    words: Vec<Vec<String>>,
    op_connect: String,
    op_end: String,
}

impl CapturedSteps {
    /// The captured connect and end, for call `n` (see [`replay`]).
    fn replay(&self, n: usize) -> (redis::Cmd, redis::Cmd) {
        (
            replay(&self.words[0], CAPTURED_CALL, &self.op_connect, n, 'c'),
            replay(&self.words[1], CAPTURED_CALL, &self.op_end, n, 'e'),
        )
    }
}

/// The second anchor: the very `FCALL`s a connect and an end send (keys and
/// arguments as the server saw them, captured with `MONITOR`), replayed
/// from a bare redis-rs connection with fresh call and operation ids of
/// the same length. It costs the server the same work as the backend's
/// steps, so the ratio is what the backend adds on the client side (ids,
/// windows, keys, the runtime) over the round trip of the same step; the
/// same-size-script anchor above is the floor of a step that does nothing.
/// Then 8 threads replay pairs at once: the p99 a bare client of the same
/// steps sees, beside the backend's in the 8-client run below.
fn same_step_anchor(client: &redis::Client, bench: &Bench, con_m: f64, end_m: f64) {
    let ns = format!("bench-{}", new_op_id());
    let b = bench.open(&ns);
    let Some(steps) = capture_steps(client, &b, bench.at) else {
        return;
    };
    replayed_beside_backend(client, &b, &steps, bench.at, con_m, end_m);
    bare_clients(client, Arc::new(steps));
}

/// A connect and an end of `b` as the server saw them (`MONITOR`); `None`
/// (with a note) when they cannot be captured.
fn capture_steps(client: &redis::Client, b: &Blocking, at: Instant) -> Option<CapturedSteps> {
    // the first step loads the config and the library: not captured
    b.connect(&Call::new("warm-000000"), "a", at)
        .expect("connect");
    b.end(&Call::new("warm-000000"), at).expect("end");
    let mut mon = client.get_connection().expect("monitor connection");
    let _: () = redis::cmd("MONITOR").query(&mut mon).expect("monitor");
    b.connect(&Call::new(CAPTURED_CALL), "a", at)
        .expect("connect");
    b.end(&Call::new(CAPTURED_CALL), at).expect("end");
    mon.set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let mut steps: Vec<Vec<String>> = Vec::new();
    while steps.len() < 2 {
        let line = match mon.recv_response() {
            Ok(redis::Value::SimpleString(l)) => l,
            Ok(redis::Value::BulkString(b)) => String::from_utf8_lossy(&b).into_owned(),
            Ok(_) => continue,
            Err(e) => {
                println!("same-step anchor skipped: MONITOR gave {e}");
                return None;
            }
        };
        let words = monitor_words(&line);
        if words
            .first()
            .is_some_and(|w| w.eq_ignore_ascii_case("FCALL"))
        {
            steps.push(words);
        }
    }
    drop(mon);
    // keys[1] of every step is the operation key `{ns}:op:<id>`
    let op_of = |w: &[String]| w[4].rsplit_once(":op:").map(|(_, id)| id.to_string());
    let (Some(op_connect), Some(op_end)) = (op_of(&steps[0]), op_of(&steps[1])) else {
        println!(
            "same-step anchor skipped: no operation key in {:?}",
            steps[0]
        );
        return None;
    };
    Some(CapturedSteps {
        words: steps,
        op_connect,
        op_end,
    })
}

/// The captured steps replayed raw, interleaved with `b`'s own connect and
/// end: their medians and ratios (`con_m`, `end_m`: the one-client loop's).
fn replayed_beside_backend(
    client: &redis::Client,
    b: &Blocking,
    steps: &CapturedSteps,
    at: Instant,
    con_m: f64,
    end_m: f64,
) {
    let mut raw = client.get_connection().expect("connection");
    let (mut raw_c, mut raw_e, mut be_c, mut be_e) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let start = Clock::now();
    let mut i = 1;
    while i <= PAIRS && start.elapsed() < LIMIT {
        let (c, e) = steps.replay(i);
        let t0 = Clock::now();
        let r: String = c.query(&mut raw).expect("raw connect");
        let t1 = Clock::now();
        let _: String = e.query(&mut raw).expect("raw end");
        let t2 = Clock::now();
        assert!(!r.is_empty());
        let call = format!("back-{i:06}");
        b.connect(&Call::new(&*call), "a", at).expect("connect");
        let t3 = Clock::now();
        b.end(&Call::new(&*call), at).expect("end");
        let t4 = Clock::now();
        raw_c.push(t1 - t0);
        raw_e.push(t2 - t1);
        be_c.push(t3 - t2);
        be_e.push(t4 - t3);
        i += 1;
    }
    let (rc, re, bc, be) = (
        median(&mut raw_c),
        median(&mut raw_e),
        median(&mut be_c),
        median(&mut be_e),
    );
    println!(
        "same step sent raw (captured FCALL, fresh ids), interleaved, medians of {}:",
        i - 1
    );
    println!("  raw connect FCALL:                   {rc:8.1} us");
    println!("  backend connect:                     {bc:8.1} us  ({:.2}× the same step raw; {:.2}× in the loop above)", bc / rc, con_m / rc);
    println!("  raw end FCALL:                       {re:8.1} us");
    println!("  backend end:                         {be:8.1} us  ({:.2}× the same step raw; {:.2}× in the loop above)", be / re, end_m / re);
}

/// 8 bare clients replaying pairs at once: the queueing floor of p99.
fn bare_clients(client: &redis::Client, steps: Arc<CapturedSteps>) {
    let clients = 8;
    let per = PAIRS * 2 / clients;
    let begin = Clock::now();
    let handles: Vec<_> = (0..clients)
        .map(|k| {
            let client = client.clone();
            let steps = steps.clone();
            std::thread::spawn(move || {
                let mut raw = client.get_connection().expect("connection");
                let mut lat = Vec::with_capacity(per);
                let start = Clock::now();
                for j in 0..per {
                    if start.elapsed() > LIMIT {
                        break;
                    }
                    let (c, e) = steps.replay(100_000 + k * per + j);
                    let t0 = Clock::now();
                    let _: String = c.query(&mut raw).expect("raw connect");
                    lat.push(t0.elapsed());
                    let _: String = e.query(&mut raw).expect("raw end");
                }
                lat
            })
        })
        .collect();
    let mut lat: Vec<Duration> = handles
        .into_iter()
        .flat_map(|h| h.join().expect("client"))
        .collect();
    let secs = begin.elapsed().as_secs_f64();
    lat.sort();
    let q = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    println!(
        " 8 bare clients, the same steps raw: {:8.0} pairs/s; connect p50 {:?} p99 {:?}",
        lat.len() as f64 / secs,
        q(0.50),
        q(0.99)
    );
}

/// A captured step's command with call `cap` renamed `capt-<n>` and
/// operation id `op` renamed `<tag><n>`, both kept at their length (the
/// call's key carries its length).
fn replay(words: &[String], cap: &str, op: &str, n: usize, tag: char) -> redis::Cmd {
    let call = format!("capt-{n:06}");
    let new_op = format!("{tag}{n:0w$}", w = op.len() - 1);
    let mut cmd = redis::cmd(&words[0]);
    for word in &words[1..] {
        cmd.arg(word.replace(cap, &call).replace(op, &new_op));
    }
    cmd
}

/// The words of a `MONITOR` line (`<time> [<db> <addr>] "w1" "w2" …`),
/// unquoted (the server escapes `\\`, `\"`, `\n`, `\r`, `\t`, `\a`, `\b`
/// and other bytes as `\xHH`).
fn monitor_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let rest = line.split_once("] ").map_or("", |(_, r)| r);
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut w = String::new();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => match chars.next() {
                    Some('n') => w.push('\n'),
                    Some('r') => w.push('\r'),
                    Some('t') => w.push('\t'),
                    Some('a') => w.push('\u{7}'),
                    Some('b') => w.push('\u{8}'),
                    Some('x') => {
                        let hex: String = chars.by_ref().take(2).collect();
                        w.push(u8::from_str_radix(&hex, 16).map_or('?', char::from));
                    }
                    Some(o) => w.push(o),
                    None => {}
                },
                o => w.push(o),
            }
        }
        words.push(w);
    }
    words
}

/// One thread per backend given (the same backend may come several times),
/// each running `per` connect+end pairs on target `a` at `at`: pairs per
/// second over all threads, and the connects' p50 and p99.
fn threads_connect_end(
    backends: impl Iterator<Item = Arc<Blocking>>,
    per: usize,
    at: Instant,
) -> (f64, Duration, Duration) {
    let start = Clock::now();
    let handles: Vec<_> = backends
        .enumerate()
        .map(|(c, b)| {
            std::thread::spawn(move || {
                let mut lat = Vec::with_capacity(per);
                let begin = Clock::now();
                for i in 0..per {
                    if begin.elapsed() > LIMIT {
                        break;
                    }
                    let call = format!("c{c}-{i}");
                    let t0 = Clock::now();
                    b.connect(&Call::new(&*call), "a", at).expect("connect");
                    lat.push(t0.elapsed());
                    b.end(&Call::new(&*call), at).expect("end");
                }
                lat
            })
        })
        .collect();
    let mut lat: Vec<Duration> = handles
        .into_iter()
        .flat_map(|h| h.join().expect("client"))
        .collect();
    let secs = start.elapsed().as_secs_f64();
    lat.sort();
    let q = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    (lat.len() as f64 / secs, q(0.50), q(0.99))
}
