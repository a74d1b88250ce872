// The tabs of open pages (多标签页): one per page opened, the first menu page fixed; closing
// the active tab goes to its neighbour. Kept in sessionStorage across reloads.
import { defineStore } from "pinia";
import { ref, watch } from "vue";

export interface Tab {
  /** The full path with its query: the tab's identity. */
  path: string;
  /** The menu path the page belongs to (its title comes from the menu). */
  menu: string;
  /** An i18n key for pages that are not menus themselves (a loan's detail …). */
  titleKey?: string;
  /** A value shown after the title (the record's id). */
  suffix?: string;
}

const KEY = "xindai.console.tabs";

function restore(): Tab[] {
  try {
    const parsed: unknown = JSON.parse(sessionStorage.getItem(KEY) ?? "[]");
    return Array.isArray(parsed) ? (parsed as Tab[]).filter((t) => typeof t?.path === "string") : [];
  } catch {
    return [];
  }
}

/** Where to go when `closing` is closed out of `tabs` while `active` is shown. */
export function nextAfterClose(tabs: Tab[], closing: string, active: string): string | null {
  if (closing !== active) return active;
  const at = tabs.findIndex((t) => t.path === closing);
  const rest = tabs.filter((t) => t.path !== closing);
  if (!rest.length) return null;
  return (rest[at] ?? rest[at - 1] ?? rest[rest.length - 1]).path;
}

export const useTabs = defineStore("tabs", () => {
  const tabs = ref<Tab[]>(restore());
  const affix = ref<string | null>(null);

  watch(
    tabs,
    (value) => {
      try {
        sessionStorage.setItem(KEY, JSON.stringify(value));
      } catch {
        /* not kept */
      }
    },
    { deep: true },
  );

  function open(tab: Tab): void {
    const found = tabs.value.find((t) => t.path === tab.path);
    if (found) Object.assign(found, tab);
    else tabs.value.push(tab);
  }
  function setAffix(path: string | null, menu?: string): void {
    affix.value = path;
    if (path && menu && !tabs.value.some((t) => t.path === path)) tabs.value.unshift({ path, menu });
  }
  /** Close a tab; returns the path to show next (null: none left). */
  function close(path: string, active: string): string | null {
    if (path === affix.value) return active;
    const next = nextAfterClose(tabs.value, path, active);
    tabs.value = tabs.value.filter((t) => t.path !== path);
    return next;
  }
  function closeOthers(path: string): void {
    tabs.value = tabs.value.filter((t) => t.path === path || t.path === affix.value);
  }
  function closeAll(): void {
    tabs.value = tabs.value.filter((t) => t.path === affix.value);
  }
  /** Keep only the tabs whose menu the signed-in member still has. */
  function keep(allowed: (menu: string) => boolean): void {
    tabs.value = tabs.value.filter((t) => allowed(t.menu));
  }
  function reset(): void {
    tabs.value = [];
    affix.value = null;
  }
  return { tabs, affix, open, setAffix, close, closeOthers, closeAll, keep, reset };
});
