import { describe, expect, test } from "vitest";
import { fenToYuan, formatCount, formatDate, formatDateTime, formatMoney, formatPercent, formatRate, EMPTY } from "../src/format";

describe("money", () => {
  test.each([
    ["2432.18", "2,432.18"],
    ["0.00", "0.00"],
    ["12", "12.00"],
    ["1234567.5", "1,234,567.50"],
    ["-1200.00", "-1,200.00"],
    ["-0.00", "0.00"],
    ["999999999999.99", "999,999,999,999.99"],
    ["10.005", "10.01"],
    ["10.004", "10.00"],
    ["0.995", "1.00"],
  ])("%s → %s", (value, shown) => {
    expect(formatMoney(value)).toBe(shown);
  });
  test("fen", () => {
    expect(formatMoney(243218, { fen: true })).toBe("2,432.18");
    expect(formatMoney(5, { fen: true })).toBe("0.05");
    expect(formatMoney(-120000, { fen: true })).toBe("-1,200.00");
    expect(fenToYuan(100)).toBe("1.00");
    expect(fenToYuan(7)).toBe("0.07");
  });
  test("nothing, and what is not money, as given", () => {
    expect(formatMoney(null)).toBe(EMPTY);
    expect(formatMoney(undefined)).toBe(EMPTY);
    expect(formatMoney("")).toBe(EMPTY);
    expect(formatMoney("abc")).toBe("abc");
  });
  test("big amounts keep every digit (no float)", () => {
    expect(formatMoney("90071992547409931.23")).toBe("90,071,992,547,409,931.23");
  });
});

describe("rates and dates", () => {
  test("a fraction in percent with two decimals", () => {
    expect(formatRate("0.18")).toBe("18.00%");
    expect(formatRate("0.216300")).toBe("21.63%");
    expect(formatRate(0.05)).toBe("5.00%");
    expect(formatRate(null)).toBe(EMPTY);
  });
  test("a percent as it is", () => {
    expect(formatPercent("21.71")).toBe("21.71%");
    expect(formatPercent("3.5%")).toBe("3.50%");
    expect(formatPercent(0)).toBe("0.00%");
  });
  test("dates YYYY-MM-DD, a date string never shifted by the time zone", () => {
    expect(formatDate("2026-03-01")).toBe("2026-03-01");
    expect(formatDate("2026-03-01T23:59:59")).toBe("2026-03-01");
    expect(formatDate(new Date(2026, 0, 5))).toBe("2026-01-05");
    expect(formatDate(null)).toBe(EMPTY);
    expect(formatDateTime("2026-03-01T08:05:09.123")).toBe("2026-03-01 08:05");
  });
  test("counts", () => {
    expect(formatCount(1234567)).toBe("1,234,567");
    expect(formatCount(0)).toBe("0");
  });
});
