import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { createPinia, setActivePinia } from "pinia";
import { beforeEach, describe, expect, test } from "vitest";
import { PAGES } from "@/router";
import { useAuth, type Me } from "@/stores/auth";
import { grantingPath, indexMenus, leafPaths, useMenus, type MenuItem } from "@/stores/menu";
import { nextAfterClose } from "@/stores/tabs";

const m = (key: string, path: string, children: MenuItem[] = []): MenuItem => ({ key, zh: key, en: key, path, icon: "Menu", children });
const TREE: MenuItem[] = [
  m("overview", "/overview"),
  m("approval", "/approval", [m("approvals", "/approvals"), m("review", "/review")]),
  m("loans", "/loans"),
  m("system", "/system", [m("staff", "/system/staff")]),
];

describe("the menu index", () => {
  test("leaves in sidebar order, parents with their trail", () => {
    const index = indexMenus(TREE);
    expect(index.leaves.map((l) => l.path)).toEqual(["/overview", "/approvals", "/review", "/loans", "/system/staff"]);
    expect(index.byPath.get("/review")?.trail.map((t) => t.key)).toEqual(["approval", "review"]);
    expect(leafPaths(TREE)).toEqual(index.leaves.map((l) => l.path));
  });
  test("a detail page is granted by the leaf it lies under, nothing else", () => {
    const index = indexMenus(TREE);
    expect(grantingPath(index, "/loans/42")).toBe("/loans");
    expect(grantingPath(index, "/review/7")).toBe("/review");
    expect(grantingPath(index, "/system/staff")).toBe("/system/staff");
    expect(grantingPath(index, "/system")).toBeNull(); // a parent opens nothing
    expect(grantingPath(index, "/borrowers/1")).toBeNull();
    expect(grantingPath(index, "/loansx")).toBeNull();
  });
});

describe("the menu store follows /me", () => {
  beforeEach(() => {
    sessionStorage.clear();
    setActivePinia(createPinia());
  });
  test("no session, no menus; then exactly the server's", () => {
    const menus = useMenus();
    expect(menus.tree).toEqual([]);
    expect(menus.home).toBeNull();
    const auth = useAuth();
    auth.me = { id: 1, username: "u", role: "risk", role_zh: "风控", role_en: "Risk", channel: null, permissions: ["loans.read"], totp_active: false, business_date: "2026-03-01", menus: TREE } as unknown as Me;
    expect(menus.home).toBe("/overview");
    expect(menus.allows("/loans/3")).toBe(true);
    expect(menus.allows("/borrowers")).toBe(false);
    expect(menus.trail("/loans/3").map((t) => t.key)).toEqual(["loans"]);
    expect(auth.can("loans.read")).toBe(true);
    expect(auth.can("staff.manage")).toBe(false);
  });
});

describe("every menu of the server has a page", () => {
  test("each leaf path of security/menus.py is a console route", () => {
    const menus = JSON.parse(readFileSync(resolve(__dirname, "../../shared/src/api/menus.json"), "utf8")) as Array<{ path: string; leaf: boolean }>;
    const routes = new Set(PAGES.map((r) => `/${r.path}`));
    expect(menus.filter((x) => x.leaf && !routes.has(x.path)).map((x) => x.path)).toEqual([]);
    expect(menus.filter((x) => x.leaf).length).toBeGreaterThan(10);
  });
});

describe("tabs", () => {
  const tabs = [{ path: "/a", menu: "/a" }, { path: "/b", menu: "/b" }, { path: "/c", menu: "/c" }];
  test("closing the active tab shows its right neighbour, else the left", () => {
    expect(nextAfterClose(tabs, "/b", "/b")).toBe("/c");
    expect(nextAfterClose(tabs, "/c", "/c")).toBe("/b");
    expect(nextAfterClose(tabs, "/a", "/c")).toBe("/c");
    expect(nextAfterClose([{ path: "/a", menu: "/a" }], "/a", "/a")).toBeNull();
  });
});
