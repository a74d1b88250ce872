import { describe, expect, test } from "vitest";
import { ageOn, cardProblem, checkId, groupCard, idCheckChar, luhnOk, normalPhone, phoneOk, yuanToFen } from "@app/lib/validators";

describe("resident ID numbers (GB 11643-1999)", () => {
  test("the check character is ISO 7064 MOD 11-2, X for 10", () => {
    expect(idCheckChar("11010519491231002")).toBe("X");
    expect(idCheckChar("44030019900101001")).toBe("6");
  });
  test("a valid number passes and gives the birth date and age on the business date", () => {
    expect(checkId("11010519491231002X", "2026-12-04", [18, 80])).toEqual({ ok: true, problem: null, birthDate: "1949-12-31", age: 76 });
    expect(checkId("11010519491231002x", "2026-12-04", [18, 80]).ok).toBe(true); // lower-case x
    expect(checkId("４４０３００１９９００１０１００１６", "2026-12-04").ok).toBe(true); // full-width digits
  });
  test("a wrong check character, format or birth date is named", () => {
    expect(checkId("110105194912310021").problem).toBe("checksum");
    expect(checkId("11010519491231002").problem).toBe("format");
    expect(checkId("1101051949123100X2").problem).toBe("format");
    // 1990-02-30 does not exist (check character computed for it)
    const feb30 = "44030019900230001";
    expect(checkId(feb30 + idCheckChar(feb30)).problem).toBe("birth");
  });
  test("the age must be within the range on the business date (inclusive)", () => {
    const born = "44030020081205001"; // 2008-12-05
    const id = born + idCheckChar(born);
    expect(checkId(id, "2026-12-04")).toMatchObject({ ok: false, problem: "age", age: 17 });
    expect(checkId(id, "2026-12-05")).toMatchObject({ ok: true, age: 18 });
    expect(ageOn("2000-02-29", "2021-02-28")).toBe(20);
    expect(ageOn("2000-02-29", "2021-03-01")).toBe(21);
  });
  test("a birth date after the business date is refused", () => {
    const born = "44030020300101001";
    expect(checkId(born + idCheckChar(born), "2026-12-04").problem).toBe("birth");
  });
});

describe("bank cards (Luhn)", () => {
  test("Luhn", () => {
    expect(luhnOk("4111111111111111")).toBe(true);
    expect(luhnOk("4111111111111112")).toBe(false);
    expect(luhnOk("6222020200112233446")).toBe(luhnOk("6222020200112233446")); // digits only
    expect(luhnOk("41111111a1111111")).toBe(false);
  });
  test("a card number is 16–19 digits that pass Luhn; spaces as typed are fine", () => {
    expect(cardProblem("4111 1111 1111 1111")).toBeNull();
    expect(cardProblem("4111 1111 1111 1112")).toBe("luhn");
    expect(cardProblem("411111111111")).toBe("length");
    expect(cardProblem("41111111111111111111")).toBe("length");
  });
  test("grouped in fours as typed, at most 19 digits", () => {
    expect(groupCard("62220202001122334")).toBe("6222 0202 0011 2233 4");
    expect(groupCard("6222 0202-0011223344556677")).toBe("6222 0202 0011 2233 445");
  });
});

describe("mobile numbers and amounts", () => {
  test("mainland mobiles, with +86, spaces, dashes or full-width digits", () => {
    expect(phoneOk("13812345678")).toBe(true);
    expect(phoneOk("+86 138-1234-5678")).toBe(true);
    expect(phoneOk("８６13812345678")).toBe(true);
    expect(phoneOk("12812345678")).toBe(false);
    expect(phoneOk("1381234567")).toBe(false);
    expect(normalPhone("+86 138 1234 5678")).toBe("13812345678");
  });
  test("yuan to fen without floating point", () => {
    expect(yuanToFen("3000")).toBe(300000);
    expect(yuanToFen("0.1")).toBe(10);
    expect(yuanToFen("1999.99")).toBe(199999);
    expect(yuanToFen("1.234")).toBeNull();
    expect(yuanToFen("abc")).toBeNull();
  });
});
