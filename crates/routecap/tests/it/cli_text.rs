//! Text is a rendering of the JSON view: for each command, the text output
//! holds the facts of its `--json` output, in the same order (and, where
//! the text lists items — plan steps, candidates, owners — exactly as many).
//!
//! Each test runs a command twice, with and without `--json`, reads the
//! JSON, and walks the text with [`Facts`]: every fact must be found after
//! the previous one.

use crate::cli_support;

use cli_support::{json, run};
use serde_json::Value;

/// A cursor over a text output: each [`Facts::see`] must find its fact at
/// or after the end of the previous one.
struct Facts<'a> {
    text: &'a str,
    at: usize,
    what: String,
}

impl<'a> Facts<'a> {
    fn new(what: &str, text: &'a str) -> Self {
        Facts {
            text,
            at: 0,
            what: what.to_string(),
        }
    }

    fn see(&mut self, fact: impl AsRef<str>) {
        let fact = fact.as_ref();
        match self.text[self.at..].find(fact) {
            Some(i) => self.at += i + fact.len(),
            None => panic!(
                "{}: {fact:?} is not in the text after byte {} (already matched: {:?})\n{}",
                self.what,
                self.at,
                &self.text[..self.at],
                self.text
            ),
        }
    }

    /// The facts of one reason: code, `used/limit`, `[group]`, `until`, detail.
    fn reason(&mut self, r: &Value) {
        self.see(s(&r["code"]));
        if !r["used"].is_null() {
            self.see(format!("{}/{}", amount(&r["used"]), amount(&r["limit"])));
        }
        if let Some(g) = r["group"].as_str() {
            self.see(format!("[{g}]"));
        }
        if let Some(t) = r["until"].as_str() {
            self.see(format!("until {t}"));
        }
        if let Some(d) = r["detail"].as_str() {
            self.see(d);
        }
    }
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("{v} is not a string"))
}

/// A count or money amount as the text prints it.
fn amount(v: &Value) -> String {
    match v {
        Value::String(m) => m.clone(),
        n => n.to_string(),
    }
}

fn arr(v: &Value) -> &Vec<Value> {
    v.as_array()
        .unwrap_or_else(|| panic!("{v} is not an array"))
}

/// `(text, json)` of `routecap ARGS` and `routecap ARGS --json` on `stdin`.
fn both(args: &[&str], stdin: &str) -> (String, Value) {
    let (code, text, err) = run(args, stdin.as_bytes());
    assert_eq!(code, 0, "routecap {}: {err}", args.join(" "));
    let (code, out, err) = run(&[args, &["--json"]].concat(), stdin.as_bytes());
    assert_eq!(code, 0, "routecap {} --json: {err}", args.join(" "));
    (text, json(&out))
}

/// The facts of `routecap check`'s view, in order.
fn check_facts(args: &[&str]) -> (String, Value) {
    let (text, v) = both(args, "");
    let mut f = Facts::new(&args.join(" "), &text);
    let cands = arr(&v["candidates"]);
    let eligible = cands.iter().filter(|c| c["eligible"] == true).count();
    f.see(format!(
        "at {}: {eligible} of {} candidates eligible",
        s(&v["at"]),
        cands.len()
    ));
    if let Some(c) = v.get("campaign") {
        f.see(format!("campaign {}", s(&c["id"])));
        if c["eligible"] == true {
            f.see("takes the call");
        } else {
            f.see("refuses the call:");
        }
        for r in arr(&c["reasons"]) {
            f.reason(r);
        }
        match c["fallback"].as_str() {
            Some(id) => f.see(format!("fallback {id}")),
            None => f.see("no fallback"),
        }
    }
    for c in cands {
        f.see(format!("\n{} ", s(&c["id"])));
        f.see(s(&c["kind"]));
        // `2026-11-22T10:00:00-05:00` is printed `Sun 2026-11-22 10:00 -05:00`
        let local = s(&c["local_time"]);
        f.see(format!("{} {}", &local[..10], &local[11..16]));
        f.see(&local[local.len() - 6..]);
        f.see(if c["eligible"] == true { "yes" } else { "no" });
        for r in arr(&c["reasons"]) {
            f.reason(r);
        }
        if let Some(m) = c.get("eligible_members") {
            let ids: Vec<&str> = arr(m).iter().map(s).collect();
            f.see(if ids.is_empty() {
                "eligible members: none".to_string()
            } else {
                format!("eligible members: {}", ids.join(", "))
            });
        }
    }
    (text, v)
}

#[test]
fn check_text_is_its_json_view() {
    let at = "2026-11-22T15:00:00Z";
    let (text, _) = check_facts(&["check", "examples/native.json", "--at", at]);
    // the cap with its usage, its `until`, and a group's eligible members
    assert!(
        text.contains("daily_cap 25/25 until 2026-11-23T06:00:00Z"),
        "{text}"
    );
    assert!(text.contains("eligible members: kolkata-bpo"), "{text}");
    for f in ["examples/retreaver.json", "examples/ringba.json"] {
        check_facts(&["check", f, "--at", at]);
    }
    let at = "2026-11-23T15:00:00Z";
    let cfg = "examples/attributes.json";
    check_facts(&["check", cfg, "--at", at, "--tag", "geo=us-tx"]);
    // a campaign that takes the call, and one that refuses it
    let (text, v) = check_facts(&[
        "check",
        cfg,
        "--at",
        at,
        "--campaign",
        "medicare",
        "--tag",
        "calling_about=medicaid",
    ]);
    assert_eq!(v["campaign"]["eligible"], true);
    assert!(
        text.contains("campaign medicare takes the call; fallback overflow"),
        "{text}"
    );
    let (text, v) = check_facts(&[
        "check",
        cfg,
        "--at",
        at,
        "--campaign",
        "medicare",
        "--tag",
        "calling_about=auto",
    ]);
    assert_eq!(v["campaign"]["eligible"], false);
    assert!(text.contains("campaign medicare refuses the call: filter_mismatch (calling_about in [medicare, medicaid]: call has calling_about = [auto])"), "{text}");
}

/// The facts of `routecap route`'s view, in order; the step table has
/// exactly as many rows as the plan.
fn route_facts(args: &[&str]) -> (String, Value) {
    let (text, v) = both(args, "");
    let mut f = Facts::new(&args.join(" "), &text);
    let plan = arr(&v["plan"]);
    f.see(format!(
        "route at {} (seed {}): {} step(s)",
        s(&v["at"]),
        v["seed"],
        plan.len()
    ));
    let (campaigns, candidates): (Vec<&Value>, Vec<&Value>) = arr(&v["rejected"])
        .iter()
        .partition(|r| r["kind"] == "campaign");
    for r in campaigns {
        f.see(format!("campaign {} refuses the call:", s(&r["id"])));
        for reason in arr(&r["reasons"]) {
            f.reason(reason);
        }
    }
    if plan.is_empty() {
        f.see("the call cannot be routed");
    }
    for (i, step) in plan.iter().enumerate() {
        f.see(format!("\n{}. ", i + 1));
        match step["target"].as_str() {
            Some(t) => f.see(t),
            None => {
                f.see(s(&step["group"]));
                let ids: Vec<&str> = arr(&step["targets"]).iter().map(s).collect();
                f.see(format!("(simultaneous: {})", ids.join(", ")));
            }
        }
        if step["fallback"] == true {
            f.see("(fallback)");
        }
        f.see(format!("{} s", step["timeout_seconds"]));
    }
    let numbered = text
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|w| w.ends_with('.'))
        })
        .count();
    assert_eq!(numbered, plan.len(), "one table row per step:\n{text}");
    for r in candidates {
        f.see(format!("\n{} ", s(&r["id"])));
        for reason in arr(&r["reasons"]) {
            f.reason(reason);
        }
    }
    (text, v)
}

#[test]
fn route_text_is_its_json_view() {
    let at = "2026-11-22T15:00:00Z";
    for seed in ["0", "7", "42"] {
        let (_, v) = route_facts(&["route", "examples/native.json", "--at", at, "--seed", seed]);
        // a simultaneous group step among them
        assert!(arr(&v["plan"]).iter().any(|s| s["group"] == "night-pool"));
    }
    for f in ["examples/retreaver.json", "examples/ringba.json"] {
        route_facts(&["route", f, "--at", at, "--seed", "1"]);
    }
    let cfg = "examples/attributes.json";
    let at = "2026-11-23T15:00:00Z";
    route_facts(&[
        "route",
        cfg,
        "--at",
        at,
        "--seed",
        "3",
        "--tag",
        "geo=us-tx",
    ]);
    // the campaign refuses the call: no step, the campaign's reason
    let (_, v) = route_facts(&[
        "route",
        cfg,
        "--at",
        at,
        "--seed",
        "3",
        "--campaign",
        "medicare",
        "--tag",
        "calling_about=auto",
    ]);
    assert_eq!(arr(&v["plan"]).len(), 0);
    // its fallback ends the plan, with its own timeout
    let (text, v) = route_facts(&[
        "route",
        cfg,
        "--at",
        at,
        "--seed",
        "3",
        "--campaign",
        "medicare",
        "--tag",
        "calling_about=medicaid",
    ]);
    assert_eq!(
        arr(&v["plan"]).last().unwrap(),
        &serde_json::json!({"target": "overflow", "timeout_seconds": 60, "fallback": true})
    );
    assert!(text.contains("overflow (fallback)"), "{text}");
}

/// `examples/callers.json` through campaign `fresh` (candidates bolt and
/// acme, fallback spare): three steps, the fallback last. The text used to
/// re-plan without the fallback ("2 step(s)", no timeouts) and add it
/// below the table.
#[test]
fn route_text_through_a_campaign_shows_every_step_and_the_fallback() {
    let (text, v) = route_facts(&[
        "route",
        "examples/callers.json",
        "--at",
        "2026-11-23T10:30:00Z",
        "--seed",
        "5",
        "--caller",
        "+19195550100",
        "--campaign",
        "fresh",
    ]);
    assert_eq!(
        v["plan"],
        serde_json::json!([
            {"target": "bolt", "timeout_seconds": 30},
            {"target": "acme", "timeout_seconds": 30},
            {"target": "spare", "timeout_seconds": 30, "fallback": true},
        ])
    );
    assert_eq!(
        text,
        "route at 2026-11-23T10:30:00Z (seed 5): 3 step(s)\n\
         \n\
         #   STEP              TIMEOUT\n\
         1.  bolt              30 s\n\
         2.  acme              30 s\n\
         3.  spare (fallback)  30 s\n"
    );
}

/// A repeat caller through a shared state: a replay leaves the caller's
/// history in Redis, and `route --state` rings the caller's original target
/// first (`repeat_callers: original`) — the text shows the plan the JSON
/// shows. Runs under `scripts/with-redis` (`ROUTECAP_TEST_REDIS_URL`).
#[test]
fn route_text_of_a_repeat_caller_through_a_shared_state() {
    let Some(url) = std::env::var("ROUTECAP_TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!("skipped: ROUTECAP_TEST_REDIS_URL is not set (run under scripts/with-redis)");
        return;
    };
    let ns = format!("cli-text-{}", std::process::id());
    let cfg = "examples/callers.json";
    let history = concat!(
        r#"{"at": "2026-11-23T10:00:00Z", "type": "connect", "call": "c1", "target": "acme", "caller": "+19195550100"}"#,
        "\n",
        r#"{"at": "2026-11-23T10:01:00Z", "type": "end", "call": "c1"}"#,
        "\n",
    );
    let state = ["--state", url.as_str(), "--namespace", ns.as_str()];
    let (code, _, err) = run(
        &[&["replay", cfg, "-", "--seed", "1"][..], &state].concat(),
        history.as_bytes(),
    );
    assert_eq!(code, 0, "{err}");
    let route = |at: &str, extra: &[&str]| {
        let args = [
            &[
                "route",
                cfg,
                "--at",
                at,
                "--seed",
                "5",
                "--caller",
                "+19195550100",
            ][..],
            extra,
            &state,
        ]
        .concat();
        route_facts(&args)
    };
    // 11:00: acme's duplicate window is over; the caller's original target first
    let (text, v) = route("2026-11-23T11:00:00Z", &[]);
    assert_eq!(v["plan"][0]["target"], "acme");
    assert!(text.contains("1.  acme"), "{text}");
    // 10:30 through `fresh`: acme refuses the caller twice; spare is the fallback
    let (text, v) = route("2026-11-23T10:30:00Z", &["--campaign", "fresh"]);
    assert_eq!(arr(&v["plan"]).len(), 2);
    assert!(text.contains("spare (fallback)"), "{text}");
    assert!(
        text.contains("repeat_caller until 2026-11-24T10:00:00Z"),
        "{text}"
    );
}

#[test]
fn usage_text_is_its_json_view() {
    for (cfg, at) in [
        ("examples/native.json", "2026-11-22T15:00:00Z"),
        ("examples/attributes.json", "2026-11-23T15:00:00Z"),
        ("examples/ringba.json", "2026-11-25T14:05:00Z"),
    ] {
        let args = ["usage", cfg, "--at", at];
        let (text, v) = both(&args, "");
        let mut f = Facts::new(&args.join(" "), &text);
        f.see(format!("usage at {}", s(&v["at"])));
        for o in arr(&v["owners"]) {
            f.see(format!("\n{} ", s(&o["id"])));
            f.see(s(&o["kind"]));
            f.see(format!("{}+{}", o["live"], o["reserved"]));
            for c in arr(&o["caps"]) {
                f.see(s(&c["cap"]));
                f.see(amount(&c["used"]));
                f.see(amount(&c["limit"]));
                if let Some(start) = c["window_start"].as_str() {
                    f.see(format!("{start} .. {}", s(&c["window_end"])));
                }
            }
        }
    }
}

#[test]
fn zones_text_is_its_json_view() {
    for args in [
        &[
            "zones",
            " eastern time (us & canada) ",
            "Romance Standard Time",
            "Asia/Kolkata",
        ][..],
        &["zones"][..],
    ] {
        let (text, v) = both(args, "");
        let mut f = Facts::new("zones", &text);
        let rows = arr(&v);
        for r in rows {
            f.see(format!("\n{}", s(&r["input"])));
            f.see(s(&r["kind"]));
            f.see(s(&r["iana"]));
        }
        assert_eq!(
            text.lines().count(),
            rows.len() + 1,
            "a header and one line per name"
        );
    }
}

#[test]
fn hours_text_is_its_json_view() {
    let cfg = r#"{"targets": [
        {"id": "office", "name": "Raleigh desk", "time_zone": "Eastern Time (US & Canada)",
         "hours": [{"day": 1, "open": "09:30", "close": "17:00"}, {"day": 2, "open": "09:00", "close": "17:00"}]},
        {"id": "always", "paused": true}],
      "groups": [{"id": "g", "members": ["office"], "time_zone": "Asia/Kolkata",
         "hours": [{"day": 3, "open": "10:00", "close": "12:00"}]}]}"#;
    for extra in [&[][..], &["--zone", "UTC"][..], &["--target", "g"][..]] {
        // the week of the spring-forward night in New York: a missing hour
        let args = [&["hours", "-", "--week-of", "2026-03-10"][..], extra].concat();
        let (text, v) = both(&args, cfg);
        let mut f = Facts::new(&args.join(" "), &text);
        f.see(format!("week of Sunday {}", s(&v["week_of"])));
        for g in arr(&v["grids"]) {
            f.see(format!("{} {}", s(&g["kind"]), s(&g["id"])));
            if let Some(n) = g["name"].as_str() {
                f.see(format!("({n})"));
            }
            f.see(format!("hours in {}", s(&g["zone_name"])));
            if g["zone_name"] != g["time_zone"] {
                f.see(format!("= {}", s(&g["time_zone"])));
            }
            if g["shown_in"] != g["time_zone"] {
                f.see(format!("shown in {}", s(&g["shown_in"])));
            }
            if g["always_open"] == true {
                f.see("open 24/7");
            }
            if g["paused"] == true {
                f.see("PAUSED");
            }
            let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
            for d in arr(&g["days"]) {
                let line = format!(
                    "{} {}",
                    weekdays[d["weekday"].as_u64().unwrap() as usize],
                    s(&d["date"])
                );
                f.see(format!("\n{line}"));
                let row: Vec<char> = text[f.at..].lines().next().unwrap_or("").chars().collect();
                let cells: Vec<String> = (0..24)
                    .map(|h| match row.get(2 + h * 3..4 + h * 3) {
                        Some(c) => c.iter().collect(),
                        None => "  ".to_string(),
                    })
                    .collect();
                for (h, state) in arr(&d["hours"]).iter().enumerate() {
                    let want = match state.as_str() {
                        None => "  ",
                        Some("open") => "██",
                        Some("partial") => "▒▒",
                        Some(_) => "··",
                    };
                    assert_eq!(
                        cells[h],
                        want,
                        "{} {line} {h:02}:00 in\n{text}",
                        s(&g["id"])
                    );
                }
            }
        }
        f.see("legend:");
    }
}

#[test]
fn simulate_text_is_its_json_view() {
    let args = [
        "simulate",
        "examples/native.json",
        "--from",
        "2026-11-22T15:00:00Z",
        "--to",
        "2026-11-24T15:00:00Z",
        "--calls-per-hour",
        "40",
        "--seed",
        "9",
        "--profile",
        "1,1,1,1,1,1,1,2,3,4,4,4,4,4,4,4,4,3,2,1,1,1,1,1",
    ];
    let (text, v) = both(&args, "");
    let mut f = Facts::new("simulate", &text);
    f.see(format!(
        "simulated {} .. {} (seed {}): {} calls",
        s(&v["from"]),
        s(&v["to"]),
        v["seed"],
        v["calls"]
    ));
    let p = &v["params"];
    let float = |v: &Value| v.as_f64().unwrap().to_string();
    f.see(format!("at {} per hour", float(&p["calls_per_hour"])));
    f.see(format!("hours in {}", s(&p["profile"]["time_zone"])));
    f.see(format!("answer rate {}", float(&p["answer_rate"])));
    f.see(format!("convert rate {}", float(&p["convert_rate"])));
    f.see(format!("revenue {} per conversion", s(&p["revenue"])));
    f.see(format!("mean length {} s", float(&p["mean_duration"])));
    for (label, key) in [
        ("routed", "routed"),
        ("connected", "connected"),
        ("converted", "converted"),
    ] {
        f.see(format!("\n{label} "));
        f.see(v[key].to_string());
    }
    f.see(format!("revenue {}", s(&v["revenue"])));
    f.see(format!(
        "{} no eligible target, {} nobody answered",
        v["no_eligible"], v["unanswered"]
    ));
    let mean = v["time_to_answer"]["mean_seconds"].as_f64().unwrap();
    f.see(
        match (
            v["connected"].as_u64().unwrap(),
            v["time_to_answer"]["p90_seconds"].as_u64().unwrap(),
        ) {
            (0, _) => "no call was answered".to_string(),
            (_, 0) => {
                format!("answered after {mean:.1} s on average, at least 90 % at the first ring")
            }
            (_, p90) => format!("answered after {mean:.1} s on average, 90 % within {p90} s"),
        },
    );
    let owners: Vec<&Value> = arr(&v["targets"]).iter().chain(arr(&v["groups"])).collect();
    for o in &owners {
        f.see(format!("\n{} ", s(&o["id"])));
        if let Some(mode) = o["mode"].as_str() {
            f.see(format!("group ({mode})"));
        }
        for k in [
            "offered",
            "answered",
            "connected",
            "refused",
            "converted",
            "revenue",
            "ineligible",
        ] {
            f.see(format!(" {}", amount(&o[k])));
        }
        for r in arr(&o["rejections"]) {
            f.see(s(&r["code"]));
            if let Some(g) = r["group"].as_str() {
                f.see(format!("[{g}]"));
            }
            f.see(format!(" {}", r["calls"]));
        }
    }
    if owners.iter().any(|o| !arr(&o["caps"]).is_empty()) {
        f.see("cap fill");
    }
    for o in &owners {
        for c in arr(&o["caps"]) {
            f.see(format!("\n{} ", s(&o["id"])));
            f.see(s(&c["cap"]));
            f.see(match &c["limit"] {
                Value::Null => "by hour".to_string(),
                l => amount(l),
            });
            f.see(amount(&c["peak"]));
            f.see(c["hours_at_limit"].to_string());
        }
    }
    let hod = &v["lost_by_hour_of_day"];
    let lost: u64 = ["no_eligible", "unanswered"]
        .iter()
        .flat_map(|k| arr(&hod[*k]).iter().map(|n| n.as_u64().unwrap()))
        .sum();
    assert!(
        lost > 0,
        "the run loses calls, so the text draws them by hour"
    );
    f.see("lost calls by UTC hour of day");
    for h in 0..24 {
        let (ne, un) = (&hod["no_eligible"][h], &hod["unanswered"][h]);
        f.see(format!("\n{h:02}:00 "));
        f.see(format!("({ne} + {un})"));
    }
}

/// Error and help wording: an unreadable file has no JSON path, `--help`
/// lists every replay event, the default instant is whole seconds.
#[test]
fn unreadable_files_help_and_the_default_instant() {
    let (code, _, err) = run(&["check", "no-such-config.json"], b"");
    assert_eq!(code, 2);
    assert!(
        err.starts_with("routecap: no-such-config.json: cannot be read: "),
        "{err}"
    );
    assert!(!err.contains("$:"), "{err}");
    let (code, out, _) = run(&["--help"], b"");
    assert_eq!(code, 0);
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with("replay"))
        .unwrap();
    for event in [
        "route", "connect", "reserve", "convert", "end", "touch", "cancel", "reset", "pause",
        "resume", "update", "config", "usage",
    ] {
        assert!(
            line.split(['(', '/', ')']).any(|w| w == event),
            "{event}: {line}"
        );
    }
    let (code, out, err) = run(&["check", "-", "--json"], br#"{"targets": [{"id": "a"}]}"#);
    assert_eq!(code, 0, "{err}");
    let at = serde_json::from_str::<Value>(&out).unwrap()["at"]
        .as_str()
        .unwrap()
        .to_string();
    // 2026-12-07T20:20:45Z: no fraction of a second
    assert_eq!(at.len(), 20, "{at}");
    assert!(at.ends_with('Z') && !at.contains('.'), "{at}");
}
