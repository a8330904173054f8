//! What to simulate: [`SimParams`], its defaults, and why a run may refuse
//! to start ([`SimError`]).

use crate::filter::CallAttrs;
use crate::model::Config;
use crate::money::Money;
use crate::render;
use crate::zone::{self, Instant};

use super::Profile;

/// Default average arrival rate.
pub const DEFAULT_CALLS_PER_HOUR: f64 = 60.0;
/// Default probability that a rung target answers.
pub const DEFAULT_ANSWER_RATE: f64 = 0.8;
/// Default probability that a connected call converts.
pub const DEFAULT_CONVERT_RATE: f64 = 0.3;
/// Default revenue of a conversion: 20.00.
pub const DEFAULT_REVENUE: Money = Money(2000);
/// Default mean call length: 3 minutes.
pub const DEFAULT_MEAN_DURATION_SECS: f64 = 180.0;
/// Longest simulated span: ten years of hourly buckets stay small.
pub const MAX_SPAN_DAYS: i64 = 3660;
/// Most calls a run may expect (`calls_per_hour` × hours): a guard against
/// absurd inputs only (a trillion calls is days of CPU, and every count
/// stays far below `u64::MAX`). Memory does not grow with the number of
/// calls: the state forgets settled calls after the config's
/// `call_retention_seconds`, so a run holds the live calls plus those
/// settled within the retention, whatever its length.
pub const MAX_EXPECTED_CALLS: f64 = 1e12;

/// Why [`simulate`](super::simulate) refused its parameters. The messages
/// name the CLI flags, since the CLI prints them as they are.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// `from` or `to` lies outside the years the zone tables cover.
    #[error("--from and --to must lie in 1970..2100")]
    OutOfRange,
    /// `to` is not after `from`.
    #[error("--to must be after --from")]
    EmptyWindow,
    /// The window is longer than [`MAX_SPAN_DAYS`].
    #[error("--to is more than {max} days after --from", max = MAX_SPAN_DAYS)]
    SpanTooLong,
    /// The rate is negative, infinite or NaN.
    #[error("--calls-per-hour must be a finite number >= 0")]
    CallsPerHour,
    /// The run would expect more than [`MAX_EXPECTED_CALLS`] calls.
    #[error("--calls-per-hour {calls_per_hour} over {hours:.0} hours is about {calls:.0} calls; a run takes at most {max:.0}", calls = .calls_per_hour * .hours, max = MAX_EXPECTED_CALLS)]
    TooManyCalls {
        /// The rate asked for.
        calls_per_hour: f64,
        /// Hours in the window.
        hours: f64,
    },
    /// A probability outside `0..=1`.
    #[error("{flag} {value} must be between 0 and 1")]
    Rate {
        /// The flag it came from (`--answer-rate`, `--convert-rate`).
        flag: &'static str,
        /// The value given.
        value: f64,
    },
    /// A negative revenue per conversion.
    #[error("--revenue {0} must not be negative")]
    NegativeRevenue(Money),
    /// A mean call length that is not in `(0, 30 days]`.
    #[error("--mean-duration must be > 0 and at most 30 days (in seconds)")]
    MeanDuration,
    /// The run starts before the config's `as_of`, whose imported usage
    /// belongs to later windows.
    #[error("--from {} is before the config's as_of {}: its imported usage belongs to later windows; start at or after as_of, or pass --fresh to ignore the imported usage", show(.from), show(.as_of))]
    BeforeAsOf {
        /// Start of the run.
        from: Instant,
        /// The config's `as_of`.
        as_of: Instant,
    },
}

fn show(t: &Instant) -> String {
    render::instant(*t)
}

impl SimError {
    /// Whether the message contains `needle`: for callers that match on the
    /// text the CLI prints.
    pub fn contains(&self, needle: &str) -> bool {
        self.to_string().contains(needle)
    }
}

/// What to simulate. [`SimParams::new`] fills the documented defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct SimParams {
    /// First instant of the arrival window.
    pub from: Instant,
    /// End of the arrival window (exclusive).
    pub to: Instant,
    /// Average arrivals per hour.
    pub calls_per_hour: f64,
    /// Hour-of-week shape of the arrival rate; `None` = flat.
    pub profile: Option<Profile>,
    /// Probability that a rung target answers, `0..=1`.
    pub answer_rate: f64,
    /// Probability that a connected call converts, `0..=1`.
    pub convert_rate: f64,
    /// Revenue of each conversion.
    pub revenue: Money,
    /// Mean call length in seconds (exponential).
    pub mean_duration_secs: f64,
    /// Seed of every random draw.
    pub seed: u64,
    /// Start from empty counters instead of the config's imported usage.
    pub fresh: bool,
    /// Who calls: a weighted mix of attribute sets; `None` = calls without
    /// attributes.
    pub calls: Option<CallMix>,
}

/// A weighted mix of call attribute sets and the share of repeat callers
/// (`simulate --tags FILE`).
///
/// File format (JSON): `{"repeat_callers": 0.2, "sets": [{"weight": 3,
/// "tags": {"geo": "us-nc", "age": "70"}}, {"weight": 1, "tags": {...}}]}`.
/// Each call draws a set with probability weight / total; its caller is,
/// with probability `repeat_callers`, one who called before (uniformly),
/// else a new number. A set's own `caller` and `campaign` are ignored.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct CallMix {
    /// `(weight, attributes)`; weights are positive.
    pub sets: Vec<(u64, CallAttrs)>,
    /// Probability that a call comes from an earlier caller, `0..=1`.
    pub repeat_share: f64,
}

impl CallMix {
    /// Parse the `--tags` file; the error names what is wrong and where.
    pub fn parse(text: &str) -> Result<CallMix, String> {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let repeat_share = match v.get("repeat_callers") {
            None | Some(serde_json::Value::Null) => 0.0,
            Some(x) => x
                .as_f64()
                .filter(|r| (0.0..=1.0).contains(r))
                .ok_or_else(|| format!("repeat_callers: {x} is not a share between 0 and 1"))?,
        };
        let list = v
            .get("sets")
            .and_then(|s| s.as_array())
            .filter(|s| !s.is_empty())
            .ok_or("sets: a non-empty array of {\"weight\", \"tags\"} is required")?;
        let mut sets = Vec::with_capacity(list.len());
        for (i, set) in list.iter().enumerate() {
            let weight = match set.get("weight") {
                None => 1,
                Some(w) => w
                    .as_u64()
                    .filter(|&w| w > 0 && w <= u64::from(u32::MAX))
                    .ok_or_else(|| {
                        format!("sets[{i}].weight: {w} is not a whole number 1..=4294967295")
                    })?,
            };
            let attrs: CallAttrs =
                serde_json::from_value(set.clone()).map_err(|e| format!("sets[{i}]: {e}"))?;
            let mut only_tags = CallAttrs::new();
            for (k, vals) in attrs.tags() {
                for x in vals {
                    only_tags.add_tag(k, x);
                }
            }
            sets.push((weight, only_tags));
        }
        Ok(CallMix { sets, repeat_share })
    }
}

impl SimParams {
    /// Defaults for everything but the window and the seed.
    pub fn new(from: Instant, to: Instant, seed: u64) -> SimParams {
        SimParams {
            from,
            to,
            calls_per_hour: DEFAULT_CALLS_PER_HOUR,
            profile: None,
            answer_rate: DEFAULT_ANSWER_RATE,
            convert_rate: DEFAULT_CONVERT_RATE,
            revenue: DEFAULT_REVENUE,
            mean_duration_secs: DEFAULT_MEAN_DURATION_SECS,
            seed,
            fresh: false,
            calls: None,
        }
    }

    /// Check the parameters against each other and the config.
    pub(crate) fn validate(&self, config: &Config) -> Result<(), SimError> {
        if !zone::is_supported(self.from) || !zone::is_supported(self.to) {
            return Err(SimError::OutOfRange);
        }
        if self.to <= self.from {
            return Err(SimError::EmptyWindow);
        }
        if (self.to - self.from).num_days() > MAX_SPAN_DAYS {
            return Err(SimError::SpanTooLong);
        }
        if !(self.calls_per_hour.is_finite() && self.calls_per_hour >= 0.0) {
            return Err(SimError::CallsPerHour);
        }
        let hours = (self.to - self.from).num_seconds() as f64 / 3600.0;
        if self.calls_per_hour * hours > MAX_EXPECTED_CALLS {
            return Err(SimError::TooManyCalls {
                calls_per_hour: self.calls_per_hour,
                hours,
            });
        }
        for (flag, p) in [
            ("--answer-rate", self.answer_rate),
            ("--convert-rate", self.convert_rate),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(SimError::Rate { flag, value: p });
            }
        }
        if self.revenue < Money::ZERO {
            return Err(SimError::NegativeRevenue(self.revenue));
        }
        if !(self.mean_duration_secs.is_finite()
            && self.mean_duration_secs > 0.0
            && self.mean_duration_secs <= 86_400.0 * 30.0)
        {
            return Err(SimError::MeanDuration);
        }
        if !self.fresh {
            if let Some(as_of) = config.as_of {
                if self.from < as_of {
                    return Err(SimError::BeforeAsOf {
                        from: self.from,
                        as_of,
                    });
                }
            }
        }
        Ok(())
    }
}
