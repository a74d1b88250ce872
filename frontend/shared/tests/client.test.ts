import { describe, expect, test } from "vitest";
import { ApiError, createApi, filenameOf, queryString } from "../src/api/client";

describe("the API client", () => {
  test("query strings leave out empty values and repeat arrays", () => {
    expect(queryString({ page: 1, q: "", status: null, x: undefined, kind: ["a", "b"], ok: true })).toBe("?page=1&kind=a&kind=b&ok=true");
    expect(queryString({})).toBe("");
  });
  test("an error body becomes an ApiError with the server's code and both messages", async () => {
    const body = { code: "TOTP_REQUIRED", message: { "zh-CN": "需要动态口令", en: "A one-time code is needed" }, request_id: "r-1" };
    const api = createApi({
      token: () => null,
      fetch: async () => new Response(JSON.stringify(body), { status: 401, headers: { "content-type": "application/json" } }),
    });
    const error = await api.request("POST", "/api/v1/admin/auth/login", { body: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe("TOTP_REQUIRED");
    expect((error as ApiError).messages["zh-CN"]).toBe("需要动态口令");
    expect((error as ApiError).requestId).toBe("r-1");
  });
  test("a typed call's error carries the server's code too (TOTP_REQUIRED at sign-in)", async () => {
    const body = { code: "TOTP_REQUIRED", message: { "zh-CN": "需要动态口令", en: "A one-time code is needed" } };
    const api = createApi({
      token: () => null,
      fetch: async () => new Response(JSON.stringify(body), { status: 401, headers: { "content-type": "application/json", "x-request-id": "r-2" } }),
    });
    const error = (await api
      .unwrap(api.typed.POST("/api/v1/admin/auth/login", { body: { username: "u", password: "p" } }))
      .catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe("TOTP_REQUIRED");
    expect(error.requestId).toBe("r-2");
  });
  test("a 401 with a token ends the session; without one it does not", async () => {
    let ended = 0;
    let token: string | null = "t";
    const seen: string[] = [];
    const api = createApi({
      token: () => token,
      onUnauthorized: () => ended++,
      fetch: async (_input, init) => {
        seen.push(new Headers(init?.headers).get("authorization") ?? "");
        return new Response(JSON.stringify({ code: "UNAUTHENTICATED", message: { en: "x" } }), { status: 401 });
      },
    });
    await api.request("GET", "/api/v1/admin/me").catch(() => undefined);
    token = null;
    await api.request("GET", "/api/v1/admin/me").catch(() => undefined);
    expect(ended).toBe(1);
    expect(seen).toEqual(["Bearer t", ""]);
  });
  test("no server: NETWORK_ERROR in both languages", async () => {
    const api = createApi({ token: () => null, fetch: async () => Promise.reject(new TypeError("failed")) });
    const error = (await api.request("GET", "/x").catch((e: unknown) => e)) as ApiError;
    expect(error.code).toBe("NETWORK_ERROR");
    expect(error.messages.en).toMatch(/server/);
    expect(error.messages["zh-CN"]).toMatch(/服务器/);
  });
  test("file names from Content-Disposition", () => {
    expect(filenameOf("attachment; filename*=UTF-8''%E5%80%9F%E6%8D%AE.xlsx")).toBe("借据.xlsx");
    expect(filenameOf('attachment; filename="loans.xlsx"')).toBe("loans.xlsx");
    expect(filenameOf(null)).toBeNull();
  });
});
