//! The floor pass (`routecap_floor`) computes the verdicts it is
//! timed for: the same eligibility as a plain per-target judgement, and
//! nothing rewritten when nothing changed.

use routecap_floor::{FloorPass, NOW};

#[test]
fn the_floor_pass_judges_as_a_plain_reference() {
    for n in [10usize, 1000, 10_000] {
        let mut f = FloorPass::new(n, 7);
        // every verdict is new the first time
        assert_eq!(f.pass(NOW), n);
        let eligible = f.eligible();
        assert_eq!(eligible, f.eligible_reference(NOW), "{n} targets");
        // a mix of eligible and refused targets, as in the fixture
        assert!(eligible > 0 && eligible < n, "{eligible} of {n} eligible");
        // kept verdicts are skipped; forgotten ones come out the same
        assert_eq!(f.pass(NOW + 1), 0);
        f.forget();
        assert_eq!(f.pass(NOW + 2), 0);
        assert_eq!(f.eligible(), eligible);
    }
}

#[test]
fn the_column_layout_judges_as_the_floor_pass() {
    use routecap_floor::FloorColumns;
    for n in [1000usize, 10_000] {
        let mut f = FloorPass::new(n, 11);
        let mut columns = FloorColumns::of(&f);
        assert_eq!(columns.pass(NOW), n, "every verdict new");
        f.pass(NOW);
        assert_eq!(columns.eligible(), f.eligible_reference(NOW), "{n} targets");
        columns.forget();
        assert_eq!(columns.pass(NOW + 1), 0, "nothing changed");
    }
}

#[test]
fn the_hand_vectorised_pass_judges_as_the_column_pass() {
    use routecap_floor::FloorColumns;
    for n in [1000usize, 10_000] {
        let f = FloorPass::new(n, 13);
        let (mut wide, mut plain) = (FloorColumns::of(&f), FloorColumns::of(&f));
        let Some(first) = wide.pass_wide(NOW) else {
            eprintln!("no AVX-512F here: the vector pass is not run");
            return;
        };
        assert_eq!(first, n, "every verdict new");
        assert_eq!(plain.pass(NOW), n);
        assert_eq!(wide.eligible(), plain.eligible(), "{n} targets");
        assert_eq!(wide.eligible(), f.eligible_reference(NOW), "{n} targets");
        // the verdicts and memos written are the scalar pass's, lane for lane
        assert_eq!(format!("{wide:?}"), format!("{plain:?}"));
        assert_eq!(wide.pass_wide(NOW + 1), Some(0), "nothing lapsed");
        wide.forget();
        assert_eq!(wide.pass_wide(NOW + 2), Some(0), "nothing changed");
    }
}
