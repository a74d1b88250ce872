// How the console and the app show money, rates and dates (UI.md): yuan with thousands
// separators and two decimals, rates in % with two decimals, dates YYYY-MM-DD. The API
// answers money as yuan strings ("2432.18") and integer fen inside; nothing here goes
// through binary floating point for money.

export const EMPTY = "—";

type Maybe<T> = T | null | undefined;

function group(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** "2432.18" → "2,432.18"; "-1200" → "-1,200.00"; fen as a number with `{ fen: true }`. */
export function formatMoney(value: Maybe<string | number>, options: { fen?: boolean } = {}): string {
  if (value === null || value === undefined || value === "") return EMPTY;
  let text: string;
  if (options.fen) {
    if (typeof value !== "number" || !Number.isInteger(value)) return String(value);
    text = fenToYuan(value);
  } else {
    text = typeof value === "number" ? value.toFixed(2) : value.trim();
  }
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) return String(value);
  const [, sign, whole, fraction = ""] = match;
  const cents = (fraction + "00").slice(0, 2);
  const rest = fraction.slice(2);
  if (rest && /[1-9]/.test(rest)) {
    // more than two decimals: round half away from zero on the digits, not a float
    const rounded = BigInt(whole + cents) + (Number(rest[0]) >= 5 ? 1n : 0n);
    const digits = rounded.toString().padStart(3, "0");
    return `${sign}${group(digits.slice(0, -2))}.${digits.slice(-2)}`;
  }
  const signed = sign && /[1-9]/.test(whole + cents) ? "-" : "";
  return `${signed}${group(String(BigInt(whole)))}.${cents}`;
}

/** Integer fen → a yuan string with two decimals: 243218 → "2432.18". */
export function fenToYuan(fen: number): string {
  const negative = fen < 0;
  const digits = Math.abs(fen).toString().padStart(3, "0");
  return `${negative ? "-" : ""}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}

/** A rate as a decimal fraction ("0.18", 0.2163) → "18.00%". */
export function formatRate(value: Maybe<string | number>, digits = 2): string {
  if (value === null || value === undefined || value === "") return EMPTY;
  const number = typeof value === "number" ? value : Number(value);
  if (!Number.isFinite(number)) return String(value);
  return `${(number * 100).toFixed(digits)}%`;
}

/** A rate already in percent ("21.71", 3.5) → "21.71%". */
export function formatPercent(value: Maybe<string | number>, digits = 2): string {
  if (value === null || value === undefined || value === "") return EMPTY;
  const text = typeof value === "string" ? value.replace(/%$/, "") : value;
  const number = Number(text);
  if (!Number.isFinite(number)) return String(value);
  return `${number.toFixed(digits)}%`;
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** A date or timestamp → "YYYY-MM-DD" (an ISO date string is taken as it is, no time zone). */
export function formatDate(value: Maybe<string | Date>): string {
  if (!value) return EMPTY;
  if (typeof value === "string") {
    const match = /^(\d{4}-\d{2}-\d{2})/.exec(value);
    if (match && value.length === 10) return match[1];
    const parsed = new Date(value);
    if (Number.isNaN(parsed.getTime())) return match ? match[1] : value;
    value = parsed;
  }
  return `${value.getFullYear()}-${pad(value.getMonth() + 1)}-${pad(value.getDate())}`;
}

/** A timestamp → "YYYY-MM-DD HH:mm" in local time (a naive ISO string as written). */
export function formatDateTime(value: Maybe<string | Date>): string {
  if (!value) return EMPTY;
  if (typeof value === "string") {
    const naive = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2}(\.\d+)?)?$/.exec(value);
    if (naive) return `${naive[1]} ${naive[2]}`;
    const parsed = new Date(value);
    if (Number.isNaN(parsed.getTime())) return value;
    value = parsed;
  }
  return `${formatDate(value)} ${pad(value.getHours())}:${pad(value.getMinutes())}`;
}

/** A count with thousands separators: 12345 → "12,345". */
export function formatCount(value: Maybe<number | string>): string {
  if (value === null || value === undefined || value === "") return EMPTY;
  const number = typeof value === "number" ? value : Number(value);
  if (!Number.isFinite(number)) return String(value);
  return number.toLocaleString("en-US", { maximumFractionDigits: 2 });
}
