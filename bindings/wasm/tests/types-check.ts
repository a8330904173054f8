// Compile-time check of the generated TypeScript declarations
// (pkg/routecap_wasm.d.ts, and pkg/routecap_wasm_full.d.ts for the stateful
// methods; the views' interfaces are derived from the core's Rust types by
// tsify): `tsc --noEmit --strict` on this file fails when a signature or a
// result type drifts from what the demo and users rely on.
import init, {
  Engine, formatReason, validate, zones, type ValidationReport, type Warning,
  type CheckView, type RouteView, type ReasonView, type OutcomeView, type StepView,
  type Heatmap, type TargetSummary, type GroupSummary, type UsageView, type ZoneRow,
  type Snapshot, type FirstCountsView, type ChancesView, type CallAttrs, type ConfigError,
} from '../pkg/routecap_wasm.js';
import initFull, { Engine as FullEngine } from '../pkg/routecap_wasm_full.js';

export async function typed(config: object, text: string): Promise<void> {
  await init();
  await initFull();
  const a = new FullEngine(config);
  // @ts-expect-error the main module's Engine evaluates only: no lifecycle
  new Engine(config).connect('c1', 't1', '2026-11-22T15:00:00Z');
  const b = new Engine(text, 'retreaver');
  const at = '2026-11-22T15:00:00Z';
  const check: CheckView = a.check(at);
  // @ts-expect-error seeds are numbers, BigInts or decimal strings, not objects
  a.route(at, {});
  const first = check.candidates[0];
  const eligible: boolean = first.eligible;
  const local: string = first.local_time;
  const members: string[] | undefined = first.eligible_members;
  const reason: ReasonView | undefined = first.reasons[0];
  const kindOf: 'target' | 'group' = first.kind;
  const until: string | null | undefined = reason?.until;
  const line: string | undefined = reason && formatReason(reason);
  void line;
  // @ts-expect-error formatReason takes a reason object
  formatReason('daily_cap');
  const text2: string = a.checkJson(at);
  const route: RouteView = b.route(at, 7n);
  const steps: StepView[] = route.plan;
  for (const step of steps) {
    const who: string = 'target' in step ? step.target : `${step.group}:${step.targets.join('+')}`;
    const last: true | undefined = 'target' in step ? step.fallback : undefined;
    void [who, last];
  }
  const rejectedKind: 'campaign' | undefined = route.rejected[0]?.kind;
  const call: CallAttrs = { caller: '+19195550100', tags: { geo: 'us-nc', age: [70] }, campaign: 'medicare' };
  const filtered: RouteView = a.route(at, 1, call);
  const timeout: number = filtered.plan[0]?.timeout_seconds ?? 30;
  const detail: string | undefined = a.check(at, call).candidates[0]?.reasons[0]?.detail;
  void timeout;
  void detail;
  // @ts-expect-error tags are strings, numbers or lists of them
  a.check(at, { tags: { geo: {} } });
  const many: FirstCountsView = a.routeMany(at, '1', 1000);
  const counts: number[] = Object.values(many.first);
  const c: OutcomeView = a.connect('c1', 't1', at);
  if (!c.ok) {
    const codes: string[] = (c.reasons ?? []).map((r) => r.code);
    void codes;
  }
  a.convert('c1', '12.50', at);
  a.convert('c1', 12.5, at);
  a.reserve('c2', 't1', 30, at);
  const cancelled: { ok: true } = a.cancel('c2', at);
  const touched: { ok: true } = a.touch('c1', at);
  void cancelled;
  void touched;
  a.end('c1', at);
  a.resetTarget('t1');
  a.resetGroup('g1');
  const snap: Snapshot = a.snapshot();
  a.restore(snap);
  a.restore(JSON.stringify(snap));
  const targets: TargetSummary[] = a.targets();
  const daily: number | null = targets[0].limits.daily;
  const trigger: 'connect' | 'convert' | 'revenue' = targets[0].trigger;
  const groups: GroupSummary[] = a.groups();
  const mode: 'separate' | 'simultaneous' | undefined = groups[0]?.mode;
  const usage: UsageView = a.usage(at);
  const firstCap: string | number | undefined = usage.owners[0]?.caps[0]?.used;
  const capName: string | undefined = usage.owners[0]?.caps[0]?.cap;
  const grid: Heatmap = a.hoursGrid('t1', '2026-11-22', 'Europe/Paris');
  const share: number | null = grid.viewer.days[0].hours[0];
  const z: ZoneRow[] = zones(['Arizona']);
  const kind: 'rails' | 'windows' | 'iana' = z[0].kind;
  const report: ValidationReport = validate(config, 'routecap');
  const shape: 'native' | 'retreaver' | 'ringba' | null = report.shape;
  const warning: Warning | undefined = report.warnings[0];
  const where: string | undefined = warning?.path ?? report.errors[0]?.message;
  const chances: ChancesView = a.firstPlaceChances(at);
  const chance: number | undefined = chances['t1'];
  const lease: string | null | undefined = snap.calls[0]?.lease_until;
  try {
    new Engine('{}');
  } catch (e) {
    const err = e as ConfigError;
    const path: string = err.path;
    void path;
  }
  void [eligible, local, members, until, kindOf, rejectedKind, text2, counts, daily, trigger, mode, usage, firstCap, capName, share, kind, chance, lease];
}
