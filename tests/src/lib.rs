//! Cross-crate scenario tests live in `tests/tests/`; shared fixtures in `tests/fixtures/`.
