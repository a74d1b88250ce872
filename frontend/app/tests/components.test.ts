import { mount } from "@vue/test-utils";
import { describe, expect, test } from "vitest";
import { Icon, Step, Steps } from "vant";
import { ApiError } from "@shared/api/client";
import ErrorBlock from "@app/components/ErrorBlock.vue";
import StepsBar from "@app/components/StepsBar.vue";
import { i18n, setLocale } from "@app/i18n";

const global = { plugins: [i18n], components: { VanIcon: Icon, VanSteps: Steps, VanStep: Step } };

describe("the error block", () => {
  test("shows the server's message in the current language, its code and the request id", async () => {
    setLocale("zh-CN");
    const error = new ApiError(429, { code: "OTP_TOO_SOON", message: { "zh-CN": "请 60 秒后再获取验证码", en: "Wait 60 s before asking again" }, request_id: "req-9" });
    const wrapper = mount(ErrorBlock, { props: { error }, global });
    expect(wrapper.text()).toContain("请 60 秒后再获取验证码");
    expect(wrapper.get('[data-test="error-code"]').text()).toBe("OTP_TOO_SOON");
    expect(wrapper.text()).toContain("req-9");
    setLocale("en");
    await wrapper.vm.$nextTick();
    expect(wrapper.text()).toContain("Wait 60 s before asking again");
    setLocale("zh-CN");
  });
  test("shows nothing without an error", () => {
    expect(mount(ErrorBlock, { props: { error: null }, global }).find('[data-test="error"]').exists()).toBe(false);
  });
});

describe("the onboarding steps", () => {
  test("five steps, the current one active and those before it finished", () => {
    const wrapper = mount(StepsBar, { props: { step: "card" }, global });
    const steps = wrapper.findAll(".van-step");
    expect(steps.map((s) => s.text())).toEqual(["实名", "联系人", "绑卡", "申请", "签约"]);
    expect(steps[2].classes()).toContain("van-step--process");
    expect(steps[0].classes()).toContain("van-step--finish");
    expect(steps[3].classes()).not.toContain("van-step--finish");
  });
});
