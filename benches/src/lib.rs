//! Benchmark fixtures (filled by the performance issue).
