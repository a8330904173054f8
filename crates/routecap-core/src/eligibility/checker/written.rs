//! What each kept report holds, as a small value: a report whose new
//! verdict equals it is not written again, and a kept report is reused
//! while its target's counters keep their stamp.

use super::quick::Plain;
use crate::eligibility::CandidateReport;
use crate::model::CandidateRef;

const _: () = assert!(std::mem::size_of::<Written>() == 16);

/// What a report holds, as a value compared before writing it again
/// (stored as a 16-byte [`Written`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum Holds {
    /// Unknown: write it.
    #[default]
    Unknown,
    /// The reasons of a target below every cap, for a call without
    /// attributes.
    Plain(Plain),
    /// The reasons built for target `target - 1` at a cap, for a call
    /// without attributes, from the instant they were built (time going
    /// back forgets them) until `until`: pause, hours and windows are the
    /// same meanwhile, so while the same caps are reached with the same
    /// use ([`same_caps`]) they are the reasons to build.
    Capped { target: u32, until: i64 },
}

/// [`Holds`] in 16 bytes (the enum takes 24), one per report: the
/// fields of a [`Plain`] next to which case it is; `Capped` keeps its
/// `until` in `value`. Equal values are equal cases.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Written {
    /// 0: `Unknown`, 1: `Plain`, 2: `Capped`.
    pub(super) kind: u8,
    pub(super) paused: bool,
    pub(super) closed: bool,
    pub(super) reopens: bool,
    pub(super) target: u32,
    pub(super) value: i64,
}

impl Written {
    pub(super) const UNKNOWN: Written = Written {
        kind: 0,
        paused: false,
        closed: false,
        reopens: false,
        target: 0,
        value: 0,
    };

    #[inline]
    pub(super) fn holds(self) -> Holds {
        match self.kind {
            1 => Holds::Plain(Plain {
                target: self.target,
                paused: self.paused,
                closed: self.closed,
                reopens: self.reopens,
                reopen: self.value,
            }),
            2 => Holds::Capped {
                target: self.target,
                until: self.value,
            },
            _ => Holds::Unknown,
        }
    }
}

impl From<Holds> for Written {
    #[inline]
    fn from(h: Holds) -> Self {
        match h {
            Holds::Unknown => Written::UNKNOWN,
            Holds::Plain(p) => Written {
                kind: 1,
                paused: p.paused,
                closed: p.closed,
                reopens: p.reopens,
                target: p.target,
                value: p.reopen,
            },
            Holds::Capped { target, until } => Written {
                kind: 2,
                target,
                value: until,
                ..Written::UNKNOWN
            },
        }
    }
}

/// A kept report: valid while its target's counters keep `stamp` and the
/// instant stays before `until` (Unix seconds; it was made at an instant
/// no later than the current one, see [`Checker::latest`]). `stamp` 0:
/// not kept.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Memo {
    pub(super) stamp: u64,
    pub(super) until: i64,
}

impl Memo {
    /// Not kept at `now` for counters of stable stamp `stable`.
    #[inline]
    pub(super) fn lapsed(&self, stable: u64, now: i64) -> bool {
        (self.stamp == 0) | (now >= self.until) | (stable != self.stamp)
    }
}

/// Make `rep` the report of target `t` holding `plain`'s reasons alone.
#[inline(never)]
pub(super) fn rewrite_plain(rep: &mut CandidateReport, t: usize, plain: Plain) {
    rep.candidate = CandidateRef::Target(t);
    rep.eligible_members.clear();
    rep.reasons.clear();
    plain.write(&mut rep.reasons);
    rep.eligible = rep.reasons.is_empty();
}
