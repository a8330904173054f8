//! Scenario tests for cap counters, triggers, windows and the call lifecycle.

use crate::caps_support;

use caps_support::*;
use routecap_core::caps::{ConcurrencyMatrix, Trigger, Usage};
use routecap_core::eligibility::{check, target_reasons, Amount, Reason, ReasonCode};
use routecap_core::lifecycle::{ConnectOutcome, LifecycleError, State};
use routecap_core::model::{CandidateRef, Config};
use routecap_core::money::Money;
use routecap_core::zone::Instant;

fn reasons(cfg: &Config, st: &State, t: usize, at: Instant) -> Vec<Reason> {
    let mut out = Vec::new();
    target_reasons(cfg, st, t, at, &mut out);
    out
}

fn codes(rs: &[Reason]) -> Vec<String> {
    rs.iter().map(|r| r.code_string()).collect()
}

fn connected(st: &mut State, cfg: &Config, call: &str, t: usize, at: Instant) {
    assert_eq!(
        st.connect(cfg, call, t, at),
        Ok(ConnectOutcome::Connected),
        "{call}"
    );
}

#[test]
fn daily_cap_in_new_york_lifts_at_local_midnight() {
    let mut t = target("a");
    t.zone = new_york();
    t.limits_mut().daily = Some(2);
    let cfg = config(vec![t], vec![]);
    let mut st = State::new(&cfg);
    connected(&mut st, &cfg, "c1", 0, utc(2026, 11, 22, 15, 0));
    connected(&mut st, &cfg, "c2", 0, utc(2026, 11, 22, 16, 0));
    let out = st.connect(&cfg, "c3", 0, utc(2026, 11, 23, 4, 59)).unwrap();
    let expected = Reason {
        code: ReasonCode::DailyCap,
        group: None,
        used: Some(Amount::Count(2)),
        limit: Some(Amount::Count(2)),
        until: Some(utc(2026, 11, 23, 5, 0)),
        detail: None,
    };
    assert_eq!(out, ConnectOutcome::Refused(vec![expected]));
    // 00:00 local = 05:00Z: a new day window
    connected(&mut st, &cfg, "c3", 0, utc(2026, 11, 23, 5, 0));
    assert_eq!(
        st.usage(&cfg, CandidateRef::Target(0), utc(2026, 11, 23, 5, 0))
            .daily,
        1
    );
    assert_eq!(
        st.usage(&cfg, CandidateRef::Target(0), utc(2026, 11, 23, 5, 0))
            .total,
        3
    );
}

#[test]
fn fall_back_night_has_two_hourly_windows() {
    let mut t = target("a");
    t.zone = new_york();
    t.limits_mut().hourly = Some(1);
    let cfg = config(vec![t], vec![]);
    let mut st = State::new(&cfg);
    // 01:30 EDT = 05:30Z
    connected(&mut st, &cfg, "c1", 0, utc(2026, 11, 1, 5, 30));
    let rs = reasons(&cfg, &st, 0, utc(2026, 11, 1, 5, 59));
    assert_eq!(codes(&rs), ["hourly_cap"]);
    assert_eq!(rs[0].until, Some(utc(2026, 11, 1, 6, 0)));
    // 01:00 EST = 06:00Z: the second 01:00 window, fresh
    assert!(reasons(&cfg, &st, 0, utc(2026, 11, 1, 6, 0)).is_empty());
    connected(&mut st, &cfg, "c2", 0, utc(2026, 11, 1, 6, 10));
}

#[test]
fn count_lands_in_the_window_of_the_counting_event() {
    // trigger connect: connect 10:59, convert 11:02 -> count in 10:00, revenue in 11:00
    let mut t = target("a");
    t.limits_mut().hourly = Some(1);
    t.limits_mut().hourly_revenue = Some(money("10"));
    let cfg = config(vec![t], vec![]);
    let mut st = State::new(&cfg);
    connected(&mut st, &cfg, "c1", 0, utc(2026, 1, 5, 10, 59));
    let at10 = st.usage(&cfg, CandidateRef::Target(0), utc(2026, 1, 5, 10, 59));
    assert_eq!((at10.hourly, at10.hourly_revenue), (1, Money::ZERO));
    st.convert(&cfg, "c1", money("10.00"), utc(2026, 1, 5, 11, 2))
        .unwrap();
    let at11 = st.usage(&cfg, CandidateRef::Target(0), utc(2026, 1, 5, 11, 30));
    assert_eq!((at11.hourly, at11.hourly_revenue), (0, money("10")));
    let rs = reasons(&cfg, &st, 0, utc(2026, 1, 5, 11, 30));
    assert_eq!(codes(&rs), ["hourly_revenue_cap"]);
    assert_eq!(rs[0].used, Some(Amount::Money(Money(1000))));
    assert_eq!(rs[0].until, Some(utc(2026, 1, 5, 12, 0)));
}

#[test]
fn convert_and_revenue_triggers() {
    let mut a = target("conv");
    a.trigger = Trigger::Convert;
    a.limits_mut().total = Some(10);
    let mut b = target("rev");
    b.trigger = Trigger::Revenue;
    b.limits_mut().total = Some(10);
    let cfg = config(vec![a, b], vec![]);
    let mut st = State::new(&cfg);
    let at = utc(2026, 3, 1, 12, 0);
    let total = |st: &State, t| st.usage(&cfg, CandidateRef::Target(t), at).total;
    for (call, t) in [("a1", 0), ("a2", 0), ("b1", 1), ("b2", 1)] {
        connected(&mut st, &cfg, call, t, at);
    }
    assert_eq!(
        (total(&st, 0), total(&st, 1)),
        (0, 0),
        "connect does not count"
    );
    st.convert(&cfg, "a1", Money::ZERO, at).unwrap();
    st.convert(&cfg, "b1", Money::ZERO, at).unwrap();
    assert_eq!(
        (total(&st, 0), total(&st, 1)),
        (1, 0),
        "revenue trigger needs revenue > 0"
    );
    st.convert(&cfg, "b2", money("0.01"), at).unwrap();
    assert_eq!(total(&st, 1), 1);
    assert!(st.call("b2").unwrap().counted);
    assert!(!st.call("b1").unwrap().counted);
    assert!(!st.call("a2").unwrap().counted);
}

#[test]
fn convert_after_end_is_allowed() {
    let mut t = target("a");
    t.trigger = Trigger::Convert;
    let cfg = config(vec![t], vec![]);
    let mut st = State::new(&cfg);
    connected(&mut st, &cfg, "c", 0, utc(2026, 3, 1, 12, 0));
    st.end(&cfg, "c", utc(2026, 3, 1, 12, 5)).unwrap();
    st.convert(&cfg, "c", money("3.50"), utc(2026, 3, 1, 13, 0))
        .unwrap();
    let u = st.usage(&cfg, CandidateRef::Target(0), utc(2026, 3, 1, 13, 0));
    assert_eq!(
        (u.hourly, u.total, u.total_revenue, u.live),
        (1, 1, Money(350), 0)
    );
}

#[test]
fn imported_usage_belongs_to_the_windows_of_as_of() {
    let mut t = target("a");
    t.limits_mut().hourly = Some(3);
    t.limits_mut().daily = Some(5);
    *t.usage_mut() = Usage {
        hourly: 3,
        daily: 5,
        total: 9,
        ..Usage::default()
    };
    let mut cfg = config(vec![t], vec![]);
    cfg.as_of = Some(utc(2026, 6, 1, 10, 30));
    let st = State::new(&cfg);
    assert_eq!(
        codes(&reasons(&cfg, &st, 0, utc(2026, 6, 1, 10, 45))),
        ["hourly_cap", "daily_cap"]
    );
    let later = reasons(&cfg, &st, 0, utc(2026, 6, 1, 11, 5));
    assert_eq!(codes(&later), ["daily_cap"]);
    assert_eq!(later[0].until, Some(utc(2026, 6, 2, 0, 0)));
    assert_eq!(
        st.usage(&cfg, CandidateRef::Target(0), utc(2026, 6, 2, 0, 0))
            .total,
        9
    );
}

#[test]
fn imported_usage_without_as_of_anchors_at_first_event() {
    let mut t = target("a");
    t.limits_mut().hourly = Some(2);
    t.usage_mut().hourly = 1;
    let cfg = config(vec![t.clone()], vec![]);
    let st = State::new(&cfg);
    // checks before any event read the import as current, whatever the hour
    for h in [3, 17] {
        assert_eq!(
            st.usage(&cfg, CandidateRef::Target(0), utc(2026, 6, 1, h, 0))
                .hourly,
            1
        );
    }
    let mut st = State::new(&cfg);
    connected(&mut st, &cfg, "c1", 0, utc(2026, 6, 1, 17, 20));
    assert_eq!(
        codes(&reasons(&cfg, &st, 0, utc(2026, 6, 1, 17, 30))),
        ["hourly_cap"]
    );
    assert!(reasons(&cfg, &st, 0, utc(2026, 6, 1, 18, 0)).is_empty());
    // new_at anchors explicitly
    let st = State::new_at(&cfg, utc(2026, 6, 1, 9, 0));
    assert_eq!(
        st.usage(&cfg, CandidateRef::Target(0), utc(2026, 6, 1, 9, 59))
            .hourly,
        1
    );
    assert_eq!(
        st.usage(&cfg, CandidateRef::Target(0), utc(2026, 6, 1, 10, 0))
            .hourly,
        0
    );
}

#[test]
fn group_caps_count_calls_counted_on_any_member() {
    let mut a = target("a");
    a.trigger = Trigger::Convert;
    let b = target("b");
    let mut g = group("g", &[0, 1]);
    g.zone = new_york();
    g.limits.daily = Some(2);
    let cfg = config(vec![a, b], vec![g]);
    let mut st = State::new(&cfg);
    let at = utc(2026, 11, 22, 15, 0);
    connected(&mut st, &cfg, "a1", 0, at);
    connected(&mut st, &cfg, "b1", 1, at);
    assert!(
        reasons(&cfg, &st, 0, at).is_empty(),
        "a1 not counted until converted"
    );
    st.convert(&cfg, "a1", Money::ZERO, at).unwrap();
    let rs = reasons(&cfg, &st, 0, at);
    assert_eq!(codes(&rs), ["group_daily_cap"]);
    assert_eq!(rs[0].group, Some(0));
    assert_eq!(rs[0].until, Some(utc(2026, 11, 23, 5, 0)));
    assert_eq!(codes(&reasons(&cfg, &st, 1, at)), ["group_daily_cap"]);
    let out = st.connect(&cfg, "b2", 1, at).unwrap();
    assert!(matches!(out, ConnectOutcome::Refused(ref r) if codes(r) == ["group_daily_cap"]));
}

#[test]
fn concurrency_is_released_by_end_only() {
    let mut t = target("a");
    t.limits_mut().concurrency = Some(1);
    let mut g = group("g", &[0]);
    g.limits.concurrency = Some(1);
    let cfg = config(vec![t], vec![g]);
    let mut st = State::new(&cfg);
    let at = utc(2026, 2, 2, 9, 0);
    connected(&mut st, &cfg, "c1", 0, at);
    let ConnectOutcome::Refused(rs) = st.connect(&cfg, "c2", 0, at).unwrap() else {
        panic!("must refuse")
    };
    assert_eq!(codes(&rs), ["concurrency_cap", "group_concurrency_cap"]);
    assert_eq!((rs[0].used, rs[0].until), (Some(Amount::Count(1)), None));
    st.convert(&cfg, "c1", money("1"), at).unwrap();
    assert_eq!(
        reasons(&cfg, &st, 0, at).len(),
        2,
        "convert does not release"
    );
    st.end(&cfg, "c1", at).unwrap();
    connected(&mut st, &cfg, "c2", 0, at);
}

#[test]
fn concurrency_matrix_cell_replaces_the_plain_limit() {
    let mut t = target("a");
    t.zone = new_york();
    t.limits_mut().concurrency = Some(5);
    let mut cells = [[None; 24]; 7];
    cells[1][9] = Some(0); // Monday 09:00-10:00 local: nothing
    t.extras.get_mut().concurrency_matrix = Some(ConcurrencyMatrix(Box::new(cells)));
    let cfg = config(vec![t], vec![]);
    let st = State::new(&cfg);
    // Monday 2026-11-23 09:30 EST = 14:30Z
    let rs = reasons(&cfg, &st, 0, utc(2026, 11, 23, 14, 30));
    assert_eq!(codes(&rs), ["concurrency_cap"]);
    assert_eq!(rs[0].limit, Some(Amount::Count(0)));
    // 10:00 local: the cell is None = unlimited (the plain 5 does not apply either)
    assert!(reasons(&cfg, &st, 0, utc(2026, 11, 23, 15, 0)).is_empty());
}

#[test]
fn every_reason_is_reported_with_until() {
    let mut t = target("a");
    t.paused = true;
    t.hours = Some(daily_hours(9 * 60, 17 * 60).into());
    t.limits_mut().daily = Some(0);
    t.limits_mut().total = Some(0);
    t.limits_mut().total_revenue = Some(Money::ZERO);
    let mut g = group("g", &[0]);
    g.hours = Some(daily_hours(10 * 60, 12 * 60).into());
    g.limits.monthly = Some(0);
    let cfg = config(vec![t], vec![g]);
    let st = State::new(&cfg);
    let rs = reasons(&cfg, &st, 0, utc(2026, 2, 10, 20, 0));
    assert_eq!(
        codes(&rs),
        [
            "paused",
            "closed",
            "daily_cap",
            "total_cap",
            "total_revenue_cap",
            "group_closed",
            "group_monthly_cap"
        ]
    );
    let until: Vec<_> = rs.iter().map(|r| r.until).collect();
    assert_eq!(
        until,
        [
            None,
            Some(utc(2026, 2, 11, 9, 0)),
            Some(utc(2026, 2, 11, 0, 0)),
            None,
            None,
            Some(utc(2026, 2, 11, 10, 0)),
            Some(utc(2026, 3, 1, 0, 0)),
        ]
    );
}

#[test]
fn simultaneous_group_candidate() {
    use routecap_core::model::GroupMode;
    let mut a = target("a");
    a.limits_mut().total = Some(1);
    let b = target("b");
    let mut g = group("sim", &[0, 1]);
    g.mode = GroupMode::Simultaneous;
    let mut other = group("other", &[1]);
    other.limits.daily = Some(0);
    let cfg = config(vec![a, b], vec![g, other]);
    let mut st = State::new(&cfg);
    let at = utc(2026, 4, 1, 12, 0);
    let reports = check(&cfg, &st, at);
    assert_eq!(
        reports.len(),
        1,
        "members of a simultaneous group are not candidates"
    );
    assert_eq!(reports[0].candidate, CandidateRef::Group(0));
    assert!(reports[0].eligible);
    assert_eq!(
        reports[0].eligible_members,
        [0],
        "b is blocked by its other group"
    );
    connected(&mut st, &cfg, "c1", 0, at);
    let r = &check(&cfg, &st, at)[0];
    assert!(!r.eligible);
    assert!(r.eligible_members.is_empty());
    assert_eq!(codes(&r.reasons), ["no_eligible_member"]);
    assert_eq!(
        r.reasons[0].group, None,
        "the group is the candidate itself"
    );
}

#[test]
fn simultaneous_group_own_cap_blocks_it_but_members_are_listed() {
    use routecap_core::model::GroupMode;
    let mut g = group("sim", &[0]);
    g.mode = GroupMode::Simultaneous;
    g.limits.hourly = Some(0);
    let cfg = config(vec![target("a")], vec![g]);
    let st = State::new(&cfg);
    let r = &check(&cfg, &st, utc(2026, 4, 1, 12, 0))[0];
    assert!(!r.eligible);
    assert_eq!(
        codes(&r.reasons),
        ["hourly_cap"],
        "the group's own reasons carry no group_ prefix: it is the candidate"
    );
    assert_eq!(r.eligible_members, [0]);
}

#[test]
fn errors_change_nothing() {
    let cfg = config(vec![target("a"), target("b")], vec![]);
    let mut st = State::new(&cfg);
    let at = utc(2026, 5, 5, 5, 5);
    type E = LifecycleError;
    assert_eq!(st.end(&cfg, "x", at), Err(E::UnknownCall("x".into())));
    assert_eq!(
        st.convert(&cfg, "x", Money(1), at),
        Err(E::UnknownCall("x".into()))
    );
    connected(&mut st, &cfg, "c", 0, at);
    let before = st.clone();
    assert_eq!(
        st.connect(&cfg, "c", 1, at),
        Err(E::AlreadyConnected("c".into()))
    );
    assert_eq!(
        st.convert(&cfg, "c", Money(-1), at),
        Err(E::NegativeRevenue(Money(-1)))
    );
    assert_eq!(st.connect(&cfg, "d", 7, at), Err(E::UnknownTarget(7)));
    assert_eq!(st.reset_group(&cfg, 0), Err(E::UnknownGroup(0)));
    let far = utc(2100, 1, 1, 0, 0);
    assert_eq!(st.end(&cfg, "c", far), Err(E::UnsupportedInstant(far)));
    assert_eq!(st.reserve(&cfg, "r", 0, 0, at), Err(E::InvalidTtl(0)));
    assert_eq!(st, before);
    st.convert(&cfg, "c", Money(5), at).unwrap();
    st.end(&cfg, "c", at).unwrap();
    let before = st.clone();
    assert_eq!(st.end(&cfg, "c", at), Err(E::AlreadyEnded("c".into())));
    assert_eq!(
        st.convert(&cfg, "c", Money(5), at),
        Err(E::AlreadyConverted("c".into()))
    );
    assert_eq!(
        st.connect(&cfg, "c", 0, at),
        Err(E::AlreadyConnected("c".into()))
    );
    assert_eq!(st, before);
    assert_eq!(
        E::AlreadyEnded("c".into()).to_string(),
        "call \"c\" already ended"
    );
}

#[test]
fn reservation_holds_capacity_until_expiry() {
    let mut t = target("a");
    t.trigger = Trigger::Convert; // held whatever the trigger
    t.limits_mut().daily = Some(1);
    t.limits_mut().concurrency = Some(5);
    let cfg = config(vec![t], vec![]);
    let mut st = State::new(&cfg);
    let at = utc(2026, 7, 1, 12, 0);
    assert_eq!(
        st.reserve(&cfg, "r1", 0, 30, at),
        Ok(ConnectOutcome::Connected)
    );
    let u = st.usage(&cfg, CandidateRef::Target(0), at);
    assert_eq!((u.daily, u.live, u.total), (1, 1, 1));
    assert_eq!(codes(&reasons(&cfg, &st, 0, at)), ["daily_cap"]);
    assert!(matches!(
        st.reserve(&cfg, "r2", 0, 30, at),
        Ok(ConnectOutcome::Refused(_))
    ));
    assert!(matches!(
        st.connect(&cfg, "c2", 0, at),
        Ok(ConnectOutcome::Refused(_))
    ));
    assert_eq!(
        st.reserve(&cfg, "r1", 0, 30, at),
        Err(LifecycleError::AlreadyExists("r1".into()))
    );
    // expiry is exclusive: at 12:00:30 it no longer holds, even before any sweep
    let exp = at + chrono::TimeDelta::seconds(30);
    assert!(reasons(&cfg, &st, 0, exp - chrono::TimeDelta::seconds(1)).len() == 1);
    assert!(reasons(&cfg, &st, 0, exp).is_empty());
    // an expired reservation is as if it never existed
    assert_eq!(
        st.end(&cfg, "r1", exp),
        Err(LifecycleError::UnknownCall("r1".into()))
    );
    connected(&mut st, &cfg, "r1", 0, exp); // a fresh connect of the same id
    assert!(st.call("r1").is_some());
    assert_eq!(st.usage(&cfg, CandidateRef::Target(0), exp).live, 1);
}

#[test]
fn confirmed_reservation_counts_once_at_connect() {
    let mut t = target("a");
    t.limits_mut().hourly = Some(1);
    t.limits_mut().concurrency = Some(1);
    let mut g = group("g", &[0]);
    g.limits.total = Some(1);
    let cfg = config(vec![t, target("b")], vec![g]);
    let mut st = State::new(&cfg);
    let at = utc(2026, 7, 1, 12, 50);
    assert_eq!(
        st.reserve(&cfg, "r", 0, 900, at),
        Ok(ConnectOutcome::Connected)
    );
    assert_eq!(
        st.connect(&cfg, "r", 1, at),
        Err(LifecycleError::ReservedForOtherTarget {
            call: "r".into(),
            reserved: "a".into()
        })
    );
    // confirmed in the next hour: counted in the 13:00 window only
    let at2 = utc(2026, 7, 1, 13, 1);
    connected(&mut st, &cfg, "r", 0, at2);
    let u = st.usage(&cfg, CandidateRef::Target(0), at2);
    assert_eq!((u.hourly, u.total, u.live), (1, 1, 1));
    assert_eq!(st.usage(&cfg, CandidateRef::Group(0), at2).total, 1);
    assert_eq!(st.usage(&cfg, CandidateRef::Target(0), at).hourly, 0);
    // once the reservation's ttl has passed, nothing changes: it was confirmed
    let late = utc(2026, 7, 1, 13, 30);
    assert_eq!(st.usage(&cfg, CandidateRef::Target(0), late).live, 1);
    st.end(&cfg, "r", late).unwrap();
    assert_eq!(st.usage(&cfg, CandidateRef::Target(0), late).live, 0);
}

#[test]
fn refused_confirmation_keeps_the_reservation() {
    let mut t = target("a");
    t.hours = Some(daily_hours(9 * 60, 12 * 60).into());
    t.limits_mut().concurrency = Some(1);
    let cfg = config(vec![t], vec![]);
    let mut st = State::new(&cfg);
    assert_eq!(
        st.reserve(&cfg, "r", 0, 3600, utc(2026, 7, 1, 11, 55)),
        Ok(ConnectOutcome::Connected)
    );
    let before = st.clone();
    let out = st.connect(&cfg, "r", 0, utc(2026, 7, 1, 12, 5)).unwrap();
    assert!(matches!(out, ConnectOutcome::Refused(ref r) if codes(r) == ["closed"]));
    assert_eq!(st, before);
}

#[test]
fn resets_clear_totals_only() {
    let mut a = target("a");
    a.limits_mut().total = Some(1);
    a.limits_mut().daily = Some(1);
    a.usage_mut().total_revenue = money("5");
    let mut b = target("b");
    b.limits_mut().total = Some(1);
    let mut g = group("g", &[0]);
    g.limits.total = Some(1);
    let cfg = config(vec![a, b], vec![g]);
    let mut st = State::new(&cfg);
    let at = utc(2026, 8, 8, 8, 8);
    connected(&mut st, &cfg, "a1", 0, at);
    connected(&mut st, &cfg, "b1", 1, at);
    assert_eq!(
        codes(&reasons(&cfg, &st, 0, at)),
        ["daily_cap", "total_cap", "group_total_cap"]
    );
    st.reset_target(&cfg, 0).unwrap();
    assert_eq!(
        codes(&reasons(&cfg, &st, 0, at)),
        ["daily_cap", "group_total_cap"]
    );
    assert_eq!(
        st.usage(&cfg, CandidateRef::Target(0), at).total_revenue,
        Money::ZERO
    );
    st.reset_group(&cfg, 0).unwrap();
    assert_eq!(codes(&reasons(&cfg, &st, 0, at)), ["daily_cap"]);
    assert_eq!(
        codes(&reasons(&cfg, &st, 1, at)),
        ["total_cap"],
        "b is not a member"
    );
}
