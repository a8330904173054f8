//! The run: arrivals, rings and call ends in time order, each call checked,
//! offered down its plan, connected, converted and ended through the real
//! [`State`]. A step that does not answer costs its ring timeout before the
//! next step rings (re-checked then), so calls arriving meanwhile see the
//! counters of that moment.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fmt::Write as _;
use std::num::NonZeroU64;

use crate::eligibility::{self, Checker, Reason};
use crate::filter::CallAttrs;
use crate::lifecycle::{ConnectOutcome, State};
use crate::model::{CandidateRef, Config};
use crate::money::Money;
use crate::route::{step_timeout, uniform_below, Planner, RouteRng, Step};
use crate::zone::Instant;

use super::draws::{at_ms, exp1, stream, Arrivals, Chance};
use super::report::{HourBucket, OwnerStats, SimReport};
use super::{Progress, SimParams};

const HOUR_MS: i64 = 3_600_000;
/// Arrivals between two progress reports.
const PROGRESS_EVERY: u64 = 1 << 14;

/// A connected call waiting for its next event: `(due ms, call number,
/// target, converts, end ms)`; the event is its end when due == end, else
/// a touch renewing its lease.
type EndEvent = Reverse<(i64, u64, usize, bool, i64)>;

/// A call whose next step rings at a later instant: `(ring ms, call number)`.
type RingEvent = Reverse<(i64, u64)>;

/// A plan step owned past its decision.
#[derive(Clone, Debug)]
enum Ring {
    Target(usize),
    Group(usize, Vec<usize>),
}

impl Ring {
    fn of(step: Step<'_>) -> Self {
        match step {
            Step::Target(t) => Ring::Target(t),
            Step::Group { group, members } => Ring::Group(group, members.to_vec()),
        }
    }

    fn step(&self) -> Step<'_> {
        match self {
            Ring::Target(t) => Step::Target(*t),
            Ring::Group(group, members) => Step::Group {
                group: *group,
                members,
            },
        }
    }
}

/// The rest of an unanswered call's plan.
#[derive(Debug)]
struct Pending {
    steps: Vec<Ring>,
    next: usize,
    arrived_ms: i64,
    attrs: CallAttrs,
}

pub(super) struct Sim<'c> {
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
    /// Interval between touches of a long call: half the lease.
    touch_every_ms: i64,
    ends: BinaryHeap<EndEvent>,
    report: SimReport,
    /// Taken out while a plan is being offered (it borrows them). The
    /// checker keeps per-zone clocks and reports from call to call: the
    /// config is the same for the whole run.
    checker: Option<Checker>,
    planner: Option<Planner>,
    route_rng: Option<RouteRng>,
    /// Start of hour bucket 0 (ms) and the bucket events currently go to.
    hours_start: i64,
    bucket: usize,
    /// Per-call scratch: reasons, answering members, "already counted" marks.
    reasons: Vec<Reason>,
    answering: Vec<usize>,
    seen: Vec<u64>,
    call_id: String,
    /// The number of the call being offered.
    call_n: u64,
    rings: BinaryHeap<RingEvent>,
    pending: HashMap<u64, Pending>,
    /// The attributes of the call being offered.
    attrs: CallAttrs,
    /// Draws of the call mix (its own stream: runs without one draw nothing).
    mix_rng: RouteRng,
    /// Callers so far, for repeat callers.
    callers: Vec<String>,
}

impl<'c> Sim<'c> {
    pub(super) fn new(config: &'c Config, params: &'c SimParams) -> Self {
        let nt = config.targets.len();
        let mut state = State::new(config);
        state.anchor(config, params.from);
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
            checker: Some(Checker::new(config)),
            planner: Some(Planner::new()),
            act_rng: stream(params.seed, 2),
            dur_rng: stream(params.seed, 3),
            answer: Chance::new(params.answer_rate),
            convert: Chance::new(params.convert_rate),
            mean_duration_ms: params.mean_duration_secs * 1000.0,
            touch_every_ms: (config.call_lease().num_milliseconds() / 2).max(1),
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
                peak_call_records: 0,
                answer_secs: Vec::new(),
            },
            hours_start,
            bucket: 0,
            reasons: Vec::new(),
            answering: Vec::new(),
            seen: vec![u64::MAX; nt],
            call_id: String::new(),
            call_n: 0,
            rings: BinaryHeap::new(),
            pending: HashMap::new(),
            attrs: CallAttrs::new(),
            mix_rng: stream(params.seed, 4),
            callers: Vec::new(),
        };
        sim.start_bucket(params.from);
        sim
    }

    /// Live calls of every owner (targets, then groups) at `at`.
    fn live_all(&self, at: Instant) -> Vec<u64> {
        (0..self.nt)
            .map(CandidateRef::Target)
            .chain((0..self.config.groups.len()).map(CandidateRef::Group))
            .map(|o| self.state.live(o, at))
            .collect()
    }

    /// The current bucket's peaks start from the live calls at `at`.
    fn start_bucket(&mut self, at: Instant) {
        let live = self.live_all(at);
        if let Some(b) = self.report.hours.get_mut(self.bucket) {
            b.peak_live = live;
        }
    }

    pub(super) fn run(mut self, progress: &mut dyn FnMut(Progress)) -> SimReport {
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
            let next_ring = self.rings.peek().map(|Reverse((t, _))| *t);
            // at one instant: ends, then rings, then arrivals
            let first = [next_end, next_ring, next_arrival]
                .into_iter()
                .flatten()
                .min();
            match first {
                None => break,
                Some(t) if next_end == Some(t) => self.end_call(),
                Some(t) if next_ring == Some(t) => self.ring(),
                Some(a) => {
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
        self.report
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
            self.start_bucket(at_ms(end));
        }
    }

    fn bucket_mut(&mut self) -> Option<&mut HourBucket> {
        self.report.hours.get_mut(self.bucket)
    }

    fn arrive(&mut self, n: u64, t_ms: i64) {
        let at = at_ms(t_ms);
        self.report.calls += 1;
        if let Some(b) = self.bucket_mut() {
            b.calls += 1;
        }
        self.draw_attrs(n);
        let Some(mut checker) = self.checker.take() else {
            return;
        };
        self.offer_checked(&mut checker, n, t_ms, at);
        self.checker = Some(checker);
    }

    /// [`Sim::arrive`] with the checker taken out.
    fn offer_checked(&mut self, checker: &mut Checker, n: u64, t_ms: i64, at: Instant) {
        let config = self.config;
        // repeat callers meet their history: duplicates, repeat_callers
        let history = self.state.callers();
        let reports = checker.check_seen(config, &self.state, at, None, &self.attrs, history);
        let first = crate::eligibility::original_report(config, history, &self.attrs, at, reports);
        self.count_rejections(reports, n, at);
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
        self.call_n = n;
        let (Some(mut planner), Some(mut rng)) = (self.planner.take(), self.route_rng.take())
        else {
            return;
        };
        let mut plan = planner.lazy_first(config, reports, first, &mut rng);
        let mut next = None;
        let mut answered = false;
        if let Some(step) = plan.next() {
            let timeout = step_timeout(config, &step);
            if self.offer(step, t_ms) {
                self.answered_after(0);
                answered = true;
            } else {
                let steps: Vec<Ring> = plan.map(Ring::of).collect();
                next = Some((timeout, steps));
            }
        }
        self.planner = Some(planner);
        self.route_rng = Some(rng);
        match next {
            Some((timeout, steps)) if !steps.is_empty() => {
                let at = t_ms.saturating_add(i64::from(timeout) * 1000);
                self.rings.push(Reverse((at, n)));
                self.pending.insert(
                    n,
                    Pending {
                        steps,
                        next: 0,
                        arrived_ms: t_ms,
                        attrs: self.attrs.clone(),
                    },
                );
            }
            _ if answered => {}
            _ => self.lost_unanswered(),
        }
    }

    /// Ring the next step of the earliest waiting call.
    fn ring(&mut self) {
        let Some(Reverse((t_ms, n))) = self.rings.pop() else {
            return;
        };
        self.advance_to(t_ms);
        let Some(mut p) = self.pending.remove(&n) else {
            return;
        };
        std::mem::swap(&mut self.attrs, &mut p.attrs);
        self.call_id.clear();
        let _ = write!(self.call_id, "c{n}");
        self.call_n = n;
        let Some(ring) = p.steps.get(p.next).cloned() else {
            return;
        };
        let step = ring.step();
        let timeout = step_timeout(self.config, &step);
        if self.offer(step, t_ms) {
            self.answered_after(t_ms - p.arrived_ms);
            return;
        }
        std::mem::swap(&mut self.attrs, &mut p.attrs);
        p.next += 1;
        if p.next < p.steps.len() {
            let at = t_ms.saturating_add(i64::from(timeout) * 1000);
            self.rings.push(Reverse((at, n)));
            self.pending.insert(n, p);
        } else {
            self.lost_unanswered();
        }
    }

    /// The attributes of call `n`: a set of the mix by weight, and a caller
    /// (an earlier one with the repeat share, else a new number).
    fn draw_attrs(&mut self, n: u64) {
        let Some(mix) = &self.params.calls else {
            return;
        };
        let total: u64 = mix.sets.iter().map(|(w, _)| *w).sum();
        let Some(total) = NonZeroU64::new(total) else {
            return;
        };
        let mut r = uniform_below(&mut self.mix_rng, total);
        let mut chosen = &mix.sets[0].1;
        for (w, set) in &mix.sets {
            if r < *w {
                chosen = set;
                break;
            }
            r -= w;
        }
        let repeat = Chance::new(mix.repeat_share).hit(&mut self.mix_rng);
        let caller = match NonZeroU64::new(self.callers.len() as u64) {
            Some(k) if repeat => self.callers[uniform_below(&mut self.mix_rng, k) as usize].clone(),
            _ => {
                let fresh = format!("+1555{:07}", n % 10_000_000);
                self.callers.push(fresh.clone());
                fresh
            }
        };
        self.attrs.clone_from(chosen);
        self.attrs.set_caller(Some(&caller));
    }

    /// A call answered `ms` after it arrived.
    fn answered_after(&mut self, ms: i64) {
        let s = usize::try_from(ms.max(0) / 1000).unwrap_or(usize::MAX);
        let hist = &mut self.report.answer_secs;
        if hist.len() <= s {
            hist.resize(s.saturating_add(1), 0);
        }
        if let Some(k) = hist.get_mut(s) {
            *k += 1;
        }
    }

    /// A call whose every step failed to answer.
    fn lost_unanswered(&mut self) {
        self.report.unanswered += 1;
        if let Some(b) = self.bucket_mut() {
            b.unanswered += 1;
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
                        eligibility::target_reasons_seen(
                            config,
                            &self.state,
                            m,
                            at,
                            &self.attrs,
                            self.state.callers(),
                            &mut self.reasons,
                        );
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
        match (self.state).connect_call(self.config, &self.call_id, t, at, &self.attrs) {
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
        for &g in &self.groups_of[t] {
            self.report.groups[g].connected += 1;
        }
        if let Some(b) = self.report.hours.get_mut(bucket) {
            b.connected[t] += 1;
            let live = self.state.live(CandidateRef::Target(t), at);
            b.peak_live[t] = b.peak_live[t].max(live);
            for &g in &self.groups_of[t] {
                let live = self.state.live(CandidateRef::Group(g), at);
                b.peak_live[nt + g] = b.peak_live[nt + g].max(live);
            }
        }
        self.report.peak_call_records = self.report.peak_call_records.max(self.state.call_count());
        let converts = self.convert.hit(&mut self.act_rng);
        let dur = (exp1(&mut self.dur_rng) * self.mean_duration_ms).round() as i64;
        let seq = self.call_n;
        let end = t_ms.saturating_add(dur.max(1));
        let due = end.min(t_ms.saturating_add(self.touch_every_ms));
        self.ends.push(Reverse((due, seq, t, converts, end)));
        true
    }

    /// The earliest event of a live call: a touch renewing its lease, or
    /// its end (converted first, if it converts).
    fn end_call(&mut self) {
        let Some(Reverse((t_ms, seq, t, converts, end))) = self.ends.pop() else {
            return;
        };
        self.advance_to(t_ms);
        let at = at_ms(t_ms);
        self.call_id.clear();
        let _ = write!(self.call_id, "c{seq}");
        if t_ms < end {
            let _ = self.state.touch(self.config, &self.call_id, at);
            let due = end.min(t_ms.saturating_add(self.touch_every_ms));
            self.ends.push(Reverse((due, seq, t, converts, end)));
            return;
        }
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
        let _ = self.state.end(self.config, &self.call_id, at);
    }
}
