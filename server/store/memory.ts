/**
 * The embedded default store: sessions live in this process only. Good for one process and for tests;
 * several processes need RedisStore. It keeps the same shape RedisStore does (core rewritten, lists appended),
 * as strings, so no caller ever shares an object with what is stored.
 */
import type { LogEntry, Seat } from "../../shared/protocol.ts";
import {
  decodeLog,
  decodeRecord,
  decodeWorking,
  encodeAppended,
  encodeConversation,
  encodeCore,
  encodeCustom,
  encodeLogEntry,
  encodeRecent,
  wholeTtl,
} from "./codec.ts";
import type {
  HeldSeat,
  NodeRegistry,
  SeatLink,
  SeatLookup,
  SessionChange,
  SessionRecord,
  SessionStore,
  UpdateResult,
  WorkingRecord,
} from "./types.ts";
import { RECENT_COMMANDS } from "./types.ts";
import { MemorySpaceStore } from "./space-memory.ts";
import type { SpaceStore } from "./space-types.ts";

export interface MemoryStoreOptions {
  /** How often expired sessions are swept out of memory (expiry itself is exact: reads check the deadline). */
  sweepIntervalMs?: number;
  /** Clock, in ms; injectable so expiry can be tested without waiting. */
  now?: () => number;
}

interface Entry {
  version: number;
  core: string;
  custom: string[];
  conversation: string[];
  log: string[];
  recent: string[];
  /** Each seat's current token hash. */
  current: Map<Seat, string>;
  /** Every token hash ever issued for the session (replaced ones stay, revoked, until the session goes). */
  tokens: Map<string, { seat: Seat; revoked: boolean }>;
  expiresAt: number;
}

/** In-process SessionStore with timestamp expiry. */
export class MemoryStore implements SessionStore {
  readonly #sessions = new Map<string, Entry>();
  readonly #now: () => number;
  readonly #registry: MemoryNodeRegistry;
  readonly #spaces: MemorySpaceStore;
  #sweep: ReturnType<typeof setInterval> | undefined;

  constructor(options: MemoryStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#registry = new MemoryNodeRegistry({ now: this.#now });
    this.#spaces = new MemorySpaceStore(this.#now);
    this.#sweep = setInterval(() => this.#sweepExpired(), options.sweepIntervalMs ?? 60_000);
    // The sweep only frees memory; it must never keep the process alive on its own.
    this.#sweep.unref();
  }

  async create(record: SessionRecord, links: SeatLink[], ttlMs: number): Promise<void> {
    const ttl = wholeTtl(ttlMs);
    const id = record.state.id;
    if (this.#live(id)) throw new Error(`session ${id} already exists`);
    // Encode everything before storing anything, so a record JSON cannot carry leaves nothing behind.
    const entry: Entry = {
      version: record.state.version,
      core: encodeCore(record.state),
      custom: encodeCustom(record.state.custom),
      conversation: encodeConversation(record.state),
      log: [],
      recent: record.recentCommands.slice(-RECENT_COMMANDS).map(encodeRecent),
      current: new Map(links.map((l) => [l.seat, l.tokenHash])),
      tokens: new Map(links.map((l) => [l.tokenHash, { seat: l.seat, revoked: false }])),
      expiresAt: this.#now() + ttl,
    };
    this.#sessions.set(id, entry);
  }

  async load(sessionId: string): Promise<SessionRecord | null> {
    const e = this.#live(sessionId);
    return e ? decodeRecord(e.core, e.custom, e.conversation, e.recent) : null;
  }

  async loadWorking(sessionId: string): Promise<WorkingRecord | null> {
    const e = this.#live(sessionId);
    return e ? decodeWorking(e.core, e.custom, e.recent) : null;
  }

  async loadLog(sessionId: string): Promise<LogEntry[] | null> {
    const e = this.#live(sessionId);
    return e ? decodeLog(e.log) : null;
  }

  async update(
    sessionId: string,
    expectedVersion: number,
    change: SessionChange,
    ttlMs: number,
  ): Promise<UpdateResult> {
    const ttl = wholeTtl(ttlMs);
    const e = this.#live(sessionId);
    if (!e) return { status: "missing" };
    if (e.version !== expectedVersion)
      return { status: "conflict", current: decodeWorking(e.core, e.custom, e.recent) };
    // Encode before assigning so a change JSON cannot carry leaves the stored session untouched.
    const core = encodeCore(change.core);
    const custom = encodeCustom(change.appended.custom);
    const conversation = encodeAppended(change.appended);
    const log = encodeLogEntry(change.entry);
    const recent = change.recent ? encodeRecent(change.recent) : undefined;
    e.version = change.core.version;
    e.core = core;
    e.custom.push(...custom);
    e.conversation.push(...conversation);
    e.log.push(log);
    if (recent !== undefined) {
      e.recent.push(recent);
      if (e.recent.length > RECENT_COMMANDS) e.recent.splice(0, e.recent.length - RECENT_COMMANDS);
    }
    e.expiresAt = this.#now() + ttl;
    return { status: "ok" };
  }

  async delete(sessionId: string): Promise<void> {
    this.#sessions.delete(sessionId);
  }

  async findSeat(sessionId: string, tokenHash: string): Promise<SeatLookup | null> {
    const token = this.#live(sessionId)?.tokens.get(tokenHash);
    return token ? { sessionId, seat: token.seat, revoked: token.revoked } : null;
  }

  async revokeSeat(sessionId: string, seat: Seat): Promise<boolean> {
    const e = this.#live(sessionId);
    const hash = e?.current.get(seat);
    const token = hash === undefined ? undefined : e?.tokens.get(hash);
    if (!token) return false;
    token.revoked = true;
    return true;
  }

  async reissueSeat(sessionId: string, seat: Seat, tokenHash: string): Promise<boolean> {
    const e = this.#live(sessionId);
    const previous = e?.current.get(seat);
    if (!e || previous === undefined) return false;
    if (e.tokens.has(tokenHash)) throw new Error("token hash already in use");
    const old = e.tokens.get(previous);
    if (old) old.revoked = true;
    e.current.set(seat, tokenHash);
    e.tokens.set(tokenHash, { seat, revoked: false });
    return true;
  }

  async ttl(sessionId: string): Promise<number | null> {
    const e = this.#live(sessionId);
    return e ? e.expiresAt - this.#now() : null;
  }

  async ping(): Promise<boolean> {
    return true;
  }

  nodeRegistry(): NodeRegistry {
    return this.#registry;
  }

  spaces(): SpaceStore {
    return this.#spaces;
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep);
    this.#sweep = undefined;
  }

  /** The entry when present and not expired; an expired one is erased on the spot. */
  #live(sessionId: string): Entry | undefined {
    const e = this.#sessions.get(sessionId);
    if (!e) return undefined;
    if (e.expiresAt <= this.#now()) {
      this.#sessions.delete(sessionId);
      return undefined;
    }
    return e;
  }

  #sweepExpired(): void {
    const now = this.#now();
    for (const [id, e] of this.#sessions) if (e.expiresAt <= now) this.#sessions.delete(id);
    this.#spaces.sweep();
  }
}

/**
 * The registry of one process: with the memory store there is only this process, and it cannot outlive itself,
 * so a lapsed beat can only be one a test let lapse. It keeps the same contract as the Redis registry.
 */
export class MemoryNodeRegistry implements NodeRegistry {
  readonly #alive = new Map<string, number>();
  readonly #claims = new Map<string, Map<string, HeldSeat>>();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async beat(node: string, ttlMs: number, _keepMs: number): Promise<boolean> {
    const known = this.#alive.has(node);
    this.#alive.set(node, this.#now() + wholeTtl(ttlMs));
    return known;
  }

  async claim(node: string, held: HeldSeat): Promise<void> {
    let seats = this.#claims.get(node);
    if (!seats) {
      seats = new Map();
      this.#claims.set(node, seats);
    }
    seats.set(`${held.sessionId} ${held.seat}`, { sessionId: held.sessionId, seat: held.seat });
  }

  async release(node: string, held: HeldSeat): Promise<void> {
    this.#claims.get(node)?.delete(`${held.sessionId} ${held.seat}`);
  }

  async orphans(): Promise<{ node: string; seats: HeldSeat[] }[]> {
    const now = this.#now();
    const out: { node: string; seats: HeldSeat[] }[] = [];
    for (const [node, seats] of this.#claims) {
      if ((this.#alive.get(node) ?? 0) <= now) out.push({ node, seats: [...seats.values()] });
    }
    return out;
  }

  async forget(node: string): Promise<void> {
    this.#alive.delete(node);
    this.#claims.delete(node);
  }
}
