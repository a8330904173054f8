//! Safe config edits: `GET /v1/config` with its `ETag`, `If-Match` on
//! `PUT`/`PATCH` (412 when stale, nothing changed), the version in the
//! metrics; across two processes sharing a Redis namespace too.

use serde_json::{json, Value};

use super::serve_support::*;

fn config_of(agent: &ureq::Agent, base: &str) -> (String, Value) {
    let (s, h, text) = send_with(agent, "GET", &format!("{base}/v1/config"), &[], None);
    assert_eq!(s, 200, "{text}");
    let etag = h
        .get("etag")
        .expect("an ETag")
        .to_str()
        .unwrap()
        .to_string();
    (etag, parse(&text))
}

fn daily_cap(config: &Value, id: &str) -> Value {
    config["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id)
        .unwrap_or_else(|| panic!("no target {id} in {config}"))["caps"]["daily"]
        .clone()
}

#[test]
fn a_change_made_against_an_old_version_is_refused_and_changes_nothing() {
    let server = TestServer::memory(CONFIG);
    let agent = agent();
    let base = server.base.as_str();
    let (etag, config) = config_of(&agent, base);
    assert_eq!(etag, "\"1\"");
    assert_eq!(daily_cap(&config, "a"), 2);
    let patch_a = |if_match: &str, daily: u64| {
        send_with(
            &agent,
            "PATCH",
            &format!("{base}/v1/targets/a"),
            &[("if-match", if_match)],
            Some(&json!({"caps": {"daily": daily, "concurrency": 1}}).to_string()),
        )
    };
    // the first editor, against version 1: accepted, version 2
    let (s, h, text) = patch_a("\"1\"", 4);
    assert_eq!(s, 200, "{text}");
    assert_eq!(h.get("etag").unwrap(), "\"2\"");
    assert_eq!(parse(&text)["config_version"], 2);
    // the second editor read version 1 too: 412, nothing changed
    let (s, _, text) = patch_a("\"1\"", 9);
    assert_eq!(s, 412, "{text}");
    let v = parse(&text);
    assert!(v["error"].as_str().unwrap().contains("version 2"), "{v}");
    assert_eq!(v["path"], "header.If-Match");
    let (s, _, text) = send_with(
        &agent,
        "PUT",
        &format!("{base}/v1/config"),
        &[("if-match", "\"1\"")],
        Some(CONFIG),
    );
    assert_eq!(s, 412, "{text}");
    let (etag, config) = config_of(&agent, base);
    assert_eq!(etag, "\"2\"");
    assert_eq!(daily_cap(&config, "a"), 4);
    // an If-Match that is no version is a 400; `*` and none match any
    for bad in ["2", "\"two\"", "W/\"2\"", "\"\""] {
        let (s, _, text) = patch_a(bad, 5);
        if bad == "2" {
            // a bare number is read as the version it names
            assert_eq!(s, 200, "{text}");
            continue;
        }
        assert_eq!(s, 400, "{bad}: {text}");
        assert_eq!(parse(&text)["path"], "header.If-Match");
    }
    let (s, h, text) = send_with(
        &agent,
        "PUT",
        &format!("{base}/v1/config"),
        &[("if-match", "*")],
        Some(&config.to_string()),
    );
    assert_eq!(s, 200, "{text}");
    assert_eq!(h.get("etag").unwrap(), "\"4\"");
    // the running config's native shape, put back, is the same config
    let (_, again) = config_of(&agent, base);
    assert_eq!(again, config);
    let (_, _, metrics) = send_with(&agent, "GET", &format!("{base}/metrics"), &[], None);
    assert!(metrics.contains("routecap_config_version 4"), "{metrics}");
}

#[test]
fn a_stale_edit_through_another_process_of_the_namespace_is_refused() {
    let Some(url) = redis_url("a_stale_edit_through_another_process") else {
        return;
    };
    let ns = namespace();
    let one = TestServer::redis(CONFIG, &url, &ns, Default::default());
    let two = TestServer::redis(CONFIG, &url, &ns, Default::default());
    let agent = agent();
    let (etag, _) = config_of(&agent, &one.base);
    let (etag_two, _) = config_of(&agent, &two.base);
    assert_eq!(etag, etag_two);
    let body = json!({"caps": {"daily": 7}}).to_string();
    let (s, h, text) = send_with(
        &agent,
        "PATCH",
        &format!("{}/v1/targets/b", two.base),
        &[("if-match", &etag)],
        Some(&body),
    );
    assert_eq!(s, 200, "{text}");
    let newer = h.get("etag").unwrap().to_str().unwrap().to_string();
    assert_ne!(newer, etag);
    // process one has not seen the change yet: its check is the script's
    let (s, _, text) = send_with(
        &agent,
        "PUT",
        &format!("{}/v1/config", one.base),
        &[("if-match", &etag)],
        Some(CONFIG),
    );
    assert_eq!(s, 412, "{text}");
    let (etag_one, config) = config_of(&agent, &one.base);
    assert_eq!(etag_one, newer);
    assert_eq!(daily_cap(&config, "b"), 7);
}
