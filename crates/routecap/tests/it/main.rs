//! The integration tests of `routecap`, one binary with a module per area
//! (one link instead of one per file).

mod cli_attrs;
mod cli_callers;
mod cli_decisions;
mod cli_hours;
mod cli_leases;
mod cli_live;
mod cli_mutants;
mod cli_support;
mod cli_text;
mod cli_validate;
mod cli_zones;
mod config_schema;
mod engine_api;
mod engine_live;
mod engine_route;
mod engine_stress;
mod engine_support;
mod redis;
mod serve_api;
mod serve_fuzz;
mod serve_load;
mod serve_openapi;
mod serve_redis;
mod serve_support;
mod simulate_cli;
mod simulate_report;
