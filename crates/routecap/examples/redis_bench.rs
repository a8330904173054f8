//! Throughput and latency of the Redis backend beside its anchors, on one
//! server, in one run:
//!
//! ```text
//! scripts/with-redis cargo run --release -p routecap --example redis_bench
//! ```
//!
//! Every loop is bounded in count and in time. Anchors: a raw `EVALSHA`
//! round trip of a script of the same size (through the same client), and
//! a route decision from the memory backend.

use std::sync::Arc;
use std::time::{Duration, Instant as Clock};

use chrono::TimeDelta;
use routecap::core::formats::parse_config;
use routecap::core::lifecycle::ConnectOutcome;
use routecap::state::redis::{new_op_id, RedisBackend, RedisOptions};
use routecap::state::{Backend, MemoryBackend};

const PAIRS: usize = 2000;
const LIMIT: Duration = Duration::from_secs(20);

fn main() {
    let Ok(url) = std::env::var("ROUTECAP_TEST_REDIS_URL") else {
        eprintln!(
            "SKIPPING redis_bench: ROUTECAP_TEST_REDIS_URL is unset (run under scripts/with-redis)"
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
    let at: routecap::core::Instant = "2026-06-01T12:00:00Z".parse().expect("instant");
    let open = |ns: &str| {
        let mut o = RedisOptions::new(url.clone());
        o.namespace = ns.to_string();
        RedisBackend::open(config.clone(), o).expect("open")
    };

    // anchor: a raw EVALSHA of a script as large as the connect script
    let client = redis::Client::open(url.as_str()).expect("client");
    let mut raw = client.get_connection().expect("connection");
    let body = format!("-- {}\nreturn 'ok'", "x".repeat(4000));
    let script = redis::Script::new(&body);
    let _: String = script.invoke(&mut raw).expect("load");
    let start = Clock::now();
    let mut n = 0;
    while n < PAIRS * 2 && start.elapsed() < LIMIT {
        let _: String = script
            .prepare_invoke()
            .key("{bench}:k")
            .arg(1)
            .invoke(&mut raw)
            .expect("evalsha");
        n += 1;
    }
    let raw_us = start.elapsed().as_secs_f64() * 1e6 / n as f64;
    println!("raw EVALSHA round trip (1 client):        {raw_us:8.1} us");

    // single client connect / end
    let b = open(&format!("bench-{}", new_op_id()));
    let start = Clock::now();
    let mut done = 0;
    while done < PAIRS && start.elapsed() < LIMIT {
        let call = format!("c{done}");
        let t = at + TimeDelta::milliseconds(done as i64);
        assert_eq!(
            b.connect(&call, "a", t).expect("connect"),
            ConnectOutcome::Connected
        );
        b.end(&call, t).expect("end");
        done += 1;
    }
    let per_pair = start.elapsed().as_secs_f64() * 1e6 / done as f64;
    println!(
        "connect+end pair (1 client):               {per_pair:8.1} us  (≈ {:.2}× two raw round trips)",
        per_pair / 2.0 / raw_us
    );

    for clients in [1usize, 8, 32] {
        let ns = format!("bench-{}", new_op_id());
        let start = Clock::now();
        let per = PAIRS * 2 / clients;
        let handles: Vec<_> = (0..clients)
            .map(|c| {
                let b = open(&ns);
                std::thread::spawn(move || {
                    let mut lat = Vec::with_capacity(per);
                    let begin = Clock::now();
                    for i in 0..per {
                        if begin.elapsed() > LIMIT {
                            break;
                        }
                        let call = format!("c{c}-{i}");
                        let t0 = Clock::now();
                        b.connect(&call, "a", at).expect("connect");
                        lat.push(t0.elapsed());
                        b.end(&call, at).expect("end");
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
        println!(
            "{clients:2} clients: {:8.0} connect+end pairs/s; connect p50 {:?} p99 {:?}",
            lat.len() as f64 / secs,
            q(0.50),
            q(0.99)
        );
    }

    // a route decision over 1,000 targets: cached Redis view vs memory
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
    let memory = MemoryBackend::new(big.clone());
    let mut o = RedisOptions::new(url.clone());
    o.namespace = format!("bench-{}", new_op_id());
    o.refresh = Duration::from_secs(3600);
    let redis_b = RedisBackend::open(big, o).expect("open");
    redis_b.route_view(at, 1).expect("warm");
    for (name, b) in [
        ("memory", &memory as &dyn Backend),
        ("redis (cached)", &redis_b),
    ] {
        let start = Clock::now();
        let mut n = 0u64;
        while n < 300 && start.elapsed() < LIMIT {
            std::hint::black_box(b.route_view(at, n).expect("route"));
            n += 1;
        }
        println!(
            "route decision over 1,000 targets, {name:15}: {:8.1} us",
            start.elapsed().as_secs_f64() * 1e6 / n as f64
        );
    }
}
