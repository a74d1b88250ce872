import { flushPromises, mount } from "@vue/test-utils";
import ElementPlus from "element-plus";
import { createPinia, setActivePinia } from "pinia";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import VChart from "vue-echarts";
import { createMemoryHistory, createRouter } from "vue-router";
import ChartPanel, { type Series } from "@/components/ChartPanel.vue";
import ErrorState from "@/components/ErrorState.vue";
import ListPage from "@/components/ListPage.vue";
import StatusTag from "@/components/StatusTag.vue";
import { i18n } from "@/i18n";
import { ApiError } from "@/lib/api";
import type { ColumnDef, FilterDef } from "@/lib/list";
import { useAuth, type Me } from "@/stores/auth";
import { usePrefs } from "@/stores/prefs";

function plugins() {
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: "/:p(.*)*", component: { template: "<div/>" } }] });
  return [ElementPlus, i18n, router];
}

beforeEach(() => {
  localStorage.clear();
  sessionStorage.clear();
  setActivePinia(createPinia());
});
afterEach(() => vi.unstubAllGlobals());

describe("ErrorState", () => {
  const error = new ApiError(403, { code: "PERMISSION_DENIED", message: { "zh-CN": "没有权限：查看借据", en: "Not permitted: View loans" }, request_id: "req-9" });
  test("the server's message in the current language, its code and request id", async () => {
    usePrefs().setLocale("en");
    const wrapper = mount(ErrorState, { props: { error }, global: { plugins: plugins() } });
    expect(wrapper.text()).toContain("Not permitted: View loans");
    expect(wrapper.text()).toContain("PERMISSION_DENIED");
    expect(wrapper.text()).toContain("req-9");
    usePrefs().setLocale("zh-CN");
    await flushPromises();
    expect(wrapper.text()).toContain("没有权限：查看借据");
    expect(wrapper.text()).toContain("错误码");
  });
});

describe("StatusTag", () => {
  test("one colour per state, the label in the current language", () => {
    usePrefs().setLocale("zh-CN");
    const overdue = mount(StatusTag, { props: { status: "overdue" }, global: { plugins: plugins() } });
    expect(overdue.classes()).toContain("el-tag--danger");
    expect(overdue.text()).toBe("逾期");
    const settled = mount(StatusTag, { props: { status: "settled" }, global: { plugins: plugins() } });
    expect(settled.classes()).toContain("el-tag--success");
    const unknown = mount(StatusTag, { props: { status: "mystery" }, global: { plugins: plugins() } });
    expect(unknown.text()).toBe("mystery");
  });
});

describe("ListPage", () => {
  const columns: ColumnDef[] = [
    { prop: "id", label: "common.id", sortable: true },
    { prop: "principal", label: "loans.principal", kind: "money" },
    { prop: "status", label: "common.status", kind: "status" },
  ];
  const filters: FilterDef[] = [{ prop: "status", type: "select", label: "common.status", options: [{ value: "overdue", label: "status.overdue" }] }];

  function serve(answer: (url: URL) => Response) {
    const calls: URL[] = [];
    vi.stubGlobal("fetch", async (input: RequestInfo | URL) => {
      const url = new URL(String(input), "http://console.test");
      calls.push(url);
      return answer(url);
    });
    return calls;
  }

  test("asks the server for one page with the default sort, and shows money right-aligned", async () => {
    const calls = serve(() =>
      new Response(JSON.stringify({ items: [{ id: 7, principal: "12345.6", status: "overdue" }], total: 41, page: 1, page_size: 20 }), {
        headers: { "content-type": "application/json" },
      }),
    );
    const wrapper = mount(ListPage, { props: { path: "/api/v1/admin/loans", columns, filters, defaultSort: "-id" }, global: { plugins: plugins() } });
    await flushPromises();
    expect(calls).toHaveLength(1);
    expect(calls[0].pathname).toBe("/api/v1/admin/loans");
    expect(Object.fromEntries(calls[0].searchParams)).toEqual({ page: "1", page_size: "20", sort: "-id" });
    expect(wrapper.text()).toContain("12,345.60");
    expect(wrapper.find(".money").exists()).toBe(true);
    expect(wrapper.text()).toContain("41");
  });

  test("export needs reports.export; a failed list shows the server's error, not an empty table", async () => {
    serve(() => new Response(JSON.stringify({ code: "PERMISSION_DENIED", message: { "zh-CN": "没有权限", en: "Not permitted" } }), { status: 403 }));
    const auth = useAuth();
    auth.me = { permissions: ["loans.read"], menus: [] } as unknown as Me;
    const wrapper = mount(ListPage, { props: { path: "/api/v1/admin/loans", columns }, global: { plugins: plugins() } });
    await flushPromises();
    expect(wrapper.find('[data-test="export"]').exists()).toBe(false);
    const error = wrapper.find('[data-test="error-state"]');
    expect(error.exists()).toBe(true);
    expect(error.attributes("data-code")).toBe("PERMISSION_DENIED");
    expect(wrapper.find('[data-test="list-table"]').exists()).toBe(false);
  });

  test("an empty answer is the designed empty state", async () => {
    serve(() => new Response(JSON.stringify({ items: [], total: 0, page: 1, page_size: 20 })));
    const wrapper = mount(ListPage, { props: { path: "/api/v1/admin/loans", columns }, global: { plugins: plugins() } });
    await flushPromises();
    expect(wrapper.find('[data-test="empty-state"]').exists()).toBe(true);
  });
});

describe("ChartPanel", () => {
  type Axis = { minInterval?: number; axisLabel: { formatter?: string } };
  function axes(series: Series[]): Axis[] {
    const rows = [
      { business_date: "2026-03-02", hits: 1, cases: 3, amount: "1234.56", rate: "2.50" },
      { business_date: "2026-03-03", hits: 2, cases: 0, amount: "0.50", rate: "0.25" },
    ];
    const wrapper = mount(ChartPanel, {
      props: { title: "t", rows, x: "business_date", xLabel: "date", series, filename: "f" },
      global: { plugins: plugins(), stubs: { Echarts: true } },
    });
    return (wrapper.findComponent(VChart).props("option") as { yAxis: Axis[] }).yAxis;
  }

  test("an axis of counts has whole-number ticks only (no 0.5 hit); money and percent axes may be fractional", () => {
    const [counts] = axes([
      { key: "hits", name: "hits", type: "bar", kind: "count" },
      { key: "cases", name: "cases", type: "bar", kind: "count" },
    ]);
    expect(counts.minInterval).toBe(1);
    const [money, percent] = axes([
      { key: "amount", name: "amount", type: "bar", kind: "money" },
      { key: "rate", name: "rate", type: "line", kind: "percent", axis: 1 },
    ]);
    expect(money.minInterval).toBeUndefined();
    expect(percent.minInterval).toBeUndefined();
    expect(percent.axisLabel.formatter).toBe("{value}%");
  });

  test("each axis decides by its own series: money on the left, counts on the right", () => {
    const [money, counts] = axes([
      { key: "amount", name: "amount", type: "bar", kind: "money" },
      { key: "hits", name: "hits", type: "line", kind: "count", axis: 1 },
    ]);
    expect(money.minInterval).toBeUndefined();
    expect(counts.minInterval).toBe(1);
    const [mixed] = axes([
      { key: "hits", name: "hits", type: "bar", kind: "count" },
      { key: "amount", name: "amount", type: "bar", kind: "money" },
    ]);
    expect(mixed.minInterval).toBeUndefined();
  });
});
