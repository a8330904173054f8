//! Synthetic traffic through the real engine: what a config does to a week
//! (or a month) of calls, before a live call meets it.
//!
//! Pure like the rest of the core (no clock, no I/O, no threads; every draw
//! from the seed), so the CLI and the WebAssembly demo give the same report
//! for the same seed. Progress goes to a caller's closure.
//!
//! Every decision goes through the same code as live traffic: [`State`](crate::lifecycle::State) for
//! counters and the lifecycle, [`eligibility::check`](crate::eligibility::check) for who may take each
//! call, and a reused [`Planner`](crate::route::Planner) for the failover order. Nothing about caps,
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
//! - **Connect**: the answering target is `connect`ed through the [`State`](crate::lifecycle::State).
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
//! - **Leases**: the simulated service holds its calls the way a live one
//!   should: a call still going after half of `call_lease_seconds` is
//!   `touch`ed, and again every half lease, so no simulated call loses its
//!   concurrency slot to its lease (with the default 4-hour lease and
//!   3-minute calls this never happens anyway).
//! - **Memory**: the [`State`](crate::lifecycle::State) forgets each call
//!   `call_retention_seconds` after it settles, so a run holds the live
//!   calls and those settled within the retention window — not every call
//!   of the run — and its memory does not grow with the number of calls.
//!
//! # Randomness
//!
//! Everything derives from `seed`, through four independent ChaCha8 streams
//! ([`rng_from_seed`](crate::route::rng_from_seed) then `set_stream`): 0 = route order (so the first call's
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
//! `as_of`; `--from` must then not be before `as_of`. Imported live calls
//! hold concurrency until `as_of + call_lease_seconds` (their end is never
//! seen). [`SimParams::fresh`] starts from empty counters instead.
//!
//! # Layout
//!
//! - [`options`]: what to simulate ([`SimParams`]) and its validation.
//! - [`profile`]: the hour-of-week arrival shape ([`Profile`]).
//! - `draws` and `event_loop`: the random draws and the run itself.
//! - [`report`]: the outcome ([`SimReport`]) and its JSON form ([`ReportJson`]).

mod draws;
mod event_loop;
pub mod options;
pub mod profile;
pub mod report;

use crate::caps::Usage;
use crate::model::Config;

pub use draws::portable_ln;
pub use options::{
    CallMix, SimError, SimParams, DEFAULT_ANSWER_RATE, DEFAULT_CALLS_PER_HOUR,
    DEFAULT_CONVERT_RATE, DEFAULT_MEAN_DURATION_SECS, DEFAULT_REVENUE, MAX_EXPECTED_CALLS,
    MAX_SPAN_DAYS,
};
pub use profile::{Profile, ProfileError};
pub use report::{
    cap_fill, lost_by_hour_of_day, report_json, sorted_rejections, CapFill, HourBucket, OwnerStats,
    Rejection, ReportJson, SimReport,
};

/// Progress of a run, for a progress bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Simulated milliseconds done.
    pub done_ms: u64,
    /// Simulated milliseconds in all.
    pub total_ms: u64,
}

/// Run the simulation. `progress` is called now and then with how much
/// simulated time is done (the core draws no bar itself).
pub fn simulate(
    config: &Config,
    params: &SimParams,
    progress: &mut dyn FnMut(Progress),
) -> Result<SimReport, SimError> {
    params.validate(config)?;
    let fresh_config;
    let config = if params.fresh {
        let mut c = config.clone();
        c.as_of = None;
        for t in &mut c.targets {
            t.caps.set_usage(&Usage::default());
        }
        for g in &mut c.groups {
            g.usage = Usage::default();
        }
        fresh_config = c;
        &fresh_config
    } else {
        config
    };
    Ok(event_loop::Sim::new(config, params).run(progress))
}
