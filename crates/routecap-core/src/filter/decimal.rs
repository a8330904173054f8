//! Exact decimal numbers for numeric filter comparisons.
//!
//! A number is kept as its digits, never as a float: `0.1 + 0.2`-style
//! rounding cannot make `"65"` differ from `"65.000"` or make
//! `"9007199254740993"` equal `"9007199254740992"`. There is no precision
//! limit: any number of integer and fraction digits compares exactly.
//!
//! Accepted text (after trimming surrounding whitespace): an optional `+` or
//! `-`, then ASCII digits with at most one `.`, at least one digit in all
//! (`65`, `-1.5`, `+007`, `.5`, `5.`). Exponents (`1e3`), digit separators
//! (`1,000`), `inf` and `NaN` are not numbers.

use std::cmp::Ordering;
use std::ops::Range;

/// Where the parts of a parsed number lie in its text.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Parts {
    /// Negative and not zero.
    pub neg: bool,
    /// Integer digits without leading zeros (empty for zero).
    pub int: Range<usize>,
    /// Fraction digits without trailing zeros (empty for a whole number).
    pub frac: Range<usize>,
}

/// Parse `text` (already trimmed) as a decimal number.
pub(crate) fn parse(text: &str) -> Option<Parts> {
    let b = text.as_bytes();
    let (neg, start) = match b.first() {
        Some(b'-') => (true, 1),
        Some(b'+') => (false, 1),
        _ => (false, 0),
    };
    let mut dot = None;
    let mut digits = 0usize;
    for (i, &c) in b.iter().enumerate().skip(start) {
        match c {
            b'0'..=b'9' => digits += 1,
            b'.' if dot.is_none() => dot = Some(i),
            _ => return None,
        }
    }
    if digits == 0 {
        return None;
    }
    let int_end = dot.unwrap_or(b.len());
    let mut int_start = start;
    while int_start < int_end && b[int_start] == b'0' {
        int_start += 1;
    }
    let (frac_start, mut frac_end) = match dot {
        Some(d) => (d + 1, b.len()),
        None => (b.len(), b.len()),
    };
    while frac_end > frac_start && b[frac_end - 1] == b'0' {
        frac_end -= 1;
    }
    let zero = int_start == int_end && frac_start == frac_end;
    Some(Parts {
        neg: neg && !zero,
        int: int_start..int_end,
        frac: frac_start..frac_end,
    })
}

/// A borrowed, normalised number: sign, integer digits, fraction digits.
#[derive(Clone, Copy, Debug)]
pub(crate) struct View<'a> {
    neg: bool,
    int: &'a [u8],
    frac: &'a [u8],
}

impl<'a> View<'a> {
    /// The number `parts` describes in `text`.
    pub fn of(text: &'a str, parts: &Parts) -> Self {
        let b = text.as_bytes();
        View {
            neg: parts.neg,
            int: &b[parts.int.clone()],
            frac: &b[parts.frac.clone()],
        }
    }

    /// Exact numeric order.
    pub fn cmp(self, other: View<'_>) -> Ordering {
        match (self.neg, other.neg) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => magnitude(self, other),
            (true, true) => magnitude(other, self),
        }
    }
}

/// Order of absolute values: normalised integer digits compare by length
/// first, then digit by digit; fraction digits (trailing zeros removed)
/// compare lexicographically.
fn magnitude(a: View<'_>, b: View<'_>) -> Ordering {
    a.int
        .len()
        .cmp(&b.int.len())
        .then_with(|| a.int.cmp(b.int))
        .then_with(|| a.frac.cmp(b.frac))
}

/// An owned exact number, as a compiled condition keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Decimal {
    text: Box<str>,
    parts: Parts,
}

impl Decimal {
    /// Parse trimmed text; `None` when it is not a number.
    pub fn parse(text: &str) -> Option<Self> {
        let parts = parse(text)?;
        Some(Decimal {
            text: text.into(),
            parts,
        })
    }

    /// The borrowed view.
    pub fn view(&self) -> View<'_> {
        View::of(&self.text, &self.parts)
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        self.view().cmp(other.view())
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap_or_else(|| panic!("{s} should parse"))
    }

    #[test]
    fn accepted_and_refused_forms() {
        for ok in [
            "0",
            "-0",
            "+7",
            "007",
            ".5",
            "5.",
            "-1.50",
            "123456789012345678901234567890.1",
        ] {
            assert!(parse(ok).is_some(), "{ok}");
        }
        for bad in [
            "", "-", "+", ".", "1e3", "1,000", "1.2.3", "inf", "NaN", "--1", "1-", " 1",
        ] {
            assert!(parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn exact_order() {
        let eq = [
            ("65", "65.000"),
            ("-0", "0"),
            ("0.0", "-.0"),
            ("007", "7"),
            ("+1.5", "1.50"),
        ];
        for (a, b) in eq {
            assert_eq!(d(a).cmp(&d(b)), Ordering::Equal, "{a} = {b}");
        }
        let lt = [
            ("9", "10"),
            ("-10", "-9"),
            ("0.5", "0.51"),
            ("0.51", "0.6"),
            ("-1", "0"),
            ("-0.1", "0"),
            ("9007199254740992", "9007199254740993"),
            (
                "1.000000000000000000000000001",
                "1.000000000000000000000000002",
            ),
            ("99.99", "100"),
        ];
        for (a, b) in lt {
            assert_eq!(d(a).cmp(&d(b)), Ordering::Less, "{a} < {b}");
            assert_eq!(d(b).cmp(&d(a)), Ordering::Greater, "{b} > {a}");
        }
    }
}
