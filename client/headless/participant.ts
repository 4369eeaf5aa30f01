/**
 * The headless participant: a small client for one seat of an Attune session, built on socket.io-client.
 * It holds that seat's view, applies each update (what changed since the previous version) strictly in version
 * order, resyncs on a gap and on reconnect,
 * and sends commands with an id that stays the same across retries so the server applies each one once.
 * It imports only the shared protocol (types) and browser-safe packages, so it can also be bundled.
 */
import { nanoid } from "nanoid";
import { io, type Socket } from "socket.io-client";
import { applyUpdate } from "../../shared/delta.ts";
import {
  bindsStep,
  hasTypedText,
  keyFragmentOf,
  openView,
  readKeyFragment,
  type SessionKeys,
  sealCommand,
  TextOpener,
} from "../../shared/session-crypto.ts";
import type {
  ClientToServerEvents,
  Command,
  CommandAck,
  CommandEnvelope,
  EngineEvent,
  ErrorCode,
  Seat,
  ServerToClientEvents,
  SessionView,
  ViewUpdate,
} from "../../shared/protocol.ts";

export type ParticipantSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface JoinOptions {
  /** How long to wait for the first snapshot before giving up (ms). */
  timeoutMs?: number;
  /** Socket.IO transports; websocket only by default (no sticky sessions needed across processes). */
  transports?: string[];
  /** Whether the socket reconnects by itself after a dropped connection (default true). */
  reconnection?: boolean;
  /** How long a missing version may be late before the participant asks for a snapshot (ms, default 100). */
  gapGraceMs?: number;
  /**
   * Keep only the last N entries of each conversation list (transcript, check-ins, ...). For a load generator
   * that plays thousands of devices in one process, where whole transcripts would make its own garbage
   * collector part of every latency it measures; a real client keeps everything (the default).
   */
  keepEntries?: number;
  /**
   * How many recent engine events `events` keeps (default 10,000). A load generator that never reads them keeps a
   * few, for the same reason as keepEntries: a thousand devices' histories would grow its heap for the whole run.
   */
  keepEvents?: number;
}

export interface SendOptions {
  /** Refuse with STALE_VERSION unless the session is still at this version. */
  expectedVersion?: number;
  /** Command id; generated when absent. Reusing an id asks the server to treat the command as a retry. */
  id?: string;
  /** Time to wait for each acknowledgement before retrying with the same id (ms). */
  timeoutMs?: number;
  /** Attempts in all, the first included (default 4). */
  attempts?: number;
}

export interface Notice {
  code: ErrorCode;
  message: string;
}

interface ParticipantEvents {
  /** The seat's view changed (update, snapshot or resync). */
  view: (view: SessionView) => void;
  /** An update arrived for this seat: as an `update` event, or in the ack of its own command (`via`). */
  update: (update: ViewUpdate, via: "event" | "ack") => void;
  /** Engine events carried by an update, in version order. */
  events: (events: EngineEvent[], version: number) => void;
  /** The server's notice before it disconnects this socket (e.g. SEAT_TAKEN_OVER). */
  notice: (notice: Notice) => void;
  /** The socket lost its connection; `reason` is Socket.IO's. */
  disconnect: (reason: string) => void;
  /** The socket (re)connected. */
  connect: (recovered: boolean) => void;
}
export type ParticipantEventName = keyof ParticipantEvents;

const DEFAULT_JOIN_TIMEOUT_MS = 10_000;
const DEFAULT_ACK_TIMEOUT_MS = 5_000;
const DEFAULT_ATTEMPTS = 4;
const DEFAULT_WAIT_MS = 5_000;
/** Events kept for inspection; older ones are dropped so a long-running bot does not grow without bound. */
const EVENTS_KEPT = 10_000;
/** After a reconnect the server offers a snapshot; if none comes within this time, ask for one. */
const RECONNECT_SNAPSHOT_GRACE_MS = 1_000;
const DEFAULT_GAP_GRACE_MS = 100;
/** How many times a sealed text is sealed again for a newer view after STALE_VERSION. */
const STALE_RESEALS = 5;
/** After an OUTCOME_UNKNOWN ack, the pause before asking again (times the attempt number). */
const UNKNOWN_RETRY_MS = 500;

/** Splits a join link (`<origin>/join/<token>`) into the origin to connect to and the seat's token. */
export function parseJoinLink(link: string): { origin: string; token: string } {
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    throw new Error(`not a join link: expected <origin>/join/<token>`);
  }
  const match = /\/join\/([^/?#]+)\/?$/.exec(url.pathname);
  if (!match?.[1]) throw new Error(`not a join link: expected <origin>/join/<token>`);
  return { origin: url.origin, token: decodeURIComponent(match[1]) };
}

/** Turns a Socket.IO connect_error into an Error whose message starts with the server's code when it sent one. */
function connectErrorMessage(err: Error & { data?: unknown }): string {
  const data = err.data as { code?: unknown; message?: unknown } | undefined;
  const code = typeof data?.code === "string" ? data.code : undefined;
  const message = err.message || (typeof data?.message === "string" ? data.message : "connection refused");
  if (code && !message.includes(code)) return `${code}: ${message}`;
  return message;
}

/** One seat of a session, driven from code. */
export class Participant {
  readonly socket: ParticipantSocket;
  /** Recent engine events received with updates, oldest first. */
  readonly events: EngineEvent[] = [];
  /** The last notice the server sent, if any. */
  lastNotice: Notice | null = null;

  #view: SessionView;
  #pending = new Map<number, ViewUpdate>();
  #resyncing: Promise<SessionView> | null = null;
  #listeners: { [K in ParticipantEventName]: Set<ParticipantEvents[K]> } = {
    view: new Set(),
    update: new Set(),
    events: new Set(),
    notice: new Set(),
    disconnect: new Set(),
    connect: new Set(),
  };
  #waiters = new Set<{ check: (v: SessionView) => void; fail: (e: Error) => void }>();
  #closed = false;
  #awaitSnapshot = false;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #gapTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #gapGraceMs: number;
  readonly #keepEntries: number | undefined;
  readonly #keepEvents: number;
  /** Opens the sealed texts of an encrypted session with the keys of this seat's link. */
  readonly opener: TextOpener;

  private constructor(
    socket: ParticipantSocket,
    first: SessionView,
    gapGraceMs: number,
    keys: SessionKeys,
    keepEntries?: number,
    keepEvents = EVENTS_KEPT,
  ) {
    this.socket = socket;
    this.opener = new TextOpener(keys);
    this.#gapGraceMs = gapGraceMs;
    this.#keepEntries = keepEntries;
    this.#keepEvents = Math.max(0, keepEvents);
    this.#view = keepEntries === undefined ? first : trimLists(first, keepEntries);
    socket.on("snapshot", (view) => this.#onSnapshot(view));
    socket.on("update", (msg) => {
      this.#emit("update", msg, "event");
      this.#onUpdate(msg);
    });
    socket.on("notice", (notice) => {
      this.lastNotice = notice;
      this.#emit("notice", notice);
    });
    socket.on("disconnect", (reason) => {
      this.#emit("disconnect", reason);
      // The server ended this connection on purpose (seat taken over, session erased): there is nothing to wait for.
      if (reason === "io server disconnect" || reason === "io client disconnect") {
        this.#failWaiters(new Error(this.lastNotice?.code ?? `disconnected (${reason})`));
      }
    });
    socket.on("connect_error", (err) => {
      // A refusal by the server's middleware (e.g. a revoked link) is final: Socket.IO will not try again.
      if (!socket.active) this.#failWaiters(new Error(connectErrorMessage(err)));
    });
    socket.on("connect", () => {
      this.#emit("connect", socket.recovered);
      // Every connection starts from a snapshot: whatever the server sends first describes the session now, even
      // if older than ours. Updates held from the old connection belong to its picture: the snapshot replaces them.
      this.#awaitSnapshot = true;
      this.#pending.clear();
      clearTimeout(this.#reconnectTimer);
      this.#reconnectTimer = setTimeout(() => {
        if (this.#awaitSnapshot && socket.connected) this.resync().catch(() => {});
      }, RECONNECT_SNAPSHOT_GRACE_MS);
    });
  }

  /**
   * Joins a session by its link: connects with the seat's token and resolves on the first snapshot.
   * Rejects with the server's refusal (its code leads the message, e.g. "TOKEN_UNKNOWN: ...") or on time-out.
   */
  static async join(link: string, opts: JoinOptions = {}): Promise<Participant> {
    const { origin, token } = parseJoinLink(link);
    // The link's fragment holds this seat's keys (if the session is encrypted); they never leave this process.
    const keys = await readKeyFragment(keyFragmentOf(link));
    const socket: ParticipantSocket = io(origin, {
      auth: { token },
      transports: opts.transports ?? ["websocket"],
      reconnection: opts.reconnection ?? true,
      reconnectionDelay: 200,
      reconnectionDelayMax: 2_000,
      forceNew: true,
    });
    const timeoutMs = opts.timeoutMs ?? DEFAULT_JOIN_TIMEOUT_MS;
    return new Promise<Participant>((resolve, reject) => {
      const fail = (message: string) => {
        cleanup();
        socket.disconnect();
        reject(new Error(message));
      };
      const onSnapshot = (view: SessionView) => {
        cleanup();
        resolve(
          new Participant(
            socket,
            view,
            opts.gapGraceMs ?? DEFAULT_GAP_GRACE_MS,
            keys,
            opts.keepEntries,
            opts.keepEvents,
          ),
        );
      };
      const onError = (err: Error) => fail(connectErrorMessage(err));
      const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms waiting for the first snapshot`), timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        socket.off("snapshot", onSnapshot);
        socket.off("connect_error", onError);
      };
      socket.on("snapshot", onSnapshot);
      socket.on("connect_error", onError);
    });
  }

  /** The seat this participant holds. */
  get seat(): Seat {
    return this.#view.you.seat;
  }

  /** The latest view of the session for this seat. */
  get view(): SessionView {
    return this.#view;
  }

  /**
   * The latest view with its sealed texts opened (an unencrypted session's view as it is). A text that does not
   * open — wrong key, altered or moved — reads "This message could not be opened".
   */
  opened(): Promise<SessionView> {
    return openView(this.opener, this.#view);
  }

  /** The version of the latest view. */
  get version(): number {
    return this.#view.version;
  }

  /** Whether the socket is connected right now. */
  get connected(): boolean {
    return this.socket.connected;
  }

  /**
   * Sends one command and resolves with the server's acknowledgement (ok or refused). On an ack time-out it
   * resends the same envelope, same id, so a command that did land is not applied twice.
   */
  async send(command: Command, opts: SendOptions = {}): Promise<CommandAck> {
    if (this.#closed) throw new Error("participant is closed");
    if (!this.#view.encrypted || !hasTypedText(command)) return this.#sendOnce(command, opts);
    // An encrypted session gets every typed text sealed here; without the key, nothing is sent (sealing throws).
    // A text bound to a step is sealed for the step this view shows, so it is sent pinned to this view's version:
    // had the step moved meanwhile it would no longer open. A stale view is refused; it is sealed again, newer.
    for (let attempt = 1; ; attempt++) {
      const view = this.#view;
      const sealed = await sealCommand(this.opener.keys, view, command);
      const pinned = opts.expectedVersion === undefined && bindsStep(command);
      const ack = await this.#sendOnce(sealed, pinned ? { ...opts, expectedVersion: view.version } : opts);
      const stale = !ack.ok && ack.error.code === "STALE_VERSION";
      if (!stale || !pinned || opts.id !== undefined || attempt >= STALE_RESEALS) return ack;
      await this.waitFor((v) => v.version > view.version, DEFAULT_ACK_TIMEOUT_MS).catch(() => undefined);
    }
  }

  async #sendOnce(command: Command, opts: SendOptions): Promise<CommandAck> {
    const envelope: CommandEnvelope = { id: opts.id ?? nanoid(), command };
    if (opts.expectedVersion !== undefined) envelope.expectedVersion = opts.expectedVersion;
    const timeoutMs = opts.timeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
    const attempts = Math.max(1, opts.attempts ?? DEFAULT_ATTEMPTS);
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (this.#closed) break;
      try {
        const ack = await this.socket.timeout(timeoutMs).emitWithAck("command", envelope);
        // The server could not tell whether it was saved: ask again with the same id (never applied twice).
        if (!ack.ok && ack.error.code === "OUTCOME_UNKNOWN" && attempt < attempts) {
          await new Promise((resolve) => setTimeout(resolve, UNKNOWN_RETRY_MS * attempt));
          continue;
        }
        if (ack.ok) this.#acknowledged(ack.version, ack.update);
        return ack;
      } catch (err) {
        lastError = err;
      }
    }
    const why = lastError instanceof Error ? lastError.message : String(lastError);
    throw new Error(`command ${command.type} got no acknowledgement after ${attempts} attempt(s): ${why}`);
  }

  /** Resolves with the view as soon as `pred` holds for it (now or after a later update); rejects on time-out. */
  waitFor(pred: (view: SessionView) => boolean, timeoutMs: number = DEFAULT_WAIT_MS): Promise<SessionView> {
    if (pred(this.#view)) return Promise.resolve(this.#view);
    if (this.#closed) return Promise.reject(new Error("participant is closed"));
    return new Promise<SessionView>((resolve, reject) => {
      const waiter = {
        check: (view: SessionView) => {
          let ok = false;
          try {
            ok = pred(view);
          } catch (err) {
            done();
            reject(err);
            return;
          }
          if (ok) {
            done();
            resolve(view);
          }
        },
        fail: (err: Error) => {
          done();
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        const step = this.#view.exercise?.step.id ?? this.#view.phase;
        waiter.fail(new Error(`${this.seat}: condition not met within ${timeoutMs} ms (at v${this.version}, ${step})`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
      };
      this.#waiters.add(waiter);
    });
  }

  /** Resolves once the view has reached at least `version`. */
  waitForVersion(version: number, timeoutMs?: number): Promise<SessionView> {
    return this.waitFor((v) => v.version >= version, timeoutMs);
  }

  /** Listens to one kind of event; returns a function that stops listening. */
  on<K extends ParticipantEventName>(event: K, cb: ParticipantEvents[K]): () => void {
    this.#listeners[event].add(cb);
    return () => {
      this.#listeners[event].delete(cb);
    };
  }

  /** Asks the server for a fresh snapshot and adopts it. Concurrent calls share one request. */
  resync(timeoutMs: number = DEFAULT_ACK_TIMEOUT_MS): Promise<SessionView> {
    if (this.#resyncing) return this.#resyncing;
    const request = this.socket
      .timeout(timeoutMs)
      .emitWithAck("resync")
      .then((view) => {
        this.#onSnapshot(view);
        return this.#view;
      })
      .finally(() => {
        this.#resyncing = null;
      });
    this.#resyncing = request;
    return request;
  }

  /** Disconnects for good; pending waits reject. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#reconnectTimer);
    clearTimeout(this.#gapTimer);
    this.socket.disconnect();
    this.#failWaiters(new Error("participant is closed"));
    this.#pending.clear();
  }

  #onSnapshot(view: SessionView): void {
    // After a fresh (re)connect the snapshot is authoritative; otherwise an older one (a late resync) is ignored.
    if (!this.#awaitSnapshot && view.version < this.#view.version) return;
    this.#awaitSnapshot = false;
    clearTimeout(this.#reconnectTimer);
    for (const v of this.#pending.keys()) if (v <= view.version) this.#pending.delete(v);
    this.#setView(view);
    this.#drainPending();
    this.#watchGap();
  }

  #onUpdate(msg: ViewUpdate): void {
    if (msg.version <= this.#view.version) return;
    this.#pending.set(msg.version, msg);
    this.#drainPending();
    this.#watchGap();
  }

  /**
   * An applied command's ack: its update (this seat's own) is applied like any other; an ack without one (a retry
   * of a command applied already) leaves the view to catch up, and a view still behind after the grace resyncs.
   */
  #acknowledged(version: number, update: ViewUpdate | undefined): void {
    if (update) {
      this.#emit("update", update, "ack");
      this.#onUpdate(update);
      return;
    }
    if (version <= this.#view.version) return;
    const timer = setTimeout(() => {
      if (!this.#closed && this.#view.version < version) this.resync().catch(() => {});
    }, this.#gapGraceMs);
    timer.unref?.();
  }

  /** Held updates mean a version is missing: ask for a snapshot unless it turns up shortly. */
  #watchGap(): void {
    if (this.#pending.size === 0 || this.#awaitSnapshot || this.#gapTimer || this.#closed) return;
    // Behind several processes one update may overtake another, so the missing one gets a moment to arrive.
    this.#gapTimer = setTimeout(() => {
      this.#gapTimer = undefined;
      if (this.#pending.size > 0 && !this.#closed) {
        this.resync().then(
          () => this.#watchGap(),
          () => this.#watchGap(),
        );
      }
    }, this.#gapGraceMs);
  }

  #drainPending(): void {
    for (;;) {
      const next = this.#pending.get(this.#view.version + 1);
      if (!next) return;
      this.#pending.delete(next.version);
      // Built from another version than ours (cannot happen in order, but a wrong base must never be patched).
      if (next.from !== this.#view.version) continue;
      // The view first, so that an events listener reading participant.view sees the state the events led to.
      this.#setView(applyUpdate(this.#view, next));
      if (next.events.length > 0) {
        this.events.push(...next.events);
        if (this.events.length > this.#keepEvents) this.events.splice(0, this.events.length - this.#keepEvents);
        this.#emit("events", next.events, next.version);
      }
    }
  }

  #setView(view: SessionView): void {
    this.#view = this.#keepEntries === undefined ? view : trimLists(view, this.#keepEntries);
    this.#emit("view", view);
    for (const waiter of [...this.#waiters]) waiter.check(view);
  }

  #failWaiters(err: Error): void {
    for (const waiter of [...this.#waiters]) waiter.fail(err);
  }

  #emit<K extends ParticipantEventName>(event: K, ...args: Parameters<ParticipantEvents[K]>): void {
    for (const cb of this.#listeners[event]) {
      try {
        (cb as (...a: Parameters<ParticipantEvents[K]>) => void)(...args);
      } catch {
        // A listener's failure is its own; it must not stop the view from advancing.
      }
    }
  }
}

const LIST_KEYS = ["transcript", "checkIns", "nudges", "notes", "privateMessages", "guesses"] as const;

/** `view` with each conversation list cut to its last `keep` entries (the same object when none is longer). */
function trimLists(view: SessionView, keep: number): SessionView {
  let out: SessionView | undefined;
  for (const key of LIST_KEYS) {
    const list = view[key] as unknown[] | undefined;
    if (!list || list.length <= keep) continue;
    out ??= { ...view };
    (out as unknown as Record<string, unknown[]>)[key] = list.slice(list.length - keep);
  }
  return out ?? view;
}
