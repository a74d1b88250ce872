// What the user chose on this browser: the language and whether the sidebar is folded.
import { defineStore } from "pinia";
import { ref, watch } from "vue";
import { DEFAULT_LOCALE, isLocale, type Locale } from "@shared/i18n";
import { i18n } from "@/i18n";

const LOCALE_KEY = "xindai.console.locale";
const COLLAPSED_KEY = "xindai.console.sidebar";

function read(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    /* private mode: the choice lasts for this page */
  }
}

export function initialLocale(): Locale {
  const saved = read(LOCALE_KEY);
  return isLocale(saved) ? saved : DEFAULT_LOCALE;
}

export const usePrefs = defineStore("prefs", () => {
  const locale = ref<Locale>(initialLocale());
  const collapsed = ref(read(COLLAPSED_KEY) === "1");
  /** The sidebar drawer on a phone (not remembered). */
  const drawerOpen = ref(false);

  watch(
    locale,
    (value) => {
      i18n.global.locale.value = value;
      write(LOCALE_KEY, value);
    },
    { immediate: true },
  );
  watch(collapsed, (value) => write(COLLAPSED_KEY, value ? "1" : "0"));

  function setLocale(value: Locale): void {
    locale.value = value;
  }
  function toggleSidebar(): void {
    collapsed.value = !collapsed.value;
  }
  return { locale, collapsed, drawerOpen, setLocale, toggleSidebar };
});
