// A loan's or an application's term with its unit: "14 天" of a 14-day loan, "3 个月" of a
// three-month installment loan (the rows carry `term_unit`: day, week or month). Without a
// unit (a product the server no longer knows) the bare number.
import { formatCount } from "@shared/format";
import { i18n } from "@/i18n";

const UNITS = new Set(["day", "week", "month"]);

export function formatTerm(term: unknown, unit: unknown): string {
  const n = formatCount(term as number | null | undefined);
  if (typeof unit !== "string" || !UNITS.has(unit)) return n;
  return i18n.global.t(`common.termIn.${unit}`, { n });
}

export function termOf(row: Record<string, unknown>): string {
  return formatTerm(row.term, row.term_unit);
}
