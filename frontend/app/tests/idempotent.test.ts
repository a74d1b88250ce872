import { describe, expect, test } from "vitest";
import { ApiError, createApi } from "@shared/api/client";
import { IdempotencyKeys, newKey, useSubmit } from "@app/lib/idempotent";
import { addYuan } from "@app/lib/format";

/** A server that records the Idempotency-Key of every call and answers from `replies`. */
function server(replies: Array<() => Response>) {
  const seen: string[] = [];
  const api = createApi({
    token: () => "t",
    fetch: async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = input instanceof Request ? input : new Request(String(input), init);
      seen.push(request.headers.get("idempotency-key") ?? "");
      const next = replies.shift();
      if (!next) throw new TypeError("no more replies");
      return next();
    },
  });
  return { api, seen };
}

const json = (status: number, body: unknown) => () => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
const offline = () => {
  throw new TypeError("network down");
};
const repay = { mode: "current_due" as const };

describe("the idempotent request helper", () => {
  test("keys are unique", () => {
    expect(new Set(Array.from({ length: 50 }, newKey)).size).toBe(50);
  });
  test("a retry after a network failure sends the same key; after the answer, a new one", async () => {
    const ok = { request_ref: "W1", amount: "100.00", status: "requested", purpose: "repayment" };
    const { api, seen } = server([offline, json(202, ok), json(202, ok)]);
    const submitter = useSubmit(new IdempotencyKeys());
    const post = (headers: { "Idempotency-Key": string }) =>
      api.unwrap(api.typed.POST("/api/v1/borrower/loans/{loan_id}/repayments", { params: { path: { loan_id: 7 } }, body: repay, headers }));
    await expect(submitter.submit("/loans/7/repayments", repay, post)).rejects.toBeInstanceOf(ApiError);
    expect(submitter.error.value?.code).toBe("NETWORK_ERROR");
    await expect(submitter.submit("/loans/7/repayments", repay, post)).resolves.toEqual(ok);
    await submitter.submit("/loans/7/repayments", repay, post); // a deliberate second payment
    expect(seen[0]).toMatch(/.{8,}/);
    expect(seen[1]).toBe(seen[0]);
    expect(seen[2]).not.toBe(seen[1]);
  });
  test("a 4xx is an answer: the next submission is a new intent; a 5xx may be retried", async () => {
    const refused = { code: "REPAYMENT_EXCEEDS_OWED", message: { "zh-CN": "超过应还", en: "more than owed" } };
    const { api, seen } = server([json(400, refused), json(503, { code: "PROVIDER_UNAVAILABLE", message: { en: "down" } }), json(503, { code: "X", message: { en: "x" } })]);
    const submitter = useSubmit(new IdempotencyKeys());
    const post = (headers: { "Idempotency-Key": string }) => api.request("POST", "/api/v1/borrower/loans/7/repayments", { body: repay, headers });
    await submitter.submit("/loans/7/repayments", repay, post).catch(() => undefined);
    expect(submitter.error.value?.code).toBe("REPAYMENT_EXCEEDS_OWED");
    expect(submitter.error.value?.messages["zh-CN"]).toBe("超过应还");
    await submitter.submit("/loans/7/repayments", repay, post).catch(() => undefined);
    await submitter.submit("/loans/7/repayments", repay, post).catch(() => undefined);
    expect(seen[1]).not.toBe(seen[0]);
    expect(seen[2]).toBe(seen[1]);
  });
  test("another body is another intent", () => {
    const keys = new IdempotencyKeys();
    expect(keys.keyFor("/loans/7/repayments", { mode: "payoff" })).not.toBe(keys.keyFor("/loans/7/repayments", { mode: "current_due" }));
    expect(keys.keyFor("/loans/7/repayments", { mode: "payoff" })).toBe(keys.keyFor("/loans/7/repayments", { mode: "payoff" }));
  });
  test("while one submission is in flight another is refused (never double-submits)", async () => {
    let release: (r: Response) => void = () => undefined;
    const calls: string[] = [];
    const submitter = useSubmit(new IdempotencyKeys());
    const post = (headers: { "Idempotency-Key": string }) => {
      calls.push(headers["Idempotency-Key"]);
      return new Promise<Response>((resolve) => (release = resolve));
    };
    const first = submitter.submit("/applications", { amount: "3000" }, post);
    expect(submitter.busy.value).toBe(true);
    await expect(submitter.submit("/applications", { amount: "3000" }, post)).resolves.toBeUndefined();
    release(new Response("{}"));
    await first;
    expect(calls).toHaveLength(1);
    expect(submitter.busy.value).toBe(false);
  });
});

describe("money in the app", () => {
  test("yuan strings are added exactly", () => {
    expect(addYuan("0.10", "0.20")).toBe("0.30");
    expect(addYuan("52.48", "0.00")).toBe("52.48");
    expect(addYuan("1", "-0.01")).toBe("0.99");
  });
});
