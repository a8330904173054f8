//! Three `routecap serve` processes (the built binary) on one Redis
//! namespace under concurrent connect/end traffic from many connections:
//! no cap is exceeded across the processes, admitted connects equal the
//! counted usage; after `kill -9` of a process holding live calls and its
//! restart, usage is unchanged and the leases expire on time.
//!
//! Needs `ROUTECAP_TEST_REDIS_URL` (`scripts/with-redis`); skips loudly
//! without it. Loopback only; bounded in requests and in time.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::serve_support::*;

/// Small caps everywhere; `hold` is kept for the lease phase.
const LOAD_CONFIG: &str = r#"{
  "call_lease_seconds": 600,
  "targets": [
    {"id": "t1", "priority": 1, "caps": {"daily": 25, "concurrency": 2}},
    {"id": "t2", "priority": 1, "caps": {"daily": 30, "concurrency": 3}},
    {"id": "t3", "priority": 1, "caps": {"daily": 20, "concurrency": 1}},
    {"id": "t4", "priority": 2, "caps": {"hourly": 15, "concurrency": 2}},
    {"id": "hold", "priority": 3, "caps": {"concurrency": 2}}
  ],
  "groups": [{"id": "g12", "members": ["t1", "t2"], "caps": {"daily": 40, "concurrency": 4}}]
}"#;

const T0: &str = "2026-11-23T15:00:00Z";
const T1: &str = "2026-11-23T16:00:00Z";
const WORKERS: usize = 32;
const CYCLES: usize = 40;

fn caps_of(usage: &Value) -> HashMap<(String, String), (u64, u64)> {
    let mut out = HashMap::new();
    for o in usage["owners"].as_array().unwrap() {
        for c in o["caps"].as_array().unwrap() {
            out.insert(
                (
                    o["id"].as_str().unwrap().to_string(),
                    c["cap"].as_str().unwrap().to_string(),
                ),
                (c["used"].as_u64().unwrap(), c["limit"].as_u64().unwrap()),
            );
        }
    }
    out
}

fn limit_of(caps: &HashMap<(String, String), (u64, u64)>, id: &str, cap: &str) -> u64 {
    caps[&(id.to_string(), cap.to_string())].1
}

#[test]
fn three_processes_on_one_redis_never_exceed_a_cap_and_survive_kill_9() {
    let Some(url) = redis_url("serve_load") else {
        return;
    };
    let ns = namespace();
    let path = config_file(LOAD_CONFIG);
    let path = path.to_str().unwrap().to_string();
    let args = ["--state", url.as_str(), "--namespace", ns.as_str()];
    let mut procs: Vec<ServeProcess> = (0..3).map(|_| ServeProcess::start(&path, &args)).collect();
    let bases: Vec<String> = procs.iter().map(|p| p.base.clone()).collect();
    for b in &bases {
        let (s, h) = get(&agent(), &format!("{b}/healthz"));
        assert_eq!(s, 200, "{h}");
        assert_eq!(h["state"], "redis");
        assert_eq!(h["shared"], true);
    }
    let (_, usage0) = get(&agent(), &format!("{}/v1/usage?at={T0}", bases[0]));
    let caps = caps_of(&usage0);

    // --- concurrent connect/end traffic through all three processes
    let targets = ["t1", "t2", "t3", "t4"];
    let holding: Arc<HashMap<&str, AtomicI64>> = Arc::new(
        targets
            .iter()
            .map(|t| (*t, AtomicI64::new(0)))
            .chain([("g12", AtomicI64::new(0))])
            .collect(),
    );
    let most: Arc<HashMap<&str, AtomicI64>> = Arc::new(
        targets
            .iter()
            .map(|t| (*t, AtomicI64::new(0)))
            .chain([("g12", AtomicI64::new(0))])
            .collect(),
    );
    let admitted: Arc<Mutex<HashMap<String, u64>>> = Arc::default();
    let requests = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(90);
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let (bases, holding, most, admitted, requests) = (
                bases.clone(),
                holding.clone(),
                most.clone(),
                admitted.clone(),
                requests.clone(),
            );
            std::thread::spawn(move || {
                let agent = agent();
                for i in 0..CYCLES {
                    if Instant::now() > deadline {
                        break;
                    }
                    let target = targets[(w + i) % targets.len()];
                    let call = format!("w{w}-c{i}");
                    let via = &bases[(w + i) % 3];
                    let (s, v) = post(
                        &agent,
                        &format!("{via}/v1/connect"),
                        &json!({"call": call, "target": target, "at": T0}),
                    );
                    requests.fetch_add(1, Ordering::Relaxed);
                    assert_eq!(s, 200, "connect {call}: {v}");
                    if v["ok"] != true {
                        continue;
                    }
                    *admitted
                        .lock()
                        .unwrap()
                        .entry(target.to_string())
                        .or_default() += 1;
                    // a lower bound of the server's live count: raised after
                    // the admit arrives, lowered before the end is sent
                    let mut owners = vec![target];
                    if target == "t1" || target == "t2" {
                        owners.push("g12");
                    }
                    for o in &owners {
                        let now = holding[o].fetch_add(1, Ordering::SeqCst) + 1;
                        most[o].fetch_max(now, Ordering::SeqCst);
                    }
                    std::thread::sleep(Duration::from_millis((w % 3) as u64));
                    for o in &owners {
                        holding[o].fetch_sub(1, Ordering::SeqCst);
                    }
                    // end through another process than the connect
                    let end_via = &bases[(w + i + 1) % 3];
                    let (s, v) = post(
                        &agent,
                        &format!("{end_via}/v1/end"),
                        &json!({"call": call, "at": T0}),
                    );
                    requests.fetch_add(1, Ordering::Relaxed);
                    assert_eq!(s, 200, "end {call}: {v}");
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker");
    }
    assert!(Instant::now() <= deadline, "traffic did not finish in time");
    let admitted = admitted.lock().unwrap().clone();
    let total_admitted: u64 = admitted.values().sum();
    eprintln!(
        "serve_load: {} requests, admitted {admitted:?}",
        requests.load(Ordering::Relaxed)
    );

    let (_, usage) = get(&agent(), &format!("{}/v1/usage?at={T0}", bases[1]));
    let after = caps_of(&usage);
    for ((id, cap), (used, limit)) in &after {
        assert!(used <= limit, "{id} {cap}: {used} > {limit}");
    }
    for t in targets {
        let counted = if t == "t4" {
            after[&(t.to_string(), "hourly".to_string())].0
        } else {
            after[&(t.to_string(), "daily".to_string())].0
        };
        assert_eq!(
            counted,
            admitted.get(t).copied().unwrap_or(0),
            "{t}: counted vs admitted"
        );
        let conc = limit_of(&caps, t, "concurrency") as i64;
        assert!(
            most[t].load(Ordering::SeqCst) <= conc,
            "{t}: {} live at once > {conc}",
            most[t].load(Ordering::SeqCst)
        );
        assert_eq!(
            after[&(t.to_string(), "concurrency".to_string())].0,
            0,
            "{t}: calls still live"
        );
    }
    assert!(most["g12"].load(Ordering::SeqCst) <= limit_of(&caps, "g12", "concurrency") as i64);
    let g = after[&("g12".to_string(), "daily".to_string())].0;
    assert_eq!(
        g,
        admitted.get("t1").copied().unwrap_or(0) + admitted.get("t2").copied().unwrap_or(0)
    );
    // the caps were reached: the traffic really competed for the last units
    assert_eq!(g, 40, "group daily cap not reached: {admitted:?}");
    assert_eq!(after[&("t3".to_string(), "daily".to_string())].0, 20);
    assert_eq!(after[&("t4".to_string(), "hourly".to_string())].0, 15);
    assert!(total_admitted > 0);

    // --- kill -9 a process holding live calls; usage survives its restart
    let a = agent();
    for call in ["h1", "h2"] {
        let (s, v) = post(
            &a,
            &format!("{}/v1/connect", bases[0]),
            &json!({"call": call, "target": "hold", "at": T1}),
        );
        assert_eq!((s, v), (200, json!({"ok": true})));
    }
    let (_, v) = post(
        &a,
        &format!("{}/v1/connect", bases[2]),
        &json!({"call": "h3", "target": "hold", "at": T1}),
    );
    assert_eq!(v["reasons"][0]["code"], "concurrency_cap", "{v}");
    let (_, before) = get(&a, &format!("{}/v1/usage?at={T1}", bases[1]));
    procs[0].signal("KILL");
    let status = procs[0].child.wait().expect("killed process is reaped");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(9), "{status:?}");
    procs[0] = ServeProcess::start(&path, &args);
    let restarted = procs[0].base.clone();
    let (_, again) = get(&a, &format!("{restarted}/v1/usage?at={T1}"));
    assert_eq!(again, before, "usage changed across kill -9 and restart");
    let hold_live = |u: &Value| {
        u["owners"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["id"] == "hold")
            .unwrap()["live"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(hold_live(&again), 2);

    // --- the leases run out exactly call_lease_seconds (600) after connect
    let just_before = "2026-11-23T16:09:59Z";
    let on_time = "2026-11-23T16:10:00Z";
    let (_, u) = get(&a, &format!("{restarted}/v1/usage?at={just_before}"));
    assert_eq!(hold_live(&u), 2, "{u}");
    let (_, v) = post(
        &a,
        &format!("{}/v1/connect", bases[1]),
        &json!({"call": "h4", "target": "hold", "at": just_before}),
    );
    assert_eq!(v["ok"], false, "{v}");
    let (_, u) = get(&a, &format!("{}/v1/usage?at={on_time}", bases[2]));
    assert_eq!(hold_live(&u), 0, "{u}");
    let (_, v) = post(
        &a,
        &format!("{restarted}/v1/connect",),
        &json!({"call": "h5", "target": "hold", "at": on_time}),
    );
    assert_eq!(v, json!({"ok": true}));
    // an end after the lease ran out is accepted and changes nothing more
    let (s, _) = post(
        &a,
        &format!("{}/v1/end", bases[1]),
        &json!({"call": "h1", "at": on_time}),
    );
    assert_eq!(s, 200);
    let (_, u) = get(&a, &format!("{}/v1/usage?at={on_time}", bases[1]));
    assert_eq!(hold_live(&u), 1, "{u}");
}
