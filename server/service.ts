/**
 * The session service: everything between the pure engine and the transport. It loads and stores sessions,
 * applies commands with an optimistic compare-and-set (retrying on conflict), dedupes retried command ids,
 * keeps presence in step with live sockets, fires step timers, and fans results out through an outbox.
 * It never sees a socket or a request: rejected input comes back as a returned error, never a throw.
 */
import { nanoid } from "nanoid";
import { z } from "zod";
import { CATALOGUE, findExercise } from "../shared/catalogue/index.ts";
import { apply, createSession, eventsFor, nextDeadline, viewFor } from "../shared/engine.ts";
import {
  type CommandAck,
  CommandEnvelopeSchema,
  type CommandError,
  COMMAND_TYPES,
  type CreateSessionRequest,
  CreateSessionSchema,
  type EngineEvent,
  ErrorCode,
  type Seat,
  SEATS,
  type ServerToClientEvents,
  type SessionState,
  type SessionView,
  type SystemCommand,
} from "../shared/protocol.ts";
import type { Logger } from "./log.ts";
import type { SeatLink, SessionRecord, SessionStore } from "./store/types.ts";
import { hashToken, isWellFormedToken, newToken, tokenExpiryHint } from "./tokens.ts";

/** How the service reaches live sockets, wherever they are connected (this process or another). */
export interface Outbox {
  /**
   * Sends each seat's sockets on this process their own `update`. `render` is called only for seats with a
   * socket here, so an absent seat costs no view.
   */
  updateLocal(sessionId: string, seats: readonly Seat[], render: (seat: Seat) => SeatUpdate): void;
  /** Tells the other processes, if any, of a stored commit (each updates its own sockets: acceptCommit). */
  shareCommit(commit: Commit): void;
  /** Tells every live socket of a seat (or of the whole session when seat is null) why, then disconnects it. */
  dismiss(sessionId: string, seat: Seat | null, notice: CommandError): void;
  /** Whether a seat has at least one live socket. */
  seatConnected(sessionId: string, seat: Seat): Promise<boolean>;
}

/** A record just stored, with what the engine reported and when: what other processes need to follow it. */
export interface Commit {
  record: SessionRecord;
  events: EngineEvent[];
  at: number;
}

/** The payload of an `update` event. */
export type SeatUpdate = Parameters<ServerToClientEvents["update"]>[0];

/** What a SessionService is built from. */
export interface SessionServiceOptions {
  store: SessionStore;
  outbox: Outbox;
  logger: Logger;
  ttlMs: number;
  /** Clock in ms (injectable for tests). */
  now?: () => number;
  /** How many sessions' last known records the service keeps (least recently used dropped first). */
  cacheSize?: number;
}

/** A field-level refusal of REST input. */
export interface InputError extends CommandError {
  field?: string;
}

/** A service answer to REST input: the value, or the refusal with its HTTP status. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: InputError; status: number };

/** Who presented a valid token: a seat of one session. */
export interface SeatIdentity {
  sessionId: string;
  seat: Seat;
}

/** A stored new session with the raw tokens of its seats (returned once, never stored). */
export interface CreatedSession {
  id: string;
  tokens: Partial<Record<Seat, string>>;
  expiresAt: number;
}

/** What handling one `command` event produced. */
export interface CommandOutcome {
  ack: CommandAck;
  /** The sender should get a fresh snapshot (its view was behind when the command was refused). */
  resync: boolean;
  /** The command type, when the envelope named a known one (for logs). */
  type?: string;
}

/** How many acks of recent command ids a session keeps for dedupe. */
export const RECENT_COMMANDS = 100;
/** Sessions whose last known record a service keeps by default. */
export const DEFAULT_CACHE_SIZE = 10_000;
/** Compare-and-set attempts before a command gives up as busy. */
const MAX_ATTEMPTS = 20;
/** Presence reconcile passes (each re-reads the live sockets after writing). */
const PRESENCE_PASSES = 5;
/** Node may fire a timer a millisecond early; a time-up before the deadline would only be refused. */
const TIMER_SLACK_MS = 5;
const MAX_TIMER_MS = 2 ** 31 - 1;

const DEFAULT_AGENDA = ["check-in", "intentional-dialogue"];

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** "agenda[2]" / "names.a" from a zod issue path. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

function zodInputError(error: z.ZodError): InputError {
  const issue = error.issues[0];
  if (!issue) return { code: ErrorCode.INVALID_COMMAND, message: "invalid input" };
  let field = fieldPath(issue.path);
  if (issue.code === "unrecognized_keys" && issue.keys.length > 0) {
    field = fieldPath([...issue.path, issue.keys[0]!]);
    return { code: ErrorCode.INVALID_COMMAND, message: `unknown field '${field}'`, field };
  }
  const tooLong = issue.code === "too_big" && issue.origin === "string";
  return {
    code: tooLong ? ErrorCode.TEXT_TOO_LONG : ErrorCode.INVALID_COMMAND,
    message: field ? `${field}: ${issue.message}` : issue.message,
    field: field || undefined,
  };
}

/** Seats that exist in a session of this mode. */
export function seatsOf(state: Pick<SessionState, "mode">): Seat[] {
  return state.mode === "therapist" ? [...SEATS] : ["a", "b"];
}

interface Timer {
  handle: ReturnType<typeof setTimeout>;
  at: number;
}

/** The session service (one per process). */
export class SessionService {
  readonly #store: SessionStore;
  readonly #outbox: Outbox;
  readonly #log: Logger;
  readonly #ttlMs: number;
  readonly #now: () => number;
  /** Local sockets per session: timers run only for sessions this process serves. */
  readonly #served = new Map<string, number>();
  readonly #timers = new Map<string, Timer>();
  /**
   * The last record this process stored or loaded per session, in least-recently-used order. A command is
   * applied to it and compare-and-set directly (one round trip); a stale entry only costs a conflict, which
   * answers the current record. Never trusted for a refusal or a snapshot: those read the store.
   */
  readonly #cache = new Map<string, SessionRecord>();
  readonly #cacheSize: number;
  #closed = false;

  constructor(options: SessionServiceOptions) {
    this.#store = options.store;
    this.#outbox = options.outbox;
    this.#log = options.logger;
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
    this.#cacheSize = Math.max(0, options.cacheSize ?? DEFAULT_CACHE_SIZE);
  }

  /** The catalogue as listed by GET /api/exercises. */
  catalogue(): { id: string; title: string; summary: string; intro?: string; cycles?: number; modes?: string[] }[] {
    return CATALOGUE.map((e) => ({
      id: e.id,
      title: e.title,
      summary: e.summary,
      ...(e.intro ? { intro: e.intro } : {}),
      ...(e.cycles ? { cycles: e.cycles } : {}),
      ...(e.modes ? { modes: [...e.modes] } : {}),
    }));
  }

  /** Validates a creation request and stores the new session with one fresh token per seat. */
  async createSession(input: unknown): Promise<Result<CreatedSession>> {
    if (input === null || typeof input !== "object" || Array.isArray(input)) {
      return {
        ok: false,
        status: 400,
        error: { code: ErrorCode.INVALID_COMMAND, message: "the body must be a JSON object", field: "body" },
      };
    }
    const parsed = CreateSessionSchema.safeParse(input);
    if (!parsed.success) return { ok: false, status: 400, error: zodInputError(parsed.error) };
    const req: CreateSessionRequest = parsed.data;
    const agenda = req.agenda ?? DEFAULT_AGENDA;
    for (const [i, id] of agenda.entries()) {
      const exercise = findExercise(id);
      if (!exercise) {
        return {
          ok: false,
          status: 400,
          error: { code: ErrorCode.UNKNOWN_EXERCISE, message: `unknown exercise '${id}'`, field: `agenda[${i}]` },
        };
      }
      if (exercise.modes && !exercise.modes.includes(req.mode)) {
        return {
          ok: false,
          status: 400,
          error: {
            code: ErrorCode.NOT_IN_MODE,
            message: `exercise '${id}' does not run in ${req.mode} mode`,
            field: `agenda[${i}]`,
          },
        };
      }
    }
    const now = this.#now();
    const id = nanoid();
    const names = Object.fromEntries(Object.entries(req.names ?? {}).filter(([, v]) => v !== undefined));
    const state = createSession({ id, mode: req.mode, channel: req.channel, agenda, names, createdAt: now });
    const expiresAt = now + this.#ttlMs;
    const tokens: Partial<Record<Seat, string>> = {};
    const links: SeatLink[] = [];
    for (const seat of seatsOf(state)) {
      const token = newToken(expiresAt);
      tokens[seat] = token;
      links.push({ seat, tokenHash: hashToken(token) });
    }
    await this.#store.create({ state, recentCommands: [] }, links, this.#ttlMs);
    this.#log.info({ session: id, mode: req.mode, channel: req.channel, agenda: agenda.length }, "session created");
    return { ok: true, value: { id, tokens, expiresAt } };
  }

  /**
   * Resolves a presented token to its seat. Codes: TOKEN_MISSING, TOKEN_UNKNOWN (never issued, or erased),
   * TOKEN_EXPIRED (its session expired), TOKEN_REVOKED, SESSION_NOT_FOUND (erased while resolving).
   */
  async authenticate(
    token: unknown,
  ): Promise<{ ok: true; identity: SeatIdentity } | { ok: false; error: CommandError }> {
    if (token === undefined || token === null || token === "") {
      return { ok: false, error: { code: ErrorCode.TOKEN_MISSING, message: "no token was presented" } };
    }
    if (!isWellFormedToken(token)) {
      return { ok: false, error: { code: ErrorCode.TOKEN_UNKNOWN, message: "this link is not valid" } };
    }
    const lookup = await this.#store.findSeat(hashToken(token));
    if (!lookup) {
      const hint = tokenExpiryHint(token);
      if (hint !== undefined && hint <= this.#now()) {
        return { ok: false, error: { code: ErrorCode.TOKEN_EXPIRED, message: "this link has expired" } };
      }
      return { ok: false, error: { code: ErrorCode.TOKEN_UNKNOWN, message: "this link is not valid" } };
    }
    if (lookup.revoked) {
      return { ok: false, error: { code: ErrorCode.TOKEN_REVOKED, message: "this link was revoked" } };
    }
    return { ok: true, identity: { sessionId: lookup.sessionId, seat: lookup.seat } };
  }

  /** The seat's current view, or null when the session is gone. */
  async snapshot(sessionId: string, seat: Seat): Promise<SessionView | null> {
    const record = await this.#load(sessionId);
    if (!record) return null;
    return viewFor(record.state, seat, this.#now());
  }

  /** Marks a session as served by this process (a local socket joined); timers run only for served sessions. */
  attach(sessionId: string): void {
    this.#served.set(sessionId, (this.#served.get(sessionId) ?? 0) + 1);
  }

  /** A local socket of the session left. */
  detach(sessionId: string): void {
    const n = (this.#served.get(sessionId) ?? 0) - 1;
    if (n > 0) {
      this.#served.set(sessionId, n);
      return;
    }
    this.#served.delete(sessionId);
    this.#clearTimer(sessionId);
    // Nobody here plays this session any more: its record would only take memory and go stale.
    this.#cache.delete(sessionId);
  }

  /**
   * Brings state.presence[seat] in line with the live sockets. Each pass re-reads the sockets after writing,
   * so two racing reconciles (a reload's old disconnect and new connect) settle on the truth.
   */
  async reconcilePresence(sessionId: string, seat: Seat): Promise<void> {
    for (let pass = 0; pass < PRESENCE_PASSES; pass++) {
      const online = await this.#outbox.seatConnected(sessionId, seat);
      const record = await this.#load(sessionId);
      if (!record) return;
      if (record.state.presence[seat] === online) {
        this.#schedule(record.state);
        return;
      }
      const outcome = await this.#applySystem(sessionId, { type: "presence", seat, online });
      if (outcome === "gone") return;
    }
  }

  /** Validates and applies one `command` envelope from a seat; the ack says what happened. */
  async handleCommand(sessionId: string, seat: Seat, envelope: unknown): Promise<CommandOutcome> {
    const parsed = CommandEnvelopeSchema.safeParse(envelope);
    if (!parsed.success) {
      const rawType = (envelope as { command?: { type?: unknown } } | null)?.command?.type;
      const type = typeof rawType === "string" && (COMMAND_TYPES as string[]).includes(rawType) ? rawType : undefined;
      const err = zodInputError(parsed.error);
      return { ack: { ok: false, error: { code: err.code, message: err.message } }, resync: false, type };
    }
    const { id, expectedVersion, command } = parsed.data;
    // Ids are scoped to the seat so one partner can never replay (or shadow) the other's command.
    const key = `${seat}:${id}`;
    const gone = (): CommandOutcome => ({
      ack: { ok: false, error: { code: ErrorCode.SESSION_NOT_FOUND, message: "this session no longer exists" } },
      resync: false,
      type: command.type,
    });
    let record: SessionRecord | null | undefined = this.#cached(sessionId);
    // A cached record may be behind another process's writes: it may be built on, never refused on.
    let fresh = false;
    // Lost a compare-and-set at least once: a refusal then means the sender's view is behind.
    let raced = false;
    if (!record) {
      record = await this.#load(sessionId);
      fresh = true;
    }
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (!record) return gone();
      // Records are cached only once stored, so an id found even in a cached one was really applied.
      const seen = record.recentCommands.find((c) => c.id === key);
      if (seen) return { ack: seen.ack, resync: false, type: command.type };
      const now = this.#now();
      const result = apply(record.state, command, seat, now, { expectedVersion });
      if (!result.ok) {
        if (!fresh) {
          record = await this.#load(sessionId);
          fresh = true;
          continue;
        }
        const behind = raced || result.error.code === ErrorCode.STALE_VERSION;
        return { ack: { ok: false, error: result.error }, resync: behind, type: command.type };
      }
      const ack: CommandAck = { ok: true, version: result.state.version };
      const next: SessionRecord = {
        state: result.state,
        recentCommands: appendRecent(record.recentCommands, { id: key, ack }),
      };
      const written = await this.#write(sessionId, record, next, result.events, now, attempt);
      if (written === "ok") return { ack, resync: false, type: command.type };
      if (written === "missing") return gone();
      record = written;
      fresh = true;
      raced = true;
    }
    return {
      ack: { ok: false, error: { code: ErrorCode.INTERNAL, message: "the session is busy; please try again" } },
      resync: true,
      type: command.type,
    };
  }

  /** Revokes one seat's link; `by` must hold a valid token of that session (a partner only their own seat). */
  async revokeSeat(by: SeatIdentity, sessionId: string, target: unknown): Promise<Result<{ seat: Seat }>> {
    const checked = await this.#checkSeatAction(by, sessionId, target);
    if (!checked.ok) return checked;
    const seat = checked.value;
    const done = await this.#store.revokeSeat(sessionId, seat);
    if (!done) return notFound();
    this.#outbox.dismiss(sessionId, seat, { code: ErrorCode.TOKEN_REVOKED, message: "this link was revoked" });
    this.#log.info({ session: sessionId, seat, by: by.seat }, "link revoked");
    return { ok: true, value: { seat } };
  }

  /** Issues a fresh link for a seat (any older link of the seat stops working); same authorization as revoke. */
  async reissueSeat(
    by: SeatIdentity,
    sessionId: string,
    target: unknown,
  ): Promise<Result<{ seat: Seat; token: string }>> {
    const checked = await this.#checkSeatAction(by, sessionId, target);
    if (!checked.ok) return checked;
    const seat = checked.value;
    const ttl = await this.#store.ttl(sessionId);
    if (ttl === null) return notFound();
    const token = newToken(this.#now() + ttl);
    const done = await this.#store.reissueSeat(sessionId, seat, hashToken(token));
    if (!done) return notFound();
    // Sockets opened with the previous link must not outlive it.
    this.#outbox.dismiss(sessionId, seat, { code: ErrorCode.TOKEN_REVOKED, message: "this link was replaced" });
    this.#log.info({ session: sessionId, seat, by: by.seat }, "link reissued");
    return { ok: true, value: { seat, token } };
  }

  /** Erases a session on request: partners in guided mode, the therapist in therapist mode. */
  async erase(by: SeatIdentity, sessionId: string): Promise<Result<{ id: string }>> {
    if (by.sessionId !== sessionId) return forbidden("this link belongs to another session");
    const record = await this.#load(sessionId);
    if (!record) return notFound();
    if (record.state.mode === "therapist" && by.seat !== "therapist") {
      return {
        ok: false,
        status: 403,
        error: { code: ErrorCode.THERAPIST_ONLY, message: "only the therapist can erase a therapist-led session" },
      };
    }
    await this.#store.delete(sessionId);
    this.#cache.delete(sessionId);
    this.#clearTimer(sessionId);
    this.#outbox.dismiss(sessionId, null, { code: ErrorCode.SESSION_NOT_FOUND, message: "this session was erased" });
    this.#log.info({ session: sessionId, by: by.seat }, "session erased");
    return { ok: true, value: { id: sessionId } };
  }

  /** Stops every timer; commands still in flight finish but schedule nothing new. */
  close(): void {
    this.#closed = true;
    for (const id of [...this.#timers.keys()]) this.#clearTimer(id);
    this.#served.clear();
    this.#cache.clear();
  }

  /** The session as stored now (null when gone); the cache follows what was read. */
  async #load(sessionId: string): Promise<SessionRecord | null> {
    const record = await this.#store.load(sessionId);
    if (record) this.#remember(sessionId, record);
    else this.#cache.delete(sessionId);
    return record;
  }

  #cached(sessionId: string): SessionRecord | undefined {
    const record = this.#cache.get(sessionId);
    if (record) {
      // Re-inserting moves it to the young end of the map's insertion order.
      this.#cache.delete(sessionId);
      this.#cache.set(sessionId, record);
    }
    return record;
  }

  /** Caches a record that the store holds (or held); never replaces a newer one with an older one. */
  #remember(sessionId: string, record: SessionRecord): void {
    if (this.#cacheSize === 0) return;
    const known = this.#cache.get(sessionId);
    if (known && known.state.version > record.state.version) return;
    this.#cache.delete(sessionId);
    this.#cache.set(sessionId, record);
    if (this.#cache.size > this.#cacheSize) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
  }

  async #checkSeatAction(by: SeatIdentity, sessionId: string, target: unknown): Promise<Result<Seat>> {
    const seatParse = z.enum(SEATS).safeParse(target);
    if (!seatParse.success) {
      return {
        ok: false,
        status: 400,
        error: { code: ErrorCode.INVALID_COMMAND, message: "seat must be a, b or therapist", field: "seat" },
      };
    }
    const seat = seatParse.data;
    if (by.sessionId !== sessionId) return forbidden("this link belongs to another session");
    const record = await this.#store.load(sessionId);
    if (!record) return notFound();
    if (!seatsOf(record.state).includes(seat)) {
      return {
        ok: false,
        status: 400,
        error: { code: ErrorCode.NOT_IN_MODE, message: "a guided session has no therapist seat", field: "seat" },
      };
    }
    if (by.seat !== "therapist" && by.seat !== seat) return forbidden("a partner may only change their own link");
    return { ok: true, value: seat };
  }

  async #applySystem(sessionId: string, command: SystemCommand): Promise<"applied" | "refused" | "gone"> {
    // System commands are rare (presence, time-up), so they start from the store rather than the cache.
    let record: SessionRecord | null;
    try {
      record = await this.#load(sessionId);
    } catch (err) {
      this.#log.warn({ session: sessionId, err: (err as Error).message }, "system command: store unavailable");
      return "refused";
    }
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (!record) return "gone";
      const now = this.#now();
      const result = apply(record.state, command, "system", now);
      if (!result.ok) {
        this.#schedule(record.state);
        return "refused";
      }
      const next: SessionRecord = { state: result.state, recentCommands: record.recentCommands };
      const written = await this.#write(sessionId, record, next, result.events, now, attempt);
      if (written === "ok") {
        this.#log.info(
          { session: sessionId, type: command.type, version: result.state.version, ...presenceFields(command) },
          "system command applied",
        );
        return "applied";
      }
      if (written === "missing") return "gone";
      record = written;
    }
    return "refused";
  }

  /**
   * A commit another process stored: this process remembers the record (its next command there needs no load)
   * and updates its own sockets. One older than the record known here is dropped: those sockets are past it.
   */
  acceptCommit(commit: unknown): void {
    if (!isCommit(commit)) {
      this.#log.warn("malformed commit from another process ignored");
      return;
    }
    const { record, events, at } = commit;
    const known = this.#cache.get(record.state.id);
    if (known && known.state.version > record.state.version) return;
    if (this.#served.has(record.state.id)) this.#remember(record.state.id, record);
    this.#deliver(record.state, events, at);
  }

  /**
   * One compare-and-set of `next` over `prev`, shared by seat and system commands. On success the record is
   * remembered and published; when the session is gone it is forgotten; on a lost race the winner's record
   * (which the conflict answered) is remembered and returned to re-apply on — after a randomized back-off from
   * the second loss on, so the racers do not collide again.
   */
  async #write(
    sessionId: string,
    prev: SessionRecord,
    next: SessionRecord,
    events: EngineEvent[],
    now: number,
    attempt: number,
  ): Promise<"ok" | "missing" | SessionRecord> {
    const written = await this.#store.update(sessionId, prev.state.version, next, this.#ttlMs);
    if (written.status === "ok") {
      this.#remember(sessionId, next);
      this.#publish(next, events, now);
      return "ok";
    }
    if (written.status === "missing") {
      this.#cache.delete(sessionId);
      return "missing";
    }
    this.#remember(sessionId, written.current);
    if (attempt > 0) await sleep(Math.random() * (2 + attempt * 3));
    return written.current;
  }

  #publish(record: SessionRecord, events: EngineEvent[], now: number): void {
    this.#deliver(record.state, events, now);
    this.#outbox.shareCommit({ record, events, at: now });
    this.#schedule(record.state);
  }

  #deliver(state: SessionState, events: EngineEvent[], now: number): void {
    this.#outbox.updateLocal(state.id, seatsOf(state), (seat) => ({
      version: state.version,
      view: viewFor(state, seat, now),
      events: eventsFor(state, seat, events),
    }));
  }

  #schedule(state: SessionState): void {
    if (this.#closed || !this.#served.has(state.id)) return;
    const at = nextDeadline(state);
    const existing = this.#timers.get(state.id);
    if (at === undefined) {
      this.#clearTimer(state.id);
      return;
    }
    if (existing && existing.at === at) return;
    this.#clearTimer(state.id);
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, at - this.#now()) + TIMER_SLACK_MS);
    const handle = setTimeout(() => {
      this.#timers.delete(state.id);
      // A double fire across processes is harmless: the compare-and-set lets only one time-up land.
      void this.#applySystem(state.id, { type: "time-up" }).catch((err: unknown) => {
        this.#log.warn({ session: state.id, err: (err as Error).message }, "time-up failed");
      });
    }, delay);
    handle.unref?.();
    this.#timers.set(state.id, { handle, at });
  }

  #clearTimer(sessionId: string): void {
    const t = this.#timers.get(sessionId);
    if (t) clearTimeout(t.handle);
    this.#timers.delete(sessionId);
  }
}

/** The shape of a commit as it arrives from another process (through Redis: checked, never trusted blindly). */
function isCommit(value: unknown): value is Commit {
  if (!value || typeof value !== "object") return false;
  const { record, events, at } = value as Partial<Commit>;
  const state = record?.state as Partial<SessionState> | undefined;
  return (
    typeof at === "number" &&
    Array.isArray(events) &&
    Array.isArray(record?.recentCommands) &&
    typeof state?.id === "string" &&
    typeof state.version === "number" &&
    (state.mode === "guided" || state.mode === "therapist")
  );
}

/** The last RECENT_COMMANDS acks with `entry` added, built in one copy (this runs for every command). */
function appendRecent(recent: SessionRecord["recentCommands"], entry: SessionRecord["recentCommands"][number]) {
  const keep = recent.length >= RECENT_COMMANDS ? recent.slice(recent.length - RECENT_COMMANDS + 1) : recent.slice();
  keep.push(entry);
  return keep;
}

function presenceFields(command: SystemCommand): Record<string, unknown> {
  return command.type === "presence" ? { seat: command.seat, online: command.online } : {};
}

function notFound<T>(): Result<T> {
  return {
    ok: false,
    status: 404,
    error: { code: ErrorCode.SESSION_NOT_FOUND, message: "this session does not exist or has expired" },
  };
}

function forbidden<T>(message: string): Result<T> {
  return { ok: false, status: 403, error: { code: ErrorCode.UNAUTHORIZED, message } };
}
