//! The random draws of a run: exponential gaps and lengths, integer-threshold
//! chances, and the arrival process.

use chrono::{DateTime, Utc};
use rand_core::Rng;

use crate::caps::Period;
use crate::route::{rng_from_seed, RouteRng};
use crate::window::window;
use crate::zone::Instant;

use super::Profile;

/// `ln(x)` for `x > 0` from IEEE basic operations only (`+ - × /` are
/// correctly rounded everywhere; the platform `ln` is not), so exponential
/// draws are the same on every platform. Relative error below 1e-15.
pub fn portable_ln(x: f64) -> f64 {
    const LN2: f64 = std::f64::consts::LN_2;
    const SQRT2: f64 = std::f64::consts::SQRT_2;
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    if x.is_infinite() {
        return x;
    }
    // Scale subnormals into the normal range first.
    let (x, bias) = if x < f64::MIN_POSITIVE {
        (x * 2f64.powi(54), -54)
    } else {
        (x, 0)
    };
    let bits = x.to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023 + bias;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if m > SQRT2 {
        m /= 2.0;
        e += 1;
    }
    // ln m = 2 atanh(s), s = (m-1)/(m+1), |s| <= 0.1716: the series
    // s + s³/3 + s⁵/5 + … has converged to f64 precision after 12 terms.
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut term = s;
    let mut sum = s;
    for k in 1..=12 {
        term *= s2;
        sum += term / f64::from(2 * k + 1);
    }
    2.0 * sum + e as f64 * LN2
}

/// An exponential draw of mean 1 from 53 random bits.
pub(super) fn exp1(rng: &mut RouteRng) -> f64 {
    // u in (0, 1]: never ln(0)
    let u = ((rng.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64);
    -portable_ln(u)
}

/// A probability as an integer threshold over `next_u32`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Chance(u64);

impl Chance {
    pub(super) fn new(p: f64) -> Chance {
        Chance((p.clamp(0.0, 1.0) * 4_294_967_296.0).round() as u64)
    }
    pub(super) fn hit(self, rng: &mut RouteRng) -> bool {
        u64::from(rng.next_u32()) < self.0
    }
}

pub(super) fn stream(seed: u64, n: u64) -> RouteRng {
    let mut r = rng_from_seed(seed);
    r.set_stream(n);
    r
}

pub(super) fn at_ms(ms: i64) -> Instant {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Poisson arrivals over `[from, to)`, piecewise-constant rate.
pub(super) struct Arrivals<'a> {
    pub(super) rng: RouteRng,
    pub(super) profile: Option<&'a Profile>,
    pub(super) base_per_ms: f64,
    /// Current position (ms, fractional) and the end of its constant-rate segment.
    pub(super) t: f64,
    pub(super) seg_end: i64,
    pub(super) rate_per_ms: f64,
    pub(super) to: i64,
}

impl Arrivals<'_> {
    pub(super) fn enter_segment(&mut self, start: i64) {
        self.t = start as f64;
        match self.profile {
            None => {
                self.seg_end = self.to;
                self.rate_per_ms = self.base_per_ms;
            }
            Some(p) => {
                let at = at_ms(start);
                let end = window(&p.zone, Period::Hour, at).end.timestamp_millis();
                self.seg_end = end.clamp(start + 1, self.to);
                self.rate_per_ms = self.base_per_ms * p.factor(at);
            }
        }
    }

    pub(super) fn next(&mut self) -> Option<i64> {
        loop {
            let start = self.t as i64;
            if start >= self.to {
                return None;
            }
            if self.rate_per_ms > 0.0 {
                let t = self.t + exp1(&mut self.rng) / self.rate_per_ms;
                if t < self.seg_end as f64 {
                    self.t = t;
                    return Some(t as i64);
                }
            }
            let next = self.seg_end;
            if next >= self.to {
                self.t = self.to as f64;
                return None;
            }
            self.enter_segment(next);
        }
    }
}
