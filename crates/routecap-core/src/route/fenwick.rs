//! A Fenwick (binary indexed) tree over integer weights: the cumulative
//! intervals of a roulette wheel, with `O(log k)` lookup and removal.
//!
//! A wheel of at most [`FLAT`] items (most priority tiers) is kept flat
//! instead: its weights as they are, searched by a running sum. That finds
//! the same item as the tree; for a handful of items the scan costs less
//! than building the tree and walking its indices.

/// The most items kept flat (see the module docs).
const FLAT: usize = 16;

/// Prefix sums over `k` non-negative weights (item `i` owns the interval
/// `prefix(i) .. prefix(i + 1)`). The buffer is kept across rebuilds so a
/// reused tree does not allocate in steady state.
#[derive(Debug, Default, Clone)]
pub(crate) struct Fenwick {
    /// 1-based; `tree[0]` is unused. When `flat`, the weights themselves.
    tree: Vec<u64>,
    total: u64,
    /// At most [`FLAT`] items: `tree` holds the weights, not their sums.
    flat: bool,
}

impl Fenwick {
    /// Replace the contents with `weights`, in `O(k)` (linear construction:
    /// each node pushes its sum to its parent once).
    pub(crate) fn rebuild(&mut self, weights: impl Iterator<Item = u64>) {
        self.tree.clear();
        self.tree.push(0);
        let mut total = 0u64;
        self.tree.extend(weights.inspect(|&w| total += w));
        self.total = total;
        let len = self.tree.len();
        self.flat = len <= FLAT + 1;
        if self.flat {
            return;
        }
        for i in 1..len {
            let parent = i + (i & i.wrapping_neg());
            if parent < len {
                self.tree[parent] += self.tree[i];
            }
        }
    }

    /// Sum of the weights still in the tree.
    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    /// The item whose interval contains `r` (requires `r < total()`), and the
    /// number of tree nodes visited. Never returns an item of weight 0.
    pub(crate) fn find(&self, r: u64) -> (usize, u64) {
        if self.flat {
            // the first item whose interval ends past `r`
            let mut rem = r;
            for (i, &w) in self.tree.iter().skip(1).enumerate() {
                if rem < w {
                    return (i, i as u64 + 1);
                }
                rem -= w;
            }
            let len = self.tree.len().saturating_sub(1);
            return (len, len as u64);
        }
        let len = self.tree.len().saturating_sub(1);
        let mut pos = 0usize;
        let mut rem = r;
        let mut step = if len == 0 {
            0
        } else {
            1usize << (usize::BITS - 1 - len.leading_zeros())
        };
        let mut visited = 0u64;
        while step > 0 {
            let next = pos + step;
            if let Some(&sum) = self.tree.get(next) {
                visited += 1;
                if sum <= rem {
                    pos = next;
                    rem -= sum;
                }
            }
            step >>= 1;
        }
        (pos, visited)
    }

    /// Subtract `w` from item `i` (0-based); returns the nodes visited.
    pub(crate) fn sub(&mut self, i: usize, w: u64) -> u64 {
        if self.flat {
            if let Some(slot) = self.tree.get_mut(i + 1) {
                *slot -= w;
            }
            self.total -= w;
            return 1;
        }
        let mut node = i + 1;
        let mut visited = 0u64;
        while let Some(slot) = self.tree.get_mut(node) {
            *slot -= w;
            visited += 1;
            node += node & node.wrapping_neg();
        }
        self.total -= w;
        visited
    }
}

#[cfg(test)]
mod tests {
    use super::{Fenwick, FLAT};
    use proptest::prelude::*;

    proptest! {
        /// Flat (at most `FLAT` items) or a tree, the wheel finds the item
        /// a running sum over the weights finds, after any removals.
        #[test]
        fn find_agrees_with_a_running_sum_flat_or_tree(
            mut weights in prop::collection::vec(0u64..50, 1..3 * FLAT),
            picks in prop::collection::vec(any::<u64>(), 0..3 * FLAT),
        ) {
            let mut f = Fenwick::default();
            f.rebuild(weights.iter().copied());
            prop_assert_eq!(f.flat, weights.len() <= FLAT);
            for pick in picks {
                let total: u64 = weights.iter().sum();
                prop_assert_eq!(f.total(), total);
                if total == 0 {
                    break;
                }
                let r = pick % total;
                let mut want = 0;
                let mut sum = 0;
                for (i, &w) in weights.iter().enumerate() {
                    sum += w;
                    if r < sum {
                        want = i;
                        break;
                    }
                }
                let (got, _) = f.find(r);
                prop_assert_eq!(got, want, "r = {}, weights {:?}", r, &weights);
                f.sub(got, weights[got]);
                weights[got] = 0;
            }
        }
    }

    #[test]
    fn find_walks_cumulative_intervals_and_skips_zero_weights() {
        let weights = [3u64, 0, 1, 4, 0, 2];
        let mut f = Fenwick::default();
        f.rebuild(weights.iter().copied());
        assert_eq!(f.total(), 10);
        let mut expected = Vec::new();
        for (i, &w) in weights.iter().enumerate() {
            expected.extend(std::iter::repeat_n(i, w as usize));
        }
        for (r, &want) in expected.iter().enumerate() {
            assert_eq!(f.find(r as u64).0, want, "r = {r}");
        }
        f.sub(3, 4);
        assert_eq!(f.total(), 6);
        let got: Vec<usize> = (0..6).map(|r| f.find(r).0).collect();
        assert_eq!(got, vec![0, 0, 0, 2, 5, 5]);
    }
}
