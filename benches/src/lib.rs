//! Benchmark support for routecap: the fixture generator, the naive peer,
//! the floor of a cold verdict pass and a counting allocator. The benches are in `benches/benches/`, the
//! allocation and memory measurements in `benches/tests/`; see README
//! "Performance".

pub mod alloc_count;
pub mod fixture;
pub mod floor;
pub mod naive;
