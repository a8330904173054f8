//! The hour-of-week shape of the arrival rate: [`Profile`].

use chrono::{Datelike, Timelike};

use crate::zone::{self, Instant, UnknownZone, Zone};

/// Relative arrival weights per local hour of the week.
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    /// Zone whose local hours the weights follow.
    pub zone: Zone,
    /// Weight of each hour: index `weekday × 24 + hour`, weekday 0 = Sunday.
    pub weights: [f64; 168],
}

/// Why a profile was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// The text starts like JSON but does not parse.
    #[error("is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// An item of a comma-separated list is not a number.
    #[error("{0:?} is not a number")]
    NotANumber(String),
    /// `time_zone` names no known zone.
    #[error("time_zone: {0}")]
    Zone(#[from] UnknownZone),
    /// `time_zone` is not a string.
    #[error("time_zone: {0} is not a zone name")]
    ZoneNotAString(String),
    /// An object without `weights`.
    #[error("has no \"weights\" array")]
    NoWeights,
    /// `weights` is not an array.
    #[error("weights must be an array")]
    WeightsNotAnArray,
    /// A JSON weight is not a number (`at` is its index path, e.g. `[3][7]`).
    #[error("weights{at}: {value} is not a number")]
    WeightNotANumber {
        /// Index path of the weight.
        at: String,
        /// The value found, as JSON.
        value: String,
    },
    /// A day row of a 7×24 array without 24 entries.
    #[error("weights[{row}] has {len} entries; a day row has 24")]
    RowLength {
        /// Index of the row.
        row: usize,
        /// Entries it has.
        len: usize,
    },
    /// Neither 24 nor 168 weights.
    #[error("has {0} weights; give 24 (hour of day) or 168 (hour of week, Sunday first)")]
    Count(usize),
    /// A negative, infinite or NaN weight.
    #[error("weight {0} is not a finite number >= 0")]
    BadWeight(f64),
    /// Weights whose sum overflows.
    #[error("the weights are too large to add up")]
    TooLarge,
    /// Every weight is zero, so no call would arrive.
    #[error("every weight is 0: no call would ever arrive")]
    AllZero,
}

impl ProfileError {
    /// Whether the message contains `needle`: for callers that match on the
    /// text the CLI prints.
    pub fn contains(&self, needle: &str) -> bool {
        self.to_string().contains(needle)
    }
}

impl Profile {
    /// Parse a profile: a comma-separated list or a JSON array of 24
    /// (hour of day, every day) or 168 (hour of week, Sunday 00:00 first)
    /// non-negative numbers, a JSON 7×24 array (Sunday first), or
    /// `{"time_zone": "America/New_York", "weights": <one of those>}`.
    /// Without a zone the hours are UTC.
    pub fn parse(text: &str) -> Result<Profile, ProfileError> {
        let t = text.trim();
        if t.starts_with('[') || t.starts_with('{') {
            let v: serde_json::Value = serde_json::from_str(t)?;
            return Self::from_json(&v);
        }
        let nums = t
            .split(',')
            .map(|s| {
                let s = s.trim();
                s.parse::<f64>()
                    .map_err(|_| ProfileError::NotANumber(s.to_string()))
            })
            .collect::<Result<Vec<f64>, ProfileError>>()?;
        Self::from_weights(Zone::utc(), &nums)
    }

    /// A profile from parsed JSON (any JSON shape of [`Profile::parse`]).
    pub fn from_json(v: &serde_json::Value) -> Result<Profile, ProfileError> {
        use serde_json::Value;
        let (zone, weights) = match v {
            Value::Object(m) => {
                let zone = match m.get("time_zone") {
                    None | Some(Value::Null) => Zone::utc(),
                    Some(Value::String(name)) => Zone::new(zone::resolve(name)?.tz),
                    Some(other) => return Err(ProfileError::ZoneNotAString(other.to_string())),
                };
                let w = m.get("weights").ok_or(ProfileError::NoWeights)?;
                (zone, w)
            }
            other => (Zone::utc(), other),
        };
        let Value::Array(items) = weights else {
            return Err(ProfileError::WeightsNotAnArray);
        };
        let mut nums = Vec::with_capacity(168);
        let num = |x: &Value, at: String| {
            x.as_f64().ok_or_else(|| ProfileError::WeightNotANumber {
                at,
                value: x.to_string(),
            })
        };
        for (i, x) in items.iter().enumerate() {
            match x {
                Value::Array(row) => {
                    if row.len() != 24 {
                        return Err(ProfileError::RowLength {
                            row: i,
                            len: row.len(),
                        });
                    }
                    for (h, y) in row.iter().enumerate() {
                        nums.push(num(y, format!("[{i}][{h}]"))?);
                    }
                }
                _ => nums.push(num(x, format!("[{i}]"))?),
            }
        }
        Self::from_weights(zone, &nums)
    }

    /// A profile from 24 or 168 weights (see [`Profile::parse`]).
    pub fn from_weights(zone: Zone, nums: &[f64]) -> Result<Profile, ProfileError> {
        if nums.len() != 24 && nums.len() != 168 {
            return Err(ProfileError::Count(nums.len()));
        }
        if let Some(bad) = nums.iter().find(|w| !w.is_finite() || **w < 0.0) {
            return Err(ProfileError::BadWeight(*bad));
        }
        if !nums.iter().sum::<f64>().is_finite() {
            return Err(ProfileError::TooLarge);
        }
        if nums.iter().all(|w| *w == 0.0) {
            return Err(ProfileError::AllZero);
        }
        let mut weights = [0.0; 168];
        for (i, w) in weights.iter_mut().enumerate() {
            *w = nums[i % nums.len()];
        }
        Ok(Profile { zone, weights })
    }

    /// Weight of the local hour of the week at `t`, relative to the mean (1.0).
    pub(crate) fn factor(&self, t: Instant) -> f64 {
        let local = self.zone.local(t);
        let i = local.weekday().num_days_from_sunday() as usize * 24 + local.hour() as usize;
        let sum: f64 = self.weights.iter().sum();
        self.weights[i % 168] * 168.0 / sum
    }
}
