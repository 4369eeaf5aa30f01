/**
 * The session service: everything between the pure engine and the transport. It loads and stores sessions,
 * applies each session's commands in order (one queue per session on this process; an optimistic
 * compare-and-set in the store guards against other processes), dedupes retried command ids, keeps presence in
 * step with live sockets on every process, fires step timers, and fans out what changed through an outbox.
 * It never sees a socket or a request: rejected input comes back as a returned error, never a throw.
 */
import { nanoid } from "nanoid";
import { z } from "zod";
import { CATALOGUE, findExercise } from "../shared/catalogue/index.ts";
import { apply, createSession, eventsFor, nextDeadline, updateFor, viewFor } from "../shared/engine.ts";
import {
  type Actor,
  type Appended,
  type Command,
  type CommandAck,
  CommandEnvelopeSchema,
  type CommandError,
  COMMAND_TYPES,
  type CreateSessionRequest,
  CreateSessionSchema,
  type EngineEvent,
  ErrorCode,
  illFormedTextAt,
  illFormedTextError,
  LIMITS,
  type Seat,
  SEATS,
  type SessionCore,
  type SessionView,
  type SystemCommand,
  type ViewUpdate,
} from "../shared/protocol.ts";
import { sameValue } from "../shared/delta.ts";
import { textProblem } from "../shared/engine/texts.ts";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import type {
  NodeRegistry,
  RecentCommand,
  SeatLink,
  SessionChange,
  SessionStore,
  WorkingRecord,
} from "./store/types.ts";
import { RECENT_COMMANDS } from "./store/types.ts";
import { hashToken, isWellFormedToken, newToken, tokenExpiryHint, tokenSession } from "./tokens.ts";

/** How the service reaches live sockets, wherever they are connected (this process or another). */
export interface Outbox {
  /** The seats of a session with at least one socket on this process. */
  localSeats(sessionId: string): Seat[];
  /** Sends an update to a seat's sockets on this process. */
  update(sessionId: string, seat: Seat, update: ViewUpdate): void;
  /** Sends a fresh snapshot to a seat's sockets on this process. */
  snapshot(sessionId: string, seat: Seat, view: SessionView): void;
  /** Whether other processes may hold sockets (then every commit is shared with them). */
  sharing(): boolean;
  /** Tells the other processes of a stored commit (each updates its own sockets: acceptCommit). */
  shareCommit(commit: Commit): void;
  /** Tells every live socket of a seat (or of the whole session when seat is null) why, then disconnects it. */
  dismiss(sessionId: string, seat: Seat | null, notice: CommandError): void;
  /** Whether a seat has at least one live socket on any process (rejects when a process does not answer). */
  seatConnected(sessionId: string, seat: Seat): Promise<boolean>;
}

/**
 * A stored commit as other processes receive it: each seat's update (null: that seat needs a snapshot), and the
 * core fields that changed so their cached core can follow without loading. Never the conversation.
 */
export interface Commit {
  sessionId: string;
  from: number;
  version: number;
  /** Top-level core fields whose value changed. */
  core: Partial<SessionCore>;
  /** Exercises uploaded by this command. */
  custom?: Appended["custom"];
  /** The ack of the seat's command, so a retry reaching another process is answered, not re-applied. */
  recent?: RecentCommand;
  updates: Partial<Record<Seat, Delivery>>;
  at: number;
}

/**
 * What a seat gets for one commit: its update, or — when what it may see of older entries changed — a marker that
 * its whole view must be read from the store and sent in the update instead.
 */
export type Delivery = ViewUpdate | { whole: true; version: number; from: number; events: EngineEvent[] };

/** What a SessionService is built from. */
export interface SessionServiceOptions {
  store: SessionStore;
  outbox: Outbox;
  logger: Logger;
  ttlMs: number;
  /** This process's registry entry (default: the store's registry and a fresh node id). */
  registry?: NodeRegistry;
  nodeId?: string;
  /** Clock in ms (injectable for tests). */
  now?: () => number;
  /** How many sessions' working records the service keeps (least recently used dropped first). */
  cacheSize?: number;
  /** And how many bytes they may take, estimated (least recently used dropped first). */
  cacheBytes?: number;
  /** How long a seat whose last socket left stays online, so a reload or a network flap changes nothing (ms). */
  presenceGraceMs?: number;
  /** How often this process tells the registry it is alive and looks for processes that died (ms). */
  beatMs?: number;
  /** Where conflicts and fan-out messages are counted. */
  metrics?: Pick<Metrics, "conflict" | "fanout">;
}

/** A compare-and-set whose result the store never gave: the command may or may not have been applied. */
export class OutcomeUnknownError extends Error {
  constructor(cause: string) {
    super(`the store did not confirm the write: ${cause}`);
    this.name = "OutcomeUnknownError";
  }
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

export { RECENT_COMMANDS };
/** Sessions whose working record a service keeps by default. */
export const DEFAULT_CACHE_SIZE = 10_000;
/** Estimated bytes the cached working records may take by default. */
export const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;
/** A seat stays online this long after its last socket left (a reload, a flapping network). */
export const DEFAULT_PRESENCE_GRACE_MS = 2_000;
/** How often a process beats and sweeps; a process that stops beating is taken for dead after NODE_TTL_MS. */
export const DEFAULT_BEAT_MS = 1_000;
const NODE_TTL_FACTOR = 4;
/**
 * The longest a seat of a process that died without a goodbye (kill -9, a lost host) stays shown online on the
 * processes that survive it, with the default beat: its beat lapses (4 s), the adapter stops counting it (5 s of
 * silence), and the next sweep settles the seat (1 s) — documented in docs/operations.md.
 */
export const PRESENCE_HEAL_BOUND_MS = 10_000;
/**
 * Compare-and-set attempts before a command gives up. Only other processes can win a race (this process runs a
 * session's commands one at a time), and each lost race means one of theirs landed.
 */
const MAX_ATTEMPTS = 50;
/** When the other processes cannot say whether they hold a seat that left here, ask again this often, this often. */
const LEAVE_RETRY_MS = 1_000;
const LEAVE_RETRIES = 10;
/** Presence passes (each re-reads the live sockets after writing). */
const PRESENCE_PASSES = 5;
/** Node may fire a timer a millisecond early; a time-up before the deadline would only be refused. */
const TIMER_SLACK_MS = 5;
const MAX_TIMER_MS = 2 ** 31 - 1;
/**
 * The estimated size of a working record without uploaded exercises (its core is bounded by design): the core
 * (about 3 KB of heap in an exercise) and the seat views the engine keeps beside it (about 1.3 KB each, up to three),
 * measured with `node --expose-gc` over 5,000 cores in a dialogue.
 */
const RECORD_BASE_BYTES = 8192;

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
export function seatsOf(state: Pick<SessionCore, "mode">): Seat[] {
  return state.mode === "therapist" ? [...SEATS] : ["a", "b"];
}

interface Timer {
  handle: ReturnType<typeof setTimeout>;
  at: number;
}

interface Cached {
  record: WorkingRecord;
  bytes: number;
}

type Written = { ok: true; own?: ViewUpdate } | "missing" | WorkingRecord;

/** The session service (one per process). */
export class SessionService {
  readonly #store: SessionStore;
  readonly #outbox: Outbox;
  readonly #log: Logger;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #registry: NodeRegistry;
  readonly #nodeId: string;
  readonly #graceMs: number;
  readonly #beatMs: number;
  readonly #metrics: Pick<Metrics, "conflict" | "fanout"> | undefined;
  /** Local sockets per session, and per seat: timers run only for sessions this process serves. */
  readonly #served = new Map<string, Map<Seat, number>>();
  readonly #timers = new Map<string, Timer>();
  /** Seats whose last local socket left, waiting out the grace before presence is settled. */
  readonly #leaving = new Map<string, ReturnType<typeof setTimeout>>();
  /** One queue per session: its commands on this process run one at a time, in arrival order. */
  readonly #queues = new Map<string, Promise<void>>();
  /**
   * The last working record this process stored or loaded per session, in least-recently-used order. A command is
   * applied to it and compare-and-set directly (one round trip); a stale entry only costs a conflict, which
   * answers the current record. Never trusted for a refusal: that reads the store first.
   */
  readonly #cache = new Map<string, Cached>();
  readonly #cacheSize: number;
  readonly #cacheBytes: number;
  #cachedBytes = 0;
  #beat: ReturnType<typeof setInterval> | undefined;
  #beaten = false;
  #settlingNow = 0;
  #closed = false;

  constructor(options: SessionServiceOptions) {
    this.#store = options.store;
    this.#outbox = options.outbox;
    this.#log = options.logger;
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
    this.#registry = options.registry ?? options.store.nodeRegistry();
    this.#nodeId = options.nodeId ?? nanoid(12);
    this.#cacheSize = Math.max(0, options.cacheSize ?? DEFAULT_CACHE_SIZE);
    this.#cacheBytes = Math.max(0, options.cacheBytes ?? DEFAULT_CACHE_BYTES);
    this.#graceMs = Math.max(0, options.presenceGraceMs ?? DEFAULT_PRESENCE_GRACE_MS);
    this.#beatMs = Math.max(10, options.beatMs ?? DEFAULT_BEAT_MS);
    this.#metrics = options.metrics;
  }

  /** Sessions with a socket on this process (for metrics). */
  get servedSessions(): number {
    return this.#served.size;
  }

  /** Step timers armed on this process (for metrics). */
  get timersArmed(): number {
    return this.#timers.size;
  }

  /** This process's id in the node registry. */
  get nodeId(): string {
    return this.#nodeId;
  }

  /** Registers this process as alive and starts the beat that also heals the seats of processes that died. */
  async start(): Promise<void> {
    await this.#beatOnce();
    this.#beat = setInterval(() => {
      void this.#beatOnce();
    }, this.#beatMs);
    this.#beat.unref();
  }

  /** The catalogue as listed by GET /api/exercises. */
  catalogue(): {
    id: string;
    title: string;
    summary: string;
    untimedSummary?: string;
    intro?: string;
    cycles?: number;
    modes?: string[];
  }[] {
    return CATALOGUE.map((e) => ({
      id: e.id,
      title: e.title,
      summary: e.summary,
      // The words a session without timers reads, so the home page can describe the exercise as it will run.
      ...(e.untimed?.summary ? { untimedSummary: e.untimed.summary } : {}),
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
    const illFormed = illFormedTextAt(input);
    if (illFormed) return { ok: false, status: 400, error: { ...illFormedTextError(illFormed), field: illFormed } };
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
    // Typed sessions are end-to-end encrypted unless the request says otherwise; spoken ones only when asked.
    const encrypted = req.encrypted ?? req.channel === "typed";
    const names = Object.fromEntries(Object.entries(req.names ?? {}).filter(([, v]) => v !== undefined));
    for (const [partner, name] of Object.entries(names)) {
      const problem = textProblem(encrypted, `names.${partner}`, name, LIMITS.nameMax);
      if (problem) return { ok: false, status: 400, error: { ...problem, field: `names.${partner}` } };
    }
    const now = this.#now();
    const id = nanoid();
    const state = createSession({
      id,
      mode: req.mode,
      channel: req.channel,
      agenda,
      names,
      therapistName: req.therapistName,
      createdAt: now,
      timers: req.timers,
      encrypted,
    });
    const expiresAt = now + this.#ttlMs;
    const tokens: Partial<Record<Seat, string>> = {};
    const links: SeatLink[] = [];
    for (const seat of seatsOf(state)) {
      const token = newToken(id, expiresAt);
      tokens[seat] = token;
      links.push({ seat, tokenHash: hashToken(token) });
    }
    await this.#store.create({ state, recentCommands: [] }, links, this.#ttlMs);
    this.#log.info(
      { session: id, mode: req.mode, channel: req.channel, agenda: agenda.length, encrypted },
      "session created",
    );
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
    const sessionId = isWellFormedToken(token) ? tokenSession(token) : undefined;
    if (!isWellFormedToken(token) || !sessionId) {
      return { ok: false, error: { code: ErrorCode.TOKEN_UNKNOWN, message: "this link is not valid" } };
    }
    const lookup = await this.#store.findSeat(sessionId, hashToken(token));
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

  /**
   * Who lets a partner in, for the waiting room of a therapist-led session: the therapist's name as given at
   * creation (or the practice's name), null when none was given; null too outside therapist mode. Nothing else of
   * the session is read out. Undefined when the session is gone.
   */
  async therapistName(sessionId: string): Promise<string | null | undefined> {
    const record = await this.#store.load(sessionId);
    if (!record) return undefined;
    return record.state.mode === "therapist" ? (record.state.therapistName ?? null) : null;
  }

  /** The seat's whole current view (read from the store), or null when the session is gone. */
  async snapshot(sessionId: string, seat: Seat): Promise<SessionView | null> {
    const record = await this.#store.load(sessionId);
    if (!record) {
      this.#forget(sessionId);
      return null;
    }
    return viewFor(record.state, seat);
  }

  /** A socket of `seat` joined on this process: the seat is online, held here, and the session's timers run here. */
  attach(sessionId: string, seat: Seat): void {
    let seats = this.#served.get(sessionId);
    if (!seats) {
      seats = new Map();
      this.#served.set(sessionId, seats);
    }
    const first = !seats.has(seat);
    seats.set(seat, (seats.get(seat) ?? 0) + 1);
    this.#cancelLeave(sessionId, seat);
    if (first) {
      this.#registry.claim(this.#nodeId, { sessionId, seat }).catch((err: unknown) => {
        this.#log.warn({ session: sessionId, seat, err: (err as Error).message }, "registry claim failed");
      });
    }
  }

  /** A socket of `seat` left this process. Its presence is settled once the grace has passed without a return. */
  detach(sessionId: string, seat: Seat): void {
    const seats = this.#served.get(sessionId);
    const n = (seats?.get(seat) ?? 0) - 1;
    if (seats && n > 0) {
      seats.set(seat, n);
      return;
    }
    seats?.delete(seat);
    if (seats && seats.size === 0) {
      this.#served.delete(sessionId);
      this.#clearTimer(sessionId);
    }
    if (this.#closed) return;
    this.#cancelLeave(sessionId, seat);
    this.#leaveLater(sessionId, seat, this.#graceMs, 0);
  }

  #leaveLater(sessionId: string, seat: Seat, delayMs: number, tries: number): void {
    const key = `${sessionId} ${seat}`;
    const timer = setTimeout(() => {
      this.#leaving.delete(key);
      this.#seatLeft(sessionId, seat).catch((err: unknown) => {
        // Another process did not say whether it holds the seat: ask again shortly, a bounded number of times.
        this.#log.warn({ session: sessionId, seat, err: (err as Error).message }, "presence not settled yet");
        if (!this.#closed && tries < LEAVE_RETRIES) this.#leaveLater(sessionId, seat, LEAVE_RETRY_MS, tries + 1);
      });
    }, delayMs);
    timer.unref();
    this.#leaving.set(key, timer);
  }

  /**
   * On shutdown, once the sockets are gone: waits (at most `timeoutMs`) until every seat that left has been
   * settled — still online if it came back elsewhere, offline if not — then leaves the registry. A seat that
   * could not be settled in time keeps its claim, so the surviving processes settle it once this one stops beating.
   */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((this.#leaving.size > 0 || this.#settlingNow > 0) && Date.now() < deadline) await sleep(25);
    if (this.#leaving.size > 0 || this.#settlingNow > 0) return;
    const claimed = [...this.#served.values()].some((seats) => seats.size > 0);
    if (!claimed) await this.#registry.forget(this.#nodeId).catch(() => {});
  }

  async #seatLeft(sessionId: string, seat: Seat): Promise<void> {
    if (this.#served.get(sessionId)?.has(seat)) return;
    this.#settlingNow++;
    try {
      await this.reconcilePresence(sessionId, seat);
      if (!this.#served.get(sessionId)?.has(seat)) {
        await this.#registry.release(this.#nodeId, { sessionId, seat }).catch(() => {});
        // Nobody here plays this session any more: its record would only take memory and go stale.
        if (!this.#served.has(sessionId)) this.#forget(sessionId);
      }
    } finally {
      this.#settlingNow--;
    }
  }

  #cancelLeave(sessionId: string, seat: Seat): void {
    const key = `${sessionId} ${seat}`;
    const timer = this.#leaving.get(key);
    if (timer) clearTimeout(timer);
    this.#leaving.delete(key);
  }

  /**
   * Brings state.presence[seat] in line with the live sockets on every process. Each pass re-reads the sockets
   * after writing, so two racing reconciles (a reload's old disconnect and new connect) settle on the truth.
   * Rejects when another process does not answer whether it holds the seat (the caller may try again later).
   */
  async reconcilePresence(sessionId: string, seat: Seat): Promise<void> {
    for (let pass = 0; pass < PRESENCE_PASSES; pass++) {
      const online =
        this.#outbox.localSeats(sessionId).includes(seat) || (await this.#outbox.seatConnected(sessionId, seat));
      const outcome = await this.#serial(sessionId, () =>
        this.#run(
          sessionId,
          "system",
          { type: "presence", seat, online },
          { when: (c) => c.presence[seat] !== online },
        ),
      );
      if (outcome.kind !== "applied") return;
    }
  }

  /** Validates and applies one `command` envelope from a seat; the ack says what happened. */
  async handleCommand(sessionId: string, seat: Seat, envelope: unknown): Promise<CommandOutcome> {
    const rawType = (envelope as { command?: { type?: unknown } } | null)?.command?.type;
    const knownType =
      typeof rawType === "string" && (COMMAND_TYPES as string[]).includes(rawType) ? rawType : undefined;
    const illFormed = illFormedTextAt(envelope);
    if (illFormed) return { ack: { ok: false, error: illFormedTextError(illFormed) }, resync: false, type: knownType };
    const parsed = CommandEnvelopeSchema.safeParse(envelope);
    if (!parsed.success) {
      const err = zodInputError(parsed.error);
      return { ack: { ok: false, error: { code: err.code, message: err.message } }, resync: false, type: knownType };
    }
    const { id, expectedVersion, command } = parsed.data;
    // Ids are scoped to the seat so one partner can never replay (or shadow) the other's command.
    const key = `${seat}:${id}`;
    const outcome = await this.#serial(sessionId, () => this.#run(sessionId, seat, command, { key, expectedVersion }));
    switch (outcome.kind) {
      case "applied":
      case "seen":
        return { ack: outcome.ack, resync: false, type: command.type };
      case "gone":
        return {
          ack: { ok: false, error: { code: ErrorCode.SESSION_NOT_FOUND, message: "this session no longer exists" } },
          resync: false,
          type: command.type,
        };
      case "refused":
        return { ack: { ok: false, error: outcome.error }, resync: outcome.behind, type: command.type };
      case "skipped":
      case "busy":
        return {
          ack: { ok: false, error: { code: ErrorCode.INTERNAL, message: "the session is busy; please try again" } },
          resync: true,
          type: command.type,
        };
    }
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
    const token = newToken(sessionId, this.#now() + ttl);
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
    const record = await this.#loadWorking(sessionId);
    if (!record) return notFound();
    if (record.core.mode === "therapist" && by.seat !== "therapist") {
      return {
        ok: false,
        status: 403,
        error: { code: ErrorCode.THERAPIST_ONLY, message: "only the therapist can erase a therapist-led session" },
      };
    }
    await this.#store.delete(sessionId);
    this.#forget(sessionId);
    this.#clearTimer(sessionId);
    this.#outbox.dismiss(sessionId, null, { code: ErrorCode.SESSION_NOT_FOUND, message: "this session was erased" });
    this.#log.info({ session: sessionId, by: by.seat }, "session erased");
    return { ok: true, value: { id: sessionId } };
  }

  /**
   * A commit another process stored: its updates go to this process's sockets, and the cached core follows it
   * when it is the version just before (else the stale entry is dropped and the next command loads).
   */
  acceptCommit(commit: unknown): void {
    if (!isCommit(commit)) {
      this.#log.warn("malformed commit from another process ignored");
      return;
    }
    const { sessionId } = commit;
    this.#deliver(sessionId, commit.updates, this.#outbox.localSeats(sessionId));
    const cached = this.#cache.get(sessionId);
    if (cached && cached.record.core.version === commit.from) {
      const core = { ...cached.record.core, ...commit.core, version: commit.version } as SessionCore;
      if (commit.custom && commit.custom.length > 0) core.custom = [...cached.record.core.custom, ...commit.custom];
      this.#remember(sessionId, {
        core,
        recentCommands: appendRecent(cached.record.recentCommands, commit.recent),
      });
      this.#schedule(core);
    } else if (cached && cached.record.core.version < commit.version) {
      this.#forget(sessionId);
      if (this.#served.has(sessionId)) {
        void this.#loadWorking(sessionId)
          .then((record) => record && this.#schedule(record.core))
          .catch(() => {});
      }
    }
  }

  /** Stops every timer and the beat; commands still in flight finish but schedule nothing new. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#beat);
    for (const id of [...this.#timers.keys()]) this.#clearTimer(id);
    for (const timer of this.#leaving.values()) clearTimeout(timer);
    this.#leaving.clear();
    this.#served.clear();
    this.#cache.clear();
    this.#cachedBytes = 0;
  }

  /** Runs `task` after every earlier task of the session on this process has finished. */
  #serial<T>(sessionId: string, task: () => Promise<T>): Promise<T> {
    const before = this.#queues.get(sessionId) ?? Promise.resolve();
    const run = before.then(task);
    const tail = run.then(
      () => {},
      () => {},
    );
    this.#queues.set(sessionId, tail);
    void tail.then(() => {
      if (this.#queues.get(sessionId) === tail) this.#queues.delete(sessionId);
    });
    return run;
  }

  /**
   * Applies one command of `actor` inside the session's queue: on the cached record when there is one (a refusal
   * there is checked again on a fresh read), with a compare-and-set that re-applies on the winner's record when
   * another process got there first. `when` lets a system command apply only if still needed.
   */
  async #run(
    sessionId: string,
    actor: Actor,
    command: Command | SystemCommand,
    opts: { key?: string; expectedVersion?: number; when?: (core: SessionCore) => boolean },
  ): Promise<RunOutcome> {
    let record: WorkingRecord | null | undefined = this.#cached(sessionId);
    let fresh = false;
    let raced = false;
    if (!record) {
      record = await this.#loadWorking(sessionId);
      fresh = true;
    }
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (!record) return { kind: "gone" };
      if (opts.key) {
        // Records are cached only once stored, so an id found even in a cached one was really applied.
        const seen = record.recentCommands.find((c) => c.id === opts.key);
        if (seen) return { kind: "seen", ack: seen.ack };
      }
      if (opts.when && !opts.when(record.core)) {
        if (!fresh) {
          record = await this.#loadWorking(sessionId);
          fresh = true;
          continue;
        }
        this.#schedule(record.core);
        return { kind: "skipped" };
      }
      const now = this.#now();
      const result = apply(record.core, command, actor, now, { expectedVersion: opts.expectedVersion });
      if (!result.ok) {
        if (!fresh) {
          record = await this.#loadWorking(sessionId);
          fresh = true;
          continue;
        }
        this.#schedule(record.core);
        return { kind: "refused", error: result.error, behind: raced || result.error.code === ErrorCode.STALE_VERSION };
      }
      const ack: CommandAck = { ok: true, version: result.state.version };
      const change: SessionChange = {
        core: result.state,
        appended: result.appended,
        entry: result.entry,
        ...(opts.key ? { recent: { id: opts.key, ack } } : {}),
      };
      const written = await this.#write(sessionId, record, change, result.events, now, attempt, actor);
      if (typeof written === "object" && "ok" in written) {
        if (actor === "system") {
          this.#log.info(
            { session: sessionId, type: command.type, version: ack.version, ...presenceFields(command) },
            "system command applied",
          );
        }
        // The acting seat's own update rides in its ack: one frame to it instead of two.
        return { kind: "applied", ack: written.own ? { ...ack, update: written.own } : ack };
      }
      if (written === "missing") return { kind: "gone" };
      record = written;
      fresh = true;
      raced = true;
    }
    return { kind: "busy" };
  }

  /** The working record as stored now (null when gone); the cache follows what was read. */
  async #loadWorking(sessionId: string): Promise<WorkingRecord | null> {
    const record = await this.#store.loadWorking(sessionId);
    if (record) this.#remember(sessionId, record);
    else this.#forget(sessionId);
    return record;
  }

  #cached(sessionId: string): WorkingRecord | undefined {
    const entry = this.#cache.get(sessionId);
    if (entry) {
      // Re-inserting moves it to the young end of the map's insertion order.
      this.#cache.delete(sessionId);
      this.#cache.set(sessionId, entry);
    }
    return entry?.record;
  }

  /** Caches a record that the store holds (or held); never replaces a newer one with an older one. */
  #remember(sessionId: string, record: WorkingRecord): void {
    if (this.#cacheSize === 0) return;
    const known = this.#cache.get(sessionId);
    if (known && known.record.core.version > record.core.version) return;
    // Uploaded exercises are the one part of a core that may be large; they are shared from one version to the next.
    const bytes =
      known && known.record.core.custom === record.core.custom
        ? known.bytes
        : RECORD_BASE_BYTES + customBytes(record.core);
    this.#forget(sessionId);
    this.#cache.set(sessionId, { record, bytes });
    this.#cachedBytes += bytes;
    while (this.#cache.size > this.#cacheSize || (this.#cachedBytes > this.#cacheBytes && this.#cache.size > 1)) {
      const oldest = this.#cache.keys().next().value;
      if (oldest === undefined) break;
      this.#forget(oldest);
    }
  }

  #forget(sessionId: string): void {
    const entry = this.#cache.get(sessionId);
    if (!entry) return;
    this.#cachedBytes -= entry.bytes;
    this.#cache.delete(sessionId);
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
    const record = await this.#store.loadWorking(sessionId);
    if (!record) return notFound();
    if (!seatsOf(record.core).includes(seat)) {
      return {
        ok: false,
        status: 400,
        error: { code: ErrorCode.NOT_IN_MODE, message: "a guided session has no therapist seat", field: "seat" },
      };
    }
    if (by.seat !== "therapist" && by.seat !== seat) return forbidden("a partner may only change their own link");
    return { ok: true, value: seat };
  }

  /**
   * One compare-and-set of `change` over `prev`, shared by seat and system commands. On success the record is
   * remembered and what changed is delivered and shared; when the session is gone it is forgotten; on a lost race
   * the winner's record (which the conflict answered) is remembered and returned to re-apply on — after a
   * randomized back-off from the second loss on, so the racers do not collide again.
   */
  async #write(
    sessionId: string,
    prev: WorkingRecord,
    change: SessionChange,
    events: EngineEvent[],
    now: number,
    attempt: number,
    actor: Actor,
  ): Promise<Written> {
    let written: Awaited<ReturnType<SessionStore["update"]>>;
    try {
      written = await this.#store.update(sessionId, prev.core.version, change, this.#ttlMs);
    } catch (err) {
      // The write may land after all (a hung Redis answers late): what is cached can no longer be trusted.
      this.#forget(sessionId);
      throw new OutcomeUnknownError((err as Error).message);
    }
    if (written.status === "ok") {
      this.#remember(sessionId, {
        core: change.core,
        recentCommands: appendRecent(prev.recentCommands, change.recent),
      });
      const own = this.#publish(sessionId, prev.core, change, events, now, actor === "system" ? undefined : actor);
      return own ? { ok: true, own } : { ok: true };
    }
    if (written.status === "missing") {
      this.#forget(sessionId);
      return "missing";
    }
    this.#remember(sessionId, written.current);
    this.#metrics?.conflict();
    if (attempt > 0) await sleep(Math.random() * (2 + attempt * 3));
    return written.current;
  }

  /**
   * Builds each seat's update once, sends it to this process's sockets and, with peers, to theirs. The acting
   * seat's update (when it is one and not a whole view) is returned instead of sent: it goes in the command's ack.
   */
  #publish(
    sessionId: string,
    prev: SessionCore,
    change: SessionChange,
    events: EngineEvent[],
    at: number,
    actor?: Seat,
  ): ViewUpdate | undefined {
    const next = change.core;
    const local = this.#outbox.localSeats(sessionId);
    const sharing = this.#outbox.sharing();
    const updates: Partial<Record<Seat, Delivery>> = {};
    for (const seat of sharing ? seatsOf(next) : local) {
      updates[seat] = updateFor(prev, next, change.appended, seat, events) ?? {
        whole: true,
        version: next.version,
        from: prev.version,
        events: eventsFor(next, seat, events),
      };
    }
    const own = actor !== undefined && local.includes(actor) ? updates[actor] : undefined;
    const inAck = own !== undefined && !("whole" in own) ? own : undefined;
    this.#deliver(sessionId, updates, inAck ? local.filter((seat) => seat !== actor) : local);
    if (sharing) {
      this.#metrics?.fanout();
      this.#outbox.shareCommit({
        sessionId,
        from: prev.version,
        version: next.version,
        core: coreChanges(prev, next),
        ...(change.appended.custom ? { custom: change.appended.custom } : {}),
        ...(change.recent ? { recent: change.recent } : {}),
        updates,
        at,
      });
    }
    this.#schedule(next);
    return inAck;
  }

  /**
   * Sends this process's sockets their updates. A seat whose whole view is due gets it read from the store: in the
   * update when the store is still at that version, else as a snapshot of the newer version.
   */
  #deliver(sessionId: string, updates: Commit["updates"], local: readonly Seat[]): void {
    const whole: { seat: Seat; due: Extract<Delivery, { whole: true }> }[] = [];
    for (const seat of local) {
      const delivery = updates[seat];
      if (delivery === undefined) continue;
      if ("whole" in delivery) whole.push({ seat, due: delivery });
      else this.#outbox.update(sessionId, seat, delivery);
    }
    if (whole.length === 0) return;
    this.#store.load(sessionId).then(
      (record) => {
        if (!record) return;
        for (const { seat, due } of whole) {
          const view = viewFor(record.state, seat);
          if (record.state.version === due.version) {
            this.#outbox.update(sessionId, seat, { version: due.version, from: due.from, view, events: due.events });
          } else {
            this.#outbox.snapshot(sessionId, seat, view);
          }
        }
      },
      (err: unknown) => this.#log.warn({ session: sessionId, err: (err as Error).message }, "snapshot failed"),
    );
  }

  /** One beat: tell the registry this process lives, then settle the seats of any process that stopped beating. */
  async #beatOnce(): Promise<void> {
    if (this.#closed) return;
    try {
      const known = await this.#registry.beat(this.#nodeId, this.#beatMs * NODE_TTL_FACTOR, this.#ttlMs);
      if (!known && this.#beaten) {
        // Another process took a long stall of ours for death and dropped our claims: claim the local seats again.
        for (const [sessionId, seats] of this.#served) {
          for (const seat of seats.keys()) await this.#registry.claim(this.#nodeId, { sessionId, seat });
        }
      }
      this.#beaten = true;
      for (const orphan of await this.#registry.orphans()) {
        if (orphan.node === this.#nodeId) continue;
        let settled = true;
        for (const held of orphan.seats) {
          try {
            await this.reconcilePresence(held.sessionId, held.seat);
          } catch {
            // The dead process is still counted by the adapter; its sockets are asked for until it drops out.
            settled = false;
          }
        }
        if (settled) {
          await this.#registry.forget(orphan.node);
          this.#log.info({ node: orphan.node, seats: orphan.seats.length }, "seats of a stopped process settled");
        }
      }
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, "node beat failed");
    }
  }

  #schedule(state: SessionCore): void {
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
      void this.#serial(state.id, () => this.#run(state.id, "system", { type: "time-up" }, {})).catch(
        (err: unknown) => {
          this.#log.warn({ session: state.id, err: (err as Error).message }, "time-up failed");
        },
      );
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

type RunOutcome =
  | { kind: "applied"; ack: CommandAck }
  | { kind: "seen"; ack: CommandAck }
  | { kind: "refused"; error: CommandError; behind: boolean }
  | { kind: "skipped" }
  | { kind: "gone" }
  | { kind: "busy" };

/** The top-level core fields whose value differs (exercises are appended, not compared). */
function coreChanges(prev: SessionCore, next: SessionCore): Partial<SessionCore> {
  const changed: Record<string, unknown> = {};
  for (const key of Object.keys(next) as (keyof SessionCore)[]) {
    if (key === "custom" || key === "version") continue;
    if (!sameValue(prev[key], next[key])) changed[key] = next[key];
  }
  return changed as Partial<SessionCore>;
}

/** The estimated bytes of a core's uploaded exercises. */
function customBytes(core: SessionCore): number {
  let bytes = 0;
  for (const definition of core.custom) bytes += JSON.stringify(definition).length;
  return bytes;
}

/** The shape of a commit as it arrives from another process (through Redis: checked, never trusted blindly). */
function isCommit(value: unknown): value is Commit {
  if (!value || typeof value !== "object") return false;
  const c = value as Partial<Commit>;
  return (
    typeof c.sessionId === "string" &&
    typeof c.from === "number" &&
    typeof c.version === "number" &&
    c.version === c.from + 1 &&
    typeof c.at === "number" &&
    !!c.core &&
    typeof c.core === "object" &&
    !!c.updates &&
    typeof c.updates === "object"
  );
}

/** The last RECENT_COMMANDS acks with `entry` added, built in one copy (this runs for every command). */
function appendRecent(recent: RecentCommand[], entry: RecentCommand | undefined): RecentCommand[] {
  if (!entry) return recent;
  const keep = recent.length >= RECENT_COMMANDS ? recent.slice(recent.length - RECENT_COMMANDS + 1) : recent.slice();
  keep.push(entry);
  return keep;
}

function presenceFields(command: Command | SystemCommand): Record<string, unknown> {
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
