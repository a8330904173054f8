//! A small, fast hasher for the engine's own interning maps (zones, hours
//! tables, filter atoms): keys are a config's own small values, not
//! attacker-chosen, so SipHash's cost buys nothing here. Its own module so
//! the checker and the filters share it without depending on each other.

use std::hash::Hasher;

/// A multiply-rotate hasher for interning zones and hours tables while a
/// checker is built: SipHash made up a third of a one-shot check, and these
/// keys are a config's own small values, hashed once per owner.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct InternHasher(u64);

impl InternHasher {
    #[inline]
    fn add(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for InternHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }
    fn write_u8(&mut self, x: u8) {
        self.add(u64::from(x));
    }
    fn write_u16(&mut self, x: u16) {
        self.add(u64::from(x));
    }
    fn write_u32(&mut self, x: u32) {
        self.add(u64::from(x));
    }
    fn write_u64(&mut self, x: u64) {
        self.add(x);
    }
    fn write_usize(&mut self, x: usize) {
        self.add(x as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}
