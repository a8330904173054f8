//! Benchmark support for routecap: the fixture generator and the naive peer.
//! The benches themselves are in `benches/benches/`; see README "Performance".

pub mod fixture;
pub mod naive;
