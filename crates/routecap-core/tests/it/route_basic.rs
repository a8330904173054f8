//! Route plan scenarios: dropping, tiers, group steps, defensive
//! skipping, planner reuse, and complexity bounds via the work counter.

use crate::route_util;

use route_util::{group, report, step_priority, step_ref, target, targets};
use routecap_core::model::{CandidateRef, Config};
use routecap_core::route::{plan, rng_from_seed, Planner, Step};

#[test]
fn no_eligible_candidate_gives_an_empty_plan() {
    let (config, reports) = targets(&[(1, 1, false), (2, 5, false)]);
    assert!(plan(&config, &reports, &mut rng_from_seed(1)).is_empty());
    assert!(plan(&config, &[], &mut rng_from_seed(1)).is_empty());
}

#[test]
fn tiers_come_in_ascending_priority_with_negatives_first() {
    let (config, reports) = targets(&[
        (3, 1, true),
        (-2, 1, true),
        (0, 9, true),
        (3, 4, true),
        (-2, 0, true),
    ]);
    for seed in 0..50 {
        let steps = plan(&config, &reports, &mut rng_from_seed(seed));
        let prios: Vec<i32> = steps.iter().map(|s| step_priority(&config, s)).collect();
        assert_eq!(prios, vec![-2, -2, 0, 3, 3], "seed {seed}");
        // Tier -2: t1 (weight 1) always before t4 (weight 0).
        assert_eq!(&steps[..2], &[Step::Target(1), Step::Target(4)]);
        assert_eq!(steps[2], Step::Target(2));
    }
}

#[test]
fn same_seed_same_plan_and_seeds_vary_the_order() {
    let spec: Vec<_> = (0..10).map(|_| (1, 1, true)).collect();
    let (config, reports) = targets(&spec);
    let a = plan(&config, &reports, &mut rng_from_seed(5));
    assert_eq!(a, plan(&config, &reports, &mut rng_from_seed(5)));
    let distinct: std::collections::BTreeSet<Vec<CandidateRef>> = (0..20)
        .map(|s| {
            plan(&config, &reports, &mut rng_from_seed(s))
                .iter()
                .map(step_ref)
                .collect()
        })
        .collect();
    assert!(
        distinct.len() > 10,
        "only {} distinct orders",
        distinct.len()
    );
}

#[test]
fn group_step_carries_its_eligible_members() {
    let config = Config {
        targets: vec![
            target("a", 2, 1),
            target("m1", 1, 1),
            target("m2", 1, 1),
            target("m3", 1, 1),
        ],
        groups: vec![group("g", vec![1, 2, 3], Some(1), None)],
        ..Config::default()
    };
    let reports = vec![
        report(CandidateRef::Target(0), true, vec![]),
        report(CandidateRef::Group(0), true, vec![1, 3]),
    ];
    let steps = plan(&config, &reports, &mut rng_from_seed(9));
    assert_eq!(
        steps,
        vec![
            Step::Group {
                group: 0,
                members: &[1, 3]
            },
            Step::Target(0)
        ]
    );
}

#[test]
fn dangling_indices_and_memberless_groups_are_skipped() {
    let config = Config {
        targets: vec![target("a", 1, 1), target("m", 1, 1)],
        groups: vec![group("g", vec![1], None, None)],
        ..Config::default()
    };
    let reports = vec![
        report(CandidateRef::Target(7), true, vec![]),
        report(CandidateRef::Group(0), true, vec![]),
        report(CandidateRef::Group(3), true, vec![1]),
        report(CandidateRef::Target(0), true, vec![]),
    ];
    let steps = plan(&config, &reports, &mut rng_from_seed(0));
    assert_eq!(steps, vec![Step::Target(0)]);
}

#[test]
fn reused_planner_matches_a_fresh_one() {
    let (big, big_reports) = targets(
        &(0..300)
            .map(|i| (i % 7, (i % 5) as u32, i % 3 != 0))
            .collect::<Vec<_>>(),
    );
    let (small, small_reports) = targets(&[(2, 3, true), (1, 0, true), (2, 1, true), (1, 2, true)]);
    let mut planner = Planner::new();
    for seed in 0..20 {
        let mut rng = rng_from_seed(seed);
        let _ = planner.lazy(&big, &big_reports, &mut rng).take(3).count();
        let reused: Vec<Step> = planner
            .lazy(&small, &small_reports, &mut rng_from_seed(seed))
            .collect();
        assert_eq!(
            reused,
            plan(&small, &small_reports, &mut rng_from_seed(seed)),
            "seed {seed}"
        );
    }
}

#[test]
fn lazy_plan_reports_its_exact_remaining_length() {
    let (config, reports) = targets(&[(1, 1, true), (1, 0, true), (2, 1, false), (3, 2, true)]);
    let mut planner = Planner::new();
    let mut rng = rng_from_seed(3);
    let mut lazy = planner.lazy(&config, &reports, &mut rng);
    for left in (0..=3).rev() {
        assert_eq!(lazy.len(), left);
        assert_eq!(lazy.next().is_some(), left > 0);
    }
    assert_eq!(lazy.next(), None);
}

/// ⌈log2(n + 1)⌉: Fenwick nodes visited by one search or update.
fn log2_ceil(n: usize) -> u64 {
    u64::from(usize::BITS - n.leading_zeros())
}

#[test]
fn first_steps_of_a_10k_tier_cost_linear_start_plus_log_per_step() {
    let n = 10_000;
    let spec: Vec<_> = (0..n).map(|i| (1, (i % 13) as u32 + 1, true)).collect();
    let (config, reports) = targets(&spec);
    let mut planner = Planner::new();
    let mut rng = rng_from_seed(1);
    let steps: Vec<Step> = planner.lazy(&config, &reports, &mut rng).take(5).collect();
    assert_eq!(steps.len(), 5);
    // Start: scan + keys + tier moved into the wheel (3n); each step: one
    // search and one update.
    let bound = 3 * n as u64 + 5 * 2 * log2_ceil(n);
    assert!(planner.work() <= bound, "work {} > {bound}", planner.work());
}

#[test]
fn a_full_plan_is_n_log_n_even_with_one_tier_per_candidate() {
    let n = 10_000;
    for spec in [
        (0..n).map(|i| (i as i32, 1, true)).collect::<Vec<_>>(),
        (0..n)
            .map(|i| (1, (i % 3) as u32, true))
            .collect::<Vec<_>>(),
    ] {
        let (config, reports) = targets(&spec);
        let mut planner = Planner::new();
        let mut rng = rng_from_seed(2);
        assert_eq!(planner.lazy(&config, &reports, &mut rng).count(), n);
        // Per candidate: a heap pop, a wheel slot (twice for weight 0), one
        // search and one update; n² would be 10^8.
        let bound = 4 * n as u64 + n as u64 * (4 * log2_ceil(n) + 2);
        assert!(planner.work() <= bound, "work {} > {bound}", planner.work());
    }
}
