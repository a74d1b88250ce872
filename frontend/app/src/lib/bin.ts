// The bank of a card number by its BIN (the server's table, POST /cards/bin), as it is
// typed; the answers are remembered by prefix for the page's life.
import { api, type Schemas } from "./api";
import { newKey } from "./idempotent";

const seen = new Map<string, Schemas["BinLookup"]>();

/** The server's lookup of these digits (6–19), or null when it could not answer. */
export async function lookupBin(digits: string): Promise<Schemas["BinLookup"] | null> {
  const cached = seen.get(digits);
  if (cached) return cached;
  try {
    const found = await api.unwrap(api.typed.POST("/api/v1/borrower/cards/bin", { body: { card_number: digits }, headers: { "Idempotency-Key": newKey() } }));
    seen.set(digits, found);
    return found;
  } catch {
    return null;
  }
}
