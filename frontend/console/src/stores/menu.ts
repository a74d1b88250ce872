// The sidebar as the server gives it (GET /me → menus): the tree, an index by path with the
// trail of parents (the breadcrumb), the leaves in order, and whether a path is one of them.
// Who sees what is decided on the server only; the console never adds or hides a menu.
import { defineStore } from "pinia";
import { computed } from "vue";
import { useAuth } from "./auth";

export interface MenuItem {
  key: string;
  zh: string;
  en: string;
  path: string;
  icon: string;
  children: MenuItem[];
}

export interface MenuEntry {
  item: MenuItem;
  /** The parents then the item itself, from the top of the tree. */
  trail: MenuItem[];
}

export interface MenuIndex {
  tree: MenuItem[];
  byPath: Map<string, MenuEntry>;
  leaves: MenuItem[];
}

export function indexMenus(tree: MenuItem[] | null | undefined): MenuIndex {
  const byPath = new Map<string, MenuEntry>();
  const leaves: MenuItem[] = [];
  const walk = (items: MenuItem[], parents: MenuItem[]) => {
    for (const item of items) {
      const trail = [...parents, item];
      byPath.set(item.path, { item, trail });
      const children = item.children ?? [];
      if (children.length) walk(children, trail);
      else leaves.push(item);
    }
  };
  walk(tree ?? [], []);
  return { tree: tree ?? [], byPath, leaves };
}

/** The menu path that grants `path`: itself, or the nearest leaf it lies under
 * ("/loans/12" is granted by "/loans"). Null when none does. */
export function grantingPath(index: MenuIndex, path: string): string | null {
  const leafPaths = new Set(index.leaves.map((leaf) => leaf.path));
  let candidate = path.replace(/\/+$/, "") || "/";
  while (candidate) {
    if (leafPaths.has(candidate)) return candidate;
    const cut = candidate.lastIndexOf("/");
    if (cut <= 0) break;
    candidate = candidate.slice(0, cut);
  }
  return null;
}

/** Every leaf path, in sidebar order (what a test compares with the server's /me). */
export function leafPaths(tree: MenuItem[] | null | undefined): string[] {
  return indexMenus(tree).leaves.map((leaf) => leaf.path);
}

export const useMenus = defineStore("menus", () => {
  const auth = useAuth();
  const index = computed(() => indexMenus((auth.me?.menus as MenuItem[] | undefined) ?? []));
  const tree = computed(() => index.value.tree);
  const home = computed(() => index.value.leaves[0]?.path ?? null);

  function allows(path: string): boolean {
    return grantingPath(index.value, path) !== null;
  }
  function trail(path: string): MenuItem[] {
    const granted = grantingPath(index.value, path);
    return granted ? (index.value.byPath.get(granted)?.trail ?? []) : [];
  }
  function find(path: string): MenuItem | null {
    return index.value.byPath.get(path)?.item ?? null;
  }
  return { index, tree, home, allows, trail, find };
});
