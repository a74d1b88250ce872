// Money, rates and dates as the app shows them (shared/format): ¥ and yuan with two
// decimals and separators, rates as a percentage with two decimals.
import { formatDate, formatMoney, formatRate } from "@shared/format";

export { formatDate, formatRate };

/** "2432.18" → "¥2,432.18". */
export function yuan(value: string | number | null | undefined): string {
  const text = formatMoney(value);
  return text === "—" ? text : `¥${text}`;
}

/** Whether a yuan string is more than zero ("0.00" is not). */
export function positive(value: string | null | undefined): boolean {
  return Boolean(value) && /[1-9]/.test(String(value));
}

/** The sum of yuan strings, exactly (through integer fen): ("12.30", "0.75") → "13.05". */
export function addYuan(...values: Array<string | null | undefined>): string {
  let fen = 0n;
  for (const value of values) {
    const match = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec((value ?? "0").trim());
    if (!match) continue;
    const amount = BigInt(match[2]) * 100n + BigInt((match[3] ?? "").padEnd(2, "0") || "0");
    fen += match[1] ? -amount : amount;
  }
  const negative = fen < 0n;
  const digits = (negative ? -fen : fen).toString().padStart(3, "0");
  return `${negative ? "-" : ""}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}
