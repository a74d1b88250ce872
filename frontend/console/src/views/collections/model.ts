// 催收 (collections): the API's paths, vocabularies and the shapes of its answers
// (docs/collections-api.md), and the pure rules the pages follow before asking the server
// (which checks everything again): what a call's body carries, a promise's date window, the
// quadrant of willingness × ability, and a guardrail refusal told apart from other errors.
import type { Schemas } from "@shared/api/client";
import { ADMIN, ApiError } from "@/lib/api";

export const COLL = `${ADMIN}/collections`;

export const CONNECTIONS = ["connected", "no_answer", "rejected", "powered_off", "suspended", "vacant", "busy"] as const;
export const PARTIES = ["self", "related", "unrelated"] as const;
export const RESULTS = ["promise", "paid", "plan", "refused", "dispute", "complaint", "relay", "lead"] as const;
export const ACTION_KINDS = ["call", "sms", "promise", "letter", "visit", "legal", "quadrant", "offer", "hold", "note"] as const;
export const QUADRANTS = ["I", "II", "III", "IV"] as const;
export const OFFER_KINDS = ["extension", "deferral", "restructure", "waiver"] as const;
export const LEVELS = ["collector", "team", "agency", "queue"] as const;
export const OWNERS = ["inhouse", "agency", "legal"] as const;
export const ALLOCATIONS = ["round_robin", "capacity", "performance"] as const;
export const CLOSE_REASONS = ["cured", "settled", "written_off", "sold"] as const;
export const ASSIGNMENT_REASONS = ["opened", "waiting", "bucket_move", "no_promise", "broken_promise", "manual", "recall", "placed", "legal"] as const;
/** The strategies' action codes (collections/config.py ACTIONS). */
export const ACT_CODES = ["remind", "grace", "offer_extension", "offer_deferral", "offer_restructure", "educate", "raise_cost", "demand_letter", "intensive_calls", "visit", "lawyer_letter", "legal", "agency"] as const;
export const CASE_BUCKETS = ["M1", "M2", "M3", "M4", "M5", "M6", "M6+"] as const;

export type Connection = (typeof CONNECTIONS)[number];
export type Party = (typeof PARTIES)[number];
export type CallResult = (typeof RESULTS)[number];
export type Quadrant = (typeof QUADRANTS)[number];
export type OfferKind = (typeof OFFER_KINDS)[number];
export type Level = (typeof LEVELS)[number];


/** The guardrails' refusal codes (each a 4xx; nothing was logged or sent). */
export const GUARDRAIL_CODES = [
  "COLLECTION_QUIET_HOURS",
  "COLLECTION_ATTEMPTS_EXCEEDED",
  "COLLECTION_CONNECTED_CAP",
  "COLLECTION_THIRD_PARTY",
  "COLLECTION_TEMPLATE_ONLY",
  "COLLECTION_VISIT_COMPANIONS",
  "COLLECTION_CASE_CLOSED",
  "COLLECTION_PROMISE_INVALID",
] as const;

export interface PromiseRow {
  id?: number;
  case_id?: number;
  amount: string;
  promised_on: string;
  made_on?: string;
  status: string;
  paid?: string | null;
  judged_on?: string | null;
  actor?: string | null;
}

export interface CaseRow {
  id: number;
  loan_id: number;
  borrower_id: number;
  borrower_name: string | null;
  status: string;
  close_reason: string | null;
  opened_on: string;
  closed_on: string | null;
  dpd: number;
  bucket: string;
  overdue: string;
  outstanding: string;
  priority: number;
  queue: string | null;
  assignee_id: number | null;
  assignee: string | null;
  agency_id: number | null;
  agency: string | null;
  held_until: string | null;
  quadrant: Quadrant | null;
  test_cell: string | null;
  legal: boolean;
  promise: PromiseRow | null;
  last_contact_at: string | null;
  product_code: string;
}

export interface Contact {
  ref: string;
  masked: string;
  party: Party;
  relation: string | null;
  relation_zh: string | null;
  score: number;
  reason: string;
  attempts_today: number;
  reachable: boolean;
  last_result: string | null;
  refused: boolean;
}

export interface Action {
  id: number;
  case_id: number;
  kind: string;
  at: string;
  actor: string | null;
  agency: string | null;
  contact_ref: string | null;
  masked: string | null;
  connection: string | null;
  party: string | null;
  result: string | null;
  note: string | null;
  template_code: string | null;
  sms_status: string | null;
  document_id: number | null;
  companions: string[];
  details: Record<string, unknown>;
  /** The promise to pay the action made (a call with the result 承诺还款, a promise). */
  promise?: { amount: string; promised_on: string; status: string } | null;
}

/** A field visit's possible companion (GET /colleagues): the same team or agency. */
export interface Colleague {
  id: number;
  name: string;
}

/** An SMS template a collector may send (GET /sms-templates). */
export interface CollectionTemplate {
  code: string;
  version: number;
  purpose: string;
  text: string;
  variables: string[];
}

export interface StrategyAction {
  code: string;
  zh: string;
  en: string;
}

export interface CaseDetail {
  case: CaseRow;
  loan: {
    id: number;
    status: string;
    product_code: string;
    principal: string;
    term: number;
    disbursed_on: string;
    maturity_date: string;
    dpd: number;
    max_dpd: number;
    bucket: string;
    annual_rate: string;
  };
  due_now: { principal: string; interest: string; fee: string; penalty: string; total: string };
  payoff: string;
  schedule: Array<Record<string, unknown> & { number: number }>;
  contacts: Contact[];
  history: Action[];
  payments: Array<Record<string, unknown>>;
  promises: PromiseRow[];
  assignments: Array<Record<string, unknown>>;
  placements: Array<Record<string, unknown>>;
  offers: Array<Record<string, unknown>>;
  strategy: { quadrant: Quadrant | null; stage: string | null; actions: StrategyAction[]; test_cell: string | null };
  guardrails: { local_time: string; quiet_now: boolean; connected_today: number; max_connected: number };
}

export interface QueueMember {
  staff_id: number | null;
  agency_id: number | null;
  name?: string;
  weight: number;
  capacity: number | null;
  open_cases?: number;
}

export interface Queue {
  code: string;
  name_zh: string;
  name_en: string;
  dpd_min: number;
  dpd_max: number | null;
  product_code: string | null;
  channel: string | null;
  owner: (typeof OWNERS)[number];
  allocation: (typeof ALLOCATIONS)[number];
  capacity: number | null;
  no_promise_days: number | null;
  priority: number;
  active: boolean;
  /** The pre-due segment: it takes the cases early warning opens before a loan is overdue. */
  pre_due?: boolean;
  open_cases?: number;
  unassigned?: number;
  members: QueueMember[];
}

export interface Agency {
  id: number;
  code: string;
  name: string;
  commission_rate: string;
  window_days: number;
  active: boolean;
  users: Array<{ id: number; username: string }>;
  active_placements: number;
  recovered: string;
  commission: string;
}

export interface Strategies {
  quadrants: Record<string, string[]>;
  stages: Array<{ bucket: string; actions: string[] }>;
  challenger: { share_percent: number; quadrants: Record<string, string[]> };
  /** Every action code with its zh-CN and English names (the server's catalogue). */
  catalog?: StrategyAction[];
  [more: string]: unknown;
}

export const CELLS = ["champion", "challenger"] as const;
export type Cell = (typeof CELLS)[number];

/** One strategy × cell of GET /strategies/outcomes (rates are percent strings). */
export interface OutcomeRow {
  strategy?: string;
  strategy_zh?: string;
  strategy_en?: string;
  cell: Cell;
  cases: number;
  cured: number;
  cure_rate: string;
  rolled: number;
  roll_rate: string;
  balance_at_entry: string;
  recovered: string;
  recovery_rate: string;
}

export interface Outcomes {
  date_from: string;
  date_to: string;
  share_percent: number;
  items: OutcomeRow[];
  cells: OutcomeRow[];
}

/** The champion / challenger chart's rows: one per rate (x), each cell's value in percent
 * under its own key, so that the two cells stand side by side for every rate. */
export function outcomeChartRows(cells: OutcomeRow[], names: Record<"cure_rate" | "roll_rate" | "recovery_rate", string>): Array<Record<string, string | number>> {
  const rates = ["cure_rate", "roll_rate", "recovery_rate"] as const;
  return rates.map((rate) => {
    const row: Record<string, string | number> = { rate: names[rate] };
    for (const cell of CELLS) row[cell] = percentValue(cells.find((c) => c.cell === cell)?.[rate]);
    return row;
  });
}

export interface Guardrails {
  quiet_start: string;
  quiet_end: string;
  max_attempts_per_number: number;
  max_connected_per_debtor: number;
  visit_min_collectors: number;
  hold_max_days: number;
  default_utc_offset_hours: number;
  next_case_cooldown_minutes: number;
  [more: string]: unknown;
}

export interface LoadRow {
  staff_id: number;
  username: string;
  team: string | null;
  open_cases: number;
  capacity: number | null;
  held: number;
  calls_today: number;
  connected_today: number;
  promises_pending: number;
}

export interface KpiRow {
  key: string;
  name: string;
  calls: number;
  connected: number;
  contact_rate: string;
  right_party: number;
  rpc_rate: string;
  promises: number;
  promise_rate: string;
  kept: number;
  kept_rate: string;
  recovered: string;
  cases: number;
  recovery_rate: string;
}

export interface Kpis {
  level: Level;
  date_from: string;
  date_to: string;
  items: KpiRow[];
  by_bucket: Array<{ bucket: string; recovered: string; overdue_at_entry: string; recovery_rate: string }>;
  roll_forward: Array<{ queue: string; cases: number; rolled: number; rate: string }>;
}

// --- the rules the forms follow ----------------------------------------------------------

export interface CallForm {
  contact: string;
  connection: Connection | "";
  party: Party | "";
  result: CallResult | "";
  note: string;
  recording_ref: string;
  debtor_consented: boolean;
  promise_amount: string;
  promise_on: string;
}

export function emptyCall(contact = "borrower"): CallForm {
  return { contact, connection: "", party: "", result: "", note: "", recording_ref: "", debtor_consented: false, promise_amount: "", promise_on: "" };
}

const AMOUNT = /^\d+(\.\d{1,2})?$/;

/** Whether an amount typed in yuan is a positive amount of at most two decimals. */
export function isAmount(value: string): boolean {
  return AMOUNT.test(value.trim()) && Number(value) > 0;
}

/** The body of POST /cases/{id}/calls from the form: party and result only with a
 * connected call, the promise only with the result 承诺还款; null while incomplete. */
export function callBody(form: CallForm): Schemas["CallBody"] | null {
  if (!form.contact || !form.connection) return null;
  const body: Schemas["CallBody"] = { contact: form.contact, connection: form.connection, note: form.note.trim(), debtor_consented: form.debtor_consented };
  if (form.recording_ref.trim()) body.recording_ref = form.recording_ref.trim();
  if (form.connection !== "connected") return body;
  if (!form.party || !form.result) return null;
  body.party = form.party;
  body.result = form.result;
  if (form.result === "promise") {
    if (!isAmount(form.promise_amount) || !form.promise_on) return null;
    body.promise = { amount: form.promise_amount.trim(), promised_on: form.promise_on, note: "" };
  }
  return body;
}

/** ISO date `days` after `iso` (a calendar date, no time zone involved). */
export function addDays(iso: string, days: number): string {
  const [y, m, d] = iso.split("-").map(Number);
  const date = new Date(Date.UTC(y, m - 1, d + days));
  return date.toISOString().slice(0, 10);
}

/** A promise's date window: the business date … 30 days after it. */
export function promiseWindow(businessDate: string): { first: string; last: string } {
  return { first: businessDate, last: addDays(businessDate, 30) };
}

/** Whether a promise of `amount` on `on` may be recorded (the server's rule, asked first). */
export function promiseProblem(amount: string, on: string, businessDate: string, outstanding: string): "amount" | "date" | null {
  if (!isAmount(amount) || Number(amount) > Number(outstanding)) return "amount";
  const { first, last } = promiseWindow(businessDate);
  if (!on || on < first || on > last) return "date";
  return null;
}

/** 意愿 × 能力 → the quadrant: I willing & able, II willing, unable, III able, unwilling, IV neither. */
export function quadrantOf(willing: boolean, able: boolean): Quadrant {
  if (willing) return able ? "I" : "II";
  return able ? "III" : "IV";
}

/** An error the guardrails gave (a refusal to show prominently, with its code). */
export function isGuardrail(error: unknown): error is ApiError {
  return error instanceof ApiError && (GUARDRAIL_CODES as readonly string[]).includes(error.code);
}

/** The maker-checker request of an offer, from what the collector typed. */
export interface OfferForm {
  reason: string;
  installment: number;
  component: "penalty" | "fee" | "interest" | "principal";
  amount: string;
  new_due_date: string;
  channel: string;
  term: number;
  unit: string;
  method: string;
  annual_rate: string;
}

export function offerBody(kind: OfferKind, form: OfferForm): Schemas["WaiverIn"] | Schemas["DeferralIn"] | Schemas["ExtensionIn"] | Schemas["RestructureIn"] {
  const reason = form.reason.trim();
  switch (kind) {
    case "waiver":
      return { lines: [{ installment: form.installment, component: form.component, amount: form.amount.trim() }], reason } satisfies Schemas["WaiverIn"];
    case "deferral":
      return { installment: form.installment, new_due_date: form.new_due_date, reason } satisfies Schemas["DeferralIn"];
    case "extension":
      return { amount: form.amount.trim() || null, channel: form.channel || "offline", reason } satisfies Schemas["ExtensionIn"];
    case "restructure":
      return { term: form.term, unit: form.unit, method: form.method, annual_rate: form.annual_rate.trim(), reason } satisfies Schemas["RestructureIn"];
  }
}

/** The queue's DPD range as shown: "1–30", "181+". */
export function dpdRange(min: number, max: number | null): string {
  return max === null || max === undefined ? `${min}+` : `${min}–${max}`;
}

/** Open cases as a share of capacity, in percent with one decimal (null without a capacity). */
export function utilisation(row: { open_cases: number; capacity: number | null }): number | null {
  return row.capacity ? Math.round((row.open_cases / row.capacity) * 1000) / 10 : null;
}

/** A percent string of the KPIs ("12.50%", "12.5") as a number for a chart (0 when absent). */
export function percentValue(value: string | number | null | undefined): number {
  if (value === null || value === undefined || value === "") return 0;
  const number = Number(String(value).replace(/%$/, ""));
  return Number.isFinite(number) ? number : 0;
}

/** The debtor's clock as the server wrote it ("2026-03-03T22:15:00+08:00" → "2026-03-03
 * 22:15 UTC+08:00"), not moved into the browser's time zone. */
export function debtorClock(iso: string | null | undefined): string {
  if (!iso) return "—";
  const match = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(iso);
  if (!match) return iso;
  const zone = match[3] === "Z" ? "UTC" : match[3] ? `UTC${match[3]}` : "";
  return `${match[1]} ${match[2]}${zone ? ` ${zone}` : ""}`;
}
