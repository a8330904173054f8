//! Synthetic traffic through the real engine: what a config does to a week
//! (or a month) of calls, before a live call meets it.
//!
//! Every decision goes through the same code as live traffic: [`State`] for
//! counters and the lifecycle, [`eligibility::check`] for who may take each
//! call, and a reused [`Planner`] for the failover order. Nothing about caps,
//! hours or order is re-implemented here; the simulator only invents callers.
//!
//! # The model
//!
//! - **Arrivals**: a Poisson process of `calls_per_hour` on average over
//!   `[from, to)`. With a [`Profile`], the rate of each local hour of the
//!   week (in the profile's zone) is `calls_per_hour × w / mean(w)`, so the
//!   weekly average stays `calls_per_hour`. Gaps are exponential; at an hour
//!   boundary the draw restarts at the new rate (exact for a
//!   piecewise-constant rate, by memorylessness).
//! - **Offer**: each call is checked, then offered down its plan, drawn
//!   lazily step by step. A target step answers with probability
//!   `answer_rate`. A simultaneous group step rings every eligible member; each
//!   answers with `answer_rate`, and the step answers if any does, the
//!   connecting member drawn uniformly among those that answered.
//! - **Connect**: the answering target is `connect`ed through the [`State`].
//!   A refused connect (the re-check found a cap reached) moves on to the next
//!   answering member of a group step, then to the next step. In this
//!   single-threaded simulation every step happens at the arrival instant, so
//!   refusals are rare, but they are counted rather than assumed away.
//! - **Conversion and end**: a connected call converts with probability
//!   `convert_rate` for `revenue`; it lasts an exponential time of mean
//!   `mean_duration_secs` (at least 1 ms). The conversion is recorded at the
//!   call's end instant, just before the `end` (the pay-per-call "qualified
//!   call" decision is made when the call is over). Ends are kept in an event
//!   queue and processed in time order with arrivals; an end and an arrival at
//!   the same millisecond: the end first. Calls still live at `to` are ended
//!   (and converted) after it, so every connected call is settled.
//!
//! # Randomness
//!
//! Everything derives from `seed`, through four independent ChaCha8 streams
//! ([`rng_from_seed`] then `set_stream`): 0 = route order (so the first call's
//! plan is the one `routecap route --seed N` prints), 1 = arrival times,
//! 2 = answers and conversions, 3 = durations. Separate streams keep the
//! arrivals identical when only the answer or convert rate changes, so two
//! configs or two rates are compared on the same callers. Probabilities are
//! compared as integers (`next_u32 < round(p × 2³²)`), and the exponential
//! draws use [`portable_ln`], built from IEEE basic operations only, so a run
//! gives the same report on every platform. Time is kept in integer
//! milliseconds.
//!
//! # Imported usage
//!
//! By default the run starts from the config's imported usage (what the
//! engine would start with), which belongs to the windows containing
//! `as_of`; `--from` must then not be before `as_of`. Imported live calls are
//! never released (their end is never seen). [`SimParams::fresh`] starts from
//! empty counters instead.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt::Write as _;
use std::num::NonZeroU64;

use chrono::{DateTime, Datelike, Timelike, Utc};
use rand_core::Rng;
use routecap_core::caps::{Period, Usage};
use routecap_core::eligibility::{self, Reason, ReasonCode};
use routecap_core::lifecycle::{ConnectOutcome, State};
use routecap_core::model::{CandidateRef, Config};
use routecap_core::money::Money;
use routecap_core::route::{rng_from_seed, uniform_below, Planner, RouteRng, Step};
use routecap_core::window::window;
use routecap_core::zone::{self, Instant, Zone};

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
/// Most calls a run may expect (`calls_per_hour` × hours): the state keeps a
/// record of every connected call (a few hundred bytes each).
pub const MAX_EXPECTED_CALLS: f64 = 50_000_000.0;

const HOUR_MS: i64 = 3_600_000;
/// Arrivals between two progress reports.
const PROGRESS_EVERY: u64 = 1 << 14;

/// Relative arrival weights per local hour of the week.
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    /// Zone whose local hours the weights follow.
    pub zone: Zone,
    /// Weight of each hour: index `weekday × 24 + hour`, weekday 0 = Sunday.
    pub weights: [f64; 168],
}

impl Profile {
    /// Parse a profile: a comma-separated list or a JSON array of 24
    /// (hour of day, every day) or 168 (hour of week, Sunday 00:00 first)
    /// non-negative numbers, a JSON 7×24 array (Sunday first), or
    /// `{"time_zone": "America/New_York", "weights": <one of those>}`.
    /// Without a zone the hours are UTC.
    pub fn parse(text: &str) -> Result<Profile, String> {
        let t = text.trim();
        if t.starts_with('[') || t.starts_with('{') {
            let v: serde_json::Value =
                serde_json::from_str(t).map_err(|e| format!("is not valid JSON: {e}"))?;
            return Self::from_json(&v);
        }
        let nums = t
            .split(',')
            .map(|s| {
                let s = s.trim();
                s.parse::<f64>()
                    .map_err(|_| format!("{s:?} is not a number"))
            })
            .collect::<Result<Vec<f64>, String>>()?;
        Self::from_weights(Zone::utc(), &nums)
    }

    fn from_json(v: &serde_json::Value) -> Result<Profile, String> {
        use serde_json::Value;
        let (zone, weights) = match v {
            Value::Object(m) => {
                let zone = match m.get("time_zone") {
                    None | Some(Value::Null) => Zone::utc(),
                    Some(Value::String(name)) => zone::resolve(name)
                        .map(|r| Zone::new(r.tz))
                        .map_err(|e| format!("time_zone: {e}"))?,
                    Some(other) => return Err(format!("time_zone: {other} is not a zone name")),
                };
                let w = m
                    .get("weights")
                    .ok_or_else(|| "has no \"weights\" array".to_string())?;
                (zone, w)
            }
            other => (Zone::utc(), other),
        };
        let Value::Array(items) = weights else {
            return Err("weights must be an array".into());
        };
        let mut nums = Vec::with_capacity(168);
        let num = |x: &Value, at: String| {
            x.as_f64()
                .ok_or_else(|| format!("weights{at}: {x} is not a number"))
        };
        for (i, x) in items.iter().enumerate() {
            match x {
                Value::Array(row) => {
                    if row.len() != 24 {
                        return Err(format!(
                            "weights[{i}] has {} entries; a day row has 24",
                            row.len()
                        ));
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
    pub fn from_weights(zone: Zone, nums: &[f64]) -> Result<Profile, String> {
        if nums.len() != 24 && nums.len() != 168 {
            return Err(format!(
                "has {} weights; give 24 (hour of day) or 168 (hour of week, Sunday first)",
                nums.len()
            ));
        }
        if let Some(bad) = nums.iter().find(|w| !w.is_finite() || **w < 0.0) {
            return Err(format!("weight {bad} is not a finite number >= 0"));
        }
        if !nums.iter().sum::<f64>().is_finite() {
            return Err("the weights are too large to add up".into());
        }
        if nums.iter().all(|w| *w == 0.0) {
            return Err("every weight is 0: no call would ever arrive".into());
        }
        let mut weights = [0.0; 168];
        for (i, w) in weights.iter_mut().enumerate() {
            *w = nums[i % nums.len()];
        }
        Ok(Profile { zone, weights })
    }

    /// Weight of the local hour of the week at `t`, relative to the mean (1.0).
    fn factor(&self, t: Instant) -> f64 {
        let local = self.zone.local(t);
        let i = local.weekday().num_days_from_sunday() as usize * 24 + local.hour() as usize;
        let sum: f64 = self.weights.iter().sum();
        self.weights[i % 168] * 168.0 / sum
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
        }
    }

    fn validate(&self, config: &Config) -> Result<(), String> {
        if !zone::is_supported(self.from) || !zone::is_supported(self.to) {
            return Err("--from and --to must lie in 1970..2100".into());
        }
        if self.to <= self.from {
            return Err("--to must be after --from".into());
        }
        if (self.to - self.from).num_days() > MAX_SPAN_DAYS {
            return Err(format!(
                "--to is more than {MAX_SPAN_DAYS} days after --from"
            ));
        }
        if !(self.calls_per_hour.is_finite() && self.calls_per_hour >= 0.0) {
            return Err("--calls-per-hour must be a finite number >= 0".into());
        }
        let hours = (self.to - self.from).num_seconds() as f64 / 3600.0;
        if self.calls_per_hour * hours > MAX_EXPECTED_CALLS {
            return Err(format!(
                "--calls-per-hour {} over {hours:.0} hours is about {:.0} calls; a run takes at most {MAX_EXPECTED_CALLS:.0}",
                self.calls_per_hour,
                self.calls_per_hour * hours
            ));
        }
        for (flag, p) in [
            ("--answer-rate", self.answer_rate),
            ("--convert-rate", self.convert_rate),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("{flag} {p} must be between 0 and 1"));
            }
        }
        if self.revenue < Money::ZERO {
            return Err(format!("--revenue {} must not be negative", self.revenue));
        }
        if !(self.mean_duration_secs.is_finite()
            && self.mean_duration_secs > 0.0
            && self.mean_duration_secs <= 86_400.0 * 30.0)
        {
            return Err("--mean-duration must be > 0 and at most 30 days (in seconds)".into());
        }
        if !self.fresh {
            if let Some(as_of) = config.as_of {
                if self.from < as_of {
                    return Err(format!(
                        "--from {} is before the config's as_of {}: its imported usage belongs to later windows; start at or after as_of, or pass --fresh to ignore the imported usage",
                        render_instant(self.from),
                        render_instant(as_of)
                    ));
                }
            }
        }
        Ok(())
    }
}

fn render_instant(t: Instant) -> String {
    routecap_core::render::instant(t)
}

/// How often one reason made a candidate ineligible when a call was routed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The reason code.
    pub code: ReasonCode,
    /// The containing group it came from (printed as `group_...`).
    pub group: Option<usize>,
    /// Calls it was seen on.
    pub calls: u64,
}

impl Rejection {
    /// The printed code, e.g. `daily_cap` or `group_daily_cap`.
    pub fn code_string(&self) -> String {
        Reason {
            code: self.code,
            group: self.group,
            used: None,
            limit: None,
            until: None,
        }
        .code_string()
    }
}

/// Counts of one target, or one simultaneous group step.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OwnerStats {
    /// Calls that rang it (its step, or its group's step, was reached).
    pub offered: u64,
    /// Offers it answered.
    pub answered: u64,
    /// Calls connected to it.
    pub connected: u64,
    /// Answers whose `connect` the state refused.
    pub refused: u64,
    /// Connected calls that converted.
    pub converted: u64,
    /// Revenue of those conversions.
    pub revenue: Money,
    /// Calls on which it was ineligible.
    pub ineligible: u64,
    /// Why, per reason (one call may count under several reasons).
    pub rejections: Vec<Rejection>,
}

impl OwnerStats {
    fn reject(&mut self, r: &Reason) {
        match self
            .rejections
            .iter_mut()
            .find(|x| x.code == r.code && x.group == r.group)
        {
            Some(x) => x.calls += 1,
            None => self.rejections.push(Rejection {
                code: r.code,
                group: r.group,
                calls: 1,
            }),
        }
    }
}

/// One UTC hour of the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HourBucket {
    /// Start of the hour.
    pub start: Instant,
    /// Arrivals.
    pub calls: u64,
    /// Calls that found no eligible target.
    pub no_eligible: u64,
    /// Calls that found targets but nobody answered (or every connect was refused).
    pub unanswered: u64,
    /// Connects per target (index into `Config::targets`).
    pub connected: Vec<u64>,
    /// Usage of each owner (targets, then groups) as the state saw it at the
    /// last millisecond of the hour.
    pub usage: Vec<Usage>,
    /// Most live calls of each owner (targets, then groups) during the hour.
    pub peak_live: Vec<u64>,
}

/// The outcome of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct SimReport {
    /// The parameters, as run.
    pub params: SimParams,
    /// Arrivals.
    pub calls: u64,
    /// Calls with at least one eligible candidate.
    pub routed: u64,
    /// Calls connected.
    pub connected: u64,
    /// Calls converted.
    pub converted: u64,
    /// Total revenue.
    pub revenue: Money,
    /// Calls that found no eligible target.
    pub no_eligible: u64,
    /// Calls that found targets but nobody answered.
    pub unanswered: u64,
    /// Per target, config order.
    pub targets: Vec<OwnerStats>,
    /// Per group, config order (offers and rejections only for simultaneous
    /// groups, which are route steps of their own; connects, conversions and
    /// revenue of their members for every group).
    pub groups: Vec<OwnerStats>,
    /// One bucket per UTC hour from the hour containing `from` to the one
    /// containing the last instant before `to`.
    pub hours: Vec<HourBucket>,
}

/// Progress of a run, for a progress bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Simulated milliseconds done.
    pub done_ms: u64,
    /// Simulated milliseconds in all.
    pub total_ms: u64,
}

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
fn exp1(rng: &mut RouteRng) -> f64 {
    // u in (0, 1]: never ln(0)
    let u = ((rng.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64);
    -portable_ln(u)
}

/// A probability as an integer threshold over `next_u32`.
#[derive(Clone, Copy, Debug)]
struct Chance(u64);

impl Chance {
    fn new(p: f64) -> Chance {
        Chance((p.clamp(0.0, 1.0) * 4_294_967_296.0).round() as u64)
    }
    fn hit(self, rng: &mut RouteRng) -> bool {
        u64::from(rng.next_u32()) < self.0
    }
}

fn stream(seed: u64, n: u64) -> RouteRng {
    let mut r = rng_from_seed(seed);
    r.set_stream(n);
    r
}

fn at_ms(ms: i64) -> Instant {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Poisson arrivals over `[from, to)`, piecewise-constant rate.
struct Arrivals<'a> {
    rng: RouteRng,
    profile: Option<&'a Profile>,
    base_per_ms: f64,
    /// Current position (ms, fractional) and the end of its constant-rate segment.
    t: f64,
    seg_end: i64,
    rate_per_ms: f64,
    to: i64,
}

impl Arrivals<'_> {
    fn enter_segment(&mut self, start: i64) {
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

    fn next(&mut self) -> Option<i64> {
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

/// A connected call waiting for its end: `(end ms, call number, target, converts)`.
type EndEvent = Reverse<(i64, u64, usize, bool)>;

/// Run the simulation. `progress` is called now and then with how much
/// simulated time is done. Errors are parameter errors, worded for the CLI.
pub fn simulate(
    config: &Config,
    params: &SimParams,
    progress: &mut dyn FnMut(Progress),
) -> Result<SimReport, String> {
    params.validate(config)?;
    let fresh_config;
    let config = if params.fresh {
        let mut c = config.clone();
        c.as_of = None;
        for t in &mut c.targets {
            t.usage = Usage::default();
        }
        for g in &mut c.groups {
            g.usage = Usage::default();
        }
        fresh_config = c;
        &fresh_config
    } else {
        config
    };
    Sim::new(config, params).run(progress)
}

struct Sim<'c> {
    config: &'c Config,
    params: &'c SimParams,
    state: State,
    nt: usize,
    groups_of: Vec<Vec<usize>>,
    act_rng: RouteRng,
    dur_rng: RouteRng,
    answer: Chance,
    convert: Chance,
    mean_duration_ms: f64,
    ends: BinaryHeap<EndEvent>,
    report: SimReport,
    /// Taken out while a plan is being offered (it borrows them).
    planner: Option<Planner>,
    route_rng: Option<RouteRng>,
    /// Live calls per owner (targets, then groups), imported ones included.
    live: Vec<u64>,
    /// Start of hour bucket 0 (ms) and the bucket events currently go to.
    hours_start: i64,
    bucket: usize,
    /// Per-call scratch: reasons, answering members, "already counted" marks.
    reasons: Vec<Reason>,
    answering: Vec<usize>,
    seen: Vec<u64>,
    call_id: String,
}

impl<'c> Sim<'c> {
    fn new(config: &'c Config, params: &'c SimParams) -> Self {
        let nt = config.targets.len();
        let mut state = State::new(config);
        state.anchor(config, params.from);
        let owners: Vec<CandidateRef> = (0..nt)
            .map(CandidateRef::Target)
            .chain((0..config.groups.len()).map(CandidateRef::Group))
            .collect();
        let live = owners
            .iter()
            .map(|&o| state.usage(config, o, params.from).live)
            .collect();
        let from_ms = params.from.timestamp_millis();
        let hours_start = from_ms.div_euclid(HOUR_MS) * HOUR_MS;
        let to_ms = params.to.timestamp_millis();
        let n_hours = ((to_ms - hours_start + HOUR_MS - 1) / HOUR_MS).max(1) as usize;
        let hours = (0..n_hours)
            .map(|i| HourBucket {
                start: at_ms(hours_start + i as i64 * HOUR_MS),
                calls: 0,
                no_eligible: 0,
                unanswered: 0,
                connected: vec![0; nt],
                usage: Vec::new(),
                peak_live: Vec::new(),
            })
            .collect();
        let mut sim = Sim {
            config,
            params,
            state,
            nt,
            groups_of: (0..nt).map(|t| config.groups_of(t).collect()).collect(),
            route_rng: Some(stream(params.seed, 0)),
            planner: Some(Planner::new()),
            act_rng: stream(params.seed, 2),
            dur_rng: stream(params.seed, 3),
            answer: Chance::new(params.answer_rate),
            convert: Chance::new(params.convert_rate),
            mean_duration_ms: params.mean_duration_secs * 1000.0,
            ends: BinaryHeap::new(),
            report: SimReport {
                params: params.clone(),
                calls: 0,
                routed: 0,
                connected: 0,
                converted: 0,
                revenue: Money::ZERO,
                no_eligible: 0,
                unanswered: 0,
                targets: vec![OwnerStats::default(); nt],
                groups: vec![OwnerStats::default(); config.groups.len()],
                hours,
            },
            live,
            hours_start,
            bucket: 0,
            reasons: Vec::new(),
            answering: Vec::new(),
            seen: vec![u64::MAX; nt],
            call_id: String::new(),
        };
        if let Some(b) = sim.report.hours.first_mut() {
            b.peak_live.clone_from(&sim.live);
        }
        sim
    }

    fn run(mut self, progress: &mut dyn FnMut(Progress)) -> Result<SimReport, String> {
        let p = self.params;
        let (from, to) = (p.from.timestamp_millis(), p.to.timestamp_millis());
        let total_ms = (to - from) as u64;
        let mut arrivals = Arrivals {
            rng: stream(p.seed, 1),
            profile: p.profile.as_ref(),
            base_per_ms: p.calls_per_hour / HOUR_MS as f64,
            t: from as f64,
            seg_end: from,
            rate_per_ms: 0.0,
            to,
        };
        arrivals.enter_segment(from);
        progress(Progress {
            done_ms: 0,
            total_ms,
        });
        let mut next_arrival = arrivals.next();
        let mut n: u64 = 0;
        loop {
            let next_end = self.ends.peek().map(|Reverse((t, ..))| *t);
            match (next_arrival, next_end) {
                (None, None) => break,
                (Some(a), Some(e)) if e <= a => self.end_call(),
                (None, Some(_)) => self.end_call(),
                (Some(a), _) => {
                    self.advance_to(a);
                    self.arrive(n, a);
                    n += 1;
                    if n % PROGRESS_EVERY == 0 {
                        progress(Progress {
                            done_ms: (a - from) as u64,
                            total_ms,
                        });
                    }
                    next_arrival = arrivals.next();
                }
            }
        }
        self.advance_to(i64::MAX);
        progress(Progress {
            done_ms: total_ms,
            total_ms,
        });
        Ok(self.report)
    }

    /// Close every hour bucket that ends at or before `t` (sampling usage at
    /// its last millisecond) and make the bucket containing `t` current.
    fn advance_to(&mut self, t: i64) {
        let last = self.report.hours.len();
        while self.bucket < last {
            let end = self.hours_start + (self.bucket as i64 + 1) * HOUR_MS;
            if t < end {
                return;
            }
            let at = at_ms(end - 1);
            let usage = (0..self.nt)
                .map(CandidateRef::Target)
                .chain((0..self.config.groups.len()).map(CandidateRef::Group))
                .map(|o| self.state.usage(self.config, o, at))
                .collect();
            self.report.hours[self.bucket].usage = usage;
            self.bucket += 1;
            if let Some(b) = self.report.hours.get_mut(self.bucket) {
                b.peak_live.clone_from(&self.live);
            }
        }
    }

    fn bucket_mut(&mut self) -> Option<&mut HourBucket> {
        self.report.hours.get_mut(self.bucket)
    }

    fn arrive(&mut self, n: u64, t_ms: i64) {
        let at = at_ms(t_ms);
        let config = self.config;
        self.report.calls += 1;
        if let Some(b) = self.bucket_mut() {
            b.calls += 1;
        }
        let reports = eligibility::check(config, &self.state, at);
        self.count_rejections(&reports, n, at);
        if !reports.iter().any(|r| r.eligible) {
            self.report.no_eligible += 1;
            if let Some(b) = self.bucket_mut() {
                b.no_eligible += 1;
            }
            return;
        }
        self.report.routed += 1;
        self.call_id.clear();
        let _ = write!(self.call_id, "c{n}");
        let (Some(mut planner), Some(mut rng)) = (self.planner.take(), self.route_rng.take())
        else {
            return;
        };
        let mut connected = false;
        for step in planner.lazy(config, &reports, &mut rng) {
            if self.offer(step, t_ms) {
                connected = true;
                break;
            }
        }
        self.planner = Some(planner);
        self.route_rng = Some(rng);
        if !connected {
            self.report.unanswered += 1;
            if let Some(b) = self.bucket_mut() {
                b.unanswered += 1;
            }
        }
    }

    /// Count why each candidate (and each member of a simultaneous group
    /// candidate, judged as a target) is ineligible for call `n`.
    fn count_rejections(&mut self, reports: &[eligibility::CandidateReport], n: u64, at: Instant) {
        let config = self.config;
        for rep in reports {
            match rep.candidate {
                CandidateRef::Target(t) => {
                    self.seen[t] = n;
                    if !rep.eligible {
                        let st = &mut self.report.targets[t];
                        st.ineligible += 1;
                        rep.reasons.iter().for_each(|r| st.reject(r));
                    }
                }
                CandidateRef::Group(g) => {
                    if !rep.eligible {
                        let st = &mut self.report.groups[g];
                        st.ineligible += 1;
                        rep.reasons.iter().for_each(|r| st.reject(r));
                    }
                    for &m in &config.groups[g].members {
                        if self.seen[m] == n || rep.eligible_members.contains(&m) && rep.eligible {
                            self.seen[m] = n;
                            continue;
                        }
                        self.seen[m] = n;
                        self.reasons.clear();
                        eligibility::target_reasons(config, &self.state, m, at, &mut self.reasons);
                        if !self.reasons.is_empty() {
                            let st = &mut self.report.targets[m];
                            st.ineligible += 1;
                            self.reasons.iter().for_each(|r| st.reject(r));
                        }
                    }
                }
            }
        }
    }

    /// Ring one plan step; `true` when the call connected.
    fn offer(&mut self, step: Step<'_>, t_ms: i64) -> bool {
        match step {
            Step::Target(t) => {
                self.report.targets[t].offered += 1;
                if !self.answer.hit(&mut self.act_rng) {
                    return false;
                }
                self.report.targets[t].answered += 1;
                self.try_connect(t, t_ms)
            }
            Step::Group { group, members } => {
                self.report.groups[group].offered += 1;
                self.answering.clear();
                for &m in members {
                    self.report.targets[m].offered += 1;
                    if self.answer.hit(&mut self.act_rng) {
                        self.report.targets[m].answered += 1;
                        self.answering.push(m);
                    }
                }
                if !self.answering.is_empty() {
                    self.report.groups[group].answered += 1;
                }
                // the connecting member: uniform among those that answered;
                // a refused one is dropped and another drawn
                while let Some(k) = NonZeroU64::new(self.answering.len() as u64) {
                    let i = uniform_below(&mut self.act_rng, k) as usize;
                    let m = self.answering.swap_remove(i);
                    if self.try_connect(m, t_ms) {
                        return true;
                    }
                }
                false
            }
        }
    }

    fn try_connect(&mut self, t: usize, t_ms: i64) -> bool {
        let at = at_ms(t_ms);
        match self.state.connect(self.config, &self.call_id, t, at) {
            Ok(ConnectOutcome::Connected) => {}
            Ok(ConnectOutcome::Refused(_)) | Err(_) => {
                self.report.targets[t].refused += 1;
                return false;
            }
        }
        self.report.connected += 1;
        self.report.targets[t].connected += 1;
        let bucket = self.bucket;
        let nt = self.nt;
        self.live[t] += 1;
        for &g in &self.groups_of[t] {
            self.live[nt + g] += 1;
            self.report.groups[g].connected += 1;
        }
        if let Some(b) = self.report.hours.get_mut(bucket) {
            b.connected[t] += 1;
            b.peak_live[t] = b.peak_live[t].max(self.live[t]);
            for &g in &self.groups_of[t] {
                b.peak_live[nt + g] = b.peak_live[nt + g].max(self.live[nt + g]);
            }
        }
        let converts = self.convert.hit(&mut self.act_rng);
        let dur = (exp1(&mut self.dur_rng) * self.mean_duration_ms).round() as i64;
        let seq = self.report.calls - 1;
        self.ends
            .push(Reverse((t_ms.saturating_add(dur.max(1)), seq, t, converts)));
        true
    }

    /// Settle the earliest live call: convert it (if it converts), then end it.
    fn end_call(&mut self) {
        let Some(Reverse((t_ms, seq, t, converts))) = self.ends.pop() else {
            return;
        };
        self.advance_to(t_ms);
        let at = at_ms(t_ms);
        self.call_id.clear();
        let _ = write!(self.call_id, "c{seq}");
        let revenue = self.params.revenue;
        if converts
            && self
                .state
                .convert(self.config, &self.call_id, revenue, at)
                .is_ok()
        {
            self.report.converted += 1;
            self.report.revenue = self.report.revenue.saturating_add(revenue);
            let st = &mut self.report.targets[t];
            st.converted += 1;
            st.revenue = st.revenue.saturating_add(revenue);
            for &g in &self.groups_of[t] {
                let gs = &mut self.report.groups[g];
                gs.converted += 1;
                gs.revenue = gs.revenue.saturating_add(revenue);
            }
        }
        if self.state.end(self.config, &self.call_id, at).is_ok() {
            self.live[t] = self.live[t].saturating_sub(1);
            for &g in &self.groups_of[t] {
                let o = self.nt + g;
                self.live[o] = self.live[o].saturating_sub(1);
            }
        }
    }
}

// ------------------------------------------------------------------ reports

/// How full one cap of one owner was, hour by hour.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapFill {
    /// Cap name: `hourly`, `daily`, `monthly`, `total`, `hourly_revenue`, …,
    /// `concurrency`.
    pub cap: &'static str,
    /// Whether values are money (minor units) rather than counts.
    pub money: bool,
    /// Per hour bucket: usage at the end of the hour (peak live calls
    /// during the hour for `concurrency`).
    pub used: Vec<i64>,
    /// Per hour bucket: the limit (`None` = unlimited that hour; only a
    /// concurrency matrix varies).
    pub limit: Vec<Option<i64>>,
}

impl CapFill {
    /// Highest usage seen.
    pub fn peak(&self) -> i64 {
        self.used.iter().copied().max().unwrap_or(0)
    }

    /// Hours that ended at or over the limit.
    pub fn hours_at_limit(&self) -> usize {
        self.used
            .iter()
            .zip(&self.limit)
            .filter(|(u, l)| l.is_some_and(|l| **u >= l))
            .count()
    }

    /// The limit, if it is the same every hour.
    pub fn fixed_limit(&self) -> Option<i64> {
        let first = *self.limit.first()?;
        self.limit.iter().all(|l| *l == first).then_some(first)?
    }
}

fn sat(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The caps with a limit of owner `o` (targets, then groups), filled from
/// the hourly samples of `report`.
pub fn cap_fill(config: &Config, report: &SimReport, o: usize) -> Vec<CapFill> {
    let nt = config.targets.len();
    let (limits, matrix, zone) = if o < nt {
        let t = &config.targets[o];
        (&t.limits, t.concurrency_matrix.as_ref(), &t.zone)
    } else if let Some(g) = config.groups.get(o - nt) {
        (&g.limits, g.concurrency_matrix.as_ref(), &g.zone)
    } else {
        return Vec::new();
    };
    type Pick = fn(&Usage) -> i64;
    let counts: [(&'static str, Option<u64>, Pick); 4] = [
        ("hourly", limits.hourly, |u| sat(u.hourly)),
        ("daily", limits.daily, |u| sat(u.daily)),
        ("monthly", limits.monthly, |u| sat(u.monthly)),
        ("total", limits.total, |u| sat(u.total)),
    ];
    let money: [(&'static str, Option<Money>, Pick); 4] = [
        ("hourly_revenue", limits.hourly_revenue, |u| {
            u.hourly_revenue.0
        }),
        ("daily_revenue", limits.daily_revenue, |u| u.daily_revenue.0),
        ("monthly_revenue", limits.monthly_revenue, |u| {
            u.monthly_revenue.0
        }),
        ("total_revenue", limits.total_revenue, |u| u.total_revenue.0),
    ];
    let used_of = |pick: Pick| -> Vec<i64> {
        report
            .hours
            .iter()
            .map(|h| h.usage.get(o).map_or(0, pick))
            .collect()
    };
    let n = report.hours.len();
    let mut out = Vec::new();
    for (cap, lim, pick) in counts {
        if let Some(l) = lim {
            out.push(CapFill {
                cap,
                money: false,
                used: used_of(pick),
                limit: vec![Some(sat(l)); n],
            });
        }
    }
    for (cap, lim, pick) in money {
        if let Some(l) = lim {
            out.push(CapFill {
                cap,
                money: true,
                used: used_of(pick),
                limit: vec![Some(l.0); n],
            });
        }
    }
    let limit_at = |h: &HourBucket| -> Option<i64> {
        match matrix {
            Some(m) => {
                let local = zone.local(h.start);
                m.limit(local.weekday().num_days_from_sunday(), local.hour())
                    .map(sat)
            }
            None => limits.concurrency.map(sat),
        }
    };
    let limit: Vec<Option<i64>> = report.hours.iter().map(limit_at).collect();
    if limit.iter().any(Option::is_some) {
        out.push(CapFill {
            cap: "concurrency",
            money: false,
            used: report
                .hours
                .iter()
                .map(|h| h.peak_live.get(o).copied().map_or(0, sat))
                .collect(),
            limit,
        });
    }
    out
}

fn amount_json(v: i64, money: bool) -> serde_json::Value {
    if money {
        serde_json::Value::from(Money(v).to_string())
    } else {
        serde_json::Value::from(v)
    }
}

fn owner_json(config: &Config, report: &SimReport, o: usize, st: &OwnerStats) -> serde_json::Value {
    use serde_json::json;
    let rejections: Vec<serde_json::Value> = sorted_rejections(st)
        .into_iter()
        .map(|r| {
            let mut m = serde_json::Map::new();
            m.insert("code".into(), json!(r.code_string()));
            if let Some(g) = r.group.and_then(|g| config.groups.get(g)) {
                m.insert("group".into(), json!(g.id));
            }
            m.insert("calls".into(), json!(r.calls));
            serde_json::Value::Object(m)
        })
        .collect();
    let caps: Vec<serde_json::Value> = cap_fill(config, report, o)
        .iter()
        .map(|c| {
            json!({
                "cap": c.cap,
                "limit": c.fixed_limit().map_or(serde_json::Value::Null, |l| amount_json(l, c.money)),
                "peak": amount_json(c.peak(), c.money),
                "hours_at_limit": c.hours_at_limit(),
            })
        })
        .collect();
    json!({
        "offered": st.offered,
        "answered": st.answered,
        "connected": st.connected,
        "refused": st.refused,
        "converted": st.converted,
        "revenue": st.revenue.to_string(),
        "ineligible": st.ineligible,
        "rejections": rejections,
        "caps": caps,
    })
}

/// Rejections, most frequent first (ties: reason order, then group).
pub fn sorted_rejections(st: &OwnerStats) -> Vec<&Rejection> {
    let mut v: Vec<&Rejection> = st.rejections.iter().collect();
    v.sort_by(|a, b| {
        b.calls
            .cmp(&a.calls)
            .then(a.group.cmp(&b.group))
            .then(a.code.cmp(&b.code))
    });
    v
}

/// Lost calls per UTC hour of day: `(no eligible target, nobody answered)`.
pub fn lost_by_hour_of_day(report: &SimReport) -> [(u64, u64); 24] {
    let mut out = [(0, 0); 24];
    for h in &report.hours {
        let slot = &mut out[h.start.hour() as usize % 24];
        slot.0 += h.no_eligible;
        slot.1 += h.unanswered;
    }
    out
}

/// The report as JSON for programs (`routecap simulate --json`).
pub fn report_json(config: &Config, report: &SimReport) -> serde_json::Value {
    use serde_json::{json, Map, Value};
    let p = &report.params;
    let nt = config.targets.len();
    let targets: Vec<Value> = config
        .targets
        .iter()
        .zip(&report.targets)
        .enumerate()
        .map(|(i, (t, st))| {
            let mut v = owner_json(config, report, i, st);
            if let Value::Object(m) = &mut v {
                let mut head = Map::new();
                head.insert("id".into(), json!(t.id));
                head.append(m);
                *m = head;
            }
            v
        })
        .collect();
    let groups: Vec<Value> = config
        .groups
        .iter()
        .zip(&report.groups)
        .enumerate()
        .map(|(i, (g, st))| {
            let mut v = owner_json(config, report, nt + i, st);
            if let Value::Object(m) = &mut v {
                let mut head = Map::new();
                head.insert("id".into(), json!(g.id));
                head.insert("mode".into(), json!(g.mode.as_str()));
                head.append(m);
                *m = head;
            }
            v
        })
        .collect();
    let lost: Vec<Value> = report
        .hours
        .iter()
        .filter(|h| h.no_eligible + h.unanswered > 0)
        .map(|h| {
            json!({
                "hour": render_instant(h.start),
                "no_eligible": h.no_eligible,
                "unanswered": h.unanswered,
            })
        })
        .collect();
    let by_hod = lost_by_hour_of_day(report);
    json!({
        "from": render_instant(p.from),
        "to": render_instant(p.to),
        "seed": p.seed,
        "params": {
            "calls_per_hour": p.calls_per_hour,
            "profile": p.profile.as_ref().map(|pr| json!({
                "time_zone": pr.zone.name(),
                "weights": pr.weights.to_vec(),
            })),
            "answer_rate": p.answer_rate,
            "convert_rate": p.convert_rate,
            "revenue": p.revenue.to_string(),
            "mean_duration": p.mean_duration_secs,
            "fresh": p.fresh,
        },
        "calls": report.calls,
        "routed": report.routed,
        "connected": report.connected,
        "converted": report.converted,
        "revenue": report.revenue.to_string(),
        "no_eligible": report.no_eligible,
        "unanswered": report.unanswered,
        "targets": targets,
        "groups": groups,
        "lost_by_hour": lost,
        "lost_by_hour_of_day": {
            "no_eligible": by_hod.iter().map(|x| x.0).collect::<Vec<_>>(),
            "unanswered": by_hod.iter().map(|x| x.1).collect::<Vec<_>>(),
        },
    })
}
