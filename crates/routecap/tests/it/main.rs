//! The integration tests of `routecap`, one binary with a module per area
//! (one link instead of one per file).

mod agreement;
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
mod redis_reservations;
mod serve_api;
mod serve_auth;
mod serve_crash;
mod serve_edits;
mod serve_faults;
mod serve_fuzz;
mod serve_load;
mod serve_openapi;
mod serve_redis;
mod serve_support;
mod serve_tls;
mod simulate_cli;
mod simulate_report;
mod sqlite;
