/**
 * Test helpers for practices and their waiting list: one REST call (bearer token, JSON both ways), the token at the
 * end of a link, and what the console does for a typed start from the waiting list (each partner's key fragment
 * wrapped to their page's public key, bound to their waiting place and seat).
 */
import { wrapSeatKeys } from "../../shared/key-exchange.ts";
import { keyFragmentFor, type SessionKeys } from "../../shared/session-crypto.ts";

export async function api(url: string, method: string, path: string, token?: string, body?: unknown) {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${url}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  // biome-ignore lint/suspicious/noExplicitAny: the test reads whatever the server answered, field by field.
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

/** The token a link ends with (`…/practice/<token>`, `…/wait/<token>`, `…/join/<token>`). */
export const tokenIn = (link: string) => decodeURIComponent(new URL(link).pathname.split("/").pop()!);

/** A waiting partner as the console sees them: the key their page sent, and their entry's id. */
export interface WaitingSeat {
  publicKey: string;
  waitingId: string;
}

/** Each seat's fragment (`k=…&pa=…`, `k=…&pb=…`) wrapped to the partner waiting for it: `wrappedKeys: { a, b }`. */
export async function wrapForSeats(keys: SessionKeys, to: { a: WaitingSeat; b: WaitingSeat }) {
  return {
    a: await wrapSeatKeys(to.a.publicKey, keyFragmentFor(keys, "a", "therapist"), {
      waitingId: to.a.waitingId,
      seat: "a",
    }),
    b: await wrapSeatKeys(to.b.publicKey, keyFragmentFor(keys, "b", "therapist"), {
      waitingId: to.b.waitingId,
      seat: "b",
    }),
  };
}
