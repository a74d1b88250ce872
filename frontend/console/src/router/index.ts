// Routes: the login page, and the layout with one page per menu path of the server's menu
// tree (security/menus.py) plus the detail pages under them; each page its own chunk.
// A page opens only when the signed-in member's menus grant its path.
import { createRouter, createWebHistory, type RouteRecordRaw } from "vue-router";
import { useAuth } from "@/stores/auth";
import { useMenus } from "@/stores/menu";
import { ApiError } from "@/lib/api";

declare module "vue-router" {
  interface RouteMeta {
    /** Open without a session. */
    public?: boolean;
    /** Title of a page that is not a menu itself (an i18n key). */
    titleKey?: string;
    /** The route parameter shown after the title in its tab. */
    suffixParam?: string;
    /** A page of a menu: opens only when the menus grant its path. */
    page?: boolean;
  }
}

/** The pages, by the menu path that opens them. */
const pages: RouteRecordRaw[] = [
  { path: "overview", component: () => import("@/views/overview/OverviewPage.vue") },
  { path: "borrowers", component: () => import("@/views/borrowers/BorrowersPage.vue") },
  {
    path: "borrowers/:id(\\d+)",
    component: () => import("@/views/borrowers/BorrowerDetail.vue"),
    meta: { titleKey: "page.borrowerDetail", suffixParam: "id" },
  },
  { path: "applications", component: () => import("@/views/applications/ApplicationsPage.vue") },
  { path: "approvals", component: () => import("@/views/approvals/ApprovalsPage.vue") },
  { path: "review", component: () => import("@/views/review/ReviewQueue.vue") },
  {
    path: "review/:id(\\d+)",
    component: () => import("@/views/review/ReviewWorkbench.vue"),
    meta: { titleKey: "page.reviewWorkbench", suffixParam: "id" },
  },
  { path: "payouts", component: () => import("@/views/payouts/PayoutsPage.vue") },
  { path: "loans", component: () => import("@/views/loans/LoansPage.vue") },
  {
    path: "loans/:id(\\d+)",
    component: () => import("@/views/loans/LoanDetail.vue"),
    meta: { titleKey: "page.loanDetail", suffixParam: "id" },
  },
  { path: "repayments", component: () => import("@/views/repayments/RepaymentsPage.vue") },
  { path: "overdue", component: () => import("@/views/overdue/OverduePage.vue") },
  { path: "collections/workbench", component: () => import("@/views/collections/WorkbenchPage.vue") },
  {
    path: "collections/workbench/:id(\\d+)",
    component: () => import("@/views/collections/CaseDetail.vue"),
    meta: { titleKey: "page.collectionCase", suffixParam: "id" },
  },
  { path: "collections/cases", component: () => import("@/views/collections/CasesPage.vue") },
  {
    path: "collections/cases/:id(\\d+)",
    component: () => import("@/views/collections/CaseDetail.vue"),
    meta: { titleKey: "page.collectionCase", suffixParam: "id" },
  },
  { path: "collections/warnings", component: () => import("@/views/collections/WarningsPage.vue") },
  { path: "collections/queues", component: () => import("@/views/collections/QueuesPage.vue") },
  { path: "collections/agencies", component: () => import("@/views/collections/AgenciesPage.vue") },
  { path: "collections/strategies", component: () => import("@/views/collections/CollectionStrategiesPage.vue") },
  { path: "collections/guardrails", component: () => import("@/views/collections/GuardrailsPage.vue") },
  { path: "collections/reminders", component: () => import("@/views/collections/RemindersPage.vue") },
  { path: "collections/load", component: () => import("@/views/collections/LoadPage.vue") },
  { path: "collections/kpis", component: () => import("@/views/collections/KpisPage.vue") },
  { path: "products", component: () => import("@/views/products/ProductsPage.vue") },
  { path: "strategies", component: () => import("@/views/strategies/StrategiesPage.vue") },
  { path: "blacklist", component: () => import("@/views/blacklist/BlacklistPage.vue") },
  { path: "credit-lines", component: () => import("@/views/credit/CreditLinesPage.vue") },
  { path: "sms", component: () => import("@/views/sms/SmsPage.vue") },
  { path: "finance", component: () => import("@/views/finance/FinancePage.vue") },
  { path: "cob", component: () => import("@/views/cob/CobPage.vue") },
  { path: "system/staff", component: () => import("@/views/system/StaffPage.vue") },
  { path: "system/roles", component: () => import("@/views/system/RolesPage.vue") },
  { path: "system/audit", component: () => import("@/views/system/AuditPage.vue") },
  { path: "system/config", component: () => import("@/views/system/ConfigPage.vue") },
  { path: "system/totp", component: () => import("@/views/system/TotpPage.vue") },
];

export const PAGES: RouteRecordRaw[] = pages.map((r) => ({ ...r, meta: { ...r.meta, page: true } }));

const routes: RouteRecordRaw[] = [
  { path: "/login", component: () => import("@/views/LoginPage.vue"), meta: { public: true } },
  {
    path: "/",
    component: () => import("@/layout/AppLayout.vue"),
    children: [
      { path: "", component: () => import("@/views/HomeRedirect.vue"), meta: { titleKey: "page.home" } },
      ...PAGES,
      {
        path: "forbidden",
        component: () => import("@/views/ForbiddenPage.vue"),
        meta: { titleKey: "page.forbidden" },
      },
      {
        path: ":rest(.*)*",
        component: () => import("@/views/NotFoundPage.vue"),
        meta: { titleKey: "page.notFound" },
      },
    ],
  },
];

export const router = createRouter({
  history: createWebHistory("/admin/"),
  routes,
  scrollBehavior: () => ({ top: 0 }),
});

router.beforeEach(async (to) => {
  const auth = useAuth();
  if (to.meta.public) return true;
  if (!auth.token) return { path: "/login", query: to.fullPath !== "/" ? { redirect: to.fullPath } : {} };
  if (!auth.me) {
    try {
      await auth.loadMe();
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        return { path: "/login", query: { redirect: to.fullPath } };
      }
      throw error;
    }
  }
  if (to.meta.page && !useMenus().allows(to.path)) {
    return { path: "/forbidden", query: { from: to.fullPath } };
  }
  return true;
});
