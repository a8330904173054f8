//! Throughput and latency of `routecap serve`: route → connect → end cycles
//! from many keep-alive connections, against 1 memory process, 1 SQLite
//! process (`synchronous=FULL`), 1 Redis process and 3 Redis processes on
//! one namespace. Two anchors, measured in the same run: `GET /healthz` on
//! the memory process (one HTTP round trip that does no engine work), and
//! one SQLite commit of one event on the same disk with the same settings
//! as the store (the raw step a durable connect waits for when it is
//! alone; group commit shares one such commit among many clients).
//!
//! ```text
//! scripts/bench-serve [SECONDS] [CONNECTIONS]
//! ```
//!
//! (`cargo build --release -p routecap -p routecap-serve-bench --bin
//! routecap --bin routecap-serve-bench`, then `scripts/with-redis
//! target/release/routecap-serve-bench`: it runs the `routecap` binary
//! beside its own.) Without `ROUTECAP_TEST_REDIS_URL`
//! (set by `scripts/with-redis`) only the memory figures are printed.
//! Loopback only.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Twenty uncapped targets in two tiers: every connect is admitted, so the
/// figures are the service's cost, not refusals.
fn bench_config() -> String {
    let targets: Vec<Value> = (0..20)
        .map(|i| json!({"id": format!("t{i}"), "priority": 1 + i / 10, "weight": 1 + i % 3}))
        .collect();
    json!({"call_lease_seconds": 600, "targets": targets}).to_string()
}

struct Proc(Child, String);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(bin: &std::path::Path, config: &str, extra: &[&str]) -> Proc {
    let mut child = Command::new(bin)
        .args(["serve", config, "--listen", "127.0.0.1:0"])
        .args(extra)
        .env("ROUTECAP_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start routecap serve (build it first: cargo build --release -p routecap --bin routecap)");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("listening line");
    let base = line.trim().trim_start_matches("listening on ").to_string();
    Proc(child, base)
}

/// Latencies in microseconds per kind of request.
#[derive(Default)]
struct Samples {
    route: Vec<u32>,
    connect: Vec<u32>,
    end: Vec<u32>,
    cycle: Vec<u32>,
}

fn pct(v: &mut [u32], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_unstable();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i] as f64 / 1000.0
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

fn timed(agent: &ureq::Agent, url: &str, body: Option<&Value>) -> (u32, Value) {
    let t = Instant::now();
    let mut resp = match body {
        Some(b) => agent.post(url).send_json(b),
        None => agent.get(url).call(),
    }
    .expect("request");
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    let us = t.elapsed().as_micros().min(u32::MAX as u128) as u32;
    assert!(
        resp.status().is_success(),
        "{url}: {} {text}",
        resp.status()
    );
    (us, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Run route → connect → end cycles for `seconds` over `conns` connections
/// spread across `bases`; print one line.
fn cycles(label: &str, bases: &[String], conns: usize, seconds: u64) {
    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let threads: Vec<_> = (0..conns)
        .map(|c| {
            let (bases, stop, calls) = (bases.to_vec(), stop.clone(), calls.clone());
            std::thread::spawn(move || {
                let agent = agent();
                let base = &bases[c % bases.len()];
                let mut s = Samples::default();
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let call = format!("{}-{c}-{i}", std::process::id());
                    i += 1;
                    let t = Instant::now();
                    let (us, plan) = timed(
                        &agent,
                        &format!("{base}/v1/route"),
                        Some(&json!({"call": call})),
                    );
                    s.route.push(us);
                    let Some(target) = plan["plan"][0]["target"].as_str() else {
                        continue;
                    };
                    let (us, ok) = timed(
                        &agent,
                        &format!("{base}/v1/connect"),
                        Some(&json!({"call": call, "target": target})),
                    );
                    s.connect.push(us);
                    if ok["ok"] == true {
                        let (us, _) = timed(
                            &agent,
                            &format!("{base}/v1/end"),
                            Some(&json!({"call": call})),
                        );
                        s.end.push(us);
                    }
                    s.cycle.push(t.elapsed().as_micros() as u32);
                    calls.fetch_add(1, Ordering::Relaxed);
                }
                s
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    let mut all = Samples::default();
    for t in threads {
        let s = t.join().expect("client thread");
        all.route.extend(s.route);
        all.connect.extend(s.connect);
        all.end.extend(s.end);
        all.cycle.extend(s.cycle);
    }
    let secs = start.elapsed().as_secs_f64();
    let requests = all.route.len() + all.connect.len() + all.end.len();
    println!(
        "{label:<28} {:>8.0} req/s {:>7.0} calls/s | p50/p99 ms: route {:.2}/{:.2} connect {:.2}/{:.2} end {:.2}/{:.2} cycle {:.2}/{:.2}",
        requests as f64 / secs,
        calls.load(Ordering::Relaxed) as f64 / secs,
        pct(&mut all.route, 0.5), pct(&mut all.route, 0.99),
        pct(&mut all.connect, 0.5), pct(&mut all.connect, 0.99),
        pct(&mut all.end, 0.5), pct(&mut all.end, 0.99),
        pct(&mut all.cycle, 0.5), pct(&mut all.cycle, 0.99),
    );
}

/// The anchor: `GET /healthz` round trips (no engine work).
fn anchor(base: &str, conns: usize, seconds: u64) {
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let threads: Vec<_> = (0..conns)
        .map(|_| {
            let (base, stop) = (base.to_string(), stop.clone());
            std::thread::spawn(move || {
                let agent = agent();
                let mut v = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    v.push(timed(&agent, &format!("{base}/healthz"), None).0);
                }
                v
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    let mut all: Vec<u32> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{:<28} {:>8.0} req/s                 | p50/p99 ms: {:.2}/{:.2}",
        "anchor: GET /healthz (mem)",
        all.len() as f64 / secs,
        pct(&mut all, 0.5),
        pct(&mut all, 0.99)
    );
}

/// The raw-step anchor: one event committed in its own transaction, in a
/// WAL database with `synchronous=FULL` in `dir`, back to back.
fn commit_anchor(dir: &std::path::Path, seconds: u64) {
    let path = dir.join("anchor.db");
    let conn = rusqlite::Connection::open(&path).expect("anchor database");
    conn.query_row("PRAGMA locking_mode = EXCLUSIVE", [], |_| Ok(()))
        .expect("locking mode");
    conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
        .expect("WAL");
    conn.pragma_update(None, "synchronous", "FULL")
        .expect("synchronous");
    conn.execute_batch("CREATE TABLE events (seq INTEGER PRIMARY KEY, event TEXT NOT NULL)")
        .expect("table");
    let event = json!({"op": "connect", "call": "bench-call-0001", "target": "t3",
                       "at": "2026-11-23T15:00:00.123456Z", "key": "0123456789abcdef0123"})
    .to_string();
    let start = Instant::now();
    let mut v = Vec::new();
    let mut seq = 0i64;
    while start.elapsed() < Duration::from_secs(seconds) {
        let t = Instant::now();
        seq += 1;
        conn.execute_batch("BEGIN").expect("begin");
        conn.execute(
            "INSERT INTO events (seq, event) VALUES (?1, ?2)",
            (seq, &event),
        )
        .expect("insert");
        conn.execute_batch("COMMIT").expect("commit");
        v.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{:<28} {:>8.0} commits/s             | p50/p99 ms: {:.2}/{:.2}",
        "anchor: 1 SQLite commit",
        v.len() as f64 / secs,
        pct(&mut v, 0.5),
        pct(&mut v, 0.99)
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(5);
    let conns: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(16);
    let exe = std::env::current_exe().expect("own path");
    let bin = exe.parent().expect("target dir").join("routecap");
    let dir = std::env::temp_dir().join(format!("routecap-serve-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let config = dir.join("config.json");
    std::fs::write(&config, bench_config()).expect("config");
    let config = config.to_str().unwrap();
    println!("routecap serve bench: {seconds} s per run, {conns} keep-alive connections, 20 uncapped targets");
    let mem = start(&bin, config, &[]);
    anchor(&mem.1, conns, seconds);
    cycles(
        "memory, 1 process",
        std::slice::from_ref(&mem.1),
        conns,
        seconds,
    );
    drop(mem);
    commit_anchor(&dir, seconds);
    let store = format!("sqlite:{}", dir.join("state.db").display());
    let sqlite = start(&bin, config, &["--state", &store]);
    cycles(
        "sqlite, 1 process (FULL)",
        std::slice::from_ref(&sqlite.1),
        conns,
        seconds,
    );
    drop(sqlite);
    match std::env::var("ROUTECAP_TEST_REDIS_URL") {
        Ok(url) if !url.is_empty() => {
            for n in [1usize, 3] {
                let ns = format!("bench-{}-{n}", std::process::id());
                let procs: Vec<Proc> = (0..n)
                    .map(|_| start(&bin, config, &["--state", &url, "--namespace", &ns]))
                    .collect();
                let bases: Vec<String> = procs.iter().map(|p| p.1.clone()).collect();
                cycles(&format!("redis, {n} process(es)"), &bases, conns, seconds);
            }
        }
        _ => println!("(no ROUTECAP_TEST_REDIS_URL: Redis runs skipped; use scripts/with-redis)"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}
