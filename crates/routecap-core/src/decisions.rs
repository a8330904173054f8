//! # Where the routing contract is silent: what routecap decided, and why
//!
//! The platforms routecap imports from (Retreaver, Ringba) and the routing
//! semantics it implements (written out in the repository's
//! `docs/semantics.md`) leave some questions open. Each answer below is what
//! an operator of a pay-per-call network would expect; each is pinned by
//! tests.
//!
//! ## Time
//!
//! - **Supported instants** are 1970-01-01T00:00:00Z up to, not including,
//!   2100-01-01T00:00:00Z. Offsets come from chrono-tz; [`crate::zone`] turns
//!   them into an explicit transition table over that range so windows and
//!   hours can ask "when does the offset change next". Instants outside the
//!   range are input errors, never panics.
//! - **Zone names**: in a config, a missing, `null`, empty or
//!   whitespace-only `time_zone` is `UTC` (exports leave it blank for
//!   "the account default", which is UTC). `routecap zones ""`, by contrast,
//!   is an error (exit 2, `"" is not a time zone name (empty)`): a person
//!   asking about no name has made a mistake. When a name exists in more
//!   than one scheme, Rails wins over Windows over IANA (`UTC` is reported
//!   as a Rails name); all map to the same zone anyway.
//! - **DST**: a local date-time that names one instant (a day or month
//!   start, a grid cell) is the first instant whose local time is at or
//!   after it — a skipped time is the instant of the jump, a repeated one
//!   its earlier occurrence; hours and hourly windows follow the wall clock,
//!   skipped times never happening and repeated ones happening twice. Named
//!   in [`crate::zone::LocalTimePolicy`] ([`crate::zone::Gap`],
//!   [`crate::zone::Fold`]), with worked examples.
//! - **Hours**: `open == close` is closed all day, and *inverted*
//!   `open == close` is therefore open all day (the complement of nothing).
//!   `closed` beats `invert`. An empty hours list means open 24/7, like no
//!   list. `next_open` searches up to 400 days ahead (enough for tables that
//!   are only open inside a DST gap) and answers `None` beyond.
//! - **Hourly windows** start whenever the local clock *shows* `HH:00:00`. A
//!   transition that lands off the hour (Lord Howe's 30-minute shift) starts
//!   no window, so the running hour lasts 30 minutes longer or shorter.
//! - **Daily and monthly windows** start at the first instant whose local
//!   time is at or after local midnight of the date (of day 1), so a
//!   fall-back across midnight keeps the repeated hour in the new day.
//!
//! ## Caps and the call lifecycle
//!
//! - **Counters keep the current window only** (per period, keyed by window
//!   start): no timers, no sweeping. A count at an instant in an older window
//!   than the one already seen goes to the totals only.
//! - **Imported usage without `as_of`** is anchored at the first accepted
//!   lifecycle event; before that, checks read it as the usage of whichever
//!   windows contain the instant checked ("default: the decision instant").
//! - **Imported live calls** (`calls_in_progress`, `currentLive`) hold
//!   concurrency until `as_of + call_lease_seconds` (no `as_of`: the first
//!   lifecycle event + the lease), or until a usage import replaces them:
//!   their end is never seen. One count and one expiry per owner
//!   ([`crate::counters::Ledger::set_imported_live`],
//!   [`crate::lifecycle::State::import_live`]).
//! - **Leases** hold on `[connect, until)`; a `touch` renews to
//!   `touch + lease` and never shortens one. An `end` after the lease ran
//!   out is accepted, recorded (a second `end` is still an error) and
//!   releases nothing more; a `touch` then is `lease expired` (the holder
//!   must learn it lost the slot); a `touch` of an ended call is
//!   `already ended`, of a reserved-only one `never connected`.
//! - **Unknown call**: an id with no record — never seen, forgotten after
//!   its retention, or a reservation that expired — is `unknown call` for
//!   `convert`, `end`, `touch` and `cancel` (it used to say "never
//!   connected", which is kept for reserved-only calls). A `connect` of such
//!   an id is a new call.
//! - **Forgetting** starts at the settle instant: the end, or the lease
//!   expiry when that came first (so a late `end` does not extend it). At
//!   settle + retention, exactly, the call is gone for every event even
//!   before a sweep; sweeps happen only in accepted lifecycle events (and
//!   `State::advance`), never in checks or in refused/erroneous events.
//! - **`cancel`** of an expired reservation is `unknown call`, like any
//!   other event on it; of a connected call `not reserved`.
//! - **Lease and retention** are config level, whole seconds in
//!   `1..=315576000`; hand-built configs are clamped into that range.
//! - **Simulations** touch calls every half lease, so a simulated call
//!   never loses its slot to its lease; `MAX_EXPECTED_CALLS` (10¹²) only
//!   guards against absurd inputs now that memory is bounded.
//! - **Convert and revenue triggers** count when the conversion happens, so
//!   calls connected before a cap was reached can push a count (or a revenue
//!   sum) past it; eligibility then refuses new connects. This is what the
//!   platforms do: a conversion is a fact, not a request.
//! - **Reservations** hold one unit of concurrency and of every count cap,
//!   whatever the trigger, until `at + ttl` (exclusive). `connect` on the
//!   reserved target confirms it (counted in the connect instant's windows,
//!   the held unit released); on another target it is an error. Ending or
//!   converting a call that is only reserved is an error.
//! - **Call ids are remembered** after they end, until forgotten
//!   `call_retention_seconds` after they settle, so a repeated `end`,
//!   `convert` or `connect` within that time is always an error, never a
//!   double count.
//! - **A simultaneous group's own reasons** (it is the candidate) print
//!   without the `group_` prefix; a *containing* group's reasons on a target
//!   print with it and carry the group id. A blocked group still lists its
//!   eligible members.
//! - **Reason order**: the target's own reasons, then each containing
//!   group's in config order; within one owner: paused, closed, count caps
//!   (hour, day, month, total), revenue caps, concurrency.
//! - **Money** is integer cents: at most two decimal places (more is an
//!   error unless they are zeros); negative revenue is an error.
//!
//! ## Route order
//!
//! - The generator is ChaCha8 (`chacha20`'s, word for word `rand_chacha`'s), seeded with
//!   `seed_from_u64`; the draw in `0..W` is our own unbiased rejection method
//!   over `next_u64`, so plans are identical on every platform.
//! - Ties within a tier are laid out in config order; weight-0 candidates
//!   follow every positive weight of their tier, drawn as if each weighed 1.
//! - When no `--seed` is given, the CLI draws one from the clock and prints
//!   it, so every plan can be reproduced.
//!
//! ## Input formats
//!
//! - Unknown fields are ignored (real exports carry many); `null` counts as
//!   absent. Floats where integers belong, integers beyond their type, and
//!   money with more than two decimals are errors naming the JSON path.
//! - Retreaver ids come from `id`, then `tid`, then `client_tid`;
//!   `*_cap_attributes` override `caps` entries of the same kind; a group
//!   member listed only in the group's embedded `targets` becomes a target.
//! - Ringba `hoursOfOperation` is seven entries, Sunday first; `-1` is
//!   unlimited; `targetGroupId` creates or extends a `separate` group with
//!   that id; the get-target `caps` object repeats `schedule` and is
//!   ignored, unless it says `isGroup: true`: then it is the caps of the
//!   target's group. A bare JSON array of Ringba targets is a Ringba export.
//! - Shape detection: `as_of`/`groups` or native fields → routecap;
//!   `stats`/`schedule`/`enabled`/`targetCallIncrement` → Ringba;
//!   `target`/`target_group` wrappers, arrays, Retreaver fields → Retreaver;
//!   `--format` overrides.
//!
//! ## Replay
//!
//! - Blank lines are skipped (no output line). Besides the listed event
//!   types, `{"type": "reserve", "call", "target", "ttl": seconds}` is
//!   accepted. A `convert` without `revenue` converts with 0.
//! - `{"type": "touch", "call"}` and `{"type": "cancel", "call"}` answer
//!   `{"ok": true}` or `{"error": "..."}` (the lifecycle's words, e.g.
//!   `call "c1": lease expired at …`, `unknown call "c1"`); any error line
//!   makes the exit status 1, as for the other events.
//!
//! ## Live changes
//!
//! - **By id**: a config change (whole or a patch) keeps the counters,
//!   live calls and reservations of every id still there; a new id starts
//!   from its imported usage (at the new config's `as_of`, else anchored at
//!   the next event); a removed id's counters and reservations are dropped
//!   and reported (`dropped`). A call connected to a removed target stays
//!   known: its `end` is accepted and releases nothing, its `convert` is an
//!   error (`was on a target removed from the config`).
//! - **Zones**: counters keep the windows they were counted in; a changed
//!   time zone reads them in its own windows, so a count whose window no
//!   longer lines up reads 0 there (totals and live calls are kept).
//! - **Groups**: a group's live count is its imported live calls plus the
//!   live calls of its current members, so a membership change moves live
//!   calls with the members; its window and total counts are history and
//!   stay as they are.
//! - **Patches** are merged into the owner's object in the config's own
//!   document and the whole document is parsed again, so every parsed field
//!   is patchable and errors name the path (`update: targets[0].caps.daily`).
//!   A patch may name only fields of that shape's target or group object
//!   (an unknown one is an error listing the allowed ones); imported usage
//!   (`usage`, `calls_in_progress`) is not patchable: use a usage import. A
//!   patch cannot change an id. Retreaver `business_hours` and
//!   `business_hours_attributes` replace each other, and a patched `caps`
//!   list drops the `*_cap_attributes` the patch does not name. A Ringba
//!   `schedule` patch replaces only the schedule fields it names. Ringba
//!   groups come from their targets' `targetGroupId` and are not patchable.
//! - **Pause a group**: groups have no pause of their own, so pausing or
//!   resuming a group pauses or resumes every member (a member paused by
//!   itself before is resumed too).
//! - **Names**: events and patches may name a Retreaver target by `tid` as
//!   well as by `id`; the engine keeps the parser's id (`id` first).
//! - **Usage imports** are the platform's truth for the windows containing
//!   the import instant: each kind an import names replaces routecap's count
//!   of that window (and the totals), even counts routecap made itself;
//!   kinds it does not name keep routecap's counts. A slot of an older
//!   window is replaced by the import's window; an import older than the
//!   latest window routecap knows leaves that window alone. Its `live`
//!   replaces the owner's imported live calls; routecap's own connected calls
//!   and live reservations stay on top. An import naming an unknown id is
//!   refused whole. Ringba `stats` keys match ids ignoring case.
//! - **Snapshots** restore against a changed config: owners and calls whose
//!   id the config still has are restored, the rest dropped and reported;
//!   calls of targets removed by a live change are left out of snapshots.
//! - **`routecap usage`** lists, per owner, every cap with a limit: `used`
//!   includes live reservations (as eligibility sees it); `concurrency`
//!   uses the matrix cell in force at the instant; periodic caps carry their
//!   window bounds. `--state` accepts only `memory` for now.
//!
//! ## Call attributes, filters and campaigns
//!
//! - Call-dependent reasons (`filter_mismatch`, then `group_filter_mismatch`
//!   per containing group in config order) come after every reason about the
//!   owners' state (pause, hours, caps of the target and of its groups). A
//!   simultaneous group's own filter is its `filter_mismatch` as a candidate;
//!   its members are judged by their own filters and their *other* groups'.
//! - Filters are compiled once per config, on first use (a clone of a config
//!   compiles afresh). Decisions over many candidates do not format the
//!   `detail` of filter reasons; the views (`check`, `route`, wasm, replay)
//!   write it from the call, and a connect refusal carries it directly.
//! - `connect` re-checks filters against the connect's own attributes (a
//!   replay `connect` event without `tags` is a call with no tags).
//! - Campaign candidates are target or group ids; a target id wins over a
//!   group id that is the same; a simultaneous group is one step, a separate
//!   group stands for its members; duplicates are dropped. The candidates
//!   keep the campaign's order.
//! - A campaign filter that refuses the call gives an empty plan and one
//!   `rejected` entry `{"id": campaign, "kind": "campaign", "reasons":
//!   [{"code": "filter_mismatch", "until": null, "detail": …}]}`; no
//!   fallback then (the campaign does not take the call at all). `check`
//!   with `--campaign` adds `"campaign": {"id", "eligible", "reasons",
//!   "fallback"}` and lists the campaign's candidates.
//! - The fallback is judged by pause, hours and caps of itself and of its
//!   containing groups (filters ignored) and is left out when already a step
//!   or a member rung by a simultaneous step. It is rung first only when
//!   the plan has nothing else: first-place chances and `routeMany` then
//!   count it (chance 1), and otherwise give it 0.
//! - Every routing path applies the campaign the same way: `check`,
//!   `route`, replay, `serve`, the wasm methods (`routeMany` and
//!   `firstPlaceChances` included) and the library's closure routing
//!   (`Engine::route_with_call`, `Router::route_seen`), which ends the lazy
//!   plan with the fallback and names it (`LazyPlan::fallback`).
//! - An unknown campaign id is an input error (`unknown campaign "x"`, exit 2).
//! - A step's `timeout_seconds`: the target's own, else 30; a simultaneous
//!   group's own, else the largest of the members it rings. Native and
//!   Retreaver timeouts are whole seconds 1..=86400; Ringba's
//!   `instructions.connectionTimeOut` of 0 or less means unset, above a day
//!   is a day.
//! - Retreaver campaign `dedupe_seconds` is not imported: it decides whether
//!   a repeat call converts (pays), not where it routes.
//!
//! ## Repeat and duplicate callers
//!
//! - Windows are half-open, `(t - window, t]` seen from a decision at `t`:
//!   a rule lifts exactly at event + window, its `until`.
//! - A campaign's own `repeat_callers` replaces the config's for its calls
//!   (so a campaign can say `normal` under a `different` config); without
//!   one the config's applies. `window` is required except for `normal`;
//!   `duplicates.basis` defaults to `connect`.
//! - `original` promotes the latest connect within the window; if that
//!   target is not eligible for this call the plan is the usual one (the
//!   next-latest target is not tried: the caller's "original" buyer is the
//!   last one). A target reached only through a simultaneous group
//!   promotes that group's step. The promoted step takes no random draw, so
//!   the rest of the plan is what the same seed draws without it.
//! - `duplicate_caller` and `repeat_caller` carry a `detail` naming the
//!   caller, the event and the window, and `until`. Both can hold at once
//!   (both are listed, duplicates first).
//! - The conversion side of `duplicates` (`basis: convert`) is keyed by the
//!   call: a `convert` records the caller its `connect` named. A caller
//!   given only on `convert` is not read (replay `convert` events carry no
//!   attributes).
//! - Nothing is recorded for a config without caller rules; turning a rule
//!   on later starts from an empty history (windows only see connects made
//!   while some rule was on). Reservations carry no caller.
//! - A campaign's fallback ignores caller rules when it is placed in the
//!   plan (SPEC §10), but `connect` to it re-checks them like any connect:
//!   a duplicate caller is refused there too (no rule is ever bypassed by
//!   a connect).
//!
//! ## Simulate
//!
//! - A step is answered (or not) the instant it rings; one that does not
//!   answer costs its whole timeout, then the next step rings and is
//!   re-checked at that instant. Time to answer is whole seconds from the
//!   arrival (the sum of the timeouts rung out before).
//! - The plan's first step is drawn at arrival as before; the rest of the
//!   plan is drawn right after a first step that does not answer, so runs
//!   with the same seed are identical, but reports differ from before this
//!   change wherever a first step did not answer.
//! - `--tags`: each arrival draws a set by weight and a caller (an earlier
//!   caller with the repeat share, else a new number) from a stream of its
//!   own, so runs without `--tags` draw exactly as before. The sets'
//!   `caller` and `campaign` are ignored; calls use the default candidates.
