import { createI18n } from "vue-i18n";
import { DEFAULT_LOCALE } from "@shared/i18n";
import en from "./en";
import zhCN from "./zh-CN";

export const messages = { "zh-CN": zhCN, en };

export const i18n = createI18n({
  legacy: false,
  locale: DEFAULT_LOCALE,
  fallbackLocale: "zh-CN",
  messages,
  missingWarn: false,
  fallbackWarn: false,
});
