import { resolve } from "node:path";
import { describe, expect, test } from "vitest";
import { Locale as VantLocale } from "vant";
import { compareTrees, emptyLeaves, flattenKeys, type MessageTree } from "@shared/i18n";
import { currentLocale, i18n, LOCALE_KEY, setLocale } from "@app/i18n";
import en from "@app/i18n/en";
import zhCN from "@app/i18n/zh-CN";
import { APPLICATION_STATUSES, EDUCATION, EMPLOYMENT, INSTALLMENT_STATUSES, LOAN_STATUSES, PURPOSES, RELATIONS } from "@app/lib/enums";
import { usedKeys } from "../../console/tests/keys";

const zh = zhCN as unknown as MessageTree;
const english = en as unknown as MessageTree;
const keys = new Set(flattenKeys(zh));

describe("the app's two locales", () => {
  test("have the same keys and no empty text", () => {
    expect(compareTrees(zh, english)).toEqual({ onlyA: [], onlyB: [] });
    expect(emptyLeaves(zh)).toEqual([]);
    expect(emptyLeaves(english)).toEqual([]);
  });
  test("English has no Chinese in it", () => {
    const han = /[\u4e00-\u9fff]/;
    const text = (key: string) => String(key.split(".").reduce<unknown>((tree, part) => (tree as MessageTree)[part], english));
    expect(flattenKeys(english).filter((k) => han.test(text(k)))).toEqual([]);
  });
  test("every key the sources name exists", () => {
    const missing = [...usedKeys(resolve(__dirname, "../src"), Object.keys(zh))].filter(([k]) => !keys.has(k) && ![...keys].some((x) => x.startsWith(`${k}.`))).map(([k, f]) => `${k} (${f})`);
    expect(missing).toEqual([]);
  });
  test("every value picked from a list has its label", () => {
    const need = (prefix: string, values: readonly string[]) => values.map((v) => `${prefix}.${v}`).filter((k) => !keys.has(k));
    expect([
      ...need("relations", RELATIONS),
      ...need("employment", EMPLOYMENT),
      ...need("education", EDUCATION),
      ...need("purpose", PURPOSES),
      ...need("applicationStatus", APPLICATION_STATUSES),
      ...need("loanStatus", LOAN_STATUSES),
      ...need("installmentStatus", INSTALLMENT_STATUSES),
    ]).toEqual([]);
  });
});

describe("the language switch", () => {
  test("switches the app's texts, Vant's own, <html lang>, and is remembered", () => {
    setLocale("en");
    expect(currentLocale()).toBe("en");
    expect(i18n.global.t("tabs.mine")).toBe("Me");
    expect(VantLocale.messages().confirm).toBe("Confirm");
    expect(document.documentElement.lang).toBe("en");
    expect(localStorage.getItem(LOCALE_KEY)).toBe("en");
    setLocale("zh-CN");
    expect(i18n.global.t("tabs.mine")).toBe("我的");
    expect(VantLocale.messages().confirm).toBe("确认");
    expect(document.documentElement.lang).toBe("zh-CN");
    expect(localStorage.getItem(LOCALE_KEY)).toBe("zh-CN");
  });
  test("zh-CN is the default", () => {
    expect(i18n.global.fallbackLocale.value).toBe("zh-CN");
  });
});
