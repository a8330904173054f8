//! The routing model: targets, groups and a whole config.
//!
//! Everything here is already validated: formats parse into these types and
//! nothing downstream re-checks input.

use std::sync::{Arc, OnceLock};

use crate::caller_rules::{DuplicateRule, RepeatMode, RepeatRule};
use crate::cap_settings::{CapSettings, CapsEdit};
use crate::caps::{ConcurrencyMatrix, Limits, Trigger, Usage};
use crate::filter::{CompiledFilter, Filter, FilterRows, FilterTable};
use crate::hours::WeeklyHours;
use crate::zone::{Instant, Zone};
use chrono::TimeDelta;

/// Default priority.
pub const DEFAULT_PRIORITY: i32 = 1;
/// Default weight.
pub const DEFAULT_WEIGHT: u32 = 1;
/// Default [`Config::call_lease_seconds`]: 4 hours (see docs/semantics.md, "Leases").
pub const DEFAULT_CALL_LEASE_SECONDS: u64 = 14_400;
/// Default [`Config::call_retention_seconds`]: 1 day.
pub const DEFAULT_CALL_RETENTION_SECONDS: u64 = 86_400;
/// Largest accepted lease or retention: 10 years (3,652.5 days), so that
/// every expiry stays a plain instant far from chrono's limits.
pub const MAX_CALL_SECONDS: u64 = 315_576_000;
/// How long a step rings before failing over when no timeout is set.
pub const DEFAULT_TIMEOUT_SECONDS: u32 = 30;
/// Longest id (target, group, campaign) or filter tag key in a config, in
/// bytes: checked before any lookup, so a huge name is refused at once.
pub const MAX_NAME_BYTES: usize = 256;

/// A destination a call can be sent to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// Unique id (numbers in source formats become their decimal text).
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    /// Lower is tried first; negatives allowed.
    pub priority: i32,
    /// Relative share within a priority tier; 0 = after all positive weights.
    pub weight: u32,
    /// Paused / disabled targets are never eligible.
    pub paused: bool,
    /// Zone of hours and cap windows.
    pub zone: Zone,
    /// The zone name as written in the config (for display), shared by
    /// the owners that write it the same way.
    pub zone_name: Arc<str>,
    /// Which event counts toward count caps.
    pub trigger: Trigger,
    /// Business hours; `None` = open 24/7. Shared: configs repeat a few
    /// schedules over many targets ([`crate::zone_cache::ZoneCache::hours`]).
    pub hours: Option<Arc<WeeklyHours>>,
    /// Cap limits and the usage at `Config::as_of`, packed (read them
    /// with [`Target::limits`] and [`Target::usage`]).
    pub caps: CapSettings,
    /// What most targets leave unset (filter, matrix, timeout, duplicates).
    pub extras: Extras,
}

/// The parts of a [`Target`] most targets leave unset.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TargetExtras {
    /// Concurrency per local (day, hour), replacing `limits.concurrency` per cell.
    pub concurrency_matrix: Option<ConcurrencyMatrix>,
    /// Which calls it takes; `None` = every call.
    pub filter: Option<Filter>,
    /// How long to ring it before failing over; `None` = the default 30 s.
    pub timeout_seconds: Option<u32>,
    /// Refuse callers it connected (or converted) recently; `None` = never.
    pub duplicates: Option<DuplicateRule>,
}

const NO_EXTRAS: TargetExtras = TargetExtras {
    concurrency_matrix: None,
    filter: None,
    timeout_seconds: None,
    duplicates: None,
};

/// [`TargetExtras`] boxed, and absent when all unset: a target without
/// any pays one pointer (8 B instead of 56).
#[derive(Clone, Debug, Default)]
pub struct Extras(Option<Box<TargetExtras>>);

impl Extras {
    /// `extras`, boxed unless all unset.
    pub fn new(extras: TargetExtras) -> Self {
        Extras((extras != NO_EXTRAS).then(|| Box::new(extras)))
    }

    /// The extras (all unset when absent).
    pub fn get(&self) -> &TargetExtras {
        self.0.as_deref().unwrap_or(&NO_EXTRAS)
    }

    /// The extras to edit (boxed on first use).
    pub fn get_mut(&mut self) -> &mut TargetExtras {
        self.0.get_or_insert_with(Box::default)
    }
}

impl PartialEq for Extras {
    fn eq(&self, o: &Self) -> bool {
        self.get() == o.get()
    }
}

impl Eq for Extras {}

impl Target {
    /// Ring timeout in seconds (default 30).
    pub fn effective_timeout(&self) -> u32 {
        self.timeout_seconds().unwrap_or(DEFAULT_TIMEOUT_SECONDS)
    }

    /// Concurrency per local (day, hour), replacing `limits.concurrency` per cell.
    pub fn concurrency_matrix(&self) -> Option<&ConcurrencyMatrix> {
        self.extras.get().concurrency_matrix.as_ref()
    }

    /// Which calls it takes; `None` = every call.
    pub fn filter(&self) -> Option<&Filter> {
        self.extras.get().filter.as_ref()
    }

    /// How long to ring it before failing over; `None` = the default 30 s.
    pub fn timeout_seconds(&self) -> Option<u32> {
        self.extras.get().timeout_seconds
    }

    /// Refuse callers it connected (or converted) recently; `None` = never.
    pub fn duplicates(&self) -> Option<DuplicateRule> {
        self.extras.get().duplicates
    }

    /// Cap limits (unpacked: a copy).
    pub fn limits(&self) -> Limits {
        self.caps.limits()
    }

    /// Usage at `Config::as_of` (unpacked: a copy).
    pub fn usage(&self) -> Usage {
        self.caps.usage()
    }

    /// The limits, to edit in place: `t.limits_mut().daily = Some(5)`.
    pub fn limits_mut(&mut self) -> CapsEdit<'_, Limits> {
        CapsEdit::limits(&mut self.caps)
    }

    /// The usage, to edit in place: `t.usage_mut().daily = 3`.
    pub fn usage_mut(&mut self) -> CapsEdit<'_, Usage> {
        CapsEdit::usage(&mut self.caps)
    }
}

/// How a group's members are dialled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum GroupMode {
    /// Members are routed one by one (Retreaver `behavior: 1`).
    #[default]
    Separate,
    /// All eligible members are dialled at once as one step (`behavior: 2`).
    Simultaneous,
}

impl GroupMode {
    /// Stable name: `separate`, `simultaneous`.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupMode::Separate => "separate",
            GroupMode::Simultaneous => "simultaneous",
        }
    }
}

/// A set of targets with caps (and optionally hours) of its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// Unique id among groups.
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    /// Members, as indices into [`Config::targets`].
    pub members: Vec<usize>,
    /// Dial mode.
    pub mode: GroupMode,
    /// Priority of the group as one step (simultaneous); `None` = default 1.
    pub priority: Option<i32>,
    /// Weight of the group as one step (simultaneous); `None` = default 1.
    pub weight: Option<u32>,
    /// Zone of the group's hours and cap windows.
    pub zone: Zone,
    /// The zone name as written in the config.
    pub zone_name: Arc<str>,
    /// Group hours; `None` = open 24/7 (shared, as a target's).
    pub hours: Option<Arc<WeeklyHours>>,
    /// Group cap limits (count every call counted on any member).
    pub limits: Limits,
    /// Concurrency per local (day, hour).
    pub concurrency_matrix: Option<ConcurrencyMatrix>,
    /// Usage at `Config::as_of`.
    pub usage: Usage,
    /// Which calls its members take; `None` = every call.
    pub filter: Option<Filter>,
    /// Ring timeout of the group as one (simultaneous) step; `None` = the
    /// largest of its rung members'.
    pub timeout_seconds: Option<u32>,
}

impl Group {
    /// Effective priority as a route step.
    pub fn effective_priority(&self) -> i32 {
        self.priority.unwrap_or(DEFAULT_PRIORITY)
    }
    /// Effective weight as a route step.
    pub fn effective_weight(&self) -> u32 {
        self.weight.unwrap_or(DEFAULT_WEIGHT)
    }
}

/// One entry of a candidate list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CandidateRef {
    /// A target, by index into [`Config::targets`].
    Target(usize),
    /// A (simultaneous) group, by index into [`Config::groups`].
    Group(usize),
}

/// A named entry point for calls: its own candidate list, a filter on the
/// whole call and a last-resort target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Campaign {
    /// Unique id among campaigns.
    pub id: String,
    /// Its candidates: targets, and simultaneous groups as one step (a
    /// separate group listed here stands for its members).
    pub candidates: Vec<CandidateRef>,
    /// Target appended as the last step when eligible by its own state.
    pub fallback: Option<usize>,
    /// Which calls the campaign takes at all; `None` = every call.
    pub filter: Option<Filter>,
    /// Repeat-caller rule of its calls; `None` = the config's.
    pub repeat_callers: Option<RepeatRule>,
}

/// A whole routing configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The instant the imported usage belongs to; `None` = the first decision instant.
    pub as_of: Option<Instant>,
    /// Targets, ids unique.
    pub targets: Vec<Target>,
    /// Groups, ids unique.
    pub groups: Vec<Group>,
    /// How long a connected call holds concurrency without an `end`: from
    /// its connect, renewed from each `touch`; imported live calls hold for
    /// this long after the import. `1..=`[`MAX_CALL_SECONDS`].
    pub call_lease_seconds: u64,
    /// How long a settled call (ended, or its lease run out) is remembered
    /// (and may still convert) before it is forgotten.
    /// `1..=`[`MAX_CALL_SECONDS`].
    pub call_retention_seconds: u64,
    /// Campaigns, ids unique; calls without one use the default candidates.
    pub campaigns: Vec<Campaign>,
    /// Repeat-caller rule of calls whose campaign sets none; `None` = normal.
    pub repeat_callers: Option<RepeatRule>,
    /// The filters above, compiled on first use (derived data: never
    /// compared, and a clone compiles afresh so an edited copy is not stale).
    pub compiled: CompiledCache,
}

impl Default for Config {
    /// No targets, no groups, no `as_of`, default lease and retention.
    fn default() -> Self {
        Config {
            as_of: None,
            targets: Vec::new(),
            groups: Vec::new(),
            call_lease_seconds: DEFAULT_CALL_LEASE_SECONDS,
            call_retention_seconds: DEFAULT_CALL_RETENTION_SECONDS,
            campaigns: Vec::new(),
            repeat_callers: None,
            compiled: CompiledCache::default(),
        }
    }
}

/// Every filter of a config compiled into one table, so a decision prepares
/// the call once and asks each candidate's filter in a lookup or two.
#[derive(Debug, Default)]
pub struct CompiledFilters {
    /// The shared table (interned keys and values).
    pub table: FilterTable,
    /// Per target, its compiled filter.
    pub targets: Vec<Option<CompiledFilter>>,
    /// Per group, its compiled filter.
    pub groups: Vec<Option<CompiledFilter>>,
    /// Per campaign, its compiled filter.
    pub campaigns: Vec<Option<CompiledFilter>>,
    /// Whether any target or group has a filter (else calls are not prepared).
    pub any: bool,
    /// The targets' filters, judged all at once for a call.
    pub target_rows: FilterRows,
}

impl CompiledFilters {
    /// Compile every filter of `config` into one table.
    pub fn new(config: &Config) -> Self {
        let mut table = FilterTable::new();
        let targets: Vec<_> = (config.targets.iter())
            .map(|t| t.filter().map(|f| table.compile(f)))
            .collect();
        let groups: Vec<_> = (config.groups.iter())
            .map(|g| g.filter.as_ref().map(|f| table.compile(f)))
            .collect();
        let campaigns: Vec<_> = (config.campaigns.iter())
            .map(|c| c.filter.as_ref().map(|f| table.compile(f)))
            .collect();
        let any = (targets.iter().chain(&groups).chain(&campaigns)).any(Option::is_some);
        let target_rows = FilterRows::new(&table, targets.iter().map(Option::as_ref));
        CompiledFilters {
            table,
            targets,
            groups,
            campaigns,
            any,
            target_rows,
        }
    }
}

/// What a config derives from its own fields, computed once on first use:
/// its [`CompiledFilters`] and its longest caller-history window.
#[derive(Debug, Default)]
pub struct CompiledCache(OnceLock<CompiledFilters>, OnceLock<u64>);

impl Clone for CompiledCache {
    fn clone(&self) -> Self {
        CompiledCache::default()
    }
}

impl PartialEq for CompiledCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for CompiledCache {}

impl Config {
    /// [`Config::call_lease_seconds`] as a duration.
    pub fn call_lease(&self) -> TimeDelta {
        secs(self.call_lease_seconds)
    }

    /// [`Config::call_retention_seconds`] as a duration.
    pub fn call_retention(&self) -> TimeDelta {
        secs(self.call_retention_seconds)
    }

    /// Every filter of the config, compiled the first time it is asked.
    pub fn filters(&self) -> &CompiledFilters {
        self.compiled.0.get_or_init(|| CompiledFilters::new(self))
    }

    /// The longest window any caller rule reads, in seconds (0: no rule
    /// needs caller history; no `duplicates`, repeat modes all `normal`).
    pub fn caller_window(&self) -> u64 {
        *(self.compiled.1).get_or_init(|| longest_caller_window(self))
    }

    /// Index of the target with this id.
    pub fn target_index(&self, id: &str) -> Option<usize> {
        self.targets.iter().position(|t| t.id == id)
    }

    /// Index of the campaign with this id.
    pub fn campaign_index(&self, id: &str) -> Option<usize> {
        self.campaigns.iter().position(|c| c.id == id)
    }

    /// Index of the group with this id.
    pub fn group_index(&self, id: &str) -> Option<usize> {
        self.groups.iter().position(|g| g.id == id)
    }

    /// Indices of the groups that contain target `t`.
    pub fn groups_of(&self, t: usize) -> impl Iterator<Item = usize> + '_ {
        self.groups
            .iter()
            .enumerate()
            .filter(move |(_, g)| g.members.contains(&t))
            .map(|(i, _)| i)
    }

    /// `(priority, weight)` of a candidate as one route step: a target's
    /// own, a group's effective ones; `None` outside the config. The one
    /// source of a step's key, for the planner, the fast checker and the
    /// first-place chances every face shows.
    pub fn step_key(&self, candidate: CandidateRef) -> Option<(i32, u32)> {
        match candidate {
            CandidateRef::Target(t) => self.targets.get(t).map(|t| (t.priority, t.weight)),
            CandidateRef::Group(g) => self
                .groups
                .get(g)
                .map(|g| (g.effective_priority(), g.effective_weight())),
        }
    }

    /// The default candidate list: every target in no simultaneous group,
    /// then every simultaneous group, in config order.
    pub fn default_candidates(&self) -> Vec<CandidateRef> {
        let mut in_simul = vec![false; self.targets.len()];
        for g in &self.groups {
            if g.mode == GroupMode::Simultaneous {
                for &m in &g.members {
                    in_simul[m] = true;
                }
            }
        }
        let mut out: Vec<CandidateRef> = (0..self.targets.len())
            .filter(|&i| !in_simul[i])
            .map(CandidateRef::Target)
            .collect();
        out.extend(
            self.groups
                .iter()
                .enumerate()
                .filter(|(_, g)| g.mode == GroupMode::Simultaneous)
                .map(|(i, _)| CandidateRef::Group(i)),
        );
        out
    }
}

/// Whole seconds as a duration, clamped to `1..=`[`MAX_CALL_SECONDS`]
/// (parsed configs are always in that range; hand-built ones are clamped
/// rather than overflowing or lapsing at the instant they start).
fn secs(s: u64) -> TimeDelta {
    let s = s.clamp(1, MAX_CALL_SECONDS) as i64;
    TimeDelta::try_seconds(s).unwrap_or(TimeDelta::MAX)
}

/// The longest window any rule of `config` reads, in seconds; 0 when no
/// rule needs history (no `duplicates`, repeat modes all `normal`).
fn longest_caller_window(config: &Config) -> u64 {
    let repeat = |r: &Option<RepeatRule>| match r {
        Some(r) if r.mode != RepeatMode::Normal => r.window,
        _ => 0,
    };
    let targets = (config.targets.iter())
        .filter_map(|t| t.duplicates().map(|d| d.window))
        .max();
    let campaigns = config
        .campaigns
        .iter()
        .map(|c| repeat(&c.repeat_callers))
        .max();
    (targets.into_iter())
        .chain(campaigns)
        .chain([repeat(&config.repeat_callers)])
        .max()
        .unwrap_or(0)
}
