// The app's one API client (shared/api/client): the borrower's bearer token on every call;
// a 401 on a call made with a token ends the session and returns to the login page.
import { ApiError, createApi, type Schemas } from "@shared/api/client";

export const TOKEN_KEY = "xindai.app.token";
export const BORROWER = "/api/v1/borrower";

let unauthorized: (error: ApiError) => void = () => undefined;

/** What a 401 does (set once by the session store). */
export function onUnauthorized(handler: (error: ApiError) => void): void {
  unauthorized = handler;
}

export function storedToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export const api = createApi({
  token: storedToken,
  onUnauthorized: (error) => unauthorized(error),
});

export { ApiError };
export type { Schemas };
