//! Distribution of route plans, χ² at p = 0.001 with fixed seeds:
//! deterministic, but each would fail for a biased planner.

use crate::route_util;

use std::num::NonZeroU64;

use route_util::{assert_fits, step_priority, targets};
use routecap_core::model::CandidateRef;
use routecap_core::route::{rng_from_seed, uniform_below, Planner, Step};

/// First steps of `n` plans over one reused planner and generator.
fn first_steps(spec: &[(i32, u32, bool)], n: usize, take: usize, seed: u64) -> Vec<Vec<usize>> {
    let (config, reports) = targets(spec);
    let mut planner = Planner::new();
    let mut rng = rng_from_seed(seed);
    (0..n)
        .map(|_| {
            let plan: Vec<Step> = planner.lazy(&config, &reports, &mut rng).collect();
            let prios: Vec<i32> = plan.iter().map(|s| step_priority(&config, s)).collect();
            assert!(
                prios.windows(2).all(|w| w[0] <= w[1]),
                "tiers not ascending: {prios:?}"
            );
            plan.iter()
                .take(take)
                .map(|s| match s {
                    Step::Target(t) => *t,
                    Step::Group { .. } => unreachable!("no groups here"),
                })
                .collect()
        })
        .collect()
}

#[test]
fn first_place_frequencies_match_weight_shares() {
    let weights = [1u32, 2, 3, 4, 10];
    let spec: Vec<_> = weights.iter().map(|&w| (1, w, true)).collect();
    let mut counts = [0u64; 5];
    for plan in first_steps(&spec, 20_000, 1, 11) {
        counts[plan[0]] += 1;
    }
    let total: u32 = weights.iter().sum();
    let p: Vec<f64> = weights
        .iter()
        .map(|&w| f64::from(w) / f64::from(total))
        .collect();
    assert_fits("first place", &counts, &p);
}

#[test]
fn first_two_places_follow_sequential_roulette() {
    let weights = [1u32, 2, 3, 4, 10];
    let spec: Vec<_> = weights.iter().map(|&w| (1, w, true)).collect();
    let w_total: u32 = weights.iter().sum();
    let mut pairs = Vec::new();
    for i in 0..5 {
        for j in 0..5 {
            if i != j {
                pairs.push((i, j));
            }
        }
    }
    let mut counts = vec![0u64; pairs.len()];
    for plan in first_steps(&spec, 40_000, 2, 22) {
        let k = pairs
            .iter()
            .position(|&(i, j)| (i, j) == (plan[0], plan[1]))
            .unwrap();
        counts[k] += 1;
    }
    // P(i then j) = w_i/W · w_j/(W − w_i).
    let p: Vec<f64> = pairs
        .iter()
        .map(|&(i, j)| {
            let (wi, wj, w) = (
                f64::from(weights[i]),
                f64::from(weights[j]),
                f64::from(w_total),
            );
            wi / w * wj / (w - wi)
        })
        .collect();
    assert_fits("first two places", &counts, &p);
}

#[test]
fn weight_zero_is_last_in_its_tier_and_uniform_among_zeros() {
    // Tier 1: t0 (3), t1 (0), t2 (0), t3 (0), t4 (5); tier 2: t5 (0), t6 (1).
    let spec = [
        (1, 3, true),
        (1, 0, true),
        (1, 0, true),
        (1, 0, true),
        (1, 5, true),
        (2, 0, true),
        (2, 1, true),
    ];
    let orders = [
        [1, 2, 3],
        [1, 3, 2],
        [2, 1, 3],
        [2, 3, 1],
        [3, 1, 2],
        [3, 2, 1],
    ];
    let mut counts = [0u64; 6];
    for plan in first_steps(&spec, 12_000, 7, 33) {
        assert_eq!(plan.len(), 7);
        let mut head = plan[..2].to_vec();
        head.sort();
        assert_eq!(head, vec![0, 4], "positive weights first: {plan:?}");
        assert_eq!(&plan[5..], &[6, 5], "tier 2, zero last: {plan:?}");
        let k = orders.iter().position(|o| o[..] == plan[2..5]).unwrap();
        counts[k] += 1;
    }
    assert_fits("order of weight-0 targets", &counts, &[1.0 / 6.0; 6]);
}

#[test]
fn all_zero_tier_is_uniform() {
    let spec = [(0, 0, true), (0, 0, true), (0, 0, true), (0, 0, true)];
    let mut counts = [0u64; 4];
    for plan in first_steps(&spec, 8_000, 1, 44) {
        counts[plan[0]] += 1;
    }
    assert_fits("first of all-zero tier", &counts, &[0.25; 4]);
}

#[test]
fn capped_share_goes_to_the_rest_of_its_tier_proportionally() {
    // t2 (weight 3) is capped; t4 in tier 2 must keep coming after tier 1.
    let spec = [
        (1, 1, true),
        (1, 2, true),
        (1, 3, false),
        (1, 4, true),
        (2, 5, true),
    ];
    let mut counts = [0u64; 3];
    for plan in first_steps(&spec, 14_000, 4, 55) {
        assert_eq!(plan.len(), 4, "capped target dropped: {plan:?}");
        assert!(!plan.contains(&2));
        assert_eq!(plan[3], 4);
        counts[[0usize, 1, 3].iter().position(|&t| t == plan[0]).unwrap()] += 1;
    }
    assert_fits(
        "renormalised first place",
        &counts,
        &[1.0 / 7.0, 2.0 / 7.0, 4.0 / 7.0],
    );
}

#[test]
fn simultaneous_group_step_competes_with_its_effective_weight() {
    use route_util::{group, report, target};
    use routecap_core::model::Config;
    // Group g (default priority 1, weight 3) against targets a (1) and b (0, priority 1).
    let config = Config {
        targets: vec![target("a", 1, 1), target("b", 1, 0), target("m", 1, 1)],
        groups: vec![group("g", vec![2], None, Some(3))],
        ..Config::default()
    };
    let reports = vec![
        report(CandidateRef::Target(0), true, vec![]),
        report(CandidateRef::Target(1), true, vec![]),
        report(CandidateRef::Group(0), true, vec![2]),
    ];
    let mut planner = Planner::new();
    let mut rng = rng_from_seed(66);
    let mut counts = [0u64; 2];
    for _ in 0..8_000 {
        let plan: Vec<Step> = planner.lazy(&config, &reports, &mut rng).collect();
        assert_eq!(plan.len(), 3);
        assert_eq!(plan[2], Step::Target(1), "weight 0 last");
        match plan[0] {
            Step::Target(0) => counts[0] += 1,
            Step::Group { group: 0, members } => {
                assert_eq!(members, &[2]);
                counts[1] += 1
            }
            other => panic!("unexpected first step {other:?}"),
        }
    }
    assert_fits("group vs target", &counts, &[0.25, 0.75]);
}

#[test]
fn uniform_below_is_unbiased_for_small_bounds() {
    let mut rng = rng_from_seed(77);
    let bound = NonZeroU64::new(7).unwrap();
    let mut counts = [0u64; 7];
    for _ in 0..70_000 {
        counts[uniform_below(&mut rng, bound) as usize] += 1;
    }
    assert_fits("uniform_below(7)", &counts, &[1.0 / 7.0; 7]);
}

#[test]
fn uniform_below_is_unbiased_when_rejection_matters() {
    // n ≈ 2^64 · 2/3: plain `x % n` would make the lower half of the range
    // twice as likely as the upper half, and a third of the draws are rejected.
    let n = u64::MAX / 3 * 2;
    let bucket = n / 8 + 1;
    let mut rng = rng_from_seed(88);
    let mut counts = [0u64; 8];
    for _ in 0..16_000 {
        let x = uniform_below(&mut rng, NonZeroU64::new(n).unwrap());
        assert!(x < n);
        counts[(x / bucket) as usize] += 1;
    }
    assert_fits("uniform_below(2^64 · 2/3) octiles", &counts, &[0.125; 8]);
}

/// `uniform_below` as first written (the threshold computed before every
/// draw): the draw must consume the same words and return the same values.
fn uniform_below_reference(rng: &mut routecap_core::route::RouteRng, n: u64) -> u64 {
    use rand_core::Rng;
    let threshold = n.wrapping_neg() % n;
    loop {
        let x = rng.next_u64();
        if x >= threshold {
            return x % n;
        }
    }
}

proptest::proptest! {
    #[test]
    fn uniform_below_draws_as_the_reference(
        seed in proptest::prelude::any::<u64>(),
        // small bounds, and bounds near 2^64 where draws are rejected
        bounds in proptest::collection::vec(
            proptest::prop_oneof![1u64..1000, (u64::MAX / 2)..=u64::MAX, proptest::prelude::any::<u64>()],
            1..40,
        ),
    ) {
        use rand_core::Rng;
        let (mut fast, mut slow) = (rng_from_seed(seed), rng_from_seed(seed));
        for n in bounds {
            let Some(bound) = NonZeroU64::new(n) else { continue };
            proptest::prop_assert_eq!(uniform_below(&mut fast, bound), uniform_below_reference(&mut slow, n));
        }
        // the same words consumed: the generators are where they were
        proptest::prop_assert_eq!(fast.next_u64(), slow.next_u64());
    }
}

proptest::proptest! {
    /// `RouteRng` (`chacha20`) gives the words of `rand_chacha`'s
    /// `ChaCha8Rng`, the generator of the first releases: from any seed, on
    /// any stream (as the simulator sets them), through any mix of 32- and
    /// 64-bit words and byte fills, across buffer refills.
    #[test]
    fn the_route_generator_gives_the_words_of_rand_chacha(
        seed in proptest::prelude::any::<u64>(),
        stream in proptest::prop_oneof![0u64..8, proptest::prelude::any::<u64>()],
        ops in proptest::collection::vec((0u8..3, 0usize..70), 1..400),
    ) {
        use rand_core::{Rng, SeedableRng};
        let mut ours = rng_from_seed(seed);
        let mut first = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        if stream != 0 {
            ours.set_stream(stream);
            first.set_stream(stream);
        }
        for (op, len) in ops {
            match op {
                0 => proptest::prop_assert_eq!(ours.next_u32(), first.next_u32()),
                1 => proptest::prop_assert_eq!(ours.next_u64(), first.next_u64()),
                _ => {
                    let (mut a, mut b) = (vec![0u8; len], vec![0u8; len]);
                    ours.fill_bytes(&mut a);
                    first.fill_bytes(&mut b);
                    proptest::prop_assert_eq!(a, b);
                }
            }
        }
    }
}
