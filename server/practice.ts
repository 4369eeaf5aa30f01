/**
 * Practices: what a therapist opens once with their API key and keeps across sessions. A practice has a display
 * name, an exercise library, and two capability links, both random secrets stored only as SHA-256 hashes:
 *   - the practice link (`/practice/<owner token>`), the therapist's alone, and
 *   - the standing room link (`/wait/<room token>`), given to couples. The room token is derived from the owner
 *     token and the link's version (HMAC), so the server can show it again to the therapist without storing it,
 *     and changing the link (a new version) makes the old one stop working.
 * A partner opening the standing link gives a first name and gets a waiting ticket (another secret, hashed). When
 * the therapist starts a session with two waiting partners, both are admitted at once; the next time each partner's
 * page asks with its ticket, the server issues that seat's token there and then (no token is ever stored, only its
 * hash), and the page enters the session: no new link is handed out.
 *
 * Keys for those partners (docs/privacy.md): the waiting page sends an ECDH public key with its first name; the
 * console wraps each partner's session keys to it and sends the wrapped strings with the start; each is kept with
 * that partner's seat and handed out once, with the token. The server relays public keys and sealed strings only.
 *
 * Audit: every key use, practice opened, link change, session started and seat taken is logged with ids and tags
 * only (never names, exercise text, tokens, public keys or wrapped keys).
 */
import { createHash, createHmac, randomBytes } from "node:crypto";
import express, { type Request, type Response, type Router } from "express";
import { nanoid } from "nanoid";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { type ExerciseDefinition, validateExercise } from "../shared/exercise-format.ts";
import { isPublicKey, isWrappedKeys } from "../shared/key-exchange.ts";
import { ErrorCode, illFormedTextAt, LIMITS } from "../shared/protocol.ts";
import type { ClientAddress } from "./client-address.ts";
import type { Config } from "./config.ts";
import type { AuthGuard } from "./guard.ts";
import type { Logger } from "./log.ts";
import type { SessionService } from "./service.ts";
import { PRACTICE_LIMITS, type PracticeRecord, type PracticeStore, type WaitingPartner } from "./store/practice.ts";
import { bearerToken, hashToken, matchesAnyKey } from "./tokens.ts";

/** How long a partner may wait at the standing link before the wait is forgotten. */
export const WAITING_TTL_MS = 3 * 60 * 60_000;

/**
 * How many waiting places one client address may take at the standing room links in a minute. Two partners on
 * one connection, plus a few retries, fit well inside it; a script filling the waiting list does not.
 */
export const WAITING_TICKETS_PER_MINUTE = 6;

const OWNER_RE = /^o\.([A-Za-z0-9_-]{21})\.[A-Za-z0-9_-]{32}$/;
const ROOM_RE = /^r\.([A-Za-z0-9_-]{21})\.[A-Za-z0-9_-]{32}$/;
const TICKET_RE = /^w\.([A-Za-z0-9_-]{21})\.[A-Za-z0-9_-]{32}$/;

function secret(): string {
  return randomBytes(24).toString("base64url");
}

/** The standing room token of a practice, from its owner token and the link's version. */
export function roomTokenFor(ownerToken: string, practiceId: string, version: number): string {
  const mac = createHmac("sha256", ownerToken).update(`room:${version}`).digest("base64url").slice(0, 32);
  return `r.${practiceId}.${mac}`;
}

/** A short tag of an API key, safe to log and store (8 hex characters of a hash; the key cannot be recovered). */
export function keyTag(key: string): string {
  return createHash("sha256").update(`attune-key:${key}`).digest("hex").slice(0, 8);
}

type Fail = {
  ok: false;
  status: number;
  code: string;
  message: string;
  problems?: { path: string; message: string }[];
};
type Outcome<T> = { ok: true; value: T } | Fail;

const fail = (status: number, code: string, message: string): Fail => ({ ok: false, status, code, message });

/** Cleans a name typed by a person: trimmed, one line, within `max`; undefined when it does not fit. */
function cleanName(value: unknown, max: number): string | undefined {
  if (typeof value !== "string" || illFormedTextAt(value)) return undefined;
  const name = value.replace(/\s+/g, " ").trim();
  return name.length >= 1 && name.length <= max ? name : undefined;
}

export interface PracticeOverview {
  id: string;
  displayName: string;
  roomToken: string;
  exercises: ExerciseDefinition[];
  waiting: { id: string; firstName: string; since: number; started: boolean; publicKey: string | null }[];
}

/** What a waiting partner's page learns when it asks with its ticket. */
export type WaitStatus =
  | { status: "waiting"; practiceName: string }
  | { status: "started"; token: string; seat: "a" | "b"; wrappedKeys?: string };

export class PracticeService {
  readonly #store: PracticeStore;
  readonly #sessions: SessionService;
  readonly #log: Logger;
  readonly #now: () => number;

  constructor(opts: { store: PracticeStore; sessions: SessionService; logger: Logger; now?: () => number }) {
    this.#store = opts.store;
    this.#sessions = opts.sessions;
    this.#log = opts.logger;
    this.#now = opts.now ?? Date.now;
  }

  /** Opens a new practice with a verified API key (tagged, never stored). */
  async open(tag: string, input: unknown): Promise<Outcome<{ id: string; ownerToken: string }>> {
    const name = cleanName((input as { displayName?: unknown } | null)?.displayName, PRACTICE_LIMITS.displayNameMax);
    if (!name) {
      return fail(
        400,
        ErrorCode.INVALID_COMMAND,
        `displayName: give a name of 1 to ${PRACTICE_LIMITS.displayNameMax} characters`,
      );
    }
    const id = nanoid();
    const ownerToken = `o.${id}.${secret()}`;
    const practice: PracticeRecord = {
      id,
      displayName: name,
      createdAt: this.#now(),
      ownerHash: hashToken(ownerToken),
      roomHash: hashToken(roomTokenFor(ownerToken, id, 1)),
      roomVersion: 1,
      keyTag: tag,
    };
    await this.#store.createPractice(practice);
    this.#log.info({ practice: id, key: tag, audit: "practice-opened" }, "practice opened");
    return { ok: true, value: { id, ownerToken } };
  }

  /** The practice of an owner token, or null. */
  async owner(token: string | undefined): Promise<PracticeRecord | null> {
    const id = token ? OWNER_RE.exec(token)?.[1] : undefined;
    if (!id || !token) return null;
    const p = await this.#store.getPractice(id);
    return p && p.ownerHash === hashToken(token) ? p : null;
  }

  async overview(p: PracticeRecord, ownerToken: string): Promise<PracticeOverview> {
    const now = this.#now();
    return {
      id: p.id,
      displayName: p.displayName,
      roomToken: roomTokenFor(ownerToken, p.id, p.roomVersion),
      exercises: await this.#store.listExercises(p.id),
      waiting: (await this.#store.listWaiting(p.id, now)).map((w) => ({
        id: w.id,
        firstName: w.firstName,
        since: w.since,
        started: w.seat !== undefined,
        publicKey: w.publicKey ?? null,
      })),
    };
  }

  async rename(p: PracticeRecord, input: unknown): Promise<Outcome<{ displayName: string }>> {
    const name = cleanName((input as { displayName?: unknown } | null)?.displayName, PRACTICE_LIMITS.displayNameMax);
    if (!name) {
      return fail(
        400,
        ErrorCode.INVALID_COMMAND,
        `displayName: give a name of 1 to ${PRACTICE_LIMITS.displayNameMax} characters`,
      );
    }
    await this.#store.renamePractice(p.id, name);
    this.#log.info({ practice: p.id, audit: "practice-renamed" }, "practice renamed");
    return { ok: true, value: { displayName: name } };
  }

  /** Validates and saves an exercise in the library (same rules as an upload into a session; per-path problems). */
  async saveExercise(p: PracticeRecord, input: unknown): Promise<Outcome<{ id: string; title: string }>> {
    const definition = (input as { definition?: unknown } | null)?.definition;
    const result = validateExercise(definition);
    if (!result.ok) {
      return { ...fail(400, ErrorCode.INVALID_DEFINITION, "the exercise has problems"), problems: result.problems };
    }
    const saved = await this.#store.saveExercise(p.id, result.definition);
    if (saved === "full") {
      return fail(
        409,
        ErrorCode.TOO_MANY_EXERCISES,
        `a library holds at most ${PRACTICE_LIMITS.exercisesMax} exercises`,
      );
    }
    if (saved === "missing") return fail(404, ErrorCode.SESSION_NOT_FOUND, "this practice no longer exists");
    this.#log.info(
      { practice: p.id, exercise: result.definition.id, audit: "library-saved" },
      "library exercise saved",
    );
    return { ok: true, value: { id: result.definition.id, title: result.definition.title } };
  }

  async deleteExercise(p: PracticeRecord, exerciseId: string): Promise<Outcome<{ id: string }>> {
    if (!(await this.#store.deleteExercise(p.id, exerciseId))) {
      return fail(404, ErrorCode.UNKNOWN_EXERCISE, `there is no exercise '${exerciseId}' in your library`);
    }
    this.#log.info({ practice: p.id, exercise: exerciseId, audit: "library-deleted" }, "library exercise deleted");
    return { ok: true, value: { id: exerciseId } };
  }

  /** A new standing room link: the old one stops working at once (partners already waiting keep their place). */
  async changeRoomLink(p: PracticeRecord, ownerToken: string): Promise<{ roomToken: string }> {
    const version = p.roomVersion + 1;
    const roomToken = roomTokenFor(ownerToken, p.id, version);
    await this.#store.changeRoomLink(p.id, hashToken(roomToken), version);
    this.#log.info({ practice: p.id, version, audit: "link-changed" }, "standing room link changed");
    return { roomToken };
  }

  /** The practice a standing room token opens, or null. */
  async room(token: string | undefined): Promise<PracticeRecord | null> {
    const id = token ? ROOM_RE.exec(token)?.[1] : undefined;
    if (!id || !token) return null;
    const p = await this.#store.getPractice(id);
    return p && p.roomHash === hashToken(token) ? p : null;
  }

  /**
   * A partner starts waiting at the standing link (`input` as readWait checked it): they get their ticket (a secret
   * only they hold) and their waiting place's id (which their session's keys will be bound to).
   */
  async wait(p: PracticeRecord, input: WaitRequest): Promise<Outcome<{ ticket: string; waitingId: string }>> {
    const { firstName, publicKey } = input;
    const now = this.#now();
    const ticket = `w.${p.id}.${secret()}`;
    const entry: WaitingPartner = {
      id: nanoid(12),
      firstName,
      since: now,
      expiresAt: now + WAITING_TTL_MS,
      ticketHash: hashToken(ticket),
      ...(publicKey !== undefined ? { publicKey } : {}),
    };
    const added = await this.#store.addWaiting(p.id, entry, now);
    if (added === "full")
      return fail(429, ErrorCode.RATE_LIMITED, "the waiting room is full; please try again shortly");
    if (added === "missing") return fail(404, ErrorCode.SESSION_NOT_FOUND, "this link no longer works");
    this.#log.info(
      { practice: p.id, waiting: entry.id, keyed: entry.publicKey !== undefined, audit: "waiting" },
      "partner waiting at standing link",
    );
    return { ok: true, value: { ticket, waitingId: entry.id } };
  }

  /**
   * Where a waiting partner stands: still waiting, or started (with their seat token and, in an encrypted session,
   * their seat's wrapped keys, both handed out once, opened with their ticket).
   */
  async waitStatus(ticket: string | undefined): Promise<Outcome<WaitStatus>> {
    const id = ticket ? TICKET_RE.exec(ticket)?.[1] : undefined;
    if (!id || !ticket) return fail(401, ErrorCode.TOKEN_UNKNOWN, "this waiting place is not valid");
    const p = await this.#store.getPractice(id);
    const w = p ? await this.#store.findWaiting(id, hashToken(ticket), this.#now()) : null;
    if (!p || !w) return fail(404, ErrorCode.TOKEN_EXPIRED, "this wait has ended; open the link again to wait");
    if (!w.seat) return { ok: true, value: { status: "waiting", practiceName: p.displayName } };
    // The seat goes to one ask only. Two asks at once with this ticket (two tabs, or a slow poll overtaken by the
    // next) would otherwise each be issued a token, the second switching off the first one's.
    if (!(await this.#store.removeWaiting(id, w.id))) {
      return fail(409, ErrorCode.SEAT_TAKEN_OVER, "you joined from another window or tab; carry on there");
    }
    // The seat's token is made now, for this partner's page alone (the one issued at creation was never handed out).
    const issued = await this.#sessions.reissueSeat(
      { sessionId: w.seat.sessionId, seat: "therapist" },
      w.seat.sessionId,
      w.seat.seat,
    );
    if (!issued.ok) return fail(410, ErrorCode.SESSION_NOT_FOUND, "the session you were started into has ended");
    this.#log.info(
      { practice: id, waiting: w.id, session: w.seat.sessionId, seat: w.seat.seat, audit: "seat-taken" },
      "waiting partner took their seat",
    );
    const { seat, wrappedKeys } = w.seat;
    return {
      ok: true,
      value: { status: "started", token: issued.value.token, seat, ...(wrappedKeys ? { wrappedKeys } : {}) },
    };
  }

  /**
   * Starts a therapist-led session with two waiting partners, admits both, and loads the library into it. A typed
   * session is end-to-end encrypted unless `encrypted: false` (as on the home page): the console then sends the
   * names sealed and each partner's keys wrapped to their page's public key (`wrappedKeys: { a, b }`), and both
   * partners must have waited with a public key. Every check runs before anything is created or changed.
   */
  async start(
    p: PracticeRecord,
    input: unknown,
  ): Promise<Outcome<{ sessionId: string; therapistToken: string; expiresAt: number; encrypted: boolean }>> {
    const body = (input ?? {}) as {
      a?: unknown;
      b?: unknown;
      channel?: unknown;
      agenda?: unknown;
      exercises?: unknown;
      encrypted?: unknown;
      names?: unknown;
      wrappedKeys?: unknown;
    };
    if (typeof body.a !== "string" || typeof body.b !== "string" || body.a === body.b) {
      return fail(400, ErrorCode.INVALID_COMMAND, "a, b: choose two different waiting partners");
    }
    if (body.encrypted !== undefined && typeof body.encrypted !== "boolean") {
      return fail(400, ErrorCode.INVALID_COMMAND, "encrypted: give true or false");
    }
    const channel = body.channel ?? "spoken";
    const encrypted = body.encrypted ?? channel === "typed";
    const stored = await this.#store.listExercises(p.id);
    const chosen = chooseLibrary(stored, body.exercises);
    if (!chosen.ok) return chosen;
    const now = this.#now();
    const waiting = await this.#store.listWaiting(p.id, now);
    const a = waiting.find((w) => w.id === body.a && !w.seat);
    const b = waiting.find((w) => w.id === body.b && !w.seat);
    if (!a || !b) return fail(409, ErrorCode.INVALID_COMMAND, "a, b: that partner is no longer waiting");
    const keys = startKeys(encrypted, body, { a, b });
    if (!keys.ok) return keys;
    const created = await this.#sessions.createSession({
      mode: "therapist",
      channel,
      ...(body.agenda !== undefined ? { agenda: body.agenda } : {}),
      // Sealed by the console in an encrypted session (the service refuses names in clear there); otherwise the
      // first names the partners gave while waiting.
      ...(encrypted
        ? body.names !== undefined
          ? { names: body.names }
          : {}
        : { names: { a: a.firstName, b: b.firstName } }),
      encrypted,
      therapistName: p.displayName,
    });
    if (!created.ok) return { ...fail(created.status, created.error.code, created.error.message) };
    const { id, tokens, expiresAt } = created.value;
    const library = chosen.value;
    await this.#load(id, library);
    await this.#sessions.handleCommand(id, "therapist", {
      id: `admit-${nanoid(8)}`,
      command: { type: "admit", partners: ["a", "b"] },
    });
    const keep = Math.min(expiresAt, now + WAITING_TTL_MS);
    const seatOf = (seat: "a" | "b") => ({
      sessionId: id,
      seat,
      ...(keys.value ? { wrappedKeys: keys.value[seat] } : {}),
    });
    await this.#store.seatWaiting(p.id, a.id, seatOf("a"), keep);
    await this.#store.seatWaiting(p.id, b.id, seatOf("b"), keep);
    this.#log.info(
      { practice: p.id, session: id, library: library.length, encrypted, audit: "session-started" },
      "session started from the waiting list",
    );
    return { ok: true, value: { sessionId: id, therapistToken: tokens.therapist!, expiresAt, encrypted } };
  }

  /**
   * Creates a therapist-led session with a link for each partner (for a couple not using the standing link): the
   * practice's name for the waiting room, the chosen library exercises loaded; the partners wait to be admitted.
   */
  async create(
    p: PracticeRecord,
    input: unknown,
  ): Promise<Outcome<{ sessionId: string; tokens: { a: string; b: string; therapist: string }; expiresAt: number }>> {
    const body = (input ?? {}) as {
      names?: unknown;
      channel?: unknown;
      agenda?: unknown;
      exercises?: unknown;
      encrypted?: unknown;
    };
    const chosen = chooseLibrary(await this.#store.listExercises(p.id), body.exercises);
    if (!chosen.ok) return chosen;
    // The console that asks makes the keys (a typed session is encrypted unless it says otherwise, as on the home
    // page): the names arrive sealed and the keys go into the links it hands out, never through here.
    const created = await this.#sessions.createSession({
      mode: "therapist",
      channel: body.channel ?? "spoken",
      ...(body.agenda !== undefined ? { agenda: body.agenda } : {}),
      ...(body.names !== undefined ? { names: body.names } : {}),
      ...(body.encrypted !== undefined ? { encrypted: body.encrypted } : {}),
      therapistName: p.displayName,
    });
    if (!created.ok) return { ...fail(created.status, created.error.code, created.error.message) };
    const { id, tokens, expiresAt } = created.value;
    await this.#load(id, chosen.value);
    this.#log.info(
      { practice: p.id, session: id, library: chosen.value.length, audit: "session-created" },
      "session created from the practice",
    );
    return {
      ok: true,
      value: { sessionId: id, tokens: { a: tokens.a!, b: tokens.b!, therapist: tokens.therapist! }, expiresAt },
    };
  }

  /** Loads library exercises into a new session, as its therapist would upload them. */
  async #load(sessionId: string, library: ExerciseDefinition[]): Promise<void> {
    for (const definition of library) {
      await this.#sessions.handleCommand(sessionId, "therapist", {
        id: `library-${nanoid(8)}`,
        command: { type: "add-exercise", definition },
      });
    }
  }
}

/**
 * The library exercises a session loads: those whose ids are listed in `ids` (in library order), or, when no list
 * is given, the first ones up to the session's limit. Refused: a list that is not of ids, repeats one, names an
 * exercise the library does not hold, or holds more than a session takes.
 */
export function chooseLibrary(library: ExerciseDefinition[], ids: unknown): Outcome<ExerciseDefinition[]> {
  if (ids === undefined) return { ok: true, value: library.slice(0, LIMITS.customExercisesMax) };
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== "string")) {
    return fail(400, ErrorCode.INVALID_COMMAND, "exercises: give a list of exercise ids from your library");
  }
  const wanted = ids as string[];
  if (new Set(wanted).size !== wanted.length) {
    return fail(400, ErrorCode.INVALID_COMMAND, "exercises: each exercise may be chosen once");
  }
  if (wanted.length > LIMITS.customExercisesMax) {
    return fail(
      400,
      ErrorCode.TOO_MANY_EXERCISES,
      `exercises: a session takes at most ${LIMITS.customExercisesMax} exercises from your library`,
    );
  }
  const held = new Set(library.map((d) => d.id));
  const unknown = wanted.findIndex((id) => !held.has(id));
  if (unknown >= 0) {
    return fail(400, ErrorCode.UNKNOWN_EXERCISE, `exercises[${unknown}]: that exercise is not in your library`);
  }
  return { ok: true, value: library.filter((d) => wanted.includes(d.id)) };
}

/** What a partner sends to start waiting: a first name and, from a current page, its ECDH public key. */
export interface WaitRequest {
  firstName: string;
  publicKey?: string;
}

/** Checks a request to wait (before it counts against any limit): a first name, and a public key if one is sent. */
export async function readWait(input: unknown): Promise<Outcome<WaitRequest>> {
  const body = (input ?? {}) as { firstName?: unknown; publicKey?: unknown };
  const firstName = cleanName(body.firstName, LIMITS.nameMax);
  if (!firstName)
    return fail(400, ErrorCode.INVALID_COMMAND, `firstName: give a first name of 1 to ${LIMITS.nameMax} characters`);
  if (body.publicKey === undefined) return { ok: true, value: { firstName } };
  if (!(await isPublicKey(body.publicKey))) {
    return fail(
      400,
      ErrorCode.INVALID_COMMAND,
      "publicKey: this is not a P-256 public key (87 base64url characters, raw form); reload the page and try again",
    );
  }
  return { ok: true, value: { firstName, publicKey: body.publicKey as string } };
}

/**
 * The wrapped keys of a start from the waiting list: both partners', of the right form, when the session is
 * encrypted (and both waited with a public key to wrap them to); none when it is not. `null` when there are none.
 */
function startKeys(
  encrypted: boolean,
  body: { names?: unknown; wrappedKeys?: unknown },
  partners: Record<"a" | "b", WaitingPartner>,
): Outcome<Record<"a" | "b", string> | null> {
  if (!encrypted) {
    if (body.wrappedKeys !== undefined) {
      return fail(400, ErrorCode.INVALID_COMMAND, "wrappedKeys: an unencrypted session takes no keys");
    }
    if (body.names !== undefined) {
      return fail(
        400,
        ErrorCode.INVALID_COMMAND,
        "names: an unencrypted session takes the first names from the waiting list; send names only sealed, with an encrypted session",
      );
    }
    return { ok: true, value: null };
  }
  for (const seat of ["a", "b"] as const) {
    if (!partners[seat].publicKey) {
      return fail(
        409,
        ErrorCode.INVALID_COMMAND,
        `${seat}: that partner waited without a key, so their session cannot be end-to-end encrypted; start it with encrypted: false`,
      );
    }
  }
  const wrapped = body.wrappedKeys as { a?: unknown; b?: unknown } | null | undefined;
  if (!wrapped || typeof wrapped !== "object" || Array.isArray(wrapped)) {
    return fail(
      400,
      ErrorCode.INVALID_COMMAND,
      "wrappedKeys: an encrypted session needs each partner's keys, wrapped to their waiting page ({ a, b })",
    );
  }
  for (const seat of ["a", "b"] as const) {
    if (!isWrappedKeys(wrapped[seat])) {
      return fail(
        400,
        ErrorCode.INVALID_COMMAND,
        `wrappedKeys.${seat}: give that partner's keys wrapped to their waiting page (the x1.… form)`,
      );
    }
  }
  return { ok: true, value: { a: wrapped.a as string, b: wrapped.b as string } };
}

export interface PracticeRouterOptions {
  config: Config;
  practices: PracticeService;
  guard: AuthGuard;
  address: ClientAddress;
  logger: Logger;
}

/** The REST side of practices, mounted under /api (see docs/practice.md). */
export function createPracticeRouter({ config, practices, guard, address, logger }: PracticeRouterOptions): Router {
  const api = express.Router();
  const json = express.json({ limit: "64kb", strict: true });
  const origin = (req: Request) => config.publicOrigin ?? address.origin(req) ?? `${address.protocol(req)}://localhost`;
  const link = (req: Request, path: string, token: string) => `${origin(req)}/${path}/${encodeURIComponent(token)}`;
  const send = <T>(res: Response, out: Outcome<T>, status: number, body: (v: T) => unknown) => {
    if (out.ok) {
      res.status(status).json(body(out.value));
      return;
    }
    res.status(out.status).json({
      error: { code: out.code, message: out.message, ...(out.problems ? { problems: out.problems } : {}) },
    });
  };
  const refuse = (res: Response, status: number, code: string, message: string) =>
    res.status(status).json({ error: { code, message } });
  // Waiting places taken per client address (counted as every other limit counts it, see client-address.ts).
  const tickets = new RateLimiterMemory({ points: WAITING_TICKETS_PER_MINUTE, duration: 60 });

  /** Resolves a Bearer token with `find`, counting failures against the address like any other link. */
  async function authed<T>(
    req: Request,
    res: Response,
    find: (token: string | undefined) => Promise<T | null>,
    missing: string,
  ): Promise<{ value: T; token: string } | undefined> {
    const ip = address.ip(req);
    if (await guard.blocked(ip)) {
      refuse(res, 429, ErrorCode.RATE_LIMITED, "too many invalid links; wait a minute");
      return undefined;
    }
    const token = bearerToken(req.headers.authorization);
    const value = await find(token);
    if (!token || value === null) {
      if (token) await guard.fail(ip);
      refuse(res, 401, token ? ErrorCode.TOKEN_UNKNOWN : ErrorCode.TOKEN_MISSING, missing);
      return undefined;
    }
    return { value, token };
  }

  api.post("/practices", json, async (req, res) => {
    if (config.therapistApiKeys.length === 0) {
      return refuse(
        res,
        403,
        ErrorCode.UNAUTHORIZED,
        "Practices need practice keys, and this server has none set up (THERAPIST_API_KEYS).",
      );
    }
    const ip = address.ip(req);
    if (await guard.blocked(ip)) {
      return refuse(res, 429, ErrorCode.RATE_LIMITED, "Too many wrong practice keys from here; please wait a minute.");
    }
    const key = bearerToken(req.headers.authorization);
    if (!key) return refuse(res, 401, ErrorCode.UNAUTHORIZED, "Enter your practice key to open a practice.");
    if (!matchesAnyKey(key, config.therapistApiKeys)) {
      await guard.fail(ip);
      logger.info({ key: keyTag(key), audit: "key-refused", route: "practices" }, "practice key refused");
      return refuse(res, 401, ErrorCode.UNAUTHORIZED, "That practice key wasn't recognised.");
    }
    const tag = keyTag(key);
    logger.info({ key: tag, audit: "key-used", route: "practices" }, "practice key used");
    const out = await practices.open(tag, req.body);
    if (!out.ok) return send(res, out, 201, () => null);
    const p = await practices.owner(out.value.ownerToken);
    send(res, out, 201, (v) => ({
      id: v.id,
      displayName: p?.displayName,
      links: {
        practice: link(req, "practice", v.ownerToken),
        room: link(req, "wait", roomTokenFor(v.ownerToken, v.id, 1)),
      },
    }));
  });

  const OWNER_MISSING = "Open your practice from its private link.";

  api.get("/practice", async (req, res) => {
    const auth = await authed(req, res, (t) => practices.owner(t), OWNER_MISSING);
    if (!auth) return;
    res.setHeader("Cache-Control", "no-store");
    const o = await practices.overview(auth.value, auth.token);
    const { roomToken, ...rest } = o;
    res.json({ ...rest, roomLink: link(req, "wait", roomToken) });
  });

  api.patch("/practice", json, async (req, res) => {
    const auth = await authed(req, res, (t) => practices.owner(t), OWNER_MISSING);
    if (!auth) return;
    send(res, await practices.rename(auth.value, req.body), 200, (v) => v);
  });

  api.post("/practice/exercises", json, async (req, res) => {
    const auth = await authed(req, res, (t) => practices.owner(t), OWNER_MISSING);
    if (!auth) return;
    send(res, await practices.saveExercise(auth.value, req.body), 200, (v) => v);
  });

  api.delete("/practice/exercises/:exerciseId", async (req, res) => {
    const auth = await authed(req, res, (t) => practices.owner(t), OWNER_MISSING);
    if (!auth) return;
    send(res, await practices.deleteExercise(auth.value, String(req.params.exerciseId)), 200, (v) => v);
  });

  api.post("/practice/room-link", async (req, res) => {
    const auth = await authed(req, res, (t) => practices.owner(t), OWNER_MISSING);
    if (!auth) return;
    const { roomToken } = await practices.changeRoomLink(auth.value, auth.token);
    res.json({ roomLink: link(req, "wait", roomToken) });
  });

  api.post("/practice/sessions", json, async (req, res) => {
    const auth = await authed(req, res, (t) => practices.owner(t), OWNER_MISSING);
    if (!auth) return;
    send(res, await practices.start(auth.value, req.body), 201, (v) => ({
      id: v.sessionId,
      links: { therapist: link(req, "join", v.therapistToken) },
      expiresAt: v.expiresAt,
      encrypted: v.encrypted,
    }));
  });

  api.post("/practice/sessions/with-links", json, async (req, res) => {
    const auth = await authed(req, res, (t) => practices.owner(t), OWNER_MISSING);
    if (!auth) return;
    send(res, await practices.create(auth.value, req.body), 201, (v) => ({
      id: v.sessionId,
      links: {
        a: link(req, "join", v.tokens.a),
        b: link(req, "join", v.tokens.b),
        therapist: link(req, "join", v.tokens.therapist),
      },
      expiresAt: v.expiresAt,
    }));
  });

  const ROOM_MISSING = "This waiting room link is not valid any more; ask your therapist for the current one.";

  api.get("/standing-room", async (req, res) => {
    const auth = await authed(req, res, (t) => practices.room(t), ROOM_MISSING);
    if (!auth) return;
    res.setHeader("Cache-Control", "no-store");
    res.json({ practiceName: auth.value.displayName });
  });

  api.post("/standing-room/wait", json, async (req, res) => {
    const auth = await authed(req, res, (t) => practices.room(t), ROOM_MISSING);
    if (!auth) return;
    // A request refused for its content takes no waiting place and counts against no limit.
    const request = await readWait(req.body);
    if (!request.ok) return send(res, request, 201, () => null);
    try {
      await tickets.consume(address.ip(req));
    } catch (rejected) {
      if (!(rejected instanceof RateLimiterRes)) throw rejected;
      res.setHeader("Retry-After", String(Math.max(1, Math.ceil(rejected.msBeforeNext / 1000))));
      logger.info({ practice: auth.value.id, audit: "waiting-limited" }, "too many waiting places from one address");
      return refuse(
        res,
        429,
        ErrorCode.RATE_LIMITED,
        "Too many tries from here. Please wait a minute, then try again.",
      );
    }
    send(res, await practices.wait(auth.value, request.value), 201, (v) => ({
      ticket: v.ticket,
      waitingId: v.waitingId,
      practiceName: auth.value.displayName,
    }));
  });

  api.get("/standing-room/ticket", async (req, res) => {
    res.setHeader("Cache-Control", "no-store");
    send(res, await practices.waitStatus(bearerToken(req.headers.authorization)), 200, (v) => v);
  });

  return api;
}
