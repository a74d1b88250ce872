// i18n helpers shared by the console and the app: the two locales, picking a server message
// in the current one, and comparing two message trees key for key.

export const LOCALES = ["zh-CN", "en"] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = "zh-CN";

/** A message the server sends in both languages: {"zh-CN": "…", "en": "…"}. */
export type Localized = { "zh-CN"?: string; en?: string };

export function isLocale(value: unknown): value is Locale {
  return typeof value === "string" && (LOCALES as readonly string[]).includes(value);
}

/** The text of `message` in `locale`, else in the other language, else the string itself. */
export function pick(message: Localized | string | null | undefined, locale: Locale): string {
  if (!message) return "";
  if (typeof message === "string") return message;
  return message[locale] ?? message[locale === "en" ? "zh-CN" : "en"] ?? "";
}

/** A menu or label with `zh` and `en` (as the server's menus are). */
export function label(item: { zh?: string; en?: string }, locale: Locale): string {
  return (locale === "en" ? item.en || item.zh : item.zh || item.en) ?? "";
}

export type MessageTree = { [key: string]: string | MessageTree };

/** Every leaf key of a message tree, dotted: {a: {b: "x"}} → ["a.b"]. */
export function flattenKeys(tree: MessageTree, prefix = ""): string[] {
  return Object.entries(tree).flatMap(([key, value]) =>
    typeof value === "string" ? [prefix + key] : flattenKeys(value, `${prefix}${key}.`),
  );
}

/** Keys one tree has that the other lacks, both ways, and leaves left empty. */
export function compareTrees(a: MessageTree, b: MessageTree): { onlyA: string[]; onlyB: string[] } {
  const ka = new Set(flattenKeys(a));
  const kb = new Set(flattenKeys(b));
  return {
    onlyA: [...ka].filter((k) => !kb.has(k)).sort(),
    onlyB: [...kb].filter((k) => !ka.has(k)).sort(),
  };
}

/** Leaves whose text is empty (a translation forgotten). */
export function emptyLeaves(tree: MessageTree, prefix = ""): string[] {
  return Object.entries(tree).flatMap(([key, value]) =>
    typeof value === "string"
      ? value.trim() === ""
        ? [prefix + key]
        : []
      : emptyLeaves(value, `${prefix}${key}.`),
  );
}
