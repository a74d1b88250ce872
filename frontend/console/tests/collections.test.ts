// 催收: the rules the workbench's forms follow (a call's three dimensions, a promise's
// window, the quadrant, an offer's request), the case's state against the API (an action
// reloads the case; a guardrail refusal is kept with its code and both languages and
// nothing else is mistaken for one), and the refusal banner and call form as rendered.
import { flushPromises, mount } from "@vue/test-utils";
import ElementPlus from "element-plus";
import { createPinia, setActivePinia } from "pinia";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { createMemoryHistory, createRouter } from "vue-router";
import { i18n } from "@/i18n";
import { ApiError } from "@/lib/api";
import { usePrefs } from "@/stores/prefs";
import CallForm from "@/views/collections/CallForm.vue";
import RefusalBanner from "@/views/collections/RefusalBanner.vue";
import {
  addDays,
  callBody,
  debtorClock,
  dpdRange,
  emptyCall,
  isGuardrail,
  offerBody,
  outcomeChartRows,
  percentValue,
  promiseProblem,
  quadrantOf,
  utilisation,
  type Contact,
} from "@/views/collections/model";
import { caseWork } from "@/views/collections/store";

function plugins() {
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: "/:p(.*)*", component: { template: "<div/>" } }] });
  return [ElementPlus, i18n, router];
}
beforeEach(() => {
  localStorage.clear();
  sessionStorage.clear();
  setActivePinia(createPinia());
  usePrefs().setLocale("zh-CN");
});
afterEach(() => vi.unstubAllGlobals());

const QUIET = {
  code: "COLLECTION_QUIET_HOURS",
  message: { "zh-CN": "22:00–08:00（借款人当地时间）不得联系", en: "No contact between 22:00 and 08:00 in the debtor's local time" },
};

describe("a call in three dimensions", () => {
  test("a call not answered carries no party and no result", () => {
    const form = { ...emptyCall(), connection: "no_answer" as const, party: "self" as const, result: "promise" as const, note: " 无人接 " };
    expect(callBody(form)).toEqual({ contact: "borrower", connection: "no_answer", note: "无人接", debtor_consented: false });
  });
  test("a connected call needs its party and result; a promise its amount and date", () => {
    const form = { ...emptyCall("contact:2"), connection: "connected" as const };
    expect(callBody(form)).toBeNull();
    expect(callBody({ ...form, party: "related" })).toBeNull();
    expect(callBody({ ...form, party: "related", result: "relay" })).toEqual({ contact: "contact:2", connection: "connected", party: "related", result: "relay", note: "", debtor_consented: false });
    const promised = { ...form, party: "self" as const, result: "promise" as const };
    expect(callBody(promised)).toBeNull();
    expect(callBody({ ...promised, promise_amount: "500.5", promise_on: "" })).toBeNull();
    expect(callBody({ ...promised, promise_amount: "0", promise_on: "2026-03-05" })).toBeNull();
    expect(callBody({ ...promised, promise_amount: "500.50", promise_on: "2026-03-05", recording_ref: " REC-1 ", debtor_consented: true })).toEqual({
      contact: "contact:2",
      connection: "connected",
      party: "self",
      result: "promise",
      note: "",
      debtor_consented: true,
      recording_ref: "REC-1",
      promise: { amount: "500.50", promised_on: "2026-03-05", note: "" },
    });
  });
  test("no call without a contact and a connection", () => {
    expect(callBody({ ...emptyCall(), contact: "" , connection: "busy" })).toBeNull();
    expect(callBody(emptyCall())).toBeNull();
  });
});

describe("a promise to pay", () => {
  test("from the business date to 30 days after it, at most what is outstanding", () => {
    expect(addDays("2026-02-27", 30)).toBe("2026-03-29");
    expect(addDays("2026-12-31", 1)).toBe("2027-01-01");
    expect(promiseProblem("500", "2026-03-01", "2026-03-01", "2100.00")).toBeNull();
    expect(promiseProblem("500", "2026-03-31", "2026-03-01", "2100.00")).toBeNull();
    expect(promiseProblem("500", "2026-04-01", "2026-03-01", "2100.00")).toBe("date");
    expect(promiseProblem("500", "2026-02-28", "2026-03-01", "2100.00")).toBe("date");
    expect(promiseProblem("2100.01", "2026-03-02", "2026-03-01", "2100.00")).toBe("amount");
    expect(promiseProblem("12.345", "2026-03-02", "2026-03-01", "2100.00")).toBe("amount");
    expect(promiseProblem("-1", "2026-03-02", "2026-03-01", "2100.00")).toBe("amount");
  });
});

describe("quadrants, offers and figures", () => {
  test("willingness × ability", () => {
    expect([quadrantOf(true, true), quadrantOf(true, false), quadrantOf(false, true), quadrantOf(false, false)]).toEqual(["I", "II", "III", "IV"]);
  });
  test("each offer is the servicing request's body (docs/admin-api.md)", () => {
    const form = { reason: " 失业三个月 ", installment: 2, component: "penalty" as const, amount: "35.00", new_due_date: "2026-04-01", channel: "", term: 6, unit: "month", method: "annuity", annual_rate: " 12% " };
    expect(offerBody("waiver", form)).toEqual({ lines: [{ installment: 2, component: "penalty", amount: "35.00" }], reason: "失业三个月" });
    expect(offerBody("deferral", form)).toEqual({ installment: 2, new_due_date: "2026-04-01", reason: "失业三个月" });
    expect(offerBody("extension", { ...form, amount: "" })).toEqual({ amount: null, channel: "offline", reason: "失业三个月" });
    expect(offerBody("restructure", form)).toEqual({ term: 6, unit: "month", method: "annuity", annual_rate: "12%", reason: "失业三个月" });
  });
  test("queue ranges, capacity use and percent strings", () => {
    expect(dpdRange(1, 30)).toBe("1–30");
    expect(dpdRange(181, null)).toBe("181+");
    expect(utilisation({ open_cases: 37, capacity: 100 })).toBe(37);
    expect(utilisation({ open_cases: 2, capacity: 3 })).toBe(66.7);
    expect(utilisation({ open_cases: 5, capacity: null })).toBeNull();
    expect([percentValue("12.50%"), percentValue("7.5"), percentValue(null), percentValue("n/a")]).toEqual([12.5, 7.5, 0, 0]);
  });
  test("champion and challenger side by side for each rate, a missing cell at 0", () => {
    const cell = (name: "champion" | "challenger", cure: string, roll: string, recovery: string) => ({ cell: name, cases: 2, cured: 1, cure_rate: cure, rolled: 0, roll_rate: roll, balance_at_entry: "2000.00", recovered: "300.00", recovery_rate: recovery });
    const names = { cure_rate: "治愈率", roll_rate: "迁徙率", recovery_rate: "回收率" };
    expect(outcomeChartRows([cell("challenger", "100.00%", "0.00%", "98.23%"), cell("champion", "0.00%", "100.00%", "0.63%")], names)).toEqual([
      { rate: "治愈率", champion: 0, challenger: 100 },
      { rate: "迁徙率", champion: 100, challenger: 0 },
      { rate: "回收率", champion: 0.63, challenger: 98.23 },
    ]);
    expect(outcomeChartRows([cell("champion", "50.00%", "25.00%", "10.00%")], names).map((r) => r.challenger)).toEqual([0, 0, 0]);
  });
  test("the debtor's clock as the server wrote it, whatever the browser's time zone", () => {
    expect(debtorClock("2026-03-03T22:15:00+08:00")).toBe("2026-03-03 22:15 UTC+08:00");
    expect(debtorClock("2026-03-03T06:05:09.5+05:30")).toBe("2026-03-03 06:05 UTC+05:30");
    expect(debtorClock("2026-03-03T10:00:00")).toBe("2026-03-03 10:00");
    expect(debtorClock(null)).toBe("—");
  });
  test("a guardrail refusal is told apart from other errors", () => {
    expect(isGuardrail(new ApiError(409, QUIET))).toBe(true);
    expect(isGuardrail(new ApiError(400, { code: "COLLECTION_VISIT_COMPANIONS", message: { en: "x" } }))).toBe(true);
    expect(isGuardrail(new ApiError(404, { code: "NOT_FOUND", message: { en: "x" } }))).toBe(false);
    expect(isGuardrail(new Error("COLLECTION_QUIET_HOURS"))).toBe(false);
  });
});

function detailOf(id: number, extra: Record<string, unknown> = {}) {
  return { case: { id, status: "open", outstanding: "2100.00", held_until: null }, history: [], contacts: [], guardrails: { connected_today: 0, max_connected: 3 }, ...extra };
}

describe("the case on the workbench", () => {
  function serve(handler: (method: string, url: URL, body: unknown) => Response) {
    const calls: Array<{ method: string; path: string; body: unknown }> = [];
    vi.stubGlobal("fetch", async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = new URL(String(input), "http://console.test");
      const body = init?.body ? JSON.parse(String(init.body)) : undefined;
      const method = init?.method ?? "GET";
      calls.push({ method, path: url.pathname, body });
      return handler(method, url, body);
    });
    return calls;
  }
  const json = (value: unknown, status = 200) => new Response(JSON.stringify(value), { status, headers: { "content-type": "application/json" } });

  test("an action posts to the case and reads the case again", async () => {
    let reads = 0;
    const calls = serve((method, url) => {
      if (method === "GET") return json(detailOf(12, { history: Array.from({ length: reads++ }, (_, i) => ({ id: i })) }));
      if (url.pathname.endsWith("/calls")) return json({ id: 91, kind: "call" }, 201);
      return json({}, 500);
    });
    const work = caseWork(12);
    await work.reload();
    expect(work.detail.value?.history).toHaveLength(0);
    const body = { contact: "borrower", connection: "no_answer", note: "", debtor_consented: false };
    const action = await work.act<{ id: number }>("calls", body);
    expect(action?.id).toBe(91);
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      "GET /api/v1/admin/collections/cases/12",
      "POST /api/v1/admin/collections/cases/12/calls",
      "GET /api/v1/admin/collections/cases/12",
    ]);
    expect(calls[1].body).toEqual(body);
    expect(work.detail.value?.history).toHaveLength(1);
    expect(work.refusal.value).toBeNull();
    expect(work.busy.value).toBeNull();
  });

  test("a refusal of the guardrails is kept with its code and both languages, until an action succeeds", async () => {
    let refuse = true;
    serve((method) => {
      if (method === "GET") return json(detailOf(7));
      return refuse ? json(QUIET, 409) : json({ id: 1, kind: "call" }, 201);
    });
    const work = caseWork(7);
    await work.reload();
    expect(await work.act("calls", { contact: "borrower", connection: "connected" })).toBeNull();
    expect(work.refusal.value).toEqual({ code: "COLLECTION_QUIET_HOURS", message: QUIET.message, status: 409, action: "calls", checked: false });
    refuse = false;
    expect(await work.act("calls", { contact: "borrower", connection: "connected", debtor_consented: true })).not.toBeNull();
    expect(work.refusal.value).toBeNull();
  });

  test("other errors are not refusals: they are thrown and nothing is kept", async () => {
    serve((method) => (method === "GET" ? json(detailOf(7)) : json({ code: "PERMISSION_DENIED", message: { "zh-CN": "没有权限", en: "Not permitted" } }, 403)));
    const work = caseWork(7);
    await work.reload();
    await expect(work.act("offers/waiver", { lines: [], reason: "x" })).rejects.toMatchObject({ code: "PERMISSION_DENIED", status: 403 });
    expect(work.refusal.value).toBeNull();
    expect(work.busy.value).toBeNull();
  });

  test("the pre-dial check logs nothing and says why not", async () => {
    const calls = serve((method, url) => {
      if (method === "GET") return json(detailOf(3));
      if (url.pathname.endsWith("/check")) return json({ allowed: false, code: "COLLECTION_CONNECTED_CAP", message: { "zh-CN": "今日已接通 3 次", en: "Connected 3 times today" } });
      return json({}, 500);
    });
    const work = caseWork(3);
    expect(await work.check("call", "borrower")).toBe(false);
    expect(calls).toEqual([{ method: "POST", path: "/api/v1/admin/collections/cases/3/check", body: { kind: "call", contact: "borrower", debtor_consented: false } }]);
    expect(work.refusal.value).toMatchObject({ code: "COLLECTION_CONNECTED_CAP", checked: true, action: "call" });
  });

  test("a case outside my scope is the server's 404, shown as the error", async () => {
    serve(() => json({ code: "NOT_FOUND", message: { "zh-CN": "不存在", en: "Not found" } }, 404));
    const work = caseWork(99);
    await work.reload();
    expect(work.detail.value).toBeNull();
    expect(work.error.value).toMatchObject({ code: "NOT_FOUND", status: 404 });
  });
});

describe("RefusalBanner", () => {
  const refusal = { code: QUIET.code, message: QUIET.message, status: 409, action: "calls", checked: false };
  test("the message in the console's language, the other below, the code and what was refused", async () => {
    const wrapper = mount(RefusalBanner, { props: { refusal }, global: { plugins: plugins() } });
    expect(wrapper.get('[data-test="refusal-message"]').text()).toBe(QUIET.message["zh-CN"]);
    expect(wrapper.get('[data-test="refusal-other"]').text()).toBe(QUIET.message.en);
    expect(wrapper.get('[data-test="refusal-code"]').text()).toBe("COLLECTION_QUIET_HOURS");
    expect(wrapper.text()).toContain("未登记、未发送");
    expect(wrapper.text()).toContain("HTTP 409");
    expect(wrapper.text()).toContain("电话");
    usePrefs().setLocale("en");
    await flushPromises();
    expect(wrapper.get('[data-test="refusal-message"]').text()).toBe(QUIET.message.en);
    expect(wrapper.get('[data-test="refusal-other"]').text()).toBe(QUIET.message["zh-CN"]);
    expect(wrapper.text()).toContain("nothing logged or sent");
  });
  test("a pre-dial check says no contact now, without an HTTP status", () => {
    const wrapper = mount(RefusalBanner, { props: { refusal: { ...refusal, checked: true, action: "call" } }, global: { plugins: plugins() } });
    expect(wrapper.text()).toContain("现在不能联系");
    expect(wrapper.text()).not.toContain("HTTP");
  });
});

describe("CallForm", () => {
  const contacts: Contact[] = [
    { ref: "borrower", masked: "139****0001", party: "self", relation: null, relation_zh: "本人", score: 100, reason: "借款人本人手机", attempts_today: 1, reachable: true, last_result: "no_answer", refused: false },
    { ref: "contact:1", masked: "139****0002", party: "related", relation: "parent", relation_zh: "父母", score: 60, reason: "紧急联系人（家人）", attempts_today: 0, reachable: true, last_result: null, refused: false },
  ];
  const props = { contacts, businessDate: "2026-03-02", outstanding: "2100.00" };

  test("party and result only once connected; saved only when complete", async () => {
    const wrapper = mount(CallForm, { props, global: { plugins: plugins() } });
    const save = () => wrapper.get('[data-test="save-call"]');
    expect(wrapper.find('[data-test="call-party"]').exists()).toBe(false);
    expect(save().attributes("disabled")).toBeDefined();
    await wrapper.get('[data-test="call-connection"] [data-value="connected"] input').setValue(true);
    expect(wrapper.find('[data-test="call-party"]').exists()).toBe(true);
    expect(save().attributes("disabled")).toBeDefined();
    await wrapper.get('[data-test="call-party"] [data-value="self"] input').setValue(true);
    await wrapper.get('[data-test="call-result"] [data-value="promise"] input').setValue(true);
    expect(wrapper.find('[data-test="call-promise-amount"]').exists()).toBe(true);
    expect(save().attributes("disabled")).toBeDefined();
    await wrapper.get('input[data-test="call-promise-amount"]').setValue("9999");
    await flushPromises();
    // more than is outstanding: the field is marked
    expect(wrapper.get('input[data-test="call-promise-amount"]').element.closest(".el-form-item")?.classList.contains("is-error")).toBe(true);
    const exposed = wrapper.vm as unknown as { form: { promise_amount: string; promise_on: string } };
    exposed.form.promise_amount = "500";
    exposed.form.promise_on = "2026-03-05";
    await flushPromises();
    expect(save().attributes("disabled")).toBeUndefined();
    await wrapper.get("form").trigger("submit");
    expect(wrapper.emitted("submit")?.[0]?.[0]).toMatchObject({ contact: "borrower", connection: "connected", party: "self", result: "promise", promise: { amount: "500", promised_on: "2026-03-05" } });
  });

  test("an unrelated third party can only be asked to pass a message on or for a lead", async () => {
    const wrapper = mount(CallForm, { props, global: { plugins: plugins() } });
    await wrapper.get('[data-test="call-connection"] [data-value="connected"] input').setValue(true);
    await wrapper.get('[data-test="call-party"] [data-value="unrelated"] input').setValue(true);
    const results = wrapper.findAll('[data-test="call-result"] [data-value]').map((w) => w.attributes("data-value"));
    expect(results).toEqual(["refused", "relay", "lead"]);
  });

  test("dialling asks for the check of the chosen number", async () => {
    const wrapper = mount(CallForm, { props, global: { plugins: plugins() } });
    await wrapper.setProps({ chosen: "contact:1" });
    await wrapper.get('[data-test="dial"]').trigger("click");
    expect(wrapper.emitted("check")?.[0]).toEqual(["contact:1", false]);
    expect(wrapper.text()).toContain("紧急联系人（家人）");
  });
});
