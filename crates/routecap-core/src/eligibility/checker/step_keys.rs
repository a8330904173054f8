//! Route step keys of the reports, kept next to them: the route planner
//! reads these instead of the config, and keeps its first tier while they
//! do not change.

/// Route step keys of the reports, with a bit set of those that have one.
#[derive(Clone, Debug, Default)]
pub(super) struct StepKeys {
    pub(super) keys: Vec<Option<(i32, u32)>>,
    pub(super) some: Vec<u64>,
}

impl StepKeys {
    pub(super) fn push(&mut self) {
        self.keys.push(None);
        if self.keys.len() > self.some.len() * 64 {
            self.some.push(0);
        }
    }

    /// Set report `n`'s key, noting whether it changed (see
    /// [`Checker::keys_version`]).
    #[inline]
    pub(super) fn set(&mut self, n: usize, key: Option<(i32, u32)>, changed: &mut bool) {
        if let Some(slot) = self.keys.get_mut(n) {
            if *slot != key {
                *slot = key;
                *changed = true;
                put_bit(&mut self.some, n, key.is_some());
            }
        }
    }
}

/// The reports the last call's own target filters refuse (see
/// [`Checker::refusals`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Refusals<'a> {
    pub(super) bits: &'a [u64],
    pub(super) upto: usize,
    /// How many refused reports below `upto` have a step key.
    pub keyed: usize,
}

impl Refusals<'_> {
    /// No report refused.
    pub const NONE: Refusals<'static> = Refusals {
        bits: &[],
        upto: 0,
        keyed: 0,
    };

    /// Whether report `i`'s own target filter refuses the call.
    #[inline]
    pub fn refused(&self, i: usize) -> bool {
        i < self.upto && bit(self.bits, i)
    }
}

#[inline]
pub(super) fn bit(bits: &[u64], i: usize) -> bool {
    bits.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 != 0)
}

#[inline]
pub(super) fn put_bit(bits: &mut [u64], i: usize, on: bool) {
    if let Some(w) = bits.get_mut(i / 64) {
        let b = 1u64 << (i % 64);
        *w = if on { *w | b } else { *w & !b };
    }
}

/// How many indices below `upto` are set in both `a` and `b`.
pub(super) fn count_below(a: &[u64], b: &[u64], upto: usize) -> usize {
    let mut n = 0;
    for (w, (x, y)) in a.iter().zip(b).enumerate().take(upto.div_ceil(64)) {
        let keep = match upto - w * 64 {
            k if k >= 64 => u64::MAX,
            k => (1u64 << k) - 1,
        };
        n += (x & y & keep).count_ones() as usize;
    }
    n
}
