/** A count, or money as a decimal string with two decimals ("120.50"). */
export type Amount = number | string;

/** Why a candidate is not eligible, as `routecap check --json`. */
export interface Reason {
  /** `closed`, `daily_cap`, `group_daily_cap`, `no_eligible_member`, … */
  code: string;
  /** Id of the containing group the reason belongs to. */
  group?: string;
  used?: Amount;
  limit?: Amount;
  /** When the reason lifts (UTC `…Z`), or null when unknowable / never. */
  until: string | null;
  /** `filter_mismatch`: the condition that failed and what the call had;
   * `duplicate_caller` / `repeat_caller`: the caller and the event. */
  detail?: string;
}

/** Who is calling: every field optional (`{}` = a call with no tags). */
export interface CallAttrs {
  /** E.164 number; `anonymous`, `restricted` or empty = unknown caller. */
  caller?: string | null;
  /** Tag values; a `geo` string splits on commas. */
  tags?: Record<string, string | number | (string | number)[]>;
  /** Route through this campaign (its candidates and fallback). */
  campaign?: string | null;
}

export interface Candidate {
  id: string;
  kind: "target" | "group";
  eligible: boolean;
  /** Local wall time with offset, e.g. `2026-11-22T10:00:00-05:00`. */
  local_time: string;
  /** Simultaneous groups only. */
  eligible_members?: string[];
  reasons: Reason[];
}

export interface CheckResult {
  at: string;
  /** When the call named a campaign: whether its filter takes the call. */
  campaign?: { id: string; eligible: boolean; reasons: Reason[]; fallback: string | null };
  candidates: Candidate[];
}

export type Step =
  | { target: string; timeout_seconds: number; fallback?: true }
  | { group: string; targets: string[]; timeout_seconds: number };

export interface RouteResult {
  at: string;
  seed: number;
  plan: Step[];
  /** `kind: "campaign"` when the call's campaign refused it. */
  rejected: { id: string; kind?: "campaign"; reasons: Reason[] }[];
}

export interface RouteManyResult {
  n: number;
  /** First-place counts per eligible candidate id, in candidate order. */
  first: Record<string, number>;
  /** Calls with no eligible candidate at all. */
  none: number;
}

export type ConnectResult = { ok: true } | { ok: false; reasons: Reason[] };

export interface Limits {
  hourly: number | null;
  daily: number | null;
  monthly: number | null;
  total: number | null;
  concurrency: number | null;
  hourly_revenue: string | null;
  daily_revenue: string | null;
  monthly_revenue: string | null;
  total_revenue: string | null;
}

export interface TargetSummary {
  id: string;
  name: string | null;
  /** The zone name as written in the config. */
  zone: string;
  iana: string;
  priority: number;
  weight: number;
  paused: boolean;
  trigger: "connect" | "convert" | "revenue";
  has_hours: boolean;
  limits: Limits;
  /** Ids of the groups that contain it. */
  groups: string[];
}

export interface GroupSummary {
  id: string;
  name: string | null;
  mode: "separate" | "simultaneous";
  members: string[];
  zone: string;
  iana: string;
  priority: number;
  weight: number;
  has_hours: boolean;
  limits: Limits;
}

/** An amount in a usage view: calls as a number, money as a decimal string. */
export type UsageAmount = number | string;

export interface CapUsage {
  cap: "hourly" | "daily" | "monthly" | "total" | "hourly_revenue" | "daily_revenue" | "monthly_revenue" | "total_revenue" | "concurrency";
  used: UsageAmount;
  limit: UsageAmount;
  window_start?: string;
  window_end?: string;
}

export interface OwnerUsage {
  id: string;
  kind: "target" | "group";
  live: number;
  reserved: number;
  caps: CapUsage[];
}

/** `routecap usage --json`. */
export interface UsageView {
  at: string;
  owners: OwnerUsage[];
}

/** What a config change dropped. */
export interface Dropped {
  targets: string[];
  groups: string[];
  calls: string[];
}

export interface HoursView {
  /** IANA zone of the view. */
  zone: string;
  /** 7 local days; `hours[h]` is the open share of local hour h (0..1), null if the hour does not occur. */
  days: { date: string; weekday: number; hours: (number | null)[] }[];
}

export interface HoursGrid {
  id: string;
  kind: "target" | "group";
  always_open: boolean;
  /** In the owner's own zone. */
  own: HoursView;
  /** In the viewer's zone. */
  viewer: HoursView;
}

export interface ZoneRow {
  input: string;
  iana: string;
  kind: "rails" | "windows" | "iana";
}

/**
 * `State::snapshot`: counters per owner and every call not forgotten,
 * JSON-friendly. Version 2 (leases: owners' `imported_live` and
 * `imported_live_until`, calls' `lease_until` and `lapsed`); version 1
 * snapshots are still accepted by `restore`.
 */
export interface Snapshot {
  version: number;
  targets: object[];
  groups: object[];
  calls: object[];
  /** Caller history (version 3): `{caller, target, connected_at, converted_at}`. */
  callers?: object[];
}

/** Step shape of the route golden files (test builds only). */
export type GoldenStep = { target: string } | { group: string; members: string[] };

/** Config errors carry where the problem is, as the CLI message does. */
export interface ConfigError extends Error {
  file: string;
  /** JSON path such as `targets[0].hours[1].open`, `$`, or `line L column C`. */
  path: string;
  value: string;
  expected: string;
}
