//! The naive peer and routecap agree on who is eligible, over a day of
//! instants on the 1,000-target bench fixture (the benches assert the same
//! before timing; this keeps it checked by `cargo test`).

use routecap_benches::{fixture, naive};
use routecap_core::eligibility::check;
use routecap_core::lifecycle::State;
use routecap_core::model::CandidateRef;

#[test]
fn naive_peer_agrees_on_eligibility() {
    let config = fixture::config(1000, 42);
    let state = State::new(&config);
    let mut some_closed = false;
    for at in fixture::Instants::default()
        .step_by(13 * 60)
        .take(24 * 60 / 13 * 7)
    {
        let ours: Vec<usize> = check(&config, &state, at)
            .iter()
            .filter(|r| r.eligible)
            .filter_map(|r| match r.candidate {
                CandidateRef::Target(t) => Some(t),
                CandidateRef::Group(_) => None,
            })
            .collect();
        let theirs = naive::Peer::new(&config).eligible_set(at);
        some_closed |= theirs.len() < config.targets.len() / 2;
        assert_eq!(theirs, ours, "at {at}");
    }
    assert!(some_closed, "the week covers closed hours");
}
