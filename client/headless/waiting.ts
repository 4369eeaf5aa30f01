/**
 * A practice's waiting room, headless: what a partner's waiting page does, for scripts, bots and load runs.
 *
 * `waitAt` waits at a standing room link (`<origin>/wait/<room token>`) with a first name and, unless told not to,
 * a P-256 public key made here (its private half never leaves this process). `takeSeat` then asks with the ticket
 * until the therapist starts the session, opens the seat's keys when the session is end-to-end encrypted, and joins
 * it as a Participant. The same rules as the page hold: the seat is handed out once, and wrapped keys that do not
 * open are an error, never a reason to join without them.
 */
import { generateWaitingKeyPair, privacyCode, unwrapSeatKeys, type WaitingKeyPair } from "../../shared/key-exchange.ts";
import { hasConversationKey, readKeyFragment } from "../../shared/session-crypto.ts";
import { type JoinOptions, Participant } from "./participant.ts";

export interface WaitOptions {
  /** Wait without a public key (as an older page would): the therapist's console then starts the session unencrypted. */
  withoutKey?: boolean;
}

export interface SeatOptions extends JoinOptions {
  /** How often to ask whether the session started (ms, default 500; the page asks every 2 s). */
  pollMs?: number;
  /** How long to wait for the therapist to start the session before giving up (ms, default 60,000). */
  waitTimeoutMs?: number;
}

type Answer<T> = { ok: true; value: T } | { ok: false; status: number; message: string };

async function ask<T>(origin: string, method: "GET" | "POST", path: string, token: string, body?: object) {
  const res = await fetch(`${origin}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const json = (await res.json().catch(() => null)) as { error?: { message?: unknown } } | null;
  if (res.ok) return { ok: true, value: json as T } satisfies Answer<T>;
  const message = typeof json?.error?.message === "string" ? json.error.message : `HTTP ${res.status}`;
  return { ok: false, status: res.status, message } satisfies Answer<T>;
}

/** Splits a standing room link into the origin and the room token. */
export function parseRoomLink(link: string): { origin: string; room: string } {
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    throw new Error("not a waiting room link: expected <origin>/wait/<room token>");
  }
  const match = /\/wait\/([^/?#]+)\/?$/.exec(url.pathname);
  if (!match?.[1]) throw new Error("not a waiting room link: expected <origin>/wait/<room token>");
  return { origin: url.origin, room: decodeURIComponent(match[1]) };
}

type TicketAnswer =
  | { status: "waiting"; practiceName: string }
  | { status: "started"; token: string; seat: "a" | "b"; wrappedKeys?: string };

/** One partner in a practice's waiting room. */
export class WaitingPartner {
  readonly origin: string;
  /** The entry's id as the therapist's waiting list shows it. */
  readonly waitingId: string;
  readonly practiceName: string;
  /** The code of this partner's public key (what the console shows beside them), or null when waiting without one. */
  readonly privacyCode: string | null;
  readonly #ticket: string;
  readonly #pair: WaitingKeyPair | null;

  private constructor(
    origin: string,
    answer: { ticket: string; waitingId: string; practiceName: string },
    pair: WaitingKeyPair | null,
    code: string | null,
  ) {
    this.origin = origin;
    this.waitingId = answer.waitingId;
    this.practiceName = answer.practiceName;
    this.#ticket = answer.ticket;
    this.#pair = pair;
    this.privacyCode = code;
  }

  /** Waits at a standing room link. Rejects with the server's words when the link or the name is refused. */
  static async waitAt(roomLink: string, firstName: string, opts: WaitOptions = {}): Promise<WaitingPartner> {
    const { origin, room } = parseRoomLink(roomLink);
    const pair = opts.withoutKey ? null : await generateWaitingKeyPair();
    const out = await ask<{ ticket: string; waitingId: string; practiceName: string }>(
      origin,
      "POST",
      "/api/standing-room/wait",
      room,
      { firstName, ...(pair ? { publicKey: pair.publicKey } : {}) },
    );
    if (!out.ok) throw new Error(`cannot wait here (${out.status}): ${out.message}`);
    return new WaitingPartner(origin, out.value, pair, pair ? await privacyCode(pair.publicKey) : null);
  }

  /**
   * Asks until the session starts, then joins the seat it was given (with its keys, in an encrypted session).
   * Rejects when the wait ends without a seat, when the seat's keys do not open, or after `waitTimeoutMs`.
   */
  async takeSeat(opts: SeatOptions = {}): Promise<Participant> {
    const { pollMs = 500, waitTimeoutMs = 60_000, ...join } = opts;
    const end = Date.now() + waitTimeoutMs;
    for (;;) {
      const out = await ask<TicketAnswer>(this.origin, "GET", "/api/standing-room/ticket", this.#ticket);
      if (!out.ok) throw new Error(`the wait ended without a seat (${out.status}): ${out.message}`);
      if (out.value.status === "started") return this.#join(out.value, join);
      if (Date.now() + pollMs > end) throw new Error(`no session started within ${waitTimeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  async #join(started: Extract<TicketAnswer, { status: "started" }>, opts: JoinOptions): Promise<Participant> {
    const link = `${this.origin}/join/${encodeURIComponent(started.token)}`;
    if (started.wrappedKeys === undefined) return Participant.join(link, opts);
    if (!this.#pair) throw new Error("the session is encrypted, but this partner waited without a key to open it");
    const fragment = await unwrapSeatKeys(this.#pair, started.wrappedKeys, {
      waitingId: this.waitingId,
      seat: started.seat,
    });
    if (!hasConversationKey(await readKeyFragment(fragment))) {
      throw new Error("the keys handed to this seat hold no conversation key");
    }
    return Participant.join(`${link}#${fragment}`, opts);
  }
}
