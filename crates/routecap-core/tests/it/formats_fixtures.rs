//! Every JSON example of the source documents (extracted into
//! `tests/fixtures/`) parses with exactly the expected values.

use chrono_tz::Tz;
use routecap_core::caps::{Limits, Trigger, Usage};
use routecap_core::formats::{detect, parse_config, Format};
use routecap_core::hours::{DayHours, WeeklyHours};
use routecap_core::model::{Config, GroupMode};

fn bytes(name: &str) -> Vec<u8> {
    let path = format!("{}/../../tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Parse a fixture by detection, checking the detected format.
fn load(name: &str, format: Format) -> Config {
    let b = bytes(name);
    let v: serde_json::Value = serde_json::from_slice(&b).expect("fixture is JSON");
    assert_eq!(detect(&v), Some(format), "{name} detected as");
    parse_config(&b, name, None).unwrap_or_else(|e| panic!("{e}"))
}

fn day(open: u16, close: u16, closed: bool) -> Option<DayHours> {
    Some(DayHours {
        open,
        close,
        invert: false,
        closed,
    })
}

fn all_days_open() -> Option<WeeklyHours> {
    Some(WeeklyHours::new([day(0, 1440, false); 7]))
}

fn hard_cap(n: u64) -> Limits {
    Limits {
        total: Some(n),
        ..Limits::default()
    }
}

// ---------- Retreaver targets ----------

fn assert_jason_cell(c: &Config) {
    assert_eq!(c.targets.len(), 1);
    assert!(c.groups.is_empty());
    let t = &c.targets[0];
    assert_eq!(t.id, "6588");
    assert_eq!(t.name.as_deref(), Some("Jason Cell"));
    assert_eq!((t.priority, t.weight, t.paused), (1, 1, false));
    assert_eq!(t.zone.tz(), Tz::America__New_York);
    assert_eq!(&*t.zone_name, "Eastern Time (US & Canada)");
    assert_eq!(t.trigger, Trigger::Connect);
    assert_eq!(t.hours, None);
    assert_eq!(t.limits(), Limits::default());
    assert_eq!(t.usage(), Usage::default());
    assert_eq!(t.concurrency_matrix(), None);
}

#[test]
fn retreaver_get_all_targets() {
    assert_jason_cell(&load("retreaver-get-all-targets.json", Format::Retreaver));
}

#[test]
fn retreaver_get_target() {
    assert_jason_cell(&load("retreaver-get-target.json", Format::Retreaver));
}

#[test]
fn retreaver_create_target_response() {
    let c = load("retreaver-create-target-response.json", Format::Retreaver);
    let t = &c.targets[0];
    assert_eq!(t.id, "22592");
    assert_eq!(t.name.as_deref(), Some("Retreaver Support"));
    assert_eq!(t.zone.tz(), Tz::Etc__UTC, "Rails \"UTC\" maps to Etc/UTC");
    assert_eq!(&*t.zone_name, "UTC");
    assert_eq!(t.limits(), Limits::default(), "all four caps are null");
    assert_eq!(t.usage(), Usage::default());
    assert_eq!(t.hours.as_deref().cloned(), all_days_open());
}

#[test]
fn retreaver_update_target_response_is_paused() {
    let c = load("retreaver-update-target-response.json", Format::Retreaver);
    assert_eq!(c.targets.len(), 1);
    assert_eq!(c.targets[0].id, "22592");
    assert!(c.targets[0].paused);
    assert_eq!(c.targets[0].zone.tz(), Tz::UTC, "missing zone is UTC");
}

#[test]
fn retreaver_tag_target_response() {
    let c = load("retreaver-tag-target-response.json", Format::Retreaver);
    assert_eq!(c.targets[0].id, "22592");
    assert_eq!(c.targets[0].name.as_deref(), Some("Retreaver Support"));
    assert!(!c.targets[0].paused);
}

#[test]
fn retreaver_change_target_caps_response() {
    let c = load(
        "retreaver-change-target-caps-response.json",
        Format::Retreaver,
    );
    assert_eq!(c.targets[0].limits(), hard_cap(100));
    assert_eq!(c.targets[0].usage(), Usage::default());
}

#[test]
fn retreaver_txt_create_request_uses_client_tid_and_attributes() {
    let c = load(
        "retreaver-txt-create-target-request.json",
        Format::Retreaver,
    );
    let t = &c.targets[0];
    assert_eq!(t.id, "2");
    assert_eq!(t.name, None);
    assert_eq!(t.limits(), hard_cap(100));
    assert_eq!(t.hours.as_deref().cloned(), all_days_open());
}

#[test]
fn retreaver_txt_create_response_wednesday_closes_at_noon() {
    let c = load(
        "retreaver-txt-create-target-response.json",
        Format::Retreaver,
    );
    let t = &c.targets[0];
    assert_eq!(t.id, "7");
    assert_eq!(t.limits(), hard_cap(100));
    let mut days = [day(0, 1440, false); 7];
    days[3] = day(0, 720, false);
    assert_eq!(t.hours.as_deref().cloned(), Some(WeeklyHours::new(days)));
}

#[test]
fn retreaver_txt_hard_cap_request_has_no_id() {
    let e = parse_config(
        &bytes("retreaver-txt-hard-cap-request.json"),
        "cap.json",
        None,
    )
    .unwrap_err();
    assert_eq!(e.path(), "target.id");
    assert_eq!(e.value(), "");
    assert_eq!(
        e.to_string(),
        "cap.json: target.id: is missing: a Retreaver target needs an \"id\" (or a \"tid\" / \"client_tid\")"
    );
}

// ---------- Retreaver target groups ----------

/// A group file: target ids/names synthesized from the embedded list.
fn assert_group(c: &Config, name: &str, members: &[(&str, &str)], limits: Limits) {
    let ids: Vec<(&str, Option<&str>)> = c
        .targets
        .iter()
        .map(|t| (t.id.as_str(), t.name.as_deref()))
        .collect();
    let want: Vec<(&str, Option<&str>)> = members.iter().map(|(i, n)| (*i, Some(*n))).collect();
    assert_eq!(ids, want);
    assert_eq!(c.groups.len(), 1);
    let g = &c.groups[0];
    assert_eq!(g.id, "1");
    assert_eq!(g.name.as_deref(), Some(name));
    assert_eq!(g.members, (0..members.len()).collect::<Vec<_>>());
    assert_eq!(g.mode, GroupMode::Separate);
    assert_eq!((g.priority, g.weight), (None, None));
    assert_eq!(g.limits, limits);
    assert_eq!(g.usage, Usage::default());
    assert_eq!(g.zone.tz(), Tz::UTC);
    assert!(c
        .targets
        .iter()
        .all(|t| t.priority == 1 && t.weight == 1 && t.limits() == Limits::default()));
}

const ONE_TWO_THREE: [(&str, &str); 3] = [
    ("1", "Jason Cell"),
    ("2", "Office Line"),
    ("3", "Support Line"),
];

#[test]
fn retreaver_groups_get_all() {
    let c = load("retreaver-groups-get-all.json", Format::Retreaver);
    assert_group(&c, "test", &ONE_TWO_THREE, Limits::default());
}

#[test]
fn retreaver_group_get() {
    let c = load("retreaver-group-get.json", Format::Retreaver);
    assert_group(&c, "test", &ONE_TWO_THREE, Limits::default());
}

#[test]
fn retreaver_group_create_response_has_concurrency_cap() {
    let c = load("retreaver-group-create-response.json", Format::Retreaver);
    let l = Limits {
        concurrency: Some(5),
        ..Limits::default()
    };
    assert_group(&c, "test", &ONE_TWO_THREE, l);
}

#[test]
fn retreaver_group_update_response() {
    let c = load("retreaver-group-update-response.json", Format::Retreaver);
    let l = Limits {
        concurrency: Some(5),
        ..Limits::default()
    };
    assert_group(&c, "hello", &ONE_TWO_THREE, l);
}

#[test]
fn retreaver_group_replace_targets_response() {
    let c = load(
        "retreaver-group-replace-targets-response.json",
        Format::Retreaver,
    );
    let l = Limits {
        concurrency: Some(5),
        ..Limits::default()
    };
    assert_group(
        &c,
        "hello",
        &[("5", "New Target A"), ("6", "New Target B")],
        l,
    );
}

#[test]
fn retreaver_group_add_targets_response() {
    let c = load(
        "retreaver-group-add-targets-response.json",
        Format::Retreaver,
    );
    let l = Limits {
        concurrency: Some(5),
        ..Limits::default()
    };
    let mut m = ONE_TWO_THREE.to_vec();
    m.push(("4", "Backup Line"));
    assert_group(&c, "hello", &m, l);
}

#[test]
fn retreaver_group_remove_targets_response() {
    let c = load(
        "retreaver-group-remove-targets-response.json",
        Format::Retreaver,
    );
    let l = Limits {
        concurrency: Some(5),
        ..Limits::default()
    };
    assert_group(
        &c,
        "hello",
        &[("2", "Office Line"), ("3", "Support Line")],
        l,
    );
}

#[test]
fn retreaver_group_change_caps_response() {
    let c = load(
        "retreaver-group-change-caps-response.json",
        Format::Retreaver,
    );
    assert_group(&c, "test", &ONE_TWO_THREE, hard_cap(100));
}

// ---------- Ringba ----------

const TEST_TARGET: &str = "TA2f6961e921ef4b92b7304dd76db8336f";

#[test]
fn ringba_get_targets() {
    let c = load("ringba-get-targets.json", Format::Ringba);
    assert_eq!(c.targets.len(), 1);
    assert!(c.groups.is_empty());
    let t = &c.targets[0];
    assert_eq!(t.id, TEST_TARGET);
    assert_eq!(t.name.as_deref(), Some("Ringba Test Target"));
    assert_eq!(t.trigger, Trigger::Convert);
    assert_eq!(t.zone.tz(), Tz::Europe__Paris);
    assert_eq!(&*t.zone_name, "Romance Standard Time");
    assert_eq!(t.limits(), Limits::default(), "every cap is -1");
    assert_eq!(
        (t.hours.clone(), t.concurrency_matrix().cloned()),
        (None, None)
    );
    assert_eq!((t.paused, t.priority, t.weight), (false, 1, 1));
    assert_eq!(t.usage(), Usage::default());
}

#[test]
fn ringba_get_target_with_stats_and_group() {
    let c = load("ringba-get-target-with-stats.json", Format::Ringba);
    assert_eq!(c.targets.len(), 1);
    let t = &c.targets[0];
    assert_eq!(t.id, TEST_TARGET);
    assert_eq!(t.trigger, Trigger::Convert);
    assert_eq!(t.zone.tz(), Tz::Europe__Paris);
    // stats keyed "tA2f69…": matched case-insensitively
    assert_eq!(
        t.usage(),
        Usage {
            total: 11,
            monthly: 5,
            ..Usage::default()
        }
    );
    assert_eq!(c.groups.len(), 1);
    let g = &c.groups[0];
    assert_eq!(g.id, "TA234457e6f96945cfa312938d4e358015");
    assert_eq!(g.members, vec![0]);
    assert_eq!(g.mode, GroupMode::Separate);
    assert_eq!(g.limits, Limits::default());
    assert_eq!(g.usage, Usage::default());
}

#[test]
fn ringba_counts_alone_is_an_empty_config() {
    let c = load("ringba-target-counts.json", Format::Ringba);
    assert!(c.targets.is_empty() && c.groups.is_empty());
}

fn nine_to_five(closed: [bool; 7]) -> Option<WeeklyHours> {
    Some(WeeklyHours::new(closed.map(|c| day(540, 1020, c))))
}

#[test]
fn ringba_example_all_parameters() {
    let c = load("ringba-example-all-parameters.json", Format::Ringba);
    let t = &c.targets[0];
    assert_eq!(t.id, "TA8d775849ba6849d9995ca0db97702609");
    assert_eq!(t.trigger, Trigger::Connect);
    assert_eq!(t.zone.tz(), Tz::Pacific__Honolulu);
    assert_eq!(
        t.limits(),
        Limits {
            hourly: Some(3),
            daily: Some(21),
            monthly: Some(250),
            total: Some(2000),
            concurrency: Some(2),
            ..Limits::default()
        }
    );
    assert_eq!(t.hours.as_deref().cloned(), nine_to_five([false; 7]));
    assert_eq!(t.concurrency_matrix(), None);
}

#[test]
fn ringba_example_hours_of_operation_sunday_first() {
    let c = load("ringba-example-hours-of-operation.json", Format::Ringba);
    let t = &c.targets[0];
    assert_eq!(t.id, "TA37d7871f1ad34525a073697e0a849b46");
    assert_eq!(t.trigger, Trigger::Convert);
    assert_eq!(t.limits(), Limits::default());
    assert_eq!(
        t.hours.as_deref().cloned(),
        nine_to_five([true, false, false, false, false, false, true])
    );
}

#[test]
fn ringba_example_concurrency_matrix() {
    let c = load("ringba-example-concurrency-matrix.json", Format::Ringba);
    let t = &c.targets[0];
    assert_eq!(t.id, "TA904a869ef552438b953647384b2d7af2");
    assert_eq!(t.limits(), Limits::default());
    let m = t.concurrency_matrix().expect("matrix");
    for d in 0..7u32 {
        for h in 0..24u32 {
            let want = ((1..=5).contains(&d) && (9..=17).contains(&h)).then_some(2);
            assert_eq!(m.limit(d, h), want, "day {d} hour {h}");
        }
    }
}

#[test]
fn ringba_reference_examples_each_parse() {
    let all: serde_json::Value =
        serde_json::from_slice(&bytes("ringba-target-examples.json")).unwrap();
    let map = all.as_object().unwrap();
    assert_eq!(map.len(), 3);
    for (k, v) in map {
        let c = routecap_core::formats::parse_value(v, k, Format::Ringba)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.targets.len(), 1, "{k}");
        assert_eq!(c.targets[0].zone.tz(), Tz::Pacific__Honolulu, "{k}");
    }
}
