//! Crash tests with real kills: `routecap serve` driven by concurrent
//! clients (connects, converts, ends) is `kill -9`ed at random moments and
//! started again on the same state, over and over. After each restart the
//! requests that got no answer are retried with their `Idempotency-Key`,
//! and then the state must hold exactly what was acknowledged: every
//! acknowledged connect counted once, no cap exceeded, retries answered as
//! the first time, leases and reservations kept, and the live config
//! changes made before the kill still in force.
//!
//! The SQLite run needs nothing; the Redis run needs `scripts/with-redis`
//! (the server stays up, `serve` is killed).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::serve_support::{config_file, namespace, redis_url, ServeProcess};

/// Two targets and a group, every count cap reachable within a run; the
/// `total` caps are never reached, so they count every connect.
const CONFIG: &str = r#"{
  "targets": [
    {"id": "a", "caps": {"daily": 900, "total": 1000000, "concurrency": 8,
                          "daily_revenue": "100000.00"}},
    {"id": "b", "caps": {"daily": 400, "total": 1000000, "concurrency": 6}}
  ],
  "groups": [{"id": "g", "members": ["a", "b"], "caps": {"daily": 1500}}]
}"#;

/// Every event happens at this instant: no window turns over, no lease
/// or reservation runs out, no call is forgotten during a run.
const AT: &str = "2026-11-23T15:00:00Z";

const TARGETS: [&str; 2] = ["a", "b"];
const WORKERS: usize = 4;
const KILLS: usize = 24;
/// Calls reserved before the first kill and confirmed after the last.
const RESERVED: usize = 3;
/// The longest a run may take before it stops killing (it still checks).
const TIME_BOUND: Duration = Duration::from_secs(150);

/// A request sent once and possibly again: the same key, the same body.
#[derive(Clone, Debug)]
struct Request {
    path: &'static str,
    key: String,
    body: Value,
}

/// What the clients were told, merged over every run.
#[derive(Default)]
struct Model {
    /// Acknowledged connects per target.
    connects: BTreeMap<&'static str, u64>,
    /// Acknowledged connected calls not yet acknowledged as ended, by target.
    open: BTreeMap<&'static str, Vec<String>>,
    /// Acknowledged revenue of target `a`, in cents.
    revenue: i64,
    /// Acknowledged requests with their first answer (status, body), to
    /// retry after a restart.
    answered: Vec<(Request, u16, String)>,
    /// Requests that got no answer (the process died), retried after the
    /// restart.
    in_doubt: Vec<(Request, &'static str)>,
    /// The daily cap of `b` the last acknowledged patch set.
    b_daily: u64,
    /// Whether a restarted process must keep the live config changes.
    config_kept: bool,
}

/// The counts a run reports.
#[derive(Debug, Default)]
struct Counts {
    kills: usize,
    acknowledged: u64,
    counted: u64,
    exceeded: u64,
    retried: usize,
    in_doubt: usize,
}

/// Answer of one request, or `None` when the process did not answer.
fn send(agent: &ureq::Agent, base: &str, req: &Request) -> Option<(u16, String)> {
    let http = ureq::http::Request::builder()
        .method("POST")
        .uri(format!("{base}{}", req.path))
        .header("content-type", "application/json")
        .header("idempotency-key", &req.key)
        .body(req.body.to_string())
        .expect("request");
    let mut resp = agent.run(http).ok()?;
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().ok()?;
    Some((status, text))
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

fn ok_field(text: &str) -> bool {
    serde_json::from_str::<Value>(text).is_ok_and(|v| v["ok"] == json!(true))
}

/// One client's lifecycles until `stop` or the process dies; what it was
/// told.
fn client(base: String, worker: usize, phase: usize, stop: Arc<AtomicBool>) -> Model {
    let agent = agent();
    let mut m = Model::default();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let call = format!("p{phase}-w{worker}-{n}");
        let target = TARGETS[(worker + n) % 2];
        let connect = Request {
            path: "/v1/connect",
            key: format!("connect-{call}"),
            body: json!({"call": call, "target": target, "at": AT}),
        };
        let Some((status, text)) = send(&agent, &base, &connect) else {
            m.in_doubt.push((connect, target));
            return m;
        };
        assert_eq!(status, 200, "connect {call}: {text}");
        if !ok_field(&text) {
            continue;
        }
        *m.connects.entry(target).or_default() += 1;
        m.open.entry(target).or_default().push(call.clone());
        m.answered.push((connect, status, text));
        if target == "a" && n % 2 == 0 {
            let cents = 100 + (n as i64 % 9) * 25;
            let convert = Request {
                path: "/v1/convert",
                key: format!("convert-{call}"),
                body: json!({"call": call, "revenue": money(cents), "at": AT}),
            };
            let Some((status, text)) = send(&agent, &base, &convert) else {
                m.in_doubt.push((convert, target));
                return m;
            };
            assert_eq!(status, 200, "convert {call}: {text}");
            m.revenue += cents;
            m.answered.push((convert, status, text));
        }
        // most calls end; the others stay live across the kills
        if n % 5 != 0 {
            let end = Request {
                path: "/v1/end",
                key: format!("end-{call}"),
                body: json!({"call": call, "at": AT}),
            };
            let Some((status, text)) = send(&agent, &base, &end) else {
                m.in_doubt.push((end, target));
                return m;
            };
            assert_eq!(status, 200, "end {call}: {text}");
            if let Some(v) = m.open.get_mut(target) {
                v.retain(|c| *c != call);
            }
            m.answered.push((end, status, text));
        }
    }
    m
}

fn money(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

impl Model {
    fn merge(&mut self, other: Model) {
        for (t, n) in other.connects {
            *self.connects.entry(t).or_default() += n;
        }
        for (t, calls) in other.open {
            self.open.entry(t).or_default().extend(calls);
        }
        self.revenue += other.revenue;
        self.answered.extend(other.answered);
        self.in_doubt.extend(other.in_doubt);
    }

    /// Retry every request that got no answer: it is answered as if sent
    /// once (applied before the kill or now), and counted as acknowledged.
    fn settle_doubts(&mut self, agent: &ureq::Agent, base: &str) -> usize {
        let doubts = std::mem::take(&mut self.in_doubt);
        let n = doubts.len();
        for (req, target) in doubts {
            let (status, text) = send(agent, base, &req).expect("the restarted process answers");
            assert_eq!(status, 200, "retry of {req:?}: {text}");
            let call = req.body["call"].as_str().expect("call").to_string();
            match req.path {
                "/v1/connect" if ok_field(&text) => {
                    *self.connects.entry(target).or_default() += 1;
                    self.open.entry(target).or_default().push(call);
                }
                "/v1/connect" => continue,
                "/v1/convert" => {
                    let cents = money_cents(req.body["revenue"].as_str().expect("revenue"));
                    self.revenue += cents;
                }
                "/v1/end" => {
                    if let Some(v) = self.open.get_mut(target) {
                        v.retain(|c| *c != call);
                    }
                }
                other => panic!("unexpected request {other}"),
            }
            self.answered.push((req, status, text));
        }
        n
    }
}

fn money_cents(text: &str) -> i64 {
    let (units, cents) = text.split_once('.').expect("money");
    units.parse::<i64>().expect("units") * 100 + cents.parse::<i64>().expect("cents")
}

/// One cap of one owner in a usage view: (used, limit).
fn cap(usage: &Value, owner: &str, cap: &str) -> (Value, Value) {
    let o = (usage["owners"].as_array().expect("owners"))
        .iter()
        .find(|o| o["id"] == json!(owner))
        .unwrap_or_else(|| panic!("owner {owner} in {usage}"));
    let c = (o["caps"].as_array().expect("caps"))
        .iter()
        .find(|c| c["cap"] == json!(cap))
        .unwrap_or_else(|| panic!("cap {cap} of {owner} in {usage}"));
    (c["used"].clone(), c["limit"].clone())
}

fn owner_field(usage: &Value, owner: &str, field: &str) -> u64 {
    (usage["owners"].as_array().expect("owners"))
        .iter()
        .find(|o| o["id"] == json!(owner))
        .and_then(|o| o[field].as_u64())
        .unwrap_or_else(|| panic!("{field} of {owner} in {usage}"))
}

fn number(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("a count: {v}"))
}

/// The state the restarted process holds against what was acknowledged.
fn check_state(agent: &ureq::Agent, base: &str, m: &Model, counts: &mut Counts, when: &str) {
    let (status, text) =
        crate::serve_support::send(agent, "GET", &format!("{base}/v1/usage?at={AT}"), None);
    assert_eq!(status, 200, "{when}: usage: {text}");
    let usage: Value = serde_json::from_str(&text).expect("usage JSON");
    let mut counted = 0;
    for t in TARGETS {
        let acknowledged = m.connects.get(t).copied().unwrap_or(0);
        // a held reservation counts against every count cap of `a`
        let held = if t == "a" { RESERVED as u64 } else { 0 };
        let total = number(&cap(&usage, t, "total").0);
        assert_eq!(
            total,
            acknowledged + held,
            "{when}: target {t}: acknowledged connects {acknowledged} (+{held} reserved) vs counted {total}"
        );
        counted += total - held;
        let live = m.open.get(t).map_or(0, Vec::len) as u64;
        assert_eq!(
            owner_field(&usage, t, "live"),
            live,
            "{when}: live calls of {t}"
        );
        assert_eq!(
            owner_field(&usage, t, "reserved"),
            held,
            "{when}: reservations of {t}"
        );
    }
    counts.counted = counted;
    counts.acknowledged = m.connects.values().sum();
    for (owner, c) in [
        ("a", "daily"),
        ("b", "daily"),
        ("g", "daily"),
        ("a", "concurrency"),
        ("b", "concurrency"),
    ] {
        let (used, limit) = cap(&usage, owner, c);
        if number(&used) > number(&limit) {
            eprintln!("{when}: {c} cap of {owner} exceeded: {used} > {limit}");
            counts.exceeded += 1;
        }
    }
    let (revenue, _) = cap(&usage, "a", "daily_revenue");
    assert_eq!(revenue, json!(money(m.revenue)), "{when}: revenue of a");
    let (_, b_daily) = cap(&usage, "b", "daily");
    if m.config_kept {
        assert_eq!(
            number(&b_daily),
            m.b_daily,
            "{when}: the patched daily cap of b"
        );
    }
}

/// Retry the latest acknowledged requests, the last of each call (Redis
/// remembers a call's last step only): each answers as the first time.
fn check_retries(agent: &ureq::Agent, base: &str, m: &Model, counts: &mut Counts) {
    let mut seen = std::collections::HashSet::new();
    let latest = (m.answered.iter().rev())
        .filter(|(req, _, _)| seen.insert(req.body["call"].as_str().unwrap_or("").to_string()))
        .take(8);
    for (req, status, text) in latest {
        let again = send(agent, base, req).expect("the restarted process answers");
        assert_eq!(again, (*status, text.clone()), "retry of {req:?}");
        counts.retried += 1;
    }
}

fn patch_b(agent: &ureq::Agent, base: &str, daily: u64) {
    let (status, text) = crate::serve_support::send(
        agent,
        "PATCH",
        &format!("{base}/v1/targets/b"),
        // the whole caps object: a patch replaces the fields it names
        Some(&json!({"caps": {"daily": daily, "total": 1_000_000, "concurrency": 6}}).to_string()),
    );
    assert_eq!(status, 200, "patch b: {text}");
}

/// End the live calls of each target but its last two (acknowledged), so
/// that concurrency stays free for the next clients while some leases
/// live on across the next kill.
fn end_all_but_two(agent: &ureq::Agent, base: &str, m: &mut Model) {
    for t in TARGETS {
        let open = m.open.entry(t).or_default();
        let keep = open.split_off(open.len().saturating_sub(2));
        for call in std::mem::replace(open, keep) {
            let req = Request {
                path: "/v1/end",
                key: format!("end-{call}"),
                body: json!({"call": call, "at": AT}),
            };
            let (status, text) = send(agent, base, &req).expect("end answers");
            assert_eq!(status, 200, "end {call}: {text}");
            m.answered.push((req, status, text));
        }
    }
}

/// Reserve [`RESERVED`] calls on `a` for a day, acknowledged.
fn reserve(agent: &ureq::Agent, base: &str, m: &mut Model) {
    for i in 0..RESERVED {
        let req = Request {
            path: "/v1/reserve",
            key: format!("reserve-{i}"),
            body: json!({"call": format!("held-{i}"), "target": "a", "ttl": 86_400, "at": AT}),
        };
        let (status, text) = send(agent, base, &req).expect("reserve answers");
        assert!(status == 200 && ok_field(&text), "reserve: {text}");
        m.answered.push((req, status, text));
    }
}

/// The crash run against `serve CONFIG ARGS...`.
///
/// `config_kept`: check that live config changes survive the restart.
/// A restarted `serve` on Redis applies its config file over the one the
/// namespace holds (the Redis backend's rule: a process that brings a
/// different document installs it), so there no live change is made: a
/// cap raised live and lowered again by the restart would read as
/// exceeded.
fn crash_run(label: &str, args: &[&str], config_kept: bool) -> Counts {
    let path = config_file(CONFIG);
    let path = path.to_str().expect("utf-8 path");
    let agent = agent();
    let mut m = Model {
        b_daily: 400,
        config_kept,
        ..Model::default()
    };
    let mut counts = Counts::default();
    let started = Instant::now();
    let mut server = ServeProcess::start(path, args);
    reserve(&agent, &server.base, &mut m);
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    for phase in 0..KILLS {
        if started.elapsed() > TIME_BOUND {
            break;
        }
        end_all_but_two(&agent, &server.base, &mut m);
        // a live config change, acknowledged before the clients start
        if config_kept {
            m.b_daily += 10;
            patch_b(&agent, &server.base, m.b_daily);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let clients: Vec<_> = (0..WORKERS)
            .map(|w| {
                let (base, stop) = (server.base.clone(), stop.clone());
                std::thread::spawn(move || client(base, w, phase, stop))
            })
            .collect();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(20 + seed % 300));
        server.child.kill().expect("kill -9");
        let _ = server.child.wait();
        counts.kills += 1;
        stop.store(true, Ordering::Relaxed);
        for c in clients {
            m.merge(c.join().expect("client"));
        }
        server = ServeProcess::start(path, args);
        counts.in_doubt += m.in_doubt.len();
        m.settle_doubts(&agent, &server.base);
        let when = format!("{label}: after kill {}", counts.kills);
        check_state(&agent, &server.base, &m, &mut counts, &when);
        check_retries(&agent, &server.base, &m, &mut counts);
    }
    // the reservations survived every kill: they confirm, counted once
    for i in 0..RESERVED {
        let req = Request {
            path: "/v1/connect",
            key: format!("confirm-{i}"),
            body: json!({"call": format!("held-{i}"), "target": "a", "at": AT}),
        };
        let (status, text) = send(&agent, &server.base, &req).expect("confirm answers");
        assert_eq!(
            (status, ok_field(&text)),
            (200, true),
            "confirm held-{i}: {text}"
        );
    }
    let usage_total = {
        let (_, text) = crate::serve_support::send(
            &agent,
            "GET",
            &format!("{}/v1/usage?at={AT}", server.base),
            None,
        );
        let usage: Value = serde_json::from_str(&text).expect("usage");
        assert_eq!(
            owner_field(&usage, "a", "reserved"),
            0,
            "confirmed reservations"
        );
        number(&cap(&usage, "a", "total").0)
    };
    assert_eq!(
        usage_total,
        m.connects.get("a").copied().unwrap_or(0) + RESERVED as u64,
        "{label}: confirmed reservations counted once"
    );
    eprintln!("{label} crash run: {counts:?}");
    counts
}

/// Whether the kills hit requests in flight often enough to mean something.
fn assert_meaningful(label: &str, counts: &Counts) {
    assert!(counts.kills >= 20, "{label}: only {} kills", counts.kills);
    assert_eq!(counts.exceeded, 0, "{label}: caps exceeded");
    assert_eq!(counts.acknowledged, counts.counted, "{label}: counts");
    assert!(counts.acknowledged > 0, "{label}: nothing acknowledged");
}

#[test]
fn sqlite_survives_kill_9() {
    let dir = std::env::temp_dir().join(format!("routecap-crash-{}", namespace()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let state = format!("sqlite:{}", dir.join("state.db").display());
    let counts = crash_run("sqlite", &["--state", &state], true);
    assert_meaningful("sqlite", &counts);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn redis_survives_kill_9_of_serve() {
    let Some(url) = redis_url("redis_survives_kill_9_of_serve") else {
        return;
    };
    let ns = namespace();
    let counts = crash_run("redis", &["--state", &url, "--namespace", &ns], false);
    assert_meaningful("redis", &counts);
}
