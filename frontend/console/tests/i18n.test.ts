import { resolve } from "node:path";
import { describe, expect, test } from "vitest";
import { compareTrees, emptyLeaves, flattenKeys, type MessageTree } from "@shared/i18n";
import en from "@/i18n/en";
import zhCN from "@/i18n/zh-CN";
import { collEn, collZh } from "@/i18n/coll";
import { APPLICATION_STATUSES, APPROVAL_KINDS, APPROVAL_STATUSES, INSTALLMENT_STATUSES, KYC_STATUSES, LOAN_STATUSES, PAYOUT_STATUSES, REPAYMENT_KINDS, WITHHOLDING_STATUSES } from "@/lib/enums";
import { statusGroups } from "@/lib/status";
import { ROLE_CODES } from "@/views/system/roles";
import { usedKeys } from "./keys";

// with the messages pages merge when first opened (the collections pages' `coll`)
const zh = { ...zhCN, coll: collZh } as unknown as MessageTree;
const english = { ...en, coll: collEn } as unknown as MessageTree;
const keys = new Set(flattenKeys(zh));
/** A prefix the sources complete at run time (keyedOptions(values, "approvals.kinds")). */
const hasSubtree = (prefix: string) => [...keys].some((k) => k.startsWith(`${prefix}.`));

describe("the two locales", () => {
  test("have the same keys", () => {
    expect(compareTrees(zh, english)).toEqual({ onlyA: [], onlyB: [] });
  });
  test("have no empty text", () => {
    expect(emptyLeaves(zh)).toEqual([]);
    expect(emptyLeaves(english)).toEqual([]);
  });
  test("English is English and Chinese is Chinese", () => {
    const han = /[\u4e00-\u9fff]/;
    const flat = (tree: MessageTree, prefix = ""): Array<[string, string]> =>
      Object.entries(tree).flatMap(([k, v]) => (typeof v === "string" ? [[prefix + k, v] as [string, string]] : flat(v, `${prefix}${k}.`)));
    expect(flat(english).filter(([, v]) => han.test(v)).map(([k]) => k)).toEqual([]);
    // every Chinese text has Chinese in it, except codes and abbreviations
    const latinOk = new Set(["audit.ip"]);
    expect(flat(zh).filter(([k, v]) => !han.test(v) && !latinOk.has(k)).map(([k]) => k)).toEqual([]);
  });
  test("every key the sources name exists", () => {
    const missing = [...usedKeys(resolve(__dirname, "../src"), Object.keys(zh))].filter(([k]) => !keys.has(k) && !hasSubtree(k)).map(([k, file]) => `${k} (${file})`);
    expect(missing).toEqual([]);
  });
  test("every value shown through a key prefix has its label", () => {
    const need = (prefix: string, values: readonly string[]) => values.map((v) => `${prefix}.${v}`).filter((k) => !keys.has(k));
    expect([
      ...need("status", [...LOAN_STATUSES, ...INSTALLMENT_STATUSES, ...APPLICATION_STATUSES, ...PAYOUT_STATUSES, ...WITHHOLDING_STATUSES, ...KYC_STATUSES, ...APPROVAL_STATUSES]),
      ...need("status", ["queued", "claimed", "more_info", "done", "active", "frozen", "closed", "pending", "expired", "removed", "draft", "running", "failed"]),
      ...need("txn", REPAYMENT_KINDS),
      ...need("approvals.kinds", APPROVAL_KINDS),
      ...need("roles", ROLE_CODES),
    ]).toEqual([]);
  });
  test("every state with a colour has a label", () => {
    const coloured = Object.values(statusGroups()).flat();
    const unlabelled = coloured.filter((s) => !keys.has(`status.${s}`));
    expect(unlabelled).toEqual([]);
  });
});

describe("status colours", () => {
  test("one colour per state", () => {
    const seen = new Map<string, string>();
    const twice: string[] = [];
    for (const [type, states] of Object.entries(statusGroups())) {
      for (const state of states) {
        if (seen.has(state)) twice.push(`${state}: ${seen.get(state)} and ${type}`);
        seen.set(state, type);
      }
    }
    expect(twice).toEqual([]);
  });
  test("the conventions of UI.md: active blue, overdue red, settled green, written off grey", async () => {
    const { statusType } = await import("@/lib/status");
    expect([statusType("active"), statusType("overdue"), statusType("settled"), statusType("written_off")]).toEqual(["primary", "danger", "success", "info"]);
  });
});
