//! A path-tracking view of a `serde_json::Value`, so that every error names
//! the JSON path, the offending value and what is allowed.
//!
//! Numbers are read from their original text (`arbitrary_precision`), so
//! money is exact and huge integers are reported verbatim.

use serde_json::{Map, Value};

use super::ConfigError;
use crate::money::Money;

/// Parser result: errors carry an empty `file`, filled in by the entry point.
pub(crate) type Res<T> = Result<T, ConfigError>;

/// Longest offending value shown in an error, in characters.
const MAX_VALUE_CHARS: usize = 60;

/// A JSON value and the path that leads to it (`targets[3].hours[1].open`).
#[derive(Clone, Debug)]
pub(crate) struct Node<'a> {
    /// The value.
    pub v: &'a Value,
    path: String,
}

/// JSON text of `v`, cut to [`MAX_VALUE_CHARS`] characters. Serialization
/// stops early, so a huge or deeply nested value costs no more than a small one.
pub(crate) fn show(v: &Value) -> String {
    let mut out = Capped(Vec::new());
    // An error here only means the cap was reached.
    let _ = serde_json::to_writer(&mut out, v);
    let bytes = out.0;
    let text = match std::str::from_utf8(&bytes) {
        Ok(t) => t,
        Err(e) => bytes
            .get(..e.valid_up_to())
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or_default(),
    };
    match text.char_indices().nth(MAX_VALUE_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// A writer that refuses to grow past enough bytes for [`MAX_VALUE_CHARS`]
/// characters plus one.
struct Capped(Vec<u8>);

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let room = ((MAX_VALUE_CHARS + 1) * 4).saturating_sub(self.0.len());
        if room == 0 {
            return Err(std::io::Error::other("value shown in full"));
        }
        let n = buf.len().min(room);
        self.0.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Path of field `key` below `path`.
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// An error at `path` (empty = the whole document, shown as `$`).
pub(crate) fn error_at(path: &str, value: String, expected: impl Into<String>) -> ConfigError {
    ConfigError {
        file: String::new(),
        path: if path.is_empty() {
            "$".to_string()
        } else {
            path.to_string()
        },
        value,
        expected: expected.into(),
    }
}

impl<'a> Node<'a> {
    /// The whole document.
    pub fn root(v: &'a Value) -> Self {
        Node {
            v,
            path: String::new(),
        }
    }

    /// The path of this node (empty for the root).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// An error about this node's value.
    pub fn err(&self, expected: impl Into<String>) -> ConfigError {
        error_at(&self.path, show(self.v), expected)
    }

    /// An error about a required field `key` that is missing (or null).
    pub fn missing(&self, key: &str, expected: &str) -> ConfigError {
        error_at(
            &join(&self.path, key),
            String::new(),
            format!("is missing: {expected}"),
        )
    }

    /// Whether this is an object with field `key` (even if null).
    pub fn has(&self, key: &str) -> bool {
        self.v.as_object().is_some_and(|m| m.contains_key(key))
    }

    /// Field `key` of an object; `None` when absent, null, or not an object.
    pub fn get(&self, key: &str) -> Option<Node<'a>> {
        match self.v.as_object()?.get(key)? {
            Value::Null => None,
            v => Some(Node {
                v,
                path: join(&self.path, key),
            }),
        }
    }

    /// Field `key` read with `read` when present: `Ok(None)` when absent or
    /// null, the reader's error (with the field's path) when it is invalid.
    pub fn opt<T>(&self, key: &str, read: impl FnOnce(&Node<'a>) -> Res<T>) -> Res<Option<T>> {
        self.get(key).map(|n| read(&n)).transpose()
    }

    /// Element `i` of an array node (callers iterate via [`Node::array`]).
    fn at(&self, i: usize, v: &'a Value) -> Node<'a> {
        Node {
            v,
            path: format!("{}[{i}]", self.path),
        }
    }

    /// The object, or an error with `expected` (`is not an object …`).
    pub fn object(&self, expected: &str) -> Res<&'a Map<String, Value>> {
        self.v.as_object().ok_or_else(|| self.err(expected))
    }

    /// Refuse any field of this object not in `known` (strict native
    /// shape, SPEC §13): the error names the field's path and, when a known
    /// field is within two edits, suggests it. Fields starting with `$` or
    /// `x-` are the operator's own and pass.
    pub fn known_fields(&self, known: &[&str]) -> Res<()> {
        let Some(map) = self.v.as_object() else {
            return Ok(());
        };
        for key in map.keys() {
            if known.contains(&key.as_str()) || key.starts_with('$') || key.starts_with("x-") {
                continue;
            }
            return Err(unknown_field(&self.path, key, known));
        }
        Ok(())
    }

    /// The elements of an array, each with its path.
    pub fn array(&self, expected: &str) -> Res<Vec<Node<'a>>> {
        match self.v {
            Value::Array(items) => Ok(items
                .iter()
                .enumerate()
                .map(|(i, v)| self.at(i, v))
                .collect()),
            _ => Err(self.err(expected)),
        }
    }

    /// A string.
    pub fn str(&self, expected: &str) -> Res<&'a str> {
        self.v.as_str().ok_or_else(|| self.err(expected))
    }

    /// A boolean.
    pub fn bool(&self) -> Res<bool> {
        self.v
            .as_bool()
            .ok_or_else(|| self.err("is not a boolean (true or false)"))
    }

    /// An integer written without fraction or exponent; `expected` describes
    /// the allowed values and is used for every refusal (wrong type, float,
    /// too large for even `i128`).
    pub fn integer(&self, expected: &str) -> Res<i128> {
        match self.v {
            Value::Number(n) => {
                let text = n.to_string();
                if text.contains(['.', 'e', 'E']) {
                    return Err(self.err(expected));
                }
                text.parse::<i128>().map_err(|_| self.err(expected))
            }
            _ => Err(self.err(expected)),
        }
    }

    /// An integer in `[lo, hi]`.
    pub fn int_in(&self, lo: i128, hi: i128, expected: &str) -> Res<i128> {
        let n = self.integer(expected)?;
        if (lo..=hi).contains(&n) {
            Ok(n)
        } else {
            Err(self.err(expected))
        }
    }

    /// A non-negative count.
    pub fn count(&self) -> Res<u64> {
        let n = self.int_in(0, u64::MAX as i128, COUNT)?;
        u64::try_from(n).map_err(|_| self.err(COUNT))
    }

    /// A priority (`i32`).
    pub fn priority(&self) -> Res<i32> {
        let n = self.int_in(i32::MIN as i128, i32::MAX as i128, PRIORITY)?;
        i32::try_from(n).map_err(|_| self.err(PRIORITY))
    }

    /// A weight (`u32`, negatives invalid).
    pub fn weight(&self) -> Res<u32> {
        let n = self.int_in(0, u32::MAX as i128, WEIGHT)?;
        u32::try_from(n).map_err(|_| self.err(WEIGHT))
    }

    /// An exact, non-negative money amount from a JSON number or string.
    pub fn money(&self) -> Res<Money> {
        let text = match self.v {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            _ => return Err(self.err(MONEY)),
        };
        match Money::parse(&text) {
            Ok(m) if m.0 >= 0 => Ok(m),
            Ok(_) => Err(self.err(MONEY)),
            Err(e) => Err(self.err(format!("{e}; expected {MONEY_SHORT}"))),
        }
    }

    /// An id: a non-empty string, or an integer (kept as its decimal text).
    pub fn id(&self) -> Res<String> {
        match self.v {
            Value::String(s) if s.len() > crate::model::MAX_NAME_BYTES => Err(self.err(format!(
                "is not an id: longer than {} bytes",
                crate::model::MAX_NAME_BYTES
            ))),
            Value::String(s) if !s.trim().is_empty() => Ok(s.clone()),
            Value::Number(n) => {
                self.integer(ID)?;
                // JSON writes an integer in its shortest decimal form (no
                // `+`, no leading zeros) except `-0`; kept as text, so the
                // wasm build links no 128-bit integer formatting
                let text = n.to_string();
                Ok(if text == "-0" { "0".to_string() } else { text })
            }
            _ => Err(self.err(ID)),
        }
    }
}

/// Longest field name compared for a suggestion: known fields are at most
/// 22 characters and a suggestion is at most two edits away, so a longer
/// name cannot match and is refused without comparing (microseconds for a
/// 1 MiB key).
const MAX_SUGGESTED_FIELD_CHARS: usize = 32;

/// The error for an unknown field `key` of the object at `path`.
pub(crate) fn unknown_field(path: &str, key: &str, known: &[&str]) -> ConfigError {
    let shown = match key.char_indices().nth(MAX_VALUE_CHARS) {
        Some((cut, _)) => format!("{}…", &key[..cut]),
        None => key.to_string(),
    };
    let mut message = format!("unknown field `{shown}`");
    if let Some(near) = suggest_field(key, known) {
        message.push_str(&format!("; did you mean `{near}`?"));
    } else {
        let mut names: Vec<&str> = known.to_vec();
        names.sort_unstable();
        message.push_str(&format!(
            "; known fields here: {} (fields starting with `$` or `x-` are ignored)",
            names.join(", ")
        ));
    }
    // the key is shown in the path, cut like the message
    error_at(&join(path, &shown), String::new(), message)
}

/// The known field within two edits of `key` (closest, then first listed).
pub(crate) fn suggest_field<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    if key.len() > MAX_SUGGESTED_FIELD_CHARS * 4 || key.chars().count() > MAX_SUGGESTED_FIELD_CHARS
    {
        return None;
    }
    let lower = key.to_ascii_lowercase();
    known
        .iter()
        .map(|k| (strsim::levenshtein(&lower, k), *k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Expected text for counts.
pub(crate) const COUNT: &str = "is not a count (an integer from 0 to 18446744073709551615)";
/// Expected text for priorities.
pub(crate) const PRIORITY: &str = "is not a priority (an integer from -2147483648 to 2147483647)";
/// Expected text for weights.
pub(crate) const WEIGHT: &str = "is not a weight (an integer from 0 to 4294967295)";
/// Expected text for ids.
pub(crate) const ID: &str = "is not an id (a non-empty string or an integer)";
const MONEY_SHORT: &str =
    "a non-negative decimal amount with at most 2 decimals, as a number or string";
/// Expected text for money.
pub(crate) const MONEY: &str =
    "is not a money amount (a non-negative decimal with at most 2 decimals, as a number or string)";

#[cfg(test)]
mod tests {
    use super::*;

    /// An integer id is the decimal text of its value, as `i128` writes it.
    #[test]
    fn integer_ids_are_their_value_in_decimal() {
        for text in [
            "0",
            "-0",
            "7",
            "-7",
            "1000000",
            "18446744073709551616",
            "-9223372036854775809",
            "170141183460469231731687303715884105727",
            "-170141183460469231731687303715884105728",
        ] {
            let v: Value = serde_json::from_str(text).unwrap();
            let id = Node::root(&v).id().unwrap();
            assert_eq!(id, text.parse::<i128>().unwrap().to_string(), "{text}");
        }
        for text in [
            "1.0",
            "1e3",
            "-0.0",
            "170141183460469231731687303715884105728",
        ] {
            let v: Value = serde_json::from_str(text).unwrap();
            assert!(Node::root(&v).id().is_err(), "{text}");
        }
    }
}
