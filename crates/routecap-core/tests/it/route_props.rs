//! Laws of route plans, by proptest.

use crate::route_util;

use std::num::NonZeroU64;

use proptest::prelude::*;
use route_util::{group, report, step_priority, step_ref, step_weight, target};
use routecap_core::eligibility::CandidateReport;
use routecap_core::model::{CandidateRef, Config};
use routecap_core::route::{plan, rng_from_seed, uniform_below, Planner, Step};

/// A candidate: `(priority, weight, eligible, Some(eligible member count))`
/// for a simultaneous group of 3 members, `None` for a target.
type Cand = (i32, u32, bool, Option<usize>);

fn cand() -> impl Strategy<Value = Cand> {
    (
        -3i32..4,
        prop_oneof![4 => 0u32..4, 1 => Just(u32::MAX), 1 => any::<u32>()],
        prop::bool::weighted(0.8),
        prop_oneof![4 => Just(None), 1 => (0usize..=3).prop_map(Some)],
    )
}

fn build(cands: &[Cand]) -> (Config, Vec<CandidateReport>) {
    let mut config = Config::default();
    let mut reports = Vec::new();
    for (i, &(p, w, eligible, members)) in cands.iter().enumerate() {
        match members {
            None => {
                config.targets.push(target(&format!("t{i}"), p, w));
                reports.push(report(
                    CandidateRef::Target(config.targets.len() - 1),
                    eligible,
                    vec![],
                ));
            }
            Some(k) => {
                let first = config.targets.len();
                for m in 0..3 {
                    config.targets.push(target(&format!("g{i}m{m}"), 1, 1));
                }
                let g = config.groups.len();
                config.groups.push(group(
                    &format!("g{i}"),
                    (first..first + 3).collect(),
                    Some(p),
                    Some(w),
                ));
                reports.push(report(
                    CandidateRef::Group(g),
                    eligible,
                    (first..first + k).collect(),
                ));
            }
        }
    }
    (config, reports)
}

/// What the planner must keep: eligible, and a group needs a member.
fn expected(reports: &[CandidateReport]) -> Vec<CandidateRef> {
    let mut out: Vec<CandidateRef> = reports
        .iter()
        .filter(|r| {
            r.eligible
                && (matches!(r.candidate, CandidateRef::Target(_))
                    || !r.eligible_members.is_empty())
        })
        .map(|r| r.candidate)
        .collect();
    out.sort();
    out
}

proptest! {
    #[test]
    fn plan_is_a_permutation_of_eligible_in_ascending_tiers(
        cands in prop::collection::vec(cand(), 0..40),
        seed in any::<u64>(),
    ) {
        let (config, reports) = build(&cands);
        let steps = plan(&config, &reports, &mut rng_from_seed(seed));
        let mut got: Vec<CandidateRef> = steps.iter().map(step_ref).collect();
        got.sort();
        prop_assert_eq!(got, expected(&reports));
        for pair in steps.windows(2) {
            let (a, b) = (step_priority(&config, &pair[0]), step_priority(&config, &pair[1]));
            prop_assert!(a <= b, "priority {} before {}", a, b);
            if a == b {
                // Within a tier, weight 0 never precedes a positive weight.
                prop_assert!(step_weight(&config, &pair[0]) > 0 || step_weight(&config, &pair[1]) == 0);
            }
        }
        for s in &steps {
            if let Step::Group { group, members } = s {
                let rep = reports.iter().find(|r| r.candidate == CandidateRef::Group(*group)).unwrap();
                prop_assert_eq!(*members, &rep.eligible_members[..]);
            }
        }
    }

    #[test]
    fn lazy_prefix_equals_full_plan_prefix(
        cands in prop::collection::vec(cand(), 0..30),
        seed in any::<u64>(),
        take in 0usize..8,
    ) {
        let (config, reports) = build(&cands);
        let full = plan(&config, &reports, &mut rng_from_seed(seed));
        let mut planner = Planner::new();
        let mut rng = rng_from_seed(seed);
        let prefix: Vec<Step> = planner.lazy(&config, &reports, &mut rng).take(take).collect();
        prop_assert_eq!(&prefix[..], &full[..take.min(full.len())]);
        // Same planner again, same seed: same plan (no state leaks between plans).
        let again: Vec<Step> = planner.lazy(&config, &reports, &mut rng_from_seed(seed)).collect();
        prop_assert_eq!(again, full);
    }

    #[test]
    fn uniform_below_stays_in_range(seed in any::<u64>(), bound in 1u64..=u64::MAX) {
        let mut rng = rng_from_seed(seed);
        let bound = NonZeroU64::new(bound).unwrap();
        for _ in 0..16 {
            prop_assert!(uniform_below(&mut rng, bound) < bound.get());
        }
        prop_assert_eq!(uniform_below(&mut rng, NonZeroU64::MIN), 0);
    }
}
