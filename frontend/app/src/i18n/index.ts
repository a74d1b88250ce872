// The app's languages: zh-CN first, English by a switch on 我的 (remembered on the phone).
// Switching changes the app's texts, Vant's own (buttons of dialogs, pickers) and <html lang>.
import { Locale as VantLocale } from "vant";
import enUS from "vant/es/locale/lang/en-US";
import zhCNVant from "vant/es/locale/lang/zh-CN";
import { createI18n } from "vue-i18n";
import { DEFAULT_LOCALE, isLocale, type Locale } from "@shared/i18n";
import en from "./en";
import zhCN from "./zh-CN";

export const messages = { "zh-CN": zhCN, en };
export const LOCALE_KEY = "xindai.app.locale";

function initial(): Locale {
  try {
    const saved = localStorage.getItem(LOCALE_KEY);
    if (isLocale(saved)) return saved;
  } catch {
    /* no storage */
  }
  return DEFAULT_LOCALE;
}

export const i18n = createI18n({
  legacy: false,
  locale: initial(),
  fallbackLocale: "zh-CN",
  messages,
  missingWarn: false,
  fallbackWarn: false,
});

/** The current locale. */
export function currentLocale(): Locale {
  const value = i18n.global.locale.value;
  return isLocale(value) ? value : DEFAULT_LOCALE;
}

/** Switch the app (and Vant, and the page's lang) to `locale`, and remember it. */
export function setLocale(locale: Locale): void {
  i18n.global.locale.value = locale;
  if (locale === "en") VantLocale.use("en-US", enUS);
  else VantLocale.use("zh-CN", zhCNVant);
  if (typeof document !== "undefined") document.documentElement.lang = locale;
  try {
    localStorage.setItem(LOCALE_KEY, locale);
  } catch {
    /* not kept */
  }
}

setLocale(initial());
