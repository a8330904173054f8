//! `routecap simulate` end to end: JSON numbers, the table, the HTML report.

use crate::cli_support;

use cli_support::json;

fn routecap(args: &[&str], stdin: &str) -> (i32, String, String) {
    cli_support::run(args, stdin.as_bytes())
}

const CAPPED: &str = r#"{"targets": [{"id": "a", "caps": {"daily": 3}}]}"#;

fn capped_args(extra: &[&'static str]) -> Vec<&'static str> {
    let mut v = vec![
        "simulate",
        "-",
        "--from",
        "2026-03-02T00:00:00Z",
        "--to",
        "2026-03-05T00:00:00Z",
        "--calls-per-hour",
        "10",
        "--answer-rate",
        "1",
        "--convert-rate",
        "1",
        "--revenue",
        "12.50",
        "--mean-duration",
        "30",
        "--seed",
        "42",
    ];
    v.extend_from_slice(extra);
    v
}

#[test]
fn json_report_of_a_daily_cap_of_three() {
    let (code, out, err) = routecap(&capped_args(&["--json"]), CAPPED);
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert_eq!(v["seed"], 42);
    assert_eq!(v["from"], "2026-03-02T00:00:00Z");
    assert_eq!(v["params"]["revenue"], "12.50");
    let calls = v["calls"].as_u64().unwrap();
    assert!(calls > 600, "{calls}");
    assert_eq!(v["connected"], 9);
    assert_eq!(v["converted"], 9);
    assert_eq!(v["revenue"], "112.50");
    assert_eq!(v["no_eligible"].as_u64().unwrap(), calls - 9);
    assert_eq!(v["unanswered"], 0);
    let a = &v["targets"][0];
    assert_eq!(a["id"], "a");
    assert_eq!(a["offered"], 9);
    assert_eq!(a["connected"], 9);
    assert_eq!(a["revenue"], "112.50");
    assert_eq!(a["rejections"][0]["code"], "daily_cap");
    assert_eq!(a["rejections"][0]["calls"].as_u64().unwrap(), calls - 9);
    assert_eq!(a["caps"][0]["cap"], "daily");
    assert_eq!(a["caps"][0]["limit"], 3);
    assert_eq!(a["caps"][0]["peak"], 3);
    // lost hours listed: every hour after the third call of each day
    let lost: u64 = v["lost_by_hour"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["no_eligible"].as_u64().unwrap())
        .sum();
    assert_eq!(lost, calls - 9);
    let hod: u64 = v["lost_by_hour_of_day"]["no_eligible"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .sum();
    assert_eq!(hod, calls - 9);
}

#[test]
fn same_seed_same_output() {
    let args = [
        "simulate",
        "examples/ringba.json",
        "--from",
        "2026-11-23T00:00:00Z",
        "--to",
        "2026-11-25T00:00:00Z",
        "--seed",
        "3",
        "--json",
    ];
    let (c1, a, e1) = routecap(&args, "");
    let (c2, b, _) = routecap(&args, "");
    assert_eq!((c1, c2), (0, 0), "{e1}");
    assert_eq!(a, b);
    let v = json(&a);
    assert!(v["calls"].as_u64().unwrap() > 0);
    assert!(v["targets"].as_array().unwrap().len() >= 2);
}

#[test]
fn table_for_people() {
    let (code, out, err) = routecap(&capped_args(&[]), CAPPED);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("(seed 42)"), "{out}");
    let row = out
        .lines()
        .find(|l| l.starts_with("a ") && l.contains("target"))
        .unwrap_or_else(|| panic!("{out}"));
    let cells: Vec<&str> = row.split_whitespace().collect();
    // ID KIND OFFERED ANSWERED CONNECTED REFUSED CONVERTED REVENUE ...
    assert_eq!(
        &cells[..8],
        ["a", "target", "9", "9", "9", "0", "9", "112.50"]
    );
    assert!(row.contains("daily_cap"), "{row}");
    assert!(out.contains("lost calls by UTC hour of day"));
    // no progress bar when stderr is not a terminal
    assert!(err.is_empty(), "{err}");
}

#[test]
fn html_report_is_self_contained() {
    let dir = std::env::temp_dir().join(format!("routecap-sim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("week.html");
    let p = path.to_str().unwrap().to_string();
    let args = [
        "simulate",
        "examples/native.json",
        "--from",
        "2026-11-23T00:00:00Z",
        "--to",
        "2026-11-30T00:00:00Z",
        "--seed",
        "1",
        "--html",
        &p,
    ];
    let (code, out, err) = routecap(&args, "");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("HTML report written to"), "{out}");
    let html = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.trim_end().ends_with("</html>"));
    assert!(html.contains("<svg"));
    assert!(
        html.matches("<svg").count() >= 4,
        "volume, caps, lost charts"
    );
    let lower = html.to_lowercase();
    for banned in [
        "http:", "https:", "<script", "src=", "<link", "@import", "url(",
    ] {
        assert!(!lower.contains(banned), "found {banned}");
    }
    for section in [
        "Connected calls per target",
        "Cap fill",
        "Lost calls by hour",
    ] {
        assert!(html.contains(section), "{section}");
    }
    assert!(html.contains("ny-insurance"));
    // every opened svg is closed
    assert_eq!(html.matches("<svg").count(), html.matches("</svg>").count());
}

#[test]
fn html_escapes_ids() {
    let cfg = r#"{"targets": [{"id": "<b>&x", "caps": {"daily": 1}}]}"#;
    let dir = std::env::temp_dir().join(format!("routecap-esc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("r.html");
    let p = path.to_str().unwrap().to_string();
    let args = [
        "simulate",
        "-",
        "--from",
        "2026-03-02T00:00:00Z",
        "--to",
        "2026-03-02T06:00:00Z",
        "--seed",
        "1",
        "--html",
        &p,
        "--json",
    ];
    let (code, _, err) = routecap(&args, cfg);
    assert_eq!(code, 0, "{err}");
    let html = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert!(html.contains("&lt;b&gt;&amp;x"));
    assert!(!html.contains("<b>&x"));
}

#[test]
fn profile_inline_and_from_a_file() {
    let mut w = vec!["0"; 24];
    w[10] = "1";
    let inline = w.join(",");
    let args = [
        "simulate",
        "-",
        "--from",
        "2026-03-02T00:00:00Z",
        "--to",
        "2026-03-04T00:00:00Z",
        "--profile",
        &inline,
        "--seed",
        "5",
        "--json",
    ];
    let cfg = r#"{"targets": [{"id": "a"}]}"#;
    let (code, out, err) = routecap(&args, cfg);
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert!(v["calls"].as_u64().unwrap() > 0);
    // all traffic in the 10:00 UTC hour: lost calls (if any) only there
    let hod = v["lost_by_hour_of_day"]["unanswered"].as_array().unwrap();
    for (h, n) in hod.iter().enumerate() {
        if h != 10 {
            assert_eq!(n, 0, "hour {h}");
        }
    }
    let dir = std::env::temp_dir().join(format!("routecap-prof-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("profile.json");
    std::fs::write(&path, format!("[{inline}]")).unwrap();
    let mut file_args = args.to_vec();
    let p = path.to_str().unwrap().to_string();
    file_args[7] = &p;
    let (code, out2, err) = routecap(&file_args, cfg);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, out2, "the same profile inline and from a file");
}

#[test]
fn bad_input_exits_2_with_a_message() {
    let cfg = r#"{"targets": [{"id": "a"}]}"#;
    let base = |extra: &[&'static str]| {
        let mut v = vec![
            "simulate",
            "-",
            "--from",
            "2026-03-02T00:00:00Z",
            "--to",
            "2026-03-03T00:00:00Z",
        ];
        v.extend_from_slice(extra);
        v
    };
    for (args, msg) in [
        (
            vec![
                "simulate",
                "-",
                "--from",
                "2026-03-03T00:00:00Z",
                "--to",
                "2026-03-02T00:00:00Z",
            ],
            "--to must be after --from",
        ),
        (base(&["--answer-rate", "2"]), "--answer-rate"),
        (base(&["--revenue", "1.234"]), "--revenue"),
        (base(&["--mean-duration", "0"]), "--mean-duration"),
        (base(&["--profile", "1,2,3"]), "--profile"),
        (
            vec![
                "simulate",
                "-",
                "--from",
                "yesterday",
                "--to",
                "2026-03-03T00:00:00Z",
            ],
            "--from",
        ),
        (
            vec!["simulate", "-", "--to", "2026-03-03T00:00:00Z"],
            "--from",
        ),
    ] {
        let (code, out, err) = routecap(&args, cfg);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}");
        assert!(err.contains(msg), "{args:?}: {err}");
    }
    // --from before the example's as_of: refused unless --fresh
    let early = [
        "simulate",
        "examples/native.json",
        "--from",
        "2026-11-01T00:00:00Z",
        "--to",
        "2026-11-02T00:00:00Z",
        "--seed",
        "1",
    ];
    let (code, _, err) = routecap(&early, "");
    assert_eq!(code, 2);
    assert!(err.contains("--fresh"), "{err}");
    let mut fresh = early.to_vec();
    fresh.push("--fresh");
    let (code, _, err) = routecap(&fresh, "");
    assert_eq!(code, 0, "{err}");
}
