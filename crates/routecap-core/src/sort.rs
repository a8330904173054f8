//! Sorting through one shared instance of the slice sort (smaller wasm
//! than a sort instance per element type).

use std::cmp::Ordering;

/// Sort `ids` by `cmp` (unstable).
pub(crate) fn sort_ids(ids: &mut [u32], cmp: &dyn Fn(u32, u32) -> Ordering) {
    ids.sort_unstable_by(|&a, &b| cmp(a, b));
}

/// `v` sorted by `cmp`, stable (as `sort_by`).
pub(crate) fn sorted_by<T>(v: Vec<T>, cmp: &dyn Fn(&T, &T) -> Ordering) -> Vec<T> {
    let n = u32::try_from(v.len()).expect("fewer than 2^32 items to sort");
    let mut order: Vec<u32> = (0..n).collect();
    sort_ids(&mut order, &|a, b| {
        cmp(&v[a as usize], &v[b as usize]).then(a.cmp(&b))
    });
    let mut slots: Vec<Option<T>> = v.into_iter().map(Some).collect();
    order
        .iter()
        .filter_map(|&i| slots[i as usize].take())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_by_is_stable() {
        let v = vec![(2, 'a'), (1, 'b'), (2, 'c'), (1, 'd'), (0, 'e')];
        let mut want = v.clone();
        want.sort_by_key(|p| p.0);
        assert_eq!(sorted_by(v, &|a, b| a.0.cmp(&b.0)), want);
    }
}
