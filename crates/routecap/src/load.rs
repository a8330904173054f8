//! Loading configs from files or standard input, with errors that name the file.

use std::io::Read;

use routecap_core::formats::{self, ConfigError, Format};
use routecap_core::model::Config;

/// Read `path` (or standard input for `-`) and parse it as a config,
/// auto-detecting the shape unless `format` is given.
pub fn load_config(path: &str, format: Option<Format>) -> Result<Config, ConfigError> {
    let (bytes, name) =
        read_input(path).map_err(|e| ConfigError::unreadable(display_name(path), e))?;
    formats::parse_config(&bytes, name, format)
}

/// Load a config document into an engine that keeps it for patches
/// (`-` = standard input).
pub fn load_engine(
    path: &str,
    format: Option<Format>,
) -> Result<routecap_core::engine::Engine, ConfigError> {
    let (bytes, name) =
        read_input(path).map_err(|e| ConfigError::unreadable(display_name(path), e))?;
    routecap_core::engine::Engine::parse(&bytes, name, format)
}

fn display_name(path: &str) -> &str {
    if path == "-" {
        "<stdin>"
    } else {
        path
    }
}

/// The bytes of `path` (`-` = standard input) and the name to use in errors.
pub fn read_input(path: &str) -> std::io::Result<(Vec<u8>, &str)> {
    let mut bytes = Vec::new();
    if path == "-" {
        std::io::stdin().lock().read_to_end(&mut bytes)?;
    } else {
        std::fs::File::open(path)?.read_to_end(&mut bytes)?;
    }
    Ok((bytes, display_name(path)))
}
