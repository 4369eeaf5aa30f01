/**
 * The embedded default store: sessions live in this process only. Good for one process and for tests;
 * several processes need RedisStore.
 */
import type { Seat } from "../../shared/protocol.ts";
import type { SeatLink, SeatLookup, SessionRecord, SessionStore, UpdateResult } from "./types.ts";

export interface MemoryStoreOptions {
  /** How often expired sessions are swept out of memory (expiry itself is exact: reads check the deadline). */
  sweepIntervalMs?: number;
  /** Clock, in ms; injectable so expiry can be tested without waiting. */
  now?: () => number;
}

interface Entry {
  /**
   * The record as JSON: a copy no caller can reach, more compact than its object graph, and cheaper to write
   * than a structured clone. Records are plain JSON by contract (RedisStore keeps them the same way).
   */
  json: string;
  version: number;
  /** Each seat's current token hash. */
  current: Map<Seat, string>;
  /** Every token hash ever issued for the session (replaced ones stay, revoked, until the session goes). */
  tokens: Set<string>;
  expiresAt: number;
}

interface TokenEntry {
  sessionId: string;
  seat: Seat;
  revoked: boolean;
}

/** In-process SessionStore with timestamp expiry; records are kept serialized, so none is shared by reference. */
export class MemoryStore implements SessionStore {
  readonly #sessions = new Map<string, Entry>();
  readonly #tokens = new Map<string, TokenEntry>();
  readonly #now: () => number;
  #sweep: ReturnType<typeof setInterval> | undefined;

  constructor(options: MemoryStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#sweep = setInterval(() => this.#sweepExpired(), options.sweepIntervalMs ?? 60_000);
    // The sweep only frees memory; it must never keep the process alive on its own.
    this.#sweep.unref();
  }

  async create(record: SessionRecord, links: SeatLink[], ttlMs: number): Promise<void> {
    const ttl = wholeTtl(ttlMs);
    const id = record.state.id;
    if (this.#live(id)) throw new Error(`session ${id} already exists`);
    // A stale (expired, not yet swept) entry with the same id must not leak its tokens into the new one.
    this.#erase(id);
    for (const link of links) {
      const owner = this.#tokens.get(link.tokenHash);
      if (owner && this.#live(owner.sessionId)) throw new Error("token hash already in use");
    }
    const json = serialize(record);
    this.#sessions.set(id, {
      json,
      version: record.state.version,
      current: new Map(links.map((l) => [l.seat, l.tokenHash])),
      tokens: new Set(links.map((l) => l.tokenHash)),
      expiresAt: this.#now() + ttl,
    });
    for (const link of links) this.#tokens.set(link.tokenHash, { sessionId: id, seat: link.seat, revoked: false });
  }

  async load(sessionId: string): Promise<SessionRecord | null> {
    const entry = this.#live(sessionId);
    return entry ? (JSON.parse(entry.json) as SessionRecord) : null;
  }

  async update(sessionId: string, expectedVersion: number, next: SessionRecord, ttlMs: number): Promise<UpdateResult> {
    const ttl = wholeTtl(ttlMs);
    const entry = this.#live(sessionId);
    if (!entry) return { status: "missing" };
    if (entry.version !== expectedVersion) {
      return { status: "conflict", current: JSON.parse(entry.json) as SessionRecord };
    }
    // Serialize before assigning so a refused record (not plain JSON) leaves the stored one untouched.
    const json = serialize(next);
    entry.json = json;
    entry.version = next.state.version;
    entry.expiresAt = this.#now() + ttl;
    return { status: "ok" };
  }

  async delete(sessionId: string): Promise<void> {
    this.#erase(sessionId);
  }

  async findSeat(tokenHash: string): Promise<SeatLookup | null> {
    const token = this.#tokens.get(tokenHash);
    if (!token || !this.#live(token.sessionId)) return null;
    return { sessionId: token.sessionId, seat: token.seat, revoked: token.revoked };
  }

  async revokeSeat(sessionId: string, seat: Seat): Promise<boolean> {
    const hash = this.#live(sessionId)?.current.get(seat);
    const token = hash === undefined ? undefined : this.#tokens.get(hash);
    if (!token) return false;
    token.revoked = true;
    return true;
  }

  async reissueSeat(sessionId: string, seat: Seat, tokenHash: string): Promise<boolean> {
    const entry = this.#live(sessionId);
    const previous = entry?.current.get(seat);
    if (!entry || previous === undefined) return false;
    const holder = this.#tokens.get(tokenHash);
    if (holder && this.#live(holder.sessionId)) throw new Error("token hash already in use");
    const old = this.#tokens.get(previous);
    if (old) old.revoked = true;
    entry.current.set(seat, tokenHash);
    entry.tokens.add(tokenHash);
    this.#tokens.set(tokenHash, { sessionId, seat, revoked: false });
    return true;
  }

  async ttl(sessionId: string): Promise<number | null> {
    const entry = this.#live(sessionId);
    return entry ? entry.expiresAt - this.#now() : null;
  }

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep);
    this.#sweep = undefined;
  }

  /** The entry when present and not expired; an expired one is erased on the spot. */
  #live(sessionId: string): Entry | undefined {
    const entry = this.#sessions.get(sessionId);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#erase(sessionId);
      return undefined;
    }
    return entry;
  }

  #erase(sessionId: string): void {
    const entry = this.#sessions.get(sessionId);
    if (!entry) return;
    for (const hash of entry.tokens) {
      if (this.#tokens.get(hash)?.sessionId === sessionId) this.#tokens.delete(hash);
    }
    this.#sessions.delete(sessionId);
  }

  #sweepExpired(): void {
    const now = this.#now();
    for (const [id, entry] of this.#sessions) if (entry.expiresAt <= now) this.#erase(id);
  }
}

/** The record as JSON; throws on what JSON cannot carry faithfully (a cycle, a BigInt), like Redis would. */
function serialize(record: SessionRecord): string {
  return JSON.stringify(record);
}

/** Whole milliseconds (a fractional configured TTL rounds up); refuses non-positive or non-finite values. */
function wholeTtl(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError(`ttlMs must be a positive number, got ${ttlMs}`);
  return Math.ceil(ttlMs);
}
