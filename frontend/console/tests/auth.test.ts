import { createPinia, setActivePinia } from "pinia";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { TOKEN_KEY } from "@/lib/api";
import { useAuth } from "@/stores/auth";

interface Call {
  method: string;
  path: string;
  authorization: string | null;
}

function serve(status: number, body?: unknown): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal("fetch", async (input: RequestInfo | URL, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    calls.push({ method: init?.method ?? "GET", path: new URL(String(input), "http://console.test").pathname, authorization: headers.get("Authorization") });
    if (status === 0) throw new TypeError("network down");
    return new Response(body === undefined ? null : JSON.stringify(body), { status, headers: body === undefined ? {} : { "content-type": "application/json" } });
  });
  return calls;
}

beforeEach(() => {
  sessionStorage.clear();
  sessionStorage.setItem(TOKEN_KEY, "tok-123");
  setActivePinia(createPinia());
});
afterEach(() => vi.unstubAllGlobals());

describe("signOut", () => {
  test("asks the server to revoke the token, then forgets it", async () => {
    const calls = serve(204);
    const auth = useAuth();
    expect(auth.token).toBe("tok-123");
    await auth.signOut();
    expect(calls).toEqual([{ method: "POST", path: "/api/v1/admin/auth/logout", authorization: "Bearer tok-123" }]);
    expect(auth.token).toBeNull();
    expect(sessionStorage.getItem(TOKEN_KEY)).toBeNull();
    expect(auth.endedBecause).toBeNull();
  });

  test("ends the session here even when the server refuses the token or cannot be reached", async () => {
    for (const status of [401, 0]) {
      sessionStorage.setItem(TOKEN_KEY, "tok-123");
      setActivePinia(createPinia());
      const calls = serve(status, status ? { code: "AUTH_REQUIRED", message: { "zh-CN": "请登录", en: "Sign in" } } : undefined);
      const auth = useAuth();
      await auth.signOut();
      expect(calls).toHaveLength(1);
      expect(auth.token).toBeNull();
      expect(auth.endedBecause).toBeNull(); // signing out is not a session that "ended"
    }
  });

  test("without a token nothing is sent", async () => {
    sessionStorage.clear();
    setActivePinia(createPinia());
    const calls = serve(204);
    const auth = useAuth();
    await auth.signOut();
    expect(calls).toEqual([]);
  });
});
