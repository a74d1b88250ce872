// Decimal strings shifted by powers of ten without floating point: the product form shows a
// rate ("0.0005" as a fraction, as the API keeps it) as a percent ("0.05") and back.

const DECIMAL = /^\s*(-?)(\d*)(?:\.(\d*))?\s*$/;

/** `value` × 10^places as a decimal string (no exponent, no superfluous zeros); null when
 *  `value` is not a plain decimal number. */
export function shiftDecimal(value: string, places: number): string | null {
  const m = DECIMAL.exec(value);
  if (!m || (!m[2] && !m[3])) return null;
  const sign = m[1];
  let digits = (m[2] ?? "") + (m[3] ?? "");
  let point = (m[2] ?? "").length + places;
  if (point < 0) {
    digits = "0".repeat(-point) + digits;
    point = 0;
  }
  if (point > digits.length) digits += "0".repeat(point - digits.length);
  const whole = digits.slice(0, point).replace(/^0+(?=\d)/, "") || "0";
  const fraction = digits.slice(point).replace(/0+$/, "");
  const text = fraction ? `${whole}.${fraction}` : whole;
  return sign && /[1-9]/.test(text) ? `-${text}` : text;
}

/** A fraction ("0.18") as a percent ("18"); "" for none. */
export function toPercent(fraction: unknown): string {
  if (fraction === null || fraction === undefined || fraction === "") return "";
  return shiftDecimal(String(fraction), 2) ?? String(fraction);
}

/** A percent ("18") as a fraction ("0.18"); null for an empty entry, the entry itself when it
 *  is not a number (the server names the field at fault). */
export function fromPercent(percent: string): string | null {
  if (percent.trim() === "") return null;
  return shiftDecimal(percent, -2) ?? percent;
}
