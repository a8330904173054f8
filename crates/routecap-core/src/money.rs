//! Exact money: integer minor units (cents). Never binary floats.

use std::fmt;

/// An amount of money in minor units (1/100 of the currency unit).
///
/// Parsed from decimal text (`"500"`, `"120.5"`, `"120.50"`, `-3.25`);
/// more than two decimal places is an error unless the extra digits are zeros.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(pub i64);

/// Why a money text was refused; the text is phrased to follow the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// No digits at all.
    #[error("is not a decimal amount")]
    Empty,
    /// Something other than digits with an optional `.`.
    #[error("is not a decimal amount (digits with an optional '.' and at most 2 decimals)")]
    NotDecimal,
    /// Non-zero digits past the cents.
    #[error("has more than 2 decimal places")]
    TooManyDecimals,
    /// More than an `i64` of minor units.
    #[error("is too large")]
    TooLarge,
}

impl Money {
    /// Zero.
    pub const ZERO: Money = Money(0);

    /// Minor units.
    pub fn minor(self) -> i64 {
        self.0
    }

    /// Parse decimal text such as `"12.50"`, `"-3"`, `"1e2"` is refused.
    pub fn parse(text: &str) -> Result<Money, MoneyError> {
        let t = text.trim();
        let (neg, digits) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        let (int_part, frac_part) = match digits.split_once('.') {
            Some((i, f)) => (i, f),
            None => (digits, ""),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(MoneyError::Empty);
        }
        if !int_part.bytes().all(|b| b.is_ascii_digit())
            || !frac_part.bytes().all(|b| b.is_ascii_digit())
            || (digits.contains('.') && frac_part.is_empty() && int_part.is_empty())
        {
            return Err(MoneyError::NotDecimal);
        }
        let frac_trimmed = frac_part.trim_end_matches('0');
        if frac_trimmed.len() > 2 {
            return Err(MoneyError::TooManyDecimals);
        }
        let mut units: i64 = 0;
        for b in int_part.bytes() {
            units = units
                .checked_mul(10)
                .and_then(|u| u.checked_add((b - b'0') as i64))
                .ok_or(MoneyError::TooLarge)?;
        }
        let mut cents: i64 = 0;
        let fb = frac_trimmed.as_bytes();
        for i in 0..2 {
            cents = cents * 10 + fb.get(i).map(|b| (b - b'0') as i64).unwrap_or(0);
        }
        let total = units
            .checked_mul(100)
            .and_then(|u| u.checked_add(cents))
            .ok_or(MoneyError::TooLarge)?;
        Ok(Money(if neg { -total } else { total }))
    }

    /// Checked addition.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    /// Saturating addition (sums in state never wrap).
    pub fn saturating_add(self, other: Money) -> Money {
        Money(self.0.saturating_add(other.0))
    }
}

impl fmt::Display for Money {
    /// Always two decimals: `120.50`, `-0.05`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exactly() {
        assert_eq!(Money::parse("500.00"), Ok(Money(50000)));
        assert_eq!(Money::parse("120.5"), Ok(Money(12050)));
        assert_eq!(Money::parse("0.1"), Ok(Money(10)));
        assert_eq!(Money::parse("-3.25"), Ok(Money(-325)));
        assert_eq!(Money::parse("7"), Ok(Money(700)));
        assert_eq!(Money::parse("1.2300"), Ok(Money(123)));
        assert_eq!(Money::parse(".5"), Ok(Money(50)));
        assert!(Money::parse("1.234").is_err());
        assert!(Money::parse("1e2").is_err());
        assert!(Money::parse("").is_err());
        assert!(Money::parse(".").is_err());
        assert!(Money::parse("99999999999999999999").is_err());
    }

    #[test]
    fn displays_two_decimals() {
        assert_eq!(Money(12050).to_string(), "120.50");
        assert_eq!(Money(-5).to_string(), "-0.05");
        assert_eq!(Money(0).to_string(), "0.00");
    }
}
