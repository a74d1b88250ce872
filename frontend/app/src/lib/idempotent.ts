// Submitting without submitting twice: every POST the app makes carries an Idempotency-Key
// it generated. The key belongs to one intent (the path and the body): a retry of the same
// intent after a network failure or a 5xx sends the same key, so the server answers the
// first attempt's result instead of charging a card twice; once the server has answered
// (success or a 4xx), the intent is done and the next submission gets a new key. While a
// submission is in flight, another one is refused (the button shows a spinner).
import { ref, type Ref } from "vue";
import { ApiError } from "@shared/api/client";

/** A fresh key: a UUID where the browser has one, else time and random digits. */
export function newKey(): string {
  const c = globalThis.crypto as Crypto | undefined;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  return `k-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

function intentOf(path: string, body: unknown): string {
  return `${path}\n${JSON.stringify(body ?? null)}`;
}

/** Whether an attempt may have reached the server without us hearing its answer. */
export function retryable(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 0 || error.status >= 500);
}

export class IdempotencyKeys {
  private pending = new Map<string, string>();

  /** The key for this intent: the one of an unanswered earlier attempt, else a new one. */
  keyFor(path: string, body: unknown): string {
    const intent = intentOf(path, body);
    let key = this.pending.get(intent);
    if (!key) {
      key = newKey();
      this.pending.set(intent, key);
    }
    return key;
  }

  /** The server answered this intent: the next submission is a new one. */
  settle(path: string, body: unknown): void {
    this.pending.delete(intentOf(path, body));
  }
}

export const keys = new IdempotencyKeys();

export type Post<T> = (headers: { "Idempotency-Key": string }) => Promise<T>;

export interface Submitter {
  busy: Ref<boolean>;
  error: Ref<ApiError | null>;
  /** Run `post` with the intent's key unless a submission is in flight (then: undefined). */
  submit<T>(path: string, body: unknown, post: Post<T>): Promise<T | undefined>;
}

/** A submit button's state: busy while one request is in flight, the last error kept. */
export function useSubmit(store: IdempotencyKeys = keys): Submitter {
  const busy = ref(false);
  const error = ref<ApiError | null>(null);
  async function submit<T>(path: string, body: unknown, post: Post<T>): Promise<T | undefined> {
    if (busy.value) return undefined;
    busy.value = true;
    error.value = null;
    try {
      const result = await post({ "Idempotency-Key": store.keyFor(path, body) });
      store.settle(path, body);
      return result;
    } catch (cause) {
      if (!retryable(cause)) store.settle(path, body);
      error.value = cause instanceof ApiError ? cause : new ApiError(0, null);
      throw error.value;
    } finally {
      busy.value = false;
    }
  }
  return { busy, error, submit };
}
