//! Unbiased integer draws over any [`rand_core::Rng`].
//!
//! Written here rather than taken from `rand` so that the exact sequence of
//! generator words consumed per draw is part of *our* contract, stable across
//! `rand` releases and identical natively and in WebAssembly.

use core::num::NonZeroU64;

use rand_core::Rng;

/// A uniform integer in `0..bound`, without modulo bias.
///
/// Method (OpenBSD `arc4random_uniform`, widened to 64 bits): let
/// `t = 2^64 mod bound`. Draw `x = rng.next_u64()` until `x >= t`, then return
/// `x % bound`. The accepted range `t..2^64` holds `2^64 - t` values, an exact
/// multiple of `bound`, so every residue is equally likely. A draw is rejected
/// with probability `t / 2^64 < bound / 2^64`, so in practice one `u64` is
/// consumed per call (never more than one when `bound` is a power of two).
///
/// The threshold is below `bound`, so a word at or above `bound` (all but a
/// `bound / 2^64` share of them) is accepted before it is computed: one
/// division per draw instead of two, the same words and the same results.
#[inline]
pub fn uniform_below<R: Rng + ?Sized>(rng: &mut R, bound: NonZeroU64) -> u64 {
    let n = bound.get();
    let mut x = rng.next_u64();
    if x < n {
        // (2^64 - n) mod n == 2^64 mod n, without 128-bit arithmetic.
        let threshold = n.wrapping_neg() % n;
        while x < threshold {
            x = rng.next_u64();
        }
    }
    x % n
}
