//! Live changes on the thread-safe engine: config swaps while other
//! threads decide never let a cap be exceeded, and keep every count.

use std::sync::Arc;

use routecap::engine::Engine;
use routecap::Call;
use routecap_core::formats::source::OwnerKind;
use routecap_core::lifecycle::ConnectOutcome;
use routecap_core::render::UsageAmount;
use serde_json::json;

fn config(daily: u64) -> serde_json::Value {
    json!({"as_of": "2026-11-23T00:00:00Z",
           "targets": [{"id": "a", "caps": {"daily": daily}}, {"id": "b", "caps": {"daily": 1000}}],
           "groups": [{"id": "g", "members": ["a", "b"], "caps": {"daily": 150}}]})
}

#[test]
fn config_swaps_under_concurrent_connects_never_overbook() {
    let t: routecap_core::Instant = "2026-11-23T12:00:00Z".parse().unwrap();
    let engine =
        Arc::new(Engine::parse(config(40).to_string().as_bytes(), "c.json", None).unwrap());
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let engine = Arc::clone(&engine);
            std::thread::spawn(move || {
                let mut ok = 0u64;
                for i in 0..100 {
                    let target = if i % 2 == 0 { "a" } else { "b" };
                    if engine
                        .connect(&Call::new(format!("w{w}-{i}")), target, t)
                        .unwrap()
                        == ConnectOutcome::Connected
                    {
                        ok += 1;
                    }
                }
                ok
            })
        })
        .collect();
    // swap the daily cap of "a" between 40 and 60 while the workers decide
    for k in 0..50 {
        let cap = if k % 2 == 0 { 60 } else { 40 };
        engine
            .replace_config(
                &config(cap),
                "c.json",
                None,
                "2026-11-23T00:00:00Z".parse().unwrap(),
            )
            .unwrap();
        engine
            .patch(
                OwnerKind::Target,
                "b",
                &json!({"caps": {"daily": 1000}}),
                "p",
                "2026-11-23T00:00:00Z".parse().unwrap(),
            )
            .unwrap();
    }
    let connected: u64 = workers.into_iter().map(|h| h.join().unwrap()).sum();
    let view = engine.usage(t);
    let used = |id: &str, cap: &str| {
        let o = view.owners.iter().find(|o| o.id == id).unwrap();
        match &o.caps.iter().find(|c| c.cap == cap).unwrap().used {
            UsageAmount::Count(n) => *n,
            UsageAmount::Money(m) => panic!("{m}"),
        }
    };
    assert_eq!(used("g", "daily"), connected, "no count lost across swaps");
    assert_eq!(used("a", "daily") + used("b", "daily"), connected);
    assert!(used("a", "daily") <= 60, "a: {}", used("a", "daily"));
    assert!(used("g", "daily") <= 150);
}
