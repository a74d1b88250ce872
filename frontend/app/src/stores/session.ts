// The borrower's session: the token (kept on the phone until sign-out or a 401), the masked
// profile, and the business date (营业日) the server runs on, for the age check as typed.
import { defineStore } from "pinia";
import { computed, ref } from "vue";
import { api, BORROWER, onUnauthorized, TOKEN_KEY, storedToken, type Schemas } from "../lib/api";

export const BORROWER_KEY = "xindai.app.borrower";

function remember(key: string, value: string | null): void {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    /* private mode: the session lasts as long as the page */
  }
}

export const useSession = defineStore("session", () => {
  const token = ref<string | null>(storedToken());
  const borrowerId = ref<number | null>(Number(localStorage.getItem(BORROWER_KEY)) || null);
  const profile = ref<Schemas["Profile"] | null>(null);
  const businessDate = ref<string | null>(null);
  /** The number typed at login, in memory only (a contact may not be the borrower). */
  const ownPhone = ref<string | null>(null);
  const signedIn = computed(() => Boolean(token.value));

  function start(session: Schemas["BorrowerSession"]): void {
    token.value = session.token;
    borrowerId.value = session.borrower_id;
    remember(TOKEN_KEY, session.token);
    remember(BORROWER_KEY, String(session.borrower_id));
  }

  function forget(): void {
    token.value = null;
    profile.value = null;
    ownPhone.value = null;
    remember(TOKEN_KEY, null);
  }

  async function loadProfile(): Promise<Schemas["Profile"]> {
    profile.value = await api.unwrap(api.typed.GET("/api/v1/borrower/me"));
    return profile.value;
  }

  async function loadBusinessDate(): Promise<string | null> {
    if (businessDate.value) return businessDate.value;
    try {
      const health = await api.request<{ business_date: string }>("GET", "/health");
      businessDate.value = health.business_date;
    } catch {
      businessDate.value = null;
    }
    return businessDate.value;
  }

  /** Sign out on the server (the token stops working), then here. */
  async function signOut(): Promise<void> {
    try {
      if (token.value) await api.request("POST", `${BORROWER}/auth/logout`);
    } finally {
      forget();
    }
  }

  return { token, borrowerId, profile, businessDate, ownPhone, signedIn, start, forget, loadProfile, loadBusinessDate, signOut };
});

/** A 401 ends the session (set up once at start, with the router's redirect). */
export function endSessionOn401(go: () => void): void {
  onUnauthorized(() => {
    useSession().forget();
    go();
  });
}
