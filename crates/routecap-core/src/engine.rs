//! [`Engine`]: one config, its live counters and an id index, offering every
//! operation by target or group id. The native thread-safe engine, the
//! WebAssembly class and the CLI are thin faces over it, so they answer the
//! same and fail with the same words.
//!
//! Pure like the rest of the core: every call takes the instant of the
//! event and route order comes from a caller's generator or seed.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use rand_core::Rng;

use crate::call::Call;
use crate::carry_over::{Dropped, UsageImportError};
use crate::eligibility::{self, CandidateReport};
use crate::filter::CallAttrs;
use crate::formats::source::{parse_usage, OwnerKind, Source};
use crate::formats::{ConfigError, Format};
use crate::grid::{self, Heatmap, UnknownOwner};
use crate::lifecycle::{ConnectOutcome, LifecycleError, State};
use crate::model::{CandidateRef, Config};
use crate::money::Money;
use crate::render::{
    self, ChancesView, CheckView, FirstCountsView, RouteView, UsageRow, UsageView,
};
use crate::route::{self, Draws, LazyPlan, Planner, Router, Step};
use crate::snapshot::{Snapshot, SnapshotError};
use crate::zone::{Instant, Zone};

/// Why an engine operation failed. The state is unchanged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// No target with this id.
    #[error("unknown target {0:?}")]
    UnknownTarget(String),
    /// No group with this id.
    #[error("unknown group {0:?}")]
    UnknownGroup(String),
    /// No campaign with this id.
    #[error("unknown campaign {0:?}")]
    UnknownCampaign(String),
    /// No target or group with this id (hours grids take either).
    #[error(transparent)]
    UnknownOwner(#[from] UnknownOwner),
    /// A week too far from today's calendar to draw.
    #[error("{0} is outside the supported range (1971..2098)")]
    UnsupportedWeek(NaiveDate),
    /// The lifecycle rejected the event.
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
    /// A snapshot that does not fit the config.
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    /// A config or patch that does not parse (file or request, JSON path,
    /// value, what is allowed).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A usage import naming an id the config does not have.
    #[error(transparent)]
    Usage(#[from] UsageImportError),
    /// A patch to an engine built from a config without its document.
    #[error("this engine has no config document to patch (build it from the document, e.g. Engine::parse)")]
    NoSource,
}

/// The change instant of a config change that moves no zone (a pause):
/// windows move only with zones, so any instant gives the same state.
const NO_ZONE_CHANGE: Instant = Instant::UNIX_EPOCH;

/// A config and its live counters, operated on by id.
#[derive(Debug)]
pub struct Engine {
    config: Arc<Config>,
    state: State,
    /// Target index by id: `Config::target_index` scans, this does not.
    target_ids: HashMap<String, usize>,
    /// Cached eligibility between the decisions of [`Engine::route`].
    router: Router,
    /// The document the config was parsed from, for patches.
    source: Option<Source>,
    /// Bumped by every config change, so that callers' routers built for
    /// an older config are rebuilt before they decide.
    generation: u64,
}

/// Target index by id; the first of duplicate ids wins, like
/// `Config::target_index`.
fn target_ids(config: &Config) -> HashMap<String, usize> {
    let mut ids = HashMap::with_capacity(config.targets.len());
    for (i, t) in config.targets.iter().enumerate() {
        ids.entry(t.id.clone()).or_insert(i);
    }
    ids
}

impl Engine {
    /// An engine with the config's imported usage (see [`State::new`]).
    pub fn new(config: impl Into<Arc<Config>>) -> Engine {
        let config = config.into();
        let state = State::new(&config);
        Engine::with(config, state)
    }

    /// An engine continuing from a snapshot taken with the same config.
    pub fn restore(
        config: impl Into<Arc<Config>>,
        snapshot: &Snapshot,
    ) -> Result<Engine, EngineError> {
        let config = config.into();
        let state = State::restore(&config, snapshot)?;
        Ok(Engine::with(config, state))
    }

    /// Take over `old`'s router when this engine holds a newer read of
    /// the same counters under the same config (a state backend's cache
    /// refresh, see `routecap::state::redis`): targets whose counters did
    /// not change keep their stamps, so their reports stay kept and the
    /// next decision judges only the targets that changed, instead of
    /// building every report again with a new router. `old` is left with
    /// an empty router, rebuilt on its next decision. With another config
    /// (not the same `Arc`) or generation nothing happens.
    pub fn adopt_router(&mut self, old: &mut Engine) {
        if !Arc::ptr_eq(&self.config, &old.config) || self.generation != old.generation {
            return;
        }
        self.state.keep_stamps_of(&old.state);
        self.router = core::mem::take(&mut old.router);
    }

    fn with(config: Arc<Config>, state: State) -> Engine {
        Engine {
            target_ids: target_ids(&config),
            // an empty router, built for the config by its first decision:
            // a state backend's cache restores an engine on every refresh
            // and then adopts the old engine's router (`adopt_router`), so
            // one built here would be thrown away
            router: Router::default(),
            config,
            state,
            source: None,
            generation: 0,
        }
    }

    /// An engine from a config document (any shape; `format` `None` =
    /// detect), kept so that targets and groups can be patched in it.
    pub fn parse(bytes: &[u8], file: &str, format: Option<Format>) -> Result<Engine, ConfigError> {
        let (source, config) = Source::parse(bytes, file, format)?;
        Ok(Engine::from_source(source, config))
    }

    /// An engine from a parsed document and its config (see [`Source`]).
    pub fn from_source(source: Source, config: impl Into<Arc<Config>>) -> Engine {
        let config = config.into();
        let state = State::new(&config);
        let mut e = Engine::with(config, state);
        e.source = Some(source);
        e
    }

    /// An engine continuing from a snapshot taken with this config or an
    /// earlier one, and what of the snapshot no longer has an id.
    pub fn restore_report(
        config: impl Into<Arc<Config>>,
        snapshot: &Snapshot,
    ) -> Result<(Engine, Dropped), EngineError> {
        let config = config.into();
        let (state, dropped) = State::restore_report(&config, snapshot)?;
        Ok((Engine::with(config, state), dropped))
    }

    /// The config document, when the engine was built from one.
    pub fn source(&self) -> Option<&Source> {
        self.source.as_ref()
    }

    /// Switch to a new config at instant `at`, carrying counters, live
    /// calls and reservations over by id (see [`crate::carry_over`]; an
    /// owner whose zone changed keeps the count of the window holding
    /// `at`); what was dropped is returned. The engine forgets its config
    /// document: patches need [`Engine::replace_config`]. Never fails: a
    /// `Config` is already valid.
    pub fn update(&mut self, config: impl Into<Arc<Config>>, at: Instant) -> Dropped {
        self.install(config.into(), None, at)
    }

    /// Parse a whole config document (in shape `format`, `None`: detected)
    /// and switch to it, carrying state over by id as [`Engine::update`]
    /// does at instant `at`; `file` names the document in errors. On a
    /// parse error nothing changes.
    pub fn replace_config(
        &mut self,
        doc: &serde_json::Value,
        file: &str,
        format: Option<Format>,
        at: Instant,
    ) -> Result<Dropped, EngineError> {
        let (source, config) = Source::from_value(doc.clone(), file, format)?;
        Ok(self.install(config.into(), Some(source), at))
    }

    fn install(&mut self, config: Arc<Config>, source: Option<Source>, at: Instant) -> Dropped {
        let (state, dropped) = self.state.carry_over(&self.config, &config, at);
        self.target_ids = target_ids(&config);
        self.router = Router::new(&config);
        self.config = config;
        self.state = state;
        self.source = source;
        self.generation += 1;
        self.router.generation = self.generation;
        dropped
    }

    /// The id the config gives the target (else group, per `kind`) named
    /// `name`: its id, or for Retreaver also its `tid`.
    pub fn resolve(&self, kind: OwnerKind, name: &str) -> Result<String, EngineError> {
        let known = match kind {
            OwnerKind::Target => self.target_ids.contains_key(name),
            OwnerKind::Group => self.config.group_index(name).is_some(),
        };
        if known {
            return Ok(name.to_string());
        }
        self.source
            .as_ref()
            .and_then(|s| s.resolve_id(kind, name))
            .filter(|id| match kind {
                OwnerKind::Target => self.target_ids.contains_key(id),
                OwnerKind::Group => self.config.group_index(id).is_some(),
            })
            .ok_or_else(|| match kind {
                OwnerKind::Target => EngineError::UnknownTarget(name.to_string()),
                OwnerKind::Group => EngineError::UnknownGroup(name.to_string()),
            })
    }

    /// Merge `patch` (a partial target or group object in the config's own
    /// shape; Retreaver/Ringba `{"target": {...}}` payloads too) into the
    /// owner named `name` and switch to the result at instant `at` (see
    /// [`Engine::update`]); `request` names the patch in errors. On any
    /// error nothing changes.
    pub fn patch(
        &mut self,
        kind: OwnerKind,
        name: &str,
        patch: &serde_json::Value,
        request: &str,
        at: Instant,
    ) -> Result<Dropped, EngineError> {
        let id = self.resolve(kind, name)?;
        let source = self.source.as_ref().ok_or(EngineError::NoSource)?;
        let (source, config) = source.patch(kind, &id, patch, request)?;
        Ok(self.install(config.into(), Some(source), at))
    }

    /// Pause (`true`) or resume a target, or every member of a group
    /// (groups have no pause of their own). Counters are untouched.
    pub fn set_paused(
        &mut self,
        kind: OwnerKind,
        name: &str,
        paused: bool,
    ) -> Result<(), EngineError> {
        let id = self.resolve(kind, name)?;
        let members: Vec<String> = match kind {
            OwnerKind::Target => vec![id],
            OwnerKind::Group => {
                let g = self.group_index(&id)?;
                let c = &self.config;
                c.groups[g]
                    .members
                    .iter()
                    .filter_map(|&m| c.targets.get(m))
                    .map(|t| t.id.clone())
                    .collect()
            }
        };
        match self.source.clone() {
            Some(mut source) => {
                let field = match source.format() {
                    Format::Ringba => serde_json::json!({"enabled": !paused}),
                    _ => serde_json::json!({"paused": paused}),
                };
                let mut config = None;
                for m in &members {
                    let (s, c) = source.patch(OwnerKind::Target, m, &field, "pause")?;
                    source = s;
                    config = Some(c);
                }
                if let Some(c) = config {
                    self.install(c.into(), Some(source), NO_ZONE_CHANGE);
                }
            }
            None => {
                let mut config = (*self.config).clone();
                for t in &mut config.targets {
                    if members.contains(&t.id) {
                        t.paused = paused;
                    }
                }
                self.install(config.into(), None, NO_ZONE_CHANGE);
            }
        }
        Ok(())
    }

    /// Merge a usage import taken at `at`, a JSON document in any of the
    /// three shapes (see [`parse_usage`]; `request` names it in errors):
    /// all or nothing.
    pub fn import_usage(
        &mut self,
        at: Instant,
        usage: &serde_json::Value,
        request: &str,
    ) -> Result<(), EngineError> {
        let usage = parse_usage(usage, request)?;
        self.state.import_usage(&self.config, at, &usage)?;
        self.router.forget();
        Ok(())
    }

    /// The config.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// The counters and calls.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Index of the target with this id (see [`Engine::resolve`] for
    /// other names of a target).
    pub fn target_index(&self, id: &str) -> Result<usize, EngineError> {
        self.target_ids
            .get(id)
            .copied()
            .ok_or_else(|| EngineError::UnknownTarget(id.to_string()))
    }

    /// Index of the group with this id.
    pub fn group_index(&self, id: &str) -> Result<usize, EngineError> {
        self.config
            .group_index(id)
            .ok_or_else(|| EngineError::UnknownGroup(id.to_string()))
    }

    /// Anchor imported usage to the windows containing `at` (see
    /// [`State::anchor`]); decisions and lifecycle events do it themselves.
    pub fn anchor(&mut self, at: Instant) {
        self.state.anchor(&self.config, at);
    }

    /// The campaign a call names, if any; an unknown id is an error.
    fn campaign(&self, attrs: &CallAttrs) -> Result<Option<usize>, EngineError> {
        match attrs.campaign() {
            None => Ok(None),
            Some(id) => self
                .config
                .campaign_index(id)
                .map(Some)
                .ok_or_else(|| EngineError::UnknownCampaign(id.to_string())),
        }
    }

    /// The report of every candidate of a call at `at`: its campaign's
    /// candidates when it names one, else the default candidates; filters
    /// judge its tags, caller rules its caller's history.
    pub fn reports(&self, call: &Call, at: Instant) -> Result<Vec<CandidateReport>, EngineError> {
        let attrs = call.attrs();
        let cands = (self.campaign(attrs)?).map(|c| &self.config.campaigns[c].candidates[..]);
        Ok(eligibility::check_seen(
            &self.config,
            &self.state,
            at,
            cands,
            attrs,
            self.state.callers(),
        ))
    }

    /// The campaign's verdict on a call: `(campaign, why it refuses it)`.
    fn campaign_verdict(
        &self,
        attrs: &CallAttrs,
    ) -> Result<Option<(usize, Option<eligibility::Reason>)>, EngineError> {
        Ok(self
            .campaign(attrs)?
            .map(|c| (c, eligibility::campaign_reason(&self.config, c, attrs))))
    }

    /// Who may take `call` at `at`, and why each other candidate may not
    /// and until when (`routecap check`), with its campaign's verdict when
    /// it names one.
    pub fn check(&self, call: &Call, at: Instant) -> Result<CheckView, EngineError> {
        let attrs = call.attrs();
        let reports = self.reports(call, at)?;
        let mut view = render::check_call(&self.config, &reports, at, attrs);
        if let Some((c, why)) = self.campaign_verdict(attrs)? {
            let campaign = &self.config.campaigns[c];
            view.campaign = Some(render::CampaignView {
                id: campaign.id.clone(),
                eligible: why.is_none(),
                reasons: render::reasons(&self.config, why.as_slice()),
                fallback: campaign.fallback.map(|f| self.config.targets[f].id.clone()),
            });
        }
        Ok(view)
    }

    /// The failover plan for `call` at `at` (`routecap route`), drawn from
    /// `draws`: its campaign's candidates (an empty plan with the campaign
    /// in `rejected` when the campaign's filter refuses the call), filters
    /// and caller rules, a repeat caller's original target first, the
    /// campaign's fallback last. Imported usage not anchored yet is
    /// anchored to `at`, as by every decision.
    pub fn route(
        &mut self,
        call: &Call,
        at: Instant,
        draws: &mut Draws,
    ) -> Result<RouteView, EngineError> {
        let attrs = call.attrs();
        let verdict = self.campaign_verdict(attrs)?;
        self.state.anchor(&self.config, at);
        let (config, seed) = (&*self.config, draws.seed());
        if let Some((c, Some(why))) = verdict {
            let mut view = render::route(config, at, seed, &[], &[]);
            view.rejected.push(render::RejectedView {
                id: config.campaigns[c].id.clone(),
                kind: Some("campaign"),
                reasons: render::reasons(config, &[why]),
            });
            return Ok(view);
        }
        let history = self.state.callers();
        let (reports, plan) =
            (self.router).route_seen(config, &self.state, at, attrs, history, draws.rng());
        let fallback = plan.fallback();
        let mut steps: Vec<Step<'_>> = plan.collect();
        if fallback.is_some() {
            steps.pop();
        }
        let mut view = render::route_call(config, at, seed, &steps, reports, attrs);
        if let Some(f) = fallback {
            view.plan.push(render::StepView::Target {
                target: config.targets[f].id.clone(),
                timeout_seconds: config.targets[f].effective_timeout(),
                fallback: true,
            });
        }
        Ok(view)
    }

    /// Route `call` at `at` with a caller's router (one per worker thread,
    /// reused: steady-state decisions do not allocate) — the hot path under
    /// [`Engine::route`], for services that take only the first steps: `f`
    /// gets the config, the report of every candidate and the failover
    /// plan, whose steps are drawn from `rng` only as `f` takes them
    /// (`plan.fallback()` names the campaign's fallback, the last step).
    /// Routed exactly as [`Engine::route`] routes.
    pub fn route_with<T, R: Rng + ?Sized>(
        &self,
        router: &mut Router,
        call: &Call,
        at: Instant,
        rng: &mut R,
        f: impl for<'a> FnOnce(&'a Config, &'a [CandidateReport], LazyPlan<'a, 'a, R>) -> T,
    ) -> Result<T, EngineError> {
        let attrs = call.attrs();
        self.campaign(attrs)?;
        if router.generation != self.generation {
            *router = self.router();
        }
        let history = self.state.callers();
        let (reports, plan) = router.route_seen(&self.config, &self.state, at, attrs, history, rng);
        Ok(f(&self.config, reports, plan))
    }

    /// The engine's own router, the one [`Engine::route`] decides with
    /// (and [`Engine::adopt_router`] carries over): take it out to decide
    /// with [`Engine::route_with`] and put it back.
    pub fn router_mut(&mut self) -> &mut Router {
        &mut self.router
    }

    /// A router for [`Engine::route_with`] (one per thread) for the current
    /// config; after a config change it is rebuilt on its next use.
    pub fn router(&self) -> Router {
        let mut r = Router::new(&self.config);
        r.generation = self.generation;
        r
    }

    /// Chance of each eligible candidate of `call` at `at` to be rung first
    /// (see [`route::first_place_chances`]), by id in plan order.
    pub fn chances(&self, call: &Call, at: Instant) -> Result<ChancesView, EngineError> {
        Ok(self.chances_of(&self.call_reports(call, at)?))
    }

    /// The reports a call's plan is drawn from (none when its campaign
    /// refuses the call), the report its repeat rule rings first, and the
    /// campaign fallback that ends the plan.
    fn call_reports(&self, call: &Call, at: Instant) -> Result<CallReports, EngineError> {
        let attrs = call.attrs();
        let c = match self.campaign_verdict(attrs)? {
            Some((_, Some(_))) => return Ok(CallReports::plain(Vec::new())),
            Some((c, None)) => Some(c),
            None => None,
        };
        let reports = self.reports(call, at)?;
        let (config, history) = (&*self.config, self.state.callers());
        Ok(CallReports {
            first: crate::eligibility::original_report(config, history, attrs, at, &reports),
            fallback: c.and_then(|c| route::fallback(config, &self.state, c, &reports, at)),
            reports,
        })
    }

    fn chances_of(&self, call: &CallReports) -> ChancesView {
        let config = &*self.config;
        let steps = route::plan_first(
            config,
            &call.reports,
            call.first,
            &mut route::rng_from_seed(0),
        );
        let mut chances = route::first_place_chances(config, &steps);
        if call.first.is_some() {
            // rung first whatever the draw
            chances
                .iter_mut()
                .enumerate()
                .for_each(|(i, c)| *c = f64::from(u8::from(i == 0)));
        }
        let mut out: Vec<(String, f64)> = (steps.iter().zip(chances))
            .map(|(s, c)| (step_id(config, s).to_string(), c))
            .collect();
        if let Some(f) = call.fallback {
            let only = if steps.is_empty() { 1.0 } else { 0.0 };
            out.push((config.targets[f].id.clone(), only));
        }
        ChancesView(out)
    }

    /// Route `n` copies of `call` at `at` with seeds `seed, seed+1, …`
    /// (wrapping) and count where each would ring first; eligibility is
    /// checked once.
    pub fn first_counts(
        &self,
        call: &Call,
        at: Instant,
        seed: u64,
        n: u32,
    ) -> Result<FirstCountsView, EngineError> {
        Ok(self.counts_of(&self.call_reports(call, at)?, seed, n))
    }

    fn counts_of(&self, call: &CallReports, seed: u64, n: u32) -> FirstCountsView {
        let reports = &call.reports[..];
        let mut first: Vec<(String, u64)> = reports
            .iter()
            .filter(|r| r.eligible)
            .map(|r| {
                (
                    render::candidate_id(&self.config, r.candidate).to_string(),
                    0,
                )
            })
            .collect();
        if let Some(f) = call.fallback {
            first.push((self.config.targets[f].id.clone(), 0));
        }
        let mut none = 0u64;
        let mut planner = Planner::new();
        for i in 0..u64::from(n) {
            let mut rng = route::rng_from_seed(seed.wrapping_add(i));
            let step = (planner
                .lazy_first(&self.config, reports, call.first, &mut rng)
                .next())
            .or(call.fallback.map(Step::Target));
            let id = step.map(|s| step_id(&self.config, &s));
            match id.and_then(|id| first.iter().position(|(x, _)| x == id)) {
                Some(k) => first[k].1 += 1,
                None => none += 1,
            }
        }
        FirstCountsView { n, first, none }
    }

    /// Index of the target named `name` (its id, or another name the
    /// config gives it; see [`Engine::resolve`]).
    fn target_named(&self, name: &str) -> Result<usize, EngineError> {
        match self.target_ids.get(name) {
            Some(&t) => Ok(t),
            None => self.target_index(&self.resolve(OwnerKind::Target, name)?),
        }
    }

    /// Re-check target `target` (its id, or a Retreaver `tid`) at `at` for
    /// `call` and, if eligible, connect the call and count it; a refusal
    /// changes nothing. The re-check applies the target's and its groups'
    /// filters to the call's tags and its caller rules to its caller.
    pub fn connect(
        &mut self,
        call: &Call,
        target: &str,
        at: Instant,
    ) -> Result<ConnectOutcome, EngineError> {
        let t = self.target_named(target)?;
        Ok((self.state).connect_call(&self.config, call.id(), t, at, call.attrs())?)
    }

    /// Hold capacity on `target` for `call` for `ttl_secs` seconds, as a
    /// connect would take it, until the call connects, is cancelled or the
    /// reservation runs out.
    pub fn reserve(
        &mut self,
        call: &Call,
        target: &str,
        ttl_secs: u64,
        at: Instant,
    ) -> Result<ConnectOutcome, EngineError> {
        let t = self.target_named(target)?;
        Ok(self
            .state
            .reserve(&self.config, call.id(), t, ttl_secs, at)?)
    }

    /// Record a conversion of `call` with `revenue`.
    pub fn convert(&mut self, call: &Call, revenue: Money, at: Instant) -> Result<(), EngineError> {
        Ok(self.state.convert(&self.config, call.id(), revenue, at)?)
    }

    /// End `call`, releasing its concurrency (nothing more once its lease
    /// ran out; see [`State::end`]).
    pub fn end(&mut self, call: &Call, at: Instant) -> Result<(), EngineError> {
        Ok(self.state.end(&self.config, call.id(), at)?)
    }

    /// Renew the lease of connected `call` to `at + call_lease_seconds`
    /// (see [`State::touch`]).
    pub fn touch(&mut self, call: &Call, at: Instant) -> Result<(), EngineError> {
        Ok(self.state.touch(&self.config, call.id(), at)?)
    }

    /// Cancel the reservation of `call`, freeing its capacity at once (see
    /// [`State::cancel`]).
    pub fn cancel(&mut self, call: &Call, at: Instant) -> Result<(), EngineError> {
        Ok(self.state.cancel(&self.config, call.id(), at)?)
    }

    /// Sweep expired reservations, lapsed leases and forgotten calls up to
    /// `at` (see [`State::advance`]); lifecycle events do it themselves.
    pub fn advance(&mut self, at: Instant) {
        self.state.advance(&self.config, at);
    }

    /// Reset the total count and revenue of a target, or of a group and
    /// its members.
    pub fn reset(&mut self, kind: OwnerKind, name: &str) -> Result<(), EngineError> {
        let id = self.resolve(kind, name)?;
        match kind {
            OwnerKind::Target => {
                let t = self.target_index(&id)?;
                self.state.reset_target(&self.config, t)?;
            }
            OwnerKind::Group => {
                let g = self.group_index(&id)?;
                self.state.reset_group(&self.config, g)?;
            }
        }
        Ok(())
    }

    /// A JSON-friendly copy of the counters and calls.
    pub fn snapshot(&self) -> Snapshot {
        self.state.snapshot(&self.config)
    }

    /// Replace the counters and calls with a snapshot of the same config;
    /// on error nothing changes.
    pub fn restore_snapshot(&mut self, snapshot: &Snapshot) -> Result<(), EngineError> {
        self.state = State::restore(&self.config, snapshot)?;
        self.router.forget();
        Ok(())
    }

    /// Every cap of every target and group at `at`, eligible or not
    /// (`routecap usage`).
    pub fn usage(&self, at: Instant) -> UsageView {
        render::usage_view(&self.config, &self.state, at)
    }

    /// Usage of every target, then every group, as caps see it at `at`
    /// (the rows [`Engine::usage`] is drawn from).
    pub fn usage_rows(&self, at: Instant) -> Vec<UsageRow> {
        let c = &*self.config;
        (0..c.targets.len())
            .map(CandidateRef::Target)
            .chain((0..c.groups.len()).map(CandidateRef::Group))
            .map(|o| render::usage_row(c, o, &self.state.usage(c, o, at)))
            .collect()
    }

    /// Every target for display.
    pub fn targets(&self) -> Vec<render::TargetSummary> {
        render::targets(&self.config)
    }

    /// Every group for display.
    pub fn groups(&self) -> Vec<render::GroupSummary> {
        render::groups(&self.config)
    }

    /// The hours of target (else group) `id` for the seven days from
    /// `start`, in its own zone and in `viewer`'s.
    pub fn hours_grid(
        &self,
        id: &str,
        start: NaiveDate,
        viewer: &Zone,
    ) -> Result<Heatmap, EngineError> {
        let owner = grid::owner(&self.config, id)?;
        if !grid::supported(start) {
            return Err(EngineError::UnsupportedWeek(start));
        }
        Ok(grid::heatmap(&owner, viewer, start))
    }
}

/// A call's reports with what its plan adds to the draw: the report rung
/// first (a repeat caller's original target) and the fallback rung last.
struct CallReports {
    reports: Vec<CandidateReport>,
    first: Option<usize>,
    fallback: Option<usize>,
}

impl CallReports {
    /// Reports of a call without campaign or caller rules.
    fn plain(reports: Vec<CandidateReport>) -> Self {
        CallReports {
            reports,
            first: None,
            fallback: None,
        }
    }
}

/// The id of a step's target or group.
fn step_id<'c>(config: &'c Config, s: &Step<'_>) -> &'c str {
    match *s {
        Step::Target(t) => &config.targets[t].id,
        Step::Group { group, .. } => &config.groups[group].id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::parse_config;

    fn engine() -> Engine {
        let config = parse_config(
            br#"{"targets": [
                {"id": "a", "priority": 1, "weight": 3, "caps": {"concurrency": 1, "total": 5}},
                {"id": "b", "priority": 1, "weight": 1},
                {"id": "c", "priority": 2, "time_zone": "America/New_York",
                 "hours": [{"day": 1, "open": "09:00", "close": "17:00"}]}
             ],
             "groups": [{"id": "g", "members": ["a", "b"], "caps": {"daily": 10}}]}"#,
            "t.json",
            None,
        )
        .unwrap();
        Engine::new(config)
    }

    fn at(s: &str) -> Instant {
        s.parse().unwrap()
    }

    #[test]
    fn operations_by_id() {
        let mut e = engine();
        let t = at("2026-11-23T15:00:00Z");
        assert_eq!(
            e.connect(&Call::new("c1"), "a", t),
            Ok(ConnectOutcome::Connected)
        );
        match e.connect(&Call::new("c2"), "a", t).unwrap() {
            ConnectOutcome::Refused(r) => assert_eq!(r[0].code_string(), "concurrency_cap"),
            ConnectOutcome::Connected => panic!("concurrency 1 exceeded"),
        }
        e.convert(&Call::new("c1"), Money(1250), t).unwrap();
        e.end(&Call::new("c1"), t).unwrap();
        assert_eq!(
            e.reserve(&Call::new("r1"), "b", 30, t),
            Ok(ConnectOutcome::Connected)
        );
        let usage = e.usage_rows(t);
        assert_eq!(usage[0].id, "a");
        assert_eq!(usage[0].total, 1);
        assert_eq!(usage[0].total_revenue, "12.50");
        assert_eq!(usage.last().unwrap().id, "g");
        assert_eq!(usage.last().unwrap().daily, 2);
        e.reset(OwnerKind::Target, "a").unwrap();
        e.reset(OwnerKind::Group, "g").unwrap();
        assert_eq!(e.usage_rows(t)[0].total, 0);

        let snap = e.snapshot();
        let again = Engine::restore(e.config().clone(), &snap).unwrap();
        assert_eq!(again.state(), e.state());
        e.restore_snapshot(&snap).unwrap();
        assert_eq!(e.snapshot(), snap);
    }

    #[test]
    fn views_and_chances() {
        let mut e = engine();
        let t = at("2026-11-23T15:00:00Z");
        let check = e.check(&Call::default(), t).unwrap();
        assert_eq!(check.candidates.len(), 3);
        assert!(check.candidates.iter().all(|c| c.eligible));
        let route = e.route(&Call::default(), t, &mut Draws::new(7)).unwrap();
        assert_eq!(route.plan.len(), 3);
        // the engine's router gives what check + plan give
        let reports = e.reports(&Call::default(), t).unwrap();
        let plan = route::plan(e.config(), &reports, &mut route::rng_from_seed(7));
        assert_eq!(route, render::route(e.config(), t, 7, &plan, &reports));
        let chances = e.chances(&Call::default(), t).unwrap().0;
        let by_id = |id: &str| chances.iter().find(|(x, _)| x == id).unwrap().1;
        assert_eq!((by_id("a"), by_id("b"), by_id("c")), (0.75, 0.25, 0.0));
        let counts = e.first_counts(&Call::default(), t, 1, 200).unwrap();
        assert_eq!(counts.first.iter().map(|(_, n)| n).sum::<u64>(), 200);
        assert_eq!(counts.first[2], ("c".to_string(), 0));
        let json = serde_json::to_string(&counts).unwrap();
        assert!(json.starts_with(r#"{"n":200,"first":{"a":"#), "{json}");
    }

    #[test]
    fn unknown_ids_fail_with_the_cli_texts() {
        let mut e = engine();
        let t = at("2026-11-23T15:00:00Z");
        fn text<T: std::fmt::Debug>(r: Result<T, EngineError>) -> String {
            r.unwrap_err().to_string()
        }
        assert_eq!(
            text(e.connect(&Call::new("c"), "x", t)),
            r#"unknown target "x""#
        );
        assert_eq!(
            text(e.reserve(&Call::new("c"), "x", 5, t)),
            r#"unknown target "x""#
        );
        assert_eq!(
            text(e.reset(OwnerKind::Target, "x")),
            r#"unknown target "x""#
        );
        assert_eq!(text(e.reset(OwnerKind::Group, "x")), r#"unknown group "x""#);
        assert_eq!(
            e.reset(OwnerKind::Group, "x"),
            Err(EngineError::UnknownGroup("x".into()))
        );
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        assert_eq!(
            text(e.hours_grid("x", day, &Zone::utc())),
            r#"unknown target or group "x" (known: a, b, c, g)"#
        );
        let far = NaiveDate::from_ymd_opt(2150, 1, 1).unwrap();
        assert_eq!(
            text(e.hours_grid("a", far, &Zone::utc())),
            "2150-01-01 is outside the supported range (1971..2098)"
        );
        // lifecycle errors keep the core's words, unprefixed
        assert_eq!(
            text(e.end(&Call::new("ghost"), t)),
            r#"unknown call "ghost""#
        );
        assert_eq!(
            text(e.convert(&Call::new("ghost"), Money(1), t)),
            r#"unknown call "ghost""#
        );
        assert_eq!(
            text(e.touch(&Call::new("ghost"), t)),
            r#"unknown call "ghost""#
        );
        assert_eq!(
            text(e.cancel(&Call::new("ghost"), t)),
            r#"unknown call "ghost""#
        );
        e.reserve(&Call::new("r"), "b", 60, t).unwrap();
        assert_eq!(
            text(e.end(&Call::new("r"), t)),
            r#"call "r" never connected"#
        );
        assert_eq!(
            text(e.touch(&Call::new("r"), t)),
            r#"call "r" never connected"#
        );
        e.connect(&Call::new("c"), "b", t).unwrap();
        assert_eq!(
            text(e.cancel(&Call::new("c"), t)),
            r#"call "c" is connected, not reserved: end it instead of cancelling"#
        );
        let late = t + chrono::TimeDelta::hours(4);
        assert_eq!(
            text(e.touch(&Call::new("c"), late)),
            r#"call "c": lease expired at 2026-11-23T19:00:00Z"#
        );
        e.end(&Call::new("c"), late).unwrap();
        assert_eq!(
            text(e.touch(&Call::new("c"), late)),
            r#"call "c" already ended"#
        );
    }

    #[test]
    fn hours_grid_by_id() {
        let e = engine();
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let g = e.hours_grid("c", day, &Zone::utc()).unwrap();
        assert_eq!(g.kind, "target");
        assert!(!g.always_open);
        assert_eq!(g.own.zone, "America/New_York");
        // Monday 09:00-17:00 in New York is 14:00-22:00 UTC; Sunday has no
        // entry, so it is open until Monday 00:00 there (05:00 UTC)
        let monday = &g.viewer.days[1].hours;
        let open: Vec<usize> = (0..24).filter(|&h| monday[h] == Some(1.0)).collect();
        assert_eq!(open, (0..5).chain(14..22).collect::<Vec<_>>());
        assert_eq!(e.hours_grid("g", day, &Zone::utc()).unwrap().kind, "group");
    }
}
