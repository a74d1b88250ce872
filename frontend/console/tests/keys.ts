// The i18n keys the console's sources name literally: t("…"), $t("…"), and the keys that
// column, filter and option definitions carry (label: "…", titleKey, create-label, search).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const PATTERNS = [
  /\$?\bt\(\s*["'`]([a-zA-Z][\w]*(?:\.[\w]+)+)["'`]/g,
  /\$te\(\s*["'`]([a-zA-Z][\w]*(?:\.[\w]+)+)["'`]/g,
  /\blabel:\s*["']([a-z][\w]*(?:\.[\w]+)+)["']/g,
  /\btitleKey:\s*["']([a-z][\w]*(?:\.[\w]+)+)["']/g,
  /\bplaceholder:\s*["']([a-z][\w]*(?:\.[\w]+)+)["']/g,
  /\b(?:create-label|search)="([a-z][\w]*(?:\.[\w]+)+)"/g,
  /\b(?:askReason|confirm|done)\(\s*["']([a-z][\w]*(?:\.[\w]+)+)["']/g,
];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name: string) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return /\.(vue|ts)$/.test(name) && !name.endsWith(".d.ts") && name !== "permissions.ts" ? [path] : [];
  });
}

/** `namespaces`: the top-level keys of the messages; any quoted "<namespace>.<key>" counts too
 * (keys chosen in a ternary, passed to a helper …). */
export function usedKeys(root: string, namespaces: string[] = []): Map<string, string> {
  const found = new Map<string, string>();
  const broad = namespaces.length ? new RegExp(`["'\`]((?:${namespaces.join("|")})(?:\\.[\\w-]+)+)["'\`]`, "g") : null;
  const patterns = broad ? [...PATTERNS, broad] : PATTERNS;
  for (const file of files(root)) {
    const text = readFileSync(file, "utf8");
    for (const pattern of patterns) {
      for (const match of text.matchAll(pattern)) {
        if (/^(https?|element-plus|vue|node)\./.test(match[1])) continue;
        // a permission code, not a message: can("loans.read"), permission: "loans.read"
        const before = text.slice(Math.max(0, (match.index ?? 0) - 16), match.index);
        if (/(can\(|permission:\s*)$/.test(before)) continue;
        // a bound attribute's expression (:data="config.items"), not a key
        if (pattern === broad && /=$/.test(before)) continue;
        if (!found.has(match[1])) found.set(match[1], file);
      }
    }
  }
  return found;
}
