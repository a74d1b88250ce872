// What the borrower types, checked as it is typed (the server checks again and has the
// last word): mainland mobile numbers, resident ID numbers (GB 11643-1999: the check
// character, a real birth date, the age on the business date) and bank cards (Luhn).

/** Full-width digits (０-９) as ASCII, and spaces, dashes and a +86 prefix dropped. */
export function digitsOf(text: string): string {
  const folded = text.replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
  return folded.replace(/[\s-]/g, "");
}

/** A mainland mobile: 11 digits starting 13–19 (+86 and separators allowed). */
export function phoneOk(text: string): boolean {
  let digits = digitsOf(text);
  if (digits.startsWith("+86")) digits = digits.slice(3);
  else if (digits.length === 13 && digits.startsWith("86")) digits = digits.slice(2);
  return /^1[3-9]\d{9}$/.test(digits);
}

/** The 11 digits of a mobile as the server wants them. */
export function normalPhone(text: string): string {
  let digits = digitsOf(text);
  if (digits.startsWith("+86")) digits = digits.slice(3);
  else if (digits.length === 13 && digits.startsWith("86")) digits = digits.slice(2);
  return digits;
}

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = "10X98765432";

/** The check character of the first 17 digits of a resident ID (ISO 7064 MOD 11-2). */
export function idCheckChar(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * WEIGHTS[i];
  return CHECK[sum % 11];
}

export type IdProblem = "format" | "checksum" | "birth" | "age";

export interface IdCheck {
  ok: boolean;
  problem: IdProblem | null;
  birthDate: string | null;
  age: number | null;
}

/** Full years of age (周岁) on `day` for someone born on `birth` (both YYYY-MM-DD). */
export function ageOn(birth: string, day: string): number {
  const [by, bm, bd] = birth.split("-").map(Number);
  const [y, m, d] = day.split("-").map(Number);
  let age = y - by;
  if (m < bm || (m === bm && d < bd)) age -= 1;
  return age;
}

function realDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const days = [31, (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return d <= days[m - 1];
}

/**
 * An 18-character resident ID checked as GB 11643 says: 17 digits and a check character
 * (0-9 or X), a birth date that exists and is not after `today`, and — when `today` and
 * an age range are given — an age within it (inclusive).
 */
export function checkId(text: string, today?: string, ages: [number, number] = [18, 70]): IdCheck {
  const id = digitsOf(text).toUpperCase();
  const fail = (problem: IdProblem, birthDate: string | null = null, age: number | null = null): IdCheck => ({ ok: false, problem, birthDate, age });
  if (!/^\d{17}[\dX]$/.test(id)) return fail("format");
  if (idCheckChar(id.slice(0, 17)) !== id[17]) return fail("checksum");
  const y = Number(id.slice(6, 10));
  const m = Number(id.slice(10, 12));
  const d = Number(id.slice(12, 14));
  if (y < 1900 || !realDate(y, m, d)) return fail("birth");
  const birthDate = `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`;
  if (today && birthDate > today) return fail("birth", birthDate);
  if (!today) return { ok: true, problem: null, birthDate, age: null };
  const age = ageOn(birthDate, today);
  if (age < ages[0] || age > ages[1]) return fail("age", birthDate, age);
  return { ok: true, problem: null, birthDate, age };
}

/** The Luhn (mod 10) check of a card number's digits. */
export function luhnOk(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let n = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      n *= 2;
      if (n > 9) n -= 9;
    }
    sum += n;
  }
  return sum % 10 === 0;
}

export type CardProblem = "length" | "luhn";

/** A debit card number: 16–19 digits passing Luhn; null when it is fine. */
export function cardProblem(text: string): CardProblem | null {
  const digits = digitsOf(text);
  if (!/^\d{16,19}$/.test(digits)) return "length";
  return luhnOk(digits) ? null : "luhn";
}

/** A card number in groups of four, as it is typed: "6222 0202 0000 1234 567". */
export function groupCard(text: string): string {
  return digitsOf(text).replace(/\D/g, "").slice(0, 19).replace(/(\d{4})(?=\d)/g, "$1 ");
}

/** A yuan amount as the server wants it: digits with at most two decimals. */
export function amountOk(text: string): boolean {
  return /^\d+(\.\d{1,2})?$/.test(text.trim());
}

/** "3000.5" → 300050 fen (no floating point); null when it is not an amount. */
export function yuanToFen(text: string): number | null {
  const match = /^(\d+)(?:\.(\d{1,2}))?$/.exec(text.trim());
  if (!match) return null;
  return Number(match[1]) * 100 + Number((match[2] ?? "").padEnd(2, "0"));
}
