// 预警监控 (early warning): the API's answers as the page uses them (docs/collections-api.md)
// and the pure helpers it shows them with — the chart's rows (one per business date of the
// period, a count per rule, days without hits at 0) and a rule's edit as the PUT takes it.
import type { Schemas } from "@shared/api/client";
import { COLL } from "./model";

export const WARN = `${COLL}/warnings`;
export const RULE_CODES = ["bureau_multi_lending", "bureau_external_overdue", "missed_withholding", "device_changed", "contact_overdue"] as const;
export const EFFECTS = ["raise_priority", "open_precase", "none"] as const;
export const OUTCOMES = ["raised", "precase", "no_case", "none"] as const;

export type HitRow = Schemas["WarningHitRow"];
export type Daily = Schemas["WarningDaily"];
export type Rules = Schemas["WarningRules"];
export type Rule = Schemas["WarningRule"];
export type RulesIn = Schemas["RulesIn"];

/** One row per date from `from` to `to` (YYYY-MM-DD, inclusive), each rule's hits under its
 * code (0 when none). */
export function chartRows(daily: Pick<Daily, "date_from" | "date_to" | "items">, codes: readonly string[] = RULE_CODES): Array<Record<string, string | number>> {
  const counts = new Map<string, number>();
  for (const item of daily.items) counts.set(`${item.business_date}|${item.rule_code}`, item.hits);
  const rows: Array<Record<string, string | number>> = [];
  const last = Date.parse(`${daily.date_to}T00:00:00Z`);
  for (let at = Date.parse(`${daily.date_from}T00:00:00Z`); at <= last; at += 86_400_000) {
    const day = new Date(at).toISOString().slice(0, 10);
    const row: Record<string, string | number> = { business_date: day };
    for (const code of codes) row[code] = counts.get(`${day}|${code}`) ?? 0;
    rows.push(row);
  }
  return rows;
}

/** The PUT body of the rules as edited (the read-only parts of the view left out). */
export function rulesBody(rules: Rules): RulesIn {
  return {
    bureau_refresh: { sample_bp: Math.round(rules.bureau_refresh.sample_bp), on_trigger: rules.bureau_refresh.on_trigger, max_per_day: Math.round(rules.bureau_refresh.max_per_day) },
    rules: rules.rules.map((r) => ({
      code: r.code,
      name_zh: r.name_zh.trim(),
      name_en: r.name_en.trim(),
      enabled: r.enabled,
      params: Object.fromEntries(Object.entries(r.params).map(([k, v]) => [k, Math.round(Number(v))])),
      effect: r.effect,
      by: Math.round(r.by),
    })),
  };
}

/** Whether a rule differs from its default (names, parameters, effect). */
export function changed(rule: Rule): boolean {
  const d = rule.default;
  return rule.name_zh !== d.name_zh || rule.name_en !== d.name_en || rule.effect !== d.effect || rule.by !== d.by || Object.entries(d.params).some(([k, v]) => rule.params[k] !== v);
}

/** Loans refreshed a day per million open loans at `sampleBp` basis points. */
export function perMillion(sampleBp: number): number {
  return Math.round((1_000_000 * sampleBp) / 10_000);
}
