// The staff session: the token (this browser tab's sessionStorage), who is signed in
// (GET /me), signing in with a password and, when the account has one, a TOTP code, and
// signing out (the server revokes the token).
import { defineStore } from "pinia";
import { computed, ref } from "vue";
import type { Schemas } from "@shared/api/client";
import { api, ADMIN, ApiError, onUnauthorized, storedToken, TOKEN_KEY } from "@/lib/api";

export type Me = Schemas["Me"];

export const useAuth = defineStore("auth", () => {
  const token = ref<string | null>(storedToken());
  const me = ref<Me | null>(null);
  /** Why the last session ended, shown on the login page (e.g. it expired). */
  const endedBecause = ref<ApiError | null>(null);

  function setToken(value: string | null): void {
    token.value = value;
    try {
      if (value) sessionStorage.setItem(TOKEN_KEY, value);
      else sessionStorage.removeItem(TOKEN_KEY);
    } catch {
      /* storage unavailable: the session lasts for this page */
    }
  }

  /** Sign in; an `ApiError` with code TOTP_REQUIRED asks for the code, LOGIN_LOCKED waits. */
  async function login(username: string, password: string, totp?: string): Promise<Me> {
    const body: Schemas["StaffLoginIn"] = { username, password };
    if (totp) body.totp = totp;
    const session = await api.unwrap(api.typed.POST("/api/v1/admin/auth/login", { body }));
    setToken(session.token);
    endedBecause.value = null;
    return loadMe();
  }

  async function loadMe(): Promise<Me> {
    const value = await api.request<Me>("GET", `${ADMIN}/me`);
    me.value = value;
    return value;
  }

  function logout(reason: ApiError | null = null): void {
    setToken(null);
    me.value = null;
    endedBecause.value = reason;
  }

  /** Sign out: the server revokes the token first (POST /auth/logout), so a copy of it no
   *  longer works; the session here ends whatever the server answers (an expired token or
   *  no network must not keep anyone signed in). */
  async function signOut(): Promise<void> {
    if (token.value) {
      try {
        await api.request<void>("POST", `${ADMIN}/auth/logout`);
      } catch {
        /* already ended on the server, or unreachable: end it here all the same */
      }
    }
    logout();
  }

  const permissions = computed(() => new Set<string>(me.value?.permissions ?? []));
  function can(permission: string): boolean {
    return permissions.value.has(permission);
  }

  onUnauthorized((error) => {
    if (token.value) logout(error);
  });

  return { token, me, endedBecause, login, loadMe, logout, signOut, can, permissions };
});
