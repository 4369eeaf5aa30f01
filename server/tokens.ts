/**
 * Capability tokens for seat links. A token is the session id, a dot, a 21-character nanoid (126 random bits),
 * a dot, and the session's first expiry time in base 36. The session id and the expiry hint are not secret and
 * grant nothing: the id tells the store where to look (so a lookup touches that session's keys alone, one Redis
 * Cluster slot), and the hint lets the handshake tell "this link expired" from "this link never existed" once the
 * store has forgotten both. Only the SHA-256 hash of the whole token is stored.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { nanoid } from "nanoid";

const TOKEN_RE = /^([A-Za-z0-9_-]{21})\.[A-Za-z0-9_-]{21}\.[0-9a-z]{1,11}$/;

/** A fresh seat token of session `sessionId` whose session expires (at the earliest) at `expiresAt` ms. */
export function newToken(sessionId: string, expiresAt: number): string {
  return `${sessionId}.${nanoid()}.${Math.max(0, Math.floor(expiresAt)).toString(36)}`;
}

/** The session a well-formed token names (undefined when malformed). */
export function tokenSession(token: string): string | undefined {
  return TOKEN_RE.exec(token)?.[1];
}

/** True when `token` has the shape of one of our tokens (anything else is refused without a store lookup). */
export function isWellFormedToken(token: unknown): token is string {
  return typeof token === "string" && TOKEN_RE.test(token);
}

/** The earliest moment the token's session could expire, from its hint (undefined when malformed). */
export function tokenExpiryHint(token: string): number | undefined {
  if (!isWellFormedToken(token)) return undefined;
  const hint = token.slice(token.lastIndexOf(".") + 1);
  const at = Number.parseInt(hint, 36);
  return Number.isSafeInteger(at) ? at : undefined;
}

/** SHA-256 hex of a token: the only form in which a token is stored. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** Compares two secrets in constant time (hashing first so lengths never leak through timing). */
export function secretsEqual(a: string, b: string): boolean {
  const ha = createHash("sha256").update(a, "utf8").digest();
  const hb = createHash("sha256").update(b, "utf8").digest();
  return timingSafeEqual(ha, hb);
}

/** True when `presented` equals one of `keys`; every key is compared so the match position does not leak. */
export function matchesAnyKey(presented: string, keys: readonly string[]): boolean {
  let found = false;
  for (const key of keys) {
    if (secretsEqual(presented, key)) found = true;
  }
  return found;
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: unknown): string | undefined {
  if (typeof header !== "string") return undefined;
  const match = /^Bearer[ ]+([^\s]{1,512})\s*$/i.exec(header);
  return match?.[1];
}
