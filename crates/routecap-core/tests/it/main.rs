//! The integration tests of `routecap-core`, one binary with a module per area
//! (one link instead of one per file).

mod callers;
mod caps_laws;
mod caps_lifecycle;
mod caps_snapshot;
mod caps_support;
mod checker_agrees;
mod filters_wired;
mod formats_errors;
mod formats_fixtures;
mod formats_native;
mod formats_native_render;
mod formats_props;
mod hours_dst;
mod instant_text;
mod laws_all_kinds;
mod leases;
mod live_config;
mod live_usage;
mod module_deps;
mod reference_judge;
mod route_basic;
mod route_golden;
mod route_props;
mod route_stats;
mod route_util;
mod windows_dst;
mod zones_table;
