//! The call a decision is about: its attributes prepared once for the
//! config's filters, and its caller's history when some caller rule reads
//! it.

use super::{bare, Reason, ReasonCode};
use crate::caller_history::{CallerHistory, CallerView};
use crate::counters::Ledger;
use crate::filter::{CallAttrs, CallBuffers, PreparedCall};
use crate::model::{CandidateRef, CompiledFilters, Config};
use crate::zone::Instant;

/// The call a decision is about, prepared once for the config's filters
/// (not at all when the config has none).
pub(crate) struct JudgedCall<'a> {
    filters: &'a CompiledFilters,
    prepared: Option<PreparedCall<'a>>,
    /// The caller's history, when some caller rule can match.
    caller: Option<CallerView<'a>>,
    /// The config has caller rules: reasons kept from another call's
    /// decision may hold that caller's, so they are judged again.
    caller_rules: bool,
    /// Write each filter reason's `detail` (one target's re-check).
    details: bool,
}

impl<'a> JudgedCall<'a> {
    /// `attrs` prepared for `config`'s filters.
    pub(crate) fn new(config: &'a Config, attrs: &CallAttrs) -> Self {
        JudgedCall::with_buffers(config, attrs, &mut CallBuffers::default())
    }

    /// [`JudgedCall::new`] in the buffers of an earlier call, taken from
    /// `buffers` only when the config has filters (given back by
    /// [`JudgedCall::keep_buffers`]): no allocation once they are large enough,
    /// and nothing moved for a config without filters. Every target's own
    /// filter is judged here, all at once.
    #[inline]
    pub(crate) fn with_buffers(
        config: &'a Config,
        attrs: &CallAttrs,
        buffers: &mut CallBuffers,
    ) -> Self {
        let filters = config.filters();
        // each arm builds its value in place: a call without filters
        // copies no 200-byte `None` per decision
        let caller_rules = config.caller_window() > 0;
        if !filters.any {
            return JudgedCall {
                filters,
                prepared: None,
                caller: None,
                caller_rules,
                details: false,
            };
        }
        let mut prepared = filters.table.prepare_with(attrs, core::mem::take(buffers));
        filters.target_rows.refuse(&mut prepared);
        JudgedCall {
            filters,
            prepared: Some(prepared),
            caller: None,
            caller_rules,
            details: false,
        }
    }

    /// Give the buffers taken by [`JudgedCall::with_buffers`] back to `into`,
    /// for the next call (none taken when the config has no filters).
    #[inline]
    pub(crate) fn keep_buffers(self, into: &mut CallBuffers) {
        if let Some(p) = self.prepared {
            *into = p.into_buffers();
        }
    }

    /// The targets refused by their own filter, 64 a word (empty: none).
    pub(crate) fn refused_bits(&self) -> &[u64] {
        self.prepared.as_ref().map_or(&[], |p| p.refused_bits())
    }

    /// [`JudgedCall::new`] judged against the caller's `history` at `at`.
    pub(crate) fn seen(
        config: &'a Config,
        attrs: &'a CallAttrs,
        history: &'a CallerHistory,
        at: Instant,
        buffers: &mut CallBuffers,
    ) -> Self {
        JudgedCall {
            caller: CallerView::new(config, history, attrs, at),
            ..JudgedCall::with_buffers(config, attrs, buffers)
        }
    }

    /// This call with the `detail` of each filter reason written (the
    /// re-check of one target, whose reasons are shown).
    pub(crate) fn explained(mut self) -> Self {
        self.details = true;
        self
    }

    /// No call at all: no filter nor caller rule judged, only the owners'
    /// own state.
    pub(crate) fn state_only(config: &'a Config) -> Self {
        JudgedCall {
            filters: config.filters(),
            prepared: None,
            caller: None,
            caller_rules: false,
            details: false,
        }
    }

    /// A call without attributes (no tags, unknown caller).
    pub(crate) fn none(config: &'a Config) -> Self {
        JudgedCall::new(config, &CallAttrs::new())
    }

    /// Whether some reason may depend on the call.
    pub(crate) fn active(&self) -> bool {
        self.prepared.is_some() || self.caller_rules
    }

    /// Whether the only call-dependent reason an ungrouped target can have
    /// is its own filter's (no caller rules, no details written): a kept
    /// report then needs only that one reason set or cleared.
    pub(crate) fn filters_only(&self) -> bool {
        self.prepared.is_some() && self.caller.is_none() && !self.caller_rules && !self.details
    }

    /// Whether target `t`'s own filter refuses the call (`false`: no
    /// filter, or it matches).
    #[inline]
    pub(crate) fn refuses(&self, t: usize) -> bool {
        self.prepared.as_ref().is_some_and(|call| call.refused(t))
    }

    /// Whether a report of ungrouped target `t` kept from another call
    /// (with `reasons`) must be judged again for this one: always with
    /// filters; with caller rules only when it holds a call-dependent
    /// reason or this caller's history names `t`.
    pub(crate) fn rejudge(&self, t: usize, reasons: &[Reason]) -> bool {
        self.prepared.is_some()
            || (self.caller_rules
                && (self.caller.as_ref().is_some_and(|c| c.knows(t))
                    || reasons.iter().any(|r| r.code.is_call_dependent())))
    }

    /// The detail of `owner`'s filter rejecting the call; `None` when it
    /// has no filter or the filter matches.
    pub(super) fn mismatch(&self, owner: CandidateRef) -> Option<String> {
        let call = self.prepared.as_ref()?;
        let compiled = match owner {
            CandidateRef::Target(t) => self.filters.targets.get(t),
            CandidateRef::Group(g) => self.filters.groups.get(g),
        };
        compiled?.as_ref()?.matches(call).err().map(|m| m.detail())
    }

    /// Append `filter_mismatch` when `owner`'s filter rejects the call,
    /// tagged with `group` (a containing group's reason).
    pub(super) fn filter(&self, owner: CandidateRef, group: Option<usize>, out: &mut Vec<Reason>) {
        let Some(call) = &self.prepared else {
            return;
        };
        let compiled = match owner {
            CandidateRef::Target(t) => self.filters.targets.get(t),
            CandidateRef::Group(g) => self.filters.groups.get(g),
        };
        if let Some(Some(f)) = compiled {
            let refused = match owner {
                CandidateRef::Target(t) => call.refused(t),
                CandidateRef::Group(_) => !f.is_match(call),
            };
            // the mismatch itself is only built when its detail is wanted
            if refused {
                let detail = if self.details {
                    f.matches(call).err().map(|m| m.detail())
                } else {
                    None
                };
                out.push(Reason {
                    detail,
                    ..bare(ReasonCode::FilterMismatch, group)
                });
            }
        }
    }

    /// Append the call-dependent reasons of target `t`: its filter's, then
    /// those of its containing groups other than `skip`.
    pub(super) fn target(
        &self,
        ledger: &Ledger,
        t: usize,
        skip: Option<usize>,
        out: &mut Vec<Reason>,
    ) {
        if !self.active() {
            return;
        }
        self.filter(CandidateRef::Target(t), None, out);
        for &g in ledger.groups_of(t) {
            if Some(g) != skip {
                self.filter(CandidateRef::Group(g), Some(g), out);
            }
        }
        if let Some(caller) = &self.caller {
            caller.reasons(t, out);
        }
    }
}
