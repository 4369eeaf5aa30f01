/**
 * One seat's live link to the server: holds the seat's latest view, applies updates in version order, resyncs on a
 * gap or a reconnect, and sends commands with an id that survives retries (the server applies each id once).
 */
import { nanoid } from "nanoid";
import { io, type Socket } from "socket.io-client";
import { applyUpdate, updateFits } from "../../../shared/delta.ts";
import type {
  ClientToServerEvents,
  Command,
  CommandAck,
  EngineEvent,
  Mode,
  ServerToClientEvents,
  SessionView,
  ViewUpdate,
} from "../../../shared/protocol.ts";
import {
  bindsStep,
  hasConversationKey,
  hasTypedText,
  MISSING_KEY_TEXT,
  openView,
  readKeyFragment,
  type SessionKeys,
  sealCommand,
  TextOpener,
} from "../../../shared/session-crypto.ts";
import { linkKeys } from "./keys.ts";

export type ConnectionStatus = "connecting" | "online" | "reconnecting" | "closed";

export interface ConnectionProblem {
  code: string;
  message: string;
}

export interface ConnectionState {
  status: ConnectionStatus;
  /** The seat's view, its sealed texts opened (a text that does not open reads "This message could not be opened"). */
  view: SessionView | null;
  /** An encrypted session whose link came without its key (or with a broken one): nothing can be read or sent. */
  keyMissing: boolean;
  /** Events of the last applied update (for announcements such as "the exercise ended"). */
  lastEvents: EngineEvent[];
  /** Why the connection ended for good (a revoked link, another device took the seat...). */
  problem: ConnectionProblem | null;
}

type SeatSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

const ACK_TIMEOUT_MS = 6_000;
/** How long a missing version may be late (several server processes may reorder updates) before a resync. */
const GAP_GRACE_MS = 150;
/** A resync already asked for is waited for this long before asking again. */
const RESYNC_WAIT_MS = 3_000;
const SEND_ATTEMPTS = 3;
/** How many times a sealed text is sealed again for a newer view after STALE_VERSION. */
const RESEALS = 4;

/** Refusals after which reconnecting cannot help: the link itself is no good any more. */
export const FINAL_CODES = new Set([
  "TOKEN_MISSING",
  "TOKEN_UNKNOWN",
  "TOKEN_EXPIRED",
  "TOKEN_REVOKED",
  "SESSION_NOT_FOUND",
  "SEAT_TAKEN_OVER",
  "ORIGIN_NOT_ALLOWED",
  "UNAUTHORIZED",
]);

const FRIENDLY: Record<string, string> = {
  TOKEN_UNKNOWN: "This link doesn't open a session. Check that you copied all of it.",
  TOKEN_EXPIRED: "This session has expired and its links no longer work. You can start a new one at any time.",
  TOKEN_REVOKED:
    "This link was switched off, and a fresh one may have been made in its place. If you didn't do it, ask whoever gave you the link for the new one.",
  SESSION_NOT_FOUND: "This session was erased, or it expired. Its links no longer work.",
  SEAT_TAKEN_OVER: "Your seat was opened on another device or tab, so this one stepped back.",
  ORIGIN_NOT_ALLOWED: "This page isn't allowed to connect to the session.",
};

/** A switched-off link, told by who can have done it: in a therapist-led session only the therapist gives links. */
const REVOKED_IN: Record<Mode, string> = {
  therapist:
    "Your therapist switched this link off, usually to give you a new one. If it hasn't reached you, ask them for it.",
  guided:
    "This link was switched off and a fresh one made in its place. If you didn't do it, someone else may have had your link: tell your partner, and start a new session together.",
};

/**
 * A short, human explanation of a refusal code (falls back to the server's message); `mode`, when the session's
 * view was seen before the refusal, words it for the kind of session it was.
 */
export function explainProblem(problem: ConnectionProblem, mode?: Mode): string {
  if (problem.code === "TOKEN_REVOKED" && mode) return REVOKED_IN[mode];
  return FRIENDLY[problem.code] ?? problem.message;
}

/** The live connection of one seat (one token). */
export class SeatConnection {
  readonly token: string;
  #socket: SeatSocket;
  #state: ConnectionState = { status: "connecting", view: null, keyMissing: false, lastEvents: [], problem: null };
  /** The view as the server sent it (sealed texts still sealed): updates apply to this one. */
  #raw: SessionView | null = null;
  /** This link's keys, read from the fragment kept for its token (null until read; broken keys count as none). */
  #keys: Promise<SessionKeys>;
  #opener: TextOpener | null = null;
  /** Raw views published in order: an opened view is shown only if no newer one was published meanwhile. */
  #published = 0;
  /** Events of updates applied but not yet shown (their view is still being opened). */
  #unshownEvents: EngineEvent[] = [];
  #listeners = new Set<(state: ConnectionState) => void>();
  /** Updates that arrived ahead of a missing version, by version. */
  #pending = new Map<number, ViewUpdate>();
  #gapTimer: ReturnType<typeof setTimeout> | undefined;
  #awaitSnapshot = true;
  #resyncAskedAt = 0;

  constructor(token: string, origin: string = location.origin) {
    this.token = token;
    this.#keys = readKeyFragment(linkKeys(token)).catch(() => ({ private: {} }));
    this.#socket = io(origin, { auth: { token }, reconnectionDelayMax: 4_000 });
    const socket = this.#socket;
    socket.on("connect", () => {
      // The server sends a snapshot on every fresh connection; until it lands the old view stays on screen.
      this.#awaitSnapshot = true;
      this.#pending.clear();
      this.#set({ status: "online" });
    });
    socket.on("snapshot", (view) => {
      const status = socket.connected ? "online" : this.#state.status;
      // A resync answer can be overtaken by a newer update on the way here: never step back to an older view
      // (except for the first snapshot of a new connection, which describes the session as it is).
      if (!this.#awaitSnapshot && view.version < (this.#raw?.version ?? -1)) {
        if (status !== this.#state.status) this.#set({ status });
        return;
      }
      this.#awaitSnapshot = false;
      this.#resyncAskedAt = 0;
      for (const v of this.#pending.keys()) if (v <= view.version) this.#pending.delete(v);
      if (status !== this.#state.status) this.#set({ status });
      this.#unshownEvents = [];
      this.#publish(view, []);
      this.#drain();
    });
    socket.on("update", (msg) => this.#receive(msg));
    socket.on("notice", (notice) => {
      if (FINAL_CODES.has(notice.code)) this.#set({ status: "closed", problem: notice });
    });
    socket.on("disconnect", (reason) => {
      if (this.#state.status === "closed") return;
      if (reason === "io server disconnect" || reason === "io client disconnect") {
        this.#set({
          status: "closed",
          problem: this.#state.problem ?? { code: "DISCONNECTED", message: "The session closed this connection." },
        });
      } else {
        this.#set({ status: "reconnecting" });
      }
    });
    socket.on("connect_error", (err: Error & { data?: { code?: unknown; message?: unknown } }) => {
      // A refusal by the server (bad link) is final; a network failure is retried by Socket.IO on its own.
      if (!socket.active) {
        const code = typeof err.data?.code === "string" ? err.data.code : err.message;
        const message = typeof err.data?.message === "string" ? err.data.message : err.message;
        this.#set({ status: "closed", problem: { code, message } });
      } else if (this.#state.view) {
        this.#set({ status: "reconnecting" });
      }
    });
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** Calls `listener` on every change; returns the unsubscribe function. */
  subscribe(listener: (state: ConnectionState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Sends one command. In an encrypted session its typed text is sealed first (a text bound to a step is pinned to
   * the version it was sealed at, and sealed again for a newer view if the session moved on); without the key,
   * nothing is sent and the refusal says so.
   */
  async send(command: Command): Promise<CommandAck> {
    const raw = this.#raw;
    if (!raw?.encrypted || !hasTypedText(command)) return this.#sendOnce(command);
    const keys = await this.#keys;
    if (!hasConversationKey(keys)) return { ok: false, error: { code: "INVALID_COMMAND", message: MISSING_KEY_TEXT } };
    for (let attempt = 1; ; attempt++) {
      const view = this.#raw!;
      let sealed: Command;
      try {
        sealed = await sealCommand(keys, view, command);
      } catch (err) {
        const message = err instanceof Error ? err.message : MISSING_KEY_TEXT;
        return { ok: false, error: { code: "INVALID_COMMAND", message } };
      }
      const pinned = bindsStep(command);
      const ack = await this.#sendOnce(sealed, pinned ? view.version : undefined);
      if (ack.ok || ack.error.code !== "STALE_VERSION" || !pinned || attempt >= RESEALS) return ack;
      await this.#newerThan(view.version);
    }
  }

  /** Resolves once the raw view is newer than `version` (or after a while: the send is then tried again anyway). */
  #newerThan(version: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        stop();
        resolve();
      };
      const timer = setTimeout(done, RESYNC_WAIT_MS);
      const stop = this.subscribe(() => {
        if ((this.#raw?.version ?? -1) > version) done();
      });
      if ((this.#raw?.version ?? -1) > version) done();
    });
  }

  /** Sends one envelope; retries with the same id when an acknowledgement is late, so it is applied at most once. */
  async #sendOnce(command: Command, expectedVersion?: number): Promise<CommandAck> {
    const id = nanoid();
    const envelope = expectedVersion === undefined ? { id, command } : { id, command, expectedVersion };
    let lastError: unknown;
    for (let attempt = 0; attempt < SEND_ATTEMPTS; attempt++) {
      try {
        const ack = await this.#socket.timeout(ACK_TIMEOUT_MS).emitWithAck("command", envelope);
        // The server could not tell whether it was saved: ask again with the same id (never applied twice).
        if (!ack.ok && ack.error.code === "OUTCOME_UNKNOWN" && attempt < SEND_ATTEMPTS - 1) {
          await new Promise((resolve) => setTimeout(resolve, 700 * (attempt + 1)));
          continue;
        }
        if (!ack.ok && ack.error.code === "STALE_VERSION") this.resync();
        if (ack.ok) this.#acknowledged(ack.version, ack.update);
        return ack;
      } catch (err) {
        lastError = err;
      }
    }
    return {
      ok: false,
      error: {
        code: "INTERNAL",
        message: lastError instanceof Error ? "No answer from the session — check your connection." : "Not sent.",
      },
    };
  }

  /** One update for this seat (an `update` event, or the one in its own command's ack). */
  #receive(msg: ViewUpdate): void {
    const current = this.#raw?.version ?? -1;
    if (current < 0 || msg.version <= current) return;
    this.#pending.set(msg.version, msg);
    this.#drain();
  }

  /**
   * An applied command's ack: its update is applied like any other; an ack without one (a retried command that
   * had been applied already) leaves the view to catch up, and a view still behind after a short grace resyncs.
   */
  #acknowledged(version: number, update: ViewUpdate | undefined): void {
    if (update) {
      this.#receive(update);
      return;
    }
    setTimeout(() => {
      const view = this.#raw;
      if (view && view.version < version && this.#state.status !== "closed") this.resync();
    }, GAP_GRACE_MS);
  }

  /** Applies every held update that now follows on; a version still missing after a short grace asks for a resync. */
  #drain(): void {
    let view = this.#raw;
    if (!view) return;
    const events: EngineEvent[] = [];
    let changed = false;
    for (;;) {
      const next = this.#pending.get(view.version + 1);
      if (!next) break;
      this.#pending.delete(next.version);
      if (!updateFits(view, next)) continue;
      view = applyUpdate(view, next);
      events.push(...next.events);
      changed = true;
    }
    if (changed) this.#publish(view, events);
    this.#watchGap(GAP_GRACE_MS);
  }

  /**
   * Takes `raw` as the seat's view and shows it: as it is in an unencrypted session, its texts opened in an
   * encrypted one. Opening is asynchronous; a view overtaken by a newer one before it opened is never shown, and
   * the events of every update reach the screen with the first view shown after them.
   */
  #publish(raw: SessionView, events: EngineEvent[]): void {
    this.#raw = raw;
    this.#unshownEvents.push(...events);
    const seq = ++this.#published;
    const show = (view: SessionView, keyMissing: boolean) => {
      if (seq !== this.#published || this.#state.status === "closed") return;
      const lastEvents = this.#unshownEvents;
      this.#unshownEvents = [];
      this.#set({ view, keyMissing, lastEvents });
    };
    if (!raw.encrypted) {
      show(raw, false);
      return;
    }
    void this.#keys.then(async (keys) => {
      this.#opener ??= new TextOpener(keys);
      show(await openView(this.#opener, raw), !hasConversationKey(keys));
    });
  }

  /** Held updates mean a version is missing: ask for a snapshot unless it turns up (or one is on its way). */
  #watchGap(delayMs: number): void {
    if (this.#pending.size === 0 || this.#awaitSnapshot || this.#gapTimer) return;
    this.#gapTimer = setTimeout(() => {
      this.#gapTimer = undefined;
      if (this.#pending.size === 0) return;
      const waited = Date.now() - this.#resyncAskedAt;
      if (waited < RESYNC_WAIT_MS) this.#watchGap(RESYNC_WAIT_MS - waited);
      else this.resync();
    }, delayMs);
  }

  /** Asks the server for a fresh view. */
  resync(): void {
    this.#resyncAskedAt = Date.now();
    this.#socket.emit("resync");
  }

  /** Closes the connection for good (leaving the room on this device). */
  close(): void {
    clearTimeout(this.#gapTimer);
    this.#set({ status: "closed" });
    this.#listeners.clear();
    this.#socket.disconnect();
  }

  #set(patch: Partial<ConnectionState>): void {
    this.#state = { ...this.#state, ...patch };
    for (const listener of this.#listeners) listener(this.#state);
  }
}
