// A page's title: its menu's label (from the server), or the i18n key of a page that is not
// a menu (a loan's detail …) with the record's id after it.
import { label, type Locale } from "@shared/i18n";
import type { Tab } from "@/stores/tabs";
import type { MenuItem } from "@/stores/menu";

export function tabTitle(
  tab: Tab,
  locale: Locale,
  find: (path: string) => MenuItem | null,
  t: (key: string) => string,
): string {
  const own = find(tab.path.split("?")[0]);
  const base = tab.titleKey ? t(tab.titleKey) : own ? label(own, locale) : (() => {
    const menu = find(tab.menu);
    return menu ? label(menu, locale) : tab.path;
  })();
  return tab.suffix ? `${base} ${tab.suffix}` : base;
}
