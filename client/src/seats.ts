/**
 * Where this tab keeps its seat links. Tokens live in sessionStorage only (gone when the tab closes), one key per
 * seat, so a reload resumes the same seats and two partner links opened in one tab make a shared device.
 */
import type { Seat } from "../../shared/protocol.ts";

const SESSION_KEY = "attune.session";
const PENDING_KEY = "attune.pending";
const SEAT_KEYS: Record<Seat, string> = { a: "attune.seat.a", b: "attune.seat.b", therapist: "attune.seat.therapist" };
const SEAT_ORDER: Seat[] = ["a", "b", "therapist"];

function storage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    // Storage can be blocked by privacy settings: the room still works, it just cannot survive a reload.
    return null;
  }
}

/** Reads the token out of a `/join/<token>` path, or null. */
export function tokenFromPath(pathname: string): string | null {
  const match = /^\/join\/([A-Za-z0-9_.~-]{10,128})\/?$/.exec(pathname);
  return match?.[1] ?? null;
}

/** The earliest plausible expiry hint: a link cut short in its last part decodes to a time long past. */
const HINT_MIN_MS = Date.UTC(2024, 0, 1);

/**
 * What is wrong with a `/join/...` path, if anything: "incomplete" for a session link cut short (copied in part),
 * "garbage" for something that is not a session link at all; null for a complete-looking link or another path.
 */
export function joinLinkProblem(pathname: string): "incomplete" | "garbage" | null {
  const rest = /^\/join\/?(.*)$/.exec(pathname)?.[1];
  if (rest === undefined) return null;
  const token = decodeURIComponent(rest).replace(/\/$/, "");
  const full = /^([A-Za-z0-9_-]{21})\.([A-Za-z0-9_-]{21})\.([a-z0-9]+)$/.exec(token);
  if (full) return Number.parseInt(full[3]!, 36) < HINT_MIN_MS ? "incomplete" : null;
  // The start of a real link: a session id, then perhaps part of the rest.
  if (/^[A-Za-z0-9_-]{21}(\.[A-Za-z0-9_-]{0,21}(\.[a-z0-9]*)?)?$/.test(token)) return "incomplete";
  return "garbage";
}

/** Reads the token out of a full join link (as returned when a session is created). */
export function tokenFromLink(link: string): string | null {
  try {
    return tokenFromPath(new URL(link).pathname);
  } catch {
    return null;
  }
}

/** Keeps a just-opened link until its first snapshot tells which seat and session it belongs to. */
export function storePending(token: string): void {
  storage()?.setItem(PENDING_KEY, token);
}

export function pendingToken(): string | null {
  return storage()?.getItem(PENDING_KEY) ?? null;
}

/** The tokens this tab holds, pending first (a freshly opened link), then by seat. */
export function storedTokens(): string[] {
  const s = storage();
  if (!s) return [];
  const tokens: string[] = [];
  const pending = s.getItem(PENDING_KEY);
  if (pending) tokens.push(pending);
  for (const seat of SEAT_ORDER) {
    const token = s.getItem(SEAT_KEYS[seat]);
    if (token && !tokens.includes(token)) tokens.push(token);
  }
  return tokens;
}

/**
 * Records that `token` opens `seat` of `sessionId`. Seats of another session are forgotten (a tab follows one
 * session at a time); returns the tokens that were dropped so their connections can be closed.
 */
export function rememberSeat(sessionId: string, seat: Seat, token: string): string[] {
  const s = storage();
  if (!s) return [];
  const dropped: string[] = [];
  if (s.getItem(SESSION_KEY) !== sessionId) {
    for (const other of SEAT_ORDER) {
      const old = s.getItem(SEAT_KEYS[other]);
      if (old && old !== token) dropped.push(old);
      s.removeItem(SEAT_KEYS[other]);
    }
    s.setItem(SESSION_KEY, sessionId);
  }
  const previous = s.getItem(SEAT_KEYS[seat]);
  if (previous && previous !== token) dropped.push(previous);
  s.setItem(SEAT_KEYS[seat], token);
  if (s.getItem(PENDING_KEY) === token) s.removeItem(PENDING_KEY);
  return dropped;
}

/** Stores both partner links of a new session at once (the "we're on one device" choice). */
export function rememberBothPartners(sessionId: string, a: string, b: string): void {
  const s = storage();
  if (!s) return;
  forgetAll();
  s.setItem(SESSION_KEY, sessionId);
  s.setItem(SEAT_KEYS.a, a);
  s.setItem(SEAT_KEYS.b, b);
}

/** Forgets one token (its link stopped working). */
export function forgetToken(token: string): void {
  const s = storage();
  if (!s) return;
  if (s.getItem(PENDING_KEY) === token) s.removeItem(PENDING_KEY);
  for (const seat of SEAT_ORDER) if (s.getItem(SEAT_KEYS[seat]) === token) s.removeItem(SEAT_KEYS[seat]);
}

/** Forgets every seat of this tab. */
export function forgetAll(): void {
  const s = storage();
  if (!s) return;
  s.removeItem(SESSION_KEY);
  s.removeItem(PENDING_KEY);
  for (const seat of SEAT_ORDER) s.removeItem(SEAT_KEYS[seat]);
}

/** The token this tab holds for `seat` of its session, if any (for the few REST calls a seat makes). */
export function storedSeatToken(seat: Seat): string | null {
  return storage()?.getItem(SEAT_KEYS[seat]) ?? null;
}
