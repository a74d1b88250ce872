// The console's one API client (shared/api/client): the staff session's bearer token on every
// call; a 401 on a call made with a token ends the session and returns to the login page.
import { ApiError, createApi } from "@shared/api/client";

export const TOKEN_KEY = "xindai.console.token";

let unauthorized: (error: ApiError) => void = () => undefined;

/** The session's end on a 401 is handled by the auth store (set once at start). */
export function onUnauthorized(handler: (error: ApiError) => void): void {
  unauthorized = handler;
}

export function storedToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export const api = createApi({
  token: storedToken,
  onUnauthorized: (error) => unauthorized(error),
});

export const ADMIN = "/api/v1/admin";
export { ApiError };
