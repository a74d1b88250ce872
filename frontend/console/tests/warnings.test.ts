// 预警监控: the chart's rows (every date of the period, every rule, 0 where none), the rules'
// PUT body (the view's read-only parts left out, whole numbers), a rule told apart from its
// default, the sample's loans a day; and the rule editor against the API: read-only without
// collections.manage, saved whole with it.
import { flushPromises, mount } from "@vue/test-utils";
import ElementPlus from "element-plus";
import { createPinia, setActivePinia } from "pinia";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { i18n } from "@/i18n";
import { api } from "@/lib/api";
import { useAuth } from "@/stores/auth";
import WarningRulesForm from "@/views/collections/WarningRulesForm.vue";
import { RULE_CODES, changed, chartRows, perMillion, rulesBody, type Rule, type Rules } from "@/views/collections/warnings";

function rule(overrides: Partial<Rule> = {}): Rule {
  return {
    code: "missed_withholding",
    name_zh: "代扣失败",
    name_en: "Missed withholdings",
    enabled: true,
    params: { failures: 3, days: 7 },
    effect: "raise_priority",
    by: 2000,
    param_specs: [
      { key: "failures", zh: "失败次数", en: "failed withholdings, at least", low: 1, high: 30, default: 3, choices: [] },
      { key: "days", zh: "统计天数", en: "in the last days", low: 1, high: 60, default: 7, choices: [] },
    ],
    default: { name_zh: "代扣失败", name_en: "Missed withholdings", effect: "raise_priority", by: 2000, params: { failures: 3, days: 7 } },
    ...overrides,
  };
}

function rules(): Rules {
  return { bureau_refresh: { sample_bp: 10, on_trigger: true, max_per_day: 2000, default: { sample_bp: 10, on_trigger: true, max_per_day: 2000 } }, rules: [rule()] };
}

describe("the early-warning page's helpers", () => {
  test("the chart has a row per date of the period and a count per rule", () => {
    const rows = chartRows({
      date_from: "2026-03-30",
      date_to: "2026-04-02",
      items: [
        { business_date: "2026-03-31", rule_code: "device_changed", hits: 4 },
        { business_date: "2026-04-02", rule_code: "missed_withholding", hits: 2 },
      ],
    });
    expect(rows.map((r) => r.business_date)).toEqual(["2026-03-30", "2026-03-31", "2026-04-01", "2026-04-02"]);
    expect(rows[1]).toMatchObject({ device_changed: 4, missed_withholding: 0 });
    expect(rows[3]).toMatchObject({ missed_withholding: 2, device_changed: 0 });
    expect(Object.keys(rows[0]).sort()).toEqual(["business_date", ...RULE_CODES].sort());
  });
  test("the PUT body leaves out what the server shows only", () => {
    const edited = rules();
    edited.rules[0].params.failures = 4.4;
    edited.rules[0].name_zh = "  代扣失败（加强） ";
    const body = rulesBody(edited);
    expect(body.bureau_refresh).toEqual({ sample_bp: 10, on_trigger: true, max_per_day: 2000 });
    expect(body.rules[0]).toEqual({ code: "missed_withholding", name_zh: "代扣失败（加强）", name_en: "Missed withholdings", enabled: true, params: { failures: 4, days: 7 }, effect: "raise_priority", by: 2000 });
    expect(body.rules[0]).not.toHaveProperty("param_specs");
  });
  test("a rule differs from its default by names, parameters or effect, not by being off", () => {
    expect(changed(rule())).toBe(false);
    expect(changed(rule({ enabled: false }))).toBe(false);
    expect(changed(rule({ by: 500 }))).toBe(true);
    expect(changed(rule({ params: { failures: 3, days: 14 } }))).toBe(true);
    expect(changed(rule({ effect: "open_precase" }))).toBe(true);
  });
  test("basis points become loans a day per million", () => {
    expect(perMillion(10)).toBe(1000);
    expect(perMillion(0)).toBe(0);
    expect(perMillion(10_000)).toBe(1_000_000);
  });
});

describe("the rule editor", () => {
  beforeEach(() => setActivePinia(createPinia()));
  afterEach(() => vi.restoreAllMocks());

  function mountAs(permissions: string[]) {
    const auth = useAuth();
    vi.spyOn(auth, "can").mockImplementation((p: string) => permissions.includes(p));
    return mount(WarningRulesForm, { global: { plugins: [ElementPlus, i18n] } });
  }

  test("without collections.manage it is read-only", async () => {
    const request = vi.spyOn(api, "request").mockResolvedValue(rules());
    const wrapper = mountAs(["collections.read"]);
    await flushPromises();
    expect(request).toHaveBeenCalledWith("GET", "/api/v1/admin/collections/warnings/rules");
    expect(wrapper.find('[data-test="warn-save"]').exists()).toBe(false);
    expect(wrapper.find('[data-test="warn-rule-table"]').text()).toContain("missed_withholding");
  });
  test("a manager saves the rules whole", async () => {
    const request = vi.spyOn(api, "request").mockImplementation(async (method: string) => (method === "GET" ? rules() : { ...rules(), bureau_refresh: { ...rules().bureau_refresh, sample_bp: 20 } }));
    const wrapper = mountAs(["collections.read", "collections.manage"]);
    await flushPromises();
    await wrapper.find('[data-test="warn-save"]').trigger("click");
    await flushPromises();
    const put = request.mock.calls.find((c) => c[0] === "PUT");
    expect(put?.[1]).toBe("/api/v1/admin/collections/warnings/rules");
    expect((put?.[2] as { body: { rules: unknown[] } }).body.rules).toHaveLength(1);
  });
});
