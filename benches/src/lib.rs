//! Benchmark support for routecap: the fixture generator, the naive peer
//! and a counting allocator. The benches are in `benches/benches/`, the
//! allocation and memory measurements in `benches/tests/`; the floor of a
//! cold verdict pass is its own crate, `benches/floor/`.

pub mod alloc_count;
pub mod fixture;
pub mod naive;
