//! What a decision answers: a report per candidate, with every reason it
//! is not eligible.

use crate::model::CandidateRef;
use crate::money::Money;
use crate::zone::Instant;

/// Why a candidate is not eligible. Stable strings via [`ReasonCode::as_str`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReasonCode {
    /// Paused (Retreaver) / not enabled (Ringba).
    Paused,
    /// Outside business hours.
    Closed,
    /// Hourly count cap reached.
    HourlyCap,
    /// Daily count cap reached.
    DailyCap,
    /// Monthly count cap reached.
    MonthlyCap,
    /// Total (hard) count cap reached.
    TotalCap,
    /// Hourly revenue cap reached.
    HourlyRevenueCap,
    /// Daily revenue cap reached.
    DailyRevenueCap,
    /// Monthly revenue cap reached.
    MonthlyRevenueCap,
    /// Total revenue cap reached.
    TotalRevenueCap,
    /// Live calls at the concurrency limit.
    ConcurrencyCap,
    /// A simultaneous group with no eligible member.
    NoEligibleMember,
    /// The owner's filter does not match the call's attributes.
    FilterMismatch,
    /// The target took this caller within its `duplicates` window.
    DuplicateCaller,
    /// `repeat_callers: different`: the caller connected here within the window.
    RepeatCaller,
}

impl ReasonCode {
    /// The stable code string (without any `group_` prefix).
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::Paused => "paused",
            ReasonCode::Closed => "closed",
            ReasonCode::HourlyCap => "hourly_cap",
            ReasonCode::DailyCap => "daily_cap",
            ReasonCode::MonthlyCap => "monthly_cap",
            ReasonCode::TotalCap => "total_cap",
            ReasonCode::HourlyRevenueCap => "hourly_revenue_cap",
            ReasonCode::DailyRevenueCap => "daily_revenue_cap",
            ReasonCode::MonthlyRevenueCap => "monthly_revenue_cap",
            ReasonCode::TotalRevenueCap => "total_revenue_cap",
            ReasonCode::ConcurrencyCap => "concurrency_cap",
            ReasonCode::NoEligibleMember => "no_eligible_member",
            ReasonCode::FilterMismatch => "filter_mismatch",
            ReasonCode::DuplicateCaller => "duplicate_caller",
            ReasonCode::RepeatCaller => "repeat_caller",
        }
    }

    /// Whether the reason depends on the call (its attributes or its
    /// caller's history) rather than on the candidate's state alone.
    pub fn is_call_dependent(self) -> bool {
        matches!(
            self,
            ReasonCode::FilterMismatch | ReasonCode::DuplicateCaller | ReasonCode::RepeatCaller
        )
    }
}

/// A count or an amount of money, as reported in `used` / `limit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Amount {
    /// A number of calls.
    Count(u64),
    /// Revenue.
    Money(Money),
}

/// One reason a candidate is not eligible.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    /// What failed.
    pub code: ReasonCode,
    /// `Some(g)` when the failing owner is containing group `g` (index into
    /// `Config::groups`); the printed code then gets a `group_` prefix.
    pub group: Option<usize>,
    /// Usage in the current window, for caps.
    pub used: Option<Amount>,
    /// The limit, for caps.
    pub limit: Option<Amount>,
    /// When the reason lifts, where knowable: next opening for `closed`,
    /// window end for periodic caps; `None` for total caps, concurrency,
    /// `paused`, and hours that never open.
    pub until: Option<Instant>,
    /// For a call-dependent reason (`filter_mismatch`): which condition
    /// failed and what the call had, for people.
    pub detail: Option<String>,
}

impl Reason {
    /// The printed code: `daily_cap`, or `group_daily_cap` for a containing group.
    pub fn code_string(&self) -> String {
        match self.group {
            Some(_) if self.code != ReasonCode::NoEligibleMember => {
                format!("group_{}", self.code.as_str())
            }
            _ => self.code.as_str().to_string(),
        }
    }
}

/// The verdict on one candidate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CandidateReport {
    /// The candidate judged.
    pub candidate: CandidateRef,
    /// Eligible now.
    pub eligible: bool,
    /// Every reason it is not (empty when eligible).
    pub reasons: Vec<Reason>,
    /// For a simultaneous group: its eligible members (target indices), in
    /// config order. Empty for targets.
    pub eligible_members: Vec<usize>,
}

impl CandidateReport {
    /// Whether this candidate is a step of a route plan: eligible, and for
    /// a simultaneous group with at least one eligible member to ring.
    pub fn is_routable(&self) -> bool {
        self.eligible
            && match self.candidate {
                CandidateRef::Target(_) => true,
                CandidateRef::Group(_) => !self.eligible_members.is_empty(),
            }
    }
}

/// A reason with no amounts and no end.
pub(crate) fn bare(code: ReasonCode, group: Option<usize>) -> Reason {
    Reason {
        code,
        group,
        used: None,
        limit: None,
        until: None,
        detail: None,
    }
}
