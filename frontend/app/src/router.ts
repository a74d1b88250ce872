// The app's pages; history mode under /app/ (the server answers index.html for any of them).
// Every page but the login needs a session; the bottom tab bar shows on the four tabs.
import { createRouter, createWebHistory, type RouteRecordRaw } from "vue-router";
import { useSession } from "./stores/session";
import HomePage from "./views/HomePage.vue";
import LoginPage from "./views/LoginPage.vue";

export const routes: RouteRecordRaw[] = [
  { path: "/login", component: LoginPage, meta: { public: true, title: "login.title" } },
  { path: "/", component: HomePage, meta: { tab: "home", title: "tabs.home" } },
  { path: "/borrow", component: () => import("./views/BorrowPage.vue"), meta: { tab: "borrow", title: "tabs.borrow" } },
  { path: "/repay", component: () => import("./views/RepayPage.vue"), meta: { tab: "repay", title: "tabs.repay" } },
  { path: "/mine", component: () => import("./views/MinePage.vue"), meta: { tab: "mine", title: "tabs.mine" } },
  { path: "/onboarding/kyc", component: () => import("./views/KycPage.vue"), meta: { title: "kyc.title" } },
  { path: "/onboarding/contacts", component: () => import("./views/ContactsPage.vue"), meta: { title: "contacts.title" } },
  { path: "/onboarding/card", component: () => import("./views/CardPage.vue"), meta: { title: "card.title" } },
  { path: "/applications/:id(\\d+)", component: () => import("./views/ApplicationPage.vue"), meta: { title: "apply.applicationTitle" } },
  { path: "/mine/loans/:id(\\d+)", component: () => import("./views/LoanPage.vue"), meta: { title: "loan.titleShort" } },
  { path: "/mine/messages", component: () => import("./views/MessagesPage.vue"), meta: { title: "mine.messages" } },
  { path: "/:rest(.*)*", redirect: "/" },
];

export const router = createRouter({
  history: createWebHistory("/app/"),
  routes,
  scrollBehavior: () => ({ top: 0 }),
});

router.beforeEach((to) => {
  const session = useSession();
  if (!to.meta.public && !session.signedIn) return { path: "/login", query: to.fullPath !== "/" ? { redirect: to.fullPath } : {} };
  if (to.path === "/login" && session.signedIn) return { path: "/" };
  return true;
});
