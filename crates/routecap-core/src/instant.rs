//! Instants as text: the one reader of the RFC 3339 instants that every face
//! takes (the CLI's `--at`, `--from` and `--to`, the service's `at` fields,
//! replay events, the config's `as_of`, the WebAssembly functions, snapshot
//! fields).
//!
//! The rule: the text is an RFC 3339 date-time as chrono's own RFC 3339
//! parser reads it ([`chrono::DateTime::parse_from_rfc3339`]: any offset,
//! `Z` or `±HH:MM`, fractional seconds), nothing before or after it (no
//! surrounding whitespace), and the instant it names lies in the supported
//! range `1970-01-01T00:00:00Z` up to, not including,
//! `2100-01-01T00:00:00Z` ([`zone::is_supported`]: the years the zone tables
//! cover).
//!
//! ```
//! use routecap_core::instant::{parse_instant, InstantError};
//!
//! let t = parse_instant("2026-11-22T10:00:00-05:00")?;
//! assert_eq!(t, parse_instant("2026-11-22T15:00:00Z")?);
//! assert!(matches!(parse_instant("tomorrow"), Err(InstantError::Syntax { .. })));
//! assert_eq!(
//!     parse_instant("2100-01-01T00:00:00Z").unwrap_err().to_string(),
//!     "\"2100-01-01T00:00:00Z\" is outside the supported range 1970-01-01T00:00:00Z .. 2100-01-01T00:00:00Z"
//! );
//! # Ok::<(), InstantError>(())
//! ```

use chrono::{DateTime, ParseError, Utc};

use crate::zone::{self, Instant};

/// Why a text is not an instant routecap takes. Its message starts with the
/// text quoted; the faces put the name of the argument before it
/// (`--at "tomorrow" is not an RFC 3339 instant …`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InstantError {
    /// Not RFC 3339 text (as chrono's parser reads it).
    #[error("{text:?} is not an RFC 3339 instant (e.g. 2026-11-22T15:00:00Z): {reason}")]
    Syntax {
        /// The text given.
        text: String,
        /// chrono's reason.
        reason: ParseError,
    },
    /// RFC 3339, but outside `1970-01-01T00:00:00Z .. 2100-01-01T00:00:00Z`.
    #[error(
        "{text:?} is outside the supported range 1970-01-01T00:00:00Z .. 2100-01-01T00:00:00Z"
    )]
    OutOfRange {
        /// The text given.
        text: String,
    },
}

impl InstantError {
    /// The text that was refused.
    pub fn text(&self) -> &str {
        match self {
            InstantError::Syntax { text, .. } | InstantError::OutOfRange { text } => text,
        }
    }
}

/// The instant `text` names, by the rule of the [module docs](self): RFC
/// 3339 (chrono's parser), in the supported range.
pub fn parse_instant(text: &str) -> Result<Instant, InstantError> {
    let t = parse_rfc3339(text).map_err(|reason| InstantError::Syntax {
        text: text.to_string(),
        reason,
    })?;
    if zone::is_supported(t) {
        Ok(t)
    } else {
        Err(InstantError::OutOfRange {
            text: text.to_string(),
        })
    }
}

/// The instant RFC 3339 `text` names, with no range rule: for instants the
/// engine wrote itself and reads back (a snapshot's lease ends may lie past
/// 2100, `at + call_lease_seconds`). Inputs go through [`parse_instant`].
pub fn parse_rfc3339(text: &str) -> Result<Instant, ParseError> {
    DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_is_half_open_whatever_the_offset() {
        for ok in [
            "1970-01-01T00:00:00Z",
            "1970-01-01T01:00:00+01:00",
            "2099-12-31T23:59:59.999999999Z",
            "2099-12-31T22:59:59-01:00",
        ] {
            assert!(parse_instant(ok).is_ok(), "{ok}");
        }
        for out in [
            "1969-12-31T23:59:59.999Z",
            "1970-01-01T00:59:59+01:00",
            "2100-01-01T00:00:00Z",
            "2099-12-31T23:00:00-01:00",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
        ] {
            assert_eq!(
                parse_instant(out),
                Err(InstantError::OutOfRange { text: out.into() }),
                "{out}"
            );
        }
    }

    #[test]
    fn surrounding_whitespace_is_not_rfc_3339() {
        for bad in [
            " 2026-11-22T15:00:00Z",
            "2026-11-22T15:00:00Z\n",
            "\t2026-11-22T15:00:00Z",
        ] {
            let e = parse_instant(bad).unwrap_err();
            assert!(matches!(e, InstantError::Syntax { .. }), "{bad:?}: {e}");
            assert_eq!(e.text(), bad);
        }
    }
}
