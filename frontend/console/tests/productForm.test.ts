import { flushPromises, mount } from "@vue/test-utils";
import ElementPlus from "element-plus";
import { createPinia, setActivePinia } from "pinia";
import { beforeEach, describe, expect, test } from "vitest";
import { nextTick, ref } from "vue";
import { i18n } from "@/i18n";
import { fromPercent, shiftDecimal, toPercent } from "@/lib/decimal";
import { usePrefs } from "@/stores/prefs";
import type { Definition } from "@/views/products/definition";
import ProductForm from "@/views/products/ProductForm.vue";

// WEEK8 as GET /products/WEEK8/versions/1 shows it
function week8(): Definition {
  return {
    code: "WEEK8",
    name: "按周分期",
    type: "installment",
    terms: [4, 8],
    period_unit: "week",
    annual_rate: "0.20",
    method: "equal_principal",
    day_count: "act365",
    version: 1,
    interest_start_days: 0,
    repayment_day: null,
    upfront_fee_rate: "0",
    upfront_fee_mode: "separate",
    periodic_fee_kind: "rate",
    periodic_fee_value: "0",
    grace_days: 0,
    interest_free_days: 0,
    penalty: { daily_rate: "0.0005", base: "overdue_principal", cap_rate_of_principal: "0.24", overdue_fee: "0.00" },
    allocation_order: ["penalty", "fee", "interest", "principal"],
    early_settlement: { allowed: true, interest: "to_date", fee_rate: "0" },
    extension: { allowed: false, fee_rate: "0", days: 0, max_count: 0 },
    rate_cap: { kind: "24", lpr: null },
    allow_prepayment: true,
    age_min: 18,
    age_max: 60,
    amount_min: "500.00",
    amount_max: "10000.00",
    amount_step: "100.00",
  };
}

describe("decimal", () => {
  test("percent and fraction without floating point", () => {
    expect(toPercent("0.20")).toBe("20");
    expect(toPercent("0.0005")).toBe("0.05");
    expect(toPercent("0.175")).toBe("17.5");
    expect(toPercent(null)).toBe("");
    expect(fromPercent("0.05")).toBe("0.0005");
    expect(fromPercent("24")).toBe("0.24");
    expect(fromPercent("7.3")).toBe("0.073");
    expect(fromPercent("")).toBeNull();
    expect(fromPercent("abc")).toBe("abc"); // the server names the field
    expect(shiftDecimal("-1.5", 1)).toBe("-15");
    expect(shiftDecimal("0.1", 3)).toBe("100");
    expect(shiftDecimal(".", 2)).toBeNull();
  });
});

describe("ProductForm", () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    usePrefs().setLocale("zh-CN");
  });

  function mounted(definition = week8(), error: { field: string | null; message: string } | null = null) {
    const model = ref(definition);
    const wrapper = mount(ProductForm, {
      props: { modelValue: model.value, "onUpdate:modelValue": (v: Definition) => (model.value = v), error },
      global: { plugins: [ElementPlus, i18n] },
      attachTo: document.body,
    });
    return { wrapper, model };
  }

  test("shows the fields, rates as percents, and writes fractions and yuan back", async () => {
    const { wrapper, model } = mounted();
    await flushPromises();
    const rate = wrapper.find('input[data-test="f-annual-rate"]');
    expect((rate.element as HTMLInputElement).value).toBe("20");
    expect((wrapper.find('input[data-test="f-penalty-daily"]').element as HTMLInputElement).value).toBe("0.05");
    expect((wrapper.find('input[data-test="f-amount-max"]').element as HTMLInputElement).value).toBe("10000.00");
    await rate.setValue("18.5");
    await wrapper.find('input[data-test="f-penalty-daily"]').setValue("0.1");
    await wrapper.find('input[data-test="f-amount-max"]').setValue("20000");
    await wrapper.find('input[data-test="f-name"]').setValue("按周分期（新版）");
    expect(model.value.annual_rate).toBe("0.185");
    expect(model.value.penalty.daily_rate).toBe("0.001");
    expect(model.value.amount_max).toBe("20000");
    expect(model.value.name).toBe("按周分期（新版）");
    expect(model.value.allocation_order).toEqual(["penalty", "fee", "interest", "principal"]); // kept
    expect(wrapper.text()).toContain("可选期限（1–104）");
    wrapper.unmount();
  });

  test("a single-payment product repays in one bullet and may allow extension", async () => {
    const { wrapper, model } = mounted();
    await flushPromises();
    expect(wrapper.find('[data-test="f-extension"]').classes()).toContain("is-disabled");
    const single = wrapper.findAll('[data-test="f-type"] input').find((i) => (i.element as HTMLInputElement).value === "single")!;
    await single.setValue(true);
    await flushPromises();
    expect(model.value.type).toBe("single");
    expect(model.value.method).toBe("bullet");
    expect(wrapper.find('[data-test="f-extension"]').classes()).not.toContain("is-disabled");
    const installment = wrapper.findAll('[data-test="f-type"] input').find((i) => (i.element as HTMLInputElement).value === "installment")!;
    await installment.setValue(true);
    await flushPromises();
    expect(model.value.method).toBe("annuity");
    wrapper.unmount();
  });

  test("the field the server named shows its message", async () => {
    const { wrapper } = mounted(week8(), { field: "penalty.daily_rate", message: "应在 0 到 0.01 之间 (PRODUCT_INVALID)" });
    await flushPromises();
    await nextTick();
    const errors = wrapper.findAll(".el-form-item__error");
    expect(errors).toHaveLength(1);
    expect(errors[0].text()).toContain("应在 0 到 0.01 之间");
    wrapper.unmount();
  });
});
